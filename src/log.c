/* Logging: syslog (daemon facility), or stderr in the foreground. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "log.h"

static int	log_stderr = 1;
static int	log_journal;	/* stderr is systemd's journal */
static int	log_verbose;

/* $JOURNAL_STREAM names stderr's device and inode when systemd connected
 * it to the journal, which adds the name and pid itself. */
static int
stderr_is_journal(void)
{
	const char		*js = getenv("JOURNAL_STREAM");
	struct stat		 st;
	unsigned long long	 dev, ino;

	if (js == NULL || sscanf(js, "%llu:%llu", &dev, &ino) != 2 ||
	    fstat(STDERR_FILENO, &st) == -1)
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

void
log_init(int foreground, int debug)
{
	log_stderr = foreground;
	log_journal = foreground && stderr_is_journal();
	log_verbose = debug;
	if (!log_stderr)
		openlog("wschatd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	tzset();
}

void
log_setdebug(int debug)
{
	log_verbose = debug;
}

void
log_reopen(void)
{
	if (!log_stderr) {
		closelog();
		openlog("wschatd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	}
}

static void vlog(int, const char *, va_list, const char *)
    __attribute__((format(printf, 2, 0)));

static void
vlog(int pri, const char *fmt, va_list ap, const char *err)
{
	char	 msg[1024];
	int	 saved = errno;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_journal) {
		/* sd-daemon(3) priority prefix; the journal adds the rest. */
		if (err != NULL)
			fprintf(stderr, "<%d>%s: %s\n", pri, msg, err);
		else
			fprintf(stderr, "<%d>%s\n", pri, msg);
		fflush(stderr);
	} else if (log_stderr) {
		const char *lvl = pri <= LOG_ERR ? "fatal: " :
		    pri == LOG_WARNING ? "warning: " :
		    pri == LOG_DEBUG ? "debug: " : "";
		if (err != NULL)
			fprintf(stderr, "wschatd[%d]: %s%s: %s\n", (int)getpid(),
			    lvl, msg, err);
		else
			fprintf(stderr, "wschatd[%d]: %s%s\n", (int)getpid(),
			    lvl, msg);
		fflush(stderr);
	} else if (err != NULL)
		syslog(pri, "%s: %s", msg, err);
	else
		syslog(pri, "%s", msg);
	errno = saved;
}

void
log_debug(const char *fmt, ...)
{
	va_list	ap;

	if (!log_verbose)
		return;
	va_start(ap, fmt);
	vlog(LOG_DEBUG, fmt, ap, NULL);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(LOG_INFO, fmt, ap, NULL);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap, NULL);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list	ap;
	const char *e = strerror(errno);

	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap, e);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	ap;
	const char *e = strerror(errno);

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap, e);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap, NULL);
	va_end(ap);
	exit(1);
}
