/*
 * wire.h - the harness's own WebSocket frame codec (RFC 6455 section 5).
 *
 * The writer serialises ANY frame, valid or not: any FIN/RSV/opcode, any
 * mask, a declared length that differs from the payload, non-minimal length
 * encodings, 63-bit lengths with the top bit set, and auto-fragmentation.
 *
 * The reader is sans-I/O and faces a possibly hostile peer: it never reads
 * past the bytes it is given, buffers at most one message (capped) plus one
 * control payload (125 bytes), and reports every protocol violation it sees
 * as an event, together with the close code the harness fails with. It keeps
 * frame sync after a violation (the harness still wants the peer's Close).
 *
 * Shares no code with libwsref.
 */
#ifndef WSC_WIRE_H
#define WSC_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* ---------------------------------------------------------------- writer */

enum wsc_wmask {
	WSC_WMASK_NONE = 0,
	WSC_WMASK_KEY,    /* use key[] */
	WSC_WMASK_RANDOM, /* fresh key from wsc_random() per frame */
};

/* One frame to write. Borrowed pointers only; nothing is kept. */
struct wsc_wframe {
	uint8_t opcode; /* 0..15 (higher bits are dropped) */
	uint8_t rsv;    /* 0..7, RSV1 = 4 */
	bool fin;
	enum wsc_wmask mask;
	uint8_t key[4]; /* WSC_WMASK_KEY */
	const uint8_t *payload;
	size_t payload_len;
	bool len_override; /* declare `len` in the header whatever payload_len is */
	uint64_t len;      /* any 64-bit value, top bit included */
	uint8_t lenform;   /* 0 minimal; 16 or 64 force that encoding (7 forces 7-bit) */
};

/*
 * What the writer did for one frame (for the wire log and for frames whose
 * declared length exceeds the payload: the rest is still owed, masked with
 * `key` from offset payload_len on).
 */
struct wsc_wresult {
	size_t start, end; /* offsets of the frame's bytes in the output buffer */
	uint64_t declared; /* length in the header */
	bool masked;
	uint8_t key[4];      /* the key used, when masked */
	uint8_t opcode, rsv; /* as written */
	bool fin;
	const uint8_t *payload; /* this frame's (unmasked) payload slice */
	size_t payload_len;
};

/*
 * Encode a frame header into hdr (at most 14 bytes); returns its length.
 * lenform: 0 = minimal, 7/16/64 = that encoding (a length that does not fit
 * a forced 7- or 16-bit form is written minimally instead).
 */
size_t wsc_wire_header(uint8_t hdr[14], bool fin, uint8_t rsv, uint8_t opcode, bool masked,
                       const uint8_t key[4], uint64_t len, uint8_t lenform);

/*
 * Length of the frame header at p[0..n), mask key included (2 to 14), with
 * the declared payload length in *len; 0 when n is too short to hold the
 * length field. Whether n also covers the mask key is left to the caller.
 */
size_t wsc_wire_peek_header(const uint8_t *p, size_t n, uint64_t *len);

/*
 * XOR n bytes with key, starting at key position `offset` (the frame payload
 * offset of p[0]).
 */
void wsc_wire_mask(uint8_t *p, size_t n, const uint8_t key[4], uint64_t offset);

/*
 * Append one frame to out. Bytes of the payload beyond a smaller declared
 * length are written unmasked (they are whatever the case wants the peer to
 * read next). *res (may be NULL) describes what was written.
 * Returns 0, or -1 on ENOMEM / RNG failure (out unchanged).
 */
int wsc_wire_write(struct wsc_buf *out, const struct wsc_wframe *f, struct wsc_wresult *res);

/*
 * Append f split into frames of at most `frag` payload bytes (frag == 0: one
 * frame): the first carries f->opcode and f->rsv, the rest are continuations
 * (opcode 0, rsv 0); all but the last have FIN = 0, the last has f->fin. An
 * empty payload gives one frame. len_override applies to a single frame only.
 * on_frame (may be NULL) is called once per frame written, in order.
 * Returns 0, or -1 (out then holds the frames written before the failure).
 */
int wsc_wire_write_frags(struct wsc_buf *out, const struct wsc_wframe *f, uint32_t frag,
                         void (*on_frame)(void *ctx, const struct wsc_wresult *res), void *ctx);

/* ---------------------------------------------------------------- reader */

#define WSC_RD_HEAD_KEEP           64
#define WSC_RD_DEFAULT_MAX_MESSAGE ((size_t)64 << 20)

enum wsc_rd_kind {
	WSC_RD_NEED_MORE = 0, /* every byte given was consumed; feed more */
	WSC_RD_FRAME,         /* a frame ended (header + payload head) */
	WSC_RD_MESSAGE,       /* a complete, valid data message */
	WSC_RD_PING,
	WSC_RD_PONG,
	WSC_RD_CLOSE, /* a Close frame; fail_code != 0 if its payload is invalid */
	WSC_RD_ERROR, /* a protocol violation (fail_code, text) */
};

struct wsc_rd_frame {
	bool fin, masked;
	uint8_t rsv, opcode;
	uint8_t mask[4];
	uint8_t lenbytes;               /* 0, 2 or 8: extended length bytes */
	uint64_t len;                   /* declared payload length */
	uint8_t head[WSC_RD_HEAD_KEEP]; /* first payload bytes, unmasked */
	size_t head_len;
};

/*
 * One event. Pointers (data, reason) point into the reader and stay valid
 * until the next call to wsc_reader_next() or wsc_reader_free().
 */
struct wsc_rd_event {
	enum wsc_rd_kind kind;
	struct wsc_rd_frame frame; /* FRAME; ERROR: the frame in question */
	uint8_t opcode;            /* MESSAGE: 1 text / 2 binary */
	const uint8_t *data;       /* MESSAGE, PING, PONG, CLOSE: the payload */
	size_t len;
	int close_code;        /* CLOSE: the code, 1005 if none */
	const uint8_t *reason; /* CLOSE: the reason bytes */
	size_t reason_len;
	uint16_t fail_code; /* ERROR, bad CLOSE: close code to fail with (1002/1007/1009) */
	char text[160];     /* ERROR, bad CLOSE: what was wrong */
	bool compressed;    /* MESSAGE: RSV1 was set on its first frame (not inflated, not
	                       UTF-8 checked: the caller inflates and validates) */
};

struct wsc_reader {
	/* configuration (set by wsc_reader_init) */
	bool peer_is_client;   /* frames MUST be masked (else MUST NOT) */
	uint8_t allowed_rsv;   /* RSV bits an extension negotiated */
	size_t max_message;    /* larger messages are a 1009 violation */
	bool close_codes_2018; /* also accept 1012-1014 (registered since RFC 6455) */

	/* frame parsing */
	uint8_t hdr[14];
	size_t hdr_have, hdr_need;
	bool in_payload;
	struct wsc_rd_frame fr;
	uint64_t fr_pos; /* payload bytes of this frame consumed */
	bool fr_skip;    /* discard this frame's payload */
	bool fr_is_ctl;

	/* message reassembly */
	bool in_msg;
	uint8_t msg_opcode;
	bool msg_poisoned; /* violation inside: swallow until FIN, no event */
	struct wsc_buf msg;
	struct wsc_utf8 utf8;

	uint8_t ctl[125];
	size_t ctl_len;

	/* an event waiting to be returned after FRAME */
	bool has_pending;
	struct wsc_rd_event pending;
	bool reset_msg;      /* release the delivered message on the next call */
	bool msg_compressed; /* RSV1 on the message's first frame (allowed_rsv has RSV1) */
};

/*
 * Initialise. peer_is_client: the peer must mask (we are the server).
 * max_message 0 means WSC_RD_DEFAULT_MAX_MESSAGE. Never fails.
 */
void wsc_reader_init(struct wsc_reader *r, bool peer_is_client, uint8_t allowed_rsv,
                     size_t max_message);
void wsc_reader_free(struct wsc_reader *r);

/*
 * Consume bytes p[0..n) until one event happens. Sets *used to the bytes
 * consumed (<= n) and fills *ev. Returns ev->kind; WSC_RD_NEED_MORE means all
 * n bytes were consumed and nothing is pending. Call in a loop, advancing p by
 * *used, until it returns WSC_RD_NEED_MORE. An ERROR does not stop the
 * reader: it skips the offending frame (or the rest of the offending message)
 * and goes on. Memory: the message buffer never exceeds max_message.
 */
enum wsc_rd_kind wsc_reader_next(struct wsc_reader *r, const uint8_t *p, size_t n, size_t *used,
                                 struct wsc_rd_event *ev);

/* True if a close code may appear on the wire (1000-1003, 1007-1011, 3000-4999). */
bool wsc_close_code_valid(unsigned code);
/* The same, plus 1012-1014 (Service Restart, Try Again Later, Bad Gateway),
 * which IANA registered after RFC 6455; Autobahn 0.10.9 rejects them. */
bool wsc_close_code_valid_2018(unsigned code);

#endif
