## intan: Intan RHX (RHD/RHS controllers) over TCP (neurons, link).
intan_sources = \
	plugins/intan/intan.h \
	plugins/intan/intan-channels.c \
	plugins/intan/intan-clock.c \
	plugins/intan/intan-config.c \
	plugins/intan/intan-net.c \
	plugins/intan/intan-reply.c \
	plugins/intan/intan-rhx.c \
	plugins/intan/intan-spike.c \
	plugins/intan/intan-stim.c \
	plugins/common/sb-devlink.c src/sched-hint.c src/sched-hint.h \
	plugins/common/sb-devlink.h

pkglib_LTLIBRARIES += plugins/intan/intan.la
plugins_intan_intan_la_SOURCES = $(intan_sources) plugins/intan/plugin.c
plugins_intan_intan_la_CPPFLAGS = $(plugin_cppflags)
plugins_intan_intan_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden
plugins_intan_intan_la_LDFLAGS = $(plugin_ldflags)
plugins_intan_intan_la_LIBADD = -lm

# The pure parts (records, channels, time mapping, replies, stimulation
# commands) without RHX or its emulator.
check_PROGRAMS += tests/test-intan-proto
tests_test_intan_proto_SOURCES = tests/test-intan-proto.c \
	plugins/intan/intan.h plugins/intan/intan-channels.c \
	plugins/intan/intan-clock.c plugins/intan/intan-reply.c \
	plugins/intan/intan-spike.c plugins/intan/intan-stim.c
tests_test_intan_proto_CPPFLAGS = $(plugin_cppflags) \
	-I$(top_srcdir)/plugins/intan
tests_test_intan_proto_CFLAGS = $(TEST_CFLAGS)
tests_test_intan_proto_LDADD = $(TEST_LIBS) -lm
TESTS += tests/test-intan-proto

# The plugin through the fake host against tests/rhx-emu (an emulator
# written from the protocol notes, not from the plugin).
check_PROGRAMS += tests/test-intan
tests_test_intan_SOURCES = tests/test-intan.c tests/rhx-driver.c tests/emu-proc.c tests/emu-proc.h \
	tests/rhx-driver.h $(fake_host_sources) \
	$(intan_sources) plugins/intan/plugin.c
tests_test_intan_CPPFLAGS = $(plugin_cppflags) -I$(top_srcdir)/plugins/intan
tests_test_intan_CFLAGS = $(TEST_CFLAGS)
tests_test_intan_LDADD = $(TEST_LIBS) -lm
TESTS += tests/test-intan

# Padova's session on RHX through the console, against the emulator.
TESTS += tests/intan-session.sh
EXTRA_DIST += tests/intan-session.sh

# make bench: spike latency from RHX's write to the plugin's emit at one
# and ten blocks per write, and stimulation to trigger, each beside a bare
# client of the same emulator, and the ratio.
EXTRA_PROGRAMS += tests/bench/bench-intan
bench_programs += tests/bench/bench-intan
tests_bench_bench_intan_SOURCES = tests/bench/bench-intan.c \
	tests/rhx-driver.c tests/rhx-driver.h tests/emu-proc.c tests/emu-proc.h \
	$(fake_host_sources) \
	$(intan_sources) plugins/intan/plugin.c
tests_bench_bench_intan_CPPFLAGS = $(plugin_cppflags) \
	-I$(top_srcdir)/plugins/intan -I$(top_srcdir)/tests
tests_bench_bench_intan_LDADD = -lm
