#!/bin/sh
# The Open Ephys GUI emulator (tests/oe-emu): the HTTP API (status and
# modes, processors, broadcast messages, errors, a stall), the Event
# Broadcaster's frames and fields at real-time pace, Network Events'
# commands and replies, triggers and the spikes they evoke, the fault
# modes, a restart, a clean exit, and a chain without Network Events. ZMQ
# goes through tests/oe-zmq-client, HTTP through python3's urllib (those
# checks are skipped without python3); every wait has a deadline.
. "${top_srcdir:-.}/tests/headless-common.sh"
EMU="$top_builddir/tests/oe-emu"
CLIENT="$top_builddir/tests/oe-zmq-client"
echo "1..41"

ctl="$tmp/oe.ctl"
emu=
emu2=
sub=
trap 'kill $emu $emu2 $sub 2>/dev/null; rm -rf "$tmp"' EXIT

cat >"$tmp/oe-http.py" <<'EOF'
# oe-http.py METHOD URL EXPR [BODY]: prints "CODE MS VALUE", VALUE being EXPR
# evaluated on the JSON answer j.
import json, sys, time, urllib.error, urllib.request
method, url, expr = sys.argv[1], sys.argv[2], sys.argv[3]
data = sys.argv[4].encode() if len(sys.argv) > 4 else None
req = urllib.request.Request(url, data=data, method=method)
t0 = time.monotonic()
try:
    with urllib.request.urlopen(req, timeout=8) as r:
        code, body = r.status, r.read()
except urllib.error.HTTPError as e:
    code, body = e.code, e.read()
except Exception as e:
    print("0 0 error:", e)
    sys.exit(0)
ms = int((time.monotonic() - t0) * 1000)
try:
    j = json.loads(body)
    v = eval(expr)
except Exception:
    v = "not-json-or-no-such-field:" + repr(body[:200])
print(code, ms, v)
EOF

# http METHOD PATH EXPR [BODY]: one request; "CODE MS VALUE".
http() {
	[ $have_python -eq 1 ] || return 0
	python3 "$tmp/oe-http.py" "$1" "http://127.0.0.1:$hport$2" "$3" \
	    ${4+"$4"}
}

# hcheck DESCRIPTION CMD...: a check that needs HTTP (python3).
hcheck() {
	if [ $have_python -eq 0 ]; then
		skip "python3 is needed for the HTTP side"
		return 0
	fi
	check "$@"
}

# replies COMMAND...: Network Events' replies, one a line.
replies() {
	"$CLIENT" req "$nport" "$@" | cut -d' ' -f3-
}

# is GOT EXPECTED: equal (shown otherwise).
is() {
	if [ "$1" = "$2" ]; then
		return 0
	fi
	diag "got '$1', expected '$2'"
	return 1
}

# num EXPR: an awk condition on numbers (shown if false).
num() {
	if awk "BEGIN { exit !($1) }" </dev/null; then
		return 0
	fi
	diag "false: $1"
	return 1
}

# has FILE PREFIX N: at least N lines of FILE start so.
has() {
	[ "$(grep -c "^$2" "$1")" -ge "$3" ]
}

# nth FILE PREFIX N: the Nth line of FILE starting so.
nth() {
	grep "^$2" "$1" | sed -n "$3p"
}

# val LINE KEY: the value of KEY=VALUE in a line (up to a space or comma).
val() {
	echo "$1" | sed -n "s/.*[ ,:]$2=\([^ ,]*\).*/\1/p"
}

# evoked ELECTRODE LO HI: a spike on it with LO <= sample_number <= HI.
evoked() {
	grep '^spike' "$tmp/sub.out" | grep -F "electrode=\"$1\"" |
	    sed 's/.* sample_number=\([0-9]*\).*/\1/' |
	    awk -v lo="$2" -v hi="$3" '$1 >= lo && $1 <= hi { f = 1 }
	    END { exit !f }'
}

# ttl_at NODE LINE STATE SAMPLE: that TTL event reached the subscriber.
ttl_at() {
	grep '^ttl' "$tmp/sub.out" | grep -F "source_node=$1 " |
	    grep -F " sample_number=$4 line=$2 state=$3" >/dev/null
}
# ttl_from NODE LINE STATE SAMPLE: such a TTL event at the first sample of
# a block (1024 samples) at or after SAMPLE
ttl_from() {
	grep '^ttl' "$tmp/sub.out" | grep -F "source_node=$1 " |
	    grep -F " line=$2 state=$3" |
	    sed "s/.* sample_number=\([0-9]*\) .*/\1/" |
	    awk -v s="$4" '$1 >= s && $1 % 1024 == 0 { ok = 1 }
	    END { exit !ok }'
}

"$EMU" --http-port 0 --events-port 0 --network-events-port 0 \
    --electrodes 32 --spike-rate 10 --seed 5 --control "$ctl" \
    >"$tmp/emu.out" 2>"$tmp/emu.err" &
emu=$!
wait_for 10 has "$tmp/emu.out" ready 1
r=$(nth "$tmp/emu.out" ready 1)
hport=$(echo "$r" | awk '{ print $2 }')
eport=$(echo "$r" | awk '{ print $3 }')
nport=$(echo "$r" | awk '{ print $4 }')
check "ready with three ports ($r)" \
    eval 'echo "$r" | grep -Eq "^ready [1-9][0-9]* [1-9][0-9]* [1-9][0-9]*$"'

hcheck "GET /api/status: IDLE" is "$(http GET /api/status 'j["mode"]' |
    cut -d' ' -f1,3)" "200 IDLE"
hcheck "GET /api/processors: the chain with the broadcaster's and Network \
Events' ports" is "$(http GET /api/processors '"|".join("%s:%s" % (p["id"],
    p["name"]) for p in j["processors"]) + " " + " ".join(str(q["value"])
    for p in j["processors"] for q in p["parameters"] if q["name"] in
    ("data_port", "port")) + " " + str(j["processors"][0]["streams"][0][
    "sample_rate"])' | cut -d' ' -f1,3-)" "200 100:Acquisition Board|\
101:Bandpass Filter|102:Spike Detector|103:Network Events|\
104:Acq Board Output|105:Event Broadcaster|106:Record Node \
$nport $eport 30000.0"
hcheck "GET /api/processors/105 is the broadcaster, /999 is 404" \
    eval '[ "$(http GET /api/processors/105 "j[\"name\"]" | cut -d" " \
    -f1,3-)" = "200 Event Broadcaster" ] &&
    [ "$(http GET /api/processors/999 "\"error\" in j" | cut -d" " \
    -f1,3)" = "404 True" ]'
hcheck "PUT /api/status: not JSON, no mode, an unknown mode: 400 with \
an error" is "$(http PUT /api/status '"error" in j' '{mode:' | cut -d' ' \
    -f1,3) $(http PUT /api/status '"error" in j' '{}' | cut -d' ' -f1,3) \
$(http PUT /api/status 'j["error"][:11]' '{"mode":"FLY"}' | cut -d' ' \
    -f1,3-)" "400 True 400 True 400 need {\"mode"
hcheck "an unknown endpoint is 404, POST on /api/status 405" \
    is "$(http GET /api/nothing 'j["error"][:16]' | cut -d' ' -f1,3-) \
$(http POST /api/status '"error" in j' '{}' | cut -d' ' -f1,3)" \
    "404 no such endpoint 405 True"
hcheck "PUT /api/message while idle: 200, ignored, no trigger" eval \
    '[ "$(http PUT /api/message "j[\"info\"]" \
    "{\"text\":\"ACQBOARD TRIGGER 1 10\"}" | cut -d" " -f1,3-)" = \
    "200 not acquiring: message ignored" ] &&
    ! grep -q "^triggered" "$tmp/emu.out"'

check "Network Events while idle: IsAcquiring 0, TTL handled but not \
queued, InvalidChannel, NotHandled" is "$(replies IsAcquiring \
    'TTL Line=3 State=1' 'TTL Line=300 State=1' 'TTL Line=x State=1' \
    Hello | tr '\n' '|')$(grep -c '^triggered' "$tmp/emu.out")" \
    "0|TTLHandled: Line=3 State=1|InvalidChannel|NotHandled|NotHandled|0"

"$CLIENT" sub --timeout 60000 "$eport" >"$tmp/sub.out" 2>"$tmp/sub.err" &
sub=$!
wait_for 10 has "$tmp/sub.out" connected 1
if [ $have_python -eq 1 ]; then
	r=$(http PUT /api/status 'j["mode"]' '{"mode":"ACQUIRE"}' |
	    cut -d' ' -f1,3)
else
	r=$(replies StartAcquisition)
fi
check "acquisition starts ($r)" eval \
    '[ "$r" = "200 ACQUIRE" ] || [ "$r" = StartedAcquisition ]'
t0=$(nth "$tmp/emu.out" "mode ACQUIRE" 1 | awk '{ print $3 }')
check "Network Events: IsAcquiring 1, and a mode line with the start" \
    eval '[ "$(replies IsAcquiring)" = 1 ] && [ -n "$t0" ]'

wait_for 10 has "$tmp/sub.out" spike 150
check "spikes arrive as two frames, uint16 1 and JSON with the fields" \
    eval '[ "$(grep "^spike" "$tmp/sub.out" | grep -vEc "^spike t_us=[0-9]+ \
event_type=\"spike\" stream=\"MEA\" source_node=102 electrode=\"SE[0-9]+\" \
num_channels=1 sample_rate=30000.0 sample_number=[0-9]+ sorted_id=0 \
amp1=[0-9.]+$")" = 0 ] && ! grep -q "^bad" "$tmp/sub.out"'
check "electrodes SE1..SE32, most of them firing" eval \
    'grep "^spike" "$tmp/sub.out" | sed "s/.*electrode=\"SE\([0-9]*\)\".*/\1/" |
    sort -n | uniq | awk "\$1 < 1 || \$1 > 32 { bad = 1 } END {
    exit bad || NR < 24 }"'
check "real-time pace: each spike arrives 0..1024 samples + 250 ms after \
its sample" eval 'grep "^spike" "$tmp/sub.out" |
    sed "s/^spike t_us=\([0-9]*\).* sample_number=\([0-9]*\).*/\1 \2/" |
    awk -v t0="$t0" "{ lag = (\$1 - t0) / 1e6 - \$2 / 30000
    if (lag < 0 || lag > 1024 / 30000 + 0.25) {
    print \"# lag \" lag; bad = 1 } }
    END { exit bad }"'
check "sample numbers never go back" eval 'grep "^spike" "$tmp/sub.out" |
    sed "s/.* sample_number=\([0-9]*\).*/\1/" |
    awk "\$1 < last { bad = 1 } { last = \$1 } END { exit bad }"'

# A Network Events TTL: a trigger, its TTL events, a spike 2-10 ms later.
r=$("$CLIENT" req "$nport" 'TTL Line=5 State=1' 'TTL Line=5 State=0')
sent=$(echo "$r" | head -1 | awk '{ print $1 }')
check "TTL Line=5 State=1/0: TTLHandled replies" is \
    "$(echo "$r" | cut -d' ' -f3- | tr '\n' '|')" \
    "TTLHandled: Line=5 State=1|TTLHandled: Line=5 State=0|"
wait_for 5 has "$tmp/emu.out" "triggered network-events ttl:line=5," 1
tr1=$(nth "$tmp/emu.out" "triggered network-events ttl:line=5," 1)
s1=$(val "$tr1" sample)
check "a triggered line for it within 100 ms of the command ($tr1)" \
    eval '[ "$(val "$tr1" electrodes)" = 4 ] &&
    num "$(echo "$tr1" | awk "{ print \$4 }") - $sent < 100000 &&
    $(echo "$tr1" | awk "{ print \$4 }") >= $sent"'
# The low edge comes in the same block, or (when the emulator's block clock
# moved on between the two commands, as on a loaded machine) a later one.
check "its TTL events: line 4 high at the block's first sample, then low" \
    wait_for 5 eval 'ttl_at 103 4 true "$s1" && ttl_from 103 4 false "$s1" &&
    [ $((s1 % 1024)) = 0 ]'
check "an evoked spike on SE5 2-10 ms after it" \
    wait_for 5 evoked SE5 $((s1 + 60)) $((s1 + 300))
r=$(replies 'TTL Line=5 State=1' 'TTL Line=5 State=1')
check "State=1 twice: the second is no edge and triggers nothing" \
    eval '[ "$(grep -c "^triggered network-events ttl:line=5," \
    "$tmp/emu.out")" = 2 ] && contains "$tmp/emu.err" "already high"'

# Broadcast messages through HTTP: a board pulse, RHS binding.
if [ $have_python -eq 1 ]; then
	m=$(http PUT /api/message 'j["info"]' \
	    '{"text":"ACQBOARD TRIGGER 2 10"}' | cut -d' ' -f1,3-)
	wait_for 5 has "$tmp/emu.out" "triggered http acqboard:line=2," 1
	tr2=$(nth "$tmp/emu.out" "triggered http acqboard:line=2," 1)
	s2=$(val "$tr2" sample)
fi
hcheck "PUT /api/message ACQBOARD TRIGGER 2 10: 200, triggered ($tr2)" \
    eval '[ "$m" = "200 message broadcast" ] &&
    [ "$(val "$tr2" ms)" = 10 ] && [ "$(val "$tr2" electrodes)" = 1 ]'
hcheck "the pulse comes back on the board's TTL input: line 1, 10 ms" \
    wait_for 5 eval 'ttl_at 100 1 true "$s2" &&
    ttl_at 100 1 false $((s2 + 300))'
hcheck "an evoked spike on SE2 2-10 ms after it" \
    wait_for 5 eval 'evoked SE2 $((s2 + 60)) $((s2 + 300))'
if [ $have_python -eq 1 ]; then
	http PUT /api/message 'j["info"]' \
	    '{"text":"RHS STIM_TRIGGER 0 9 2"}' >/dev/null
	http PUT /api/message 'j["info"]' \
	    '{"text":"RHS STIM_SHAPE 0 99 1 BIPHASIC"}' >/dev/null
	http PUT /api/message 'j["info"]' \
	    '{"text":"ACQBOARD TRIGGER 3 10"}' >/dev/null
	wait_for 5 has "$tmp/emu.out" "triggered http acqboard:line=3," 1
	tr3=$(nth "$tmp/emu.out" "triggered http acqboard:line=3," 1)
	s3=$(val "$tr3" sample)
fi
hcheck "RHS STIM_TRIGGER 0 9 2 binds channel 9 to DIN 2, channel 99 is \
refused, and board line 3 then stimulates SE10 ($tr3)" eval \
    'has "$tmp/emu.out" "stimconfig chan=9 din=2 pulses=1 shape=BIPHASIC" 1 &&
    contains "$tmp/emu.err" "no channel '\''99'\''" &&
    [ "$(val "$tr3" electrodes)" = 9 ] &&
    wait_for 5 evoked SE10 $((s3 + 60)) $((s3 + 300))'

check "Network Events re-broadcasts ACQBOARD TRIGGER 4 10 (NotHandled) \
and it triggers" eval '[ "$(replies "ACQBOARD TRIGGER 4 10")" = NotHandled ] &&
    wait_for 5 has "$tmp/emu.out" "triggered network-events acqboard:line=4," 1'

# Faults on the Event Broadcaster.
printf 'badjson\n' >"$ctl"
check "badjson: the next message's JSON frame is not JSON" \
    wait_for 5 has "$tmp/sub.out" "badjson t_us=[0-9]* type=[01]" 1
printf 'badframe\n' >"$ctl"
check "badframe: the next message is one frame" \
    wait_for 5 has "$tmp/sub.out" "badframe t_us=[0-9]* frames=1" 1
printf 'badframe 3\n' >"$ctl"
check "badframe 3: the next message is three frames" \
    wait_for 5 has "$tmp/sub.out" "badframe t_us=[0-9]* frames=3" 1
printf 'stats\n' >"$ctl"
wait_for 5 has "$tmp/emu.out" stats 1
st=$(nth "$tmp/emu.out" stats 1)
diag "$st"
check "stats: the counters add up, bad=3, triggers as printed" eval \
    'echo "$st" | grep -Eq "^stats http=[0-9]+ events=[0-9]+ spikes=[0-9]+ \
ttl=[0-9]+ triggers=[0-9]+ bad=3 mode=ACQUIRE$" &&
    [ $(val "$st" events) -eq \
    $(($(val "$st" spikes) + $(val "$st" ttl) + 3)) ] &&
    [ $(val "$st" triggers) -eq $(grep -c "^triggered" "$tmp/emu.out") ]'

if [ $have_python -eq 1 ]; then
	n1=$(grep -c '^spike' "$tmp/sub.out")
	# timed from the command, not from the request: python's start on a
	# loaded machine is part of the request's own time
	t0=$(date +%s%N)
	printf 'stall 2000\n' >"$ctl"
	r=$(http GET /api/status 'j["mode"]')
	stalled_ms=$((($(date +%s%N) - t0) / 1000000))
	n2=$(grep -c '^spike' "$tmp/sub.out")
fi
hcheck "stall 2000: HTTP answers 2 s after the command, spikes go on \
($r; ${stalled_ms:-?} ms; $n1 -> $n2 spikes)" eval '[ "$(echo "$r" |
    cut -d" " -f1,3)" = "200 ACQUIRE" ] && num "$stalled_ms >= 1950" &&
    num "$n2 >= $n1 + 50"'

check "StartRecord with a directory: recording, numbered 1/1, then \
stopped" is "$(replies "StartRecord RecDir=$tmp/rec" IsRecording \
    GetRecordingPath GetExperimentNumber GetRecordingNumber StopRecord \
    IsRecording | tr '\n' '|')" \
    "StartedRecording|1|$tmp/rec|1|1|StoppedRecording|0|"

# Stop: nothing triggers; start again: samples count from 0.
r=$(replies StopAcquisition 'TTL Line=7 State=1' StartAcquisition)
wait_for 5 has "$tmp/emu.out" "mode ACQUIRE" 2
t1=$(nth "$tmp/emu.out" "mode ACQUIRE" 2 | awk '{ print $3 }')
check "StopAcquisition, TTL while stopped, StartAcquisition: the TTL \
triggers nothing" eval '[ "$(echo "$r" | tr "\n" "|")" = \
    "StoppedAcquisition|TTLHandled: Line=7 State=1|StartedAcquisition|" ] &&
    ! grep -q "triggered network-events ttl:line=7," "$tmp/emu.out"'
# first_after T: the first spike received after T (us).
first_after() {
	grep '^spike' "$tmp/sub.out" |
	    sed 's/^spike t_us=\([0-9]*\).* sample_number=\([0-9]*\).*/\1 \2/' |
	    awk -v t="$1" '$1 > t { print; exit }'
}
wait_for 5 eval '[ -n "$(first_after "$t1")" ]'
r=$(first_after "$t1")
check "a new acquisition counts samples from 0 ($r, start $t1)" eval \
    '[ -n "$r" ] && num "$(echo "$r" | awk "{ print \$2 }") <= \
    ($(echo "$r" | awk "{ print \$1 }") - $t1) * 0.03"'

printf 'restart 200\n' >"$ctl"
wait_for 10 has "$tmp/emu.out" ready 2
check "restart: ready again on the same ports" is \
    "$(nth "$tmp/emu.out" ready 2)" "ready $hport $eport $nport"
check "restart: the subscriber saw the drop" \
    wait_for 5 has "$tmp/sub.out" disconnected 1
hcheck "restart: HTTP says IDLE" is "$(http GET /api/status 'j["mode"]' |
    cut -d' ' -f1,3)" "200 IDLE"
check "restart: Network Events says 0, then starts acquiring" is \
    "$(replies IsAcquiring StartAcquisition | tr '\n' '|')" \
    "0|StartedAcquisition|"
t2=$(nth "$tmp/emu.out" "mode ACQUIRE" 3 | awk '{ print $3 }')
check "restart: the subscriber reconnects and gets spikes again" \
    wait_for 10 eval '[ -n "$t2" ] && [ -n "$(first_after "$t2")" ]'

if [ $have_python -eq 1 ]; then
	python3 - "$hport" "$eport" "$nport" <<'EOF'
import random, socket, sys
random.seed(2)
noise = bytes(random.getrandbits(8) for _ in range(3000))
huge = b"PUT /api/status HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n{"
for port in sys.argv[1:]:
    for junk in (noise, b"\xff" * 70000, huge):
        s = socket.create_connection(("127.0.0.1", int(port)), timeout=2)
        try:
            s.sendall(junk)
        except OSError:
            pass
        s.close()
EOF
	big=$(python3 -c 'print("{\"text\":\"" + "A" * 70000 + "\"}")')
	r=$(http PUT /api/message '"error" in j' "$big" | cut -d' ' -f1,3)
fi
# acquiring: a fresh Network Events client hears IsAcquiring 1 (junk can
# cost the next request its reply: libzmq's REP routes it to the junk
# peer, so a client times out and asks again).
acquiring() {
	[ "$("$CLIENT" req --timeout 500 "$nport" IsAcquiring |
	    cut -d' ' -f3-)" = 1 ]
}
hcheck "junk on every port and a 70 kB body (413): it still answers" eval \
    '[ "$r" = "413 True" ] &&
    [ "$(http GET /api/status "j[\"mode\"]" | cut -d" " -f1,3)" = \
    "200 ACQUIRE" ] && wait_for 5 acquiring'

kill -TERM $emu
wait_for 10 has "$tmp/emu.out" stats 2
wait $emu
rc=$?
emu=
check "SIGTERM: exit 0, a last stats line, the FIFO removed ($rc)" eval \
    '[ $rc -eq 0 ] && [ ! -e "$ctl" ] &&
    nth "$tmp/emu.out" stats 2 | grep -q "mode=ACQUIRE$"'

mv "$tmp/emu.out" "$tmp/emu1.out"
"$EMU" --http-port 0 --events-port 0 --no-network-events \
    >"$tmp/emu.out" 2>"$tmp/emu2.err" &
emu2=$!
wait_for 10 has "$tmp/emu.out" ready 1
r=$(nth "$tmp/emu.out" ready 1)
hport=$(echo "$r" | awk '{ print $2 }')
check "--no-network-events: ready with 0 for it ($r)" eval \
    'echo "$r" | grep -Eq "^ready [1-9][0-9]* [1-9][0-9]* 0$"'
hcheck "--no-network-events: not in the processors" is \
    "$(http GET /api/processors '",".join(p["name"] for p in
    j["processors"])' | cut -d' ' -f1,3-)" "200 Acquisition Board,\
Bandpass Filter,Spike Detector,Acq Board Output,Event Broadcaster,\
Record Node"
kill -TERM $emu2
wait $emu2
emu2=
