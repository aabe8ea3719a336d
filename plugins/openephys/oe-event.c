/*
 * oe-event.c: one Event Broadcaster message, checked field by field, and
 * the unit a spike belongs to. Pure functions: no sockets, no host.
 *
 * A message is two ZMQ frames: a uint16 in the GUI's byte order (0 TTL, 1
 * spike; read as little-endian, the order of every PC the GUI runs on)
 * and a JSON object. Anything else is refused with the reason, which the
 * caller counts as malformed and logs once per cause.
 */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "openephys.h"

/* The JSON key of a field, for messages. */
const char *
oe_field_name(enum oe_field f)
{
	static const char *names[OE_NFIELDS] = { "stream", "source_node",
	    "sample_rate", "sample_number", "electrode", "num_channels",
	    "sorted_id", "amp", "channel_name", "line", "state" };

	return f < OE_NFIELDS ? names[f] : "?";
}

/* Refuse with a cause and a reason. */
static int
oe_event_refuse(int cause, char *why, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
oe_event_refuse(int cause, char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (why != NULL && len > 0) {
		va_start(ap, fmt);
		vsnprintf(why, len, fmt, ap);
		va_end(ap);
	}
	return cause;
}

/* A field that is missing or of the wrong type. */
static int
oe_event_bad_field(enum oe_field f, const char *what, char *why, size_t len)
{
	return oe_event_refuse(OE_BAD_FIELD + (int)f, why, len, "'%s' %s",
	    oe_field_name(f), what);
}

/*
 * An integer field: a JSON integer, or a real with no fraction (a JSON
 * writer may print 30000.0), within [lo, hi]. 0, or -1.
 */
static int
oe_event_int(json_t *obj, const char *key, int64_t lo, int64_t hi,
    int64_t *out)
{
	json_t *v = json_object_get(obj, key);
	double d;

	if (json_is_integer(v))
		*out = (int64_t)json_integer_value(v);
	else if (json_is_real(v)) {
		d = json_real_value(v);
		if (!isfinite(d) || d != floor(d) || fabs(d) > 9.0e15)
			return -1;
		*out = (int64_t)d;
	} else
		return -1;
	return *out < lo || *out > hi ? -1 : 0;
}

/* The stream: a name, or a number (kept as its digits). 0, or -1. */
static int
oe_event_stream(json_t *obj, char *out, size_t len)
{
	json_t *v = json_object_get(obj, "stream");

	if (json_is_string(v)) {
		if (json_string_length(v) >= len ||
		    strlen(json_string_value(v)) != json_string_length(v))
			return -1;	/* too long, or a NUL inside */
		snprintf(out, len, "%s", json_string_value(v));
		return 0;
	}
	if (json_is_integer(v)) {
		snprintf(out, len, "%lld", (long long)json_integer_value(v));
		return 0;
	}
	return -1;
}

/*
 * The electrode: a number, or a name whose last digits number it (INFERRED,
 * see openephys.h). 0, or -1.
 */
static int
oe_event_electrode(json_t *obj, struct oe_event *ev)
{
	json_t *v = json_object_get(obj, "electrode");
	const char *s, *end, *start;
	unsigned long long n = 0;
	int64_t i;

	if (json_is_string(v)) {
		s = json_string_value(v);
		end = s + strlen(s);
		while (end > s && isspace((unsigned char)end[-1]))
			end--;
		start = end;
		while (start > s && isdigit((unsigned char)start[-1]))
			start--;
		if (start == end || end - start > 9)
			return -1;
		for (; start < end; start++)
			n = n * 10 + (unsigned long long)(*start - '0');
		ev->electrode = (uint32_t)n;
		ev->electrode_named = 1;
		return 0;
	}
	if (oe_event_int(obj, "electrode", 0, UINT32_MAX, &i) != 0)
		return -1;
	ev->electrode = (uint32_t)i;
	ev->electrode_named = 0;
	return 0;
}

/* The fields every event has. */
static int
oe_event_common(json_t *obj, struct oe_event *ev, char *why, size_t len)
{
	json_t *v;

	if (oe_event_stream(obj, ev->stream, sizeof ev->stream) != 0)
		return oe_event_bad_field(OE_F_STREAM, json_object_get(obj,
		    "stream") == NULL ? "is missing" : "is not a stream name",
		    why, len);
	if (oe_event_int(obj, "source_node", 0, INT32_MAX,
	    &ev->source_node) != 0)
		return oe_event_bad_field(OE_F_SOURCE_NODE, json_object_get(obj,
		    "source_node") == NULL ? "is missing" : "is not a "
		    "processor id", why, len);
	/*
	 * At least 1 Hz: below it a sample number (up to 2^52) is a time
	 * beyond what the clock mapping can hold (1e-300 Hz made it infinite).
	 */
	v = json_object_get(obj, "sample_rate");
	if (!json_is_number(v) || !isfinite(json_number_value(v)) ||
	    json_number_value(v) < 1 || json_number_value(v) > 1e9)
		return oe_event_bad_field(OE_F_SAMPLE_RATE, v == NULL ?
		    "is missing" : "is not a sample rate (1 Hz to 1 GHz)", why,
		    len);
	ev->sample_rate = json_number_value(v);
	if (oe_event_int(obj, "sample_number", 0, INT64_C(1) << 52,
	    &ev->sample_number) != 0)
		return oe_event_bad_field(OE_F_SAMPLE_NUMBER,
		    json_object_get(obj, "sample_number") == NULL ?
		    "is missing" : "is not a sample number", why, len);
	return 0;
}

/* The fields of a spike; amp1..ampN need not all be there, but are numbers. */
static int
oe_event_spike(json_t *obj, struct oe_event *ev, char *why, size_t len)
{
	const char *key;
	json_t *v;
	int64_t i;
	char *end;
	unsigned long k;

	if (oe_event_electrode(obj, ev) != 0)
		return oe_event_bad_field(OE_F_ELECTRODE, json_object_get(obj,
		    "electrode") == NULL ? "is missing" : "is neither an "
		    "electrode number nor a name ending in one", why, len);
	if (oe_event_int(obj, "num_channels", 0, 65536, &i) != 0)
		return oe_event_bad_field(OE_F_NUM_CHANNELS,
		    json_object_get(obj, "num_channels") == NULL ?
		    "is missing" : "is not a channel count", why, len);
	ev->num_channels = (uint32_t)i;
	if (oe_event_int(obj, "sorted_id", 0, UINT16_MAX, &i) != 0)
		return oe_event_bad_field(OE_F_SORTED_ID, json_object_get(obj,
		    "sorted_id") == NULL ? "is missing" : "is not a unit id",
		    why, len);
	ev->sorted_id = (uint32_t)i;
	json_object_foreach(obj, key, v) {
		if (strncmp(key, "amp", 3) != 0 || !isdigit((unsigned char)
		    key[3]))
			continue;
		k = strtoul(key + 3, &end, 10);
		if (*end != '\0')
			continue;
		if (k < 1 || k > ev->num_channels || !json_is_number(v) ||
		    !isfinite(json_number_value(v)))
			return oe_event_refuse(OE_BAD_FIELD + OE_F_AMP, why, len,
			    "'%s' is not an amplitude of one of the %u "
			    "channels", key, ev->num_channels);
	}
	return 0;
}

/* The fields of a TTL. */
static int
oe_event_ttl(json_t *obj, struct oe_event *ev, char *why, size_t len)
{
	json_t *v = json_object_get(obj, "channel_name");
	int64_t i;

	if (!json_is_string(v))
		return oe_event_bad_field(OE_F_CHANNEL_NAME, v == NULL ?
		    "is missing" : "is not a name", why, len);
	if (oe_event_int(obj, "line", 0, 4096, &i) != 0)
		return oe_event_bad_field(OE_F_LINE, json_object_get(obj,
		    "line") == NULL ? "is missing" : "is not a line number",
		    why, len);
	ev->line = (uint32_t)i;
	v = json_object_get(obj, "state");
	if (json_is_boolean(v))
		ev->state = json_is_true(v);
	else if (oe_event_int(obj, "state", 0, 1, &i) == 0)
		ev->state = (int)i;
	else
		return oe_event_bad_field(OE_F_STATE, v == NULL ? "is missing" :
		    "is neither 0/1 nor true/false", why, len);
	return 0;
}

/*
 * Check one message and fill *ev: 0, or an enum oe_cause with the reason
 * in why.
 */
int
oe_event_parse(const void *type_frame, size_t type_len, const char *json,
    size_t json_len, struct oe_event *ev, char *why, size_t why_len)
{
	const uint8_t *t = type_frame;
	json_error_t err;
	json_t *obj, *et;
	const char *want;
	unsigned type;
	int rc;

	memset(ev, 0, sizeof *ev);
	if (type_len != 2)
		return oe_event_refuse(OE_BAD_TYPE_FRAME, why, why_len, "a type "
		    "frame of %zu bytes (2 expected)", type_len);
	type = (unsigned)t[0] | (unsigned)t[1] << 8;
	if (type != OE_FRAME_TTL && type != OE_FRAME_SPIKE)
		return oe_event_refuse(OE_BAD_TYPE, why, why_len, "event type "
		    "%u (0 TTL and 1 spike expected)", type);
	obj = json_loadb(json, json_len, JSON_REJECT_DUPLICATES, &err);
	if (obj == NULL)
		return oe_event_refuse(OE_BAD_JSON, why, why_len, "JSON that "
		    "does not parse (%s at byte %d)", err.text, err.position);
	if (!json_is_object(obj)) {
		json_decref(obj);
		return oe_event_refuse(OE_BAD_OBJECT, why, why_len, "JSON that "
		    "is not an object");
	}
	ev->kind = (enum oe_event_kind)type;
	want = type == OE_FRAME_SPIKE ? "spike" : "ttl";
	et = json_object_get(obj, "event_type");
	if (!json_is_string(et) || strcmp(json_string_value(et), want) != 0) {
		rc = oe_event_refuse(OE_BAD_EVENT_TYPE, why, why_len, "an "
		    "event_type %s%s%s where the type frame says \"%s\"",
		    json_is_string(et) ? "\"" : "", json_is_string(et) ?
		    json_string_value(et) : et == NULL ? "missing" :
		    "that is no text", json_is_string(et) ? "\"" : "", want);
		json_decref(obj);
		return rc;
	}
	rc = oe_event_common(obj, ev, why, why_len);
	if (rc == 0)
		rc = type == OE_FRAME_SPIKE ? oe_event_spike(obj, ev, why,
		    why_len) : oe_event_ttl(obj, ev, why, why_len);
	json_decref(obj);
	return rc;
}

/*
 * The unit of a spike: electrode (from its base) x sorted + sorted_id, or
 * the electrode alone when sorted units are merged. 0, or an enum
 * oe_cause with the reason.
 */
int
oe_event_unit(const struct oe_config *c, const struct oe_event *ev,
    uint32_t *unit, char *why, size_t why_len)
{
	int base = c->electrode_base;
	uint32_t e;

	if (c->stream[0] != '\0' && strcmp(c->stream, ev->stream) != 0)
		return oe_event_refuse(OE_OTHER_STREAM, why, why_len, "a spike "
		    "of stream '%s' (stream=%s takes only that one)",
		    ev->stream, c->stream);
	if (base < 0)
		base = ev->electrode_named ? OE_ELECTRODE_BASE_NAME :
		    OE_ELECTRODE_BASE_NUMBER;
	if (ev->electrode < (uint32_t)base ||
	    ev->electrode - (uint32_t)base >= c->electrodes)
		return oe_event_refuse(OE_RANGE_ELECTRODE, why, why_len,
		    "electrode %u (%s, counted from %d) is beyond electrodes="
		    "%u", ev->electrode, ev->electrode_named ? "a name" :
		    "a number", base, c->electrodes);
	e = ev->electrode - (uint32_t)base;
	if (c->sorted <= 1) {
		*unit = e;
		return 0;
	}
	if (ev->sorted_id >= c->sorted)
		return oe_event_refuse(OE_RANGE_SORTED, why, why_len,
		    "sorted_id %u on electrode %u is beyond sorted=%u (ids "
		    "0-%u)", ev->sorted_id, ev->electrode, c->sorted,
		    c->sorted - 1);
	*unit = e * c->sorted + ev->sorted_id;
	return 0;
}
