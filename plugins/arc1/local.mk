## arc1: the ArC ONE memristor instrument on its serial port (synapses).
arc1_sources = \
	plugins/arc1/arc1.h \
	plugins/arc1/arc1-config.c \
	plugins/arc1/arc1-proto.c \
	plugins/arc1/arc1-serial.c \
	plugins/arc1/arc1-line.c \
	plugins/common/sb-devlink.c src/sched-hint.c src/sched-hint.h \
	plugins/common/sb-devlink.h

pkglib_LTLIBRARIES += plugins/arc1/arc1.la
plugins_arc1_arc1_la_SOURCES = $(arc1_sources) plugins/arc1/plugin.c
plugins_arc1_arc1_la_CPPFLAGS = $(plugin_cppflags)
plugins_arc1_arc1_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden
plugins_arc1_arc1_la_LDFLAGS = $(plugin_ldflags)
plugins_arc1_arc1_la_LIBADD = -lm

# The test links the plugin directly and drives it through the fake host
# against tests/arc1-emu (an emulator written from the protocol notes).
check_PROGRAMS += tests/test-arc1
tests_test_arc1_SOURCES = tests/test-arc1.c tests/arc1-driver.c \
	tests/emu-proc.c tests/emu-proc.h \
	tests/arc1-driver.h $(fake_host_sources) \
	$(arc1_sources) plugins/arc1/plugin.c
tests_test_arc1_CPPFLAGS = $(plugin_cppflags) -I$(top_srcdir)/plugins/arc1
tests_test_arc1_CFLAGS = $(TEST_CFLAGS)
tests_test_arc1_LDADD = $(TEST_LIBS) -lm
TESTS += tests/test-arc1

# The demo's session with its synapses on an ArC ONE, through the console.
TESTS += tests/arc1-session.sh
EXTRA_DIST += tests/arc1-session.sh

# make bench: operations per second beside a bare client on the same
# emulator, and the recovery time after each fault.
EXTRA_PROGRAMS += tests/bench/bench-arc1
bench_programs += tests/bench/bench-arc1
tests_bench_bench_arc1_SOURCES = tests/bench/bench-arc1.c \
	tests/arc1-driver.c tests/arc1-driver.h tests/emu-proc.c tests/emu-proc.h \
	$(fake_host_sources) \
	$(arc1_sources) plugins/arc1/plugin.c
tests_bench_bench_arc1_CPPFLAGS = $(plugin_cppflags) \
	-I$(top_srcdir)/plugins/arc1 -I$(top_srcdir)/tests
tests_bench_bench_arc1_LDADD = -lm
