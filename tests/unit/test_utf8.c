/* UTF-8: the fast incremental validator against known vectors and its slow twin. */
#include "testutil.h"

#include <wsref/wsref.h>

/* Verdict of the fast validator fed in the given pieces: bad offset, or len if valid
 * but incomplete, or SIZE_MAX if valid and complete. */
static size_t fast_verdict(const uint8_t *p, size_t len, const size_t *cuts, size_t ncuts)
{
	struct wsr_utf8 u;
	wsr_utf8_init(&u);
	size_t start = 0;
	for (size_t i = 0; i <= ncuts; i++) {
		size_t end = i < ncuts ? cuts[i] : len;
		uint8_t *g = tu_guard_copy(p + start, end - start);
		size_t bad = 0;
		enum wsr_status st = wsr_utf8_feed(&u, g, end - start, &bad);
		tu_guard_free(g, end - start);
		if (st != WSR_OK) {
			/* sticky */
			size_t b2;
			if (wsr_utf8_feed(&u, (const uint8_t *)"a", 1, &b2) != WSR_INVALID_UTF8)
				return (size_t)-2;
			return start + bad;
		}
		start = end;
	}
	return wsr_utf8_complete(&u) ? SIZE_MAX : len;
}

static size_t slow_verdict(const uint8_t *p, size_t len)
{
	size_t bad = 0;
	return wsr_utf8_valid_slow(p, len, &bad) ? SIZE_MAX : bad;
}

/* Whole, byte by byte, and split at every offset must all give `want`. */
static void check(const void *v, size_t len, size_t want)
{
	const uint8_t *p = v;
	ASSERT_EQ(slow_verdict(p, len), want);
	ASSERT_EQ(fast_verdict(p, len, NULL, 0), want);
	ASSERT_EQ(wsr_utf8_valid(p, len), want == SIZE_MAX);
	size_t cuts[256];
	for (size_t i = 0; i + 1 < len && i < 256; i++)
		cuts[i] = i + 1;
	ASSERT_EQ(fast_verdict(p, len, cuts, len ? len - 1 : 0), want);
	for (size_t k = 0; k <= len; k++) {
		size_t cut = k;
		ASSERT_EQ(fast_verdict(p, len, &cut, 1), want);
	}
}

#define VALID          SIZE_MAX
#define CHECK(s, want) check(s, sizeof(s) - 1, want)

static size_t encode(uint32_t cp, uint8_t *o)
{
	if (cp < 0x80) {
		o[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (uint8_t)(0xC0 | cp >> 6);
		o[1] = (uint8_t)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (uint8_t)(0xE0 | cp >> 12);
		o[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
		o[2] = (uint8_t)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (uint8_t)(0xF0 | cp >> 18);
	o[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3F));
	o[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
	o[3] = (uint8_t)(0x80 | (cp & 0x3F));
	return 4;
}

static void test_boundary_code_points(void)
{
	static const uint32_t cps[] = {0,        0x7F,     0x80,     0x7FF,    0x800,    0xFFF,
	                               0x1000,   0xCFFF,   0xD000,   0xD7FF,   0xD800,   0xDB7F,
	                               0xDB80,   0xDBFF,   0xDC00,   0xDF80,   0xDFFF,   0xE000,
	                               0xFEFF,   0xFFFD,   0xFFFE,   0xFFFF,   0x10000,  0x3FFFF,
	                               0x40000,  0xFFFFF,  0x100000, 0x10FFFE, 0x10FFFF, 0x110000,
	                               0x13FFFF, 0x140000, 0x1FFFFF};
	for (size_t i = 0; i < sizeof cps / sizeof cps[0]; i++) {
		uint8_t b[8];
		size_t n = encode(cps[i], b);
		uint32_t cp = cps[i];
		size_t want = VALID;
		if (cp >= 0xD800 && cp <= 0xDFFF)
			want = 1; /* ED A0..BF: the second byte is the bad one */
		else if (cp > 0x10FFFF)
			want = cp >= 0x140000 ? 0 : 1; /* F5.. bad at once, F4 90.. at byte 1 */
		check(b, n, want);
		/* inside ASCII context, too */
		uint8_t ctx[32];
		memcpy(ctx, "abcdefghijklmnopq", 17);
		memcpy(ctx + 17, b, n);
		memcpy(ctx + 17 + n, "xyz", 3);
		check(ctx, 20 + n, want == VALID ? VALID : 17 + want);
	}
	/* Noncharacters are valid */
	CHECK("\xef\xb7\x90\xef\xb7\xaf\xef\xbf\xbe\xef\xbf\xbf\xf4\x8f\xbf\xbf", VALID);
}

static void test_invalid_forms(void)
{
	/* overlongs */
	CHECK("\xc0\x80", 0);
	CHECK("\xc1\xbf", 0);
	CHECK("\xe0\x80\x80", 1);
	CHECK("\xe0\x9f\xbf", 1);
	CHECK("\xf0\x80\x80\x80", 1);
	CHECK("\xf0\x8f\xbf\xbf", 1);
	CHECK("\xc0\xaf", 0);
	CHECK("\xe0\x80\xaf", 1);
	CHECK("\xf0\x80\x80\xaf", 1);
	/* surrogates, single and paired */
	CHECK("\xed\xa0\x80", 1);
	CHECK("\xed\xbf\xbf", 1);
	CHECK("\xed\xa0\x80\xed\xb0\x80", 1);
	CHECK("\xed\x9f\xbf", VALID);
	/* beyond U+10FFFF, 5- and 6-byte forms */
	CHECK("\xf4\x90\x80\x80", 1);
	CHECK("\xf5\x80\x80\x80", 0);
	CHECK("\xf7\xbf\xbf\xbf", 0);
	CHECK("\xf8\x88\x80\x80\x80", 0);
	CHECK("\xfb\xbf\xbf\xbf\xbf", 0);
	CHECK("\xfc\x84\x80\x80\x80\x80", 0);
	CHECK("\xfd\xbf\xbf\xbf\xbf\xbf", 0);
	CHECK("\xfe", 0);
	CHECK("\xff", 0);
	CHECK("\xfe\xfe\xff\xff", 0);
	/* lone continuation bytes, and bad bytes after good text */
	CHECK("\x80", 0);
	CHECK("\xbf", 0);
	CHECK("ab\x80\xbf", 2);
	CHECK("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64",
	      12);
	/* a start byte where a continuation must be */
	CHECK("\xc2\x41", 1);
	CHECK("\xe1\x80\x41", 2);
	CHECK("\xf1\x80\x80\xc2", 3);
	CHECK("\xc2\xc2\x80", 1);
	/* truncations: valid so far, incomplete at the end */
	CHECK("\xc2", 1);
	CHECK("\xe1\x80", 2);
	CHECK("\xf0\x90\x80", 3);
	CHECK("\xf4\x8f\xbf", 3);
	CHECK("Hello-\xce\xba\xe1\xbd", 10);
}

static void test_autobahn_style_sequences(void)
{
	/* Valid samples of section 6.x: kosme, 1..4-byte first/last, mixed with ASCII. */
	CHECK("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5", VALID);
	CHECK("hello\xc2\xa2world", VALID);
	CHECK("hello\xe2\x82\xacworld", VALID);
	CHECK("hello\xf0\xa4\xad\xa2world", VALID);
	CHECK("Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc\xc3\xa0\xc3\xa1-UTF-8!!", VALID);
	CHECK("\x00", VALID);
	CHECK("\xc2\x80", VALID);
	CHECK("\xe0\xa0\x80", VALID);
	CHECK("\xf0\x90\x80\x80", VALID);
	CHECK("\x7f", VALID);
	CHECK("\xdf\xbf", VALID);
	CHECK("\xef\xbf\xbf", VALID);
	CHECK("\xf4\x8f\xbf\xbf", VALID);
	CHECK("\xee\x80\x80", VALID);
	CHECK("\xef\xbf\xbd", VALID);
	/* Concatenated incomplete sequences: the first bad byte is the next start byte. */
	CHECK("\xc0\xe0\x80\xf0\x80\x80\xf8\x88\x80\x80\xfc\x80\x80\x80\x80\xdf\xef\xbf", 0);
	CHECK("\xdf\xef\xbf\xf7\xbf\xbf", 1);
	/* All 32 first bytes of 2-byte sequences followed by a space. */
	for (int b = 0xC0; b <= 0xDF; b++) {
		uint8_t v[2] = {(uint8_t)b, ' '};
		check(v, 2, b < 0xC2 ? 0 : 1);
	}
	for (int b = 0xE0; b <= 0xEF; b++) {
		uint8_t v[2] = {(uint8_t)b, ' '};
		check(v, 2, 1);
	}
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint32_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

/* Random byte strings, biased to look like UTF-8: every split agrees with the slow twin. */
static void test_random_against_slow_twin(void)
{
	static const uint8_t pool[] = {0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF,
	                               0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xE1, 0xEC, 0xED, 0xEE,
	                               0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF};
	unsigned disagreements = 0, valid = 0;
	for (int iter = 0; iter < 4000; iter++) {
		uint8_t v[80];
		size_t len = next_rand() % sizeof v;
		for (size_t i = 0; i < len; i++) {
			uint32_t r = next_rand();
			v[i] = (r & 3) == 0   ? (uint8_t)(r >> 8)
			       : (r & 3) == 1 ? 'a'
			                      : pool[(r >> 8) % sizeof pool];
		}
		/* make some strings valid by construction */
		if (iter % 4 == 0) {
			len = 0;
			while (len < sizeof v - 4) {
				uint32_t cp = next_rand() % 0x110000;
				if (cp >= 0xD800 && cp <= 0xDFFF)
					continue;
				len += encode(cp, v + len);
			}
		}
		size_t want = slow_verdict(v, len);
		valid += want == SIZE_MAX;
		disagreements += fast_verdict(v, len, NULL, 0) != want;
		for (size_t k = 0; k <= len; k++)
			disagreements += fast_verdict(v, len, &k, 1) != want;
		size_t cuts[2] = {next_rand() % (len + 1), 0};
		cuts[1] = cuts[0] + next_rand() % (len - cuts[0] + 1);
		disagreements += fast_verdict(v, len, cuts, 2) != want;
	}
	ASSERT_EQ(disagreements, 0);
	ASSERT(valid >= 1000); /* the valid-by-construction quarter */
}

/* Every 1-, 2- and 3-byte string, and 4-byte strings over the interesting bytes. */
static void test_exhaustive_short_strings(void)
{
	unsigned bad = 0;
	for (uint32_t x = 0; x < (1u << 24); x++) {
		uint8_t v[3] = {(uint8_t)(x >> 16), (uint8_t)(x >> 8), (uint8_t)x};
		for (size_t len = (x & 0xFFFF) ? 3 : 1; len <= 3; len++) {
			size_t slow = slow_verdict(v, len), fb = 0;
			struct wsr_utf8 u;
			wsr_utf8_init(&u);
			size_t fast = wsr_utf8_feed(&u, v, len, &fb) != WSR_OK ? fb
			              : wsr_utf8_complete(&u)                  ? SIZE_MAX
			                                                       : len;
			bad += fast != slow;
		}
	}
	ASSERT_EQ(bad, 0);
	for (int a = 0xF0; a <= 0xF5; a++)
		for (int b = 0x80; b <= 0xC0; b++)
			for (int c = 0x7F; c <= 0xC0; c += 0x41 - 0x3F)
				for (int d = 0x7F; d <= 0xC0; d++) {
					uint8_t v[4] = {(uint8_t)a, (uint8_t)b, (uint8_t)c,
					                (uint8_t)d};
					bad += fast_verdict(v, 4, NULL, 0) != slow_verdict(v, 4);
				}
	ASSERT_EQ(bad, 0);
}

static void test_zeroed_state_is_fresh(void)
{
	struct wsr_utf8 u;
	memset(&u, 0, sizeof u);
	ASSERT(wsr_utf8_complete(&u));
	ASSERT_EQ(wsr_utf8_feed(&u, (const uint8_t *)"\xc3\xa9", 2, NULL), WSR_OK);
	ASSERT(wsr_utf8_complete(&u));
	ASSERT_EQ(wsr_utf8_feed(&u, (const uint8_t *)"\xc3", 1, NULL), WSR_OK);
	ASSERT(!wsr_utf8_complete(&u));
	ASSERT_EQ(wsr_utf8_feed(&u, NULL, 0, NULL), WSR_OK);
	ASSERT(!wsr_utf8_complete(&u));
}

static void test_long_ascii_then_bad_byte(void)
{
	/* The ASCII fast path must still report the exact offset. */
	uint8_t v[1000];
	for (size_t bad = 0; bad < 70; bad++) {
		memset(v, 'x', sizeof v);
		v[bad] = 0xFF;
		check(v, 70, bad);
		memset(v, 'x', sizeof v);
		v[300 + bad] = 0x80;
		ASSERT_EQ(fast_verdict(v, sizeof v, NULL, 0), 300 + bad);
	}
}

/*
 * Long inputs, for the paths short strings never reach: the vector pre-check
 * (needs 128+ bytes after a code point boundary at offset >= 3) and the
 * four-lane DFA (64+ bytes). Text of several styles, then up to four
 * mutations; whole, split at every offset, and in three random pieces.
 */
static size_t gen_text(uint8_t *v, size_t want, int style)
{
	size_t len = 0;
	while (len + 4 <= want) {
		uint32_t r = next_rand(), cp;
		switch (style) {
		case 0: /* mostly ASCII, some Latin/Greek */
			cp = r % 8 ? 0x20 + r % 0x5F : 0xA0 + (r >> 8) % 0x400;
			break;
		case 1: /* CJK with runs of ASCII */
			cp = r % 16 ? 0x4E00 + (r >> 8) % 0x5200 : 'a';
			if (r % 64 == 1)
				cp = 0xE000 + (r >> 8) % 0x1000;
			break;
		case 2: /* 4-byte forms and the edges of every range */
		{
			static const uint32_t edge[] = {0x7F,    0x80,    0x7FF,    0x800,
			                                0xFFF,   0x1000,  0xD7FF,   0xE000,
			                                0xFFFD,  0xFFFF,  0x10000,  0x3FFFF,
			                                0x40000, 0xFFFFF, 0x100000, 0x10FFFF};
			cp = r % 2 ? edge[(r >> 8) % 16] : 0x10000 + (r >> 8) % 0x100000;
			break;
		}
		default: /* any scalar value */
			cp = r % 0x110000;
			if (cp >= 0xD800 && cp <= 0xDFFF)
				continue;
		}
		len += encode(cp, v + len);
	}
	return len;
}

static const uint8_t err_pool[] = {0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF,
                                   0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xE1, 0xEC, 0xED, 0xEE,
                                   0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF};

static void test_long_against_slow_twin(void)
{
	unsigned disagreements = 0, valid = 0, invalid = 0;
	for (int iter = 0; iter < 480; iter++) {
		uint8_t v[900];
		size_t len = gen_text(v, 64 + next_rand() % 800, iter % 4);
		for (int m = 0; m < iter % 5 && len; m++) {
			uint32_t r = next_rand();
			size_t at = (r >> 4) % len;
			if (r % 3 == 0) {
				v[at] = err_pool[(r >> 16) % sizeof err_pool];
			} else if (r % 3 == 1) {
				memmove(v + at, v + at + 1, len - at - 1);
				len--;
			} else {
				v[at] = (uint8_t)(r >> 16);
			}
		}
		size_t want = slow_verdict(v, len);
		valid += want == SIZE_MAX;
		invalid += want != SIZE_MAX;
		disagreements += fast_verdict(v, len, NULL, 0) != want;
		disagreements += wsr_utf8_valid(v, len) != (want == SIZE_MAX);
		for (size_t k = 0; k <= len; k++)
			disagreements += fast_verdict(v, len, &k, 1) != want;
		size_t cuts[3];
		cuts[0] = next_rand() % (len + 1);
		cuts[1] = cuts[0] + next_rand() % (len - cuts[0] + 1);
		cuts[2] = cuts[1] + next_rand() % (len - cuts[1] + 1);
		disagreements += fast_verdict(v, len, cuts, 3) != want;
	}
	ASSERT_EQ(disagreements, 0);
	ASSERT(valid >= 80);
	ASSERT(invalid >= 200);
}

/* Each error byte planted at every offset of long valid text of each style. */
static void test_every_offset_each_error_byte(void)
{
	unsigned disagreements = 0;
	for (int style = 0; style < 4; style++) {
		uint8_t text[400], v[400];
		size_t len = gen_text(text, sizeof text, style);
		ASSERT_EQ(slow_verdict(text, len), SIZE_MAX);
		for (size_t at = 0; at < len; at++) {
			for (size_t e = 0; e < sizeof err_pool; e++) {
				memcpy(v, text, len);
				v[at] = err_pool[e];
				size_t want = slow_verdict(v, len);
				struct wsr_utf8 u;
				wsr_utf8_init(&u);
				size_t bad = 0;
				size_t got = wsr_utf8_feed(&u, v, len, &bad) != WSR_OK ? bad
				             : wsr_utf8_complete(&u)                   ? SIZE_MAX
				                                                       : len;
				disagreements += got != want;
				if (e % 8 == 0) {
					size_t cut = at;
					disagreements += fast_verdict(v, len, &cut, 1) != want;
				}
			}
		}
	}
	ASSERT_EQ(disagreements, 0);
}

int main(void)
{
	RUN(test_boundary_code_points);
	RUN(test_invalid_forms);
	RUN(test_autobahn_style_sequences);
	RUN(test_random_against_slow_twin);
	RUN(test_exhaustive_short_strings);
	RUN(test_zeroed_state_is_fresh);
	RUN(test_long_ascii_then_bad_byte);
	RUN(test_long_against_slow_twin);
	RUN(test_every_offset_each_error_byte);
	return tu_finish("utf8");
}
