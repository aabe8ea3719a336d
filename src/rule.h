/* rule.h: plasticity rules run at the site that owns the device. */
#ifndef SB_RULE_H
#define SB_RULE_H

#include "session.h"

/* The rule named kind ("rate", "stdp", "off") with the paper's defaults. */
int rule_defaults(struct rule *r, const char *kind,
    const struct sb_device_limits *l, char **cause);
/* Apply "key=value" parameters to r. */
int rule_parse_params(struct rule *r, int argc, char **argv, char **cause);
/* Can the device take the rule's pulses? 0, or -1 with *cause. */
int rule_check_limits(const struct rule *r, const struct sb_device_limits *l,
    char **cause);
/* One-line description ("rate window=1s ltp>20 ltd<5 +4.0V/-4.0V 100us"). */
char *rule_describe(const struct rule *r);

/* A pre spike of syn arrived at t_us. */
void rule_on_pre(struct session *s, struct synapse *syn, int64_t t_us);
/* A post spike of syn arrived at t_us. */
void rule_on_post(struct session *s, struct synapse *syn, int64_t t_us);
/* Pre spikes of syn within (t_us - window, t_us]. */
unsigned rule_count_pre(const struct synapse *syn, int64_t t_us,
    int64_t window_us);

#endif
