/*
 * arc1-emu.c: an ArC ONE memristor instrument on a pseudo-terminal, for
 * testing a serial client without the hardware.
 *
 *   arc1-emu --link PATH [--control FIFO] [--words W] [--bits B]
 *       [--seed N] [--rmin OHMS] [--rmax OHMS] [--reset-ms MS]
 *       [--firmware MAJOR.MINOR] [--old-firmware] [--slow MS] [--silent]
 *       [--verbose]
 *
 * PATH becomes a symlink to the pty slave (the "serial port"). stdout gets
 * one line per event, flushed: "ready PATH" once the port can be opened
 * (again after every replug), "unplugged PATH", the answers of the control
 * commands below, and "pacing violations: N" at exit. stderr gets one line
 * per request the board would not understand and, with --verbose, one per
 * request. SIGTERM or SIGINT ends it, removing PATH and FIFO; so does the
 * exit of the process (thread) that started it, so that a test that dies
 * leaves no emulator behind.
 *
 * Control channel: FIFO is created (mkfifo) and read line by line, so a
 * shell drives it with  printf 'slow 50\n' >FIFO
 *   slow MS     delay every reply by MS ms (0: off)
 *   silent      answer nothing until the next "00" reset (a hung board)
 *   junk N      put N random bytes in front of the next reply
 *   garble      the next init confirmation is "0" instead of "1"
 *   unplug      close the pty and remove PATH (the client sees EIO/HUP)
 *   replug      a new pty behind PATH (the old one, if any, closes); the
 *               board starts afresh: un-initialised, not silent
 *   stats       print "stats resets=N inits=N reads=N pulses=N
 *               readalls=N junk=N pacing=N"
 *   ohms W B    print "ohms W B R", device W,B's noise-free resistance
 *   direction   print "direction raises|lowers|none": what one +4 V
 *               100 us pulse does to a device (as the model says)
 *   quit        end as on SIGTERM
 * A control line written before a request is applied before that request.
 * Counters: reads = jobs 1 and 3 answered, pulses = pulses applied,
 * readalls = job 2 commands, junk = replies preceded by junk, pacing =
 * commands whose first line came < 0.3 ms after the previous command's
 * last line (the real board wants >= 0.5-1 ms between writes).
 *
 * The conversation (text lines in, float32 replies out) follows the
 * protocol notes of the ArC ONE (a reimplementation, no upstream code):
 *   00                    reset: no reply; the board reboots for
 *                         --reset-ms (default 50) and discards any input
 *                         arriving meanwhile, then is un-initialised
 *   0 cyc W B rm sm sp Vr init: the text line "1"
 *   01 readmode Vread     no reply
 *   011 cycles sneakpath  no reply
 *   02 w b                select a device, no reply
 *   04 V pw               pulse the selected device, no reply
 *   1 w b                 read: float32 ohms
 *   3 w b V pw            pulse, then read: float32 ohms
 *   2 1 W B               read all: W*B float32, w outer, b inner
 *   2 2 W B N (w b)*N     read a list: one float32 per pair, as it comes
 *   999                   two uint16, major and minor (none with
 *                         --old-firmware)
 * w and b count from 1; floats are parsed with strtod ("4", "-4.000000",
 * "1e-06"), integers also as "50.0". Replies are little-endian (inferred:
 * the PC side decodes native float32 on x86).
 *
 * Not known about the real firmware (its source is not public), so
 * decided here:
 * - "00" resets at any point, even where a parameter line is expected.
 * - Before a successful init every job except 00, 0 and 999 is read with
 *   its parameters and then ignored without a reply (a client that skips
 *   the handshake sees a timeout, as after any desynchronisation).
 * - A read of an invalid w/b (or a malformed number) answers NaN; a pulse
 *   with |V| > 12 V, a width outside 90 ns..10 s or an invalid address is
 *   not applied; job 3 still answers its read. Widths are applied in whole
 *   microseconds (the device model's unit), so a pulse under 0.5 us is
 *   accepted but changes nothing.
 * - Module jobs (14, 15, 152, 191, 201, 33, 40, 50), unknown jobs and
 *   empty lines are logged and ignored; their parameter lines then arrive
 *   as jobs of their own and are logged too.
 * - Init parameters out of range are logged, and still confirmed.
 * - A reset drops replies not yet sent (the mbed loses its buffers); device
 *   states survive resets and replugs (they are the chip, not the board).
 *
 * A pty is not a UART: baud rate and parity are ignored, and Linux drops
 * PARENB from a tcsetattr() that changes anything else but fails one whose
 * only change is PARENB with EINVAL (so setting 921600 8E1 raw succeeds on
 * a fresh port and fails on the second open). A client that wants to run
 * against this emulator must tolerate that, e.g. retry without PARENB.
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "memristor.h"
#include "sb-rng.h"
#include "emu-util.h"

#define ARC1_EMU_LINE_MAX 128		/* longest accepted line */
#define ARC1_EMU_OUT_MAX (16U << 20)	/* replies waiting, bytes */
#define ARC1_EMU_PACING_NS 300000ULL	/* 0.3 ms */
#define ARC1_EMU_V_MAX 12.0
#define ARC1_EMU_PW_MIN 90e-9
#define ARC1_EMU_PW_MAX 10.0
#define ARC1_EMU_JUNK_MAX 65536
#define ARC1_EMU_READALL_MAX 256	/* words or bits in a job 2 */
#define ARC1_EMU_LIST_MAX 1048576	/* devices in a job 2 type 2 */

/* One reply on its way to the client. */
struct arc1_emu_chunk {
	TAILQ_ENTRY(arc1_emu_chunk) entry;
	uint64_t	due_ns;
	size_t		len, off;
	unsigned char	data[];
};

struct arc1_emu;
typedef int (*arc1_emu_job_fn)(struct arc1_emu *);

/* A job code, its parameter count and its handler. */
struct arc1_emu_job {
	const char	*code;
	int		 npar;
	int		 needs_init;
	arc1_emu_job_fn	 fn;
};

struct arc1_emu {
	/* Options. */
	const char	*link, *control;
	uint32_t	 words, bits;
	unsigned	 reset_ms, slow_ms;
	unsigned	 fw_major, fw_minor;
	int		 old_firmware, verbose;

	/* The port, and the control FIFO. */
	int		 master, slave;	/* -1: unplugged */
	char		 slave_name[128];
	struct emu_control ctl;

	/* Input: the line being read, and the job being collected. */
	char		 line[ARC1_EMU_LINE_MAX];
	size_t		 llen;
	int		 lskip;
	const struct arc1_emu_job *job;	/* NULL: expecting a job line */
	double		 par[8];
	int		 npar, need, mute;
	uint64_t	 pairs_left;
	uint64_t	 now_ns, last_done_ns;

	/* The board. */
	int		 initialised, silent, selected;
	uint64_t	 reboot_until_ns;
	long		 readmode, sneakpath, cycles, session;
	double		 vread;
	uint32_t	 sel;

	/* Faults. */
	uint32_t	 junk_next;
	int		 garble_next;
	uint64_t	 rng;

	/* The devices: the project's model, only its device functions used. */
	struct memristor_config	 cfg;
	struct memristor_xbar	*x;

	/* Replies. */
	TAILQ_HEAD(, arc1_emu_chunk) out;
	size_t		 out_bytes;
	uint64_t	 last_due_ns;

	/* Counters. */
	uint64_t	 resets, inits, reads, pulses, readalls, junk, pacing;
};

/* Set by SIGTERM/SIGINT or "quit"; -1 when the port cannot be remade. */
static volatile sig_atomic_t arc1_emu_stop;

/* Signal handler: ask the loop to end. */
static void
arc1_emu_signal(int sig)
{
	arc1_emu_stop = sig;
}

/* Parse a whole string as a number (strtod); 0 or -1. */
static int
arc1_emu_number(const char *s, double *v)
{
	char	*end;

	*v = strtod(s, &end);
	if (end == s || *end != '\0') {
		*v = NAN;
		return (-1);
	}
	return (0);
}

/* A number that is an integer in lo..hi; 0 or -1. */
static int
arc1_emu_int(double v, long lo, long hi, long *out)
{
	if (!isfinite(v) || v != floor(v) || v < (double)lo || v > (double)hi)
		return (-1);
	*out = (long)v;
	return (0);
}

/* The device at 1-based w, b, or NULL (logged) if there is none. */
static struct memristor_device *
arc1_emu_device(struct arc1_emu *a, double w, double b, const char *what)
{
	long	lw, lb;

	if (arc1_emu_int(w, 1, a->words, &lw) != 0 ||
	    arc1_emu_int(b, 1, a->bits, &lb) != 0) {
		emu_log("%s: no device w=%g b=%g on a %ux%u array "
		    "(real firmware behaviour unconfirmed)", what, w, b,
		    a->words, a->bits);
		return (NULL);
	}
	return (&a->x->dev[(lw - 1) * a->bits + (lb - 1)]);
}

/* Drop every reply not yet sent. */
static void
arc1_emu_drop_output(struct arc1_emu *a)
{
	struct arc1_emu_chunk	*c;

	while ((c = TAILQ_FIRST(&a->out)) != NULL) {
		TAILQ_REMOVE(&a->out, c, entry);
		free(c);
	}
	a->out_bytes = 0;
	a->last_due_ns = 0;
}

/* Queue a reply (with pending junk in front), due after slow_ms. */
static void
arc1_emu_reply(struct arc1_emu *a, const void *buf, size_t len)
{
	struct arc1_emu_chunk	*c;
	uint64_t		 due, r = 0;
	size_t			 junk = 0, i;

	if (a->mute || a->master == -1 || a->silent)
		return;
	if (a->junk_next > 0) {
		junk = a->junk_next;
		a->junk_next = 0;
		a->junk++;
	}
	if (a->out_bytes + junk + len > ARC1_EMU_OUT_MAX) {
		emu_log("client reads nothing: %zu bytes waiting, reply "
		    "dropped", a->out_bytes);
		return;
	}
	c = malloc(sizeof *c + junk + len);
	if (c == NULL) {
		emu_log("out of memory: reply dropped");
		return;
	}
	for (i = 0; i < junk; i++) {
		if (i % 8 == 0)
			r = sb_rng_splitmix(&a->rng);
		c->data[i] = (unsigned char)(r >> (8 * (i % 8)));
	}
	memcpy(c->data + junk, buf, len);
	c->len = junk + len;
	c->off = 0;
	due = a->now_ns + (uint64_t)a->slow_ms * 1000000ULL;
	if (due < a->last_due_ns)
		due = a->last_due_ns;
	c->due_ns = a->last_due_ns = due;
	TAILQ_INSERT_TAIL(&a->out, c, entry);
	a->out_bytes += c->len;
}

/* Queue float32 values, little-endian. */
static void
arc1_emu_reply_floats(struct arc1_emu *a, const double *v, size_t n)
{
	unsigned char	*buf;
	uint32_t	 u;
	float		 f;
	size_t		 i;

	if ((buf = malloc(4 * n + 1)) == NULL) {
		emu_log("out of memory: reply dropped");
		return;
	}
	for (i = 0; i < n; i++) {
		f = (float)v[i];
		memcpy(&u, &f, sizeof u);
		buf[4 * i] = u & 0xff;
		buf[4 * i + 1] = (u >> 8) & 0xff;
		buf[4 * i + 2] = (u >> 16) & 0xff;
		buf[4 * i + 3] = (u >> 24) & 0xff;
	}
	arc1_emu_reply(a, buf, 4 * n);
	free(buf);
}

/* A read at the read voltage, in ohms with the model's read noise. */
static double
arc1_emu_read_device(struct arc1_emu *a, struct memristor_device *d)
{
	double	g;

	if (d == NULL)
		return (NAN);
	g = memristor_device_read(d, &a->x->model, &a->x->cfg);
	return (g > 0 ? 1e6 / g : INFINITY);
}

/* Apply one pulse of v volts, pw seconds, if it is in range. */
static void
arc1_emu_pulse(struct arc1_emu *a, struct memristor_device *d, double v,
    double pw, const char *what)
{
	if (d == NULL)
		return;
	if (!(fabs(v) <= ARC1_EMU_V_MAX)) {
		emu_log("%s: |V| = %g V above %g V: not applied (real "
		    "firmware behaviour unconfirmed)", what, v,
		    ARC1_EMU_V_MAX);
		return;
	}
	if (!(pw >= ARC1_EMU_PW_MIN && pw <= ARC1_EMU_PW_MAX)) {
		emu_log("%s: width %g s outside 90 ns..10 s: not applied "
		    "(real firmware behaviour unconfirmed)", what, pw);
		return;
	}
	memristor_device_pulse(d, &a->x->model, &a->x->cfg, v,
	    (uint32_t)lround(pw * 1e6), 1);
	a->pulses++;
}

/* Forget any half-read job. */
static void
arc1_emu_parser_reset(struct arc1_emu *a)
{
	a->job = NULL;
	a->npar = a->need = a->mute = 0;
	a->pairs_left = 0;
	a->llen = 0;
	a->lskip = 0;
}

/* The board (re)starts: un-initialised, nothing selected, nothing queued. */
static void
arc1_emu_board_reset(struct arc1_emu *a)
{
	arc1_emu_parser_reset(a);
	arc1_emu_drop_output(a);
	a->initialised = a->selected = a->silent = 0;
	a->reboot_until_ns = 0;
}

/* Job 00: reset the mbed; it is deaf while it reboots. */
static int
arc1_emu_job_reset(struct arc1_emu *a)
{
	arc1_emu_board_reset(a);
	a->resets++;
	a->reboot_until_ns = a->now_ns + (uint64_t)a->reset_ms * 1000000ULL;
	return (0);
}

/* Job 0: init with cycles, words, bits, readmode, session, sneak, Vread. */
static int
arc1_emu_job_init(struct arc1_emu *a)
{
	long	w, b;

	if (arc1_emu_int(a->par[0], 0, 1000000, &a->cycles) != 0)
		emu_log("init: cycles '%g' not an integer", a->par[0]);
	if (arc1_emu_int(a->par[1], 1, 32, &w) != 0 || w != (long)a->words)
		emu_log("init: words %g (the array has %u)", a->par[1],
		    a->words);
	if (arc1_emu_int(a->par[2], 1, 32, &b) != 0 || b != (long)a->bits)
		emu_log("init: bits %g (the array has %u)", a->par[2],
		    a->bits);
	if (arc1_emu_int(a->par[3], 0, 3, &a->readmode) != 0)
		emu_log("init: readmode %g not 0-3", a->par[3]);
	if (arc1_emu_int(a->par[4], 0, 3, &a->session) != 0)
		emu_log("init: sessionmode %g not 0-3", a->par[4]);
	if (arc1_emu_int(a->par[5], 0, 256, &a->sneakpath) != 0)
		emu_log("init: sneakpath %g not 0, 1 or 256", a->par[5]);
	if (!(fabs(a->par[6]) <= ARC1_EMU_V_MAX))
		emu_log("init: Vread %g V", a->par[6]);
	else
		a->vread = a->par[6];
	a->inits++;
	if (a->garble_next) {
		a->garble_next = 0;
		a->initialised = 0;
		arc1_emu_reply(a, "0\n", 2);
		return (0);
	}
	a->initialised = 1;
	arc1_emu_reply(a, "1\n", 2);
	return (0);
}

/* Job 01: read mode and read voltage. */
static int
arc1_emu_job_readmode(struct arc1_emu *a)
{
	if (arc1_emu_int(a->par[0], 0, 3, &a->readmode) != 0)
		emu_log("01: readmode %g not 0-3", a->par[0]);
	if (!(fabs(a->par[1]) <= ARC1_EMU_V_MAX))
		emu_log("01: Vread %g V", a->par[1]);
	else
		a->vread = a->par[1];
	return (0);
}

/* Job 011: cycles and sneak-path mode. */
static int
arc1_emu_job_hardware(struct arc1_emu *a)
{
	if (arc1_emu_int(a->par[0], 0, 1000000, &a->cycles) != 0)
		emu_log("011: cycles %g not an integer", a->par[0]);
	if (arc1_emu_int(a->par[1], 0, 256, &a->sneakpath) != 0)
		emu_log("011: sneakpath %g not 0, 1 or 256", a->par[1]);
	return (0);
}

/* Job 02: select (close) one crosspoint. */
static int
arc1_emu_job_select(struct arc1_emu *a)
{
	struct memristor_device	*d;

	d = arc1_emu_device(a, a->par[0], a->par[1], "02 select");
	a->selected = d != NULL;
	if (d != NULL)
		a->sel = (uint32_t)(d - a->x->dev);
	return (0);
}

/* Job 04: pulse the selected device; no reply. */
static int
arc1_emu_job_pulse(struct arc1_emu *a)
{
	if (!a->selected) {
		emu_log("04 pulse: no device selected (02): ignored");
		return (0);
	}
	arc1_emu_pulse(a, &a->x->dev[a->sel], a->par[0], a->par[1], "04 pulse");
	return (0);
}

/* Job 1: read one device. */
static int
arc1_emu_job_read(struct arc1_emu *a)
{
	double	r;

	r = arc1_emu_read_device(a,
	    arc1_emu_device(a, a->par[0], a->par[1], "1 read"));
	arc1_emu_reply_floats(a, &r, 1);
	a->reads++;
	return (0);
}

/* Job 3: pulse one device, then read it. */
static int
arc1_emu_job_pulseread(struct arc1_emu *a)
{
	struct memristor_device	*d;
	double			 r;

	d = arc1_emu_device(a, a->par[0], a->par[1], "3 pulse-read");
	arc1_emu_pulse(a, d, a->par[2], a->par[3], "3 pulse-read");
	r = arc1_emu_read_device(a, d);
	arc1_emu_reply_floats(a, &r, 1);
	a->reads++;
	return (0);
}

/* Job 2: read all (type 1) or a list of N devices (type 2). */
static int
arc1_emu_job_readall(struct arc1_emu *a)
{
	long	 type, w, b, n, i, j;
	double	*v;

	if (arc1_emu_int(a->par[0], 1, 2, &type) != 0) {
		emu_log("2 read-all: type %g is not 1 or 2: ignored",
		    a->par[0]);
		return (0);
	}
	if (type == 2 && a->npar == 3) {
		a->need = 4;	/* and N */
		return (1);
	}
	if (type == 2) {
		if (arc1_emu_int(a->par[3], 0, ARC1_EMU_LIST_MAX, &n) != 0) {
			emu_log("2 read-all: N %g not 0-%d: ignored",
			    a->par[3], ARC1_EMU_LIST_MAX);
			return (0);
		}
		if (!a->mute)
			a->readalls++;
		a->pairs_left = (uint64_t)n;
		return (n > 0);
	}
	if (arc1_emu_int(a->par[1], 1, ARC1_EMU_READALL_MAX, &w) != 0 ||
	    arc1_emu_int(a->par[2], 1, ARC1_EMU_READALL_MAX, &b) != 0) {
		emu_log("2 read-all: %gx%g not 1-%d each: ignored",
		    a->par[1], a->par[2], ARC1_EMU_READALL_MAX);
		return (0);
	}
	if (a->mute)
		return (0);
	if (w > (long)a->words || b > (long)a->bits)
		emu_log("2 read-all: %ldx%ld on a %ux%u array: NaN "
		    "beyond it", w, b, a->words, a->bits);
	if ((v = calloc((size_t)(w * b), sizeof *v)) == NULL) {
		emu_log("out of memory: read-all dropped");
		return (0);
	}
	for (i = 0; i < w; i++) {
		for (j = 0; j < b; j++) {
			v[i * b + j] = (i < (long)a->words &&
			    j < (long)a->bits) ? arc1_emu_read_device(a,
			    &a->x->dev[i * a->bits + j]) : NAN;
		}
	}
	arc1_emu_reply_floats(a, v, (size_t)(w * b));
	free(v);
	a->readalls++;
	return (0);
}

/* One w, b pair of a type 2 read-all: answer it. */
static void
arc1_emu_list_pair(struct arc1_emu *a)
{
	double	r;

	if (a->mute)
		return;
	r = arc1_emu_read_device(a,
	    arc1_emu_device(a, a->par[0], a->par[1], "2 read-list"));
	arc1_emu_reply_floats(a, &r, 1);
}

/* Job 999: the firmware version, two uint16 little-endian. */
static int
arc1_emu_job_version(struct arc1_emu *a)
{
	unsigned char	buf[4];

	if (a->old_firmware) {
		emu_log("999: old firmware, no version reply");
		return (0);
	}
	buf[0] = a->fw_major & 0xff;
	buf[1] = (a->fw_major >> 8) & 0xff;
	buf[2] = a->fw_minor & 0xff;
	buf[3] = (a->fw_minor >> 8) & 0xff;
	arc1_emu_reply(a, buf, sizeof buf);
	return (0);
}

/* The jobs of the protocol notes, section 1.4. */
static const struct arc1_emu_job arc1_emu_jobs[] = {
	{ "00", 0, 0, arc1_emu_job_reset },
	{ "0", 7, 0, arc1_emu_job_init },
	{ "01", 2, 1, arc1_emu_job_readmode },
	{ "011", 2, 1, arc1_emu_job_hardware },
	{ "02", 2, 1, arc1_emu_job_select },
	{ "04", 2, 1, arc1_emu_job_pulse },
	{ "1", 2, 1, arc1_emu_job_read },
	{ "3", 4, 1, arc1_emu_job_pulseread },
	{ "2", 3, 1, arc1_emu_job_readall },
	{ "999", 0, 0, arc1_emu_job_version },
};

/* Measurement-module jobs: known, not emulated. */
static const char *arc1_emu_modules[] = {
	"14", "15", "152", "191", "201", "33", "40", "50"
};

/* The collected parameters are complete: run the job, maybe finish it. */
static void
arc1_emu_run(struct arc1_emu *a)
{
	/* A muted job only keeps its framing (job 2 reads N and pairs). */
	if ((!a->mute || a->job->fn == arc1_emu_job_readall) &&
	    a->job->fn(a) != 0)
		return;
	a->job = NULL;
	a->mute = 0;
	a->last_done_ns = a->now_ns;
}

/* A job line: start collecting its parameters. */
static void
arc1_emu_job_line(struct arc1_emu *a, const char *s)
{
	size_t	i;

	for (i = 0; i < sizeof arc1_emu_jobs / sizeof arc1_emu_jobs[0]; i++) {
		if (strcmp(s, arc1_emu_jobs[i].code) == 0)
			break;
	}
	if (i == sizeof arc1_emu_jobs / sizeof arc1_emu_jobs[0]) {
		for (i = 0; i < sizeof arc1_emu_modules /
		    sizeof arc1_emu_modules[0]; i++) {
			if (strcmp(s, arc1_emu_modules[i]) == 0) {
				emu_log("job %s: a measurement module, "
				    "not emulated: ignored", s);
				return;
			}
		}
		emu_log("unknown job '%s': ignored", s);
		return;
	}
	if (a->last_done_ns != 0 &&
	    a->now_ns - a->last_done_ns < ARC1_EMU_PACING_NS)
		a->pacing++;
	a->job = &arc1_emu_jobs[i];
	a->npar = 0;
	a->need = a->job->npar;
	a->mute = 0;
	if (a->job->needs_init && !a->initialised) {
		/* What a real mbed does here is unconfirmed. */
		emu_log("job %s before init: parameters read, no action, "
		    "no reply", s);
		a->mute = 1;
	}
	if (a->need == 0)
		arc1_emu_run(a);
}

/* One complete input line. */
static void
arc1_emu_line(struct arc1_emu *a, char *s)
{
	size_t	len;
	double	v;

	while (*s == ' ' || *s == '\t')
		s++;
	len = strlen(s);
	while (len > 0 && strchr(" \t\r", s[len - 1]) != NULL)
		s[--len] = '\0';
	if (a->verbose)
		emu_log("< %s", s);
	if (strcmp(s, "00") == 0) {
		if (a->job != NULL)
			emu_log("00 where a parameter of job %s was "
			    "expected: taken as a reset", a->job->code);
		a->job = &arc1_emu_jobs[0];
		arc1_emu_run(a);
		return;
	}
	if (a->silent)
		return;
	if (len == 0) {
		emu_log("empty line: ignored");
		return;
	}
	if (a->job == NULL) {
		arc1_emu_job_line(a, s);
		return;
	}
	if (arc1_emu_number(s, &v) != 0)
		emu_log("job %s: parameter '%s' is not a number",
		    a->job->code, s);
	a->par[a->npar++] = v;
	if (a->pairs_left > 0) {
		if (a->npar < 2)
			return;
		arc1_emu_list_pair(a);
		a->npar = 0;
		if (--a->pairs_left > 0)
			return;
		a->job = NULL;
		a->mute = 0;
		a->last_done_ns = a->now_ns;
		return;
	}
	if (a->npar == a->need)
		arc1_emu_run(a);
	if (a->pairs_left > 0)
		a->npar = 0;
}

/* Bytes from the client: split into lines, deaf while rebooting. */
static void
arc1_emu_input(struct arc1_emu *a, const char *buf, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++) {
		if (a->reboot_until_ns != 0) {
			if (a->now_ns < a->reboot_until_ns) {
				emu_log("%zu bytes during the reboot: "
				    "discarded", len - i);
				return;
			}
			a->reboot_until_ns = 0;
		}
		if (buf[i] != '\n') {
			if (a->llen < sizeof a->line - 1)
				a->line[a->llen++] = buf[i];
			else
				a->lskip = 1;
			continue;
		}
		a->line[a->llen] = '\0';
		a->llen = 0;
		if (a->lskip) {
			a->lskip = 0;
			emu_log("line longer than %d bytes: discarded",
			    ARC1_EMU_LINE_MAX - 1);
			continue;
		}
		arc1_emu_line(a, a->line);
	}
}

/* Make the pty raw (no echo, even before the client opens it). */
static int
arc1_emu_raw(int master, int slave)
{
	struct termios	tio;
	int		flags;

	if (tcgetattr(slave, &tio) != 0)
		return (-1);
	cfmakeraw(&tio);
	if (tcsetattr(slave, TCSANOW, &tio) != 0)
		return (-1);
	if ((flags = fcntl(master, F_GETFL)) == -1 ||
	    fcntl(master, F_SETFL, flags | O_NONBLOCK) == -1 ||
	    fcntl(master, F_SETFD, FD_CLOEXEC) == -1)
		return (-1);
	return (fcntl(slave, F_SETFD, FD_CLOEXEC));
}

/* Point the link at the slave: symlink PATH.tmp, then rename over PATH. */
static int
arc1_emu_symlink(struct arc1_emu *a)
{
	char	tmp[4096];

	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", a->link) >= sizeof tmp)
		return (-1);
	if (unlink(tmp) != 0 && errno != ENOENT)
		return (-1);
	if (symlink(a->slave_name, tmp) != 0)
		return (-1);
	if (rename(tmp, a->link) != 0) {
		unlink(tmp);
		return (-1);
	}
	return (0);
}

/* Close the port and remove its link. */
static void
arc1_emu_unplug(struct arc1_emu *a)
{
	if (a->master == -1)
		return;
	close(a->master);
	close(a->slave);
	a->master = a->slave = -1;
	unlink(a->link);
	arc1_emu_board_reset(a);
}

/* A new pty behind the link; the old one (if any) goes. 0 or -1. */
static int
arc1_emu_plug(struct arc1_emu *a)
{
	int	master, slave;
	char	name[sizeof a->slave_name];

	if (openpty(&master, &slave, name, NULL, NULL) != 0) {
		emu_log("openpty: %s", strerror(errno));
		return (-1);
	}
	if (arc1_emu_raw(master, slave) != 0) {
		emu_log("pty setup: %s", strerror(errno));
		close(master);
		close(slave);
		return (-1);
	}
	if (a->master != -1) {
		close(a->master);
		close(a->slave);
	}
	/* Holding the slave open keeps the master from hanging up. */
	a->master = master;
	a->slave = slave;
	memcpy(a->slave_name, name, sizeof a->slave_name);
	arc1_emu_board_reset(a);
	if (arc1_emu_symlink(a) != 0) {
		emu_log("symlink %s -> %s: %s", a->link, a->slave_name,
		    strerror(errno));
		return (-1);
	}
	emu_say("ready %s", a->link);
	return (0);
}

/* What one +4 V, 100 us pulse does to a copy of a device, by the model. */
static const char *
arc1_emu_direction(struct arc1_emu *a)
{
	struct memristor_device	d = a->x->dev[0];
	double			r0, r1;

	/* Drive it to the edge -4 V leads to, then step back once. */
	memristor_device_pulse(&d, &a->x->model, &a->x->cfg, -4.0, 100, 50);
	r0 = memristor_device_ohms(&d, &a->x->model, &a->x->cfg);
	memristor_device_pulse(&d, &a->x->model, &a->x->cfg, 4.0, 100, 1);
	r1 = memristor_device_ohms(&d, &a->x->model, &a->x->cfg);
	if (r1 > r0)
		return ("raises");
	if (r1 < r0)
		return ("lowers");
	return ("none");
}

/* One control command. */
static void
arc1_emu_control(struct arc1_emu *a, char *s)
{
	char			 word[16];
	double			 n = 0, w = 0, b = 0;
	struct memristor_device	*d;
	int			 args;

	args = sscanf(s, "%15s %lf %lf", word, &n, &w);
	if (args < 1)
		return;
	if (strcmp(word, "slow") == 0 && args == 2 && n >= 0 && n <= 600000)
		a->slow_ms = (unsigned)n;
	else if (strcmp(word, "silent") == 0) {
		a->silent = 1;
		arc1_emu_parser_reset(a);
		arc1_emu_drop_output(a);
	} else if (strcmp(word, "junk") == 0 && args == 2 && n >= 0 &&
	    n <= ARC1_EMU_JUNK_MAX)
		a->junk_next = (uint32_t)n;
	else if (strcmp(word, "garble") == 0)
		a->garble_next = 1;
	else if (strcmp(word, "unplug") == 0) {
		arc1_emu_unplug(a);
		emu_say("unplugged %s", a->link);
	} else if (strcmp(word, "replug") == 0) {
		if (arc1_emu_plug(a) != 0)
			arc1_emu_stop = -1;
	} else if (strcmp(word, "stats") == 0) {
		emu_say("stats resets=%llu inits=%llu reads=%llu "
		    "pulses=%llu readalls=%llu junk=%llu pacing=%llu",
		    (unsigned long long)a->resets,
		    (unsigned long long)a->inits,
		    (unsigned long long)a->reads,
		    (unsigned long long)a->pulses,
		    (unsigned long long)a->readalls,
		    (unsigned long long)a->junk,
		    (unsigned long long)a->pacing);
	} else if (strcmp(word, "ohms") == 0 && args == 3) {
		b = w;
		w = n;
		d = arc1_emu_device(a, w, b, "ohms");
		emu_say("ohms %g %g %.3f", w, b, d == NULL ? NAN :
		    memristor_device_ohms(d, &a->x->model, &a->x->cfg));
	} else if (strcmp(word, "direction") == 0)
		emu_say("direction %s", arc1_emu_direction(a));
	else if (strcmp(word, "quit") == 0)
		arc1_emu_stop = SIGTERM;
	else
		emu_log("control: '%s' not understood", s);
}

/* One control line (emu_control's callback). */
static void
arc1_emu_control_line(void *arg, char *line)
{
	arc1_emu_control(arg, line);
}

/* Write the replies that are due; the next due time or 0. */
static uint64_t
arc1_emu_flush(struct arc1_emu *a)
{
	struct arc1_emu_chunk	*c;
	ssize_t			 n;

	while ((c = TAILQ_FIRST(&a->out)) != NULL && a->master != -1) {
		if (c->due_ns > a->now_ns)
			return (c->due_ns);
		n = write(a->master, c->data + c->off, c->len - c->off);
		if (n == -1) {
			if (errno != EAGAIN && errno != EINTR)
				emu_log("write: %s", strerror(errno));
			return (0);
		}
		c->off += (size_t)n;
		a->out_bytes -= (size_t)n;
		if (c->off < c->len)
			return (0);
		TAILQ_REMOVE(&a->out, c, entry);
		free(c);
	}
	return (0);
}

/* Serve until a signal or "quit". */
static void
arc1_emu_loop(struct arc1_emu *a, const sigset_t *unblocked)
{
	struct pollfd	 pfd[2];
	struct timespec	 ts, *tsp;
	char		 buf[4096];
	uint64_t	 due;
	ssize_t		 n;
	nfds_t		 nfd;

	while (!arc1_emu_stop) {
		a->now_ns = emu_now_ns();
		due = arc1_emu_flush(a);
		pfd[0].fd = a->ctl.fd;
		pfd[0].events = POLLIN;
		nfd = 1;
		if (a->master != -1) {
			pfd[1].fd = a->master;
			pfd[1].events = POLLIN;
			if (!TAILQ_EMPTY(&a->out) && due == 0)
				pfd[1].events |= POLLOUT;
			nfd = 2;
		}
		tsp = NULL;
		if (due != 0) {
			due -= a->now_ns;
			ts.tv_sec = (time_t)(due / 1000000000ULL);
			ts.tv_nsec = (long)(due % 1000000000ULL);
			tsp = &ts;
		}
		if (ppoll(pfd, nfd, tsp, unblocked) == -1) {
			if (errno == EINTR)
				continue;
			emu_log("ppoll: %s", strerror(errno));
			return;
		}
		a->now_ns = emu_now_ns();
		/* Control first: a fault set before a request applies to it. */
		emu_control_drain(&a->ctl);
		if (nfd == 2 && a->master == pfd[1].fd &&
		    (pfd[1].revents & (POLLIN | POLLHUP))) {
			n = read(a->master, buf, sizeof buf);
			if (n > 0)
				arc1_emu_input(a, buf, (size_t)n);
			else if (n == -1 && errno != EAGAIN && errno != EINTR)
				emu_log("read: %s", strerror(errno));
		}
	}
}

/* Parse an option's number in lo..hi or exit. */
static double
arc1_emu_optnum(const char *name, const char *s, double lo, double hi)
{
	double	v;

	if (arc1_emu_number(s, &v) != 0 || !(v >= lo && v <= hi)) {
		emu_log("--%s %s: need a number %g-%g", name, s, lo, hi);
		exit(2);
	}
	return (v);
}

/* Print the usage and exit. */
static void __attribute__((noreturn))
arc1_emu_usage(void)
{
	fprintf(stderr, "usage: arc1-emu --link PATH [--control FIFO] "
	    "[--words W] [--bits B]\n"
	    "    [--seed N] [--rmin OHMS] [--rmax OHMS] [--reset-ms MS]\n"
	    "    [--firmware MAJOR.MINOR] [--old-firmware] [--slow MS] "
	    "[--silent] [--verbose]\n");
	exit(2);
}

static const struct option arc1_emu_options[] = {
	{ "link", required_argument, NULL, 'l' },
	{ "control", required_argument, NULL, 'c' },
	{ "words", required_argument, NULL, 'w' },
	{ "bits", required_argument, NULL, 'b' },
	{ "seed", required_argument, NULL, 's' },
	{ "rmin", required_argument, NULL, 'm' },
	{ "rmax", required_argument, NULL, 'M' },
	{ "reset-ms", required_argument, NULL, 'r' },
	{ "firmware", required_argument, NULL, 'f' },
	{ "old-firmware", no_argument, NULL, 'o' },
	{ "slow", required_argument, NULL, 'S' },
	{ "silent", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ NULL, 0, NULL, 0 }
};

/* Parse the options, make the port, serve until told to stop. */
int
main(int argc, char **argv)
{
	struct arc1_emu		 a;
	struct sigaction	 sa;
	struct stat		 sb;
	sigset_t		 block, unblocked;
	char			*cause = NULL;
	pid_t			 ppid;
	int			 ch, silent = 0;

	emu_util_name("arc1-emu");
	memset(&a, 0, sizeof a);
	a.master = a.slave = a.ctl.fd = -1;
	a.words = a.bits = 32;
	a.reset_ms = 50;
	a.fw_major = 1;
	memristor_config_default(&a.cfg);
	a.cfg.rmin = 4000;
	a.cfg.rmax = 9000;
	a.cfg.seed = 1;
	TAILQ_INIT(&a.out);

	while ((ch = getopt_long(argc, argv, "", arc1_emu_options,
	    NULL)) != -1) {
		switch (ch) {
		case 'l':
			a.link = optarg;
			break;
		case 'c':
			a.control = optarg;
			break;
		case 'w':
			a.words = (uint32_t)arc1_emu_optnum("words", optarg, 1,
			    32);
			break;
		case 'b':
			a.bits = (uint32_t)arc1_emu_optnum("bits", optarg, 1,
			    32);
			break;
		case 's':
			a.cfg.seed = (uint64_t)arc1_emu_optnum("seed", optarg,
			    0, 9007199254740992.0);
			break;
		case 'm':
			a.cfg.rmin = arc1_emu_optnum("rmin", optarg, 1, 1e9);
			break;
		case 'M':
			a.cfg.rmax = arc1_emu_optnum("rmax", optarg, 1, 1e9);
			break;
		case 'r':
			a.reset_ms = (unsigned)arc1_emu_optnum("reset-ms",
			    optarg, 0, 60000);
			break;
		case 'f':
			if (sscanf(optarg, "%u.%u", &a.fw_major,
			    &a.fw_minor) != 2 || a.fw_major > 65535 ||
			    a.fw_minor > 65535) {
				emu_log("--firmware %s: need MAJOR.MINOR",
				    optarg);
				exit(2);
			}
			break;
		case 'o':
			a.old_firmware = 1;
			break;
		case 'S':
			a.slow_ms = (unsigned)arc1_emu_optnum("slow", optarg, 0,
			    600000);
			break;
		case 'q':
			silent = 1;
			break;
		case 'v':
			a.verbose = 1;
			break;
		default:
			arc1_emu_usage();
		}
	}
	if (optind != argc || a.link == NULL)
		arc1_emu_usage();
	if (!(a.cfg.rmax > a.cfg.rmin)) {
		emu_log("--rmin %g --rmax %g: need rmin < rmax",
		    a.cfg.rmin, a.cfg.rmax);
		exit(2);
	}
	if (lstat(a.link, &sb) == 0 && !S_ISLNK(sb.st_mode)) {
		emu_log("%s exists and is not a symlink", a.link);
		exit(2);
	}

	/* The crossbar: every device drawn from the seed by the model. */
	a.cfg.rows = a.words;
	a.cfg.cols = a.bits;
	if ((a.x = memristor_xbar_create(&a.cfg, &cause)) == NULL) {
		emu_log("%s", cause != NULL ? cause : "no crossbar");
		exit(1);
	}
	a.rng = memristor_rng_stream(a.cfg.seed, UINT64_MAX);

	/* Signals arrive only inside ppoll(). */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &unblocked);
	sigdelset(&unblocked, SIGINT);
	sigdelset(&unblocked, SIGTERM);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = arc1_emu_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* A test that dies without stopping us does not leave us behind. */
	ppid = getppid();
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0)
		emu_log("prctl: %s", strerror(errno));
	else if (getppid() != ppid)
		arc1_emu_stop = SIGTERM;

	if (a.control != NULL && emu_control_open(&a.ctl, a.control,
	    arc1_emu_control_line, &a) != 0)
		exit(1);
	if (arc1_emu_plug(&a) != 0) {
		emu_control_close(&a.ctl, a.control);
		exit(1);
	}
	a.silent = silent;
	arc1_emu_loop(&a, &unblocked);

	emu_say("pacing violations: %llu", (unsigned long long)a.pacing);
	arc1_emu_unplug(&a);
	emu_control_close(&a.ctl, a.control);
	arc1_emu_drop_output(&a);
	memristor_xbar_free(a.x);
	return (arc1_emu_stop == -1 ? 1 : 0);
}
