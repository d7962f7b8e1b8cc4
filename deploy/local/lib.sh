# shellcheck shell=bash
# shellcheck disable=SC2034 # the variables here are used by the scripts that source this
# Shared by deploy/local/{up,down,status}. Sourced, not run.
#
# Everything lives under one state directory, outside the repository:
#   $STATE/bin/                 built binaries (minio, trillian_*, createtree, vaultdev)
#   $STATE/run/<svc>.pid        pid of each service started by `up`
#   $STATE/logs/<svc>.log       its stdout and stderr
#   $STATE/minio/data           MinIO's data;     $STATE/minio/credentials (0600)
#   $STATE/vault/data           vaultdev storage; $STATE/vault-token (0600)
#   $STATE/trillian/            db password, flag file (0600), tree-id
#   $STATE/gateway.yaml         the gateway config written last by `up`

set -euo pipefail

STATE=${EVIDENCEGW_STACK_DIR:-/var/lib/evidencegw-stack}
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# Versions, pinned so that every machine runs the same servers. MinIO publishes no
# tagged Go module versions: this is the pseudo-version of its release of 2026-02-12
# (MINIO_VERSION overrides it).
MINIO_VERSION=${MINIO_VERSION:-v0.0.0-20260212201848-7aac2a2c5b7c}
TRILLIAN_VERSION=v1.7.3

# Loopback ports. EVIDENCEGW_PORT_OFFSET (default 0) is added to each, and
# EVIDENCEGW_TRILLIAN_DB (default trillian) names Trillian's database and
# user, so that a second stack (with its own EVIDENCEGW_STACK_DIR) can run
# beside the first on the same machine and the same MariaDB.
PORT_OFFSET=${EVIDENCEGW_PORT_OFFSET:-0}
[[ $PORT_OFFSET =~ ^[0-9]+$ ]] || { echo "EVIDENCEGW_PORT_OFFSET must be a number" >&2; exit 1; }
TRILLIAN_DB=${EVIDENCEGW_TRILLIAN_DB:-trillian}
[[ $TRILLIAN_DB =~ ^[a-z][a-z0-9_]{0,31}$ ]] || { echo "EVIDENCEGW_TRILLIAN_DB must match [a-z][a-z0-9_]*" >&2; exit 1; }
MINIO_ADDR=127.0.0.1:$((9000 + PORT_OFFSET))
MINIO_CONSOLE_ADDR=127.0.0.1:$((9001 + PORT_OFFSET))
TRILLIAN_RPC=127.0.0.1:$((8090 + PORT_OFFSET))
TRILLIAN_HTTP=127.0.0.1:$((8091 + PORT_OFFSET))
SIGNER_RPC=127.0.0.1:$((8092 + PORT_OFFSET))
SIGNER_HTTP=127.0.0.1:$((8093 + PORT_OFFSET))
VAULT_ADDR_LOCAL=127.0.0.1:$((8200 + PORT_OFFSET))
MYSQL_HOST=127.0.0.1
MYSQL_PORT=3306   # the machine's MariaDB service

# PostgreSQL, for the catalog: the machine's Debian cluster (like MariaDB, a
# machine-wide service). EVIDENCEGW_CATALOG_DB (default evidencegw_catalog)
# names the catalog's database and its owner role, for a second stack.
PG_HOST=127.0.0.1
PG_PORT=5432
CATALOG_DB=${EVIDENCEGW_CATALOG_DB:-evidencegw_catalog}
[[ $CATALOG_DB =~ ^[a-z][a-z0-9_]{0,31}$ ]] || { echo "EVIDENCEGW_CATALOG_DB must match [a-z][a-z0-9_]*" >&2; exit 1; }

# Services that `up` starts as its own processes, in start order.
SERVICES=(minio trillian_log_server trillian_log_signer vaultdev)

# Bounded waits, in seconds.
HEALTH_TIMEOUT=${EVIDENCEGW_HEALTH_TIMEOUT:-60}
STOP_TIMEOUT=15

export DEBIAN_FRONTEND=noninteractive

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { printf '[%s] ERROR: %s\n' "$(date +%H:%M:%S)" "$*" >&2; exit 1; }

# log_tail SVC prints the end of a service's log to stderr.
log_tail() {
	local f="$STATE/logs/$1.log"
	if [[ -s $f ]]; then
		printf -- '----- last 40 lines of %s -----\n' "$f" >&2
		tail -n 40 "$f" >&2
		printf -- '----- end of %s -----\n' "$f" >&2
	fi
}

# fail_service SVC MESSAGE prints the message and the log tail, then exits.
fail_service() {
	printf '[%s] ERROR: %s\n' "$(date +%H:%M:%S)" "$2" >&2
	log_tail "$1"
	exit 1
}

pidfile() { echo "$STATE/run/$1.pid"; }

# service_pid SVC prints the pid of SVC if it is running from $STATE/bin.
# A stale pid file (process gone or pid reused) prints nothing.
service_pid() {
	local f pid exe
	f=$(pidfile "$1")
	[[ -f $f ]] || return 1
	pid=$(<"$f")
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
	[[ ${exe% (deleted)} == "$STATE/bin/$1" ]] || return 1
	echo "$pid"
}

is_running() { service_pid "$1" >/dev/null; }

# port_in_use HOST:PORT
port_in_use() {
	ss -Hltn "sport = :${1##*:}" 2>/dev/null | grep -q .
}

# start_service SVC ARGS... starts $STATE/bin/SVC in its own session, with
# output to its log and no stdin, and records its pid. Environment variables
# for it can be passed with `env` in ARGS's place: start_service_env.
start_service() {
	local svc=$1
	shift
	start_service_env "$svc" -- "$@"
}

# start_service_env SVC [VAR=value...] -- ARGS...
start_service_env() {
	local svc=$1 envs=()
	shift
	while [[ $1 != -- ]]; do envs+=("$1"); shift; done
	shift
	mkdir -p "$STATE/run" "$STATE/logs"
	printf '\n=== %s starting at %s ===\n' "$svc" "$(date -Is)" >>"$STATE/logs/$svc.log"
	# 9>&-: the service must not inherit the lock `up` holds on fd 9.
	env "${envs[@]}" setsid "$STATE/bin/$svc" "$@" </dev/null >>"$STATE/logs/$svc.log" 2>&1 9>&- &
	echo $! >"$(pidfile "$svc")"
}

# stop_service SVC sends SIGTERM, waits up to STOP_TIMEOUT, then SIGKILL.
stop_service() {
	local svc=$1 pid i
	if ! pid=$(service_pid "$svc"); then
		rm -f "$(pidfile "$svc")"
		log "$svc: not running"
		return 0
	fi
	log "$svc: stopping (pid $pid)"
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < STOP_TIMEOUT * 5; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.2
	done
	if kill -0 "$pid" 2>/dev/null; then
		log "$svc: still running after ${STOP_TIMEOUT}s, sending SIGKILL"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -f "$(pidfile "$svc")"
	log "$svc: stopped"
}

# http_ok URL [CURL ARGS...] succeeds if URL answers 2xx.
http_ok() {
	local url=$1
	shift
	curl -fsS -o /dev/null --max-time 3 "$@" "$url" 2>/dev/null
}

# wait_http SVC URL [CURL ARGS...] waits up to HEALTH_TIMEOUT for URL to
# answer 2xx while SVC keeps running; on failure prints the log tail and exits.
wait_http() {
	local svc=$1 url=$2 deadline
	shift 2
	deadline=$((SECONDS + HEALTH_TIMEOUT))
	until http_ok "$url" "$@"; do
		if ! is_running "$svc"; then
			fail_service "$svc" "$svc exited while starting (health check $url)"
		fi
		if ((SECONDS >= deadline)); then
			fail_service "$svc" "$svc not healthy after ${HEALTH_TIMEOUT}s (health check $url)"
		fi
		sleep 0.5
	done
}

mysql_root() { mysql --protocol=socket -uroot "$@"; }

# pg_cluster prints "VERSION NAME" of the machine's PostgreSQL cluster on
# $PG_PORT, nothing if there is none.
pg_cluster() {
	command -v pg_lsclusters >/dev/null || return 0
	pg_lsclusters -h 2>/dev/null | awk -v port="$PG_PORT" '$3 == port {print $1, $2; exit}'
}

postgres_alive() {
	command -v pg_isready >/dev/null && pg_isready -q -h "$PG_HOST" -p "$PG_PORT" >/dev/null 2>&1
}

# psql_admin runs psql as the postgres superuser over the local socket.
psql_admin() { runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -p "$PG_PORT" "$@"; }

mariadb_alive() {
	command -v mysqladmin >/dev/null && mysqladmin --protocol=socket -uroot ping >/dev/null 2>&1
}

# random_secret prints 32 hex characters from the kernel's CSPRNG.
random_secret() { od -An -N16 -tx1 /dev/urandom | tr -d ' \n'; }

# secret_file PATH prints the secret in PATH, creating it (0600) if missing.
secret_file() {
	if [[ ! -s $1 ]]; then
		(umask 077 && random_secret >"$1")
	fi
	cat "$1"
}
