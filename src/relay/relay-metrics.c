/* relay-metrics.c: GET /metrics (Prometheus text 0.0.4) and /v1/health. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "relay.h"
#include "xmalloc.h"

/* Write one per-stream counter family. */
static void
relay_metrics_streams(FILE *f, const char *name, const char *help,
    size_t which)
{
	struct relay_session *s;
	struct relay_stream *st;
	uint64_t v;
	size_t i;
	uint32_t j;

	fprintf(f, "# HELP synbridge_relay_%s %s\n", name, help);
	fprintf(f, "# TYPE synbridge_relay_%s counter\n", name);
	for (i = 0; i < relay.nsessions; i++) {
		s = relay.sessions[i];
		for (j = 0; j < s->nstreams; j++) {
			st = s->streams[j];
			v = which == 0 ? st->batches : which == 1 ?
			    st->events : st->bytes;
			fprintf(f, "synbridge_relay_%s{session=\"%s\","
			    "site=\"%s\",stream=\"%s\"} %" PRIu64 "\n", name,
			    s->name, st->site, st->name, v);
		}
	}
}

/* Write one unlabelled metric. */
static void
relay_metrics_one(FILE *f, const char *name, const char *type,
    const char *help, uint64_t v)
{
	fprintf(f, "# HELP synbridge_relay_%s %s\n", name, help);
	fprintf(f, "# TYPE synbridge_relay_%s %s\n", name, type);
	fprintf(f, "synbridge_relay_%s %" PRIu64 "\n", name, v);
}

/* Connections closed, and new ones refused, by the limit. */
static void
relay_metrics_limits(FILE *f)
{
	static const struct {
		const char *limit;
		uint64_t *n;
	} closed[] = {
		{ "max-unauthenticated", &relay.m.closed_unauth },
		{ "max-connections", &relay.m.closed_total },
		{ "max-per-ip", &relay.m.closed_ip },
		{ "max-per-token", &relay.m.closed_token },
	}, refused[] = {
		{ "max-unauthenticated", &relay.m.refused_unauth },
		{ "max-connections", &relay.m.refused_total },
		{ "max-per-ip", &relay.m.refused_ip },
	};
	size_t i;

	fprintf(f, "# HELP synbridge_relay_closed_limit_total Connections "
	    "closed to make room for newer ones, by the limit.\n"
	    "# TYPE synbridge_relay_closed_limit_total counter\n");
	for (i = 0; i < sizeof closed / sizeof closed[0]; i++)
		fprintf(f, "synbridge_relay_closed_limit_total{limit=\"%s\"} "
		    "%" PRIu64 "\n", closed[i].limit,
		    __atomic_load_n(closed[i].n, __ATOMIC_RELAXED));
	fprintf(f, "# HELP synbridge_relay_refused_total New connections "
	    "refused (closed at once), every other connection in the limit "
	    "having shown a token, by the limit.\n"
	    "# TYPE synbridge_relay_refused_total counter\n");
	for (i = 0; i < sizeof refused / sizeof refused[0]; i++)
		fprintf(f, "synbridge_relay_refused_total{limit=\"%s\"} "
		    "%" PRIu64 "\n", refused[i].limit,
		    __atomic_load_n(refused[i].n, __ATOMIC_RELAXED));
}

/* The /metrics text (a new string of *len bytes). */
char *
relay_metrics_text(size_t *len)
{
	FILE *f;
	char *out = NULL;
	uint64_t mem = 0, spool = 0, ctl = 0, lists = 0, n;
	struct relay_req *req;
	unsigned pending;
	size_t i, code;
	uint32_t j;

	if ((f = open_memstream(&out, len)) == NULL)
		fatal("open_memstream failed");
	pthread_mutex_lock(&relay.lock);
	for (i = 0; i < relay.nsessions; i++) {
		mem += relay.sessions[i]->mem_bytes;
		ctl += relay.sessions[i]->msg_bytes;
		for (j = 0; j < relay.sessions[i]->nstreams; j++)
			spool += relay.sessions[i]->streams[j]->spool_size;
		TAILQ_FOREACH(req, &relay.sessions[i]->polls, entry)
			lists += req->poll_list;
	}
	relay_metrics_streams(f, "batches_total", "Batches stored.", 0);
	relay_metrics_streams(f, "events_total", "Events in stored batches.",
	    1);
	relay_metrics_streams(f, "bytes_total", "Bytes of stored batches.",
	    2);
	relay_metrics_one(f, "gaps_total", "counter",
	    "Gap batches sent to readers.", relay.m.gaps);
	relay_metrics_one(f, "connections", "gauge", "Open connections.",
	    __atomic_load_n(&relay.m.connections, __ATOMIC_RELAXED));
	pthread_mutex_lock(&relay.conn_lock);
	pending = relay.npending;
	pthread_mutex_unlock(&relay.conn_lock);
	relay_metrics_one(f, "connections_unauthenticated", "gauge",
	    "Open connections that have not shown a valid token yet.",
	    pending);
	relay_metrics_one(f, "closed_handshake_total", "counter",
	    "Connections closed for showing no valid token in time.",
	    __atomic_load_n(&relay.m.closed_handshake, __ATOMIC_RELAXED));
	relay_metrics_one(f, "closed_crowded_total", "counter",
	    "Connections closed to make room for newer ones, past any limit "
	    "(see _closed_limit_total).",
	    __atomic_load_n(&relay.m.closed_crowded, __ATOMIC_RELAXED));
	relay_metrics_limits(f);
	relay_metrics_one(f, "memory_bytes", "gauge",
	    "Bytes of batches held in memory, with their overhead.", mem);
	relay_metrics_one(f, "control_bytes", "gauge",
	    "Bytes of control messages held in memory.", ctl);
	relay_metrics_one(f, "buffers_bytes", "gauge",
	    "Bytes of request bodies and answers held (--max-buffers).",
	    __atomic_load_n(&relay.buffers, __ATOMIC_RELAXED));
	relay_metrics_one(f, "busy_total", "counter",
	    "Requests answered 503 for want of --max-buffers.",
	    __atomic_load_n(&relay.m.refused_busy, __ATOMIC_RELAXED));
	relay_metrics_one(f, "publish_held_total", "counter",
	    "Publish body parts that came before an earlier body of their "
	    "stream and waited for it.", relay.m.held_parts);
	relay_metrics_one(f, "streams", "gauge",
	    "Streams registered in all sessions.", relay.nstreams);
	relay_metrics_one(f, "spool_open_files", "gauge",
	    "Stream logs open.", relay.spool_nopen);
	relay_metrics_one(f, "spool_bytes", "gauge",
	    "Bytes of the stream logs in the spool.", spool);
	relay_metrics_one(f, "read_clients", "gauge",
	    "Streaming reads open.", relay.m.read_clients);
	relay_metrics_one(f, "held_lists", "gauge",
	    "Stream lists held until the list changes.", lists);
	pthread_mutex_unlock(&relay.lock);
	relay_metrics_one(f, "spool_syncs_total", "counter",
	    "Syncs of stream logs, control and streams files and session "
	    "directories that answers wait on, counted as each begins.",
	    __atomic_load_n(&relay.m.spool_syncs, __ATOMIC_RELAXED));
	relay_metrics_one(f, "spool_sync_waiting", "gauge",
	    "Publish bodies, messages and stream registrations waiting for "
	    "their spool sync (queued or being synced).",
	    relay_sync_waiting());
	fprintf(f, "# HELP synbridge_relay_requests_total HTTP answers by "
	    "status code.\n");
	fprintf(f, "# TYPE synbridge_relay_requests_total counter\n");
	for (code = 100; code < 600; code++) {
		n = __atomic_load_n(&relay.m.requests[code], __ATOMIC_RELAXED);
		if (n != 0) {
			fprintf(f, "synbridge_relay_requests_total"
			    "{code=\"%zu\"} %" PRIu64 "\n", code, n);
		}
	}
	fclose(f);
	return out;
}

/* The /v1/health lines of a session (a new string of *len bytes). */
char *
relay_metrics_health(struct relay_session *s, size_t *len)
{
	struct relay_site *site;
	FILE *f;
	char *out = NULL;
	int64_t now = relay_now_mono(), age;
	double rate;
	size_t i;

	if ((f = open_memstream(&out, len)) == NULL)
		fatal("open_memstream failed");
	pthread_mutex_lock(&relay.lock);
	for (i = 0; i < s->nsites; i++) {
		site = &s->sites[i];
		rate = site->rate;
		age = now - site->rate_t0;
		if (site->rate_t0 != 0 && age >= 2000000)
			rate = (double)site->rate_events * 1e6 / (double)age;
		if (site->last_seen == 0)
			fprintf(f, "%s - 0 %" PRIu64 " %" PRIu64, site->name,
			    site->batches, site->gaps);
		else
			fprintf(f, "%s %.1f %.0f %" PRIu64 " %" PRIu64,
			    site->name, (double)(now - site->last_seen) / 1e6,
			    rate, site->batches, site->gaps);
		/* then whether its console is there: heard, reading */
		if (site->last_heard == 0)
			fprintf(f, " - %u\n", site->reads);
		else
			fprintf(f, " %.1f %u\n",
			    (double)(now - site->last_heard) / 1e6, site->reads);
	}
	pthread_mutex_unlock(&relay.lock);
	fclose(f);
	return out;
}
