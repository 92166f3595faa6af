/*
 * Unit tests for core/names: the rules for credential user ids, long-term
 * user names and rooms that the API, signaling, the store, ferryctl and
 * the config file share.
 */
#include "core/names.h"
#include "../tap.h"

#include <stddef.h>
#include <string.h>

static void test_user_id(void)
{
	ok(names_user_id("alice"), "user: a name");
	ok(names_user_id("a"), "user: one character");
	ok(names_user_id("!~"), "user: printable edges");
	ok(!names_user_id(""), "user: empty");
	ok(!names_user_id(NULL), "user: absent");
	ok(!names_user_id("al ice"), "user: a space");
	ok(!names_user_id("a:b"), "user: a colon");
	ok(!names_user_id("al\tice"), "user: a tab");
	ok(!names_user_id("caf\xc3\xa9"), "user: non-ASCII");
	ok(!names_user_id("a\x7f"), "user: DEL");
	{
		char u[NAMES_USER_ID_MAX + 2];
		memset(u, 'u', sizeof(u));
		u[NAMES_USER_ID_MAX] = '\0';
		ok(names_user_id(u), "user: 128 characters");
		u[NAMES_USER_ID_MAX] = 'u';
		u[NAMES_USER_ID_MAX + 1] = '\0';
		ok(!names_user_id(u), "user: 129 characters");
	}

}

static void test_login_and_room(void)
{
	char name[300];

	ok(names_room("a"), "room: one character");
	ok(names_room("Team_1.alpha-B"), "room: letters, digits, _ . -");
	memset(name, 'r', 64);
	name[64] = 0;
	ok(names_room(name), "room: 64 characters");
	name[64] = 'r';
	name[65] = 0;
	ok(!names_room(name), "room: 65 characters refused");
	ok(!names_room(""), "room: empty refused");
	ok(!names_room(NULL), "room: NULL refused");
	ok(!names_room("a b"), "room: space refused");
	ok(!names_room("a/b"), "room: slash refused");
	ok(!names_room("caf\xc3\xa9"), "room: non-ASCII refused");

	ok(names_login("alice"), "user: plain name");
	ok(names_login("al ice@example.org"), "user: space and @ allowed");
	ok(!names_login(""), "user: empty refused");
	ok(!names_login("a:b"), "user: ':' refused");
	ok(!names_login("a\nb"), "user: control character refused");
	memset(name, 'u', 255);
	name[255] = 0;
	ok(names_login(name), "user: 255 bytes");
	name[255] = 'u';
	name[256] = 0;
	ok(!names_login(name), "user: 256 bytes refused");

}

int main(void)
{
	test_user_id();
	test_login_and_room();
	return tap_done();
}
