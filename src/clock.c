/* clock.c: the session clock. */
#include "config.h"

#include <time.h>

#include "clock.h"

/* CLOCK_MONOTONIC in microseconds. */
int64_t
clock_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* CLOCK_REALTIME in microseconds. */
int64_t
clock_real_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void
clock_real_in(struct timespec *ts, int64_t us)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += (time_t)(us / 1000000);
	ts->tv_nsec += (long)(us % 1000000) * 1000;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}

/* Start the session clock at zero. */
void
clock_init(struct sb_clock *c, int fast)
{
	c->fast = fast;
	c->origin_us = clock_mono_us();
	c->virtual_us = 0;
	c->offset_us = 0;
}

/* Session time of a monotonic reading. */
int64_t
clock_from_mono(const struct sb_clock *c, int64_t mono_us)
{
	return mono_us - c->origin_us + __atomic_load_n(&c->offset_us,
	    __ATOMIC_RELAXED);
}

/* Session time now. */
int64_t
clock_now(const struct sb_clock *c)
{
	if (c->fast)
		return __atomic_load_n(&c->virtual_us, __ATOMIC_ACQUIRE);
	return clock_from_mono(c, clock_mono_us());
}

/* Apply a relay offset (the one place where session time is adjusted). */
void
clock_set_offset(struct sb_clock *c, int64_t offset_us)
{
	__atomic_store_n(&c->offset_us, offset_us, __ATOMIC_RELAXED);
}

/* Fast mode: advance virtual time; it never goes backwards. */
void
clock_advance(struct sb_clock *c, int64_t t_us)
{
	if (t_us > c->virtual_us)
		__atomic_store_n(&c->virtual_us, t_us, __ATOMIC_RELEASE);
}
