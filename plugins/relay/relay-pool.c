/*
 * relay-pool.c: record buffers handed back and forth between the network
 * thread (which checks each batch and keeps its records there, 12 to 30
 * bytes an event) and the engine thread (which decodes them where it
 * delivers them, and gives the buffer back). Keeping a few avoids a large
 * malloc, page faults on fresh pages and a free per batch.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "relay.h"
#include "xmalloc.h"

/* An empty pool. */
void
relay_pool_init(struct relay_pool *p)
{
	memset(p, 0, sizeof *p);
	pthread_mutex_init(&p->lock, NULL);
}

/* Free what the pool keeps. */
void
relay_pool_free(struct relay_pool *p)
{
	size_t	i;

	for (i = 0; i < p->n; i++)
		free(p->buf[i]);
	p->n = 0;
	p->bytes = 0;
	pthread_mutex_destroy(&p->lock);
}

/*
 * A buffer of at least n bytes (*cap set): the smallest kept one that is
 * large enough (a small batch leaves the large buffers to large ones),
 * else a new one.
 */
uint8_t *
relay_pool_get(struct relay_pool *p, size_t n, size_t *cap)
{
	uint8_t	*buf = NULL;
	size_t	 i, best = SIZE_MAX;

	if (n == 0)
		n = 1;
	pthread_mutex_lock(&p->lock);
	for (i = 0; i < p->n; i++) {
		if (p->cap[i] >= n && (best == SIZE_MAX ||
		    p->cap[i] < p->cap[best]))
			best = i;
	}
	if (best != SIZE_MAX) {
		buf = p->buf[best];
		*cap = p->cap[best];
		p->bytes -= *cap;
		p->buf[best] = p->buf[p->n - 1];
		p->cap[best] = p->cap[p->n - 1];
		p->n--;
	}
	pthread_mutex_unlock(&p->lock);
	if (buf == NULL) {
		buf = xmalloc(n);
		*cap = n;
	}
	return (buf);
}

/* Give back buf (cap bytes): kept if the pool has room, else freed. */
void
relay_pool_put(struct relay_pool *p, uint8_t *buf, size_t cap)
{
	if (buf == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	if (p->n < RELAY_POOL_BUFFERS && p->bytes + cap <= RELAY_POOL_BYTES) {
		p->buf[p->n] = buf;
		p->cap[p->n++] = cap;
		p->bytes += cap;
		buf = NULL;
	}
	pthread_mutex_unlock(&p->lock);
	free(buf);
}
