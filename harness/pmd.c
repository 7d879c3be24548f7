/*
 * pmd.c - permessage-deflate for the harness (see pmd.h). Own code on top of
 * zlib's raw deflate; shares nothing with libwsref.
 *
 * Window bits: zlib refuses a raw deflate window of 8, so our compressor runs
 * at 9 when 8 was agreed. That is still correct: zlib never emits a distance
 * beyond its window minus MIN_LOOKAHEAD (512 - 262 = 250 bytes for 9 bits),
 * which fits the 256-byte window the peer reserved. The decompressor runs at
 * the agreed window, so a peer that reaches back into an earlier message
 * further than it agreed is caught ("invalid distance too far back"); zlib
 * does not check distances that stay inside one message's own output.
 */
#include "pmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define PMD "permessage-deflate"

static bool is_tchar(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static void skip_ows(const char *p, size_t n, size_t *i)
{
	while (*i < n && (p[*i] == ' ' || p[*i] == '\t'))
		(*i)++;
}

/* A window-bits value: "8".."15", no leading zero. */
static int bits_value(const char *v, size_t n)
{
	if (n == 1 && (v[0] == '8' || v[0] == '9'))
		return v[0] - '0';
	if (n == 2 && v[0] == '1' && v[1] >= '0' && v[1] <= '5')
		return 10 + (v[1] - '0');
	return -1;
}

int wsc_pmd_parse_params(const char *p, size_t n, bool answer, struct wsc_pmd_params *out,
                         char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	size_t i = 0;
	for (;;) {
		skip_ows(p, n, &i);
		if (i == n)
			return 0;
		if (p[i] != ';') {
			snprintf(err, errlen, "expected ';' at '%.20s'", p + i);
			return -1;
		}
		i++;
		skip_ows(p, n, &i);
		size_t ns = i;
		while (i < n && is_tchar(p[i]))
			i++;
		size_t nl = i - ns;
		if (nl == 0) {
			snprintf(err, errlen, "empty parameter name");
			return -1;
		}
		const char *name = p + ns;
		skip_ows(p, n, &i);
		char val[64];
		size_t vl = 0;
		bool has_val = false;
		if (i < n && p[i] == '=') {
			has_val = true;
			i++;
			skip_ows(p, n, &i);
			if (i < n && p[i] == '"') {
				i++;
				while (i < n && p[i] != '"') {
					if (p[i] == '\\' && i + 1 < n)
						i++;
					if (vl < sizeof(val) - 1)
						val[vl++] = p[i];
					i++;
				}
				if (i == n) {
					snprintf(err, errlen, "unterminated quoted value");
					return -1;
				}
				i++;
			} else {
				while (i < n && is_tchar(p[i])) {
					if (vl < sizeof(val) - 1)
						val[vl++] = p[i];
					i++;
				}
			}
			if (vl == 0) {
				snprintf(err, errlen, "empty value for %.*s", (int)nl, name);
				return -1;
			}
		}
		val[vl] = '\0';
#define IS(s) (nl == sizeof(s) - 1 && memcmp(name, s, nl) == 0)
		bool *flag = NULL, *has = NULL;
		uint8_t *bits = NULL;
		bool need_value = false;
		if (IS("server_no_context_takeover"))
			flag = &out->server_no_context_takeover;
		else if (IS("client_no_context_takeover"))
			flag = &out->client_no_context_takeover;
		else if (IS("server_max_window_bits")) {
			has = &out->has_server_max_window_bits;
			bits = &out->server_max_window_bits;
			need_value = true;
		} else if (IS("client_max_window_bits")) {
			has = &out->has_client_max_window_bits;
			bits = &out->client_max_window_bits;
			need_value = answer;
		} else {
			snprintf(err, errlen, "unknown parameter '%.*s'", (int)(nl > 40 ? 40 : nl),
			         name);
			return -1;
		}
#undef IS
		if (flag) {
			if (*flag) {
				snprintf(err, errlen, "duplicate parameter '%.*s'", (int)nl, name);
				return -1;
			}
			if (has_val) {
				snprintf(err, errlen, "parameter '%.*s' takes no value", (int)nl,
				         name);
				return -1;
			}
			*flag = true;
			continue;
		}
		if (*has) {
			snprintf(err, errlen, "duplicate parameter '%.*s'", (int)nl, name);
			return -1;
		}
		*has = true;
		if (!has_val) {
			if (need_value) {
				snprintf(err, errlen, "parameter '%.*s' needs a value", (int)nl,
				         name);
				return -1;
			}
			*bits = 0;
			continue;
		}
		int b = bits_value(val, vl);
		if (b < 0) {
			snprintf(err, errlen, "bad value '%s' for %.*s (8..15)", val, (int)nl,
			         name);
			return -1;
		}
		*bits = (uint8_t)b;
	}
}

/* Cut a header value into elements at commas outside quotes; calls fn per element. */
struct elem {
	const char *name;
	size_t nl;
	const char *params;
	size_t pl;
};

static size_t split_elems(const char *v, size_t n, struct elem *out, size_t max)
{
	size_t k = 0, i = 0;
	while (i < n && k < max) {
		size_t s = i;
		bool q = false;
		while (i < n && (q || v[i] != ',')) {
			if (v[i] == '"')
				q = !q;
			else if (q && v[i] == '\\' && i + 1 < n)
				i++;
			i++;
		}
		size_t e = i;
		if (i < n)
			i++; /* the comma */
		while (s < e && (v[s] == ' ' || v[s] == '\t'))
			s++;
		size_t ne = s;
		while (ne < e && is_tchar(v[ne]))
			ne++;
		if (ne == s && s == e)
			continue; /* empty element (",,") */
		out[k].name = v + s;
		out[k].nl = ne - s;
		out[k].params = v + ne;
		out[k].pl = e - ne;
		k++;
	}
	return k;
}

static bool is_pmd(const struct elem *e)
{
	return e->nl == sizeof(PMD) - 1 && strncasecmp(e->name, PMD, e->nl) == 0;
}

bool wsc_pmd_offered(const char *const *offers, size_t n_offers)
{
	struct elem el[32];
	for (size_t i = 0; i < n_offers; i++) {
		size_t k = split_elems(offers[i], strlen(offers[i]), el, 32);
		for (size_t j = 0; j < k; j++)
			if (is_pmd(&el[j]))
				return true;
	}
	return false;
}

static bool compatible(const struct wsc_pmd_params *off, const struct wsc_pmd_params *ans)
{
	if (off->has_server_max_window_bits &&
	    (!ans->has_server_max_window_bits ||
	     ans->server_max_window_bits > off->server_max_window_bits))
		return false;
	if (ans->has_client_max_window_bits) {
		if (!off->has_client_max_window_bits)
			return false;
		if (off->client_max_window_bits &&
		    ans->client_max_window_bits > off->client_max_window_bits)
			return false;
	}
	return true;
}

int wsc_pmd_negotiate(const char *const *offers, size_t n_offers, const char *answer, size_t alen,
                      struct wsc_pmd_params *agreed, char *err, size_t errlen)
{
	memset(agreed, 0, sizeof(*agreed));
	if (!answer || alen == 0)
		return 0;
	struct elem el[32];
	size_t k = split_elems(answer, alen, el, 32);
	const struct elem *found = NULL;
	for (size_t j = 0; j < k; j++) {
		if (el[j].nl == 0) {
			snprintf(err, errlen, "malformed Sec-WebSocket-Extensions answer '%.*s'",
			         (int)(alen > 60 ? 60 : alen), answer);
			return -1;
		}
		if (!is_pmd(&el[j])) {
			snprintf(
			        err, errlen,
			        "server accepted extension '%.*s', which the harness did not offer "
			        "or cannot run",
			        (int)(el[j].nl > 40 ? 40 : el[j].nl), el[j].name);
			return -1;
		}
		if (found) {
			snprintf(err, errlen, "server accepted permessage-deflate twice");
			return -1;
		}
		found = &el[j];
	}
	if (!found)
		return 0;
	if (!wsc_pmd_offered(offers, n_offers)) {
		snprintf(err, errlen, "server accepted permessage-deflate, which was not offered");
		return -1;
	}
	char perr[160];
	if (wsc_pmd_parse_params(found->params, found->pl, true, agreed, perr, sizeof perr) < 0) {
		snprintf(err, errlen, "invalid permessage-deflate answer: %s", perr);
		return -1;
	}
	for (size_t i = 0; i < n_offers; i++) {
		size_t ko = split_elems(offers[i], strlen(offers[i]), el, 32);
		for (size_t j = 0; j < ko; j++) {
			struct wsc_pmd_params off;
			if (!is_pmd(&el[j]) || wsc_pmd_parse_params(el[j].params, el[j].pl, false,
			                                            &off, perr, sizeof perr) < 0)
				continue; /* an invalid offer can never be accepted */
			if (compatible(&off, agreed))
				return 1;
		}
	}
	snprintf(err, errlen, "permessage-deflate answer '%.*s' corresponds to none of the offers",
	         (int)(alen > 80 ? 80 : alen), answer);
	return -1;
}

/* ------------------------------------------------------------- streams */

int wsc_pmd_init(struct wsc_pmd *p, const struct wsc_pmd_params *agreed,
                 bool client_offered_no_takeover)
{
	memset(p, 0, sizeof(*p));
	p->agreed = *agreed;
	p->our_bits = agreed->has_client_max_window_bits && agreed->client_max_window_bits
	                      ? agreed->client_max_window_bits
	                      : 15;
	p->peer_bits = agreed->has_server_max_window_bits && agreed->server_max_window_bits
	                       ? agreed->server_max_window_bits
	                       : 15;
	p->we_take_over = !agreed->client_no_context_takeover && !client_offered_no_takeover;
	p->peer_takes_over = !agreed->server_no_context_takeover;
	z_stream *d = calloc(1, sizeof(*d)), *f = calloc(1, sizeof(*f));
	p->def = d;
	p->inf = f;
	if (!d || !f)
		goto fail;
	p->def_bits = p->our_bits < 9 ? 9 : p->our_bits;
	/* memLevel 5 with small windows: zlib rescans its whole hash table at
	 * every window slide, so a table sized for 32 KB makes a 512-byte window
	 * about 2.5 times slower (docs/compression.md). */
	int mem = p->def_bits <= 12 ? 5 : 8;
	if (deflateInit2(d, Z_BEST_SPEED, Z_DEFLATED, -p->def_bits, mem, Z_DEFAULT_STRATEGY) !=
	    Z_OK)
		goto fail;
	p->def_ok = true;
	if (inflateInit2(f, -p->peer_bits) != Z_OK)
		goto fail;
	p->inf_ok = true;
	return 0;
fail:
	wsc_pmd_free(p);
	return -1;
}

void wsc_pmd_free(struct wsc_pmd *p)
{
	if (p->def_ok)
		deflateEnd(p->def);
	if (p->inf_ok)
		inflateEnd(p->inf);
	free(p->def);
	free(p->inf);
	wsc_buf_free(&p->tmp);
	p->def = p->inf = NULL;
	p->def_ok = p->inf_ok = false;
}

int wsc_pmd_compress(struct wsc_pmd *p, const uint8_t *in, size_t n, struct wsc_buf *out)
{
	z_stream *z = p->def;
	if (!p->def_ok)
		return -1;
	z->next_in = (Bytef *)(uintptr_t)in;
	size_t left = n;
	size_t start = out->len;
	for (;;) {
		uInt chunk = left > (1u << 30) ? (1u << 30) : (uInt)left;
		/* An empty message may come with in == NULL: no pointer arithmetic then. */
		z->next_in = (Bytef *)(uintptr_t)(n ? in + (n - left) : in);
		z->avail_in = chunk;
		bool last = chunk == left;
		do {
			size_t room = chunk / 2 + 64;
			if (room < 4096)
				room = 4096;
			if (wsc_buf_reserve(out, room) < 0)
				return -1;
			z->next_out = out->p + out->len;
			z->avail_out =
			        (uInt)(out->cap - out->len > (1u << 30) ? (1u << 30)
			                                                : out->cap - out->len);
			uInt before = z->avail_out;
			int rc = deflate(z, last ? Z_SYNC_FLUSH : Z_NO_FLUSH);
			out->len += before - z->avail_out;
			if (rc != Z_OK && rc != Z_BUF_ERROR)
				return -1;
		} while (z->avail_out == 0 || z->avail_in > 0);
		left -= chunk;
		if (last)
			break;
	}
	if (out->len - start >= 4 && memcmp(out->p + out->len - 4, "\x00\x00\xff\xff", 4) == 0)
		out->len -= 4;
	if (out->len == start) {
		/*
		 * zlib made nothing (no input after a flush: the stream is byte
		 * aligned). RFC 7692 7.2.3.6: an empty message is the single
		 * octet 0x00, which with the receiver's 00 00 ff ff is a complete
		 * empty stored block. An empty payload would not be.
		 */
		if (wsc_buf_append(out, "\x00", 1) < 0)
			return -1;
	}
	if (!p->we_take_over && deflateReset(z) != Z_OK)
		return -1;
	return 0;
}

/* Run inflate over in[0..n); returns zlib's code or -2 when cap was passed. */
static int inflate_some(z_stream *z, const uint8_t *in, size_t n, size_t cap, struct wsc_buf *out)
{
	z->next_in = (Bytef *)(uintptr_t)in;
	z->avail_in = (uInt)n;
	for (;;) {
		size_t room = n * 4 + 4096;
		if (room > (4u << 20))
			room = 4u << 20;
		if (room > cap + 1 - out->len)
			room = cap + 1 - out->len;
		if (wsc_buf_reserve(out, room) < 0)
			return Z_MEM_ERROR;
		z->next_out = out->p + out->len;
		z->avail_out = (uInt)room;
		int rc = inflate(z, Z_SYNC_FLUSH);
		out->len += room - z->avail_out;
		if (out->len > cap)
			return -2;
		if (rc == Z_STREAM_END)
			return rc;
		if (rc != Z_OK && rc != Z_BUF_ERROR)
			return rc;
		if (z->avail_in == 0 && z->avail_out > 0)
			return Z_OK;
		if (rc == Z_BUF_ERROR && z->avail_in == 0)
			return Z_OK;
	}
}

int wsc_pmd_inflate(struct wsc_pmd *p, const uint8_t *in, size_t n, size_t cap, struct wsc_buf *out,
                    char *err, size_t errlen)
{
	static const uint8_t tail[4] = {0, 0, 0xff, 0xff};
	z_stream *z = p->inf;
	out->len = 0;
	if (!p->inf_ok) {
		snprintf(err, errlen, "inflater unavailable");
		return -1;
	}
	if (n > UINT32_MAX) {
		snprintf(err, errlen, "compressed message too large");
		return -2;
	}
	int rc = inflate_some(z, in, n, cap, out);
	bool ended = rc == Z_STREAM_END;
	if (rc == Z_OK)
		rc = inflate_some(z, tail, 4, cap, out);
	else if (rc == Z_STREAM_END)
		rc = Z_OK; /* BFINAL was set: the tail is not needed (RFC 7692 7.2.3.1) */
	if (rc == Z_STREAM_END) {
		ended = true;
		rc = Z_OK;
	}
	if (rc == -2) {
		snprintf(err, errlen, "compressed message inflates to more than %zu bytes (limit)",
		         cap);
		inflateReset(z);
		return -2;
	}
	if (rc != Z_OK) {
		snprintf(err, errlen, "invalid deflate data in a compressed message: %s",
		         z->msg ? z->msg : "zlib error");
		inflateReset(z);
		return -1;
	}
	if (!ended && (z->avail_in != 0 || !(z->data_type & 128))) {
		snprintf(err, errlen,
		         "truncated deflate data: the message does not end at a block boundary");
		inflateReset(z);
		return -1;
	}
	if (ended || !p->peer_takes_over) {
		inflateReset(z);
		if (ended && p->peer_takes_over && out->len) {
			size_t w = (size_t)1 << p->peer_bits;
			size_t k = out->len < w ? out->len : w;
			inflateSetDictionary(z, out->p + out->len - k, (uInt)k);
		}
	}
	return 0;
}

int wsc_pmd_bomb(uint64_t inflated, struct wsc_buf *out)
{
	z_stream z;
	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	const size_t chunk = 1u << 20;
	uint8_t *zeros = calloc(1, chunk);
	struct wsc_buf part[3];
	memset(part, 0, sizeof(part));
	int rc = -1;
	if (!zeros)
		goto done;
	/* Chunk 2 onward come out identical (the window is all zeros): make three to check. */
	for (int i = 0; i < 3; i++) {
		z.next_in = zeros;
		z.avail_in = (uInt)chunk;
		do {
			if (wsc_buf_reserve(&part[i], 4096) < 0)
				goto done;
			z.next_out = part[i].p + part[i].len;
			z.avail_out = (uInt)(part[i].cap - part[i].len);
			uInt before = z.avail_out;
			if (deflate(&z, Z_SYNC_FLUSH) == Z_STREAM_ERROR)
				goto done;
			part[i].len += before - z.avail_out;
		} while (z.avail_out == 0 || z.avail_in > 0);
	}
	if (part[1].len != part[2].len || memcmp(part[1].p, part[2].p, part[1].len) != 0)
		goto done; /* this zlib is not periodic here: refuse rather than guess */
	uint64_t chunks = (inflated + chunk - 1) / chunk;
	if (chunks == 0)
		chunks = 1;
	if (wsc_buf_append(out, part[0].p, part[0].len) < 0)
		goto done;
	for (uint64_t i = 1; i < chunks; i++)
		if (wsc_buf_append(out, part[1].p, part[1].len) < 0)
			goto done;
	if (out->len >= 4 && memcmp(out->p + out->len - 4, "\x00\x00\xff\xff", 4) == 0)
		out->len -= 4;
	rc = 0;
done:
	deflateEnd(&z);
	free(zeros);
	for (int i = 0; i < 3; i++)
		wsc_buf_free(&part[i]);
	return rc;
}
