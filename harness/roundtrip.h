/*
 * roundtrip.h - the VM's permessage-deflate and `roundtrip` machinery
 * (harness side; see cases/README.md and docs/compression.md).
 *
 * vm.c calls these hooks; they call back into vm.c through the wsc_vm_x_*
 * functions declared at the end of vm.h. The state lives in a wsc_vmx that
 * the VM owns (vm->x, allocated at open, released by wsc_vmx_free).
 */
#ifndef WSC_ROUNDTRIP_H
#define WSC_ROUNDTRIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "case.h"
#include "datasets.h"
#include "pmd.h"
#include "util.h"
#include "wire.h"

struct wsc_vm;

struct wsc_vmx {
	bool pmd_on;
	struct wsc_pmd pmd;
	struct wsc_buf zout;     /* compressed payload being sent */
	struct wsc_buf inflated; /* last received message, inflated */

	/* the running `roundtrip` step */
	const struct wsc_roundtrip *rt;
	bool rt_active;
	uint32_t rt_count; /* messages this round trip sends (--round-trips may cut it) */
	uint32_t rt_done;
	uint32_t rt_cached; /* payloads taken from the run's cache (zcache.h) */
	uint64_t rt_size;   /* units per message */
	uint64_t rt_pos;    /* next data set unit */
	uint64_t rt_t0;
	const struct wsc_dataset *ds;
	struct wsc_buf msg; /* the message in flight (app bytes) */
	bool msg_built;     /* pattern sources: built once */
	bool swallow_pongs; /* a ping flood ran: pongs are counted, not events */
};

/*
 * The 101 arrived (head[0..hlen)). Negotiates permessage-deflate against the
 * case's offers. Returns 0 (go on; *allowed_rsv set), 1 (the case requires
 * an extension the peer declined: close at once, UNIMPLEMENTED), or -1 (an
 * invalid answer: err filled, the handshake fails).
 */
int wsc_vmx_open(struct wsc_vm *vm, const char *head, size_t hlen, uint8_t *allowed_rsv, char *err,
                 size_t errlen);

/* A `send` step is about to be framed: compress f's payload when it applies. */
struct wsc_wframe;
void wsc_vmx_prepare_send(struct wsc_vm *vm, const struct wsc_send *s, struct wsc_wframe *f);

/*
 * A complete data message arrived. Inflates it when RSV1 was set (ev->data
 * and ev->len then point at the inflated bytes). Returns 0: deliver it as an
 * event; 1: a round trip consumed it; -1: the connection was failed.
 */
int wsc_vmx_on_message(struct wsc_vm *vm, uint64_t now, struct wsc_rd_event *ev);
/* A pong arrived: true if it is swallowed (ping flood). */
bool wsc_vmx_on_pong(struct wsc_vm *vm);

/* Run a `roundtrip` step (the VM's step pointer stays on it until it ends). */
void wsc_vmx_roundtrip(struct wsc_vm *vm, uint64_t now, const struct wsc_roundtrip *rt);
/* The round trip's timer fired. */
void wsc_vmx_rt_timeout(struct wsc_vm *vm, uint64_t now);

/* TCP closed: a round trip still running fails. */
void wsc_vmx_on_closed(struct wsc_vm *vm, uint64_t now);
void wsc_vmx_free(struct wsc_vm *vm);

#endif
