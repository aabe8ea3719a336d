/* sched-hint.c: a short EEVDF slice for threads that wait and answer. */
#include "config.h"

#include <sys/resource.h>
#include <sys/syscall.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sched-hint.h"

/*
 * struct sched_attr as sched_setattr(2) takes it, its first version (48
 * bytes, SCHED_ATTR_SIZE_VER0); <linux/sched/types.h> cannot be included
 * beside <sched.h>.
 */
struct sb_sched_attr {
	uint32_t	size;
	uint32_t	sched_policy;
	uint64_t	sched_flags;
	int32_t		sched_nice;
	uint32_t	sched_priority;
	uint64_t	sched_runtime;	/* SCHED_OTHER: the slice, ns */
	uint64_t	sched_deadline;
	uint64_t	sched_period;
};

int
sb_sched_prefer_latency(void)
{
#ifdef SYS_sched_setattr
	struct sb_sched_attr	attr;
	const char		*env;
	int			prio;

	env = getenv(SB_SCHED_ENV);
	if (env != NULL && strcmp(env, "0") == 0)
		return (0);		/* turned off: the kernel's own slice */
	if (sched_getscheduler(0) != SCHED_OTHER)
		return (0);
	errno = 0;
	prio = getpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid));
	if (prio == -1 && errno != 0)
		return (-1);
	memset(&attr, 0, sizeof attr);
	attr.size = sizeof attr;
	attr.sched_policy = SCHED_OTHER;
	attr.sched_nice = prio;			/* kept: no privilege */
	attr.sched_runtime = (uint64_t)SB_SCHED_SLICE_US * 1000;
	return (syscall(SYS_sched_setattr, 0, &attr, 0) == 0 ? 0 : -1);
#else
	errno = ENOSYS;
	return (-1);
#endif
}

/*
 * The calling thread's slice as the kernel reports it (sched_getattr), in
 * ns: 0, or -1 with errno set where the kernel cannot say.
 */
int
sb_sched_slice_ns(uint64_t *ns)
{
#ifdef SYS_sched_getattr
	struct sb_sched_attr	attr;

	memset(&attr, 0, sizeof attr);
	if (syscall(SYS_sched_getattr, 0, &attr, (unsigned)sizeof attr, 0) !=
	    0)
		return (-1);
	*ns = attr.sched_runtime;
	return (0);
#else
	errno = ENOSYS;
	return (-1);
#endif
}

int
sb_sched_realtime_parse(const char *text, int *prio)
{
	char	*end;
	long	 v;

	if (text == NULL) {
		*prio = SB_SCHED_RT_DEFAULT;
		return (0);
	}
	errno = 0;
	v = strtol(text, &end, 10);
	if (*text < '0' || *text > '9' || *end != '\0' || errno != 0 ||
	    v < 1 || v > SB_SCHED_RT_MAX)
		return (-1);
	*prio = (int)v;
	return (0);
}

const char *
sb_sched_realtime_hint(int argc, char **argv, const char *stray)
{
	int	i;

	if (stray == NULL || *stray == '\0' ||
	    strspn(stray, "0123456789") != strlen(stray))
		return ("");
	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--realtime") == 0)
			return (" (--realtime takes its priority after '=': "
			    "--realtime=N)");
	return ("");
}

void
sb_sched_realtime_bad(const char *prog, const char *text)
{
	fprintf(stderr, "%s: --realtime=%s: expected a priority from 1 to %d "
	    "(default %d)\n", prog, text, SB_SCHED_RT_MAX,
	    SB_SCHED_RT_DEFAULT);
}

int
sb_sched_realtime(int prio)
{
	struct sched_param	sp;

	memset(&sp, 0, sizeof sp);
	sp.sched_priority = prio;
	/* the calling thread only (Linux: sched_setscheduler(0) is it) */
	return (sched_setscheduler(0, SCHED_FIFO, &sp) == 0 ? 0 : -1);
}

void
sb_sched_realtime_refused(const char *prog, int prio, int err)
{
	struct rlimit	rl;
	char		limit[32] = "unknown", lower[48] = "";
	int		limit_ok = 0;

	if (getrlimit(RLIMIT_RTPRIO, &rl) == 0) {
		if (rl.rlim_cur == RLIM_INFINITY)
			snprintf(limit, sizeof limit, "unlimited");
		else
			snprintf(limit, sizeof limit, "%llu",
			    (unsigned long long)rl.rlim_cur);
		if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= (rlim_t)prio)
			limit_ok = 1;
		else if (rl.rlim_cur > 0)
			snprintf(lower, sizeof lower, ", or ask for "
			    "--realtime=%llu", (unsigned long long)rl.rlim_cur);
	}
	fprintf(stderr, "%s: --realtime: the kernel refused SCHED_FIFO "
	    "priority %d (%s); threads run under the normal policy (the "
	    "exit status does not change). ", prog, prio, strerror(err));
	if (err == EPERM && !limit_ok)
		fprintf(stderr, "This user's rtprio limit is %s: raise it to "
		    "at least %d (a line '@GROUP - rtprio %d' in "
		    "/etc/security/limits.conf, then log in again; for a "
		    "systemd service LimitRTPRIO=%d) or give the program "
		    "CAP_SYS_NICE (setcap cap_sys_nice+ep PROGRAM; for a "
		    "service AmbientCapabilities=CAP_SYS_NICE)%s.\n", limit,
		    prio, prio, prio, lower);
	else if (err == EPERM)
		fprintf(stderr, "The rtprio limit (%s) is not the cause: the "
		    "control group it runs in may have no real-time budget "
		    "(cpu.rt_runtime_us; in a container: --cap-add SYS_NICE, "
		    "--ulimit rtprio=%d, --cpu-rt-runtime), or CAP_SYS_NICE "
		    "was dropped.\n", limit, prio);
	else
		fprintf(stderr, "Run without --realtime, or see sched(7).\n");
}

int
sb_sched_normal(void)
{
	struct sched_param	sp;

	if (sched_getscheduler(0) == SCHED_OTHER)
		return (0);
	memset(&sp, 0, sizeof sp);
	if (sched_setscheduler(0, SCHED_OTHER, &sp) != 0)
		return (-1);
	(void)sb_sched_prefer_latency();
	return (0);
}

int
sb_sched_below(void)
{
	struct sched_param	sp;

	if (sched_getscheduler(0) != SCHED_FIFO || sched_getparam(0, &sp) != 0)
		return (0);
	if (sp.sched_priority <= 1)
		return (sb_sched_normal());
	sp.sched_priority--;
	return (sched_setscheduler(0, SCHED_FIFO, &sp) == 0 ? 0 : -1);
}

void
sb_mutex_init_pi(pthread_mutex_t *m)
{
	pthread_mutexattr_t	a;

	if (pthread_mutexattr_init(&a) == 0) {
		if (pthread_mutexattr_setprotocol(&a, PTHREAD_PRIO_INHERIT) ==
		    0 && pthread_mutex_init(m, &a) == 0) {
			pthread_mutexattr_destroy(&a);
			return;
		}
		pthread_mutexattr_destroy(&a);
	}
	pthread_mutex_init(m, NULL);
}

int
sb_thread_create_normal(pthread_t *t, void *(*fn)(void *), void *arg)
{
	pthread_attr_t		a;
	struct sched_param	sp;
	int			rc;

	if (pthread_attr_init(&a) != 0)
		return (pthread_create(t, NULL, fn, arg));
	memset(&sp, 0, sizeof sp);
	if (pthread_attr_setinheritsched(&a, PTHREAD_EXPLICIT_SCHED) == 0 &&
	    pthread_attr_setschedpolicy(&a, SCHED_OTHER) == 0 &&
	    pthread_attr_setschedparam(&a, &sp) == 0)
		rc = pthread_create(t, &a, fn, arg);
	else
		rc = pthread_create(t, NULL, fn, arg);
	pthread_attr_destroy(&a);
	return (rc);
}

/* The PM QoS request's file: open until the process ends. */
static int sb_cpu_wake_fd = -1;

int
sb_cpu_wake_parse(const char *text, int32_t *us)
{
	char	*end;
	long	 v;

	if (text == NULL || *text == '\0') {
		*us = SB_CPU_WAKE_US;
		return (0);
	}
	if (strcmp(text, "off") == 0) {
		*us = -1;
		return (0);
	}
	if (*text < '0' || *text > '9')
		return (-1);
	errno = 0;
	v = strtol(text, &end, 10);
	if (errno != 0 || *end != '\0' || v < 0 || v > SB_CPU_WAKE_MAX_US)
		return (-1);
	*us = (int32_t)v;
	return (0);
}

int
sb_cpu_wake_hold(const char *dev, int32_t us)
{
	int	fd = sb_cpu_wake_fd;
	int	err;

	/* a second request updates the first (the device takes rewrites) */
	if (fd == -1 && (fd = open(dev, O_WRONLY | O_CLOEXEC)) == -1)
		return (-1);
	errno = 0;
	if (write(fd, &us, sizeof us) != (ssize_t)sizeof us) {
		err = errno != 0 ? errno : EIO;
		if (fd != sb_cpu_wake_fd)
			close(fd);
		errno = err;
		return (-1);
	}
	sb_cpu_wake_fd = fd;
	return (0);
}

void
sb_cpu_wake_forget(void)
{
	if (sb_cpu_wake_fd != -1) {
		close(sb_cpu_wake_fd);
		sb_cpu_wake_fd = -1;
	}
}

int
sb_cpu_wake_realtime(const char *prog, int verbose)
{
	const char	*env = getenv(SB_CPU_WAKE_ENV);
	int32_t		 us;

	if (sb_cpu_wake_parse(env, &us) != 0) {
		fprintf(stderr, "%s: %s=%s: expected a bound in microseconds "
		    "(0 to %d) or off\n", prog, SB_CPU_WAKE_ENV, env,
		    SB_CPU_WAKE_MAX_US);
		return (-2);
	}
	if (us < 0) {
		if (verbose)
			fprintf(stderr, "%s: %s=off: idle cores are left to "
			    "the kernel's idle states\n", prog,
			    SB_CPU_WAKE_ENV);
		return (-1);
	}
	if (sb_cpu_wake_hold(SB_CPU_WAKE_DEV, us) != 0) {
		fprintf(stderr, "%s: --realtime: cannot ask the kernel to keep "
		    "idle cores quick to wake (%s: %s): an idle core may then "
		    "wake late for a spike (milliseconds on some virtual "
		    "machines). Run as root, or let this user write it: a file "
		    "in /etc/udev/rules.d/ with the line KERNEL==\"cpu_dma_"
		    "latency\", GROUP=\"GROUP\", MODE=\"0660\", the user in "
		    "GROUP, then udevadm trigger (or a reboot); %s=off stops "
		    "asking. The program runs on; the exit status does not "
		    "change.\n", prog, SB_CPU_WAKE_DEV, strerror(errno),
		    SB_CPU_WAKE_ENV);
		return (-1);
	}
	if (verbose)
		fprintf(stderr, "%s: asked that idle cores wake within %d us "
		    "while this runs (--realtime: a request on %s, where the "
		    "lowest bound any program holds counts; %s sets it, or "
		    "off)\n", prog, (int)us, SB_CPU_WAKE_DEV, SB_CPU_WAKE_ENV);
	return (us);
}

int
sb_fd_table_reserve(int n)
{
	struct rlimit	rl;
	int		src, fd, saved;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur != RLIM_INFINITY && (rlim_t)n > rl.rlim_cur)
		n = (int)rl.rlim_cur;
	if (n <= 64 || fcntl(n - 1, F_GETFD) != -1)
		return 0;	/* the first table holds 64; or in use: there */
	if ((src = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	/* the lowest free descriptor at or above n - 1: n - 1 itself */
	fd = fcntl(src, F_DUPFD_CLOEXEC, n - 1);
	saved = errno;
	if (fd != -1)
		close(fd);
	close(src);
	errno = saved;
	return fd == -1 ? -1 : 0;
}
