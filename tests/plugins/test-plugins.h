/*
 * test-plugins.h: the data of the deterministic test plugins, so that unit
 * tests can look inside what the host holds (population or device data).
 */
#ifndef SB_TEST_PLUGINS_H
#define SB_TEST_PLUGINS_H

#include <stdint.h>

#include "synbridge-plugin.h"

#define TEST_NEURONS_MAX_PENDING 64

/* test_neurons: unit k (or every unit) fires every period_us. */
struct test_neurons {
	struct sb_neurons ops;
	char name[32];
	const struct sb_host_api *host;
	struct sb_plugin *p;
	uint32_t units;
	int64_t period_us;	/* 0: silent */
	int64_t next_us;	/* next spontaneous firing */
	int64_t fire;		/* unit that fires, -1 for every unit */
	uint64_t advances, emitted;
	/* stimulations: recorded, emitted as spikes on the next advance */
	uint64_t stimulations;
	uint32_t last_stim_unit;
	double last_stim_v;
	uint32_t last_stim_width_us;
	struct { uint32_t unit; int64_t t_us; } pending[TEST_NEURONS_MAX_PENDING];
	unsigned npending;
	/* synaptic input */
	uint64_t synaptic_inputs;
	uint32_t last_input_unit;
	unsigned last_input_weight;
	double last_input_g_us;
};

#define TEST_SYNAPSES_MAX_OPS 256

/* test_synapses: G += k * V * count, clipped to [g_min, g_max]. */
struct test_synapses {
	struct sb_synapses ops;
	char name[32];
	const struct sb_host_api *host;
	struct sb_plugin *p;
	uint32_t devices;
	double k, g_min, g_max;
	double *g;
	uint32_t latency_us;
	struct sb_device_limits limits;
	struct test_synapses_op {
		uint64_t tag;
		uint32_t device;
		double delta;		/* 0 for a read */
		int64_t due_us;
	} queue[TEST_SYNAPSES_MAX_OPS];
	unsigned nqueue;
	uint64_t pulses, reads;
};

#endif
