/* test-replay.c: the replay plugin, driven through a fake host. */
#include "config.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "csvlog.h"
#include "fake-host.h"
#include "synbridge-plugin.h"
#include "xmalloc.h"

extern const char synbridge_plugin_name[];
extern const char synbridge_plugin_api_version[];
int synbridge_plugin_init(struct sb_plugin *, const struct sb_host_api *);
void synbridge_plugin_end(struct sb_plugin *);

#define MS 1000
#define S 1000000
#define MAX_EVENTS 20000

static char test_dir[] = "/tmp/sb-test-replay-XXXXXX";

/* A recorded spike, as written to the test file. */
struct spike {
	int64_t t_us;
	const char *site, *population;
	uint32_t unit;
};

/* A path inside the test directory. */
static char *
path_of(const char *name)
{
	char *p;

	xasprintf(&p, "%s/%s", test_dir, name);
	return p;
}

/* Write spikes with synbridge's CSV writer; returns the path. */
static char *
write_spikes(const char *name, const struct spike *sp, size_t n)
{
	struct csv_file *f;
	struct csv_row row;
	char *path = path_of(name), *cause = NULL;
	size_t i;

	unlink(path);
	f = csv_file_open(path, CSV_SPIKES, &cause);
	assert_non_null(f);
	for (i = 0; i < n; i++) {
		memset(&row, 0, sizeof row);
		row.kind = CSV_SPIKES;
		row.u.spike.t_us = sp[i].t_us;
		row.u.spike.site = sp[i].site;
		row.u.spike.population = sp[i].population;
		row.u.spike.unit = sp[i].unit;
		csv_file_row(f, &row);
	}
	csv_file_close(f);
	return path;
}

/* Write a file with exactly these bytes; returns the path. */
static char *
write_raw(const char *name, const char *data)
{
	char *path = path_of(name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, strlen(data)), (ssize_t)strlen(data));
	close(fd);
	return path;
}

/* A fresh fake plugin instance loaded at session time now. */
static struct sb_plugin *
plugin_new(int64_t now)
{
	struct sb_plugin *p = fake_plugin_new("geneva", 1);

	assert_non_null(p);
	p->now = now;
	return p;
}

/* Load with NULL-terminated key, value pairs. */
#define load(p, ...) fake_plugin_load(p, synbridge_plugin_init, __VA_ARGS__)

/* Unload: the host frees what the plugin registered. */
static void
unload(struct sb_plugin *p)
{
	fake_plugin_free(p, synbridge_plugin_end);
}

/* Run the population up to t_us. */
static void
advance(struct sb_plugin *p, int64_t t_us)
{
	struct sb_emitter em = { p, MAX_EVENTS };

	assert_int_equal(p->neurons.advance(p->data, t_us, &em), 0);
}

/* Did any log line contain s? */
static int
logged(struct sb_plugin *p, const char *s)
{
	return fake_plugin_logged(p, s);
}

/* Print the log when a check on it is about to fail. */
static void
show_logs(struct sb_plugin *p)
{
	int i;

	for (i = 0; i < p->nlogs; i++)
		print_message("log: %s\n", p->logs[i]);
}

/* Assert a load fails with an error that contains want. */
static void
assert_refused(struct sb_plugin *p, int rc, const char *want)
{
	if (rc != -1 || !logged(p, want)) {
		show_logs(p);
		print_message("wanted: %s\n", want);
	}
	assert_int_equal(rc, -1);
	assert_true(p->errors > 0);
	assert_int_equal(p->registered, 0);
	assert_true(logged(p, want));
}

/* Deterministic pseudo-random numbers (xorshift64). */
static uint64_t
rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Every spike comes out once, in order, in the chunk that holds it. */
static void
test_order_and_chunks(void **state)
{
	static struct spike sp[5000];
	struct sb_plugin *p = plugin_new(0);
	uint64_t seed = 12345;
	int64_t t = 0, chunk_end = 0, prev_end;
	size_t i, seen = 0;
	uint32_t max_unit = 0;
	char *path;

	for (i = 0; i < 5000; i++) {
		t += rng_next(&seed) % 3000;	/* equal times happen too */
		sp[i] = (struct spike){ t, "zurich", "culture",
		    (uint32_t)(rng_next(&seed) % 60) };
		if (sp[i].unit > max_unit)
			max_unit = sp[i].unit;
	}
	path = write_spikes("order.csv", sp, 5000);
	assert_int_equal(load(p, "file", path, NULL), 0);
	assert_int_equal(p->registered, 1);
	assert_string_equal(p->neurons.name, "replay");
	assert_int_equal(p->neurons.units, max_unit + 1);
	assert_null(p->neurons.stimulate);
	assert_null(p->neurons.synaptic_input);
	assert_null(p->neurons.start);

	/* Uneven chunks; each chunk's spikes lie within it. */
	while (seen < 5000) {
		prev_end = chunk_end;
		chunk_end += 1 + rng_next(&seed) % (20 * MS);
		advance(p, chunk_end);
		for (; seen < p->nevents; seen++) {
			assert_true(p->events[seen].t_us > prev_end ||
			    (prev_end == 0 && p->events[seen].t_us == 0));
			assert_true(p->events[seen].t_us <= chunk_end);
		}
		assert_true(chunk_end < 100 * S);
	}
	assert_int_equal(p->nevents, 5000);
	for (i = 0; i < 5000; i++) {
		assert_int_equal(p->events[i].t_us, sp[i].t_us);
		assert_int_equal(p->events[i].index, sp[i].unit);
		assert_int_equal(p->events[i].kind, SB_EV_SPIKE);
		assert_int_equal(p->events[i].aux, SB_SPIKE_SPONTANEOUS);
	}
	/* Nothing more, however far the clock goes. */
	advance(p, 1000 * S);
	assert_int_equal(p->nevents, 5000);
	assert_true(logged(p, "replay: population replay: finished"));
	free(path);
	unload(p);
}

/* A file out of time order is replayed sorted, ties in file order. */
static void
test_unsorted(void **state)
{
	static const struct spike sp[] = {
		{ 300 * MS, "z", "c", 3 },
		{ 100 * MS, "z", "c", 1 },
		{ 200 * MS, "z", "c", 7 },
		{ 100 * MS, "z", "c", 2 },
		{ 200 * MS, "z", "c", 0 },
	};
	static const int64_t want_t[] = { 100 * MS, 100 * MS, 200 * MS,
	    200 * MS, 300 * MS };
	static const uint32_t want_u[] = { 1, 2, 7, 0, 3 };
	struct sb_plugin *p = plugin_new(0);
	char *path = write_spikes("unsorted.csv", sp, 5);
	size_t i;

	assert_int_equal(load(p, "file", path, "name", "rec", NULL), 0);
	assert_string_equal(p->neurons.name, "rec");
	assert_int_equal(p->neurons.units, 8);
	assert_true(logged(p, "sorted by time"));
	advance(p, 150 * MS);
	assert_int_equal(p->nevents, 2);
	advance(p, 1 * S);
	assert_int_equal(p->nevents, 5);
	for (i = 0; i < 5; i++) {
		assert_int_equal(p->events[i].t_us, want_t[i]);
		assert_int_equal(p->events[i].index, want_u[i]);
	}
	free(path);
	unload(p);
}

/*
 * Two recordings appended to one spikes.csv (two runs into one log dir):
 * the time starts again. The first is played with a warning, not both at
 * once; run=all plays them one after the other, run=2 the second.
 */
static void
test_appended_runs(void **state)
{
	static const struct spike sp[] = {
		{ 2 * S, "z", "c", 1 },
		{ 3 * S, "z", "c", 2 },
		{ 5 * S, "z", "c", 3 },		/* the first run ends */
		{ 1 * S, "z", "c", 4 },		/* the second starts */
		{ 2 * S, "z", "c", 5 },
	};
	struct sb_plugin *p = plugin_new(0);
	char *path = write_spikes("appended.csv", sp, 5);

	(void)state;
	assert_int_equal(load(p, "file", path, NULL), 0);
	if (!logged(p, "holds 2 recordings appended"))
		show_logs(p);
	assert_true(logged(p, "holds 2 recordings appended"));
	advance(p, 100 * S);
	assert_int_equal(p->nevents, 3);		/* the first only */
	assert_int_equal(p->events[2].index, 3);
	unload(p);

	p = plugin_new(0);
	assert_int_equal(load(p, "file", path, "run", "all", NULL), 0);
	assert_false(logged(p, "appended"));
	advance(p, 100 * S);
	assert_int_equal(p->nevents, 5);		/* in sequence */
	assert_int_equal(p->events[3].index, 4);
	assert_true(p->events[3].t_us > p->events[2].t_us);
	assert_true(p->events[4].t_us - p->events[3].t_us == 1 * S);
	unload(p);

	p = plugin_new(0);
	assert_int_equal(load(p, "file", path, "run", "2", NULL), 0);
	advance(p, 100 * S);
	assert_int_equal(p->nevents, 2);
	assert_int_equal(p->events[0].index, 4);
	assert_int_equal(p->events[0].t_us, 1 * S);
	unload(p);

	p = plugin_new(0);
	assert_refused(p, load(p, "file", path, "run", "3", NULL),
	    "holds 2 recordings");
	unload(p);
	free(path);
}

/* speed= divides recorded time, offset= shifts it. */
static void
test_speed_offset(void **state)
{
	static const struct spike sp[] = {
		{ 0, "z", "c", 0 },
		{ 200 * MS, "z", "c", 1 },
		{ 1 * S + 2, "z", "c", 2 },
		{ 4 * S, "z", "c", 3 },
	};
	struct sb_plugin *p;
	char *path = write_spikes("speed.csv", sp, 4);
	size_t i;

	/* Twice as fast, 1.5 s later. */
	p = plugin_new(0);
	assert_int_equal(load(p, "file", path, "speed", "2", "offset", "1.5",
	    NULL), 0);
	advance(p, 1500 * MS - 1);
	assert_int_equal(p->nevents, 0);
	advance(p, 1500 * MS);
	assert_int_equal(p->nevents, 1);
	advance(p, 3499 * MS);
	assert_int_equal(p->nevents, 3);
	advance(p, 3500 * MS);
	assert_int_equal(p->nevents, 4);
	for (i = 0; i < 4; i++) {
		assert_int_equal(p->events[i].t_us, 1500 * MS + sp[i].t_us / 2);
		assert_int_equal(p->events[i].index, sp[i].unit);
	}
	unload(p);

	/* Half as fast. */
	p = plugin_new(0);
	assert_int_equal(load(p, "file", path, "speed", "0.5", NULL), 0);
	advance(p, 4 * S);
	assert_int_equal(p->nevents, 3);
	advance(p, 8 * S);
	assert_int_equal(p->nevents, 4);
	for (i = 0; i < 4; i++)
		assert_int_equal(p->events[i].t_us, sp[i].t_us * 2);
	unload(p);

	/* A negative offset cuts the start; the skip is reported. */
	p = plugin_new(0);
	assert_int_equal(load(p, "file", path, "offset", "-0.5", NULL), 0);
	assert_true(logged(p, "skipped 2 spikes"));
	advance(p, 10 * S);
	assert_int_equal(p->nevents, 2);
	assert_int_equal(p->events[0].t_us, 500 * MS + 2);
	assert_int_equal(p->events[0].index, 2);
	assert_int_equal(p->events[1].t_us, 3500 * MS);
	unload(p);
	free(path);
}

/* Loaded late into the session: what is already past is skipped. */
static void
test_late_load(void **state)
{
	static const struct spike sp[] = {
		{ 100 * MS, "z", "c", 0 },
		{ 200 * MS, "z", "c", 1 },
		{ 300 * MS, "z", "c", 2 },
	};
	struct sb_plugin *p = plugin_new(250 * MS);
	char *path = write_spikes("late.csv", sp, 3);

	assert_int_equal(load(p, "file", path, NULL), 0);
	assert_true(logged(p, "skipped 2 spikes due before the session time "
	    "at load (0.250000 s)"));
	advance(p, 1 * S);
	assert_int_equal(p->nevents, 1);
	assert_int_equal(p->events[0].t_us, 300 * MS);
	unload(p);
	free(path);
}

/* site= and population= choose a pair; several without them refuse. */
static void
test_filters(void **state)
{
	static const struct spike sp[] = {
		{ 10 * MS, "zurich", "culture", 4 },
		{ 20 * MS, "zurich", "silicon", 9 },
		{ 30 * MS, "lugano", "culture", 1 },
		{ 40 * MS, "zurich", "culture", 5 },
		{ 50 * MS, "lugano", "culture", 2 },
		{ 60 * MS, "zurich", "silicon", 8 },
	};
	struct sb_plugin *p;
	char *path = write_spikes("filters.csv", sp, 6);

	p = plugin_new(0);
	assert_refused(p, load(p, "file", path, NULL), "holds 3 populations; "
	    "choose one with site= and population=: site=zurich "
	    "population=culture (2 spikes, 0.010-0.040 s), site=zurich "
	    "population=silicon (2 spikes, 0.020-0.060 s), site=lugano "
	    "population=culture (2 spikes, 0.030-0.050 s)");
	unload(p);

	p = plugin_new(0);
	assert_refused(p, load(p, "file", path, "site", "zurich", NULL),
	    "holds 2 populations that match; choose one");
	assert_false(logged(p, "lugano"));
	unload(p);

	p = plugin_new(0);
	assert_refused(p, load(p, "file", path, "site", "bern", NULL),
	    "has no spikes for site=bern (it holds site=zurich");
	unload(p);

	p = plugin_new(0);
	assert_refused(p, load(p, "file", path, "site", "lugano",
	    "population", "silicon", NULL),
	    "has no spikes for site=lugano population=silicon");
	unload(p);

	/* One filter is enough when it leaves one pair. */
	p = plugin_new(0);
	assert_int_equal(load(p, "file", path, "population", "silicon",
	    NULL), 0);
	assert_int_equal(p->neurons.units, 10);
	advance(p, 1 * S);
	assert_int_equal(p->nevents, 2);
	assert_int_equal(p->events[0].t_us, 20 * MS);
	assert_int_equal(p->events[0].index, 9);
	assert_int_equal(p->events[1].t_us, 60 * MS);
	assert_int_equal(p->events[1].index, 8);
	unload(p);

	p = plugin_new(0);
	assert_int_equal(load(p, "file", path, "site", "zurich",
	    "population", "culture", NULL), 0);
	advance(p, 1 * S);
	assert_int_equal(p->nevents, 2);
	assert_int_equal(p->events[0].index, 4);
	assert_int_equal(p->events[1].index, 5);
	assert_int_equal(p->events[1].t_us, 40 * MS);
	unload(p);
	free(path);
}

/* loop=1 repeats with a seam of one mean interval. */
static void
test_loop(void **state)
{
	static const struct spike sp[] = {
		{ 100 * MS, "z", "c", 0 },
		{ 200 * MS, "z", "c", 1 },
		{ 400 * MS, "z", "c", 2 },
	};
	/* Span 300 ms, mean interval 150 ms: one pass lasts 450 ms. */
	struct sb_plugin *p = plugin_new(0);
	char *path = write_spikes("loop.csv", sp, 3);
	size_t i;
	int64_t t = 0;

	assert_int_equal(load(p, "file", path, "loop", "1", "speed", "3",
	    NULL), 0);
	for (t = 0; t <= 3 * S; t += 7 * MS)
		advance(p, t);
	/* 3 s at speed 3 is 9 s recorded: 20 whole passes. */
	assert_int_equal(p->nevents, 60);
	for (i = 0; i < 60; i++) {
		int64_t rec = sp[i % 3].t_us + (int64_t)(i / 3) * 450 * MS;

		/* Nearest microsecond of rec / 3. */
		assert_int_equal(p->events[i].t_us, (rec + 1) / 3);
		assert_int_equal(p->events[i].index, sp[i % 3].unit);
	}
	assert_false(logged(p, "finished"));
	unload(p);

	/* Loaded late into a loop: starts inside the right pass. */
	p = plugin_new(1000 * S + 150 * MS);
	assert_int_equal(load(p, "file", path, "loop", "1", NULL), 0);
	advance(p, 1000 * S + 1 * S);
	assert_true(p->nevents >= 2);
	/* 1000.15 s = pass 2222 (999.9 s) + 250 ms: the 400 ms spike. */
	assert_int_equal(p->events[0].t_us, 2222 * 450 * MS + 400 * MS);
	assert_int_equal(p->events[0].index, 2);
	assert_int_equal(p->events[1].t_us, 2223 * 450 * MS + 100 * MS);
	assert_true(logged(p, "skipped 6668 spikes"));
	unload(p);
	free(path);
}

/* units= sets the population size, never below the file's units. */
static void
test_units(void **state)
{
	static const struct spike sp[] = {
		{ 1 * MS, "z", "c", 10 },
		{ 2 * MS, "z", "c", 3 },
	};
	struct sb_plugin *p;
	char *path = write_spikes("units.csv", sp, 2);

	p = plugin_new(0);
	assert_int_equal(load(p, "file", path, "units", "120", NULL), 0);
	assert_int_equal(p->neurons.units, 120);
	unload(p);

	p = plugin_new(0);
	assert_refused(p, load(p, "file", path, "units", "10", NULL),
	    "replay: units=10 is too few: ");
	assert_true(logged(p, "has unit 10 (give at least 11"));
	unload(p);

	p = plugin_new(0);
	assert_refused(p, load(p, "file", path, "units", "2.5", NULL),
	    "replay: units=2.5 invalid");
	unload(p);
	free(path);
}

/* Bad arguments are refused with what to give instead. */
static void
test_bad_args(void **state)
{
	static const struct spike sp[] = { { 1 * MS, "z", "c", 0 } };
	char *path = write_spikes("args.csv", sp, 1);
	struct sb_plugin *p;

	p = plugin_new(0);
	assert_refused(p, load(p, "name", "x", NULL), "replay: file= is "
	    "required (a spikes.csv recorded by synbridge)");
	unload(p);

	p = plugin_new(0);
	assert_refused(p, load(p, "file", path, "speed", "0", NULL),
	    "replay: speed=0 invalid (use a factor from");
	unload(p);

	p = plugin_new(0);
	assert_refused(p, load(p, "file", path, "speed", "fast", NULL),
	    "replay: speed=fast invalid");
	unload(p);

	p = plugin_new(0);
	assert_refused(p, load(p, "file", path, "offset", "1s", NULL),
	    "replay: offset=1s invalid (use seconds");
	unload(p);

	p = plugin_new(0);
	assert_refused(p, load(p, "file", path, "loop", "yes", NULL),
	    "replay: loop=yes invalid (use 0 or 1)");
	unload(p);

	p = plugin_new(0);
	assert_refused(p, load(p, "file", path, "name", "", NULL),
	    "replay: name must be 1 to 63 characters");
	unload(p);
	free(path);
}

/* A missing, empty or header-only file gets a clear message. */
static void
test_missing_file(void **state)
{
	struct sb_plugin *p;
	char *path = path_of("nonexistent.csv"), *want;

	p = plugin_new(0);
	xasprintf(&want, "replay: cannot read %s: No such file or directory "
	    "(file= must name a spikes.csv recorded by synbridge)", path);
	assert_refused(p, load(p, "file", path, NULL), want);
	free(want);
	free(path);
	unload(p);

	p = plugin_new(0);
	path = write_spikes("header.csv", NULL, 0);
	xasprintf(&want, "replay: %s holds no spikes (only its header)", path);
	assert_refused(p, load(p, "file", path, NULL), want);
	free(want);
	free(path);
	unload(p);

	p = plugin_new(0);
	path = write_raw("empty.csv", "");
	xasprintf(&want, "replay: %s:1:1: empty file", path);
	assert_refused(p, load(p, "file", path, NULL), want);
	free(want);
	free(path);
	unload(p);
}

/* Malformed files are refused with the reader's file:line:column. */
static void
test_malformed(void **state)
{
	static const struct {
		const char *name, *data, *where;
	} cases[] = {
		{ "number.csv", "t_s,site,population,unit\n"
		    "0.100000,z,c,1\n0.2x,z,c,2\n", ":3:1: bad t_s '0.2x'" },
		{ "unit.csv", "t_s,site,population,unit\n"
		    "0.100000,z,c,-4\n", ":2:14: bad unit '-4'" },
		{ "header.csv", "t_s,site,pop,unit\n0.1,z,c,1\n",
		    ":1:10: header field 3 is 'pop', expected 'population'" },
		{ "synapses.csv", "t_s,synapse,pre,post,event,amplitude_v,"
		    "width_us,count,g_before_us,g_after_us\n",
		    ":1:5: header field 2 is 'synapse', expected 'site'" },
		{ "few.csv", "t_s,site,population,unit\n0.1,z,c,1\n0.2,z,c\n",
		    ":3:8: too few fields: 3 of 4" },
		{ "many.csv", "t_s,site,population,unit\n0.1,z,c,1,9\n",
		    ":2:11: too many fields" },
		{ "quote.csv", "t_s,site,population,unit\n0.1,\"z,c,1\n"
		    "0.2,z,c,2\n", ":2:5: unterminated quoted field" },
	};
	struct sb_plugin *p;
	char *path, *want;
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		p = plugin_new(0);
		path = write_raw(cases[i].name, cases[i].data);
		xasprintf(&want, "replay: %s%s", path, cases[i].where);
		assert_refused(p, load(p, "file", path, NULL), want);
		free(want);
		free(path);
		unload(p);
	}
}

/* A full ring loses spikes (counted, logged) but the replay goes on. */
static void
test_ring_full(void **state)
{
	static const struct spike sp[] = {
		{ 1 * MS, "z", "c", 0 },
		{ 2 * MS, "z", "c", 1 },
		{ 3 * MS, "z", "c", 2 },
	};
	struct sb_plugin *p = plugin_new(0);
	char *path = write_spikes("ring.csv", sp, 3);
	struct sb_emitter em = { p, 0 };

	assert_int_equal(load(p, "file", path, NULL), 0);
	assert_int_equal(p->neurons.advance(p->data, 2 * MS, &em), 0);
	assert_int_equal(p->nevents, 0);
	assert_true(logged(p, "replay: population replay: event ring full, "
	    "2 spikes "
	    "lost so far"));
	advance(p, 3 * MS);
	assert_int_equal(p->nevents, 1);
	assert_int_equal(p->events[0].index, 2);
	free(path);
	unload(p);
}

/* The built module loads with no host symbols and exports the ABI. */
static void
test_module(void **state)
{
	static const struct spike sp[] = { { 5 * MS, "z", "c", 7 } };
	struct sb_plugin *p;
	sb_plugin_init_fn init;
	sb_plugin_end_fn end;
	char *path, *cause = NULL;
	void *h;

	if (getenv("top_builddir") == NULL)
		skip();
	/* Only the ABI is exported: its CSV reader and allocator stay in. */
	h = fake_module_open("plugins/replay/.libs/replay.so", "replay",
	    &init, &end, &cause);
	if (h == NULL)
		fail_msg("%s", cause);

	path = write_spikes("module.csv", sp, 1);
	p = plugin_new(0);
	fake_plugin_arg(p, "file", path);
	assert_int_equal(init(p, &fake_host), 0);
	advance(p, 1 * S);
	assert_int_equal(p->nevents, 1);
	assert_int_equal(p->events[0].t_us, 5 * MS);
	assert_int_equal(p->events[0].index, 7);
	fake_plugin_free(p, end);
	dlclose(h);
	free(path);
}

/* Make the scratch directory. */
static int
setup(void **state)
{
	return mkdtemp(test_dir) == NULL ? -1 : 0;
}

/* Remove the scratch directory and its files. */
static int
teardown(void **state)
{
	static const char *names[] = {
		"order.csv", "unsorted.csv", "speed.csv", "late.csv",
		"filters.csv", "loop.csv", "units.csv", "args.csv",
		"header.csv", "empty.csv", "number.csv", "unit.csv",
		"synapses.csv", "few.csv", "many.csv", "quote.csv",
		"ring.csv", "module.csv", "appended.csv",
	};
	char *path;
	size_t i;

	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		path = path_of(names[i]);
		unlink(path);
		free(path);
	}
	return rmdir(test_dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_chunks),
		cmocka_unit_test(test_unsorted),
		cmocka_unit_test(test_appended_runs),
		cmocka_unit_test(test_speed_offset),
		cmocka_unit_test(test_late_load),
		cmocka_unit_test(test_filters),
		cmocka_unit_test(test_loop),
		cmocka_unit_test(test_units),
		cmocka_unit_test(test_bad_args),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_ring_full),
		cmocka_unit_test(test_module),
	};
	return cmocka_run_group_tests_name("replay", tests, setup, teardown);
}
