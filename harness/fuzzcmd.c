/*
 * fuzzcmd.c - `wsconform fuzz URL ...`: network fuzzing of a WebSocket
 * server with mutated catalog traffic (user guide: docs/fuzzing.md).
 *
 * How it works:
 *   - Every server-side catalog case whose opening handshake should succeed
 *     is turned into a fuzzable case: each `send` is encoded to the exact
 *     bytes it puts on the wire (masked with a key drawn from the seeded
 *     generator) and becomes a `raw` step; chops and short waits stay; the
 *     kill/close timers are replaced by a tail `wait 0.02 mark alive` +
 *     `closeafter 0`, so every case ends quickly with a normal close.
 *   - Mutators change those steps: bit flips, interesting bytes, frame
 *     length fields, opcodes, RSV bits, FIN, the mask bit, chops and delays,
 *     truncation, repetition, inserted frames, splices of two cases, and
 *     opening-handshake mutations (dropped or corrupted required headers,
 *     a wrong method or HTTP version, junk headers).
 *   - Batches of -j cases run through wsc_engine_run() at once. After each
 *     batch a liveness probe (a fresh connection: handshake, ping, pong
 *     within --probe-timeout) runs and the target's RSS is sampled.
 *   - Oracles: the target died (signal, exit, sanitizer report: target.c);
 *     the probe failed (hang); RSS above --max-rss-mb; the harness's reader
 *     saw a protocol violation in what the peer sent; the peer answered 101
 *     to an opening handshake RFC 6455 4.2.1 says it must refuse; the peer
 *     ignored our Close (no Close back within 1 s although our byte stream
 *     was frame-aligned, RFC 6455 5.5.1).
 *   - A finding is re-run alone to confirm it (restarting the target after
 *     a crash, hang or blow-up), minimized by dropping steps and bytes while
 *     the same oracle still fires (bounded effort), and saved to --out as a
 *     .wsc case that `wsconform server URL --case-file F` replays.
 *
 * Determinism: the cases generated depend only on --seed and the selected
 * catalog cases (the wall clock only decides how many run).
 *
 * Memory: each fuzz case owns a pool of allocations freed with it; nothing
 * outlives the command.
 */
#include "fuzzcmd.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "case.h"
#include "engine.h"
#include "result.h"
#include "target.h"
#include "util.h"
#include "wire.h"

#define PROG            "wsconform fuzz"
#define FUZZ_CATEGORY   9000
#define TAIL_STEPS      2   /* wait 0.02 mark alive; closeafter 0 */
#define MAX_WAIT_MS     100 /* waits of catalog cases are capped */
#define CASE_TIMEOUT_MS 4000
#define MAX_STEPS       256
#define MAX_RAW         (256u * 1024u) /* a mutated raw step never grows past this */
#define MIN_TRIALS      48             /* minimization budget per finding */
#define MIN_SECONDS     20
#define ALIVE_TAG       "alive"
#define PROBE_PAYLOAD   "wsc-fuzz-probe"

/* ------------------------------------------------------------------ memory */

static void die_oom(void)
{
	fputs(PROG ": out of memory\n", stderr);
	exit(3);
}

struct pool {
	void **v;
	size_t n, cap;
};

static void *pool_alloc(struct pool *p, size_t n)
{
	if (p->n == p->cap) {
		size_t nc = p->cap ? p->cap * 2 : 16;
		void **nv = realloc(p->v, nc * sizeof(*nv));
		if (!nv)
			die_oom();
		p->v = nv;
		p->cap = nc;
	}
	void *m = malloc(n ? n : 1);
	if (!m)
		die_oom();
	p->v[p->n++] = m;
	return m;
}

static void *pool_dup(struct pool *p, const void *s, size_t n)
{
	void *m = pool_alloc(p, n);
	if (n)
		memcpy(m, s, n);
	return m;
}

static char *pool_str(struct pool *p, const char *s)
{
	return pool_dup(p, s, strlen(s) + 1);
}

static void pool_free(struct pool *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i]);
	free(p->v);
	memset(p, 0, sizeof(*p));
}

/* --------------------------------------------------------------------- rng */

struct rng {
	uint64_t s;
};

static uint64_t rnd(struct rng *r)
{
	uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static uint32_t below(struct rng *r, uint32_t n)
{
	return n ? (uint32_t)(rnd(r) % n) : 0;
}

/* -------------------------------------------------------------- fuzz cases */

enum oracle { OR_NONE = 0, OR_CRASH, OR_HANG, OR_RSS, OR_VIOLATION, OR_HANDSHAKE, OR_CLOSE };
static const char *const oracle_name[] = {"none",      "crash",     "hang", "memory",
                                          "violation", "handshake", "close"};
#define N_ORACLES 7

struct fcase {
	struct pool pool;
	struct wsc_case c; /* steps: malloc'ed array (cap_steps), the rest from pool */
	size_t cap_steps;
	const struct wsc_case *origin;
	char muts[400];
	bool must_refuse;
	char refuse_why[96];
	unsigned long num;
};

static void fcase_free(struct fcase *f)
{
	free(f->c.steps);
	pool_free(&f->pool);
	memset(f, 0, sizeof(*f));
}

static void add_mut(struct fcase *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_mut(struct fcase *f, const char *fmt, ...)
{
	size_t l = strlen(f->muts);
	if (l + 3 >= sizeof(f->muts))
		return;
	if (l) {
		strcat(f->muts, "; ");
		l += 2;
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(f->muts + l, sizeof(f->muts) - l, fmt, ap);
	va_end(ap);
}

static const char **strv_copy(struct pool *p, const char **v, size_t n, size_t extra)
{
	const char **out = pool_alloc(p, (n + extra) * sizeof(*out));
	for (size_t i = 0; i < n; i++)
		out[i] = pool_str(p, v[i]);
	return out;
}

static void step_reserve(struct fcase *f, size_t n)
{
	if (n <= f->cap_steps)
		return;
	size_t nc = f->cap_steps ? f->cap_steps : 8;
	while (nc < n)
		nc *= 2;
	struct wsc_step *ns = realloc(f->c.steps, nc * sizeof(*ns));
	if (!ns)
		die_oom();
	f->c.steps = ns;
	f->cap_steps = nc;
}

static void step_insert(struct fcase *f, size_t at, const struct wsc_step *s)
{
	step_reserve(f, f->c.n_steps + 1);
	memmove(&f->c.steps[at + 1], &f->c.steps[at], (f->c.n_steps - at) * sizeof(*s));
	f->c.steps[at] = *s;
	f->c.n_steps++;
}

static void step_remove(struct fcase *f, size_t at)
{
	memmove(&f->c.steps[at], &f->c.steps[at + 1],
	        (f->c.n_steps - at - 1) * sizeof(struct wsc_step));
	f->c.n_steps--;
}

static size_t body_n(const struct fcase *f)
{
	return f->c.n_steps - TAIL_STEPS;
}

/* Deep copy (steps, their bytes and the handshake). */
static void fcase_clone(struct fcase *d, const struct fcase *s)
{
	memset(d, 0, sizeof(*d));
	d->c = s->c;
	d->origin = s->origin;
	d->must_refuse = s->must_refuse;
	d->num = s->num;
	memcpy(d->muts, s->muts, sizeof(d->muts));
	memcpy(d->refuse_why, s->refuse_why, sizeof(d->refuse_why));
	d->c.steps = NULL;
	d->c.n_steps = 0;
	step_reserve(d, s->c.n_steps);
	for (size_t i = 0; i < s->c.n_steps; i++) {
		struct wsc_step st = s->c.steps[i];
		if (st.kind == WSC_STEP_RAW)
			st.u.raw.p = pool_dup(&d->pool, st.u.raw.p, st.u.raw.n);
		d->c.steps[i] = st;
	}
	d->c.n_steps = s->c.n_steps;
	struct wsc_handshake *h = &d->c.hs;
	const struct wsc_handshake *g = &s->c.hs;
	h->request_line = g->request_line ? pool_str(&d->pool, g->request_line) : NULL;
	h->add_headers = strv_copy(&d->pool, g->add_headers, g->n_add_headers, 0);
	h->drop_headers = strv_copy(&d->pool, g->drop_headers, g->n_drop_headers, 0);
	h->protocols = strv_copy(&d->pool, g->protocols, g->n_protocols, 0);
	d->c.id = pool_str(&d->pool, s->c.id);
	d->c.title = pool_str(&d->pool, s->c.title);
}

/* ------------------------------------------------------------ frame walker */

struct fhdr {
	size_t off, hlen;
	uint64_t len;
	bool masked;
};

/* Parse the header at off; false when incomplete. */
static bool frame_at(const uint8_t *p, size_t n, size_t off, struct fhdr *h)
{
	uint64_t len;
	size_t hl = wsc_wire_peek_header(p + off, n - off, &len);
	if (hl == 0)
		return false;
	h->masked = p[off + 1] & 0x80;
	if (n - off < hl)
		return false;
	h->off = off;
	h->hlen = hl;
	h->len = len;
	return true;
}

/* Frame headers in p[0..n) (the last may run past n). Returns the count. */
static size_t frames_in(const uint8_t *p, size_t n, struct fhdr *out, size_t max)
{
	size_t k = 0, off = 0;
	while (k < max && off < n && frame_at(p, n, off, &out[k])) {
		uint64_t end = (uint64_t)off + out[k].hlen + out[k].len;
		k++;
		if (end >= n)
			break;
		off = (size_t)end;
	}
	return k;
}

/* True when the raw bytes of the body are whole frames, nothing left over. */
static bool fcase_aligned(const struct fcase *f)
{
	struct wsc_buf all;
	wsc_buf_init(&all);
	for (size_t i = 0; i < body_n(f); i++)
		if (f->c.steps[i].kind == WSC_STEP_RAW &&
		    wsc_buf_append(&all, f->c.steps[i].u.raw.p, f->c.steps[i].u.raw.n) < 0)
			die_oom();
	bool ok = true;
	size_t off = 0;
	while (off < all.len) {
		struct fhdr h;
		if (!frame_at(all.p, all.len, off, &h) || h.len > all.len - off - h.hlen) {
			ok = false;
			break;
		}
		off += h.hlen + (size_t)h.len;
	}
	wsc_buf_free(&all);
	return ok;
}

/* --------------------------------------------------------------- conversion */

struct openpay {
	uint64_t left, off;
	bool masked;
	uint8_t key[4];
};

static void on_frame(void *ctx, const struct wsc_wresult *res)
{
	struct openpay *o = ctx;
	if (res->declared > res->payload_len) {
		o->left = res->declared - res->payload_len;
		o->off = res->payload_len;
		o->masked = res->masked;
		memcpy(o->key, res->key, 4);
	} else {
		o->left = 0;
	}
}

static struct wsc_step raw_step(struct fcase *f, const uint8_t *p, size_t n, int line)
{
	struct wsc_step s;
	memset(&s, 0, sizeof(s));
	s.kind = WSC_STEP_RAW;
	s.line = line;
	s.u.raw.p = pool_dup(&f->pool, p, n);
	s.u.raw.n = n;
	return s;
}

static void push_step(struct fcase *f, const struct wsc_step *s)
{
	step_insert(f, f->c.n_steps, s);
}

/* The tail every fuzz case ends with. */
static void push_tail(struct fcase *f)
{
	struct wsc_step w;
	memset(&w, 0, sizeof(w));
	w.kind = WSC_STEP_WAIT;
	w.u.wait.ms = 20;
	snprintf(w.u.wait.mark, sizeof(w.u.wait.mark), "%s", ALIVE_TAG);
	push_step(f, &w);
	struct wsc_step c;
	memset(&c, 0, sizeof(c));
	c.kind = WSC_STEP_CLOSEAFTER;
	c.u.ms = 0;
	push_step(f, &c);
}

/* Can this catalog case seed the fuzzer? A server case that expects 101. */
static bool usable(const struct wsc_case *c)
{
	if (!(c->side & WSC_SIDE_SERVER) || c->hs.has_raw_request || c->n_steps == 0)
		return false;
	return wsc_case_expects_101(c);
}

static void fcase_from(struct fcase *f, const struct wsc_case *oc, struct rng *r)
{
	memset(f, 0, sizeof(*f));
	f->origin = oc;
	struct wsc_case *c = &f->c;
	c->hs = oc->hs;
	c->hs.n_offers = 0; /* the VM does not inflate: no permessage-deflate */
	c->hs.offers = NULL;
	c->hs.n_expect_status = 0;
	c->hs.n_expect_headers = c->hs.n_expect_no_headers = 0;
	c->hs.request_line = oc->hs.request_line ? pool_str(&f->pool, oc->hs.request_line) : NULL;
	c->hs.add_headers = strv_copy(&f->pool, oc->hs.add_headers, oc->hs.n_add_headers, 0);
	c->hs.drop_headers = strv_copy(&f->pool, oc->hs.drop_headers, oc->hs.n_drop_headers, 0);
	c->hs.protocols = strv_copy(&f->pool, oc->hs.protocols, oc->hs.n_protocols, 0);
	c->id = pool_str(&f->pool, oc->id);
	c->title = pool_str(&f->pool, oc->title);

	struct wsc_chop cur = {WSC_CHOP_BURST, 0};
	struct openpay op = {0};
	for (size_t i = 0; i < oc->n_steps && f->c.n_steps < MAX_STEPS; i++) {
		const struct wsc_step *s = &oc->steps[i];
		switch (s->kind) {
		case WSC_STEP_SEND: {
			const struct wsc_send *sd = &s->u.send;
			struct wsc_wframe wf = {
			        .opcode = sd->opcode,
			        .rsv = sd->rsv,
			        .fin = sd->fin,
			        .mask = sd->mask == WSC_MASK_NONE ? WSC_WMASK_NONE : WSC_WMASK_KEY,
			        .payload = sd->payload.p,
			        .payload_len = sd->payload.n,
			        .len_override = sd->len_override,
			        .len = sd->len,
			        .lenform = sd->lenform,
			};
			if (sd->mask == WSC_MASK_KEY) {
				memcpy(wf.key, sd->key, 4);
			} else {
				uint64_t k = rnd(r);
				memcpy(wf.key, &k, 4);
			}
			struct wsc_buf out;
			wsc_buf_init(&out);
			op.left = 0;
			if (wsc_wire_write_frags(&out, &wf, sd->frag, on_frame, &op) < 0)
				die_oom();
			struct wsc_step cs;
			memset(&cs, 0, sizeof(cs));
			cs.kind = WSC_STEP_CHOP;
			if (sd->has_chop) {
				cs.u.chop = sd->chop;
				push_step(f, &cs);
			}
			struct wsc_step rs = raw_step(f, out.p, out.len, s->line);
			push_step(f, &rs);
			if (sd->has_chop) {
				cs.u.chop = cur;
				push_step(f, &cs);
			}
			wsc_buf_free(&out);
			break;
		}
		case WSC_STEP_RAW: {
			struct wsc_step rs = raw_step(f, s->u.raw.p, s->u.raw.n, s->line);
			if (op.left && op.masked) {
				size_t k = rs.u.raw.n < op.left ? rs.u.raw.n : (size_t)op.left;
				wsc_wire_mask((uint8_t *)rs.u.raw.p, k, op.key, op.off);
				op.left -= k;
				op.off += k;
			}
			push_step(f, &rs);
			break;
		}
		case WSC_STEP_CHOP:
			cur = s->u.chop;
			push_step(f, s);
			break;
		case WSC_STEP_WAIT: {
			struct wsc_step w = *s;
			if (w.u.wait.ms > MAX_WAIT_MS)
				w.u.wait.ms = MAX_WAIT_MS;
			push_step(f, &w);
			break;
		}
		case WSC_STEP_KILL:
		case WSC_STEP_CLOSEAFTER:
			break; /* replaced by the tail */
		default:
			break; /* other steps (roundtrip) are not wire traffic to mutate */
		}
	}
	push_tail(f);
}

/* ----------------------------------------------------------------- mutators */

/* A random raw step of the body with at least min bytes, or -1. */
static long pick_raw(const struct fcase *f, struct rng *r, size_t min)
{
	size_t cand[MAX_STEPS + 8], k = 0;
	for (size_t i = 0; i < body_n(f) && k < sizeof(cand) / sizeof(cand[0]); i++)
		if (f->c.steps[i].kind == WSC_STEP_RAW && f->c.steps[i].u.raw.n >= min)
			cand[k++] = i;
	return k ? (long)cand[below(r, (uint32_t)k)] : -1;
}

static uint8_t *raw_bytes(struct wsc_step *s)
{
	return (uint8_t *)s->u.raw.p;
}

static bool m_bitflip(struct fcase *f, struct rng *r)
{
	long i = pick_raw(f, r, 1);
	if (i < 0)
		return false;
	struct wsc_step *s = &f->c.steps[i];
	unsigned flips = 1 + below(r, 4);
	for (unsigned k = 0; k < flips; k++) {
		size_t bit = below(
		        r, (uint32_t)(s->u.raw.n * 8 > UINT32_MAX ? UINT32_MAX : s->u.raw.n * 8));
		raw_bytes(s)[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	add_mut(f, "bitflip x%u in step %ld", flips, i + 1);
	return true;
}

static bool m_byte(struct fcase *f, struct rng *r)
{
	static const uint8_t v[] = {0x00, 0xff, 0x7e, 0x7f, 0x80, 0x81, 0x88, 0x89,
	                            0x8a, 0xc0, 0xed, 0xf4, 0xf8, 0x0f, 0x70, 0xfe};
	long i = pick_raw(f, r, 1);
	if (i < 0)
		return false;
	struct wsc_step *s = &f->c.steps[i];
	size_t at = below(r, (uint32_t)(s->u.raw.n > UINT32_MAX ? UINT32_MAX : s->u.raw.n));
	raw_bytes(s)[at] = v[below(r, sizeof(v))];
	add_mut(f, "byte %zu of step %ld = 0x%02x", at, i + 1, raw_bytes(s)[at]);
	return true;
}

/* Pick a frame header in a random raw step. */
static bool pick_frame(struct fcase *f, struct rng *r, long *step, struct fhdr *h)
{
	long i = pick_raw(f, r, 2);
	if (i < 0)
		return false;
	struct fhdr v[64];
	size_t k = frames_in(f->c.steps[i].u.raw.p, f->c.steps[i].u.raw.n, v, 64);
	if (k == 0)
		return false;
	*step = i;
	*h = v[below(r, (uint32_t)k)];
	return true;
}

static bool m_header_bits(struct fcase *f, struct rng *r)
{
	long i;
	struct fhdr h;
	if (!pick_frame(f, r, &i, &h))
		return false;
	uint8_t *b = raw_bytes(&f->c.steps[i]) + h.off;
	switch (below(r, 4)) {
	case 0:
		b[0] = (uint8_t)((b[0] & 0xF0) | below(r, 16));
		add_mut(f, "opcode %u (step %ld)", b[0] & 0x0F, i + 1);
		break;
	case 1:
		b[0] = (uint8_t)((b[0] & 0x8F) | (1 + below(r, 7)) << 4);
		add_mut(f, "rsv %u (step %ld)", (b[0] >> 4) & 7, i + 1);
		break;
	case 2:
		b[0] ^= 0x80;
		add_mut(f, "fin %u (step %ld)", b[0] >> 7, i + 1);
		break;
	default:
		b[1] ^= 0x80;
		add_mut(f, "mask bit %u (step %ld)", b[1] >> 7, i + 1);
		break;
	}
	return true;
}

static bool m_length(struct fcase *f, struct rng *r)
{
	long i;
	struct fhdr h;
	if (!pick_frame(f, r, &i, &h))
		return false;
	const uint8_t *p = f->c.steps[i].u.raw.p;
	size_t n = f->c.steps[i].u.raw.n;
	uint64_t choices[] = {0,
	                      1,
	                      125,
	                      126,
	                      127,
	                      65535,
	                      65536,
	                      h.len + 1,
	                      h.len ? h.len - 1 : 2,
	                      (uint64_t)1 << 31,
	                      ((uint64_t)1 << 63) | 5,
	                      UINT64_MAX,
	                      h.len * 2 + 1,
	                      16u << 20};
	uint64_t nl = choices[below(r, sizeof(choices) / sizeof(choices[0]))];
	static const uint8_t forms[] = {0, 0, 16, 64, 7};
	uint8_t form = forms[below(r, sizeof(forms))];
	uint8_t key[4] = {0};
	if (h.masked)
		memcpy(key, p + h.off + h.hlen - 4, 4);
	uint8_t hdr[14];
	size_t hl = wsc_wire_header(hdr, p[h.off] >> 7, (p[h.off] >> 4) & 7, p[h.off] & 0x0F,
	                            h.masked, key, nl, form);
	size_t nn = n - h.hlen + hl;
	uint8_t *q = pool_alloc(&f->pool, nn);
	memcpy(q, p, h.off);
	memcpy(q + h.off, hdr, hl);
	memcpy(q + h.off + hl, p + h.off + h.hlen, n - h.off - h.hlen);
	f->c.steps[i].u.raw.p = q;
	f->c.steps[i].u.raw.n = nn;
	add_mut(f, "length %" PRIu64 " form %u (step %ld)", nl, form, i + 1);
	return true;
}

static bool m_chop(struct fcase *f, struct rng *r)
{
	struct wsc_step s;
	memset(&s, 0, sizeof(s));
	s.kind = WSC_STEP_CHOP;
	switch (below(r, 3)) {
	case 0:
		s.u.chop.kind = WSC_CHOP_OCTET;
		add_mut(f, "chop octet");
		break;
	case 1:
		s.u.chop.kind = WSC_CHOP_SIZE;
		s.u.chop.size = 2 + below(r, 9);
		add_mut(f, "chop %u", s.u.chop.size);
		break;
	default:
		s.u.chop.kind = WSC_CHOP_FRAME;
		add_mut(f, "chop frame");
		break;
	}
	step_insert(f, below(r, (uint32_t)body_n(f) + 1), &s);
	return true;
}

/* Split a raw step and pause in between. */
static bool m_delay(struct fcase *f, struct rng *r)
{
	long i = pick_raw(f, r, 2);
	if (i < 0 || f->c.n_steps + 2 > MAX_STEPS)
		return false;
	struct wsc_step *s = &f->c.steps[i];
	size_t n = s->u.raw.n,
	       at = 1 + below(r, (uint32_t)(n - 1 > UINT32_MAX ? UINT32_MAX : n - 1));
	const uint8_t *p = s->u.raw.p;
	struct wsc_step tail = raw_step(f, p + at, n - at, s->line);
	s->u.raw.n = at;
	struct wsc_step w;
	memset(&w, 0, sizeof(w));
	w.kind = WSC_STEP_WAIT;
	w.u.wait.ms = 10 + below(r, 90);
	step_insert(f, (size_t)i + 1, &w);
	step_insert(f, (size_t)i + 2, &tail);
	add_mut(f, "pause %u ms after byte %zu of step %ld", w.u.wait.ms, at, i + 1);
	return true;
}

static bool m_truncate(struct fcase *f, struct rng *r)
{
	long i = pick_raw(f, r, 2);
	if (i < 0)
		return false;
	struct wsc_step *s = &f->c.steps[i];
	size_t n = s->u.raw.n;
	s->u.raw.n = below(r, (uint32_t)(n > UINT32_MAX ? UINT32_MAX : n));
	add_mut(f, "truncate step %ld to %zu bytes", i + 1, s->u.raw.n);
	return true;
}

static bool m_repeat(struct fcase *f, struct rng *r)
{
	long i = pick_raw(f, r, 1);
	if (i < 0)
		return false;
	struct wsc_step *s = &f->c.steps[i];
	size_t n = s->u.raw.n;
	unsigned times = 2 + below(r, 63);
	if (n * times > MAX_RAW)
		times = (unsigned)(MAX_RAW / n);
	if (times < 2)
		return false;
	uint8_t *q = pool_alloc(&f->pool, n * times);
	for (unsigned k = 0; k < times; k++)
		memcpy(q + k * n, s->u.raw.p, n);
	s->u.raw.p = q;
	s->u.raw.n = n * times;
	add_mut(f, "repeat step %ld x%u", i + 1, times);
	return true;
}

/* Insert one hand-picked frame (masked with a fresh key). */
static bool m_insert_frame(struct fcase *f, struct rng *r)
{
	static uint8_t big[200];
	memset(big, 'p', sizeof(big));
	struct wsc_wframe wf = {.fin = true, .mask = WSC_WMASK_KEY};
	uint64_t k = rnd(r);
	memcpy(wf.key, &k, 4);
	static const uint8_t bad_utf8[] = {0xce, 0xba, 0xed, 0xa0, 0x80, 'x'};
	static const uint8_t close_bad[] = {0x03, 0xed}; /* 1005 */
	static const uint8_t close_999[] = {0x03, 0xe7}; /* 999 */
	static const uint8_t close_reason[] = {0x03, 0xe8, 0xff, 0xfe};
	const char *what;
	switch (below(r, 9)) {
	case 0:
		wf.opcode = 9, wf.payload = big, wf.payload_len = 125, what = "ping 125";
		break;
	case 1:
		wf.opcode = 9, wf.payload = big, wf.payload_len = 126, what = "ping 126";
		break;
	case 2:
		wf.opcode = 1, wf.payload = bad_utf8, wf.payload_len = sizeof(bad_utf8);
		what = "text with invalid UTF-8";
		break;
	case 3:
		wf.opcode = 8, wf.payload = close_bad, wf.payload_len = 2, what = "close 1005";
		break;
	case 4:
		wf.opcode = 8, wf.payload = close_999, wf.payload_len = 2, what = "close 999";
		break;
	case 5:
		wf.opcode = 8, wf.payload = close_reason, wf.payload_len = sizeof(close_reason);
		what = "close 1000 with invalid UTF-8 reason";
		break;
	case 6:
		wf.opcode = 1, wf.fin = false, wf.payload = big, wf.payload_len = 10;
		what = "unfinished text fragment";
		break;
	case 7:
		wf.opcode = 0, wf.payload = big, wf.payload_len = 10, what = "continuation";
		break;
	default:
		wf.opcode = 10, wf.payload = big, wf.payload_len = 0, what = "empty pong";
		break;
	}
	struct wsc_buf out;
	wsc_buf_init(&out);
	if (wsc_wire_write(&out, &wf, NULL) < 0)
		die_oom();
	size_t at = below(r, (uint32_t)body_n(f) + 1);
	struct wsc_step s = raw_step(f, out.p, out.len, 0);
	wsc_buf_free(&out);
	step_insert(f, at, &s);
	add_mut(f, "insert %s at step %zu", what, at + 1);
	return true;
}

/* Append (part of) another case's body. */
static bool m_splice(struct fcase *f, struct rng *r, const struct fcase *other)
{
	if (!other || other == f)
		return false;
	size_t on = body_n(other);
	if (on == 0)
		return false;
	size_t from = below(r, (uint32_t)on), at = below(r, (uint32_t)body_n(f) + 1);
	size_t cnt = 0;
	for (size_t i = from; i < on && f->c.n_steps < MAX_STEPS && cnt < 8; i++, cnt++) {
		struct wsc_step s = other->c.steps[i];
		if (s.kind == WSC_STEP_RAW)
			s.u.raw.p = pool_dup(&f->pool, s.u.raw.p, s.u.raw.n);
		step_insert(f, at + cnt, &s);
	}
	add_mut(f, "splice %zu step(s) of case %s at step %zu", cnt, other->origin->id, at + 1);
	return cnt > 0;
}

static void hs_drop(struct fcase *f, const char *name)
{
	struct wsc_handshake *h = &f->c.hs;
	const char **v = strv_copy(&f->pool, h->drop_headers, h->n_drop_headers, 1);
	v[h->n_drop_headers++] = pool_str(&f->pool, name);
	h->drop_headers = v;
}

static void hs_add(struct fcase *f, const char *line)
{
	struct wsc_handshake *h = &f->c.hs;
	const char **v = strv_copy(&f->pool, h->add_headers, h->n_add_headers, 1);
	v[h->n_add_headers++] = pool_str(&f->pool, line);
	h->add_headers = v;
}

static void refuse(struct fcase *f, const char *why)
{
	f->must_refuse = true;
	/* A long reason is cut to the buffer on purpose. */
	snprintf(f->refuse_why, sizeof(f->refuse_why), "%.*s", (int)sizeof(f->refuse_why) - 1, why);
	add_mut(f, "%s", why);
}

static bool m_handshake(struct fcase *f, struct rng *r, const char *path)
{
	static const char *const req[] = {"Host", "Upgrade", "Connection", "Sec-WebSocket-Key",
	                                  "Sec-WebSocket-Version"};
	/* Never versions a server may legitimately speak besides 13: IANA's
	 * registry assigns 0-8 to hybi drafts (ws, for one, still accepts 8);
	 * 9-12 are reserved, 14 and up unassigned. */
	static const char *const versions[] = {"9", "12", "14", "11", "99", "13x", ""};
	static const char *const keys[] = {"", "AAAA", "not base64 at all!!",
	                                   "dGhlIHNhbXBsZSBub25jZQ", "AAAAAAAAAAAAAAAAAAAA"};
	char line[1200];
	if (f->c.hs.n_drop_headers + f->c.hs.n_add_headers > 64)
		return false;
	switch (below(r, 8)) {
	case 0: {
		const char *h = req[below(r, 5)];
		hs_drop(f, h);
		snprintf(line, sizeof(line), "no %s header", h);
		refuse(f, line);
		break;
	}
	case 1: {
		const char *v = versions[below(r, 7)];
		hs_drop(f, "Sec-WebSocket-Version");
		snprintf(line, sizeof(line), "Sec-WebSocket-Version: %s", v);
		hs_add(f, line);
		snprintf(line, sizeof(line), "Sec-WebSocket-Version '%s'", v);
		refuse(f, line);
		break;
	}
	case 2: {
		const char *k = keys[below(r, 5)];
		hs_drop(f, "Sec-WebSocket-Key");
		snprintf(line, sizeof(line), "Sec-WebSocket-Key: %s", k);
		hs_add(f, line);
		snprintf(line, sizeof(line), "Sec-WebSocket-Key '%s' (not 16 bytes of base64)", k);
		refuse(f, line);
		break;
	}
	case 3: {
		bool post = below(r, 2);
		snprintf(line, sizeof(line), "%s %s HTTP/1.%d", post ? "POST" : "GET", path, post);
		f->c.hs.request_line = pool_str(&f->pool, line);
		refuse(f, post ? "method POST" : "HTTP/1.0 request");
		break;
	}
	case 4:
		hs_drop(f, "Upgrade");
		hs_add(f, "Upgrade: websocketx");
		refuse(f, "Upgrade: websocketx");
		break;
	case 5:
		hs_drop(f, "Connection");
		hs_add(f, "Connection: keep-alive");
		refuse(f, "Connection without the Upgrade token");
		break;
	case 6: {
		/* junk that a server may accept or refuse */
		static char longv[4100];
		memset(longv, 'a', sizeof(longv) - 1);
		memcpy(longv, "X-Long: ", 8);
		longv[sizeof(longv) - 1] = '\0';
		unsigned which = below(r, 4);
		if (which == 0)
			hs_add(f, longv);
		else if (which == 1)
			hs_add(f, "X-Ctl: \x01\x7f");
		else if (which == 2)
			hs_add(f, "Broken-Header-Without-Colon");
		else
			for (int k = 0; k < 40; k++) {
				snprintf(line, sizeof(line), "X-Many-%d: %d", k, k);
				hs_add(f, line);
			}
		add_mut(f, "junk header (%u)", which);
		break;
	}
	default:
		hs_add(f, "Sec-WebSocket-Extensions: x-fuzz-unknown; a=1, , ;;");
		add_mut(f, "garbage extension offer");
		break;
	}
	if (f->must_refuse) {
		static const int st[] = {400, 403, 404, 405, 426, 500, 501, 505};
		memcpy(f->c.hs.expect_status, st, sizeof(st));
		f->c.hs.n_expect_status = 8;
	}
	return true;
}

static void mutate(struct fcase *f, struct rng *r, const struct fcase *other, const char *path)
{
	unsigned n = 1 + below(r, 3), done = 0;
	for (unsigned tries = 0; done < n && tries < 12; tries++) {
		bool ok;
		switch (below(r, 12)) {
		case 0:
		case 1:
			ok = m_bitflip(f, r);
			break;
		case 2:
			ok = m_byte(f, r);
			break;
		case 3:
			ok = m_header_bits(f, r);
			break;
		case 4:
			ok = m_length(f, r);
			break;
		case 5:
			ok = m_chop(f, r);
			break;
		case 6:
			ok = m_delay(f, r);
			break;
		case 7:
			ok = m_truncate(f, r);
			break;
		case 8:
			ok = m_repeat(f, r);
			break;
		case 9:
			ok = m_insert_frame(f, r);
			break;
		case 10:
			ok = m_splice(f, r, other);
			break;
		default:
			ok = !f->must_refuse && below(r, 2) && m_handshake(f, r, path);
			break;
		}
		done += ok;
	}
}

/* ------------------------------------------------------------------ options */

struct fopts {
	const char *url;
	const char *exec;
	unsigned exec_timeout_ms;
	double seconds;
	unsigned long runs; /* 0: no limit */
	uint64_t seed;
	const char *cases; /* comma-separated patterns, or NULL */
	const char *out;
	unsigned jobs;
	unsigned long max_rss_mb;
	unsigned probe_timeout_ms;
	unsigned max_findings;
	bool quiet;
};

static int usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs(PROG ": ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'wsconform fuzz --help' for more information.\n", stderr);
	return 2;
}

static void print_help(void)
{
	fputs("Usage: wsconform fuzz URL [options]\n"
	      "Fuzz a WebSocket server with mutated catalog traffic; save findings as .wsc "
	      "cases.\n\n"
	      "  --exec CMD          start the server with /bin/sh -c CMD ({port}, {url} "
	      "replaced);\n"
	      "                      needed for crash, memory and restart handling\n"
	      "  --exec-timeout S    seconds to wait for it to listen (default 15)\n"
	      "  --seconds N         how long to fuzz (default 60)\n"
	      "  --runs N            stop after N mutated cases (default: no limit)\n"
	      "  --seed S            generator seed (default 1): same seed, same cases\n"
	      "  --cases P[,P...]    catalog cases to mutate (patterns as for 'server')\n"
	      "  --out DIR           where findings go (default fuzz-findings)\n"
	      "  -j N                cases per batch, run concurrently (default 4)\n"
	      "  --max-rss-mb N      memory oracle: target RSS limit (default 1024)\n"
	      "  --probe-timeout S   liveness probe deadline (default 2)\n"
	      "  --max-findings N    stop after N distinct findings (default 20)\n"
	      "  -q, --quiet         no progress lines\n"
	      "Exit status: 0 no finding, 1 findings saved, 2 usage, 3 could not run.\n",
	      stdout);
}

static bool num(const char *s, double lo, double hi, double *out)
{
	char *e;
	errno = 0;
	double v = strtod(s, &e);
	if (errno || e == s || *e || !(v >= lo && v <= hi))
		return false;
	*out = v;
	return true;
}

static int parse(int argc, char **argv, struct fopts *o)
{
	enum {
		O_EXEC = 256,
		O_EXEC_TO,
		O_SECONDS,
		O_RUNS,
		O_SEED,
		O_CASES,
		O_OUT,
		O_RSS,
		O_PROBE,
		O_MAXF
	};
	static const struct option lo[] = {
	        {"exec", required_argument, NULL, O_EXEC},
	        {"exec-timeout", required_argument, NULL, O_EXEC_TO},
	        {"seconds", required_argument, NULL, O_SECONDS},
	        {"runs", required_argument, NULL, O_RUNS},
	        {"seed", required_argument, NULL, O_SEED},
	        {"cases", required_argument, NULL, O_CASES},
	        {"out", required_argument, NULL, O_OUT},
	        {"max-rss-mb", required_argument, NULL, O_RSS},
	        {"probe-timeout", required_argument, NULL, O_PROBE},
	        {"max-findings", required_argument, NULL, O_MAXF},
	        {"jobs", required_argument, NULL, 'j'},
	        {"quiet", no_argument, NULL, 'q'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	memset(o, 0, sizeof(*o));
	o->exec_timeout_ms = 15000;
	o->seconds = 60;
	o->seed = 1;
	o->out = "fuzz-findings";
	o->jobs = 4;
	o->max_rss_mb = 1024;
	o->probe_timeout_ms = 2000;
	o->max_findings = 20;
	optind = 1;
	opterr = 0;
	int c;
	double d;
	while ((c = getopt_long(argc, argv, ":j:qh", lo, NULL)) != -1) {
		switch (c) {
		case O_EXEC:
			if (!*optarg)
				return usage("--exec: empty command");
			o->exec = optarg;
			break;
		case O_EXEC_TO:
			if (!num(optarg, 0.001, 3600, &d))
				return usage("--exec-timeout: '%s' is not a number of seconds",
				             optarg);
			o->exec_timeout_ms = (unsigned)(d * 1000);
			break;
		case O_SECONDS:
			if (!num(optarg, 0, 86400 * 30, &d))
				return usage("--seconds: '%s' is not a number of seconds", optarg);
			o->seconds = d;
			break;
		case O_RUNS:
			if (!num(optarg, 1, 1e12, &d) || d != (double)(unsigned long)d)
				return usage("--runs: '%s' is not a positive integer", optarg);
			o->runs = (unsigned long)d;
			break;
		case O_SEED: {
			char *e;
			errno = 0;
			unsigned long long v = strtoull(optarg, &e, 10);
			if (errno || e == optarg || *e || optarg[0] == '-')
				return usage("--seed: '%s' is not a non-negative integer", optarg);
			o->seed = v;
			break;
		}
		case O_CASES:
			o->cases = optarg;
			break;
		case O_OUT:
			if (!*optarg)
				return usage("--out: empty path");
			o->out = optarg;
			break;
		case 'j':
			if (!num(optarg, 1, 256, &d) || d != (double)(unsigned)d)
				return usage("-j: '%s' is not a number from 1 to 256", optarg);
			o->jobs = (unsigned)d;
			break;
		case O_RSS:
			if (!num(optarg, 1, 1 << 24, &d))
				return usage("--max-rss-mb: '%s' is not a number of MiB", optarg);
			o->max_rss_mb = (unsigned long)d;
			break;
		case O_PROBE:
			if (!num(optarg, 0.05, 600, &d))
				return usage("--probe-timeout: '%s' is not a number of seconds",
				             optarg);
			o->probe_timeout_ms = (unsigned)(d * 1000);
			break;
		case O_MAXF:
			if (!num(optarg, 1, 100000, &d))
				return usage("--max-findings: '%s' is not a positive number",
				             optarg);
			o->max_findings = (unsigned)d;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'h':
			print_help();
			return 0;
		case ':':
			return usage("option '%s' needs a value", argv[optind - 1]);
		default:
			return usage("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return usage("missing URL (wsconform fuzz ws://host:port/path)");
	if (optind + 1 < argc)
		return usage("one URL only (got '%s' too)", argv[optind + 1]);
	o->url = argv[optind];
	if (strstr(o->url, "{port}") && !o->exec)
		return usage("{port} in the URL needs --exec");
	return -1;
}

/* ------------------------------------------------------------------- target */

static volatile sig_atomic_t g_stop;

static void on_sig(int sig)
{
	if (g_stop) {
		wsc_target_emergency_kill();
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	g_stop = 1;
}

static uint64_t now_ms(void)
{
	return wsc_now_us() / 1000u;
}

static char *subst(const char *s, const char *key, const char *val)
{
	struct wsc_buf b;
	wsc_buf_init(&b);
	size_t kl = strlen(key);
	for (const char *p; (p = strstr(s, key)) != NULL; s = p + kl) {
		if (wsc_buf_append(&b, s, (size_t)(p - s)) < 0 ||
		    wsc_buf_append(&b, val, strlen(val)) < 0)
			die_oom();
	}
	if (wsc_buf_append(&b, s, strlen(s) + 1) < 0)
		die_oom();
	return (char *)b.p; /* the buffer's bytes are ours now */
}

struct runner {
	const struct fopts *o;
	struct wsc_url url;
	char url_str[1100];
	bool have_target;
	bool target_up;
	struct wsc_target t;
	bool target_failed; /* set by keep_going */
	struct wsc_case probe;
	struct wsc_step probe_step;
	struct wsc_alt probe_alt;
	struct wsc_event probe_ev;
	unsigned long restarts;
	char last_death[600];
};

static void target_down(struct runner *R)
{
	if (R->target_up) {
		wsc_target_stop(&R->t, 1000);
		wsc_target_free(&R->t);
		R->target_up = false;
	}
}

/* Start (or restart) the target and wait until it listens. */
static int target_up(struct runner *R, char *err, size_t cap)
{
	const struct fopts *o = R->o;
	target_down(R);
	char port[16] = "";
	char *url = NULL;
	if (strstr(o->url, "{port}")) {
		struct wsc_url tmp;
		char *probe = subst(o->url, "{port}", "1");
		int bad = wsc_url_parse(probe, &tmp, err, cap);
		free(probe);
		if (bad < 0)
			return -1;
		unsigned p = wsc_free_port(tmp.host);
		if (!p) {
			snprintf(err, cap, "cannot find a free port on %s", tmp.host);
			return -1;
		}
		snprintf(port, sizeof(port), "%u", p);
		url = subst(o->url, "{port}", port);
	} else {
		url = subst(o->url, "{port}", "");
	}
	if (wsc_url_parse(url, &R->url, err, cap) < 0) {
		free(url);
		return -1;
	}
	snprintf(R->url_str, sizeof(R->url_str), "%s", url);
	if (!port[0])
		snprintf(port, sizeof(port), "%s", R->url.port);
	char *c1 = subst(o->exec, "{port}", port);
	char *cmd = subst(c1, "{url}", url);
	free(c1);
	free(url);
	memset(&R->t, 0, sizeof(R->t));
	R->t.out_fd = R->t.err_fd = R->t.log_fd = -1;
	int rc = wsc_target_spawn(&R->t, NULL, cmd, NULL, err, cap);
	free(cmd);
	if (rc < 0)
		return -1;
	R->target_up = true;
	R->target_failed = false;
	uint64_t deadline = now_ms() + o->exec_timeout_ms;
	for (;;) {
		if (!wsc_target_poll(&R->t)) {
			char d[256];
			wsc_target_describe(&R->t, d, sizeof(d));
			snprintf(err, cap, "the command %s before listening", d);
			return -1;
		}
		if (wsc_tcp_probe(R->url.host, R->url.port, 50, err, cap) == 1)
			return 0;
		if (g_stop || now_ms() > deadline) {
			snprintf(err, cap, "nothing listened on %s:%s within %u ms", R->url.host,
			         R->url.port, o->exec_timeout_ms);
			return -1;
		}
		wsc_target_wait(&R->t, 20);
	}
}

/* True if the target died; waits up to ms for a dying one to finish. */
static bool target_dead(struct runner *R, int ms)
{
	if (!R->have_target)
		return false;
	if (!wsc_target_poll(&R->t))
		return true;
	uint64_t end = now_ms() + (uint64_t)ms;
	while (now_ms() < end) {
		wsc_target_wait(&R->t, 10);
		if (wsc_target_failed(&R->t))
			return true;
	}
	return false;
}

/* RSS in KiB of every process in the target's process group. */
static unsigned long target_rss_kb(const struct runner *R)
{
	if (!R->have_target || !R->target_up)
		return 0;
	DIR *d = opendir("/proc");
	if (!d)
		return 0;
	unsigned long sum = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		char path[300], buf[1024];
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		size_t n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = '\0';
		char *rp = strrchr(buf, ')');
		int pgrp = -1;
		if (!rp || sscanf(rp + 1, " %*c %*d %d", &pgrp) != 1 || pgrp != R->t.pid)
			continue;
		snprintf(path, sizeof(path), "/proc/%s/status", e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		char line[256];
		while (fgets(line, sizeof(line), f))
			if (!strncmp(line, "VmRSS:", 6)) {
				sum += strtoul(line + 6, NULL, 10);
				break;
			}
		fclose(f);
	}
	closedir(d);
	return sum;
}

static bool keep_going(void *ctx)
{
	struct runner *R = ctx;
	if (g_stop)
		return false;
	if (R->have_target && !wsc_target_poll(&R->t)) {
		R->target_failed = true;
		return false;
	}
	return true;
}

/* Run cases v[0..n) as one engine pass; results in *run (caller frees). */
static int run_cases(struct runner *R, struct wsc_case *const *v, size_t n, struct wsc_run *run,
                     struct wsc_case **arr_out)
{
	struct wsc_case *arr = calloc(n, sizeof(*arr));
	size_t *sel = calloc(n, sizeof(*sel));
	if (!arr || !sel)
		die_oom();
	for (size_t i = 0; i < n; i++) {
		arr[i] = *v[i];
		sel[i] = i;
	}
	struct wsc_catalog cat;
	memset(&cat, 0, sizeof(cat));
	cat.cases = arr;
	cat.n_cases = n;
	cat.profile = WSC_PROFILE_RFC;
	memset(run, 0, sizeof(*run));
	run->cat = &cat;
	run->profile = WSC_PROFILE_RFC;
	struct wsc_engine_opts eo;
	memset(&eo, 0, sizeof(eo));
	eo.url = R->url;
	eo.agent = "fuzz";
	eo.profile = WSC_PROFILE_RFC;
	eo.jobs = R->o->jobs;
	eo.timeout_scale = 1.0;
	eo.keep_going = keep_going;
	eo.ctx = R;
	char err[256] = "";
	int rc = wsc_engine_run(&eo, &cat, sel, n, run, err, sizeof(err));
	free(sel);
	run->cat = NULL;
	*arr_out = arr;
	if (rc < 0)
		fprintf(stderr, PROG ": engine error: %s\n", err);
	return rc;
}

static void probe_init(struct runner *R)
{
	struct wsc_case *c = &R->probe;
	memset(c, 0, sizeof(*c));
	c->id = "0.0.1";
	c->title = c->desc = "liveness probe";
	c->expectation = "";
	c->rfc = "5.5.2";
	c->file = "fuzz";
	c->side = WSC_SIDE_SERVER;
	c->timeout_ms = R->o->probe_timeout_ms;
	memset(&R->probe_step, 0, sizeof(R->probe_step));
	R->probe_step.kind = WSC_STEP_SEND;
	R->probe_step.u.send.opcode = 9;
	R->probe_step.u.send.fin = true;
	R->probe_step.u.send.payload.p = (uint8_t *)PROBE_PAYLOAD;
	R->probe_step.u.send.payload.n = strlen(PROBE_PAYLOAD);
	c->steps = &R->probe_step;
	c->n_steps = 1;
	R->probe_ev.kind = WSC_EV_PONG;
	R->probe_ev.data = R->probe_step.u.send.payload;
	R->probe_alt.verdict = WSC_V_OK;
	R->probe_alt.events = &R->probe_ev;
	R->probe_alt.n_events = 1;
	c->alts = &R->probe_alt;
	c->n_alts = 1;
}

/* A fresh connection completes a handshake and a ping/pong in time. */
static bool probe(struct runner *R)
{
	if (R->have_target && target_dead(R, 0))
		return false;
	struct wsc_case *c = &R->probe;
	struct wsc_run run;
	struct wsc_case *arr = NULL;
	run_cases(R, &c, 1, &run, &arr);
	bool ok = false;
	if (run.n_results == 1) {
		const struct wsc_observation *ob = &run.results[0].obs;
		for (size_t i = 0; i < ob->n_events; i++)
			if (ob->events[i].kind == WSC_EV_PONG &&
			    ob->events[i].len == strlen(PROBE_PAYLOAD) &&
			    !memcmp(ob->events[i].data, PROBE_PAYLOAD, ob->events[i].len))
				ok = true;
		ok = ok && ob->handshake_done;
	}
	wsc_run_free(&run);
	free(arr);
	return ok;
}

/* ------------------------------------------------------------------ oracles */

static void plain(char *dst, size_t cap, const char *s)
{
	size_t k = 0;
	for (; s && *s && k + 1 < cap; s++)
		dst[k++] = (unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s;
	dst[k] = '\0';
}

/* Oracles that the result alone decides. */
static enum oracle judge_result(const struct fcase *f, const struct wsc_result *r, char *why,
                                size_t cap)
{
	const struct wsc_observation *o = &r->obs;
	if (!r->ran)
		return OR_NONE;
	if (f->must_refuse && o->http_status == 101) {
		snprintf(why, cap,
		         "answered 101 to an opening handshake it must refuse (%s; RFC 6455 4.2.1)",
		         f->refuse_why);
		return OR_HANDSHAKE;
	}
	if (o->protocol_violation) {
		char v[300];
		plain(v, sizeof(v), o->protocol_violation);
		snprintf(why, cap, "protocol violation: %s", v);
		return OR_VIOLATION;
	}
	if (o->handshake_done && o->closed_by_me && !o->failed_by_me &&
	    o->close_handshake_timeout && o->remote_close_code < 0 && fcase_aligned(f)) {
		snprintf(why, cap,
		         "no Close in reply to our Close within 1 s on a frame-aligned "
		         "stream (RFC 6455 5.5.1)");
		return OR_CLOSE;
	}
	return OR_NONE;
}

/* A copy of the events of one run (for the saved case's expectations). */
struct evcopy {
	struct wsc_obs_event *v;
	size_t n;
	int http_status;
};

static void evcopy_free(struct evcopy *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->v[i].data);
	free(e->v);
	memset(e, 0, sizeof(*e));
}

static void evcopy_take(struct evcopy *e, const struct wsc_observation *o)
{
	evcopy_free(e);
	e->v = calloc(o->n_events ? o->n_events : 1, sizeof(*e->v));
	if (!e->v)
		die_oom();
	for (size_t i = 0; i < o->n_events; i++) {
		e->v[i] = o->events[i];
		e->v[i].data = malloc(o->events[i].len ? o->events[i].len : 1);
		if (!e->v[i].data)
			die_oom();
		if (o->events[i].len)
			memcpy(e->v[i].data, o->events[i].data, o->events[i].len);
	}
	e->n = o->n_events;
	e->http_status = o->http_status;
}

/*
 * Run f alone and tell whether oracle `want` fires (OR_NONE: any). The
 * target is restarted after it died, hung or grew. On a hit, *why and *ev
 * describe the run. Returns the oracle that fired.
 */
static enum oracle try_case(struct runner *R, struct fcase *f, enum oracle want, char *why,
                            size_t cap, struct evcopy *ev)
{
	char err[512];
	if (R->have_target && (!R->target_up || target_dead(R, 0)) &&
	    target_up(R, err, sizeof(err)) < 0) {
		fprintf(stderr, PROG ": restarting the target: %s\n", err);
		return OR_NONE;
	}
	struct wsc_case *c = &f->c;
	struct wsc_run run;
	struct wsc_case *arr = NULL;
	run_cases(R, &c, 1, &run, &arr);
	enum oracle got = OR_NONE;
	char w[512] = "";
	if (R->have_target && (R->target_failed || target_dead(R, 150))) {
		got = OR_CRASH;
		char d[400];
		wsc_target_describe(&R->t, d, sizeof(d));
		snprintf(w, sizeof(w), "the target died: %s", d);
	} else if (run.n_results == 1) {
		got = judge_result(f, &run.results[0], w, sizeof(w));
		if (got == OR_NONE || (want != OR_NONE && got != want)) {
			unsigned long kb = target_rss_kb(R);
			if (kb > R->o->max_rss_mb * 1024ul) {
				got = OR_RSS;
				snprintf(w, sizeof(w), "target RSS %lu MiB > --max-rss-mb %lu",
				         kb / 1024, R->o->max_rss_mb);
			} else if ((want == OR_HANG || want == OR_NONE) && !probe(R)) {
				got = target_dead(R, 100) ? OR_CRASH : OR_HANG;
				snprintf(w, sizeof(w),
				         got == OR_HANG ? "liveness probe failed: no handshake and "
				                          "pong within %u ms on a fresh connection"
				                        : "the target died after the case",
				         R->o->probe_timeout_ms);
			}
		}
	}
	bool hit = got != OR_NONE && (want == OR_NONE || got == want);
	if (hit) {
		snprintf(why, cap, "%s", w);
		if (run.n_results == 1)
			evcopy_take(ev, &run.results[0].obs);
	}
	if (got == OR_CRASH || got == OR_HANG || got == OR_RSS) {
		if (got == OR_CRASH && R->have_target)
			wsc_target_describe(&R->t, R->last_death, sizeof(R->last_death));
		if (R->have_target) {
			target_down(R);
			R->restarts++;
		}
	}
	wsc_run_free(&run);
	free(arr);
	return hit ? got : OR_NONE;
}

/* --------------------------------------------------------------- minimizing */

static void minimize(struct runner *R, struct fcase *f, enum oracle want, char *why, size_t cap,
                     struct evcopy *ev, uint64_t hard_end)
{
	unsigned trials = 0;
	uint64_t end = now_ms() + MIN_SECONDS * 1000u;
	if (end > hard_end)
		end = hard_end;
#define BUDGET() (trials < MIN_TRIALS && now_ms() < end && !g_stop)
	/* 1. drop steps, last first */
	for (size_t i = body_n(f); i-- > 0 && BUDGET();) {
		struct fcase t;
		fcase_clone(&t, f);
		step_remove(&t, i);
		trials++;
		if (try_case(R, &t, want, why, cap, ev) != OR_NONE) {
			fcase_free(f);
			*f = t;
		} else {
			fcase_free(&t);
		}
	}
	/* 2. drop byte ranges of raw steps, halving */
	for (size_t i = 0; i < body_n(f) && BUDGET(); i++) {
		if (f->c.steps[i].kind != WSC_STEP_RAW)
			continue;
		size_t chunk = f->c.steps[i].u.raw.n / 2;
		while (chunk >= 1 && BUDGET()) {
			bool any = false;
			for (size_t off = 0; off < f->c.steps[i].u.raw.n && BUDGET();) {
				size_t n = f->c.steps[i].u.raw.n;
				size_t k = chunk < n - off ? chunk : n - off;
				struct fcase t;
				fcase_clone(&t, f);
				uint8_t *q = pool_alloc(&t.pool, n - k);
				memcpy(q, f->c.steps[i].u.raw.p, off);
				memcpy(q + off, f->c.steps[i].u.raw.p + off + k, n - off - k);
				t.c.steps[i].u.raw.p = q;
				t.c.steps[i].u.raw.n = n - k;
				trials++;
				if (try_case(R, &t, want, why, cap, ev) != OR_NONE) {
					fcase_free(f);
					*f = t;
					any = true;
				} else {
					fcase_free(&t);
					off += k;
				}
			}
			if (!any)
				chunk /= 2;
		}
	}
	/* 3. drop added handshake headers */
	for (size_t i = f->c.hs.n_add_headers; i-- > 0 && BUDGET();) {
		struct fcase t;
		fcase_clone(&t, f);
		memmove(&t.c.hs.add_headers[i], &t.c.hs.add_headers[i + 1],
		        (t.c.hs.n_add_headers - i - 1) * sizeof(char *));
		t.c.hs.n_add_headers--;
		trials++;
		if (try_case(R, &t, want, why, cap, ev) != OR_NONE) {
			fcase_free(f);
			*f = t;
		} else {
			fcase_free(&t);
		}
	}
#undef BUDGET
}

/* ------------------------------------------------------------------- saving */

static void put_str(FILE *fp, const char *s)
{
	fputc('"', fp);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(fp, "\\%c", ch);
		else if (ch < 0x20 || ch >= 0x7f)
			fprintf(fp, "\\x%02x", ch);
		else
			fputc(ch, fp);
	}
	fputc('"', fp);
}

static void put_hex(FILE *fp, const uint8_t *p, size_t n)
{
	if (n == 0) {
		fputs("empty", fp);
		return;
	}
	fputs("x\"", fp);
	for (size_t i = 0; i < n; i++)
		fprintf(fp, "%s%02x", i && i % 32 == 0 ? " " : "", p[i]);
	fputc('"', fp);
}

static void put_secs(FILE *fp, uint32_t ms)
{
	fprintf(fp, "%u.%03u", ms / 1000, ms % 1000);
}

/* Write the finding; returns 0 or -1 (message printed). */
static int save(const struct runner *R, const struct fcase *f, enum oracle o, const char *why,
                const struct evcopy *ev, char *path, size_t pcap)
{
	snprintf(path, pcap, "%s/%s-%s.wsc", R->o->out, oracle_name[o], f->c.id);
	FILE *fp = fopen(path, "w");
	if (!fp) {
		fprintf(stderr, PROG ": %s: %s\n", path, strerror(errno));
		return -1;
	}
	char w[600];
	plain(w, sizeof(w), why);
	fprintf(fp, "# wsconform fuzz finding: %s\n# %s\n", oracle_name[o], w);
	fprintf(fp, "# found by: wsconform fuzz %s --seed %" PRIu64 " (mutated case %lu)\n",
	        R->url_str, R->o->seed, f->num);
	plain(w, sizeof(w), f->muts);
	fprintf(fp, "# from catalog case %s by: %s\n", f->origin->id, w[0] ? w : "(none left)");
	fprintf(fp, "# replay: wsconform server URL --case-file %s --cases %s\n", path, f->c.id);
	if (o == OR_HANG || o == OR_RSS)
		fprintf(fp,
		        "# (a %s shows on the connection as an unclean close; the fuzzer saw it "
		        "through its liveness probe / RSS sampling)\n",
		        oracle_name[o]);
	fprintf(fp, "category %d \"Fuzz findings\"\n\ncase %s\n", FUZZ_CATEGORY, f->c.id);
	fprintf(fp, "  title \"fuzz %s finding, from case %s\"\n", oracle_name[o], f->origin->id);
	fprintf(fp, "  rfc %s\n  side server\n  timeout %u\n", f->origin->rfc,
	        CASE_TIMEOUT_MS / 1000 + 1);
	const struct wsc_handshake *h = &f->c.hs;
	if (h->request_line) {
		fputs("  request-line ", fp);
		put_str(fp, h->request_line);
		fputc('\n', fp);
	}
	for (size_t i = 0; i < h->n_drop_headers; i++) {
		fputs("  drop-header ", fp);
		put_str(fp, h->drop_headers[i]);
		fputc('\n', fp);
	}
	for (size_t i = 0; i < h->n_add_headers; i++) {
		fputs("  header ", fp);
		put_str(fp, h->add_headers[i]);
		fputc('\n', fp);
	}
	for (size_t i = 0; i < h->n_protocols; i++) {
		fputs("  protocol ", fp);
		put_str(fp, h->protocols[i]);
		fputc('\n', fp);
	}
	if (f->must_refuse) {
		fputs("  expect-status ", fp);
		for (size_t i = 0; i < h->n_expect_status; i++)
			fprintf(fp, "%s%d", i ? "," : "", h->expect_status[i]);
		fputc('\n', fp);
	}
	for (size_t i = 0; i < f->c.n_steps; i++) {
		const struct wsc_step *s = &f->c.steps[i];
		switch (s->kind) {
		case WSC_STEP_RAW:
			fputs("  raw ", fp);
			put_hex(fp, s->u.raw.p, s->u.raw.n);
			fputc('\n', fp);
			break;
		case WSC_STEP_CHOP:
			if (s->u.chop.kind == WSC_CHOP_SIZE)
				fprintf(fp, "  chop %u\n", s->u.chop.size ? s->u.chop.size : 1);
			else
				fprintf(fp, "  chop %s\n",
				        s->u.chop.kind == WSC_CHOP_BURST   ? "burst"
				        : s->u.chop.kind == WSC_CHOP_FRAME ? "frame"
				                                           : "octet");
			break;
		case WSC_STEP_WAIT:
			fputs("  wait ", fp);
			put_secs(fp, s->u.wait.ms);
			if (s->u.wait.mark[0]) {
				fputs(" mark ", fp);
				put_str(fp, s->u.wait.mark);
			}
			fputc('\n', fp);
			break;
		case WSC_STEP_CLOSEAFTER:
		case WSC_STEP_KILL:
			fprintf(fp, "  %s ", s->kind == WSC_STEP_KILL ? "kill" : "closeafter");
			put_secs(fp, s->u.ms);
			fputc('\n', fp);
			break;
		default:
			break; /* fuzz cases hold raw bytes, chops and timers only */
		}
	}
	if (o == OR_CRASH) {
		/* Anything goes, except dying (a crash fails every case it hits). */
		fputs("  informational\n", fp);
	} else if (o != OR_HANDSHAKE) {
		/*
		 * What the peer did, and (for a violation) staying within the
		 * protocol until our `alive` mark: a violation makes the harness
		 * fail the connection before the mark.
		 */
		bool alive = false;
		fputs("  expect OK:", fp);
		if (ev->n == 0 && o != OR_VIOLATION)
			fputs(" nothing", fp);
		for (size_t i = 0; i < ev->n; i++) {
			const struct wsc_obs_event *e = &ev->v[i];
			fputs(i ? ", " : " ", fp);
			switch (e->kind) {
			case WSC_EV_TEXT:
				fputs("message text ", fp);
				put_hex(fp, e->data, e->len);
				break;
			case WSC_EV_BINARY:
				fputs("message binary ", fp);
				put_hex(fp, e->data, e->len);
				break;
			case WSC_EV_PONG:
				fputs("pong ", fp);
				put_hex(fp, e->data, e->len);
				break;
			case WSC_EV_TIMEOUT:
				fputs("timeout ", fp);
				{
					char tag[32];
					size_t l = e->len < 31 ? e->len : 31;
					memcpy(tag, e->data, l);
					tag[l] = '\0';
					put_str(fp, tag);
					alive = alive || !strcmp(tag, ALIVE_TAG);
				}
				break;
			}
		}
		if (o == OR_VIOLATION && !alive)
			fprintf(fp, "%stimeout %s", ev->n ? ", " : " ", ALIVE_TAG);
		fputc('\n', fp);
		fprintf(fp, "  closing me %s\n", o == OR_VIOLATION ? "unclean" : "clean");
	}
	fputs("end\n", fp);
	if (fclose(fp) != 0) {
		fprintf(stderr, PROG ": %s: %s\n", path, strerror(errno));
		return -1;
	}
	/* The file must load as a case file. */
	struct wsc_catalog cat;
	struct wsc_diag diag;
	wsc_catalog_init(&cat, WSC_PROFILE_RFC);
	int rc = wsc_catalog_load_path(&cat, path, &diag);
	wsc_catalog_free(&cat);
	if (rc < 0) {
		fprintf(stderr, PROG ": internal: the saved finding does not load: %s\n", diag.msg);
		return -1;
	}
	return 0;
}

/* --------------------------------------------------------------------- main */

static int mkdir_p(const char *path)
{
	char buf[4096];
	size_t n = strlen(path);
	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		char s = buf[i];
		buf[i] = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -1;
		buf[i] = s;
	}
	return access(path, W_OK);
}

struct seen {
	char key[N_ORACLES][24][96];
	unsigned n[N_ORACLES];
};

/* True the first time this (oracle, description) is seen. */
static bool first_time(struct seen *s, enum oracle o, const char *why)
{
	char key[96];
	snprintf(key, sizeof(key), "%s", why);
	/* drop the volatile part of crash texts (pids, addresses) */
	for (char *p = key; *p; p++)
		if (isdigit((unsigned char)*p) && o == OR_CRASH)
			*p = '#';
	for (unsigned i = 0; i < s->n[o]; i++)
		if (!strcmp(s->key[o][i], key))
			return false;
	if (s->n[o] < 24)
		memcpy(s->key[o][s->n[o]++], key, sizeof(key));
	return true;
}

int wsc_fuzz_main(int argc, char **argv)
{
	struct fopts o;
	int rc = parse(argc, argv, &o);
	if (rc >= 0)
		return rc;
	if (mkdir_p(o.out) < 0) {
		fprintf(stderr, PROG ": --out %s: %s\n", o.out, strerror(errno));
		return 3;
	}

	struct wsc_catalog cat;
	struct wsc_diag diag;
	wsc_catalog_init(&cat, WSC_PROFILE_RFC);
	if (wsc_catalog_load_builtin(&cat, &diag) < 0) {
		fprintf(stderr, PROG ": %s\n", diag.msg);
		return 3;
	}
	const char *inc[64];
	size_t n_inc = 0;
	char *cases_copy = o.cases ? strdup(o.cases) : NULL;
	if (cases_copy)
		for (char *tok = strtok(cases_copy, ","); tok && n_inc < 64;
		     tok = strtok(NULL, ","))
			inc[n_inc++] = tok;
	size_t *sel = NULL, n_sel = 0;
	char err[512];
	if (wsc_select(&cat, inc, n_inc, NULL, 0, WSC_SIDE_SERVER, &sel, &n_sel, err, sizeof(err)) <
	    0) {
		free(cases_copy);
		wsc_catalog_free(&cat);
		return usage("--cases: %s", err);
	}
	free(cases_copy);
	size_t n_use = 0;
	for (size_t i = 0; i < n_sel; i++)
		if (usable(&cat.cases[sel[i]]))
			sel[n_use++] = sel[i];
	if (n_use == 0) {
		free(sel);
		wsc_catalog_free(&cat);
		return usage("--cases: no selected case has traffic to mutate");
	}

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sig;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	struct runner R;
	memset(&R, 0, sizeof(R));
	R.o = &o;
	R.have_target = o.exec != NULL;
	probe_init(&R);
	int status = 0;
	if (R.have_target) {
		if (target_up(&R, err, sizeof(err)) < 0) {
			fprintf(stderr, PROG ": --exec: %s\n", err);
			status = 3;
			goto out;
		}
	} else {
		char *u = subst(o.url, "{port}", "");
		int bad = wsc_url_parse(u, &R.url, err, sizeof(err));
		snprintf(R.url_str, sizeof(R.url_str), "%s", u);
		free(u);
		if (bad < 0) {
			status = usage("bad URL '%s': %s", o.url, err);
			goto out;
		}
	}
	if (!probe(&R)) {
		fprintf(stderr, PROG ": %s does not answer a handshake and a ping before fuzzing\n",
		        R.url_str);
		status = 3;
		goto out;
	}

	struct rng rg = {o.seed};
	unsigned long seed_part = (unsigned long)(o.seed % 999999999u) + 1;
	uint64_t t0 = now_ms(), deadline = t0 + (uint64_t)(o.seconds * 1000.0);
	unsigned long ran = 0, batches = 0, unattributed = 0, dups = 0;
	unsigned found[N_ORACLES] = {0}, saved = 0;
	static struct seen seen;
	struct fcase *batch = calloc(o.jobs, sizeof(*batch));
	struct wsc_case **cv = calloc(o.jobs, sizeof(*cv));
	if (!batch || !cv)
		die_oom();
	struct fcase prev;
	bool have_prev = false;
	uint64_t last_line = t0;
	bool unreachable = false;

	while (!g_stop && now_ms() < deadline && (!o.runs || ran < o.runs) &&
	       saved < o.max_findings && !unreachable) {
		size_t n = o.jobs;
		if (o.runs && o.runs - ran < n)
			n = o.runs - ran;
		for (size_t i = 0; i < n; i++) {
			const struct wsc_case *oc = &cat.cases[sel[below(&rg, (uint32_t)n_use)]];
			fcase_from(&batch[i], oc, &rg);
			batch[i].num = ran + i + 1;
			char id[64];
			snprintf(id, sizeof(id), "%d.%lu.%lu", FUZZ_CATEGORY, seed_part,
			         batch[i].num);
			batch[i].c.id = pool_str(&batch[i].pool, id);
			batch[i].c.title = batch[i].c.desc = batch[i].c.id;
			batch[i].c.expectation = "";
			batch[i].c.rfc = oc->rfc;
			batch[i].c.file = "fuzz";
			batch[i].c.side = WSC_SIDE_SERVER;
			batch[i].c.timeout_ms = CASE_TIMEOUT_MS;
			mutate(&batch[i], &rg, have_prev ? &prev : NULL, R.url.path);
			cv[i] = &batch[i].c;
		}
		struct wsc_run run;
		struct wsc_case *arr = NULL;
		if (R.have_target && !R.target_up && target_up(&R, err, sizeof(err)) < 0) {
			fprintf(stderr, PROG ": restarting the target: %s\n", err);
			break;
		}
		run_cases(&R, cv, n, &run, &arr);
		ran += n;
		batches++;

		/* What went wrong, if anything, and which case did it. */
		enum oracle batch_o = OR_NONE;
		if (R.have_target && (R.target_failed || target_dead(&R, 50)))
			batch_o = OR_CRASH;
		else if (target_rss_kb(&R) > o.max_rss_mb * 1024ul)
			batch_o = OR_RSS;
		else if (!probe(&R))
			batch_o = target_dead(&R, 100) ? OR_CRASH : OR_HANG;
		bool *cand = calloc(n, sizeof(bool));
		enum oracle *per = calloc(n, sizeof(*per));
		if (!cand || !per)
			die_oom();
		for (size_t i = 0; i < run.n_results && i < n; i++) {
			char why[512];
			size_t k = run.results[i].position - 1;
			if (k >= n)
				continue;
			per[k] = judge_result(&batch[k], &run.results[i], why, sizeof(why));
		}
		if (batch_o != OR_NONE) {
			for (size_t i = 0; i < n; i++)
				cand[i] = true;
			if (R.have_target)
				target_down(&R);
			else if (batch_o != OR_NONE && !probe(&R))
				unreachable = true;
		}
		wsc_run_free(&run);
		free(arr);

		for (size_t k = 0; k < 2 * n && !g_stop; k++) {
			/* first each case's own oracle, then the batch's failure */
			size_t i = k % n;
			enum oracle want = k < n ? per[i] : (cand[i] ? batch_o : OR_NONE);
			if (want == OR_NONE)
				continue;
			if (!R.have_target && (want == OR_CRASH || want == OR_HANG))
				want = OR_HANG; /* cannot tell without the process */
			char why[600] = "";
			struct evcopy ev = {0};
			struct fcase f;
			fcase_clone(&f, &batch[i]);
			enum oracle got = unreachable
			                          ? OR_NONE
			                          : try_case(&R, &f, want, why, sizeof(why), &ev);
			if (got == OR_NONE) {
				if (unreachable) {
					snprintf(why, sizeof(why),
					         "the target stopped answering (no --exec: "
					         "not restarted)");
					got = want;
				} else {
					/* not reproduced alone: try the next case of the batch */
					fcase_free(&f);
					evcopy_free(&ev);
					continue;
				}
			}
			found[got]++;
			if (!first_time(&seen, got, why)) {
				dups++;
			} else {
				if (!unreachable)
					minimize(&R, &f, got, why, sizeof(why), &ev,
					         deadline + 10000);
				char path[4200];
				if (save(&R, &f, got, why, &ev, path, sizeof(path)) == 0) {
					saved++;
					printf("finding: %s: %s\n  saved %s\n", oracle_name[got],
					       why, path);
					fflush(stdout);
				}
			}
			fcase_free(&f);
			evcopy_free(&ev);
			if (got == batch_o)
				for (size_t j = 0; j < n; j++)
					cand[j] = false; /* the batch's failure is accounted for */
		}
		for (size_t i = 0; i < n; i++)
			if (cand[i]) {
				unattributed++;
				break;
			}
		free(cand);
		free(per);

		if (have_prev)
			fcase_free(&prev);
		fcase_clone(&prev, &batch[n - 1]);
		have_prev = true;
		for (size_t i = 0; i < n; i++)
			fcase_free(&batch[i]);
		if (!o.quiet && now_ms() - last_line >= 5000) {
			last_line = now_ms();
			double s = (double)(last_line - t0) / 1000.0;
			fprintf(stderr, "fuzz: %lu cases, %.1f cases/s, %u findings\n", ran,
			        s > 0 ? (double)ran / s : 0.0, saved);
		}
	}
	if (have_prev)
		fcase_free(&prev);
	free(batch);
	free(cv);

	double secs = (double)(now_ms() - t0) / 1000.0;
	unsigned total = 0;
	for (int i = 1; i < N_ORACLES; i++)
		total += found[i];
	printf("fuzz: %lu cases in %.1f s (%.1f cases/s), seed %" PRIu64
	       ", %u finding(s) saved to %s/\n",
	       ran, secs, secs > 0 ? (double)ran / secs : 0.0, o.seed, saved, o.out);
	printf("  by oracle:");
	for (int i = 1; i < N_ORACLES; i++)
		printf(" %s %u", oracle_name[i], found[i]);
	printf("; duplicates %lu; unattributed failures %lu; target restarts %lu\n", dups,
	       unattributed, R.restarts);
	if (g_stop)
		fprintf(stderr, PROG ": interrupted\n");
	status = total ? 1 : (unattributed ? 1 : 0);
	if (saved == 0 && total == 0 && unattributed)
		fprintf(stderr, PROG ": the target failed but no single case reproduced it\n");
out:
	target_down(&R);
	free(sel);
	wsc_catalog_free(&cat);
	return status;
}
