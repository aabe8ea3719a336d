/*
 * test-cursor.c: the transports' stream cursors kept beside a recording:
 * written only when changed, read back by the next console, a malformed
 * file refused with the line to fix, and a failing write said once.
 */
#include "config.h"

#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "cursor.h"
#include "xmalloc.h"

static char test_dir[] = "/tmp/sb-test-cursor-XXXXXX";

/* Write text to dir/cursors. */
static void
put_file(const char *text)
{
	char *path;
	FILE *f;

	xasprintf(&path, "%s/cursors", test_dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	free(path);
}

/* Values survive a save and a fresh table attached to the same dir. */
static void
test_cursor_roundtrip(void **state)
{
	struct cursor_table t, u;
	char *cause = NULL;

	(void)state;
	cursor_init(&t);
	assert_int_equal(cursor_attach(&t, test_dir, &cause), 0);
	assert_int_equal(cursor_get(&t, "b relay epoch"), 0);
	cursor_set(&t, "b relay epoch", 1795976360038100ULL);
	cursor_set(&t, "b relay 1795976360038100 a/n", 195);
	cursor_set(&t, "b relay 1795976360038100 a/n", 196);
	assert_int_equal(cursor_save(&t, &cause), 0);
	cursor_free(&t);

	cursor_init(&u);
	assert_int_equal(cursor_attach(&u, test_dir, &cause), 0);
	assert_true(cursor_get(&u, "b relay epoch") == 1795976360038100ULL);
	assert_int_equal(cursor_get(&u, "b relay 1795976360038100 a/n"), 196);
	assert_int_equal(cursor_get(&u, "b relay 1 a/n"), 0);
	cursor_free(&u);
}

/* Without a recording the table is memory only; saving writes nothing. */
static void
test_cursor_memory_only(void **state)
{
	struct cursor_table t;
	char *cause = NULL;

	(void)state;
	cursor_init(&t);
	cursor_set(&t, "k", 7);
	assert_int_equal(cursor_save(&t, &cause), 0);
	assert_null(cause);
	assert_int_equal(cursor_get(&t, "k"), 7);
	cursor_free(&t);
}

/* A malformed line is refused with the file and line to fix. */
static void
test_cursor_malformed(void **state)
{
	struct cursor_table t;
	char *cause = NULL;

	(void)state;
	put_file("12 b relay epoch\nnot-a-number b relay x\n");
	cursor_init(&t);
	assert_int_equal(cursor_attach(&t, test_dir, &cause), -1);
	assert_non_null(cause);
	assert_non_null(strstr(cause, "cursors:2:"));
	assert_non_null(strstr(cause, "remove the file"));
	free(cause);
	cursor_free(&t);
	put_file("12\n");
	cursor_init(&t);
	cause = NULL;
	assert_int_equal(cursor_attach(&t, test_dir, &cause), -1);
	assert_non_null(strstr(cause, "cursors:1:"));
	free(cause);
	cursor_free(&t);
}

/* A file that cannot be written: said once, then quiet, then ok again. */
static void
test_cursor_write_fails(void **state)
{
	struct cursor_table t;
	char *cause = NULL, *sub, *tmp;

	(void)state;
	xasprintf(&sub, "%s/ro", test_dir);
	xasprintf(&tmp, "%s/cursors.tmp", sub);
	assert_int_equal(mkdir(sub, 0700), 0);
	cursor_init(&t);
	assert_int_equal(cursor_attach(&t, sub, &cause), 0);
	/* a directory where the new file goes: even root cannot write it */
	assert_int_equal(mkdir(tmp, 0700), 0);
	cursor_set(&t, "k", 1);
	assert_int_equal(cursor_save(&t, &cause), -1);
	assert_non_null(cause);
	assert_non_null(strstr(cause, "cannot write"));
	free(cause);
	cause = NULL;
	cursor_set(&t, "k", 2);
	assert_int_equal(cursor_save(&t, &cause), -1);
	assert_null(cause);
	assert_int_equal(rmdir(tmp), 0);
	assert_int_equal(cursor_save(&t, &cause), 0);
	cursor_free(&t);
	cursor_init(&t);
	assert_int_equal(cursor_attach(&t, sub, &cause), 0);
	assert_int_equal(cursor_get(&t, "k"), 2);
	cursor_free(&t);
	free(tmp);
	free(sub);
}

/* A save replaces the file whole: no line of an older value remains. */
static void
test_cursor_replaces(void **state)
{
	struct cursor_table t;
	char *cause = NULL, *path, buf[256];
	FILE *f;
	size_t n;

	(void)state;
	put_file("");
	cursor_init(&t);
	assert_int_equal(cursor_attach(&t, test_dir, &cause), 0);
	cursor_set(&t, "s r 9 x/y", 1);
	assert_int_equal(cursor_save(&t, &cause), 0);
	cursor_set(&t, "s r 9 x/y", 2);
	assert_int_equal(cursor_save(&t, &cause), 0);
	cursor_free(&t);
	xasprintf(&path, "%s/cursors", test_dir);
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	assert_string_equal(buf, "2 s r 9 x/y\n");
	free(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cursor_roundtrip),
		cmocka_unit_test(test_cursor_memory_only),
		cmocka_unit_test(test_cursor_malformed),
		cmocka_unit_test(test_cursor_write_fails),
		cmocka_unit_test(test_cursor_replaces),
	};
	int rc;

	if (mkdtemp(test_dir) == NULL)
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	(void)system("rm -rf /tmp/sb-test-cursor-*");
	return rc;
}
