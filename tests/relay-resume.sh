#!/bin/sh
# relay-resume.sh: a reading console killed with kill -9 and started again
# on the same log directory resumes after the last event it recorded:
# over three restarts, while the other site keeps publishing, it records
# every spike of that site exactly once (nothing skipped while it was
# down, nothing read twice). Then the relay is killed and started again
# WITHOUT a spool while the reader is down: the restarted reader says the
# session started a new life, records the gap, and reads the new life from
# its start. TAP.
. "${top_srcdir:-.}/tests/headless-common.sh"
. "$top_srcdir/tests/relay-common.sh"
echo "1..9"

relay_tokens "a rs * */* -" "b rs * */* -"
relay_spawn 0
pids="$relay_pid"
trap 'kill -9 $pids 2>/dev/null; [ -n "$SB_KEEP" ] || rm -rf "$tmp"' EXIT
relay_up
link() {
	echo "load relay url=https://$addr token_file=$tmp/tok.$1 pin=$pin"
}
{
	echo "site a"
	link a
	echo "load test_neurons name=n units=4 period_ms=5"
} >"$tmp/a.conf"
{
	echo "site b"
	link b
	echo "remote a/n 4"
} >"$tmp/b.conf"

# rows FILE: data rows of site a in a spikes.csv
rows() {
	[ -f "$1" ] || { echo 0; return; }
	awk -F, 'NR > 1 && $2 == "a"' "$1" | wc -l
}
more_than() { [ "$(rows "$1")" -gt "$2" ]; }
start_b() {
	"$SB" --headless --plugin-dir "$PLUGDIR" -c "$tmp/b.conf" \
	    --log-dir "$tmp/b" --duration 120 </dev/null >>"$tmp/b.out" 2>&1 &
	b_pid=$!
	pids="$pids $b_pid"
}

"$SB" --headless --plugin-dir "$PLUGDIR" -c "$tmp/a.conf" \
    --log-dir "$tmp/a" --duration 120 </dev/null >"$tmp/a.out" 2>&1 &
a_pid=$!
pids="$pids $a_pid"
start_b
restarts_ok=1
for round in 1 2 3; do
	# b records some of a's spikes, dies, and a goes on without it
	wait_for 30 more_than "$tmp/b/spikes.csv" \
	    "$(($(rows "$tmp/b/spikes.csv") + 100))" || restarts_ok=0
	{ kill -9 "$b_pid"; wait "$b_pid"; } 2>/dev/null
	wait_for 30 more_than "$tmp/a/spikes.csv" \
	    "$(($(rows "$tmp/a/spikes.csv") + 300))" || restarts_ok=0
	start_b
done
check "b recorded, was killed and restarted three times" [ $restarts_ok = 1 ]
check "the restarted b said it resumes" \
    contains "$tmp/b.out" "resuming each stream after the last batch"

# a stops cleanly (its queue flushed); b catches up with all of it
kill -TERM "$a_pid"
wait "$a_pid"
a_status=$?
caught_up() { [ "$(rows "$tmp/b/spikes.csv")" -ge "$(rows "$tmp/a/spikes.csv")" ]; }
wait_for 30 caught_up
kill -TERM "$b_pid"
wait "$b_pid"
check "a quit cleanly (status $a_status)" [ "$a_status" = 0 ]

# what a sent (its own record) against what b received (b's record of a/n)
awk -F, 'NR > 1 && $2 == "a" { print $1, $4 }' "$tmp/a/spikes.csv" |
    sort >"$tmp/sent"
awk -F, 'NR > 1 && $2 == "a" { print $1, $4 }' "$tmp/b/spikes.csv" |
    sort >"$tmp/received"
dups=$(uniq -d "$tmp/received" | wc -l)
# b joined live: what a sent before b's first record is not b's to have
first=$(sort -n "$tmp/received" | head -1 | cut -d' ' -f1)
awk -v t="$first" '$1 >= t' "$tmp/sent" >"$tmp/sent.after"
missing=$(comm -23 "$tmp/sent.after" "$tmp/received" | wc -l)
check "no spike was recorded twice across the restarts ($dups doubled)" \
    [ "$dups" -eq 0 ]
check "every spike a sent since b joined was recorded by b \
($(wc -l <"$tmp/sent.after") sent, $missing missing)" [ "$missing" -eq 0 ]

# The relay dies and comes back without a spool (a new life of session
# rs) while b is away; a publishes into the new life.
kill -9 "$relay_pid"
wait "$relay_pid" 2>/dev/null
relay_spawn "$port"
pids="$pids $relay_pid"
relay_up
: >"$tmp/a.out"
rm -rf "$tmp/a2"
"$SB" --headless --plugin-dir "$PLUGDIR" -c "$tmp/a.conf" \
    --log-dir "$tmp/a2" --duration 120 </dev/null >"$tmp/a.out" 2>&1 &
a_pid=$!
pids="$pids $a_pid"
wait_for 30 more_than "$tmp/a2/spikes.csv" 200
before=$(rows "$tmp/b/spikes.csv")
start_b
said_new_life() { grep -q "started a new life" "$tmp/b.out"; }
check "the restarted b says the relay's session started a new life" \
    wait_for 30 said_new_life
gap_row() { grep -q ',gap,a/n: an unknown number of events' "$tmp/b/commands.csv"; }
check "and records the loss as a gap of a/n in commands.csv" wait_for 30 gap_row
kill -TERM "$a_pid"
wait "$a_pid"
new_rows() { [ "$(($(rows "$tmp/b/spikes.csv") - before))" -ge "$(rows "$tmp/a2/spikes.csv")" ]; }
wait_for 30 new_rows
kill -TERM "$b_pid"
wait "$b_pid"
awk -F, 'NR > 1 && $2 == "a" { print $1, $4 }' "$tmp/a2/spikes.csv" |
    sort >"$tmp/sent2"
awk -F, 'NR > 1 && $2 == "a" { print $1, $4 }' "$tmp/b/spikes.csv" |
    sort >"$tmp/received2"
missing=$(comm -23 "$tmp/sent2" "$tmp/received2" | wc -l)
check "b read the new life from its start ($(wc -l <"$tmp/sent2") sent, \
$missing missing)" [ "$missing" -eq 0 ]
check "b's files say nothing of a torn row" \
    [ "$(awk -F, 'NR > 1 && NF != 4' "$tmp/b/spikes.csv" | wc -l)" -eq 0 ]
