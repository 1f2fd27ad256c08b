/*
 * Run files through a fuzz target without libFuzzer: for builds with gcc
 * or without --enable-fuzzing.  Arguments are files or directories (whose
 * regular files are run, in name order).  A failed invariant aborts.
 */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

static int
run_file(const char *path)
{
	FILE	*f;
	uint8_t	*buf = NULL, *nb;
	size_t	 len = 0, cap = 0, n;

	if ((f = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 4096;
			if ((nb = realloc(buf, cap)) == NULL) {
				fprintf(stderr, "replay: out of memory\n");
				exit(2);
			}
			buf = nb;
		}
		if ((n = fread(buf + len, 1, cap - len, f)) == 0)
			break;
		len += n;
	}
	if (ferror(f)) {
		fprintf(stderr, "replay: %s: read error\n", path);
		fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	/* An exact-size copy, so that ASan sees reads past the end. */
	if ((nb = malloc(len ? len : 1)) == NULL)
		exit(2);
	if (len > 0)
		memcpy(nb, buf, len);
	free(buf);
	LLVMFuzzerTestOneInput(nb, len);
	free(nb);
	return 0;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
run_path(const char *path, int *count)
{
	struct stat	 st;
	DIR		*d;
	struct dirent	*de;
	char		**names = NULL, **nn, *full;
	size_t		 nnames = 0, i;
	int		 rc = 0;

	if (stat(path, &st) == -1) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		(*count)++;
		return run_file(path);
	}
	if ((d = opendir(path)) == NULL) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if ((nn = realloc(names, (nnames + 1) * sizeof(*names))) == NULL)
			exit(2);
		names = nn;
		if ((names[nnames] = strdup(de->d_name)) == NULL)
			exit(2);
		nnames++;
	}
	closedir(d);
	if (nnames > 0)
		qsort(names, nnames, sizeof(*names), by_name);
	for (i = 0; i < nnames; i++) {
		if ((full = malloc(strlen(path) + strlen(names[i]) + 2)) == NULL)
			exit(2);
		sprintf(full, "%s/%s", path, names[i]);
		if (stat(full, &st) == 0 && S_ISREG(st.st_mode)) {
			(*count)++;
			if (run_file(full) == -1)
				rc = -1;
		}
		free(full);
		free(names[i]);
	}
	free(names);
	return rc;
}

int
main(int argc, char **argv)
{
	int	 i, count = 0, rc = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s file-or-directory ...\n", argv[0]);
		return 2;
	}
	for (i = 1; i < argc; i++)
		if (run_path(argv[i], &count) == -1)
			rc = 1;
	printf("%s: %d input%s ran\n", argv[0], count, count == 1 ? "" : "s");
	return rc;
}
