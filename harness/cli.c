/*
 * cli.c - the wsconform command line: option parsing, catalog loading and
 * selection, the target under test, one engine run per agent, reports, and
 * the exit code.
 *
 * Commands:
 *   wsconform [options]                  the catalog against the built-in wsref-echo
 *   wsconform server URL... [options]    test servers (one agent per URL)
 *   wsconform list [--json] [selection]  print the catalog
 *
 * Everything the user typed is checked before anything starts, so a typo
 * never costs a run: bad options, bad values and bad URLs exit 2 at once.
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "case.h"
#include "engine.h"
#include "fuzzcmd.h"
#include "reportcmd.h"
#include "result.h"
#include "serve.h"
#include "spec.h"
#include "target.h"
#include "zcache.h"

#define PROG "wsconform"

/* ---- small helpers ------------------------------------------------------ */

struct strlist {
	char **v; /* owned strings */
	size_t n, cap;
};

static int strlist_add(struct strlist *l, const char *s, size_t len)
{
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 8;
		char **nv = realloc(l->v, ncap * sizeof *nv);
		if (!nv)
			return -1;
		l->v = nv;
		l->cap = ncap;
	}
	char *c = strndup(s, len);
	if (!c)
		return -1;
	l->v[l->n++] = c;
	return 0;
}

/* Add each non-empty comma-separated item of s. */
static int strlist_add_csv(struct strlist *l, const char *s)
{
	while (*s) {
		const char *e = strchr(s, ',');
		size_t len = e ? (size_t)(e - s) : strlen(s);
		/* trim blanks so "1.*, 2.*" works */
		const char *a = s;
		size_t n = len;
		while (n && (*a == ' ' || *a == '\t'))
			a++, n--;
		while (n && (a[n - 1] == ' ' || a[n - 1] == '\t'))
			n--;
		if (n && strlist_add(l, a, n) < 0)
			return -1;
		if (!e)
			break;
		s = e + 1;
	}
	return 0;
}

static void strlist_free(struct strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof *l);
}

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t unix_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void errmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void errmsg(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs(PROG ": ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs(PROG ": ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	fputs("Try '" PROG " --help' for more information.\n", stderr);
	return WSC_EXIT_USAGE;
}

/* Replace every `{key}` in s with val. Returns a malloc'ed string or NULL. */
static char *subst(const char *s, const char *key, const char *val)
{
	size_t kl = strlen(key), vl = strlen(val), count = 0;
	for (const char *p = strstr(s, key); p; p = strstr(p + kl, key))
		count++;
	size_t n = strlen(s) + count * vl + 1;
	char *out = malloc(n);
	if (!out)
		return NULL;
	char *o = out;
	for (;;) {
		const char *p = strstr(s, key);
		if (!p)
			break;
		memcpy(o, s, (size_t)(p - s));
		o += p - s;
		memcpy(o, val, vl);
		o += vl;
		s = p + kl;
	}
	strcpy(o, s);
	return out;
}

/* Printable on one terminal line: control bytes become spaces. */
static void put_plain(FILE *f, const char *s)
{
	for (; *s; s++)
		fputc((unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s, f);
}

/* Decode one UTF-8 sequence; returns its length, or 0 if invalid. */
static size_t utf8_len(const unsigned char *s)
{
	unsigned c = s[0];
	size_t n;
	uint32_t cp;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

/* A JSON string: escaped, invalid UTF-8 replaced by U+FFFD. */
static void put_json_str(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	fputc('"', f);
	while (*p) {
		if (*p == '"' || *p == '\\') {
			fputc('\\', f);
			fputc(*p++, f);
		} else if (*p < 0x20) {
			fprintf(f, "\\u%04x", *p++);
		} else {
			size_t n = utf8_len(p);
			if (n == 0) {
				fputs("\xef\xbf\xbd", f);
				p++;
			} else {
				fwrite(p, 1, n, f);
				p += n;
			}
		}
	}
	fputc('"', f);
}

/* ---- options ------------------------------------------------------------ */

enum command { CMD_REFERENCE, CMD_SERVER, CMD_LIST };

enum color_mode { COLOR_AUTO, COLOR_ALWAYS, COLOR_NEVER };

struct options {
	enum command cmd;
	struct strlist urls, cases, exclude, case_files, agents;
	enum wsc_profile profile;
	bool strict;
	unsigned jobs;
	const char *report_dir;
	const char *junit;
	const char *markdown;
	bool no_report;
	const char *exec;
	unsigned exec_timeout_ms;
	bool insecure;
	const char *cacert;
	double timeout_scale;
	const char *dump_wire;
	bool quiet;
	bool no_progress;
	enum color_mode color;
	bool json;
	bool seen_run_option; /* an option only meaningful for a run */
	const char *run_option_name;
	unsigned long max_message; /* --max-message: the peer's declared limit (0: none) */
	uint32_t round_trips;      /* --round-trips: cap per round-trip step (0: as written) */
	unsigned shard_i, shard_n; /* --shard I/N (shard_n 0: all) */
};

enum {
	OPT_CASES = 256,
	OPT_EXCLUDE,
	OPT_CASE_FILE,
	OPT_PROFILE,
	OPT_STRICT,
	OPT_REPORT_DIR,
	OPT_JUNIT,
	OPT_MARKDOWN,
	OPT_NO_REPORT,
	OPT_EXEC,
	OPT_EXEC_TIMEOUT,
	OPT_AGENT,
	OPT_CACERT,
	OPT_TIMEOUT_SCALE,
	OPT_DUMP_WIRE,
	OPT_NO_PROGRESS,
	OPT_COLOR,
	OPT_JSON,
	OPT_VERSION,
	OPT_SHARD,
	OPT_MAX_MESSAGE,
	OPT_NO_ZCACHE,
	OPT_ROUND_TRIPS,
};

static const struct option long_opts[] = {
        {"cases", required_argument, NULL, OPT_CASES},
        {"exclude", required_argument, NULL, OPT_EXCLUDE},
        {"case-file", required_argument, NULL, OPT_CASE_FILE},
        {"profile", required_argument, NULL, OPT_PROFILE},
        {"strict", no_argument, NULL, OPT_STRICT},
        {"jobs", required_argument, NULL, 'j'},
        {"report-dir", required_argument, NULL, OPT_REPORT_DIR},
        {"junit", required_argument, NULL, OPT_JUNIT},
        {"markdown", required_argument, NULL, OPT_MARKDOWN},
        {"no-report", no_argument, NULL, OPT_NO_REPORT},
        {"no-compression-cache", no_argument, NULL, OPT_NO_ZCACHE},
        {"round-trips", required_argument, NULL, OPT_ROUND_TRIPS},
        {"exec", required_argument, NULL, OPT_EXEC},
        {"exec-timeout", required_argument, NULL, OPT_EXEC_TIMEOUT},
        {"agent", required_argument, NULL, OPT_AGENT},
        {"insecure", no_argument, NULL, 'k'},
        {"cacert", required_argument, NULL, OPT_CACERT},
        {"timeout-scale", required_argument, NULL, OPT_TIMEOUT_SCALE},
        {"dump-wire", required_argument, NULL, OPT_DUMP_WIRE},
        {"quiet", no_argument, NULL, 'q'},
        {"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
        {"color", required_argument, NULL, OPT_COLOR},
        {"json", no_argument, NULL, OPT_JSON},
        {"version", no_argument, NULL, OPT_VERSION},
        {"shard", required_argument, NULL, OPT_SHARD},
        {"max-message", required_argument, NULL, OPT_MAX_MESSAGE},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
};

static void print_help(FILE *f)
{
	fputs("Usage:\n"
	      "  " PROG " [options]                 run the catalog against the built-in\n"
	      "                                    reference server (wsref-echo)\n"
	      "  " PROG " server URL... [options]   test WebSocket servers (ws:// or wss://)\n"
	      "  " PROG " list [--json] [selection] print the case catalog\n"
	      "  " PROG " client --listen HOST:PORT test WebSocket clients (" PROG
	      " client --help)\n"
	      "  " PROG
	      " --spec FILE               run an Autobahn fuzzingclient/fuzzingserver spec\n"
	      "  " PROG
	      " report DIR [--junit F]    judge an Autobahn-layout report; 'report merge'\n"
	      "  " PROG
	      " fuzz URL [options]        mutate traffic against a live server (fuzz --help)\n"
	      "\n"
	      "Selection:\n"
	      "  --cases P           include cases matching P (repeatable, comma-separated;\n"
	      "                      '6.1.*' globs from the start, '6.1.1' is an exact ID)\n"
	      "  --exclude P         leave out cases matching P (same syntax)\n"
	      "  --case-file PATH    load extra .wsc cases from a file or directory (repeatable)\n"
	      "  --profile NAME      rfc (default), autobahn or hardened\n"
	      "\n"
	      "Run:\n"
	      "  --strict            NON-STRICT verdicts fail\n"
	      "  -j, --jobs N        concurrent connections (default: cores x 4)\n"
	      "  --exec CMD          start the server under test with /bin/sh -c CMD; {port}\n"
	      "                      and {url} are replaced (a free port is picked when the\n"
	      "                      URL says {port}); waits until the port accepts\n"
	      "  --exec-timeout S    seconds to wait for it to listen (default 15)\n"
	      "  --agent NAME        report name of each URL, in order (repeatable)\n"
	      "  -k, --insecure      do not verify TLS certificates\n"
	      "  --cacert FILE       verify TLS against this PEM bundle\n"
	      "  --timeout-scale X   multiply every case deadline by X (default 1)\n"
	      "  --max-message N     the peer's declared message limit in bytes (limit\n"
	      "                      cases; passed on to the built-in wsref-echo)\n"
	      "  --dump-wire DIR     write the bytes each case sends to DIR/<id>.bin\n"
	      "  --shard I/N         run only shard I (0..N-1): cases at positions p mod N == I\n"
	      "  --round-trips N     send at most N messages per round-trip step (9.x, 12.x,\n"
	      "                      13.x send up to 1000): a quick run, not Autobahn's\n"
	      "                      volume; reports say so\n"
	      "  --no-compression-cache\n"
	      "                      compress every round-trip message again instead of\n"
	      "                      reusing an earlier case's identical payload\n"
	      "\n"
	      "Reports:\n"
	      "  --report-dir DIR    index.json, index.html, per-case JSON (default\n"
	      "                      reports/servers)\n"
	      "  --no-report         do not write the report directory\n"
	      "  --junit FILE        also write JUnit XML\n"
	      "  --markdown FILE     also write a Markdown summary (default:\n"
	      "                      $GITHUB_STEP_SUMMARY when set)\n"
	      "\n"
	      "Output:\n"
	      "  -q, --quiet         print nothing but errors\n"
	      "  --no-progress       no progress bar\n"
	      "  --color WHEN        auto (default), always or never\n"
	      "  --json              (list) print JSON\n"
	      "  --version           print the version\n"
	      "  -h, --help          this help\n"
	      "\n"
	      "Exit status: 0 all selected cases passed, 1 some failed, 2 usage or\n"
	      "configuration error, 3 could not test (unreachable, never listened,\n"
	      "interrupted), 4 the target crashed.\n",
	      f);
}

/* Strict decimal parse of an unsigned integer in [lo, hi]. */
static bool parse_uint(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
	if (!s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

static bool parse_double(const char *s, double lo, double hi, double *out)
{
	if (!s || !*s)
		return false;
	errno = 0;
	char *end;
	double v = strtod(s, &end);
	if (errno || *end || !isfinite(v) || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

static unsigned default_jobs(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		n = 1;
	if (n > 256)
		n = 256;
	return (unsigned)n * 4u;
}

static void run_option(struct options *o, const char *name)
{
	if (!o->seen_run_option) {
		o->seen_run_option = true;
		o->run_option_name = name;
	}
}

/* Returns -1 to go on, or an exit status. */
static int parse_args(int argc, char **argv, struct options *o, const char *version)
{
	memset(o, 0, sizeof *o);
	o->profile = WSC_PROFILE_RFC;
	o->jobs = default_jobs();
	o->report_dir = "reports/servers";
	o->exec_timeout_ms = 15000;
	o->timeout_scale = 1.0;
	o->color = COLOR_AUTO;

	int first = 1;
	o->cmd = CMD_REFERENCE;
	if (argc > 1 && argv[1][0] != '-') {
		if (!strcmp(argv[1], "server")) {
			o->cmd = CMD_SERVER;
		} else if (!strcmp(argv[1], "list")) {
			o->cmd = CMD_LIST;
		} else if (!strcmp(argv[1], "help")) {
			print_help(stdout);
			return WSC_EXIT_PASS;
		} else if (!strncmp(argv[1], "ws://", 5) || !strncmp(argv[1], "wss://", 6)) {
			return usage_error("unknown command '%s' (to test a server: " PROG
			                   " server %s)",
			                   argv[1], argv[1]);
		} else {
			return usage_error("unknown command '%s'", argv[1]);
		}
		first = 2;
	}

	/* getopt sees argv[first - 1] as its program name. */
	int gargc = argc - (first - 1);
	char **gargv = argv + (first - 1);
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(gargc, gargv, ":j:kqh", long_opts, NULL)) != -1) {
		unsigned long ul;
		switch (c) {
		case OPT_CASES:
			if (strlist_add_csv(&o->cases, optarg) < 0)
				goto oom;
			break;
		case OPT_EXCLUDE:
			if (strlist_add_csv(&o->exclude, optarg) < 0)
				goto oom;
			break;
		case OPT_CASE_FILE:
			if (!*optarg)
				return usage_error("--case-file: empty path");
			if (strlist_add(&o->case_files, optarg, strlen(optarg)) < 0)
				goto oom;
			break;
		case OPT_PROFILE:
			if (!strcmp(optarg, "rfc"))
				o->profile = WSC_PROFILE_RFC;
			else if (!strcmp(optarg, "autobahn"))
				o->profile = WSC_PROFILE_AUTOBAHN;
			else if (!strcmp(optarg, "hardened"))
				o->profile = WSC_PROFILE_HARDENED;
			else
				return usage_error(
				        "--profile: '%s' is not one of rfc, autobahn, hardened",
				        optarg);
			break;
		case OPT_STRICT:
			o->strict = true;
			run_option(o, "--strict");
			break;
		case 'j':
			if (!parse_uint(optarg, 1, 10000, &ul))
				return usage_error(
				        "-j/--jobs: '%s' is not a number from 1 to 10000", optarg);
			o->jobs = (unsigned)ul;
			run_option(o, "--jobs");
			break;
		case OPT_REPORT_DIR:
			if (!*optarg)
				return usage_error("--report-dir: empty path");
			o->report_dir = optarg;
			run_option(o, "--report-dir");
			break;
		case OPT_JUNIT:
			if (!*optarg)
				return usage_error("--junit: empty path");
			o->junit = optarg;
			run_option(o, "--junit");
			break;
		case OPT_MARKDOWN:
			if (!*optarg)
				return usage_error("--markdown: empty path");
			o->markdown = optarg;
			run_option(o, "--markdown");
			break;
		case OPT_NO_REPORT:
			o->no_report = true;
			run_option(o, "--no-report");
			break;
		case OPT_NO_ZCACHE:
			wsc_zcache_enable(false);
			run_option(o, "--no-compression-cache");
			break;
		case OPT_EXEC:
			if (!*optarg)
				return usage_error("--exec: empty command");
			if (o->exec)
				return usage_error("--exec given twice (one target per run)");
			o->exec = optarg;
			run_option(o, "--exec");
			break;
		case OPT_EXEC_TIMEOUT: {
			double s;
			if (!parse_double(optarg, 0.001, 3600, &s))
				return usage_error(
				        "--exec-timeout: '%s' is not a number of seconds "
				        "(0.001 to 3600)",
				        optarg);
			o->exec_timeout_ms = (unsigned)(s * 1000.0 + 0.5);
			if (o->exec_timeout_ms == 0)
				o->exec_timeout_ms = 1;
			run_option(o, "--exec-timeout");
			break;
		}
		case OPT_AGENT:
			if (!*optarg)
				return usage_error("--agent: empty name");
			if (strlist_add(&o->agents, optarg, strlen(optarg)) < 0)
				goto oom;
			run_option(o, "--agent");
			break;
		case 'k':
			o->insecure = true;
			run_option(o, "--insecure");
			break;
		case OPT_CACERT:
			if (access(optarg, R_OK) < 0)
				return usage_error("--cacert: cannot read %s: %s", optarg,
				                   strerror(errno));
			o->cacert = optarg;
			run_option(o, "--cacert");
			break;
		case OPT_ROUND_TRIPS: {
			unsigned long v;
			if (!parse_uint(optarg, 1, 100000000, &v))
				return usage_error(
				        "--round-trips: '%s' is not a count from 1 to 100000000",
				        optarg);
			o->round_trips = (uint32_t)v;
			run_option(o, "--round-trips");
			break;
		}
		case OPT_MAX_MESSAGE:
			if (!parse_uint(optarg, 1, 1ul << 40, &o->max_message))
				return usage_error("--max-message: '%s' is not a byte count from 1 "
				                   "to 2^40",
				                   optarg);
			run_option(o, "--max-message");
			break;
		case OPT_TIMEOUT_SCALE:
			if (!parse_double(optarg, 0.01, 100, &o->timeout_scale))
				return usage_error(
				        "--timeout-scale: '%s' is not a number from 0.01 to "
				        "100",
				        optarg);
			run_option(o, "--timeout-scale");
			break;
		case OPT_DUMP_WIRE:
			if (!*optarg)
				return usage_error("--dump-wire: empty path");
			o->dump_wire = optarg;
			run_option(o, "--dump-wire");
			break;
		case 'q':
			o->quiet = true;
			break;
		case OPT_NO_PROGRESS:
			o->no_progress = true;
			break;
		case OPT_COLOR:
			if (!strcmp(optarg, "auto"))
				o->color = COLOR_AUTO;
			else if (!strcmp(optarg, "always"))
				o->color = COLOR_ALWAYS;
			else if (!strcmp(optarg, "never"))
				o->color = COLOR_NEVER;
			else
				return usage_error(
				        "--color: '%s' is not one of auto, always, never", optarg);
			break;
		case OPT_JSON:
			if (o->cmd != CMD_LIST)
				return usage_error("--json is only for '" PROG " list'");
			o->json = true;
			break;
		case OPT_VERSION:
			printf(PROG " %s\n", version);
			return WSC_EXIT_PASS;
		case OPT_SHARD:
			if (wsc_shard_parse(optarg, &o->shard_i, &o->shard_n) < 0)
				return usage_error("--shard: '%s' is not I/N with 0 <= I < N",
				                   optarg);
			run_option(o, "--shard");
			break;
		case 'h':
			print_help(stdout);
			return WSC_EXIT_PASS;
		case ':': {
			const char *opt = gargv[optind - 1];
			if (optopt && optopt < 256)
				return usage_error("option '-%c' needs an argument", optopt);
			return usage_error("option '%s' needs an argument", opt);
		}
		case '?':
		default: {
			if (optopt && optopt < 256)
				return usage_error("unknown option '-%c'", optopt);
			return usage_error("unknown option '%s'", gargv[optind - 1]);
		}
		}
	}
	for (int i = optind; i < gargc; i++)
		if (strlist_add(&o->urls, gargv[i], strlen(gargv[i])) < 0)
			goto oom;

	switch (o->cmd) {
	case CMD_LIST:
		if (o->urls.n)
			return usage_error("list takes no URL ('%s')", o->urls.v[0]);
		if (o->seen_run_option)
			return usage_error("%s does not apply to list", o->run_option_name);
		break;
	case CMD_REFERENCE:
		if (o->urls.n)
			return usage_error("unexpected argument '%s' (to test a server: " PROG
			                   " server URL)",
			                   o->urls.v[0]);
		if (o->exec)
			return usage_error("--exec needs the server command ('" PROG
			                   " server URL --exec CMD')");
		if (o->agents.n > 1)
			return usage_error("%zu --agent names for 1 target", o->agents.n);
		break;
	case CMD_SERVER:
		if (!o->urls.n)
			return usage_error(
			        "server: missing URL (ws://host:port/path or wss://...)");
		if (o->agents.n > o->urls.n)
			return usage_error("%zu --agent names for %zu URLs", o->agents.n,
			                   o->urls.n);
		break;
	}
	return -1;
oom:
	errmsg("out of memory");
	return WSC_EXIT_UNTESTED;
}

static void options_free(struct options *o)
{
	strlist_free(&o->urls);
	strlist_free(&o->cases);
	strlist_free(&o->exclude);
	strlist_free(&o->case_files);
	strlist_free(&o->agents);
}

/* ---- catalog ------------------------------------------------------------ */

static int load_catalog(const struct options *o, struct wsc_catalog *cat)
{
	struct wsc_diag diag;
	memset(&diag, 0, sizeof diag);
	wsc_catalog_init(cat, o->profile);
	if (wsc_catalog_load_builtin(cat, &diag) < 0) {
		errmsg("built-in catalog: %s", diag.msg);
		return WSC_EXIT_USAGE;
	}
	for (size_t i = 0; i < o->case_files.n; i++) {
		memset(&diag, 0, sizeof diag);
		if (wsc_catalog_load_path(cat, o->case_files.v[i], &diag) < 0) {
			errmsg("%s", diag.msg[0] ? diag.msg : o->case_files.v[i]);
			return WSC_EXIT_USAGE;
		}
	}
	return -1;
}

static int select_cases(const struct options *o, const struct wsc_catalog *cat, unsigned side,
                        size_t **sel, size_t *n)
{
	char err[512] = "";
	if (wsc_select(cat, (const char *const *)o->cases.v, o->cases.n,
	               (const char *const *)o->exclude.v, o->exclude.n, side, sel, n, err,
	               sizeof err) < 0) {
		errmsg("%s", err[0] ? err : "case selection failed");
		return WSC_EXIT_USAGE;
	}
	if (*n == 0) {
		free(*sel);
		*sel = NULL;
		errmsg("no case selected");
		return WSC_EXIT_USAGE;
	}
	return -1;
}

/* ---- list --------------------------------------------------------------- */

static int cmd_list(const struct options *o)
{
	struct wsc_catalog cat;
	int rc = load_catalog(o, &cat);
	size_t *sel = NULL, n = 0;
	if (rc < 0)
		rc = select_cases(o, &cat, WSC_SIDE_SERVER | WSC_SIDE_CLIENT, &sel, &n);
	if (rc >= 0) {
		wsc_catalog_free(&cat);
		return rc;
	}
	if (o->json) {
		fputs("[", stdout);
		for (size_t i = 0; i < n; i++) {
			const struct wsc_case *c = &cat.cases[sel[i]];
			fputs(i ? ",\n  {" : "\n  {", stdout);
			fputs("\"id\": ", stdout);
			put_json_str(stdout, c->id);
			fputs(", \"title\": ", stdout);
			put_json_str(stdout, c->title);
			fputs(", \"rfc\": ", stdout);
			put_json_str(stdout, c->rfc);
			fputs(", \"level\": ", stdout);
			put_json_str(stdout, wsc_level_name(c->level));
			fputs(", \"side\": ", stdout);
			put_json_str(stdout, wsc_side_name(c->side));
			fputs(", \"category\": ", stdout);
			put_json_str(stdout, wsc_category_name(&cat, c->id));
			fputs(", \"description\": ", stdout);
			put_json_str(stdout, c->desc);
			fputs(", \"expectation\": ", stdout);
			put_json_str(stdout, c->expectation);
			fputs(", \"informational\": ", stdout);
			fputs(c->informational ? "true" : "false", stdout);
			fprintf(stdout, ", \"timeout_ms\": %u", (unsigned)c->timeout_ms);
			fputs(", \"file\": ", stdout);
			put_json_str(stdout, c->file);
			fprintf(stdout, ", \"line\": %d}", c->line);
		}
		fputs(n ? "\n]\n" : "]\n", stdout);
	} else {
		int wid = 2, wrfc = 3;
		for (size_t i = 0; i < n; i++) {
			const struct wsc_case *c = &cat.cases[sel[i]];
			int a = (int)strlen(c->id), b = (int)strlen(c->rfc ? c->rfc : "");
			wid = a > wid ? a : wid;
			wrfc = b > wrfc ? b : wrfc;
		}
		for (size_t i = 0; i < n; i++) {
			const struct wsc_case *c = &cat.cases[sel[i]];
			printf("%-*s  %-6s  %-6s  %-*s  ", wid, c->id, wsc_level_name(c->level),
			       wsc_side_name(c->side), wrfc, c->rfc ? c->rfc : "");
			put_plain(stdout, c->title ? c->title : "");
			fputc('\n', stdout);
		}
	}
	free(sel);
	wsc_catalog_free(&cat);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		errmsg("writing the list: %s", strerror(errno));
		return WSC_EXIT_UNTESTED;
	}
	return WSC_EXIT_PASS;
}

/* ---- signals ------------------------------------------------------------ */

static volatile sig_atomic_t g_signal;

static void on_signal(int sig)
{
	if (g_signal) {
		/* Second signal: no more patience. Take the target down with us. */
		wsc_target_emergency_kill();
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	g_signal = sig;
}

static void install_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* ---- the run ------------------------------------------------------------ */

struct run_ctx {
	const struct options *o;
	struct wsc_target *target; /* NULL: nothing to watch */
	bool target_failed;        /* the target ended or a sanitizer spoke */
	bool interrupted;
	bool watchdog;
	uint64_t deadline_ms; /* monotonic watchdog for this agent */
	/* progress */
	bool progress;
	const char *agent;
	size_t fails;
	uint64_t last_draw_ms;
	bool drawn;
};

/* The target's resident memory in KiB (-1: the harness did not start the peer). */
static int64_t peer_rss_kib(void *vctx)
{
	struct run_ctx *x = vctx;
	return x->target ? wsc_target_rss_kib(x->target) : -1;
}

static bool keep_going(void *vctx)
{
	struct run_ctx *x = vctx;
	if (g_signal) {
		x->interrupted = true;
		return false;
	}
	if (x->target && !wsc_target_poll(x->target)) {
		x->target_failed = true;
		return false;
	}
	if (x->deadline_ms && mono_ms() > x->deadline_ms) {
		x->watchdog = true;
		return false;
	}
	return true;
}

static void draw_progress(struct run_ctx *x, const char *id, size_t done, size_t total)
{
	enum { W = 30 };
	size_t fill = total ? done * W / total : W;
	char bar[W + 1];
	for (size_t i = 0; i < W; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[W] = '\0';
	fprintf(stderr, "\r\033[K%s%s[%s] %zu/%zu  %zu failed  %s", x->agent ? x->agent : "",
	        x->agent ? " " : "", bar, done, total, x->fails, id ? id : "");
	fflush(stderr);
	x->drawn = true;
}

static void on_result(void *vctx, const struct wsc_result *r, size_t done, size_t total)
{
	struct run_ctx *x = vctx;
	if (r->ran && !wsc_result_passed(r, x->o->strict) && !wsc_result_skipped(r))
		x->fails++;
	if (!x->progress)
		return;
	uint64_t now = mono_ms();
	if (done != total && now - x->last_draw_ms < 50)
		return;
	x->last_draw_ms = now;
	draw_progress(x, r->c ? r->c->id : "", done, total);
}

static void clear_progress(struct run_ctx *x)
{
	if (x->drawn) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
		x->drawn = false;
	}
}

static int cmp_position(const void *a, const void *b)
{
	const struct wsc_result *x = a, *y = b;
	return x->position < y->position ? -1 : x->position > y->position;
}

/*
 * Make sure the agent's slice run->results[start..] holds one result per
 * selected case, in selection order: cases the engine did not get to are
 * added as not run (could not test).
 */
static int complete_agent(struct wsc_run *run, size_t start, const struct wsc_catalog *cat,
                          const size_t *sel, size_t n, const char *agent, const char *why)
{
	bool *have = calloc(n ? n : 1, sizeof *have);
	if (!have)
		return -1;
	for (size_t i = start; i < run->n_results; i++) {
		size_t p = run->results[i].position;
		if (p >= 1 && p <= n)
			have[p - 1] = true;
	}
	for (size_t i = 0; i < n; i++) {
		if (have[i])
			continue;
		struct wsc_result r;
		wsc_result_init(&r, &cat->cases[sel[i]], agent, i + 1, false);
		r.ran = false;
		r.obs.handshake_error = strdup(why);
		wsc_judge(&r, cat->profile);
		if (wsc_run_add(run, &r) < 0) {
			wsc_result_free(&r);
			free(have);
			return -1;
		}
	}
	free(have);
	qsort(run->results + start, run->n_results - start, sizeof *run->results, cmp_position);
	return 0;
}

/* Where wsref-echo lives: beside us, in the meson build tree, or on $PATH. */
static bool find_reference(char *out, size_t cap)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n > 0) {
		self[n] = '\0';
		char *slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			if ((size_t)snprintf(out, cap, "%s/wsref-echo", self) < cap &&
			    access(out, X_OK) == 0)
				return true;
			if ((size_t)snprintf(out, cap, "%s/../reference/wsref-echo", self) < cap &&
			    access(out, X_OK) == 0)
				return true;
		}
	}
	const char *path = getenv("PATH");
	while (path && *path) {
		const char *e = strchr(path, ':');
		size_t len = e ? (size_t)(e - path) : strlen(path);
		if (len > 0 && len < cap) {
			snprintf(out, cap, "%.*s/wsref-echo", (int)len, path);
			if (access(out, X_OK) == 0)
				return true;
		}
		if (!e)
			break;
		path = e + 1;
	}
	return false;
}

/* The authority of a URL as written ("127.0.0.1:{port}"), for an agent name. */
static char *authority_of(const char *url)
{
	const char *p = strstr(url, "://");
	p = p ? p + 3 : url;
	size_t n = strcspn(p, "/?#");
	return strndup(p, n);
}

static void print_stderr_tail(const struct wsc_target *t)
{
	char tail[2049];
	wsc_target_stderr_tail(t, tail, sizeof tail, 2048);
	if (!tail[0])
		return;
	fputs("--- target stderr (last lines) ---\n", stderr);
	fputs(tail, stderr);
	if (tail[strlen(tail) - 1] != '\n')
		fputc('\n', stderr);
	fputs("---\n", stderr);
}

/*
 * After a run: is the target still well? A healthy server still accepts
 * connections. One that does not is dying (or dead): give it up to 2 s to
 * finish, so that a crash during the last cases is reported as a crash and
 * not mistaken for the exit our own SIGTERM causes. Returns false if the
 * target has failed.
 */
static bool settle_target(struct wsc_target *t, const struct wsc_url *u)
{
	if (!wsc_target_poll(t))
		return false;
	char err[256];
	if (wsc_tcp_probe(u->host, u->port, 200, err, sizeof err) == 1)
		return wsc_target_poll(t);
	uint64_t deadline = mono_ms() + 2000;
	while (wsc_target_poll(t) && !g_signal && mono_ms() < deadline)
		wsc_target_wait(t, 20);
	return !wsc_target_failed(t);
}

/*
 * $GITHUB_STEP_SUMMARY is shared by everything a step runs, so the summary
 * is appended to it: rendered into a temporary file, then copied.
 */
static int append_markdown(const struct wsc_run *run, const char *path, char *err, size_t errlen)
{
	const char *dir = getenv("TMPDIR");
	char tmp[PATH_MAX];
	if ((size_t)snprintf(tmp, sizeof tmp, "%s/wsconform-md-XXXXXX",
	                     dir && *dir ? dir : "/tmp") >= sizeof tmp) {
		snprintf(err, errlen, "TMPDIR too long");
		return -1;
	}
	int fd = mkstemp(tmp);
	if (fd < 0) {
		snprintf(err, errlen, "%.300s: %s", tmp, strerror(errno));
		return -1;
	}
	close(fd);
	int rc = wsc_report_markdown(run, tmp, err, errlen);
	FILE *in = rc == 0 ? fopen(tmp, "rb") : NULL;
	FILE *out = in ? fopen(path, "ab") : NULL;
	if (rc == 0 && (!in || !out)) {
		snprintf(err, errlen, "%.300s: %s", in ? path : tmp, strerror(errno));
		rc = -1;
	}
	if (in && out) {
		char buf[8192];
		size_t n;
		while ((n = fread(buf, 1, sizeof buf, in)) > 0)
			if (fwrite(buf, 1, n, out) != n)
				break;
		if (ferror(in) || ferror(out)) {
			snprintf(err, errlen, "%s: write failed", path);
			rc = -1;
		}
	}
	if (out && fclose(out) != 0 && rc == 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		rc = -1;
	}
	if (in)
		fclose(in);
	unlink(tmp);
	return rc;
}

/*
 * The engine marks the cases it cut short as "target crashed". When the run
 * stopped for another reason (Ctrl-C, watchdog, a clean exit of the target),
 * say so instead: those cases did not run to their end, they are could-not-test.
 */
static void relabel_stopped(struct wsc_run *run, enum wsc_profile profile, const char *why)
{
	for (size_t i = 0; i < run->n_results; i++) {
		struct wsc_result *r = &run->results[i];
		if (!r->obs.target_crashed)
			continue;
		r->obs.target_crashed = false;
		r->ran = false;
		free(r->obs.handshake_error);
		r->obs.handshake_error = strdup(why);
		wsc_judge(r, profile);
	}
}

/*
 * The target crashed: the cases whose connection it dropped just before it
 * was found dead (obs.crash_suspect, see sched.c) are the likely culprits;
 * they fail as crashed even if the drop itself looked like a valid reaction.
 */
static void blame_suspects(struct wsc_run *run, enum wsc_profile profile)
{
	for (size_t i = 0; i < run->n_results; i++) {
		struct wsc_result *r = &run->results[i];
		if (!r->obs.crash_suspect || r->obs.target_crashed || !r->ran)
			continue;
		r->obs.target_crashed = true;
		const struct wsc_observation *o = &r->obs;
		wsc_obs_note(
		        &r->obs, o->n_wire ? o->wire[o->n_wire - 1].t_us : 0,
		        "THE TARGET CRASHED: ITS DEATH WAS NOTICED %.3f s AFTER IT DROPPED THIS "
		        "CONNECTION",
		        (double)r->obs.crash_suspect_us / 1e6);
		wsc_judge(r, profile);
	}
}

struct agent_plan {
	char *url;   /* substituted URL (owned) */
	char *agent; /* report name (owned) */
	struct wsc_url parsed;
};

static int cmd_run(struct options *o, const char *version)
{
	int rc = -1;
	struct wsc_catalog cat;
	memset(&cat, 0, sizeof cat);
	size_t *sel = NULL, n = 0;
	struct agent_plan *plans = NULL;
	size_t n_plans = 0;
	char *cmdline = NULL;
	char *log_path = NULL;
	struct wsc_target target;
	memset(&target, 0, sizeof target);
	target.out_fd = target.err_fd = target.log_fd = -1;
	bool have_target = false;
	struct wsc_run run;
	memset(&run, 0, sizeof run);
	char err[1024] = "";
	char port_str[16] = "";

	rc = load_catalog(o, &cat);
	if (rc >= 0)
		goto out;
	rc = select_cases(o, &cat, WSC_SIDE_SERVER, &sel, &n);
	if (rc >= 0)
		goto out;
	if (o->shard_n && (n = wsc_shard_filter(sel, n, o->shard_i, o->shard_n)) == 0) {
		errmsg("shard %u/%u selects no case", o->shard_i, o->shard_n);
		rc = WSC_EXIT_USAGE;
		goto out;
	}

	/* URLs and agents: everything checked before anything starts. */
	bool want_port = false;
	if (o->cmd == CMD_SERVER) {
		n_plans = o->urls.n;
		plans = calloc(n_plans, sizeof *plans);
		if (!plans) {
			errmsg("out of memory");
			rc = WSC_EXIT_UNTESTED;
			goto out;
		}
		for (size_t i = 0; i < n_plans; i++)
			if (strstr(o->urls.v[i], "{port}"))
				want_port = true;
		if (want_port && !o->exec) {
			rc = usage_error("{port} in a URL needs --exec (the port is picked for the "
			                 "command)");
			goto out;
		}
		for (size_t i = 0; i < n_plans; i++) {
			/* Check the shape with a stand-in port first. */
			char *probe = subst(o->urls.v[i], "{port}", "1");
			if (!probe) {
				errmsg("out of memory");
				rc = WSC_EXIT_UNTESTED;
				goto out;
			}
			int bad = wsc_url_parse(probe, &plans[i].parsed, err, sizeof err);
			free(probe);
			if (bad < 0) {
				rc = usage_error(
				        "bad URL '%s': %s", o->urls.v[i],
				        err[0] ? err
				               : "expected ws://host[:port][/path] or wss://...");
				goto out;
			}
			plans[i].agent = i < o->agents.n ? strdup(o->agents.v[i])
			                                 : authority_of(o->urls.v[i]);
			if (!plans[i].agent) {
				errmsg("out of memory");
				rc = WSC_EXIT_UNTESTED;
				goto out;
			}
		}
		if (want_port) {
			unsigned p = wsc_free_port(plans[0].parsed.host);
			if (!p) {
				errmsg("cannot find a free port on %s", plans[0].parsed.host);
				rc = WSC_EXIT_UNTESTED;
				goto out;
			}
			snprintf(port_str, sizeof port_str, "%u", p);
		}
		for (size_t i = 0; i < n_plans; i++) {
			plans[i].url =
			        subst(o->urls.v[i], "{port}", port_str[0] ? port_str : "{port}");
			if (!plans[i].url) {
				errmsg("out of memory");
				rc = WSC_EXIT_UNTESTED;
				goto out;
			}
			if (wsc_url_parse(plans[i].url, &plans[i].parsed, err, sizeof err) < 0) {
				rc = usage_error("bad URL '%s': %s", plans[i].url, err);
				goto out;
			}
		}
		if (o->exec && !port_str[0])
			snprintf(port_str, sizeof port_str, "%s", plans[0].parsed.port);
	}

	/* Output locations. */
	if (!o->no_report) {
		if (wsc_mkdir_p(o->report_dir) < 0 || access(o->report_dir, W_OK) < 0) {
			errmsg("report directory %s: %s", o->report_dir, strerror(errno));
			rc = WSC_EXIT_USAGE;
			goto out;
		}
	}
	if (o->dump_wire && wsc_mkdir_p(o->dump_wire) < 0) {
		errmsg("--dump-wire %s: %s", o->dump_wire, strerror(errno));
		rc = WSC_EXIT_USAGE;
		goto out;
	}

	install_signals();

	/* The target. */
	if (!o->no_report) {
		size_t len = strlen(o->report_dir) + sizeof "/target-stderr.log";
		log_path = malloc(len);
		if (!log_path) {
			errmsg("out of memory");
			rc = WSC_EXIT_UNTESTED;
			goto out;
		}
		snprintf(log_path, len, "%s/target-stderr.log", o->report_dir);
	}
	if (o->cmd == CMD_REFERENCE) {
		char ref[PATH_MAX];
		if (!find_reference(ref, sizeof ref)) {
			errmsg("cannot find wsref-echo (looked beside " PROG
			       ", in ../reference/ and on $PATH)");
			rc = WSC_EXIT_UNTESTED;
			goto out;
		}
		char mm[32];
		snprintf(mm, sizeof mm, "%lu", o->max_message);
		/* --threads 0: one worker per CPU, so the compression cases are not
		 * bounded by one server core. */
		char *argv_ref[] = {
		        ref,         "--port",    "0", "--host",
		        "127.0.0.1", "--threads", "0", o->max_message ? "--max-message" : NULL,
		        mm,          NULL};
		if (wsc_target_spawn(&target, argv_ref, NULL, log_path, err, sizeof err) < 0) {
			errmsg("%s", err);
			rc = WSC_EXIT_UNTESTED;
			goto out;
		}
		have_target = true;
		uint64_t deadline = mono_ms() + o->exec_timeout_ms;
		while (!target.first_done && !wsc_target_failed(&target) && !g_signal &&
		       mono_ms() < deadline)
			wsc_target_wait(&target, 20);
		unsigned long port = 0;
		if (!target.first_done || !parse_uint(target.first_line, 1, 65535, &port)) {
			char why[256];
			if (g_signal)
				snprintf(why, sizeof why, "interrupted");
			else if (wsc_target_failed(&target))
				wsc_target_describe(&target, why, sizeof why);
			else if (!target.first_done)
				snprintf(why, sizeof why, "printed no port within %u ms",
				         o->exec_timeout_ms);
			else
				snprintf(why, sizeof why, "printed '%.200s' instead of a port",
				         target.first_line);
			errmsg("reference server %s: %s", ref, why);
			print_stderr_tail(&target);
			rc = WSC_EXIT_UNTESTED;
			goto out;
		}
		n_plans = 1;
		plans = calloc(1, sizeof *plans);
		char url[64];
		snprintf(url, sizeof url, "ws://127.0.0.1:%lu/", port);
		if (plans) {
			plans[0].url = strdup(url);
			plans[0].agent = strdup(o->agents.n ? o->agents.v[0] : "wsref-echo");
		}
		if (!plans || !plans[0].url || !plans[0].agent) {
			errmsg("out of memory");
			rc = WSC_EXIT_UNTESTED;
			goto out;
		}
		if (wsc_url_parse(plans[0].url, &plans[0].parsed, err, sizeof err) < 0) {
			errmsg("internal: %s", err);
			rc = WSC_EXIT_UNTESTED;
			goto out;
		}
	} else if (o->exec) {
		/* Something already there would be tested instead of our target. */
		if (wsc_tcp_probe(plans[0].parsed.host, port_str, 200, err, sizeof err) == 1) {
			errmsg("%s:%s already accepts connections before --exec started anything; "
			       "stop it or use {port}",
			       plans[0].parsed.host, port_str);
			rc = WSC_EXIT_UNTESTED;
			goto out;
		}
		char *tmp = subst(o->exec, "{port}", port_str);
		cmdline = tmp ? subst(tmp, "{url}", plans[0].url) : NULL;
		free(tmp);
		if (!cmdline) {
			errmsg("out of memory");
			rc = WSC_EXIT_UNTESTED;
			goto out;
		}
		if (wsc_target_spawn(&target, NULL, cmdline, log_path, err, sizeof err) < 0) {
			errmsg("--exec: %s", err);
			rc = WSC_EXIT_UNTESTED;
			goto out;
		}
		have_target = true;
		uint64_t deadline = mono_ms() + o->exec_timeout_ms;
		int up = 0;
		for (;;) {
			if (!wsc_target_poll(&target) || g_signal)
				break;
			up = wsc_tcp_probe(plans[0].parsed.host, port_str, 20, err, sizeof err);
			if (up != 0 || mono_ms() >= deadline)
				break;
			wsc_target_wait(&target, 20);
		}
		if (up != 1) {
			char why[512];
			if (g_signal)
				snprintf(why, sizeof why,
				         "interrupted while waiting for it to listen");
			else if (up < 0)
				snprintf(why, sizeof why, "%.400s", err);
			else if (wsc_target_failed(&target)) {
				char d[256];
				wsc_target_describe(&target, d, sizeof d);
				snprintf(why, sizeof why,
				         "the command %.250s before listening on %.200s:%s", d,
				         plans[0].parsed.host, port_str);
			} else
				snprintf(why, sizeof why,
				         "nothing listened on %s:%s within %u ms (--exec-timeout)",
				         plans[0].parsed.host, port_str, o->exec_timeout_ms);
			errmsg("--exec: %s", why);
			print_stderr_tail(&target);
			rc = WSC_EXIT_UNTESTED;
			goto out;
		}
	}

	/* The run: one engine pass per agent. */
	run.cat = &cat;
	run.profile = o->profile;
	run.strict = o->strict;
	run.round_trip_cap = o->round_trips;
	run.tool_version = version;
	run.started_unix_ms = unix_ms();
	uint64_t t0 = mono_ms();

	uint64_t budget = 0, longest = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t t = cat.cases[sel[i]].timeout_ms ? cat.cases[sel[i]].timeout_ms : 10000;
		budget += t;
		longest = t > longest ? t : longest;
	}

	bool tty = isatty(STDERR_FILENO);
	bool color = o->color == COLOR_ALWAYS ||
	             (o->color == COLOR_AUTO && isatty(STDOUT_FILENO) && !getenv("NO_COLOR"));
	bool any_ran = false, untested = false, interrupted = false, target_down = false;
	bool watchdog = false;
	for (size_t a = 0; a < n_plans; a++) {
		struct run_ctx x;
		memset(&x, 0, sizeof x);
		x.o = o;
		x.target = have_target ? &target : NULL;
		x.progress = tty && !o->quiet && !o->no_progress;
		x.agent = n_plans > 1 ? plans[a].agent : NULL;
		x.deadline_ms =
		        mono_ms() +
		        (uint64_t)((double)(budget / o->jobs + longest) * o->timeout_scale) + 30000;
		size_t start = run.n_results;
		char not_run_why[600] = "";

		if (g_signal || target_down) {
			interrupted = interrupted || g_signal;
		} else if (!have_target && wsc_tcp_probe(plans[a].parsed.host, plans[a].parsed.port,
		                                         3000, err, sizeof err) != 1) {
			errmsg("cannot connect to %s:%s%s%s", plans[a].parsed.host,
			       plans[a].parsed.port, err[0] ? ": " : "", err);
			untested = true;
			snprintf(not_run_why, sizeof not_run_why,
			         "could not connect to %.256s:%s%s%.300s", plans[a].parsed.host,
			         plans[a].parsed.port, err[0] ? ": " : "", err);
			err[0] = '\0';
		} else {
			struct wsc_engine_opts eo;
			memset(&eo, 0, sizeof eo);
			eo.url = plans[a].parsed;
			eo.agent = plans[a].agent;
			eo.profile = o->profile;
			eo.jobs = o->jobs;
			eo.tls_insecure = o->insecure;
			eo.tls_cacert = o->cacert;
			eo.timeout_scale = o->timeout_scale;
			eo.peer_max_message = o->max_message;
			eo.round_trip_cap = o->round_trips;
			eo.dump_dir = o->dump_wire;
			eo.keep_going = keep_going;
			eo.peer_rss_kib = peer_rss_kib;
			eo.ctx = &x;
			eo.on_result = on_result;
			if (x.progress)
				draw_progress(&x, "", 0, n);
			err[0] = '\0';
			int erc = wsc_engine_run(&eo, &cat, sel, n, &run, err, sizeof err);
			clear_progress(&x);
			any_ran = true;
			if (erc < 0) {
				errmsg("%s: engine error: %s", plans[a].agent,
				       err[0] ? err : "unknown");
				untested = true;
			} else if (erc == 3) {
				errmsg("%s: could not reach %s", plans[a].agent, plans[a].url);
				untested = true;
			}
			/* A crash near the end may show only now. */
			if (have_target && !x.target_failed && !g_signal &&
			    !settle_target(&target, &plans[a].parsed))
				x.target_failed = true;
			if (x.target_failed)
				target_down = true;
			if (x.interrupted)
				interrupted = true;
			if (x.watchdog) {
				errmsg("%s: the run exceeded its time budget; stopped",
				       plans[a].agent);
				watchdog = true;
			}
		}
		if (complete_agent(&run, start, &cat, sel, n, plans[a].agent,
		                   not_run_why[0] ? not_run_why
		                                  : "the run stopped before this case") < 0) {
			errmsg("out of memory");
			rc = WSC_EXIT_UNTESTED;
			goto out;
		}
	}
	if (g_signal)
		interrupted = true;

	/*
	 * Whether the target crashed is decided here, from the process itself:
	 * the engine only knows that the run was told to stop.
	 */
	run.target_crashed = false;
	free(run.target_crash_text);
	run.target_crash_text = NULL;
	if (!have_target && (interrupted || watchdog))
		relabel_stopped(&run, o->profile,
		                interrupted ? "the run was interrupted"
		                            : "the run exceeded its time budget");

	/* Stop the target; a crash while stopping still counts (e.g. LeakSanitizer). */
	if (have_target) {
		wsc_target_stop(&target, 2000);
		if (!wsc_target_crashed(&target))
			relabel_stopped(&run, o->profile,
			                interrupted ? "the run was interrupted"
			                : watchdog  ? "the run exceeded its time budget"
			                            : "the target under test exited");
		if (wsc_target_crashed(&target)) {
			char d[600];
			wsc_target_describe(&target, d, sizeof d);
			blame_suspects(&run, o->profile);
			run.target_crashed = true;
			run.target_crash_text = strdup(d);
			errmsg("target crashed: %s", d);
			print_stderr_tail(&target);
		} else if (target_down) {
			char d[256];
			wsc_target_describe(&target, d, sizeof d);
			errmsg("target %s during the run", d);
			print_stderr_tail(&target);
			untested = true;
		}
	}
	run.duration_ms = (uint32_t)(mono_ms() - t0);

	/* Reports: written whenever a run started, partial or not. */
	bool report_failed = false;
	if (any_ran) {
		if (!o->no_report) {
			if (wsc_report_json(&run, o->report_dir, err, sizeof err) < 0) {
				errmsg("writing JSON report: %s", err);
				report_failed = true;
			}
			if (wsc_report_html(&run, o->report_dir, err, sizeof err) < 0) {
				errmsg("writing HTML report: %s", err);
				report_failed = true;
			}
		}
		if (o->junit && wsc_report_junit(&run, o->junit, err, sizeof err) < 0) {
			errmsg("writing JUnit report: %s", err);
			report_failed = true;
		}
		if (o->markdown && wsc_report_markdown(&run, o->markdown, err, sizeof err) < 0) {
			errmsg("writing Markdown summary: %s", err);
			report_failed = true;
		}
		const char *gh = getenv("GITHUB_STEP_SUMMARY");
		if (!o->markdown && gh && *gh && append_markdown(&run, gh, err, sizeof err) < 0) {
			errmsg("writing $GITHUB_STEP_SUMMARY: %s", err);
			report_failed = true;
		}
		if (!o->quiet) {
			fflush(stderr);
			wsc_report_text(&run, stdout, color);
			if (!o->no_report)
				printf("Reports: %s/index.html\n", o->report_dir);
			fflush(stdout);
		}
	}

	/* The exit code. */
	bool failed = false;
	for (size_t i = 0; i < run.n_results; i++) {
		const struct wsc_result *r = &run.results[i];
		if (!r->ran)
			untested = true;
		else if (!wsc_result_skipped(r) && !wsc_result_passed(r, o->strict))
			failed = true;
	}
	if (interrupted)
		errmsg("interrupted%s", any_ran && !o->no_report ? "; partial report written" : "");
	if (run.target_crashed)
		rc = WSC_EXIT_CRASH;
	else if (untested || interrupted || watchdog || report_failed)
		rc = WSC_EXIT_UNTESTED;
	else if (failed)
		rc = WSC_EXIT_FAIL;
	else
		rc = WSC_EXIT_PASS;

out:
	if (have_target) {
		wsc_target_stop(&target, 2000);
		wsc_target_free(&target);
	}
	wsc_run_free(&run);
	for (size_t i = 0; i < n_plans && plans; i++) {
		free(plans[i].url);
		free(plans[i].agent);
	}
	free(plans);
	free(cmdline);
	free(log_path);
	free(sel);
	wsc_catalog_free(&cat);
	return rc;
}

int wsc_cli_main(int argc, char **argv, const char *version)
{
	if (argc > 1 && !strcmp(argv[1], "client"))
		return wsc_serve_main(argc, argv, version);
	if (argc > 1 && !strcmp(argv[1], "report"))
		return wsc_report_main(argc, argv);
	if (argc > 1 && !strcmp(argv[1], "fuzz"))
		return wsc_fuzz_main(argc - 1, argv + 1);
	for (int i = 1; i < argc && argv[1][0] == '-'; i++)
		if (!strcmp(argv[i], "--spec") || !strncmp(argv[i], "--spec=", 7))
			return wsc_spec_main(argc, argv, version);
	struct options o;
	int rc = parse_args(argc, argv, &o, version);
	if (rc < 0)
		rc = o.cmd == CMD_LIST ? cmd_list(&o) : cmd_run(&o, version);
	options_free(&o);
	return rc;
}
