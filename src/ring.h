/*
 * ring.h: bounded single-producer/single-consumer event ring with a
 * wake-up fd, for backend thread -> engine hand-over.
 *
 * One thread pushes, one thread pops; neither blocks. The consumer polls
 * ring_fd() for POLLIN, calls ring_clear_wakeup(), then pops until empty
 * (ring_pop returns fewer than asked) before it polls again; a consumer
 * that stops draining early must not wait on the fd (check ring_count).
 * The producer writes the fd at most once per consumer wake-up; the
 * protocol that makes this safe is described in ring.c.
 */
#ifndef SB_RING_H
#define SB_RING_H

#include <stddef.h>
#include <stdint.h>

#include "synbridge-plugin.h"

struct sb_ring;

/*
 * Create a ring holding at least capacity events (rounded up to 2^k).
 * NULL with errno set if no eventfd can be made (EMFILE) or capacity is
 * absurd (EINVAL).
 */
struct sb_ring *ring_create(size_t capacity);
void ring_free(struct sb_ring *r);

/* Producer: push up to n events; returns how many fitted. Wakes the fd. */
size_t ring_push(struct sb_ring *r, const struct sb_event *ev, size_t n);
/* Consumer: pop up to max events into out; returns how many. */
size_t ring_pop(struct sb_ring *r, struct sb_event *out, size_t max);

/* Readable when events may be waiting. */
int ring_fd(const struct sb_ring *r);
/* Consumer: reset the wake-up fd before draining. */
void ring_clear_wakeup(struct sb_ring *r);

size_t ring_capacity(const struct sb_ring *r);
/* Events waiting (approximate when called from a third thread). */
size_t ring_count(const struct sb_ring *r);

#endif
