#ifndef WSCHATD_TITLE_H
#define WSCHATD_TITLE_H

/* Process titles ("wschatd: client 127.0.0.1:50312 alice") via libbsd. */
void	title_init(int, char **, char **);
void	title_set(const char *, ...) __attribute__((format(printf, 1, 2)));

#endif
