/* recorder.c: the four CSV files of a recording directory. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "recorder.h"
#include "xmalloc.h"

struct recorder {
	char *dir;
	struct csv_file *files[CSV_KINDS];
};

/* Create dir (and parents) if missing. */
static int
recorder_mkdir(const char *dir, char **cause)
{
	char *copy = xstrdup(dir), *p;
	struct stat st;

	for (p = copy + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, 0777) != 0 && errno != EEXIST) {
			xasprintf(cause, "cannot create %s: %s", copy,
			    strerror(errno));
			free(copy);
			return -1;
		}
		*p = '/';
	}
	free(copy);
	if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
		xasprintf(cause, "cannot create %s: %s", dir, strerror(errno));
		return -1;
	}
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		xasprintf(cause, "%s is not a directory", dir);
		return -1;
	}
	return 0;
}

/* Open (or append to) the four files in dir. */
struct recorder *
recorder_open(const char *dir, char **cause)
{
	struct recorder *r;
	char *path;
	int k;

	if (recorder_mkdir(dir, cause) != 0)
		return NULL;
	r = xcalloc(1, sizeof *r);
	r->dir = xstrdup(dir);
	for (k = 0; k < CSV_KINDS; k++) {
		xasprintf(&path, "%s/%s.csv", dir, csv_kind_names[k]);
		r->files[k] = csv_file_open(path, (enum csv_kind)k, cause);
		free(path);
		if (r->files[k] == NULL) {
			recorder_close(r);
			return NULL;
		}
	}
	return r;
}

/* Buffer one row. */
void
recorder_row(struct recorder *r, const struct csv_row *row)
{
	csv_file_row(r->files[row->kind], row);
}

/* Write every file's buffered rows. */
int
recorder_flush(struct recorder *r, char **cause)
{
	int k, rc = 0;

	for (k = 0; k < CSV_KINDS; k++) {
		if (rc == 0)
			rc = csv_file_flush(r->files[k], cause);
		else {
			char *ignored = NULL;

			csv_file_flush(r->files[k], &ignored);
			free(ignored);
		}
	}
	return rc;
}

/* Flush and close. */
void
recorder_close(struct recorder *r)
{
	int k;

	if (r == NULL)
		return;
	for (k = 0; k < CSV_KINDS; k++)
		csv_file_close(r->files[k]);
	free(r->dir);
	free(r);
}

/* The directory recorded to. */
const char *
recorder_dir(const struct recorder *r)
{
	return r->dir;
}

/* Rows written so far over all files. */
uint64_t
recorder_rows(const struct recorder *r)
{
	uint64_t n = 0;
	int k;

	for (k = 0; k < CSV_KINDS; k++)
		n += csv_file_rows(r->files[k]);
	return n;
}
