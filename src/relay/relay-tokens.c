/* relay-tokens.c: the tokens file, rights checks and rate limits. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay.h"
#include "xmalloc.h"

#define RELAY_TOKEN_MIN 8
#define RELAY_TOKEN_MAX 256

/* Is s[0..len) a valid site/session (or, with stream, stream) name? */
int
relay_name_valid(const char *s, size_t len, int stream)
{
	size_t i;
	unsigned char c;

	if (len == 0 || len > RELAY_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (isalnum(c) || c == '_' || c == '.' || c == '-')
			continue;
		if (stream && (c == ':' || c == '/' || c == '@' || c == '+'))
			continue;
		return 0;
	}
	return 1;
}

/* Does one pattern (exact, or a prefix with a trailing '*') match s? */
static int
relay_tokens_match1(const char *pat, size_t plen, const char *s)
{
	if (plen > 0 && pat[plen - 1] == '*')
		return strncmp(pat, s, plen - 1) == 0;
	return strlen(s) == plen && strncmp(pat, s, plen) == 0;
}

/* Does any comma-separated pattern of list match s? */
static int
relay_tokens_match(const char *list, const char *s)
{
	const char *p = list, *end;

	if (strcmp(list, "-") == 0)
		return 0;
	for (;;) {
		end = strchr(p, ',');
		if (relay_tokens_match1(p, end ? (size_t)(end - p) :
		    strlen(p), s))
			return 1;
		if (end == NULL)
			return 0;
		p = end + 1;
	}
}

/* May this token publish stream name (of its own site)? */
int
relay_tokens_may_publish(const struct relay_token *t, const char *stream)
{
	return relay_tokens_match(t->publish, stream);
}

/* May this token read site/stream? Its own streams always. */
int
relay_tokens_may_read(const struct relay_token *t, const char *site,
    const char *stream)
{
	const char *p = t->read, *end, *slash;
	size_t len;

	if (strcmp(site, t->site) == 0)
		return 1;
	if (strcmp(p, "-") == 0)
		return 0;
	for (;;) {
		end = strchr(p, ',');
		len = end ? (size_t)(end - p) : strlen(p);
		slash = memchr(p, '/', len);
		if (slash != NULL &&
		    relay_tokens_match1(p, (size_t)(slash - p), site) &&
		    relay_tokens_match1(slash + 1,
		    len - (size_t)(slash - p) - 1, stream))
			return 1;
		if (end == NULL)
			return 0;
		p = end + 1;
	}
}

/* May this token send commands to site? */
int
relay_tokens_may_command(const struct relay_token *t, const char *site)
{
	return relay_tokens_match(t->command, site);
}

/* Check one comma-separated list field; 0 or -1 with *cause. */
static int
relay_tokens_check_list(const char *what, const char *list, int read,
    char **cause)
{
	const char *p = list, *end, *slash;
	size_t len, n;

	if (strcmp(list, "-") == 0)
		return 0;
	for (;;) {
		end = strchr(p, ',');
		len = end ? (size_t)(end - p) : strlen(p);
		n = len;
		if (n > 0 && p[n - 1] == '*')
			n--;
		if (read) {
			slash = memchr(p, '/', len);
			if (slash == NULL) {
				xasprintf(cause, "%s pattern '%.*s' needs the "
				    "form SITE/STREAM (e.g. padova/* or */*)",
				    what, (int)len, p);
				return -1;
			}
		} else if (len == 0 || (n > 0 && !relay_name_valid(p, n,
		    1)) || memchr(p, '*', n) != NULL) {
			xasprintf(cause, "bad %s pattern '%.*s' (names of "
			    "letters, digits, _ . - : / @ +, optionally ending "
			    "in *)", what, (int)len, p);
			return -1;
		}
		if (end == NULL)
			return 0;
		p = end + 1;
	}
}

/* Parse one non-blank line into t (pointing into line); 0 or -1. */
int
relay_tokens_parse_line(char *line, struct relay_token *t, char **cause)
{
	char *field[7], *save = NULL, *p;
	size_t n = 0, len;

	for (p = strtok_r(line, " \t\r\n", &save); p != NULL;
	    p = strtok_r(NULL, " \t\r\n", &save)) {
		if (n == 6) {
			xasprintf(cause, "too many fields (want TOKEN SITE "
			    "SESSION PUBLISH READ COMMAND)");
			return -1;
		}
		field[n++] = p;
	}
	if (n != 6) {
		xasprintf(cause, "%zu fields, want 6: TOKEN SITE SESSION "
		    "PUBLISH READ COMMAND", n);
		return -1;
	}
	len = strlen(field[0]);
	if (len < RELAY_TOKEN_MIN || len > RELAY_TOKEN_MAX) {
		xasprintf(cause, "token of %zu characters (need %d to %d)",
		    len, RELAY_TOKEN_MIN, RELAY_TOKEN_MAX);
		return -1;
	}
	for (p = field[0]; *p != '\0'; p++) {
		if (!isgraph((unsigned char)*p)) {
			xasprintf(cause, "token has a character that cannot "
			    "go in an HTTP header");
			return -1;
		}
	}
	if (!relay_name_valid(field[1], strlen(field[1]), 0)) {
		xasprintf(cause, "bad site name '%s' (letters, digits, _ . -; "
		    "at most %d)", field[1], RELAY_NAME_MAX);
		return -1;
	}
	if (!relay_name_valid(field[2], strlen(field[2]), 0)) {
		xasprintf(cause, "bad session name '%s' (letters, digits, "
		    "_ . -; at most %d)", field[2], RELAY_NAME_MAX);
		return -1;
	}
	if (relay_tokens_check_list("PUBLISH", field[3], 0, cause) != 0 ||
	    relay_tokens_check_list("READ", field[4], 1, cause) != 0 ||
	    relay_tokens_check_list("COMMAND", field[5], 0, cause) != 0)
		return -1;
	t->token = field[0];
	t->site = field[1];
	t->session = field[2];
	t->publish = field[3];
	t->read = field[4];
	t->command = field[5];
	return 0;
}

/* Free a tokens table. */
void
relay_tokens_free(struct relay_token *t, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(t[i].token);
		free(t[i].site);
		free(t[i].session);
		free(t[i].publish);
		free(t[i].read);
		free(t[i].command);
	}
	free(t);
}

/* Read all of f into *buf (NUL-terminated), CRLF and CR made LF. */
static int
relay_tokens_slurp(FILE *f, char **buf, size_t *cap)
{
	size_t len = 0, n, i, j;

	errno = 0;
	*cap = 4096;
	*buf = xmalloc(*cap);
	while ((n = fread(*buf + len, 1, *cap - len - 1, f)) > 0) {
		len += n;
		if (len + 1 == *cap) {
			if (*cap >= 16 << 20)
				return -1;
			*cap *= 2;
			*buf = xrealloc(*buf, *cap);
		}
	}
	if (ferror(f))
		return -1;
	(*buf)[len] = '\0';
	for (i = j = 0; i < len; i++) {
		if ((*buf)[i] == '\r') {
			(*buf)[j++] = '\n';
			if (i + 1 < len && (*buf)[i + 1] == '\n')
				i++;
		} else
			(*buf)[j++] = (*buf)[i];
	}
	(*buf)[j] = '\0';
	return 0;
}

/* Read the tokens file; errors are FILE:LINE: what. */
int
relay_tokens_load(const char *path, struct relay_token **out, size_t *n,
    char **cause)
{
	FILE *f;
	char *line = NULL, *p, *why = NULL, *next;
	size_t cap = 0, lineno = 0, count = 0, i;
	struct relay_token *t = NULL, one;

	if ((f = fopen(path, "r")) == NULL) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		return -1;
	}
	/* the whole file, with CRLF and lone CR (any editor) as LF and a
	 * UTF-8 byte-order mark (U+FEFF) skipped */
	if (relay_tokens_slurp(f, &line, &cap) != 0) {
		xasprintf(cause, "%s: %s", path, errno != 0 ?
		    strerror(errno) : "larger than 16 MiB");
		goto fail_clean;
	}
	next = line;
	if (strncmp(next, "\xef\xbb\xbf", 3) == 0)
		next += 3;
	while (next != NULL && *next != '\0') {
		char *l = strsep(&next, "\n");

		lineno++;
		memmove(line, l, strlen(l) + 1);	/* as getline had it */
		if ((p = strchr(line, '#')) != NULL)
			*p = '\0';
		for (p = line; isspace((unsigned char)*p); p++)
			;
		if (*p == '\0')
			continue;
		if (relay_tokens_parse_line(p, &one, &why) != 0)
			goto fail;
		for (i = 0; i < count; i++) {
			if (strcmp(t[i].token, one.token) == 0) {
				xasprintf(&why, "token repeated (first on "
				    "another line): every site needs its own");
				goto fail;
			}
		}
		t = xreallocarray(t, count + 1, sizeof *t);
		t[count] = (struct relay_token){
			.token = xstrdup(one.token),
			.site = xstrdup(one.site),
			.session = xstrdup(one.session),
			.publish = xstrdup(one.publish),
			.read = xstrdup(one.read),
			.command = xstrdup(one.command),
		};
		count++;
	}
	if (ferror(f)) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		goto fail_clean;
	}
	if (count == 0) {
		xasprintf(cause, "%s: no tokens (want lines TOKEN SITE SESSION "
		    "PUBLISH READ COMMAND)", path);
		goto fail_clean;
	}
	fclose(f);
	free(line);
	*out = t;
	*n = count;
	return 0;

fail:
	xasprintf(cause, "%s:%zu: %s", path, lineno, why);
	free(why);
fail_clean:
	fclose(f);
	free(line);
	relay_tokens_free(t, count);
	return -1;
}

/* Find the token a bearer string names, comparing in constant time. */
struct relay_token *
relay_tokens_find(const char *bearer)
{
	struct relay_token *found = NULL;
	size_t i, j, len = strlen(bearer), tlen;
	unsigned char diff;

	for (i = 0; i < relay.ntokens; i++) {
		tlen = strlen(relay.tokens[i].token);
		diff = tlen != len;
		for (j = 0; j < tlen; j++)
			diff |= relay.tokens[i].token[j] ^
			    bearer[j < len ? j : 0];
		if (diff == 0)
			found = &relay.tokens[i];
	}
	return found;
}

/*
 * Take events from the token's bucket (refilled at --rate per second, at
 * most one second's worth). A body is let through while the bucket is
 * positive and may leave it in debt; 0 or -1 with *retry_after seconds.
 * Called with the lock held.
 */
int
relay_tokens_rate(struct relay_token *t, uint64_t events,
    unsigned *retry_after)
{
	double rate = relay.opt.rate;
	int64_t now = relay_now_mono();

	if (rate <= 0)
		return 0;
	if (t->bucket_t == 0)
		t->bucket = rate;
	else
		t->bucket += rate * (double)(now - t->bucket_t) / 1e6;
	if (t->bucket > rate)
		t->bucket = rate;
	t->bucket_t = now;
	if (t->bucket <= 0) {
		*retry_after = (unsigned)(-t->bucket / rate) + 1;
		return -1;
	}
	t->bucket -= (double)events;
	return 0;
}
