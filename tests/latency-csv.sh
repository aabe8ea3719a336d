#!/bin/sh
# The loop's latency as an experimenter sees it: the demo in real time
# (three sites, every event through a relay on loopback) writes
# latency.csv with a row a second per path: spikes from their source to
# the synaptic input at the post unit per synapse, typed reads to the
# device and back and beyond the device's own time; `synapses`, `link`
# and `latency` show the same figures.
. "${top_srcdir:-.}/tests/headless-common.sh"
echo "1..10"

mkfifo "$tmp/in"
"$SB" --headless --demo --log-dir "$tmp/rec" <"$tmp/in" >"$tmp/out" \
    2>"$tmp/err" &
sb_pid=$!
exec 3>"$tmp/in"
trap 'exec 3>&-; kill $sb_pid 2>/dev/null; rm -rf "$tmp"' EXIT

csv="$tmp/rec/latency.csv"
same_first_line() {
	[ "$(head -n 1 "$1")" = "$2" ] && return 0
	diag "first line of $1: $(head -n 1 "$1")"
	return 1
}
# rows of kind $1 (and path $2 if given) so far
rows() {
	[ -f "$csv" ] && awk -F, -v k="$1" -v p="${2:-}" \
	    'NR > 1 && $2 == k && (p == "" || $3 == p)' "$csv" | grep -c .
}
has_rows() { n=$(rows "$@") && [ "$n" -gt 0 ]; }

check "spikes reach the post units and latency.csv says how fast" \
    wait_for 60 has_rows spike
# typed reads (one each 0.5 s), until their figures are there
polls=0
typed() {
	[ $((polls % 10)) -eq 0 ] && printf 'read s0\nread s1\n' >&3
	polls=$((polls + 1))
	has_rows command s0 && has_rows overhead s1
}
check "typed reads are measured to the device and back" wait_for 30 typed
printf 'synapses\nlatency\nlink\n' >&3
check "latency answers" wait_for 20 grep -Eq '^spike s[0-5]: last [0-9]+ s p50 ' \
    "$tmp/out"
printf 'quit\n' >&3
exec 3>&-
ended() { ! kill -0 $sb_pid 2>/dev/null; }
check "the console quits" wait_for 20 ended
wait $sb_pid 2>/dev/null

check "latency.csv has its header" same_first_line "$csv" \
    "t_s,kind,path,n,p50_ms,p99_ms,max_ms"
# every row: known kind, a path, n > 0, 0 <= p50 <= p99 <= max < 60 s
sane() {
	awk -F, 'NR == 1 { next }
	    NF != 7 || $2 !~ /^(spike|arrival|command|overhead|remote)$/ ||
	    $3 == "" || $4 < 1 || $5 < 0 || $5 > $6 + 0 || $6 > $7 + 0 ||
	    $7 >= 60000 { print "bad row " NR ": " $0; bad = 1 }
	    END { exit bad }' "$1"
}
check "every row is whole and its figures in order" sane "$csv"
if [ "$have_python" = 1 ]; then
	check "python's csv reader takes it as a table of 7 columns" \
	    python3 -c '
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
assert len(rows) > 2 and all(len(r) == 7 for r in rows), rows[:3]
float(rows[1][0]); int(rows[1][3]); float(rows[1][5])' "$csv"
else
	skip "no python3"
fi
# a read takes the device 10 ms: most of the round trip is the device's,
# and what is beyond it is less than the whole
device() {
	awk -F, '$2 == "command" && $3 == "s0" { c = $5 }
	    $2 == "overhead" && $3 == "s0" { o = $5 }
	    END { if (!(c >= 5 && o >= 0 && o < c)) {
		print "command p50 " c " ms, beyond the device " o " ms"
		exit 1 } }' "$csv"
}
check "a read's round trip is mostly the device's 10 ms" device
shows() {
	grep -q '^s0 padova/mea:12 -> zurich/silicon:0 .* spike p50 [0-9.]* p99 [0-9.]* ms' "$tmp/out" &&
	    grep -q 'relay 127.0.0.1:[0-9]* up .* spikes from their source p50' "$tmp/out"
}
check "synapses and link show the latency" shows
# every site declares its streams at load and the links list them often
# at first: no spike waits for a reader to discover its stream (that took
# 1.6 s at start and up to 4 s for a synapse's first event)
prompt() {
	awk -F, '$2 == "spike" && $7 >= 1000 { print "slow: " $0; bad = 1 }
	    END { exit bad }' "$csv"
}
check "no spike waits a second for its stream to be found" prompt
