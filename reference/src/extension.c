/*
 * extension.c - permessage-deflate negotiation (RFC 7692 section 7.1).
 *
 * Grammar (RFC 6455 section 9.1, with the implied optional whitespace):
 *   extension-list  = 1#extension
 *   extension       = extension-token *( ";" extension-param )
 *   extension-param = token [ "=" ( token / quoted-string ) ]
 * A quoted-string value is unescaped first and must then be a token
 * (RFC 6455 section 9.1), here: a window size.
 *
 * Decisions (the RFC leaves them open):
 *   - The extension name and parameter names are compared exactly
 *     (case-sensitive), as most implementations do.
 *   - Window sizes are 1*DIGIT without leading zeros, 8..15 (RFC 7692
 *     section 7.1.2.1); anything else makes the element invalid.
 *   - A server accepts the first permessage-deflate offer that parses; every
 *     valid offer can be honoured (window 8 included, see deflate.c), so only
 *     malformed offers are declined.
 *   - wsr_pmd_negotiate() takes header lines: a line whose name is set and is
 *     not Sec-WebSocket-Extensions (case-insensitive) is skipped, so callers
 *     may pass either only the extension lines or every header line.
 * Nothing here allocates.
 */
#include <string.h>

#include "wsref/wsref.h"

#define PMD_NAME "permessage-deflate"

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* tchar (RFC 7230 section 3.2.6) */
static bool is_tchar(char c)
{
	unsigned char u = (unsigned char)c;
	if ((u >= '0' && u <= '9') || (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z'))
		return true;
	return u != 0 && strchr("!#$%&'*+-.^_`|~", u) != NULL;
}

static bool span_eq(const char *p, size_t n, const char *lit)
{
	size_t l = strlen(lit);
	return n == l && memcmp(p, lit, l) == 0;
}

static bool span_eq_nocase(const char *p, size_t n, const char *lit)
{
	size_t l = strlen(lit);
	if (n != l)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char a = (unsigned char)p[i], b = (unsigned char)lit[i];
		if (a >= 'A' && a <= 'Z')
			a = (unsigned char)(a - 'A' + 'a');
		if (b >= 'A' && b <= 'Z')
			b = (unsigned char)(b - 'A' + 'a');
		if (a != b)
			return false;
	}
	return true;
}

struct cursor {
	const char *p;
	size_t len;
	size_t i;
};

static void skip_ows(struct cursor *c)
{
	while (c->i < c->len && is_ows(c->p[c->i]))
		c->i++;
}

/* Reads a token; returns its length (0: none). */
static size_t read_token(struct cursor *c, const char **tok)
{
	size_t start = c->i;
	while (c->i < c->len && is_tchar(c->p[c->i]))
		c->i++;
	*tok = c->p + start;
	return c->i - start;
}

/*
 * Reads a parameter value (token or quoted-string) into out (unescaped).
 * Returns false on a syntax error. A value longer than cap is truncated but
 * its full length is reported in *n, so the caller can reject it.
 */
static bool read_value(struct cursor *c, char *out, size_t cap, size_t *n)
{
	*n = 0;
	if (c->i < c->len && c->p[c->i] == '"') {
		c->i++;
		for (;;) {
			if (c->i >= c->len)
				return false; /* unterminated */
			char ch = c->p[c->i++];
			if (ch == '"')
				break;
			if (ch == '\\') {
				if (c->i >= c->len)
					return false;
				ch = c->p[c->i++];
			}
			/* qdtext / quoted-pair: HTAB, SP, VCHAR, obs-text; no CTLs */
			unsigned char u = (unsigned char)ch;
			if ((u < 0x20 && u != '\t') || u == 0x7f)
				return false;
			if (*n < cap)
				out[*n] = ch;
			(*n)++;
		}
		return true;
	}
	const char *tok;
	size_t tl = read_token(c, &tok);
	if (tl == 0)
		return false;
	for (size_t k = 0; k < tl; k++) {
		if (*n < cap)
			out[*n] = tok[k];
		(*n)++;
	}
	return true;
}

/* 1*DIGIT, no leading zero, 8..15. Returns 0 when invalid. */
static uint8_t window_value(const char *v, size_t n)
{
	if (n == 0 || n > 2)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (v[i] < '0' || v[i] > '9')
			return 0;
	if (n == 2 && v[0] == '0')
		return 0;
	unsigned x = n == 1 ? (unsigned)(v[0] - '0')
	                    : (unsigned)(v[0] - '0') * 10u + (unsigned)(v[1] - '0');
	if (x < 8 || x > 15)
		return 0;
	return (uint8_t)x;
}

/*
 * Parse one element. `lenient_values` is only ever true in the planted-bug
 * build PMD_ACCEPT_BAD_PARAMS: a bad window value is then taken as 15.
 */
static enum wsr_status parse_element(const char *value, size_t len, bool *is_pmd,
                                     struct wsr_pmd_params *p, bool lenient_values)
{
	struct cursor c = {value, len, 0};
	const char *tok;
	bool seen_snct = false, seen_cnct = false, seen_smwb = false, seen_cmwb = false;

	memset(p, 0, sizeof(*p));
	*is_pmd = false;
	skip_ows(&c);
	size_t tl = read_token(&c, &tok);
	if (tl == 0)
		return WSR_EXTENSION_PARAMS;
	if (!span_eq(tok, tl, PMD_NAME))
		return WSR_OK; /* another extension: not ours to judge */
	*is_pmd = true;

	for (;;) {
		skip_ows(&c);
		if (c.i == c.len)
			return WSR_OK;
		if (c.p[c.i] != ';')
			return WSR_EXTENSION_PARAMS;
		c.i++;
		skip_ows(&c);
		const char *name;
		size_t nl = read_token(&c, &name);
		if (nl == 0)
			return WSR_EXTENSION_PARAMS;
		skip_ows(&c);
		bool has_value = false;
		char val[8];
		size_t vl = 0;
		if (c.i < c.len && c.p[c.i] == '=') {
			c.i++;
			skip_ows(&c);
			if (!read_value(&c, val, sizeof(val), &vl))
				return WSR_EXTENSION_PARAMS;
			has_value = true;
		}

		if (span_eq(name, nl, "server_no_context_takeover")) {
			if (seen_snct || has_value)
				return WSR_EXTENSION_PARAMS;
			seen_snct = true;
			p->server_no_context_takeover = true;
		} else if (span_eq(name, nl, "client_no_context_takeover")) {
			if (seen_cnct || has_value)
				return WSR_EXTENSION_PARAMS;
			seen_cnct = true;
			p->client_no_context_takeover = true;
		} else if (span_eq(name, nl, "server_max_window_bits")) {
			if (seen_smwb || !has_value)
				return WSR_EXTENSION_PARAMS;
			seen_smwb = true;
			uint8_t w = window_value(val, vl);
			if (w == 0 && lenient_values)
				w = 15;
			if (w == 0)
				return WSR_EXTENSION_PARAMS;
			p->server_max_window_bits = w;
		} else if (span_eq(name, nl, "client_max_window_bits")) {
			if (seen_cmwb)
				return WSR_EXTENSION_PARAMS;
			seen_cmwb = true;
			if (!has_value) {
				p->client_max_window_bits = WSR_PMD_BITS_NO_VALUE;
			} else {
				uint8_t w = window_value(val, vl);
				if (w == 0 && lenient_values)
					w = 15;
				if (w == 0)
					return WSR_EXTENSION_PARAMS;
				p->client_max_window_bits = w;
			}
		} else {
			return WSR_EXTENSION_PARAMS; /* unknown parameter */
		}
	}
}

enum wsr_status wsr_pmd_parse(const char *value, size_t len, bool *is_pmd, struct wsr_pmd_params *p)
{
	if ((value == NULL && len != 0) || is_pmd == NULL || p == NULL)
		return WSR_INVALID_ARGUMENT;
	return parse_element(value, len, is_pmd, p, false);
}

static uint8_t min_u8(uint8_t a, uint8_t b)
{
	return a < b ? a : b;
}

/* Decide the answer to one valid offer. Every valid offer is acceptable. */
static void answer_offer(const struct wsr_pmd_params *offer, const struct wsr_pmd_policy *policy,
                         struct wsr_pmd_params *agreed)
{
	uint8_t ours = policy->server_max_window_bits;
	if (ours < 8 || ours > 15)
		ours = 15;
	memset(agreed, 0, sizeof(*agreed));

	agreed->server_no_context_takeover =
	        offer->server_no_context_takeover || policy->server_no_context_takeover;
	/* The client's hint that it will not use context takeover is echoed. */
	agreed->client_no_context_takeover =
	        offer->client_no_context_takeover || policy->client_no_context_takeover;

	/* Offered: we must answer with a value <= N. Not offered: we may still
	 * announce a smaller window than the default. */
	if (offer->server_max_window_bits != 0)
		agreed->server_max_window_bits = min_u8(ours, offer->server_max_window_bits);
	else if (ours < 15)
		agreed->server_max_window_bits = ours;

	/* Only when offered; with a value, ours must not exceed it. */
	if (offer->client_max_window_bits != 0) {
		uint8_t ask = policy->client_max_window_bits;
		if (ask >= 8 && ask <= 15) {
			if (offer->client_max_window_bits != WSR_PMD_BITS_NO_VALUE)
				ask = min_u8(ask, offer->client_max_window_bits);
			agreed->client_max_window_bits = ask;
		}
	}
}

static bool is_ext_header(const struct wsr_http_header *h)
{
	if (h->name == NULL || h->name_len == 0)
		return true;
	return span_eq_nocase(h->name, h->name_len, "Sec-WebSocket-Extensions");
}

enum wsr_status wsr_pmd_negotiate(const struct wsr_http_header *values, size_t n,
                                  const struct wsr_pmd_policy *policy, bool *accepted,
                                  struct wsr_pmd_params *agreed)
{
	if ((values == NULL && n != 0) || policy == NULL || accepted == NULL || agreed == NULL)
		return WSR_INVALID_ARGUMENT;
	*accepted = false;
	memset(agreed, 0, sizeof(*agreed));
	if (!policy->enabled)
		return WSR_OK;
#ifdef WSR_PLANTED_BUG_PMD_ACCEPT_BAD_PARAMS
	const bool lenient = true;
#else
	const bool lenient = false;
#endif

	for (size_t h = 0; h < n; h++) {
		if (!is_ext_header(&values[h]))
			continue;
		const char *v = values[h].value;
		size_t vl = values[h].value_len;
		if (v == NULL)
			continue;
		size_t start = 0;
		while (start <= vl) {
			/* Find the end of this element: a comma outside a quoted-string. */
			size_t i = start;
			bool quoted = false;
			while (i < vl) {
				char ch = v[i];
				if (quoted) {
					if (ch == '\\' && i + 1 < vl)
						i++;
					else if (ch == '"')
						quoted = false;
				} else if (ch == '"') {
					quoted = true;
				} else if (ch == ',') {
					break;
				}
				i++;
			}
			/* Empty list elements (", ,") are allowed and skipped. */
			size_t a = start, b = i;
			while (a < b && is_ows(v[a]))
				a++;
			if (a < b) {
				bool is_pmd;
				struct wsr_pmd_params offer;
				if (parse_element(v + a, b - a, &is_pmd, &offer, lenient) ==
				            WSR_OK &&
				    is_pmd) {
					answer_offer(&offer, policy, agreed);
					*accepted = true;
					return WSR_OK;
				}
			}
			start = i + 1;
		}
	}
	return WSR_OK;
}

enum wsr_status wsr_pmd_check_answer(const char *value, size_t len,
                                     const struct wsr_pmd_params *offered,
                                     struct wsr_pmd_params *agreed)
{
	if ((value == NULL && len != 0) || offered == NULL || agreed == NULL)
		return WSR_INVALID_ARGUMENT;
	bool is_pmd;
	struct wsr_pmd_params a;
	memset(agreed, 0, sizeof(*agreed));
	if (parse_element(value, len, &is_pmd, &a, false) != WSR_OK || !is_pmd)
		return WSR_EXTENSION_PARAMS;

	/* 7.1.1.1: offered server_no_context_takeover must be acknowledged. */
	if (offered->server_no_context_takeover && !a.server_no_context_takeover)
		return WSR_EXTENSION_PARAMS;
	/* 7.1.2.1: offered server_max_window_bits=N must come back as <= N. */
	if (offered->server_max_window_bits != 0) {
		if (a.server_max_window_bits == 0 ||
		    a.server_max_window_bits > offered->server_max_window_bits)
			return WSR_EXTENSION_PARAMS;
	}
	/* 7.1.2.2: client_max_window_bits only if offered, always with a value,
	 * never above the value we offered. */
	if (a.client_max_window_bits != 0) {
		if (offered->client_max_window_bits == 0 ||
		    a.client_max_window_bits == WSR_PMD_BITS_NO_VALUE)
			return WSR_EXTENSION_PARAMS;
		if (offered->client_max_window_bits != WSR_PMD_BITS_NO_VALUE &&
		    a.client_max_window_bits > offered->client_max_window_bits)
			return WSR_EXTENSION_PARAMS;
	} else if (offered->client_max_window_bits >= 8 && offered->client_max_window_bits <= 15) {
		/* We announced this limit for our own compressor; keep to it. */
		a.client_max_window_bits = offered->client_max_window_bits;
	}
	/* 7.1.1.2: offering client_no_context_takeover is a promise we keep. */
	if (offered->client_no_context_takeover)
		a.client_no_context_takeover = true;
	*agreed = a;
	return WSR_OK;
}

static bool put(char *out, size_t cap, size_t *n, const char *s)
{
	size_t l = strlen(s);
	if (*n + l >= cap)
		return false;
	memcpy(out + *n, s, l);
	*n += l;
	out[*n] = '\0';
	return true;
}

static bool put_bits(char *out, size_t cap, size_t *n, const char *name, uint8_t w)
{
	char num[4];
	if (!put(out, cap, n, "; ") || !put(out, cap, n, name))
		return false;
	if (w == WSR_PMD_BITS_NO_VALUE)
		return true;
	num[0] = '=';
	if (w >= 10) {
		num[1] = '1';
		num[2] = (char)('0' + (w - 10));
		num[3] = '\0';
	} else {
		num[1] = (char)('0' + w);
		num[2] = '\0';
	}
	return put(out, cap, n, num);
}

size_t wsr_pmd_format(const struct wsr_pmd_params *p, char *out, size_t cap)
{
	size_t n = 0;
	if (p == NULL || out == NULL || cap == 0)
		return 0;
	if (p->server_max_window_bits != 0 &&
	    (p->server_max_window_bits < 8 || p->server_max_window_bits > 15))
		return 0;
	if (p->client_max_window_bits != 0 && p->client_max_window_bits != WSR_PMD_BITS_NO_VALUE &&
	    (p->client_max_window_bits < 8 || p->client_max_window_bits > 15))
		return 0;
	out[0] = '\0';
	if (!put(out, cap, &n, PMD_NAME))
		goto too_small;
	if (p->server_no_context_takeover && !put(out, cap, &n, "; server_no_context_takeover"))
		goto too_small;
	if (p->client_no_context_takeover && !put(out, cap, &n, "; client_no_context_takeover"))
		goto too_small;
	if (p->server_max_window_bits != 0 &&
	    !put_bits(out, cap, &n, "server_max_window_bits", p->server_max_window_bits))
		goto too_small;
	if (p->client_max_window_bits != 0 &&
	    !put_bits(out, cap, &n, "client_max_window_bits", p->client_max_window_bits))
		goto too_small;
	return n;
too_small:
	out[0] = '\0';
	return 0;
}
