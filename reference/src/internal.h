/*
 * internal.h - helpers shared between libwsref's own source files.
 * Not installed; nothing outside reference/src includes it.
 */
#ifndef WSREF_INTERNAL_H
#define WSREF_INTERNAL_H

#include <wsref/wsref.h>

#define WSR_INTERNAL __attribute__((visibility("hidden")))

/* The GUID of RFC 6455 section 1.3, appended to the key before hashing. */
#define WSR_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

/* ASCII case-insensitive comparison of a counted string with a C string. */
WSR_INTERNAL bool wsr__ieq(const char *a, size_t alen, const char *b);

/*
 * True if the comma-separated token list `list` (one header value) contains
 * `token` (ASCII case-insensitive). Elements are trimmed of spaces/tabs;
 * parameters after ';' are not part of the token.
 */
WSR_INTERNAL bool wsr__list_has_token(const char *list, size_t len, const char *token);

/*
 * An HTTP/1.x head being judged a piece at a time (http.c). The caller keeps
 * the head's bytes from its start in one buffer (it may move between calls,
 * the bytes may not change) and calls wsr__http_scan() each time more have
 * arrived: each byte is looked at once. Positions are offsets into the head.
 */
struct wsr__http_scan {
	size_t pos;     /* bytes judged so far */
	size_t headers; /* header lines completed */
	size_t method_len, target, target_len;
	size_t reason, reason_len;
	size_t name, name_len, value; /* the header line being read */
	int minor, status;
	uint8_t state, aux;
};

/* Start judging a request head (response false) or a response head. */
WSR_INTERNAL void wsr__http_scan_init(struct wsr__http_scan *s, bool response);

/*
 * Judge buf[s->pos, len) as the continuation of the head in buf[0, len).
 * Returns WSR_OK with *consumed = the head's length (the empty line
 * included), WSR_AGAIN, WSR_HS_MALFORMED, or WSR_HS_TOO_LARGE (over
 * max_bytes, or more than max_headers header lines): exactly what
 * wsr_http_parse_request/response say about buf[0, len). hdrs, if not NULL,
 * receives each header line as it ends (max_headers entries at most), with
 * pointers into buf: only meaningful when buf did not move between calls.
 * Once a verdict other than AGAIN has come, it is not called again.
 */
WSR_INTERNAL enum wsr_status wsr__http_scan(struct wsr__http_scan *s, const char *buf, size_t len,
                                            size_t max_bytes, size_t max_headers,
                                            struct wsr_http_header *hdrs, size_t *consumed);

/* What the server's request check found. Pointers point into the request or config. */
struct wsr__hs_accepted {
	const char *key; /* the Sec-WebSocket-Key value, as sent */
	size_t key_len;
	const char *subprotocol; /* from cfg->subprotocols, or NULL */
	bool deflate;
	struct wsr_pmd_params pmd;
};

/*
 * Server: judge an upgrade request per RFC 6455 section 4.2.1 and the config
 * (Origin policy, subprotocols, permessage-deflate). Returns WSR_OK or the
 * HS_* / EXTENSION_PARAMS status to answer with.
 */
WSR_INTERNAL enum wsr_status wsr__hs_check_request(const struct wsr_http_request *req,
                                                   const struct wsr_config *cfg,
                                                   struct wsr__hs_accepted *acc);

/*
 * Server: write the 101 response for acc into out (snprintf semantics: returns
 * the length the whole response needs, writes at most cap bytes, no NUL).
 */
WSR_INTERNAL size_t wsr__hs_build_response(char *out, size_t cap,
                                           const struct wsr__hs_accepted *acc);

/* Server: the error response for a handshake status (400/403/405/426/431/500). */
WSR_INTERNAL size_t wsr__hs_build_error(char *out, size_t cap, enum wsr_status st);

/* Client: the offer the policy asks for. */
WSR_INTERNAL void wsr__hs_client_offer(const struct wsr_pmd_policy *pol,
                                       struct wsr_pmd_params *offered);

/*
 * Client: write the upgrade request (snprintf semantics, no NUL). key is the
 * 24-char base64 key.
 */
WSR_INTERNAL size_t wsr__hs_build_request(char *out, size_t cap, const struct wsr_config *cfg,
                                          const char key[25]);

/* Client: make a fresh key from 16 random bytes. */
WSR_INTERNAL void wsr__hs_make_key(const uint8_t rnd[16], char key[25]);

/*
 * Client: judge the server's response. On WSR_OK *subprotocol is one of
 * cfg->subprotocols or NULL, *deflate and *pmd tell what was agreed.
 */
WSR_INTERNAL enum wsr_status
wsr__hs_check_response(const struct wsr_http_response *res, const struct wsr_config *cfg,
                       const char key[25], const struct wsr_pmd_params *offered,
                       const char **subprotocol, bool *deflate, struct wsr_pmd_params *pmd);

#endif
