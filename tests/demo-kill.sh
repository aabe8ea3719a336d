#!/bin/sh
# demo-kill.sh: the demo's relay and its directory (tokens, the relay's
# private key) go away with the console however it ends: at a signal, and
# after kill -9, which no handler sees. TAP.
. "${top_srcdir:-.}/tests/headless-common.sh"
echo 1..9

RELAY="$top_builddir/src/relay/synbridge-relay"
if [ ! -x "$RELAY" ]; then
	for i in 1 2 3 4 5 6 7 8 9; do
		skip "synbridge-relay is not built"
	done
	exit 0
fi
mkdir "$tmp/t"

# the relay the demo started (its command line names the demo's directory)
relay_pids() {
	pgrep -f "synbridge-relay .*$tmp/t/synbridge-demo" 2>/dev/null
}
relay_up() {
	[ -n "$(relay_pids)" ] &&
	    grep -qs "listening on" "$tmp"/t/synbridge-demo-*/relay.log
}
relay_gone() {
	[ -z "$(relay_pids)" ]
}
dir_gone() {
	[ -z "$(ls -A "$tmp/t")" ]
}

# start: the demo headless in real time, until it is told to stop
start() {
	TMPDIR="$tmp/t" "$SB" --demo --headless --duration 120 </dev/null \
	    >"$tmp/out" 2>"$tmp/err" &
	pid=$!
	if ! wait_for 30 relay_up; then
		diag "the demo's relay did not start:" "$(cat "$tmp/err")"
	fi
}

# 1. kill -9: nothing in the console runs, yet nothing is left behind
start
check "the demo starts its relay in a directory of its own" relay_up
kill -9 "$pid"
wait "$pid" 2>/dev/null
check "after kill -9 of the console its relay stops" wait_for 20 relay_gone
check "and the demo's directory is removed" wait_for 20 dir_gone

# 2. a signal: the console stops it all and ends with status 0
start
wait_for 30 grep -qF "loop wired" "$tmp/out"
kill -TERM "$pid"
wait "$pid"
status=$?
check "SIGTERM ends the demo with status 0 ($status)" [ "$status" -eq 0 ]
check "with its relay stopped" relay_gone
check "and its directory removed" dir_gone

# 3. a signal while the relay starts (before the session): the same
TMPDIR="$tmp/t" "$SB" --demo --headless --duration 120 </dev/null \
    >"$tmp/out" 2>"$tmp/err" &
pid=$!
dir_made() { [ -n "$(ls -A "$tmp/t")" ]; }
wait_for 30 dir_made
kill -INT "$pid"
wait "$pid"
status=$?
check "SIGINT as the demo starts ends the console, not by the signal ($status)" \
    [ "$status" -lt 128 ]
check "with its relay stopped, if it had started" wait_for 20 relay_gone
check "and its directory removed" wait_for 20 dir_gone
