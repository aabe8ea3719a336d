#!/bin/sh
# openephys-session.sh: Padova's culture on the Open Ephys GUI
# (share/sessions/openephys/padova.conf) against tests/oe-emu, through the
# real console, headless, in real time. Commands go in through a FIFO and
# every wait is a condition with a deadline: the session runs standalone
# (no relay), acquisition starts, spikes are recorded, the link names the
# GUI's state and ports (found in its signal chain), a stimulation reaches
# the emulated stimulator and one it cannot honour is refused with why, a
# bad message is counted, the GUI restarted comes back with spikes, and
# quitting returns the GUI to IDLE. TAP.
. "${top_srcdir:-.}/tests/headless-common.sh"

EMU="$top_builddir/tests/oe-emu"
CONF="$top_srcdir/share/sessions/openephys/padova.conf"
echo "1..15"

"$EMU" --http-port 0 --events-port 0 --network-events-port 0 \
    --electrodes 60 --block-samples 300 --seed 9 --control "$tmp/ctl" \
    >"$tmp/emu.out" 2>"$tmp/emu.err" &
emu=$!
sbpid=
trap 'kill $emu $sbpid 2>/dev/null; wait 2>/dev/null; [ -n "$KEEP" ] || rm -rf "$tmp"' EXIT

check "the emulator is ready" wait_for 10 grep -q '^ready' "$tmp/emu.out"
set -- $(grep '^ready' "$tmp/emu.out" | head -1)
http=$2 events=$3 ne=$4

mkfifo "$tmp/in"
env -u SYNBRIDGE_RELAY OPENEPHYS_HOST=127.0.0.1 OPENEPHYS_HTTP_PORT="$http" \
    "$SB" --headless -c "$CONF" --log-dir "$tmp/run" --duration 120 \
    <"$tmp/in" >"$tmp/out" 2>"$tmp/err" &
sbpid=$!
exec 3>"$tmp/in"

# say LINE: a command to the console
say() {
	printf '%s\n' "$1" >&3
}

# count FILE TEXT: lines of FILE holding TEXT
count() {
	grep -cF -- "$2" "$1" 2>/dev/null
}

# more FILE TEXT N: more than N lines of FILE hold TEXT
more() {
	[ "$(count "$1" "$2")" -gt "$3" ]
}

# settle CMD...: CMD succeeds within about 2 s (for use inside wait_for)
settle() {
	settle_i=0
	while [ $settle_i -lt 40 ]; do
		"$@" && return 0
		sleep 0.05
		settle_i=$((settle_i + 1))
	done
	return 1
}

# link_says TEXT: a fresh `link` shows TEXT (a regular expression)
link_says() {
	n=$(count "$tmp/out" "padova/mea ")
	say "link"
	settle more "$tmp/out" "padova/mea " "$n" &&
	    grep "padova/mea " "$tmp/out" | tail -1 | grep -q -- "$1"
}

check "the session loads standalone" \
    wait_for 30 grep -q 'padova: culture on Open Ephys' "$tmp/out"
check "without a relay the relay line is skipped" \
    grep -q 'ifenv: SYNBRIDGE_RELAY is not set: skipped load' "$tmp/out"
check "loading the population starts the GUI's acquisition" \
    wait_for 10 grep -q '^mode ACQUIRE' "$tmp/emu.out"
check "the link names the GUI's mode and the ports of its signal chain" \
    wait_for 20 link_says \
    "padova/mea up .*: ACQUIRE, Event Broadcaster :$events, Network Events :$ne"

spikes() {
	count "$tmp/run/spikes.csv" ",padova,mea,"
}
many_spikes() {
	[ "$(spikes)" -gt 200 ]
}
check "spikes of padova/mea are recorded" wait_for 20 many_spikes

# stimulation: unit 12 through TTL line 13 (ttl_lines=each)
say "stim padova/mea:12 -w 20000"
check "stim is answered" \
    wait_for 10 grep -q 'stimulated padova/mea:12: +1.00 V 20000 us' "$tmp/out"
check "and reaches the emulated stimulator through Network Events" \
    wait_for 10 grep -q \
    '^triggered network-events ttl:line=13,.*electrodes=12' "$tmp/emu.out"
say "stim padova/mea:12"
check "a pulse shorter than the GUI can time is refused with what to give" \
    wait_for 10 grep -q 'stim: mea: 200 us is shorter .*give -w from 10000' \
    "$tmp/err"

# a message that does not parse is counted, and spikes go on
printf 'badjson\n' >"$tmp/ctl"
check "a bad message from the Event Broadcaster is counted" \
    wait_for 20 link_says "malformed 1 "

# the GUI restarted: down, then up with acquisition started again
printf 'restart 1500\n' >"$tmp/ctl"
check "the GUI gone takes the link down" wait_for 20 link_says "padova/mea down"
check "it comes back up by itself" wait_for 30 link_says "padova/mea up .*ACQUIRE"
before=$(spikes)
spikes_again() {
	[ "$(spikes)" -gt $((before + 100)) ]
}
check "and spikes are recorded again" wait_for 20 spikes_again

say "quit"
wait $sbpid
status=$?
sbpid=
check "the console ends (status 1 for the refused stim)" test "$status" -eq 1
check "quitting returned the GUI to IDLE" \
    wait_for 10 grep -q '^mode IDLE' "$tmp/emu.out"
