/* test_nosym.c: exports a name and a version but no init. */
#include "config.h"

#include "synbridge-plugin.h"

SB_PLUGIN("test_nosym");

void synbridge_plugin_end(struct sb_plugin *)
    __attribute__((visibility("default")));

/* Present, so that only init is missing. */
void
synbridge_plugin_end(struct sb_plugin *p)
{
}
