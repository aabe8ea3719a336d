/*
 * rule.c: plasticity rules, run where the device lives.
 *
 * rate (Serb et al., Sci Rep 10:2590, 2020): on a post spike, count the pre
 * unit's spikes in the last window (1 s; up to 100 kept): more than
 * ltp_above (20) -> a potentiation pulse, fewer than ltd_below (5) -> a
 * depression pulse; pulses +4.0 V / -4.0 V, 100 us (a device's own
 * defaults, whose signs say which polarity potentiates on it; ltp_v= and
 * ltd_v= give magnitudes).
 * stdp: pair-based, nearest neighbour: a post spike within ltp_window after
 * a pre spike -> potentiation; a pre spike within ltd_window after a post
 * spike -> depression (the paper's earlier variant: 100 ms and 37.5 ms).
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rule.h"
#include "synapse.h"
#include "xmalloc.h"

/* Set r to the defaults of kind. */
int
rule_defaults(struct rule *r, const char *kind,
    const struct sb_device_limits *l, char **cause)
{
	memset(r, 0, sizeof *r);
	r->window_us = 1000000;
	r->ltp_above = 20;
	r->ltd_below = 5;
	r->ltp_window_us = 100000;
	r->ltd_window_us = 37500;
	/* the device's, whose signs say which polarity potentiates */
	r->ltp_v = l->ltp_v != 0 ? l->ltp_v : 4.0;
	r->ltd_v = l->ltd_v != 0 ? l->ltd_v : -4.0;
	r->width_us = l->width_us > 0 ? l->width_us : 100;
	r->refractory_us = 0;
	if (strcmp(kind, "off") == 0)
		r->kind = RULE_OFF;
	else if (strcmp(kind, "rate") == 0)
		r->kind = RULE_RATE;
	else if (strcmp(kind, "stdp") == 0)
		r->kind = RULE_STDP;
	else {
		if (cause != NULL)
			xasprintf(cause, "unknown rule '%s' (have rate, stdp, "
			    "off)", kind);
		return -1;
	}
	return 0;
}

/* Parse a number in [lo, hi]. */
static int
rule_number(const char *key, const char *text, double lo, double hi,
    double *out, char **cause)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(text, &end);
	if (*text == '\0' || *end != '\0' || errno != 0 || !isfinite(v) ||
	    v < lo || v > hi) {
		xasprintf(cause, "%s=%s: expected a number from %g to %g", key,
		    text, lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

/* Parse a pulse amplitude's magnitude, 0.001-100 V (a sign is ignored). */
static int
rule_magnitude(const char *key, const char *text, double *out,
    char **cause)
{
	char *end;
	double v;

	errno = 0;
	v = fabs(strtod(text, &end));
	if (*text == '\0' || *end != '\0' || errno != 0 || !isfinite(v) ||
	    v < 0.001 || v > 100) {
		xasprintf(cause, "%s=%s: expected volts, 0.001-100 (the sign "
		    "is the device's)", key, text);
		return -1;
	}
	*out = v;
	return 0;
}

/* Apply key=value parameters. */
/*
 * Can the device take the rule's pulses? A rule whose pulses it would
 * refuse is refused when it is set, not pulse by pulse while it runs.
 */
int
rule_check_limits(const struct rule *r, const struct sb_device_limits *l,
    char **cause)
{
	if (r->kind == RULE_OFF || l->max_abs_v <= 0)
		return 0;
	if (fabs(r->ltp_v) > l->max_abs_v || fabs(r->ltd_v) > l->max_abs_v ||
	    r->width_us > l->max_width_us || (l->min_width_us > 0 &&
	    r->width_us < l->min_width_us)) {
		xasprintf(cause, "the rule's pulses (ltp_v=%+.2f ltd_v=%+.2f "
		    "width_us=%u) are beyond the device's safe limits (|V| <= "
		    "%.2f V, width %u-%u us)", r->ltp_v, r->ltd_v, r->width_us,
		    l->max_abs_v, l->min_width_us > 0 ? l->min_width_us : 1,
		    l->max_width_us);
		return -1;
	}
	return 0;
}

int
rule_parse_params(struct rule *r, int argc, char **argv, char **cause)
{
	struct rule n = *r;
	const char *eq, *val;
	char *key;
	double v;
	int i, rc = 0;

	for (i = 0; i < argc && rc == 0; i++) {
		eq = strchr(argv[i], '=');
		if (eq == NULL || eq == argv[i]) {
			xasprintf(cause, "bad rule parameter '%s' (write "
			    "key=value)", argv[i]);
			return -1;
		}
		key = xstrndup(argv[i], (size_t)(eq - argv[i]));
		val = eq + 1;
		if (strcmp(key, "window") == 0) {
			if ((rc = rule_number(key, val, 0.001, 10, &v,
			    cause)) == 0)
				n.window_us = llround(v * 1e6);
		} else if (strcmp(key, "ltp_above") == 0) {
			if ((rc = rule_number(key, val, 0, 99, &v, cause)) == 0)
				n.ltp_above = (unsigned)v;
		} else if (strcmp(key, "ltd_below") == 0) {
			if ((rc = rule_number(key, val, 0, 100, &v,
			    cause)) == 0)
				n.ltd_below = (unsigned)v;
		} else if (strcmp(key, "ltp_window") == 0) {
			if ((rc = rule_number(key, val, 0.0001, 10, &v,
			    cause)) == 0)
				n.ltp_window_us = llround(v * 1e6);
		} else if (strcmp(key, "ltd_window") == 0) {
			if ((rc = rule_number(key, val, 0.0001, 10, &v,
			    cause)) == 0)
				n.ltd_window_us = llround(v * 1e6);
		} else if (strcmp(key, "ltp_v") == 0) {
			/* a magnitude: the sign stays the device's */
			if ((rc = rule_magnitude(key, val, &v, cause)) == 0)
				n.ltp_v = copysign(v, n.ltp_v);
		} else if (strcmp(key, "ltd_v") == 0) {
			if ((rc = rule_magnitude(key, val, &v, cause)) == 0)
				n.ltd_v = copysign(v, n.ltd_v);
		} else if (strcmp(key, "width_us") == 0) {
			if ((rc = rule_number(key, val, 1, 1e7, &v,
			    cause)) == 0)
				n.width_us = (uint32_t)v;
		} else if (strcmp(key, "refractory") == 0) {
			if ((rc = rule_number(key, val, 0, 3600, &v,
			    cause)) == 0)
				n.refractory_us = llround(v * 1e6);
		} else {
			xasprintf(cause, "unknown rule parameter '%s' (have "
			    "window, ltp_above, ltd_below, ltp_window, "
			    "ltd_window, ltp_v, ltd_v, width_us, refractory)",
			    key);
			rc = -1;
		}
		free(key);
	}
	if (rc == 0 && n.kind == RULE_RATE && n.ltd_below > n.ltp_above) {
		xasprintf(cause, "ltd_below (%u) must not exceed ltp_above "
		    "(%u)", n.ltd_below, n.ltp_above);
		return -1;
	}
	if (rc == 0)
		*r = n;
	return rc;
}

/* Describe a rule on one line. */
char *
rule_describe(const struct rule *r)
{
	char *out;

	switch (r->kind) {
	case RULE_RATE:
		xasprintf(&out, "rate window=%gs ltp_above=%u ltd_below=%u "
		    "ltp_v=%+.2f ltd_v=%+.2f width_us=%u", r->window_us / 1e6,
		    r->ltp_above, r->ltd_below, r->ltp_v, r->ltd_v,
		    r->width_us);
		break;
	case RULE_STDP:
		xasprintf(&out, "stdp ltp_window=%gms ltd_window=%gms "
		    "ltp_v=%+.2f ltd_v=%+.2f width_us=%u",
		    r->ltp_window_us / 1e3, r->ltd_window_us / 1e3, r->ltp_v,
		    r->ltd_v, r->width_us);
		break;
	default:
		out = xstrdup("off");
		break;
	}
	return out;
}

/* Pre spikes in (t_us - window_us, t_us]. */
unsigned
rule_count_pre(const struct synapse *syn, int64_t t_us, int64_t window_us)
{
	unsigned i, n = 0, idx;

	for (i = 0; i < syn->pre_count; i++) {
		idx = (syn->pre_head + SYNAPSE_PRE_HISTORY - 1 - i) %
		    SYNAPSE_PRE_HISTORY;
		if (syn->pre_times[idx] > t_us)
			continue;
		if (syn->pre_times[idx] <= t_us - window_us)
			break;
		n++;
	}
	return n;
}

/* Issue a rule pulse unless the device is busy. */
static void
rule_pulse(struct session *s, struct synapse *syn, int ltp, int64_t t_us,
    const char *why)
{
	const struct rule *r = &syn->rule;
	char *cause = NULL;

	if (s->stopped) {
		snprintf(syn->last_decision, sizeof syn->last_decision,
		    "%s held (stopped)", ltp ? "ltp" : "ltd");
		return;
	}
	if (syn->in_flight > 0) {
		snprintf(syn->last_decision, sizeof syn->last_decision,
		    "%s skipped (busy)", ltp ? "ltp" : "ltd");
		return;
	}
	if (r->refractory_us > 0 && syn->last_rule_us != INT64_MIN &&
	    t_us - syn->last_rule_us < r->refractory_us)
		return;
	if (synapse_operate(s, syn, ltp ? COND_RULE_LTP : COND_RULE_LTD,
	    ltp ? r->ltp_v : r->ltd_v, r->width_us, 1, NULL, &cause) != 0) {
		/* say it once, not at every post spike, until a pulse works */
		if (syn->rule_refusals++ == 0)
			session_log(s, SB_LOG_WARNING, "rule: %s (further "
			    "refusals of %s are counted, not shown)", cause,
			    syn->name);
		snprintf(syn->last_decision, sizeof syn->last_decision,
		    "%s refused (%llu)", ltp ? "ltp" : "ltd",
		    (unsigned long long)syn->rule_refusals);
		free(cause);
		return;
	}
	if (syn->rule_refusals > 0) {
		session_log(s, SB_LOG_INFO, "rule: %s pulses again after %llu "
		    "refusals", syn->name,
		    (unsigned long long)syn->rule_refusals);
		syn->rule_refusals = 0;
	}
	syn->last_rule_us = t_us;
	if (ltp)
		syn->ltp++;
	else
		syn->ltd++;
	snprintf(syn->last_decision, sizeof syn->last_decision, "%s (%s)",
	    ltp ? "ltp" : "ltd", why);
}

/* A pre spike: remember it; stdp may depress. */
void
rule_on_pre(struct session *s, struct synapse *syn, int64_t t_us)
{
	syn->pre_times[syn->pre_head] = t_us;
	syn->pre_head = (syn->pre_head + 1) % SYNAPSE_PRE_HISTORY;
	if (syn->pre_count < SYNAPSE_PRE_HISTORY)
		syn->pre_count++;
	syn->pre_spikes++;
	if (syn->rule.kind == RULE_STDP && syn->last_post_us != INT64_MIN) {
		int64_t dt = t_us - syn->last_post_us;

		if (dt > 0 && dt <= syn->rule.ltd_window_us) {
			char why[32];

			snprintf(why, sizeof why, "post-pre %.1fms", dt / 1e3);
			rule_pulse(s, syn, 0, t_us, why);
		}
	}
}

/* A post spike: the rate rule decides; stdp may potentiate. */
void
rule_on_post(struct session *s, struct synapse *syn, int64_t t_us)
{
	const struct rule *r = &syn->rule;
	char why[32];
	unsigned n;

	syn->post_spikes++;
	if (r->kind == RULE_RATE) {
		n = rule_count_pre(syn, t_us, r->window_us);
		snprintf(why, sizeof why, "%u pre", n);
		if (n > r->ltp_above)
			rule_pulse(s, syn, 1, t_us, why);
		else if (n < r->ltd_below)
			rule_pulse(s, syn, 0, t_us, why);
		else
			snprintf(syn->last_decision,
			    sizeof syn->last_decision, "none (%u pre)", n);
	} else if (r->kind == RULE_STDP && syn->pre_count > 0) {
		int64_t last = syn->pre_times[(syn->pre_head +
		    SYNAPSE_PRE_HISTORY - 1) % SYNAPSE_PRE_HISTORY];
		int64_t dt = t_us - last;

		if (dt >= 0 && dt <= r->ltp_window_us) {
			snprintf(why, sizeof why, "pre-post %.1fms", dt / 1e3);
			rule_pulse(s, syn, 1, t_us, why);
		}
	}
	syn->last_post_us = t_us;
}
