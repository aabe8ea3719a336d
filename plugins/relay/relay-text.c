/*
 * relay-text.c: the relay's text answers, one record per line with fields
 * split by single spaces (the last field may hold spaces).
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "relay.h"
#include "xmalloc.h"

/* Cut the next line off *pp (NULL at the end); strips a trailing CR. */
char *
relay_text_line(char **pp)
{
	char	*line = *pp, *nl;
	size_t	 len;

	if (line == NULL || *line == '\0')
		return (NULL);
	if ((nl = strchr(line, '\n')) != NULL) {
		*nl = '\0';
		*pp = nl + 1;
	} else
		*pp = line + strlen(line);
	len = strlen(line);
	if (len > 0 && line[len - 1] == '\r')
		line[len - 1] = '\0';
	return (line);
}

/* Next blank-separated field of *pp, or NULL. */
static char *
relay_text_field(char **pp)
{
	char	*p = *pp, *start;

	if (p == NULL || *p == '\0')
		return (NULL);
	start = p;
	while (*p != '\0' && *p != ' ')
		p++;
	if (*p == ' ')
		*p++ = '\0';
	*pp = p;
	return (start);
}

/* Parse an unsigned decimal field. */
static int
relay_text_u64(const char *s, uint64_t *out)
{
	char	*end;

	if (s == NULL || !isdigit((unsigned char)*s))
		return (-1);
	errno = 0;
	*out = strtoull(s, &end, 10);
	return (*end != '\0' || errno != 0 ? -1 : 0);
}

/* Copy a name field into a fixed buffer; -1 if missing or too long. */
static int
relay_text_name(const char *s, char *out, size_t size)
{
	if (s == NULL || *s == '\0' || strlen(s) >= size)
		return (-1);
	snprintf(out, size, "%s", s);
	return (0);
}

/* "ID NAME NEXT_SEQ" from POST /v1/streams. */
int
relay_text_registered(char *line, struct relay_listed *out)
{
	uint64_t	id;

	memset(out, 0, sizeof *out);
	if (relay_text_u64(relay_text_field(&line), &id) != 0 ||
	    id > UINT32_MAX ||
	    relay_text_name(relay_text_field(&line), out->name,
	    sizeof out->name) != 0 ||
	    relay_text_u64(relay_text_field(&line), &out->seq) != 0)
		return (-1);
	out->id = (uint32_t)id;
	return (0);
}

/* An age in seconds, or "-" (none yet: NaN); -1 if neither. */
static int
relay_text_age(const char *s, double *out)
{
	char	*end;

	if (s != NULL && strcmp(s, "-") == 0) {
		*out = NAN;
		return (0);
	}
	if (s == NULL || !isdigit((unsigned char)*s))
		return (-1);
	errno = 0;
	*out = strtod(s, &end);
	return (*end != '\0' || errno != 0 || !isfinite(*out) ? -1 : 0);
}

/* A line of GET /v1/health (see struct relay_presence). */
int
relay_text_presence(char *line, struct relay_presence *out)
{
	const char	*f;
	uint64_t	 reads;

	memset(out, 0, sizeof *out);
	out->heard_ago_s = NAN;
	if (relay_text_name(relay_text_field(&line), out->site,
	    sizeof out->site) != 0 ||
	    relay_text_age(relay_text_field(&line), &out->seen_ago_s) != 0 ||
	    relay_text_age(relay_text_field(&line), &out->events_per_s) != 0 ||
	    isnan(out->events_per_s) ||
	    relay_text_u64(relay_text_field(&line), &out->batches) != 0 ||
	    relay_text_u64(relay_text_field(&line), &out->gaps) != 0)
		return (-1);
	/* an older relay stops here */
	if ((f = relay_text_field(&line)) == NULL)
		return (0);
	if (relay_text_age(f, &out->heard_ago_s) != 0 ||
	    relay_text_u64(relay_text_field(&line), &reads) != 0 ||
	    reads > UINT32_MAX)
		return (-1);
	out->reads = (unsigned)reads;
	return (0);
}

/* "ID SITE NAME UNITS HIGHEST_SEQ" from GET /v1/streams. */
int
relay_text_listed(char *line, struct relay_listed *out)
{
	uint64_t	id, units;

	memset(out, 0, sizeof *out);
	if (relay_text_u64(relay_text_field(&line), &id) != 0 ||
	    id > UINT32_MAX ||
	    relay_text_name(relay_text_field(&line), out->site,
	    sizeof out->site) != 0 ||
	    relay_text_name(relay_text_field(&line), out->name,
	    sizeof out->name) != 0 ||
	    relay_text_u64(relay_text_field(&line), &units) != 0 ||
	    units > UINT32_MAX ||
	    relay_text_u64(relay_text_field(&line), &out->seq) != 0)
		return (-1);
	out->id = (uint32_t)id;
	out->units = (uint32_t)units;
	return (0);
}

/* "ID HIGHEST_CONTIGUOUS_SEQ" from POST /v1/publish. */
int
relay_text_acked(char *line, uint32_t *id, uint64_t *seq)
{
	uint64_t	v;

	if (relay_text_u64(relay_text_field(&line), &v) != 0 ||
	    v > UINT32_MAX ||
	    relay_text_u64(relay_text_field(&line), seq) != 0)
		return (-1);
	*id = (uint32_t)v;
	return (0);
}

/* Undo the relay's escaping of \n and \\ in result texts. */
char *
relay_text_unescape(const char *s)
{
	char	*out, *o;

	out = o = xmalloc(strlen(s) + 1);
	for (; *s != '\0'; s++) {
		if (*s == '\\' && s[1] == 'n') {
			*o++ = '\n';
			s++;
		} else if (*s == '\\' && s[1] == '\\') {
			*o++ = '\\';
			s++;
		} else
			*o++ = *s;
	}
	*o = '\0';
	return (out);
}

/*
 * One line of GET /v1/control: "N command FROM ID LINE..." or
 * "N result FROM ID STATUS TEXT". Sets *n; NULL if malformed.
 */
struct relay_item *
relay_text_control(char *line, uint64_t *n)
{
	struct relay_item	*item;
	char			*kind, *from, *status;
	uint64_t		 id;

	if (relay_text_u64(relay_text_field(&line), n) != 0)
		return (NULL);
	kind = relay_text_field(&line);
	from = relay_text_field(&line);
	if (kind == NULL || from == NULL ||
	    relay_text_u64(relay_text_field(&line), &id) != 0)
		return (NULL);
	item = xcalloc(1, sizeof *item);
	item->from = xstrdup(from);
	item->id = id;
	if (strcmp(kind, "command") == 0) {
		item->type = RELAY_ITEM_COMMAND;
		item->text = xstrdup(line);
		return (item);
	}
	if (strcmp(kind, "result") == 0 &&
	    (status = relay_text_field(&line)) != NULL &&
	    (strcmp(status, "ok") == 0 || strcmp(status, "error") == 0)) {
		item->type = RELAY_ITEM_RESULT;
		item->status = strcmp(status, "ok") == 0 ? 0 : -1;
		item->text = relay_text_unescape(line);
		return (item);
	}
	relay_item_free(item);
	return (NULL);
}

void
relay_presence_merge(struct relay_presence *got, size_t n,
    const struct relay_presence *old, size_t nold)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		got[i].was_reading = got[i].reads > 0;
		got[i].idle_polls = 0;
		for (j = 0; j < nold; j++) {
			if (strcmp(old[j].site, got[i].site) != 0 ||
			    !old[j].was_reading)
				continue;
			got[i].was_reading = 1;
			if (got[i].reads == 0)
				got[i].idle_polls = old[j].idle_polls + 1;
		}
	}
}
