/*
 * fuzz_frame.c - frame header parsing and unmasking.
 *
 * Input: [split u8][offset u8][mask 4][header + payload bytes...]
 * Oracles:
 *   - parse on every prefix: once a verdict is not AGAIN it never changes,
 *     and an OK header is the same header whatever the extra bytes;
 *   - an OK header is self-consistent (header_len = header_size(), within
 *     the input, length MSB clear) and writes back to the very same bytes
 *     (the parser accepts minimal length encodings only);
 *   - wsr_mask agrees with wsr_mask_bytewise at any offset, in one piece or
 *     two, and masking twice is the identity.
 */
#include "fuzz_common.h"
#include "wsref/wsref.h"

static bool same_header(const struct wsr_frame_header *a, const struct wsr_frame_header *b)
{
	return a->fin == b->fin && a->rsv == b->rsv && a->opcode == b->opcode &&
	       a->masked == b->masked && (!a->masked || memcmp(a->mask, b->mask, 4) == 0) &&
	       a->length == b->length && a->header_len == b->header_len;
}

static void check_header(const uint8_t *data, size_t size)
{
	struct wsr_frame_header full, h;
	enum wsr_status fs = wsr_frame_parse_header(data, size, &full);
	FZ_CHECK(fs == WSR_OK || fs == WSR_AGAIN || fs == WSR_RESERVED_OPCODE ||
	         fs == WSR_CONTROL_FRAGMENTED || fs == WSR_CONTROL_TOO_LONG ||
	         fs == WSR_NON_MINIMAL_LENGTH || fs == WSR_LENGTH_MSB_SET);
	if (fs == WSR_AGAIN)
		FZ_CHECK(size < 14);
	if (fs == WSR_OK) {
		FZ_CHECK(full.header_len >= 2 && full.header_len <= 14);
		FZ_CHECK(full.header_len <= size);
		FZ_CHECK(full.header_len == wsr_frame_header_size(full.length, full.masked));
		FZ_CHECK((full.length >> 63) == 0);
		FZ_CHECK(full.opcode <= 0xF && full.rsv <= 7);
		if (full.opcode & 0x8)
			FZ_CHECK(full.fin && full.length <= 125);
		uint8_t out[14];
		size_t w = wsr_frame_write_header(out, sizeof(out), &full);
		FZ_CHECK(w == full.header_len);
		FZ_CHECK(memcmp(out, data, w) == 0);
		FZ_CHECK(wsr_frame_write_header(out, w - 1, &full) == 0);
	}
	/* Prefixes: AGAIN until decided, then the same verdict. */
	enum wsr_status first = WSR_AGAIN;
	size_t lim = size < 15 ? size : 15;
	for (size_t k = 0; k <= lim; k++) {
		uint8_t *p = fz_dup(data, k);
		memset(&h, 0xAA, sizeof(h));
		enum wsr_status st = wsr_frame_parse_header(p, k, &h);
		free(p);
		if (first != WSR_AGAIN)
			FZ_CHECK(st == first);
		if (st != WSR_AGAIN && first == WSR_AGAIN)
			first = st;
		if (st == WSR_OK)
			FZ_CHECK(same_header(&h, &full));
	}
	FZ_CHECK(first == fs || (fs == WSR_AGAIN && first == WSR_AGAIN));
}

static void check_mask(const uint8_t mask[4], uint64_t offset, size_t split, const uint8_t *p,
                       size_t n)
{
	uint8_t *a = fz_dup(p, n), *b = fz_dup(p, n), *c = fz_dup(p, n);
	wsr_mask(a, n, mask, offset);
	wsr_mask_bytewise(b, n, mask, offset);
	FZ_CHECK(memcmp(a, b, n) == 0);
	/* In two pieces, at unaligned addresses too. */
	if (split > n)
		split = n;
	uint8_t *c2 = fz_dup(c + split, n - split);
	wsr_mask(c, split, mask, offset);
	wsr_mask(c2, n - split, mask, offset + split);
	FZ_CHECK(memcmp(c, a, split) == 0 && memcmp(c2, a + split, n - split) == 0);
	wsr_mask(a, n, mask, offset);
	FZ_CHECK(memcmp(a, p, n) == 0);
	free(a);
	free(b);
	free(c);
	free(c2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = {data, size};
	size_t split = fz_u8(&f);
	uint64_t offset = fz_u8(&f);
	uint8_t mask[4] = {fz_u8(&f), fz_u8(&f), fz_u8(&f), fz_u8(&f)};
	uint8_t *rest = fz_dup(f.p, f.n);
	check_header(rest, f.n);
	/* Unmask whatever follows a parsed header, else the whole rest. */
	struct wsr_frame_header h;
	size_t start = 0;
	if (wsr_frame_parse_header(rest, f.n, &h) == WSR_OK)
		start = h.header_len;
	check_mask(mask, offset, split, rest + start, f.n - start);
	free(rest);
	return 0;
}
