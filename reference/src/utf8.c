/*
 * utf8.c - incremental, fail-fast UTF-8 validation (RFC 3629, as RFC 6455
 * section 8.1 requires).
 *
 * The fast validator is a shift-based DFA: each DFA state is a bit offset
 * (a multiple of 6) into a 64-bit row, and the row for a byte holds, at each
 * state's offset, the offset of the state it goes to. One step is
 *     state = row[byte] >> (state & 63)
 * a single shift on the critical path (the row load depends only on the
 * input). Error is offset 0 and absorbing, so every transition a row does not
 * name goes to error, and the error check can be done once per chunk.
 * Runs of ASCII while between code points are skipped 16 bytes at a time.
 */
#include <wsref/wsref.h>

#include <string.h>

/* States (bit offsets). */
#define S_ERR 0  /* invalid: absorbing */
#define S_ACC 6  /* between code points */
#define S_T1  12 /* one continuation byte (80..BF) left */
#define S_T2  18 /* two left */
#define S_T3  24 /* three left */
#define S_E0  30 /* after E0: next A0..BF (no overlongs) */
#define S_ED  36 /* after ED: next 80..9F (no surrogates) */
#define S_F0  42 /* after F0: next 90..BF (no overlongs) */
#define S_F4  48 /* after F4: next 80..8F (nothing over U+10FFFF) */

#define TR(from, to) ((uint64_t)(to) << (from))

/* Byte classes: one row each. */
#define R_ASCII       TR(S_ACC, S_ACC)
#define R_CONT_COMMON (TR(S_T1, S_ACC) | TR(S_T2, S_T1) | TR(S_T3, S_T2))
#define R_80_8F       (R_CONT_COMMON | TR(S_ED, S_T1) | TR(S_F4, S_T2))
#define R_90_9F       (R_CONT_COMMON | TR(S_ED, S_T1) | TR(S_F0, S_T2))
#define R_A0_BF       (R_CONT_COMMON | TR(S_E0, S_T1) | TR(S_F0, S_T2))
#define R_BAD         0
#define R_C2_DF       TR(S_ACC, S_T1)
#define R_E0          TR(S_ACC, S_E0)
#define R_E1_EF       TR(S_ACC, S_T2) /* E1..EC, EE, EF */
#define R_ED          TR(S_ACC, S_ED)
#define R_F0          TR(S_ACC, S_F0)
#define R_F1_F3       TR(S_ACC, S_T3)
#define R_F4          TR(S_ACC, S_F4)

#define X2(r)  r, r
#define X4(r)  X2(r), X2(r)
#define X8(r)  X4(r), X4(r)
#define X16(r) X8(r), X8(r)
#define X32(r) X16(r), X16(r)
#define X64(r) X32(r), X32(r)

static const uint64_t rows[256] = {
        X64(R_ASCII), X64(R_ASCII),                                          /* 00..7F */
        X16(R_80_8F), X16(R_90_9F), X32(R_A0_BF),                            /* 80..BF */
        X2(R_BAD),    X2(R_C2_DF),  X4(R_C2_DF),  X8(R_C2_DF), X16(R_C2_DF), /* C0..DF */
        R_E0,         X8(R_E1_EF),  X4(R_E1_EF),  R_ED,        X2(R_E1_EF),  /* E0..EF */
        R_F0,         X2(R_F1_F3),  R_F1_F3,      R_F4,        X8(R_BAD),
        X2(R_BAD),    R_BAD, /* F0..FF */
};

/*
 * The public struct stores state ^ S_ACC, so that a zeroed struct is a fresh
 * validator (stored 0 = between code points), and error is stored as S_ACC.
 */
#define STORED(s) ((uint32_t)((s) ^ S_ACC))

void wsr_utf8_init(struct wsr_utf8 *u)
{
	u->state = STORED(S_ACC);
}

static inline uint64_t step(uint64_t s, uint8_t b)
{
	return rows[b] >> (s & 63);
}

static inline bool ascii16(const uint8_t *p)
{
	uint64_t a, b;
	memcpy(&a, p, 8);
	memcpy(&b, p + 8, 8);
	return ((a | b) & 0x8080808080808080ULL) == 0;
}

enum wsr_status wsr_utf8_feed(struct wsr_utf8 *u, const uint8_t *p, size_t len, size_t *bad_offset)
{
	uint64_t s = u->state ^ S_ACC;
	size_t i = 0;
	if ((s & 63) == S_ERR) {
		if (bad_offset)
			*bad_offset = 0;
		return WSR_INVALID_UTF8;
	}
	while (i < len) {
		if ((s & 63) == S_ACC) {
			while (i + 16 <= len && ascii16(p + i))
				i += 16;
		}
		/* A chunk of up to 16 DFA steps, checked for error once at the end. */
		size_t end = len - i < 16 ? len : i + 16;
		uint64_t s0 = s;
		size_t i0 = i;
		for (; i < end; i++)
			s = step(s, p[i]);
		if ((s & 63) == S_ERR) {
			/* Find the exact byte: replay the chunk one step at a time. */
			s = s0;
			for (i = i0; (s = step(s, p[i])) & 63; i++)
				;
			if (bad_offset)
				*bad_offset = i;
			u->state = STORED(S_ERR);
			return WSR_INVALID_UTF8;
		}
	}
	u->state = STORED(s & 63);
	return WSR_OK;
}

bool wsr_utf8_complete(const struct wsr_utf8 *u)
{
	return u->state == STORED(S_ACC);
}

bool wsr_utf8_valid(const uint8_t *p, size_t len)
{
	struct wsr_utf8 u;
	wsr_utf8_init(&u);
	return wsr_utf8_feed(&u, p, len, NULL) == WSR_OK && wsr_utf8_complete(&u);
}

/*
 * The slow twin: decode one code point at a time, straight from RFC 3629's
 * table, and report the offset of the first byte that cannot continue a
 * valid sequence (for truncation at the end: len).
 */
bool wsr_utf8_valid_slow(const uint8_t *p, size_t len, size_t *bad_offset)
{
	size_t i = 0;
	while (i < len) {
		uint8_t b = p[i];
		size_t n;
		uint32_t cp, min;
		if (b < 0x80) {
			i++;
			continue;
		} else if (b >= 0xC2 && b <= 0xDF) {
			n = 1, cp = b & 0x1F, min = 0x80;
		} else if (b >= 0xE0 && b <= 0xEF) {
			n = 2, cp = b & 0x0F, min = 0x800;
		} else if (b >= 0xF0 && b <= 0xF4) {
			n = 3, cp = b & 0x07, min = 0x10000;
		} else {
			goto bad_at_i;
		}
		size_t start = i;
		for (size_t k = 1; k <= n; k++) {
			size_t j = start + k;
			if (j >= len) {
				i = len;
				goto bad_at_i;
			}
			if ((p[j] & 0xC0) != 0x80) {
				i = j;
				goto bad_at_i;
			}
			cp = cp << 6 | (p[j] & 0x3F);
			/*
			 * Decide as soon as the bits so far rule out every
			 * completion: the smallest and largest values reachable
			 * from here must overlap [min, 0x10FFFF] minus surrogates.
			 */
			unsigned left = (unsigned)(n - k) * 6;
			uint32_t lo = cp << left, hi = lo | ((1u << left) - 1);
			bool ok = hi >= min && lo <= 0x10FFFF && !(lo >= 0xD800 && hi <= 0xDFFF);
			if (!ok) {
				i = j;
				goto bad_at_i;
			}
		}
		i = start + n + 1;
	}
	if (bad_offset)
		*bad_offset = len;
	return true;
bad_at_i:
	if (bad_offset)
		*bad_offset = i;
	return false;
}
