/* cmd_secrets — see cmd_secrets.h. */
#include "ctl/cmd_secrets.h"
#include "ctl/args.h"
#include "ctl/output.h"
#include "ctl/setup.h"
#include "core/util.h"
#include "store/store.h"

#include <limits.h>
#include <stdio.h>

#include <jansson.h>
#include <openssl/crypto.h>

int cmd_secret_add(struct ctl *c, const struct args *a)
{
	char value[STORE_SECRET_MAX + 1], err[512];
	int64_t id;

	if (a->npos == 1 && !store_valid_secret(a->pos[0])) {
		out_fail("secret add: invalid secret (1-%d printable ASCII characters, "
			 "no spaces)", STORE_SECRET_MAX);
		return 1;
	}
	if (setup_store(c) < 0)
		return 1;
	if (store_secret_add(c->st, a->npos ? a->pos[0] : NULL, &id, value, sizeof(value),
			     err, sizeof(err)) < 0) {
		out_fail("%s", err);
		return 1;
	}
	printf("secret %lld: %s\n", (long long)id, value);
	OPENSSL_cleanse(value, sizeof(value));
	return 0;
}

int cmd_secret_del(struct ctl *c, const struct args *a)
{
	char err[512];
	long id;

	if (parse_long(a->pos[0], 1, LONG_MAX, &id) < 0) {
		out_fail("secret del: invalid id '%s' (see secret list)", a->pos[0]);
		return 1;
	}
	if (setup_store(c) < 0)
		return 1;
	if (store_secret_del(c->st, id, err, sizeof(err)) < 0) {
		out_fail("%s", err);
		return 1;
	}
	return 0;
}

static int list_secret(void *ctx, const struct store_secret *s)
{
	struct out_list *l = ctx;
	char id[24], t[32];

	if (l->json) {
		json_array_append_new(l->arr, json_pack("{s:I, s:s, s:I}",
							"id", (json_int_t)s->id,
							"value", s->value,
							"created", (json_int_t)s->created));
		return 0;
	}
	snprintf(id, sizeof(id), "%lld", (long long)s->id);
	out_list_row(l, id, s->value, out_time(s->created, t, sizeof(t)));
	return 0;
}

int cmd_secret_list(struct ctl *c, const struct args *a)
{
	struct out_list l;
	char err[512];

	if (setup_store(c) < 0)
		return 1;
	out_list_init(&l, !!(a->seen & O_JSON), 3, "ID", "SECRET", "CREATED");
	return out_list_finish(&l, store_secret_foreach(c->st, list_secret, &l,
							err, sizeof(err)), err);
}
