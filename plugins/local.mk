## Each plugin lives in its own folder with its own local.mk.

# The fake host that plugin tests (and the relay benchmark) drive them with.
fake_host_sources = tests/fake-host.c tests/fake-host.h

# Helpers shared by the plugins, header-only: a module links no host
# symbols, so each one compiles in what it uses.
plugin_cppflags = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/common
EXTRA_DIST += plugins/common/sb-args.h plugins/common/sb-crossbar.h \
	plugins/common/sb-rng.h

include plugins/sim_culture/local.mk
include plugins/sim_memristor/local.mk
include plugins/sim_silicon/local.mk
include plugins/replay/local.mk
include plugins/relay/local.mk
include plugins/arc1/local.mk
include plugins/ramp/local.mk
include plugins/intan/local.mk
include plugins/openephys/local.mk
