## ramp: the RAMP UDP link of the 2020 experiment (UDPmod datagrams), as
## the memristor node or as a neuron site.
ramp_sources = \
	plugins/ramp/ramp.h \
	plugins/ramp/ramp-packet.c \
	plugins/ramp/ramp-conn.c \
	plugins/ramp/ramp-net.c \
	plugins/ramp/ramp-node.c \
	plugins/ramp/ramp-neurons.c \
	plugins/common/sb-devlink.c plugins/common/sb-devlink.h \
	src/sched-hint.c src/sched-hint.h

pkglib_LTLIBRARIES += plugins/ramp/ramp.la
plugins_ramp_ramp_la_SOURCES = $(ramp_sources) plugins/ramp/plugin.c
plugins_ramp_ramp_la_CPPFLAGS = $(plugin_cppflags)
plugins_ramp_ramp_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden
plugins_ramp_ramp_la_LDFLAGS = $(plugin_ldflags)
plugins_ramp_ramp_la_LIBADD = -lm

# The test compiles the plugin in, drives it through the fake host over
# loopback UDP, and also dlopens the built module to check its exports.
check_PROGRAMS += tests/test-ramp
tests_test_ramp_SOURCES = tests/test-ramp.c $(fake_host_sources) \
	$(ramp_sources) plugins/ramp/plugin.c
tests_test_ramp_CPPFLAGS = $(plugin_cppflags) -I$(top_srcdir)/plugins/ramp
tests_test_ramp_CFLAGS = $(TEST_CFLAGS)
tests_test_ramp_LDADD = $(TEST_LIBS) -lm
TESTS += tests/test-ramp

# The benchmark runs the real console (src/synbridge, headless), the plugin
# alone through the fake host, and a bare echo loop, over loopback UDP;
# never part of make check.
EXTRA_PROGRAMS += tests/bench/bench-ramp
bench_programs += tests/bench/bench-ramp
tests_bench_bench_ramp_SOURCES = tests/bench/bench-ramp.c \
	$(fake_host_sources) $(ramp_sources) plugins/ramp/plugin.c
tests_bench_bench_ramp_CPPFLAGS = $(plugin_cppflags) \
	-I$(top_srcdir)/plugins/ramp -I$(top_srcdir)/tests
tests_bench_bench_ramp_LDADD = -lm
