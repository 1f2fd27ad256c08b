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
#include "webroot.h"
#include "wslimits.h"

struct loader {
	struct webroot	*wr;
	size_t		 cap;
	char		 root[PATH_MAX];	/* resolved webroot */
	size_t		 rootlen;
	char		*err;
	size_t		 errlen;
};

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

static int
inside(const struct loader *l, const char *real)
{
	return strncmp(real, l->root, l->rootlen) == 0 &&
	    (real[l->rootlen] == '/' || real[l->rootlen] == '\0');
}

static int
add_file(struct loader *l, const char *rel, const char *abs, size_t size)
{
	struct webroot	*wr = l->wr;
	struct wfile	*f, *nf;
	ssize_t		 n;
	size_t		 got = 0;
	int		 fd;

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
	if ((fd = open(abs, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1)
		goto fail;
	while (got < size && (n = read(fd, f->data + got, size - got)) > 0)
		got += (size_t)n;
	close(fd);
	if (got != size)
		goto fail;
	f->len = size;
	f->mime = http_mime(rel);
	wr->bytes += size;
	wr->n++;
	return 0;
 fail:
	free(f->path);
	free(f->data);
	return lerr(l, "%s: %s", abs, errno ? strerror(errno) : "short read");
}

static int
walk(struct loader *l, const char *abs, const char *rel, int depth)
{
	DIR		*d;
	struct dirent	*de;
	struct stat	 st;
	char		 a[PATH_MAX], r[PATH_MAX], real[PATH_MAX];
	int		 rc = 0;

	if (depth > WEBROOT_MAX_DEPTH)
		return lerr(l, "%s: nested deeper than %d", abs,
		    WEBROOT_MAX_DEPTH);
	if ((d = opendir(abs)) == NULL)
		return lerr(l, "%s: %s", abs, strerror(errno));
	while (rc == 0 && (de = readdir(d)) != NULL) {
		/* Dot files (and . and ..) are never served. */
		if (de->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(a, sizeof(a), "%s/%s", abs, de->d_name)
		    >= sizeof(a) ||
		    (size_t)snprintf(r, sizeof(r), "%s/%s", rel, de->d_name)
		    >= sizeof(r)) {
			rc = lerr(l, "%s: path too long", abs);
			break;
		}
		if (realpath(a, real) == NULL || !inside(l, real) ||
		    stat(real, &st) == -1)
			continue;	/* dangling, or a link out of the webroot */
		if (S_ISDIR(st.st_mode))
			rc = walk(l, real, r, depth + 1);
		else if (S_ISREG(st.st_mode))
			rc = add_file(l, r, real, (size_t)st.st_size);
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

struct webroot *
webroot_load(const char *dir, char *err, size_t errlen)
{
	struct loader	 l;

	memset(&l, 0, sizeof(l));
	l.err = err;
	l.errlen = errlen;
	if (realpath(dir, l.root) == NULL) {
		snprintf(err, errlen, "webroot %s: %s", dir, strerror(errno));
		return NULL;
	}
	l.rootlen = strlen(l.root);
	if (l.rootlen == 1)		/* "/": every path is inside */
		l.rootlen = 0;
	if ((l.wr = calloc(1, sizeof(*l.wr))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (walk(&l, l.root, "", 0) == -1) {
		webroot_free(l.wr);
		return NULL;
	}
	qsort(l.wr->files, l.wr->n, sizeof(*l.wr->files), cmp_file);
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
