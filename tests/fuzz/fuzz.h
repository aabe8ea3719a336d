/*
 * fuzz.h: what every fuzz target in tests/fuzz shares.
 *
 * A target is one file defining LLVMFuzzerTestOneInput (and, if it needs
 * one-time set-up, LLVMFuzzerInitialize). Built with clang
 * -fsanitize=fuzzer by `make fuzz`, libFuzzer drives it; built by `make
 * check` it is linked with replay.c, which feeds it every file of its
 * corpus (tests/fuzz/corpus/TARGET). A target says a finding by crashing:
 * FUZZ_CHECK aborts with the condition, so a broken invariant fails the
 * replay test just as a sanitizer report fails the fuzzer.
 */
#ifndef SB_FUZZ_H
#define SB_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Abort with where and what when an invariant of the decoder breaks. */
#define FUZZ_CHECK(cond)						\
	do {								\
		if (!(cond))						\
			fuzz_fail(__FILE__, __LINE__, #cond);		\
	} while (0)

void fuzz_fail(const char *file, int line, const char *what)
    __attribute__((noreturn));

/*
 * An in-memory file (memfd) holding data, reachable by the path it
 * returns ("/proc/self/fd/N"), for decoders that take a path. The same
 * file is reused: each call replaces its contents.
 */
const char *fuzz_memfile(const uint8_t *data, size_t size);
/* The same with one of FUZZ_MEMFILES files (0 is fuzz_memfile's). */
#define FUZZ_MEMFILES 4
const char *fuzz_memfile_slot(int slot, const uint8_t *data, size_t size);

/* A NUL-terminated copy of data (malloc'd), for text decoders. */
char *fuzz_string(const uint8_t *data, size_t size);

/*
 * Take the next piece of input: *data advances past it. A piece is a
 * length byte then that many bytes (fewer at the end of the input).
 */
size_t fuzz_take(const uint8_t **data, size_t *size, const uint8_t **piece);

#endif
