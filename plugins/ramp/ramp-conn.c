/*
 * ramp-conn.c: the original node's connectivity file, one synapse a line:
 *
 *   pre, post, w, b        # comment
 *
 * pre and post are neuron ids, w and b the device's wordline and bitline
 * counted from 1 as the ArC ONE counts them. The original's matrix applied
 * a line to whichever sender the pre id came from. synbridge also takes a
 * fifth field, d or a, saying which sender's unit is pre (its own
 * extension: whether the original's reader accepted more fields is not
 * known). A UTF-8 byte order mark and LF, CRLF or CR line ends are
 * accepted; errors name FILE:LINE and what to fix.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb-args.h"
#include "ramp.h"

/* Parse a direction name; 0, or -1. */
int
ramp_direction_parse(const char *s, enum ramp_direction *dir)
{
	if (strcmp(s, "both") == 0)
		*dir = RAMP_DIR_BOTH;
	else if (strcmp(s, "d_to_a") == 0)
		*dir = RAMP_DIR_D_TO_A;
	else if (strcmp(s, "a_to_d") == 0)
		*dir = RAMP_DIR_A_TO_D;
	else
		return -1;
	return 0;
}

/* Trim blanks at both ends of [*s, *e). */
static void
ramp_conn_trim(const char **s, const char **e)
{
	while (*s < *e && isspace((unsigned char)**s))
		(*s)++;
	while (*e > *s && isspace((unsigned char)(*e)[-1]))
		(*e)--;
}

/* A whole number in [s, e) no larger than max; 0, or -1. */
static int
ramp_conn_number(const char *s, const char *e, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;

	if (s == e)
		return -1;
	for (; s < e; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > max)
			return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

/* Parse one line's fields into syn; 0, or -1 with *cause. */
static int
ramp_conn_line(const char *file, unsigned line, const char *s, const char *e,
    struct ramp_synapse *syn, char **cause)
{
	static const char *names[] = { "pre", "post", "w", "b" };
	const char *f[5][2], *p = s, *comma;
	uint32_t v[4];
	size_t n = 0, i;

	for (;;) {
		comma = memchr(p, ',', (size_t)(e - p));
		if (n == 5)
			goto fields;
		f[n][0] = p;
		f[n][1] = comma != NULL ? comma : e;
		ramp_conn_trim(&f[n][0], &f[n][1]);
		n++;
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	if (n < 4)
		goto fields;
	for (i = 0; i < 4; i++) {
		if (ramp_conn_number(f[i][0], f[i][1], RAMP_FIELD_MASK,
		    &v[i]) != 0) {
			sb_cause(cause, "%s:%u: %s '%.*s' is not a whole number "
			    "from 0 to %u", file, line, names[i],
			    (int)(f[i][1] - f[i][0]), f[i][0], RAMP_FIELD_MASK);
			return -1;
		}
	}
	for (i = 2; i < 4; i++) {
		if (v[i] == 0) {
			sb_cause(cause, "%s:%u: %s is 0, but wordlines and "
			    "bitlines count from 1 as the ArC ONE numbers "
			    "them (w1b1 is the first device)", file, line,
			    names[i]);
			return -1;
		}
	}
	syn->pre = v[0];
	syn->post = v[1];
	syn->w = v[2];
	syn->b = v[3];
	syn->line = line;
	syn->dir = RAMP_DIR_BOTH;
	if (n == 5) {
		if (f[4][1] - f[4][0] == 1 && tolower((unsigned char)
		    *f[4][0]) == 'd')
			syn->dir = RAMP_DIR_D_TO_A;
		else if (f[4][1] - f[4][0] == 1 && tolower((unsigned char)
		    *f[4][0]) == 'a')
			syn->dir = RAMP_DIR_A_TO_D;
		else {
			sb_cause(cause, "%s:%u: fifth field '%.*s' is not d "
			    "or a (d: pre is a 'D' unit, post an 'A' unit; "
			    "a: the other way round)", file, line,
			    (int)(f[4][1] - f[4][0]), f[4][0]);
			return -1;
		}
	}
	return 0;
fields:
	sb_cause(cause, "%s:%u: '%.*s' is not 'pre, post, w, b' (four whole "
	    "numbers separated by commas, optionally a fifth field d or a)",
	    file, line, (int)(e - s > 60 ? 60 : e - s), s);
	return -1;
}

/* Order indexes into syn by device, then by line (qsort_r). */
static int
ramp_conn_by_device(const void *a, const void *b, void *syn)
{
	const struct ramp_synapse *x = (const struct ramp_synapse *)syn +
	    *(const size_t *)a;
	const struct ramp_synapse *y = (const struct ramp_synapse *)syn +
	    *(const size_t *)b;

	if (x->w != y->w)
		return x->w < y->w ? -1 : 1;
	if (x->b != y->b)
		return x->b < y->b ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* Order indexes into syn by pre/post pair, then by line (qsort_r). */
static int
ramp_conn_by_pair(const void *a, const void *b, void *syn)
{
	const struct ramp_synapse *x = (const struct ramp_synapse *)syn +
	    *(const size_t *)a;
	const struct ramp_synapse *y = (const struct ramp_synapse *)syn +
	    *(const size_t *)b;

	if (x->pre != y->pre)
		return x->pre < y->pre ? -1 : 1;
	if (x->post != y->post)
		return x->post < y->post ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

/*
 * Lines that repeat a device or a pre/post pair; 0, or -1 with *cause.
 * The first line (in file order) that repeats an earlier one is named,
 * with the earliest line it repeats (a device before a pair on the same
 * line). Sorting, not comparing every two lines: a file of a million
 * lines is checked in a second, not in hours.
 */
static int
ramp_conn_repeats(const char *file, const struct ramp_synapse *syn, size_t n,
    char **cause)
{
	size_t *order, *dev, *pair, k, g, i, j, both, first[2];
	int rc = 0;

	if (n < 2)
		return 0;
	order = calloc(n, sizeof *order);
	dev = calloc(n, sizeof *dev);	/* earliest same device, or n */
	pair = calloc(n, sizeof *pair);	/* earliest overlapping pair, or n */
	if (order == NULL || dev == NULL || pair == NULL) {
		sb_cause(cause, "%s: out of memory", file);
		rc = -1;
		goto out;
	}
	for (k = 0; k < n; k++)
		order[k] = k;
	qsort_r(order, n, sizeof *order, ramp_conn_by_device, (void *)syn);
	for (k = 0; k < n; k = g) {
		dev[order[k]] = n;
		for (g = k + 1; g < n && syn[order[g]].w == syn[order[k]].w &&
		    syn[order[g]].b == syn[order[k]].b; g++)
			dev[order[g]] = order[k];
	}
	qsort_r(order, n, sizeof *order, ramp_conn_by_pair, (void *)syn);
	for (k = 0; k < n; k = g) {
		/* the earliest line of the pair for both senders, d, a */
		both = first[0] = first[1] = n;
		for (g = k; g < n && syn[order[g]].pre == syn[order[k]].pre &&
		    syn[order[g]].post == syn[order[k]].post; g++) {
			j = order[g];
			i = both;
			if (syn[j].dir == RAMP_DIR_BOTH) {
				if (first[0] < i)
					i = first[0];
				if (first[1] < i)
					i = first[1];
			} else if (first[syn[j].dir - 1] < i)
				i = first[syn[j].dir - 1];
			pair[j] = i;
			if (syn[j].dir == RAMP_DIR_BOTH && both == n)
				both = j;
			else if (syn[j].dir != RAMP_DIR_BOTH &&
			    first[syn[j].dir - 1] == n)
				first[syn[j].dir - 1] = j;
		}
	}
	for (j = 1; j < n; j++) {
		if (dev[j] == n && pair[j] == n)
			continue;
		i = dev[j];
		if (dev[j] <= pair[j])
			sb_cause(cause, "%s:%u: device w%ub%u is on line %u too "
			    "(a device carries one synapse)", file, syn[j].line,
			    syn[j].w, syn[j].b, syn[i].line);
		else
			sb_cause(cause, "%s:%u: pre %u, post %u repeats line %u "
			    "(the original kept only the last; write each pair "
			    "once)", file, syn[j].line, syn[j].pre,
			    syn[j].post, syn[pair[j]].line);
		rc = -1;
		break;
	}
out:
	free(order);
	free(dev);
	free(pair);
	return rc;
}

/*
 * Parse a connectivity file's text (len bytes, named file in messages)
 * into a malloc'd array of *n synapses; 0, or -1 with *cause.
 */
int
ramp_conn_parse(const char *file, const char *text, size_t len,
    struct ramp_synapse **out, size_t *n, char **cause)
{
	const char *p = text, *end = text + len, *eol, *s, *e, *hash;
	struct ramp_synapse *syn = NULL, *grown;
	size_t count = 0, alloc = 0;
	unsigned line = 0;

	*out = NULL;
	*n = 0;
	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	if (memchr(text, '\0', len) != NULL) {
		sb_cause(cause, "%s: has NUL bytes: not a text file (one "
		    "'pre, post, w, b' a line)", file);
		return -1;
	}
	while (p < end) {
		line++;
		for (eol = p; eol < end && *eol != '\n' && *eol != '\r'; eol++)
			;
		s = p;
		e = eol;
		if (eol < end && *eol == '\r' && eol + 1 < end &&
		    eol[1] == '\n')
			p = eol + 2;
		else
			p = eol + 1;
		if ((hash = memchr(s, '#', (size_t)(e - s))) != NULL)
			e = hash;
		ramp_conn_trim(&s, &e);
		if (s == e)
			continue;
		if (count == alloc) {
			alloc = alloc == 0 ? 64 : alloc * 2;
			if ((grown = realloc(syn, alloc * sizeof *syn)) ==
			    NULL) {
				free(syn);
				sb_cause(cause, "%s: out of memory", file);
				return -1;
			}
			syn = grown;
		}
		if (ramp_conn_line(file, line, s, e, &syn[count], cause) != 0) {
			free(syn);
			return -1;
		}
		count++;
	}
	if (ramp_conn_repeats(file, syn, count, cause) != 0) {
		free(syn);
		return -1;
	}
	*out = syn;
	*n = count;
	return 0;
}

/* Read and parse a connectivity file; 0, or -1 with *cause. */
int
ramp_conn_read(const char *path, struct ramp_synapse **out, size_t *n,
    char **cause)
{
	FILE *f;
	char *buf;
	size_t len;
	int rc;

	if ((f = fopen(path, "rb")) == NULL) {
		sb_cause(cause, "cannot read connectivity file %s: %s (check "
		    "connectivity=)", path, strerror(errno));
		return -1;
	}
	if ((buf = malloc(RAMP_CONNECTIVITY_MAX + 1)) == NULL) {
		fclose(f);
		sb_cause(cause, "%s: out of memory", path);
		return -1;
	}
	len = fread(buf, 1, RAMP_CONNECTIVITY_MAX + 1, f);
	if (ferror(f)) {
		sb_cause(cause, "cannot read connectivity file %s: %s", path,
		    strerror(errno));
		rc = -1;
	} else if (len > RAMP_CONNECTIVITY_MAX) {
		sb_cause(cause, "connectivity file %s is larger than %u MiB "
		    "(one 'pre, post, w, b' a line)", path,
		    RAMP_CONNECTIVITY_MAX >> 20);
		rc = -1;
	} else
		rc = ramp_conn_parse(path, buf, len, out, n, cause);
	fclose(f);
	free(buf);
	return rc;
}
