/*
 * relay-args.c: fuzz target for what synbridge-relay parses out of a
 * request (src/relay/relay-args.c): decimal arguments (id=, after=,
 * hold=, Content-Length), streams=ID:AFTER,... of a read, the NAME UNITS
 * lines of POST /v1/streams, and the escaping of control texts, which the
 * client (plugins/relay/relay-text.c) must undo exactly.
 *
 * Input: the argument text. Every parser gets it; what one accepts must
 * be what it promises (a number as the digits say, ids from 1 without
 * repeats, a valid stream name), and escaping must round-trip.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "relay/relay.h"

/* The client's unescaping (plugins/relay/relay-text.c). */
char *relay_text_unescape(const char *s);

struct relay relay;

/* relay-tokens.c's rate limit needs a clock (not used here). */
int64_t
relay_now_mono(void)
{
	return 0;
}

/* A decimal argument. */
static void
fuzz_args_u64(const char *s)
{
	uint64_t v = 0;
	char back[32];
	const char *digits = s;

	if (relay_args_u64(s, &v) != 0)
		return;
	/* only digits, and the same number as printed without zeros ahead */
	while (*digits == '0' && digits[1] != '\0')
		digits++;
	snprintf(back, sizeof back, "%llu", (unsigned long long)v);
	FUZZ_CHECK(strcmp(back, digits) == 0);
}

/* streams=ID:AFTER,... */
static void
fuzz_args_cursors(const char *s)
{
	uint32_t *ids = NULL;
	uint64_t *after = NULL;
	char *cause = NULL;
	size_t n = 0, i, j;

	if (relay_args_cursors(s, &ids, &after, &n, &cause) != 0) {
		FUZZ_CHECK(cause != NULL && *cause != '\0');
		FUZZ_CHECK(ids == NULL && after == NULL);
		free(cause);
		return;
	}
	FUZZ_CHECK(n >= 1 && n <= 1024);
	for (i = 0; i < n; i++) {
		FUZZ_CHECK(ids[i] != 0);
		for (j = 0; j < i; j++)
			FUZZ_CHECK(ids[i] != ids[j]);
	}
	free(ids);
	free(after);
}

/* One NAME UNITS line of POST /v1/streams (not NUL-terminated). */
static void
fuzz_args_stream_line(const uint8_t *data, size_t size)
{
	char name[RELAY_NAME_MAX + 1], *cause = NULL;
	uint32_t units = 0;

	if (relay_args_stream_line((const char *)data, size, name, &units,
	    &cause) != 0) {
		FUZZ_CHECK(cause != NULL && *cause != '\0');
		free(cause);
		return;
	}
	FUZZ_CHECK(relay_name_valid(name, strlen(name), 1));
	FUZZ_CHECK(memchr(data, ' ', size) == (const void *)(data +
	    strlen(name)));
}

/* Escaped by the relay, unescaped by the client: the text as it was,
 * with CR and NUL as spaces. */
static void
fuzz_args_escape(const uint8_t *data, size_t size)
{
	char *escaped, *back, *want;
	size_t i;

	escaped = relay_args_escape((const char *)data, size);
	FUZZ_CHECK(strchr(escaped, '\n') == NULL);
	FUZZ_CHECK(strchr(escaped, '\r') == NULL);
	back = relay_text_unescape(escaped);
	if ((want = malloc(size + 1)) == NULL)
		abort();
	for (i = 0; i < size; i++)
		want[i] = data[i] == '\r' || data[i] == '\0' ? ' ' :
		    (char)data[i];
	want[size] = '\0';
	FUZZ_CHECK(strcmp(back, want) == 0);
	free(want);
	free(back);
	free(escaped);
}

/* Every parser on the input. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_string(data, size);

	fuzz_args_u64(s);
	fuzz_args_cursors(s);
	fuzz_args_stream_line(data, size);
	fuzz_args_escape(data, size);
	(void)relay_name_valid(s, strlen(s), size > 0 && (data[0] & 1));
	free(s);
	return 0;
}
