/*
 * test_zcache.c - the run's cache of compressed round-trip messages
 * (harness/zcache.c): lookups by every key field, duplicates, the memory
 * bound and FIFO eviction, off switch, growth of the table, and the premise
 * the cache rests on: without context takeover, a message compresses to the
 * same bytes whatever was compressed before it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datasets.h"
#include "pmd.h"
#include "testutil.h"
#include "zcache.h"

static struct wsc_zkey key(int ds, int bits, uint64_t start, uint64_t units)
{
	struct wsc_zkey k = {.dataset = ds, .bits = bits, .start = start, .units = units};
	return k;
}

static bool get(struct wsc_zkey k, struct wsc_buf *out)
{
	out->len = 0;
	return wsc_zcache_get(&k, out);
}

static void test_lookup(void)
{
	wsc_zcache_clear();
	struct wsc_buf b = {0};
	ASSERT(!get(key(0, 15, 0, 16), &b));
	struct wsc_zkey k = key(0, 15, 0, 16);
	wsc_zcache_put(&k, (const uint8_t *)"abc", 3);
	ASSERT(get(key(0, 15, 0, 16), &b));
	ASSERT_EQ(b.len, 3);
	ASSERT(memcmp(b.p, "abc", 3) == 0);
	/* every field of the key matters */
	ASSERT(!get(key(1, 15, 0, 16), &b));
	ASSERT(!get(key(0, 14, 0, 16), &b));
	ASSERT(!get(key(0, 15, 16, 16), &b));
	ASSERT(!get(key(0, 15, 0, 17), &b));
	/* a second put for the same key keeps the first */
	wsc_zcache_put(&k, (const uint8_t *)"xyz", 3);
	ASSERT(get(k, &b));
	ASSERT(memcmp(b.p, "abc", 3) == 0);
	/* get appends */
	b.len = 0;
	wsc_buf_append(&b, "12", 2);
	ASSERT(wsc_zcache_get(&k, &b));
	ASSERT_EQ(b.len, 5);
	ASSERT(memcmp(b.p, "12abc", 5) == 0);
	/* an empty payload is a value too */
	struct wsc_zkey e = key(2, 9, 5, 0);
	wsc_zcache_put(&e, NULL, 0);
	ASSERT(get(e, &b));
	ASSERT_EQ(b.len, 0);
	uint64_t hits, misses;
	size_t bytes;
	wsc_zcache_stats(&hits, &misses, &bytes);
	ASSERT_EQ(hits, 4);
	ASSERT_EQ(misses, 5);
	ASSERT(bytes >= 3);
	wsc_buf_free(&b);
}

static void test_bound(void)
{
	wsc_zcache_clear();
	wsc_zcache_set_limit(64 * 1024);
	uint8_t *blob = calloc(1, 10000);
	ASSERT(blob != NULL);
	/* 40 entries of 10000 bytes cannot all fit in 64 KiB: the oldest go */
	for (int i = 0; i < 40; i++) {
		struct wsc_zkey k = key(1, 15, (uint64_t)i, 10000);
		blob[0] = (uint8_t)i;
		wsc_zcache_put(&k, blob, 10000);
		size_t bytes;
		wsc_zcache_stats(NULL, NULL, &bytes);
		ASSERT(bytes <= 64 * 1024);
	}
	struct wsc_buf b = {0};
	ASSERT(!get(key(1, 15, 0, 10000), &b));
	ASSERT(get(key(1, 15, 39, 10000), &b));
	ASSERT_EQ(b.p[0], 39);
	/* anything over a quarter of the bound is not kept */
	struct wsc_zkey big = key(1, 15, 1000, 20000);
	uint8_t *large = calloc(1, 20000);
	ASSERT(large != NULL);
	wsc_zcache_put(&big, large, 20000);
	ASSERT(!get(big, &b));
	/* lowering the bound drops entries at once */
	wsc_zcache_set_limit(25000);
	size_t bytes;
	wsc_zcache_stats(NULL, NULL, &bytes);
	ASSERT(bytes <= 25000);
	ASSERT(get(key(1, 15, 39, 10000), &b));
	wsc_zcache_set_limit(WSC_ZCACHE_MAX_BYTES);
	free(large);
	free(blob);
	wsc_buf_free(&b);
}

static void test_off_and_growth(void)
{
	wsc_zcache_clear();
	struct wsc_buf b = {0};
	wsc_zcache_enable(false);
	ASSERT(!wsc_zcache_enabled());
	struct wsc_zkey k = key(3, 15, 0, 1);
	wsc_zcache_put(&k, (const uint8_t *)"a", 1);
	wsc_zcache_enable(true);
	ASSERT(!get(k, &b)); /* nothing was stored while off */
	/* many small entries: the table grows and keeps every one */
	for (uint32_t i = 0; i < 20000; i++) {
		struct wsc_zkey ki = key((int)(i % 5), 15, i, 16);
		wsc_zcache_put(&ki, (const uint8_t *)&i, sizeof i);
	}
	for (uint32_t i = 0; i < 20000; i += 7) {
		ASSERT(get(key((int)(i % 5), 15, i, 16), &b));
		uint32_t v;
		memcpy(&v, b.p, sizeof v);
		ASSERT_EQ(v, i);
	}
	wsc_zcache_clear();
	ASSERT(!get(key(0, 15, 0, 16), &b));
	wsc_buf_free(&b);
}

/* Without our context takeover, a window compresses to the same bytes after
 * any history: what makes sharing payloads across cases exact. */
static void test_premise(void)
{
	const struct wsc_dataset *d = wsc_dataset_get(0);
	ASSERT(d != NULL);
	struct wsc_pmd_params agreed = {0};
	for (int bits = 9; bits <= 15; bits += 3) {
		agreed.has_client_max_window_bits = true;
		agreed.client_max_window_bits = bits;
		struct wsc_pmd fresh, used;
		ASSERT_EQ(wsc_pmd_init(&fresh, &agreed, true), 0);
		ASSERT_EQ(wsc_pmd_init(&used, &agreed, true), 0);
		ASSERT(!used.we_take_over);
		struct wsc_buf msg = {0}, a = {0}, b = {0};
		for (uint64_t i = 0; i < 6; i++) {
			ASSERT_EQ(wsc_dataset_window(d, i * 5000, 5000, &msg), 0);
			b.len = 0;
			ASSERT_EQ(wsc_pmd_compress(&used, msg.p, msg.len, &b), 0);
		}
		ASSERT_EQ(wsc_pmd_compress(&fresh, msg.p, msg.len, &a), 0);
		ASSERT_EQ(a.len, b.len);
		ASSERT(memcmp(a.p, b.p, a.len) == 0);
		wsc_pmd_free(&fresh);
		wsc_pmd_free(&used);
		wsc_buf_free(&msg);
		wsc_buf_free(&a);
		wsc_buf_free(&b);
	}
}

int main(void)
{
	RUN(test_lookup);
	RUN(test_bound);
	RUN(test_off_and_growth);
	RUN(test_premise);
	wsc_zcache_clear();
	return tu_finish("zcache");
}
