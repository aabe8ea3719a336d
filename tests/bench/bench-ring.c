/* bench-ring.c: SPSC ring throughput between two threads. */
#include "config.h"

#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ring.h"

#define BENCH_EVENTS 20000000
#define BENCH_CAPACITY 4096

struct bench {
	struct sb_ring *r;
	size_t batch;
	uint64_t total;
	int sleep;		/* empty: sleep on the fd, or sched_yield */
	uint64_t sleeps;
	uint64_t errors;
};

/* Monotonic seconds. */
static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Push total events in batches, spinning when the ring is full. */
static void *
bench_producer(void *arg)
{
	struct bench *b = arg;
	struct sb_event *ev = calloc(b->batch, sizeof *ev);
	uint64_t next = 0;
	size_t i, done, want;

	while (next < b->total) {
		want = b->batch;
		if (want > b->total - next)
			want = b->total - next;
		for (i = 0; i < want; i++)
			ev[i].index = (uint32_t)(next + i);
		done = 0;
		while (done < want) {
			done += ring_push(b->r, ev + done, want - done);
			if (done < want)
				sched_yield();
		}
		next += want;
	}
	free(ev);
	return NULL;
}

/* Run one configuration; returns M events/s. */
static double
bench_run(size_t batch, int sleep)
{
	struct bench b = { .batch = batch, .sleep = sleep };
	struct sb_event *out = calloc(batch, sizeof *out);
	struct pollfd pfd;
	pthread_t t;
	uint64_t next = 0;
	size_t i, n;
	double start, secs;

	b.r = ring_create(BENCH_CAPACITY);
	b.total = BENCH_EVENTS;
	if (batch == 1)
		b.total /= 4;
	pfd.fd = ring_fd(b.r);
	pfd.events = POLLIN;

	start = now_s();
	pthread_create(&t, NULL, bench_producer, &b);
	while (next < b.total) {
		n = ring_pop(b.r, out, batch);
		if (n == 0) {
			if (b.sleep) {
				poll(&pfd, 1, 1000);
				ring_clear_wakeup(b.r);
				b.sleeps++;
			} else
				sched_yield();
			continue;
		}
		for (i = 0; i < n; i++) {
			if (out[i].index != (uint32_t)(next + i))
				b.errors++;
		}
		next += n;
	}
	pthread_join(t, NULL);
	secs = now_s() - start;

	printf("ring: batch %4zu, consumer %-5s: %7.1f M events/s "
	    "(%llu events in %.3f s, %llu sleeps%s)\n", batch,
	    sleep ? "poll" : "yield", b.total / secs / 1e6,
	    (unsigned long long)b.total, secs,
	    (unsigned long long)b.sleeps, b.errors ? ", ORDER ERRORS" : "");
	ring_free(b.r);
	free(out);
	return b.total / secs / 1e6;
}

int
main(void)
{
	static const size_t batches[] = { 1, 16, 256 };
	double load[3];
	size_t i;

	printf("ring: capacity %d, %zu-byte events, two threads\n",
	    BENCH_CAPACITY, sizeof(struct sb_event));
	if (getloadavg(load, 1) == 1)
		printf("ring: load average %.2f on this machine\n", load[0]);
	for (i = 0; i < sizeof batches / sizeof batches[0]; i++) {
		bench_run(batches[i], 0);
		bench_run(batches[i], 1);
	}
	return 0;
}
