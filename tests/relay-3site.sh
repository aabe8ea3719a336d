#!/bin/sh
# The hybrid-3site experiment as three consoles (one per site, each with
# its own session file and token) linked through a real synbridge-relay
# over HTTPS on loopback: spikes cross in both directions, the memristor
# site routes and learns, a remote command runs where the device is.
. "${top_srcdir:-.}/tests/headless-common.sh"
. "$top_srcdir/tests/relay-common.sh"
SESS="$top_srcdir/share/sessions/hybrid-3site"
echo "1..13"

relay_tokens "padova t3 * southampton/* southampton" \
    "southampton t3 * */* padova,zurich" \
    "zurich t3 * southampton/* southampton"
relay_spawn 0
trap 'kill $relay_pid 2>/dev/null; [ -n "$SB_KEEP" ] || rm -rf "$tmp"' EXIT
relay_up
SYNBRIDGE_RELAY="https://$addr"
SYNBRIDGE_RELAY_PIN=$pin
export SYNBRIDGE_RELAY SYNBRIDGE_RELAY_PIN

# padova asks southampton, which owns the device, for two pulses
cat >"$tmp/padova.x" <<'X'
wait 4
at southampton potentiate s0 -n 2
wait 3
synapses
potentiate s1 -n 1
X
start() {
	site=$1
	shift
	SYNBRIDGE_TOKEN_FILE="$tmp/tok.$site" "$SB" --headless \
	    -c "$SESS/$site.conf" --log-dir "$tmp/$site" --duration 10 "$@" \
	    </dev/null >"$tmp/$site.out" 2>"$tmp/$site.err" &
}
start southampton
soton=$!
start zurich
zurich=$!
start padova -x "$tmp/padova.x"
padova=$!
ok=0
wait $soton && wait $zurich && wait $padova && ok=1
check "three consoles ran their sessions through the relay" [ $ok = 1 ]
[ $ok = 1 ] || diag "$(cat "$tmp"/*.err)"

rows() { awk -F, -v c="$2" -v v="$3" 'NR > 1 && $c == v' "$1" | wc -l; }
n=$(rows "$tmp/southampton/spikes.csv" 2 padova)
check "southampton recorded padova's culture spikes ($n)" [ "$n" -gt 20 ]
n=$(rows "$tmp/southampton/synapses.csv" 5 synaptic)
check "southampton's synapses turned them into weighted events ($n)" \
    [ "$n" -gt 5 ]
n=$(($(rows "$tmp/southampton/synapses.csv" 5 rule-ltd) + \
    $(rows "$tmp/southampton/synapses.csv" 5 rule-ltp)))
check "post spikes from other sites drove the rate rule ($n pulses)" \
    [ "$n" -gt 0 ]
check "the remote potentiate came back with G before and after" \
    contains "$tmp/padova.out" "southampton: s0: potentiate 2 x +4.00 V"
check "southampton's audit log shows who asked" \
    contains "$tmp/southampton/commands.csv" "@padova,potentiate s0 -n 2,ok"
check "padova's console shows southampton's synapses" \
    contains "$tmp/padova.out" \
    "s5 zurich/silicon:0 -> padova/mea:41 at southampton G"
# weights as southampton computes them: from R over 4-9 kOhm (G to 3
# decimals here, so within 1)
weighed() {
	awk '/ at southampton G / {
		for (i = 1; i < NF; i++) {
			if ($i == "G") g = $(i + 1)
			if ($i == "weight") w = $(i + 1)
		}
		want = 255 * (1e6 / g - 4000) / 5000
		want = want < 0 ? 0 : want > 255 ? 255 : want
		if (w - want > 1 || want - w > 1) bad++
		n++
	} END { exit !(n == 6 && bad == 0) }' "$1"
}
check "padova weighs southampton's synapses as southampton does (from R)" \
    weighed "$tmp/padova.out"
check "a pulse typed at padova on s1 ran where the device is" \
    contains "$tmp/padova.out" "southampton: s1: potentiate 1 x +4.00 V"
# the link worked all along: rows every second, never down after start
# (its own relay link's rows: the other sites' rows, "SITE/OTHER via
# relay", are down until the other consoles come)
linked=0
for site in padova southampton zurich; do
	n=$(awk -F, 'NR > 1 && $1 > 1 && $2 ~ /\/relay / && $3 != "down"' \
	    "$tmp/$site/links.csv" | wc -l)
	down=$(awk -F, 'NR > 1 && $1 > 1 && $2 ~ /\/relay / && $3 == "down"' \
	    "$tmp/$site/links.csv" | wc -l)
	[ "$n" -ge 5 ] && [ "$down" -eq 0 ] && linked=$((linked + 1))
done
check "every site's link stayed up (or degraded), logged in links.csv" \
    [ $linked = 3 ]
# relay rows leave the device columns empty (rates, malformed,
# out_of_range) and fill age_s once a batch came
relay_rows() {
	for site in padova southampton zurich; do
		awk -F, 'NR > 1 {
			if (NF != 16 || $12 != "" || $13 != "" ||
			    $14 != "" || $15 != "")
				wrong++
			if ($16 != "") aged++
		}
		END { exit !(!wrong && aged >= 5) }' \
		    "$tmp/$site/links.csv" || return 1
	done
}
check "links.csv: relay rows fill age_s, not the device columns" relay_rows
# and each console saw the other two sites' consoles there
others_up() {
	for site in padova southampton zurich; do
		for other in padova southampton zurich; do
			[ "$other" = "$site" ] && continue
			grep -q "^[0-9.]*,$site/$other via relay,up," \
			    "$tmp/$site/links.csv" || return 1
		done
	done
}
check "links.csv: each site shows the other two sites' consoles up" others_up
# times are session time: remote spikes land in the same time range (a
# few seconds past the duration at most, as the three consoles start one
# after another, slowly on a loaded machine; never the thousands of
# seconds of a machine's own clock)
last=$(tail -n 1 "$tmp/southampton/spikes.csv" | cut -d, -f1)
check "session clock: spike times run from 0 to about the duration ($last s)" \
    awk -v t="$last" 'BEGIN { exit !(t > 2 && t < 20) }'
