/*
 * bench-mqtt.c: the relay benchmark's peer, a mosquitto broker over TLS
 * with QoS 1 (see bench-mqtt.h). The broker keeps its defaults except
 * what the comparison needs: no limit on queued messages (the default
 * 1000 drops QoS 1 messages silently under a fast publisher; the
 * publisher here keeps at most 4 M events in flight, as bench-relay
 * does), TCP_NODELAY as the relay sets it, and no persistence.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench-mqtt.h"

#ifndef HAVE_MOSQUITTO

/* Built without libmosquitto. */
int
bench_mqtt_start(const char *certdir, const char **version, char **why)
{
	*version = "mosquitto";
	*why = strdup("skipped (install mosquitto libmosquitto-dev, then "
	    "run configure again)");
	return (-1);
}

int
bench_mqtt_throughput(const char *name, uint32_t batch, uint32_t n,
    struct bench_tp *t)
{
	memset(t, 0, sizeof *t);
	return (-1);
}

int
bench_mqtt_latency_paced(const char *name, int seconds, int handover,
    struct bench_pace pace, struct bench_lat *l)
{
	memset(l, 0, sizeof *l);
	return (-1);
}

int
bench_mqtt_port(void)
{
	return (0);
}

void
bench_mqtt_via(int port)
{
}

void
bench_mqtt_stop(void)
{
}

#else

#include <sys/socket.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <mosquitto.h>
#include <netinet/in.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "wire.h"

#define BENCH_MQTT_INFLIGHT 4000000	/* events sent, not yet received */
#define BENCH_MQTT_MAX_BATCH 8192

/* The broker. */
static struct {
	pid_t	 pid;
	int	 port;
	char	 dir[64];
	char	 ca[128];
	char	 version[64];
} bench_broker;

static int bench_mqtt_via_port;	/* clients connect here, if not 0 */

/* The broker's port (to put a proxy in front of it). */
int
bench_mqtt_port(void)
{
	return (bench_broker.port);
}

/* Clients connect to port (a proxy) instead of the broker's; 0: direct. */
void
bench_mqtt_via(int port)
{
	bench_mqtt_via_port = port;
}

/* What the subscriber saw (its callbacks run in its loop thread). */
struct bench_mqtt_sub {
	pthread_mutex_t	 lock;
	pthread_cond_t	 cond;
	int		 subscribed;
	int		 settled;
	uint64_t	 got, want;
	uint64_t	 next_seq, next_index, disorder, bad;
	double		*lat;		/* latency samples (us), or NULL */
	size_t		 nlat, caplat;
	int		 handover;	/* lat[ntaken..nlat) are send times
					 * the sending thread has not taken */
	size_t		 ntaken;
	int64_t		 from_us;	/* events sent before: not measured */
	struct sb_event	*ev;
};

/* A program from PATH or the sbin directories, or NULL. */
static char *
bench_mqtt_program(const char *name)
{
	const char	*path = getenv("PATH");
	char		*dirs, *d, *save = NULL, *p;

	if (asprintf(&dirs, "%s:/usr/sbin:/usr/local/sbin:/sbin",
	    path != NULL ? path : "/usr/bin") < 0)
		return (NULL);
	for (d = strtok_r(dirs, ":", &save); d != NULL;
	    d = strtok_r(NULL, ":", &save)) {
		if (asprintf(&p, "%s/%s", d, name) < 0)
			break;
		if (access(p, X_OK) == 0) {
			free(dirs);
			return (p);
		}
		free(p);
	}
	free(dirs);
	return (NULL);
}

/* A free port on 127.0.0.1 (the broker binds it right after). */
static int
bench_mqtt_free_port(void)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof sin;
	int			fd, port = -1;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return (-1);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof sin) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sin, &len) == 0)
		port = ntohs(sin.sin_port);
	close(fd);
	return (port);
}

/* Does something listen on 127.0.0.1:port? */
static int
bench_mqtt_listening(int port)
{
	struct sockaddr_in	sin;
	int			fd, ok;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return (0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)port);
	ok = connect(fd, (struct sockaddr *)&sin, sizeof sin) == 0;
	close(fd);
	return (ok);
}

/* Copy a file; 0 or -1. */
static int
bench_mqtt_copy(const char *from, const char *to)
{
	char	 buf[8192];
	size_t	 n;
	FILE	*in, *out;
	int	 rc = 0;

	if ((in = fopen(from, "r")) == NULL)
		return (-1);
	if ((out = fopen(to, "w")) == NULL) {
		fclose(in);
		return (-1);
	}
	while ((n = fread(buf, 1, sizeof buf, in)) > 0) {
		if (fwrite(buf, 1, n, out) != n)
			rc = -1;
	}
	fclose(in);
	if (fclose(out) != 0)
		rc = -1;
	return (rc);
}

/* The broker's first log line, for an error. */
static void
bench_mqtt_why_log(char **why, const char *what)
{
	char	 path[128], line[256] = "";
	FILE	*f;

	snprintf(path, sizeof path, "%s/log", bench_broker.dir);
	if ((f = fopen(path, "r")) != NULL) {
		if (fgets(line, sizeof line, f) == NULL)
			line[0] = '\0';
		fclose(f);
	}
	line[strcspn(line, "\n")] = '\0';
	if (asprintf(why, "%s%s%s", what, line[0] != '\0' ? ": " : "",
	    line) < 0)
		*why = NULL;
}

/* Write the broker's configuration; 0 or -1. */
static int
bench_mqtt_config(const char *path)
{
	struct passwd	*pw = getpwuid(getuid());
	FILE		*f;

	if ((f = fopen(path, "w")) == NULL)
		return (-1);
	fprintf(f, "per_listener_settings false\n"
	    "allow_anonymous true\n"
	    "persistence false\n"
	    "max_queued_messages 0\n"
	    "max_inflight_messages 0\n"
	    "set_tcp_nodelay true\n"
	    "log_dest file %s/log\n"
	    "log_type error\n"
	    "log_type warning\n"
	    "listener %d 127.0.0.1\n"
	    /*
	     * The relay's cipher (AES-128-GCM first, the relay choosing):
	     * left to OpenSSL's defaults the pair would use AES-256-GCM,
	     * a slower cipher than the relay's.
	     */
	    "ciphers_tls1.3 TLS_AES_128_GCM_SHA256\n"
	    "certfile %s/cert.pem\n"
	    "keyfile %s/key.pem\n", bench_broker.dir, bench_broker.port,
	    bench_broker.dir, bench_broker.dir);
	/* as root it would switch to the user "mosquitto": stay */
	if (pw != NULL)
		fprintf(f, "user %s\n", pw->pw_name);
	return (fclose(f));
}

/* Start the broker with certdir's certificate. */
int
bench_mqtt_start(const char *certdir, const char **version, char **why)
{
	char		*prog, conf[128], from[256], to[128];
	int64_t		 deadline;
	struct timespec	 nap = { 0, 10000000 };
	int		 major, minor, rev, fd;

	mosquitto_lib_version(&major, &minor, &rev);
	snprintf(bench_broker.version, sizeof bench_broker.version,
	    "mosquitto (libmosquitto %d.%d.%d)", major, minor, rev);
	*version = bench_broker.version;
	if ((prog = bench_mqtt_program("mosquitto")) == NULL) {
		*why = strdup("skipped (install mosquitto libmosquitto-dev: "
		    "no mosquitto program in PATH or /usr/sbin)");
		return (-1);
	}
	snprintf(bench_broker.dir, sizeof bench_broker.dir,
	    "/tmp/bench-mqtt-XXXXXX");
	if (mkdtemp(bench_broker.dir) == NULL) {
		free(prog);
		*why = strdup("cannot make a directory in /tmp");
		return (-1);
	}
	snprintf(from, sizeof from, "%s/cert.pem", certdir);
	snprintf(to, sizeof to, "%s/cert.pem", bench_broker.dir);
	snprintf(bench_broker.ca, sizeof bench_broker.ca, "%s", to);
	if (bench_mqtt_copy(from, to) != 0) {
		free(prog);
		*why = strdup("cannot copy the throw-away certificate");
		return (-1);
	}
	snprintf(from, sizeof from, "%s/key.pem", certdir);
	snprintf(to, sizeof to, "%s/key.pem", bench_broker.dir);
	snprintf(conf, sizeof conf, "%s/mosquitto.conf", bench_broker.dir);
	if (bench_mqtt_copy(from, to) != 0 ||
	    (bench_broker.port = bench_mqtt_free_port()) <= 0 ||
	    bench_mqtt_config(conf) != 0) {
		free(prog);
		*why = strdup("cannot write the broker's configuration");
		return (-1);
	}
	if ((bench_broker.pid = fork()) == 0) {
		fd = open("/dev/null", O_WRONLY);
		dup2(fd, 1);
		dup2(fd, 2);
		execl(prog, prog, "-c", conf, (char *)NULL);
		_exit(127);
	}
	free(prog);
	mosquitto_lib_init();
	deadline = bench_mono_us() + 10000000;
	while (!bench_mqtt_listening(bench_broker.port)) {
		if (waitpid(bench_broker.pid, NULL, WNOHANG) ==
		    bench_broker.pid || bench_mono_us() > deadline) {
			bench_mqtt_why_log(why, "the mosquitto broker did not "
			    "start");
			bench_mqtt_stop();
			return (-1);
		}
		nanosleep(&nap, NULL);
	}
	return (0);
}

/* Stop the broker and remove its directory. */
void
bench_mqtt_stop(void)
{
	char	cmd[128];

	if (bench_broker.pid > 0) {
		kill(bench_broker.pid, SIGTERM);
		waitpid(bench_broker.pid, NULL, 0);
		bench_broker.pid = 0;
		mosquitto_lib_cleanup();
	}
	if (strncmp(bench_broker.dir, "/tmp/bench-mqtt-", 16) == 0) {
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", bench_broker.dir);
		if (system(cmd) != 0)
			fprintf(stderr, "bench-mqtt: could not remove %s\n",
			    bench_broker.dir);
		bench_broker.dir[0] = '\0';
	}
}

/* The subscriber got a message: one batch (or the settling message). */
static void
bench_mqtt_on_message(struct mosquitto *m, void *obj,
    const struct mosquitto_message *msg)
{
	struct bench_mqtt_sub	*s = obj;
	struct wire_header	 h;
	size_t			 used, i;
	int64_t			 now = bench_mono_us();

	if (msg->payloadlen < WIRE_HEADER_SIZE) {
		pthread_mutex_lock(&s->lock);
		s->settled = 1;
		pthread_cond_broadcast(&s->cond);
		pthread_mutex_unlock(&s->lock);
		return;
	}
	if (wire_decode(msg->payload, (size_t)msg->payloadlen, &h, s->ev,
	    BENCH_MQTT_MAX_BATCH, &used, NULL) != 0) {
		pthread_mutex_lock(&s->lock);
		s->bad++;
		pthread_mutex_unlock(&s->lock);
		return;
	}
	if (h.seq != s->next_seq)
		s->disorder++;
	s->next_seq = h.seq + 1;
	for (i = 0; i < h.event_count; i++) {
		if (s->ev[i].index != (uint32_t)s->next_index)
			s->disorder++;
		s->next_index = s->ev[i].index + 1;
		if (s->lat != NULL && s->nlat < s->caplat && !s->handover &&
		    s->ev[i].t_us >= s->from_us)
			s->lat[s->nlat++] = (double)(now - s->ev[i].t_us);
	}
	pthread_mutex_lock(&s->lock);
	for (i = 0; s->handover && i < h.event_count &&
	    s->nlat < s->caplat; i++) {
		if (s->ev[i].t_us >= s->from_us)
			s->lat[s->nlat++] = (double)s->ev[i].t_us;
	}
	s->got += h.event_count;
	if (s->got >= s->want || s->handover)
		pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

/* The subscription is in place. */
static void
bench_mqtt_on_subscribe(struct mosquitto *m, void *obj, int mid, int n,
    const int *qos)
{
	struct bench_mqtt_sub	*s = obj;

	pthread_mutex_lock(&s->lock);
	s->subscribed = 1;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

/* Wait (lock held) until *flag is set or the deadline passes. */
static void
bench_mqtt_wait_flag(struct bench_mqtt_sub *s, int *flag, int64_t deadline)
{
	struct timespec	ts;

	while (!*flag && bench_mono_us() < deadline) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += 10000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&s->cond, &s->lock, &ts);
	}
}

/* Wait until at least want events arrived or the deadline passes. */
static uint64_t
bench_mqtt_wait_got(struct bench_mqtt_sub *s, uint64_t want, int64_t deadline)
{
	struct timespec	ts;
	uint64_t	got;

	pthread_mutex_lock(&s->lock);
	s->want = want;
	while (s->got < want && bench_mono_us() < deadline) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += 10000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&s->cond, &s->lock, &ts);
	}
	got = s->got;
	pthread_mutex_unlock(&s->lock);
	return (got);
}

/* Connect a client over TLS and start its network thread; 0 or -1. */
static int
bench_mqtt_connect(struct mosquitto *m, const char *id)
{
	int	rc;

	mosquitto_int_option(m, MOSQ_OPT_TCP_NODELAY, 1);
	/*
	 * Over a long link, no window of messages awaiting PUBACK (20 by
	 * default; the broker has none): that window, not the network,
	 * would bound the rate to 20 messages per round trip. On loopback
	 * the default, which is faster there (0.5 M against 2.5 M events/s
	 * at 100 per batch without it).
	 */
	mosquitto_max_inflight_messages_set(m, bench_mqtt_via_port != 0 ?
	    0 : 20);
	if ((rc = mosquitto_tls_set(m, bench_broker.ca, NULL, NULL, NULL,
	    NULL)) != MOSQ_ERR_SUCCESS ||
	    (rc = mosquitto_connect(m, "127.0.0.1", bench_mqtt_via_port != 0 ?
	    bench_mqtt_via_port : bench_broker.port, 60)) !=
	    MOSQ_ERR_SUCCESS || (rc = mosquitto_loop_start(m)) !=
	    MOSQ_ERR_SUCCESS) {
		fprintf(stderr, "bench-mqtt: %s: %s\n", id,
		    mosquitto_strerror(rc));
		return (-1);
	}
	return (0);
}

/* Disconnect and free a client. */
static void
bench_mqtt_close(struct mosquitto *m)
{
	if (m == NULL)
		return;
	mosquitto_disconnect(m);
	mosquitto_loop_stop(m, false);
	mosquitto_destroy(m);
}

/*
 * A subscriber on topic and a publisher, with one message through them
 * both so that the run starts on warm connections; 0 or -1.
 */
static int
bench_mqtt_pair(const char *topic, struct bench_mqtt_sub *s,
    struct mosquitto **sub, struct mosquitto **pub)
{
	int64_t	deadline = bench_mono_us() + 5000000;
	int	ok;

	memset(s, 0, sizeof *s);
	pthread_mutex_init(&s->lock, NULL);
	{
		pthread_condattr_t	a;

		pthread_condattr_init(&a);
		pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
		pthread_cond_init(&s->cond, &a);
		pthread_condattr_destroy(&a);
	}
	s->next_seq = 1;
	s->want = UINT64_MAX;
	s->ev = calloc(BENCH_MQTT_MAX_BATCH, sizeof *s->ev);
	*pub = NULL;
	/* the callbacks are set before its loop starts */
	if ((*sub = mosquitto_new("bench-sub", true, s)) == NULL)
		return (-1);
	mosquitto_message_callback_set(*sub, bench_mqtt_on_message);
	mosquitto_subscribe_callback_set(*sub, bench_mqtt_on_subscribe);
	if (bench_mqtt_connect(*sub, "bench-sub") != 0)
		return (-1);
	if (mosquitto_subscribe(*sub, NULL, topic, 1) != MOSQ_ERR_SUCCESS)
		return (-1);
	pthread_mutex_lock(&s->lock);
	bench_mqtt_wait_flag(s, &s->subscribed, deadline);
	pthread_mutex_unlock(&s->lock);
	if ((*pub = mosquitto_new("bench-pub", true, NULL)) == NULL ||
	    bench_mqtt_connect(*pub, "bench-pub") != 0)
		return (-1);
	/* settle: a short message through both connections */
	while (bench_mono_us() < deadline) {
		mosquitto_publish(*pub, NULL, topic, 5, "hello", 1, false);
		pthread_mutex_lock(&s->lock);
		bench_mqtt_wait_flag(s, &s->settled,
		    bench_mono_us() + 500000);
		ok = s->settled;
		pthread_mutex_unlock(&s->lock);
		if (ok)
			return (0);
	}
	return (-1);
}

/* Free the pair. */
static void
bench_mqtt_unpair(struct bench_mqtt_sub *s, struct mosquitto *sub,
    struct mosquitto *pub)
{
	bench_mqtt_close(pub);
	bench_mqtt_close(sub);
	free(s->ev);
	free(s->lat);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cond);
}

/* Encode and publish one batch; 0 or -1. */
static int
bench_mqtt_publish(struct mosquitto *pub, const char *topic, uint8_t *buf,
    size_t cap, uint64_t seq, const struct sb_event *ev, size_t n)
{
	struct wire_header	h;
	size_t			len;

	memset(&h, 0, sizeof h);
	h.session_id = 1;
	h.stream_id = 1;
	h.seq = seq;
	if ((len = wire_encode(buf, cap, &h, ev, n)) == 0)
		return (-1);
	return (mosquitto_publish(pub, NULL, topic, (int)len, buf, 1,
	    false) == MOSQ_ERR_SUCCESS ? 0 : -1);
}

/* n events in batches of batch, as fast as they go. */
int
bench_mqtt_throughput(const char *name, uint32_t batch, uint32_t n,
    struct bench_tp *t)
{
	struct bench_mqtt_sub	 s;
	struct mosquitto	*sub, *pub;
	struct sb_event		*ev;
	char			 topic[64];
	uint8_t			*buf;
	size_t			 cap;
	uint64_t		 seq = 1, got;
	uint32_t		 i, j;
	int64_t			 t0, t1;
	double			 cpu0;
	struct bench_cpu0	 c0;
	int			 rc = 0;

	memset(t, 0, sizeof *t);
	snprintf(topic, sizeof topic, "sb/%s", name);
	if (bench_mqtt_pair(topic, &s, &sub, &pub) != 0) {
		bench_mqtt_unpair(&s, sub, pub);
		return (-1);
	}
	ev = calloc(batch, sizeof *ev);
	cap = WIRE_HEADER_SIZE + (size_t)batch * WIRE_RECORD_MAX;
	buf = malloc(cap);
	cpu0 = bench_thread_cpu();
	bench_tp_cpu_start(&c0, bench_broker.pid);
	t0 = bench_mono_us();
	for (i = 0; i < n && rc == 0; i += batch) {
		for (j = 0; j < batch; j++) {
			ev[j].t_us = 1000 + i + j;
			ev[j].kind = SB_EV_SPIKE;
			ev[j].index = i + j;
		}
		rc = bench_mqtt_publish(pub, topic, buf, cap, seq++, ev,
		    batch);
		/* back-pressure: a few million in flight, as bench-relay */
		if (i + batch > BENCH_MQTT_INFLIGHT)
			bench_mqtt_wait_got(&s, i + batch -
			    BENCH_MQTT_INFLIGHT, t0 + 60000000);
	}
	got = bench_mqtt_wait_got(&s, n, bench_mono_us() + 60000000);
	t1 = bench_mono_us();
	t->n = n;
	t->got = got;
	t->secs = (double)(t1 - t0) / 1e6;
	t->per_s = (double)got / t->secs;
	t->in_order = s.disorder == 0 && s.bad == 0;
	t->harness = (bench_thread_cpu() - cpu0) / t->secs;
	bench_tp_cpu_end(&c0, bench_broker.pid, t);
	free(ev);
	free(buf);
	bench_mqtt_unpair(&s, sub, pub);
	return (rc);
}

/* 100 events every 1 ms for seconds s: latency of each. */
/*
 * The sending thread (lock held): take what the subscriber handed over,
 * then wait for more until the deadline.
 */
static void
bench_mqtt_take(struct bench_mqtt_sub *s, int64_t until)
{
	struct timespec	at;
	int64_t		now;

	at.tv_sec = (time_t)(until / 1000000);
	at.tv_nsec = (long)(until % 1000000) * 1000;
	for (;;) {
		now = bench_mono_us();
		for (; s->ntaken < s->nlat; s->ntaken++)
			s->lat[s->ntaken] = (double)now - s->lat[s->ntaken];
		if (now >= until)
			return;
		pthread_cond_timedwait(&s->cond, &s->lock, &at);
	}
}

int
bench_mqtt_latency_paced(const char *name, int seconds, int handover,
    struct bench_pace pace, struct bench_lat *l)
{
	struct bench_mqtt_sub	 s;
	struct mosquitto	*sub, *pub;
	struct sb_event		 ev[100];
	struct timespec		 at;
	char			 topic[64];
	uint8_t			 buf[WIRE_HEADER_SIZE + 100 * WIRE_RECORD_MAX];
	uint64_t		 seq = 1, sent = 0;
	uint32_t		 k = 0, j;
	int64_t			 next, end;

	memset(l, 0, sizeof *l);
	snprintf(topic, sizeof topic, "sb/%s", name);
	if (bench_mqtt_pair(topic, &s, &sub, &pub) != 0) {
		bench_mqtt_unpair(&s, sub, pub);
		return (-1);
	}
	s.caplat = (size_t)seconds * 100000 + 1000;
	s.lat = calloc(s.caplat, sizeof *s.lat);
	memset(ev, 0, sizeof ev);
	next = bench_mono_us();
	pthread_mutex_lock(&s.lock);
	s.handover = handover;
	s.from_us = next + pace.warm_us;
	pthread_mutex_unlock(&s.lock);
	end = next + pace.warm_us + (int64_t)seconds * 1000000;
	while (next < end) {
		if (handover) {
			pthread_mutex_lock(&s.lock);
			bench_mqtt_take(&s, next);
			pthread_mutex_unlock(&s.lock);
		} else {
			at.tv_sec = (time_t)(next / 1000000);
			at.tv_nsec = (long)(next % 1000000) * 1000;
			clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at,
			    NULL);
		}
		for (j = 0; j < (uint32_t)pace.per_send; j++) {
			ev[j].t_us = bench_mono_us();
			ev[j].kind = SB_EV_SPIKE;
			ev[j].index = k++;
		}
		bench_mqtt_publish(pub, topic, buf, sizeof buf, seq++, ev,
		    (uint32_t)pace.per_send);
		sent += (uint64_t)pace.per_send;
		next += bench_pace_next(&pace);
	}
	end = bench_mono_us() + 5000000;
	pthread_mutex_lock(&s.lock);
	/* the rest as it comes (the subscriber signals every message) */
	while (handover && s.got < sent && bench_mono_us() < end)
		bench_mqtt_take(&s, bench_mono_us() + 1000);
	pthread_mutex_unlock(&s.lock);
	bench_mqtt_wait_got(&s, sent, end);
	pthread_mutex_lock(&s.lock);
	if (handover)
		bench_mqtt_take(&s, 0);
	bench_lat_from(l, s.lat, s.nlat);
	pthread_mutex_unlock(&s.lock);
	bench_mqtt_unpair(&s, sub, pub);
	return (0);
}

#endif /* HAVE_MOSQUITTO */

/* 100 events every 1 ms (BENCH_PACE_STEADY). */
int
bench_mqtt_latency(const char *name, int seconds, int handover,
    struct bench_lat *l)
{
	struct bench_pace	steady = BENCH_PACE_STEADY;

	return (bench_mqtt_latency_paced(name, seconds, handover, steady, l));
}
