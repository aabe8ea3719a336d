/*
 * tui.c: the full-screen console's loop. One thread: poll the keyboard
 * (and captured stderr) with a short timeout, run commands and the engine,
 * then redraw at most 30 times a second. Keys are handled in a bounded
 * batch per pass, so a burst of input or of events never starves the
 * other; drawing never waits for anything but the terminal.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <readline/readline.h>

#include "cmd.h"
#include "engine.h"
#include "remote.h"
#include "termout.h"
#include "tui.h"
#include "xmalloc.h"

#define TUI_FRAME_US 33333		/* 30 frames a second at most */
#define TUI_TICK_MS 10			/* engine cadence when idle */
#define TUI_LINKS_US 250000		/* link health polling */
#define TUI_ESC_US 50000		/* wait for the rest of a sequence */
#define TUI_KEY_BUDGET 4096		/* input bytes handled per pass */
#define TUI_INPUT_MAX 65536

static const int64_t tui_windows_us[] = {
	1000000, 2000000, 5000000, 10000000, 20000000, 30000000, 60000000
};
#define TUI_NWINDOWS (sizeof tui_windows_us / sizeof tui_windows_us[0])

static volatile sig_atomic_t tui_resized;
static volatile sig_atomic_t tui_suspend_wanted;
/* the crash handler's way to the terminal: termout's own non-blocking
 * descriptor, or -1 (then standard output) */
static volatile int tui_crash_fd = -1;
static struct termios tui_saved_termios;
static int tui_have_termios;
static int tui_active;
/* curses draws through a pty of its own (termout.h), or on stdout */
static struct termout *tui_out;
static FILE *tui_draw;
static SCREEN *tui_scr;
/* the terminal took curses' output no more: since when (0: it takes it) */
static int64_t tui_held_since;
#define TUI_HELD_LOG_US 1000000	/* said in the log when longer */
#define TUI_STOP_OUTPUT_MS 3000	/* at quit, the terminal's time to take
				   curses' last output (a stalled one) */

/* SIGWINCH: relayout on the next pass. */
static void
tui_sigwinch(int sig)
{
	(void)sig;
	tui_resized = 1;
}

/* SIGTSTP (a job-control stop): leave the screen on the next pass. */
static void
tui_sigtstp(int sig)
{
	(void)sig;
	tui_suspend_wanted = 1;
}

/*
 * A crash: put the terminal back (async-signal-safe), then die. The modes
 * first, then the reset, on a descriptor that does not block (a stalled
 * terminal must not hold the crash).
 */
static void
tui_crash(int sig)
{
	if (tui_active) {
		ssize_t n;

		if (tui_have_termios)
			tcsetattr(STDIN_FILENO, TCSANOW, &tui_saved_termios);
		n = write(tui_crash_fd >= 0 ? tui_crash_fd : STDOUT_FILENO,
		    TERMOUT_RESET, sizeof TERMOUT_RESET - 1);
		(void)n;
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Session messages (plugins, engine, gaps) into the log. */
static void
tui_session_log(void *ctx, enum sb_log_level level, const char *msg)
{
	struct tui *t = ctx;

	if (level == SB_LOG_DEBUG && !t->s->verbose)
		return;
	tui_log(t, level == SB_LOG_ERROR ? TUI_LOG_ERROR :
	    level == SB_LOG_WARNING ? TUI_LOG_WARNING : TUI_LOG_INFO, "%s",
	    msg);
}

static void tui_rule_count(struct tui *, const struct sb_event *);

/* The engine's view hook: every recorded event. */
static void
tui_view(void *ctx, const struct sb_event *ev)
{
	struct tui *t = ctx;
	struct session *s = t->s;

	t->events++;
	if (ev->kind == SB_EV_SPIKE) {
		tui_raster_spike(&t->raster, ev->site, ev->pop, ev->index,
		    ev->t_us);
		return;
	}
	if (ev->kind != SB_EV_CONDUCTANCE || ev->index >= s->nsynapses)
		return;
	if ((ev->aux == COND_RULE_LTP || ev->aux == COND_RULE_LTD) &&
	    t->rule_detail)
		tui_log(t, TUI_LOG_RULE, "%s: %s %+.2f V %u us: G %.3f -> "
		    "%.3f uS", s->synapses[ev->index]->name,
		    cond_event_name(ev->aux), ev->amplitude, ev->width_us,
		    ev->g_before, ev->g_after);
	else if (ev->aux == COND_RULE_LTP || ev->aux == COND_RULE_LTD)
		tui_rule_count(t, ev);
	s->dirty = 1;
}

/* Count a rule pulse for its synapse's next summary line. */
static void
tui_rule_count(struct tui *t, const struct sb_event *ev)
{
	struct tui_rule_sum *r;

	if (ev->index >= t->nrule_sums) {
		t->rule_sums = xreallocarray(t->rule_sums, ev->index + 1,
		    sizeof *t->rule_sums);
		memset(t->rule_sums + t->nrule_sums, 0, (ev->index + 1 -
		    t->nrule_sums) * sizeof *t->rule_sums);
		t->nrule_sums = ev->index + 1;
	}
	r = &t->rule_sums[ev->index];
	if (r->ltp + r->ltd == 0)
		r->g_first = ev->g_before;
	r->g_last = ev->g_after;
	if (ev->aux == COND_RULE_LTP)
		r->ltp++;
	else
		r->ltd++;
}

/* Every TUI_RULE_SUM_US: one line per synapse whose rule pulsed. */
static void
tui_rule_summaries(struct tui *t, int64_t mono)
{
	struct session *s = t->s;
	struct tui_rule_sum *r;
	double secs;
	size_t i;

	if (t->rule_sum_mono == 0)
		t->rule_sum_mono = mono;
	if (mono - t->rule_sum_mono < TUI_RULE_SUM_US)
		return;
	secs = (mono - t->rule_sum_mono) / 1e6;
	t->rule_sum_mono = mono;
	for (i = 0; i < t->nrule_sums && i < s->nsynapses; i++) {
		r = &t->rule_sums[i];
		if (r->ltp + r->ltd == 0)
			continue;
		tui_log(t, TUI_LOG_RULE, "%s: rule %u ltp, %u ltd in %.0f s "
		    "(%.1f/s): G %.3f -> %.3f uS", s->synapses[i]->name,
		    r->ltp, r->ltd, secs, (r->ltp + r->ltd) / secs,
		    r->g_first, r->g_last);
		memset(r, 0, sizeof *r);
	}
}

/* The console's windows. */
struct tui_windows {
	WINDOW *raster, *syn, *links, *log, *status, *line;
};

/* Free a window if it exists. */
static void
tui_delwin(WINDOW **w)
{
	if (*w != NULL)
		delwin(*w);
	*w = NULL;
}

/* A window, or NULL when it has no room. */
static WINDOW *
tui_newwin(int h, int w, int y, int x)
{
	if (h <= 0 || w <= 0)
		return NULL;
	return newwin(h, w, y, x);
}

/* Recreate windows for the current size. */
static void
tui_relayout(struct tui *t, struct tui_windows *wins)
{
	struct tui_layout *l = &t->lay;

	tui_delwin(&wins->raster);
	tui_delwin(&wins->syn);
	tui_delwin(&wins->links);
	tui_delwin(&wins->log);
	tui_delwin(&wins->status);
	tui_delwin(&wins->line);
	tui_layout(l, t->rows, t->cols, t->s->nsynapses, t->nlinks);
	wins->raster = tui_newwin(l->raster_h, l->raster_w, l->raster_y,
	    l->raster_x);
	wins->syn = tui_newwin(l->syn_h, l->syn_w, l->syn_y, l->syn_x);
	wins->links = tui_newwin(l->link_h, l->link_w, l->link_y, l->link_x);
	wins->log = tui_newwin(l->log_h, l->log_w, l->log_y, l->log_x);
	if (t->rows >= 2)
		wins->status = tui_newwin(1, t->cols, l->status_y, 0);
	wins->line = tui_newwin(1, t->cols, l->line_y, 0);
	clearok(curscr, TRUE);
	t->s->dirty = 1;
}

/* Follow the terminal's new size. */
static void
tui_resize(struct tui *t, struct tui_windows *wins)
{
	struct winsize ws;

	tui_resized = 0;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 &&
	    ws.ws_col > 0) {
		if (tui_out != NULL)
			termout_resize(tui_out, ws.ws_row, ws.ws_col);
		resizeterm(ws.ws_row, ws.ws_col);
	}
	t->rows = LINES;
	t->cols = COLS;
	tui_relayout(t, wins);
}

/* Draw one frame: panes (unless frozen), status, line, overlays. */
static void
tui_frame(struct tui *t, struct tui_windows *wins)
{
	int cx = 0;

	if (!t->frozen || t->s->dirty > 1) {
		if (wins->raster != NULL)
			tui_draw_raster(t, wins->raster, t->lay.raster_h,
			    t->lay.raster_w);
		if (wins->syn != NULL)
			tui_draw_synapses(t, wins->syn, t->lay.syn_h,
			    t->lay.syn_w);
		if (wins->links != NULL)
			tui_draw_links(t, wins->links, t->lay.link_h,
			    t->lay.link_w);
	}
	if (wins->log != NULL)
		tui_draw_log(t, wins->log, t->lay.log_h, t->lay.log_w);
	if (wins->status != NULL)
		tui_draw_status(t, wins->status, t->cols);
	tui_prompt_draw(t, wins->line, t->cols, &cx);
	if (wins->raster != NULL)
		wnoutrefresh(wins->raster);
	if (wins->syn != NULL)
		wnoutrefresh(wins->syn);
	if (wins->links != NULL)
		wnoutrefresh(wins->links);
	if (wins->log != NULL)
		wnoutrefresh(wins->log);
	if (wins->status != NULL)
		wnoutrefresh(wins->status);
	tui_draw_matches(t, t->rows, t->cols);
	if (t->help)
		tui_draw_help(t, t->rows, t->cols);
	wmove(wins->line, 0, cx < t->cols ? cx : t->cols - 1);
	wnoutrefresh(wins->line);
	curs_set(t->focus == TUI_FOCUS_LINE && !t->help ? 1 : 0);
	doupdate();
	t->s->dirty = 0;
}

/* Poll every link's health (relay and devices); log state changes. */
static void
tui_poll_links(struct tui *t)
{
	static const char *names[] = { "down", "degraded", "up" };
	struct session_link_row rows[TUI_MAX_LINKS];
	struct session *s = t->s;
	struct latency_stat st;
	size_t i, k, n;

	n = session_links(s, rows, TUI_MAX_LINKS);
	/* one site's link is not another's: name the site */
	for (k = 0; k < n; k++) {
		t->links[k] = rows[k].h;
		t->link_device[k] = (unsigned char)rows[k].device;
		t->link_site_row[k] = (unsigned char)rows[k].site_row;
		t->link_src_p99[k] = rows[k].tr != NULL && !rows[k].site_row &&
		    latency_recent(rows[k].tr->lat_arrival, clock_mono_us(),
		    &st) == 0 ? st.p99_ms : NAN;
		snprintf(t->links[k].name, sizeof t->links[k].name, "%s/%s",
		    rows[k].site->name, rows[k].h.name);
	}
	if (n != t->nlinks)
		s->dirty = 2;	/* the layout depends on the count */
	t->nlinks = n;
	for (i = 0; i < n; i++) {
		struct sb_link_health *l = &t->links[i];
		int state = (int)l->state, old;

		l->name[sizeof l->name - 1] = '\0';
		if (state < 0 || state > 2 || (old = link_watch_swap(&t->watch,
		    l->name, state, NULL)) == state || old == -2)
			continue;
		tui_log(t, state == SB_LINK_UP ? TUI_LOG_LINK :
		    state == SB_LINK_DEGRADED ? TUI_LOG_WARNING : TUI_LOG_ERROR,
		    "link %s: %s%s%s", l->name, old >= 0 ? names[old] : "",
		    old >= 0 ? " -> " : "", names[state]);
	}
}

/* The next key in buf: its length, or 0 while it is incomplete. */
static size_t
tui_key_length(const unsigned char *buf, size_t n)
{
	size_t i, len;

	if (n == 0)
		return 0;
	if (buf[0] == 0x1b) {
		if (n < 2)
			return 0;
		if (buf[1] == '[') {
			if (n >= 3 && buf[2] == '[')	/* linux console F1 */
				return n >= 4 ? 4 : 0;
			for (i = 2; i < n; i++)
				if (buf[i] >= 0x40 && buf[i] <= 0x7e)
					return i + 1;
			return n > 32 ? 1 : 0;
		}
		if (buf[1] == 'O')
			return n >= 3 ? 3 : 0;
		len = tui_key_length(buf + 1, n - 1);
		return len == 0 ? 0 : len + 1;
	}
	if (buf[0] >= 0xc0) {
		len = buf[0] >= 0xf0 ? 4 : buf[0] >= 0xe0 ? 3 : 2;
		return n >= len ? len : 0;
	}
	return 1;
}

/* Is key k exactly s? */
static int
tui_key_is(const unsigned char *k, size_t n, const char *s)
{
	return n == strlen(s) && memcmp(k, s, n) == 0;
}

/* Zoom the raster's window one step in (-1) or out (+1). */
static void
tui_zoom(struct tui *t, int dir)
{
	size_t i;

	for (i = 0; i < TUI_NWINDOWS; i++)
		if (tui_windows_us[i] >= t->window_us)
			break;
	if (i == TUI_NWINDOWS)
		i = TUI_NWINDOWS - 1;
	if (dir < 0 && i > 0)
		i--;
	else if (dir > 0 && i + 1 < TUI_NWINDOWS &&
	    tui_windows_us[i] <= t->window_us)
		i++;
	t->window_us = tui_windows_us[i];
	t->s->dirty = 2;
}

/* A result line. */
static void
tui_client_out(void *ctx, const char *line)
{
	tui_log(ctx, TUI_LOG_RESULT, "%s", line);
}

/* A result line of a command given by a key (F12): shown as typed. */
static void
tui_key_out(void *ctx, const char *line)
{
	tui_log(ctx, TUI_LOG_RESULT, "%s", line);
	tui_said(ctx, line, 0);
}

/* An error line of a command given by a key. */
static void
tui_key_err(void *ctx, const char *line)
{
	tui_log(ctx, TUI_LOG_ERROR, "%s", line);
	tui_said(ctx, line, 1);
}

/* An error line. */
static void
tui_client_err(void *ctx, const char *line)
{
	tui_log(ctx, TUI_LOG_ERROR, "%s", line);
}

static const struct cmd_client tui_client_template = {
	.out = tui_client_out,
	.err = tui_client_err,
};

/* Queue a command as if typed (logged, with results in the log). */
static void
tui_command(struct tui *t, const char *line)
{
	struct cmd_client c = tui_client_template;

	c.ctx = t;
	c.out = tui_key_out;
	c.err = tui_key_err;
	tui_log(t, TUI_LOG_COMMAND, "%s", line);
	free(t->said);
	t->said = NULL;
	t->said_more = 0;
	cmdq_append(t->q, line, "tui", &c, t->group, 0);
}


/* Keys common to the panes and an empty line; 1 if handled. */
static int
tui_key_view(struct tui *t, const unsigned char *k, size_t n)
{
	if (tui_key_is(k, n, "+") || tui_key_is(k, n, "=")) {
		tui_zoom(t, -1);
		return 1;
	}
	if (tui_key_is(k, n, "-") || tui_key_is(k, n, "_")) {
		tui_zoom(t, 1);
		return 1;
	}
	if (tui_key_is(k, n, " ")) {
		t->frozen = !t->frozen;
		t->s->dirty = 2;
		return 1;
	}
	if (tui_key_is(k, n, "?")) {
		t->help = 1;
		t->s->dirty = 1;
		return 1;
	}
	return 0;
}

/* Move focus to the next (dir 1) or previous pane. */
static void
tui_focus_next(struct tui *t, int dir)
{
	t->focus = (enum tui_focus)(((int)t->focus + dir + TUI_NFOCUS) %
	    TUI_NFOCUS);
	t->s->dirty = 2;
}

/* Keys with focus on a pane; 1 if handled (else the line gets it). */
static int
tui_key_pane(struct tui *t, const unsigned char *k, size_t n)
{
	struct session *s = t->s;
	int up = tui_key_is(k, n, "\033[A") || tui_key_is(k, n, "\033OA") ||
	    tui_key_is(k, n, "k");
	int down = tui_key_is(k, n, "\033[B") ||
	    tui_key_is(k, n, "\033OB") || tui_key_is(k, n, "j");
	char *line;

	if (tui_key_is(k, n, "\t")) {
		tui_focus_next(t, 1);
		return 1;
	}
	if (tui_key_is(k, n, "\033[Z")) {
		tui_focus_next(t, -1);
		return 1;
	}
	if (tui_key_is(k, n, "\033") || tui_key_is(k, n, "\r")) {
		t->focus = TUI_FOCUS_LINE;
		s->dirty = 2;
		return 1;
	}
	if (tui_key_view(t, k, n))
		return 1;
	if (t->focus == TUI_FOCUS_SYNAPSES && s->nsynapses > 0) {
		if (up || down) {
			if (up && t->sel_syn > 0)
				t->sel_syn--;
			if (down && t->sel_syn + 1 < s->nsynapses)
				t->sel_syn++;
			s->dirty = 2;
			return 1;
		}
		if (tui_key_is(k, n, "p") || tui_key_is(k, n, "d")) {
			if (t->sel_syn >= s->nsynapses)
				t->sel_syn = 0;
			xasprintf(&line, "%s %s", k[0] == 'p' ? "potentiate" :
			    "depress", s->synapses[t->sel_syn]->name);
			tui_command(t, line);
			free(line);
			return 1;
		}
	}
	if (t->focus == TUI_FOCUS_LOG && tui_key_is(k, n, "r")) {
		/* rule pulses: a summary per synapse, or every one */
		t->rule_detail = !t->rule_detail;
		tui_log(t, TUI_LOG_INFO, "rule pulses: %s", t->rule_detail ?
		    "every pulse (r: a summary per synapse every 5 s)" :
		    "a summary per synapse every 5 s (r: every pulse)");
		return 1;
	}
	if (t->focus == TUI_FOCUS_LOG && (up || down)) {
		if (up && t->log_scroll + 1 < t->log_n)
			t->log_scroll++;
		if (down && t->log_scroll > 0)
			t->log_scroll--;
		s->dirty = 1;
		return 1;
	}
	if (up || down)
		return 1;
	return 0;
}

/* Handle one key. */
static void
tui_key(struct tui *t, const unsigned char *k, size_t n)
{
	struct session *s = t->s;
	int64_t now = clock_mono_us();
	int page;

	if (t->said != NULL && !tui_key_is(k, n, "\r")) {
		/* a key puts the status line back, as in tmux */
		free(t->said);
		t->said = NULL;
		s->dirty = 1;
	}
	if (t->help) {
		t->help = 0;
		s->dirty = 2;
		clearok(curscr, TRUE);
		return;
	}
	if (tui_key_is(k, n, "\033OP") || tui_key_is(k, n, "\033[11~") ||
	    tui_key_is(k, n, "\033[[A")) {
		t->help = 1;
		s->dirty = 1;
		return;
	}
	/* F12: the stop button, whatever has the focus */
	if (tui_key_is(k, n, "\033[24~")) {
		tui_command(t, s->stopped ? "resume" : "stop");
		return;
	}
	if (tui_key_is(k, n, "\014")) {
		clearok(curscr, TRUE);
		s->dirty = 2;
		return;
	}
	page = tui_key_is(k, n, "\033[5~") ? -1 :
	    tui_key_is(k, n, "\033[6~") ? 1 : 0;
	if (page != 0) {
		if (t->focus == TUI_FOCUS_LOG) {
			size_t step = t->lay.log_h > 2 ?
			    (size_t)t->lay.log_h - 2 : 1;

			if (page < 0)
				t->log_scroll += step;
			else
				t->log_scroll = t->log_scroll > step ?
				    t->log_scroll - step : 0;
		} else if (page < 0 && t->first_group > 0)
			t->first_group--;
		else if (page > 0 && t->first_group + 1 < t->raster.ngroups)
			t->first_group++;
		s->dirty = 2;
		return;
	}
	if (t->focus != TUI_FOCUS_LINE) {
		if (tui_key_pane(t, k, n))
			return;
		/* typing on a pane goes to the command line */
		t->focus = TUI_FOCUS_LINE;
		s->dirty = 2;
	}
	if (tui_key_is(k, n, "\003")) {
		if (!tui_prompt_empty()) {
			rl_callback_sigcleanup();
			rl_replace_line("", 0);
			rl_point = 0;
			s->dirty = 1;
		} else if (now - t->ctrl_c_us < 2000000)
			s->quit = 1;
		else {
			t->ctrl_c_us = now;
			tui_log(t, TUI_LOG_INFO, "press Ctrl-C again to leave "
			    "(or type quit)");
		}
		return;
	}
	if (tui_prompt_empty()) {
		if (tui_key_is(k, n, "\t")) {
			tui_focus_next(t, 1);
			return;
		}
		if (tui_key_is(k, n, "\033[Z")) {
			tui_focus_next(t, -1);
			return;
		}
		if (tui_key_is(k, n, "\004")) {
			tui_log(t, TUI_LOG_INFO, "type quit to leave");
			return;
		}
		if (tui_key_view(t, k, n))
			return;
	}
	tui_prompt_feed(t, (const char *)k, n);
}

/* Keyboard input waiting to be handled. */
struct tui_input {
	unsigned char buf[TUI_INPUT_MAX];
	size_t len;
	int64_t partial_since;	/* when an incomplete key arrived */
};

/* Read what the terminal has (without blocking). */
static int
tui_read_input(struct tui_input *in)
{
	ssize_t n;

	if (in->len == sizeof in->buf)
		return 0;
	n = read(STDIN_FILENO, in->buf + in->len, sizeof in->buf - in->len);
	if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
		return -1;	/* the terminal went away */
	if (n > 0)
		in->len += (size_t)n;
	return 0;
}

/* Handle up to a budget of complete keys. */
static void
tui_handle_input(struct tui *t, struct tui_input *in)
{
	size_t off = 0, len;
	int64_t now = clock_mono_us();

	while (off < in->len && off < TUI_KEY_BUDGET && !t->s->quit) {
		len = tui_key_length(in->buf + off, in->len - off);
		if (len == 0) {
			/* incomplete: wait a little for the rest */
			if (in->partial_since == 0)
				in->partial_since = now;
			if (now - in->partial_since < TUI_ESC_US)
				break;
			len = in->buf[off] == 0x1b ? 1 : in->len - off;
		}
		in->partial_since = 0;
		tui_key(t, in->buf + off, len);
		off += len;
	}
	memmove(in->buf, in->buf + off, in->len - off);
	in->len -= off;
}

/* Captured stderr: lines into the log. */
struct tui_stderr {
	int rd, saved;
	char buf[4096];
	size_t len;
};

/* Send stderr into a pipe the log reads (plugins may print there). */
static void
tui_stderr_capture(struct tui_stderr *e)
{
	int fds[2];

	e->rd = e->saved = -1;
	e->len = 0;
	if (pipe(fds) != 0)
		return;
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	fcntl(fds[1], F_SETFL, O_NONBLOCK);
	fcntl(fds[0], F_SETFD, FD_CLOEXEC);
	e->saved = dup(STDERR_FILENO);
	if (e->saved < 0 || dup2(fds[1], STDERR_FILENO) < 0) {
		close(fds[0]);
		if (e->saved >= 0)
			close(e->saved);
		e->saved = -1;
	} else
		e->rd = fds[0];
	close(fds[1]);
}

/* Lines written to stderr, into the log. */
static void
tui_stderr_read(struct tui *t, struct tui_stderr *e, int flush)
{
	char *nl;
	ssize_t n;

	if (e->rd < 0)
		return;
	while ((n = read(e->rd, e->buf + e->len, sizeof e->buf - 1 -
	    e->len)) > 0) {
		e->len += (size_t)n;
		e->buf[e->len] = '\0';
		while ((nl = memchr(e->buf, '\n', e->len)) != NULL) {
			*nl = '\0';
			tui_log(t, TUI_LOG_WARNING, "%s", e->buf);
			e->len -= (size_t)(nl + 1 - e->buf);
			memmove(e->buf, nl + 1, e->len);
		}
		if (e->len == sizeof e->buf - 1) {
			tui_log(t, TUI_LOG_WARNING, "%s", e->buf);
			e->len = 0;
		}
	}
	if (flush && e->len > 0) {
		e->buf[e->len] = '\0';
		tui_log(t, TUI_LOG_WARNING, "%s", e->buf);
		e->len = 0;
	}
}

/* Put stderr back. */
static void
tui_stderr_restore(struct tui_stderr *e)
{
	if (e->saved >= 0) {
		dup2(e->saved, STDERR_FILENO);
		close(e->saved);
	}
	if (e->rd >= 0)
		close(e->rd);
	e->rd = e->saved = -1;
}

/* Colours, unless NO_COLOR or the terminal has none. */
static void
tui_colours(struct tui *t)
{
	const char *no = getenv("NO_COLOR");

	t->gl.colour = (no == NULL || *no == '\0') && has_colors();
	if (!t->gl.colour)
		return;
	start_color();
	use_default_colors();
	init_pair(TUI_PAIR_GROUP0, COLOR_CYAN, -1);
	init_pair(TUI_PAIR_GROUP0 + 1, COLOR_GREEN, -1);
	init_pair(TUI_PAIR_GROUP0 + 2, COLOR_YELLOW, -1);
	init_pair(TUI_PAIR_GROUP0 + 3, COLOR_MAGENTA, -1);
	init_pair(TUI_PAIR_UP, COLOR_GREEN, -1);
	init_pair(TUI_PAIR_DEGRADED, COLOR_YELLOW, -1);
	init_pair(TUI_PAIR_DOWN, COLOR_RED, -1);
	init_pair(TUI_PAIR_TITLE, COLOR_WHITE, COLOR_BLUE);
	init_pair(TUI_PAIR_TITLE_FOCUS, COLOR_BLACK, COLOR_CYAN);
	init_pair(TUI_PAIR_STATUS, COLOR_BLACK, COLOR_WHITE);
	init_pair(TUI_PAIR_BAR, COLOR_GREEN, -1);
	init_pair(TUI_PAIR_FLIGHT, COLOR_MAGENTA, -1);
	init_pair(TUI_PAIR_COMMAND, COLOR_CYAN, -1);
	init_pair(TUI_PAIR_RULE, COLOR_MAGENTA, -1);
	init_pair(TUI_PAIR_REC, COLOR_RED, COLOR_WHITE);
	init_pair(TUI_PAIR_OVERLAY, COLOR_WHITE, COLOR_BLACK);
}

/*
 * The terminal's modes while curses draws through its pty: curses sets
 * those of the pty, so this one carries bytes as they are, both ways (as
 * curses' raw(), noecho() and nonl() would, and no output processing: the
 * pty's is the one curses knows).
 */
static void
tui_term_raw(void)
{
	struct termios tio = tui_saved_termios;

	tio.c_iflag &= ~(tcflag_t)(IXON | BRKINT | PARMRK | ICRNL | INLCR |
	    IGNCR);
	tio.c_lflag &= ~(tcflag_t)(ICANON | ISIG | IEXTEN | ECHO | ECHONL);
	tio.c_oflag &= ~(tcflag_t)OPOST;
	tio.c_cc[VMIN] = 1;
	tio.c_cc[VTIME] = 0;
	tcsetattr(STDIN_FILENO, TCSANOW, &tio);
}

/* Start curses on the terminal; -1 with *cause. */
static int
tui_screen_start(struct tui *t, char **cause)
{
	const char *term = getenv("TERM");
	char *why = NULL;
	SCREEN *scr;

	if (tcgetattr(STDIN_FILENO, &tui_saved_termios) == 0)
		tui_have_termios = 1;
	/*
	 * Through a pty of its own, so that a terminal that stops reading
	 * does not stop the session; without one (no pty to be had), on the
	 * terminal itself, as a plain curses program.
	 */
	if (tui_have_termios &&
	    termout_start(&tui_out, STDOUT_FILENO, &tui_draw, &why) != 0) {
		tui_log(t, TUI_LOG_WARNING, "drawing on the terminal directly "
		    "(%s): a terminal that stops taking output will hold up "
		    "the session", why);
		free(why);
	} else if (tui_out != NULL && termout_blocking(tui_out))
		tui_log(t, TUI_LOG_WARNING, "the terminal could not be opened "
		    "afresh (not this user's, or no name for it): it is "
		    "written with blocking writes, and a terminal that stops "
		    "taking output holds up the frame being drawn");
	tui_crash_fd = tui_out != NULL ? termout_term_fd(tui_out) : -1;
	/*
	 * A stop of our own (before newterm, which would otherwise install
	 * curses' own: it puts back the pty's modes, not the terminal's).
	 */
	{
		struct sigaction sa;

		memset(&sa, 0, sizeof sa);
		sa.sa_handler = tui_sigtstp;
		sa.sa_flags = SA_RESTART;	/* (a plugin's thread may get it) */
		sigemptyset(&sa.sa_mask);
		sigaction(SIGTSTP, &sa, NULL);
	}
	scr = newterm(NULL, tui_draw != NULL ? tui_draw : stdout, stdin);
	if (scr == NULL) {
		xasprintf(cause, "cannot use the terminal type '%s' (set TERM "
		    "to one terminfo knows, such as xterm-256color, or use "
		    "--headless)", term != NULL ? term : "");
		if (tui_out != NULL)
			termout_stop(tui_out, tui_draw, TUI_STOP_OUTPUT_MS);
		tui_out = NULL;
		tui_draw = NULL;
		return -1;
	}
	set_term(scr);
	/* a terminal that cannot move its cursor cannot hold the screen */
	{
		char *cup = tigetstr((char *)"cup");

		if (cup == NULL || cup == (char *)-1) {
			endwin();
			delscreen(scr);
			if (tui_out != NULL)
				termout_stop(tui_out, tui_draw,
				    TUI_STOP_OUTPUT_MS);
			tui_out = NULL;
			tui_draw = NULL;
			xasprintf(cause, "the terminal type '%s' cannot move its "
			    "cursor, so the full-screen console cannot draw on "
			    "it: set TERM to one that can (such as "
			    "xterm-256color), or use --headless", term != NULL ?
			    term : "");
			return -1;
		}
	}
	tui_scr = scr;
	tui_active = 1;
	raw();
	noecho();
	nonl();
	keypad(stdscr, FALSE);	/* the bytes go to readline as they are */
	intrflush(stdscr, FALSE);
	if (tui_out != NULL)
		tui_term_raw();
	tui_colours(t);
	t->rows = LINES;
	t->cols = COLS;
	return 0;
}

/*
 * Leave curses; the terminal is as it was. A terminal that does not take
 * curses' last output (a stalled link) gets TUI_STOP_OUTPUT_MS, then is
 * left as it is: nothing is shown on it after that can be seen anyway.
 * Returns the bytes it did not take (0: it took everything).
 */
static size_t
tui_screen_stop(void)
{
	size_t left = 0;

	if (!tui_active)
		return 0;
	curs_set(1);
	endwin();
	tui_active = 0;
	if (tui_out != NULL) {
		delscreen(tui_scr);
		tui_scr = NULL;
		tui_crash_fd = -1;
		left = termout_stop(tui_out, tui_draw, TUI_STOP_OUTPUT_MS);
		tui_out = NULL;
		tui_draw = NULL;
	}
	if (tui_have_termios)
		tcsetattr(STDIN_FILENO, TCSANOW, &tui_saved_termios);
	signal(SIGTSTP, SIG_DFL);
	return left;
}

/*
 * A job-control stop (SIGTSTP: kill -TSTP, or a shell's suspend; the keys
 * send no signal in raw mode): leave the screen, give the terminal back
 * as it was, stop; on SIGCONT take it again and redraw everything. The
 * session does not run while stopped (as any stopped process); the
 * engine catches up from its clock.
 */
static void
tui_suspend(void)
{
	struct sigaction dfl, mine;

	tui_suspend_wanted = 0;
	endwin();
	if (tui_out != NULL) {
		/*
		 * curses' last words reach the terminal first (or 0.5 s):
		 * the thread that passes them on stops with the process
		 */
		(void)termout_drain(tui_out, 500);
		if (tui_have_termios)
			tcsetattr(STDIN_FILENO, TCSANOW, &tui_saved_termios);
	}
	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	sigaction(SIGTSTP, &dfl, &mine);
	raise(SIGTSTP);		/* stopped here until SIGCONT */
	sigaction(SIGTSTP, &mine, NULL);
	if (tui_out != NULL)
		tui_term_raw();
	tui_resized = 1;	/* its size may have changed meanwhile */
}

/*
 * The terminal took not even curses' last words: what is written on it
 * from here (the engine's last warnings, on stderr) would hold the exit.
 * Standard output and error get a description of their own that does
 * not block (what it does not take is lost: the terminal shows nothing
 * anyway), or /dev/null.
 */
static void
tui_unblock_stalled(void)
{
	static const int fds[] = { STDOUT_FILENO, STDERR_FILENO };
	size_t i;
	int fd;

	for (i = 0; i < sizeof fds / sizeof fds[0]; i++) {
		if (!isatty(fds[i]))
			continue;
		if ((fd = termout_reopen(fds[i])) < 0)
			fd = open("/dev/null", O_WRONLY);
		if (fd >= 0) {
			dup2(fd, fds[i]);
			close(fd);
		}
	}
}

/* Session title: the session file's name without directory. */
static const char *
tui_title(const struct tui_options *o)
{
	const char *slash;

	if (o->title != NULL)
		return o->title;
	if (o->session_file == NULL)
		return "synbridge";
	slash = strrchr(o->session_file, '/');
	return slash != NULL ? slash + 1 : o->session_file;
}

/* One pass of the engine: real time, or faster in fast mode. */
static void
tui_engine(struct tui *t)
{
	struct session *s = t->s;

	if (s->fast) {
		int64_t now = clock_now(&s->clock);

		engine_run_fast(s, now + 20 * s->step_us);
	} else
		engine_tick(s);
}

/* Event rate, once a second. */
static void
tui_rate(struct tui *t, int64_t mono)
{
	if (t->rate_mono_us == 0) {
		t->rate_mono_us = mono;
		t->rate_events = t->events;
		return;
	}
	if (mono - t->rate_mono_us < 1000000)
		return;
	t->rate = (double)(t->events - t->rate_events) * 1e6 /
	    (double)(mono - t->rate_mono_us);
	t->rate_mono_us = mono;
	t->rate_events = t->events;
	t->s->dirty = 1;
}

/* Free the console's model. */
static void
tui_free(struct tui *t)
{
	size_t i;

	tui_raster_free(&t->raster);
	free(t->said);
	free(t->rule_sums);
	free(t->spark);
	for (i = 0; i < TUI_LOG_LINES; i++)
		free(t->log[i].text);
	if (t->q != NULL) {
		cmdq_session = NULL;
		cmdq_free(t->q);
	}
}

/* The console. */
int
tui_run(struct session *s, const struct tui_options *o)
{
	static struct tui_input in;
	struct tui *t;
	struct tui_windows wins = { 0 };
	struct tui_stderr err;
	struct cmd_client client = tui_client_template;
	struct sigaction sa, old_winch;
	struct pollfd pfd[2 + TUI_RINGS];
	int64_t end_us = INT64_MAX, end_mono = INT64_MAX, mono, last_frame = 0;
	int64_t next_links = 0;
	int64_t wait_us, frame_us = TUI_FRAME_US;
	char *cause = NULL;
	int status = 0, timeout, nfd, stalled;
	const char *codeset;

	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fprintf(stderr, "synbridge: the console needs a terminal on "
		    "stdin and stdout; use --headless for scripts and pipes\n");
		return 2;
	}
	setlocale(LC_ALL, "");
	/*
	 * The screen follows the locale for text (UTF-8, braille), but the
	 * command language and every number written (screen, logs, CSV) do
	 * not: under a decimal-comma locale "wait 2.5" and "G 159.759 uS"
	 * stay as they are, as in headless mode and in session files.
	 */
	setlocale(LC_NUMERIC, "C");
	codeset = nl_langinfo(CODESET);

	t = xcalloc(1, sizeof *t);
	t->s = s;
	t->q = cmdq_create(s);
	/* other sites' requests run in this console's queue */
	cmdq_session = t->q;
	t->group = cmdq_new_group(t->q);
	t->gl.utf8 = codeset != NULL && strcmp(codeset, "UTF-8") == 0;
	t->title = tui_title(o);
	t->window_us = 5000000;
	t->spark_step_us = 500000;
	t->focus = TUI_FOCUS_LINE;
	tui_raster_init(&t->raster);
	client.ctx = t;

	if (o->duration_s >= 0)
		end_us = clock_now(&s->clock) + llround(o->duration_s * 1e6);
	/* in real time --duration is this console's running time */
	if (o->duration_s >= 0 && !s->fast)
		end_mono = clock_mono_us() + llround(o->duration_s * 1e6);
	if (o->session_file != NULL && cmdq_append_file(t->q, o->session_file,
	    &client, cmdq_new_group(t->q), 1, &cause) != 0) {
		fprintf(stderr, "synbridge: %s\n", cause);
		free(cause);
		tui_free(t);
		free(t);
		return 1;
	}

	s->log_fn = tui_session_log;
	s->log_ctx = t;
	s->view_fn = tui_view;
	s->view_ctx = t;
	if (tui_screen_start(t, &cause) != 0) {
		fprintf(stderr, "synbridge: %s\n", cause);
		free(cause);
		s->log_fn = NULL;
		s->view_fn = NULL;
		tui_free(t);
		free(t);
		return 1;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = tui_sigwinch;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGWINCH, &sa, &old_winch);
	signal(SIGSEGV, tui_crash);
	signal(SIGBUS, tui_crash);
	signal(SIGFPE, tui_crash);
	signal(SIGABRT, tui_crash);
	tui_stderr_capture(&err);
	if (tui_prompt_init(t, &cause) != 0) {
		tui_log(t, TUI_LOG_ERROR, "%s", cause);
		free(cause);
	}
	tui_log(t, TUI_LOG_INFO, "synbridge %s: type help for commands, F1 "
	    "or ? for keys, quit to leave", PACKAGE_VERSION);
	tui_relayout(t, &wins);

	while (!s->quit) {
		mono = clock_mono_us();
		if (tui_suspend_wanted)
			tui_suspend();
		if (tui_resized)
			tui_resize(t, &wins);
		{
			/* synapses or links came or went: relayout */
			struct tui_layout l;

			tui_layout(&l, t->rows, t->cols, s->nsynapses,
			    t->nlinks);
			if (memcmp(&l, &t->lay, sizeof l) != 0)
				tui_relayout(t, &wins);
		}
		tui_handle_input(t, &in);
		tui_stderr_read(t, &err, 0);
		cmdq_run(t->q);
		if (s->quit)
			break;
		tui_engine(t);
		if (end_mono != INT64_MAX)
			end_us = clock_from_mono(&s->clock, end_mono);
		if (clock_now(&s->clock) >= end_us)
			break;
		tui_sample_synapses(t, clock_now(&s->clock));
		if (mono >= next_links) {
			tui_poll_links(t);
			next_links = mono + TUI_LINKS_US;
		}
		tui_rate(t, mono);
		tui_rule_summaries(t, mono);
		if (tui_out != NULL && termout_held(tui_out)) {
			/* the terminal takes nothing: no frame until it does */
			if (tui_held_since == 0)
				tui_held_since = mono;
		} else if (tui_held_since != 0) {
			if (mono - tui_held_since >= TUI_HELD_LOG_US)
				tui_log(t, TUI_LOG_WARNING, "the terminal was "
				    "too far behind to draw for %.1f s (it took "
				    "output slowly or not at all): the screen "
				    "was not drawn meanwhile; the session ran on",
				    (double)(mono - tui_held_since) / 1e6);
			tui_held_since = 0;
		}
		if ((s->dirty || !t->frozen) && tui_held_since == 0 &&
		    mono - last_frame >= frame_us) {
			tui_frame(t, &wins);
			last_frame = mono;
			/*
			 * A slow terminal (a busy SSH link) blocks the write:
			 * space frames out so that output never takes more
			 * than a fifth of the loop's time.
			 */
			frame_us = 5 * (clock_mono_us() - mono);
			if (frame_us < TUI_FRAME_US)
				frame_us = TUI_FRAME_US;
			if (frame_us > 1000000)
				frame_us = 1000000;
		}
		/*
		 * Sleep until input, the next frame (if one is to be drawn)
		 * or the next tick. A terminal that is behind is looked at
		 * again a frame's time later.
		 */
		wait_us = engine_wait_us(s, TUI_TICK_MS * 1000);
		if (tui_held_since != 0) {
			if (TUI_FRAME_US < wait_us)
				wait_us = TUI_FRAME_US;
		} else if ((s->dirty || !t->frozen) &&
		    last_frame + frame_us - mono < wait_us)
			wait_us = last_frame + frame_us - mono;
		if (in.len > 0)
			wait_us = in.partial_since != 0 ? 5000 : 0;
		if (s->fast || wait_us < 0)
			wait_us = 0;
		timeout = (int)((wait_us + 999) / 1000);
		pfd[0].fd = STDIN_FILENO;
		pfd[0].events = POLLIN;
		pfd[0].revents = 0;
		pfd[1].fd = err.rd;
		pfd[1].events = POLLIN;
		pfd[1].revents = 0;
		pfd[1].fd = err.rd;	/* -1 is ignored by poll() */
		nfd = 2 + (int)engine_poll_fds(s, pfd + 2, TUI_RINGS);
		if (poll(pfd, (nfds_t)nfd, timeout) > 0 &&
		    (pfd[0].revents & (POLLIN | POLLHUP | POLLERR))) {
			if (tui_read_input(&in) != 0) {
				/* the terminal is gone (SSH dropped) */
				s->quit = 1;
			}
		}
	}

	engine_tick(s);
	/* commands of other sites not run yet: answered while links last */
	remote_quit(s);
	if (engine_flush_links(s, NULL, ENGINE_QUIT_FLUSH_US, "quit") != 0)
		status = 1;
	/* from here a signal stops waiting for a disk that takes nothing */
	engine_give_up_on(s);
	engine_flush(s);
	engine_record_wait(s);	/* recordings stopped earlier */
	if (s->flush_error != NULL || s->record_incomplete != NULL)
		status = 1;	/* a recording is incomplete: said in the log */
	tui_prompt_free(t);
	tui_delwin(&wins.raster);
	tui_delwin(&wins.syn);
	tui_delwin(&wins.links);
	tui_delwin(&wins.log);
	tui_delwin(&wins.status);
	tui_delwin(&wins.line);
	stalled = tui_screen_stop() > 0;
	tui_stderr_read(t, &err, 1);
	tui_stderr_restore(&err);
	if (stalled)
		tui_unblock_stalled();
	sigaction(SIGWINCH, &old_winch, NULL);
	signal(SIGSEGV, SIG_DFL);
	signal(SIGBUS, SIG_DFL);
	signal(SIGFPE, SIG_DFL);
	signal(SIGABRT, SIG_DFL);
	s->log_fn = NULL;
	s->log_ctx = NULL;
	s->view_fn = NULL;
	s->view_ctx = NULL;
	{
		/* errors seen in the console stay visible after it closes */
		size_t i, idx, shown = 0;

		for (i = 0; i < t->log_n; i++) {
			idx = (t->log_head + TUI_LOG_LINES - t->log_n + i) %
			    TUI_LOG_LINES;
			if (t->log[idx].kind == TUI_LOG_ERROR)
				shown++;
		}
		/* (a terminal that took nothing would hold the exit) */
		if (stalled)
			shown = 0;
		if (shown > 0)
			fprintf(stderr, "synbridge: %zu error%s during the "
			    "session; the last:\n", shown, shown == 1 ? "" :
			    "s");
		for (i = 0; i < t->log_n && shown > 0; i++) {
			idx = (t->log_head + TUI_LOG_LINES - t->log_n + i) %
			    TUI_LOG_LINES;
			if (t->log[idx].kind == TUI_LOG_ERROR &&
			    --shown < 3)
				fprintf(stderr, "  %s\n", t->log[idx].text);
		}
	}
	/* as headless: a failed command (session file or typed) shows */
	if (status == 0 && t->q != NULL && cmdq_failures(t->q) > 0)
		status = 1;
	tui_free(t);
	free(t);
	return status;
}
