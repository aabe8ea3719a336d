#!/bin/sh
# relay-repin.sh: the relay comes back with a new key. The publishing
# console refuses it, names the pin the relay presented (the one the relay
# prints), and keeps queueing; `repin` with that pin links it again and
# every spike it queued meanwhile reaches the reading site: nothing lost.
# A malformed pin is refused with what to give. TAP.
. "${top_srcdir:-.}/tests/headless-common.sh"
. "$top_srcdir/tests/relay-common.sh"
echo "1..5"

relay_tokens "a rp * */* -" "b rp * */* -"
relay_spawn 0 --spool "$tmp/spool"
pids="$relay_pid"
trap 'kill -9 $pids 2>/dev/null; [ -n "$SB_KEEP" ] || rm -rf "$tmp"' EXIT
relay_up
old_pin=$pin
mkfifo "$tmp/in"
{
	echo "site a"
	echo "load relay url=https://$addr token_file=$tmp/tok.a pin=$pin"
	echo "load test_neurons name=n units=4 period_ms=5"
} >"$tmp/a.conf"
"$SB" --headless --plugin-dir "$PLUGDIR" -c "$tmp/a.conf" \
    --log-dir "$tmp/a" <"$tmp/in" >"$tmp/a.out" 2>&1 &
a_pid=$!
pids="$pids $a_pid"
exec 3>"$tmp/in"
rows() { [ -f "$1" ] && awk -F, 'NR > 1 && $2 == "a"' "$1" | wc -l || echo 0; }
more_than() { [ "$(rows "$1")" -gt "$2" ]; }
wait_for 30 more_than "$tmp/a/spikes.csv" 200

# the relay restarts on its spool with a new key (a new certificate)
kill "$relay_pid"
wait "$relay_pid"
rm -rf "$tmp/tls"
relay_spawn "$port" --spool "$tmp/spool"
pids="$pids $relay_pid"
relay_up
diag "old pin $old_pin, new pin $pin"
named() { grep -qF "presented the key $pin, not pin=$old_pin" "$tmp/a.out"; }
check "the console names the pin the relay presented" wait_for 30 named
wait_for 30 more_than "$tmp/a/spikes.csv" $(($(rows "$tmp/a/spikes.csv") + 300))
echo "repin sha256//short" >&3
refused() { grep -q "usage: repin sha256//BASE64" "$tmp/a.out"; }
check "a malformed pin is refused with what to give" wait_for 30 refused
echo "repin $pin" >&3
kept() { grep -q "checked against $pin from now on; [0-9]* events queued are kept" "$tmp/a.out"; }
check "repin takes the new pin and keeps the queue" wait_for 30 kept
grep "events queued are kept" "$tmp/a.out" | sed 's/^/# /'

# a reader of the whole session: everything a recorded reaches it
{
	echo "site b"
	echo "load relay url=https://$addr token_file=$tmp/tok.b pin=$pin from=start"
	echo "remote a/n 4"
} >"$tmp/b.conf"
"$SB" --headless --plugin-dir "$PLUGDIR" -c "$tmp/b.conf" \
    --log-dir "$tmp/b" --duration 120 </dev/null >"$tmp/b.out" 2>&1 &
b_pid=$!
pids="$pids $b_pid"
wait_for 30 more_than "$tmp/b/spikes.csv" $(($(rows "$tmp/a/spikes.csv") + 100))
echo quit >&3
wait "$a_pid"
a_status=$?
# (its status is 1: the malformed repin failed, as any failed command)
check "a quits with everything delivered (no gap at quit)" \
    sh -c "! grep -q 'not delivered' '$tmp/a/commands.csv'"
caught_up() { [ "$(rows "$tmp/b/spikes.csv")" -ge "$(rows "$tmp/a/spikes.csv")" ]; }
wait_for 30 caught_up
kill "$b_pid"
wait "$b_pid"
awk -F, 'NR > 1 && $2 == "a" { print $1, $4 }' "$tmp/a/spikes.csv" |
    sort >"$tmp/sent"
awk -F, 'NR > 1 && $2 == "a" { print $1, $4 }' "$tmp/b/spikes.csv" |
    sort >"$tmp/received"
missing=$(comm -23 "$tmp/sent" "$tmp/received" | wc -l)
check "every spike a recorded, before and after the new key, reached b \
($(wc -l <"$tmp/sent") sent, $missing missing)" [ "$missing" -eq 0 ]
