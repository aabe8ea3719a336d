/*
 * tui-raster.c: the raster's model. Every unit of every population has a
 * bit per time bin; the bins form a ring of columns whose newest column is
 * the session clock, so a remote spike lands where its time says, even if
 * it arrives late. Changing the window or the width replays the history.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "history.h"
#include "tui.h"
#include "xmalloc.h"

/* Start empty. */
void
tui_raster_init(struct tui_raster *r)
{
	memset(r, 0, sizeof *r);
	r->window_us = 5000000;
	r->bin_us = 1;
}

/* Free the group map. */
static void
tui_raster_free_map(struct tui_raster *r)
{
	size_t i;

	for (i = 0; i < r->map_sites; i++)
		free(r->map[i]);
	free(r->map);
	free(r->map_pops);
	r->map = NULL;
	r->map_pops = NULL;
	r->map_sites = 0;
}

/* Free everything. */
void
tui_raster_free(struct tui_raster *r)
{
	tui_raster_free_map(r);
	free(r->groups);
	free(r->bits);
	free(r->counts);
	memset(r, 0, sizeof *r);
}

/* A cheap fingerprint of the session's populations. */
static uint64_t
tui_raster_signature(struct session *s)
{
	uint64_t h = 1469598103934665603ULL;
	size_t i, j;

	for (i = 0; i < s->nsites; i++) {
		h = (h ^ s->sites[i]->npops) * 1099511628211ULL;
		for (j = 0; j < s->sites[i]->npops; j++) {
			struct population *p = s->sites[i]->pops[j];

			h = (h ^ (uintptr_t)p) * 1099511628211ULL;
			h = (h ^ (p != NULL ? p->ops.units : 0)) *
			    1099511628211ULL;
		}
	}
	return h;
}

/* Allocate (and clear) the bins for the current groups. */
static void
tui_raster_alloc_bins(struct tui_raster *r)
{
	size_t n = (size_t)(r->nbins > 0 ? r->nbins : 1);

	r->words = (r->units + 63) / 64;
	free(r->bits);
	free(r->counts);
	r->bits = xcalloc(n * (r->words > 0 ? r->words : 1),
	    sizeof *r->bits);
	r->counts = xcalloc(n * (r->ngroups > 0 ? r->ngroups : 1),
	    sizeof *r->counts);
	for (n = 0; n < r->ngroups; n++)
		r->groups[n].spikes = 0;
}

/* Rebuild the groups when populations came or went. */
int
tui_raster_sync(struct tui_raster *r, struct session *s)
{
	uint64_t sig = tui_raster_signature(s);
	size_t i, j;

	if (sig == r->signature && r->bits != NULL)
		return 0;
	r->signature = sig;
	tui_raster_free_map(r);
	free(r->groups);
	r->groups = NULL;
	r->ngroups = 0;
	r->units = 0;
	r->map_sites = s->nsites;
	r->map = xcalloc(s->nsites > 0 ? s->nsites : 1, sizeof *r->map);
	r->map_pops = xcalloc(s->nsites > 0 ? s->nsites : 1,
	    sizeof *r->map_pops);
	for (i = 0; i < s->nsites; i++) {
		struct site *site = s->sites[i];

		r->map_pops[i] = site->npops;
		r->map[i] = xcalloc(site->npops > 0 ? site->npops : 1,
		    sizeof **r->map);
		for (j = 0; j < site->npops; j++) {
			struct population *p = site->pops[j];
			struct tui_raster_group *g;

			r->map[i][j] = -1;
			if (p == NULL)
				continue;
			r->groups = xreallocarray(r->groups, r->ngroups + 1,
			    sizeof *r->groups);
			g = &r->groups[r->ngroups];
			memset(g, 0, sizeof *g);
			g->site = (uint16_t)i;
			g->pop = (uint16_t)j;
			g->base = r->units;
			g->units = p->ops.units;
			snprintf(g->label, sizeof g->label, "%s/%s",
			    site->name, p->name);
			r->map[i][j] = (int32_t)r->ngroups++;
			r->units += p->ops.units;
		}
	}
	tui_raster_alloc_bins(r);
	return 1;
}

/* Absolute bin of a time (floor). */
static int64_t
tui_raster_bin(const struct tui_raster *r, int64_t t_us)
{
	int64_t b = t_us / r->bin_us;

	return t_us < 0 && b * r->bin_us != t_us ? b - 1 : b;
}

/* Column of an absolute bin. */
static size_t
tui_raster_column(const struct tui_raster *r, int64_t b)
{
	int64_t c = b % r->nbins;

	return (size_t)(c < 0 ? c + r->nbins : c);
}

/* Clear one column. */
static void
tui_raster_clear_column(struct tui_raster *r, int64_t b)
{
	size_t c = tui_raster_column(r, b), g;

	memset(r->bits + c * r->words, 0, r->words * sizeof *r->bits);
	for (g = 0; g < r->ngroups; g++) {
		r->groups[g].spikes -= r->counts[c * r->ngroups + g];
		r->counts[c * r->ngroups + g] = 0;
	}
}

/* Move the newest column forward to absolute bin b. */
static void
tui_raster_advance_bin(struct tui_raster *r, int64_t b)
{
	int64_t i, from;

	if (b <= r->head)
		return;
	from = b - r->head > r->nbins ? b - r->nbins + 1 : r->head + 1;
	for (i = from; i <= b; i++)
		tui_raster_clear_column(r, i);
	r->head = b;
}

/* Scroll to now. */
void
tui_raster_advance(struct tui_raster *r, int64_t now_us)
{
	if (r->nbins > 0)
		tui_raster_advance_bin(r, tui_raster_bin(r, now_us));
}

/* Record one spike. */
void
tui_raster_spike(struct tui_raster *r, uint16_t site, uint16_t pop,
    uint32_t index, int64_t t_us)
{
	struct tui_raster_group *g;
	int32_t gi;
	int64_t b;
	uint32_t u;
	size_t c;

	if (r->nbins <= 0 || site >= r->map_sites || pop >= r->map_pops[site])
		return;
	gi = r->map[site][pop];
	if (gi < 0 || index >= r->groups[gi].units)
		return;
	g = &r->groups[gi];
	b = tui_raster_bin(r, t_us);
	if (b > r->head)
		tui_raster_advance_bin(r, b);
	else if (b <= r->head - r->nbins) {
		r->late++;
		return;
	}
	c = tui_raster_column(r, b);
	u = g->base + index;
	r->bits[c * r->words + u / 64] |= 1ULL << (u % 64);
	r->counts[c * r->ngroups + (size_t)gi]++;
	g->spikes++;
}

/* Replay one history event. */
static void
tui_raster_replay(void *ctx, const struct sb_event *ev)
{
	if (ev->kind == SB_EV_SPIKE)
		tui_raster_spike(ctx, ev->site, ev->pop, ev->index, ev->t_us);
}

/* Set the geometry; replay the window from history when it changed. */
void
tui_raster_configure(struct tui_raster *r, struct session *s, int nbins,
    int64_t window_us, int64_t now_us)
{
	if (nbins < 1)
		nbins = 1;
	if (window_us < nbins)
		window_us = nbins;
	if (nbins == r->nbins && window_us == r->window_us && r->bits != NULL)
		return;
	r->nbins = nbins;
	r->window_us = window_us;
	r->bin_us = (window_us + nbins - 1) / nbins;
	tui_raster_alloc_bins(r);
	r->head = tui_raster_bin(r, now_us);
	if (s != NULL && s->history != NULL)
		history_each_event(s->history, now_us - window_us,
		    now_us + 1, tui_raster_replay, r);
}

/* Is an absolute bin inside the ring? */
static int
tui_raster_live(const struct tui_raster *r, int64_t b)
{
	return r->nbins > 0 && b <= r->head && b > r->head - r->nbins;
}

/* One unit, one bin. */
int
tui_raster_test(const struct tui_raster *r, uint32_t u, int64_t b)
{
	const uint64_t *col;

	if (!tui_raster_live(r, b) || u >= r->units)
		return 0;
	col = r->bits + tui_raster_column(r, b) * r->words;
	return (col[u / 64] >> (u % 64)) & 1;
}

/* Any unit of [u0, u1) in one bin, a word at a time. */
int
tui_raster_any(const struct tui_raster *r, uint32_t u0, uint32_t u1,
    int64_t b)
{
	const uint64_t *col;
	uint64_t mask;
	uint32_t w, w0, w1;

	if (u1 > r->units)
		u1 = r->units;
	if (u0 >= u1 || !tui_raster_live(r, b))
		return 0;
	col = r->bits + tui_raster_column(r, b) * r->words;
	w0 = u0 / 64;
	w1 = (u1 - 1) / 64;
	for (w = w0; w <= w1; w++) {
		mask = ~0ULL;
		if (w == w0)
			mask &= ~0ULL << (u0 % 64);
		if (w == w1 && u1 % 64 != 0)
			mask &= ~0ULL >> (64 - u1 % 64);
		if (col[w] & mask)
			return 1;
	}
	return 0;
}

/* Spikes of a group in one bin. */
uint32_t
tui_raster_count(const struct tui_raster *r, size_t g, int64_t b)
{
	if (!tui_raster_live(r, b) || g >= r->ngroups)
		return 0;
	return r->counts[tui_raster_column(r, b) * r->ngroups + g];
}

/* Text rows a group needs unfolded. */
static int
tui_raster_group_need(const struct tui_raster_group *g)
{
	return g->units == 0 ? 1 : (int)((g->units + 3) / 4);
}

/* Share the rows out (water filling), then fold each group to fit. */
void
tui_raster_fit(struct tui_raster *r, size_t first, int rows,
    struct tui_raster_layout *l)
{
	struct tui_raster_group *grp;
	int left, active, share, give;
	size_t g;

	memset(l, 0, sizeof *l);
	l->first = first < r->ngroups ? first : 0;
	l->fold = 1;
	for (g = 0; g < r->ngroups; g++) {
		r->groups[g].rows = 0;
		r->groups[g].fold = 1;
	}
	left = rows;
	do {
		active = 0;
		for (g = l->first; g < r->ngroups; g++)
			if (r->groups[g].rows < tui_raster_group_need(
			    &r->groups[g]))
				active++;
		if (active == 0 || left <= 0)
			break;
		share = left / active > 0 ? left / active : 1;
		for (g = l->first; g < r->ngroups && left > 0; g++) {
			grp = &r->groups[g];
			give = tui_raster_group_need(grp) - grp->rows;
			if (give <= 0)
				continue;
			if (give > share)
				give = share;
			grp->rows += give;
			left -= give;
		}
	} while (left > 0);
	for (g = l->first; g < r->ngroups; g++) {
		grp = &r->groups[g];
		if (grp->rows == 0)
			continue;
		grp->fold = (grp->units + (uint32_t)grp->rows * 4 - 1) /
		    ((uint32_t)grp->rows * 4);
		if (grp->fold < 1)
			grp->fold = 1;
		if (grp->fold > l->fold)
			l->fold = grp->fold;
		l->rows += grp->rows;
		l->shown++;
	}
}

/* Draw one text row of a group as braille cells ending at the head. */
int
tui_raster_render_row(const struct tui_raster *r,
    const struct tui_glyphs *gl, size_t g, uint32_t fold, int row,
    int cells, wchar_t *out)
{
	const struct tui_raster_group *grp = &r->groups[g];
	uint32_t u0[4], u1[4];
	int64_t b0 = r->head - 2 * (int64_t)cells + 1, b;
	int i, x, y, lit = 0;
	unsigned bits;

	for (y = 0; y < 4; y++) {
		uint64_t d = (uint64_t)row * 4 + (uint64_t)y;
		uint64_t a = d * fold, e = a + fold;

		if (a > grp->units)
			a = grp->units;
		if (e > grp->units)
			e = grp->units;
		u0[y] = grp->base + (uint32_t)a;
		u1[y] = grp->base + (uint32_t)e;
	}
	for (i = 0; i < cells; i++) {
		bits = 0;
		for (x = 0; x < 2; x++) {
			b = b0 + 2 * i + x;
			if (!tui_raster_live(r, b))
				continue;
			for (y = 0; y < 4; y++) {
				if (u0[y] < u1[y] &&
				    tui_raster_any(r, u0[y], u1[y], b))
					bits |= tui_braille_bit[y][x];
			}
		}
		if (bits != 0)
			lit++;
		out[i] = tui_glyph_braille(gl, bits);
	}
	out[cells] = L'\0';
	return lit;
}
