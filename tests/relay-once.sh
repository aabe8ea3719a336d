#!/bin/sh
# relay-once.sh: a command one site asks another to run runs there at
# most once: a console killed and started again on the same state does
# not run it again when the relay hands the control stream over anew, and
# a command that arrives after its lifetime is not run but answered
# "expired", at both ends. TAP.
. "${top_srcdir:-.}/tests/headless-common.sh"
. "$top_srcdir/tests/relay-common.sh"
echo "1..10"

relay_tokens "padova o1 * */* southampton" "southampton o1 * */* padova"
relay_spawn 0
pids="$relay_pid"
trap 'kill -9 $pids 2>/dev/null; [ -n "$SB_KEEP" ] || rm -rf "$tmp"' EXIT
relay_up
# the state directory the consoles remember what they ran in
XDG_STATE_HOME="$tmp/state"
export XDG_STATE_HOME

# padova N [FIRST]: a padova console logging to $tmp/pN
padova() {
	{
		echo "site padova"
		[ -n "$2" ] && echo "$2"
		echo "load relay url=https://$addr token_file=$tmp/tok.padova pin=$pin"
		echo "mark linked"
	} >"$tmp/p$1.conf"
	"$SB" --headless -c "$tmp/p$1.conf" --log-dir "$tmp/p$1" \
	    --duration 120 </dev/null >"$tmp/p$1.out" 2>&1 &
	p_pid=$!
	pids="$pids $p_pid"
}
# audited N TEXT: padova console N's commands.csv holds TEXT
audited() { grep -q "$2" "$tmp/p$1/commands.csv" 2>/dev/null; }

padova 1
wait_for 20 audited 1 'mark linked'
mkfifo "$tmp/in"
{
	echo "site southampton"
	echo "load relay url=https://$addr token_file=$tmp/tok.southampton pin=$pin"
} >"$tmp/s.conf"
"$SB" --headless -c "$tmp/s.conf" --log-dir "$tmp/s" --duration 120 \
    <"$tmp/in" >"$tmp/s.out" 2>"$tmp/s.err" &
pids="$pids $!"
exec 3>"$tmp/in"
echo 'at padova mark "once"' >&3
check "padova runs a command southampton sends" \
    wait_for 30 audited 1 '@southampton,mark once,ok'

# kill -9 and start again on the same state: the relay hands the control
# stream over from its start, and the command must not run again
kill -9 $p_pid
padova 2
check "the restarted console is handed the old command and does not run it" \
    wait_for 30 audited 2 '@southampton,mark once,\(duplicate\|expired\)'
check "it says so in commands.csv" \
    wait_for 5 audited 2 'not run: '
runs=$(grep -c ',mark once,ok' "$tmp/p2/commands.csv")
check "and it never ran there ($runs)" [ "$runs" -eq 0 ]

# a command for a console that comes up after its lifetime has ended
kill -9 $p_pid
echo 'at -t 0.2 padova mark "late"' >&3
padova 3 "wait 1"
check "a command that arrives after its lifetime is not run" \
    wait_for 30 audited 3 '@southampton,mark late,expired'
check "the sender learns it expired" \
    wait_for 30 grep -q 'padova: expired: not run' "$tmp/s.err"
runs=$(grep -c ',mark late,ok' "$tmp/p3/commands.csv")
check "and it never ran ($runs)" [ "$runs" -eq 0 ]

# --duration is this console's own running time, though the relay moves
# its clock to the session's (which has run for a while by now)
kill -9 $p_pid
{
	echo "site padova"
	echo "load relay url=https://$addr token_file=$tmp/tok.padova pin=$pin"
} >"$tmp/p4.conf"
t0=$(date +%s%N)
"$SB" --headless -c "$tmp/p4.conf" --log-dir "$tmp/p4" --duration 3 \
    </dev/null >"$tmp/p4.out" 2>&1
ran=$((($(date +%s%N) - t0) / 1000000))
check "--duration 3 runs the console about 3 s ($ran ms)" [ "$ran" -ge 2900 ]

# a proxy in the environment does not stand between a console and a
# relay on this machine (loopback never goes through a proxy)
{
	echo "site padova"
	echo "load relay url=https://$addr token_file=$tmp/tok.padova pin=$pin"
	echo "mark linked"
} >"$tmp/p5.conf"
https_proxy=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 \
    "$SB" --headless -c "$tmp/p5.conf" --log-dir "$tmp/p5" --duration 60 \
    </dev/null >"$tmp/p5.out" 2>&1 &
p5_pid=$!
pids="$pids $p5_pid"
# links.csv gets a row a second: wait for a few rows of the link up
up_rows() {
	[ "$(grep -c '^[0-9.]*,padova/relay[^,]*,up,' "$tmp/p5/links.csv" \
	    2>/dev/null)" -ge 3 ]
}
check "with https_proxy set, the loopback link still comes up" \
    wait_for 30 up_rows
kill -TERM "$p5_pid"
wait "$p5_pid"
[ -f "$tmp/p5/links.csv" ] || diag "$(cat "$tmp/p5.out")"
# the offset shown and recorded is this console's clock minus the
# relay's: about 0 on one machine, not minus the host's uptime
far=$(awk -F, 'NR > 1 && $2 ~ /relay/ && $3 == "up" && $6 != "" &&
    ($6 > 5 || $6 < -5)' "$tmp/p5/links.csv" | wc -l)
near=$(awk -F, 'NR > 1 && $2 ~ /relay/ && $3 == "up" && $6 != ""' \
    "$tmp/p5/links.csv" | wc -l)
check "links.csv offsets are within 5 ms of the relay ($far of $near rows beyond)" \
    [ "$near" -gt 0 -a "$far" -eq 0 ]
