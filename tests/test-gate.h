/*
 * test-gate.h: a gate that a test program shuts to hold its threads
 * inside a system call it interposes (a write or fsync of a slow disk),
 * and opens again. Included by one source file of a test program, it
 * defines that program's gate; the interposer waits on gate_cond under
 * gate_lock while gate_shut is set.
 */
#ifndef TEST_GATE_H
#define TEST_GATE_H

#include <pthread.h>

static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static int gate_shut;

/* Shut (1) or open (0) the gate; the threads held wake to look. */
static void
gate_set(int shut)
{
	pthread_mutex_lock(&gate_lock);
	gate_shut = shut;
	pthread_cond_broadcast(&gate_cond);
	pthread_mutex_unlock(&gate_lock);
}

#endif
