/* fuzz-util.c: helpers shared by the fuzz targets (see fuzz.h). */
#include "config.h"

#include <sys/mman.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

/* Say which invariant broke and abort (a finding). */
void
fuzz_fail(const char *file, int line, const char *what)
{
	fprintf(stderr, "fuzz: %s:%d: check failed: %s\n", file, line, what);
	abort();
}

/* Put data in in-memory file number slot (reused); its path. */
const char *
fuzz_memfile_slot(int slot, const uint8_t *data, size_t size)
{
	static int fd[FUZZ_MEMFILES] = { -1, -1, -1, -1 };
	static char path[FUZZ_MEMFILES][64];
	size_t off = 0;
	ssize_t n;

	if (slot < 0 || slot >= FUZZ_MEMFILES)
		abort();
	if (fd[slot] < 0) {
		fd[slot] = memfd_create("sb-fuzz", MFD_CLOEXEC);
		if (fd[slot] < 0) {
			perror("fuzz: memfd_create");
			abort();
		}
		snprintf(path[slot], sizeof path[slot], "/proc/self/fd/%d",
		    fd[slot]);
	}
	if (ftruncate(fd[slot], 0) != 0) {
		perror("fuzz: ftruncate");
		abort();
	}
	while (off < size) {
		n = pwrite(fd[slot], data + off, size - off, (off_t)off);
		if (n <= 0) {
			perror("fuzz: pwrite");
			abort();
		}
		off += (size_t)n;
	}
	return path[slot];
}

/* Put data in the first in-memory file; its path. */
const char *
fuzz_memfile(const uint8_t *data, size_t size)
{
	return fuzz_memfile_slot(0, data, size);
}

/* A NUL-terminated copy of data. */
char *
fuzz_string(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* The next length-prefixed piece of the input. */
size_t
fuzz_take(const uint8_t **data, size_t *size, const uint8_t **piece)
{
	size_t n;

	if (*size == 0) {
		*piece = *data;
		return 0;
	}
	n = **data;
	(*data)++;
	(*size)--;
	if (n > *size)
		n = *size;
	*piece = *data;
	*data += n;
	*size -= n;
	return n;
}
