/* tls — see tls.h. */
#include "listen/tls.h"
#include "core/hmac.h"
#include "conf/conf.h"
#include "core/log.h"
#include "core/util.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

static const char ALPN_TURN[] = "stun.turn";     /* RFC 7443 */
static const char ALPN_HTTP[] = "http/1.1";

struct tls {
	pthread_mutex_t lock;
	SSL_CTX *ctx[3];                 /* by enum tls_kind; NULL: no TLS */
	uint8_t cookie_key[32];          /* DTLS HelloVerifyRequest cookies */
};

int tls_wanted(const struct ferry_conf *c)
{
	return c->cert && c->key;
}

/* OpenSSL's own reason for the last failure, for error messages. */
static void ssl_reason(char *out, size_t n)
{
	unsigned long e = ERR_peek_last_error();

	if (e)
		ERR_error_string_n(e, out, n);
	else
		snprintf(out, n, "unknown error");
	ERR_clear_error();
}

/* ALPN (RFC 7301): pick our protocol when the client offers it; a client
 * that offers others only is refused with no_application_protocol, and
 * one that offers none is served. */
static int select_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
		       const unsigned char *in, unsigned int inlen, void *arg)
{
	const char *want = arg;
	size_t wl = strlen(want);
	unsigned int i = 0;

	while (i < inlen) {
		unsigned int l = in[i];
		if (i + 1 + l > inlen)
			break;
		if (l == wl && memcmp(in + i + 1, want, wl) == 0) {
			*out = in + i + 1;
			*outlen = (unsigned char)l;
			return SSL_TLSEXT_ERR_OK;
		}
		i += 1 + l;
	}
	return SSL_TLSEXT_ERR_ALERT_FATAL;
}

/* Stateless DTLS cookies: HMAC-SHA256 over the client's address and port,
 * under a key made at start.  dtls.c stores the client's net_addr as the
 * SSL's app data. */
static int make_cookie(SSL *ssl, unsigned char *cookie, unsigned int *len)
{
	struct tls *t = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
	const net_addr *peer = SSL_get_app_data(ssl);
	unsigned char mac[32];

	if (!peer || hmac("SHA256", t->cookie_key, sizeof(t->cookie_key),
			  &peer->u, peer->len, mac, sizeof(mac)) < 0)
		return 0;
	memcpy(cookie, mac, 16);
	*len = 16;
	return 1;
}

static int check_cookie(SSL *ssl, const unsigned char *cookie, unsigned int len)
{
	unsigned char want[32];
	unsigned int wl;

	return len == 16 && make_cookie(ssl, want, &wl) && ct_equal(want, cookie, 16);
}

static SSL_CTX *new_ctx(struct tls *t, const struct ferry_conf *c, enum tls_kind kind,
			char *err, size_t errlen)
{
	const SSL_METHOD *m = kind == TLS_DTLS ? DTLS_server_method() : TLS_server_method();
	SSL_CTX *ctx = SSL_CTX_new(m);
	char why[256];

	if (!ctx) {
		ssl_reason(why, sizeof(why));
		snprintf(err, errlen, "cannot create a TLS context: %s", why);
		return NULL;
	}
	if (kind == TLS_DTLS) {
		SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION);
		SSL_CTX_set_max_proto_version(ctx, DTLS1_2_VERSION);
		SSL_CTX_set_cookie_generate_cb(ctx, make_cookie);
		SSL_CTX_set_cookie_verify_cb(ctx, check_cookie);
		SSL_CTX_set_options(ctx, SSL_OP_COOKIE_EXCHANGE);
		SSL_CTX_set_read_ahead(ctx, 1);
	} else {
		SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_app_data(ctx, t);
	if (c->tls_ciphers && SSL_CTX_set_cipher_list(ctx, c->tls_ciphers) != 1) {
		ssl_reason(why, sizeof(why));
		snprintf(err, errlen, "tls-ciphers \"%s\": %s", c->tls_ciphers, why);
		goto fail;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, c->cert) != 1) {
		ssl_reason(why, sizeof(why));
		snprintf(err, errlen, "cert %s: %s", c->cert, why);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, c->key, SSL_FILETYPE_PEM) != 1) {
		ssl_reason(why, sizeof(why));
		snprintf(err, errlen, "key %s: %s", c->key, why);
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		ssl_reason(why, sizeof(why));
		snprintf(err, errlen, "key %s does not match cert %s: %s", c->key, c->cert, why);
		goto fail;
	}
	SSL_CTX_set_alpn_select_cb(ctx, select_alpn,
				   (void *)(kind == TLS_HTTPS ? ALPN_HTTP : ALPN_TURN));
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

static int load(struct tls *t, const struct ferry_conf *c, SSL_CTX *out[3],
		char *err, size_t errlen)
{
	int k;

	for (k = 0; k < 3; k++) {
		out[k] = new_ctx(t, c, (enum tls_kind)k, err, errlen);
		if (!out[k]) {
			while (k-- > 0)
				SSL_CTX_free(out[k]);
			return -1;
		}
	}
	return 0;
}

struct tls *tls_new(const struct ferry_conf *c, char *err, size_t errlen)
{
	struct tls *t = xcalloc(1, sizeof(*t));

	pthread_mutex_init(&t->lock, NULL);
	random_bytes(t->cookie_key, sizeof(t->cookie_key));
	if (tls_wanted(c) && load(t, c, t->ctx, err, errlen) < 0) {
		tls_free(t);
		return NULL;
	}
	return t;
}

int tls_reload(struct tls *t, const struct ferry_conf *c, char *err, size_t errlen)
{
	SSL_CTX *fresh[3] = { NULL, NULL, NULL }, *old[3];
	int k;

	if (tls_wanted(c) && load(t, c, fresh, err, errlen) < 0)
		return -1;
	pthread_mutex_lock(&t->lock);
	memcpy(old, t->ctx, sizeof(old));
	memcpy(t->ctx, fresh, sizeof(fresh));
	pthread_mutex_unlock(&t->lock);
	/* Live connections hold their own references. */
	for (k = 0; k < 3; k++)
		SSL_CTX_free(old[k]);
	return 0;
}

void tls_free(struct tls *t)
{
	int k;

	if (!t)
		return;
	for (k = 0; k < 3; k++)
		SSL_CTX_free(t->ctx[k]);
	pthread_mutex_destroy(&t->lock);
	OPENSSL_cleanse(t->cookie_key, sizeof(t->cookie_key));
	free(t);
}

SSL *tls_ssl(struct tls *t, enum tls_kind kind)
{
	SSL *ssl = NULL;

	pthread_mutex_lock(&t->lock);
	if (t->ctx[kind])
		ssl = SSL_new(t->ctx[kind]);
	pthread_mutex_unlock(&t->lock);
	return ssl;
}

void tls_describe(struct tls *t, char *out, size_t n)
{
	X509 *x;
	char subject[256] = "?";
	const ASN1_TIME *na;
	BIO *mem;
	char notafter[64] = "?";
	int len;

	pthread_mutex_lock(&t->lock);
	x = t->ctx[TLS_TURN] ? SSL_CTX_get0_certificate(t->ctx[TLS_TURN]) : NULL;
	if (x) {
		X509_NAME_oneline(X509_get_subject_name(x), subject, sizeof(subject));
		na = X509_get0_notAfter(x);
		mem = BIO_new(BIO_s_mem());
		if (mem && ASN1_TIME_print(mem, na)) {
			len = BIO_read(mem, notafter, sizeof(notafter) - 1);
			notafter[len > 0 ? len : 0] = '\0';
		}
		BIO_free(mem);
	}
	pthread_mutex_unlock(&t->lock);
	if (x)
		snprintf(out, n, "%s, valid until %s", subject, notafter);
	else
		snprintf(out, n, "no certificate");
}
