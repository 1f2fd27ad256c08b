#ifndef WSCHATD_WEBROOT_H
#define WSCHATD_WEBROOT_H

#include <stddef.h>
#include <stdint.h>

/*
 * The web client's files, read into memory before the privilege drop and
 * shared copy-on-write by every worker.  Only regular files that really
 * lie under the webroot are loaded (symlinks are followed only when their
 * target is inside it), so no request path can reach anything else, and
 * workers never open a file.
 */
struct wfile {
	char		*path;		/* "/index.html" */
	uint8_t		*data;
	size_t		 len;
	const char	*mime;
};

struct webroot {
	struct wfile	*files;		/* sorted by path */
	size_t		 n;
	size_t		 bytes;
};

struct webroot		*webroot_load(const char *, char *, size_t);
/* Keep a descriptor of this webroot: webroot_load of the same path then
 * works after a chroot (SIGHUP).  -1 with err on failure. */
int			 webroot_pin_dir(const char *, char *, size_t);
void			 webroot_free(struct webroot *);
const struct wfile	*webroot_find(const struct webroot *, const char *);
/* Is path a directory prefix of a loaded file ("/sub" for "/sub/x")? */
int			 webroot_is_dir(const struct webroot *, const char *);

#endif
