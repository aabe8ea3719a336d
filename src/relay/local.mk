## synbridge-relay: the HTTPS relay between sites (libmicrohttpd + GnuTLS).
bin_PROGRAMS += src/relay/synbridge-relay
src_relay_synbridge_relay_SOURCES = \
	src/relay/relay.h \
	src/relay/relay-main.c \
	src/relay/relay-args.c \
	src/relay/relay-tokens.c \
	src/relay/relay-store.c \
	src/relay/relay-spool.c \
	src/relay/relay-http.c \
	src/relay/relay-sync.c \
	src/relay/relay-read.c \
	src/relay/relay-control.c \
	src/relay/relay-metrics.c \
	src/relay/relay-timer.c \
	src/relay/relay-clock.c \
	src/tls-pin.c src/tls-pin.h \
	src/relay/relay-log.c \
	src/relay/relay-buffers.c \
	src/relay/relay-conn.c \
	src/relay/relay-tls.c
src_relay_synbridge_relay_CFLAGS = $(AM_CFLAGS) $(MHD_CFLAGS) $(GNUTLS_CFLAGS)
src_relay_synbridge_relay_LDADD = src/libsbcore.la $(MHD_LIBS) $(GNUTLS_LIBS)

dist_man_MANS += man/synbridge-relay.1

include tests/relay.mk
