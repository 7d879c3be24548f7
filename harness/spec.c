/*
 * spec.c - Autobahn spec files (spec.h).
 *
 * fuzzingclient: {outdir, options, servers: [{url, agent, options, ...}],
 * cases, exclude-cases, exclude-agent-cases}. The servers run in order, as
 * `wsconform server` would; when exclude-agent-cases applies to a server, each
 * server runs alone into a temporary directory and the reports are merged
 * into outdir.
 * fuzzingserver: {url, outdir, options, cases, exclude-cases,
 * exclude-agent-cases, ...}: `wsconform client` listening on the URL's port
 * on all interfaces.
 *
 * Patterns follow Autobahn: an exact ID our catalog does not have is dropped
 * with a warning (Autobahn does not validate them either); engine options
 * (failByDrop, timeouts, ...) are reported as ignored.
 */
#include "spec.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "case.h"
#include "cli.h"
#include "engine.h"
#include "json_parse.h"
#include "reportcmd.h"
#include "serve.h"

#define SPEC_MAX (4u * 1024u * 1024u)

static void smsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void smsg(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("wsconform --spec: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

struct vec {
	char **v;
	size_t n, cap;
};

static int vpush(struct vec *a, const char *s)
{
	if (a->n + 2 > a->cap) {
		size_t nc = a->cap ? a->cap * 2 : 32;
		char **nv = realloc(a->v, nc * sizeof *nv);
		if (!nv)
			return -1;
		a->v = nv;
		a->cap = nc;
	}
	if (!(a->v[a->n] = strdup(s)))
		return -1;
	a->n++;
	a->v[a->n] = NULL;
	return 0;
}

static void vfree(struct vec *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	memset(a, 0, sizeof *a);
}

/* A list of pattern strings; exact IDs unknown to the catalog are dropped. */
static int patterns(const struct wsc_jval *spec, const char *key, const struct wsc_catalog *cat,
                    struct vec *out)
{
	const struct wsc_jval *a = wsc_jp_get(spec, key);
	if (!a)
		return 0;
	if (a->type != WSC_JARR) {
		smsg("\"%s\" must be an array of strings", key);
		return -1;
	}
	for (size_t i = 0; i < a->n; i++) {
		if (a->items[i].type != WSC_JSTR || !a->items[i].len ||
		    strlen(a->items[i].str) != a->items[i].len || strchr(a->items[i].str, ',')) {
			smsg("\"%s\"[%zu] is not a case pattern", key, i);
			return -1;
		}
		const char *p = a->items[i].str;
		if (!strchr(p, '*') && !wsc_catalog_find(cat, p)) {
			smsg("warning: \"%s\": case %s is not in the catalog; ignored", key, p);
			continue;
		}
		if (vpush(out, p) < 0)
			return -1;
	}
	return 0;
}

struct xa {
	struct vec agent, cases;
};

static int exclude_agent_cases(const struct wsc_jval *spec, struct xa *xa)
{
	const struct wsc_jval *o = wsc_jp_get(spec, "exclude-agent-cases");
	if (!o)
		return 0;
	if (o->type != WSC_JOBJ) {
		smsg("\"exclude-agent-cases\" must be an object {agent: [patterns]}");
		return -1;
	}
	for (size_t i = 0; i < o->n; i++) {
		const struct wsc_jval *a = &o->items[i];
		if (a->type != WSC_JARR) {
			smsg("\"exclude-agent-cases\".\"%s\" must be an array", o->keys[i]);
			return -1;
		}
		for (size_t k = 0; k < a->n; k++) {
			if (a->items[k].type != WSC_JSTR) {
				smsg("\"exclude-agent-cases\".\"%s\"[%zu] is not a string",
				     o->keys[i], k);
				return -1;
			}
			if (vpush(&xa->agent, o->keys[i]) < 0 ||
			    vpush(&xa->cases, a->items[k].str) < 0)
				return -1;
		}
	}
	return 0;
}

static void note_options(const struct wsc_jval *spec)
{
	const struct wsc_jval *o = wsc_jp_get(spec, "options");
	if (o && o->type == WSC_JOBJ && o->n)
		smsg("note: engine \"options\" (%s%s) are not applied: wsconform uses its own "
		     "timers (docs/migration.md)",
		     o->keys[0], o->n > 1 ? ", ..." : "");
}

static const char *str_key(const struct wsc_jval *o, const char *k)
{
	const struct wsc_jval *v = wsc_jp_get(o, k);
	return v && v->type == WSC_JSTR ? v->str : NULL;
}

static int worst(int a, int b)
{
	/* crash > could not test > usage > failures > pass */
	int ra = a == WSC_EXIT_CRASH ? 5 : a == WSC_EXIT_UNTESTED ? 4 : a == WSC_EXIT_USAGE ? 3 : a;
	int rb = b == WSC_EXIT_CRASH ? 5 : b == WSC_EXIT_UNTESTED ? 4 : b == WSC_EXIT_USAGE ? 3 : b;
	return ra >= rb ? a : b;
}

static void rm_tree_flat(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	char p[4600];
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(dir);
}

static int run_fuzzingclient(const struct wsc_jval *spec, const struct wsc_catalog *cat,
                             const char *junit, bool quiet, const char *version)
{
	const struct wsc_jval *servers = wsc_jp_get(spec, "servers");
	if (!servers || servers->type != WSC_JARR || servers->n == 0) {
		smsg("\"servers\" must be a non-empty array");
		return WSC_EXIT_USAGE;
	}
	const char *outdir = str_key(spec, "outdir");
	if (!outdir)
		outdir = "./reports/servers";
	struct vec inc = {0}, exc = {0};
	struct xa xa = {0};
	int rc = WSC_EXIT_USAGE;
	if (patterns(spec, "cases", cat, &inc) < 0 ||
	    patterns(spec, "exclude-cases", cat, &exc) < 0 || exclude_agent_cases(spec, &xa) < 0)
		goto out;
	if (!wsc_jp_get(spec, "cases"))
		vpush(&inc, "*");
	if (inc.n == 0) {
		smsg("no case pattern left to run");
		goto out;
	}
	for (size_t i = 0; i < servers->n; i++) {
		const struct wsc_jval *s = &servers->items[i];
		if (s->type != WSC_JOBJ || !str_key(s, "url")) {
			smsg("\"servers\"[%zu] needs a \"url\" string", i);
			goto out;
		}
		if (wsc_jp_get(s, "options"))
			note_options(s);
	}
	note_options(spec);

	/* Does exclude-agent-cases apply to any server? */
	bool split = false;
	for (size_t i = 0; i < servers->n; i++) {
		const char *agent = str_key(&servers->items[i], "agent");
		for (size_t k = 0; agent && k < xa.agent.n; k++)
			if (wsc_glob_full(xa.agent.v[k], agent))
				split = true;
	}
	char tmpl[] = "/tmp/wsconform-spec-XXXXXX";
	char *tmpdir = NULL;
	if (split && !(tmpdir = mkdtemp(tmpl))) {
		smsg("cannot make a temporary directory");
		rc = WSC_EXIT_UNTESTED;
		goto out;
	}
	size_t groups = split ? servers->n : 1;
	struct vec dirs = {0};
	rc = WSC_EXIT_PASS;
	for (size_t g = 0; g < groups; g++) {
		struct vec av = {0};
		vpush(&av, "wsconform");
		vpush(&av, "server");
		size_t from = split ? g : 0, to = split ? g + 1 : servers->n;
		for (size_t i = from; i < to; i++)
			vpush(&av, str_key(&servers->items[i], "url"));
		for (size_t i = from; i < to; i++) {
			const char *agent = str_key(&servers->items[i], "agent");
			if (agent) {
				vpush(&av, "--agent");
				vpush(&av, agent);
			} else if (to - from > 1) {
				/* --agent names go in URL order: name every URL */
				char *u = strdup(str_key(&servers->items[i], "url"));
				vpush(&av, "--agent");
				vpush(&av, u ? u : "UnknownServer");
				free(u);
			}
		}
		for (size_t i = 0; i < inc.n; i++) {
			vpush(&av, "--cases");
			vpush(&av, inc.v[i]);
		}
		for (size_t i = 0; i < exc.n; i++) {
			vpush(&av, "--exclude");
			vpush(&av, exc.v[i]);
		}
		const char *agent = str_key(&servers->items[from], "agent");
		for (size_t k = 0; split && agent && k < xa.agent.n; k++)
			if (wsc_glob_full(xa.agent.v[k], agent)) {
				vpush(&av, "--exclude");
				vpush(&av, xa.cases.v[k]);
			}
		char sub[4200];
		if (split)
			snprintf(sub, sizeof sub, "%s/%zu", tmpdir, g);
		vpush(&av, "--report-dir");
		vpush(&av, split ? sub : outdir);
		if (split)
			vpush(&dirs, sub);
		if (junit && !split) {
			vpush(&av, "--junit");
			vpush(&av, junit);
		}
		if (quiet)
			vpush(&av, "-q");
		int r = wsc_cli_main((int)av.n, av.v, version);
		rc = worst(rc, r);
		vfree(&av);
	}
	if (split) {
		char err[1200];
		if (wsc_report_merge((const char *const *)dirs.v, dirs.n, outdir, err, sizeof err) <
		    0) {
			smsg("merging the per-server reports: %s", err);
			rc = worst(rc, WSC_EXIT_UNTESTED);
		} else if (!quiet) {
			printf("Reports: %s/index.html\n", outdir);
		}
		if (junit)
			smsg("note: --junit with per-server runs: use 'wsconform report %s --junit "
			     "%s'",
			     outdir, junit);
		for (size_t i = 0; i < dirs.n; i++)
			rm_tree_flat(dirs.v[i]);
		rmdir(tmpdir);
	}
	vfree(&dirs);
out:
	vfree(&inc);
	vfree(&exc);
	vfree(&xa.agent);
	vfree(&xa.cases);
	return rc;
}

static int run_fuzzingserver(const struct wsc_jval *spec, struct wsc_catalog *cat, const char *exec,
                             const char *junit, bool quiet, const char *version)
{
	const char *url = str_key(spec, "url");
	struct wsc_url u;
	char err[512];
	if (wsc_url_parse(url, &u, err, sizeof err) < 0) {
		smsg("\"url\": %s", err);
		return WSC_EXIT_USAGE;
	}
	if (u.tls) {
		smsg("\"url\": wss:// (TLS) is not supported for testing clients yet");
		return WSC_EXIT_USAGE;
	}
	if (wsc_jp_get(spec, "key") || wsc_jp_get(spec, "cert")) {
		smsg("\"key\"/\"cert\" (TLS) are not supported for testing clients yet");
		return WSC_EXIT_USAGE;
	}
	note_options(spec);
	struct vec inc = {0}, exc = {0};
	struct xa xa = {0};
	int rc = WSC_EXIT_USAGE;
	size_t *sel = NULL, n_sel = 0;
	if (patterns(spec, "cases", cat, &inc) < 0 ||
	    patterns(spec, "exclude-cases", cat, &exc) < 0 || exclude_agent_cases(spec, &xa) < 0)
		goto out;
	if (!wsc_jp_get(spec, "cases"))
		vpush(&inc, "*");
	if (wsc_select(cat, (const char *const *)inc.v, inc.n, (const char *const *)exc.v, exc.n,
	               WSC_SIDE_CLIENT, &sel, &n_sel, err, sizeof err) < 0 ||
	    n_sel == 0) {
		smsg("%s", n_sel ? err : "no case selected");
		goto out;
	}
	struct wsc_serve_config cfg;
	memset(&cfg, 0, sizeof cfg);
	cfg.listen_host = "0.0.0.0";
	cfg.listen_port = (unsigned)strtoul(u.port, NULL, 10);
	const char *outdir = str_key(spec, "outdir");
	cfg.report_dir = outdir ? outdir : "./reports/clients";
	cfg.junit = junit;
	cfg.exec = exec;
	cfg.profile = cat->profile;
	cfg.quiet = quiet;
	cfg.timeout_scale = 1.0;
	cfg.cat = cat;
	cfg.sel = sel;
	cfg.n_sel = n_sel;
	cfg.xa_agent = (const char *const *)xa.agent.v;
	cfg.xa_case = (const char *const *)xa.cases.v;
	cfg.n_xa = xa.agent.n;
	cfg.version = version;
	rc = wsc_serve_run(&cfg);
out:
	free(sel);
	vfree(&inc);
	vfree(&exc);
	vfree(&xa.agent);
	vfree(&xa.cases);
	return rc;
}

int wsc_spec_main(int argc, char **argv, const char *version)
{
	const char *file = NULL, *exec = NULL, *junit = NULL;
	bool quiet = false;
	enum wsc_profile profile = WSC_PROFILE_RFC;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char **dst = NULL;
		if (!strcmp(a, "--spec") || !strcmp(a, "-s"))
			dst = &file;
		else if (!strcmp(a, "--exec"))
			dst = &exec;
		else if (!strcmp(a, "--junit"))
			dst = &junit;
		else if (!strncmp(a, "--spec=", 7)) {
			file = a + 7;
			continue;
		} else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
			quiet = true;
			continue;
		} else if (!strcmp(a, "--profile") && i + 1 < argc) {
			const char *p = argv[++i];
			if (!strcmp(p, "autobahn"))
				profile = WSC_PROFILE_AUTOBAHN;
			else if (!strcmp(p, "hardened"))
				profile = WSC_PROFILE_HARDENED;
			else if (strcmp(p, "rfc")) {
				smsg("--profile: '%s' is not one of rfc, autobahn, hardened", p);
				return WSC_EXIT_USAGE;
			}
			continue;
		} else {
			smsg("unexpected argument '%s' (usage: wsconform --spec FILE [--exec CMD] "
			     "[--junit FILE] [--profile NAME] [-q])",
			     a);
			return WSC_EXIT_USAGE;
		}
		if (i + 1 >= argc) {
			smsg("%s needs an argument", a);
			return WSC_EXIT_USAGE;
		}
		*dst = argv[++i];
	}
	if (!file || !*file) {
		smsg("missing spec file");
		return WSC_EXIT_USAGE;
	}
	char err[700];
	struct wsc_jval *spec = wsc_jp_parse_file(file, SPEC_MAX, err, sizeof err);
	if (!spec) {
		smsg("%s", err);
		return WSC_EXIT_USAGE;
	}
	int rc = WSC_EXIT_USAGE;
	struct wsc_catalog cat;
	wsc_catalog_init(&cat, profile);
	struct wsc_diag diag;
	memset(&diag, 0, sizeof diag);
	if (spec->type != WSC_JOBJ) {
		smsg("%s: the spec must be a JSON object", file);
		goto out;
	}
	if (wsc_catalog_load_builtin(&cat, &diag) < 0) {
		smsg("built-in catalog: %s", diag.msg);
		goto out;
	}
	bool is_client = wsc_jp_get(spec, "servers") != NULL;
	bool is_server = wsc_jp_get(spec, "url") != NULL;
	if (is_client == is_server) {
		smsg("%s: expected a fuzzingclient spec (\"servers\") or a fuzzingserver spec "
		     "(\"url\")",
		     file);
		goto out;
	}
	const struct wsc_jval *od = wsc_jp_get(spec, "outdir");
	if (od && od->type != WSC_JSTR) {
		smsg("\"outdir\" must be a string");
		goto out;
	}
	if (is_server && !str_key(spec, "url")) {
		smsg("\"url\" must be a string");
		goto out;
	}
	if (is_client) {
		if (exec) {
			smsg("--exec is for fuzzingserver specs (the client under test)");
			goto out;
		}
		rc = run_fuzzingclient(spec, &cat, junit, quiet, version);
	} else {
		rc = run_fuzzingserver(spec, &cat, exec, junit, quiet, version);
	}
out:
	wsc_catalog_free(&cat);
	wsc_jp_free(spec);
	return rc;
}
