/*
 * serve.c - wsconform as the WebSocket server: tests clients through the
 * Autobahn fuzzingserver URL protocol (serve.h, docs/client-mode.md).
 *
 * Connections start in C_HEAD (collect the HTTP request head, at most
 * HEAD_MAX bytes within HEAD_TIMEOUT_US). Then:
 *  - a plain GET (no Upgrade) of "/" gets the browser page, anything else 404;
 *  - /runCase becomes a step VM in the server role (vm.c) with the answer
 *    the case describes (respond-* statements; a valid 101 by default);
 *  - the meta endpoints answer with a 101, at most one text message and a
 *    Close 1000, then wait (C_META) for the client's Close or EOF and close.
 * Finished VMs are judged and stored per (agent, case position); a later run
 * of the same pair replaces the earlier result.
 */
#include "serve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../reports/emit.h"
#include "cli.h"
#include "engine.h"
#include "reportcmd.h"
#include "result.h"
#include "target.h"
#include "util.h"
#include "vm.h"
#include "wire.h"

#define PROG "wsconform"

#define HEAD_MAX        (16u * 1024u)
#define HEAD_TIMEOUT_US 5000000u
#define META_TIMEOUT_US 2000000u
#define MAX_CONNS       1024u
#define MAX_AGENTS      256u
#define AGENT_MAX_LEN   200u

enum cstate { C_HEAD = 0, C_META, C_VM, C_DEAD };

struct conn {
	enum cstate st;
	int fd;
	struct wsc_buf in;
	struct wsc_buf out; /* plain HTTP answers and meta frames */
	size_t out_off;
	bool close_when_written; /* plain HTTP: close once out is written */
	uint64_t deadline;       /* C_HEAD / C_META */
	/* C_VM */
	struct wsc_vm vm;
	struct wsc_result *res; /* owned until stored */
	bool has_vm;            /* vm was started: wsc_vm_free() it */
};

struct server {
	const struct wsc_serve_config *cfg;
	int lfd[2]; /* listen port, web port (-1) */
	unsigned port, web_port;
	struct conn **conns;
	size_t n_conns;
	struct wsc_vm_env env;
	struct wsc_url url; /* only for env (the VM never connects in this role) */
	struct wsc_run run;
	char *agents[MAX_AGENTS]; /* interned agent names (results borrow them) */
	size_t n_agents;
	bool stop, stop_no_report;
	size_t reports_written;
	char *page; /* the browser page with the port filled in */
};

static volatile sig_atomic_t g_sig;

static void on_sig(int s)
{
	g_sig = s;
}

static void msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void msg(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs(PROG ": ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* ------------------------------------------------------------- globs */

bool wsc_glob_full(const char *p, const char *s)
{
	/* iterative wildcard match with one backtrack point */
	const char *star = NULL, *ss = NULL;
	while (*s) {
		if (*p == '*') {
			star = p++;
			ss = s;
		} else if (*p == *s) {
			p++;
			s++;
		} else if (star) {
			p = star + 1;
			s = ++ss;
		} else {
			return false;
		}
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

static bool agent_excluded(const struct server *S, const char *agent, const char *id)
{
	const struct wsc_serve_config *c = S->cfg;
	for (size_t i = 0; i < c->n_xa; i++)
		if (wsc_glob_full(c->xa_agent[i], agent) && wsc_glob_full(c->xa_case[i], id))
			return true;
	return false;
}

/* ------------------------------------------------------------- HTTP parsing */

/*
 * Query parameter `name` of target, percent-decoded ('+' is a space) into
 * out. Returns false when absent, too long, or holding a NUL.
 */
static bool query_param(const char *target, const char *name, char *out, size_t cap)
{
	const char *q = strchr(target, '?');
	if (!q)
		return false;
	size_t nl = strlen(name);
	for (const char *p = q + 1; *p;) {
		const char *amp = strchr(p, '&');
		const char *e = amp ? amp : p + strlen(p);
		if ((size_t)(e - p) > nl && p[nl] == '=' && strncmp(p, name, nl) == 0) {
			size_t j = 0;
			for (const char *s = p + nl + 1; s < e; s++) {
				int c = (unsigned char)*s;
				if (c == '%' && e - s >= 3 && wsc_hexval(s[1]) >= 0 &&
				    wsc_hexval(s[2]) >= 0) {
					c = wsc_hexval(s[1]) * 16 + wsc_hexval(s[2]);
					s += 2;
				} else if (c == '+') {
					c = ' ';
				}
				if (c == 0 || j + 1 >= cap)
					return false;
				out[j++] = (char)c;
			}
			out[j] = '\0';
			return true;
		}
		if (!amp)
			break;
		p = amp + 1;
	}
	return false;
}

static const char *reason_phrase(int status)
{
	switch (status) {
	case 101:
		return "Switching Protocols";
	case 200:
		return "OK";
	case 301:
		return "Moved Permanently";
	case 302:
		return "Found";
	case 400:
		return "Bad Request";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 426:
		return "Upgrade Required";
	case 500:
		return "Internal Server Error";
	case 503:
		return "Service Unavailable";
	default:
		return "Status";
	}
}

/* ------------------------------------------------------------- connections */

static void conn_free(struct conn *c)
{
	if (c->has_vm) {
		wsc_vm_free(&c->vm); /* closes the descriptor */
	} else if (c->fd >= 0) {
		close(c->fd);
	}
	if (c->res) {
		wsc_result_free(c->res);
		free(c->res);
	}
	wsc_buf_free(&c->in);
	wsc_buf_free(&c->out);
	free(c);
}

static void http_answer(struct conn *c, int status, const char *ctype, const char *body,
                        size_t blen, const char *extra_headers)
{
	wsc_buf_printf(&c->out,
	               "HTTP/1.1 %d %s\r\nServer: " PROG "\r\nContent-Type: %s\r\n"
	               "Content-Length: %zu\r\nConnection: close\r\n%s\r\n",
	               status, reason_phrase(status), ctype, blen,
	               extra_headers ? extra_headers : "");
	wsc_buf_append(&c->out, body, blen);
	c->close_when_written = true;
	c->st = C_META;
	c->deadline = wsc_now_us() + META_TIMEOUT_US;
}

static void http_error(struct conn *c, int status, const char *why)
{
	char body[600];
	int n = snprintf(body, sizeof body, "%d %s: %s\n", status, reason_phrase(status), why);
	http_answer(c, status, "text/plain; charset=utf-8", body,
	            n < 0 ? 0 : ((size_t)n < sizeof body ? (size_t)n : sizeof body - 1),
	            status == 426 ? "Sec-WebSocket-Version: 13\r\n" : NULL);
}

/* Append an unmasked server frame. */
static void put_frame(struct wsc_buf *b, uint8_t opcode, const void *p, size_t n)
{
	uint8_t h[10];
	size_t hl = 2;
	h[0] = (uint8_t)(0x80 | opcode);
	if (n < 126) {
		h[1] = (uint8_t)n;
	} else if (n <= 0xffff) {
		h[1] = 126;
		h[2] = (uint8_t)(n >> 8);
		h[3] = (uint8_t)n;
		hl = 4;
	} else {
		h[1] = 127;
		for (int i = 0; i < 8; i++)
			h[2 + i] = (uint8_t)((uint64_t)n >> (56 - 8 * i));
		hl = 10;
	}
	wsc_buf_append(b, h, hl);
	wsc_buf_append(b, p, n);
}

/*
 * Is the request a WebSocket upgrade we can answer? Returns 0 and the key in
 * key[], or the HTTP status to refuse with (why filled).
 */
static int check_upgrade(const char *h, size_t n, char key[64], char *why, size_t wl)
{
	const char *v;
	size_t vl;
	if (n < 14 || memcmp(h, "GET ", 4) != 0) {
		snprintf(why, wl, "the method is not GET");
		return 400;
	}
	const char *eol = memchr(h, '\r', n);
	if (!eol || eol - h < 13 || memcmp(eol - 9, " HTTP/1.1", 9) != 0) {
		snprintf(why, wl, "the request line does not end in HTTP/1.1");
		return 400;
	}
	if (wsc_http_header(h, n, "Host", &v, &vl) != 1) {
		snprintf(why, wl, "no Host header (or more than one)");
		return 400;
	}
	if (wsc_http_header(h, n, "Upgrade", &v, &vl) < 1 ||
	    !wsc_http_has_token(v, vl, "websocket")) {
		snprintf(why, wl, "no 'Upgrade: websocket' header");
		return 400;
	}
	if (wsc_http_header(h, n, "Connection", &v, &vl) < 1 ||
	    !wsc_http_has_token(v, vl, "upgrade")) {
		snprintf(why, wl, "the Connection header does not hold the token 'Upgrade'");
		return 400;
	}
	if (wsc_http_header(h, n, "Sec-WebSocket-Version", &v, &vl) != 1 || vl != 2 ||
	    memcmp(v, "13", 2) != 0) {
		snprintf(why, wl, "Sec-WebSocket-Version is not 13");
		return 426;
	}
	if (wsc_http_header(h, n, "Sec-WebSocket-Key", &v, &vl) != 1 || vl != 24) {
		snprintf(why, wl, "Sec-WebSocket-Key is missing, repeated or not 24 characters");
		return 400;
	}
	unsigned char raw[24];
	int dl = EVP_DecodeBlock(raw, (const unsigned char *)v, 24);
	/* 24 base64 characters with "==" decode to 18 bytes, 16 of them real */
	if (dl != 18 || v[22] != '=' || v[23] != '=') {
		snprintf(why, wl, "Sec-WebSocket-Key is not 16 bytes in base64");
		return 400;
	}
	memcpy(key, v, 24);
	key[24] = '\0';
	return 0;
}

static void meta_open(struct conn *c, const char *key)
{
	char acc[29];
	wsc_ws_accept(key, strlen(key), acc);
	wsc_buf_printf(&c->out,
	               "HTTP/1.1 101 Switching Protocols\r\nServer: " PROG "\r\n"
	               "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	               "Sec-WebSocket-Accept: %s\r\n\r\n",
	               acc);
}

static void meta_finish(struct conn *c, const char *text)
{
	if (text)
		put_frame(&c->out, 1, text, strlen(text));
	static const uint8_t bye[2] = {0x03, 0xe8};
	put_frame(&c->out, 8, bye, 2);
	c->st = C_META;
	c->deadline = wsc_now_us() + META_TIMEOUT_US;
	wsc_buf_reset(&c->in);
}

/* ------------------------------------------------------------- results */

static const char *intern_agent(struct server *S, const char *a)
{
	for (size_t i = 0; i < S->n_agents; i++)
		if (strcmp(S->agents[i], a) == 0)
			return S->agents[i];
	if (S->n_agents == MAX_AGENTS)
		return NULL;
	char *d = strdup(a);
	if (!d)
		return NULL;
	S->agents[S->n_agents++] = d;
	return d;
}

static void store_result(struct server *S, struct wsc_result *r)
{
	for (size_t i = 0; i < S->run.n_results; i++) {
		struct wsc_result *o = &S->run.results[i];
		if (o->agent == r->agent && o->position == r->position) {
			wsc_result_free(o);
			*o = *r;
			memset(r, 0, sizeof *r);
			return;
		}
	}
	if (wsc_run_add(&S->run, r) < 0)
		wsc_result_free(r);
	else
		memset(r, 0, sizeof *r);
}

static const struct wsc_result *find_result(const struct server *S, const char *agent, size_t pos)
{
	for (size_t i = 0; i < S->run.n_results; i++) {
		const struct wsc_result *o = &S->run.results[i];
		if (o->agent && strcmp(o->agent, agent) == 0 && o->position == pos)
			return o;
	}
	return NULL;
}

static int write_reports(struct server *S)
{
	const struct wsc_serve_config *cfg = S->cfg;
	char err[512] = "";
	int rc = 0;
	if (cfg->report_dir) {
		if (wsc_report_json(&S->run, cfg->report_dir, err, sizeof err) < 0 ||
		    wsc_report_html(&S->run, cfg->report_dir, err, sizeof err) < 0) {
			msg("writing the report in %s: %s", cfg->report_dir, err);
			rc = -1;
		}
	}
	if (cfg->junit && wsc_report_junit(&S->run, cfg->junit, err, sizeof err) < 0) {
		msg("writing JUnit: %s", err);
		rc = -1;
	}
	S->reports_written++;
	return rc;
}

/* The case position (1-based) a runCase/getCaseInfo/getCaseStatus asks for, 0 if none. */
static size_t case_pos(const struct server *S, const char *target)
{
	char v[80];
	if (query_param(target, "case", v, sizeof v)) {
		char *end;
		errno = 0;
		unsigned long n = strtoul(v, &end, 10);
		if (errno || *end || v[0] < '0' || v[0] > '9' || n < 1 || n > S->cfg->n_sel)
			return 0;
		return (size_t)n;
	}
	if (query_param(target, "casetuple", v, sizeof v)) {
		for (size_t i = 0; i < S->cfg->n_sel; i++)
			if (strcmp(S->cfg->cat->cases[S->cfg->sel[i]].id, v) == 0)
				return i + 1;
	}
	return 0;
}

/* Build the answer case c asks for to the request with key `key`. */
static void build_answer(const struct wsc_case *c, const char *key, struct wsc_buf *out,
                         const char *version)
{
	const struct wsc_response *rs = &c->resp;
	char acc[29];
	if (rs->accept == WSC_ACCEPT_WRONG) {
		/* the accept of another key: well-formed, wrong */
		char other[64];
		snprintf(other, sizeof other, "%s", key);
		other[0] = other[0] == 'A' ? 'B' : 'A';
		wsc_ws_accept(other, strlen(other), acc);
	} else {
		wsc_ws_accept(key, strlen(key), acc);
	}
	if (rs->has_raw) {
		const uint8_t *p = rs->raw.p;
		size_t n = rs->raw.n;
		for (size_t i = 0; i < n;) {
			if (n - i >= 8 && memcmp(p + i, "{accept}", 8) == 0) {
				wsc_buf_append(out, acc, 28);
				i += 8;
			} else {
				wsc_buf_append(out, p + i, 1);
				i++;
			}
		}
		return;
	}
	int status = rs->status ? rs->status : 101;
	bool drop_server = false, drop_up = false, drop_conn = false, drop_acc = false;
	for (size_t i = 0; i < rs->n_drop_headers; i++) {
		const char *d = rs->drop_headers[i];
		drop_server |= strcasecmp(d, "Server") == 0;
		drop_up |= strcasecmp(d, "Upgrade") == 0;
		drop_conn |= strcasecmp(d, "Connection") == 0;
		drop_acc |= strcasecmp(d, "Sec-WebSocket-Accept") == 0;
	}
	wsc_buf_printf(out, "HTTP/1.1 %d %s\r\n", status, reason_phrase(status));
	if (!drop_server)
		wsc_buf_printf(out, "Server: " PROG "/%s\r\n", version ? version : "");
	if (!drop_up)
		wsc_buf_printf(out, "Upgrade: websocket\r\n");
	if (!drop_conn)
		wsc_buf_printf(out, "Connection: Upgrade\r\n");
	if (!drop_acc && rs->accept != WSC_ACCEPT_MISSING)
		wsc_buf_printf(out, "Sec-WebSocket-Accept: %s\r\n", acc);
	for (size_t i = 0; i < rs->n_add_headers; i++)
		wsc_buf_printf(out, "%s\r\n", rs->add_headers[i]);
	if (status != 101 && status >= 200)
		wsc_buf_printf(out, "Content-Length: 0\r\n");
	wsc_buf_printf(out, "\r\n");
}

static void start_case(struct server *S, struct conn *c, const char *target, size_t hlen,
                       const char *key)
{
	const struct wsc_serve_config *cfg = S->cfg;
	char agent_raw[AGENT_MAX_LEN + 1];
	if (!query_param(target, "agent", agent_raw, sizeof agent_raw) || !agent_raw[0]) {
		http_error(c, 500, "runCase needs agent=NAME (at most 200 bytes)");
		return;
	}
	size_t pos = case_pos(S, target);
	if (!pos) {
		http_error(c, 500, "runCase needs case=N (1..getCaseCount) or casetuple=ID");
		return;
	}
	const char *agent = intern_agent(S, agent_raw);
	if (!agent) {
		http_error(c, 500, "too many agents");
		return;
	}
	const struct wsc_case *cs = &cfg->cat->cases[cfg->sel[pos - 1]];
	if (agent_excluded(S, agent, cs->id)) {
		/* Autobahn: connect, close at once, no result */
		meta_open(c, key);
		meta_finish(c, NULL);
		return;
	}
	struct wsc_result *r = calloc(1, sizeof *r);
	if (!r) {
		http_error(c, 500, "out of memory");
		return;
	}
	wsc_result_init(r, cs, agent, pos, true);
	struct wsc_buf ans;
	wsc_buf_init(&ans);
	build_answer(cs, key, &ans, cfg->version);
	size_t n_extra = c->in.len - hlen;
	/* the VM copies what it needs: keep our buffers until it has started */
	int fd = c->fd;
	c->fd = -1;
	c->res = r;
	c->st = C_VM;
	c->has_vm = true;
	wsc_vm_start_server(&c->vm, cs, r, &S->env, fd, (const char *)c->in.p, hlen, ans.p, ans.len,
	                    c->in.p + hlen, n_extra, wsc_now_us());
	wsc_buf_free(&ans);
	wsc_buf_free(&c->in);
}

static void do_update_reports(struct server *S, const char *target)
{
	write_reports(S);
	char v[16];
	if (query_param(target, "shutdownOnComplete", v, sizeof v) &&
	    (!strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcmp(v, "1")))
		S->stop = true;
}

/* A complete request head of hlen bytes is in c->in. */
static void on_request(struct server *S, struct conn *c, size_t hlen)
{
	const struct wsc_serve_config *cfg = S->cfg;
	const char *h = (const char *)c->in.p;
	/* request target */
	char target[2048];
	const char *sp1 = memchr(h, ' ', hlen);
	const char *eol = memchr(h, '\r', hlen);
	const char *sp2 = sp1 && eol ? memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1)) : NULL;
	if (!sp1 || !sp2 || (size_t)(sp2 - sp1 - 1) >= sizeof target) {
		http_error(c, 400, "malformed request line");
		return;
	}
	memcpy(target, sp1 + 1, (size_t)(sp2 - sp1 - 1));
	target[sp2 - sp1 - 1] = '\0';
	const char *v;
	size_t vl;
	bool upgrade = wsc_http_header(h, hlen, "Upgrade", &v, &vl) > 0;
	size_t plen = strcspn(target, "?");
#define PATH_IS(s) (plen == sizeof(s) - 1 && memcmp(target, s, plen) == 0)
	if (!upgrade) {
		if (memcmp(h, "GET ", 4) == 0 && (PATH_IS("/") || PATH_IS("/index.html"))) {
			http_answer(c, 200, "text/html; charset=utf-8", S->page, strlen(S->page),
			            "Cache-Control: no-store\r\n");
			return;
		}
		http_error(c, 404, "not found (the browser page is at /)");
		return;
	}
	char key[64], why[200];
	int bad = check_upgrade(h, hlen, key, why, sizeof why);
	if (PATH_IS("/runCase")) {
		if (bad) {
			/* record it: the client could not even open the case */
			char agent_raw[AGENT_MAX_LEN + 1];
			size_t pos = case_pos(S, target);
			const char *agent =
			        query_param(target, "agent", agent_raw, sizeof agent_raw) &&
			                        agent_raw[0]
			                ? intern_agent(S, agent_raw)
			                : NULL;
			if (pos && agent) {
				struct wsc_result r;
				wsc_result_init(&r, &cfg->cat->cases[cfg->sel[pos - 1]], agent, pos,
				                true);
				r.obs.connected = true;
				r.obs.http_request = strndup(h, hlen);
				char m[300];
				snprintf(m, sizeof m, "the client's upgrade request is invalid: %s",
				         why);
				r.obs.handshake_error = strdup(m);
				wsc_judge(&r, cfg->profile);
				store_result(S, &r);
			}
			http_error(c, bad, why);
			return;
		}
		start_case(S, c, target, hlen, key);
		return;
	}
	if (bad) {
		http_error(c, bad, why);
		return;
	}
	if (PATH_IS("/getCaseCount")) {
		char n[32];
		snprintf(n, sizeof n, "%zu", cfg->n_sel);
		meta_open(c, key);
		meta_finish(c, n);
	} else if (PATH_IS("/getCaseInfo")) {
		size_t pos = case_pos(S, target);
		if (!pos) {
			http_error(c, 500, "getCaseInfo needs case=N or casetuple=ID");
			return;
		}
		const struct wsc_case *cs = &cfg->cat->cases[cfg->sel[pos - 1]];
		struct wsc_out o;
		wsc_out_init(&o);
		struct wsc_json j;
		wsc_json_init(&j, &o, 0, false, false);
		wsc_json_obj(&j);
		wsc_json_key(&j, "id");
		wsc_json_str(&j, cs->id);
		wsc_json_key(&j, "description");
		wsc_json_str(&j, cs->desc);
		wsc_json_obj_end(&j);
		meta_open(c, key);
		meta_finish(c, wsc_out_str(&o));
		wsc_out_free(&o);
	} else if (PATH_IS("/getCaseStatus")) {
		char agent[AGENT_MAX_LEN + 1];
		size_t pos = case_pos(S, target);
		if (!pos || !query_param(target, "agent", agent, sizeof agent)) {
			http_error(c, 500, "getCaseStatus needs case=N and agent=NAME");
			return;
		}
		const struct wsc_result *r = find_result(S, agent, pos);
		char js[64];
		if (r)
			snprintf(js, sizeof js, "{\"behavior\": \"%s\"}",
			         wsc_verdict_name(r->behavior));
		else
			snprintf(js, sizeof js, "{\"behavior\": null}");
		meta_open(c, key);
		meta_finish(c, js);
	} else if (PATH_IS("/updateReports")) {
		meta_open(c, key);
		do_update_reports(S, target);
		meta_finish(c, NULL);
	} else if (PATH_IS("/stopServer")) {
		meta_open(c, key);
		meta_finish(c, NULL);
		S->stop = true;
		S->stop_no_report = true;
	} else {
		http_error(c, 404,
		           "unknown endpoint (getCaseCount, getCaseInfo, runCase, "
		           "getCaseStatus, updateReports, stopServer)");
	}
#undef PATH_IS
}

/* Does buf hold a complete masked Close frame from the client (meta connections)? */
static bool has_close_frame(const uint8_t *p, size_t n)
{
	size_t off = 0;
	while (n - off >= 2) {
		uint8_t op = p[off] & 0x0f;
		uint64_t len;
		size_t hl = wsc_wire_peek_header(p + off, n - off, &len);
		if (hl == 0 || n - off < hl) /* header (with its mask key) incomplete */
			return false;
		if (len > n || n - off - hl < len)
			return false;
		if (op == 8)
			return true;
		off += hl + (size_t)len;
	}
	return false;
}

/* I/O on a non-VM connection. */
static void conn_io(struct server *S, struct conn *c, short rev, uint64_t now)
{
	if (c->out_off < c->out.len && (rev & POLLOUT)) {
		ssize_t w = send(c->fd, c->out.p + c->out_off, c->out.len - c->out_off,
		                 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w > 0)
			c->out_off += (size_t)w;
		else if (w < 0 && errno != EAGAIN && errno != EINTR) {
			c->st = C_DEAD;
			return;
		}
	}
	if (c->st == C_META && c->close_when_written && c->out_off == c->out.len) {
		shutdown(c->fd, SHUT_WR);
		c->close_when_written = false; /* drain until EOF or the deadline */
	}
	if (!(rev & (POLLIN | POLLHUP | POLLERR)))
		return;
	uint8_t buf[8192];
	ssize_t n = recv(c->fd, buf, sizeof buf, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		c->st = C_DEAD;
		return;
	}
	if (c->st == C_HEAD) {
		size_t old = c->in.len;
		if (wsc_buf_append(&c->in, buf, (size_t)n) < 0) {
			c->st = C_DEAD;
			return;
		}
		size_t from = old >= 3 ? old - 3 : 0;
		for (size_t i = from; i + 4 <= c->in.len; i++) {
			const uint8_t *p = c->in.p + i;
			if (p[0] == '\r' && p[1] == '\n' && p[2] == '\r' && p[3] == '\n') {
				on_request(S, c, i + 4);
				return;
			}
		}
		if (c->in.len > HEAD_MAX)
			http_error(c, 400, "request head too large");
		return;
	}
	if (c->st == C_META) {
		/* keep at most what a Close needs to be seen: 64 KiB */
		if (c->in.len + (size_t)n > 65536)
			wsc_buf_reset(&c->in);
		wsc_buf_append(&c->in, buf, (size_t)n);
		if (has_close_frame(c->in.p, c->in.len) && c->out_off == c->out.len)
			c->st = C_DEAD; /* the server closes TCP after the close handshake */
	}
	(void)now;
}

/* ------------------------------------------------------------- listening */

static int listen_on(const char *host, unsigned port, unsigned *bound, char *err, size_t el)
{
	struct addrinfo hints, *ai = NULL;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	char ps[8];
	snprintf(ps, sizeof ps, "%u", port);
	int g = getaddrinfo(host, ps, &hints, &ai);
	if (g != 0) {
		snprintf(err, el, "cannot resolve %s: %s", host, gai_strerror(g));
		return -1;
	}
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
	                ai->ai_protocol);
	int one = 1;
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 128) < 0) {
		snprintf(err, el, "cannot listen on %s:%u: %s", host, port, strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return -1;
	}
	freeaddrinfo(ai);
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	getsockname(fd, (struct sockaddr *)&ss, &sl);
	*bound = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
	                                  : ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

static void accept_all(struct server *S, int lfd)
{
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			return;
		if (S->n_conns == MAX_CONNS) {
			close(fd);
			continue;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		struct conn *c = calloc(1, sizeof *c);
		if (!c) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->st = C_HEAD;
		c->deadline = wsc_now_us() + HEAD_TIMEOUT_US;
		S->conns[S->n_conns++] = c;
	}
}

/* ------------------------------------------------------------- the client under test */

static bool fatal_signal(int s)
{
	return s == SIGSEGV || s == SIGBUS || s == SIGABRT || s == SIGILL || s == SIGFPE ||
	       s == SIGSYS || s == SIGTRAP;
}

/*
 * A client counts as crashed when a sanitizer spoke or it died of a fatal
 * signal (also as a shell's 128+N). A non-zero exit status is not a crash:
 * client loops commonly exit 1 when a case failed.
 */
static bool client_crashed(const struct wsc_target *t)
{
	if (t->sanitizer)
		return true;
	if (t->state != WSC_TARGET_EXITED)
		return false;
	if (WIFSIGNALED(t->status))
		return fatal_signal(WTERMSIG(t->status));
	if (WIFEXITED(t->status) && WEXITSTATUS(t->status) > 128)
		return fatal_signal(WEXITSTATUS(t->status) - 128);
	return false;
}

static char *subst_all(const char *s, const char *key, const char *val)
{
	size_t kl = strlen(key), vl = strlen(val), n = 0;
	for (const char *p = strstr(s, key); p; p = strstr(p + kl, key))
		n++;
	char *out = malloc(strlen(s) + n * vl + 1);
	if (!out)
		return NULL;
	char *o = out;
	for (const char *p = s;;) {
		const char *q = strstr(p, key);
		if (!q) {
			strcpy(o, p);
			break;
		}
		memcpy(o, p, (size_t)(q - p));
		o += q - p;
		memcpy(o, val, vl);
		o += vl;
		p = q + kl;
	}
	return out;
}

/* ------------------------------------------------------------- the loop */

static int cmp_pos(const void *a, const void *b)
{
	const struct wsc_result *x = a, *y = b;
	int c = strcmp(x->agent ? x->agent : "", y->agent ? y->agent : "");
	if (c)
		return c;
	return x->position < y->position ? -1 : x->position > y->position;
}

/* Every agent seen gets a result for every selected, not agent-excluded case. */
static void complete_agents(struct server *S, const char *why)
{
	const struct wsc_serve_config *cfg = S->cfg;
	for (size_t a = 0; a < S->n_agents; a++) {
		const char *agent = S->agents[a];
		for (size_t i = 0; i < cfg->n_sel; i++) {
			const struct wsc_case *cs = &cfg->cat->cases[cfg->sel[i]];
			if (find_result(S, agent, i + 1) || agent_excluded(S, agent, cs->id))
				continue;
			struct wsc_result r;
			wsc_result_init(&r, cs, agent, i + 1, true);
			r.ran = false;
			r.obs.handshake_error = strdup(why);
			wsc_judge(&r, cfg->profile);
			store_result(S, &r);
		}
	}
	qsort(S->run.results, S->run.n_results, sizeof *S->run.results, cmp_pos);
}

static void finish_vm(struct server *S, struct conn *c)
{
	wsc_judge(c->res, S->cfg->profile);
	store_result(S, c->res);
	free(c->res);
	c->res = NULL;
	c->st = C_DEAD;
}

int wsc_serve_run(const struct wsc_serve_config *cfg)
{
	struct server S;
	memset(&S, 0, sizeof S);
	S.cfg = cfg;
	S.lfd[0] = S.lfd[1] = -1;
	int rc = WSC_EXIT_UNTESTED;
	char err[512] = "";
	struct wsc_target target;
	memset(&target, 0, sizeof target);
	target.out_fd = target.err_fd = target.log_fd = -1;
	bool have_target = false;
	char *cmdline = NULL, *log_path = NULL;

	S.conns = calloc(MAX_CONNS, sizeof *S.conns);
	if (!S.conns) {
		msg("out of memory");
		return WSC_EXIT_UNTESTED;
	}
	S.lfd[0] = listen_on(cfg->listen_host, cfg->listen_port, &S.port, err, sizeof err);
	if (S.lfd[0] < 0) {
		msg("%s", err);
		free(S.conns);
		return WSC_EXIT_UNTESTED;
	}
	S.web_port = S.port;
	if (cfg->web_port && cfg->web_port != S.port) {
		S.lfd[1] = listen_on(cfg->listen_host, cfg->web_port, &S.web_port, err, sizeof err);
		if (S.lfd[1] < 0) {
			msg("%s", err);
			goto out;
		}
	}
	char portstr[16];
	snprintf(portstr, sizeof portstr, "%u", S.port);
	S.page = subst_all(wsc_webpage_html, "{{WSPORT}}", portstr);
	if (!S.page) {
		msg("out of memory");
		goto out;
	}
	if (cfg->report_dir) {
		if (wsc_mkdir_p(cfg->report_dir) < 0 || access(cfg->report_dir, W_OK) < 0) {
			msg("report directory %s: %s", cfg->report_dir, strerror(errno));
			rc = WSC_EXIT_USAGE;
			goto out;
		}
	}

	const char *h = cfg->listen_host;
	bool any = !strcmp(h, "0.0.0.0") || !strcmp(h, "::") || !*h;
	bool v6 = strchr(h, ':') != NULL;
	char url[320];
	snprintf(url, sizeof url, "ws://%s%s%s:%u", v6 && !any ? "[" : "", any ? "127.0.0.1" : h,
	         v6 && !any ? "]" : "", S.port);
	wsc_url_parse(url, &S.url, err, sizeof err);
	S.env.url = &S.url;
	S.env.net = NULL;
	S.env.timeout_scale = cfg->timeout_scale > 0 ? cfg->timeout_scale : 1.0;
	S.env.close_codes_2018 = cfg->profile != WSC_PROFILE_AUTOBAHN;

	S.run.cat = cfg->cat;
	S.run.profile = cfg->profile;
	S.run.strict = cfg->strict;
	S.run.tool_version = cfg->version;
	S.run.started_unix_ms = wsc_unix_ms();
	uint64_t t0 = wsc_now_us();

	if (!cfg->quiet) {
		printf("wsconform: testing clients at %s (%zu cases; browser page: "
		       "http://%s:%u/)\n",
		       url, cfg->n_sel, any ? "127.0.0.1" : h, S.web_port);
		fflush(stdout);
	}

	struct sigaction sa, old_int, old_term;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_sig;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	signal(SIGPIPE, SIG_IGN);
	g_sig = 0;

	uint64_t watchdog = 0;
	if (cfg->exec) {
		cmdline = subst_all(cfg->exec, "{url}", url);
		char *tmp = cmdline ? subst_all(cmdline, "{port}", portstr) : NULL;
		free(cmdline);
		cmdline = tmp;
		if (cfg->report_dir) {
			size_t len = strlen(cfg->report_dir) + sizeof "/client-stderr.log";
			log_path = malloc(len);
			if (log_path)
				snprintf(log_path, len, "%s/client-stderr.log", cfg->report_dir);
		}
		if (!cmdline ||
		    wsc_target_spawn(&target, NULL, cmdline, log_path, err, sizeof err) < 0) {
			msg("--exec: %s", cmdline ? err : "out of memory");
			goto out_sig;
		}
		have_target = true;
		uint64_t budget = 0;
		for (size_t i = 0; i < cfg->n_sel; i++) {
			uint32_t t = cfg->cat->cases[cfg->sel[i]].timeout_ms;
			budget += t > 10000 ? t : 10000;
		}
		watchdog =
		        t0 + (uint64_t)((double)budget * 1000.0 * S.env.timeout_scale) + 60000000u;
	}

	bool crashed = false, target_exited = false, watchdog_fired = false;
	struct pollfd *pfd = calloc(MAX_CONNS + 2, sizeof *pfd);
	struct conn **pconn = calloc(MAX_CONNS + 2, sizeof *pconn);
	if (!pfd || !pconn) {
		msg("out of memory");
		free(pfd);
		free(pconn);
		goto out_sig;
	}
	uint64_t stop_at = 0;
	for (;;) {
		uint64_t now = wsc_now_us();
		if (S.stop) {
			/* let the answers already queued (stopServer's own) go out first */
			bool pend = false;
			for (size_t i = 0; i < S.n_conns; i++)
				if (S.conns[i]->st == C_META &&
				    S.conns[i]->out_off < S.conns[i]->out.len)
					pend = true;
			if (!stop_at)
				stop_at = now + 1000000u;
			if (!pend || now > stop_at)
				break;
		}
		if (g_sig) {
			msg("interrupted");
			break;
		}
		if (have_target && !target_exited && !wsc_target_poll(&target)) {
			target_exited = true;
			crashed = client_crashed(&target);
			if (crashed) {
				for (size_t i = 0; i < S.n_conns; i++)
					if (S.conns[i]->st == C_VM && !wsc_vm_done(&S.conns[i]->vm))
						wsc_vm_abort(&S.conns[i]->vm, now,
						             "the client under test crashed");
			}
		}
		if (watchdog && now > watchdog) {
			msg("the client ran longer than its time budget; stopped");
			watchdog_fired = true;
			break;
		}
		/* reap */
		for (size_t i = 0; i < S.n_conns;) {
			struct conn *c = S.conns[i];
			if (c->st == C_VM && wsc_vm_done(&c->vm))
				finish_vm(&S, c);
			if (c->st == C_DEAD) {
				conn_free(c);
				S.conns[i] = S.conns[--S.n_conns];
				continue;
			}
			i++;
		}
		if (target_exited) {
			/* the client is gone: finish what it left, then stop */
			bool busy = false;
			for (size_t i = 0; i < S.n_conns; i++)
				if (S.conns[i]->st == C_VM)
					busy = true;
			if (!busy)
				break;
		}
		/* poll set */
		nfds_t np = 0;
		uint64_t deadline = now + 50000;
		bool pending = false;
		for (int k = 0; k < 2; k++)
			if (S.lfd[k] >= 0) {
				pfd[np].fd = S.lfd[k];
				pfd[np].events = POLLIN;
				pconn[np++] = NULL;
			}
		for (size_t i = 0; i < S.n_conns; i++) {
			struct conn *c = S.conns[i];
			short ev;
			int fd;
			if (c->st == C_VM) {
				uint64_t d = wsc_vm_deadline(&c->vm);
				if (d && d < deadline)
					deadline = d;
				if (wsc_vm_pending(&c->vm))
					pending = true;
				fd = wsc_vm_fd(&c->vm);
				ev = wsc_vm_events(&c->vm);
			} else {
				if (c->deadline && c->deadline < deadline)
					deadline = c->deadline;
				fd = c->fd;
				ev = POLLIN;
				if (c->out_off < c->out.len)
					ev |= POLLOUT;
			}
			if (fd >= 0 && ev) {
				pfd[np].fd = fd;
				pfd[np].events = ev;
				pfd[np].revents = 0;
				pconn[np++] = c;
			}
		}
		struct timespec ts = {0, 0};
		if (!pending && deadline > now) {
			uint64_t d = deadline - now;
			ts.tv_sec = (time_t)(d / 1000000u);
			ts.tv_nsec = (long)(d % 1000000u) * 1000;
		}
		int pr = ppoll(pfd, np, &ts, NULL);
		if (pr < 0 && errno != EINTR) {
			msg("poll: %s", strerror(errno));
			break;
		}
		now = wsc_now_us();
		for (nfds_t k = 0; k < np && pr > 0; k++) {
			if (!pfd[k].revents)
				continue;
			struct conn *c = pconn[k];
			if (!c) {
				accept_all(&S, pfd[k].fd);
				continue;
			}
			if (c->st == C_VM)
				wsc_vm_io(&c->vm, pfd[k].revents, now);
			else if (c->st != C_DEAD)
				conn_io(&S, c, pfd[k].revents, now);
		}
		for (size_t i = 0; i < S.n_conns; i++) {
			struct conn *c = S.conns[i];
			if (c->st == C_VM) {
				if (wsc_vm_pending(&c->vm))
					wsc_vm_io(&c->vm, 0, now);
				uint64_t d = wsc_vm_deadline(&c->vm);
				if (d && d <= now)
					wsc_vm_timers(&c->vm, now);
			} else if (c->st != C_DEAD && c->deadline && c->deadline <= now) {
				c->st = C_DEAD;
			}
		}
	}
	free(pfd);
	free(pconn);

	/* stop: in-flight cases end as they stand */
	uint64_t now = wsc_now_us();
	for (size_t i = 0; i < S.n_conns; i++) {
		struct conn *c = S.conns[i];
		if (c->st == C_VM) {
			if (!wsc_vm_done(&c->vm))
				wsc_vm_abort(&c->vm, now,
				             crashed ? "the client under test crashed"
				                     : "the server stopped");
			finish_vm(&S, c);
		}
	}
	if (have_target) {
		if (!target_exited)
			wsc_target_stop(&target, 2000);
		else
			wsc_target_stop(&target, 0);
		if (!crashed)
			crashed = client_crashed(&target);
		char d[600];
		wsc_target_describe(&target, d, sizeof d);
		if (crashed) {
			S.run.target_crashed = true;
			S.run.target_crash_text = strdup(d);
			msg("the client under test crashed: %s", d);
		} else if (!cfg->quiet && target_exited) {
			msg("the client under test %s", d);
		}
	}
	/* cases the engine cut short without a crash: not run */
	for (size_t i = 0; i < S.run.n_results; i++) {
		struct wsc_result *r = &S.run.results[i];
		if (r->obs.target_crashed && !crashed) {
			r->obs.target_crashed = false;
			r->ran = false;
			free(r->obs.handshake_error);
			r->obs.handshake_error =
			        strdup(g_sig ? "the run was interrupted"
			                     : "the server stopped during this case");
			wsc_judge(r, cfg->profile);
		}
	}
	complete_agents(&S, "the client never ran this case");
	S.run.duration_ms = (uint32_t)((wsc_now_us() - t0) / 1000u);
	bool report_failed = false;
	if (!S.stop_no_report && (S.run.n_results > 0 || have_target))
		report_failed = write_reports(&S) < 0;
	if (!cfg->quiet && S.run.n_results > 0) {
		wsc_report_text(&S.run, stdout, false);
		if (cfg->report_dir && !S.stop_no_report)
			printf("Reports: %s/index.html\n", cfg->report_dir);
		fflush(stdout);
	}

	bool failed = false, untested = S.run.n_results == 0;
	for (size_t i = 0; i < S.run.n_results; i++) {
		const struct wsc_result *r = &S.run.results[i];
		if (!r->ran)
			untested = true;
		else if (!wsc_result_skipped(r) && !wsc_result_passed(r, cfg->strict))
			failed = true;
	}
	if (S.run.n_results == 0)
		msg("no client ran a case");
	if (crashed)
		rc = WSC_EXIT_CRASH;
	else if (untested || g_sig || watchdog_fired || report_failed)
		rc = WSC_EXIT_UNTESTED;
	else
		rc = failed ? WSC_EXIT_FAIL : WSC_EXIT_PASS;

out_sig:
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
out:
	if (have_target) {
		wsc_target_stop(&target, 2000);
		wsc_target_free(&target);
	}
	for (size_t i = 0; i < S.n_conns; i++)
		conn_free(S.conns[i]);
	free(S.conns);
	for (int k = 0; k < 2; k++)
		if (S.lfd[k] >= 0)
			close(S.lfd[k]);
	wsc_run_free(&S.run);
	for (size_t i = 0; i < S.n_agents; i++)
		free(S.agents[i]);
	free(S.page);
	free(cmdline);
	free(log_path);
	return rc;
}

/* ------------------------------------------------------------- `wsconform client` */

static int usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs(PROG " client: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputs("\n(see '" PROG " client --help')\n", stderr);
	va_end(ap);
	return WSC_EXIT_USAGE;
}

static void client_help(FILE *f)
{
	fputs("Usage: " PROG " client --listen HOST:PORT [options]\n"
	      "Test WebSocket clients: serve Autobahn's fuzzingserver URL protocol\n"
	      "(/getCaseCount, /getCaseInfo, /runCase, /getCaseStatus, /updateReports,\n"
	      "/stopServer) and a browser test page at /.\n"
	      "\n"
	      "  --listen HOST:PORT  where to listen (PORT 0: pick one; [::1]:PORT for IPv6)\n"
	      "  --exec CMD          start the client under test with /bin/sh -c CMD ({url}\n"
	      "                      is ws://127.0.0.1:PORT); stop when it exits\n"
	      "  --web-port N        also serve the browser page on port N\n"
	      "  --report-dir DIR    Autobahn-layout report (default reports/clients)\n"
	      "  --no-report         no report directory\n"
	      "  --junit FILE        also write JUnit XML\n"
	      "  --cases P / --exclude P / --case-file PATH / --profile NAME  as for server\n"
	      "  --exclude-agent-cases AGENT=P  no result for cases P of agents AGENT\n"
	      "  --shard I/N         serve only shard I (0..N-1) of the selection\n"
	      "  --strict            NON-STRICT verdicts fail\n"
	      "  --timeout-scale X   multiply every case deadline by X\n"
	      "  -q, --quiet         print nothing but errors\n"
	      "\n"
	      "Exit status: 0 pass, 1 failures, 2 usage, 3 could not test, 4 the client crashed.\n",
	      f);
}

struct slist {
	char **v;
	size_t n;
};

static int slist_add_csv(struct slist *l, const char *s)
{
	while (*s) {
		size_t n = strcspn(s, ",");
		if (n) {
			char **nv = realloc(l->v, (l->n + 1) * sizeof *nv);
			if (!nv)
				return -1;
			l->v = nv;
			if (!(l->v[l->n] = strndup(s, n)))
				return -1;
			l->n++;
		}
		s += n;
		if (*s == ',')
			s++;
	}
	return 0;
}

static void slist_free(struct slist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* HOST:PORT or [V6]:PORT. */
int wsc_parse_hostport(const char *s, char *host, size_t hcap, unsigned *port)
{
	const char *colon;
	if (*s == '[') {
		const char *rb = strchr(s, ']');
		if (!rb || rb[1] != ':' || (size_t)(rb - s - 1) >= hcap)
			return -1;
		memcpy(host, s + 1, (size_t)(rb - s - 1));
		host[rb - s - 1] = '\0';
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || (size_t)(colon - s) >= hcap)
			return -1;
		memcpy(host, s, (size_t)(colon - s));
		host[colon - s] = '\0';
		if (!host[0])
			snprintf(host, hcap, "0.0.0.0");
	}
	char *end;
	errno = 0;
	unsigned long p = strtoul(colon + 1, &end, 10);
	if (errno || *end || colon[1] < '0' || colon[1] > '9' || p > 65535)
		return -1;
	*port = (unsigned)p;
	return 0;
}

int wsc_serve_main(int argc, char **argv, const char *version)
{
	enum {
		O_LISTEN = 256,
		O_EXEC,
		O_WEBPORT,
		O_REPORTDIR,
		O_NOREPORT,
		O_JUNIT,
		O_CASES,
		O_EXCLUDE,
		O_CASEFILE,
		O_PROFILE,
		O_XA,
		O_SHARD,
		O_STRICT,
		O_TSCALE,
	};
	static const struct option opts[] = {
	        {"listen", required_argument, NULL, O_LISTEN},
	        {"exec", required_argument, NULL, O_EXEC},
	        {"web-port", required_argument, NULL, O_WEBPORT},
	        {"report-dir", required_argument, NULL, O_REPORTDIR},
	        {"no-report", no_argument, NULL, O_NOREPORT},
	        {"junit", required_argument, NULL, O_JUNIT},
	        {"cases", required_argument, NULL, O_CASES},
	        {"exclude", required_argument, NULL, O_EXCLUDE},
	        {"case-file", required_argument, NULL, O_CASEFILE},
	        {"profile", required_argument, NULL, O_PROFILE},
	        {"exclude-agent-cases", required_argument, NULL, O_XA},
	        {"shard", required_argument, NULL, O_SHARD},
	        {"strict", no_argument, NULL, O_STRICT},
	        {"timeout-scale", required_argument, NULL, O_TSCALE},
	        {"quiet", no_argument, NULL, 'q'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	struct wsc_serve_config cfg;
	memset(&cfg, 0, sizeof cfg);
	cfg.report_dir = "reports/clients";
	cfg.timeout_scale = 1.0;
	cfg.version = version;
	cfg.profile = WSC_PROFILE_RFC;
	struct slist cases = {0}, excl = {0}, files = {0}, xa_a = {0}, xa_c = {0};
	char host[256] = "";
	bool have_listen = false;
	unsigned shard_i = 0, shard_n = 0;
	int rc = WSC_EXIT_USAGE;
	struct wsc_catalog cat;
	memset(&cat, 0, sizeof cat);
	size_t *sel = NULL, n_sel = 0;

	optind = 1;
	opterr = 0;
	int c;
	/* argv[1] is "client": getopt sees it as the program name */
	while ((c = getopt_long(argc - 1, argv + 1, ":qh", opts, NULL)) != -1) {
		switch (c) {
		case O_LISTEN:
			if (wsc_parse_hostport(optarg, host, sizeof host, &cfg.listen_port) < 0) {
				rc = usage("--listen: '%s' is not HOST:PORT", optarg);
				goto out;
			}
			have_listen = true;
			break;
		case O_EXEC:
			if (!*optarg) {
				rc = usage("--exec: empty command");
				goto out;
			}
			cfg.exec = optarg;
			break;
		case O_WEBPORT: {
			char *end;
			unsigned long p = strtoul(optarg, &end, 10);
			if (*end || !*optarg || p < 1 || p > 65535) {
				rc = usage("--web-port: '%s' is not a port number", optarg);
				goto out;
			}
			cfg.web_port = (unsigned)p;
			break;
		}
		case O_REPORTDIR:
			if (!*optarg) {
				rc = usage("--report-dir: empty path");
				goto out;
			}
			cfg.report_dir = optarg;
			break;
		case O_NOREPORT:
			cfg.report_dir = NULL;
			break;
		case O_JUNIT:
			cfg.junit = optarg;
			break;
		case O_CASES:
		case O_EXCLUDE:
		case O_CASEFILE:
			if (slist_add_csv(c == O_CASES     ? &cases
			                  : c == O_EXCLUDE ? &excl
			                                   : &files,
			                  optarg) < 0) {
				msg("out of memory");
				rc = WSC_EXIT_UNTESTED;
				goto out;
			}
			break;
		case O_PROFILE:
			if (!strcmp(optarg, "rfc"))
				cfg.profile = WSC_PROFILE_RFC;
			else if (!strcmp(optarg, "autobahn"))
				cfg.profile = WSC_PROFILE_AUTOBAHN;
			else if (!strcmp(optarg, "hardened"))
				cfg.profile = WSC_PROFILE_HARDENED;
			else {
				rc = usage("--profile: '%s' is not one of rfc, autobahn, hardened",
				           optarg);
				goto out;
			}
			break;
		case O_XA: {
			const char *eq = strchr(optarg, '=');
			if (!eq || eq == optarg || !eq[1]) {
				rc = usage(
				        "--exclude-agent-cases: expected AGENT=PATTERNS, got '%s'",
				        optarg);
				goto out;
			}
			char *a = strndup(optarg, (size_t)(eq - optarg));
			struct slist tmp = {0};
			if (!a || slist_add_csv(&tmp, eq + 1) < 0) {
				free(a);
				slist_free(&tmp);
				rc = WSC_EXIT_UNTESTED;
				goto out;
			}
			for (size_t i = 0; i < tmp.n; i++) {
				slist_add_csv(&xa_a, a);
				slist_add_csv(&xa_c, tmp.v[i]);
			}
			free(a);
			slist_free(&tmp);
			break;
		}
		case O_SHARD:
			if (wsc_shard_parse(optarg, &shard_i, &shard_n) < 0) {
				rc = usage("--shard: '%s' is not I/N with 0 <= I < N", optarg);
				goto out;
			}
			break;
		case O_STRICT:
			cfg.strict = true;
			break;
		case O_TSCALE: {
			char *end;
			double v = strtod(optarg, &end);
			if (*end || !*optarg || !(v >= 0.01 && v <= 100)) {
				rc = usage("--timeout-scale: '%s' is not a number from 0.01 to 100",
				           optarg);
				goto out;
			}
			cfg.timeout_scale = v;
			break;
		}
		case 'q':
			cfg.quiet = true;
			break;
		case 'h':
			client_help(stdout);
			rc = WSC_EXIT_PASS;
			goto out;
		case ':':
			rc = usage("option '%s' needs an argument", argv[optind]);
			goto out;
		default:
			rc = usage("unknown option '%s'", argv[optind]);
			goto out;
		}
	}
	if (optind < argc - 1) {
		rc = usage("unexpected argument '%s'", argv[optind + 1]);
		goto out;
	}
	if (!have_listen) {
		rc = usage("missing --listen HOST:PORT");
		goto out;
	}
	cfg.listen_host = host;

	struct wsc_diag diag;
	memset(&diag, 0, sizeof diag);
	wsc_catalog_init(&cat, cfg.profile);
	if (wsc_catalog_load_builtin(&cat, &diag) < 0) {
		msg("built-in catalog: %s", diag.msg);
		goto out;
	}
	for (size_t i = 0; i < files.n; i++)
		if (wsc_catalog_load_path(&cat, files.v[i], &diag) < 0) {
			msg("%s", diag.msg);
			goto out;
		}
	char err[512] = "";
	if (wsc_select(&cat, (const char *const *)cases.v, cases.n, (const char *const *)excl.v,
	               excl.n, WSC_SIDE_CLIENT, &sel, &n_sel, err, sizeof err) < 0 ||
	    n_sel == 0) {
		msg("%s", err[0] ? err : "no case selected");
		goto out;
	}
	if (shard_n)
		n_sel = wsc_shard_filter(sel, n_sel, shard_i, shard_n);
	if (n_sel == 0) {
		msg("shard %u/%u selects no case", shard_i, shard_n);
		goto out;
	}
	cfg.cat = &cat;
	cfg.sel = sel;
	cfg.n_sel = n_sel;
	cfg.xa_agent = (const char *const *)xa_a.v;
	cfg.xa_case = (const char *const *)xa_c.v;
	cfg.n_xa = xa_a.n;
	rc = wsc_serve_run(&cfg);
out:
	free(sel);
	wsc_catalog_free(&cat);
	slist_free(&cases);
	slist_free(&excl);
	slist_free(&files);
	slist_free(&xa_a);
	slist_free(&xa_c);
	return rc;
}
