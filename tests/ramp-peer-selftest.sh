#!/bin/sh
# The emulated peers of the RAMP UDP link against each other on loopback:
# the original memristor node (Southampton) between a Zurich ('A') and a
# Padova ('D') partner, then a burst of junk, then Zurich again. Checks the
# routing of the 'S' replies, the time semantics, the rate rule on POST
# events, and that the junk is counted without stopping the node.
. "${top_srcdir:-.}/tests/headless-common.sh"
RP="$top_builddir/tests/ramp-peer"
echo "1..13"
pids=
trap 'kill $pids 2>/dev/null; [ -n "$SB_KEEP" ] || rm -rf "$tmp"' EXIT

# Zurich 0 fires at 100 Hz onto Padova 12 (LTP on 12's spontaneous APs);
# Padova 23 fires at 2 Hz onto Zurich 1 (LTD on Zurich 1's spikes).
cat >"$tmp/conn.txt" <<'EOF'
# pre, post, w, b
0, 12, 1, 1	# Zurich 0 -> Padova 12
23, 1, 2, 2	# Padova 23 -> Zurich 1
EOF

# ready NAME, summary NAME MODE: NAME's stdout has its ready line, or
# the summary line of its MODE.
ready() { grep -qs '^ready' "$tmp/$1.out"; }
summary() { grep -qs "^$2 " "$tmp/$1.out"; }
# port NAME: the port in NAME's `ready PORT` line.
port() { sed -n 's/^ready //p' "$tmp/$1.out"; }
# key NAME KEY: a value from NAME's summary line.
key() {
	awk -v k="$2=" '$1 ~ /^[a-z]+$/ && $1 != "ready" {
		for (i = 2; i <= NF; i++)
			if (index($i, k) == 1)
				print substr($i, length(k) + 1)
	}' "$tmp/$1.out"
}
# node_addr: the node's address once it is bound (for `--node -`).
node_addr() {
	wait_for 20 ready node && echo "127.0.0.1:$(port node)"
}
# finish NAME MODE PID SECONDS: wait for the summary line (the last thing
# a peer prints), TERM past the deadline; the exit status in $status.
finish() {
	if ! wait_for "$4" summary "$1" "$2"; then
		diag "$1 did not finish in $4 s, sending TERM"
		kill -TERM "$3" 2>/dev/null
	fi
	wait "$3"
	status=$?
}
# rx_after LOG T: 'S' datagrams received after monotonic time T.
rx_after() { awk -v t="$2" '$1 > t && $2 == "rx" && $3 == "S"' "$1" | wc -l; }
# at_least LOG T N: at least N 'S' datagrams received after T.
at_least() { [ "$(rx_after "$1" "$2")" -ge "$3" ]; }
# node_rx N: the node logged at least N datagrams received.
node_rx() { [ "$(awk '$2 == "rx"' "$tmp/node.log" | wc -l)" -ge "$1" ]; }

# The partners bind first and read the node's address when it is up.
node_addr | "$RP" partner --sender A --node - --listen 127.0.0.1:0 \
    --ids 0,1 --rate 100 --count 600 --duration 60 --seed 1 \
    --log "$tmp/a.log" >"$tmp/a.out" 2>"$tmp/a.err" &
a_pid=$!
node_addr | "$RP" partner --sender D --node - --listen 127.0.0.1:0 \
    --ids 12,23 --rate 2 --duration 60 --seed 2 --log "$tmp/d.log" \
    >"$tmp/d.out" 2>"$tmp/d.err" &
d_pid=$!
pids="$a_pid $d_pid"
up=0
if wait_for 20 ready a && wait_for 20 ready d; then
	"$RP" node --listen 127.0.0.1:0 \
	    --pre-partner "127.0.0.1:$(port a)" \
	    --post-partner "127.0.0.1:$(port d)" \
	    --connectivity "$tmp/conn.txt" --duration 120 \
	    --log "$tmp/node.log" >"$tmp/node.out" 2>"$tmp/node.err" &
	n_pid=$!
	pids="$pids $n_pid"
	wait_for 20 ready node && up=1
fi
check "the node and both partners bound their sockets" [ $up = 1 ]
if [ $up = 0 ]; then
	diag "$(cat "$tmp"/*.out "$tmp"/*.err)"
	exit 1
fi
np=$(port node)

# Phase 1 ends after Zurich's 600 spikes (3 s); then the junk; then
# Zurich again. The durations are only safety deadlines.
finish a partner $a_pid 30
a_status=$status
"$RP" junk --to "127.0.0.1:$np" --log "$tmp/junk.log" \
    >"$tmp/junk.out" 2>"$tmp/junk.err" &
j_pid=$!
finish junk junk $j_pid 20
j_status=$status
junk_end=$(awk 'END { print $1 }' "$tmp/junk.log")
"$RP" partner --sender A --node "127.0.0.1:$np" --listen 127.0.0.1:0 \
    --ids 0 --rate 200 --count 20 --linger 0.2 --duration 30 --seed 3 \
    --log "$tmp/a2.log" >"$tmp/a2.out" 2>"$tmp/a2.err" &
a2_pid=$!
finish a2 partner $a2_pid 40
a2_status=$status
wait_for 20 at_least "$tmp/d.log" "$junk_end" 20
kill -TERM $d_pid
finish d partner $d_pid 20
d_status=$status
# every datagram sent to the node is in its log before it is stopped
total=$(($(key a sent) + $(key a2 sent) + $(key d sent) + $(key junk sent)))
wait_for 20 node_rx $total
kill -TERM $n_pid
finish node node $n_pid 20
n_status=$status
diag "$(grep -hv '^ready' "$tmp"/node.out "$tmp"/a.out "$tmp"/d.out \
    "$tmp"/a2.out "$tmp"/junk.out)"

check "every peer ended cleanly" \
    [ "$a_status$j_status$a2_status$d_status$n_status" = 00000 ]
check "the node received every 'A' packet ($(key node A))" \
    [ "$(key node A)" = $(($(key a sent) + $(key a2 sent))) ]
check "the node received every 'D' packet ($(key node D))" \
    [ "$(key node D)" = "$(key d sent)" ]
check "'S' for Zurich's PRE neuron 0 went to the postsynaptic partner" \
    [ "$(key d ids)" = 12 -a \
    "$(key node s_to_post)" = $(($(key a sent_0) + $(key a2 sent_0))) ]
check "'S' for Padova's PRE neuron 23 went to the presynaptic partner" \
    [ "$(key a ids)" = 1 -a "$(key node s_to_pre)" = "$(key d sent_23)" \
    -a "$(key d sent_23)" -gt 0 ]
check "the replies are clean 8-byte 'S' packets with 20-bit fields" \
    [ "$(key a bad)$(key a high_bits)$(key d bad)$(key d high_bits)" = 0000 ]
check "the rule ran on POST events only ($(key node evals))" \
    [ "$(key node evals)" = $(($(key a sent_1) + $(key d sent_12))) ]
check "a pre firing at 100 Hz potentiated (weight up from 127)" \
    [ "$(key node ltp_0_12)" -gt 0 -a "$(key d weights_max)" -gt 127 ]
check "a pre firing at 2 Hz depressed, never potentiated" \
    [ "$(key node ltd_23_1)" -gt 0 -a "$(key node ltp_23_1)" = 0 \
    -a "$(key a weights_min)" -lt 127 ]
# t_abs is the sum of Zurich's relative times (junk never moved it), and
# the last 'S' Padova got carries it masked to 20 bits
sum=$(cat "$tmp/a.log" "$tmp/a2.log" |
    awk '$2 == "tx" && $3 == "A" { s += $6 } END { print s + 0 }')
last=$(awk '$2 == "rx" && $3 == "S" { t = $6 } END { print t + 0 }' \
    "$tmp/d.log")
check "t_abs ($(key node t_abs)) is the sum of Zurich's intervals" \
    [ "$(key node t_abs)" = "$sum" -a "$last" = $((sum % 1048576)) ]
check "the junk was counted, not processed" \
    [ "$(key node malformed)" = "$(key junk expect_malformed)" -a \
    "$(key node unknown_sender)" = "$(key junk expect_unknown_sender)" -a \
    "$(key node out_of_range)" = "$(key junk expect_out_of_range)" -a \
    "$(key junk sent)" = 17 ]
check "the node kept answering after the junk" \
    [ "$(rx_after "$tmp/d.log" "$junk_end")" = 20 ]
