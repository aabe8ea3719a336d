#!/bin/sh
# relay-answers.sh: answers are never built whole. Reads (wait=0 too) are
# sent in blocks from memory or the spool, a wait=0 read stops after 64
# MiB of whole batches, a control answer holds at most 64 KiB of whole
# lines, and control messages are bounded in memory (the last 4096, at
# most 16 MiB, per session). Clients that ask and
# then stop reading cannot make the relay hold what they asked for. TAP.
. "${top_srcdir:-.}/tests/headless-common.sh"
. "$top_srcdir/tests/relay-common.sh"
echo "1..19"
if [ "$have_python" = 0 ]; then
	for i in $(seq 19); do skip "no python3"; done
	exit 0
fi
hold_pid=
trap 'exec 7>&-; [ -z "$hold_pid" ] || kill $hold_pid 2>/dev/null; relay_stop; rm -rf "$tmp"' EXIT
relay_tokens "a q * */* b" "b q * */* a"
printf 's 1\n' >"$tmp/streams"
mkfifo "$tmp/hold.in"

# hold N PATH: N clients send GET PATH, read one byte and stop reading
hold() {
	: >"$tmp/hold.out" # before the FIFO opens: no stale "held" line
	poke hold "$1" "$2" "$tmp/tok.b" <"$tmp/hold.in" >"$tmp/hold.out" 2>&1 &
	hold_pid=$!
	exec 7>"$tmp/hold.in"
	wait_for 30 grep -q "^held $1" "$tmp/hold.out" ||
	    diag "$(cat "$tmp/hold.out")"
}
unhold() {
	exec 7>&-
	wait "$hold_pid"
	hold_pid=
}

# 78 MB in memory: 5 bodies of 1300 batches of 1000 spikes (12048 bytes).
relay_spawn 0 --max-memory 128
relay_up
# Its descriptor table holds what its bounds need from the start (grown
# while it serves, it would stop the HTTP thread for an RCU grace period).
fdsize=$(awk '/^FDSize:/ { print $2 }' "/proc/$relay_pid/status")
soft=$(awk '/^Max open files/ { print $4 }' "/proc/$relay_pid/limits")
want=1024
[ "$soft" = unlimited ] || [ "$soft" -ge 1024 ] || want=$soft
check "the relay's descriptor table is grown at start ($fdsize of $soft)" \
    [ "${fdsize:-0}" -ge "$want" ]
poke request POST /v1/streams "$tmp/tok.a" "$tmp/streams" >/dev/null
for k in 0 1 2 3 4; do
	"$BODY" 1 $((1 + k * 1300)) 1300 1000 >"$tmp/r.$k"
done
poke publish "$tmp/tok.a" "$tmp/r.0" "$tmp/r.1" "$tmp/r.2" "$tmp/r.3" \
    "$tmp/r.4" >"$tmp/pub.out"
check "78 MB of batches are stored" contains "$tmp/pub.out" "1 6500"
before=$(rss_kb)
hold 8 "/v1/read?streams=1:0&wait=0"
rss=$(rss_kb)
check "8 wait=0 reads of it held unread: $((rss - before)) kB more resident" \
    [ $((rss - before)) -le 32000 ]
unhold
poke readall "$tmp/tok.b" 1 >"$tmp/all.out"
diag "$(cat "$tmp/all.out")"
check "a wait=0 read stops after 64 MiB of whole batches, the next goes on" \
    contains "$tmp/all.out" "answers 2 batches 6500 gaps 0 last 6500 largest 67119408"
relay_stop

# The same from the spool, with almost nothing in memory; stream 2 holds
# 5 batches of 12 MB.
relay_spawn 0 --max-memory 1 --spool "$tmp/spool"
relay_up
printf 's 1\nbig 1\n' >"$tmp/streams"
poke request POST /v1/streams "$tmp/tok.a" "$tmp/streams" >/dev/null
poke publish "$tmp/tok.a" "$tmp/r.0" "$tmp/r.1" "$tmp/r.2" "$tmp/r.3" \
    "$tmp/r.4" >"$tmp/pub.out"
rm -f "$tmp"/r.*
for k in 1 2 3 4 5; do
	"$BODY" 2 $k 1 1000000 >"$tmp/big"
	poke publish "$tmp/tok.a" "$tmp/big" >"$tmp/pub.out"
done
check "5 batches of 12 MB are stored" contains "$tmp/pub.out" "2 5"
rm -f "$tmp/big"
before=$(rss_kb)
hold 8 "/v1/read?streams=2:0"
rss=$(rss_kb)
check "8 streaming reads of them from the spool held unread: \
$((rss - before)) kB more" [ $((rss - before)) -le 16000 ]
unhold
poke readall "$tmp/tok.b" 1 >"$tmp/all.out"
check "reads from the spool bring every batch, without gaps" \
    contains "$tmp/all.out" "batches 6500 gaps 0 last 6500"
relay_stop

# A reader stalled in the middle of a 16 MB batch that is then dropped
# from memory: with a spool it gets the rest from there; without, its
# read ends and the next read gets a gap. It keeps no batch alive.
# stalled UNTIL [OPTION...]: a relay holding batch 1 (b1) of stream 1,
# read by a reader stalled in it (hold_pid; it reads on to UNTIL after a
# line on fd 7)
stalled() {
	until=$1
	shift
	relay_spawn 0 "$@"
	relay_up
	poke request POST /v1/streams "$tmp/tok.a" "$tmp/streams" >/dev/null
	poke publish "$tmp/tok.a" "$tmp/b1" >/dev/null
	poke stall "$tmp/tok.b" 1 "$until" <"$tmp/hold.in" >"$tmp/stall.out" &
	hold_pid=$!
	exec 7>"$tmp/hold.in"
	wait_for 20 grep -q stalled "$tmp/stall.out"
}
# stall [OPTION...]: that, printing the stalled reader's and a new read's
stall() {
	stalled 3 --max-memory 20 "$@"
	poke publish "$tmp/tok.a" "$tmp/b2" "$tmp/b3" >/dev/null
	echo go >&7
	unhold
	poke readall "$tmp/tok.b" 1 >>"$tmp/stall.out"
	diag "$(cat "$tmp/stall.out")"
	relay_stop
}
printf 's 1\n' >"$tmp/streams"
for k in 1 2 3; do
	"$BODY" 1 $k 1 1390000 >"$tmp/b$k"
done
stall --spool "$tmp/spool2"
check "stalled in a batch dropped from memory, a reader finishes it from \
the spool" contains "$tmp/stall.out" "batches 3 gaps 0 last 3 cut 0 end open"
stall
check "without a spool its read ends there" \
    contains "$tmp/stall.out" "batches 0 gaps 0 last 0 cut 1 end closed"
check "and the next read gets a gap, then the rest" \
    contains "$tmp/stall.out" "answers 1 batches 1 gaps 1 last 3"
check "the relay's log says why that read ended, and what to do" \
    contains "$tmp/relay.out" "by site b ends in the middle of batch 1 of \
stream 1: the batch left memory under --max-memory and there is no --spool"
check "and not with libmicrohttpd's 'application error'" \
    sh -c "! grep -q 'application error' '$tmp/relay.out'"

# A reader that goes away in the middle of a read (its console quit): the
# relay's log says so, in its words before libmicrohttpd's "Failed to
# send" when a send failed, or with its own when the read was waiting for
# batches (the relay closes a waiting read whose client has gone).
stalled 1
kill -9 "$hold_pid"
exec 7>&-
wait "$hold_pid" 2>/dev/null
hold_pid=
gone="a reader closed its connection during a read (its console quit"
wait_for 20 grep -q "$gone" "$tmp/relay.out"
diag "$(grep "$gone" "$tmp/relay.out")"
check "a reader gone during a read is logged as such" \
    grep -q "$gone.*\(Failed to send the chunked response body for the \
request for \`/v1/read'\|seen while its read of /v1/read waited\)" \
    "$tmp/relay.out"
check "and the relay serves on" eval 'poke metric \
    synbridge_relay_connections >/dev/null'
relay_stop
rm -f "$tmp"/b?

# Control: answers of whole lines up to 64 KiB; the client asks again.
relay_spawn 0
relay_up
head -c 700 /dev/zero | tr '\0' x >"$tmp/cmd"
poke commands "$tmp/tok.a" b 1000 "$tmp/cmd" >/dev/null
poke drain "$tmp/tok.b" >"$tmp/drain.out"
diag "$(cat "$tmp/drain.out")"
largest=$(sed -n 's/.* largest \([0-9]*\) .*/\1/p' "$tmp/drain.out")
drained() {
	contains "$tmp/drain.out" "messages 1000 " && [ "$largest" -le 65536 ]
}
check "1000 commands of 700 bytes come in order, in answers of at most \
64 KiB (largest $largest)" drained
relay_stop
# 5000 short commands: a session keeps the last 4096.
relay_spawn 0
relay_up
printf 'status\n' >"$tmp/short"
poke commands "$tmp/tok.a" b 5000 "$tmp/short" >/dev/null
poke drain "$tmp/tok.b" >"$tmp/drain.out"
kept4096() { contains "$tmp/drain.out" "messages 4096 " &&
    contains "$tmp/drain.out" " first 905 last 5000"; }
check "of 5000 control messages a session keeps the last 4096 \
($(cat "$tmp/drain.out"))" kept4096
# 300 commands of 60 KB (messages 5001 to 5300): 18 MB, more than a
# session keeps (16 MiB).
head -c 45000 /dev/urandom | base64 -w0 >"$tmp/cmd"
poke commands "$tmp/tok.a" b 300 "$tmp/cmd" >/dev/null
kept=$(poke metric synbridge_relay_control_bytes)
kept_ok() { [ "$kept" -le 16777216 ] && [ "$kept" -ge 15000000 ]; }
check "control messages kept in memory stay within 16 MiB ($kept bytes)" \
    kept_ok
poke drain "$tmp/tok.b" >"$tmp/drain.out"
diag "$(cat "$tmp/drain.out")"
check "the newest are kept, the oldest dropped" \
    contains "$tmp/drain.out" " last 5300"
before=$(rss_kb)
hold 8 "/v1/control?after=0"
rss=$(rss_kb)
# a sanitizer's runtime adds its own shadow and quarantine to each block
if sanitized; then
	skip "resident size under a sanitizer is its runtime's too ($((rss - before)) kB)"
else
	check "8 control answers held unread: $((rss - before)) kB more resident" \
	    [ $((rss - before)) -le 8000 ]
fi
unhold
