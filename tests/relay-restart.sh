#!/bin/sh
# kill -9 of the relay in the middle of a session, and a restart on the
# same spool and port: the consoles reconnect by themselves, and the site
# that reads another's stream ends up with every spike exactly once.
. "${top_srcdir:-.}/tests/headless-common.sh"
. "$top_srcdir/tests/relay-common.sh"
echo "1..5"

relay_tokens "a r1 * */* -" "b r1 * */* -"
mkdir "$tmp/spool"
relay() { relay_spawn "$1" --spool "$tmp/spool"; }
relay 0
trap 'kill -9 $relay_pid 2>/dev/null; rm -rf "$tmp"' EXIT
relay_up
link() {
	echo "load relay url=https://$addr token_file=$tmp/tok.$1 pin=$pin"
}
{
	echo "site a"
	link a
	echo "load test_neurons name=n units=4 period_ms=5"
} >"$tmp/a.conf"
# b reads a's stream from its first batch (from=start): a may publish
# before b first lists the streams, when b would join live
{
	echo "site b"
	echo "$(link b) from=start"
	echo "remote a/n 4"
} >"$tmp/b.conf"
"$SB" --headless --plugin-dir "$PLUGDIR" -c "$tmp/b.conf" \
    --log-dir "$tmp/b" --duration 120 </dev/null >"$tmp/b.out" 2>&1 &
b_pid=$!
"$SB" --headless --plugin-dir "$PLUGDIR" -c "$tmp/a.conf" \
    --log-dir "$tmp/a" --duration 7 </dev/null >"$tmp/a.out" 2>&1 &
a_pid=$!

# once b has recorded a's spikes for a while, kill the relay outright
arrived() {
	[ -f "$tmp/b/spikes.csv" ] &&
	    [ "$(wc -l <"$tmp/b/spikes.csv")" -gt 400 ]
}
wait_for 20 arrived
kill -9 $relay_pid
wait $relay_pid 2>/dev/null
before=$(wc -l <"$tmp/b/spikes.csv")
# the consoles keep spiking and queueing while the relay is gone
sleep_until() { [ "$(wc -l <"$tmp/a/spikes.csv")" -gt "$1" ]; }
wait_for 10 sleep_until $(($(wc -l <"$tmp/a/spikes.csv") + 400))
relay "$port"
restarted=0
wait_for 15 relay_listening && restarted=1
# a ends by itself (its quit flushes its queue through the new relay);
# b ends once it holds all of a's record, or after 60 s
ok=0
if wait $a_pid; then
	caught_up() {
		[ "$(awk -F, 'NR > 1 && $2 == "a"' "$tmp/b/spikes.csv" | wc -l)" \
		    -ge "$(awk -F, 'NR > 1 && $2 == "a"' "$tmp/a/spikes.csv" | wc -l)" ]
	}
	wait_for 60 caught_up
	kill -TERM $b_pid
	wait $b_pid && ok=1
fi
check "the relay came back on its spool and port" [ $restarted = 1 ]
check "both consoles ran to the end through the restart" [ $ok = 1 ]
[ $ok = 1 ] || diag "$(cat "$tmp/a.out" "$tmp/b.out")"
# a streaming publish found on a dead connection is sent again on a new
# one from its start (libcurl said "rewinding of the data stream failed"
# and failed the exchange when it could not start it over)
check "no publish failed for want of starting its body over" \
    sh -c "! grep -q rewinding \"$tmp/a.out\""

# what a sent (its own record) against what b received (b's record of a/n)
awk -F, 'NR > 1 && $2 == "a" { print $1, $4 }' "$tmp/a/spikes.csv" |
    sort >"$tmp/sent"
awk -F, 'NR > 1 && $2 == "a" { print $1, $4 }' "$tmp/b/spikes.csv" |
    sort >"$tmp/received"
dups=$(uniq -d "$tmp/received" | wc -l)
missing=$(comm -23 "$tmp/sent" "$tmp/received" | wc -l)
check "no spike arrived twice ($(wc -l <"$tmp/received") received)" \
    [ "$dups" -eq 0 ]
check "every spike a sent reached b ($(wc -l <"$tmp/sent") sent, \
$before rows before the kill, $missing missing)" [ "$missing" -eq 0 ]
[ "$missing" -eq 0 ] || diag "relay:" "$(cat "$tmp/relay.out")" "b:" \
    "$(grep -i -e gap -e relay "$tmp/b.out" | head -20)" "missing:" \
    "$(comm -23 "$tmp/sent" "$tmp/received" | head -5)"
