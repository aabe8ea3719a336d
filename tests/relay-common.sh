# relay-common.sh: a synbridge-relay on loopback for the relay scripts.
# Sourced after headless-common.sh (which gives $tmp, wait_for and diag).
RELAY="$top_builddir/src/relay/synbridge-relay"

# relay_tokens "SITE SESSION STREAMS READS COMMANDS" ...: a fresh token per
# SITE in $tmp/tok.SITE, and $tmp/tokens giving it those rights
relay_tokens() {
	: >"$tmp/tokens"
	for line in "$@"; do
		site=${line%% *}
		head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' \
		    >"$tmp/tok.$site"
		echo "$(cat "$tmp/tok.$site") $line" >>"$tmp/tokens"
	done
}

# relay_spawn PORT [OPTION...]: start the relay on 127.0.0.1:PORT (0: any)
# with $tmp/tokens and the self-signed certificate kept in $tmp/tls (the
# same pin across restarts); sets relay_pid. RELAY_TEST_WRAPPER (e.g.
# "valgrind --log-file=/tmp/vg.%p") runs it under a wrapper.
relay_spawn() {
	relay_port=$1
	shift
	# emptied here, not by the child's redirection: relay_up must not see
	# the last relay's lines before the new one has started
	: >"$tmp/relay.out"
	# shellcheck disable=SC2086
	${RELAY_TEST_WRAPPER:-} "$RELAY" --listen "127.0.0.1:$relay_port" \
	    --self-signed "$tmp/tls" \
	    --tokens "$tmp/tokens" "$@" >>"$tmp/relay.out" 2>&1 &
	relay_pid=$!
}

relay_listening() { grep -q '^listening on ' "$tmp/relay.out"; }

# relay_up: wait (15 s at most) for the spawned relay to listen, else end
# the script; sets addr (HOST:PORT), port and pin
relay_up() {
	if ! wait_for 15 relay_listening; then
		diag "the relay did not start:" "$(cat "$tmp/relay.out")"
		exit 1
	fi
	addr=$(sed -n 's/^listening on //p' "$tmp/relay.out")
	port=${addr##*:}
	pin=$(sed -n 's/^pin //p' "$tmp/relay.out")
}

# The bounds scripts: a raw client (tests/relay-poke.py) and batch bodies
# (tests/relay-body).
POKE="python3 $top_srcdir/tests/relay-poke.py"
BODY="$top_builddir/tests/relay-body"

# poke ARGS...: relay-poke.py on the relay at $addr
poke() { $POKE "$addr" "$@"; }

# rss_kb: the relay's resident memory now (kB, /proc VmRSS)
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$relay_pid/status"; }

# cpu_ticks: the relay's user + system CPU time so far (clock ticks)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$relay_pid/stat"; }

# relay_stop: stop the spawned relay (SIGTERM) and wait for it
relay_stop() {
	kill "$relay_pid" 2>/dev/null
	wait "$relay_pid" 2>/dev/null
}
