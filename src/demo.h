/* demo.h: the embedded demo (three simulated sites, linked by a relay). */
#ifndef SB_DEMO_H
#define SB_DEMO_H

#include <signal.h>

/*
 * Prepare the demo: with a relay (real time), start synbridge-relay on
 * loopback with a fresh self-signed certificate and write a session file
 * that links every site to it; in fast mode, the sites run in lock-step
 * without a relay. Returns the session file to run, or NULL with *cause.
 */
char *demo_start(const char *datadir, const char *relay_path, int fast,
    volatile sig_atomic_t *stop, char **cause);
/* Stop the relay and remove the demo's files. */
void demo_stop(void);

#endif
