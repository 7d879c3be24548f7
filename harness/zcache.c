/*
 * zcache.c - see zcache.h.
 *
 * Chained hash table over the key, plus a FIFO list in insertion order for
 * eviction. Every entry is one allocation: header then payload.
 */
#include "zcache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct entry {
	struct entry *chain; /* next in the bucket */
	struct entry *older; /* FIFO neighbours */
	struct entry *newer;
	struct wsc_zkey key;
	size_t n;
	uint8_t p[];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static bool disabled;
static size_t limit = WSC_ZCACHE_MAX_BYTES;
static struct entry **buckets;
static size_t n_buckets; /* a power of two, or 0 */
static size_t n_entries;
static size_t held; /* bytes, headers included */
static struct entry *oldest, *newest;
static uint64_t hits, misses;

static uint64_t mix(const struct wsc_zkey *k)
{
	uint64_t h = (uint64_t)(unsigned)k->dataset * 0x9e3779b97f4a7c15u;
	h ^= (uint64_t)(unsigned)k->bits + (h << 6) + (h >> 2);
	h ^= k->start * 0xbf58476d1ce4e5b9u + (h << 6) + (h >> 2);
	h ^= k->units * 0x94d049bb133111ebu + (h << 6) + (h >> 2);
	return h ^ (h >> 31);
}

static bool same(const struct wsc_zkey *a, const struct wsc_zkey *b)
{
	return a->dataset == b->dataset && a->bits == b->bits && a->start == b->start &&
	       a->units == b->units;
}

static struct entry **slot(const struct wsc_zkey *k)
{
	struct entry **pp = &buckets[mix(k) & (n_buckets - 1)];
	while (*pp && !same(&(*pp)->key, k))
		pp = &(*pp)->chain;
	return pp;
}

static void unlink_fifo(struct entry *e)
{
	if (e->older)
		e->older->newer = e->newer;
	else
		oldest = e->newer;
	if (e->newer)
		e->newer->older = e->older;
	else
		newest = e->older;
}

static void drop(struct entry *e)
{
	struct entry **pp = slot(&e->key);
	*pp = e->chain;
	unlink_fifo(e);
	held -= sizeof(*e) + e->n;
	n_entries--;
	free(e);
}

/* Double the bucket array (or create it); false when out of memory. */
static bool grow(void)
{
	size_t nb = n_buckets ? n_buckets * 2 : 1024;
	struct entry **b = calloc(nb, sizeof(*b));
	if (!b)
		return false;
	for (size_t i = 0; i < n_buckets; i++) {
		struct entry *e = buckets[i];
		while (e) {
			struct entry *next = e->chain;
			size_t j = mix(&e->key) & (nb - 1);
			e->chain = b[j];
			b[j] = e;
			e = next;
		}
	}
	free(buckets);
	buckets = b;
	n_buckets = nb;
	return true;
}

void wsc_zcache_set_limit(size_t bytes)
{
	pthread_mutex_lock(&lock);
	limit = bytes;
	while (held > limit && oldest)
		drop(oldest);
	pthread_mutex_unlock(&lock);
}

void wsc_zcache_enable(bool on)
{
	pthread_mutex_lock(&lock);
	disabled = !on;
	pthread_mutex_unlock(&lock);
}

bool wsc_zcache_enabled(void)
{
	pthread_mutex_lock(&lock);
	bool on = !disabled;
	pthread_mutex_unlock(&lock);
	return on;
}

bool wsc_zcache_get(const struct wsc_zkey *k, struct wsc_buf *out)
{
	bool found = false;
	pthread_mutex_lock(&lock);
	if (!disabled) {
		struct entry *e = n_buckets ? *slot(k) : NULL;
		if (e && wsc_buf_append(out, e->p, e->n) == 0)
			found = true;
		if (found)
			hits++;
		else
			misses++;
	}
	pthread_mutex_unlock(&lock);
	return found;
}

void wsc_zcache_put(const struct wsc_zkey *k, const uint8_t *p, size_t n)
{
	size_t need = sizeof(struct entry) + n;
	pthread_mutex_lock(&lock);
	if (disabled || need > limit / 4 || (n_entries >= n_buckets * 2 && !grow()) || *slot(k))
		goto out;
	while (held + need > limit && oldest)
		drop(oldest);
	struct entry *e = malloc(need);
	if (!e)
		goto out;
	e->key = *k;
	e->n = n;
	if (n)
		memcpy(e->p, p, n);
	struct entry **pp = slot(k);
	e->chain = *pp;
	*pp = e;
	e->older = newest;
	e->newer = NULL;
	if (newest)
		newest->newer = e;
	else
		oldest = e;
	newest = e;
	held += need;
	n_entries++;
out:
	pthread_mutex_unlock(&lock);
}

void wsc_zcache_stats(uint64_t *h, uint64_t *m, size_t *bytes)
{
	pthread_mutex_lock(&lock);
	if (h)
		*h = hits;
	if (m)
		*m = misses;
	if (bytes)
		*bytes = held;
	pthread_mutex_unlock(&lock);
}

void wsc_zcache_clear(void)
{
	pthread_mutex_lock(&lock);
	while (oldest)
		drop(oldest);
	free(buckets);
	buckets = NULL;
	n_buckets = 0;
	hits = misses = 0;
	pthread_mutex_unlock(&lock);
}
