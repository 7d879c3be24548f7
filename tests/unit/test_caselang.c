/*
 * test_caselang.c - the case language parser (harness/caselang.c): every
 * statement into its IR, payload expressions, defaults, profiles, templates
 * and tables, file:line:col errors, robustness, and the built-in catalog.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "case.h"
#include "testutil.h"

static struct wsc_diag diag;

/* Load text into a fresh catalog; returns rc. */
static int load(struct wsc_catalog *cat, enum wsc_profile prof, const char *text)
{
	wsc_catalog_init(cat, prof);
	memset(&diag, 0, sizeof(diag));
	return wsc_catalog_load_text(cat, "t.wsc", text, strlen(text), &diag);
}

/* Expect text to fail with exactly `msg` (a "t.wsc:L:C: ..." prefix match). */
static void expect_error(const char *text, const char *msg)
{
	struct wsc_catalog cat;
	int rc = load(&cat, WSC_PROFILE_RFC, text);
	ASSERT_EQ(rc, -1);
	ASSERT_EQ(cat.n_cases, 0);
	if (strncmp(diag.msg, msg, strlen(msg)) != 0)
		ASSERT_STREQ(diag.msg, msg);
	else
		ASSERT(1);
	wsc_catalog_free(&cat);
}

#define HDR "case 1.1.1\n  title \"T\"\n  rfc 5.6\n"

static void test_full_case_fields(void)
{
	struct wsc_catalog cat;
	const char *text = "# a comment\n"
	                   "category 1 \"Framing\"\n"
	                   "\n"
	                   "case 1.1.1   # trailing comment\n"
	                   "  title \"Send text message with payload 0.\"\n"
	                   "  rfc 5.6\n"
	                   "  level SHOULD\n"
	                   "  side server\n"
	                   "  desc \"Longer\\tdescription\"\n"
	                   "  expectation \"Echo it\"\n"
	                   "  timeout 2.5\n"
	                   "  send text \"\"\n"
	                   "  kill 1\n"
	                   "  expect OK: message text \"\"\n"
	                   "  closing me codes=1000 clean\n"
	                   "end\n";
	ASSERT_EQ(load(&cat, WSC_PROFILE_RFC, text), 0);
	ASSERT_STREQ(diag.msg, "");
	ASSERT_EQ(cat.n_cases, 1);
	ASSERT_EQ(cat.n_categories, 1);
	ASSERT_EQ(cat.categories[0].number, 1);
	ASSERT_STREQ(cat.categories[0].name, "Framing");
	const struct wsc_case *c = &cat.cases[0];
	ASSERT_STREQ(c->id, "1.1.1");
	ASSERT_STREQ(c->title, "Send text message with payload 0.");
	ASSERT_STREQ(c->rfc, "5.6");
	ASSERT_EQ(c->level, WSC_LEVEL_SHOULD);
	ASSERT_EQ(c->side, WSC_SIDE_SERVER);
	ASSERT_STREQ(c->desc, "Longer\tdescription");
	ASSERT_STREQ(c->expectation, "Echo it");
	ASSERT_STREQ(c->file, "t.wsc");
	ASSERT_EQ(c->line, 4);
	ASSERT_EQ(c->timeout_ms, 2500);
	ASSERT_EQ(c->n_steps, 2);
	ASSERT_EQ(c->steps[0].kind, WSC_STEP_SEND);
	ASSERT_EQ(c->steps[0].line, 12);
	ASSERT_EQ(c->steps[0].u.send.opcode, 1);
	ASSERT_EQ(c->steps[0].u.send.fin, 1);
	ASSERT_EQ(c->steps[0].u.send.mask, WSC_MASK_AUTO);
	ASSERT_EQ(c->steps[0].u.send.payload.n, 0);
	ASSERT_EQ(c->steps[1].kind, WSC_STEP_KILL);
	ASSERT_EQ(c->steps[1].u.ms, 1000);
	ASSERT_EQ(c->n_alts, 1);
	ASSERT_EQ(c->alts[0].verdict, WSC_V_OK);
	ASSERT_EQ(c->alts[0].n_events, 1);
	ASSERT_EQ(c->alts[0].events[0].kind, WSC_EV_TEXT);
	ASSERT_EQ(c->alts[0].events[0].data.n, 0);
	ASSERT(c->close.set);
	ASSERT(c->close.closed_by_me);
	ASSERT_EQ(c->close.n_codes, 1);
	ASSERT_EQ(c->close.codes[0], 1000);
	ASSERT(c->close.require_clean);
	ASSERT(!c->close.fatal_endpoint);
	ASSERT(!c->close.fatal_code);
	ASSERT(!c->informational);
	ASSERT_STREQ(wsc_category_name(&cat, "1.1.1"), "Framing");
	ASSERT_STREQ(wsc_category_name(&cat, "2.1.1"), "Misc");
	ASSERT(wsc_catalog_find(&cat, "1.1.1") == c);
	ASSERT(wsc_catalog_find(&cat, "1.1.2") == NULL);
	wsc_catalog_free(&cat);
}

static void test_defaults(void)
{
	struct wsc_catalog cat;
	ASSERT_EQ(load(&cat, WSC_PROFILE_RFC, HDR "  send binary x\"fe ff\"\nend\n"), 0);
	const struct wsc_case *c = &cat.cases[0];
	ASSERT_EQ(c->level, WSC_LEVEL_MUST);
	ASSERT_EQ(c->side, WSC_SIDE_SERVER | WSC_SIDE_CLIENT);
	ASSERT_EQ(c->timeout_ms, 10000);
	ASSERT_STREQ(c->desc, "T");
	ASSERT(!c->close.set);
	ASSERT(c->close.closed_by_me);
	ASSERT_EQ(c->close.n_codes, 1);
	ASSERT_EQ(c->close.codes[0], 1000);
	ASSERT(c->close.require_clean);
	/* No expect line: one alternative, OK, expecting nothing. */
	ASSERT_EQ(c->n_alts, 1);
	ASSERT_EQ(c->alts[0].verdict, WSC_V_OK);
	ASSERT_EQ(c->alts[0].n_events, 0);
	ASSERT_STREQ(c->expectation, "Receive nothing; close: the harness closes first, code 1000, "
	                             "clean closing handshake");
	ASSERT_EQ(c->hs.n_expect_status, 0);
	ASSERT(c->hs.request_line == NULL);
	ASSERT(!c->hs.has_raw_request);
	ASSERT_EQ(c->steps[0].u.send.opcode, 2);
	ASSERT_MEMEQ(c->steps[0].u.send.payload.p, c->steps[0].u.send.payload.n, "\xfe\xff", 2);
	wsc_catalog_free(&cat);
}

static void test_generated_expectation(void)
{
	struct wsc_catalog cat;
	ASSERT_EQ(load(&cat, WSC_PROFILE_RFC,
	               HDR "  expect OK: message text \"Hello\"\n"
	                   "  expect NON-STRICT: nothing\n"
	                   "  expect OK: pong x\"00ff\"\n"
	                   "  closing peer codes=1002,1007 unclean\n"
	                   "end\n"),
	          0);
	const struct wsc_case *c = &cat.cases[0];
	ASSERT_STREQ(c->expectation,
	             "OK: receive text message \"Hello\" (5 bytes), pong 0x00ff (2 bytes); "
	             "NON-STRICT: receive nothing; close: the peer closes first, code 1002 or "
	             "1007, unclean allowed");
	ASSERT_EQ(c->n_alts, 2);
	ASSERT_EQ(c->alts[0].verdict, WSC_V_OK);
	ASSERT_EQ(c->alts[0].n_events, 2);
	ASSERT_EQ(c->alts[0].events[1].kind, WSC_EV_PONG);
	ASSERT_EQ(c->alts[1].verdict, WSC_V_NON_STRICT);
	ASSERT_EQ(c->alts[1].n_events, 0);
	ASSERT(!c->close.closed_by_me);
	ASSERT(!c->close.require_clean);
	ASSERT_EQ(c->close.n_codes, 2);
	ASSERT_EQ(c->close.codes[1], 1007);
	wsc_catalog_free(&cat);
}

static void test_payload_expressions(void)
{
	struct wsc_catalog cat;
	ASSERT_EQ(load(&cat, WSC_PROFILE_RFC,
	               HDR "  send text \"*\" * 125\n"
	                   "  send binary x\"fe\" * 65536\n"
	                   "  send text \"kosme\" + x\"eda080\" + \"edited\"\n"
	                   "  send text \"\\\\\\\"\\n\\r\\t\\x41\\x7f\"\n"
	                   "  send text \"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\"\n"
	                   "  send text empty + \"ab\" * 3 + empty * 7 + x\"\" + \"c\" * 0\n"
	                   "  send binary x\"01 02\" * 3 + x\"0A\"\n"
	                   "  send text \"*\"*4+\"+\"\n"
	                   "  expect OK: message binary x\"fe\" * 65536\n"
	                   "end\n"),
	          0);
	ASSERT_STREQ(diag.msg, "");
	const struct wsc_case *c = &cat.cases[0];
	ASSERT_EQ(c->n_steps, 8);
	const struct wsc_bytes *b = &c->steps[0].u.send.payload;
	ASSERT_EQ(b->n, 125);
	ASSERT(b->p[0] == '*' && b->p[124] == '*');
	b = &c->steps[1].u.send.payload;
	ASSERT_EQ(b->n, 65536);
	ASSERT(b->p[0] == 0xfe && b->p[65535] == 0xfe && memchr(b->p, 0, 65536) == NULL);
	/* The identical 64 KiB expectation shares the send's buffer. */
	ASSERT(c->alts[0].events[0].data.p == b->p);
	ASSERT_EQ(c->alts[0].events[0].kind, WSC_EV_BINARY);
	b = &c->steps[2].u.send.payload;
	ASSERT_MEMEQ(b->p, b->n,
	             "kosme\xed\xa0\x80"
	             "edited",
	             14);
	b = &c->steps[3].u.send.payload;
	ASSERT_MEMEQ(b->p, b->n, "\\\"\n\r\tA\x7f", 7);
	b = &c->steps[4].u.send.payload;
	ASSERT_EQ(b->n, 11);
	ASSERT_MEMEQ(b->p, b->n, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5", 11);
	b = &c->steps[5].u.send.payload;
	ASSERT_MEMEQ(b->p, b->n, "ababab", 6);
	b = &c->steps[6].u.send.payload;
	ASSERT_MEMEQ(b->p, b->n, "\x01\x02\x01\x02\x01\x02\x0a", 7);
	b = &c->steps[7].u.send.payload;
	ASSERT_MEMEQ(b->p, b->n, "****+", 5);
	wsc_catalog_free(&cat);

	/* A zero count in the middle or at the end writes nothing (fuzzer find). */
	ASSERT_EQ(load(&cat, WSC_PROFILE_RFC,
	               HDR "  send text \"Bd7&jh23\" * 26214 + \"BAill0\\r\\n\" *0\n"
	                   "  send text \"ab\" * 0 + \"c\" + \"dd\" * 0\nend\n"),
	          0);
	ASSERT_EQ(cat.cases[0].steps[0].u.send.payload.n, 8 * 26214);
	ASSERT_MEMEQ(cat.cases[0].steps[1].u.send.payload.p, cat.cases[0].steps[1].u.send.payload.n,
	             "c", 1);
	wsc_catalog_free(&cat);

	/* Largest allowed payload, and one byte more. */
	ASSERT_EQ(load(&cat, WSC_PROFILE_RFC, HDR "  send binary x\"00\" * 67108864\nend\n"), 0);
	ASSERT_EQ(cat.cases[0].steps[0].u.send.payload.n, 67108864);
	wsc_catalog_free(&cat);
	expect_error(HDR "  send binary x\"00\" * 67108863 + \"ab\"\nend\n",
	             "t.wsc:4:34: payload larger than 67108864 bytes");
	expect_error(HDR "  send binary \"ab\" * 99999999999999999999\nend\n",
	             "t.wsc:4:22: bad repeat count '99999999999999999999' (at most 67108864)");
}

static void test_send_options(void)
{
	struct wsc_catalog cat;
	ASSERT_EQ(load(&cat, WSC_PROFILE_RFC,
	               HDR "  send 3 \"x\" fin=0 rsv=5 mask=0a0B0c0D len=18446744073709551615 "
	                   "lenform=64 frag=2 chop=octet\n"
	                   "  send ping empty mask=none lenform=16 chop=7\n"
	                   "  send cont empty fin=1 len=0x8000000000000000\n"
	                   "  send pong \"p\"\n"
	                   "  send close x\"03e8\"\n"
	                   "  send 15 empty\n"
	                   "end\n"),
	          0);
	ASSERT_STREQ(diag.msg, "");
	const struct wsc_case *c = &cat.cases[0];
	ASSERT_EQ(c->n_steps, 6);
	const struct wsc_send *s = &c->steps[0].u.send;
	ASSERT_EQ(s->opcode, 3);
	ASSERT(!s->fin);
	ASSERT_EQ(s->rsv, 5);
	ASSERT_EQ(s->mask, WSC_MASK_KEY);
	ASSERT_MEMEQ(s->key, 4, "\x0a\x0b\x0c\x0d", 4);
	ASSERT(s->len_override);
	ASSERT(s->len == UINT64_MAX);
	ASSERT_EQ(s->lenform, 64);
	ASSERT_EQ(s->frag, 2);
	ASSERT(s->has_chop);
	ASSERT_EQ(s->chop.kind, WSC_CHOP_OCTET);
	s = &c->steps[1].u.send;
	ASSERT_EQ(s->opcode, 9);
	ASSERT_EQ(s->mask, WSC_MASK_NONE);
	ASSERT_EQ(s->lenform, 16);
	ASSERT_EQ(s->chop.kind, WSC_CHOP_SIZE);
	ASSERT_EQ(s->chop.size, 7);
	ASSERT(!s->len_override);
	s = &c->steps[2].u.send;
	ASSERT_EQ(s->opcode, 0);
	ASSERT(s->fin);
	ASSERT(s->len == 0x8000000000000000ull);
	ASSERT_EQ(c->steps[3].u.send.opcode, 10);
	ASSERT_EQ(c->steps[4].u.send.opcode, 8);
	ASSERT_EQ(c->steps[5].u.send.opcode, 15);
	wsc_catalog_free(&cat);
}

static void test_close_forms(void)
{
	struct wsc_catalog cat;
	ASSERT_EQ(load(&cat, WSC_PROFILE_RFC,
	               HDR "  close\n"
	                   "  close 1000\n"
	                   "  close 1001 \"bye\" + x\"ff\"\n"
	                   "  close raw x\"03\"\n"
	                   "  close 65535 \"\" fin=0 mask=none\n"
	                   "  close rsv=4\n"
	                   "  close raw \"a\" * 200\n"
	                   "end\n"),
	          0);
	ASSERT_STREQ(diag.msg, "");
	const struct wsc_case *c = &cat.cases[0];
	ASSERT_EQ(c->n_steps, 7);
	for (size_t i = 0; i < c->n_steps; i++) {
		ASSERT_EQ(c->steps[i].kind, WSC_STEP_SEND);
		ASSERT_EQ(c->steps[i].u.send.opcode, 8);
	}
	ASSERT_EQ(c->steps[0].u.send.payload.n, 0);
	ASSERT_MEMEQ(c->steps[1].u.send.payload.p, c->steps[1].u.send.payload.n, "\x03\xe8", 2);
	ASSERT_MEMEQ(c->steps[2].u.send.payload.p, c->steps[2].u.send.payload.n,
	             "\x03\xe9"
	             "bye\xff",
	             6);
	ASSERT_MEMEQ(c->steps[3].u.send.payload.p, c->steps[3].u.send.payload.n, "\x03", 1);
	ASSERT_MEMEQ(c->steps[4].u.send.payload.p, c->steps[4].u.send.payload.n, "\xff\xff", 2);
	ASSERT(!c->steps[4].u.send.fin);
	ASSERT_EQ(c->steps[4].u.send.mask, WSC_MASK_NONE);
	ASSERT_EQ(c->steps[5].u.send.payload.n, 0);
	ASSERT_EQ(c->steps[5].u.send.rsv, 4);
	ASSERT_EQ(c->steps[6].u.send.payload.n, 200);
	wsc_catalog_free(&cat);
}

static void test_other_steps(void)
{
	struct wsc_catalog cat;
	ASSERT_EQ(load(&cat, WSC_PROFILE_RFC,
	               HDR "  raw x\"81 00\" + \"GET\"\n"
	                   "  chop burst\n"
	                   "  chop frame\n"
	                   "  chop octet\n"
	                   "  chop 3\n"
	                   "  wait 1\n"
	                   "  wait 0.25 mark A\n"
	                   "  wait 1 mark \"long-tag-15byte\"\n"
	                   "  kill 0.5\n"
	                   "  closeafter 3\n"
	                   "  expect NON-STRICT: timeout A, timeout B\n"
	                   "  expect OK: timeout A message text \"x\" message binary empty\n"
	                   "end\n"),
	          0);
	ASSERT_STREQ(diag.msg, "");
	const struct wsc_case *c = &cat.cases[0];
	ASSERT_EQ(c->n_steps, 10);
	ASSERT_EQ(c->steps[0].kind, WSC_STEP_RAW);
	ASSERT_MEMEQ(c->steps[0].u.raw.p, c->steps[0].u.raw.n, "\x81\x00GET", 5);
	ASSERT_EQ(c->steps[1].kind, WSC_STEP_CHOP);
	ASSERT_EQ(c->steps[1].u.chop.kind, WSC_CHOP_BURST);
	ASSERT_EQ(c->steps[2].u.chop.kind, WSC_CHOP_FRAME);
	ASSERT_EQ(c->steps[3].u.chop.kind, WSC_CHOP_OCTET);
	ASSERT_EQ(c->steps[4].u.chop.kind, WSC_CHOP_SIZE);
	ASSERT_EQ(c->steps[4].u.chop.size, 3);
	ASSERT_EQ(c->steps[5].kind, WSC_STEP_WAIT);
	ASSERT_EQ(c->steps[5].u.wait.ms, 1000);
	ASSERT_STREQ(c->steps[5].u.wait.mark, "");
	ASSERT_EQ(c->steps[6].u.wait.ms, 250);
	ASSERT_STREQ(c->steps[6].u.wait.mark, "A");
	ASSERT_STREQ(c->steps[7].u.wait.mark, "long-tag-15byte");
	ASSERT_EQ(c->steps[8].kind, WSC_STEP_KILL);
	ASSERT_EQ(c->steps[8].u.ms, 500);
	ASSERT_EQ(c->steps[9].kind, WSC_STEP_CLOSEAFTER);
	ASSERT_EQ(c->steps[9].u.ms, 3000);
	ASSERT_EQ(c->n_alts, 2);
	ASSERT_EQ(c->alts[0].verdict, WSC_V_NON_STRICT);
	ASSERT_EQ(c->alts[0].n_events, 2);
	ASSERT_EQ(c->alts[0].events[0].kind, WSC_EV_TIMEOUT);
	ASSERT_MEMEQ(c->alts[0].events[1].data.p, c->alts[0].events[1].data.n, "B", 1);
	ASSERT_EQ(c->alts[1].verdict, WSC_V_OK);
	ASSERT_EQ(c->alts[1].n_events, 3);
	ASSERT_EQ(c->alts[1].events[1].kind, WSC_EV_TEXT);
	ASSERT_EQ(c->alts[1].events[2].kind, WSC_EV_BINARY);
	wsc_catalog_free(&cat);
}

static void test_handshake_statements(void)
{
	struct wsc_catalog cat;
	ASSERT_EQ(load(&cat, WSC_PROFILE_RFC,
	               HDR "  side server\n"
	                   "  offer \"permessage-deflate\"\n"
	                   "  offer \"permessage-deflate; client_max_window_bits\"\n"
	                   "  protocol \"chat\"\n"
	                   "  header \"Origin: http://evil.example\"\n"
	                   "  drop-header Sec-WebSocket-Key\n"
	                   "  drop-header \"Host\"\n"
	                   "  request-line \"POST / HTTP/1.1\"\n"
	                   "  raw-request \"GET / HTTP/1.1\\r\\nHost: {host}\\r\\n\\r\\n\"\n"
	                   "  expect-status 400,426, 404\n"
	                   "  expect-header \"Sec-WebSocket-Extensions: permessage-deflate\"\n"
	                   "  expect-header \"Sec-WebSocket-Accept\"\n"
	                   "  expect-no-header Sec-WebSocket-Protocol\n"
	                   "  informational\n"
	                   "end\n"),
	          0);
	ASSERT_STREQ(diag.msg, "");
	const struct wsc_case *c = &cat.cases[0];
	const struct wsc_handshake *h = &c->hs;
	ASSERT_EQ(h->n_offers, 2);
	ASSERT_STREQ(h->offers[1], "permessage-deflate; client_max_window_bits");
	ASSERT_EQ(h->n_protocols, 1);
	ASSERT_STREQ(h->protocols[0], "chat");
	ASSERT_EQ(h->n_add_headers, 1);
	ASSERT_STREQ(h->add_headers[0], "Origin: http://evil.example");
	ASSERT_EQ(h->n_drop_headers, 2);
	ASSERT_STREQ(h->drop_headers[0], "Sec-WebSocket-Key");
	ASSERT_STREQ(h->drop_headers[1], "Host");
	ASSERT_STREQ(h->request_line, "POST / HTTP/1.1");
	ASSERT(h->has_raw_request);
	ASSERT_MEMEQ(h->raw_request.p, h->raw_request.n, "GET / HTTP/1.1\r\nHost: {host}\r\n\r\n",
	             32);
	ASSERT_EQ(h->n_expect_status, 3);
	ASSERT_EQ(h->expect_status[0], 400);
	ASSERT_EQ(h->expect_status[1], 426);
	ASSERT_EQ(h->expect_status[2], 404);
	ASSERT_EQ(h->n_expect_headers, 2);
	ASSERT_STREQ(h->expect_headers[1], "Sec-WebSocket-Accept");
	ASSERT_EQ(h->n_expect_no_headers, 1);
	ASSERT_STREQ(h->expect_no_headers[0], "Sec-WebSocket-Protocol");
	ASSERT(c->informational);
	ASSERT(strncmp(c->expectation, "Informational:", 14) == 0);
	wsc_catalog_free(&cat);
}

static void test_closing_variants(void)
{
	struct wsc_catalog cat;
	ASSERT_EQ(load(&cat, WSC_PROFILE_RFC,
	               "case 1.1\n title \"a\"\n rfc \"7692/7.2.1\"\n"
	               " closing peer unclean fatal-endpoint fatal-code\nend\n"
	               "case 1.2\n title \"b\"\n rfc 7.4.1\n"
	               " closing me codes=1000, 1001,3000 clean\nend\n"),
	          0);
	ASSERT_STREQ(diag.msg, "");
	const struct wsc_close_expect *ce = &cat.cases[0].close;
	ASSERT_STREQ(cat.cases[0].rfc, "7692/7.2.1");
	ASSERT(ce->set && !ce->closed_by_me && !ce->require_clean);
	ASSERT_EQ(ce->n_codes, 0);
	ASSERT(ce->fatal_endpoint && ce->fatal_code);
	ce = &cat.cases[1].close;
	ASSERT(ce->set && ce->closed_by_me && ce->require_clean);
	ASSERT_EQ(ce->n_codes, 3);
	ASSERT_EQ(ce->codes[2], 3000);
	wsc_catalog_free(&cat);
}

static void test_profiles(void)
{
	const char *text = "@autobahn category 9 \"Autobahn only\"\n"
	                   "case 2.1\n"
	                   "  title \"p\"\n"
	                   "  rfc 5.5.2\n"
	                   "  timeout 5\n"
	                   "  @hardened timeout 30\n"
	                   "  @rfc @hardened send ping \"r\"\n"
	                   "  @autobahn send ping \"a\"\n"
	                   "  send pong \"all\"\n"
	                   "  @autobahn expect NON-STRICT: nothing\n"
	                   "  @autobahn closing peer unclean\n"
	                   "  expect OK: pong \"r\"\n"
	                   "end\n"
	                   "@hardened case 200.1\n"
	                   "  title \"h\"\n"
	                   "  rfc 10.4\n"
	                   "end\n";
	static const enum wsc_profile profs[3] = {WSC_PROFILE_RFC, WSC_PROFILE_AUTOBAHN,
	                                          WSC_PROFILE_HARDENED};
	for (int i = 0; i < 3; i++) {
		struct wsc_catalog cat;
		ASSERT_EQ(load(&cat, profs[i], text), 0);
		ASSERT_STREQ(diag.msg, "");
		ASSERT_EQ(cat.profile, profs[i]);
		ASSERT_EQ(cat.n_cases, profs[i] == WSC_PROFILE_HARDENED ? 2 : 1);
		ASSERT_EQ(cat.n_categories, profs[i] == WSC_PROFILE_AUTOBAHN ? 1 : 0);
		const struct wsc_case *c = &cat.cases[0];
		ASSERT_EQ(c->timeout_ms, profs[i] == WSC_PROFILE_HARDENED ? 30000 : 5000);
		ASSERT_EQ(c->n_steps, 2);
		ASSERT_MEMEQ(c->steps[0].u.send.payload.p, 1,
		             profs[i] == WSC_PROFILE_AUTOBAHN ? "a" : "r", 1);
		ASSERT_EQ(c->n_alts, profs[i] == WSC_PROFILE_AUTOBAHN ? 2 : 1);
		ASSERT_EQ(c->close.set, profs[i] == WSC_PROFILE_AUTOBAHN);
		if (profs[i] == WSC_PROFILE_HARDENED)
			ASSERT_STREQ(cat.cases[1].id, "200.1");
		wsc_catalog_free(&cat);
	}
	/* One ID defined once per profile. */
	const char *alt =
	        "@rfc case 7.1.6\n title \"r\"\n rfc 7\nend\n"
	        "@autobahn @hardened case 7.1.6\n title \"a\"\n rfc 7\n informational\nend\n";
	for (int i = 0; i < 3; i++) {
		struct wsc_catalog cat;
		ASSERT_EQ(load(&cat, profs[i], alt), 0);
		ASSERT_EQ(cat.n_cases, 1);
		ASSERT_STREQ(cat.cases[0].title, profs[i] == WSC_PROFILE_RFC ? "r" : "a");
		ASSERT_EQ(cat.cases[0].informational, profs[i] != WSC_PROFILE_RFC);
		wsc_catalog_free(&cat);
	}
	/* An inactive line is still checked. */
	expect_error(HDR "  @autobahn send ping \"\\q\"\nend\n",
	             "t.wsc:4:24: unknown escape '\\q'");
	expect_error(HDR "  @nosuch send ping empty\nend\n",
	             "t.wsc:4:3: unknown profile '@nosuch'");
	expect_error(HDR "  timeout 1\n  timeout 2\nend\n", "t.wsc:5:3: duplicate 'timeout'");
	expect_error(HDR "  @rfc\nend\n", "t.wsc:4:7: profile mark without a statement");
}

/* A dozen malformed inputs, each with its exact location. */
static void test_watch_memory(void)
{
	struct wsc_catalog cat;
	ASSERT_EQ(load(&cat, WSC_PROFILE_RFC, HDR "  watch-memory 256\n  send text \"x\"\nend\n"),
	          0);
	ASSERT_STREQ(diag.msg, "");
	ASSERT_EQ(cat.cases[0].watch_memory_mib, 256);
	wsc_catalog_free(&cat);
	ASSERT_EQ(load(&cat, WSC_PROFILE_RFC, HDR "  send text \"x\"\nend\n"), 0);
	ASSERT_EQ(cat.cases[0].watch_memory_mib, 0);
	wsc_catalog_free(&cat);
	ASSERT_EQ(load(&cat, WSC_PROFILE_RFC, HDR "  watch-memory 65536\nend\n"), 0);
	ASSERT_EQ(cat.cases[0].watch_memory_mib, 65536);
	wsc_catalog_free(&cat);
	struct wsc_catalog bad;
	const char *texts[] = {HDR "  watch-memory 0\nend\n",  HDR "  watch-memory 65537\nend\n",
	                       HDR "  watch-memory\nend\n",    HDR "  watch-memory 12 x\nend\n",
	                       HDR "  watch-memory -1\nend\n", HDR "  watch-memory 1.5\nend\n"};
	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		ASSERT_EQ(load(&bad, WSC_PROFILE_RFC, texts[i]), -1);
		ASSERT(strncmp(diag.msg, "t.wsc:4:", 8) == 0);
		wsc_catalog_free(&bad);
	}
}

static void test_errors(void)
{
	expect_error("bogus 1\n", "t.wsc:1:1: unknown statement 'bogus'");
	expect_error(HDR "  sned text \"x\"\nend\n", "t.wsc:4:3: unknown statement 'sned'");
	expect_error(HDR "  send text \"abc\nend\n", "t.wsc:4:13: unterminated string");
	expect_error(HDR "  send text \"a\\zb\"\nend\n", "t.wsc:4:15: unknown escape '\\z'");
	expect_error(HDR "  send text \"a\\x4\"\nend\n",
	             "t.wsc:4:15: bad escape: \\x needs two hex digits");
	expect_error(HDR "  send text x\"abc\"\nend\n", "t.wsc:4:13: odd number of hex digits");
	expect_error(HDR "  send text x\"zz\"\nend\n", "t.wsc:4:15: bad hex digit");
	expect_error(HDR "  send text \"x\"\n",
	             "t.wsc:1:6: case 1.1.1 is not closed ('end' missing)");
	expect_error(HDR "  send text \"x\" rsv=9\nend\n", "t.wsc:4:21: bad rsv '9'");
	expect_error(HDR "  send text \"x\" fin=2\nend\n", "t.wsc:4:21: bad fin '2'");
	expect_error(HDR "  send text \"x\" mask=12\nend\n", "t.wsc:4:22: bad mask");
	expect_error(HDR "  send text \"x\" frob=1\nend\n", "t.wsc:4:17: unknown option 'frob'");
	expect_error(HDR "  send text \"x\" fin=0 fin=0\nend\n",
	             "t.wsc:4:23: duplicate option 'fin'");
	expect_error(HDR "  send text\nend\n", "t.wsc:4:12: expected a payload");
	expect_error(HDR "  send txt \"x\"\nend\n", "t.wsc:4:8: expected an opcode");
	expect_error(HDR "  send 16 \"x\"\nend\n", "t.wsc:4:8: expected an opcode");
	expect_error(HDR "  wait x\nend\n", "t.wsc:4:8: bad wait 'x'");
	expect_error(HDR "  wait 1 mark \"0123456789abcdef\"\nend\n",
	             "t.wsc:4:15: a tag must be 1-15 bytes");
	expect_error(HDR "  timeout 1.2345\nend\n", "t.wsc:4:11: bad timeout '1.2345'");
	expect_error(HDR "  level OFTEN\nend\n", "t.wsc:4:9: expected MUST, SHOULD or MAY");
	expect_error(HDR "  side peer\nend\n", "t.wsc:4:8: expected server, client or both");
	expect_error(HDR "  title \"again\"\nend\n", "t.wsc:4:3: duplicate 'title'");
	expect_error(HDR "  closing me\nend\n", "t.wsc:4:11: closing needs 'clean' or 'unclean'");
	expect_error(HDR "  closing them clean\nend\n", "t.wsc:4:11: expected me or peer");
	expect_error(HDR "  closing me codes=1000,x clean\nend\n",
	             "t.wsc:4:25: bad close code 'x'");
	expect_error(HDR "  expect GOOD: nothing\nend\n", "t.wsc:4:10: expected OK:");
	expect_error(HDR "  expect OK: nothing more\nend\n",
	             "t.wsc:4:22: unexpected 'more' at end of statement");
	expect_error(HDR "  expect OK: message txt \"a\"\nend\n",
	             "t.wsc:4:22: expected text or binary, got 'txt'");
	expect_error(HDR "  expect OK:\nend\n",
	             "t.wsc:4:13: expected events or 'nothing', got end of line");
	expect_error(HDR "  expect-status 99\nend\n", "t.wsc:4:17: bad status '99'");
	expect_error(HDR "  close \"why\"\nend\n", "t.wsc:4:9: expected a close code");
	expect_error(HDR "  close 70000\nend\n", "t.wsc:4:9: bad close code '70000'");
	expect_error(HDR "  header \"a\\x00b\"\nend\n", "t.wsc:4:10: NUL byte not allowed");
	expect_error(HDR "  kill 1 2\nend\n", "t.wsc:4:10: unexpected '2' at end of statement");
	expect_error("case 1.01\nend\n", "t.wsc:1:6: case ID components must be positive");
	expect_error("case 1..2\nend\n", "t.wsc:1:6: case ID has an empty component");
	expect_error("case 0.1\nend\n", "t.wsc:1:6: case ID components must be positive");
	expect_error("case a.b\nend\n", "t.wsc:1:6: case ID must be dot-separated");
	expect_error("case 1.1\n  rfc 5\nend\n", "t.wsc:1:6: case 1.1 has no title");
	expect_error("case 1.1\n  title \"x\"\nend\n", "t.wsc:1:6: case 1.1 has no rfc section");
	expect_error("  send text \"x\"\n", "t.wsc:1:3: 'send' outside a case");
	expect_error("end\n", "t.wsc:1:1: 'end' without 'case' or 'template'");
	expect_error(HDR "case 1.1.2\n", "t.wsc:4:1: 'case' inside case 1.1.1 (missing 'end'?)");
	expect_error("category 1 \"A\"\ncategory 1 \"B\"\n",
	             "t.wsc:2:12: category 1 already named \"A\"");
	expect_error("category x \"A\"\n", "t.wsc:1:10: bad category number 'x'");
	expect_error(HDR "end\n" HDR "end\n",
	             "t.wsc:5:6: duplicate case ID 1.1.1 (first defined at t.wsc:1)");
	expect_error("template a\n title \"x\"\n", "t.wsc:1:1: template 'a' is not closed");
	expect_error("template a\ncase 1.1\n", "t.wsc:2:1: 'case' inside template 'a'");
	expect_error("expand tables/none-such.tsv\n",
	             "t.wsc:1:8: table tables/none-such.tsv not found (built in)");
	expect_error(HDR "  send text \"\x01\" junk\xff\nend\n",
	             "t.wsc:4:17: expected an option (fin= rsv= mask= len= lenform= frag= chop= "
	             "compress=), "
	             "got 'junk\\xff'");
}

/* Write a file under dir. */
static void put(const char *dir, const char *name, const char *text)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	ASSERT(f != NULL);
	if (!f)
		return;
	fputs(text, f);
	fclose(f);
}

static void test_templates_and_tables(void)
{
	char dir[] = "/tmp/wsc-caselang-XXXXXX";
	ASSERT(mkdtemp(dir) != NULL);
	char sub[600], path[600];
	snprintf(sub, sizeof(sub), "%s/tables", dir);
	mkdir(sub, 0700);
	put(dir, "tables/t.tsv",
	    "# comment line\n"
	    "id\ttemplate\thex\tnote\r\n"
	    "6.1.2\tvalid\tce ba\tkappa\n"
	    "6.1.10\tvalid\t\tempty one\n"
	    "\n"
	    "6.1.1\tinvalid\tff\tbad byte\n");
	put(dir, "a.wsc",
	    "category 6 \"UTF-8\"\n"
	    "expand tables/t.tsv\n"
	    "template valid\n"
	    "  title \"Valid ${note} x${hex}\"\n"
	    "  rfc 8.1\n"
	    "  send text x\"${hex}\"\n"
	    "  expect OK: message text x\"${hex}\"\n"
	    "end\n");
	put(dir, "b.wsc",
	    "template invalid\n"
	    "  # comments and blank lines in a body are fine\n"
	    "\n"
	    "  title \"Invalid ${note}\"\n"
	    "  rfc 8.1\n"
	    "  @autobahn send text x\"${hex}\" + \"$\"\n"
	    "  closing peer codes=1007 unclean\n"
	    "end\n"
	    "case 6.1.3\n"
	    "  title \"plain\"\n"
	    "  rfc 8.1\n"
	    "end\n");
	struct wsc_catalog cat;
	wsc_catalog_init(&cat, WSC_PROFILE_AUTOBAHN);
	memset(&diag, 0, sizeof(diag));
	ASSERT_EQ(wsc_catalog_load_path(&cat, dir, &diag), 0);
	ASSERT_STREQ(diag.msg, "");
	ASSERT_EQ(cat.n_cases, 4);
	if (cat.n_cases == 4) {
		ASSERT_STREQ(cat.cases[0].id, "6.1.1");
		ASSERT_STREQ(cat.cases[1].id, "6.1.2");
		ASSERT_STREQ(cat.cases[2].id, "6.1.3");
		ASSERT_STREQ(cat.cases[3].id, "6.1.10");
		const struct wsc_case *c = &cat.cases[0];
		ASSERT_STREQ(c->title, "Invalid bad byte");
		snprintf(path, sizeof(path), "%s/tables/t.tsv", dir);
		ASSERT_STREQ(c->file, path);
		ASSERT_EQ(c->line, 6);
		ASSERT_EQ(c->n_steps, 1);
		ASSERT_MEMEQ(c->steps[0].u.send.payload.p, c->steps[0].u.send.payload.n, "\xff$",
		             2);
		ASSERT_EQ(c->close.codes[0], 1007);
		c = &cat.cases[1];
		ASSERT_STREQ(c->title, "Valid kappa xce ba");
		ASSERT_MEMEQ(c->steps[0].u.send.payload.p, c->steps[0].u.send.payload.n, "\xce\xba",
		             2);
		ASSERT_EQ(c->alts[0].events[0].data.n, 2);
		ASSERT_EQ(cat.cases[3].steps[0].u.send.payload.n, 0);
		snprintf(path, sizeof(path), "%s/b.wsc", dir);
		ASSERT_STREQ(cat.cases[2].file, path);
		ASSERT_STREQ(wsc_category_name(&cat, "6.1.10"), "UTF-8");
	}
	/* Loading the same directory again: every ID is a duplicate; nothing changes. */
	ASSERT_EQ(wsc_catalog_load_path(&cat, dir, &diag), -1);
	ASSERT(strstr(diag.msg, "duplicate template 'valid'") != NULL);
	ASSERT_EQ(cat.n_cases, 4);
	wsc_catalog_free(&cat);

	/* Table errors, with table locations. */
	put(dir, "tables/bad.tsv", "id\ttemplate\thex\n6.2.1\tvalid\n");
	put(dir, "c.wsc",
	    "template valid\n  title \"x\"\n  rfc 1\n  send text x\"${hex}\"\nend\n"
	    "expand tables/bad.tsv\n");
	snprintf(path, sizeof(path), "%s/c.wsc", dir);
	wsc_catalog_init(&cat, WSC_PROFILE_RFC);
	ASSERT_EQ(wsc_catalog_load_path(&cat, path, &diag), -1);
	char want[700];
	snprintf(want, sizeof(want), "%s/tables/bad.tsv:2:1: row has 2 fields, the header has 3",
	         dir);
	ASSERT_STREQ(diag.msg, want);
	wsc_catalog_free(&cat);

	put(dir, "tables/bad.tsv", "id\ttemplate\thex\n6.2.1\tvalid\tzz\n6.2.2\tnope\t00\n");
	wsc_catalog_init(&cat, WSC_PROFILE_RFC);
	ASSERT_EQ(wsc_catalog_load_path(&cat, path, &diag), -1);
	snprintf(want, sizeof(want),
	         "%s/c.wsc:4:15: bad hex digit in x\"...\" (template 'valid' expanded for "
	         "%s/tables/bad.tsv:2)",
	         dir, dir);
	ASSERT_STREQ(diag.msg, want);
	wsc_catalog_free(&cat);

	put(dir, "tables/bad.tsv", "id\ttemplate\thex\n6.2.2\tnope\t00\n");
	wsc_catalog_init(&cat, WSC_PROFILE_RFC);
	ASSERT_EQ(wsc_catalog_load_path(&cat, path, &diag), -1);
	snprintf(want, sizeof(want), "%s/tables/bad.tsv:2:7: unknown template 'nope'", dir);
	ASSERT_STREQ(diag.msg, want);
	wsc_catalog_free(&cat);

	put(dir, "tables/bad.tsv", "id\thex\n6.2.2\t00\n");
	wsc_catalog_init(&cat, WSC_PROFILE_RFC);
	ASSERT_EQ(wsc_catalog_load_path(&cat, path, &diag), -1);
	snprintf(want, sizeof(want), "%s/tables/bad.tsv:1:1: table has no 'template' column", dir);
	ASSERT_STREQ(diag.msg, want);
	wsc_catalog_free(&cat);

	put(dir, "tables/bad.tsv", "id\ttemplate\n6.2.x\tvalid\n");
	put(dir, "c.wsc",
	    "template valid\n  title \"${nosuch}\"\n  rfc 1\nend\nexpand tables/bad.tsv\n");
	wsc_catalog_init(&cat, WSC_PROFILE_RFC);
	ASSERT_EQ(wsc_catalog_load_path(&cat, path, &diag), -1);
	snprintf(want, sizeof(want),
	         "%s/tables/bad.tsv:2:1: case ID must be dot-separated positive integers, e.g. "
	         "1.1.1",
	         dir);
	ASSERT_STREQ(diag.msg, want);
	wsc_catalog_free(&cat);

	put(dir, "tables/bad.tsv", "id\ttemplate\n6.2.1\tvalid\n");
	wsc_catalog_init(&cat, WSC_PROFILE_RFC);
	ASSERT_EQ(wsc_catalog_load_path(&cat, path, &diag), -1);
	snprintf(want, sizeof(want),
	         "%s/c.wsc:2:10: unknown column '${nosuch}' (template 'valid' expanded for "
	         "%s/tables/bad.tsv:2)",
	         dir, dir);
	ASSERT_STREQ(diag.msg, want);
	wsc_catalog_free(&cat);

	/* A directory without .wsc files. */
	wsc_catalog_init(&cat, WSC_PROFILE_RFC);
	ASSERT_EQ(wsc_catalog_load_path(&cat, sub, &diag), -1);
	snprintf(want, sizeof(want), "%s: no .wsc file in this directory", sub);
	ASSERT_STREQ(diag.msg, want);
	wsc_catalog_free(&cat);

	/* Missing file. */
	snprintf(path, sizeof(path), "%s/none.wsc", dir);
	wsc_catalog_init(&cat, WSC_PROFILE_RFC);
	ASSERT_EQ(wsc_catalog_load_path(&cat, path, &diag), -1);
	snprintf(want, sizeof(want), "%s: cannot open: No such file or directory", path);
	ASSERT_STREQ(diag.msg, want);
	wsc_catalog_free(&cat);

	char cmd[700];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ASSERT_EQ(system(cmd), 0);
}

static void test_failed_load_rolls_back(void)
{
	struct wsc_catalog cat;
	ASSERT_EQ(load(&cat, WSC_PROFILE_RFC, "category 1 \"A\"\n" HDR "end\n"), 0);
	const char *bad = "category 2 \"B\"\ncase 1.2\n title \"x\"\n rfc 1\nend\n" HDR "end\n";
	ASSERT_EQ(wsc_catalog_load_text(&cat, "u.wsc", bad, strlen(bad), &diag), -1);
	ASSERT_STREQ(diag.msg, "u.wsc:6:6: duplicate case ID 1.1.1 (first defined at t.wsc:2)");
	ASSERT_EQ(cat.n_cases, 1);
	ASSERT_EQ(cat.n_categories, 1);
	ASSERT(wsc_catalog_find(&cat, "1.2") == NULL);
	const char *good = "case 1.2\n title \"x\"\n rfc 1\nend\n";
	ASSERT_EQ(wsc_catalog_load_text(&cat, "v.wsc", good, strlen(good), &diag), 0);
	ASSERT_EQ(cat.n_cases, 2);
	ASSERT(wsc_catalog_find(&cat, "1.2") != NULL);
	ASSERT(wsc_catalog_find(&cat, "1.1.1") != NULL);
	wsc_catalog_free(&cat);
}

static void test_natural_sort(void)
{
	struct wsc_catalog cat;
	const char *ids[] = {"10.1.1", "1.1.10", "2.1", "1.1.2", "1.1", "100.2.13", "1.1.1", "9.1"};
	char text[4096];
	size_t n = 0;
	for (size_t i = 0; i < 8; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
		                      "case %s\n title \"x\"\n rfc 1\nend\n", ids[i]);
	ASSERT_EQ(load(&cat, WSC_PROFILE_RFC, text), 0);
	const char *want[] = {"1.1", "1.1.1", "1.1.2",  "1.1.10",
	                      "2.1", "9.1",   "10.1.1", "100.2.13"};
	ASSERT_EQ(cat.n_cases, 8);
	for (size_t i = 0; i < 8 && i < cat.n_cases; i++)
		ASSERT_STREQ(cat.cases[i].id, want[i]);
	for (size_t i = 0; i < 8; i++)
		ASSERT(wsc_catalog_find(&cat, ids[i]) != NULL);
	wsc_catalog_free(&cat);
}

static void test_names(void)
{
	ASSERT_STREQ(wsc_verdict_name(WSC_V_OK), "OK");
	ASSERT_STREQ(wsc_verdict_name(WSC_V_NON_STRICT), "NON-STRICT");
	ASSERT_STREQ(wsc_verdict_name(WSC_V_INFORMATIONAL), "INFORMATIONAL");
	ASSERT_STREQ(wsc_verdict_name(WSC_V_UNIMPLEMENTED), "UNIMPLEMENTED");
	ASSERT_STREQ(wsc_verdict_name(WSC_V_FAILED), "FAILED");
	ASSERT_STREQ(wsc_level_name(WSC_LEVEL_MUST), "MUST");
	ASSERT_STREQ(wsc_level_name(WSC_LEVEL_SHOULD), "SHOULD");
	ASSERT_STREQ(wsc_level_name(WSC_LEVEL_MAY), "MAY");
	ASSERT_STREQ(wsc_side_name(WSC_SIDE_SERVER), "server");
	ASSERT_STREQ(wsc_side_name(WSC_SIDE_CLIENT), "client");
	ASSERT_STREQ(wsc_side_name(WSC_SIDE_SERVER | WSC_SIDE_CLIENT), "both");
}

/* Hostile bytes: every prefix, and deterministic mutations, never crash or leak. */
static void test_hostile_input(void)
{
	const char *seed = "category 1 \"F\"\n" HDR "  side both\n  send text \"a\" * 3 + x\"ff\" "
	                   "fin=0\n  close 1000 \"r\"\n  wait 1 mark A\n  expect OK: message "
	                   "text \"aaa\" timeout A\n  closing peer codes=1002 unclean\nend\n"
	                   "template t\n title \"${id}\"\nend\n";
	size_t n = strlen(seed);
	struct wsc_catalog cat;
	for (size_t cut = 0; cut <= n; cut++) {
		uint8_t *p = tu_guard_copy(seed, cut);
		wsc_catalog_init(&cat, WSC_PROFILE_RFC);
		wsc_catalog_load_text(&cat, "h.wsc", (const char *)p, cut, &diag);
		wsc_catalog_free(&cat);
		tu_guard_free(p, cut);
	}
	uint32_t x = 12345;
	char buf[1024];
	int loaded = 0;
	for (int iter = 0; iter < 3000; iter++) {
		memcpy(buf, seed, n);
		for (int k = 0; k < 1 + iter % 4; k++) {
			x = x * 1103515245u + 12345u;
			buf[(x >> 8) % n] = (char)(x >> 24);
		}
		uint8_t *p = tu_guard_copy(buf, n);
		wsc_catalog_init(&cat, (enum wsc_profile)(iter % 3));
		if (wsc_catalog_load_text(&cat, "h.wsc", (const char *)p, n, &diag) == 0)
			loaded++;
		else
			ASSERT(strncmp(diag.msg, "h.wsc:", 6) == 0 ||
			       strncmp(diag.msg, "tables/", 7) == 0);
		wsc_catalog_free(&cat);
		tu_guard_free(p, n);
	}
	ASSERT(loaded > 0);
}

/* Process CPU time: a loaded machine must not make the budget check flaky. */
static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* The built-in catalog loads under every profile, naturally sorted. */
static void test_builtin_catalog(void)
{
	size_t n_wsc = 0;
	for (size_t i = 0; i < wsc_builtin_file_count; i++) {
		const struct wsc_embedded_file *f = &wsc_builtin_files[i];
		/* wsc-embed: names relative to cases/, bytes NUL-terminated past len. */
		ASSERT(f->name[0] != '/' && strncmp(f->name, "..", 2) != 0);
		ASSERT(f->data[f->len] == '\0');
		if (strstr(f->name, ".wsc"))
			n_wsc++;
	}
	ASSERT(wsc_builtin_files[wsc_builtin_file_count].name == NULL);
	double best = 1e9;
	for (int prof = 0; prof < 3; prof++) {
		struct wsc_catalog cat;
		wsc_catalog_init(&cat, (enum wsc_profile)prof);
		double t0 = now_ms();
		int rc = wsc_catalog_load_builtin(&cat, &diag);
		double dt = now_ms() - t0;
		if (dt < best)
			best = dt;
		if (rc != 0)
			fprintf(stderr, "built-in catalog (profile %d): %s\n", prof, diag.msg);
		ASSERT_EQ(rc, 0);
		if (n_wsc)
			ASSERT(cat.n_cases > 0);
		for (size_t i = 1; i < cat.n_cases; i++)
			ASSERT(wsc_id_cmp(cat.cases[i - 1].id, cat.cases[i].id) < 0);
		size_t bytes = 0;
		for (size_t i = 0; i < cat.n_cases; i++)
			for (size_t s = 0; s < cat.cases[i].n_steps; s++)
				if (cat.cases[i].steps[s].kind == WSC_STEP_SEND)
					bytes += cat.cases[i].steps[s].u.send.payload.n;
		printf("built-in catalog, profile %d: %zu files, %zu cases, %zu send bytes, "
		       "%.2f ms CPU\n",
		       prof, n_wsc, cat.n_cases, bytes, dt);
		wsc_catalog_free(&cat);
	}
	/* Load time is printed, not asserted: speed is a benchmark, never a test. */
	printf("built-in catalog: best load %.2f ms CPU\n", best);
}

int main(void)
{
	RUN(test_full_case_fields);
	RUN(test_defaults);
	RUN(test_generated_expectation);
	RUN(test_payload_expressions);
	RUN(test_send_options);
	RUN(test_close_forms);
	RUN(test_other_steps);
	RUN(test_handshake_statements);
	RUN(test_closing_variants);
	RUN(test_profiles);
	RUN(test_watch_memory);
	RUN(test_errors);
	RUN(test_templates_and_tables);
	RUN(test_failed_load_rolls_back);
	RUN(test_natural_sort);
	RUN(test_names);
	RUN(test_hostile_input);
	RUN(test_builtin_catalog);
	return tu_finish("caselang");
}
