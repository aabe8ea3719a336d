## oe-emu: the Open Ephys GUI on loopback (HTTP API, Event Broadcaster,
## Network Events, a simulated culture behind them, fault modes), the ZMQ
## client its self-test drives it with, and the self-test.
check_PROGRAMS += tests/oe-emu tests/oe-zmq-client
tests_oe_emu_SOURCES = tests/oe-emu.c tests/emu-util.c tests/emu-util.h
tests_oe_emu_CPPFLAGS = $(plugin_cppflags)
tests_oe_emu_CFLAGS = $(AM_CFLAGS) $(MHD_CFLAGS) $(ZMQ_CFLAGS) \
	$(JANSSON_CFLAGS)
tests_oe_emu_LDADD = $(MHD_LIBS) $(ZMQ_LIBS) $(JANSSON_LIBS) -lm
tests_oe_zmq_client_SOURCES = tests/oe-zmq-client.c
tests_oe_zmq_client_CFLAGS = $(AM_CFLAGS) $(ZMQ_CFLAGS) $(JANSSON_CFLAGS)
tests_oe_zmq_client_LDADD = $(ZMQ_LIBS) $(JANSSON_LIBS)

TESTS += tests/oe-emu-selftest.sh
EXTRA_DIST += tests/oe-emu-selftest.sh
