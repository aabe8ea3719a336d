## Each plugin lives in its own folder with its own local.mk.

# The fake host that plugin tests (and the relay benchmark) drive them with.
fake_host_sources = tests/fake-host.c tests/fake-host.h

include plugins/sim_culture/local.mk
include plugins/sim_memristor/local.mk
include plugins/sim_silicon/local.mk
include plugins/replay/local.mk
include plugins/relay/local.mk
