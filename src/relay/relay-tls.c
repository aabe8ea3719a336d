/*
 * relay-tls.c: the relay's certificate: load a key and certificate, make a
 * self-signed pair, and compute the public key pin (base64 of the SHA-256
 * of the DER SubjectPublicKeyInfo, as CURLOPT_PINNEDPUBLICKEY takes it).
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "relay.h"
#include "tls-pin.h"
#include "xmalloc.h"

/* The pin "sha256//BASE64" of a PEM certificate; NULL with *cause. */
static char *
relay_tls_pin(const gnutls_datum_t *pem, const char *path, char **cause)
{
	char *why = NULL, *pin;

	if ((pin = tls_pin_of_pem(pem->data, pem->size, &why)) == NULL) {
		xasprintf(cause, "%s: %s", path, why);
		free(why);
	}
	return pin;
}

/* Load the key and certificate, check they pair, compute the pin. */
int
relay_tls_load(const char *cert, const char *key, char **cause)
{
	gnutls_datum_t c = { NULL, 0 }, k = { NULL, 0 };
	gnutls_certificate_credentials_t cred = NULL;
	int e, rc = -1;

	if ((e = gnutls_load_file(cert, &c)) < 0) {
		xasprintf(cause, "--cert %s: cannot read it: %s", cert,
		    gnutls_strerror(e));
		goto out;
	}
	if ((e = gnutls_load_file(key, &k)) < 0) {
		xasprintf(cause, "--key %s: cannot read it: %s", key,
		    gnutls_strerror(e));
		goto out;
	}
	if ((e = gnutls_certificate_allocate_credentials(&cred)) < 0 ||
	    (e = gnutls_certificate_set_x509_key_mem(cred, &c, &k,
	    GNUTLS_X509_FMT_PEM)) < 0) {
		xasprintf(cause, "--cert %s and --key %s: %s (want PEM files "
		    "of one certificate and its private key)", cert, key,
		    gnutls_strerror(e));
		goto out;
	}
	if ((relay.pin = relay_tls_pin(&c, cert, cause)) == NULL)
		goto out;
	relay.cert_pem = xstrndup((char *)c.data, c.size);
	relay.key_pem = xstrndup((char *)k.data, k.size);
	rc = 0;
out:
	if (cred != NULL)
		gnutls_certificate_free_credentials(cred);
	gnutls_free(c.data);
	if (k.data != NULL)
		gnutls_memset(k.data, 0, k.size);
	gnutls_free(k.data);
	return rc;
}

/* Write data to path (mode) through a temporary file; 0 or -1 with errno. */
static int
relay_tls_write(const char *path, const gnutls_datum_t *d, mode_t mode)
{
	char *tmp;
	int fd, rc = -1;

	xasprintf(&tmp, "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, mode);
	if (fd != -1 && write(fd, d->data, d->size) == (ssize_t)d->size &&
	    fsync(fd) == 0 && rename(tmp, path) == 0)
		rc = 0;
	if (fd != -1)
		close(fd);
	if (rc != 0)
		unlink(tmp);
	free(tmp);
	return rc;
}

/* Generate an ECDSA P-256 key and a self-signed certificate for it. */
static int
relay_tls_generate(const char *certpath, const char *keypath, char **cause)
{
	gnutls_x509_privkey_t key = NULL;
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t kpem = { NULL, 0 }, cpem = { NULL, 0 };
	static const uint8_t lo4[4] = { 127, 0, 0, 1 };
	static const uint8_t lo6[16] = { [15] = 1 };
	uint8_t serial[16];
	time_t now = time(NULL);
	int e, rc = -1;

	if ((e = gnutls_x509_privkey_init(&key)) < 0 ||
	    (e = gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0)) < 0 ||
	    (e = gnutls_x509_crt_init(&crt)) < 0 ||
	    (e = gnutls_x509_crt_set_version(crt, 3)) < 0 ||
	    (e = gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof serial)) < 0)
		goto fail;
	serial[0] &= 0x7f;	/* a positive serial */
	if ((e = gnutls_x509_crt_set_serial(crt, serial, sizeof serial)) < 0 ||
	    (e = gnutls_x509_crt_set_activation_time(crt, now - 3600)) < 0 ||
	    (e = gnutls_x509_crt_set_expiration_time(crt,
	    now + 10 * 365 * 86400L)) < 0 ||
	    (e = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME,
	    0, "synbridge-relay", 15)) < 0 ||
	    (e = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME,
	    "localhost", 9, GNUTLS_FSAN_APPEND)) < 0 ||
	    (e = gnutls_x509_crt_set_subject_alt_name(crt,
	    GNUTLS_SAN_IPADDRESS, lo4, 4, GNUTLS_FSAN_APPEND)) < 0 ||
	    (e = gnutls_x509_crt_set_subject_alt_name(crt,
	    GNUTLS_SAN_IPADDRESS, lo6, 16, GNUTLS_FSAN_APPEND)) < 0 ||
	    (e = gnutls_x509_crt_set_key(crt, key)) < 0 ||
	    (e = gnutls_x509_crt_set_basic_constraints(crt, 0, -1)) < 0 ||
	    (e = gnutls_x509_crt_set_key_usage(crt,
	    GNUTLS_KEY_DIGITAL_SIGNATURE)) < 0 ||
	    (e = gnutls_x509_crt_set_key_purpose_oid(crt,
	    GNUTLS_KP_TLS_WWW_SERVER, 0)) < 0 ||
	    (e = gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256,
	    0)) < 0 ||
	    (e = gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM,
	    &kpem)) < 0 ||
	    (e = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &cpem)) < 0)
		goto fail;
	if (relay_tls_write(keypath, &kpem, 0600) != 0 ||
	    relay_tls_write(certpath, &cpem, 0644) != 0) {
		xasprintf(cause, "--self-signed: cannot write %s and %s: %s",
		    keypath, certpath, strerror(errno));
		goto out;
	}
	rc = 0;
	goto out;
fail:
	xasprintf(cause, "--self-signed: cannot make a certificate: %s",
	    gnutls_strerror(e));
out:
	if (kpem.data != NULL)
		gnutls_memset(kpem.data, 0, kpem.size);
	gnutls_free(kpem.data);
	gnutls_free(cpem.data);
	if (crt != NULL)
		gnutls_x509_crt_deinit(crt);
	if (key != NULL)
		gnutls_x509_privkey_deinit(key);
	return rc;
}

/* Use DIR/cert.pem and DIR/key.pem, making them if either is missing. */
int
relay_tls_self_signed(const char *dir, char **cert, char **key,
    char **cause)
{
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		xasprintf(cause, "--self-signed %s: %s", dir, strerror(errno));
		return -1;
	}
	xasprintf(cert, "%s/cert.pem", dir);
	xasprintf(key, "%s/key.pem", dir);
	if (access(*cert, F_OK) == 0 && access(*key, F_OK) == 0)
		return 0;
	if (relay_tls_generate(*cert, *key, cause) != 0) {
		free(*cert);
		free(*key);
		*cert = *key = NULL;
		return -1;
	}
	return 0;
}
