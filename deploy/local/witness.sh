# shellcheck shell=bash
# shellcheck disable=SC2034 # the variables here are used by the scripts that source this
# The witnesses of the local stack, sourced by deploy/local/{up,status,down,witness-add-log}
# after lib.sh. Sourced, not run.
#
# Three litewitness processes (filippo.io/torchwood, a C2SP tlog-witness), one per
# jurisdiction of the demo, each with its own Ed25519 key and SQLite database. The keys
# live in one ssh-agent (litewitness signs through an agent):
#   $STATE/bin/litewitness           built from the module proxy
#   $STATE/bin/witness-{nl,us,de}    hard links to it, one per service (pid check by path)
#   $STATE/bin/witness-agent         a copy of ssh-agent, run in the foreground (-D)
#   $STATE/witness/agent.sock        the agent's socket (0600, in a 0700 directory)
#   $STATE/witness/<name>/key(.pub)  the witness's key; db: its database; vkey: its
#                                    C2SP verifier key as it logged it at start
#   $STATE/witness/policy            a Sigsum-style witness policy naming all three,
#                                    quorum 2 of 3 (docs/config.md, docs/bundle.md)

LITEWITNESS_VERSION=v0.6.1
WITNESSES=(witness-nl witness-us witness-de)
WITNESS_SERVICES=(witness-agent "${WITNESSES[@]}")
WITNESS_DIR=$STATE/witness
WITNESS_SOCK=$WITNESS_DIR/agent.sock
# RFC 6962 hash of the empty tree, base64: the state a new log starts from in a
# witness's database.
EMPTY_TREE_HASH=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=

# witness_addr NAME prints the loopback address of a witness.
witness_addr() {
	local i
	for i in "${!WITNESSES[@]}"; do
		if [[ ${WITNESSES[i]} == "$1" ]]; then
			echo "127.0.0.1:$((7380 + i + PORT_OFFSET))"
			return
		fi
	done
	return 1
}

# witness_name NAME prints the witness's own name (the name in its cosignatures).
witness_name() { echo "evidencegw.local/$1"; }

# witness_alive NAME succeeds if the witness answers HTTP (an empty add-checkpoint
# request is a 400: the protocol has no health endpoint).
witness_alive() {
	local code
	code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 3 -X POST --data-binary '' \
		"http://$(witness_addr "$1")/add-checkpoint" 2>/dev/null) || return 1
	[[ $code == 400 ]]
}

# witness_sql DB SQL runs SQL on a witness database with the sqlite3 CLI, waiting for
# the witness's own connection if it holds a lock. The tables are litewitness's own
# (torchwood internal/witness OpenDB), created here too so that a log can be
# registered before the witness first starts.
witness_sql() {
	sqlite3 -cmd '.timeout 5000' "$1" "
PRAGMA foreign_keys = ON;
CREATE TABLE IF NOT EXISTS log (origin TEXT PRIMARY KEY, tree_size INTEGER NOT NULL, tree_hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS key (origin TEXT NOT NULL, key TEXT NOT NULL, FOREIGN KEY(origin) REFERENCES log(origin));
$2"
}

# witness_add_log NAME ORIGIN VKEY registers a log with a witness the way litewitness's
# witnessctl does (two INSERTs), starting from the empty tree. Idempotent.
witness_add_log() {
	local db=$WITNESS_DIR/$1/db
	[[ $2 =~ ^[A-Za-z0-9][A-Za-z0-9._/:-]*$ ]] || die "witness: origin '$2' has characters outside [A-Za-z0-9._/:-]"
	[[ $3 =~ ^[A-Za-z0-9._/:-]+\+[0-9a-f]{8}\+[A-Za-z0-9+/=]+$ ]] || die "witness: '$3' is not a note verifier key"
	[[ ${3%%+*} == "$2" ]] || die "witness: verifier key '$3' is not named for origin '$2'"
	witness_sql "$db" "
INSERT OR IGNORE INTO log (origin, tree_size, tree_hash) VALUES ('$2', 0, '$EMPTY_TREE_HASH');
INSERT INTO key (origin, key) SELECT '$2', '$3' WHERE NOT EXISTS (SELECT 1 FROM key WHERE origin = '$2' AND key = '$3');"
}

build_litewitness() {
	local w
	if [[ -x $STATE/bin/litewitness && $(cat "$STATE/bin/litewitness.version" 2>/dev/null) == "$LITEWITNESS_VERSION" ]]; then
		log "litewitness: binary $LITEWITNESS_VERSION present, skipping build"
	else
		go_install litewitness "filippo.io/torchwood/cmd/litewitness@$LITEWITNESS_VERSION"
		echo "$LITEWITNESS_VERSION" >"$STATE/bin/litewitness.version"
	fi
	for w in "${WITNESSES[@]}"; do
		# A hard link per witness, so each service's pid check names its own path;
		# re-linked when the binary was rebuilt (a running witness keeps the old one).
		if [[ ! $STATE/bin/$w -ef $STATE/bin/litewitness ]]; then
			ln -f "$STATE/bin/litewitness" "$STATE/bin/$w"
		fi
	done
	command -v ssh-agent >/dev/null && command -v ssh-keygen >/dev/null && command -v ssh-add >/dev/null ||
		die "witness: ssh-agent, ssh-keygen and ssh-add are needed (Debian openssh-client)"
	cmp -s "$(command -v ssh-agent)" "$STATE/bin/witness-agent" || cp -f "$(command -v ssh-agent)" "$STATE/bin/witness-agent"
}

# start_witness_agent starts the ssh-agent holding the witnesses' keys and adds any
# key it lacks.
start_witness_agent() {
	mkdir -p "$WITNESS_DIR"
	chmod 700 "$WITNESS_DIR"
	if is_running witness-agent; then
		log "witness-agent: already running (pid $(service_pid witness-agent))"
	else
		rm -f "$WITNESS_SOCK"
		log "witness-agent: starting ssh-agent on $WITNESS_SOCK"
		start_service witness-agent -D -a "$WITNESS_SOCK"
		local deadline=$((SECONDS + HEALTH_TIMEOUT))
		until [[ -S $WITNESS_SOCK ]]; do
			is_running witness-agent || fail_service witness-agent "witness-agent exited while starting"
			((SECONDS < deadline)) || fail_service witness-agent "witness-agent: no socket after ${HEALTH_TIMEOUT}s"
			sleep 0.2
		done
	fi
	local w dir have
	have=$(SSH_AUTH_SOCK=$WITNESS_SOCK ssh-add -l -E sha256 2>/dev/null || true)
	for w in "${WITNESSES[@]}"; do
		dir=$WITNESS_DIR/$w
		mkdir -p "$dir"
		if [[ ! -s $dir/key ]]; then
			ssh-keygen -q -t ed25519 -N '' -C "$(witness_name "$w")" -f "$dir/key" </dev/null ||
				die "witness: ssh-keygen for $w failed"
			log "$w: generated a new Ed25519 key"
		fi
		ssh-keygen -lf "$dir/key.pub" -E sha256 | awk '{print $2}' >"$dir/fingerprint"
		grep -qF "$(<"$dir/fingerprint")" <<<"$have" ||
			SSH_AUTH_SOCK=$WITNESS_SOCK ssh-add -q "$dir/key" </dev/null 2>"$STATE/logs/ssh-add.log" ||
			{ cat "$STATE/logs/ssh-add.log" >&2; die "witness: ssh-add of $w's key failed"; }
	done
}

# start_witnesses starts each litewitness, waits until it answers and records the
# verifier key it logs at start.
start_witnesses() {
	local w dir addr vkey
	for w in "${WITNESSES[@]}"; do
		dir=$WITNESS_DIR/$w addr=$(witness_addr "$w")
		if is_running "$w"; then
			log "$w: already running (pid $(service_pid "$w"))"
		else
			check_port "$w" "$addr"
			log "$w: starting litewitness on $addr"
			start_service "$w" -db "$dir/db" -name "$(witness_name "$w")" -key "$(<"$dir/fingerprint")" \
				-ssh-agent "$WITNESS_SOCK" -listen "$addr"
		fi
		local deadline=$((SECONDS + HEALTH_TIMEOUT))
		until witness_alive "$w"; do
			is_running "$w" || fail_service "$w" "$w exited while starting"
			((SECONDS < deadline)) || fail_service "$w" "$w not answering after ${HEALTH_TIMEOUT}s"
			sleep 0.3
		done
		vkey=$(sed -n 's/.*msg="verifier key" vkey=\([^ ]*\).*/\1/p' "$STATE/logs/$w.log" | tail -n 1)
		[[ $vkey == "$(witness_name "$w")"+* ]] || fail_service "$w" "$w: no verifier key in its log"
		echo "$vkey" >"$dir/vkey"
		log "$w: healthy, verifier key $vkey"
	done
}

# write_witness_policy writes $WITNESS_DIR/policy: the three witnesses, 2 of 3.
write_witness_policy() {
	local w
	{
		echo "# Witness policy of the local stack, written by deploy/local/up (Sigsum policy format,"
		echo "# docs/bundle.md): a checkpoint counts once 2 of these 3 witnesses cosigned it."
		for w in "${WITNESSES[@]}"; do
			echo "witness $w $(<"$WITNESS_DIR/$w/vkey") http://$(witness_addr "$w")"
		done
		echo "group local-witnesses 2 ${WITNESSES[*]}"
		echo "quorum local-witnesses"
	} >"$WITNESS_DIR/policy.new"
	mv -f "$WITNESS_DIR/policy.new" "$WITNESS_DIR/policy"
	log "witness: policy in $WITNESS_DIR/policy (quorum 2 of ${#WITNESSES[@]})"
}

# up_witnesses needs the sqlite3 CLI, which up installs with its other packages.
up_witnesses() {
	build_litewitness
	start_witness_agent
	start_witnesses
	write_witness_policy
}

status_witnesses() {
	local w pid
	for w in "${WITNESS_SERVICES[@]}"; do
		if ! pid=$(service_pid "$w"); then
			printf '%-20s stopped\n' "$w"
			ok=0
		elif [[ $w == witness-agent ]]; then
			printf '%-20s running  pid %-8s %s\n' "$w" "$pid" "$WITNESS_SOCK"
		elif witness_alive "$w"; then
			printf '%-20s running  pid %-8s healthy   http://%s\n' "$w" "$pid" "$(witness_addr "$w")"
		else
			printf '%-20s running  pid %-8s UNHEALTHY http://%s\n' "$w" "$pid" "$(witness_addr "$w")"
			ok=0
		fi
	done
	[[ -s $WITNESS_DIR/policy ]] && echo "witness policy: $WITNESS_DIR/policy"
	return 0
}

down_witnesses() {
	local i
	for ((i = ${#WITNESS_SERVICES[@]} - 1; i >= 0; i--)); do
		stop_service "${WITNESS_SERVICES[i]}"
	done
	rm -f "$WITNESS_SOCK"
}
