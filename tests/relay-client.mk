## relay transport: unit tests of the pure parts, integration tests with
## the real relay (direct and through a fault-injecting proxy), benchmark.
relay_test_cppflags = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/relay

check_PROGRAMS += tests/test-relay-outq
tests_test_relay_outq_SOURCES = tests/test-relay-outq.c $(relay_pure_sources)
tests_test_relay_outq_CPPFLAGS = $(relay_test_cppflags)
tests_test_relay_outq_CFLAGS = $(TEST_CFLAGS)
tests_test_relay_outq_LDADD = src/libsbcore.la $(TEST_LIBS) -lm
TESTS += tests/test-relay-outq

check_PROGRAMS += tests/test-relay-parse
tests_test_relay_parse_SOURCES = tests/test-relay-parse.c \
	$(relay_pure_sources)
tests_test_relay_parse_CPPFLAGS = $(relay_test_cppflags)
tests_test_relay_parse_CFLAGS = $(TEST_CFLAGS)
tests_test_relay_parse_LDADD = src/libsbcore.la $(TEST_LIBS) -lm
TESTS += tests/test-relay-parse

check_PROGRAMS += tests/test-relay-clock
tests_test_relay_clock_SOURCES = tests/test-relay-clock.c \
	$(relay_pure_sources)
tests_test_relay_clock_CPPFLAGS = $(relay_test_cppflags)
tests_test_relay_clock_CFLAGS = $(TEST_CFLAGS)
tests_test_relay_clock_LDADD = src/libsbcore.la $(TEST_LIBS) -lm
TESTS += tests/test-relay-clock

# With the real relay on loopback (skipped when it is not built).
check_PROGRAMS += tests/tcp-proxy tests/test-relay-e2e
tests_tcp_proxy_SOURCES = tests/tcp-proxy.c
tests_test_relay_e2e_SOURCES = tests/test-relay-e2e.c \
	tests/test-relay-host.c tests/relay-test-host.h $(fake_host_sources) \
	$(relay_pure_sources) $(relay_net_sources) plugins/relay/plugin.c
tests_test_relay_e2e_CPPFLAGS = $(relay_test_cppflags)
tests_test_relay_e2e_CFLAGS = $(TEST_CFLAGS) $(CURL_CFLAGS) $(GNUTLS_CFLAGS)
tests_test_relay_e2e_LDADD = src/libsbcore.la $(CURL_LIBS) $(GNUTLS_LIBS) \
	$(TEST_LIBS) -lm
TESTS += tests/test-relay-e2e

EXTRA_PROGRAMS += tests/bench/bench-relay
bench_programs += tests/bench/bench-relay
tests_bench_bench_relay_SOURCES = tests/bench/bench-relay.c \
	tests/bench/bench-mqtt.c tests/bench/bench-mqtt.h \
	tests/bench/bench-util.c tests/bench/bench-util.h \
	tests/test-relay-host.c tests/relay-test-host.h $(fake_host_sources) \
	$(relay_pure_sources) $(relay_net_sources) plugins/relay/plugin.c
tests_bench_bench_relay_CPPFLAGS = $(relay_test_cppflags) \
	-I$(top_srcdir)/tests
tests_bench_bench_relay_CFLAGS = $(AM_CFLAGS) $(CURL_CFLAGS) $(GNUTLS_CFLAGS) \
	$(MOSQUITTO_CFLAGS)
tests_bench_bench_relay_LDADD = src/libsbcore.la $(CURL_LIBS) $(GNUTLS_LIBS) \
	$(MOSQUITTO_LIBS) -lm

# How the relay grows: 3, 30 and 300 sites in one session and in many.
EXTRA_PROGRAMS += tests/bench/bench-scale
bench_programs += tests/bench/bench-scale
tests_bench_bench_scale_SOURCES = tests/bench/bench-scale.c \
	tests/bench/bench-util.c tests/bench/bench-util.h \
	tests/test-relay-host.c tests/relay-test-host.h $(fake_host_sources) \
	$(relay_pure_sources) $(relay_net_sources) plugins/relay/plugin.c
tests_bench_bench_scale_CPPFLAGS = $(relay_test_cppflags) \
	-I$(top_srcdir)/tests
tests_bench_bench_scale_CFLAGS = $(AM_CFLAGS) $(CURL_CFLAGS) $(GNUTLS_CFLAGS)
tests_bench_bench_scale_LDADD = src/libsbcore.la $(CURL_LIBS) $(GNUTLS_LIBS) -lm
