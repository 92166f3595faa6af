/* password — see password.h. */
#include "ctl/password.h"
#include "ctl/output.h"
#include "core/util.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

/* One line of in, without its line ending, in a fresh string the caller
 * cleanses and frees; NULL at end of file. */
static char *read_line(FILE *in)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, in);

	if (n < 0) {
		free(line);
		return NULL;
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = 0;
	return line;
}

/* Where a signal arriving during the prompt finds the terminal settings to
 * put back, so that a prompt ended by Ctrl-C does not leave echo off.
 * SIGTSTP is left alone: a job-control shell saves and restores a stopped
 * job's terminal modes itself. */
static struct termios saved_tty;
static volatile sig_atomic_t tty_changed;
static const int prompt_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };

static void restore_tty_and_die(int sig)
{
	if (tty_changed)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tty);
	signal(sig, SIG_DFL);
	raise(sig);
}

static char *prompt_noecho(const char *prompt)
{
	struct sigaction sa, old[ARRAY_LEN(prompt_signals)];
	struct termios t;
	char *line;

	if (tcgetattr(STDIN_FILENO, &saved_tty) < 0)
		return NULL;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = restore_tty_and_die;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < ARRAY_LEN(prompt_signals); i++)
		sigaction(prompt_signals[i], &sa, &old[i]);

	/* Echo goes off before the prompt shows, so that nothing typed in
	 * answer to it can be echoed; what was typed earlier is discarded. */
	t = saved_tty;
	t.c_lflag &= ~(tcflag_t)ECHO;
	t.c_lflag |= ECHONL;
	tty_changed = tcsetattr(STDIN_FILENO, TCSAFLUSH, &t) == 0;
	fputs(prompt, stderr);
	fflush(stderr);
	line = read_line(stdin);
	if (tty_changed)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_tty);
	tty_changed = 0;

	for (size_t i = 0; i < ARRAY_LEN(prompt_signals); i++)
		sigaction(prompt_signals[i], &old[i], NULL);
	return line;
}

void password_free(char *p)
{
	if (p) {
		OPENSSL_cleanse(p, strlen(p));
		free(p);
	}
}

char *password_get(void)
{
	char *p1, *p2;

	if (!isatty(STDIN_FILENO)) {
		p1 = read_line(stdin);
		if (!p1)
			out_fail("user add: no password on standard input");
		return p1;
	}
	p1 = prompt_noecho("Password: ");
	if (!p1) {
		out_fail("user add: no password given");
		return NULL;
	}
	p2 = prompt_noecho("Retype password: ");
	if (!p2 || strcmp(p1, p2) != 0) {
		out_fail("user add: the passwords do not match");
		password_free(p1);
		password_free(p2);
		return NULL;
	}
	password_free(p2);
	return p1;
}
