#!/bin/sh
# A synbridge memristor node (share/sessions/ramp/node.conf: synapses on
# the simulated crossbar, the example connectivity file) serving two
# emulated partner labs of the original RAMP UDP link, Zurich ('A') and
# Padova ('D'): every spike arrives, weights go back as 'S' datagrams to
# the lab that owns the post unit, post spikes drive the rate rule.
. "${top_srcdir:-.}/tests/headless-common.sh"
. "${top_srcdir:-.}/tests/ramp-common.sh"
SESS="$top_srcdir/share/sessions/ramp"
echo "1..13"
need_peer 13

# The partners bind first; they start sending once the node is up.
node_addr node | "$RP" partner --sender A --node - --listen 127.0.0.1:0 \
    --ids 0 --rate 40 --count 160 --linger 2 --duration 40 --seed 1 \
    --log "$tmp/a.log" >"$tmp/a.out" 2>"$tmp/a.err" &
a_pid=$!
node_addr node | "$RP" partner --sender D --node - --listen 127.0.0.1:0 \
    --ids 12,23,34,45,16,41 --rate 25 --count 600 --linger 2 \
    --duration 40 --seed 2 --log "$tmp/d.log" >"$tmp/d.out" \
    2>"$tmp/d.err" &
d_pid=$!
pids="$a_pid $d_pid"
up=0
if wait_for 20 ready a && wait_for 20 ready d; then
	RAMP_LISTEN=127.0.0.1:0
	RAMP_ZURICH=127.0.0.1:$(port a)
	RAMP_PADOVA=127.0.0.1:$(port d)
	RAMP_CONNECTIVITY=$SESS/connectivity.txt
	export RAMP_LISTEN RAMP_ZURICH RAMP_PADOVA RAMP_CONNECTIVITY
	console node "$SESS/node.conf"
	node_pid=$console_pid
	exec 3>"$tmp/node.in"
	wait_for 20 has_port node_port node && up=1
fi
check "the node console and both partners started" [ $up = 1 ]
if [ $up = 0 ]; then
	diag "$(cat "$tmp"/*.out "$tmp"/*.err)"
	exit 1
fi

finish a partner $a_pid 40
a_status=$status
finish d partner $d_pid 40
d_status=$status
echo link >&3
echo quit >&3
exec 3>&-
wait $node_pid
node_status=$?
diag "$(grep -hv '^ready' "$tmp/a.out" "$tmp/d.out")" "$(link_line node)"
check "the partners and the console ended cleanly" \
    [ "$a_status$d_status$node_status" = 000 ]
[ "$node_status" = 0 ] || diag "$(cat "$tmp/node.err")"

csv="$tmp/node"
na=$(awk -F, 'NR > 1 && $2 == "southampton" && $3 == "zurich"' \
    "$csv/spikes.csv" | wc -l)
nd=$(awk -F, 'NR > 1 && $2 == "southampton" && $3 == "padova"' \
    "$csv/spikes.csv" | wc -l)
check "every 'A' and 'D' spike became a spike of zurich ($na) and padova ($nd)" \
    [ "$na" = "$(key a sent)" -a "$nd" = "$(key d sent)" ]

pre_d=$(($(key d sent_12) + $(key d sent_23) + $(key d sent_34) + \
    $(key d sent_45)))
check "Padova's pre spikes came back to Zurich as 'S' for unit 0 ($(rx_s "$tmp/a.log") of $pre_d)" \
    [ "$(key a ids)" = 0 -a "$(rx_s "$tmp/a.log")" = "$pre_d" ]
check "Zurich's pre spikes came back to Padova as 'S' for 16 and 41 ($(key d ids))" \
    [ "$(key d ids)" = 16,41 -a \
    "$(rx_s "$tmp/d.log")" = $((2 * $(key a sent))) ]
check "the replies are clean 8-byte 'S' datagrams with 20-bit fields" \
    [ "$(key a bad)$(key a high_bits)$(key d bad)$(key d high_bits)" = 0000 ]

# 'S' carry the original's clock: the sum of Zurich's intervals, 20 bits
sum=$(awk '$2 == "tx" && $3 == "A" { s += $6 } END { print s + 0 }' \
    "$tmp/a.log")
last=$(awk '$2 == "rx" && $3 == "S" { t = $6 } END { print t + 0 }' \
    "$tmp/d.log")
check "the last 'S' carries Zurich's intervals added up, in 20 bits ($last)" \
    [ "$last" = $((sum % 1048576)) -a "$sum" -gt 0 ]

# the weights on the wire are the synaptic events' weights, one for one
awk -F, 'NR > 1 && $5 == "synaptic" && $4 == "southampton/zurich:0" {
	print $11 }' "$csv/synapses.csv" | sort -n >"$tmp/w.csv"
awk '$2 == "rx" && $3 == "S" { print $5 }' "$tmp/a.log" | sort -n \
    >"$tmp/w.wire"
check "the weights Zurich got are the synapses' weights ($(key a weights_min)-$(key a weights_max))" \
    cmp -s "$tmp/w.csv" "$tmp/w.wire"

n=$(($(rows "$csv/synapses.csv" 5 rule-ltp) + \
    $(rows "$csv/synapses.csv" 5 rule-ltd)))
check "post spikes from the partners drove the rate rule ($n pulses)" \
    [ "$n" -gt 0 ]
# (degraded is fine: a link that has heard nothing for 5 s says so)
down=$(awk -F, 'NR > 1 && $2 == "southampton/ramp" && $3 == "down"' \
    "$csv/links.csv" | wc -l)
up=$(awk -F, 'NR > 1 && $2 == "southampton/ramp" && $3 == "up" &&
    $8 == ""' "$csv/links.csv" | wc -l)
check "links.csv: the link was never down ($up rows up), loss unknown (empty)" \
    [ "$up" -ge 3 -a "$down" = 0 ]
check "link: no malformed, out-of-range or dropped datagrams, loss unknown" \
    contains "$tmp/node.out" \
    "loss unknown malformed 0 out-of-range 0 dropped 0 last"
check "link: the detail names the role and the last sender" \
    contains "$tmp/node.out" "node role on 127.0.0.1:$(node_port node), 2 partners, last from 127.0.0.1:"

# A connectivity line the device set cannot take: the error names the
# file and line it came from, not only the load line.
printf '# pre, post, w, b, who is pre\n12, 0, 1, 1, d\n23, 0, 40, 1, d\n' \
    >"$tmp/bad-conn.txt"
printf '%s\n' "site southampton" \
    "load sim_memristor name=xbar rows=32 cols=32" \
    "load ramp name=ramp role=node listen=127.0.0.1:0 a_partner=127.0.0.1:9 d_partner=127.0.0.1:9 connectivity=$tmp/bad-conn.txt device=xbar" \
    >"$tmp/bad.conf"
"$SB" --headless -c "$tmp/bad.conf" --duration 0 >"$tmp/bad.out" \
    2>"$tmp/bad.err"
check "a bad connectivity line is reported at its FILE:LINE" \
    contains "$tmp/bad.err" "bad-conn.txt:3: synapse:"
