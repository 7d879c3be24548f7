/*
 * roundtrip.c - permessage-deflate on the harness's connections and the
 * `roundtrip` step (see roundtrip.h).
 *
 * A round trip sends one message, waits for its echo, checks type, length and
 * content (memcmp against what was sent: Autobahn checks only the length in
 * 9.x), and only then sends the next. The wire log is off meanwhile
 * ("WIRELOG DISABLED"); counters keep running. Buffers are reused from one
 * message to the next, and pattern messages are built once.
 */
#include "roundtrip.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vm.h"
#include "zcache.h"

static uint64_t rel(const struct wsc_vm *vm, uint64_t now)
{
	return now >= vm->t0 ? now - vm->t0 : 0;
}

static void set_once(char **dst, const char *s)
{
	if (!*dst)
		*dst = strdup(s);
}

/* Collect every Sec-WebSocket-Extensions line of the head, comma-joined. */
static void ext_answer(const char *h, size_t n, struct wsc_buf *out)
{
	static const char name[] = "Sec-WebSocket-Extensions";
	const char *p = memchr(h, '\n', n), *end = h + n;
	while (p && p < end) {
		p++;
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		const char *colon = memchr(p, ':', (size_t)(eol - p));
		if (colon && (size_t)(colon - p) == sizeof(name) - 1 &&
		    wsc_ascii_ieq(p, sizeof(name) - 1, name)) {
			const char *v = colon + 1, *ve = eol;
			while (v < ve && (*v == ' ' || *v == '\t'))
				v++;
			while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
				ve--;
			if (out->len)
				wsc_buf_append(out, ", ", 2);
			wsc_buf_append(out, v, (size_t)(ve - v));
		}
		p = eol < end ? eol : NULL;
	}
}

static bool offered_no_takeover(const struct wsc_case *c)
{
	for (size_t i = 0; i < c->hs.n_offers; i++)
		if (strstr(c->hs.offers[i], "client_no_context_takeover"))
			return true;
	return false;
}

int wsc_vmx_open(struct wsc_vm *vm, const char *head, size_t hlen, uint8_t *allowed_rsv, char *err,
                 size_t errlen)
{
	struct wsc_observation *o = &vm->r->obs;
	*allowed_rsv = 0;
	if (!vm->x) {
		vm->x = calloc(1, sizeof(*vm->x));
		if (!vm->x) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	struct wsc_vmx *x = vm->x;
	struct wsc_buf ans;
	wsc_buf_init(&ans);
	ext_answer(head, hlen, &ans);
	struct wsc_pmd_params agreed;
	int rc = wsc_pmd_negotiate(vm->c->hs.offers, vm->c->hs.n_offers, (const char *)ans.p,
	                           ans.len, &agreed, err, errlen);
	wsc_buf_free(&ans);
	if (rc < 0)
		return -1;
	if (rc == 1) {
		if (wsc_pmd_init(&x->pmd, &agreed, offered_no_takeover(vm->c)) < 0) {
			snprintf(err, errlen, "cannot start zlib for permessage-deflate");
			return -1;
		}
		x->pmd_on = true;
		o->pmd_negotiated = true;
		*allowed_rsv = 4;
		wsc_obs_note(
		        o, 0, "PERMESSAGE-DEFLATE: our window %d bits%s, peer window %d bits%s",
		        x->pmd.our_bits, x->pmd.we_take_over ? "" : ", no context takeover",
		        x->pmd.peer_bits, x->pmd.peer_takes_over ? "" : ", no context takeover");
	}
	if (vm->c->require_extension && !x->pmd_on) {
		char m[200];
		snprintf(m, sizeof m, "%s was offered but the peer did not accept it",
		         vm->c->require_extension);
		set_once(&o->extension_missing, m);
		return 1;
	}
	return 0;
}

static bool compressible(uint8_t opcode)
{
	return opcode == 1 || opcode == 2;
}

void wsc_vmx_prepare_send(struct wsc_vm *vm, const struct wsc_send *s, struct wsc_wframe *f)
{
	struct wsc_vmx *x = vm->x;
	struct wsc_observation *o = &vm->r->obs;
	if (!compressible(s->opcode))
		return;
	o->msgs_out++;
	o->app_out += s->payload.n;
	if (x && x->pmd_on && s->compress == WSC_COMPRESS_AUTO && s->fin && s->rsv == 0 &&
	    !s->len_override) {
		x->zout.len = 0;
		if (wsc_pmd_compress(&x->pmd, s->payload.p, s->payload.n, &x->zout) == 0) {
			f->payload = x->zout.p;
			f->payload_len = x->zout.len;
			f->rsv = 4;
		}
	}
	o->ws_out += f->payload_len;
}

/* Build message number x->rt_done into x->msg. */
static int build_msg(struct wsc_vmx *x)
{
	const struct wsc_roundtrip *rt = x->rt;
	if (rt->source == WSC_RT_DATASET) {
		int rc = wsc_dataset_window(x->ds, x->rt_pos, x->rt_size, &x->msg);
		x->rt_pos += x->rt_size;
		return rc;
	}
	if (x->msg_built)
		return 0;
	x->msg.len = 0;
	if (rt->source == WSC_RT_BOMB) {
		if (wsc_pmd_bomb(x->rt_size, &x->msg) < 0)
			return -1;
	} else {
		if (wsc_buf_reserve(&x->msg, x->rt_size ? x->rt_size : 1) < 0)
			return -1;
		const uint8_t *pat = rt->pattern.p;
		size_t pn = rt->pattern.n, size = (size_t)x->rt_size;
		if (pn == 0) {
			memset(x->msg.p, 0, size);
		} else {
			/* the pattern once, then doubling copies (the period is kept) */
			size_t done = pn < size ? pn : size;
			memcpy(x->msg.p, pat, done);
			while (done < size) {
				size_t k = size - done < done ? size - done : done;
				memcpy(x->msg.p + done, x->msg.p, k);
				done += k;
			}
		}
		x->msg.len = x->rt_size;
	}
	x->msg_built = true;
	return 0;
}

/*
 * Compress x->msg into x->zout. A data-set window compressed without our
 * context takeover depends only on its bytes and our window, so it comes from
 * (or goes to) the run's cache (zcache.h): same bytes, computed once.
 */
static int compress_msg(struct wsc_vmx *x, const uint8_t *p, size_t n)
{
	bool cacheable = x->rt->source == WSC_RT_DATASET && !x->pmd.we_take_over;
	struct wsc_zkey key = {0};
	if (cacheable) {
		size_t total = wsc_dataset_units(x->ds);
		key.dataset = x->rt->dataset;
		key.bits = x->pmd.def_bits;
		key.start = total ? (x->rt_pos - x->rt_size) % total : 0;
		key.units = x->rt_size;
		if (wsc_zcache_get(&key, &x->zout)) {
			x->rt_cached++;
			return 0;
		}
	}
	if (wsc_pmd_compress(&x->pmd, p, n, &x->zout) < 0)
		return -1;
	if (cacheable)
		wsc_zcache_put(&key, x->zout.p, x->zout.len);
	return 0;
}

static void send_msg(struct wsc_vm *vm, uint64_t now)
{
	struct wsc_vmx *x = vm->x;
	struct wsc_observation *o = &vm->r->obs;
	const struct wsc_roundtrip *rt = x->rt;
	const uint8_t *p = x->msg.p;
	size_t n = x->msg.len;
	uint8_t rsv = 0;
	if (rt->source == WSC_RT_BOMB) {
		rsv = 4; /* the payload is already deflate data */
		o->app_out += x->rt_size;
	} else {
		o->app_out += n;
		if (x->pmd_on && rt->compress == WSC_COMPRESS_AUTO && compressible(rt->opcode)) {
			x->zout.len = 0;
			if (compress_msg(x, p, n) == 0) {
				p = x->zout.p;
				n = x->zout.len;
				rsv = 4;
			}
		}
	}
	if (compressible(rt->opcode))
		o->msgs_out++;
	o->ws_out += n;
	wsc_vm_x_send(vm, now, rt->opcode, rsv, p, n, rt->frag, rt->has_chop ? &rt->chop : NULL);
}

static void rt_end(struct wsc_vm *vm, uint64_t now, const char *error)
{
	struct wsc_vmx *x = vm->x;
	struct wsc_observation *o = &vm->r->obs;
	x->rt_active = false;
	vm->t_rt = 0;
	o->rt_us += now - x->rt_t0;
	o->wirelog_off = false;
	wsc_obs_note(o, rel(vm, now), "WIRELOG ENABLED (%u of %u round trips done)", x->rt_done,
	             x->rt_count);
	if (x->rt_cached)
		wsc_obs_note(o, rel(vm, now),
		             "%u compressed payloads came from the run's cache (computed by an "
		             "earlier case, byte for byte what compressing them again gives)",
		             x->rt_cached);
	if (error) {
		set_once(&o->roundtrip_error, error);
		wsc_obs_note(o, rel(vm, now), "ROUND TRIP FAILED: %s", error);
		wsc_vm_x_close(vm, now);
		return;
	}
	wsc_vm_x_step_done(vm, now);
}

void wsc_vmx_roundtrip(struct wsc_vm *vm, uint64_t now, const struct wsc_roundtrip *rt)
{
	struct wsc_observation *o = &vm->r->obs;
	if (!vm->x)
		vm->x = calloc(1, sizeof(*vm->x));
	struct wsc_vmx *x = vm->x;
	if (!x) {
		set_once(&o->roundtrip_error, "out of memory");
		wsc_vm_x_close(vm, now);
		return;
	}
	x->rt = rt;
	x->rt_count = rt->count;
	if (vm->env->rt_cap && rt->count > vm->env->rt_cap) {
		x->rt_count = vm->env->rt_cap;
		o->rt_capped_from = rt->count;
		wsc_obs_note(o, rel(vm, now), "ROUND TRIPS CUT: %u of %u messages (--round-trips)",
		             x->rt_count, rt->count);
	}
	x->rt_done = 0;
	x->rt_cached = 0;
	x->rt_pos = 0;
	x->msg_built = false;
	x->ds = NULL;
	uint64_t size = rt->size;
	if (rt->size_from_limit) {
		if (!vm->env->peer_max_message) {
			set_once(&o->extension_missing,
			         "the peer's message limit was not declared (--max-message)");
			wsc_vm_x_close(vm, now);
			return;
		}
		int64_t s = (int64_t)vm->env->peer_max_message + rt->size_delta;
		size = s < 0 ? 0 : (uint64_t)s;
	}
	x->rt_size = size;
	if (rt->source == WSC_RT_DATASET) {
		x->ds = wsc_dataset_get(rt->dataset);
		if (!x->ds) {
			set_once(&o->roundtrip_error, "out of memory building the data set");
			wsc_vm_x_close(vm, now);
			return;
		}
	}
	x->rt_t0 = now;
	x->rt_active = true;
	wsc_obs_note(o, rel(vm, now), "WIRELOG DISABLED (%u %s messages of %llu %s%s)", x->rt_count,
	             rt->opcode == 1   ? "text"
	             : rt->opcode == 2 ? "binary"
	                               : "ping",
	             (unsigned long long)size, x->ds && x->ds->text ? "characters" : "bytes",
	             rt->nowait ? ", not waiting for echoes" : "");
	o->wirelog_off = true;
	if (rt->opcode == 9)
		x->swallow_pongs = true;
	if (rt->nowait) {
		for (uint32_t i = 0; i < x->rt_count && !vm->tcp_closed; i++) {
			if (build_msg(x) < 0) {
				rt_end(vm, now, "out of memory building a message");
				return;
			}
			send_msg(vm, now);
			x->rt_done++;
		}
		rt_end(vm, now, NULL);
		return;
	}
	if (x->rt_count == 0) {
		rt_end(vm, now, NULL);
		return;
	}
	if (rt->timeout_ms)
		vm->t_rt = now + (uint64_t)rt->timeout_ms * 1000u;
	if (build_msg(x) < 0) {
		rt_end(vm, now, "out of memory building a message");
		return;
	}
	send_msg(vm, now);
}

void wsc_vmx_rt_timeout(struct wsc_vm *vm, uint64_t now)
{
	struct wsc_vmx *x = vm->x;
	if (!x || !x->rt_active)
		return;
	char m[200];
	snprintf(m, sizeof m, "did not receive message %u of %u within %.3f s", x->rt_done + 1,
	         x->rt_count, x->rt->timeout_ms / 1000.0);
	rt_end(vm, now, m);
}

bool wsc_vmx_on_pong(struct wsc_vm *vm)
{
	return vm->x && vm->x->swallow_pongs;
}

static size_t first_diff(const uint8_t *a, const uint8_t *b, size_t n)
{
	size_t i = 0;
	while (i + 8 <= n && memcmp(a + i, b + i, 8) == 0)
		i += 8;
	while (i < n && a[i] == b[i])
		i++;
	return i;
}

int wsc_vmx_on_message(struct wsc_vm *vm, uint64_t now, struct wsc_rd_event *ev)
{
	struct wsc_vmx *x = vm->x;
	struct wsc_observation *o = &vm->r->obs;
	o->msgs_in++;
	o->ws_in += ev->len;
	if (ev->compressed) {
		if (!x || !x->pmd_on) {
			wsc_vm_x_fail(vm, now, 1002,
			              "compressed message without permessage-deflate",
			              "RSV1 set without permessage-deflate");
			return -1;
		}
		char err[160];
		size_t cap =
		        vm->env->max_message ? vm->env->max_message : WSC_RD_DEFAULT_MAX_MESSAGE;
		int rc = wsc_pmd_inflate(&x->pmd, ev->data, ev->len, cap, &x->inflated, err,
		                         sizeof err);
		if (rc < 0) {
			wsc_vm_x_fail(vm, now, rc == -2 ? 1009 : 1007, err, err);
			return -1;
		}
		if (ev->opcode == 1 && !wsc_utf8_valid(x->inflated.p, x->inflated.len)) {
			wsc_vm_x_fail(
			        vm, now, 1007, "invalid UTF-8 in a compressed text message",
			        "invalid UTF-8 in a compressed text message (after inflating)");
			return -1;
		}
		ev->data = x->inflated.p;
		ev->len = x->inflated.len;
	}
	o->app_in += ev->len;
	if (!x || !x->rt_active || x->rt->nowait)
		return 0;
	const struct wsc_roundtrip *rt = x->rt;
	char m[240];
	if (ev->opcode != rt->opcode || ev->len != x->msg.len ||
	    memcmp(ev->data, x->msg.p, x->msg.len) != 0) {
		const char *tn[] = {"?", "text", "binary"};
		if (ev->opcode != rt->opcode || ev->len != x->msg.len)
			snprintf(m, sizeof m,
			         "message %u of %u: expected %s of %zu bytes, got %s of %zu bytes",
			         x->rt_done + 1, x->rt_count, tn[rt->opcode & 3], x->msg.len,
			         tn[ev->opcode & 3], ev->len);
		else
			snprintf(m, sizeof m,
			         "message %u of %u: echo differs from what was sent at byte %zu",
			         x->rt_done + 1, x->rt_count,
			         first_diff(ev->data, x->msg.p, ev->len));
		rt_end(vm, now, m);
		return 1;
	}
	x->rt_done++;
	o->rt_messages++;
	if (x->rt_done == x->rt_count) {
		rt_end(vm, now, NULL);
		return 1;
	}
	if (build_msg(x) < 0) {
		rt_end(vm, now, "out of memory building a message");
		return 1;
	}
	send_msg(vm, now);
	return 1;
}

void wsc_vmx_on_closed(struct wsc_vm *vm, uint64_t now)
{
	struct wsc_vmx *x = vm->x;
	if (!x || !x->rt_active)
		return;
	char m[200];
	snprintf(m, sizeof m,
	         "the connection closed (or the case deadline passed) after %u of %u round trips",
	         x->rt_done, x->rt_count);
	x->rt_active = false;
	vm->t_rt = 0;
	vm->r->obs.rt_us += now - x->rt_t0;
	vm->r->obs.wirelog_off = false;
	set_once(&vm->r->obs.roundtrip_error, m);
}

void wsc_vmx_free(struct wsc_vm *vm)
{
	struct wsc_vmx *x = vm->x;
	if (!x)
		return;
	if (x->pmd_on)
		wsc_pmd_free(&x->pmd);
	wsc_buf_free(&x->zout);
	wsc_buf_free(&x->inflated);
	wsc_buf_free(&x->msg);
	free(x);
	vm->x = NULL;
}
