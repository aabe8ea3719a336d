/* test_badversion.c: a plugin built for another API version. */
#include "config.h"

#include "synbridge-plugin.h"

__attribute__((visibility("default")))
const char synbridge_plugin_name[] = "test_badversion";
__attribute__((visibility("default")))
const char synbridge_plugin_api_version[] = "synbridge-plugin-0";

int synbridge_plugin_init(struct sb_plugin *, const struct sb_host_api *)
    __attribute__((visibility("default")));
void synbridge_plugin_end(struct sb_plugin *)
    __attribute__((visibility("default")));

/* Never called: the host must refuse the version first. */
int
synbridge_plugin_init(struct sb_plugin *p, const struct sb_host_api *host)
{
	host->log(p, SB_LOG_ERROR, "test_badversion: init was called");
	return 0;
}

/* Never called. */
void
synbridge_plugin_end(struct sb_plugin *p)
{
}
