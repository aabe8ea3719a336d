/*
 * csv.c: fuzz target for the CSV reader (src/csvread.c), which reads
 * spikes.csv, synapses.csv, links.csv and commands.csv back (replay,
 * analysis round trips) from files anyone may have edited.
 *
 * Input: a CSV file, read as each of the four kinds. A refusal must say
 * FILE:LINE:COLUMN: what, on one line. A file that reads must survive the
 * writer (src/csvlog.c): its rows written out read back without error,
 * the same number of them, and writing what was read back gives the same
 * bytes again (the written form is a fixed point).
 */
#include "config.h"

#include <sys/stat.h>

#include <ctype.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "csvlog.h"
#include "fuzz.h"

/* Rows read, copied to a writer. */
struct fuzz_csv_copy {
	struct csv_file *out;
	uint64_t rows;
	uint64_t stop_after;	/* 0: read to the end */
};

/* csv_row_fn: write the row out; stop when asked. */
static int
fuzz_csv_row(void *ctx, const struct csv_row *row)
{
	struct fuzz_csv_copy *c = ctx;

	if (c->out != NULL)
		csv_file_row(c->out, row);
	c->rows++;
	return c->stop_after != 0 && c->rows >= c->stop_after;
}

/* An error must be "PATH:LINE:COLUMN: what" on one line. */
static void
fuzz_csv_check_error(const char *path, const char *cause)
{
	const char *p;

	FUZZ_CHECK(cause != NULL);
	FUZZ_CHECK(strchr(cause, '\n') == NULL);
	FUZZ_CHECK(strncmp(cause, path, strlen(path)) == 0);
	p = cause + strlen(path);
	FUZZ_CHECK(*p++ == ':');
	FUZZ_CHECK(isdigit((unsigned char)*p) && *p != '0');
	while (isdigit((unsigned char)*p))
		p++;
	FUZZ_CHECK(*p++ == ':');
	FUZZ_CHECK(isdigit((unsigned char)*p) && *p != '0');
	while (isdigit((unsigned char)*p))
		p++;
	FUZZ_CHECK(p[0] == ':' && p[1] == ' ' && p[2] != '\0');
}

/* Read path as kind, writing its rows to slot out; rows or -1. */
static int64_t
fuzz_csv_copy(const char *path, enum csv_kind kind, int out,
    const char **written)
{
	struct fuzz_csv_copy c = { NULL, 0, 0 };
	char *cause = NULL;
	int rc;

	*written = fuzz_memfile_slot(out, NULL, 0);
	c.out = csv_file_open(*written, kind, &cause);
	FUZZ_CHECK(c.out != NULL);
	rc = csv_read_file(path, kind, fuzz_csv_row, &c, &cause);
	csv_file_close(c.out);
	if (rc != 0) {
		fuzz_csv_check_error(path, cause);
		free(cause);
		return -1;
	}
	FUZZ_CHECK(cause == NULL);
	return (int64_t)c.rows;
}

/* The contents of a file (malloc'd), and its size. */
static char *
fuzz_csv_slurp(const char *path, size_t *len)
{
	struct stat st;
	char *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	FUZZ_CHECK(fd >= 0 && fstat(fd, &st) == 0);
	*len = (size_t)st.st_size;
	if ((buf = malloc(*len + 1)) == NULL)
		abort();
	FUZZ_CHECK(pread(fd, buf, *len, 0) == (ssize_t)*len);
	close(fd);
	return buf;
}

/* Read as one kind; round-trip what reads. */
static void
fuzz_csv_kind(const char *path, enum csv_kind kind)
{
	struct fuzz_csv_copy count = { NULL, 0, 0 }, stop = { NULL, 0, 1 };
	const char *once, *twice;
	char *a, *b, *cause = NULL;
	size_t alen, blen;
	int64_t rows, again;

	if (csv_read_file(path, kind, fuzz_csv_row, &count, &cause) != 0) {
		fuzz_csv_check_error(path, cause);
		free(cause);
		return;
	}
	FUZZ_CHECK(cause == NULL);
	/* what was read, written, reads back: the same rows, the same bytes */
	rows = fuzz_csv_copy(path, kind, 1, &once);
	FUZZ_CHECK(rows == (int64_t)count.rows);
	again = fuzz_csv_copy(once, kind, 2, &twice);
	FUZZ_CHECK(again == rows);
	a = fuzz_csv_slurp(once, &alen);
	b = fuzz_csv_slurp(twice, &blen);
	FUZZ_CHECK(alen == blen && memcmp(a, b, alen) == 0);
	free(a);
	free(b);
	/* a reader that stops after the first row stops there */
	FUZZ_CHECK(csv_read_file(path, kind, fuzz_csv_row, &stop,
	    &cause) == 0);
	FUZZ_CHECK(stop.rows == (rows > 0 ? 1 : 0));
}

/* The input as each kind of file. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_memfile_slot(0, data, size);
	int k;

	for (k = 0; k < CSV_KINDS; k++)
		fuzz_csv_kind(path, (enum csv_kind)k);
	return 0;
}
