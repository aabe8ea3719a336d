## Unit tests (cmocka, TAP), end-to-end tests (TAP shell scripts), benchmarks.
check_PROGRAMS += tests/test-clock
tests_test_clock_SOURCES = tests/test-clock.c
tests_test_clock_CFLAGS = $(TEST_CFLAGS)
tests_test_clock_LDADD = src/libsbcore.la $(TEST_LIBS)
TESTS += tests/test-clock

include tests/ring.mk
include tests/csv.mk
include tests/tui.mk
