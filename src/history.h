/*
 * history.h: bounded in-memory history of a session, for views and export.
 * Oldest entries are dropped when full; the number dropped is kept so that
 * an export can say its range is incomplete.
 */
#ifndef SB_HISTORY_H
#define SB_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "synbridge-plugin.h"
#include "csvlog.h"

/* Names the history needs to turn event ids into CSV rows. */
struct history_names {
	void *ctx;
	const char *(*site)(void *ctx, uint16_t site);
	const char *(*population)(void *ctx, uint16_t site, uint16_t pop);
	/* synapse name, pre and post unit names */
	int (*synapse)(void *ctx, uint16_t site, uint32_t index,
	    const char **name, const char **pre, const char **post);
	/* conductance event aux -> "potentiate", "depress", "read", ... */
	const char *(*event)(void *ctx, const struct sb_event *ev);
	/* weight 0-255 of G at a synapse, -1 if unknown (may be NULL) */
	int (*weight)(void *ctx, uint16_t site, uint32_t index, double g_us);
};

struct history;

struct history *history_create(size_t max_events, size_t max_rows);
void history_free(struct history *h);
/* Spikes, synaptic, conductance, stim events. */
void history_add_event(struct history *h, const struct sb_event *ev);
/* Link and command rows (strings are copied). */
void history_add_row(struct history *h, const struct csv_row *row);
size_t history_events(const struct history *h);
uint64_t history_dropped(const struct history *h);
/* Visit events with since_us <= t_us < until_us, oldest first. */
void history_each_event(const struct history *h, int64_t since_us,
    int64_t until_us, void (*fn)(void *ctx, const struct sb_event *ev),
    void *ctx);
/* Write one kind to path; returns rows written or -1 with *cause. */
int64_t history_export(const struct history *h, enum csv_kind kind,
    const char *path, int64_t since_us, int64_t until_us,
    const struct history_names *names, char **cause);

#endif
