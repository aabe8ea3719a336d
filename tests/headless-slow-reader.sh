#!/bin/sh
# headless-slow-reader.sh: a reader of headless synbridge's output that
# does not read (a pager scrolled back, a stopped pipeline) holds up only
# the output, never the session: the experiment runs on in real time and
# is recorded while the results wait. Once read, every result is there; a
# flood past the output bound (8 MiB waiting) drops lines, says how many,
# and ends with a non-zero status. TAP.
. "${top_srcdir:-.}/tests/headless-common.sh"

# a site whose units spike steadily (1600 spikes/s): spikes.csv grows by
# about 40 KB at each half-second flush
printf 'site lab\nload test_neurons name=n units=8 period_ms=5\n' \
    >"$tmp/steady.conf"
CONF="$tmp/steady.conf"
echo "1..13"

# size FILE: its size in bytes (0 if it is not there yet).
size() {
	if [ -f "$1" ]; then
		wc -c <"$1" | tr -d ' '
	else
		echo 0
	fi
}

# grows FILE FROM: the file holds more than FROM bytes.
grows() {
	[ "$(size "$1")" -gt "$2" ]
}

# run N DURATION [--fast]: the steady session for DURATION s (in real time
# unless --fast), with N 'help' commands (2 KiB each) after it, its output
# into a fifo whose reader reads nothing until "$tmp/go" exists.
run() {
	rm -rf "$tmp/rec" "$tmp/go" "$tmp/fifo" "$tmp/status"
	mkfifo "$tmp/fifo"
	{
		cat "$CONF"
		i=0
		while [ "$i" -lt "$1" ]; do
			echo help
			i=$((i + 1))
		done
	} >"$tmp/script"
	# the reader: opens the fifo, then reads nothing until told to
	(
		while [ ! -e "$tmp/go" ]; do
			sleep 0.05
		done
		cat
	) <"$tmp/fifo" >"$tmp/out" &
	reader=$!
	{
		"$SB" --headless --plugin-dir "$PLUGDIR" -c "$tmp/script" \
		    --duration "$2" $3 --log-dir "$tmp/rec" </dev/null \
		    >"$tmp/fifo" 2>"$tmp/err"
		echo $? >"$tmp/status"
	} &
	console=$!
}

# finish: let the reader read, then wait for both (60 s at most).
finish() {
	touch "$tmp/go"
	if ! wait_for 60 test -s "$tmp/status"; then
		kill "$console" "$reader" 2>/dev/null
		echo 124 >"$tmp/status"
	fi
	wait "$reader" 2>/dev/null
	wait "$console" 2>/dev/null
	status=$(cat "$tmp/status")
}

# 1. 1000 results (2 MiB), far more than a pipe holds, wait unread
run 1000 6
# the recording has started, and the pipe is full by now ...
wait_for 30 grows "$tmp/rec/spikes.csv" 0
from=$(size "$tmp/rec/spikes.csv")
# ... yet spikes go on being recorded while nothing is read
check "the session records on while its output is not read" \
    wait_for 30 grows "$tmp/rec/spikes.csv" $((from + 20000))
check "and its output is still waiting (the console runs on)" \
    [ ! -s "$tmp/status" ]
finish
check "it ends with status 0 once read (status $status)" [ "$status" -eq 0 ]
n=$(grep -c '^synapses' "$tmp/out")
check "every one of the 1000 results arrives ($n)" [ "$n" -eq 1000 ]
check "and nothing was dropped" empty "$tmp/err"

# 2. 6000 results (13 MiB): past the bound, lines are dropped and said
run 6000 4
wait_for 30 grows "$tmp/rec/spikes.csv" 0
from=$(size "$tmp/rec/spikes.csv")
check "the session records on past the output bound too" \
    wait_for 30 grows "$tmp/rec/spikes.csv" $((from + 20000))
finish
check "a flood past the bound ends with a non-zero status ($status)" \
    [ "$status" -ne 0 -a "$status" -ne 124 ]
n=$(grep -c '^synapses' "$tmp/out")
check "the results up to the bound arrive (3000-5999: $n)" \
    [ "$n" -ge 3000 -a "$n" -lt 6000 ]
check "and the drop is told, with its count" \
    contains "$tmp/err" "lines were dropped: the reader of the output did not keep up"

# 3. --fast (an offline run, no loop to keep): it waits for its reader
# rather than drop anything
run 6000 30 --fast
# the console's threads: one is held in a write to the full fifo
held_in_write() {
	for p in $(pgrep -f "synbridge --headless --plugin-dir .* -c $tmp/script"); do
		grep -qs '^1 ' /proc/"$p"/task/*/syscall && return 0
	done
	return 1
}
check "--fast: the console waits in a write while nothing is read" \
    wait_for 30 held_in_write
check "and is not done" [ ! -s "$tmp/status" ]
finish
check "and ends with status 0 once read ($status)" [ "$status" -eq 0 ]
n=$(grep -c '^synapses' "$tmp/out")
check "with every one of the 6000 results ($n)" [ "$n" -eq 6000 ]
