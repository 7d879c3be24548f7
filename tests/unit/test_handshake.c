/* opening handshake: key/accept, the server's judgement of requests, the client's of responses. */
#include "conn_driver.h"

static void test_rfc_sample_accept(void)
{
	char out[29];
	wsr_handshake_accept(RFC_KEY, 24, out);
	ASSERT_STREQ(out, RFC_ACCEPT);
	wsr_handshake_accept("x3JJHMbDL1EzLkh9GBhXDw==", 24, out);
	ASSERT_STREQ(out, "HSmrc0sMlYUkAGmm5OPpG2HaGWk=");
}

static void test_key_validity(void)
{
	ASSERT(wsr_handshake_key_valid(RFC_KEY, 24));
	ASSERT(wsr_handshake_key_valid("AAAAAAAAAAAAAAAAAAAAAA==", 24));
	ASSERT(!wsr_handshake_key_valid(RFC_KEY, 23));
	ASSERT(!wsr_handshake_key_valid("dGhlIHNhbXBsZSBub25jZQ=", 23));
	ASSERT(!wsr_handshake_key_valid("dGhlIHNhbXBsZSBub25jZQ", 22));
	ASSERT(!wsr_handshake_key_valid("dGhlIHNhbXBsZSBub25jZQ==AAAA", 28));
	ASSERT(!wsr_handshake_key_valid("dGhlIHNhbXBsZSBub25jZ===", 24));
	ASSERT(!wsr_handshake_key_valid("dGhlIHNhbXBsZSBub25jZQ=A", 24));
	ASSERT(!wsr_handshake_key_valid("dGhlIHNhbXBsZSBub25j*Q==", 24));
	ASSERT(!wsr_handshake_key_valid("dGhlIHNhbXBsZSBub25j Q==", 24));
	ASSERT(!wsr_handshake_key_valid("dGhlIHNhbXBsZSBub25jZQ==", 0));
	ASSERT(!wsr_handshake_key_valid("c2FtcGxlIG5vbmNlIDEyMzQ1Ng", 26)); /* 19 bytes, unpadded */
	ASSERT(!wsr_handshake_key_valid(NULL, 24));
}

static struct log L;

/* Run a server over a request (whole, byte by byte, split everywhere: same result). */
static void server_req(const struct wsr_config *cfg, const char *req)
{
	static struct bytes in;
	static struct log l2;
	in.len = 0;
	bytes_str(&in, req);
	run_server(cfg, &in, CHOP_WHOLE, 0, &L);
	run_server(cfg, &in, CHOP_BYTES, 0, &l2);
	ASSERT_STREQ(l2.s, L.s);
	unsigned diffs = 0;
	for (size_t at = 1; at < in.len; at++) {
		run_server(cfg, &in, CHOP_AT, at, &l2);
		diffs += strcmp(l2.s, L.s) != 0 || l2.out.len != L.out.len;
	}
	ASSERT_EQ(diffs, 0);
}

#define REQ_LINE "GET /chat HTTP/1.1\r\n"
#define HOST     "Host: example.com\r\n"
#define UPG      "Upgrade: websocket\r\n"
#define CONN     "Connection: Upgrade\r\n"
#define KEY      "Sec-WebSocket-Key: " RFC_KEY "\r\n"
#define VER      "Sec-WebSocket-Version: 13\r\n"

static void test_server_rejects_bad_requests(void)
{
	static const struct {
		const char *req;
		enum wsr_status st;
		int http;
	} cases[] = {
	        {"POST /chat HTTP/1.1\r\n" HOST UPG CONN KEY VER "\r\n", WSR_HS_METHOD, 405},
	        {"get /chat HTTP/1.1\r\n" HOST UPG CONN KEY VER "\r\n", WSR_HS_METHOD, 405},
	        {"GET /chat HTTP/1.0\r\n" HOST UPG CONN KEY VER "\r\n", WSR_HS_HTTP_VERSION, 400},
	        {REQ_LINE UPG CONN KEY VER "\r\n", WSR_HS_MISSING_HOST, 400},
	        {REQ_LINE HOST HOST UPG CONN KEY VER "\r\n", WSR_HS_MISSING_HOST, 400},
	        {REQ_LINE HOST CONN KEY VER "\r\n", WSR_HS_NOT_UPGRADE, 400},
	        {REQ_LINE HOST "Upgrade: websockets\r\n" CONN KEY VER "\r\n", WSR_HS_NOT_UPGRADE,
	         400},
	        {REQ_LINE HOST UPG KEY VER "\r\n", WSR_HS_NOT_UPGRADE, 400},
	        {REQ_LINE HOST UPG "Connection: keep-alive\r\n" KEY VER "\r\n", WSR_HS_NOT_UPGRADE,
	         400},
	        {REQ_LINE HOST UPG "Connection: upgraded\r\n" KEY VER "\r\n", WSR_HS_NOT_UPGRADE,
	         400},
	        {REQ_LINE HOST UPG CONN VER "\r\n", WSR_HS_BAD_KEY, 400},
	        {REQ_LINE HOST UPG CONN "Sec-WebSocket-Key: abc\r\n" VER "\r\n", WSR_HS_BAD_KEY,
	         400},
	        {REQ_LINE HOST UPG CONN "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ\r\n" VER "\r\n",
	         WSR_HS_BAD_KEY, 400},
	        {REQ_LINE HOST UPG CONN KEY KEY VER "\r\n", WSR_HS_DUPLICATE_HEADER, 400},
	        {REQ_LINE HOST UPG CONN KEY "\r\n", WSR_HS_BAD_VERSION, 426},
	        {REQ_LINE HOST UPG CONN KEY "Sec-WebSocket-Version: 8\r\n\r\n", WSR_HS_BAD_VERSION,
	         426},
	        {REQ_LINE HOST UPG CONN KEY "Sec-WebSocket-Version: 13, 8\r\n\r\n",
	         WSR_HS_BAD_VERSION, 426},
	        {REQ_LINE HOST UPG CONN KEY VER VER "\r\n", WSR_HS_DUPLICATE_HEADER, 400},
	        {REQ_LINE HOST UPG CONN KEY VER "X: a\rb\r\n\r\n", WSR_HS_MALFORMED, 400},
	        {REQ_LINE HOST UPG CONN KEY VER " folded\r\n\r\n", WSR_HS_MALFORMED, 400},
	};
	struct wsr_config cfg = server_cfg();
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		tu_current = cases[i].req;
		server_req(&cfg, cases[i].req);
		ASSERT_EQ(L.fail, cases[i].st);
		ASSERT_EQ(L.http, cases[i].http);
		ASSERT_EQ(L.fail_code, 0);
		char line[32];
		snprintf(line, sizeof line, "HTTP/1.1 %d ", cases[i].http);
		ASSERT(L.out.len > 12 && memcmp(L.out.p, line, 13) == 0);
		ASSERT(memmem(L.out.p, L.out.len, "Content-Length: 0\r\n", 19) != NULL);
		ASSERT(memmem(L.out.p, L.out.len, "Connection: close\r\n", 19) != NULL);
		ASSERT(memmem(L.out.p, L.out.len, "Sec-WebSocket-Version: 13\r\n", 27) == NULL ||
		       cases[i].http == 426);
		if (cases[i].http == 426)
			ASSERT(memmem(L.out.p, L.out.len, "Sec-WebSocket-Version: 13\r\n", 27) !=
			       NULL);
		ASSERT(strstr(L.s, "state=4") != NULL);
	}
	tu_current = "test_server_rejects_bad_requests";
}

static void test_server_accepts_variants(void)
{
	struct wsr_config cfg = server_cfg();
	static const char *const ok[] = {
	        REQ_LINE HOST UPG CONN KEY VER "\r\n",
	        "GET / HTTP/1.1\r\nhost: a\r\nupgrade: WebSocket\r\nconnection: keep-alive, "
	        "Upgrade\r\n"
	        "sec-websocket-key: " RFC_KEY "\r\nsec-websocket-version: 13\r\n\r\n",
	        REQ_LINE HOST "Upgrade: h2c, websocket\r\n"
	                      "Connection: close\r\nConnection: Upgrade\r\n" KEY VER "\r\n",
	        "GET /chat HTTP/1.2\r\n" HOST UPG CONN KEY VER "\r\n",
	};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		tu_current = ok[i];
		server_req(&cfg, ok[i]);
		ASSERT_STREQ(L.s, "OPEN\nstate=1");
		ASSERT(memmem(L.out.p, L.out.len, "Sec-WebSocket-Accept: " RFC_ACCEPT "\r\n", 52) !=
		       NULL);
	}
	tu_current = "test_server_accepts_variants";
}

static void test_limits_give_431(void)
{
	struct wsr_config cfg = server_cfg();
	cfg.limits.max_headers = 4;
	server_req(&cfg, REQ_LINE HOST UPG CONN KEY VER "\r\n");
	ASSERT_EQ(L.fail, WSR_HS_TOO_LARGE);
	ASSERT_EQ(L.http, 431);
	cfg.limits.max_headers = 5;
	server_req(&cfg, REQ_LINE HOST UPG CONN KEY VER "\r\n");
	ASSERT_EQ(L.fail, WSR_OK);
	cfg.limits.max_header_bytes = 100;
	server_req(&cfg, REQ_LINE HOST UPG CONN KEY VER "\r\n");
	ASSERT_EQ(L.fail, WSR_HS_TOO_LARGE);
	ASSERT_EQ(L.http, 431);
}

static void test_origin_policy(void)
{
	static const char *const origins[] = {"https://good.example"};
	struct wsr_config cfg = server_cfg();
	cfg.allowed_origins = origins;
	cfg.num_allowed_origins = 1;
	server_req(&cfg, REQ_LINE HOST UPG CONN KEY VER "Origin: https://good.example\r\n\r\n");
	ASSERT_EQ(L.fail, WSR_OK);
	server_req(&cfg, REQ_LINE HOST UPG CONN KEY VER "Origin: https://evil.example\r\n\r\n");
	ASSERT_EQ(L.fail, WSR_HS_FORBIDDEN_ORIGIN);
	ASSERT_EQ(L.http, 403);
	server_req(&cfg, REQ_LINE HOST UPG CONN KEY VER "Origin: https://GOOD.example\r\n\r\n");
	ASSERT_EQ(L.fail, WSR_HS_FORBIDDEN_ORIGIN);
	/* no Origin: not a browser, allowed */
	server_req(&cfg, REQ_LINE HOST UPG CONN KEY VER "\r\n");
	ASSERT_EQ(L.fail, WSR_OK);
	/* without a list, any origin */
	cfg.num_allowed_origins = 0;
	server_req(&cfg, REQ_LINE HOST UPG CONN KEY VER "Origin: https://evil.example\r\n\r\n");
	ASSERT_EQ(L.fail, WSR_OK);
}

static void test_subprotocol_selection(void)
{
	static const char *const ours[] = {"v2.proto", "chat"};
	struct wsr_config cfg = server_cfg();
	cfg.subprotocols = ours;
	cfg.num_subprotocols = 2;
	server_req(&cfg, REQ_LINE HOST UPG CONN KEY VER
	           "Sec-WebSocket-Protocol: superchat, chat\r\nSec-WebSocket-Protocol: "
	           "v2.proto\r\n\r\n");
	ASSERT(memmem(L.out.p, L.out.len, "Sec-WebSocket-Protocol: v2.proto\r\n", 34) != NULL);
	server_req(&cfg,
	           REQ_LINE HOST UPG CONN KEY VER "Sec-WebSocket-Protocol: superchat,chat\r\n\r\n");
	ASSERT(memmem(L.out.p, L.out.len, "Sec-WebSocket-Protocol: chat\r\n", 30) != NULL);
	server_req(&cfg, REQ_LINE HOST UPG CONN KEY VER "Sec-WebSocket-Protocol: other\r\n\r\n");
	ASSERT_EQ(L.fail, WSR_OK);
	ASSERT(memmem(L.out.p, L.out.len, "Sec-WebSocket-Protocol", 22) == NULL);
}

/* ---- client side ---- */

static void zero_random(void *ctx, uint8_t *buf, size_t n)
{
	(void)ctx;
	memset(buf, 0, n);
}

/* Key for 16 zero bytes and its accept. */
#define ZKEY "AAAAAAAAAAAAAAAAAAAAAA=="

static void client_resp(const char *extra_cfg_protos, bool deflate, const char *resp,
                        enum wsr_status want)
{
	static const char *const protos[] = {"chat", "v2"};
	struct wsr_config cfg;
	memset(&cfg, 0, sizeof cfg);
	cfg.role = WSR_ROLE_CLIENT;
	cfg.host = "example.com";
	cfg.random = zero_random;
	cfg.deflate.enabled = deflate;
	if (extra_cfg_protos) {
		cfg.subprotocols = protos;
		cfg.num_subprotocols = 2;
	}
	for (int how = 0; how < 2; how++) {
		struct wsr_conn *c = malloc(wsr_conn_size());
		struct log l;
		memset(&l, 0, sizeof l);
		ASSERT_EQ(wsr_conn_init(c, &cfg), WSR_OK);
		drain(c, &l);
		ASSERT(memmem(l.out.p, l.out.len, "Sec-WebSocket-Key: " ZKEY "\r\n", 45) != NULL);
		if (extra_cfg_protos)
			ASSERT(memmem(l.out.p, l.out.len, "Sec-WebSocket-Protocol: chat, v2\r\n",
			              34) != NULL);
		if (deflate)
			ASSERT(memmem(l.out.p, l.out.len,
			              "Sec-WebSocket-Extensions: permessage-deflate", 44) != NULL);
		feed_all(c, (const uint8_t *)resp, strlen(resp), how ? CHOP_BYTES : CHOP_WHOLE, 0,
		         &l);
		ASSERT_EQ(l.fail, want);
		ASSERT_EQ(wsr_conn_state(c), want == WSR_OK ? WSR_STATE_OPEN : WSR_STATE_FAILED);
		wsr_conn_free(c);
		free(c);
	}
}

static void test_client_checks_response(void)
{
	char zacc[29];
	wsr_handshake_accept(ZKEY, 24, zacc);
	char good[400], buf[1024];
	snprintf(good, sizeof good,
	         "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
	         "Sec-WebSocket-Accept: %s\r\n",
	         zacc);
	snprintf(buf, sizeof buf, "%s\r\n", good);
	client_resp(NULL, false, buf, WSR_OK);
	snprintf(buf, sizeof buf, "%sSec-WebSocket-Protocol: v2\r\n\r\n", good);
	client_resp("p", false, buf, WSR_OK);
	client_resp(NULL, false, buf, WSR_HS_UNSOLICITED_PROTOCOL);
	snprintf(buf, sizeof buf, "%sSec-WebSocket-Protocol: v3\r\n\r\n", good);
	client_resp("p", false, buf, WSR_HS_UNSOLICITED_PROTOCOL);
	snprintf(buf, sizeof buf, "%sSec-WebSocket-Extensions: permessage-deflate\r\n\r\n", good);
	client_resp(NULL, false, buf, WSR_HS_UNSOLICITED_EXTENSION);
	client_resp(NULL, true, buf, WSR_OK);
	snprintf(buf, sizeof buf, "%sSec-WebSocket-Extensions: x-webkit-deflate-frame\r\n\r\n",
	         good);
	client_resp(NULL, true, buf, WSR_HS_UNSOLICITED_EXTENSION);
	snprintf(buf, sizeof buf, "%sSec-WebSocket-Extensions: permessage-deflate; bogus\r\n\r\n",
	         good);
	client_resp(NULL, true, buf, WSR_EXTENSION_PARAMS);
	client_resp(NULL, false,
	            "HTTP/1.1 200 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
	            WSR_HS_BAD_STATUS);
	snprintf(buf, sizeof buf,
	         "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
	         "Sec-WebSocket-Accept: %s\r\n\r\n",
	         RFC_ACCEPT);
	client_resp(NULL, false, buf, WSR_HS_BAD_ACCEPT);
	snprintf(buf, sizeof buf,
	         "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
	         "Sec-WebSocket-Accept: %s\r\n\r\n",
	         zacc);
	client_resp(NULL, false, buf, WSR_HS_NOT_UPGRADE);
	client_resp(NULL, false, "HTTP/1.1 101 OK\nX: y\r\n\r\n", WSR_HS_MALFORMED);
}

int main(void)
{
	RUN(test_rfc_sample_accept);
	RUN(test_key_validity);
	RUN(test_server_rejects_bad_requests);
	RUN(test_server_accepts_variants);
	RUN(test_limits_give_431);
	RUN(test_origin_policy);
	RUN(test_subprotocol_selection);
	RUN(test_client_checks_response);
	return tu_finish("handshake");
}
