## Unit tests (cmocka, TAP), end-to-end tests (TAP shell scripts), benchmarks.
check_PROGRAMS += tests/test-clock
tests_test_clock_SOURCES = tests/test-clock.c
tests_test_clock_CFLAGS = $(TEST_CFLAGS)
tests_test_clock_LDADD = src/libsbcore.la $(TEST_LIBS)
TESTS += tests/test-clock
check_PROGRAMS += tests/test-latency
tests_test_latency_SOURCES = tests/test-latency.c
tests_test_latency_CFLAGS = $(TEST_CFLAGS)
tests_test_latency_LDADD = src/libsbcore.la $(TEST_LIBS)
TESTS += tests/test-latency

check_PROGRAMS += tests/test-cursor
tests_test_cursor_SOURCES = tests/test-cursor.c
tests_test_cursor_CFLAGS = $(TEST_CFLAGS)
tests_test_cursor_LDADD = src/libsbcore.la $(TEST_LIBS)
TESTS += tests/test-cursor

include tests/ring.mk
include tests/csv.mk
include tests/core.mk

TESTS += tests/demo-fast.sh tests/demo-kill.sh tests/headless-source.sh tests/headless-ifenv.sh \
	tests/headless-stop.sh tests/headless-pipe.sh tests/headless-files.sh \
	tests/headless-slow-reader.sh
EXTRA_DIST += tests/demo-fast.sh tests/demo-kill.sh tests/headless-source.sh tests/run-suite tests/cmocka-tap \
	tests/headless-ifenv.sh tests/headless-stop.sh tests/headless-pipe.sh \
	tests/headless-files.sh tests/headless-slow-reader.sh

check_PROGRAMS += tests/fuzz-commands
tests_fuzz_commands_SOURCES = tests/fuzz-commands.c
tests_fuzz_commands_CPPFLAGS = $(test_core_cppflags)
tests_fuzz_commands_CFLAGS = $(TEST_CFLAGS)
tests_fuzz_commands_LDADD = src/libsbcore.la $(TEST_LIBS)
TESTS += tests/fuzz-commands

EXTRA_PROGRAMS += tests/bench/bench-engine
bench_programs += tests/bench/bench-engine
tests_bench_bench_engine_SOURCES = tests/bench/bench-engine.c
tests_bench_bench_engine_CPPFLAGS = $(test_core_cppflags)
tests_bench_bench_engine_LDADD = src/libsbcore.la

TESTS += tests/latency-csv.sh tests/relay-cipher.sh
EXTRA_DIST += tests/latency-csv.sh tests/relay-cipher.sh

TESTS += tests/relay-3site.sh tests/relay-restart.sh tests/relay-413.sh \
	tests/record-full.sh tests/slow-disk.sh tests/slow-disk-stop.sh tests/relay-clock.sh \
	tests/relay-clock-console.sh \
	tests/relay-quit.sh tests/relay-once.sh tests/relay-resume.sh \
	tests/relay-backoff.sh tests/relay-repin.sh tests/relay-held.sh \
	tests/relay-presence.sh
EXTRA_DIST += tests/relay-3site.sh tests/relay-restart.sh tests/relay-413.sh \
	tests/record-full.sh tests/slow-disk.sh tests/slow-disk-stop.sh tests/relay-clock.sh \
	tests/relay-clock-console.sh \
	tests/relay-get.py tests/relay-quit.sh tests/relay-once.sh \
	tests/relay-resume.sh tests/relay-backoff.sh tests/relay-repin.sh \
	tests/relay-soak.sh tests/relay-held.sh tests/relay-presence.sh

include tests/tui.mk
include tests/ramp.mk
include tests/arc1.mk
include tests/ramp-plugin.mk
include tests/rhx.mk
include tests/oe.mk

# The demo's loop in real time: spike path and typed command latency.
EXTRA_PROGRAMS += tests/bench/bench-loop
bench_programs += tests/bench/bench-loop
tests_bench_bench_loop_SOURCES = tests/bench/bench-loop.c \
	tests/bench/bench-util.c
tests_bench_bench_loop_LDADD = -lpthread

# Fuzz targets: make check replays their corpora; make fuzz runs them.
include tests/fuzz/fuzz.mk
