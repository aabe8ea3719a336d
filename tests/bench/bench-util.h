/*
 * bench-util.h: what the relay benchmarks share: figures of a run (a
 * throughput, a latency distribution), the lines that print them, the
 * ratio of two figures, and the AES-GCM limit of this machine.
 */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* One throughput run: n events sent, got arrived in secs. */
struct bench_tp {
	double		 per_s;		/* events/s, 0 if it did not run */
	uint64_t	 n, got;
	double		 secs;
	int		 in_order;
	double		 harness;	/* the harness thread's CPU / wall */
	/*
	 * CPU time per event delivered (ns), and its parts as shares of
	 * one core: the server process (the relay, the broker) and this
	 * process (the harness and the clients' threads). 0 if unknown.
	 * Unlike the rate it hardly moves with what else the host runs.
	 */
	double		 cpu_ns, server_cpu, clients_cpu;
};

/* CPU readings at the start of a throughput run (bench_tp_cpu_*). */
struct bench_cpu0 {
	double		 server, self;
};

/* A latency distribution (milliseconds). */
struct bench_lat {
	double		 p50_ms, p99_ms, max_ms;
	size_t		 n;		/* 0 if it did not run */
};

/*
 * How a latency run sends: per_send events at a time, the next send
 * min_us..max_us later (drawn from seed, so both sides of a comparison
 * get the same gaps). BENCH_PACE_STEADY: 100 every 1 ms (100 k events/s);
 * BENCH_PACE_SPARSE: 10 at gaps of 10 to 60 ms, as a few units firing
 * now and then (about 290 events/s).
 */
struct bench_pace {
	int		 per_send;
	int64_t		 min_us, max_us;
	uint64_t	 seed;
	const char	*what;		/* "100 k events/s (100 per 1 ms)" */
	int64_t		 warm_us;	/* sent first, not measured */
};
#define BENCH_PACE_STEADY { 100, 1000, 1000, 1, \
	"at 100 k events/s (100 per 1 ms)", 0 }
#define BENCH_PACE_SPARSE { 10, 10000, 60000, 1, \
	"of sparse spikes (10 at gaps of 10-60 ms)", 0 }
/* The gap to the next send, microseconds (advances p->seed). */
int64_t	bench_pace_next(struct bench_pace *);

/* Sort v[0..n) (microseconds) and take p50, p99 and max. */
void	bench_lat_from(struct bench_lat *, double *, size_t);
/* "PREFIXthroughput, N events/batch: X events/s (...)". */
void	bench_print_tp(const char *, uint32_t, const struct bench_tp *,
	    const char *);
/* "PREFIXlatency at 100 k events/s (...): p50 X ms, p99 Y ms (...)". */
void	bench_print_lat(const char *, const struct bench_lat *, const char *);
/* The same for another pace: "PREFIXlatency WHAT: ...". */
void	bench_print_lat_paced(const char *, const struct bench_pace *,
	    const struct bench_lat *, const char *);
/*
 * openssl speed's AES-128-GCM figure at 16 KiB blocks on one core, in
 * bytes/s (seconds of measuring), or -1 with *why.
 */
double	bench_openssl_gcm(int, char **);
/*
 * The TLS version and suite the server on 127.0.0.1:port chooses for
 * openssl s_client's default offer, as "TLSv1.3 TLS_AES_128_GCM_SHA256",
 * into out (cap bytes); 0, or -1 (no openssl, no handshake).
 */
int	bench_tls_suite(int, char *, size_t);
/* CLOCK_MONOTONIC in microseconds. */
int64_t	bench_mono_us(void);

/*
 * How often this machine stops a thread that never blocks: two threads
 * (one per core of the reference machine) read the clock for seconds s
 * (in windows of 0.5 s with 0.5 s pauses), under SCHED_FIFO where this
 * user may (then no program under the normal policy can take their CPU,
 * only the machine's host and the kernel), else under the normal policy;
 * each gap over 1 ms between two readings is a stall. Prints one line
 * starting with prefix.
 */
void	bench_machine_stalls(const char *prefix, int s);
/*
 * What the kernel does to every process's memory behind its back: the
 * kdamonds of DAMON that are on (sampling and ageing pages; their
 * operations and scheme actions) and the transparent huge page mode. One
 * line starting with prefix; a figure taken with a process holding much
 * memory (the relay keeps up to --max-memory of batches per session) is
 * read beside it.
 */
void	bench_machine_memory(const char *prefix);
/*
 * The machine under a latency run, measured in the same window: two
 * threads that sleep 1 ms at a time (absolute deadlines, no timer slack;
 * under SCHED_FIFO where this user may, as cyclictest(8) does, so that
 * no program under the normal policy delays them: only the machine's
 * host and the kernel) and note how late each wake-up came; and the CPU
 * time the kernel's DAMON threads (kdamond) took meanwhile, from
 * /proc/PID/schedstat: they sample and age the pages of every process
 * and take a core for tens of ms at a time when much memory is cold. A
 * tail of the run no longer than the probe's may be the machine's, not
 * the program's. bench_wake_start returns NULL if no thread could start;
 * bench_wake_stop ends it, fills *out and frees it.
 */
struct bench_machine {
	struct bench_lat wake;		/* how late (ms); n = 0: not run */
	int		 fifo;		/* the probe ran under SCHED_FIFO */
	double		 kdamond_ms;	/* -1: no kdamond running */
};
struct bench_wake;
struct bench_wake *bench_wake_start(void);
void	bench_wake_stop(struct bench_wake *, struct bench_machine *out);
/*
 * One line: "PREFIXmachine during WHAT: 2 threads sleeping 1 ms at a
 * time under SCHED_FIFO woke late by p50 X ms, p99 Y ms, max Z ms (n N)
 * ...; the kernel's DAMON (kdamond) ran K ms". Nothing if it did not run.
 */
void	bench_wake_print(const char *prefix, const char *what,
	    const struct bench_machine *m);
/* CPU seconds of the calling thread. */
double	bench_thread_cpu(void);
/* Peak and current resident memory of a process (kB), or -1. */
int	bench_rss_kb(int, long *, long *);
/* CPU seconds (user + system) a process used so far, or -1. */
double	bench_proc_cpu(int);
/*
 * Read the CPU of server pid and of this process before a throughput run
 * (start), then fill t->cpu_ns, t->server_cpu and t->clients_cpu from
 * t->got and t->secs after it (end).
 */
void	bench_tp_cpu_start(struct bench_cpu0 *, int);
void	bench_tp_cpu_end(const struct bench_cpu0 *, int, struct bench_tp *);
/* Raise the soft open-files limit to the hard one; the new soft limit. */
long	bench_raise_nofile(void);

#endif
