/*
 * tui.h: the full-screen console. A view model (raster bins, synapse
 * history, log lines) fed by the engine's view hook, panes that draw the
 * model into curses windows, a readline command line, and the main loop
 * (tui.c) that runs the engine and the command queue and redraws at most
 * 30 times a second when something changed.
 */
#ifndef SB_TUI_H
#define SB_TUI_H

#include <stddef.h>
#include <stdint.h>
#include <curses.h>
#include <wchar.h>

#include "session.h"

struct cmdq;

/* Options of tui_run, as given on the command line. */
struct tui_options {
	const char *session_file;	/* -c or the demo's file */
	const char *title;		/* shown in the status line */
	double duration_s;		/* --duration, < 0 for none */
};

/* Run the console on the terminal; returns the exit status. */
int tui_run(struct session *s, const struct tui_options *o);

/* ---- glyphs (tui-glyph.c): pure functions, unit tested ---- */

/* Unicode or ASCII, colours or not (NO_COLOR). */
struct tui_glyphs {
	int utf8;
	int colour;
};

/* Braille cell for dots bits (bit = tui_braille_bit[y][x]); ASCII shade. */
wchar_t tui_glyph_braille(const struct tui_glyphs *g, unsigned bits);
extern const unsigned char tui_braille_bit[4][2];
/* A conductance bar of width cells for g in [lo, hi] into out (NUL ended). */
void tui_glyph_bar(const struct tui_glyphs *g, wchar_t *out, int width,
    double g_us, double lo, double hi);
/* A sparkline of n samples in [lo, hi] into out (NUL ended); NAN: blank. */
void tui_glyph_spark(const struct tui_glyphs *g, wchar_t *out,
    const double *v, int n, double lo, double hi);
/* Columns a wide string takes (unprintable counted as 1). */
int tui_glyph_width(const wchar_t *w);
/* Convert UTF-8 (or any locale text) to wide, at most max-1 chars. */
void tui_glyph_widen(wchar_t *out, size_t max, const char *s);

/* ---- raster model (tui-raster.c) ---- */

/* One row group of the raster: a population. */
struct tui_raster_group {
	uint16_t site, pop;
	uint32_t base;		/* first global unit */
	uint32_t units;
	char label[40];		/* "site/pop" */
	uint64_t spikes;	/* in the window, approximately */
	/* set by tui_raster_fit: text rows shown (0: not shown) and units
	 * per dot row */
	int rows;
	uint32_t fold;
};

/* Recent spikes of every unit, in time bins ending at the session clock. */
struct tui_raster {
	struct tui_raster_group *groups;
	size_t ngroups;
	uint32_t units;		/* total */
	uint32_t words;		/* 64-bit words per column */
	int32_t **map;		/* [site][pop] -> group index, or -1 */
	size_t map_sites, *map_pops;
	int nbins;		/* columns of bins (two per cell) */
	int64_t window_us;
	int64_t bin_us;
	int64_t head;		/* absolute bin of the newest column */
	uint64_t *bits;		/* nbins columns of `words` words */
	uint32_t *counts;	/* spikes per bin and group [bin][group] */
	uint64_t signature;	/* of the session's populations */
	uint64_t late;		/* spikes older than the window */
};

void tui_raster_init(struct tui_raster *r);
void tui_raster_free(struct tui_raster *r);
/* Populations changed? Rebuild groups (clears bins). 1 if rebuilt. */
int tui_raster_sync(struct tui_raster *r, struct session *s);
/* Set bins and window; rebuilds from history when they changed. */
void tui_raster_configure(struct tui_raster *r, struct session *s,
    int nbins, int64_t window_us, int64_t now_us);
/* One spike at session time t_us. */
void tui_raster_spike(struct tui_raster *r, uint16_t site, uint16_t pop,
    uint32_t index, int64_t t_us);
/* Move the newest column to now (clearing what scrolled in). */
void tui_raster_advance(struct tui_raster *r, int64_t now_us);
/* Does unit u (global) have a spike in absolute bin b? */
int tui_raster_test(const struct tui_raster *r, uint32_t u, int64_t b);
/* Any spike among units [u0, u1) in absolute bin b? */
int tui_raster_any(const struct tui_raster *r, uint32_t u0, uint32_t u1,
    int64_t b);
/* Spikes of group g in absolute bin b. */
uint32_t tui_raster_count(const struct tui_raster *r, size_t g, int64_t b);

/* Geometry of a raster drawing: which groups, how units fold. */
struct tui_raster_layout {
	size_t first;		/* first group shown */
	uint32_t fold;		/* the largest fold of a group shown */
	int rows;		/* text rows used */
	size_t shown;		/* groups shown */
};
/*
 * Share rows text rows among the groups from first: each gets what it
 * needs unfolded or an equal share, whichever is less, and folds its
 * units (several per dot row) to fit; small populations stay unfolded.
 */
void tui_raster_fit(struct tui_raster *r, size_t first, int rows,
    struct tui_raster_layout *l);
/*
 * Render the text row `row` of group g (dot rows row*4..row*4+3 under
 * fold) over cells columns ending at absolute bin head: out gets cells
 * wide characters. Returns the number of cells with a spike.
 */
int tui_raster_render_row(const struct tui_raster *r,
    const struct tui_glyphs *gl, size_t g, uint32_t fold, int row,
    int cells, wchar_t *out);

/* ---- the console's state (tui.c and the panes) ---- */

#define TUI_LOG_LINES 2000
#define TUI_SPARK 48
#define TUI_MAX_LINKS 64
#define TUI_RINGS 64		/* event rings polled beside the keyboard */

enum tui_focus {
	TUI_FOCUS_LINE, TUI_FOCUS_RASTER, TUI_FOCUS_SYNAPSES, TUI_FOCUS_LINKS,
	TUI_FOCUS_LOG, TUI_NFOCUS
};

/* Log line kinds, most severe first (colours). */
enum tui_log_kind {
	TUI_LOG_ERROR, TUI_LOG_WARNING, TUI_LOG_INFO, TUI_LOG_RESULT,
	TUI_LOG_COMMAND, TUI_LOG_RULE, TUI_LOG_LINK
};

/* Colour pairs. */
enum tui_pair {
	TUI_PAIR_GROUP0 = 1,	/* four raster group colours */
	TUI_PAIR_UP = 5, TUI_PAIR_DEGRADED, TUI_PAIR_DOWN,
	TUI_PAIR_TITLE, TUI_PAIR_TITLE_FOCUS, TUI_PAIR_STATUS, TUI_PAIR_BAR,
	TUI_PAIR_FLIGHT, TUI_PAIR_COMMAND, TUI_PAIR_RULE, TUI_PAIR_REC,
	TUI_PAIR_OVERLAY
};

/* One line of the log pane. */
struct tui_log_line {
	int64_t t_us;
	enum tui_log_kind kind;
	char *text;
};

/* A link's last known state, to log its changes. */
/* Where each pane sits (0 rows: collapsed). */
struct tui_layout {
	int raster_y, raster_x, raster_h, raster_w;
	int syn_y, syn_x, syn_h, syn_w;
	int link_y, link_x, link_h, link_w;
	int log_y, log_x, log_h, log_w;
	int status_y, line_y;
};

/* One synapse's rule pulses since the last summary line. */
struct tui_rule_sum {
	unsigned ltp, ltd;
	double g_first, g_last;		/* G before the first, after the last */
};

#define TUI_RULE_SUM_US 5000000

struct tui {
	struct session *s;
	struct cmdq *q;
	int group;
	/*
	 * The result of the command typed last, on the status line until a
	 * key is pressed (as tmux shows its messages), so rule traffic in
	 * the log cannot push it out of sight.
	 */
	char *said;
	int said_error;		/* it is an error */
	unsigned said_more;	/* lines after the first (in the log) */
	/*
	 * Rule pulses, summed per synapse into one log line every
	 * TUI_RULE_SUM_US instead of a line per pulse ('r' on the log pane
	 * shows every pulse instead).
	 */
	int rule_detail;
	struct tui_rule_sum *rule_sums;
	size_t nrule_sums;
	int64_t rule_sum_mono;
	struct tui_glyphs gl;
	const char *title;
	int rows, cols;
	struct tui_layout lay;

	/* raster */
	struct tui_raster raster;
	int64_t window_us;
	size_t first_group;

	/* synapses: G samples, TUI_SPARK per synapse, a ring */
	double *spark;
	size_t spark_syn;
	unsigned spark_head, spark_n;
	int64_t spark_next_us, spark_step_us;
	size_t sel_syn, syn_top;

	/* links */
	struct sb_link_health links[TUI_MAX_LINKS];
	unsigned char link_device[TUI_MAX_LINKS];	/* not the relay's */
	unsigned char link_site_row[TUI_MAX_LINKS];	/* another site */
	/* other sites' spikes, source to here, p99 ms (NaN: none lately) */
	double link_src_p99[TUI_MAX_LINKS];
	size_t nlinks;
	struct link_watch watch;	/* states logged */

	/* log */
	struct tui_log_line log[TUI_LOG_LINES];
	size_t log_head, log_n;
	size_t log_scroll;	/* lines up from the newest */

	/* event rate */
	uint64_t events;
	uint64_t rate_events;
	int64_t rate_mono_us;
	double rate;

	/* interaction */
	enum tui_focus focus;
	int frozen, help;
	char **matches;		/* completion candidates shown */
	int nmatches;
	int64_t ctrl_c_us;
};

/* tui.c */
void tui_log(struct tui *t, enum tui_log_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void tui_layout(struct tui_layout *l, int rows, int cols, size_t nsyn,
    size_t nlinks);

/* tui-draw.c: panes from the model, into windows */
void tui_draw_raster(struct tui *t, WINDOW *w, int h, int wd);
void tui_draw_synapses(struct tui *t, WINDOW *w, int h, int wd);
void tui_draw_links(struct tui *t, WINDOW *w, int h, int wd);
void tui_draw_log(struct tui *t, WINDOW *w, int h, int wd);
void tui_draw_status(struct tui *t, WINDOW *w, int wd);
void tui_draw_help(struct tui *t, int rows, int cols);
void tui_draw_matches(struct tui *t, int rows, int cols);
/* Sample every synapse's conductance into the sparkline rings. */
void tui_sample_synapses(struct tui *t, int64_t now_us);
/* A synapse's samples, oldest first, NAN where none yet. */
void tui_synapse_samples(const struct tui *t, size_t syn, double *out);

/* tui-prompt.c: the readline command line */
int tui_prompt_init(struct tui *t, char **cause);
void tui_prompt_free(struct tui *t);
void tui_prompt_feed(struct tui *t, const char *bytes, size_t n);
int tui_prompt_empty(void);
void tui_prompt_draw(struct tui *t, WINDOW *w, int wd,
    int *cursor_x);
void tui_prompt_set_site(struct tui *t);
void tui_prompt_clear_matches(struct tui *t);
/* The history file path (XDG state directory); malloc'd. */
char *tui_prompt_history_path(void);

/* A typed command's result line, for the status line (tui-prompt.c). */
void tui_said(struct tui *t, const char *line, int error);

#endif
