#!/bin/sh
# relay-presence.sh: each console shows the other sites of its session as
# the relay sees them (link, links.csv): up while their console is there,
# degraded when it stops reading (it was killed), and degraded,
# then down, when it is not heard any more (stopped, hung or cut off),
# up again when it comes back. TAP.
. "${top_srcdir:-.}/tests/headless-common.sh"
. "$top_srcdir/tests/relay-common.sh"
echo "1..10"

relay_tokens "padova d1 * */* -" "zurich d1 * */* -"
relay_spawn 0
p_pid=
z_pid=
trap 'kill -CONT $p_pid 2>/dev/null; kill -9 $relay_pid $p_pid $z_pid \
    2>/dev/null; [ -n "$SB_KEEP" ] || rm -rf "$tmp"' EXIT
relay_up

# start SITE: a console of SITE reading its commands from $tmp/SITE.in
start() {
	{
		echo "site $1"
		echo "load relay url=https://$addr token_file=$tmp/tok.$1 pin=$pin"
		echo "load test_neurons name=n units=2 period_ms=50"
	} >"$tmp/$1.conf"
	[ -p "$tmp/$1.in" ] || mkfifo "$tmp/$1.in"
	"$SB" --headless --plugin-dir "$PLUGDIR" -c "$tmp/$1.conf" \
	    --log-dir "$tmp/$1" --duration 300 <"$tmp/$1.in" \
	    >"$tmp/$1.out" 2>"$tmp/$1.err" &
}
start zurich
z_pid=$!
exec 3>"$tmp/zurich.in"
start padova
p_pid=$!
exec 4>"$tmp/padova.in"

# padova as zurich sees it: 'link' (asked afresh each time) says STATE
# and TEXT (the lines between the marks before and after it)
n=0
padova_is() {
	n=$((n + 1))
	echo "link" >&3
	echo "mark ask$n" >&3
	wait_for 10 grep -q "^ask$n\$" "$tmp/zurich.out" || return 1
	awk -v a="ask$((n - 1))" -v b="ask$n" '$0 == a { on = 1; next }
	    $0 == b { exit } on || a == "ask0"' "$tmp/zurich.out" |
	    grep -q "^zurich/padova via relay $1: $2"
}

check "zurich shows padova up while its console is there" \
    wait_for 30 padova_is up "its console heard [0-9.]* s ago, 1 read open"
check "and zurich's own site is not shown as another" \
    sh -c "! grep -q '^zurich/zurich via relay' '$tmp/zurich.out'"

# padova's console hangs (SIGSTOP): not heard any more
kill -STOP "$p_pid"
check "a hung console is degraded within seconds: not heard" \
    wait_for 30 padova_is degraded "its console not heard for [0-9]* s"
check "then down" wait_for 30 padova_is down "its console not heard"
kill -CONT "$p_pid"
check "back: up again" \
    wait_for 30 padova_is up "its console heard [0-9.]* s ago, 1 read open"

# padova's console is killed: it stops reading at once
kill -9 "$p_pid"
wait "$p_pid" 2>/dev/null
check "a killed console is degraded: it stopped reading" \
    wait_for 20 padova_is degraded "its console heard .* but it stopped reading"
check "links.csv records padova's rows beside zurich's link" \
    grep -q '^[0-9.]*,zurich/padova via relay,degraded,' "$tmp/zurich/links.csv"
# (an up row of another site: no retransmits or queue of its own)
check "links.csv leaves another site's retransmits and queue empty" \
    grep -q '^[0-9.]*,zurich/padova via relay,up,,,,,,,,' "$tmp/zurich/links.csv"
# headless zurich said each change on stderr, with the reason (back from
# its hang, padova may be degraded a moment first: its reads reconnect)
check "zurich's stderr says padova degraded, then down, with why" \
    sh -c "grep -q '^link zurich/padova via relay: up -> degraded: its console not heard for' '$tmp/zurich.err' &&
	grep -q '^link zurich/padova via relay: degraded -> down: its console not heard' '$tmp/zurich.err'"
# (headless looks at its links once a second: the last change may be
# a moment behind what 'link' answered)
check "and up again, and that it stopped reading" \
    wait_for 10 sh -c "grep -q '^link zurich/padova via relay: [a-z]* -> up\$' '$tmp/zurich.err' &&
	grep -q '^link zurich/padova via relay: up -> degraded: its console heard .* but it stopped reading' '$tmp/zurich.err'"
echo quit >&3
