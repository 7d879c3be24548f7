/*
 * conn_driver.h - helpers shared by the conn-level unit tests (included by
 * test_conn.c, test_handshake.c and test_alloc_sweep.c; not a test itself).
 *
 * run_server()/feed_all() feed a byte stream to a connection in a given
 * chunking (whole, one byte at a time, or split at one offset), pull every
 * event into a text log, and collect the output, so that different chunkings
 * can be compared byte for byte.
 */
#ifndef CONN_DRIVER_H
#define CONN_DRIVER_H

#include "testutil.h"

#include <stdlib.h>
#include <wsref/wsref.h>

struct bytes {
	uint8_t p[1 << 19];
	size_t len;
};

static inline void bytes_put(struct bytes *b, const void *p, size_t n)
{
	if (b->len + n > sizeof b->p)
		abort();
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static inline void bytes_str(struct bytes *b, const char *s)
{
	bytes_put(b, s, strlen(s));
}

/* Append one frame. mask NULL: unmasked. len7 overrides the length encoding if >= 0. */
static inline void frame(struct bytes *b, bool fin, uint8_t rsv, uint8_t op, const void *payload,
                         size_t n, const uint8_t *mask)
{
	struct wsr_frame_header h = {.fin = fin, .rsv = rsv, .opcode = op, .length = n};
	uint8_t hdr[14];
	if (mask) {
		h.masked = true;
		memcpy(h.mask, mask, 4);
	}
	size_t hl = wsr_frame_write_header(hdr, sizeof hdr, &h);
	bytes_put(b, hdr, hl);
	size_t at = b->len;
	bytes_put(b, payload, n);
	if (mask)
		wsr_mask_bytewise(b->p + at, n, mask, 0);
}

static const uint8_t MASK[4] = {0x11, 0x22, 0x33, 0x44};

/* Client-to-server frame (masked). */
static inline void cframe(struct bytes *b, bool fin, uint8_t op, const char *s)
{
	frame(b, fin, 0, op, s, strlen(s), MASK);
}

struct log {
	char s[1 << 16];
	size_t len;
	struct bytes out;
	enum wsr_status fail;
	uint16_t fail_code;
	int http;
	unsigned events;
};

static inline void log_add(struct log *l, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
#include <stdarg.h>
static inline void log_add(struct log *l, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(l->s + l->len, sizeof l->s - l->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		l->len += (size_t)n < sizeof l->s - l->len ? (size_t)n : sizeof l->s - l->len - 1;
}

static inline void log_data(struct log *l, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n && i < 64; i++)
		log_add(l, (p[i] >= 0x20 && p[i] < 0x7f) ? "%c" : "\\x%02x", p[i]);
	if (n > 64)
		log_add(l, "...(%zu)", n);
}

static const char *const EV_NAMES[] = {"?",    "OPEN", "MESSAGE", "FRAGMENT",
                                       "PING", "PONG", "CLOSE",   "FAIL"};

/* Pull every waiting event into the log; take the output. */
static inline void drain(struct wsr_conn *c, struct log *l)
{
	struct wsr_event ev;
	while (wsr_conn_next_event(c, &ev) == WSR_OK) {
		l->events++;
		log_add(l, "%s", EV_NAMES[ev.type]);
		switch (ev.type) {
		case WSR_EV_MESSAGE:
		case WSR_EV_FRAGMENT:
			log_add(l, ":%s%s:", ev.opcode == WSR_OP_TEXT ? "T" : "B",
			        ev.type == WSR_EV_FRAGMENT && ev.fin ? "$" : "");
			log_data(l, ev.data, ev.len);
			break;
		case WSR_EV_PING:
		case WSR_EV_PONG:
			log_add(l, ":");
			log_data(l, ev.data, ev.len);
			break;
		case WSR_EV_CLOSE:
			log_add(l, ":%u:", ev.code);
			log_data(l, ev.data, ev.len);
			break;
		case WSR_EV_FAIL:
			log_add(l, ":%s:%u:%d", wsr_status_name(ev.status), ev.code,
			        ev.http_status);
			l->fail = ev.status;
			l->fail_code = ev.code;
			l->http = ev.http_status;
			break;
		default:
			break;
		}
		log_add(l, "\n");
	}
	size_t n;
	const uint8_t *p = wsr_conn_out_buf(c, &n);
	if (n) {
		bytes_put(&l->out, p, n);
		wsr_conn_out_ack(c, n);
	}
}

enum chop { CHOP_WHOLE, CHOP_BYTES, CHOP_AT };

/*
 * Feed [p, p+n) in the given chopping (CHOP_AT: two pieces split at `at`),
 * re-feeding unconsumed bytes after draining events, as a real caller does.
 * Each piece is a guard-page copy.
 */
static inline void feed_all(struct wsr_conn *c, const uint8_t *p, size_t n, enum chop how,
                            size_t at, struct log *l)
{
	size_t pos = 0;
	while (pos < n) {
		size_t piece = how == CHOP_WHOLE   ? n - pos
		               : how == CHOP_BYTES ? 1
		               : pos < at          ? at - pos
		                                   : n - pos;
		uint8_t *g = tu_guard_copy(p + pos, piece);
		size_t off = 0;
		while (off < piece) {
			size_t used = wsr_conn_recv(c, g + off, piece - off);
			off += used;
			unsigned before = l->events;
			drain(c, l);
			if (!used && l->events == before) {
				log_add(l, "STUCK\n");
				tu_guard_free(g, piece);
				return;
			}
		}
		tu_guard_free(g, piece);
		pos += piece;
	}
	drain(c, l);
}

#define RFC_KEY    "dGhlIHNhbXBsZSBub25jZQ=="
#define RFC_ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

static const char UPGRADE[] = "GET /chat HTTP/1.1\r\n"
                              "Host: server.example.com\r\n"
                              "Upgrade: websocket\r\n"
                              "Connection: keep-alive, Upgrade\r\n"
                              "Sec-WebSocket-Key: " RFC_KEY "\r\n"
                              "Sec-WebSocket-Version: 13\r\n"
                              "\r\n";

static inline struct wsr_config server_cfg(void)
{
	struct wsr_config cfg;
	memset(&cfg, 0, sizeof cfg);
	cfg.role = WSR_ROLE_SERVER;
	return cfg;
}

/* One server run over a stream; result in *l. The conn is freed. */
static inline void run_server(const struct wsr_config *cfg, const struct bytes *in, enum chop how,
                              size_t at, struct log *l)
{
	memset(l, 0, sizeof *l);
	struct wsr_conn *c = malloc(wsr_conn_size());
	if (wsr_conn_init(c, cfg) != WSR_OK)
		abort();
	feed_all(c, in->p, in->len, how, at, l);
	log_add(l, "state=%d", (int)wsr_conn_state(c));
	wsr_conn_free(c);
	free(c);
}

/* Skip the HTTP head at the start of out; return the offset of the first frame. */
static inline size_t head_len(const struct bytes *out)
{
	for (size_t i = 0; i + 4 <= out->len; i++)
		if (memcmp(out->p + i, "\r\n\r\n", 4) == 0)
			return i + 4;
	return 0;
}

/* The close code in the last frame of out (after `from`), or -1 if the last frame is not a Close; 0
 * for an empty Close. */
static inline int last_close_code(const struct bytes *out, size_t from)
{
	int code = -1;
	size_t pos = from;
	while (pos < out->len) {
		struct wsr_frame_header h;
		if (wsr_frame_parse_header(out->p + pos, out->len - pos, &h) != WSR_OK)
			return -2;
		const uint8_t *pl = out->p + pos + h.header_len;
		uint8_t tmp[125];
		if (h.opcode == WSR_OP_CLOSE) {
			memcpy(tmp, pl, h.length);
			if (h.masked)
				wsr_mask_bytewise(tmp, h.length, h.mask, 0);
			code = h.length >= 2 ? tmp[0] << 8 | tmp[1] : 0;
		} else {
			code = -1;
		}
		pos += h.header_len + h.length;
	}
	return code;
}

#endif
