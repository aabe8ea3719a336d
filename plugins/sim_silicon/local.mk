## sim_silicon: simulated DYNAP-SE-like silicon neurons (AdEx cores).
sim_silicon_model = \
	plugins/sim_silicon/silicon.c plugins/sim_silicon/silicon.h \
	plugins/sim_silicon/silicon-address.c \
	plugins/sim_silicon/silicon-queue.c

pkglib_LTLIBRARIES += plugins/sim_silicon/sim_silicon.la
plugins_sim_silicon_sim_silicon_la_SOURCES = $(sim_silicon_model) \
	plugins/sim_silicon/plugin.c
plugins_sim_silicon_sim_silicon_la_CPPFLAGS = $(plugin_cppflags)
plugins_sim_silicon_sim_silicon_la_CFLAGS = $(AM_CFLAGS) \
	-fvisibility=hidden
plugins_sim_silicon_sim_silicon_la_LDFLAGS = $(plugin_ldflags)

# The test compiles the model and the plugin glue in.
check_PROGRAMS += tests/test-silicon
tests_test_silicon_SOURCES = tests/test-silicon.c $(fake_host_sources) \
	$(sim_silicon_model) \
	plugins/sim_silicon/plugin.c
tests_test_silicon_CPPFLAGS = $(plugin_cppflags) \
	-I$(top_srcdir)/plugins/sim_silicon
tests_test_silicon_CFLAGS = $(TEST_CFLAGS)
tests_test_silicon_LDADD = $(TEST_LIBS)
TESTS += tests/test-silicon

EXTRA_PROGRAMS += tests/bench/bench-silicon
bench_programs += tests/bench/bench-silicon
tests_bench_bench_silicon_SOURCES = tests/bench/bench-silicon.c \
	$(sim_silicon_model)
tests_bench_bench_silicon_CPPFLAGS = $(plugin_cppflags) \
	-I$(top_srcdir)/plugins/sim_silicon
