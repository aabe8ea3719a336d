/*
 * fake-host.h: a host for plugin tests (and the relay benchmark), with the
 * plugin compiled in or loaded from its built module. It records what a
 * plugin does through struct sb_host_api: every registration, the events it
 * emits, its log lines and what a transport hands back; the test sets the
 * key=value arguments, the seed, fast mode, the session clock and the site.
 * Nothing here asserts: the tests check what was recorded.
 */
#ifndef FAKE_HOST_H
#define FAKE_HOST_H

#include <stddef.h>
#include <stdint.h>

#include "synbridge-plugin.h"

#define FAKE_ARGS 32		/* key=value arguments */
#define FAKE_LOGS 32		/* log lines kept (the rest are counted) */
#define FAKE_LOG_LEN 1024
#define FAKE_COMMANDS 8		/* console commands kept */
#define FAKE_POPS 4		/* populations kept */
#define FAKE_QUEUED 64		/* queued command lines kept */

/* One registration: the host owns data from then on. */
struct fake_registration {
	void	*data;
	void	(*free_func)(void *);
};

/* One loaded instance, as the fake host sees it. */
struct sb_plugin {
	/* Set by the test before init. */
	const char		*args[FAKE_ARGS][2];	/* NULL key ends */
	int			 nargs;
	const char		*site;
	uint64_t		 seed;
	int			 fast;
	int64_t			 now;
	int			 refuse;	/* refuse registrations */
	int			 echo;		/* copy logs to stderr */
	int			 quiet;		/* echo errors only */

	/* Log lines. */
	char			 logs[FAKE_LOGS][FAKE_LOG_LEN];
	int			 nlogs;		/* at most FAKE_LOGS */
	int			 errors;	/* SB_LOG_ERROR lines */
	char			 error[FAKE_LOG_LEN];	/* the last */

	/* Registrations: the capabilities, and data of the last one. */
	int			 registered;
	struct sb_neurons	 neurons;
	struct sb_synapses	 synapses;
	struct sb_transport	 t;
	struct sb_command	 cmds[FAKE_COMMANDS];	/* console */
	int			 ncmds;
	/* each capability with its own data (a plugin may register several) */
	struct sb_neurons	 pops[FAKE_POPS];
	void			*pops_data[FAKE_POPS];
	int			 npops;
	void			*synapses_data;
	struct sb_link		 link;
	void			*link_data;
	int			 nlinks;
	char			 tap_population[64];
	void			(*tap_fn)(void *, const struct sb_event *,
				    size_t);
	void			*tap_data;
	char			 queued[FAKE_QUEUED][FAKE_LOG_LEN];	/* lines */
	int			 nqueued;
	void			*data;
	void			(*free_func)(void *);
	struct fake_registration *regs;
	size_t			 nregs;

	/* Emitted events (through any emitter of this plugin). */
	struct sb_event		*events;
	size_t			 nevents, eventsalloc;

	/* What a transport handed to the host. */
	uint64_t		 received;
	uint64_t		 next_index;	/* next index expected */
	uint64_t		 disorder;	/* out of order, doubled */
	uint64_t		 gaps;
	char			 gap_why[256];	/* the last gap's reason */
	int			 clock_updates;
	int64_t			 offset_us, uncertainty_us;
	void			(*on_deliver)(struct sb_plugin *, const char *,
				    const char *, const struct sb_event *,
				    size_t);
	void			*ctx;
	int			 woken;		/* host->wake since (atomic) */
	int			 commands, results;	/* remote */
	char			 command_from[64], command_line[256];
	uint64_t		 command_id, result_id;
	int			 result_status;
	char			 result_text[256];
};

/* Where a plugin emits: events land in p->events, -1 from limit on. */
struct sb_emitter {
	struct sb_plugin	*p;
	size_t			 limit;
};

/* Where a command writes its result: the lines, newline separated. */
struct sb_reply {
	char			 text[4096];
	size_t			 len;
};

extern const struct sb_host_api fake_host;

/* A zeroed instance with site, seed and fast mode (NULL if no memory). */
struct sb_plugin *fake_plugin_new(const char *, uint64_t);
/* Add a key=value argument. */
void	fake_plugin_arg(struct sb_plugin *, const char *, const char *);
/* Add NULL-terminated key, value, ... arguments, then call init. */
int	fake_plugin_load(struct sb_plugin *, sb_plugin_init_fn, ...);
/* As the host unloads: end, then free what was registered and recorded. */
void	fake_plugin_unload(struct sb_plugin *, sb_plugin_end_fn);
/* Unload and free an instance from fake_plugin_new. */
void	fake_plugin_free(struct sb_plugin *, sb_plugin_end_fn);
/* Did a kept log line contain s? */
int	fake_plugin_logged(struct sb_plugin *, const char *);
/*
 * host->wake of any instance: wait up to timeout_us for one (and clear
 * it): 1 if one came, 0 on timeout. Poll the plugins after either.
 */
int	fake_host_wait(int64_t);
/* host->wake calls so far, all instances together. */
uint64_t fake_host_wakes(void);

/*
 * dlopen top_builddir/rel (top_builddir from the environment, else "."),
 * and check the module exports exactly the four ABI symbols, with this
 * name and SB_PLUGIN_API_VERSION. Returns the handle and its init and end,
 * or NULL with *cause.
 */
void	*fake_module_open(const char *, const char *, sb_plugin_init_fn *,
	    sb_plugin_end_fn *, char **);

#endif
