/* relay-config.c: the relay transport's load arguments. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "relay.h"
#include "tls-pin.h"
#include "xmalloc.h"

/* Fail with a message that starts with the plugin's name. */
static int __attribute__((format(printf, 2, 3)))
relay_config_error(char **cause, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	xasprintf(cause, "relay: %s", msg);
	free(msg);
	return (-1);
}

/* Parse an unsigned integer argument within [lo, hi]. */
static int
relay_config_number(const char *key, const char *value, uint64_t lo,
    uint64_t hi, uint64_t *out, char **cause)
{
	unsigned long long	 n;
	char			*end;

	errno = 0;
	n = strtoull(value, &end, 10);
	if (!isdigit((unsigned char)value[0]) || *end != '\0' || errno != 0 ||
	    n < lo || n > hi) {
		return (relay_config_error(cause, "%s=%s: expected a whole "
		    "number from %llu to %llu", key, value,
		    (unsigned long long)lo, (unsigned long long)hi));
	}
	*out = n;
	return (0);
}

/* Read a token file: the first non-blank, non-comment line. */
static int
relay_config_token_file(const char *path, char **token, char **cause)
{
	FILE	*f;
	char	 line[1024], *p, *e;

	if ((f = fopen(path, "r")) == NULL) {
		return (relay_config_error(cause, "token_file=%s: %s", path,
		    strerror(errno)));
	}
	while (fgets(line, sizeof line, f) != NULL) {
		p = line;
		/* an editor's UTF-8 byte-order mark (U+FEFF) is not the token */
		if (strncmp(p, "\xef\xbb\xbf", 3) == 0)
			p += 3;
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '\0' || *p == '#')
			continue;
		e = p + strlen(p);
		while (e > p && isspace((unsigned char)e[-1]))
			*--e = '\0';
		fclose(f);
		*token = xstrdup(p);
		return (0);
	}
	fclose(f);
	return (relay_config_error(cause, "token_file=%s: no token in the file "
	    "(put the site's bearer token on one line)", path));
}

/* Check a token: printable ASCII without blanks. */
static int
relay_config_token_ok(const char *token)
{
	const char	*p;

	if (*token == '\0')
		return (0);
	for (p = token; *p != '\0'; p++) {
		if (!isgraph((unsigned char)*p))
			return (0);
	}
	return (1);
}

/* Check url=https://HOST:PORT and store it without a trailing slash. */
static int
relay_config_url(struct relay_config *cfg, const char *url, char **cause)
{
	const char	*host, *colon;
	size_t		 len;

	if (strncmp(url, "https://", 8) != 0) {
		return (relay_config_error(cause, "url=%s: the relay is "
		    "reached over HTTPS only: give url=https://HOST:PORT",
		    url));
	}
	host = url + 8;
	len = strlen(host);
	while (len > 0 && host[len - 1] == '/')
		len--;
	if (len == 0 || memchr(host, '/', len) != NULL) {
		return (relay_config_error(cause, "url=%s: expected "
		    "https://HOST:PORT with no path", url));
	}
	colon = memrchr(host, ':', len);
	if (colon == NULL || colon + 1 == host + len ||
	    strspn(colon + 1, "0123456789") !=
	    (size_t)(host + len - colon - 1)) {
		return (relay_config_error(cause, "url=%s: expected "
		    "https://HOST:PORT (the relay's port is required)", url));
	}
	cfg->url = xstrndup(url, 8 + len);
	/* loopback never goes through a proxy, whatever the environment */
	cfg->loopback = strncmp(host, "127.", 4) == 0 ||
	    strncmp(host, "localhost:", 10) == 0 ||
	    strncmp(host, "[::1]:", 6) == 0;
	return (0);
}

/* Split streams=SITE/STREAM,... into patterns. */
static int
relay_config_streams(struct relay_config *cfg, const char *value,
    char **cause)
{
	char	*copy, *p, *next;

	copy = xstrdup(value);
	for (p = copy; p != NULL; p = next) {
		if ((next = strchr(p, ',')) != NULL)
			*next++ = '\0';
		if (*p == '\0' || strchr(p, '/') == NULL) {
			free(copy);
			return (relay_config_error(cause, "streams=%s: "
			    "expected comma-separated SITE/STREAM patterns "
			    "such as "
			    "zurich/*,padova/mea", value));
		}
		cfg->streams = xreallocarray(cfg->streams, cfg->nstreams + 1,
		    sizeof *cfg->streams);
		cfg->streams[cfg->nstreams++] = xstrdup(p);
	}
	free(copy);
	return (0);
}

/* Parse every argument; 0, or -1 with *cause. */
int
relay_config_parse(struct relay_config *cfg, relay_arg_fn arg, void *ctx,
    char **cause)
{
	const char	*v, *tf;
	uint64_t	 n;

	memset(cfg, 0, sizeof *cfg);
	cfg->window_us = 1000;
	cfg->batch_events = 1000;
	cfg->max_queue = 1000000;

	if ((v = arg(ctx, "url")) == NULL) {
		return (relay_config_error(cause, "url= is required (the "
		    "relay's address, e.g. "
		    "url=https://relay.example.org:8443)"));
	}
	if (relay_config_url(cfg, v, cause) != 0)
		goto fail;

	v = arg(ctx, "token");
	tf = arg(ctx, "token_file");
	if (v != NULL && tf != NULL) {
		relay_config_error(cause, "give token= or token_file=, not "
		    "both");
		goto fail;
	}
	if (v == NULL && tf == NULL) {
		relay_config_error(cause, "token= or token_file= is required "
		    "(the site's bearer token from the relay's tokens file)");
		goto fail;
	}
	if (v != NULL)
		cfg->token = xstrdup(v);
	else if (relay_config_token_file(tf, &cfg->token, cause) != 0)
		goto fail;
	if (!relay_config_token_ok(cfg->token)) {
		relay_config_error(cause, "the token must be printable "
		    "characters without blanks");
		goto fail;
	}

	if ((v = arg(ctx, "ca")) != NULL) {
		if (access(v, R_OK) != 0) {
			relay_config_error(cause, "ca=%s: %s", v,
			    strerror(errno));
			goto fail;
		}
		cfg->ca = xstrdup(v);
	}
	if ((v = arg(ctx, "proxy")) != NULL) {
		if (strcmp(v, "none") != 0 && strncmp(v, "http://", 7) != 0 &&
		    strncmp(v, "https://", 8) != 0 &&
		    strncmp(v, "socks5://", 9) != 0) {
			relay_config_error(cause, "proxy=%s: give the proxy as "
			    "http://HOST:PORT (or https://, socks5://), or "
			    "proxy=none to go direct", v);
			goto fail;
		}
		cfg->proxy = xstrdup(v);
	}
	if ((v = arg(ctx, "pin")) != NULL) {
		if (!tls_pin_valid(v)) {
			relay_config_error(cause, "pin=%s: expected "
			    "sha256//BASE64 as the relay prints it at start",
			    v);
			goto fail;
		}
		cfg->pin = xstrdup(v);
	}
	if (cfg->ca == NULL && cfg->pin == NULL) {
		relay_config_error(cause, "ca=FILE or pin=sha256//BASE64 is "
		    "required: the relay is always verified");
		goto fail;
	}

	if ((v = arg(ctx, "window_us")) != NULL) {
		if (relay_config_number("window_us", v, 0, 10000000, &n,
		    cause) != 0)
			goto fail;
		cfg->window_us = n;
	}
	if ((v = arg(ctx, "batch_events")) != NULL) {
		if (relay_config_number("batch_events", v, 1, 1000000, &n,
		    cause) != 0)
			goto fail;
		cfg->batch_events = (uint32_t)n;
	}
	if ((v = arg(ctx, "max_queue")) != NULL) {
		if (relay_config_number("max_queue", v, 1000, 100000000, &n,
		    cause) != 0)
			goto fail;
		cfg->max_queue = n;
	}
	if ((v = arg(ctx, "streams")) != NULL &&
	    relay_config_streams(cfg, v, cause) != 0)
		goto fail;
	if ((v = arg(ctx, "publish")) != NULL) {
		if (strcmp(v, "bodies") == 0)
			cfg->publish_bodies = 1;
		else if (strcmp(v, "stream") != 0) {
			relay_config_error(cause, "publish=%s: expected stream "
			    "(batches go out as they are cut) or bodies (one "
			    "request per body, for a proxy that holds bodies)",
			    v);
			goto fail;
		}
	}
	if ((v = arg(ctx, "sites")) != NULL) {
		if (strcmp(v, "no") == 0)
			cfg->no_sites = 1;
		else if (strcmp(v, "yes") != 0) {
			relay_config_error(cause, "sites=%s: expected yes (show "
			    "the other sites' consoles, the default) or no", v);
			goto fail;
		}
	}
	if ((v = arg(ctx, "from")) != NULL) {
		if (strcmp(v, "start") == 0)
			cfg->from_start = 1;
		else if (strcmp(v, "now") != 0) {
			relay_config_error(cause, "from=%s: expected now (live "
			    "events only) or start (everything stored)", v);
			goto fail;
		}
	}
	return (0);

fail:
	relay_config_free(cfg);
	return (-1);
}

/* Free what relay_config_parse allocated. */
void
relay_config_free(struct relay_config *cfg)
{
	size_t	i;

	free(cfg->url);
	free(cfg->proxy);
	free(cfg->token);
	free(cfg->ca);
	free(cfg->pin);
	for (i = 0; i < cfg->nstreams; i++)
		free(cfg->streams[i]);
	free(cfg->streams);
	memset(cfg, 0, sizeof *cfg);
}

/* Match a name against a pattern with an optional trailing '*'. */
int
relay_pattern_match(const char *pattern, const char *name)
{
	size_t	len = strlen(pattern);

	if (len > 0 && pattern[len - 1] == '*')
		return (strncmp(pattern, name, len - 1) == 0);
	return (strcmp(pattern, name) == 0);
}

/* Does streams= select site/stream (everything when not given)? */
int
relay_config_wants(const struct relay_config *cfg, const char *site,
    const char *stream)
{
	const char	*slash;
	char		*psite;
	size_t		 i;
	int		 ok;

	if (cfg->nstreams == 0)
		return (1);
	for (i = 0; i < cfg->nstreams; i++) {
		slash = strchr(cfg->streams[i], '/');
		psite = xstrndup(cfg->streams[i], slash - cfg->streams[i]);
		ok = relay_pattern_match(psite, site) &&
		    relay_pattern_match(slash + 1, stream);
		free(psite);
		if (ok)
			return (1);
	}
	return (0);
}

/* The proxy an exchange goes through, for messages, or NULL. */
const char *
relay_config_proxy_used(const struct relay_config *cfg)
{
	const char *v;

	if (cfg->proxy != NULL)
		return strcmp(cfg->proxy, "none") == 0 ? NULL : cfg->proxy;
	if (cfg->loopback)
		return NULL;
	if ((v = getenv("https_proxy")) != NULL && *v != '\0')
		return v;
	if ((v = getenv("HTTPS_PROXY")) != NULL && *v != '\0')
		return v;
	if ((v = getenv("all_proxy")) != NULL && *v != '\0')
		return v;
	return NULL;
}
