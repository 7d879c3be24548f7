/*
 * test_deflate.c - permessage-deflate data path (RFC 7692 section 7.2):
 * round trips over every parameter combination, window sizes checked with a
 * strict inflater, context takeover, split input, the RFC's examples, the
 * output cap against a decompression bomb, corrupt streams, allocation
 * failure.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "testutil.h"
#include "wsref/wsref.h"

/* ---- helpers ---- */

struct buf {
	uint8_t *p;
	size_t len, cap;
	size_t pieces, max_piece;
};

/* The bytes, never NULL (memcmp with NULL is undefined even for 0 bytes). */
static const uint8_t *bp(const struct buf *b)
{
	return b->p ? b->p : (const uint8_t *)"";
}

static void buf_free(struct buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

static enum wsr_status sink_buf(void *ctx, const uint8_t *p, size_t n)
{
	struct buf *b = ctx;
	if (b->len + n > b->cap) {
		size_t nc = b->cap ? b->cap : 256;
		while (nc < b->len + n)
			nc *= 2;
		b->p = realloc(b->p, nc);
		if (b->p == NULL)
			abort();
		b->cap = nc;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->pieces++;
	if (n > b->max_piece)
		b->max_piece = n;
	return WSR_OK;
}

/* Counts bytes without keeping them. */
static enum wsr_status sink_count(void *ctx, const uint8_t *p, size_t n)
{
	(void)p;
	*(uint64_t *)ctx += n;
	return WSR_OK;
}

static enum wsr_status sink_refuse(void *ctx, const uint8_t *p, size_t n)
{
	(void)ctx, (void)p, (void)n;
	return WSR_MESSAGE_TOO_BIG;
}

/* Counting allocator; fails the fail_at-th allocation (1-based; 0: never). */
struct counter {
	size_t cur, peak, count, fail_at;
	long live;
};

static void *c_alloc(void *ctx, size_t n)
{
	struct counter *c = ctx;
	c->count++;
	if (c->fail_at && c->count == c->fail_at)
		return NULL;
	void *p = malloc(n);
	if (p) {
		c->cur += n;
		c->live++;
		if (c->cur > c->peak)
			c->peak = c->cur;
	}
	return p;
}

static void c_free(void *ctx, void *p, size_t n)
{
	struct counter *c = ctx;
	if (p == NULL)
		return;
	c->cur -= n;
	c->live--;
	free(p);
}

static struct wsr_allocator counting(struct counter *c)
{
	struct wsr_allocator a = {c_alloc, NULL, c_free, c};
	return a;
}

/* Deterministic pseudo-random bytes. */
static uint32_t rng_state = 12345;
static uint32_t rnd(void)
{
	rng_state = rng_state * 1103515245u + 12345u;
	return rng_state >> 8;
}

/* Text-like data that compresses, with repeats near and far. */
static void make_text(uint8_t *p, size_t n)
{
	static const char *words[] = {"hello ",  "world ",   "socket ", "deflate ",  "frame ",
	                              "window ", "{\"id\":", "42, ",    "\"msg\": ", "zlib\n"};
	size_t i = 0;
	while (i < n) {
		const char *w = words[rnd() % 10];
		for (size_t k = 0; w[k] && i < n; k++)
			p[i++] = (uint8_t)w[k];
		if (rnd() % 7 == 0 && i < n)
			p[i++] = (uint8_t)(rnd() & 0xff);
	}
}

static bool compress_msg(struct wsr_pmd *pmd, const uint8_t *m, size_t n, struct buf *out)
{
	out->len = 0;
	return wsr_pmd_deflate(pmd, m, n, sink_buf, out) == WSR_OK;
}

/*
 * Strict raw inflater: window `bits`, given ONE output byte per call, so a
 * distance can never be satisfied from zlib's caller-side output buffer and
 * anything further back than the window fails. Appends the 00 00 ff ff tail.
 * Returns true if msg decodes to want.
 */
static bool strict_inflate(z_stream *z, const uint8_t *msg, size_t n, const uint8_t *want,
                           size_t want_len)
{
	static const uint8_t tail[4] = {0, 0, 0xff, 0xff};
	size_t got = 0;
	for (int part = 0; part < 2; part++) {
		z->next_in = (Bytef *)(uintptr_t)(part == 0 ? msg : tail);
		z->avail_in = (uInt)(part == 0 ? n : 4);
		for (;;) {
			uint8_t c;
			z->next_out = &c;
			z->avail_out = 1;
			int r = inflate(z, Z_SYNC_FLUSH);
			if (r == Z_DATA_ERROR || r == Z_STREAM_ERROR || r == Z_MEM_ERROR)
				return false;
			if (z->avail_out == 0) {
				if (got >= want_len || c != want[got])
					return false;
				got++;
				continue;
			}
			if (z->avail_in == 0)
				break;
			if (r == Z_BUF_ERROR || r == Z_STREAM_END)
				return false;
		}
	}
	return got == want_len;
}

/* ---- round trips over every parameter combination ---- */

struct msg {
	const uint8_t *p;
	size_t n;
};

static size_t fails_in_combo;

static void one_direction(struct wsr_pmd *tx, struct wsr_pmd *rx, bool tx_resets, int tx_bits,
                          const struct msg *msgs, size_t nmsgs)
{
	struct buf c = {0}, d = {0};
	z_stream ref;
	memset(&ref, 0, sizeof(ref));
	/* Reference decoder for the tx direction's window (8 decoded with 8). */
	ASSERT_EQ(inflateInit2(&ref, -tx_bits), Z_OK);
	size_t first_len = 0;
	for (size_t i = 0; i < nmsgs; i++) {
		unsigned long f0 = tu_failures;
		ASSERT(compress_msg(tx, msgs[i].p, msgs[i].n, &c));
		ASSERT(c.len >= 1);
		d.len = 0;
		ASSERT_EQ(wsr_pmd_inflate(rx, c.p, c.len, true, msgs[i].n, sink_buf, &d), WSR_OK);
		ASSERT_MEMEQ(bp(&d), d.len, msgs[i].p, msgs[i].n);
		if (tx_resets) {
			/* Decodable alone: a fresh decoder per message. */
			inflateReset(&ref);
		}
		uint8_t *out = malloc(msgs[i].n + 1);
		ref.next_in = c.p;
		ref.avail_in = (uInt)c.len;
		ref.next_out = out;
		ref.avail_out = (uInt)msgs[i].n + 1;
		ASSERT(inflate(&ref, Z_SYNC_FLUSH) != Z_DATA_ERROR);
		static const uint8_t tail[4] = {0, 0, 0xff, 0xff};
		ref.next_in = (Bytef *)tail;
		ref.avail_in = 4;
		ASSERT(inflate(&ref, Z_SYNC_FLUSH) != Z_DATA_ERROR);
		ASSERT_MEMEQ(out, msgs[i].n + 1 - ref.avail_out, msgs[i].p, msgs[i].n);
		free(out);
		/* Message 5 repeats message 4 (see caller): with takeover the
		 * repeat is much smaller, without it byte-identical. */
		if (i == 4)
			first_len = c.len;
		if (i == 5) {
			if (tx_resets)
				ASSERT_EQ(c.len, first_len);
			else
				ASSERT(c.len * 4 < first_len);
		}
		if (tu_failures != f0)
			fails_in_combo++;
	}
	inflateEnd(&ref);
	buf_free(&c);
	buf_free(&d);
}

static void test_round_trip_every_parameter_combination(void)
{
	static uint8_t text[3000];
	make_text(text, sizeof(text));
	static const uint8_t hello[] = "Hello";
	/* Messages 4 and 5 are the same 200 bytes: within reach of every window. */
	const struct msg msgs[] = {
	        {hello, 0},         {hello, 5},         {hello, 0}, {hello, 5},
	        {text + 1000, 200}, {text + 1000, 200}, {hello, 0}, {text, sizeof(text)},
	        {text + 7, 1},      {hello, 0},
	};
	static const uint8_t sv[] = {0, 8, 9, 10, 11, 12, 13, 14, 15};
	static const uint8_t cv[] = {0, WSR_PMD_BITS_NO_VALUE, 8, 9, 10, 11, 12, 13, 14, 15};
	size_t combos = 0;
	for (int f = 0; f < 4; f++)
		for (size_t i = 0; i < sizeof(sv); i++)
			for (size_t j = 0; j < sizeof(cv); j++) {
				struct wsr_pmd_params p = {(f & 1) != 0, (f & 2) != 0, sv[i],
				                           cv[j]};
				struct wsr_pmd *srv = NULL, *cli = NULL;
				ASSERT_EQ(wsr_pmd_new(&srv, NULL, &p, WSR_ROLE_SERVER), WSR_OK);
				ASSERT_EQ(wsr_pmd_new(&cli, NULL, &p, WSR_ROLE_CLIENT), WSR_OK);
				if (!srv || !cli)
					continue;
				int sb = sv[i] ? sv[i] : 15;
				int cb = (cv[j] >= 8 && cv[j] <= 15) ? cv[j] : 15;
				size_t before = fails_in_combo;
				one_direction(srv, cli, p.server_no_context_takeover, sb, msgs, 10);
				one_direction(cli, srv, p.client_no_context_takeover, cb, msgs, 10);
				if (fails_in_combo != before)
					fprintf(stderr,
					        "  combo snct=%d cnct=%d smwb=%d cmwb=%d failed\n",
					        p.server_no_context_takeover,
					        p.client_no_context_takeover, sv[i], cv[j]);
				wsr_pmd_free(srv);
				wsr_pmd_free(cli);
				combos++;
			}
	ASSERT_EQ(combos, 4 * 9 * 10);
}

/* ---- windows: what we emit fits the agreed window, 8 included ---- */

/* Random blocks, each repeated at distance = its size. */
static size_t make_far_repeats(uint8_t *p, size_t cap)
{
	static const size_t sizes[] = {100,  251,  300,  400,  511,  600,  1000,
	                               1500, 2000, 3000, 5000, 9000, 17000};
	size_t n = 0;
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		size_t b = sizes[s];
		if (n + 3 * b > cap)
			break;
		for (size_t i = 0; i < b; i++)
			p[n + i] = (uint8_t)rnd();
		memcpy(p + n + b, p + n, b);
		memcpy(p + n + 2 * b, p + n, b);
		n += 3 * b;
	}
	return n;
}

static void test_output_fits_agreed_window_including_8(void)
{
	static uint8_t data[130000];
	size_t n = make_far_repeats(data, sizeof(data));
	struct buf c = {0};
	for (int w = 8; w <= 15; w++) {
		tu_current = "window";
		/* Our compressor, as server with server_max_window_bits = w, two
		 * messages with context takeover. */
		struct wsr_pmd_params p = {false, false, (uint8_t)w, 0};
		struct wsr_pmd *srv = NULL;
		ASSERT_EQ(wsr_pmd_new(&srv, NULL, &p, WSR_ROLE_SERVER), WSR_OK);
		z_stream z;
		memset(&z, 0, sizeof(z));
		ASSERT_EQ(inflateInit2(&z, -w), Z_OK);
		for (int m = 0; m < 2; m++) {
			ASSERT(compress_msg(srv, data, n, &c));
			ASSERT(strict_inflate(&z, c.p, c.len, data, n));
		}
		inflateEnd(&z);
		wsr_pmd_free(srv);

		/* Negative control: the strict decoder does reject a compressor
		 * with a bigger window on this data (so the check above has teeth). */
		if (w < 15) {
			int big = w == 8 ? 10 : w + 1;
			z_stream d;
			memset(&d, 0, sizeof(d));
			ASSERT_EQ(deflateInit2(&d, 6, Z_DEFLATED, -big, 8, Z_DEFAULT_STRATEGY),
			          Z_OK);
			size_t cap = deflateBound(&d, n) + 16;
			uint8_t *out = malloc(cap);
			d.next_in = data;
			d.avail_in = (uInt)n;
			d.next_out = out;
			d.avail_out = (uInt)cap;
			ASSERT_EQ(deflate(&d, Z_SYNC_FLUSH), Z_OK);
			size_t cl = cap - d.avail_out - 4;
			deflateEnd(&d);
			memset(&z, 0, sizeof(z));
			inflateInit2(&z, -w);
			if (strict_inflate(&z, out, cl, data, n))
				fprintf(stderr, "  control %d vs %d decoded\n", big, w);
			ASSERT(!strict_inflate(&z, out, cl, data, n));
			inflateEnd(&z);
			free(out);
		}
	}
	buf_free(&c);
}

static void test_8_bit_window_client_direction(void)
{
	/* As client with client_max_window_bits=8 our compressor uses window 8. */
	static uint8_t data[60000];
	size_t n = make_far_repeats(data, sizeof(data));
	struct wsr_pmd_params p = {false, false, 0, 8};
	struct wsr_pmd *cli = NULL, *srv = NULL;
	struct buf c = {0}, d = {0};
	ASSERT_EQ(wsr_pmd_new(&cli, NULL, &p, WSR_ROLE_CLIENT), WSR_OK);
	ASSERT_EQ(wsr_pmd_new(&srv, NULL, &p, WSR_ROLE_SERVER), WSR_OK);
	z_stream z;
	memset(&z, 0, sizeof(z));
	ASSERT_EQ(inflateInit2(&z, -8), Z_OK);
	for (int m = 0; m < 3; m++) {
		ASSERT(compress_msg(cli, data, n, &c));
		ASSERT(strict_inflate(&z, c.p, c.len, data, n));
		/* And our own inflater, which uses window 8 for the client's data. */
		d.len = 0;
		ASSERT_EQ(wsr_pmd_inflate(srv, c.p, c.len, true, n, sink_buf, &d), WSR_OK);
		ASSERT_MEMEQ(bp(&d), d.len, data, n);
	}
	inflateEnd(&z);
	wsr_pmd_free(cli);
	wsr_pmd_free(srv);
	buf_free(&c);
	buf_free(&d);
}

/* ---- split input ---- */

static void test_inflate_split_at_every_offset(void)
{
	const char *msg = "A short message, a short message, with a short repeat. Short!";
	size_t n = strlen(msg);
	struct wsr_pmd_params p = {false, false, 0, 0};
	struct wsr_pmd *tx = NULL;
	struct buf c = {0}, d = {0};
	ASSERT_EQ(wsr_pmd_new(&tx, NULL, &p, WSR_ROLE_CLIENT), WSR_OK);
	ASSERT(compress_msg(tx, (const uint8_t *)msg, n, &c));
	/* Second message with takeover (refers back to the first). */
	struct buf c2 = {0};
	ASSERT(compress_msg(tx, (const uint8_t *)msg, n, &c2));
	for (size_t k = 0; k <= c.len; k++) {
		struct wsr_pmd *rx = NULL;
		ASSERT_EQ(wsr_pmd_new(&rx, NULL, &p, WSR_ROLE_SERVER), WSR_OK);
		uint8_t *g = tu_guard_copy(c.p, c.len);
		d.len = 0;
		ASSERT_EQ(wsr_pmd_inflate(rx, g, k, false, n, sink_buf, &d), WSR_OK);
		ASSERT_EQ(wsr_pmd_inflate(rx, g + k, c.len - k, true, n, sink_buf, &d), WSR_OK);
		ASSERT_MEMEQ(bp(&d), d.len, msg, n);
		tu_guard_free(g, c.len);
		/* The second message split the same way where it fits. */
		size_t k2 = k < c2.len ? k : c2.len;
		d.len = 0;
		ASSERT_EQ(wsr_pmd_inflate(rx, c2.p, k2, false, n, sink_buf, &d), WSR_OK);
		ASSERT_EQ(wsr_pmd_inflate(rx, c2.p + k2, c2.len - k2, true, n, sink_buf, &d),
		          WSR_OK);
		ASSERT_MEMEQ(bp(&d), d.len, msg, n);
		wsr_pmd_free(rx);
	}
	/* One byte at a time, then an empty final piece. */
	struct wsr_pmd *rx = NULL;
	ASSERT_EQ(wsr_pmd_new(&rx, NULL, &p, WSR_ROLE_SERVER), WSR_OK);
	d.len = 0;
	for (size_t i = 0; i < c.len; i++)
		ASSERT_EQ(wsr_pmd_inflate(rx, c.p + i, 1, false, n, sink_buf, &d), WSR_OK);
	ASSERT_EQ(wsr_pmd_inflate(rx, NULL, 0, true, n, sink_buf, &d), WSR_OK);
	ASSERT_MEMEQ(bp(&d), d.len, msg, n);
	wsr_pmd_free(rx);
	wsr_pmd_free(tx);
	buf_free(&c);
	buf_free(&c2);
	buf_free(&d);
}

/*
 * A back-reference further than the agreed window (300 bytes with window 8,
 * inside one message): zlib judged it against its window plus the output of
 * the current call, so the whole message decoded while a split that made the
 * referenced bytes come out in an earlier call failed. The verdict and the
 * output must not depend on the split (fuzz_inflate found this).
 */
static void test_inflate_far_reference_same_verdict_at_every_split(void)
{
	uint8_t data[600];
	for (size_t i = 0; i < 300; i++)
		data[i] = (uint8_t)rnd();
	memcpy(data + 300, data, 300);
	/* A compressor with a 15-bit window: it will use distance 300. */
	z_stream d;
	memset(&d, 0, sizeof(d));
	ASSERT_EQ(deflateInit2(&d, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
	uint8_t comp[1024];
	d.next_in = data;
	d.avail_in = sizeof(data);
	d.next_out = comp;
	d.avail_out = sizeof(comp);
	ASSERT_EQ(deflate(&d, Z_SYNC_FLUSH), Z_OK);
	size_t cl = sizeof(comp) - d.avail_out - 4; /* without 00 00 ff ff */
	deflateEnd(&d);
	ASSERT(cl < 400); /* the repeat was coded as a match, not literals */

	for (int takeover = 0; takeover < 2; takeover++) {
		struct wsr_pmd_params p = {false, takeover == 0, 0, 8};
		/* Whole. */
		struct wsr_pmd *rx = NULL;
		struct buf whole = {0}, d2 = {0};
		ASSERT_EQ(wsr_pmd_new(&rx, NULL, &p, WSR_ROLE_SERVER), WSR_OK);
		enum wsr_status sw = wsr_pmd_inflate(rx, comp, cl, true, 1000, sink_buf, &whole);
		wsr_pmd_free(rx);
		ASSERT_EQ(sw, WSR_OK);
		ASSERT_MEMEQ(bp(&whole), whole.len, data, sizeof(data));
		/* Every split into two pieces, each in its own guarded buffer. */
		for (size_t k = 0; k <= cl; k++) {
			ASSERT_EQ(wsr_pmd_new(&rx, NULL, &p, WSR_ROLE_SERVER), WSR_OK);
			uint8_t *g1 = tu_guard_copy(comp, k);
			uint8_t *g2 = tu_guard_copy(comp + k, cl - k);
			d2.len = 0;
			enum wsr_status s = wsr_pmd_inflate(rx, g1, k, false, 1000, sink_buf, &d2);
			if (s == WSR_OK)
				s = wsr_pmd_inflate(rx, g2, cl - k, true, 1000, sink_buf, &d2);
			if (s != sw)
				fprintf(stderr, "  split at %zu of %zu: %s\n", k, cl,
				        wsr_status_name(s));
			ASSERT_EQ(s, sw);
			ASSERT_MEMEQ(bp(&d2), d2.len, bp(&whole), whole.len);
			tu_guard_free(g1, k);
			tu_guard_free(g2, cl - k);
			wsr_pmd_free(rx);
		}
		/* One byte at a time. */
		ASSERT_EQ(wsr_pmd_new(&rx, NULL, &p, WSR_ROLE_SERVER), WSR_OK);
		d2.len = 0;
		enum wsr_status s = WSR_OK;
		for (size_t i = 0; i < cl && s == WSR_OK; i++)
			s = wsr_pmd_inflate(rx, comp + i, 1, false, 1000, sink_buf, &d2);
		if (s == WSR_OK)
			s = wsr_pmd_inflate(rx, NULL, 0, true, 1000, sink_buf, &d2);
		ASSERT_EQ(s, sw);
		ASSERT_MEMEQ(bp(&d2), d2.len, data, sizeof(data));
		wsr_pmd_free(rx);
		buf_free(&whole);
		buf_free(&d2);
	}
}

/* ---- RFC 7692 section 7.2.3 examples ---- */

static void expect_inflate(struct wsr_pmd *rx, const uint8_t *in, size_t n, const char *want)
{
	struct buf d = {0};
	ASSERT_EQ(wsr_pmd_inflate(rx, in, n, true, 1000, sink_buf, &d), WSR_OK);
	ASSERT_MEMEQ(bp(&d), d.len, want, strlen(want));
	buf_free(&d);
}

static void test_rfc7692_examples(void)
{
	static const uint8_t hello[] = {0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00};
	static const uint8_t hello_again[] = {0xf2, 0x00, 0x11, 0x00, 0x00};
	static const uint8_t stored[] = {0x00, 0x05, 0x00, 0xfa, 0xff, 0x48,
	                                 0x65, 0x6c, 0x6c, 0x6f, 0x00};
	static const uint8_t bfinal[] = {0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00};
	static const uint8_t empty[] = {0x00};
	struct wsr_pmd_params p = {false, false, 0, 0};
	struct wsr_pmd *rx = NULL;
	ASSERT_EQ(wsr_pmd_new(&rx, NULL, &p, WSR_ROLE_CLIENT), WSR_OK);
	expect_inflate(rx, hello, sizeof(hello), "Hello");
	expect_inflate(rx, hello_again, sizeof(hello_again), "Hello"); /* takeover */
	expect_inflate(rx, stored, sizeof(stored), "Hello");
	expect_inflate(rx, empty, sizeof(empty), "");
	expect_inflate(rx, bfinal, sizeof(bfinal), "Hello");
	/* The window survives a BFINAL block when takeover is on. */
	expect_inflate(rx, hello_again, sizeof(hello_again), "Hello");
	/* BFINAL block without the trailing 0x00: the tail is not needed. */
	expect_inflate(rx, bfinal, sizeof(bfinal) - 1, "Hello");
	expect_inflate(rx, hello_again, sizeof(hello_again), "Hello");
	/* Two "Hello" in one message split by a BFINAL block. */
	uint8_t two[sizeof(bfinal) + sizeof(hello)];
	memcpy(two, bfinal, sizeof(bfinal) - 1);
	memcpy(two + sizeof(bfinal) - 1, hello, sizeof(hello));
	expect_inflate(rx, two, sizeof(bfinal) - 1 + sizeof(hello), "HelloHello");
	wsr_pmd_free(rx);

	/* Our compressor reproduces the RFC's bytes for "Hello" and the empty message. */
	struct wsr_pmd *tx = NULL;
	struct buf c = {0};
	ASSERT_EQ(wsr_pmd_new(&tx, NULL, &p, WSR_ROLE_SERVER), WSR_OK);
	ASSERT(compress_msg(tx, (const uint8_t *)"Hello", 5, &c));
	ASSERT_MEMEQ(bp(&c), c.len, hello, sizeof(hello));
	wsr_pmd_free(tx);
	ASSERT_EQ(wsr_pmd_new(&tx, NULL, &p, WSR_ROLE_SERVER), WSR_OK);
	ASSERT(compress_msg(tx, NULL, 0, &c));
	ASSERT_MEMEQ(bp(&c), c.len, empty, 1);
	wsr_pmd_free(tx);
	buf_free(&c);

	/* Without takeover the back-reference has nothing to refer to. */
	struct wsr_pmd_params q = {true, true, 0, 0};
	ASSERT_EQ(wsr_pmd_new(&rx, NULL, &q, WSR_ROLE_CLIENT), WSR_OK);
	expect_inflate(rx, hello, sizeof(hello), "Hello");
	struct buf d = {0};
	ASSERT_EQ(wsr_pmd_inflate(rx, hello_again, sizeof(hello_again), true, 1000, sink_buf, &d),
	          WSR_INFLATE_FAILED);
	wsr_pmd_free(rx);
	buf_free(&d);
}

/* ---- output cap ---- */

static void test_decompression_bomb_stops_at_cap_with_bounded_memory(void)
{
	size_t n = 10u << 20;
	uint8_t *zeros = calloc(1, n);
	struct wsr_pmd_params p = {false, false, 0, 0};
	struct wsr_pmd *tx = NULL, *rx = NULL;
	struct buf c = {0};
	ASSERT_EQ(wsr_pmd_new(&tx, NULL, &p, WSR_ROLE_CLIENT), WSR_OK);
	ASSERT(compress_msg(tx, zeros, n, &c));
	/* A bomb: at the library's level 1, 10 MiB of zeros take about 45 KB. */
	ASSERT(c.len < 64000);
	wsr_pmd_free(tx);
	free(zeros);

	struct counter cnt = {0};
	struct wsr_allocator a = counting(&cnt);
	ASSERT_EQ(wsr_pmd_new(&rx, &a, &p, WSR_ROLE_SERVER), WSR_OK);
	size_t base = cnt.cur;
	uint64_t got = 0;
	const uint64_t cap = 1u << 20;
	ASSERT_EQ(wsr_pmd_inflate(rx, c.p, c.len, true, cap, sink_count, &got),
	          WSR_INFLATE_TOO_BIG);
	ASSERT(got <= cap);
	ASSERT(got + 16384 >= cap); /* stopped at the cap, not earlier */
	/* Inflating allocated at most the 32 KiB window (plus headers). */
	ASSERT(cnt.peak - base <= 33000);
	/* Sticky. */
	ASSERT_EQ(wsr_pmd_inflate(rx, c.p, 1, true, cap, sink_count, &got), WSR_INFLATE_TOO_BIG);
	wsr_pmd_free(rx);
	ASSERT_EQ(cnt.cur, 0);
	ASSERT_EQ(cnt.live, 0);

	/* The same bomb fed in 100-byte pieces stops the same way. */
	ASSERT_EQ(wsr_pmd_new(&rx, NULL, &p, WSR_ROLE_SERVER), WSR_OK);
	got = 0;
	enum wsr_status st = WSR_OK;
	for (size_t i = 0; i < c.len && st == WSR_OK; i += 100) {
		size_t k = c.len - i < 100 ? c.len - i : 100;
		st = wsr_pmd_inflate(rx, c.p + i, k, i + k == c.len, cap, sink_count, &got);
	}
	ASSERT_EQ(st, WSR_INFLATE_TOO_BIG);
	ASSERT(got <= cap);
	wsr_pmd_free(rx);
	buf_free(&c);
}

static void test_cap_exact_boundary_and_piece_size(void)
{
	static uint8_t text[100000];
	make_text(text, sizeof(text));
	struct wsr_pmd_params p = {true, true, 0, 0};
	struct wsr_pmd *tx = NULL, *rx = NULL;
	struct buf c = {0}, d = {0};
	ASSERT_EQ(wsr_pmd_new(&tx, NULL, &p, WSR_ROLE_CLIENT), WSR_OK);
	ASSERT_EQ(wsr_pmd_new(&rx, NULL, &p, WSR_ROLE_SERVER), WSR_OK);
	ASSERT(compress_msg(tx, text, sizeof(text), &c));
	ASSERT_EQ(wsr_pmd_inflate(rx, c.p, c.len, true, sizeof(text), sink_buf, &d), WSR_OK);
	ASSERT_MEMEQ(bp(&d), d.len, text, sizeof(text));
	ASSERT(d.max_piece <= 16384);
	ASSERT(d.pieces >= sizeof(text) / 16384);
	wsr_pmd_free(rx);
	ASSERT_EQ(wsr_pmd_new(&rx, NULL, &p, WSR_ROLE_SERVER), WSR_OK);
	d.len = 0;
	ASSERT_EQ(wsr_pmd_inflate(rx, c.p, c.len, true, sizeof(text) - 1, sink_buf, &d),
	          WSR_INFLATE_TOO_BIG);
	ASSERT(d.len <= sizeof(text) - 1);
	wsr_pmd_free(rx);
	/* Cap 0: an empty message passes, one byte does not. */
	ASSERT_EQ(wsr_pmd_new(&rx, NULL, &p, WSR_ROLE_SERVER), WSR_OK);
	ASSERT(compress_msg(tx, NULL, 0, &c));
	ASSERT_EQ(wsr_pmd_inflate(rx, c.p, c.len, true, 0, sink_buf, &d), WSR_OK);
	ASSERT(compress_msg(tx, text, 1, &c));
	ASSERT_EQ(wsr_pmd_inflate(rx, c.p, c.len, true, 0, sink_buf, &d), WSR_INFLATE_TOO_BIG);
	wsr_pmd_free(rx);
	/* The cap is per message: many messages each under it pass. */
	ASSERT_EQ(wsr_pmd_new(&rx, NULL, &p, WSR_ROLE_SERVER), WSR_OK);
	for (int i = 0; i < 20; i++) {
		ASSERT(compress_msg(tx, text, 1000, &c));
		d.len = 0;
		ASSERT_EQ(wsr_pmd_inflate(rx, c.p, c.len, true, 1000, sink_buf, &d), WSR_OK);
	}
	wsr_pmd_free(rx);
	wsr_pmd_free(tx);
	buf_free(&c);
	buf_free(&d);
}

/* ---- corrupt input ---- */

static void expect_corrupt(const uint8_t *in, size_t n, const char *what)
{
	struct wsr_pmd_params p = {false, false, 0, 0};
	struct wsr_pmd *rx = NULL;
	struct buf d = {0};
	tu_current = what;
	ASSERT_EQ(wsr_pmd_new(&rx, NULL, &p, WSR_ROLE_SERVER), WSR_OK);
	ASSERT_EQ(wsr_pmd_inflate(rx, in, n, true, 1 << 20, sink_buf, &d), WSR_INFLATE_FAILED);
	/* Sticky afterwards. */
	ASSERT_EQ(wsr_pmd_inflate(rx, (const uint8_t *)"\x00", 1, true, 1 << 20, sink_buf, &d),
	          WSR_INFLATE_FAILED);
	wsr_pmd_free(rx);
	buf_free(&d);
}

static void test_corrupt_and_truncated_streams(void)
{
	static const uint8_t reserved_btype[] = {0x06, 0x00};
	static const uint8_t bad_stored_len[] = {0x00, 0x05, 0x00, 0x00, 0x00, 'H'};
	static const uint8_t garbage[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	static const uint8_t far_back[] = {0x02, 0x00}; /* fixed block, distance into nothing */
	expect_corrupt(reserved_btype, sizeof(reserved_btype), "reserved BTYPE");
	expect_corrupt(bad_stored_len, sizeof(bad_stored_len), "stored LEN/NLEN mismatch");
	expect_corrupt(garbage, sizeof(garbage), "garbage");
	(void)far_back;

	/* A valid message cut short mid-block: ends off a block boundary. */
	const char *msg = "truncated truncated truncated message with some length to it";
	struct wsr_pmd_params p = {false, false, 0, 0};
	struct wsr_pmd *tx = NULL;
	struct buf c = {0};
	ASSERT_EQ(wsr_pmd_new(&tx, NULL, &p, WSR_ROLE_CLIENT), WSR_OK);
	ASSERT(compress_msg(tx, (const uint8_t *)msg, strlen(msg), &c));
	wsr_pmd_free(tx);
	size_t rejected = 0;
	for (size_t k = 1; k + 1 < c.len; k++) {
		struct wsr_pmd *rx = NULL;
		struct buf d = {0};
		ASSERT_EQ(wsr_pmd_new(&rx, NULL, &p, WSR_ROLE_SERVER), WSR_OK);
		enum wsr_status st = wsr_pmd_inflate(rx, c.p, k, true, 1 << 20, sink_buf, &d);
		/* Never a wrong "success" carrying the whole message. */
		ASSERT(st != WSR_OK || d.len < strlen(msg));
		rejected += st == WSR_INFLATE_FAILED;
		wsr_pmd_free(rx);
		buf_free(&d);
	}
	ASSERT(rejected + 3 >= c.len); /* nearly every cut is caught */
	buf_free(&c);

	/* Random garbage never crashes and never passes the cap. */
	for (int i = 0; i < 2000; i++) {
		uint8_t junk[64];
		size_t n = rnd() % sizeof(junk);
		for (size_t k = 0; k < n; k++)
			junk[k] = (uint8_t)rnd();
		struct wsr_pmd *rx = NULL;
		uint64_t got = 0;
		ASSERT_EQ(wsr_pmd_new(&rx, NULL, &p, WSR_ROLE_SERVER), WSR_OK);
		enum wsr_status st = wsr_pmd_inflate(rx, junk, n, true, 300, sink_count, &got);
		ASSERT(st == WSR_OK || st == WSR_INFLATE_FAILED || st == WSR_INFLATE_TOO_BIG);
		ASSERT(got <= 300);
		wsr_pmd_free(rx);
	}
}

static void test_sink_status_is_returned(void)
{
	struct wsr_pmd_params p = {false, false, 0, 0};
	struct wsr_pmd *tx = NULL, *rx = NULL;
	struct buf c = {0};
	ASSERT_EQ(wsr_pmd_new(&tx, NULL, &p, WSR_ROLE_CLIENT), WSR_OK);
	ASSERT_EQ(wsr_pmd_new(&rx, NULL, &p, WSR_ROLE_SERVER), WSR_OK);
	ASSERT(compress_msg(tx, (const uint8_t *)"abc", 3, &c));
	ASSERT_EQ(wsr_pmd_inflate(rx, c.p, c.len, true, 100, sink_refuse, NULL),
	          WSR_MESSAGE_TOO_BIG);
	ASSERT_EQ(wsr_pmd_deflate(tx, (const uint8_t *)"abc", 3, sink_refuse, NULL),
	          WSR_MESSAGE_TOO_BIG);
	wsr_pmd_free(tx);
	wsr_pmd_free(rx);
	buf_free(&c);
}

static void test_bad_arguments(void)
{
	struct wsr_pmd *pmd = (struct wsr_pmd *)1;
	struct wsr_pmd_params p = {false, false, 16, 0};
	ASSERT_EQ(wsr_pmd_new(&pmd, NULL, &p, WSR_ROLE_SERVER), WSR_INVALID_ARGUMENT);
	ASSERT(pmd == NULL);
	p = (struct wsr_pmd_params){false, false, 7, 0};
	ASSERT_EQ(wsr_pmd_new(&pmd, NULL, &p, WSR_ROLE_SERVER), WSR_INVALID_ARGUMENT);
	p = (struct wsr_pmd_params){false, false, WSR_PMD_BITS_NO_VALUE, 0};
	ASSERT_EQ(wsr_pmd_new(&pmd, NULL, &p, WSR_ROLE_SERVER), WSR_INVALID_ARGUMENT);
	p = (struct wsr_pmd_params){false, false, 0, 3};
	ASSERT_EQ(wsr_pmd_new(&pmd, NULL, &p, WSR_ROLE_CLIENT), WSR_INVALID_ARGUMENT);
	ASSERT_EQ(wsr_pmd_new(NULL, NULL, &p, WSR_ROLE_CLIENT), WSR_INVALID_ARGUMENT);
	ASSERT_EQ(wsr_pmd_new(&pmd, NULL, NULL, WSR_ROLE_CLIENT), WSR_INVALID_ARGUMENT);
	wsr_pmd_free(NULL);
}

/* ---- allocation failure sweep ---- */

static enum wsr_status alloc_scenario(struct counter *cnt)
{
	struct wsr_allocator a = counting(cnt);
	struct wsr_pmd_params p = {false, false, 10, 9};
	struct wsr_pmd *pmd = NULL;
	static const uint8_t bfinal_twice[] = {0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07,
	                                       0x00, 0xf2, 0x00, 0x11, 0x00, 0x00};
	struct buf c = {0}, d = {0};
	enum wsr_status st = wsr_pmd_new(&pmd, &a, &p, WSR_ROLE_SERVER);
	if (st == WSR_OK)
		st = wsr_pmd_deflate(pmd, (const uint8_t *)"hello hello", 11, sink_buf, &c);
	if (st == WSR_OK)
		st = wsr_pmd_inflate(pmd, bfinal_twice, sizeof(bfinal_twice), true, 100, sink_buf,
		                     &d);
	if (st == WSR_OK && (d.len != 10 || memcmp(d.p, "HelloHello", 10) != 0))
		st = WSR_BAD_STATE; /* wrong output */
	wsr_pmd_free(pmd);
	buf_free(&c);
	buf_free(&d);
	return st;
}

static void test_allocation_failure_sweep(void)
{
	struct counter cnt = {0};
	ASSERT_EQ(alloc_scenario(&cnt), WSR_OK);
	ASSERT_EQ(cnt.cur, 0);
	size_t total = cnt.count;
	ASSERT(total >= 5); /* pmd, deflate's 4+, inflate state, window */
	for (size_t i = 1; i <= total; i++) {
		struct counter c = {0};
		c.fail_at = i;
		ASSERT_EQ(alloc_scenario(&c), WSR_NOMEM);
		ASSERT_EQ(c.cur, 0);
		ASSERT_EQ(c.live, 0);
	}
}

int main(void)
{
	RUN(test_round_trip_every_parameter_combination);
	RUN(test_output_fits_agreed_window_including_8);
	RUN(test_8_bit_window_client_direction);
	RUN(test_inflate_split_at_every_offset);
	RUN(test_inflate_far_reference_same_verdict_at_every_split);
	RUN(test_rfc7692_examples);
	RUN(test_decompression_bomb_stops_at_cap_with_bounded_memory);
	RUN(test_cap_exact_boundary_and_piece_size);
	RUN(test_corrupt_and_truncated_streams);
	RUN(test_sink_status_is_returned);
	RUN(test_bad_arguments);
	RUN(test_allocation_failure_sweep);
	return tu_finish("deflate");
}
