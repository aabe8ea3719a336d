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
};

/*
 * Read path and keep the rows of site and population (NULL: the file's
 * only one). 0, or -1 with *cause (starting "replay: ").
 */
int replay_set_load(struct replay_set *set, const char *path,
    const char *site, const char *population, char **cause);
void replay_set_free(struct replay_set *set);

#endif
