/*
 * ramp-conn.c: fuzz target for the RAMP node's connectivity files
 * (plugins/ramp/ramp-conn.c): "pre, post, w, b[, d|a]" lines from any
 * editor, given with connectivity= on the load line.
 *
 * Input: a connectivity file's text. A refusal must name the file and a
 * line, on one line; what parses must be synapses the node can define:
 * wordlines and bitlines from 1, ids within 24 bits, lines in order.
 *
 * The check for repeated devices and pairs is compared with the plain
 * definition (every line against every earlier one, as the node's first
 * version did): each line is parsed alone, and the first line that
 * repeats an earlier one, with the earliest line it repeats, must be the
 * one the parser names, in the same words; no repeat, no refusal.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "ramp.h"

#define FUZZ_CONN_FILE "connectivity.txt"

/* Do the directions of two lines overlap (the same sender's pre)? */
static int
fuzz_conn_overlap(enum ramp_direction a, enum ramp_direction b)
{
	return a == RAMP_DIR_BOTH || b == RAMP_DIR_BOTH || a == b;
}

/* The plain definition of a repeat: the message, or NULL if none. */
static char *
fuzz_conn_repeat(const struct ramp_synapse *syn, size_t n)
{
	char *msg = NULL;
	size_t i, j;
	int rc = 0;

	for (j = 1; j < n && rc == 0; j++) {
		for (i = 0; i < j && rc == 0; i++) {
			if (syn[i].w == syn[j].w && syn[i].b == syn[j].b)
				rc = asprintf(&msg, "%s:%u: device w%ub%u is on "
				    "line %u too (a device carries one synapse)",
				    FUZZ_CONN_FILE, syn[j].line, syn[j].w,
				    syn[j].b, syn[i].line);
			else if (syn[i].pre == syn[j].pre &&
			    syn[i].post == syn[j].post &&
			    fuzz_conn_overlap(syn[i].dir, syn[j].dir))
				rc = asprintf(&msg, "%s:%u: pre %u, post %u "
				    "repeats line %u (the original kept only the "
				    "last; write each pair once)", FUZZ_CONN_FILE,
				    syn[j].line, syn[j].pre, syn[j].post,
				    syn[i].line);
		}
	}
	FUZZ_CHECK(rc >= 0);
	return msg;
}

/*
 * Parse each line alone (LF, CRLF or CR ends one; a byte-order mark may
 * start the file) into syn with its line number. The number of the first
 * line refused alone, or 0 if none is.
 */
static unsigned
fuzz_conn_lines(const uint8_t *data, size_t size, struct ramp_synapse *syn,
    size_t *n)
{
	const char *p = (const char *)data, *end = p + size, *eol;
	struct ramp_synapse *one;
	unsigned line = 0;
	size_t k;
	char *cause, *buf;
	int rc;

	if ((buf = malloc(size + 1)) == NULL)
		abort();
	*n = 0;
	if (size >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	while (p < end) {
		line++;
		for (eol = p; eol < end && *eol != '\n' && *eol != '\r'; eol++)
			;
		/* a blank ahead, which the parser trims, so that a byte-order
		 * mark is taken as one only at the start of the file */
		buf[0] = ' ';
		memcpy(buf + 1, p, (size_t)(eol - p));
		cause = NULL;
		rc = ramp_conn_parse(FUZZ_CONN_FILE, buf, (size_t)(eol - p) + 1,
		    &one, &k, &cause);
		if (rc != 0) {
			free(cause);
			free(buf);
			return line;
		}
		FUZZ_CHECK(k <= 1);
		if (k == 1) {
			syn[*n] = one[0];
			syn[(*n)++].line = line;
		}
		free(one);
		p = eol < end && *eol == '\r' && eol + 1 < end &&
		    eol[1] == '\n' ? eol + 2 : eol + 1;
	}
	free(buf);
	return 0;
}

/* Parse; check what came out against the lines taken one by one. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ramp_synapse *syn = NULL, *alone;
	char *cause = NULL, *want, at[64];
	size_t n = 0, nalone, i;
	unsigned bad;
	int rc;

	rc = ramp_conn_parse(FUZZ_CONN_FILE, (const char *)data, size, &syn,
	    &n, &cause);
	if (rc != 0) {
		FUZZ_CHECK(cause != NULL);
		FUZZ_CHECK(strncmp(cause, FUZZ_CONN_FILE ":",
		    strlen(FUZZ_CONN_FILE) + 1) == 0);
		FUZZ_CHECK(strchr(cause, '\n') == NULL);
		FUZZ_CHECK(syn == NULL && n == 0);
	} else {
		FUZZ_CHECK(cause == NULL);
		for (i = 0; i < n; i++) {
			FUZZ_CHECK(syn[i].w >= 1 && syn[i].b >= 1);
			FUZZ_CHECK(syn[i].pre <= RAMP_FIELD_MASK &&
			    syn[i].post <= RAMP_FIELD_MASK &&
			    syn[i].w <= RAMP_FIELD_MASK &&
			    syn[i].b <= RAMP_FIELD_MASK);
			FUZZ_CHECK(syn[i].line >= 1);
			FUZZ_CHECK(i == 0 || syn[i].line > syn[i - 1].line);
		}
	}

	/* a NUL anywhere refuses the whole file first */
	if (memchr(data, '\0', size) != NULL) {
		FUZZ_CHECK(rc != 0);
		goto out;
	}
	if ((alone = calloc(size + 1, sizeof *alone)) == NULL)
		abort();
	bad = fuzz_conn_lines(data, size, alone, &nalone);
	if (bad != 0) {
		/* the first line refused alone is the line refused */
		FUZZ_CHECK(rc != 0);
		snprintf(at, sizeof at, "%s:%u: ", FUZZ_CONN_FILE, bad);
		FUZZ_CHECK(strncmp(cause, at, strlen(at)) == 0);
	} else {
		want = fuzz_conn_repeat(alone, nalone);
		if (want == NULL) {
			FUZZ_CHECK(rc == 0 && n == nalone);
			for (i = 0; i < n; i++)
				FUZZ_CHECK(syn[i].line == alone[i].line &&
				    syn[i].w == alone[i].w &&
				    syn[i].b == alone[i].b);
		} else
			FUZZ_CHECK(rc != 0 && strcmp(cause, want) == 0);
		free(want);
	}
	free(alone);
out:
	free(cause);
	free(syn);
	return 0;
}
