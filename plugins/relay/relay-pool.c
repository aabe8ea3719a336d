/*
 * relay-pool.c: event arrays handed back and forth between the network
 * thread (which decodes batches into them) and the engine thread (which
 * gives them back once delivered). Keeping a few avoids a large malloc,
 * page faults on fresh pages and a free per batch: with 8192 events a
 * batch that was a third of the time of a busy reader.
 */
#include "config.h"

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
		free(p->ev[i]);
	p->n = 0;
	p->bytes = 0;
	pthread_mutex_destroy(&p->lock);
}

/* An array of at least n events (*cap set): a kept one, else a new one. */
struct sb_event *
relay_pool_get(struct relay_pool *p, size_t n, size_t *cap)
{
	struct sb_event	*ev = NULL;
	size_t		 i;

	if (n == 0)
		n = 1;
	pthread_mutex_lock(&p->lock);
	for (i = p->n; i > 0; i--) {
		if (p->cap[i - 1] < n)
			continue;
		ev = p->ev[i - 1];
		*cap = p->cap[i - 1];
		p->bytes -= *cap * sizeof *ev;
		p->ev[i - 1] = p->ev[p->n - 1];
		p->cap[i - 1] = p->cap[p->n - 1];
		p->n--;
		break;
	}
	pthread_mutex_unlock(&p->lock);
	if (ev == NULL) {
		ev = xreallocarray(NULL, n, sizeof *ev);
		*cap = n;
	}
	return (ev);
}

/* Give an array back: kept while the pool has room, else freed. */
void
relay_pool_put(struct relay_pool *p, struct sb_event *ev, size_t cap)
{
	size_t	bytes = cap * sizeof *ev;

	if (ev == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	if (p->n < RELAY_POOL_ARRAYS && p->bytes + bytes <= RELAY_POOL_BYTES) {
		p->ev[p->n] = ev;
		p->cap[p->n++] = cap;
		p->bytes += bytes;
		ev = NULL;
	}
	pthread_mutex_unlock(&p->lock);
	free(ev);
}
