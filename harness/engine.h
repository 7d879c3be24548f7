/*
 * engine.h - runs selected cases against one peer, many at once on one
 * event loop, and fills a wsc_run with judged results.
 *
 * The engine owns sockets, timers, the wire codec and the step VM. It knows
 * nothing about command lines, processes under test or report files: cli.c
 * does those and calls wsc_engine_run() once per agent.
 */
#ifndef WSC_ENGINE_H
#define WSC_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "case.h"
#include "result.h"

struct wsc_url {
	bool tls;           /* wss:// */
	char host[256];     /* as written (no brackets for IPv6) */
	char port[8];       /* "80"/"443" when absent */
	char path[1024];    /* request target, "/" when absent; includes ?query */
	char hostport[300]; /* Host header value */
};

/* Parse ws:// or wss:// URLs. Returns 0, or -1 with err filled. */
int wsc_url_parse(const char *url, struct wsc_url *out, char *err, size_t errlen);

struct wsc_engine_opts {
	struct wsc_url url;
	const char *agent; /* report column name */
	enum wsc_profile profile;
	unsigned jobs;          /* concurrent connections (>= 1) */
	bool tls_insecure;      /* -k: do not verify the certificate */
	const char *tls_cacert; /* PEM file to verify against, or NULL for system trust */
	double timeout_scale;   /* multiplies every case deadline (1.0) */
	const char *dump_dir; /* if set: write each case's TX bytes to DIR/<id>.bin (fuzz seeds) */

	/*
	 * Called often (at least every 50 ms) from the loop. Return false to
	 * stop: cases in flight end with obs.target_crashed = true (the caller
	 * decided the target died) and are judged as they stand.
	 */
	bool (*keep_going)(void *ctx);
	void *ctx;
	/* Called after each case is judged (progress display). May be NULL. */
	void (*on_result)(void *ctx, const struct wsc_result *r, size_t done, size_t total);
	/* The peer's declared message limit (--max-message), 0: not declared. */
	uint64_t peer_max_message;
	/*
	 * The peer's resident memory in KiB, or -1 when unknown (the caller did
	 * not start it). Sampled every 20 ms while a `watch-memory` case runs.
	 * May be NULL.
	 */
	int64_t (*peer_rss_kib)(void *ctx);
	/* --round-trips: at most this many messages per round-trip step; 0: as written. */
	uint32_t round_trip_cap;
};

/*
 * Run cases sel[0..n) of cat against opts->url, appending one judged result
 * per case to run (in selection order, whatever order they finished in).
 * Returns 0 when every case ran; 3 when the peer could not be reached at all
 * (connection refused/timeout on every attempt: results are added with
 * ran = false); -1 on an internal error (err filled). Never blocks forever:
 * every case has a hard deadline.
 */
int wsc_engine_run(const struct wsc_engine_opts *opts, const struct wsc_catalog *cat,
                   const size_t *sel, size_t n, struct wsc_run *run, char *err, size_t errlen);

#endif
