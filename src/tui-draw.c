/*
 * tui-draw.c: the panes. Each draws one window from the view model and the
 * session's state; none changes either (htop: update, then draw).
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "recorder.h"
#include "synapse.h"
#include "tui.h"
#include "xmalloc.h"

#define TUI_DRAW_MAXW 1024

/* Colour pair attribute, or nothing without colours. */
static attr_t
tui_draw_pair(const struct tui *t, int pair)
{
	return t->gl.colour ? (attr_t)COLOR_PAIR(pair) : 0;
}

/* Text at (y, x) cut to max columns; returns columns used. */
static int
tui_draw_put(WINDOW *w, int y, int x, int max, const char *s)
{
	wchar_t buf[TUI_DRAW_MAXW];
	int width = 0, i, c;

	if (max <= 0)
		return 0;
	tui_glyph_widen(buf, TUI_DRAW_MAXW, s);
	for (i = 0; buf[i] != L'\0'; i++) {
		c = wcwidth(buf[i]);
		if (c < 0)
			c = 1;
		if (width + c > max)
			break;
		width += c;
	}
	mvwaddnwstr(w, y, x, buf, i);
	return width;
}

/*
 * Put s in at most max columns, cut at a word rather than in one, with
 * an ellipsis, when it does not fit ("ltd skipped (busy)" in 14 columns
 * is "ltd skipped…", not "ltd skipped (b").
 */
static int
tui_draw_fit(const struct tui *t, WINDOW *w, int y, int x, int max,
    const char *s)
{
	char buf[TUI_DRAW_MAXW];
	size_t len = strlen(s), cut;
	const char *more = t->gl.utf8 ? "…" : "~";

	if (max <= 0)
		return 0;
	if ((int)len <= max || len >= sizeof buf)
		return tui_draw_put(w, y, x, max, s);
	/* the longest run of whole words that leaves room for the mark */
	for (cut = (size_t)max - 1; cut > 0 && s[cut] != ' '; cut--)
		;
	if (cut == 0)
		cut = (size_t)max - 1;
	while (cut > 0 && s[cut - 1] == ' ')
		cut--;
	snprintf(buf, sizeof buf, "%.*s%s", (int)cut, s, more);
	return tui_draw_put(w, y, x, max, buf);
}

/* printf, then tui_draw_put. */
static int __attribute__((format(printf, 5, 6)))
tui_draw_printf(WINDOW *w, int y, int x, int max, const char *fmt, ...)
{
	char buf[TUI_DRAW_MAXW];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	return tui_draw_put(w, y, x, max, buf);
}

/* A pane's title row: name, details, highlighted when focused. */
static void
tui_draw_title(struct tui *t, WINDOW *w, int wd, int focused,
    const char *name, const char *details)
{
	attr_t a = focused ? tui_draw_pair(t, TUI_PAIR_TITLE_FOCUS) | A_BOLD :
	    tui_draw_pair(t, TUI_PAIR_TITLE);
	int x;

	if (!t->gl.colour)
		a |= focused ? A_REVERSE | A_BOLD : A_UNDERLINE;
	wattrset(w, a);
	wmove(w, 0, 0);
	for (x = 0; x < wd; x++)
		waddch(w, ' ');
	x = tui_draw_printf(w, 0, 1, wd - 1, "%s", name);
	wattrset(w, a & ~A_BOLD);
	if (details != NULL && *details != '\0')
		tui_draw_put(w, 0, x + 3, wd - x - 3, details);
	wattrset(w, A_NORMAL);
}

/* Seconds as "5 s", "500 ms". */
static void
tui_draw_span(char *buf, size_t sz, int64_t us)
{
	if (us >= 1000000)
		snprintf(buf, sz, "%g s", (double)us / 1e6);
	else
		snprintf(buf, sz, "%g ms", (double)us / 1e3);
}

/* The time axis under the raster: ticks at round seconds ago. */
static void
tui_draw_axis(struct tui *t, WINDOW *w, int y, int x0, int cells)
{
	static const double steps[] = { 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10,
	    15, 30, 60 };
	double cell_s = 2.0 * (double)t->raster.bin_us / 1e6, step = 60;
	wchar_t line = t->gl.utf8 ? L'─' : L'-';
	char label[16];
	size_t i;
	int x, k;

	for (i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		if (steps[i] / cell_s >= 12) {
			step = steps[i];
			break;
		}
	}
	wattrset(w, A_DIM);
	for (x = 0; x < cells; x++)
		mvwaddnwstr(w, y, x0 + x, &line, 1);
	for (k = 1; ; k++) {
		x = cells - 1 - (int)lround(k * step / cell_s);
		snprintf(label, sizeof label, "-%gs", k * step);
		if (x - (int)strlen(label) / 2 < 0)
			break;
		tui_draw_put(w, y, x0 + x - (int)strlen(label) / 2,
		    (int)strlen(label), label);
	}
	tui_draw_put(w, y, x0 + cells - 3, 3, "now");
	wattrset(w, A_NORMAL);
}

/* Raster: a row group per population, braille cells, newest at right. */
void
tui_draw_raster(struct tui *t, WINDOW *w, int h, int wd)
{
	struct tui_raster *r = &t->raster;
	struct tui_raster_layout l;
	wchar_t cells[TUI_DRAW_MAXW];
	char details[128], span[32], label[64];
	int lw, pc, y, row, rows, burst, x, run;
	int64_t now = clock_now(&t->s->clock), b;
	uint32_t cnt, thresh;
	size_t g;

	werase(w);
	tui_raster_sync(r, t->s);
	/* the gutter fits the longest label, within a quarter of the pane */
	lw = wd >= 60 ? 14 : 9;	/* room for "4096 u 37:1" */
	for (g = 0; g < r->ngroups; g++)
		if ((int)strlen(r->groups[g].label) + 2 > lw)
			lw = (int)strlen(r->groups[g].label) + 2;
	if (lw > 24)
		lw = 24;
	if (lw > wd / 4)
		lw = wd / 4 > 9 ? wd / 4 : 9;
	pc = wd - lw - 1;
	if (pc > TUI_DRAW_MAXW - 1)
		pc = TUI_DRAW_MAXW - 1;
	if (pc < 1 || h < 2) {
		tui_draw_title(t, w, wd, t->focus == TUI_FOCUS_RASTER,
		    "Raster", "");
		return;
	}
	tui_raster_configure(r, t->s, 2 * pc, t->window_us, now);
	tui_raster_advance(r, now);
	rows = h - 2;
	if (rows < 1)
		rows = 1;
	tui_raster_fit(r, t->first_group, rows, &l);
	tui_draw_span(span, sizeof span, t->window_us);
	snprintf(details, sizeof details, "%s, %u units%s", span, r->units,
	    t->frozen ? "  FROZEN" : "");
	if (l.first > 0 || l.first + l.shown < r->ngroups) {
		size_t n = strlen(details);

		snprintf(details + n, sizeof details - n, "  PgUp/PgDn: %zu/%zu",
		    l.first + 1, r->ngroups);
	}
	tui_draw_title(t, w, wd, t->focus == TUI_FOCUS_RASTER, "Raster",
	    details);
	if (r->ngroups == 0) {
		wattrset(w, A_DIM);
		tui_draw_put(w, 1, 1, wd - 1, "no populations yet: load a "
		    "neurons plugin (load PLUGIN)");
		wattrset(w, A_NORMAL);
		return;
	}
	y = 1;
	for (g = l.first; g < r->ngroups && y < h - 1; g++) {
		struct tui_raster_group *grp = &r->groups[g];
		int grows = grp->rows;
		attr_t colour = tui_draw_pair(t, TUI_PAIR_GROUP0 + (int)(g % 4));
		double rate = (double)grp->spikes * 1e6 /
		    (double)(r->bin_us * r->nbins);

		if (grows < 1)
			break;
		/* a burst: a column where a fifth of the group fires */
		thresh = grp->units / 5 > 3 ? grp->units / 5 : 3;
		for (row = 0; row < grows && y < h - 1; row++, y++) {
			wattrset(w, colour | A_BOLD);
			if (row == 0)
				tui_draw_put(w, y, 0, lw - 1, grp->label);
			else if (row == 1 || row == 2) {
				wattrset(w, A_DIM);
				if (row == 1 && grp->fold > 1)
					snprintf(label, sizeof label, "%u u %u:1",
					    grp->units, grp->fold);
				else if (row == 1)
					snprintf(label, sizeof label, "%u units",
					    grp->units);
				else
					snprintf(label, sizeof label, "%.0f "
					    "spikes/s", rate);
				tui_draw_put(w, y, 0, lw - 1, label);
			}
			if (row == 0 && grows <= 2) {
				snprintf(label, sizeof label, " %.0f/s", rate);
				wattrset(w, A_DIM);
				x = (int)strlen(grp->label);
				if (x + (int)strlen(label) < lw - 1)
					tui_draw_put(w, y, x, lw - 1 - x,
					    label);
			}
			wattrset(w, A_DIM);
			mvwaddnwstr(w, y, lw - 1, t->gl.utf8 ? L"│" : L"|", 1);
			tui_raster_render_row(r, &t->gl, g, grp->fold, row, pc,
			    cells);
			/* runs of cells, bold where the group bursts */
			x = 0;
			while (x < pc) {
				b = r->head - 2 * (int64_t)pc + 1 + 2 * x;
				cnt = tui_raster_count(r, g, b) +
				    tui_raster_count(r, g, b + 1);
				burst = cnt >= thresh;
				for (run = x + 1; run < pc; run++) {
					b = r->head - 2 * (int64_t)pc + 1 +
					    2 * run;
					cnt = tui_raster_count(r, g, b) +
					    tui_raster_count(r, g, b + 1);
					if ((cnt >= thresh) != burst)
						break;
				}
				wattrset(w, colour | (burst ? A_BOLD :
				    A_NORMAL));
				mvwaddnwstr(w, y, lw + x, cells + x, run - x);
				x = run;
			}
		}
	}
	wattrset(w, A_NORMAL);
	tui_draw_axis(t, w, h - 1, lw, pc);
}

/* Shorten "site/pop:index" to "pop:index" when space is short. */
static const char *
tui_draw_unit(const char *name, int shorten)
{
	const char *slash = strchr(name, '/');

	return shorten && slash != NULL ? slash + 1 : name;
}

/*
 * Column widths of the synapse pane: names and units first; the loop's
 * latency (latw, 0 or TUI_SYN_LATW) only in a wide pane.
 */
#define TUI_SYN_LATW 16
static void
tui_draw_syn_columns(const struct tui *t, int wd, int *namew, int *ppw,
    int *barw, int *sparkw, int *shorten, int *latw)
{
	struct session *s = t->s;
	int full = 0, brief = 0, name = 0, l, rest;
	size_t i;

	for (i = 0; i < s->nsynapses; i++) {
		struct synapse *syn = s->synapses[i];

		l = (int)strlen(syn->name);
		name = l > name ? l : name;
		/* " -> " and a gap */
		l = (int)(strlen(syn->pre_name) + strlen(syn->post_name)) + 5;
		full = l > full ? l : full;
		l = (int)(strlen(tui_draw_unit(syn->pre_name, 1)) +
		    strlen(tui_draw_unit(syn->post_name, 1))) + 5;
		brief = l > brief ? l : brief;
	}
	*namew = name + 2 < 12 ? name + 2 : 12;
	*latw = wd >= 110 ? TUI_SYN_LATW : 0;
	/* fixed: G and weight 16, pulse marker 2, a decision of 14 at least */
	rest = wd - *namew - 16 - 2 - 14 - *latw;
	*shorten = full > rest - 8 - 12;
	*ppw = *shorten ? brief : full;
	if (*ppw > rest - 8)
		*ppw = rest - 8 > 8 ? rest - 8 : 8;
	rest -= *ppw;
	*barw = rest >= 40 ? 16 : rest >= 24 ? 12 : 8;
	rest -= *barw + 1;
	*sparkw = rest - 1 > TUI_SPARK ? TUI_SPARK : rest - 1 >= 8 ? rest - 1 :
	    0;
}

/*
 * The slowest synapse path of the last 10-20 s (source spike to synaptic
 * input at the post unit, where that is measured here): "   loop p99 X
 * ms (sN)", or nothing.
 */
static void
tui_draw_loop(const struct session *s, char *buf, size_t len)
{
	struct latency_stat st;
	const char *worst = NULL;
	double p99 = 0;
	size_t i;

	buf[0] = '\0';
	for (i = 0; i < s->nsynapses; i++) {
		if (latency_recent(s->synapses[i]->lat_spike, clock_mono_us(),
		    &st) == 0 && (worst == NULL || st.p99_ms > p99)) {
			p99 = st.p99_ms;
			worst = s->synapses[i]->name;
		}
	}
	if (worst != NULL)
		snprintf(buf, len, "   loop p99 %.2f ms (%s)", p99, worst);
}

/* Synapses: name, pre -> post, bar, G, sparkline, pulse, latency, decision. */
void
tui_draw_synapses(struct tui *t, WINDOW *w, int h, int wd)
{
	struct session *s = t->s;
	wchar_t bar[64], spark[TUI_SPARK + 1];
	double samples[TUI_SPARK];
	char details[160], pp[128], state[160], loop[80];
	struct latency_stat st;
	int y, x, ppw, barw, sparkw, namew, shorten, rows, latw;
	size_t i;

	werase(w);
	tui_draw_loop(s, loop, sizeof loop);
	snprintf(details, sizeof details, "%zu%s", s->nsynapses,
	    t->focus == TUI_FOCUS_SYNAPSES ? "   up/down select, p "
	    "potentiate, d depress" : loop);
	tui_draw_title(t, w, wd, t->focus == TUI_FOCUS_SYNAPSES, "Synapses",
	    details);
	if (s->nsynapses == 0) {
		wattrset(w, A_DIM);
		tui_draw_put(w, 1, 1, wd - 1, "no synapses: synapse NAME PRE "
		    "POST DEVICE");
		wattrset(w, A_NORMAL);
		return;
	}
	rows = h - 1;
	if (t->sel_syn >= s->nsynapses)
		t->sel_syn = s->nsynapses - 1;
	if (t->sel_syn < t->syn_top)
		t->syn_top = t->sel_syn;
	if (rows > 0 && t->sel_syn >= t->syn_top + (size_t)rows)
		t->syn_top = t->sel_syn - (size_t)rows + 1;
	tui_draw_syn_columns(t, wd, &namew, &ppw, &barw, &sparkw, &shorten,
	    &latw);
	for (i = t->syn_top, y = 1; i < s->nsynapses && y < h; i++, y++) {
		struct synapse *syn = s->synapses[i];
		const struct sb_device_limits *lim = &syn->limits;
		int selected = i == t->sel_syn;

		if (selected && t->focus == TUI_FOCUS_SYNAPSES)
			wattrset(w, A_REVERSE);
		else if (selected)
			wattrset(w, A_BOLD);
		else
			wattrset(w, A_NORMAL);
		wmove(w, y, 0);
		for (x = 0; x < wd; x++)
			waddch(w, ' ');
		x = 0;
		tui_draw_printf(w, y, x, namew, "%s%s", selected &&
		    t->focus != TUI_FOCUS_SYNAPSES ? ">" : " ", syn->name);
		x += namew;
		snprintf(pp, sizeof pp, "%s %s %s",
		    tui_draw_unit(syn->pre_name, shorten),
		    t->gl.utf8 ? "→" : "->",
		    tui_draw_unit(syn->post_name, shorten));
		tui_draw_put(w, y, x, ppw - 1, pp);
		x += ppw;
		if (x + barw + 17 > wd)
			continue;
		tui_glyph_bar(&t->gl, bar, barw, syn->g_us, lim->g_min_us,
		    lim->g_max_us);
		if (!(selected && t->focus == TUI_FOCUS_SYNAPSES))
			wattrset(w, tui_draw_pair(t, TUI_PAIR_BAR));
		mvwaddnwstr(w, y, x, bar, barw);
		x += barw + 1;
		if (!(selected && t->focus == TUI_FOCUS_SYNAPSES))
			wattrset(w, selected ? A_BOLD : A_NORMAL);
		/* G, and the weight the device's limits give it */
		if (isfinite(syn->g_us))
			tui_draw_printf(w, y, x, 16, "%7.2f %s w%-3u",
			    syn->g_us, t->gl.utf8 ? "µS" : "uS",
			    synapse_weight(syn, syn->g_us));
		else
			tui_draw_printf(w, y, x, 16, "%7s %s w?  ", "?",
			    t->gl.utf8 ? "µS" : "uS");
		x += 16;
		if (sparkw > 0 && x + sparkw + 1 < wd) {
			tui_synapse_samples(t, i, samples);
			tui_glyph_spark(&t->gl, spark, samples + TUI_SPARK -
			    sparkw, sparkw, lim->g_min_us, lim->g_max_us);
			mvwaddnwstr(w, y, x, spark, sparkw);
			x += sparkw + 1;
		}
		if (x + 2 < wd) {
			if (syn->in_flight > 0) {
				wattron(w, tui_draw_pair(t, TUI_PAIR_FLIGHT) |
				    A_BOLD);
				tui_draw_put(w, y, x, 2, t->gl.utf8 ? "⚡" :
				    "*");
				wattroff(w, tui_draw_pair(t, TUI_PAIR_FLIGHT) |
				    A_BOLD);
			}
			x += 2;
		}
		if (latw > 0 && x + latw < wd) {
			/* the loop through this synapse: p50/p99, ms */
			if (latency_recent(syn->lat_spike, clock_mono_us(),
			    &st) == 0) {
				snprintf(state, sizeof state, "%.2f/%.2f ms",
				    st.p50_ms, st.p99_ms);
				tui_draw_printf(w, y, x, latw, "%*s ", latw - 1,
				    state);
			}
			x += latw;
		}
		if (x < wd && synapse_offline(syn, state, sizeof state) != 0) {
			/* an unplugged instrument outweighs the last decision */
			wattron(w, tui_draw_pair(t, TUI_PAIR_DOWN) | A_BOLD);
			tui_draw_fit(t, w, y, x, wd - x, state);
			wattroff(w, tui_draw_pair(t, TUI_PAIR_DOWN) | A_BOLD);
		} else if (x < wd)
			tui_draw_fit(t, w, y, x, wd - x, syn->last_decision);
	}
	wattrset(w, A_NORMAL);
}

/* State words and colours of a link. */
static const char *
tui_draw_link_state(const struct tui *t, int state, attr_t *a)
{
	switch (state) {
	case SB_LINK_UP:
		*a = tui_draw_pair(t, TUI_PAIR_UP) | A_BOLD;
		return "up";
	case SB_LINK_DEGRADED:
		*a = tui_draw_pair(t, TUI_PAIR_DEGRADED) | A_BOLD;
		return "degraded";
	}
	*a = tui_draw_pair(t, TUI_PAIR_DOWN) | A_BOLD;
	return "down";
}

/* A device link's figures: rates each way, what went wrong, its far end. */
static void
tui_draw_device_link(WINDOW *w, int y, int x, int wd,
    const struct sb_link_health *l)
{
	char loss[16], age[16];

	if (isnan(l->loss_pct))
		snprintf(loss, sizeof loss, "?");
	else
		snprintf(loss, sizeof loss, "%.1f%%", l->loss_pct);
	if (isnan(l->last_batch_age_s))
		snprintf(age, sizeof age, "-");
	else
		snprintf(age, sizeof age, "%.1f", l->last_batch_age_s);
	tui_draw_printf(w, y, x, wd, " %7.0f %7.0f %5s %5llu %5llu %6s  %s",
	    l->events_in_per_s, l->events_out_per_s, loss,
	    (unsigned long long)l->malformed,
	    (unsigned long long)l->out_of_range, age, l->detail);
}

/* Links: one row each with its health. */
void
tui_draw_links(struct tui *t, WINDOW *w, int h, int wd)
{
	const char *pm = t->gl.utf8 ? "±" : "+-";
	char details[32];
	const char *word;
	size_t i;
	attr_t a;
	int y, nw, compact, lat;

	werase(w);
	snprintf(details, sizeof details, "%zu", t->nlinks);
	tui_draw_title(t, w, wd, t->focus == TUI_FOCUS_LINKS, "Links",
	    details);
	if (h < 2)
		return;
	if (t->nlinks == 0) {
		wattrset(w, A_DIM);
		tui_draw_put(w, 1, 1, wd - 1, "no links: every site runs in "
		    "this process (load a transport to reach other sites)");
		wattrset(w, A_NORMAL);
		return;
	}
	/* the name column takes what the figures leave, 16 to 40 wide;
	 * below 92 columns only state, RTT, offset, loss and age */
	compact = wd < 92;
	/* from 104 columns, the latency of other sites' spikes too */
	lat = !compact && wd >= 104;
	nw = wd - (compact ? 60 : lat ? 86 : 76);
	nw = nw < 16 ? 16 : nw > 40 ? 40 : nw;
	for (i = 0; i < t->nlinks && t->link_device[i]; i++)
		;
	wattrset(w, A_DIM);
	if (i == t->nlinks)	/* device links only: their own columns */
		tui_draw_printf(w, 1, 0, wd, " %-*s %-8s %7s %7s %5s %5s %5s "
		    "%6s  %s", nw, "link", "state", "in/s", "out/s", "loss",
		    "bad", "range", "age s", "far end");
	else if (compact)
		tui_draw_printf(w, 1, 0, wd, " %-*s %-8s %8s %16s %6s %6s", nw,
		    "link", "state", "rtt ms", "offset ms", "loss%", "age s");
	else
		tui_draw_printf(w, 1, 0, wd, " %-*s %-8s %8s %7s %16s %6s "
		    "%6s %8s %6s %9s", nw, "link", "state", "rtt ms", "jitter",
		    "offset ms", "loss%", "queue", "events/s", "age s",
		    lat ? "src p99ms" : "");
	wattrset(w, A_NORMAL);
	for (i = 0, y = 2; i < t->nlinks && y < h; i++, y++) {
		const struct sb_link_health *l = &t->links[i];
		char off[40], src[16], age[16];

		{
			/* too long: keep "site/link", drop " host:port" */
			const char *sp = strchr(l->name, ' ');
			int len = (int)strlen(l->name);

			if (len > nw && sp != NULL && sp - l->name <= nw)
				len = (int)(sp - l->name);
			tui_draw_printf(w, y, 0, nw + 2, " %-*.*s", nw,
			    len < nw ? len : nw, l->name);
		}
		word = tui_draw_link_state(t, l->state, &a);
		wattrset(w, a);
		tui_draw_printf(w, y, nw + 2, 8, "%-8s", word);
		wattrset(w, A_NORMAL);
		if (t->link_device[i]) {
			tui_draw_device_link(w, y, nw + 10, wd - nw - 10, l);
			continue;
		}
		if (t->link_site_row[i]) {
			/* another site's console: the relay's word on it */
			tui_draw_printf(w, y, nw + 10, wd - nw - 10, " %s",
			    l->detail);
			continue;
		}
		snprintf(off, sizeof off, "%+.2f%s%.2f", l->offset_ms, pm,
		    l->uncertainty_ms);
		/* no batch yet: NaN (or -1 from an older relay plugin) */
		if (isnan(l->last_batch_age_s) || l->last_batch_age_s < 0)
			snprintf(age, sizeof age, "%6s", "-");
		else
			snprintf(age, sizeof age, "%6.1f", l->last_batch_age_s);
		if (compact) {
			/* what matters most when the width is short */
			tui_draw_printf(w, y, nw + 10, wd - nw - 10, " %8.2f "
			    "%16s %6.1f %s", l->rtt_ms, off, l->loss_pct, age);
			continue;
		}
		if (lat && !isnan(t->link_src_p99[i]))
			snprintf(src, sizeof src, "%9.2f", t->link_src_p99[i]);
		else
			snprintf(src, sizeof src, "%9s", lat ? "-" : "");
		tui_draw_printf(w, y, nw + 10, wd - nw - 10, " %8.2f %7.2f "
		    "%16s %6.1f %6llu %8.0f %s %s", l->rtt_ms, l->jitter_ms,
		    off, l->loss_pct, (unsigned long long)l->queue,
		    l->events_per_s, age, src);
	}
}

/* Attribute of a log line kind. */
static attr_t
tui_draw_log_attr(const struct tui *t, enum tui_log_kind k)
{
	switch (k) {
	case TUI_LOG_ERROR:
		return tui_draw_pair(t, TUI_PAIR_DOWN) | A_BOLD;
	case TUI_LOG_WARNING:
		return tui_draw_pair(t, TUI_PAIR_DEGRADED);
	case TUI_LOG_COMMAND:
		return tui_draw_pair(t, TUI_PAIR_COMMAND) | A_BOLD;
	case TUI_LOG_RULE:
		return tui_draw_pair(t, TUI_PAIR_RULE);
	case TUI_LOG_LINK:
		return tui_draw_pair(t, TUI_PAIR_UP);
	case TUI_LOG_INFO:
		return A_DIM;
	case TUI_LOG_RESULT:
		break;
	}
	return A_NORMAL;
}

/* Log: newest at the bottom, scrollable with focus. */
void
tui_draw_log(struct tui *t, WINDOW *w, int h, int wd)
{
	char details[48];
	size_t shown, i, idx;
	int y, x;

	werase(w);
	if (t->log_scroll > 0)
		snprintf(details, sizeof details, "%zu lines, %zu up",
		    t->log_n, t->log_scroll);
	else
		snprintf(details, sizeof details, "%zu lines", t->log_n);
	tui_draw_title(t, w, wd, t->focus == TUI_FOCUS_LOG, "Log", details);
	if (h < 2)
		return;
	if (t->log_scroll + 1 > t->log_n)
		t->log_scroll = t->log_n > 0 ? t->log_n - 1 : 0;
	shown = (size_t)(h - 1);
	if (shown > t->log_n - t->log_scroll)
		shown = t->log_n - t->log_scroll;
	y = h - (int)shown;
	for (i = 0; i < shown; i++, y++) {
		const struct tui_log_line *line;

		idx = (t->log_head + TUI_LOG_LINES - t->log_scroll - shown +
		    i) % TUI_LOG_LINES;
		line = &t->log[idx];
		wattrset(w, A_DIM);
		x = tui_draw_printf(w, y, 0, wd, "%9.3f ",
		    (double)line->t_us / 1e6);
		wattrset(w, tui_draw_log_attr(t, line->kind));
		if (line->kind == TUI_LOG_COMMAND)
			x += tui_draw_put(w, y, x, wd - x, t->gl.utf8 ? "› " :
			    "> ");
		else if (line->kind == TUI_LOG_ERROR)
			x += tui_draw_put(w, y, x, wd - x, "error: ");
		tui_draw_fit(t, w, y, x, wd - x, line->text);
	}
	wattrset(w, A_NORMAL);
}

/* Status line: session, site, clock, recording, event rate. */
void
tui_draw_status(struct tui *t, WINDOW *w, int wd)
{
	struct session *s = t->s;
	int64_t now = clock_now(&s->clock);
	const char *sep = t->gl.utf8 ? " │ " : " | ";
	char buf[512], rec[200];
	int x, i;
	attr_t base = tui_draw_pair(t, TUI_PAIR_STATUS) |
	    (t->gl.colour ? 0 : A_REVERSE);

	werase(w);
	if (t->said != NULL) {
		/* the last typed command's result, until a key */
		wattrset(w, (t->said_error ? tui_draw_pair(t, TUI_PAIR_DOWN) :
		    tui_draw_pair(t, TUI_PAIR_COMMAND)) | A_BOLD | A_REVERSE);
		wmove(w, 0, 0);
		for (i = 0; i < wd; i++)
			waddch(w, ' ');
		x = 0;
		if (t->said_more > 0)
			x = tui_draw_printf(w, 0, 0, wd, " (+%u in the log)",
			    t->said_more);
		x += tui_draw_put(w, 0, x, wd - x, " ");
		tui_draw_fit(t, w, 0, x, wd - x, t->said);
		wattrset(w, A_NORMAL);
		return;
	}
	wattrset(w, base);
	wmove(w, 0, 0);
	for (i = 0; i < wd; i++)
		waddch(w, ' ');
	if (s->recorder != NULL && s->flush_error != NULL)
		snprintf(rec, sizeof rec, "REC FAILING %s (see the log)",
		    recorder_dir(s->recorder));
	else if (s->recorder != NULL)
		snprintf(rec, sizeof rec, "REC %s (%llu rows)",
		    recorder_dir(s->recorder),
		    (unsigned long long)recorder_rows(s->recorder));
	else
		snprintf(rec, sizeof rec, "not recording");
	/* states that matter most come first: they must never be cut off */
	x = 0;
	if (s->stopped) {
		wattrset(w, tui_draw_pair(t, TUI_PAIR_DOWN) | A_BOLD |
		    A_REVERSE);
		x += tui_draw_put(w, 0, x, wd - x, " STOPPED (resume) ");
		wattrset(w, base);
	}
	if (s->clock_wait != NULL) {
		wattrset(w, tui_draw_pair(t, TUI_PAIR_DOWN) | A_BOLD |
		    A_REVERSE);
		x += tui_draw_put(w, 0, x, wd - x,
		    " CLOCK WAIT: session held ");
		wattrset(w, base);
	}
	if (t->frozen) {
		wattrset(w, base | A_BOLD | A_BLINK);
		x += tui_draw_put(w, 0, x, wd - x, " FROZEN");
		wattrset(w, base);
	}
	snprintf(buf, sizeof buf, " %s%ssite %s%s%02lld:%02lld:%04.1f%s",
	    t->title, sep, s->current != NULL ? s->current->name : "-", sep,
	    (long long)(now / 3600000000LL), (long long)(now / 60000000 % 60),
	    (double)(now % 60000000) / 1e6, sep);
	x += tui_draw_put(w, 0, x, wd - x, buf);
	if (s->recorder != NULL)
		wattrset(w, base | A_BOLD | (t->gl.colour ?
		    tui_draw_pair(t, TUI_PAIR_REC) : 0));
	x += tui_draw_put(w, 0, x, wd - x, rec);
	wattrset(w, base);
	if (t->rate >= 10000)
		snprintf(buf, sizeof buf, "%s%.1fk ev/s", sep, t->rate / 1e3);
	else
		snprintf(buf, sizeof buf, "%s%.0f ev/s", sep, t->rate);
	x += tui_draw_put(w, 0, x, wd - x, buf);
	if (s->fast)
		x += tui_draw_printf(w, 0, x, wd - x, "%sfast", sep);
	if (s->realtime > 0)
		x += tui_draw_printf(w, 0, x, wd - x, "%sRT %d", sep,
		    s->realtime);
	if (wd - x > 10)
		tui_draw_put(w, 0, wd - 9, 9, "F1 help ");
	wattrset(w, A_NORMAL);
}

/* The help overlay: keys, then commands. */
void
tui_draw_help(struct tui *t, int rows, int cols)
{
	static const char *keys[] = {
		"F1, ? (empty line)   this help; any key closes it",
		"Tab (empty line)     move focus: line, raster, synapses, links, log",
		"+ / -                zoom the raster's time window (1-60 s)",
		"PgUp / PgDn          scroll populations (log pane: scroll log)",
		"r (log pane)         rule pulses: a summary per synapse every "
		"5 s, or every pulse",
		"F12                  stop (again: resume): no pulse or "
		"stimulation",
		"Space                freeze the display (data keeps flowing)",
		"Ctrl-L               redraw the screen",
		"up/down, p, d        synapse pane: pick, potentiate, depress",
		"Esc                  back to the command line",
		"Tab (typing)         complete commands, synapses, units, files",
		"quit                 leave (recordings are flushed)",
		NULL
	};
	const struct cmd_entry *const *e;
	int h, wd, y, x0, y0, n = 0, i;
	WINDOW *w;

	for (e = cmd_table; *e != NULL; e++)
		n++;
	for (i = 0; keys[i] != NULL; i++)
		n++;
	h = n + 5;
	if (h > rows - 2)
		h = rows - 2;
	wd = cols - 4 > 100 ? 100 : cols - 4;
	if (h < 3 || wd < 20)
		return;
	y0 = (rows - 2 - h) / 2;
	x0 = (cols - wd) / 2;
	w = newwin(h, wd, y0, x0);
	if (w == NULL)
		return;
	wbkgdset(w, ' ' | tui_draw_pair(t, TUI_PAIR_OVERLAY));
	werase(w);
	if (t->gl.utf8)
		box_set(w, NULL, NULL);
	else
		wborder(w, '|', '|', '-', '-', '+', '+', '+', '+');
	wattron(w, A_BOLD);
	tui_draw_put(w, 0, 2, wd - 4, " synbridge help ");
	wattroff(w, A_BOLD);
	y = 1;
	for (i = 0; keys[i] != NULL && y < h - 1; i++, y++)
		tui_draw_put(w, y, 2, wd - 4, keys[i]);
	if (y < h - 1)
		y++;
	for (e = cmd_table; *e != NULL && y < h - 1; e++, y++) {
		wattron(w, A_BOLD);
		tui_draw_printf(w, y, 2, 12, "%s", (*e)->name);
		wattroff(w, A_BOLD);
		tui_draw_printf(w, y, 2 + 12, wd - 16, "%s", (*e)->help);
	}
	wnoutrefresh(w);
	delwin(w);
}

/* Completion candidates, in columns above the command line. */
void
tui_draw_matches(struct tui *t, int rows, int cols)
{
	int colw = 1, ncol, nrow, h, i, r, c;
	WINDOW *w;

	if (t->nmatches == 0 || rows < 4)
		return;
	for (i = 0; i < t->nmatches; i++) {
		int l = (int)strlen(t->matches[i]);

		if (l + 2 > colw)
			colw = l + 2;
	}
	if (colw > cols)
		colw = cols;
	ncol = cols / colw > 0 ? cols / colw : 1;
	nrow = (t->nmatches + ncol - 1) / ncol;
	h = nrow + 1;
	if (h > rows / 2)
		h = rows / 2;
	w = newwin(h, cols, rows - 2 - h, 0);
	if (w == NULL)
		return;
	wbkgdset(w, ' ' | tui_draw_pair(t, TUI_PAIR_OVERLAY));
	werase(w);
	wattron(w, A_BOLD);
	tui_draw_printf(w, 0, 1, cols - 1, "%d candidates%s", t->nmatches,
	    nrow > h - 1 ? " (type more to narrow)" : "");
	wattroff(w, A_BOLD);
	for (r = 0; r < h - 1; r++)
		for (c = 0; c < ncol; c++) {
			i = c * nrow + r;
			if (i < t->nmatches)
				tui_draw_put(w, r + 1, c * colw + 1, colw - 1,
				    t->matches[i]);
		}
	wnoutrefresh(w);
	delwin(w);
}

/* Sample every synapse's G into its ring (every spark_step_us). */
void
tui_sample_synapses(struct tui *t, int64_t now_us)
{
	struct session *s = t->s;
	size_t i, k;

	if (s->nsynapses != t->spark_syn) {
		t->spark = xreallocarray(t->spark, s->nsynapses > 0 ?
		    s->nsynapses : 1, TUI_SPARK * sizeof *t->spark);
		for (i = t->spark_syn; i < s->nsynapses; i++)
			for (k = 0; k < TUI_SPARK; k++)
				t->spark[i * TUI_SPARK + k] = NAN;
		t->spark_syn = s->nsynapses;
	}
	if (now_us < t->spark_next_us)
		return;
	t->spark_next_us = now_us + t->spark_step_us;
	for (i = 0; i < s->nsynapses; i++)
		t->spark[i * TUI_SPARK + t->spark_head] = s->synapses[i]->g_us;
	t->spark_head = (t->spark_head + 1) % TUI_SPARK;
	if (t->spark_n < TUI_SPARK)
		t->spark_n++;
}

/* The samples of one synapse, oldest first; NAN before the first. */
void
tui_synapse_samples(const struct tui *t, size_t syn, double *out)
{
	size_t k;

	for (k = 0; k < TUI_SPARK; k++)
		out[k] = syn < t->spark_syn && t->spark != NULL ?
		    t->spark[syn * TUI_SPARK + (t->spark_head + k) %
		    TUI_SPARK] : NAN;
	/* the newest sample is the live value */
	if (syn < t->s->nsynapses)
		out[TUI_SPARK - 1] = t->s->synapses[syn]->g_us;
}
