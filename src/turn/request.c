/* request — see request.h. */
#include "config.h"
#include "turn/request.h"

#include <string.h>

#define SOFTWARE "ferry/" PACKAGE_VERSION

void req_begin(struct request *r, enum stun_class cls)
{
	stun_build_init(&r->b, r->out, r->outcap, stun_type(r->m->method, cls),
			r->m->tid);
}

size_t req_send(struct request *r)
{
	stun_build_attr(&r->b, STUN_ATTR_SOFTWARE, SOFTWARE, strlen(SOFTWARE));
	if (r->authed) {
		if (r->mi_sha256)
			stun_build_integrity_sha256(&r->b, r->key, r->keylen);
		else
			stun_build_integrity(&r->b, r->key, r->keylen);
	}
	if (r->m->fp_off >= 0)
		stun_build_fingerprint(&r->b);
	r->t->send(r->t, r->local, r->client, r->b.buf, r->b.len);
	return r->b.len;
}

void req_error(struct request *r, int code)
{
	req_begin(r, STUN_CLASS_ERROR);
	stun_build_error(&r->b, code, NULL);
	req_send(r);
}
