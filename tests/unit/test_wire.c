/*
 * test_wire.c - the harness's own codec (harness/wire.c) and helpers
 * (harness/util.c): writer vectors for every length form, masking, forced
 * encodings, declared-length lies and auto-fragmentation; reader vectors fed
 * whole, byte by byte and split at every offset (each piece against a guard
 * page); hostile inputs with bounded memory.
 */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "util.h"
#include "wire.h"

/* ------------------------------------------------------------- helpers */

struct ev {
	enum wsc_rd_kind kind;
	uint8_t opcode; /* MESSAGE; FRAME: frame opcode */
	uint8_t *data;  /* MESSAGE/PING/PONG/CLOSE payload */
	size_t len;
	int close_code;
	uint16_t fail_code;
	bool fin;
};

struct evlist {
	struct ev e[64];
	size_t n;
};

static void evlist_free(struct evlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->e[i].data);
	l->n = 0;
}

static void record(struct evlist *l, const struct wsc_rd_event *ev)
{
	if (l->n == 64)
		return;
	struct ev *e = &l->e[l->n++];
	memset(e, 0, sizeof(*e));
	e->kind = ev->kind;
	e->fail_code = ev->fail_code;
	if (ev->kind == WSC_RD_FRAME) {
		e->opcode = ev->frame.opcode;
		e->fin = ev->frame.fin;
		e->len = (size_t)ev->frame.len;
		return;
	}
	e->opcode = ev->opcode;
	e->close_code = ev->close_code;
	if (ev->data || ev->len) {
		e->data = malloc(ev->len ? ev->len : 1);
		memcpy(e->data, ev->data, ev->len);
		e->len = ev->len;
	}
}

/* Feed one piece (copied against a guard page) and drain every event. */
static void feed_piece(struct wsc_reader *r, const uint8_t *p, size_t n, struct evlist *l)
{
	uint8_t *g = tu_guard_copy(p, n);
	size_t off = 0;
	for (;;) {
		struct wsc_rd_event ev;
		size_t used = 0;
		enum wsc_rd_kind k = wsc_reader_next(r, g + off, n - off, &used, &ev);
		ASSERT(used <= n - off);
		off += used;
		if (k == WSC_RD_NEED_MORE)
			break;
		record(l, &ev);
	}
	ASSERT_EQ(off, n);
	tu_guard_free(g, n);
}

/*
 * Split modes: 0 whole, 1 byte by byte, k >= 2: two pieces cut at k - 2.
 */
static void run_reader(const uint8_t *in, size_t n, bool peer_is_client, size_t max_message,
                       int mode, struct evlist *l)
{
	struct wsc_reader r;
	wsc_reader_init(&r, peer_is_client, 0, max_message);
	if (mode == 0) {
		feed_piece(&r, in, n, l);
	} else if (mode == 1) {
		for (size_t i = 0; i < n; i++)
			feed_piece(&r, in + i, 1, l);
	} else {
		size_t cut = (size_t)mode - 2;
		feed_piece(&r, in, cut, l);
		feed_piece(&r, in + cut, n - cut, l);
	}
	wsc_reader_free(&r);
}

static bool ev_equal(const struct ev *a, const struct ev *b)
{
	if (a->kind != b->kind || a->opcode != b->opcode || a->len != b->len ||
	    a->close_code != b->close_code || a->fail_code != b->fail_code || a->fin != b->fin)
		return false;
	if (a->kind != WSC_RD_FRAME && a->len && memcmp(a->data, b->data, a->len) != 0)
		return false;
	return true;
}

/*
 * Run a vector whole, byte by byte and at every split; every way must give
 * exactly the same events as the whole run, whose kinds must be `kinds`.
 */
static void check_vector(const char *name, const uint8_t *in, size_t n, bool peer_is_client,
                         const enum wsc_rd_kind *kinds, size_t nk, struct evlist *whole)
{
	run_reader(in, n, peer_is_client, 0, 0, whole);
	ASSERT_EQ(whole->n, nk);
	for (size_t i = 0; i < nk && i < whole->n; i++) {
		if (whole->e[i].kind != kinds[i])
			tu_fail(__FILE__, __LINE__, "%s: event %zu kind %d, want %d", name, i,
			        whole->e[i].kind, kinds[i]);
	}
	for (int mode = 1; mode <= (int)n + 2; mode++) {
		struct evlist other = {.n = 0};
		run_reader(in, n, peer_is_client, 0, mode, &other);
		bool same = other.n == whole->n;
		for (size_t i = 0; same && i < other.n; i++)
			same = ev_equal(&other.e[i], &whole->e[i]);
		tu_checks++;
		if (!same)
			tu_fail(__FILE__, __LINE__, "%s: split mode %d gives different events",
			        name, mode);
		evlist_free(&other);
	}
}

/* Build a server frame (unmasked) into out; returns its length. */
static size_t frame(uint8_t *out, uint8_t b0, const void *payload, size_t n)
{
	struct wsc_buf b;
	wsc_buf_init(&b);
	struct wsc_wframe f = {.opcode = b0 & 15u,
	                       .rsv = (b0 >> 4) & 7u,
	                       .fin = b0 & 0x80,
	                       .payload = payload,
	                       .payload_len = n};
	wsc_wire_write(&b, &f, NULL);
	memcpy(out, b.p, b.len);
	size_t len = b.len;
	wsc_buf_free(&b);
	return len;
}

/* ------------------------------------------------------------- util */

static void test_utf8_validator_vectors(void)
{
	static const struct {
		const char *s;
		size_t n;
		bool ok;
	} v[] = {
	        {"", 0, true},
	        {"Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc\xc3\xa0\xc3\xa1-UTF-8!!", 29,
	         true},
	        {"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5", 11, true},
	        {"\xf0\x90\x80\x80", 4, true},
	        {"\xf4\x8f\xbf\xbf", 4, true},
	        {"\xef\xbf\xbf", 3, true},
	        {"\xf4\x90\x80\x80", 4, false}, /* above U+10FFFF */
	        {"\xed\xa0\x80", 3, false},     /* surrogate */
	        {"\xc0\xaf", 2, false},         /* overlong */
	        {"\xe0\x80\xaf", 3, false},     /* overlong */
	        {"\xf0\x80\x80\xaf", 4, false}, /* overlong */
	        {"\x80", 1, false},
	        {"\xce", 1, false}, /* truncated */
	        {"\xfe", 1, false},
	        {"\xf5\x80\x80\x80", 4, false},
	        {"abcdefghijklmnop\xc3", 17, false},
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		ASSERT_EQ(wsc_utf8_valid((const uint8_t *)v[i].s, v[i].n), v[i].ok);
		for (size_t cut = 0; cut <= v[i].n; cut++) {
			struct wsc_utf8 u;
			wsc_utf8_init(&u);
			wsc_utf8_feed(&u, (const uint8_t *)v[i].s, cut);
			wsc_utf8_feed(&u, (const uint8_t *)v[i].s + cut, v[i].n - cut);
			ASSERT_EQ(wsc_utf8_done(&u), v[i].ok);
		}
	}
	/* the offset of the first bad byte (the 6.3 message: 0xA0 at 12) */
	const uint8_t bad[] = "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64";
	struct wsc_utf8 u;
	wsc_utf8_init(&u);
	for (size_t i = 0; i < sizeof(bad) - 1; i++)
		wsc_utf8_feed(&u, bad + i, 1);
	ASSERT(u.bad);
	ASSERT_EQ(u.bad_at, 12);
}

static void test_accept_key_matches_rfc_example(void)
{
	char out[29];
	wsc_ws_accept("dGhlIHNhbXBsZSBub25jZQ==", 24, out);
	ASSERT_STREQ(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
	char b64[32];
	ASSERT_EQ(wsc_base64((const uint8_t *)"the sample nonce", 16, b64, sizeof(b64)), 24);
	ASSERT_STREQ(b64, "dGhlIHNhbXBsZSBub25jZQ==");
	ASSERT_EQ(wsc_base64((const uint8_t *)"x", 1, b64, 4), -1); /* needs 5 */
}

static void test_buf_grows_consumes_and_prints(void)
{
	struct wsc_buf b;
	wsc_buf_init(&b);
	for (int i = 0; i < 1000; i++)
		ASSERT_EQ(wsc_buf_append(&b, "abc", 3), 0);
	ASSERT_EQ(b.len, 3000);
	wsc_buf_consume(&b, 2999);
	ASSERT_EQ(b.len, 1);
	ASSERT_EQ(b.p[0], 'c');
	wsc_buf_reset(&b);
	ASSERT_EQ(wsc_buf_printf(&b, "%s %d", "x", 42), 0);
	ASSERT_MEMEQ(b.p, b.len, "x 42", 4);
	wsc_buf_free(&b);
	ASSERT(b.p == NULL);
}

/* ------------------------------------------------------------- writer */

static void write1(struct wsc_buf *b, const struct wsc_wframe *f)
{
	wsc_buf_reset(b);
	ASSERT_EQ(wsc_wire_write(b, f, NULL), 0);
}

static void test_writer_length_forms(void)
{
	static uint8_t pl[70000];
	memset(pl, '*', sizeof(pl));
	struct wsc_buf b;
	wsc_buf_init(&b);
	struct wsc_wframe f = {.opcode = 1, .fin = true, .payload = pl};

	f.payload_len = 0;
	write1(&b, &f);
	ASSERT_MEMEQ(b.p, b.len, "\x81\x00", 2);

	f.payload_len = 125;
	write1(&b, &f);
	ASSERT_EQ(b.len, 127);
	ASSERT_EQ(b.p[1], 125);

	f.payload_len = 126;
	write1(&b, &f);
	ASSERT_EQ(b.len, 4 + 126);
	ASSERT_MEMEQ(b.p, 4, "\x81\x7e\x00\x7e", 4);

	f.payload_len = 65535;
	write1(&b, &f);
	ASSERT_EQ(b.len, 4 + 65535);
	ASSERT_MEMEQ(b.p, 4, "\x81\x7e\xff\xff", 4);

	f.payload_len = 65536;
	write1(&b, &f);
	ASSERT_EQ(b.len, 10 + 65536);
	ASSERT_MEMEQ(b.p, 10, "\x81\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10);

	/* forced non-minimal forms */
	f.payload_len = 5;
	f.lenform = 16;
	write1(&b, &f);
	ASSERT_MEMEQ(b.p, 4, "\x81\x7e\x00\x05", 4);
	f.lenform = 64;
	write1(&b, &f);
	ASSERT_MEMEQ(b.p, 10, "\x81\x7f\x00\x00\x00\x00\x00\x00\x00\x05", 10);
	ASSERT_EQ(b.len, 15);
	/* a forced 16-bit form that cannot hold the length falls back */
	f.payload_len = 65536;
	f.lenform = 16;
	write1(&b, &f);
	ASSERT_EQ(b.p[1], 127);
	wsc_buf_free(&b);
}

static void test_writer_any_header_bits(void)
{
	struct wsc_buf b;
	wsc_buf_init(&b);
	struct wsc_wframe f = {.opcode = 15, .rsv = 7, .fin = false};
	write1(&b, &f);
	ASSERT_MEMEQ(b.p, b.len, "\x7f\x00", 2);
	f.opcode = 0x1b; /* only the low 4 bits exist */
	f.rsv = 4;
	f.fin = true;
	write1(&b, &f);
	ASSERT_MEMEQ(b.p, b.len, "\xcb\x00", 2);
	wsc_buf_free(&b);
}

static void test_writer_masking(void)
{
	struct wsc_buf b;
	wsc_buf_init(&b);
	const uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};
	struct wsc_wframe f = {.opcode = 1,
	                       .fin = true,
	                       .mask = WSC_WMASK_KEY,
	                       .payload = (const uint8_t *)"Hello",
	                       .payload_len = 5};
	memcpy(f.key, key, 4);
	write1(&b, &f);
	/* RFC 6455 section 5.7 example */
	ASSERT_MEMEQ(b.p, b.len, "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", 11);

	/* random keys: the payload unmasks with the key in the header */
	f.mask = WSC_WMASK_RANDOM;
	int differ = 0;
	uint8_t first[4] = {0};
	for (int i = 0; i < 8; i++) {
		struct wsc_wresult res;
		wsc_buf_reset(&b);
		ASSERT_EQ(wsc_wire_write(&b, &f, &res), 0);
		ASSERT(res.masked);
		ASSERT_MEMEQ(b.p + 2, 4, res.key, 4);
		uint8_t p[5];
		memcpy(p, b.p + 6, 5);
		wsc_wire_mask(p, 5, b.p + 2, 0);
		ASSERT_MEMEQ(p, 5, "Hello", 5);
		if (i == 0)
			memcpy(first, res.key, 4);
		else if (memcmp(first, res.key, 4) != 0)
			differ++;
	}
	ASSERT(differ > 0);
	wsc_buf_free(&b);
}

static void test_writer_declared_length_lies(void)
{
	struct wsc_buf b;
	wsc_buf_init(&b);
	const uint8_t key[4] = {1, 2, 3, 4};
	/* declares 21, carries 3: all three masked */
	struct wsc_wframe f = {.opcode = 1,
	                       .fin = true,
	                       .mask = WSC_WMASK_KEY,
	                       .payload = (const uint8_t *)"abc",
	                       .payload_len = 3,
	                       .len_override = true,
	                       .len = 21};
	memcpy(f.key, key, 4);
	struct wsc_wresult res;
	ASSERT_EQ(wsc_wire_write(&b, &f, &res), 0);
	ASSERT_EQ(res.declared, 21);
	ASSERT_EQ(b.len, 2 + 4 + 3);
	ASSERT_EQ(b.p[1], 0x80 | 21);
	ASSERT_EQ(b.p[6], 'a' ^ 1);
	ASSERT_EQ(b.p[8], 'c' ^ 3);

	/* declares 2, carries 5: bytes past the declared length go out as they are */
	wsc_buf_reset(&b);
	f.payload = (const uint8_t *)"ab\x81\x00Z";
	f.payload_len = 5;
	f.len = 2;
	ASSERT_EQ(wsc_wire_write(&b, &f, NULL), 0);
	ASSERT_EQ(b.len, 2 + 4 + 5);
	ASSERT_EQ(b.p[6], 'a' ^ 1);
	ASSERT_EQ(b.p[7], 'b' ^ 2);
	ASSERT_MEMEQ(b.p + 8, 3, "\x81\x00Z", 3);

	/* 63-bit length with the top bit, no payload */
	wsc_buf_reset(&b);
	struct wsc_wframe g = {
	        .opcode = 2, .fin = true, .len_override = true, .len = 0x8000000000000001ull};
	ASSERT_EQ(wsc_wire_write(&b, &g, NULL), 0);
	ASSERT_MEMEQ(b.p, b.len, "\x82\x7f\x80\x00\x00\x00\x00\x00\x00\x01", 10);
	/* a declared 200 with a forced 7-bit form cannot fit: minimal 16-bit */
	wsc_buf_reset(&b);
	g.len = 200;
	g.lenform = 7;
	ASSERT_EQ(wsc_wire_write(&b, &g, NULL), 0);
	ASSERT_MEMEQ(b.p, b.len, "\x82\x7e\x00\xc8", 4);
	wsc_buf_free(&b);
}

struct fr_log {
	struct wsc_wresult r[16];
	size_t n;
};

static void log_frame(void *ctx, const struct wsc_wresult *res)
{
	struct fr_log *l = ctx;
	if (l->n < 16)
		l->r[l->n++] = *res;
}

static void test_writer_auto_fragmentation(void)
{
	struct wsc_buf b;
	wsc_buf_init(&b);
	struct fr_log log = {.n = 0};
	struct wsc_wframe f = {.opcode = 1,
	                       .rsv = 4,
	                       .fin = true,
	                       .payload = (const uint8_t *)"0123456789",
	                       .payload_len = 10};
	ASSERT_EQ(wsc_wire_write_frags(&b, &f, 3, log_frame, &log), 0);
	ASSERT_EQ(log.n, 4);
	ASSERT_MEMEQ(b.p, b.len,
	             "\x41\x03"
	             "012"
	             "\x00\x03"
	             "345"
	             "\x00\x03"
	             "678"
	             "\x80\x01"
	             "9",
	             18);
	ASSERT_EQ(log.r[0].start, 0);
	ASSERT_EQ(log.r[0].end, 5);
	ASSERT_EQ(log.r[3].end, 18);
	ASSERT_EQ(log.r[3].payload_len, 1);

	/* fin=0 on the message: the last fragment keeps FIN clear too */
	wsc_buf_reset(&b);
	log.n = 0;
	f.fin = false;
	f.rsv = 0;
	ASSERT_EQ(wsc_wire_write_frags(&b, &f, 5, log_frame, &log), 0);
	ASSERT_EQ(log.n, 2);
	ASSERT_EQ(b.p[0], 0x01);
	ASSERT_EQ(b.p[7], 0x00);

	/* empty payload and payload <= frag: one frame */
	wsc_buf_reset(&b);
	log.n = 0;
	f.fin = true;
	f.payload_len = 0;
	ASSERT_EQ(wsc_wire_write_frags(&b, &f, 3, log_frame, &log), 0);
	ASSERT_EQ(log.n, 1);
	ASSERT_MEMEQ(b.p, b.len, "\x81\x00", 2);

	/* Autobahn 10.1.1: 64 KiB at 1300 gives 1 text + 50 continuations */
	static uint8_t big[65536];
	wsc_buf_reset(&b);
	struct fr_log many = {.n = 0};
	f.payload = big;
	f.payload_len = sizeof(big);
	size_t count = 0;
	ASSERT_EQ(wsc_wire_write_frags(&b, &f, 1300, NULL, NULL), 0);
	for (size_t off = 0; off < b.len; count++) {
		uint8_t l7 = b.p[off + 1] & 127;
		size_t pl = l7 == 126 ? ((size_t)b.p[off + 2] << 8 | b.p[off + 3]) : l7;
		off += (l7 == 126 ? 4 : 2) + pl;
	}
	ASSERT_EQ(count, 51);
	(void)many;
	wsc_buf_free(&b);
}

/* ------------------------------------------------------------- reader */

static void test_reader_text_message(void)
{
	uint8_t in[64];
	size_t n = frame(in, 0x81, "Hello", 5);
	enum wsc_rd_kind k[] = {WSC_RD_FRAME, WSC_RD_MESSAGE};
	struct evlist l = {.n = 0};
	check_vector("text", in, n, false, k, 2, &l);
	ASSERT_EQ(l.e[1].opcode, 1);
	ASSERT_MEMEQ(l.e[1].data, l.e[1].len, "Hello", 5);
	evlist_free(&l);
}

static void test_reader_fragments_with_ping_between(void)
{
	uint8_t in[64];
	size_t n = frame(in, 0x01, "Hel", 3);
	n += frame(in + n, 0x89, "pp", 2);
	n += frame(in + n, 0x80, "lo", 2);
	enum wsc_rd_kind k[] = {WSC_RD_FRAME, WSC_RD_FRAME, WSC_RD_PING, WSC_RD_FRAME,
	                        WSC_RD_MESSAGE};
	struct evlist l = {.n = 0};
	check_vector("frags", in, n, false, k, 5, &l);
	ASSERT_MEMEQ(l.e[2].data, l.e[2].len, "pp", 2);
	ASSERT_MEMEQ(l.e[4].data, l.e[4].len, "Hello", 5);
	evlist_free(&l);
}

static void test_reader_empty_and_64k_binary(void)
{
	static uint8_t in[70000], pl[65536];
	memset(pl, 0xfe, sizeof(pl));
	size_t n = frame(in, 0x82, NULL, 0);
	n += frame(in + n, 0x82, pl, sizeof(pl));
	n += frame(in + n, 0x8a, NULL, 0);
	struct evlist l = {.n = 0};
	/* whole and byte by byte only: every split of 64 KiB would be slow */
	run_reader(in, n, false, 0, 0, &l);
	ASSERT_EQ(l.n, 6);
	ASSERT_EQ(l.e[1].kind, WSC_RD_MESSAGE);
	ASSERT_EQ(l.e[1].len, 0);
	ASSERT_EQ(l.e[3].kind, WSC_RD_MESSAGE);
	ASSERT_MEMEQ(l.e[3].data, l.e[3].len, pl, sizeof(pl));
	ASSERT_EQ(l.e[5].kind, WSC_RD_PONG);
	struct evlist bb = {.n = 0};
	run_reader(in, n, false, 0, 1, &bb);
	ASSERT_EQ(bb.n, 6);
	ASSERT(bb.n == 6 && ev_equal(&bb.e[3], &l.e[3]));
	evlist_free(&l);
	evlist_free(&bb);
}

static void expect_error(const char *name, const uint8_t *in, size_t n, bool peer_is_client,
                         uint16_t code, size_t n_events, size_t err_at)
{
	struct evlist l = {.n = 0};
	run_reader(in, n, peer_is_client, 0, 0, &l);
	tu_checks++;
	if (l.n != n_events || err_at >= l.n || l.e[err_at].kind != WSC_RD_ERROR ||
	    l.e[err_at].fail_code != code)
		tu_fail(__FILE__, __LINE__, "%s: %zu events (want %zu), event %zu kind %d code %u",
		        name, l.n, n_events, err_at, err_at < l.n ? (int)l.e[err_at].kind : -1,
		        err_at < l.n ? l.e[err_at].fail_code : 0);
	/* and the same, byte by byte and split everywhere */
	for (int mode = 1; mode <= (int)n + 2; mode++) {
		struct evlist o = {.n = 0};
		run_reader(in, n, peer_is_client, 0, mode, &o);
		bool same = o.n == l.n;
		for (size_t i = 0; same && i < o.n; i++)
			same = ev_equal(&o.e[i], &l.e[i]);
		tu_checks++;
		if (!same)
			tu_fail(__FILE__, __LINE__, "%s: split mode %d differs", name, mode);
		evlist_free(&o);
	}
	evlist_free(&l);
}

static void test_reader_violations(void)
{
	uint8_t in[300];
	size_t n;
	/* masked frame from a server; then the reader keeps sync */
	n = (size_t)(memcpy(in, "\x81\x82\x01\x02\x03\x04\x69\x6b", 8), 8);
	n += frame(in + n, 0x81, "ok", 2);
	expect_error("masked from server", in, n, false, 1002, 4, 0);
	/* unmasked from a client */
	n = frame(in, 0x81, "hi", 2);
	expect_error("unmasked from client", in, n, true, 1002, 2, 0);
	/* RSV bits */
	n = frame(in, 0x91, "hi", 2);
	expect_error("rsv", in, n, false, 1002, 2, 0);
	/* reserved opcodes, data and control */
	n = frame(in, 0x83, NULL, 0);
	expect_error("opcode 3", in, n, false, 1002, 2, 0);
	n = frame(in, 0x8b, "x", 1);
	expect_error("opcode 11", in, n, false, 1002, 2, 0);
	/* fragmented control frame */
	n = frame(in, 0x09, "x", 1);
	expect_error("ping fin=0", in, n, false, 1002, 2, 0);
	/* control frame > 125 */
	uint8_t big[126];
	memset(big, 1, sizeof(big));
	n = frame(in, 0x89, big, 126);
	expect_error("ping 126", in, n, false, 1002, 2, 0);
	/* non-minimal 16-bit length */
	n = (size_t)(memcpy(in, "\x81\x7e\x00\x02hi", 6), 6);
	expect_error("non-minimal 16", in, n, false, 1002, 2, 0);
	/* non-minimal 64-bit length */
	n = (size_t)(memcpy(in, "\x82\x7f\x00\x00\x00\x00\x00\x00\x00\x02hi", 12), 12);
	expect_error("non-minimal 64", in, n, false, 1002, 2, 0);
	/* orphan continuation, then a valid text still comes through */
	n = frame(in, 0x80, "zz", 2);
	n += frame(in + n, 0x81, "ok", 2);
	expect_error("orphan", in, n, false, 1002, 4, 0);
	/* new text frame inside a fragmented message */
	n = frame(in, 0x01, "a", 1);
	n += frame(in + n, 0x81, "b", 1);
	expect_error("text mid-message", in, n, false, 1002, 3, 1);
	/* invalid UTF-8 (6.3 message) */
	const char *bad = "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80"
	                  "edited";
	n = frame(in, 0x81, bad, 20);
	expect_error("utf8", in, n, false, 1007, 2, 0);
	/* text ending inside a code point */
	n = frame(in, 0x81, "a\xce", 2);
	expect_error("utf8 cut", in, n, false, 1007, 2, 1);
	/* a bad text message followed by a good binary one */
	n = frame(in, 0x01, "\xff", 1);
	n += frame(in + n, 0x80, "x", 1);
	n += frame(in + n, 0x82, "b", 1);
	expect_error("utf8 then binary", in, n, false, 1007, 5, 0);
}

static void test_reader_close_frames(void)
{
	uint8_t in[300];
	size_t n;
	struct evlist l = {.n = 0};
	enum wsc_rd_kind k[] = {WSC_RD_FRAME, WSC_RD_CLOSE};

	n = frame(in, 0x88, NULL, 0);
	check_vector("close empty", in, n, false, k, 2, &l);
	ASSERT_EQ(l.e[1].close_code, 1005);
	ASSERT_EQ(l.e[1].fail_code, 0);
	evlist_free(&l);

	n = frame(in, 0x88,
	          "\x03\xe8"
	          "bye",
	          5);
	check_vector("close 1000", in, n, false, k, 2, &l);
	ASSERT_EQ(l.e[1].close_code, 1000);
	ASSERT_EQ(l.e[1].fail_code, 0);
	evlist_free(&l);

	static const struct {
		const char *p;
		size_t n;
		int code;
		uint16_t fail;
	} v[] = {
	        {"a", 1, 1005, 1002},         {"\x03\xe7", 2, 999, 1002},
	        {"\x03\xec", 2, 1004, 1002},  {"\x03\xed", 2, 1005, 1002},
	        {"\x03\xee", 2, 1006, 1002},  {"\x03\xf0", 2, 1008, 0},
	        {"\x03\xf4", 2, 1012, 1002},  {"\x0b\xb8", 2, 3000, 0},
	        {"\x13\x87", 2, 4999, 0},     {"\x13\x88", 2, 5000, 1002},
	        {"\xff\xff", 2, 65535, 1002}, {"\x03\xe8\xed\xa0\x80", 5, 1000, 1007},
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		n = frame(in, 0x88, v[i].p, v[i].n);
		check_vector("close code", in, n, false, k, 2, &l);
		ASSERT_EQ(l.e[1].close_code, v[i].code);
		ASSERT_EQ(l.e[1].fail_code, v[i].fail);
		evlist_free(&l);
	}
}

static void test_reader_client_role_unmasks(void)
{
	struct wsc_buf b;
	wsc_buf_init(&b);
	struct wsc_wframe f = {.opcode = 1,
	                       .fin = false,
	                       .mask = WSC_WMASK_RANDOM,
	                       .payload = (const uint8_t *)"Hello, ",
	                       .payload_len = 7};
	wsc_wire_write(&b, &f, NULL);
	f.opcode = 0;
	f.fin = true;
	f.payload = (const uint8_t *)"world";
	f.payload_len = 5;
	wsc_wire_write(&b, &f, NULL);
	enum wsc_rd_kind k[] = {WSC_RD_FRAME, WSC_RD_FRAME, WSC_RD_MESSAGE};
	struct evlist l = {.n = 0};
	check_vector("client masked", b.p, b.len, true, k, 3, &l);
	ASSERT_MEMEQ(l.e[2].data, l.e[2].len, "Hello, world", 12);
	evlist_free(&l);
	wsc_buf_free(&b);
}

static void test_reader_frame_head_is_unmasked_and_capped(void)
{
	uint8_t pl[100];
	for (int i = 0; i < 100; i++)
		pl[i] = (uint8_t)i;
	struct wsc_buf b;
	wsc_buf_init(&b);
	struct wsc_wframe f = {.opcode = 2,
	                       .fin = true,
	                       .mask = WSC_WMASK_RANDOM,
	                       .payload = pl,
	                       .payload_len = 100};
	wsc_wire_write(&b, &f, NULL);
	struct wsc_reader r;
	wsc_reader_init(&r, true, 0, 0);
	struct wsc_rd_event ev;
	size_t used;
	ASSERT_EQ(wsc_reader_next(&r, b.p, b.len, &used, &ev), WSC_RD_FRAME);
	ASSERT_EQ(used, b.len);
	ASSERT_EQ(ev.frame.len, 100);
	ASSERT_EQ(ev.frame.head_len, WSC_RD_HEAD_KEEP);
	ASSERT_MEMEQ(ev.frame.head, ev.frame.head_len, pl, WSC_RD_HEAD_KEEP);
	ASSERT_EQ(wsc_reader_next(&r, NULL, 0, &used, &ev), WSC_RD_MESSAGE);
	ASSERT_MEMEQ(ev.data, ev.len, pl, 100);
	ASSERT_EQ(wsc_reader_next(&r, NULL, 0, &used, &ev), WSC_RD_NEED_MORE);
	wsc_reader_free(&r);
	wsc_buf_free(&b);
}

/* ------------------------------------------------------------- hostile */

static void drain(struct wsc_reader *r, const uint8_t *p, size_t n, size_t *errors,
                  size_t *messages)
{
	size_t off = 0;
	for (;;) {
		struct wsc_rd_event ev;
		size_t used;
		enum wsc_rd_kind k = wsc_reader_next(r, p + off, n - off, &used, &ev);
		off += used;
		if (k == WSC_RD_NEED_MORE)
			break;
		if (k == WSC_RD_ERROR)
			(*errors)++;
		if (k == WSC_RD_MESSAGE)
			(*messages)++;
	}
}

static void test_hostile_huge_lengths_allocate_nothing(void)
{
	static uint8_t junk[1 << 20];
	memset(junk, 'A', sizeof(junk));
	/* 2^63 - 1: within 63 bits but far above the message cap */
	const uint8_t h1[] = {0x82, 0x7f, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	struct wsc_reader r;
	wsc_reader_init(&r, false, 0, 0);
	size_t errors = 0, messages = 0;
	drain(&r, h1, sizeof(h1), &errors, &messages);
	ASSERT_EQ(errors, 1);
	for (int i = 0; i < 16; i++)
		drain(&r, junk, sizeof(junk), &errors, &messages);
	ASSERT_EQ(errors, 1);
	ASSERT_EQ(messages, 0);
	ASSERT_EQ(r.msg.cap, 0); /* nothing buffered */
	wsc_reader_free(&r);

	/* top bit set */
	const uint8_t h2[] = {0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0};
	wsc_reader_init(&r, false, 0, 0);
	errors = messages = 0;
	drain(&r, h2, sizeof(h2), &errors, &messages);
	ASSERT_EQ(errors, 1);
	drain(&r, junk, sizeof(junk), &errors, &messages);
	ASSERT_EQ(errors, 1);
	ASSERT_EQ(r.msg.cap, 0);
	wsc_reader_free(&r);
}

static void test_hostile_endless_message_stops_at_cap(void)
{
	static uint8_t chunk[1 << 16];
	memset(chunk, 'x', sizeof(chunk));
	struct wsc_reader r;
	wsc_reader_init(&r, false, 0, 1u << 20); /* 1 MiB cap */
	size_t errors = 0, messages = 0;
	/* endless fragmented text: 64 KiB frames, FIN never set */
	struct wsc_buf b;
	wsc_buf_init(&b);
	for (int i = 0; i < 40; i++) {
		wsc_buf_reset(&b);
		struct wsc_wframe f = {.opcode = i ? 0 : 1,
		                       .fin = false,
		                       .payload = chunk,
		                       .payload_len = sizeof(chunk)};
		wsc_wire_write(&b, &f, NULL);
		drain(&r, b.p, b.len, &errors, &messages);
	}
	ASSERT_EQ(errors, 1); /* the 1009 once, then the rest is swallowed */
	ASSERT_EQ(messages, 0);
	ASSERT(r.msg.cap <= (1u << 20));
	/* the stream is still in sync: end the message, then a valid one */
	wsc_buf_reset(&b);
	struct wsc_wframe end = {.opcode = 0, .fin = true};
	wsc_wire_write(&b, &end, NULL);
	struct wsc_wframe ok = {
	        .opcode = 1, .fin = true, .payload = (const uint8_t *)"ok", .payload_len = 2};
	wsc_wire_write(&b, &ok, NULL);
	drain(&r, b.p, b.len, &errors, &messages);
	ASSERT_EQ(errors, 1);
	ASSERT_EQ(messages, 1);
	wsc_reader_free(&r);
	wsc_buf_free(&b);
}

static void test_hostile_garbage_never_crashes(void)
{
	static uint8_t g[1 << 20];
	uint32_t x = 12345;
	for (size_t i = 0; i < sizeof(g); i++) {
		x = x * 1103515245u + 12345u;
		g[i] = (uint8_t)(x >> 16);
	}
	for (int role = 0; role < 2; role++) {
		struct wsc_reader r;
		wsc_reader_init(&r, role == 1, 0, 1u << 16);
		size_t errors = 0, messages = 0;
		for (size_t off = 0; off < sizeof(g); off += 4093) {
			size_t n = sizeof(g) - off < 4093 ? sizeof(g) - off : 4093;
			uint8_t *p = tu_guard_copy(g + off, n);
			drain(&r, p, n, &errors, &messages);
			tu_guard_free(p, n);
		}
		ASSERT(errors > 0);
		ASSERT(r.msg.cap <= (1u << 17));
		wsc_reader_free(&r);
	}
}

int main(void)
{
	RUN(test_utf8_validator_vectors);
	RUN(test_accept_key_matches_rfc_example);
	RUN(test_buf_grows_consumes_and_prints);
	RUN(test_writer_length_forms);
	RUN(test_writer_any_header_bits);
	RUN(test_writer_masking);
	RUN(test_writer_declared_length_lies);
	RUN(test_writer_auto_fragmentation);
	RUN(test_reader_text_message);
	RUN(test_reader_fragments_with_ping_between);
	RUN(test_reader_empty_and_64k_binary);
	RUN(test_reader_violations);
	RUN(test_reader_close_frames);
	RUN(test_reader_client_role_unmasks);
	RUN(test_reader_frame_head_is_unmasked_and_capped);
	RUN(test_hostile_huge_lengths_allocate_nothing);
	RUN(test_hostile_endless_message_stops_at_cap);
	RUN(test_hostile_garbage_never_crashes);
	return tu_finish("wire");
}
