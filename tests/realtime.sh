#!/bin/sh
# realtime.sh: --realtime runs the console's threads (and those of the
# programs it starts) and the relay's under SCHED_FIFO at the priority
# asked for; bad priorities and --fast are refused with exit status 2; a
# kernel that refuses the policy gets a message saying how to allow it,
# and the program runs on under the normal policy.
. "${top_srcdir:-.}/tests/headless-common.sh"
. "${top_srcdir:-.}/tests/relay-common.sh"
echo 1..16

# policies PID: "POLICY/RT_PRIORITY" of each thread of PID, one per line
# (fields 41 and 40 of /proc/PID/task/TID/stat, counted after the
# command name, which may hold blanks)
policies() {
	for t in /proc/"$1"/task/*; do
		sed 's/.*) //' "$t/stat" 2>/dev/null | awk '{ print $39 "/" $38 }'
	done
}

# all_fifo PID PRIO: every thread of PID is SCHED_FIFO (1) at PRIO
all_fifo() {
	policies "$1" >"$tmp/pol"
	if [ -s "$tmp/pol" ] && ! grep -qv "^1/$2\$" "$tmp/pol"; then
		return 0
	fi
	diag "threads of $1 (policy/priority):" "$(sort "$tmp/pol" | uniq -c)"
	return 1
}

for bad in 0 50 high 7x -3; do
	"$SB" --headless --realtime="$bad" </dev/null >"$tmp/out" 2>"$tmp/err"
	status=$?
	check "--realtime=$bad exits 2 and gives the range" \
	    sh -c "[ $status -eq 2 ] && grep -qF 'synbridge: --realtime=$bad: \
expected a priority from 1 to 49 (default 10)' '$tmp/err'"
done

"$SB" --headless --fast --realtime </dev/null >"$tmp/out" 2>"$tmp/err"
status=$?
check "--realtime with --fast exits 2 and says why" \
    sh -c "[ $status -eq 2 ] && grep -qF 'synbridge: --realtime and --fast \
cannot be used together' '$tmp/err'"

"$SB" --help >"$tmp/out" 2>&1
check "--help lists --realtime[=PRIO]" grep -qF -- '--realtime[=PRIO]' \
    "$tmp/out"

"$RELAY" --listen 127.0.0.1:0 --realtime=99 </dev/null >"$tmp/out" \
    2>"$tmp/err"
status=$?
check "synbridge-relay --realtime=99 exits 2 and gives the range" \
    sh -c "[ $status -eq 2 ] && grep -qF 'synbridge-relay: --realtime=99: \
want a priority from 1 to 49 (default 10)' '$tmp/err'"

# May this shell's children use SCHED_FIFO at all (root, CAP_SYS_NICE or
# an rtprio limit)? chrt(1) asks the kernel the same way synbridge does.
if chrt -f 7 true 2>/dev/null; then
	# The demo: three sites, their simulators' threads and the relay
	# it starts, all under FIFO 7 while it runs.
	mkfifo "$tmp/in"
	"$SB" --headless --demo --realtime=7 -v <"$tmp/in" >"$tmp/out" \
	    2>"$tmp/err" &
	sb_pid=$!
	exec 3>"$tmp/in"
	demo_relay() {
		rpid=$(pgrep -P "$sb_pid" -x synbridge-relay | head -n 1)
		[ -n "$rpid" ] && [ "$(ls /proc/"$sb_pid"/task | wc -l)" -ge 4 ]
	}
	if wait_for 30 demo_relay; then
		check "--realtime=7: every thread of the demo's console is \
SCHED_FIFO 7" all_fifo "$sb_pid" 7
		check "--realtime=7: the relay the demo started inherits it" \
		    all_fifo "$rpid" 7
	else
		diag "the demo did not start its relay and threads in 30 s:" \
		    "$(cat "$tmp/err")"
		check "--realtime=7: the demo's console runs" false
		check "--realtime=7: the demo's relay runs" false
	fi
	echo quit >&3
	exec 3>&-
	wait "$sb_pid"
	status=$?
	check "--realtime=7: the demo ends cleanly" test "$status" -eq 0
	check "-v says the threads run under SCHED_FIFO priority 7" \
	    grep -qF 'synbridge: threads run under SCHED_FIFO priority 7' \
	    "$tmp/err"

	relay_tokens "a r1 * */* -"
	relay_spawn 0 --realtime=5
	relay_up
	check "synbridge-relay --realtime=5: every thread is SCHED_FIFO 5" \
	    all_fifo "$relay_pid" 5
	relay_stop
else
	for what in "the demo's console" "the demo's relay" "the demo's end" \
	    "-v" "synbridge-relay"; do
		skip "$what under --realtime: this user may not use SCHED_FIFO"
	done
fi

# Refused: without CAP_SYS_NICE (setpriv drops it for root) and with an
# rtprio limit of 0, the kernel refuses; the console says how to allow it
# and runs on under the normal policy.
if command -v setpriv >/dev/null 2>&1 && command -v prlimit >/dev/null 2>&1 &&
    ! prlimit --rtprio=0 setpriv --inh-caps=-sys_nice \
    --bounding-set=-sys_nice chrt -f 7 true 2>/dev/null; then
	printf 'wait 0.2\nquit\n' | prlimit --rtprio=0 setpriv \
	    --inh-caps=-sys_nice --bounding-set=-sys_nice \
	    "$SB" --headless --demo --realtime=7 -v >"$tmp/out" 2>"$tmp/err"
	status=$?
	check "refused --realtime: the console runs on and ends cleanly" \
	    test "$status" -eq 0
	check "refused --realtime: it says the kernel refused, and how to \
allow it" sh -c "grep -qF 'synbridge: --realtime: the kernel refused \
SCHED_FIFO priority 7 (Operation not permitted); threads run under the \
normal policy.' '$tmp/err' && grep -qF 'raise it to at least 7' '$tmp/err'"
	slice='^synbridge: (threads run with|asked for|the kernel refused) a 0\.1 ms time slice'
	check "refused --realtime: -v then names the time slice instead" \
	    grep -qE "$slice" "$tmp/err"
else
	for what in "runs on" "says how to allow it" "names the slice"; do
		skip "refused --realtime $what: setpriv and prlimit (util-linux) \
are needed, and a way to drop CAP_SYS_NICE"
	done
fi
