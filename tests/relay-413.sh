#!/bin/sh
# A relay (or a proxy in front of it) that takes only small publish
# bodies: the console that built up a backlog while the relay was away
# meets 413, says so, sends smaller bodies, and every spike still reaches
# the reading site exactly once. TAP.
. "${top_srcdir:-.}/tests/headless-common.sh"
. "$top_srcdir/tests/relay-common.sh"
echo "1..5"

relay_tokens "a r1 * */* -" "b r1 * */* -"
mkdir "$tmp/spool"
relay() { relay_spawn "$1" --spool "$tmp/spool" --max-body 16k; }
relay 0
trap 'kill -9 $relay_pid $a_pid $b_pid 2>/dev/null; [ -n "$SB_KEEP" ] || rm -rf "$tmp"' EXIT
relay_up
# small batches, so that a backlog is many batches and one batch fits
link() {
	echo "load relay url=https://$addr token_file=$tmp/tok.$1 pin=$pin" \
	    "batch_events=100"
}
{
	echo "site a"
	link a
	echo "load test_neurons name=n units=8 period_ms=2"
} >"$tmp/a.conf"
# b reads a's stream from its first batch (from=start): a may publish
# before b first lists the streams, when b would join live
{
	echo "site b"
	echo "$(link b) from=start"
	echo "remote a/n 8"
} >"$tmp/b.conf"
mkfifo "$tmp/b.in"
"$SB" --headless --plugin-dir "$PLUGDIR" -c "$tmp/b.conf" \
    --log-dir "$tmp/b" --duration 120 <"$tmp/b.in" >"$tmp/b.out" 2>&1 &
b_pid=$!
exec 3>"$tmp/b.in"
arrived() {
	[ -f "$tmp/b/spikes.csv" ] &&
	    [ "$(wc -l <"$tmp/b/spikes.csv")" -gt 200 ]
}
"$SB" --headless --plugin-dir "$PLUGDIR" -c "$tmp/a.conf" \
    --log-dir "$tmp/a" --duration 8 </dev/null >"$tmp/a.out" 2>&1 &
a_pid=$!
wait_for 20 arrived
# take the relay away while a keeps spiking: its backlog outgrows 16 KB
kill -9 $relay_pid
wait $relay_pid 2>/dev/null
sent_before() { [ "$(wc -l <"$tmp/a/spikes.csv")" -gt "$1" ]; }
wait_for 10 sent_before $(($(wc -l <"$tmp/a/spikes.csv") + 6000))
relay "$port"
restarted=0
wait_for 15 relay_listening && restarted=1
ok=0
if wait $a_pid; then
	# b quits once it holds as many of a's spikes as a recorded
	count() { awk -F, 'NR > 1 && $2 == "a"' "$1" | wc -l; }
	all_in() { [ "$(count "$tmp/b/spikes.csv")" -ge \
	    "$(count "$tmp/a/spikes.csv")" ]; }
	wait_for 60 all_in
	echo quit >&3
	wait $b_pid && ok=1
fi
check "the relay came back with --max-body 16k" [ $restarted = 1 ]
check "both consoles ran to the end" [ $ok = 1 ]
[ $ok = 1 ] || diag "$(cat "$tmp/a.out" "$tmp/b.out")"
check "the sending console says it sends smaller bodies" \
    grep -q 'as too large.*sending at most' "$tmp/a.out"
[ -n "$(grep 'too large' "$tmp/a.out")" ] &&
    diag "$(grep 'too large' "$tmp/a.out" | head -3)"

awk -F, 'NR > 1 && $2 == "a" { print $1, $4 }' "$tmp/a/spikes.csv" |
    sort >"$tmp/sent"
awk -F, 'NR > 1 && $2 == "a" { print $1, $4 }' "$tmp/b/spikes.csv" |
    sort >"$tmp/received"
dups=$(uniq -d "$tmp/received" | wc -l)
missing=$(comm -23 "$tmp/sent" "$tmp/received" | wc -l)
check "no spike arrived twice ($(wc -l <"$tmp/received") received)" \
    [ "$dups" -eq 0 ]
check "every spike a sent reached b ($(wc -l <"$tmp/sent") sent, \
$missing missing)" [ "$missing" -eq 0 ]
[ "$missing" -eq 0 ] || diag "relay:" "$(cat "$tmp/relay.out")" "b:" \
    "$(grep -i -e gap -e relay "$tmp/b.out" | head -20)" "missing:" \
    "$(comm -23 "$tmp/sent" "$tmp/received" | head -5)"
