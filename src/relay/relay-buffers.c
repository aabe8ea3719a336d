/*
 * relay-buffers.c: the --max-buffers budget, shared by every connection:
 * request bodies being received, answers built in memory and the blocks
 * of streamed reads. A request that cannot take what it needs is answered
 * 503 with Retry-After instead of growing the relay.
 */
#include "config.h"

#include "relay.h"

/* Take n bytes of the budget; 0, or -1 if that would pass it. */
int
relay_buffers_take(size_t n)
{
	uint64_t used = __atomic_load_n(&relay.buffers, __ATOMIC_RELAXED);

	do {
		if (n > relay.opt.max_buffers ||
		    used > relay.opt.max_buffers - n)
			return -1;
	} while (!__atomic_compare_exchange_n(&relay.buffers, &used,
	    used + n, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	return 0;
}

/* Give n bytes back to the budget. */
void
relay_buffers_give(size_t n)
{
	__atomic_sub_fetch(&relay.buffers, (uint64_t)n, __ATOMIC_RELAXED);
}
