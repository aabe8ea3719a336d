/*
 * ramp-conn.c: fuzz target for the RAMP node's connectivity files
 * (plugins/ramp/ramp-conn.c): "pre, post, w, b[, d|a]" lines from any
 * editor, given with connectivity= on the load line.
 *
 * Input: a connectivity file's text. A refusal must name the file (and
 * the line) on one line; what parses must be synapses the node can
 * define: wordlines and bitlines from 1, ids within 24 bits, lines in
 * order, no device twice.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "ramp.h"

#define FUZZ_CONN_FILE "connectivity.txt"

/* Parse; check what came out. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ramp_synapse *syn = NULL;
	char *cause = NULL;
	size_t n = 0, i;

	if (ramp_conn_parse(FUZZ_CONN_FILE, (const char *)data, size, &syn,
	    &n, &cause) != 0) {
		FUZZ_CHECK(cause != NULL);
		FUZZ_CHECK(strncmp(cause, FUZZ_CONN_FILE ":",
		    strlen(FUZZ_CONN_FILE) + 1) == 0);
		FUZZ_CHECK(strchr(cause, '\n') == NULL);
		FUZZ_CHECK(syn == NULL && n == 0);
		free(cause);
		return 0;
	}
	FUZZ_CHECK(cause == NULL);
	for (i = 0; i < n; i++) {
		FUZZ_CHECK(syn[i].w >= 1 && syn[i].b >= 1);
		FUZZ_CHECK(syn[i].pre <= RAMP_FIELD_MASK &&
		    syn[i].post <= RAMP_FIELD_MASK &&
		    syn[i].w <= RAMP_FIELD_MASK && syn[i].b <= RAMP_FIELD_MASK);
		FUZZ_CHECK(syn[i].dir == RAMP_DIR_BOTH ||
		    syn[i].dir == RAMP_DIR_D_TO_A ||
		    syn[i].dir == RAMP_DIR_A_TO_D);
		FUZZ_CHECK(syn[i].line >= 1);
		if (i > 0) {
			FUZZ_CHECK(syn[i].line > syn[i - 1].line);
			FUZZ_CHECK(syn[i].w != syn[i - 1].w ||
			    syn[i].b != syn[i - 1].b);
		}
	}
	free(syn);
	return 0;
}
