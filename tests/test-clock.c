/* test-clock.c: the session clock, and the scheduler hint of waiting threads. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
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

/* The calling thread's EEVDF slice in ns, or -1 if the kernel shows none. */
static long long
thread_slice_ns(void)
{
	char		path[64], line[256];
	long long	v = -1;
	FILE		*f;

	snprintf(path, sizeof path, "/proc/self/task/%ld/sched",
	    (long)syscall(SYS_gettid));
	if ((f = fopen(path, "r")) == NULL)
		return (-1);
	while (fgets(line, sizeof line, f) != NULL) {
		if (strncmp(line, "se.slice", 8) == 0 &&
		    sscanf(strchr(line, ':') + 1, "%lld", &v) != 1)
			v = -1;
	}
	fclose(f);
	return (v);
}

static void *
slice_of_child(void *arg)
{
	*(long long *)arg = thread_slice_ns();
	return (NULL);
}

struct hint_result {
	int		rc, err, nice_after;
	long long	slice, child_slice;
};

static void *
hint_thread(void *arg)
{
	struct hint_result	*r = arg;
	id_t			 tid = (id_t)syscall(SYS_gettid);
	pthread_t		 t;

	/* a user who started it with nice keeps that (raising is free) */
	if (setpriority(PRIO_PROCESS, tid, 7) != 0)
		return (NULL);
	r->rc = sb_sched_prefer_latency();
	r->err = errno;
	errno = 0;
	r->nice_after = getpriority(PRIO_PROCESS, tid);
	r->slice = thread_slice_ns();
	if (pthread_create(&t, NULL, slice_of_child, &r->child_slice) == 0)
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
 * The hint keeps the thread's nice value and policy. On a kernel with
 * per-thread slices (6.12 on) it must be taken: the thread's slice is
 * SB_SCHED_SLICE_US and the threads it starts inherit it (synbridge asks
 * once at start for all its threads). An older kernel may refuse it.
 */
static void
test_sched_hint(void **state)
{
	struct hint_result	r;
	pthread_t		t;

	(void)state;
	memset(&r, 0, sizeof r);
	r.nice_after = -100;
	assert_int_equal(pthread_create(&t, NULL, hint_thread, &r), 0);
	pthread_join(t, NULL);
	assert_int_equal(r.nice_after, 7);
	if (!kernel_has_slices() || r.slice < 0) {
		fprintf(stderr, "# this kernel has no per-thread slices: the "
		    "hint %s\n", r.rc == 0 ? "was taken" : strerror(r.err));
		if (r.rc != 0)
			assert_true(r.err == ENOSYS || r.err == EINVAL ||
			    r.err == EPERM);
		return;
	}
	if (r.rc != 0)
		fail_msg("sched_setattr refused the hint: %s", strerror(r.err));
	assert_int_equal(r.slice, (long long)SB_SCHED_SLICE_US * 1000);
	assert_int_equal(r.child_slice, (long long)SB_SCHED_SLICE_US * 1000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_realtime_monotonic),
		cmocka_unit_test(test_offset_applies),
		cmocka_unit_test(test_fast_virtual),
		cmocka_unit_test(test_sched_hint),
	};
	return cmocka_run_group_tests_name("clock", tests, NULL, NULL);
}
