/* test-csv.c: the CSV writer and reader. */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
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

#include "csvlog.h"
#include "xmalloc.h"

static char test_dir[] = "/tmp/sb-test-csv-XXXXXX";

/* Rows read back, with their strings copied. */
struct rows {
	size_t n, stop_after;
	struct csv_row v[64];
};

/* A path inside the test directory. */
static char *
path_of(const char *name)
{
	char *p;

	xasprintf(&p, "%s/%s", test_dir, name);
	return p;
}

/* Create a file with exactly these bytes. */
static void
put_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

/* The whole content of a file, NUL-terminated. */
static char *
get_file(const char *path, size_t *lenp)
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
	if (lenp != NULL)
		*lenp = st.st_size;
	return buf;
}

/* strdup that keeps NULL. */
static const char *
dup_or_null(const char *s)
{
	return s == NULL ? NULL : xstrdup(s);
}

/* Reader callback: keep a copy of the row. */
static int
collect(void *ctx, const struct csv_row *row)
{
	struct rows *r = ctx;
	struct csv_row *c;

	assert_true(r->n < sizeof r->v / sizeof r->v[0]);
	c = &r->v[r->n++];
	*c = *row;
	switch (row->kind) {
	case CSV_SPIKES:
		c->u.spike.site = dup_or_null(row->u.spike.site);
		c->u.spike.population = dup_or_null(row->u.spike.population);
		break;
	case CSV_SYNAPSES:
		c->u.synapse.synapse = dup_or_null(row->u.synapse.synapse);
		c->u.synapse.pre = dup_or_null(row->u.synapse.pre);
		c->u.synapse.post = dup_or_null(row->u.synapse.post);
		c->u.synapse.event = dup_or_null(row->u.synapse.event);
		break;
	case CSV_LINKS:
		c->u.link.link = dup_or_null(row->u.link.link);
		c->u.link.state = dup_or_null(row->u.link.state);
		break;
	case CSV_COMMANDS:
		c->u.command.site = dup_or_null(row->u.command.site);
		c->u.command.user = dup_or_null(row->u.command.user);
		c->u.command.command = dup_or_null(row->u.command.command);
		c->u.command.status = dup_or_null(row->u.command.status);
		c->u.command.message = dup_or_null(row->u.command.message);
		break;
	default:
		fail();
	}
	return r->stop_after != 0 && r->n >= r->stop_after;
}

/* Free the copies collect() made. */
static void
rows_free(struct rows *r)
{
	size_t i;
	struct csv_row *c;

	for (i = 0; i < r->n; i++) {
		c = &r->v[i];
		switch (c->kind) {
		case CSV_SPIKES:
			free((char *)c->u.spike.site);
			free((char *)c->u.spike.population);
			break;
		case CSV_SYNAPSES:
			free((char *)c->u.synapse.synapse);
			free((char *)c->u.synapse.pre);
			free((char *)c->u.synapse.post);
			free((char *)c->u.synapse.event);
			break;
		case CSV_LINKS:
			free((char *)c->u.link.link);
			free((char *)c->u.link.state);
			break;
		default:
			free((char *)c->u.command.site);
			free((char *)c->u.command.user);
			free((char *)c->u.command.command);
			free((char *)c->u.command.status);
			free((char *)c->u.command.message);
			break;
		}
	}
	r->n = 0;
}

/* Write rows to a fresh file through csv_file_*. */
static void
write_rows(const char *path, enum csv_kind kind, const struct csv_row *rows,
    size_t n)
{
	struct csv_file *f;
	char *cause = NULL;
	size_t i;

	unlink(path);
	f = csv_file_open(path, kind, &cause);
	assert_non_null(f);
	for (i = 0; i < n; i++)
		csv_file_row(f, &rows[i]);
	assert_int_equal(csv_file_rows(f), n);
	assert_int_equal(csv_file_flush(f, &cause), 0);
	csv_file_close(f);
}

/* Read a file that must parse. */
static void
read_ok(const char *path, enum csv_kind kind, struct rows *out)
{
	char *cause = NULL;
	int rc;

	out->n = 0;
	out->stop_after = 0;
	rc = csv_read_file(path, kind, collect, out, &cause);
	if (rc != 0)
		print_error("unexpected: %s\n", cause);
	assert_int_equal(rc, 0);
	assert_null(cause);
}

/* A double that must come back within half the last written decimal. */
static void
assert_near(double got, double want, double tolerance)
{
	if (isnan(want)) {
		assert_true(isnan(got));
		return;
	}
	assert_false(isnan(got));
	if (fabs(got - want) > tolerance) {
		print_error("%.9g is not %.9g (+/- %g)\n", got, want,
		    tolerance);
		fail();
	}
}

/* Kinds are found by name and their headers are DESIGN.md's. */
static void
test_kinds(void **state)
{
	assert_int_equal(csv_kind_from_name("spikes"), CSV_SPIKES);
	assert_int_equal(csv_kind_from_name("synapses"), CSV_SYNAPSES);
	assert_int_equal(csv_kind_from_name("links"), CSV_LINKS);
	assert_int_equal(csv_kind_from_name("commands"), CSV_COMMANDS);
	assert_int_equal(csv_kind_from_name("spike"), -1);
	assert_string_equal(csv_kind_headers[CSV_SYNAPSES],
	    "t_s,synapse,pre,post,event,amplitude_v,width_us,count,"
	    "g_before_us,g_after_us,weight_before,weight_after");
	assert_string_equal(csv_kind_headers[CSV_LINKS],
	    "t_s,link,state,rtt_ms,jitter_ms,offset_ms,uncertainty_ms,"
	    "loss_pct,retransmits,queue,events_per_s,in_per_s,out_per_s,"
	    "malformed,out_of_range,age_s");
	assert_string_equal(csv_kind_headers[CSV_COMMANDS],
	    "t_s,site,user,command,status,message");
}

/* Spikes: exact text (times with 6 decimals, negative too) and back. */
static void
test_spikes_roundtrip(void **state)
{
	struct csv_row in[] = {
		{ CSV_SPIKES, .u.spike = { -1, "padova", "mea", 0 } },
		{ CSV_SPIKES, .u.spike = { 0, "zurich", "silicon", 17 } },
		{ CSV_SPIKES, .u.spike = { 12345678, "Zürich", "µ,pop",
		    UINT32_MAX } },
		{ CSV_SPIKES, .u.spike = { -2500000, "s", "p", 3 } },
		{ CSV_SPIKES, .u.spike = { INT64_MAX, "s", "p", 4 } },
		{ CSV_SPIKES, .u.spike = { INT64_MIN, "s", "p", 5 } },
	};
	const char *want = "t_s,site,population,unit\n"
	    "-0.000001,padova,mea,0\n"
	    "0.000000,zurich,silicon,17\n"
	    "12.345678,Zürich,\"µ,pop\",4294967295\n"
	    "-2.500000,s,p,3\n"
	    "9223372036854.775807,s,p,4\n"
	    "-9223372036854.775808,s,p,5\n";
	char *path = path_of("spikes.csv"), *text;
	struct rows out;
	size_t i;

	write_rows(path, CSV_SPIKES, in, 6);
	text = get_file(path, NULL);
	assert_string_equal(text, want);
	read_ok(path, CSV_SPIKES, &out);
	assert_int_equal(out.n, 6);
	for (i = 0; i < 6; i++) {
		assert_int_equal(out.v[i].kind, CSV_SPIKES);
		assert_true(out.v[i].u.spike.t_us == in[i].u.spike.t_us);
		assert_string_equal(out.v[i].u.spike.site, in[i].u.spike.site);
		assert_string_equal(out.v[i].u.spike.population,
		    in[i].u.spike.population);
		assert_int_equal(out.v[i].u.spike.unit, in[i].u.spike.unit);
	}
	rows_free(&out);
	free(text);
	free(path);
}

/*
 * Synapses: fixed decimals, NaN and zero counts as empty fields, weights
 * last (unknown ones empty).
 */
static void
test_synapses_roundtrip(void **state)
{
	struct csv_row in[] = {
		{ CSV_SYNAPSES, .u.synapse = { 1500000, "s0", "padova/mea:3",
		    "zurich/silicon:7", "potentiate", 4.0, 100, 1, 57.12341,
		    61.0, 0, 17 } },
		{ CSV_SYNAPSES, .u.synapse = { 1500100, "s1", "", "",
		    "synaptic", NAN, 0, 0, 0.00004, 0.00005, 255, 255 } },
		{ CSV_SYNAPSES, .u.synapse = { 2000000, "s7", NULL, NULL,
		    "depress", -3.99996, 90, 255, NAN, 123456.78915, -1,
		    128 } },
	};
	const char *want = "t_s,synapse,pre,post,event,amplitude_v,width_us,"
	    "count,g_before_us,g_after_us,weight_before,weight_after\n"
	    "1.500000,s0,padova/mea:3,zurich/silicon:7,potentiate,4.0000,"
	    "100,1,57.1234,61.0000,0,17\n"
	    "1.500100,s1,,,synaptic,,,,0.0000,0.0001,255,255\n"
	    "2.000000,s7,,,depress,-4.0000,90,255,,123456.7892,,128\n";
	char *path = path_of("synapses.csv"), *text;
	const struct csv_synapse_row *a, *b;
	struct rows out;
	size_t i;

	write_rows(path, CSV_SYNAPSES, in, 3);
	text = get_file(path, NULL);
	assert_string_equal(text, want);
	read_ok(path, CSV_SYNAPSES, &out);
	assert_int_equal(out.n, 3);
	for (i = 0; i < 3; i++) {
		a = &out.v[i].u.synapse;
		b = &in[i].u.synapse;
		assert_true(a->t_us == b->t_us);
		assert_string_equal(a->synapse, b->synapse);
		assert_string_equal(a->pre, b->pre ? b->pre : "");
		assert_string_equal(a->post, b->post ? b->post : "");
		assert_string_equal(a->event, b->event);
		assert_near(a->amplitude_v, b->amplitude_v, 0.00005);
		assert_int_equal(a->width_us, b->width_us);
		assert_int_equal(a->count, b->count);
		assert_near(a->g_before_us, b->g_before_us, 0.00005);
		assert_near(a->g_after_us, b->g_after_us, 0.000051);
		assert_int_equal(a->weight_before, b->weight_before);
		assert_int_equal(a->weight_after, b->weight_after);
	}
	rows_free(&out);
	free(text);
	free(path);
}

/*
 * Links: state, milliseconds to 3 decimals, large counters, NaN. Relay
 * rows leave the device columns empty but age_s; device rows fill them
 * (an unknown loss or age empty, counts of 0 written); another site's row
 * leaves retransmits and queue empty too.
 */
static void
test_links_roundtrip(void **state)
{
	struct csv_row in[] = {
		{ CSV_LINKS, .u.link = { 3000000, "padova", "up", 0.4567,
		    0.01, -12.3456, 0.2, 0.0, 0, 0, 1234.567, NAN, NAN,
		    CSV_NO_COUNT, CSV_NO_COUNT, 0.25 } },
		{ CSV_LINKS, .u.link = { 4000000, "zurich relay", "degraded",
		    NAN, NAN, NAN, NAN, 100.0, CSV_NO_COUNT - 1, 42, NAN, NAN,
		    NAN,
		    CSV_NO_COUNT, CSV_NO_COUNT, NAN } },
		/* another site's row: no retransmits or queue of its own */
		{ CSV_LINKS, .u.link = { 5000000, "s", "down", 1e20, 0, 0,
		    0, 2.5, CSV_NO_COUNT, CSV_NO_COUNT, 0, NAN, NAN,
		    CSV_NO_COUNT, CSV_NO_COUNT, 0 } },
		/* device rows: an instrument, a UDP partner not heard yet */
		{ CSV_LINKS, .u.link = { 6000000, "padova/mea", "up", NAN,
		    NAN, NAN, NAN, NAN, 2, 0, 1012.5, 1000.004, 12.496, 3,
		    CSV_NO_COUNT - 1, 0.0126 } },
		{ CSV_LINKS, .u.link = { 7000000, "zurich/ramp", "degraded",
		    NAN, NAN, NAN, NAN, 1.5, 0, 0, 0, 0, 0, 0, 0, NAN } },
	};
	const char *want = "t_s,link,state,rtt_ms,jitter_ms,offset_ms,"
	    "uncertainty_ms,loss_pct,retransmits,queue,events_per_s,"
	    "in_per_s,out_per_s,malformed,out_of_range,age_s\n"
	    "3.000000,padova,up,0.457,0.010,-12.346,0.200,0.000,0,0,"
	    "1234.57,,,,,0.250\n"
	    "4.000000,zurich relay,degraded,,,,,100.000,"
	    "18446744073709551614,42,,,,,,\n"
	    "5.000000,s,down,1e+20,0.000,0.000,0.000,2.500,,,0.00,,,,,"
	    "0.000\n"
	    "6.000000,padova/mea,up,,,,,,2,0,1012.50,1000.00,12.50,3,"
	    "18446744073709551614,0.013\n"
	    "7.000000,zurich/ramp,degraded,,,,,1.500,0,0,0.00,0.00,0.00,0,0,"
	    "\n";
	char *path = path_of("links.csv"), *text;
	const struct csv_link_row *a, *b;
	struct rows out;
	size_t i;

	write_rows(path, CSV_LINKS, in, 5);
	text = get_file(path, NULL);
	assert_string_equal(text, want);
	read_ok(path, CSV_LINKS, &out);
	assert_int_equal(out.n, 5);
	for (i = 0; i < 5; i++) {
		a = &out.v[i].u.link;
		b = &in[i].u.link;
		assert_true(a->t_us == b->t_us);
		assert_string_equal(a->link, b->link);
		assert_string_equal(a->state, b->state);
		assert_near(a->rtt_ms, b->rtt_ms, b->rtt_ms * 1e-15 + 0.0005);
		assert_near(a->jitter_ms, b->jitter_ms, 0.0005);
		assert_near(a->offset_ms, b->offset_ms, 0.0005);
		assert_near(a->uncertainty_ms, b->uncertainty_ms, 0.0005);
		assert_near(a->loss_pct, b->loss_pct, 0.0005);
		assert_true(a->retransmits == b->retransmits);
		assert_true(a->queue == b->queue);
		assert_near(a->events_per_s, b->events_per_s, 0.005);
		assert_near(a->in_per_s, b->in_per_s, 0.005);
		assert_near(a->out_per_s, b->out_per_s, 0.005);
		assert_true(a->malformed == b->malformed);
		assert_true(a->out_of_range == b->out_of_range);
		assert_near(a->age_s, b->age_s, 0.0005);
	}
	/* a relay row's device columns read back as not applicable */
	assert_true(isnan(out.v[0].u.link.in_per_s));
	assert_true(isnan(out.v[0].u.link.out_per_s));
	assert_true(out.v[0].u.link.malformed == CSV_NO_COUNT);
	assert_true(out.v[0].u.link.out_of_range == CSV_NO_COUNT);
	assert_near(out.v[0].u.link.age_s, 0.25, 0);
	assert_true(isnan(out.v[1].u.link.age_s));
	/* a device row's figures come back, zero counts as 0, not empty */
	assert_true(out.v[3].u.link.malformed == 3);
	assert_true(out.v[3].u.link.out_of_range == UINT64_MAX - 1);
	assert_near(out.v[3].u.link.in_per_s, 1000.0, 0);
	assert_near(out.v[3].u.link.out_per_s, 12.5, 0);
	assert_true(isnan(out.v[3].u.link.loss_pct));
	assert_true(out.v[4].u.link.malformed == 0);
	assert_true(out.v[4].u.link.out_of_range == 0);
	assert_near(out.v[4].u.link.in_per_s, 0, 0);
	assert_true(isnan(out.v[4].u.link.age_s));
	rows_free(&out);
	free(text);
	free(path);
}

/* Commands: any text survives, and is quoted only when it must be. */
static void
test_commands_roundtrip(void **state)
{
	static const char *texts[] = {
		"plain", "a,b", "say \"hi\"", "line1\nline2", "cr\rhere",
		"crlf\r\nend", " leading", "trailing ", "\ttab", "in side",
		"µS Zürich \xf0\x9f\xa7\xa0", "", ",", "\"", "\n", "\"\"",
		"mark: burst, \"big\"\r\n second line ",
	};
	size_t n = sizeof texts / sizeof texts[0], i;
	struct csv_row in[sizeof texts / sizeof texts[0]];
	char *path = path_of("commands.csv"), *text;
	const struct csv_command_row *a;
	struct rows out;

	for (i = 0; i < n; i++) {
		in[i].kind = CSV_COMMANDS;
		in[i].u.command.t_us = (int64_t)i * 1000;
		in[i].u.command.site = texts[(i + 1) % n];
		in[i].u.command.user = texts[(i + 2) % n];
		in[i].u.command.command = texts[(i + 3) % n];
		in[i].u.command.status = texts[(i + 4) % n];
		in[i].u.command.message = texts[i];
	}
	write_rows(path, CSV_COMMANDS, in, n);
	text = get_file(path, NULL);
	/* Plain text as is, special text quoted with doubled quotes. */
	assert_non_null(strstr(text, "\n0.000000,\"a,b\",\"say \"\"hi\"\"\","
	    "\"line1\nline2\",\"cr\rhere\",plain\n"));
	assert_non_null(strstr(text, ",in side,"));
	assert_non_null(strstr(text, ",\" leading\","));
	assert_non_null(strstr(text, ",\"trailing \","));

	read_ok(path, CSV_COMMANDS, &out);
	assert_int_equal(out.n, n);
	for (i = 0; i < n; i++) {
		a = &out.v[i].u.command;
		assert_true(a->t_us == (int64_t)i * 1000);
		assert_string_equal(a->site, in[i].u.command.site);
		assert_string_equal(a->user, in[i].u.command.user);
		assert_string_equal(a->command, in[i].u.command.command);
		assert_string_equal(a->status, in[i].u.command.status);
		assert_string_equal(a->message, in[i].u.command.message);
	}
	rows_free(&out);
	free(text);
	free(path);
}

/* Rows reach the file only on flush, and then whole. */
static void
test_flush_whole_rows(void **state)
{
	struct csv_row row = { CSV_SPIKES, .u.spike = { 1, "a", "b", 2 } };
	char *path = path_of("flush.csv"), *text, *cause = NULL;
	struct csv_file *f;

	unlink(path);
	f = csv_file_open(path, CSV_SPIKES, &cause);
	assert_non_null(f);
	assert_string_equal(csv_file_path(f), path);
	text = get_file(path, NULL);
	assert_string_equal(text, "t_s,site,population,unit\n");
	free(text);
	csv_file_row(f, &row);
	text = get_file(path, NULL);
	assert_string_equal(text, "t_s,site,population,unit\n");
	free(text);
	assert_int_equal(csv_file_flush(f, &cause), 0);
	text = get_file(path, NULL);
	assert_string_equal(text, "t_s,site,population,unit\n"
	    "0.000001,a,b,2\n");
	free(text);
	csv_file_close(f);
	csv_file_close(NULL);
	free(path);
}

/* Opening an existing log appends after its rows, without a new header. */
static void
test_append(void **state)
{
	struct csv_row row = { CSV_SPIKES, .u.spike = { 0, "a", "b", 0 } };
	char *path = path_of("append.csv"), *text, *cause = NULL;
	struct csv_file *f;
	struct rows out;
	int i;

	unlink(path);
	for (i = 0; i < 3; i++) {
		f = csv_file_open(path, CSV_SPIKES, &cause);
		assert_non_null(f);
		assert_int_equal(csv_file_rows(f), 0);
		row.u.spike.unit = i;
		csv_file_row(f, &row);
		csv_file_close(f);	/* close flushes */
	}
	text = get_file(path, NULL);
	assert_string_equal(text, "t_s,site,population,unit\n"
	    "0.000000,a,b,0\n0.000000,a,b,1\n0.000000,a,b,2\n");
	free(text);

	/* A CRLF file written elsewhere is appended to as well. */
	put_file(path, "t_s,site,population,unit\r\n0.5,x,y,1\r\n", 37);
	f = csv_file_open(path, CSV_SPIKES, &cause);
	assert_non_null(f);
	csv_file_row(f, &row);
	csv_file_close(f);
	read_ok(path, CSV_SPIKES, &out);
	assert_int_equal(out.n, 2);
	assert_int_equal(out.v[0].u.spike.t_us, 500000);
	assert_int_equal(out.v[1].u.spike.unit, 2);
	rows_free(&out);
	free(path);
}

/* A file with another header is refused and left alone. */
static void
test_refuse_wrong_header(void **state)
{
	const char *other = "t_s,link,state\n1.0,a,up\n";
	const char *old_links = "t_s,link,state,rtt_ms,jitter_ms,offset_ms,"
	    "uncertainty_ms,loss_pct,retransmits,queue,events_per_s\n"
	    "1.000000,padova/relay,up,0.500,0.100,0.000,0.200,0.000,0,0,"
	    "10.00\n";
	char *path = path_of("other.csv"), *text, *cause = NULL, *want;

	put_file(path, other, strlen(other));
	assert_null(csv_file_open(path, CSV_SPIKES, &cause));
	assert_non_null(cause);
	xasprintf(&want, "%s: not a spikes log: its header is 't_s,link,state'"
	    ", expected 't_s,site,population,unit'; move the file aside or "
	    "log to another directory", path);
	assert_string_equal(cause, want);
	free(want);
	free(cause);
	cause = NULL;

	/* A links file is not a synapses file either. */
	write_rows(path, CSV_LINKS, NULL, 0);
	assert_null(csv_file_open(path, CSV_SYNAPSES, &cause));
	assert_non_null(strstr(cause, "not a synapses log"));
	free(cause);
	cause = NULL;

	/* Header prefix is not enough. */
	put_file(path, "t_s,site,population,unit,extra\n", 31);
	assert_null(csv_file_open(path, CSV_SPIKES, &cause));
	assert_non_null(strstr(cause, "not a spikes log"));
	free(cause);
	cause = NULL;
	text = get_file(path, NULL);
	assert_string_equal(text, "t_s,site,population,unit,extra\n");
	free(text);

	/*
	 * A links file recorded before the device columns is refused, not
	 * appended to with rows of another width, and left alone.
	 */
	put_file(path, old_links, strlen(old_links));
	assert_null(csv_file_open(path, CSV_LINKS, &cause));
	assert_non_null(strstr(cause, "not a links log"));
	assert_non_null(strstr(cause, "expected 't_s,link,state,rtt_ms,"
	    "jitter_ms,offset_ms,uncertainty_ms,loss_pct,retransmits,queue,"
	    "events_per_s,in_per_s,out_per_s,malformed,out_of_range,age_s'; "
	    "move the file aside"));
	free(cause);
	cause = NULL;
	text = get_file(path, NULL);
	assert_string_equal(text, old_links);
	free(text);

	/* A cut last row is refused: appending would glue rows together. */
	put_file(path, "t_s,site,population,unit\n1.000000,pad", 37);
	assert_null(csv_file_open(path, CSV_SPIKES, &cause));
	assert_non_null(strstr(cause, "ends with an incomplete row"));
	free(cause);
	cause = NULL;

	/* A directory that does not exist. */
	free(path);
	path = path_of("missing/spikes.csv");
	assert_null(csv_file_open(path, CSV_SPIKES, &cause));
	assert_non_null(strstr(cause, "cannot open for writing"));
	free(cause);
	free(path);
}

/* CRLF line ends, a missing final line end and a BOM are all fine. */
static void
test_accepts(void **state)
{
	static const char crlf[] = "t_s,site,population,unit\r\n"
	    "1.5,a,b,1\r\n2,\"x\r\ny\",b,2\r\n";
	static const char nonl[] = "t_s,site,population,unit\n1.000000,a,b,1";
	static const char quoted_last[] =
	    "t_s,site,population,unit\n1,a,b,1\n2,a,\"b\"\"\",2";
	static const char bom[] = "\xef\xbb\xbft_s,site,population,unit\n"
	    "-0.25,a,b,1\n";
	char *path = path_of("accept.csv");
	struct rows out;

	put_file(path, crlf, sizeof crlf - 1);
	read_ok(path, CSV_SPIKES, &out);
	assert_int_equal(out.n, 2);
	assert_int_equal(out.v[0].u.spike.t_us, 1500000);
	assert_string_equal(out.v[1].u.spike.site, "x\r\ny");
	rows_free(&out);

	put_file(path, nonl, sizeof nonl - 1);
	read_ok(path, CSV_SPIKES, &out);
	assert_int_equal(out.n, 1);
	assert_int_equal(out.v[0].u.spike.unit, 1);
	rows_free(&out);

	put_file(path, quoted_last, sizeof quoted_last - 1);
	read_ok(path, CSV_SPIKES, &out);
	assert_int_equal(out.n, 2);
	assert_string_equal(out.v[1].u.spike.population, "b\"");
	rows_free(&out);

	put_file(path, bom, sizeof bom - 1);
	read_ok(path, CSV_SPIKES, &out);
	assert_int_equal(out.n, 1);
	assert_int_equal(out.v[0].u.spike.t_us, -250000);
	rows_free(&out);

	/* Header only: no rows, no error. */
	put_file(path, "t_s,site,population,unit\n", 25);
	read_ok(path, CSV_SPIKES, &out);
	assert_int_equal(out.n, 0);
	free(path);
}

/* A non-zero return from the row function stops reading. */
static void
test_stop(void **state)
{
	static const char data[] = "t_s,site,population,unit\n"
	    "1,a,b,1\n2,a,b,2\n3,a,b,3\n";
	char *path = path_of("stop.csv"), *cause = NULL;
	struct rows out = { .stop_after = 2 };

	put_file(path, data, sizeof data - 1);
	assert_int_equal(csv_read_file(path, CSV_SPIKES, collect, &out,
	    &cause), 0);
	assert_int_equal(out.n, 2);
	rows_free(&out);
	free(path);

	path = path_of("does-not-exist.csv");
	assert_int_equal(csv_read_file(path, CSV_SPIKES, collect, &out,
	    &cause), -1);
	assert_non_null(strstr(cause, "does-not-exist.csv: cannot open: "));
	free(cause);
	free(path);
}

struct bad_case {
	enum csv_kind kind;
	const char *data;
	size_t len;		/* 0: strlen(data) */
	const char *want;	/* the cause after "path:" */
};

#define SPIKES_H "t_s,site,population,unit\n"
#define COMMANDS_H "t_s,site,user,command,status,message\n"
#define LINKS_H "t_s,link,state,rtt_ms,jitter_ms,offset_ms,uncertainty_ms," \
	"loss_pct,retransmits,queue,events_per_s,in_per_s,out_per_s," \
	"malformed,out_of_range,age_s\n"
#define SYNAPSES_H "t_s,synapse,pre,post,event,amplitude_v,width_us,count," \
	"g_before_us,g_after_us,weight_before,weight_after\n"

static const struct bad_case bad_cases[] = {
	/* empty file */
	{ CSV_SPIKES, "", 0, "1:1: empty file: a spikes file starts with "
	    "the header 't_s,site,population,unit'" },
	{ CSV_SPIKES, "\xef\xbb\xbf", 0, "1:1: empty file" },
	/* wrong header */
	{ CSV_SPIKES, "t_s,site,pop,unit\n1,a,b,1\n", 0, "1:10: header "
	    "field 3 is 'pop', expected 'population' (is this a spikes file? "
	    "its header is 't_s,site,population,unit')" },
	{ CSV_SPIKES, "t_s,site\n", 0, "1:9: header has 2 fields; a spikes "
	    "file starts with 't_s,site,population,unit'" },
	{ CSV_SPIKES, SPIKES_H "1,a,b,1", 0, NULL },	/* control: fine */
	{ CSV_SYNAPSES, SPIKES_H, 0, "1:5: header field 2 is 'site', "
	    "expected 'synapse'" },
	{ CSV_SPIKES, "t_s,site,population,unit,x\n", 0, "1:26: header has "
	    "more than 4 fields" },
	/* unterminated quote, reported where it opens */
	{ CSV_SPIKES, SPIKES_H "1.000000,padova,mea,1\n2.000000,\"pad\nova,"
	    "mea,2\n", 0, "3:10: unterminated quoted field (the quote opened "
	    "here is never closed)" },
	{ CSV_COMMANDS, COMMANDS_H "1,a,b,c,d,\"", 0, "2:11: unterminated" },
	/* wrong field count */
	{ CSV_SPIKES, SPIKES_H "1.000000,padova,mea,1,9\n", 0, "2:23: too "
	    "many fields: a spikes row has 4 (a comma in a text field must be "
	    "inside quotes)" },
	{ CSV_SPIKES, SPIKES_H "1.000000,padova,mea\n", 0, "2:20: too few "
	    "fields: 3 of 4 (the row is cut short)" },
	{ CSV_SPIKES, SPIKES_H "1.000000,padova,mea", 0, "2:20: too few "
	    "fields: 3 of 4" },
	{ CSV_SPIKES, SPIKES_H "1.000000,padova,mea\r\n", 0, "2:20: too few "
	    "fields" },
	{ CSV_SPIKES, SPIKES_H "1,a,b,1\n2\n", 0, "3:2: too few fields: 1" },
	/* bad numbers */
	{ CSV_SPIKES, SPIKES_H "1.000000,padova,mea,12x\n", 0, "2:21: bad "
	    "unit '12x': expected a whole number from 0 to 4294967295" },
	{ CSV_SPIKES, SPIKES_H "1,a,b,4294967296\n", 0, "2:7: bad unit" },
	{ CSV_SPIKES, SPIKES_H "1,a,b,-1\n", 0, "2:7: bad unit" },
	{ CSV_SPIKES, SPIKES_H "1,a,b,\n", 0, "2:7: bad unit ''" },
	{ CSV_SPIKES, SPIKES_H "1.0000001,a,b,1\n", 0, "2:1: bad t_s "
	    "'1.0000001': expected seconds with at most 6 decimals, like "
	    "12.345678" },
	{ CSV_SPIKES, SPIKES_H ",a,b,1\n", 0, "2:1: bad t_s ''" },
	{ CSV_SPIKES, SPIKES_H "1.,a,b,1\n", 0, "2:1: bad t_s" },
	{ CSV_SPIKES, SPIKES_H " 1,a,b,1\n", 0, "2:1: bad t_s ' 1'" },
	{ CSV_SPIKES, SPIKES_H "99999999999999,a,b,1\n", 0, "2:1: bad t_s" },
	{ CSV_SPIKES, SPIKES_H "1,,b,1\n", 0, "2:3: empty site" },
	{ CSV_SYNAPSES, SYNAPSES_H "1,s0,a,b,read,,,,5,5,0,255\n"
	    "2,s0,a,b,read,,,,5,5,12,256\n", 0, "3:25: bad weight_after "
	    "'256': expected a weight from 0 to 255 or an empty field" },
	{ CSV_SYNAPSES, SYNAPSES_H "2,s0,a,b,read,,,,5,5,-1,\n", 0, "2:22: "
	    "bad weight_before '-1'" },
	{ CSV_SYNAPSES, SYNAPSES_H "2,s0,a,b,read,,,,5,5,1.5,\n", 0, "2:22: "
	    "bad weight_before '1.5'" },
	/* a log from before the weight columns */
	{ CSV_SYNAPSES, "t_s,synapse,pre,post,event,amplitude_v,width_us,"
	    "count,g_before_us,g_after_us\n", 0, "1:77: header has 10 fields; "
	    "a synapses file starts with 't_s,synapse,pre,post,event,"
	    "amplitude_v,width_us,count,g_before_us,g_after_us,weight_before,"
	    "weight_after'" },
	{ CSV_LINKS, LINKS_H "1,a,up,1,1,-1,1,5,0,0,1,,,,,\n"
	    "2,a,sideways,1,1,1,1,5,0,0,1,,,,,\n", 0, "3:5: bad state "
	    "'sideways': expected up, degraded or down" },
	{ CSV_LINKS, LINKS_H "2,a,up,-1,1,1,1,5,0,0,1,,,,,\n", 0, "2:8: "
	    "bad rtt_ms '-1': expected a number >= 0" },
	{ CSV_LINKS, LINKS_H "2,a,up,1,1,1,1,100.5,0,0,1,,,,,\n", 0, "2:16: "
	    "bad loss_pct '100.5': expected a percentage" },
	{ CSV_LINKS, LINKS_H "2,a,up,nan,1,1,1,1,0,0,1,,,,,\n", 0, "2:8: "
	    "bad rtt_ms 'nan'" },
	{ CSV_LINKS, LINKS_H "2,a,up,1,1,-inf,1,1,0,0,1,,,,,\n", 0, "2:12: "
	    "bad offset_ms '-inf'" },
	{ CSV_LINKS, LINKS_H "2,a,up,0x10,1,1,1,1,0,0,1,,,,,\n", 0, "2:8: "
	    "bad rtt_ms '0x10'" },
	{ CSV_LINKS, LINKS_H "2,a,up,1,1,1,1,1,0,0,1 ,,,,,\n", 0, "2:22: "
	    "bad events_per_s '1 '" },
	{ CSV_LINKS, LINKS_H "2,a,up,1,1,1,1,1,-0,0,1,,,,,\n", 0, "2:18: "
	    "bad retransmits '-0'" },
	{ CSV_LINKS, LINKS_H "2,a,up,1,1,1,1,1,0,18446744073709551616,1,,,,,"
	    "\n", 0, "2:20: bad queue" },
	/* the device columns */
	{ CSV_LINKS, LINKS_H "1,a/b,up,,,,,,0,0,2,1,1,0,0,0.5\n"
	    "2,a/b,up,,,,,,0,0,2,1,1,1.5,0,0.5\n", 0, "3:25: bad malformed "
	    "'1.5': expected a whole number of at most 20 digits or an empty "
	    "field" },
	{ CSV_LINKS, LINKS_H "2,a/b,up,,,,,,0,0,2,1,1,-1,0,0.5\n", 0, "2:25: "
	    "bad malformed '-1'" },
	{ CSV_LINKS, LINKS_H "2,a/b,up,,,,,,0,0,2,1,1,0,"
	    "18446744073709551615,0.5\n", 0, "2:27: bad out_of_range "
	    "'18446744073709551615'" },
	{ CSV_LINKS, LINKS_H "2,a/b,up,,,,,,0,0,2,-1,1,0,0,0.5\n", 0, "2:21: "
	    "bad in_per_s '-1': expected a number >= 0 or an empty field" },
	{ CSV_LINKS, LINKS_H "2,a/b,up,,,,,,0,0,2,1,nan,0,0,0.5\n", 0, "2:23: "
	    "bad out_per_s 'nan'" },
	{ CSV_LINKS, LINKS_H "2,a/b,up,,,,,,0,0,2,1,1,0,0,-1\n", 0, "2:29: "
	    "bad age_s '-1'" },
	{ CSV_LINKS, LINKS_H "2,a/b,up,,,,,,0,0,2,1,1,0,0\n", 0, "2:28: "
	    "too few fields: 15 of 16" },
	/* a log from before the device columns */
	{ CSV_LINKS, "t_s,link,state,rtt_ms,jitter_ms,offset_ms,"
	    "uncertainty_ms,loss_pct,retransmits,queue,events_per_s\n", 0,
	    "1:97: header has 11 fields; a links file starts with 't_s,link,"
	    "state,rtt_ms,jitter_ms,offset_ms,uncertainty_ms,loss_pct,"
	    "retransmits,queue,events_per_s,in_per_s,out_per_s,malformed,"
	    "out_of_range,age_s'" },
	/* positions after quoted fields that hold line ends */
	{ CSV_COMMANDS, COMMANDS_H "1,padova,ann,mark,ok,\"a\nb\nc\"\n"
	    "x,padova,ann,mark,ok,m\n", 0, "5:1: bad t_s 'x'" },
	{ CSV_COMMANDS, COMMANDS_H "1.000000,padova,\"ann\nbob\",cmd,ok,msg,"
	    "extra\n", 0, "3:17: too many fields" },
	{ CSV_COMMANDS, COMMANDS_H "1,\"a\r\nb\",u,c,s,\"m\"\"\n\"\"\"\r\n"
	    "2,a\n", 0, "5:4: too few fields: 2 of 6" },
	/* quotes in the wrong place */
	{ CSV_SPIKES, SPIKES_H "1.000000,pad\"ova,mea,1\n", 0, "2:10: quote "
	    "inside an unquoted field (quote the whole field and double the "
	    "quotes inside it)" },
	{ CSV_SPIKES, SPIKES_H "1.000000,\"padova\"x,mea,1\n", 0, "2:10: text "
	    "after the closing quote of a field (a quote inside a quoted "
	    "field must be doubled)" },
	{ CSV_SPIKES, SPIKES_H "1,\"a\" ,b,1\n", 0, "2:3: text after the "
	    "closing quote" },
	/* line ends */
	{ CSV_SPIKES, SPIKES_H "\n1,a,b,1\n", 0, "2:1: blank line (every line "
	    "must be a row)" },
	{ CSV_SPIKES, SPIKES_H "1,a,b,1\n\n", 0, "3:1: blank line" },
	{ CSV_SPIKES, SPIKES_H "1,a,b,1\r2,a,b,2\n", 0, "2:8: carriage "
	    "return without a line feed (lines must end with LF or CRLF)" },
	{ CSV_SPIKES, SPIKES_H "1,a,b,1\r", 0, "2:8: carriage return" },
	/* binary */
	{ CSV_SPIKES, SPIKES_H "1,a\0b,c,1\n", 35, "2:3: NUL byte in field 2: "
	    "the file is damaged" },
	{ CSV_SPIKES, "\x7f" "ELF\x02\x01\x01", 0, "1:1: header field 1 is "
	    "'?ELF?\?\?', expected 't_s'" },
	{ CSV_SPIKES, "\x7f" "ELF\x02\x01\x01\0\0\0", 10, "1:1: NUL byte" },
};

/* Every kind of malformed input is reported as file:line:column: what. */
static void
test_malformed(void **state)
{
	char *path = path_of("bad.csv"), *cause, *want;
	const struct bad_case *c;
	struct rows out;
	size_t i;
	int rc;

	for (i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
		c = &bad_cases[i];
		put_file(path, c->data, c->len ? c->len : strlen(c->data));
		cause = NULL;
		out.n = 0;
		out.stop_after = 0;
		rc = csv_read_file(path, c->kind, collect, &out, &cause);
		rows_free(&out);
		if (c->want == NULL) {
			assert_int_equal(rc, 0);
			continue;
		}
		xasprintf(&want, "%s:%s", path, c->want);
		if (rc != -1 || cause == NULL ||
		    strncmp(cause, want, strlen(want)) != 0) {
			print_error("case %zu: got %d '%s'\nwant '%s'\n", i, rc,
			    cause ? cause : "(null)", want);
			fail();
		}
		free(want);
		free(cause);
	}
	free(path);
}

/* A cause must be "path:line:column: what". */
static void
assert_cause_form(const char *cause, const char *path)
{
	const char *p;

	assert_non_null(cause);
	assert_memory_equal(cause, path, strlen(path));
	p = cause + strlen(path);
	assert_int_equal(*p++, ':');
	assert_true(*p >= '1' && *p <= '9');
	while (*p >= '0' && *p <= '9')
		p++;
	assert_int_equal(*p++, ':');
	assert_true(*p >= '1' && *p <= '9');
	while (*p >= '0' && *p <= '9')
		p++;
	assert_int_equal(*p++, ':');
	assert_int_equal(*p++, ' ');
	assert_true(*p != '\0');
}

/* Deterministic pseudo-random numbers. */
static uint32_t
next_random(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return *s >> 33;
}

/* Random bytes and damaged logs never crash the reader. */
static void
test_junk(void **state)
{
	static const char good[] = COMMANDS_H
	    "1.000000,padova,ann,\"potentiate s0\",ok,\"a,b \"\"c\"\"\n"
	    "d\"\n2.500000,zurich,bob,stim,error,plain\r\n"
	    "3.000000,,,,,\n";
	char *path = path_of("junk.csv"), *cause;
	char buf[4096];
	uint64_t seed = 42;
	size_t i, j, len;
	struct rows out;
	int rc, failed = 0;

	for (i = 0; i < sizeof buf; i++)
		buf[i] = next_random(&seed);
	put_file(path, buf, sizeof buf);
	cause = NULL;
	out.n = out.stop_after = 0;
	assert_int_equal(csv_read_file(path, CSV_COMMANDS, collect, &out,
	    &cause), -1);
	assert_cause_form(cause, path);
	free(cause);
	rows_free(&out);

	for (i = 0; i < 1500; i++) {
		len = sizeof good - 1;
		memcpy(buf, good, len);
		for (j = 0; j < 1 + next_random(&seed) % 4; j++) {
			switch (next_random(&seed) % 3) {
			case 0:	/* overwrite a byte */
				buf[next_random(&seed) % len] =
				    "\",\r\n\0 x1.-"[next_random(&seed) % 11];
				break;
			case 1:	/* random byte */
				buf[next_random(&seed) % len] =
				    next_random(&seed);
				break;
			default:	/* cut */
				len = next_random(&seed) % len + 1;
				break;
			}
		}
		put_file(path, buf, len);
		cause = NULL;
		out.n = 0;
		rc = csv_read_file(path, CSV_COMMANDS, collect, &out, &cause);
		rows_free(&out);
		if (rc != 0) {
			assert_int_equal(rc, -1);
			assert_cause_form(cause, path);
			failed++;
		} else
			assert_null(cause);
		free(cause);
	}
	assert_true(failed > 500);	/* most damage is noticed */
	free(path);
}

/* A runaway quoted field is cut off, not read into memory forever. */
static void
test_field_too_long(void **state)
{
	char *path = path_of("long.csv"), *buf, *cause = NULL, *want;
	size_t len = 2 * 1024 * 1024;
	struct rows out = { 0 };

	buf = xmalloc(len);
	memset(buf, 'x', len);
	memcpy(buf, COMMANDS_H "1,a,b,c,d,\"", 48);
	put_file(path, buf, len);
	assert_int_equal(csv_read_file(path, CSV_COMMANDS, collect, &out,
	    &cause), -1);
	xasprintf(&want, "%s:2:11: field longer than 1048576 bytes", path);
	assert_memory_equal(cause, want, strlen(want));
	free(want);
	free(cause);
	free(buf);
	free(path);
}

/* Remove the test directory. */
static int
teardown(void **state)
{
	DIR *d = opendir(test_dir);
	struct dirent *de;
	char *p;

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		p = path_of(de->d_name);
		unlink(p);
		free(p);
	}
	closedir(d);
	rmdir(test_dir);
	return 0;
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
		cmocka_unit_test(test_kinds),
		cmocka_unit_test(test_spikes_roundtrip),
		cmocka_unit_test(test_synapses_roundtrip),
		cmocka_unit_test(test_links_roundtrip),
		cmocka_unit_test(test_commands_roundtrip),
		cmocka_unit_test(test_flush_whole_rows),
		cmocka_unit_test(test_append),
		cmocka_unit_test(test_refuse_wrong_header),
		cmocka_unit_test(test_accepts),
		cmocka_unit_test(test_stop),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_junk),
		cmocka_unit_test(test_field_too_long),
	};
	return cmocka_run_group_tests_name("csv", tests, setup, teardown);
}
