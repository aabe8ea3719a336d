## Tests of the core: deterministic test plugins, command language, plugin
## host, and headless end-to-end scripts.

# Test plugins: modules built only for make check (-rpath makes libtool
# build a shared object); they land in tests/plugins/.libs.
test_plugin_ldflags = $(plugin_ldflags) -rpath /nowhere
test_plugin_cflags = $(AM_CFLAGS) -fvisibility=hidden

check_LTLIBRARIES += tests/plugins/test_neurons.la \
	tests/plugins/test_synapses.la tests/plugins/test_badversion.la \
	tests/plugins/test_nosym.la tests/plugins/test_dupname.la \
	tests/plugins/test_failinit.la tests/plugins/test_notplugin.la
tests_plugins_test_neurons_la_SOURCES = tests/plugins/test_neurons.c \
	tests/plugins/test-plugins.h
tests_plugins_test_neurons_la_CFLAGS = $(test_plugin_cflags)
tests_plugins_test_neurons_la_LDFLAGS = $(test_plugin_ldflags)
tests_plugins_test_neurons_la_LIBADD = -lm
tests_plugins_test_synapses_la_SOURCES = tests/plugins/test_synapses.c \
	tests/plugins/test-plugins.h
tests_plugins_test_synapses_la_CFLAGS = $(test_plugin_cflags)
tests_plugins_test_synapses_la_LDFLAGS = $(test_plugin_ldflags)
tests_plugins_test_synapses_la_LIBADD = -lm
tests_plugins_test_badversion_la_SOURCES = tests/plugins/test_badversion.c
tests_plugins_test_badversion_la_CFLAGS = $(test_plugin_cflags)
tests_plugins_test_badversion_la_LDFLAGS = $(test_plugin_ldflags)
tests_plugins_test_nosym_la_SOURCES = tests/plugins/test_nosym.c
tests_plugins_test_nosym_la_CFLAGS = $(test_plugin_cflags)
tests_plugins_test_nosym_la_LDFLAGS = $(test_plugin_ldflags)
tests_plugins_test_dupname_la_SOURCES = tests/plugins/test_dupname.c
tests_plugins_test_dupname_la_CFLAGS = $(test_plugin_cflags)
tests_plugins_test_dupname_la_LDFLAGS = $(test_plugin_ldflags)
tests_plugins_test_failinit_la_SOURCES = tests/plugins/test_failinit.c
tests_plugins_test_failinit_la_CFLAGS = $(test_plugin_cflags)
tests_plugins_test_failinit_la_LDFLAGS = $(test_plugin_ldflags)
tests_plugins_test_notplugin_la_SOURCES = tests/plugins/test_notplugin.c
tests_plugins_test_notplugin_la_CFLAGS = $(test_plugin_cflags)
tests_plugins_test_notplugin_la_LDFLAGS = $(test_plugin_ldflags)
# A transport that loops remote commands back (tests/fuzz/commands.c).
check_LTLIBRARIES += tests/plugins/test_loopback.la
tests_plugins_test_loopback_la_SOURCES = tests/plugins/test_loopback.c
tests_plugins_test_loopback_la_CFLAGS = $(test_plugin_cflags)
tests_plugins_test_loopback_la_LDFLAGS = $(test_plugin_ldflags)

test_core_cppflags = $(AM_CPPFLAGS) -I$(top_srcdir)/tests/plugins \
	-DTEST_PLUGIN_DIR='"$(abs_top_builddir)/tests/plugins/.libs"'

check_PROGRAMS += tests/test-cmd tests/test-plugin
tests_test_cmd_SOURCES = tests/test-cmd.c
tests_test_cmd_CPPFLAGS = $(test_core_cppflags)
tests_test_cmd_CFLAGS = $(TEST_CFLAGS)
tests_test_cmd_LDADD = src/libsbcore.la $(TEST_LIBS)
tests_test_plugin_SOURCES = tests/test-plugin.c
tests_test_plugin_CPPFLAGS = $(test_core_cppflags)
tests_test_plugin_CFLAGS = $(TEST_CFLAGS)
tests_test_plugin_LDADD = src/libsbcore.la $(TEST_LIBS)
TESTS += tests/test-cmd tests/test-plugin

TESTS += tests/headless-script.sh tests/headless-options.sh \
	tests/headless-record.sh tests/headless-kill.sh \
	tests/headless-routing.sh tests/realtime.sh
EXTRA_DIST += tests/realtime.sh
EXTRA_DIST += tests/headless-common.sh tests/relay-common.sh tests/headless-script.sh \
	tests/headless-options.sh tests/headless-record.sh \
	tests/headless-kill.sh tests/headless-routing.sh

check_PROGRAMS += tests/test-remote
tests_test_remote_SOURCES = tests/test-remote.c tests/test-gate.h
tests_test_remote_CPPFLAGS = $(test_core_cppflags)
tests_test_remote_CFLAGS = $(TEST_CFLAGS)
tests_test_remote_LDADD = src/libsbcore.la $(TEST_LIBS)
TESTS += tests/test-remote
