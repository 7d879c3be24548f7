/*
 * handshake.c - the opening handshake (RFC 6455 section 4): key and accept
 * values, the server's judgement of a request, the client's judgement of a
 * response, and the heads both sides write. SHA-1 and base64 come from
 * OpenSSL. Nothing here allocates.
 */
#include <wsref/wsref.h>

#include "internal.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

static char lower(char ch)
{
	return (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
}

bool wsr__ieq(const char *a, size_t alen, const char *b)
{
	size_t blen = strlen(b);
	if (alen != blen)
		return false;
	for (size_t i = 0; i < alen; i++)
		if (lower(a[i]) != lower(b[i]))
			return false;
	return true;
}

static bool ows(char ch)
{
	return ch == ' ' || ch == '\t';
}

/*
 * Walk the elements of a comma-separated list: *pos is the cursor. Returns
 * false at the end; otherwise the element (trimmed, without ";params" when
 * cut_params) is [*el, *el + *el_len). Empty elements are skipped.
 */
static bool list_next(const char *list, size_t len, size_t *pos, bool cut_params, const char **el,
                      size_t *el_len)
{
	while (*pos < len) {
		size_t s = *pos, e = s;
		while (e < len && list[e] != ',')
			e++;
		*pos = e < len ? e + 1 : e;
		size_t te = e;
		if (cut_params) {
			for (size_t k = s; k < e; k++) {
				if (list[k] == ';') {
					te = k;
					break;
				}
			}
		}
		while (s < te && ows(list[s]))
			s++;
		while (te > s && ows(list[te - 1]))
			te--;
		if (te > s) {
			*el = list + s;
			*el_len = te - s;
			return true;
		}
	}
	return false;
}

bool wsr__list_has_token(const char *list, size_t len, const char *token)
{
	size_t pos = 0, n;
	const char *el;
	while (list_next(list, len, &pos, true, &el, &n))
		if (wsr__ieq(el, n, token))
			return true;
	return false;
}

void wsr_handshake_accept(const char *key, size_t key_len, char out[29])
{
	static const char guid[] = WSR_GUID;
	uint8_t digest[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	bool ok = md && EVP_DigestInit_ex(md, EVP_sha1(), NULL) == 1 &&
	          EVP_DigestUpdate(md, key, key_len) == 1 &&
#ifndef WSR_PLANTED_BUG_HS_BAD_ACCEPT
	          EVP_DigestUpdate(md, guid, sizeof guid - 1) == 1 &&
#endif
	          EVP_DigestFinal_ex(md, digest, &dlen) == 1 && dlen == 20;
	(void)guid;
	EVP_MD_CTX_free(md);
	if (!ok) {
		/* Cannot happen short of a broken libcrypto; never match a real accept. */
		memset(out, 0, 29);
		return;
	}
	EVP_EncodeBlock((unsigned char *)out, digest, 20);
	out[28] = '\0';
}

static bool b64_char(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	       ch == '+' || ch == '/';
}

bool wsr_handshake_key_valid(const char *key, size_t key_len)
{
	/* 16 bytes are 22 base64 characters and "==" of padding. */
	if (!key || key_len != 24 || key[22] != '=' || key[23] != '=')
		return false;
	for (size_t i = 0; i < 22; i++)
		if (!b64_char(key[i]))
			return false;
	/* EVP_DecodeBlock counts padding as zero bytes: 24 chars give 18. */
	unsigned char raw[18];
	return EVP_DecodeBlock(raw, (const unsigned char *)key, 24) == 18;
}

void wsr__hs_make_key(const uint8_t rnd[16], char key[25])
{
	EVP_EncodeBlock((unsigned char *)key, rnd, 16);
	key[24] = '\0';
}

/* ------------------------------------------------------------------------ */
/* Server side                                                               */
/* ------------------------------------------------------------------------ */

/* Find the only header called name: 0 found none, 1 one (*h set), 2 more. */
static int find_one(const struct wsr_http_header *hs, size_t n, const char *name,
                    const struct wsr_http_header **h)
{
	int found = 0;
	for (size_t i = 0; i < n; i++) {
		if (wsr__ieq(hs[i].name, hs[i].name_len, name)) {
			if (found++)
				return 2;
			*h = &hs[i];
		}
	}
	return found;
}

/* Any header called name has token in its list. */
static bool any_has_token(const struct wsr_http_header *hs, size_t n, const char *name,
                          const char *token)
{
	for (size_t i = 0; i < n; i++)
		if (wsr__ieq(hs[i].name, hs[i].name_len, name) &&
		    wsr__list_has_token(hs[i].value, hs[i].value_len, token))
			return true;
	return false;
}

static bool eq_exact(const char *a, size_t alen, const char *b)
{
	return strlen(b) == alen && memcmp(a, b, alen) == 0;
}

enum wsr_status wsr__hs_check_request(const struct wsr_http_request *req,
                                      const struct wsr_config *cfg, struct wsr__hs_accepted *acc)
{
	const struct wsr_http_header *hs = req->headers, *h = NULL;
	size_t n = req->num_headers;
	memset(acc, 0, sizeof *acc);

	if (!eq_exact(req->method, req->method_len, "GET"))
		return WSR_HS_METHOD;
	if (req->version_minor < 1)
		return WSR_HS_HTTP_VERSION;
	if (find_one(hs, n, "Host", &h) != 1)
		return WSR_HS_MISSING_HOST;
	if (!any_has_token(hs, n, "Upgrade", "websocket") ||
	    !any_has_token(hs, n, "Connection", "upgrade"))
		return WSR_HS_NOT_UPGRADE;

	switch (find_one(hs, n, "Sec-WebSocket-Key", &h)) {
	case 0:
		return WSR_HS_BAD_KEY;
	case 2:
		return WSR_HS_DUPLICATE_HEADER;
	}
#ifndef WSR_PLANTED_BUG_HS_KEY_UNCHECKED
	if (!wsr_handshake_key_valid(h->value, h->value_len))
		return WSR_HS_BAD_KEY;
#endif
	acc->key = h->value;
	acc->key_len = h->value_len;

	switch (find_one(hs, n, "Sec-WebSocket-Version", &h)) {
	case 0:
		return WSR_HS_BAD_VERSION;
	case 2:
		return WSR_HS_DUPLICATE_HEADER;
	}
#ifndef WSR_PLANTED_BUG_HS_VERSION_ANY
	if (!eq_exact(h->value, h->value_len, "13"))
		return WSR_HS_BAD_VERSION;
#endif

	if (cfg->num_allowed_origins) {
		switch (find_one(hs, n, "Origin", &h)) {
		case 0:
			break; /* not a browser: no cross-site risk */
		case 2:
			return WSR_HS_FORBIDDEN_ORIGIN;
		default: {
			bool ok = false;
			for (size_t i = 0; i < cfg->num_allowed_origins && !ok; i++)
				ok = cfg->allowed_origins[i] &&
				     eq_exact(h->value, h->value_len, cfg->allowed_origins[i]);
			if (!ok)
				return WSR_HS_FORBIDDEN_ORIGIN;
		}
		}
	}

	/* Subprotocol: the first of ours the client offered. */
	for (size_t i = 0; i < cfg->num_subprotocols && !acc->subprotocol; i++) {
		const char *ours = cfg->subprotocols[i];
		for (size_t k = 0; ours && k < n && !acc->subprotocol; k++) {
			if (!wsr__ieq(hs[k].name, hs[k].name_len, "Sec-WebSocket-Protocol"))
				continue;
			size_t pos = 0, el_len;
			const char *el;
			while (list_next(hs[k].value, hs[k].value_len, &pos, false, &el, &el_len))
				if (eq_exact(el, el_len, ours)) {
					acc->subprotocol = ours;
					break;
				}
		}
	}

	if (cfg->deflate.enabled) {
		/* Collect the extension headers (they are in order) without allocating. */
		struct wsr_http_header ext[16];
		size_t ne = 0;
		for (size_t i = 0; i < n; i++) {
			if (!wsr__ieq(hs[i].name, hs[i].name_len, "Sec-WebSocket-Extensions"))
				continue;
			if (ne == sizeof ext / sizeof ext[0])
				return WSR_HS_TOO_LARGE;
			ext[ne++] = hs[i];
		}
		if (ne) {
			enum wsr_status st =
			        wsr_pmd_negotiate(ext, ne, &cfg->deflate, &acc->deflate, &acc->pmd);
			if (st != WSR_OK)
				return st;
		}
	}
	return WSR_OK;
}

/* Append with snprintf semantics: *len grows by what is needed, writes what fits. */
static void put(char *out, size_t cap, size_t *len, const char *s, size_t n)
{
	if (*len < cap)
		memcpy(out + *len, s, *len + n <= cap ? n : cap - *len);
	*len += n;
}

static void puts_(char *out, size_t cap, size_t *len, const char *s)
{
	put(out, cap, len, s, strlen(s));
}

size_t wsr__hs_build_response(char *out, size_t cap, const struct wsr__hs_accepted *acc)
{
	char accept[29];
	size_t len = 0;
	wsr_handshake_accept(acc->key, acc->key_len, accept);
	puts_(out, cap, &len,
	      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
	      "Sec-WebSocket-Accept: ");
	puts_(out, cap, &len, accept);
	puts_(out, cap, &len, "\r\n");
	if (acc->subprotocol) {
		puts_(out, cap, &len, "Sec-WebSocket-Protocol: ");
		puts_(out, cap, &len, acc->subprotocol);
		puts_(out, cap, &len, "\r\n");
	}
	if (acc->deflate) {
		char ext[160];
		size_t n = wsr_pmd_format(&acc->pmd, ext, sizeof ext);
		puts_(out, cap, &len, "Sec-WebSocket-Extensions: ");
		put(out, cap, &len, ext, n);
		puts_(out, cap, &len, "\r\n");
	}
	puts_(out, cap, &len, "\r\n");
	return len;
}

static const char *reason_phrase(int code)
{
	switch (code) {
	case 400:
		return "Bad Request";
	case 403:
		return "Forbidden";
	case 405:
		return "Method Not Allowed";
	case 426:
		return "Upgrade Required";
	case 431:
		return "Request Header Fields Too Large";
	default:
		return "Internal Server Error";
	}
}

size_t wsr__hs_build_error(char *out, size_t cap, enum wsr_status st)
{
	int code = wsr_status_http(st);
	if (code == 0)
		code = 400;
	char line[96];
	size_t len = 0;
	snprintf(line, sizeof line, "HTTP/1.1 %d %s\r\n", code, reason_phrase(code));
	puts_(out, cap, &len, line);
	if (code == 426)
		puts_(out, cap, &len, "Sec-WebSocket-Version: 13\r\n");
	if (code == 405)
		puts_(out, cap, &len, "Allow: GET\r\n");
	puts_(out, cap, &len, "Content-Length: 0\r\nConnection: close\r\n\r\n");
	return len;
}

/* ------------------------------------------------------------------------ */
/* Client side                                                               */
/* ------------------------------------------------------------------------ */

void wsr__hs_client_offer(const struct wsr_pmd_policy *pol, struct wsr_pmd_params *offered)
{
	memset(offered, 0, sizeof *offered);
	offered->server_no_context_takeover = pol->server_no_context_takeover;
	offered->client_no_context_takeover = pol->client_no_context_takeover;
	offered->server_max_window_bits = pol->server_max_window_bits;
	/* Always say we can honour a window limit; a value when the policy asks for one. */
	offered->client_max_window_bits =
	        pol->client_max_window_bits ? pol->client_max_window_bits : WSR_PMD_BITS_NO_VALUE;
}

size_t wsr__hs_build_request(char *out, size_t cap, const struct wsr_config *cfg,
                             const char key[25])
{
	size_t len = 0;
	puts_(out, cap, &len, "GET ");
	puts_(out, cap, &len, cfg->path && *cfg->path ? cfg->path : "/");
	puts_(out, cap, &len, " HTTP/1.1\r\nHost: ");
	puts_(out, cap, &len, cfg->host ? cfg->host : "localhost");
	puts_(out, cap, &len,
	      "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ");
	puts_(out, cap, &len, key);
	puts_(out, cap, &len, "\r\nSec-WebSocket-Version: 13\r\n");
	if (cfg->origin) {
		puts_(out, cap, &len, "Origin: ");
		puts_(out, cap, &len, cfg->origin);
		puts_(out, cap, &len, "\r\n");
	}
	if (cfg->num_subprotocols) {
		puts_(out, cap, &len, "Sec-WebSocket-Protocol: ");
		for (size_t i = 0; i < cfg->num_subprotocols; i++) {
			if (i)
				puts_(out, cap, &len, ", ");
			puts_(out, cap, &len, cfg->subprotocols[i]);
		}
		puts_(out, cap, &len, "\r\n");
	}
	if (cfg->deflate.enabled) {
		struct wsr_pmd_params offered;
		char ext[160];
		wsr__hs_client_offer(&cfg->deflate, &offered);
		size_t n = wsr_pmd_format(&offered, ext, sizeof ext);
		puts_(out, cap, &len, "Sec-WebSocket-Extensions: ");
		put(out, cap, &len, ext, n);
		puts_(out, cap, &len, "\r\n");
	}
	puts_(out, cap, &len, "\r\n");
	return len;
}

enum wsr_status wsr__hs_check_response(const struct wsr_http_response *res,
                                       const struct wsr_config *cfg, const char key[25],
                                       const struct wsr_pmd_params *offered,
                                       const char **subprotocol, bool *deflate,
                                       struct wsr_pmd_params *pmd)
{
	const struct wsr_http_header *hs = res->headers, *h = NULL;
	size_t n = res->num_headers;
	*subprotocol = NULL;
	*deflate = false;
	memset(pmd, 0, sizeof *pmd);

	if (res->status != 101)
		return WSR_HS_BAD_STATUS;
	if (!any_has_token(hs, n, "Upgrade", "websocket") ||
	    !any_has_token(hs, n, "Connection", "upgrade"))
		return WSR_HS_NOT_UPGRADE;
	char want[29];
	wsr_handshake_accept(key, 24, want);
	if (find_one(hs, n, "Sec-WebSocket-Accept", &h) != 1 ||
	    !eq_exact(h->value, h->value_len, want))
		return WSR_HS_BAD_ACCEPT;

	/* Extensions: only permessage-deflate, only if offered, only once. */
	for (size_t i = 0; i < n; i++) {
		if (!wsr__ieq(hs[i].name, hs[i].name_len, "Sec-WebSocket-Extensions"))
			continue;
		size_t pos = 0, el_len;
		const char *el;
		while (list_next(hs[i].value, hs[i].value_len, &pos, false, &el, &el_len)) {
			if (!cfg->deflate.enabled || *deflate)
				return WSR_HS_UNSOLICITED_EXTENSION;
			bool is_pmd = false;
			struct wsr_pmd_params tmp;
			if (wsr_pmd_parse(el, el_len, &is_pmd, &tmp) == WSR_OK && !is_pmd)
				return WSR_HS_UNSOLICITED_EXTENSION;
			enum wsr_status st = wsr_pmd_check_answer(el, el_len, offered, pmd);
			if (st != WSR_OK)
				return st;
			*deflate = true;
		}
	}

	/* Subprotocol: at most one, and one we offered. */
	switch (find_one(hs, n, "Sec-WebSocket-Protocol", &h)) {
	case 0:
		break;
	case 2:
		return WSR_HS_UNSOLICITED_PROTOCOL;
	default:
		for (size_t i = 0; i < cfg->num_subprotocols; i++)
			if (cfg->subprotocols[i] &&
			    eq_exact(h->value, h->value_len, cfg->subprotocols[i]))
				*subprotocol = cfg->subprotocols[i];
		if (!*subprotocol)
			return WSR_HS_UNSOLICITED_PROTOCOL;
	}
	return WSR_OK;
}
