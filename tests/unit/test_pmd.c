/*
 * test_pmd.c - the harness's permessage-deflate (harness/pmd.c) and data sets
 * (harness/datasets.c): parameter grammar, answer validation against offers,
 * compress/inflate round trips with and without context takeover, window
 * enforcement, corrupt/truncated/oversized streams, the bomb builder.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "datasets.h"
#include "pmd.h"
#include "testutil.h"

static int params(const char *s, bool answer, struct wsc_pmd_params *p)
{
	char err[160];
	return wsc_pmd_parse_params(s, strlen(s), answer, p, err, sizeof err);
}

static void test_params(void)
{
	struct wsc_pmd_params p;
	ASSERT_EQ(params("", false, &p), 0);
	ASSERT_EQ(params("; client_max_window_bits", false, &p), 0);
	ASSERT(p.has_client_max_window_bits && p.client_max_window_bits == 0);
	ASSERT_EQ(params("; client_max_window_bits", true, &p), -1); /* answer needs a value */
	ASSERT_EQ(params("; server_max_window_bits", false, &p), -1);
	for (int b = 8; b <= 15; b++) {
		char s[64];
		snprintf(s, sizeof s, "; server_max_window_bits=%d", b);
		ASSERT_EQ(params(s, false, &p), 0);
		ASSERT_EQ(p.server_max_window_bits, b);
	}
	ASSERT_EQ(params("; server_max_window_bits=7", false, &p), -1);
	ASSERT_EQ(params("; server_max_window_bits=16", false, &p), -1);
	ASSERT_EQ(params("; server_max_window_bits=abc", false, &p), -1);
	ASSERT_EQ(params("; server_max_window_bits=010", false, &p), -1);
	ASSERT_EQ(params("; server_max_window_bits=\"10\"", false, &p), 0);
	ASSERT_EQ(p.server_max_window_bits, 10);
	ASSERT_EQ(params("; server_max_window_bits=\"16\"", false, &p), -1);
	ASSERT_EQ(params("; server_no_context_takeover; server_no_context_takeover", false, &p),
	          -1);
	ASSERT_EQ(params("; server_no_context_takeover=1", false, &p), -1);
	ASSERT_EQ(params("; x_unknown", false, &p), -1);
	ASSERT_EQ(params(" ;client_no_context_takeover ; server_max_window_bits = 9", true, &p), 0);
	ASSERT(p.client_no_context_takeover && p.server_max_window_bits == 9);
}

static int nego(const char *offer, const char *answer, struct wsc_pmd_params *p)
{
	char err[200];
	const char *offers[1] = {offer};
	return wsc_pmd_negotiate(offers, 1, answer, answer ? strlen(answer) : 0, p, err,
	                         sizeof err);
}

static void test_negotiate(void)
{
	struct wsc_pmd_params p;
	ASSERT_EQ(nego("permessage-deflate", NULL, &p), 0);
	ASSERT_EQ(nego("permessage-deflate", "permessage-deflate", &p), 1);
	ASSERT_EQ(nego("permessage-deflate", "permessage-deflate; server_max_window_bits=10", &p),
	          1);
	/* client_max_window_bits only when offered, and not above the offer */
	ASSERT_EQ(nego("permessage-deflate", "permessage-deflate; client_max_window_bits=10", &p),
	          -1);
	ASSERT_EQ(nego("permessage-deflate; client_max_window_bits",
	               "permessage-deflate; client_max_window_bits=10", &p),
	          1);
	ASSERT_EQ(nego("permessage-deflate; client_max_window_bits=9",
	               "permessage-deflate; client_max_window_bits=10", &p),
	          -1);
	/* server_max_window_bits offered: the answer must carry it, at most the offer */
	ASSERT_EQ(nego("permessage-deflate; server_max_window_bits=10", "permessage-deflate", &p),
	          -1);
	ASSERT_EQ(nego("permessage-deflate; server_max_window_bits=10",
	               "permessage-deflate; server_max_window_bits=11", &p),
	          -1);
	ASSERT_EQ(nego("permessage-deflate; server_max_window_bits=10",
	               "permessage-deflate; server_max_window_bits=9", &p),
	          1);
	/* an invalid offer can never be accepted; a valid fallback can */
	ASSERT_EQ(nego("permessage-deflate; server_max_window_bits=7", "permessage-deflate", &p),
	          -1);
	ASSERT_EQ(nego("permessage-deflate; server_max_window_bits=7, permessage-deflate",
	               "permessage-deflate", &p),
	          1);
	ASSERT_EQ(nego("permessage-deflate", "permessage-deflate, permessage-deflate", &p), -1);
	ASSERT_EQ(nego("permessage-deflate", "x-other", &p), -1);
	ASSERT_EQ(nego("x-other", "permessage-deflate", &p), -1);
	ASSERT_EQ(nego("permessage-deflate", "permessage-deflate; server_max_window_bits=16", &p),
	          -1);
}

static void roundtrip(const struct wsc_pmd_params *agreed, bool hint, const uint8_t *msg, size_t n,
                      int times)
{
	struct wsc_pmd tx, rx;
	ASSERT_EQ(wsc_pmd_init(&tx, agreed, hint), 0);
	/* the receiving side as the server would see it: swap the roles */
	struct wsc_pmd_params mirror = *agreed;
	mirror.server_no_context_takeover = agreed->client_no_context_takeover || hint;
	mirror.has_server_max_window_bits = agreed->has_client_max_window_bits;
	mirror.server_max_window_bits = agreed->client_max_window_bits;
	ASSERT_EQ(wsc_pmd_init(&rx, &mirror, false), 0);
	struct wsc_buf z = {0}, out = {0};
	for (int i = 0; i < times; i++) {
		z.len = 0;
		ASSERT_EQ(wsc_pmd_compress(&tx, msg, n, &z), 0);
		ASSERT(z.len > 0);
		char err[160];
		ASSERT_EQ(wsc_pmd_inflate(&rx, z.p, z.len, n + 10, &out, err, sizeof err), 0);
		ASSERT_EQ(out.len, n);
		ASSERT(n == 0 || memcmp(out.p, msg, n) == 0);
	}
	wsc_buf_free(&z);
	wsc_buf_free(&out);
	wsc_pmd_free(&tx);
	wsc_pmd_free(&rx);
}

static void test_streams(void)
{
	const struct wsc_dataset *d = wsc_dataset_get(WSC_DS_JSON);
	ASSERT(d != NULL);
	struct wsc_pmd_params a;
	memset(&a, 0, sizeof a);
	roundtrip(&a, false, d->p, 20000, 5);
	roundtrip(&a, true, d->p, 20000, 5);
	roundtrip(&a, false, (const uint8_t *)"", 0, 3); /* empty messages: 0x00 */
	a.has_client_max_window_bits = true;
	for (int b = 8; b <= 15; b++) {
		a.client_max_window_bits = (uint8_t)b;
		roundtrip(&a, false, d->p, 50000, 3);
	}
}

static void test_inflate_errors(void)
{
	struct wsc_pmd_params a;
	memset(&a, 0, sizeof a);
	struct wsc_pmd p;
	ASSERT_EQ(wsc_pmd_init(&p, &a, false), 0);
	struct wsc_buf out = {0};
	char err[160];
	static const uint8_t corrupt[] = {0xff};
	ASSERT_EQ(wsc_pmd_inflate(&p, corrupt, 1, 1000, &out, err, sizeof err), -1);
	static const uint8_t trunc[] = {0x00, 0x64, 0x00, 0x9b, 0xff, 'H', 'e', 'l', 'l', 'o'};
	ASSERT_EQ(wsc_pmd_inflate(&p, trunc, sizeof trunc, 1000, &out, err, sizeof err), -1);
	ASSERT(strstr(err, "truncated") != NULL);
	static const uint8_t hello[] = {0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00};
	ASSERT_EQ(wsc_pmd_inflate(&p, hello, sizeof hello, 1000, &out, err, sizeof err), 0);
	ASSERT_EQ(out.len, 5);
	ASSERT_EQ(wsc_pmd_inflate(&p, hello, sizeof hello, 4, &out, err, sizeof err), -2);
	/*
	 * A 9-bit peer window: a back-reference into the PREVIOUS message beyond
	 * 512 bytes is refused (zlib checks distances against its window only
	 * across calls, not inside one message's output).
	 */
	struct wsc_pmd_params nine = a;
	nine.has_server_max_window_bits = true;
	nine.server_max_window_bits = 9;
	struct wsc_pmd q;
	ASSERT_EQ(wsc_pmd_init(&q, &nine, false), 0);
	uint8_t msg[1000];
	for (size_t i = 0; i < sizeof msg; i++)
		msg[i] = (uint8_t)((i * 7919u) >> 3);
	z_stream z;
	memset(&z, 0, sizeof z);
	ASSERT_EQ(deflateInit2(&z, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
	uint8_t z1[2000], z2[2000];
	z.next_in = msg;
	z.avail_in = sizeof msg;
	z.next_out = z1;
	z.avail_out = sizeof z1;
	ASSERT_EQ(deflate(&z, Z_SYNC_FLUSH), Z_OK);
	size_t n1 = sizeof z1 - z.avail_out - 4;
	z.next_in = msg;
	z.avail_in = sizeof msg;
	z.next_out = z2;
	z.avail_out = sizeof z2;
	ASSERT_EQ(deflate(&z, Z_SYNC_FLUSH), Z_OK);
	size_t n2 = sizeof z2 - z.avail_out - 4;
	deflateEnd(&z);
	ASSERT(n2 < 100); /* one back-reference 1000 bytes away */
	ASSERT_EQ(wsc_pmd_inflate(&q, z1, n1, 10000, &out, err, sizeof err), 0);
	ASSERT_EQ(wsc_pmd_inflate(&q, z2, n2, 10000, &out, err, sizeof err), -1);
	wsc_pmd_free(&q);
	wsc_pmd_free(&p);
	wsc_buf_free(&out);
}

static void test_bomb(void)
{
	struct wsc_buf b = {0}, out = {0};
	ASSERT_EQ(wsc_pmd_bomb(64u << 20, &b), 0);
	ASSERT(b.len < 100000);
	struct wsc_pmd_params a;
	memset(&a, 0, sizeof a);
	struct wsc_pmd p;
	ASSERT_EQ(wsc_pmd_init(&p, &a, false), 0);
	char err[160];
	ASSERT_EQ(wsc_pmd_inflate(&p, b.p, b.len, (size_t)64 << 20, &out, err, sizeof err), 0);
	ASSERT_EQ(out.len, (size_t)64 << 20);
	ASSERT_EQ(wsc_pmd_inflate(&p, b.p, b.len, 1 << 20, &out, err, sizeof err), -2);
	ASSERT(out.len <= (1u << 20) + 1);
	wsc_pmd_free(&p);
	wsc_buf_free(&b);
	wsc_buf_free(&out);
}

static void test_datasets(void)
{
	static const size_t approx[WSC_DS_COUNT] = {193950, 263222, 222000, 263300, 1042000};
	for (int i = 0; i < WSC_DS_COUNT; i++) {
		const struct wsc_dataset *d = wsc_dataset_get(i);
		ASSERT(d != NULL);
		ASSERT(d->n >= approx[i] && d->n < approx[i] + 5000);
		ASSERT(wsc_dataset_get(i) == d); /* built once */
		if (d->text) {
			ASSERT(wsc_utf8_valid(d->p, d->n));
			ASSERT(d->n_chars < d->n); /* some non-ASCII */
		}
	}
	/* windows count characters and wrap; never split a code point */
	const struct wsc_dataset *j = wsc_dataset_get(WSC_DS_JSON);
	struct wsc_buf w = {0};
	size_t u = wsc_dataset_units(j);
	ASSERT_EQ(wsc_dataset_window(j, u - 10, 131072, &w), 0);
	ASSERT(wsc_utf8_valid(w.p, w.len));
	ASSERT(w.len >= 131072);
	ASSERT_EQ(wsc_dataset_window(j, 3 * u + 5, 7, &w), 0);
	struct wsc_buf w2 = {0};
	ASSERT_EQ(wsc_dataset_window(j, 5, 7, &w2), 0);
	ASSERT(w.len == w2.len && memcmp(w.p, w2.p, w.len) == 0);
	wsc_buf_free(&w);
	wsc_buf_free(&w2);
	ASSERT_EQ(wsc_dataset_lookup("prose", 5), WSC_DS_PROSE);
	ASSERT_EQ(wsc_dataset_lookup("nope", 4), -1);
}

int main(void)
{
	RUN(test_params);
	RUN(test_negotiate);
	RUN(test_streams);
	RUN(test_inflate_errors);
	RUN(test_bomb);
	RUN(test_datasets);
	return tu_finish("pmd");
}
