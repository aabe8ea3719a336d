# ramp-common.sh: helpers for the end-to-end tests of the ramp plugin
# against the emulated peers of the RAMP UDP link (tests/ramp-peer) and
# against each other. Sourced after headless-common.sh.
RP="$top_builddir/tests/ramp-peer"
pids=
trap 'kill $pids 2>/dev/null; [ -n "$SB_KEEP" ] || rm -rf "$tmp"' EXIT

# need_peer N: without the emulator, skip the N checks of the script.
need_peer() {
	if [ ! -x "$RP" ]; then
		i=0
		while [ $i -lt "$1" ]; do
			skip "tests/ramp-peer is not built"
			i=$((i + 1))
		done
		exit 0
	fi
}

# ready NAME: NAME's stdout has the peer's `ready PORT` line.
ready() { grep -qs '^ready' "$tmp/$1.out"; }
# port NAME: the port of NAME's `ready PORT` line.
port() { sed -n 's/^ready //p' "$tmp/$1.out"; }
# summary NAME MODE: NAME's stdout has the peer's summary line.
summary() { grep -qs "^$2 " "$tmp/$1.out"; }
# key NAME KEY: a value of NAME's summary line.
key() {
	awk -v k="$2=" '$1 ~ /^[a-z]+$/ && $1 != "ready" {
		for (i = 2; i <= NF; i++)
			if (index($i, k) == 1)
				print substr($i, length(k) + 1)
	}' "$tmp/$1.out"
}
# finish NAME MODE PID SECONDS: wait for the peer's summary, TERM it past
# the deadline; its exit status in $status.
finish() {
	if ! wait_for "$4" summary "$1" "$2"; then
		diag "$1 did not finish in $4 s, sending TERM"
		kill -TERM "$3" 2>/dev/null
	fi
	wait "$3"
	status=$?
}
# rx_s LOG: 'S' datagrams a peer received.
rx_s() { awk '$2 == "rx" && $3 == "S"' "$1" | wc -l; }
# rx_s_after LOG T: 'S' datagrams received after monotonic time T (us).
rx_s_after() { awk -v t="$2" '$1 > t && $2 == "rx" && $3 == "S"' "$1" | wc -l; }
# at_least N CMD...: the number CMD prints is at least N.
at_least() { n=$1; shift; [ "$("$@")" -ge "$n" ]; }

# free_port: a UDP port on 127.0.0.1 that nothing holds right now (the
# kernel's choice for a peer that is then stopped).
free_port() {
	"$RP" echo --listen 127.0.0.1:0 --duration 30 >"$tmp/probe.out" \
	    2>/dev/null &
	probe=$!
	wait_for 10 ready probe || return 1
	port probe
	kill "$probe" 2>/dev/null
	wait "$probe" 2>/dev/null
	rm -f "$tmp/probe.out"
}

# console NAME CONF: a headless console (real time, informational messages
# on stderr, CSV in $tmp/NAME) reading commands from the FIFO $tmp/NAME.in;
# its pid in $console_pid. The caller opens the FIFO for writing and ends
# the console with `quit` (60 s of session time are only a deadline).
console() {
	mkfifo "$tmp/$1.in"
	"$SB" --headless -v -c "$2" --log-dir "$tmp/$1" --duration 60 \
	    <"$tmp/$1.in" >"$tmp/$1.out" 2>"$tmp/$1.err" &
	console_pid=$!
	pids="$pids $console_pid"
}
# node_port NAME: the port console NAME's ramp node bound.
node_port() {
	sed -n 's/^ramp: node on 127\.0\.0\.1:\([0-9]*\):.*/\1/p' \
	    "$tmp/$1.err" 2>/dev/null
}
# site_port NAME: the port console NAME's ramp neuron site bound.
site_port() {
	sed -n 's/^ramp: .* listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' \
	    "$tmp/$1.err" 2>/dev/null
}
# has_port FN NAME: FN NAME printed a port.
has_port() { [ -n "$($1 "$2")" ]; }
# node_addr NAME: console NAME's node address once it is bound.
node_addr() {
	wait_for 20 has_port node_port "$1" && echo "127.0.0.1:$(node_port "$1")"
}
# rows FILE COLUMN VALUE: CSV rows (after the header) with that value.
rows() { awk -F, -v c="$2" -v v="$3" 'NR > 1 && $c == v' "$1" | wc -l; }
# link_line NAME: the last `link` line of console NAME for its ramp link.
link_line() { grep '/ramp ' "$tmp/$1.out" | tail -n 1; }
# link_field NAME WORD: the number after WORD in console NAME's link line.
link_field() {
	link_line "$1" | awk -v w="$2" '{
		for (i = 1; i < NF; i++)
			if ($i == w) { print $(i + 1); exit }
	}'
}
