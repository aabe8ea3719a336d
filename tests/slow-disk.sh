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
echo "1..8"
SHIM="$top_builddir/tests/.libs/sync-gate.so"
if sanitized || [ ! -f "$SHIM" ]; then
	for i in 1 2 3 4 5 6 7 8; do
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
ok=1
wait_for 30 audited p 'mark linked' || ok=0
# the link is up at southampton before it asks
echo 'mark ready' >&4
wait_for 30 audited s 'mark ready' || ok=0
[ $ok = 1 ] || diag "a console did not start" "$(cat "$tmp/p.out" "$tmp/s.out")"

# the disk stops: the next half-second's rows, then the note, wait
touch "$tmp/gate"
wait_for 10 test -f "$tmp/gate.entered" || ok=0
rm -f "$tmp/gate.entered"
# a lifetime that outlasts the held disk: it must run, not expire
echo 'at -t 120 padova mark remote-hello' >&4
wait_for 10 test -f "$tmp/gate.entered" || ok=0
check "the disk was held (the rows, then the command's note)" [ $ok = 1 ]
echo 'mark "still answering"' >&3
check "padova answers a typed command while its disk takes nothing" \
    wait_for 20 said p 'still answering'
not_run_yet() { [ -f "$tmp/gate" ] && ! said s 'padova: remote-hello'; }
check "the remote command waits for its note on disk (not run yet)" \
    not_run_yet
check "the log says the disk is slow" \
    wait_for 20 said p 'the disk has taken no rows'

# the disk comes back
rm -f "$tmp/gate"
ran() {
	wait_for 30 said s 'padova: remote-hello' &&
	    wait_for 30 audited p '@southampton,mark remote-hello,ok'
}
check "the remote command then runs at padova" ran
check "and the disk's return is said" \
    wait_for 20 said p 'record: writing to .* again'
echo 'quit' >&3
wait "$p_pid"
check "padova ends with status 0 (nothing was lost)" [ $? -eq 0 ]
# 4 units every 10 ms: each unit's rows in time order, none twice, no
# hole longer than 0.1 s
holes=$(spike_holes "$tmp/p/spikes.csv" n)
check "every spike row is on disk, in order, without a hole ($holes)" \
    [ "$holes" = 0 ]
