/*
 * arc1-line.c: a text line from the ArC ONE, assembled from the bytes
 * arc1_serial_read (arc1-serial.c) delivers. Apart from the port so that
 * the fuzz target (tests/fuzz/arc1.c), which scripts the port's bytes,
 * runs this code and not a copy of it.
 *
 * Return codes as arc1-serial.c's: 0 done; -1 out of step (no whole line
 * in time, or one too long); -2 the port is gone.
 */
#include "config.h"

#include <stdlib.h>

#include "arc1.h"
#include "sb-args.h"

/* Read one text line (without '\n' or '\r') within timeout_ms. */
int
arc1_serial_read_line(struct arc1 *a, char *buf, size_t len, int timeout_ms,
    char **cause)
{
	int64_t deadline = sb_devlink_mono_us() + (int64_t)timeout_ms * 1000;
	size_t got = 0;
	int left, rc;
	char c;

	for (;;) {
		left = (int)((deadline - sb_devlink_mono_us()) / 1000);
		if (left <= 0)
			left = 0;
		rc = arc1_serial_read(a, &c, 1, left, cause);
		if (rc != 0) {
			if (rc == -1) {
				free(*cause);
				*cause = NULL;
				sb_cause(cause, "no line within %d ms%s",
				    timeout_ms, got > 0 ? " (a partial one)" :
				    "");
			}
			return rc;
		}
		if (c == '\n')
			break;
		if (c == '\r')
			continue;
		if (got + 1 >= len) {
			sb_cause(cause, "a line longer than %zu bytes where a "
			    "short one belongs", len - 1);
			return -1;
		}
		buf[got++] = c;
	}
	buf[got] = '\0';
	return 0;
}
