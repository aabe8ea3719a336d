/* test-silicon.c: simulated silicon neurons (model and plugin glue). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake-host.h"
#include "synbridge-plugin.h"
#include "silicon.h"

extern const char synbridge_plugin_name[];
extern const char synbridge_plugin_api_version[];
int synbridge_plugin_init(struct sb_plugin *, const struct sb_host_api *);
void synbridge_plugin_end(struct sb_plugin *);

#define MS 1000
#define S 1000000

/* Spikes recorded from the model. */
struct record {
	uint32_t unit[65536];
	int64_t t[65536];
	size_t n;
	uint32_t count[4096];
};

/* silicon_spike_fn that stores every spike. */
static void
record_spike(void *ctx, uint32_t unit, int64_t t_us)
{
	struct record *r = ctx;

	if (r->n < 65536) {
		r->unit[r->n] = unit;
		r->t[r->n] = t_us;
		r->n++;
	}
	if (unit < 4096)
		r->count[unit]++;
}

/* A fresh zeroed record (large: heap). */
static struct record *
record_new(void)
{
	struct record *r = calloc(1, sizeof *r);

	assert_non_null(r);
	return r;
}

/* One core, no mismatch: every neuron identical. */
static struct silicon *
model_plain(float refractory_ms)
{
	struct silicon_config cfg;
	struct silicon *s;
	char *cause = NULL;

	silicon_config_default(&cfg);
	cfg.cores = 1;
	cfg.mismatch = 0;
	cfg.core.refractory_ms = refractory_ms;
	s = silicon_create(&cfg, &cause);
	assert_null(cause);
	assert_non_null(s);
	return s;
}

/* Neuron i gets a 1 s current step of current(i) pA from t = 0. */
static void
step_currents(struct silicon *s, float (*current)(int))
{
	int i;

	for (i = 0; i < SILICON_CORE_NEURONS; i++)
		assert_int_equal(silicon_stimulate(s, (uint32_t)i, current(i),
		    S, 0, NULL), 0);
}

/* 0 to 5.1 nA in 20 pA steps. */
static float
sweep_fine(int i)
{
	return (float)i * 20.0f;
}

/* 0 to 102 nA in 400 pA steps. */
static float
sweep_coarse(int i)
{
	return (float)i * 400.0f;
}

/* f-I: zero below rheobase, then non-decreasing. */
static void
test_fi_monotonic(void **state)
{
	struct silicon *s = model_plain(2);
	struct record *r = record_new();
	int i, rheobase = -1;

	step_currents(s, sweep_fine);
	silicon_advance(s, S, record_spike, r);
	for (i = 0; i < SILICON_CORE_NEURONS; i++) {
		if (rheobase < 0 && r->count[i] > 0)
			rheobase = i;
		if (i > 0)
			assert_true(r->count[i] >= r->count[i - 1]);
	}
	print_message("# f-I (1 s steps): 400 pA %u Hz, 600 pA %u Hz, "
	    "1 nA %u Hz, 2 nA %u Hz, 5 nA %u Hz; rheobase %d pA\n",
	    r->count[20], r->count[30], r->count[50], r->count[100],
	    r->count[250], rheobase * 20);
	/* Rheobase of the default AdEx is about 0.6 nA. */
	assert_true(rheobase * 20 >= 400 && rheobase * 20 <= 900);
	for (i = 0; i < rheobase; i++)
		assert_int_equal(r->count[i], 0);
	assert_true(r->count[250] > 100);
	free(r);
	silicon_free(s);
}

/* The refractory period caps the rate at 1 / refractory. */
static void
test_fi_ceiling(void **state)
{
	static const float refs[] = { 2.0f, 5.0f, 3.33f };
	struct silicon *s;
	struct record *r;
	uint32_t cap, top;
	size_t k;
	int i;

	for (k = 0; k < sizeof refs / sizeof refs[0]; k++) {
		s = model_plain(refs[k]);
		r = record_new();
		step_currents(s, sweep_coarse);
		silicon_advance(s, S, record_spike, r);
		cap = (uint32_t)floor(1000.0 / refs[k]);
		top = 0;
		for (i = 0; i < SILICON_CORE_NEURONS; i++) {
			assert_true(r->count[i] <= cap);
			if (i > 0)
				assert_true(r->count[i] >= r->count[i - 1]);
			if (r->count[i] > top)
				top = r->count[i];
		}
		print_message("# refractory %.2f ms: ceiling %u Hz, top rate "
		    "%u Hz at 102 nA\n", refs[k], cap, top);
		/* Strong drive gets close to the ceiling. */
		assert_true(top >= cap * 8 / 10);
		free(r);
		silicon_free(s);
	}
}

/* Spike-frequency adaptation: later intervals longer than the first. */
static void
test_adaptation(void **state)
{
	struct silicon *s = model_plain(2);
	struct record *r = record_new();
	int64_t first, last;

	assert_int_equal(silicon_stimulate(s, 0, 1500, S, 0, NULL), 0);
	silicon_advance(s, S, record_spike, r);
	assert_true(r->n >= 6);
	first = r->t[1] - r->t[0];
	last = r->t[r->n - 1] - r->t[r->n - 2];
	print_message("# 1.5 nA step: %zu spikes, first ISI %.1f ms, last "
	    "ISI %.1f ms\n", r->n, first / 1000.0, last / 1000.0);
	assert_true(last >= first * 3 / 2);
	free(r);
	silicon_free(s);
}

/* Fire n coincident events of weight w into neuron 0 at rest. */
static size_t
coincident(unsigned n, unsigned w)
{
	struct silicon *s = model_plain(2);
	struct record *r = record_new();
	size_t spikes;
	unsigned i;

	silicon_advance(s, 50 * MS, record_spike, r);
	for (i = 0; i < n; i++)
		assert_int_equal(silicon_input(s, 0, SILICON_SYN_AMPA, w,
		    50 * MS), 0);
	silicon_advance(s, 150 * MS, record_spike, r);
	spikes = r->n;
	if (spikes > 0)
		assert_true(r->t[0] > 50 * MS && r->t[0] < 80 * MS);
	free(r);
	silicon_free(s);
	return spikes;
}

/* Weight 255 bursts fire a neuron, weight 0 never does. */
static void
test_synaptic_weight(void **state)
{
	unsigned n, need = 0;

	assert_int_equal(coincident(50, 0), 0);
	assert_int_equal(coincident(1, 255), 0);
	assert_int_equal(coincident(3, 255), 0);
	assert_true(coincident(10, 255) >= 1);
	for (n = 1; n <= 20 && need == 0; n++) {
		if (coincident(n, 255) > 0)
			need = n;
	}
	print_message("# %u coincident weight-255 events fire a neuron\n",
	    need);
	assert_true(need >= 5 && need <= 10);
	/* Half the weight needs more events. */
	assert_int_equal(coincident(need, 127), 0);
	assert_true(coincident(2 * need + 1, 127) >= 1);
}

/* Inhibition cancels excitation; NMDA input outlasts AMPA input. */
static void
test_synapse_kinds(void **state)
{
	struct silicon *s = model_plain(2);
	struct record *r = record_new();
	struct silicon_probe ampa, nmda;
	int i;

	/* 10 excitatory events fire neuron 0, not with 10 inhibitory too. */
	for (i = 0; i < 10; i++) {
		silicon_input(s, 0, SILICON_SYN_AMPA, 255, 10 * MS);
		silicon_input(s, 1, SILICON_SYN_AMPA, 255, 10 * MS);
		silicon_input(s, 1, SILICON_SYN_GABA, 255, 10 * MS);
		silicon_input(s, 2, SILICON_SYN_NMDA, 255, 10 * MS);
		silicon_input(s, 3, SILICON_SYN_AMPA, 128, 10 * MS);
	}
	/* 60 ms later the NMDA depolarisation remains, the AMPA one not. */
	silicon_advance(s, 70 * MS, record_spike, r);
	silicon_probe(s, 2, &nmda);
	silicon_probe(s, 3, &ampa);
	assert_true(nmda.v_mv + 70.6f > 3);
	assert_true(ampa.v_mv + 70.6f < 0.5f);
	assert_true(nmda.i_nmda_pa > 0.4f * 10 * 2250 / 100);
	silicon_advance(s, 300 * MS, record_spike, r);
	assert_true(r->count[0] >= 1);
	assert_int_equal(r->count[1], 0);
	free(r);
	silicon_free(s);
}

/* Future events wait for their time; past ones apply at once. */
static void
test_event_times(void **state)
{
	struct silicon *s = model_plain(2);
	struct record *r = record_new();
	int i;

	silicon_start(s, 7 * S);
	for (i = 0; i < 10; i++)
		silicon_input(s, 0, SILICON_SYN_AMPA, 255, 7 * S + 100 * MS);
	assert_int_equal(silicon_queue_length(s), 10);
	silicon_advance(s, 7 * S + 99 * MS, record_spike, r);
	assert_int_equal(r->n, 0);
	silicon_advance(s, 7 * S + 200 * MS, record_spike, r);
	assert_int_equal(r->n, 1);
	assert_true(r->t[0] > 7 * S + 100 * MS && r->t[0] < 7 * S + 130 * MS);
	assert_int_equal(silicon_queue_length(s), 0);

	/* Stamped 150 ms in the past: applied now, at 200 ms. */
	for (i = 0; i < 10; i++)
		silicon_input(s, 5, SILICON_SYN_AMPA, 255, 7 * S + 50 * MS);
	assert_int_equal(silicon_queue_length(s), 0);
	silicon_advance(s, 7 * S + 300 * MS, record_spike, r);
	assert_int_equal(r->n, 2);
	assert_int_equal(r->unit[1], 5);
	assert_true(r->t[1] > 7 * S + 200 * MS && r->t[1] < 7 * S + 230 * MS);

	/* A stimulus ends after its width. */
	silicon_stimulate(s, 9, 3000, 100 * MS, 7 * S + 400 * MS, NULL);
	silicon_advance(s, 7 * S + 1000 * MS, record_spike, r);
	for (i = 2; i < (int)r->n; i++) {
		assert_int_equal(r->unit[i], 9);
		assert_true(r->t[i] > 7 * S + 400 * MS &&
		    r->t[i] <= 7 * S + 505 * MS);
	}
	assert_true(r->n >= 5);
	free(r);
	silicon_free(s);
}

/* Mean and standard deviation of n values. */
static void
stats(const double *x, size_t n, double *mean, double *sd)
{
	double m = 0, v = 0;
	size_t i;

	for (i = 0; i < n; i++)
		m += x[i];
	m /= n;
	for (i = 0; i < n; i++)
		v += (x[i] - m) * (x[i] - m);
	*mean = m;
	*sd = sqrt(v / (n - 1));
}

/* Mismatch: same bias, different but bounded rates and parameters. */
static void
test_mismatch(void **state)
{
	struct silicon_config cfg;
	struct silicon_probe pr;
	struct silicon *s;
	struct record *r;
	double rate[1024], gl[1024], mean, sd, lo, hi;
	uint32_t i, n = 1024;

	silicon_config_default(&cfg);
	cfg.core.bias_pa = 1500;
	s = silicon_create(&cfg, NULL);
	assert_non_null(s);
	r = record_new();
	silicon_advance(s, S, record_spike, r);
	for (i = 0; i < n; i++) {
		assert_int_equal(silicon_probe(s, i, &pr), 0);
		rate[i] = r->count[i];
		gl[i] = pr.gl_ns;
		/* Factors are clipped at 3 sigma. */
		lo = 30 * exp(-0.3 - 0.005) - 1e-3;
		hi = 30 * exp(0.3 - 0.005) + 1e-3;
		assert_true(gl[i] >= lo && gl[i] <= hi);
		assert_true(fabs(pr.vt_mv + 50.4) <= 3.0 + 1e-3);
	}
	stats(gl, n, &mean, &sd);
	assert_true(fabs(mean - 30) < 1);
	assert_true(sd / mean > 0.07 && sd / mean < 0.13);
	stats(rate, n, &mean, &sd);
	print_message("# mismatch 0.1, bias 1.5 nA: rate %.1f +- %.1f Hz\n",
	    mean, sd);
	assert_true(sd / mean > 0.02 && sd / mean < 0.5);
	for (i = 0; i < n; i++)
		assert_true(rate[i] > mean / 3 && rate[i] < mean * 3);
	free(r);
	silicon_free(s);

	/* Without mismatch all neurons are the same. */
	cfg.mismatch = 0;
	s = silicon_create(&cfg, NULL);
	r = record_new();
	silicon_advance(s, S, record_spike, r);
	for (i = 1; i < n; i++)
		assert_int_equal(r->count[i], r->count[0]);
	assert_true(r->count[0] > 0);
	free(r);
	silicon_free(s);
}

/* A small deterministic generator for test inputs. */
static uint32_t
lcg(uint32_t *x)
{
	*x = *x * 1664525u + 1013904223u;
	return *x >> 8;
}

/* Run with noise and random input; chunk == 0 means one advance. */
static struct record *
noisy_run(uint64_t seed, int chunked)
{
	struct silicon_config cfg;
	struct silicon *s;
	struct record *r = record_new();
	uint32_t x = 12345, y = 999;
	int64_t t, next_input = 0, end = 500 * MS;

	silicon_config_default(&cfg);
	cfg.seed = seed;
	cfg.chips = 2;
	cfg.cores = 1;
	cfg.core.noise_pa = 150;
	cfg.core.bias_pa = 450;
	s = silicon_create(&cfg, NULL);
	assert_non_null(s);
	silicon_start(s, 1000);
	t = 1000;
	while (t < 1000 + end) {
		/* Inputs are handed over when their time is near. */
		while (next_input < t + 20 * MS) {
			next_input += 1 + lcg(&x) % 2000;
			silicon_input(s, lcg(&x) % 256 + (lcg(&x) % 2) * 1024,
			    SILICON_SYN_AMPA, lcg(&x) % 256,
			    1000 + next_input);
		}
		t += chunked ? 1 + lcg(&y) % 7000 : 20 * MS;
		if (t > 1000 + end)
			t = 1000 + end;
		silicon_advance(s, t, record_spike, r);
	}
	assert_int_equal(silicon_time(s), 1000 + end);
	silicon_free(s);
	return r;
}

/* Same seed, same spikes, however advance is chunked. */
static void
test_determinism(void **state)
{
	struct record *a = noisy_run(7, 0), *b = noisy_run(7, 1);
	struct record *c = noisy_run(8, 0);
	size_t i, same = 0;

	print_message("# noisy run: %zu spikes\n", a->n);
	assert_true(a->n > 100);
	assert_int_equal(a->n, b->n);
	for (i = 0; i < a->n; i++) {
		assert_int_equal(a->unit[i], b->unit[i]);
		assert_int_equal(a->t[i], b->t[i]);
		assert_true(a->t[i] % SILICON_DT_US == 1000 % SILICON_DT_US);
	}
	for (i = 0; i < a->n && i < c->n; i++)
		same += a->unit[i] == c->unit[i] && a->t[i] == c->t[i];
	assert_true(same < a->n / 2);
	free(a);
	free(b);
	free(c);
}

/* Parse addr and expect success with unit. */
static void
parse_ok(int chips, int cores, const char *spec, uint32_t want)
{
	uint32_t unit = 99999;
	char *cause = NULL;

	assert_int_equal(silicon_address_parse(chips, cores, spec, &unit,
	    &cause), 0);
	assert_null(cause);
	assert_int_equal(unit, want);
}

/* Parse addr and expect an error containing text. */
static void
parse_bad(int chips, int cores, const char *spec, const char *text)
{
	uint32_t unit = 99999;
	char *cause = NULL;

	assert_int_equal(silicon_address_parse(chips, cores, spec, &unit,
	    &cause), -1);
	assert_non_null(cause);
	assert_int_equal(unit, 99999);
	if (strstr(cause, text) == NULL || strncmp(cause, "sim_silicon: ",
	    13) != 0)
		fail_msg("'%s' lacks '%s'", cause, text);
	free(cause);
}

/* Addresses: cCkKnN and unit numbers, with clear errors. */
static void
test_address(void **state)
{
	char buf[SILICON_ADDRESS_LEN];
	uint32_t u, back;

	parse_ok(1, 4, "c0k1n17", 273);
	parse_ok(4, 4, "C3K3N255", 4095);
	parse_ok(2, 2, "c1k1n0", 1024 + 256);
	parse_ok(1, 4, "273", 273);
	parse_ok(1, 1, "c0k0n0", 0);
	parse_bad(1, 4, "c1k0n0", "no chip 1 (have c0-c0)");
	parse_bad(2, 2, "c0k2n0", "no core 2 (have k0-k1");
	parse_bad(2, 2, "600", "no core 2");
	parse_bad(1, 4, "c0k0n256", "no neuron 256 (have n0-n255");
	parse_bad(1, 4, "4096", "no chip 4");
	parse_bad(1, 4, "c0k1", "bad address 'c0k1' (use cCkKnN");
	parse_bad(1, 4, "c0k1n17x", "bad address");
	parse_bad(1, 4, "k1n17", "bad address");
	parse_bad(1, 4, "c-1k0n0", "bad address");
	parse_bad(1, 4, "17 ", "bad address");
	parse_bad(1, 4, "", "empty address");
	parse_bad(1, 4, "c99999999999k0n0", "bad address");

	silicon_address_format(273, buf, sizeof buf);
	assert_string_equal(buf, "c0k1n17");
	for (u = 0; u < 4096; u++) {
		silicon_address_format(u, buf, sizeof buf);
		assert_int_equal(silicon_address_parse(4, 4, buf, &back, NULL),
		    0);
		assert_int_equal(back, u);
	}
}

/* Chips with fewer than 4 cores leave holes in the unit indices. */
static void
test_sparse_units(void **state)
{
	struct silicon_config cfg;
	struct silicon *s;
	struct record *r = record_new();
	char *cause = NULL;
	int i;

	silicon_config_default(&cfg);
	cfg.chips = 2;
	cfg.cores = 2;
	s = silicon_create(&cfg, NULL);
	assert_int_equal(silicon_units(s), 1536);
	assert_int_equal(silicon_core_count(s), 4);
	assert_true(silicon_unit_valid(s, 511));
	assert_false(silicon_unit_valid(s, 600));
	assert_true(silicon_unit_valid(s, 1029));
	assert_false(silicon_unit_valid(s, 1536));
	assert_int_equal(silicon_stimulate(s, 600, 2000, S, 0, &cause), -1);
	assert_non_null(cause);
	assert_non_null(strstr(cause, "no unit 600 (c0k2n88)"));
	free(cause);
	assert_int_equal(silicon_input(s, 600, SILICON_SYN_AMPA, 255, 0), -1);
	assert_int_equal(silicon_stimulate(s, 1029, 2000, 100 * MS, 0, NULL),
	    0);
	for (i = 0; i < 10; i++)
		silicon_input(s, 1300, SILICON_SYN_AMPA, 255, 0);
	silicon_advance(s, 200 * MS, record_spike, r);
	assert_true(r->n >= 3);
	for (i = 0; i < (int)r->n; i++)
		assert_true(r->unit[i] == 1029 || r->unit[i] == 1300);
	assert_true(r->count[1300] >= 1);
	free(r);
	silicon_free(s);
}

/* Create with one change to the defaults; expect an error with text. */
static void
create_bad(void (*change)(struct silicon_config *), const char *text)
{
	struct silicon_config cfg;
	char *cause = NULL;

	silicon_config_default(&cfg);
	change(&cfg);
	assert_null(silicon_create(&cfg, &cause));
	assert_non_null(cause);
	if (strstr(cause, text) == NULL)
		fail_msg("'%s' lacks '%s'", cause, text);
	free(cause);
}

static void chips0(struct silicon_config *c) { c->chips = 0; }
static void chips5(struct silicon_config *c) { c->chips = 5; }
static void cores5(struct silicon_config *c) { c->cores = 5; }
static void mism(struct silicon_config *c) { c->mismatch = 0.9f; }
static void refr(struct silicon_config *c) { c->core.refractory_ms = 0; }
static void tau(struct silicon_config *c) { c->core.tau_ampa_ms = NAN; }
static void peak(struct silicon_config *c) { c->core.vpeak_mv = -60; }

/* Invalid configurations are refused with what to do. */
static void
test_invalid_config(void **state)
{
	create_bad(chips0, "sim_silicon: chips=0 out of range (use 1 to 4)");
	create_bad(chips5, "chips=5 out of range (use 1 to 4)");
	create_bad(cores5, "cores=5 out of range (use 1 to 4 per chip)");
	create_bad(mism, "mismatch 0.9 out of range (use 0 to 0.5)");
	create_bad(refr, "refractory_ms 0 out of range (use 0.1 to 1000)");
	create_bad(tau, "tau_ampa_ms nan out of range");
	create_bad(peak, "vpeak_mv -60 must lie above vt_mv");
}

/* Plugin glue, through a fake host that records what the plugin does. */
static struct sb_plugin *
plugin_new(void)
{
	struct sb_plugin *p = fake_plugin_new("zurich", 42);

	assert_non_null(p);
	return p;
}

/* Load the plugin with NULL-terminated key, value pairs. */
#define load(p, ...) fake_plugin_load(p, synbridge_plugin_init, __VA_ARGS__)

/* Unload: the host frees what the plugin registered. */
static void
unload(struct sb_plugin *p)
{
	fake_plugin_free(p, synbridge_plugin_end);
}

/* The plugin registers a population and emits spikes through the host. */
static void
test_plugin_glue(void **state)
{
	struct sb_plugin *p = plugin_new();
	struct sb_emitter em = { p, 4096 };
	char *cause = NULL;
	size_t i;
	int i5 = 0, i273 = 0;

	assert_string_equal(synbridge_plugin_name, "sim_silicon");
	assert_string_equal(synbridge_plugin_api_version,
	    SB_PLUGIN_API_VERSION);

	p->now = 5 * S + 30;
	assert_int_equal(load(p, NULL), 0);
	assert_int_equal(p->registered, 1);
	assert_int_equal(p->errors, 0);
	assert_string_equal(p->neurons.name, "silicon");
	assert_int_equal(p->neurons.units, 1024);
	assert_non_null(p->neurons.advance);
	assert_non_null(p->neurons.stimulate);
	assert_non_null(p->neurons.synaptic_input);
	assert_null(p->neurons.start);

	/* Silent without input (default bias 0). */
	assert_int_equal(p->neurons.advance(p->data, p->now + 200 * MS, &em),
	    0);
	assert_int_equal(p->nevents, 0);

	/* 2 nA for 200 ms on c0k1n17; 10 weight-255 events on unit 5. */
	assert_int_equal(p->neurons.stimulate(p->data, 273, 2.0, 200 * MS,
	    p->now + 300 * MS, &cause), 0);
	for (i = 0; i < 10; i++)
		p->neurons.synaptic_input(p->data, 5, 255, 12.5,
		    p->now + 250 * MS);
	p->neurons.synaptic_input(p->data, 6, 0, 12.5, p->now + 250 * MS);
	p->neurons.advance(p->data, p->now + 400 * MS, &em);
	p->neurons.advance(p->data, p->now + 700 * MS, &em);
	for (i = 0; i < p->nevents; i++) {
		assert_int_equal(p->events[i].kind, SB_EV_SPIKE);
		assert_int_equal(p->events[i].aux, SB_SPIKE_SPONTANEOUS);
		assert_true(p->events[i].index == 5 ||
		    p->events[i].index == 273);
		if (i > 0)
			assert_true(p->events[i].t_us >= p->events[i - 1].t_us);
		if (p->events[i].index == 5) {
			i5++;
			assert_true(p->events[i].t_us > p->now + 250 * MS &&
			    p->events[i].t_us < p->now + 280 * MS);
		} else {
			i273++;
			assert_true(p->events[i].t_us > p->now + 300 * MS &&
			    p->events[i].t_us <= p->now + 500 * MS + 100);
		}
	}
	assert_true(i5 >= 1 && i5 <= 3);
	assert_true(i273 >= 5);

	/* A full ring does not stop the model. */
	em.limit = p->nevents;
	p->neurons.stimulate(p->data, 7, 3.0, 100 * MS, 0, NULL);
	p->neurons.advance(p->data, p->now + 900 * MS, &em);
	assert_int_equal(p->nevents, em.limit);
	unload(p);
}

/* Arguments shape the population; bias_pa can differ per core. */
static void
test_plugin_args(void **state)
{
	struct sb_plugin *p = plugin_new();
	struct sb_emitter em = { p, 4096 };
	size_t i;

	assert_int_equal(load(p, "chips", "2", "cores", "2", "name", "zsil",
	    "bias_pa", "0,0,1500,0", "refractory_ms", "3", "mismatch", "0.05",
	    "noise_pa", "10", "synapse", "nmda", "w_max_pa", "40", NULL), 0);
	assert_int_equal(p->errors, 0);
	assert_string_equal(p->neurons.name, "zsil");
	assert_int_equal(p->neurons.units, 1536);
	p->neurons.advance(p->data, 300 * MS, &em);
	assert_true(p->nevents > 256);
	for (i = 0; i < p->nevents; i++) {
		assert_true(p->events[i].index >= 1024 &&
		    p->events[i].index < 1280);
	}
	unload(p);
}

/* Load with one bad argument: refused, with text in the error log. */
static void
load_bad(const char *key, const char *value, const char *text)
{
	struct sb_plugin *p = plugin_new();
	int i, found = 0;

	assert_int_equal(load(p, key, value, NULL), -1);
	assert_int_equal(p->registered, 0);
	assert_true(p->errors >= 1);
	for (i = 0; i < p->nlogs; i++) {
		if (strstr(p->logs[i], text) != NULL &&
		    strncmp(p->logs[i], "sim_silicon: ", 13) == 0)
			found = 1;
	}
	if (!found)
		fail_msg("no log with '%s' (first: '%s')", text, p->logs[0]);
	unload(p);
}

/* Invalid plugin arguments are refused with clear messages. */
static void
test_plugin_bad_args(void **state)
{
	load_bad("chips", "5", "chips='5' invalid (use a whole number from "
	    "1 to 4)");
	load_bad("cores", "1.5", "cores='1.5' invalid");
	load_bad("refractory_ms", "0", "refractory_ms 0 out of range");
	load_bad("refractory_ms", "fast", "refractory_ms='fast' is not a "
	    "number");
	load_bad("mismatch", "2", "mismatch 2 out of range (use 0 to 0.5)");
	load_bad("synapse", "glutamate", "synapse='glutamate' unknown (use "
	    "ampa, nmda or gaba)");
	load_bad("bias_pa", "1,2", "bias_pa has 2 values for 4 cores (give 1 "
	    "or 4)");
	load_bad("bias_pa", "1,,2,3", "bias_pa='1,,2,3' invalid");
	load_bad("bias_pa", "1,2,3,4,5", "invalid");
	load_bad("bias_pa", "1e9", "bias_pa 1e+09 out of range");
	load_bad("w_max_pa", "-3", "w_max_pa=-3 must not be negative");
	load_bad("name", "", "name must be 1 to 63 characters");
	load_bad("noise_pa", "-1", "noise_pa -1 out of range");
}

/* stimulate refuses what it cannot do, naming the problem. */
static void
test_plugin_stimulate_errors(void **state)
{
	struct sb_plugin *p = plugin_new();
	char *cause = NULL;

	assert_int_equal(load(p, "cores", "1", NULL), 0);
	assert_int_equal(p->neurons.units, 256);
	assert_int_equal(p->neurons.stimulate(p->data, 256, 1.0, 1000, 0,
	    &cause), -1);
	assert_non_null(strstr(cause, "sim_silicon: no unit 256 (c0k1n0)"));
	free(cause);
	assert_int_equal(p->neurons.stimulate(p->data, 0, NAN, 1000, 0,
	    &cause), -1);
	assert_non_null(strstr(cause, "amplitude nan nA out of range"));
	free(cause);
	assert_int_equal(p->neurons.stimulate(p->data, 0, 1.0, 0, 0, &cause),
	    -1);
	assert_non_null(strstr(cause, "width must be at least 1 us"));
	free(cause);
	/* Input for a missing unit is ignored and logged. */
	p->neurons.synaptic_input(p->data, 9999, 255, 1.0, 0);
	assert_non_null(strstr(p->logs[p->nlogs - 1], "unit 9999 ignored"));
	unload(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fi_monotonic),
		cmocka_unit_test(test_fi_ceiling),
		cmocka_unit_test(test_adaptation),
		cmocka_unit_test(test_synaptic_weight),
		cmocka_unit_test(test_synapse_kinds),
		cmocka_unit_test(test_event_times),
		cmocka_unit_test(test_mismatch),
		cmocka_unit_test(test_determinism),
		cmocka_unit_test(test_address),
		cmocka_unit_test(test_sparse_units),
		cmocka_unit_test(test_invalid_config),
		cmocka_unit_test(test_plugin_glue),
		cmocka_unit_test(test_plugin_args),
		cmocka_unit_test(test_plugin_bad_args),
		cmocka_unit_test(test_plugin_stimulate_errors),
	};
	return cmocka_run_group_tests_name("silicon", tests, NULL, NULL);
}
