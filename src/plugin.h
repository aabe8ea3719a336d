/* plugin.h: the plugin host (loader, host API, unloading). */
#ifndef SB_PLUGIN_HOST_H
#define SB_PLUGIN_HOST_H

#include "session.h"

/*
 * Load plugin NAME (a name looked up on the search path, or a path with a
 * '/') at site with "key=value" arguments. On failure nothing stays loaded
 * and *cause says what to fix.
 */
struct sb_plugin *plugin_load(struct site *site, const char *name,
    int argc, char **argv, char **cause);
/* Unload: end(), stop and free everything it registered. */
int plugin_unload(struct sb_plugin *p, char **cause);
void plugin_unload_all(struct site *site);
struct sb_plugin *plugin_find(struct site *site, const char *name);
/* The search path as "dir:dir:…" for messages. */
char *plugin_search_path(struct session *s);

extern const struct sb_host_api plugin_host_api;

#endif
