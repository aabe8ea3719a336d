/*
 * memristor.h: a simulated TiOx ReRAM crossbar on a memristor instrument.
 *
 * Device model: Messaris, Serb, Prodromakis et al., "A data-driven
 * Verilog-A ReRAM model", IEEE TCAD 2018 (see memristor-device.c for the
 * equations, the published fit, its sign conventions and how it is mapped
 * onto synbridge's resistance window).
 *
 * Direction, as synbridge sees it: a POSITIVE pulse (potentiation) LOWERS
 * the resistance R (raises the conductance G); a NEGATIVE pulse
 * (depression) RAISES R (lowers G). |v| at or below the read voltage never
 * changes the device (reads are non-destructive).
 *
 * Instrument: rows x cols devices, device index = wordline * cols + bitline,
 * addressed as "w3b5", "3,5" or "29". Pulse and read requests queue per
 * device and complete later through memristor_xbar_poll(), latency_us of
 * session time each, in order of completion time.
 */
#ifndef MEMRISTOR_H
#define MEMRISTOR_H

#include <stddef.h>
#include <stdint.h>

#include "synbridge-plugin.h"

#define MEMRISTOR_NAME "sim_memristor"
#define MEMRISTOR_QUEUE_MAX 16	/* pending operations per device */
#define MEMRISTOR_ROWS_MAX 1024

enum memristor_init {
	MEMRISTOR_INIT_SPREAD,	/* uniform across the window (seeded) */
	MEMRISTOR_INIT_LOW,	/* low conductance: R = rmax */
	MEMRISTOR_INIT_HIGH,	/* high conductance: R = rmin */
	MEMRISTOR_INIT_MID,	/* R in the middle of the window */
};

/* The published fit, in the paper's own units (ohms, volts, seconds). */
struct memristor_model {
	double t0, t1;		/* r_p(v) = t0 + t1 v: R_max for v > 0 */
	double b0, b1;		/* r_n(v) = b0 + b1 v: R_min for v <= 0 */
	double a_p, t_p;	/* s_p(v) = |A_p| (exp(|v| / t_p) - 1) */
	double a_n, t_n;	/* s_n(v) = |A_n| (exp(|v| / t_n) - 1) */
	double v_scale;		/* cell volts per applied volt */
	double win_lo, win_hi;	/* model R mapped onto [rmin, rmax] */
};

/* What a crossbar is made from; memristor_config_default() fills it. */
struct memristor_config {
	uint32_t rows, cols;
	double rmin, rmax;	/* resistance window, ohms */
	uint32_t latency_us;	/* session time per operation */
	double max_v;		/* refuse |amplitude| above this */
	uint32_t max_width_us;
	uint32_t max_count;
	double read_v;		/* |v| at or below this never switches */
	enum memristor_init init;
	uint64_t seed;
	double d2d_sigma_a;	/* device-to-device spread of A (log) */
	double d2d_sigma_t;	/* device-to-device spread of t (log) */
	double c2c_sigma;	/* cycle-to-cycle noise on each dR (log) */
	double read_sigma;	/* relative read noise */
};

/* One device: its state in model ohms and its own parameters. */
struct memristor_device {
	double r;		/* true resistance, model domain (ohms) */
	double g_read_us;	/* last read-back conductance */
	double a_p, a_n;	/* |A_p|, |A_n| with this device's spread */
	double inv_t_p, inv_t_n;
	uint64_t rng;		/* this device's random stream */
	int64_t busy_until_us;	/* completion time of its last operation */
	uint32_t queued;	/* operations waiting */
};

/* A queued operation; count == 0 is a read. */
struct memristor_op {
	int64_t due_us;
	uint64_t seq;
	uint64_t tag;
	double amplitude_v;
	uint32_t device;
	uint32_t width_us;
	uint32_t count;
};

struct memristor_xbar {
	struct memristor_config cfg;
	struct memristor_model model;
	double alpha;		/* window ohms per model ohm */
	uint32_t devices;
	struct memristor_device *dev;
	struct memristor_op *heap;	/* min-heap on (due_us, seq) */
	size_t nheap, aheap;
	uint64_t seq;
	int64_t last_poll_us;
};

/* memristor-rng.c */
uint64_t memristor_rng_stream(uint64_t seed, uint64_t index);
double memristor_rng_uniform(uint64_t *state);
double memristor_rng_gauss(uint64_t *state);

/* memristor-device.c */
void memristor_model_published(struct memristor_model *m);
void memristor_device_init(struct memristor_device *d,
    const struct memristor_model *m, const struct memristor_config *cfg,
    uint64_t stream);
double memristor_device_pulse(struct memristor_device *d,
    const struct memristor_model *m, const struct memristor_config *cfg,
    double amplitude_v, uint32_t width_us, uint32_t count);
double memristor_device_ohms(const struct memristor_device *d,
    const struct memristor_model *m, const struct memristor_config *cfg);
double memristor_device_read(struct memristor_device *d,
    const struct memristor_model *m, const struct memristor_config *cfg);

/* memristor-address.c */
int memristor_address_parse(uint32_t rows, uint32_t cols, const char *spec,
    uint32_t *device, char **cause);
void memristor_address_format(uint32_t cols, uint32_t device, char *buf,
    size_t len);

/* memristor-xbar.c */
void memristor_config_default(struct memristor_config *cfg);
struct memristor_xbar *memristor_xbar_create(
    const struct memristor_config *cfg, char **cause);
void memristor_xbar_free(struct memristor_xbar *x);
void memristor_xbar_limits(const struct memristor_xbar *x,
    struct sb_device_limits *l);
int memristor_xbar_pulse(struct memristor_xbar *x, uint32_t device,
    double amplitude_v, uint32_t width_us, uint32_t count, uint64_t tag,
    int64_t now_us, char **cause);
int memristor_xbar_read(struct memristor_xbar *x, uint32_t device,
    uint64_t tag, int64_t now_us, char **cause);
double memristor_xbar_conductance(const struct memristor_xbar *x,
    uint32_t device);
void memristor_xbar_poll(struct memristor_xbar *x, int64_t now_us,
    sb_complete_fn fn, void *ctx);

/* memristor-cause.c */
void memristor_cause(char **cause, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
