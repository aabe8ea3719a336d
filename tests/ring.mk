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
