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
# "valgrind --log-file=/tmp/vg.%p") runs it under a wrapper. With
# relay_wallclock set to a file holding an offset in seconds ("+28",
# "-3600"), the relay runs with its wall clock moved by that much, read
# at every call (libfaketime; its monotonic clock is left alone).
relay_spawn() {
	relay_port=$1
	shift
	# emptied here, not by the child's redirection: relay_up must not see
	# the last relay's lines before the new one has started
	: >"$tmp/relay.out"
	if [ -n "${relay_wallclock:-}" ]; then
		FAKETIME_TIMESTAMP_FILE="$relay_wallclock" FAKETIME_NO_CACHE=1 \
		    DONT_FAKE_MONOTONIC=1 LD_PRELOAD="$relay_faketime_lib" \
		    "$RELAY" --listen "127.0.0.1:$relay_port" \
		    --self-signed "$tmp/tls" --tokens "$tmp/tokens" "$@" \
		    >>"$tmp/relay.out" 2>&1 &
	else
		# shellcheck disable=SC2086
		${RELAY_TEST_WRAPPER:-} "$RELAY" --listen "127.0.0.1:$relay_port" \
		    --self-signed "$tmp/tls" --tokens "$tmp/tokens" "$@" \
		    >>"$tmp/relay.out" 2>&1 &
	fi
	relay_pid=$!
}

# libfaketime (Debian: faketime), or empty when it is not installed or
# cannot be preloaded (a sanitizer's runtime must come first, and its
# clock_gettime recurses into libfaketime's before that initialises);
# relay_faketime_need says why it is missing
relay_faketime_lib=
relay_faketime_need="libfaketime (Debian: faketime) and python3 are needed"
for relay_d in /usr/lib/*/faketime /usr/lib/faketime; do
	[ -f "$relay_d/libfaketimeMT.so.1" ] &&
	    relay_faketime_lib="$relay_d/libfaketimeMT.so.1"
done
if sanitized; then
	relay_faketime_lib=
	relay_faketime_need="libfaketime cannot be preloaded into a build \
with sanitizers"
fi

# relay_time: the relay's session time now in microseconds (python3)
relay_time() {
	python3 "$top_srcdir/tests/relay-get.py" "$addr" /v1/time "$1" |
	    cut -d' ' -f2
}

relay_listening() { grep -qs '^listening on ' "$tmp/relay.out"; }

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
