/*
 * intan-stim.c: an RHS channel's stimulation parameters as RHX commands.
 *
 * A pulse is biphasic, both phases of the same amplitude and duration (so
 * it is charge-balanced), negative or positive phase first, one pulse per
 * trigger, fired by the F key stim_key= names (Source KeyPressF1..F8).
 * Only what differs from what RHX was last told is sent, then the
 * channel's parameters are uploaded (`execute UploadStimParameters
 * CHANNEL`, which RHX takes while running); a pulse whose parameters did
 * not change needs no upload at all.
 *
 * [U] Parameter names and values are 3.4.0's (stimparameters.cpp). RHX may
 * round durations to its sample period (33.3 us at 30 kHz); the plugin
 * sends the microseconds asked for.
 */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>

#include "intan.h"

/* Append a formatted command; -1 when it does not fit. */
static int __attribute__((format(printf, 4, 5)))
intan_stim_add(char *buf, size_t len, size_t *at, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf + *at, len - *at, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len - *at)
		return -1;
	*at += (size_t)n;
	return 0;
}

/*
 * Microamps (the sign picks which phase comes first: a positive amplitude
 * has polarity negative_first, a negative one the other) as steps of step;
 * 0, or -1 with why.
 */
int
intan_stim_amplitude(double ua, double step, int negative_first,
    struct intan_stim_params *out, char *why, size_t len)
{
	double steps;

	if (!(step > 0)) {
		snprintf(why, len, "the stimulation step is not known yet "
		    "(RHX has not answered StimStepSizeMicroAmps)");
		return -1;
	}
	steps = nearbyint(fabs(ua) / step);
	if (steps > INTAN_MAX_STEPS) {
		snprintf(why, len, "%g uA is more than %d steps of %g uA "
		    "(at most %g uA)", fabs(ua), INTAN_MAX_STEPS, step,
		    INTAN_MAX_STEPS * step);
		return -1;
	}
	if (steps < 1) {
		snprintf(why, len, "%g uA is less than half a step (%g uA): no "
		    "pulse", fabs(ua), step);
		return -1;
	}
	out->steps = (uint16_t)steps;
	out->negative_first = ua >= 0 ? negative_first : !negative_first;
	return 0;
}

/*
 * The commands that bring channel from c to want (enabled, on key Fkey)
 * and upload them, into buf; their length, 0 when nothing changed, -1
 * when they do not fit.
 */
int
intan_stim_commands(const char *channel, const struct intan_stim_cache *c,
    const struct intan_stim_params *want, double step, unsigned key,
    char *buf, size_t len)
{
	int fresh = !c->set_up || c->state == INTAN_STIM_UNKNOWN;
	double ua = want->steps * step;
	size_t at = 0;
	int rc = 0;

	if (len > 0)
		buf[0] = '\0';
	if (fresh || c->state != INTAN_STIM_ON)
		rc |= intan_stim_add(buf, len, &at, "set %s.StimEnabled true;",
		    channel);
	if (fresh)
		rc |= intan_stim_add(buf, len, &at, "set %s.Source KeyPressF%u;"
		    "set %s.Shape Biphasic;set %s.PulseOrTrain SinglePulse;"
		    "set %s.TriggerEdgeOrLevel Edge;"
		    "set %s.TriggerHighOrLow High;"
		    "set %s.PostTriggerDelayMicroseconds 0;", channel, key,
		    channel, channel, channel, channel, channel);
	if (fresh || c->p.negative_first != want->negative_first)
		rc |= intan_stim_add(buf, len, &at, "set %s.Polarity %s;",
		    channel, want->negative_first ? "NegativeFirst" :
		    "PositiveFirst");
	if (fresh || c->p.steps != want->steps)
		rc |= intan_stim_add(buf, len, &at, "set "
		    "%s.FirstPhaseAmplitudeMicroAmps %.6g;set "
		    "%s.SecondPhaseAmplitudeMicroAmps %.6g;", channel, ua,
		    channel, ua);
	if (fresh || c->p.width_us != want->width_us)
		rc |= intan_stim_add(buf, len, &at, "set "
		    "%s.FirstPhaseDurationMicroseconds %u;set "
		    "%s.SecondPhaseDurationMicroseconds %u;", channel,
		    want->width_us, channel, want->width_us);
	if (at == 0)
		return rc == 0 ? 0 : -1;
	rc |= intan_stim_add(buf, len, &at, "execute UploadStimParameters %s;",
	    channel);
	return rc == 0 ? (int)at : -1;
}

/* The commands that take channel off the key and upload it. */
int
intan_stim_off_commands(const char *channel, char *buf, size_t len)
{
	size_t at = 0;

	if (intan_stim_add(buf, len, &at, "set %s.StimEnabled false;execute "
	    "UploadStimParameters %s;", channel, channel) != 0)
		return -1;
	return (int)at;
}
