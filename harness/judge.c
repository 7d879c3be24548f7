/*
 * judge.c - the two verdicts of a case from its compiled expectations and
 * the observation, by Autobahn|Testsuite's ordered rules (docs/verdicts.md).
 *
 * The judge reads only r->c and r->obs. It is the same for every profile:
 * profiles change the case's alternatives and close expectations when the
 * catalog is loaded, not the rules applied here.
 *
 * Order of decisions:
 *   1. could not test (ran == false)          -> FAILED / FAILED
 *   2. the target crashed during the case      -> FAILED / FAILED
 *   3. handshake-status case (101 not expected) -> status + headers decide
 *                                                  behavior; close is OK
 *   4. 101 expected but never completed        -> FAILED / FAILED
 *   5. informational                           -> INFORMATIONAL / INFORMATIONAL
 *   6. a required extension (`require-extension`) not negotiated, or a
 *      declared limit missing (--max-message)  -> UNIMPLEMENTED / OK
 *   7. behavior: first alternative equal to the events; expected headers;
 *      a failed `roundtrip` (its first mismatch or timeout) -> FAILED
 *   8. behaviorClose: wrong endpoint, unclean, wrong code, failed by client
 *   9. fatal-endpoint / fatal-code carry a close failure into behavior
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../reports/emit.h"
#include "result.h"

#define MAX_EVENTS_SHOWN 16

bool wsc_alt_matches(const struct wsc_alt *alt, const struct wsc_obs_event *ev, size_t n)
{
	if (alt->n_events != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		const struct wsc_event *e = &alt->events[i];
		if (e->kind != ev[i].kind || e->data.n != ev[i].len)
			return false;
		if (e->data.n && memcmp(e->data.p, ev[i].data, e->data.n) != 0)
			return false;
	}
	return true;
}

bool wsc_result_skipped(const struct wsc_result *r)
{
	return r->ran && r->behavior == WSC_V_UNIMPLEMENTED;
}

bool wsc_result_passed(const struct wsc_result *r, bool strict)
{
	if (!r->ran)
		return false;
	bool b = r->behavior == WSC_V_OK || r->behavior == WSC_V_INFORMATIONAL ||
	         (!strict && r->behavior == WSC_V_NON_STRICT);
	bool c = r->behavior_close == WSC_CV_OK || r->behavior_close == WSC_CV_INFORMATIONAL;
	return b && c;
}

/* ---- rendering ---- */

static void put_obs_events(struct wsc_out *b, const struct wsc_obs_event *ev, size_t n)
{
	wsc_out_putc(b, '[');
	for (size_t i = 0; i < n && i < MAX_EVENTS_SHOWN; i++) {
		if (i)
			wsc_out_puts(b, ", ");
		wsc_out_event(b, ev[i].kind, ev[i].data, ev[i].len);
	}
	if (n > MAX_EVENTS_SHOWN)
		wsc_out_printf(b, ", ... (%zu events in all)", n);
	wsc_out_putc(b, ']');
}

static void put_alt_events(struct wsc_out *b, const struct wsc_alt *a)
{
	wsc_out_putc(b, '[');
	for (size_t i = 0; i < a->n_events && i < MAX_EVENTS_SHOWN; i++) {
		if (i)
			wsc_out_puts(b, ", ");
		wsc_out_event(b, a->events[i].kind, a->events[i].data.p, a->events[i].data.n);
	}
	if (a->n_events > MAX_EVENTS_SHOWN)
		wsc_out_printf(b, ", ... (%zu events in all)", a->n_events);
	wsc_out_putc(b, ']');
}

/* `watch-memory`: the peer's growth against the case's bound. */
static void judge_memory(struct wsc_result *r, struct wsc_out *t)
{
	const struct wsc_observation *o = &r->obs;
	if (o->peer_rss_start_kib < 0) {
		wsc_out_puts(t, "; peer memory not measured (the harness did not start the peer)");
		return;
	}
	int64_t grew = o->peer_rss_peak_kib - o->peer_rss_start_kib;
	wsc_out_printf(
	        t,
	        "; peer memory %.1f MiB at the start, at most %.1f MiB (+%.1f MiB, limit +%u MiB)",
	        o->peer_rss_start_kib / 1024.0, o->peer_rss_peak_kib / 1024.0, grew / 1024.0,
	        r->c->watch_memory_mib);
	if (grew > (int64_t)r->c->watch_memory_mib * 1024) {
		r->behavior = WSC_V_FAILED;
		wsc_out_puts(t, ": it grew more than the case allows");
	}
}

static void put_text(struct wsc_out *b, const char *s)
{
	if (s)
		wsc_out_utf8(b, s, strlen(s));
}

/* Replace *dst with the buffer's text (NULL only on allocation failure). */
static void set_text(char **dst, struct wsc_out *b)
{
	free(*dst);
	*dst = wsc_out_take(b);
}

static void set_str(char **dst, const char *s)
{
	struct wsc_out b;
	wsc_out_init(&b);
	wsc_out_puts(&b, s);
	set_text(dst, &b);
}

/* ---- handshake headers ---- */

/* Does the response head carry header `name`? Collects the values, comma-joined, into vals. */
static bool find_header(const char *head, const char *name, struct wsc_out *vals)
{
	bool found = false;
	size_t nl = strlen(name);
	const char *p = head ? strchr(head, '\n') : NULL; /* skip the status line */
	while (p && *p) {
		p++;
		const char *end = strchr(p, '\n');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len && p[len - 1] == '\r')
			len--;
		if (len > nl && p[nl] == ':' && strncasecmp(p, name, nl) == 0) {
			if (found)
				wsc_out_putc(vals, ',');
			wsc_out_put(vals, p + nl + 1, len - nl - 1);
			found = true;
		}
		p = end;
	}
	return found;
}

/* Copy one comma-separated token with all spaces and tabs removed, lower-cased. */
static size_t next_token(const char *s, size_t *pos, char *out, size_t cap)
{
	size_t n = 0;
	while (s[*pos] && s[*pos] != ',') {
		char c = s[*pos];
		if (c != ' ' && c != '\t' && n + 1 < cap)
			out[n++] = (char)tolower((unsigned char)c);
		(*pos)++;
	}
	if (s[*pos] == ',')
		(*pos)++;
	out[n] = '\0';
	return n;
}

static bool token_in(const char *list, const char *tok)
{
	size_t pos = 0;
	char t[512];
	while (list[pos]) {
		next_token(list, &pos, t, sizeof(t));
		if (strcmp(t, tok) == 0)
			return true;
	}
	return false;
}

/*
 * Check the case's expect-header / expect-no-header lines against the
 * response. Returns true when all hold; otherwise writes one explanation
 * into why.
 */
static bool headers_hold(const struct wsc_case *c, const struct wsc_observation *o,
                         struct wsc_out *why)
{
	const char *head = o->http_response;
	for (size_t i = 0; i < c->hs.n_expect_headers; i++) {
		const char *spec = c->hs.expect_headers[i];
		const char *colon = strchr(spec, ':');
		char name[256];
		size_t nl = colon ? (size_t)(colon - spec) : strlen(spec);
		if (nl >= sizeof(name))
			nl = sizeof(name) - 1;
		memcpy(name, spec, nl);
		name[nl] = '\0';
		while (nl && (name[nl - 1] == ' ' || name[nl - 1] == '\t'))
			name[--nl] = '\0';
		struct wsc_out vals;
		wsc_out_init(&vals);
		bool have = find_header(head, name, &vals);
		bool ok = have;
		if (have && colon) {
			const char *want = colon + 1;
			size_t pos = 0;
			char t[512];
			while (want[pos] && ok) {
				if (next_token(want, &pos, t, sizeof(t)) &&
				    !token_in(wsc_out_str(&vals), t))
					ok = false;
			}
		}
		if (!ok) {
			wsc_out_puts(why, "expected header \"");
			put_text(why, spec);
			wsc_out_puts(why, "\" / got ");
			if (have) {
				wsc_out_puts(why, "\"");
				put_text(why, name);
				wsc_out_puts(why, ":");
				wsc_out_payload(why, (const uint8_t *)wsc_out_str(&vals), vals.len,
				                vals.len);
				wsc_out_puts(why, "\"");
			} else {
				wsc_out_puts(why, "no such header");
			}
			wsc_out_free(&vals);
			return false;
		}
		wsc_out_free(&vals);
	}
	for (size_t i = 0; i < c->hs.n_expect_no_headers; i++) {
		struct wsc_out vals;
		wsc_out_init(&vals);
		bool have = find_header(head, c->hs.expect_no_headers[i], &vals);
		if (have) {
			wsc_out_puts(why, "expected no header ");
			put_text(why, c->hs.expect_no_headers[i]);
			wsc_out_puts(why, " / got \"");
			put_text(why, c->hs.expect_no_headers[i]);
			wsc_out_puts(why, ":");
			wsc_out_payload(why, (const uint8_t *)wsc_out_str(&vals), vals.len,
			                vals.len);
			wsc_out_puts(why, "\"");
			wsc_out_free(&vals);
			return false;
		}
		wsc_out_free(&vals);
	}
	return true;
}

/* The case talks about Sec-WebSocket-Extensions in its own expectations. */
/* ---- the close verdict ---- */

struct close_rules {
	bool closed_by_me;
	const uint16_t *codes;
	size_t n_codes;
	bool require_clean;
	bool fatal_endpoint, fatal_code;
};

static void put_codes(struct wsc_out *b, const struct close_rules *cr)
{
	if (cr->n_codes == 0) {
		wsc_out_puts(b, "any code");
		return;
	}
	for (size_t i = 0; i < cr->n_codes; i++)
		wsc_out_printf(b, "%s%u", i == 0 ? "" : (i + 1 == cr->n_codes ? " or " : ", "),
		               (unsigned)cr->codes[i]);
}

static void put_remote_code(struct wsc_out *b, int code)
{
	if (code < 0)
		wsc_out_puts(b, "no Close frame");
	else if (code == 1005)
		wsc_out_puts(b, "a Close without code");
	else
		wsc_out_printf(b, "close code %d", code);
}

/*
 * Autobahn's rules in order, first match wins. Returns the verdict and
 * writes the explanation; *endpoint_wrong / *code_wrong report which rule
 * fired for the fatal flags.
 */
static enum wsc_close_verdict judge_close(const struct wsc_result *r, const struct close_rules *cr,
                                          struct wsc_out *t, bool *endpoint_wrong, bool *code_wrong)
{
	const struct wsc_observation *o = &r->obs;
	*endpoint_wrong = *code_wrong = false;

	if (o->closed_by_me != cr->closed_by_me) {
		*endpoint_wrong = true;
		wsc_out_puts(t, "the connection was closed by the wrong endpoint: expected ");
		wsc_out_puts(t, cr->closed_by_me ? "the harness" : "the peer");
		wsc_out_puts(t, " to start the close / got ");
		wsc_out_puts(t, o->closed_by_me ? "the harness started it" : "the peer started it");
		if (o->closed_by_me && o->failed_by_me)
			wsc_out_puts(t, " (the harness failed the connection)");
		if (o->protocol_violation) {
			wsc_out_puts(t, "; peer protocol violation: ");
			put_text(t, o->protocol_violation);
		}
		return WSC_CV_FAILED;
	}
	if (cr->require_clean && !o->was_clean) {
		wsc_out_puts(t, "expected a clean closing handshake / got an unclean close");
		if (o->was_not_clean_reason) {
			wsc_out_puts(t, ": ");
			put_text(t, o->was_not_clean_reason);
		}
		return WSC_CV_UNCLEAN;
	}
	int rc = o->remote_close_code;
	if (rc >= 0 && rc != 1005 && cr->n_codes > 0) {
		bool in = false;
		for (size_t i = 0; i < cr->n_codes; i++)
			if (cr->codes[i] == rc)
				in = true;
		if (!in) {
			*code_wrong = true;
			wsc_out_puts(t, "expected close code ");
			put_codes(t, cr);
			wsc_out_puts(t, " (or none) / got ");
			put_remote_code(t, rc);
			return WSC_CV_WRONG_CODE;
		}
	}
	if (!r->is_server && o->dropped_by_me) {
		wsc_out_puts(t, "expected the server to close the TCP connection / got the harness "
		                "(client) dropping it");
		if (o->server_drop_timeout)
			wsc_out_puts(t, " after waiting 1 s for the server");
		return WSC_CV_FAILED_BY_CLIENT;
	}
	wsc_out_puts(t, "expected ");
	wsc_out_puts(t, cr->closed_by_me ? "the harness" : "the peer");
	wsc_out_puts(t, " to close first, ");
	put_codes(t, cr);
	wsc_out_puts(t, cr->require_clean ? ", clean" : "");
	wsc_out_puts(t, " / got ");
	wsc_out_puts(t,
	             o->closed_by_me ? "the harness closing first, " : "the peer closing first, ");
	put_remote_code(t, rc);
	wsc_out_puts(t, o->was_clean ? ", clean" : ", not clean");
	return WSC_CV_OK;
}

/* ---- the judge ---- */

static void fail_both(struct wsc_result *r, const char *prefix, const char *detail)
{
	struct wsc_out b;
	wsc_out_init(&b);
	wsc_out_puts(&b, prefix);
	if (detail) {
		wsc_out_puts(&b, ": ");
		put_text(&b, detail);
	}
	r->behavior = WSC_V_FAILED;
	r->behavior_close = WSC_CV_FAILED;
	set_str(&r->result_close_text, wsc_out_str(&b));
	set_text(&r->result_text, &b);
}

static void judge_events(struct wsc_result *r, struct wsc_out *t)
{
	const struct wsc_case *c = r->c;
	const struct wsc_observation *o = &r->obs;
	static const struct wsc_alt implicit_ok = {WSC_V_OK, NULL, 0};
	const struct wsc_alt *alts = c->n_alts ? c->alts : &implicit_ok;
	size_t n_alts = c->n_alts ? c->n_alts : 1;

	const struct wsc_alt *hit = NULL;
	for (size_t i = 0; i < n_alts && !hit; i++)
		if (wsc_alt_matches(&alts[i], o->events, o->n_events))
			hit = &alts[i];

	wsc_out_puts(t, n_alts > 1 ? "expected one of: " : "expected ");
	for (size_t i = 0; i < n_alts; i++) {
		if (i)
			wsc_out_puts(t, "; ");
		wsc_out_puts(t, wsc_verdict_name(alts[i].verdict));
		wsc_out_puts(t, ": ");
		put_alt_events(t, &alts[i]);
	}
	wsc_out_puts(t, " / got: ");
	put_obs_events(t, o->events, o->n_events);
	if (hit) {
		r->behavior = hit->verdict;
		wsc_out_puts(t, " (matches ");
		wsc_out_puts(t, wsc_verdict_name(hit->verdict));
		wsc_out_puts(t, ")");
	} else {
		r->behavior = WSC_V_FAILED;
		wsc_out_puts(t, " (matches none)");
		if (o->protocol_violation) {
			wsc_out_puts(t, "; peer protocol violation: ");
			put_text(t, o->protocol_violation);
		}
	}
}

/* Case-insensitive substring test (skip-if-request-has). */
static bool request_has(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	for (; *hay; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return true;
	return false;
}

void wsc_judge(struct wsc_result *r, enum wsc_profile profile)
{
	/* The rules are the same for every profile (see the file comment). */
	(void)profile;
	const struct wsc_case *c = r->c;
	const struct wsc_observation *o = &r->obs;

	if (!r->ran) {
		fail_both(r, "could not test",
		          o->handshake_error
		                  ? o->handshake_error
		                  : (o->was_not_clean_reason ? o->was_not_clean_reason
		                                             : "the peer was not reached"));
		return;
	}
	if (o->target_crashed) {
		fail_both(r, "the target crashed during this case", o->protocol_violation);
		return;
	}
	if (r->is_server && c->resp.skip_if_request_has && o->http_request &&
	    request_has(o->http_request, c->resp.skip_if_request_has)) {
		/* skip-if-request-has: the case does not apply to this client */
		r->behavior = WSC_V_UNIMPLEMENTED;
		r->behavior_close = WSC_CV_OK;
		set_str(&r->result_text, "not applicable: the client's request mentions the "
		                         "string this case needs absent");
		set_str(&r->result_close_text, "not judged: the case does not apply");
		return;
	}

	struct wsc_out t, ct;
	wsc_out_init(&t);
	wsc_out_init(&ct);

	if (!wsc_case_expects_101(c) && !r->is_server) {
		/* The peer must refuse the upgrade: status and headers decide. */
		bool status_ok = false;
		for (size_t i = 0; i < c->hs.n_expect_status && i < 8; i++)
			if (c->hs.expect_status[i] == o->http_status)
				status_ok = true;
		wsc_out_puts(&t, "expected status ");
		for (size_t i = 0; i < c->hs.n_expect_status && i < 8; i++)
			wsc_out_printf(&t, "%s%d",
			               i == 0 ? ""
			                      : (i + 1 == c->hs.n_expect_status ? " or " : ", "),
			               c->hs.expect_status[i]);
		wsc_out_puts(&t, " / got ");
		if (o->http_status > 0)
			wsc_out_printf(&t, "%d", o->http_status);
		else {
			wsc_out_puts(&t, "no response");
			if (o->handshake_error) {
				wsc_out_puts(&t, " (");
				put_text(&t, o->handshake_error);
				wsc_out_puts(&t, ")");
			}
		}
		struct wsc_out why;
		wsc_out_init(&why);
		bool hdr_ok = status_ok && headers_hold(c, o, &why);
		if (status_ok && !hdr_ok) {
			wsc_out_puts(&t, "; ");
			wsc_out_put(&t, wsc_out_str(&why), why.len);
		}
		wsc_out_free(&why);
		r->behavior = (status_ok && hdr_ok) ? WSC_V_OK : WSC_V_FAILED;
		if (c->informational)
			r->behavior = WSC_V_INFORMATIONAL;
		r->behavior_close = c->informational ? WSC_CV_INFORMATIONAL : WSC_CV_OK;
		wsc_out_puts(&ct, "no WebSocket close applies: the case ends at the handshake "
		                  "response");
		goto done;
	}

	if (!o->handshake_done) {
		wsc_out_free(&t);
		wsc_out_free(&ct);
		char detail[64];
		if (o->http_status > 0)
			snprintf(detail, sizeof(detail), "expected status 101 / got %d",
			         o->http_status);
		else
			snprintf(detail, sizeof(detail), "expected status 101 / got no response");
		fail_both(r, "opening handshake was never completed",
		          o->handshake_error ? o->handshake_error : detail);
		return;
	}

	if (c->informational) {
		r->behavior = WSC_V_INFORMATIONAL;
		r->behavior_close = WSC_CV_INFORMATIONAL;
		wsc_out_puts(&t, "informational (the RFC leaves this open); got: ");
		put_obs_events(&t, o->events, o->n_events);
		wsc_out_puts(&ct, "informational; got ");
		wsc_out_puts(&ct, o->closed_by_me ? "the harness closing first, "
		                                  : "the peer closing first, ");
		put_remote_code(&ct, o->remote_close_code);
		wsc_out_puts(&ct, o->was_clean ? ", clean" : ", not clean");
		goto done;
	}

	if (o->extension_missing) {
		/* explicit: `require-extension` not met, or a limit not declared */
		r->behavior = WSC_V_UNIMPLEMENTED;
		r->behavior_close = WSC_CV_OK;
		wsc_out_puts(&t, "not implemented: ");
		put_text(&t, o->extension_missing);
		wsc_out_puts(&ct, "not judged: the case could not run");
		goto done;
	}
	judge_events(r, &t);
	if (o->roundtrip_error) {
		r->behavior = WSC_V_FAILED;
		wsc_out_puts(&t, "; round trips failed: ");
		put_text(&t, o->roundtrip_error);
	}
	if (c->watch_memory_mib)
		judge_memory(r, &t);
	if (o->rt_capped_from)
		wsc_out_printf(&t, "; quick run: round trips cut from %u messages (--round-trips)",
		               o->rt_capped_from);
	if (!r->is_server && (c->hs.n_expect_headers || c->hs.n_expect_no_headers)) {
		struct wsc_out why;
		wsc_out_init(&why);
		if (!headers_hold(c, o, &why)) {
			r->behavior = WSC_V_FAILED;
			wsc_out_puts(&t, "; ");
			wsc_out_put(&t, wsc_out_str(&why), why.len);
		}
		wsc_out_free(&why);
	}

	struct close_rules cr;
	static const uint16_t default_codes[1] = {1000};
	if (c->close.set) {
		cr.closed_by_me = c->close.closed_by_me;
		cr.codes = c->close.codes;
		cr.n_codes = c->close.n_codes > 16 ? 16 : c->close.n_codes;
		cr.require_clean = c->close.require_clean;
		cr.fatal_endpoint = c->close.fatal_endpoint;
		cr.fatal_code = c->close.fatal_code;
	} else {
		cr.closed_by_me = true;
		cr.codes = default_codes;
		cr.n_codes = 1;
		cr.require_clean = true;
		cr.fatal_endpoint = cr.fatal_code = false;
	}
	bool endpoint_wrong, code_wrong;
	r->behavior_close = judge_close(r, &cr, &ct, &endpoint_wrong, &code_wrong);
	if (cr.fatal_endpoint && endpoint_wrong && r->behavior != WSC_V_FAILED) {
		r->behavior = WSC_V_FAILED;
		wsc_out_puts(&t, "; FAILED nevertheless: expected ");
		wsc_out_puts(&t, cr.closed_by_me ? "the harness" : "the peer");
		wsc_out_puts(&t, " to start the close / got ");
		wsc_out_puts(&t, o->closed_by_me ? "the harness" : "the peer");
		wsc_out_puts(&t, " (the wrong endpoint is fatal for this case)");
	}
	if (cr.fatal_code && code_wrong && r->behavior != WSC_V_FAILED) {
		r->behavior = WSC_V_FAILED;
		wsc_out_puts(&t, "; FAILED nevertheless: ");
		wsc_out_put(&t, wsc_out_str(&ct), ct.len);
		wsc_out_puts(&t, " (a wrong code is fatal for this case)");
	}

done:
	set_text(&r->result_text, &t);
	set_text(&r->result_close_text, &ct);
}
