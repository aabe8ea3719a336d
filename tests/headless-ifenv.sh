#!/bin/sh
# headless-ifenv.sh: ifenv runs a command only when a variable is set, so
# one session file serves a site with and without a relay. TAP.
. "${top_srcdir:-.}/tests/headless-common.sh"

echo "1..5"
cat >"$tmp/s.conf" <<'CONF'
site padova
ifenv SB_TEST_RELAY mark "relay at ${SB_TEST_RELAY:-}"
ifenv SB_TEST_UNSET mark "never ${SB_TEST_UNSET:-}"
mark "standalone or not, this runs"
CONF
SB_TEST_RELAY=https://relay.example:8443 sb -c "$tmp/s.conf" \
    --duration 0 >"$tmp/out1" 2>"$tmp/err1"
check "a set variable: the command runs, with its words intact" \
    contains "$tmp/out1" "relay at https://relay.example:8443"
check "an unset variable: the command is skipped and says so" \
    contains "$tmp/out1" "ifenv: SB_TEST_UNSET is not set: skipped mark"
sb -c "$tmp/s.conf" --duration 0 >"$tmp/out2" 2>"$tmp/err2"
status=$?
check "without the variable the file runs to its end" \
    contains "$tmp/out2" "standalone or not, this runs"
check "and exits 0" test "$status" -eq 0
SB_TEST_RELAY= sb -c "$tmp/s.conf" --duration 0 >"$tmp/out3" 2>&1
check "an empty variable counts as unset" \
    contains "$tmp/out3" "SB_TEST_RELAY is not set"
