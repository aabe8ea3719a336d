## The shared core (events, ring, clock, commands, CSV, plugin host) and
## the programs built on it.
noinst_LTLIBRARIES += src/libsbcore.la
src_libsbcore_la_SOURCES = \
	src/synbridge-plugin.h \
	src/xmalloc.c src/xmalloc.h \
	src/clock.c src/clock.h
src_libsbcore_la_CFLAGS = $(AM_CFLAGS)
src_libsbcore_la_LIBADD = $(CSV_LIBS)

bin_PROGRAMS += src/synbridge
src_synbridge_SOURCES = src/main.c
src_synbridge_LDADD = src/libsbcore.la $(READLINE_LIBS) $(NCURSES_LIBS)
src_synbridge_CFLAGS = $(AM_CFLAGS) $(NCURSES_CFLAGS)
src_synbridge_LDFLAGS = -export-dynamic

include src/ring.mk
include src/csv.mk
