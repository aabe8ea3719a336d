/*
 * relay-tokens.c: fuzz target for synbridge-relay's tokens file
 * (src/relay/relay-tokens.c): TOKEN SITE SESSION PUBLISH READ COMMAND
 * lines from any editor (CRLF, CR, a byte-order mark, comments).
 *
 * Input: a tokens file, read through relay_tokens_load as the relay reads
 * it at start. A refusal must say FILE:LINE or FILE and why; what loads
 * must be a table the relay can use: every token found by itself and
 * only by itself, valid site and session names, a site that may read its
 * own streams.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "relay/relay.h"

struct relay relay;

/* The rate limit's clock (the limit is off here: rate 0). */
int64_t
relay_now_mono(void)
{
	return 0;
}

/* Load the file; check what loaded. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_memfile(data, size);
	struct relay_token *t = NULL;
	unsigned retry = 0;
	char *cause = NULL;
	size_t n = 0, i;

	if (relay_tokens_load(path, &t, &n, &cause) != 0) {
		FUZZ_CHECK(cause != NULL);
		FUZZ_CHECK(strncmp(cause, path, strlen(path)) == 0);
		FUZZ_CHECK(cause[strlen(path)] == ':');
		FUZZ_CHECK(strchr(cause, '\n') == NULL);
		FUZZ_CHECK(t == NULL && n == 0);
		free(cause);
		return 0;
	}
	FUZZ_CHECK(n >= 1 && t != NULL);
	relay.tokens = t;
	relay.ntokens = n;
	for (i = 0; i < n; i++) {
		FUZZ_CHECK(relay_tokens_find(t[i].token) == &t[i]);
		FUZZ_CHECK(relay_name_valid(t[i].site, strlen(t[i].site), 0));
		FUZZ_CHECK(relay_name_valid(t[i].session,
		    strlen(t[i].session), 0));
		FUZZ_CHECK(relay_tokens_may_read(&t[i], t[i].site, "any"));
		(void)relay_tokens_may_publish(&t[i], t[i].site);
		(void)relay_tokens_may_command(&t[i], t[i].site);
		(void)relay_tokens_may_read(&t[i], "padova", "mea");
		FUZZ_CHECK(relay_tokens_rate(&t[i], 1, &retry) == 0);
	}
	FUZZ_CHECK(relay_tokens_find("") == NULL);
	relay.tokens = NULL;
	relay.ntokens = 0;
	relay_tokens_free(t, n);
	return 0;
}
