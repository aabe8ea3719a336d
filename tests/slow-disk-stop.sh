#!/bin/sh
# slow-disk-stop.sh: 'record stop' on a disk that takes nothing does not
# hold up the console: the recording's writer finishes by itself, 'record'
# shows it closing, another recording can start, and once the disk is back
# every row is there and the log says so. At quit the console waits for
# the disk, and a second signal stops that wait, with status 1 and a
# message that the recording is incomplete. TAP.
#
# tests/sync-gate.c, preloaded, holds writes to spikes.csv while the gate
# file exists.
. "${top_srcdir:-.}/tests/headless-common.sh"
echo "1..9"
SHIM="$top_builddir/tests/.libs/sync-gate.so"
if sanitized || [ ! -f "$SHIM" ]; then
	for i in 1 2 3 4 5 6 7 8 9; do
		skip "an LD_PRELOAD shim cannot run with sanitizers"
	done
	exit 0
fi
trap 'rm -f "$tmp/gate"; kill -9 $pid 2>/dev/null; rm -rf "$tmp"' EXIT

{
	echo "site padova"
	echo "load test_neurons name=n units=4 period_ms=10"
	echo "mark linked"
} >"$tmp/p.conf"
mkfifo "$tmp/in"
SB_TEST_SYNC_GATE="$tmp/gate" SB_TEST_WRITE_GATE_NAME=spikes.csv \
    LD_PRELOAD="$SHIM" "$SB" -v --headless --plugin-dir "$PLUGDIR" \
    -c "$tmp/p.conf" --log-dir "$tmp/rec" --duration 120 \
    <"$tmp/in" >"$tmp/out" 2>&1 &
pid=$!
exec 3>"$tmp/in"
said() { grep -q -- "$1" "$tmp/out" 2>/dev/null; }
audited() { grep -q "$2" "$tmp/$1/commands.csv" 2>/dev/null; }
wait_for 30 audited rec 'mark linked' ||
    diag "the console did not start:" "$(cat "$tmp/out")"

# the disk stops taking spikes.csv's rows
touch "$tmp/gate"
wait_for 10 test -f "$tmp/gate.entered" ||
    diag "no write to spikes.csv was held"
echo 'record stop' >&3
echo 'mark after-stop' >&3
check "record stop returns at once while the disk takes nothing" \
    wait_for 10 said '^after-stop$'
echo 'record' >&3
check "record shows the recording closing" \
    wait_for 10 said "^closing $tmp/rec: its last rows are being written"
echo "record start $tmp/rec2" >&3
check "another recording starts meanwhile" \
    wait_for 10 said "^recording to $tmp/rec2\$"
not_closed() { [ -f "$tmp/gate" ] && ! said "record: $tmp/rec is closed"; }
check "the stopped one is not said closed while its rows wait" not_closed

# the disk comes back: the rest is written and said
rm -f "$tmp/gate"
check "once the disk is back the log says every row is written" \
    wait_for 30 said "record: $tmp/rec is closed, every row written"
# 4 units every 10 ms: each unit's rows in time order, none twice, no
# hole longer than 0.1 s
holes=$(spike_holes "$tmp/rec/spikes.csv" n)
check "every spike row up to the stop is on disk, in order ($holes)" \
    [ "$holes" = 0 ]

# quit while the disk takes nothing: it waits, and a signal stops that
rm -f "$tmp/gate.entered"
touch "$tmp/gate"
wait_for 10 test -f "$tmp/gate.entered" ||
    diag "no write to rec2/spikes.csv was held"
echo 'quit' >&3
waiting() {
	said "record: waiting for the disk to take the rows of $tmp/rec2" &&
	    kill -0 "$pid" 2>/dev/null
}
check "quit waits for the disk, and says so" wait_for 30 waiting
kill -INT "$pid"
ended() { ! kill -0 "$pid" 2>/dev/null; }
if wait_for 20 ended; then
	wait "$pid"
	status=$?
else
	status=timeout
fi
check "a signal stops the wait: status 1 ($status)" [ "$status" = 1 ]
check "and the recording is said incomplete" \
    said "the recording in $tmp/rec2 is incomplete: .*stopped waiting for the disk"
rm -f "$tmp/gate"
exec 3>&-
