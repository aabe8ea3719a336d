#!/bin/sh
# headless-script.sh: scripts (-x) and stdin in headless mode: results one
# per line on stdout, errors as "error: FILE:LINE: ..." on stderr, exit
# status.
. "${top_srcdir:-.}/tests/headless-common.sh"
echo 1..13

cat >"$tmp/ok.sb" <<'END'
# a comment, then a blank line

site lab
load test_neurons units=2 period_ms=0
load test_synapses
synapse s0 neurons:0 neurons:1 lin:0
potentiate s0 -n 3
read s0
test-hello one
END
sb -x "$tmp/ok.sb" >"$tmp/out" 2>"$tmp/err"
status=$?
check "a good script exits 0" test "$status" -eq 0
check "a good script writes nothing on stderr" empty "$tmp/err"
check "results come one per line, in order" same "$tmp/out" \
"loaded test_neurons at lab ($PLUGDIR/test_neurons.so)
loaded test_synapses at lab ($PLUGDIR/test_synapses.so)
s0: lab/neurons:0 -> lab/neurons:1 on lin:0, G 50.000 uS, rule off
s0: potentiate 3 x +2.00 V 100 us: G 50.000 -> 51.500 uS, weight 128 -> 131
s0: G 51.500 uS (weight 131)
hello from test_neurons at lab (1 argument)"

cat >"$tmp/bad.sb" <<'END'
site lab
load test_synapses
frobnicate now
site never
END
sb -x "$tmp/bad.sb" >"$tmp/out" 2>"$tmp/err"
status=$?
check "a failing script exits non-zero" test "$status" -ne 0
check "the error names the file and line" same "$tmp/err" \
"error: $tmp/bad.sb:3: unknown command: frobnicate (try 'help')"
check "a script stops at its first error" same "$tmp/out" \
"loaded test_synapses at lab ($PLUGDIR/test_synapses.so)"

printf 'site lab\nload test_synapses\npotentiate s9\nsites\n' |
    sb >"$tmp/out" 2>"$tmp/err"
status=$?
check "stdin: an error makes the exit status non-zero" test "$status" -ne 0
check "stdin: errors carry no file:line" same "$tmp/err" \
"error: potentiate: unknown synapse 's9' (have none defined)"
check "stdin: commands after an error still run" same "$tmp/out" \
"loaded test_synapses at lab ($PLUGDIR/test_synapses.so)
lab (current): 1 plugin
  devices lab/lin: 8"

printf 'site lab\nsite' | sb >"$tmp/out" 2>"$tmp/err"
status=$?
check "stdin: a last line without newline runs" same "$tmp/out" "lab"
check "stdin: all good exits 0" test "$status" -eq 0

printf 'mark "unterminated\n' | sb >"$tmp/out" 2>"$tmp/err"
check "bad quoting is reported" same "$tmp/err" \
"error: unterminated double quote"

printf 'site lab\nload test_neurons\nload test_synapses\nsynapse s0 neurons:0 neurons:1 lin:0 -r hebb\nsynapses\n' |
    sb >"$tmp/out" 2>"$tmp/err"
check "a synapse with a bad rule is not defined" sh -c "
    grep -qF \"error: synapse: unknown rule 'hebb' (have rate, stdp, off)\" \
    '$tmp/err' && [ \"\$(tail -1 '$tmp/out')\" = 'no synapses defined' ]"
