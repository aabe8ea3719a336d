#!/bin/sh
# headless-routing.sh: a pre spike becomes a synaptic event at the post
# unit, and the rate rule programs the device (fast mode, exact counts).
. "${top_srcdir:-.}/tests/headless-common.sh"
echo 1..10

# unit 0 fires every 10 ms; s0 carries it to unit 1
cat >"$tmp/route.sb" <<END
site lab
load test_neurons units=2 period_ms=10 fire=0
load test_synapses
synapse s0 neurons:0 neurons:1 lin:0
record start $tmp/route
wait 0.05
test-neurons
stim neurons:1
wait 0.001
test-neurons
END
sb -x "$tmp/route.sb" >"$tmp/out" 2>"$tmp/err"
status=$?
check "the routing script runs" sh -c "[ $status -eq 0 ] && [ ! -s '$tmp/err' ]"
# 5 pre spikes in 50 ms -> 5 inputs at unit 1, weight of 50 uS in 0-100
check "each pre spike reaches the post backend with its weight" \
    contains "$tmp/out" "emitted 5 stimulations 0 last_stim 0 \
synaptic_inputs 5 last_input 1 weight 128"
check "each pre spike is logged as a synaptic event" sh -c "
    [ \$(grep -c ',s0,lab/neurons:0,lab/neurons:1,synaptic,,,,50.0000,50.0000,128,128\$' \
    '$tmp/route/synapses.csv') -eq 5 ]"
check "the first synaptic event has the pre spike's time" contains \
    "$tmp/route/synapses.csv" "0.010000,s0,lab/neurons:0,lab/neurons:1,synaptic"
check "a stimulated post unit spikes without feeding back" contains \
    "$tmp/out" "emitted 6 stimulations 1 last_stim 1 synaptic_inputs 5"

# Rate rule across sites: fast pre (100 Hz) -> LTP on each post spike;
# slow pre (2 Hz) -> LTD.
cat >"$tmp/rule.sb" <<END
site fast
load test_neurons units=1 period_ms=10
site post
load test_neurons units=1 period_ms=200
site slow
load test_neurons units=1 period_ms=500
site dev
load test_synapses
synapse up fast/neurons:0 post/neurons:0 lin:0 -r rate
synapse down slow/neurons:0 post/neurons:0 lin:1 -r rate
record start $tmp/rule
wait 1.002
synapses
END
sb -x "$tmp/rule.sb" >"$tmp/out" 2>"$tmp/err"
status=$?
check "the rule script runs" sh -c "[ $status -eq 0 ] && [ ! -s '$tmp/err' ]"
# post spikes at 0.2, 0.4, 0.6, 0.8, 1.0 s; each pulse completes 1 ms
# later. At 0.2 s only 20 pre spikes (0.01-0.20) are in the window: no
# pulse; from 0.4 s on there are more than 20.
check "the rate rule potentiates on post spikes after >20 pre" sh -c "
    [ \$(grep -c ',up,fast/neurons:0,post/neurons:0,rule-ltp,2.0000,100,1,' \
    '$tmp/rule/synapses.csv') -eq 4 ] &&
    grep -q '^0.401000,up,.*,rule-ltp,2.0000,100,1,50.0000,50.5000,128,129\$' \
    '$tmp/rule/synapses.csv'"
check "the rate rule depresses with few pre spikes (<5)" sh -c "
    [ \$(grep -c ',down,slow/neurons:0,post/neurons:0,rule-ltd,-2.0000,100,1,' \
    '$tmp/rule/synapses.csv') -eq 5 ]"
check "each rule pulse changes G by exactly 0.5 uS" contains \
    "$tmp/out" "up fast/neurons:0 -> post/neurons:0 lin:0 G 52.000 uS"
check "and the depressed one ends 2.5 uS down" contains \
    "$tmp/out" "down slow/neurons:0 -> post/neurons:0 lin:1 G 47.500 uS"
