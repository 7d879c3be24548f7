/*
 * wsref-client - a libwsref client that follows the Autobahn fuzzingserver URL
 * protocol, so the reference library can be tested as a client:
 *
 *   /getCaseCount                   one text message holding the case count N
 *   /runCase?case=I&agent=NAME      for I = 1..N: echo every text/binary
 *                                   message with its type until the close
 *                                   handshake completes
 *   /updateReports?agent=NAME       ask the server to write its reports
 *
 * One connection at a time over blocking sockets; every wait is a poll() with
 * a timeout so a silent server never hangs the run. Masking, pongs, Close
 * replies and failing on protocol errors are the library's job.
 *
 * Exit status: 0 when every step completed, 1 on any error (printed on stderr),
 * 2 on bad usage.
 */
#include <wsref/wsref.h>

#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define READ_BUF_SIZE (64 * 1024)
#define DRAIN_MS      2000 /* after our part of the close: wait for the server's FIN */

struct target {
	char host[256]; /* for getaddrinfo (brackets removed) */
	char port[8];
	char hostport[300]; /* Host header value */
};

struct options {
	struct target t;
	const char *agent;
	bool no_deflate;
	long cases; /* 0: ask the server */
	int timeout_ms;
	bool verbose;
};

enum mode { MODE_COUNT, MODE_ECHO, MODE_PLAIN };

/* What one connection ended with. */
struct result {
	bool opened;
	bool failed; /* handshake or I/O error, timeout: an error of the run */
	char why[256];
	long count; /* MODE_COUNT: the integer received, -1 if none */
	unsigned messages;
	uint16_t close_code;    /* peer's Close code, 0 if none */
	enum wsr_status status; /* protocol failure detected by the library, WSR_OK if none */
};

static bool g_verbose;

static void vlog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void vlog(const char *fmt, ...)
{
	if (!g_verbose)
		return;
	va_list ap;
	va_start(ap, fmt);
	fputs("wsref-client: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void fail_result(struct result *r, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
static void fail_result(struct result *r, const char *fmt, ...)
{
	if (r->failed)
		return;
	r->failed = true;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->why, sizeof r->why, fmt, ap);
	va_end(ap);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ws://HOST[:PORT][/] ; HOST may be [v6]. */
static bool parse_url(const char *url, struct target *t)
{
	const char *p;
	if (!strncmp(url, "ws://", 5)) {
		p = url + 5;
	} else {
		fprintf(stderr, "wsref-client: only ws:// URLs are supported: %s\n", url);
		return false;
	}
	const char *end = p + strcspn(p, "/?#");
	if (end[0] == '/' && end[1] != '\0') {
		fprintf(stderr, "wsref-client: URL must not have a path: %s\n", url);
		return false;
	}
	const char *hs = p, *he, *port = NULL;
	if (*p == '[') {
		const char *rb = memchr(p, ']', (size_t)(end - p));
		if (!rb)
			return false;
		hs = p + 1;
		he = rb;
		if (rb + 1 < end && rb[1] == ':')
			port = rb + 2;
		else if (rb + 1 != end)
			return false;
	} else {
		const char *colon = memchr(p, ':', (size_t)(end - p));
		he = colon ? colon : end;
		if (colon)
			port = colon + 1;
	}
	size_t hl = (size_t)(he - hs);
	if (hl == 0 || hl >= sizeof t->host)
		return false;
	memcpy(t->host, hs, hl);
	t->host[hl] = '\0';
	size_t pl = port ? (size_t)(end - port) : 0;
	if (port && (pl == 0 || pl > 5 || strspn(port, "0123456789") < pl))
		return false;
	if (port) {
		memcpy(t->port, port, pl);
		t->port[pl] = '\0';
	} else {
		strcpy(t->port, "80");
	}
	if (atoi(t->port) < 1 || atoi(t->port) > 65535)
		return false;
	snprintf(t->hostport, sizeof t->hostport, "%.*s", (int)(end - p), p);
	if (!port)
		snprintf(t->hostport, sizeof t->hostport, "%.*s:80", (int)(end - p), p);
	return true;
}

static int connect_to(const struct target *t, struct result *r)
{
	struct addrinfo hints = {0}, *res, *ai;
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	int rc = getaddrinfo(t->host, t->port, &hints, &res);
	if (rc != 0) {
		fail_result(r, "cannot resolve %s: %s", t->host, gai_strerror(rc));
		return -1;
	}
	int fd = -1, err = 0;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		err = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		fail_result(r, "cannot connect to %s: %s", t->hostport, strerror(err));
		return -1;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
}

/* Write all queued output; false on error or timeout. */
static bool flush_out(int fd, struct wsr_conn *ws, int timeout_ms, struct result *r)
{
	for (;;) {
		size_t len = 0;
		const uint8_t *p = wsr_conn_out_buf(ws, &len);
		if (len == 0)
			return true;
		struct pollfd pfd = {.fd = fd, .events = POLLOUT};
		int pr = poll(&pfd, 1, timeout_ms);
		if (pr == 0) {
			fail_result(r, "timeout writing to the server");
			return false;
		}
		if (pr < 0) {
			if (errno == EINTR)
				continue;
			fail_result(r, "poll: %s", strerror(errno));
			return false;
		}
		ssize_t w = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				continue;
			/* The server may close early (e.g. after failing us): not our error. */
			vlog("write: %s", strerror(errno));
			return false;
		}
		wsr_conn_out_ack(ws, (size_t)w);
	}
}

static void handle_events(struct wsr_conn *ws, enum mode mode, struct result *r)
{
	struct wsr_event ev;
	while (wsr_conn_next_event(ws, &ev) == WSR_OK) {
		switch (ev.type) {
		case WSR_EV_OPEN:
			r->opened = true;
			break;
		case WSR_EV_MESSAGE:
			r->messages++;
			if (mode == MODE_COUNT && r->count < 0) {
				char buf[32];
				size_t n = ev.len < sizeof buf - 1 ? ev.len : sizeof buf - 1;
				memcpy(buf, ev.data, n);
				buf[n] = '\0';
				char *end;
				errno = 0;
				long v = strtol(buf, &end, 10);
				if (ev.opcode != WSR_OP_TEXT || ev.len >= sizeof buf ||
				    end == buf || *end || errno || v < 0)
					fail_result(r, "case count is not an integer: \"%s\"", buf);
				else
					r->count = v;
			} else if (mode == MODE_ECHO) {
				enum wsr_status st = wsr_conn_send(ws, ev.opcode, ev.data, ev.len);
				if (st != WSR_OK)
					vlog("echo of %zu bytes failed: %s", ev.len,
					     wsr_status_message(st));
			}
			break;
		case WSR_EV_CLOSE:
			r->close_code = ev.code;
			break;
		case WSR_EV_FAIL:
			r->status = ev.status;
			if (!r->opened)
				fail_result(r, "opening handshake failed: %s",
				            wsr_status_message(ev.status));
			else
				vlog("connection failed: %s (sent close %u)",
				     wsr_status_name(ev.status), ev.code);
			break;
		default:
			break;
		}
	}
}

/* One WebSocket connection to path, run to its end. */
static void run_conn(const struct options *o, const char *path, enum mode mode, struct result *r)
{
	memset(r, 0, sizeof *r);
	r->count = -1;
	int fd = connect_to(&o->t, r);
	if (fd < 0)
		return;
	struct wsr_config cfg = {0};
	cfg.role = WSR_ROLE_CLIENT;
	cfg.path = path;
	cfg.host = o->t.hostport;
	cfg.deflate.enabled = !o->no_deflate;
	struct wsr_conn *ws = malloc(wsr_conn_size());
	static uint8_t buf[READ_BUF_SIZE];
	if (!ws) {
		fail_result(r, "out of memory");
		close(fd);
		return;
	}
	enum wsr_status st = wsr_conn_init(ws, &cfg);
	if (st != WSR_OK) {
		fail_result(r, "wsr_conn_init: %s", wsr_status_message(st));
		free(ws);
		close(fd);
		return;
	}
	bool eof = false;
	while (!r->failed) {
		if (!flush_out(fd, ws, o->timeout_ms, r))
			break;
		if (wsr_conn_done(ws))
			break;
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int pr = poll(&pfd, 1, o->timeout_ms);
		if (pr == 0) {
			fail_result(r, "no data from the server for %d ms", o->timeout_ms);
			break;
		}
		if (pr < 0) {
			if (errno == EINTR)
				continue;
			fail_result(r, "poll: %s", strerror(errno));
			break;
		}
		ssize_t n = recv(fd, buf, sizeof buf, 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			if (n < 0)
				vlog("read: %s", strerror(errno));
			eof = true;
			break;
		}
		const uint8_t *p = buf;
		size_t left = (size_t)n;
		int stalls = 0;
		while (left > 0 && !wsr_conn_done(ws)) {
			size_t used = wsr_conn_recv(ws, p, left);
			p += used;
			left -= used;
			handle_events(ws, mode, r);
			stalls = used ? 0 : stalls + 1;
			if (stalls > 1) {
				fail_result(r, "library made no progress on input");
				break;
			}
		}
	}
	if (!r->opened)
		fail_result(r, eof ? "server closed the connection during the handshake"
		                   : "connection never opened");
	/* The server closes TCP first (RFC 6455 section 7.1.1): after our last
	 * bytes, wait a little for its FIN rather than resetting. */
	if (!eof && !r->failed) {
		shutdown(fd, SHUT_WR);
		int64_t deadline = now_ms() + DRAIN_MS;
		for (;;) {
			int64_t left_ms = deadline - now_ms();
			if (left_ms <= 0)
				break;
			struct pollfd pfd = {.fd = fd, .events = POLLIN};
			if (poll(&pfd, 1, (int)left_ms) <= 0)
				break;
			if (recv(fd, buf, sizeof buf, 0) <= 0)
				break;
		}
	}
	wsr_conn_free(ws);
	free(ws);
	close(fd);
}

/* Percent-encode an agent name for a query string. */
static void encode(const char *in, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t j = 0;
	for (const unsigned char *p = (const unsigned char *)in; *p && j + 4 < cap; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~", *p)) {
			out[j++] = (char)*p;
		} else {
			out[j++] = '%';
			out[j++] = hex[*p >> 4];
			out[j++] = hex[*p & 15];
		}
	}
	out[j] = '\0';
}

static void usage(FILE *f)
{
	fputs("usage: wsref-client ws://HOST:PORT [--agent NAME] [--no-deflate] [--cases N]\n"
	      "                    [--timeout SECONDS] [--verbose]\n"
	      "Runs the Autobahn fuzzingserver client protocol against HOST:PORT.\n",
	      f);
}

int main(int argc, char **argv)
{
	struct options o = {0};
	const char *url = NULL;
	o.agent = "wsref-client";
	o.timeout_ms = 60000;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--agent") && v) {
			o.agent = v;
			i++;
		} else if (!strcmp(a, "--cases") && v) {
			char *end;
			o.cases = strtol(v, &end, 10);
			if (*end || end == v || o.cases <= 0) {
				fprintf(stderr,
				        "wsref-client: --cases: not a positive number: %s\n", v);
				return 2;
			}
			i++;
		} else if (!strcmp(a, "--timeout") && v) {
			char *end;
			long t = strtol(v, &end, 10);
			if (*end || end == v || t <= 0 || t > 3600) {
				fprintf(stderr, "wsref-client: --timeout: 1..3600 seconds\n");
				return 2;
			}
			o.timeout_ms = (int)t * 1000;
			i++;
		} else if (!strcmp(a, "--no-deflate")) {
			o.no_deflate = true;
		} else if (!strcmp(a, "--verbose") || !strcmp(a, "-v")) {
			o.verbose = true;
		} else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 0;
		} else if (!url && a[0] != '-') {
			url = a;
		} else {
			usage(stderr);
			fprintf(stderr, "wsref-client: bad argument: %s\n", a);
			return 2;
		}
	}
	if (!url) {
		usage(stderr);
		return 2;
	}
	if (!parse_url(url, &o.t)) {
		fprintf(stderr, "wsref-client: bad URL: %s\n", url);
		return 2;
	}
	g_verbose = o.verbose;
	signal(SIGPIPE, SIG_IGN);

	char agent[256], path[512];
	encode(o.agent, agent, sizeof agent);
	struct result r;
	long n = o.cases;
	if (n == 0) {
		run_conn(&o, "/getCaseCount", MODE_COUNT, &r);
		if (r.failed || r.count < 0) {
			fprintf(stderr, "wsref-client: /getCaseCount: %s\n",
			        r.failed ? r.why : "no case count received");
			return 1;
		}
		n = r.count;
	}
	fprintf(stderr, "wsref-client: running %ld cases as agent \"%s\"\n", n, o.agent);
	unsigned errors = 0;
	for (long i = 1; i <= n; i++) {
		snprintf(path, sizeof path, "/runCase?case=%ld&agent=%s", i, agent);
		run_conn(&o, path, MODE_ECHO, &r);
		if (r.failed) {
			errors++;
			fprintf(stderr, "wsref-client: case %ld: %s\n", i, r.why);
			if (!r.opened && !r.messages && errors >= 3 && errors == (unsigned)i) {
				fprintf(stderr,
				        "wsref-client: giving up: first cases all failed\n");
				return 1;
			}
		} else {
			vlog("case %ld: %u messages, peer close %u, %s", i, r.messages,
			     r.close_code, wsr_status_name(r.status));
		}
	}
	snprintf(path, sizeof path, "/updateReports?agent=%s", agent);
	run_conn(&o, path, MODE_PLAIN, &r);
	if (r.failed) {
		fprintf(stderr, "wsref-client: /updateReports: %s\n", r.why);
		errors++;
	}
	if (errors) {
		fprintf(stderr, "wsref-client: %u of %ld steps had errors\n", errors, n + 1);
		return 1;
	}
	fprintf(stderr, "wsref-client: done: %ld cases\n", n);
	return 0;
}
