#!/bin/sh
# relay-soak.sh: one session through a relay that is killed with kill -9
# SOAK_RELAY_KILLS times (default 25) and restarted on its spool, while
# each of three consoles is restarted SOAK_RESTARTS times (default 10):
# a and b publish spikes and read each other (restarted with SIGTERM,
# which flushes what they queued), c reads both and sends commands to
# both with `at` (restarted with kill -9, on the same log directory and
# state). At the end it prints, per path, events sent, received, lost and
# doubled; commands sent, run and run twice; and the gaps the consoles
# reported. Not part of `make check`: run it from a built tree,
#     tests/relay-soak.sh
# (about two minutes; SB_KEEP=1 keeps the files). Exit status 1 if any
# event was lost without a gap, doubled, or any command ran twice.
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$top_srcdir/tests/headless-common.sh"
. "$top_srcdir/tests/relay-common.sh"
# the test plugins it loads are built with the test programs
if [ ! -f "$PLUGDIR/test_neurons.so" ]; then
	echo "soak: building the test plugins (make check TESTS=)" >&2
	make -C "$top_builddir" -s check TESTS= >/dev/null ||
	    { echo "soak: cannot build the test plugins" >&2; exit 2; }
fi
kills=${SOAK_RELAY_KILLS:-25}
restarts=${SOAK_RESTARTS:-10}

relay_tokens "a soak * */* *" "b soak * */* *" "c soak * */* *"
relay_spawn 0 --spool "$tmp/spool"
pids="$relay_pid"
trap 'kill -9 $pids 2>/dev/null; [ -n "$SB_KEEP" ] && echo "kept $tmp" || rm -rf "$tmp"' EXIT
relay_up
XDG_STATE_HOME="$tmp/state"
export XDG_STATE_HOME
for s in a b c; do
	{
		echo "site $s"
		echo "load relay url=https://$addr token_file=$tmp/tok.$s pin=$pin"
		[ "$s" = c ] || echo "load test_neurons name=n units=4 period_ms=10"
	} >"$tmp/$s.conf"
done
echo "remote b/n 4" >>"$tmp/a.conf"
echo "remote a/n 4" >>"$tmp/b.conf"
printf 'remote a/n 4\nremote b/n 4\n' >>"$tmp/c.conf"

# start SITE: a console on its own log directory; c reads commands from a fifo
start() {
	if [ "$1" = c ]; then
		rm -f "$tmp/c.in"
		mkfifo "$tmp/c.in"
		"$SB" --headless --plugin-dir "$PLUGDIR" -c "$tmp/c.conf" \
		    --log-dir "$tmp/c" <"$tmp/c.in" >>"$tmp/c.out" 2>&1 &
		c_pid=$!
		exec 5>"$tmp/c.in"
		c_rows0=$(grep -c ',at [ab] mark soak-' "$tmp/c/commands.csv" 2>/dev/null)
		c_typed=0
	else
		"$SB" --headless --plugin-dir "$PLUGDIR" -c "$tmp/$1.conf" \
		    --log-dir "$tmp/$1" --duration 3600 </dev/null \
		    >>"$tmp/$1.out" 2>&1 &
		eval "${1}_pid=\$!"
	fi
	pids="$pids $(eval echo "\$${1}_pid")"
}
# stop SITE: SIGTERM for a and b (they flush), kill -9 for c
stop() {
	p=$(eval echo "\$${1}_pid")
	if [ "$1" = c ]; then
		exec 5>&-
		kill -9 "$p"
	else
		kill -TERM "$p"
	fi
	wait "$p" 2>/dev/null
}
c_answered() {
	[ "$(grep -c ',at [ab] mark soak-' "$tmp/c/commands.csv" 2>/dev/null)" \
	    -ge $((${c_rows0:-0} + c_typed)) ]
}
start a
start b
start c
sleep 2

n=0
round=0
restarted=0
total=$((restarts * 3))
while [ "$round" -lt "$kills" ]; do
	round=$((round + 1))
	# commands from c, each with a text of its own
	for i in 1 2 3; do
		n=$((n + 1))
		echo "at a mark soak-$n" >&5 2>/dev/null
		echo "at b mark soak-$n" >&5 2>/dev/null
		c_typed=$((c_typed + 2))
	done
	kill -9 "$relay_pid"
	wait "$relay_pid" 2>/dev/null
	sleep "0.$((round % 7 + 2))"
	relay_spawn "$port" --spool "$tmp/spool"
	pids="$pids $relay_pid"
	relay_up
	# let c's commands of this round come back (done, refused, expired)
	# before the next blow, so that the soak measures more than the wait
	wait_for 20 c_answered
	# spread the console restarts over the relay's deaths
	while [ $((restarted * kills)) -lt $((round * total)) ]; do
		s=$(echo a b c | cut -d' ' -f$((restarted % 3 + 1)))
		stop "$s"
		sleep 0.3
		start "$s"
		restarted=$((restarted + 1))
	done
	sleep 1
done
echo "soak: $round relay kills, $restarted console restarts, $((n * 2)) commands sent"

# quiet end: the publishers quit cleanly (b reads a to its end), c
# catches up with both
sleep 3
stop a
sleep 2
stop b
rows() { awk -F, -v s="$2" 'NR > 1 && $2 == s { print $1, $4 }' "$1/spikes.csv" | sort; }
caught_up() {
	[ "$(rows "$tmp/c" a | wc -l)" -ge "$(rows "$tmp/a" a | wc -l)" ] &&
	    [ "$(rows "$tmp/c" b | wc -l)" -ge "$(rows "$tmp/b" b | wc -l)" ]
}
wait_for 60 caught_up
exec 5>&-
kill -TERM "$c_pid"
wait "$c_pid" 2>/dev/null

bad=0
printf '%-6s %8s %8s %6s %7s %5s\n' path sent received lost doubled gaps
for path in a:b a:c b:a b:c; do
	from=${path%:*}
	to=${path#*:}
	rows "$tmp/$from" "$from" >"$tmp/sent"
	rows "$tmp/$to" "$from" >"$tmp/received"
	# a reader joins live: what was sent before its first record is not
	# its to have; a and b read until they quit (their last own spike)
	first=$(sort -n "$tmp/received" | head -1 | cut -d' ' -f1)
	last=999999999
	[ "$to" = c ] || last=$(rows "$tmp/$to" "$to" | sort -n | tail -1 | cut -d' ' -f1)
	awk -v t="${first:-0}" -v u="$last" '$1 >= t && $1 <= u' "$tmp/sent" \
	    >"$tmp/sent.after"
	lost=$(comm -23 "$tmp/sent.after" "$tmp/received" | wc -l)
	doubled=$(uniq -d "$tmp/received" | wc -l)
	gaps=$(grep -c ",gap,$from/n" "$tmp/$to/commands.csv" 2>/dev/null)
	printf '%-6s %8d %8d %6d %7d %5d\n' "$from->$to" \
	    "$(wc -l <"$tmp/sent.after")" "$(wc -l <"$tmp/received")" \
	    "$lost" "$doubled" "${gaps:-0}"
	if [ "$doubled" -ne 0 ] || { [ "$lost" -ne 0 ] && [ "${gaps:-0}" -eq 0 ]; }; then
		bad=1
	fi
	# a soak that moved nothing proves nothing
	if [ "$(wc -l <"$tmp/sent.after")" -eq 0 ]; then
		echo "soak: nothing was sent from $from to $to (see $tmp/$from.out)" >&2
		bad=1
	fi
done
for s in a b; do
	# what c sent and what it learnt (c is killed with what it queued)
	answered=$(grep -c ",at $s mark soak-" "$tmp/c/commands.csv")
	outcomes=$(grep ",at $s mark soak-" "$tmp/c/commands.csv" |
	    awk -F, '{ print $5 }' | sort | uniq -c | awk '{ printf "%s%s %s", s, $1, $2; s = ", " }')
	ran=$(grep -c ',@c,mark soak-[0-9]*,ok,' "$tmp/$s/commands.csv")
	twice=$(grep ',@c,mark soak-[0-9]*,ok,' "$tmp/$s/commands.csv" |
	    sed 's/.*mark \(soak-[0-9]*\),.*/\1/' | sort | uniq -d | wc -l)
	refused=$(grep -c ',@c,mark soak-[0-9]*,\(expired\|duplicate\),' "$tmp/$s/commands.csv")
	echo "commands to $s: $n typed at c, $answered answered to c (${outcomes:-none}), $ran run at $s, $refused refused there as expired or duplicate, $twice run twice"
	[ "$twice" -eq 0 ] || bad=1
done
undelivered=$(cat "$tmp"/a/commands.csv "$tmp"/b/commands.csv | grep -c 'not delivered')
echo "quits that left events undelivered (reported as gaps): $undelivered"
exit $bad
