/* silicon-queue.c: time-ordered queue of future events (binary heap). */
#include "config.h"

#include <stdlib.h>

#include "silicon.h"

/* Is a due before b (time, then arrival order)? */
static int
silicon_queue_before(const struct silicon_item *a, const struct silicon_item *b)
{
	if (a->t_us != b->t_us)
		return a->t_us < b->t_us;
	return a->seq < b->seq;
}

/* Start an empty queue holding at most max items. */
void
silicon_queue_init(struct silicon_queue *q, size_t max)
{
	q->items = NULL;
	q->n = q->alloc = 0;
	q->max = max;
	q->seq = 0;
}

/* Release the queue's memory. */
void
silicon_queue_free(struct silicon_queue *q)
{
	free(q->items);
	silicon_queue_init(q, q->max);
}

/* Add an item; -1 when the queue is full or memory runs out. */
int
silicon_queue_push(struct silicon_queue *q, const struct silicon_item *it)
{
	struct silicon_item *items, tmp;
	size_t i, parent, alloc;

	if (q->n >= q->max)
		return -1;
	if (q->n == q->alloc) {
		alloc = q->alloc ? q->alloc * 2 : 64;
		if (alloc > q->max)
			alloc = q->max;
		items = realloc(q->items, alloc * sizeof *items);
		if (items == NULL)
			return -1;
		q->items = items;
		q->alloc = alloc;
	}
	i = q->n++;
	q->items[i] = *it;
	q->items[i].seq = q->seq++;
	while (i > 0) {
		parent = (i - 1) / 2;
		if (!silicon_queue_before(&q->items[i], &q->items[parent]))
			break;
		tmp = q->items[i];
		q->items[i] = q->items[parent];
		q->items[parent] = tmp;
		i = parent;
	}
	return 0;
}

/* The earliest item, or NULL when empty. */
const struct silicon_item *
silicon_queue_peek(const struct silicon_queue *q)
{
	return q->n ? &q->items[0] : NULL;
}

/* Remove the earliest item. */
void
silicon_queue_pop(struct silicon_queue *q)
{
	struct silicon_item tmp;
	size_t i = 0, l, r, m;

	if (q->n == 0)
		return;
	q->items[0] = q->items[--q->n];
	for (;;) {
		l = 2 * i + 1;
		r = l + 1;
		m = i;
		if (l < q->n && silicon_queue_before(&q->items[l], &q->items[m]))
			m = l;
		if (r < q->n && silicon_queue_before(&q->items[r], &q->items[m]))
			m = r;
		if (m == i)
			break;
		tmp = q->items[i];
		q->items[i] = q->items[m];
		q->items[m] = tmp;
		i = m;
	}
}
