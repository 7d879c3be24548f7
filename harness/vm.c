/*
 * vm.c - the step VM and connection state machine of one case (see vm.h).
 *
 * The close bookkeeping follows Autobahn's engine (shared reference, verdict
 * model: timers, clean close vs drop, implicit checks):
 *  - closed_by_me: we sent the first Close (including the kill timer's 1001);
 *  - failed_by_me: we failed the connection (peer violation or kill);
 *  - dropped_by_me: we closed the TCP connection;
 *  - was_clean: a Close was both sent and received; cleared only by our
 *    close-handshake / server-drop timeouts and by the case deadline.
 * A Close we send starts a 1 s timer for the peer's Close; once both Closes
 * went by, the client gives the server 1 s to close TCP, then drops it.
 * A violation while we are already closing drops TCP (Autobahn's
 * failConnection in state CLOSING).
 *
 * Only Close frames with RSV = 0 and FIN = 1 that we send are part of the
 * closing handshake; any other frame with opcode 8 is just bytes on the wire
 * (Autobahn's sendFrame(opcode=8, rsv=7) in case 3.7 is not a closing
 * handshake either).
 */
#include "vm.h"

#include "roundtrip.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef WSC_VERSION
#define WSC_VERSION "0.1.0"
#endif

#define HEAD_MAX (64u * 1024u)
#define PEER_DROP_REASON \
	"peer dropped the TCP connection without previous WebSocket closing handshake"

static uint64_t rel(const struct wsc_vm *vm, uint64_t now)
{
	return now >= vm->t0 ? now - vm->t0 : 0;
}

static void set_str(char **dst, const char *s)
{
	if (*dst)
		return; /* the first reason wins */
	*dst = strdup(s);
}

static bool ws_open(const struct wsc_vm *vm)
{
	return vm->phase == WSC_VM_WS && !vm->close_sent && !vm->close_rcvd && !vm->tcp_closed;
}

static void run_steps(struct wsc_vm *vm, uint64_t now);
static void flush(struct wsc_vm *vm, uint64_t now);

/* ------------------------------------------------------------- teardown */

static void write_dump(struct wsc_vm *vm)
{
	if (!vm->env->dump_dir || vm->phase < WSC_VM_WS)
		return;
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s.bin", vm->env->dump_dir, vm->c->id);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	size_t off = 0;
	while (off < vm->dump.len) {
		ssize_t w = write(fd, vm->dump.p + off, vm->dump.len - off);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	close(fd);
}

/* TCP is gone: by_me = we closed it. */
static void tcp_closed(struct wsc_vm *vm, uint64_t now, bool by_me, const char *why)
{
	if (vm->tcp_closed)
		return;
	struct wsc_observation *o = &vm->r->obs;
	vm->tcp_closed = true;
	wsc_net_close(&vm->net);
	wsc_vmx_on_closed(vm, now);
	if (why)
		wsc_obs_note(o, rel(vm, now), "%s", why);
	wsc_obs_note(o, rel(vm, now), by_me ? "TCP DROPPED BY ME" : "TCP DROPPED BY PEER");
	if (by_me)
		o->dropped_by_me = true;
	if (!o->was_clean && !o->was_not_clean_reason)
		set_str(&o->was_not_clean_reason,
		        by_me ? "I dropped the TCP connection" : PEER_DROP_REASON);
	if (vm->t_open) {
		uint64_t d = (now - vm->t_open + 500) / 1000;
		o->duration_ms = d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
	}
	write_dump(vm);
	vm->phase = WSC_VM_DONE;
	vm->t_deadline = vm->t_open_hs = vm->t_retry = vm->t_pace = vm->t_wait = vm->t_kill =
	        vm->t_closeafter = vm->t_close_hs = vm->t_srv_drop = vm->t_rt = 0;
}

static void drop(struct wsc_vm *vm, uint64_t now)
{
	tcp_closed(vm, now, true, NULL);
}

/* ------------------------------------------------------------- output */

static int push_seg(struct wsc_vm *vm, size_t end, uint32_t chunk)
{
	if (vm->n_seg == vm->cap_seg) {
		size_t ncap = vm->cap_seg ? vm->cap_seg * 2 : 16;
		struct wsc_vm_seg *s = realloc(vm->seg, ncap * sizeof(*s));
		if (!s)
			return -1;
		vm->seg = s;
		vm->cap_seg = ncap;
	}
	vm->seg[vm->n_seg].end = end;
	vm->seg[vm->n_seg].chunk = chunk;
	vm->n_seg++;
	return 0;
}

/* The bytes up to tx.len form one more unit (a frame or a raw step) cut by chop. */
static void queue_unit(struct wsc_vm *vm, struct wsc_chop chop)
{
	size_t end = vm->tx.len;
	if (chop.kind == WSC_CHOP_BURST) {
		if (vm->seg_open && vm->n_seg > 0) {
			vm->seg[vm->n_seg - 1].end = end;
			return;
		}
		if (push_seg(vm, end, 0) == 0)
			vm->seg_open = true;
		return;
	}
	vm->seg_open = false;
	uint32_t chunk = chop.kind == WSC_CHOP_FRAME   ? 0
	                 : chop.kind == WSC_CHOP_OCTET ? 1
	                                               : (chop.size ? chop.size : 1);
	push_seg(vm, end, chunk);
}

struct tx_ctx {
	struct wsc_vm *vm;
	uint64_t now;
	struct wsc_chop chop;
};

static void on_tx_frame(void *ctx, const struct wsc_wresult *res)
{
	struct tx_ctx *t = ctx;
	struct wsc_vm *vm = t->vm;
	wsc_obs_wire_frame(&vm->r->obs, true, res->opcode, res->rsv, res->fin, res->masked,
	                   res->key, res->payload, res->payload_len, rel(vm, t->now));
	if (vm->env->dump_dir)
		wsc_buf_append(&vm->dump, vm->tx.p + res->start, res->end - res->start);
	queue_unit(vm, t->chop);
	if (res->declared > res->payload_len) {
		vm->open_left = res->declared - res->payload_len;
		vm->open_off = res->payload_len;
		vm->open_masked = res->masked;
		memcpy(vm->open_key, res->key, 4);
	} else {
		vm->open_left = 0;
	}
}

static enum wsc_wmask auto_mask(const struct wsc_vm *vm)
{
	return vm->is_server ? WSC_WMASK_NONE : WSC_WMASK_RANDOM;
}

/* Queue one frame of ours (replies, closes): always its own write. */
static void send_frame(struct wsc_vm *vm, uint64_t now, uint8_t opcode, const uint8_t *payload,
                       size_t len)
{
	struct wsc_wframe f = {
	        .opcode = opcode,
	        .fin = true,
	        .mask = auto_mask(vm),
	        .payload = payload,
	        .payload_len = len,
	};
	struct tx_ctx t = {.vm = vm, .now = now, .chop = {.kind = WSC_CHOP_FRAME}};
	if (vm->tx_off == vm->tx.len && vm->n_seg == 0)
		vm->tx.len = vm->tx_off = 0;
	wsc_wire_write_frags(&vm->tx, &f, 0, on_tx_frame, &t);
	vm->open_left = 0;
}

/*
 * Record a Close frame we just sent that starts (or answers) the closing
 * handshake: its code (1005 when empty) and reason, and, if the peer has not
 * closed yet, that we closed first and when our wait for its reply ends.
 */
static void close_sent_bookkeeping(struct wsc_vm *vm, const uint8_t *p, size_t n, uint64_t now)
{
	struct wsc_observation *o = &vm->r->obs;
	vm->close_sent = true;
	o->local_close_code = n >= 2 ? (int)((unsigned)p[0] << 8 | p[1]) : 1005;
	if (n > 2) {
		free(o->local_close_reason);
		o->local_close_reason = malloc(n - 2);
		if (o->local_close_reason) {
			memcpy(o->local_close_reason, p + 2, n - 2);
			o->local_close_reason_len = n - 2;
		}
	}
	if (!vm->close_rcvd) {
		o->closed_by_me = true;
		vm->t_close_hs = now + WSC_CLOSE_HS_TIMEOUT_US;
	}
}

/* Send the first Close of the connection (ours or our reply). */
static void send_close(struct wsc_vm *vm, uint64_t now, int code, const uint8_t *reason,
                       size_t rlen)
{
	if (vm->close_sent || vm->tcp_closed || vm->phase != WSC_VM_WS)
		return;
	uint8_t p[125] = {0};
	size_t n = 0;
	if (code >= 0) {
		p[0] = (uint8_t)(code >> 8);
		p[1] = (uint8_t)code;
		if (rlen > 123)
			rlen = 123;
		if (rlen)
			memcpy(p + 2, reason, rlen);
		n = 2 + rlen;
	}
	send_frame(vm, now, 8, p, n);
	close_sent_bookkeeping(vm, p, n, now);
}

/*
 * Fail the connection (Autobahn's failConnection): send a Close with `code`
 * if no Close went either way yet, else drop TCP.
 */
static void fail(struct wsc_vm *vm, uint64_t now, int code, const char *reason,
                 const char *violation)
{
	struct wsc_observation *o = &vm->r->obs;
	if (vm->tcp_closed)
		return;
	if (violation)
		set_str(&o->protocol_violation, violation);
	o->failed_by_me = true;
	wsc_obs_note(o, rel(vm, now), "FAILING CONNECTION: %d %s", code, reason);
	if (ws_open(vm)) {
		send_close(vm, now, code, (const uint8_t *)reason, strlen(reason));
		flush(vm, now);
	} else {
		drop(vm, now);
	}
}

static void flush(struct wsc_vm *vm, uint64_t now)
{
	while (vm->n_seg > 0 && !vm->tcp_closed) {
		if (vm->t_pace) {
			if (now < vm->t_pace)
				return;
			vm->t_pace = 0;
		}
		if (vm->net.state != WSC_NET_READY)
			return;
		struct wsc_vm_seg *s = &vm->seg[0];
		size_t n = s->end - vm->tx_off;
		if (s->chunk && n > s->chunk)
			n = s->chunk;
		if (n == 0) {
			memmove(vm->seg, vm->seg + 1, (vm->n_seg - 1) * sizeof(*vm->seg));
			vm->n_seg--;
			continue;
		}
		ssize_t w = wsc_net_write(&vm->net, vm->tx.p + vm->tx_off, n);
		if (w == WSC_NET_AGAIN)
			return;
		if (w <= 0) {
			char why[200];
			snprintf(why, sizeof(why), "WRITE FAILED: %s", vm->net.err);
			tcp_closed(vm, now, false, why);
			return;
		}
		wsc_obs_wire_octets(&vm->r->obs, true, vm->tx.p + vm->tx_off, (size_t)w,
		                    rel(vm, now));
		vm->tx_off += (size_t)w;
		if (vm->tx_off == s->end) {
			memmove(vm->seg, vm->seg + 1, (vm->n_seg - 1) * sizeof(*vm->seg));
			vm->n_seg--;
			if (vm->n_seg == 0)
				vm->seg_open = false;
		}
		if ((size_t)w == n && vm->n_seg > 0) {
			/* a complete write and more to go: keep writes apart */
			vm->t_pace = now + WSC_PACE_US;
			return;
		}
	}
	if (vm->n_seg == 0 && !vm->tcp_closed) {
		vm->tx.len = vm->tx_off = 0;
		if (vm->drop_after_flush) {
			drop(vm, now);
			return;
		}
		if (vm->wait_state == 1) {
			const struct wsc_step *st = &vm->c->steps[vm->step];
			vm->wait_state = 2;
			vm->t_wait = now + (uint64_t)st->u.wait.ms * 1000u;
		}
	} else if (vm->tx_off > (1u << 20) && vm->tx_off > vm->tx.len / 2) {
		/* compact: keep memory proportional to what is still owed */
		memmove(vm->tx.p, vm->tx.p + vm->tx_off, vm->tx.len - vm->tx_off);
		for (size_t i = 0; i < vm->n_seg; i++)
			vm->seg[i].end -= vm->tx_off;
		vm->tx.len -= vm->tx_off;
		vm->tx_off = 0;
	}
}

/* ------------------------------------------------------------- steps */

static void step_send(struct wsc_vm *vm, uint64_t now, const struct wsc_send *s)
{
	struct wsc_observation *o = &vm->r->obs;
	struct wsc_chop chop = s->has_chop ? s->chop : vm->chop;
	bool handshake_close =
	        s->opcode == 8 && s->rsv == 0 && s->fin && s->frag == 0 && !vm->close_sent;
	struct wsc_wframe f = {
	        .opcode = s->opcode,
	        .rsv = s->rsv,
	        .fin = s->fin,
	        .payload = s->payload.p,
	        .payload_len = s->payload.n,
	        .len_override = s->len_override,
	        .len = s->len,
	        .lenform = s->lenform,
	};
	if (s->mask == WSC_MASK_NONE) {
		f.mask = WSC_WMASK_NONE;
	} else if (s->mask == WSC_MASK_KEY) {
		f.mask = WSC_WMASK_KEY;
		memcpy(f.key, s->key, 4);
	} else {
		f.mask = auto_mask(vm);
	}
	wsc_vmx_prepare_send(vm, s, &f);
	struct tx_ctx t = {.vm = vm, .now = now, .chop = chop};
	if (wsc_wire_write_frags(&vm->tx, &f, s->frag, on_tx_frame, &t) < 0) {
		wsc_obs_note(o, rel(vm, now), "OUT OF MEMORY BUILDING FRAME");
		return;
	}
	if (handshake_close) {
		close_sent_bookkeeping(vm, s->payload.p, s->payload.n, now);
	}
}

static void step_raw(struct wsc_vm *vm, const struct wsc_bytes *b)
{
	if (b->n == 0)
		return;
	size_t start = vm->tx.len;
	if (wsc_buf_append(&vm->tx, b->p, b->n) < 0)
		return;
	if (vm->open_left > 0) {
		/* the payload a previous frame declared but did not carry */
		size_t k = (uint64_t)b->n < vm->open_left ? b->n : (size_t)vm->open_left;
		if (vm->open_masked)
			wsc_wire_mask(vm->tx.p + start, k, vm->open_key, vm->open_off);
		vm->open_left -= k;
		vm->open_off += k;
	}
	if (vm->env->dump_dir)
		wsc_buf_append(&vm->dump, vm->tx.p + start, b->n);
	queue_unit(vm, vm->chop);
}

/* Execute steps until a wait or the end. */
static void run_steps(struct wsc_vm *vm, uint64_t now)
{
	struct wsc_observation *o = &vm->r->obs;
	const struct wsc_case *c = vm->c;
	while (vm->step < c->n_steps && vm->wait_state == 0 && !vm->tcp_closed) {
		const struct wsc_step *st = &c->steps[vm->step];
		switch (st->kind) {
		case WSC_STEP_SEND:
			step_send(vm, now, &st->u.send);
			break;
		case WSC_STEP_RAW:
			step_raw(vm, &st->u.raw);
			break;
		case WSC_STEP_CHOP:
			vm->chop = st->u.chop;
			break;
		case WSC_STEP_WAIT:
			vm->wait_state = 1; /* flush, then sleep */
			wsc_obs_note(o, rel(vm, now), "CONTINUE AFTER %.3f s%s%s",
			             st->u.wait.ms / 1000.0, st->u.wait.mark[0] ? " MARK " : "",
			             st->u.wait.mark);
			break;
		case WSC_STEP_KILL:
			vm->t_kill = now + (uint64_t)st->u.ms * 1000u;
			wsc_obs_note(o, rel(vm, now), "KILL AFTER %.3f s", st->u.ms / 1000.0);
			break;
		case WSC_STEP_CLOSEAFTER:
			vm->t_closeafter = now + (uint64_t)st->u.ms * 1000u;
			wsc_obs_note(o, rel(vm, now), "CLOSE AFTER %.3f s", st->u.ms / 1000.0);
			break;
		case WSC_STEP_ROUNDTRIP:
			/* runs until its last echo; wsc_vm_x_step_done() moves on */
			vm->wait_state = 3;
			wsc_vmx_roundtrip(vm, now, st->u.rt);
			return;
		}
		if (vm->wait_state == 0)
			vm->step++;
	}
	vm->seg_open = false; /* a burst ends at a wait or when the steps run out */
	flush(vm, now);
}

/*
 * After every received event: once all steps ran, if what we received equals
 * every alternative and we are the one to close, close with 1000.
 */
static void check_done(struct wsc_vm *vm, uint64_t now)
{
	const struct wsc_case *c = vm->c;
	const struct wsc_observation *o = &vm->r->obs;
	if (vm->step < c->n_steps || vm->wait_state != 0 || !ws_open(vm) || c->n_alts == 0)
		return;
	for (size_t i = 0; i < c->n_alts; i++)
		if (!wsc_alt_matches(&c->alts[i], o->events, o->n_events))
			return;
	if (c->close.set && !c->close.closed_by_me)
		return;
	send_close(vm, now, 1000, NULL, 0);
}

/* ------------------------------------------------------------- receive */

static void on_peer_close(struct wsc_vm *vm, uint64_t now, const struct wsc_rd_event *ev)
{
	struct wsc_observation *o = &vm->r->obs;
	if (vm->close_rcvd)
		return;
	o->remote_close_code = ev->close_code;
	if (ev->reason_len && !ev->fail_code) {
		free(o->remote_close_reason);
		o->remote_close_reason = malloc(ev->reason_len);
		if (o->remote_close_reason) {
			memcpy(o->remote_close_reason, ev->reason, ev->reason_len);
			o->remote_close_reason_len = ev->reason_len;
		}
	}
	if (ev->fail_code) {
		bool was_open = ws_open(vm);
		fail(vm, now, ev->fail_code, ev->text, ev->text);
		if (!was_open)
			return; /* we were closing: fail() dropped TCP */
		                /* Autobahn goes on and takes the bad Close as the reply to ours. */
	}
	vm->close_rcvd = true;
	if (vm->close_sent) {
		vm->t_close_hs = 0;
	} else {
		int code = ev->close_code == 1005 ? 1000 : ev->close_code;
		send_close(vm, now, code, NULL, 0);
	}
	o->was_clean = true;
	if (vm->is_server)
		vm->drop_after_flush = true;
	else
		vm->t_srv_drop = now + WSC_SERVER_DROP_TIMEOUT_US;
	flush(vm, now);
}

static void on_event(struct wsc_vm *vm, uint64_t now, const struct wsc_rd_event *ev)
{
	struct wsc_observation *o = &vm->r->obs;
	uint64_t t = rel(vm, now);
	switch (ev->kind) {
	case WSC_RD_FRAME: /* logged by feed_frames() */
		break;
	case WSC_RD_MESSAGE: {
		if (o->failed_by_me)
			break;
		struct wsc_rd_event m = *ev; /* inflated by wsc_vmx_on_message() if RSV1 */
		if (wsc_vmx_on_message(vm, now, &m) != 0)
			break;
		wsc_obs_add_event(o, m.opcode == 1 ? WSC_EV_TEXT : WSC_EV_BINARY, m.data, m.len, t);
		check_done(vm, now);
		break;
	}
	case WSC_RD_PONG:
		if (o->failed_by_me || wsc_vmx_on_pong(vm))
			break;
		wsc_obs_add_event(o, WSC_EV_PONG, ev->data, ev->len, t);
		check_done(vm, now);
		break;
	case WSC_RD_PING:
		if (ws_open(vm)) {
			send_frame(vm, now, 10, ev->data, ev->len);
			flush(vm, now);
		}
		break;
	case WSC_RD_CLOSE:
		on_peer_close(vm, now, ev);
		break;
	case WSC_RD_ERROR:
		if (vm->close_rcvd)
			break; /* after the peer's Close nothing it sends matters */
		fail(vm, now, ev->fail_code, ev->text, ev->text);
		break;
	case WSC_RD_NEED_MORE:
		break;
	}
}

static void feed_frames(struct wsc_vm *vm, uint64_t now, const uint8_t *p, size_t n)
{
	size_t off = 0;
	while (!vm->tcp_closed) {
		struct wsc_rd_event ev;
		size_t used;
		enum wsc_rd_kind k = wsc_reader_next(&vm->rd, p + off, n - off, &used, &ev);
		off += used;
		if (k == WSC_RD_NEED_MORE)
			break;
		/* The FRAME entry must hold only the kept head. */
		if (k == WSC_RD_FRAME) {
			const struct wsc_rd_frame *f = &ev.frame;
			if (vm->bad_response && f->opcode != 8 && !vm->r->obs.failed_by_me)
				fail(vm, now, 1002, "frame after an invalid handshake",
				     "the client sent a WebSocket frame (not a Close) after an "
				     "invalid opening handshake answer: it did not fail the "
				     "connection");
			size_t full = f->len < SIZE_MAX ? (size_t)f->len : SIZE_MAX;
			struct wsc_observation *o = &vm->r->obs;
			wsc_obs_wire_frame(o, false, f->opcode, f->rsv, f->fin, f->masked, f->mask,
			                   f->head, f->head_len, rel(vm, now));
			if (o->n_wire > 0 && o->wire[o->n_wire - 1].kind == WSC_WIRE_RX_FRAME)
				o->wire[o->n_wire - 1].full_len = full;
			continue;
		}
		on_event(vm, now, &ev);
	}
}

/* ------------------------------------------------------------- handshake (client) */

static bool dropped_header(const struct wsc_handshake *hs, const char *name)
{
	for (size_t i = 0; i < hs->n_drop_headers; i++)
		if (wsc_ascii_ieq(hs->drop_headers[i], strlen(hs->drop_headers[i]), name))
			return true;
	return false;
}

static void replace_all(struct wsc_buf *out, const uint8_t *p, size_t n, const char *hostport,
                        const char *key)
{
	for (size_t i = 0; i < n;) {
		if (n - i >= 6 && memcmp(p + i, "{host}", 6) == 0) {
			wsc_buf_append(out, hostport, strlen(hostport));
			i += 6;
		} else if (n - i >= 5 && memcmp(p + i, "{key}", 5) == 0) {
			wsc_buf_append(out, key, strlen(key));
			i += 5;
		} else {
			wsc_buf_append(out, p + i, 1);
			i++;
		}
	}
}

static void build_request(struct wsc_vm *vm, struct wsc_buf *req)
{
	const struct wsc_handshake *hs = &vm->c->hs;
	const struct wsc_url *u = vm->env->url;
	if (hs->has_raw_request) {
		replace_all(req, hs->raw_request.p, hs->raw_request.n, u->hostport, vm->key);
		return;
	}
	if (hs->request_line)
		wsc_buf_printf(req, "%s\r\n", hs->request_line);
	else
		wsc_buf_printf(req, "GET %s HTTP/1.1\r\n", u->path);
	if (!dropped_header(hs, "Host"))
		wsc_buf_printf(req, "Host: %s\r\n", u->hostport);
	if (!dropped_header(hs, "Upgrade"))
		wsc_buf_printf(req, "Upgrade: websocket\r\n");
	if (!dropped_header(hs, "Connection"))
		wsc_buf_printf(req, "Connection: Upgrade\r\n");
	if (!dropped_header(hs, "Sec-WebSocket-Key"))
		wsc_buf_printf(req, "Sec-WebSocket-Key: %s\r\n", vm->key);
	if (!dropped_header(hs, "Sec-WebSocket-Version"))
		wsc_buf_printf(req, "Sec-WebSocket-Version: 13\r\n");
	if (!dropped_header(hs, "User-Agent"))
		wsc_buf_printf(req, "User-Agent: wsconform/%s\r\n", WSC_VERSION);
	if (hs->n_protocols) {
		wsc_buf_printf(req, "Sec-WebSocket-Protocol: ");
		for (size_t i = 0; i < hs->n_protocols; i++)
			wsc_buf_printf(req, "%s%s", i ? ", " : "", hs->protocols[i]);
		wsc_buf_printf(req, "\r\n");
	}
	if (hs->n_offers) {
		wsc_buf_printf(req, "Sec-WebSocket-Extensions: ");
		for (size_t i = 0; i < hs->n_offers; i++)
			wsc_buf_printf(req, "%s%s", i ? ", " : "", hs->offers[i]);
		wsc_buf_printf(req, "\r\n");
	}
	for (size_t i = 0; i < hs->n_add_headers; i++)
		wsc_buf_printf(req, "%s\r\n", hs->add_headers[i]);
	wsc_buf_printf(req, "\r\n");
}

static void on_connected(struct wsc_vm *vm, uint64_t now)
{
	struct wsc_observation *o = &vm->r->obs;
	o->connected = true;
	wsc_obs_note(o, rel(vm, now), "TCP CONNECTED");
	uint8_t raw[16];
	wsc_random(raw, sizeof(raw));
	wsc_base64(raw, sizeof(raw), vm->key, sizeof(vm->key));
	struct wsc_buf req;
	wsc_buf_init(&req);
	build_request(vm, &req);
	o->http_request = malloc(req.len + 1);
	if (o->http_request) {
		memcpy(o->http_request, req.p, req.len);
		o->http_request[req.len] = '\0';
	}
	wsc_buf_append(&vm->tx, req.p, req.len);
	wsc_buf_free(&req);
	queue_unit(vm, (struct wsc_chop){.kind = WSC_CHOP_FRAME});
	vm->phase = WSC_VM_HANDSHAKE;
	flush(vm, now);
}

static void hs_fail(struct wsc_vm *vm, uint64_t now, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void hs_fail(struct wsc_vm *vm, uint64_t now, const char *fmt, ...)
{
	struct wsc_observation *o = &vm->r->obs;
	char msg[300];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	set_str(&o->handshake_error, msg);
	set_str(&o->was_not_clean_reason, msg);
	wsc_obs_note(o, rel(vm, now), "OPENING HANDSHAKE FAILED: %s", msg);
	drop(vm, now);
}

/* A complete response head of hlen bytes sits at vm->head.p; rest follows. */
static void on_response(struct wsc_vm *vm, uint64_t now, size_t hlen)
{
	struct wsc_observation *o = &vm->r->obs;
	const char *h = (const char *)vm->head.p;
	o->http_response = malloc(hlen + 1);
	if (o->http_response) {
		memcpy(o->http_response, h, hlen);
		o->http_response[hlen] = '\0';
	}
	int status = 0;
	bool http11 = hlen >= 12 && memcmp(h, "HTTP/1.1 ", 9) == 0;
	if (hlen >= 12 && (memcmp(h, "HTTP/1.", 7) == 0) && h[8] == ' ' && h[9] >= '0' &&
	    h[9] <= '9' && h[10] >= '0' && h[10] <= '9' && h[11] >= '0' && h[11] <= '9')
		status = (h[9] - '0') * 100 + (h[10] - '0') * 10 + (h[11] - '0');
	o->http_status = status;
	if (!wsc_case_expects_101(vm->c)) {
		wsc_obs_note(o, rel(vm, now), "HTTP RESPONSE %d (CASE ENDS HERE)", status);
		drop(vm, now);
		return;
	}
	if (status == 0) {
		hs_fail(vm, now, "malformed HTTP status line");
		return;
	}
	if (status != 101) {
		hs_fail(vm, now, "peer answered HTTP status %d instead of 101", status);
		return;
	}
	if (!http11) {
		hs_fail(vm, now, "status line is not HTTP/1.1");
		return;
	}
	const char *v;
	size_t vl;
	if (wsc_http_header(h, hlen, "Upgrade", &v, &vl) == 0) {
		hs_fail(vm, now, "HTTP Upgrade header missing");
		return;
	}
	if (!wsc_ascii_ieq(v, vl, "websocket")) {
		hs_fail(vm, now, "HTTP Upgrade header is not 'websocket'");
		return;
	}
	if (wsc_http_header(h, hlen, "Connection", &v, &vl) == 0) {
		hs_fail(vm, now, "HTTP Connection header missing");
		return;
	}
	if (!wsc_http_has_token(v, vl, "upgrade")) {
		hs_fail(vm, now, "HTTP Connection header does not include 'upgrade'");
		return;
	}
	int n_acc = wsc_http_header(h, hlen, "Sec-WebSocket-Accept", &v, &vl);
	if (n_acc == 0) {
		hs_fail(vm, now, "HTTP Sec-WebSocket-Accept header missing");
		return;
	}
	if (n_acc > 1) {
		hs_fail(vm, now, "HTTP Sec-WebSocket-Accept header appears more than once");
		return;
	}
	char want[29];
	wsc_ws_accept(vm->key, strlen(vm->key), want);
	if (vl != 28 || memcmp(v, want, 28) != 0) {
		hs_fail(vm, now, "HTTP Sec-WebSocket-Accept bogus value: '%.*s' (expected %s)",
		        (int)(vl > 60 ? 60 : vl), v, want);
		return;
	}
	o->handshake_done = true;
	vm->t_open_hs = 0;
	vm->t_open = now;
	vm->phase = WSC_VM_WS;
	wsc_obs_note(o, rel(vm, now), "WEBSOCKET OPEN");
	o->preopen_rx = o->rx_octets;
	o->preopen_tx = o->tx_octets;
	uint8_t allowed_rsv = 0;
	char xerr[300];
	int xrc = wsc_vmx_open(vm, h, hlen, &allowed_rsv, xerr, sizeof(xerr));
	if (xrc < 0) {
		o->handshake_done = false;
		hs_fail(vm, now, "%s", xerr);
		return;
	}
	wsc_reader_init(&vm->rd, vm->is_server, allowed_rsv, vm->env->max_message);
	vm->rd.close_codes_2018 = vm->env->close_codes_2018;
	if (xrc == 1) {
		/* a required extension was declined: nothing to test, close at once */
		vm->step = vm->c->n_steps;
		send_close(vm, now, 1000, NULL, 0);
		flush(vm, now);
	} else {
		run_steps(vm, now);
	}
	size_t rest = vm->head.len - hlen;
	if (rest && !vm->tcp_closed) {
		/* frames that came with the response head */
		struct wsc_buf tmp;
		wsc_buf_init(&tmp);
		if (wsc_buf_append(&tmp, vm->head.p + hlen, rest) == 0)
			feed_frames(vm, now, tmp.p, tmp.len);
		wsc_buf_free(&tmp);
	}
	wsc_buf_free(&vm->head);
}

static void on_handshake_bytes(struct wsc_vm *vm, uint64_t now, const uint8_t *p, size_t n)
{
	size_t old = vm->head.len;
	if (wsc_buf_append(&vm->head, p, n) < 0) {
		hs_fail(vm, now, "out of memory reading the response head");
		return;
	}
	/* search for the blank line, starting a little before the new bytes */
	size_t from = old >= 3 ? old - 3 : 0;
	const uint8_t *h = vm->head.p;
	for (size_t i = from; i + 4 <= vm->head.len; i++) {
		if (h[i] == '\r' && h[i + 1] == '\n' && h[i + 2] == '\r' && h[i + 3] == '\n') {
			on_response(vm, now, i + 4);
			return;
		}
	}
	if (vm->head.len > HEAD_MAX)
		hs_fail(vm, now, "response head larger than %u bytes", HEAD_MAX);
}

/* ------------------------------------------------------------- connect */

static void connect_start(struct wsc_vm *vm)
{
	vm->connect_tries++;
	wsc_net_connect(&vm->net, vm->env->net); /* failure: state CLOSED, see callers */
}

static void connect_failed(struct wsc_vm *vm, uint64_t now)
{
	struct wsc_observation *o = &vm->r->obs;
	wsc_obs_note(o, rel(vm, now), "CONNECT FAILED: %s", vm->net.err);
	bool tls_failed = vm->net.tcp_ok; /* TCP was fine: retrying will not help */
	wsc_net_close(&vm->net);
	unsigned tries = vm->env->connect_tries ? vm->env->connect_tries : 1;
	if (vm->connect_tries < tries && !tls_failed) {
		/* 50, 100, 200, ... ms */
		vm->t_retry =
		        now + (50000u << (vm->connect_tries - 1 < 6 ? vm->connect_tries - 1 : 6));
		return;
	}
	vm->connect_failed = true;
	char msg[220];
	snprintf(msg, sizeof(msg), "could not connect: %s", vm->net.err);
	set_str(&o->handshake_error, msg);
	set_str(&o->was_not_clean_reason, msg);
	vm->tcp_closed = true;
	vm->phase = WSC_VM_DONE;
	vm->t_deadline = vm->t_open_hs = vm->t_retry = 0;
}

void wsc_vm_start_client(struct wsc_vm *vm, const struct wsc_case *c, struct wsc_result *r,
                         const struct wsc_vm_env *env, uint64_t now)
{
	memset(vm, 0, sizeof(*vm));
	vm->c = c;
	vm->r = r;
	vm->env = env;
	vm->is_server = false;
	vm->net.fd = -1;
	vm->t0 = now;
	r->obs.started_unix_ms = wsc_unix_ms();
	double scale = env->timeout_scale > 0 ? env->timeout_scale : 1.0;
	/* the case's deadline, at least 10 s, times the scale (floor 1 s) */
	double ms = (c->timeout_ms > 10000u ? c->timeout_ms : 10000u) * scale;
	if (ms < 1000)
		ms = 1000;
	vm->t_deadline = now + (uint64_t)(ms * 1000.0);
	vm->t_open_hs = now + WSC_OPEN_HS_TIMEOUT_US;
	vm->phase = WSC_VM_CONNECT;
	connect_start(vm);
	if (vm->net.state == WSC_NET_CLOSED)
		connect_failed(vm, now);
}

/* ------------------------------------------------------------- server start */

void wsc_vm_start_server(struct wsc_vm *vm, const struct wsc_case *c, struct wsc_result *r,
                         const struct wsc_vm_env *env, int fd, const char *req, size_t reqlen,
                         const uint8_t *resp, size_t resplen, const uint8_t *extra, size_t n_extra,
                         uint64_t now)
{
	struct wsc_observation *o = &r->obs;
	memset(vm, 0, sizeof(*vm));
	vm->c = c;
	vm->r = r;
	vm->env = env;
	vm->is_server = true;
	vm->bad_response = c->resp.must_fail;
	vm->net.fd = fd;
	vm->net.state = WSC_NET_READY;
	vm->net.tcp_ok = true;
	vm->t0 = now;
	o->started_unix_ms = wsc_unix_ms();
	double scale = env->timeout_scale > 0 ? env->timeout_scale : 1.0;
	double ms = (c->timeout_ms > 10000u ? c->timeout_ms : 10000u) * scale;
	if (ms < 1000)
		ms = 1000;
	vm->t_deadline = now + (uint64_t)(ms * 1000.0);
	o->connected = true;
	o->http_request = malloc(reqlen + 1);
	if (o->http_request) {
		memcpy(o->http_request, req, reqlen);
		o->http_request[reqlen] = '\0';
	}
	o->http_response = malloc(resplen + 1);
	if (o->http_response) {
		memcpy(o->http_response, resp, resplen);
		o->http_response[resplen] = '\0';
	}
	o->handshake_done = true; /* as server: our answer went out */
	wsc_obs_note(o, 0, "TCP ACCEPTED");
	wsc_buf_append(&vm->tx, resp, resplen);
	queue_unit(vm, (struct wsc_chop){.kind = WSC_CHOP_FRAME});
	vm->phase = WSC_VM_WS;
	vm->t_open = now;
	wsc_obs_note(o, 0,
	             vm->bad_response ? "INVALID OPENING HANDSHAKE ANSWER SENT" : "WEBSOCKET OPEN");
	wsc_reader_init(&vm->rd, true, 0, env->max_message);
	vm->rd.close_codes_2018 = env->close_codes_2018;
	run_steps(vm, now);
	if (n_extra && !vm->tcp_closed)
		feed_frames(vm, now, extra, n_extra);
}

/* ------------------------------------------------------------- poll glue */

int wsc_vm_fd(const struct wsc_vm *vm)
{
	return vm->phase == WSC_VM_DONE ? -1 : vm->net.fd;
}

short wsc_vm_events(const struct wsc_vm *vm)
{
	if (vm->phase == WSC_VM_DONE || vm->net.fd < 0)
		return 0;
	bool out = vm->n_seg > 0 && vm->t_pace == 0;
	return wsc_net_events(&vm->net, out);
}

bool wsc_vm_pending(const struct wsc_vm *vm)
{
	return vm->phase != WSC_VM_DONE && wsc_net_pending(&vm->net);
}

static void on_readable(struct wsc_vm *vm, uint64_t now)
{
	uint8_t buf[65536];
	size_t budget = 1u << 20; /* bytes per wake-up: others get their turn */
	while (!vm->tcp_closed && vm->phase != WSC_VM_DONE) {
		ssize_t n = wsc_net_read(&vm->net, buf, sizeof(buf));
		if (n == WSC_NET_AGAIN)
			return;
		if (n <= 0) {
			char why[200] = "";
			if (n < 0)
				snprintf(why, sizeof(why), "READ FAILED: %s", vm->net.err);
			if (vm->phase == WSC_VM_HANDSHAKE)
				set_str(&vm->r->obs.handshake_error,
				        n < 0 ? why
				              : "peer closed the connection during the opening "
				                "handshake");
			tcp_closed(vm, now, false, n < 0 ? why : NULL);
			return;
		}
		wsc_obs_wire_octets(&vm->r->obs, false, buf, (size_t)n, rel(vm, now));
		if (vm->phase == WSC_VM_HANDSHAKE)
			on_handshake_bytes(vm, now, buf, (size_t)n);
		else if (vm->phase == WSC_VM_WS)
			feed_frames(vm, now, buf, (size_t)n);
		if ((size_t)n >= budget)
			return;
		budget -= (size_t)n;
	}
}

void wsc_vm_io(struct wsc_vm *vm, short revents, uint64_t now)
{
	if (vm->phase == WSC_VM_DONE)
		return;
	if (vm->phase == WSC_VM_CONNECT) {
		int rc = wsc_net_progress(&vm->net);
		if (rc < 0) {
			connect_failed(vm, now);
			return;
		}
		if (rc == 0)
			return;
		on_connected(vm, now);
		if (vm->phase == WSC_VM_DONE)
			return;
	}
	if ((revents & (POLLIN | POLLHUP | POLLERR)) || wsc_net_pending(&vm->net))
		on_readable(vm, now);
	if (!vm->tcp_closed && vm->n_seg > 0)
		flush(vm, now);
}

/* ------------------------------------------------------------- timers */

uint64_t wsc_vm_deadline(const struct wsc_vm *vm)
{
	const uint64_t t[] = {vm->t_deadline, vm->t_open_hs, vm->t_retry,      vm->t_pace,
	                      vm->t_wait,     vm->t_kill,    vm->t_closeafter, vm->t_close_hs,
	                      vm->t_srv_drop, vm->t_rt};
	uint64_t best = 0;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (t[i] && (!best || t[i] < best))
			best = t[i];
	return best;
}

static void on_deadline(struct wsc_vm *vm, uint64_t now)
{
	struct wsc_observation *o = &vm->r->obs;
	char msg[160];
	snprintf(msg, sizeof(msg), "case deadline of %.3f s exceeded",
	         (double)(vm->t_deadline - vm->t0) / 1e6);
	wsc_obs_note(o, rel(vm, now), "CASE DEADLINE EXCEEDED");
	if (vm->phase < WSC_VM_WS)
		set_str(&o->handshake_error, msg);
	o->was_clean = false;
	free(o->was_not_clean_reason);
	o->was_not_clean_reason = NULL;
	set_str(&o->was_not_clean_reason, msg);
	if (vm->phase == WSC_VM_CONNECT && vm->net.fd < 0 && !o->connected) {
		vm->connect_failed = true;
		vm->tcp_closed = true;
		vm->phase = WSC_VM_DONE;
		return;
	}
	drop(vm, now);
}

static void on_open_hs_timeout(struct wsc_vm *vm, uint64_t now)
{
	struct wsc_observation *o = &vm->r->obs;
	o->open_handshake_timeout = true;
	o->was_clean = false;
	set_str(&o->was_not_clean_reason, "peer did not finish (in time) the opening handshake");
	if (!o->connected) {
		snprintf(vm->net.err, sizeof(vm->net.err), "connect timed out");
		vm->connect_tries = UINT32_MAX; /* no more retries */
		set_str(&o->handshake_error, "opening handshake timed out (no TCP connection)");
		wsc_obs_note(o, rel(vm, now), "OPENING HANDSHAKE TIMEOUT");
		connect_failed(vm, now);
		return;
	}
	set_str(&o->handshake_error, "opening handshake timed out");
	wsc_obs_note(o, rel(vm, now), "OPENING HANDSHAKE TIMEOUT");
	drop(vm, now);
}

static void on_wait_done(struct wsc_vm *vm, uint64_t now)
{
	const struct wsc_step *st = &vm->c->steps[vm->step];
	vm->wait_state = 0;
	if (!ws_open(vm)) {
		/* the connection is closing or closed: the rest is skipped */
		vm->step = vm->c->n_steps;
		return;
	}
	if (st->u.wait.mark[0])
		wsc_obs_add_event(&vm->r->obs, WSC_EV_TIMEOUT, (const uint8_t *)st->u.wait.mark,
		                  strlen(st->u.wait.mark), rel(vm, now));
	vm->step++;
	run_steps(vm, now);
}

static void on_kill(struct wsc_vm *vm, uint64_t now)
{
	wsc_obs_note(&vm->r->obs, rel(vm, now), "KILL TIMER FIRED");
	fail(vm, now, 1001, "Going Away", NULL);
}

static void on_closeafter(struct wsc_vm *vm, uint64_t now)
{
	wsc_obs_note(&vm->r->obs, rel(vm, now), "CLOSE TIMER FIRED");
	if (ws_open(vm)) {
		send_close(vm, now, -1, NULL, 0);
		flush(vm, now);
	}
}

static void on_close_hs_timeout(struct wsc_vm *vm, uint64_t now)
{
	struct wsc_observation *o = &vm->r->obs;
	o->was_clean = false;
	o->close_handshake_timeout = true;
	set_str(&o->was_not_clean_reason, "peer did not respond (in time) in closing handshake");
	wsc_obs_note(o, rel(vm, now), "CLOSING HANDSHAKE TIMEOUT");
	drop(vm, now);
}

static void on_srv_drop_timeout(struct wsc_vm *vm, uint64_t now)
{
	struct wsc_observation *o = &vm->r->obs;
	o->was_clean = false;
	o->server_drop_timeout = true;
	free(o->was_not_clean_reason);
	o->was_not_clean_reason = NULL;
	set_str(&o->was_not_clean_reason, "server did not drop TCP connection (in time)");
	wsc_obs_note(o, rel(vm, now), "SERVER DROP TIMEOUT");
	drop(vm, now);
}

void wsc_vm_timers(struct wsc_vm *vm, uint64_t now)
{
	for (;;) {
		if (vm->phase == WSC_VM_DONE)
			return;
		uint64_t *slots[] = {&vm->t_deadline,   &vm->t_open_hs,  &vm->t_retry,
		                     &vm->t_pace,       &vm->t_wait,     &vm->t_kill,
		                     &vm->t_closeafter, &vm->t_close_hs, &vm->t_srv_drop,
		                     &vm->t_rt};
		size_t best = SIZE_MAX;
		for (size_t i = 0; i < sizeof(slots) / sizeof(slots[0]); i++)
			if (*slots[i] && *slots[i] <= now &&
			    (best == SIZE_MAX || *slots[i] < *slots[best]))
				best = i;
		if (best == SIZE_MAX)
			return;
		*slots[best] = 0;
		switch (best) {
		case 0:
			on_deadline(vm, now);
			break;
		case 1:
			if (vm->phase < WSC_VM_WS)
				on_open_hs_timeout(vm, now);
			break;
		case 2:
			connect_start(vm);
			if (vm->net.state == WSC_NET_CLOSED)
				connect_failed(vm, now);
			break;
		case 3:
			flush(vm, now);
			break;
		case 4:
			on_wait_done(vm, now);
			break;
		case 5:
			on_kill(vm, now);
			break;
		case 6:
			on_closeafter(vm, now);
			break;
		case 7:
			if (!vm->close_rcvd)
				on_close_hs_timeout(vm, now);
			break;
		case 8:
			on_srv_drop_timeout(vm, now);
			break;
		case 9:
			wsc_vmx_rt_timeout(vm, now);
			break;
		}
	}
}

void wsc_vm_abort(struct wsc_vm *vm, uint64_t now, const char *why)
{
	struct wsc_observation *o = &vm->r->obs;
	o->target_crashed = true;
	if (vm->phase == WSC_VM_DONE)
		return;
	wsc_obs_note(o, rel(vm, now), "ABORTED: %s", why);
	if (vm->phase < WSC_VM_WS)
		set_str(&o->handshake_error, why);
	o->was_clean = false;
	set_str(&o->was_not_clean_reason, why);
	if (vm->net.fd < 0) {
		vm->tcp_closed = true;
		vm->phase = WSC_VM_DONE;
		return;
	}
	drop(vm, now);
}

bool wsc_vm_done(const struct wsc_vm *vm)
{
	return vm->phase == WSC_VM_DONE;
}

void wsc_vm_free(struct wsc_vm *vm)
{
	wsc_net_close(&vm->net);
	wsc_reader_free(&vm->rd);
	wsc_buf_free(&vm->head);
	wsc_buf_free(&vm->tx);
	wsc_buf_free(&vm->dump);
	wsc_vmx_free(vm);
	free(vm->seg);
	vm->seg = NULL;
	vm->n_seg = vm->cap_seg = 0;
}

/* ------------------------------------------------------------- roundtrip.c glue */

void wsc_vm_x_send(struct wsc_vm *vm, uint64_t now, uint8_t opcode, uint8_t rsv, const uint8_t *p,
                   size_t n, uint32_t frag, const struct wsc_chop *chop)
{
	if (!ws_open(vm))
		return;
	struct wsc_wframe f = {
	        .opcode = opcode,
	        .rsv = rsv,
	        .fin = true,
	        .mask = auto_mask(vm),
	        .payload = p,
	        .payload_len = n,
	};
	struct tx_ctx t = {.vm = vm, .now = now, .chop = chop ? *chop : vm->chop};
	if (vm->tx_off == vm->tx.len && vm->n_seg == 0)
		vm->tx.len = vm->tx_off = 0;
	if (wsc_wire_write_frags(&vm->tx, &f, frag, on_tx_frame, &t) < 0)
		wsc_obs_note(&vm->r->obs, rel(vm, now), "OUT OF MEMORY BUILDING FRAME");
	vm->seg_open = false;
	flush(vm, now);
}

void wsc_vm_x_fail(struct wsc_vm *vm, uint64_t now, int code, const char *reason,
                   const char *violation)
{
	fail(vm, now, code, reason, violation);
}

void wsc_vm_x_close(struct wsc_vm *vm, uint64_t now)
{
	vm->step = vm->c->n_steps;
	vm->wait_state = 0;
	if (ws_open(vm)) {
		send_close(vm, now, 1000, NULL, 0);
		flush(vm, now);
	}
}

void wsc_vm_x_step_done(struct wsc_vm *vm, uint64_t now)
{
	vm->wait_state = 0;
	vm->step++;
	run_steps(vm, now);
	check_done(vm, now);
}
