/*
 * arc1-proto.c: the ArC ONE conversation (see arc1.h for the protocol and
 * its sources): reset and init, reads, pulses, reads of a device list.
 * Runs in the link's thread only. Return codes as arc1-serial.c: 0, -1 out
 * of step (resync), -2 the port is gone.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arc1.h"
#include "sb-args.h"

/* Resistances the instrument can report (its display spans 100 ohm to
 * 100 Mohm); anything else is a misread stream. */
int
arc1_proto_plausible(double ohms)
{
	return isfinite(ohms) && ohms >= 1.0 && ohms <= 1e10;
}

/* Sleep ms milliseconds (the link thread only). */
static void
arc1_proto_sleep_ms(uint32_t ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* A float as the firmware parses it: significant digits, no "%f" loss. */
static void
arc1_proto_float(char *buf, size_t len, double v)
{
	snprintf(buf, len, "%.6g", v);
}

/* Decode a little-endian float32 (byte order inferred, see arc1.h). */
static double
arc1_proto_decode(const unsigned char *b)
{
	uint32_t u = (uint32_t)b[0] | (uint32_t)b[1] << 8 |
	    (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
	float f;

	memcpy(&f, &u, sizeof f);
	return f;
}

/* Nothing may be waiting before a command: if it is, we are out of step. */
static int
arc1_proto_quiet(struct arc1 *a, int wait_ms, const char *when,
    char **cause)
{
	char junk[64];
	int rc;

	rc = arc1_serial_pending(a, wait_ms);
	if (rc == 0)
		return 0;
	if (rc == -2) {
		sb_cause(cause, "%s: %s hung up (unplugged?)", a->name,
		    a->cfg.port);
		return -2;
	}
	sb_devlink_count_malformed(&a->dl, 1);
	rc = arc1_serial_read(a, junk, 1, 0, cause);
	if (rc == -2)
		return -2;
	free(*cause);
	*cause = NULL;
	sb_cause(cause, "bytes from the instrument nobody asked for (%s)",
	    when);
	return -1;
}

/* Read n float32 replies into ohms; each must be a plausible resistance. */
static int
arc1_proto_floats(struct arc1 *a, double *ohms, unsigned n, const char *what,
    int timeout_ms, char **cause)
{
	unsigned char b[4];
	unsigned i;
	int rc;

	for (i = 0; i < n; i++) {
		rc = arc1_serial_read(a, b, 4, timeout_ms, cause);
		if (rc != 0) {
			if (rc == -1) {
				char *why = *cause;

				*cause = NULL;
				sb_cause(cause, "%s: %s", what, why);
				free(why);
			}
			return rc;
		}
		ohms[i] = arc1_proto_decode(b);
		if (!arc1_proto_plausible(ohms[i])) {
			sb_devlink_count_malformed(&a->dl, 1);
			sb_cause(cause, "%s: the reply %02x %02x %02x %02x is "
			    "no resistance (%g ohm)", what, b[0], b[1], b[2],
			    b[3], ohms[i]);
			return -1;
		}
		sb_devlink_count_rx(&a->dl, 1);
	}
	/* a reply longer than asked for: the stream is out of step */
	return arc1_proto_quiet(a, 0, "after a reply", cause);
}

/* Reset the board, init it, commit the read configuration, ask its
 * firmware version; the link is in step afterwards. */
int
arc1_proto_handshake(struct arc1 *a, char **cause)
{
	const struct arc1_config *c = &a->cfg;
	char cycles[16], words[16], bits[16], mode[16], smode[16], sneak[16];
	char vread[32], line[64];
	const char *reset[] = { "00" };
	const char *version[] = { "999" };
	unsigned char v[4];
	int read_mode = c->read_mode, rc;

	/* read mode 2 (TIA4P) becomes 3 for negative read voltages, as the
	 * maker's software does */
	if (read_mode == 2 && c->vread < 0)
		read_mode = 3;
	arc1_serial_flush(a);
	if ((rc = arc1_serial_write_lines(a, reset, 1, cause)) != 0)
		return rc;
	arc1_proto_sleep_ms(c->reset_ms);	/* the mbed reboots */
	arc1_serial_flush(a);

	snprintf(cycles, sizeof cycles, "%u", c->cycles);
	snprintf(words, sizeof words, "%u", c->words);
	snprintf(bits, sizeof bits, "%u", c->bits);
	snprintf(mode, sizeof mode, "%d", read_mode);
	snprintf(smode, sizeof smode, "%d", c->session_mode);
	snprintf(sneak, sizeof sneak, "%d", c->sneak);
	arc1_proto_float(vread, sizeof vread, c->vread);
	{
		const char *init[] = { "0", cycles, words, bits, mode, smode,
		    sneak, vread };

		if ((rc = arc1_serial_write_lines(a, init, 8, cause)) != 0)
			return rc;
	}
	rc = arc1_serial_read_line(a, line, sizeof line,
	    (int)c->init_timeout_ms, cause);
	if (rc != 0) {
		char *why = *cause;

		*cause = NULL;
		sb_cause(cause, "no init confirmation from %s (%s): is it an "
		    "ArC ONE, powered, with its mbed's blue LED on?",
		    c->port, why);
		free(why);
		return rc;
	}
	if (strcmp(line, "1") != 0) {
		sb_devlink_count_malformed(&a->dl, 1);
		sb_cause(cause, "the instrument refused init (answered '%.20s', "
		    "not '1'): check words=, bits= and read_mode=", line);
		return -1;
	}
	{
		const char *commit[] = { "01", mode, vread };

		if ((rc = arc1_serial_write_lines(a, commit, 3, cause)) != 0)
			return rc;
	}
	/* firmware version: old firmware says nothing, which is fine */
	if ((rc = arc1_serial_write_lines(a, version, 1, cause)) != 0)
		return rc;
	rc = arc1_serial_read(a, v, 4, (int)c->version_timeout_ms, cause);
	if (rc == -2)
		return rc;
	if (rc == 0) {
		a->fw_major = v[0] | v[1] << 8;	/* little-endian, inferred */
		a->fw_minor = v[2] | v[3] << 8;
	} else {
		free(*cause);
		*cause = NULL;
		a->fw_major = a->fw_minor = -1;
		arc1_serial_flush(a);	/* half an answer, if any */
	}
	arc1_proto_sleep_ms(c->settle_ms);
	if ((rc = arc1_proto_quiet(a, 0, "after init", cause)) != 0)
		return rc;
	if (a->fw_major >= 0)
		sb_devlink_detail(&a->dl, "ArC ONE firmware %d.%d, %ux%u, "
		    "read mode %d at %.2f V", a->fw_major, a->fw_minor,
		    c->words, c->bits, read_mode, c->vread);
	else
		sb_devlink_detail(&a->dl, "ArC ONE (old firmware: no "
		    "version), %ux%u, read mode %d at %.2f V", c->words,
		    c->bits, read_mode, c->vread);
	return 0;
}

/* Word and bit lines of a device, 1-based, as text. */
static void
arc1_proto_lines(const struct arc1 *a, uint32_t device, char *w, char *b)
{
	snprintf(w, 16, "%u", device / a->cfg.bits + 1);
	snprintf(b, 16, "%u", device % a->cfg.bits + 1);
}

/* Read one device (job 1). */
int
arc1_proto_read(struct arc1 *a, uint32_t device, double *ohms,
    char **cause)
{
	char w[16], b[16];
	int rc;

	if ((rc = arc1_proto_quiet(a, 0, "before a read", cause)) != 0)
		return rc;
	arc1_proto_lines(a, device, w, b);
	{
		const char *job[] = { "1", w, b };

		if ((rc = arc1_serial_write_lines(a, job, 3, cause)) != 0)
			return rc;
	}
	return arc1_proto_floats(a, ohms, 1, "read", (int)a->cfg.timeout_ms,
	    cause);
}

/*
 * Pulse a device count times and read it: one pulse with job 3 (pulse
 * then read); several by selecting the device (02) and pulsing it (04)
 * count times, then a read (1).
 */
int
arc1_proto_pulse(struct arc1 *a, uint32_t device, double volts,
    uint32_t width_us, uint32_t count, double *ohms, char **cause)
{
	char w[16], b[16], v[32], pw[32];
	int timeout, rc;
	uint32_t i;

	if ((rc = arc1_proto_quiet(a, 0, "before a pulse", cause)) != 0)
		return rc;
	arc1_proto_lines(a, device, w, b);
	arc1_proto_float(v, sizeof v, volts);
	arc1_proto_float(pw, sizeof pw, width_us * 1e-6);
	/* the reply comes after the pulses: allow for their length */
	timeout = (int)a->cfg.timeout_ms + (int)((uint64_t)width_us * count /
	    1000);
	if (count == 1) {
		const char *job[] = { "3", w, b, v, pw };

		if ((rc = arc1_serial_write_lines(a, job, 5, cause)) != 0)
			return rc;
		return arc1_proto_floats(a, ohms, 1, "pulse", timeout, cause);
	}
	{
		const char *select[] = { "02", w, b };

		if ((rc = arc1_serial_write_lines(a, select, 3, cause)) != 0)
			return rc;
	}
	for (i = 0; i < count; i++) {
		const char *pulse[] = { "04", v, pw };

		if ((rc = arc1_serial_write_lines(a, pulse, 3, cause)) != 0)
			return rc;
	}
	{
		const char *job[] = { "1", w, b };

		if ((rc = arc1_serial_write_lines(a, job, 3, cause)) != 0)
			return rc;
	}
	return arc1_proto_floats(a, ohms, 1, "read after pulses", timeout,
	    cause);
}

/* Read a list of devices in one job (2, type 2): one float each. */
int
arc1_proto_read_list(struct arc1 *a, const uint32_t *devices, unsigned n,
    double *ohms, char **cause)
{
	char words[16], bits[16], count[16], w[16], b[16];
	unsigned i;
	int rc;

	if (n == 1)
		return arc1_proto_read(a, devices[0], ohms, cause);
	if ((rc = arc1_proto_quiet(a, 0, "before a read", cause)) != 0)
		return rc;
	snprintf(words, sizeof words, "%u", a->cfg.words);
	snprintf(bits, sizeof bits, "%u", a->cfg.bits);
	snprintf(count, sizeof count, "%u", n);
	{
		const char *job[] = { "2", "2", words, bits, count };

		if ((rc = arc1_serial_write_lines(a, job, 5, cause)) != 0)
			return rc;
	}
	for (i = 0; i < n; i++) {
		arc1_proto_lines(a, devices[i], w, b);
		{
			const char *pair[] = { w, b };

			if ((rc = arc1_serial_write_lines(a, pair, 2,
			    cause)) != 0)
				return rc;
		}
	}
	return arc1_proto_floats(a, ohms, n, "read of a device list",
	    (int)a->cfg.timeout_ms, cause);
}

/* Read the whole array (job 2, type 1): words x bits floats, wordline
 * outer, bitline inner, into ohms[device]. */
int
arc1_proto_read_all(struct arc1 *a, double *ohms, char **cause)
{
	char words[16], bits[16];
	unsigned n = a->cfg.words * a->cfg.bits;
	int rc;

	if ((rc = arc1_proto_quiet(a, 0, "before a read of the array",
	    cause)) != 0)
		return rc;
	snprintf(words, sizeof words, "%u", a->cfg.words);
	snprintf(bits, sizeof bits, "%u", a->cfg.bits);
	{
		const char *job[] = { "2", "1", words, bits };

		if ((rc = arc1_serial_write_lines(a, job, 4, cause)) != 0)
			return rc;
	}
	/* every device takes its read cycles: allow for them */
	return arc1_proto_floats(a, ohms, n, "read of the whole array",
	    (int)a->cfg.timeout_ms + (int)(n * 5), cause);
}
