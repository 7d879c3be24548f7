/*
 * http.c - HTTP/1.x message heads (RFC 9112) for the opening handshake.
 *
 * One byte-at-a-time state machine (struct wsr__http_scan) judges a head:
 * OK (with the head's length), AGAIN, or a verdict. It stops at the end of
 * the bytes it has and resumes later where it stopped, so a connection that
 * receives its head in many small pieces looks at every byte once (parsing
 * again from the start on every piece made that quadratic). Malformed input
 * is rejected as soon as the bytes seen prove it, without waiting for the end
 * of the head. Lines end in CRLF; a bare CR or bare LF, obs-fold, NUL and
 * other controls, and invalid tokens are rejected. Nothing is allocated and
 * nothing is read past buf[len-1].
 *
 * The stateless wsr_http_parse_request/response run the same machine over the
 * whole buffer in one go and fill the caller's header array as lines end, so
 * the incremental and the one-shot verdicts cannot differ.
 */
#include <string.h>
#include <wsref/wsref.h>

#include "internal.h"

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

/* request-target bytes: anything visible (no SP, no controls, no DEL). */
static bool is_target(unsigned char ch)
{
	return ch > 0x20 && ch != 0x7F;
}

/* The machine's states (struct wsr__http_scan.state). */
enum {
	/* request line: method SP request-target SP HTTP-version CRLF */
	S_METHOD0, /* first byte of the method */
	S_METHOD,  /* in the method */
	S_TARGET0, /* first byte of the target */
	S_TARGET,  /* in the target */
	S_VERSION, /* "HTTP/1." (aux: bytes matched) */
	S_MINOR,   /* the x of HTTP/1.x */
	S_LINE_CR, /* the CR ending the request line */
	/* status line: HTTP-version SP 3DIGIT [SP reason-phrase] CRLF */
	S_RVERSION, /* "HTTP/1." (aux: bytes matched) */
	S_RMINOR,   /* the x */
	S_RSP,      /* the SP before the status */
	S_STATUS,   /* status digits (aux: digits read) */
	S_AFTER,    /* after the status: SP, or the CR of an empty reason */
	S_REASON,   /* in the reason phrase */
	S_LINE_LF,  /* the LF ending the start line */
	/* header lines */
	S_LINE0,    /* first byte of a header line, or the CR of the empty line */
	S_NAME,     /* in a field name */
	S_OWS,      /* spaces/tabs after the colon */
	S_VALUE,    /* in a field value */
	S_VALUE_LF, /* the LF ending a header line */
	S_END_LF,   /* the LF of the empty line */
	S_DONE,
};

static const char http1[] = "HTTP/1.";

void wsr__http_scan_init(struct wsr__http_scan *s, bool response)
{
	memset(s, 0, sizeof(*s));
	s->state = response ? S_RVERSION : S_METHOD0;
}

/*
 * A header line ended (its LF is at s->pos): hand it out if asked.
 * Trailing spaces/tabs leave the value; the CR is at s->pos - 1.
 */
static void header_done(const struct wsr__http_scan *s, const char *buf,
                        struct wsr_http_header *hdrs)
{
	if (!hdrs)
		return;
	size_t vend = s->pos - 1;
	while (vend > s->value && (buf[vend - 1] == ' ' || buf[vend - 1] == '\t'))
		vend--;
	struct wsr_http_header *h = &hdrs[s->headers];
	h->name = buf + s->name;
	h->name_len = s->name_len;
	h->value = buf + s->value;
	h->value_len = vend - s->value;
}

enum wsr_status wsr__http_scan(struct wsr__http_scan *s, const char *buf, size_t len,
                               size_t max_bytes, size_t max_headers, struct wsr_http_header *hdrs,
                               size_t *consumed)
{
	if (!buf && len)
		return WSR_INVALID_ARGUMENT;
	if (s->state == S_DONE) {
		*consumed = s->pos;
		return WSR_OK;
	}
	size_t end = len < max_bytes ? len : max_bytes;
	for (; s->pos < end; s->pos++) {
		unsigned char ch = (unsigned char)buf[s->pos];
		switch (s->state) {
		case S_METHOD0:
			if (!is_tchar(ch))
				return WSR_HS_MALFORMED;
			s->state = S_METHOD;
			break;
		case S_METHOD:
			if (ch == ' ') {
				s->method_len = s->pos;
				s->target = s->pos + 1;
				s->state = S_TARGET0;
			} else if (!is_tchar(ch)) {
				return WSR_HS_MALFORMED;
			}
			break;
		case S_TARGET0:
			if (!is_target(ch))
				return WSR_HS_MALFORMED;
			s->state = S_TARGET;
			break;
		case S_TARGET:
			if (ch == ' ') {
				s->target_len = s->pos - s->target;
				s->aux = 0;
				s->state = S_VERSION;
			} else if (!is_target(ch)) {
				return WSR_HS_MALFORMED;
			}
			break;
		case S_VERSION:
		case S_RVERSION:
			if (ch != (unsigned char)http1[s->aux])
				return WSR_HS_MALFORMED;
			if (++s->aux == sizeof(http1) - 1)
				s->state = s->state == S_VERSION ? S_MINOR : S_RMINOR;
			break;
		case S_MINOR:
		case S_RMINOR:
			if (ch < '0' || ch > '9')
				return WSR_HS_MALFORMED;
			s->minor = ch - '0';
			s->state = s->state == S_MINOR ? S_LINE_CR : S_RSP;
			break;
		case S_LINE_CR:
			if (ch != '\r')
				return WSR_HS_MALFORMED;
			s->state = S_LINE_LF;
			break;
		case S_RSP:
			if (ch != ' ')
				return WSR_HS_MALFORMED;
			s->aux = 0;
			s->status = 0;
			s->state = S_STATUS;
			break;
		case S_STATUS:
			if (ch < '0' || ch > '9')
				return WSR_HS_MALFORMED;
			s->status = s->status * 10 + (ch - '0');
			if (++s->aux == 3)
				s->state = S_AFTER;
			break;
		case S_AFTER:
			/* The SP before an empty reason is optional. */
			if (ch == ' ') {
				s->reason = s->pos + 1;
				s->state = S_REASON;
			} else if (ch == '\r') {
				s->reason = s->pos;
				s->reason_len = 0;
				s->state = S_LINE_LF;
			} else {
				return WSR_HS_MALFORMED;
			}
			break;
		case S_REASON:
			if (ch == '\r') {
				s->reason_len = s->pos - s->reason;
				s->state = S_LINE_LF;
			} else if (!is_vchar_ws(ch)) {
				return WSR_HS_MALFORMED;
			}
			break;
		case S_LINE_LF:
			if (ch != '\n')
				return WSR_HS_MALFORMED;
			s->state = S_LINE0;
			break;
		case S_LINE0:
			if (ch == '\r') {
				s->state = S_END_LF;
				break;
			}
			/* obs-fold (a line starting with SP/HTAB) and whitespace before the name */
			if (!is_tchar(ch))
				return WSR_HS_MALFORMED;
			if (s->headers == max_headers)
				return WSR_HS_TOO_LARGE;
			s->name = s->pos;
			s->state = S_NAME;
			break;
		case S_NAME:
			if (ch == ':') {
				s->name_len = s->pos - s->name;
				s->state = S_OWS;
			} else if (!is_tchar(ch)) {
				return WSR_HS_MALFORMED; /* includes whitespace before the colon */
			}
			break;
		case S_OWS:
			if (ch == ' ' || ch == '\t')
				break;
			s->value = s->pos; /* this byte is the value's first, or its CR */
			if (ch == '\r')
				s->state = S_VALUE_LF;
			else if (!is_vchar_ws(ch))
				return WSR_HS_MALFORMED;
			else
				s->state = S_VALUE;
			break;
		case S_VALUE:
			if (ch == '\r')
				s->state = S_VALUE_LF;
			else if (!is_vchar_ws(ch))
				return WSR_HS_MALFORMED;
			break;
		case S_VALUE_LF:
			if (ch != '\n')
				return WSR_HS_MALFORMED;
			header_done(s, buf, hdrs);
			s->headers++;
			s->state = S_LINE0;
			break;
		case S_END_LF:
			if (ch != '\n')
				return WSR_HS_MALFORMED;
			s->pos++;
			s->state = S_DONE;
			*consumed = s->pos;
			return WSR_OK;
		default:
			return WSR_INVALID_ARGUMENT;
		}
	}
	/* Out of input: AGAIN, or TOO_LARGE when the limit (not the data) ran out. */
	return len > max_bytes ? WSR_HS_TOO_LARGE : WSR_AGAIN;
}

enum wsr_status wsr_http_parse_request(const char *buf, size_t len, size_t max_bytes,
                                       struct wsr_http_request *req, size_t *consumed)
{
	if (!buf && len)
		return WSR_INVALID_ARGUMENT;
	struct wsr__http_scan s;
	wsr__http_scan_init(&s, false);
	enum wsr_status st =
	        wsr__http_scan(&s, buf, len, max_bytes, req->num_headers, req->headers, consumed);
	if (st != WSR_OK)
		return st;
	req->method = buf;
	req->method_len = s.method_len;
	req->target = buf + s.target;
	req->target_len = s.target_len;
	req->version_minor = s.minor;
	req->num_headers = s.headers;
	return WSR_OK;
}

enum wsr_status wsr_http_parse_response(const char *buf, size_t len, size_t max_bytes,
                                        struct wsr_http_response *res, size_t *consumed)
{
	if (!buf && len)
		return WSR_INVALID_ARGUMENT;
	struct wsr__http_scan s;
	wsr__http_scan_init(&s, true);
	enum wsr_status st =
	        wsr__http_scan(&s, buf, len, max_bytes, res->num_headers, res->headers, consumed);
	if (st != WSR_OK)
		return st;
	res->version_minor = s.minor;
	res->status = s.status;
	res->reason = buf + s.reason;
	res->reason_len = s.reason_len;
	res->num_headers = s.headers;
	return WSR_OK;
}
