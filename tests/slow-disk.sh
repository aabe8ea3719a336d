#!/bin/sh
# slow-disk.sh: a console whose disk takes no writes for a while (another
# program writing heavily, a hung network file system) keeps its loop: it
# answers typed commands, and a command from another site waits for its
# at-most-once record without holding anything else up, then runs. When
# the disk comes back every spike row is there. TAP.
#
# tests/sync-gate.c, preloaded into padova's console, holds its writes to
# spikes.csv and its fsync calls while the gate file exists.
. "${top_srcdir:-.}/tests/headless-common.sh"
. "$top_srcdir/tests/relay-common.sh"
echo "1..6"
SHIM="$top_builddir/tests/.libs/sync-gate.so"
if sanitized || [ ! -f "$SHIM" ]; then
	for i in 1 2 3 4 5 6; do
		skip "an LD_PRELOAD shim cannot run with sanitizers"
	done
	exit 0
fi

relay_tokens "padova d1 * */* southampton" "southampton d1 * */* padova"
relay_spawn 0
pids="$relay_pid"
trap 'rm -f "$tmp/gate"; kill -9 $pids 2>/dev/null; [ -n "$SB_KEEP" ] || rm -rf "$tmp"' EXIT
relay_up
XDG_STATE_HOME="$tmp/state"
export XDG_STATE_HOME

# padova: 4 units firing every 10 ms each, its disk behind the gate
{
	echo "site padova"
	echo "load relay url=https://$addr token_file=$tmp/tok.padova pin=$pin"
	echo "load test_neurons name=n units=4 period_ms=10"
	echo "mark linked"
} >"$tmp/p.conf"
mkfifo "$tmp/p.in" "$tmp/s.in"
SB_TEST_SYNC_GATE="$tmp/gate" SB_TEST_WRITE_GATE_NAME=spikes.csv \
    LD_PRELOAD="$SHIM" "$SB" --headless --plugin-dir "$PLUGDIR" \
    -c "$tmp/p.conf" --log-dir "$tmp/p" --duration 120 \
    <"$tmp/p.in" >"$tmp/p.out" 2>&1 &
p_pid=$!
pids="$pids $p_pid"
exec 3>"$tmp/p.in"
{
	echo "site southampton"
	echo "load relay url=https://$addr token_file=$tmp/tok.southampton pin=$pin"
} >"$tmp/s.conf"
"$SB" --headless -c "$tmp/s.conf" --log-dir "$tmp/s" --duration 120 \
    <"$tmp/s.in" >"$tmp/s.out" 2>&1 &
pids="$pids $!"
exec 4>"$tmp/s.in"
audited() { grep -q "$2" "$tmp/$1/commands.csv" 2>/dev/null; }
said() { grep -q "$2" "$tmp/$1.out" 2>/dev/null; }
wait_for 30 audited p 'mark linked' || diag "padova did not start" \
    "$(cat "$tmp/p.out")"
# the link is up at southampton before it asks
echo 'mark ready' >&4
wait_for 30 audited s 'mark ready'

# the disk stops: the next half-second's rows and the record wait
touch "$tmp/gate"
wait_for 10 test -f "$tmp/gate.entered"
rm -f "$tmp/gate.entered"
echo 'at padova mark remote-hello' >&4
wait_for 10 test -f "$tmp/gate.entered"
echo 'mark "still answering"' >&3
check "padova answers a typed command while its disk takes nothing" \
    wait_for 20 said p 'still answering'
check "the remote command waits for its record (not run yet)" \
    [ -f "$tmp/gate" ] && ! said s 'padova: remote-hello'
check "the log says the disk is slow" \
    wait_for 20 said p 'the disk has taken no rows'

# the disk comes back
rm -f "$tmp/gate"
check "the remote command then runs at padova" \
    wait_for 30 said s 'padova: remote-hello' &&
    wait_for 30 audited p '@southampton,mark remote-hello,ok'
check "and the disk's return is said" \
    wait_for 20 said p 'record: writing to .* again'
echo 'quit' >&3
wait "$p_pid"
# 4 units every 10 ms: no hole longer than 0.1 s in any unit's spikes
holes=$(awk -F, 'NR > 1 && $3 == "n" {
	if (($4 in last) && $1 - last[$4] > 0.1) holes++
	last[$4] = $1; n++
} END { print (n > 100 ? holes + 0 : "too few rows: " n) }' \
    "$tmp/p/spikes.csv")
check "every spike row is on disk, without a hole ($holes)" \
    [ "$holes" = 0 ]
