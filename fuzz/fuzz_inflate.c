/*
 * fuzz_inflate.c - the receive side of permessage-deflate on real zlib.
 *
 * Input: [flags u8][server bits u8][client bits u8][cap u8] then messages:
 *   [len u16][pieces u8][len bytes] ...
 * flags: bit0 server_no_context_takeover, bit1 client_no_context_takeover,
 *        bit2 role (0 server, 1 client). Window bits map onto 0 or 8..15.
 * Each message is fed in up to 4 pieces (sizes from the input), the last
 * with fin. Oracles: only OK / INFLATE_FAILED / INFLATE_TOO_BIG come back;
 * a message never yields more than cap bytes, nor a piece over 16 KiB; an
 * error is sticky; the same message split differently gives the same bytes
 * and the same verdict (a second state, fed whole, runs in step).
 */
#include "fuzz_common.h"
#include "wsref/wsref.h"

struct out {
	uint64_t total;
	uint32_t hash;
};

static enum wsr_status sink(void *ctx, const uint8_t *p, size_t n)
{
	struct out *o = ctx;
	FZ_CHECK(n > 0 && n <= 16384);
	o->total += n;
	for (size_t i = 0; i < n; i++)
		o->hash = (o->hash ^ p[i]) * 16777619u;
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
	enum wsr_role role = (flags & 4) ? WSR_ROLE_CLIENT : WSR_ROLE_SERVER;
	uint64_t cap = (uint64_t)fz_u8(&f) * 16 + 1; /* small: 1..4081 */
	struct wsr_pmd *a = NULL, *b = NULL;
	FZ_CHECK(wsr_pmd_new(&a, NULL, &p, role) == WSR_OK);
	FZ_CHECK(wsr_pmd_new(&b, NULL, &p, role) == WSR_OK);
	enum wsr_status sticky = WSR_OK;
	for (int m = 0; m < 32 && f.n > 0 && sticky == WSR_OK; m++) {
		size_t len = fz_u16(&f) % 4096;
		uint8_t pieces = fz_u8(&f);
		const uint8_t *msg;
		len = fz_bytes(&f, len, &msg);
		/* a: in pieces, each in its own exact-size buffer. */
		struct out oa = {0, 2166136261u}, ob = {0, 2166136261u};
		enum wsr_status sa = WSR_OK;
		size_t off = 0;
		for (int k = 0; k < 4 && sa == WSR_OK; k++) {
			bool last = k == 3 || off == len;
			size_t n = last ? len - off : (len - off) * ((pieces >> (2 * k)) & 3) / 4;
			uint8_t *piece = fz_dup(msg + off, n);
			sa = wsr_pmd_inflate(a, piece, n, last, cap, sink, &oa);
			free(piece);
			off += n;
			if (last)
				break;
		}
		/* b: whole. */
		uint8_t *whole = fz_dup(msg, len);
		enum wsr_status sb = wsr_pmd_inflate(b, whole, len, true, cap, sink, &ob);
		free(whole);
		FZ_CHECK(sa == WSR_OK || sa == WSR_INFLATE_FAILED || sa == WSR_INFLATE_TOO_BIG);
		FZ_CHECK(oa.total <= cap && ob.total <= cap);
		FZ_CHECK(sa == sb);
		if (sa == WSR_OK)
			FZ_CHECK(oa.total == ob.total && oa.hash == ob.hash);
		if (sa != WSR_OK) {
			struct out oc = {0, 0};
			FZ_CHECK(wsr_pmd_inflate(a, (const uint8_t *)"\0", 1, true, cap, sink,
			                         &oc) == sa);
			FZ_CHECK(oc.total == 0);
		}
		sticky = sa;
	}
	wsr_pmd_free(a);
	wsr_pmd_free(b);
	return 0;
}
