/*
 * test_extension.c - permessage-deflate negotiation (RFC 7692 section 7.1):
 * parameter parsing, server negotiation, client answer checking, formatting.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "wsref/wsref.h"

/* Parse s (placed against a guard page); returns the status. */
static enum wsr_status parse(const char *s, bool *is_pmd, struct wsr_pmd_params *p)
{
	size_t n = strlen(s);
	uint8_t *g = tu_guard_copy(s, n);
	enum wsr_status st = wsr_pmd_parse((const char *)g, n, is_pmd, p);
	tu_guard_free(g, n);
	return st;
}

static void expect_params(const char *s, bool snct, bool cnct, int smwb, int cmwb)
{
	bool is_pmd = false;
	struct wsr_pmd_params p;
	tu_current = s;
	ASSERT_EQ(parse(s, &is_pmd, &p), WSR_OK);
	ASSERT(is_pmd);
	ASSERT_EQ(p.server_no_context_takeover, snct);
	ASSERT_EQ(p.client_no_context_takeover, cnct);
	ASSERT_EQ(p.server_max_window_bits, smwb);
	ASSERT_EQ(p.client_max_window_bits, cmwb);
}

static void expect_bad(const char *s)
{
	bool is_pmd;
	struct wsr_pmd_params p;
	tu_current = s;
	ASSERT_EQ(parse(s, &is_pmd, &p), WSR_EXTENSION_PARAMS);
}

static void test_parse_every_parameter_form(void)
{
	expect_params("permessage-deflate", false, false, 0, 0);
	expect_params("  permessage-deflate  ", false, false, 0, 0);
	expect_params("permessage-deflate; server_no_context_takeover", true, false, 0, 0);
	expect_params("permessage-deflate;client_no_context_takeover", false, true, 0, 0);
	expect_params("permessage-deflate ;\tclient_max_window_bits", false, false, 0,
	              WSR_PMD_BITS_NO_VALUE);
	expect_params("permessage-deflate; client_max_window_bits=10", false, false, 0, 10);
	expect_params("permessage-deflate; client_max_window_bits = 9", false, false, 0, 9);
	expect_params("permessage-deflate; client_max_window_bits=\"10\"", false, false, 0, 10);
	expect_params("permessage-deflate; client_max_window_bits=\"1\\0\"", false, false, 0, 10);
	expect_params("permessage-deflate; server_max_window_bits=8", false, false, 8, 0);
	expect_params("permessage-deflate; server_max_window_bits=15", false, false, 15, 0);
	expect_params("permessage-deflate; server_max_window_bits=\"12\"", false, false, 12, 0);
	expect_params("permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
	              "server_max_window_bits=11; client_max_window_bits=12",
	              true, true, 11, 12);
	expect_params("permessage-deflate;client_max_window_bits;server_max_window_bits=9;"
	              "client_no_context_takeover",
	              false, true, 9, WSR_PMD_BITS_NO_VALUE);
	for (int w = 8; w <= 15; w++) {
		char buf[80];
		snprintf(buf, sizeof(buf), "permessage-deflate; server_max_window_bits=%d", w);
		expect_params(buf, false, false, w, 0);
		snprintf(buf, sizeof(buf), "permessage-deflate; client_max_window_bits=%d", w);
		expect_params(buf, false, false, 0, w);
	}
}

static void test_parse_rejects_bad_values_duplicates_unknown(void)
{
	static const char *bad[] = {
	        "permessage-deflate; server_max_window_bits=7",
	        "permessage-deflate; server_max_window_bits=16",
	        "permessage-deflate; server_max_window_bits=0",
	        "permessage-deflate; server_max_window_bits=abc",
	        "permessage-deflate; server_max_window_bits=\"\"",
	        "permessage-deflate; server_max_window_bits=",
	        "permessage-deflate; server_max_window_bits=08",
	        "permessage-deflate; server_max_window_bits=010",
	        "permessage-deflate; server_max_window_bits=+9",
	        "permessage-deflate; server_max_window_bits=-9",
	        "permessage-deflate; server_max_window_bits=9.0",
	        "permessage-deflate; server_max_window_bits=\"9",
	        "permessage-deflate; server_max_window_bits=\" 9\"",
	        "permessage-deflate; server_max_window_bits=100000000000000000009",
	        "permessage-deflate; server_max_window_bits",
	        "permessage-deflate; client_max_window_bits=7",
	        "permessage-deflate; client_max_window_bits=16",
	        "permessage-deflate; client_max_window_bits=abc",
	        "permessage-deflate; client_max_window_bits=\"\"",
	        "permessage-deflate; client_max_window_bits=\"16\"",
	        "permessage-deflate; client_max_window_bits=",
	        "permessage-deflate; server_no_context_takeover=1",
	        "permessage-deflate; client_no_context_takeover=\"\"",
	        "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
	        "permessage-deflate; client_no_context_takeover; client_no_context_takeover",
	        "permessage-deflate; server_max_window_bits=9; server_max_window_bits=9",
	        "permessage-deflate; client_max_window_bits; client_max_window_bits=9",
	        "permessage-deflate; unknown_param",
	        "permessage-deflate; Server_No_Context_Takeover",
	        "permessage-deflate; x=1",
	        "permessage-deflate;",
	        "permessage-deflate; ;",
	        "permessage-deflate client_max_window_bits",
	        "permessage-deflate; client_max_window_bits=10 11",
	        "permessage-deflate, x",
	        "",
	        "  ",
	        ";permessage-deflate",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_bad(bad[i]);
}

static void test_parse_other_extension_is_not_pmd(void)
{
	bool is_pmd = true;
	struct wsr_pmd_params p;
	ASSERT_EQ(parse("x-webkit-deflate-frame; no_context_takeover", &is_pmd, &p), WSR_OK);
	ASSERT(!is_pmd);
	is_pmd = true;
	ASSERT_EQ(parse("permessage-deflatex", &is_pmd, &p), WSR_OK);
	ASSERT(!is_pmd);
	ASSERT_EQ(wsr_pmd_parse(NULL, 3, &is_pmd, &p), WSR_INVALID_ARGUMENT);
}

/* ---- negotiation ---- */

static struct wsr_pmd_policy policy_default(void)
{
	struct wsr_pmd_policy pol;
	memset(&pol, 0, sizeof(pol));
	pol.enabled = true;
	return pol;
}

static bool negotiate1(const char *value, const struct wsr_pmd_policy *pol,
                       struct wsr_pmd_params *agreed)
{
	struct wsr_http_header h = {"Sec-WebSocket-Extensions", 24, value, strlen(value)};
	bool acc = false;
	ASSERT_EQ(wsr_pmd_negotiate(&h, 1, pol, &acc, agreed), WSR_OK);
	return acc;
}

/* Negotiate, format the answer and compare to the expected text (NULL: declined). */
static void expect_answer(const char *offer, const struct wsr_pmd_policy *pol, const char *want)
{
	struct wsr_pmd_params a;
	char out[200];
	tu_current = offer;
	bool acc = negotiate1(offer, pol, &a);
	if (want == NULL) {
		ASSERT(!acc);
		return;
	}
	ASSERT(acc);
	ASSERT(wsr_pmd_format(&a, out, sizeof(out)) > 0);
	ASSERT_STREQ(out, want);
}

static void test_negotiate_answer_rules(void)
{
	struct wsr_pmd_policy pol = policy_default();
	expect_answer("permessage-deflate", &pol, "permessage-deflate");
	expect_answer("permessage-deflate; server_no_context_takeover", &pol,
	              "permessage-deflate; server_no_context_takeover");
	expect_answer("permessage-deflate; server_max_window_bits=10", &pol,
	              "permessage-deflate; server_max_window_bits=10");
	/* Client hint echoed. */
	expect_answer("permessage-deflate; client_no_context_takeover", &pol,
	              "permessage-deflate; client_no_context_takeover");
	/* Autobahn's client offer; no policy asks: no client_max_window_bits back. */
	expect_answer("permessage-deflate; client_no_context_takeover; client_max_window_bits",
	              &pol, "permessage-deflate; client_no_context_takeover");

	pol.client_max_window_bits = 9;
	expect_answer("permessage-deflate; client_max_window_bits", &pol,
	              "permessage-deflate; client_max_window_bits=9");
	expect_answer("permessage-deflate; client_max_window_bits=8", &pol,
	              "permessage-deflate; client_max_window_bits=8");
	expect_answer("permessage-deflate; client_max_window_bits=12", &pol,
	              "permessage-deflate; client_max_window_bits=9");
	/* Offer without client_max_window_bits: we must not send it. */
	expect_answer("permessage-deflate", &pol, "permessage-deflate");

	pol = policy_default();
	pol.server_max_window_bits = 11;
	expect_answer("permessage-deflate", &pol, "permessage-deflate; server_max_window_bits=11");
	expect_answer("permessage-deflate; server_max_window_bits=9", &pol,
	              "permessage-deflate; server_max_window_bits=9");
	expect_answer("permessage-deflate; server_max_window_bits=13", &pol,
	              "permessage-deflate; server_max_window_bits=11");
	expect_answer("permessage-deflate; server_max_window_bits=8", &pol,
	              "permessage-deflate; server_max_window_bits=8");

	pol = policy_default();
	pol.server_no_context_takeover = true;
	pol.client_no_context_takeover = true;
	expect_answer("permessage-deflate", &pol,
	              "permessage-deflate; server_no_context_takeover; client_no_context_takeover");

	pol = policy_default();
	pol.enabled = false;
	expect_answer("permessage-deflate", &pol, NULL);
}

static void test_negotiate_declines_bad_offers_and_falls_back(void)
{
	struct wsr_pmd_policy pol = policy_default();
	expect_answer("permessage-deflate; server_max_window_bits=7", &pol, NULL);
	expect_answer("permessage-deflate; server_max_window_bits=16", &pol, NULL);
	expect_answer("permessage-deflate; client_max_window_bits=abc", &pol, NULL);
	expect_answer("permessage-deflate; client_max_window_bits=\"\"", &pol, NULL);
	expect_answer("permessage-deflate; foo", &pol, NULL);
	expect_answer("permessage-deflate; server_no_context_takeover; server_no_context_takeover",
	              &pol, NULL);
	expect_answer("x-webkit-deflate-frame", &pol, NULL);
	expect_answer("", &pol, NULL);
	expect_answer(" , ,", &pol, NULL);
	/* Fall back to the next offer, in order. */
	expect_answer("permessage-deflate; server_max_window_bits=16, permessage-deflate; "
	              "server_no_context_takeover, permessage-deflate",
	              &pol, "permessage-deflate; server_no_context_takeover");
	expect_answer("foo, permessage-deflate; bogus, , permessage-deflate; "
	              "client_max_window_bits=\"9\"",
	              &pol, "permessage-deflate");
	/* A comma inside a quoted string does not split the element (the
	 * element is invalid since the value is not a window size). */
	expect_answer("permessage-deflate; client_max_window_bits=\"9,permessage-deflate\", "
	              "permessage-deflate; server_max_window_bits=12",
	              &pol, "permessage-deflate; server_max_window_bits=12");
	/* Autobahn 13.7-style: first acceptable wins. */
	expect_answer("permessage-deflate; server_no_context_takeover; server_max_window_bits=9; "
	              "client_no_context_takeover; client_max_window_bits, permessage-deflate",
	              &pol,
	              "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
	              "server_max_window_bits=9");
}

static void test_negotiate_walks_several_header_lines(void)
{
	struct wsr_pmd_policy pol = policy_default();
	struct wsr_http_header h[4] = {
	        {"Host", 4, "permessage-deflate", 18}, /* not an extensions line: skipped */
	        {"sec-websocket-extensions", 24, "foo, permessage-deflate; x", 26},
	        {"Sec-WebSocket-Extensions", 24, "permessage-deflate; server_max_window_bits=10",
	         45},
	        {"Sec-WebSocket-Extensions", 24, "permessage-deflate", 18},
	};
	bool acc = false;
	struct wsr_pmd_params a;
	ASSERT_EQ(wsr_pmd_negotiate(h, 4, &pol, &acc, &a), WSR_OK);
	ASSERT(acc);
	ASSERT_EQ(a.server_max_window_bits, 10);
	ASSERT_EQ(wsr_pmd_negotiate(h, 2, &pol, &acc, &a), WSR_OK);
	ASSERT(!acc);
	/* Unnamed values are taken as extension values. */
	struct wsr_http_header u = {NULL, 0, "permessage-deflate", 18};
	ASSERT_EQ(wsr_pmd_negotiate(&u, 1, &pol, &acc, &a), WSR_OK);
	ASSERT(acc);
	ASSERT_EQ(wsr_pmd_negotiate(NULL, 0, &pol, &acc, &a), WSR_OK);
	ASSERT(!acc);
	ASSERT_EQ(wsr_pmd_negotiate(NULL, 0, NULL, &acc, &a), WSR_INVALID_ARGUMENT);
}

/* ---- client side ---- */

static enum wsr_status check(const char *answer, const char *offer, struct wsr_pmd_params *a)
{
	bool is_pmd;
	struct wsr_pmd_params off;
	ASSERT_EQ(wsr_pmd_parse(offer, strlen(offer), &is_pmd, &off), WSR_OK);
	size_t n = strlen(answer);
	uint8_t *g = tu_guard_copy(answer, n);
	enum wsr_status st = wsr_pmd_check_answer((const char *)g, n, &off, a);
	tu_guard_free(g, n);
	return st;
}

static void test_check_answer_accepts_valid_answers(void)
{
	struct wsr_pmd_params a;
	const char *ab = "permessage-deflate; client_no_context_takeover; client_max_window_bits";
	ASSERT_EQ(check("permessage-deflate", ab, &a), WSR_OK);
	/* Our offered client_no_context_takeover is a promise we keep. */
	ASSERT(a.client_no_context_takeover);
	ASSERT_EQ(a.client_max_window_bits, 0);
	ASSERT_EQ(check("permessage-deflate; client_max_window_bits=9", ab, &a), WSR_OK);
	ASSERT_EQ(a.client_max_window_bits, 9);
	ASSERT_EQ(check("permessage-deflate; server_no_context_takeover; "
	                "server_max_window_bits=8",
	                ab, &a),
	          WSR_OK);
	ASSERT(a.server_no_context_takeover);
	ASSERT_EQ(a.server_max_window_bits, 8);
	ASSERT_EQ(check("permessage-deflate; server_max_window_bits=10",
	                "permessage-deflate; server_max_window_bits=10", &a),
	          WSR_OK);
	ASSERT_EQ(check("permessage-deflate; server_max_window_bits=9",
	                "permessage-deflate; server_max_window_bits=10", &a),
	          WSR_OK);
	ASSERT_EQ(check("permessage-deflate; client_max_window_bits=10",
	                "permessage-deflate; client_max_window_bits=10", &a),
	          WSR_OK);
	/* Offered a limit, server silent: we keep to our own limit. */
	ASSERT_EQ(check("permessage-deflate", "permessage-deflate; client_max_window_bits=11", &a),
	          WSR_OK);
	ASSERT_EQ(a.client_max_window_bits, 11);
	ASSERT_EQ(check("permessage-deflate; client_no_context_takeover", "permessage-deflate", &a),
	          WSR_OK);
	ASSERT(a.client_no_context_takeover);
}

static void test_check_answer_rejects(void)
{
	struct wsr_pmd_params a;
	const char *plain = "permessage-deflate";
	const char *ab = "permessage-deflate; client_no_context_takeover; client_max_window_bits";
	/* client_max_window_bits not offered. */
	ASSERT_EQ(check("permessage-deflate; client_max_window_bits=10", plain, &a),
	          WSR_EXTENSION_PARAMS);
	/* In an answer it needs a value. */
	ASSERT_EQ(check("permessage-deflate; client_max_window_bits", ab, &a),
	          WSR_EXTENSION_PARAMS);
	/* Above what we offered. */
	ASSERT_EQ(check("permessage-deflate; client_max_window_bits=12",
	                "permessage-deflate; client_max_window_bits=11", &a),
	          WSR_EXTENSION_PARAMS);
	ASSERT_EQ(check("permessage-deflate; server_max_window_bits=11",
	                "permessage-deflate; server_max_window_bits=10", &a),
	          WSR_EXTENSION_PARAMS);
	/* Offered server_max_window_bits / server_no_context_takeover not acknowledged. */
	ASSERT_EQ(check("permessage-deflate", "permessage-deflate; server_max_window_bits=10", &a),
	          WSR_EXTENSION_PARAMS);
	ASSERT_EQ(check("permessage-deflate", "permessage-deflate; server_no_context_takeover", &a),
	          WSR_EXTENSION_PARAMS);
	/* Malformed or not permessage-deflate at all. */
	ASSERT_EQ(check("permessage-deflate; server_max_window_bits=7", ab, &a),
	          WSR_EXTENSION_PARAMS);
	ASSERT_EQ(check("permessage-deflate; server_max_window_bits=16", ab, &a),
	          WSR_EXTENSION_PARAMS);
	ASSERT_EQ(check("permessage-deflate; server_max_window_bits", ab, &a),
	          WSR_EXTENSION_PARAMS);
	ASSERT_EQ(check("permessage-deflate; mystery", ab, &a), WSR_EXTENSION_PARAMS);
	ASSERT_EQ(check("permessage-deflate; server_no_context_takeover; "
	                "server_no_context_takeover",
	                ab, &a),
	          WSR_EXTENSION_PARAMS);
	ASSERT_EQ(check("x-webkit-deflate-frame", ab, &a), WSR_EXTENSION_PARAMS);
	ASSERT_EQ(check("permessage-deflate, permessage-deflate", ab, &a), WSR_EXTENSION_PARAMS);
	ASSERT_EQ(check("", ab, &a), WSR_EXTENSION_PARAMS);
}

/* ---- formatting ---- */

static void test_format_canonical_and_round_trip(void)
{
	char out[200];
	struct wsr_pmd_params p = {true, false, 0, 10};
	ASSERT_EQ(wsr_pmd_format(&p, out, sizeof(out)), strlen(out));
	ASSERT_STREQ(out,
	             "permessage-deflate; server_no_context_takeover; client_max_window_bits=10");
	p = (struct wsr_pmd_params){false, false, 0, WSR_PMD_BITS_NO_VALUE};
	wsr_pmd_format(&p, out, sizeof(out));
	ASSERT_STREQ(out, "permessage-deflate; client_max_window_bits");
	/* Every combination formats and parses back to itself. */
	static const uint8_t sv[] = {0, 8, 9, 12, 15};
	static const uint8_t cv[] = {0, 8, 11, 15, WSR_PMD_BITS_NO_VALUE};
	for (int f = 0; f < 4; f++)
		for (size_t i = 0; i < sizeof(sv); i++)
			for (size_t j = 0; j < sizeof(cv); j++) {
				struct wsr_pmd_params q = {f & 1, (f & 2) != 0, sv[i], cv[j]}, r;
				bool is_pmd;
				size_t n = wsr_pmd_format(&q, out, sizeof(out));
				ASSERT(n > 0);
				ASSERT_EQ(wsr_pmd_parse(out, n, &is_pmd, &r), WSR_OK);
				ASSERT(is_pmd);
				ASSERT_MEMEQ(&q, sizeof(q), &r, sizeof(r));
			}
	/* Too small: 0 and an empty string; exact fit works. */
	p = (struct wsr_pmd_params){true, true, 9, 9};
	size_t full = wsr_pmd_format(&p, out, sizeof(out));
	for (size_t cap = 0; cap <= full; cap++) {
		char small[200];
		memset(small, 'X', sizeof(small));
		ASSERT_EQ(wsr_pmd_format(&p, small, cap), 0);
		if (cap > 0)
			ASSERT_EQ(small[0], '\0');
		ASSERT_EQ(small[cap], 'X');
	}
	ASSERT_EQ(wsr_pmd_format(&p, out, full + 1), full);
	/* Invalid values are not formatted. */
	p = (struct wsr_pmd_params){false, false, 16, 0};
	ASSERT_EQ(wsr_pmd_format(&p, out, sizeof(out)), 0);
	p = (struct wsr_pmd_params){false, false, WSR_PMD_BITS_NO_VALUE, 0};
	ASSERT_EQ(wsr_pmd_format(&p, out, sizeof(out)), 0);
	p = (struct wsr_pmd_params){false, false, 0, 7};
	ASSERT_EQ(wsr_pmd_format(&p, out, sizeof(out)), 0);
}

int main(void)
{
	RUN(test_parse_every_parameter_form);
	RUN(test_parse_rejects_bad_values_duplicates_unknown);
	RUN(test_parse_other_extension_is_not_pmd);
	RUN(test_negotiate_answer_rules);
	RUN(test_negotiate_declines_bad_offers_and_falls_back);
	RUN(test_negotiate_walks_several_header_lines);
	RUN(test_check_answer_accepts_valid_answers);
	RUN(test_check_answer_rejects);
	RUN(test_format_canonical_and_round_trip);
	return tu_finish("extension");
}
