/*
 * result.c - the result model's helpers: building an observation (events,
 * wire log, notes), releasing results, and collecting them into a run.
 *
 * Memory: every byte stored here is a copy owned by the result. The wire log
 * is bounded: octet and frame entries keep at most WSC_WIRE_KEEP bytes each,
 * and after WSC_WIRE_MAX_ENTRIES entries only notes are still logged (up to
 * WSC_WIRE_MAX_NOTES more), with one "WIRELOG TRUNCATED" note marking the cut.
 * Statistics (octet and frame counts) keep counting past the cut.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "result.h"

#define WSC_WIRE_MAX_ENTRIES 65536u
#define WSC_WIRE_MAX_NOTES   256u

const char *wsc_close_verdict_name(enum wsc_close_verdict v)
{
	switch (v) {
	case WSC_CV_OK:
		return "OK";
	case WSC_CV_FAILED:
		return "FAILED";
	case WSC_CV_UNCLEAN:
		return "UNCLEAN";
	case WSC_CV_WRONG_CODE:
		return "WRONG CODE";
	case WSC_CV_FAILED_BY_CLIENT:
		return "FAILED BY CLIENT";
	case WSC_CV_INFORMATIONAL:
		return "INFORMATIONAL";
	}
	return "FAILED";
}

void wsc_result_init(struct wsc_result *r, const struct wsc_case *c, const char *agent,
                     size_t position, bool is_server)
{
	memset(r, 0, sizeof(*r));
	r->c = c;
	r->agent = agent;
	r->position = position;
	r->is_server = is_server;
	r->ran = true;
	r->behavior = WSC_V_FAILED;
	r->behavior_close = WSC_CV_FAILED;
	r->obs.local_close_code = -1;
	r->obs.remote_close_code = -1;
	r->obs.peer_rss_start_kib = r->obs.peer_rss_peak_kib = -1;
}

/* Grow an array of elem-sized items so that one more fits. */
static int grow(void **arr, size_t *cap, size_t n, size_t elem)
{
	if (n < *cap)
		return 0;
	size_t ncap = *cap ? *cap * 2 : 16;
	if (ncap < *cap || ncap > SIZE_MAX / elem)
		return -1;
	void *p = realloc(*arr, ncap * elem);
	if (!p)
		return -1;
	*arr = p;
	*cap = ncap;
	return 0;
}

static uint8_t *dup_bytes(const uint8_t *data, size_t len)
{
	if (len == 0)
		return NULL;
	uint8_t *p = malloc(len);
	if (p)
		memcpy(p, data, len);
	return p;
}

int wsc_obs_add_event(struct wsc_observation *o, enum wsc_event_kind kind, const uint8_t *data,
                      size_t len, uint64_t t_us)
{
	if (grow((void **)&o->events, &o->cap_events, o->n_events, sizeof(*o->events)) < 0)
		return -1;
	uint8_t *copy = dup_bytes(data, len);
	if (len && !copy)
		return -1;
	struct wsc_obs_event *e = &o->events[o->n_events++];
	e->kind = kind;
	e->data = copy;
	e->len = len;
	e->t_us = t_us;
	return 0;
}

/*
 * A new wire entry, or NULL. *skipped is set when the log is full (not an
 * error: the caller just does not log).
 */
static struct wsc_wire_entry *wire_new(struct wsc_observation *o, bool is_note, bool *skipped)
{
	*skipped = false;
	if (o->n_wire >= WSC_WIRE_MAX_ENTRIES + WSC_WIRE_MAX_NOTES ||
	    (!is_note && o->n_wire >= WSC_WIRE_MAX_ENTRIES)) {
		*skipped = true;
		return NULL;
	}
	if (grow((void **)&o->wire, &o->cap_wire, o->n_wire, sizeof(*o->wire)) < 0)
		return NULL;
	struct wsc_wire_entry *w = &o->wire[o->n_wire];
	memset(w, 0, sizeof(*w));
	return w;
}

/* Log the truncation marker once, when the first non-note entry is refused. */
static int wire_mark_truncated(struct wsc_observation *o, uint64_t t_us)
{
	if (o->n_wire > 0 && o->wire[o->n_wire - 1].kind == WSC_WIRE_NOTE &&
	    o->wire[o->n_wire - 1].note &&
	    strcmp(o->wire[o->n_wire - 1].note, "WIRELOG TRUNCATED") == 0)
		return 0;
	for (size_t i = WSC_WIRE_MAX_ENTRIES; i < o->n_wire; i++)
		if (o->wire[i].note && strcmp(o->wire[i].note, "WIRELOG TRUNCATED") == 0)
			return 0;
	return wsc_obs_note(o, t_us, "WIRELOG TRUNCATED");
}

int wsc_obs_wire_octets(struct wsc_observation *o, bool tx, const uint8_t *data, size_t len,
                        uint64_t t_us)
{
	if (tx)
		o->tx_octets += len;
	else
		o->rx_octets += len;
	if (o->wirelog_off)
		return 0; /* bulk transfer: counted, not logged */
	bool skipped;
	struct wsc_wire_entry *w = wire_new(o, false, &skipped);
	if (skipped)
		return wire_mark_truncated(o, t_us);
	if (!w)
		return -1;
	size_t keep = len < WSC_WIRE_KEEP ? len : WSC_WIRE_KEEP;
	uint8_t *copy = dup_bytes(data, keep);
	if (keep && !copy)
		return -1;
	w->kind = tx ? WSC_WIRE_TX_OCTETS : WSC_WIRE_RX_OCTETS;
	w->t_us = t_us;
	w->data = copy;
	w->len = keep;
	w->full_len = len;
	o->n_wire++;
	return 0;
}

int wsc_obs_wire_frame(struct wsc_observation *o, bool tx, uint8_t opcode, uint8_t rsv, bool fin,
                       bool masked, const uint8_t mask[4], const uint8_t *payload,
                       size_t payload_len, uint64_t t_us)
{
	if (tx)
		o->tx_frames[opcode & 15]++;
	else
		o->rx_frames[opcode & 15]++;
	if (o->wirelog_off)
		return 0;
	bool skipped;
	struct wsc_wire_entry *w = wire_new(o, false, &skipped);
	if (skipped)
		return wire_mark_truncated(o, t_us);
	if (!w)
		return -1;
	size_t keep = payload_len < WSC_WIRE_KEEP ? payload_len : WSC_WIRE_KEEP;
	uint8_t *copy = payload ? dup_bytes(payload, keep) : NULL;
	if (payload && keep && !copy)
		return -1;
	w->kind = tx ? WSC_WIRE_TX_FRAME : WSC_WIRE_RX_FRAME;
	w->t_us = t_us;
	w->data = copy;
	w->len = copy ? keep : 0;
	w->full_len = payload_len;
	w->opcode = opcode & 15;
	w->rsv = rsv & 7;
	w->fin = fin;
	w->masked = masked;
	if (masked && mask)
		memcpy(w->mask, mask, 4);
	o->n_wire++;
	return 0;
}

int wsc_obs_note(struct wsc_observation *o, uint64_t t_us, const char *fmt, ...)
{
	bool skipped;
	struct wsc_wire_entry *w = wire_new(o, true, &skipped);
	if (skipped)
		return 0;
	if (!w)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	char *s = malloc((size_t)n + 1);
	if (!s)
		return -1;
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	w->kind = WSC_WIRE_NOTE;
	w->t_us = t_us;
	w->note = s;
	o->n_wire++;
	return 0;
}

void wsc_result_free(struct wsc_result *r)
{
	if (!r)
		return;
	struct wsc_observation *o = &r->obs;
	free(o->http_request);
	free(o->http_response);
	free(o->handshake_error);
	for (size_t i = 0; i < o->n_events; i++)
		free(o->events[i].data);
	free(o->events);
	free(o->was_not_clean_reason);
	free(o->local_close_reason);
	free(o->remote_close_reason);
	free(o->protocol_violation);
	free(o->extension_missing);
	free(o->roundtrip_error);
	for (size_t i = 0; i < o->n_wire; i++) {
		free(o->wire[i].data);
		free(o->wire[i].note);
	}
	free(o->wire);
	free(r->result_text);
	free(r->result_close_text);
	r->result_text = NULL;
	r->result_close_text = NULL;
	memset(o, 0, sizeof(*o));
	o->local_close_code = -1;
	o->remote_close_code = -1;
}

int wsc_run_add(struct wsc_run *run, struct wsc_result *r)
{
	if (grow((void **)&run->results, &run->cap_results, run->n_results, sizeof(*run->results)) <
	    0)
		return -1;
	run->results[run->n_results++] = *r;
	/* The run owns the contents now; leave *r empty but safe to free. */
	const struct wsc_case *c = r->c;
	const char *agent = r->agent;
	size_t pos = r->position;
	bool srv = r->is_server;
	wsc_result_init(r, c, agent, pos, srv);
	return 0;
}

void wsc_run_free(struct wsc_run *run)
{
	if (!run)
		return;
	for (size_t i = 0; i < run->n_results; i++)
		wsc_result_free(&run->results[i]);
	free(run->results);
	free(run->target_crash_text);
	run->results = NULL;
	run->n_results = run->cap_results = 0;
	run->target_crash_text = NULL;
}
