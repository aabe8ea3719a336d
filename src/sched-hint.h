/*
 * sched-hint.h: ask the kernel to run the calling thread soon after it
 * wakes.
 *
 * A thread that sleeps most of the time and must answer at once (a relay
 * transport's network thread, the relay's HTTP thread) asks for a short
 * time slice: with the EEVDF scheduler (Linux 6.6 and later; wakeup
 * preemption by a shorter slice since 6.12) a runnable thread whose slice
 * is shorter gets an earlier virtual deadline, so when it wakes it is
 * far more likely to preempt a thread that computes (another program, a
 * busy loop) than to wait for that one's slice to end. It takes no
 * privilege and changes neither the policy nor the nice value; it only
 * caps how long the thread runs at a time, which such a thread never
 * uses anyway. Older kernels accept and ignore it (CFS has no per-thread
 * slice) or refuse it; either way nothing else changes.
 */
#ifndef SB_SCHED_HINT_H
#define SB_SCHED_HINT_H

#include <stdint.h>

/* The slice asked for: the shortest EEVDF allows (0.1 ms). */
#define SB_SCHED_SLICE_US 100
/* Set to 0, this environment variable turns the request off. */
#define SB_SCHED_ENV "SYNBRIDGE_SHORT_SLICE"

/*
 * Ask for a SB_SCHED_SLICE_US slice for the calling thread (SCHED_OTHER
 * only: a thread under another policy, SCHED_BATCH or a real-time one, is
 * left alone; nothing is asked when SYNBRIDGE_SHORT_SLICE is 0). Returns
 * 0 if the kernel took the request or none was made, -1 with errno set if
 * the kernel refused it (ENOSYS, EINVAL, EPERM): callers go on either way.
 */
int sb_sched_prefer_latency(void);

/*
 * The calling thread's time slice as the kernel reports it, in ns (0 or a
 * kernel without per-thread slices may report its default, or 0): 0, or
 * -1 with errno set where it cannot say (ENOSYS).
 */
int sb_sched_slice_ns(uint64_t *);

#endif
