/* ring.c: bounded single-producer/single-consumer event ring. */
#include "config.h"

#include <sys/eventfd.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ring.h"
#include "xmalloc.h"

/*
 * Indices are free-running 64-bit counters (they never wrap in practice);
 * the slot of index i is i & mask. tail - head is the number of events
 * waiting. The producer owns tail, the consumer owns head; each side keeps
 * a private copy of the other's index and reloads it only when its copy
 * says the ring is full (producer) or empty (consumer), so in the steady
 * state the two threads touch each other's cache line once per batch.
 *
 * Wake-up protocol (no write() per push, no lost wake-up):
 *
 *   consumer, ring_clear_wakeup:      producer, ring_push:
 *     read(fd)       (reset it)         copy events, store tail (release)
 *     armed = 1                         full fence
 *     full fence                        if (armed && xchg(armed, 0))
 *   then ring_pop until empty               write(fd)
 *   (loads tail), then poll(fd)
 *
 * This is the store-buffering (Dekker) pattern: each side stores, fences,
 * then loads what the other side stored. The two fences are totally
 * ordered, so at least one side sees the other's store: either the
 * consumer's pops see the new tail and take the events, or the producer
 * sees armed == 1 and writes the fd after the consumer read it, so the
 * next poll() returns at once. An event can therefore never sit in the
 * ring while the consumer sleeps on an unreadable fd.
 *
 * The producer clears armed when it writes, so it makes at most one
 * write() per consumer wake-up cycle however many pushes it makes; a
 * write that races with a drain only causes one spurious wake-up (poll
 * returns, ring_pop finds nothing). armed starts at 1, so the first push
 * into a new ring wakes a consumer that never called ring_clear_wakeup.
 *
 * The consumer must pop until ring_pop returns fewer than it asked for
 * before it sleeps on the fd again; one that stops early (a budget per
 * pass) must come back without waiting, e.g. when ring_count() > 0.
 */

#define RING_CACHE_LINE 64

struct sb_ring {
	/* Read-only after ring_create. */
	struct sb_event *slots;
	size_t mask;
	int fd;

	/* Producer line: its index and its copy of the consumer's. */
	_Alignas(RING_CACHE_LINE) size_t tail;
	size_t head_cache;

	/* Consumer line: its index and its copy of the producer's. */
	_Alignas(RING_CACHE_LINE) size_t head;
	size_t tail_cache;

	/* Wake-up line: set by the consumer, cleared by the producer. */
	_Alignas(RING_CACHE_LINE) int armed;
	char pad[RING_CACHE_LINE - sizeof(int)];
};

/* Create a ring holding at least capacity events (rounded up to 2^k). */
struct sb_ring *
ring_create(size_t capacity)
{
	struct sb_ring *r;
	void *p;
	size_t size = 1;
	int fd, error;

	if (capacity > SIZE_MAX / 2 / sizeof(struct sb_event)) {
		errno = EINVAL;
		return NULL;
	}
	while (size < capacity)
		size <<= 1;

	fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (fd == -1)
		return NULL;

	error = posix_memalign(&p, RING_CACHE_LINE, sizeof *r);
	if (error != 0)
		fatal("out of memory (ring of %zu bytes)", sizeof *r);
	r = p;
	memset(r, 0, sizeof *r);
	r->slots = xcalloc(size, sizeof *r->slots);
	r->mask = size - 1;
	r->fd = fd;
	r->armed = 1;
	return r;
}

/* Free a ring; both threads must be done with it. */
void
ring_free(struct sb_ring *r)
{
	if (r == NULL)
		return;
	close(r->fd);
	free(r->slots);
	free(r);
}

/* Producer: push up to n events; returns how many fitted. Wakes the fd. */
size_t
ring_push(struct sb_ring *r, const struct sb_event *ev, size_t n)
{
	size_t size = r->mask + 1, tail = r->tail, space, first, at;
	uint64_t one = 1;

	space = size - (tail - r->head_cache);
	if (space < n) {
		r->head_cache = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
		space = size - (tail - r->head_cache);
	}
	if (n > space)
		n = space;
	if (n == 0)
		return 0;

	at = tail & r->mask;
	first = size - at;
	if (first > n)
		first = n;
	memcpy(&r->slots[at], ev, first * sizeof *ev);
	if (n > first)
		memcpy(&r->slots[0], ev + first, (n - first) * sizeof *ev);
	__atomic_store_n(&r->tail, tail + n, __ATOMIC_RELEASE);

	/* Pairs with the fence in ring_clear_wakeup: see the comment above. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__atomic_load_n(&r->armed, __ATOMIC_RELAXED) &&
	    __atomic_exchange_n(&r->armed, 0, __ATOMIC_RELAXED)) {
		/* EAGAIN only if the counter is near 2^64: already readable. */
		while (write(r->fd, &one, sizeof one) == -1 && errno == EINTR)
			;
	}
	return n;
}

/* Consumer: pop up to max events into out; returns how many. */
size_t
ring_pop(struct sb_ring *r, struct sb_event *out, size_t max)
{
	size_t size = r->mask + 1, head = r->head, avail, first, at, n;

	avail = r->tail_cache - head;
	if (avail < max) {
		r->tail_cache = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
		avail = r->tail_cache - head;
	}
	n = avail < max ? avail : max;
	if (n == 0)
		return 0;

	at = head & r->mask;
	first = size - at;
	if (first > n)
		first = n;
	memcpy(out, &r->slots[at], first * sizeof *out);
	if (n > first)
		memcpy(out + first, &r->slots[0], (n - first) * sizeof *out);
	__atomic_store_n(&r->head, head + n, __ATOMIC_RELEASE);
	return n;
}

/* Readable when events may be waiting. */
int
ring_fd(const struct sb_ring *r)
{
	return r->fd;
}

/* Consumer: reset the wake-up fd and arm it before draining. */
void
ring_clear_wakeup(struct sb_ring *r)
{
	uint64_t value;

	while (read(r->fd, &value, sizeof value) == -1 && errno == EINTR)
		;
	__atomic_store_n(&r->armed, 1, __ATOMIC_RELAXED);
	/* Pairs with the fence in ring_push: see the comment above. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* Number of slots. */
size_t
ring_capacity(const struct sb_ring *r)
{
	return r->mask + 1;
}

/* Events waiting (approximate when called from a third thread). */
size_t
ring_count(const struct sb_ring *r)
{
	size_t head, tail, n;

	/* Head first: the later tail can only be ahead of it. */
	head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
	tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
	n = tail - head;
	return n > r->mask + 1 ? r->mask + 1 : n;
}
