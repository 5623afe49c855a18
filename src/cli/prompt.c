/* Asking for a secret on the terminal: the keyring's prompt callback
 * (vu_prompt_fn), kept in the command line because terminal I/O is the
 * front end's business, not the library's. */
#include <errno.h>
#include <stdio.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cli.h"

/* "QUESTION: " on standard error, then one line from standard input (the
 * terminal) with echo off; the newline is not part of the answer and the
 * user's own newline is echoed so the next message starts a line.  Echo
 * goes off before the prompt shows, so that nothing typed after it is
 * echoed or flushed; the terminal's settings come back whatever happens. */
int cli_prompt(void *ctx, const char *question, char *buf, size_t cap)
{
	struct termios old, quiet;
	int saved = 0;
	size_t n = 0;

	(void)ctx;
	if (!cap)
		return 0;
	if (tcgetattr(STDIN_FILENO, &old) == 0) {
		saved = 1;
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	fprintf(stderr, "%s: ", question);
	fflush(stderr);
	/* byte by byte: nothing after the line is taken from the terminal */
	while (n < cap - 1) {
		ssize_t k = read(STDIN_FILENO, buf + n, 1);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0 || buf[n] == '\n')
			break;
		n++;
	}
	buf[n] = 0; /* the newline, where there was one, is overwritten */
	if (saved)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	fputc('\n', stderr);
	return (int)n;
}
