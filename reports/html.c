/*
 * html.c - one self-contained index.html: inline CSS and JS, no external
 * resource of any kind. A header with counts, filters (status, category,
 * text), a matrix of cases x agents with both verdict cells, and a detail
 * panel per result (case text, expected / got, close bookkeeping, opening
 * handshake, statistics and the decoded wire log).
 *
 * Everything is rendered here, in C, through the escaping layer; the script
 * only shows, hides and filters. Peer bytes never reach the script.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "emit.h"

#define HTML_WIRE_MAX 2000 /* wire log lines shown per result */

static const char css[] =
        "body{font:14px/1.4 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;color:#222;"
        "background:#fafafa}\n"
        "header{padding:12px 20px;background:#263238;color:#eceff1}\n"
        "header h1{margin:0 0 4px;font-size:20px}\n"
        ".meta{font-size:12px;color:#b0bec5;margin:0 0 8px}\n"
        ".counts span{display:inline-block;margin:0 8px 4px 0;padding:3px 10px;border-radius:3px;"
        "font-weight:600}\n"
        ".crash{background:#b71c1c;color:#fff;padding:6px 10px;margin-top:6px;border-radius:3px;"
        "white-space:pre-wrap}\n"
        ".filters{padding:8px 20px;background:#eceff1;border-bottom:1px solid #cfd8dc}\n"
        ".filters label{margin-right:14px}\n"
        ".legend span{display:inline-block;padding:1px 8px;margin-right:4px;border-radius:2px}\n"
        ".wrap{padding:10px 20px}\n"
        "table.m{border-collapse:collapse}\n"
        "table.m td,table.m th{border:1px solid #cfd8dc;padding:2px 6px;font-size:13px}\n"
        "tr.cathead th{background:#37474f;color:#fff;text-align:left}\n"
        "td.id{font-family:monospace;white-space:nowrap}\n"
        "td.v,td.cv{cursor:pointer;text-align:center;white-space:nowrap;min-width:56px}\n"
        ".pass{background:#2e7d32;color:#fff}.ns{background:#827717;color:#fff}"
        ".info{background:#1565c0;color:#fff}.unimpl{background:#6a1b9a;color:#fff}"
        ".fail{background:#c62828;color:#fff}.missing{background:#6d4c41;color:#fff}"
        ".wrong{background:#9e9d24;color:#fff}.fbc{background:#7cb342;color:#fff}\n"
        "#panel{display:none;position:fixed;top:0;right:0;bottom:0;width:52%;overflow:auto;"
        "background:#fff;border-left:2px solid #455a64;box-shadow:-4px 0 12px rgba(0,0,0,.2);"
        "padding:10px 16px;z-index:5}\n"
        "#pclose{float:right;font-size:16px;cursor:pointer}\n"
        ".detail{display:none}\n"
        ".detail h2{font-size:17px;margin:4px 0 8px}\n"
        ".detail h3{font-size:14px;margin:14px 0 4px;border-bottom:1px solid #cfd8dc}\n"
        ".detail table{border-collapse:collapse;font-size:12px}\n"
        ".detail td,.detail th{border:1px solid #e0e0e0;padding:1px 6px;text-align:left;"
        "vertical-align:top;word-break:break-all}\n"
        ".detail pre,.txt{white-space:pre-wrap;word-break:break-all;font-family:monospace;"
        "font-size:12px;background:#f5f5f5;padding:4px;margin:2px 0}\n"
        "table.wl td{font-family:monospace;white-space:pre-wrap;word-break:break-all}\n"
        "tr.rx td{background:#e3f2fd}tr.tx td{background:#fff8e1}tr.nt td{background:#eeeeee}\n";

static const char js[] =
        "(function(){\n"
        "var fst=document.getElementById('fst'),fcat=document.getElementById('fcat'),"
        "fq=document.getElementById('fq'),panel=document.getElementById('panel'),cur=null;\n"
        "function apply(){var s=fst.value,c=fcat.value,q=fq.value.toLowerCase();\n"
        " var bodies=document.querySelectorAll('tbody.cat');\n"
        " for(var i=0;i<bodies.length;i++){var b=bodies[i],any=false,"
        "sc=!c||b.getAttribute('data-cat')===c,rows=b.querySelectorAll('tr.case');\n"
        "  for(var k=0;k<rows.length;k++){var r=rows[k],ok=sc&&(!s||r.getAttribute('data-st')"
        ".indexOf(' '+s+' ')>=0)&&(!q||r.getAttribute('data-q').indexOf(q)>=0);\n"
        "   r.style.display=ok?'':'none';if(ok)any=true;}\n"
        "  b.style.display=any?'':'none';}}\n"
        "function show(id){var d=document.getElementById(id);if(!d)return;"
        "if(cur)cur.style.display='none';d.style.display='block';cur=d;"
        "panel.style.display='block';panel.scrollTop=0;}\n"
        "fst.addEventListener('change',apply);fcat.addEventListener('change',apply);"
        "fq.addEventListener('input',apply);\n"
        "document.getElementById('matrix').addEventListener('click',function(e){var t=e.target;\n"
        " while(t&&t!==this&&!(t.getAttribute&&t.getAttribute('data-d')))t=t.parentNode;\n"
        " if(t&&t!==this)show(t.getAttribute('data-d'));});\n"
        "document.getElementById('pclose').addEventListener('click',function(){"
        "panel.style.display='none';});\n"
        "document.addEventListener('keydown',function(e){if(e.key==='Escape')"
        "panel.style.display='none';});\n"
        "if(location.hash.length>1)show(location.hash.substring(1));\n"
        "})();\n";

static void h(struct wsc_out *b, const char *s)
{
	if (s)
		wsc_out_html(b, s, strlen(s));
}

/* The cell class of a result's main verdict, as the status filter names it. */
static const char *outcome(const struct wsc_result *r, bool strict)
{
	if (wsc_result_skipped(r))
		return "unimpl";
	if (!wsc_result_passed(r, strict))
		return "fail";
	if (r->behavior == WSC_V_NON_STRICT)
		return "ns";
	if (r->behavior == WSC_V_INFORMATIONAL)
		return "info";
	return "pass";
}

static const char *behavior_label(const struct wsc_result *r, const char **cls)
{
	switch (r->behavior) {
	case WSC_V_OK:
		*cls = "pass";
		return "Pass";
	case WSC_V_NON_STRICT:
		*cls = "ns";
		return "Non-Strict";
	case WSC_V_INFORMATIONAL:
		*cls = "info";
		return "Info";
	case WSC_V_UNIMPLEMENTED:
		*cls = "unimpl";
		return "Unimplemented";
	case WSC_V_FAILED:
		break;
	}
	*cls = "fail";
	return r->ran ? "Fail" : "Not run";
}

static void close_cell(struct wsc_out *b, const struct wsc_result *r, size_t idx)
{
	const char *cls = "fail";
	switch (r->behavior_close) {
	case WSC_CV_OK:
		cls = "pass";
		break;
	case WSC_CV_WRONG_CODE:
		cls = "wrong";
		break;
	case WSC_CV_FAILED_BY_CLIENT:
		cls = "fbc";
		break;
	case WSC_CV_INFORMATIONAL:
		cls = "info";
		break;
	default:
		break;
	}
	wsc_out_printf(b, "<td class=\"cv %s\" data-d=\"d%zu\" title=\"", cls, idx);
	h(b, wsc_close_verdict_name(r->behavior_close));
	wsc_out_puts(b, "\">");
	if (r->behavior_close == WSC_CV_UNCLEAN)
		wsc_out_puts(b, "Unclean");
	else if (r->behavior_close == WSC_CV_FAILED)
		wsc_out_puts(b, "Fail");
	else if (r->obs.remote_close_code >= 0)
		wsc_out_printf(b, "%d", r->obs.remote_close_code);
	else
		wsc_out_puts(b, "&ndash;");
	wsc_out_puts(b, "</td>");
}

static bool report_time(const struct wsc_case *c)
{
	int cat = wsc_id_category(c->id);
	return cat == 9 || cat == 12 || cat == 13 || c->report_time;
}

static bool report_ratio(const struct wsc_result *r)
{
	int cat = wsc_id_category(r->c->id);
	return cat == 12 || cat == 13 || (r->obs.pmd_negotiated && cat == 105);
}

static void row_kv(struct wsc_out *b, const char *k, const char *v)
{
	wsc_out_puts(b, "<tr><th>");
	h(b, k);
	wsc_out_puts(b, "</th><td>");
	h(b, v);
	wsc_out_puts(b, "</td></tr>\n");
}

static void row_bool(struct wsc_out *b, const char *k, bool v)
{
	row_kv(b, k, v ? "true" : "false");
}

static void row_code(struct wsc_out *b, const char *k, int code)
{
	char s[16];
	if (code < 0)
		snprintf(s, sizeof(s), "none");
	else
		snprintf(s, sizeof(s), "%d", code);
	row_kv(b, k, s);
}

static void row_reason(struct wsc_out *b, const char *k, const uint8_t *p, size_t n)
{
	wsc_out_puts(b, "<tr><th>");
	h(b, k);
	wsc_out_puts(b, "</th><td>");
	struct wsc_out t;
	wsc_out_init(&t);
	wsc_out_payload(&t, p, n, n);
	wsc_out_html(b, t.p, t.len);
	wsc_out_free(&t);
	wsc_out_puts(b, "</td></tr>\n");
}

static const char *opcode_name(unsigned op)
{
	static const char *names[16] = {"cont", "text", "binary", "op3",  "op4",  "op5",
	                                "op6",  "op7",  "close",  "ping", "pong", "op11",
	                                "op12", "op13", "op14",   "op15"};
	return names[op & 15];
}

static void wire_payload(struct wsc_out *b, const struct wsc_wire_entry *w, bool hex)
{
	struct wsc_out t;
	wsc_out_init(&t);
	if (hex) {
		size_t show = w->len < WSC_PAYLOAD_SHOW ? w->len : WSC_PAYLOAD_SHOW;
		for (size_t i = 0; i < show; i++)
			wsc_out_printf(&t, "%02x", w->data[i]);
		if (w->full_len > show)
			wsc_out_puts(&t, " ...");
	} else {
		wsc_out_payload(&t, w->data, w->len, w->full_len);
	}
	if (t.oom)
		b->oom = true;
	wsc_out_html(b, t.p, t.len);
	wsc_out_free(&t);
}

static void wirelog(struct wsc_out *b, const struct wsc_observation *o)
{
	wsc_out_puts(b, "<table class=\"wl\"><tr><th>#</th><th>ms</th><th>dir</th><th>entry</th>"
	                "</tr>\n");
	for (size_t i = 0; i < o->n_wire && i < HTML_WIRE_MAX; i++) {
		const struct wsc_wire_entry *w = &o->wire[i];
		const char *cls = "nt", *dir = "";
		switch (w->kind) {
		case WSC_WIRE_TX_OCTETS:
		case WSC_WIRE_TX_FRAME:
			cls = "tx";
			dir = "TX";
			break;
		case WSC_WIRE_RX_OCTETS:
		case WSC_WIRE_RX_FRAME:
			cls = "rx";
			dir = "RX";
			break;
		case WSC_WIRE_NOTE:
			break;
		}
		wsc_out_printf(b,
		               "<tr class=\"%s\"><td>%zu</td><td>%llu.%03llu</td><td>%s</td><td>",
		               cls, i + 1, (unsigned long long)(w->t_us / 1000),
		               (unsigned long long)(w->t_us % 1000), dir);
		switch (w->kind) {
		case WSC_WIRE_TX_OCTETS:
		case WSC_WIRE_RX_OCTETS:
			wsc_out_printf(b, "OCTETS %zu: ", w->full_len);
			wire_payload(b, w, true);
			break;
		case WSC_WIRE_TX_FRAME:
		case WSC_WIRE_RX_FRAME:
			wsc_out_printf(b, "FRAME opcode=%u (%s) fin=%d rsv=%u len=%zu", w->opcode,
			               opcode_name(w->opcode), w->fin ? 1 : 0, w->rsv, w->full_len);
			if (w->masked)
				wsc_out_printf(b, " mask=%02x%02x%02x%02x", w->mask[0], w->mask[1],
				               w->mask[2], w->mask[3]);
			else
				wsc_out_puts(b, " unmasked");
			if (w->full_len) {
				wsc_out_puts(b, "\npayload: ");
				wire_payload(b, w, false);
			}
			break;
		case WSC_WIRE_NOTE:
			h(b, w->note);
			break;
		}
		wsc_out_puts(b, "</td></tr>\n");
	}
	if (o->n_wire > HTML_WIRE_MAX)
		wsc_out_printf(b,
		               "<tr class=\"nt\"><td colspan=\"4\">... %zu more entries in the "
		               "per-case JSON</td></tr>\n",
		               o->n_wire - HTML_WIRE_MAX);
	wsc_out_puts(b, "</table>\n");
}

static void stats(struct wsc_out *b, const struct wsc_observation *o)
{
	wsc_out_printf(b, "<p>octets received %llu, sent %llu</p>\n",
	               (unsigned long long)o->rx_octets, (unsigned long long)o->tx_octets);
	wsc_out_puts(b, "<table><tr><th>opcode</th><th>frames received</th><th>frames sent</th>"
	                "</tr>\n");
	for (unsigned op = 0; op < 16; op++) {
		if (!o->rx_frames[op] && !o->tx_frames[op])
			continue;
		wsc_out_printf(b, "<tr><td>%u (%s)</td><td>%u</td><td>%u</td></tr>\n", op,
		               opcode_name(op), (unsigned)o->rx_frames[op],
		               (unsigned)o->tx_frames[op]);
	}
	wsc_out_puts(b, "</table>\n");
}

static void detail(struct wsc_out *b, const struct wsc_run *run, const struct wsc_result *r,
                   size_t idx)
{
	const struct wsc_case *c = r->c;
	const struct wsc_observation *o = &r->obs;
	char ts[32], num[64];
	wsc_out_printf(b, "<section class=\"detail\" id=\"d%zu\">\n<h2>", idx);
	h(b, c->id);
	wsc_out_puts(b, " &mdash; ");
	h(b, c->title);
	wsc_out_puts(b, "</h2>\n<table>\n");
	row_kv(b, "Agent", r->agent);
	row_kv(b, "Category", run->cat ? wsc_category_name(run->cat, c->id) : "Misc");
	row_kv(b, "RFC section", c->rfc);
	row_kv(b, "Level", wsc_level_name(c->level));
	row_kv(b, "Harness played",
	       r->is_server ? "server (testing a client)" : "client (testing a server)");
	row_kv(b, "behavior", wsc_verdict_name(r->behavior));
	row_kv(b, "behaviorClose", wsc_close_verdict_name(r->behavior_close));
	wsc_iso_time(o->started_unix_ms, ts);
	row_kv(b, "Started", ts);
	snprintf(num, sizeof(num), "%u ms", (unsigned)o->duration_ms);
	row_kv(b, "Duration", num);
	if (c->file) {
		snprintf(num, sizeof(num), ":%d", c->line);
		wsc_out_puts(b, "<tr><th>Defined in</th><td>");
		h(b, c->file);
		h(b, num);
		wsc_out_puts(b, "</td></tr>\n");
	}
	wsc_out_puts(b, "</table>\n<h3>Description</h3><div class=\"txt\">");
	h(b, c->desc);
	wsc_out_puts(b, "</div>\n<h3>Expectation</h3><div class=\"txt\">");
	h(b, c->expectation);
	wsc_out_puts(b, "</div>\n<h3>Outcome</h3><div class=\"txt\">");
	h(b, wsc_verdict_name(r->behavior));
	wsc_out_puts(b, ": ");
	h(b, r->result_text);
	wsc_out_puts(b, "</div>\n<h3>Closing behavior</h3><div class=\"txt\">");
	h(b, wsc_close_verdict_name(r->behavior_close));
	wsc_out_puts(b, ": ");
	h(b, r->result_close_text);
	wsc_out_puts(b, "</div>\n<table>\n");
	row_bool(b, "closedByMe", o->closed_by_me);
	row_bool(b, "failedByMe", o->failed_by_me);
	row_bool(b, "droppedByMe", o->dropped_by_me);
	row_bool(b, "wasClean", o->was_clean);
	row_kv(b, "wasNotCleanReason", o->was_clean ? "" : o->was_not_clean_reason);
	row_bool(b, "wasServerConnectionDropTimeout", o->server_drop_timeout);
	row_bool(b, "wasOpenHandshakeTimeout", o->open_handshake_timeout);
	row_bool(b, "wasCloseHandshakeTimeout", o->close_handshake_timeout);
	row_code(b, "localCloseCode", o->local_close_code);
	row_reason(b, "localCloseReason", o->local_close_reason, o->local_close_reason_len);
	row_code(b, "remoteCloseCode", o->remote_close_code);
	row_reason(b, "remoteCloseReason", o->remote_close_reason, o->remote_close_reason_len);
	if (o->protocol_violation)
		row_kv(b, "Peer protocol violation", o->protocol_violation);
	if (o->roundtrip_error)
		row_kv(b, "Round trips", o->roundtrip_error);
	if (o->rt_us) {
		char t[160];
		double sec = (double)o->rt_us / 1e6;
		snprintf(t, sizeof(t), "%llu round trips in %.3f s: %.1f MB/s, %.0f msgs/s",
		         (unsigned long long)o->rt_messages, sec,
		         (double)(o->app_out + o->app_in) / 1e6 / sec,
		         (double)o->rt_messages / sec);
		row_kv(b, "Throughput", t);
	}
	if (report_ratio(r) && o->app_in && o->app_out) {
		char t[160];
		snprintf(t, sizeof(t), "in %.3f, out %.3f (WebSocket payload / application bytes)",
		         (double)o->ws_in / (double)o->app_in,
		         (double)o->ws_out / (double)o->app_out);
		row_kv(b, "Compression ratio", t);
	}
	if (o->target_crashed)
		row_kv(b, "Target", "crashed during this case");
	wsc_out_puts(b, "</table>\n<h3>Opening handshake</h3>\n<pre>");
	h(b, o->http_request ? o->http_request : "?");
	wsc_out_puts(b, "</pre>\n<pre>");
	h(b, o->http_response ? o->http_response : "?");
	wsc_out_puts(b, "</pre>\n");
	if (o->handshake_error) {
		wsc_out_puts(b, "<div class=\"txt\">");
		h(b, o->handshake_error);
		wsc_out_puts(b, "</div>\n");
	}
	wsc_out_puts(b, "<h3>Wire statistics</h3>\n");
	stats(b, o);
	wsc_out_puts(b, "<h3>Wire log</h3>\n");
	wirelog(b, o);
	wsc_out_puts(b, "</section>\n");
}

static void put_lower_html(struct wsc_out *b, const char *s)
{
	struct wsc_out t;
	wsc_out_init(&t);
	for (; s && *s; s++)
		wsc_out_putc(&t, (char)tolower((unsigned char)*s));
	wsc_out_html(b, t.p, t.len);
	wsc_out_free(&t);
}

int wsc_report_html(const struct wsc_run *run, const char *dir, char *err, size_t errlen)
{
	if (wsc_mkdir(dir, err, errlen) < 0)
		return -1;
	size_t *ix = wsc_sort_by_id_natural(run);
	size_t n_agents = 0;
	const char **agents = wsc_run_agents(run, &n_agents);
	if (!ix || !agents) {
		free(ix);
		free(agents);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	struct wsc_out b;
	wsc_out_init(&b);
	char ts[32];

	struct wsc_counts all;
	memset(&all, 0, sizeof(all));
	for (size_t i = 0; i < run->n_results; i++)
		wsc_count_result(&all, &run->results[i], run->strict);

	wsc_out_puts(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	                 "<meta name=\"viewport\" content=\"width=device-width\">\n"
	                 "<title>wsconform report</title>\n<style>\n");
	wsc_out_puts(&b, css);
	wsc_out_puts(&b, "</style></head><body>\n<header><h1>wsconform report</h1>\n<p "
	                 "class=\"meta\">wsconform ");
	h(&b, run->tool_version ? run->tool_version : "");
	wsc_out_puts(&b, " &middot; profile ");
	h(&b, wsc_profile_label(run->profile));
	if (run->strict)
		wsc_out_puts(&b, " (strict)");
	if (run->round_trip_cap)
		wsc_out_printf(&b, " &middot; quick run: at most %u messages per round trip",
		               run->round_trip_cap);
	wsc_iso_time(run->started_unix_ms, ts);
	wsc_out_printf(&b, " &middot; started %s &middot; %u.%02u s &middot; agents: ", ts,
	               (unsigned)(run->duration_ms / 1000),
	               (unsigned)(run->duration_ms % 1000 / 10));
	for (size_t a = 0; a < n_agents; a++) {
		if (a)
			wsc_out_puts(&b, ", ");
		h(&b, agents[a]);
	}
	wsc_out_puts(&b, "</p>\n<div class=\"counts\">");
	wsc_out_printf(&b, "<span class=\"pass\">Passed %zu</span>", all.passed);
	wsc_out_printf(&b, "<span class=\"fail\">Failed %zu</span>", all.failed);
	wsc_out_printf(&b, "<span class=\"ns\">Non-strict %zu</span>", all.non_strict);
	wsc_out_printf(&b, "<span class=\"info\">Informational %zu</span>", all.informational);
	wsc_out_printf(&b, "<span class=\"unimpl\">Unimplemented %zu</span>", all.unimplemented);
	if (all.not_run)
		wsc_out_printf(&b, "<span class=\"missing\">Not run %zu</span>", all.not_run);
	wsc_out_printf(&b, "<span>of %zu results</span></div>\n", all.total);
	if (run->target_crashed) {
		wsc_out_puts(&b, "<div class=\"crash\">The target crashed: ");
		h(&b, run->target_crash_text ? run->target_crash_text : "(no detail)");
		wsc_out_puts(&b, "</div>\n");
	}
	wsc_out_puts(&b, "</header>\n<div class=\"filters\">\n<label>Status <select id=\"fst\">"
	                 "<option value=\"\">all</option><option value=\"fail\">failed</option>"
	                 "<option value=\"pass\">passed</option><option value=\"ns\">non-strict"
	                 "</option><option value=\"info\">informational</option>"
	                 "<option value=\"unimpl\">unimplemented</option><option value=\"missing\">"
	                 "missing</option></select></label>\n<label>Category <select id=\"fcat\">"
	                 "<option value=\"\">all</option>");
	int last_cat = -1;
	for (size_t k = 0; k < run->n_results; k++) {
		const struct wsc_case *c = run->results[ix[k]].c;
		int cat = wsc_id_category(c->id);
		if (cat == last_cat)
			continue;
		last_cat = cat;
		wsc_out_printf(&b, "<option value=\"%d\">%d ", cat, cat);
		h(&b, run->cat ? wsc_category_name(run->cat, c->id) : "Misc");
		wsc_out_puts(&b, "</option>");
	}
	wsc_out_puts(&b, "</select></label>\n<label>Find <input id=\"fq\" type=\"search\" "
	                 "placeholder=\"case ID or title\"></label>\n<span class=\"legend\">"
	                 "<span class=\"pass\">Pass</span><span class=\"ns\">Non-Strict</span>"
	                 "<span class=\"fail\">Fail</span><span class=\"info\">Info</span>"
	                 "<span class=\"unimpl\">Unimplemented</span><span class=\"missing\">"
	                 "Missing</span><span class=\"wrong\">Wrong code</span><span "
	                 "class=\"fbc\">Failed by client</span></span>\n</div>\n"
	                 "<div class=\"wrap\"><table class=\"m\" id=\"matrix\">\n");

	/* Matrix: one row per case ID (natural order), grouped by category. */
	last_cat = -1;
	for (size_t k = 0; k < run->n_results;) {
		const struct wsc_case *c = run->results[ix[k]].c;
		size_t e = k;
		while (e < run->n_results && strcmp(run->results[ix[e]].c->id, c->id) == 0)
			e++;
		int cat = wsc_id_category(c->id);
		if (cat != last_cat) {
			if (last_cat >= 0)
				wsc_out_puts(&b, "</tbody>\n");
			last_cat = cat;
			wsc_out_printf(&b,
			               "<tbody class=\"cat\" data-cat=\"%d\"><tr class=\"cathead\">"
			               "<th colspan=\"2\">%d ",
			               cat, cat);
			h(&b, run->cat ? wsc_category_name(run->cat, c->id) : "Misc");
			wsc_out_puts(&b, "</th>");
			for (size_t a = 0; a < n_agents; a++) {
				wsc_out_puts(&b, "<th colspan=\"2\">");
				h(&b, agents[a]);
				wsc_out_puts(&b, "</th>");
			}
			wsc_out_puts(&b, "</tr>\n");
		}
		/* Statuses of this row, for the filter. */
		struct wsc_out st;
		wsc_out_init(&st);
		wsc_out_putc(&st, ' ');
		for (size_t a = 0; a < n_agents; a++) {
			const struct wsc_result *hit = NULL;
			for (size_t i = k; i < e && !hit; i++)
				if (strcmp(run->results[ix[i]].agent ? run->results[ix[i]].agent
				                                     : "",
				           agents[a]) == 0)
					hit = &run->results[ix[i]];
			wsc_out_puts(&st, hit ? outcome(hit, run->strict) : "missing");
			wsc_out_putc(&st, ' ');
		}
		wsc_out_printf(&b, "<tr class=\"case\" data-cat=\"%d\" data-st=\"%s\" data-q=\"",
		               cat, wsc_out_str(&st));
		wsc_out_free(&st);
		put_lower_html(&b, c->id);
		wsc_out_putc(&b, ' ');
		put_lower_html(&b, c->title);
		wsc_out_puts(&b, "\"><td class=\"id\">");
		h(&b, c->id);
		wsc_out_puts(&b, "</td><td>");
		h(&b, c->title);
		wsc_out_puts(&b, "</td>");
		for (size_t a = 0; a < n_agents; a++) {
			size_t hit = SIZE_MAX;
			for (size_t i = k; i < e && hit == SIZE_MAX; i++)
				if (strcmp(run->results[ix[i]].agent ? run->results[ix[i]].agent
				                                     : "",
				           agents[a]) == 0)
					hit = ix[i];
			if (hit == SIZE_MAX) {
				wsc_out_puts(&b,
				             "<td class=\"v missing\" colspan=\"2\">Missing</td>");
				continue;
			}
			const struct wsc_result *r = &run->results[hit];
			const char *cls;
			const char *label = behavior_label(r, &cls);
			if (r->behavior == WSC_V_UNIMPLEMENTED) {
				wsc_out_printf(
				        &b,
				        "<td class=\"v unimpl\" colspan=\"2\" data-d=\"d%zu\">"
				        "Unimplemented</td>",
				        hit);
				continue;
			}
			wsc_out_printf(&b, "<td class=\"v %s\" data-d=\"d%zu\">%s", cls, hit,
			               label);
			if (report_time(c))
				wsc_out_printf(&b, "<br>%u ms", (unsigned)r->obs.duration_ms);
			if (report_ratio(r) && r->obs.app_in && r->obs.app_out)
				wsc_out_printf(&b, "<br>[%.3f/%.3f]",
				               (double)r->obs.ws_in / (double)r->obs.app_in,
				               (double)r->obs.ws_out / (double)r->obs.app_out);
			wsc_out_puts(&b, "</td>");
			close_cell(&b, r, hit);
		}
		wsc_out_puts(&b, "</tr>\n");
		k = e;
	}
	if (last_cat >= 0)
		wsc_out_puts(&b, "</tbody>\n");
	wsc_out_puts(&b, "</table></div>\n<div id=\"panel\"><span id=\"pclose\" "
	                 "title=\"close (Esc)\">&#x2715;</span>\n");
	for (size_t k = 0; k < run->n_results; k++)
		detail(&b, run, &run->results[ix[k]], ix[k]);
	wsc_out_puts(&b, "</div>\n<script>\n");
	wsc_out_puts(&b, js);
	wsc_out_puts(&b, "</script>\n</body></html>\n");

	free(ix);
	free(agents);
	char path[4096];
	int n = snprintf(path, sizeof(path), "%s/index.html", dir);
	int rc;
	if (n < 0 || (size_t)n >= sizeof(path)) {
		snprintf(err, errlen, "%s: path too long", dir);
		rc = -1;
	} else {
		rc = wsc_out_write_file(&b, path, err, errlen);
	}
	wsc_out_free(&b);
	return rc;
}
