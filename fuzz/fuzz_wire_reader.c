/*
 * fuzz_wire_reader.c - the harness's own frame reader (harness/wire.c)
 * facing a hostile peer.
 *
 * Input layout: byte 0 picks the role (bit 0: the peer is a client, so its
 * frames must be masked), the message cap (bits 1-2: 64 B, 1 KiB, 64 KiB,
 * default 64 MiB) and the chunking (bits 3-7: 0 = the rest in one piece,
 * else pieces of that many bytes). The rest is what the peer sends.
 *
 * Oracles: never read past a piece (each piece is a fresh heap copy, so
 * ASan catches over-reads), consume every byte, never buffer more than the
 * cap, events are self-consistent (a MESSAGE of text is valid UTF-8, a CLOSE
 * without fail_code has a valid code and a UTF-8 reason, FRAME heads are at
 * most WSC_RD_HEAD_KEEP bytes), and feeding the same bytes whole gives the
 * same event sequence as feeding them in pieces.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

#define MAX_EVENTS 4096

struct sig {
	uint8_t kind[MAX_EVENTS];
	uint32_t len[MAX_EVENTS];
	uint16_t code[MAX_EVENTS];
	size_t n;
};

static void check_event(const struct wsc_reader *r, const struct wsc_rd_event *ev)
{
	switch (ev->kind) {
	case WSC_RD_FRAME:
		if (ev->frame.head_len > WSC_RD_HEAD_KEEP || ev->frame.head_len > ev->frame.len)
			abort();
		break;
	case WSC_RD_MESSAGE:
		if (ev->len > r->max_message)
			abort();
		if (ev->opcode == 1 && !wsc_utf8_valid(ev->data, ev->len))
			abort();
		if (ev->opcode != 1 && ev->opcode != 2)
			abort();
		break;
	case WSC_RD_PING:
	case WSC_RD_PONG:
		if (ev->len > 125)
			abort();
		break;
	case WSC_RD_CLOSE:
		if (ev->len > 125)
			abort();
		if (!ev->fail_code) {
			if (ev->close_code != 1005 &&
			    !wsc_close_code_valid((unsigned)ev->close_code))
				abort();
			if (!wsc_utf8_valid(ev->reason, ev->reason_len))
				abort();
		}
		break;
	case WSC_RD_ERROR:
		if (ev->fail_code != 1002 && ev->fail_code != 1007 && ev->fail_code != 1009)
			abort();
		break;
	case WSC_RD_NEED_MORE:
		break;
	}
}

static void run(const uint8_t *data, size_t size, bool client, size_t cap, size_t chunk,
                struct sig *s)
{
	struct wsc_reader r;
	wsc_reader_init(&r, client, 0, cap);
	s->n = 0;
	size_t off = 0;
	while (off < size) {
		size_t n = chunk && size - off > chunk ? chunk : size - off;
		uint8_t *piece = malloc(n ? n : 1);
		if (!piece)
			abort();
		memcpy(piece, data + off, n);
		size_t pos = 0;
		for (;;) {
			struct wsc_rd_event ev;
			size_t used = 0;
			enum wsc_rd_kind k = wsc_reader_next(&r, piece + pos, n - pos, &used, &ev);
			if (used > n - pos)
				abort();
			pos += used;
			if (k == WSC_RD_NEED_MORE)
				break;
			check_event(&r, &ev);
			if (s->n < MAX_EVENTS) {
				s->kind[s->n] = (uint8_t)k;
				s->len[s->n] =
				        (uint32_t)(k == WSC_RD_FRAME ? ev.frame.len : ev.len);
				s->code[s->n] =
				        k == WSC_RD_CLOSE ? (uint16_t)ev.close_code : ev.fail_code;
				s->n++;
			}
			if (r.msg.cap > r.max_message * 2 + 256)
				abort(); /* buffered more than the cap allows */
		}
		if (pos != n)
			abort();
		free(piece);
		off += n;
	}
	wsc_reader_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	static const size_t caps[4] = {64, 1024, 65536, 0};
	bool client = data[0] & 1;
	size_t cap = caps[(data[0] >> 1) & 3];
	size_t chunk = data[0] >> 3;
	static struct sig a, b;
	run(data + 1, size - 1, client, cap, chunk, &a);
	if (chunk) {
		run(data + 1, size - 1, client, cap, 0, &b);
		if (a.n != b.n || memcmp(a.kind, b.kind, a.n) != 0 ||
		    memcmp(a.len, b.len, a.n * sizeof(a.len[0])) != 0 ||
		    memcmp(a.code, b.code, a.n * sizeof(a.code[0])) != 0)
			abort();
	}
	return 0;
}
