/*
 * culture.h: a simulated cultured neuronal network on a multi-electrode
 * array (Izhikevich neurons, depressing synapses, network bursts).
 */
#ifndef SB_CULTURE_H
#define SB_CULTURE_H

#include <stddef.h>
#include <stdint.h>

/* The model's fixed time step (microseconds). */
#define CULTURE_DT_US 500

/* Limits of the arguments. */
#define CULTURE_NPE_MAX 16
#define CULTURE_MAX_V 5.0	/* refuse |amplitude| above this (volts) */
#define CULTURE_MAX_WIDTH_US 10000
#define CULTURE_DEFAULT_WIDTH_US 200
#define CULTURE_REFERENCE_60 3	/* 60-MEA reference electrode ("15") */

/* What to build. */
struct culture_params {
	uint32_t electrodes;	/* 60, 120, 256, 1024 or 4096 */
	uint32_t npe;		/* neurons per electrode (1-16) */
	double inactive_fraction; /* electrodes that record nothing, seeded */
	const char *inactive;	/* or a list "3,17,40-45" (NULL: none) */
	uint64_t seed;
	int64_t start_us;	/* session time the model starts at */
};

/* Called for each recorded spike, in time order. */
typedef void (*culture_spike_fn)(void *ctx, int64_t t_us, uint32_t electrode,
    int stimulated);

struct culture;

/* Layout (culture-mea.c). */
int	 culture_mea_valid(uint32_t electrodes);
int	 culture_mea_grid(uint32_t electrodes, uint32_t index, int *x,
	     int *y);
int	 culture_mea_parse_list(const char *list, uint32_t electrodes,
	     uint8_t *set, char **cause);

/* The network (culture.c). */
void	 culture_params_default(struct culture_params *p);
struct culture *culture_create(const struct culture_params *p, char **cause);
void	 culture_free(struct culture *c);
void	 culture_advance(struct culture *c, int64_t t_us,
	     culture_spike_fn fn, void *ctx);
int	 culture_stimulate(struct culture *c, uint32_t electrode,
	     double amplitude_v, uint32_t width_us, int64_t t_us, char **cause);
void	 culture_synaptic_input(struct culture *c, uint32_t electrode,
	     unsigned weight, double g_us, int64_t t_us);
uint32_t culture_electrodes(const struct culture *c);
uint32_t culture_neurons(const struct culture *c);
int	 culture_active(const struct culture *c, uint32_t electrode);
uint32_t culture_active_count(const struct culture *c);
int64_t	 culture_now(const struct culture *c);

#endif
