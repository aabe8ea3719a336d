/*
 * intan-reply.c: fuzz target for what Intan RHX's command port says
 * (plugins/intan/intan-reply.c): "Return: NAME VALUE" with no terminator,
 * error text before it, NULs and control bytes anywhere, and the values
 * the plugin believes (sample rate, stimulation step, booleans, the
 * controller type and run mode).
 *
 * Input: the name asked for (a length byte and its text), then what came
 * on the port. A value found must be printable text that fits, the
 * errors too; every value reader must take the value or refuse it, and
 * what it takes must be in its range.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "intan.h"

/* Printable text of at most len - 1 bytes, no blanks at either end. */
static void
fuzz_reply_printable(const char *s, size_t len)
{
	size_t n = strlen(s), i;

	FUZZ_CHECK(n < len);
	for (i = 0; i < n; i++)
		FUZZ_CHECK(s[i] >= 0x20 && s[i] < 0x7f);
}

/* The probe's answer and every reader of its value. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char value[INTAN_TEXT], errors[INTAN_TEXT], *name;
	const uint8_t *piece;
	double v;
	size_t n;
	int b;

	n = fuzz_take(&data, &size, &piece);
	name = fuzz_string(piece, n);
	if (size > INTAN_REPLY_MAX)
		size = INTAN_REPLY_MAX;
	if (intan_reply_find((const char *)data, size, name, value,
	    sizeof value, errors, sizeof errors) == INTAN_REPLY_VALUE)
		FUZZ_CHECK(value[0] != '\0');
	else
		FUZZ_CHECK(value[0] == '\0');
	fuzz_reply_printable(value, sizeof value);
	fuzz_reply_printable(errors, sizeof errors);
	(void)intan_reply_is_error(errors);

	if (intan_reply_number(value, &v) == 0)
		FUZZ_CHECK(v >= -1e12 && v <= 1e12);
	if (intan_reply_rate(value, &v) == 0)
		FUZZ_CHECK(v >= 100 && v <= 1e6);
	if (intan_reply_step(value, &v) == 0)
		FUZZ_CHECK(v >= 0.001 && v <= 100);
	if (intan_reply_bool(value, &b) == 0)
		FUZZ_CHECK(b == 0 || b == 1);
	(void)intan_reply_is_rhs(value);
	(void)intan_reply_is_running(value);
	free(name);
	return 0;
}
