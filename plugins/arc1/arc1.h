/*
 * arc1.h: the ArC ONE memristor instrument (ArC Instruments, Southampton)
 * on its serial line, as a synapses plugin.
 *
 * Protocol (shared/hardware/arc-one-and-ramp-udp.md section 1; sources:
 * arc1_pyqt instrument.py, libarc1, the ArC ONE manual; reimplemented from
 * that description, no upstream code):
 * - the board's mbed USB serial port, 921600 baud, 8 data bits, even
 *   parity, 1 stop bit, no flow control;
 * - a command is ASCII lines ending in '\n': a job code, then one line per
 *   parameter (integers in decimal, floats as printf "%.6g" so that 90 ns
 *   is "9e-08" rather than "%f"'s "0.000000");
 * - replies are raw little-endian float32 resistances in ohms (byte order
 *   INFERRED: decoded as native floats on x86 PCs); the only text reply is
 *   the init confirmation line "1";
 * - no checksums, acks or in-band errors: a reply that times out or does
 *   not make sense means the stream is out of step, and the only cure is
 *   a reset (job 00) and a new init (the manual: "reset the mBED").
 *
 * Jobs used: 00 reset; 0 init (cycles, words, bits, read mode, session
 * mode, sneak path, Vread) -> "1"; 01 read mode, Vread; 999 firmware
 * version -> 2 x uint16 (old firmware answers nothing: tolerated); 1 w b
 * read -> float; 3 w b V pw pulse then read -> float; 02 w b select; 04 V
 * pw pulse the selected device (no reply); 2 with type 2: read a list of
 * devices -> one float each.
 *
 * Wordlines and bitlines count from 1 as the instrument numbers them
 * (w1b1 .. w32b32, plugins/common/sb-crossbar.h), so a session file moves
 * between sim_memristor and arc1 by its load line.
 *
 * Threads: operations queue here and run in the link's own thread
 * (sb-devlink), one at a time; the console never waits on the serial line.
 * Completions are handed back in poll() (engine thread).
 */
#ifndef ARC1_H
#define ARC1_H

#include <pthread.h>
#include <stdint.h>

#include "synbridge-plugin.h"
#include "sb-devlink.h"

#define ARC1_NAME "arc1"
#define ARC1_QUEUE_MAX 256	/* operations waiting (more are refused) */
#define ARC1_MAX_LINES 32	/* the ArC ONE has 1..32 word/bitlines */
#define ARC1_HARD_MAX_V 12.0	/* the instrument's own range, volts */
#define ARC1_HARD_MAX_WIDTH_US 10000000	/* 10 s, the GUI's upper clamp */
#define ARC1_READALL_MAX 64	/* reads batched into one job 2 */

/* What a load line configures. */
struct arc1_config {
	char port[256];
	uint32_t words, bits;
	uint32_t cycles;	/* read cycles (arc1_pyqt default 50) */
	int read_mode;		/* 0 classic, 1 TIA, 2 TIA4P, 3 TIA4P V<0 */
	int session_mode;	/* 0 local package, 1 BNC, 2 BNC-to-local */
	int sneak;		/* 0 V/3, 1 V/2 on inactive lines */
	double vread;		/* read voltage, volts */
	double rmin, rmax;	/* resistance window for weights, ohms */
	double max_v;		/* refuse |amplitude| above (<= 12 V) */
	uint32_t max_width_us;	/* refuse width above */
	uint32_t min_width_us;	/* refuse width below */
	uint32_t max_count;	/* refuse more pulses per request */
	double ltp_v, ltd_v;	/* default pulses (the paper's +-4 V) */
	uint32_t width_us;	/* default width (the paper's 100 us) */
	enum sb_weight_from weight_from;
	uint32_t timeout_ms;	/* a reply later than this is out of step */
	uint32_t init_timeout_ms;	/* the init confirmation (7 s upstream) */
	uint32_t version_timeout_ms;	/* 999's reply (old firmware: none) */
	uint32_t reset_ms;	/* the mbed's reboot after 00 (1-2 s) */
	uint32_t settle_ms;	/* after init, before the first operation */
	uint32_t pace_us;	/* between writes (>= 0.5-1 ms, libarc1) */
	uint32_t backoff_max_ms;	/* reconnect attempts at most this apart */
};

enum arc1_op_kind { ARC1_OP_READ, ARC1_OP_PULSE };

/* One queued operation. */
struct arc1_op {
	enum arc1_op_kind kind;
	int retried;		/* a read tried again after a resync */
	uint64_t tag;
	uint32_t device;
	double amplitude_v;
	uint32_t width_us;
	uint32_t count;
};

/* One finished operation, waiting for poll(). */
struct arc1_done {
	struct sb_completion c;
	int64_t mono_us;	/* when it finished */
};

/* One loaded instrument. */
struct arc1 {
	struct sb_synapses syn;
	struct sb_link link;
	char name[32];
	const struct sb_host_api *host;
	struct sb_plugin *p;
	struct arc1_config cfg;
	struct sb_devlink dl;
	int fd;			/* the serial port, or -1 */
	int64_t last_write_us;	/* CLOCK_MONOTONIC, for pacing */
	int fw_major, fw_minor;	/* -1: too old to say */
	int said_parity;	/* the port refused 8E1 (a pty): said once */

	pthread_mutex_t lock;	/* the queues and g_us */
	struct arc1_op *queue;	/* ring of ARC1_QUEUE_MAX */
	unsigned qhead, qlen;
	struct arc1_op current[ARC1_READALL_MAX];	/* in flight */
	unsigned ncurrent;
	struct arc1_done *done;
	size_t ndone, adone;
	double *g_us;		/* last read conductance per device */
	uint64_t ops, failures;
	int first_done;		/* the first connection attempt ended */
	int fresh;		/* the array was just read: tell the host */
};

/* arc1-serial.c: the port */
int arc1_serial_open(struct arc1 *a, char **cause);
void arc1_serial_close(struct arc1 *a);
void arc1_serial_flush(struct arc1 *a);
int arc1_serial_pending(struct arc1 *a, int wait_ms);
int arc1_serial_write_lines(struct arc1 *a, const char *const *lines,
    unsigned n, char **cause);
int arc1_serial_read(struct arc1 *a, void *buf, size_t len, int timeout_ms,
    char **cause);
int arc1_serial_read_line(struct arc1 *a, char *buf, size_t len,
    int timeout_ms, char **cause);

/* arc1-proto.c: the conversation */
int arc1_proto_handshake(struct arc1 *a, char **cause);
int arc1_proto_read(struct arc1 *a, uint32_t device, double *ohms,
    char **cause);
int arc1_proto_pulse(struct arc1 *a, uint32_t device, double volts,
    uint32_t width_us, uint32_t count, double *ohms, char **cause);
int arc1_proto_read_list(struct arc1 *a, const uint32_t *devices,
    unsigned n, double *ohms, char **cause);
int arc1_proto_read_all(struct arc1 *a, double *ohms, char **cause);
int arc1_proto_plausible(double ohms);

/* arc1-config.c: the load line */
int arc1_config_parse(struct arc1_config *cfg, const struct sb_host_api *host,
    struct sb_plugin *p, char **cause);

#endif
