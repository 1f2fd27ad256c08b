#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "http.h"
#include "sandbox.h"
#include "webroot.h"
#include "wslimits.h"

#include <linux/openat2.h>
#include <sys/syscall.h>

struct loader {
	struct webroot	*wr;
	size_t		 cap;
	int		 rootfd;
	const char	*root;		/* for messages */
	char		 real[PATH_MAX];	/* resolved root, without openat2 */
	char		*err;
	size_t		 errlen;
};

/* 1 when openat2 is missing, -1 before the first call. */
static int	 no_openat2 = -1;

/* The pinned webroot (see webroot_pin_dir). */
static int	 pin_fd = -1;
static char	 pin_path[PATH_MAX];

static int lerr(struct loader *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static int
lerr(struct loader *l, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(l->err, l->errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * Open rel ("sub/x") below the webroot.  Symbolic links are followed only
 * as long as they stay beneath it (RESOLVE_BENEATH: no absolute links, no
 * ".." out of it), so no request path reaches anything else.
 */
static int
open_beneath(struct loader *l, const char *rel, int flags)
{
	struct open_how	 how;
	char		 abs[PATH_MAX], real[PATH_MAX];
	size_t		 rl;
	int		 fd;

	/* valgrind does not know openat2 and would report each call. */
	if (no_openat2 == -1)
		no_openat2 = sandbox_under_valgrind();
	if (!no_openat2) {
		memset(&how, 0, sizeof(how));
		how.flags = (unsigned long long)(flags | O_CLOEXEC | O_NOCTTY);
		how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
		fd = (int)syscall(SYS_openat2, l->rootfd, rel, &how,
		    sizeof(how));
		if (fd != -1 || errno != ENOSYS)
			return fd;
		no_openat2 = 1;
	}
	/*
	 * No openat2 (valgrind, kernels before 5.6): resolve by path and
	 * check the result is inside.  This needs the webroot's path, so it
	 * does not work under a chroot.
	 */
	if (l->real[0] == '\0' && realpath(l->root, l->real) == NULL)
		return -1;
	rl = strcmp(l->real, "/") == 0 ? 0 : strlen(l->real);
	if ((size_t)snprintf(abs, sizeof(abs), "%s/%s", l->real, rel) >=
	    sizeof(abs) || realpath(abs, real) == NULL)
		return -1;
	if (strncmp(real, l->real, rl) != 0 ||
	    (real[rl] != '/' && real[rl] != '\0')) {
		errno = EXDEV;
		return -1;
	}
	return open(real, flags | O_CLOEXEC | O_NOCTTY);
}

static int
add_file(struct loader *l, const char *rel, int fd, size_t size)
{
	struct webroot	*wr = l->wr;
	struct wfile	*f, *nf;
	ssize_t		 n = 0;
	size_t		 got = 0;

	if (wr->n == WEBROOT_MAX_FILES)
		return lerr(l, "more than %d files", WEBROOT_MAX_FILES);
	if (size > WEBROOT_MAX_BYTES - wr->bytes)
		return lerr(l, "more than %d bytes of files", WEBROOT_MAX_BYTES);
	if (wr->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		if ((nf = reallocarray(wr->files, l->cap, sizeof(*nf))) == NULL)
			return lerr(l, "out of memory");
		wr->files = nf;
	}
	f = &wr->files[wr->n];
	memset(f, 0, sizeof(*f));
	if ((f->path = strdup(rel)) == NULL ||
	    (f->data = malloc(size ? size : 1)) == NULL) {
		free(f->path);
		return lerr(l, "out of memory");
	}
	errno = 0;
	while (got < size && (n = read(fd, f->data + got, size - got)) > 0)
		got += (size_t)n;
	if (got != size) {
		free(f->path);
		free(f->data);
		return lerr(l, "%s%s: %s", l->root, rel,
		    n == -1 ? strerror(errno) : "short read");
	}
	f->len = size;
	f->mime = http_mime(rel);
	wr->bytes += size;
	wr->n++;
	return 0;
}

/* rel is "" for the webroot itself, else "/sub". */
static int
walk(struct loader *l, const char *rel, int depth)
{
	DIR		*d;
	struct dirent	*de;
	struct stat	 st;
	char		 r[PATH_MAX];
	int		 fd, rc = 0;

	if (depth > WEBROOT_MAX_DEPTH)
		return lerr(l, "%s%s: nested deeper than %d", l->root, rel,
		    WEBROOT_MAX_DEPTH);
	if ((fd = open_beneath(l, *rel ? rel + 1 : ".", O_RDONLY |
	    O_DIRECTORY)) == -1 || (d = fdopendir(fd)) == NULL) {
		rc = lerr(l, "%s%s: %s", l->root, rel, strerror(errno));
		if (fd != -1)
			close(fd);
		return rc;
	}
	while (rc == 0 && (de = readdir(d)) != NULL) {
		/* Dot files (and . and ..) are never served. */
		if (de->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(r, sizeof(r), "%s/%s", rel, de->d_name)
		    >= sizeof(r)) {
			rc = lerr(l, "%s%s: path too long", l->root, rel);
			break;
		}
		/* Dangling, or a link out of the webroot: skipped. */
		if ((fd = open_beneath(l, r + 1, O_RDONLY | O_NONBLOCK)) == -1)
			continue;
		if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
			close(fd);
			rc = walk(l, r, depth + 1);
			continue;
		}
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
			rc = add_file(l, r, fd, (size_t)st.st_size);
		close(fd);
	}
	closedir(d);
	return rc;
}

static int
cmp_file(const void *a, const void *b)
{
	return strcmp(((const struct wfile *)a)->path,
	    ((const struct wfile *)b)->path);
}

int
webroot_pin_dir(const char *dir, char *err, size_t errlen)
{
	int	 fd;

	if ((fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "webroot %s: %s", dir, strerror(errno));
		return -1;
	}
	if (pin_fd != -1)
		close(pin_fd);
	pin_fd = fd;
	strlcpy(pin_path, dir, sizeof(pin_path));
	return 0;
}

struct webroot *
webroot_load(const char *dir, char *err, size_t errlen)
{
	struct loader	 l;
	int		 pinned = pin_fd != -1 && strcmp(dir, pin_path) == 0;

	memset(&l, 0, sizeof(l));
	l.err = err;
	l.errlen = errlen;
	l.root = dir;
	if (pinned)
		l.rootfd = pin_fd;
	else if ((l.rootfd = open(dir, O_PATH | O_DIRECTORY |
	    O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "webroot %s: %s", dir, strerror(errno));
		return NULL;
	}
	if ((l.wr = calloc(1, sizeof(*l.wr))) == NULL)
		snprintf(err, errlen, "out of memory");
	else if (walk(&l, "", 0) == -1) {
		webroot_free(l.wr);
		l.wr = NULL;
	} else
		qsort(l.wr->files, l.wr->n, sizeof(*l.wr->files), cmp_file);
	if (!pinned)
		close(l.rootfd);
	return l.wr;
}

void
webroot_free(struct webroot *wr)
{
	size_t	 i;

	if (wr == NULL)
		return;
	for (i = 0; i < wr->n; i++) {
		free(wr->files[i].path);
		free(wr->files[i].data);
	}
	free(wr->files);
	free(wr);
}

const struct wfile *
webroot_find(const struct webroot *wr, const char *path)
{
	struct wfile	 key;

	key.path = (char *)(uintptr_t)path;
	return bsearch(&key, wr->files, wr->n, sizeof(key), cmp_file);
}

int
webroot_is_dir(const struct webroot *wr, const char *path)
{
	size_t	 i, pl = strlen(path);

	for (i = 0; i < wr->n; i++)
		if (strncmp(wr->files[i].path, path, pl) == 0 &&
		    wr->files[i].path[pl] == '/')
			return 1;
	return 0;
}
