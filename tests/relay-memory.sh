#!/bin/sh
# relay-memory.sh: --max-memory bounds what the relay really holds (not
# only the bytes of the batches it counts), and --max-buffers what
# requests make it hold on the way. Resident memory is read from
# /proc/PID/status. TAP.
. "${top_srcdir:-.}/tests/headless-common.sh"
. "$top_srcdir/tests/relay-common.sh"
echo "1..10"
if [ "$have_python" = 0 ]; then
	for i in 1 2 3 4 5 6 7 8 9 10; do skip "no python3"; done
	exit 0
fi
trap 'relay_stop; rm -rf "$tmp"' EXIT
relay_tokens "a m * */* -" "b m * */* -"
printf 's 1\n' >"$tmp/streams"

# Bodies that hold one new empty batch and 250 copies of a stored batch
# of 5000 spikes (15 MB): duplicates used to pin their whole body.
relay_spawn 0 --max-memory 1
relay_up
poke request POST /v1/streams "$tmp/tok.a" "$tmp/streams" >/dev/null
"$BODY" 1 1 1 5000 >"$tmp/big"
"$BODY" 1 1 0 0 1 5000 250 >"$tmp/dups"
bodies=
for k in $(seq 2 17); do
	"$BODY" 1 "$k" 1 0 >"$tmp/t.$k"
	bodies="$bodies $tmp/t.$k+$tmp/dups"
done
# shellcheck disable=SC2086
poke publish "$tmp/tok.a" "$tmp/big" $bodies >"$tmp/pub.out"
check "16 bodies of 15 MB, mostly duplicates, are taken" \
    contains "$tmp/pub.out" "published 17: 1 17"
rss=$(rss_kb)
check "--max-memory 1: the relay stays small after them ($rss kB resident)" \
    [ "$rss" -le 40000 ]
mem=$(poke metric synbridge_relay_memory_bytes)
check "the memory it counts is within --max-memory ($mem bytes)" \
    [ "$mem" -le 1048576 ]
relay_stop

# Empty batches: their own cost (the bookkeeping per batch) is counted.
relay_spawn 0 --max-memory 8
relay_up
poke request POST /v1/streams "$tmp/tok.a" "$tmp/streams" >/dev/null
for k in 0 1 2 3; do
	"$BODY" 1 $((1 + k * 349000)) 349000 0 >"$tmp/e.$k"
done
poke publish "$tmp/tok.a" "$tmp/e.0" "$tmp/e.1" "$tmp/e.2" "$tmp/e.3" \
    >"$tmp/pub.out"
check "1396000 empty batches are taken" \
    contains "$tmp/pub.out" "published 4: 1 1396000"
rss=$(rss_kb)
check "--max-memory 8: resident memory stays under 24 MB ($rss kB)" \
    [ "$rss" -le 24000 ]
rm -f "$tmp"/e.* "$tmp/dups"
relay_stop

# --max-buffers: bodies and reads take from one budget; past it, 503.
relay_spawn 0 --max-buffers 1
relay_up
poke request POST /v1/streams "$tmp/tok.a" "$tmp/streams" >/dev/null
"$BODY" 1 1 1 170000 >"$tmp/2mb"
"$BODY" 1 1 1 40000 >"$tmp/half"
"$BODY" 1 2 1 40000 >"$tmp/half2"
poke publish "$tmp/tok.a" "$tmp/2mb" >"$tmp/pub.out"
check "--max-buffers 1: a 2 MB body could never fit: 413 with the limit" \
    contains "$tmp/pub.out" "413 body of 2040048 bytes is over the limit of 967908"
poke publish "$tmp/tok.a" "$tmp/half" >"$tmp/pub.out"
check "a 0.5 MB body is taken" contains "$tmp/pub.out" "published 1: 1 1"
# Each open read holds one 64 KiB block: 16 fill 1 MB.
mkfifo "$tmp/hold.in"
poke hold 16 "/v1/read?streams=1:0" "$tmp/tok.b" <"$tmp/hold.in" \
    >"$tmp/hold.out" 2>&1 &
hold_pid=$!
exec 7>"$tmp/hold.in"
held() { grep -q '^held 16' "$tmp/hold.out"; }
wait_for 20 held || diag "$(cat "$tmp/hold.out")"
poke request GET "/v1/read?streams=1:0&wait=0" "$tmp/tok.b" \
    >"$tmp/read.out" 2>&1
check "with 16 reads open, the 17th gets 503" \
    contains "$tmp/read.out" "503"
poke publish "$tmp/tok.a" "$tmp/half2" >"$tmp/pub.out"
check "and a publish gets 503 with Retry-After: 1" \
    contains "$tmp/pub.out" "Retry-After: 1"
exec 7>&-
wait "$hold_pid"
read_ok() {
	poke request GET "/v1/read?streams=1:0&wait=0" "$tmp/tok.b" \
	    >"$tmp/read.out" 2>&1 && [ "$(head -1 "$tmp/read.out")" = 200 ]
}
check "once they end, reads are served again" wait_for 10 read_ok
