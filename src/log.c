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
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "log.h"

static int	log_stderr = 1;
static int	log_journal;	/* stderr is systemd's journal */
static int	log_verbose;
/*
 * Our own connection to the syslog socket instead of openlog(): its
 * descriptor is known, so it survives the chroot and is handed down to the
 * spawner and the workers, which may neither open nor connect a socket.
 */
static int	log_sock = -1;

#define LOG_SOCKET	"/dev/log"
#define LOG_IDENT	"wschatd"

static int
log_connect(void)
{
	struct sockaddr_un	 sun;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strlcpy(sun.sun_path, LOG_SOCKET, sizeof(sun.sun_path));
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
log_syslog(int pri, const char *msg)
{
	struct tm	 tm;
	time_t		 t = time(NULL);
	char		 line[1280], stamp[32];
	int		 n;

	if (log_sock == -1)
		return;
	if (localtime_r(&t, &tm) == NULL ||
	    strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm) == 0)
		stamp[0] = '\0';
	n = snprintf(line, sizeof(line), "<%d>%s %s[%d]: %s",
	    LOG_DAEMON | pri, stamp, LOG_IDENT, (int)getpid(), msg);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	(void)send(log_sock, line, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
}

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
	tzset();
	if (!log_stderr && (log_sock = log_connect()) == -1)
		fprintf(stderr, "wschatd: cannot connect to %s: %s\n",
		    LOG_SOCKET, strerror(errno));
}

void
log_setdebug(int debug)
{
	log_verbose = debug;
}

/* Reconnect (the syslog daemon may have restarted); in a chroot, where
 * the socket is out of reach, the old connection is kept. */
void
log_reopen(void)
{
	int	 fd;

	if (log_stderr || (fd = log_connect()) == -1)
		return;
	if (log_sock != -1)
		close(log_sock);
	log_sock = fd;
}

int
log_fd(void)
{
	return log_sock;
}

void
log_setfd(int fd)
{
	log_sock = fd;
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
	} else {
		if (err != NULL) {
			size_t l = strlen(msg);
			snprintf(msg + l, sizeof(msg) - l, ": %s", err);
		}
		log_syslog(pri, msg);
	}
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
