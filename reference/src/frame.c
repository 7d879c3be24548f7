/*
 * frame.c - frame headers (RFC 6455 section 5.2) and masking (section 5.3).
 *
 * The parser is stateless: it is handed the bytes of a header from its start
 * and either finishes, asks for more, or rejects. A header is at most 14
 * bytes, so re-parsing from the start when more bytes arrive costs nothing.
 */
#include <wsref/wsref.h>

#include <string.h>

static bool opcode_known(uint8_t op)
{
	return op <= WSR_OP_BINARY || (op >= WSR_OP_CLOSE && op <= WSR_OP_PONG);
}

enum wsr_status wsr_frame_parse_header(const uint8_t *buf, size_t len, struct wsr_frame_header *h)
{
	if (len < 2)
		return WSR_AGAIN;
	uint8_t b0 = buf[0], b1 = buf[1];
	uint8_t op = b0 & 0x0F;
	bool fin = (b0 & 0x80) != 0, masked = (b1 & 0x80) != 0;
	uint8_t len7 = b1 & 0x7F;

	/* Judge what the first two bytes already decide, before asking for more. */
#ifdef WSR_PLANTED_BUG_OPCODE_IGNORED
	(void)opcode_known;
#else
	if (!opcode_known(op))
		return WSR_RESERVED_OPCODE;
#endif
	if (op & 0x08) {
#ifndef WSR_PLANTED_BUG_CONTROL_FRAG_OK
		if (!fin)
			return WSR_CONTROL_FRAGMENTED;
#endif
#ifndef WSR_PLANTED_BUG_CONTROL_LONG_OK
		if (len7 > 125)
			return WSR_CONTROL_TOO_LONG;
#endif
	}

	size_t need = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + (masked ? 4 : 0);
	if (len < need)
		return WSR_AGAIN;

	uint64_t plen = len7;
	const uint8_t *p = buf + 2;
	if (len7 == 126) {
		plen = (uint64_t)p[0] << 8 | p[1];
		p += 2;
#ifndef WSR_PLANTED_BUG_NONMINIMAL_OK
		if (plen < 126)
			return WSR_NON_MINIMAL_LENGTH;
#endif
	} else if (len7 == 127) {
		plen = 0;
		for (int i = 0; i < 8; i++)
			plen = plen << 8 | p[i];
		p += 8;
		if (plen >> 63)
			return WSR_LENGTH_MSB_SET;
#ifndef WSR_PLANTED_BUG_NONMINIMAL_OK
		if (plen <= 0xFFFF)
			return WSR_NON_MINIMAL_LENGTH;
#endif
	}

	h->fin = fin;
	h->rsv = (b0 >> 4) & 0x07;
	h->opcode = op;
	h->masked = masked;
	if (masked)
		memcpy(h->mask, p, 4);
	else
		memset(h->mask, 0, 4);
	h->length = plen;
	h->header_len = (uint8_t)need;
	return WSR_OK;
}

size_t wsr_frame_header_size(uint64_t payload_len, bool masked)
{
	size_t n = payload_len <= 125 ? 2 : payload_len <= 0xFFFF ? 4 : 10;
	return n + (masked ? 4 : 0);
}

size_t wsr_frame_write_header(uint8_t *out, size_t cap, const struct wsr_frame_header *h)
{
	size_t n = wsr_frame_header_size(h->length, h->masked);
	if (cap < n)
		return 0;
	out[0] = (uint8_t)((h->fin ? 0x80 : 0) | (h->rsv & 0x07) << 4 | (h->opcode & 0x0F));
	uint8_t m = h->masked ? 0x80 : 0;
	uint8_t *p = out + 2;
	if (h->length <= 125) {
		out[1] = (uint8_t)(m | h->length);
	} else if (h->length <= 0xFFFF) {
		out[1] = m | 126;
		p[0] = (uint8_t)(h->length >> 8);
		p[1] = (uint8_t)h->length;
		p += 2;
	} else {
		out[1] = m | 127;
		for (int i = 0; i < 8; i++)
			p[i] = (uint8_t)(h->length >> (56 - 8 * i));
		p += 8;
	}
	if (h->masked)
		memcpy(p, h->mask, 4);
	return n;
}

void wsr_mask_bytewise(uint8_t *buf, size_t len, const uint8_t mask[4], uint64_t offset)
{
	for (size_t i = 0; i < len; i++)
		buf[i] ^= mask[(offset + i) & 3];
}

/*
 * The mask is rotated to the starting offset and repeated into a 64-bit
 * word (built from memory order, so endian-neutral). The body XORs 64 bytes
 * per round as four 16-byte vectors (GNU vector extension: SSE2/NEON, or
 * wider when the target allows), then 8-byte words, then single bytes.
 * memcpy loads/stores keep it alignment- and aliasing-safe.
 */
void wsr_mask(uint8_t *buf, size_t len, const uint8_t mask[4], uint64_t offset)
{
	uint8_t rot[8];
	for (int i = 0; i < 8; i++)
		rot[i] = mask[(offset + (uint64_t)i) & 3];
	uint64_t m;
	memcpy(&m, rot, 8);

	size_t i = 0;
	/* 64 bytes per round in four independent 16-byte lanes (SSE2 / NEON width). */
	typedef uint64_t v2u64 __attribute__((vector_size(16)));
	v2u64 mv = {m, m};
	for (; i + 64 <= len; i += 64) {
		v2u64 a, b, c, d;
		memcpy(&a, buf + i, 16);
		memcpy(&b, buf + i + 16, 16);
		memcpy(&c, buf + i + 32, 16);
		memcpy(&d, buf + i + 48, 16);
		a ^= mv;
		b ^= mv;
		c ^= mv;
		d ^= mv;
		memcpy(buf + i, &a, 16);
		memcpy(buf + i + 16, &b, 16);
		memcpy(buf + i + 32, &c, 16);
		memcpy(buf + i + 48, &d, 16);
	}
	for (; i + 8 <= len; i += 8) {
		uint64_t w;
		memcpy(&w, buf + i, 8);
		w ^= m;
		memcpy(buf + i, &w, 8);
	}
	for (; i < len; i++)
		buf[i] ^= rot[i & 7];
}
