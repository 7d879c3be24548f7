/*
 * wire.c - frame writer and hostile-peer frame reader (see wire.h).
 */
#include "wire.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---------------------------------------------------------------- writer */

size_t wsc_wire_peek_header(const uint8_t *p, size_t n, uint64_t *len)
{
	if (n < 2)
		return 0;
	size_t hl = 2;
	uint64_t l = p[1] & 0x7F;
	if (l == 126) {
		if (n < 4)
			return 0;
		l = (uint64_t)p[2] << 8 | p[3];
		hl = 4;
	} else if (l == 127) {
		if (n < 10)
			return 0;
		l = 0;
		for (int i = 0; i < 8; i++)
			l = l << 8 | p[2 + i];
		hl = 10;
	}
	if (p[1] & 0x80)
		hl += 4;
	*len = l;
	return hl;
}

size_t wsc_wire_header(uint8_t hdr[14], bool fin, uint8_t rsv, uint8_t opcode, bool masked,
                       const uint8_t key[4], uint64_t len, uint8_t lenform)
{
	size_t n = 0;
	hdr[n++] = (uint8_t)((fin ? 0x80 : 0) | ((rsv & 7u) << 4) | (opcode & 15u));
	uint8_t mbit = masked ? 0x80 : 0;
	int form; /* 7, 16 or 64 */
	if (lenform == 64)
		form = 64;
	else if (lenform == 16 && len <= 0xFFFF)
		form = 16;
	else if (lenform == 7 && len <= 125)
		form = 7;
	else
		form = len <= 125 ? 7 : len <= 0xFFFF ? 16 : 64;
	if (form == 7) {
		hdr[n++] = (uint8_t)(mbit | len);
	} else if (form == 16) {
		hdr[n++] = (uint8_t)(mbit | 126);
		hdr[n++] = (uint8_t)(len >> 8);
		hdr[n++] = (uint8_t)len;
	} else {
		hdr[n++] = (uint8_t)(mbit | 127);
		for (int i = 7; i >= 0; i--)
			hdr[n++] = (uint8_t)(len >> (8 * i));
	}
	if (masked) {
		memcpy(hdr + n, key, 4);
		n += 4;
	}
	return n;
}

void wsc_wire_mask(uint8_t *p, size_t n, const uint8_t key[4], uint64_t offset)
{
	size_t i = 0;
	/* byte by byte up to 8-byte alignment, then 8 bytes at a time */
	while (i < n && ((uintptr_t)(p + i) & 7u)) {
		p[i] ^= key[(offset + i) & 3];
		i++;
	}
	if (n - i >= 8) {
		uint8_t k8[8];
		for (size_t j = 0; j < 8; j++)
			k8[j] = key[(offset + i + j) & 3];
		uint64_t k;
		memcpy(&k, k8, 8);
		for (; i + 8 <= n; i += 8) {
			uint64_t v;
			memcpy(&v, p + i, 8);
			v ^= k;
			memcpy(p + i, &v, 8);
		}
	}
	for (; i < n; i++)
		p[i] ^= key[(offset + i) & 3];
}

int wsc_wire_write(struct wsc_buf *out, const struct wsc_wframe *f, struct wsc_wresult *res)
{
	uint8_t key[4] = {0, 0, 0, 0};
	bool masked = f->mask != WSC_WMASK_NONE;
	if (f->mask == WSC_WMASK_KEY)
		memcpy(key, f->key, 4);
	else if (f->mask == WSC_WMASK_RANDOM && wsc_random(key, 4) < 0)
		return -1;
	uint64_t declared = f->len_override ? f->len : (uint64_t)f->payload_len;
	uint8_t hdr[14];
	size_t hlen =
	        wsc_wire_header(hdr, f->fin, f->rsv, f->opcode, masked, key, declared, f->lenform);
	if (f->payload_len > SIZE_MAX - hlen || wsc_buf_reserve(out, hlen + f->payload_len) < 0)
		return -1;
	size_t start = out->len;
	memcpy(out->p + out->len, hdr, hlen);
	out->len += hlen;
	if (f->payload_len) {
		memcpy(out->p + out->len, f->payload, f->payload_len);
		if (masked) {
			size_t m = declared < f->payload_len ? (size_t)declared : f->payload_len;
			wsc_wire_mask(out->p + out->len, m, key, 0);
		}
		out->len += f->payload_len;
	}
	if (res) {
		res->start = start;
		res->end = out->len;
		res->declared = declared;
		res->masked = masked;
		memcpy(res->key, key, 4);
		res->opcode = f->opcode & 15u;
		res->rsv = f->rsv & 7u;
		res->fin = f->fin;
		res->payload = f->payload;
		res->payload_len = f->payload_len;
	}
	return 0;
}

int wsc_wire_write_frags(struct wsc_buf *out, const struct wsc_wframe *f, uint32_t frag,
                         void (*on_frame)(void *ctx, const struct wsc_wresult *res), void *ctx)
{
	struct wsc_wresult res;
	if (frag == 0 || f->payload_len <= frag) {
		if (wsc_wire_write(out, f, &res) < 0)
			return -1;
		if (on_frame)
			on_frame(ctx, &res);
		return 0;
	}
	size_t off = 0;
	bool first = true;
	while (off < f->payload_len) {
		size_t n = f->payload_len - off;
		if (n > frag)
			n = frag;
		struct wsc_wframe piece = *f;
		piece.payload = f->payload + off;
		piece.payload_len = n;
		piece.len_override = false;
		piece.opcode = first ? f->opcode : 0;
		piece.rsv = first ? f->rsv : 0;
		piece.fin = off + n == f->payload_len ? f->fin : false;
		if (wsc_wire_write(out, &piece, &res) < 0)
			return -1;
		if (on_frame)
			on_frame(ctx, &res);
		off += n;
		first = false;
	}
	return 0;
}

/* ---------------------------------------------------------------- reader */

bool wsc_close_code_valid(unsigned code)
{
	return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011) ||
	       (code >= 3000 && code <= 4999);
}

bool wsc_close_code_valid_2018(unsigned code)
{
	return wsc_close_code_valid(code) || (code >= 1012 && code <= 1014);
}

void wsc_reader_init(struct wsc_reader *r, bool peer_is_client, uint8_t allowed_rsv,
                     size_t max_message)
{
	memset(r, 0, sizeof(*r));
	r->peer_is_client = peer_is_client;
	r->allowed_rsv = allowed_rsv & 7u;
	r->max_message = max_message ? max_message : WSC_RD_DEFAULT_MAX_MESSAGE;
	r->hdr_need = 2;
	wsc_buf_init(&r->msg);
}

void wsc_reader_free(struct wsc_reader *r)
{
	wsc_buf_free(&r->msg);
}

static void rd_error(struct wsc_rd_event *ev, const struct wsc_rd_frame *fr, uint16_t code,
                     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void rd_error(struct wsc_rd_event *ev, const struct wsc_rd_frame *fr, uint16_t code,
                     const char *fmt, ...)
{
	ev->kind = WSC_RD_ERROR;
	ev->fail_code = code;
	if (fr)
		ev->frame = *fr;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ev->text, sizeof(ev->text), fmt, ap);
	va_end(ap);
}

static bool is_control(uint8_t op)
{
	return op >= 8;
}

/*
 * The header is complete: decode it and decide what to do with the payload.
 * Returns true (with ev filled) if the frame is a violation; the frame is
 * then skipped.
 */
static bool rd_begin_frame(struct wsc_reader *r, struct wsc_rd_event *ev)
{
	struct wsc_rd_frame *fr = &r->fr;
	memset(fr, 0, sizeof(*fr));
	fr->fin = r->hdr[0] & 0x80;
	fr->rsv = (r->hdr[0] >> 4) & 7u;
	fr->opcode = r->hdr[0] & 15u;
	fr->masked = r->hdr[1] & 0x80;
	uint8_t l7 = r->hdr[1] & 127u;
	size_t i = 2;
	if (l7 == 126) {
		fr->lenbytes = 2;
		fr->len = (uint64_t)r->hdr[2] << 8 | r->hdr[3];
		i = 4;
	} else if (l7 == 127) {
		fr->lenbytes = 8;
		fr->len = 0;
		for (int k = 0; k < 8; k++)
			fr->len = fr->len << 8 | r->hdr[2 + k];
		i = 10;
	} else {
		fr->len = l7;
	}
	if (fr->masked)
		memcpy(fr->mask, r->hdr + i, 4);
	r->fr_pos = 0;
	r->fr_skip = false;
	r->fr_is_ctl = is_control(fr->opcode);
	r->ctl_len = 0;

	const char *who = r->peer_is_client ? "client" : "server";
	uint8_t op = fr->opcode;
	bool bad = true;
	if ((op >= 3 && op <= 7) || op >= 11)
		rd_error(ev, fr, 1002, "frame with reserved opcode %u", op);
	else if (fr->rsv & ~r->allowed_rsv)
		rd_error(ev, fr, 1002,
		         "frame with RSV bits %u set but no extension negotiated them", fr->rsv);
	else if ((fr->rsv & 4u) && (r->allowed_rsv & 4u) && op != 1 && op != 2)
		rd_error(ev, fr, 1002,
		         "RSV1 set on a %s frame (permessage-deflate allows it only on the first "
		         "frame of a data message)",
		         op == 0 ? "continuation" : "control");
	else if (fr->masked && !r->peer_is_client)
		rd_error(ev, fr, 1002, "masked frame from %s", who);
	else if (!fr->masked && r->peer_is_client)
		rd_error(ev, fr, 1002, "unmasked frame from %s", who);
	else if (fr->lenbytes == 8 && (fr->len >> 63))
		rd_error(ev, fr, 1002, "64-bit payload length with the most significant bit set");
	else if ((fr->lenbytes == 2 && fr->len < 126) || (fr->lenbytes == 8 && fr->len < 65536))
		rd_error(ev, fr, 1002, "payload length %llu not in minimal encoding",
		         (unsigned long long)fr->len);
	else if (r->fr_is_ctl && !fr->fin)
		rd_error(ev, fr, 1002, "fragmented control frame (opcode %u)", op);
	else if (r->fr_is_ctl && fr->len > 125)
		rd_error(ev, fr, 1002, "control frame payload of %llu bytes (more than 125)",
		         (unsigned long long)fr->len);
	else if (op == 0 && !r->in_msg)
		rd_error(ev, fr, 1002, "continuation frame with no message to continue");
	else if ((op == 1 || op == 2) && r->in_msg)
		rd_error(ev, fr, 1002, "new data frame (opcode %u) inside a fragmented message",
		         op);
	else
		bad = false;
	if (bad) {
		r->fr_skip = true;
		return true;
	}
	if (op == 1 || op == 2) {
		r->in_msg = true;
		r->msg_opcode = op;
		r->msg_poisoned = false;
		r->msg.len = 0;
		r->msg_compressed = (fr->rsv & 4u) != 0;
		wsc_utf8_init(&r->utf8);
	}
	if (!r->fr_is_ctl && !r->msg_poisoned &&
	    fr->len > (uint64_t)(r->max_message - r->msg.len)) {
		rd_error(ev, fr, 1009, "message longer than %zu bytes (limit)", r->max_message);
		r->msg_poisoned = true;
		r->msg.len = 0;
		return true;
	}
	return false;
}

/* Process n payload bytes at p (the frame's bytes fr_pos..fr_pos+n). */
static bool rd_payload(struct wsc_reader *r, const uint8_t *p, size_t n, struct wsc_rd_event *ev)
{
	struct wsc_rd_frame *fr = &r->fr;
	if (r->fr_pos < WSC_RD_HEAD_KEEP) {
		size_t k = WSC_RD_HEAD_KEEP - (size_t)r->fr_pos;
		if (k > n)
			k = n;
		memcpy(fr->head + r->fr_pos, p, k);
		if (fr->masked)
			wsc_wire_mask(fr->head + r->fr_pos, k, fr->mask, r->fr_pos);
		fr->head_len = (size_t)r->fr_pos + k;
	}
	bool err = false;
	if (r->fr_skip) {
		/* nothing kept */
	} else if (r->fr_is_ctl) {
		/* len <= 125 was checked, so this fits */
		memcpy(r->ctl + r->ctl_len, p, n);
		if (fr->masked)
			wsc_wire_mask(r->ctl + r->ctl_len, n, fr->mask, r->fr_pos);
		r->ctl_len += n;
	} else if (!r->msg_poisoned) {
		if (wsc_buf_reserve(&r->msg, n) < 0) {
			rd_error(ev, fr, 1009, "out of memory buffering a %zu-byte message",
			         r->msg.len + n);
			r->msg_poisoned = true;
			r->msg.len = 0;
			err = true;
		} else {
			uint8_t *dst = r->msg.p + r->msg.len;
			memcpy(dst, p, n);
			if (fr->masked)
				wsc_wire_mask(dst, n, fr->mask, r->fr_pos);
			r->msg.len += n;
			if (r->msg_opcode == 1 && !r->msg_compressed &&
			    !wsc_utf8_feed(&r->utf8, dst, n)) {
				rd_error(ev, fr, 1007,
				         "invalid UTF-8 in text message at payload octet %llu",
				         (unsigned long long)r->utf8.bad_at);
				r->msg_poisoned = true;
				r->msg.len = 0;
				err = true;
			}
		}
	}
	r->fr_pos += n;
	return err;
}

/* The frame's payload is complete: FRAME now, its consequence pending. */
static void rd_end_frame(struct wsc_reader *r, struct wsc_rd_event *ev)
{
	struct wsc_rd_frame *fr = &r->fr;
	ev->kind = WSC_RD_FRAME;
	ev->frame = *fr;
	r->in_payload = false;
	r->hdr_have = 0;
	r->hdr_need = 2;
	struct wsc_rd_event *pe = &r->pending;
	memset(pe, 0, sizeof(*pe));
	r->has_pending = false;
	if (r->fr_skip)
		return;
	if (r->fr_is_ctl) {
		r->has_pending = true;
		pe->data = r->ctl;
		pe->len = r->ctl_len;
		if (fr->opcode == 9) {
			pe->kind = WSC_RD_PING;
		} else if (fr->opcode == 10) {
			pe->kind = WSC_RD_PONG;
		} else {
			pe->kind = WSC_RD_CLOSE;
			pe->frame = *fr;
			if (r->ctl_len == 0) {
				pe->close_code = 1005;
			} else if (r->ctl_len == 1) {
				pe->close_code = 1005;
				pe->fail_code = 1002;
				snprintf(pe->text, sizeof(pe->text),
				         "close frame with a 1-byte payload");
			} else {
				unsigned code = (unsigned)r->ctl[0] << 8 | r->ctl[1];
				pe->close_code = (int)code;
				pe->reason = r->ctl + 2;
				pe->reason_len = r->ctl_len - 2;
				bool ok = r->close_codes_2018 ? wsc_close_code_valid_2018(code)
				                              : wsc_close_code_valid(code);
				if (!ok) {
					pe->fail_code = 1002;
					snprintf(pe->text, sizeof(pe->text),
					         "invalid close code %u", code);
				} else if (!wsc_utf8_valid(pe->reason, pe->reason_len)) {
					pe->fail_code = 1007;
					snprintf(pe->text, sizeof(pe->text),
					         "close reason is not valid UTF-8");
				}
			}
		}
		return;
	}
	if (!fr->fin)
		return;
	/* the last frame of a message */
	bool poisoned = r->msg_poisoned;
	r->in_msg = false;
	r->msg_poisoned = false;
	if (poisoned) {
		r->msg.len = 0;
		return;
	}
	r->has_pending = true;
	if (r->msg_opcode == 1 && !r->msg_compressed && !wsc_utf8_done(&r->utf8)) {
		rd_error(pe, fr, 1007, "text message ends inside a UTF-8 sequence");
		r->msg.len = 0;
		return;
	}
	pe->kind = WSC_RD_MESSAGE;
	pe->opcode = r->msg_opcode;
	pe->compressed = r->msg_compressed;
	pe->data = r->msg.p;
	pe->len = r->msg.len;
}

enum wsc_rd_kind wsc_reader_next(struct wsc_reader *r, const uint8_t *p, size_t n, size_t *used,
                                 struct wsc_rd_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	*used = 0;
	if (r->reset_msg) {
		r->msg.len = 0;
		r->reset_msg = false;
	}
	if (r->has_pending) {
		*ev = r->pending;
		r->has_pending = false;
		if (ev->kind == WSC_RD_MESSAGE)
			r->reset_msg = true;
		return ev->kind;
	}
	size_t off = 0;
	for (;;) {
		if (!r->in_payload) {
			while (r->hdr_have < r->hdr_need && off < n) {
				r->hdr[r->hdr_have++] = p[off++];
				if (r->hdr_have == 2) {
					uint8_t l7 = r->hdr[1] & 127u;
					r->hdr_need = 2 +
					              (l7 == 126   ? 2
					               : l7 == 127 ? 8
					                           : 0) +
					              ((r->hdr[1] & 0x80) ? 4 : 0);
				}
			}
			if (r->hdr_have < r->hdr_need) {
				*used = off;
				return WSC_RD_NEED_MORE;
			}
			r->in_payload = true;
			if (rd_begin_frame(r, ev)) {
				*used = off;
				return ev->kind;
			}
			continue;
		}
		if (r->fr_pos == r->fr.len) {
			rd_end_frame(r, ev);
			*used = off;
			return ev->kind;
		}
		if (off == n) {
			*used = off;
			return WSC_RD_NEED_MORE;
		}
		uint64_t left = r->fr.len - r->fr_pos;
		size_t k = n - off;
		if ((uint64_t)k > left)
			k = (size_t)left;
		bool err = rd_payload(r, p + off, k, ev);
		off += k;
		if (err) {
			*used = off;
			return ev->kind;
		}
	}
}
