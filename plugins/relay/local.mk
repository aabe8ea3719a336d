## relay: the HTTPS relay transport (a client of synbridge-relay).
relay_pure_sources = \
	plugins/relay/relay.h \
	plugins/relay/relay-config.c \
	plugins/relay/relay-outq.c \
	plugins/relay/relay-pool.c \
	plugins/relay/relay-parse.c \
	plugins/relay/relay-text.c \
	plugins/relay/relay-clock.c \
	plugins/relay/relay-health.c \
	src/tls-pin-valid.c src/tls-pin.h
relay_net_sources = \
	plugins/relay/relay-net.c \
	plugins/relay/relay-client.c \
	src/tls-pin.c src/tls-pin.h
# A plugin never links against host symbols: the wire format comes along.
relay_core_sources = \
	src/wire.c src/wire.h src/crc32c.c src/crc32c.h \
	src/xmalloc.c src/xmalloc.h src/sched-hint.c src/sched-hint.h

pkglib_LTLIBRARIES += plugins/relay/relay.la
plugins_relay_relay_la_SOURCES = $(relay_pure_sources) \
	$(relay_net_sources) $(relay_core_sources) plugins/relay/plugin.c
plugins_relay_relay_la_CFLAGS = $(AM_CFLAGS) $(CURL_CFLAGS) \
	$(GNUTLS_CFLAGS) -fvisibility=hidden
plugins_relay_relay_la_LDFLAGS = $(plugin_ldflags)
plugins_relay_relay_la_LIBADD = $(CURL_LIBS) $(GNUTLS_LIBS) -lm

include tests/relay-client.mk
