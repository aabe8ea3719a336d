#!/bin/sh
# headless-stop.sh: the stop button. stop halts rule pulses, typed pulses
# and stimulation at once (reads go on), is audited, and resume undoes it;
# the demo's rules fire again afterwards. TAP.
. "${top_srcdir:-.}/tests/headless-common.sh"

CONF="$top_srcdir/share/sessions/hybrid-3site/one-machine.conf"
echo "1..9"
# from stdin: a refused command does not stop the rest there
cat >"$tmp/in" <<'EOF'
wait 20
mark "before stop"
stop
potentiate s0
site padova
stim padova/mea:12
site southampton
read s0
wait 30
mark "before resume"
resume
wait 30
EOF
sb -c "$CONF" --log-dir "$tmp/run" --duration 90 <"$tmp/in" \
    >"$tmp/out" 2>"$tmp/err"
check "stop says what it halted" contains "$tmp/out" "STOPPED: rules, pulses and stimulation halted here"
check "a typed pulse is refused while stopped" \
    contains "$tmp/err" "potentiate: s0: STOPPED: no pulse until resume"
check "a stimulation is refused while stopped" \
    contains "$tmp/err" "stim: STOPPED: no stimulation until resume"
check "reads go on while stopped" grep -q '^s0: G ' "$tmp/out"
check "resume says so" contains "$tmp/out" "resumed: rules, pulses and stimulation go on"
# rule pulses: some before stop, none between stop and resume, some after
t_stop=$(awk -F, '$4 == "stop" { print $1; exit }' "$tmp/run/commands.csv")
t_resume=$(awk -F, '$4 == "resume" { print $1; exit }' \
    "$tmp/run/commands.csv")
rules() {
	awk -F, -v lo="$1" -v hi="$2" 'NR > 1 && ($5 == "rule-ltp" ||
	    $5 == "rule-ltd") && $1 >= lo && $1 < hi' "$tmp/run/synapses.csv" |
	    wc -l
}
before=$(rules 0 "$t_stop")
during=$(rules "$t_stop" "$t_resume")
after=$(rules "$t_resume" 1e9)
check "stop and resume are audited in commands.csv" \
    [ -n "$t_stop" -a -n "$t_resume" ]
check "rules pulsed before stop ($before)" [ "$before" -gt 0 ]
check "no rule pulse while stopped ($during)" [ "$during" -eq 0 ]
check "rules pulse again after resume ($after)" [ "$after" -gt 0 ]
