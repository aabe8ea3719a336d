#!/bin/sh
# headless-files.sh: session files from any editor: a UTF-8 byte-order
# mark, CR-only line ends (old Mac editors) and CRLF (Windows) all read
# as plain lines, and an error still names the right line. TAP.
. "${top_srcdir:-.}/tests/headless-common.sh"

echo "1..5"
printf '\357\273\277site a\rmark "one"\rmark two\r' >"$tmp/bom-cr.conf"
sb -c "$tmp/bom-cr.conf" --duration 0 >"$tmp/out1" 2>"$tmp/err1"
status=$?
check "a file with a byte-order mark and CR line ends runs ($status)" \
    [ "$status" -eq 0 ]
check "every CR-ended line is a command" same "$tmp/out1" "one
two"
printf 'site a\r\nmark crlf\r\nbogus\r\n' >"$tmp/crlf.conf"
sb -c "$tmp/crlf.conf" --duration 0 >"$tmp/out2" 2>"$tmp/err2"
check "CRLF lines run" contains "$tmp/out2" "crlf"
check "an error in a CRLF file names its line" \
    contains "$tmp/err2" "crlf.conf:3: unknown command: bogus"
printf 'site a\rmark x\rbogus\r' >"$tmp/cr.conf"
sb -c "$tmp/cr.conf" --duration 0 >"$tmp/out3" 2>"$tmp/err3"
check "an error in a CR-only file names its line" \
    contains "$tmp/err3" "cr.conf:3: unknown command: bogus"
