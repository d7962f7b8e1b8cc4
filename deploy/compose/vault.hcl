# Vault server configuration for deploy/compose.yaml.
storage "raft" {
  path    = "/vault/data"
  node_id = "vault-1"
}

# Inside the backend network only. In production terminate TLS here
# (tls_cert_file / tls_key_file) and give the gateway the CA.
listener "tcp" {
  address     = "0.0.0.0:8200"
  tls_disable = true
}

api_addr     = "http://vault:8200"
cluster_addr = "http://vault:8201"
ui           = false
disable_mlock = false

# For unattended restarts configure auto-unseal with a cloud KMS or HSM, e.g.
# seal "awskms" { kms_key_id = "..." }
