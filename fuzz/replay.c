/*
 * replay.c - main() for fuzz targets built with -Dfuzzing_engine=none: runs
 * LLVMFuzzerTestOneInput once on every file in every directory (or file)
 * named on the command line. Missing directories are skipped, so an empty
 * crashes/ folder is fine. Exits 0 when every input ran (a failing oracle
 * aborts the process, which meson test reports).
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	size_t cap = 4096, len = 0;
	uint8_t *buf = malloc(cap);
	size_t r;
	while (buf && (r = fread(buf + len, 1, cap - len, f)) > 0) {
		len += r;
		if (len == cap) {
			cap *= 2;
			uint8_t *nb = realloc(buf, cap);
			if (nb == NULL)
				free(buf);
			buf = nb;
		}
	}
	fclose(f);
	if (buf == NULL)
		return -1;
	/* Exact-size copy so over-reads show under ASan. */
	uint8_t *exact = malloc(len ? len : 1);
	if (exact == NULL) {
		free(buf);
		return -1;
	}
	memcpy(exact, buf, len);
	free(buf);
	LLVMFuzzerTestOneInput(exact, len);
	free(exact);
	return 0;
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
	int files = 0, errors = 0;
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) != 0)
			continue;
		if (!S_ISDIR(st.st_mode)) {
			errors += run_file(argv[i]) != 0;
			files++;
			continue;
		}
		DIR *d = opendir(argv[i]);
		if (d == NULL)
			continue;
		char **names = NULL;
		size_t n = 0, cap = 0;
		struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue; /* ., .., .gitkeep */
			if (n == cap) {
				cap = cap ? 2 * cap : 64;
				char **nn = realloc(names, cap * sizeof(*names));
				if (nn == NULL)
					abort();
				names = nn;
			}
			size_t l = strlen(argv[i]) + strlen(e->d_name) + 2;
			names[n] = malloc(l);
			if (names[n] == NULL)
				abort();
			snprintf(names[n], l, "%s/%s", argv[i], e->d_name);
			n++;
		}
		closedir(d);
		if (n > 1) /* an empty directory leaves names NULL: qsort must not see it */
			qsort(names, n, sizeof(*names), cmp); /* deterministic order */
		for (size_t k = 0; k < n; k++) {
			errors += run_file(names[k]) != 0;
			files++;
			free(names[k]);
		}
		free(names);
	}
	printf("replayed %d inputs, %d unreadable\n", files, errors);
	return errors ? 1 : 0;
}
