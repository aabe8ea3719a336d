#!/bin/sh
# Recording onto a disk that fills up: the session goes on, the failure is
# said once (not twice a second), and nothing already written is harmed.
. "${top_srcdir:-.}/tests/headless-common.sh"
echo "1..3"
mnt="$tmp/small"
mkdir "$mnt"
if ! mount -t tmpfs -o size=200k tmpfs "$mnt" 2>/dev/null; then
	for i in 1 2 3; do skip "a small tmpfs cannot be mounted here"; done
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
