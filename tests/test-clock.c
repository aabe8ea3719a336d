/*
 * test-clock.c: the session clock, the scheduler hint of waiting threads,
 * and the descriptor table grown once at start.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "sched-hint.h"

/* Real-time session time starts near zero and never goes back. */
static void
test_realtime_monotonic(void **state)
{
	struct sb_clock c;
	int64_t prev, now;
	struct timespec ts = { 0, 2000000 };

	clock_init(&c, 0);
	prev = clock_now(&c);
	assert_true(prev >= 0 && prev < 1000000);
	nanosleep(&ts, NULL);
	now = clock_now(&c);
	assert_true(now >= prev + 2000);
}

/* The relay offset shifts session time by exactly its value. */
static void
test_offset_applies(void **state)
{
	struct sb_clock c;
	int64_t mono = clock_mono_us();

	clock_init(&c, 0);
	int64_t before = clock_from_mono(&c, mono);
	clock_set_offset(&c, 1234567);
	assert_int_equal(clock_from_mono(&c, mono) - before, 1234567);
}

/* Fast mode: time is what the engine says and never moves backwards. */
static void
test_fast_virtual(void **state)
{
	struct sb_clock c;

	clock_init(&c, 1);
	assert_int_equal(clock_now(&c), 0);
	clock_advance(&c, 5000);
	assert_int_equal(clock_now(&c), 5000);
	clock_advance(&c, 100);
	assert_int_equal(clock_now(&c), 5000);
}

/* sched_getattr(2)'s struct, its first version (48 bytes). */
struct test_sched_attr {
	uint32_t	size, policy;
	uint64_t	flags;
	int32_t		nice;
	uint32_t	priority;
	uint64_t	runtime, deadline, period;
};

/* The calling thread's scheduling attributes; 0 or -1. */
static int
thread_attr(struct test_sched_attr *a)
{
	memset(a, 0, sizeof *a);
	return ((int)syscall(SYS_sched_getattr, 0, a, sizeof *a, 0));
}

static void *
attr_of_child(void *arg)
{
	(void)thread_attr(arg);
	return (NULL);
}

struct hint_result {
	int			rc, err, nice;
	struct test_sched_attr	attr, child;
};

static void *
hint_thread(void *arg)
{
	struct hint_result	*r = arg;
	id_t			 tid = (id_t)syscall(SYS_gettid);
	pthread_t		 t;
	int			 now;

	/* a user who started it with nice keeps that (raising is free) */
	errno = 0;
	now = getpriority(PRIO_PROCESS, tid);
	r->nice = now > 7 ? now : 7;
	if (setpriority(PRIO_PROCESS, tid, r->nice) != 0)
		r->nice = now;
	errno = 0;
	r->rc = sb_sched_prefer_latency();
	r->err = errno;
	(void)thread_attr(&r->attr);
	if (pthread_create(&t, NULL, attr_of_child, &r->child) == 0)
		pthread_join(t, NULL);
	return (NULL);
}

/* Does this kernel give threads their own slice (Linux 6.12 and later)? */
static int
kernel_has_slices(void)
{
	struct utsname	u;
	int		major = 0, minor = 0;

	if (uname(&u) != 0 || sscanf(u.release, "%d.%d", &major, &minor) != 2)
		return (0);
	return (major > 6 || (major == 6 && minor >= 12));
}

/*
 * The hint is taken (every kernel since 3.14 has sched_setattr; those
 * before 6.12 ignore the slice) and keeps the thread's policy and nice
 * value. On a kernel with per-thread slices (6.12 on, where
 * sched_getattr reports the slice as the runtime) the thread's slice is
 * SB_SCHED_SLICE_US and the threads it starts inherit it (synbridge asks
 * once at start for all its threads).
 */
static void
test_sched_hint(void **state)
{
	struct hint_result	r;
	pthread_t		t;

	(void)state;
	memset(&r, 0, sizeof r);
	assert_int_equal(pthread_create(&t, NULL, hint_thread, &r), 0);
	pthread_join(t, NULL);
	if (r.rc != 0 && r.err == ENOSYS) {
		fprintf(stderr, "# no sched_setattr here: the hint is not "
		    "taken\n");
		return;
	}
	if (r.rc != 0)
		fail_msg("sched_setattr refused the hint: %s", strerror(r.err));
	assert_int_equal(r.attr.policy, SCHED_OTHER);
	assert_int_equal(r.attr.nice, r.nice);
	if (!kernel_has_slices()) {
		fprintf(stderr, "# this kernel has no per-thread slices: it "
		    "took the hint and ignores it\n");
		return;
	}
	assert_int_equal(r.attr.runtime, (uint64_t)SB_SCHED_SLICE_US * 1000);
	assert_int_equal(r.child.runtime, (uint64_t)SB_SCHED_SLICE_US * 1000);
	assert_int_equal(r.child.nice, r.nice);
}

static void *
hint_off_thread(void *arg)
{
	struct test_sched_attr	*before_after = arg;

	(void)thread_attr(&before_after[0]);
	(void)sb_sched_prefer_latency();
	(void)thread_attr(&before_after[1]);
	return (NULL);
}

/* SYNBRIDGE_SHORT_SLICE=0 leaves the thread's slice as the kernel set it. */
static void
test_sched_hint_off(void **state)
{
	struct test_sched_attr	a[2];
	pthread_t		t;

	(void)state;
	assert_int_equal(setenv(SB_SCHED_ENV, "0", 1), 0);
	assert_int_equal(pthread_create(&t, NULL, hint_off_thread, a), 0);
	pthread_join(t, NULL);
	unsetenv(SB_SCHED_ENV);
	assert_int_equal(a[1].runtime, a[0].runtime);
	if (kernel_has_slices())
		assert_true(a[1].runtime != (uint64_t)SB_SCHED_SLICE_US * 1000);
}

/* FDSize of this process (/proc/self/status), or -1. */
static long
fd_table_size(void)
{
	char	line[128];
	long	n = -1;
	FILE	*f = fopen("/proc/self/status", "r");

	if (f == NULL)
		return (-1);
	while (fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "FDSize: %ld", &n) == 1)
			break;
	fclose(f);
	return (n);
}

/* Open descriptors of this process. */
static int
fds_open(void)
{
	int	fd, n = 0;

	for (fd = 0; fd < 4096; fd++)
		if (fcntl(fd, F_GETFD) != -1)
			n++;
	return (n);
}

/*
 * sb_fd_table_reserve grows the descriptor table to the size asked (and no
 * further than the soft limit allows), leaves no descriptor open, and a
 * second call changes nothing.
 */
static void
test_fd_table_reserve(void **state)
{
	struct rlimit	rl;
	long		before = fd_table_size();
	int		open0 = fds_open(), want = 2048;

	(void)state;
	if (before < 0)
		skip();
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)want)
		want = (int)rl.rlim_cur;	/* 1024 by default */
	if (want <= 2 * before)
		skip();		/* no growth to see under this limit */
	assert_int_equal(sb_fd_table_reserve(want), 0);
	assert_true(fd_table_size() >= want);
	assert_int_equal(fds_open(), open0);
	assert_int_equal(sb_fd_table_reserve(want), 0);
	assert_true(fd_table_size() >= want);
	assert_int_equal(fds_open(), open0);
	/* a smaller request is already met: nothing changes */
	assert_int_equal(sb_fd_table_reserve(100), 0);
	assert_int_equal(fds_open(), open0);
}

/* Asked for more than the soft limit, it grows to the limit and says 0. */
static void
test_fd_table_reserve_limit(void **state)
{
	struct rlimit	rl, low;
	pid_t		pid;
	int		status;

	(void)state;
	if (fd_table_size() < 0)
		skip();
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	/* in a child: the table only grows, and the limit stays low */
	if ((pid = fork()) == 0) {
		low = rl;
		low.rlim_cur = 600;
		if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < 600)
			_exit(0);
		if (setrlimit(RLIMIT_NOFILE, &low) != 0 ||
		    sb_fd_table_reserve(100000) != 0)
			_exit(1);
		/* 600 descriptors: 0..599, in a table of a power of 2 */
		_exit(fd_table_size() >= 600 && fd_table_size() < 100000 ?
		    0 : 2);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_realtime_monotonic),
		cmocka_unit_test(test_offset_applies),
		cmocka_unit_test(test_fast_virtual),
		cmocka_unit_test(test_sched_hint),
		cmocka_unit_test(test_sched_hint_off),
		cmocka_unit_test(test_fd_table_reserve),
		cmocka_unit_test(test_fd_table_reserve_limit),
	};
	return cmocka_run_group_tests_name("clock", tests, NULL, NULL);
}
