#!/bin/sh
# relay-strangers.sh: connections that never show a token cannot lock
# sites out. Idle TCP connections from many addresses (no TLS at all) hold
# at most --max-unauthenticated, the oldest make room for new ones, and
# each is closed --handshake-timeout after it was accepted, while a site
# with a token connects at once and its connections stay. The relay's log
# stays short under the flood. --max-connections holds for sites too. The
# defaults serve 32 consoles of 8 connections behind one address (a lab's
# NAT), and refuse the next. TAP.
. "${top_srcdir:-.}/tests/headless-common.sh"
. "$top_srcdir/tests/relay-common.sh"
echo "1..11"
if [ "$have_python" = 0 ]; then
	for i in $(seq 11); do skip "no python3"; done
	exit 0
fi
idle_pid= sites_pid=
trap 'exec 7>&- 8>&-; kill $idle_pid $sites_pid 2>/dev/null; relay_stop; rm -rf "$tmp"' EXIT
set --
for i in $(seq 0 32); do
	set -- "$@" "s$i x * */* -"
done
relay_tokens "$@"
mkfifo "$tmp/idle.in" "$tmp/sites.in"

relay_spawn 0 --max-connections 64 --max-unauthenticated 16 \
    --handshake-timeout 3
relay_up
# two sites hold 8 connections each, with their token
: >"$tmp/sites.out" # before the FIFO opens: no stale "served" line
poke sites 2 8 "$tmp" <"$tmp/sites.in" >"$tmp/sites.out" 2>&1 &
sites_pid=$!
exec 8>"$tmp/sites.in"
wait_for 60 grep -q '^served' "$tmp/sites.out"
check "two sites hold 16 connections" \
    contains "$tmp/sites.out" "served 16 of 16"
# 300 connections that never start TLS, from 127.0.0.2 to 127.0.0.20
poke idle 300 127.0.0.2 <"$tmp/idle.in" >"$tmp/idle.out" 2>&1 &
idle_pid=$!
exec 7>"$tmp/idle.in"
wait_for 20 grep -q '^opened 300' "$tmp/idle.out" ||
    diag "$(cat "$tmp/idle.out")"
t0=$(date +%s)
poke request GET /v1/health "$tmp/tok.s2" >"$tmp/out" 2>&1
took=$(($(date +%s) - t0))
served() { [ "$(head -1 "$tmp/out")" = 200 ] && [ "$took" -le 2 ]; }
check "with 300 idle strangers, a site is served at once (${took} s)" served
pending=$(poke metric synbridge_relay_connections_unauthenticated)
check "the strangers hold at most --max-unauthenticated ($pending)" \
    [ "$pending" -le 16 ]
all_closed() { grep -q '^closed 300 ' "$tmp/idle.out"; }
wait_for 20 all_closed
last=$(sed -n 's/^closed 300 \([0-9]*\)\..*/\1/p' "$tmp/idle.out")
in_time() { [ -n "$last" ] && [ "$last" -ge 2 ] && [ "$last" -le 8 ]; }
check "every stranger is closed, the last after --handshake-timeout 3 \
(${last:-never} s)" in_time
conns=$(poke metric synbridge_relay_connections)
check "the sites' 16 connections stay open ($conns open)" \
    [ "$conns" -ge 16 ]
lines=$(wc -l <"$tmp/relay.out")
check "the relay's log stays short ($lines lines)" [ "$lines" -le 80 ]
exec 7>&- 8>&-
wait $idle_pid $sites_pid
idle_pid= sites_pid=
# --max-connections 64 with tokens: 64 are served, the next is refused
none_open() { [ "$(poke metric synbridge_relay_connections)" -le 1 ]; }
wait_for 20 none_open
: >"$tmp/sites.out" # before the FIFO opens: no stale "served" line
poke sites 8 8 "$tmp" <"$tmp/sites.in" >"$tmp/sites.out" 2>&1 &
sites_pid=$!
exec 8>"$tmp/sites.in"
wait_for 60 grep -q '^served' "$tmp/sites.out"
check "--max-connections 64: 64 connections with tokens are served" \
    contains "$tmp/sites.out" "served 64 of 64"
poke sites 1 1 "$tmp" </dev/null >"$tmp/more.out" 2>&1
check "and the 65th is refused" contains "$tmp/more.out" "served 0 of 1"
exec 8>&-
wait $sites_pid
sites_pid=
relay_stop

# The defaults: 32 consoles of 8 connections behind one address.
relay_spawn 0
relay_up
: >"$tmp/sites.out" # before the FIFO opens: no stale "served" line
poke sites 32 8 "$tmp" <"$tmp/sites.in" >"$tmp/sites.out" 2>&1 &
sites_pid=$!
exec 8>"$tmp/sites.in"
wait_for 60 grep -q '^served' "$tmp/sites.out"
check "default --max-per-ip: 32 sites of 8 connections behind one address" \
    contains "$tmp/sites.out" "served 256 of 256"
echo "$(cat "$tmp/tok.s32")" >"$tmp/tok.s0" # the 33rd site, as tok.s0
poke sites 1 1 "$tmp" </dev/null >"$tmp/more.out" 2>&1
check "and the next connection from that address is refused" \
    contains "$tmp/more.out" "served 0 of 1"
exec 8>&-
wait $sites_pid
sites_pid=
# (asked once the sites are gone: they fill 127.0.0.1's --max-per-ip)
wait_for 20 none_open
n=$(poke metric 'synbridge_relay_refused_total{limit="max-per-ip"}')
check "counted in /metrics as refused at --max-per-ip ($n)" [ "${n:-0}" -ge 1 ]
