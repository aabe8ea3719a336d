#!/bin/sh
# A console that quits while its relay cannot take its last events: it
# waits (bounded) for them, then says how many were not delivered, as a
# gap in commands.csv and a non-zero exit status; nothing is dropped
# silently. TAP.
. "${top_srcdir:-.}/tests/headless-common.sh"
. "$top_srcdir/tests/relay-common.sh"
echo "1..8"

relay_tokens "a r1 * */* -"
relay_spawn 0
trap 'kill -CONT $relay_pid 2>/dev/null; kill -9 $relay_pid $a_pid \
    $u_pid $w_pid 2>/dev/null; [ -n "$SB_KEEP" ] || rm -rf "$tmp"' EXIT
w_pid=
relay_up
mkfifo "$tmp/in"
{
	echo "site a"
	echo "load relay url=https://$addr token_file=$tmp/tok.a pin=$pin"
	echo "load test_neurons name=n units=4 period_ms=5"
	echo "mark linked"
} >"$tmp/a.conf"
"$SB" --headless --plugin-dir "$PLUGDIR" -c "$tmp/a.conf" \
    --log-dir "$tmp/a" <"$tmp/in" >"$tmp/a.out" 2>"$tmp/a.err" &
a_pid=$!
exec 3>"$tmp/in"
# a second console that will unload its relay plugin instead of quitting
mkfifo "$tmp/in2"
"$SB" --headless --plugin-dir "$PLUGDIR" -c "$tmp/a.conf" \
    --log-dir "$tmp/u" <"$tmp/in2" >"$tmp/u.out" 2>"$tmp/u.err" &
u_pid=$!
exec 4>"$tmp/in2"
spiking() {
	[ -f "$tmp/$1/spikes.csv" ] &&
	    [ "$(wc -l <"$tmp/$1/spikes.csv")" -gt 200 ]
}
check "the consoles publish through the relay" \
    wait_for 20 spiking a && wait_for 20 spiking u
# the relay stops taking anything; the console keeps queueing, then quits
kill -STOP $relay_pid
grown() { [ "$(wc -l <"$tmp/a/spikes.csv")" -gt "$1" ]; }
wait_for 10 grown $(($(wc -l <"$tmp/a/spikes.csv") + 100))
echo quit >&3
echo "unload relay" >&4
ended() { ! kill -0 $a_pid 2>/dev/null; }
check "the console ends within its bounded wait" wait_for 30 ended
wait $a_pid
status=$?
check "its exit status says events were not delivered ($status)" \
    [ "$status" -ne 0 ]
check "commands.csv records the gap with a count" \
    grep -q 'gap,[0-9]* events of this site were not delivered to the relay at quit' \
    "$tmp/a/commands.csv"
check "unload relay with events queued says they were not delivered" \
    wait_for 30 grep -q "unloaded relay; events it had queued were not delivered" "$tmp/u.err"
check "and records the gap" \
    wait_for 10 grep -q 'gap,[0-9]* events of this site were not delivered to the relay at unload' \
    "$tmp/u/commands.csv"

# A console whose relay stalls only for a while: it says it waits, and
# then that everything got there (as loudly), and ends with status 0.
kill -CONT $relay_pid
mkfifo "$tmp/in3"
"$SB" --headless --plugin-dir "$PLUGDIR" -c "$tmp/a.conf" \
    --log-dir "$tmp/w" <"$tmp/in3" >"$tmp/w.out" 2>"$tmp/w.err" &
w_pid=$!
exec 5>"$tmp/in3"
wait_for 20 spiking w
kill -STOP $relay_pid
grown_w() { [ "$(wc -l <"$tmp/w/spikes.csv")" -gt "$1" ]; }
wait_for 10 grown_w $(($(wc -l <"$tmp/w/spikes.csv") + 100))
echo quit >&5
wait_for 20 grep -q "quit: waiting up to" "$tmp/w.err"
kill -CONT $relay_pid
ended_w() { ! kill -0 $w_pid 2>/dev/null; }
wait_for 30 ended_w
wait $w_pid
status=$?
diag "$(grep "quit:" "$tmp/w.err")"
check "after a stall the console says every event reached the relay" \
    grep -q "quit: every event reached the relay" "$tmp/w.err"
check "and ends with status 0 ($status)" [ "$status" -eq 0 ]
