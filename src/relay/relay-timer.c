/*
 * relay-timer.c: the relay's own timer. Suspended MHD connections never
 * time out, so this thread resumes streaming reads that owe a keep-alive
 * and long-polls whose hold is over, and refuses publish parts that have
 * waited too long for a hole to fill. It also closes connections that have
 * not shown a valid token within --handshake-timeout, and logs how many
 * log lines were held back.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "relay.h"
#include "xmalloc.h"

#define RELAY_TIMER_TICK_NS 100000000L	/* 100 ms */

/* The timer thread. */
static void *
relay_timer_main(void *arg)
{
	struct timespec ts;

	pthread_mutex_lock(&relay.lock);
	while (relay.timer_running) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += RELAY_TIMER_TICK_NS;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&relay.timer_cond, &relay.lock, &ts);
		if (!relay.timer_running || relay.stopping)
			break;
		relay_read_wake_idle(relay_now_mono());
		relay_control_wake_expired(relay_now_mono());
		relay_conn_expire(relay_now_mono());
		relay_conn_report(relay_now_mono());
		relay_log_flush();
		pthread_mutex_unlock(&relay.lock);
		relay_clock_renew();
		relay_http_held_expire(relay_now_mono());
		pthread_mutex_lock(&relay.lock);
	}
	pthread_mutex_unlock(&relay.lock);
	return NULL;
}

/* Start the timer thread; 0 or -1 with *cause. */
int
relay_timer_start(char **cause)
{
	pthread_condattr_t attr;
	int e;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&relay.timer_cond, &attr);
	pthread_condattr_destroy(&attr);
	relay.timer_running = 1;
	if ((e = pthread_create(&relay.timer, NULL, relay_timer_main,
	    NULL)) != 0) {
		relay.timer_running = 0;
		xasprintf(cause, "cannot start the timer thread: %s",
		    strerror(e));
		return -1;
	}
	return 0;
}

/* Stop the timer thread. */
void
relay_timer_stop(void)
{
	pthread_mutex_lock(&relay.lock);
	if (!relay.timer_running) {
		pthread_mutex_unlock(&relay.lock);
		return;
	}
	relay.timer_running = 0;
	pthread_cond_signal(&relay.timer_cond);
	pthread_mutex_unlock(&relay.lock);
	pthread_join(relay.timer, NULL);
	pthread_cond_destroy(&relay.timer_cond);
}
