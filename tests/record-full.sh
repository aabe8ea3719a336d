#!/bin/sh
# Recording onto a disk that fills up: the session goes on, the failure is
# said once (not twice a second), and nothing already written is harmed.
. "${top_srcdir:-.}/tests/headless-common.sh"
echo "1..5"
mnt="$tmp/small"
mkdir "$mnt"
if ! mount -t tmpfs -o size=200k tmpfs "$mnt" 2>/dev/null; then
	for i in 1 2 3 4 5; do skip "a small tmpfs cannot be mounted here"; done
	exit 0
fi
trap 'umount "$mnt" 2>/dev/null; rm -rf "$tmp"' EXIT
printf 'site a\nload test_neurons name=n units=64 period_ms=1\nwait 6\n' \
    >"$tmp/full.conf"
"$SB" --headless --plugin-dir "$PLUGDIR" -x "$tmp/full.conf" \
    --log-dir "$mnt/log" >"$tmp/out" 2>"$tmp/err"
rc=$?
check "the session ran to its end on a full disk, and its exit status says the recording is incomplete ($rc)" \
    [ $rc -eq 1 ] && grep -q "error: the recording in .* is incomplete" "$tmp/err"
n=$(grep -v "^error: the recording" "$tmp/err" |
    grep -c "write failed: No space left on device")
check "the full disk was reported once ($n)" [ "$n" -eq 1 ]
check "commands.csv, written before, is whole" \
    contains "$mnt/log/commands.csv" "load test_neurons name=n units=64"

# a recording that ended incomplete (record stop) keeps the exit status at
# 1 after a later recording on a good disk
umount "$mnt" && mount -t tmpfs -o size=200k tmpfs "$mnt" || exit 1
printf 'site a\nload test_neurons name=n units=64 period_ms=1\nwait 4\nrecord stop\nrecord start %s\nwait 1\n' \
    "$tmp/good" >"$tmp/again.conf"
"$SB" --headless --plugin-dir "$PLUGDIR" -x "$tmp/again.conf" \
    --log-dir "$mnt/log" >"$tmp/out2" 2>"$tmp/err2"
rc=$?
kept() {
	[ "$rc" -eq 1 ] &&
	    grep -q "an earlier recording of this run is incomplete" "$tmp/err2"
}
check "an earlier incomplete recording keeps the exit status at 1 ($rc)" kept
check "and the later recording was written" \
    contains "$tmp/good/commands.csv" "record start"
