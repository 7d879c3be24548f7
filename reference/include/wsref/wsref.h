/*
 * wsref.h - libwsref, a sans-I/O RFC 6455 + RFC 7692 WebSocket implementation.
 *
 * This is the only public header. It is the documentation: every function
 * states what it reads, what it writes, who owns what, and how long returned
 * pointers stay valid.
 *
 * Model (sans-I/O):
 *   - bytes in:   wsr_conn_recv()        the caller feeds what it read
 *   - events out: wsr_conn_next_event()  the caller pulls what happened
 *   - bytes out:  wsr_conn_out_buf() / wsr_conn_out_ack()
 *   - commands (send, ping, close) only queue output.
 * The library never touches a socket, a clock or a thread. It allocates only
 * through the allocator it was given, and counts what it holds against the
 * limits it was given. Frame, UTF-8, handshake and close-code code never
 * allocate at all.
 *
 * Errors are sticky: once a connection has failed, every call that can
 * report a status reports the same one.
 */
#ifndef WSREF_H
#define WSREF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && defined(WSREF_BUILDING)
#define WSR_API __attribute__((visibility("default")))
#else
#define WSR_API
#endif

/* ------------------------------------------------------------------------ */
/* Status codes                                                              */
/* ------------------------------------------------------------------------ */

/*
 * One table gives every status its symbol, its message, the WebSocket close
 * code it implies (0: none; the connection is not failed by it) and, for
 * opening-handshake errors, the HTTP status a server answers with (0: none).
 */
#define WSR_STATUS_MAP(X)                                                                 \
	X(OK, "ok", 0, 0)                                                                 \
	X(AGAIN, "more input needed", 0, 0)                                               \
	X(INVALID_ARGUMENT, "invalid argument", 0, 0)                                     \
	X(NOMEM, "allocation failed or memory limit reached", 1011, 500)                  \
	X(BAD_STATE, "call not allowed in this connection state", 0, 0)                   \
	X(CLOSED, "connection is closed", 0, 0)                                           \
	/* framing (RFC 6455 section 5) */                                                \
	X(RSV_NOT_NEGOTIATED, "reserved bit set without a negotiated extension", 1002, 0) \
	X(RESERVED_OPCODE, "reserved opcode", 1002, 0)                                    \
	X(CONTROL_FRAGMENTED, "fragmented control frame", 1002, 0)                        \
	X(CONTROL_TOO_LONG, "control frame payload over 125 bytes", 1002, 0)              \
	X(UNMASKED_FRAME, "client frame is not masked", 1002, 0)                          \
	X(MASKED_FRAME, "server frame is masked", 1002, 0)                                \
	X(NON_MINIMAL_LENGTH, "payload length not in its minimal encoding", 1002, 0)      \
	X(LENGTH_MSB_SET, "64-bit payload length with the top bit set", 1002, 0)          \
	X(UNEXPECTED_CONTINUATION, "continuation frame with no message open", 1002, 0)    \
	X(EXPECTED_CONTINUATION, "new data frame while a message is open", 1002, 0)       \
	X(CLOSE_PAYLOAD_ONE_BYTE, "close frame payload of one byte", 1002, 0)             \
	X(CLOSE_CODE_INVALID, "close code not allowed on the wire", 1002, 0)              \
	X(INVALID_UTF8, "text message is not valid UTF-8", 1007, 0)                       \
	X(INVALID_CLOSE_REASON, "close reason is not valid UTF-8", 1007, 0)               \
	/* limits */                                                                      \
	X(FRAME_TOO_BIG, "frame payload over the limit", 1009, 0)                         \
	X(MESSAGE_TOO_BIG, "message over the limit", 1009, 0)                             \
	X(INFLATE_TOO_BIG, "decompressed message over the limit", 1009, 0)                \
	/* permessage-deflate (RFC 7692) */                                               \
	X(INFLATE_FAILED, "compressed payload could not be decompressed", 1007, 0)        \
	X(DEFLATE_FAILED, "compression failed", 1011, 0)                                  \
	X(RSV1_ON_CONTROL, "RSV1 set on a control frame", 1002, 0)                        \
	X(RSV1_ON_CONTINUATION, "RSV1 set on a continuation frame", 1002, 0)              \
	X(EXTENSION_PARAMS, "invalid permessage-deflate parameters", 1002, 400)           \
	/* opening handshake, server side (request) */                                    \
	X(HS_MALFORMED, "malformed HTTP request", 0, 400)                                 \
	X(HS_METHOD, "method is not GET", 0, 405)                                         \
	X(HS_HTTP_VERSION, "HTTP version is not 1.1 or later", 0, 400)                    \
	X(HS_MISSING_HOST, "Host header missing or repeated", 0, 400)                     \
	X(HS_NOT_UPGRADE, "Upgrade: websocket / Connection: Upgrade missing", 0, 400)     \
	X(HS_BAD_KEY, "Sec-WebSocket-Key missing or not 16 base64 bytes", 0, 400)         \
	X(HS_BAD_VERSION, "Sec-WebSocket-Version is not 13", 0, 426)                      \
	X(HS_DUPLICATE_HEADER, "header that must appear once is repeated", 0, 400)        \
	X(HS_TOO_LARGE, "handshake headers over the limit", 0, 431)                       \
	X(HS_FORBIDDEN_ORIGIN, "Origin not allowed", 0, 403)                              \
	/* opening handshake, client side (response) */                                   \
	X(HS_BAD_STATUS, "response status is not 101", 0, 0)                              \
	X(HS_BAD_ACCEPT, "Sec-WebSocket-Accept missing or wrong", 0, 0)                   \
	X(HS_UNSOLICITED_EXTENSION, "server selected an extension not offered", 0, 0)     \
	X(HS_UNSOLICITED_PROTOCOL, "server selected a subprotocol not offered", 0, 0)     \
	/* added after the first draft (appended: earlier values do not move) */          \
	X(RANDOM_FAILED, "random number generator failed", 1011, 500)

enum wsr_status {
#define WSR_X_ENUM(sym, msg, code, http) WSR_##sym,
	WSR_STATUS_MAP(WSR_X_ENUM)
#undef WSR_X_ENUM
	        WSR_STATUS_COUNT
};

/* The symbol without prefix ("INVALID_UTF8"); "?" for an unknown value. Static storage. */
WSR_API const char *wsr_status_name(enum wsr_status s);
/* A one-line English message. Static storage. */
WSR_API const char *wsr_status_message(enum wsr_status s);
/* The close code a failure with this status sends (1002, 1007, 1009, 1011) or 0. */
WSR_API uint16_t wsr_status_close_code(enum wsr_status s);
/* The HTTP status a server answers a bad upgrade with, or 0. */
WSR_API int wsr_status_http(enum wsr_status s);

/* ------------------------------------------------------------------------ */
/* Close codes (RFC 6455 section 7.4, IANA registry)                         */
/* ------------------------------------------------------------------------ */

enum wsr_close_code {
	WSR_CLOSE_NORMAL = 1000,
	WSR_CLOSE_GOING_AWAY = 1001,
	WSR_CLOSE_PROTOCOL_ERROR = 1002,
	WSR_CLOSE_UNSUPPORTED_DATA = 1003,
	WSR_CLOSE_NO_STATUS = 1005, /* MUST NOT be sent */
	WSR_CLOSE_ABNORMAL = 1006,  /* MUST NOT be sent */
	WSR_CLOSE_INVALID_PAYLOAD = 1007,
	WSR_CLOSE_POLICY = 1008,
	WSR_CLOSE_TOO_BIG = 1009,
	WSR_CLOSE_MANDATORY_EXTENSION = 1010, /* sent by clients only */
	WSR_CLOSE_INTERNAL_ERROR = 1011,
	WSR_CLOSE_SERVICE_RESTART = 1012,
	WSR_CLOSE_TRY_AGAIN_LATER = 1013,
	WSR_CLOSE_BAD_GATEWAY = 1014,
	WSR_CLOSE_TLS_HANDSHAKE = 1015 /* MUST NOT be sent */
};

/*
 * True when `code` may appear in a Close frame on the wire: 1000-1003,
 * 1007-1014 and 3000-4999. (1004-1006, 1015, 1016-2999, <1000 and >=5000
 * may not.)
 */
WSR_API bool wsr_close_code_valid(uint16_t code);

/*
 * Parse a Close frame payload (already unmasked). Empty: *code = 1005,
 * reason empty, WSR_OK. One byte: WSR_CLOSE_PAYLOAD_ONE_BYTE. Code not valid
 * on the wire: WSR_CLOSE_CODE_INVALID. Reason not UTF-8:
 * WSR_INVALID_CLOSE_REASON. On WSR_OK *reason points into `payload`.
 */
WSR_API enum wsr_status wsr_close_parse(const uint8_t *payload, size_t len, uint16_t *code,
                                        const uint8_t **reason, size_t *reason_len);

/* ------------------------------------------------------------------------ */
/* Frames (RFC 6455 section 5.2)                                             */
/* ------------------------------------------------------------------------ */

enum wsr_opcode {
	WSR_OP_CONTINUATION = 0x0,
	WSR_OP_TEXT = 0x1,
	WSR_OP_BINARY = 0x2,
	WSR_OP_CLOSE = 0x8,
	WSR_OP_PING = 0x9,
	WSR_OP_PONG = 0xA
};

#define WSR_RSV1 0x4
#define WSR_RSV2 0x2
#define WSR_RSV3 0x1

struct wsr_frame_header {
	bool fin;
	uint8_t rsv;    /* 3 bits: RSV1 = 4, RSV2 = 2, RSV3 = 1 */
	uint8_t opcode; /* 4 bits */
	bool masked;
	uint8_t mask[4];
	uint64_t length;    /* payload length */
	uint8_t header_len; /* bytes the header took on the wire: 2..14 */
};

/*
 * Parse one frame header from the start of buf. Returns WSR_OK and fills *h,
 * WSR_AGAIN when buf holds only part of a header (*h is untouched; call again
 * with more bytes from the same start), or a framing status:
 * WSR_RESERVED_OPCODE, WSR_CONTROL_FRAGMENTED, WSR_CONTROL_TOO_LONG,
 * WSR_NON_MINIMAL_LENGTH, WSR_LENGTH_MSB_SET. RSV bits and the mask bit are
 * reported, not judged: that depends on negotiation and role (wsr_conn does it).
 * Never reads past buf[len-1]; never allocates.
 */
WSR_API enum wsr_status wsr_frame_parse_header(const uint8_t *buf, size_t len,
                                               struct wsr_frame_header *h);

/* Bytes a header for this payload length takes: 2, 4 or 10, plus 4 if masked. */
WSR_API size_t wsr_frame_header_size(uint64_t payload_len, bool masked);

/*
 * Write the header described by h (length in minimal encoding, h->header_len
 * ignored) into out. Returns bytes written, or 0 if cap is too small.
 */
WSR_API size_t wsr_frame_write_header(uint8_t *out, size_t cap, const struct wsr_frame_header *h);

/*
 * XOR buf[0..len) with the mask, as if buf started at byte `offset` of the
 * payload (so a payload can be unmasked in pieces). Word-at-a-time.
 */
WSR_API void wsr_mask(uint8_t *buf, size_t len, const uint8_t mask[4], uint64_t offset);
/* The byte-loop twin of wsr_mask, kept for differential fuzzing and tests. */
WSR_API void wsr_mask_bytewise(uint8_t *buf, size_t len, const uint8_t mask[4], uint64_t offset);

/* ------------------------------------------------------------------------ */
/* UTF-8 (incremental, fail-fast)                                            */
/* ------------------------------------------------------------------------ */

struct wsr_utf8 {
	uint32_t state; /* private */
};

WSR_API void wsr_utf8_init(struct wsr_utf8 *u);

/*
 * Validate the next len bytes of a stream. Returns WSR_OK if every byte so
 * far can still be part of valid UTF-8 (a sequence may be open at the end),
 * or WSR_INVALID_UTF8 at the first byte that makes it invalid, with
 * *bad_offset (if not NULL) set to that byte's offset within p. After
 * WSR_INVALID_UTF8 the state stays invalid.
 */
WSR_API enum wsr_status wsr_utf8_feed(struct wsr_utf8 *u, const uint8_t *p, size_t len,
                                      size_t *bad_offset);
/* True when the stream so far ends on a code point boundary (not mid-sequence). */
WSR_API bool wsr_utf8_complete(const struct wsr_utf8 *u);
/* Whole-buffer convenience: true if p[0..len) is valid, complete UTF-8. */
WSR_API bool wsr_utf8_valid(const uint8_t *p, size_t len);
/* Slow, obviously correct twin (one code point at a time), for tests/fuzzing. */
WSR_API bool wsr_utf8_valid_slow(const uint8_t *p, size_t len, size_t *bad_offset);

/* ------------------------------------------------------------------------ */
/* HTTP opening handshake (RFC 6455 section 4)                               */
/* ------------------------------------------------------------------------ */

struct wsr_http_header {
	const char *name;
	size_t name_len;
	const char *value; /* leading and trailing spaces/tabs removed */
	size_t value_len;
};

struct wsr_http_request {
	const char *method;
	size_t method_len;
	const char *target;
	size_t target_len;
	int version_minor;               /* HTTP/1.x: x */
	struct wsr_http_header *headers; /* caller's array */
	size_t num_headers;              /* in: capacity of headers; out: count */
};

struct wsr_http_response {
	int version_minor;
	int status;
	const char *reason;
	size_t reason_len;
	struct wsr_http_header *headers; /* caller's array */
	size_t num_headers;              /* in: capacity; out: count */
};

/*
 * Parse an HTTP/1.x request head (up to and including the empty line).
 * Returns WSR_OK with *consumed = bytes of the head, WSR_AGAIN if the empty
 * line has not arrived yet, WSR_HS_MALFORMED, or WSR_HS_TOO_LARGE when the
 * head is over max_bytes or has more headers than req->num_headers.
 * Pointers in *req point into buf and live as long as buf does.
 */
WSR_API enum wsr_status wsr_http_parse_request(const char *buf, size_t len, size_t max_bytes,
                                               struct wsr_http_request *req, size_t *consumed);
/* The same for a response head. */
WSR_API enum wsr_status wsr_http_parse_response(const char *buf, size_t len, size_t max_bytes,
                                                struct wsr_http_response *res, size_t *consumed);

/* Sec-WebSocket-Accept for a key: base64(SHA-1(key + GUID)), 28 chars + NUL. */
WSR_API void wsr_handshake_accept(const char *key, size_t key_len, char out[29]);
/* True if key is base64 of exactly 16 bytes (24 characters, "==" padded). */
WSR_API bool wsr_handshake_key_valid(const char *key, size_t key_len);

/* ------------------------------------------------------------------------ */
/* permessage-deflate (RFC 7692)                                             */
/* ------------------------------------------------------------------------ */

#define WSR_PMD_BITS_NO_VALUE 0xFF /* client_max_window_bits present without a value */

struct wsr_pmd_params {
	bool server_no_context_takeover;
	bool client_no_context_takeover;
	uint8_t server_max_window_bits; /* 8..15, 0 = absent */
	uint8_t client_max_window_bits; /* 8..15, 0 = absent, WSR_PMD_BITS_NO_VALUE */
};

/*
 * What a server is willing to agree to. A server accepts the first offer it
 * can satisfy (RFC 7692 section 5.1), declines offers with unknown or repeated
 * parameters or bad values.
 */
struct wsr_pmd_policy {
	bool enabled;
	bool server_no_context_takeover; /* request it even if not offered */
	bool client_no_context_takeover; /* ask the client to reset its context */
	uint8_t server_max_window_bits;  /* our compressor's window, 8..15 (0 = 15) */
	uint8_t client_max_window_bits;  /* ask the client for at most this (0: no ask) */
};

/*
 * Parse one offer's (or answer's) parameters: value is one element of
 * Sec-WebSocket-Extensions, e.g. "permessage-deflate; client_max_window_bits".
 * Returns WSR_OK, or WSR_EXTENSION_PARAMS on unknown/duplicate parameters or
 * bad values (window bits outside 8..15, quoted-string forms are unquoted first).
 * Sets *is_pmd false (and returns WSR_OK) if the element names another extension.
 */
WSR_API enum wsr_status wsr_pmd_parse(const char *value, size_t len, bool *is_pmd,
                                      struct wsr_pmd_params *p);

/*
 * Server: walk every Sec-WebSocket-Extensions header value given (comma-separated
 * offers, in order) and agree to the first acceptable permessage-deflate offer.
 * Returns WSR_OK with *accepted true and *agreed filled, or *accepted false
 * if none is acceptable (the connection proceeds uncompressed).
 */
WSR_API enum wsr_status wsr_pmd_negotiate(const struct wsr_http_header *values, size_t n,
                                          const struct wsr_pmd_policy *policy, bool *accepted,
                                          struct wsr_pmd_params *agreed);

/*
 * Client: check a server's answer against what we offered. WSR_OK fills
 * *agreed; WSR_EXTENSION_PARAMS if the answer is invalid or was not allowed
 * by the offer (the client must fail the connection).
 */
WSR_API enum wsr_status wsr_pmd_check_answer(const char *value, size_t len,
                                             const struct wsr_pmd_params *offered,
                                             struct wsr_pmd_params *agreed);

/* Format params as an extension element ("permessage-deflate; ..."). Returns
 * the length written (NUL-terminated), or 0 if cap is too small. */
WSR_API size_t wsr_pmd_format(const struct wsr_pmd_params *p, char *out, size_t cap);

/* ------------------------------------------------------------------------ */
/* Allocator and limits                                                      */
/* ------------------------------------------------------------------------ */

/*
 * All memory the library holds comes from here. NULL functions mean the C
 * library's malloc/realloc/free. `free` and `realloc` get the old size.
 */
struct wsr_allocator {
	void *(*alloc)(void *ctx, size_t size);
	void *(*realloc)(void *ctx, void *ptr, size_t old_size, size_t new_size);
	void (*free)(void *ctx, void *ptr, size_t size);
	void *ctx;
};

/* 0 in any field means the default given beside it. */
struct wsr_limits {
	uint64_t max_frame;      /* payload bytes of one frame (default 64 MiB) */
	uint64_t max_message;    /* bytes of one message after inflation (default 64 MiB) */
	uint64_t max_inflate;    /* inflated bytes of one message (default max_message) */
	size_t max_header_bytes; /* opening-handshake head (default 8192) */
	size_t max_headers;      /* header lines (default 64) */
	size_t max_output; /* queued output bytes before sends fail with NOMEM (default 64 MiB + 64
	                      KiB) */
};

/* ------------------------------------------------------------------------ */
/* Deflate streams (RFC 7692 section 7.2), usable on their own                */
/* ------------------------------------------------------------------------ */

struct wsr_pmd; /* compression state of one connection: opaque */

/* Receives output in pieces; return WSR_OK to continue or any status to stop. */
typedef enum wsr_status (*wsr_sink_fn)(void *ctx, const uint8_t *p, size_t n);

enum wsr_role { WSR_ROLE_SERVER = 0, WSR_ROLE_CLIENT = 1 };

/*
 * Create compression state for the agreed params in the given role (the
 * role decides which window/takeover parameters apply to our compressor and
 * which to our decompressor). zlib refuses a raw window of 8 for deflate, so
 * a compressor agreed at 8 runs at 9; zlib's matches then reach back at most
 * 250 bytes, so the output still decodes with a 256-byte window. *out is owned
 * by the caller and released with wsr_pmd_free. Memory comes from alloc: the
 * caller's functions are used only when both alloc and free are set, and
 * realloc is never called.
 */
WSR_API enum wsr_status wsr_pmd_new(struct wsr_pmd **out, const struct wsr_allocator *alloc,
                                    const struct wsr_pmd_params *agreed, enum wsr_role role);
WSR_API void wsr_pmd_free(struct wsr_pmd *pmd);

/*
 * Decompress the next piece of a compressed message's payload. Call with
 * fin=true once, for the final piece (it may be empty); the 00 00 ff ff tail
 * is appended then. Output goes to sink in pieces of at most 16 KiB; once the
 * message's total output would pass cap, returns WSR_INFLATE_TOO_BIG without
 * producing more (memory stays bounded whatever the input). Corrupt input:
 * WSR_INFLATE_FAILED. Context is reset at message end when takeover is off.
 * Errors, including a status returned by the sink, are sticky; output produced
 * before an error may already have reached the sink. A message must end on a
 * deflate block boundary; data after a final (BFINAL) block starts a new
 * stream that keeps the window when context takeover is on. The verdict and
 * output do not depend on how a message is split into pieces: the
 * decompressor runs with a 32 KiB window whatever window was agreed, since
 * zlib cannot hold a smaller one consistently (a peer that reaches back
 * further than it agreed is not detected).
 */
WSR_API enum wsr_status wsr_pmd_inflate(struct wsr_pmd *pmd, const uint8_t *in, size_t len,
                                        bool fin, uint64_t cap, wsr_sink_fn sink, void *ctx);

/*
 * Compress a whole message. The output (without the 00 00 ff ff tail) goes to
 * sink in pieces.
 */
WSR_API enum wsr_status wsr_pmd_deflate(struct wsr_pmd *pmd, const uint8_t *in, size_t len,
                                        wsr_sink_fn sink, void *ctx);

/* ------------------------------------------------------------------------ */
/* Connections                                                               */
/* ------------------------------------------------------------------------ */

struct wsr_config {
	enum wsr_role role;
	struct wsr_limits limits;
	struct wsr_allocator alloc;
	/* server: what to accept; client: offer built from it when enabled */
	struct wsr_pmd_policy deflate;
	/* subprotocols we support, most preferred first; NULL/0 for none */
	const char *const *subprotocols;
	size_t num_subprotocols;
	/* server: allowed Origin values (exact, case-sensitive match); NULL/0: any origin.
	 * With a list, a request without Origin (not a browser) is accepted; a
	 * different or repeated Origin gets 403. */
	const char *const *allowed_origins;
	size_t num_allowed_origins;
	/* client: request target (NULL: "/") and Host value (required), e.g. "/chat",
	 * "127.0.0.1:9001" */
	const char *path;
	const char *host;
	const char *origin; /* client: Origin to send, or NULL */
	/* fills buf with n random bytes (masks, keys); NULL: OpenSSL RAND_bytes */
	void (*random)(void *ctx, uint8_t *buf, size_t n);
	void *random_ctx;
	/* deliver data as WSR_EV_FRAGMENT pieces instead of whole messages */
	bool streaming;
};

enum wsr_state {
	WSR_STATE_HANDSHAKE = 0, /* opening handshake in progress */
	WSR_STATE_OPEN,
	WSR_STATE_CLOSING, /* we sent Close, waiting for the peer's */
	WSR_STATE_CLOSED,  /* both Close frames exchanged: close TCP */
	WSR_STATE_FAILED   /* failed; flush output, then close TCP */
};

enum wsr_event_type {
	WSR_EV_OPEN = 1, /* handshake done; the connection is open */
	WSR_EV_MESSAGE,  /* complete message: opcode, data, len */
	WSR_EV_FRAGMENT, /* streaming only: a piece of a message; fin on the last */
	WSR_EV_PING,     /* a pong is already queued unless auto_pong is off */
	WSR_EV_PONG,
	WSR_EV_CLOSE, /* the peer's Close: code (1005 if none), reason */
	WSR_EV_FAIL   /* the connection failed: status, code sent (0 if none) */
};

/*
 * One event. data/reason point into the connection's memory and stay valid
 * until the next call of any wsr_conn_* function on this connection.
 */
struct wsr_event {
	enum wsr_event_type type;
	enum wsr_opcode opcode; /* MESSAGE, FRAGMENT: TEXT or BINARY */
	bool fin;               /* FRAGMENT: last piece of the message */
	const uint8_t *data;
	size_t len;
	uint16_t code;          /* CLOSE: the peer's code; FAIL: code we sent */
	enum wsr_status status; /* FAIL: why */
	int http_status;        /* FAIL in the handshake: status we answered (server) */
};

struct wsr_conn; /* opaque; the caller allocates wsr_conn_size() bytes */

/* Bytes the caller must allocate (suitably aligned, e.g. by malloc) for one connection. */
WSR_API size_t wsr_conn_size(void);

/*
 * Initialise a connection in caller-owned memory. The config is copied
 * (strings it points to must outlive the connection). A client queues its
 * upgrade request at once. Returns WSR_OK, WSR_INVALID_ARGUMENT (bad role,
 * window bits outside 8..15, client without host, an allocator with only
 * some of its functions) or WSR_NOMEM / WSR_RANDOM_FAILED. After a failed
 * init, wsr_conn_free is harmless and every other call reports the failure.
 */
WSR_API enum wsr_status wsr_conn_init(struct wsr_conn *c, const struct wsr_config *cfg);
/* Release everything the connection allocated. c itself stays the caller's. */
WSR_API void wsr_conn_free(struct wsr_conn *c);

/*
 * Feed bytes read from the peer. Consumes input until an event is waiting to
 * be pulled, the input is exhausted, or the connection is closed or failed;
 * returns the bytes consumed. Unconsumed bytes must be fed again after the
 * waiting events are pulled. In particular the opening handshake consumes
 * exactly the HTTP head: frames that arrived in the same read come back
 * unconsumed, after WSR_EV_OPEN (both roles emit OPEN). Once the connection
 * is CLOSED or FAILED, input is discarded and reported consumed (returns len).
 * So a return of 0 with len > 0 means an event is waiting: pull it first.
 */
WSR_API size_t wsr_conn_recv(struct wsr_conn *c, const uint8_t *data, size_t len);

/*
 * Pull the next event. WSR_OK: *ev is filled. WSR_AGAIN: nothing waiting.
 * Once failed and the FAIL event was pulled, returns the failure status;
 * once CLOSED and every event was pulled, WSR_CLOSED.
 */
WSR_API enum wsr_status wsr_conn_next_event(struct wsr_conn *c, struct wsr_event *ev);

/*
 * Queued output. Returns a pointer to *len bytes to write to the peer: all
 * the output queued so far, in one contiguous block (so *len is the queue's
 * size, usable for backpressure); valid until the next wsr_conn_* call. Tell
 * how many were written with out_ack.
 */
WSR_API const uint8_t *wsr_conn_out_buf(struct wsr_conn *c, size_t *len);
WSR_API void wsr_conn_out_ack(struct wsr_conn *c, size_t n);

/*
 * Queue a whole message as one frame (compressed if negotiated). TEXT must be
 * valid UTF-8 (else WSR_INVALID_ARGUMENT). WSR_NOMEM when the output queue
 * would pass max_output: nothing was queued, flush and retry. After our Close:
 * WSR_CLOSED; before OPEN: WSR_BAD_STATE; failed: the failure status.
 * A compression failure fails the connection (the compressor state moved on).
 * data may point into the last event pulled from this connection, so a
 * message can be echoed without copying it first.
 */
WSR_API enum wsr_status wsr_conn_send(struct wsr_conn *c, enum wsr_opcode op, const uint8_t *data,
                                      size_t len);
/* Queue a ping or pong (len <= 125). */
WSR_API enum wsr_status wsr_conn_ping(struct wsr_conn *c, const uint8_t *data, size_t len);
WSR_API enum wsr_status wsr_conn_pong(struct wsr_conn *c, const uint8_t *data, size_t len);
/* Start the closing handshake (code valid on the wire or 0 for none; reason <= 123 bytes UTF-8). */
WSR_API enum wsr_status wsr_conn_close(struct wsr_conn *c, uint16_t code, const char *reason,
                                       size_t reason_len);

WSR_API enum wsr_state wsr_conn_state(const struct wsr_conn *c);
/* True when the caller should close TCP once the output is flushed (CLOSED or FAILED). */
WSR_API bool wsr_conn_done(const struct wsr_conn *c);
/* The agreed subprotocol ("" if none) and permessage-deflate params (false if none). */
WSR_API const char *wsr_conn_subprotocol(const struct wsr_conn *c);
WSR_API bool wsr_conn_deflate(const struct wsr_conn *c, struct wsr_pmd_params *p);

#ifdef __cplusplus
}
#endif
#endif /* WSREF_H */
