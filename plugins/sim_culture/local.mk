## sim_culture: a simulated neuron culture on a multi-electrode array.
culture_model_sources = \
	plugins/sim_culture/culture.c plugins/sim_culture/culture.h \
	plugins/sim_culture/culture-mea.c

pkglib_LTLIBRARIES += plugins/sim_culture/sim_culture.la
plugins_sim_culture_sim_culture_la_SOURCES = $(culture_model_sources) \
	plugins/sim_culture/plugin.c
plugins_sim_culture_sim_culture_la_CPPFLAGS = $(plugin_cppflags)
plugins_sim_culture_sim_culture_la_CFLAGS = $(AM_CFLAGS) \
	-fvisibility=hidden
plugins_sim_culture_sim_culture_la_LDFLAGS = $(plugin_ldflags)
plugins_sim_culture_sim_culture_la_LIBADD = -lm

# The model and the plugin glue, compiled straight into the test.
check_PROGRAMS += tests/test-culture
tests_test_culture_SOURCES = tests/test-culture.c $(fake_host_sources) \
	$(culture_model_sources) plugins/sim_culture/plugin.c
tests_test_culture_CPPFLAGS = $(plugin_cppflags) \
	-I$(top_srcdir)/plugins/sim_culture
tests_test_culture_CFLAGS = $(TEST_CFLAGS)
tests_test_culture_LDADD = $(TEST_LIBS) -lm
TESTS += tests/test-culture

EXTRA_PROGRAMS += tests/bench/bench-culture
bench_programs += tests/bench/bench-culture
tests_bench_bench_culture_SOURCES = tests/bench/bench-culture.c \
	$(culture_model_sources)
tests_bench_bench_culture_CPPFLAGS = $(plugin_cppflags) \
	-I$(top_srcdir)/plugins/sim_culture
tests_bench_bench_culture_LDADD = -lm
