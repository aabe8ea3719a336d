#!/bin/sh
# Two synbridge neuron sites on the original RAMP UDP link: a simulated
# culture as Padova ('D', share/sessions/ramp/padova.conf) and simulated
# silicon neurons as Zurich ('A'), against an emulated original memristor
# node. Spikes reach the node with their units, the node's clock is the
# sum of Zurich's intervals, and the node's 'S' weights come back to
# the site that owns each post unit. (The emulated node reads slower
# than a culture's bursts arrive: some datagrams overflow its receive
# buffer, as UDP allows; what arrives must be right.)
. "${top_srcdir:-.}/tests/headless-common.sh"
. "${top_srcdir:-.}/tests/ramp-common.sh"
SESS="$top_srcdir/share/sessions/ramp"
echo "1..9"
need_peer 9

# The node must know both sites' ports when it starts, and the sites the
# node's: three free ports, chosen up front.
p_node=$(free_port)
p_pad=$(free_port)
p_zur=$(free_port)
[ -n "$p_node" ] && [ -n "$p_pad" ] && [ -n "$p_zur" ] &&
    [ "$p_node" != "$p_pad" ] && [ "$p_node" != "$p_zur" ] &&
    [ "$p_pad" != "$p_zur" ] || { diag "no free ports"; exit 1; }

# The original's file: each line applies to either sender's pre id.
cat >"$tmp/conn.txt" <<'EOF'
# pre, post, w, b
12, 0, 1, 1
23, 0, 1, 2
34, 0, 1, 3
0, 16, 2, 1
0, 41, 2, 2
EOF
"$RP" node --listen "127.0.0.1:$p_node" --pre-partner "127.0.0.1:$p_zur" \
    --post-partner "127.0.0.1:$p_pad" --connectivity "$tmp/conn.txt" \
    --duration 60 --log "$tmp/rnode.log" >"$tmp/rnode.out" \
    2>"$tmp/rnode.err" &
rnode_pid=$!
pids=$rnode_pid
wait_for 20 ready rnode || { diag "$(cat "$tmp/rnode.err")"; exit 1; }

cat >"$tmp/zurich.conf" <<EOF
site zurich
load sim_silicon name=silicon chips=1 cores=1 bias_pa=620
load ramp role=neurons population=silicon sender=A node=127.0.0.1:$p_node listen=127.0.0.1:$p_zur
EOF
RAMP_NODE=127.0.0.1:$p_node RAMP_LISTEN=127.0.0.1:$p_pad
export RAMP_NODE RAMP_LISTEN
console padova "$SESS/padova.conf"
pad_pid=$console_pid
exec 3>"$tmp/padova.in"
console zurich "$tmp/zurich.conf"
zur_pid=$console_pid
exec 4>"$tmp/zurich.in"
up=0
wait_for 20 has_port site_port padova && wait_for 20 has_port site_port zurich &&
    up=1
check "the emulated node and both neuron sites started" [ $up = 1 ]
[ $up = 1 ] || { diag "$(cat "$tmp"/*.err)"; exit 1; }

# Run until the node has answered both sites for a while and each site
# has logged its link twice.
node_tx() { awk '$2 == "tx" && $3 == "S"' "$tmp/rnode.log" | wc -l; }
node_rx() { awk -v s="$1" '$2 == "rx" && $3 == s' "$tmp/rnode.log" | wc -l; }
link_rows() {
	awk -F, -v l="$1/ramp" 'NR > 1 && $2 == l && $3 == "up"' \
	    "$tmp/$1/links.csv" 2>/dev/null | wc -l
}
wait_for 30 at_least 200 node_rx A && wait_for 30 at_least 100 node_rx D &&
    wait_for 30 at_least 100 node_tx && wait_for 30 at_least 2 link_rows padova &&
    wait_for 30 at_least 2 link_rows zurich
for fd in 3 4; do
	echo link >&$fd
	echo quit >&$fd
done
exec 3>&- 4>&-
wait $pad_pid
pad_status=$?
wait $zur_pid
zur_status=$?
# what the sites sent is in their spikes.csv; the node has it all
spikes() { awk -F, -v p="$1" 'NR > 1 && $3 == p' "$2" | wc -l; }
n_pad=$(spikes mea "$tmp/padova/spikes.csv")
n_zur=$(spikes silicon "$tmp/zurich/spikes.csv")
wait_for 10 at_least "$n_zur" node_rx A
kill -TERM $rnode_pid
finish rnode node $rnode_pid 20
rnode_status=$status
diag "$(cat "$tmp/rnode.out")" "$(link_line padova)" "$(link_line zurich)"
check "the sites and the node ended cleanly" \
    [ "$pad_status$zur_status$rnode_status" = 000 ]

# unit by unit, what each site recorded is what the node received; a
# burst of the culture can overflow the emulated node's receive buffer
# (UDP: the kernel drops, nobody retransmits), so every datagram must be
# a recorded spike of its unit, and many must have arrived
counts() {
	if [ "$1" = csv ]; then
		awk -F, -v p="$2" 'NR > 1 && $3 == p { print $4 }' "$3"
	else
		awk -v s="$2" '$2 == "rx" && $3 == s { print $4 }' "$3"
	fi | sort -n | uniq -c
}
# within RECORDED WIRE ALL: WIRE's counts never exceed RECORDED's, and
# WIRE holds at least a quarter of ALL
within() {
	awk -v all="$3" 'NR == FNR { rec[$2] = $1; next }
	    { n += $1; if (!($2 in rec) || $1 > rec[$2]) bad++ }
	    END { exit !(bad == 0 && n >= all / 4) }' "$1" "$2"
}
counts csv mea "$tmp/padova/spikes.csv" >"$tmp/pad.units"
counts log D "$tmp/rnode.log" >"$tmp/pad.wire"
counts csv silicon "$tmp/zurich/spikes.csv" >"$tmp/zur.units"
counts log A "$tmp/rnode.log" >"$tmp/zur.wire"
check "the node's 'D' are the culture's spikes, unit by unit ($(node_rx D) of $n_pad arrived)" \
    within "$tmp/pad.units" "$tmp/pad.wire" "$n_pad"
check "the node's 'A' are the silicon spikes, unit by unit ($(node_rx A) of $n_zur arrived)" \
    within "$tmp/zur.units" "$tmp/zur.wire" "$n_zur"

# 'A' times are intervals since the previous datagram: the node's clock
# is the time of Zurich's last spike since the link was loaded (its load
# in commands.csv: a slow, sanitized start may take tens of ms to it)
last=$(tail -n 1 "$tmp/zurich/spikes.csv" | cut -d, -f1)
loaded=$(awk -F, '$4 ~ /^load ramp / { print $1; exit }' \
    "$tmp/zurich/commands.csv")
check "the node's clock ($(key rnode t_abs) ticks) is Zurich's last spike time ($last s) since the link was loaded (${loaded:-?} s)" \
    awk -v t="$last" -v l="${loaded:-x}" -v n="$(key rnode t_abs)" \
    'BEGIN { d = n * 0.00005 - (t - l)
	exit !(l ~ /^[0-9.]+$/ && n > 0 && d < 0.05 && d > -0.05) }'
check "'D' aux: spontaneous APs are 2, stimulus-evoked ones 1, never 0" \
    [ "$(awk '$2 == "rx" && $3 == "D" && $5 != 1 && $5 != 2' \
    "$tmp/rnode.log" | wc -l)" = 0 -a \
    "$(awk '$2 == "rx" && $3 == "D" && $5 == 2' "$tmp/rnode.log" |
    wc -l)" -gt 0 ]
check "the node sent weights to both sites ($(key rnode s_to_pre) to Zurich, $(key rnode s_to_post) to Padova)" \
    [ "$(key rnode s_to_pre)" -gt 0 -a "$(key rnode s_to_post)" -gt 0 ]
check "both sites' links saw the node's 'S' and nothing malformed" \
    [ -n "$(link_line padova | grep "malformed 0 out-of-range 0 dropped 0 .*last from 127.0.0.1:$p_node$")" -a \
    -n "$(link_line zurich | grep "malformed 0 out-of-range 0 dropped 0 .*last from 127.0.0.1:$p_node$")" ]
down=$(awk -F, 'NR > 1 && $2 ~ /\/ramp$/ && $3 == "down"' \
    "$tmp/padova/links.csv" "$tmp/zurich/links.csv" | wc -l)
check "both sites logged their ramp link up in links.csv, never down" \
    [ "$(link_rows padova)" -ge 2 -a "$(link_rows zurich)" -ge 2 -a \
    "$down" = 0 ]
