/*
 * arc1.c: fuzz target for the ArC ONE conversation (plugins/arc1/
 * arc1-proto.c): what the instrument answers on its serial line to the
 * reset and init, reads, pulses and reads of lists and of the array.
 *
 * The serial port (arc1-serial.c: termios, poll, timeouts) is replaced by
 * a scripted instrument; lines are assembled by the plugin's own
 * arc1-line.c. Input: one byte whose bits pick the jobs (init,
 * read, pulse, pulses, read of a list, read of the array, in that order),
 * then the instrument's answers, one piece per command written (a length
 * byte and that many bytes; length 255 unplugs the port). What the protocol reads comes from the pieces that have
 * arrived; a read that finds too few bytes times out at once, as the real
 * port would after its timeout. Every exchange must end in one of the
 * three outcomes (0 done, -1 out of step, -2 gone) with a one-line cause
 * exactly when it fails, and every resistance it reports done must be one
 * the instrument can measure.
 */
#include "config.h"

#include <sys/prctl.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arc1.h"
#include "fake-host.h"
#include "fuzz.h"
#include "sb-args.h"

/* The scripted instrument: its answers and what has arrived. */
static struct {
	const uint8_t *data;	/* answers not yet sent */
	size_t size;
	uint8_t rx[4096];	/* arrived: rx[rx_head..rx_len) not yet read */
	size_t rx_head, rx_len;
	int gone;		/* unplugged */
} fuzz_arc1_line;

/* The next answer arrives (after a command). */
static void
fuzz_arc1_answer(void)
{
	const uint8_t *piece;
	size_t n;

	if (fuzz_arc1_line.size == 0 || fuzz_arc1_line.gone)
		return;
	if (fuzz_arc1_line.data[0] == 0xff) {
		fuzz_arc1_line.gone = 1;
		return;
	}
	n = fuzz_take(&fuzz_arc1_line.data, &fuzz_arc1_line.size, &piece);
	if (fuzz_arc1_line.rx_head == fuzz_arc1_line.rx_len)
		fuzz_arc1_line.rx_head = fuzz_arc1_line.rx_len = 0;
	if (n > sizeof fuzz_arc1_line.rx - fuzz_arc1_line.rx_len)
		n = sizeof fuzz_arc1_line.rx - fuzz_arc1_line.rx_len;
	memcpy(fuzz_arc1_line.rx + fuzz_arc1_line.rx_len, piece, n);
	fuzz_arc1_line.rx_len += n;
}

/* Take n bytes off the front of what arrived. */
static void
fuzz_arc1_consume(void *buf, size_t n)
{
	memcpy(buf, fuzz_arc1_line.rx + fuzz_arc1_line.rx_head, n);
	fuzz_arc1_line.rx_head += n;
}

/* The scripted port: open (not used: the link thread opens it). */
int
arc1_serial_open(struct arc1 *a, char **cause)
{
	a->fd = 0;
	return 0;
}

/* The scripted port: close. */
void
arc1_serial_close(struct arc1 *a)
{
	a->fd = -1;
}

/* The scripted port: what is waiting goes. */
void
arc1_serial_flush(struct arc1 *a)
{
	fuzz_arc1_line.rx_head = fuzz_arc1_line.rx_len = 0;
}

/* The scripted port: anything waiting? */
int
arc1_serial_pending(struct arc1 *a, int wait_ms)
{
	if (fuzz_arc1_line.rx_len > fuzz_arc1_line.rx_head)
		return 1;
	return fuzz_arc1_line.gone ? -2 : 0;
}

/* The scripted port: a command is written; its answer arrives. */
int
arc1_serial_write_lines(struct arc1 *a, const char *const *lines,
    unsigned n, char **cause)
{
	unsigned i;

	if (fuzz_arc1_line.gone) {
		sb_cause(cause, "%s: writing to %s: Input/output error",
		    a->name, a->cfg.port);
		return -2;
	}
	for (i = 0; i < n; i++) {
		FUZZ_CHECK(lines[i] != NULL && strchr(lines[i], '\n') == NULL);
		FUZZ_CHECK(strlen(lines[i]) < 63);
	}
	sb_devlink_count_tx(&a->dl, 1);
	fuzz_arc1_answer();
	return 0;
}

/* The scripted port: exactly len bytes, or a timeout. */
int
arc1_serial_read(struct arc1 *a, void *buf, size_t len, int timeout_ms,
    char **cause)
{
	size_t got = fuzz_arc1_line.rx_len - fuzz_arc1_line.rx_head;

	if (got >= len) {
		fuzz_arc1_consume(buf, len);
		return 0;
	}
	if (fuzz_arc1_line.gone && got == 0) {
		sb_cause(cause, "%s: %s hung up (unplugged?)", a->name,
		    a->cfg.port);
		return -2;
	}
	fuzz_arc1_consume(buf, got);
	sb_cause(cause, "no reply within %d ms (%zu of %zu bytes)", timeout_ms,
	    got, len);
	return -1;
}

static struct arc1 fuzz_arc1;
static struct sb_plugin *fuzz_arc1_plugin;

/* An ArC ONE of 4x4 devices, configured by the real load-line parser. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const struct sb_devlink_ops ops = { NULL, NULL, NULL, NULL,
	    NULL };
	char *cause = NULL;

	/* the protocol's sleeps of 0 ms (reset_ms=0) then take no time */
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	fuzz_arc1_plugin = fake_plugin_new("southampton", 1);
	if (fuzz_arc1_plugin == NULL)
		abort();
	fake_plugin_arg(fuzz_arc1_plugin, "port", "/dev/ttyACM0");
	fake_plugin_arg(fuzz_arc1_plugin, "words", "4");
	fake_plugin_arg(fuzz_arc1_plugin, "bits", "4");
	fake_plugin_arg(fuzz_arc1_plugin, "reset_ms", "0");
	fake_plugin_arg(fuzz_arc1_plugin, "settle_ms", "0");
	fake_plugin_arg(fuzz_arc1_plugin, "pace_us", "0");
	snprintf(fuzz_arc1.name, sizeof fuzz_arc1.name, "arc1");
	fuzz_arc1.host = &fake_host;
	fuzz_arc1.p = fuzz_arc1_plugin;
	if (arc1_config_parse(&fuzz_arc1.cfg, &fake_host, fuzz_arc1_plugin,
	    &cause) != 0) {
		fprintf(stderr, "fuzz: arc1: %s\n", cause);
		abort();
	}
	if (sb_devlink_init(&fuzz_arc1.dl, "arc1", &ops, &fuzz_arc1, 1,
	    &cause) != 0)
		abort();
	fuzz_arc1.fd = 0;
	return 0;
}

/* One exchange's outcome must be whole. */
static void
fuzz_arc1_outcome(int rc, char *cause, const double *ohms, unsigned n)
{
	unsigned i;

	FUZZ_CHECK(rc == 0 || rc == -1 || rc == -2);
	if (rc != 0) {
		FUZZ_CHECK(cause != NULL && *cause != '\0');
		FUZZ_CHECK(strchr(cause, '\n') == NULL);
		free(cause);
		return;
	}
	FUZZ_CHECK(cause == NULL);
	for (i = 0; i < n; i++)
		FUZZ_CHECK(isfinite(ohms[i]) && ohms[i] >= 1.0 &&
		    ohms[i] <= 1e10);
}

/* A session: the jobs the first byte picks, whatever the answers. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t list[] = { 0, 5, 10, 15, 3 };
	struct arc1 *a = &fuzz_arc1;
	double ohms[16];
	unsigned jobs;
	char *cause;
	int rc;

	if (size < 1)
		return 0;
	jobs = data[0];
	fuzz_arc1_line.data = data + 1;
	fuzz_arc1_line.size = size - 1;
	fuzz_arc1_line.rx_head = fuzz_arc1_line.rx_len = 0;
	fuzz_arc1_line.gone = 0;

	if (jobs & 0x01) {
		cause = NULL;
		rc = arc1_proto_handshake(a, &cause);
		fuzz_arc1_outcome(rc, cause, ohms, 0);
		if (rc == 0)
			FUZZ_CHECK(a->fw_major >= -1 && a->fw_minor >= -1);
	}
	if (jobs & 0x02) {
		cause = NULL;
		rc = arc1_proto_read(a, 5, ohms, &cause);
		fuzz_arc1_outcome(rc, cause, ohms, 1);
	}
	if (jobs & 0x04) {
		cause = NULL;
		rc = arc1_proto_pulse(a, 6, 4.0, 100, 1, ohms, &cause);
		fuzz_arc1_outcome(rc, cause, ohms, 1);
	}
	if (jobs & 0x08) {
		cause = NULL;
		rc = arc1_proto_pulse(a, 7, -4.0, 100, 3, ohms, &cause);
		fuzz_arc1_outcome(rc, cause, ohms, 1);
	}
	if (jobs & 0x10) {
		cause = NULL;
		rc = arc1_proto_read_list(a, list, 5, ohms, &cause);
		fuzz_arc1_outcome(rc, cause, ohms, 5);
	}
	if (jobs & 0x20) {
		cause = NULL;
		rc = arc1_proto_read_all(a, ohms, &cause);
		fuzz_arc1_outcome(rc, cause, ohms, 16);
	}
	return 0;
}
