/*
 * serve.h - the server-role engine: wsconform plays the WebSocket server and
 * tests clients through Autobahn's fuzzingserver URL protocol
 * (docs/client-mode.md).
 *
 * One thread, one poll loop: a listening socket (plus an optional web-page
 * port), the meta endpoints (/getCaseCount, /getCaseInfo, /getCaseStatus,
 * /updateReports, /stopServer), one step VM per /runCase connection (any
 * number at once), a per-agent result store and the Autobahn-layout report.
 */
#ifndef WSC_SERVE_H
#define WSC_SERVE_H

#include <stdbool.h>
#include <stddef.h>

#include "case.h"

struct wsc_serve_config {
	const char *listen_host; /* "127.0.0.1", "0.0.0.0", "::" */
	unsigned listen_port;    /* 0: the kernel picks one (printed) */
	unsigned web_port;       /* 0: the browser page is served on the listen port only */
	const char *report_dir;  /* NULL: no report directory */
	const char *junit;       /* NULL: no JUnit file */
	const char *exec;        /* client command ({url} replaced), or NULL */
	enum wsc_profile profile;
	bool strict, quiet;
	double timeout_scale; /* 1.0 */
	const struct wsc_catalog *cat;
	const size_t *sel; /* selected case indexes into cat->cases (natural order) */
	size_t n_sel;
	/* exclude-agent-cases: agent pattern i excludes case pattern i (Autobahn globs, ^...$) */
	const char *const *xa_agent;
	const char *const *xa_case;
	size_t n_xa;
	const char *version;
};

/*
 * Serve until the client under test (--exec) exits, /stopServer,
 * /updateReports?...&shutdownOnComplete=true, or SIGINT/SIGTERM. Returns the
 * exit status (cli.h: 0 pass, 1 failures, 3 could not test, 4 the client
 * crashed). Every borrowed pointer in cfg must outlive the call.
 */
int wsc_serve_run(const struct wsc_serve_config *cfg);

/* `wsconform client ...` (argv[1] == "client"). Returns the exit status. */
int wsc_serve_main(int argc, char **argv, const char *version);

/* Autobahn's exclude-agent-cases match: `*` any run, everything else literal, anchored both ends.
 */
bool wsc_glob_full(const char *pattern, const char *s);

/* Parse HOST:PORT or [V6]:PORT (":PORT" alone means 0.0.0.0). Returns 0 or -1. */
int wsc_parse_hostport(const char *s, char *host, size_t hcap, unsigned *port);

/* The browser page (webpage.c): HTML with "{{WSPORT}}" where the WebSocket port goes. */
extern const char wsc_webpage_html[];

#endif
