#!/bin/sh
# relay-clock.sh: the relay's session time cannot lie. Stepping the relay
# host's wall clock back 2 s and forward 28 s does not move /v1/time; a
# relay restarted on its spool with the wall clock an hour behind goes on
# from where it was (after a clean stop and after kill -9), never back
# and never negative; GET /v1/streams names the session's epoch. The wall
# clock is moved for the relay alone with libfaketime. TAP.
. "${top_srcdir:-.}/tests/headless-common.sh"
. "$top_srcdir/tests/relay-common.sh"
echo "1..11"

if [ -z "$relay_faketime_lib" ] || [ "$have_python" = 0 ]; then
	for i in 1 2 3 4 5 6 7 8 9 10 11; do
		skip "$relay_faketime_need"
	done
	exit 0
fi

relay_tokens "padova c1 * */* *"
trap 'kill -9 $relay_pid 2>/dev/null; [ -n "$SB_KEEP" ] || rm -rf "$tmp"' EXIT
# the relay's wall clock: an offset in seconds read at every call
echo "+0" >"$tmp/ft"
relay_wallclock="$tmp/ft"
start_relay() {
	relay_spawn 0 --spool "$tmp/spool"
	relay_up
}
# session time now, in microseconds (the relay's T2)
session_us() { relay_time "$tmp/tok.padova"; }
# real microseconds (this shell's clock is not moved)
real_us() { echo $(($(date +%s%N) / 1000)); }
# le A B: A <= B, said when not
le() {
	[ "$1" -le "$2" ] && return 0
	diag "$1 > $2"
	return 1
}

start_relay
epoch=$(python3 "$top_srcdir/tests/relay-get.py" "$addr" /v1/streams \
    "$tmp/tok.padova" Synbridge-Epoch)
check "GET /v1/streams names the session's epoch" \
    test "$epoch" = "$(cat "$tmp/spool/c1/epoch")"

r0=$(real_us)
t0=$(session_us)
echo "-2" >"$tmp/ft"
t1=$(session_us)
echo "+28" >"$tmp/ft"
t2=$(session_us)
r2=$(real_us)
diag "session time $t0 -> $t1 -> $t2 us over $((r2 - r0)) us of real time"
check "a wall clock stepped back 2 s does not move session time back" \
    le "$t0" "$t1"
# what passed, plus 1 s of slack for a loaded machine (the step is 28 s)
check "a wall clock stepped forward 28 s does not move session time" \
    le "$((t2 - t0))" "$((r2 - r0 + 1000000))"

kill "$relay_pid"
wait "$relay_pid"
echo "-3600" >"$tmp/ft"
start_relay
t3=$(session_us)
r3=$(real_us)
diag "after a clean stop and a restart an hour behind: $t3 us"
check "restarted with the wall clock an hour behind, session time goes on" \
    le "$t2" "$t3"
# the time the relay was away counts (the boot clock knows it)
check "the outage is not lost: session time moved by the real time" \
    le "$((r3 - r2 - 500000))" "$((t3 - t2))"
check "the relay says the wall clock is behind" \
    contains "$tmp/relay.out" "the wall clock is"

t4=$(session_us)
{ kill -9 "$relay_pid"; wait "$relay_pid"; } 2>/dev/null
echo "-7200" >"$tmp/ft"
start_relay
t5=$(session_us)
diag "after kill -9 and a restart two hours behind: $t4 -> $t5 us"
check "after kill -9, session time never goes back" le "$t4" "$t5"
check "session time is never negative" le 0 "$t5"
t6=$(session_us)
r6=$(real_us)
{ kill -9 "$relay_pid"; wait "$relay_pid"; } 2>/dev/null
echo "+3600" >"$tmp/ft"
start_relay
t7=$(session_us)
r7=$(real_us)
diag "after kill -9 and a restart with the wall clock an hour ahead: $t6 -> $t7 us in $((r7 - r6)) us"
check "a wall clock set an hour forward while the relay was away does not \
move session time" le "$((t7 - t6))" "$((r7 - r6 + 1000000))"
check "the restarted session keeps its epoch" \
    test "$epoch" = "$(python3 "$top_srcdir/tests/relay-get.py" "$addr" \
    /v1/streams "$tmp/tok.padova" Synbridge-Epoch)"
# a second relay on the same spool would interleave its records: refused
"$RELAY" --listen 127.0.0.1:0 --self-signed "$tmp/tls" --tokens "$tmp/tokens" \
    --spool "$tmp/spool" >"$tmp/second.out" 2>&1
second=$?
check "a second relay on the same spool is refused (status $second)" \
    sh -c "[ $second = 2 ] && grep -q 'is in use by another synbridge-relay' '$tmp/second.out'"
