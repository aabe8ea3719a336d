# headless-common.sh: helpers for the headless end-to-end TAP scripts.
# Sourced, not run. Sets SB (the binary), PLUGDIR (the test plugins), tmp
# (a temporary directory removed on exit) and TAP helpers.

: "${top_builddir:=.}"
: "${top_srcdir:=.}"
SB="$top_builddir/src/synbridge"
PLUGDIR="$top_builddir/tests/plugins/.libs"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sb-headless.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
tap_n=0
if command -v python3 >/dev/null 2>&1; then
	have_python=1
else
	have_python=0
fi

# sanitized: the build has a sanitizer (configure saw -fsanitize=). Under
# one, valgrind and LD_PRELOAD interposers cannot run: skip those parts.
sanitized() { [ "${SB_SANITIZE:-no}" = yes ]; }

# ok DESCRIPTION CMD...: one TAP line from a command's status.
check() {
	tap_desc=$1
	shift
	tap_n=$((tap_n + 1))
	if "$@"; then
		echo "ok $tap_n - $tap_desc"
	else
		echo "not ok $tap_n - $tap_desc"
	fi
}

# skip DESCRIPTION
skip() {
	tap_n=$((tap_n + 1))
	echo "ok $tap_n # SKIP $1"
}

# diag TEXT: a TAP comment, line by line.
diag() {
	printf '%s\n' "$@" | sed 's/^/# /'
}

# sb ARGS...: the console, headless, fast, with the test plugins.
sb() {
	"$SB" --headless --fast --plugin-dir "$PLUGDIR" "$@"
}

# same FILE EXPECTED: file content equals the string (diff shown on failure).
same() {
	printf '%s\n' "$2" >"$tmp/expected"
	if cmp -s "$tmp/expected" "$1"; then
		return 0
	fi
	diff "$tmp/expected" "$1" | sed 's/^/# /'
	return 1
}

# contains FILE TEXT: file contains the text (fixed string).
contains() {
	if grep -qF -- "$2" "$1"; then
		return 0
	fi
	diag "'$2' not in $1:" "$(cat "$1")"
	return 1
}

# wait_for SECONDS CMD...: poll CMD until it succeeds or the deadline.
wait_for() {
	wait_deadline=$(($(date +%s) + $1))
	shift
	while ! "$@"; do
		if [ "$(date +%s)" -ge "$wait_deadline" ]; then
			return 1
		fi
		sleep 0.05
	done
	return 0
}

# empty FILE: the file is empty (its content shown otherwise).
empty() {
	if [ ! -s "$1" ]; then
		return 0
	fi
	diag "$1 is not empty:" "$(cat "$1")"
	return 1
}

# spike_holes FILE POP: for population POP's rows of a spikes.csv, each
# unit's times in order, none twice and no hole over 0.1 s: prints the
# rows that break this (0), or "too few rows: N" under 100 rows.
spike_holes() {
	awk -F, -v pop="$2" 'NR > 1 && $3 == pop {
		if (($4 in last) && ($1 - last[$4] > 0.1 || $1 <= last[$4]))
			bad++
		last[$4] = $1; n++
	} END { print (n > 100 ? bad + 0 : "too few rows: " n) }' "$1"
}
