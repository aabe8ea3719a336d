## Fuzz targets (tests/fuzz): one file per decoder of outside input.
## `make check` replays each target's corpus (tests/fuzz/corpus/TARGET)
## through it, built by $(CC) with the sanitizers when it has them
## (configure: FUZZ_REPLAY_CFLAGS); `make fuzz` builds the targets with
## clang's libFuzzer and runs each for FUZZ_TIME seconds (tests/fuzz/run).

fuzz_targets = wire relay-read relay-answers relay-args relay-tokens \
	relay-http csv commands ramp ramp-conn arc1 intan intan-reply \
	openephys openephys-api

fuzz_common = tests/fuzz/fuzz.h tests/fuzz/fuzz-util.c
fuzz_replay_sources = tests/fuzz/replay.c $(fuzz_common)
fuzz_replay_cflags = $(AM_CFLAGS) $(FUZZ_REPLAY_CFLAGS)
fuzz_corpus = $(abs_top_srcdir)/tests/fuzz/corpus
fuzz_core = src/wire.c src/wire.h src/crc32c.c src/crc32c.h \
	src/xmalloc.c src/xmalloc.h
fuzz_plugin_cppflags = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/common \
	-I$(top_srcdir)/tests -I$(top_srcdir)/tests/fuzz

# Each target: its sources, preprocessor flags and libraries.
fuzz_wire_sources = tests/fuzz/wire.c $(fuzz_core)
fuzz_wire_cppflags =
fuzz_wire_libs =
fuzz_relay_read_sources = tests/fuzz/relay-read.c \
	plugins/relay/relay-parse.c plugins/relay/relay-pool.c \
	plugins/relay/relay.h $(fuzz_core)
fuzz_relay_read_cppflags = -I$(top_srcdir)/plugins/relay
fuzz_relay_read_libs =
fuzz_relay_answers_sources = tests/fuzz/relay-answers.c \
	plugins/relay/relay-text.c plugins/relay/relay-parse.c \
	plugins/relay/relay-pool.c plugins/relay/relay.h $(fuzz_core)
fuzz_relay_answers_cppflags = -I$(top_srcdir)/plugins/relay
fuzz_relay_answers_libs =
fuzz_relay_args_sources = tests/fuzz/relay-args.c src/relay/relay-args.c \
	src/relay/relay-tokens.c src/relay/relay.h plugins/relay/relay-text.c \
	plugins/relay/relay-parse.c plugins/relay/relay-pool.c \
	plugins/relay/relay.h $(fuzz_core)
fuzz_relay_args_cppflags =
fuzz_relay_args_libs =
fuzz_relay_tokens_sources = tests/fuzz/relay-tokens.c \
	src/relay/relay-tokens.c src/relay/relay.h src/xmalloc.c src/xmalloc.h
fuzz_relay_tokens_cppflags =
fuzz_relay_tokens_libs =
fuzz_relay_http_sources = tests/fuzz/relay-http.c src/relay/relay.h \
	src/relay/relay-http.c src/relay/relay-sync.c src/relay/relay-store.c \
	src/relay/relay-spool.c \
	src/relay/relay-read.c src/relay/relay-control.c \
	src/relay/relay-metrics.c src/relay/relay-tokens.c \
	src/relay/relay-args.c src/relay/relay-clock.c \
	src/relay/relay-log.c src/relay/relay-buffers.c \
	src/relay/relay-conn.c src/clock.c src/clock.h $(fuzz_core)
fuzz_relay_http_cppflags = $(MHD_CFLAGS) $(GNUTLS_CFLAGS)
fuzz_relay_http_libs = $(MHD_LIBS) $(GNUTLS_LIBS) -lm
fuzz_csv_sources = tests/fuzz/csv.c src/csvread.c src/csvlog.c \
	src/csvlog.h src/csvkind.h src/xmalloc.c src/xmalloc.h
fuzz_csv_cppflags =
fuzz_csv_libs = $(CSV_LIBS) -lm
fuzz_commands_sources = tests/fuzz/commands.c $(src_libsbcore_la_SOURCES)
fuzz_commands_cppflags = -I$(top_srcdir)/tests/plugins \
	-DTEST_PLUGIN_DIR='"$(abs_top_builddir)/tests/plugins/.libs"'
fuzz_commands_libs = $(CSV_LIBS) -lm
fuzz_ramp_sources = tests/fuzz/ramp.c $(fake_host_sources) $(ramp_sources) \
	plugins/ramp/plugin.c
fuzz_ramp_cppflags = -I$(top_srcdir)/plugins/common \
	-I$(top_srcdir)/plugins/ramp -I$(top_srcdir)/tests
fuzz_ramp_libs = -lm
fuzz_ramp_conn_sources = tests/fuzz/ramp-conn.c plugins/ramp/ramp-conn.c \
	plugins/ramp/ramp.h
fuzz_ramp_conn_cppflags = -I$(top_srcdir)/plugins/common \
	-I$(top_srcdir)/plugins/ramp
fuzz_ramp_conn_libs =
fuzz_arc1_sources = tests/fuzz/arc1.c $(fake_host_sources) \
	plugins/arc1/arc1.h plugins/arc1/arc1-proto.c \
	plugins/arc1/arc1-line.c \
	plugins/arc1/arc1-config.c plugins/common/sb-devlink.c \
	plugins/common/sb-devlink.h src/sched-hint.c src/sched-hint.h
fuzz_arc1_cppflags = -I$(top_srcdir)/plugins/common \
	-I$(top_srcdir)/plugins/arc1 -I$(top_srcdir)/tests
fuzz_arc1_libs = -lm
fuzz_intan_sources = tests/fuzz/intan.c plugins/intan/intan.h \
	plugins/intan/intan-spike.c plugins/intan/intan-channels.c \
	plugins/intan/intan-clock.c
fuzz_intan_cppflags = -I$(top_srcdir)/plugins/common \
	-I$(top_srcdir)/plugins/intan
fuzz_intan_libs = -lm
fuzz_intan_reply_sources = tests/fuzz/intan-reply.c plugins/intan/intan.h \
	plugins/intan/intan-reply.c
fuzz_intan_reply_cppflags = -I$(top_srcdir)/plugins/common \
	-I$(top_srcdir)/plugins/intan
fuzz_intan_reply_libs = -lm
fuzz_openephys_sources = tests/fuzz/openephys.c $(fake_host_sources) \
	plugins/openephys/openephys.h plugins/openephys/oe-event.c \
	plugins/openephys/oe-clock.c plugins/openephys/oe-config.c
fuzz_openephys_cppflags = -I$(top_srcdir)/plugins/common \
	-I$(top_srcdir)/plugins/openephys -I$(top_srcdir)/tests \
	$(JANSSON_CFLAGS)
fuzz_openephys_libs = $(JANSSON_LIBS) -lm
fuzz_openephys_api_sources = tests/fuzz/openephys-api.c \
	plugins/openephys/openephys.h plugins/openephys/oe-api.c
fuzz_openephys_api_cppflags = -I$(top_srcdir)/plugins/common \
	-I$(top_srcdir)/plugins/openephys $(JANSSON_CFLAGS)
fuzz_openephys_api_libs = $(JANSSON_LIBS) -lm

# make check: every corpus replayed (TAP, one line per input).
check_PROGRAMS += tests/fuzz/replay-wire tests/fuzz/replay-relay-read \
	tests/fuzz/replay-relay-answers tests/fuzz/replay-relay-args \
	tests/fuzz/replay-relay-tokens tests/fuzz/replay-relay-http \
	tests/fuzz/replay-csv tests/fuzz/replay-commands \
	tests/fuzz/replay-ramp tests/fuzz/replay-ramp-conn \
	tests/fuzz/replay-arc1 tests/fuzz/replay-intan \
	tests/fuzz/replay-intan-reply tests/fuzz/replay-openephys \
	tests/fuzz/replay-openephys-api
TESTS += tests/fuzz/replay-wire tests/fuzz/replay-relay-read \
	tests/fuzz/replay-relay-answers tests/fuzz/replay-relay-args \
	tests/fuzz/replay-relay-tokens tests/fuzz/replay-relay-http \
	tests/fuzz/replay-csv tests/fuzz/replay-commands \
	tests/fuzz/replay-ramp tests/fuzz/replay-ramp-conn \
	tests/fuzz/replay-arc1 tests/fuzz/replay-intan \
	tests/fuzz/replay-intan-reply tests/fuzz/replay-openephys \
	tests/fuzz/replay-openephys-api

tests_fuzz_replay_wire_SOURCES = $(fuzz_replay_sources) $(fuzz_wire_sources)
tests_fuzz_replay_wire_CPPFLAGS = $(AM_CPPFLAGS) $(fuzz_wire_cppflags) \
	-DFUZZ_CORPUS_DIR='"$(fuzz_corpus)/wire"'
tests_fuzz_replay_wire_CFLAGS = $(fuzz_replay_cflags)
tests_fuzz_replay_wire_LDFLAGS = $(FUZZ_REPLAY_CFLAGS)
tests_fuzz_replay_wire_LDADD = $(fuzz_wire_libs)

tests_fuzz_replay_relay_read_SOURCES = $(fuzz_replay_sources) \
	$(fuzz_relay_read_sources)
tests_fuzz_replay_relay_read_CPPFLAGS = $(AM_CPPFLAGS) \
	$(fuzz_relay_read_cppflags) \
	-DFUZZ_CORPUS_DIR='"$(fuzz_corpus)/relay-read"'
tests_fuzz_replay_relay_read_CFLAGS = $(fuzz_replay_cflags)
tests_fuzz_replay_relay_read_LDFLAGS = $(FUZZ_REPLAY_CFLAGS)
tests_fuzz_replay_relay_read_LDADD = $(fuzz_relay_read_libs)

tests_fuzz_replay_relay_answers_SOURCES = $(fuzz_replay_sources) \
	$(fuzz_relay_answers_sources)
tests_fuzz_replay_relay_answers_CPPFLAGS = $(AM_CPPFLAGS) \
	$(fuzz_relay_answers_cppflags) \
	-DFUZZ_CORPUS_DIR='"$(fuzz_corpus)/relay-answers"'
tests_fuzz_replay_relay_answers_CFLAGS = $(fuzz_replay_cflags)
tests_fuzz_replay_relay_answers_LDFLAGS = $(FUZZ_REPLAY_CFLAGS)
tests_fuzz_replay_relay_answers_LDADD = $(fuzz_relay_answers_libs)

tests_fuzz_replay_relay_args_SOURCES = $(fuzz_replay_sources) \
	$(fuzz_relay_args_sources)
tests_fuzz_replay_relay_args_CPPFLAGS = $(AM_CPPFLAGS) \
	$(fuzz_relay_args_cppflags) \
	-DFUZZ_CORPUS_DIR='"$(fuzz_corpus)/relay-args"'
tests_fuzz_replay_relay_args_CFLAGS = $(fuzz_replay_cflags)
tests_fuzz_replay_relay_args_LDFLAGS = $(FUZZ_REPLAY_CFLAGS)
tests_fuzz_replay_relay_args_LDADD = $(fuzz_relay_args_libs)

tests_fuzz_replay_relay_tokens_SOURCES = $(fuzz_replay_sources) \
	$(fuzz_relay_tokens_sources)
tests_fuzz_replay_relay_tokens_CPPFLAGS = $(AM_CPPFLAGS) \
	$(fuzz_relay_tokens_cppflags) \
	-DFUZZ_CORPUS_DIR='"$(fuzz_corpus)/relay-tokens"'
tests_fuzz_replay_relay_tokens_CFLAGS = $(fuzz_replay_cflags)
tests_fuzz_replay_relay_tokens_LDFLAGS = $(FUZZ_REPLAY_CFLAGS)
tests_fuzz_replay_relay_tokens_LDADD = $(fuzz_relay_tokens_libs)

tests_fuzz_replay_relay_http_SOURCES = $(fuzz_replay_sources) \
	$(fuzz_relay_http_sources)
tests_fuzz_replay_relay_http_CPPFLAGS = $(AM_CPPFLAGS) \
	$(fuzz_relay_http_cppflags) \
	-DFUZZ_CORPUS_DIR='"$(fuzz_corpus)/relay-http"'
tests_fuzz_replay_relay_http_CFLAGS = $(fuzz_replay_cflags)
tests_fuzz_replay_relay_http_LDFLAGS = $(FUZZ_REPLAY_CFLAGS)
tests_fuzz_replay_relay_http_LDADD = $(fuzz_relay_http_libs)

tests_fuzz_replay_csv_SOURCES = $(fuzz_replay_sources) $(fuzz_csv_sources)
tests_fuzz_replay_csv_CPPFLAGS = $(AM_CPPFLAGS) $(fuzz_csv_cppflags) \
	-DFUZZ_CORPUS_DIR='"$(fuzz_corpus)/csv"'
tests_fuzz_replay_csv_CFLAGS = $(fuzz_replay_cflags)
tests_fuzz_replay_csv_LDFLAGS = $(FUZZ_REPLAY_CFLAGS)
tests_fuzz_replay_csv_LDADD = $(fuzz_csv_libs)

tests_fuzz_replay_commands_SOURCES = $(fuzz_replay_sources) \
	$(fuzz_commands_sources)
tests_fuzz_replay_commands_CPPFLAGS = $(AM_CPPFLAGS) \
	$(fuzz_commands_cppflags) \
	-DFUZZ_CORPUS_DIR='"$(fuzz_corpus)/commands"'
tests_fuzz_replay_commands_CFLAGS = $(fuzz_replay_cflags)
tests_fuzz_replay_commands_LDFLAGS = $(FUZZ_REPLAY_CFLAGS)
tests_fuzz_replay_commands_LDADD = $(fuzz_commands_libs)

tests_fuzz_replay_ramp_SOURCES = $(fuzz_replay_sources) $(fuzz_ramp_sources)
tests_fuzz_replay_ramp_CPPFLAGS = $(AM_CPPFLAGS) $(fuzz_ramp_cppflags) \
	-DFUZZ_CORPUS_DIR='"$(fuzz_corpus)/ramp"'
tests_fuzz_replay_ramp_CFLAGS = $(fuzz_replay_cflags)
tests_fuzz_replay_ramp_LDFLAGS = $(FUZZ_REPLAY_CFLAGS)
tests_fuzz_replay_ramp_LDADD = $(fuzz_ramp_libs)

tests_fuzz_replay_ramp_conn_SOURCES = $(fuzz_replay_sources) \
	$(fuzz_ramp_conn_sources)
tests_fuzz_replay_ramp_conn_CPPFLAGS = $(AM_CPPFLAGS) \
	$(fuzz_ramp_conn_cppflags) \
	-DFUZZ_CORPUS_DIR='"$(fuzz_corpus)/ramp-conn"'
tests_fuzz_replay_ramp_conn_CFLAGS = $(fuzz_replay_cflags)
tests_fuzz_replay_ramp_conn_LDFLAGS = $(FUZZ_REPLAY_CFLAGS)
tests_fuzz_replay_ramp_conn_LDADD = $(fuzz_ramp_conn_libs)

tests_fuzz_replay_arc1_SOURCES = $(fuzz_replay_sources) $(fuzz_arc1_sources)
tests_fuzz_replay_arc1_CPPFLAGS = $(AM_CPPFLAGS) $(fuzz_arc1_cppflags) \
	-DFUZZ_CORPUS_DIR='"$(fuzz_corpus)/arc1"'
tests_fuzz_replay_arc1_CFLAGS = $(fuzz_replay_cflags)
tests_fuzz_replay_arc1_LDFLAGS = $(FUZZ_REPLAY_CFLAGS)
tests_fuzz_replay_arc1_LDADD = $(fuzz_arc1_libs)

tests_fuzz_replay_intan_SOURCES = $(fuzz_replay_sources) $(fuzz_intan_sources)
tests_fuzz_replay_intan_CPPFLAGS = $(AM_CPPFLAGS) $(fuzz_intan_cppflags) \
	-DFUZZ_CORPUS_DIR='"$(fuzz_corpus)/intan"'
tests_fuzz_replay_intan_CFLAGS = $(fuzz_replay_cflags)
tests_fuzz_replay_intan_LDFLAGS = $(FUZZ_REPLAY_CFLAGS)
tests_fuzz_replay_intan_LDADD = $(fuzz_intan_libs)

tests_fuzz_replay_intan_reply_SOURCES = $(fuzz_replay_sources) \
	$(fuzz_intan_reply_sources)
tests_fuzz_replay_intan_reply_CPPFLAGS = $(AM_CPPFLAGS) \
	$(fuzz_intan_reply_cppflags) \
	-DFUZZ_CORPUS_DIR='"$(fuzz_corpus)/intan-reply"'
tests_fuzz_replay_intan_reply_CFLAGS = $(fuzz_replay_cflags)
tests_fuzz_replay_intan_reply_LDFLAGS = $(FUZZ_REPLAY_CFLAGS)
tests_fuzz_replay_intan_reply_LDADD = $(fuzz_intan_reply_libs)

tests_fuzz_replay_openephys_SOURCES = $(fuzz_replay_sources) \
	$(fuzz_openephys_sources)
tests_fuzz_replay_openephys_CPPFLAGS = $(AM_CPPFLAGS) \
	$(fuzz_openephys_cppflags) \
	-DFUZZ_CORPUS_DIR='"$(fuzz_corpus)/openephys"'
tests_fuzz_replay_openephys_CFLAGS = $(fuzz_replay_cflags)
tests_fuzz_replay_openephys_LDFLAGS = $(FUZZ_REPLAY_CFLAGS)
tests_fuzz_replay_openephys_LDADD = $(fuzz_openephys_libs)

tests_fuzz_replay_openephys_api_SOURCES = $(fuzz_replay_sources) \
	$(fuzz_openephys_api_sources)
tests_fuzz_replay_openephys_api_CPPFLAGS = $(AM_CPPFLAGS) \
	$(fuzz_openephys_api_cppflags) \
	-DFUZZ_CORPUS_DIR='"$(fuzz_corpus)/openephys-api"'
tests_fuzz_replay_openephys_api_CFLAGS = $(fuzz_replay_cflags)
tests_fuzz_replay_openephys_api_LDFLAGS = $(FUZZ_REPLAY_CFLAGS)
tests_fuzz_replay_openephys_api_LDADD = $(fuzz_openephys_api_libs)

# make fuzz: the libFuzzer builds (clang), then each target in turn.
FUZZ_TIME = 60
FUZZ_TARGETS = $(fuzz_targets)
FUZZ_FLAGS =
fuzz_cflags = -g -O1 -fno-omit-frame-pointer \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
fuzz_build = srcdir='$(srcdir)' FUZZ_CC='$(FUZZ_CC)' \
	FUZZ_CFLAGS='$(fuzz_cflags)' \
	FUZZ_CPPFLAGS='-I$(top_builddir) -I$(top_srcdir)/src -I$(top_srcdir)/tests/fuzz' \
	$(SHELL) $(srcdir)/tests/fuzz/build
fuzz_deps = $(fuzz_common) tests/fuzz/build config.h \
	src/synbridge-plugin.h

tests/fuzz/bin/wire: $(fuzz_wire_sources) $(fuzz_deps)
	$(AM_V_GEN)$(fuzz_build) $@ $(fuzz_wire_cppflags) \
	    $(fuzz_wire_sources) -- $(fuzz_wire_libs) $(LIBS)
tests/fuzz/bin/relay-read: $(fuzz_relay_read_sources) $(fuzz_deps)
	$(AM_V_GEN)$(fuzz_build) $@ $(fuzz_relay_read_cppflags) \
	    $(fuzz_relay_read_sources) -- $(fuzz_relay_read_libs) $(LIBS)
tests/fuzz/bin/relay-answers: $(fuzz_relay_answers_sources) $(fuzz_deps)
	$(AM_V_GEN)$(fuzz_build) $@ $(fuzz_relay_answers_cppflags) \
	    $(fuzz_relay_answers_sources) -- $(fuzz_relay_answers_libs) $(LIBS)
tests/fuzz/bin/relay-args: $(fuzz_relay_args_sources) $(fuzz_deps)
	$(AM_V_GEN)$(fuzz_build) $@ $(fuzz_relay_args_cppflags) \
	    $(fuzz_relay_args_sources) -- $(fuzz_relay_args_libs) $(LIBS)
tests/fuzz/bin/relay-tokens: $(fuzz_relay_tokens_sources) $(fuzz_deps)
	$(AM_V_GEN)$(fuzz_build) $@ $(fuzz_relay_tokens_cppflags) \
	    $(fuzz_relay_tokens_sources) -- $(fuzz_relay_tokens_libs) $(LIBS)
tests/fuzz/bin/relay-http: $(fuzz_relay_http_sources) $(fuzz_deps)
	$(AM_V_GEN)$(fuzz_build) $@ $(fuzz_relay_http_cppflags) \
	    $(fuzz_relay_http_sources) -- $(fuzz_relay_http_libs) $(LIBS)
tests/fuzz/bin/csv: $(fuzz_csv_sources) $(fuzz_deps)
	$(AM_V_GEN)$(fuzz_build) $@ $(fuzz_csv_cppflags) \
	    $(fuzz_csv_sources) -- $(fuzz_csv_libs) $(LIBS)
tests/fuzz/bin/commands: $(fuzz_commands_sources) $(fuzz_deps) \
    $(check_LTLIBRARIES) $(pkglib_LTLIBRARIES)
	$(AM_V_GEN)$(fuzz_build) $@ $(fuzz_commands_cppflags) \
	    $(fuzz_commands_sources) -- $(fuzz_commands_libs) $(LIBS)
tests/fuzz/bin/ramp: $(fuzz_ramp_sources) $(fuzz_deps)
	$(AM_V_GEN)$(fuzz_build) $@ $(fuzz_ramp_cppflags) \
	    $(fuzz_ramp_sources) -- $(fuzz_ramp_libs) $(LIBS)
tests/fuzz/bin/ramp-conn: $(fuzz_ramp_conn_sources) $(fuzz_deps)
	$(AM_V_GEN)$(fuzz_build) $@ $(fuzz_ramp_conn_cppflags) \
	    $(fuzz_ramp_conn_sources) -- $(fuzz_ramp_conn_libs) $(LIBS)
tests/fuzz/bin/arc1: $(fuzz_arc1_sources) $(fuzz_deps)
	$(AM_V_GEN)$(fuzz_build) $@ $(fuzz_arc1_cppflags) \
	    $(fuzz_arc1_sources) -- $(fuzz_arc1_libs) $(LIBS)
tests/fuzz/bin/intan: $(fuzz_intan_sources) $(fuzz_deps)
	$(AM_V_GEN)$(fuzz_build) $@ $(fuzz_intan_cppflags) \
	    $(fuzz_intan_sources) -- $(fuzz_intan_libs) $(LIBS)
tests/fuzz/bin/intan-reply: $(fuzz_intan_reply_sources) $(fuzz_deps)
	$(AM_V_GEN)$(fuzz_build) $@ $(fuzz_intan_reply_cppflags) \
	    $(fuzz_intan_reply_sources) -- $(fuzz_intan_reply_libs) $(LIBS)
tests/fuzz/bin/openephys: $(fuzz_openephys_sources) $(fuzz_deps)
	$(AM_V_GEN)$(fuzz_build) $@ $(fuzz_openephys_cppflags) \
	    $(fuzz_openephys_sources) -- $(fuzz_openephys_libs) $(LIBS)
tests/fuzz/bin/openephys-api: $(fuzz_openephys_api_sources) $(fuzz_deps)
	$(AM_V_GEN)$(fuzz_build) $@ $(fuzz_openephys_api_cppflags) \
	    $(fuzz_openephys_api_sources) -- $(fuzz_openephys_api_libs) $(LIBS)

fuzz:
	@if test "$(HAVE_FUZZER)" != yes; then \
	  echo "make fuzz: $(FUZZ_CC) cannot build libFuzzer targets:" \
	    "install the Debian packages clang and libclang-rt-14-dev," \
	    "or run configure with FUZZ_CC=a clang that has -fsanitize=fuzzer"; \
	  exit 1; fi
	@srcdir='$(srcdir)' FUZZ_TIME='$(FUZZ_TIME)' FUZZ_FLAGS='$(FUZZ_FLAGS)' \
	  FUZZ_KNOWN='$(fuzz_targets)' \
	  MAKE='$(MAKE) $(AM_MAKEFLAGS)' $(SHELL) $(srcdir)/tests/fuzz/run \
	  $(FUZZ_TARGETS)
.PHONY: fuzz

fuzz-clean:
	rm -rf tests/fuzz/bin tests/fuzz/work
.PHONY: fuzz-clean
clean-local: fuzz-clean

EXTRA_DIST += tests/fuzz/build tests/fuzz/run tests/fuzz/corpus \
	$(fuzz_dicts)
fuzz_dicts = tests/fuzz/commands.dict tests/fuzz/relay-http.dict \
	tests/fuzz/csv.dict tests/fuzz/openephys.dict \
	tests/fuzz/openephys-api.dict tests/fuzz/relay-tokens.dict

# make fuzz-seeds: write the seed corpora again (tests/fuzz/seeds.c).
EXTRA_PROGRAMS += tests/fuzz/seeds
tests_fuzz_seeds_SOURCES = tests/fuzz/seeds.c $(fuzz_core) src/csvlog.c \
	src/csvlog.h plugins/ramp/ramp-packet.c plugins/ramp/ramp.h
tests_fuzz_seeds_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/common \
	-I$(top_srcdir)/plugins/ramp
tests_fuzz_seeds_LDADD = $(CSV_LIBS) -lm
fuzz-seeds: tests/fuzz/seeds$(EXEEXT)
	./tests/fuzz/seeds $(srcdir)/tests/fuzz/corpus
.PHONY: fuzz-seeds
