/*
 * csv-kill.c: CSV logs survive kill -9 of their writer.
 *
 * A forked child records deterministic rows of every kind through
 * csv_file_* and flushes every 100-200 ms; the parent waits until every
 * file holds enough rows, kills the child with SIGKILL and reads every file
 * back: each must parse and hold exactly the first rows the child made,
 * then accept more rows appended by a new writer.
 *
 * SIGKILL can also cut a write() in progress (Linux checks for fatal
 * signals between pages), which no writer can prevent; csv_file_open then
 * refuses the file and the reader names the cut row. The child therefore
 * says when it is inside csv_file_flush and the parent kills between
 * flushes: what is tested is that buffered rows vanish whole and flushed
 * rows are complete.
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "clock.h"
#include "csvlog.h"
#include "xmalloc.h"

#define ROWS_PER_TICK 8		/* rows of each kind per millisecond */

static char test_dir[] = "/tmp/sb-csv-kill-XXXXXX";

/* Storage for the strings of a generated row. */
struct gen {
	char a[64], b[64], c[96];
};

static const char *sites[] = { "padova", "southampton", "zurich",
	"z\xc3\xbcrich lab" };
static const char *latency_kinds[] = { "spike", "arrival", "command",
	"overhead", "remote" };

/* Row i of a kind: the same for the child that writes and the checker. */
static void
gen_row(enum csv_kind kind, uint32_t i, struct csv_row *row, struct gen *g)
{
	memset(row, 0, sizeof *row);
	row->kind = kind;
	switch (kind) {
	case CSV_SPIKES:
		row->u.spike.t_us = (int64_t)i * 997 - 5000;
		row->u.spike.site = sites[i % 4];
		row->u.spike.population = (i % 2) ? "mea" : "silicon";
		row->u.spike.unit = i % 60;
		break;
	case CSV_SYNAPSES:
		snprintf(g->a, sizeof g->a, "s%u", i % 8);
		snprintf(g->b, sizeof g->b, "padova/mea:%u", i % 59);
		row->u.synapse.t_us = (int64_t)i * 1000;
		row->u.synapse.synapse = g->a;
		row->u.synapse.pre = g->b;
		row->u.synapse.post = (i % 5) ? "zurich/silicon:1" : "";
		row->u.synapse.event = (i % 3) ? "potentiate" : "synaptic";
		row->u.synapse.amplitude_v = (i % 3) ? ((i % 2) ? 4.0 : -4.0) :
		    NAN;
		row->u.synapse.width_us = (i % 3) ? 100 : 0;
		row->u.synapse.count = (i % 3) ? 1 + i % 4 : 0;
		row->u.synapse.g_before_us = 50 + (i % 1000) * 0.0625;
		row->u.synapse.g_after_us = (i % 7) ? 50 + (i % 999) * 0.0625 :
		    NAN;
		row->u.synapse.weight_before = i % 256;
		row->u.synapse.weight_after = (i % 7) ? (int)(i % 251) : -1;
		break;
	case CSV_LINKS:
		row->u.link.t_us = (int64_t)i * 250000;
		row->u.link.link = sites[i % 3];
		row->u.link.state = (i % 10) ? "up" : "degraded";
		row->u.link.rtt_ms = (i % 500) * 0.125;
		row->u.link.jitter_ms = (i % 17) * 0.5;
		row->u.link.offset_ms = (i % 2) ? -(double)(i % 31) : NAN;
		row->u.link.uncertainty_ms = (i % 9) * 0.25;
		row->u.link.loss_pct = (i % 101);
		row->u.link.retransmits = (uint64_t)i * 3;
		row->u.link.queue = i % 1024;
		row->u.link.events_per_s = (i % 400) * 0.25;
		/* every third row a device link's, the others the relay's */
		if (i % 3 == 2) {
			row->u.link.in_per_s = (i % 300) * 0.5;
			row->u.link.out_per_s = (i % 11) ? (i % 50) * 0.25 :
			    NAN;
			row->u.link.malformed = i / 7;
			row->u.link.out_of_range = i % 5;
			row->u.link.age_s = (i % 13) ? (i % 97) * 0.125 : NAN;
		} else {
			row->u.link.in_per_s = row->u.link.out_per_s = NAN;
			row->u.link.malformed = CSV_NO_COUNT;
			row->u.link.out_of_range = CSV_NO_COUNT;
			row->u.link.age_s = (i % 4) * 0.5;
		}
		break;
	case CSV_LATENCY:
		snprintf(g->a, sizeof g->a, (i % 4) ? "s%u" :
		    "padova/relay 127.0.0.1:%u", i % 8);
		row->u.latency.t_us = (int64_t)i * 1000000;
		row->u.latency.kind = latency_kinds[i % 5];
		row->u.latency.path = g->a;
		row->u.latency.n = i % 50 + 1;
		row->u.latency.p50_ms = (i % 100) * 0.125;
		row->u.latency.p99_ms = row->u.latency.p50_ms + (i % 7) * 0.25;
		row->u.latency.max_ms = row->u.latency.p99_ms + 1.5;
		break;
	default:
		snprintf(g->a, sizeof g->a, "user %u", i % 3);
		snprintf(g->b, sizeof g->b, (i % 2) ? "potentiate s%u" :
		    " mark, \"burst\" %u", i % 8);
		snprintf(g->c, sizeof g->c, (i % 3) ? "ok: row %u,\r\nsecond "
		    "line \"quoted\"" : "row %u", i);
		row->u.command.t_us = (int64_t)i * 10;
		row->u.command.site = sites[i % 4];
		row->u.command.user = g->a;
		row->u.command.command = g->b;
		row->u.command.status = (i % 4) ? "ok" : "";
		row->u.command.message = g->c;
		break;
	}
}

/* A file name per kind. */
static char *
kind_path(enum csv_kind kind)
{
	char *p;

	xasprintf(&p, "%s/%s.csv", test_dir, csv_kind_names[kind]);
	return p;
}

/* Sleep for ms milliseconds (pacing the writer, not waiting for it). */
static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* The child: write rows forever, flushing every 100-200 ms. */
static void __attribute__((noreturn))
child_write(volatile int *flushing, uint32_t first)
{
	struct csv_file *f[CSV_KINDS];
	struct csv_row row;
	struct gen g;
	char *path, *cause = NULL;
	int64_t start = clock_mono_us(), next_flush;
	uint32_t i = first, flushes = 0, j;
	int k;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (k = 0; k < CSV_KINDS; k++) {
		path = kind_path(k);
		f[k] = csv_file_open(path, k, &cause);
		if (f[k] == NULL) {
			fprintf(stderr, "child: %s\n", cause);
			_exit(2);
		}
		free(path);
	}
	next_flush = start + 100000;
	while (clock_mono_us() - start < 30000000) {
		for (j = 0; j < ROWS_PER_TICK; j++, i++) {
			for (k = 0; k < CSV_KINDS; k++) {
				gen_row(k, i, &row, &g);
				csv_file_row(f[k], &row);
			}
		}
		if (clock_mono_us() >= next_flush) {
			__atomic_store_n(flushing, 1, __ATOMIC_SEQ_CST);
			for (k = 0; k < CSV_KINDS; k++) {
				if (csv_file_flush(f[k], &cause) != 0) {
					fprintf(stderr, "child: %s\n", cause);
					_exit(3);
				}
			}
			__atomic_store_n(flushing, 0, __ATOMIC_SEQ_CST);
			flushes++;
			next_flush = clock_mono_us() + 100000 +
			    (flushes * 37) % 101 * 1000;
		}
		sleep_ms(1);
	}
	_exit(4);	/* never killed: the parent failed */
}

struct check {
	enum csv_kind kind;
	uint32_t n;
	int bad;
};

/* Same double, or both empty. */
static int
same_double(double a, double b)
{
	return (isnan(a) && isnan(b)) || a == b;
}

/* Same string, reading NULL as empty. */
static int
same_string(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

/* Reader callback: row n must be exactly gen_row(kind, n). */
static int
check_row(void *ctx, const struct csv_row *got)
{
	struct check *c = ctx;
	struct csv_row want;
	struct gen g;
	const struct csv_synapse_row *s, *ws;
	const struct csv_link_row *l, *wl;
	const struct csv_command_row *m, *wm;
	int same = 0;

	gen_row(c->kind, c->n, &want, &g);
	switch (c->kind) {
	case CSV_SPIKES:
		same = got->u.spike.t_us == want.u.spike.t_us &&
		    same_string(got->u.spike.site, want.u.spike.site) &&
		    same_string(got->u.spike.population,
		    want.u.spike.population) &&
		    got->u.spike.unit == want.u.spike.unit;
		break;
	case CSV_SYNAPSES:
		s = &got->u.synapse;
		ws = &want.u.synapse;
		same = s->t_us == ws->t_us &&
		    same_string(s->synapse, ws->synapse) &&
		    same_string(s->pre, ws->pre) &&
		    same_string(s->post, ws->post) &&
		    same_string(s->event, ws->event) &&
		    same_double(s->amplitude_v, ws->amplitude_v) &&
		    s->width_us == ws->width_us && s->count == ws->count &&
		    same_double(s->g_before_us, ws->g_before_us) &&
		    same_double(s->g_after_us, ws->g_after_us) &&
		    s->weight_before == ws->weight_before &&
		    s->weight_after == ws->weight_after;
		break;
	case CSV_LINKS:
		l = &got->u.link;
		wl = &want.u.link;
		same = l->t_us == wl->t_us && same_string(l->link, wl->link) &&
		    same_string(l->state, wl->state) &&
		    same_double(l->rtt_ms, wl->rtt_ms) &&
		    same_double(l->jitter_ms, wl->jitter_ms) &&
		    same_double(l->offset_ms, wl->offset_ms) &&
		    same_double(l->uncertainty_ms, wl->uncertainty_ms) &&
		    same_double(l->loss_pct, wl->loss_pct) &&
		    l->retransmits == wl->retransmits &&
		    l->queue == wl->queue &&
		    same_double(l->events_per_s, wl->events_per_s) &&
		    same_double(l->in_per_s, wl->in_per_s) &&
		    same_double(l->out_per_s, wl->out_per_s) &&
		    l->malformed == wl->malformed &&
		    l->out_of_range == wl->out_of_range &&
		    same_double(l->age_s, wl->age_s);
		break;
	case CSV_LATENCY:
		same = got->u.latency.t_us == want.u.latency.t_us &&
		    same_string(got->u.latency.kind, want.u.latency.kind) &&
		    same_string(got->u.latency.path, want.u.latency.path) &&
		    got->u.latency.n == want.u.latency.n &&
		    same_double(got->u.latency.p50_ms, want.u.latency.p50_ms) &&
		    same_double(got->u.latency.p99_ms, want.u.latency.p99_ms) &&
		    same_double(got->u.latency.max_ms, want.u.latency.max_ms);
		break;
	default:
		m = &got->u.command;
		wm = &want.u.command;
		same = m->t_us == wm->t_us && same_string(m->site, wm->site) &&
		    same_string(m->user, wm->user) &&
		    same_string(m->command, wm->command) &&
		    same_string(m->status, wm->status) &&
		    same_string(m->message, wm->message);
		break;
	}
	if (!same) {
		print_error("%s row %u differs\n", csv_kind_names[c->kind],
		    c->n);
		c->bad = 1;
		return 1;
	}
	c->n++;
	return 0;
}

/* Count rows (of a file that may be growing). */
static int
count_row(void *ctx, const struct csv_row *row)
{
	(*(uint32_t *)ctx)++;
	return 0;
}

/* Fewest rows of any kind so far (files may be mid-write). */
static uint32_t
fewest_rows(void)
{
	uint32_t n, least = UINT32_MAX;
	char *path, *cause;
	int k;

	for (k = 0; k < CSV_KINDS; k++) {
		path = kind_path(k);
		n = 0;
		cause = NULL;
		csv_read_file(path, k, count_row, &n, &cause);
		free(cause);
		free(path);
		if (n < least)
			least = n;
	}
	return least;
}

/* Read every file back: all parse and hold exactly the first rows. */
static void
check_files(uint32_t at_least)
{
	struct check c;
	char *path, *cause = NULL;
	int k;

	for (k = 0; k < CSV_KINDS; k++) {
		path = kind_path(k);
		c.kind = k;
		c.n = 0;
		c.bad = 0;
		if (csv_read_file(path, k, check_row, &c, &cause) != 0) {
			print_error("%s\n", cause);
			fail();
		}
		assert_false(c.bad);
		assert_true(c.n >= at_least);
		free(path);
	}
}

/* Start a writer, kill -9 it once the files hold want rows, check. */
static void
kill_round(uint32_t want)
{
	volatile int *flushing;
	int64_t deadline;
	int status;
	pid_t pid;

	flushing = mmap(NULL, sizeof *flushing, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(flushing != MAP_FAILED);
	*flushing = 0;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		child_write(flushing, 0);

	deadline = clock_mono_us() + 15000000;
	while (fewest_rows() < want) {
		if (clock_mono_us() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			fail_msg("the writer made fewer than %u rows in 15 s",
			    want);
		}
		sleep_ms(10);
	}
	while (__atomic_load_n(flushing, __ATOMIC_SEQ_CST) &&
	    clock_mono_us() < deadline)
		;
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	munmap((void *)flushing, sizeof *flushing);

	check_files(want);
}

/* Files cut by kill -9 parse, hold the exact prefix, and take appends. */
static void
test_kill(void **state)
{
	struct csv_file *f;
	struct csv_row row;
	struct gen g;
	char *path, *cause = NULL;
	uint32_t i, rows[CSV_KINDS];
	struct check c;
	int k;

	kill_round(1500);

	/* A new writer appends after the last whole row. */
	for (k = 0; k < CSV_KINDS; k++) {
		path = kind_path(k);
		c.kind = k;
		c.n = 0;
		c.bad = 0;
		assert_int_equal(csv_read_file(path, k, check_row, &c, &cause),
		    0);
		rows[k] = c.n;
		f = csv_file_open(path, k, &cause);
		assert_non_null(f);
		for (i = 0; i < 100; i++) {
			gen_row(k, rows[k] + i, &row, &g);
			csv_file_row(f, &row);
		}
		csv_file_close(f);
		c.n = 0;
		assert_int_equal(csv_read_file(path, k, check_row, &c, &cause),
		    0);
		assert_false(c.bad);
		assert_int_equal(c.n, rows[k] + 100);
		free(path);
	}

	/* Again from scratch, killed at another moment. */
	for (k = 0; k < CSV_KINDS; k++) {
		path = kind_path(k);
		unlink(path);
		free(path);
	}
	kill_round(2600);
}

/* Remove the test directory. */
static int
teardown(void **state)
{
	char *path;
	int k;

	for (k = 0; k < CSV_KINDS; k++) {
		path = kind_path(k);
		unlink(path);
		free(path);
	}
	return rmdir(test_dir);
}

/* Make the test directory. */
static int
setup(void **state)
{
	return mkdtemp(test_dir) == NULL ? -1 : 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kill),
	};
	return cmocka_run_group_tests_name("csv-kill", tests, setup, teardown);
}
