#!/bin/sh
# Malformed datagrams at a synbridge memristor node (the emulator's junk:
# wrong lengths, unknown senders, ids out of range, an 'S' sent to the
# node, ready datagrams) while an emulated Padova partner talks to it:
# each is counted, each cause said once, and the link and the session go
# on answering.
. "${top_srcdir:-.}/tests/headless-common.sh"
. "${top_srcdir:-.}/tests/ramp-common.sh"
echo "1..9"
need_peer 9

node_addr node | "$RP" partner --sender D --node - --listen 127.0.0.1:0 \
    --ids 12,23,16 --rate 20 --count 300 --linger 1 --duration 40 \
    --seed 4 --log "$tmp/d.log" >"$tmp/d.out" 2>"$tmp/d.err" &
d_pid=$!
pids=$d_pid
up=0
if wait_for 20 ready d; then
	cat >"$tmp/node.conf" <<-EOF
	site southampton
	load sim_memristor name=xbar rows=32 cols=32 rmin=4000 rmax=9000
	load ramp role=node listen=127.0.0.1:0 a_partner=127.0.0.1:9 d_partner=127.0.0.1:$(port d)
	synapse s0 padova:12 padova:16 xbar:w1b1 -r rate
	synapse s1 padova:23 padova:16 xbar:w1b2 -r rate
	EOF
	console node "$tmp/node.conf"
	node_pid=$console_pid
	exec 3>"$tmp/node.in"
	wait_for 20 has_port node_port node && up=1
fi
check "the node console and the partner started" [ $up = 1 ]
[ $up = 1 ] || { diag "$(cat "$tmp"/*.out "$tmp"/*.err)"; exit 1; }

# junk once the partner is being answered, then answers again after it
wait_for 20 at_least 10 rx_s "$tmp/d.log"
"$RP" junk --to "127.0.0.1:$(node_port node)" --log "$tmp/junk.log" \
    >"$tmp/junk.out" 2>"$tmp/junk.err" &
j_pid=$!
finish junk junk $j_pid 20
j_status=$status
junk_end=$(awk 'END { print $1 }' "$tmp/junk.log")
wait_for 20 at_least 10 rx_s_after "$tmp/d.log" "$junk_end"
after=$(rx_s_after "$tmp/d.log" "$junk_end")
# links.csv's device columns: malformed + out_of_range of the last ramp
# row (a row a second); wait for one written after the junk
junk_sent=$(($(key junk empty) + $(key junk short) + $(key junk long) + \
    $(key junk unknown_sender) + $(key junk s_packet) + \
    $(key junk out_of_range)))
csv_bad() {
	awk -F, 'NR > 1 && $2 == "southampton/ramp" { n = $14 + $15 }
	    END { print n + 0 }' "$tmp/node/links.csv" 2>/dev/null
}
wait_for 10 at_least "$junk_sent" csv_bad
echo link >&3
echo quit >&3
exec 3>&-
wait $node_pid
node_status=$?
finish d partner $d_pid 40
d_status=$status
diag "$(cat "$tmp/junk.out")" "$(link_line node)"
check "the node, the partner and the junk sender ended cleanly" \
    [ "$node_status$d_status$j_status" = 000 ]

# the node counts wrong lengths, unknown senders and an 'S' as malformed,
# ids beyond its populations as out of range, ready datagrams as neither
bad=$(($(key junk empty) + $(key junk short) + $(key junk long) + \
    $(key junk unknown_sender) + $(key junk s_packet) + \
    $(key junk out_of_range)))
got=$(($(link_field node malformed) + $(link_field node out-of-range)))
check "every bad datagram was counted ($got of $bad: malformed $(link_field node malformed), out of range $(link_field node out-of-range))" \
    [ "$got" = "$bad" -a "$(link_field node malformed)" -gt 0 ]
# every ramp row fills the rates and counts (age once the partner is
# heard); the counts never go down and reach what the link said
csv_ok() {
	awk -F, -v m="$(link_field node malformed)" \
	    -v r="$(link_field node out-of-range)" '
	NR > 1 && $2 == "southampton/ramp" {
		if ($12 == "" || $13 == "" || $14 == "" || $15 == "" ||
		    $14 < pm || $15 < pr || NF != 16)
			wrong++
		pm = $14; pr = $15; n++
		if ($16 != "") aged++
	}
	END { exit !(!wrong && n >= 2 && aged >= 1 && pm == m && pr == r) }' \
	    "$tmp/node/links.csv"
}
check "links.csv records the counts in malformed and out_of_range ($(csv_bad) of $bad), rates and age" \
    csv_ok
# once PATTERN...: each pattern is on exactly one line of the console's
# messages
once() {
	for pattern; do
		[ "$(grep -c "$pattern" "$tmp/node.err")" = 1 ] || return 1
	done
}
check "each cause was said once on the console" \
    once "ramp: datagram of .* bytes from 127.0.0.1:" \
    "with unknown sender .* ignored" \
    "ramp: 'S' datagram from 127.0.0.1:.* only the node sends 'S'"
check "ready datagrams were taken as ready, said once" \
    once "ramp: ready"
check "the node kept answering after the junk ($after 'S')" [ "$after" -ge 10 ]
check "the partner's replies stayed clean 8-byte 'S' datagrams" \
    [ "$(key d bad)$(key d high_bits)$(key d ids)" = 0016 ]
down=$(awk -F, 'NR > 1 && $2 == "southampton/ramp" && $3 == "down"' \
    "$tmp/node/links.csv" | wc -l)
check "the link stayed up ($(link_line node | cut -d' ' -f2))" \
    [ "$down" = 0 -a "$(link_line node | cut -d' ' -f2)" = up ]
