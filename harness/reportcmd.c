/*
 * reportcmd.c - `wsconform report DIR|index.json [--junit F] [--strict]` and
 * `wsconform report merge DIR... --report-dir OUT` (reportcmd.h).
 *
 * The judge reads only index.json, plus the per-case JSON file of each case
 * that did not pass (for its `result`/`resultClose` texts), so it works on
 * Autobahn|Testsuite's own reports as well as ours. A case passes when
 * behavior is OK, NON-STRICT (not with --strict) or INFORMATIONAL and
 * behaviorClose is OK or INFORMATIONAL; UNIMPLEMENTED is a skip.
 */
#include "reportcmd.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../reports/emit.h"
#include "case.h"
#include "cli.h"
#include "json_parse.h"

#define INDEX_MAX    (256u * 1024u * 1024u)
#define CASEFILE_MAX (64u * 1024u * 1024u)

/* ------------------------------------------------------------- small helpers */

int wsc_mkdir_p(const char *path)
{
	char buf[4096];
	size_t n = strlen(path);
	if (n == 0 || n >= sizeof buf) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (buf[i] == '/' || buf[i] == '\0') {
			char c = buf[i];
			buf[i] = '\0';
			if (mkdir(buf, 0755) < 0 && errno != EEXIST)
				return -1;
			buf[i] = c;
		}
	}
	struct stat st;
	if (stat(path, &st) < 0)
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}

int wsc_shard_parse(const char *s, unsigned *i, unsigned *n)
{
	char *end;
	errno = 0;
	if (*s < '0' || *s > '9')
		return -1;
	unsigned long a = strtoul(s, &end, 10);
	if (errno || *end != '/' || end[1] < '0' || end[1] > '9')
		return -1;
	unsigned long b = strtoul(end + 1, &end, 10);
	if (errno || *end || b == 0 || b > 100000 || a >= b)
		return -1;
	*i = (unsigned)a;
	*n = (unsigned)b;
	return 0;
}

size_t wsc_shard_filter(size_t *sel, size_t count, unsigned i, unsigned n)
{
	size_t k = 0;
	for (size_t p = 0; p < count; p++)
		if (p % n == i)
			sel[k++] = sel[p];
	return k;
}

static void emsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void emsg(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("wsconform report: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static const char *const behaviors[] = {"OK",     "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED",
                                        "FAILED", "NO_CLOSE"};
static const char *const closes[] = {"OK",         "FAILED",           "UNCLEAN",
                                     "WRONG CODE", "FAILED BY CLIENT", "INFORMATIONAL"};

static bool in_set(const char *s, const char *const *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, set[i]) == 0)
			return true;
	return false;
}

/* Split "DIR" or "DIR/index.json" into the directory and the index path. */
static void index_paths(const char *arg, char *dir, size_t dcap, char *idx, size_t icap)
{
	struct stat st;
	if (stat(arg, &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(dir, dcap, "%s", arg);
		snprintf(idx, icap, "%s/index.json", arg);
		return;
	}
	snprintf(idx, icap, "%s", arg);
	const char *slash = strrchr(arg, '/');
	if (slash)
		snprintf(dir, dcap, "%.*s", (int)(slash - arg), arg);
	else
		snprintf(dir, dcap, ".");
	if (!dir[0])
		snprintf(dir, dcap, "/");
}

/*
 * Check the index's shape: {agent: {id: {behavior, behaviorClose, ...}}}.
 * Returns 0, or -1 with err filled.
 */
static int check_index(const struct wsc_jval *root, char *err, size_t el)
{
	if (root->type != WSC_JOBJ) {
		snprintf(err, el, "index.json is a %s, expected an object of agents",
		         wsc_jp_type_name(root->type));
		return -1;
	}
	for (size_t a = 0; a < root->n; a++) {
		const struct wsc_jval *ag = &root->items[a];
		if (ag->type != WSC_JOBJ) {
			snprintf(err, el, "agent \"%.100s\" is a %s, expected an object of cases",
			         root->keys[a], wsc_jp_type_name(ag->type));
			return -1;
		}
		for (size_t c = 0; c < ag->n; c++) {
			const struct wsc_jval *e = &ag->items[c];
			const char *id = ag->keys[c];
			if (e->type != WSC_JOBJ) {
				snprintf(err, el, "%.100s / %.60s: expected an object",
				         root->keys[a], id);
				return -1;
			}
			const struct wsc_jval *b = wsc_jp_get(e, "behavior");
			const struct wsc_jval *bc = wsc_jp_get(e, "behaviorClose");
			if (!b || b->type != WSC_JSTR || !in_set(b->str, behaviors, 6)) {
				snprintf(err, el, "%.100s / %.60s: missing or unknown \"behavior\"",
				         root->keys[a], id);
				return -1;
			}
			if (!bc || bc->type != WSC_JSTR || !in_set(bc->str, closes, 6)) {
				snprintf(err, el,
				         "%.100s / %.60s: missing or unknown \"behaviorClose\"",
				         root->keys[a], id);
				return -1;
			}
			const struct wsc_jval *rf = wsc_jp_get(e, "reportfile");
			if (rf &&
			    (rf->type != WSC_JSTR || strchr(rf->str, '/') ||
			     strlen(rf->str) != rf->len || !strcmp(rf->str, "..") || !rf->len)) {
				snprintf(err, el, "%.100s / %.60s: bad \"reportfile\"",
				         root->keys[a], id);
				return -1;
			}
			const struct wsc_jval *d = wsc_jp_get(e, "duration");
			if (d && d->type != WSC_JNUM && d->type != WSC_JNULL) {
				snprintf(err, el, "%.100s / %.60s: \"duration\" is not a number",
				         root->keys[a], id);
				return -1;
			}
		}
	}
	return 0;
}

static bool entry_passed(const struct wsc_jval *e, bool strict, bool *skipped)
{
	const char *b = wsc_jp_get(e, "behavior")->str;
	const char *c = wsc_jp_get(e, "behaviorClose")->str;
	*skipped = strcmp(b, "UNIMPLEMENTED") == 0;
	bool bo = !strcmp(b, "OK") || !strcmp(b, "INFORMATIONAL") ||
	          (!strict && !strcmp(b, "NON-STRICT"));
	bool co = !strcmp(c, "OK") || !strcmp(c, "INFORMATIONAL");
	return bo && co;
}

/* Sorted (natural order) member indexes of an object. */
static const struct wsc_jval *g_sort_obj;
static int cmp_ids(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return wsc_id_cmp(g_sort_obj->keys[x], g_sort_obj->keys[y]);
}
static int cmp_str(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return strcmp(g_sort_obj->keys[x], g_sort_obj->keys[y]);
}

static size_t *sorted_members(const struct wsc_jval *o, bool natural)
{
	size_t *ix = malloc((o->n ? o->n : 1) * sizeof *ix);
	if (!ix)
		return NULL;
	for (size_t i = 0; i < o->n; i++)
		ix[i] = i;
	g_sort_obj = o;
	qsort(ix, o->n, sizeof *ix, natural ? cmp_ids : cmp_str);
	return ix;
}

/* ------------------------------------------------------------- judge */

static int judge_main(const char *arg, const char *junit, bool strict, bool quiet)
{
	char dir[4096], idx[4200], err[600];
	index_paths(arg, dir, sizeof dir, idx, sizeof idx);
	struct wsc_jval *root = wsc_jp_parse_file(idx, INDEX_MAX, err, sizeof err);
	if (!root) {
		emsg("%s", err);
		return WSC_EXIT_USAGE;
	}
	if (check_index(root, err, sizeof err) < 0) {
		emsg("%s: %s", idx, err);
		wsc_jp_free(root);
		return WSC_EXIT_USAGE;
	}
	struct wsc_out x;
	wsc_out_init(&x);
	wsc_out_puts(&x, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n");
	size_t tot = 0, tot_fail = 0, tot_skip = 0;
	int rc = WSC_EXIT_PASS;
	size_t *ai = sorted_members(root, false);
	for (size_t k = 0; ai && k < root->n; k++) {
		size_t a = ai[k];
		const char *agent = root->keys[a];
		const struct wsc_jval *ag = &root->items[a];
		size_t *ci = sorted_members(ag, true);
		size_t fails = 0, skips = 0;
		struct wsc_out cases;
		wsc_out_init(&cases);
		char part[256];
		wsc_agent_file_part(agent, part, sizeof part);
		for (size_t m = 0; ci && m < ag->n; m++) {
			const char *id = ag->keys[ci[m]];
			const struct wsc_jval *e = &ag->items[ci[m]];
			bool skipped;
			bool passed = entry_passed(e, strict, &skipped);
			const char *b = wsc_jp_get(e, "behavior")->str;
			const char *bc = wsc_jp_get(e, "behaviorClose")->str;
			wsc_out_puts(&cases, "    <testcase name=\"");
			wsc_out_xml(&cases, id, strlen(id), true);
			wsc_out_printf(&cases, "\" classname=\"autobahn.%s.%d\"",
			               part[0] ? part : "agent", wsc_id_category(id));
			if (passed) {
				wsc_out_puts(&cases, "/>\n");
				continue;
			}
			/* the texts, from the per-case file when there is one */
			char text[1200] = "";
			const struct wsc_jval *rf = wsc_jp_get(e, "reportfile");
			if (rf) {
				char path[8400];
				snprintf(path, sizeof path, "%s/%s", dir, rf->str);
				if (access(path, R_OK) == 0) {
					struct wsc_jval *cf = wsc_jp_parse_file(path, CASEFILE_MAX,
					                                        err, sizeof err);
					if (!cf) {
						emsg("%s", err);
						rc = WSC_EXIT_USAGE;
					} else {
						const struct wsc_jval *r1 =
						        wsc_jp_get(cf, "result");
						const struct wsc_jval *r2 =
						        wsc_jp_get(cf, "resultClose");
						snprintf(text, sizeof text, "%.590s%s%.590s",
						         r1 && r1->type == WSC_JSTR ? r1->str : "",
						         r1 && r2 ? " | close: " : "",
						         r2 && r2->type == WSC_JSTR ? r2->str : "");
						wsc_jp_free(cf);
					}
				}
			}
			char m1[200];
			snprintf(m1, sizeof m1, "behavior %s, behaviorClose %s", b, bc);
			if (skipped) {
				skips++;
				wsc_out_puts(&cases, ">\n      <skipped message=\"");
				wsc_out_xml(&cases, m1, strlen(m1), true);
				wsc_out_puts(&cases, "\"/>\n    </testcase>\n");
				continue;
			}
			fails++;
			if (!quiet)
				printf("  FAILED %s %s: %s%s%s\n", agent, id, m1,
				       text[0] ? ": " : "", text);
			wsc_out_puts(&cases, ">\n      <failure message=\"");
			wsc_out_xml(&cases, m1, strlen(m1), true);
			wsc_out_puts(&cases, "\">");
			wsc_out_xml(&cases, text, strlen(text), false);
			wsc_out_puts(&cases, "</failure>\n    </testcase>\n");
		}
		free(ci);
		if (!quiet)
			printf("%s: %zu cases, %zu passed, %zu failed, %zu unimplemented\n", agent,
			       ag->n, ag->n - fails - skips, fails, skips);
		wsc_out_puts(&x, "  <testsuite name=\"");
		wsc_out_xml(&x, agent, strlen(agent), true);
		wsc_out_printf(&x,
		               "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"%zu\">\n",
		               ag->n, fails, skips);
		wsc_out_put(&x, wsc_out_str(&cases), cases.len);
		if (cases.oom)
			x.oom = true;
		wsc_out_free(&cases);
		wsc_out_puts(&x, "  </testsuite>\n");
		tot += ag->n;
		tot_fail += fails;
		tot_skip += skips;
	}
	free(ai);
	wsc_out_puts(&x, "</testsuites>\n");
	if (!quiet)
		printf("Total: %zu agents, %zu results, %zu failed, %zu unimplemented\n", root->n,
		       tot, tot_fail, tot_skip);
	if (junit && wsc_out_write_file(&x, junit, err, sizeof err) < 0) {
		emsg("writing %s: %s", junit, err);
		rc = WSC_EXIT_USAGE;
	}
	wsc_out_free(&x);
	wsc_jp_free(root);
	if (rc == WSC_EXIT_PASS && tot == 0) {
		emsg("%s holds no result", idx);
		return WSC_EXIT_UNTESTED;
	}
	if (rc == WSC_EXIT_PASS && tot_fail)
		rc = WSC_EXIT_FAIL;
	return rc;
}

/* ------------------------------------------------------------- merge */

static void jw_indent(struct wsc_out *b, int depth)
{
	for (int i = 0; i < depth * 3; i++)
		wsc_out_putc(b, ' ');
}

/* Python 2.7 json.dumps(indent=3, sort_keys=True) layout, as Autobahn writes. */
static void jw(struct wsc_out *b, const struct wsc_jval *v, int depth)
{
	switch (v->type) {
	case WSC_JNULL:
		wsc_out_puts(b, "null");
		break;
	case WSC_JBOOL:
		wsc_out_puts(b, v->b ? "true" : "false");
		break;
	case WSC_JNUM:
		wsc_out_put(b, v->str, v->len);
		break;
	case WSC_JSTR:
		wsc_out_json_str(b, v->str, v->len, false);
		break;
	case WSC_JARR:
	case WSC_JOBJ: {
		bool obj = v->type == WSC_JOBJ;
		if (v->n == 0) {
			wsc_out_puts(b, obj ? "{}" : "[]");
			break;
		}
		size_t *ix = obj ? sorted_members(v, false) : NULL;
		wsc_out_puts(b, obj ? "{\n" : "[\n");
		for (size_t i = 0; i < v->n; i++) {
			size_t k = ix ? ix[i] : i;
			jw_indent(b, depth + 1);
			if (obj) {
				wsc_out_json_str(b, v->keys[k], strlen(v->keys[k]), false);
				wsc_out_puts(b, ": ");
			}
			jw(b, &v->items[k], depth + 1);
			wsc_out_puts(b, i + 1 < v->n ? ", \n" : "\n");
		}
		free(ix);
		jw_indent(b, depth);
		wsc_out_puts(b, obj ? "}" : "]");
		break;
	}
	}
}

static int copy_file(const char *from, const char *to, char *err, size_t el)
{
	FILE *in = fopen(from, "rb");
	if (!in) {
		snprintf(err, el, "%s: %s", from, strerror(errno));
		return -1;
	}
	FILE *out = fopen(to, "wb");
	if (!out) {
		snprintf(err, el, "%s: %s", to, strerror(errno));
		fclose(in);
		return -1;
	}
	char buf[65536];
	size_t n;
	int rc = 0;
	while ((n = fread(buf, 1, sizeof buf, in)) > 0)
		if (fwrite(buf, 1, n, out) != n) {
			rc = -1;
			break;
		}
	if (ferror(in))
		rc = -1;
	if (fclose(out) != 0)
		rc = -1;
	fclose(in);
	if (rc < 0)
		snprintf(err, el, "copying %s to %s failed", from, to);
	return rc;
}

struct mentry {
	const char *agent, *id;
	const struct wsc_jval *e;
	size_t src;
};

static int cmp_mentry(const void *a, const void *b)
{
	const struct mentry *x = a, *y = b;
	int c = strcmp(x->agent, y->agent);
	return c ? c : wsc_id_cmp(x->id, y->id);
}

int wsc_report_merge(const char *const *dirs, size_t n, const char *out, char *err, size_t el)
{
	struct wsc_jval **roots = calloc(n ? n : 1, sizeof *roots);
	struct mentry *ents = NULL;
	size_t n_ents = 0, cap = 0;
	int rc = -1;
	char d[4096], idx[4200];
	if (!roots) {
		snprintf(err, el, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		index_paths(dirs[i], d, sizeof d, idx, sizeof idx);
		char e2[600];
		roots[i] = wsc_jp_parse_file(idx, INDEX_MAX, e2, sizeof e2);
		if (!roots[i]) {
			snprintf(err, el, "%s", e2);
			goto done;
		}
		if (check_index(roots[i], e2, sizeof e2) < 0) {
			snprintf(err, el, "%s: %s", idx, e2);
			goto done;
		}
		for (size_t a = 0; a < roots[i]->n; a++) {
			const struct wsc_jval *ag = &roots[i]->items[a];
			for (size_t c = 0; c < ag->n; c++) {
				if (n_ents == cap) {
					cap = cap ? cap * 2 : 256;
					struct mentry *ne = realloc(ents, cap * sizeof *ne);
					if (!ne) {
						snprintf(err, el, "out of memory");
						goto done;
					}
					ents = ne;
				}
				ents[n_ents++] = (struct mentry){roots[i]->keys[a], ag->keys[c],
				                                 &ag->items[c], i};
			}
		}
	}
	qsort(ents, n_ents, sizeof *ents, cmp_mentry);
	for (size_t i = 1; i < n_ents; i++)
		if (!strcmp(ents[i].agent, ents[i - 1].agent) &&
		    !strcmp(ents[i].id, ents[i - 1].id)) {
			snprintf(err, el, "%.100s / %.60s is in both %.300s and %.300s",
			         ents[i].agent, ents[i].id, dirs[ents[i - 1].src],
			         dirs[ents[i].src]);
			goto done;
		}
	if (wsc_mkdir_p(out) < 0) {
		snprintf(err, el, "%s: %s", out, strerror(errno));
		goto done;
	}
	/* per-case files (JSON and its HTML sibling) */
	for (size_t i = 0; i < n_ents; i++) {
		const struct wsc_jval *rf = wsc_jp_get(ents[i].e, "reportfile");
		if (!rf)
			continue;
		index_paths(dirs[ents[i].src], d, sizeof d, idx, sizeof idx);
		char from[8400], to[8400];
		snprintf(from, sizeof from, "%s/%s", d, rf->str);
		snprintf(to, sizeof to, "%s/%s", out, rf->str);
		if (access(from, R_OK) == 0 && copy_file(from, to, err, el) < 0)
			goto done;
		size_t l = strlen(rf->str);
		if (l > 5 && !strcmp(rf->str + l - 5, ".json")) {
			snprintf(from, sizeof from, "%s/%.*s.html", d, (int)(l - 5), rf->str);
			snprintf(to, sizeof to, "%s/%.*s.html", out, (int)(l - 5), rf->str);
			if (access(from, R_OK) == 0 && copy_file(from, to, err, el) < 0)
				goto done;
		}
	}
	/* index.json */
	struct wsc_out b, h;
	wsc_out_init(&b);
	wsc_out_init(&h);
	wsc_out_puts(&b, "{");
	wsc_out_puts(&h, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>wsconform "
	                 "merged report</title><style>body{font-family:sans-serif}td,th{border:"
	                 "1px solid #ccc;padding:2px 6px}.p{background:#bfb}.f{background:"
	                 "#fbb}.s{background:#ddf}</style></head><body>\n<h1>Merged report"
	                 "</h1>\n<table>\n<tr><th>Agent</th><th>Case</th><th>behavior</th>"
	                 "<th>behaviorClose</th></tr>\n");
	const char *cur = NULL;
	for (size_t i = 0; i < n_ents; i++) {
		if (!cur || strcmp(cur, ents[i].agent)) {
			if (cur)
				wsc_out_puts(&b, "\n   }, ");
			wsc_out_puts(&b, "\n   ");
			wsc_out_json_str(&b, ents[i].agent, strlen(ents[i].agent), false);
			wsc_out_puts(&b, ": {");
			cur = ents[i].agent;
		} else {
			wsc_out_puts(&b, ", ");
		}
		wsc_out_puts(&b, "\n      ");
		wsc_out_json_str(&b, ents[i].id, strlen(ents[i].id), false);
		wsc_out_puts(&b, ": ");
		jw(&b, ents[i].e, 2);
		bool skipped, ok = entry_passed(ents[i].e, false, &skipped);
		const struct wsc_jval *rf = wsc_jp_get(ents[i].e, "reportfile");
		wsc_out_printf(&h, "<tr class=\"%s\"><td>", skipped ? "s" : ok ? "p" : "f");
		wsc_out_html(&h, ents[i].agent, strlen(ents[i].agent));
		wsc_out_puts(&h, "</td><td>");
		if (rf) {
			size_t l = strlen(rf->str);
			wsc_out_puts(&h, "<a href=\"");
			wsc_out_html(&h, rf->str, l > 5 ? l - 5 : l);
			wsc_out_puts(&h, ".html\">");
		}
		wsc_out_html(&h, ents[i].id, strlen(ents[i].id));
		wsc_out_puts(&h, rf ? "</a></td><td>" : "</td><td>");
		const char *bv = wsc_jp_get(ents[i].e, "behavior")->str;
		const char *cv = wsc_jp_get(ents[i].e, "behaviorClose")->str;
		wsc_out_html(&h, bv, strlen(bv));
		wsc_out_puts(&h, "</td><td>");
		wsc_out_html(&h, cv, strlen(cv));
		wsc_out_puts(&h, "</td></tr>\n");
	}
	if (cur)
		wsc_out_puts(&b, "\n   }");
	wsc_out_puts(&b, "\n}");
	wsc_out_puts(&h, "</table>\n</body></html>\n");
	char path[4200];
	snprintf(path, sizeof path, "%s/index.json", out);
	int w1 = wsc_out_write_file(&b, path, err, el);
	snprintf(path, sizeof path, "%s/index.html", out);
	int w2 = w1 == 0 ? wsc_out_write_file(&h, path, err, el) : -1;
	wsc_out_free(&b);
	wsc_out_free(&h);
	rc = w1 == 0 && w2 == 0 ? 0 : -1;
done:
	free(ents);
	for (size_t i = 0; i < n; i++)
		wsc_jp_free(roots[i]);
	free(roots);
	return rc;
}

/* ------------------------------------------------------------- command line */

static int rusage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int rusage(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("wsconform report: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputs("\nusage: wsconform report DIR|index.json [--junit FILE] [--strict] [-q]\n"
	      "       wsconform report merge DIR... --report-dir OUT\n",
	      stderr);
	va_end(ap);
	return WSC_EXIT_USAGE;
}

int wsc_report_main(int argc, char **argv)
{
	bool merge = argc > 2 && !strcmp(argv[2], "merge");
	const char *junit = NULL, *out = NULL;
	bool strict = false, quiet = false;
	const char **pos = calloc((size_t)argc, sizeof *pos);
	size_t n_pos = 0;
	if (!pos)
		return WSC_EXIT_UNTESTED;
	int rc;
	for (int i = merge ? 3 : 2; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--junit") || !strcmp(a, "--report-dir")) {
			if (i + 1 >= argc) {
				rc = rusage("%s needs an argument", a);
				goto out;
			}
			if (a[2] == 'j')
				junit = argv[++i];
			else
				out = argv[++i];
		} else if (!strncmp(a, "--junit=", 8)) {
			junit = a + 8;
		} else if (!strncmp(a, "--report-dir=", 13)) {
			out = a + 13;
		} else if (!strcmp(a, "--strict")) {
			strict = true;
		} else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
			quiet = true;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			rusage("help");
			rc = WSC_EXIT_PASS;
			goto out;
		} else if (a[0] == '-' && a[1]) {
			rc = rusage("unknown option '%s'", a);
			goto out;
		} else {
			pos[n_pos++] = a;
		}
	}
	if (merge) {
		if (!n_pos || !out) {
			rc = rusage("merge needs at least one DIR and --report-dir OUT");
			goto out;
		}
		if (junit || strict) {
			rc = rusage("merge takes only DIR... and --report-dir");
			goto out;
		}
		char err[1200];
		if (wsc_report_merge(pos, n_pos, out, err, sizeof err) < 0) {
			emsg("merge: %s", err);
			rc = WSC_EXIT_USAGE;
			goto out;
		}
		if (!quiet)
			printf("merged %zu report(s) into %s\n", n_pos, out);
		rc = WSC_EXIT_PASS;
		goto out;
	}
	if (n_pos != 1) {
		rc = rusage(n_pos ? "one report directory at a time" : "missing DIR|index.json");
		goto out;
	}
	if (out) {
		rc = rusage("--report-dir is for 'report merge'");
		goto out;
	}
	rc = judge_main(pos[0], junit, strict, quiet);
out:
	free(pos);
	return rc;
}
