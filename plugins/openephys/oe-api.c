/*
 * oe-api.c: what the GUI says, checked: the mode in /api/status, the
 * processors of its signal chain in /api/processors (INFERRED layout, see
 * openephys.h), the Network Events plugin's replies. Pure functions.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "openephys.h"

/* Say why, return -1. */
static int
oe_api_fail(char *why, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
oe_api_fail(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (why != NULL && len > 0) {
		va_start(ap, fmt);
		vsnprintf(why, len, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* The mode as the API spells it. */
const char *
oe_mode_name(enum oe_mode mode)
{
	switch (mode) {
	case OE_MODE_IDLE:
		return "IDLE";
	case OE_MODE_ACQUIRE:
		return "ACQUIRE";
	case OE_MODE_RECORD:
		return "RECORD";
	case OE_MODE_UNKNOWN:
		break;
	}
	return "?";
}

/* {"mode": "IDLE"|"ACQUIRE"|"RECORD", ...}: 0, or -1 with why. */
int
oe_api_mode(const char *body, enum oe_mode *mode, char *why, size_t len)
{
	json_error_t err;
	json_t *root, *m;
	const char *s;
	int rc = 0;

	root = json_loads(body, 0, &err);
	if (root == NULL)
		return oe_api_fail(why, len, "/api/status answered something "
		    "that is not JSON (%s)", err.text);
	m = json_object_get(root, "mode");
	if (!json_is_string(m))
		rc = oe_api_fail(why, len, "/api/status has no \"mode\"");
	else {
		s = json_string_value(m);
		if (strcmp(s, "IDLE") == 0)
			*mode = OE_MODE_IDLE;
		else if (strcmp(s, "ACQUIRE") == 0)
			*mode = OE_MODE_ACQUIRE;
		else if (strcmp(s, "RECORD") == 0)
			*mode = OE_MODE_RECORD;
		else
			rc = oe_api_fail(why, len, "/api/status says mode "
			    "\"%.40s\" (IDLE, ACQUIRE or RECORD expected)", s);
	}
	json_decref(root);
	return rc;
}

/* Does s contain word, ignoring case? */
static int
oe_api_has(const char *s, const char *word)
{
	size_t n = strlen(word);

	for (; *s != '\0'; s++)
		if (strncasecmp(s, word, n) == 0)
			return 1;
	return 0;
}

/* A port: a number or digits, 1-65535; 0 if it is not one. */
static uint32_t
oe_api_port_value(json_t *v)
{
	const char *s;
	long long n;
	char *end;

	if (json_is_integer(v))
		n = json_integer_value(v);
	else if (json_is_string(v)) {
		s = json_string_value(v);
		if (!isdigit((unsigned char)*s))
			return 0;
		n = strtoll(s, &end, 10);
		if (*end != '\0')
			return 0;
	} else if (json_is_real(v)) {
		/* cast only what fits: a real beyond long long is no port */
		if (!(json_real_value(v) >= 1 && json_real_value(v) <= 65535))
			return 0;
		n = (long long)json_real_value(v);
	} else
		return 0;
	return n >= 1 && n <= 65535 ? (uint32_t)n : 0;
}

/* Is key a port's name? */
static int
oe_api_port_key(const char *key)
{
	return strcasecmp(key, "port") == 0 || strcasecmp(key,
	    "data_port") == 0;
}

/* The first port said anywhere inside a processor's object. */
static uint32_t
oe_api_port(json_t *v, int depth)
{
	const char *key;
	json_t *item, *name;
	uint32_t port;
	size_t i;

	if (depth > 8)
		return 0;
	if (json_is_object(v)) {
		name = json_object_get(v, "name");
		if (json_is_string(name) && oe_api_port_key(json_string_value(
		    name)) && (port = oe_api_port_value(json_object_get(v,
		    "value"))) != 0)
			return port;	/* {"name":"port","value":5557} */
		json_object_foreach(v, key, item) {
			if (oe_api_port_key(key) && (port =
			    oe_api_port_value(item)) != 0)
				return port;
			if ((json_is_object(item) || json_is_array(item)) &&
			    (port = oe_api_port(item, depth + 1)) != 0)
				return port;
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, item)
			if ((port = oe_api_port(item, depth + 1)) != 0)
				return port;
	}
	return 0;
}

/* An id: a number or digits; -1 if none. */
static int64_t
oe_api_id(json_t *obj)
{
	json_t *v = json_object_get(obj, "id");

	if (json_is_integer(v))
		return (int64_t)json_integer_value(v);
	if (json_is_string(v) && isdigit((unsigned char)
	    *json_string_value(v)))
		return strtoll(json_string_value(v), NULL, 10);
	return -1;
}

/* Look at every object of the document for processors we know. */
static void
oe_api_walk(json_t *v, struct oe_processors *pr, int depth)
{
	const char *key, *name;
	json_t *item, *n;
	size_t i;

	if (depth > 64)
		return;
	if (json_is_array(v)) {
		json_array_foreach(v, i, item)
			oe_api_walk(item, pr, depth + 1);
		return;
	}
	if (!json_is_object(v))
		return;
	n = json_object_get(v, "name");
	if (json_is_string(n) && json_object_get(v, "id") != NULL) {
		name = json_string_value(n);
		pr->count++;
		if (oe_api_has(name, OE_PROC_EVENT_BROADCASTER) &&
		    !pr->broadcaster) {
			pr->broadcaster = 1;
			pr->broadcaster_id = oe_api_id(v);
			pr->broadcaster_port = oe_api_port(v, 0);
		} else if (oe_api_has(name, OE_PROC_NETWORK_EVENTS) &&
		    !pr->network_events) {
			pr->network_events = 1;
			pr->network_events_id = oe_api_id(v);
			pr->network_events_port = oe_api_port(v, 0);
		} else if (oe_api_has(name, OE_PROC_ACQ_BOARD_1) ||
		    oe_api_has(name, OE_PROC_ACQ_BOARD_2))
			pr->acq_board = 1;
	}
	json_object_foreach(v, key, item)
		if (json_is_object(item) || json_is_array(item))
			oe_api_walk(item, pr, depth + 1);
}

/* The processors of /api/processors that matter here: 0, or -1 with why. */
int
oe_api_processors(const char *body, struct oe_processors *pr, char *why,
    size_t len)
{
	json_error_t err;
	json_t *root;

	memset(pr, 0, sizeof *pr);
	pr->broadcaster_id = pr->network_events_id = -1;
	root = json_loads(body, 0, &err);
	if (root == NULL)
		return oe_api_fail(why, len, "/api/processors answered "
		    "something that is not JSON (%s)", err.text);
	oe_api_walk(root, pr, 0);
	json_decref(root);
	return 0;
}

/* A number after key= in s; -1 if none. */
static long
oe_api_after(const char *s, const char *key)
{
	const char *at = strstr(s, key);
	char *end;
	long v;

	if (at == NULL || !isdigit((unsigned char)at[strlen(key)]))
		return -1;
	v = strtol(at + strlen(key), &end, 10);
	return v;
}

/*
 * A Network Events reply to "TTL Line=line State=state": 0 if it took
 * it, else an enum oe_cause with why.
 */
int
oe_api_ne_reply(const char *reply, uint32_t line, int state, char *why,
    size_t len)
{
	char text[128];
	size_t n;
	long l, s;

	snprintf(text, sizeof text, "%s", reply);
	n = strlen(text);
	while (n > 0 && isspace((unsigned char)text[n - 1]))
		text[--n] = '\0';
	for (n = 0; text[n] != '\0'; n++)
		if (!isprint((unsigned char)text[n]))
			text[n] = '?';
	if (strncmp(text, "TTLHandled", 10) == 0) {
		l = oe_api_after(text, "Line=");
		s = oe_api_after(text, "State=");
		if (l == (long)line && s == state)
			return 0;
		oe_api_fail(why, len, "'%.60s' answers another TTL than 'TTL "
		    "Line=%u State=%d'", text, line, state);
		return OE_NE_REPLY;
	}
	if (strncmp(text, "InvalidChannel", 14) == 0) {
		oe_api_fail(why, len, "Network Events refused TTL line %u "
		    "(InvalidChannel): it takes lines 1-%d", line, OE_NE_LINES);
		return OE_NE_INVALID;
	}
	if (strncmp(text, "NotHandled", 10) == 0) {
		oe_api_fail(why, len, "Network Events does not know 'TTL "
		    "Line=%u State=%d' (NotHandled): use a Network Events "
		    "plugin that takes TTL commands (0.2.1 does)", line,
		    state);
		return OE_NE_NOT_HANDLED;
	}
	oe_api_fail(why, len, "Network Events answered '%.60s' to 'TTL "
	    "Line=%u State=%d'", text, line, state);
	return OE_NE_REPLY;
}

/* {"key": "value"}, malloc'd (NULL if out of memory). */
char *
oe_api_json_text(const char *key, const char *value)
{
	json_t *obj = json_pack("{s:s}", key, value);
	char *text;

	if (obj == NULL)
		return NULL;
	text = json_dumps(obj, JSON_COMPACT);
	json_decref(obj);
	return text;
}
