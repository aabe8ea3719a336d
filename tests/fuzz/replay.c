/*
 * replay.c: run a fuzz target over its corpus without libFuzzer, as a TAP
 * test of `make check`. Every regular file under the corpus directory
 * (FUZZ_CORPUS_DIR, or the files and directories given as arguments) is
 * read and handed to LLVMFuzzerTestOneInput in a buffer of exactly its
 * size, one test line per file, in name order. A crash or a failed check of the
 * target kills the program, which fails the test; an empty corpus fails
 * it too.
 */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

/* LLVMFuzzerInitialize is optional, as with libFuzzer. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

/* Corpus file paths found so far. */
struct replay_list {
	char **path;
	size_t n, cap;
};

/* Sort paths by name. */
static int
replay_compare(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Keep path (taken over) in l. */
static void
replay_push(struct replay_list *l, char *path)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->path = realloc(l->path, l->cap * sizeof *l->path);
		if (l->path == NULL)
			abort();
	}
	l->path[l->n++] = path;
}

/* Add every regular file under dir (recursively) to the list. */
static int
replay_scan(const char *dir, struct replay_list *l)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	char *path;
	int rc = 0;

	if ((d = opendir(dir)) == NULL) {
		printf("Bail out! replay: cannot open corpus %s: %s\n", dir,
		    strerror(errno));
		return -1;
	}
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (asprintf(&path, "%s/%s", dir, de->d_name) < 0)
			abort();
		if (stat(path, &st) != 0) {
			free(path);
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			rc = replay_scan(path, l);
			free(path);
			continue;
		}
		if (!S_ISREG(st.st_mode)) {
			free(path);
			continue;
		}
		replay_push(l, path);
	}
	closedir(d);
	return rc;
}

/* A file, or every file under a directory, into l; -1 (said) if neither. */
static int
replay_add(const char *path, struct replay_list *l)
{
	struct stat st;
	char *copy;

	if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
		if ((copy = strdup(path)) == NULL)
			abort();
		replay_push(l, copy);
		return 0;
	}
	return replay_scan(path, l);
}

/* Read a whole file into an exact-size buffer; NULL on error. */
static uint8_t *
replay_read(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL, *exact;
	size_t len = 0, cap = 0, n;

	if (f == NULL)
		return NULL;
	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 4096;
			if ((buf = realloc(buf, cap)) == NULL)
				abort();
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	/* an exact-size copy: a read past the end is a sanitizer report */
	if ((exact = malloc(len ? len : 1)) == NULL)
		abort();
	memcpy(exact, buf, len);
	free(buf);
	*size = len;
	return exact;
}

/* Replay every corpus file through the target. */
int
main(int argc, char **argv)
{
	struct replay_list l = { NULL, 0, 0 };
	const char *fallback[] = { FUZZ_CORPUS_DIR };
	const char *const *dirs = fallback;
	size_t ndirs = 1, i;
	uint8_t *data;
	size_t size;
	int failed = 0;

	if (argc > 1) {
		dirs = (const char *const *)argv + 1;
		ndirs = (size_t)argc - 1;
	}
	for (i = 0; i < ndirs; i++) {
		if (replay_add(dirs[i], &l) != 0)
			return 1;
	}
	if (l.n == 0) {
		printf("Bail out! replay: no corpus files in %s\n", dirs[0]);
		return 1;
	}
	qsort(l.path, l.n, sizeof *l.path, replay_compare);
	if (LLVMFuzzerInitialize != NULL)
		LLVMFuzzerInitialize(&argc, &argv);
	printf("1..%zu\n", l.n);
	for (i = 0; i < l.n; i++) {
		/* said first: if the target crashes, the log shows the file */
		printf("# %s\n", l.path[i]);
		fflush(stdout);
		if ((data = replay_read(l.path[i], &size)) == NULL) {
			printf("not ok %zu - %s: cannot read: %s\n", i + 1,
			    l.path[i], strerror(errno));
			failed = 1;
			continue;
		}
		if (LLVMFuzzerTestOneInput(data, size) != 0) {
			printf("not ok %zu - %s: the target refused it\n", i + 1,
			    l.path[i]);
			failed = 1;
		} else
			printf("ok %zu - %s (%zu bytes)\n", i + 1, l.path[i],
			    size);
		fflush(stdout);
		free(data);
	}
	for (i = 0; i < l.n; i++)
		free(l.path[i]);
	free(l.path);
	return failed;
}
