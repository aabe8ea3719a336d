/*
 * plugin.c: relay, the HTTPS relay transport (synbridge-relay, protocol
 * v1). Publishes this site's streams, reads the others', carries remote
 * commands and their results, and keeps the session clock offset.
 *
 * Arguments: url=https://HOST:PORT (required); token=TOKEN or
 * token_file=FILE; ca=FILE and/or pin=sha256//BASE64 (one is required);
 * window_us=N (1000), batch_events=N (1000), streams=SITE/STREAM,...
 * (all the token may read), max_queue=N (1000000), from=now|start (now).
 */
#include "config.h"

#include <stddef.h>
#include <stdlib.h>

#include "synbridge-plugin.h"
#include "relay.h"
#include "sched-hint.h"

SB_PLUGIN("relay");

/* Register the transport. */
#define RELAY_FIRST_CLOCK_S 1
#define RELAY_FIRST_CLOCK_UNC_US 1000

static void relay_plugin_first_clock(const struct sb_host_api *,
    struct sb_plugin *, struct relay_client *);

int
synbridge_plugin_init(struct sb_plugin *p, const struct sb_host_api *host)
{
	static const struct sb_transport transport = {
		.name = "relay",
		.send = relay_client_send,
		.poll = relay_client_poll,
		.health = relay_client_health,
		.clock_offset = relay_client_clock_offset,
		.command = relay_client_command,
		.command_result = relay_client_command_result,
	};
	struct relay_client	*c;
	char			*cause = NULL;

	if (host->size < offsetof(struct sb_host_api, clock_update) +
	    sizeof host->clock_update) {
		host->log(p, SB_LOG_ERROR, "relay: this synbridge is too old "
		    "for the relay transport (no deliver/gap/clock_update)");
		return (-1);
	}
	if (host->fast != NULL && host->fast(p)) {
		host->log(p, SB_LOG_ERROR, "relay: --fast runs on virtual time; "
		    "a relay link needs real time");
		return (-1);
	}
	/*
	 * Before its network thread opens sockets: a descriptor table grown
	 * later stalls the threads that open one (sched-hint.h). Another
	 * instance or the console may have grown it already.
	 */
	(void)sb_fd_table_reserve(SB_FD_TABLE_CONSOLE);
	if ((c = relay_client_create(host, p, &cause)) == NULL) {
		host->log(p, SB_LOG_ERROR, "%s", cause);
		free(cause);
		return (-1);
	}
	static const struct sb_command repin = {
		.name = "repin",
		.usage = "sha256//BASE64",
		.help = "check the relay's new key from now on (keeps the "
		    "queue)",
		.exec = relay_client_repin,
	};

	if (host->register_transport(p, &transport, c, relay_client_free) != 0)
		return (-1);
	/* the transport owns c: the command only borrows it */
	if (host->register_command(p, &repin, c, NULL) != 0)
		return (-1);
	relay_plugin_first_clock(host, p, c);
	return (0);
}

/*
 * Wait (a second at most) for the first clock estimate and hand it to
 * the host now, so that backends loaded after the link start on session
 * time instead of jumping to it later.
 */
static void
relay_plugin_first_clock(const struct sb_host_api *host, struct sb_plugin *p,
    struct relay_client *c)
{
	struct timespec deadline;
	int64_t off, unc;
	int known, rc = 0;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += RELAY_FIRST_CLOCK_S;
	pthread_mutex_lock(&c->stat_lock);
	/* the first burst narrows the estimate within milliseconds */
	while ((!c->clock_known || c->clock_unc_us > RELAY_FIRST_CLOCK_UNC_US)
	    && rc == 0)
		rc = pthread_cond_timedwait(&c->clock_cond, &c->stat_lock,
		    &deadline);
	known = c->clock_known;
	off = c->clock_offset_us;
	unc = c->clock_unc_us;
	c->clock_changed = 0;
	pthread_mutex_unlock(&c->stat_lock);
	/* else the host holds the session until poll() brings one */
	if (known)
		host->clock_update(p, off, unc);
}

/* Nothing to do: the host frees the transport with relay_client_free. */
void
synbridge_plugin_end(struct sb_plugin *p)
{
}
