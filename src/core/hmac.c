/* hmac — see hmac.h. */
#include "core/hmac.h"

#include <pthread.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;
static EVP_MAC *mac_alg;

static void fetch(void)
{
	mac_alg = EVP_MAC_fetch(NULL, "HMAC", NULL);
}

int hmac_parts(const char *digest, const void *key, size_t keylen,
	       const struct hmac_part *parts, size_t nparts,
	       uint8_t *out, size_t outsz)
{
	OSSL_PARAM params[2];
	EVP_MAC_CTX *ctx = NULL;
	size_t outlen = 0, i;
	int ok;

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						     (char *)digest, 0);
	params[1] = OSSL_PARAM_construct_end();
	pthread_once(&once, fetch);
	if (mac_alg)
		ctx = EVP_MAC_CTX_new(mac_alg);
	/* A NULL key means "keep the previous key" to EVP_MAC_init, so an
	 * empty key must still be a valid pointer. */
	ok = ctx && EVP_MAC_init(ctx, keylen ? key : (const void *)"", keylen,
				 params);
	for (i = 0; ok && i < nparts; i++)
		ok = EVP_MAC_update(ctx, parts[i].p, parts[i].n);
	ok = ok && EVP_MAC_final(ctx, out, &outlen, outsz) && outlen == outsz;
	EVP_MAC_CTX_free(ctx);
	return ok ? 0 : -1;
}

int hmac(const char *digest, const void *key, size_t keylen,
	 const void *data, size_t n, uint8_t *out, size_t outsz)
{
	struct hmac_part part = { data, n };

	return hmac_parts(digest, key, keylen, &part, 1, out, outsz);
}
