/*
 * fuzz_http_common.h - the body shared by fuzz_http_request.c and
 * fuzz_http_response.c (each defines FUZZ_HTTP_RESPONSE 0 or 1 first).
 *
 * Input: [max_bytes selector u8][header capacity u8][head bytes...]
 * Oracles:
 *   - verdicts are monotonic over prefixes: AGAIN until the bytes decide,
 *     then the same verdict (and for OK the same consumed length) for every
 *     longer prefix, which is what a caller feeding a socket sees;
 *   - on OK: consumed <= len and <= max_bytes, the head ends in CRLF CRLF,
 *     headers fit the caller's array, every pointer lies inside the head,
 *     names are non-empty, values carry no outer spaces or tabs;
 *   - the headers then go through the permessage-deflate code the way a
 *     server (negotiate) or client (check_answer) uses them.
 */
#include "fuzz_common.h"
#include "wsref/wsref.h"

#define MAX_HDRS 70

struct parsed {
	enum wsr_status st;
	size_t consumed;
	size_t nh;
	struct wsr_http_header h[MAX_HDRS];
};

static void parse(const char *buf, size_t len, size_t max_bytes, size_t cap, struct parsed *out)
{
	out->consumed = (size_t)-1;
	out->nh = cap;
#if FUZZ_HTTP_RESPONSE
	struct wsr_http_response r;
	memset(&r, 0, sizeof(r));
	r.headers = out->h;
	r.num_headers = cap;
	out->st = wsr_http_parse_response(buf, len, max_bytes, &r, &out->consumed);
	if (out->st == WSR_OK) {
		FZ_CHECK(r.status >= 0 && r.status <= 999);
		FZ_CHECK(r.reason_len == 0 ||
		         (r.reason >= buf && r.reason + r.reason_len <= buf + len));
	}
	out->nh = r.num_headers;
#else
	struct wsr_http_request r;
	memset(&r, 0, sizeof(r));
	r.headers = out->h;
	r.num_headers = cap;
	out->st = wsr_http_parse_request(buf, len, max_bytes, &r, &out->consumed);
	if (out->st == WSR_OK) {
		FZ_CHECK(r.method_len > 0 && r.method >= buf &&
		         r.method + r.method_len <= buf + len);
		FZ_CHECK(r.target_len > 0 && r.target >= buf &&
		         r.target + r.target_len <= buf + len);
	}
	out->nh = r.num_headers;
#endif
}

static bool is_ws(char c)
{
	return c == ' ' || c == '\t';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = {data, size};
	uint8_t sel = fz_u8(&f);
	size_t cap = 1 + fz_u8(&f) % MAX_HDRS;
	size_t max_bytes = sel < 128 ? 8192 : (size_t)(sel - 128) * 8;
	size_t len = f.n;
	char *buf = (char *)fz_dup(f.p, len);

	struct parsed full;
	parse(buf, len, max_bytes, cap, &full);
	FZ_CHECK(full.st == WSR_OK || full.st == WSR_AGAIN || full.st == WSR_HS_MALFORMED ||
	         full.st == WSR_HS_TOO_LARGE);
	if (full.st == WSR_OK) {
		FZ_CHECK(full.consumed >= 4 && full.consumed <= len && full.consumed <= max_bytes);
		FZ_CHECK(memcmp(buf + full.consumed - 4, "\r\n\r\n", 4) == 0);
		FZ_CHECK(full.nh <= cap);
		for (size_t i = 0; i < full.nh; i++) {
			const struct wsr_http_header *h = &full.h[i];
			FZ_CHECK(h->name_len > 0);
			FZ_CHECK(h->name >= buf && h->name + h->name_len <= buf + full.consumed);
			FZ_CHECK(h->value_len == 0 ||
			         (h->value >= buf &&
			          h->value + h->value_len <= buf + full.consumed));
			if (h->value_len > 0)
				FZ_CHECK(!is_ws(h->value[0]) && !is_ws(h->value[h->value_len - 1]));
		}
	}

	/*
	 * Prefixes in increasing order: all of them for short heads, else about
	 * 40 evenly spaced ones plus the two around the end of the head.
	 */
	enum wsr_status first = WSR_AGAIN;
	size_t first_consumed = 0;
	size_t step = len <= 64 ? 1 : len / 40 + 1;
	size_t around = full.st == WSR_OK ? full.consumed - 1 : len;
	struct parsed *pp = malloc(sizeof(*pp));
	FZ_CHECK(pp != NULL);
	for (size_t k = 0;;) {
		char *pre = (char *)fz_dup(buf, k);
		parse(pre, k, max_bytes, cap, pp);
		free(pre);
		if (first != WSR_AGAIN) {
			FZ_CHECK(pp->st == first);
			if (first == WSR_OK)
				FZ_CHECK(pp->consumed == first_consumed);
		} else if (pp->st != WSR_AGAIN) {
			first = pp->st;
			first_consumed = pp->consumed;
		}
		if (k == len)
			break;
		size_t next = k + step;
		if (k < around && next > around)
			next = around;
		else if (k == around && around < len)
			next = around + 1;
		k = next > len ? len : next;
	}
	free(pp);
	FZ_CHECK(first == full.st);

	/* Feed the headers to the extension code like the handshake does. */
	if (full.st == WSR_OK) {
#if FUZZ_HTTP_RESPONSE
		struct wsr_pmd_params offered = {(sel & 1) != 0, (sel & 2) != 0,
		                                 (uint8_t)((sel & 4) ? 10 : 0),
		                                 (uint8_t)((sel & 8) ? WSR_PMD_BITS_NO_VALUE : 0)};
		for (size_t i = 0; i < full.nh; i++) {
			struct wsr_pmd_params agreed;
			if (wsr_pmd_check_answer(full.h[i].value, full.h[i].value_len, &offered,
			                         &agreed) == WSR_OK) {
				char out[200];
				FZ_CHECK(wsr_pmd_format(&agreed, out, sizeof(out)) > 0);
			}
		}
#else
		struct wsr_pmd_policy pol = {true, (sel & 1) != 0, (sel & 2) != 0,
		                             (uint8_t)(8 + (sel >> 4) % 8), (uint8_t)(sel & 12)};
		bool acc = false;
		struct wsr_pmd_params agreed;
		FZ_CHECK(wsr_pmd_negotiate(full.h, full.nh, &pol, &acc, &agreed) == WSR_OK);
		if (acc) {
			char out[200];
			FZ_CHECK(wsr_pmd_format(&agreed, out, sizeof(out)) > 0);
		}
#endif
	}
	free(buf);
	return 0;
}
