/*
 * test-tui-keys.c: the console's keys and command line, typed into the
 * real binary in a pseudo-terminal: completion, focus, zoom, freeze, the
 * synapse pane's p and d, ASCII and NO_COLOR fallbacks, no terminal.
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
#include <sys/wait.h>
#include <unistd.h>

#include "test-tui-pty.h"

#define DEADLINE 15000

static const char *const demo_args[] = { "--demo", NULL };

/* Start the demo and wait until it is wired. */
static void
start_demo(struct term *t, int rows, int cols, const char *const *env)
{
	term_start(t, rows, cols, demo_args, env);
	/* the session file ran: every synapse is in the pane */
	assert_true(term_wait_text(t, "Synapses  6", DEADLINE) >= 0);
}

/* A row and the text it should hold. */
struct row_text {
	int row;
	const char *text;
};

/* Condition: the row holds the text. */
static int
row_has(struct term *t, const void *arg)
{
	const struct row_text *rt = arg;

	return strstr(term_row(t, rt->row), rt->text) != NULL;
}

/* Wait until row shows text. */
static int
wait_row(struct term *t, int row, const char *text)
{
	struct row_text rt = { row, text };

	return term_wait(t, row_has, &rt, DEADLINE);
}

/* Tab completes commands and synapses; candidates show in the console. */
static void
test_completion(void **state)
{
	struct term t;

	(void)state;
	start_demo(&t, 30, 100, NULL);
	term_type(&t, "pot\t");
	assert_true(wait_row(&t, 29, "southampton› potentiate "));
	term_type(&t, "s\t\t");
	assert_true(term_wait_text(&t, "6 candidates", DEADLINE) >= 0);
	assert_true(term_wait_text(&t, "s0  s1  s2  s3  s4  s5",
	    DEADLINE) >= 0);
	term_type(&t, "3 -n 2\r");
	assert_true(term_wait_text(&t, "s3: potentiate 2 x", DEADLINE) >= 0);
	/* the candidates went away with the next key */
	assert_true(term_wait_gone(&t, "candidates", DEADLINE));
	/* units: site/population: then indices */
	term_type(&t, "stim padova/m\t");
	assert_true(wait_row(&t, 29, "stim padova/mea:"));
	term_type(&t, "\025");	/* Ctrl-U: readline clears the line */
	/* plugin names from the plugin path */
	term_type(&t, "load sim_cu\t");
	assert_true(wait_row(&t, 29, "load sim_culture "));
	term_type(&t, "\025");
	/* file paths */
	term_type(&t, "source /et\t");
	assert_true(wait_row(&t, 29, "source /etc/"));
	term_free(&t);
}

/* Tab moves focus when the line is empty; p and d act on the synapse. */
static void
test_focus_and_pulse_keys(void **state)
{
	struct term t;

	(void)state;
	start_demo(&t, 40, 120, NULL);
	term_type(&t, "\t");	/* raster */
	assert_true(term_wait_text(&t, "Raster", DEADLINE) >= 0);
	term_type(&t, "\t");	/* synapses */
	assert_true(term_wait_text(&t, "p potentiate, d depress",
	    DEADLINE) >= 0);
	term_type(&t, "\033[B");	/* down: s1 */
	term_type(&t, "d");
	assert_true(term_wait_text(&t, "› depress s1", DEADLINE) >= 0);
	assert_true(term_wait_text(&t, "s1: depress 1 x", DEADLINE) >= 0);
	term_type(&t, "p");
	assert_true(term_wait_text(&t, "s1: potentiate 1 x", DEADLINE) >= 0);
	/* typing on a pane goes to the command line, nothing is lost */
	term_type(&t, "synapses s2\r");
	assert_true(term_wait_text(&t, "› synapses s2", DEADLINE) >= 0);
	assert_true(term_wait_text(&t, "s2 padova/mea:34 -> zurich/silicon:0",
	    DEADLINE) >= 0);
	term_free(&t);
}

/* + and - zoom the window; Space freezes; Ctrl-C twice leaves. */
static void
test_zoom_freeze(void **state)
{
	struct term t;
	int i;

	(void)state;
	start_demo(&t, 30, 100, NULL);
	assert_true(term_wait_text(&t, "Raster  5 s", DEADLINE) >= 0);
	term_type(&t, "+");
	assert_true(term_wait_text(&t, "Raster  2 s", DEADLINE) >= 0);
	for (i = 0; i < 10; i++)
		term_type(&t, "-");
	assert_true(term_wait_text(&t, "Raster  60 s", DEADLINE) >= 0);
	assert_true(term_wait_text(&t, "-30s", DEADLINE) >= 0);
	term_type(&t, " ");
	assert_true(term_wait_text(&t, "FROZEN", DEADLINE) >= 0);
	term_type(&t, " ");
	assert_true(term_wait_gone(&t, "FROZEN", DEADLINE));
	/* PgDn: the raster starts at the second population */
	term_type(&t, "\033[6~");
	assert_true(term_wait_text(&t, "PgUp/PgDn: 2/2", DEADLINE) >= 0);
	term_type(&t, "\033[5~");
	assert_true(term_wait_gone(&t, "PgUp/PgDn", DEADLINE));
	term_type(&t, "\003");
	assert_true(term_wait_text(&t, "press Ctrl-C again", DEADLINE) >= 0);
	term_type(&t, "\003");
	assert_true(term_wait_exit(&t, DEADLINE));
	assert_true(WIFEXITED(t.status) && WEXITSTATUS(t.status) == 0);
	term_free(&t);
}

/* Not UTF-8 and NO_COLOR: plain ASCII, no colour anywhere. */
static void
test_ascii_no_colour(void **state)
{
	static const char *const env[] = { "LANG=C", "LC_ALL=C",
	    "NO_COLOR=1", NULL };
	struct term t;
	int r;

	(void)state;
	start_demo(&t, 30, 100, env);
	assert_true(term_wait_text(&t, " uS ", DEADLINE) >= 0);
	assert_true(term_wait_text(&t, "southampton> ", DEADLINE) >= 0);
	assert_true(term_wait_text(&t, "->", DEADLINE) >= 0);
	for (r = 0; r < t.rows; r++) {
		const unsigned char *p = (const unsigned char *)term_row(&t, r);

		for (; *p != '\0'; p++)
			assert_true(*p < 0x80);
	}
	assert_false(term_has_colour(&t));
	term_free(&t);
}

/* Without NO_COLOR the same screen has colours. */
static void
test_colour(void **state)
{
	struct term t;

	(void)state;
	start_demo(&t, 30, 100, NULL);
	assert_true(term_has_colour(&t));
	term_free(&t);
}

/* Not a terminal: a clear refusal that points at --headless. */
static void
test_not_a_terminal(void **state)
{
	char cmd[4300], out[512];
	FILE *p;
	size_t n;
	int st;

	(void)state;
	snprintf(cmd, sizeof cmd, "'%s' --demo </dev/null 2>&1",
	    term_binary());
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(out, 1, sizeof out - 1, p);
	out[n] = '\0';
	st = pclose(p);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 2);
	assert_non_null(strstr(out, "--headless"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_completion),
		cmocka_unit_test(test_focus_and_pulse_keys),
		cmocka_unit_test(test_zoom_freeze),
		cmocka_unit_test(test_ascii_no_colour),
		cmocka_unit_test(test_colour),
		cmocka_unit_test(test_not_a_terminal),
	};
	return cmocka_run_group_tests_name("tui-keys", tests, NULL, NULL);
}
