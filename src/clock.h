/*
 * clock.h: the session clock. Microseconds of CLOCK_MONOTONIC since the
 * session started, plus an offset that a relay transport supplies so that
 * every site speaks session (relay) time. In fast mode the engine drives a
 * virtual time instead and simulators run faster than real time.
 */
#ifndef SB_CLOCK_H
#define SB_CLOCK_H

#include <stdint.h>
#include <time.h>

struct sb_clock {
	int fast;		/* virtual time, advanced by the engine */
	int64_t origin_us;	/* CLOCK_MONOTONIC at session start */
	int64_t virtual_us;	/* fast mode: current session time */
	int64_t offset_us;	/* added to local time (relay offset) */
};

/* CLOCK_MONOTONIC in microseconds. */
int64_t clock_mono_us(void);
int64_t clock_real_us(void);	/* CLOCK_REALTIME */
/* CLOCK_REALTIME us from now, as pthread_cond_timedwait takes it. */
void clock_real_in(struct timespec *ts, int64_t us);
void clock_init(struct sb_clock *c, int fast);
/* Session time now, in microseconds. */
int64_t clock_now(const struct sb_clock *c);
/* Session time of a CLOCK_MONOTONIC reading taken at the source. */
int64_t clock_from_mono(const struct sb_clock *c, int64_t mono_us);
/* Apply an offset estimate from the relay (local -> session time). */
void clock_set_offset(struct sb_clock *c, int64_t offset_us);
/* Fast mode: move virtual time forward to t_us. */
void clock_advance(struct sb_clock *c, int64_t t_us);

#endif
