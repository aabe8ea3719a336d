#!/bin/sh
# relay-backoff.sh: a relay that is away is retried politely. Behind the
# relay's address a listener takes each TCP connection and closes it at
# once (a relay restarting, a middlebox): over 12 s one console opens a
# handful of connections with growing gaps (capped exponential backoff,
# link-wide), not a few per second per kind of request. Then the real
# relay comes back on that address and the console links up by itself
# within the backoff's cap. TAP.
. "${top_srcdir:-.}/tests/headless-common.sh"
. "$top_srcdir/tests/relay-common.sh"
echo "1..4"
if [ "$have_python" = 0 ]; then
	for i in 1 2 3 4; do skip "python3 is needed"; done
	exit 0
fi

relay_tokens "b bk * */* -"
# the relay once, for its port and pin; then a listener that only closes
relay_spawn 0
pids="$relay_pid"
trap 'kill -9 $pids 2>/dev/null; [ -n "$SB_KEEP" ] || rm -rf "$tmp"' EXIT
relay_up
kill "$relay_pid"
wait "$relay_pid"
python3 -c '
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(64)
print("ready", flush=True)
while True:
    c, _ = s.accept()
    print("%.3f" % time.monotonic(), flush=True)
    c.close()
' "$port" >"$tmp/conns" 2>&1 &
closer_pid=$!
pids="$pids $closer_pid"
closer_ready() { grep -q ready "$tmp/conns"; }
wait_for 10 closer_ready
{
	echo "site b"
	echo "load relay url=https://$addr token_file=$tmp/tok.b pin=$pin"
} >"$tmp/b.conf"
"$SB" --headless --plugin-dir "$PLUGDIR" -c "$tmp/b.conf" \
    --log-dir "$tmp/b" --duration 120 </dev/null >"$tmp/b.out" 2>&1 &
b_pid=$!
pids="$pids $b_pid"
# 12 s of the listener's clock from the first connection
conns() { grep -c '^[0-9]' "$tmp/conns"; }
first_conn() { [ "$(conns)" -ge 1 ]; }
wait_for 20 first_conn
t0=$(grep -m1 '^[0-9]' "$tmp/conns")
span_done() {
	python3 -c 'import sys, time; sys.exit(time.monotonic() < float(sys.argv[1]) + 12)' "$t0"
}
wait_for 30 span_done
n=$(conns)
gaps=$(awk '/^[0-9]/ { if (p != "") printf "%.2f ", $1 - p; p = $1 }' "$tmp/conns")
diag "$n connections in 12 s; gaps (s): $gaps"
check "12 s of a relay away cost at most 12 connections ($n)" [ "$n" -le 12 ]
last_gap=$(echo "$gaps" | awk '{ print $NF }')
check "the gaps grow to seconds (last $last_gap s)" \
    awk -v g="${last_gap:-0}" 'BEGIN { exit !(g >= 1.5) }'

# the relay comes back where it was
kill "$closer_pid"
wait "$closer_pid" 2>/dev/null
rows0=$(wc -l <"$tmp/b/links.csv" 2>/dev/null || echo 0)
relay_spawn "$port"
pids="$pids $relay_pid"
relay_up
# linked again: a row written since says up, or degraded (an exchange
# succeeded in the last 3 s, but the failures of the last 10 s, or a slow
# first round trip on a busy machine, still count against it)
since() { tail -n +"$((rows0 + 1))" "$tmp/b/links.csv" 2>/dev/null; }
up() { since | grep -q ',\(up\|degraded\),'; }
back=$(date +%s)
check "the console links up again by itself" wait_for 30 up
diag "linked up $(($(date +%s) - back)) s after the relay came back" \
    "$(since | tail -2)"
check "and says what failed meanwhile" contains "$tmp/b.out" "relay: https://$addr"
kill "$b_pid"
wait "$b_pid"
