## The shared core (events, ring, clock, commands, CSV, plugin host) and
## the programs built on it.
noinst_LTLIBRARIES += src/libsbcore.la
src_libsbcore_la_SOURCES = \
	src/synbridge-plugin.h \
	src/xmalloc.c src/xmalloc.h \
	src/clock.c src/clock.h \
	src/sched-hint.c src/sched-hint.h \
	src/cursor.c src/cursor.h \
	src/session.c src/session.h \
	src/plugin.c src/plugin.h \
	src/synapse.c src/synapse.h \
	src/rule.c src/rule.h \
	src/engine.c src/engine.h \
	src/latency.c src/latency.h \
	src/recorder.c src/recorder.h \
	src/csvlog.h src/history.h src/ring.h \
	src/cmd.c src/cmd.h src/cmd-queue.c src/cmd-table.c \
	src/cmd-help.c src/cmd-quit.c src/cmd-site.c src/cmd-plugin.c \
	src/cmd-synapse.c src/cmd-pulse.c src/cmd-stim.c src/cmd-rule.c \
	src/cmd-record.c src/cmd-mark.c src/cmd-source.c \
	src/cmd-remote.c src/cmd-link.c src/cmd-ifenv.c src/cmd-stop.c \
	src/cmd-latency.c \
	src/remote.c \
	src/remote.h
src_libsbcore_la_CFLAGS = $(AM_CFLAGS)
src_libsbcore_la_LIBADD = $(CSV_LIBS) -lm

bin_PROGRAMS += src/synbridge
src_synbridge_SOURCES = src/main.c src/headless.c src/headless.h \
	src/conout.c src/conout.h \
	src/termout.c src/termout.h \
	src/demo.c src/demo.h \
	src/tui.c src/tui.h src/tui-draw.c src/tui-glyph.c src/tui-prompt.c \
	src/tui-raster.c src/tui-layout.c src/tui-log.c
src_synbridge_LDADD = src/libsbcore.la $(READLINE_LIBS) $(NCURSES_LIBS)
src_synbridge_CFLAGS = $(AM_CFLAGS) $(NCURSES_CFLAGS)
src_synbridge_LDFLAGS = -export-dynamic

include src/ring.mk
include src/csv.mk
include src/relay/local.mk
