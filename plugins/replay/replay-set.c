/*
 * replay-set.c: read a spikes.csv whole and keep one site and population.
 *
 * Every row is kept (time, unit, which site/population pair) while the
 * file is read, since the pair to replay is known only once every pair has
 * been seen: with no filter the file must hold exactly one. The chosen
 * rows are then copied out and sorted by time if the file was not in
 * order (equal times keep their file order).
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csvlog.h"
#include "replay.h"
#include "xmalloc.h"

/* Pairs listed by name in a message before "and N more". */
#define REPLAY_SET_LIST_MAX 10

/* One site and population seen in the file. */
struct replay_pair {
	char *site;
	char *population;
	uint64_t rows;
	int64_t first_us, last_us;
};

/* One row of the file. */
struct replay_row {
	int64_t t_us;
	uint32_t unit;
	uint32_t pair;
};

/* The whole file while it is read. */
struct replay_reader {
	struct replay_pair *pairs;
	size_t npairs;
	size_t last_pair;
	struct replay_row *rows;
	size_t nrows, rows_size;
};

/* Index of a row's pair, added if new. */
static uint32_t
replay_set_pair(struct replay_reader *rd, const char *site,
    const char *population)
{
	struct replay_pair *pp;
	size_t i;

	if (rd->npairs != 0) {
		pp = &rd->pairs[rd->last_pair];
		if (strcmp(pp->site, site) == 0 &&
		    strcmp(pp->population, population) == 0)
			return rd->last_pair;
	}
	for (i = 0; i < rd->npairs; i++) {
		pp = &rd->pairs[i];
		if (strcmp(pp->site, site) == 0 &&
		    strcmp(pp->population, population) == 0)
			return rd->last_pair = i;
	}
	rd->pairs = xreallocarray(rd->pairs, rd->npairs + 1, sizeof *rd->pairs);
	pp = &rd->pairs[rd->npairs];
	memset(pp, 0, sizeof *pp);
	pp->site = xstrdup(site);
	pp->population = xstrdup(population);
	return rd->last_pair = rd->npairs++;
}

/* csv_row_fn: keep one row. */
static int
replay_set_row(void *ctx, const struct csv_row *row)
{
	struct replay_reader *rd = ctx;
	const struct csv_spike_row *sp = &row->u.spike;
	struct replay_pair *pp;
	struct replay_row *r;
	uint32_t pair;

	pair = replay_set_pair(rd, sp->site, sp->population);
	pp = &rd->pairs[pair];
	if (pp->rows == 0 || sp->t_us < pp->first_us)
		pp->first_us = sp->t_us;
	if (pp->rows == 0 || sp->t_us > pp->last_us)
		pp->last_us = sp->t_us;
	pp->rows++;

	if (rd->nrows == rd->rows_size) {
		rd->rows_size = rd->rows_size ? rd->rows_size * 2 : 4096;
		rd->rows = xreallocarray(rd->rows, rd->rows_size,
		    sizeof *rd->rows);
	}
	r = &rd->rows[rd->nrows++];
	r->t_us = sp->t_us;
	r->unit = sp->unit;
	r->pair = pair;
	return 0;
}

/* Free what the reader kept. */
static void
replay_set_reader_free(struct replay_reader *rd)
{
	size_t i;

	for (i = 0; i < rd->npairs; i++) {
		free(rd->pairs[i].site);
		free(rd->pairs[i].population);
	}
	free(rd->pairs);
	free(rd->rows);
}

/* Does pair match the filters (NULL matches anything)? */
static int
replay_set_match(const struct replay_pair *pp, const char *site,
    const char *population)
{
	return (site == NULL || strcmp(pp->site, site) == 0) &&
	    (population == NULL || strcmp(pp->population, population) == 0);
}

/* "site=a population=b", "site=a" or "population=b" for a message. */
static char *
replay_set_filters(const char *site, const char *population)
{
	char *s;

	xasprintf(&s, "%s%s%s%s%s", site ? "site=" : "", site ? site : "",
	    site && population ? " " : "", population ? "population=" : "",
	    population ? population : "");
	return s;
}

/* The pairs that match, as "zurich/culture (120 spikes), ..." */
static char *
replay_set_list(const struct replay_reader *rd, const char *site,
    const char *population)
{
	const struct replay_pair *pp;
	char *list = NULL, *next;
	size_t i, shown = 0, more = 0;

	for (i = 0; i < rd->npairs; i++) {
		pp = &rd->pairs[i];
		if (!replay_set_match(pp, site, population))
			continue;
		if (shown == REPLAY_SET_LIST_MAX) {
			more++;
			continue;
		}
		xasprintf(&next, "%s%ssite=%s population=%s (%" PRIu64
		    " spikes, %.3f-%.3f s)", list ? list : "",
		    list ? ", " : "", pp->site, pp->population, pp->rows,
		    pp->first_us / 1e6, pp->last_us / 1e6);
		free(list);
		list = next;
		shown++;
	}
	if (more != 0) {
		xasprintf(&next, "%s and %zu more", list, more);
		free(list);
		list = next;
	}
	return list;
}

/* Choose the one pair that matches the filters; -1 with *cause. */
static int
replay_set_choose(const struct replay_reader *rd, const char *path,
    const char *site, const char *population, size_t *chosen, char **cause)
{
	char *list, *filters;
	size_t i, n = 0;

	if (rd->nrows == 0) {
		xasprintf(cause, "replay: %s holds no spikes (only its header)",
		    path);
		return -1;
	}
	for (i = 0; i < rd->npairs; i++) {
		if (replay_set_match(&rd->pairs[i], site, population)) {
			*chosen = i;
			n++;
		}
	}
	if (n == 1)
		return 0;
	if (n == 0) {
		filters = replay_set_filters(site, population);
		list = replay_set_list(rd, NULL, NULL);
		xasprintf(cause, "replay: %s has no spikes for %s (it holds "
		    "%s)", path, filters, list);
		free(filters);
		free(list);
		return -1;
	}
	list = replay_set_list(rd, site, population);
	xasprintf(cause, "replay: %s holds %zu populations%s; choose one "
	    "with site= and population=: %s", path, n,
	    site != NULL || population != NULL ? " that match" : "", list);
	free(list);
	return -1;
}

/* qsort: by time, then file order. */
static int
replay_set_cmp(const void *a, const void *b)
{
	const struct replay_spike *x = a, *y = b;

	if (x->t_us != y->t_us)
		return x->t_us < y->t_us ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Read path and keep the rows of one site and population. */
int
replay_set_load(struct replay_set *set, const char *path, const char *site,
    const char *population, char **cause)
{
	struct replay_reader rd;
	struct replay_spike *sp;
	struct stat st;
	char *error = NULL;
	size_t i, chosen = 0;
	int64_t last = INT64_MIN;

	memset(set, 0, sizeof *set);
	memset(&rd, 0, sizeof rd);
	if (stat(path, &st) != 0) {
		xasprintf(cause, "replay: cannot read %s: %s (file= must name "
		    "a spikes.csv recorded by synbridge)", path,
		    strerror(errno));
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		xasprintf(cause, "replay: %s is a directory (file= must name "
		    "a spikes.csv recorded by synbridge)", path);
		return -1;
	}
	if (csv_read_file(path, CSV_SPIKES, replay_set_row, &rd,
	    &error) != 0) {
		xasprintf(cause, "replay: %s", error);
		free(error);
		replay_set_reader_free(&rd);
		return -1;
	}
	if (rd.nrows > UINT32_MAX) {
		xasprintf(cause, "replay: %s has %zu rows, more than %" PRIu32
		    " (split the file)", path, rd.nrows, UINT32_MAX);
		replay_set_reader_free(&rd);
		return -1;
	}
	if (replay_set_choose(&rd, path, site, population, &chosen,
	    cause) != 0) {
		replay_set_reader_free(&rd);
		return -1;
	}

	set->spikes = xreallocarray(NULL, rd.pairs[chosen].rows,
	    sizeof *set->spikes);
	for (i = 0; i < rd.nrows; i++) {
		if (rd.rows[i].pair != chosen)
			continue;
		sp = &set->spikes[set->n];
		sp->t_us = rd.rows[i].t_us;
		sp->unit = rd.rows[i].unit;
		sp->seq = (uint32_t)set->n++;
		if (sp->t_us < last)
			set->resorted = 1;
		last = sp->t_us;
		if (sp->unit > set->max_unit)
			set->max_unit = sp->unit;
	}
	/* recordings appended to one file: its time starts again */
	set->nruns = set->n > 0 ? 1 : 0;
	for (i = 1; i < set->n; i++)
		if (set->spikes[i].t_us < set->spikes[i - 1].t_us -
		    REPLAY_RESTART_US)
			set->nruns++;
	set->run = 1;
	if (set->nruns > 1)
		set->resorted = 0;	/* sorted per run by replay_set_runs */
	else if (set->resorted)
		qsort(set->spikes, set->n, sizeof *set->spikes, replay_set_cmp);
	set->site = rd.pairs[chosen].site;
	set->population = rd.pairs[chosen].population;
	rd.pairs[chosen].site = rd.pairs[chosen].population = NULL;
	replay_set_reader_free(&rd);
	return 0;
}

/* Free the kept spikes; the set may be half built or zeroed. */
void
replay_set_free(struct replay_set *set)
{
	free(set->spikes);
	free(set->site);
	free(set->population);
	memset(set, 0, sizeof *set);
}

/* Keep one appended recording, or lay them all end to end. */
int
replay_set_runs(struct replay_set *set, size_t run, char **cause)
{
	size_t i, k = 0, r = 1, start = 0;
	int64_t shift = 0, end = INT64_MIN, base;

	if (set->nruns <= 1) {
		if (run > 1) {
			xasprintf(cause, "replay: run=%zu: the file holds one "
			    "recording", run);
			return -1;
		}
		return 0;
	}
	if (run > set->nruns) {
		xasprintf(cause, "replay: run=%zu: the file holds %zu "
		    "recordings (run=1-%zu, or run=all)", run, set->nruns,
		    set->nruns);
		return -1;
	}
	for (i = 0; i <= set->n; i++) {
		/* the end of a run: sort it, keep or shift it */
		if (i == set->n || (i > start && set->spikes[i].t_us <
		    set->spikes[i - 1].t_us - REPLAY_RESTART_US)) {
			qsort(set->spikes + start, i - start,
			    sizeof *set->spikes, replay_set_cmp);
			if (run == 0) {
				/* after the last spike of the run before */
				base = set->spikes[start].t_us;
				shift = end == INT64_MIN ? 0 : end + 1000 -
				    base;
				for (; start < i; start++) {
					set->spikes[start].t_us += shift;
					set->spikes[k++] = set->spikes[start];
				}
				end = set->spikes[k - 1].t_us;
			} else if (r == run) {
				for (; start < i; start++)
					set->spikes[k++] = set->spikes[start];
			}
			start = i;
			r++;
		}
	}
	set->n = k;
	set->run = run;
	set->max_unit = 0;
	for (i = 0; i < set->n; i++) {
		set->spikes[i].seq = (uint32_t)i;
		if (set->spikes[i].unit > set->max_unit)
			set->max_unit = set->spikes[i].unit;
	}
	return 0;
}
