/*
 * json.c - Autobahn's JSON layout (index.json and one
 * <agent>_case_<x_y_z>.json per result) and our own report.json.
 *
 * The Autobahn files reproduce what Python 2.7's json.dumps(sort_keys=True,
 * indent=3) wrote: keys sorted as strings, 3-space indentation, ", " item
 * separators (a space before each line break), non-ASCII as \uXXXX. The
 * per-case keys are written in sorted order by hand; a unit test checks the
 * order with a real JSON parser.
 */
#include <stdlib.h>
#include <string.h>

#include "emit.h"

#define AB_INDENT 3

static int path_join(char *out, size_t cap, const char *dir, const char *name, char *err,
                     size_t errlen)
{
	int n = snprintf(out, cap, "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= cap) {
		snprintf(err, errlen, "%s: path too long", dir);
		return -1;
	}
	return 0;
}

static void report_file_name(const struct wsc_result *r, char *out, size_t cap, const char *ext)
{
	char agent[256], id[128];
	wsc_agent_file_part(r->agent, agent, sizeof(agent));
	wsc_id_file_part(r->c->id, id, sizeof(id));
	snprintf(out, cap, "%s_case_%s.%s", agent, id, ext);
}

static void json_event(struct wsc_json *j, enum wsc_event_kind kind, const uint8_t *p, size_t n)
{
	wsc_json_arr(j);
	switch (kind) {
	case WSC_EV_TEXT:
	case WSC_EV_BINARY:
		wsc_json_str(j, "message");
		wsc_json_payload(j, p, n, n);
		wsc_json_bool(j, kind == WSC_EV_BINARY);
		break;
	case WSC_EV_PONG:
		wsc_json_str(j, "pong");
		wsc_json_payload(j, p, n, n);
		break;
	case WSC_EV_TIMEOUT:
		wsc_json_str(j, "timeout");
		wsc_json_payload(j, p, n, n);
		break;
	}
	wsc_json_arr_end(j);
}

static int cmp_alt_name(const void *a, const void *b)
{
	const struct wsc_alt *x = *(const struct wsc_alt *const *)a;
	const struct wsc_alt *y = *(const struct wsc_alt *const *)b;
	return strcmp(wsc_verdict_name(x->verdict), wsc_verdict_name(y->verdict));
}

static void json_expected(struct wsc_json *j, const struct wsc_case *c)
{
	wsc_json_obj(j);
	if (c->n_alts == 0) {
		/* No expectation declared: the judge reads it as "OK: nothing". */
		wsc_json_key(j, "OK");
		wsc_json_arr(j);
		wsc_json_arr_end(j);
	} else {
		const struct wsc_alt *stack[8];
		const struct wsc_alt **v = c->n_alts <= 8 ? stack : malloc(c->n_alts * sizeof(*v));
		if (!v) {
			j->b->oom = true;
			wsc_json_obj_end(j);
			return;
		}
		size_t n = 0;
		/* One key per verdict (a dict): the first alternative of each verdict wins. */
		for (size_t i = 0; i < c->n_alts; i++) {
			bool dup = false;
			for (size_t k = 0; k < n; k++)
				if (v[k]->verdict == c->alts[i].verdict)
					dup = true;
			if (!dup)
				v[n++] = &c->alts[i];
		}
		qsort(v, n, sizeof(*v), cmp_alt_name);
		for (size_t i = 0; i < n; i++) {
			wsc_json_key(j, wsc_verdict_name(v[i]->verdict));
			wsc_json_arr(j);
			for (size_t e = 0; e < v[i]->n_events; e++)
				json_event(j, v[i]->events[e].kind, v[i]->events[e].data.p,
				           v[i]->events[e].data.n);
			wsc_json_arr_end(j);
		}
		if (v != stack)
			free(v);
	}
	wsc_json_obj_end(j);
}

static void json_expected_close(struct wsc_json *j, const struct wsc_case *c)
{
	wsc_json_obj(j);
	wsc_json_key(j, "closeCode");
	wsc_json_arr(j);
	if (!c->close.set)
		wsc_json_int(j, 1000);
	else
		for (size_t i = 0; i < c->close.n_codes && i < 16; i++)
			wsc_json_int(j, c->close.codes[i]);
	wsc_json_arr_end(j);
	wsc_json_key(j, "closedByMe");
	wsc_json_bool(j, c->close.set ? c->close.closed_by_me : true);
	if (c->close.set && c->close.fatal_endpoint) {
		wsc_json_key(j, "closedByWrongEndpointIsFatal");
		wsc_json_bool(j, true);
	}
	wsc_json_key(j, "requireClean");
	wsc_json_bool(j, c->close.set ? c->close.require_clean : true);
	wsc_json_obj_end(j);
}

/* A close reason: text when valid UTF-8, else 0x+hex; null when there is none. */
static void json_reason(struct wsc_json *j, int code, const uint8_t *p, size_t n)
{
	if (code < 0 || n == 0) {
		wsc_json_null(j);
		return;
	}
	struct wsc_out t;
	wsc_out_init(&t);
	if (wsc_out_utf8_valid(p, n)) {
		wsc_out_put(&t, p, n);
	} else {
		wsc_out_puts(&t, "0x");
		for (size_t i = 0; i < n; i++)
			wsc_out_printf(&t, "%02x", p[i]);
	}
	if (t.oom)
		j->b->oom = true;
	wsc_json_strn(j, t.p, t.len);
	wsc_out_free(&t);
}

/*
 * A close code as Autobahn writes it: null when no Close was seen and when the
 * Close carried no code (1005 is our in-memory name for that; it never
 * appears on the wire).
 */
static void json_code(struct wsc_json *j, int code)
{
	if (code < 0 || code == 1005)
		wsc_json_null(j);
	else
		wsc_json_int(j, code);
}

/* {opcode: count} for opcodes seen, numerically ordered. */
static void json_frame_stats(struct wsc_json *j, const uint32_t st[16])
{
	wsc_json_obj(j);
	for (int op = 0; op < 16; op++) {
		if (!st[op])
			continue;
		char k[8];
		snprintf(k, sizeof(k), "%d", op);
		wsc_json_key(j, k);
		wsc_json_int(j, st[op]);
	}
	wsc_json_obj_end(j);
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return x < y ? -1 : x > y;
}

/* {read/write size: count} from the wire log's octet entries, by size. */
static void json_octet_stats(struct wsc_json *j, const struct wsc_observation *o, bool tx)
{
	enum wsc_wire_kind want = tx ? WSC_WIRE_TX_OCTETS : WSC_WIRE_RX_OCTETS;
	size_t n = 0;
	for (size_t i = 0; i < o->n_wire; i++)
		if (o->wire[i].kind == want)
			n++;
	wsc_json_obj(j);
	if (n) {
		size_t *sz = malloc(n * sizeof(*sz));
		if (!sz) {
			j->b->oom = true;
			wsc_json_obj_end(j);
			return;
		}
		size_t k = 0;
		for (size_t i = 0; i < o->n_wire; i++)
			if (o->wire[i].kind == want)
				sz[k++] = o->wire[i].full_len;
		qsort(sz, n, sizeof(*sz), cmp_size);
		for (size_t i = 0; i < n;) {
			size_t e = i;
			while (e < n && sz[e] == sz[i])
				e++;
			char key[32];
			snprintf(key, sizeof(key), "%zu", sz[i]);
			wsc_json_key(j, key);
			wsc_json_int(j, (long long)(e - i));
			i = e;
		}
		free(sz);
	}
	wsc_json_obj_end(j);
}

static void json_mask(struct wsc_json *j, const struct wsc_wire_entry *w)
{
	if (!w->masked) {
		wsc_json_null(j);
		return;
	}
	char m[9];
	snprintf(m, sizeof(m), "%02x%02x%02x%02x", w->mask[0], w->mask[1], w->mask[2], w->mask[3]);
	wsc_json_str(j, m);
}

/*
 * Our wire log encoding (docs/reports.md), every entry ending with the time
 * in microseconds since the case started:
 *   ["RO"|"TO", [octets, "<payload>"], t_us]
 *   ["RF", [payload length, "<payload>"], opcode, fin, rsv, masked, "mask"|null, t_us]
 *   ["TF", [payload length, "<payload>"], opcode, fin, rsv, "mask"|null, t_us]
 *   ["NT", "<note>", t_us]
 */
static void json_wirelog(struct wsc_json *j, const struct wsc_observation *o)
{
	wsc_json_arr(j);
	for (size_t i = 0; i < o->n_wire && !j->b->oom; i++) {
		const struct wsc_wire_entry *w = &o->wire[i];
		wsc_json_arr(j);
		switch (w->kind) {
		case WSC_WIRE_TX_OCTETS:
		case WSC_WIRE_RX_OCTETS:
			wsc_json_str(j, w->kind == WSC_WIRE_TX_OCTETS ? "TO" : "RO");
			wsc_json_arr(j);
			wsc_json_int(j, (long long)w->full_len);
			wsc_json_payload(j, w->data, w->len, w->full_len);
			wsc_json_arr_end(j);
			break;
		case WSC_WIRE_TX_FRAME:
		case WSC_WIRE_RX_FRAME:
			wsc_json_str(j, w->kind == WSC_WIRE_TX_FRAME ? "TF" : "RF");
			wsc_json_arr(j);
			wsc_json_int(j, (long long)w->full_len);
			wsc_json_payload(j, w->data, w->len, w->full_len);
			wsc_json_arr_end(j);
			wsc_json_int(j, w->opcode);
			wsc_json_bool(j, w->fin);
			wsc_json_int(j, w->rsv);
			if (w->kind == WSC_WIRE_RX_FRAME)
				wsc_json_bool(j, w->masked);
			json_mask(j, w);
			break;
		case WSC_WIRE_NOTE:
			wsc_json_str(j, "NT");
			wsc_json_str(j, w->note ? w->note : "");
			break;
		}
		wsc_json_int(j, (long long)w->t_us);
		wsc_json_arr_end(j);
	}
	wsc_json_arr_end(j);
}

static bool report_time(const struct wsc_case *c)
{
	int cat = wsc_id_category(c->id);
	return cat == 9 || cat == 12 || cat == 13 || c->report_time;
}

/* Compression ratios and trafficStats: Autobahn's 12.x/13.x, and our own
 * compression cases that negotiated permessage-deflate. */
static bool report_ratio(const struct wsc_result *r)
{
	int cat = wsc_id_category(r->c->id);
	return cat == 12 || cat == 13 ||
	       (r->obs.pmd_negotiated && wsc_id_category(r->c->id) == 105);
}

static double ratio(uint64_t a, uint64_t b)
{
	return b ? (double)a / (double)b : 0.0;
}

/* Autobahn's trafficStats (after the opening handshake; ratios = WebSocket
 * payload bytes / application bytes; overhead = framing bytes / payload). */
/* One direction's seven trafficStats keys, "<dir>CompressionRatio" ... in sorted order. */
static void json_traffic_dir(struct wsc_json *j, const char *dir, uint64_t app, uint64_t ws,
                             uint64_t wire, uint64_t frames, uint64_t msgs)
{
	char key[64];
	snprintf(key, sizeof(key), "%sCompressionRatio", dir);
	wsc_json_key(j, key);
	wsc_json_num(j, ratio(ws, app), 6);
	snprintf(key, sizeof(key), "%sOctetsAppLevel", dir);
	wsc_json_key(j, key);
	wsc_json_int(j, (long long)app);
	snprintf(key, sizeof(key), "%sOctetsWebSocketLevel", dir);
	wsc_json_key(j, key);
	wsc_json_int(j, (long long)ws);
	snprintf(key, sizeof(key), "%sOctetsWireLevel", dir);
	wsc_json_key(j, key);
	wsc_json_int(j, (long long)wire);
	snprintf(key, sizeof(key), "%sWebSocketFrames", dir);
	wsc_json_key(j, key);
	wsc_json_int(j, (long long)frames);
	snprintf(key, sizeof(key), "%sWebSocketMessages", dir);
	wsc_json_key(j, key);
	wsc_json_int(j, (long long)msgs);
	snprintf(key, sizeof(key), "%sWebSocketOverhead", dir);
	wsc_json_key(j, key);
	wsc_json_num(j, ratio(wire > ws ? wire - ws : 0, ws), 6);
}

static void json_traffic(struct wsc_json *j, const struct wsc_observation *o)
{
	uint64_t in_wire = o->rx_octets - o->preopen_rx, out_wire = o->tx_octets - o->preopen_tx;
	uint64_t in_frames = (uint64_t)o->rx_frames[0] + o->rx_frames[1] + o->rx_frames[2];
	uint64_t out_frames = (uint64_t)o->tx_frames[0] + o->tx_frames[1] + o->tx_frames[2];
	wsc_json_obj(j);
	json_traffic_dir(j, "incoming", o->app_in, o->ws_in, in_wire, in_frames, o->msgs_in);
	json_traffic_dir(j, "outgoing", o->app_out, o->ws_out, out_wire, out_frames, o->msgs_out);
	wsc_json_key(j, "preopenIncomingOctetsWireLevel");
	wsc_json_int(j, (long long)o->preopen_rx);
	wsc_json_key(j, "preopenOutgoingOctetsWireLevel");
	wsc_json_int(j, (long long)o->preopen_tx);
	wsc_json_obj_end(j);
}

/* Our own throughput over the round trips (report.json only). */
static void json_throughput(struct wsc_json *j, const struct wsc_observation *o)
{
	if (!o->rt_us) {
		wsc_json_null(j);
		return;
	}
	double s = (double)o->rt_us / 1e6;
	wsc_json_obj(j);
	wsc_json_key(j, "MBps");
	wsc_json_num(j, (double)(o->app_out + o->app_in) / 1e6 / s, 3);
	wsc_json_key(j, "msgsPerSecond");
	wsc_json_num(j, (double)o->rt_messages / s, 1);
	wsc_json_key(j, "roundTrips");
	wsc_json_int(j, (long long)o->rt_messages);
	wsc_json_key(j, "seconds");
	wsc_json_num(j, s, 6);
	wsc_json_obj_end(j);
}

/* The 39 keys, in sorted order. */
static void case_json(struct wsc_out *b, const struct wsc_result *r)
{
	const struct wsc_case *c = r->c;
	const struct wsc_observation *o = &r->obs;
	struct wsc_json j;
	char ts[32];
	wsc_json_init(&j, b, AB_INDENT, true, false);
	wsc_json_obj(&j);
	wsc_json_key(&j, "agent");
	wsc_json_str(&j, r->agent ? r->agent : "");
	wsc_json_key(&j, "behavior");
	wsc_json_str(&j, wsc_verdict_name(r->behavior));
	wsc_json_key(&j, "behaviorClose");
	wsc_json_str(&j, wsc_close_verdict_name(r->behavior_close));
	wsc_json_key(&j, "case");
	wsc_json_int(&j, (long long)r->position);
	wsc_json_key(&j, "closedByMe");
	wsc_json_bool(&j, o->closed_by_me);
	wsc_json_key(&j, "createStats");
	wsc_json_bool(&j, true);
	wsc_json_key(&j, "createWirelog");
	wsc_json_bool(&j, true);
	wsc_json_key(&j, "description");
	wsc_json_str(&j, c->desc ? c->desc : "");
	wsc_json_key(&j, "droppedByMe");
	wsc_json_bool(&j, o->dropped_by_me);
	wsc_json_key(&j, "duration");
	wsc_json_int(&j, o->duration_ms);
	wsc_json_key(&j, "expectation");
	wsc_json_str(&j, c->expectation ? c->expectation : "");
	wsc_json_key(&j, "expected");
	json_expected(&j, c);
	wsc_json_key(&j, "expectedClose");
	json_expected_close(&j, c);
	wsc_json_key(&j, "failedByMe");
	wsc_json_bool(&j, o->failed_by_me);
	wsc_json_key(&j, "httpRequest");
	wsc_json_str(&j, o->http_request ? o->http_request : "?");
	wsc_json_key(&j, "httpResponse");
	wsc_json_str(&j, o->http_response ? o->http_response : "?");
	wsc_json_key(&j, "id");
	wsc_json_str(&j, c->id);
	wsc_json_key(&j, "isServer");
	wsc_json_bool(&j, r->is_server);
	wsc_json_key(&j, "localCloseCode");
	json_code(&j, o->local_close_code);
	wsc_json_key(&j, "localCloseReason");
	json_reason(&j, o->local_close_code, o->local_close_reason, o->local_close_reason_len);
	wsc_json_key(&j, "received");
	wsc_json_arr(&j);
	for (size_t i = 0; i < o->n_events; i++)
		json_event(&j, o->events[i].kind, o->events[i].data, o->events[i].len);
	wsc_json_arr_end(&j);
	wsc_json_key(&j, "remoteCloseCode");
	json_code(&j, o->remote_close_code);
	wsc_json_key(&j, "remoteCloseReason");
	json_reason(&j, o->remote_close_code, o->remote_close_reason, o->remote_close_reason_len);
	wsc_json_key(&j, "reportCompressionRatio");
	wsc_json_bool(&j, report_ratio(r));
	wsc_json_key(&j, "reportTime");
	wsc_json_bool(&j, report_time(c));
	wsc_json_key(&j, "result");
	wsc_json_str(&j, r->result_text ? r->result_text : "");
	wsc_json_key(&j, "resultClose");
	wsc_json_str(&j, r->result_close_text ? r->result_close_text : "");
	wsc_json_key(&j, "rxFrameStats");
	json_frame_stats(&j, o->rx_frames);
	wsc_json_key(&j, "rxOctetStats");
	json_octet_stats(&j, o, false);
	wsc_json_key(&j, "started");
	wsc_iso_time(o->started_unix_ms, ts);
	wsc_json_str(&j, ts);
	wsc_json_key(&j, "trafficStats");
	if (report_ratio(r))
		json_traffic(&j, o);
	else
		wsc_json_null(&j);
	wsc_json_key(&j, "txFrameStats");
	json_frame_stats(&j, o->tx_frames);
	wsc_json_key(&j, "txOctetStats");
	json_octet_stats(&j, o, true);
	wsc_json_key(&j, "wasClean");
	wsc_json_bool(&j, o->was_clean);
	wsc_json_key(&j, "wasCloseHandshakeTimeout");
	wsc_json_bool(&j, o->close_handshake_timeout);
	wsc_json_key(&j, "wasNotCleanReason");
	wsc_json_str(&j, o->was_clean ? NULL : o->was_not_clean_reason);
	wsc_json_key(&j, "wasOpenHandshakeTimeout");
	wsc_json_bool(&j, o->open_handshake_timeout);
	wsc_json_key(&j, "wasServerConnectionDropTimeout");
	wsc_json_bool(&j, o->server_drop_timeout);
	wsc_json_key(&j, "wirelog");
	json_wirelog(&j, o);
	wsc_json_obj_end(&j);
}

static void counts_json(struct wsc_json *j, const struct wsc_counts *c)
{
	wsc_json_obj(j);
	wsc_json_key(j, "total");
	wsc_json_int(j, (long long)c->total);
	wsc_json_key(j, "passed");
	wsc_json_int(j, (long long)c->passed);
	wsc_json_key(j, "failed");
	wsc_json_int(j, (long long)c->failed);
	wsc_json_key(j, "skipped");
	wsc_json_int(j, (long long)c->unimplemented);
	wsc_json_key(j, "non_strict");
	wsc_json_int(j, (long long)c->non_strict);
	wsc_json_key(j, "informational");
	wsc_json_int(j, (long long)c->informational);
	wsc_json_key(j, "not_run");
	wsc_json_int(j, (long long)c->not_run);
	wsc_json_key(j, "case_ms_total");
	wsc_json_int(j, (long long)c->duration_ms);
	wsc_json_obj_end(j);
}

/* report.json: schema "wsconform-report/1" (docs/reports.md). */
static void run_json(struct wsc_out *b, const struct wsc_run *run, const size_t *ix,
                     const char **agents, size_t n_agents)
{
	struct wsc_json j;
	char ts[32];
	wsc_json_init(&j, b, 2, false, false);
	wsc_json_obj(&j);
	wsc_json_key(&j, "schema");
	wsc_json_str(&j, "wsconform-report/1");
	wsc_json_key(&j, "tool");
	wsc_json_obj(&j);
	wsc_json_key(&j, "name");
	wsc_json_str(&j, "wsconform");
	wsc_json_key(&j, "version");
	wsc_json_str(&j, run->tool_version ? run->tool_version : "");
	wsc_json_obj_end(&j);
	wsc_json_key(&j, "profile");
	wsc_json_str(&j, wsc_profile_label(run->profile));
	wsc_json_key(&j, "strict");
	wsc_json_bool(&j, run->strict);
	wsc_json_key(&j, "roundTripCap");
	if (run->round_trip_cap)
		wsc_json_int(&j, run->round_trip_cap);
	else
		wsc_json_null(&j);
	wsc_json_key(&j, "started");
	wsc_iso_time(run->started_unix_ms, ts);
	wsc_json_str(&j, ts);
	wsc_json_key(&j, "duration_ms");
	wsc_json_int(&j, run->duration_ms);
	wsc_json_key(&j, "target");
	wsc_json_obj(&j);
	wsc_json_key(&j, "crashed");
	wsc_json_bool(&j, run->target_crashed);
	wsc_json_key(&j, "crash_text");
	wsc_json_str(&j, run->target_crash_text);
	wsc_json_obj_end(&j);

	struct wsc_counts all;
	memset(&all, 0, sizeof(all));
	for (size_t i = 0; i < run->n_results; i++)
		wsc_count_result(&all, &run->results[i], run->strict);
	wsc_json_key(&j, "summary");
	counts_json(&j, &all);

	wsc_json_key(&j, "agents");
	wsc_json_arr(&j);
	size_t k = 0; /* ix is sorted by agent then ID */
	for (size_t a = 0; a < n_agents; a++) {
		struct wsc_counts ac;
		memset(&ac, 0, sizeof(ac));
		for (size_t i = 0; i < run->n_results; i++)
			if (strcmp(run->results[i].agent ? run->results[i].agent : "", agents[a]) ==
			    0)
				wsc_count_result(&ac, &run->results[i], run->strict);
		char part[256];
		wsc_agent_file_part(agents[a], part, sizeof(part));
		wsc_json_obj(&j);
		wsc_json_key(&j, "name");
		wsc_json_str(&j, agents[a]);
		wsc_json_key(&j, "file_part");
		wsc_json_str(&j, part);
		wsc_json_key(&j, "summary");
		counts_json(&j, &ac);
		wsc_json_key(&j, "results");
		wsc_json_arr(&j);
		for (; k < run->n_results; k++) {
			const struct wsc_result *r = &run->results[ix[k]];
			if (strcmp(r->agent ? r->agent : "", agents[a]) != 0)
				break;
			const struct wsc_case *c = r->c;
			char file[512];
			report_file_name(r, file, sizeof(file), "json");
			wsc_json_obj(&j);
			wsc_json_key(&j, "id");
			wsc_json_str(&j, c->id);
			wsc_json_key(&j, "position");
			wsc_json_int(&j, (long long)r->position);
			wsc_json_key(&j, "category");
			wsc_json_obj(&j);
			wsc_json_key(&j, "number");
			wsc_json_int(&j, wsc_id_category(c->id));
			wsc_json_key(&j, "name");
			wsc_json_str(&j, run->cat ? wsc_category_name(run->cat, c->id) : "Misc");
			wsc_json_obj_end(&j);
			wsc_json_key(&j, "title");
			wsc_json_str(&j, c->title ? c->title : "");
			wsc_json_key(&j, "rfc");
			wsc_json_str(&j, c->rfc ? c->rfc : "");
			wsc_json_key(&j, "level");
			wsc_json_str(&j, wsc_level_name(c->level));
			wsc_json_key(&j, "role");
			wsc_json_str(&j, r->is_server ? "server" : "client");
			wsc_json_key(&j, "ran");
			wsc_json_bool(&j, r->ran);
			wsc_json_key(&j, "behavior");
			wsc_json_str(&j, wsc_verdict_name(r->behavior));
			wsc_json_key(&j, "behaviorClose");
			wsc_json_str(&j, wsc_close_verdict_name(r->behavior_close));
			wsc_json_key(&j, "passed");
			wsc_json_bool(&j, wsc_result_passed(r, run->strict));
			wsc_json_key(&j, "skipped");
			wsc_json_bool(&j, wsc_result_skipped(r));
			wsc_json_key(&j, "result");
			wsc_json_str(&j, r->result_text ? r->result_text : "");
			wsc_json_key(&j, "resultClose");
			wsc_json_str(&j, r->result_close_text ? r->result_close_text : "");
			wsc_json_key(&j, "started");
			wsc_iso_time(r->obs.started_unix_ms, ts);
			wsc_json_str(&j, ts);
			wsc_json_key(&j, "duration_ms");
			wsc_json_int(&j, r->obs.duration_ms);
			wsc_json_key(&j, "throughput");
			json_throughput(&j, &r->obs);
			if (report_ratio(r)) {
				wsc_json_key(&j, "compressionRatioIn");
				wsc_json_num(&j, ratio(r->obs.ws_in, r->obs.app_in), 3);
				wsc_json_key(&j, "compressionRatioOut");
				wsc_json_num(&j, ratio(r->obs.ws_out, r->obs.app_out), 3);
			}
			wsc_json_key(&j, "localCloseCode");
			json_code(&j, r->obs.local_close_code);
			wsc_json_key(&j, "remoteCloseCode");
			json_code(&j, r->obs.remote_close_code);
			wsc_json_key(&j, "targetCrashed");
			wsc_json_bool(&j, r->obs.target_crashed);
			wsc_json_key(&j, "reportfile");
			wsc_json_str(&j, file);
			wsc_json_obj_end(&j);
		}
		wsc_json_arr_end(&j);
		wsc_json_obj_end(&j);
	}
	wsc_json_arr_end(&j);
	wsc_json_obj_end(&j);
	wsc_out_putc(b, '\n');
}

int wsc_report_json(const struct wsc_run *run, const char *dir, char *err, size_t errlen)
{
	if (wsc_mkdir(dir, err, errlen) < 0)
		return -1;
	size_t *ix = wsc_sort_by_agent_id_str(run);
	size_t n_agents = 0;
	const char **agents = wsc_run_agents(run, &n_agents);
	if (!ix || !agents) {
		free(ix);
		free(agents);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int rc = 0;
	char path[4096], file[512];
	struct wsc_out b;
	wsc_out_init(&b);

	/* index.json: {agent: {id: {...}}}, sorted; one entry per (agent, id). */
	struct wsc_json j;
	wsc_json_init(&j, &b, AB_INDENT, true, false);
	wsc_json_obj(&j);
	const char *cur_agent = NULL;
	const char *prev_id = NULL;
	for (size_t k = 0; k < run->n_results; k++) {
		const struct wsc_result *r = &run->results[ix[k]];
		const char *agent = r->agent ? r->agent : "";
		if (!cur_agent || strcmp(cur_agent, agent) != 0) {
			if (cur_agent)
				wsc_json_obj_end(&j);
			wsc_json_key(&j, agent);
			wsc_json_obj(&j);
			cur_agent = agent;
			prev_id = NULL;
		}
		if (prev_id && strcmp(prev_id, r->c->id) == 0)
			continue; /* a duplicate (agent, id): the first one is reported */
		prev_id = r->c->id;
		report_file_name(r, file, sizeof(file), "json");
		wsc_json_key(&j, r->c->id);
		wsc_json_obj(&j);
		wsc_json_key(&j, "behavior");
		wsc_json_str(&j, wsc_verdict_name(r->behavior));
		wsc_json_key(&j, "behaviorClose");
		wsc_json_str(&j, wsc_close_verdict_name(r->behavior_close));
		wsc_json_key(&j, "duration");
		wsc_json_int(&j, r->obs.duration_ms);
		wsc_json_key(&j, "remoteCloseCode");
		json_code(&j, r->obs.remote_close_code);
		wsc_json_key(&j, "reportfile");
		wsc_json_str(&j, file);
		wsc_json_obj_end(&j);

		struct wsc_out cb;
		wsc_out_init(&cb);
		case_json(&cb, r);
		if (path_join(path, sizeof(path), dir, file, err, errlen) < 0 ||
		    wsc_out_write_file(&cb, path, err, errlen) < 0)
			rc = -1;
		wsc_out_free(&cb);
		if (rc < 0)
			goto out;
	}
	if (cur_agent)
		wsc_json_obj_end(&j);
	wsc_json_obj_end(&j);
	if (path_join(path, sizeof(path), dir, "index.json", err, errlen) < 0 ||
	    wsc_out_write_file(&b, path, err, errlen) < 0) {
		rc = -1;
		goto out;
	}

	wsc_out_free(&b);
	wsc_out_init(&b);
	run_json(&b, run, ix, agents, n_agents);
	if (path_join(path, sizeof(path), dir, "report.json", err, errlen) < 0 ||
	    wsc_out_write_file(&b, path, err, errlen) < 0)
		rc = -1;
out:
	wsc_out_free(&b);
	free(ix);
	free(agents);
	return rc;
}
