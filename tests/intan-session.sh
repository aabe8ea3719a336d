#!/bin/sh
# intan-session.sh: Padova's session on Intan RHX
# (share/sessions/intan/padova.conf) against the RHX emulator on loopback:
# the real console, headless, in real time, standalone (no relay).
# Commands go in through a FIFO and every wait is a condition with a
# deadline: RHX is set up and runs, spikes are recorded, stim in
# microamps reaches the emulator, volts and amplitudes beyond the step
# and the limit are refused by the console with the figures, RHX
# restarted comes back by itself with spikes flowing. TAP.
. "${top_srcdir:-.}/tests/headless-common.sh"

EMU="$top_builddir/tests/rhx-emu"
CONF="$top_srcdir/share/sessions/intan/padova.conf"
echo "1..17"

mkfifo "$tmp/ctl"
"$EMU" --command-port 0 --spike-port 0 --control "$tmp/ctl" --seed 5 \
    --spike-rate 5 >"$tmp/emu.out" 2>"$tmp/emu.err" &
emu=$!
sbpid=
trap 'kill $emu $sbpid 2>/dev/null; wait 2>/dev/null
    [ -n "$KEEP" ] || rm -rf "$tmp"' EXIT

check "the emulator is ready" wait_for 10 grep -q '^ready' "$tmp/emu.out"
ports=$(grep '^ready' "$tmp/emu.out" | head -1)
cport=$(echo "$ports" | cut -d' ' -f2)
sport=$(echo "$ports" | cut -d' ' -f3)

mkfifo "$tmp/in"
env -u SYNBRIDGE_RELAY INTAN_COMMAND_PORT="$cport" INTAN_SPIKE_PORT="$sport" \
    "$SB" --headless -c "$CONF" --log-dir "$tmp/run" --duration 120 \
    <"$tmp/in" >"$tmp/out" 2>"$tmp/err" &
sbpid=$!
exec 3>"$tmp/in"

# say LINE: a command to the console
say() {
	printf '%s\n' "$1" >&3
}

# rows FILE: data rows of a CSV file (0 if none yet)
rows() {
	n=$(wc -l <"$1" 2>/dev/null || echo 1)
	echo $((n > 0 ? n - 1 : 0))
}

# more_spikes N: spikes.csv holds more than N rows
more_spikes() {
	[ "$(rows "$tmp/run/spikes.csv")" -gt "$1" ]
}

# link_shows TEXT: ask `link` until its answer holds TEXT
link_shows() {
	say "link"
	sleep 0.2
	grep -q -- "$1" "$tmp/out"
}

check "the session loads standalone (no relay)" \
    wait_for 30 grep -q 'padova: culture on RHX' "$tmp/out"
check "ifenv says the relay was skipped" \
    grep -q 'ifenv: SYNBRIDGE_RELAY is not set: skipped load' "$tmp/out"
check "the link shows RHX running with its latency floor" \
    wait_for 20 link_shows \
    'padova/mea up .*RHS 30 kHz, running, 1 block/write = 4.3 ms'
check "spikes are recorded as padova/mea" wait_for 20 more_spikes 20
check "with units of channels=" \
    awk -F, 'NR > 1 && ($2 != "padova" || $3 != "mea" || $4 < 0 ||
	$4 > 31) { bad = 1 } END { exit bad }' "$tmp/run/spikes.csv"

say "stim padova/mea:3 -i 50 -w 200"
check "stim in microamps is taken" \
    wait_for 10 grep -q 'stimulated padova/mea:3: +50.00 uA 200 us' "$tmp/out"
check "and reaches RHX as a trigger of A-003 on F1" \
    wait_for 10 grep -q '^triggered F1 A-003' "$tmp/emu.out"

say "stim padova/mea:3 -a 1"
check "volts are refused by the console, naming the unit to use" \
    wait_for 10 grep -q 'stim: mea stimulates with current: give -i '\
'MICROAMPS, not -a VOLTS (up to 255 uA in steps of 1 uA)' "$tmp/err"
say "stim padova/mea:3 -i 300"
check "an amplitude beyond 255 steps is refused with the limit" \
    wait_for 10 grep -q 'stim: mea: 300 uA is beyond the backend.s '\
'limit (|amplitude| <= 255 uA)' "$tmp/err"
say "stim padova/mea:3 -i 2.5"
check "an amplitude off the step is refused with the nearest one" \
    wait_for 10 grep -q 'not a multiple of the backend.s step (1 uA' "$tmp/err"
say "stim padova/mea:3 -i 20 -w 6000"
check "a phase longer than 5 ms is refused" \
    wait_for 10 grep -q 'at most 5000 us' "$tmp/err"

# RHX restarted: stopped, default settings; the plugin sets it up again
printf 'restart\n' >"$tmp/ctl"
check "the emulator restarted" wait_for 10 grep -q '^restarted' "$tmp/emu.out"
n=$(rows "$tmp/run/spikes.csv")
check "spikes flow again after RHX came back" \
    wait_for 30 more_spikes $((n + 20))
runs_again() {
	[ "$(grep -c '^runmode Run' "$tmp/emu.out")" -ge 2 ]
}
check "acquisition was resumed by the plugin" wait_for 10 runs_again

say "quit"
wait $sbpid
status=$?
sbpid=
check "the console ends (status 1 for the refused stims)" test "$status" -eq 1
check "links.csv records RHX's link" \
    grep -q 'padova/mea,up' "$tmp/run/links.csv"
