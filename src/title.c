#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "title.h"

/* Length of the "wschatd: " prefix that setproctitle() adds. */
#define TITLE_PREFIX	9

static int	title_min;

void
title_init(int argc, char **argv, char **envp)
{
	size_t	 l = argc > 0 ? strlen(argv[0]) : 0;

	/*
	 * libbsd marks a title shorter than the original argv[0] with a '.'
	 * where argv[0] used to end, which ps shows.  Titles are padded to
	 * that length with spaces instead, which it does not.
	 */
	title_min = l > TITLE_PREFIX ? (int)(l - TITLE_PREFIX) : 0;
	setproctitle_init(argc, argv, envp);
}

void
title_set(const char *fmt, ...)
{
	char	 t[256];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(t, sizeof(t), fmt, ap);
	va_end(ap);
	setproctitle("%-*s", title_min, t);
}
