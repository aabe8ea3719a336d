/*
 * test_failinit.c: init registers a population and a command, logs why it
 * fails and returns -1; the host must free what was registered.
 */
#include "config.h"

#include <stdlib.h>

#include "synbridge-plugin.h"

SB_PLUGIN("test_failinit");

int synbridge_plugin_init(struct sb_plugin *, const struct sb_host_api *)
    __attribute__((visibility("default")));
void synbridge_plugin_end(struct sb_plugin *)
    __attribute__((visibility("default")));

/* A population that never fires. */
static int
test_failinit_advance(void *data, int64_t t_us, struct sb_emitter *em)
{
	return 0;
}

/* A command that is never reached. */
static int
test_failinit_exec(void *data, int argc, char **argv, struct sb_reply *r)
{
	return 0;
}

static const struct sb_neurons test_failinit_neurons = {
	.name = "failing",
	.units = 2,
	.advance = test_failinit_advance,
};

static const struct sb_command test_failinit_command = {
	.name = "test-failinit",
	.exec = test_failinit_exec,
};

/* Register, then fail. */
int
synbridge_plugin_init(struct sb_plugin *p, const struct sb_host_api *host)
{
	host->register_neurons(p, &test_failinit_neurons, malloc(64), free);
	host->register_command(p, &test_failinit_command, malloc(32), free);
	host->log(p, SB_LOG_ERROR, "test_failinit: the instrument does not "
	    "answer (check its cable)");
	return -1;
}

/* Must not be called after a failed init. */
void
synbridge_plugin_end(struct sb_plugin *p)
{
	abort();
}
