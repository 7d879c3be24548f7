/*
 * raw-echo - a minimal TCP echo server: the baseline scripts/bench-echo sets
 * wsref-echo against. Every byte read on a connection is written back.
 *
 *   raw-echo --port P [--host H]
 *
 * One thread, one level-triggered epoll loop, non-blocking sockets with
 * TCP_NODELAY, reads through one shared 64 KiB buffer: the same shape as
 * wsref-echo's loop, minus the WebSocket work, so that the two differ only in
 * what the bench is meant to measure. Bytes that the socket does not take at
 * once are kept per connection (growing as needed) and reading from that
 * connection stops until they are gone. The bound port is printed on stdout
 * as one line once listening (--port 0 picks a free one). SIGTERM or SIGINT
 * ends it with status 0.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define READ_BUF_SIZE (64 * 1024)

struct conn {
	int fd;
	uint8_t *pend; /* bytes not yet written back: owned, malloc'd */
	size_t pend_len, pend_cap;
	bool want_out; /* registered for EPOLLOUT instead of EPOLLIN */
};

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("raw-echo: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static int listen_on(const char *host, const char *port)
{
	struct addrinfo hints = {0}, *res, *ai;
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	int rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0)
		die("cannot resolve %s:%s: %s", host ? host : "*", port, gai_strerror(rc));
	int fd = -1;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		            ai->ai_protocol);
		if (fd < 0)
			continue;
		int one = 1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 511) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		die("cannot listen on %s:%s: %s", host ? host : "*", port, strerror(errno));
	return fd;
}

static unsigned bound_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		die("getsockname: %s", strerror(errno));
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

static void conn_close(int epfd, struct conn *c)
{
	epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->pend);
	free(c);
}

static void set_interest(int epfd, struct conn *c, bool out)
{
	if (c->want_out == out)
		return;
	struct epoll_event ev = {.events = out ? EPOLLOUT : EPOLLIN, .data.ptr = c};
	epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
	c->want_out = out;
}

/* Write p[0, n) now as far as the socket takes it; keep the rest. False: drop the conn. */
static bool send_or_keep(struct conn *c, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	if (n == 0)
		return true;
	if (c->pend_len + n > c->pend_cap) {
		size_t cap = c->pend_cap ? c->pend_cap : 4096;
		while (cap < c->pend_len + n)
			cap *= 2;
		uint8_t *q = realloc(c->pend, cap);
		if (!q)
			return false;
		c->pend = q;
		c->pend_cap = cap;
	}
	memcpy(c->pend + c->pend_len, p, n);
	c->pend_len += n;
	return true;
}

/* Readable: echo what is there. False: drop the conn. */
static bool on_in(struct conn *c, uint8_t *buf)
{
	for (;;) {
		ssize_t r = recv(c->fd, buf, READ_BUF_SIZE, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return true;
		if (r <= 0)
			return false;
		if (!send_or_keep(c, buf, (size_t)r))
			return false;
		if (c->pend_len)
			return true; /* stop reading until the peer takes the rest */
		if ((size_t)r < READ_BUF_SIZE)
			return true;
	}
}

/* Writable: flush what was kept. False: drop the conn. */
static bool on_out(struct conn *c)
{
	size_t off = 0;
	while (off < c->pend_len) {
		ssize_t w = send(c->fd, c->pend + off, c->pend_len - off, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (w <= 0)
			return false;
		off += (size_t)w;
	}
	memmove(c->pend, c->pend + off, c->pend_len - off);
	c->pend_len -= off;
	return true;
}

int main(int argc, char **argv)
{
	const char *host = NULL, *port = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--port") && i + 1 < argc) {
			port = argv[++i];
		} else if (!strcmp(argv[i], "--host") && i + 1 < argc) {
			host = argv[++i];
		} else if (!strcmp(argv[i], "--help")) {
			puts("usage: raw-echo --port P [--host H]");
			return 0;
		} else {
			fprintf(stderr, "usage: raw-echo --port P [--host H]\n");
			return 2;
		}
	}
	if (!port) {
		fprintf(stderr, "usage: raw-echo --port P [--host H]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		die("sigprocmask: %s", strerror(errno));
	int sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd < 0)
		die("signalfd: %s", strerror(errno));
	int lfd = listen_on(host, port);
	int epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		die("epoll_create1: %s", strerror(errno));
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &lfd};
	epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &ev);
	ev.data.ptr = &sfd;
	epoll_ctl(epfd, EPOLL_CTL_ADD, sfd, &ev);
	printf("%u\n", bound_port(lfd));
	fflush(stdout);

	static uint8_t buf[READ_BUF_SIZE];
	bool running = true;
	while (running) {
		struct epoll_event evs[64];
		int n = epoll_wait(epfd, evs, 64, -1);
		if (n < 0 && errno != EINTR)
			die("epoll_wait: %s", strerror(errno));
		for (int i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;
			if (p == &lfd) {
				for (;;) {
					int fd = accept4(lfd, NULL, NULL,
					                 SOCK_NONBLOCK | SOCK_CLOEXEC);
					if (fd < 0)
						break;
					int one = 1;
					setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
					struct conn *c = calloc(1, sizeof *c);
					if (!c) {
						close(fd);
						continue;
					}
					c->fd = fd;
					struct epoll_event cev = {.events = EPOLLIN, .data.ptr = c};
					if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &cev) < 0) {
						close(fd);
						free(c);
					}
				}
			} else if (p == &sfd) {
				struct signalfd_siginfo si;
				while (read(sfd, &si, sizeof si) == sizeof si)
					running = false;
			} else {
				struct conn *c = p;
				bool ok = c->want_out ? on_out(c) : on_in(c, buf);
				if (!ok) {
					conn_close(epfd, c);
					continue;
				}
				set_interest(epfd, c, c->pend_len > 0);
			}
		}
	}
	close(lfd);
	close(epfd);
	return 0;
}
