/* test_dupname.c: claims the name of test_neurons. */
#include "config.h"

#include "synbridge-plugin.h"

SB_PLUGIN("test_neurons");

int synbridge_plugin_init(struct sb_plugin *, const struct sb_host_api *)
    __attribute__((visibility("default")));
void synbridge_plugin_end(struct sb_plugin *)
    __attribute__((visibility("default")));

/* Registers nothing. */
int
synbridge_plugin_init(struct sb_plugin *p, const struct sb_host_api *host)
{
	return 0;
}

/* Nothing to do. */
void
synbridge_plugin_end(struct sb_plugin *p)
{
}
