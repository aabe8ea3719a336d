/*
 * intan-reply.c: reading what RHX's command port says. Nothing here
 * trusts the bytes: lengths are explicit, NULs and control bytes are
 * allowed anywhere, and every value is parsed before it is believed.
 *
 * A successful `get P` answers "Return: P VALUE", with no terminator; a
 * failed command answers free text ("Error - Command 2: Unrecognized
 * command", "Invalid value for ..."); a successful `set` or `execute`
 * says nothing. The plugin ends each write with a `get` (the probe), so
 * the answer it waits for is the probe's, and any text before it is what
 * the commands before the probe had to complain about.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "intan.h"

/* Format into buf, cutting what does not fit. */
void
intan_format(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

static const char intan_return[] = "Return:";
#define INTAN_RETURN_LEN (sizeof intan_return - 1)

/* Does buf[at..] start with "Return:" (any case)? */
static int
intan_reply_at_return(const char *buf, size_t len, size_t at)
{
	return len - at >= INTAN_RETURN_LEN && strncasecmp(buf + at,
	    intan_return, INTAN_RETURN_LEN) == 0;
}

/* Copy len bytes of in as printable text (others as '?'), trimmed. */
size_t
intan_reply_printable(const char *in, size_t len, char *out, size_t outlen)
{
	size_t i, n = 0;

	if (outlen == 0)
		return 0;
	while (len > 0 && (isspace((unsigned char)in[0]) || in[0] == ';'))
		in++, len--;
	while (len > 0 && (isspace((unsigned char)in[len - 1]) ||
	    in[len - 1] == ';' || in[len - 1] == '\0'))
		len--;
	for (i = 0; i < len && n + 1 < outlen; i++) {
		unsigned char c = (unsigned char)in[i];

		out[n++] = c == '\n' || c == '\r' || c == '\t' ? ' ' :
		    c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	out[n] = '\0';
	return n;
}

/*
 * Is the name RHX echoed the one asked for? [U] Exact (any case) is what
 * the source shows; a channel prefix dropped or added is tolerated.
 */
static int
intan_reply_name_is(const char *echoed, size_t elen, const char *name)
{
	size_t nlen = strlen(name);

	if (elen == nlen && strncasecmp(echoed, name, nlen) == 0)
		return 1;
	if (nlen > elen && name[nlen - elen - 1] == '.' &&
	    strncasecmp(name + nlen - elen, echoed, elen) == 0)
		return 1;
	if (elen > nlen && echoed[elen - nlen - 1] == '.' &&
	    strncasecmp(echoed + elen - nlen, name, nlen) == 0)
		return 1;
	return 0;
}

/*
 * Look for the probe's answer in what came: INTAN_REPLY_VALUE with its
 * value, and in errors whatever text came before the first "Return:"
 * (empty: the commands before the probe were taken).
 */
enum intan_reply
intan_reply_find(const char *buf, size_t len, const char *name, char *value,
    size_t vlen, char *errors, size_t elen)
{
	size_t at, first = len, p, name_start, name_end, v_start, v_end;
	size_t found_start = 0, found_end = 0;
	int found = 0;

	if (vlen > 0)
		value[0] = '\0';
	if (elen > 0)
		errors[0] = '\0';
	for (at = 0; at < len; at++) {
		if (!intan_reply_at_return(buf, len, at))
			continue;
		if (first == len)
			first = at;
		p = at + INTAN_RETURN_LEN;
		while (p < len && buf[p] == ' ')
			p++;
		name_start = p;
		while (p < len && buf[p] != ' ' && !intan_reply_at_return(buf,
		    len, p))
			p++;
		name_end = p;
		if (p >= len || buf[p] != ' ')
			continue;	/* the name is not complete yet */
		while (p < len && buf[p] == ' ')
			p++;
		v_start = p;
		while (p < len && !intan_reply_at_return(buf, len, p))
			p++;
		v_end = p;
		if (v_end == v_start)
			continue;	/* no value yet */
		/* a value of blanks, ';' or NULs only is no value (yet) */
		if (intan_reply_name_is(buf + name_start, name_end -
		    name_start, name) && intan_reply_printable(buf + v_start,
		    v_end - v_start, value, vlen) > 0) {
			found = 1;
			found_start = v_start;
			found_end = v_end;
		}
		at = v_end - 1;
	}
	intan_reply_printable(buf, first, errors, elen);
	if (!found) {
		if (vlen > 0)
			value[0] = '\0';
		return INTAN_REPLY_NONE;
	}
	intan_reply_printable(buf + found_start, found_end - found_start,
	    value, vlen);
	return INTAN_REPLY_VALUE;
}

/*
 * Is text (what came before the probe's answer) an error? [U] RHX says
 * nothing when a set or execute works, so any text is taken as a refusal.
 * Change this if a version turns out to chat.
 */
int
intan_reply_is_error(const char *text)
{
	return text[0] != '\0';
}

/* The number a value starts with; 0, or -1. */
int
intan_reply_number(const char *value, double *out)
{
	char *end;

	*out = strtod(value, &end);
	if (end == value || !(*out == *out) || *out > 1e12 || *out < -1e12)
		return -1;
	return 0;
}

/*
 * A sample rate in Hz. [U] RHX 3.4.0 answers a number of hertz
 * ("30000"); "30 kHz" and "30000 Hz" are taken too.
 */
int
intan_reply_rate(const char *value, double *hz)
{
	char *end;
	double v = strtod(value, &end);

	if (end == value || !(v > 0))
		return -1;
	while (*end == ' ')
		end++;
	if (*end == 'k' || *end == 'K')
		v *= 1000;
	if (v < 100 || v > 1e6)
		return -1;
	*hz = v;
	return 0;
}

/*
 * A stimulation step in uA. [U] a bare number of microamps is assumed
 * ("5", "0.5"); "500 nA", "5 uA" and "5 µA" are taken too.
 */
int
intan_reply_step(const char *value, double *ua)
{
	char *end;
	double v = strtod(value, &end);

	if (end == value || !(v > 0))
		return -1;
	while (*end == ' ')
		end++;
	if (*end == 'n' || *end == 'N')
		v /= 1000;
	else if (*end == 'm' && end[1] == 'A')
		v *= 1000;
	if (v < 0.001 || v > 100)
		return -1;
	*ua = v;
	return 0;
}

/* A boolean value; 0, or -1. */
int
intan_reply_bool(const char *value, int *out)
{
	if (strcasecmp(value, "true") == 0 || strcmp(value, "1") == 0 ||
	    strcasecmp(value, "yes") == 0 || strcasecmp(value, "on") == 0)
		*out = 1;
	else if (strcasecmp(value, "false") == 0 || strcmp(value, "0") == 0 ||
	    strcasecmp(value, "no") == 0 || strcasecmp(value, "off") == 0)
		*out = 0;
	else
		return -1;
	return 0;
}

/*
 * Is the controller an RHS (stimulation)? RHX answers ControllerStimRecord
 * for one (Intan's example); [U] the recording controllers' names, taken
 * to be ControllerRecordUSB2/USB3: anything without "Stim" records only.
 */
int
intan_reply_is_rhs(const char *type)
{
	size_t i, n = strlen(type);

	for (i = 0; i + 4 <= n; i++)
		if (strncasecmp(type + i, "stim", 4) == 0)
			return 1;
	return 0;
}

/* Does a RunMode value mean acquiring (Run, Record, Trigger)? */
int
intan_reply_is_running(const char *runmode)
{
	return strcasecmp(runmode, "Stop") != 0;
}
