/* HTTP heads: requests and responses, incremental feeding and limits. */
#include "testutil.h"

#include <wsref/wsref.h>

#define MAXH 16

/*
 * Parse a request whole and as every prefix (against a guard page): a
 * prefix gives AGAIN or the final error (never OK early), and once an error
 * shows, every longer prefix shows it too.
 */
static enum wsr_status req_all_ways(const char *s, size_t max_bytes, size_t cap,
                                    struct wsr_http_request *out, struct wsr_http_header *hdrs,
                                    size_t *consumed)
{
	size_t len = strlen(s);
	struct wsr_http_header tmp[MAXH];
	bool decided = false;
	enum wsr_status final;
	uint8_t *g = tu_guard_copy(s, len);
	out->headers = hdrs;
	out->num_headers = cap;
	final = wsr_http_parse_request((const char *)g, len, max_bytes, out, consumed);
	/* Pointers must point into the buffer; check, then move them to s. */
	if (final == WSR_OK) {
		ASSERT(out->method >= (const char *)g && out->target < (const char *)g + len);
		out->method = s + (out->method - (const char *)g);
		out->target = s + (out->target - (const char *)g);
		for (size_t i = 0; i < out->num_headers; i++) {
			hdrs[i].name = s + (hdrs[i].name - (const char *)g);
			hdrs[i].value = s + (hdrs[i].value - (const char *)g);
		}
	}
	tu_guard_free(g, len);
	for (size_t l = 0; l < len; l++) {
		struct wsr_http_request r = {.headers = tmp, .num_headers = cap};
		size_t c = 0;
		g = tu_guard_copy(s, l);
		enum wsr_status st = wsr_http_parse_request((const char *)g, l, max_bytes, &r, &c);
		tu_guard_free(g, l);
		if (final == WSR_OK) {
			/* only the last byte completes it */
			if (l < *consumed)
				ASSERT_EQ(st, WSR_AGAIN);
		} else if (decided) {
			ASSERT_EQ(st, final);
		} else if (st != WSR_AGAIN) {
			decided = true;
			ASSERT_EQ(st, final);
		}
	}
	return final;
}

static enum wsr_status req(const char *s)
{
	struct wsr_http_request r;
	struct wsr_http_header h[MAXH];
	size_t c;
	return req_all_ways(s, 8192, MAXH, &r, h, &c);
}

#define RFC_REQ                                           \
	"GET /chat HTTP/1.1\r\n"                          \
	"Host: server.example.com\r\n"                    \
	"Upgrade: websocket\r\n"                          \
	"Connection: Upgrade\r\n"                         \
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" \
	"Origin: http://example.com\r\n"                  \
	"Sec-WebSocket-Protocol: chat, superchat\r\n"     \
	"Sec-WebSocket-Version: 13\r\n"                   \
	"\r\n"

static void test_rfc_sample_request(void)
{
	struct wsr_http_request r;
	struct wsr_http_header h[MAXH];
	size_t c = 0;
	const char *s = RFC_REQ "trailing frame bytes";
	ASSERT_EQ(req_all_ways(s, 8192, MAXH, &r, h, &c), WSR_OK);
	ASSERT_EQ(c, strlen(RFC_REQ));
	ASSERT_MEMEQ(r.method, r.method_len, "GET", 3);
	ASSERT_MEMEQ(r.target, r.target_len, "/chat", 5);
	ASSERT_EQ(r.version_minor, 1);
	ASSERT_EQ(r.num_headers, 7);
	ASSERT_MEMEQ(h[0].name, h[0].name_len, "Host", 4);
	ASSERT_MEMEQ(h[0].value, h[0].value_len, "server.example.com", 18);
	ASSERT_MEMEQ(h[5].value, h[5].value_len, "chat, superchat", 15);
}

static void test_ows_trimmed_and_empty_values(void)
{
	struct wsr_http_request r;
	struct wsr_http_header h[MAXH];
	size_t c;
	ASSERT_EQ(req_all_ways("GET / HTTP/1.1\r\nA:   x y \t\r\nB:\r\nC: \t \r\nD:z\r\n\r\n", 8192,
	                       MAXH, &r, h, &c),
	          WSR_OK);
	ASSERT_EQ(r.num_headers, 4);
	ASSERT_MEMEQ(h[0].value, h[0].value_len, "x y", 3);
	ASSERT_EQ(h[1].value_len, 0);
	ASSERT_EQ(h[2].value_len, 0);
	ASSERT_MEMEQ(h[3].value, h[3].value_len, "z", 1);
	ASSERT_EQ(req("GET / HTTP/1.0\r\n\r\n"), WSR_OK);
	ASSERT_EQ(req("GET /a?b=c%20 HTTP/1.9\r\nX: \x80\xff obs-text\r\n\r\n"), WSR_OK);
}

static void test_malformed_requests(void)
{
	static const char *bad[] = {
	        "GET / HTTP/1.1\nHost: a\r\n\r\n",              /* bare LF */
	        "GET / HTTP/1.1\r\nHost: a\n\r\n",              /* bare LF in a header */
	        "GET / HTTP/1.1\r\nHost: a\r\n\n",              /* bare LF at the end */
	        "GET / HTTP/1.1\rHost: a\r\n\r\n",              /* bare CR */
	        "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n",         /* bare CR in a value */
	        "GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", /* obs-fold */
	        "GET / HTTP/1.1\r\nHost: a\r\n\tfolded\r\n\r\n",
	        "GET / HTTP/1.1\r\n Host: a\r\n\r\n",     /* whitespace before name */
	        "GET / HTTP/1.1\r\nHost : a\r\n\r\n",     /* whitespace before colon */
	        "GET / HTTP/1.1\r\nHo(st: a\r\n\r\n",     /* bad token */
	        "GET / HTTP/1.1\r\n: a\r\n\r\n",          /* empty name */
	        "GET / HTTP/1.1\r\nHost a\r\n\r\n",       /* no colon */
	        "GET / HTTP/1.1\r\nHost: a\x00b\r\n\r\n", /* NUL (strlen stops: see below) */
	        "GET / HTTP/1.1\r\nHost: a\x01\r\n\r\n",  /* control */
	        "GET / HTTP/1.1\r\nHost: a\x7f\r\n\r\n",  /* DEL */
	        "GET  / HTTP/1.1\r\n\r\n",                /* double space */
	        "GET / HTTP/1.1 \r\n\r\n",
	        " GET / HTTP/1.1\r\n\r\n",
	        "G(T / HTTP/1.1\r\n\r\n",
	        "GET /\x01 HTTP/1.1\r\n\r\n",
	        "GET / HTTP/2.0\r\n\r\n",
	        "GET / HTTP/1.x\r\n\r\n",
	        "GET / http/1.1\r\n\r\n",
	        "GET / HTTP/1.11\r\n\r\n",
	        "GET /\r\n\r\n",
	        "\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		tu_current = bad[i];
		ASSERT_EQ(req(bad[i]), WSR_HS_MALFORMED);
	}
	tu_current = "test_malformed_requests";
	/* A real NUL inside a value (strlen cannot carry it). */
	const char nul[] = "GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n";
	struct wsr_http_header h[MAXH];
	struct wsr_http_request r = {.headers = h, .num_headers = MAXH};
	size_t c;
	uint8_t *g = tu_guard_copy(nul, sizeof nul - 1);
	ASSERT_EQ(wsr_http_parse_request((const char *)g, sizeof nul - 1, 8192, &r, &c),
	          WSR_HS_MALFORMED);
	tu_guard_free(g, sizeof nul - 1);
	/* Malformed is reported before the end of the head arrives. */
	r.num_headers = MAXH;
	ASSERT_EQ(wsr_http_parse_request("GET / HTTP/1.1\r\n Host", 22, 8192, &r, &c),
	          WSR_HS_MALFORMED);
}

static void test_limits(void)
{
	struct wsr_http_request r;
	struct wsr_http_header h[MAXH];
	size_t c;
	const char *s = RFC_REQ;
	size_t n = strlen(s);
	/* exactly at the byte limit: fine; one under: too large */
	ASSERT_EQ(req_all_ways(s, n, MAXH, &r, h, &c), WSR_OK);
	ASSERT_EQ(req_all_ways(s, n - 1, MAXH, &r, h, &c), WSR_HS_TOO_LARGE);
	/* header count: 7 fit in 7, not in 6 */
	ASSERT_EQ(req_all_ways(s, 8192, 7, &r, h, &c), WSR_OK);
	ASSERT_EQ(req_all_ways(s, 8192, 6, &r, h, &c), WSR_HS_TOO_LARGE);
	/* A head that never ends is too large once over the limit, not AGAIN forever. */
	char big[600];
	memset(big, 'a', sizeof big);
	memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
	r.headers = h;
	r.num_headers = MAXH;
	ASSERT_EQ(wsr_http_parse_request(big, sizeof big, 512, &r, &c), WSR_HS_TOO_LARGE);
	ASSERT_EQ(wsr_http_parse_request(big, 512, 512, &r, &c), WSR_AGAIN);
}

static enum wsr_status res_all_ways(const char *s, struct wsr_http_response *out,
                                    struct wsr_http_header *hdrs, size_t *consumed)
{
	size_t len = strlen(s);
	out->headers = hdrs;
	out->num_headers = MAXH;
	enum wsr_status final = wsr_http_parse_response(s, len, 8192, out, consumed);
	for (size_t l = 0; l < len; l++) {
		struct wsr_http_header tmp[MAXH];
		struct wsr_http_response r = {.headers = tmp, .num_headers = MAXH};
		size_t c;
		uint8_t *g = tu_guard_copy(s, l);
		enum wsr_status st = wsr_http_parse_response((const char *)g, l, 8192, &r, &c);
		tu_guard_free(g, l);
		if (final == WSR_OK && l < *consumed)
			ASSERT_EQ(st, WSR_AGAIN);
		else if (final != WSR_OK)
			ASSERT(st == WSR_AGAIN || st == final);
	}
	return final;
}

static void test_responses(void)
{
	struct wsr_http_response r;
	struct wsr_http_header h[MAXH];
	size_t c;
	const char *s =
	        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
	        "Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
	ASSERT_EQ(res_all_ways(s, &r, h, &c), WSR_OK);
	ASSERT_EQ(c, strlen(s));
	ASSERT_EQ(r.status, 101);
	ASSERT_EQ(r.version_minor, 1);
	ASSERT_MEMEQ(r.reason, r.reason_len, "Switching Protocols", 19);
	ASSERT_EQ(r.num_headers, 3);
	ASSERT_EQ(res_all_ways("HTTP/1.1 404 \r\n\r\n", &r, h, &c), WSR_OK);
	ASSERT_EQ(r.status, 404);
	ASSERT_EQ(r.reason_len, 0);
	ASSERT_EQ(res_all_ways("HTTP/1.0 200\r\n\r\n", &r, h, &c), WSR_OK);
	ASSERT_EQ(r.version_minor, 0);
	ASSERT_EQ(res_all_ways("HTTP/1.1 10 x\r\n\r\n", &r, h, &c), WSR_HS_MALFORMED);
	ASSERT_EQ(res_all_ways("HTTP/1.1 1011 x\r\n\r\n", &r, h, &c), WSR_HS_MALFORMED);
	ASSERT_EQ(res_all_ways("HTTP/1.1  101 x\r\n\r\n", &r, h, &c), WSR_HS_MALFORMED);
	ASSERT_EQ(res_all_ways("HTTP/1.1 101 x\nA: b\r\n\r\n", &r, h, &c), WSR_HS_MALFORMED);
	ASSERT_EQ(res_all_ways("HTTP/1.1 101 x\r\nA: b\r\n folded\r\n\r\n", &r, h, &c),
	          WSR_HS_MALFORMED);
	ASSERT_EQ(res_all_ways("ICY 200 OK\r\n\r\n", &r, h, &c), WSR_HS_MALFORMED);
}

int main(void)
{
	RUN(test_rfc_sample_request);
	RUN(test_ows_trimmed_and_empty_values);
	RUN(test_malformed_requests);
	RUN(test_limits);
	RUN(test_responses);
	return tu_finish("http");
}
