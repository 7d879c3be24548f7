/*
 * sched.c - the engine entry point (engine.h): one thread, one poll loop,
 * `jobs` cases in flight, each a wsc_vm with its own absolute deadlines.
 *
 * Results are kept in a slot per selected case and appended to the run in
 * selection order as soon as every earlier case has finished, whatever order
 * the cases finish in.
 *
 * Until one connection has reached the peer, only one case runs at a time
 * (so an unreachable peer costs one case's connect retries, not `jobs`); if
 * the first cases can never connect, every case is reported with ran = false
 * and the engine returns 3.
 */
#include "engine.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "net.h"
#include "util.h"
#include "vm.h"

/* ------------------------------------------------------------- URL */

int wsc_url_parse(const char *url, struct wsc_url *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	const char *p;
	if (strncmp(url, "ws://", 5) == 0) {
		p = url + 5;
	} else if (strncmp(url, "wss://", 6) == 0) {
		p = url + 6;
		out->tls = true;
	} else {
		snprintf(err, errlen, "URL must start with ws:// or wss://: %s", url);
		return -1;
	}
	const char *auth_end = p + strcspn(p, "/?#");
	if (*auth_end == '#' || strchr(p, '#')) {
		snprintf(err, errlen, "URL must not have a fragment: %s", url);
		return -1;
	}
	if (memchr(p, '@', (size_t)(auth_end - p))) {
		snprintf(err, errlen, "URL must not carry user information: %s", url);
		return -1;
	}
	const char *host = p, *host_end, *port = NULL;
	bool v6 = false;
	if (*p == '[') {
		host = p + 1;
		host_end = memchr(host, ']', (size_t)(auth_end - host));
		if (!host_end) {
			snprintf(err, errlen, "unterminated IPv6 address in URL: %s", url);
			return -1;
		}
		v6 = true;
		if (host_end + 1 < auth_end) {
			if (host_end[1] != ':') {
				snprintf(err, errlen, "junk after IPv6 address in URL: %s", url);
				return -1;
			}
			port = host_end + 2;
		}
	} else {
		host_end = memchr(p, ':', (size_t)(auth_end - p));
		if (host_end)
			port = host_end + 1;
		else
			host_end = auth_end;
	}
	size_t hl = (size_t)(host_end - host);
	if (hl == 0 || hl >= sizeof(out->host)) {
		snprintf(err, errlen, "bad host in URL: %s", url);
		return -1;
	}
	memcpy(out->host, host, hl);
	if (port) {
		size_t pl = (size_t)(auth_end - port);
		if (pl == 0 || pl > 5 || strspn(port, "0123456789") < pl) {
			snprintf(err, errlen, "bad port in URL: %s", url);
			return -1;
		}
		memcpy(out->port, port, pl);
		long v = strtol(out->port, NULL, 10);
		if (v < 1 || v > 65535) {
			snprintf(err, errlen, "port out of range in URL: %s", url);
			return -1;
		}
	} else {
		snprintf(out->port, sizeof(out->port), "%s", out->tls ? "443" : "80");
	}
	if (*auth_end == '\0') {
		snprintf(out->path, sizeof(out->path), "/");
	} else if (*auth_end == '?') {
		if (snprintf(out->path, sizeof(out->path), "/%s", auth_end) >=
		    (int)sizeof(out->path))
			goto toolong;
	} else if (snprintf(out->path, sizeof(out->path), "%s", auth_end) >=
	           (int)sizeof(out->path)) {
		goto toolong;
	}
	snprintf(out->hostport, sizeof(out->hostport), "%s%s%s%s%s", v6 ? "[" : "", out->host,
	         v6 ? "]" : "", port ? ":" : "", port ? out->port : "");
	return 0;
toolong:
	snprintf(err, errlen, "URL path too long");
	return -1;
}

/* ------------------------------------------------------------- engine */

struct slot {
	struct wsc_result r;
	bool started, ready;
};

struct runner {
	const struct wsc_engine_opts *opts;
	const struct wsc_catalog *cat;
	const size_t *sel;
	size_t n;
	struct wsc_run *run;
	struct slot *slots;
	size_t next_flush, done;
};

static void finish_slot(struct runner *rn, size_t i)
{
	struct slot *s = &rn->slots[i];
	wsc_judge(&s->r, rn->opts->profile);
	s->ready = true;
}

static void flush_slots(struct runner *rn)
{
	while (rn->next_flush < rn->n && rn->slots[rn->next_flush].ready) {
		struct slot *s = &rn->slots[rn->next_flush];
		if (wsc_run_add(rn->run, &s->r) < 0) {
			wsc_result_free(&s->r);
			rn->next_flush++;
			continue;
		}
		rn->next_flush++;
		rn->done++;
		if (rn->opts->on_result)
			rn->opts->on_result(rn->opts->ctx,
			                    &rn->run->results[rn->run->n_results - 1], rn->done,
			                    rn->n);
	}
}

/*
 * A case is heavy when it moves bulk data (round trips: 9.x, 12.x, 13.x) at
 * full speed; a chopped round trip (9.5, 9.6: paced small writes) mostly
 * sleeps and is not. A round trip keeps one core busy between us and the
 * peer, so running more of them than there are cores only slows each one
 * down until its deadline passes; light cases keep running beside them.
 */
static bool case_heavy(const struct wsc_case *c)
{
	for (size_t k = 0; k < c->n_steps; k++)
		if (c->steps[k].kind == WSC_STEP_ROUNDTRIP && !c->steps[k].u.rt->has_chop)
			return true;
	return false;
}

static unsigned heavy_limit(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 1 ? (unsigned)n : 1;
}

/*
 * `watch-memory`: one sample of the peer's resident memory, recorded by every
 * running case that asks (only j when one >= 0). Returns true when some case
 * is watching, so the loop wakes often enough.
 */
static bool watch_memory(const struct wsc_engine_opts *opts, struct wsc_vm *vms, const bool *active,
                         unsigned jobs, int only)
{
	bool watching = false, sampled = false;
	int64_t kib = -1;
	for (unsigned j = 0; j < jobs; j++) {
		if (!active[j] || !vms[j].c->watch_memory_mib || (only >= 0 && (int)j != only))
			continue;
		watching = true;
		if (!sampled) {
			kib = opts->peer_rss_kib ? opts->peer_rss_kib(opts->ctx) : -1;
			sampled = true;
		}
		struct wsc_observation *o = &vms[j].r->obs;
		if (kib < 0)
			continue;
		if (o->peer_rss_start_kib < 0)
			o->peer_rss_start_kib = kib;
		if (kib > o->peer_rss_peak_kib)
			o->peer_rss_peak_kib = kib;
	}
	return watching;
}

/*
 * Cases whose connection the peer dropped without sending a Close, most
 * recent last. A crashing target closes its sockets before we can reap it, so the
 * case that killed it has often finished (and may look fine: a dropped
 * connection is a valid way to fail it) before the death is noticed. When the
 * target stops, or the run ends, every such case of the last
 * CRASH_LOOKBACK_US is marked crash_suspect; cli.c turns that into a crash
 * verdict if the target did crash, and leaves it alone otherwise.
 */
#define RECENT_DROPS      64
#define CRASH_LOOKBACK_US 300000u

struct recent_drops {
	size_t slot[RECENT_DROPS];
	uint64_t t[RECENT_DROPS];
	size_t n; /* entries ever added; the last RECENT_DROPS are kept */
};

static void note_drop(struct recent_drops *d, size_t slot, uint64_t now)
{
	d->slot[d->n % RECENT_DROPS] = slot;
	d->t[d->n % RECENT_DROPS] = now;
	d->n++;
}

static struct wsc_result *result_of(struct runner *rn, size_t i)
{
	if (i >= rn->next_flush)
		return rn->slots[i].started ? &rn->slots[i].r : NULL;
	for (size_t k = rn->run->n_results; k-- > 0;)
		if (rn->run->results[k].position == i + 1)
			return &rn->run->results[k];
	return NULL;
}

static void mark_suspects(struct runner *rn, const struct recent_drops *d, uint64_t now)
{
	size_t first = d->n > RECENT_DROPS ? d->n - RECENT_DROPS : 0;
	for (size_t k = first; k < d->n; k++) {
		uint64_t t = d->t[k % RECENT_DROPS];
		if (now - t > CRASH_LOOKBACK_US)
			continue;
		struct wsc_result *r = result_of(rn, d->slot[k % RECENT_DROPS]);
		if (!r || r->obs.crash_suspect)
			continue;
		r->obs.crash_suspect = true;
		r->obs.crash_suspect_us = now - t;
	}
}

static bool watch_memory_any(const struct wsc_vm *vms, const bool *active, unsigned jobs)
{
	for (unsigned j = 0; j < jobs; j++)
		if (active[j] && vms[j].c->watch_memory_mib)
			return true;
	return false;
}

/* A case that never ran (unreachable peer, stopped run). */
static void not_run(struct runner *rn, size_t i, const char *why, bool crashed)
{
	struct slot *s = &rn->slots[i];
	if (!s->started) {
		wsc_result_init(&s->r, &rn->cat->cases[rn->sel[i]], rn->opts->agent, i + 1, false);
		s->started = true;
	}
	s->r.ran = false;
	s->r.obs.target_crashed = crashed;
	if (!s->r.obs.handshake_error)
		s->r.obs.handshake_error = strdup(why);
	finish_slot(rn, i);
}

int wsc_engine_run(const struct wsc_engine_opts *opts, const struct wsc_catalog *cat,
                   const size_t *sel, size_t n, struct wsc_run *run, char *err, size_t errlen)
{
	/* A peer closing on us must give EPIPE, not kill the process (TLS writes
	 * go through write(2), which has no MSG_NOSIGNAL). */
	signal(SIGPIPE, SIG_IGN);
	/* Paced writes (chop, 60 us apart) sleep in ppoll thousands of times per
	 * case; the default 50 us timer slack would nearly double every gap. */
	prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);

	struct runner rn = {.opts = opts, .cat = cat, .sel = sel, .n = n, .run = run};
	if (n == 0)
		return 0;
	rn.slots = calloc(n, sizeof(*rn.slots));
	unsigned jobs = opts->jobs ? opts->jobs : 1;
	if (jobs > 4096)
		jobs = 4096;
	struct wsc_vm *vms = calloc(jobs, sizeof(*vms));
	size_t *vm_case = calloc(jobs, sizeof(*vm_case));
	bool *active = calloc(jobs, sizeof(*active));
	struct pollfd *pfd = calloc(jobs, sizeof(*pfd));
	int *pfd_vm = calloc(jobs, sizeof(*pfd_vm));
	if (!rn.slots || !vms || !vm_case || !active || !pfd || !pfd_vm) {
		snprintf(err, errlen, "out of memory");
		free(rn.slots), free(vms), free(vm_case), free(active), free(pfd), free(pfd_vm);
		return -1;
	}

	int rc = 0;
	struct wsc_net_ctx net;
	char nerr[300];
	if (wsc_net_ctx_init(&net, opts->url.host, opts->url.port, opts->url.tls,
	                     opts->tls_insecure, opts->tls_cacert, nerr, sizeof(nerr)) < 0) {
		if (opts->url.tls && strstr(nerr, "resolve") == NULL) {
			snprintf(err, errlen, "%s", nerr);
			free(rn.slots), free(vms), free(vm_case), free(active), free(pfd),
			        free(pfd_vm);
			return -1;
		}
		for (size_t i = 0; i < n; i++)
			not_run(&rn, i, nerr, false);
		flush_slots(&rn);
		free(rn.slots), free(vms), free(vm_case), free(active), free(pfd), free(pfd_vm);
		return 3;
	}
	struct wsc_vm_env env = {
	        .url = &opts->url,
	        .net = &net,
	        .timeout_scale = opts->timeout_scale > 0 ? opts->timeout_scale : 1.0,
	        .dump_dir = opts->dump_dir,
	        .connect_tries = 5,
	        .close_codes_2018 = opts->profile != WSC_PROFILE_AUTOBAHN,
	        .peer_max_message = opts->peer_max_message,
	        .rt_cap = opts->round_trip_cap,
	};

	size_t next_start = 0; /* no case before it is waiting to start */
	unsigned in_flight = 0, heavy_in_flight = 0, max_heavy = heavy_limit();
	bool *heavy = calloc(n, sizeof(*heavy));
	if (!heavy) {
		snprintf(err, errlen, "out of memory");
		free(rn.slots), free(vms), free(vm_case), free(active), free(pfd), free(pfd_vm);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		heavy[i] = case_heavy(&cat->cases[sel[i]]);
	bool ever_connected = false, unreachable = false, stopping = false;
	uint64_t last_keep = 0, last_rss = 0;
	struct recent_drops drops = {.n = 0};
	char unreach_why[300] = "";

	while (rn.next_flush < n) {
		uint64_t now = wsc_now_us();
		if (!stopping && opts->keep_going && now - last_keep >= 20000) {
			last_keep = now;
			if (!opts->keep_going(opts->ctx)) {
				stopping = true;
				run->target_crashed = true;
				mark_suspects(&rn, &drops, now);
				for (unsigned j = 0; j < jobs; j++)
					if (active[j])
						wsc_vm_abort(&vms[j], now,
						             "the target under test stopped");
				for (size_t i = next_start; i < n; i++)
					if (!rn.slots[i].started)
						not_run(&rn, i,
						        "the target under test stopped before this "
						        "case",
						        true);
				next_start = n;
			}
		}
		unsigned limit = ever_connected ? jobs : 1;
		while (!stopping && !unreachable && next_start < n && in_flight < limit) {
			/* The first case not started yet that may start now: a heavy
			 * case waits while enough heavy ones run; light ones pass it. */
			while (next_start < n && rn.slots[next_start].started)
				next_start++;
			size_t i = next_start;
			while (i < n &&
			       (rn.slots[i].started || (heavy[i] && heavy_in_flight >= max_heavy)))
				i++;
			if (i >= n)
				break;
			unsigned j = 0;
			while (active[j])
				j++;
			struct slot *s = &rn.slots[i];
			if (heavy[i])
				heavy_in_flight++;
			wsc_result_init(&s->r, &cat->cases[sel[i]], opts->agent, i + 1, false);
			s->started = true;
			wsc_vm_start_client(&vms[j], &cat->cases[sel[i]], &s->r, &env, now);
			vm_case[j] = i;
			active[j] = true;
			in_flight++;
			watch_memory(opts, vms, active, jobs, (int)j);
		}

		/* reap finished cases */
		for (unsigned j = 0; j < jobs; j++) {
			if (!active[j])
				continue;
			struct wsc_vm *vm = &vms[j];
			if (vm->r->obs.connected)
				ever_connected = true;
			if (!wsc_vm_done(vm))
				continue;
			watch_memory(opts, vms, active, jobs, (int)j);
			size_t i = vm_case[j];
			if (vm->connect_failed) {
				vm->r->ran = false;
				if (!ever_connected) {
					unreachable = true;
					rc = 3;
					snprintf(unreach_why, sizeof(unreach_why), "%s",
					         vm->r->obs.handshake_error
					                 ? vm->r->obs.handshake_error
					                 : "could not connect");
				}
			}
			if (!stopping && opts->keep_going && vm->r->obs.connected &&
			    !vm->r->obs.was_clean && !vm->r->obs.dropped_by_me &&
			    vm->r->obs.remote_close_code < 0)
				note_drop(&drops, i, now);
			wsc_vm_free(vm);
			active[j] = false;
			in_flight--;
			if (heavy[i])
				heavy_in_flight--;
			finish_slot(&rn, i);
		}
		if (unreachable && in_flight == 0 && next_start < n) {
			for (size_t i = next_start; i < n; i++)
				if (!rn.slots[i].started)
					not_run(&rn, i, unreach_why, false);
			next_start = n;
			rc = 3;
		}
		flush_slots(&rn);
		if (rn.next_flush >= n)
			break;
		if (in_flight == 0)
			continue;

		/* poll */
		nfds_t np = 0;
		/* keep_going at least every 50 ms, memory samples every 20 ms */
		uint64_t deadline = now + 50000;
		if (now - last_rss >= 20000) {
			last_rss = now;
			if (watch_memory(opts, vms, active, jobs, -1))
				deadline = now + 20000;
		} else if (watch_memory_any(vms, active, jobs)) {
			deadline = last_rss + 20000;
		}
		bool pending = false;
		for (unsigned j = 0; j < jobs; j++) {
			if (!active[j])
				continue;
			uint64_t d = wsc_vm_deadline(&vms[j]);
			if (d && d < deadline)
				deadline = d;
			if (wsc_vm_pending(&vms[j]))
				pending = true;
			int fd = wsc_vm_fd(&vms[j]);
			short ev = wsc_vm_events(&vms[j]);
			if (fd >= 0 && ev) {
				pfd[np].fd = fd;
				pfd[np].events = ev;
				pfd[np].revents = 0;
				pfd_vm[np] = (int)j;
				np++;
			}
		}
		struct timespec ts = {0, 0};
		if (!pending && deadline > now) {
			uint64_t d = deadline - now;
			ts.tv_sec = (time_t)(d / 1000000u);
			ts.tv_nsec = (long)(d % 1000000u) * 1000;
		}
		int pr = ppoll(pfd, np, &ts, NULL);
		if (pr < 0 && errno != EINTR) {
			snprintf(err, errlen, "poll: %s", strerror(errno));
			rc = -1;
			break;
		}
		now = wsc_now_us();
		for (nfds_t k = 0; k < np && pr > 0; k++) {
			if (pfd[k].revents)
				wsc_vm_io(&vms[pfd_vm[k]], pfd[k].revents, now);
		}
		for (unsigned j = 0; j < jobs; j++) {
			if (!active[j])
				continue;
			if (wsc_vm_pending(&vms[j]))
				wsc_vm_io(&vms[j], 0, now);
			uint64_t d = wsc_vm_deadline(&vms[j]);
			if (d && d <= now)
				wsc_vm_timers(&vms[j], now);
		}
	}

	/* The run ended: the target's fate is decided when it is stopped, and a
	 * case that killed it may have been the last to end. */
	if (rc >= 0 && opts->keep_going && !stopping)
		mark_suspects(&rn, &drops, wsc_now_us());
	if (rc < 0) {
		/* internal error: stop what runs, keep the results already judged */
		uint64_t now = wsc_now_us();
		for (unsigned j = 0; j < jobs; j++)
			if (active[j]) {
				wsc_vm_abort(&vms[j], now, "internal error");
				wsc_vm_free(&vms[j]);
			}
		for (size_t i = 0; i < n; i++)
			if (rn.slots[i].started && !rn.slots[i].ready)
				wsc_result_free(&rn.slots[i].r);
	}
	wsc_net_ctx_free(&net);
	free(rn.slots), free(vms), free(vm_case), free(active), free(pfd), free(pfd_vm),
	        free(heavy);
	return rc;
}
