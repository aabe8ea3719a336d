## sim_memristor: a simulated TiOx ReRAM crossbar (synapses capability).
memristor_model_sources = \
	plugins/sim_memristor/memristor.h \
	plugins/sim_memristor/memristor-cause.c \
	plugins/sim_memristor/memristor-device.c \
	plugins/sim_memristor/memristor-rng.c \
	plugins/sim_memristor/memristor-xbar.c

pkglib_LTLIBRARIES += plugins/sim_memristor/sim_memristor.la
plugins_sim_memristor_sim_memristor_la_SOURCES = \
	$(memristor_model_sources) plugins/sim_memristor/plugin.c
plugins_sim_memristor_sim_memristor_la_CPPFLAGS = $(plugin_cppflags)
plugins_sim_memristor_sim_memristor_la_CFLAGS = $(AM_CFLAGS) \
	-fvisibility=hidden
plugins_sim_memristor_sim_memristor_la_LDFLAGS = $(plugin_ldflags)
plugins_sim_memristor_sim_memristor_la_LIBADD = -lm

# The test links the model and the plugin glue directly, and also dlopens
# the built module (found through top_builddir) to check its exports.
check_PROGRAMS += tests/test-memristor
tests_test_memristor_SOURCES = tests/test-memristor.c $(fake_host_sources) \
	$(memristor_model_sources) plugins/sim_memristor/plugin.c
tests_test_memristor_CPPFLAGS = $(plugin_cppflags) \
	-I$(top_srcdir)/plugins/sim_memristor
tests_test_memristor_CFLAGS = $(TEST_CFLAGS)
tests_test_memristor_LDADD = $(TEST_LIBS) -lm
TESTS += tests/test-memristor

EXTRA_PROGRAMS += tests/bench/bench-memristor
bench_programs += tests/bench/bench-memristor
tests_bench_bench_memristor_SOURCES = tests/bench/bench-memristor.c \
	$(memristor_model_sources)
tests_bench_bench_memristor_CPPFLAGS = $(plugin_cppflags) \
	-I$(top_srcdir)/plugins/sim_memristor
tests_bench_bench_memristor_LDADD = -lm
