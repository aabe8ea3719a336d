/* headless.h: the console without a screen (stdin, scripts, session files). */
#ifndef SB_HEADLESS_H
#define SB_HEADLESS_H

#include "session.h"

struct headless_options {
	const char *session_file;	/* -c */
	const char *script;		/* -x */
	double duration_s;		/* --duration, < 0 for none */
	int read_stdin;
};

/* Run until the commands end (or the duration); returns the exit status. */
int headless_run(struct session *s, const struct headless_options *o);

#endif
