#!/bin/sh
# headless-options.sh: command-line options behave like GNU programs'.
. "${top_srcdir:-.}/tests/headless-common.sh"
echo 1..18

"$SB" --version >"$tmp/out" 2>"$tmp/err"
status=$?
check "--version exits 0" test "$status" -eq 0
check "--version prints 'synbridge VERSION' first" \
    grep -qE '^synbridge [0-9]' "$tmp/out"
check "--version writes nothing on stderr" empty "$tmp/err"

"$SB" --help >"$tmp/out" 2>"$tmp/err"
status=$?
check "--help exits 0" test "$status" -eq 0
check "--help prints the usage on stdout" \
    grep -q '^Usage: synbridge \[OPTION\]\.\.\.' "$tmp/out"
check "--help lists --plugin-dir" grep -q -- '--plugin-dir DIR' "$tmp/out"

"$SB" --no-such-option >"$tmp/out" 2>"$tmp/err"
status=$?
check "an unknown option exits 2" test "$status" -eq 2
check "an unknown option is named, with a pointer to --help" \
    sh -c "grep -q 'no-such-option' '$tmp/err' &&
    grep -qF \"Try 'synbridge --help' for more information.\" '$tmp/err'"
check "an unknown option prints nothing on stdout" empty "$tmp/out"

"$SB" --headless --duration soon >"$tmp/out" 2>"$tmp/err"
status=$?
check "a bad --duration exits 2 with a message" sh -c "[ $status -eq 2 ] &&
    grep -qF 'synbridge: --duration soon: expected seconds' '$tmp/err'"

"$SB" --headless --seed -3 </dev/null >"$tmp/out" 2>"$tmp/err"
status=$?
check "a negative --seed exits 2" test "$status" -eq 2

"$SB" --headless stray </dev/null >"$tmp/out" 2>"$tmp/err"
status=$?
check "a stray argument exits 2 and is named" sh -c "[ $status -eq 2 ] &&
    grep -qF \"unexpected argument 'stray'\" '$tmp/err'"

"$SB" --headless -x "$tmp/missing.sb" >"$tmp/out" 2>"$tmp/err"
status=$?
check "a missing script exits non-zero and says so" sh -c "[ $status -ne 0 ] &&
    grep -qF 'error: cannot open $tmp/missing.sb' '$tmp/err'"

: >"$tmp/file"
"$SB" --headless --log-dir "$tmp/file/logs" </dev/null >"$tmp/out" \
    2>"$tmp/err"
status=$?
check "an impossible --log-dir exits non-zero and says so" \
    sh -c "[ $status -ne 0 ] && grep -qF 'synbridge: --log-dir:' '$tmp/err'"

# -v says which time slice the threads run with, and why
env -u SYNBRIDGE_SHORT_SLICE "$SB" --headless -v </dev/null >"$tmp/out" \
    2>"$tmp/err"
check "-v says the time slice the console's threads run with" \
    grep -qE '^synbridge: (threads run with a 0\.1 ms time slice|asked for a 0\.1 ms time slice; this kernel keeps|the kernel refused a 0\.1 ms time slice|the console runs under a policy other than SCHED_OTHER)' \
    "$tmp/err"
SYNBRIDGE_SHORT_SLICE=0 "$SB" --headless -v </dev/null >"$tmp/out" \
    2>"$tmp/err"
check "-v with SYNBRIDGE_SHORT_SLICE=0 says it is off" \
    grep -qF 'synbridge: SYNBRIDGE_SHORT_SLICE=0: threads keep the kernel' \
    "$tmp/err"
env -u SYNBRIDGE_SHORT_SLICE "$SB" --headless --fast -v </dev/null \
    >"$tmp/out" 2>"$tmp/err"
check "-v with --fast says the console keeps the kernel's slice" \
    grep -qF 'synbridge: --fast: the console keeps the kernel' "$tmp/err"

# A signal stops the console cleanly: while the demo's events are on their
# way to its relay (most of the time), the flush at the end used to make a
# signal look like --duration running out (status 1, "the session ended
# (--duration) before every command ran"). Three times, as events are not
# always in flight.
printf 'help quit\nwait 60\n' >"$tmp/sig.sx"
signal_clean() {
	for i in 1 2 3; do
		"$SB" --demo --headless -x "$tmp/sig.sx" >"$tmp/sig.out" \
		    2>"$tmp/sig.err" &
		sig_pid=$!
		if ! wait_for 30 grep -q '^usage: quit' "$tmp/sig.out"; then
			kill "$sig_pid" 2>/dev/null
			wait "$sig_pid"
			diag "the demo did not start:" "$(cat "$tmp/sig.err")"
			return 1
		fi
		kill -INT "$sig_pid"
		wait "$sig_pid"
		sig_status=$?
		if [ "$sig_status" -ne 0 ] || grep -q -- '--duration' \
		    "$tmp/sig.err"; then
			diag "run $i: status $sig_status:" "$(cat "$tmp/sig.err")"
			return 1
		fi
	done
	return 0
}
check "SIGINT stops a headless demo with status 0, not as --duration" \
    signal_clean
