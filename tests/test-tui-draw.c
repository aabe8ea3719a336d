/*
 * test-tui-draw.c: the console's drawing pieces without a terminal:
 * braille and bars, the raster model, layouts, and panes drawn into a
 * curses screen on /dev/null and read back.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "engine.h"
#include "tui.h"

static const struct tui_glyphs utf8 = { 1, 0 }, ascii = { 0, 0 };

/* Braille: U+2800 plus the dot bits; ASCII shades by dot count. */
static void
test_braille(void **state)
{
	(void)state;
	assert_int_equal(tui_glyph_braille(&utf8, 0), L' ');
	assert_int_equal(tui_glyph_braille(&utf8, 0x01), 0x2801);
	assert_int_equal(tui_glyph_braille(&utf8, 0xff), 0x28ff);
	/* dot (1, 3) is the bottom right one */
	assert_int_equal(tui_braille_bit[3][1], 0x80);
	assert_int_equal(tui_braille_bit[0][1], 0x08);
	assert_int_equal(tui_glyph_braille(&ascii, 0), L' ');
	assert_int_equal(tui_glyph_braille(&ascii, 0x01), L'.');
	assert_int_equal(tui_glyph_braille(&ascii, 0xff), L'#');
}

/* Bars fill in proportion to G within the device window. */
static void
test_bar_and_spark(void **state)
{
	wchar_t out[64];
	double v[4] = { 10, NAN, 20, 15 };
	int full = 0, i;

	(void)state;
	tui_glyph_bar(&utf8, out, 10, 150, 100, 200);
	for (i = 0; i < 10; i++)
		full += out[i] == L'█';
	assert_int_equal(full, 5);
	assert_int_equal(out[5], L'·');
	tui_glyph_bar(&utf8, out, 10, 500, 100, 200);	/* clipped */
	assert_int_equal(out[9], L'█');
	tui_glyph_bar(&ascii, out, 4, 100, 100, 200);
	assert_true(wcscmp(out, L"----") == 0);
	tui_glyph_spark(&utf8, out, v, 4, 10, 20);
	assert_int_equal(out[0], L'▁');
	assert_int_equal(out[1], L' ');
	assert_int_equal(out[2], L'█');
	assert_int_equal(wcslen(out), 4);
}

/* A raster of two populations built by hand. */
static void
raster_two_groups(struct tui_raster *r, uint32_t a, uint32_t b)
{
	tui_raster_init(r);
	r->groups = calloc(2, sizeof *r->groups);
	r->ngroups = 2;
	r->groups[0].units = a;
	r->groups[1].base = a;
	r->groups[1].units = b;
	r->units = a + b;
	r->map_sites = 1;
	r->map = calloc(1, sizeof *r->map);
	r->map[0] = calloc(2, sizeof **r->map);
	r->map[0][1] = 1;
	r->map_pops = calloc(1, sizeof *r->map_pops);
	r->map_pops[0] = 2;
	r->signature = 1;
}

/* Spikes land in their bins by session time, late ones too. */
static void
test_raster_bins(void **state)
{
	struct tui_raster r;

	(void)state;
	raster_two_groups(&r, 8, 4);
	tui_raster_configure(&r, NULL, 10, 1000000, 0);	/* 100 ms bins */
	assert_int_equal(r.bin_us, 100000);
	tui_raster_spike(&r, 0, 0, 3, 250000);
	assert_int_equal(r.head, 2);
	assert_true(tui_raster_test(&r, 3, 2));
	assert_false(tui_raster_test(&r, 3, 1));
	/* a remote spike arriving late still lands in its own bin */
	tui_raster_spike(&r, 0, 1, 2, 50000);
	assert_true(tui_raster_test(&r, 8 + 2, 0));
	assert_int_equal(tui_raster_count(&r, 1, 0), 1);
	assert_true(tui_raster_any(&r, 8, 12, 0));
	assert_false(tui_raster_any(&r, 0, 8, 0));
	/* the window moves on: old bins are cleared */
	tui_raster_advance(&r, 1150000);
	assert_int_equal(r.head, 11);
	assert_true(tui_raster_test(&r, 3, 2));	/* the oldest bin shown */
	tui_raster_advance(&r, 1250000);
	assert_false(tui_raster_test(&r, 3, 2));
	assert_int_equal(r.groups[0].spikes, 0);
	/* older than the window: refused and counted */
	tui_raster_spike(&r, 0, 0, 1, 100000);
	assert_int_equal(r.late, 1);
	/* unknown populations and units are ignored */
	tui_raster_spike(&r, 0, 5, 0, 1100000);
	tui_raster_spike(&r, 0, 0, 99, 1100000);
	assert_false(tui_raster_any(&r, 0, 12, 11));
	tui_raster_free(&r);
}

/* A row of braille cells: newest bin on the right, units top down. */
static void
test_raster_render(void **state)
{
	struct tui_raster r;
	wchar_t out[8];

	(void)state;
	raster_two_groups(&r, 8, 4);
	tui_raster_configure(&r, NULL, 8, 800000, 0);
	tui_raster_advance(&r, 799999);			/* head = bin 7 */
	tui_raster_spike(&r, 0, 0, 0, 750000);		/* unit 0, bin 7 */
	tui_raster_spike(&r, 0, 0, 5, 650000);		/* unit 5, bin 6 */
	tui_raster_spike(&r, 0, 0, 3, 0);		/* unit 3, bin 0 */
	assert_int_equal(tui_raster_render_row(&r, &utf8, 0, 1, 0, 4, out),
	    2);
	/* row 0 = units 0-3: bin 7 is the right dot of the last cell */
	assert_int_equal(out[3], 0x2800 + 0x08);
	/* unit 3 (bottom dot row) in bin 0: the left dot of cell 0 */
	assert_int_equal(out[0], 0x2800 + 0x40);
	assert_int_equal(out[1], L' ');
	/* row 1 = units 4-7: unit 5 in bin 6, the left column */
	tui_raster_render_row(&r, &utf8, 0, 1, 1, 4, out);
	assert_int_equal(out[3], 0x2800 + 0x02);
	/* folded two units per dot row: all eight units in one text row */
	tui_raster_render_row(&r, &utf8, 0, 2, 0, 4, out);
	assert_int_equal(out[3], 0x2800 + 0x08 + 0x04);
	assert_int_equal(out[0], 0x2800 + 0x02);
	tui_raster_free(&r);
}

/* Thousands of units fold to fit; a small population stays unfolded. */
static void
test_raster_fit(void **state)
{
	struct tui_raster r;
	struct tui_raster_layout l;

	(void)state;
	raster_two_groups(&r, 4096, 60);
	tui_raster_fit(&r, 0, 40, &l);
	assert_int_equal(l.rows, 40);
	assert_int_equal(l.shown, 2);
	/* 60 units need 15 rows and get them; the rest folds */
	assert_int_equal(r.groups[1].rows, 15);
	assert_int_equal(r.groups[1].fold, 1);
	assert_int_equal(r.groups[0].rows, 25);
	assert_int_equal(r.groups[0].fold, 41);	/* 4096 / 100, rounded up */
	assert_int_equal(l.fold, 41);
	/* few rows: equal shares */
	tui_raster_fit(&r, 0, 8, &l);
	assert_int_equal(r.groups[0].rows, 4);
	assert_int_equal(r.groups[1].rows, 4);
	assert_int_equal(r.groups[1].fold, 4);
	/* one row: the first group only; PgDn shows the next */
	tui_raster_fit(&r, 0, 1, &l);
	assert_int_equal(l.shown, 1);
	tui_raster_fit(&r, 1, 40, &l);
	assert_int_equal(l.shown, 1);
	assert_int_equal(r.groups[0].rows, 0);
	assert_int_equal(r.groups[1].fold, 1);
	assert_int_equal(l.rows, 15);
	tui_raster_free(&r);
}

/* Panes stay inside the screen and never overlap, at any size. */
static void
test_layout(void **state)
{
	static const int sizes[][2] = { { 24, 80 }, { 60, 200 }, { 40, 120 },
	    { 30, 100 }, { 12, 60 }, { 8, 40 }, { 3, 20 }, { 1, 5 } };
	struct tui_layout l;
	size_t i;
	int rows, cols, y, x, owner;

	(void)state;
	for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		rows = sizes[i][0];
		cols = sizes[i][1];
		tui_layout(&l, rows, cols, 6, 2);
		assert_int_equal(l.line_y, rows - 1);
		for (y = 0; y < rows - 2; y++)
			for (x = 0; x < cols; x++) {
				owner = 0;
#define IN(p) (y >= l.p##_y && y < l.p##_y + l.p##_h && \
    x >= l.p##_x && x < l.p##_x + l.p##_w)
				owner += IN(raster);
				owner += IN(syn);
				owner += IN(link);
				owner += IN(log);
#undef IN
				assert_true(owner <= 1);
				/* from 80x24 up every cell belongs to a pane */
				if (rows >= 24 && cols >= 80)
					assert_int_equal(owner, 1);
			}
		assert_true(l.raster_h >= 0 && l.syn_h >= 0 &&
		    l.link_h >= 0 && l.log_h >= 0);
		if (rows >= 24 && cols >= 80) {
			assert_true(l.raster_h >= 6);
			assert_true(l.syn_h >= 3);
			assert_true(l.link_h >= 2);
			assert_true(l.log_h >= 3);
		}
	}
	/* wide screens put the raster and the synapses side by side */
	tui_layout(&l, 60, 200, 6, 2);
	assert_int_equal(l.raster_y, l.syn_y);
	assert_true(l.syn_x > 0);
}

/* The text of a window row. */
static const char *
window_row(WINDOW *w, int y, int wd)
{
	static char buf[1024];
	wchar_t wbuf[512];

	mvwinnwstr(w, y, 0, wbuf, wd < 511 ? wd : 511);
	wcstombs(buf, wbuf, sizeof buf);
	return buf;
}

/* The synapse pane shows names, units, G, its bar and the pulse mark. */
static void
test_synapse_pane(void **state)
{
	struct session *s = session_create(1, 1);
	struct synapse syn[2], *list[2] = { &syn[0], &syn[1] };
	struct tui t;
	FILE *out = fopen("/dev/null", "w"), *in = fopen("/dev/null", "r");
	SCREEN *scr;
	WINDOW *w;
	const char *row;
	int i, full = 0, dots = 0;

	(void)state;
	memset(syn, 0, sizeof syn);
	for (i = 0; i < 2; i++) {
		syn[i].id = (uint32_t)i;
		syn[i].limits.g_min_us = 100;
		syn[i].limits.g_max_us = 200;
		strcpy(syn[i].last_decision, i ? "ltd (3 pre)" : "-");
	}
	syn[0].name = "s0";
	syn[0].pre_name = "padova/mea:12";
	syn[0].post_name = "zurich/silicon:0";
	syn[0].g_us = 150;
	syn[1].name = "s1";
	syn[1].pre_name = "zurich/silicon:0";
	syn[1].post_name = "padova/mea:41";
	syn[1].g_us = 200;
	syn[1].in_flight = 1;
	/* weight from R: 200 uS is 5 kOhm, the bottom of 5-10 kOhm */
	syn[1].limits.weight_from = SB_WEIGHT_FROM_R;
	s->synapses = list;
	s->nsynapses = 2;

	setenv("TERM", "xterm", 1);
	setenv("LINES", "30", 1);
	setenv("COLUMNS", "140", 1);
	scr = newterm(NULL, out, in);
	assert_non_null(scr);
	memset(&t, 0, sizeof t);
	t.s = s;
	t.gl = utf8;
	t.spark_step_us = 500000;
	tui_sample_synapses(&t, 0);
	w = newwin(5, 140, 0, 0);
	tui_draw_synapses(&t, w, 5, 140);
	row = window_row(w, 0, 140);
	assert_non_null(strstr(row, "Synapses"));
	row = window_row(w, 1, 140);
	assert_non_null(strstr(row, "s0"));
	assert_non_null(strstr(row, "padova/mea:12 → zurich/silicon:0"));
	/* G and its weight: 127.5 rounds half to even */
	assert_non_null(strstr(row, " 150.00 µS w128 "));
	for (i = 0; row[i] != '\0'; i++) {
		full += strncmp(row + i, "█", strlen("█")) == 0;
		dots += strncmp(row + i, "·", strlen("·")) == 0;
	}
	/* half the window: half the bar */
	assert_true(full > 0);
	assert_int_equal(full, dots);
	assert_null(strstr(row, "⚡"));
	row = window_row(w, 2, 140);
	assert_non_null(strstr(row, " 200.00 µS w0 "));
	assert_non_null(strstr(row, "⚡"));
	assert_non_null(strstr(row, "ltd (3 pre)"));
	/* a decision too long for its column is cut at a word, marked */
	{
		const char *mark;
		size_t k;

		syn[1].last_decision[0] = '\0';
		for (k = 0; k < 2; k++)
			strcat(syn[1].last_decision, "ltd skipped (busy) ");
		werase(w);
		tui_draw_synapses(&t, w, 5, 90);
		row = window_row(w, 2, 90);
		mark = strstr(row, "…");
		assert_non_null(mark);
		assert_true(strncmp(mark - 1, ")", 1) == 0 ||
			    strncmp(mark - 7, "skipped", 7) == 0 ||
			    strncmp(mark - 3, "ltd", 3) == 0);
		assert_null(strstr(row, "(b…"));
		assert_null(strstr(row, "(bu…"));
	}
	delwin(w);
	endwin();
	delscreen(scr);
	fclose(out);
	fclose(in);
	free(t.spark);
	s->synapses = NULL;
	s->nsynapses = 0;
	engine_shutdown(s);
}

/*
 * The loop's latency in the synapse pane: the title names the slowest
 * path's p99; from 110 columns each row shows its p50/p99.
 */
static void
test_synapse_pane_latency(void **state)
{
	struct session *s = session_create(1, 1);
	struct synapse syn[2], *list[2] = { &syn[0], &syn[1] };
	struct tui t;
	FILE *out = fopen("/dev/null", "w"), *in = fopen("/dev/null", "r");
	SCREEN *scr;
	WINDOW *w;
	const char *row;
	int64_t now = clock_mono_us();
	int i;

	(void)state;
	memset(syn, 0, sizeof syn);
	for (i = 0; i < 2; i++) {
		syn[i].id = (uint32_t)i;
		syn[i].limits.g_min_us = 100;
		syn[i].limits.g_max_us = 200;
		syn[i].g_us = 150;
		strcpy(syn[i].last_decision, "-");
	}
	syn[0].name = "s0";
	syn[0].pre_name = "padova/mea:12";
	syn[0].post_name = "zurich/silicon:0";
	syn[1].name = "s1";
	syn[1].pre_name = "padova/mea:23";
	syn[1].post_name = "zurich/silicon:0";
	s->synapses = list;
	s->nsynapses = 2;
	setenv("TERM", "xterm", 1);
	scr = newterm(NULL, out, in);
	assert_non_null(scr);
	memset(&t, 0, sizeof t);
	t.s = s;
	t.gl = utf8;
	t.spark_step_us = 500000;
	tui_sample_synapses(&t, 0);
	w = newwin(5, 140, 0, 0);

	/* nothing measured: nothing shown */
	tui_draw_synapses(&t, w, 5, 140);
	assert_null(strstr(window_row(w, 0, 140), "loop"));
	assert_null(strstr(window_row(w, 1, 140), " ms"));

	/* s0 around 1 ms, s1 around 4 ms with a slow tail */
	for (i = 0; i < 100; i++) {
		latency_add(&syn[0].lat_spike, 1000, now);
		latency_add(&syn[1].lat_spike, i < 95 ? 4000 : 9000, now);
	}
	werase(w);
	tui_draw_synapses(&t, w, 5, 140);
	row = window_row(w, 0, 140);
	assert_non_null(strstr(row, "Synapses  2"));
	assert_non_null(strstr(row, "loop p99 9.00 ms"));
	assert_non_null(strstr(row, "(s1)"));
	row = window_row(w, 1, 140);
	{
		/* "P50/P99 ms", within the histogram's 3 % of 1 ms */
		const char *ms = strstr(row, " ms");
		double p50 = 0, p99 = 0;

		assert_non_null(ms);
		while (ms > row && ms[-1] != ' ')
			ms--;
		assert_int_equal(sscanf(ms, "%lf/%lf", &p50, &p99), 2);
		assert_true(p50 > 0.97 && p50 < 1.03);
		assert_true(p99 > 0.97 && p99 < 1.03);
	}
	row = window_row(w, 2, 140);
	assert_non_null(strstr(row, "/9.00 ms"));
	/* narrower than 110 columns: the title only */
	werase(w);
	tui_draw_synapses(&t, w, 5, 100);
	assert_non_null(strstr(window_row(w, 0, 100), "loop p99"));
	assert_null(strstr(window_row(w, 1, 100), " ms"));
	delwin(w);
	endwin();
	delscreen(scr);
	fclose(out);
	fclose(in);
	free(t.spark);
	latency_free(syn[0].lat_spike);
	latency_free(syn[1].lat_spike);
	s->synapses = NULL;
	s->nsynapses = 0;
	engine_shutdown(s);
}

/* A curses screen on /dev/null for drawing tests. */
struct fake_screen {
	FILE *out, *in;
	SCREEN *scr;
};

/* Open it at rows x cols. */
static void
fake_screen_open(struct fake_screen *f, int rows, int cols)
{
	char num[16];

	f->out = fopen("/dev/null", "w");
	f->in = fopen("/dev/null", "r");
	setenv("TERM", "xterm", 1);
	snprintf(num, sizeof num, "%d", rows);
	setenv("LINES", num, 1);
	snprintf(num, sizeof num, "%d", cols);
	setenv("COLUMNS", num, 1);
	f->scr = newterm(NULL, f->out, f->in);
	assert_non_null(f->scr);
}

/* Close it. */
static void
fake_screen_close(struct fake_screen *f)
{
	endwin();
	delscreen(f->scr);
	fclose(f->out);
	fclose(f->in);
}

/* Links: one row each with state, RTT, offset and uncertainty. */
static void
test_links_pane(void **state)
{
	struct session *s = session_create(1, 1);
	struct fake_screen f;
	struct tui t;
	WINDOW *w;
	const char *row;

	(void)state;
	fake_screen_open(&f, 30, 120);
	memset(&t, 0, sizeof t);
	t.s = s;
	t.gl = utf8;
	w = newwin(4, 120, 0, 0);
	tui_draw_links(&t, w, 4, 120);
	assert_non_null(strstr(window_row(w, 1, 120), "no links"));
	snprintf(t.links[0].name, sizeof t.links[0].name, "padova-relay");
	t.links[0].state = SB_LINK_DEGRADED;
	t.links[0].rtt_ms = 12.5;
	t.links[0].offset_ms = -0.25;
	t.links[0].uncertainty_ms = 0.5;
	t.links[0].loss_pct = 1.5;
	t.links[0].queue = 42;
	t.links[0].events_per_s = 1234;
	t.links[0].last_batch_age_s = 0.2;
	t.nlinks = 1;
	tui_draw_links(&t, w, 4, 120);
	assert_non_null(strstr(window_row(w, 1, 120), "rtt ms"));
	row = window_row(w, 2, 120);
	assert_non_null(strstr(row, "padova-relay"));
	assert_non_null(strstr(row, "degraded"));
	assert_non_null(strstr(row, "12.50"));
	assert_non_null(strstr(row, "-0.25±0.50"));
	assert_non_null(strstr(row, " 42 "));
	assert_non_null(strstr(row, "1234"));
	assert_non_null(strstr(row, " 0.2 "));
	/* before its first batch: no age, not a number */
	t.links[0].last_batch_age_s = NAN;
	tui_draw_links(&t, w, 4, 120);
	row = window_row(w, 2, 120);
	assert_null(strstr(row, "nan"));
	assert_non_null(strstr(row, "1234      - "));
	/* another site's console, as the relay sees it: its word, no NaN */
	delwin(w);
	w = newwin(5, 120, 0, 0);
	snprintf(t.links[1].name, sizeof t.links[1].name,
	    "zurich/padova via relay");
	t.links[1].state = SB_LINK_DOWN;
	t.links[1].rtt_ms = t.links[1].jitter_ms = NAN;
	t.links[1].offset_ms = t.links[1].uncertainty_ms = NAN;
	t.links[1].loss_pct = NAN;
	snprintf(t.links[1].detail, sizeof t.links[1].detail,
	    "its console not heard for 16 s: stopped, hung or cut off");
	t.link_site_row[1] = 1;
	t.nlinks = 2;
	tui_draw_links(&t, w, 5, 120);
	row = window_row(w, 3, 120);
	assert_non_null(strstr(row, "zurich/padova via relay"));
	assert_non_null(strstr(row, "down"));
	assert_non_null(strstr(row, "its console not heard for 16 s"));
	assert_null(strstr(row, "nan"));
	delwin(w);
	fake_screen_close(&f);
	engine_shutdown(s);
}

/* Log: newest line at the bottom; scrolling shows older ones. */
static void
test_log_pane(void **state)
{
	struct session *s = session_create(1, 1);
	struct fake_screen f;
	struct tui *t = calloc(1, sizeof *t);
	WINDOW *w;
	size_t i;

	(void)state;
	fake_screen_open(&f, 30, 100);
	t->s = s;
	t->gl = utf8;
	for (i = 0; i < TUI_LOG_LINES + 5; i++)
		tui_log(t, TUI_LOG_RESULT, "line %zu", i);
	tui_log(t, TUI_LOG_ERROR, "potentiate: unknown synapse 's99'");
	assert_int_equal(t->log_n, TUI_LOG_LINES);
	w = newwin(4, 100, 0, 0);
	tui_draw_log(t, w, 4, 100);
	assert_non_null(strstr(window_row(w, 3, 100),
	    "error: potentiate: unknown synapse 's99'"));
	assert_non_null(strstr(window_row(w, 2, 100), "line 2004"));
	t->log_scroll = 3;
	tui_draw_log(t, w, 4, 100);
	assert_non_null(strstr(window_row(w, 3, 100), "line 2002"));
	delwin(w);
	fake_screen_close(&f);
	for (i = 0; i < TUI_LOG_LINES; i++)
		free(t->log[i].text);
	free(t);
	engine_shutdown(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_braille),
		cmocka_unit_test(test_bar_and_spark),
		cmocka_unit_test(test_raster_bins),
		cmocka_unit_test(test_raster_render),
		cmocka_unit_test(test_raster_fit),
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_synapse_pane),
		cmocka_unit_test(test_synapse_pane_latency),
		cmocka_unit_test(test_links_pane),
		cmocka_unit_test(test_log_pane),
	};

	setlocale(LC_ALL, "C.UTF-8");
	return cmocka_run_group_tests_name("tui-draw", tests, NULL, NULL);
}
