# Vault policy for the gateway: Transit only, no key export, no deletion.
path "transit/datakey/plaintext/*" { capabilities = ["update"] }
path "transit/decrypt/*"           { capabilities = ["update"] }
path "transit/rewrap/*"            { capabilities = ["update"] }
path "transit/sign/*"              { capabilities = ["update"] }
path "transit/verify/*"            { capabilities = ["update"] }
path "transit/keys/*"              { capabilities = ["read"] }
