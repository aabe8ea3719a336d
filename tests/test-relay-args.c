/*
 * test-relay-args.c: the relay's query, body-line and tokens-line parsers
 * and access rules, with a seeded fuzz of every parser.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "relay/relay.h"

struct relay relay;

/* The parsers under test do not need a clock. */
int64_t
relay_now_mono(void)
{
	return 0;
}

/* xorshift64*: seeded, so every run makes the same choices. */
static uint64_t
next_random(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

/* Numbers: digits only, no overflow. */
static void
test_u64(void **state)
{
	uint64_t v = 7;

	assert_int_equal(relay_args_u64("0", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(relay_args_u64("18446744073709551615", &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(relay_args_u64("18446744073709551616", &v), -1);
	assert_int_equal(relay_args_u64("99999999999999999999", &v), -1);
	assert_int_equal(relay_args_u64("", &v), -1);
	assert_int_equal(relay_args_u64(NULL, &v), -1);
	assert_int_equal(relay_args_u64("-1", &v), -1);
	assert_int_equal(relay_args_u64("+1", &v), -1);
	assert_int_equal(relay_args_u64("1 ", &v), -1);
	assert_int_equal(relay_args_u64("0x10", &v), -1);
}

/* streams=ID:AFTER,... */
static void
test_cursors(void **state)
{
	uint32_t *ids;
	uint64_t *after;
	size_t n;
	char *cause = NULL;

	assert_int_equal(relay_args_cursors("3:0,1:17,4294967295:5", &ids,
	    &after, &n, &cause), 0);
	assert_int_equal(n, 3);
	assert_int_equal(ids[0], 3);
	assert_int_equal(after[1], 17);
	assert_int_equal(ids[2], UINT32_MAX);
	free(ids);
	free(after);

	static const char *bad[] = {
		"", "1", "1:", ":1", "0:1", "4294967296:0", "1:0,", ",1:0",
		"1:0,1:5", "a:b", "1:-1", "1:2:3", "1:0;2:0",
		"12345678901234567890123456789012345678901234567890:1",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cause = NULL;
		if (relay_args_cursors(bad[i], &ids, &after, &n, &cause) != -1)
			fail_msg("'%s' was accepted", bad[i]);
		assert_non_null(cause);
		assert_null(ids);
		free(cause);
	}
	assert_int_equal(relay_args_cursors(NULL, &ids, &after, &n, &cause),
	    -1);
	assert_non_null(strstr(cause, "missing streams="));
	free(cause);

	/* a read names at most 1024 streams: 1024 pass, 1025 do not */
	{
		char *list = malloc(1025 * 16);
		size_t len = 0, k;

		assert_non_null(list);
		for (k = 1; k <= 1025; k++)
			len += (size_t)sprintf(list + len, "%s%zu:0",
			    k > 1 ? "," : "", k);
		cause = NULL;
		assert_int_equal(relay_args_cursors(list, &ids, &after, &n,
		    &cause), -1);
		assert_non_null(strstr(cause, "more than 1024 streams"));
		free(cause);
		*strrchr(list, ',') = '\0';	/* the first 1024 */
		assert_int_equal(relay_args_cursors(list, &ids, &after, &n,
		    &cause), 0);
		assert_int_equal(n, 1024);
		free(ids);
		free(after);
		free(list);
	}
}

/* NAME UNITS lines of POST /v1/streams. */
static void
test_stream_line(void **state)
{
	char name[RELAY_NAME_MAX + 1], *cause = NULL;
	uint32_t units;
	static const char *bad[] = {
		"mea", "mea ", " 60", "mea  60", "mea 60 x", "me a 60",
		"mea -1", "mea 4294967296", "m\"ea 3", "mea 6O",
		("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		    "aaaaaaaaaaaa 1"),
	};

	assert_int_equal(relay_args_stream_line("syn:southampton/a 8\r", 20,
	    name, &units, &cause), 0);
	assert_string_equal(name, "syn:southampton/a");
	assert_int_equal(units, 8);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cause = NULL;
		if (relay_args_stream_line(bad[i], strlen(bad[i]), name,
		    &units, &cause) == 0)
			fail_msg("'%s' was accepted", bad[i]);
		free(cause);
	}
}

/* Escaping keeps a message on one line. */
static void
test_escape(void **state)
{
	char *s = relay_args_escape("a\\b\nc\rd", 7);

	assert_string_equal(s, "a\\\\b\\nc d");
	free(s);
}

/* Rights: publish patterns, SITE/STREAM read patterns, command sites. */
static void
test_rights(void **state)
{
	char line[] = "tok-12345678 padova hybrid mea,syn:* "
	    "southampton/*,zurich/syn:padova/*,*/pub southampton,zur*";
	struct relay_token t;
	char *cause = NULL;

	assert_int_equal(relay_tokens_parse_line(line, &t, &cause), 0);
	assert_string_equal(t.site, "padova");
	assert_true(relay_tokens_may_publish(&t, "mea"));
	assert_true(relay_tokens_may_publish(&t, "syn:x"));
	assert_true(relay_tokens_may_publish(&t, "syn:"));
	assert_false(relay_tokens_may_publish(&t, "me"));
	assert_false(relay_tokens_may_publish(&t, "meas"));
	assert_false(relay_tokens_may_publish(&t, "sy"));
	assert_true(relay_tokens_may_read(&t, "southampton", "x"));
	assert_true(relay_tokens_may_read(&t, "zurich", "syn:padova/a"));
	assert_false(relay_tokens_may_read(&t, "zurich", "chip"));
	assert_true(relay_tokens_may_read(&t, "anyone", "pub"));
	assert_false(relay_tokens_may_read(&t, "anyone", "pubx"));
	assert_true(relay_tokens_may_read(&t, "padova", "secret")); /* own */
	assert_false(relay_tokens_may_read(&t, "southamptonx", "x"));
	assert_true(relay_tokens_may_command(&t, "southampton"));
	assert_true(relay_tokens_may_command(&t, "zurich"));
	assert_false(relay_tokens_may_command(&t, "padova"));

	char none[] = "tok-12345678 zurich hybrid - - -";
	assert_int_equal(relay_tokens_parse_line(none, &t, &cause), 0);
	assert_false(relay_tokens_may_publish(&t, "x"));
	assert_false(relay_tokens_may_read(&t, "padova", "mea"));
	assert_true(relay_tokens_may_read(&t, "zurich", "mine"));
	assert_false(relay_tokens_may_command(&t, "padova"));

	char all[] = "tok-12345678 zurich hybrid * */* *";
	assert_int_equal(relay_tokens_parse_line(all, &t, &cause), 0);
	assert_true(relay_tokens_may_publish(&t, "anything"));
	assert_true(relay_tokens_may_read(&t, "padova", "mea"));
	assert_true(relay_tokens_may_command(&t, "padova"));
}

/* Bad tokens lines say what is wrong. */
static void
test_token_lines(void **state)
{
	static const struct {
		const char *line, *want;
	} bad[] = {
		{ "tok-12345678 a s * */*", "5 fields" },
		{ "tok-1 a s * */* -", "token of 5" },
		{ "tok-12345678 a s * */* - x", "too many" },
		{ "tok-12345678 a/b s * */* -", "bad site" },
		{ "tok-12345678 a s/x * */* -", "bad session" },
		{ "tok-12345678 a s ,mea */* -", "bad PUBLISH" },
		{ "tok-12345678 a s m*a */* -", "bad PUBLISH" },
		{ "tok-12345678 a s * padova -", "needs the form SITE/STREAM" },
		{ "tok-12345678 a s * */* pa\"d", "bad COMMAND" },
	};
	struct relay_token t;
	char buf[128], *cause;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cause = NULL;
		snprintf(buf, sizeof buf, "%s", bad[i].line);
		assert_int_equal(relay_tokens_parse_line(buf, &t, &cause), -1);
		if (cause == NULL || strstr(cause, bad[i].want) == NULL)
			fail_msg("'%s': '%s'", bad[i].line, cause);
		free(cause);
	}
}

/* Tokens files from any editor: a byte-order mark, CRLF, CR alone. */
static void
test_tokens_file_ends(void **state)
{
	static const char *texts[] = {
		"\xef\xbb\xbftok-aaaaaaaa padova s * */* -\n"
		"tok-bbbbbbbb zurich s * */* -\n",
		"tok-aaaaaaaa padova s * */* -\r\n"
		"tok-bbbbbbbb zurich s * */* -\r\n",
		"# two sites\rtok-aaaaaaaa padova s * */* -\r"
		"tok-bbbbbbbb zurich s * */* -",
	};
	struct relay_token *t;
	char path[] = "/tmp/sb-tokens-XXXXXX", *cause = NULL;
	size_t i, n;
	FILE *f;
	int fd;

	(void)state;
	for (i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		strcpy(path, "/tmp/sb-tokens-XXXXXX");
		fd = mkstemp(path);
		assert_true(fd >= 0);
		f = fdopen(fd, "w");
		fputs(texts[i], f);
		fclose(f);
		if (relay_tokens_load(path, &t, &n, &cause) != 0)
			fail_msg("text %zu: %s", i, cause);
		assert_int_equal(n, 2);
		assert_string_equal(t[0].token, "tok-aaaaaaaa");
		assert_string_equal(t[1].site, "zurich");
		relay_tokens_free(t, n);
		unlink(path);
	}
	/* and an error still names its line in a CR-only file */
	strcpy(path, "/tmp/sb-tokens-XXXXXX");
	fd = mkstemp(path);
	f = fdopen(fd, "w");
	fputs("tok-aaaaaaaa padova s * */* -\rtok-1 b s * */* -\r", f);
	fclose(f);
	assert_int_equal(relay_tokens_load(path, &t, &n, &cause), -1);
	assert_non_null(strstr(cause, ":2: "));
	free(cause);
	unlink(path);
}

/* Random and mutated inputs never crash a parser (run under valgrind). */
static void
test_fuzz(void **state)
{
	static const char alphabet[] = "0123456789:,*/ -abz\t\r\n\\\"%\xff";
	static const char *seeds[] = {
		"3:0,1:17", "tok-12345678 padova hybrid * */* -", "mea 60",
		"18446744073709551615",
	};
	char buf[160], copy[160], name[RELAY_NAME_MAX + 1], *cause, *e;
	struct relay_token t;
	uint64_t seed = 20250, v;
	uint32_t *ids, units;
	uint64_t *after;
	size_t i, len, n, k, accepted = 0;

	for (i = 0; i < 200000; i++) {
		if (i % 2 == 0) {
			len = next_random(&seed) % 100;
			for (k = 0; k < len; k++)
				buf[k] = alphabet[next_random(&seed) %
				    (sizeof alphabet - 1)];
			buf[len] = '\0';
		} else {
			snprintf(buf, sizeof buf, "%s",
			    seeds[next_random(&seed) % 4]);
			len = strlen(buf);
			for (k = next_random(&seed) % 4; k > 0; k--)
				buf[next_random(&seed) % len] = alphabet[
				    next_random(&seed) % (sizeof alphabet - 1)];
		}
		cause = NULL;
		if (relay_args_cursors(buf, &ids, &after, &n, &cause) == 0) {
			assert_true(n >= 1);
			for (k = 0; k < n; k++)
				assert_true(ids[k] != 0);
			free(ids);
			free(after);
			accepted++;
		} else {
			assert_non_null(cause);
			free(cause);
		}
		cause = NULL;
		if (relay_args_stream_line(buf, len, name, &units,
		    &cause) == 0)
			assert_true(strlen(name) <= RELAY_NAME_MAX);
		free(cause);
		cause = NULL;
		memcpy(copy, buf, len + 1);
		if (relay_tokens_parse_line(copy, &t, &cause) == 0) {
			relay_tokens_may_read(&t, "padova", "mea");
			relay_tokens_may_publish(&t, "mea");
			relay_tokens_may_command(&t, "zurich");
		}
		free(cause);
		relay_args_u64(buf, &v);
		e = relay_args_escape(buf, len);
		assert_null(strchr(e, '\n'));
		free(e);
	}
	assert_true(accepted > 100);	/* the mutations reach success */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_u64),
		cmocka_unit_test(test_cursors),
		cmocka_unit_test(test_stream_line),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_rights),
		cmocka_unit_test(test_token_lines),
		cmocka_unit_test(test_tokens_file_ends),
		cmocka_unit_test(test_fuzz),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
