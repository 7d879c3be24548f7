/*
 * Allocation-failure sweep: count the allocations of a good run, then fail
 * each one in turn. Every run must end in a clean NOMEM (returned or as the
 * FAIL event), never a crash, and wsr_conn_free must give back every byte.
 */
#include "conn_driver.h"

struct counting {
	unsigned long calls, fail_at; /* fail the call numbered fail_at (1-based); 0: never */
	long long outstanding;
	long live;
	bool failed;
};

static void *c_alloc(void *ctx, size_t n)
{
	struct counting *a = ctx;
	if (++a->calls == a->fail_at) {
		a->failed = true;
		return NULL;
	}
	void *p = malloc(n);
	if (p) {
		a->outstanding += (long long)n;
		a->live++;
	}
	return p;
}

static void *c_realloc(void *ctx, void *p, size_t old, size_t n)
{
	struct counting *a = ctx;
	if (++a->calls == a->fail_at) {
		a->failed = true;
		return NULL;
	}
	void *q = realloc(p, n);
	if (q)
		a->outstanding += (long long)n - (long long)old;
	return q;
}

static void c_free(void *ctx, void *p, size_t n)
{
	struct counting *a = ctx;
	if (!p)
		return;
	a->outstanding -= (long long)n;
	a->live--;
	free(p);
}

static enum wsr_status collect(void *ctx, const uint8_t *p, size_t n)
{
	bytes_put(ctx, p, n);
	return WSR_OK;
}

static struct bytes in;

/* The client's side of the scenario, built once with the library's own compressor. */
static void build_input(bool deflate)
{
	in.len = 0;
	bytes_str(&in, "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
	               "Sec-WebSocket-Key: " RFC_KEY "\r\nSec-WebSocket-Version: 13\r\n");
	if (deflate)
		bytes_str(&in, "Sec-WebSocket-Extensions: permessage-deflate\r\n");
	bytes_str(&in, "\r\n");
	static char text[3000];
	for (size_t i = 0; i < sizeof text - 1; i++)
		text[i] = "hello world "[i % 12];
	if (deflate) {
		struct wsr_pmd *pmd;
		struct wsr_allocator al = {0};
		struct wsr_pmd_params p = {0};
		static struct bytes z;
		z.len = 0;
		if (wsr_pmd_new(&pmd, &al, &p, WSR_ROLE_CLIENT) != WSR_OK ||
		    wsr_pmd_deflate(pmd, (const uint8_t *)text, strlen(text), collect, &z) !=
		            WSR_OK)
			abort();
		wsr_pmd_free(pmd);
		frame(&in, true, WSR_RSV1, WSR_OP_TEXT, z.p, z.len, MASK);
	}
	cframe(&in, false, WSR_OP_TEXT, text);
	cframe(&in, true, WSR_OP_PING, "ping");
	cframe(&in, true, WSR_OP_CONTINUATION, "tail");
	frame(&in, true, 0, WSR_OP_CLOSE, "\x03\xe8", 2, MASK);
}

/* One run; returns true if NOMEM was seen (returned or as the failure). */
static bool run(struct counting *a, bool deflate, bool *completed)
{
	struct wsr_config cfg = server_cfg();
	cfg.alloc.alloc = c_alloc;
	cfg.alloc.realloc = c_realloc;
	cfg.alloc.free = c_free;
	cfg.alloc.ctx = a;
	cfg.deflate.enabled = deflate;
	bool nomem = false;
	struct wsr_conn *c = malloc(wsr_conn_size());
	static struct log l;
	memset(&l, 0, sizeof l);
	enum wsr_status st = wsr_conn_init(c, &cfg);
	if (st == WSR_OK) {
		feed_all(c, in.p, in.len, CHOP_WHOLE, 0, &l);
		nomem |= l.fail == WSR_NOMEM;
		ASSERT(l.fail == WSR_OK || l.fail == WSR_NOMEM);
		if (l.fail == WSR_OK && strstr(l.s, "OPEN") && !strstr(l.s, "FAIL")) {
			/* echo the message we got, from a fresh conn state */
			st = wsr_conn_send(c, WSR_OP_BINARY, (const uint8_t *)"0123456789", 10);
			ASSERT(st == WSR_OK || st == WSR_NOMEM || st == WSR_CLOSED);
			nomem |= st == WSR_NOMEM;
		}
		*completed = strstr(l.s, "CLOSE:1000") != NULL;
	} else {
		ASSERT_EQ(st, WSR_NOMEM);
		nomem = true;
		*completed = false;
	}
	wsr_conn_free(c);
	free(c);
	return nomem;
}

static void sweep(bool deflate)
{
	build_input(deflate);
	struct counting a = {0};
	bool completed = false;
	ASSERT(!run(&a, deflate, &completed));
	ASSERT(completed);
	ASSERT_EQ(a.outstanding, 0);
	ASSERT_EQ(a.live, 0);
	unsigned long total = a.calls;
	ASSERT(total >= 3);
	printf("%s: %lu allocations in a good run\n", deflate ? "deflate" : "plain", total);
	unsigned long clean = 0;
	for (unsigned long i = 1; i <= total; i++) {
		struct counting f = {.fail_at = i};
		bool nomem = run(&f, deflate, &completed);
		ASSERT(f.failed);
		clean += nomem;
		if (!nomem)
			fprintf(stderr, "allocation %lu failed without NOMEM\n", i);
		ASSERT_EQ(f.outstanding, 0);
		ASSERT_EQ(f.live, 0);
	}
	ASSERT_EQ(clean, total);
}

static void test_sweep_plain_server(void)
{
	sweep(false);
}

static void test_sweep_deflate_server(void)
{
	sweep(true);
}

static void test_sweep_client_init(void)
{
	struct counting a = {0};
	struct wsr_config cfg;
	memset(&cfg, 0, sizeof cfg);
	cfg.role = WSR_ROLE_CLIENT;
	cfg.host = "h";
	cfg.alloc = (struct wsr_allocator){c_alloc, c_realloc, c_free, &a};
	struct wsr_conn *c = malloc(wsr_conn_size());
	ASSERT_EQ(wsr_conn_init(c, &cfg), WSR_OK);
	wsr_conn_free(c);
	unsigned long total = a.calls;
	ASSERT(total >= 1);
	for (unsigned long i = 1; i <= total; i++) {
		struct counting f = {.fail_at = i};
		cfg.alloc.ctx = &f;
		ASSERT_EQ(wsr_conn_init(c, &cfg), WSR_NOMEM);
		wsr_conn_free(c);
		ASSERT_EQ(f.outstanding, 0);
	}
	free(c);
}

int main(void)
{
	RUN(test_sweep_plain_server);
	RUN(test_sweep_deflate_server);
	RUN(test_sweep_client_init);
	return tu_finish("alloc_sweep");
}
