/*
 * fuzz_utf8.c - differential UTF-8 validation.
 *
 * Input: the bytes to validate. Oracles:
 *   - wsr_utf8_valid() == wsr_utf8_valid_slow();
 *   - incremental feeding, whole and split into chunks whose sizes are taken
 *     from the input itself (each chunk in its own exact-size allocation),
 *     and one byte at a time: the same verdict and the same first bad offset
 *     as the slow validator (offset len when the input ends mid-sequence:
 *     then every feed succeeds and wsr_utf8_complete() is false);
 *   - the input between 64 bytes of ASCII and 192 more, so that it lies
 *     where the validator's vector pre-check and four-lane paths run
 *     (they need 64-128 bytes): whole and split at an input-derived offset,
 *     the same verdict and offset as the slow validator on the same bytes.
 */
#include "fuzz_common.h"
#include "wsref/wsref.h"

/* mode 0: whole; 1: input-derived chunks; 2: one byte at a time. */
static void incremental(const uint8_t *p, size_t n, int mode, bool ok, size_t bad)
{
	struct wsr_utf8 u;
	wsr_utf8_init(&u);
	size_t i = 0, chunk_no = 0;
	while (i < n) {
		size_t k;
		if (mode == 0)
			k = n;
		else if (mode == 1)
			k = 1 + (p[(chunk_no * 7) % n] % 23);
		else
			k = 1;
		if (k > n - i)
			k = n - i;
		uint8_t *c = fz_dup(p + i, k);
		size_t off = (size_t)-1;
		enum wsr_status st = wsr_utf8_feed(&u, c, k, &off);
		free(c);
		if (st != WSR_OK) {
			FZ_CHECK(st == WSR_INVALID_UTF8);
			FZ_CHECK(!ok);
			FZ_CHECK(off < k);
			FZ_CHECK(i + off == bad);
			/* Sticky. */
			FZ_CHECK(wsr_utf8_feed(&u, (const uint8_t *)"a", 1, NULL) ==
			         WSR_INVALID_UTF8);
			return;
		}
		i += k;
		chunk_no++;
	}
	FZ_CHECK(wsr_utf8_complete(&u) == ok);
	if (!ok)
		FZ_CHECK(bad == n); /* only truncation can go unnoticed by feed */
}

/* Fast verdict: bad offset, len if valid but incomplete, SIZE_MAX if valid and complete. */
static size_t fast_verdict(const uint8_t *p, size_t n, size_t cut)
{
	struct wsr_utf8 u;
	wsr_utf8_init(&u);
	size_t off = 0;
	if (wsr_utf8_feed(&u, p, cut, &off) != WSR_OK)
		return off;
	if (wsr_utf8_feed(&u, p + cut, n - cut, &off) != WSR_OK)
		return cut + off;
	return wsr_utf8_complete(&u) ? SIZE_MAX : n;
}

static void padded(const uint8_t *data, size_t size)
{
	size_t n = 64 + size + 192;
	uint8_t *p = malloc(n);
	FZ_CHECK(p != NULL);
	memset(p, 'a', n);
	if (size)
		memcpy(p + 64, data, size);
	size_t bad = (size_t)-1;
	size_t want = wsr_utf8_valid_slow(p, n, &bad) ? SIZE_MAX : bad;
	FZ_CHECK(fast_verdict(p, n, 0) == want);
	size_t cut = size ? 64 + data[0] % (size + 1) : 64;
	FZ_CHECK(fast_verdict(p, n, cut) == want);
	FZ_CHECK(fast_verdict(p, n, cut / 2) == want);
	free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t bad = (size_t)-1;
	bool ok = wsr_utf8_valid_slow(data, size, &bad);
	FZ_CHECK(wsr_utf8_valid(data, size) == ok);
	if (!ok)
		FZ_CHECK(bad <= size);
	incremental(data, size, 0, ok, bad);
	incremental(data, size, 1, ok, bad);
	if (size <= 4096)
		incremental(data, size, 2, ok, bad);
	padded(data, size);
	return 0;
}
