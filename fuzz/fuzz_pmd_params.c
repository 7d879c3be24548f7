/*
 * fuzz_pmd_params.c - permessage-deflate parameter parsing and negotiation.
 *
 * Input: [policy u8][offered u8][split u8][extension header text...]
 * Oracles:
 *   - parse: OK results hold only legal values, and format -> parse gives
 *     the same params back;
 *   - negotiate over the text (also split into two header lines at a comma):
 *     an agreement obeys RFC 7692 section 7.1 against the offer it answers
 *     (the first valid permessage-deflate element), and the client side
 *     accepts the formatted answer for that offer;
 *   - check_answer: an accepted answer never grants what was not offered.
 */
#include "fuzz_common.h"
#include "wsref/wsref.h"

static bool bits_legal(uint8_t v, bool no_value_ok)
{
	return v == 0 || (v >= 8 && v <= 15) || (no_value_ok && v == WSR_PMD_BITS_NO_VALUE);
}

static void round_trip(const struct wsr_pmd_params *p)
{
	char out[200];
	size_t n = wsr_pmd_format(p, out, sizeof(out));
	FZ_CHECK(n > 0 && n == strlen(out));
	bool is_pmd = false;
	struct wsr_pmd_params q;
	FZ_CHECK(wsr_pmd_parse(out, n, &is_pmd, &q) == WSR_OK && is_pmd);
	FZ_CHECK(memcmp(p, &q, sizeof(q)) == 0);
}

/* The first valid permessage-deflate element of text, as negotiate sees it. */
static bool first_offer(const char *t, size_t n, struct wsr_pmd_params *o)
{
	size_t start = 0;
	while (start <= n) {
		size_t i = start;
		bool q = false;
		for (; i < n; i++) {
			if (q) {
				if (t[i] == '\\' && i + 1 < n)
					i++;
				else if (t[i] == '"')
					q = false;
			} else if (t[i] == '"') {
				q = true;
			} else if (t[i] == ',') {
				break;
			}
		}
		bool is_pmd;
		if (i > start && wsr_pmd_parse(t + start, i - start, &is_pmd, o) == WSR_OK &&
		    is_pmd)
			return true;
		start = i + 1;
	}
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = {data, size};
	uint8_t pb = fz_u8(&f), ob = fz_u8(&f), split = fz_u8(&f);
	size_t n = f.n;
	char *t = (char *)fz_dup(f.p, n);

	/* parse + format round trip */
	bool is_pmd = false;
	struct wsr_pmd_params p;
	enum wsr_status st = wsr_pmd_parse(t, n, &is_pmd, &p);
	FZ_CHECK(st == WSR_OK || st == WSR_EXTENSION_PARAMS);
	if (st == WSR_OK && is_pmd) {
		FZ_CHECK(bits_legal(p.server_max_window_bits, false));
		FZ_CHECK(bits_legal(p.client_max_window_bits, true));
		round_trip(&p);
	}

	/* negotiate */
	static const uint8_t asks[4] = {0, 8, 11, 15};
	struct wsr_pmd_policy pol = {true, (pb & 1) != 0, (pb & 2) != 0,
	                             (uint8_t)((pb >> 2) & 7 ? 8 + ((pb >> 2) & 7) : 0),
	                             asks[(pb >> 5) & 3]};
	struct wsr_http_header h = {"Sec-WebSocket-Extensions", 24, t, n};
	bool acc = false;
	struct wsr_pmd_params agreed;
	FZ_CHECK(wsr_pmd_negotiate(&h, 1, &pol, &acc, &agreed) == WSR_OK);
	struct wsr_pmd_params offer;
	bool have_offer = first_offer(t, n, &offer);
	FZ_CHECK(acc == have_offer);
	if (acc) {
		round_trip(&agreed);
		uint8_t ours = pol.server_max_window_bits ? pol.server_max_window_bits : 15;
		if (offer.server_max_window_bits)
			FZ_CHECK(agreed.server_max_window_bits != 0 &&
			         agreed.server_max_window_bits <= offer.server_max_window_bits);
		if (agreed.server_max_window_bits)
			FZ_CHECK(agreed.server_max_window_bits <= ours);
		if (offer.server_no_context_takeover)
			FZ_CHECK(agreed.server_no_context_takeover);
		if (pol.client_no_context_takeover)
			FZ_CHECK(agreed.client_no_context_takeover);
		if (offer.client_max_window_bits == 0)
			FZ_CHECK(agreed.client_max_window_bits == 0);
		else if (offer.client_max_window_bits != WSR_PMD_BITS_NO_VALUE &&
		         agreed.client_max_window_bits)
			FZ_CHECK(agreed.client_max_window_bits <= offer.client_max_window_bits);
		FZ_CHECK(agreed.client_max_window_bits != WSR_PMD_BITS_NO_VALUE);
		/* The client that made this offer accepts our answer. */
		char ans[200];
		size_t an = wsr_pmd_format(&agreed, ans, sizeof(ans));
		struct wsr_pmd_params back;
		FZ_CHECK(wsr_pmd_check_answer(ans, an, &offer, &back) == WSR_OK);
		/* Our deflate state can be built for it, in both roles. */
		for (int role = 0; role < 2; role++) {
			struct wsr_pmd *pmd = NULL;
			FZ_CHECK(wsr_pmd_new(&pmd, NULL, &agreed, (enum wsr_role)role) == WSR_OK);
			wsr_pmd_free(pmd);
		}
	}
	/* The same text split into two header lines at a comma agrees the same. */
	size_t cut = n ? split % (n + 1) : 0;
	while (cut < n && t[cut] != ',')
		cut++;
	if (cut < n && memchr(t, '"', n) == NULL) {
		struct wsr_http_header two[2] = {
		        {"Sec-WebSocket-Extensions", 24, t, cut},
		        {"sec-websocket-extensions", 24, t + cut + 1, n - cut - 1}};
		bool acc2 = false;
		struct wsr_pmd_params agreed2;
		FZ_CHECK(wsr_pmd_negotiate(two, 2, &pol, &acc2, &agreed2) == WSR_OK);
		FZ_CHECK(acc2 == acc);
		if (acc)
			FZ_CHECK(memcmp(&agreed, &agreed2, sizeof(agreed)) == 0);
	}

	/* check_answer: the text as a server's answer to an offer from ob. */
	static const uint8_t cv[4] = {0, WSR_PMD_BITS_NO_VALUE, 9, 12};
	struct wsr_pmd_params off = {(ob & 1) != 0, (ob & 2) != 0,
	                             (uint8_t)((ob >> 2) & 7 ? 8 + ((ob >> 2) & 7) : 0),
	                             cv[(ob >> 5) & 3]};
	struct wsr_pmd_params got;
	st = wsr_pmd_check_answer(t, n, &off, &got);
	FZ_CHECK(st == WSR_OK || st == WSR_EXTENSION_PARAMS);
	if (st == WSR_OK) {
		FZ_CHECK(bits_legal(got.server_max_window_bits, false));
		FZ_CHECK(bits_legal(got.client_max_window_bits, false));
		if (off.server_max_window_bits)
			FZ_CHECK(got.server_max_window_bits &&
			         got.server_max_window_bits <= off.server_max_window_bits);
		if (off.server_no_context_takeover)
			FZ_CHECK(got.server_no_context_takeover);
		if (off.client_max_window_bits == 0)
			FZ_CHECK(got.client_max_window_bits == 0);
		if (off.client_max_window_bits >= 8 && off.client_max_window_bits <= 15)
			FZ_CHECK(got.client_max_window_bits &&
			         got.client_max_window_bits <= off.client_max_window_bits);
		round_trip(&got);
	}
	free(t);
	return 0;
}
