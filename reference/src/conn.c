/*
 * conn.c - the connection state machine, both roles (RFC 6455 sections 4-7,
 * RFC 7692 section 6).
 *
 * Input is consumed in steps: the opening handshake head, then frame headers
 * (at most 14 bytes, kept in hdr[] until complete) and payload pieces. Each
 * payload piece is unmasked, checked (UTF-8 as it arrives, so a text message
 * fails at the first bad byte even mid-frame) and appended to the message
 * buffer, or inflated into it. recv() returns as soon as an event is waiting,
 * so at most a couple of events are ever queued and the memory an event
 * points to is not touched until the caller's next call.
 *
 * Memory: the handshake buffer (<= max_header_bytes + 1, freed when the
 * handshake ends), the header array for the handshake parse, the message
 * buffer (<= max_message), the output queue (<= max_output, plus a small
 * margin so a Close or Pong can always be queued) and the deflate state. All
 * of it comes from the configured allocator.
 */
#include <wsref/wsref.h>

#include "internal.h"

#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX_FRAME        (64ull << 20)
#define DEFAULT_MAX_MESSAGE      (64ull << 20)
#define DEFAULT_MAX_HEADER_BYTES 8192
#define DEFAULT_MAX_HEADERS      64
#define DEFAULT_MAX_OUTPUT       ((64u << 20) + (64u << 10))
/* Room beyond max_output kept for control frames (a Close, a Pong). */
#define CONTROL_MARGIN 256
#define MAX_EVENTS     4

struct buf {
	uint8_t *p;
	size_t len, cap;
};

struct wsr_conn {
	struct wsr_config cfg;
	struct wsr_limits lim;
	struct wsr_allocator al;
	enum wsr_state state;
	enum wsr_status fail_status;

	/* opening handshake */
	struct buf hs;
	struct wsr__http_scan hs_scan; /* how far hs has been judged */
	struct wsr_http_header *hdrs;
	size_t hdrs_cap;
	char key[25];
	struct wsr_pmd_params offered;
	const char *subprotocol;
	bool deflate;
	struct wsr_pmd_params pmd_params;
	struct wsr_pmd *pmd;

	/* output queue: bytes [out_head, out.len) are waiting */
	struct buf out;
	size_t out_head;

	/* frame being read */
	uint8_t hdr[14];
	size_t hdr_len;
	bool in_payload;
	struct wsr_frame_header fh;
	uint64_t fpos;
	uint8_t ctrl[125];
	size_t ctrl_len;

	/* message being read */
	bool msg_open;
	uint8_t msg_op;
	bool msg_compressed;
	uint64_t msg_out; /* bytes assembled so far (after inflation) */
	struct wsr_utf8 utf8;
	struct buf msg;
	bool msg_release; /* msg was handed out in an event: empty it at the next call */
	enum wsr_status sink_err;

	bool close_sent, close_received;

	struct wsr_event ev[MAX_EVENTS];
	unsigned ev_head, ev_count;
};

size_t wsr_conn_size(void)
{
	return sizeof(struct wsr_conn);
}

/* ------------------------------------------------------------------------ */
/* Memory                                                                    */
/* ------------------------------------------------------------------------ */

static void *mem_alloc(struct wsr_conn *c, size_t n)
{
	if (c->al.alloc)
		return c->al.alloc(c->al.ctx, n);
	return malloc(n);
}

static void *mem_realloc(struct wsr_conn *c, void *p, size_t old, size_t n)
{
	if (!p)
		return mem_alloc(c, n);
	if (c->al.realloc)
		return c->al.realloc(c->al.ctx, p, old, n);
	return realloc(p, n);
}

static void mem_free(struct wsr_conn *c, void *p, size_t n)
{
	if (!p)
		return;
	if (c->al.free)
		c->al.free(c->al.ctx, p, n);
	else
		free(p);
}

static void buf_free(struct wsr_conn *c, struct buf *b)
{
	mem_free(c, b->p, b->cap);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* Make room for `more` bytes after b->len, never beyond `limit` in total. */
static enum wsr_status buf_reserve(struct wsr_conn *c, struct buf *b, size_t more, uint64_t limit)
{
	if (more > limit || b->len > limit - more)
		return WSR_NOMEM;
	size_t need = b->len + more;
	if (need <= b->cap)
		return WSR_OK;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	if (cap > limit)
		cap = (size_t)limit;
	uint8_t *p = mem_realloc(c, b->p, b->cap, cap);
	if (!p)
		return WSR_NOMEM;
	b->p = p;
	b->cap = cap;
	return WSR_OK;
}

/*
 * dst = src XOR the mask rotated to `offset` (as wsr_mask does it in place),
 * in one pass; an all-zero mask makes it a copy. Returns true if any byte
 * written has bit 7 set, so the caller knows an all-ASCII block without
 * reading it again. 64 bytes per round as four 16-byte vectors (GNU vector
 * extension), then 8-byte words, then bytes; memcpy loads and stores keep it
 * alignment- and aliasing-safe.
 */
static bool copy_unmask(uint8_t *dst, const uint8_t *src, size_t n, const uint8_t mask[4],
                        uint64_t offset)
{
	uint8_t rot[8];
	for (int i = 0; i < 8; i++)
		rot[i] = mask[(offset + (uint64_t)i) & 3];
	uint64_t m;
	memcpy(&m, rot, 8);
	typedef uint64_t v2u64 __attribute__((vector_size(16)));
	v2u64 mv = {m, m}, acc = {0, 0};
	size_t i = 0;
	for (; i + 64 <= n; i += 64) {
		v2u64 a, b, d, e;
		memcpy(&a, src + i, 16);
		memcpy(&b, src + i + 16, 16);
		memcpy(&d, src + i + 32, 16);
		memcpy(&e, src + i + 48, 16);
		a ^= mv;
		b ^= mv;
		d ^= mv;
		e ^= mv;
		memcpy(dst + i, &a, 16);
		memcpy(dst + i + 16, &b, 16);
		memcpy(dst + i + 32, &d, 16);
		memcpy(dst + i + 48, &e, 16);
		acc |= (a | b) | (d | e);
	}
	uint64_t any = acc[0] | acc[1];
	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, src + i, 8);
		w ^= m;
		memcpy(dst + i, &w, 8);
		any |= w;
	}
	for (; i < n; i++) {
		dst[i] = src[i] ^ rot[i & 7];
		any |= dst[i];
	}
	return (any & 0x8080808080808080ULL) != 0;
}

/* ------------------------------------------------------------------------ */
/* Events, output, failure                                                   */
/* ------------------------------------------------------------------------ */

static struct wsr_event *push_event(struct wsr_conn *c, enum wsr_event_type type)
{
	/* recv stops at the first event, so the ring never fills; keep it safe anyway. */
	if (c->ev_count == MAX_EVENTS)
		return NULL;
	struct wsr_event *ev = &c->ev[(c->ev_head + c->ev_count++) % MAX_EVENTS];
	memset(ev, 0, sizeof *ev);
	ev->type = type;
	return ev;
}

static enum wsr_status out_reserve(struct wsr_conn *c, size_t n, bool control)
{
	if (c->out_head && c->out.len + n > c->out.cap) {
		memmove(c->out.p, c->out.p + c->out_head, c->out.len - c->out_head);
		c->out.len -= c->out_head;
		c->out_head = 0;
	}
	uint64_t limit = (uint64_t)c->lim.max_output + (control ? CONTROL_MARGIN : 0);
	return buf_reserve(c, &c->out, n, limit);
}

static enum wsr_status random_bytes(struct wsr_conn *c, uint8_t *p, size_t n)
{
	if (c->cfg.random) {
		c->cfg.random(c->cfg.random_ctx, p, n);
		return WSR_OK;
	}
	return RAND_bytes(p, (int)n) == 1 ? WSR_OK : WSR_RANDOM_FAILED;
}

/*
 * Queue one frame with payload [data, len). A client masks it with a fresh
 * random key. The frame is written whole or not at all.
 */
static enum wsr_status queue_frame(struct wsr_conn *c, bool fin, uint8_t rsv, uint8_t op,
                                   const uint8_t *data, size_t len, bool control)
{
	struct wsr_frame_header h = {.fin = fin, .rsv = rsv, .opcode = op, .length = len};
	h.masked = c->cfg.role == WSR_ROLE_CLIENT;
	size_t hl = wsr_frame_header_size(len, h.masked);
	if (len > SIZE_MAX - hl)
		return WSR_NOMEM;
	enum wsr_status st;
	if (h.masked && (st = random_bytes(c, h.mask, 4)) != WSR_OK)
		return st;
	if ((st = out_reserve(c, hl + len, control)) != WSR_OK)
		return st;
	uint8_t *dst = c->out.p + c->out.len;
	wsr_frame_write_header(dst, hl, &h);
	if (h.masked)
		copy_unmask(dst + hl, data, len, h.mask, 0);
	else if (len)
		memcpy(dst + hl, data, len);
	c->out.len += hl + len;
	return WSR_OK;
}

static enum wsr_status queue_close(struct wsr_conn *c, uint16_t code, const uint8_t *reason,
                                   size_t rlen)
{
	uint8_t p[125];
	size_t n = 0;
	if (code) {
		p[0] = (uint8_t)(code >> 8);
		p[1] = (uint8_t)code;
		if (rlen)
			memcpy(p + 2, reason, rlen);
		n = 2 + rlen;
	}
	return queue_frame(c, true, 0, WSR_OP_CLOSE, p, n, true);
}

/* Queue an HTTP head written by a wsr__hs_build_* function (snprintf semantics). */
typedef size_t (*head_fn)(char *out, size_t cap, const void *arg);

static enum wsr_status queue_head(struct wsr_conn *c, size_t need, head_fn fn, const void *arg)
{
	enum wsr_status st = out_reserve(c, need, true);
	if (st != WSR_OK)
		return st;
	fn((char *)c->out.p + c->out.len, need, arg);
	c->out.len += need;
	return WSR_OK;
}

static size_t head_error(char *out, size_t cap, const void *arg)
{
	return wsr__hs_build_error(out, cap, *(const enum wsr_status *)arg);
}

static void handshake_release(struct wsr_conn *c)
{
	buf_free(c, &c->hs);
	mem_free(c, c->hdrs, c->hdrs_cap * sizeof *c->hdrs);
	c->hdrs = NULL;
	c->hdrs_cap = 0;
}

/*
 * Fail the connection: tell the peer why (a Close frame with the status's
 * code once open, an HTTP error response from a server in the handshake),
 * go FAILED and queue the FAIL event. Later calls report the same status.
 */
static void fail(struct wsr_conn *c, enum wsr_status st)
{
	if (c->state == WSR_STATE_FAILED)
		return;
	uint16_t code = 0;
	int http = 0;
	if (c->state == WSR_STATE_HANDSHAKE) {
		if (c->cfg.role == WSR_ROLE_SERVER) {
			http = wsr_status_http(st) ? wsr_status_http(st) : 400;
			size_t need = wsr__hs_build_error(NULL, 0, st);
			if (queue_head(c, need, head_error, &st) != WSR_OK)
				http = 0;
		}
		handshake_release(c);
	} else if (!c->close_sent) {
		code = wsr_status_close_code(st);
		if (!code)
			code = WSR_CLOSE_INTERNAL_ERROR;
		if (queue_close(c, code, NULL, 0) == WSR_OK)
			c->close_sent = true;
		else
			code = 0;
	}
	c->state = WSR_STATE_FAILED;
	c->fail_status = st;
	struct wsr_event *ev = push_event(c, WSR_EV_FAIL);
	if (ev) {
		ev->status = st;
		ev->code = code;
		ev->http_status = http;
	}
}

static bool done(const struct wsr_conn *c)
{
	return c->state == WSR_STATE_CLOSED || c->state == WSR_STATE_FAILED;
}

/* ------------------------------------------------------------------------ */
/* Init / free                                                               */
/* ------------------------------------------------------------------------ */

static bool bits_ok(uint8_t b)
{
	return b == 0 || (b >= 8 && b <= 15);
}

static size_t head_request(char *out, size_t cap, const void *arg)
{
	const struct wsr_conn *c = arg;
	return wsr__hs_build_request(out, cap, &c->cfg, c->key);
}

enum wsr_status wsr_conn_init(struct wsr_conn *c, const struct wsr_config *cfg)
{
	if (!c)
		return WSR_INVALID_ARGUMENT;
	memset(c, 0, sizeof *c);
	c->state = WSR_STATE_FAILED; /* until init succeeds: free() is harmless, nothing works */
	c->fail_status = WSR_INVALID_ARGUMENT;
	if (!cfg || (cfg->role != WSR_ROLE_SERVER && cfg->role != WSR_ROLE_CLIENT))
		return WSR_INVALID_ARGUMENT;
	if ((cfg->num_subprotocols && !cfg->subprotocols) ||
	    (cfg->num_allowed_origins && !cfg->allowed_origins))
		return WSR_INVALID_ARGUMENT;
	if (cfg->deflate.enabled && (!bits_ok(cfg->deflate.server_max_window_bits) ||
	                             !bits_ok(cfg->deflate.client_max_window_bits)))
		return WSR_INVALID_ARGUMENT;
	if (cfg->role == WSR_ROLE_CLIENT && !cfg->host)
		return WSR_INVALID_ARGUMENT;
	/* All three allocator functions or none. */
	if (!(cfg->alloc.alloc && cfg->alloc.realloc && cfg->alloc.free) &&
	    (cfg->alloc.alloc || cfg->alloc.realloc || cfg->alloc.free))
		return WSR_INVALID_ARGUMENT;

	c->cfg = *cfg;
	c->al = cfg->alloc;
	c->lim = cfg->limits;
	if (!c->lim.max_frame)
		c->lim.max_frame = DEFAULT_MAX_FRAME;
	if (!c->lim.max_message)
		c->lim.max_message = DEFAULT_MAX_MESSAGE;
	if (!c->lim.max_inflate)
		c->lim.max_inflate = c->lim.max_message;
	if (!c->lim.max_header_bytes)
		c->lim.max_header_bytes = DEFAULT_MAX_HEADER_BYTES;
	if (!c->lim.max_headers)
		c->lim.max_headers = DEFAULT_MAX_HEADERS;
	if (!c->lim.max_output)
		c->lim.max_output = DEFAULT_MAX_OUTPUT;
	if (c->lim.max_message > SIZE_MAX)
		c->lim.max_message = SIZE_MAX;
	c->state = WSR_STATE_HANDSHAKE;
	c->fail_status = WSR_OK;
	wsr__http_scan_init(&c->hs_scan, cfg->role == WSR_ROLE_CLIENT);
	wsr_utf8_init(&c->utf8);

	if (cfg->role == WSR_ROLE_CLIENT) {
		uint8_t rnd[16];
		enum wsr_status st = random_bytes(c, rnd, sizeof rnd);
		if (st == WSR_OK) {
			wsr__hs_make_key(rnd, c->key);
			if (cfg->deflate.enabled)
				wsr__hs_client_offer(&cfg->deflate, &c->offered);
			size_t need = wsr__hs_build_request(NULL, 0, &c->cfg, c->key);
			st = queue_head(c, need, head_request, c);
		}
		if (st != WSR_OK) {
			wsr_conn_free(c);
			c->state = WSR_STATE_FAILED;
			c->fail_status = st;
			return st;
		}
	}
	return WSR_OK;
}

void wsr_conn_free(struct wsr_conn *c)
{
	if (!c)
		return;
	handshake_release(c);
	buf_free(c, &c->out);
	buf_free(c, &c->msg);
	if (c->pmd) {
		wsr_pmd_free(c->pmd);
		c->pmd = NULL;
	}
	c->out_head = 0;
}

/* ------------------------------------------------------------------------ */
/* Opening handshake                                                         */
/* ------------------------------------------------------------------------ */

static size_t head_response(char *out, size_t cap, const void *arg)
{
	return wsr__hs_build_response(out, cap, arg);
}

static void open_connection(struct wsr_conn *c)
{
	handshake_release(c);
	c->state = WSR_STATE_OPEN;
	push_event(c, WSR_EV_OPEN);
}

static enum wsr_status start_deflate(struct wsr_conn *c, bool agreed,
                                     const struct wsr_pmd_params *p)
{
	if (!agreed)
		return WSR_OK;
	struct wsr_allocator al = c->al;
	enum wsr_status st = wsr_pmd_new(&c->pmd, &al, p, c->cfg.role);
	if (st != WSR_OK) {
		c->pmd = NULL;
		return st;
	}
	c->deflate = true;
	c->pmd_params = *p;
	return WSR_OK;
}

/* The head is complete in c->hs: judge it and answer (server) or open (client). */
static void handshake_done(struct wsr_conn *c)
{
	enum wsr_status st;
	if (c->cfg.role == WSR_ROLE_SERVER) {
		struct wsr_http_request req = {.headers = c->hdrs, .num_headers = c->hdrs_cap};
		size_t used;
		st = wsr_http_parse_request((const char *)c->hs.p, c->hs.len,
		                            c->lim.max_header_bytes, &req, &used);
		struct wsr__hs_accepted acc;
		if (st == WSR_OK)
			st = wsr__hs_check_request(&req, &c->cfg, &acc);
		if (st == WSR_OK)
			st = start_deflate(c, acc.deflate, &acc.pmd);
		if (st == WSR_OK) {
			c->subprotocol = acc.subprotocol;
			st = queue_head(c, wsr__hs_build_response(NULL, 0, &acc), head_response,
			                &acc);
		}
		if (st != WSR_OK) {
			fail(c, st);
			return;
		}
	} else {
		struct wsr_http_response res = {.headers = c->hdrs, .num_headers = c->hdrs_cap};
		size_t used;
		const char *sub = NULL;
		bool agreed = false;
		struct wsr_pmd_params p;
		st = wsr_http_parse_response((const char *)c->hs.p, c->hs.len,
		                             c->lim.max_header_bytes, &res, &used);
		if (st == WSR_OK)
			st = wsr__hs_check_response(&res, &c->cfg, c->key, &c->offered, &sub,
			                            &agreed, &p);
		if (st == WSR_OK)
			st = start_deflate(c, agreed, &p);
		if (st != WSR_OK) {
			fail(c, st);
			return;
		}
		c->subprotocol = sub;
	}
	open_connection(c);
}

/*
 * Take bytes of the handshake head. The head is copied to c->hs (bounded by
 * max_header_bytes + 1) and only the new bytes are judged (c->hs_scan keeps
 * the place), so a head that arrives a byte at a time costs linear time and
 * a bad byte still fails the handshake as soon as it arrives. The complete
 * head is parsed once more, into c->hdrs, by handshake_done(). Bytes after
 * the empty line are not consumed (they are frames, fed again by the caller).
 */
static size_t handshake_recv(struct wsr_conn *c, const uint8_t *data, size_t len)
{
	enum wsr_status st;
	if (!c->hdrs) {
		size_t n = c->lim.max_headers;
		if (n > SIZE_MAX / sizeof *c->hdrs ||
		    !(c->hdrs = mem_alloc(c, n * sizeof *c->hdrs))) {
			fail(c, WSR_NOMEM);
			return 0;
		}
		c->hdrs_cap = n;
	}
	size_t room = c->lim.max_header_bytes + 1 - c->hs.len;
	size_t take = len < room ? len : room;
	if ((st = buf_reserve(c, &c->hs, take, (uint64_t)c->lim.max_header_bytes + 1)) != WSR_OK) {
		fail(c, st);
		return 0;
	}
	size_t old = c->hs.len;
	if (take)
		memcpy(c->hs.p + old, data, take);
	c->hs.len += take;

	size_t used = 0;
	st = wsr__http_scan(&c->hs_scan, (const char *)c->hs.p, c->hs.len, c->lim.max_header_bytes,
	                    c->hdrs_cap, NULL, &used);
	if (st == WSR_AGAIN)
		return take;
	if (st != WSR_OK) {
		fail(c, st);
		return take;
	}
	c->hs.len = used; /* the frames after it are not part of the head */
	handshake_done(c);
	return used - old;
}

/* ------------------------------------------------------------------------ */
/* Frames                                                                    */
/* ------------------------------------------------------------------------ */

static bool opcode_known(uint8_t op)
{
	return op <= WSR_OP_BINARY || (op >= WSR_OP_CLOSE && op <= WSR_OP_PONG);
}

/* Judge a parsed header against role, negotiation and message state. */
static enum wsr_status start_frame(struct wsr_conn *c)
{
	struct wsr_frame_header *h = &c->fh;
	bool control = (h->opcode & 0x08) != 0;

#ifdef WSR_PLANTED_BUG_OPCODE_IGNORED
	if (!opcode_known(h->opcode)) {
		h->opcode = WSR_OP_BINARY;
		control = false;
	}
#else
	if (!opcode_known(h->opcode))
		return WSR_RESERVED_OPCODE;
#endif
#ifdef WSR_PLANTED_BUG_CRASH_RSV3_CONT
	/*
	 * Planted bug for tests: a continuation frame with RSV3 set writes
	 * through a NULL pointer, a real SIGSEGV in any build (the pointer is
	 * volatile so the compiler cannot see it is NULL and drop or trap the
	 * store). Case 102.3.7 sends such a frame; `wsconform fuzz` must
	 * make one from the 5.x cases (tests/e2e/test_fuzz.py).
	 */
	if (h->opcode == WSR_OP_CONTINUATION && (h->rsv & WSR_RSV3)) {
		uint8_t *volatile nowhere = NULL;
		*nowhere = 1;
	}
#endif
#ifndef WSR_PLANTED_BUG_RSV_IGNORED
	uint8_t allowed = c->deflate ? WSR_RSV1 : 0;
	if (h->rsv & ~allowed)
		return WSR_RSV_NOT_NEGOTIATED;
	if (h->rsv & WSR_RSV1) {
		if (control)
			return WSR_RSV1_ON_CONTROL;
		if (h->opcode == WSR_OP_CONTINUATION)
			return WSR_RSV1_ON_CONTINUATION;
	}
#endif
	if (c->cfg.role == WSR_ROLE_SERVER) {
#ifndef WSR_PLANTED_BUG_UNMASKED_OK
		if (!h->masked)
			return WSR_UNMASKED_FRAME;
#endif
	} else if (h->masked) {
		return WSR_MASKED_FRAME;
	}
	if (h->length > c->lim.max_frame)
		return WSR_FRAME_TOO_BIG;
	if (control) {
		c->ctrl_len = 0;
		return WSR_OK;
	}

	bool starts = h->opcode != WSR_OP_CONTINUATION;
	if (!starts && !c->msg_open) {
#ifdef WSR_PLANTED_BUG_ORPHAN_CONT_OK
		h->opcode = WSR_OP_BINARY;
		starts = true;
#else
		return WSR_UNEXPECTED_CONTINUATION;
#endif
	}
	if (starts && c->msg_open) {
#ifndef WSR_PLANTED_BUG_INTERLEAVE_OK
		return WSR_EXPECTED_CONTINUATION;
#endif
	}
	if (starts) {
		c->msg_open = true;
		c->msg_op = h->opcode;
		c->msg_compressed = c->deflate && (h->rsv & WSR_RSV1);
		c->msg_out = 0;
		c->msg.len = 0;
		wsr_utf8_init(&c->utf8);
	}
	if (!c->msg_compressed && h->length > c->lim.max_message - c->msg_out)
		return WSR_MESSAGE_TOO_BIG;
	return WSR_OK;
}

/* Text is unmasked and validated in blocks of this size, each while it is in L1. */
#define RX_BLOCK 16384

/*
 * Append message bytes (plain payload or inflated output), checking text as
 * it comes. Payload bytes are read once: unmasked straight into the message
 * buffer, and a text block is validated right after, while it is hot (not at
 * all when it is pure ASCII and starts between code points: the validator
 * could only say yes and stay there).
 */
static enum wsr_status msg_append(struct wsr_conn *c, const uint8_t *p, size_t n, bool unmask)
{
	static const uint8_t no_mask[4];
	/*
	 * Past the limit (only inflated output can get here: a frame's plain
	 * payload is checked against it at the header), the bytes that fit are
	 * still taken and checked first, so that a bad byte before the limit
	 * fails the same way whether it came in the same piece as the excess
	 * or in an earlier one.
	 */
	enum wsr_status over = WSR_OK;
	if (n > c->lim.max_message - c->msg_out) {
		n = (size_t)(c->lim.max_message - c->msg_out);
		over = WSR_MESSAGE_TOO_BIG;
		if (n == 0)
			return over;
	}
	enum wsr_status st = buf_reserve(c, &c->msg, n, c->lim.max_message);
	if (st != WSR_OK)
		return st;
	uint8_t *dst = c->msg.p + c->msg.len;
	const uint8_t *key = unmask ? c->fh.mask : no_mask;
#if !defined(WSR_PLANTED_BUG_UTF8_OFF) && !defined(WSR_PLANTED_BUG_UTF8_LATE)
	bool text = c->msg_op == WSR_OP_TEXT;
#else
	bool text = false;
#endif
	if (!text) {
		if (unmask)
			copy_unmask(dst, p, n, key, c->fpos);
		else if (n)
			memcpy(dst, p, n);
	} else {
		for (size_t off = 0; off < n; off += RX_BLOCK) {
			size_t k = n - off < RX_BLOCK ? n - off : RX_BLOCK;
			bool high = copy_unmask(dst + off, p + off, k, key, c->fpos + off);
			if ((high || !wsr_utf8_complete(&c->utf8)) &&
			    wsr_utf8_feed(&c->utf8, dst + off, k, NULL) != WSR_OK)
				return WSR_INVALID_UTF8;
		}
	}
	c->msg.len += n;
	c->msg_out += n;
	return over;
}

static enum wsr_status inflate_sink(void *ctx, const uint8_t *p, size_t n)
{
	struct wsr_conn *c = ctx;
	enum wsr_status st = msg_append(c, p, n, false);
	if (st != WSR_OK)
		c->sink_err = st;
	return st;
}

static enum wsr_status inflate_call(struct wsr_conn *c, const uint8_t *p, size_t n, bool fin)
{
	c->sink_err = WSR_OK;
	enum wsr_status st =
	        wsr_pmd_inflate(c->pmd, p, n, fin, c->lim.max_inflate, inflate_sink, c);
	if (c->sink_err != WSR_OK)
		return c->sink_err;
	return st;
}

/* A piece of a data frame's payload. */
static enum wsr_status data_piece(struct wsr_conn *c, const uint8_t *p, size_t n)
{
	if (c->close_sent)
		return WSR_OK; /* closing: data is discarded, not delivered */
	if (!c->msg_compressed)
		return msg_append(c, p, n, c->fh.masked);
	uint8_t tmp[4096];
	size_t done_ = 0;
	while (done_ < n) {
		size_t k = n - done_ < sizeof tmp ? n - done_ : sizeof tmp;
		if (c->fh.masked)
			copy_unmask(tmp, p + done_, k, c->fh.mask, c->fpos + done_);
		else
			memcpy(tmp, p + done_, k);
		enum wsr_status st = inflate_call(c, tmp, k, false);
		if (st != WSR_OK)
			return st;
		done_ += k;
	}
	return WSR_OK;
}

static void deliver_data(struct wsr_conn *c, bool last)
{
	if (c->close_sent)
		return;
	struct wsr_event *ev = push_event(c, c->cfg.streaming ? WSR_EV_FRAGMENT : WSR_EV_MESSAGE);
	if (!ev)
		return;
	ev->opcode = (enum wsr_opcode)c->msg_op;
	ev->fin = last;
	ev->data = c->msg.p;
	ev->len = c->msg.len;
	c->msg_release = true;
}

/* The current data frame's payload is complete. */
static enum wsr_status end_data_frame(struct wsr_conn *c)
{
	bool last = c->fh.fin;
	if (!last) {
		if (c->cfg.streaming && c->msg.len)
			deliver_data(c, false);
		return WSR_OK;
	}
	c->msg_open = false;
	if (c->close_sent)
		return WSR_OK;
	if (c->msg_compressed) {
		enum wsr_status st = inflate_call(c, NULL, 0, true);
		if (st != WSR_OK)
			return st;
	}
	if (c->msg_op == WSR_OP_TEXT) {
#if defined(WSR_PLANTED_BUG_UTF8_LATE)
		if (!wsr_utf8_valid(c->msg.p, c->msg.len))
			return WSR_INVALID_UTF8;
#elif !defined(WSR_PLANTED_BUG_UTF8_OFF)
		if (!wsr_utf8_complete(&c->utf8))
			return WSR_INVALID_UTF8;
#endif
	}
	deliver_data(c, true);
	return WSR_OK;
}

static void reply_close(struct wsr_conn *c, uint16_t code)
{
#ifdef WSR_PLANTED_BUG_CLOSE_NO_REPLY
	(void)code;
	c->state = WSR_STATE_CLOSED;
	return;
#else
	/* Echo: 1000 for any valid code, an empty Close for an empty one. */
	if (queue_close(c, code == WSR_CLOSE_NO_STATUS ? 0 : WSR_CLOSE_NORMAL, NULL, 0) == WSR_OK)
		c->close_sent = true;
	c->state = WSR_STATE_CLOSED;
#endif
}

static enum wsr_status end_control_frame(struct wsr_conn *c)
{
	struct wsr_event *ev;
	switch (c->fh.opcode) {
	case WSR_OP_PING:
		if (!c->close_sent) {
#if defined(WSR_PLANTED_BUG_NO_AUTO_PONG)
#elif defined(WSR_PLANTED_BUG_PONG_EMPTY)
			enum wsr_status st = queue_frame(c, true, 0, WSR_OP_PONG, NULL, 0, true);
			if (st != WSR_OK)
				return st;
#else
			enum wsr_status st =
			        queue_frame(c, true, 0, WSR_OP_PONG, c->ctrl, c->ctrl_len, true);
			if (st != WSR_OK)
				return st;
#endif
		}
		if ((ev = push_event(c, WSR_EV_PING))) {
			ev->data = c->ctrl;
			ev->len = c->ctrl_len;
		}
		return WSR_OK;
	case WSR_OP_PONG:
		if ((ev = push_event(c, WSR_EV_PONG))) {
			ev->data = c->ctrl;
			ev->len = c->ctrl_len;
		}
		return WSR_OK;
	default: { /* CLOSE */
		uint16_t code;
		const uint8_t *reason;
		size_t rlen;
		enum wsr_status st = wsr_close_parse(c->ctrl, c->ctrl_len, &code, &reason, &rlen);
		if (st != WSR_OK)
			return st;
		c->close_received = true;
		if ((ev = push_event(c, WSR_EV_CLOSE))) {
			ev->code = code;
			ev->data = reason;
			ev->len = rlen;
		}
		if (c->close_sent)
			c->state = WSR_STATE_CLOSED;
		else
			reply_close(c, code);
		return WSR_OK;
	}
	}
}

/* Consume frame bytes from p[0..n); returns how many. */
static size_t frame_step(struct wsr_conn *c, const uint8_t *p, size_t n)
{
	enum wsr_status st;
	size_t used;
	if (!c->in_payload) {
		size_t old = c->hdr_len;
		size_t k = sizeof c->hdr - old < n ? sizeof c->hdr - old : n;
		memcpy(c->hdr + old, p, k);
		st = wsr_frame_parse_header(c->hdr, old + k, &c->fh);
		if (st == WSR_AGAIN) {
			c->hdr_len = old + k;
			return k;
		}
		if (st != WSR_OK) {
			fail(c, st);
			return k;
		}
		used = c->fh.header_len - old;
		c->hdr_len = 0;
		if ((st = start_frame(c)) != WSR_OK) {
			fail(c, st);
			return used;
		}
		c->in_payload = true;
		c->fpos = 0;
		if (c->fh.length)
			return used;
	} else {
		uint64_t left = c->fh.length - c->fpos;
		size_t k = left < n ? (size_t)left : n;
		used = k;
		if (c->fh.opcode & 0x08) {
			/* Control payloads are <= 125 bytes (only a planted bug lets more through).
			 */
			size_t room = sizeof c->ctrl - c->ctrl_len, t = k < room ? k : room;
			memcpy(c->ctrl + c->ctrl_len, p, t);
			if (c->fh.masked)
				wsr_mask(c->ctrl + c->ctrl_len, t, c->fh.mask, c->fpos);
			c->ctrl_len += t;
		} else if ((st = data_piece(c, p, k)) != WSR_OK) {
			fail(c, st);
			return used;
		}
		c->fpos += k;
		if (c->fpos < c->fh.length) {
			if (c->cfg.streaming && !(c->fh.opcode & 0x08) && c->msg.len &&
			    !c->close_sent)
				deliver_data(c, false);
			return used;
		}
	}
	/* The frame is complete. */
	c->in_payload = false;
	st = (c->fh.opcode & 0x08) ? end_control_frame(c) : end_data_frame(c);
	if (st != WSR_OK)
		fail(c, st);
	return used;
}

/* ------------------------------------------------------------------------ */
/* Public API                                                                */
/* ------------------------------------------------------------------------ */

size_t wsr_conn_recv(struct wsr_conn *c, const uint8_t *data, size_t len)
{
	if (!c || (!data && len))
		return 0;
	if (done(c))
		return len;
	if (c->ev_count)
		return 0;
	if (c->msg_release) {
		c->msg.len = 0;
		c->msg_release = false;
	}
	size_t pos = 0;
	if (c->state == WSR_STATE_HANDSHAKE)
		pos = handshake_recv(c, data, len);
	while (pos < len && !c->ev_count && !done(c) && c->state != WSR_STATE_HANDSHAKE)
		pos += frame_step(c, data + pos, len - pos);
	return done(c) ? len : pos;
}

enum wsr_status wsr_conn_next_event(struct wsr_conn *c, struct wsr_event *ev)
{
	if (!c || !ev)
		return WSR_INVALID_ARGUMENT;
	if (c->ev_count) {
		*ev = c->ev[c->ev_head];
		c->ev_head = (c->ev_head + 1) % MAX_EVENTS;
		c->ev_count--;
		return WSR_OK;
	}
	if (c->state == WSR_STATE_FAILED)
		return c->fail_status;
	if (c->state == WSR_STATE_CLOSED)
		return WSR_CLOSED;
	return WSR_AGAIN;
}

const uint8_t *wsr_conn_out_buf(struct wsr_conn *c, size_t *len)
{
	if (!c || !c->out.p) {
		if (len)
			*len = 0;
		return NULL;
	}
	*len = c->out.len - c->out_head;
	return c->out.p + c->out_head;
}

void wsr_conn_out_ack(struct wsr_conn *c, size_t n)
{
	if (!c)
		return;
	size_t avail = c->out.len - c->out_head;
	c->out_head += n < avail ? n : avail;
	if (c->out_head == c->out.len)
		c->out_head = c->out.len = 0;
}

/* Status for a command that needs an open connection. */
static enum wsr_status need_open(const struct wsr_conn *c)
{
	if (c->state == WSR_STATE_FAILED)
		return c->fail_status;
	if (c->state == WSR_STATE_CLOSED || c->close_sent)
		return WSR_CLOSED;
	if (c->state != WSR_STATE_OPEN)
		return WSR_BAD_STATE;
	return WSR_OK;
}

struct deflate_out {
	struct wsr_conn *c;
	size_t limit; /* end of the reserved space */
};

static enum wsr_status deflate_sink(void *ctx, const uint8_t *p, size_t n)
{
	struct deflate_out *d = ctx;
	struct wsr_conn *c = d->c;
	if (n > d->limit - c->out.len)
		return WSR_DEFLATE_FAILED; /* over the bound we reserved: cannot happen */
	memcpy(c->out.p + c->out.len, p, n);
	c->out.len += n;
	return WSR_OK;
}

/*
 * Compressed send. Space for the worst case (a 14-byte header and stored
 * blocks) is reserved first, so a full queue is a plain NOMEM that leaves
 * the compressor untouched; the header is written once the length is known.
 */
static enum wsr_status send_compressed(struct wsr_conn *c, uint8_t op, const uint8_t *data,
                                       size_t len)
{
	size_t bound = len + len / 16 + 128;
	if (bound < len)
		return WSR_NOMEM;
	enum wsr_status st = out_reserve(c, 14 + bound, false);
	if (st != WSR_OK)
		return st;
	size_t start = c->out.len;
	struct deflate_out d = {c, start + 14 + bound};
	c->out.len = start + 14;
	st = wsr_pmd_deflate(c->pmd, data, len, deflate_sink, &d);
	if (st != WSR_OK) {
		/* The compressor's state moved on: the stream cannot continue. */
		c->out.len = start;
		fail(c, st == WSR_NOMEM ? st : WSR_DEFLATE_FAILED);
		return c->fail_status;
	}
	size_t plen = c->out.len - start - 14;
	struct wsr_frame_header h = {.fin = true, .rsv = WSR_RSV1, .opcode = op, .length = plen};
	h.masked = c->cfg.role == WSR_ROLE_CLIENT;
	if (h.masked && (st = random_bytes(c, h.mask, 4)) != WSR_OK) {
		c->out.len = start;
		fail(c, st);
		return st;
	}
	size_t hl = wsr_frame_header_size(plen, h.masked);
	uint8_t *base = c->out.p + start;
	memmove(base + hl, base + 14, plen);
	wsr_frame_write_header(base, hl, &h);
	if (h.masked)
		wsr_mask(base + hl, plen, h.mask, 0);
	c->out.len = start + hl + plen;
	return WSR_OK;
}

enum wsr_status wsr_conn_send(struct wsr_conn *c, enum wsr_opcode op, const uint8_t *data,
                              size_t len)
{
	if (!c)
		return WSR_INVALID_ARGUMENT;
	enum wsr_status st = need_open(c);
	if (st != WSR_OK)
		return st;
	if ((op != WSR_OP_TEXT && op != WSR_OP_BINARY) || (!data && len))
		return WSR_INVALID_ARGUMENT;
	if (op == WSR_OP_TEXT && !wsr_utf8_valid(data, len))
		return WSR_INVALID_ARGUMENT;
	if (c->deflate)
		return send_compressed(c, (uint8_t)op, data, len);
	return queue_frame(c, true, 0, (uint8_t)op, data, len, false);
}

static enum wsr_status send_control(struct wsr_conn *c, uint8_t op, const uint8_t *data, size_t len)
{
	if (!c)
		return WSR_INVALID_ARGUMENT;
	enum wsr_status st = need_open(c);
	if (st != WSR_OK)
		return st;
	if (len > 125 || (!data && len))
		return WSR_INVALID_ARGUMENT;
	return queue_frame(c, true, 0, op, data, len, true);
}

enum wsr_status wsr_conn_ping(struct wsr_conn *c, const uint8_t *data, size_t len)
{
	return send_control(c, WSR_OP_PING, data, len);
}

enum wsr_status wsr_conn_pong(struct wsr_conn *c, const uint8_t *data, size_t len)
{
	return send_control(c, WSR_OP_PONG, data, len);
}

enum wsr_status wsr_conn_close(struct wsr_conn *c, uint16_t code, const char *reason,
                               size_t reason_len)
{
	if (!c)
		return WSR_INVALID_ARGUMENT;
	enum wsr_status st = need_open(c);
	if (st != WSR_OK)
		return st;
	if ((!code && reason_len) || (code && !wsr_close_code_valid(code)) || reason_len > 123 ||
	    (!reason && reason_len) || !wsr_utf8_valid((const uint8_t *)reason, reason_len))
		return WSR_INVALID_ARGUMENT;
	if ((st = queue_close(c, code, (const uint8_t *)reason, reason_len)) != WSR_OK)
		return st;
	c->close_sent = true;
	c->state = c->close_received ? WSR_STATE_CLOSED : WSR_STATE_CLOSING;
	return WSR_OK;
}

enum wsr_state wsr_conn_state(const struct wsr_conn *c)
{
	return c->state;
}

bool wsr_conn_done(const struct wsr_conn *c)
{
	return done(c);
}

const char *wsr_conn_subprotocol(const struct wsr_conn *c)
{
	return c->subprotocol ? c->subprotocol : "";
}

bool wsr_conn_deflate(const struct wsr_conn *c, struct wsr_pmd_params *p)
{
	if (c->deflate && p)
		*p = c->pmd_params;
	return c->deflate;
}
