/* test-ring.c: the SPSC event ring and its wake-up fd. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ring.h"

/* Stress size; SB_RING_STRESS_EVENTS overrides it (e.g. under valgrind). */
#define STRESS_EVENTS 5000000
/* Ping-pong rounds for the lost wake-up test. */
#define PINGPONG_ROUNDS 20000
/* How long a consumer waits on the fd before calling a wake-up lost. */
#define WAKE_DEADLINE_MS 5000

/* Monotonic milliseconds. */
static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* xorshift64*: seeded, so every run makes the same choices. */
static uint64_t
next_random(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

/* Is fd readable within timeout_ms? */
static int
fd_readable(int fd, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, timeout_ms) == 1 && (pfd.revents & POLLIN);
}

/* A distinctive event for sequence number seq. */
static void
make_event(struct sb_event *ev, uint32_t seq)
{
	memset(ev, 0, sizeof *ev);
	ev->t_us = (int64_t)seq * 7 + 1;
	ev->index = seq;
	ev->site = (uint16_t)(seq % 3);
	ev->pop = (uint16_t)(seq % 11);
	ev->kind = (uint8_t)(1 + seq % 5);
	ev->aux = (uint8_t)seq;
	ev->count = (uint16_t)(seq >> 3);
	ev->width_us = seq ^ 0x5a5a;
	ev->amplitude = (float)seq * 0.5f;
	ev->g_before = (float)seq + 0.25f;
	ev->g_after = (float)seq - 0.25f;
}

/* Does ev carry every field make_event put in for seq? */
static int
event_is(const struct sb_event *ev, uint32_t seq)
{
	struct sb_event want;

	make_event(&want, seq);
	return memcmp(ev, &want, sizeof want) == 0;
}

/* Capacity is rounded up to a power of two and all of it is usable. */
static void
test_capacity_rounding(void **state)
{
	static const size_t asked[] = { 0, 1, 2, 3, 5, 8, 9, 1000, 1024 };
	static const size_t want[] = { 1, 1, 2, 4, 8, 8, 16, 1024, 1024 };
	struct sb_event ev[1024];
	size_t i, j;

	for (j = 0; j < 1024; j++)
		make_event(&ev[j], (uint32_t)j);
	for (i = 0; i < sizeof asked / sizeof asked[0]; i++) {
		struct sb_ring *r = ring_create(asked[i]);

		assert_non_null(r);
		assert_int_equal(ring_capacity(r), want[i]);
		assert_int_equal(ring_push(r, ev, 1024), want[i]);
		assert_int_equal(ring_count(r), want[i]);
		ring_free(r);
	}
}

/* Pushing into a full ring takes what fits and says how many. */
static void
test_full_partial(void **state)
{
	struct sb_ring *r = ring_create(8);
	struct sb_event ev[8], out[8];
	uint32_t i;

	for (i = 0; i < 8; i++)
		make_event(&ev[i], i);
	assert_int_equal(ring_push(r, ev, 5), 5);
	assert_int_equal(ring_push(r, ev + 5, 5), 3);
	assert_int_equal(ring_push(r, ev, 1), 0);
	assert_int_equal(ring_count(r), 8);

	/* Two slots freed: exactly two more fit. */
	assert_int_equal(ring_pop(r, out, 2), 2);
	assert_true(event_is(&out[0], 0) && event_is(&out[1], 1));
	assert_int_equal(ring_push(r, ev, 5), 2);
	assert_int_equal(ring_push(r, ev, 5), 0);

	/* Popping asks for more than waits: gets what waits. */
	assert_int_equal(ring_pop(r, out, 8), 8);
	assert_true(event_is(&out[5], 7));
	assert_true(event_is(&out[6], 0) && event_is(&out[7], 1));
	assert_int_equal(ring_pop(r, out, 8), 0);
	ring_free(r);
}

/* Events come out in order, intact, across many wrap-arounds. */
static void
test_fifo_wraparound(void **state)
{
	struct sb_ring *r = ring_create(16);
	struct sb_event in[13], out[16];
	uint32_t next_in = 0, next_out = 0;
	uint64_t seed = 42;
	size_t n, i, k;

	for (k = 0; k < 5000; k++) {
		size_t want = 1 + next_random(&seed) % 13;

		for (i = 0; i < want; i++)
			make_event(&in[i], next_in + (uint32_t)i);
		n = ring_push(r, in, want);
		assert_true(n <= want);
		next_in += (uint32_t)n;

		n = ring_pop(r, out, 1 + next_random(&seed) % 16);
		for (i = 0; i < n; i++) {
			assert_true(event_is(&out[i], next_out));
			next_out++;
		}
		assert_int_equal(ring_count(r), next_in - next_out);
	}
	/* Well past one lap of the ring, many times over. */
	assert_true(next_out > 100 * ring_capacity(r));
	while ((n = ring_pop(r, out, 16)) > 0) {
		for (i = 0; i < n; i++)
			assert_true(event_is(&out[i], next_out++));
	}
	assert_int_equal(next_out, next_in);
	ring_free(r);
}

/* Count follows pushes and pops. */
static void
test_count(void **state)
{
	struct sb_ring *r = ring_create(64);
	struct sb_event ev[64];
	uint32_t i;

	for (i = 0; i < 64; i++)
		make_event(&ev[i], i);
	assert_int_equal(ring_count(r), 0);
	ring_push(r, ev, 10);
	assert_int_equal(ring_count(r), 10);
	ring_push(r, ev, 64);
	assert_int_equal(ring_count(r), 64);
	ring_pop(r, ev, 30);
	assert_int_equal(ring_count(r), 34);
	ring_pop(r, ev, 64);
	assert_int_equal(ring_count(r), 0);
	ring_free(r);
}

/* The fd becomes readable after a push and ring_clear_wakeup resets it. */
static void
test_fd_wakeup(void **state)
{
	struct sb_ring *r = ring_create(8);
	struct sb_event ev, out[8];
	int fd = ring_fd(r);

	make_event(&ev, 1);
	assert_true(fd >= 0);
	assert_false(fd_readable(fd, 0));

	/* A fresh ring wakes on its first push. */
	assert_int_equal(ring_push(r, &ev, 1), 1);
	assert_true(fd_readable(fd, 0));
	ring_clear_wakeup(r);
	assert_false(fd_readable(fd, 0));
	assert_int_equal(ring_pop(r, out, 8), 1);

	/* After a clear, the next push wakes it again. */
	assert_int_equal(ring_push(r, &ev, 1), 1);
	assert_true(fd_readable(fd, 0));
	assert_int_equal(ring_push(r, &ev, 1), 1);
	ring_clear_wakeup(r);
	assert_false(fd_readable(fd, 0));
	assert_int_equal(ring_pop(r, out, 8), 2);
	assert_int_equal(ring_push(r, &ev, 1), 1);
	assert_true(fd_readable(fd, 0));

	/* A push that does not fit does not wake. */
	ring_clear_wakeup(r);
	assert_int_equal(ring_pop(r, out, 8), 1);
	assert_int_equal(ring_push(r, out, 0), 0);
	assert_false(fd_readable(fd, 0));
	ring_free(r);
}

struct pingpong {
	struct sb_ring *r;
	uint32_t consumed;	/* written by the consumer, atomically */
	int failed;		/* producer timed out waiting */
};

/* Push one event, wait until it is consumed, with jitter between. */
static void *
pingpong_producer(void *arg)
{
	struct pingpong *pp = arg;
	struct sb_event ev;
	uint64_t seed = 7;
	uint32_t i;
	int64_t deadline;
	volatile unsigned spin;
	unsigned k;

	for (i = 0; i < PINGPONG_ROUNDS; i++) {
		deadline = now_ms() + WAKE_DEADLINE_MS;
		while (__atomic_load_n(&pp->consumed, __ATOMIC_ACQUIRE) != i) {
			if (now_ms() > deadline) {
				pp->failed = 1;
				return NULL;
			}
			sched_yield();
		}
		/* Vary where the push lands in the consumer's cycle. */
		k = next_random(&seed) % 512;
		for (spin = 0; spin < k; spin++)
			;
		make_event(&ev, i);
		if (ring_push(pp->r, &ev, 1) != 1) {
			pp->failed = 1;
			return NULL;
		}
	}
	return NULL;
}

/* A consumer sleeping on the fd always wakes for a pushed event. */
static void
test_no_lost_wakeup(void **state)
{
	struct pingpong pp = { .r = ring_create(4) };
	struct sb_event out[4];
	pthread_t t;
	uint32_t got = 0, lost = 0;
	size_t n;

	assert_int_equal(pthread_create(&t, NULL, pingpong_producer, &pp), 0);
	while (got < PINGPONG_ROUNDS && !pp.failed) {
		n = ring_pop(pp.r, out, 4);
		if (n == 0) {
			if (!fd_readable(ring_fd(pp.r), WAKE_DEADLINE_MS)) {
				lost = got;
				break;
			}
			ring_clear_wakeup(pp.r);
			continue;
		}
		assert_int_equal(n, 1);
		assert_true(event_is(&out[0], got));
		got++;
		__atomic_store_n(&pp.consumed, got, __ATOMIC_RELEASE);
	}
	if (got < PINGPONG_ROUNDS)	/* let the producer give up */
		__atomic_store_n(&pp.consumed, UINT32_MAX, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	if (got != PINGPONG_ROUNDS)
		fail_msg("wake-up lost at event %u of %u", lost,
		    PINGPONG_ROUNDS);
	assert_false(pp.failed);
	ring_free(pp.r);
}

struct stress {
	struct sb_ring *r;
	uint32_t total;
	int failed;
};

/* Push total numbered events in random batches, spinning when full. */
static void *
stress_producer(void *arg)
{
	struct stress *st = arg;
	struct sb_event batch[100];
	uint64_t seed = 12345;
	uint32_t next = 0;
	size_t want, done, i;
	int64_t deadline;

	while (next < st->total) {
		want = 1 + next_random(&seed) % 100;
		if (want > st->total - next)
			want = st->total - next;
		for (i = 0; i < want; i++) {
			memset(&batch[i], 0, sizeof batch[i]);
			batch[i].index = next + (uint32_t)i;
			batch[i].t_us = (int64_t)(next + i) * 3;
		}
		done = 0;
		deadline = now_ms() + WAKE_DEADLINE_MS;
		while (done < want) {
			done += ring_push(st->r, batch + done, want - done);
			if (done < want) {
				if (now_ms() > deadline) {
					st->failed = 1;
					return NULL;
				}
				sched_yield();
			}
		}
		next += (uint32_t)want;
	}
	return NULL;
}

/* Millions of events cross threads exactly once, in order. */
static void
test_stress_two_threads(void **state)
{
	struct stress st = { .r = ring_create(1024), .total = STRESS_EVENTS };
	struct sb_event out[256];
	const char *env = getenv("SB_RING_STRESS_EVENTS");
	uint32_t next = 0, bad = 0, sleeps = 0;
	pthread_t t;
	size_t n, i;

	if (env != NULL)
		st.total = (uint32_t)strtoul(env, NULL, 10);
	assert_int_equal(pthread_create(&t, NULL, stress_producer, &st), 0);
	while (next < st.total) {
		n = ring_pop(st.r, out, 1 + next % 256);
		if (n == 0) {
			if (!fd_readable(ring_fd(st.r), WAKE_DEADLINE_MS))
				break;
			sleeps++;
			ring_clear_wakeup(st.r);
			continue;
		}
		for (i = 0; i < n; i++) {
			if (out[i].index != next ||
			    out[i].t_us != (int64_t)next * 3)
				bad++;
			next++;
		}
	}
	pthread_join(t, NULL);
	assert_false(st.failed);
	assert_int_equal(bad, 0);
	assert_int_equal(next, st.total);
	assert_int_equal(ring_count(st.r), 0);
	ring_free(st.r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_capacity_rounding),
		cmocka_unit_test(test_full_partial),
		cmocka_unit_test(test_fifo_wraparound),
		cmocka_unit_test(test_count),
		cmocka_unit_test(test_fd_wakeup),
		cmocka_unit_test(test_no_lost_wakeup),
		cmocka_unit_test(test_stress_two_threads),
	};
	return cmocka_run_group_tests_name("ring", tests, NULL, NULL);
}
