/* frame headers, serialisation and masking. */
#include "testutil.h"

#include <stdlib.h>
#include <wsref/wsref.h>

/*
 * Parse a header vector whole and as every prefix (each copied against a
 * guard page): a prefix may only say AGAIN or already give the final verdict,
 * and once it gives a verdict every longer prefix gives the same one.
 */
static enum wsr_status parse_all_ways(const uint8_t *v, size_t len, struct wsr_frame_header *out)
{
	enum wsr_status final;
	uint8_t *g = tu_guard_copy(v, len);
	final = wsr_frame_parse_header(g, len, out);
	tu_guard_free(g, len);
	bool decided = false;
	for (size_t l = 0; l < len; l++) {
		struct wsr_frame_header h;
		memset(&h, 0xAA, sizeof h);
		g = tu_guard_copy(v, l);
		enum wsr_status st = wsr_frame_parse_header(g, l, &h);
		tu_guard_free(g, l);
		if (decided)
			ASSERT_EQ(st, final);
		else if (st != WSR_AGAIN)
			decided = true;
		if (st == WSR_AGAIN) {
			ASSERT_EQ(h.header_len, 0xAA); /* untouched */
		} else {
			ASSERT_EQ(st, final);
			ASSERT(final != WSR_OK); /* an OK needs the whole header */
		}
	}
	return final;
}

static void test_length_encodings(void)
{
	static const struct {
		uint64_t len;
		size_t hl;
	} cases[] = {{0, 2},      {1, 2},           {125, 2},
	             {126, 4},    {127, 4},         {65535, 4},
	             {65536, 10}, {1ull << 32, 10}, {(1ull << 63) - 1, 10}};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		for (int m = 0; m < 2; m++) {
			struct wsr_frame_header h = {.fin = true,
			                             .opcode = WSR_OP_BINARY,
			                             .masked = m,
			                             .length = cases[i].len,
			                             .mask = {1, 2, 3, 4}};
			uint8_t buf[14];
			size_t n = wsr_frame_write_header(buf, sizeof buf, &h);
			ASSERT_EQ(n, cases[i].hl + (m ? 4 : 0));
			ASSERT_EQ(wsr_frame_header_size(cases[i].len, m), n);
			ASSERT_EQ(wsr_frame_write_header(buf, n - 1, &h), 0);
			struct wsr_frame_header p;
			ASSERT_EQ(parse_all_ways(buf, n, &p), WSR_OK);
			ASSERT_EQ(p.length, cases[i].len);
			ASSERT_EQ(p.header_len, n);
			ASSERT_EQ(p.masked, m);
			ASSERT(p.fin);
			ASSERT_EQ(p.opcode, WSR_OP_BINARY);
			if (m)
				ASSERT_MEMEQ(p.mask, 4, "\x01\x02\x03\x04", 4);
		}
	}
}

static void test_header_bits(void)
{
	const uint8_t v[] = {0x71, 0x85, 0x37, 0xfa, 0x21, 0x3d}; /* !fin, rsv=7, text, masked 5 */
	struct wsr_frame_header h;
	ASSERT_EQ(parse_all_ways(v, sizeof v, &h), WSR_OK);
	ASSERT(!h.fin);
	ASSERT_EQ(h.rsv, 7);
	ASSERT_EQ(h.opcode, WSR_OP_TEXT);
	ASSERT_EQ(h.length, 5);
	ASSERT_MEMEQ(h.mask, 4, "\x37\xfa\x21\x3d", 4);
	/* round trip, including rsv */
	uint8_t out[14];
	ASSERT_EQ(wsr_frame_write_header(out, sizeof out, &h), 6);
	ASSERT_MEMEQ(out, 6, v, 6);
	/* RFC 6455 5.7 examples */
	const uint8_t hello[] = {0x81, 0x05};
	ASSERT_EQ(parse_all_ways(hello, 2, &h), WSR_OK);
	ASSERT(h.fin && !h.masked && h.length == 5 && h.header_len == 2);
	const uint8_t big[] = {0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0};
	ASSERT_EQ(parse_all_ways(big, sizeof big, &h), WSR_OK);
	ASSERT_EQ(h.length, 65536);
}

static void test_rejections(void)
{
	struct wsr_frame_header h;
	static const struct {
		uint8_t v[14];
		size_t len;
		enum wsr_status st;
	} cases[] = {
	        {{0x83, 0x00}, 2, WSR_RESERVED_OPCODE},
	        {{0x87, 0x80, 1, 2, 3, 4}, 6, WSR_RESERVED_OPCODE},
	        {{0x8B, 0x00}, 2, WSR_RESERVED_OPCODE},
	        {{0x8F, 0x00}, 2, WSR_RESERVED_OPCODE},
	        {{0x09, 0x00}, 2, WSR_CONTROL_FRAGMENTED},
	        {{0x08, 0x00}, 2, WSR_CONTROL_FRAGMENTED},
	        {{0x89, 0x7E, 0x00, 0x7E}, 4, WSR_CONTROL_TOO_LONG},
	        {{0x88, 0x7F, 0, 0, 0, 0, 0, 0, 0, 126}, 10, WSR_CONTROL_TOO_LONG},
	        {{0x82, 0x7E, 0x00, 0x7D}, 4, WSR_NON_MINIMAL_LENGTH},
	        {{0x82, 0x7E, 0x00, 0x00}, 4, WSR_NON_MINIMAL_LENGTH},
	        {{0x82, 0x7F, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF}, 10, WSR_NON_MINIMAL_LENGTH},
	        {{0x82, 0x7F, 0, 0, 0, 0, 0, 0, 0, 5}, 10, WSR_NON_MINIMAL_LENGTH},
	        {{0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0}, 10, WSR_LENGTH_MSB_SET},
	        {{0x82, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3, 4},
	         14,
	         WSR_LENGTH_MSB_SET},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		ASSERT_EQ(parse_all_ways(cases[i].v, cases[i].len, &h), cases[i].st);
	/* Control frames of exactly 125 bytes are fine; every control opcode. */
	const uint8_t ping125[] = {0x89, 0x7D};
	ASSERT_EQ(parse_all_ways(ping125, 2, &h), WSR_OK);
	const uint8_t pong[] = {0x8A, 0x80, 0, 0, 0, 0};
	ASSERT_EQ(parse_all_ways(pong, 6, &h), WSR_OK);
	/* Every opcode: exactly 0,1,2,8,9,A are known. */
	for (int op = 0; op < 16; op++) {
		uint8_t v[2] = {(uint8_t)(0x80 | op), 0};
		enum wsr_status st = wsr_frame_parse_header(v, 2, &h);
		bool known = op <= 2 || (op >= 8 && op <= 10);
		ASSERT_EQ(st, known ? WSR_OK : WSR_RESERVED_OPCODE);
	}
}

static void test_mask_matches_bytewise(void)
{
	uint8_t a[300 + 16], b[300 + 16];
	const uint8_t mask[4] = {0x37, 0xfa, 0x21, 0x3d};
	unsigned seed = 12345;
	unsigned mismatches = 0;
	for (size_t len = 0; len <= 300; len++) {
		for (size_t start = 0; start < 8; start++) {
			for (uint64_t off = 0; off < 4; off++) {
				for (size_t i = 0; i < sizeof a; i++)
					a[i] = b[i] =
					        (uint8_t)((seed = seed * 1103515245u + 12345u) >>
					                  16);
				wsr_mask(a + start, len, mask, off);
				wsr_mask_bytewise(b + start, len, mask, off);
				mismatches += memcmp(a, b, sizeof a) != 0;
			}
		}
	}
	ASSERT_EQ(mismatches, 0);
	/* Bytewise against the RFC formula, and masking twice is identity. */
	uint8_t v[5] = {0x7f, 0x9f, 0x4d, 0x51, 0x58};
	wsr_mask_bytewise(v, 5, mask, 0);
	ASSERT_MEMEQ(v, 5, "Hello", 5);
	wsr_mask(v, 5, mask, 0);
	wsr_mask(v, 5, mask, 0);
	ASSERT_MEMEQ(v, 5, "Hello", 5);
	/* In pieces at odd offsets equals all at once. */
	uint8_t w[5] = {0x7f, 0x9f, 0x4d, 0x51, 0x58};
	wsr_mask(w, 3, mask, 0);
	wsr_mask(w + 3, 2, mask, 3);
	ASSERT_MEMEQ(w, 5, "Hello", 5);
	/* A large offset keeps only its phase. */
	uint8_t x[5] = {0x7f, 0x9f, 0x4d, 0x51, 0x58};
	wsr_mask(x, 5, mask, (1ull << 40));
	ASSERT_MEMEQ(x, 5, "Hello", 5);
}

static void test_mask_big_buffer(void)
{
	size_t n = 1u << 20;
	uint8_t *a = malloc(n + 7), *b = malloc(n + 7);
	for (size_t i = 0; i < n + 7; i++)
		a[i] = b[i] = (uint8_t)(i * 31 + 7);
	const uint8_t mask[4] = {0xde, 0xad, 0xbe, 0xef};
	wsr_mask(a + 3, n, mask, 1);
	wsr_mask_bytewise(b + 3, n, mask, 1);
	ASSERT(memcmp(a, b, n + 7) == 0);
	/* against a guard page: the word loop must not read or write past the end */
	uint8_t *g = tu_guard_copy(b + 3, n - 5);
	wsr_mask(g, n - 5, mask, 2);
	wsr_mask_bytewise(g, n - 5, mask, 2);
	ASSERT(memcmp(g, b + 3, n - 5) == 0);
	tu_guard_free(g, n - 5);
	free(a);
	free(b);
}

int main(void)
{
	RUN(test_length_encodings);
	RUN(test_header_bits);
	RUN(test_rejections);
	RUN(test_mask_matches_bytewise);
	RUN(test_mask_big_buffer);
	return tu_finish("frame");
}
