/*
 * culture.c: a cultured neuronal network on a multi-electrode array.
 *
 * Neurons: Izhikevich, "Simple model of spiking neurons", IEEE Trans.
 * Neural Networks 14:1569-1572 (2003):
 *   v' = 0.04 v^2 + 5 v + 140 - u + I,  u' = a (b v - u),
 *   on v >= 30 mV: v = c, u += d.
 * 80% excitatory regular spiking (a=0.02 b=0.2 c=-65 d=8), 20% inhibitory
 * fast spiking (a=0.1 b=0.2 c=-65 d=2); forward Euler, dt = 0.5 ms.
 *
 * Synapses: sparse random recurrent connectivity, a fixed in-degree of
 * CULTURE_K_IN (80% from excitatory, 20% from inhibitory neurons, no
 * self-connections, weights jittered +-50%), stored by presynaptic neuron
 * (CSR) and delivered event by event with a one-step delay into a fast
 * current (AMPA/GABA-like, tau 5 ms) and, for excitatory synapses, a slow
 * one (NMDA-like, tau 80 ms, 15% of the fast charge) that lets a burst
 * reverberate for ~0.2 s. Short-term depression after Tsodyks and Markram,
 * PNAS 94:719-723 (1997): each presynaptic neuron has resources x that
 * recover to 1 with tau_rec; a spike releases U x (efficacy w U x) and
 * x -= U x. As in Tsodyks, Uziel and Markram, J Neurosci 20:RC50 (2000),
 * recurrent excitation with depressing synapses ignites network bursts out
 * of background firing, the depletion of resources ends them, and the next
 * burst waits until the resources have recovered far enough.
 *
 * Background: Poisson "minis" (CULTURE_NOISE_HZ per neuron, exponential
 * amplitudes of mean CULTURE_NOISE_AMP) give sparse firing between bursts.
 *
 * Values: K_in 50, w_exc 13, w_inh 8 (current units, mean), U 0.25,
 * tau_rec 9 s, noise 10 Hz x 1.5, dt 0.5 ms (forward Euler). Tuned (seeds
 * 1-8, 60-4096 electrodes, 1-4 neurons per electrode) against dissociated
 * cortical/hippocampal cultures (Wagenaar, Pine and Potter, BMC
 * Neuroscience 7:11, 2006): network bursts every 7-10 s lasting ~0.2 s,
 * 87-91% of spikes inside bursts, 0.2-0.9 Hz per electrode between them.
 *
 * Electrodes: each records neurons_per_electrode neurons placed at random.
 * A stimulus charges the neurons at the electrode (and, at 30%, those at
 * the 8 neighbouring electrodes) with a current kick proportional to
 * |amplitude| x width (24 per V at 200 us): the threshold is ~0.25 V and
 * 0.3 V or more at 200 us evokes a spike within a few ms nearly always.
 * The first spike of a driven neuron within 10 ms is flagged stimulated.
 */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "culture.h"
#include "sb-args.h"
#include "sb-rng.h"

#define CULTURE_K_IN 50		/* synapses onto each neuron */
#define CULTURE_W_EXC 13.0f	/* mean excitatory weight (current units) */
#define CULTURE_W_INH 8.0f	/* mean inhibitory weight */
#define CULTURE_U 0.25f		/* release fraction */
#define CULTURE_TAU_REC_MS 9000.0	/* recovery of resources */
#define CULTURE_TAU_SYN_MS 5.0	/* synaptic current decay */
#define CULTURE_TAU_SLOW_MS 80.0	/* slow (NMDA-like) current decay */
#define CULTURE_SLOW_RATIO 0.15f	/* slow over fast excitatory charge */
#define CULTURE_NOISE_HZ 10.0	/* minis per neuron per second */
#define CULTURE_NOISE_AMP 1.5	/* mean mini amplitude (exponential) */
#define CULTURE_STIM_GAIN 24.0	/* current kick per V at 200 us */
#define CULTURE_STIM_NEIGHBOUR 0.3	/* relative drive of neighbours */
#define CULTURE_STIM_FLAG_MS 10	/* window for "stimulated" spikes */
#define CULTURE_STIM_MAX_Q 10.0	/* cap on |V| x width / 200 us */
#define CULTURE_STIM_PENDING_MAX 4096	/* bound on queued stimuli */
#define CULTURE_LANES 8		/* neuron arrays are padded to this */

struct culture_stim {
	int64_t		 step;
	uint32_t	 electrode;
	float		 drive;
};

struct culture {
	uint32_t	 electrodes;
	uint32_t	 npe;
	uint32_t	 n;		/* neurons */
	uint32_t	 n_exc;		/* [0, n_exc) excitatory */
	uint32_t	 n_pad;		/* n rounded up to LANES */

	uint8_t		*active;	/* per electrode */
	uint32_t	 n_active;
	uint32_t	*electrode_of;	/* per neuron */
	uint32_t	*members;	/* electrode * npe + k -> neuron */
	uint32_t	*nbr_start;	/* electrode neighbours (CSR) */
	uint32_t	*nbr;

	float		*a;		/* Izhikevich a */
	float		*v;
	float		*u;
	float		*isyn;		/* fast current */
	float		*islow;		/* slow current */
	float		*res;		/* depression resources x */
	int64_t		*last;		/* step of last spike */
	int64_t		*stim_until;	/* flag spikes until */

	uint32_t	*row;		/* CSR by presynaptic neuron */
	uint32_t	*col;
	float		*w;

	uint32_t	*fired;
	uint32_t	 n_fired;

	struct culture_stim *stims;	/* pending, sorted by step */
	size_t		 n_stims;
	size_t		 size_stims;

	struct sb_rng	 rng;		/* run time (noise) */
	double		 next_noise;	/* in steps */
	double		 noise_steps;	/* mean gap, steps */

	int64_t		 origin_us;	/* session time of step 0 */
	int64_t		 step;		/* steps done */
};

/* Set the default parameters. */
void
culture_params_default(struct culture_params *p)
{
	memset(p, 0, sizeof *p);
	p->electrodes = 60;
	p->npe = 2;
	p->inactive_fraction = 0.1;
	p->seed = 1;
}

/* Allocate n elements of size, zeroed; NULL sets *failed. */
static void *
culture_alloc(size_t n, size_t size, int *failed)
{
	void	*p = calloc(n == 0 ? 1 : n, size);

	if (p == NULL)
		*failed = 1;
	return (p);
}

/* Pick the electrodes that record nothing. */
static int
culture_pick_inactive(struct culture *c, const struct culture_params *p,
    struct sb_rng *r, char **cause)
{
	uint8_t		*dead;
	uint32_t	 i, j, k, want, *order;

	dead = calloc(c->electrodes, 1);
	order = calloc(c->electrodes, sizeof *order);
	if (dead == NULL || order == NULL) {
		free(dead);
		free(order);
		sb_cause(cause, "sim_culture: out of memory");
		return (-1);
	}
	if (c->electrodes == 60)
		dead[CULTURE_REFERENCE_60] = 1;
	if (p->inactive != NULL && culture_mea_parse_list(p->inactive,
	    c->electrodes, dead, cause) != 0) {
		free(dead);
		free(order);
		return (-1);
	}
	/* A seeded random choice among the rest. */
	for (i = 0; i < c->electrodes; i++)
		order[i] = i;
	for (i = c->electrodes - 1; i > 0; i--) {
		j = sb_rng_below(r, i + 1);
		k = order[i];
		order[i] = order[j];
		order[j] = k;
	}
	want = (uint32_t)(p->inactive_fraction * c->electrodes + 0.5);
	for (i = 0, k = 0; i < c->electrodes; i++)
		k += dead[i];
	for (i = 0; i < c->electrodes && k < want; i++) {
		if (!dead[order[i]]) {
			dead[order[i]] = 1;
			k++;
		}
	}
	c->n_active = 0;
	for (i = 0; i < c->electrodes; i++) {
		c->active[i] = !dead[i];
		c->n_active += c->active[i];
	}
	free(dead);
	free(order);
	if (c->n_active == 0) {
		sb_cause(cause, "sim_culture: no active electrodes left "
		    "(lower inactive_fraction or shorten the inactive list)");
		return (-1);
	}
	return (0);
}

/* Build the electrode neighbourhoods (8 neighbours on the grid). */
static int
culture_build_neighbours(struct culture *c)
{
	int		 side = 0, x, y, dx, dy, nx, ny;
	int		*grid;
	uint32_t	 e, n = 0;

	for (e = 0; e < c->electrodes; e++) {
		if (culture_mea_grid(c->electrodes, e, &x, &y) != 0)
			return (-1);
		if (x + 1 > side)
			side = x + 1;
	}
	grid = malloc((size_t)side * side * sizeof *grid);
	c->nbr = malloc((size_t)c->electrodes * 8 * sizeof *c->nbr);
	if (grid == NULL || c->nbr == NULL) {
		free(grid);
		return (-1);
	}
	for (e = 0; e < (uint32_t)(side * side); e++)
		grid[e] = -1;
	for (e = 0; e < c->electrodes; e++) {
		culture_mea_grid(c->electrodes, e, &x, &y);
		grid[x * side + y] = (int)e;
	}
	for (e = 0; e < c->electrodes; e++) {
		culture_mea_grid(c->electrodes, e, &x, &y);
		c->nbr_start[e] = n;
		for (dx = -1; dx <= 1; dx++) {
			for (dy = -1; dy <= 1; dy++) {
				nx = x + dx;
				ny = y + dy;
				if ((dx == 0 && dy == 0) || nx < 0 || ny < 0 ||
				    nx >= side || ny >= side ||
				    grid[nx * side + ny] == -1)
					continue;
				c->nbr[n++] = (uint32_t)grid[nx * side + ny];
			}
		}
	}
	c->nbr_start[c->electrodes] = n;
	free(grid);
	return (0);
}

/* Build the random recurrent connectivity, stored by presynaptic neuron. */
static int
culture_build_synapses(struct culture *c, struct sb_rng *r)
{
	uint32_t	 k_in = CULTURE_K_IN;
	uint32_t	 k_exc = (CULTURE_K_IN * 4 + 2) / 5;
	uint32_t	 i, j, k, pre, *pre_of, *fill;
	size_t		 total = (size_t)c->n * k_in;

	/* Networks have at least 60 neurons, so every draw has room. */

	pre_of = malloc(total * sizeof *pre_of);
	fill = calloc(c->n, sizeof *fill);
	c->row = calloc((size_t)c->n + 1, sizeof *c->row);
	c->col = malloc(total * sizeof *c->col);
	c->w = malloc(total * sizeof *c->w);
	if (pre_of == NULL || fill == NULL || c->row == NULL ||
	    c->col == NULL || c->w == NULL) {
		free(pre_of);
		free(fill);
		return (-1);
	}

	/* Draw presynaptic partners for each neuron (no self, no repeats). */
	for (i = 0; i < c->n; i++) {
		uint32_t *mine = pre_of + (size_t)i * k_in;

		for (k = 0; k < k_in; k++) {
			uint32_t lo = k < k_exc ? 0 : c->n_exc;
			uint32_t span = k < k_exc ? c->n_exc : c->n - c->n_exc;

		again:
			pre = lo + sb_rng_below(r, span);
			if (pre == i)
				goto again;
			for (j = 0; j < k; j++) {
				if (mine[j] == pre)
					goto again;
			}
			mine[k] = pre;
			c->row[pre + 1]++;
		}
	}
	for (i = 0; i < c->n; i++)
		c->row[i + 1] += c->row[i];

	/* Scatter into CSR, with weights jittered uniformly by +-50%. */
	for (i = 0; i < c->n; i++) {
		for (k = 0; k < k_in; k++) {
			float jitter = 0.5f + (float)sb_rng_uniform(r);

			pre = pre_of[(size_t)i * k_in + k];
			j = c->row[pre] + fill[pre]++;
			c->col[j] = i;
			if (pre < c->n_exc)
				c->w[j] = CULTURE_W_EXC * jitter;
			else
				c->w[j] = -CULTURE_W_INH * jitter;
		}
	}
	free(pre_of);
	free(fill);
	return (0);
}

/* Build a culture; NULL with *cause if the parameters are invalid. */
struct culture *
culture_create(const struct culture_params *p, char **cause)
{
	struct culture		*c;
	struct sb_rng		 r;
	uint32_t		 i, j, k;
	int			 failed = 0;

	if (!culture_mea_valid(p->electrodes)) {
		sb_cause(cause, "sim_culture: unsupported electrodes=%u "
		    "(use 60, 120, 256, 1024 or 4096)", p->electrodes);
		return (NULL);
	}
	if (p->npe < 1 || p->npe > CULTURE_NPE_MAX) {
		sb_cause(cause, "sim_culture: neurons_per_electrode=%u "
		    "out of range (use 1-%u)", p->npe, CULTURE_NPE_MAX);
		return (NULL);
	}
	if (!(p->inactive_fraction >= 0 && p->inactive_fraction < 1)) {
		sb_cause(cause, "sim_culture: inactive_fraction=%g out "
		    "of range (use 0 up to but not including 1)",
		    p->inactive_fraction);
		return (NULL);
	}

	c = calloc(1, sizeof *c);
	if (c == NULL) {
		sb_cause(cause, "sim_culture: out of memory");
		return (NULL);
	}
	c->electrodes = p->electrodes;
	c->npe = p->npe;
	c->n = p->electrodes * p->npe;
	c->n_exc = (c->n * 4 + 2) / 5;
	if (c->n_exc == c->n)
		c->n_exc = c->n - 1;
	/*
	 * Steps end at multiples of CULTURE_DT_US, where the host advances
	 * simulators (engine.c), so a spike goes out when its step ends.
	 */
	c->origin_us = p->start_us - ((p->start_us % CULTURE_DT_US) +
	    CULTURE_DT_US) % CULTURE_DT_US;

	c->active = culture_alloc(c->electrodes, 1, &failed);
	c->electrode_of = culture_alloc(c->n, sizeof *c->electrode_of,
	    &failed);
	c->members = culture_alloc(c->n, sizeof *c->members, &failed);
	c->nbr_start = culture_alloc((size_t)c->electrodes + 1,
	    sizeof *c->nbr_start, &failed);
	c->n_pad = (c->n + CULTURE_LANES - 1) / CULTURE_LANES * CULTURE_LANES;
	c->a = culture_alloc(c->n_pad, sizeof *c->a, &failed);
	c->v = culture_alloc(c->n_pad, sizeof *c->v, &failed);
	c->u = culture_alloc(c->n_pad, sizeof *c->u, &failed);
	c->isyn = culture_alloc(c->n_pad, sizeof *c->isyn, &failed);
	c->islow = culture_alloc(c->n_pad, sizeof *c->islow, &failed);
	c->res = culture_alloc(c->n, sizeof *c->res, &failed);
	c->last = culture_alloc(c->n, sizeof *c->last, &failed);
	c->stim_until = culture_alloc(c->n, sizeof *c->stim_until, &failed);
	c->fired = culture_alloc(c->n, sizeof *c->fired, &failed);
	if (failed || culture_build_neighbours(c) != 0) {
		sb_cause(cause, "sim_culture: out of memory");
		culture_free(c);
		return (NULL);
	}

	/* The culture (placement, wiring, start state) from stream 0. */
	sb_rng_seed(&r, p->seed, 0);
	if (culture_pick_inactive(c, p, &r, cause) != 0) {
		culture_free(c);
		return (NULL);
	}
	for (i = 0; i < c->n; i++)
		c->members[i] = i;
	for (i = c->n - 1; i > 0; i--) {
		j = sb_rng_below(&r, i + 1);
		k = c->members[i];
		c->members[i] = c->members[j];
		c->members[j] = k;
	}
	for (i = 0; i < c->n; i++)
		c->electrode_of[c->members[i]] = i / c->npe;
	if (culture_build_synapses(c, &r) != 0) {
		sb_cause(cause, "sim_culture: out of memory");
		culture_free(c);
		return (NULL);
	}
	/* Start part-way through the recovery after a burst. */
	for (i = c->n; i < c->n_pad; i++) {
		c->v[i] = -70.0f;
		c->u[i] = 0.2f * c->v[i];
	}
	for (i = 0; i < c->n; i++) {
		c->a[i] = i < c->n_exc ? 0.02f : 0.1f;
		c->v[i] = -65.0f + 5.0f * (float)sb_rng_uniform(&r);
		c->u[i] = 0.2f * c->v[i];
		c->res[i] = 0.3f + 0.4f * (float)sb_rng_uniform(&r);
		c->stim_until[i] = -1;
	}

	/* Background noise from stream 1. */
	sb_rng_seed(&c->rng, p->seed, 1);
	c->noise_steps = 1e6 / (CULTURE_NOISE_HZ * c->n * CULTURE_DT_US);
	c->next_noise = c->noise_steps * sb_rng_exp(&c->rng);
	return (c);
}

/* Free a culture. */
void
culture_free(struct culture *c)
{
	if (c == NULL)
		return;
	free(c->active);
	free(c->electrode_of);
	free(c->members);
	free(c->nbr_start);
	free(c->nbr);
	free(c->a);
	free(c->v);
	free(c->u);
	free(c->isyn);
	free(c->islow);
	free(c->res);
	free(c->last);
	free(c->stim_until);
	free(c->row);
	free(c->col);
	free(c->w);
	free(c->fired);
	free(c->stims);
	free(c);
}

/* Number of electrodes. */
uint32_t
culture_electrodes(const struct culture *c)
{
	return (c->electrodes);
}

/* Number of neurons. */
uint32_t
culture_neurons(const struct culture *c)
{
	return (c->n);
}

/* Does an electrode record? */
int
culture_active(const struct culture *c, uint32_t electrode)
{
	return (electrode < c->electrodes && c->active[electrode]);
}

/* Number of recording electrodes. */
uint32_t
culture_active_count(const struct culture *c)
{
	return (c->n_active);
}

/* Session time the model has reached. */
int64_t
culture_now(const struct culture *c)
{
	return (c->origin_us + c->step * CULTURE_DT_US);
}

/* Queue a drive for the step containing t_us (or the next one to run). */
static int
culture_queue(struct culture *c, uint32_t electrode, float drive, int64_t t_us)
{
	struct culture_stim	*s;
	int64_t			 step;
	size_t			 i, size;

	if (t_us <= c->origin_us)
		step = 0;
	else
		step = (t_us - c->origin_us) / CULTURE_DT_US;
	if (step < c->step)
		step = c->step;
	if (c->n_stims == CULTURE_STIM_PENDING_MAX)
		return (-1);
	if (c->n_stims == c->size_stims) {
		size = c->size_stims == 0 ? 16 : c->size_stims * 2;
		s = realloc(c->stims, size * sizeof *s);
		if (s == NULL)
			return (-1);
		c->stims = s;
		c->size_stims = size;
	}
	/* Keep the queue sorted by step, in order of arrival within one. */
	i = c->n_stims;
	while (i > 0 && c->stims[i - 1].step > step) {
		c->stims[i] = c->stims[i - 1];
		i--;
	}
	c->stims[i].step = step;
	c->stims[i].electrode = electrode;
	c->stims[i].drive = drive;
	c->n_stims++;
	return (0);
}

/* Drive the neurons of one electrode. */
static void
culture_drive(struct culture *c, uint32_t electrode, float drive)
{
	const uint32_t	*m = c->members + (size_t)electrode * c->npe;
	int64_t		 until = c->step + CULTURE_STIM_FLAG_MS * 1000 /
			     CULTURE_DT_US;
	uint32_t	 k;

	for (k = 0; k < c->npe; k++) {
		c->isyn[m[k]] += drive;
		c->stim_until[m[k]] = until;
	}
}

/* Apply the stimuli due at this step. */
static void
culture_apply_stims(struct culture *c)
{
	const struct culture_stim	*s;
	size_t				 done = 0;
	uint32_t			 k;

	while (done < c->n_stims && c->stims[done].step <= c->step) {
		s = &c->stims[done++];
		culture_drive(c, s->electrode, s->drive);
		for (k = c->nbr_start[s->electrode];
		    k < c->nbr_start[s->electrode + 1]; k++)
			culture_drive(c, c->nbr[k],
			    s->drive * (float)CULTURE_STIM_NEIGHBOUR);
	}
	if (done != 0) {
		memmove(c->stims, c->stims + done,
		    (c->n_stims - done) * sizeof *c->stims);
		c->n_stims -= done;
	}
}

/* Deliver the background minis of this step. */
static void
culture_noise(struct culture *c)
{
	uint32_t	i;

	while (c->next_noise < (double)(c->step + 1)) {
		i = sb_rng_below(&c->rng, c->n);
		c->isyn[i] += (float)(CULTURE_NOISE_AMP *
		    sb_rng_exp(&c->rng));
		c->next_noise += c->noise_steps * sb_rng_exp(&c->rng);
	}
}

/*
 * Integrate all neurons by one step. The arrays are padded to a multiple
 * of CULTURE_LANES (padding neurons get no input and never fire), so the
 * fixed-length inner loop vectorises even at -O2.
 */
static void
culture_integrate(float *restrict v, float *restrict u, float *restrict isyn,
    float *restrict islow, const float *restrict a, uint32_t n, float decay,
    float slow)
{
	const float	dt = CULTURE_DT_US / 1000.0f, b = 0.2f;
	uint32_t	i, j;
	float		vj;

	for (i = 0; i < n; i += CULTURE_LANES) {
		for (j = 0; j < CULTURE_LANES; j++) {
			vj = v[j];
			vj += dt * (0.04f * vj * vj + 5.0f * vj + 140.0f -
			    u[j] + isyn[j] + islow[j]);
			u[j] += dt * a[j] * (b * vj - u[j]);
			v[j] = vj;
			isyn[j] *= decay;
			islow[j] *= slow;
		}
		v += CULTURE_LANES;
		u += CULTURE_LANES;
		isyn += CULTURE_LANES;
		islow += CULTURE_LANES;
		a += CULTURE_LANES;
	}
}

/* Run one step: inputs, integration, spikes and their synaptic events. */
static void
culture_step(struct culture *c, culture_spike_fn fn, void *ctx)
{
	const float	 decay = (float)exp(-(CULTURE_DT_US / 1000.0) /
			     CULTURE_TAU_SYN_MS);
	const float	 slow = (float)exp(-(CULTURE_DT_US / 1000.0) /
			     CULTURE_TAU_SLOW_MS);
	const double	 rec = (CULTURE_DT_US / 1000.0) /
			     CULTURE_TAU_REC_MS;
	uint32_t	 i, k, f, e;
	float		 eff, x, *isyn = c->isyn, *islow = c->islow;
	int64_t		 t_us;
	int		 stimulated;

	if (c->n_stims != 0)
		culture_apply_stims(c);
	culture_noise(c);
	culture_integrate(c->v, c->u, c->isyn, c->islow, c->a, c->n_pad,
	    decay, slow);

	c->n_fired = 0;
	for (i = 0; i < c->n; i++) {
		if (c->v[i] >= 30.0f)
			c->fired[c->n_fired++] = i;
	}
	t_us = c->origin_us + (c->step + 1) * CULTURE_DT_US;
	for (f = 0; f < c->n_fired; f++) {
		i = c->fired[f];
		c->v[i] = -65.0f;
		c->u[i] += i < c->n_exc ? 8.0f : 2.0f;

		/* Recover resources since the last spike, then release. */
		x = 1.0f - (1.0f - c->res[i]) *
		    (float)exp(-(double)(c->step - c->last[i]) * rec);
		eff = CULTURE_U * x;
		c->res[i] = x - eff;
		c->last[i] = c->step;
		if (i < c->n_exc) {
			for (k = c->row[i]; k < c->row[i + 1]; k++) {
				isyn[c->col[k]] += eff * c->w[k];
				islow[c->col[k]] += eff * CULTURE_SLOW_RATIO *
				    c->w[k];
			}
		} else {
			for (k = c->row[i]; k < c->row[i + 1]; k++)
				isyn[c->col[k]] += eff * c->w[k];
		}

		e = c->electrode_of[i];
		stimulated = c->stim_until[i] >= c->step;
		if (stimulated)
			c->stim_until[i] = -1;
		if (c->active[e] && fn != NULL)
			fn(ctx, t_us, e, stimulated);
	}
	c->step++;
}

/* Simulate up to session time t_us, reporting recorded spikes. */
void
culture_advance(struct culture *c, int64_t t_us, culture_spike_fn fn,
    void *ctx)
{
	while (c->origin_us + (c->step + 1) * CULTURE_DT_US <= t_us)
		culture_step(c, fn, ctx);
}

/* Current kick for a pulse of amplitude_v and width_us. */
static float
culture_stim_drive(double amplitude_v, uint32_t width_us)
{
	double	q;

	q = fabs(amplitude_v) * width_us / CULTURE_DEFAULT_WIDTH_US;

	if (q > CULTURE_STIM_MAX_Q)
		q = CULTURE_STIM_MAX_Q;
	return ((float)(CULTURE_STIM_GAIN * q));
}

/* Stimulate an electrode at t_us; -1 with *cause if refused. */
int
culture_stimulate(struct culture *c, uint32_t electrode, double amplitude_v,
    uint32_t width_us, int64_t t_us, char **cause)
{
	if (electrode >= c->electrodes) {
		sb_cause(cause, "sim_culture: no electrode %u (have "
		    "0-%u)", electrode, c->electrodes - 1);
		return (-1);
	}
	if (!c->active[electrode]) {
		sb_cause(cause, "sim_culture: electrode %u is %s and "
		    "cannot stimulate (choose an active electrode)", electrode,
		    (c->electrodes == 60 && electrode == CULTURE_REFERENCE_60) ?
		    "the reference electrode" : "inactive");
		return (-1);
	}
	if (!(fabs(amplitude_v) > 0 && fabs(amplitude_v) <= CULTURE_MAX_V)) {
		sb_cause(cause, "sim_culture: stimulus amplitude %g V "
		    "out of range (use 0 < |V| <= %g, e.g. 0.8)", amplitude_v,
		    CULTURE_MAX_V);
		return (-1);
	}
	if (width_us > CULTURE_MAX_WIDTH_US) {
		sb_cause(cause, "sim_culture: stimulus width %u us too "
		    "long (use at most %u us, e.g. 200)", width_us,
		    CULTURE_MAX_WIDTH_US);
		return (-1);
	}
	if (width_us == 0)
		width_us = CULTURE_DEFAULT_WIDTH_US;
	if (culture_queue(c, electrode, culture_stim_drive(amplitude_v,
	    width_us), t_us) != 0) {
		sb_cause(cause, "sim_culture: too many pending stimuli "
		    "(%u not yet due; stimulate nearer to now)",
		    (unsigned)c->n_stims);
		return (-1);
	}
	return (0);
}

/* A weighted synaptic event: a 1 V, 200 us stimulus scaled by weight/255. */
void
culture_synaptic_input(struct culture *c, uint32_t electrode,
    unsigned weight, double g_us, int64_t t_us)
{
	if (electrode >= c->electrodes || !c->active[electrode] ||
	    weight == 0)
		return;
	if (weight > 255)
		weight = 255;
	(void)culture_queue(c, electrode, culture_stim_drive(weight / 255.0,
	    CULTURE_DEFAULT_WIDTH_US), t_us);
}
