/* names — see names.h. */
#include "core/names.h"

#include <string.h>

int names_user_id(const char *s)
{
	size_t i;

	if (!s || !*s)
		return 0;
	for (i = 0; s[i]; i++)
		if (i >= NAMES_USER_ID_MAX || s[i] <= ' ' || s[i] > '~' || s[i] == ':')
			return 0;
	return 1;
}

int names_login(const char *s)
{
	size_t n;

	if (!s)
		return 0;
	n = strlen(s);
	if (n == 0 || n > NAMES_LOGIN_MAX)
		return 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p == ':' || *p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

int names_room(const char *s)
{
	size_t n;

	if (!s)
		return 0;
	n = strlen(s);
	if (n == 0 || n > NAMES_ROOM_MAX)
		return 0;
	for (; *s; s++) {
		char c = *s;

		/* Spelled out rather than isalnum(): the locale must not
		 * widen what a room name may be. */
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
			return 0;
	}
	return 1;
}
