/*
 * tls-pin-valid.c: the form of a public key pin (no TLS library needed,
 * so that configuration checks link without GnuTLS).
 */
#include "config.h"

#include <string.h>

#include "tls-pin.h"

/*
 * Is text a well-formed pin: "sha256//" and the base64 of 32 bytes (43
 * characters of the base64 alphabet, then one '=')?
 */
int
tls_pin_valid(const char *text)
{
	static const char prefix[] = "sha256//";
	const char *p;
	size_t n = 0;

	if (strncmp(text, prefix, sizeof prefix - 1) != 0)
		return 0;
	for (p = text + sizeof prefix - 1; *p != '\0' && n < 43; p++, n++)
		if (strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		    "0123456789+/", *p) == NULL)
			return 0;
	return n == 43 && strcmp(p, "=") == 0;
}
