/*
 * relay-spool.c: the on-disk spool (--spool DIR).
 *
 * DIR/SESSION/epoch     the session's epoch: CLOCK_REALTIME microseconds
 * DIR/SESSION/streams   lines "ID SITE NAME UNITS", ids 1, 2, ...
 * DIR/SESSION/ID.log    records: u32 little-endian length, then one batch
 *                       as received; written and fdatasync'ed before the
 *                       publish is answered
 * DIR/SESSION/control   lines "N command|result TO FROM ID STATUS TEXT"
 *                       (TEXT escaped, STATUS "-" for commands)
 *
 * A torn last record or line (a crash during a write) is cut off at start.
 *
 * Stream logs are opened on demand and at most RELAY_SPOOL_FILES stay
 * open (the least recently used is closed first), so a session of many
 * streams does not take the descriptors connections need. A log that a
 * publish is writing and syncing is held open until the sync is done.
 * Where records start is kept for one seq in RELAY_SPOOL_STRIDE (8 bytes
 * per 256 batches); the records between are found by their lengths.
 */
#include "config.h"

#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "relay.h"
#include "xmalloc.h"

#define RELAY_SPOOL_IOV 512

/* Make a directory if it does not exist; 0 or -1 with *cause. */
static int
relay_spool_mkdir(const char *path, char **cause)
{
	if (mkdir(path, 0700) != 0 && errno != EEXIST) {
		xasprintf(cause, "cannot create spool directory %s: %s", path,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* fsync a directory so new entries in it survive a crash. */
static void
relay_spool_sync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY);

	if (fd != -1) {
		fsync(fd);
		close(fd);
	}
}

/* Write all of buf at the end of fd; 0 or -1 with errno. */
static int
relay_spool_write(int fd, const char *buf, size_t len)
{
	ssize_t w;

	while (len > 0) {
		if ((w = write(fd, buf, len)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Write all of buf at the end of fd and sync it; 0 or -1 with errno. */
static int
relay_spool_write_all(int fd, const char *buf, size_t len)
{
	if (relay_spool_write(fd, buf, len) != 0)
		return -1;
	return fdatasync(fd);
}

/* Read or create the session's epoch file. */
static int
relay_spool_epoch(struct relay_session *s, char **cause)
{
	char *path, *tmp, buf[64];
	FILE *f;
	int fd, n;

	xasprintf(&path, "%s/epoch", s->dir);
	if ((f = fopen(path, "r")) != NULL) {
		if (fscanf(f, "%" SCNd64, &s->epoch_us) != 1) {
			xasprintf(cause, "%s: not a number of microseconds: "
			    "remove the spool or fix the file", path);
			fclose(f);
			free(path);
			return -1;
		}
		fclose(f);
		free(path);
		return 0;
	}
	xasprintf(&tmp, "%s.tmp", path);
	n = snprintf(buf, sizeof buf, "%" PRId64 "\n", s->epoch_us);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd == -1 || relay_spool_write_all(fd, buf, (size_t)n) != 0 ||
	    rename(tmp, path) != 0) {
		xasprintf(cause, "cannot write %s: %s", path, strerror(errno));
		if (fd != -1)
			close(fd);
		free(tmp);
		free(path);
		return -1;
	}
	close(fd);
	relay_spool_sync_dir(s->dir);
	free(tmp);
	free(path);
	return 0;
}

/* Read the control file back into the session's messages. */
static int
relay_spool_control_load(struct relay_session *s, char **cause)
{
	char *path, *line = NULL, kind[16], to[RELAY_NAME_MAX + 1];
	char from[RELAY_NAME_MAX + 1], status[16];
	size_t cap = 0;
	ssize_t len;
	off_t good = 0;
	int textoff;
	struct relay_msg *m;
	uint64_t n, id;
	FILE *f;

	xasprintf(&path, "%s/control", s->dir);
	s->control_fd = open(path, O_RDWR | O_CREAT | O_APPEND, 0600);
	if (s->control_fd == -1 || (f = fdopen(dup(s->control_fd), "r")) ==
	    NULL) {
		xasprintf(cause, "cannot open %s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	while ((len = getline(&line, &cap, f)) > 0) {
		if (line[len - 1] != '\n')
			break;
		line[len - 1] = '\0';
		textoff = -1;
		if (sscanf(line, "%" SCNu64 " %15s %64s %64s %" SCNu64
		    " %15s %n", &n, kind, to, from, &id, status,
		    &textoff) != 6 || textoff < 0) {
			xasprintf(cause, "%s: bad line '%s': the spool is "
			    "damaged", path, line);
			fclose(f);
			free(line);
			free(path);
			return -1;
		}
		m = xcalloc(1, sizeof *m);
		m->n = n;
		m->is_result = strcmp(kind, "result") == 0;
		m->to = xstrdup(to);
		m->from = xstrdup(from);
		m->id = id;
		m->status = xstrdup(status);
		m->text = xstrdup(line + textoff);
		relay_control_add(s, m);
		good += len;
	}
	if (ftruncate(s->control_fd, good) != 0) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		fclose(f);
		free(line);
		free(path);
		return -1;
	}
	fclose(f);
	free(line);
	free(path);
	return 0;
}

/* Close one open stream log that nobody holds; 0, or -1 if all are held. */
static int
relay_spool_close_one(void)
{
	struct relay_stream *st;

	TAILQ_FOREACH(st, &relay.spool_open, lru) {
		if (st->fd_busy == 0)
			break;
	}
	if (st == NULL)
		return -1;
	TAILQ_REMOVE(&relay.spool_open, st, lru);
	relay.spool_nopen--;
	close(st->fd);
	st->fd = -1;
	return 0;
}

/*
 * Have a stream's log open (the most recently used), closing the least
 * recently used one past RELAY_SPOOL_FILES; 0 or -1 with *cause.
 */
static int
relay_spool_open(struct relay_session *s, struct relay_stream *st,
    char **cause)
{
	char *path;
	int again = 1;

	if (st->fd != -1) {
		TAILQ_REMOVE(&relay.spool_open, st, lru);
		TAILQ_INSERT_TAIL(&relay.spool_open, st, lru);
		return 0;
	}
	while (relay.spool_nopen >= RELAY_SPOOL_FILES &&
	    relay_spool_close_one() == 0)
		;
	xasprintf(&path, "%s/%" PRIu32 ".log", s->dir, st->id);
	while ((st->fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC,
	    0600)) == -1) {
		if ((errno == EMFILE || errno == ENFILE) && again-- > 0 &&
		    relay_spool_close_one() == 0)
			continue;
		if (errno == EMFILE || errno == ENFILE)
			xasprintf(cause, "cannot open %s: %s (raise the "
			    "relay's descriptor limit, ulimit -n)", path,
			    strerror(errno));
		else
			xasprintf(cause, "cannot open %s: %s", path,
			    strerror(errno));
		free(path);
		return -1;
	}
	free(path);
	TAILQ_INSERT_TAIL(&relay.spool_open, st, lru);
	relay.spool_nopen++;
	return 0;
}

/* Hold a stream's log open (until relay_spool_release); 0 or -1. */
int
relay_spool_hold(struct relay_session *s, struct relay_stream *st,
    char **cause)
{
	if (relay_spool_open(s, st, cause) != 0)
		return -1;
	st->fd_busy++;
	relay.spool_held++;
	return 0;
}

/* Let a held log be closed again. */
void
relay_spool_release(struct relay_stream *st)
{
	if (st->fd_busy > 0) {
		st->fd_busy--;
		relay.spool_held--;
	}
}

/* Let go of a stream that is not kept: its holds and its open log. */
void
relay_spool_forget(struct relay_stream *st)
{
	while (st->fd_busy > 0)
		relay_spool_release(st);
	if (st->fd != -1) {
		TAILQ_REMOVE(&relay.spool_open, st, lru);
		relay.spool_nopen--;
		close(st->fd);
		st->fd = -1;
	}
}

/* Close every open stream log (at exit). */
void
relay_spool_close_all(void)
{
	struct relay_stream *st;

	while ((st = TAILQ_FIRST(&relay.spool_open)) != NULL) {
		TAILQ_REMOVE(&relay.spool_open, st, lru);
		close(st->fd);
		st->fd = -1;
	}
	relay.spool_nopen = 0;
}

/* Remember where seq's record starts, if it starts an index stride. */
static void
relay_spool_note(struct relay_stream *st, uint64_t seq, uint64_t off)
{
	size_t k;

	if ((seq - 1) % RELAY_SPOOL_STRIDE != 0)
		return;
	k = (size_t)((seq - 1) / RELAY_SPOOL_STRIDE);
	if (k >= st->idx_cap) {
		st->idx_cap = st->idx_cap ? st->idx_cap * 2 : 16;
		while (st->idx_cap <= k)
			st->idx_cap *= 2;
		st->idx = xreallocarray(st->idx, st->idx_cap,
		    sizeof *st->idx);
	}
	st->idx[k] = off;
	st->idx_len = k + 1;
}

/* Walk a stream log, index it and cut a torn tail; 0 or -1. */
static int
relay_spool_scan(struct relay_stream *st, const char *path, char **cause)
{
	struct stat sb;
	uint8_t *map = NULL;
	uint64_t off = 0, size;
	uint32_t len;
	struct wire_header h;
	size_t consumed;

	if (fstat(st->fd, &sb) != 0) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		return -1;
	}
	size = (uint64_t)sb.st_size;
	if (size > 0) {
		map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, st->fd, 0);
		if (map == MAP_FAILED) {
			xasprintf(cause, "%s: %s", path, strerror(errno));
			return -1;
		}
	}
	while (size - off >= 4) {
		len = (uint32_t)map[off] | (uint32_t)map[off + 1] << 8 |
		    (uint32_t)map[off + 2] << 16 | (uint32_t)map[off + 3] << 24;
		if (len > size - off - 4 || wire_verify(map + off + 4, len, &h,
		    &consumed, NULL) != 0 || consumed != len ||
		    h.stream_id != st->id || h.seq != st->highest + 1 ||
		    h.flags != 0)
			break;
		relay_spool_note(st, h.seq, off);
		st->highest = h.seq;
		st->batches++;
		st->events += h.event_count;
		st->bytes += len;
		off += 4 + (uint64_t)len;
	}
	if (map != NULL)
		munmap(map, size);
	if (off != size) {
		relay_log("%s: cut a torn or damaged record at byte %" PRIu64
		    " (%" PRIu64 " bytes dropped)", path, off, size - off);
		if (ftruncate(st->fd, (off_t)off) != 0 || fsync(st->fd) != 0) {
			xasprintf(cause, "%s: %s", path, strerror(errno));
			return -1;
		}
	}
	st->spool_size = off;
	st->mem_first = st->highest + 1;
	return 0;
}

/* Load what a stream's log holds (at start). */
static int
relay_spool_load(struct relay_session *s, struct relay_stream *st,
    char **cause)
{
	char *path;
	int rc;

	if (relay_spool_open(s, st, cause) != 0)
		return -1;
	xasprintf(&path, "%s/%" PRIu32 ".log", s->dir, st->id);
	rc = relay_spool_scan(st, path, cause);
	free(path);
	return rc;
}

/*
 * Create a new stream's log, held open; 0 or -1 with *cause. Not synced:
 * see relay_spool_streams_sync.
 */
int
relay_spool_stream_create(struct relay_session *s, struct relay_stream *st,
    char **cause)
{
	if (relay_spool_hold(s, st, cause) != 0)
		return -1;
	/* A log left by a registration that failed after it is emptied. */
	if (ftruncate(st->fd, 0) != 0) {
		xasprintf(cause, "cannot empty the log of stream %" PRIu32
		    ": %s", st->id, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Append a stream's line to the session's streams file (not synced: see
 * relay_spool_streams_sync).
 */
int
relay_spool_add_stream(struct relay_session *s,
    const struct relay_stream *st, char **cause)
{
	char buf[3 * RELAY_NAME_MAX];
	int n;

	n = snprintf(buf, sizeof buf, "%" PRIu32 " %s %s %" PRIu32 "\n",
	    st->id, st->site, st->name, st->units);
	if (relay_spool_write(s->streams_fd, buf, (size_t)n) != 0) {
		xasprintf(cause, "cannot write %s/streams: %s", s->dir,
		    strerror(errno));
		/* No torn line for the next one to follow. */
		if (ftruncate(s->streams_fd, (off_t)s->streams_size) != 0)
			relay_log("%s/streams: %s", s->dir, strerror(errno));
		return -1;
	}
	s->streams_size += (uint64_t)n;
	return 0;
}

/* Append n batches to a stream's log (not yet synced); 0 or -1. */
int
relay_spool_append(struct relay_session *s, struct relay_stream *st,
    const uint8_t *const *data, const uint32_t *size, const uint64_t *seq,
    size_t n, char **cause)
{
	struct iovec iov[RELAY_SPOOL_IOV];
	uint8_t (*len)[4];
	uint64_t start = st->spool_size, off = start, want;
	size_t i, j, k, niov;
	ssize_t w;

	if (relay_spool_open(s, st, cause) != 0)
		return -1;
	len = xreallocarray(NULL, n, 4);
	for (i = 0; i < n; i++) {
		len[i][0] = (uint8_t)size[i];
		len[i][1] = (uint8_t)(size[i] >> 8);
		len[i][2] = (uint8_t)(size[i] >> 16);
		len[i][3] = (uint8_t)(size[i] >> 24);
	}
	for (i = 0; i < n; i = j) {
		niov = 0;
		want = 0;
		for (j = i; j < n && niov + 2 <= RELAY_SPOOL_IOV; j++) {
			iov[niov].iov_base = len[j];
			iov[niov++].iov_len = 4;
			iov[niov].iov_base = (void *)data[j];
			iov[niov++].iov_len = size[j];
			want += 4 + (uint64_t)size[j];
		}
		k = 0;
		while (want > 0) {
			w = writev(st->fd, iov + k, (int)(niov - k));
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				goto fail;
			want -= (uint64_t)w;
			while (k < niov && (size_t)w >= iov[k].iov_len)
				w -= (ssize_t)iov[k++].iov_len;
			if (k < niov) {
				iov[k].iov_base = (uint8_t *)iov[k].iov_base +
				    w;
				iov[k].iov_len -= (size_t)w;
			}
		}
	}
	for (i = 0; i < n; i++) {
		relay_spool_note(st, seq[i], off);
		off += 4 + (uint64_t)size[i];
	}
	st->spool_size = off;
	free(len);
	return 0;
fail:
	xasprintf(cause, "cannot append to the log of stream %" PRIu32 ": %s",
	    st->id, strerror(errno));
	if (ftruncate(st->fd, (off_t)start) != 0)
		relay_log("stream %u: %s", st->id, strerror(errno));
	free(len);
	return -1;
}

/*
 * fdatasync a spool file that an answer waits on (-1: none), counted for
 * /metrics as it begins; 0, or -1 with errno.
 */
int
relay_spool_datasync(int fd)
{
	if (fd == -1)
		return 0;
	__atomic_add_fetch(&relay.m.spool_syncs, 1, __ATOMIC_RELAXED);
	return fdatasync(fd);
}

/* Make a held stream's appended batches durable; 0 or -1. */
int
relay_spool_sync(struct relay_stream *st, char **cause)
{
	if (relay_spool_datasync(st->fd) == 0)
		return 0;
	xasprintf(cause, "cannot sync the log of stream %" PRIu32 ": %s",
	    st->id, strerror(errno));
	return -1;
}

/* Make a stream's appended batches durable now (lock held); 0 or -1. */
int
relay_spool_sync_now(struct relay_session *s, struct relay_stream *st,
    char **cause)
{
	if (relay_spool_open(s, st, cause) != 0)
		return -1;
	return relay_spool_sync(st, cause);
}

/* pread from a stream's log (opened if needed); bytes read or -1. */
ssize_t
relay_spool_pread(struct relay_session *s, struct relay_stream *st,
    void *buf, size_t len, uint64_t off)
{
	char *why = NULL;
	ssize_t r;

	if (relay_spool_open(s, st, &why) != 0) {
		relay_log("%s", why);
		free(why);
		return -1;
	}
	while ((r = pread(st->fd, buf, len, (off_t)off)) < 0 && errno == EINTR)
		;
	return r;
}

/*
 * Find the record of seq in a stream's log: *off where its bytes start
 * (after the length) and *size. Starts from the cursor's hint when it is
 * close, else from the index, and leaves the hint at the next record.
 * 0, or -1 if the log cannot be read.
 */
int
relay_spool_find(struct relay_session *s, struct relay_cursor *c,
    uint64_t seq, uint64_t *off, uint32_t *size)
{
	struct relay_stream *st = c->stream;
	uint64_t at, pos;
	uint8_t hdr[4];
	uint32_t len;
	size_t k;

	if (seq == 0 || seq > st->highest)
		return -1;
	k = (size_t)((seq - 1) / RELAY_SPOOL_STRIDE);
	if (k >= st->idx_len)
		return -1;
	at = k * RELAY_SPOOL_STRIDE + 1;
	pos = st->idx[k];
	if (c->hint_seq != 0 && c->hint_seq <= seq && c->hint_seq > at) {
		at = c->hint_seq;
		pos = c->hint_off;
	}
	for (;;) {
		if (relay_spool_pread(s, st, hdr, 4, pos) != 4)
			return -1;
		len = (uint32_t)hdr[0] | (uint32_t)hdr[1] << 8 |
		    (uint32_t)hdr[2] << 16 | (uint32_t)hdr[3] << 24;
		if (len < WIRE_HEADER_SIZE || len > WIRE_HEADER_MAX +
		    WIRE_PAYLOAD_MAX || pos + 4 + len > st->spool_size)
			return -1;
		if (at == seq)
			break;
		pos += 4 + (uint64_t)len;
		at++;
	}
	*off = pos + 4;
	*size = len;
	c->hint_seq = seq + 1;
	c->hint_off = pos + 4 + len;
	return 0;
}

/* Read the streams file and load every stream's log. */
static int
relay_spool_streams(struct relay_session *s, char **cause)
{
	char *path, *line = NULL, site[RELAY_NAME_MAX + 1];
	char name[RELAY_NAME_MAX + 1];
	size_t cap = 0;
	off_t good = 0;
	ssize_t len;
	unsigned id, units;
	struct relay_stream *st;
	FILE *f;

	xasprintf(&path, "%s/streams", s->dir);
	s->streams_fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC,
	    0600);
	if (s->streams_fd == -1 || (f = fdopen(dup(s->streams_fd), "r")) ==
	    NULL) {
		xasprintf(cause, "cannot open %s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	while ((len = getline(&line, &cap, f)) > 0) {
		if (line[len - 1] != '\n')
			break;	/* torn */
		if (sscanf(line, "%u %64s %64s %u", &id, site, name,
		    &units) != 4 || id != s->nstreams + 1 ||
		    !relay_name_valid(site, strlen(site), 0) ||
		    !relay_name_valid(name, strlen(name), 1)) {
			xasprintf(cause, "%s: bad line %u '%.*s': the spool is "
			    "damaged", path, s->nstreams + 1, (int)len - 1,
			    line);
			goto fail;
		}
		st = xcalloc(1, sizeof *st);
		st->id = id;
		st->site = xstrdup(site);
		st->name = xstrdup(name);
		st->units = units;
		st->mem_first = 1;
		st->fd = -1;
		s->streams = xreallocarray(s->streams, s->nstreams + 1,
		    sizeof *s->streams);
		s->streams[s->nstreams++] = st;
		relay.nstreams++;
		if (relay_spool_load(s, st, cause) != 0)
			goto fail;
		good += len;
	}
	if (ftruncate(s->streams_fd, good) != 0) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		goto fail;
	}
	s->streams_size = (uint64_t)good;
	fclose(f);
	free(line);
	free(path);
	return 0;
fail:
	fclose(f);
	free(line);
	free(path);
	return -1;
}

/* Open (making it if needed) a session's spool and load it. */
int
relay_spool_session(struct relay_session *s, char **cause)
{
	if (relay_spool_mkdir(relay.opt.spool, cause) != 0)
		return -1;
	xasprintf(&s->dir, "%s/%s", relay.opt.spool, s->name);
	if (relay_spool_mkdir(s->dir, cause) != 0)
		return -1;
	if (relay_spool_epoch(s, cause) != 0 ||
	    relay_clock_load(s, cause) != 0 ||
	    relay_spool_streams(s, cause) != 0 ||
	    relay_spool_control_load(s, cause) != 0)
		return -1;
	relay_spool_sync_dir(relay.opt.spool);
	return 0;
}

/*
 * Append a control message to the session's control file, not yet
 * synced (relay_spool_control_sync makes it durable); 0, or -1 with
 * *cause.
 */
int
relay_spool_control(struct relay_session *s, const struct relay_msg *m,
    char **cause)
{
	char *line;
	int n;

	if (s->control_fd == -1)
		return 0;
	n = xasprintf(&line, "%" PRIu64 " %s %s %s %" PRIu64 " %s %s\n", m->n,
	    m->is_result ? "result" : "command", m->to, m->from, m->id,
	    m->status, m->text);
	if (relay_spool_write(s->control_fd, line, (size_t)n) != 0) {
		xasprintf(cause, "cannot write %s/control: %s", s->dir,
		    strerror(errno));
		free(line);
		return -1;
	}
	free(line);
	return 0;
}

/*
 * Make the streams registered so far durable: the session directory (the
 * entries of their new logs) and its streams file. 0, or -1 with *cause.
 */
int
relay_spool_streams_sync(struct relay_session *s, char **cause)
{
	if (s->streams_fd == -1)
		return 0;
	__atomic_add_fetch(&relay.m.spool_syncs, 1, __ATOMIC_RELAXED);
	relay_spool_sync_dir(s->dir);
	if (relay_spool_datasync(s->streams_fd) == 0)
		return 0;
	xasprintf(cause, "cannot sync %s/streams: %s", s->dir,
	    strerror(errno));
	return -1;
}

/* Sync the session's control file; 0, or -1 with *cause. */
int
relay_spool_control_sync(struct relay_session *s, char **cause)
{
	if (relay_spool_datasync(s->control_fd) == 0)
		return 0;
	xasprintf(cause, "cannot sync %s/control: %s", s->dir,
	    strerror(errno));
	return -1;
}

/*
 * Take the spool for this relay alone (DIR/lock, held until exit): a
 * second relay on the same spool would interleave its records with ours.
 * 0, or -1 with *cause.
 */
int
relay_spool_lock(char **cause)
{
	char *path;
	int fd;

	if (relay_spool_mkdir(relay.opt.spool, cause) != 0)
		return -1;
	xasprintf(&path, "%s/lock", relay.opt.spool);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd == -1) {
		xasprintf(cause, "cannot open %s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		xasprintf(cause, "the spool %s is in use by another "
		    "synbridge-relay: stop that one, or give this one another "
		    "--spool", relay.opt.spool);
		close(fd);
		free(path);
		return -1;
	}
	free(path);
	return 0;	/* fd stays open (and locked) until the relay exits */
}
