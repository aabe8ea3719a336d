#!/bin/sh
# The Intan RHX emulator (tests/rhx-emu) against a bare client
# (tests/rhx-client.py): the command port's replies (no terminator, set
# silent, errors, refusals while running), one client per port and how
# each port comes back, batching, spike records, a stimulation with its
# trigger line, artifact, STIM word and evoked spikes, the faults as a raw
# reader sees them, restart, a recording-only controller, and the exits.
# Every wait has a deadline.
. "${top_srcdir:-.}/tests/headless-common.sh"
EMU="$top_builddir/tests/rhx-emu"
CLIENT="$top_srcdir/tests/rhx-client.py"
PLAN=37
echo "1..$PLAN"
if [ $have_python -eq 0 ]; then
	i=0
	while [ $i -lt $PLAN ]; do
		skip "python3 is needed for the client side"
		i=$((i + 1))
	done
	exit 0
fi

ctl="$tmp/rhx.ctl"
emu=
emu2=
shpid=
trap 'kill $emu $emu2 $shpid 2>/dev/null; rm -rf "$tmp"' EXIT

# talk NAME EMU_OUT PORTS...: run the client's steps from stdin against
# the ports of the emulator printing to EMU_OUT; results in $tmp/NAME.out.
talk() {
	talk_name=$1
	talk_emu=$2
	shift 2
	python3 "$CLIENT" "$@" "$ctl" "$talk_emu" >"$tmp/$talk_name.out" \
	    2>"$tmp/$talk_name.err"
	if [ -s "$tmp/$talk_name.err" ]; then
		diag "client $talk_name:" "$(cat "$tmp/$talk_name.err")"
	fi
}

# result NAME TAG: the result of a client run's step tagged [TAG].
result() {
	sed -n "s/^\[$2\] //p" "$tmp/$1.out"
}

# count LINE: the record count of a "records" result.
count() {
	echo "$1" | awk '{ print $2 }'
}

# key LINE KEY: the value of KEY=VALUE in a line.
key() {
	echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}

# is LINE EXPECTED: the line is as expected (shown otherwise).
is() {
	if [ "$1" = "$2" ]; then
		return 0
	fi
	diag "got '$1', expected '$2'"
	return 1
}

# starts LINE PREFIX: the line starts with the prefix (shown otherwise).
starts() {
	case "$1" in
	"$2"*) return 0 ;;
	esac
	diag "got '$1', expected '$2...'"
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

# is_error LINE: a reply that is neither silence nor a "Return:".
is_error() {
	case "$1" in
	"reply none" | "reply Return:"*)
		diag "expected an error reply, got '$1'"
		return 1
		;;
	"reply "?*) return 0 ;;
	esac
	diag "expected an error reply, got '$1'"
	return 1
}

# has_lines FILE PREFIX N: FILE has at least N lines starting so.
has_lines() {
	has_n=$(grep -c "^$2" "$1" 2>/dev/null)
	[ "${has_n:-0}" -ge "$3" ]
}

# emu_line PREFIX N: the Nth line of the first emulator's stdout so.
emu_line() {
	grep "^$1" "$tmp/emu.out" | sed -n "$2p"
}

# only_enabled LIST: every channel of a comma list is one of A-000..A-012.
only_enabled() {
	for c in $(echo "$1" | tr , ' '); do
		case $c in
		A-00[0-9] | A-01[0-2]) ;;
		*)
			diag "a record from $c, whose output is not enabled"
			return 1
			;;
		esac
	done
}

# evoked_in_window LINE...: each evoke step's latencies lie in 2-10 ms
# (60-300 frames at 30 kHz).
evoked_in_window() {
	for e in "$@"; do
		if [ "$(key "$e" near)" != 0 ] && ! num \
		    "$(key "$e" lat_min) >= 60 && $(key "$e" lat_max) <= 300"
		then
			return 1
		fi
	done
	return 0
}

# gone PID: the process has exited (a zombie counts).
gone() {
	! kill -0 "$1" 2>/dev/null ||
	    grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null
}

"$EMU" --command-port 0 --spike-port 0 --waveform-port 0 --controller stim \
    --step-ua 2 --spike-rate 20 --seed 5 --control "$ctl" \
    >"$tmp/emu.out" 2>"$tmp/emu.err" &
emu=$!
wait_for 10 has_lines "$tmp/emu.out" ready 1
ready1=$(emu_line ready 1)
set -- $ready1
check "ready with three ports ($ready1)" \
    num "$# == 4 && $2 > 0 && $3 > 0 && $4 > 0 && $2 != $3 && $3 != $4"
cport=$2 sport=$3 wport=$4

spikes_on=
i=0
while [ $i -le 12 ]; do
	ch=A-$(printf %03d $i)
	spikes_on="${spikes_on}set $ch.TCPDataOutputEnabledSpike true;"
	i=$((i + 1))
done
stim="set A-010.StimEnabled true;set A-010.Source KeyPressF1;"
stim="${stim}set A-010.FirstPhaseAmplitudeMicroAmps 100;"
stim="${stim}set A-010.SecondPhaseAmplitudeMicroAmps 100;"
stim="${stim}set A-010.FirstPhaseDurationMicroseconds 200;"
stim="${stim}set A-010.SecondPhaseDurationMicroseconds 200;"
stim="${stim}execute UploadStimParameters A-010;"
stim="${stim}set A-020.StimEnabled true;set A-020.Source KeyPressF1;"
wave_on="set A-000.TCPDataOutputEnabled true;"
wave_on="${wave_on}set A-010.TCPDataOutputEnabledStim true;"

talk a "$tmp/emu.out" "$cport" "$sport" "$wport" <<EOF
[cmd] cmd
[type] ask get Type;
[probe_cmd] probe cmd
[rate] ask get SampleRateHertz;
[step] ask get StimStepSizeMicroAmps;
[two] ask GET runmode;get TCPNumberDataBlocksPerWrite;
[set] ask set TCPNumberDataBlocksPerWrite 50; | 0.3
[set_get] ask get tcpnumberdatablocksperwrite
[e_range] ask set TCPNumberDataBlocksPerWrite 101;
[e_cmd] ask frobnicate;
[e_param] ask get NoSuchParameter;
[e_amp] ask set A-010.FirstPhaseAmplitudeMicroAmps 512;
[e_source] ask set A-010.Source KeyPressF9;
[e_record] ask set RunMode Record;
[source] ask get A-010.Source;
[setup] ask $spikes_on$wave_on$stim | 0.3
[spike] spike
expect 1 connected spike
[probe_spike] probe spike
[wave] wave
[run] ask set RunMode Run; | 0.3
[batches] batches 6400 1.3
[e_run] ask set RunMode Run;
[e_upload] ask execute UploadStimParameters;
[upload] ask execute UploadStimParameters A-010;set TCPNumberDataBlocksPerWrite 1; | 0.3
[records] records 40 3
ctl rate 0
collect 0.3
[trigger1] trigger F1
[evoked1] evoked A-010 0.3
[trigger2] trigger F1
[evoked2] evoked A-010 0.3
[trigger3] trigger F1
[evoked3] evoked A-010 0.3
[blocks] blocks 8 0 0.6
ctl stim_log
ctl rate 20
ctl split
[split] records 60 3
ctl split off
ctl badmagic
[badmagic] records 40 3
ctl garbage 100
[garbage] records 40 3
close spike
[spike_closed] probe spike
[connect] ask execute ConnectTCPSpikeDataOutput; | 0.3
[spike_again] spike 3
[spike_records] records 5 3
ask set RunMode Stop; | 0.3
[stopped] ask get RunMode;
[timestamp] ask get CurrentTimestamp;
close cmd
[cmd_closed] probe cmd
ctl rearm
[rearmed] cmd 3
[rearmed_get] ask get RunMode;
ctl stall 600
[stall] timed get Type;
ctl restart
[eof_cmd] eof cmd 3
[eof_spike] eof spike 3
[restarted] cmd 3
[defaults] ask get RunMode;get TCPNumberDataBlocksPerWrite;get A-010.StimEnabled;
[restarted_spike] spike 3
expect 3 connected spike
ctl stats
EOF

check "get Type answers exactly, without a newline" \
    is "$(result a type)" "reply Return: Type ControllerStimRecord"
check "SampleRateHertz and StimStepSizeMicroAmps as started" eval \
    'is "$(result a rate)" "reply Return: SampleRateHertz 30000" &&
    is "$(result a step)" "reply Return: StimStepSizeMicroAmps 2"'
check "case-insensitive; two gets answer back to back, no separator" \
    is "$(result a two)" \
    "reply Return: RunMode StopReturn: TCPNumberDataBlocksPerWrite 10"
check "a set answers nothing and takes effect" eval \
    'is "$(result a set)" "reply none" &&
    is "$(result a set_get)" "reply Return: TCPNumberDataBlocksPerWrite 50"'
invalid="reply Invalid value for"
check "errors are free text: a range, an unknown command, a parameter" eval \
    'starts "$(result a e_range)" \
    "$invalid TCPNumberDataBlocksPerWrite command. Acceptable: 1 to 100" &&
    is "$(result a e_cmd)" "reply Error - Command 1: Unrecognized command" &&
    is "$(result a e_param)" "reply Unrecognized parameter"'
check "stimulation ranges: 512 uA is over 255 steps of 2 uA; no F9" eval \
    'starts "$(result a e_amp)" \
    "$invalid A-010.FirstPhaseAmplitudeMicroAmps command" &&
    starts "$(result a e_source)" "$invalid A-010.Source command"'
check "RunMode Record without a filename is refused" \
    is_error "$(result a e_record)"
check "a channel's Source reads its default; a batch of sets is silent" \
    eval 'is "$(result a source)" "reply Return: A-010.Source DigitalIn01" &&
    is "$(result a setup)" "reply none"'
check "one client per port: a second command or spike client is refused" \
    eval 'is "$(result a probe_cmd)" "probe cmd refused" &&
    is "$(result a probe_spike)" "probe spike refused"'

r=$(result a batches)
check "N=50: one write per 6400 frames, never across a window ($r)" \
    eval 'num "$(key "$r" reads) >= 3 && $(key "$r" reads) <= 8 &&
    $(key "$r" records) > 0 && $(key "$r" crossing) == 0"'
check "running: Run again and a bare upload are refused, a channel's not" \
    eval 'is_error "$(result a e_run)" && is_error "$(result a e_upload)" &&
    is "$(result a upload)" "reply none"'
r=$(result a records)
check "records parse: enabled channels only, id 1, in order ($r)" eval \
    'num "$(count "$r") >= 40" && [ "$(key "$r" bad)" = 0 ] &&
    [ "$(key "$r" ids)" = 1 ] && [ "$(key "$r" ordered)" = yes ] &&
    only_enabled "$(key "$r" chans)"'

wait_for 10 has_lines "$tmp/emu.out" "stim_log end" 1
t1=$(emu_line triggered 1)
t2=$(emu_line triggered 2)
t3=$(emu_line triggered 3)
diag "$t1" "$t2" "$t3"
check "each trigger fires A-010 only (A-020 was never uploaded)" eval \
    'starts "$t1" "triggered F1 A-010 us=" &&
    starts "$t2" "triggered F1 A-010 us=" &&
    starts "$t3" "triggered F1 A-010 us="'
lat=0
for n in 1 2 3; do
	sent=$(key "$(result a trigger$n)" us)
	got=$(key "$(emu_line triggered $n)" us)
	if [ -z "$sent" ] || [ -z "$got" ]; then
		lat=missing
		break
	fi
	d=$((got - sent))
	if [ $d -lt 0 ] || [ $d -gt $lat ]; then
		lat=$d
	fi
	[ $d -lt 0 ] && break
done
check "command to trigger: at most 200 ms (worst $lat us)" \
    num "\"$lat\" != \"missing\" && $lat >= 0 && $lat <= 200000"
f1=$(key "$t1" frame)
f2=$(key "$t2" frame)
f3=$(key "$t3" frame)
e1=$(result a evoked1)
e2=$(result a evoked2)
e3=$(result a evoked3)
diag "$e1" "$e2" "$e3"
check "each stimulation is one artifact record on A-010 at its frame" eval \
    '[ "$(key "$e1" artifacts)" = 1 ] && [ "$(key "$e2" artifacts)" = 1 ] &&
    [ "$(key "$e3" artifacts)" = 1 ] &&
    [ "$(key "$e1" art_first)" = "$f1" ] &&
    [ "$(key "$e2" art_first)" = "$f2" ] &&
    [ "$(key "$e3" art_first)" = "$f3" ]'
spikes=0
near=0
for e in "$e1" "$e2" "$e3"; do
	spikes=$((spikes + $(key "$e" spikes)+0))
	near=$((near + $(key "$e" near)+0))
done
what="at rate 0 every spike is evoked, on A-008..A-012 2-10 ms after"
check "$what a pulse ($near of $spikes)" eval \
    'num "$spikes >= 2 && $near == $spikes" &&
    evoked_in_window "$e1" "$e2" "$e3"'
check "stim_log: each pulse with its frame, 100 uA and 200 us" eval \
    'is "$(emu_line "stim " 1)" "stim A-010 $f1 100 200" &&
    is "$(emu_line "stim " 2)" "stim A-010 $f2 100 200" &&
    is "$(emu_line "stim " 3)" "stim A-010 $f3 100 200" &&
    is "$(emu_line "stim_log end" 1)" "stim_log end 3"'
r=$(result a blocks)
check "waveform: blocks with the magic, frames from 0 without a gap ($r)" \
    eval 'is "$(result a wave)" "wave connected" &&
    num "$(key "$r" blocks) >= 50" && [ "$(key "$r" magic_bad)" = 0 ] &&
    [ "$(key "$r" gaps)" = 0 ] && [ "$(key "$r" first)" = 0 ]'
check "waveform STIM word: 50 steps (100 uA / 2 uA) from the pulse's frame" \
    eval '[ "$(key "$r" stim)" = 50 ] && [ "$(key "$r" stim_at)" = "$f1" ]'
r=$(result a split)
check "split: reads end inside records, which still reassemble ($r)" eval \
    'num "$(count "$r") >= 60 && $(key "$r" partial) > 0" &&
    [ "$(key "$r" bad)" = 0 ]'
r=$(result a badmagic)
check "badmagic: one record of 14 bytes without the magic ($r)" eval \
    '[ "$(key "$r" bad)" = 1 ] && [ "$(key "$r" skipped)" = 14 ]'
r=$(result a garbage)
check "garbage 100: 100 bytes skipped, then records again ($r)" eval \
    '[ "$(key "$r" bad)" = 1 ] && [ "$(key "$r" skipped)" = 100 ] &&
    num "$(count "$r") >= 40"'
check "the spike port closes after its client; Connect... reopens it" eval \
    'is "$(result a spike_closed)" "probe spike refused" &&
    is "$(result a connect)" "reply none" &&
    is "$(result a spike_again)" "spike connected" &&
    num "$(count "$(result a spike_records)") >= 5" &&
    [ "$(key "$(result a spike_records)" bad)" = 0 ]'
check "Stop, and CurrentTimestamp keeps where the run ended" eval \
    'is "$(result a stopped)" "reply Return: RunMode Stop" &&
    num "$(result a timestamp |
    sed -n "s/^reply Return: CurrentTimestamp //p") > 30000"'
check "the command port stays closed after its client until rearm" eval \
    'is "$(result a cmd_closed)" "probe cmd refused" &&
    is "$(result a rearmed)" "cmd connected" &&
    is "$(result a rearmed_get)" "reply Return: RunMode Stop"'
r=$(result a stall)
check "stall 600: the reply takes 600 ms ($r)" eval \
    'starts "$r" "reply Return: Type ControllerStimRecord ms=" &&
    num "$(key "$r" ms) >= 550"'
check "restart: every client is closed, the same ports listen again" eval \
    'is "$(result a eof_cmd) $(result a eof_spike)" "eof eof" &&
    is "$(result a restarted)" "cmd connected" &&
    is "$(emu_line ready 2)" "$ready1" &&
    is "$(result a restarted_spike)" "spike connected"'
r="reply Return: RunMode StopReturn: TCPNumberDataBlocksPerWrite 10"
check "restart: stopped, settings back to their defaults" is \
    "$(result a defaults)" "${r}Return: A-010.StimEnabled False"
wait_for 10 has_lines "$tmp/emu.out" "stats " 1
s=$(emu_line "stats " 1)
diag "$s"
n='[0-9]+'
check "stats counts the session" eval \
    'echo "$s" | grep -Eq "^stats commands=$n gets=$n sets=$n errors=8 \
records=$n stims=3 triggers=3 runs=1 clients=7\$"'

# A recording-only controller that stays pending, flagging half its
# crossings as artifacts.
"$EMU" --command-port 0 --spike-port 0 --controller record \
    --sample-rate 25000 --spike-rate 50 --artifact-fraction 0.5 \
    --stay-pending --channels A-000..A-015 >"$tmp/emu2.out" \
    2>"$tmp/emu2.err" &
emu2=$!
wait_for 10 has_lines "$tmp/emu2.out" ready 1
set -- $(grep '^ready' "$tmp/emu2.out")
talk b "$tmp/emu2.out" "$2" "$3" 0 <<'EOF'
cmd
[type] ask get Type;get SampleRateHertz;
[e_step] ask get StimStepSizeMicroAmps;
[e_trigger] ask execute ManualStimTriggerPulse F1;
[e_stim] ask set A-010.StimEnabled true;
ask set A-000.TCPDataOutputEnabledSpike true;set A-001.TCPDataOutputEnabledSpike true;set TCPNumberDataBlocksPerWrite 1; | 0.3
spike
ask set RunMode Run; | 0.3
[records] records 30 3
close cmd
[again] cmd 3
[again_get] ask get RunMode;
EOF
check "a recording controller: its Type and sample rate" is \
    "$(result b type)" \
    "reply Return: Type ControllerRecordUSB3Return: SampleRateHertz 25000"
check "on it, stimulation is an error (step, trigger, parameters)" eval \
    'is_error "$(result b e_step)" && is_error "$(result b e_trigger)" &&
    is_error "$(result b e_stim)"'
r=$(result b records)
check "--artifact-fraction: records with id 1 and 0x80 ($r)" eval \
    'num "$(count "$r") >= 30" && [ "$(key "$r" bad)" = 0 ] &&
    [ "$(key "$r" ids)" = "1,128" ] &&
    [ "$(key "$r" chans)" = "A-000,A-001" ]'
check "--stay-pending: the command port listens again at once" eval \
    'is "$(result b again)" "cmd connected" &&
    is "$(result b again_get)" "reply Return: RunMode Run" &&
    has_lines "$tmp/emu2.out" "listening command" 1'

# stop PID OUT: SIGTERM, the final stats line as the condition.
stop() {
	kill -TERM "$1"
	if ! wait_for 10 has_lines "$2" "stats " "$3"; then
		diag "no stats line after SIGTERM: killed"
		kill -KILL "$1"
	fi
	wait "$1"
}

stop $emu "$tmp/emu.out" 2
rc=$?
emu=
check "SIGTERM: a clean exit with the counters, the FIFO removed ($rc)" \
    eval '[ $rc -eq 0 ] && [ ! -e "$ctl" ]'
stop $emu2 "$tmp/emu2.out" 1
emu2=

"$EMU" --command-port 0 --spike-port 0 --sample-rate 1000 \
    >"$tmp/bad.out" 2>"$tmp/bad.err"
rc=$?
check "a stimulation controller refuses 1000 Hz ($rc)" eval \
    '[ $rc -eq 2 ] && contains "$tmp/bad.err" "20000, 25000, 30000"'

# The parent dies without stopping it: the emulator goes too.
sh -c '"$1" --command-port 0 --spike-port 0 >"$2" 2>/dev/null &
echo $! >"$3"; wait' sh "$EMU" "$tmp/orphan.out" "$tmp/orphan.pid" &
shpid=$!
wait_for 10 has_lines "$tmp/orphan.out" ready 1
opid=$(cat "$tmp/orphan.pid")
kill -KILL $shpid
wait $shpid 2>/dev/null
shpid=
check "when its parent dies, the emulator exits" wait_for 10 gone "$opid"
