#!/bin/sh
# arc1-session.sh: the hybrid demo's session with its six synapses on an
# ArC ONE (share/sessions/arc1/one-machine.conf) against the emulator on a
# pty: the real console, headless, in real time. Commands go in through a
# FIFO and every wait is a condition with a deadline: the instrument comes
# up, potentiate raises the weight, rule pulses reach the device, the
# board unplugged marks the synapses offline and refuses pulses with the
# reason, and everything works again when it is back; a hung board is
# reset with nothing lost. TAP.
. "${top_srcdir:-.}/tests/headless-common.sh"

EMU="$top_builddir/tests/arc1-emu"
CONF="$top_srcdir/share/sessions/arc1/one-machine.conf"
echo "1..16"

"$EMU" --link "$tmp/tty" --control "$tmp/ctl" --seed 3 >"$tmp/emu.out" \
    2>"$tmp/emu.err" &
emu=$!
sbpid=
trap 'kill $emu $sbpid 2>/dev/null; wait 2>/dev/null; [ -n "$KEEP" ] || rm -rf "$tmp"' EXIT

# emulator stats counter NAME
emu_stat() {
	printf 'stats\n' >"$tmp/ctl"
	wait_for 10 grep -q '^stats' "$tmp/emu.out" || return 1
	n=$(grep '^stats' "$tmp/emu.out" | tail -1 |
	    sed -n "s/.* $1=\([0-9]*\).*/\1/p")
	: >"$tmp/emu.out"
	echo "${n:-0}"
}

check "the emulator is ready" wait_for 10 grep -q '^ready' "$tmp/emu.out"

mkfifo "$tmp/in"
ARC1_PORT="$tmp/tty" "$SB" --headless -c "$CONF" --log-dir "$tmp/run" \
    --duration 120 <"$tmp/in" >"$tmp/out" 2>"$tmp/err" &
sbpid=$!
exec 3>"$tmp/in"

# say LINE: a command to the console
say() {
	printf '%s\n' "$1" >&3
}

# lines TEXT: how many output lines hold TEXT
lines() {
	grep -cF -- "$1" "$tmp/out"
}

# answered N TEXT: more than N lines hold TEXT
answered() {
	[ "$(lines "$2")" -gt "$1" ]
}

# settle CMD...: CMD succeeds within about 2 s (polled; used inside
# wait_for, whose deadline a nested wait_for would overwrite)
settle() {
	settle_i=0
	while [ $settle_i -lt 40 ]; do
		"$@" && return 0
		sleep 0.05
		settle_i=$((settle_i + 1))
	done
	return 1
}

check "the session loads with the instrument up" \
    wait_for 60 grep -q 'hybrid-3site: loop wired' "$tmp/out"
link_up() {
	say "link"
	settle grep -q 'southampton/xbar up .*ArC ONE firmware' "$tmp/out"
}
check "its link comes up with the firmware named" wait_for 30 link_up
has_reads() {
	grep -q '^[0-9.]*,s5,.*,read,' "$tmp/run/synapses.csv" 2>/dev/null
}
check "the array read at connect is logged as reads of each synapse" \
    wait_for 20 has_reads

# potentiate raises the weight on the instrument, as on the simulator
say "potentiate s0 -n 3"
check "potentiate s0 completes" wait_for 20 grep -q '^s0: .*weight' "$tmp/out"
w=$(grep '^s0: .*weight' "$tmp/out" | head -1 |
    sed -n 's/.*weight \([0-9]*\) -> \([0-9]*\).*/\1 \2/p')
check "and raises its weight ($w)" test -n "$w" -a \
    "$(echo "$w" | awk '{ print ($2 > $1 || $2 == 255) }')" = 1

# the paper's rate rule programs the devices on its own
rule_pulses() {
	grep -c ',rule-lt[pd],' "$tmp/run/synapses.csv" 2>/dev/null
}
has_rule_pulses() {
	[ "$(rule_pulses)" -gt 0 ]
}
check "rule pulses reach the instrument" wait_for 60 has_rule_pulses
before=$(emu_stat pulses)
check "the emulator counted the pulses ($before)" test "${before:-0}" -ge 3

# a hung board: the operation in flight fails, the board is reset
printf 'silent\n' >"$tmp/ctl"
n=$(lines 's1: G')
say "read s1"
check "a read on the hung board fails and says why" \
    wait_for 20 grep -q 'no reply within' "$tmp/err"
say "read s1"
check "the next read works after the reset" \
    wait_for 30 answered "$n" 's1: G'

# unplugged: offline, refused with the reason; back when replugged
printf 'unplug\n' >"$tmp/ctl"
offline_shown() {
	say "synapses s2"
	settle grep -q '^s2 .*offline' "$tmp/out"
}
check "synapses shows s2 offline" wait_for 30 offline_shown
say "potentiate s2"
check "a pulse on it is refused with the reason" \
    wait_for 20 grep -q 'potentiate: s2: device xbar:w1b3 is offline' \
    "$tmp/err"
printf 'replug\n' >"$tmp/ctl"
n=$(lines 's2: G')
back() {
	say "read s2"
	settle answered "$n" 's2: G'
}
check "it is read again once the port is back" wait_for 40 back

say "quit"
wait $sbpid
status=$?
sbpid=
check "the console ends cleanly (status 1 for the refused pulse)" \
    test "$status" -eq 1
check "links.csv records the instrument's link" \
    grep -q 'southampton/xbar,up' "$tmp/run/links.csv"
# a device row: rates in and out and the counts always, the age once the
# board answered; commands went out and answers came in
device_rows() {
	awk -F, 'NR > 1 && $2 == "southampton/xbar" {
		if (NF != 16 || $12 == "" || $13 == "" || $14 == "" ||
		    $15 == "")
			wrong++
		if ($12 > 0 && $13 > 0 && $16 != "") busy++
	}
	END { exit !(!wrong && busy >= 1) }' "$tmp/run/links.csv"
}
check "links.csv records its rates in and out, counts and age" device_rows
