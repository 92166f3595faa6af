/*
 * password — reading the password for `user add` without --password:
 * asked twice, without echo, on a terminal; else one line of standard
 * input (for scripts).
 */
#ifndef FERRY_CTL_PASSWORD_H
#define FERRY_CTL_PASSWORD_H

/* A fresh string the caller releases with password_free(), or NULL after
 * reporting (nothing on standard input, the two entries differ).  The
 * line ending is not part of it; it may be empty. */
char *password_get(void);
/* Wipe and free p; NULL is accepted. */
void password_free(char *p);

#endif
