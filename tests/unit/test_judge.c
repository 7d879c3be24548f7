/*
 * test_judge.c - the judge rule by rule, and the result-model helpers.
 *
 * Cases are built by hand here (not parsed), so these tests pin the judge's
 * rules independently of the case language.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "result.h"
#include "testutil.h"

#define B(s) ((uint8_t *)(s))

/* A case with up to 3 alternatives of up to 4 events each. */
struct tcase {
	struct wsc_case c;
	struct wsc_alt alts[3];
	struct wsc_event ev[3][4];
};

static void tc_init(struct tcase *t)
{
	memset(t, 0, sizeof(*t));
	t->c.id = "1.2.3";
	t->c.title = "test case";
	t->c.rfc = "5.6";
	t->c.desc = "d";
	t->c.expectation = "e";
	t->c.side = WSC_SIDE_SERVER | WSC_SIDE_CLIENT;
	t->c.alts = t->alts;
}

/* Add an alternative; events given as kind/string pairs, ending with -1. */
static void tc_alt(struct tcase *t, enum wsc_verdict v, ...)
{
	size_t a = t->c.n_alts++;
	t->alts[a].verdict = v;
	t->alts[a].events = t->ev[a];
	va_list ap;
	va_start(ap, v);
	for (;;) {
		int k = va_arg(ap, int);
		if (k < 0)
			break;
		const char *s = va_arg(ap, const char *);
		size_t e = t->alts[a].n_events++;
		t->ev[a][e].kind = (enum wsc_event_kind)k;
		t->ev[a][e].data.p = (uint8_t *)s;
		t->ev[a][e].data.n = strlen(s);
	}
	va_end(ap);
}

static void tc_close(struct tcase *t, bool me, bool clean, int code1, int code2)
{
	t->c.close.set = true;
	t->c.close.closed_by_me = me;
	t->c.close.require_clean = clean;
	t->c.close.n_codes = 0;
	if (code1 > 0)
		t->c.close.codes[t->c.close.n_codes++] = (uint16_t)code1;
	if (code2 > 0)
		t->c.close.codes[t->c.close.n_codes++] = (uint16_t)code2;
}

/* A result where everything went by the book: handshake done, we closed, clean, 1000 back. */
static void res_init(struct wsc_result *r, const struct tcase *t, bool is_server)
{
	wsc_result_init(r, &t->c, "agent", 1, is_server);
	r->obs.connected = true;
	r->obs.handshake_done = true;
	r->obs.http_status = 101;
	r->obs.closed_by_me = true;
	r->obs.was_clean = true;
	r->obs.local_close_code = 1000;
	r->obs.remote_close_code = 1000;
	r->obs.dropped_by_me = is_server; /* the server drops TCP */
}

static bool has(const char *hay, const char *needle)
{
	return hay && strstr(hay, needle) != NULL;
}

#define ASSERT_HAS(hay, needle)                                                    \
	do {                                                                       \
		if (!has((hay), (needle)))                                         \
			fprintf(stderr, "  text: %s\n", (hay) ? (hay) : "(null)"); \
		ASSERT(has((hay), (needle)));                                      \
	} while (0)

static void test_alt_matches_exact_kind_length_bytes(void)
{
	struct tcase t;
	tc_init(&t);
	tc_alt(&t, WSC_V_OK, WSC_EV_TEXT, "Hello", -1);
	struct wsc_observation o;
	memset(&o, 0, sizeof(o));
	ASSERT(!wsc_alt_matches(&t.alts[0], o.events, 0));
	ASSERT_EQ(wsc_obs_add_event(&o, WSC_EV_TEXT, B("Hello"), 5, 10), 0);
	ASSERT(wsc_alt_matches(&t.alts[0], o.events, o.n_events));
	o.events[0].kind = WSC_EV_BINARY;
	ASSERT(!wsc_alt_matches(&t.alts[0], o.events, o.n_events));
	o.events[0].kind = WSC_EV_TEXT;
	o.events[0].data[4] = 'O';
	ASSERT(!wsc_alt_matches(&t.alts[0], o.events, o.n_events));
	o.events[0].data[4] = 'o';
	o.events[0].len = 4;
	ASSERT(!wsc_alt_matches(&t.alts[0], o.events, o.n_events));
	o.events[0].len = 5;
	ASSERT_EQ(wsc_obs_add_event(&o, WSC_EV_PONG, NULL, 0, 20), 0);
	ASSERT(!wsc_alt_matches(&t.alts[0], o.events, o.n_events)); /* extra event */
	struct wsc_result r;
	wsc_result_init(&r, &t.c, "a", 1, false);
	r.obs = o;
	wsc_result_free(&r);
}

static void test_first_matching_alternative_wins(void)
{
	struct tcase t;
	tc_init(&t);
	tc_alt(&t, WSC_V_OK, WSC_EV_TEXT, "Hello", -1);
	tc_alt(&t, WSC_V_NON_STRICT, -1);
	tc_alt(&t, WSC_V_INFORMATIONAL, -1);
	struct wsc_result r;
	res_init(&r, &t, false);
	wsc_judge(&r, WSC_PROFILE_RFC);
	ASSERT_EQ(r.behavior, WSC_V_NON_STRICT); /* [] matches NON-STRICT before INFORMATIONAL */
	ASSERT_EQ(r.behavior_close, WSC_CV_OK);
	ASSERT_HAS(r.result_text, "matches NON-STRICT");
	ASSERT(wsc_result_passed(&r, false));
	ASSERT(!wsc_result_passed(&r, true));

	ASSERT_EQ(wsc_obs_add_event(&r.obs, WSC_EV_TEXT, B("Hello"), 5, 1), 0);
	wsc_judge(&r, WSC_PROFILE_RFC); /* judging again replaces the texts */
	ASSERT_EQ(r.behavior, WSC_V_OK);
	ASSERT(wsc_result_passed(&r, true));
	wsc_result_free(&r);
}

static void test_no_alternative_is_failed_with_expected_got(void)
{
	struct tcase t;
	tc_init(&t);
	tc_alt(&t, WSC_V_OK, WSC_EV_TEXT, "Hello", -1);
	tc_alt(&t, WSC_V_NON_STRICT, -1);
	struct wsc_result r;
	res_init(&r, &t, false);
	ASSERT_EQ(wsc_obs_add_event(&r.obs, WSC_EV_BINARY, B("\xff\x00"), 2, 1), 0);
	wsc_judge(&r, WSC_PROFILE_AUTOBAHN);
	ASSERT_EQ(r.behavior, WSC_V_FAILED);
	ASSERT_STREQ(r.result_text, "expected one of: OK: [text \"Hello\"]; NON-STRICT: [] / got: "
	                            "[binary 0xff00] (matches none)");
	ASSERT(!wsc_result_passed(&r, false));
	wsc_result_free(&r);
}

static void test_long_payloads_are_cut_at_64_bytes(void)
{
	struct tcase t;
	tc_init(&t);
	char star[126];
	memset(star, '*', 125);
	star[125] = '\0';
	tc_alt(&t, WSC_V_OK, WSC_EV_TEXT, star, -1);
	struct wsc_result r;
	res_init(&r, &t, false);
	wsc_judge(&r, WSC_PROFILE_RFC);
	ASSERT_EQ(r.behavior, WSC_V_FAILED);
	char want[128];
	snprintf(want, sizeof(want), "text(125 bytes) \"%.64s\" ...", star);
	ASSERT_HAS(r.result_text, want);
	wsc_result_free(&r);
}

static void test_no_alternatives_means_nothing_expected(void)
{
	struct tcase t;
	tc_init(&t);
	struct wsc_result r;
	res_init(&r, &t, false);
	wsc_judge(&r, WSC_PROFILE_RFC);
	ASSERT_EQ(r.behavior, WSC_V_OK);
	ASSERT_EQ(wsc_obs_add_event(&r.obs, WSC_EV_PONG, B("x"), 1, 1), 0);
	wsc_judge(&r, WSC_PROFILE_RFC);
	ASSERT_EQ(r.behavior, WSC_V_FAILED);
	wsc_result_free(&r);
}

static void test_default_close_expectation_is_me_1000_clean(void)
{
	struct tcase t;
	tc_init(&t);
	tc_alt(&t, WSC_V_OK, -1);
	struct wsc_result r;
	res_init(&r, &t, false);
	wsc_judge(&r, WSC_PROFILE_RFC);
	ASSERT_EQ(r.behavior_close, WSC_CV_OK);
	ASSERT_HAS(r.result_close_text, "expected the harness to close first, 1000, clean / got");
	r.obs.remote_close_code = 1001;
	wsc_judge(&r, WSC_PROFILE_RFC);
	ASSERT_EQ(r.behavior_close, WSC_CV_WRONG_CODE);
	r.obs.remote_close_code = 1000;
	r.obs.was_clean = false;
	wsc_judge(&r, WSC_PROFILE_RFC);
	ASSERT_EQ(r.behavior_close, WSC_CV_UNCLEAN);
	r.obs.was_clean = true;
	r.obs.closed_by_me = false;
	wsc_judge(&r, WSC_PROFILE_RFC);
	ASSERT_EQ(r.behavior_close, WSC_CV_FAILED);
	ASSERT_EQ(r.behavior, WSC_V_OK); /* not fatal by default */
	wsc_result_free(&r);
}

static void test_rule1_wrong_endpoint_and_fatal_flag(void)
{
	struct tcase t;
	tc_init(&t);
	tc_alt(&t, WSC_V_OK, -1);
	tc_close(&t, false, false, 1002, 0); /* P-1002 */
	struct wsc_result r;
	res_init(&r, &t, false);
	/* The peer ignored the bad frame; our kill timer closed: rule 1. */
	r.obs.closed_by_me = true;
	r.obs.failed_by_me = true;
	r.obs.local_close_code = 1001;
	r.obs.remote_close_code = 1001; /* also a wrong code: rule 1 fires first */
	r.obs.was_clean = false;        /* and unclean: rule 1 still first */
	wsc_judge(&r, WSC_PROFILE_AUTOBAHN);
	ASSERT_EQ(r.behavior_close, WSC_CV_FAILED);
	ASSERT_EQ(r.behavior, WSC_V_OK); /* the empty event list matched */
	ASSERT_HAS(r.result_close_text, "expected the peer to start the close / got the harness");

	t.c.close.fatal_endpoint = true; /* P-1007 style */
	wsc_judge(&r, WSC_PROFILE_AUTOBAHN);
	ASSERT_EQ(r.behavior_close, WSC_CV_FAILED);
	ASSERT_EQ(r.behavior, WSC_V_FAILED);
	ASSERT_HAS(r.result_text, "(matches OK); FAILED nevertheless: expected the peer to start "
	                          "the close / got the harness (the wrong endpoint is fatal");

	/* The peer failed the connection as required. */
	r.obs.closed_by_me = false;
	r.obs.failed_by_me = false;
	r.obs.remote_close_code = 1002;
	wsc_judge(&r, WSC_PROFILE_AUTOBAHN);
	ASSERT_EQ(r.behavior_close, WSC_CV_OK);
	ASSERT_EQ(r.behavior, WSC_V_OK);
	wsc_result_free(&r);
}

static void test_rule2_unclean_before_wrong_code(void)
{
	struct tcase t;
	tc_init(&t);
	tc_alt(&t, WSC_V_OK, -1);
	tc_close(&t, true, true, 1000, 0);
	struct wsc_result r;
	res_init(&r, &t, true);
	r.obs.was_clean = false;
	r.obs.was_not_clean_reason = strdup("peer dropped the TCP connection");
	r.obs.remote_close_code = 3999; /* would be WRONG CODE, but rule 2 comes first */
	wsc_judge(&r, WSC_PROFILE_RFC);
	ASSERT_EQ(r.behavior_close, WSC_CV_UNCLEAN);
	ASSERT_HAS(r.result_close_text,
	           "expected a clean closing handshake / got an unclean close: peer dropped");
	/* requireClean false: unclean passes rule 2 and reaches rule 3. */
	t.c.close.require_clean = false;
	wsc_judge(&r, WSC_PROFILE_RFC);
	ASSERT_EQ(r.behavior_close, WSC_CV_WRONG_CODE);
	wsc_result_free(&r);
}

static void test_rule3_wrong_code_missing_code_and_fatal_code(void)
{
	struct tcase t;
	tc_init(&t);
	tc_alt(&t, WSC_V_OK, -1);
	tc_close(&t, true, false, 1002, 1007);
	struct wsc_result r;
	res_init(&r, &t, true);
	r.obs.remote_close_code = 1000;
	wsc_judge(&r, WSC_PROFILE_RFC);
	ASSERT_EQ(r.behavior_close, WSC_CV_WRONG_CODE);
	ASSERT_EQ(r.behavior, WSC_V_OK);
	ASSERT_HAS(r.result_close_text, "expected close code 1002 or 1007 (or none) / got close "
	                                "code 1000");
	t.c.close.fatal_code = true;
	wsc_judge(&r, WSC_PROFILE_RFC);
	ASSERT_EQ(r.behavior, WSC_V_FAILED);
	ASSERT_HAS(r.result_text, "FAILED nevertheless: expected close code 1002 or 1007 (or "
	                          "none) / got close code 1000 (a wrong code is fatal");
	/* An empty Close (1005) and no Close at all always pass rule 3, in every profile. */
	enum wsc_profile profiles[3] = {WSC_PROFILE_RFC, WSC_PROFILE_AUTOBAHN,
	                                WSC_PROFILE_HARDENED};
	for (int p = 0; p < 3; p++) {
		r.obs.remote_close_code = 1005;
		wsc_judge(&r, profiles[p]);
		ASSERT_EQ(r.behavior_close, WSC_CV_OK);
		ASSERT_EQ(r.behavior, WSC_V_OK);
		r.obs.remote_close_code = -1;
		wsc_judge(&r, profiles[p]);
		ASSERT_EQ(r.behavior_close, WSC_CV_OK);
	}
	/* codes= absent: any code. */
	t.c.close.n_codes = 0;
	r.obs.remote_close_code = 4321;
	wsc_judge(&r, WSC_PROFILE_RFC);
	ASSERT_EQ(r.behavior_close, WSC_CV_OK);
	wsc_result_free(&r);
}

static void test_rule4_failed_by_client_only_as_client(void)
{
	struct tcase t;
	tc_init(&t);
	tc_alt(&t, WSC_V_OK, -1);
	tc_close(&t, true, true, 1000, 0);
	struct wsc_result r;
	res_init(&r, &t, false); /* harness is the client */
	r.obs.dropped_by_me = true;
	r.obs.server_drop_timeout = true;
	wsc_judge(&r, WSC_PROFILE_RFC);
	ASSERT_EQ(r.behavior_close, WSC_CV_FAILED_BY_CLIENT);
	ASSERT_HAS(r.result_close_text, "expected the server to close the TCP connection / got");
	ASSERT(!wsc_result_passed(&r, false));
	r.is_server = true; /* as server, dropping TCP is our job */
	wsc_judge(&r, WSC_PROFILE_RFC);
	ASSERT_EQ(r.behavior_close, WSC_CV_OK);
	wsc_result_free(&r);
}

static void test_informational_forces_both(void)
{
	struct tcase t;
	tc_init(&t);
	tc_alt(&t, WSC_V_OK, WSC_EV_TEXT, "never", -1);
	t.c.informational = true;
	struct wsc_result r;
	res_init(&r, &t, false);
	r.obs.closed_by_me = false;
	r.obs.remote_close_code = 4999;
	wsc_judge(&r, WSC_PROFILE_RFC);
	ASSERT_EQ(r.behavior, WSC_V_INFORMATIONAL);
	ASSERT_EQ(r.behavior_close, WSC_CV_INFORMATIONAL);
	ASSERT_HAS(r.result_close_text, "close code 4999");
	ASSERT(wsc_result_passed(&r, true));
	wsc_result_free(&r);
}

static void test_handshake_status_case(void)
{
	struct tcase t;
	tc_init(&t);
	t.c.hs.expect_status[0] = 400;
	t.c.hs.expect_status[1] = 426;
	t.c.hs.n_expect_status = 2;
	static const char *want_hdr[] = {"Sec-WebSocket-Version: 13"};
	t.c.hs.expect_headers = want_hdr;
	t.c.hs.n_expect_headers = 1;
	struct wsc_result r;
	wsc_result_init(&r, &t.c, "agent", 1, false);
	r.obs.connected = true;
	r.obs.http_status = 426;
	r.obs.http_response = strdup("HTTP/1.1 426 Upgrade Required\r\n"
	                             "sec-websocket-version: 8, 13\r\n\r\n");
	wsc_judge(&r, WSC_PROFILE_RFC);
	ASSERT_EQ(r.behavior, WSC_V_OK);
	ASSERT_EQ(r.behavior_close, WSC_CV_OK);
	ASSERT_STREQ(r.result_text, "expected status 400 or 426 / got 426");
	ASSERT_HAS(r.result_close_text, "no WebSocket close applies");

	free(r.obs.http_response);
	r.obs.http_response = strdup("HTTP/1.1 426 Upgrade Required\r\n\r\n");
	wsc_judge(&r, WSC_PROFILE_RFC);
	ASSERT_EQ(r.behavior, WSC_V_FAILED);
	ASSERT_HAS(r.result_text, "expected header \"Sec-WebSocket-Version: 13\" / got no such");

	r.obs.http_status = 101;
	r.obs.handshake_done = true;
	wsc_judge(&r, WSC_PROFILE_RFC);
	ASSERT_EQ(r.behavior, WSC_V_FAILED);
	ASSERT_EQ(r.behavior_close, WSC_CV_OK);
	ASSERT_STREQ(r.result_text, "expected status 400 or 426 / got 101");
	wsc_result_free(&r);
}

static void test_expect_header_token_list_on_101(void)
{
	struct tcase t;
	tc_init(&t);
	tc_alt(&t, WSC_V_OK, -1);
	static const char *want_hdr[] = {"Connection: upgrade", "Upgrade"};
	static const char *no_hdr[] = {"Sec-WebSocket-Protocol"};
	t.c.hs.expect_headers = want_hdr;
	t.c.hs.n_expect_headers = 2;
	t.c.hs.expect_no_headers = no_hdr;
	t.c.hs.n_expect_no_headers = 1;
	struct wsc_result r;
	res_init(&r, &t, false);
	r.obs.http_response = strdup("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
	                             "connection: keep-alive , Upgrade\r\n\r\n");
	wsc_judge(&r, WSC_PROFILE_RFC);
	ASSERT_EQ(r.behavior, WSC_V_OK);
	free(r.obs.http_response);
	r.obs.http_response = strdup("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
	                             "Connection: Upgrade\r\nSec-WebSocket-Protocol: chat\r\n\r\n");
	wsc_judge(&r, WSC_PROFILE_RFC);
	ASSERT_EQ(r.behavior, WSC_V_FAILED);
	ASSERT_HAS(r.result_text, "expected no header Sec-WebSocket-Protocol / got");
	wsc_result_free(&r);
}

static void test_handshake_never_completed(void)
{
	struct tcase t;
	tc_init(&t);
	tc_alt(&t, WSC_V_OK, -1);
	struct wsc_result r;
	wsc_result_init(&r, &t.c, "agent", 1, false);
	r.obs.connected = true;
	r.obs.http_status = 200;
	r.obs.handshake_error = strdup("status 200, not 101");
	wsc_judge(&r, WSC_PROFILE_RFC);
	ASSERT_EQ(r.behavior, WSC_V_FAILED);
	ASSERT_EQ(r.behavior_close, WSC_CV_FAILED);
	ASSERT_STREQ(r.result_text, "opening handshake was never completed: status 200, not 101");
	free(r.obs.handshake_error);
	r.obs.handshake_error = NULL;
	wsc_judge(&r, WSC_PROFILE_RFC);
	ASSERT_STREQ(r.result_close_text,
	             "opening handshake was never completed: expected status 101 / got 200");
	/* informational does not rescue a broken handshake */
	t.c.informational = true;
	wsc_judge(&r, WSC_PROFILE_RFC);
	ASSERT_EQ(r.behavior, WSC_V_FAILED);
	wsc_result_free(&r);
}

static void test_not_run_and_crash(void)
{
	struct tcase t;
	tc_init(&t);
	tc_alt(&t, WSC_V_OK, -1);
	struct wsc_result r;
	res_init(&r, &t, false);
	r.ran = false;
	r.obs.handshake_error = strdup("connection refused");
	wsc_judge(&r, WSC_PROFILE_RFC);
	ASSERT_EQ(r.behavior, WSC_V_FAILED);
	ASSERT_EQ(r.behavior_close, WSC_CV_FAILED);
	ASSERT_STREQ(r.result_text, "could not test: connection refused");
	ASSERT(!wsc_result_passed(&r, false));
	ASSERT(!wsc_result_skipped(&r));
	r.ran = true;
	r.obs.target_crashed = true;
	wsc_judge(&r, WSC_PROFILE_RFC);
	ASSERT_EQ(r.behavior, WSC_V_FAILED);
	ASSERT_EQ(r.behavior_close, WSC_CV_FAILED);
	ASSERT_HAS(r.result_text, "target crashed");
	wsc_result_free(&r);
}

static void test_unimplemented_when_extension_not_negotiated(void)
{
	struct tcase t;
	tc_init(&t);
	tc_alt(&t, WSC_V_OK, WSC_EV_TEXT, "x", -1);
	static const char *offers[] = {"permessage-deflate"};
	t.c.hs.offers = offers;
	t.c.hs.n_offers = 1;
	struct wsc_result r;
	res_init(&r, &t, false);
	r.obs.http_response = strdup("HTTP/1.1 101 Switching Protocols\r\n\r\n");
	/* without `require-extension` a declined offer is not a skip */
	wsc_judge(&r, WSC_PROFILE_RFC);
	ASSERT_EQ(r.behavior, WSC_V_FAILED);
	free(r.result_text);
	free(r.result_close_text);
	r.result_text = r.result_close_text = NULL;
	/* with it, the VM records the missing extension: UNIMPLEMENTED */
	t.c.require_extension = "permessage-deflate";
	r.obs.extension_missing = strdup("permessage-deflate was offered but not accepted");
	wsc_judge(&r, WSC_PROFILE_RFC);
	ASSERT_EQ(r.behavior, WSC_V_UNIMPLEMENTED);
	ASSERT(wsc_result_skipped(&r));
	ASSERT(!wsc_result_passed(&r, false));
	free(r.obs.http_response);
	r.obs.http_response = strdup("HTTP/1.1 101 Switching Protocols\r\n"
	                             "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n");
	free(r.obs.extension_missing);
	r.obs.extension_missing = NULL;
	free(r.result_text);
	free(r.result_close_text);
	r.result_text = r.result_close_text = NULL;
	wsc_judge(&r, WSC_PROFILE_RFC);
	ASSERT_EQ(r.behavior, WSC_V_FAILED); /* negotiated, but the text never came */
	wsc_result_free(&r);
}

static void test_verdict_names(void)
{
	ASSERT_STREQ(wsc_close_verdict_name(WSC_CV_OK), "OK");
	ASSERT_STREQ(wsc_close_verdict_name(WSC_CV_FAILED), "FAILED");
	ASSERT_STREQ(wsc_close_verdict_name(WSC_CV_UNCLEAN), "UNCLEAN");
	ASSERT_STREQ(wsc_close_verdict_name(WSC_CV_WRONG_CODE), "WRONG CODE");
	ASSERT_STREQ(wsc_close_verdict_name(WSC_CV_FAILED_BY_CLIENT), "FAILED BY CLIENT");
	ASSERT_STREQ(wsc_close_verdict_name(WSC_CV_INFORMATIONAL), "INFORMATIONAL");
}

static void test_wire_log_keeps_64_bytes_and_counts(void)
{
	struct wsc_observation o;
	memset(&o, 0, sizeof(o));
	uint8_t big[200];
	memset(big, 'a', sizeof(big));
	ASSERT_EQ(wsc_obs_wire_octets(&o, true, big, sizeof(big), 5), 0);
	ASSERT_EQ(wsc_obs_wire_octets(&o, false, big, 3, 6), 0);
	const uint8_t mask[4] = {1, 2, 3, 4};
	ASSERT_EQ(wsc_obs_wire_frame(&o, false, 0x1, 4, true, true, mask, big, 100, 7), 0);
	ASSERT_EQ(wsc_obs_wire_frame(&o, true, 0x8, 0, true, false, NULL, NULL, 0, 8), 0);
	ASSERT_EQ(wsc_obs_note(&o, 9, "KILL AFTER %d s", 1), 0);
	ASSERT_EQ(o.n_wire, 5);
	ASSERT_EQ(o.tx_octets, 200);
	ASSERT_EQ(o.rx_octets, 3);
	ASSERT_EQ(o.wire[0].len, WSC_WIRE_KEEP);
	ASSERT_EQ(o.wire[0].full_len, 200);
	ASSERT_EQ(o.wire[2].len, WSC_WIRE_KEEP);
	ASSERT_EQ(o.wire[2].full_len, 100);
	ASSERT_EQ(o.wire[2].rsv, 4);
	ASSERT_MEMEQ(o.wire[2].mask, 4, mask, 4);
	ASSERT_EQ(o.rx_frames[1], 1);
	ASSERT_EQ(o.tx_frames[8], 1);
	ASSERT_STREQ(o.wire[4].note, "KILL AFTER 1 s");

	/* The log is bounded: past the cap only statistics grow, with one marker. */
	for (int i = 0; i < 70000; i++)
		ASSERT_EQ(wsc_obs_wire_octets(&o, false, big, 1, 10), 0);
	ASSERT(o.n_wire < 66000);
	ASSERT_EQ(o.rx_octets, 3 + 70000);
	size_t marks = 0;
	for (size_t i = 0; i < o.n_wire; i++)
		if (o.wire[i].note && strcmp(o.wire[i].note, "WIRELOG TRUNCATED") == 0)
			marks++;
	ASSERT_EQ(marks, 1);
	ASSERT_EQ(wsc_obs_note(&o, 11, "TCP DROPPED BY PEER"), 0);
	ASSERT_STREQ(o.wire[o.n_wire - 1].note, "TCP DROPPED BY PEER");
	struct wsc_result r;
	wsc_result_init(&r, NULL, "a", 1, false);
	r.obs = o;
	wsc_result_free(&r);
}

static void test_run_add_takes_ownership(void)
{
	struct tcase t;
	tc_init(&t);
	tc_alt(&t, WSC_V_OK, -1);
	struct wsc_run run;
	memset(&run, 0, sizeof(run));
	for (int i = 0; i < 40; i++) {
		struct wsc_result r;
		res_init(&r, &t, false);
		ASSERT_EQ(wsc_obs_add_event(&r.obs, WSC_EV_TEXT, B("abc"), 3, 1), 0);
		wsc_judge(&r, WSC_PROFILE_RFC);
		ASSERT_EQ(wsc_run_add(&run, &r), 0);
		ASSERT_EQ(r.obs.n_events, 0); /* moved out */
		ASSERT(r.result_text == NULL);
		wsc_result_free(&r); /* harmless */
	}
	ASSERT_EQ(run.n_results, 40);
	ASSERT_EQ(run.results[39].obs.n_events, 1);
	ASSERT_MEMEQ(run.results[39].obs.events[0].data, 3, "abc", 3);
	wsc_run_free(&run);
	ASSERT_EQ(run.n_results, 0);
}

int main(void)
{
	RUN(test_alt_matches_exact_kind_length_bytes);
	RUN(test_first_matching_alternative_wins);
	RUN(test_no_alternative_is_failed_with_expected_got);
	RUN(test_long_payloads_are_cut_at_64_bytes);
	RUN(test_no_alternatives_means_nothing_expected);
	RUN(test_default_close_expectation_is_me_1000_clean);
	RUN(test_rule1_wrong_endpoint_and_fatal_flag);
	RUN(test_rule2_unclean_before_wrong_code);
	RUN(test_rule3_wrong_code_missing_code_and_fatal_code);
	RUN(test_rule4_failed_by_client_only_as_client);
	RUN(test_informational_forces_both);
	RUN(test_handshake_status_case);
	RUN(test_expect_header_token_list_on_101);
	RUN(test_handshake_never_completed);
	RUN(test_not_run_and_crash);
	RUN(test_unimplemented_when_extension_not_negotiated);
	RUN(test_verdict_names);
	RUN(test_wire_log_keeps_64_bytes_and_counts);
	RUN(test_run_add_takes_ownership);
	return tu_finish("judge");
}
