/*
 * fuzz_roundtrip.c - deflate -> inflate identity over real zlib.
 *
 * Input: [flags u8][server bits u8][client bits u8] then messages:
 *   [len u16][dir u8][len bytes] ...
 * Both ends are built from the same agreed params (one as server, one as
 * client); each message goes in the direction its dir byte picks, across
 * many messages, so context takeover and window sizes 8..15 are exercised
 * together. Oracles: deflate succeeds; the peer inflates exactly the
 * original (cap = its length, so one byte more would fail); the compressed
 * form is never empty; without context takeover a message compresses to the
 * same bytes as on a brand-new compressor, whatever came before it.
 */
#include "fuzz_common.h"
#include "wsref/wsref.h"

struct buf {
	uint8_t *p;
	size_t len, cap;
};

static enum wsr_status sink(void *ctx, const uint8_t *p, size_t n)
{
	struct buf *b = ctx;
	if (b->len + n > b->cap) {
		size_t nc = b->cap ? b->cap * 2 : 1024;
		while (nc < b->len + n)
			nc *= 2;
		b->p = realloc(b->p, nc);
		FZ_CHECK(b->p != NULL);
		b->cap = nc;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	return WSR_OK;
}

static uint8_t bits(uint8_t b)
{
	b %= 9;
	return b == 0 ? 0 : (uint8_t)(7 + b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = {data, size};
	uint8_t flags = fz_u8(&f);
	struct wsr_pmd_params p = {(flags & 1) != 0, (flags & 2) != 0, bits(fz_u8(&f)),
	                           bits(fz_u8(&f))};
	if (flags & 4)
		p.client_max_window_bits =
		        p.client_max_window_bits ? p.client_max_window_bits : WSR_PMD_BITS_NO_VALUE;
	struct wsr_pmd *srv = NULL, *cli = NULL;
	FZ_CHECK(wsr_pmd_new(&srv, NULL, &p, WSR_ROLE_SERVER) == WSR_OK);
	FZ_CHECK(wsr_pmd_new(&cli, NULL, &p, WSR_ROLE_CLIENT) == WSR_OK);
	struct buf c = {0}, d = {0}, fresh = {0};
	for (int m = 0; m < 16 && f.n > 0; m++) {
		size_t len = fz_u16(&f) % 4096;
		bool from_client = fz_u8(&f) & 1;
		const uint8_t *msg;
		len = fz_bytes(&f, len, &msg);
		uint8_t *in = fz_dup(msg, len);
		struct wsr_pmd *tx = from_client ? cli : srv, *rx = from_client ? srv : cli;
		c.len = d.len = 0;
		FZ_CHECK(wsr_pmd_deflate(tx, in, len, sink, &c) == WSR_OK);
		FZ_CHECK(c.len >= 1);
		bool resets =
		        from_client ? p.client_no_context_takeover : p.server_no_context_takeover;
		if (resets && m < 4) {
			/* Same bytes as a brand-new compressor would produce. */
			struct wsr_pmd *n = NULL;
			FZ_CHECK(wsr_pmd_new(&n, NULL, &p,
			                     from_client ? WSR_ROLE_CLIENT : WSR_ROLE_SERVER) ==
			         WSR_OK);
			fresh.len = 0;
			FZ_CHECK(wsr_pmd_deflate(n, in, len, sink, &fresh) == WSR_OK);
			FZ_CHECK(fresh.len == c.len && memcmp(fresh.p, c.p, c.len) == 0);
			wsr_pmd_free(n);
		}
		uint8_t *z = fz_dup(c.p, c.len);
		FZ_CHECK(wsr_pmd_inflate(rx, z, c.len, true, len, sink, &d) == WSR_OK);
		free(z);
		FZ_CHECK(d.len == len && (len == 0 || memcmp(d.p, in, len) == 0));
		free(in);
	}
	free(c.p);
	free(d.p);
	free(fresh.p);
	wsr_pmd_free(srv);
	wsr_pmd_free(cli);
	return 0;
}
