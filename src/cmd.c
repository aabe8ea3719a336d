/* cmd.c: splitting command lines, finding commands, parsing flags. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "xmalloc.h"

/* Append one word to argv. */
static void
cmd_push_word(int *argc, char ***argv, const char *w, size_t len)
{
	*argv = xreallocarray(*argv, (size_t)*argc + 2, sizeof **argv);
	(*argv)[(*argc)++] = xstrndup(w, len);
	(*argv)[*argc] = NULL;
}

/* A growing word. */
struct cmd_word {
	char *buf;
	size_t len, cap;
};

/* Append bytes to a word. */
static void
cmd_word_add(struct cmd_word *w, const char *p, size_t n)
{
	if (w->len + n + 1 > w->cap) {
		w->cap = (w->len + n + 1) * 2;
		w->buf = xrealloc(w->buf, w->cap);
	}
	memcpy(w->buf + w->len, p, n);
	w->len += n;
}

/*
 * Expand ${NAME} from the environment at *pp (which points at '$');
 * ${NAME:-DEFAULT} gives DEFAULT (literal text up to the first '}') when
 * NAME is not set or empty, as in sh.
 */
static int
cmd_expand(const char **pp, struct cmd_word *w, char **cause)
{
	const char *p = *pp + 2, *end = strchr(p, '}'), *q, *value;
	const char *def = NULL, *name_end;
	char *name;

	if (end == NULL) {
		xasprintf(cause, "unterminated ${ (write ${NAME})");
		return -1;
	}
	for (q = p; q < end; q++) {
		if (q[0] == ':' && q[1] == '-') {
			def = q + 2;
			break;
		}
		if (!(isalnum((unsigned char)*q) || *q == '_')) {
			xasprintf(cause, "bad variable name in ${%.*s} (use "
			    "letters, digits and _; ${NAME:-DEFAULT} for a "
			    "default)", (int)(end - p), p);
			return -1;
		}
	}
	name_end = def != NULL ? def - 2 : end;
	if (name_end == p) {
		xasprintf(cause, "empty variable name ${%.*s}", (int)(end - p),
		    p);
		return -1;
	}
	name = xstrndup(p, (size_t)(name_end - p));
	value = getenv(name);
	if (def != NULL && (value == NULL || *value == '\0')) {
		free(name);
		cmd_word_add(w, def, (size_t)(end - def));
		*pp = end + 1;
		return 0;
	}
	if (value == NULL) {
		xasprintf(cause, "${%s} is not set (export %s=... before "
		    "starting synbridge)", name, name);
		free(name);
		return -1;
	}
	free(name);
	cmd_word_add(w, value, strlen(value));
	*pp = end + 1;
	return 0;
}

/*
 * Split a line into words: 'single' (literal), "double" (with \ escapes
 * and ${NAME}), ${NAME} or ${NAME:-DEFAULT} from the environment,
 * # comment.
 */
int
cmd_split(const char *line, int *argc, char ***argv, char **cause)
{
	const char *p = line;
	struct cmd_word w = { NULL, 0, 0 };
	int in_word, quoted;
	char q, c;

	*argc = 0;
	*argv = xcalloc(1, sizeof **argv);
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (*p == '\0' || *p == '#')
			break;
		w.len = 0;
		in_word = 1;
		quoted = 0;
		while (in_word && *p != '\0') {
			switch (*p) {
			case ' ':
			case '\t':
			case '\r':
			case '\n':
				in_word = 0;
				break;
			case '\'':
			case '"':
				quoted = 1;
				q = *p++;
				while (*p != q) {
					if (*p == '\0') {
						xasprintf(cause, "unterminated "
						    "%s quote",
						    q == '"' ? "double" :
						    "single");
						goto fail;
					}
					if (q == '"' && *p == '$' &&
					    p[1] == '{') {
						if (cmd_expand(&p, &w,
						    cause) != 0)
							goto fail;
						continue;
					}
					if (q == '"' && *p == '\\' &&
					    p[1] != '\0') {
						p++;
						switch (*p) {
						case 'n':
							c = '\n';
							break;
						case 't':
							c = '\t';
							break;
						case 'r':
							c = '\r';
							break;
						default:
							c = *p;
						}
						cmd_word_add(&w, &c, 1);
						p++;
						continue;
					}
					cmd_word_add(&w, p++, 1);
				}
				p++;
				break;
			case '\\':
				if (p[1] == '\0') {
					xasprintf(cause, "trailing backslash");
					goto fail;
				}
				cmd_word_add(&w, p + 1, 1);
				p += 2;
				break;
			case '$':
				if (p[1] == '{') {
					if (cmd_expand(&p, &w, cause) != 0)
						goto fail;
					break;
				}
				/* FALLTHROUGH */
			default:
				cmd_word_add(&w, p++, 1);
			}
		}
		/* an unquoted ${NAME} that is empty makes no word, as in sh */
		if (w.len > 0 || quoted)
			cmd_push_word(argc, argv, w.buf ? w.buf : "", w.len);
	}
	free(w.buf);
	return 0;
fail:
	free(w.buf);
	cmd_free_argv(*argc, *argv);
	*argc = 0;
	*argv = NULL;
	return -1;
}

/* Free words from cmd_split. */
void
cmd_free_argv(int argc, char **argv)
{
	int i;

	if (argv == NULL)
		return;
	for (i = 0; i < argc; i++)
		free(argv[i]);
	free(argv);
}

/* Find a command by name, alias or unique prefix. */
const struct cmd_entry *
cmd_find(const char *name, char **cause)
{
	const struct cmd_entry *const *e, *found = NULL;
	size_t len = strlen(name);
	char *list = NULL, *next;
	int n = 0;

	for (e = cmd_table; *e != NULL; e++) {
		if (strcmp((*e)->name, name) == 0 ||
		    ((*e)->alias != NULL && strcmp((*e)->alias, name) == 0))
			return *e;
	}
	for (e = cmd_table; *e != NULL; e++) {
		if (len == 0 || strncmp((*e)->name, name, len) != 0)
			continue;
		found = *e;
		n++;
		xasprintf(&next, "%s%s%s", list ? list : "", list ? ", " : "",
		    (*e)->name);
		free(list);
		list = next;
	}
	if (n == 1) {
		free(list);
		return found;
	}
	if (n > 1)
		xasprintf(cause, "ambiguous command: %s, could be: %s", name,
		    list);
	else
		xasprintf(cause, "unknown command: %s (try 'help')", name);
	free(list);
	return NULL;
}

/* Does a word look like a negative number (an argument, not a flag)? */
static int
args_is_number(const char *w)
{
	return w[0] == '-' && (isdigit((unsigned char)w[1]) ||
	    (w[1] == '.' && isdigit((unsigned char)w[2])));
}

/* Record one flag. */
static void
args_add_flag(struct args *a, char flag, const char *value)
{
	int i;

	for (i = 0; i < a->nflags; i++) {
		if (a->flags[i].flag == flag) {
			free(a->flags[i].value);
			a->flags[i].value = value ? xstrdup(value) : NULL;
			return;
		}
	}
	a->flags = xreallocarray(a->flags, (size_t)a->nflags + 1,
	    sizeof *a->flags);
	a->flags[a->nflags].flag = flag;
	a->flags[a->nflags].value = value ? xstrdup(value) : NULL;
	a->nflags++;
}

/* Parse argv (argv[0] is the command) per the entry's template. */
int
args_parse(const struct cmd_entry *e, int argc, char **argv, struct args *a,
    char **cause)
{
	const struct cmd_long_option *lo;
	const char *t, *w, *value;
	int i, j, options = 1;
	size_t nlen;

	memset(a, 0, sizeof *a);
	a->argv = xcalloc((size_t)argc + 1, sizeof *a->argv);
	for (i = 1; i < argc; i++) {
		w = argv[i];
		if (!options || w[0] != '-' || w[1] == '\0' ||
		    args_is_number(w)) {
			a->argv[a->argc++] = xstrdup(w);
			/* "+": options end at the first argument (at SITE CMD) */
			if (e->template[0] == '+')
				options = 0;
			continue;
		}
		if (strcmp(w, "--") == 0) {
			options = 0;
			continue;
		}
		if (w[1] == '-') {
			/* --name or --name=value */
			const char *eq = strchr(w + 2, '=');

			nlen = eq ? (size_t)(eq - (w + 2)) : strlen(w + 2);
			for (lo = e->longs; lo != NULL && lo->name != NULL;
			    lo++) {
				if (strlen(lo->name) == nlen &&
				    strncmp(lo->name, w + 2, nlen) == 0)
					break;
			}
			if (lo == NULL || lo->name == NULL) {
				xasprintf(cause, "unknown option %s (usage: "
				    "%s %s)", w, e->name, e->usage);
				goto fail;
			}
			t = strchr(e->template, lo->flag);
			if (t != NULL && t[1] == ':') {
				if (eq != NULL)
					value = eq + 1;
				else if (i + 1 < argc)
					value = argv[++i];
				else {
					xasprintf(cause, "option --%s needs a "
					    "value (usage: %s %s)", lo->name,
					    e->name, e->usage);
					goto fail;
				}
			} else
				value = NULL;
			args_add_flag(a, lo->flag, value);
			continue;
		}
		for (j = 1; w[j] != '\0'; j++) {
			t = strchr(e->template, w[j]);
			if (t == NULL || w[j] == ':' || w[j] == '+') {
				xasprintf(cause, "unknown flag -%c (usage: %s "
				    "%s)", w[j], e->name, e->usage);
				goto fail;
			}
			if (t[1] != ':') {
				args_add_flag(a, w[j], NULL);
				continue;
			}
			if (w[j + 1] != '\0')
				value = w + j + 1;
			else if (i + 1 < argc)
				value = argv[++i];
			else {
				xasprintf(cause, "flag -%c needs a value "
				    "(usage: %s %s)", w[j], e->name, e->usage);
				goto fail;
			}
			args_add_flag(a, w[j], value);
			break;
		}
	}
	if (a->argc < e->lower || (e->upper >= 0 && a->argc > e->upper)) {
		xasprintf(cause, "%s arguments (usage: %s %s)",
		    a->argc < e->lower ? "too few" : "too many", e->name,
		    e->usage);
		goto fail;
	}
	return 0;
fail:
	args_free(a);
	return -1;
}

/* Free parsed arguments. */
void
args_free(struct args *a)
{
	int i;

	for (i = 0; i < a->argc; i++)
		free(a->argv[i]);
	free(a->argv);
	for (i = 0; i < a->nflags; i++)
		free(a->flags[i].value);
	free(a->flags);
	memset(a, 0, sizeof *a);
}

/* Was flag given? */
int
args_has(const struct args *a, char flag)
{
	int i;

	for (i = 0; i < a->nflags; i++)
		if (a->flags[i].flag == flag)
			return 1;
	return 0;
}

/* Value of flag, or NULL. */
const char *
args_get(const struct args *a, char flag)
{
	int i;

	for (i = 0; i < a->nflags; i++)
		if (a->flags[i].flag == flag)
			return a->flags[i].value;
	return NULL;
}

/* A floating-point flag within [lo, hi]. */
int
args_double(const struct args *a, char flag, double lo, double hi,
    double *out, struct cmdq_item *item)
{
	const char *v = args_get(a, flag);
	char *end;
	double d;

	if (v == NULL)
		return 0;
	errno = 0;
	d = strtod(v, &end);
	if (*v == '\0' || *end != '\0' || errno != 0 || !isfinite(d) ||
	    d < lo || d > hi) {
		cmdq_item_error(item, "%s: -%c %s: expected a number from %g "
		    "to %g", cmdq_item_name(item), flag, v, lo, hi);
		return -1;
	}
	*out = d;
	return 1;
}

/* An unsigned flag within [lo, hi]. */
int
args_uint(const struct args *a, char flag, unsigned long lo, unsigned long hi,
    unsigned long *out, struct cmdq_item *item)
{
	const char *v = args_get(a, flag);
	char *end;
	unsigned long u;

	if (v == NULL)
		return 0;
	errno = 0;
	u = strtoul(v, &end, 10);
	if (!isdigit((unsigned char)*v) || *end != '\0' || errno != 0 ||
	    u < lo || u > hi) {
		cmdq_item_error(item, "%s: -%c %s: expected a whole number "
		    "from %lu to %lu", cmdq_item_name(item), flag, v, lo, hi);
		return -1;
	}
	*out = u;
	return 1;
}
