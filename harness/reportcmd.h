/*
 * reportcmd.h - `wsconform report`: judge an existing Autobahn-layout report
 * directory (Autobahn's own or ours), merge shard reports, and the --shard
 * selection split shared by `server` and `client`.
 */
#ifndef WSC_REPORTCMD_H
#define WSC_REPORTCMD_H

#include <stddef.h>

/* `wsconform report ...` (argv[1] == "report"). Returns the exit status (cli.h). */
int wsc_report_main(int argc, char **argv);

/*
 * Merge the Autobahn-layout reports in dirs[0..n) into out (created if
 * needed): one index.json holding every (agent, case), the per-case files
 * copied, and an index.html matrix. A pair found in two inputs is an error
 * unless both entries are identical. Returns 0, or -1 with err filled.
 */
int wsc_report_merge(const char *const *dirs, size_t n, const char *out, char *err, size_t errlen);

/* "I/N" with 0 <= I < N <= 100000. Returns 0, or -1. */
int wsc_shard_parse(const char *s, unsigned *i, unsigned *n);
/*
 * Keep, in place, the selected cases of shard i of n: position p (0-based,
 * the selection's natural order) stays when p mod n == i. Returns the new count.
 */
size_t wsc_shard_filter(size_t *sel, size_t count, unsigned i, unsigned n);

/* mkdir -p. Returns 0, or -1 with errno set. */
int wsc_mkdir_p(const char *path);

#endif
