#!/bin/sh
# source: nesting is bounded, and a failure in a sourced file stops the
# script that sourced it (as the first error of a script does).
top_builddir=${top_builddir:-.}
sb="$top_builddir/src/synbridge"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
echo "1..4"

printf 'mark a\nsource %s/self.conf\n' "$dir" >"$dir/self.conf"
"$sb" --headless -x "$dir/self.conf" >"$dir/out" 2>"$dir/err"
rc=$?
if [ $rc -eq 1 ] && grep -q "files sourced 16 deep" "$dir/err"; then
	echo "ok 1 - a file sourcing itself stops with a clear error"
else
	echo "not ok 1 - self-sourcing: exit $rc"; sed 's/^/# /' "$dir/err"
fi
n=$(grep -c '^a$' "$dir/out")
if [ "$n" -eq 17 ]; then echo "ok 2 - the script and 16 nested levels ran, then it stopped"
else echo "not ok 2 - ran $n levels"; fi

printf 'source %s/bad.conf\nmark after\n' "$dir" >"$dir/outer.conf"
printf 'mark in\nfrob\nmark notreached\n' >"$dir/bad.conf"
"$sb" --headless -x "$dir/outer.conf" >"$dir/out" 2>"$dir/err"
rc=$?
if [ $rc -eq 1 ] && grep -q "bad.conf:2: unknown command: frob" "$dir/err"
then echo "ok 3 - the error names the sourced file and line"
else echo "not ok 3 - exit $rc"; sed 's/^/# /' "$dir/err"; fi
if grep -q '^in$' "$dir/out" && ! grep -q 'notreached\|after' "$dir/out"
then echo "ok 4 - nothing after the failure ran, in either file"
else echo "not ok 4 - output:"; sed 's/^/# /' "$dir/out"; fi
