## Ring and wire format: unit tests, fuzz check, benchmarks.
check_PROGRAMS += tests/test-ring
tests_test_ring_SOURCES = tests/test-ring.c
tests_test_ring_CFLAGS = $(TEST_CFLAGS)
tests_test_ring_LDADD = src/libsbcore.la $(TEST_LIBS)
TESTS += tests/test-ring

EXTRA_PROGRAMS += tests/bench/bench-ring
bench_programs += tests/bench/bench-ring
tests_bench_bench_ring_SOURCES = tests/bench/bench-ring.c
tests_bench_bench_ring_LDADD = src/libsbcore.la

check_PROGRAMS += tests/test-wire tests/fuzz-wire
tests_test_wire_SOURCES = tests/test-wire.c
tests_test_wire_CFLAGS = $(TEST_CFLAGS)
tests_test_wire_LDADD = src/libsbcore.la $(TEST_LIBS)
tests_fuzz_wire_SOURCES = tests/fuzz-wire.c
tests_fuzz_wire_CFLAGS = $(TEST_CFLAGS)
tests_fuzz_wire_LDADD = src/libsbcore.la $(TEST_LIBS)
TESTS += tests/test-wire tests/fuzz-wire

EXTRA_PROGRAMS += tests/bench/bench-wire
bench_programs += tests/bench/bench-wire
tests_bench_bench_wire_SOURCES = tests/bench/bench-wire.c
tests_bench_bench_wire_LDADD = src/libsbcore.la
