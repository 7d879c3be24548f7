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

/* One chain over p[0..n) from state s (no error check: error is absorbing). */
static inline uint64_t run(uint64_t s, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		s = step(s, p[i]);
	return s;
}

/*
 * Replay p[0..n) from s one step at a time; the offset of the first byte
 * that leads to error (n if none).
 */
static size_t first_error(uint64_t s, const uint8_t *p, size_t n)
{
	size_t i = 0;
	for (; i < n; i++)
		if (((s = step(s, p[i])) & 63) == S_ERR)
			break;
	return i;
}

static inline bool is_cont(uint8_t b)
{
	return (b & 0xC0) == 0x80;
}

/*
 * Four independent chains. A single chain is bound by the latency of its
 * shift (one step per cycle at best); four chains over four quarters of the
 * block keep four shifts in flight. Lane k > 0 starts at a byte that is not
 * a continuation byte (found within 4 bytes of the quarter mark), in S_ACC.
 * That guess is right exactly when lane k-1 ends in S_ACC; if lane k-1 ends
 * in any other non-error state, the true run needs a continuation byte at
 * lane k's first byte and fails there. So, checking the lanes in order:
 *   lane k ends in error   -> replay lane k alone for the exact byte;
 *   lane k ends mid-code point (k < 3) -> the error is lane k+1's first byte;
 *   otherwise the next lane's result is the true one.
 * If no start byte is found (four continuation bytes in a row: invalid
 * anyway) the block is run as one chain. n must be >= 4 * LANE_MIN.
 * Returns the offset of the first bad byte, or n with *ps updated.
 */
#define LANES    4
#define LANE_MIN 16

static size_t run_lanes(uint64_t *ps, const uint8_t *p, size_t n)
{
	size_t at[LANES + 1];
	at[0] = 0;
	at[LANES] = n;
	for (int k = 1; k < LANES; k++) {
		size_t m = n / LANES * (size_t)k;
		size_t j = m;
		while (j < m + 4 && is_cont(p[j]))
			j++;
		if (j == m + 4) {
			uint64_t s = run(*ps, p, n);
			if ((s & 63) == S_ERR)
				return first_error(*ps, p, n);
			*ps = s;
			return n;
		}
		at[k] = j;
	}
	uint64_t s0 = *ps, s1 = S_ACC, s2 = S_ACC, s3 = S_ACC;
	const uint8_t *p0 = p, *p1 = p + at[1], *p2 = p + at[2], *p3 = p + at[3];
	size_t common = n; /* the shortest lane */
	for (int k = 0; k < LANES; k++)
		if (at[k + 1] - at[k] < common)
			common = at[k + 1] - at[k];
	size_t i = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	/* Eight bytes per lane per round, each lane's bytes from one load. */
	for (; i + 8 <= common; i += 8) {
		uint64_t w0, w1, w2, w3;
		memcpy(&w0, p0 + i, 8);
		memcpy(&w1, p1 + i, 8);
		memcpy(&w2, p2 + i, 8);
		memcpy(&w3, p3 + i, 8);
		for (int b = 0; b < 8; b++) {
			s0 = step(s0, (uint8_t)w0);
			s1 = step(s1, (uint8_t)w1);
			s2 = step(s2, (uint8_t)w2);
			s3 = step(s3, (uint8_t)w3);
			w0 >>= 8;
			w1 >>= 8;
			w2 >>= 8;
			w3 >>= 8;
		}
	}
#endif
	for (; i < common; i++) {
		s0 = step(s0, p0[i]);
		s1 = step(s1, p1[i]);
		s2 = step(s2, p2[i]);
		s3 = step(s3, p3[i]);
	}
	uint64_t st[LANES] = {
	        run(s0, p0 + common, at[1] - at[0] - common),
	        run(s1, p1 + common, at[2] - at[1] - common),
	        run(s2, p2 + common, at[3] - at[2] - common),
	        run(s3, p3 + common, at[4] - at[3] - common),
	};
	for (int k = 0; k < LANES; k++) {
		uint64_t s = st[k] & 63;
		if (s == S_ERR) {
			uint64_t from = k ? S_ACC : *ps;
			return at[k] + first_error(from, p + at[k], at[k + 1] - at[k]);
		}
		if (k < LANES - 1 && s != S_ACC)
			return at[k + 1];
	}
	*ps = st[LANES - 1] & 63;
	return n;
}

/*
 * Vector pre-check, 64 bytes per round as four 16-byte vectors (GNU vector
 * extension: SSE2 / NEON). It never decides a verdict: it only finds the
 * longest run of 64-byte blocks in which the DFA cannot fail, and the DFA
 * itself is then resumed near the end of that run (see wsr_utf8_feed).
 *
 * For a byte b at k, with a = p[k-1], c = p[k-2], d = p[k-3], it flags k if
 *   b is C0, C1 or F5..FF;
 *   b is a continuation byte (80..BF) but none of a >= C0, c >= E0, d >= F0
 *   holds, or b is not one but one of them does;
 *   a is E0 and b < A0, a is ED and b > 9F, a is F0 and b < 90, a is F4
 *   and b > 8F.
 * Started at a position where the DFA is between code points (so the three
 * bytes before it raise no expectation), the first flagged byte is exactly
 * the DFA's first error: a valid prefix raises no flag, and each way the DFA
 * can fail at k (a byte that no state accepts, a continuation byte between
 * code points, a missing continuation byte, an out-of-range second byte) is
 * one of the flags. Unsigned order is compared as signed after x ^ 0x80.
 */
/*
 * One definition for each vector width W (bytes): NAME(p, i, len) returns
 * the end of the run of flag-free 64-byte blocks from i (i >= 3). ATTR
 * carries a target attribute for the wider variant.
 */
#define DEFINE_VECTOR_RUN(NAME, W, ATTR)                                          \
	typedef int8_t NAME##_v __attribute__((vector_size(W)));                  \
	ATTR static inline NAME##_v NAME##_flags(const uint8_t *p)                \
	{                                                                         \
		NAME##_v x0, x1, x2, x3;                                          \
		memcpy(&x0, p, W);                                                \
		memcpy(&x1, p - 1, W);                                            \
		memcpy(&x2, p - 2, W);                                            \
		memcpy(&x3, p - 3, W);                                            \
		/* 80..BF -> 0x00..0x3F, C0 -> 0x40, E0 -> 0x60, F0 -> 0x70 */    \
		x0 ^= (int8_t)-128;                                               \
		x1 ^= (int8_t)-128;                                               \
		x2 ^= (int8_t)-128;                                               \
		x3 ^= (int8_t)-128;                                               \
		NAME##_v cont = (x0 >= 0) & (x0 < 0x40);                          \
		NAME##_v want = (x1 >= 0x40) | (x2 >= 0x60) | (x3 >= 0x70);       \
		NAME##_v bad = (x0 == 0x40) | (x0 == 0x41) | (x0 > 0x74);         \
		bad |= (x1 == 0x60) & (x0 < 0x20); /* E0 80..9F: overlong */      \
		bad |= (x1 == 0x6D) & (x0 > 0x1F); /* ED A0..BF: surrogate */     \
		bad |= (x1 == 0x70) & (x0 < 0x10); /* F0 80..8F: overlong */      \
		bad |= (x1 == 0x74) & (x0 > 0x0F); /* F4 90..BF: over U+10FFFF */ \
		return bad | (cont ^ want);                                       \
	}                                                                         \
	ATTR static size_t NAME(const uint8_t *p, size_t i, size_t len)           \
	{                                                                         \
		for (; len - i >= 64; i += 64) {                                  \
			NAME##_v f = NAME##_flags(p + i);                         \
			for (int k = W; k < 64; k += W)                           \
				f |= NAME##_flags(p + i + k);                     \
			uint64_t w[W / 8], any = 0;                               \
			memcpy(w, &f, W);                                         \
			for (int k = 0; k < W / 8; k++)                           \
				any |= w[k];                                      \
			if (any)                                                  \
				break;                                            \
		}                                                                 \
		return i;                                                         \
	}

/* 16 bytes: SSE2 / NEON, or split by the compiler where there is neither. */
DEFINE_VECTOR_RUN(vector_run16, 16, )

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
/* 32 bytes with AVX2, chosen at run time. */
DEFINE_VECTOR_RUN(vector_run32, 32, __attribute__((target("avx2"))))

static size_t vector_run(const uint8_t *p, size_t i, size_t len)
{
	if (__builtin_cpu_supports("avx2"))
		return vector_run32(p, i, len);
	return vector_run16(p, i, len);
}
#else
#define vector_run vector_run16
#endif

/* Non-ASCII stretches are validated in blocks of this many bytes (or fewer). */
#define BLOCK 256

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
		size_t n = len - i, bad;
		if ((s & 63) == S_ACC) {
			while (i + 16 <= len && ascii16(p + i))
				i += 16;
			n = len - i;
			if (i >= 3 && n >= 128) {
				/*
				 * No byte before e can fail. Back up to the last
				 * byte before e that is not a continuation byte
				 * (at most 4 back): the DFA met it between code
				 * points, or it would have failed there. The DFA
				 * goes on from that byte, in S_ACC, over the
				 * block that stopped the run (or to the end).
				 */
				size_t e = vector_run(p, i, len);
				size_t j = e;
				while (j > i && is_cont(p[j - 1]))
					j--;
				if (j > i)
					j--;
				i = j;
				n = len - i;
				if (n > e + 64 - i)
					n = e + 64 - i;
			}
		}
		if (n == 0)
			break;
		if (n >= LANES * LANE_MIN) {
			if (n > BLOCK)
				n = BLOCK;
			bad = run_lanes(&s, p + i, n);
		} else {
			/* A short stretch: one chain, checked for error once at the end. */
			uint64_t t = run(s, p + i, n);
			bad = (t & 63) == S_ERR ? first_error(s, p + i, n) : n;
			s = t & 63;
		}
		if (bad < n) {
			if (bad_offset)
				*bad_offset = i + bad;
			u->state = STORED(S_ERR);
			return WSR_INVALID_UTF8;
		}
		i += n;
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
