/*
 * util.h - small helpers of the harness: clocks, a growable byte buffer, the
 * harness's own UTF-8 validator, and thin wrappers over OpenSSL for base64,
 * random bytes and the Sec-WebSocket-Accept digest.
 *
 * The harness shares no code with libwsref; these are its own.
 */
#ifndef WSC_UTIL_H
#define WSC_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Microseconds on the monotonic clock (never goes back). */
uint64_t wsc_now_us(void);
/* Milliseconds since the Unix epoch (wall clock, for reports). */
uint64_t wsc_unix_ms(void);

/*
 * A growable byte buffer. Zero-initialise it (or call wsc_buf_init); it owns
 * p, which stays valid until the next call that may grow it, or until
 * wsc_buf_free(). Growth is doubling; every function that can allocate
 * returns 0, or -1 on ENOMEM leaving the buffer unchanged.
 */
struct wsc_buf {
	uint8_t *p;
	size_t len, cap;
};

void wsc_buf_init(struct wsc_buf *b);
/* Make room for `extra` more bytes after len. */
int wsc_buf_reserve(struct wsc_buf *b, size_t extra);
int wsc_buf_append(struct wsc_buf *b, const void *data, size_t n);
int wsc_buf_printf(struct wsc_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Drop the first n bytes (n <= len). */
void wsc_buf_consume(struct wsc_buf *b, size_t n);
/* len = 0, keeps the memory. */
void wsc_buf_reset(struct wsc_buf *b);
void wsc_buf_free(struct wsc_buf *b);

/*
 * Incremental UTF-8 validator (RFC 3629: no overlongs, no surrogates, nothing
 * above U+10FFFF). Feed any split of the input; the result does not depend on
 * where it was cut. Once invalid it stays invalid (sticky), and bad_at holds
 * the 0-based offset of the first offending byte in the whole stream.
 */
struct wsc_utf8 {
	uint8_t need;   /* continuation bytes still expected */
	uint8_t lo, hi; /* allowed range of the next continuation byte */
	bool bad;
	uint64_t pos;    /* bytes fed so far */
	uint64_t bad_at; /* valid when bad */
};

void wsc_utf8_init(struct wsc_utf8 *u);
/* Returns false once the stream so far cannot be valid UTF-8. */
bool wsc_utf8_feed(struct wsc_utf8 *u, const uint8_t *p, size_t n);
/* True when everything fed is valid and no code point is cut short. */
bool wsc_utf8_done(const struct wsc_utf8 *u);
/* Whole-buffer check. */
bool wsc_utf8_valid(const uint8_t *p, size_t n);

/*
 * Base64 (standard alphabet, padded) of n bytes into out, NUL-terminated.
 * out needs 4 * ceil(n / 3) + 1 bytes; returns the length written, or -1 if
 * outcap is too small.
 */
int wsc_base64(const uint8_t *in, size_t n, char *out, size_t outcap);
/* Cryptographic random bytes (RAND_bytes). Returns 0, or -1 on failure. */
int wsc_random(void *p, size_t n);
/*
 * Sec-WebSocket-Accept for a Sec-WebSocket-Key: base64(SHA-1(key + GUID)).
 * out receives 28 characters and a NUL.
 */
void wsc_ws_accept(const char *key, size_t key_len, char out[29]);

/* Case-insensitive ASCII compare of n bytes / of NUL-terminated strings. */
bool wsc_ascii_ieq(const char *a, size_t an, const char *b);

/* Value of one hex digit (either case), or -1 when c is not one. */
int wsc_hexval(int c);

/*
 * Header lookup in an HTTP head of n bytes (the first line, request or status
 * line, is skipped). Returns the number of `name` lines (name compared without
 * case); when nonzero, *v and *vl borrow the last one's value from head,
 * trimmed of spaces and tabs (and a trailing CR).
 */
int wsc_http_header(const char *head, size_t n, const char *name, const char **v, size_t *vl);
/* Does the comma-separated list v[0..n) hold tok (nonempty, compared without case)? */
bool wsc_http_has_token(const char *v, size_t n, const char *tok);

#endif
