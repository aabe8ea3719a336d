/*
 * seeds.c: writes the seed corpora of the fuzz targets (make fuzz-seeds):
 * valid inputs of every kind each decoder meets, made with the project's
 * own encoders where it has them (wire batches, RAMP datagrams, CSV rows),
 * so that the fuzzer starts from what the decoders accept.
 *
 *   tests/fuzz/seeds DIR      writes DIR/TARGET/seed-NAME
 *
 * Inputs found by fuzzing are kept beside them (crash-..., timeout-...,
 * leak-...) and never rewritten here.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crc32c.h"
#include "csvlog.h"
#include "ramp.h"
#include "wire.h"

static const char *seeds_dir;

/* A growing byte buffer. */
struct seeds_buf {
	uint8_t *p;
	size_t len, cap;
};

/* Append bytes. */
static void
seeds_add(struct seeds_buf *b, const void *data, size_t len)
{
	if (b->len + len > b->cap) {
		b->cap = (b->len + len) * 2 + 256;
		if ((b->p = realloc(b->p, b->cap)) == NULL)
			abort();
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
}

/* Append text. */
static void
seeds_text(struct seeds_buf *b, const char *fmt, ...)
{
	char *s;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		abort();
	seeds_add(b, s, (size_t)n);
	free(s);
}

/* Append one length-prefixed piece (fuzz_take's format). */
static void
seeds_piece(struct seeds_buf *b, const void *data, size_t len)
{
	uint8_t n = (uint8_t)len;

	if (len > 254)
		abort();
	seeds_add(b, &n, 1);
	seeds_add(b, data, len);
}

/* Write buf as DIR/target/seed-name, then empty it. */
static void
seeds_write(const char *target, const char *name, struct seeds_buf *b)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", seeds_dir, target);
	if (mkdir(path, 0777) != 0 && errno != EEXIST) {
		perror(path);
		exit(1);
	}
	snprintf(path, sizeof path, "%s/%s/seed-%s", seeds_dir, target, name);
	if ((f = fopen(path, "wb")) == NULL ||
	    fwrite(b->p, 1, b->len, f) != b->len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
	b->len = 0;
}

/* Write a text seed. */
static void
seeds_file(const char *target, const char *name, const char *text)
{
	struct seeds_buf b = { NULL, 0, 0 };

	seeds_add(&b, text, strlen(text));
	seeds_write(target, name, &b);
	free(b.p);
}

/* One event. */
static struct sb_event
seeds_event(int kind, int64_t t_us, uint32_t index)
{
	struct sb_event ev;

	memset(&ev, 0, sizeof ev);
	ev.kind = (uint8_t)kind;
	ev.t_us = t_us;
	ev.index = index;
	ev.pop = 1;
	if (kind == SB_EV_SYNAPTIC) {
		ev.aux = 200;
		ev.g_before = 150.5f;
	}
	if (kind == SB_EV_CONDUCTANCE || kind == SB_EV_STIM) {
		ev.count = 1;
		ev.width_us = 100;
		ev.amplitude = 4.0f;
		ev.g_before = 140.0f;
		ev.g_after = 160.0f;
	}
	return ev;
}

/* Append a batch of n events of stream/seq. */
static void
seeds_batch(struct seeds_buf *b, uint32_t stream, uint64_t seq,
    const struct sb_event *ev, size_t n)
{
	struct wire_header h = { .session_id = 7, .stream_id = stream,
	    .seq = seq };
	uint8_t buf[WIRE_HEADER_SIZE + 64 * WIRE_RECORD_MAX];
	size_t len = wire_encode(buf, sizeof buf, &h, ev, n);

	if (len == 0 && n > 0)
		abort();
	seeds_add(b, buf, len);
}

/* Append a gap (first..last) or, first 0, a keep-alive. */
static void
seeds_flagged(struct seeds_buf *b, uint32_t stream, uint64_t first,
    uint64_t last)
{
	struct wire_header h = { .session_id = 7, .stream_id = stream,
	    .base_us = 5000000 };
	uint8_t buf[WIRE_HEADER_SIZE];

	if (wire_encode_flagged(buf, sizeof buf, &h, first, last) == 0)
		abort();
	seeds_add(b, buf, sizeof buf);
}

/* Every kind of event, one each. */
static size_t
seeds_kinds(struct sb_event *ev)
{
	int k;

	for (k = SB_EV_SPIKE; k <= SB_EV_MARK; k++)
		ev[k - 1] = seeds_event(k, 1000000 + k * 250, (uint32_t)k);
	return SB_EV_MARK;
}

/* Redo the CRC of the batch at b (header_len + payload_len bytes). */
static void
seeds_crc(uint8_t *b)
{
	if (wire_seal(b, SIZE_MAX) == 0)
		abort();
}

/* Batch bodies for wire and the read stream. */
static void
seeds_wire(void)
{
	struct seeds_buf b = { NULL, 0, 0 }, ext = { NULL, 0, 0 };
	struct sb_event ev[8];
	size_t n = seeds_kinds(ev);
	uint8_t zero = 0, one = 1, pad[16];

	seeds_batch(&b, 1, 1, ev, 1);
	seeds_write("wire", "spike", &b);
	seeds_batch(&b, 1, 1, ev, n);
	seeds_write("wire", "kinds", &b);
	seeds_batch(&b, 1, 1, ev, 0);
	seeds_write("wire", "empty", &b);
	seeds_batch(&b, 1, 1, ev, n);
	seeds_batch(&b, 1, 2, ev, 2);
	seeds_flagged(&b, 1, 3, 5);
	seeds_flagged(&b, 0, 0, 0);
	seeds_write("wire", "body", &b);
	/* a header of 64 bytes: 16 bytes of extension a reader skips */
	seeds_batch(&b, 2, 9, ev, 3);
	seeds_add(&ext, b.p, WIRE_HEADER_SIZE);
	memset(pad, 0xa5, sizeof pad);
	seeds_add(&ext, pad, sizeof pad);
	seeds_add(&ext, b.p + WIRE_HEADER_SIZE, b.len - WIRE_HEADER_SIZE);
	ext.p[6] = 64;
	seeds_crc(ext.p);
	seeds_write("wire", "extended-header", &ext);
	b.len = 0;

	/* the read stream: a cut seed byte, then batches as the relay sends */
	seeds_add(&b, &zero, 1);
	seeds_batch(&b, 1, 1, ev, n);
	seeds_flagged(&b, 0, 0, 0);
	seeds_flagged(&b, 1, 2, 4);
	seeds_batch(&b, 1, 5, ev, 2);
	seeds_batch(&b, 2, 1, ev + 2, 3);
	seeds_write("relay-read", "stream", &b);
	seeds_add(&b, &one, 1);
	seeds_batch(&b, 3, 7, ev, 1);
	seeds_flagged(&b, 0, 0, 0);
	seeds_batch(&b, 3, 8, ev, n);
	seeds_write("relay-read", "small-cuts", &b);
	/* whole and checked, but a kind this console does not know */
	seeds_add(&b, &zero, 1);
	seeds_batch(&b, 1, 1, ev, 2);
	b.p[1 + WIRE_HEADER_SIZE + 4] = 9;
	seeds_crc(b.p + 1);
	seeds_batch(&b, 1, 2, ev, 1);
	seeds_write("relay-read", "undecodable", &b);
	free(b.p);
	free(ext.p);
}

/* One HTTP request with a body. */
static void
seeds_request(struct seeds_buf *b, const char *method, const char *path,
    const char *token, const void *body, size_t len)
{
	seeds_text(b, "%s %s HTTP/1.1\r\nHost: relay\r\n", method, path);
	if (token != NULL)
		seeds_text(b, "Authorization: Bearer %s\r\n", token);
	if (body != NULL)
		seeds_text(b, "Content-Length: %zu\r\n", len);
	seeds_text(b, "\r\n");
	if (body != NULL)
		seeds_add(b, body, len);
}

/* Requests for the relay (tokens in tests/fuzz/relay-http.c). */
static void
seeds_http(void)
{
	static const char padova[] = "tok-padova-0001";
	static const char soton[] = "tok-soton-00001";
	static const char zurich[] = "tok-zurich-0001";
	static const char streams[] = "mea 60\nsyn:zurich/silicon 0\n";
	struct seeds_buf b = { NULL, 0, 0 }, body = { NULL, 0, 0 };
	struct sb_event ev[64];
	size_t n = seeds_kinds(ev), i;

	seeds_request(&b, "GET", "/metrics", NULL, NULL, 0);
	seeds_request(&b, "GET", "/v1/time", NULL, NULL, 0);
	seeds_request(&b, "GET", "/v1/health", soton, NULL, 0);
	seeds_write("relay-http", "metrics-time-health", &b);

	seeds_request(&b, "POST", "/v1/streams", padova, streams,
	    sizeof streams - 1);
	seeds_request(&b, "GET", "/v1/streams", zurich, NULL, 0);
	seeds_write("relay-http", "streams", &b);

	seeds_batch(&body, 1, 1, ev, n);
	seeds_batch(&body, 1, 2, ev, 2);
	seeds_request(&b, "POST", "/v1/streams", padova, streams,
	    sizeof streams - 1);
	seeds_request(&b, "POST", "/v1/publish", padova, body.p, body.len);
	seeds_request(&b, "POST", "/v1/publish", padova, body.p, body.len);
	seeds_request(&b, "GET", "/v1/read?streams=1:0&wait=0", soton, NULL,
	    0);
	seeds_request(&b, "GET", "/v1/read?streams=1:1", zurich, NULL, 0);
	seeds_write("relay-http", "publish-read", &b);

	/* more than the 4 KiB a session keeps: readers from 0 get a gap */
	body.len = 0;
	for (i = 0; i < 64; i++)
		ev[i] = seeds_event(SB_EV_STIM, 2000000 + (int64_t)i, (uint32_t)i);
	seeds_request(&b, "POST", "/v1/streams", padova, streams,
	    sizeof streams - 1);
	for (i = 0; i < 4; i++) {
		body.len = 0;
		seeds_batch(&body, 1, i + 1, ev, 64);
		seeds_request(&b, "POST", "/v1/publish", padova, body.p,
		    body.len);
	}
	seeds_request(&b, "GET", "/v1/read?streams=1:0&wait=0", soton, NULL,
	    0);
	seeds_write("relay-http", "evict-gap", &b);

	seeds_request(&b, "POST", "/v1/command?to=zurich&id=5", padova,
	    "synapses\n", 9);
	seeds_request(&b, "GET", "/v1/control?after=0&hold=0", zurich, NULL,
	    0);
	seeds_request(&b, "POST", "/v1/result?to=padova&id=5&status=ok",
	    zurich, "s0 12.5 uS\nline two\\", 21);
	seeds_request(&b, "GET", "/v1/control?after=0", padova, NULL, 0);
	seeds_write("relay-http", "control", &b);

	seeds_request(&b, "DELETE", "/v1/streams", padova, NULL, 0);
	seeds_request(&b, "GET", "/nowhere", NULL, NULL, 0);
	seeds_request(&b, "GET", "/v1/streams", "not-a-token", NULL, 0);
	seeds_request(&b, "GET", "/v1/read?streams=9:0,x", padova, NULL, 0);
	seeds_text(&b, "POST /v1/publish HTTP/1.1\r\nHost: relay\r\n"
	    "Authorization: Bearer %s\r\nContent-Length: 100000\r\n\r\n",
	    padova);
	seeds_write("relay-http", "refused", &b);

	seeds_text(&b, "POST /v1/streams HTTP/1.1\r\nHost: relay\r\n"
	    "Authorization: Bearer %s\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "7\r\nmea 60\n\r\n0\r\n\r\n", padova);
	seeds_write("relay-http", "chunked", &b);

	/*
	 * A chunked publish stored in parts as it arrives: chunks cut inside
	 * batches, two whole batches, then a hole (a refused part, the rest
	 * read away), then the same again with the hole filled.
	 */
	n = seeds_kinds(ev);
	body.len = 0;
	seeds_batch(&body, 1, 1, ev, n);
	seeds_batch(&body, 1, 2, ev, 2);
	seeds_batch(&body, 1, 4, ev, 1);
	seeds_request(&b, "POST", "/v1/streams", padova, streams,
	    sizeof streams - 1);
	seeds_request(&b, "GET", "/v1/read?streams=1:0", soton, NULL, 0);
	seeds_text(&b, "POST /v1/publish HTTP/1.1\r\nHost: relay\r\n"
	    "Authorization: Bearer %s\r\nTransfer-Encoding: chunked\r\n\r\n",
	    padova);
	for (i = 0; i < body.len; i += 50) {
		size_t k = body.len - i < 50 ? body.len - i : 50;

		seeds_text(&b, "%zx\r\n", k);
		seeds_add(&b, body.p + i, k);
		seeds_text(&b, "\r\n");
	}
	seeds_text(&b, "0\r\n\r\n");
	body.len = 0;
	seeds_batch(&body, 1, 1, ev, n);
	seeds_batch(&body, 1, 2, ev, 2);
	seeds_batch(&body, 1, 3, ev, 3);
	seeds_text(&b, "POST /v1/publish HTTP/1.1\r\nHost: relay\r\n"
	    "Authorization: Bearer %s\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "%zx\r\n", padova, body.len);
	seeds_add(&b, body.p, body.len);
	seeds_text(&b, "\r\n0\r\n\r\n");
	seeds_write("relay-http", "publish-parts", &b);
	free(b.p);
	free(body.p);
}

/* CSV files of every kind, as the recorder writes them, and edited. */
static void
seeds_csv(void)
{
	struct csv_row row;
	struct csv_file *f;
	char path[4096], *cause = NULL;
	int k;

	for (k = 0; k < CSV_KINDS; k++) {
		snprintf(path, sizeof path, "%s/csv/seed-%s", seeds_dir,
		    csv_kind_names[k]);
		remove(path);
		if ((f = csv_file_open(path, (enum csv_kind)k, &cause)) ==
		    NULL) {
			fprintf(stderr, "seeds: %s\n", cause);
			exit(1);
		}
		memset(&row, 0, sizeof row);
		row.kind = (enum csv_kind)k;
		switch (k) {
		case CSV_SPIKES:
			row.u.spike = (struct csv_spike_row){ 1500000,
			    "padova", "mea", 3 };
			csv_file_row(f, &row);
			row.u.spike.t_us = -250;
			row.u.spike.unit = 4294967295U;
			csv_file_row(f, &row);
			break;
		case CSV_SYNAPSES:
			row.u.synapse = (struct csv_synapse_row){ 2000001,
			    "s0", "padova/mea:3", "zurich/silicon:0", "ltp",
			    4.0, 100, 1, 140.25, 160.5, 100, 120 };
			csv_file_row(f, &row);
			row.u.synapse.event = "read, \"quoted\"";
			row.u.synapse.amplitude_v = 0.0 / 0.0;
			row.u.synapse.weight_before = -1;
			csv_file_row(f, &row);
			break;
		case CSV_LINKS:
			row.u.link = (struct csv_link_row){ 3000000,
			    "southampton/relay", "up", 1.5, 0.2, -0.1, 0.05,
			    0.0, 3, 12, 980.5, 0.0 / 0.0, 0.0 / 0.0,
			    CSV_NO_COUNT, CSV_NO_COUNT, 0.0 / 0.0 };
			csv_file_row(f, &row);
			row.u.link.state = "degraded";
			row.u.link.loss_pct = 100;
			csv_file_row(f, &row);
			break;
		case CSV_COMMANDS:
			row.u.command = (struct csv_command_row){ 4000000,
			    "southampton", "@padova", "potentiate s0 -n 3",
			    "ok", "s0: G 140.0 -> 150.0 uS" };
			csv_file_row(f, &row);
			row.u.command.message = "line one\nline, two";
			csv_file_row(f, &row);
			break;
		case CSV_LATENCY:
			row.u.latency = (struct csv_latency_row){ 5000000,
			    "spike", "padova/mea:3>s0", 120, 0.85, 2.07,
			    2.08 };
			csv_file_row(f, &row);
			row.u.latency.kind = "command";
			row.u.latency.max_ms = 0.0 / 0.0;
			csv_file_row(f, &row);
			break;
		}
		csv_file_close(f);
	}
	seeds_file("csv", "edited", "\xef\xbb\xbft_s,site,population,unit\r\n"
	    "0.5,\"pad,ova\",mea,1\r\n1,zurich,\"sil\"\"icon\",2\r\n"
	    "2.000001,a,b,3");
}

/* Session files for the command language. */
static void
seeds_commands(void)
{
	seeds_file("commands", "synapses", "# a session file\n"
	    "synapses\nsynapses -m s0\nsites\nsite\nplugins\nlink\n"
	    "potentiate s0 -n 2 -a 3.5 -w 200\ndepress s0\nread s0\nwait 0.05\n"
	    "rule s0 stdp\nrule s0 rate window=0.5 ltp_above=3\nrule all off\n");
	seeds_file("commands", "remote", "at far synapses\n"
	    "at -t 2 far potentiate s0 -n 1\nat lab read s0\n"
	    "at far \"mark with spaces\"\nremote far/other 8\n"
	    "synapse s1 far/mea:3 n:2 d:1 -r rate\nsynapses\n");
	seeds_file("commands", "source", "source include.conf\n"
	    "source input.conf\nsource missing.conf\n");
	seeds_file("commands", "record", "record start rec\nwait 0.1\n"
	    "export spikes out.csv --since 0 --until 1\n"
	    "export commands cmds.csv\nrecord stop\nrecord\n");
	seeds_file("commands", "stim-stop", "stim n:0 -a 1.5 -w 100\n"
	    "stim n:1,n:2 -a 0.5\nstop\nresume\nstop -a\nresume -a\n"
	    "mark 'a mark' \"with \\\"quotes\\\"\"\nhelp\nhelp potentiate\n");
	seeds_file("commands", "plugins", "load test_neurons name=m units=2\n"
	    "unload test_neurons\nload test_badversion\nload test_failinit\n"
	    "test-hello\ntest-neurons\nifenv SB_FUZZ_SITE site lab\n"
	    "site ${SB_FUZZ_SITE}\nmark \"${SB_FUZZ_WORDS}\"\n"
	    "site ${SB_FUZZ_EMPTY:-other}\n");
	seeds_file("commands", "strict", "# stops at its first error\n"
	    "synapses\nbogus command\nsynapses\n");
	seeds_file("commands", "quit", "synapses\r\nquit\r\nsynapses\r\n");
	seeds_file("commands", "simulators", "load sim_culture name=mea "
	    "electrodes=60\nload sim_memristor name=xbar rows=4 cols=4\n"
	    "load sim_silicon name=si chips=1 cores=1\n"
	    "synapse s9 mea:1 si:0 xbar:w1b1 -r rate\nwait 0.2\nsynapses\n"
	    "record start r\nwait 0.1\nrecord stop\n"
	    "load replay name=again file=r/spikes.csv\nwait 0.1\n");
}

/* Tokens files. */
static void
seeds_tokens(void)
{
	static const char tokens[] =
	    "# TOKEN SITE SESSION PUBLISH READ COMMAND\n"
	    "tok-padova-0001 padova demo mea,syn:* */* southampton,zurich\n"
	    "tok-soton-00001\tsouthampton demo synapses,syn:* */* *\n"
	    "tok-zurich-0001 zurich demo silicon padova/mea,*/syn* -\n"
	    "\n   # indented comment\n";

	seeds_file("relay-tokens", "three-sites", tokens);
	seeds_file("relay-tokens", "crlf-bom", "\xef\xbb\xbf"
	    "tok-aaaaaaaa1 a s1 * */* *\r\ntok-bbbbbbbb2 b s1 - - -\r"
	    "tok-cccccccc3 c s2 x,y:z a/b -\r\n");
}

/* Arguments, answers and replies: small text seeds. */
static void
seeds_texts(void)
{
	seeds_file("relay-args", "cursors", "1:0,2:17,3:18446744073709551615");
	seeds_file("relay-args", "stream-line", "syn:zurich/silicon 0\r");
	seeds_file("relay-args", "escape", "s0 12.5 uS\nback\\slash\r\n");
	seeds_file("relay-answers", "registered", "1 mea 1\n"
	    "2 syn:zurich/silicon 5\n");
	seeds_file("relay-answers", "listed", "1 padova mea 60 42\r\n"
	    "2 zurich silicon 256 7\n");
	seeds_file("relay-answers", "acked", "1 42\n3 7\n");
	seeds_file("relay-answers", "control", "5 command padova 77 "
	    "+expires=123 synapses\n6 result zurich 78 ok s0 12.5 uS\\nline "
	    "two\\\\\n7 result zurich 79 error no such synapse\n");
	seeds_file("openephys-api", "status", "{\"mode\": \"ACQUIRE\"}");
	seeds_file("openephys-api", "processors", "{\"processors\": ["
	    "{\"id\": 100, \"name\": \"Acquisition Board\"},"
	    "{\"id\": 104, \"name\": \"Event Broadcaster\", \"parameters\": "
	    "[{\"name\": \"data_port\", \"value\": 5557}]},"
	    "{\"id\": \"105\", \"name\": \"Network Events\", "
	    "\"parameters\": {\"port\": \"5556\"}}]}");
	seeds_file("openephys-api", "ne-handled", "TTLHandled: Line=7 "
	    "State=1\n");
	seeds_file("openephys-api", "ne-invalid", "InvalidChannel");
	seeds_file("ramp-conn", "file", "# pre, post, w, b\n0, 0, 1, 1\n"
	    "1, 0, 1, 2 # a comment\n2, 0, 2, 1, d\n3, 0, 2, 2, a\n");
	seeds_file("ramp-conn", "crlf-bom", "\xef\xbb\xbf" "0,1,1,1\r\n"
	    "  5 , 9 , 32 , 32  \r7,7,3,4\r\n");
}

/* A Intan name piece and what RHX answered. */
static void
seeds_reply(const char *seed, const char *name, const char *reply)
{
	struct seeds_buf b = { NULL, 0, 0 };

	seeds_piece(&b, name, strlen(name));
	seeds_add(&b, reply, strlen(reply));
	seeds_write("intan-reply", seed, &b);
	free(b.p);
}

/* One RHX spike record. */
static void
seeds_spike(struct seeds_buf *b, const char *name, uint32_t ts, uint8_t id)
{
	uint8_t r[14] = { 0x0f, 0x71, 0xe2, 0x3a };

	memcpy(r + 4, name, 5);
	r[9] = (uint8_t)ts;
	r[10] = (uint8_t)(ts >> 8);
	r[11] = (uint8_t)(ts >> 16);
	r[12] = (uint8_t)(ts >> 24);
	r[13] = id;
	seeds_add(b, r, sizeof r);
}

/* Intan RHX: spike streams and command-port answers. */
static void
seeds_intan(void)
{
	static const char ch1[] = "A-000..A-031", ch2[] = "A-000..A-015,"
	    "B-015..B-000,C-007";
	struct seeds_buf b = { NULL, 0, 0 };
	uint8_t cut = 3;
	uint32_t i;

	seeds_piece(&b, ch1, sizeof ch1 - 1);
	seeds_add(&b, &cut, 1);
	for (i = 0; i < 40; i++)
		seeds_spike(&b, i % 7 == 6 ? "B-001" : "A-005", 30000 * i +
		    (i % 5) * 300, i % 9 == 8 ? 0x81 : 1);
	seeds_write("intan", "stream", &b);
	seeds_piece(&b, ch2, sizeof ch2 - 1);
	seeds_add(&b, &cut, 1);
	seeds_spike(&b, "A-010", 4294967000U, 1);
	seeds_add(&b, "junk", 4);
	seeds_spike(&b, "B-003", 100, 1);
	seeds_spike(&b, "C-007", 200, 0);
	seeds_write("intan", "wrap-resync", &b);
	free(b.p);

	seeds_reply("runmode", "RunMode", "Return: RunMode Run");
	seeds_reply("rate", "SampleRateHertz", "Error - Command 2: "
	    "Unrecognized command;Return: SampleRateHertz 30 kHz");
	seeds_reply("step", "StimStepSizeMicroAmps",
	    "Return: StimStepSizeMicroAmps 500 nA");
	seeds_reply("type", "Type", "Return: Type ControllerStimRecord");
	seeds_reply("channel", "A-010.StimEnabled",
	    "return: StimEnabled True\r\n");
}

/* One Event Broadcaster message: a type frame and its JSON. */
static void
seeds_oe_message(struct seeds_buf *b, unsigned type, const char *json)
{
	uint8_t t[2] = { (uint8_t)type, 0 };

	seeds_piece(b, t, 2);
	seeds_piece(b, json, strlen(json));
}

/* Open Ephys: Event Broadcaster messages. */
static void
seeds_openephys(void)
{
	struct seeds_buf b = { NULL, 0, 0 };
	char json[256];
	int i;

	for (i = 0; i < 12; i++) {
		snprintf(json, sizeof json, "{\"event_type\": \"spike\", "
		    "\"stream\": \"example_data\", \"source_node\": 104, "
		    "\"sample_rate\": 30000, \"sample_number\": %d, "
		    "\"electrode\": %s, \"num_channels\": 4, \"sorted_id\": %d, "
		    "\"amp1\": -52.5, \"amp4\": 10}", 30 * i + (i % 3) * 7,
		    i % 2 ? "\"Electrode 3\"" : "5", i % 2);
		seeds_oe_message(&b, 1, json);
	}
	seeds_oe_message(&b, 0, "{\"event_type\": \"ttl\", \"stream\": 7, "
	    "\"source_node\": 100, \"sample_rate\": 30000.0, "
	    "\"sample_number\": 500, \"channel_name\": \"TTL1\", \"line\": 1, "
	    "\"state\": true}");
	seeds_write("openephys", "spikes-ttl", &b);
	free(b.p);
}

/* A little-endian float32 of ohms. */
static void
seeds_ohms(struct seeds_buf *b, float ohms, size_t n)
{
	uint32_t u;
	uint8_t le[4];

	memcpy(&u, &ohms, sizeof u);
	le[0] = (uint8_t)u;
	le[1] = (uint8_t)(u >> 8);
	le[2] = (uint8_t)(u >> 16);
	le[3] = (uint8_t)(u >> 24);
	while (n-- > 0)
		seeds_add(b, le, 4);
}

/* The ArC ONE answering every job, one piece per command written. */
static void
seeds_arc1(void)
{
	struct seeds_buf b = { NULL, 0, 0 }, f = { NULL, 0, 0 };
	uint8_t jobs = 0x3f, fw[4] = { 1, 0, 2, 0 };
	int i;

	seeds_add(&b, &jobs, 1);
	seeds_piece(&b, NULL, 0);		/* 00: reset */
	seeds_piece(&b, "1\r\n", 3);		/* 0: init */
	seeds_piece(&b, NULL, 0);		/* 01: read mode */
	seeds_piece(&b, fw, 4);			/* 999: version */
	seeds_ohms(&f, 5000, 1);
	seeds_piece(&b, f.p, f.len);		/* 1: read */
	f.len = 0;
	seeds_ohms(&f, 6000, 1);
	seeds_piece(&b, f.p, f.len);		/* 3: pulse and read */
	for (i = 0; i < 4; i++)
		seeds_piece(&b, NULL, 0);	/* 02, 04 x 3 */
	f.len = 0;
	seeds_ohms(&f, 7000, 1);
	seeds_piece(&b, f.p, f.len);		/* 1: read */
	for (i = 0; i < 5; i++)
		seeds_piece(&b, NULL, 0);	/* 2 2 ..., 4 pairs */
	f.len = 0;
	seeds_ohms(&f, 8000, 5);
	seeds_piece(&b, f.p, f.len);		/* the last pair: 5 reads */
	f.len = 0;
	seeds_ohms(&f, 4500, 16);
	seeds_piece(&b, f.p, f.len);		/* 2 1: the array */
	seeds_write("arc1", "every-job", &b);

	jobs = 0x03;
	seeds_add(&b, &jobs, 1);
	seeds_piece(&b, NULL, 0);
	seeds_piece(&b, "1\n", 2);
	seeds_piece(&b, NULL, 0);
	seeds_piece(&b, NULL, 0);		/* old firmware: no version */
	f.len = 0;
	seeds_ohms(&f, 5000, 2);		/* a reply too long */
	seeds_piece(&b, f.p, f.len);
	seeds_write("arc1", "old-firmware-extra", &b);

	jobs = 0x01;
	seeds_add(&b, &jobs, 1);
	seeds_piece(&b, NULL, 0);
	seeds_piece(&b, "0\n", 2);		/* init refused */
	seeds_write("arc1", "init-refused", &b);
	jobs = 0x02;
	seeds_add(&b, &jobs, 1);
	seeds_add(&b, "\xff", 1);		/* unplugged */
	seeds_write("arc1", "unplugged", &b);
	free(b.p);
	free(f.p);
}

/* One RAMP datagram (and the RDY of 2016, and junk). */
static void
seeds_datagram(struct seeds_buf *b, uint8_t sender, uint32_t id,
    uint8_t aux, uint32_t time)
{
	struct ramp_packet p = { sender, id, aux, time };
	uint8_t d[RAMP_DATAGRAM];

	ramp_packet_encode(&p, RAMP_FIELD_MASK, d);
	seeds_piece(b, d, sizeof d);
}

/* RAMP: what a node and a neuron site meet. */
static void
seeds_ramp(void)
{
	struct seeds_buf b = { NULL, 0, 0 };

	seeds_datagram(&b, RAMP_SENDER_R, 0, RAMP_AUX_READY, 0);
	seeds_datagram(&b, RAMP_SENDER_A, 5, 0, 40);
	seeds_datagram(&b, RAMP_SENDER_A, 255, 0, 0xffffff);
	seeds_datagram(&b, RAMP_SENDER_D, 3, RAMP_AUX_SPONTANEOUS, 20);
	seeds_datagram(&b, RAMP_SENDER_D, 4, RAMP_AUX_STIMULATED, 20);
	seeds_datagram(&b, RAMP_SENDER_D, 4, RAMP_AUX_PSP, 20);
	seeds_datagram(&b, RAMP_SENDER_S, 105, 200, 1000);
	seeds_datagram(&b, RAMP_SENDER_S, 159, 0, 1000);
	seeds_write("ramp", "both-roles", &b);
	seeds_piece(&b, RAMP_READY_TEXT, 3);
	seeds_datagram(&b, RAMP_SENDER_D, 99, 3, 0);
	seeds_datagram(&b, RAMP_SENDER_S, 99, 1, 0);
	seeds_datagram(&b, 'Q', 1, 1, 1);
	seeds_piece(&b, "hello", 5);
	seeds_write("ramp", "refused", &b);
	free(b.p);
}

/* Write every seed under the directory given. */
int
main(int argc, char **argv)
{
	char path[4096];

	if (argc != 2) {
		fprintf(stderr, "usage: seeds DIR (tests/fuzz/corpus)\n");
		return 2;
	}
	seeds_dir = argv[1];
	snprintf(path, sizeof path, "%s/csv", seeds_dir);
	if (mkdir(path, 0777) != 0 && errno != EEXIST) {
		perror(path);
		return 1;
	}
	seeds_wire();
	seeds_http();
	seeds_csv();
	seeds_commands();
	seeds_tokens();
	seeds_texts();
	seeds_intan();
	seeds_openephys();
	seeds_arc1();
	seeds_ramp();
	return 0;
}
