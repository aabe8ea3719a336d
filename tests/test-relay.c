/*
 * test-relay.c: synbridge-relay end to end over loopback HTTPS (libcurl),
 * with the relay run as a child process on port 0.
 *
 * RELAY_TEST_WRAPPER (e.g. "valgrind --leak-check=full --error-exitcode=3")
 * runs each relay under a wrapper; every relay must then exit 0 on SIGTERM.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/prctl.h>

#include <curl/curl.h>

#include "crc32c.h"
#include "wire.h"

#define TOK_PADOVA "tok-padova-0001"
#define TOK_SOUTH "tok-south-00001"
#define TOK_ZURICH "tok-zurich-0001"
#define TOK_OTHER "tok-other-00001"

static const char tokens_text[] =
    "# test access list\n"
    "\n"
    TOK_PADOVA " padova hybrid mea,syn:* southampton/* southampton\n"
    TOK_SOUTH " southampton hybrid * padova/mea padova\n"
    TOK_ZURICH " zurich hybrid * - -   # no reading\n"
    TOK_OTHER " padova other * */* *\n";

/* A running relay. */
struct relay_proc {
	pid_t pid;
	int out;
	int port;
	char pin[128];
	char dir[256];
	char cafile[320];
	int64_t started;
};

/* An HTTP answer. */
struct answer {
	long code;
	char *body;
	size_t len;
	char retry_after[16];
	char streams_version[24];	/* Synbridge-Streams-Version */
	char epoch[24];			/* Synbridge-Epoch */
};

/* One batch seen in a read. */
struct seen {
	uint8_t flags;
	uint32_t stream;
	uint64_t seq;
	uint32_t count;
	size_t off, size;
};

static char testdir[256];

/* CLOCK_MONOTONIC in ms. */
static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleep a few ms between polls of a condition. */
static void
nap(void)
{
	struct timespec ts = { 0, 5 * 1000000L };

	nanosleep(&ts, NULL);
}

/* The deadline scale: wrappers like valgrind are slow. */
static int
slow(void)
{
	return getenv("RELAY_TEST_WRAPPER") != NULL ? 10 : 1;
}

/* Write a file. */
static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Start a relay in dir (made if needed) with extra args; 0 or exit code. */
static int
relay_start(struct relay_proc *p, const char *name, const char **extra,
    char *err, size_t errlen)
{
	const char *top = getenv("top_builddir"), *wrap;
	char bin[512], tokens[300], ss[300], errpath[300], line[512];
	char *argv[64], *wcopy = NULL, *w;
	size_t argc = 0, used = 0, i;
	int pipefd[2], status, n;
	int64_t deadline;
	struct pollfd pfd;

	memset(p, 0, sizeof *p);
	snprintf(p->dir, sizeof p->dir, "%.180s/%.40s", testdir, name);
	mkdir(p->dir, 0700);
	snprintf(bin, sizeof bin, "%s/src/relay/synbridge-relay",
	    top != NULL ? top : ".");
	snprintf(tokens, sizeof tokens, "%s/tokens", p->dir);
	snprintf(ss, sizeof ss, "%s/tls", p->dir);
	snprintf(p->cafile, sizeof p->cafile, "%s/tls/cert.pem", p->dir);
	snprintf(errpath, sizeof errpath, "%s/relay.err", p->dir);
	if (access(tokens, F_OK) != 0)
		write_file(tokens, tokens_text);

	if ((wrap = getenv("RELAY_TEST_WRAPPER")) != NULL) {
		wcopy = strdup(wrap);
		for (w = strtok(wcopy, " "); w != NULL; w = strtok(NULL, " "))
			argv[argc++] = w;
	}
	argv[argc++] = bin;
	argv[argc++] = (char *)"--listen";
	argv[argc++] = (char *)"127.0.0.1:0";
	argv[argc++] = (char *)"--tokens";
	argv[argc++] = tokens;
	argv[argc++] = (char *)"--self-signed";
	argv[argc++] = ss;
	for (i = 0; extra != NULL && extra[i] != NULL; i++)
		argv[argc++] = (char *)extra[i];
	argv[argc] = NULL;

	assert_int_equal(pipe(pipefd), 0);
	p->started = now_ms();
	p->pid = fork();
	assert_true(p->pid >= 0);
	if (p->pid == 0) {
		/* a test that fails half-way leaves no relay behind */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		dup2(pipefd[1], 1);
		n = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(n, 2);
		close(pipefd[0]);
		close(pipefd[1]);
		execvp(argv[0], argv);
		_exit(127);
	}
	free(wcopy);
	close(pipefd[1]);
	p->out = pipefd[0];

	/* Wait for "pin ..." and "listening on ...:PORT". */
	deadline = now_ms() + 15000 * slow();
	while (p->port == 0 && now_ms() < deadline) {
		pfd.fd = p->out;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 50) <= 0)
			continue;
		n = (int)read(p->out, line + used, sizeof line - used - 1);
		if (n <= 0)
			break;
		used += (size_t)n;
		line[used] = '\0';
		if (sscanf(line, "pin %127s", p->pin) == 1 &&
		    strstr(line, "listening on 127.0.0.1:") != NULL)
			p->port = atoi(strstr(line, "listening on ") + 23);
	}
	if (p->port != 0)
		return 0;
	/* It did not start: collect its exit code and error. */
	deadline = now_ms() + 5000 * slow();
	while (waitpid(p->pid, &status, WNOHANG) == 0) {
		if (now_ms() > deadline) {
			kill(p->pid, SIGKILL);
			waitpid(p->pid, &status, 0);
		}
		nap();
	}
	close(p->out);
	if (err != NULL) {
		FILE *f = fopen(errpath, "r");

		err[0] = '\0';
		if (f != NULL) {
			n = (int)fread(err, 1, errlen - 1, f);
			err[n > 0 ? n : 0] = '\0';
			fclose(f);
		}
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* Start a relay that must come up. */
static void
relay_up(struct relay_proc *p, const char *name, const char **extra)
{
	char err[2048];

	if (relay_start(p, name, extra, err, sizeof err) != 0)
		fail_msg("relay did not start: %s", err);
}

/* Stop a relay with SIGTERM (it must exit 0) or SIGKILL. */
static void
relay_stop(struct relay_proc *p, int sig)
{
	int status;
	int64_t deadline = now_ms() + 10000 * slow();

	kill(p->pid, sig);
	while (waitpid(p->pid, &status, WNOHANG) == 0) {
		if (now_ms() > deadline) {
			kill(p->pid, SIGKILL);
			waitpid(p->pid, &status, 0);
			fail_msg("relay did not stop on signal %d", sig);
		}
		nap();
	}
	close(p->out);
	if (sig == SIGTERM && (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
		fail_msg("relay exited with status 0x%x on SIGTERM", status);
}

/* libcurl write callback: append to an answer. */
static size_t
on_body(char *data, size_t size, size_t n, void *arg)
{
	struct answer *a = arg;

	a->body = realloc(a->body, a->len + size * n + 1);
	memcpy(a->body + a->len, data, size * n);
	a->len += size * n;
	a->body[a->len] = '\0';
	return size * n;
}

/* libcurl header callback: keep Retry-After. */
static size_t
on_header(char *data, size_t size, size_t n, void *arg)
{
	struct answer *a = arg;

	if (size * n > 13 && strncasecmp(data, "Retry-After: ", 13) == 0)
		snprintf(a->retry_after, sizeof a->retry_after, "%.*s",
		    (int)strcspn(data + 13, "\r\n"), data + 13);
	if (size * n > 27 &&
	    strncasecmp(data, "Synbridge-Streams-Version: ", 27) == 0)
		snprintf(a->streams_version, sizeof a->streams_version,
		    "%.*s", (int)strcspn(data + 27, "\r\n"), data + 27);
	if (size * n > 17 && strncasecmp(data, "Synbridge-Epoch: ", 17) == 0)
		snprintf(a->epoch, sizeof a->epoch, "%.*s",
		    (int)strcspn(data + 17, "\r\n"), data + 17);
	return size * n;
}

/* Set up a handle for the relay (pinned, CA file, no CA path scan). */
static CURL *
handle(struct relay_proc *p, const char *path, const char *token,
    struct curl_slist **hdrs)
{
	CURL *c = curl_easy_init();
	char url[512], auth[128];

	snprintf(url, sizeof url, "https://127.0.0.1:%d%s", p->port, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CAINFO, p->cafile);
	curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
	curl_easy_setopt(c, CURLOPT_PINNEDPUBLICKEY, p->pin);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	*hdrs = curl_slist_append(NULL, "Expect:");
	if (token != NULL) {
		snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
		*hdrs = curl_slist_append(*hdrs, auth);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, *hdrs);
	return c;
}

/* One request; body != NULL makes it a POST. */
static void
http(struct relay_proc *p, const char *path, const char *token,
    const void *body, size_t len, struct answer *a)
{
	struct curl_slist *hdrs;
	CURL *c = handle(p, path, token, &hdrs);
	CURLcode rc;

	memset(a, 0, sizeof *a);
	if (body != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)len);
	}
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, a);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, a);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L * slow());
	rc = curl_easy_perform(c);
	if (rc != CURLE_OK)
		fail_msg("%s: %s", path, curl_easy_strerror(rc));
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a->code);
	if (a->body == NULL)
		a->body = strdup("");
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
}

/* A request that must answer code; returns the body (caller frees). */
static char *
expect(struct relay_proc *p, const char *path, const char *token,
    const void *body, size_t len, long code)
{
	struct answer a;

	http(p, path, token, body, len, &a);
	if (a.code != code)
		fail_msg("%s: got %ld (%s), want %ld", path, a.code, a.body,
		    code);
	return a.body;
}

/* Build batch seq of stream with n spikes at byte off of buf. */
static size_t
batch(uint8_t *buf, size_t cap, uint32_t stream, uint64_t seq, size_t n)
{
	struct wire_header h = { .session_id = 1, .stream_id = stream,
	    .seq = seq };
	struct sb_event *ev = calloc(n, sizeof *ev);
	size_t i, size;

	for (i = 0; i < n; i++) {
		ev[i].t_us = (int64_t)(seq * 1000 + i);
		ev[i].kind = SB_EV_SPIKE;
		ev[i].index = (uint32_t)(seq + i);
	}
	size = wire_encode(buf, cap, &h, ev, n);
	free(ev);
	assert_true(size > 0);
	return size;
}

/* Register stream name for token; returns its id (and next seq). */
static uint32_t
stream_id(struct relay_proc *p, const char *token, const char *name,
    uint64_t *next)
{
	char line[128], *out, got[65];
	unsigned id;
	uint64_t n;

	snprintf(line, sizeof line, "%s 8\n", name);
	out = expect(p, "/v1/streams", token, line, strlen(line), 200);
	assert_int_equal(sscanf(out, "%u %64s %" SCNu64, &id, got, &n), 3);
	assert_string_equal(got, name);
	if (next != NULL)
		*next = n;
	free(out);
	return id;
}

/* Publish batches first..last (n spikes each) in one body. */
static void
publish(struct relay_proc *p, uint32_t id, uint64_t first, uint64_t last,
    size_t n)
{
	size_t cap = (last - first + 1) * (48 + 12 * n), len = 0;
	uint8_t *buf = malloc(cap);
	char *out, want[64];
	uint64_t s;

	for (s = first; s <= last; s++)
		len += batch(buf + len, cap - len, id, s, n);
	out = expect(p, "/v1/publish", TOK_PADOVA, buf, len, 200);
	snprintf(want, sizeof want, "%" PRIu32 " %" PRIu64 "\n", id, last);
	assert_string_equal(out, want);
	free(out);
	free(buf);
}

/* Split a read body into whole batches; returns the count. */
static size_t
parse(const uint8_t *buf, size_t len, struct seen *out, size_t max)
{
	struct wire_header h;
	size_t off = 0, n = 0, consumed;
	char *cause = NULL;

	while (off < len) {
		/* A streaming read may hold the start of a batch still coming. */
		if (wire_peek(buf + off, len - off, &h, NULL) == 0 &&
		    (size_t)h.header_len + h.payload_len > len - off)
			break;
		if (len - off < WIRE_HEADER_SIZE)
			break;
		if (wire_verify(buf + off, len - off, &h, &consumed,
		    &cause) != 0)
			fail_msg("read body at %zu: %s", off, cause);
		assert_true(n < max);
		out[n++] = (struct seen){ h.flags, h.stream_id, h.seq,
		    h.event_count, off, consumed };
		off += consumed;
	}
	return n;
}

/* Scratch directory for all relays of this run. */
static int
setup_dir(void **state)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(testdir, sizeof testdir, "%s/sbrelay.XXXXXX",
	    tmp != NULL ? tmp : "/tmp");
	if (mkdtemp(testdir) == NULL)
		return -1;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return 0;
}

/* Remove the scratch directory. */
static int
teardown_dir(void **state)
{
	char cmd[300];

	curl_global_cleanup();
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", testdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Tokens: 401 without or with a wrong token, 403 outside the rights. */
static void
test_auth(void **state)
{
	struct relay_proc p;
	uint8_t buf[256];
	uint32_t mea, syn, zs;
	size_t len;
	char *out;

	relay_up(&p, "auth", NULL);
	free(expect(&p, "/v1/streams", NULL, NULL, 0, 401));
	free(expect(&p, "/v1/streams", "not-a-token-at-all", NULL, 0, 401));
	free(expect(&p, "/v1/publish", NULL, "x", 1, 401));
	free(expect(&p, "/v1/read?streams=1:0", "", NULL, 0, 401));
	free(expect(&p, "/metrics", NULL, NULL, 0, 200));
	free(expect(&p, "/v1/time", NULL, NULL, 0, 200));
	free(expect(&p, "/v1/nothing", TOK_PADOVA, NULL, 0, 404));
	free(expect(&p, "/v1/publish", TOK_PADOVA, NULL, 0, 405));

	/* PUBLISH mea,syn:* for padova. */
	mea = stream_id(&p, TOK_PADOVA, "mea", NULL);
	syn = stream_id(&p, TOK_PADOVA, "syn:a", NULL);
	out = expect(&p, "/v1/streams", TOK_PADOVA, "spikes 3\n", 9, 403);
	assert_non_null(strstr(out, "may not publish stream 'spikes'"));
	free(out);
	zs = stream_id(&p, TOK_ZURICH, "chip", NULL);
	assert_true(mea != syn && syn != zs);

	/* READ: southampton has padova/mea only; zurich nothing. */
	len = batch(buf, sizeof buf, mea, 1, 2);
	free(expect(&p, "/v1/publish", TOK_PADOVA, buf, len, 200));
	snprintf((char *)buf, sizeof buf, "/v1/read?streams=%u:0&wait=0", mea);
	free(expect(&p, (char *)buf, TOK_SOUTH, NULL, 0, 200));
	free(expect(&p, (char *)buf, TOK_ZURICH, NULL, 0, 403));
	snprintf((char *)buf, sizeof buf, "/v1/read?streams=%u:0&wait=0", syn);
	free(expect(&p, (char *)buf, TOK_SOUTH, NULL, 0, 403));
	snprintf((char *)buf, sizeof buf, "/v1/read?streams=%u:0&wait=0", zs);
	free(expect(&p, (char *)buf, TOK_ZURICH, NULL, 0, 200)); /* own */
	/* The other session does not see hybrid's streams. */
	snprintf((char *)buf, sizeof buf, "/v1/read?streams=%u:0&wait=0", mea);
	free(expect(&p, (char *)buf, TOK_OTHER, NULL, 0, 404));
	out = expect(&p, "/v1/streams", TOK_SOUTH, NULL, 0, 200);
	assert_non_null(strstr(out, " padova mea 8 1\n"));
	assert_null(strstr(out, "syn:a"));
	assert_null(strstr(out, "chip"));
	free(out);

	/* A site cannot publish another site's stream. */
	len = batch(buf, sizeof buf, mea, 2, 2);
	out = expect(&p, "/v1/publish", TOK_SOUTH, buf, len, 403);
	assert_non_null(strstr(out, "belongs to site padova"));
	free(out);
	/* COMMAND: zurich none, padova to southampton only. */
	free(expect(&p, "/v1/command?to=padova&id=1", TOK_ZURICH, "x", 1,
	    403));
	free(expect(&p, "/v1/command?to=zurich&id=1", TOK_PADOVA, "x", 1,
	    403));
	free(expect(&p, "/v1/command?to=southampton&id=1", TOK_PADOVA, "x",
	    1, 202));
	relay_stop(&p, SIGTERM);
}

/* Batches come back in order, byte for byte; duplicates are dropped. */
static void
test_round_trip_and_dedupe(void **state)
{
	struct relay_proc p;
	struct seen seen[32];
	uint8_t buf[4096], one[256];
	char path[128], *out;
	uint32_t id;
	uint64_t next;
	size_t len = 0, n, i, blen;
	struct answer a;
	long long epoch;

	relay_up(&p, "roundtrip", NULL);
	id = stream_id(&p, TOK_PADOVA, "mea", &next);
	assert_int_equal(next, 1);
	publish(&p, id, 1, 3, 5);	/* three batches in one body */
	publish(&p, id, 4, 4, 1);
	publish(&p, id, 5, 6, 7);

	/* A body with a duplicate (3) then a new one (7). */
	len = batch(buf, sizeof buf, id, 3, 5);
	len += batch(buf + len, sizeof buf - len, id, 7, 2);
	out = expect(&p, "/v1/publish", TOK_PADOVA, buf, len, 200);
	snprintf(path, sizeof path, "%u 7\n", id);
	assert_string_equal(out, path);
	free(out);
	/* Re-sending an acknowledged batch is harmless. */
	blen = batch(one, sizeof one, id, 7, 2);
	free(expect(&p, "/v1/publish", TOK_PADOVA, one, blen, 200));

	snprintf(path, sizeof path, "/v1/read?streams=%u:0&wait=0", id);
	http(&p, path, TOK_SOUTH, NULL, 0, &a);
	assert_int_equal(a.code, 200);
	n = parse((uint8_t *)a.body, a.len, seen, 32);
	assert_int_equal(n, 7);
	for (i = 0; i < n; i++) {
		assert_int_equal(seen[i].seq, i + 1);
		assert_int_equal(seen[i].stream, id);
		assert_int_equal(seen[i].flags, 0);
	}
	assert_int_equal(seen[3].count, 1);
	/* Byte for byte what was published. */
	assert_int_equal(seen[6].size, blen);
	assert_memory_equal(a.body + seen[6].off, one, blen);
	free(a.body);

	/* From after=4 on. */
	snprintf(path, sizeof path, "/v1/read?streams=%u:4&wait=0", id);
	http(&p, path, TOK_SOUTH, NULL, 0, &a);
	n = parse((uint8_t *)a.body, a.len, seen, 32);
	assert_int_equal(n, 3);
	assert_int_equal(seen[0].seq, 5);
	free(a.body);

	/* NEXT_SEQ says where to resume; GET /v1/streams the highest. */
	stream_id(&p, TOK_PADOVA, "mea", &next);
	assert_int_equal(next, 8);
	out = expect(&p, "/v1/streams", TOK_PADOVA, NULL, 0, 200);
	snprintf(path, sizeof path, "%u padova mea 8 7\n", id);
	assert_non_null(strstr(out, path));
	free(out);

	/*
	 * A read that names the session's life (epoch=, from the list) is
	 * served; one that names another life (a restart without the spool
	 * since it listed: its ids may name other streams now) gets 409.
	 */
	http(&p, "/v1/streams", TOK_SOUTH, NULL, 0, &a);
	assert_int_equal(a.code, 200);
	assert_true(a.epoch[0] >= '1' && a.epoch[0] <= '9');
	epoch = atoll(a.epoch);
	free(a.body);
	snprintf(path, sizeof path, "/v1/read?streams=%u:6&wait=0&epoch=%lld",
	    id, epoch);
	http(&p, path, TOK_SOUTH, NULL, 0, &a);
	assert_int_equal(a.code, 200);
	assert_int_equal(parse((uint8_t *)a.body, a.len, seen, 32), 1);
	free(a.body);
	snprintf(path, sizeof path, "/v1/read?streams=%u:6&wait=0&epoch=%lld",
	    id, epoch - 1);
	http(&p, path, TOK_SOUTH, NULL, 0, &a);
	assert_int_equal(a.code, 409);
	assert_non_null(strstr(a.body, "new life"));
	free(a.body);
	snprintf(path, sizeof path, "/v1/read?streams=%u:6&wait=0&epoch=x",
	    id);
	http(&p, path, TOK_SOUTH, NULL, 0, &a);
	assert_int_equal(a.code, 409);
	free(a.body);
	relay_stop(&p, SIGTERM);
}

/* A hole is refused with 409; malformed batches with 400 and why. */
static void
test_hole_and_malformed(void **state)
{
	struct relay_proc p;
	uint8_t buf[512];
	char *out, want[80];
	uint32_t id;
	size_t len;

	relay_up(&p, "hole", NULL);
	id = stream_id(&p, TOK_PADOVA, "mea", NULL);
	publish(&p, id, 1, 2, 3);
	len = batch(buf, sizeof buf, id, 5, 3);
	out = expect(&p, "/v1/publish", TOK_PADOVA, buf, len, 409);
	snprintf(want, sizeof want, "stream %u: expected seq 3, got 5\n", id);
	assert_string_equal(out, want);
	free(out);
	/* All or nothing: 3 before the hole in the same body is not kept. */
	len = batch(buf, sizeof buf, id, 3, 3);
	len += batch(buf + len, sizeof buf - len, id, 5, 3);
	free(expect(&p, "/v1/publish", TOK_PADOVA, buf, len, 409));
	publish(&p, id, 3, 3, 3);

	len = batch(buf, sizeof buf, id, 4, 3);
	buf[60] ^= 0x40;	/* a bit flipped in transit */
	out = expect(&p, "/v1/publish", TOK_PADOVA, buf, len, 400);
	assert_non_null(strstr(out, "failed its CRC"));
	free(out);
	out = expect(&p, "/v1/publish", TOK_PADOVA, buf, 30, 400);
	assert_non_null(strstr(out, "truncated batch header"));
	free(out);
	out = expect(&p, "/v1/publish", TOK_PADOVA, "", 0, 400);
	assert_non_null(strstr(out, "empty publish body"));
	free(out);
	/* Only the relay writes gap batches. */
	{
		struct wire_header h = { .stream_id = id };

		len = wire_encode_flagged(buf, sizeof buf, &h, 4, 9);
	}
	out = expect(&p, "/v1/publish", TOK_PADOVA, buf, len, 400);
	assert_non_null(strstr(out, "only the relay writes gap"));
	free(out);
	len = batch(buf, sizeof buf, 999, 1, 3);
	free(expect(&p, "/v1/publish", TOK_PADOVA, buf, len, 404));
	/* Bad queries. */
	free(expect(&p, "/v1/read?streams=1:x&wait=0", TOK_PADOVA, NULL, 0,
	    400));
	free(expect(&p, "/v1/read?streams=&wait=0", TOK_PADOVA, NULL, 0,
	    400));
	free(expect(&p, "/v1/read?wait=0", TOK_PADOVA, NULL, 0, 400));
	free(expect(&p, "/v1/read?streams=1:0&wait=maybe", TOK_PADOVA, NULL,
	    0, 400));
	free(expect(&p, "/v1/control?after=-1", TOK_PADOVA, NULL, 0, 400));
	free(expect(&p, "/v1/streams", TOK_PADOVA, "bad name 1\n", 11, 400));
	publish(&p, id, 4, 4, 3);	/* still accepting */
	relay_stop(&p, SIGTERM);
}

/* Mutated publish bodies and queries get 4xx, never a crash. */
static void
test_fuzz_requests(void **state)
{
	static const struct {
		const char *before, *after;
		int post;
	} queries[] = {
		{ "/v1/read?streams=", "&wait=0", 0 },
		{ "/v1/control?hold=0&after=", "", 0 },
		{ "/v1/command?to=", "&id=1", 1 },
		{ "/v1/result?to=padova&status=ok&id=", "", 1 },
	};
	static const char alphabet[] = "0123456789:,%&=?/+ab-";
	struct relay_proc p;
	struct answer a;
	uint8_t buf[1024];
	char arg[40], path[128];
	uint64_t seed = 4242, s = 1;
	size_t len, i, k;
	uint32_t id;

	relay_up(&p, "fuzz", NULL);
	id = stream_id(&p, TOK_PADOVA, "mea", NULL);
	for (i = 0; i < 150; i++) {
		seed ^= seed >> 12;
		seed ^= seed << 25;
		seed ^= seed >> 27;
		len = batch(buf, sizeof buf, id, s, 3);
		len += batch(buf + len, sizeof buf - len, id, s + 1, 2);
		for (k = 0; k < 1 + seed % 3; k++)
			buf[(seed >> (8 * k + 8)) % len] ^= (uint8_t)(1 << k);
		if (seed % 5 == 0)
			len = (seed >> 20) % len;
		http(&p, "/v1/publish", TOK_PADOVA, buf, len, &a);
		if (a.code == 200)
			s += 2;	/* a flip in a field nobody checks */
		else if (a.code != 400 && a.code != 403 && a.code != 404 &&
		    a.code != 409)
			fail_msg("mutated body %zu got %ld: %s", i, a.code,
			    a.body);
		free(a.body);

		for (k = 0; k < sizeof arg - 1 && k < (seed >> 9) % 30; k++)
			arg[k] = alphabet[(seed >> (k % 50)) %
			    (sizeof alphabet - 1)];
		arg[k] = '\0';
		snprintf(path, sizeof path, "%s%s%s", queries[i % 4].before,
		    arg, queries[i % 4].after);
		http(&p, path, TOK_SOUTH, queries[i % 4].post ? "x" : NULL, 1,
		    &a);
		if (a.code >= 500)
			fail_msg("%s got %ld: %s", path, a.code, a.body);
		free(a.body);
	}
	free(expect(&p, "/v1/streams", TOK_PADOVA, NULL, 0, 200));
	relay_stop(&p, SIGTERM);
}

/*
 * A batch whose header and CRC are right but whose record has an unknown
 * event kind is refused (400): stored, it would stop every reader.
 */
static void
test_undecodable(void **state)
{
	struct relay_proc p;
	struct answer a;
	uint8_t buf[4096];
	uint32_t id, crc;
	size_t len;

	(void)state;
	relay_up(&p, "undecodable", NULL);
	id = stream_id(&p, TOK_PADOVA, "mea", NULL);
	len = batch(buf, sizeof buf, id, 1, 3);
	buf[WIRE_HEADER_SIZE + 4] = 12;		/* no such event kind */
	memset(buf + 44, 0, 4);			/* the CRC, recomputed */
	crc = crc32c(0, buf, len);
	buf[44] = (uint8_t)crc;
	buf[45] = (uint8_t)(crc >> 8);
	buf[46] = (uint8_t)(crc >> 16);
	buf[47] = (uint8_t)(crc >> 24);
	http(&p, "/v1/publish", TOK_PADOVA, buf, len, &a);
	assert_int_equal(a.code, 400);
	assert_non_null(strstr(a.body, "unknown event kind 12"));
	free(a.body);
	/* the stream is still good for the next, right batch */
	len = batch(buf, sizeof buf, id, 1, 3);
	free(expect(&p, "/v1/publish", TOK_PADOVA, buf, len, 200));
	relay_stop(&p, SIGTERM);
}

/* 413 over --max-body, 429 over --rate with Retry-After. */
static void
test_limits(void **state)
{
	const char *extra[] = { "--max-body", "1", "--rate", "1000", NULL };
	struct relay_proc p;
	struct answer a;
	uint8_t *big = calloc(1, (1 << 20) + 1);
	uint32_t id;
	size_t len;

	relay_up(&p, "limits", extra);
	id = stream_id(&p, TOK_PADOVA, "mea", NULL);
	http(&p, "/v1/publish", TOK_PADOVA, big, (1 << 20) + 1, &a);
	assert_int_equal(a.code, 413);
	assert_non_null(strstr(a.body, "over the limit of 1048576"));
	free(a.body);
	/* The first body may overdraw the bucket; the next is refused. */
	len = batch(big, 1 << 20, id, 1, 1500);
	free(expect(&p, "/v1/publish", TOK_PADOVA, big, len, 200));
	len = batch(big, 1 << 20, id, 2, 10);
	http(&p, "/v1/publish", TOK_PADOVA, big, len, &a);
	assert_int_equal(a.code, 429);
	assert_true(atoi(a.retry_after) >= 1);
	assert_non_null(strstr(a.body, "over its rate of 1000 events/s"));
	free(a.body);
	/* Another site has its own bucket. */
	free(expect(&p, "/v1/streams", TOK_SOUTH, "x 1\n", 4, 200));
	free(big);
	relay_stop(&p, SIGTERM);
}

/* A streaming read, for a thread. */
struct reader {
	struct relay_proc *p;
	char path[128];
	pthread_t thread;
	pthread_mutex_t lock;
	uint8_t *buf;
	size_t len;
	int stop;
	long code;
};

/* Streaming read: keep the bytes. */
static size_t
reader_body(char *data, size_t size, size_t n, void *arg)
{
	struct reader *r = arg;

	pthread_mutex_lock(&r->lock);
	r->buf = realloc(r->buf, r->len + size * n);
	memcpy(r->buf + r->len, data, size * n);
	r->len += size * n;
	pthread_mutex_unlock(&r->lock);
	return size * n;
}

/* Streaming read: stop when asked. */
static int
reader_progress(void *arg, curl_off_t a, curl_off_t b, curl_off_t c,
    curl_off_t d)
{
	struct reader *r = arg;
	int stop;

	pthread_mutex_lock(&r->lock);
	stop = r->stop;
	pthread_mutex_unlock(&r->lock);
	return stop;
}

/* Streaming read thread. */
static void *
reader_main(void *arg)
{
	struct reader *r = arg;
	struct curl_slist *hdrs;
	CURL *c = handle(r->p, r->path, TOK_SOUTH, &hdrs);

	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, reader_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, reader_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, r);
	curl_easy_perform(c);
	pthread_mutex_lock(&r->lock);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->code);
	pthread_mutex_unlock(&r->lock);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	return NULL;
}

/* Wait until the reader holds a batch with these flags/seq; 0 or -1. */
static int
reader_wait(struct reader *r, uint8_t flags, uint64_t seq, int64_t ms)
{
	struct seen seen[256];
	int64_t deadline = now_ms() + ms;
	size_t n, i;
	int found = 0;

	while (!found && now_ms() < deadline) {
		pthread_mutex_lock(&r->lock);
		n = parse(r->buf, r->len, seen, 256);
		for (i = 0; i < n; i++) {
			if (seen[i].flags == flags && seen[i].seq == seq)
				found = 1;
		}
		pthread_mutex_unlock(&r->lock);
		if (!found)
			nap();
	}
	return found ? 0 : -1;
}

/* Wait until /metrics shows this many streaming readers. */
static void
wait_readers(struct relay_proc *p, int want)
{
	int64_t deadline = now_ms() + 5000 * slow();
	char *out, line[64];

	snprintf(line, sizeof line, "synbridge_relay_read_clients %d\n", want);
	for (;;) {
		out = expect(p, "/metrics", NULL, NULL, 0, 200);
		if (strstr(out, line) != NULL) {
			free(out);
			return;
		}
		free(out);
		if (now_ms() > deadline)
			fail_msg("never saw %d streaming readers", want);
		nap();
	}
}

/*
 * Column col (0: the site) of site's line in a /v1/health answer, into
 * buf; 0, or -1 if there is no such line or column.
 */
static int
health_col(const char *out, const char *site, int col, char *buf,
    size_t len)
{
	const char *line = out, *end;
	char copy[256], *w, *save = NULL;
	size_t n = strlen(site);
	int i;

	while (*line != '\0') {
		end = strchr(line, '\n');
		if (end == NULL)
			end = line + strlen(line);
		if ((size_t)(end - line) < sizeof copy &&
		    strncmp(line, site, n) == 0 && line[n] == ' ') {
			memcpy(copy, line, (size_t)(end - line));
			copy[end - line] = '\0';
			w = strtok_r(copy, " ", &save);
			for (i = 0; w != NULL && i < col; i++)
				w = strtok_r(NULL, " ", &save);
			if (w == NULL)
				return -1;
			snprintf(buf, len, "%s", w);
			return 0;
		}
		line = *end == '\n' ? end + 1 : end;
	}
	return -1;
}

/* /v1/health: a site's streaming reads and how long ago it was heard. */
static void
assert_presence(struct relay_proc *p, const char *site, const char *reads,
    int heard)
{
	char *out = expect(p, "/v1/health", TOK_PADOVA, NULL, 0, 200);
	char col[32];

	/* SITE SEEN RATE BATCHES GAPS HEARD READS */
	if (health_col(out, site, 6, col, sizeof col) != 0)
		fail_msg("no READS for %s in '%s'", site, out);
	assert_string_equal(col, reads);
	assert_int_equal(health_col(out, site, 5, col, sizeof col), 0);
	/* (heard: a figure, within the test's own minute) */
	if (heard)
		assert_true(strcmp(col, "-") != 0 && atof(col) < 60.0 * slow());
	else
		assert_string_equal(col, "-");
	free(out);
}

/*
 * A relay (name, extra options) with two batches of a stream, and r
 * reading it from after the first: the second has come, and its site
 * (southampton) shows one read open. The stream's id.
 */
static uint32_t
reading_relay(struct relay_proc *p, struct reader *r, const char *name,
    const char **extra)
{
	uint32_t id;

	relay_up(p, name, extra);
	id = stream_id(p, TOK_PADOVA, "mea", NULL);
	publish(p, id, 1, 2, 4);
	pthread_mutex_init(&r->lock, NULL);
	snprintf(r->path, sizeof r->path, "/v1/read?streams=%u:1", id);
	pthread_create(&r->thread, NULL, reader_main, r);
	/* The stored batch after 1 comes first. */
	assert_int_equal(reader_wait(r, 0, 2, 5000 * slow()), 0);
	wait_readers(p, 1);
	assert_presence(p, "southampton", "1", 1);
	return id;
}

/* A streaming reader gets a batch published after it connected, fast. */
static void
test_streaming(void **state)
{
	const char *extra[] = { "--keepalive", "1", NULL };
	struct relay_proc p;
	struct reader r = { .p = &p };
	uint32_t id;
	int64_t t0;

	id = reading_relay(&p, &r, "stream", extra);
	/* zurich's console never came */
	assert_presence(&p, "zurich", "0", 0);

	t0 = now_ms();
	publish(&p, id, 3, 3, 4);
	assert_int_equal(reader_wait(&r, 0, 3, 2000 * slow()), 0);
	print_message("# publish -> streaming reader: %" PRId64 " ms\n",
	    now_ms() - t0);
	publish(&p, id, 4, 5, 4);
	assert_int_equal(reader_wait(&r, 0, 5, 2000 * slow()), 0);
	/* After a second of silence: a keep-alive (flags 2, seq 0). */
	assert_int_equal(reader_wait(&r, WIRE_FLAG_KEEPALIVE, 0,
	    4000 * slow()), 0);

	pthread_mutex_lock(&r.lock);
	r.stop = 1;
	pthread_mutex_unlock(&r.lock);
	pthread_join(r.thread, NULL);
	assert_int_equal(r.code, 200);
	wait_readers(&p, 0);
	assert_presence(&p, "southampton", "0", 1);
	free(r.buf);
	pthread_mutex_destroy(&r.lock);
	relay_stop(&p, SIGTERM);
}

/*
 * A reader whose client goes (a console that quit or was killed) while
 * its read waits for batches is closed at once, and its site reads no
 * more: with keep-alives a minute apart, which would otherwise be the
 * first the relay heard of it.
 */
static void
test_closed_reader_seen(void **state)
{
	const char *extra[] = { "--keepalive", "60", NULL };
	struct relay_proc p;
	struct reader r = { .p = &p };

	(void)state;
	(void)reading_relay(&p, &r, "gone", extra);
	/* the client closes its connection; the relay is not told */
	pthread_mutex_lock(&r.lock);
	r.stop = 1;
	pthread_mutex_unlock(&r.lock);
	pthread_join(r.thread, NULL);
	wait_readers(&p, 0);
	assert_presence(&p, "southampton", "0", 1);
	free(r.buf);
	pthread_mutex_destroy(&r.lock);
	relay_stop(&p, SIGTERM);
}

/* A publish body sent in two halves, the second once a reader saw one. */
struct halves {
	const uint8_t *body;
	size_t len, half, off;
	struct reader *r;
	uint64_t seen_seq;	/* the batch the reader must see first */
	int seen;		/* 1 seen before the rest was sent, -1 not */
};

/* libcurl read callback: the first half, then wait, then the rest. */
static size_t
halves_read(char *buf, size_t size, size_t n, void *arg)
{
	struct halves *h = arg;
	size_t end = h->off < h->half ? h->half : h->len, k;

	if (h->off == h->half && h->seen == 0 && h->r != NULL)
		h->seen = reader_wait(h->r, 0, h->seen_seq,
		    5000 * slow()) == 0 ? 1 : -1;
	k = end - h->off < size * n ? end - h->off : size * n;
	memcpy(buf, h->body + h->off, k);
	h->off += k;
	return k;
}

/* POST body in two halves (chunked); the answer. */
static void
publish_halves(struct relay_proc *p, struct halves *h, struct answer *a)
{
	struct curl_slist *hdrs;
	CURL *c = handle(p, "/v1/publish", TOK_PADOVA, &hdrs);

	memset(a, 0, sizeof *a);
	hdrs = curl_slist_append(hdrs, "Transfer-Encoding: chunked");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, halves_read);
	curl_easy_setopt(c, CURLOPT_READDATA, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, a);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L * slow());
	if (curl_easy_perform(c) != CURLE_OK)
		fail_msg("publish in halves failed");
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a->code);
	if (a->body == NULL)
		a->body = strdup("");
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
}

/*
 * A publish body is stored as it arrives, in parts of whole batches:
 * a streaming reader gets the first 96 KB of a body before the rest is
 * sent, and a refused batch later in a long body leaves the parts before
 * it stored (the publisher sends them again; they are dropped as
 * duplicates).
 */
static void
test_publish_parts(void **state)
{
	struct relay_proc p;
	struct reader r = { .p = &p };
	struct halves h = { 0 };
	struct answer a1, a2;
	struct seen seen[64];
	size_t cap = 20 * (48 + 12 * 1000), len = 0, half = 0, n, k;
	uint8_t *buf = malloc(cap);
	char *out, want1[64], want2[64];
	uint32_t id;
	uint64_t s;
	int seen1, seen2, got16, got26;

	relay_up(&p, "parts", NULL);
	id = stream_id(&p, TOK_PADOVA, "mea", NULL);
	pthread_mutex_init(&r.lock, NULL);
	snprintf(r.path, sizeof r.path, "/v1/read?streams=%u:0", id);
	pthread_create(&r.thread, NULL, reader_main, &r);
	wait_readers(&p, 1);
	/* 16 batches of 1000 spikes (12 kB each): 8 of them, then 8. */
	for (s = 1; s <= 16; s++) {
		len += batch(buf + len, cap - len, id, s, 1000);
		if (s == 8)
			half = len;
	}
	h = (struct halves){ buf, len, half, 0, &r, 8, 0 };
	publish_halves(&p, &h, &a1);
	seen1 = h.seen;
	got16 = reader_wait(&r, 0, 16, 5000 * slow());

	/* Batches 17..24, then a hole (26): 409, and 17..24 are kept. */
	len = 0;
	for (s = 17; s <= 24; s++)
		len += batch(buf + len, cap - len, id, s, 1000);
	half = len;
	len += batch(buf + len, cap - len, id, 26, 1000);
	h = (struct halves){ buf, len, half, 0, &r, 24, 0 };
	publish_halves(&p, &h, &a2);
	seen2 = h.seen;
	/* Sent again with 25: 17..24 dropped as duplicates, 25 and 26 kept. */
	len = 0;
	for (s = 17; s <= 26; s++)
		len += batch(buf + len, cap - len, id, s, 1000);
	out = expect(&p, "/v1/publish", TOK_PADOVA, buf, len, 200);
	got26 = reader_wait(&r, 0, 26, 5000 * slow());
	pthread_mutex_lock(&r.lock);
	r.stop = 1;
	pthread_mutex_unlock(&r.lock);
	pthread_join(r.thread, NULL);
	relay_stop(&p, SIGTERM);

	/* The reader is stopped: now the checks. */
	print_message("# parts: seen %d %d, got 16: %d, got 26: %d, "
	    "read %zu bytes\n", seen1, seen2, got16, got26, r.len);
	assert_int_equal(a1.code, 200);
	snprintf(want1, sizeof want1, "%u 16\n", id);
	assert_string_equal(a1.body, want1);
	if (seen1 != 1)
		fail_msg("the reader did not get batch 8 before the body's "
		    "second half was sent");
	assert_int_equal(got16, 0);
	assert_int_equal(a2.code, 409);
	assert_non_null(strstr(a2.body, "expected seq 25, got 26"));
	if (seen2 != 1)
		fail_msg("batch 24, before the refused one, was not stored");
	snprintf(want2, sizeof want2, "%u 26\n", id);
	assert_string_equal(out, want2);
	assert_int_equal(got26, 0);
	/* Every batch once, in order. */
	n = parse(r.buf, r.len, seen, 64);
	for (k = 0, len = 0; k < n; k++) {
		if (seen[k].flags != 0)
			continue;
		assert_int_equal(seen[k].seq, len + 1);
		len++;
	}
	assert_int_equal(len, 26);
	free(out);
	free(a1.body);
	free(a2.body);
	free(r.buf);
	pthread_mutex_destroy(&r.lock);
	free(buf);
}

/*
 * With a spool, a chunked body's parts are appended as they come and
 * synced at its end: after its answer and a kill -9, the relay reads
 * every batch back from its logs, in order.
 */
static void
test_publish_parts_spool(void **state)
{
	char spool[300];
	const char *extra[] = { "--spool", spool, NULL };
	struct relay_proc p;
	struct halves h;
	struct answer a;
	struct seen seen[64];
	size_t cap = 20 * (48 + 12 * 1000), len = 0, half = 0, n, i;
	uint8_t *buf = malloc(cap);
	char path[128], want[64];
	uint32_t id;
	uint64_t s;

	relay_up(&p, "partspool", NULL);	/* makes the directory */
	relay_stop(&p, SIGTERM);
	snprintf(spool, sizeof spool, "%s/spool", p.dir);
	relay_up(&p, "partspool", extra);
	id = stream_id(&p, TOK_PADOVA, "mea", NULL);
	for (s = 1; s <= 16; s++) {
		len += batch(buf + len, cap - len, id, s, 1000);
		if (s == 5)
			half = len;
	}
	h = (struct halves){ buf, len, half, 0, NULL, 0, 0 };
	publish_halves(&p, &h, &a);
	assert_int_equal(a.code, 200);
	snprintf(want, sizeof want, "%u 16\n", id);
	assert_string_equal(a.body, want);
	free(a.body);
	relay_stop(&p, SIGKILL);

	relay_up(&p, "partspool", extra);
	snprintf(path, sizeof path, "/v1/read?streams=%u:0&wait=0", id);
	http(&p, path, TOK_SOUTH, NULL, 0, &a);
	n = parse((uint8_t *)a.body, a.len, seen, 64);
	assert_int_equal(n, 16);
	for (i = 0; i < n; i++)
		assert_int_equal(seen[i].seq, i + 1);
	assert_memory_equal(a.body, buf, len);
	free(a.body);
	relay_stop(&p, SIGTERM);
	free(buf);
}

/* A POST from its own thread (no cmocka calls there). */
struct bg_post {
	struct relay_proc *p;
	const char	*path, *token;
	const void	*body;
	size_t		 len;
	struct answer	 a;
	CURLcode	 rc;
	int		 done;	/* atomic */
};

static void *
bg_post_main(void *arg)
{
	struct bg_post *bg = arg;
	struct curl_slist *hdrs;
	CURL *c = handle(bg->p, bg->path, bg->token, &hdrs);

	memset(&bg->a, 0, sizeof bg->a);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, bg->body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)bg->len);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &bg->a);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L * slow());
	bg->rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &bg->a.code);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	__atomic_store_n(&bg->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* Hold the relay's syncs (gate) and start a POST that waits on one. */
static void
held_post(struct bg_post *bg, pthread_t *t, const char *gate,
    const char *entered)
{
	int64_t deadline;

	unlink(entered);
	write_file(gate, "");
	assert_int_equal(pthread_create(t, NULL, bg_post_main, bg), 0);
	deadline = now_ms() + 30000 * slow();
	while (access(entered, F_OK) != 0 && now_ms() < deadline)
		nap();
	if (access(entered, F_OK) != 0)
		fail_msg("the relay never synced for %s", bg->path);
}

/* Make relay name's test directory (start it once and stop it). */
static void
relay_dir(struct relay_proc *p, const char *name)
{
	relay_up(p, name, NULL);
	relay_stop(p, SIGTERM);
}

/* The sync gate of tests/sync-gate.c in p's directory, not yet entered. */
static void
gate_paths(struct relay_proc *p, char *gate, size_t glen, char *entered,
    size_t elen)
{
	snprintf(gate, glen, "%s/gate", p->dir);
	snprintf(entered, elen, "%s.entered", gate);
	unlink(entered);
}

/*
 * Start relay name (after relay_dir) on DIR/spool, its path put in spool,
 * with tests/sync-gate.c preloaded and the environment pairs env (NAME,
 * VALUE, ..., NULL) set for it alone.
 */
static void
relay_up_shimmed(struct relay_proc *p, const char *name, char *spool,
    size_t len, const char *const *env)
{
	const char *extra[] = { "--spool", spool, NULL };
	const char *top = getenv("top_builddir");
	char shim[512];
	size_t i;

	snprintf(shim, sizeof shim, "%s/tests/.libs/sync-gate.so",
	    top != NULL ? top : ".");
	assert_int_equal(access(shim, R_OK), 0);
	snprintf(spool, len, "%s/spool", p->dir);
	setenv("LD_PRELOAD", shim, 1);
	for (i = 0; env[i] != NULL; i += 2)
		setenv(env[i], env[i + 1], 1);
	relay_up(p, name, extra);
	unsetenv("LD_PRELOAD");
	for (i = 0; env[i] != NULL; i += 2)
		unsetenv(env[i]);
}

/* Wait for a background POST, and check its status. */
static void
joined(struct bg_post *bg, pthread_t t, long code)
{
	pthread_join(t, NULL);
	assert_int_equal(bg->rc, CURLE_OK);
	assert_int_equal(bg->a.code, code);
}

/*
 * With a spool, a body is acknowledged only once its batches are synced,
 * and a command only once it is synced; neither sync may hold up other
 * sites. While one is held (tests/sync-gate.c, preloaded into the
 * relay): the relay still answers the clock and serves a read of the
 * very batch waiting on it, and a held command is not yet given to its
 * site; each is answered once the sync ends.
 */
static void
test_spool_sync_aside(void **state)
{
	char spool[300], gate[300], entered[320], path[128];
	const char *extra[] = { "--spool", spool, NULL };
	struct relay_proc p;
	struct bg_post bg;
	struct answer a;
	struct seen seen[8];
	uint8_t body[2][48 + 12 * 100];
	size_t len[2];
	pthread_t t;
	uint32_t id;
	char *out, want[64];

	relay_dir(&p, "syncaside");
	gate_paths(&p, gate, sizeof gate, entered, sizeof entered);
	relay_up_shimmed(&p, "syncaside", spool, sizeof spool,
	    (const char *[]){ "SB_TEST_SYNC_GATE", gate, NULL });
	id = stream_id(&p, TOK_PADOVA, "mea", NULL);
	len[0] = batch(body[0], sizeof body[0], id, 1, 100);
	len[1] = batch(body[1], sizeof body[1], id, 2, 100);

	bg = (struct bg_post){ .p = &p, .path = "/v1/publish",
	    .token = TOK_PADOVA, .body = body[0], .len = len[0] };
	held_post(&bg, &t, gate, entered);

	/* held: the clock, a read of that batch, another site's body */
	out = expect(&p, "/v1/time", TOK_SOUTH, NULL, 0, 200);
	free(out);
	snprintf(path, sizeof path, "/v1/read?streams=%u:0&wait=0", id);
	http(&p, path, TOK_SOUTH, NULL, 0, &a);
	assert_int_equal(a.code, 200);
	assert_int_equal(parse((uint8_t *)a.body, a.len, seen, 8), 1);
	assert_int_equal(seen[0].seq, 1);
	free(a.body);
	assert_false(__atomic_load_n(&bg.done, __ATOMIC_ACQUIRE));

	/* the gate opens: the held body is answered, then the next */
	unlink(gate);
	joined(&bg, t, 200);
	snprintf(want, sizeof want, "%u 1\n", id);
	assert_string_equal(bg.a.body, want);
	free(bg.a.body);
	out = expect(&p, "/v1/publish", TOK_PADOVA, body[1], len[1], 200);
	snprintf(want, sizeof want, "%u 2\n", id);
	assert_string_equal(out, want);
	free(out);

	/* a command waits for its sync; its site does not see it before */
	bg = (struct bg_post){ .p = &p, .path =
	    "/v1/command?to=southampton&id=7", .token = TOK_PADOVA,
	    .body = "read s1\n", .len = 8 };
	held_post(&bg, &t, gate, entered);
	free(expect(&p, "/v1/time", TOK_SOUTH, NULL, 0, 200));
	free(expect(&p, "/v1/control?after=0&hold=0", TOK_SOUTH, NULL, 0,
	    204));
	assert_false(__atomic_load_n(&bg.done, __ATOMIC_ACQUIRE));
	unlink(gate);
	joined(&bg, t, 202);
	assert_string_equal(bg.a.body, "1\n");
	free(bg.a.body);
	out = expect(&p, "/v1/control?after=0&hold=0", TOK_SOUTH, NULL, 0,
	    200);
	assert_string_equal(out, "1 command padova 7 read s1\n");
	free(out);
	/* and the next one is numbered on, at once with the gate open */
	out = expect(&p, "/v1/result?to=padova&id=7&status=ok", TOK_SOUTH,
	    "0.5\n", 4, 202);
	assert_string_equal(out, "2\n");
	free(out);
	relay_stop(&p, SIGTERM);

	/* the spool kept both, in order */
	relay_up(&p, "syncaside", extra);
	out = expect(&p, "/v1/control?after=0&hold=0", TOK_PADOVA, NULL, 0,
	    200);
	assert_string_equal(out, "2 result southampton 7 ok 0.5\n");
	free(out);
	relay_stop(&p, SIGTERM);
}

/* One unlabelled /metrics value (fails if it is missing). */
static uint64_t
metric(struct relay_proc *p, const char *name)
{
	char *out = expect(p, "/metrics", NULL, NULL, 0, 200), *at, want[96];
	unsigned long long v = 0;

	snprintf(want, sizeof want, "\n%s ", name);
	if ((at = strstr(out, want)) == NULL ||
	    sscanf(at + strlen(want), "%llu", &v) != 1)
		fail_msg("no %s in /metrics", name);
	free(out);
	return (uint64_t)v;
}

/* Wait until an unlabelled /metrics value is want. */
static void
wait_metric(struct relay_proc *p, const char *name, uint64_t want)
{
	int64_t deadline = now_ms() + 30000 * slow();

	while (metric(p, name) != want && now_ms() < deadline)
		nap();
	assert_int_equal(metric(p, name), want);
}

/* A publish body fed as the test goes (chunked), on its own connection. */
struct feed {
	CURL *c;
	struct curl_slist *hdrs;
	uint8_t buf[4096];
	size_t len, off;
	int end, paused, done;
	CURLcode rc;
	struct answer a;
};

/* libcurl read callback: what was fed; a pause when there is no more. */
static size_t
feed_read(char *out, size_t size, size_t n, void *arg)
{
	struct feed *f = arg;
	size_t k = f->len - f->off;

	if (k == 0) {
		if (f->end)
			return 0;
		f->paused = 1;
		return CURL_READFUNC_PAUSE;
	}
	if (k > size * n)
		k = size * n;
	memcpy(out, f->buf + f->off, k);
	f->off += k;
	return k;
}

static void
feed_start(CURLM *m, struct relay_proc *p, struct feed *f)
{
	memset(f, 0, sizeof *f);
	f->c = handle(p, "/v1/publish", TOK_PADOVA, &f->hdrs);
	curl_easy_setopt(f->c, CURLOPT_POST, 1L);
	curl_easy_setopt(f->c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)-1);
	curl_easy_setopt(f->c, CURLOPT_READFUNCTION, feed_read);
	curl_easy_setopt(f->c, CURLOPT_READDATA, f);
	curl_easy_setopt(f->c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(f->c, CURLOPT_WRITEDATA, &f->a);
	curl_easy_setopt(f->c, CURLOPT_PRIVATE, f);
	curl_multi_add_handle(m, f->c);
}

/* Feed batch seq (3 spikes) to f; end the body after it if end. */
static void
feed_batch(struct feed *f, uint32_t id, uint64_t seq, int end)
{
	if (seq != 0)
		f->len += batch(f->buf + f->len, sizeof f->buf - f->len, id,
		    seq, 3);
	f->end = end;
	if (f->paused) {
		f->paused = 0;
		curl_easy_pause(f->c, CURLPAUSE_CONT);
	}
}

static void
feed_free(CURLM *m, struct feed *f)
{
	curl_multi_remove_handle(m, f->c);
	curl_easy_cleanup(f->c);
	curl_slist_free_all(f->hdrs);
	free(f->a.body);
}

/* Run the feeds for at least ms, or until f is answered (f not NULL). */
static void
feed_run(CURLM *m, struct feed *f, int64_t ms)
{
	int64_t deadline = now_ms() + ms;
	struct feed *g;
	CURLMsg *msg;
	int running, left;

	for (;;) {
		curl_multi_perform(m, &running);
		while ((msg = curl_multi_info_read(m, &left)) != NULL) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
			    (char **)&g);
			g->done = 1;
			g->rc = msg->data.result;
			curl_easy_getinfo(g->c, CURLINFO_RESPONSE_CODE,
			    &g->a.code);
		}
		if (f != NULL && f->done)
			return;
		if (now_ms() >= deadline) {
			if (f != NULL)
				fail_msg("a publish body was not answered in "
				    "%lld ms", (long long)ms);
			return;
		}
		curl_multi_poll(m, NULL, 0, 10, NULL);
	}
}

/* Has the relay stored seq of stream id? */
static int
stored(struct relay_proc *p, uint32_t id, uint64_t seq)
{
	char *out, *line, *save;
	uint64_t highest;
	uint32_t sid;

	{
		highest = 0;
		out = expect(p, "/v1/streams", TOK_PADOVA, NULL, 0, 200);
		for (line = strtok_r(out, "\n", &save); line != NULL;
		    line = strtok_r(NULL, "\n", &save)) {
			if (sscanf(line, "%" SCNu32 " %*s %*s %*u %" SCNu64,
			    &sid, &highest) == 2 && sid == id)
				break;
			highest = 0;
		}
		free(out);
		return highest >= seq;
	}
}

/* Run the feeds until the relay stored seq of stream id. */
static void
wait_stored_fed(CURLM *m, struct relay_proc *p, uint32_t id, uint64_t seq)
{
	int64_t deadline = now_ms() + 20000 * slow();

	while (!stored(p, id, seq)) {
		if (now_ms() >= deadline)
			fail_msg("seq %" PRIu64 " was not stored", seq);
		feed_run(m, NULL, 20);
	}
}

/*
 * Run the feeds until the relay held want parts in all, or f (not NULL)
 * is answered instead.
 */
static void
wait_held(CURLM *m, struct relay_proc *p, struct feed *f, uint64_t want)
{
	int64_t deadline = now_ms() + 20000 * slow();

	while ((f == NULL || !f->done) &&
	    metric(p, "synbridge_relay_publish_held_total") < want) {
		if (now_ms() >= deadline)
			fail_msg("%" PRIu64 " parts were not held", want);
		feed_run(m, NULL, 20);
	}
}

/*
 * A console starts its next body of a stream before the last one's
 * answer: a part that comes before the batches it follows waits for
 * them while the earlier body is open (it is not refused 409), or for 2 s
 * while none is (the earlier may be on a connection still opening), and
 * is refused 409 once nothing open can bring them and those 2 s are over.
 * Two such parts never wait for each other past that.
 */
static void
overlapping_bodies(const char *name, const char **extra)
{
	struct relay_proc p;
	int64_t t0;
	struct feed a, b, c;
	struct seen seen[32];
	struct answer r;
	char path[64], want[32];
	uint32_t id;
	size_t n, k;
	CURLM *m = curl_multi_init();

	relay_up(&p, name, extra);
	id = stream_id(&p, TOK_PADOVA, "mea", NULL);

	/* a carries 1, and 2 later; b comes with 3 before 2 is there */
	feed_start(m, &p, &a);
	feed_batch(&a, id, 1, 0);
	feed_run(m, NULL, 0);
	wait_stored_fed(m, &p, id, 1);
	feed_start(m, &p, &b);
	feed_batch(&b, id, 3, 1);
	wait_held(m, &p, &b, 1);
	assert_false(b.done);		/* held, not refused */
	feed_batch(&a, id, 2, 1);
	feed_run(m, &a, 20000 * slow());
	feed_run(m, &b, 20000 * slow());
	assert_int_equal(a.rc, CURLE_OK);
	assert_int_equal(a.a.code, 200);
	assert_int_equal(b.a.code, 200);
	snprintf(want, sizeof want, "%u 3\n", id);
	assert_string_equal(b.a.body, want);
	feed_free(m, &a);
	feed_free(m, &b);

	/* a ends without 5: b, held for it, is refused 409 (after 2 s) */
	feed_start(m, &p, &a);
	feed_batch(&a, id, 4, 0);
	wait_stored_fed(m, &p, id, 4);
	feed_start(m, &p, &b);
	feed_batch(&b, id, 6, 1);
	wait_held(m, &p, &b, 2);
	assert_false(b.done);		/* held while a is open */
	feed_batch(&a, id, 0, 1);
	feed_run(m, &a, 20000 * slow());
	assert_int_equal(a.a.code, 200);
	feed_run(m, &b, 20000 * slow());
	assert_int_equal(b.a.code, 409);
	assert_non_null(strstr(b.a.body, "expected seq 5, got 6"));
	feed_free(m, &a);
	feed_free(m, &b);

	/*
	 * Two held while a third is open: both wait; when it closes its
	 * connection in the middle of its body, both are refused.
	 */
	feed_start(m, &p, &a);
	feed_batch(&a, id, 5, 0);
	wait_stored_fed(m, &p, id, 5);
	feed_start(m, &p, &b);
	feed_batch(&b, id, 7, 1);
	feed_start(m, &p, &c);
	feed_batch(&c, id, 8, 1);
	wait_held(m, &p, NULL, 4);
	assert_false(b.done);
	assert_false(c.done);
	curl_multi_remove_handle(m, a.c);	/* its connection closes */
	curl_easy_cleanup(a.c);
	curl_slist_free_all(a.hdrs);
	free(a.a.body);
	feed_run(m, &b, 20000 * slow());
	feed_run(m, &c, 20000 * slow());
	assert_int_equal(b.a.code, 409);
	assert_int_equal(c.a.code, 409);
	feed_free(m, &b);
	feed_free(m, &c);

	/* Every stored batch once, in order, and the stream goes on. */
	publish(&p, id, 6, 8, 3);
	snprintf(path, sizeof path, "/v1/read?streams=%u:0&wait=0", id);
	http(&p, path, TOK_PADOVA, NULL, 0, &r);
	assert_int_equal(r.code, 200);
	n = parse((const uint8_t *)r.body, r.len, seen, 32);
	for (k = 0; k < n; k++)
		assert_int_equal(seen[k].seq, k + 1);
	assert_int_equal(n, 8);
	free(r.body);

	/*
	 * b comes first with no other request open (the earlier body still
	 * on its way, on a connection being opened): it is held, and a,
	 * begun after it, fills its hole.
	 */
	feed_start(m, &p, &b);
	feed_batch(&b, id, 10, 1);
	wait_held(m, &p, &b, 5);
	assert_false(b.done);		/* held, not refused */
	feed_start(m, &p, &a);
	feed_batch(&a, id, 9, 1);
	feed_run(m, &a, 20000 * slow());
	feed_run(m, &b, 20000 * slow());
	assert_int_equal(a.a.code, 200);
	assert_int_equal(b.a.code, 200);
	snprintf(want, sizeof want, "%u 10\n", id);
	assert_string_equal(b.a.body, want);
	feed_free(m, &a);
	feed_free(m, &b);

	/* nothing brings 11: refused 409 once the grace (2 s) is over */
	t0 = now_ms();
	feed_start(m, &p, &b);
	feed_batch(&b, id, 12, 1);
	feed_run(m, &b, 20000 * slow());
	assert_int_equal(b.a.code, 409);
	assert_non_null(strstr(b.a.body, "expected seq 11, got 12"));
	assert_true(now_ms() - t0 >= 1900);
	feed_free(m, &b);
	curl_multi_cleanup(m);
	relay_stop(&p, SIGTERM);
}

static void
test_overlapping_bodies(void **state)
{
	overlapping_bodies("overlap", NULL);
}

/* The same with requests on several threads, resumed from another. */
static void
test_overlapping_bodies_threads(void **state)
{
	static const char *extra[] = { "--threads", "3", NULL };

	overlapping_bodies("overlap-threads", extra);
}


/*
 * Group commit: messages that wait for their spool sync together are
 * made durable by one sync of their session's control file, not one
 * each. While one command's sync is held (tests/sync-gate.c), 4 more
 * queue; once the gate opens, all 5 are answered in number order, the
 * 4 after one more sync, and the spool keeps all. Publish bodies of a
 * stream and stream registrations wait and share syncs the same way.
 */
static void
test_spool_group_commit(void **state)
{
	char spool[300], gate[300], entered[320], want[16];
	char path[5][64];
	const char *extra[] = { "--spool", spool, NULL };
	struct relay_proc p;
	struct bg_post bg[5];
	uint8_t body[3][48 + 12 * 100];
	size_t len[3];
	uint32_t id;
	unsigned long long hi;
	pthread_t t[5];
	uint64_t syncs, seen = 0;
	unsigned n;
	char *out;
	int i;

	relay_dir(&p, "groupcommit");
	gate_paths(&p, gate, sizeof gate, entered, sizeof entered);
	relay_up_shimmed(&p, "groupcommit", spool, sizeof spool,
	    (const char *[]){ "SB_TEST_SYNC_GATE", gate, NULL });
	/* the session and its control file exist: message 1 */
	out = expect(&p, "/v1/command?to=southampton&id=1", TOK_PADOVA,
	    "read s1\n", 8, 202);
	assert_string_equal(out, "1\n");
	free(out);

	for (i = 0; i < 5; i++) {
		snprintf(path[i], sizeof path[i],
		    "/v1/command?to=southampton&id=%d", i + 2);
		bg[i] = (struct bg_post){ .p = &p, .path = path[i],
		    .token = TOK_PADOVA, .body = "read s1\n", .len = 8 };
	}
	held_post(&bg[0], &t[0], gate, entered);
	for (i = 1; i < 5; i++)
		assert_int_equal(pthread_create(&t[i], NULL, bg_post_main,
		    &bg[i]), 0);
	wait_metric(&p, "synbridge_relay_spool_sync_waiting", 5);
	/* none is visible to its site before it is durable */
	free(expect(&p, "/v1/control?after=1&hold=0", TOK_SOUTH, NULL, 0,
	    204));
	syncs = metric(&p, "synbridge_relay_spool_syncs_total");

	unlink(gate);
	for (i = 0; i < 5; i++) {
		joined(&bg[i], t[i], 202);
		assert_int_equal(sscanf(bg[i].a.body, "%u", &n), 1);
		free(bg[i].a.body);
		/* the held one is 2, the others 3 to 6 in any order */
		assert_true(i == 0 ? n == 2 : n >= 3 && n <= 6);
		assert_false(seen & (1u << n));
		seen |= 1u << n;
	}
	/* the held sync counted as it began: one more, for the 4 behind it */
	assert_int_equal(metric(&p, "synbridge_relay_spool_syncs_total") -
	    syncs, 1);
	assert_int_equal(metric(&p, "synbridge_relay_spool_sync_waiting"), 0);

	/*
	 * Publish bodies of one stream the same way (a publisher on three
	 * connections): body 1's sync held, bodies 2 and 3 stored behind
	 * it; one sync of the stream's log acknowledges both.
	 */
	id = stream_id(&p, TOK_PADOVA, "mea", NULL);
	for (i = 0; i < 3; i++) {
		len[i] = batch(body[i], sizeof body[i], id, (uint64_t)i + 1,
		    100);
		bg[i] = (struct bg_post){ .p = &p, .path = "/v1/publish",
		    .token = TOK_PADOVA, .body = body[i], .len = len[i] };
	}
	held_post(&bg[0], &t[0], gate, entered);
	for (i = 1; i < 3; i++) {
		assert_int_equal(pthread_create(&t[i], NULL, bg_post_main,
		    &bg[i]), 0);
		/* in order: body 3 is stored after body 2 */
		wait_metric(&p, "synbridge_relay_spool_sync_waiting",
		    (uint64_t)i + 1);
	}
	syncs = metric(&p, "synbridge_relay_spool_syncs_total");
	unlink(gate);
	for (i = 0; i < 3; i++) {
		joined(&bg[i], t[i], 200);
		/* an answer gives the highest stored: at least its own */
		assert_int_equal(sscanf(bg[i].a.body, "%u %llu", &n, &hi), 2);
		assert_int_equal(n, id);
		assert_true(hi >= (unsigned long long)i + 1 && hi <= 3);
		free(bg[i].a.body);
	}
	assert_int_equal(metric(&p, "synbridge_relay_spool_syncs_total") -
	    syncs, 1);

	/*
	 * Stream registrations too: held behind a sync, a new stream is not
	 * listed and its id takes no batch; the clock is answered meanwhile.
	 * The two queued behind the held one take one sync of the session's
	 * directory and streams file together.
	 */
	for (i = 0; i < 3; i++) {
		snprintf(path[i], sizeof path[i], "syn:%c 4\n", 'a' + i);
		bg[i] = (struct bg_post){ .p = &p, .path = "/v1/streams",
		    .token = TOK_PADOVA, .body = path[i], .len = 8 };
	}
	held_post(&bg[0], &t[0], gate, entered);
	for (i = 1; i < 3; i++)
		assert_int_equal(pthread_create(&t[i], NULL, bg_post_main,
		    &bg[i]), 0);
	wait_metric(&p, "synbridge_relay_spool_sync_waiting", 3);
	free(expect(&p, "/v1/time", TOK_SOUTH, NULL, 0, 200));
	out = expect(&p, "/v1/streams", TOK_PADOVA, NULL, 0, 200);
	assert_null(strstr(out, "syn:"));
	free(out);
	len[0] = batch(body[0], sizeof body[0], id + 1, 1, 100);
	free(expect(&p, "/v1/publish", TOK_PADOVA, body[0], len[0], 404));
	syncs = metric(&p, "synbridge_relay_spool_syncs_total");
	unlink(gate);
	seen = 0;
	for (i = 0; i < 3; i++) {
		joined(&bg[i], t[i], 200);
		snprintf(want, sizeof want, "syn:%c 1\n", 'a' + i);
		assert_int_equal(sscanf(bg[i].a.body, "%u", &n), 1);
		assert_non_null(strstr(bg[i].a.body, want));
		free(bg[i].a.body);
		assert_true(n > id && n <= id + 3);
		assert_false(seen & (1u << (n - id)));
		seen |= 1u << (n - id);
	}
	/*
	 * The held one's streams file (its directory sync was held, counted
	 * before), then directory and streams file once for the two behind
	 * it: 3 (5 if each synced its own).
	 */
	assert_int_equal(metric(&p, "synbridge_relay_spool_syncs_total") -
	    syncs, 3);
	out = expect(&p, "/v1/streams", TOK_PADOVA, NULL, 0, 200);
	assert_non_null(strstr(out, " syn:a "));
	assert_non_null(strstr(out, " syn:b "));
	assert_non_null(strstr(out, " syn:c "));
	free(out);
	relay_stop(&p, SIGTERM);

	/* the spool kept all six, in order */
	relay_up(&p, "groupcommit", extra);
	out = expect(&p, "/v1/control?after=0&hold=0", TOK_SOUTH, NULL, 0,
	    200);
	for (i = 1; i <= 6; i++) {
		snprintf(want, sizeof want, "%d command ", i);
		assert_non_null(strstr(out, want));
	}
	free(out);
	/* and the streams, under the ids they were given */
	out = expect(&p, "/v1/streams", TOK_PADOVA, NULL, 0, 200);
	for (i = 0; i < 3; i++) {
		snprintf(want, sizeof want, " syn:%c ", 'a' + i);
		assert_non_null(strstr(out, want));
	}
	free(out);
	relay_stop(&p, SIGTERM);
}

/*
 * The logs of different streams that bodies wrote in one round of the
 * sync thread are synced at once, not one after another: with one body's
 * sync held (tests/sync-gate.c, every sync also 200 ms), three bodies of
 * three other streams queue; once the gate opens the shim sees their
 * three log syncs in progress together, and all four are acknowledged.
 */
static void
test_spool_parallel_logs(void **state)
{
	char spool[300], gate[300], entered[320], logs[320];
	const char *names[4] = { "syn:p", "syn:q", "syn:r", "syn:s" };
	struct relay_proc p;
	struct bg_post bg[4];
	pthread_t t[4];
	uint8_t body[4][48 + 12 * 100];
	size_t len[4];
	uint32_t id[4];
	int i, most = 0;
	FILE *f;

	relay_dir(&p, "parallel");
	gate_paths(&p, gate, sizeof gate, entered, sizeof entered);
	snprintf(logs, sizeof logs, "%s/logs", p.dir);
	relay_up_shimmed(&p, "parallel", spool, sizeof spool,
	    (const char *[]){ "SB_TEST_SYNC_GATE", gate,
	    "SB_TEST_SYNC_DELAY_MS", "200", "SB_TEST_SYNC_LOGS", logs, NULL });
	for (i = 0; i < 4; i++) {
		id[i] = stream_id(&p, TOK_PADOVA, names[i], NULL);
		len[i] = batch(body[i], sizeof body[i], id[i], 1, 100);
		bg[i] = (struct bg_post){ .p = &p, .path = "/v1/publish",
		    .token = TOK_PADOVA, .body = body[i], .len = len[i] };
	}
	unlink(logs);
	held_post(&bg[0], &t[0], gate, entered);
	for (i = 1; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, bg_post_main,
		    &bg[i]), 0);
	wait_metric(&p, "synbridge_relay_spool_sync_waiting", 4);
	unlink(gate);
	for (i = 0; i < 4; i++) {
		joined(&bg[i], t[i], 200);
		free(bg[i].a.body);
	}
	assert_non_null(f = fopen(logs, "r"));
	assert_int_equal(fscanf(f, "%d", &most), 1);
	fclose(f);
	fprintf(stderr, "# at most %d stream log syncs at once\n", most);
	assert_int_equal(most, 3);
	relay_stop(&p, SIGTERM);
}

/*
 * On a slow disk (every sync 300 ms, tests/sync-gate.c) the session's
 * clock file keeps its bound ahead of the time served while the next
 * write is synced: the bound is written further ahead (1.25 s and twice
 * the sync), not 1.25 s, and renewed that much earlier.
 */
static void
test_clock_slow_disk(void **state)
{
	char spool[300], path[400], buf[128];
	struct relay_proc p;
	long long bound = 0, t = 0, lead = 0;
	int64_t deadline;
	FILE *f;

	relay_dir(&p, "slowclock");
	relay_up_shimmed(&p, "slowclock", spool, sizeof spool,
	    (const char *[]){ "SB_TEST_SYNC_DELAY_MS", "300", NULL });
	free(expect(&p, "/v1/time", TOK_PADOVA, NULL, 0, 200));
	snprintf(path, sizeof path, "%s/hybrid/clock", spool);
	deadline = now_ms() + 20000 * slow();
	while (lead < 1850000 && now_ms() < deadline) {
		if ((f = fopen(path, "r")) != NULL) {
			if (fgets(buf, sizeof buf, f) != NULL &&
			    sscanf(buf, "%lld %lld", &bound, &t) == 2)
				lead = bound - t;
			fclose(f);
		}
		nap();
	}
	fprintf(stderr, "# clock file: bound %lld us ahead of its time\n",
	    lead);
	assert_true(lead >= 1850000);
	relay_stop(&p, SIGTERM);
}

/*
 * An idle relay does not keep the disk busy: a session's clock file is
 * rewritten and synced about once a second (tests/sync-gate.c counts the
 * relay's syncs), not ten times.
 */
static void
test_clock_idle_syncs(void **state)
{
	char spool[300], count[320];
	struct relay_proc p;
	struct stat st;
	off_t before;
	int64_t t0;

	relay_dir(&p, "idlesync");
	snprintf(count, sizeof count, "%s/syncs", p.dir);
	relay_up_shimmed(&p, "idlesync", spool, sizeof spool,
	    (const char *[]){ "SB_TEST_SYNC_COUNT", count, NULL });
	free(expect(&p, "/v1/time", TOK_PADOVA, NULL, 0, 200));
	before = stat(count, &st) == 0 ? st.st_size : 0;
	/*
	 * A window of 3 s of the test's clock: a slow or loaded machine
	 * makes the relay sync less in it, never more.
	 */
	t0 = now_ms();
	while (now_ms() < t0 + 3000)
		nap();
	assert_int_equal(stat(count, &st), 0);
	fprintf(stderr, "# %lld syncs in 3 s idle\n",
	    (long long)(st.st_size - before));
	/*
	 * About 6: each of the 2 sessions' clock files once a second (ten
	 * times a second each, 60, before).
	 */
	assert_true(st.st_size - before <= 10);
	relay_stop(&p, SIGTERM);
}

/* Without a spool, a reader behind the memory bound gets a GAP. */
static void
test_memory_gap(void **state)
{
	const char *extra[] = { "--max-memory", "1", NULL };
	struct relay_proc p;
	struct seen seen[64];
	struct answer a;
	char path[128], *out;
	uint32_t id;
	uint64_t s;
	size_t n, i;

	relay_up(&p, "gap", extra);
	id = stream_id(&p, TOK_PADOVA, "mea", NULL);
	for (s = 1; s <= 40; s++)	/* 40 x ~36 KiB > 1 MiB */
		publish(&p, id, s, s, 3000);
	snprintf(path, sizeof path, "/v1/read?streams=%u:0&wait=0", id);
	http(&p, path, TOK_SOUTH, NULL, 0, &a);
	n = parse((uint8_t *)a.body, a.len, seen, 64);
	assert_true(n >= 2);
	assert_int_equal(seen[0].flags, WIRE_FLAG_GAP);
	assert_int_equal(seen[0].stream, id);
	assert_int_equal(seen[0].seq, 1);
	assert_true(seen[0].count >= 10 && seen[0].count < 40);
	assert_int_equal(n, 40 - seen[0].count + 1);
	for (i = 1; i < n; i++) {
		assert_int_equal(seen[i].flags, 0);
		assert_int_equal(seen[i].seq, seen[0].count + i);
	}
	free(a.body);
	/* A reader that is past the gap gets no gap. */
	snprintf(path, sizeof path, "/v1/read?streams=%u:39&wait=0", id);
	http(&p, path, TOK_SOUTH, NULL, 0, &a);
	assert_int_equal(parse((uint8_t *)a.body, a.len, seen, 64), 1);
	assert_int_equal(seen[0].seq, 40);
	free(a.body);
	out = expect(&p, "/metrics", NULL, NULL, 0, 200);
	assert_non_null(strstr(out, "synbridge_relay_gaps_total 1\n"));
	assert_null(strstr(out, "synbridge_relay_memory_bytes 0\n"));
	free(out);
	out = expect(&p, "/v1/health", TOK_SOUTH, NULL, 0, 200);
	/* padova: 40 batches, 1 gap (then when heard, and its reads) */
	assert_non_null(strstr(out, " 40 1 "));
	free(out);
	relay_stop(&p, SIGTERM);
}

/* kill -9 and restart on the same spool: every ack'ed batch, once. */
static void
test_spool_kill9(void **state)
{
	char spool[300];
	const char *extra[] = { "--spool", spool, "--max-memory", "1", NULL };
	struct relay_proc p;
	struct seen seen[256];
	struct answer a;
	char path[128], logpath[400], *out;
	uint8_t *first = malloc(1 << 16);
	size_t firstlen, n, i;
	uint32_t id;
	uint64_t s, next;
	int64_t t_before, t_after;
	FILE *f;

	relay_up(&p, "spool", NULL);	/* makes the directory */
	relay_stop(&p, SIGTERM);
	snprintf(spool, sizeof spool, "%s/spool", p.dir);
	relay_up(&p, "spool", extra);
	id = stream_id(&p, TOK_PADOVA, "mea", NULL);
	firstlen = batch(first, 1 << 16, id, 1, 100);
	free(expect(&p, "/v1/publish", TOK_PADOVA, first, firstlen, 200));
	for (s = 2; s <= 120; s += 3)	/* over the memory bound */
		publish(&p, id, s, s + 2, 1000);
	free(expect(&p, "/v1/command?to=southampton&id=77", TOK_PADOVA,
	    "stim 3 a\\b\n", 11, 202));
	out = expect(&p, "/v1/time", TOK_PADOVA, NULL, 0, 200);
	t_before = strtoll(out, NULL, 10);
	free(out);
	relay_stop(&p, SIGKILL);

	/* A torn record at the end of the log, as a crash mid-write leaves. */
	snprintf(logpath, sizeof logpath, "%s/hybrid/%u.log", spool, id);
	f = fopen(logpath, "a");
	assert_non_null(f);
	fwrite("\x40\x00\x00\x00SBB1\x01", 1, 9, f);
	fclose(f);

	relay_up(&p, "spool", extra);
	snprintf(path, sizeof path, "/v1/read?streams=%u:0&wait=0", id);
	http(&p, path, TOK_SOUTH, NULL, 0, &a);
	n = parse((uint8_t *)a.body, a.len, seen, 256);
	assert_int_equal(n, 121);
	for (i = 0; i < n; i++) {
		assert_int_equal(seen[i].flags, 0);
		assert_int_equal(seen[i].seq, i + 1);
	}
	assert_memory_equal(a.body, first, firstlen);
	free(a.body);
	stream_id(&p, TOK_PADOVA, "mea", &next);
	assert_int_equal(next, 122);
	publish(&p, id, 122, 122, 5);
	/* The session clock kept its epoch. */
	out = expect(&p, "/v1/time", TOK_PADOVA, NULL, 0, 200);
	t_after = strtoll(out, NULL, 10);
	free(out);
	assert_true(t_after >= t_before);
	/* The command survived. */
	out = expect(&p, "/v1/control?after=0", TOK_SOUTH, NULL, 0, 200);
	assert_string_equal(out, "1 command padova 77 stim 3 a\\\\b\n");
	free(out);
	relay_stop(&p, SIGTERM);

	/* And once more after a clean stop, with the new batch. */
	relay_up(&p, "spool", extra);
	http(&p, path, TOK_SOUTH, NULL, 0, &a);
	assert_int_equal(parse((uint8_t *)a.body, a.len, seen, 256), 122);
	free(a.body);
	relay_stop(&p, SIGTERM);
	free(first);
}

/* A control long-poll for a thread. */
struct poller {
	struct relay_proc *p;
	struct answer a;
	pthread_t thread;
};

/* Long-poll thread. */
static void *
poller_main(void *arg)
{
	struct poller *q = arg;

	http(q->p, "/v1/control?after=0&hold=20", TOK_SOUTH, NULL, 0, &q->a);
	return NULL;
}

/* Commands reach a waiting long-poll; results come back; 204 on hold. */
static void
test_control(void **state)
{
	struct relay_proc p;
	struct poller q = { .p = &p };
	int64_t t0;
	char *out;

	relay_up(&p, "control", NULL);
	t0 = now_ms();
	free(expect(&p, "/v1/control?after=0&hold=1", TOK_SOUTH, NULL, 0,
	    204));
	assert_true(now_ms() - t0 >= 900);
	pthread_create(&q.thread, NULL, poller_main, &q);
	/* Wait until the poll is held (a connection beyond ours). */
	t0 = now_ms();
	for (;;) {
		out = expect(&p, "/metrics", NULL, NULL, 0, 200);
		if (strstr(out, "synbridge_relay_connections 2\n") != NULL) {
			free(out);
			break;
		}
		free(out);
		assert_true(now_ms() - t0 < 5000 * slow());
		nap();
	}
	t0 = now_ms();
	out = expect(&p, "/v1/command?to=southampton&id=9", TOK_PADOVA,
	    "pulse s1 +4.0V 100us\n", 21, 202);
	assert_string_equal(out, "1\n");
	free(out);
	pthread_join(q.thread, NULL);
	assert_true(now_ms() - t0 < 5000);
	assert_int_equal(q.a.code, 200);
	assert_string_equal(q.a.body,
	    "1 command padova 9 pulse s1 +4.0V 100us\n");
	free(q.a.body);

	free(expect(&p, "/v1/result?to=padova&id=9&status=ok", TOK_SOUTH,
	    "done\nline 2", 11, 202));
	free(expect(&p, "/v1/result?to=padova&id=9&status=meh", TOK_SOUTH,
	    "x", 1, 400));
	out = expect(&p, "/v1/control?after=1", TOK_PADOVA, NULL, 0, 200);
	assert_string_equal(out, "2 result southampton 9 ok done\\nline 2\n");
	free(out);
	free(expect(&p, "/v1/control?after=2&hold=0", TOK_PADOVA, NULL, 0,
	    204));
	relay_stop(&p, SIGTERM);
}

/* A held stream list for a thread. */
struct lister {
	struct relay_proc *p;
	char path[128];
	struct answer a;
	int64_t started_ms, answered_ms;	/* answered_ms: atomic */
	pthread_t thread;
};

static void *
lister_main(void *arg)
{
	struct lister *q = arg;

	q->started_ms = now_ms();
	http(q->p, q->path, TOK_PADOVA, NULL, 0, &q->a);
	__atomic_store_n(&q->answered_ms, now_ms(), __ATOMIC_RELEASE);
	return NULL;
}

/* Wait (with a deadline) until the relay holds n stream lists. */
static void
wait_held_lists(struct relay_proc *p, uint64_t n)
{
	int64_t t0 = now_ms();

	while (metric(p, "synbridge_relay_held_lists") != n) {
		assert_true(now_ms() - t0 < 5000 * slow());
		nap();
	}
}

/*
 * GET /v1/streams?known=V&hold=S waits while the list is at version V:
 * a stream listed meanwhile answers it at once (without a spool, and with
 * one, where a stream is listed once its spool line is synced).
 */
static void
held_list(const char *name, const char **extra)
{
	struct relay_proc p;
	struct lister q = { .p = &p };
	struct answer a;
	char v[24];
	int64_t t0;

	relay_up(&p, name, extra);
	stream_id(&p, TOK_SOUTH, "out", NULL);
	http(&p, "/v1/streams", TOK_PADOVA, NULL, 0, &a);
	assert_int_equal(a.code, 200);
	assert_true(strtoull(a.streams_version, NULL, 10) > 0);
	snprintf(v, sizeof v, "%s", a.streams_version);
	free(a.body);

	/* nothing changes: held for the whole second, then the same list */
	snprintf(q.path, sizeof q.path, "/v1/streams?known=%s&hold=1", v);
	t0 = now_ms();
	http(&p, q.path, TOK_PADOVA, NULL, 0, &a);
	assert_true(now_ms() - t0 >= 900);
	assert_int_equal(a.code, 200);
	assert_string_equal(a.streams_version, v);
	assert_non_null(strstr(a.body, " southampton out 8 0\n"));
	free(a.body);

	/* a version that is not the current one answers at once */
	t0 = now_ms();
	http(&p, "/v1/streams?known=1&hold=20", TOK_PADOVA, NULL, 0, &a);
	assert_true(now_ms() - t0 < 10000);
	assert_int_equal(a.code, 200);
	assert_string_equal(a.streams_version, v);
	free(a.body);

	/* held for up to 25 s; a new stream answers it, long before */
	snprintf(q.path, sizeof q.path, "/v1/streams?known=%s&hold=25", v);
	pthread_create(&q.thread, NULL, lister_main, &q);
	wait_held_lists(&p, 1);
	/* still held: the stream list has not changed */
	assert_int_equal(__atomic_load_n(&q.answered_ms, __ATOMIC_ACQUIRE), 0);
	stream_id(&p, TOK_SOUTH, "syn:w1", NULL);
	pthread_join(q.thread, NULL);
	assert_true(q.answered_ms - q.started_ms < 20000);
	wait_held_lists(&p, 0);
	assert_int_equal(q.a.code, 200);
	assert_non_null(strstr(q.a.body, " southampton syn:w1 8 0\n"));
	assert_true(strcmp(q.a.streams_version, v) != 0);
	free(q.a.body);

	/* registering a stream the relay has already listed changes nothing */
	http(&p, "/v1/streams", TOK_PADOVA, NULL, 0, &a);
	snprintf(v, sizeof v, "%s", a.streams_version);
	free(a.body);
	stream_id(&p, TOK_SOUTH, "out", NULL);
	http(&p, "/v1/streams", TOK_PADOVA, NULL, 0, &a);
	assert_string_equal(a.streams_version, v);
	free(a.body);

	free(expect(&p, "/v1/streams?known=x", TOK_PADOVA, NULL, 0, 400));
	snprintf(q.path, sizeof q.path, "/v1/streams?known=%s&hold=26", v);
	free(expect(&p, q.path, TOK_PADOVA, NULL, 0, 400));
	free(expect(&p, "/v1/streams?known=1&hold=-1", TOK_PADOVA, NULL, 0,
	    400));
	relay_stop(&p, SIGTERM);
}

static void
test_streams_held(void **state)
{
	(void)state;
	held_list("heldlist", NULL);
}

static void
test_streams_held_spool(void **state)
{
	struct relay_proc p;
	char spool[300];
	const char *extra[] = { "--spool", spool, NULL };

	(void)state;
	relay_up(&p, "heldspool", NULL);	/* makes the directory */
	snprintf(spool, sizeof spool, "%s/spool", p.dir);
	relay_stop(&p, SIGTERM);
	held_list("heldspool", extra);
}

/* /v1/time is session time; /metrics is Prometheus text. */
static void
test_time_and_metrics(void **state)
{
	struct relay_proc p;
	char *out, *line, *save = NULL, name[128], labels[256];
	int64_t t1, t2, elapsed;
	double v;
	int lines = 0;

	relay_up(&p, "metrics", NULL);
	out = expect(&p, "/v1/time", NULL, NULL, 0, 200);
	elapsed = now_ms() - p.started;
	assert_int_equal(sscanf(out, "%" SCNd64 " %" SCNd64, &t1, &t2), 2);
	free(out);
	assert_true(t1 >= 0 && t2 >= t1);
	assert_true(t2 - t1 < 1000000);
	assert_true(t1 <= (elapsed + 1000) * 1000);

	stream_id(&p, TOK_PADOVA, "mea", NULL);
	publish(&p, 1, 1, 2, 10);
	free(expect(&p, "/v1/streams", NULL, NULL, 0, 401));
	out = expect(&p, "/metrics", NULL, NULL, 0, 200);
	for (line = strtok_r(out, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#') {
			assert_true(strncmp(line, "# HELP synbridge_relay_", 23)
			    == 0 || strncmp(line, "# TYPE synbridge_relay_",
			    23) == 0);
			continue;
		}
		lines++;
		if (sscanf(line, "%127[a-z_]{%255[^}]} %lf", name, labels,
		    &v) != 3 && sscanf(line, "%127[a-z_] %lf", name, &v) != 2)
			fail_msg("not Prometheus text: '%s'", line);
		assert_true(strncmp(name, "synbridge_relay_", 16) == 0);
	}
	free(out);
	assert_true(lines >= 10);
	out = expect(&p, "/metrics", NULL, NULL, 0, 200);
	assert_non_null(strstr(out, "synbridge_relay_batches_total{session="
	    "\"hybrid\",site=\"padova\",stream=\"mea\"} 2\n"));
	assert_non_null(strstr(out, "synbridge_relay_events_total{session="
	    "\"hybrid\",site=\"padova\",stream=\"mea\"} 20\n"));
	assert_non_null(strstr(out, "synbridge_relay_requests_total{code="
	    "\"401\"} 1\n"));
	free(out);
	out = expect(&p, "/v1/health", TOK_PADOVA, NULL, 0, 200);
	assert_non_null(strstr(out, "southampton - 0 0 0 - 0\n"));
	assert_non_null(strstr(out, "padova 0."));
	free(out);
	relay_stop(&p, SIGTERM);
}

/* Bad tokens files and options stop the relay with exit 2 and FILE:LINE. */
static void
test_bad_start(void **state)
{
	static const struct {
		const char *tokens;
		const char *want;
	} bad[] = {
		{ "# c\ntok-aaaaaaaa padova hybrid * */*\n", ":2: 5 fields" },
		{ "tok-aaaaaaaa padova hybrid * */* - extra\n",
		    ":1: too many" },
		{ "short padova hybrid * */* -\n", ":1: token of 5" },
		{ "tok-aaaaaaaa pa/dova hybrid * */* -\n", ":1: bad site" },
		{ "tok-aaaaaaaa padova hybrid * padova -\n",
		    ":1: READ pattern 'padova' needs" },
		{ "tok-aaaaaaaa padova hybrid m*a */* -\n",
		    ":1: bad PUBLISH pattern" },
		{ "\ntok-aaaaaaaa a s * - -\ntok-aaaaaaaa b s * - -\n",
		    ":3: token repeated" },
		{ "# nothing\n", "no tokens" },
	};
	const char *opts[][4] = {
		{ "--max-memory", "lots", NULL },
		{ "--bogus", NULL },
		{ "--spool", NULL },
	};
	struct relay_proc p;
	char err[2048], path[400];
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(path, sizeof path, "%s/bad", testdir);
		mkdir(path, 0700);
		snprintf(path, sizeof path, "%s/bad/tokens", testdir);
		write_file(path, bad[i].tokens);
		assert_int_equal(relay_start(&p, "bad", NULL, err, sizeof err),
		    2);
		if (strstr(err, path) == NULL || strstr(err, bad[i].want) ==
		    NULL)
			fail_msg("tokens case %zu: '%s'", i, err);
	}
	snprintf(path, sizeof path, "%s/bad/tokens", testdir);
	write_file(path, tokens_text);
	for (i = 0; i < sizeof opts / sizeof opts[0]; i++) {
		assert_int_equal(relay_start(&p, "bad", opts[i], err,
		    sizeof err), 2);
		assert_non_null(strstr(err, "synbridge-relay: "));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_auth),
		cmocka_unit_test(test_round_trip_and_dedupe),
		cmocka_unit_test(test_hole_and_malformed),
		cmocka_unit_test(test_fuzz_requests),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_undecodable),
		cmocka_unit_test(test_streaming),
		cmocka_unit_test(test_closed_reader_seen),
		cmocka_unit_test(test_publish_parts),
		cmocka_unit_test(test_overlapping_bodies),
		cmocka_unit_test(test_overlapping_bodies_threads),
		cmocka_unit_test(test_publish_parts_spool),
		cmocka_unit_test(test_spool_sync_aside),
		cmocka_unit_test(test_spool_group_commit),
		cmocka_unit_test(test_spool_parallel_logs),
		cmocka_unit_test(test_clock_slow_disk),
		cmocka_unit_test(test_clock_idle_syncs),
		cmocka_unit_test(test_memory_gap),
		cmocka_unit_test(test_spool_kill9),
		cmocka_unit_test(test_control),
		cmocka_unit_test(test_streams_held),
		cmocka_unit_test(test_streams_held_spool),
		cmocka_unit_test(test_time_and_metrics),
		cmocka_unit_test(test_bad_start),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
