/*
 * replay.c: the replay plugin, a population that plays back a spikes.csv
 * recorded by synbridge, so a recorded session can be run again against
 * new synapses.
 *
 * Arguments:
 *   file=PATH           the spikes.csv (required); read whole at load
 *   name=NAME           population name (default "replay")
 *   site=SITE           replay only the rows of this recorded site
 *   population=POP      ... and of this recorded population (default:
 *                       the file's only site/population pair; with
 *                       several, load refuses and lists them)
 *   units=N             population size (default: largest unit + 1)
 *   speed=X             recorded time runs X times faster (default 1)
 *   offset=SECONDS      added to every replayed time (default 0)
 *   loop=0|1            start again after the last spike (default 0)
 *   run=first|all|N     a file holding several recordings appended one
 *                       after another (its time starts again): the
 *                       first (default, with a warning), all in
 *                       sequence, or the Nth
 *
 * A spike recorded at t is emitted at session time offset + t / speed
 * (the recorded times count from the recorded session's start, the
 * replayed ones from this session's). Spikes whose time falls before the
 * session time at load are skipped. With loop=1 each pass lasts from the
 * first recorded spike to the last plus the mean interval between spikes
 * (at least 1 ms), so the rate stays even across the seam. Whether the
 * replay runs in real time or faster is the host's pacing; every spike is
 * emitted once, in time order, as SB_SPIKE_SPONTANEOUS. The population
 * takes no stimulation or synaptic input.
 */
#include "config.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "synbridge-plugin.h"
#include "replay.h"
#include "sb-args.h"

SB_PLUGIN("replay");

__attribute__((visibility("default")))
int synbridge_plugin_init(struct sb_plugin *, const struct sb_host_api *);
__attribute__((visibility("default")))
void synbridge_plugin_end(struct sb_plugin *);

#define REPLAY_NAME_LEN 64
#define REPLAY_SPEED_MIN 1e-3
#define REPLAY_SPEED_MAX 1e6
#define REPLAY_OFFSET_MAX 1e9		/* seconds, either way */
#define REPLAY_GAP_MIN_US 1000		/* least loop seam */
#define REPLAY_NEVER INT64_MAX

/* One loaded instance. */
struct replay {
	struct sb_neurons neurons;
	char name[REPLAY_NAME_LEN];
	const struct sb_host_api *host;
	struct sb_plugin *plugin;
	struct replay_set set;
	double speed;
	int64_t offset_us;
	int loop;
	int64_t period_us;	/* recorded time of one pass (loop) */
	size_t next;		/* next spike to emit */
	uint64_t pass;
	int done;
	uint64_t emitted;
	uint64_t emit_failures;
};

/* Free an instance (the host's free_func). */
static void
replay_free(void *data)
{
	struct replay *r = data;

	if (r == NULL)
		return;
	replay_set_free(&r->set);
	free(r);
}

/* Session time of spike i in pass k; REPLAY_NEVER beyond int64_t. */
static int64_t
replay_time(const struct replay *r, size_t i, uint64_t k)
{
	double t;

	t = ((double)r->set.spikes[i].t_us + (double)k * r->period_us) /
	    r->speed + (double)r->offset_us;
	if (t >= 4e18)
		return REPLAY_NEVER;
	if (t <= -4e18)
		return -REPLAY_NEVER;
	return llround(t);
}

/* Move past the current spike: next one, next pass or the end. */
static void
replay_step(struct replay *r)
{
	if (++r->next < r->set.n)
		return;
	if (r->loop) {
		r->next = 0;
		r->pass++;
	} else
		r->done = 1;
}

/* neurons.advance: emit every spike due by t_us. */
static int
replay_advance(void *data, int64_t t_us, struct sb_emitter *em)
{
	struct replay *r = data;
	struct sb_event ev;
	int64_t t;

	memset(&ev, 0, sizeof ev);
	ev.kind = SB_EV_SPIKE;
	ev.aux = SB_SPIKE_SPONTANEOUS;
	while (!r->done) {
		t = replay_time(r, r->next, r->pass);
		if (t > t_us || t == REPLAY_NEVER)
			break;
		ev.t_us = t;
		ev.index = r->set.spikes[r->next].unit;
		if (r->host->emit(em, &ev) != 0) {
			if (sb_worth_logging(++r->emit_failures)) {
				r->host->log(r->plugin, SB_LOG_WARNING,
				    "replay: population %s: event ring full, "
				    "%" PRIu64 " spikes lost so far", r->name,
				    r->emit_failures);
			}
		} else
			r->emitted++;
		replay_step(r);
		if (r->done) {
			r->host->log(r->plugin, SB_LOG_INFO, "replay: "
			    "population %s: finished at %.6f s (%" PRIu64
			    " spikes)", r->name, t / 1e6, r->emitted);
		}
	}
	return 0;
}

/* Read the numeric arguments; -1 with the reasons logged. */
static int
replay_configure_numbers(struct replay *r, const char *speed,
    const char *offset, const char *loop)
{
	double v;
	int bad = 0;

	r->speed = 1;
	if (speed != NULL && (sb_args_number(speed, &r->speed) != 0 ||
	    r->speed < REPLAY_SPEED_MIN || r->speed > REPLAY_SPEED_MAX)) {
		r->host->log(r->plugin, SB_LOG_ERROR, "replay: speed=%s "
		    "invalid (use a factor from %g to %g; 2 replays twice as "
		    "fast as recorded)", speed, REPLAY_SPEED_MIN,
		    REPLAY_SPEED_MAX);
		bad = -1;
	}
	if (offset != NULL && (sb_args_number(offset, &v) != 0 ||
	    fabs(v) > REPLAY_OFFSET_MAX)) {
		r->host->log(r->plugin, SB_LOG_ERROR, "replay: offset=%s "
		    "invalid (use seconds from -%g to %g)", offset,
		    REPLAY_OFFSET_MAX, REPLAY_OFFSET_MAX);
		bad = -1;
	} else if (offset != NULL)
		r->offset_us = llround(v * 1e6);
	if (loop != NULL && strcmp(loop, "0") != 0 && strcmp(loop, "1") != 0) {
		r->host->log(r->plugin, SB_LOG_ERROR, "replay: loop=%s invalid "
		    "(use 0 or 1)", loop);
		bad = -1;
	} else
		r->loop = loop != NULL && strcmp(loop, "1") == 0;
	return bad;
}

/* Apply units=: default largest unit + 1; -1 with the reason logged. */
static int
replay_configure_units(struct replay *r, const char *units,
    const char *path)
{
	uint32_t max = r->set.max_unit;
	double v;

	if (units == NULL) {
		if (max == UINT32_MAX) {
			r->host->log(r->plugin, SB_LOG_ERROR, "replay: %s has "
			    "unit %" PRIu32 ", too large for a population",
			    path, max);
			return -1;
		}
		r->neurons.units = max + 1;
		return 0;
	}
	if (sb_args_number(units, &v) != 0 || v != floor(v) || v < 1 ||
	    v > UINT32_MAX) {
		r->host->log(r->plugin, SB_LOG_ERROR, "replay: units=%s "
		    "invalid (use a whole number from 1 to %" PRIu32 ")",
		    units, UINT32_MAX);
		return -1;
	}
	if (v <= max) {
		r->host->log(r->plugin, SB_LOG_ERROR, "replay: units=%s is too "
		    "few: %s has unit %" PRIu32 " (give at least %.0f, or "
		    "leave units= out)", units, path, max, (double)max + 1);
		return -1;
	}
	r->neurons.units = (uint32_t)v;
	return 0;
}

/* Length of one loop pass in recorded time. */
static int64_t
replay_period(const struct replay_set *set)
{
	int64_t span, gap;

	span = set->spikes[set->n - 1].t_us - set->spikes[0].t_us;
	gap = set->n > 1 ? span / (int64_t)(set->n - 1) : 1000000;
	if (gap < REPLAY_GAP_MIN_US)
		gap = REPLAY_GAP_MIN_US;
	return span + gap;
}

/* Skip what falls before start_us; returns how many spikes. */
static uint64_t
replay_skip(struct replay *r, int64_t start_us)
{
	const struct replay_set *set = &r->set;
	double rec;
	uint64_t skipped = 0;

	/* Jump whole passes first when loading late into a loop. */
	rec = ((double)start_us - (double)r->offset_us) * r->speed;
	if (r->loop && rec > (double)set->spikes[set->n - 1].t_us) {
		r->pass = (uint64_t)((rec - set->spikes[set->n - 1].t_us) /
		    r->period_us);
		/* One pass short: rounding is left to the loop below. */
		if (r->pass != 0)
			r->pass--;
		skipped = r->pass * set->n;
	}
	while (!r->done && replay_time(r, r->next, r->pass) < start_us) {
		replay_step(r);
		skipped++;
	}
	return skipped;
}

/* Set up from the arguments: spikes loaded, or -1 with errors logged. */
static int
replay_configure(struct replay *r)
{
	static const char *keys[] = {
		"file", "name", "site", "population", "units", "speed",
		"offset", "loop", "run",
	};
	enum { FILE_, NAME, SITE, POPULATION, UNITS, SPEED, OFFSET, LOOP,
	    RUN, NKEYS };
	uint32_t run = 1;
	const char *v[NKEYS];
	char *cause = NULL;
	size_t i;
	int bad = 0;

	/* Ask for every key first so none is reported unknown. */
	for (i = 0; i < NKEYS; i++)
		v[i] = r->host->arg(r->plugin, keys[i]);

	if (v[FILE_] == NULL || *v[FILE_] == '\0') {
		r->host->log(r->plugin, SB_LOG_ERROR, "replay: file= is "
		    "required (a spikes.csv recorded by synbridge)");
		bad = -1;
	}
	if (v[NAME] != NULL && (*v[NAME] == '\0' ||
	    strlen(v[NAME]) >= sizeof r->name)) {
		r->host->log(r->plugin, SB_LOG_ERROR, "replay: name must be 1 "
		    "to %zu characters", sizeof r->name - 1);
		bad = -1;
	}
	bad |= replay_configure_numbers(r, v[SPEED], v[OFFSET], v[LOOP]);
	if (bad)
		return -1;
	snprintf(r->name, sizeof r->name, "%s",
	    v[NAME] != NULL ? v[NAME] : "replay");

	if (v[RUN] != NULL && strcmp(v[RUN], "all") == 0)
		run = 0;
	else if (v[RUN] != NULL && strcmp(v[RUN], "first") != 0 &&
	    (sb_args_uint32(v[RUN], &run) != 0 || run == 0)) {
		r->host->log(r->plugin, SB_LOG_ERROR, "replay: bad run=%s: "
		    "first, all, or the number of a recording (from 1)",
		    v[RUN]);
		return -1;
	}
	if (replay_set_load(&r->set, v[FILE_], v[SITE], v[POPULATION],
	    &cause) != 0 || replay_set_runs(&r->set, run, &cause) != 0) {
		r->host->log(r->plugin, SB_LOG_ERROR, "%s", cause);
		free(cause);
		return -1;
	}
	/* two runs into one log dir: say so, rather than play both at once */
	if (r->set.nruns > 1 && v[RUN] == NULL)
		r->host->log(r->plugin, SB_LOG_WARNING, "replay: %s holds %zu "
		    "recordings appended one after another (its time starts "
		    "again): playing the first; give run=all to play them in "
		    "sequence or run=N for one", v[FILE_], r->set.nruns);
	if (replay_configure_units(r, v[UNITS], v[FILE_]) != 0)
		return -1;
	r->period_us = replay_period(&r->set);
	return 0;
}

/* Entry point: read the recording and register the population. */
int
synbridge_plugin_init(struct sb_plugin *p, const struct sb_host_api *host)
{
	const struct replay_set *set;
	struct replay *r;
	uint64_t skipped;
	int64_t start;

	if (host->size < offsetof(struct sb_host_api, emit) +
	    sizeof host->emit) {
		host->log(p, SB_LOG_ERROR, "replay: host API too old (size %u)",
		    host->size);
		return -1;
	}
	if ((r = calloc(1, sizeof *r)) == NULL) {
		host->log(p, SB_LOG_ERROR, "replay: out of memory");
		return -1;
	}
	r->host = host;
	r->plugin = p;
	if (replay_configure(r) != 0) {
		replay_free(r);
		return -1;
	}
	set = &r->set;
	start = host->now_us(p);
	skipped = replay_skip(r, start);

	r->neurons.name = r->name;
	r->neurons.advance = replay_advance;
	host->log(p, SB_LOG_INFO, "replay: population %s: %zu spikes of "
	    "site=%s population=%s (units 0-%" PRIu32 ", %.6f-%.6f s%s), "
	    "speed %g, offset %.6f s%s", r->name, set->n, set->site,
	    set->population, r->neurons.units - 1, set->spikes[0].t_us / 1e6,
	    set->spikes[set->n - 1].t_us / 1e6,
	    set->resorted ? ", sorted by time" : "", r->speed,
	    r->offset_us / 1e6, r->loop ? ", looping" : "");
	if (skipped != 0) {
		host->log(p, SB_LOG_WARNING, "replay: population %s: skipped "
		    "%" PRIu64 " spikes due before the session time at load "
		    "(%.6f s); use offset= to replay them later", r->name,
		    skipped, start / 1e6);
	}
	if (r->done) {
		host->log(p, SB_LOG_WARNING, "replay: population %s: nothing "
		    "left to replay", r->name);
	}
	return host->register_neurons(p, &r->neurons, r, replay_free);
}

/* Nothing to do: the host frees what was registered. */
void
synbridge_plugin_end(struct sb_plugin *p)
{
}
