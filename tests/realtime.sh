#!/bin/sh
# realtime.sh: --realtime runs the console's threads (and those of the
# programs it starts) and the relay's under SCHED_FIFO at the priority
# asked for; bad priorities and --fast are refused with exit status 2; a
# kernel that refuses the policy gets a message saying how to allow it,
# and the program runs on under the normal policy. --realtime also holds
# a request on /dev/cpu_dma_latency that keeps idle cores quick to wake
# (SYNBRIDGE_CPU_WAKE_US sets it, or off); refused, it says how to allow
# it and runs on.
. "${top_srcdir:-.}/tests/headless-common.sh"
. "${top_srcdir:-.}/tests/relay-common.sh"
unset SYNBRIDGE_SHORT_SLICE SYNBRIDGE_CPU_WAKE_US
echo 1..26

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

# "--realtime 5" (no '='): the stray number is named, with the hint
"$SB" --realtime 5 --headless </dev/null >"$tmp/out" 2>"$tmp/err"
status=$?
check "--realtime 5 exits 2 and says the priority goes after '='" \
    sh -c "[ $status -eq 2 ] && grep -qF \"unexpected argument '5' \
(--realtime takes its priority after '=': --realtime=N)\" '$tmp/err'"
"$RELAY" --realtime 5 --listen 127.0.0.1:0 </dev/null >"$tmp/out" \
    2>"$tmp/err"
status=$?
check "synbridge-relay --realtime 5 exits 2 with the same hint" \
    sh -c "[ $status -eq 2 ] && grep -qF \"unexpected argument '5' \
(--realtime takes its priority after '=': --realtime=N)\" '$tmp/err'"

"$SB" --help >"$tmp/out" 2>&1
check "--help lists --realtime[=PRIO]" grep -qF -- '--realtime[=PRIO]' \
    "$tmp/out"

"$RELAY" --listen 127.0.0.1:0 --realtime=99 </dev/null >"$tmp/out" \
    2>"$tmp/err"
status=$?
check "synbridge-relay --realtime=99 exits 2 and gives the range" \
    sh -c "[ $status -eq 2 ] && grep -qF 'synbridge-relay: --realtime=99: \
expected a priority from 1 to 49 (default 10)' '$tmp/err'"

# pop_fifo PID PRIO: the demo's two simulated populations' threads ("pop
# NAME") run at PRIO and every other thread at PRIO + 1
pop_fifo() {
	for t in /proc/"$1"/task/*; do
		printf '%s %s\n' "$(cat "$t/comm")" \
		    "$(sed 's/.*) //' "$t/stat" | awk '{ print $39 "/" $38 }')"
	done >"$tmp/pol"
	if [ "$(grep -c "^pop .* 1/$2\$" "$tmp/pol")" -eq 2 ] &&
	    ! grep -v '^pop ' "$tmp/pol" | grep -qv " 1/$(($2 + 1))\$"; then
		return 0
	fi
	diag "threads of $1 (name policy/priority):" "$(cat "$tmp/pol")"
	return 1
}

# May this shell's children use SCHED_FIFO at all (root, CAP_SYS_NICE or
# an rtprio limit)? chrt(1) asks the kernel the same way synbridge does.
# Not under sanitizers: the simulators may then run slower than real
# time, and the test would hold the machine's cores while they catch up.
if sanitized; then
	for what in "the demo's threads" "its relay" "its end" "-v" \
	    "its wake-up request" "its keeper's" "-v on it" \
	    "synbridge-relay" "synbridge-relay's wake-up request"; do
		skip "$what under --realtime: not with sanitizers (slower than \
real time, a real-time thread would hold a core)"
	done
elif chrt -f 7 true 2>/dev/null; then
	# The demo: three sites, their simulators' threads and the relay
	# it starts, all under FIFO while it runs (--duration: a backstop)
	mkfifo "$tmp/in"
	"$SB" --headless --demo --realtime=7 -v --duration 120 <"$tmp/in" \
	    >"$tmp/out" 2>"$tmp/err" &
	sb_pid=$!
	trap 'exec 3>&-; kill "$sb_pid" 2>/dev/null; rm -rf "$tmp"' EXIT
	exec 3>"$tmp/in"
	# up: its relay runs (under the demo's keeper) and both simulated
	# populations' threads too
	demo_up() {
		kpid=$(pgrep -P "$sb_pid" -x synbridge-demo | head -n 1)
		[ -n "$kpid" ] &&
		    rpid=$(pgrep -P "$kpid" -x synbridge-relay | head -n 1)
		[ -n "$kpid" ] && [ -n "$rpid" ] &&
		    [ "$(cat /proc/"$sb_pid"/task/*/comm 2>/dev/null |
		    grep -c '^pop ')" -eq 2 ]
	}
	ended() { ! kill -0 "$sb_pid" 2>/dev/null; }
	# holds_wake PID: PID has /dev/cpu_dma_latency open (its request)
	holds_wake() {
		ls -l /proc/"$1"/fd 2>/dev/null | grep -q ' /dev/cpu_dma_latency$'
	}
	if wait_for 30 demo_up; then
		check "--realtime=7: the simulated populations run one \
priority lower (6), the rest at 7" pop_fifo "$sb_pid" 6
		check "--realtime=7: the relay the demo started inherits it" \
		    all_fifo "$rpid" 7
		if [ -w /dev/cpu_dma_latency ]; then
			check "--realtime: the console holds its request on \
/dev/cpu_dma_latency while it runs" holds_wake "$sb_pid"
			check "--realtime: the demo's keeper does not hold it (it \
ends with the console)" sh -c "ls -l /proc/$kpid/fd >/dev/null && \
! ls -l /proc/$kpid/fd | grep -q cpu_dma_latency"
		else
			skip "the console's wake-up request: this user may not \
write /dev/cpu_dma_latency"
			skip "the keeper's: this user may not write \
/dev/cpu_dma_latency"
		fi
	else
		diag "the demo did not start its relay and populations in \
30 s:" "$(cat "$tmp/err")"
		check "--realtime=7: the demo's console and populations run" \
		    false
		check "--realtime=7: the demo's relay runs" false
		check "--realtime: the console holds its wake-up request" false
		check "--realtime: the demo's keeper does not hold it" false
	fi
	if ! ended; then
		echo quit >&3
	fi
	exec 3>&-
	if wait_for 20 ended; then
		wait "$sb_pid"
		status=$?
	else
		kill "$sb_pid" 2>/dev/null
		status=timeout
	fi
	check "--realtime=7: the demo ends cleanly on quit" \
	    test "$status" = 0
	said='synbridge: threads run under SCHED_FIFO priority 7 (--realtime)'
	check "-v says the threads run under SCHED_FIFO priority 7" \
	    grep -qF "$said; simulated populations one priority lower" \
	    "$tmp/err"
	said='synbridge: asked that idle cores wake within 0 us while this runs'
	if [ -w /dev/cpu_dma_latency ]; then
		check "-v says it asked that idle cores wake within 0 us" \
		    grep -qF "$said" \
		    "$tmp/err"
	else
		skip "-v on the wake-up request: this user may not write \
/dev/cpu_dma_latency"
	fi

	relay_tokens "a r1 * */* -"
	# both: the line on stderr and every thread's policy
	relay_fifo5() {
		said='synbridge-relay: threads run under SCHED_FIFO priority 5'
		grep -qF "$said (--realtime)" "$tmp/relay.out" &&
		    all_fifo "$relay_pid" 5
	}
	relay_spawn 0 --realtime=5
	relay_up
	check "synbridge-relay --realtime=5: every thread is SCHED_FIFO 5, \
and it says so" relay_fifo5
	if [ -w /dev/cpu_dma_latency ]; then
		check "synbridge-relay --realtime holds its wake-up request, and \
says so" sh -c "grep -qF 'synbridge-relay: asked that idle cores wake within 0 us' \
'$tmp/relay.out' && ls -l /proc/$relay_pid/fd | grep -q ' /dev/cpu_dma_latency\$'"
	else
		skip "synbridge-relay's wake-up request: this user may not \
write /dev/cpu_dma_latency"
	fi
	relay_stop
else
	for what in "the demo's threads" "its relay" "its end" "-v" \
	    "its wake-up request" "its keeper's" "-v on it" \
	    "synbridge-relay" "synbridge-relay's wake-up request"; do
		skip "$what under --realtime: this user may not use SCHED_FIFO"
	done
fi

# Refused: without CAP_SYS_NICE (setpriv drops it for root; a plain user
# has none) and with an rtprio limit of 0, the kernel refuses; the console
# says how to allow it and runs on under the normal policy.
drop=
if [ "$(id -u)" -eq 0 ]; then
	drop="setpriv --inh-caps=-sys_nice --bounding-set=-sys_nice"
fi
# shellcheck disable=SC2086
if command -v prlimit >/dev/null 2>&1 && command -v chrt >/dev/null 2>&1 &&
    prlimit --rtprio=0 $drop true 2>/dev/null &&
    ! prlimit --rtprio=0 $drop chrt -f 7 true 2>/dev/null; then
	# shellcheck disable=SC2086
	printf 'wait 0.2\nquit\n' | prlimit --rtprio=0 $drop \
	    "$SB" --headless --demo --realtime=7 -v >"$tmp/out" 2>"$tmp/err"
	status=$?
	check "refused --realtime: the console runs on and ends cleanly" \
	    test "$status" -eq 0
	check "refused --realtime: it says the kernel refused, and how to \
allow it" sh -c "grep -qF 'synbridge: --realtime: the kernel refused \
SCHED_FIFO priority 7 (Operation not permitted); threads run under the \
normal policy' '$tmp/err' && grep -qF 'raise it to at least 7' '$tmp/err'"
	slice='^synbridge: (threads run with|asked for|the kernel refused) a 0\.1 ms time slice'
	check "refused --realtime: -v then names the time slice instead" \
	    grep -qE "$slice" "$tmp/err"
else
	for what in "runs on" "says how to allow it" "names the slice"; do
		skip "refused --realtime $what: prlimit, chrt and (as root) \
setpriv (util-linux) are needed, and a way to drop CAP_SYS_NICE"
	done
fi

# The wake-up request's setting, and its refusal (a user other than root
# may not write the device; nobody, through setpriv, when run as root)
printf 'quit\n' | SYNBRIDGE_CPU_WAKE_US=OFF "$SB" --headless --realtime=7 \
    >"$tmp/out" 2>"$tmp/err"
status=$?
check "SYNBRIDGE_CPU_WAKE_US=OFF: exits 2 and says what it takes" sh -c \
    "[ $status -eq 2 ] && grep -qF 'synbridge: SYNBRIDGE_CPU_WAKE_US=OFF: \
expected a bound in microseconds (0 to 1000000) or off' '$tmp/err'"
printf 'quit\n' | SYNBRIDGE_CPU_WAKE_US=off "$SB" --headless --realtime=7 -v \
    >"$tmp/out" 2>"$tmp/err"
status=$?
check "SYNBRIDGE_CPU_WAKE_US=off: -v says nothing is asked" sh -c \
    "[ $status -eq 0 ] && grep -qF 'SYNBRIDGE_CPU_WAKE_US=off: idle cores \
are left to the kernel' '$tmp/err' && ! grep -q 'cpu_dma_latency' '$tmp/err'"
printf 'quit\n' | SYNBRIDGE_CPU_WAKE_US=25 "$SB" --headless -v >"$tmp/out" \
    2>"$tmp/err"
status=$?
check "SYNBRIDGE_CPU_WAKE_US without --realtime: -v says it is not read" \
    sh -c "[ $status -eq 0 ] && grep -qF 'synbridge: SYNBRIDGE_CPU_WAKE_US \
is read only with --realtime' '$tmp/err' && ! grep -q 'asked that idle' \
'$tmp/err'"
as_user=
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null 2>&1; then
	as_user="setpriv --reuid=65534 --regid=65534 --clear-groups"
fi
if [ ! -e /dev/cpu_dma_latency ]; then
	skip "a refused wake-up request: this kernel has no /dev/cpu_dma_latency"
# shellcheck disable=SC2086
elif [ -n "$as_user" ] && ! HOME="$tmp" $as_user "$SB" --version \
    >/dev/null 2>&1; then
	skip "a refused wake-up request: user nobody cannot run $SB (a build \
tree it may not enter)"
elif [ "$(id -u)" -ne 0 ] || [ -n "$as_user" ]; then
	# shellcheck disable=SC2086
	printf 'quit\n' | HOME="$tmp" $as_user "$SB" --headless --realtime=7 \
	    >"$tmp/out" 2>"$tmp/err"
	status=$?
	if [ "$status" -eq 0 ] && grep -qF "cannot ask the kernel to keep \
idle cores quick to wake (/dev/cpu_dma_latency: Permission denied)" \
	    "$tmp/err"; then
		check "a refused wake-up request: says how to allow it, runs on" true
	elif [ "$status" -eq 0 ] && [ -w /dev/cpu_dma_latency ] &&
	    [ -z "$as_user" ]; then
		skip "a refused wake-up request: this user may write the device"
	else
		check "a refused wake-up request: says how to allow it, runs on" false
		diag "status $status:" "$(cat "$tmp/err")"
	fi
else
	skip "a refused wake-up request: setpriv (util-linux) is needed to \
run as another user"
fi
