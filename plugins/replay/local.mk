## replay: plays back a spikes.csv recorded by synbridge as a population.
# The module carries its own copy of the CSV reader: plugins never link
# against host symbols.
replay_sources = \
	plugins/replay/replay.c plugins/replay/replay.h \
	plugins/replay/replay-set.c \
	src/csvread.c src/csvlog.c src/csvlog.h src/csvkind.h \
	src/xmalloc.c src/xmalloc.h

pkglib_LTLIBRARIES += plugins/replay/replay.la
plugins_replay_replay_la_SOURCES = $(replay_sources)
plugins_replay_replay_la_CPPFLAGS = $(plugin_cppflags)
plugins_replay_replay_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden
plugins_replay_replay_la_LDFLAGS = $(plugin_ldflags)
plugins_replay_replay_la_LIBADD = $(CSV_LIBS) -lm

# The test compiles the plugin in and drives it through a fake host.
check_PROGRAMS += tests/test-replay
tests_test_replay_SOURCES = tests/test-replay.c $(fake_host_sources) \
	$(replay_sources)
tests_test_replay_CPPFLAGS = $(plugin_cppflags) \
	-I$(top_srcdir)/plugins/replay
tests_test_replay_CFLAGS = $(TEST_CFLAGS)
tests_test_replay_LDADD = $(CSV_LIBS) -lm $(TEST_LIBS)
TESTS += tests/test-replay
