/* test-history.c: the bounded session history and its CSV export. */
#include "config.h"

#include <sys/stat.h>

#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "history.h"
#include "xmalloc.h"

static char test_dir[] = "/tmp/sb-test-history-XXXXXX";

static const char *site_names[] = { "padova", "southampton", "zurich" };

/* A path inside the test directory. */
static char *
path_of(const char *name)
{
	char *p;

	xasprintf(&p, "%s/%s", test_dir, name);
	return p;
}

/* The whole content of a file, NUL-terminated. */
static char *
get_file(const char *path)
{
	struct stat st;
	char *buf;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	buf = xmalloc(st.st_size + 1);
	assert_int_equal(read(fd, buf, st.st_size), st.st_size);
	buf[st.st_size] = '\0';
	close(fd);
	return buf;
}

/* Names: sites by id, populations "mea"/"silicon", synapses s0-s7. */
static const char *
name_site(void *ctx, uint16_t site)
{
	return site < 3 ? site_names[site] : NULL;
}

/* Population names. */
static const char *
name_population(void *ctx, uint16_t site, uint16_t pop)
{
	if (site == 0 && pop == 0)
		return "mea";
	if (site == 2 && pop == 0)
		return "silicon";
	return NULL;
}

/* Synapse names and their pre and post units. */
static int
name_synapse(void *ctx, uint16_t site, uint32_t index, const char **name,
    const char **pre, const char **post)
{
	static char names[8][4], pres[8][32], posts[8][32];

	if (index >= 8)
		return -1;
	snprintf(names[index], sizeof names[index], "s%u", index);
	snprintf(pres[index], sizeof pres[index], "padova/mea:%u", index * 2);
	snprintf(posts[index], sizeof posts[index], "zurich/silicon:%u", index);
	*name = names[index];
	*pre = pres[index];
	*post = posts[index];
	return 0;
}

/* Conductance event names from aux. */
static const char *
name_event(void *ctx, const struct sb_event *ev)
{
	static const char *names[] = { "read", "potentiate", "depress" };

	return ev->aux < 3 ? names[ev->aux] : NULL;
}

/* Weights of s0-s7: from G over a 40-80 uS window. */
static int
name_weight(void *ctx, uint16_t site, uint32_t index, double g_us)
{
	double w = 255.0 * (g_us - 40.0) / 40.0;

	if (index >= 8)
		return -1;
	return (int)rint(w < 0 ? 0 : w > 255 ? 255 : w);
}

static const struct history_names names = {
	NULL, name_site, name_population, name_synapse, name_event,
	name_weight
};

/* A spike event. */
static struct sb_event
spike(int64_t t_us, uint16_t site, uint16_t pop, uint32_t unit)
{
	struct sb_event ev;

	memset(&ev, 0, sizeof ev);
	ev.t_us = t_us;
	ev.site = site;
	ev.pop = pop;
	ev.index = unit;
	ev.kind = SB_EV_SPIKE;
	ev.aux = SB_SPIKE_SPONTANEOUS;
	return ev;
}

/* Collect event times. */
static void
collect_time(void *ctx, const struct sb_event *ev)
{
	int64_t *times = ctx;

	times[++times[0]] = ev->t_us;
}

/* Oldest events go first when full, and every drop is counted. */
static void
test_bounds(void **state)
{
	struct history *h = history_create(4, 2);
	struct csv_row row = { .kind = CSV_LINKS };
	struct sb_event ev;
	int64_t times[16] = { 0 };
	char *path = path_of("links.csv"), *cause = NULL, *text;
	int i;

	assert_int_equal(history_events(h), 0);
	for (i = 0; i < 10; i++) {
		ev = spike(i, 0, 0, i);
		history_add_event(h, &ev);
	}
	assert_int_equal(history_events(h), 4);
	assert_int_equal(history_dropped(h), 6);
	history_each_event(h, INT64_MIN, INT64_MAX, collect_time, times);
	assert_int_equal(times[0], 4);
	for (i = 0; i < 4; i++)
		assert_int_equal(times[1 + i], 6 + i);

	/*
	 * Rows are bounded too, and their drops counted. A relay row keeps
	 * its device columns empty but age_s; a device row keeps its rates,
	 * counts and age.
	 */
	row.u.link.link = "padova";
	row.u.link.state = "up";
	row.u.link.in_per_s = row.u.link.out_per_s = NAN;
	row.u.link.malformed = row.u.link.out_of_range = CSV_NO_COUNT;
	row.u.link.age_s = 0.5;
	for (i = 0; i < 3; i++) {
		row.u.link.t_us = i * 1000000;
		if (i == 2) {
			row.u.link.link = "padova/mea";
			row.u.link.rtt_ms = row.u.link.jitter_ms = NAN;
			row.u.link.offset_ms = row.u.link.uncertainty_ms = NAN;
			row.u.link.loss_pct = NAN;
			row.u.link.events_per_s = 1012.5;
			row.u.link.in_per_s = 1000;
			row.u.link.out_per_s = 12.5;
			row.u.link.malformed = 3;
			row.u.link.out_of_range = 0;
			row.u.link.age_s = NAN;
		}
		history_add_row(h, &row);
	}
	assert_int_equal(history_dropped(h), 7);
	assert_int_equal(history_export(h, CSV_LINKS, path, INT64_MIN,
	    INT64_MAX, &names, &cause), 2);
	text = get_file(path);
	assert_string_equal(text, "t_s,link,state,rtt_ms,jitter_ms,offset_ms,"
	    "uncertainty_ms,loss_pct,retransmits,queue,events_per_s,in_per_s,"
	    "out_per_s,malformed,out_of_range,age_s\n"
	    "1.000000,padova,up,0.000,0.000,0.000,0.000,0.000,0,0,0.00,,,,,"
	    "0.500\n"
	    "2.000000,padova/mea,up,,,,,,0,0,1012.50,1000.00,12.50,3,0,\n");
	free(text);
	free(path);
	history_free(h);
	history_free(NULL);

	/* A history of nothing drops everything. */
	h = history_create(0, 0);
	history_add_event(h, &ev);
	history_add_row(h, &row);
	assert_int_equal(history_events(h), 0);
	assert_int_equal(history_dropped(h), 2);
	history_free(h);
}

/* Ranges include since and exclude until. */
static void
test_each_range(void **state)
{
	struct history *h = history_create(100, 0);
	struct sb_event ev;
	int64_t times[16] = { 0 };
	int i;

	for (i = 1; i <= 10; i++) {
		ev = spike(i * 10, 0, 0, 0);
		history_add_event(h, &ev);
	}
	history_each_event(h, 30, 70, collect_time, times);
	assert_int_equal(times[0], 4);
	assert_int_equal(times[1], 30);
	assert_int_equal(times[4], 60);
	times[0] = 0;
	history_each_event(h, 50, 50, collect_time, times);
	assert_int_equal(times[0], 0);
	history_free(h);
}

/* A mix of events: spikes, a synaptic event and conductance changes. */
static struct history *
mixed_history(void)
{
	struct history *h = history_create(64, 0);
	struct sb_event ev;

	ev = spike(-500, 0, 0, 3);
	history_add_event(h, &ev);
	ev = spike(1000000, 0, 0, 4);
	history_add_event(h, &ev);
	ev = spike(1000001, 2, 0, 7);
	history_add_event(h, &ev);

	memset(&ev, 0, sizeof ev);
	ev.t_us = 1000002;
	ev.site = 1;
	ev.pop = SB_POP_SYNAPSE;
	ev.index = 2;
	ev.kind = SB_EV_SYNAPTIC;
	ev.aux = 200;
	ev.g_before = 57.1234f;
	history_add_event(h, &ev);

	ev.t_us = 1500000;
	ev.kind = SB_EV_CONDUCTANCE;
	ev.aux = 1;
	ev.amplitude = 4.0f;
	ev.width_us = 100;
	ev.count = 1;
	ev.g_before = 57.1234f;
	ev.g_after = 61.5f;
	history_add_event(h, &ev);

	ev.t_us = 2000000;
	ev.index = 99;		/* unnamed synapse */
	ev.aux = 2;
	ev.amplitude = -4.0f;
	ev.g_before = 61.5f;
	ev.g_after = 55.25f;
	history_add_event(h, &ev);

	ev = spike(2500000, 1, 5, 1);	/* unnamed population */
	history_add_event(h, &ev);
	ev = spike(3000000, 0, 0, 9);	/* past until */
	history_add_event(h, &ev);
	return h;
}

/* Spikes export with names, in order, within [since, until). */
static void
test_export_spikes(void **state)
{
	struct history *h = mixed_history();
	char *path = path_of("spikes.csv"), *cause = NULL, *text;

	assert_int_equal(history_export(h, CSV_SPIKES, path, -1000, 3000000,
	    &names, &cause), 4);
	text = get_file(path);
	assert_string_equal(text, "t_s,site,population,unit\n"
	    "-0.000500,padova,mea,3\n"
	    "1.000000,padova,mea,4\n"
	    "1.000001,zurich,silicon,7\n"
	    "2.500000,southampton,5,1\n");
	free(text);

	/* Without names, ids stand in. */
	assert_int_equal(history_export(h, CSV_SPIKES, path, 1000000, 1000002,
	    NULL, &cause), 2);
	text = get_file(path);
	assert_string_equal(text, "t_s,site,population,unit\n"
	    "1.000000,0,0,4\n1.000001,2,0,7\n");
	free(text);
	free(path);
	history_free(h);
}

/* Synaptic and conductance events make synapses.csv rows. */
static void
test_export_synapses(void **state)
{
	struct history *h = mixed_history();
	char *path = path_of("synapses.csv"), *cause = NULL, *text;

	assert_int_equal(history_export(h, CSV_SYNAPSES, path, INT64_MIN,
	    INT64_MAX, &names, &cause), 3);
	text = get_file(path);
	/*
	 * Weights: what a synaptic event carried; for the others from G
	 * before and after with the synapse's window, empty where unknown.
	 */
	assert_string_equal(text, "t_s,synapse,pre,post,event,amplitude_v,"
	    "width_us,count,g_before_us,g_after_us,weight_before,weight_after\n"
	    "1.000002,s2,padova/mea:4,zurich/silicon:2,synaptic,,,,57.1234,"
	    "57.1234,200,200\n"
	    "1.500000,s2,padova/mea:4,zurich/silicon:2,potentiate,4.0000,100,"
	    "1,57.1234,61.5000,109,137\n"
	    "2.000000,s99,,,depress,-4.0000,100,1,61.5000,55.2500,,\n");
	free(text);

	/* Without names, no weights but the ones events carried. */
	assert_int_equal(history_export(h, CSV_SYNAPSES, path, INT64_MIN,
	    1500001, NULL, &cause), 2);
	text = get_file(path);
	assert_string_equal(text, "t_s,synapse,pre,post,event,amplitude_v,"
	    "width_us,count,g_before_us,g_after_us,weight_before,weight_after\n"
	    "1.000002,s2,,,synaptic,,,,57.1234,57.1234,200,200\n"
	    "1.500000,s2,,,conductance,4.0000,100,1,57.1234,61.5000,,\n");
	free(text);
	free(path);
	history_free(h);
}

/* Link and command rows are copies, exported with the writer's quoting. */
static void
test_export_rows(void **state)
{
	struct history *h = history_create(0, 16);
	struct csv_row row = { .kind = CSV_COMMANDS };
	char *path = path_of("commands.csv"), *cause = NULL, *text;
	char message[64], user[16];

	strcpy(user, "ann");
	strcpy(message, "potentiate s0, twice \"now\"\nok");
	row.u.command.t_us = 1000000;
	row.u.command.site = "padova";
	row.u.command.user = user;
	row.u.command.command = "potentiate s0";
	row.u.command.status = "ok";
	row.u.command.message = message;
	history_add_row(h, &row);
	strcpy(user, "bob");
	strcpy(message, " mark");
	row.u.command.t_us = 2000000;
	row.u.command.status = NULL;
	history_add_row(h, &row);
	strcpy(message, "late");
	row.u.command.t_us = 5000000;
	history_add_row(h, &row);
	memset(message, 'X', sizeof message - 1);
	memset(user, 'X', sizeof user - 1);

	/* A spike row is not kept: spikes come from events. */
	row.kind = CSV_SPIKES;
	history_add_row(h, &row);

	assert_int_equal(history_export(h, CSV_COMMANDS, path, 0, 5000000,
	    &names, &cause), 2);
	text = get_file(path);
	assert_string_equal(text, "t_s,site,user,command,status,message\n"
	    "1.000000,padova,ann,potentiate s0,ok,\"potentiate s0, twice "
	    "\"\"now\"\"\nok\"\n"
	    "2.000000,padova,bob,potentiate s0,,\" mark\"\n");
	free(text);

	/* There are no links yet: a header alone. */
	assert_int_equal(history_export(h, CSV_LINKS, path, 0, 5000000,
	    &names, &cause), 0);
	text = get_file(path);
	free(cause);
	xasprintf(&cause, "%s\n", csv_kind_headers[CSV_LINKS]);
	assert_string_equal(text, cause);
	free(cause);
	free(text);
	free(path);
	history_free(h);
}

/* Export replaces the target whole; a failed export says why. */
static void
test_export_replace_and_fail(void **state)
{
	struct history *h = mixed_history();
	char *path = path_of("out.csv"), *tmp, *cause = NULL, *text;
	struct stat st;
	FILE *f;

	f = fopen(path, "w");
	assert_non_null(f);
	fputs("something else entirely\n", f);
	fclose(f);
	assert_int_equal(history_export(h, CSV_SPIKES, path, 0, 1000001,
	    &names, &cause), 1);
	text = get_file(path);
	assert_string_equal(text, "t_s,site,population,unit\n"
	    "1.000000,padova,mea,4\n");
	free(text);
	xasprintf(&tmp, "%s.tmp", path);
	assert_int_equal(stat(tmp, &st), -1);
	free(tmp);
	free(path);

	path = path_of("no-such-dir/out.csv");
	assert_int_equal(history_export(h, CSV_SPIKES, path, 0, 1000001,
	    &names, &cause), -1);
	assert_non_null(cause);
	assert_non_null(strstr(cause, "export to "));
	assert_non_null(strstr(cause, "no-such-dir/out.csv failed: "));
	assert_non_null(strstr(cause, "No such file or directory"));
	free(cause);
	free(path);
	history_free(h);
}

/* Count rows read back. */
static int
count_row(void *ctx, const struct csv_row *row)
{
	(*(int *)ctx)++;
	return 0;
}

/* Exports read back with the reader. */
static void
test_export_reads_back(void **state)
{
	struct history *h = mixed_history();
	char *path = path_of("back.csv"), *cause = NULL;
	int kind, n;
	int64_t rows;

	for (kind = 0; kind < CSV_KINDS; kind++) {
		rows = history_export(h, kind, path, INT64_MIN, INT64_MAX,
		    &names, &cause);
		assert_true(rows >= 0);
		n = 0;
		assert_int_equal(csv_read_file(path, kind, count_row, &n,
		    &cause), 0);
		assert_int_equal(n, rows);
	}
	unlink(path);
	free(path);
	history_free(h);
}

/* Remove the test directory. */
static int
teardown(void **state)
{
	static const char *files[] = { "links.csv", "spikes.csv",
	    "synapses.csv", "commands.csv", "out.csv", "back.csv" };
	char *p;
	size_t i;

	for (i = 0; i < sizeof files / sizeof files[0]; i++) {
		p = path_of(files[i]);
		unlink(p);
		free(p);
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
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_each_range),
		cmocka_unit_test(test_export_spikes),
		cmocka_unit_test(test_export_synapses),
		cmocka_unit_test(test_export_rows),
		cmocka_unit_test(test_export_replace_and_fail),
		cmocka_unit_test(test_export_reads_back),
	};
	return cmocka_run_group_tests_name("history", tests, setup, teardown);
}
