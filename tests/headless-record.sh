#!/bin/sh
# headless-record.sh: record start / --log-dir write the four CSV files,
# commands.csv audits every command, potentiation is logged exactly, marks
# round-trip, export honours --since/--until.
. "${top_srcdir:-.}/tests/headless-common.sh"
echo 1..12

headers_ok() {
	[ "$(head -1 "$1/spikes.csv")" = "t_s,site,population,unit" ] &&
	[ "$(head -1 "$1/synapses.csv")" = "t_s,synapse,pre,post,event,\
amplitude_v,width_us,count,g_before_us,g_after_us,weight_before,weight_after" ] &&
	[ "$(head -1 "$1/links.csv")" = "t_s,link,state,rtt_ms,jitter_ms,\
offset_ms,uncertainty_ms,loss_pct,retransmits,queue,events_per_s,in_per_s,\
out_per_s,malformed,out_of_range,age_s" ] &&
	[ "$(head -1 "$1/commands.csv")" = \
	    "t_s,site,user,command,status,message" ]
}

cat >"$tmp/rec.sb" <<END
site lab
load test_neurons units=1 period_ms=10
load test_synapses
synapse s0 neurons:0 neurons:0 lin:0
record start $tmp/rec
potentiate s0 -n 3
depress s0 -a 1
mark "a, \"b\"\\nc"
wait 1
export spikes $tmp/export.csv --since 0.2 --until=0.5
END
sb -x "$tmp/rec.sb" >"$tmp/out" 2>"$tmp/err"
status=$?
check "the recording script runs" sh -c "[ $status -eq 0 ] && [ ! -s '$tmp/err' ]"
check "record start writes the four files with their headers" \
    headers_ok "$tmp/rec"

# potentiate: +0.25 uS/V x 2 V x 3 = +1.5; depress -a 1: -0.25
# weights from G over 0-100 uS: 127.5 rounds half to even
check "potentiate is logged with G and weight before and after" contains \
    "$tmp/rec/synapses.csv" \
    ",s0,lab/neurons:0,lab/neurons:0,potentiate,2.0000,100,3,50.0000,51.5000,128,131"
check "depress -a is a magnitude, logged negative" contains \
    "$tmp/rec/synapses.csv" \
    ",s0,lab/neurons:0,lab/neurons:0,depress,-1.0000,100,1,51.5000,51.2500,131,131"

if [ "$have_python" = 1 ]; then
	python3 - "$tmp/rec/commands.csv" >"$tmp/py" 2>&1 <<'END'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline='')))
cmds = [r['command'] for r in rows]
want = ['record start', 'potentiate s0 -n 3', 'depress s0 -a 1', 'mark ',
        'wait 1', 'export spikes']
assert len(rows) == len(want), cmds
for r, w in zip(rows, want):
    assert r['command'].startswith(w), (r['command'], w)
    assert r['status'] == 'ok', r
    assert r['site'] == 'lab', r
mark = rows[3]
assert mark['message'] == 'a, "b"\nc', repr(mark['message'])
assert mark['command'] == 'mark "a, \\"b\\"\\nc"', repr(mark['command'])
END
	pystatus=$?
	check "commands.csv holds every command with its status" \
	    sh -c "[ $pystatus -eq 0 ] || { sed 's/^/# /' '$tmp/py'; false; }"
	check "a mark with commas, quotes and a newline round-trips" \
	    test "$pystatus" -eq 0
else
	skip "commands.csv parse (no python3)"
	skip "mark round-trip (no python3)"
fi

# spikes at 10 ms intervals: 0.20, 0.21, ... 0.49 -> 30 rows
check "export reports the rows it wrote" contains "$tmp/out" \
    "exported 30 spikes rows to $tmp/export.csv"
check "export --since/--until keeps [since, until)" sh -c "
    [ \"\$(sed -n 2p '$tmp/export.csv')\" = '0.200000,lab,neurons,0' ] &&
    [ \"\$(tail -1 '$tmp/export.csv')\" = '0.490000,lab,neurons,0' ] &&
    [ \$(wc -l <'$tmp/export.csv') -eq 31 ]"

# --log-dir, with a failing command
printf 'site lab\nload test_synapses\nfrob\n' |
    sb --log-dir "$tmp/logdir" >"$tmp/out" 2>"$tmp/err"
check "--log-dir writes the four files with their headers" \
    headers_ok "$tmp/logdir"
check "a failed command is audited as an error with its message" \
    contains "$tmp/logdir/commands.csv" \
    ",lab,$(id -un),frob,error,unknown command: frob (try 'help')"
check "the audit holds the successful commands too" sh -c "
    grep -q ',site lab,ok,' '$tmp/logdir/commands.csv' &&
    grep -q ',load test_synapses,ok,loaded test_synapses' \
    '$tmp/logdir/commands.csv'"

# recording twice into the same directory appends (one header)
printf 'site again\n' | sb --log-dir "$tmp/logdir" >/dev/null 2>&1
check "a second recording appends under one header" sh -c "
    [ \$(grep -c '^t_s,' '$tmp/logdir/commands.csv') -eq 1 ] &&
    grep -q ',site again,ok,' '$tmp/logdir/commands.csv'"
