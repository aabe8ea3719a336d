/*
 * csvlog.c: the CSV kinds and the CSV writer.
 *
 * Files follow RFC 4180 except for the line end, which is LF (pandas, R,
 * MATLAB and the reader here take LF or CRLF). Strings are quoted only when
 * they need it (comma, quote, CR, LF, leading or trailing blank), with
 * libcsv's csv_write doing the escaping. Numbers are formatted here, by
 * hand and independently of the locale: times as seconds with exactly six
 * decimals, doubles with a fixed number of decimals per column, NaN (and 0
 * for optional counts, -1 for weights, CSV_NO_COUNT for counts that do not
 * apply) as an empty field.
 *
 * Rows collect in a memory buffer; csv_file_flush hands whole rows to
 * write(), so a process killed between flushes leaves only whole rows.
 */
#include "config.h"

#include <sys/stat.h>

#include <csv.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "csvkind.h"
#include "csvlog.h"
#include "xmalloc.h"

#define ROW_OFF(kind, field) offsetof(struct csv_row, u.kind.field)

static const struct csv_col csv_spike_cols[] = {
	{ "t_s", CSV_COL_TIME, ROW_OFF(spike, t_us), 6 },
	{ "site", CSV_COL_NAME, ROW_OFF(spike, site), 0 },
	{ "population", CSV_COL_NAME, ROW_OFF(spike, population), 0 },
	{ "unit", CSV_COL_U32, ROW_OFF(spike, unit), 0 },
};

static const struct csv_col csv_synapse_cols[] = {
	{ "t_s", CSV_COL_TIME, ROW_OFF(synapse, t_us), 6 },
	{ "synapse", CSV_COL_NAME, ROW_OFF(synapse, synapse), 0 },
	{ "pre", CSV_COL_STR, ROW_OFF(synapse, pre), 0 },
	{ "post", CSV_COL_STR, ROW_OFF(synapse, post), 0 },
	{ "event", CSV_COL_NAME, ROW_OFF(synapse, event), 0 },
	{ "amplitude_v", CSV_COL_DBL, ROW_OFF(synapse, amplitude_v), 4 },
	{ "width_us", CSV_COL_U32_OPT, ROW_OFF(synapse, width_us), 0 },
	{ "count", CSV_COL_U32_OPT, ROW_OFF(synapse, count), 0 },
	{ "g_before_us", CSV_COL_DBL, ROW_OFF(synapse, g_before_us), 4 },
	{ "g_after_us", CSV_COL_DBL, ROW_OFF(synapse, g_after_us), 4 },
	{ "weight_before", CSV_COL_WEIGHT, ROW_OFF(synapse, weight_before), 0 },
	{ "weight_after", CSV_COL_WEIGHT, ROW_OFF(synapse, weight_after), 0 },
};

static const struct csv_col csv_link_cols[] = {
	{ "t_s", CSV_COL_TIME, ROW_OFF(link, t_us), 6 },
	{ "link", CSV_COL_NAME, ROW_OFF(link, link), 0 },
	{ "state", CSV_COL_STATE, ROW_OFF(link, state), 0 },
	{ "rtt_ms", CSV_COL_DBL_NONNEG, ROW_OFF(link, rtt_ms), 3 },
	{ "jitter_ms", CSV_COL_DBL_NONNEG, ROW_OFF(link, jitter_ms), 3 },
	{ "offset_ms", CSV_COL_DBL, ROW_OFF(link, offset_ms), 3 },
	{ "uncertainty_ms", CSV_COL_DBL_NONNEG,
	    ROW_OFF(link, uncertainty_ms), 3 },
	{ "loss_pct", CSV_COL_PCT, ROW_OFF(link, loss_pct), 3 },
	{ "retransmits", CSV_COL_COUNT, ROW_OFF(link, retransmits), 0 },
	{ "queue", CSV_COL_COUNT, ROW_OFF(link, queue), 0 },
	{ "events_per_s", CSV_COL_DBL_NONNEG, ROW_OFF(link, events_per_s), 2 },
	{ "in_per_s", CSV_COL_DBL_NONNEG, ROW_OFF(link, in_per_s), 2 },
	{ "out_per_s", CSV_COL_DBL_NONNEG, ROW_OFF(link, out_per_s), 2 },
	{ "malformed", CSV_COL_COUNT, ROW_OFF(link, malformed), 0 },
	{ "out_of_range", CSV_COL_COUNT, ROW_OFF(link, out_of_range), 0 },
	{ "age_s", CSV_COL_DBL_NONNEG, ROW_OFF(link, age_s), 3 },
};

static const struct csv_col csv_command_cols[] = {
	{ "t_s", CSV_COL_TIME, ROW_OFF(command, t_us), 6 },
	{ "site", CSV_COL_STR, ROW_OFF(command, site), 0 },
	{ "user", CSV_COL_STR, ROW_OFF(command, user), 0 },
	{ "command", CSV_COL_STR, ROW_OFF(command, command), 0 },
	{ "status", CSV_COL_STR, ROW_OFF(command, status), 0 },
	{ "message", CSV_COL_STR, ROW_OFF(command, message), 0 },
};

static const struct csv_col csv_latency_cols[] = {
	{ "t_s", CSV_COL_TIME, ROW_OFF(latency, t_us), 6 },
	{ "kind", CSV_COL_NAME, ROW_OFF(latency, kind), 0 },
	{ "path", CSV_COL_NAME, ROW_OFF(latency, path), 0 },
	{ "n", CSV_COL_U64, ROW_OFF(latency, n), 0 },
	{ "p50_ms", CSV_COL_DBL_NONNEG, ROW_OFF(latency, p50_ms), 3 },
	{ "p99_ms", CSV_COL_DBL_NONNEG, ROW_OFF(latency, p99_ms), 3 },
	{ "max_ms", CSV_COL_DBL_NONNEG, ROW_OFF(latency, max_ms), 3 },
};

#define NCOLS(a) (sizeof(a) / sizeof((a)[0]))

const struct csv_kind_info csv_kind_info[CSV_KINDS] = {
	[CSV_SPIKES] = { csv_spike_cols, NCOLS(csv_spike_cols) },
	[CSV_SYNAPSES] = { csv_synapse_cols, NCOLS(csv_synapse_cols) },
	[CSV_LINKS] = { csv_link_cols, NCOLS(csv_link_cols) },
	[CSV_COMMANDS] = { csv_command_cols, NCOLS(csv_command_cols) },
	[CSV_LATENCY] = { csv_latency_cols, NCOLS(csv_latency_cols) },
};

const char *const csv_kind_names[CSV_KINDS] = {
	[CSV_SPIKES] = "spikes",
	[CSV_SYNAPSES] = "synapses",
	[CSV_LINKS] = "links",
	[CSV_COMMANDS] = "commands",
	[CSV_LATENCY] = "latency",
};

const char *const csv_kind_headers[CSV_KINDS] = {
	[CSV_SPIKES] = "t_s,site,population,unit",
	[CSV_SYNAPSES] = "t_s,synapse,pre,post,event,amplitude_v,width_us,"
	    "count,g_before_us,g_after_us,weight_before,weight_after",
	[CSV_LINKS] = "t_s,link,state,rtt_ms,jitter_ms,offset_ms,"
	    "uncertainty_ms,loss_pct,retransmits,queue,events_per_s,"
	    "in_per_s,out_per_s,malformed,out_of_range,age_s",
	[CSV_COMMANDS] = "t_s,site,user,command,status,message",
	[CSV_LATENCY] = "t_s,kind,path,n,p50_ms,p99_ms,max_ms",
};

struct csv_file {
	char *path;
	int fd;
	enum csv_kind kind;
	char *buf;		/* rows being added */
	size_t len, size;
	uint64_t rows;
	uint64_t dropped;	/* rows refused while the file could not be written */
	/*
	 * Rows handed over (csv_file_handoff) and not yet written: a writer
	 * thread writes them while rows are added to buf. Older than buf's.
	 */
	char *out;
	size_t out_len, out_size;
	uint64_t out_dropped;
	uint64_t lost;		/* rows refused, all told (reported ones) */
};

/* Bytes that force a string field into quotes. */
static const unsigned char csv_special[256] = {
	['\n'] = 1, ['\r'] = 1, [','] = 1, ['"'] = 1,
};

static const uint64_t csv_pow10[] = {
	1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000
};

static pthread_once_t csv_locale_once = PTHREAD_ONCE_INIT;
static locale_t csv_locale;

/* Create the C locale object. */
static void
csv_locale_init(void)
{
	csv_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
	if (csv_locale == (locale_t)0)
		fatal("cannot create the C locale");
}

/* The C locale, for number conversions whatever setlocale() said. */
locale_t
csv_c_locale(void)
{
	pthread_once(&csv_locale_once, csv_locale_init);
	return csv_locale;
}

/* Look a kind up by name; -1 if unknown. */
int
csv_kind_from_name(const char *name)
{
	int i;

	for (i = 0; i < CSV_KINDS; i++) {
		if (strcmp(csv_kind_names[i], name) == 0)
			return i;
	}
	return -1;
}

/* Make room for n more bytes in the row buffer. */
static char *
csv_file_reserve(struct csv_file *f, size_t n)
{
	if (f->size - f->len < n) {
		while (f->size - f->len < n)
			f->size = f->size ? f->size * 2 : 65536;
		f->buf = xrealloc(f->buf, f->size);
	}
	return f->buf + f->len;
}

/* Write v in decimal at p; returns the end. */
static char *
csv_put_u64(char *p, uint64_t v)
{
	char tmp[20];
	size_t n = 0;

	do {
		tmp[n++] = '0' + v % 10;
		v /= 10;
	} while (v != 0);
	while (n > 0)
		*p++ = tmp[--n];
	return p;
}

/* Write v as a decimal number with exactly decimals digits after the point. */
static char *
csv_put_fixed(char *p, uint64_t v, int negative, int decimals)
{
	uint64_t scale = csv_pow10[decimals], frac;
	int i;

	if (negative)
		*p++ = '-';
	p = csv_put_u64(p, v / scale);
	if (decimals == 0)
		return p;
	*p++ = '.';
	frac = v % scale;
	for (i = decimals - 1; i >= 0; i--) {
		p[i] = '0' + frac % 10;
		frac /= 10;
	}
	return p + decimals;
}

/* Write a double with the column's decimals; NaN and infinities as empty. */
static char *
csv_put_double(char *p, double v, int decimals)
{
	double x;
	long long n;
	locale_t old;
	int len;

	if (!isfinite(v))
		return p;
	x = v * (double)csv_pow10[decimals];
	if (fabs(x) < 9e15) {
		n = llround(x);
		if (n < 0)
			return csv_put_fixed(p, (uint64_t)-n, 1, decimals);
		return csv_put_fixed(p, (uint64_t)n, 0, decimals);
	}
	/* Too large for fixed point: exponent form, still in the C locale. */
	old = uselocale(csv_c_locale());
	len = snprintf(p, 32, "%.17g", v);
	uselocale(old);
	return p + len;
}

/* Append a string field, quoted only if it has to be. */
static void
csv_file_put_string(struct csv_file *f, const char *s)
{
	size_t len, i, need;
	char *p;

	if (s == NULL || *s == '\0')
		return;
	len = strlen(s);
	need = (s[0] == ' ' || s[0] == '\t' || s[len - 1] == ' ' ||
	    s[len - 1] == '\t');
	for (i = 0; i < len && !need; i++)
		need = csv_special[(unsigned char)s[i]];
	if (!need) {
		p = csv_file_reserve(f, len);
		memcpy(p, s, len);
		f->len += len;
		return;
	}
	p = csv_file_reserve(f, 2 * len + 2);
	f->len += csv_write(p, 2 * len + 2, s, len);
}

/* Append one field of a row. */
static void
csv_file_put_field(struct csv_file *f, const struct csv_col *col,
    const struct csv_row *row)
{
	const char *field = (const char *)row + col->offset;
	char *p, *end;
	int64_t t;
	uint32_t u32;
	uint64_t u64;
	double d;
	int w;

	switch (col->type) {
	case CSV_COL_STR:
	case CSV_COL_NAME:
	case CSV_COL_STATE:
		csv_file_put_string(f, *(const char *const *)field);
		return;
	default:
		break;
	}

	p = csv_file_reserve(f, 48);
	switch (col->type) {
	case CSV_COL_TIME:
		memcpy(&t, field, sizeof t);
		if (t < 0)
			end = csv_put_fixed(p, -(uint64_t)t, 1, 6);
		else
			end = csv_put_fixed(p, (uint64_t)t, 0, 6);
		break;
	case CSV_COL_U32:
	case CSV_COL_U32_OPT:
		memcpy(&u32, field, sizeof u32);
		if (u32 == 0 && col->type == CSV_COL_U32_OPT)
			end = p;
		else
			end = csv_put_u64(p, u32);
		break;
	case CSV_COL_U64:
		memcpy(&u64, field, sizeof u64);
		end = csv_put_u64(p, u64);
		break;
	case CSV_COL_WEIGHT:
		memcpy(&w, field, sizeof w);
		end = w < 0 ? p : csv_put_u64(p, (uint64_t)w);
		break;
	case CSV_COL_COUNT:
		memcpy(&u64, field, sizeof u64);
		end = u64 == CSV_NO_COUNT ? p : csv_put_u64(p, u64);
		break;
	default:
		memcpy(&d, field, sizeof d);
		end = csv_put_double(p, d, col->decimals);
		break;
	}
	f->len += end - p;
}

/* Add one row to the buffer (written by the next flush). */
void
csv_file_row(struct csv_file *f, const struct csv_row *row)
{
	const struct csv_kind_info *info = &csv_kind_info[f->kind];
	size_t i;

	if (row->kind != f->kind) {
		fatal("%s: row of kind %d written to a %s file", f->path,
		    (int)row->kind, csv_kind_names[f->kind]);
	}
	if (f->len > CSV_MAX_PENDING) {
		f->dropped++;	/* counted, and reported by the next flush */
		return;
	}
	for (i = 0; i < info->ncols; i++) {
		if (i != 0) {
			*csv_file_reserve(f, 1) = ',';
			f->len++;
		}
		csv_file_put_field(f, &info->cols[i], row);
	}
	*csv_file_reserve(f, 1) = '\n';
	f->len++;
	f->rows++;
}

/* Write all of buf, retrying on partial writes and EINTR. */
static ssize_t
csv_write_all(int fd, const char *buf, size_t len)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = write(fd, buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return done == 0 ? -1 : (ssize_t)done;
		}
		done += n;
	}
	return done;
}

/*
 * Hand the buffered rows over for writing: they become the rows
 * csv_file_write_out writes, unless rows handed over earlier are still
 * there (a failed or partial write), which go first. Returns whether
 * anything waits to be written. Not thread-safe against
 * csv_file_write_out: a writer thread and the thread adding rows take
 * turns under a lock of their own (recorder.c).
 */
int
csv_file_handoff(struct csv_file *f)
{
	char *p;
	size_t n;

	if (f->out_len == 0 && f->out_dropped == 0 &&
	    (f->len > 0 || f->dropped > 0)) {
		p = f->out;
		n = f->out_size;
		f->out = f->buf;
		f->out_size = f->size;
		f->out_len = f->len;
		f->out_dropped = f->dropped;
		f->buf = p;
		f->size = n;
		f->len = 0;
		f->dropped = 0;
	}
	return f->out_len > 0 || f->out_dropped > 0;
}

/*
 * Write the rows handed over; 0, or -1 with *cause (write failed, or
 * rows had to be refused). A partial write keeps the rest, which the
 * next call completes: the file only ever ends with whole rows between
 * calls that succeed.
 */
int
csv_file_write_out(struct csv_file *f, char **cause)
{
	ssize_t n;
	int error;

	if (f->out_len == 0 && f->out_dropped == 0)
		return 0;
	n = f->out_len == 0 ? 0 : csv_write_all(f->fd, f->out, f->out_len);
	if (n == (ssize_t)f->out_len) {
		f->out_len = 0;
		if (f->out_dropped == 0)
			return 0;
		/* say once how many rows could not be kept, then go on */
		if (cause != NULL)
			xasprintf(cause, "%s: %llu rows were not recorded while "
			    "the file could not be written (or the disk took "
			    "no rows for a long time)", f->path,
			    (unsigned long long)f->out_dropped);
		f->lost += f->out_dropped;
		f->out_dropped = 0;
		return -1;
	}
	error = errno;
	if (n > 0) {
		/* Keep the rest: the next write completes the cut row. */
		memmove(f->out, f->out + n, f->out_len - n);
		f->out_len -= n;
	}
	if (cause != NULL) {
		xasprintf(cause, "%s: write failed: %s (is the disk full?)",
		    f->path, strerror(error));
	}
	return -1;
}

/* Rows added and not yet handed over (or refused since)? */
int
csv_file_buffered(const struct csv_file *f)
{
	return f->len > 0 || f->dropped > 0;
}

/* Rows refused so far and reported by csv_file_write_out. */
uint64_t
csv_file_lost(const struct csv_file *f)
{
	return f->lost;
}

/* Write buffered whole rows now; 0 or -1 with *cause. */
int
csv_file_flush(struct csv_file *f, char **cause)
{
	int i;

	/* rows handed over before (a failed write), then the buffered ones */
	for (i = 0; i < 2 && csv_file_handoff(f); i++)
		if (csv_file_write_out(f, cause) != 0)
			return -1;
	return 0;
}

/* Printable copy of the first line of an existing file, for messages. */
static char *
csv_first_line(const char *buf, size_t len)
{
	char *s;
	size_t i;

	s = xmalloc(len + 4);
	for (i = 0; i < len && buf[i] != '\n' && buf[i] != '\r'; i++) {
		if (i == 80) {
			memcpy(s + i, "...", 3);
			i += 3;
			break;
		}
		s[i] = (buf[i] >= 0x20 && buf[i] < 0x7f) ? buf[i] : '?';
	}
	s[i] = '\0';
	return s;
}

/* Check an existing non-empty file is ours and ends with a whole row. */
static int
csv_file_check(struct csv_file *f, off_t size, char **cause)
{
	const char *header = csv_kind_headers[f->kind];
	size_t hlen = strlen(header);
	char buf[512], last, *line;
	ssize_t n;

	n = pread(f->fd, buf, sizeof buf, 0);
	if (n < 0) {
		xasprintf(cause, "%s: %s", f->path, strerror(errno));
		return -1;
	}
	if ((size_t)n < hlen + 1 || memcmp(buf, header, hlen) != 0 ||
	    (buf[hlen] != '\n' && (buf[hlen] != '\r' ||
	    (size_t)n < hlen + 2 || buf[hlen + 1] != '\n'))) {
		line = csv_first_line(buf, n);
		xasprintf(cause, "%s: not a %s log: its header is '%s', "
		    "expected '%s'; move the file aside or log to another "
		    "directory", f->path, csv_kind_names[f->kind], line,
		    header);
		free(line);
		return -1;
	}
	if (pread(f->fd, &last, 1, size - 1) != 1) {
		xasprintf(cause, "%s: %s", f->path, strerror(errno));
		return -1;
	}
	if (last != '\n') {
		xasprintf(cause, "%s: ends with an incomplete row (was a "
		    "writer killed in the middle of a write?); delete the "
		    "partial last line or move the file aside", f->path);
		return -1;
	}
	return 0;
}

/*
 * Open (append if it exists with the right header, else create); the
 * header of a new file is written now, or with the first rows if
 * buffered.
 */
static struct csv_file *
csv_file_open_header(const char *path, enum csv_kind kind, int buffered,
    char **cause)
{
	struct csv_file *f;
	struct stat st;

	f = xcalloc(1, sizeof *f);
	f->path = xstrdup(path);
	f->kind = kind;
	f->fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (f->fd < 0) {
		xasprintf(cause, "%s: cannot open for writing: %s", path,
		    strerror(errno));
		goto fail;
	}
	if (fstat(f->fd, &st) != 0) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		xasprintf(cause, "%s: not a regular file; give a file name "
		    "for the %s log", path, csv_kind_names[kind]);
		goto fail;
	}
	if (st.st_size != 0) {
		if (csv_file_check(f, st.st_size, cause) != 0)
			goto fail;
		return f;
	}

	memcpy(csv_file_reserve(f, strlen(csv_kind_headers[kind]) + 1),
	    csv_kind_headers[kind], strlen(csv_kind_headers[kind]));
	f->len += strlen(csv_kind_headers[kind]);
	f->buf[f->len++] = '\n';
	if (!buffered && csv_file_flush(f, cause) != 0)
		goto fail;
	return f;

fail:
	if (f->fd >= 0)
		close(f->fd);
	free(f->buf);
	free(f->out);
	free(f->path);
	free(f);
	return NULL;
}

struct csv_file *
csv_file_open(const char *path, enum csv_kind kind, char **cause)
{
	return csv_file_open_header(path, kind, 0, cause);
}

struct csv_file *
csv_file_open_buffered(const char *path, enum csv_kind kind, char **cause)
{
	return csv_file_open_header(path, kind, 1, cause);
}

/* Flush and close; NULL is fine. */
void
csv_file_close(struct csv_file *f)
{
	if (f == NULL)
		return;
	csv_file_flush(f, NULL);
	close(f->fd);
	free(f->buf);
	free(f->out);
	free(f->path);
	free(f);
}

/* The path the file was opened with. */
const char *
csv_file_path(const struct csv_file *f)
{
	return f->path;
}

/* Rows added through this handle (flushed or not). */
uint64_t
csv_file_rows(const struct csv_file *f)
{
	return f->rows;
}
