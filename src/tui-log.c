/*
 * tui-log.c: the log pane's lines: command results, rule pulses, link
 * changes, gaps and errors, in a bounded ring (the oldest go first).
 */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>

#include "tui.h"
#include "xmalloc.h"

/* Add a line to the log pane. */
void
tui_log(struct tui *t, enum tui_log_kind kind, const char *fmt, ...)
{
	struct tui_log_line *line;
	va_list ap;
	char *text, *p;

	va_start(ap, fmt);
	xvasprintf(&text, fmt, ap);
	va_end(ap);
	for (p = text; *p != '\0'; p++)
		if (*p == '\n' || *p == '\t' || *p == '\r')
			*p = ' ';
	line = &t->log[t->log_head];
	free(line->text);
	line->text = text;
	line->kind = kind;
	line->t_us = clock_now(&t->s->clock);
	t->log_head = (t->log_head + 1) % TUI_LOG_LINES;
	if (t->log_n < TUI_LOG_LINES)
		t->log_n++;
	if (t->log_scroll > 0 && t->log_scroll + 1 < t->log_n)
		t->log_scroll++;	/* keep the view still while scrolled */
	t->s->dirty = 1;
}
