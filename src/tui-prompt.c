/*
 * tui-prompt.c: the command line. GNU readline runs through its callback
 * interface and never touches the terminal: keys reach it through
 * rl_getc_function from a buffer the main loop fills, it asks for a
 * redisplay and the console draws rl_line_buffer itself; completion
 * candidates are shown in the console. History persists in the XDG state
 * directory.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>

#include <readline/readline.h>
#include <readline/history.h>

#include "cmd.h"
#include "synapse.h"
#include "tui.h"
#include "xmalloc.h"

#define TUI_PROMPT_HISTORY_LINES 2000

/* Readline's callbacks carry no context: the one console. */
static struct tui *tui_prompt_tui;
static const char *tui_prompt_bytes;
static size_t tui_prompt_len, tui_prompt_off;
static FILE *tui_prompt_null;
static char *tui_prompt_history;
/* Candidates for the completion being computed. */
static char **tui_prompt_cands;
static size_t tui_prompt_ncands, tui_prompt_capcands;

/* Next input byte for readline. */
static int
tui_prompt_getc(FILE *f)
{
	(void)f;
	if (tui_prompt_off < tui_prompt_len)
		return (unsigned char)tui_prompt_bytes[tui_prompt_off++];
	return EOF;
}

/* More input already here? */
static int
tui_prompt_available(void)
{
	return tui_prompt_off < tui_prompt_len;
}

/* Readline wants the line redrawn: the main loop draws it. */
static void
tui_prompt_redisplay(void)
{
	if (tui_prompt_tui != NULL)
		tui_prompt_tui->s->dirty = 1;
}

/* The terminal belongs to curses. */
static void
tui_prompt_prep(int meta)
{
	(void)meta;
}

/* Nothing to restore either. */
static void
tui_prompt_deprep(void)
{
}

/* Keep a typed command's result for the status line: its first line,
 * and how many more there are; an error outranks results. */
void
tui_said(struct tui *t, const char *line, int error)
{
	if (t->said != NULL && !(error && !t->said_error)) {
		t->said_more++;
		return;
	}
	if (t->said != NULL)
		t->said_more++;
	free(t->said);
	t->said = xstrdup(line);
	t->said_error = error;
	t->s->dirty = 1;
}

/* A command result line, into the log and the status line. */
static void
tui_prompt_out(void *ctx, const char *line)
{
	tui_log(ctx, TUI_LOG_RESULT, "%s", line);
	tui_said(ctx, line, 0);
}

/* A command error line, into the log and the status line. */
static void
tui_prompt_err(void *ctx, const char *line)
{
	tui_log(ctx, TUI_LOG_ERROR, "%s", line);
	tui_said(ctx, line, 1);
}

/*
 * The history file keeps a "#SECONDS" line before each entry (readline's
 * timestamps), so an entry that holds a newline (a quoted mark typed with
 * Ctrl-V Ctrl-J) is read back whole rather than as two commands.
 */
static void
tui_prompt_stamp(void)
{
	char stamp[32];

	snprintf(stamp, sizeof stamp, "#%lld", (long long)time(NULL));
	add_history_time(stamp);
}

/*
 * Read the history file; one written before entries were stamped is read
 * line by line as it was meant and rewritten stamped, once.
 */
static void
tui_prompt_read_history(const char *path)
{
	HIST_ENTRY **list;
	FILE *f = fopen(path, "r");
	int c, i;

	history_write_timestamps = 1;
	if (f == NULL)
		return;
	c = fgetc(f);
	fclose(f);
	if (c == EOF || c == '#') {
		history_multiline_entries = 1;
		read_history(path);
		return;
	}
	history_multiline_entries = 0;
	read_history(path);
	list = history_list();
	for (i = 0; list != NULL && list[i] != NULL; i++)
		if (list[i]->timestamp == NULL || *list[i]->timestamp == '\0') {
			free(list[i]->timestamp);
			list[i]->timestamp = strdup("#0");
		}
	history_multiline_entries = 1;
	write_history(path);
}

/* Append one line to the history file (created 0600 when missing). */
static void
tui_prompt_save(const char *line)
{
	int fd;

	if (tui_prompt_history == NULL)
		return;
	fd = open(tui_prompt_history, O_WRONLY | O_CREAT | O_APPEND, 0600);
	if (fd < 0)
		return;
	close(fd);
	(void)line;
	append_history(1, tui_prompt_history);
}

/* A complete line: queue it; results come back into the log. */
static void
tui_prompt_line(char *line)
{
	struct tui *t = tui_prompt_tui;
	struct cmd_client client = {
		.out = tui_prompt_out,
		.err = tui_prompt_err,
		.ctx = t,
	};
	HIST_ENTRY *last;
	char *p;
	size_t n;

	if (line == NULL)
		return;
	for (p = line; *p == ' ' || *p == '\t'; p++)
		;
	n = strlen(p);
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		p[--n] = '\0';
	if (*p != '\0') {
		last = history_length > 0 ? history_get(history_base +
		    history_length - 1) : NULL;
		if (last == NULL || strcmp(last->line, p) != 0) {
			add_history(p);
			tui_prompt_stamp();
			tui_prompt_save(p);
		}
		tui_log(t, TUI_LOG_COMMAND, "%s", p);
		/* the next result replaces the last one */
		free(t->said);
		t->said = NULL;
		t->said_more = 0;
		cmdq_append(t->q, p, "tui", &client, t->group, 0);
		t->log_scroll = 0;
	}
	free(line);
	tui_prompt_clear_matches(t);
	t->s->dirty = 1;
}

/* Offer a candidate (copied). */
static void
tui_prompt_offer(const char *c)
{
	size_t i;

	for (i = 0; i < tui_prompt_ncands; i++)
		if (strcmp(tui_prompt_cands[i], c) == 0)
			return;
	if (tui_prompt_ncands == tui_prompt_capcands) {
		tui_prompt_capcands = tui_prompt_capcands ?
		    tui_prompt_capcands * 2 : 64;
		tui_prompt_cands = xreallocarray(tui_prompt_cands,
		    tui_prompt_capcands, sizeof *tui_prompt_cands);
	}
	tui_prompt_cands[tui_prompt_ncands++] = xstrdup(c);
}

/* Forget the candidates. */
static void
tui_prompt_forget(void)
{
	size_t i;

	for (i = 0; i < tui_prompt_ncands; i++)
		free(tui_prompt_cands[i]);
	tui_prompt_ncands = 0;
}

/* Readline's generator over the prepared candidates. */
static char *
tui_prompt_generate(const char *text, int state)
{
	static size_t next, len;

	if (state == 0) {
		next = 0;
		len = strlen(text);
	}
	while (next < tui_prompt_ncands) {
		const char *c = tui_prompt_cands[next++];

		if (strncmp(c, text, len) == 0)
			return xstrdup(c);
	}
	return NULL;
}

/* Command names, aliases and plugin commands. */
static void
tui_prompt_offer_commands(struct session *s)
{
	const struct cmd_entry *const *e;
	size_t i, j;

	for (e = cmd_table; *e != NULL; e++) {
		tui_prompt_offer((*e)->name);
		if ((*e)->alias != NULL)
			tui_prompt_offer((*e)->alias);
	}
	for (i = 0; i < s->nsites; i++)
		for (j = 0; j < s->sites[i]->ncommands; j++)
			tui_prompt_offer(s->sites[i]->commands[j]->ops.name);
}

/* Synapse names and "all". */
static void
tui_prompt_offer_synapses(struct session *s)
{
	size_t i;

	for (i = 0; i < s->nsynapses; i++)
		tui_prompt_offer(s->synapses[i]->name);
	tui_prompt_offer("all");
}

/* Units: "site/pop:" and, once a population is typed, its indices. */
static void
tui_prompt_offer_units(struct session *s, const char *text)
{
	char buf[256];
	size_t i, j, len;
	uint32_t u;

	for (i = 0; i < s->nsites; i++) {
		for (j = 0; j < s->sites[i]->npops; j++) {
			struct population *p = s->sites[i]->pops[j];

			if (p == NULL)
				continue;
			len = (size_t)snprintf(buf, sizeof buf, "%s/%s:",
			    s->sites[i]->name, p->name);
			if (strncmp(text, buf, len) != 0) {
				tui_prompt_offer(buf);
				continue;
			}
			for (u = 0; u < p->ops.units; u++) {
				snprintf(buf + len, sizeof buf - len, "%u", u);
				if (strncmp(buf, text, strlen(text)) == 0)
					tui_prompt_offer(buf);
			}
		}
	}
}

/* Plugin files in the search path, and loaded plugins. */
static void
tui_prompt_offer_plugins(struct session *s, int loaded)
{
	struct dirent *de;
	char name[256], *path;
	size_t i, n;
	DIR *d;

	for (i = 0; i < s->nsites; i++)
		for (n = 0; n < s->sites[i]->nplugins; n++)
			if (loaded)
				tui_prompt_offer(s->sites[i]->plugins[n]->name);
	if (loaded)
		return;
	for (i = 0; i < s->nplugin_dirs; i++) {
		d = opendir(s->plugin_dirs[i]);
		if (d == NULL)
			continue;
		while ((de = readdir(d)) != NULL) {
			n = strlen(de->d_name);
			if (de->d_name[0] == '.' || n >= sizeof name)
				continue;
			if (n > 3 && strcmp(de->d_name + n - 3, ".so") == 0) {
				memcpy(name, de->d_name, n - 3);
				name[n - 3] = '\0';
				tui_prompt_offer(name);
				continue;
			}
			/* the build tree: plugins/NAME/.libs/NAME.so */
			xasprintf(&path, "%s/%s/.libs/%s.so",
			    s->plugin_dirs[i], de->d_name, de->d_name);
			if (access(path, R_OK) == 0)
				tui_prompt_offer(de->d_name);
			free(path);
		}
		closedir(d);
	}
}

/* Site names. */
static void
tui_prompt_offer_sites(struct session *s)
{
	size_t i;

	for (i = 0; i < s->nsites; i++)
		tui_prompt_offer(s->sites[i]->name);
}

/* Which word of the line starts at start, and the command's name. */
static int
tui_prompt_word(int start, char *cmd, size_t cmdsz)
{
	int i = 0, words = 0;
	size_t n;

	cmd[0] = '\0';
	while (i < start) {
		while (i < start && (rl_line_buffer[i] == ' ' ||
		    rl_line_buffer[i] == '\t'))
			i++;
		if (i >= start)
			break;
		n = 0;
		while (i < start && rl_line_buffer[i] != ' ' &&
		    rl_line_buffer[i] != '\t') {
			if (words == 0 && n + 1 < cmdsz)
				cmd[n++] = rl_line_buffer[i];
			i++;
		}
		if (words == 0)
			cmd[n] = '\0';
		words++;
	}
	return words;
}

/* Tab: complete by the word's place and the command. */
static char **
tui_prompt_complete(const char *text, int start, int end)
{
	struct session *s = tui_prompt_tui->s;
	const struct cmd_entry *e;
	char cmd[64], *cause = NULL;
	const char *name = "";
	int word, files = 0;
	size_t i;

	(void)end;
	rl_attempted_completion_over = 1;
	tui_prompt_forget();
	word = tui_prompt_word(start, cmd, sizeof cmd);
	if (word > 0) {
		e = cmd_find(cmd, &cause);
		free(cause);
		name = e != NULL ? e->name : cmd;
	}
	if (word == 0 || strcmp(name, "help") == 0)
		tui_prompt_offer_commands(s);
	else if (text[0] == '-')
		return NULL;
	else if (strcmp(name, "potentiate") == 0 ||
	    strcmp(name, "depress") == 0 || strcmp(name, "read") == 0 ||
	    strcmp(name, "synapses") == 0 || (strcmp(name, "rule") == 0 &&
	    word == 1))
		tui_prompt_offer_synapses(s);
	else if (strcmp(name, "rule") == 0) {
		tui_prompt_offer_synapses(s);
		tui_prompt_offer("rate");
		tui_prompt_offer("stdp");
		tui_prompt_offer("off");
	} else if (strcmp(name, "stim") == 0 || (strcmp(name, "synapse") ==
	    0 && (word == 2 || word == 3)))
		tui_prompt_offer_units(s, text);
	else if (strcmp(name, "load") == 0 && word == 1)
		tui_prompt_offer_plugins(s, 0);
	else if (strcmp(name, "unload") == 0)
		tui_prompt_offer_plugins(s, 1);
	else if (strcmp(name, "site") == 0)
		tui_prompt_offer_sites(s);
	else if (strcmp(name, "record") == 0 && word == 1) {
		tui_prompt_offer("start");
		tui_prompt_offer("stop");
	} else if (strcmp(name, "export") == 0 && word == 1) {
		tui_prompt_offer("spikes");
		tui_prompt_offer("synapses");
		tui_prompt_offer("links");
		tui_prompt_offer("commands");
	} else if (strcmp(name, "source") == 0 || strcmp(name, "record") ==
	    0 || strcmp(name, "export") == 0)
		files = 1;
	else if (text[0] == '/' || text[0] == '.' || text[0] == '~')
		files = 1;
	else {
		tui_prompt_offer_synapses(s);
		tui_prompt_offer_units(s, text);
	}
	if (files) {
		rl_attempted_completion_over = 0;
		return rl_completion_matches(text,
		    rl_filename_completion_function);
	}
	/* "site/pop:" waits for an index: no space after it */
	for (i = 0; i < tui_prompt_ncands; i++) {
		size_t n = strlen(tui_prompt_cands[i]);

		if (strncmp(tui_prompt_cands[i], text, strlen(text)) == 0 &&
		    n > 0 && tui_prompt_cands[i][n - 1] == ':')
			rl_completion_suppress_append = 1;
	}
	return rl_completion_matches(text, tui_prompt_generate);
}

/* Several candidates: show them in the console, not on the terminal. */
static void
tui_prompt_show_matches(char **matches, int n, int max_length)
{
	struct tui *t = tui_prompt_tui;
	int i;

	(void)max_length;
	tui_prompt_clear_matches(t);
	t->matches = xcalloc((size_t)n, sizeof *t->matches);
	for (i = 0; i < n; i++) {
		const char *m = matches[i + 1], *slash;

		/* files: show the last component, as readline does */
		slash = rl_filename_completion_desired ? strrchr(m, '/') :
		    NULL;
		if (slash != NULL && slash[1] != '\0')
			m = slash + 1;
		t->matches[i] = xstrdup(m);
	}
	t->nmatches = n;
	t->s->dirty = 1;
}

/* Hide the candidates. */
void
tui_prompt_clear_matches(struct tui *t)
{
	int i;

	for (i = 0; i < t->nmatches; i++)
		free(t->matches[i]);
	free(t->matches);
	t->matches = NULL;
	t->nmatches = 0;
	t->s->dirty = 1;
}

/* $XDG_STATE_HOME/synbridge/history or ~/.local/state/synbridge/history. */
char *
tui_prompt_history_path(void)
{
	const char *state = getenv("XDG_STATE_HOME"), *home;
	char *path;

	if (state != NULL && *state == '/')
		xasprintf(&path, "%s/synbridge/history", state);
	else {
		home = getenv("HOME");
		if (home == NULL || *home == '\0')
			return NULL;
		xasprintf(&path, "%s/.local/state/synbridge/history", home);
	}
	return path;
}

/* mkdir -p of the directory holding path. */
static int
tui_prompt_mkdirs(const char *path)
{
	char *copy = xstrdup(path), *p;
	int rc = 0;

	for (p = copy + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, 0700) != 0 && errno != EEXIST)
			rc = -1;
		*p = '/';
	}
	free(copy);
	return rc;
}

/* Set readline up for the console; reads ~/.inputrc and the history. */
int
tui_prompt_init(struct tui *t, char **cause)
{
	tui_prompt_tui = t;
	tui_prompt_null = fopen("/dev/null", "w");
	if (tui_prompt_null == NULL) {
		xasprintf(cause, "cannot open /dev/null: %s", strerror(errno));
		return -1;
	}
	rl_readline_name = "synbridge";
	rl_instream = stdin;
	rl_outstream = tui_prompt_null;
	rl_catch_signals = 0;
	rl_catch_sigwinch = 0;
	rl_change_environment = 0;
	rl_getc_function = tui_prompt_getc;
	rl_input_available_hook = tui_prompt_available;
	rl_redisplay_function = tui_prompt_redisplay;
	rl_prep_term_function = tui_prompt_prep;
	rl_deprep_term_function = tui_prompt_deprep;
	rl_attempted_completion_function = tui_prompt_complete;
	rl_completion_display_matches_hook = tui_prompt_show_matches;
	rl_callback_handler_install("", tui_prompt_line);

	using_history();
	stifle_history(TUI_PROMPT_HISTORY_LINES);
	tui_prompt_history = tui_prompt_history_path();
	if (tui_prompt_history != NULL) {
		if (tui_prompt_mkdirs(tui_prompt_history) != 0) {
			tui_log(t, TUI_LOG_WARNING, "history: cannot create "
			    "the directory of %s: %s (history is not kept)",
			    tui_prompt_history, strerror(errno));
			free(tui_prompt_history);
			tui_prompt_history = NULL;
		} else {
			tui_prompt_read_history(tui_prompt_history);
			/* Up starts from the newest entry, not the oldest */
			using_history();
		}
	}
	return 0;
}

/* Save the history, leave readline. */
void
tui_prompt_free(struct tui *t)
{
	size_t i;

	rl_callback_handler_remove();
	if (tui_prompt_history != NULL) {
		/* lines, not entries: a stamp line before each entry */
		history_truncate_file(tui_prompt_history,
		    2 * TUI_PROMPT_HISTORY_LINES);
		free(tui_prompt_history);
		tui_prompt_history = NULL;
	}
	clear_history();
	tui_prompt_forget();
	free(tui_prompt_cands);
	tui_prompt_cands = NULL;
	tui_prompt_capcands = 0;
	for (i = 0; i < (size_t)t->nmatches; i++)
		free(t->matches[i]);
	free(t->matches);
	t->matches = NULL;
	t->nmatches = 0;
	if (tui_prompt_null != NULL)
		fclose(tui_prompt_null);
	tui_prompt_null = NULL;
	tui_prompt_tui = NULL;
}

/* Give readline whole keys (complete UTF-8 and escape sequences). */
void
tui_prompt_feed(struct tui *t, const char *bytes, size_t n)
{
	tui_prompt_bytes = bytes;
	tui_prompt_len = n;
	tui_prompt_off = 0;
	if (n != 1 || bytes[0] != '\t')
		tui_prompt_clear_matches(t);
	while (tui_prompt_off < tui_prompt_len)
		rl_callback_read_char();
	tui_prompt_bytes = NULL;
	tui_prompt_len = tui_prompt_off = 0;
	t->s->dirty = 1;
}

/* Is the line empty (and readline in no multi-key state)? */
int
tui_prompt_empty(void)
{
	if (rl_end != 0)
		return 0;
	if (RL_ISSTATE(RL_STATE_ISEARCH | RL_STATE_NSEARCH |
	    RL_STATE_NUMERICARG | RL_STATE_MULTIKEY | RL_STATE_METANEXT |
	    RL_STATE_VIMOTION | RL_STATE_CHARSEARCH))
		return 0;
	return 1;
}

/* The prompt and the line, scrolled so the cursor shows. */
void
tui_prompt_draw(struct tui *t, WINDOW *w, int wd, int *cursor_x)
{
	wchar_t prompt[80], line[1024], save;
	char pbuf[80];
	int pw, cx, avail, start, i, width;
	size_t point;
	const char *site = t->s->current != NULL ? t->s->current->name :
	    "synbridge";

	werase(w);
	if (RL_ISSTATE(RL_STATE_ISEARCH | RL_STATE_NSEARCH))
		snprintf(pbuf, sizeof pbuf, "%s", rl_display_prompt != NULL ?
		    rl_display_prompt : "(search)");
	else
		snprintf(pbuf, sizeof pbuf, "%s%s ", site, t->gl.utf8 ?
		    "›" : ">");
	tui_glyph_widen(prompt, 80, pbuf);
	pw = tui_glyph_width(prompt);
	if (pw > wd / 2) {
		prompt[wd / 2] = L'\0';
		pw = tui_glyph_width(prompt);
	}
	if (t->focus == TUI_FOCUS_LINE)
		wattron(w, A_BOLD);
	else
		wattron(w, A_DIM);
	mvwaddwstr(w, 0, 0, prompt);
	wattrset(w, A_NORMAL);
	tui_glyph_widen(line, 1024, rl_line_buffer != NULL ? rl_line_buffer :
	    "");
	/* the cursor's column: the width of the text before rl_point */
	point = 0;
	{
		char *copy = xstrndup(rl_line_buffer != NULL ?
		    rl_line_buffer : "", (size_t)rl_point);
		wchar_t before[1024];

		tui_glyph_widen(before, 1024, copy);
		free(copy);
		point = wcslen(before);
	}
	if (point > wcslen(line))
		point = wcslen(line);
	save = line[point];
	line[point] = L'\0';
	cx = tui_glyph_width(line);
	line[point] = save;
	avail = wd - pw - 1;
	if (avail < 1)
		avail = 1;
	start = 0;
	width = cx;
	/* drop characters from the left until the cursor fits */
	for (i = 0; width >= avail && line[i] != L'\0'; i++) {
		int c = wcwidth(line[i]);

		width -= c < 0 ? 1 : c;
		start = i + 1;
	}
	*cursor_x = pw + width;
	/* as many characters as fit before the last column */
	for (i = start, width = 0; line[i] != L'\0'; i++) {
		int c = wcwidth(line[i]);

		if (width + (c < 0 ? 1 : c) > avail)
			break;
		width += c < 0 ? 1 : c;
	}
	mvwaddnwstr(w, 0, pw, line + start, i - start);
	wclrtoeol(w);
}

/* The prompt shows the current site: nothing for readline to know. */
void
tui_prompt_set_site(struct tui *t)
{
	t->s->dirty = 1;
}
