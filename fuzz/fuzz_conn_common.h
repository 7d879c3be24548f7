/*
 * fuzz_conn_common.h - whole-connection targets (fuzz_conn_server.c and
 * fuzz_conn_client.c define FUZZ_CONN_CLIENT 0 or 1 first).
 *
 * Input:
 *   [flags u8] bit0 deflate, bit1 streaming, bit2 canned handshake first,
 *              bit3/4 policy server/client_no_context_takeover, bit5 echo
 *              messages back, bit6-7 window choice
 *   [limits u8] max_message / max_frame selector
 *   [calls u8]  low 3 bits: number of API calls that follow
 *   calls:      [stream offset u16][op u8][len u8][len bytes]
 *               (op % 6: send text, send binary, ping, pong, close, nothing)
 *   [nchunks u8][chunk sizes u8 ...]
 *   the peer's byte stream (after the canned handshake when bit2 is set)
 *
 * The stream is fed twice to two fresh connections: once in as few pieces
 * as possible, once in the chunk sizes given (cycled), each piece in its own
 * exact-size allocation. API calls happen at the same stream offsets in
 * both runs. Oracles:
 *   - the same events (type, opcode, data, close code, status, HTTP status;
 *     in streaming mode the same bytes for every completed message however
 *     it was cut; pieces of a message that then fails may differ), the
 *     same call results, the same output bytes and the same final state:
 *     the verdict and close code cannot depend on how TCP split the stream;
 *   - recv always makes progress until the connection is done;
 *   - memory stays under a bound derived from the limits, and everything
 *     is released by wsr_conn_free.
 */
#include "fuzz_common.h"
#include "wsref/wsref.h"

struct mem {
	size_t cur, peak;
	long live;
};

static void *m_alloc(void *ctx, size_t n)
{
	struct mem *m = ctx;
	void *p = malloc(n);
	if (p) {
		m->cur += n;
		m->live++;
		if (m->cur > m->peak)
			m->peak = m->cur;
	}
	return p;
}

static void *m_realloc(void *ctx, void *p, size_t old, size_t n)
{
	struct mem *m = ctx;
	void *q = realloc(p, n);
	if (q) {
		m->cur = m->cur - old + n;
		if (m->cur > m->peak)
			m->peak = m->cur;
	}
	return q;
}

static void m_free(void *ctx, void *p, size_t n)
{
	struct mem *m = ctx;
	if (!p)
		return;
	m->cur -= n;
	m->live--;
	free(p);
}

static void det_random(void *ctx, uint8_t *buf, size_t n)
{
	uint32_t *s = ctx;
	for (size_t i = 0; i < n; i++) {
		*s ^= *s << 13;
		*s ^= *s >> 17;
		*s ^= *s << 5;
		buf[i] = (uint8_t)*s;
	}
}

struct call {
	size_t at;
	uint8_t op;
	const uint8_t *p;
	size_t n;
};

struct run {
	struct wsr_conn *c;
	struct mem mem;
	uint32_t rnd;
	uint32_t h;      /* transcript hash */
	uint32_t ph;     /* streaming: hash of the open message's pieces so far */
	unsigned events; /* events pulled */
	bool echo, streaming;
};

static void mix(struct run *r, const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		r->h = (r->h ^ b[i]) * 16777619u;
}

static void mix_u32(struct run *r, uint32_t v)
{
	mix(r, &v, sizeof(v));
}

static void drain_output(struct run *r)
{
	size_t n = 0;
	const uint8_t *p = wsr_conn_out_buf(r->c, &n);
	if (n) {
		mix_u32(r, 0x07u);
		mix(r, p, n);
		wsr_conn_out_ack(r->c, n);
	}
}

static unsigned drain_events(struct run *r)
{
	unsigned got = 0;
	struct wsr_event ev;
	for (int guard = 0; guard < 64; guard++) {
		enum wsr_status st = wsr_conn_next_event(r->c, &ev);
		if (st != WSR_OK)
			break;
		got++;
		r->events++;
		if (getenv("FUZZ_VERBOSE"))
			fprintf(stderr, "event %d op %d fin %d len %zu code %u status %s http %d\n",
			        ev.type, ev.opcode, ev.fin, ev.len, ev.code,
			        wsr_status_name(ev.status), ev.http_status);
		if (ev.type != WSR_EV_FRAGMENT)
			mix_u32(r, ev.type);
		switch (ev.type) {
		case WSR_EV_FRAGMENT:
			/*
			 * Piece boundaries follow the input split, and so does how
			 * much of a message that later fails was handed out (a
			 * whole-buffer check can fail before the first piece):
			 * only completed messages enter the transcript.
			 */
			for (size_t i = 0; i < ev.len; i++)
				r->ph = (r->ph ^ ev.data[i]) * 16777619u;
			if (ev.fin) {
				mix_u32(r, 0xF1u);
				mix_u32(r, ev.opcode);
				mix_u32(r, r->ph);
				r->ph = 2166136261u;
			}
			break;
		case WSR_EV_MESSAGE:
			mix_u32(r, ev.opcode);
			mix_u32(r, (uint32_t)ev.len);
			mix(r, ev.data, ev.len);
			if (r->echo)
				mix_u32(r, wsr_conn_send(r->c, ev.opcode, ev.data, ev.len));
			break;
		case WSR_EV_PING:
		case WSR_EV_PONG:
			mix_u32(r, (uint32_t)ev.len);
			mix(r, ev.data, ev.len);
			break;
		case WSR_EV_CLOSE:
			mix_u32(r, ev.code);
			mix(r, ev.data, ev.len);
			break;
		case WSR_EV_FAIL:
			mix_u32(r, ev.status);
			mix_u32(r, ev.code);
			mix_u32(r, (uint32_t)ev.http_status);
			break;
		default:
			break;
		}
		drain_output(r);
	}
	/* In streaming mode the number of FRAGMENT events depends on the split. */
	return got;
}

static void do_call(struct run *r, const struct call *k)
{
	enum wsr_status st = WSR_OK;
	switch (k->op % 6) {
	case 0:
		st = wsr_conn_send(r->c, WSR_OP_TEXT, k->p, k->n);
		break;
	case 1:
		st = wsr_conn_send(r->c, WSR_OP_BINARY, k->p, k->n);
		break;
	case 2:
		st = wsr_conn_ping(r->c, k->p, k->n);
		break;
	case 3:
		st = wsr_conn_pong(r->c, k->p, k->n);
		break;
	case 4: {
		uint16_t code = k->n >= 2 ? (uint16_t)(k->p[0] << 8 | k->p[1]) : 1000;
		size_t rl = k->n >= 2 ? k->n - 2 : 0;
		st = wsr_conn_close(r->c, code, (const char *)k->p + (k->n >= 2 ? 2 : 0), rl);
		break;
	}
	default:
		break;
	}
	mix_u32(r, 0xCA11u);
	mix_u32(r, st);
	drain_events(r);
	drain_output(r);
}

/* Feed [p, p+n) until consumed or done. */
static void feed(struct run *r, const uint8_t *p, size_t n)
{
	uint8_t *piece = fz_dup(p, n);
	size_t off = 0;
	while (off < n && !wsr_conn_done(r->c)) {
		size_t k = wsr_conn_recv(r->c, piece + off, n - off);
		FZ_CHECK(k <= n - off);
		off += k;
		unsigned ev = drain_events(r);
		drain_output(r);
		if (k == 0 && ev == 0)
			FZ_CHECK(wsr_conn_done(r->c)); /* recv must make progress */
	}
	free(piece);
}

struct plan {
	const uint8_t *sizes;
	size_t nsizes; /* 0: as few pieces as possible */
};

static void run_once(struct run *r, const struct wsr_config *base, const uint8_t *s, size_t sn,
                     const struct call *calls, size_t ncalls, const struct plan *pl)
{
	struct wsr_config cfg = *base;
	memset(&r->mem, 0, sizeof(r->mem));
	r->rnd = 0x9E3779B9u;
	r->h = 2166136261u;
	r->ph = 2166136261u;
	r->events = 0;
	cfg.alloc = (struct wsr_allocator){m_alloc, m_realloc, m_free, &r->mem};
	cfg.random = det_random;
	cfg.random_ctx = &r->rnd;
	r->c = malloc(wsr_conn_size());
	FZ_CHECK(r->c != NULL);
	enum wsr_status st = wsr_conn_init(r->c, &cfg);
	FZ_CHECK(st == WSR_OK);
	drain_events(r);
	drain_output(r);

	size_t pos = 0, ci = 0, si = 0;
	while (pos < sn || ci < ncalls) {
		/* Calls past the end of the stream run at its end. */
		while (ci < ncalls && (calls[ci].at <= pos || pos >= sn))
			do_call(r, &calls[ci++]);
		if (pos >= sn)
			continue;
		size_t end = sn;
		if (ci < ncalls && calls[ci].at < end)
			end = calls[ci].at;
		if (pl->nsizes) {
			size_t want = pl->sizes[si++ % pl->nsizes];
			if (want == 0)
				want = 1;
			if (pos + want < end)
				end = pos + want;
		}
		feed(r, s + pos, end - pos);
		pos = end;
	}
	mix_u32(r, wsr_conn_state(r->c));
	mix_u32(r, wsr_conn_done(r->c));
	struct wsr_pmd_params p;
	memset(&p, 0, sizeof(p));
	mix_u32(r, wsr_conn_deflate(r->c, &p));
	mix(r, &p, sizeof(p));
	const char *sp = wsr_conn_subprotocol(r->c);
	mix(r, sp ? sp : "", sp ? strlen(sp) : 0);
}

static void finish(struct run *r, size_t bound)
{
	FZ_CHECK(r->mem.peak <= bound);
	wsr_conn_free(r->c);
	FZ_CHECK(r->mem.cur == 0 && r->mem.live == 0);
	free(r->c);
}

/* The canned handshake for this role; the client's needs the key it sent. */
static size_t canned(char *out, size_t cap, bool deflate, const struct wsr_config *cfg)
{
#if FUZZ_CONN_CLIENT
	/* Learn the key the client sends (deterministic random). */
	struct run r = {0};
	struct wsr_config c2 = *cfg;
	r.rnd = 0x9E3779B9u;
	c2.random = det_random;
	c2.random_ctx = &r.rnd;
	struct wsr_conn *c = malloc(wsr_conn_size());
	FZ_CHECK(c && wsr_conn_init(c, &c2) == WSR_OK);
	size_t n = 0;
	const uint8_t *req = wsr_conn_out_buf(c, &n);
	char key[25] = "";
	const char *kh = "Sec-WebSocket-Key: ";
	for (size_t i = 0; i + strlen(kh) + 24 <= n; i++)
		if (memcmp(req + i, kh, strlen(kh)) == 0) {
			memcpy(key, req + i + strlen(kh), 24);
			break;
		}
	wsr_conn_free(c);
	free(c);
	char acc[29];
	wsr_handshake_accept(key, strlen(key), acc);
	return (size_t)snprintf(out, cap,
	                        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
	                        "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n%s\r\n",
	                        acc,
	                        deflate ? "Sec-WebSocket-Extensions: permessage-deflate\r\n" : "");
#else
	(void)cfg;
	return (size_t)snprintf(
	        out, cap,
	        "GET /chat HTTP/1.1\r\nHost: server.example\r\nUpgrade: websocket\r\n"
	        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	        "Sec-WebSocket-Version: 13\r\n%s\r\n",
	        deflate ? "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
	                : "");
#endif
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = {data, size};
	uint8_t flags = fz_u8(&f), lim = fz_u8(&f), nc = fz_u8(&f) & 7;
	static const uint64_t sizes[8] = {0, 64, 125, 256, 1024, 4096, 65536, 1u << 20};
	struct wsr_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.role = FUZZ_CONN_CLIENT ? WSR_ROLE_CLIENT : WSR_ROLE_SERVER;
	cfg.limits.max_message = sizes[lim & 7];
	cfg.limits.max_frame = sizes[(lim >> 3) & 7];
	cfg.limits.max_output = 1u << 18;
	cfg.deflate.enabled = flags & 1;
	cfg.deflate.server_no_context_takeover = (flags >> 3) & 1;
	cfg.deflate.client_no_context_takeover = (flags >> 4) & 1;
	static const uint8_t win[4] = {0, 8, 9, 15};
	cfg.deflate.server_max_window_bits = win[flags >> 6];
	cfg.deflate.client_max_window_bits = FUZZ_CONN_CLIENT ? win[flags >> 6] : 0;
	cfg.streaming = (flags >> 1) & 1;
	cfg.path = "/chat";
	cfg.host = "server.example";

	struct call calls[8];
	for (size_t i = 0; i < nc; i++) {
		calls[i].at = fz_u16(&f);
		calls[i].op = fz_u8(&f);
		calls[i].n = fz_bytes(&f, fz_u8(&f), &calls[i].p);
	}
	/* Calls in stream order. */
	for (size_t i = 1; i < nc; i++)
		for (size_t j = i; j > 0 && calls[j].at < calls[j - 1].at; j--) {
			struct call t = calls[j];
			calls[j] = calls[j - 1];
			calls[j - 1] = t;
		}
	struct plan whole = {NULL, 0}, split;
	split.nsizes = fz_bytes(&f, fz_u8(&f), &split.sizes);
	if (split.nsizes == 0) {
		static const uint8_t one = 1;
		split.sizes = &one;
		split.nsizes = 1;
	}

	char pre[512];
	size_t pn = 0;
	if (flags & 4)
		pn = canned(pre, sizeof(pre), cfg.deflate.enabled, &cfg);
	size_t sn = pn + f.n;
	uint8_t *s = malloc(sn ? sn : 1);
	memcpy(s, pre, pn);
	memcpy(s + pn, f.p, f.n);

	struct run a = {.echo = (flags >> 5) & 1, .streaming = cfg.streaming};
	struct run b = a;
	run_once(&a, &cfg, s, sn, calls, nc, &whole);
	run_once(&b, &cfg, s, sn, calls, nc, &split);
	if (a.h != b.h)
		fprintf(stderr, "transcripts differ: %u events whole, %u split\n", a.events,
		        b.events);
	FZ_CHECK(a.h == b.h);
	uint64_t msg = cfg.limits.max_message ? cfg.limits.max_message : (64u << 20);
	size_t bound = (size_t)msg + cfg.limits.max_output + 256 + 8192 * 3 + (700u << 10);
	finish(&a, bound);
	finish(&b, bound);
	free(s);
	return 0;
}
