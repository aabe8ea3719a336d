/*
 * csvread.c: read synbridge CSV files back with libcsv, strictly.
 *
 * libcsv (CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL, no space
 * trimming) splits fields; this file checks the header, the field count of
 * every row and the syntax and range of every value, and says where a
 * problem is as "file:line:column: what" (1-based; the column is the byte
 * column of the start of the field at fault).
 *
 * libcsv does not report positions, so the input is fed to it in segments
 * that end at the next comma, CR or LF: only those bytes can end a field or
 * a row, so any callback belongs to the last byte of the segment, whose
 * position is known. Lines are counted on LF, including those inside
 * quoted fields. Lines end with LF or CRLF; a bare CR, a blank line, a NUL
 * byte and a field longer than CSV_FIELD_MAX are errors. The last line may
 * lack its line end. A UTF-8 byte order mark at the start is skipped.
 */
#include "config.h"

#include <csv.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "csvkind.h"
#include "csvlog.h"
#include "xmalloc.h"

#define CSV_READ_CHUNK 65536
#define CSV_MAX_COLS 24

struct csv_reader {
	const char *path;
	enum csv_kind kind;
	const struct csv_kind_info *info;
	csv_row_fn fn;
	void *ctx;

	uint64_t line;		/* line of the next byte fed */
	uint64_t line_start;	/* offset of the first byte of that line */
	uint64_t field_line;	/* where the current field starts */
	uint64_t field_col;
	uint64_t end_off;	/* offset just past the segment being fed */
	int end_byte;		/* its last byte: ',', '\r', '\n' or -1 */

	size_t field;		/* index of the current field in its row */
	uint64_t row;		/* rows completed, header included */
	int at_row_start;
	int after_cr;
	int stop;
	char *error;

	struct csv_row out;
	char *strings;
	size_t strings_len, strings_size;
	size_t string_at[CSV_MAX_COLS];
};

/* Bytes that can end a field or a row. */
static const unsigned char csv_read_stop[256] = {
	[','] = 1, ['\r'] = 1, ['\n'] = 1,
};

/* Record an error at a line and column, unless one is recorded already. */
static void __attribute__((format(printf, 4, 5)))
csv_read_error(struct csv_reader *r, uint64_t line, uint64_t col,
    const char *fmt, ...)
{
	va_list ap;
	char *what;

	if (r->error != NULL)
		return;
	va_start(ap, fmt);
	xvasprintf(&what, fmt, ap);
	va_end(ap);
	xasprintf(&r->error, "%s:%llu:%llu: %s", r->path,
	    (unsigned long long)line, (unsigned long long)col, what);
	free(what);
}

/* Printable copy of a field for a message (at most 40 bytes shown). */
static char *
csv_read_show(const char *s, size_t len)
{
	char *out;
	size_t i, n = len > 40 ? 40 : len;

	out = xmalloc(n + 4);
	for (i = 0; i < n; i++) {
		out[i] = ((unsigned char)s[i] >= 0x20 && s[i] != 0x7f) ?
		    s[i] : '?';
	}
	if (n < len) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
	return out;
}

/* Parse seconds with up to 6 decimals into microseconds. */
static int
csv_parse_time(const char *s, size_t len, int64_t *out)
{
	size_t i = 0;
	uint64_t sec = 0, frac = 0, us, limit;
	int neg = 0, digits = 0;

	if (i < len && s[i] == '-') {
		neg = 1;
		i++;
	}
	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
		if (sec > INT64_MAX / 1000000)
			return -1;
		sec = sec * 10 + (s[i] - '0');
		digits++;
	}
	if (digits == 0)
		return -1;
	if (i < len && s[i] == '.') {
		i++;
		for (digits = 0; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
			if (++digits > 6)
				return -1;
			frac = frac * 10 + (s[i] - '0');
		}
		if (digits == 0)
			return -1;
		for (; digits < 6; digits++)
			frac *= 10;
	}
	if (i != len)
		return -1;
	limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	if (sec > limit / 1000000 || sec * 1000000 > limit - frac)
		return -1;
	us = sec * 1000000 + frac;
	*out = neg ? (int64_t)(0 - us) : (int64_t)us;
	return 0;
}

/* Parse a whole number no larger than max. */
static int
csv_parse_uint(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0 || len > 20)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (v > (max - (s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* Parse a finite decimal number (C locale; no hex, inf or nan). */
static int
csv_parse_double(const char *s, size_t len, double *out)
{
	char *end;
	double v;

	if (len == 0 || strchr("0123456789+-.", s[0]) == NULL)
		return -1;
	if (memchr(s, 'x', len) != NULL || memchr(s, 'X', len) != NULL)
		return -1;
	errno = 0;
	v = strtod_l(s, &end, csv_c_locale());
	if (end != s + len || !isfinite(v) || errno == ERANGE)
		return -1;
	*out = v;
	return 0;
}

/* Keep a copy of a string field until the row is complete. */
static void
csv_read_keep_string(struct csv_reader *r, size_t col, const char *s,
    size_t len)
{
	if (r->strings_size - r->strings_len < len + 1) {
		while (r->strings_size - r->strings_len < len + 1)
			r->strings_size = r->strings_size ?
			    r->strings_size * 2 : 1024;
		r->strings = xrealloc(r->strings, r->strings_size);
	}
	memcpy(r->strings + r->strings_len, s, len);
	r->strings[r->strings_len + len] = '\0';
	r->string_at[col] = r->strings_len;
	r->strings_len += len + 1;
}

/* Convert and check one field of a data row. */
static void
csv_read_value(struct csv_reader *r, const struct csv_col *col, size_t k,
    const char *s, size_t len)
{
	char *field = (char *)&r->out + col->offset, *shown;
	const char *expect = NULL;
	int64_t t;
	uint64_t u;
	uint32_t u32;
	double d;
	int w;

	switch (col->type) {
	case CSV_COL_TIME:
		if (csv_parse_time(s, len, &t) != 0) {
			expect = "seconds with at most 6 decimals, "
			    "like 12.345678";
			break;
		}
		memcpy(field, &t, sizeof t);
		return;
	case CSV_COL_NAME:
		if (len == 0) {
			csv_read_error(r, r->field_line, r->field_col,
			    "empty %s: a %s row needs one", col->name,
			    csv_kind_names[r->kind]);
			return;
		}
		csv_read_keep_string(r, k, s, len);
		return;
	case CSV_COL_STATE:
		if (strcmp(s, "up") != 0 && strcmp(s, "degraded") != 0 &&
		    strcmp(s, "down") != 0) {
			expect = "up, degraded or down";
			break;
		}
		csv_read_keep_string(r, k, s, len);
		return;
	case CSV_COL_STR:
		csv_read_keep_string(r, k, s, len);
		return;
	case CSV_COL_U32:
	case CSV_COL_U32_OPT:
		u = 0;
		if ((len != 0 || col->type == CSV_COL_U32) &&
		    csv_parse_uint(s, len, UINT32_MAX, &u) != 0) {
			expect = "a whole number from 0 to 4294967295";
			break;
		}
		u32 = u;
		memcpy(field, &u32, sizeof u32);
		return;
	case CSV_COL_U64:
		if (csv_parse_uint(s, len, UINT64_MAX, &u) != 0) {
			expect = "a whole number of at most 20 digits";
			break;
		}
		memcpy(field, &u, sizeof u);
		return;
	case CSV_COL_WEIGHT:
		u = 0;
		if (len != 0 && csv_parse_uint(s, len, 255, &u) != 0) {
			expect = "a weight from 0 to 255 or an empty field";
			break;
		}
		w = len != 0 ? (int)u : -1;
		memcpy(field, &w, sizeof w);
		return;
	case CSV_COL_COUNT:
		u = CSV_NO_COUNT;
		if (len != 0 && csv_parse_uint(s, len, CSV_NO_COUNT - 1,
		    &u) != 0) {
			expect = "a whole number of at most 20 digits or an "
			    "empty field";
			break;
		}
		memcpy(field, &u, sizeof u);
		return;
	case CSV_COL_DBL:
	case CSV_COL_DBL_NONNEG:
	case CSV_COL_PCT:
		d = NAN;
		if (len != 0 && csv_parse_double(s, len, &d) != 0)
			expect = "a decimal number or an empty field";
		else if (col->type == CSV_COL_DBL_NONNEG && d < 0)
			expect = "a number >= 0 or an empty field";
		else if (col->type == CSV_COL_PCT && (d < 0 || d > 100))
			expect = "a percentage from 0 to 100 or an empty field";
		if (expect != NULL)
			break;
		memcpy(field, &d, sizeof d);
		return;
	}

	shown = csv_read_show(s, len);
	csv_read_error(r, r->field_line, r->field_col,
	    "bad %s '%s': expected %s", col->name, shown, expect);
	free(shown);
}

/* Check one field of the header row. */
static void
csv_read_header_field(struct csv_reader *r, size_t k, const char *s,
    size_t len)
{
	const char *header = csv_kind_headers[r->kind];
	char *shown;

	if (k >= r->info->ncols) {
		csv_read_error(r, r->field_line, r->field_col,
		    "header has more than %zu fields; a %s file starts with "
		    "'%s'", r->info->ncols, csv_kind_names[r->kind], header);
		return;
	}
	if (len != strlen(r->info->cols[k].name) ||
	    memcmp(s, r->info->cols[k].name, len) != 0) {
		shown = csv_read_show(s, len);
		csv_read_error(r, r->field_line, r->field_col,
		    "header field %zu is '%s', expected '%s' (is this a %s "
		    "file? its header is '%s')", k + 1, shown,
		    r->info->cols[k].name, csv_kind_names[r->kind], header);
		free(shown);
	}
}

/* libcsv: one field ended. */
static void
csv_read_field(void *s, size_t len, void *data)
{
	struct csv_reader *r = data;
	size_t k;

	if (r->error != NULL || r->stop)
		return;
	k = r->field++;
	if (memchr(s, '\0', len) != NULL) {
		csv_read_error(r, r->field_line, r->field_col,
		    "NUL byte in field %zu: the file is damaged", k + 1);
	} else if (r->row == 0)
		csv_read_header_field(r, k, s, len);
	else if (k >= r->info->ncols) {
		csv_read_error(r, r->field_line, r->field_col,
		    "too many fields: a %s row has %zu (a comma in a text "
		    "field must be inside quotes)", csv_kind_names[r->kind],
		    r->info->ncols);
	} else
		csv_read_value(r, &r->info->cols[k], k, s, len);

	/* The next field starts after the comma. */
	if (r->end_byte == ',') {
		r->field_line = r->line;
		r->field_col = r->end_off - r->line_start + 1;
	}
}

/* Point the row's string fields at their copies. */
static void
csv_read_resolve(struct csv_reader *r)
{
	const struct csv_col *col;
	const char *s;
	size_t k;

	for (k = 0; k < r->info->ncols; k++) {
		col = &r->info->cols[k];
		if (col->type != CSV_COL_STR && col->type != CSV_COL_NAME &&
		    col->type != CSV_COL_STATE)
			continue;
		s = r->strings + r->string_at[k];
		memcpy((char *)&r->out + col->offset, &s, sizeof s);
	}
}

/* libcsv: one row ended (c is the CR or LF, or -1 at the end of input). */
static void
csv_read_row(int c, void *data)
{
	struct csv_reader *r = data;
	uint64_t col;

	if (r->error != NULL || r->stop)
		return;
	if (r->field < r->info->ncols) {
		col = r->end_off - r->line_start;
		if (c == -1)
			col++;
		if (r->row == 0) {
			csv_read_error(r, r->line, col, "header has %zu "
			    "fields; a %s file starts with '%s'", r->field,
			    csv_kind_names[r->kind], csv_kind_headers[r->kind]);
		} else {
			csv_read_error(r, r->line, col, "too few fields: "
			    "%zu of %zu (the row is cut short)", r->field,
			    r->info->ncols);
		}
		return;
	}
	if (r->row != 0) {
		csv_read_resolve(r);
		if (r->fn(r->ctx, &r->out) != 0)
			r->stop = 1;
	}
	r->row++;
	r->field = 0;
	r->strings_len = 0;
	r->at_row_start = 1;
	r->after_cr = (c == '\r');
}

/* Report a libcsv parse error on the current field. */
static void
csv_read_parse_error(struct csv_reader *r, struct csv_parser *p,
    unsigned char bad)
{
	if (csv_error(p) != CSV_EPARSE) {
		csv_read_error(r, r->field_line, r->field_col, "%s",
		    csv_strerror(csv_error(p)));
	} else if (bad == '"' && !p->quoted) {
		csv_read_error(r, r->field_line, r->field_col, "quote inside "
		    "an unquoted field (quote the whole field and double the "
		    "quotes inside it)");
	} else {
		csv_read_error(r, r->field_line, r->field_col, "text after "
		    "the closing quote of a field (a quote inside a quoted "
		    "field must be doubled)");
	}
}

/* Feed one chunk of the file (starting at absolute offset base). */
static void
csv_read_chunk(struct csv_reader *r, struct csv_parser *p, const char *buf,
    size_t n, uint64_t base)
{
	size_t i = 0, j, used;

	while (i < n && r->error == NULL && !r->stop) {
		if (r->after_cr) {
			r->after_cr = 0;
			if (buf[i] != '\n') {
				csv_read_error(r, r->line, base + i -
				    r->line_start, "carriage return without "
				    "a line feed (lines must end with LF or "
				    "CRLF)");
				return;
			}
			r->line++;
			r->line_start = base + i + 1;
			i++;
			continue;
		}
		if (r->at_row_start) {
			if (buf[i] == '\n' || buf[i] == '\r') {
				csv_read_error(r, r->line, base + i -
				    r->line_start + 1, "blank line (every "
				    "line must be a row)");
				return;
			}
			r->at_row_start = 0;
			r->field_line = r->line;
			r->field_col = base + i - r->line_start + 1;
		}

		for (j = i; j < n && !csv_read_stop[(unsigned char)buf[j]]; j++)
			;
		if (j < n) {
			r->end_byte = (unsigned char)buf[j];
			j++;
		} else
			r->end_byte = -1;
		r->end_off = base + j;

		used = csv_parse(p, buf + i, j - i, csv_read_field,
		    csv_read_row, r);
		if (used != j - i) {
			csv_read_parse_error(r, p, buf[i + used]);
			return;
		}
		if (csv_get_buffer_size(p) > CSV_FIELD_MAX) {
			csv_read_error(r, r->field_line, r->field_col,
			    "field longer than %d bytes (an unclosed quote?)",
			    CSV_FIELD_MAX);
			return;
		}
		if (r->end_byte == '\n') {
			r->line++;
			r->line_start = base + j;
		}
		i = j;
	}
}

/* libcsv space function: no byte is a space, so none is trimmed. */
static int
csv_read_no_space(unsigned char c)
{
	return 0;
}

/* Read the whole file through the parser. */
static void
csv_read_fd(struct csv_reader *r, struct csv_parser *p, int fd)
{
	char *buf;
	ssize_t n;
	uint64_t base = 0;
	size_t skip;

	buf = xmalloc(CSV_READ_CHUNK);
	while (r->error == NULL && !r->stop) {
		n = read(fd, buf, CSV_READ_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			xasprintf(&r->error, "%s: read error: %s", r->path,
			    strerror(errno));
			break;
		}
		if (n == 0)
			break;
		skip = 0;
		if (base == 0 && n >= 3 &&
		    memcmp(buf, "\xef\xbb\xbf", 3) == 0) {
			skip = 3;	/* UTF-8 byte order mark */
			r->line_start = 3;
		}
		csv_read_chunk(r, p, buf + skip, n - skip, base + skip);
		base += n;
	}
	free(buf);
	if (r->error != NULL || r->stop)
		return;

	r->end_off = base;
	r->end_byte = -1;
	if (r->after_cr) {
		csv_read_error(r, r->line, base - r->line_start,
		    "carriage return without a line feed (lines must end "
		    "with LF or CRLF)");
	} else if (!r->at_row_start &&
	    csv_fini(p, csv_read_field, csv_read_row, r) != 0) {
		csv_read_error(r, r->field_line, r->field_col, "unterminated "
		    "quoted field (the quote opened here is never closed)");
	} else if (r->error == NULL && r->row == 0) {
		csv_read_error(r, 1, 1, "empty file: a %s file starts with "
		    "the header '%s'", csv_kind_names[r->kind],
		    csv_kind_headers[r->kind]);
	}
}

/* Read a synbridge CSV file of the given kind, row by row. */
int
csv_read_file(const char *path, enum csv_kind kind, csv_row_fn fn,
    void *ctx, char **cause)
{
	struct csv_reader r;
	struct csv_parser p;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		xasprintf(cause, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0)
		fatal("csv_init failed");
	csv_set_space_func(&p, csv_read_no_space);
	csv_set_blk_size(&p, 4096);

	memset(&r, 0, sizeof r);
	r.path = path;
	r.kind = kind;
	r.info = &csv_kind_info[kind];
	r.fn = fn;
	r.ctx = ctx;
	r.line = 1;
	r.at_row_start = 1;
	r.out.kind = kind;
	if (r.info->ncols > CSV_MAX_COLS)
		fatal("csv: too many columns in kind %d", kind);

	csv_read_fd(&r, &p, fd);

	csv_free(&p);
	close(fd);
	free(r.strings);
	if (r.error != NULL) {
		if (cause != NULL)
			*cause = r.error;
		else
			free(r.error);
		return -1;
	}
	return 0;
}
