/*
 * replay.h: the replay plugin's recorded spikes, read from a spikes.csv
 * written by synbridge and narrowed to one site and population.
 */
#ifndef REPLAY_H
#define REPLAY_H

#include <stddef.h>
#include <stdint.h>

/* One recorded spike; seq keeps the file order of equal times. */
struct replay_spike {
	int64_t t_us;		/* recorded session time */
	uint32_t unit;
	uint32_t seq;
};

/* The spikes of the chosen site and population, sorted by time. */
struct replay_set {
	struct replay_spike *spikes;
	size_t n;
	char *site;
	char *population;
	uint32_t max_unit;
	int resorted;		/* the file was not in time order */
	size_t nruns;		/* recordings appended one after another */
	size_t run;		/* the one kept (1-based), 0: all in sequence */
};

/* A recording's time that goes back this far starts a new recording. */
#define REPLAY_RESTART_US 1000000

/*
 * Read path and keep the rows of site and population (NULL: the file's
 * only one). 0, or -1 with *cause (starting "replay: ").
 */
int replay_set_load(struct replay_set *set, const char *path,
    const char *site, const char *population, char **cause);
/*
 * Keep one of the recordings appended in the file (run, from 1) or play
 * them all in sequence (run 0), each after the one before. 0, or -1 with
 * *cause when there is no such run.
 */
int replay_set_runs(struct replay_set *set, size_t run, char **cause);
void replay_set_free(struct replay_set *set);

#endif
