## openephys: the Open Ephys GUI (HTTP API, Event Broadcaster, Network
## Events) as a neurons plugin.
openephys_sources = \
	plugins/openephys/openephys.h \
	plugins/openephys/oe-api.c \
	plugins/openephys/oe-clock.c \
	plugins/openephys/oe-config.c \
	plugins/openephys/oe-event.c \
	plugins/openephys/oe-http.c \
	plugins/openephys/oe-link.c \
	plugins/openephys/oe-stim.c \
	plugins/common/sb-devlink.c src/sched-hint.c src/sched-hint.h \
	plugins/common/sb-devlink.h
openephys_cflags = $(CURL_CFLAGS) $(ZMQ_CFLAGS) $(JANSSON_CFLAGS)
openephys_libs = $(CURL_LIBS) $(ZMQ_LIBS) $(JANSSON_LIBS) -lm

pkglib_LTLIBRARIES += plugins/openephys/openephys.la
plugins_openephys_openephys_la_SOURCES = $(openephys_sources) \
	plugins/openephys/plugin.c
plugins_openephys_openephys_la_CPPFLAGS = $(plugin_cppflags)
plugins_openephys_openephys_la_CFLAGS = $(AM_CFLAGS) $(openephys_cflags) \
	-fvisibility=hidden
plugins_openephys_openephys_la_LDFLAGS = $(plugin_ldflags)
plugins_openephys_openephys_la_LIBADD = $(openephys_libs)

# The test compiles the plugin in: pure tests of its parts (events, units,
# clock, the GUI's replies), then the plugin through the fake host against
# tests/oe-emu, an emulator of the GUI written from the same notes by
# someone else.
check_PROGRAMS += tests/test-openephys
tests_test_openephys_SOURCES = tests/test-openephys.c tests/oe-driver.c \
	tests/oe-driver.h $(fake_host_sources) $(openephys_sources) \
	plugins/openephys/plugin.c
tests_test_openephys_CPPFLAGS = $(plugin_cppflags) \
	-I$(top_srcdir)/plugins/openephys
tests_test_openephys_CFLAGS = $(TEST_CFLAGS) $(openephys_cflags)
tests_test_openephys_LDADD = $(TEST_LIBS) $(openephys_libs)
TESTS += tests/test-openephys

# A culture site on Open Ephys through the console, headless.
TESTS += tests/openephys-session.sh
EXTRA_DIST += tests/openephys-session.sh

# make bench: spike latency from the emulator's publish to the plugin's
# emit beside a bare SUB on the same stream, and stimulation to trigger.
EXTRA_PROGRAMS += tests/bench/bench-openephys
bench_programs += tests/bench/bench-openephys
tests_bench_bench_openephys_SOURCES = tests/bench/bench-openephys.c \
	tests/oe-driver.c tests/oe-driver.h $(fake_host_sources) \
	$(openephys_sources) plugins/openephys/plugin.c
tests_bench_bench_openephys_CPPFLAGS = $(plugin_cppflags) \
	-I$(top_srcdir)/plugins/openephys -I$(top_srcdir)/tests
tests_bench_bench_openephys_CFLAGS = $(AM_CFLAGS) $(openephys_cflags)
tests_bench_bench_openephys_LDADD = $(openephys_libs)
