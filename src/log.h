#ifndef WSCHATD_LOG_H
#define WSCHATD_LOG_H

#include <stdarg.h>

void	log_init(int foreground, int debug);
void	log_setdebug(int);
void	log_reopen(void);
/* The syslog socket (-1 when logging to stderr), kept across fork. */
int	log_fd(void);
void	log_setfd(int);
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
