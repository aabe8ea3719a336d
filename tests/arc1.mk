## arc1-emu: an ArC ONE memristor instrument on a pty (serial protocol,
## the sim_memristor device model behind it, fault modes), and its self-test.
check_PROGRAMS += tests/arc1-emu
tests_arc1_emu_SOURCES = tests/arc1-emu.c tests/emu-util.c tests/emu-util.h \
	$(memristor_model_sources)
tests_arc1_emu_CPPFLAGS = $(plugin_cppflags) \
	-I$(top_srcdir)/plugins/sim_memristor
tests_arc1_emu_LDADD = -lutil -lm

TESTS += tests/arc1-emu-selftest.sh
EXTRA_DIST += tests/arc1-emu-selftest.sh tests/arc1-emu-client.py
