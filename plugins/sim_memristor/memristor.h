/*
 * memristor.h: a simulated TiOx ReRAM crossbar on a memristor instrument.
 *
 * Device model: the form of Messaris, Serb, Prodromakis et al., "A
 * data-driven Verilog-A ReRAM model", IEEE TCAD 2018, with parameters fitted
 * to the published hybrid experiment's pulses and window (see
 * memristor-device.c for the equations, the fit and why it is not the
 * paper's own fit nor VirtualArC's).
 *
 * Direction, as synbridge sees it: as in the published model and in the
 * maker's emulator (VirtualArC), a POSITIVE pulse RAISES the resistance R
 * (lowers the conductance G) and a NEGATIVE pulse LOWERS R (raises G).
 * Which of them potentiates is a setting (ltp_polarity=, default +: +4 V
 * potentiates, as the published experiment's node applied +4 V for LTP),
 * and so is the weight (weight=, default r: 255 (R - rmin) / (rmax - rmin),
 * growing with R, as that node computed it): with the defaults a
 * potentiation pulse raises R and so the weight. |v| at or below the read
 * voltage never changes the device (reads are non-destructive).
 *
 * Fitted so that under the experiment's +/-4 V, 100 us pulses R crosses the
 * 4-9 kOhm window in about 30 pulses either way (the first about 9 % of the
 * window, then smaller steps as R nears the edge), and stops at the edge.
 *
 * Instrument: rows x cols devices, numbered as the ArC ONE numbers them:
 * "w3b5" or "3,5" is wordline 3, bitline 5, both from 1 (sb-crossbar.h);
 * a bare number is the 0-based device index (w - 1) cols + (b - 1). Pulse
 * and read requests queue per device and complete later through
 * memristor_xbar_poll(), latency_us of session time each, in order of
 * completion time.
 */
#ifndef MEMRISTOR_H
#define MEMRISTOR_H

#include <stddef.h>
#include <stdint.h>

#include "synbridge-plugin.h"
#include "sb-crossbar.h"

#define MEMRISTOR_NAME "sim_memristor"
#define MEMRISTOR_QUEUE_MAX 16	/* pending operations per device */
#define MEMRISTOR_ROWS_MAX 1024

enum memristor_init {
	MEMRISTOR_INIT_SPREAD,	/* uniform across the window (seeded) */
	MEMRISTOR_INIT_LOW,	/* low conductance: R = rmax */
	MEMRISTOR_INIT_HIGH,	/* high conductance: R = rmin */
	MEMRISTOR_INIT_MID,	/* R in the middle of the window */
};

/*
 * The model's parameters (ohms, applied volts, seconds), fitted over the
 * published experiment's window [win_lo, win_hi] = 4-9 kOhm, which is
 * mapped affinely onto the configured [rmin, rmax].
 */
struct memristor_model {
	double t0, t1;		/* r_p(v) = t0 + t1 v: R rises to it, v > 0 */
	double b0, b1;		/* r_n(v) = b0 + b1 v: R falls to it, v < 0 */
	double a_p, t_p;	/* s_p(v) = A_p (exp(|v| / t_p) - 1) */
	double a_n, t_n;	/* s_n(v) = A_n (exp(|v| / t_n) - 1) */
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
	int ltp_negative;	/* ltp_polarity=-: negative pulses potentiate */
	enum sb_weight_from weight_from;	/* weight=r or weight=g */
	uint32_t min_width_us;	/* refuse shorter pulses */
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
	int cancelled;		/* by the stop button: fails, applies nothing */
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
void memristor_model_fitted(struct memristor_model *m);
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
size_t memristor_xbar_cancel(struct memristor_xbar *x);

/* memristor-cause.c */
void memristor_cause(char **cause, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
