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

#include <pthread.h>
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

/*
 * --realtime: SCHED_FIFO, the policy a lab uses when the machine that runs
 * the console also runs other work (JACK's and RTXI's choice). A thread
 * under it runs as soon as it wakes, ahead of every SCHED_OTHER thread,
 * whatever they compute: on a 2-core machine beside two busy loops, the
 * demo's worst spike path p99 was 0.8-4.9 ms with it and 4.2-7.8 ms
 * without in three runs of tests/bench/bench-loop. It takes privilege: CAP_SYS_NICE, or
 * an RLIMIT_RTPRIO ("rtprio" in limits.conf(5)) of at least the priority.
 * Threads that compute (simulators) run below the rest (sb_sched_below)
 * and go back to SCHED_OTHER when they fall behind (sb_sched_normal): a
 * thread that computes without end would hold a core; the kernel leaves
 * 5 % of each core to the rest (sched_rt_runtime_us).
 */
#define SB_SCHED_RT_DEFAULT 10	/* --realtime without a value */
#define SB_SCHED_RT_MAX 49	/* below the kernel's interrupt threads (50) */

/*
 * Parse a --realtime priority (NULL: SB_SCHED_RT_DEFAULT) into *prio: 0,
 * or -1 if it is not a whole number from 1 to SB_SCHED_RT_MAX.
 */
int sb_sched_realtime_parse(const char *text, int *prio);

/*
 * For "unexpected argument 'stray'": a hint that --realtime takes its
 * priority after '=' when argv has a bare --realtime and stray is a whole
 * number (as in "--realtime 5"), else "".
 */
const char *sb_sched_realtime_hint(int argc, char **argv, const char *stray);

/* Say on stderr, prefixed with prog, that --realtime=text is not one. */
void sb_sched_realtime_bad(const char *prog, const char *text);

/*
 * Put the calling thread under SCHED_FIFO at prio; threads it starts
 * later, and programs it runs, inherit it. 0, or -1 with errno set
 * (EPERM: neither CAP_SYS_NICE nor an RLIMIT_RTPRIO of prio; EINVAL).
 */
int sb_sched_realtime(int prio);

/*
 * For a thread that computes (a simulator catching up): under SCHED_FIFO,
 * run one priority below the threads that wait and answer (the loop, the
 * links), or, at priority 1, under SCHED_OTHER with the short slice, so
 * that it can never hold them up; nothing under another policy. 0, or -1
 * with errno set.
 */
int sb_sched_below(void);

/*
 * Put the calling thread back under SCHED_OTHER with the short slice (a
 * simulator that falls behind real time, which under SCHED_FIFO would
 * hold a core). 0, or -1 with errno set.
 */
int sb_sched_normal(void);

/*
 * Initialise a mutex that a thread under SCHED_FIFO may wait on while a
 * lower one holds it: priority inheritance, so the holder runs at the
 * waiter's priority until it lets go (falls back to a plain mutex where
 * the protocol is not supported).
 */
void sb_mutex_init_pi(pthread_mutex_t *);

/*
 * pthread_create for a thread that waits on a disk (a recording's writer):
 * under SCHED_OTHER from its first instruction, whatever the creator's
 * policy, so that under --realtime it never runs above the loop. Returns
 * as pthread_create.
 */
int sb_thread_create_normal(pthread_t *, void *(*)(void *), void *);

/*
 * --realtime also asks the kernel to keep every core out of idle states
 * that take longer than SB_CPU_WAKE_US to leave, for as long as the
 * program runs: a PM QoS request written to SB_CPU_WAKE_DEV and held open
 * (the kernel drops it when the file closes, so at exit), as cyclictest(8)
 * does. An idle core then polls instead of halting. A halted core wakes
 * late on some machines: on the 2-core KVM virtual machine this project
 * is measured on (cpuidle "haltpoll" with guest polling off), the host
 * gave a halted core back up to milliseconds later, and a spike's path
 * crosses four wakeups. In 4 interleaved runs of the demo with
 * --realtime on an idle machine (20 s each), the worst spike path p99 was
 * 1.08-2.46 ms with the request (1.29 ms or less in 3 runs) against
 * 1.53-2.48 ms without; beside one busy loop, 1.05-1.90 against
 * 1.54-3.20 ms. The cost: idle cores spin
 * (power and heat; on a virtual machine the host sees its cores busy).
 * SB_CPU_WAKE_ENV sets the bound in us (0 to SB_CPU_WAKE_MAX_US; a bound
 * above 0 lets a machine keep its shallow idle states), or "off" not to
 * ask. The request is one per machine: the kernel takes the lowest of
 * all that are held.
 */
#define SB_CPU_WAKE_US 0
#define SB_CPU_WAKE_MAX_US 1000000
#define SB_CPU_WAKE_ENV "SYNBRIDGE_CPU_WAKE_US"
#define SB_CPU_WAKE_DEV "/dev/cpu_dma_latency"

/*
 * Parse SB_CPU_WAKE_ENV's text (NULL or empty: SB_CPU_WAKE_US) into *us,
 * -1 for "off": 0, or -1 if it is neither "off" nor a whole number from 0
 * to SB_CPU_WAKE_MAX_US.
 */
int sb_cpu_wake_parse(const char *text, int32_t *us);

/*
 * Write us (a native int32, as the device takes it) to dev, opened
 * close-on-exec, and keep it open until the process ends. 0, or -1 with
 * errno set (EACCES: only root may write the device by default; ENOENT:
 * a kernel without PM QoS).
 */
int sb_cpu_wake_hold(const char *dev, int32_t us);

/*
 * In a child that does not exec (a fork that goes on running this
 * program's code): close its copy of the request's file, so that the
 * request ends with the parent. The parent's request is not touched.
 */
void sb_cpu_wake_forget(void);

/*
 * --realtime's request for prog: read SB_CPU_WAKE_ENV and hold it on
 * SB_CPU_WAKE_DEV. A refusal is said on stderr with what to do (the
 * program runs on); with verbose, what was asked or that none was.
 * Returns the bound held in us, -1 if none, or -2 (said on stderr) if
 * SB_CPU_WAKE_ENV is neither a bound nor "off": the caller exits 2.
 */
int sb_cpu_wake_realtime(const char *prog, int verbose);

/*
 * Say on stderr, prefixed with prog, why --realtime at prio was refused
 * (errno as sb_sched_realtime left it) and how to allow it.
 */
void sb_sched_realtime_refused(const char *prog, int prio, int err);

/*
 * Grow this process's file descriptor table now to hold descriptors
 * 0..n-1 (at most the soft RLIMIT_NOFILE), so that opening one later never
 * grows it. Linux grows the table by doubling when a new descriptor does
 * not fit (past 64, 128, 256, ...), and in a process with several threads
 * it then waits for an RCU grace period, holding up every thread that
 * opens a descriptor meanwhile: beside programs that take both cores, a
 * 30-site bench-scale run had its network threads stopped 0.2 to 3 s in
 * expand_files (state D) as one site opened a connection past the
 * boundary. Call it at start, before the threads that must answer at once
 * open their sockets; the table costs 8 bytes and 2 bits per descriptor
 * and never shrinks. 0, or -1 with errno set (the table stays as it was).
 */
int sb_fd_table_reserve(int n);
/* What a console reserves: its links, recordings and devices, with room. */
#define SB_FD_TABLE_CONSOLE 1024

#endif
