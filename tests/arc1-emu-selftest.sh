#!/bin/sh
# The ArC ONE emulator (tests/arc1-emu) speaks the instrument's serial
# protocol on a pty: handshake, version, reads, read-all, pulses in the
# device model's direction, the fault modes, unplug and replug, and a clean
# exit. The client side is tests/arc1-emu-client.py; every wait has a
# deadline.
. "${top_srcdir:-.}/tests/headless-common.sh"
EMU="$top_builddir/tests/arc1-emu"
CLIENT="$top_srcdir/tests/arc1-emu-client.py"
echo "1..27"
if [ $have_python -eq 0 ]; then
	i=0
	while [ $i -lt 27 ]; do
		skip "python3 is needed for the client side"
		i=$((i + 1))
	done
	exit 0
fi

port="$tmp/arc1"
ctl="$tmp/arc1.ctl"
emu=
emu2=
trap 'kill $emu $emu2 2>/dev/null; rm -rf "$tmp"' EXIT

# talk NAME: run the client's steps from stdin; results in $tmp/NAME.out.
talk() {
	python3 "$CLIENT" "$port" "$ctl" >"$tmp/$1.out" 2>"$tmp/$1.err"
	if [ -s "$tmp/$1.err" ]; then
		diag "client $1:" "$(cat "$tmp/$1.err")"
	fi
}

# result NAME N: line N of a client run.
result() {
	sed -n "$2p" "$tmp/$1.out"
}

# field LINE N: word N of a line.
field() {
	echo "$1" | awk -v n="$2" '{ print $n }'
}

# is LINE EXPECTED: the line is as expected (shown otherwise).
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

# in_range VALUE: a finite resistance near the 4-9 kOhm window.
in_range() {
	case "$1" in
	"" | *nan* | *inf*)
		diag "not a finite number: '$1'"
		return 1
		;;
	esac
	num "$1 >= 3600 && $1 <= 9900"
}

# is_pts PATH: a pty slave.
is_pts() {
	case "$1" in
	/dev/pts/[0-9]*) return 0 ;;
	esac
	diag "'$1' is not a pty slave"
	return 1
}

# emu_line PREFIX N: the Nth stdout line of the emulator starting so.
emu_line() {
	grep "^$1" "$tmp/emu.out" | sed -n "$2p"
}

# has_lines PREFIX N: the emulator printed at least N such lines.
has_lines() {
	[ "$(grep -c "^$1" "$tmp/emu.out")" -ge "$2" ]
}

"$EMU" --link "$port" --control "$ctl" --reset-ms 500 --seed 7 \
    --firmware 3.7 >"$tmp/emu.out" 2>"$tmp/emu.err" &
emu=$!
check "the emulator says it is ready" wait_for 10 has_lines "ready $port" 1
pts1=$(readlink "$port")
check "the port is a symlink to a pty slave ($pts1)" is_pts "$pts1"

talk a <<'EOF'
read 1 1 0.5
reset
init 0.3
handshake
version
read 1 1
read 33 1
readall 32 32
readlist 1 1 32 32
pulseread 2 3 -4 0.0001 40
ctl ohms 2 3
read 2 3
pulseread 2 3 4 0.0001
ctl ohms 2 3
ctl direction
send 02 2 3
send 04 -4 0.0001
silence 0.3
ctl ohms 2 3
ctl junk 5
send 1 1 1
bytes 9
ctl garble
init
init
ctl slow 400
read 1 1
ctl slow 0
ctl silent
read 1 1 0.5
handshake
read 1 1
garbage 20000
drain 0.3
handshake
read 1 1
EOF
check "before init a read gets no reply" is "$(result a 1)" "read timeout"
check "an init right after 00 is lost in the reboot" \
    is "$(result a 3)" "init timeout"
check "the handshake is confirmed with 1" is "$(result a 4)" "handshake 1"
check "999 answers two uint16" is "$(result a 5)" "version 3 7"
check "a read is a finite resistance in ohms ($(result a 6))" \
    in_range "$(field "$(result a 6)" 2)"
check "a read of w=33 answers NaN" is "$(field "$(result a 7)" 2)" nan
r=$(result a 8)
check "read-all type 1 gives 32x32 values in range ($r)" eval \
    '[ "$(field "$r" 2)" = 1024 ] && [ "$(field "$r" 3)" = 1024 ] &&
    in_range "$(field "$r" 4)" && in_range "$(field "$r" 5)"'
r=$(result a 9)
check "read-all type 2 answers each pair ($r)" eval \
    'in_range "$(field "$r" 2)" && in_range "$(field "$r" 3)"'

wait_for 10 has_lines "direction" 1
dir=$(field "$(emu_line direction 1)" 2)
o1=$(field "$(emu_line "ohms 2 3" 1)" 4)
o2=$(field "$(emu_line "ohms 2 3" 2)" 4)
o3=$(field "$(emu_line "ohms 2 3" 3)" 4)
r0=$(field "$(result a 12)" 2)
r1=$(field "$(result a 13)" 2)
diag "model: +4 V $dir R; true R $o1 -> $o2 -> $o3; read $r0 -> $r1"
case $dir in
raises) up='>' down='<' ;;
lowers) up='<' down='>' ;;
*) up='?' down='?' ;;
esac
check "3 with +4 V 100 us moves R the way the model says ($dir)" \
    num "$o2 $up $o1"
check "its reply is the new R, and moved the same way ($r0 -> $r1)" \
    num "($r1 - $o2) / $o2 < 0.05 && ($o2 - $r1) / $o2 < 0.05 &&
    ($r1 $up $r0 || ($o2 - $o1) / $o1 < 0.05 && ($o1 - $o2) / $o1 < 0.05)"
check "04 -4 V on the selected device answers nothing and moves R back" \
    eval '[ "$(result a 18)" = silence ] && num "$o3 $down $o2"'
r=$(result a 22)
check "junk 5: five bytes, then the read ($r)" eval \
    '[ ${#r} -gt 20 ] && in_range "${r##*tail=}"'
check "garble: the next init answers 0, the one after 1" \
    eval '[ "$(result a 24) $(result a 25)" = "init 0 init 1" ]'
r=$(result a 27)
check "slow 400: the reply takes 400 ms or more ($r)" \
    num "${r##*ms=} >= 400"
check "silent: no reply until 00, then the board works again" eval \
    '[ "$(result a 30)" = "read timeout" ] &&
    [ "$(result a 31)" = "handshake 1" ] &&
    in_range "$(field "$(result a 32)" 2)"'
check "20000 random bytes: over-long lines dropped, then it still works" \
    eval '[ "$(result a 35)" = "handshake 1" ] &&
    in_range "$(field "$(result a 36)" 2)" &&
    contains "$tmp/emu.err" "bytes: discarded"'

talk b <<'EOF'
handshake
nopace
read 1 1
send 1 1 1
send 1 1 2
bytes 8
ctl stats
ctl unplug
hup
EOF
wait_for 10 has_lines stats 1
s=$(emu_line stats 1)
diag "$s"
check "stats counts what happened, unpaced writes among it" eval \
    'echo "$s" | grep -Eq "^stats resets=[0-9]+ inits=[0-9]+ reads=[0-9]+ pulses=[0-9]+ readalls=[0-9]+ junk=1 pacing=[1-9]"'
check "unplug: the client sees the port hang up" is "$(result b 9)" hup
check "unplug: the symlink is gone" eval \
    'wait_for 10 has_lines "unplugged $port" 1 && [ ! -e "$port" ] &&
    [ ! -L "$port" ]'

printf 'replug\n' >"$ctl"
wait_for 10 has_lines "ready $port" 2
pts2=$(readlink "$port")
talk c <<'EOF'
read 1 1 0.5
handshake
read 1 1
EOF
check "replug: the port is back ($pts2), un-initialised, and works" eval \
    'is_pts "$pts2" && [ "$(result c 1)" = "read timeout" ] &&
    [ "$(result c 2)" = "handshake 1" ] &&
    in_range "$(field "$(result c 3)" 2)"'
printf 'replug\n' >"$ctl"
wait_for 10 has_lines "ready $port" 3
pts3=$(readlink "$port")
check "a replug while plugged moves the link ($pts2 -> $pts3)" eval \
    'is_pts "$pts3" && [ "$pts3" != "$pts2" ]'

# stop PID: SIGTERM, and the exit line as the condition (KILL after 10 s).
stop() {
	kill -TERM "$1"
	if ! wait_for 10 has_lines "pacing violations: " 1; then
		diag "no exit line after SIGTERM: killed"
		kill -KILL "$1"
	fi
	wait "$1"
}

stop $emu
rc=$?
emu=
check "SIGTERM: a clean exit that removes the link and the FIFO ($rc)" \
    eval '[ $rc -eq 0 ] && [ ! -L "$port" ] && [ ! -e "$ctl" ]'
check "at exit it reports the pacing violations" eval \
    'has_lines "pacing violations: [1-9]" 1'

# --old-firmware --silent: hung at start, a reset brings it back, and 999
# gets no answer.
mv "$tmp/emu.out" "$tmp/emu1.out"
"$EMU" --link "$port" --control "$ctl" --reset-ms 100 --old-firmware \
    --silent >"$tmp/emu.out" 2>"$tmp/emu2.err" &
emu2=$!
wait_for 10 has_lines "ready $port" 1
talk d <<'EOF'
read 1 1 0.5
handshake
version 0.5
read 1 1
EOF
check "--silent: nothing until 00, then the handshake" eval \
    '[ "$(result d 1)" = "read timeout" ] &&
    [ "$(result d 2)" = "handshake 1" ]'
check "--old-firmware: 999 gets no reply, the board goes on" eval \
    '[ "$(result d 3)" = "version timeout" ] &&
    in_range "$(field "$(result d 4)" 2)"'
stop $emu2
emu2=
