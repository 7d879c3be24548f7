/*
 * http.c - HTTP/1.x message heads (RFC 9112) for the opening handshake.
 *
 * Stateless and incremental in the picohttpparser way: the caller hands the
 * bytes received so far, from the start of the head, and gets OK (with the
 * head's length), AGAIN, or a verdict. Malformed input is rejected as soon as
 * the bytes seen prove it, without waiting for the end of the head. Lines end
 * in CRLF; a bare CR or bare LF, obs-fold, NUL and other controls, and
 * invalid tokens are rejected. Nothing is allocated and nothing is read past
 * buf[len-1].
 */
#include <wsref/wsref.h>

#include "internal.h"

struct cursor {
	const char *buf;
	size_t pos, end; /* end = min(len, max_bytes) */
	bool limited;    /* end was cut by max_bytes */
};

/* Out of input: AGAIN, or TOO_LARGE when the limit (not the data) ran out. */
#define OUT_OF_INPUT(c) ((c)->limited ? WSR_HS_TOO_LARGE : WSR_AGAIN)

static bool is_tchar(unsigned char ch)
{
	if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))
		return true;
	switch (ch) {
	case '!':
	case '#':
	case '$':
	case '%':
	case '&':
	case '\'':
	case '*':
	case '+':
	case '-':
	case '.':
	case '^':
	case '_':
	case '`':
	case '|':
	case '~':
		return true;
	default:
		return false;
	}
}

/* Field-value and reason-phrase bytes: VCHAR, obs-text, SP, HTAB. */
static bool is_vchar_ws(unsigned char ch)
{
	return ch == ' ' || ch == '\t' || (ch >= 0x21 && ch != 0x7F);
}

/* Expect CRLF at the cursor. */
static enum wsr_status crlf(struct cursor *c)
{
	if (c->pos >= c->end)
		return OUT_OF_INPUT(c);
	if (c->buf[c->pos] != '\r')
		return WSR_HS_MALFORMED;
	if (c->pos + 1 >= c->end)
		return OUT_OF_INPUT(c);
	if (c->buf[c->pos + 1] != '\n')
		return WSR_HS_MALFORMED;
	c->pos += 2;
	return WSR_OK;
}

/* Expect a literal string. */
static enum wsr_status literal(struct cursor *c, const char *s)
{
	for (; *s; s++) {
		if (c->pos >= c->end)
			return OUT_OF_INPUT(c);
		if (c->buf[c->pos] != *s)
			return WSR_HS_MALFORMED;
		c->pos++;
	}
	return WSR_OK;
}

static enum wsr_status digit(struct cursor *c, int *d)
{
	if (c->pos >= c->end)
		return OUT_OF_INPUT(c);
	char ch = c->buf[c->pos];
	if (ch < '0' || ch > '9')
		return WSR_HS_MALFORMED;
	*d = ch - '0';
	c->pos++;
	return WSR_OK;
}

/* "HTTP/1.x": only major version 1 is HTTP/1.x. */
static enum wsr_status version(struct cursor *c, int *minor)
{
	enum wsr_status st = literal(c, "HTTP/1.");
	if (st == WSR_OK)
		st = digit(c, minor);
	return st;
}

/*
 * Header lines up to and including the empty line. Fills hdrs[0..*n) (in:
 * capacity). The caller's *n is the capacity.
 */
static enum wsr_status header_lines(struct cursor *c, struct wsr_http_header *hdrs, size_t *n)
{
	size_t cap = *n, count = 0;
	for (;;) {
		if (c->pos >= c->end)
			return OUT_OF_INPUT(c);
		char ch = c->buf[c->pos];
		if (ch == '\r') {
			enum wsr_status st = crlf(c);
			if (st != WSR_OK)
				return st;
			*n = count;
			return WSR_OK;
		}
		/* obs-fold (a line starting with SP/HTAB) and whitespace before the name. */
		if (!is_tchar((unsigned char)ch))
			return WSR_HS_MALFORMED;
		if (count == cap)
			return WSR_HS_TOO_LARGE;
		size_t name = c->pos;
		while (c->pos < c->end && is_tchar((unsigned char)c->buf[c->pos]))
			c->pos++;
		if (c->pos >= c->end)
			return OUT_OF_INPUT(c);
		if (c->buf[c->pos] != ':') /* includes whitespace before the colon */
			return WSR_HS_MALFORMED;
		size_t name_len = c->pos - name;
		c->pos++;
		while (c->pos < c->end && (c->buf[c->pos] == ' ' || c->buf[c->pos] == '\t'))
			c->pos++;
		size_t value = c->pos;
		while (c->pos < c->end && is_vchar_ws((unsigned char)c->buf[c->pos]))
			c->pos++;
		size_t vend = c->pos;
		while (vend > value && (c->buf[vend - 1] == ' ' || c->buf[vend - 1] == '\t'))
			vend--;
		enum wsr_status st = crlf(c);
		if (st != WSR_OK)
			return st;
		hdrs[count].name = c->buf + name;
		hdrs[count].name_len = name_len;
		hdrs[count].value = c->buf + value;
		hdrs[count].value_len = vend - value;
		count++;
	}
}

static void cursor_init(struct cursor *c, const char *buf, size_t len, size_t max_bytes)
{
	c->buf = buf;
	c->pos = 0;
	c->limited = len > max_bytes;
	c->end = c->limited ? max_bytes : len;
}

enum wsr_status wsr_http_parse_request(const char *buf, size_t len, size_t max_bytes,
                                       struct wsr_http_request *req, size_t *consumed)
{
	struct cursor c;
	enum wsr_status st;
	if (!buf && len)
		return WSR_INVALID_ARGUMENT;
	cursor_init(&c, buf, len, max_bytes);

	/* method SP request-target SP HTTP-version CRLF */
	size_t m = c.pos;
	while (c.pos < c.end && is_tchar((unsigned char)buf[c.pos]))
		c.pos++;
	if (c.pos >= c.end)
		return OUT_OF_INPUT(&c);
	if (buf[c.pos] != ' ' || c.pos == m)
		return WSR_HS_MALFORMED;
	size_t m_len = c.pos - m;
	c.pos++;
	size_t t = c.pos;
	while (c.pos < c.end && (unsigned char)buf[c.pos] > 0x20 && buf[c.pos] != 0x7F)
		c.pos++;
	if (c.pos >= c.end)
		return OUT_OF_INPUT(&c);
	if (buf[c.pos] != ' ' || c.pos == t)
		return WSR_HS_MALFORMED;
	size_t t_len = c.pos - t;
	c.pos++;
	int minor = 0;
	if ((st = version(&c, &minor)) != WSR_OK || (st = crlf(&c)) != WSR_OK)
		return st;

	size_t n = req->num_headers;
	if ((st = header_lines(&c, req->headers, &n)) != WSR_OK)
		return st;
	req->method = buf + m;
	req->method_len = m_len;
	req->target = buf + t;
	req->target_len = t_len;
	req->version_minor = minor;
	req->num_headers = n;
	*consumed = c.pos;
	return WSR_OK;
}

enum wsr_status wsr_http_parse_response(const char *buf, size_t len, size_t max_bytes,
                                        struct wsr_http_response *res, size_t *consumed)
{
	struct cursor c;
	enum wsr_status st;
	if (!buf && len)
		return WSR_INVALID_ARGUMENT;
	cursor_init(&c, buf, len, max_bytes);

	/* HTTP-version SP 3DIGIT SP reason-phrase CRLF (the SP before an empty reason is optional)
	 */
	int minor = 0, d[3];
	if ((st = version(&c, &minor)) != WSR_OK || (st = literal(&c, " ")) != WSR_OK)
		return st;
	for (int i = 0; i < 3; i++)
		if ((st = digit(&c, &d[i])) != WSR_OK)
			return st;
	if (c.pos >= c.end)
		return OUT_OF_INPUT(&c);
	size_t r = c.pos;
	if (buf[c.pos] == ' ') {
		c.pos++;
		r = c.pos;
		while (c.pos < c.end && is_vchar_ws((unsigned char)buf[c.pos]))
			c.pos++;
	}
	size_t r_len = c.pos - r;
	if ((st = crlf(&c)) != WSR_OK)
		return st;

	size_t n = res->num_headers;
	if ((st = header_lines(&c, res->headers, &n)) != WSR_OK)
		return st;
	res->version_minor = minor;
	res->status = d[0] * 100 + d[1] * 10 + d[2];
	res->reason = buf + r;
	res->reason_len = r_len;
	res->num_headers = n;
	*consumed = c.pos;
	return WSR_OK;
}
