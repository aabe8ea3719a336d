#!/bin/sh
# The three-site demo, faster than real time: spikes from every population,
# weighted synaptic events, and conductance changes decided by the rate rule.
top_builddir=${top_builddir:-.}
sb="$top_builddir/src/synbridge"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

echo "1..6"
"$sb" --headless --demo --fast --duration 60 --log-dir "$dir/log" \
    >"$dir/out" 2>"$dir/err"
rc=$?
if [ $rc -eq 0 ]; then echo "ok 1 - demo runs 60 s of session time"
else echo "not ok 1 - demo exited $rc"; sed 's/^/# /' "$dir/err"; fi

count() { awk -F, -v col="$1" -v val="$2" 'NR > 1 && $col == val' "$3" | wc -l; }
mea=$(awk -F, 'NR > 1 && $2 == "padova" && $3 == "mea"' "$dir/log/spikes.csv" | wc -l)
sil=$(awk -F, 'NR > 1 && $2 == "zurich" && $3 == "silicon"' "$dir/log/spikes.csv" | wc -l)
if [ "$mea" -gt 100 ] && [ "$sil" -gt 10 ]; then
	echo "ok 2 - culture ($mea) and silicon ($sil) spikes recorded"
else
	echo "not ok 2 - culture $mea, silicon $sil spikes"
fi
syn=$(count 5 synaptic "$dir/log/synapses.csv")
if [ "$syn" -gt 50 ]; then echo "ok 3 - $syn weighted synaptic events"
else echo "not ok 3 - only $syn synaptic events"; fi
ltp=$(count 5 rule-ltp "$dir/log/synapses.csv")
ltd=$(count 5 rule-ltd "$dir/log/synapses.csv")
if [ "$ltp" -gt 0 ] && [ "$ltd" -gt 0 ] && [ $((ltp + ltd)) -gt 5 ]; then
	echo "ok 4 - the rate rule programmed the devices ($ltp ltp, $ltd ltd)"
else
	echo "not ok 4 - rule pulses: $ltp ltp, $ltd ltd"
fi
# every rule pulse changed G (before != after) and stays in the window
bad=$(awk -F, 'NR > 1 && ($5 == "rule-ltp" || $5 == "rule-ltd") &&
    ($9 == $10 || $10 < 100 || $10 > 260)' "$dir/log/synapses.csv" | wc -l)
if [ "$bad" -eq 0 ]; then echo "ok 5 - rule pulses move G within 4-9 kOhm"
else echo "not ok 5 - $bad rule pulses did not move G inside the window"; fi
# the weights the rule's pulses leave (from R, as the experiment computed
# them): potentiation raises them on average, depression lowers them
moved=$(awk -F, 'NR > 1 && $11 != "" && $12 != "" {
	if ($5 == "rule-ltp") { up += $12 - $11; nup++ }
	if ($5 == "rule-ltd") { down += $12 - $11; ndown++ }
    } END { printf "%.1f %.1f", nup ? up / nup : 0, ndown ? down / ndown : 0 }' \
    "$dir/log/synapses.csv")
set -- $moved
if awk -v up="$1" -v down="$2" 'BEGIN {
    exit !(up > 0 && down < 0) }'; then
	echo "ok 6 - rule pulses move the weight their way (ltp $1, ltd $2 on average)"
else
	echo "not ok 6 - weights: ltp $1, ltd $2 on average"
fi
