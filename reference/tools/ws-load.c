/*
 * ws-load - closed-loop echo load for scripts/bench-echo.
 *
 *   ws-load --port P [--host H] [--mode ws|raw] [--conns N] [--seconds T]
 *           [--size S] [--warmup W] [--server-pid PID]
 *
 * Opens N connections (default 32). In ws mode each does the opening
 * handshake (checking the 101 and Sec-WebSocket-Accept) and then, over and
 * over, sends one masked text frame with S payload bytes (default 32, at most
 * 125) and waits for the whole unmasked echo, checking it byte for byte. In
 * raw mode each sends the same number of bytes the ws frame takes on the wire
 * (S + 6) and waits for them to come back. Every connection has exactly one
 * message in flight (closed loop), so the echoes per second are what the
 * server can turn around. The frame is masked once, before the run, so the
 * load costs the same per echo in both modes.
 *
 * For W seconds (default 1) echoes are not counted (the server warms up),
 * then for T seconds (default 5) they are. With --server-pid, the server's
 * CPU time (utime + stime from /proc/PID/stat, all its threads) is read at
 * the start and at the end of the counted window. Prints one line:
 *   echoes=<n> seconds=<t> server_cpu=<s or -1> conns=<N> size=<S> mode=<ws|raw>
 * and exits 0; any failure (refused, bad handshake, wrong echo, early EOF)
 * exits 1 with a message on stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <wsref/wsref.h>

#define MAX_CONNS 4096

struct lconn {
	int fd;
	size_t sent;  /* bytes of the request written */
	size_t got;   /* bytes of the reply read */
	bool writing; /* registered for EPOLLOUT */
};

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("ws-load: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long num_arg(const char *name, const char *v, long lo, long hi)
{
	char *end;
	errno = 0;
	long n = strtol(v, &end, 10);
	if (errno || *end || n < lo || n > hi)
		die("%s: expected %ld..%ld, got %s", name, lo, hi, v);
	return n;
}

/* utime + stime of a process in seconds, or -1. */
static double proc_cpu(long pid)
{
	if (pid <= 0)
		return -1;
	char path[64], line[1024];
	snprintf(path, sizeof path, "/proc/%ld/stat", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(line, 1, sizeof line - 1, f);
	fclose(f);
	line[n] = 0;
	/* The command name (field 2) is in parentheses and may hold spaces. */
	const char *p = strrchr(line, ')');
	if (!p)
		return -1;
	unsigned long long ut = 0, st = 0;
	/* after ")": state(3) ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
	 * utime(14) stime(15) */
	if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return -1;
	long hz = sysconf(_SC_CLK_TCK);
	return hz > 0 ? (double)(ut + st) / (double)hz : -1;
}

static int connect_to(const char *host, const char *port)
{
	struct addrinfo hints = {0}, *res, *ai;
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	int rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0)
		die("cannot resolve %s:%s: %s", host, port, gai_strerror(rc));
	int fd = -1;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		die("cannot connect to %s:%s: %s", host, port, strerror(errno));
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
}

static void write_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;
	while (n > 0) {
		ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			die("send: %s", w < 0 ? strerror(errno) : "closed");
		b += w;
		n -= (size_t)w;
	}
}

/* Send (the rest of) the request; wait for EPOLLOUT if the socket is full. */
static void try_send(int epfd, struct lconn *c, const uint8_t *req, size_t len)
{
	while (c->sent < len) {
		ssize_t w = send(c->fd, req + c->sent, len - c->sent, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (w <= 0)
			die("send: %s", w < 0 ? strerror(errno) : "closed");
		c->sent += (size_t)w;
	}
	bool out = c->sent < len;
	if (out != c->writing) {
		struct epoll_event ev = {.events = out ? EPOLLOUT : EPOLLIN, .data.ptr = c};
		if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0)
			die("epoll_ctl: %s", strerror(errno));
		c->writing = out;
	}
}

/* Blocking handshake on fd: send the upgrade, read the head, check the 101. */
static void handshake(int fd, const char *host, unsigned idx)
{
	uint8_t rnd[16];
	for (int i = 0; i < 16; i++)
		rnd[i] = (uint8_t)(idx * 31u + (unsigned)i * 7u + 1u);
	char key[32];
	EVP_EncodeBlock((unsigned char *)key, rnd, 16);
	char req[512];
	int n = snprintf(req, sizeof req,
	                 "GET / HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
	                 "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
	                 "Sec-WebSocket-Version: 13\r\n\r\n",
	                 host, key);
	write_all(fd, req, (size_t)n);
	char head[4096];
	size_t len = 0;
	while (len < 4 || memcmp(head + len - 4, "\r\n\r\n", 4) != 0) {
		if (len == sizeof head - 1)
			die("handshake: response head too long");
		/* one byte at a time: nothing after the head may be swallowed */
		ssize_t r = recv(fd, head + len, 1, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			die("handshake: %s", r < 0 ? strerror(errno) : "closed");
		len++;
	}
	head[len] = 0;
	if (strncmp(head, "HTTP/1.1 101", 12) != 0)
		die("handshake: not a 101: %.40s", head);
	char acc[29];
	wsr_handshake_accept(key, strlen(key), acc);
	if (!strstr(head, acc))
		die("handshake: no or wrong Sec-WebSocket-Accept");
}

int main(int argc, char **argv)
{
	const char *host = "127.0.0.1", *port = NULL;
	bool ws = true;
	long conns = 32, seconds = 5, size = 32, warmup = 1, server_pid = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--help")) {
			puts("usage: ws-load --port P [--host H] [--mode ws|raw] [--conns N] "
			     "[--seconds T] [--size S] [--warmup W] [--server-pid PID]");
			return 0;
		}
		if (!v)
			die("%s needs a value (see --help)", a);
		i++;
		if (!strcmp(a, "--port"))
			port = v;
		else if (!strcmp(a, "--host"))
			host = v;
		else if (!strcmp(a, "--mode") && (!strcmp(v, "ws") || !strcmp(v, "raw")))
			ws = !strcmp(v, "ws");
		else if (!strcmp(a, "--conns"))
			conns = num_arg(a, v, 1, MAX_CONNS);
		else if (!strcmp(a, "--seconds"))
			seconds = num_arg(a, v, 1, 3600);
		else if (!strcmp(a, "--size"))
			size = num_arg(a, v, 0, 125);
		else if (!strcmp(a, "--warmup"))
			warmup = num_arg(a, v, 0, 3600);
		else if (!strcmp(a, "--server-pid"))
			server_pid = num_arg(a, v, 1, 1L << 30);
		else
			die("unknown option %s %s (see --help)", a, v);
	}
	if (!port)
		die("--port is required");

	/* The request: one masked text frame, masked here once. */
	size_t plen = (size_t)size;
	uint8_t req[6 + 125], want[2 + 125];
	uint8_t payload[125];
	for (size_t i = 0; i < plen; i++)
		payload[i] = (uint8_t)('a' + i % 26);
	static const uint8_t mask[4] = {0x37, 0xfa, 0x21, 0x3d};
	req[0] = 0x81;
	req[1] = (uint8_t)(0x80 | plen);
	memcpy(req + 2, mask, 4);
	for (size_t i = 0; i < plen; i++)
		req[6 + i] = payload[i] ^ mask[i % 4];
	size_t req_len = 6 + plen;
	/* What comes back: in ws mode the unmasked frame, in raw mode the bytes sent. */
	size_t want_len;
	if (ws) {
		want[0] = 0x81;
		want[1] = (uint8_t)plen;
		memcpy(want + 2, payload, plen);
		want_len = 2 + plen;
	} else {
		memcpy(want, req, req_len);
		want_len = req_len;
	}

	struct lconn *cs = calloc((size_t)conns, sizeof *cs);
	if (!cs)
		die("out of memory");
	int epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		die("epoll_create1: %s", strerror(errno));
	for (long i = 0; i < conns; i++) {
		cs[i].fd = connect_to(host, port);
		if (ws)
			handshake(cs[i].fd, host, (unsigned)i);
		int fl = fcntl(cs[i].fd, F_GETFL);
		if (fl < 0 || fcntl(cs[i].fd, F_SETFL, fl | O_NONBLOCK) < 0)
			die("fcntl: %s", strerror(errno));
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &cs[i]};
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, cs[i].fd, &ev) < 0)
			die("epoll_ctl: %s", strerror(errno));
	}

	double t0 = now_s();
	double t_count = t0 + (double)warmup, t_end = t_count + (double)seconds;
	double t_start = t0;
	bool counting = warmup == 0;
	uint64_t echoes = 0;
	double cpu0 = counting ? proc_cpu(server_pid) : -1;
	for (long i = 0; i < conns; i++)
		try_send(epfd, &cs[i], req, req_len);
	uint8_t buf[2 + 125 + 4];
	for (;;) {
		double t = now_s();
		if (!counting && t >= t_count) {
			counting = true;
			echoes = 0;
			t_start = t;
			cpu0 = proc_cpu(server_pid);
		}
		if (t >= t_end)
			break;
		struct epoll_event evs[256];
		int n = epoll_wait(epfd, evs, 256, 100);
		if (n < 0 && errno != EINTR)
			die("epoll_wait: %s", strerror(errno));
		for (int k = 0; k < n; k++) {
			struct lconn *c = evs[k].data.ptr;
			if (c->writing) {
				try_send(epfd, c, req, req_len);
				continue;
			}
			for (;;) {
				ssize_t r = recv(c->fd, buf, want_len - c->got, 0);
				if (r < 0 && errno == EINTR)
					continue;
				if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
					break;
				if (r <= 0)
					die("recv: %s", r < 0 ? strerror(errno) : "server closed");
				if (memcmp(buf, want + c->got, (size_t)r) != 0)
					die("wrong echo at byte %zu", c->got);
				c->got += (size_t)r;
				if (c->got == want_len) {
					echoes++;
					c->got = 0;
					c->sent = 0;
					try_send(epfd, c, req, req_len);
					break;
				}
			}
		}
	}
	double elapsed = now_s() - t_start;
	double cpu1 = proc_cpu(server_pid);
	double cpu = cpu0 >= 0 && cpu1 >= 0 ? cpu1 - cpu0 : -1;
	printf("echoes=%" PRIu64 " seconds=%.3f server_cpu=%.2f conns=%ld size=%ld mode=%s\n",
	       echoes, elapsed, cpu, conns, size, ws ? "ws" : "raw");
	for (long i = 0; i < conns; i++)
		close(cs[i].fd);
	free(cs);
	close(epfd);
	return 0;
}
