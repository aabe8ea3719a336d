#!/bin/sh
# relay-limits.sh: limits per client address and per token cannot be
# turned against a site. Strangers behind a site's own NAT (its client
# address) that open connections and never start TLS fill --max-per-ip,
# yet the site still connects at once: the oldest stranger from that
# address makes room, and the strangers hold at most --max-per-ip. A
# token that opens more than --max-per-token connections loses its
# oldest, and another token's connections stay. The log names the limit
# that closed each. TAP.
. "${top_srcdir:-.}/tests/headless-common.sh"
. "$top_srcdir/tests/relay-common.sh"
echo "1..10"
if [ "$have_python" = 0 ]; then
	for i in $(seq 10); do skip "no python3"; done
	exit 0
fi
idle_pid= sites_pid= more_pid=
trap 'exec 7>&- 8>&- 9>&-; kill $idle_pid $sites_pid $more_pid 2>/dev/null; relay_stop; rm -rf "$tmp"' EXIT
relay_tokens "s0 x * */* -" "s1 y * */* -"
mkfifo "$tmp/idle.in" "$tmp/sites.in" "$tmp/more.in"

# A NAT: strangers and the site share 127.0.0.1. The handshake deadline
# is long, so only --max-per-ip can make room.
relay_spawn 0 --max-per-ip 8 --max-unauthenticated 200 \
    --handshake-timeout 120
relay_up
poke idle 30 127.0.0.1 30 <"$tmp/idle.in" >"$tmp/idle.out" 2>&1 &
idle_pid=$!
exec 7>"$tmp/idle.in"
wait_for 20 grep -q '^opened 30' "$tmp/idle.out" ||
    diag "$(cat "$tmp/idle.out")"
# the relay closes the 22 oldest as the others arrive
closed22() { grep -q '^closed 22 ' "$tmp/idle.out"; }
wait_for 20 closed22
check "30 strangers from one address: 22 closed to keep --max-per-ip 8" \
    closed22
t0=$(date +%s)
poke request GET /v1/health "$tmp/tok.s0" >"$tmp/out" 2>&1
took=$(($(date +%s) - t0))
served() { [ "$(head -1 "$tmp/out")" = 200 ] && [ "$took" -le 2 ]; }
check "a site behind that address is still served at once (${took} s)" \
    served
pending=$(poke metric synbridge_relay_connections_unauthenticated)
check "the strangers hold at most --max-per-ip ($pending)" \
    [ "$pending" -le 8 ]
said() {
	grep -q 'closed connections: .*without a token made room for newer ones from their address (--max-per-ip 8; the last from 127.0.0.1)' \
	    "$tmp/relay.out"
}
wait_for 20 said
check "the log says --max-per-ip closed them, naming the address" said
n=$(poke metric 'synbridge_relay_closed_limit_total{limit="max-per-ip"}')
check "/metrics counts them by the limit ($n)" [ "$n" -ge 22 ]
no_other() { ! grep -q 'max-unauthenticated\|max-connections' "$tmp/relay.out"; }
check "and names no other limit" no_other
exec 7>&-
wait $idle_pid
idle_pid=
relay_stop

# One token, more connections than --max-per-token: its oldest go.
relay_spawn 0 --max-per-token 4
relay_up
poke sites 2 4 "$tmp" <"$tmp/sites.in" >"$tmp/sites.out" 2>&1 &
sites_pid=$!
exec 8>"$tmp/sites.in"
wait_for 60 grep -q '^served' "$tmp/sites.out"
check "two tokens hold 4 connections each" \
    contains "$tmp/sites.out" "served 8 of 8"
mkdir "$tmp/t1"
cp "$tmp/tok.s1" "$tmp/t1/tok.s0"	# s1's token, 6 connections more
poke sites 1 6 "$tmp/t1" <"$tmp/more.in" >"$tmp/more.out" 2>&1 &
more_pid=$!
exec 9>"$tmp/more.in"
wait_for 60 grep -q '^served' "$tmp/more.out"
check "s1 opens 6 more, each served" \
    contains "$tmp/more.out" "served 6 of 6"
# s0's 4 and s1's newest 4 (the metric's own connection has no token)
four_each() {
	n=$(poke metric synbridge_relay_connections)
	[ "$n" -ge 8 ] && [ "$n" -le 9 ]
}
wait_for 20 four_each
check "6 connections were closed, 8 stay open ($n, with the metric's own)" four_each
# the counts of the log's lines (the closes may fall in two reports)
said() {
	n=$(sed -n 's/.*[:;] \([0-9]*\) of a token made room for its newer ones (--max-per-token 4; the last of site s1).*/\1/p' \
	    "$tmp/relay.out" | awk '{ n += $1 } END { print n + 0 }')
	[ "$n" = 6 ]
}
wait_for 20 said
check "the log says --max-per-token closed 6 ($n)" said
exec 8>&- 9>&-
wait $sites_pid $more_pid
sites_pid= more_pid=
relay_stop
