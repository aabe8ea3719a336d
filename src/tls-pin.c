/* tls-pin.c: public key pins of certificates (GnuTLS). */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "tls-pin.h"
#include "xmalloc.h"

#define TLS_PIN_PREFIX "sha256//"

/* The pin of a PEM certificate, or NULL with *cause. */
char *
tls_pin_of_pem(const void *pem, size_t len, char **cause)
{
	gnutls_x509_crt_t crt = NULL;
	gnutls_pubkey_t pub = NULL;
	gnutls_datum_t in = { (unsigned char *)pem, (unsigned)len };
	gnutls_datum_t der = { NULL, 0 }, b64 = { NULL, 0 };
	gnutls_datum_t hash;
	uint8_t digest[32];
	char *pin = NULL;
	int e;

	hash.data = digest;
	hash.size = sizeof digest;
	if ((e = gnutls_x509_crt_init(&crt)) < 0 ||
	    (e = gnutls_x509_crt_import(crt, &in, GNUTLS_X509_FMT_PEM)) < 0 ||
	    (e = gnutls_pubkey_init(&pub)) < 0 ||
	    (e = gnutls_pubkey_import_x509(pub, crt, 0)) < 0 ||
	    (e = gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &der)) < 0 ||
	    (e = gnutls_hash_fast(GNUTLS_DIG_SHA256, der.data, der.size,
	    digest)) < 0 ||
	    (e = gnutls_base64_encode2(&hash, &b64)) < 0) {
		xasprintf(cause, "cannot read the certificate's public key: "
		    "%s", gnutls_strerror(e));
		goto out;
	}
	xasprintf(&pin, TLS_PIN_PREFIX "%.*s", (int)b64.size,
	    (const char *)b64.data);
out:
	gnutls_free(b64.data);
	gnutls_free(der.data);
	if (pub != NULL)
		gnutls_pubkey_deinit(pub);
	if (crt != NULL)
		gnutls_x509_crt_deinit(crt);
	return pin;
}
