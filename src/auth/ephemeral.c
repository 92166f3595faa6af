/* ephemeral — see ephemeral.h. */
#include "auth/ephemeral.h"
#include "core/hmac.h"
#include "core/util.h"

#include <limits.h>
#include <stdint.h>
#include <string.h>

#include <openssl/crypto.h>

void auth_ephemeral_password(const char *secret, size_t secretlen,
			     const char *username, size_t ulen, char out[29])
{
	uint8_t mac[20];

	/* HMAC-SHA1 only fails when libcrypto is broken or SHA-1 is not
	 * available (a FIPS provider); an empty password then matches no
	 * client, which fails closed. */
	if (hmac("SHA1", secret, secretlen, username, ulen, mac,
		 sizeof(mac)) < 0) {
		out[0] = '\0';
		return;
	}
	b64_encode(mac, sizeof(mac), out, 29);
	OPENSSL_cleanse(mac, sizeof(mac));
}

int auth_ephemeral_parse(const char *name, size_t len, time_t *expiry,
			 size_t *colon)
{
	const char *c = memchr(name, ':', len);
	size_t end = c ? (size_t)(c - name) : len, i;
	long long v = 0;

	if (end == 0)
		return 0;
	for (i = 0; i < end; i++) {
		if (name[i] < '0' || name[i] > '9')
			return 0;
	}
	for (i = 0; i < end; i++) {
		int d = name[i] - '0';

		if (v > (LLONG_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if ((long long)(time_t)v != v)
		return -1;
	*expiry = (time_t)v;
	*colon = end;
	return 1;
}
