/* relay-args.c: parsing of query arguments and text bodies. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "relay.h"
#include "xmalloc.h"

#define RELAY_CURSORS_MAX 1024

/* Parse a decimal u64 (digits only, no sign, no overflow); 0 or -1. */
int
relay_args_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (s == NULL || *s == '\0' || strlen(s) > 20)
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 0;
}

/* Parse streams=ID:AFTER,ID:AFTER,...; 0 or -1 with *cause. */
int
relay_args_cursors(const char *s, uint32_t **ids, uint64_t **after,
    size_t *n, char **cause)
{
	const char *p, *end, *colon;
	char part[48], *idpart, *afterpart;
	size_t count = 0, len, i;
	uint64_t id, a;

	*ids = NULL;
	*after = NULL;
	*n = 0;
	if (s == NULL || *s == '\0') {
		xasprintf(cause, "missing streams=ID:AFTER,... (ids from GET "
		    "/v1/streams)");
		return -1;
	}
	for (p = s;; p = end + 1) {
		end = strchr(p, ',');
		len = end ? (size_t)(end - p) : strlen(p);
		colon = memchr(p, ':', len);
		if (len >= sizeof part || colon == NULL) {
			xasprintf(cause, "bad streams entry '%.*s' (want "
			    "ID:AFTER, e.g. 3:0)", (int)(len > 40 ? 40 : len),
			    p);
			goto fail;
		}
		memcpy(part, p, len);
		part[len] = '\0';
		idpart = part;
		afterpart = part + (colon - p);
		*afterpart++ = '\0';
		if (relay_args_u64(idpart, &id) != 0 || id == 0 ||
		    id > UINT32_MAX || relay_args_u64(afterpart, &a) != 0) {
			xasprintf(cause, "bad streams entry '%.*s' (want "
			    "ID:AFTER with ID >= 1 and AFTER >= 0)", (int)len,
			    p);
			goto fail;
		}
		for (i = 0; i < count; i++) {
			if ((*ids)[i] == id) {
				xasprintf(cause, "stream %llu named twice in "
				    "streams=", (unsigned long long)id);
				goto fail;
			}
		}
		if (count == RELAY_CURSORS_MAX) {
			xasprintf(cause, "more than %d streams in one read",
			    RELAY_CURSORS_MAX);
			goto fail;
		}
		*ids = xreallocarray(*ids, count + 1, sizeof **ids);
		*after = xreallocarray(*after, count + 1, sizeof **after);
		(*ids)[count] = (uint32_t)id;
		(*after)[count] = a;
		count++;
		if (end == NULL)
			break;
	}
	*n = count;
	return 0;

fail:
	free(*ids);
	free(*after);
	*ids = NULL;
	*after = NULL;
	return -1;
}

/*
 * Parse one "NAME UNITS" line of POST /v1/streams (len bytes, no newline)
 * into name (RELAY_NAME_MAX + 1 bytes) and units; 0 or -1 with *cause.
 */
int
relay_args_stream_line(const char *line, size_t len, char *name,
    uint32_t *units, char **cause)
{
	const char *sp = memchr(line, ' ', len);
	char num[24];
	size_t nlen, ulen;
	uint64_t u;

	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (sp == NULL) {
		xasprintf(cause, "bad stream line '%.*s' (want NAME UNITS)",
		    (int)(len > 80 ? 80 : len), line);
		return -1;
	}
	nlen = (size_t)(sp - line);
	ulen = len - nlen - 1;
	if (!relay_name_valid(line, nlen, 1)) {
		xasprintf(cause, "bad stream name '%.*s' (letters, digits, "
		    "_ . - : / @ +; at most %d)", (int)(nlen > 80 ? 80 : nlen),
		    line, RELAY_NAME_MAX);
		return -1;
	}
	if (ulen == 0 || ulen >= sizeof num) {
		xasprintf(cause, "bad unit count for stream '%.*s'",
		    (int)nlen, line);
		return -1;
	}
	memcpy(num, sp + 1, ulen);
	num[ulen] = '\0';
	if (relay_args_u64(num, &u) != 0 || u > UINT32_MAX) {
		xasprintf(cause, "bad unit count '%s' for stream '%.*s' (a "
		    "number, 0 if not a population)", num, (int)nlen, line);
		return -1;
	}
	memcpy(name, line, nlen);
	name[nlen] = '\0';
	*units = (uint32_t)u;
	return 0;
}

/* Escape \ as \\ and newline as \n; a new string. */
char *
relay_args_escape(const char *s, size_t len)
{
	char *out = xmalloc(len * 2 + 1), *o = out;
	size_t i;

	for (i = 0; i < len; i++) {
		if (s[i] == '\\') {
			*o++ = '\\';
			*o++ = '\\';
		} else if (s[i] == '\n') {
			*o++ = '\\';
			*o++ = 'n';
		} else if (s[i] == '\r' || s[i] == '\0')
			*o++ = ' ';
		else
			*o++ = s[i];
	}
	*o = '\0';
	return out;
}
