/*
 * tls — the process's TLS and DTLS server contexts for `cert` and `key`.
 *
 * Three contexts share the certificate: TURN over TLS (ALPN "stun.turn"),
 * TURN over DTLS 1.2 (the same ALPN, cookie exchange), and HTTPS (ALPN
 * "http/1.1").  A reload builds three new contexts from the files and
 * swaps them in only when all load; connections keep the context they
 * started with (an SSL holds a reference to its SSL_CTX), new handshakes
 * get the new one.  Thread-safe: workers create SSL objects concurrently.
 */
#ifndef FERRY_TLS_H
#define FERRY_TLS_H

#include <stddef.h>
#include <openssl/ssl.h>

struct ferry_conf;
struct tls;

enum tls_kind { TLS_TURN, TLS_DTLS, TLS_HTTPS };

/* 1 when the configuration asks for TLS at all (cert and key set). */
int tls_wanted(const struct ferry_conf *c);

/* Load cert and key.  NULL with err naming the file and OpenSSL's
 * reason.  With neither set, returns a struct that hands out no SSL. */
struct tls *tls_new(const struct ferry_conf *c, char *err, size_t errlen);
/* Replace the contexts from c's files; on failure (err set, -1) the old
 * ones stay in use. */
int tls_reload(struct tls *t, const struct ferry_conf *c, char *err, size_t errlen);
void tls_free(struct tls *t);

/* A new server-side SSL of that kind, or NULL when TLS is not
 * configured.  The caller owns it (SSL_free). */
SSL *tls_ssl(struct tls *t, enum tls_kind kind);

/* One line describing the certificate in use (subject and expiry), for
 * logs. */
void tls_describe(struct tls *t, char *out, size_t n);

#endif
