/*
 * wsref-bench - the reference benchmark: libwsref's hot paths measured side by
 * side with memcpy in one run, so the figures are comparable (same machine,
 * same moment, same compiler flags).
 *
 *   memcpy                      1 MiB (in cache) and 64 MiB (DRAM)
 *   wsr_mask / wsr_mask_bytewise 1 MiB, in place
 *   wsr_utf8_feed               1 MiB of ASCII, mixed Latin/Greek, CJK
 *   receive path                a server-role wsr_conn in OPEN state fed 1 MiB
 *                               masked text frames (parse + unmask + UTF-8
 *                               validation + message delivery), whole-message
 *                               and streaming delivery
 *
 * Each figure is the best of N repetitions (default 5) of a timed batch that
 * moves at least 64 MiB (at least 64 KiB per call), timed with
 * CLOCK_MONOTONIC; a compiler barrier after each call keeps the work from
 * being optimised away. GB/s = 1e9 bytes per second of payload processed.
 * --tsv prints one row per figure (name, GB/s, ratio to memcpy 1 MiB of the
 * same run) for scripts/bench-reference --baseline to combine.
 */
#include <wsref/wsref.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MiB (1024u * 1024u)

/* The compiler must assume p's memory is read and written here. */
#define BARRIER(p) __asm__ volatile("" : : "r"(p) : "memory")

static int reps = 5;
static bool tsv; /* machine-readable rows: name, GB/s, ratio to the reference */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef void (*work_fn)(void *ctx);

/* Best GB/s over reps batches of `calls` calls of fn, each processing `bytes`. */
static double measure(work_fn fn, void *ctx, size_t bytes, unsigned calls)
{
	double best = 0;
	fn(ctx); /* warm up: page faults, caches */
	for (int r = 0; r < reps; r++) {
		double t0 = now_s();
		for (unsigned i = 0; i < calls; i++)
			fn(ctx);
		double dt = now_s() - t0;
		double gbs = (double)bytes * calls / dt / 1e9;
		if (gbs > best)
			best = gbs;
	}
	return best;
}

/* Calls per batch so that a batch moves at least 64 MiB. */
static unsigned calls_for(size_t bytes)
{
	size_t c = (64 * (size_t)MiB + bytes - 1) / bytes;
	return c < 2 ? 2 : (unsigned)c;
}

static void *xmalloc(size_t n)
{
	void *p = aligned_alloc(64, (n + 63) & ~(size_t)63);
	if (!p) {
		fprintf(stderr, "wsref-bench: out of memory\n");
		exit(1);
	}
	memset(p, 0x5a, n);
	return p;
}

/* ------------------------------------------------------------------------ */

struct copy_ctx {
	uint8_t *dst;
	const uint8_t *src;
	size_t len;
};

static void do_memcpy(void *ctx)
{
	struct copy_ctx *c = ctx;
	memcpy(c->dst, c->src, c->len);
	BARRIER(c->dst);
}

struct mask_ctx {
	uint8_t *buf;
	size_t len;
	uint8_t key[4];
};

static void do_mask(void *ctx)
{
	struct mask_ctx *m = ctx;
	wsr_mask(m->buf, m->len, m->key, 0);
	BARRIER(m->buf);
}

static void do_mask_bytewise(void *ctx)
{
	struct mask_ctx *m = ctx;
	wsr_mask_bytewise(m->buf, m->len, m->key, 0);
	BARRIER(m->buf);
}

struct utf8_ctx {
	const uint8_t *text;
	size_t len;
	int bad; /* counts failures: must stay 0 */
};

static void do_utf8(void *ctx)
{
	struct utf8_ctx *u = ctx;
	struct wsr_utf8 st;
	wsr_utf8_init(&st);
	if (wsr_utf8_feed(&st, u->text, u->len, NULL) != WSR_OK || !wsr_utf8_complete(&st))
		u->bad++;
	BARRIER(&st);
}

/* ------------------------------------------------------------------------ */
/* Text generators: exactly len bytes of valid UTF-8                          */
/* ------------------------------------------------------------------------ */

static size_t put_cp(uint8_t *p, uint32_t cp)
{
	if (cp < 0x80) {
		p[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800) {
		p[0] = (uint8_t)(0xC0 | cp >> 6);
		p[1] = (uint8_t)(0x80 | (cp & 0x3F));
		return 2;
	}
	p[0] = (uint8_t)(0xE0 | cp >> 12);
	p[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
	p[2] = (uint8_t)(0x80 | (cp & 0x3F));
	return 3;
}

enum text_kind { TEXT_ASCII, TEXT_MIXED, TEXT_CJK };

static void make_text(uint8_t *p, size_t len, enum text_kind kind)
{
	static const char ascii[] = "The quick brown fox jumps over the lazy dog; 0123456789. ";
	/* Latin words with accents and Greek words, mixed. */
	static const uint32_t mixed[] = {'c',   'a',   'f',   0xE9,  ' ',   0x3B1, 0x3BB, 0x3C6,
	                                 0x3B1, ' ',   'n',   'a',   0xEF,  'v',   'e',   ' ',
	                                 0x395, 0x3BB, 0x3BB, 0x3B7, 0x3BD, 0x3B9, 0x3BA, 0x3AC,
	                                 ' ',   0xFC,  'b',   'e',   'r',   ' ',   0x3C9, ','};
	size_t i = 0, k = 0;
	uint32_t cjk = 0x4E00;
	for (;;) {
		uint32_t cp;
		if (kind == TEXT_ASCII) {
			cp = (uint8_t)ascii[k++ % (sizeof ascii - 1)];
		} else if (kind == TEXT_MIXED) {
			cp = mixed[k++ % (sizeof mixed / sizeof mixed[0])];
		} else {
			cp = cjk;
			cjk = cjk == 0x9FFF ? 0x4E00 : cjk + 1;
			if (++k % 40 == 0)
				cp = 0x3002; /* ideographic full stop */
		}
		uint8_t tmp[4];
		size_t n = put_cp(tmp, cp);
		if (i + n > len)
			break;
		memcpy(p + i, tmp, n);
		i += n;
	}
	memset(p + i, ' ', len - i);
}

/* ------------------------------------------------------------------------ */
/* Receive path                                                              */
/* ------------------------------------------------------------------------ */

struct recv_ctx {
	struct wsr_conn *c;
	const uint8_t *wire; /* one complete masked frame */
	size_t wire_len;
	size_t payload_len;
	uint64_t delivered; /* payload bytes seen in events */
	int bad;
};

static void do_recv(void *ctx)
{
	struct recv_ctx *r = ctx;
	const uint8_t *p = r->wire;
	size_t left = r->wire_len;
	int stalls = 0;
	while (left > 0 && stalls < 2) {
		size_t used = wsr_conn_recv(r->c, p, left);
		p += used;
		left -= used;
		stalls = used ? 0 : stalls + 1;
		struct wsr_event ev;
		enum wsr_status st;
		while ((st = wsr_conn_next_event(r->c, &ev)) == WSR_OK) {
			if (ev.type == WSR_EV_MESSAGE || ev.type == WSR_EV_FRAGMENT) {
				r->delivered += ev.len;
				BARRIER(ev.data);
			} else {
				r->bad++;
			}
		}
		if (st != WSR_AGAIN)
			r->bad++;
	}
	if (left)
		r->bad++;
}

/* A server-role connection driven through the opening handshake. */
static struct wsr_conn *open_server(bool streaming)
{
	static const char req[] = "GET /bench HTTP/1.1\r\n"
	                          "Host: localhost\r\n"
	                          "Upgrade: websocket\r\n"
	                          "Connection: Upgrade\r\n"
	                          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	                          "Sec-WebSocket-Version: 13\r\n\r\n";
	struct wsr_config cfg = {0};
	cfg.role = WSR_ROLE_SERVER;
	cfg.streaming = streaming;
	struct wsr_conn *c = malloc(wsr_conn_size());
	if (!c || wsr_conn_init(c, &cfg) != WSR_OK) {
		fprintf(stderr, "wsref-bench: wsr_conn_init failed\n");
		exit(1);
	}
	size_t used = wsr_conn_recv(c, (const uint8_t *)req, sizeof req - 1);
	struct wsr_event ev;
	bool open = false;
	while (wsr_conn_next_event(c, &ev) == WSR_OK)
		open |= ev.type == WSR_EV_OPEN;
	size_t out = 0;
	wsr_conn_out_buf(c, &out);
	wsr_conn_out_ack(c, out);
	if (used != sizeof req - 1 || !open || wsr_conn_state(c) != WSR_STATE_OPEN) {
		fprintf(stderr, "wsref-bench: handshake did not open the connection\n");
		exit(1);
	}
	return c;
}

/* Build one masked FIN text frame around payload. Caller frees. */
static uint8_t *make_frame(const uint8_t *payload, size_t len, size_t *wire_len)
{
	struct wsr_frame_header h = {0};
	h.fin = true;
	h.opcode = WSR_OP_TEXT;
	h.masked = true;
	h.mask[0] = 0x37;
	h.mask[1] = 0xfa;
	h.mask[2] = 0x21;
	h.mask[3] = 0x3d;
	h.length = len;
	size_t hl = wsr_frame_header_size(len, true);
	uint8_t *w = xmalloc(hl + len);
	if (wsr_frame_write_header(w, hl, &h) != hl) {
		fprintf(stderr, "wsref-bench: wsr_frame_write_header failed\n");
		exit(1);
	}
	memcpy(w + hl, payload, len);
	wsr_mask_bytewise(w + hl, len, h.mask, 0);
	*wire_len = hl + len;
	return w;
}

static double bench_recv(const uint8_t *text, size_t len, bool streaming, int *bad)
{
	struct recv_ctx r = {0};
	r.c = open_server(streaming);
	uint8_t *wire = make_frame(text, len, &r.wire_len);
	r.wire = wire;
	r.payload_len = len;
	unsigned calls = calls_for(len);
	double g = measure(do_recv, &r, len, calls);
	uint64_t expect = (uint64_t)len * (calls * (unsigned)reps + 1);
	if (r.bad || r.delivered != expect || wsr_conn_state(r.c) != WSR_STATE_OPEN) {
		fprintf(stderr,
		        "wsref-bench: receive path misbehaved (%d errors, %llu of %llu bytes)\n",
		        r.bad, (unsigned long long)r.delivered, (unsigned long long)expect);
		(*bad)++;
	}
	wsr_conn_free(r.c);
	free(r.c);
	free(wire);
	return g;
}

/* ------------------------------------------------------------------------ */

static void row(const char *name, double gbs, double ref, const char *refname)
{
	if (tsv)
		printf("%s\t%.3f\t%.4f\n", name, gbs, ref > 0 ? gbs / ref : 0.0);
	else if (ref > 0)
		printf("%-46s %8.2f GB/s   %5.2fx %s\n", name, gbs, gbs / ref, refname);
	else
		printf("%-46s %8.2f GB/s\n", name, gbs);
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--reps") && i + 1 < argc) {
			reps = atoi(argv[++i]);
			if (reps < 1 || reps > 1000) {
				fprintf(stderr, "wsref-bench: --reps: 1..1000\n");
				return 2;
			}
		} else if (!strcmp(argv[i], "--tsv")) {
			tsv = true;
		} else {
			fprintf(stderr, "usage: wsref-bench [--reps N] [--tsv]\n");
			return 2;
		}
	}
	int bad = 0;
	const size_t small = MiB, big = 64 * (size_t)MiB;
	if (!tsv)
		printf("wsref-bench: best of %d, batches of >= 64 MiB, 1 MiB = %u bytes\n", reps,
		       MiB);

	struct copy_ctx cp = {xmalloc(small), xmalloc(small), small};
	double mc1 = measure(do_memcpy, &cp, small, calls_for(small));
	free(cp.dst);
	free((void *)cp.src);
	struct copy_ctx cpb = {xmalloc(big), xmalloc(big), big};
	double mc64 = measure(do_memcpy, &cpb, big, 4);
	free(cpb.dst);
	free((void *)cpb.src);
	row("memcpy 1 MiB", mc1, 0, NULL);
	row("memcpy 64 MiB", mc64, 0, NULL);

	struct mask_ctx mk = {xmalloc(small), small, {0x12, 0x34, 0x56, 0x78}};
	double m_fast = measure(do_mask, &mk, small, calls_for(small));
	double m_byte = measure(do_mask_bytewise, &mk, small, calls_for(small) / 4);
	free(mk.buf);
	row("wsr_mask 1 MiB", m_fast, mc1, "memcpy 1 MiB");
	row("wsr_mask_bytewise 1 MiB", m_byte, mc1, "memcpy 1 MiB");
	if (!tsv)
		printf("%-46s %8.2fx\n", "wsr_mask / wsr_mask_bytewise", m_fast / m_byte);

	static const char *kind_name[] = {"ASCII", "mixed Latin/Greek", "CJK"};
	uint8_t *text[3];
	double u8[3];
	for (int k = 0; k < 3; k++) {
		text[k] = xmalloc(small);
		make_text(text[k], small, (enum text_kind)k);
		if (!wsr_utf8_valid_slow(text[k], small, NULL)) {
			fprintf(stderr, "wsref-bench: generated %s text is not valid UTF-8\n",
			        kind_name[k]);
			return 1;
		}
		struct utf8_ctx u = {text[k], small, 0};
		u8[k] = measure(do_utf8, &u, small, calls_for(small));
		if (u.bad) {
			fprintf(stderr, "wsref-bench: wsr_utf8_feed rejected valid %s text\n",
			        kind_name[k]);
			bad++;
		}
		char name[64];
		snprintf(name, sizeof name, "wsr_utf8_feed 1 MiB %s", kind_name[k]);
		row(name, u8[k], mc1, "memcpy 1 MiB");
	}

	double rx[3][2];
	for (int k = 0; k < 3; k++) {
		for (int s = 0; s < 2; s++) {
			rx[k][s] = bench_recv(text[k], small, s == 1, &bad);
			char name[80];
			snprintf(name, sizeof name, "receive path 1 MiB %s%s", kind_name[k],
			         s ? " (stream)" : "");
			row(name, rx[k][s], mc1, "memcpy 1 MiB");
		}
	}
	for (int k = 0; k < 3; k++)
		free(text[k]);

	if (tsv)
		goto out;
	printf("\nratios\n");
	printf("%-46s %8.2f   (target >= 0.50)\n", "receive path ASCII / memcpy 1 MiB",
	       rx[0][0] / mc1);
	printf("%-46s %8.2f\n", "receive path ASCII / memcpy 64 MiB", rx[0][0] / mc64);
	printf("%-46s %8.2f\n", "receive path mixed / memcpy 1 MiB", rx[1][0] / mc1);
	printf("%-46s %8.2f\n", "receive path CJK / memcpy 1 MiB", rx[2][0] / mc1);
	printf("%-46s %8.2f GB/s (target >= 3)\n", "utf8 CJK", u8[2]);
	printf("%-46s %8.2f GB/s (target >= 20)\n", "unmask", m_fast);
out:
	if (bad) {
		fprintf(stderr, "wsref-bench: %d correctness problems (figures above are void)\n",
		        bad);
		return 1;
	}
	return 0;
}
