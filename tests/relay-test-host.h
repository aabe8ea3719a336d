/*
 * relay-test-host.h: a tiny host for the relay transport in tests and the
 * benchmark (the plugin is compiled in), and launchers for the real relay
 * and the fault-injecting proxy.
 */
#ifndef RELAY_TEST_HOST_H
#define RELAY_TEST_HOST_H

#include <stdint.h>
#include <sys/types.h>

#include "synbridge-plugin.h"

struct sb_plugin {
	const char		*site;
	const char		*kv[32];	/* key, value, ..., NULL */
	struct sb_transport	 t;
	void			*data;
	void			(*free_func)(void *);
	/* What arrived. */
	uint64_t		 received;
	uint64_t		 next_index;	/* expected next event index */
	uint64_t		 disorder;	/* out of order or doubled */
	uint64_t		 gaps;
	int			 clock_updates;
	int64_t			 offset_us, uncertainty_us;
	void			(*on_deliver)(struct sb_plugin *, const char *,
				    const char *, const struct sb_event *,
				    size_t);
	void			*ctx;
	int			 quiet;
	/* Remote commands and results seen. */
	int			 commands, results;
	char			 command_from[64], command_line[256];
	uint64_t		 command_id, result_id;
	int			 result_status;
	char			 result_text[256];
};

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
/* Start tests/tcp-proxy to 127.0.0.1:port with rules. */
int	test_proxy_start(struct test_proc *, int, const char **);
void	test_proc_stop(struct test_proc *);

int64_t	test_mono_us(void);
int64_t	test_real_us(void);

#endif
