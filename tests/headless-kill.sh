#!/bin/sh
# headless-kill.sh: kill -9 while recording in real time leaves CSV files
# that parse, with no row cut in the middle.
. "${top_srcdir:-.}/tests/headless-common.sh"
echo 1..6

cat >"$tmp/kill.sb" <<'END'
site lab
load test_neurons units=4 period_ms=1
END
# real time (no --fast), for at most 30 s; killed long before
"$SB" --headless --plugin-dir "$PLUGDIR" --log-dir "$tmp/rec" \
    --duration 30 -x "$tmp/kill.sb" >"$tmp/out" 2>"$tmp/err" &
pid=$!

size() {
	wc -c <"$tmp/rec/spikes.csv" 2>/dev/null || echo 0
}
# spikes.csv has had two flushes (it is bigger than after the first)
grown_twice() {
	now=$(size)
	if [ -z "$first" ] && [ "$now" -gt 100 ]; then
		first=$now
	fi
	[ -n "$first" ] && [ "$now" -gt "$first" ]
}
first=
wait_for 15 grown_twice
grew=$?
check "spikes.csv grows while recording in real time" test "$grew" -eq 0
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
status=$?
check "the console died of SIGKILL" test "$status" -eq 137

# Every file ends with a whole line.
ends_whole() {
	for f in spikes synapses links commands; do
		[ -s "$tmp/rec/$f.csv" ] || return 1
		[ "$(tail -c 1 "$tmp/rec/$f.csv" | od -An -c | tr -d ' ')" = \
		    '\n' ] || { diag "$f.csv ends mid-row"; return 1; }
	done
}
check "every file ends with a whole row" ends_whole

if [ "$have_python" = 1 ]; then
	python3 - "$tmp/rec" >"$tmp/py" 2>&1 <<'END'
import csv, sys
widths = {'spikes': 4, 'synapses': 12, 'links': 16, 'commands': 6}
for kind, n in widths.items():
    with open('%s/%s.csv' % (sys.argv[1], kind), newline='') as f:
        rows = list(csv.reader(f, strict=True))
    assert rows[0][0] == 't_s', (kind, rows[0])
    for i, r in enumerate(rows):
        assert len(r) == n, (kind, i, r)
        if i > 0:
            float(r[0])
    if kind == 'spikes':
        assert len(rows) > 50, len(rows)
        for r in rows[1:]:
            assert r[1:3] == ['lab', 'neurons'] and 0 <= int(r[3]) < 4, r
    if kind == 'commands':
        assert [r[3] for r in rows[1:]] == ['site lab',
            'load test_neurons units=4 period_ms=1'], rows
END
	pystatus=$?
	check "every file parses with python's csv module" \
	    sh -c "[ $pystatus -eq 0 ] || { sed 's/^/# /' '$tmp/py'; false; }"
else
	skip "csv module parse (no python3)"
fi
check "spike rows are whole (4 fields each)" sh -c "
    awk -F, 'NF != 4 { bad = 1 } END { exit bad }' '$tmp/rec/spikes.csv'"
check "nothing was written to stderr before the kill" empty "$tmp/err"
