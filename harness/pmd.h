/*
 * pmd.h - the harness's own permessage-deflate (RFC 7692): offer and answer
 * parsing, answer validation against what was offered, and the compressor /
 * decompressor pair for one connection (zlib raw deflate).
 *
 * Shares no code with libwsref. Sans-I/O: nothing here touches a socket.
 *
 * Ownership: a wsc_pmd owns its two zlib streams and its scratch buffers;
 * wsc_pmd_free() releases them. Output buffers passed in are the caller's.
 */
#ifndef WSC_PMD_H
#define WSC_PMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* The parameters of one permessage-deflate element (offer or answer). */
struct wsc_pmd_params {
	bool server_no_context_takeover;
	bool client_no_context_takeover;
	bool has_server_max_window_bits;
	bool has_client_max_window_bits;
	uint8_t server_max_window_bits; /* 8..15; 0 = given without a value */
	uint8_t client_max_window_bits; /* 8..15; 0 = given without a value */
};

/*
 * Parse one element's parameters ("; a; b=c" after the name) as RFC 7692
 * section 7 defines them. answer = true applies the rules for a server's
 * answer (client_max_window_bits needs a value), else those for an offer
 * (server_max_window_bits needs a value). Values may be tokens or quoted
 * strings. Unknown or duplicated parameters and bad values are errors.
 * Returns 0, or -1 with err filled.
 */
int wsc_pmd_parse_params(const char *p, size_t n, bool answer, struct wsc_pmd_params *out,
                         char *err, size_t errlen);

/*
 * What the handshake agreed. The server's Sec-WebSocket-Extensions answer
 * (value only, NULL/0 if absent) is checked against the offers we sent (each
 * string may hold several comma-separated offers). Returns 1 when
 * permessage-deflate was negotiated (*agreed filled: the answer's
 * parameters), 0 when the answer does not mention it, -1 when the answer is
 * invalid (err says why: malformed, an extension we did not offer, a
 * duplicate, or parameters that correspond to none of our offers).
 */
int wsc_pmd_negotiate(const char *const *offers, size_t n_offers, const char *answer, size_t alen,
                      struct wsc_pmd_params *agreed, char *err, size_t errlen);

/* True if any offer names permessage-deflate. */
bool wsc_pmd_offered(const char *const *offers, size_t n_offers);

/* One connection's compression state (the harness is the client). */
struct wsc_pmd {
	struct wsc_pmd_params agreed;
	bool we_take_over;    /* our compressor keeps its window across messages */
	bool peer_takes_over; /* the peer's messages may refer to earlier ones */
	int our_bits, peer_bits;
	int def_bits;    /* our compressor's window (zlib cannot go below 9) */
	void *def, *inf; /* z_stream (opaque here) */
	bool def_ok, inf_ok;
	struct wsc_buf tmp; /* scratch */
};

/*
 * Initialise for a client that offered `client_offered_no_takeover` (a hint
 * we then honour) and agreed on *agreed. Returns 0, or -1 (zlib / memory).
 */
int wsc_pmd_init(struct wsc_pmd *p, const struct wsc_pmd_params *agreed,
                 bool client_offered_no_takeover);
void wsc_pmd_free(struct wsc_pmd *p);

/*
 * Compress one whole message (app bytes in[0..n)) and append the payload to
 * send (RSV1 set, trailing 00 00 ff ff removed) to *out. Returns 0, or -1.
 */
int wsc_pmd_compress(struct wsc_pmd *p, const uint8_t *in, size_t n, struct wsc_buf *out);

/*
 * Inflate one received message's payload (in[0..n), RSV1 was set) into *out
 * (reset first). At most cap bytes are produced. Returns 0; -1 corrupt or
 * truncated stream (err says which); -2 more than cap bytes (err filled).
 */
int wsc_pmd_inflate(struct wsc_pmd *p, const uint8_t *in, size_t n, size_t cap, struct wsc_buf *out,
                    char *err, size_t errlen);

/*
 * Build a decompression bomb: a raw deflate payload (append to *out) that
 * inflates to `inflated` zero bytes, made from a couple of real zlib chunks
 * (about 1 KB per MiB). Returns 0, or -1.
 */
int wsc_pmd_bomb(uint64_t inflated, struct wsc_buf *out);

#endif
