#!/bin/sh
# headless-pipe.sh: when its standard output goes away (the reader of a
# pipe quits), headless synbridge stops with a message on stderr and a
# non-zero status instead of running on and filling its logs. TAP.
. "${top_srcdir:-.}/tests/headless-common.sh"

CONF="$top_srcdir/share/sessions/hybrid-3site/one-machine.conf"
echo "1..3"
{ yes synapses | timeout 60 "$SB" --headless --fast -c "$CONF" \
    --log-dir "$tmp/run" 2>"$tmp/err"; echo $? >"$tmp/status"; } |
    head -3 >"$tmp/out"
status=$(cat "$tmp/status")
check "it stops by itself (status $status, not the deadline's 124)" \
    [ "$status" != 124 ]
check "with a non-zero status" [ "$status" -ne 0 ]
check "and says why on stderr" contains "$tmp/err" "standard output was closed"
