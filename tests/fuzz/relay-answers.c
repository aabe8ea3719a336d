/*
 * relay-answers.c: fuzz target for the relay client's readers of the
 * relay's text answers (plugins/relay/relay-text.c): registered and
 * listed streams, acknowledgements and control lines (commands and
 * results). The escaping of result texts is checked by relay-args.c.
 *
 * Input: a text answer. Every line is given to each reader; what one
 * accepts must be whole (names that fit, a text for a control line).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "relay.h"

/* Give one line to every reader. */
static void
fuzz_answers_line(const char *line)
{
	struct relay_listed l;
	struct relay_item *item;
	uint64_t seq, n;
	uint32_t id;
	char *copy;

	copy = strdup(line);
	if (relay_text_registered(copy, &l) == 0) {
		FUZZ_CHECK(l.name[0] != '\0');
		FUZZ_CHECK(strlen(l.name) < sizeof l.name);
	}
	free(copy);

	copy = strdup(line);
	if (relay_text_listed(copy, &l) == 0) {
		FUZZ_CHECK(l.site[0] != '\0' && l.name[0] != '\0');
		FUZZ_CHECK(strlen(l.site) < sizeof l.site &&
		    strlen(l.name) < sizeof l.name);
	}
	free(copy);

	copy = strdup(line);
	(void)relay_text_acked(copy, &id, &seq);
	free(copy);

	copy = strdup(line);
	item = relay_text_control(copy, &n);
	if (item != NULL) {
		FUZZ_CHECK(item->type == RELAY_ITEM_COMMAND ||
		    item->type == RELAY_ITEM_RESULT);
		FUZZ_CHECK(item->from != NULL && item->text != NULL);
		if (item->type == RELAY_ITEM_RESULT)
			FUZZ_CHECK(item->status == 0 || item->status == -1);
		relay_item_free(item);
	}
	free(copy);
}

/* Every line through every reader. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_string(data, size), *p = text, *line;

	while ((line = relay_text_line(&p)) != NULL)
		fuzz_answers_line(line);
	free(text);
	return 0;
}
