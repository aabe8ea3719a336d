## CSV layer tests and benchmark.
check_PROGRAMS += tests/test-csv tests/test-history tests/csv-kill \
	tests/test-recorder
tests_test_recorder_SOURCES = tests/test-recorder.c tests/test-gate.h
tests_test_recorder_CFLAGS = $(TEST_CFLAGS)
tests_test_recorder_LDADD = src/libsbcore.la $(TEST_LIBS)
tests_test_csv_SOURCES = tests/test-csv.c
tests_test_csv_CFLAGS = $(TEST_CFLAGS)
tests_test_csv_LDADD = src/libsbcore.la $(TEST_LIBS)
tests_test_history_SOURCES = tests/test-history.c
tests_test_history_CFLAGS = $(TEST_CFLAGS)
tests_test_history_LDADD = src/libsbcore.la $(TEST_LIBS)
tests_csv_kill_SOURCES = tests/csv-kill.c
tests_csv_kill_CFLAGS = $(TEST_CFLAGS)
tests_csv_kill_LDADD = src/libsbcore.la $(TEST_LIBS)
TESTS += tests/test-csv tests/test-history tests/csv-kill tests/test-recorder

EXTRA_PROGRAMS += tests/bench/bench-csv
bench_programs += tests/bench/bench-csv
tests_bench_bench_csv_SOURCES = tests/bench/bench-csv.c
tests_bench_bench_csv_LDADD = src/libsbcore.la
