/*
 * util.c - clocks, byte buffer, UTF-8 validation, OpenSSL wrappers.
 */
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

uint64_t wsc_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t wsc_unix_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void wsc_buf_init(struct wsc_buf *b)
{
	b->p = NULL;
	b->len = b->cap = 0;
}

int wsc_buf_reserve(struct wsc_buf *b, size_t extra)
{
	if (extra <= b->cap - b->len)
		return 0;
	if (extra > SIZE_MAX / 2 - b->len)
		return -1;
	size_t want = b->len + extra;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < want)
		cap *= 2;
	uint8_t *p = realloc(b->p, cap);
	if (!p)
		return -1;
	b->p = p;
	b->cap = cap;
	return 0;
}

int wsc_buf_append(struct wsc_buf *b, const void *data, size_t n)
{
	if (n == 0)
		return 0;
	if (wsc_buf_reserve(b, n) < 0)
		return -1;
	memcpy(b->p + b->len, data, n);
	b->len += n;
	return 0;
}

int wsc_buf_printf(struct wsc_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || wsc_buf_reserve(b, (size_t)n + 1) < 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf((char *)b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

void wsc_buf_consume(struct wsc_buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
		return;
	}
	memmove(b->p, b->p + n, b->len - n);
	b->len -= n;
}

void wsc_buf_reset(struct wsc_buf *b)
{
	b->len = 0;
}

void wsc_buf_free(struct wsc_buf *b)
{
	free(b->p);
	wsc_buf_init(b);
}

void wsc_utf8_init(struct wsc_utf8 *u)
{
	memset(u, 0, sizeof(*u));
}

/*
 * A byte-at-a-time state machine written straight from the RFC 3629 table:
 * the lead byte fixes how many continuation bytes follow and the allowed
 * range of the first one (which excludes overlongs, surrogates and values
 * above U+10FFFF); later continuation bytes are always 80..BF. ASCII runs
 * are skipped eight bytes at a time.
 */
bool wsc_utf8_feed(struct wsc_utf8 *u, const uint8_t *p, size_t n)
{
	if (u->bad)
		return false;
	size_t i = 0;
	while (i < n) {
		uint8_t c = p[i];
		if (u->need == 0) {
			if (c < 0x80) {
				i++;
				while (i + 8 <= n) {
					uint64_t w;
					memcpy(&w, p + i, 8);
					if (w & 0x8080808080808080ull)
						break;
					i += 8;
				}
				continue;
			}
			if (c >= 0xC2 && c <= 0xDF) {
				u->need = 1, u->lo = 0x80, u->hi = 0xBF;
			} else if (c == 0xE0) {
				u->need = 2, u->lo = 0xA0, u->hi = 0xBF;
			} else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) {
				u->need = 2, u->lo = 0x80, u->hi = 0xBF;
			} else if (c == 0xED) {
				u->need = 2, u->lo = 0x80, u->hi = 0x9F;
			} else if (c == 0xF0) {
				u->need = 3, u->lo = 0x90, u->hi = 0xBF;
			} else if (c >= 0xF1 && c <= 0xF3) {
				u->need = 3, u->lo = 0x80, u->hi = 0xBF;
			} else if (c == 0xF4) {
				u->need = 3, u->lo = 0x80, u->hi = 0x8F;
			} else {
				goto bad;
			}
		} else {
			if (c < u->lo || c > u->hi)
				goto bad;
			u->need--;
			u->lo = 0x80, u->hi = 0xBF;
		}
		i++;
	}
	u->pos += n;
	return true;
bad:
	u->bad = true;
	u->bad_at = u->pos + i;
	u->pos += n;
	return false;
}

bool wsc_utf8_done(const struct wsc_utf8 *u)
{
	return !u->bad && u->need == 0;
}

bool wsc_utf8_valid(const uint8_t *p, size_t n)
{
	struct wsc_utf8 u;
	wsc_utf8_init(&u);
	wsc_utf8_feed(&u, p, n);
	return wsc_utf8_done(&u);
}

int wsc_base64(const uint8_t *in, size_t n, char *out, size_t outcap)
{
	if (n > (size_t)INT32_MAX / 2 || outcap < 4 * ((n + 2) / 3) + 1)
		return -1;
	return EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}

int wsc_random(void *p, size_t n)
{
	if (n > INT32_MAX)
		return -1;
	return RAND_bytes(p, (int)n) == 1 ? 0 : -1;
}

void wsc_ws_accept(const char *key, size_t key_len, char out[29])
{
	static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
	unsigned char md[SHA_DIGEST_LENGTH];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int mdlen = 0;
	if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, key, key_len) != 1 ||
	    EVP_DigestUpdate(ctx, guid, sizeof(guid) - 1) != 1 ||
	    EVP_DigestFinal_ex(ctx, md, &mdlen) != 1) {
		/* Cannot happen with a working libcrypto; an impossible value
		 * then makes every handshake fail loudly instead of passing. */
		memset(out, '!', 28);
		out[28] = '\0';
		EVP_MD_CTX_free(ctx);
		return;
	}
	EVP_MD_CTX_free(ctx);
	EVP_EncodeBlock((unsigned char *)out, md, SHA_DIGEST_LENGTH);
	out[28] = '\0';
}

bool wsc_ascii_ieq(const char *a, size_t an, const char *b)
{
	size_t bn = strlen(b);
	if (an != bn)
		return false;
	for (size_t i = 0; i < an; i++) {
		unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
		if (x >= 'A' && x <= 'Z')
			x = (unsigned char)(x + 32);
		if (y >= 'A' && y <= 'Z')
			y = (unsigned char)(y + 32);
		if (x != y)
			return false;
	}
	return true;
}

int wsc_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int wsc_http_header(const char *head, size_t n, const char *name, const char **v, size_t *vl)
{
	int count = 0;
	size_t nl = strlen(name);
	const char *p = memchr(head, '\n', n); /* skip the first line */
	const char *end = head + n;
	while (p && p < end) {
		p++;
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		const char *colon = memchr(p, ':', (size_t)(eol - p));
		if (colon && (size_t)(colon - p) == nl && wsc_ascii_ieq(p, nl, name)) {
			const char *a = colon + 1, *b = eol;
			while (a < b && (*a == ' ' || *a == '\t'))
				a++;
			while (b > a && (b[-1] == '\r' || b[-1] == ' ' || b[-1] == '\t'))
				b--;
			*v = a;
			*vl = (size_t)(b - a);
			count++;
		}
		p = eol < end ? eol : NULL;
	}
	return count;
}

bool wsc_http_has_token(const char *v, size_t n, const char *tok)
{
	size_t i = 0;
	while (i < n) {
		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		size_t s = i;
		while (i < n && v[i] != ',')
			i++;
		size_t e = i;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e > s && wsc_ascii_ieq(v + s, e - s, tok))
			return true;
	}
	return false;
}
