/* synapse.h: synapses, selectors, routing lists and device operations. */
#ifndef SB_SYNAPSE_H
#define SB_SYNAPSE_H

#include "session.h"

struct cmdq_item;

/* Define a synapse at the current site: pre and post units, DEVSET:ADDR. */
struct synapse *synapse_define(struct session *s, const char *name,
    const char *pre, const char *post, const char *device, char **cause);
struct synapse *synapse_find(struct session *s, const char *name);
/*
 * Resolve selectors ("s3", "s0-7", "all", names) into synapse ids, in
 * order, without duplicates. Returns count, or -1 with *cause.
 */
int synapse_select(struct session *s, int argc, char **argv, uint32_t **ids,
    char **cause);
/* "s0-s7" style summary of the defined synapses, for messages. */
char *synapse_names_summary(struct session *s);
/* Synapse names using something p registered, or NULL. */
char *synapse_users_of_plugin(struct session *s, struct sb_plugin *p);
void synapse_lists_free(struct population *pop);
void synapse_free_all(struct session *s);

/* Can syn's device take operations now? 0, or -1 with why[len] filled. */
int synapse_offline(const struct synapse *syn, char *why, size_t len);
/*
 * Weight 0-255 of a conductance within a device's window, from R or from G
 * as its limits say; -1 if there is none (G not a number, no window).
 */
int synapse_weight_of(const struct sb_device_limits *l, double g_us);
/* The same for a synapse, 0 if there is none. */
unsigned synapse_weight(const struct synapse *syn, double g_us);

/*
 * Queue count pulses (or a read when event is COND_READ) at the device.
 * Checks the device's safe limits first. item (may be NULL) waits for it.
 */
int synapse_operate(struct session *s, struct synapse *syn,
    enum cond_event event, double amplitude_v, uint32_t width_us,
    uint32_t count, struct cmdq_item *item, char **cause);
/* Mirrors of other sites' synapses (see synapse.c). */
struct synapse *synapse_find_mirror(struct session *s, struct site *site,
    uint32_t remote_id);
struct synapse *synapse_mirror(struct session *s, struct site *site,
    uint32_t remote_id, const char *name, const char *pre, const char *post,
    double g_min_us, double g_max_us, enum sb_weight_from weight_from,
    double g_us);
/* Publish a local synapse's event to the sites linked through a relay. */
void synapse_publish(struct session *s, struct synapse *syn,
    const struct sb_event *ev);
/* Poll every device set of the session for completions due by now. */
void synapse_poll_devices(struct session *s, int64_t now_us);

#endif
