/*
 * tls-pin.h: the public key pin of a certificate, "sha256//BASE64": the
 * base64 (RFC 4648) of the SHA-256 of its DER SubjectPublicKeyInfo, as
 * CURLOPT_PINNEDPUBLICKEY takes it and synbridge-relay prints at start.
 * Built into the relay and into the relay plugin (GnuTLS).
 */
#ifndef SB_TLS_PIN_H
#define SB_TLS_PIN_H

#include <stddef.h>

/* The pin of a PEM certificate (a new string), or NULL with *cause. */
char *tls_pin_of_pem(const void *pem, size_t len, char **cause);
/* Is text a well-formed pin (sha256// and 44 base64 characters)? */
int tls_pin_valid(const char *text);	/* tls-pin-valid.c */

#endif
