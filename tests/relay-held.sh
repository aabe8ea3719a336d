#!/bin/sh
# relay-held.sh: a console's next publish body of a stream can reach the
# relay before the last one has all arrived. Its part that would leave a
# hole waits for the earlier body instead of being refused, even when it
# came as two chunks in one write (libmicrohttpd hands the second over
# while the first waits); it is refused 409 once the earlier body ends
# without the batch between. With one HTTP thread and with three (the
# waiting part is resumed from another thread); the relay stops on
# SIGTERM afterwards. TAP.
. "${top_srcdir:-.}/tests/headless-common.sh"
. "$top_srcdir/tests/relay-common.sh"
echo "1..6"

relay_tokens "padova h1 * */* -"
trap 'kill -9 $relay_pid 2>/dev/null; [ -n "$SB_KEEP" ] || rm -rf "$tmp"' EXIT
for threads in 1 3; do
	relay_spawn 0 --threads $threads
	relay_up
	poke overlap "$tmp/tok.padova" >"$tmp/overlap.out" 2>&1
	check "$threads thread(s): b held, then both stored (200, b's answer covers 1-4)" \
	    grep -q '^held 200 200 [0-9]* 4$' "$tmp/overlap.out"
	check "$threads thread(s): b refused 409 once a ends without the batch between" \
	    grep -q '^refused 200 409$' "$tmp/overlap.out"
	diag "$(cat "$tmp/overlap.out")"
	kill "$relay_pid"
	stopped() { ! kill -0 "$relay_pid" 2>/dev/null; }
	check "the relay ($threads thread(s)) stops on SIGTERM" \
	    wait_for 20 stopped
	kill -9 "$relay_pid" 2>/dev/null
	wait "$relay_pid" 2>/dev/null || true
done
