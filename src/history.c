/*
 * history.c: bounded in-memory history of a session (events and copied
 * link/command rows), and its export to CSV through the CSV writer.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "csvkind.h"
#include "history.h"
#include "xmalloc.h"

/* Rows between flushes during an export. */
#define HISTORY_FLUSH_ROWS 4096

struct history_row {
	struct csv_row row;
	char *strings;		/* one allocation for all its strings */
};

struct history {
	struct sb_event *events;
	size_t max_events, event_first, event_count;

	struct history_row *rows;
	size_t max_rows, row_first, row_count;

	uint64_t dropped;
};

/* Name lookups for one export, remembering the last answer. */
struct history_lookup {
	const struct history_names *names;
	uint16_t site, pop;
	int have;
	const char *site_name, *pop_name;
	char site_buf[8], pop_buf[8], synapse_buf[16];
};

/* Create a history keeping at most max_events events and max_rows rows. */
struct history *
history_create(size_t max_events, size_t max_rows)
{
	struct history *h;

	h = xcalloc(1, sizeof *h);
	h->max_events = max_events;
	h->max_rows = max_rows;
	h->events = xreallocarray(NULL, max_events ? max_events : 1,
	    sizeof *h->events);
	h->rows = xreallocarray(NULL, max_rows ? max_rows : 1,
	    sizeof *h->rows);
	return h;
}

/* Free a history; NULL is fine. */
void
history_free(struct history *h)
{
	size_t i;

	if (h == NULL)
		return;
	for (i = 0; i < h->row_count; i++)
		free(h->rows[(h->row_first + i) % h->max_rows].strings);
	free(h->rows);
	free(h->events);
	free(h);
}

/* Add an event, dropping the oldest when full. */
void
history_add_event(struct history *h, const struct sb_event *ev)
{
	size_t slot;

	if (h->max_events == 0) {
		h->dropped++;
		return;
	}
	if (h->event_count == h->max_events) {
		h->events[h->event_first] = *ev;
		if (++h->event_first == h->max_events)
			h->event_first = 0;
		h->dropped++;
		return;
	}
	slot = h->event_first + h->event_count;
	if (slot >= h->max_events)
		slot -= h->max_events;
	h->events[slot] = *ev;
	h->event_count++;
}

/* Copy a row and its strings into slot. */
static void
history_copy_row(struct history_row *slot, const struct csv_row *row)
{
	const struct csv_kind_info *info = &csv_kind_info[row->kind];
	const struct csv_col *col;
	const char *s;
	size_t i, total = 0, len;
	char *p;

	slot->row = *row;
	for (i = 0; i < info->ncols; i++) {
		col = &info->cols[i];
		if (col->type != CSV_COL_STR && col->type != CSV_COL_NAME &&
		    col->type != CSV_COL_STATE)
			continue;
		memcpy(&s, (const char *)row + col->offset, sizeof s);
		if (s != NULL)
			total += strlen(s) + 1;
	}
	slot->strings = p = xmalloc(total);
	for (i = 0; i < info->ncols; i++) {
		col = &info->cols[i];
		if (col->type != CSV_COL_STR && col->type != CSV_COL_NAME &&
		    col->type != CSV_COL_STATE)
			continue;
		memcpy(&s, (const char *)row + col->offset, sizeof s);
		if (s == NULL)
			continue;
		len = strlen(s) + 1;
		memcpy(p, s, len);
		memcpy((char *)&slot->row + col->offset, &p, sizeof p);
		p += len;
	}
}

/* Add a link or command row (strings are copied); other kinds are ignored. */
void
history_add_row(struct history *h, const struct csv_row *row)
{
	struct history_row *slot;
	size_t at;

	if (row->kind != CSV_LINKS && row->kind != CSV_COMMANDS)
		return;
	if (h->max_rows == 0) {
		h->dropped++;
		return;
	}
	if (h->row_count == h->max_rows) {
		slot = &h->rows[h->row_first];
		free(slot->strings);
		if (++h->row_first == h->max_rows)
			h->row_first = 0;
		h->dropped++;
	} else {
		at = (h->row_first + h->row_count) % h->max_rows;
		slot = &h->rows[at];
		h->row_count++;
	}
	history_copy_row(slot, row);
}

/* Events held now. */
size_t
history_events(const struct history *h)
{
	return h->event_count;
}

/* Events and rows dropped so far to stay within the bounds. */
uint64_t
history_dropped(const struct history *h)
{
	return h->dropped;
}

/* Visit events with since_us <= t_us < until_us, oldest first. */
void
history_each_event(const struct history *h, int64_t since_us,
    int64_t until_us, void (*fn)(void *ctx, const struct sb_event *ev),
    void *ctx)
{
	const struct sb_event *ev;
	size_t i, slot = h->event_first;

	for (i = 0; i < h->event_count; i++) {
		ev = &h->events[slot];
		if (ev->t_us >= since_us && ev->t_us < until_us)
			fn(ctx, ev);
		if (++slot == h->max_events)
			slot = 0;
	}
}

/* Site and population names of an event (numbers if unnamed). */
static void
history_lookup_unit(struct history_lookup *l, const struct sb_event *ev)
{
	const struct history_names *names = l->names;

	if (l->have && ev->site == l->site && ev->pop == l->pop)
		return;
	l->have = 1;
	l->site = ev->site;
	l->pop = ev->pop;
	l->site_name = NULL;
	l->pop_name = NULL;
	if (names != NULL && names->site != NULL)
		l->site_name = names->site(names->ctx, ev->site);
	if (names != NULL && names->population != NULL)
		l->pop_name = names->population(names->ctx, ev->site, ev->pop);
	if (l->site_name == NULL || *l->site_name == '\0') {
		snprintf(l->site_buf, sizeof l->site_buf, "%u", ev->site);
		l->site_name = l->site_buf;
	}
	if (l->pop_name == NULL || *l->pop_name == '\0') {
		snprintf(l->pop_buf, sizeof l->pop_buf, "%u", ev->pop);
		l->pop_name = l->pop_buf;
	}
}

/* Turn an event into a row of kind; 0 if it does not belong there. */
static int
history_event_row(struct history_lookup *l, const struct sb_event *ev,
    enum csv_kind kind, struct csv_row *row)
{
	const struct history_names *names = l->names;
	struct csv_synapse_row *s = &row->u.synapse;
	const char *name = NULL, *pre = NULL, *post = NULL, *event = NULL;

	row->kind = kind;
	if (kind == CSV_SPIKES) {
		if (ev->kind != SB_EV_SPIKE)
			return 0;
		history_lookup_unit(l, ev);
		row->u.spike.t_us = ev->t_us;
		row->u.spike.site = l->site_name;
		row->u.spike.population = l->pop_name;
		row->u.spike.unit = ev->index;
		return 1;
	}
	if (ev->kind != SB_EV_CONDUCTANCE && ev->kind != SB_EV_SYNAPTIC)
		return 0;

	if (names == NULL || names->synapse == NULL ||
	    names->synapse(names->ctx, ev->site, ev->index, &name, &pre,
	    &post) != 0 || name == NULL || *name == '\0') {
		snprintf(l->synapse_buf, sizeof l->synapse_buf, "s%u",
		    ev->index);
		name = l->synapse_buf;
	}
	s->t_us = ev->t_us;
	s->synapse = name;
	s->pre = pre;
	s->post = post;
	if (ev->kind == SB_EV_SYNAPTIC) {
		s->event = "synaptic";
		s->amplitude_v = NAN;
		s->width_us = 0;
		s->count = 0;
		s->g_before_us = ev->g_before;
		s->g_after_us = ev->g_before;
		/* the weight the event carried */
		s->weight_before = s->weight_after = ev->aux;
		return 1;
	}
	if (names != NULL && names->event != NULL)
		event = names->event(names->ctx, ev);
	s->event = (event != NULL && *event != '\0') ? event : "conductance";
	s->amplitude_v = ev->amplitude;
	s->width_us = ev->width_us;
	s->count = ev->count;
	s->g_before_us = ev->g_before;
	s->g_after_us = ev->g_after;
	s->weight_before = s->weight_after = -1;
	if (names != NULL && names->weight != NULL) {
		s->weight_before = names->weight(names->ctx, ev->site,
		    ev->index, ev->g_before);
		s->weight_after = names->weight(names->ctx, ev->site,
		    ev->index, ev->g_after);
	}
	return 1;
}

/* Flush every few thousand rows so the buffer stays small. */
static int
history_export_step(struct csv_file *f, int64_t rows, char **cause)
{
	if (rows % HISTORY_FLUSH_ROWS != 0)
		return 0;
	return csv_file_flush(f, cause);
}

/* Write the rows of kind in [since, until) to f; rows or -1. */
static int64_t
history_export_rows(const struct history *h, struct csv_file *f,
    enum csv_kind kind, int64_t since_us, int64_t until_us,
    const struct history_names *names, char **cause)
{
	struct history_lookup l;
	struct csv_row row;
	const struct sb_event *ev;
	const struct history_row *hr;
	size_t i, slot;
	int64_t rows = 0, t;

	if (kind == CSV_SPIKES || kind == CSV_SYNAPSES) {
		memset(&l, 0, sizeof l);
		l.names = names;
		slot = h->event_first;
		for (i = 0; i < h->event_count; i++) {
			ev = &h->events[slot];
			if (++slot == h->max_events)
				slot = 0;
			if (ev->t_us < since_us || ev->t_us >= until_us)
				continue;
			if (!history_event_row(&l, ev, kind, &row))
				continue;
			csv_file_row(f, &row);
			if (history_export_step(f, ++rows, cause) != 0)
				return -1;
		}
		return rows;
	}

	for (i = 0; i < h->row_count; i++) {
		hr = &h->rows[(h->row_first + i) % h->max_rows];
		if (hr->row.kind != kind)
			continue;
		t = kind == CSV_LINKS ? hr->row.u.link.t_us :
		    hr->row.u.command.t_us;
		if (t < since_us || t >= until_us)
			continue;
		csv_file_row(f, &hr->row);
		if (history_export_step(f, ++rows, cause) != 0)
			return -1;
	}
	return rows;
}

/*
 * Write one kind to path; returns rows written or -1 with *cause. The rows
 * go to path.tmp, which replaces path only once complete.
 */
int64_t
history_export(const struct history *h, enum csv_kind kind,
    const char *path, int64_t since_us, int64_t until_us,
    const struct history_names *names, char **cause)
{
	struct csv_file *f;
	char *tmp, *why = NULL;
	int64_t rows;

	xasprintf(&tmp, "%s.tmp", path);
	if (unlink(tmp) != 0 && errno != ENOENT) {
		xasprintf(cause, "export to %s: cannot remove %s: %s", path,
		    tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	f = csv_file_open(tmp, kind, &why);
	if (f == NULL)
		goto fail;
	rows = history_export_rows(h, f, kind, since_us, until_us, names,
	    &why);
	if (rows < 0 || csv_file_flush(f, &why) != 0) {
		csv_file_close(f);
		unlink(tmp);
		goto fail;
	}
	csv_file_close(f);
	if (rename(tmp, path) != 0) {
		xasprintf(&why, "cannot rename %s: %s", tmp, strerror(errno));
		unlink(tmp);
		goto fail;
	}
	free(tmp);
	return rows;

fail:
	xasprintf(cause, "export to %s failed: %s", path, why);
	free(why);
	free(tmp);
	return -1;
}
