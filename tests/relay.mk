## synbridge-relay: parser unit tests and the end-to-end HTTPS tests.
check_PROGRAMS += tests/test-relay-args tests/test-relay
tests_test_relay_args_SOURCES = tests/test-relay-args.c \
	src/relay/relay-args.c src/relay/relay-tokens.c
tests_test_relay_args_CFLAGS = $(TEST_CFLAGS)
tests_test_relay_args_LDADD = src/libsbcore.la $(TEST_LIBS)
tests_test_relay_SOURCES = tests/test-relay.c
tests_test_relay_CFLAGS = $(TEST_CFLAGS) $(CURL_CFLAGS)
tests_test_relay_LDADD = src/libsbcore.la $(CURL_LIBS) $(TEST_LIBS)
TESTS += tests/test-relay-args tests/test-relay

## An LD_PRELOAD shim that holds the relay's spool syncs (test-relay).
check_LTLIBRARIES += tests/sync-gate.la
tests_sync_gate_la_SOURCES = tests/sync-gate.c
tests_sync_gate_la_CFLAGS = $(test_plugin_cflags)
tests_sync_gate_la_LDFLAGS = $(test_plugin_ldflags)
tests_sync_gate_la_LIBADD = -ldl

## Bounds: what a stranger or a careless site can make the relay hold.
check_PROGRAMS += tests/relay-body
tests_relay_body_SOURCES = tests/relay-body.c
tests_relay_body_LDADD = src/libsbcore.la
EXTRA_DIST += tests/relay-poke.py
TESTS += tests/relay-memory.sh tests/relay-answers.sh tests/relay-streams.sh \
	tests/relay-strangers.sh tests/relay-limits.sh
EXTRA_DIST += tests/relay-memory.sh tests/relay-answers.sh tests/relay-streams.sh \
	tests/relay-strangers.sh tests/relay-limits.sh
