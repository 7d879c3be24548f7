/* wsr_conn: the state machine, both roles. */
#include "conn_driver.h"

static struct log L1, L2;

/*
 * Run a server over `in` whole, byte by byte and split at every offset:
 * every run must give the same events and output. The whole run is left in L1.
 */
static void server_all_ways(const struct wsr_config *cfg, const struct bytes *in)
{
	run_server(cfg, in, CHOP_WHOLE, 0, &L1);
	run_server(cfg, in, CHOP_BYTES, 0, &L2);
	ASSERT_STREQ(L2.s, L1.s);
	ASSERT_MEMEQ(L2.out.p, L2.out.len, L1.out.p, L1.out.len);
	size_t step = in->len > 3000 ? in->len / 97 : 1;
	unsigned diffs = 0;
	for (size_t at = 1; at < in->len; at += step) {
		run_server(cfg, in, CHOP_AT, at, &L2);
		diffs += strcmp(L2.s, L1.s) != 0 || L2.out.len != L1.out.len ||
		         memcmp(L2.out.p, L1.out.p, L1.out.len) != 0;
	}
	ASSERT_EQ(diffs, 0);
	run_server(cfg, in, CHOP_WHOLE, 0, &L1);
}

static struct bytes in;

static void start(void)
{
	in.len = 0;
	bytes_str(&in, UPGRADE);
}

static void test_server_handshake_and_echo(void)
{
	struct wsr_config cfg = server_cfg();
	start();
	cframe(&in, true, WSR_OP_TEXT, "Hello");
	cframe(&in, true, WSR_OP_BINARY, "");
	server_all_ways(&cfg, &in);
	ASSERT_STREQ(L1.s, "OPEN\nMESSAGE:T:Hello\nMESSAGE:B:\nstate=1");
	const char *want = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
	                   "Connection: Upgrade\r\nSec-WebSocket-Accept: " RFC_ACCEPT "\r\n\r\n";
	ASSERT_MEMEQ(L1.out.p, L1.out.len, want, strlen(want));

	/* send: unmasked from a server, minimal lengths */
	struct wsr_conn *c = malloc(wsr_conn_size());
	struct log l = {0};
	ASSERT_EQ(wsr_conn_init(c, &cfg), WSR_OK);
	ASSERT_EQ(wsr_conn_send(c, WSR_OP_TEXT, (const uint8_t *)"x", 1), WSR_BAD_STATE);
	feed_all(c, in.p, in.len, CHOP_WHOLE, 0, &l);
	l.out.len = 0;
	ASSERT_EQ(wsr_conn_send(c, WSR_OP_TEXT, (const uint8_t *)"Hello", 5), WSR_OK);
	static uint8_t big[70000];
	ASSERT_EQ(wsr_conn_send(c, WSR_OP_BINARY, big, 126), WSR_OK);
	ASSERT_EQ(wsr_conn_send(c, WSR_OP_BINARY, big, sizeof big), WSR_OK);
	ASSERT_EQ(wsr_conn_send(c, WSR_OP_TEXT, (const uint8_t *)"\xc3", 1), WSR_INVALID_ARGUMENT);
	ASSERT_EQ(wsr_conn_send(c, WSR_OP_PING, (const uint8_t *)"x", 1), WSR_INVALID_ARGUMENT);
	ASSERT_EQ(wsr_conn_ping(c, big, 126), WSR_INVALID_ARGUMENT);
	ASSERT_EQ(wsr_conn_ping(c, (const uint8_t *)"p", 1), WSR_OK);
	drain(c, &l);
	ASSERT_EQ(l.out.len, 7 + 4 + 126 + 10 + sizeof big + 3);
	ASSERT_MEMEQ(l.out.p, 7, "\x81\x05Hello", 7);
	ASSERT_MEMEQ(l.out.p + 7, 4, "\x82\x7e\x00\x7e", 4);
	ASSERT_MEMEQ(l.out.p + 137, 4, "\x82\x7f\x00\x00", 4);
	ASSERT_MEMEQ(l.out.p + l.out.len - 3, 3, "\x89\x01p", 3);
	wsr_conn_free(c);
	free(c);
}

static void test_fragments_ping_pong(void)
{
	struct wsr_config cfg = server_cfg();
	start();
	cframe(&in, false, WSR_OP_TEXT, "Hel");
	cframe(&in, true, WSR_OP_PING, "ping payload");
	cframe(&in, false, WSR_OP_CONTINUATION, "");
	cframe(&in, true, WSR_OP_PONG, "unsolicited");
	cframe(&in, true, WSR_OP_CONTINUATION, "lo \xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5");
	server_all_ways(&cfg, &in);
	ASSERT_STREQ(L1.s,
	             "OPEN\nPING:ping payload\nPONG:unsolicited\n"
	             "MESSAGE:T:Hello \\xce\\xba\\xe1\\xbd\\xb9\\xcf\\x83\\xce\\xbc\\xce\\xb5\n"
	             "state=1");
	size_t h = head_len(&L1.out);
	ASSERT_MEMEQ(L1.out.p + h, L1.out.len - h, "\x8a\x0cping payload", 14);
}

static void test_close_handshake_peer_first(void)
{
	struct wsr_config cfg = server_cfg();
	start();
	frame(&in, true, 0, WSR_OP_CLOSE, "\x0b\xb8see you", 9, MASK); /* 3000 */
	cframe(&in, true, WSR_OP_TEXT, "after close");
	server_all_ways(&cfg, &in);
	ASSERT_STREQ(L1.s, "OPEN\nCLOSE:3000:see you\nstate=3");
	ASSERT_EQ(last_close_code(&L1.out, head_len(&L1.out)), 1000);

	start();
	cframe(&in, true, WSR_OP_CLOSE, "");
	server_all_ways(&cfg, &in);
	ASSERT_STREQ(L1.s, "OPEN\nCLOSE:1005:\nstate=3");
	ASSERT_EQ(last_close_code(&L1.out, head_len(&L1.out)), 0);
}

static void test_close_handshake_we_start(void)
{
	struct wsr_config cfg = server_cfg();
	struct wsr_conn *c = malloc(wsr_conn_size());
	struct log l = {0};
	ASSERT_EQ(wsr_conn_init(c, &cfg), WSR_OK);
	start();
	feed_all(c, in.p, in.len, CHOP_WHOLE, 0, &l);
	size_t h = l.out.len;
	ASSERT_EQ(wsr_conn_close(c, 1005, NULL, 0), WSR_INVALID_ARGUMENT);
	ASSERT_EQ(wsr_conn_close(c, 0, "x", 1), WSR_INVALID_ARGUMENT);
	ASSERT_EQ(wsr_conn_close(c, 1000, "\xff", 1), WSR_INVALID_ARGUMENT);
	ASSERT_EQ(wsr_conn_close(c, 4000, "bye", 3), WSR_OK);
	ASSERT_EQ(wsr_conn_state(c), WSR_STATE_CLOSING);
	ASSERT_EQ(wsr_conn_send(c, WSR_OP_TEXT, (const uint8_t *)"x", 1), WSR_CLOSED);
	/* data and pings after our Close are discarded, not answered */
	in.len = 0;
	cframe(&in, true, WSR_OP_TEXT, "late");
	cframe(&in, true, WSR_OP_PING, "late ping");
	frame(&in, true, 0, WSR_OP_CLOSE, "\x0f\xa0", 2, MASK);
	feed_all(c, in.p, in.len, CHOP_WHOLE, 0, &l);
	ASSERT_STREQ(l.s, "OPEN\nPING:late ping\nCLOSE:4000:\n");
	ASSERT_EQ(wsr_conn_state(c), WSR_STATE_CLOSED);
	ASSERT(wsr_conn_done(c));
	ASSERT_MEMEQ(l.out.p + h, l.out.len - h,
	             "\x88\x05\x0f\xa0"
	             "bye",
	             7);
	struct wsr_event ev;
	ASSERT_EQ(wsr_conn_next_event(c, &ev), WSR_CLOSED);
	wsr_conn_free(c);
	free(c);
}

struct rule {
	const char *name;
	void (*build)(struct bytes *b);
	enum wsr_status st;
};

static void b_rsv2(struct bytes *b)
{
	frame(b, true, 2, WSR_OP_TEXT, "x", 1, MASK);
}
static void b_rsv1(struct bytes *b)
{
	frame(b, true, 4, WSR_OP_BINARY, "x", 1, MASK);
}
static void b_rsv3_close(struct bytes *b)
{
	frame(b, true, 7, WSR_OP_CLOSE, "", 0, MASK);
}
static void b_op3(struct bytes *b)
{
	frame(b, true, 0, 3, "", 0, MASK);
}
static void b_op11(struct bytes *b)
{
	frame(b, true, 0, 11, "x", 1, MASK);
}
static void b_ping_frag(struct bytes *b)
{
	cframe(b, false, WSR_OP_PING, "x");
}
static void b_ping_126(struct bytes *b)
{
	static char p[127];
	memset(p, 'p', 126);
	cframe(b, true, WSR_OP_PING, p);
}
static void b_unmasked(struct bytes *b)
{
	frame(b, true, 0, WSR_OP_TEXT, "x", 1, NULL);
}
static void b_orphan(struct bytes *b)
{
	cframe(b, true, WSR_OP_CONTINUATION, "x");
}
static void b_interleave(struct bytes *b)
{
	cframe(b, false, WSR_OP_TEXT, "a");
	cframe(b, true, WSR_OP_BINARY, "b");
}
static void b_close1(struct bytes *b)
{
	cframe(b, true, WSR_OP_CLOSE, "a");
}
static void b_close1005(struct bytes *b)
{
	frame(b, true, 0, WSR_OP_CLOSE, "\x03\xed", 2, MASK);
}
static void b_close999(struct bytes *b)
{
	frame(b, true, 0, WSR_OP_CLOSE, "\x03\xe7", 2, MASK);
}
static void b_close_reason(struct bytes *b)
{
	frame(b, true, 0, WSR_OP_CLOSE, "\x03\xe8\xed\xa0\x80", 5, MASK);
}
static void b_bad_utf8(struct bytes *b)
{
	cframe(b, true, WSR_OP_TEXT, "ab\xc0\xafz");
}
static void b_utf8_trunc(struct bytes *b)
{
	cframe(b, false, WSR_OP_TEXT, "ab\xe2\x82");
	cframe(b, true, WSR_OP_CONTINUATION, "");
}
static void b_utf8_across(struct bytes *b)
{
	cframe(b, false, WSR_OP_TEXT, "ab\xe2");
	cframe(b, true, WSR_OP_CONTINUATION, "\x82\xac\xed\xbf\xbf");
}
static void b_nonmin(struct bytes *b)
{
	bytes_put(b, "\x82\xfe\x00\x05\x11\x22\x33\x44", 8);
}
static void b_nonmin64(struct bytes *b)
{
	bytes_put(b, "\x82\xff\x00\x00\x00\x00\x00\x00\x00\x05\x11\x22\x33\x44", 14);
}
static void b_msb(struct bytes *b)
{
	bytes_put(b, "\x82\xff\x80\x00\x00\x00\x00\x00\x00\x05\x11\x22\x33\x44", 14);
}
static void b_big_frame(struct bytes *b)
{
	static char p[1001];
	memset(p, 'a', 1000);
	cframe(b, true, WSR_OP_TEXT, p);
}
static void b_big_message(struct bytes *b)
{
	static char p[601];
	memset(p, 'a', 600);
	cframe(b, false, WSR_OP_BINARY, p);
	cframe(b, false, WSR_OP_CONTINUATION, p);
	cframe(b, true, WSR_OP_CONTINUATION, p);
}

static const struct rule rules[] = {
        {"rsv2", b_rsv2, WSR_RSV_NOT_NEGOTIATED},
        {"rsv1 without deflate", b_rsv1, WSR_RSV_NOT_NEGOTIATED},
        {"rsv7 on close", b_rsv3_close, WSR_RSV_NOT_NEGOTIATED},
        {"opcode 3", b_op3, WSR_RESERVED_OPCODE},
        {"opcode 11", b_op11, WSR_RESERVED_OPCODE},
        {"fragmented ping", b_ping_frag, WSR_CONTROL_FRAGMENTED},
        {"ping of 126", b_ping_126, WSR_CONTROL_TOO_LONG},
        {"unmasked", b_unmasked, WSR_UNMASKED_FRAME},
        {"orphan continuation", b_orphan, WSR_UNEXPECTED_CONTINUATION},
        {"interleaved message", b_interleave, WSR_EXPECTED_CONTINUATION},
        {"close of 1 byte", b_close1, WSR_CLOSE_PAYLOAD_ONE_BYTE},
        {"close 1005", b_close1005, WSR_CLOSE_CODE_INVALID},
        {"close 999", b_close999, WSR_CLOSE_CODE_INVALID},
        {"close reason", b_close_reason, WSR_INVALID_CLOSE_REASON},
        {"bad utf8", b_bad_utf8, WSR_INVALID_UTF8},
        {"truncated utf8", b_utf8_trunc, WSR_INVALID_UTF8},
        {"surrogate across frames", b_utf8_across, WSR_INVALID_UTF8},
        {"non-minimal 16", b_nonmin, WSR_NON_MINIMAL_LENGTH},
        {"non-minimal 64", b_nonmin64, WSR_NON_MINIMAL_LENGTH},
        {"length msb", b_msb, WSR_LENGTH_MSB_SET},
        {"frame over max_frame", b_big_frame, WSR_FRAME_TOO_BIG},
        {"message over max_message", b_big_message, WSR_MESSAGE_TOO_BIG},
};

static void test_strictness_rules_send_the_right_close_code(void)
{
	struct wsr_config cfg = server_cfg();
	cfg.limits.max_frame = 999;
	cfg.limits.max_message = 1500;
	for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
		tu_current = rules[i].name;
		start();
		cframe(&in, true, WSR_OP_TEXT, "ok first");
		rules[i].build(&in);
		cframe(&in, true, WSR_OP_TEXT, "never seen");
		server_all_ways(&cfg, &in);
		ASSERT_EQ(L1.fail, rules[i].st);
		uint16_t want = wsr_status_close_code(rules[i].st);
		ASSERT_EQ(L1.fail_code, want);
		ASSERT_EQ(last_close_code(&L1.out, head_len(&L1.out)), want);
		ASSERT(strstr(L1.s, "MESSAGE:T:ok first\nFAIL:") != NULL);
		ASSERT(strstr(L1.s, "never seen") == NULL);
		ASSERT(strstr(L1.s, "state=4") != NULL);
	}
	tu_current = "test_strictness_rules_send_the_right_close_code";
}

static void test_utf8_fails_fast_mid_frame(void)
{
	struct wsr_config cfg = server_cfg();
	struct wsr_conn *c = malloc(wsr_conn_size());
	struct log l = {0};
	ASSERT_EQ(wsr_conn_init(c, &cfg), WSR_OK);
	start();
	feed_all(c, in.p, in.len, CHOP_WHOLE, 0, &l);
	in.len = 0;
	char payload[] = "0123456789abcd\xf4\x90xyzABCDEFGHIJKLMN";
	cframe(&in, true, WSR_OP_TEXT, payload);
	/* read 1: header and 10 good bytes; read 2: the next 10, holding F4 90 */
	size_t hl = 6;
	feed_all(c, in.p, hl + 10, CHOP_WHOLE, 0, &l);
	ASSERT_EQ(l.fail, WSR_OK);
	ASSERT_EQ(wsr_conn_state(c), WSR_STATE_OPEN);
	feed_all(c, in.p + hl + 10, 10, CHOP_WHOLE, 0, &l);
	ASSERT_EQ(l.fail, WSR_INVALID_UTF8);
	ASSERT_EQ(l.fail_code, 1007);
	ASSERT_EQ(wsr_conn_state(c), WSR_STATE_FAILED);
	/* sticky */
	struct wsr_event ev;
	ASSERT_EQ(wsr_conn_next_event(c, &ev), WSR_INVALID_UTF8);
	ASSERT_EQ(wsr_conn_send(c, WSR_OP_BINARY, NULL, 0), WSR_INVALID_UTF8);
	ASSERT_EQ(wsr_conn_ping(c, NULL, 0), WSR_INVALID_UTF8);
	ASSERT_EQ(wsr_conn_recv(c, (const uint8_t *)"xx", 2), 2);
	ASSERT_EQ(wsr_conn_next_event(c, &ev), WSR_INVALID_UTF8);
	wsr_conn_free(c);
	free(c);

	/* also when the first fragment is complete and the bad byte is in the next frame's first
	 * read */
	start();
	cframe(&in, false, WSR_OP_TEXT, "\xce");
	cframe(&in, true, WSR_OP_CONTINUATION, "\xba\xce\xce and more");
	server_all_ways(&cfg, &in);
	ASSERT_EQ(L1.fail, WSR_INVALID_UTF8);
}

static void test_streaming_fragments(void)
{
	struct wsr_config cfg = server_cfg();
	cfg.streaming = true;
	start();
	cframe(&in, false, WSR_OP_TEXT, "Hel");
	cframe(&in, true, WSR_OP_CONTINUATION, "lo");
	run_server(&cfg, &in, CHOP_WHOLE, 0, &L1);
	ASSERT_STREQ(L1.s, "OPEN\nFRAGMENT:T:Hel\nFRAGMENT:T$:lo\nstate=1");
	run_server(&cfg, &in, CHOP_BYTES, 0, &L1);
	ASSERT_STREQ(L1.s, "OPEN\nFRAGMENT:T:H\nFRAGMENT:T:e\nFRAGMENT:T:l\nFRAGMENT:T:l\n"
	                   "FRAGMENT:T$:o\nstate=1");
}

/* ---- client role ---- */

static void client_key(const struct bytes *out, char key[25])
{
	const char *k = memmem(out->p, out->len, "Sec-WebSocket-Key: ", 19);
	memset(key, 0, 25);
	if (k)
		memcpy(key, k + 19, 24);
}

static void fixed_random(void *ctx, uint8_t *buf, size_t n)
{
	unsigned *s = ctx;
	for (size_t i = 0; i < n; i++)
		buf[i] = (uint8_t)(*s = *s * 1103515245u + 12345u) >> 3;
}

static void test_client_role(void)
{
	unsigned seed = 1;
	struct wsr_config cfg;
	memset(&cfg, 0, sizeof cfg);
	cfg.role = WSR_ROLE_CLIENT;
	cfg.host = "127.0.0.1:9001";
	cfg.path = "/runCase?case=1&agent=x";
	cfg.random = fixed_random;
	cfg.random_ctx = &seed;
	struct wsr_conn *c = malloc(wsr_conn_size());
	struct log l = {0};
	ASSERT_EQ(wsr_conn_init(c, &cfg), WSR_OK);
	drain(c, &l);
	const char *req = (const char *)l.out.p;
	ASSERT(strncmp(req, "GET /runCase?case=1&agent=x HTTP/1.1\r\nHost: 127.0.0.1:9001\r\n",
	               59) == 0);
	ASSERT(memmem(l.out.p, l.out.len, "Sec-WebSocket-Version: 13\r\n", 27) != NULL);
	ASSERT(memmem(l.out.p, l.out.len, "Sec-WebSocket-Extensions", 24) == NULL);
	char key[25], accept[29];
	client_key(&l.out, key);
	ASSERT(wsr_handshake_key_valid(key, 24));
	wsr_handshake_accept(key, 24, accept);
	/* the server's response and its first frames arrive in one read */
	in.len = 0;
	bytes_str(
	        &in,
	        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: WebSocket\r\nConnection: upgrade\r\n"
	        "Sec-WebSocket-Accept: ");
	bytes_str(&in, accept);
	bytes_str(&in, "\r\n\r\n");
	frame(&in, true, 0, WSR_OP_TEXT, "hi", 2, NULL);
	frame(&in, true, 0, WSR_OP_PING, "", 0, NULL);
	l.out.len = 0;
	feed_all(c, in.p, in.len, CHOP_WHOLE, 0, &l);
	ASSERT_STREQ(l.s, "OPEN\nMESSAGE:T:hi\nPING:\n");
	/* the client's frames are masked */
	ASSERT_EQ(wsr_conn_send(c, WSR_OP_TEXT, (const uint8_t *)"Hello", 5), WSR_OK);
	drain(c, &l);
	struct wsr_frame_header h;
	ASSERT_EQ(wsr_frame_parse_header(l.out.p, l.out.len, &h), WSR_OK); /* the pong */
	ASSERT(h.masked && h.opcode == WSR_OP_PONG && h.length == 0);
	size_t at = h.header_len;
	ASSERT_EQ(wsr_frame_parse_header(l.out.p + at, l.out.len - at, &h), WSR_OK);
	ASSERT(h.masked && h.opcode == WSR_OP_TEXT && h.length == 5);
	uint8_t *pl = l.out.p + at + h.header_len;
	wsr_mask_bytewise(pl, 5, h.mask, 0);
	ASSERT_MEMEQ(pl, 5, "Hello", 5);
	/* a masked frame from the server fails the client with 1002 */
	in.len = 0;
	frame(&in, true, 0, WSR_OP_TEXT, "x", 1, MASK);
	l.out.len = 0;
	feed_all(c, in.p, in.len, CHOP_WHOLE, 0, &l);
	ASSERT_EQ(l.fail, WSR_MASKED_FRAME);
	ASSERT_EQ(last_close_code(&l.out, 0), 1002);
	wsr_conn_free(c);
	free(c);
}

/* ---- client and server talking to each other (with and without deflate) ---- */

/* Move everything `from` wrote (drained into lfrom->out or still queued) to `to`. */
static void pump(struct wsr_conn *from, struct log *lfrom, struct wsr_conn *to, struct log *lto)
{
	drain(from, lfrom);
	size_t n = lfrom->out.len;
	if (!n)
		return;
	uint8_t *copy = malloc(n);
	memcpy(copy, lfrom->out.p, n);
	lfrom->out.len = 0;
	feed_all(to, copy, n, CHOP_WHOLE, 0, lto);
	free(copy);
}

static void pair_exchange(bool deflate, bool no_takeover)
{
	struct wsr_config sc = server_cfg(), cc;
	memset(&cc, 0, sizeof cc);
	cc.role = WSR_ROLE_CLIENT;
	cc.host = "h";
	static const char *const protos[] = {"b", "a"};
	static const char *const cprotos[] = {"a", "b"};
	sc.subprotocols = protos;
	sc.num_subprotocols = 2;
	cc.subprotocols = cprotos;
	cc.num_subprotocols = 2;
	sc.deflate.enabled = cc.deflate.enabled = deflate;
	cc.deflate.client_no_context_takeover = no_takeover;
	cc.deflate.server_no_context_takeover = no_takeover;
	struct wsr_conn *s = malloc(wsr_conn_size()), *c = malloc(wsr_conn_size());
	static struct log ls, lc;
	memset(&ls, 0, sizeof ls);
	memset(&lc, 0, sizeof lc);
	ASSERT_EQ(wsr_conn_init(s, &sc), WSR_OK);
	ASSERT_EQ(wsr_conn_init(c, &cc), WSR_OK);
	pump(c, &lc, s, &ls);
	pump(s, &ls, c, &lc);
	ASSERT_STREQ(ls.s, "OPEN\n");
	ASSERT_STREQ(lc.s, "OPEN\n");
	ASSERT_STREQ(wsr_conn_subprotocol(s), "b");
	ASSERT_STREQ(wsr_conn_subprotocol(c), "b");
	ASSERT_EQ(wsr_conn_deflate(s, NULL), deflate);
	ASSERT_EQ(wsr_conn_deflate(c, NULL), deflate);
	static uint8_t big[200000];
	for (size_t i = 0; i < sizeof big; i++)
		big[i] = (uint8_t)("abcabcabd"[i % 9]);
	for (int round = 0; round < 3; round++) {
		ASSERT_EQ(wsr_conn_send(c, WSR_OP_TEXT, (const uint8_t *)"Hello Hello Hello", 17),
		          WSR_OK);
		ASSERT_EQ(wsr_conn_send(c, WSR_OP_BINARY, NULL, 0), WSR_OK);
		ASSERT_EQ(wsr_conn_send(c, WSR_OP_BINARY, big, sizeof big), WSR_OK);
		drain(c, &lc);
		size_t n = lc.out.len;
		if (deflate)
			ASSERT(n < 10000); /* it did compress */
		pump(c, &lc, s, &ls);
		ASSERT_EQ(wsr_conn_send(s, WSR_OP_TEXT, (const uint8_t *)"\xce\xba\xce\xba", 4),
		          WSR_OK);
		pump(s, &ls, c, &lc);
	}
	ASSERT_STREQ(ls.s,
	             "OPEN\nMESSAGE:T:Hello Hello Hello\nMESSAGE:B:\n"
	             "MESSAGE:B:abcabcabdabcabcabdabcabcabdabcabcabdabcabcabdabcabcabdabcabcabd"
	             "a...(200000)\n"
	             "MESSAGE:T:Hello Hello Hello\nMESSAGE:B:\n"
	             "MESSAGE:B:abcabcabdabcabcabdabcabcabdabcabcabdabcabcabdabcabcabdabcabcabd"
	             "a...(200000)\n"
	             "MESSAGE:T:Hello Hello Hello\nMESSAGE:B:\n"
	             "MESSAGE:B:abcabcabdabcabcabdabcabcabdabcabcabdabcabcabdabcabcabdabcabcabd"
	             "a...(200000)\n");
	ASSERT_STREQ(lc.s, "OPEN\nMESSAGE:T:\\xce\\xba\\xce\\xba\nMESSAGE:T:\\xce\\xba\\xce\\xba\n"
	                   "MESSAGE:T:\\xce\\xba\\xce\\xba\n");
	/* close from the client, answered by the server */
	ASSERT_EQ(wsr_conn_close(c, 1000, "done", 4), WSR_OK);
	pump(c, &lc, s, &ls);
	pump(s, &ls, c, &lc);
	ASSERT_EQ(wsr_conn_state(s), WSR_STATE_CLOSED);
	ASSERT_EQ(wsr_conn_state(c), WSR_STATE_CLOSED);
	ASSERT(strstr(lc.s, "CLOSE:1000:\n") != NULL);
	wsr_conn_free(s);
	wsr_conn_free(c);
	free(s);
	free(c);
}

static void test_pair_plain(void)
{
	pair_exchange(false, false);
}

static void test_pair_deflate(void)
{
	pair_exchange(true, false);
	pair_exchange(true, true);
}

static enum wsr_status collect(void *ctx, const uint8_t *p, size_t n)
{
	bytes_put(ctx, p, n);
	return WSR_OK;
}

/* Compressed frames from a hand-made client compressor. */
static void test_deflate_rules(void)
{
	struct wsr_config cfg = server_cfg();
	cfg.deflate.enabled = true;
	cfg.limits.max_message = 5000;
	struct wsr_pmd_params p = {0};
	struct wsr_pmd *pmd = NULL;
	struct wsr_allocator al = {0};
	static struct bytes z;
	static const char *const texts[] = {"Hello", "\xce\xba\xed\xa0\x80 bad text", ""};
	for (int k = 0; k < 6; k++) {
		tu_current = k == 0   ? "deflate good"
		             : k == 1 ? "deflate bad utf8"
		             : k == 2 ? "deflate empty"
		             : k == 3 ? "rsv1 on continuation"
		             : k == 4 ? "rsv1 on ping"
		                      : "inflate over max";
		start();
		in.len -= 2;
		bytes_str(&in, "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n");
		ASSERT_EQ(wsr_pmd_new(&pmd, &al, &p, WSR_ROLE_CLIENT), WSR_OK);
		z.len = 0;
		if (k <= 2) {
			ASSERT_EQ(wsr_pmd_deflate(pmd, (const uint8_t *)texts[k], strlen(texts[k]),
			                          collect, &z),
			          WSR_OK);
			frame(&in, true, 4, WSR_OP_TEXT, z.p, z.len, MASK);
			if (k == 2)
				ASSERT_MEMEQ(z.p, z.len, "\x00", 1);
		} else if (k == 3) {
			ASSERT_EQ(wsr_pmd_deflate(pmd, (const uint8_t *)"abc", 3, collect, &z),
			          WSR_OK);
			frame(&in, false, 4, WSR_OP_TEXT, z.p, 1, MASK);
			frame(&in, true, 4, WSR_OP_CONTINUATION, z.p + 1, z.len - 1, MASK);
		} else if (k == 4) {
			frame(&in, true, 4, WSR_OP_PING, "", 0, MASK);
		} else {
			static uint8_t zeros[100000];
			ASSERT_EQ(wsr_pmd_deflate(pmd, zeros, sizeof zeros, collect, &z), WSR_OK);
			frame(&in, true, 4, WSR_OP_BINARY, z.p, z.len, MASK);
		}
		wsr_pmd_free(pmd);
		server_all_ways(&cfg, &in);
		size_t h = head_len(&L1.out);
		ASSERT(memmem(L1.out.p, h, "Sec-WebSocket-Extensions: permessage-deflate", 44) !=
		       NULL);
		static const enum wsr_status want[] = {WSR_OK,
		                                       WSR_INVALID_UTF8,
		                                       WSR_OK,
		                                       WSR_RSV1_ON_CONTINUATION,
		                                       WSR_RSV1_ON_CONTROL,
		                                       WSR_INFLATE_TOO_BIG};
		ASSERT_EQ(L1.fail, want[k]);
		if (k == 0)
			ASSERT_STREQ(L1.s, "OPEN\nMESSAGE:T:Hello\nstate=1");
		if (k == 2)
			ASSERT_STREQ(L1.s, "OPEN\nMESSAGE:T:\nstate=1");
		if (want[k] != WSR_OK)
			ASSERT_EQ(last_close_code(&L1.out, h), wsr_status_close_code(want[k]));
	}
	tu_current = "test_deflate_rules";
}

/*
 * A compressed text message whose inflated output passes the limit, with a
 * bad UTF-8 byte before (or at) the limit: the verdict must not depend on
 * whether the bad byte came out of zlib in the same piece as the excess
 * (fed whole) or earlier (fed in small pieces). fuzz_conn_client found the
 * whole run failing with 1009 and the split one with 1007. Both ways a limit
 * can stop it: the inflate cap (max_inflate, default max_message) and
 * max_message itself when max_inflate is larger.
 */
static void test_deflate_over_limit_same_verdict_at_every_split(void)
{
	struct wsr_pmd_params p = {0};
	struct wsr_allocator al = {0};
	static struct bytes z;
	static uint8_t text[200];
	/* bad byte at: 0, the last byte within the limit, the first past it; none */
	static const size_t bad_at[] = {0, 63, 64, SIZE_MAX};
	for (int lim = 0; lim < 2; lim++) {
		struct wsr_config cfg = server_cfg();
		cfg.deflate.enabled = true;
		cfg.limits.max_message = 64;
		cfg.limits.max_inflate = lim == 0 ? 0 : 1000;
		enum wsr_status too_big = lim == 0 ? WSR_INFLATE_TOO_BIG : WSR_MESSAGE_TOO_BIG;
		for (size_t b = 0; b < sizeof bad_at / sizeof bad_at[0]; b++) {
			tu_current = lim == 0 ? "over inflate cap" : "over max_message";
			memset(text, 'a', sizeof text);
			if (bad_at[b] < sizeof text)
				text[bad_at[b]] = 0xFF;
			start();
			in.len -= 2;
			bytes_str(&in, "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n");
			struct wsr_pmd *pmd = NULL;
			ASSERT_EQ(wsr_pmd_new(&pmd, &al, &p, WSR_ROLE_CLIENT), WSR_OK);
			z.len = 0;
			ASSERT_EQ(wsr_pmd_deflate(pmd, text, sizeof text, collect, &z), WSR_OK);
			wsr_pmd_free(pmd);
			frame(&in, true, 4, WSR_OP_TEXT, z.p, z.len, MASK);
			/* whole, byte by byte and split at every offset agree */
			server_all_ways(&cfg, &in);
			enum wsr_status want = bad_at[b] < 64 ? WSR_INVALID_UTF8 : too_big;
			ASSERT_EQ(L1.fail, want);
			ASSERT_EQ(last_close_code(&L1.out, head_len(&L1.out)),
			          wsr_status_close_code(want));
		}
	}
	tu_current = "test_deflate_over_limit_same_verdict_at_every_split";
}

/*
 * The handshake head is judged a byte at a time as it arrives (not parsed
 * again from its start on every piece): a head fed byte by byte fails at
 * the first byte that proves it bad, without waiting for its end; one over
 * max_header_bytes fails once the byte past the limit arrives; a long good
 * head fed byte by byte opens like the whole one.
 */
static size_t fail_offset(const struct wsr_config *cfg, const char *s, size_t n)
{
	struct wsr_conn *c = malloc(wsr_conn_size());
	ASSERT_EQ(wsr_conn_init(c, cfg), WSR_OK);
	struct wsr_event ev;
	size_t at = SIZE_MAX;
	for (size_t i = 0; i < n && at == SIZE_MAX; i++) {
		ASSERT_EQ(wsr_conn_recv(c, (const uint8_t *)s + i, 1), 1);
		while (wsr_conn_next_event(c, &ev) == WSR_OK)
			if (ev.type == WSR_EV_FAIL)
				at = i;
	}
	wsr_conn_free(c);
	free(c);
	return at;
}

static void test_handshake_judged_as_it_arrives(void)
{
	struct wsr_config cfg = server_cfg();
	/* obs-fold: the space opening the second line is the bad byte */
	const char *fold = "GET /chat HTTP/1.1\r\n Host: x\r\nUpgrade: websocket\r\n";
	ASSERT_EQ(fail_offset(&cfg, fold, strlen(fold)), 20);
	/* a bare LF in the request line */
	const char *lf = "GET /chat HTTP/1.1\nHost: x\r\n";
	ASSERT_EQ(fail_offset(&cfg, lf, strlen(lf)), 18);
	/* a control byte in a value, many bytes before the end of the head */
	const char *ctl = "GET / HTTP/1.1\r\nHost: a\x01"
	                  "bcdefgh\r\nX: y\r\n";
	ASSERT_EQ(fail_offset(&cfg, ctl, strlen(ctl)), 23);
	/* no bad byte and no end: fails once the byte past the limit arrives */
	static char big[300];
	memset(big, 'a', sizeof big);
	memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
	cfg.limits.max_header_bytes = 200;
	ASSERT_EQ(fail_offset(&cfg, big, sizeof big), 200);
	cfg.limits.max_header_bytes = 0;

	/* A long head (50 extra headers, about 3.5 KB) byte by byte, whole, split. */
	start();
	in.len -= 2;
	for (int i = 0; i < 50; i++) {
		char line[80];
		snprintf(line, sizeof line, "X-Filler-%02d: %s\r\n", i,
		         "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnop");
		bytes_str(&in, line);
	}
	bytes_str(&in, "\r\n");
	cframe(&in, true, WSR_OP_TEXT, "after the head");
	server_all_ways(&cfg, &in);
	ASSERT_STREQ(L1.s, "OPEN\nMESSAGE:T:after the head\nstate=1");
	tu_current = "test_handshake_judged_as_it_arrives";
}

static void test_output_limit(void)
{
	struct wsr_config cfg = server_cfg();
	cfg.limits.max_output = 1000;
	struct wsr_conn *c = malloc(wsr_conn_size());
	struct log l = {0};
	ASSERT_EQ(wsr_conn_init(c, &cfg), WSR_OK);
	start();
	feed_all(c, in.p, in.len, CHOP_WHOLE, 0, &l);
	static uint8_t b[1000];
	ASSERT_EQ(wsr_conn_send(c, WSR_OP_BINARY, b, 900), WSR_OK);
	ASSERT_EQ(wsr_conn_send(c, WSR_OP_BINARY, b, 200), WSR_NOMEM);
	ASSERT_EQ(wsr_conn_state(c), WSR_STATE_OPEN); /* not fatal: flush and retry */
	size_t n;
	wsr_conn_out_buf(c, &n);
	ASSERT_EQ(n, 904);
	wsr_conn_out_ack(c, 500);
	ASSERT_EQ(wsr_conn_send(c, WSR_OP_BINARY, b, 200), WSR_OK);
	wsr_conn_out_buf(c, &n);
	ASSERT_EQ(n, 404 + 204);
	/* a Close always fits */
	ASSERT_EQ(wsr_conn_send(c, WSR_OP_BINARY, b, 380), WSR_OK);
	ASSERT_EQ(wsr_conn_close(c, 1001, NULL, 0), WSR_OK);
	wsr_conn_free(c);
	free(c);
}

/*
 * Large frames: the receive path unmasks into the message buffer and
 * validates text in 16 KiB blocks, skipping the validator for a pure-ASCII
 * block only when it starts between code points. Payloads cross several
 * blocks, with code points and errors at and around the block edges, an
 * all-ASCII block right after a lead byte, fed whole and in two pieces cut
 * at offsets that are not multiples of 4 (the mask rotates).
 */
static uint8_t big_payload[40000], big_msg[40000];
static struct bytes big_in;

/* Returns the message status; *piece: the piece (0 or 1) in which a FAIL came. */
static enum wsr_status big_run(size_t cut, size_t *mlen, int *piece)
{
	struct wsr_config cfg = server_cfg();
	struct wsr_conn *c = malloc(wsr_conn_size());
	ASSERT_EQ(wsr_conn_init(c, &cfg), WSR_OK);
	enum wsr_status res = WSR_AGAIN;
	size_t pos = 0, ends[2] = {cut, big_in.len};
	*mlen = 0;
	for (int k = 0; k < 2; k++) {
		while (pos < ends[k]) {
			size_t used = wsr_conn_recv(c, big_in.p + pos, ends[k] - pos);
			pos += used;
			bool any = false;
			struct wsr_event ev;
			while (wsr_conn_next_event(c, &ev) == WSR_OK) {
				any = true;
				if (ev.type == WSR_EV_MESSAGE) {
					ASSERT(ev.len <= sizeof big_msg);
					memcpy(big_msg, ev.data, ev.len);
					*mlen = ev.len;
					res = WSR_OK;
				} else if (ev.type == WSR_EV_FAIL) {
					res = ev.status;
					*piece = k;
				}
			}
			if (!used && !any)
				break;
		}
	}
	wsr_conn_free(c);
	free(c);
	return res;
}

static void big_check(size_t n, uint8_t op)
{
	big_in.len = 0;
	bytes_str(&big_in, UPGRADE);
	size_t start = big_in.len;
	frame(&big_in, true, 0, op, big_payload, n, MASK);
	size_t bad = n;
	bool ok = op != WSR_OP_TEXT || wsr_utf8_valid_slow(big_payload, n, &bad);
	size_t hl = wsr_frame_header_size(n, true);
	const size_t cuts[] = {
	        0, start + 1, start + 9, start + 16385, start + 16390, start + 32775, big_in.len};
	for (size_t k = 0; k < sizeof cuts / sizeof cuts[0]; k++) {
		size_t mlen = 0, cut = cuts[k] < big_in.len ? cuts[k] : big_in.len;
		int piece = -1;
		enum wsr_status st = big_run(cut, &mlen, &piece);
		ASSERT_EQ(st, ok ? WSR_OK : WSR_INVALID_UTF8);
		/* Fail fast: an error byte in the first piece fails the first piece. */
		if (!ok && bad < n && start + hl + bad < cut)
			ASSERT_EQ(piece, 0);
		if (ok) {
			ASSERT_EQ(mlen, n);
			ASSERT(memcmp(big_msg, big_payload, n) == 0);
		}
	}
}

static void test_large_text_frames_across_blocks(void)
{
	const size_t n = sizeof big_payload;
	/* ASCII, and binary with the same bytes */
	for (size_t i = 0; i < n; i++)
		big_payload[i] = (uint8_t)('a' + i % 26);
	big_check(n, WSR_OP_TEXT);
	big_check(n - 3, WSR_OP_TEXT);
	/* a code point across each block edge, at every phase */
	static const uint8_t cjk[] = {0xE4, 0xB8, 0xAD}, four[] = {0xF0, 0x9F, 0x98, 0x80};
	for (size_t phase = 0; phase < 4; phase++) {
		for (size_t i = 0; i < n; i++)
			big_payload[i] = (uint8_t)('a' + i % 26);
		memcpy(big_payload + 16384 - phase, four, 4);
		memcpy(big_payload + 32768 - (phase % 3), cjk, 3);
		big_check(n, WSR_OP_TEXT);
		/* the same with the last byte missing: the next block is pure ASCII */
		big_payload[16384 - phase + 3] = 'x';
		big_check(n, WSR_OP_TEXT);
	}
	/* errors at and around the edges */
	const size_t at[] = {0, 1, 16383, 16384, 16385, 32767, 32768, n - 1};
	for (size_t k = 0; k < sizeof at / sizeof at[0]; k++) {
		for (size_t i = 0; i < n; i++)
			big_payload[i] = (uint8_t)('a' + i % 26);
		big_payload[at[k]] = 0xFF;
		big_check(n, WSR_OP_TEXT);
		big_check(n, WSR_OP_BINARY);
		big_payload[at[k]] = 0xC3; /* a lead byte followed by ASCII */
		big_check(n, WSR_OP_TEXT);
		big_payload[at[k]] = 0x80; /* a stray continuation byte */
		big_check(n, WSR_OP_TEXT);
	}
	/* all CJK, long */
	size_t len = 0;
	while (len + 3 <= n) {
		memcpy(big_payload + len, cjk, 3);
		len += 3;
	}
	big_check(len, WSR_OP_TEXT);
	big_payload[len - 1] = 0x41;
	big_check(len, WSR_OP_TEXT);
}

int main(void)
{
	RUN(test_server_handshake_and_echo);
	RUN(test_fragments_ping_pong);
	RUN(test_close_handshake_peer_first);
	RUN(test_close_handshake_we_start);
	RUN(test_strictness_rules_send_the_right_close_code);
	RUN(test_utf8_fails_fast_mid_frame);
	RUN(test_streaming_fragments);
	RUN(test_client_role);
	RUN(test_pair_plain);
	RUN(test_pair_deflate);
	RUN(test_deflate_rules);
	RUN(test_deflate_over_limit_same_verdict_at_every_split);
	RUN(test_handshake_judged_as_it_arrives);
	RUN(test_output_limit);
	RUN(test_large_text_frames_across_blocks);
	return tu_finish("conn");
}
