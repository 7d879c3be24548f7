/*
 * vm.h - one case on one connection: the step VM and the connection state
 * machine (connect, opening handshake, steps, receive, close bookkeeping).
 *
 * A wsc_vm never blocks and never sleeps: the scheduler (sched.c) polls its
 * descriptor for wsc_vm_events(), calls wsc_vm_io() when it is ready and
 * wsc_vm_timers() when wsc_vm_deadline() has passed. Every timer is an
 * absolute deadline on the monotonic clock (wsc_now_us()), so many cases in
 * flight never disturb each other's timing.
 *
 * Role: the harness plays the client (testing a server). Client-only parts
 * (connect, upgrade request, response check, "wait for the server to close
 * TCP") are marked; the server role adds an accepted descriptor, a request
 * check and a 101 answer, and flips masking (frames unmasked, peer frames
 * must be masked) through `is_server`.
 */
#ifndef WSC_VM_H
#define WSC_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "case.h"
#include "engine.h"
#include "net.h"
#include "result.h"
#include "util.h"
#include "wire.h"

/* Settings shared by every case of a run (borrowed, outlive the VMs). */
struct wsc_vm_env {
	const struct wsc_url *url;
	const struct wsc_net_ctx *net;
	double timeout_scale;
	const char *dump_dir;      /* NULL: no seed dump */
	size_t max_message;        /* 0: reader default (64 MiB) */
	unsigned connect_tries;    /* attempts before giving up on connect */
	bool close_codes_2018;     /* accept 1012-1014 from the peer (IANA); Autobahn does not */
	uint64_t peer_max_message; /* the peer's declared message limit (--max-message), 0: unknown
	                            */
	uint32_t rt_cap; /* --round-trips: messages per round trip at most, 0: as written */
};

/* Autobahn's engine timers (microseconds). */
#define WSC_OPEN_HS_TIMEOUT_US     5000000u
#define WSC_CLOSE_HS_TIMEOUT_US    1000000u
#define WSC_SERVER_DROP_TIMEOUT_US 1000000u
/* Gap between successive chopped writes (Autobahn: 10 us reactor timer). */
#define WSC_PACE_US 60u

enum wsc_vm_phase { WSC_VM_CONNECT = 0, WSC_VM_HANDSHAKE, WSC_VM_WS, WSC_VM_DONE };

struct wsc_vm_seg {
	size_t end;     /* absolute offset in tx where this segment ends */
	uint32_t chunk; /* bytes per write (0: all at once) */
};

struct wsc_vm {
	const struct wsc_case *c;     /* borrowed */
	struct wsc_result *r;         /* borrowed; the VM fills r->obs */
	const struct wsc_vm_env *env; /* borrowed */
	bool is_server;
	enum wsc_vm_phase phase;
	struct wsc_net net;
	unsigned connect_tries;
	bool connect_failed; /* never got a TCP connection (r->obs.handshake_error says why) */

	uint64_t t0;         /* case start (monotonic us) */
	uint64_t t_open;     /* 101 received */
	char key[32];        /* Sec-WebSocket-Key we sent */
	struct wsc_buf head; /* response head being collected */

	struct wsc_reader rd;

	/* output: bytes not yet written, cut into write segments */
	struct wsc_buf tx;
	size_t tx_off;
	struct wsc_vm_seg *seg;
	size_t n_seg, cap_seg;
	bool seg_open;       /* the last segment is a burst still taking bytes */
	struct wsc_buf dump; /* every byte sent after the handshake (seed dump) */

	/* steps */
	size_t step;
	struct wsc_chop chop;
	int wait_state; /* 0 none, 1 flushing, 2 sleeping */
	/* a frame whose declared length exceeds its payload: raw bytes continue it */
	uint64_t open_left, open_off;
	bool open_masked;
	uint8_t open_key[4];

	/* close bookkeeping */
	bool close_sent, close_rcvd, tcp_closed;
	bool drop_after_flush;

	/* deadlines, 0 = not armed */
	uint64_t t_deadline, t_open_hs, t_retry, t_pace, t_wait, t_kill, t_closeafter, t_close_hs,
	        t_srv_drop;

	/* server role: our answer was invalid on purpose; any non-Close frame fails the client */
	bool bad_response;

	/* permessage-deflate and `roundtrip` (roundtrip.c) */
	uint64_t t_rt;     /* round-trip timeout, 0 = not armed */
	struct wsc_vmx *x; /* owned; NULL until the WebSocket opened */
};

/*
 * Start case c as a client: fills r->obs from now on. Returns 0; a connect
 * that cannot even start is handled inside (retries, then the case ends with
 * connect_failed). Never fails otherwise.
 */
void wsc_vm_start_client(struct wsc_vm *vm, const struct wsc_case *c, struct wsc_result *r,
                         const struct wsc_vm_env *env, uint64_t now);
/*
 * Start case c as the server on an accepted, non-blocking TCP descriptor fd
 * (owned by the VM from now on, closed by it). The caller has read the
 * client's request head (req, reqlen: copied into r->obs) and built the
 * answer (resp, resplen: a 101 or, for c->resp.must_fail, a deliberately
 * invalid one); bytes the client sent after the head are in extra[0..n_extra).
 * The VM writes the answer, then runs the steps with server masking (frames
 * unmasked, the client's frames must be masked). Never fails.
 */
void wsc_vm_start_server(struct wsc_vm *vm, const struct wsc_case *c, struct wsc_result *r,
                         const struct wsc_vm_env *env, int fd, const char *req, size_t reqlen,
                         const uint8_t *resp, size_t resplen, const uint8_t *extra, size_t n_extra,
                         uint64_t now);
/* Descriptor to poll (-1: none right now) and the poll events wanted. */
int wsc_vm_fd(const struct wsc_vm *vm);
short wsc_vm_events(const struct wsc_vm *vm);
/* True if TLS holds bytes poll() cannot see: call wsc_vm_io() without waiting. */
bool wsc_vm_pending(const struct wsc_vm *vm);
/* The descriptor is ready (revents from poll) — or pending bytes wait. */
void wsc_vm_io(struct wsc_vm *vm, short revents, uint64_t now);
/* Earliest armed deadline, or 0. */
uint64_t wsc_vm_deadline(const struct wsc_vm *vm);
/* Run every timer that is due at `now`, in deadline order. */
void wsc_vm_timers(struct wsc_vm *vm, uint64_t now);
/* Stop now: the target died (keep_going() said stop). */
void wsc_vm_abort(struct wsc_vm *vm, uint64_t now, const char *why);
bool wsc_vm_done(const struct wsc_vm *vm);
/* Release buffers (not the result). */
void wsc_vm_free(struct wsc_vm *vm);

/*
 * For roundtrip.c only: queue one data message (mask as the role wants,
 * frag and chop as given, chop NULL = the VM's current chop) and flush; fail
 * the connection; start a normal close (1000); finish the current step and
 * run the next ones.
 */
void wsc_vm_x_send(struct wsc_vm *vm, uint64_t now, uint8_t opcode, uint8_t rsv, const uint8_t *p,
                   size_t n, uint32_t frag, const struct wsc_chop *chop);
void wsc_vm_x_fail(struct wsc_vm *vm, uint64_t now, int code, const char *reason,
                   const char *violation);
void wsc_vm_x_close(struct wsc_vm *vm, uint64_t now);
void wsc_vm_x_step_done(struct wsc_vm *vm, uint64_t now);

#endif
