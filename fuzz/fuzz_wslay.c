/*
 * fuzz_wslay.c - differential: the same client->server frame stream judged
 * by three independent readers:
 *   W  libwsref, a server connection after a canned opening handshake;
 *   L  Debian's libwslay (event API, server context);
 *   H  the harness's own frame reader (harness/wire.c, peer is a client).
 *
 * Input: [chunk u8][frames...]. chunk 0 feeds the stream whole, else in
 * pieces of `chunk` bytes (each its own exact-size allocation for W and H;
 * wslay's recv callback hands out at most `chunk` bytes per call).
 *
 * Each reader yields an outcome: the data messages it delivered (count and
 * hash), then how it stopped: OPEN (wants more bytes), CLOSE (a valid Close
 * arrived; its code, 1005 for none) or FAIL (it failed the connection; the
 * close code it sends). Outcomes are compared. When they differ:
 *   - classes RFC 6455 leaves open (see ambiguous()) are skipped;
 *   - when W alone disagrees with L and H, which agree, this is treated as
 *     a libwsref RFC violation: the outcomes are printed and the target
 *     aborts, so the fuzzer keeps the input;
 *   - otherwise (wslay or the harness reader is the odd one out) the
 *     disagreement is printed to stderr, once per kind (who is odd, and the
 *     three stop states and codes; at most FUZZ_WSLAY_LOG_MAX kinds per
 *     process), and the fuzzer goes on. docs/fuzzing.md records what these
 *     turned out to be.
 *
 * Only built with a fuzzing engine and when libwslay is found.
 */
#include <wslay/wslay.h>

#include "fuzz_common.h"
#include "wire.h"
#include "wsref/wsref.h"

#define FUZZ_WSLAY_LOG_MAX 20
#define MAX_INPUT          (256u * 1024u)

enum term { T_OPEN = 0, T_CLOSE, T_FAIL };
static const char *const term_name[] = {"OPEN", "CLOSE", "FAIL"};

struct outcome {
	unsigned n_msgs;
	uint32_t hash; /* FNV-1a over opcode, length and bytes of every message */
	enum term term;
	unsigned code;
};

static void hash_msg(struct outcome *o, unsigned opcode, const uint8_t *p, size_t n)
{
	uint32_t h = o->hash ? o->hash : 2166136261u;
	uint8_t hd[9] = {(uint8_t)opcode};
	for (int i = 0; i < 8; i++)
		hd[1 + i] = (uint8_t)((uint64_t)n >> (8 * i));
	for (size_t i = 0; i < sizeof(hd); i++)
		h = (h ^ hd[i]) * 16777619u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	o->hash = h;
	o->n_msgs++;
}

/* ---- W: libwsref ---------------------------------------------------------- */

static const char canned_request[] = "GET /chat HTTP/1.1\r\nHost: server.example\r\n"
                                     "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                     "Sec-WebSocket-Version: 13\r\n\r\n";

/* Pull events until none; returns true once the outcome is final. */
static bool wsref_events(struct wsr_conn *c, struct outcome *o)
{
	struct wsr_event ev;
	while (wsr_conn_next_event(c, &ev) == WSR_OK) {
		size_t n = 0;
		wsr_conn_out_buf(c, &n);
		wsr_conn_out_ack(c, n);
		switch (ev.type) {
		case WSR_EV_MESSAGE:
			hash_msg(o, ev.opcode, ev.data, ev.len);
			break;
		case WSR_EV_CLOSE:
			o->term = T_CLOSE;
			o->code = ev.code;
			return true;
		case WSR_EV_FAIL:
			o->term = T_FAIL;
			o->code = ev.code;
			return true;
		default:
			break;
		}
	}
	return false;
}

static void run_wsref(const uint8_t *s, size_t n, size_t chunk, struct outcome *o)
{
	struct wsr_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.role = WSR_ROLE_SERVER;
	struct wsr_conn *c = malloc(wsr_conn_size());
	FZ_CHECK(c != NULL && wsr_conn_init(c, &cfg) == WSR_OK);
	size_t hn = sizeof(canned_request) - 1;
	FZ_CHECK(wsr_conn_recv(c, (const uint8_t *)canned_request, hn) == hn);
	struct wsr_event ev;
	FZ_CHECK(wsr_conn_next_event(c, &ev) == WSR_OK && ev.type == WSR_EV_OPEN);
	bool done = false;
	size_t off = 0;
	while (off < n && !done) {
		size_t k = chunk && n - off > chunk ? chunk : n - off;
		uint8_t *piece = fz_dup(s + off, k);
		size_t pos = 0;
		while (pos < k && !done) {
			size_t used = wsr_conn_recv(c, piece + pos, k - pos);
			pos += used;
			done = wsref_events(c, o);
			if (used == 0 && !done)
				FZ_CHECK(wsr_conn_done(c)); /* recv must make progress */
			if (wsr_conn_done(c))
				done = true;
		}
		free(piece);
		off += k;
	}
	if (!done)
		wsref_events(c, o);
	wsr_conn_free(c);
	free(c);
}

/* ---- L: wslay --------------------------------------------------------------- */

struct wslay_io {
	const uint8_t *p;
	size_t n, off, chunk;
	struct outcome *o;
};

static ssize_t wl_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *user)
{
	(void)flags;
	struct wslay_io *io = user;
	size_t left = io->n - io->off;
	if (left == 0) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	size_t k = left < len ? left : len;
	if (io->chunk && k > io->chunk)
		k = io->chunk;
	memcpy(buf, io->p + io->off, k);
	io->off += k;
	return (ssize_t)k;
}

static ssize_t wl_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
                       void *user)
{
	(void)ctx, (void)data, (void)flags, (void)user;
	return (ssize_t)len;
}

static void wl_msg(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg,
                   void *user)
{
	(void)ctx;
	struct wslay_io *io = user;
	if (arg->opcode == WSLAY_TEXT_FRAME || arg->opcode == WSLAY_BINARY_FRAME)
		hash_msg(io->o, arg->opcode, arg->msg, arg->msg_length);
}

static void run_wslay(const uint8_t *s, size_t n, size_t chunk, struct outcome *o)
{
	struct wslay_io io = {s, n, 0, chunk, o};
	struct wslay_event_callbacks cb = {wl_recv, wl_send, NULL, NULL, NULL, NULL, wl_msg};
	wslay_event_context_ptr ctx = NULL;
	FZ_CHECK(wslay_event_context_server_init(&ctx, &cb, &io) == 0);
	/*
	 * wslay allocates a frame's declared length when the frame starts (its
	 * default limit is 2 GiB - 1): cap it, or a header declaring 2 GB makes
	 * the fuzzer run out of memory. Frames that long never complete here
	 * (inputs are at most MAX_INPUT bytes), so this changes no verdict but
	 * OPEN into FAIL 1009, which ambiguous() accepts.
	 */
	wslay_event_config_set_max_recv_msg_length(ctx, 1u << 20);
	/*
	 * wslay_event_recv returns after a short read (it takes one as "would
	 * block"), at WOULDBLOCK and once it queued a Close: call it again until
	 * a call consumes nothing.
	 */
	for (;;) {
		size_t before = io.off;
		if (wslay_event_recv(ctx) != 0)
			break;
		wslay_event_send(ctx);
		if (!wslay_event_get_read_enabled(ctx) || io.off == before)
			break;
	}
	wslay_event_send(ctx);
	if (wslay_event_get_close_received(ctx)) {
		/* A valid Close arrived (an invalid one is failed with 1002 instead). */
		o->term = T_CLOSE;
		o->code = wslay_event_get_status_code_received(ctx);
	} else if (wslay_event_get_close_sent(ctx)) {
		o->term = T_FAIL;
		o->code = wslay_event_get_status_code_sent(ctx);
	}
	wslay_event_context_free(ctx);
}

/* ---- H: the harness reader -------------------------------------------------- */

static void run_harness(const uint8_t *s, size_t n, size_t chunk, struct outcome *o)
{
	struct wsc_reader r;
	wsc_reader_init(&r, true, 0, 0);
	r.close_codes_2018 = true; /* libwsref accepts 1012-1014 too (IANA registry) */
	bool done = false;
	size_t off = 0;
	while (off < n && !done) {
		size_t k = chunk && n - off > chunk ? chunk : n - off;
		uint8_t *piece = fz_dup(s + off, k);
		size_t pos = 0;
		for (;;) {
			struct wsc_rd_event ev;
			size_t used = 0;
			enum wsc_rd_kind kind =
			        wsc_reader_next(&r, piece + pos, k - pos, &used, &ev);
			pos += used;
			if (kind == WSC_RD_NEED_MORE)
				break;
			if (kind == WSC_RD_MESSAGE) {
				hash_msg(o, ev.opcode, ev.data, ev.len);
			} else if (kind == WSC_RD_CLOSE) {
				o->term = ev.fail_code ? T_FAIL : T_CLOSE;
				o->code = ev.fail_code ? ev.fail_code : (unsigned)ev.close_code;
				done = true;
				break;
			} else if (kind == WSC_RD_ERROR) {
				o->term = T_FAIL;
				o->code = ev.fail_code;
				done = true;
				break;
			}
		}
		free(piece);
		off += k;
	}
	wsc_reader_free(&r);
}

/* ---- comparison ------------------------------------------------------------ */

static bool same(const struct outcome *a, const struct outcome *b)
{
	return a->n_msgs == b->n_msgs && a->hash == b->hash && a->term == b->term &&
	       (a->term == T_OPEN || a->code == b->code);
}

/*
 * Differences RFC 6455 allows:
 *   - 1002 against 1007 when a message has both a UTF-8 error and a framing
 *     error (which one is found first depends on when UTF-8 is checked);
 *   - 1002 against 1009: inputs are at most MAX_INPUT bytes, far below every
 *     reader's size limit, so a 1009 can only come from a header declaring a
 *     huge length; when that header breaks another rule too (an orphan
 *     continuation, say) both codes describe the same frame;
 *   - FAIL against OPEN with the same messages: the stream ends inside a
 *     frame and one reader failed it from what it had (bad RSV or opcode in
 *     the first byte, invalid UTF-8 found early as section 8.1 allows) while
 *     another waits for the rest of the header, frame or message first.
 */
static bool ambiguous(const struct outcome *a, const struct outcome *b)
{
	if (a->n_msgs != b->n_msgs || a->hash != b->hash)
		return false;
	if (a->term == T_FAIL && b->term == T_FAIL) {
		unsigned x = a->code < b->code ? a->code : b->code;
		unsigned y = a->code < b->code ? b->code : a->code;
		return (x == 1002 && y == 1007) || (x == 1002 && y == 1009);
	}
	if ((a->term == T_FAIL && b->term == T_OPEN) || (b->term == T_FAIL && a->term == T_OPEN))
		return true;
	return false;
}

static bool agree(const struct outcome *a, const struct outcome *b)
{
	return same(a, b) || ambiguous(a, b);
}

static void show(const char *who, const struct outcome *o)
{
	fprintf(stderr, "  %-8s %u message(s) hash %08x, %s", who, o->n_msgs, o->hash,
	        term_name[o->term]);
	if (o->term != T_OPEN)
		fprintf(stderr, " %u", o->code);
	fputc('\n', stderr);
}

static void dump_input(const uint8_t *p, size_t n)
{
	fputs("  input:", stderr);
	for (size_t i = 0; i < n && i < 96; i++)
		fprintf(stderr, " %02x", p[i]);
	fputs(n > 96 ? " ...\n" : "\n", stderr);
}

/* True the first time this kind of disagreement is seen (bounded table). */
static bool new_kind(const char *odd, const struct outcome *w, const struct outcome *l,
                     const struct outcome *h)
{
	static char seen[FUZZ_WSLAY_LOG_MAX][64];
	static unsigned n_seen;
	char key[64];
	snprintf(key, sizeof(key), "%s/%d:%u/%d:%u/%d:%u", odd, w->term, w->code, l->term, l->code,
	         h->term, h->code);
	for (unsigned i = 0; i < n_seen; i++)
		if (strcmp(seen[i], key) == 0)
			return false;
	if (n_seen == FUZZ_WSLAY_LOG_MAX)
		return false;
	memcpy(seen[n_seen++], key, sizeof(key));
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > MAX_INPUT)
		return 0;
	size_t chunk = data[0];
	const uint8_t *s = data + 1;
	size_t n = size - 1;
	struct outcome w = {0}, l = {0}, h = {0};
	run_wsref(s, n, chunk, &w);
	run_wslay(s, n, chunk, &l);
	run_harness(s, n, chunk, &h);
	bool wl = agree(&w, &l), wh = agree(&w, &h), lh = agree(&l, &h);
	if (wl && wh && lh)
		return 0;
	if (!wl && !wh && same(&l, &h)) {
		fprintf(stderr,
		        "fuzz_wslay: libwsref disagrees with wslay and the harness reader\n");
		show("libwsref", &w);
		show("wslay", &l);
		show("harness", &h);
		dump_input(data, size);
		abort();
	}
	const char *odd = wh && !wl ? "wslay" : (wl && !wh ? "the harness reader" : "no majority");
	if (new_kind(odd, &w, &l, &h)) {
		fprintf(stderr, "fuzz_wslay: disagreement (%s is the odd one out)\n", odd);
		show("libwsref", &w);
		show("wslay", &l);
		show("harness", &h);
		dump_input(data, size);
	}
	return 0;
}
