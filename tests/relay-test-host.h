/*
 * relay-test-host.h: the fake host (fake-host.h) set up for the relay
 * transport in tests and the benchmark (the plugin is compiled in), and
 * launchers for the real relay and the fault-injecting proxy.
 */
#ifndef RELAY_TEST_HOST_H
#define RELAY_TEST_HOST_H

#include <stdint.h>
#include <sys/types.h>

#include "fake-host.h"

/* Load the relay transport for site with key=value arguments. */
int	test_relay_load(struct sb_plugin *, const char *, const char **);
void	test_relay_unload(struct sb_plugin *);

struct test_proc {
	pid_t	 pid;
	int	 port;
	char	 pin[128];
	char	 dir[64];
};

/* A program of the build tree (top_builddir/rel), or NULL if not built. */
char	*test_relay_program(const char *);
/* Start synbridge-relay with a tokens text; 0, or -1 if it is missing. */
int	test_relay_start(struct test_proc *, const char *, const char *);
/* Kill it and start it again on its port and key: 0, or -1. */
int	test_relay_restart(struct test_proc *, const char *);
/* Start tests/tcp-proxy to 127.0.0.1:port with rules. */
int	test_proxy_start(struct test_proc *, int, const char **);
int	test_proxy_start_on(struct test_proc *, int, int, const char **);
void	test_proc_stop(struct test_proc *);

int64_t	test_mono_us(void);
int64_t	test_real_us(void);

#endif
