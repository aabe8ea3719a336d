#!/bin/sh
# relay-clock-console.sh: a console never runs its backends on a clock
# known to be wrong. Its relay answers late (down at start, its session
# 1000 s old): the session is held before its backends load, says so,
# and goes on once the relay answers, instead of stamping the run 1000 s early. Then
# the relay's session time steps forward 60 s while the backends run (the
# relay restarted on its spool with its wall clock moved forward): the
# console follows the step and writes a mark where it did, instead of
# refusing it for the rest of the run (the relay restarted on its spool
# as after a reboot, its wall clock moved forward). When the relay comes
# back without its spool (its session clock starts again near 0), the
# console keeps its own time, says so once, and its rows stay in order.
# TAP.
. "${top_srcdir:-.}/tests/headless-common.sh"
. "$top_srcdir/tests/relay-common.sh"
echo "1..12"

relay_tokens "b ck * */* -"
mkdir -p "$tmp/spool/ck"
# a session that began 1000 s ago
echo $(($(date +%s%N) / 1000 - 1000000000)) >"$tmp/spool/ck/epoch"
echo "+0" >"$tmp/ft"
[ -n "$relay_faketime_lib" ] && relay_wallclock="$tmp/ft"
relay_spawn 0 --spool "$tmp/spool"
pids="$relay_pid"
trap 'kill -9 $pids 2>/dev/null; [ -n "$SB_KEEP" ] || rm -rf "$tmp"' EXIT
relay_up
# the relay goes away before the console starts
kill "$relay_pid"
wait "$relay_pid"
{
	echo "site b"
	echo "load relay url=https://$addr token_file=$tmp/tok.b pin=$pin"
	echo "load test_neurons name=n units=4 period_ms=5"
} >"$tmp/b.conf"
"$SB" --headless --plugin-dir "$PLUGDIR" -c "$tmp/b.conf" \
    --log-dir "$tmp/b" --duration 120 </dev/null >"$tmp/b.out" 2>&1 &
b_pid=$!
pids="$pids $b_pid"

said() { grep -q "$1" "$tmp/b.out"; }
rows() { [ -f "$tmp/b/spikes.csv" ] && awk 'NR > 1' "$tmp/b/spikes.csv" | wc -l || echo 0; }
check "with no answer from the relay, the session is held and says so" \
    wait_for 30 said "the session is held until it answers"
held_rows=$(rows)
relay_spawn "$port" --spool "$tmp/spool"
pids="$pids $relay_pid"
relay_up
check "nothing was recorded while held ($held_rows rows)" \
    [ "$held_rows" -eq 0 ]
check "once the relay answers, the session goes on" \
    wait_for 30 said "the session clock is known; the session goes on"
more_rows() { [ "$(rows)" -gt "$1" ]; }
wait_for 30 more_rows 50
first=$(awk -F, 'NR == 2 { print int($1) }' "$tmp/b/spikes.csv")
check "the first spike is on session time (t = $first s, the session is \
1000 s old)" [ "${first:-0}" -ge 999 ]

if [ -z "$relay_faketime_lib" ] || [ "$have_python" = 0 ]; then
	for i in 5 6 7 8 9 10 11 12; do
		skip "$relay_faketime_need"
	done
	exit 0
fi
# the relay comes back after a "reboot" with its wall clock 60 s ahead:
# session time jumps forward 60 s while b's backends run
kill "$relay_pid"
wait "$relay_pid"
# as after a reboot (another boot id in its clock file: only the wall
# clock says how long it was away), with the wall clock 60 s ahead
sed -i 's/ [0-9a-f-]\{36\} / 00000000-0000-0000-0000-000000000000 /' \
    "$tmp/spool/ck/clock"
echo "+60" >"$tmp/ft"
relay_spawn "$port" --spool "$tmp/spool"
pids="$pids $relay_pid"
relay_up
marked() { grep -q ',clock,step,session time stepped forward' "$tmp/b/commands.csv"; }
check "b follows the step and marks it in commands.csv" wait_for 30 marked
grep ',clock,step,' "$tmp/b/commands.csv" | sed 's/^/# /'
# b's newest rows are on the relay's clock now (flushed every 0.5 s)
now_rows=$(rows)
wait_for 30 more_rows $((now_rows + 200))
t_relay=$(($(relay_time "$tmp/tok.b") / 1000000))
t_last=$(tail -1 "$tmp/b/spikes.csv" | awk -F, '{ print int($1) }')
diag "relay session time $t_relay s, b's last spike $t_last s"
check "b's spikes follow the relay's session time after the step" \
    [ "$t_last" -ge $((t_relay - 5)) -a "$t_last" -le $((t_relay + 1)) ]
check "b does not refuse the step" sh -c "! grep -q refused '$tmp/b.out'"
# the step is a gap in time: b's model does not make up the 60 s it
# skipped (no burst of spikes stamped inside the gap, no "runs behind")
check "no spike is stamped inside the 60 s the clock skipped" \
    awk -F, -v g="$(grep ',clock,step,' "$tmp/b/commands.csv" | cut -d, -f1)" \
    'NR > 1 && $1 + 0 > g + 0.5 && $1 + 0 < g + 59.5 { bad = 1 } END { exit bad }' \
    "$tmp/b/spikes.csv"
check "b's model is not said to run behind" \
    sh -c "! grep -q 'behind real time' '$tmp/b.out'"

# the relay comes back without its spool: a new life of the session whose
# clock starts near 0. b keeps its own session time (its backends run on,
# its rows stay in order) and says why, once.
kill "$relay_pid"
wait "$relay_pid"
echo "+0" >"$tmp/ft"
relay_spawn "$port"
pids="$pids $relay_pid"
relay_up
kept() { grep -q ',clock,kept,"*the relay.s session clock is now' "$tmp/b/commands.csv"; }
check "b keeps its session time when the relay's goes back, and says so" \
    wait_for 30 kept
now_rows=$(rows)
wait_for 30 more_rows $((now_rows + 200))
kill "$b_pid"
wait "$b_pid"
check "b's spikes stay in time order throughout" \
    awk -F, 'NR > 2 && $1 + 0 < last { bad = 1 } NR > 1 { last = $1 + 0 } END { exit bad }' \
    "$tmp/b/spikes.csv"
check "said once" [ "$(grep -c ',clock,kept,' "$tmp/b/commands.csv")" = 1 ]
