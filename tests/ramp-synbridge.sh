#!/bin/sh
# synbridge on both ends of the RAMP UDP link: a node console (synapses
# on the simulated crossbar) and a neuron-site console (a simulated
# culture as Padova, share/sessions/ramp/padova.conf). The culture's
# spikes arrive at the node unit by unit, its synapses fire and learn, and
# their weights go back to the culture as 'S' datagrams.
. "${top_srcdir:-.}/tests/headless-common.sh"
. "${top_srcdir:-.}/tests/ramp-common.sh"
SESS="$top_srcdir/share/sessions/ramp"
echo "1..8"
need_peer 8

p_pad=$(free_port)
[ -n "$p_pad" ] || { diag "no free port"; exit 1; }
# Padova's electrodes onto each other, through the node's crossbar; no
# Zurich here (its partner address is the discard port, never used)
cat >"$tmp/node.conf" <<EOF
site southampton
load sim_memristor name=xbar rows=32 cols=32 rmin=4000 rmax=9000
load ramp role=node listen=127.0.0.1:0 a_partner=127.0.0.1:9 d_partner=127.0.0.1:$p_pad
synapse s0 padova:12 padova:16 xbar:w1b1 -r rate
synapse s1 padova:23 padova:41 xbar:w1b2 -r rate
synapse s2 padova:34 padova:5 xbar:w1b3 -r rate
synapse s3 padova:45 padova:30 xbar:w1b4 -r rate
EOF
console node "$tmp/node.conf"
node_pid=$console_pid
exec 3>"$tmp/node.in"
up=0
if wait_for 20 has_port node_port node; then
	RAMP_NODE=127.0.0.1:$(node_port node)
	RAMP_LISTEN=127.0.0.1:$p_pad
	export RAMP_NODE RAMP_LISTEN
	console padova "$SESS/padova.conf"
	pad_pid=$console_pid
	exec 4>"$tmp/padova.in"
	wait_for 20 has_port site_port padova && up=1
fi
check "the node console and the neuron-site console started" [ $up = 1 ]
[ $up = 1 ] || { diag "$(cat "$tmp"/*.err)"; exit 1; }

# Run until the node's synapses have fired and learnt for a while.
node_rows() { rows "$tmp/node/synapses.csv" 5 "$1" 2>/dev/null; }
learnt() { [ "$(($(node_rows rule-ltp) + $(node_rows rule-ltd)))" -gt 0 ]; }
wait_for 30 at_least 50 node_rows synaptic && wait_for 30 learnt
echo link >&4
echo quit >&4
exec 4>&-
wait $pad_pid
pad_status=$?
# the node has every spike the culture recorded (flushed twice a second)
n_pad=$(awk -F, 'NR > 1 && $3 == "mea"' "$tmp/padova/spikes.csv" | wc -l)
node_spikes() {
	awk -F, 'NR > 1 && $2 == "southampton" && $3 == "padova"' \
	    "$tmp/node/spikes.csv" | wc -l
}
wait_for 10 at_least "$n_pad" node_spikes
echo link >&3
echo quit >&3
exec 3>&-
wait $node_pid
node_status=$?
diag "$(link_line node)" "$(link_line padova)"
check "both consoles ended cleanly" [ "$node_status$pad_status" = 00 ]
[ "$node_status$pad_status" = 00 ] || diag "$(cat "$tmp"/*.err)"

awk -F, 'NR > 1 && $3 == "mea" { print $4 }' "$tmp/padova/spikes.csv" |
    sort -n >"$tmp/pad.units"
awk -F, 'NR > 1 && $2 == "southampton" && $3 == "padova" { print $4 }' \
    "$tmp/node/spikes.csv" | sort -n >"$tmp/node.units"
check "every culture spike reached the node with its unit ($(node_spikes) of $n_pad)" \
    cmp -s "$tmp/pad.units" "$tmp/node.units"
n=$(node_rows synaptic)
check "the node's synapses fired on them ($n weighted events)" [ "$n" -gt 0 ]
n=$(($(node_rows rule-ltp) + $(node_rows rule-ltd)))
check "post spikes from the culture drove the rate rule ($n pulses)" \
    [ "$n" -gt 0 ]
check "the node's link: nothing malformed, out of range or dropped" \
    [ -n "$(link_line node | grep 'loss unknown malformed 0 out-of-range 0 dropped 0 ')" ]
check "the culture's link got the node's 'S' datagrams" \
    [ -n "$(link_line padova | grep "malformed 0 out-of-range 0 dropped 0 .*last from 127.0.0.1:$(node_port node)$")" ]
# (a row a second: a slow start may write one before the link is up)
down_after_up() {
	awk -F, 'FNR == 1 { up = 0 } FNR > 1 && $2 ~ /\/ramp$/ {
		if ($3 == "up") up = 1; else if (up && $3 == "down") print }' \
	    "$tmp/node/links.csv" "$tmp/padova/links.csv"
}
down=$(down_after_up | wc -l)
[ "$down" = 0 ] || diag "$(down_after_up | head -5)" \
    "$(grep -h ramp "$tmp"/*.err | head -5)"
check "both links stayed up in links.csv once up ($down rows down)" \
    [ "$down" = 0 ]
