/* test-culture.c: the simulated MEA culture and its plugin glue. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake-host.h"
#include "synbridge-plugin.h"
#include "culture.h"

int	synbridge_plugin_init(struct sb_plugin *,
	    const struct sb_host_api *);
void	synbridge_plugin_end(struct sb_plugin *);
extern const char synbridge_plugin_name[];
extern const char synbridge_plugin_api_version[];

/* A recorded spike train. */
struct train {
	size_t		 n;
	size_t		 size;
	int64_t		*t;
	uint32_t	*e;
	uint8_t		*stim;
};

/* Record one spike. */
static void
train_add(void *ctx, int64_t t_us, uint32_t electrode, int stimulated)
{
	struct train	*tr = ctx;

	if (tr->n == tr->size) {
		tr->size = tr->size == 0 ? 4096 : tr->size * 2;
		tr->t = realloc(tr->t, tr->size * sizeof *tr->t);
		tr->e = realloc(tr->e, tr->size * sizeof *tr->e);
		tr->stim = realloc(tr->stim, tr->size);
		assert_non_null(tr->t);
		assert_non_null(tr->e);
		assert_non_null(tr->stim);
	}
	tr->t[tr->n] = t_us;
	tr->e[tr->n] = electrode;
	tr->stim[tr->n] = (uint8_t)stimulated;
	tr->n++;
}

/* Free a train. */
static void
train_free(struct train *tr)
{
	free(tr->t);
	free(tr->e);
	free(tr->stim);
	memset(tr, 0, sizeof *tr);
}

/* Do two trains hold exactly the same spikes? */
static int
train_equal(const struct train *a, const struct train *b)
{
	return (a->n == b->n &&
	    memcmp(a->t, b->t, a->n * sizeof *a->t) == 0 &&
	    memcmp(a->e, b->e, a->n * sizeof *a->e) == 0 &&
	    memcmp(a->stim, b->stim, a->n) == 0);
}

/* Make a culture or fail the test. */
static struct culture *
make(uint32_t electrodes, uint64_t seed, double inactive_fraction,
    const char *inactive)
{
	struct culture_params	 p;
	struct culture		*c;
	char			*cause = NULL;

	culture_params_default(&p);
	p.electrodes = electrodes;
	p.seed = seed;
	p.inactive_fraction = inactive_fraction;
	p.inactive = inactive;
	c = culture_create(&p, &cause);
	if (c == NULL)
		fail_msg("%s", cause);
	return (c);
}

/*
 * Network bursts, by population rate: spikes of all recording electrodes
 * in 10 ms bins; a bin is "bursting" when the rate exceeds 10 Hz per
 * recording electrode (twice the top of the background range); bursting
 * bins closer than 100 ms are merged into one burst, which spans from
 * the start of its first bin to the end of its last.
 */
#define BURST_BIN_US 10000
#define BURST_RATE_HZ 10.0
#define BURST_MERGE_BINS 10

struct burst_stats {
	int		 bursts;
	int		 bursts_in_range;	/* lasting 0.1-2 s */
	double		 mean_interval_s;	/* onset to onset */
	double		 mean_duration_s;
	double		 min_duration_s;
	double		 max_duration_s;
	double		 in_bursts;		/* of all spikes */
	double		 background_hz;		/* per electrode */
};

/* Detect network bursts in a train of duration_s seconds. */
static void
burst_detect(const struct train *tr, uint32_t active, double duration_s,
    struct burst_stats *bs)
{
	size_t		 nbins = (size_t)(duration_s * 1e6) /
			     BURST_BIN_US;
	int		*count = calloc(nbins, sizeof *count);
	uint8_t		*in = calloc(nbins, 1);
	double		 threshold = BURST_RATE_HZ * active *
			     BURST_BIN_US / 1e6;
	double		 first = -1, last = -1, d;
	size_t		 start = 0, end = 0, k, i, inside = 0;
	size_t		 out_bins = 0;
	int		 open = 0;

	assert_non_null(count);
	assert_non_null(in);
	memset(bs, 0, sizeof *bs);
	bs->min_duration_s = 1e9;
	for (i = 0; i < tr->n; i++) {
		k = (size_t)(tr->t[i] / BURST_BIN_US);
		if (k < nbins)
			count[k]++;
	}
	for (k = 0; k <= nbins; k++) {
		if (k < nbins && count[k] > threshold) {
			if (open && k - end <= BURST_MERGE_BINS) {
				end = k;
				continue;
			}
		} else if (k < nbins || !open)
			continue;
		if (open) {
			/* Close the burst [start, end]. */
			d = (end - start + 1) * BURST_BIN_US / 1e6;
			bs->bursts++;
			bs->mean_duration_s += d;
			if (d < bs->min_duration_s)
				bs->min_duration_s = d;
			if (d > bs->max_duration_s)
				bs->max_duration_s = d;
			if (d >= 0.1 && d <= 2.0)
				bs->bursts_in_range++;
			memset(in + start, 1, end - start + 1);
			last = start * BURST_BIN_US / 1e6;
			if (first < 0)
				first = last;
		}
		open = k < nbins;
		start = end = k;
	}
	for (k = 0; k < nbins; k++) {
		if (in[k])
			inside += (size_t)count[k];
		else
			out_bins++;
	}
	if (bs->bursts > 0)
		bs->mean_duration_s /= bs->bursts;
	if (bs->bursts > 1)
		bs->mean_interval_s = (last - first) / (bs->bursts - 1);
	bs->in_bursts = tr->n == 0 ? 0 : (double)inside / (double)tr->n;
	bs->background_hz = (double)(tr->n - inside) /
	    (active * out_bins * BURST_BIN_US / 1e6);
	free(count);
	free(in);
}

/* Run a culture for a duration and check its bursting statistics. */
static void
check_bursting(uint32_t electrodes, uint64_t seed, double duration_s)
{
	struct culture		*c = make(electrodes, seed, 0.1, NULL);
	struct train		 tr = { 0 };
	struct burst_stats	 bs;

	culture_advance(c, (int64_t)(duration_s * 1e6), train_add, &tr);
	burst_detect(&tr, culture_active_count(c), duration_s, &bs);
	print_message("%u electrodes, seed %llu, %.0f s: %d bursts, every "
	    "%.1f s, lasting %.2f s (%.2f-%.2f), %.1f%% of spikes in bursts, "
	    "background %.2f Hz per electrode\n", electrodes,
	    (unsigned long long)seed, duration_s, bs.bursts,
	    bs.mean_interval_s, bs.mean_duration_s, bs.min_duration_s,
	    bs.max_duration_s, 100 * bs.in_bursts, bs.background_hz);

	/* One burst per 5-30 s. */
	assert_true(bs.bursts >= duration_s / 30);
	assert_true(bs.bursts <= duration_s / 5 + 1);
	assert_true(bs.mean_interval_s >= 5 && bs.mean_interval_s <= 30);
	/* Lasting 0.1-2 s (all but a possible straggler). */
	assert_true(bs.mean_duration_s >= 0.1 && bs.mean_duration_s <= 2);
	assert_true(bs.bursts_in_range >= bs.bursts - 1);
	/* Most spikes inside bursts, sparse firing between them. */
	assert_true(bs.in_bursts >= 0.7);
	assert_true(bs.background_hz >= 0.1 && bs.background_hz <= 5);

	train_free(&tr);
	culture_free(c);
}

/* A classic 60-electrode culture bursts like a real one. */
static void
test_bursting_60(void **state)
{
	check_bursting(60, 7, 90);
	check_bursting(60, 8, 90);
}

/* So does a large array (the network is 2048 neurons). */
static void
test_bursting_1024(void **state)
{
	check_bursting(1024, 11, 60);
}

/* Inactive electrodes (listed, drawn or the reference) never spike. */
static void
test_inactive_silent(void **state)
{
	struct culture	*c = make(60, 3, 0.2, "5,7-9,59");
	struct train	 tr = { 0 };
	uint32_t	 e, *per = calloc(60, sizeof *per);
	size_t		 i;
	char		*cause = NULL;

	assert_non_null(per);
	assert_int_equal(culture_active_count(c), 48);
	assert_false(culture_active(c, CULTURE_REFERENCE_60));
	assert_false(culture_active(c, 5));
	assert_false(culture_active(c, 8));
	assert_false(culture_active(c, 59));
	assert_false(culture_active(c, 60));

	culture_advance(c, 30 * 1000000, train_add, &tr);
	assert_true(tr.n > 1000);
	for (i = 0; i < tr.n; i++)
		per[tr.e[i]]++;
	for (e = 0; e < 60; e++) {
		if (!culture_active(c, e))
			assert_int_equal(per[e], 0);
	}
	/* Stimulating through one is refused with the reason. */
	assert_int_equal(culture_stimulate(c, CULTURE_REFERENCE_60, 0.8, 200,
	    31000000, &cause), -1);
	assert_non_null(strstr(cause, "reference electrode"));
	free(cause);
	cause = NULL;
	assert_int_equal(culture_stimulate(c, 7, 0.8, 200, 31000000, &cause),
	    -1);
	assert_non_null(strstr(cause, "electrode 7 is inactive"));
	free(cause);

	free(per);
	train_free(&tr);
	culture_free(c);
}

/* Run a culture to 20 s in the given chunks, with two stimuli queued. */
static void
run_chunked(uint64_t seed, const int64_t *chunks, size_t n, struct train *tr)
{
	struct culture	*c = make(256, seed, 0.1, NULL);
	int64_t		 t = 0;
	size_t		 i = 0;
	uint32_t	 e = 0;

	while (!culture_active(c, e))
		e++;
	assert_int_equal(culture_stimulate(c, e, 0.8, 200, 3001234, NULL), 0);
	culture_synaptic_input(c, e + 1, 200, 1.0, 7000000);
	while (t < 20000000) {
		t += chunks[i++ % n];
		if (t > 20000000)
			t = 20000000;
		culture_advance(c, t, train_add, tr);
		assert_true(culture_now(c) <= t &&
		    culture_now(c) > t - CULTURE_DT_US);
	}
	assert_int_equal(culture_now(c), 20000000);
	culture_free(c);
}

/* Same seed, same spikes, however the time is chunked; other seed, other. */
static void
test_deterministic(void **state)
{
	static const int64_t	 one[] = { 20000000 };
	static const int64_t	 odd[] = { 1, 777, 499, 500, 0, 12345,
				     1000000 };
	static const int64_t	 ms[] = { 1000 };
	struct train		 a = { 0 }, b = { 0 }, c = { 0 }, d = { 0 };

	run_chunked(42, one, 1, &a);
	run_chunked(42, odd, 7, &b);
	run_chunked(42, ms, 1, &c);
	run_chunked(43, one, 1, &d);
	assert_true(a.n > 1000);
	assert_true(train_equal(&a, &b));
	assert_true(train_equal(&a, &c));
	assert_false(train_equal(&a, &d));
	train_free(&a);
	train_free(&b);
	train_free(&c);
	train_free(&d);
}

/* Does electrode e spike in [t0, t0 + window) (stimulated if asked)? */
static int
spiked(const struct train *tr, uint32_t e, int64_t t0, int64_t window,
    int stimulated)
{
	size_t	i;

	for (i = 0; i < tr->n; i++) {
		if (tr->e[i] == e && tr->t[i] >= t0 &&
		    tr->t[i] < t0 + window && (!stimulated || tr->stim[i]))
			return (1);
	}
	return (0);
}

/*
 * Stimulate 40 electrodes (one every 1.5 s) and count those that spike
 * within 20 ms; a control culture (same seed, no stimulus) gives chance.
 */
static void
check_evoked(double amplitude_v, unsigned weight, int *evoked, int *chance,
    int *flagged)
{
	struct culture	*c = make(60, 5, 0.1, NULL);
	struct culture	*ctl = make(60, 5, 0.1, NULL);
	struct train	 tr = { 0 }, tc = { 0 };
	int64_t		 t, times[40];
	uint32_t	 e = 0, es[40];
	int		 i;

	*evoked = *chance = *flagged = 0;
	for (i = 0; i < 40; i++) {
		t = 1000000 + i * 1500000 + 250;
		do
			e = (e + 23) % 60;
		while (!culture_active(c, e));
		culture_advance(c, t, train_add, &tr);
		culture_advance(ctl, t, train_add, &tc);
		if (weight != 0 || amplitude_v == 0)
			culture_synaptic_input(c, e, weight, 1.0, t);
		else
			assert_int_equal(culture_stimulate(c, e, amplitude_v,
			    200, t, NULL), 0);
		times[i] = t;
		es[i] = e;
	}
	culture_advance(c, 62000000, train_add, &tr);
	culture_advance(ctl, 62000000, train_add, &tc);
	for (i = 0; i < 40; i++) {
		*evoked += spiked(&tr, es[i], times[i], 20000, 0);
		*flagged += spiked(&tr, es[i], times[i], 20000, 1);
		*chance += spiked(&tc, es[i], times[i], 20000, 0);
	}
	if (weight == 0 && amplitude_v == 0)
		assert_true(train_equal(&tr, &tc));
	train_free(&tr);
	train_free(&tc);
	culture_free(c);
	culture_free(ctl);
}

/* A 0.8 V stimulus evokes a flagged spike at its electrode within 20 ms. */
static void
test_stimulus_evokes(void **state)
{
	int	evoked, chance, flagged;

	check_evoked(0.8, 0, &evoked, &chance, &flagged);
	print_message("0.8 V: evoked %d/40, flagged %d/40, chance %d/40\n",
	    evoked, flagged, chance);
	assert_true(evoked >= 36);
	assert_true(flagged >= 36);
	assert_true(chance <= 8);

	check_evoked(0.5, 0, &evoked, &chance, &flagged);
	print_message("0.5 V: evoked %d/40, chance %d/40\n", evoked, chance);
	assert_true(evoked >= 36);

	/* Below threshold (~0.25 V) it mostly fails. */
	check_evoked(0.1, 0, &evoked, &chance, &flagged);
	print_message("0.1 V: evoked %d/40, chance %d/40\n", evoked, chance);
	assert_true(evoked <= 10);
}

/* A synaptic event of full weight evokes spikes; weight 0 does nothing. */
static void
test_synaptic_input(void **state)
{
	int	evoked, chance, flagged;

	check_evoked(0, 255, &evoked, &chance, &flagged);
	print_message("weight 255: evoked %d/40, chance %d/40\n", evoked,
	    chance);
	assert_true(evoked >= 36);
	assert_true(chance <= 8);

	/* A weak one (as from 0.08 V) rarely does: the weight matters. */
	check_evoked(0, 20, &evoked, &chance, &flagged);
	print_message("weight 20: evoked %d/40, chance %d/40\n", evoked,
	    chance);
	assert_true(evoked <= 10);

	/* Weight 0: the spike trains match the control exactly. */
	check_evoked(0, 0, &evoked, &chance, &flagged);
	assert_int_equal(evoked, chance);
}

/* Create a culture that must be refused with a cause containing want. */
static void
refused(uint32_t electrodes, uint32_t npe, double fraction,
    const char *inactive, const char *want)
{
	struct culture_params	 p;
	char			*cause = NULL;

	culture_params_default(&p);
	p.electrodes = electrodes;
	p.npe = npe;
	p.inactive_fraction = fraction;
	p.inactive = inactive;
	assert_null(culture_create(&p, &cause));
	assert_non_null(cause);
	assert_true(strncmp(cause, "sim_culture: ", 13) == 0);
	if (strstr(cause, want) == NULL)
		fail_msg("cause '%s' lacks '%s'", cause, want);
	free(cause);
}

/* Stimulate with bad arguments; the cause must contain want. */
static void
stim_refused(struct culture *c, uint32_t e, double v, uint32_t width,
    const char *want)
{
	char	*cause = NULL;

	assert_int_equal(culture_stimulate(c, e, v, width, 0, &cause), -1);
	assert_non_null(cause);
	if (strstr(cause, want) == NULL)
		fail_msg("cause '%s' lacks '%s'", cause, want);
	free(cause);
}

/* Invalid sizes, lists and stimuli are refused with a clear message. */
static void
test_invalid_args(void **state)
{
	struct culture	*c;
	uint32_t	 sizes[] = { 60, 120, 256, 1024, 4096 }, i;
	int		 x, y;

	refused(61, 2, 0.1, NULL, "use 60, 120, 256, 1024 or 4096");
	refused(0, 2, 0.1, NULL, "unsupported electrodes=0");
	refused(60, 0, 0.1, NULL, "neurons_per_electrode=0");
	refused(60, 17, 0.1, NULL, "use 1-16");
	refused(60, 2, 1.0, NULL, "inactive_fraction=1");
	refused(60, 2, -0.1, NULL, "inactive_fraction");
	refused(60, 2, 0, "3,x", "bad inactive electrode list '3,x'");
	refused(60, 2, 0, "4-2", "bad inactive electrode list");
	refused(60, 2, 0, "60", "inactive electrode 60 out of range "
	    "(have 0-59)");
	refused(60, 2, 0, "0-59", "no active electrodes");

	/* Every layout has its electrodes at distinct grid positions. */
	for (i = 0; i < 5; i++) {
		assert_true(culture_mea_valid(sizes[i]));
		assert_int_equal(culture_mea_grid(sizes[i], sizes[i] - 1, &x,
		    &y), 0);
		assert_int_equal(culture_mea_grid(sizes[i], sizes[i], &x, &y),
		    -1);
	}
	assert_int_equal(culture_mea_grid(60, 0, &x, &y), 0);
	assert_true(x == 0 && y == 1);	/* corner (0,0) is cut off */

	c = make(60, 1, 0, NULL);
	stim_refused(c, 60, 0.8, 200, "no electrode 60 (have 0-59)");
	stim_refused(c, 0, 0, 200, "amplitude 0 V out of range");
	stim_refused(c, 0, 6, 200, "amplitude 6 V out of range");
	stim_refused(c, 0, NAN, 200, "out of range");
	stim_refused(c, 0, 0.8, 20000, "width 20000 us too long");
	assert_int_equal(culture_stimulate(c, 0, -0.8, 0, 0, NULL), 0);

	/* Pending stimuli are bounded; once due they make room again. */
	for (i = 1; i < 4096; i++)
		assert_int_equal(culture_stimulate(c, 0, 0.8, 200,
		    1000000 + i, NULL), 0);
	stim_refused(c, 0, 0.8, 200, "too many pending stimuli (4096");
	culture_advance(c, 1001000, NULL, NULL);
	assert_int_equal(culture_stimulate(c, 0, 0.8, 200, 2000000, NULL), 0);
	culture_free(c);
}

/* The fake host's site, seed and fast mode for the plugin tests. */
#define FAKE_CULTURE .site = "padova", .seed = 1234, .fast = 1

/* The plugin registers a population of electrodes that emits spikes. */
static void
test_plugin_glue(void **state)
{
	struct sb_plugin	 p = { .args = { { "electrodes", "120" },
				       { "name", "dish" },
				       { "neurons_per_electrode", "1" } },
				       FAKE_CULTURE };
	struct sb_emitter	 em = { &p, 4096 };
	char			*cause = NULL;
	size_t			 i, stimulated = 0;

	assert_string_equal(synbridge_plugin_name, "sim_culture");
	assert_string_equal(synbridge_plugin_api_version,
	    SB_PLUGIN_API_VERSION);
	assert_int_equal(synbridge_plugin_init(&p, &fake_host), 0);
	assert_int_equal(p.registered, 1);
	assert_string_equal(p.neurons.name, "dish");
	assert_int_equal(p.neurons.units, 120);
	assert_non_null(p.neurons.advance);
	assert_null(p.neurons.start);
	assert_non_null(strstr(p.logs[0], "sim_culture: dish: 120 electrodes"));
	assert_non_null(strstr(p.logs[0], "120 neurons, seed 1234"));

	assert_int_equal(p.neurons.stimulate(p.data, 7, 0.8, 200, 500000,
	    &cause), 0);
	assert_int_equal(p.neurons.stimulate(p.data, 120, 0.8, 200, 500000,
	    &cause), -1);
	assert_non_null(strstr(cause, "no electrode 120"));
	free(cause);
	p.neurons.synaptic_input(p.data, 999, 255, 1.0, 0);
	p.neurons.synaptic_input(p.data, 999, 255, 1.0, 0);
	assert_int_equal(p.nlogs, 2);
	assert_non_null(strstr(p.logs[1], "electrode 999 ignored"));

	assert_int_equal(p.neurons.advance(p.data, 10000000, &em), 0);
	assert_true(p.nevents > 50);
	for (i = 0; i < p.nevents; i++) {
		assert_int_equal(p.events[i].kind, SB_EV_SPIKE);
		assert_true(p.events[i].index < 120);
		assert_true(p.events[i].t_us > 0 &&
		    p.events[i].t_us <= 10000000);
		if (i > 0)
			assert_true(p.events[i].t_us >= p.events[i - 1].t_us);
		if (p.events[i].aux == SB_SPIKE_STIMULATED) {
			assert_true(p.events[i].t_us >= 500000 &&
			    p.events[i].t_us < 520000);
			stimulated++;
		} else
			assert_int_equal(p.events[i].aux, SB_SPIKE_SPONTANEOUS);
	}
	assert_true(stimulated >= 1);
	fake_plugin_unload(&p, synbridge_plugin_end);
}

/* Init with bad args: refused, logged with the reason, nothing left. */
static void
plugin_refused(const char *key, const char *value, const char *want)
{
	struct sb_plugin	 p = { .args = { { key, value } },
				       FAKE_CULTURE };

	assert_int_equal(synbridge_plugin_init(&p, &fake_host), -1);
	assert_int_equal(p.registered, 0);
	assert_int_equal(p.nlogs, 1);
	if (strstr(p.logs[0], want) == NULL)
		fail_msg("log '%s' lacks '%s'", p.logs[0], want);
	fake_plugin_unload(&p, NULL);
}

/* The plugin refuses bad arguments with a message naming them. */
static void
test_plugin_args(void **state)
{
	plugin_refused("electrodes", "61", "sim_culture: unsupported "
	    "electrodes=61 (use 60, 120, 256, 1024 or 4096)");
	plugin_refused("electrodes", "sixty", "sim_culture: "
	    "electrodes='sixty' is not a whole number");
	plugin_refused("electrodes", "-60", "is not a whole number");
	plugin_refused("neurons_per_electrode", "99", "use 1-16");
	plugin_refused("inactive_fraction", "lots", "inactive_fraction='lots' "
	    "is not a number");
	plugin_refused("inactive", "1,,2", "bad inactive electrode list");
	plugin_refused("name", "", "name= is empty");
}

/* The built module exports exactly what the host looks up. */
static void
test_plugin_module(void **state)
{
	sb_plugin_init_fn	 init;
	sb_plugin_end_fn	 end;
	char			*cause = NULL;
	void			*h;

	/* The model stays private to the module. */
	h = fake_module_open("plugins/sim_culture/.libs/sim_culture.so",
	    "sim_culture", &init, &end, &cause);
	if (h == NULL)
		fail_msg("%s", cause);
	dlclose(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bursting_60),
		cmocka_unit_test(test_bursting_1024),
		cmocka_unit_test(test_inactive_silent),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_stimulus_evokes),
		cmocka_unit_test(test_synaptic_input),
		cmocka_unit_test(test_invalid_args),
		cmocka_unit_test(test_plugin_glue),
		cmocka_unit_test(test_plugin_args),
		cmocka_unit_test(test_plugin_module),
	};
	return cmocka_run_group_tests_name("culture", tests, NULL, NULL);
}
