/*
 * intan-channels.c: channels=, the RHX channels that are this population's
 * units, in order: "A-000..A-031", "A-000..A-015,B-000..B-015", "C-007".
 * A native RHX channel name is a port letter (A..H), a dash and three
 * digits; the unit index is the position in the list.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "intan.h"
#include "sb-args.h"

/* Does name (5 bytes) look like a native channel name, any port letter? */
int
intan_channels_name_ok(const char *name)
{
	return name[0] >= 'A' && name[0] <= 'Z' && name[1] == '-' &&
	    isdigit((unsigned char)name[2]) &&
	    isdigit((unsigned char)name[3]) &&
	    isdigit((unsigned char)name[4]);
}

/* Parse one name at s (case-insensitive) into port and number; its end. */
static const char *
intan_channels_one(const char *s, int *port, int *number)
{
	int letter = toupper((unsigned char)s[0]);

	if (letter < 'A' || letter >= 'A' + INTAN_PORTS || s[1] != '-' ||
	    !isdigit((unsigned char)s[2]) || !isdigit((unsigned char)s[3]) ||
	    !isdigit((unsigned char)s[4]))
		return NULL;
	*port = letter - 'A';
	*number = (s[2] - '0') * 100 + (s[3] - '0') * 10 + (s[4] - '0');
	return s + 5;
}

/* Add one channel as the next unit. */
static int
intan_channels_add(struct intan_channels *ch, int port, int number,
    char **cause)
{
	int key = port * 1000 + number;

	if (ch->map[key] >= 0) {
		sb_cause(cause, "intan: channels=: %c-%03d is listed twice",
		    'A' + port, number);
		return -1;
	}
	if (ch->n == INTAN_MAX_CHANNELS) {
		sb_cause(cause, "intan: channels=: more than %d channels",
		    INTAN_MAX_CHANNELS);
		return -1;
	}
	ch->map[key] = (int16_t)ch->n;
	snprintf(ch->names[ch->n], sizeof ch->names[0], "%c-%03d", 'A' + port,
	    number);
	ch->n++;
	return 0;
}

/* Parse channels= into ch (freed with intan_channels_free). */
int
intan_channels_parse(struct intan_channels *ch, const char *spec,
    char **cause)
{
	const char *s = spec, *end;
	int port, number, port2, number2, step, k;

	memset(ch, 0, sizeof *ch);
	memset(ch->map, 0xff, sizeof ch->map);	/* -1: not a unit */
	ch->names = calloc(INTAN_MAX_CHANNELS, sizeof *ch->names);
	if (ch->names == NULL) {
		sb_cause(cause, "out of memory");
		return -1;
	}
	while (*s != '\0') {
		end = intan_channels_one(s, &port, &number);
		if (end == NULL)
			goto bad;
		if (strncmp(end, "..", 2) == 0) {
			end = intan_channels_one(end + 2, &port2, &number2);
			if (end == NULL)
				goto bad;
			if (port2 != port) {
				sb_cause(cause, "intan: channels=%s: a range "
				    "stays on one port (A-000..A-031,"
				    "B-000..B-031)", spec);
				goto fail;
			}
		} else
			number2 = number;
		step = number2 >= number ? 1 : -1;
		for (k = number;; k += step) {
			if (intan_channels_add(ch, port, k, cause) != 0)
				goto fail;
			if (k == number2)
				break;
		}
		if (*end == ',')
			end++;
		else if (*end != '\0')
			goto bad;
		s = end;
	}
	if (ch->n == 0)
		goto bad;
	return 0;

bad:
	sb_cause(cause, "intan: channels=%s: give RHX channel names, ranges "
	    "and lists, e.g. A-000..A-031 or A-000..A-015,B-000 (ports A to "
	    "H, three digits)", spec);
fail:
	intan_channels_free(ch);
	return -1;
}

/* Free what parse made. */
void
intan_channels_free(struct intan_channels *ch)
{
	free(ch->names);
	ch->names = NULL;
	ch->n = 0;
}

/*
 * The unit of a channel name as it came in a record (5 bytes): >= 0, -1
 * a well-formed name that is not a unit, -2 not a channel name at all.
 */
int
intan_channels_unit(const struct intan_channels *ch, const char *name)
{
	int key;

	if (!intan_channels_name_ok(name))
		return -2;
	if (name[0] >= 'A' + INTAN_PORTS)
		return -1;
	key = (name[0] - 'A') * 1000 + (name[2] - '0') * 100 +
	    (name[3] - '0') * 10 + (name[4] - '0');
	return ch->map[key];
}

/* "A-000..A-015" for units first..last (for messages). */
void
intan_channels_range(const struct intan_channels *ch, uint32_t first,
    uint32_t last, char *buf, size_t len)
{
	if (first >= ch->n || last >= ch->n) {
		snprintf(buf, len, "?");
		return;
	}
	if (first == last)
		snprintf(buf, len, "%s", ch->names[first]);
	else
		snprintf(buf, len, "%s..%s", ch->names[first],
		    ch->names[last]);
}
