#!/bin/sh
# relay-streams.sh: stream registration is bounded per session
# (--max-streams), per site (--max-streams-per-site) and in all
# (--max-streams-total); with a spool, stream
# logs do not take the descriptors connections need (a relay under
# ulimit -n 256 takes 300 streams and restarts on them); a spool holding
# more streams than the bound starts with one clear line and serves them;
# a descriptor limit too small for --max-connections is refused at start
# with what to do, and a port in use is named as such. TAP.
. "${top_srcdir:-.}/tests/headless-common.sh"
. "$top_srcdir/tests/relay-common.sh"
echo "1..21"
if [ "$have_python" = 0 ]; then
	for i in $(seq 21); do skip "no python3"; done
	exit 0
fi
trap 'relay_stop; rm -rf "$tmp"' EXIT
relay_tokens "a s1 * */* -" "b s1 * */* -" "c s2 * */* -"

# answer FILE CODE: the first line of a poke request answer is CODE
answer() { [ "$(head -1 "$1")" = "$2" ] || { diag "$(cat "$1")"; false; }; }

relay_spawn 0 --max-streams 4 --max-streams-total 6
relay_up
poke streams "$tmp/tok.a" a 3 >"$tmp/out"
check "--max-streams 4: site a registers 3 streams" \
    contains "$tmp/out" "registered 3"
printf 'b0 1\nb1 1\n' >"$tmp/two"
poke request POST /v1/streams "$tmp/tok.b" "$tmp/two" >"$tmp/out"
check "two more would make 5: 507 naming --max-streams" \
    contains "$tmp/out" "session s1 has 3 streams and the relay takes at most 4 per session (--max-streams): this request would add 2 (first 'b0', last 'b1') and none is registered"
poke request GET /v1/streams "$tmp/tok.a" >"$tmp/out"
check "and neither was registered (all or nothing)" \
    [ "$(grep -c ' b[01] ' "$tmp/out")" = 0 ]
printf 'b0 1\n' >"$tmp/one"
poke request POST /v1/streams "$tmp/tok.b" "$tmp/one" >"$tmp/out"
check "one more fits" answer "$tmp/out" 200
printf 'a0 1\n' >"$tmp/one"
poke request POST /v1/streams "$tmp/tok.a" "$tmp/one" >"$tmp/out"
check "a stream already registered is found again at the bound" \
    answer "$tmp/out" 200
poke streams "$tmp/tok.c" c 3 >"$tmp/out"
check "--max-streams-total 6: session s2 gets 2, the third gets 507" \
    contains "$tmp/out" "the relay holds 6 streams in all its sessions and takes at most 6 (--max-streams-total): this request would add 1 ('c2') and none is registered"
relay_stop

# One site cannot take a session's streams from the others.
relay_spawn 0 --max-streams-per-site 3
relay_up
poke streams "$tmp/tok.a" a 5 >"$tmp/out"
check "--max-streams-per-site 3: site a gets 3, the fourth gets 507" \
    contains "$tmp/out" "site a has 3 streams in session s1 and the relay takes at most 3 per site (--max-streams-per-site): this request would add 1 ('a3') and none is registered"
poke streams "$tmp/tok.b" b 3 >"$tmp/out"
check "while site b of the same session still registers its 3" \
    contains "$tmp/out" "registered 3"
printf 'y 1\nz 1\ny 1\n' >"$tmp/three"
poke request POST /v1/streams "$tmp/tok.a" "$tmp/three" >"$tmp/out"
check "a name twice in one request counts once, named in its order" \
    contains "$tmp/out" "this request would add 2 (first 'y', last 'z')"
printf 'a0 1\na0 1\n' >"$tmp/two"
poke request POST /v1/streams "$tmp/tok.a" "$tmp/two" >"$tmp/out"
check "names already registered are found again at the bound" \
    answer "$tmp/out" 200
relay_stop

# spawn_low OPTION...: the relay under a descriptor limit of 256
spawn_low() {
	: >"$tmp/relay.out"
	(ulimit -n 256 && exec "$RELAY" --listen 127.0.0.1:0 \
	    --self-signed "$tmp/tls" --tokens "$tmp/tokens" "$@" \
	    >>"$tmp/relay.out" 2>&1) &
	relay_pid=$!
}
spawn_low --spool "$tmp/spool" --max-connections 64 --max-streams 400 \
    --max-streams-total 400 --max-streams-per-site 400
relay_up
poke streams "$tmp/tok.a" st 300 >"$tmp/out"
check "ulimit -n 256, --spool: 300 streams registered and published" \
    contains "$tmp/out" "registered 300"
fds=$(ls "/proc/$relay_pid/fd" | wc -l)
open=$(poke metric synbridge_relay_spool_open_files)
check "with $fds descriptors open, $open of them stream logs (at most 64)" \
    [ "$open" -le 64 ]
relay_stop

spawn_low --spool "$tmp/spool" --max-connections 64 --max-streams 100
relay_up
check "restarted on 300 streams with --max-streams 100, it says so once" \
    [ "$(grep -c 'the spool holds 300 streams, over --max-streams 100' \
    "$tmp/relay.out")" = 1 ]
poke readall "$tmp/tok.b" 300 >"$tmp/out"
check "and serves them: stream 300 reads back" \
    contains "$tmp/out" "batches 1 gaps 0 last 1"
printf 'new 1\n' >"$tmp/one"
poke request POST /v1/streams "$tmp/tok.a" "$tmp/one" >"$tmp/out"
check "a new stream is refused with 507" answer "$tmp/out" 507
t0=$(cpu_ticks)
sleep 1	# a window to measure, not a wait for a condition
used=$(($(cpu_ticks) - t0))
lines=$(wc -l <"$tmp/relay.out")
quiet() { [ "$used" -le 20 ] && [ "$lines" -le 4 ]; }
check "idle, it does not spin (CPU $used ticks in 1 s) or log ($lines lines)" \
    quiet
relay_stop

spawn_low
relay_up
check "ulimit -n 256 and the default --max-connections: fitted, and said" \
    contains "$tmp/relay.out" "only 256 file descriptors allowed (ulimit -n): serving at most 206 connections instead of the default 1024"
relay_stop

spawn_low --max-connections 1000
wait "$relay_pid"
status=$?
check "ulimit -n 256 and --max-connections 1000: exit 2 ($status)" \
    [ "$status" = 2 ]
check "saying what to raise or lower" contains "$tmp/relay.out" \
    "--max-connections 1000 needs 1050 file descriptors with the relay's own 50, but only 256 are allowed (ulimit -n): raise the limit (ulimit -n, or LimitNOFILE= for a service) or lower --max-connections"

# A port in use: the start says so, without guessing at certificates.
relay_spawn 0
relay_up
"$RELAY" --listen "$addr" --self-signed "$tmp/tls" --tokens "$tmp/tokens" \
    >"$tmp/second.out" 2>&1
status=$?
in_use() {
	contains "$tmp/second.out" "cannot listen on $addr: Address already in use" &&
	    ! grep -q certificate "$tmp/second.out"
}
check "a second relay on its port: exit 1 ($status), address in use" \
    [ "$status" = 1 ]
check "saying so, without guessing at a bad certificate" in_use
relay_stop
