#!/bin/sh
# relay-memory.sh: --max-memory bounds what the relay really holds (not
# only the bytes of the batches it counts), and --max-buffers what
# requests make it hold on the way. Resident memory is read from
# /proc/PID/status. TAP.
. "${top_srcdir:-.}/tests/headless-common.sh"
. "$top_srcdir/tests/relay-common.sh"
echo "1..11"
if [ "$have_python" = 0 ]; then
	for i in 1 2 3 4 5 6 7 8 9 10 11; do skip "no python3"; done
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
# a sanitizer's runtime keeps freed blocks in quarantine (hundreds of MB):
# the resident size is then its, not the relay's
if sanitized; then
	skip "resident size under a sanitizer is its quarantine's ($rss kB)"
else
	check "--max-memory 1: the relay stays small after them ($rss kB resident)" \
	    [ "$rss" -le 40000 ]
fi
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
if sanitized; then
	skip "resident size under a sanitizer is its quarantine's ($rss kB)"
else
	check "--max-memory 8: resident memory stays under 24 MB ($rss kB)" \
	    [ "$rss" -le 24000 ]
fi
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
relay_stop

# A chunked body (no Content-Length) over --max-body is read away and
# answered 413 with the limit at its end, as one with a length is at once.
relay_spawn 0 --max-body 64k
relay_up
python3 - "$addr" "$tmp/tok.a" >"$tmp/chunked.out" 2>&1 <<'PY'
import http.client, ssl, sys
host, port = sys.argv[1].rsplit(":", 1)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
c = http.client.HTTPSConnection(host, int(port), context=ctx, timeout=20)
token = open(sys.argv[2]).read().strip()
chunks = (b"\0" * 10000 for _ in range(7))
c.request("POST", "/v1/publish", body=chunks, encode_chunked=True,
          headers={"Authorization": "Bearer " + token,
                   "Transfer-Encoding": "chunked"})
r = c.getresponse()
print(r.status, r.read().decode())
PY
check "a chunked body over --max-body gets 413 with the limit" \
    contains "$tmp/chunked.out" "413 body of 70000 bytes is over the limit of 65536"
