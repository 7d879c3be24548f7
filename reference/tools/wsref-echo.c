/*
 * wsref-echo - the reference WebSocket echo server built on libwsref.
 *
 * One epoll loop per worker thread (--threads, default 1), non-blocking
 * sockets, any number of connections. Every text or binary message is echoed
 * whole with its type.
 * Pings, closes and protocol failures are answered by the library; this file
 * only moves bytes between sockets and wsr_conn objects, keeps the clock
 * (idle timeout, lingering close) and applies backpressure.
 *
 * The bound port is printed on stdout as one line once the socket listens,
 * so a harness can start it with --port 0 and learn the port without sleeping.
 *
 * With --threads 1 (the default) the main thread runs the one loop and its
 * signalfd is in that loop. With N > 1 every worker owns a listening socket
 * bound to the same address with SO_REUSEPORT (the kernel spreads incoming
 * connections over them), its own epoll set, clients, read buffer and
 * counters; nothing mutable is shared. The main thread only waits on the
 * signalfd, then makes a shared eventfd readable, which ends every loop, and
 * joins the workers. libwsref keeps no global state; the SSL_CTX is only
 * read (SSL_new) after setup.
 *
 * Memory per connection: the client record, wsr_conn_size() bytes, what the
 * library holds (bounded by --max-frame / --max-message and its output limit)
 * and, with TLS, OpenSSL's buffers. Reads go through one 64 KiB buffer per
 * worker and are fed to the library before the next read, so no input is
 * kept here.
 */
#include <wsref/wsref.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define READ_BUF_SIZE  (64 * 1024)
#define HIGH_WATER     (256 * 1024) /* stop reading while this much output is queued */
#define LINGER_MS      2000         /* how long to drain input after our FIN */
#define READS_PER_TURN 16           /* fairness: reads per readiness event */
#define MAX_ARGS       32
#define MAX_THREADS    256

struct options {
	const char *host;
	const char *port;
	const char *cert;
	const char *key;
	bool no_deflate;
	uint64_t max_message;
	uint64_t max_frame;
	const char *origins[MAX_ARGS];
	size_t num_origins;
	const char *protocols[MAX_ARGS];
	size_t num_protocols;
	unsigned idle_timeout;
	bool verbose;
	bool self_check;
	unsigned threads; /* workers; 0 on the command line means one per online CPU */
};

/* One accepted connection. Owned by the server's list; freed by client_free. */
struct client {
	struct client *prev, *next;
	int fd;
	SSL *ssl;             /* NULL without TLS */
	struct wsr_conn *ws;  /* wsr_conn_size() bytes, owned */
	int64_t last_active;  /* ms, CLOCK_MONOTONIC */
	int64_t linger_until; /* ms; set once we sent FIN */
	uint32_t epoll_mask;  /* what is registered now */
	bool read_eof;        /* peer closed its side (or read error) */
	bool lingering;       /* our side is shut; draining input until EOF */
	bool ssl_read_wants_write;
	bool ssl_write_wants_read;
	bool idle_closing; /* we sent Close 1001 for idleness */
	bool dead;         /* to be freed */
};

/* One worker: an epoll loop with its own listening socket and clients. Only
 * its own thread touches it while it runs; main reads the counters after
 * joining it. */
struct server {
	const struct options *opt; /* shared, read-only */
	const struct wsr_config *cfg;
	SSL_CTX *ssl_ctx; /* shared; only SSL_new is called on it */
	unsigned index;
	pthread_t thread;
	int epfd;
	int lfd;
	int sfd;           /* ends the loop: the signalfd, or the shared stop eventfd */
	bool sfd_is_event; /* the stop eventfd: left readable for the other workers */
	struct client *clients;
	size_t num_clients;
	uint64_t accepted; /* connections accepted */
	uint64_t echoed;   /* messages echoed */
	uint8_t rbuf[READ_BUF_SIZE];
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Set before any worker starts, read-only afterwards. */
static bool g_verbose;
static bool g_multi; /* more than one worker: log lines name theirs */
/* The worker this thread runs (1-based), 0 in the main thread. */
static _Thread_local unsigned t_worker;

/* One log line, whole: the lock keeps workers' lines from interleaving. */
static void vlog_line(const char *fmt, va_list ap)
{
	flockfile(stderr);
	if (g_multi && t_worker)
		fprintf(stderr, "wsref-echo[%u]: ", t_worker);
	else
		fputs("wsref-echo: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	funlockfile(stderr);
}

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...)
{
	if (!g_verbose)
		return;
	va_list ap;
	va_start(ap, fmt);
	vlog_line(fmt, ap);
	va_end(ap);
}

/* Fatal error: exit 2. In a worker while others run, skip the atexit
 * handlers (OpenSSL's cleanup) that would pull state from under them. */
static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog_line(fmt, ap);
	va_end(ap);
	if (t_worker) {
		fflush(stderr);
		_exit(2);
	}
	exit(2);
}

/* ------------------------------------------------------------------------ */
/* Per-connection I/O                                                        */
/* ------------------------------------------------------------------------ */

static size_t out_pending(struct client *cl)
{
	size_t len = 0;
	wsr_conn_out_buf(cl->ws, &len);
	return len;
}

/* Pull every waiting event and act on it. Only MESSAGE needs us: the library
 * queues pongs and close replies itself. */
static void handle_events(struct server *s, struct client *cl)
{
	struct wsr_event ev;
	while (wsr_conn_next_event(cl->ws, &ev) == WSR_OK) {
		switch (ev.type) {
		case WSR_EV_MESSAGE: {
			enum wsr_status st = wsr_conn_send(cl->ws, ev.opcode, ev.data, ev.len);
			if (st == WSR_OK)
				s->echoed++;
			if (st != WSR_OK) {
				logf_("fd %d: echo of %zu bytes failed: %s", cl->fd, ev.len,
				      wsr_status_message(st));
				if (st == WSR_NOMEM && wsr_conn_state(cl->ws) == WSR_STATE_OPEN)
					wsr_conn_close(cl->ws, WSR_CLOSE_INTERNAL_ERROR, NULL, 0);
			}
			break;
		}
		case WSR_EV_OPEN:
			logf_("fd %d: open (subprotocol \"%s\")", cl->fd,
			      wsr_conn_subprotocol(cl->ws));
			break;
		case WSR_EV_CLOSE:
			logf_("fd %d: peer close %u", cl->fd, ev.code);
			break;
		case WSR_EV_FAIL:
			logf_("fd %d: failed: %s (close %u, http %d)", cl->fd,
			      wsr_status_name(ev.status), ev.code, ev.http_status);
			break;
		default:
			break;
		}
	}
}

/* Feed bytes just read, pulling events between pieces. Returns false if the
 * library stopped making progress (a library bug: never spin on it). */
static bool feed(struct server *s, struct client *cl, const uint8_t *p, size_t n)
{
	int stalls = 0;
	while (n > 0) {
		size_t used = wsr_conn_recv(cl->ws, p, n);
		p += used;
		n -= used;
		handle_events(s, cl);
		if (wsr_conn_done(cl->ws))
			return true; /* anything after the end is discarded */
		stalls = used ? 0 : stalls + 1;
		if (stalls > 1) {
			/* Nothing consumed twice although every event was pulled. */
			fprintf(stderr, "wsref-echo: fd %d: library made no progress\n", cl->fd);
			return false;
		}
	}
	return true;
}

static bool want_read(struct client *cl)
{
	if (cl->read_eof || cl->dead)
		return false;
	if (cl->lingering)
		return true;
	if (wsr_conn_done(cl->ws))
		return false;
	return out_pending(cl) < HIGH_WATER;
}

/* One read: returns >0 bytes, 0 on EOF, -1 on would-block, -2 on error. */
static ssize_t do_read_once(struct client *cl, uint8_t *buf, size_t cap)
{
	if (cl->ssl && !cl->lingering) {
		ERR_clear_error();
		int r = SSL_read(cl->ssl, buf, (int)cap);
		if (r > 0) {
			cl->ssl_read_wants_write = false;
			return r;
		}
		int e = SSL_get_error(cl->ssl, r);
		if (e == SSL_ERROR_WANT_READ)
			return -1;
		if (e == SSL_ERROR_WANT_WRITE) {
			cl->ssl_read_wants_write = true;
			return -1;
		}
		if (e == SSL_ERROR_ZERO_RETURN)
			return 0;
		if (e == SSL_ERROR_SYSCALL && r == 0)
			return 0;
		logf_("fd %d: TLS read error %d", cl->fd, e);
		return -2;
	}
	ssize_t r = read(cl->fd, buf, cap);
	if (r >= 0)
		return r;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return -1;
	return -2;
}

static void do_reads(struct server *s, struct client *cl)
{
	for (int i = 0; i < READS_PER_TURN && want_read(cl); i++) {
		ssize_t r = do_read_once(cl, s->rbuf, sizeof s->rbuf);
		if (r == -1)
			return;
		if (r <= 0) {
			cl->read_eof = true;
			return;
		}
		cl->last_active = now_ms();
		if (cl->lingering)
			continue; /* draining after our FIN: discard */
		if (!feed(s, cl, s->rbuf, (size_t)r)) {
			cl->dead = true;
			return;
		}
	}
}

/* Write queued output until it is empty or the socket would block. */
static void do_writes(struct client *cl)
{
	for (;;) {
		size_t len = 0;
		const uint8_t *p = wsr_conn_out_buf(cl->ws, &len);
		if (len == 0)
			return;
		size_t n;
		if (cl->ssl) {
			ERR_clear_error();
			int w = SSL_write(cl->ssl, p, len > INT32_MAX ? INT32_MAX : (int)len);
			if (w <= 0) {
				int e = SSL_get_error(cl->ssl, w);
				if (e == SSL_ERROR_WANT_WRITE)
					return;
				if (e == SSL_ERROR_WANT_READ) {
					cl->ssl_write_wants_read = true;
					return;
				}
				logf_("fd %d: TLS write error %d", cl->fd, e);
				cl->dead = true;
				return;
			}
			cl->ssl_write_wants_read = false;
			n = (size_t)w;
		} else {
			ssize_t w = send(cl->fd, p, len, MSG_NOSIGNAL);
			if (w < 0) {
				if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
					return;
				logf_("fd %d: write: %s", cl->fd, strerror(errno));
				cl->dead = true;
				return;
			}
			n = (size_t)w;
		}
		wsr_conn_out_ack(cl->ws, n);
		cl->last_active = now_ms();
	}
}

static void client_free(struct server *s, struct client *cl)
{
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, cl->fd, NULL);
	if (cl->ssl)
		SSL_free(cl->ssl);
	close(cl->fd);
	wsr_conn_free(cl->ws);
	free(cl->ws);
	if (cl->prev)
		cl->prev->next = cl->next;
	else
		s->clients = cl->next;
	if (cl->next)
		cl->next->prev = cl->prev;
	s->num_clients--;
	free(cl);
}

/* Our side is finished: send FIN, then drain the peer's input for a while so
 * that unread bytes do not turn our close into a reset that could destroy
 * the Close frame or error response still in flight. */
static void start_linger(struct client *cl)
{
	if (cl->ssl) {
		ERR_clear_error();
		SSL_shutdown(cl->ssl); /* best effort close_notify */
	}
	shutdown(cl->fd, SHUT_WR);
	cl->lingering = true;
	cl->linger_until = now_ms() + LINGER_MS;
}

/* Run one client forward as far as it can go without blocking, then
 * register what it waits for. Frees it when it is finished. */
static void service(struct server *s, struct client *cl)
{
	bool progress = true;
	while (progress && !cl->dead) {
		progress = false;
		size_t before = out_pending(cl);
		bool could_read = want_read(cl);
		if (could_read)
			do_reads(s, cl);
		if (!cl->lingering)
			do_writes(cl);
		/* Output drained below the mark after reads had stopped: read again. */
		if (!could_read && want_read(cl) && out_pending(cl) < before)
			progress = true;
		/* Decrypted bytes TLS holds are invisible to epoll: keep reading. */
		if (could_read && cl->ssl && !cl->lingering && want_read(cl) &&
		    SSL_pending(cl->ssl) > 0)
			progress = true;
	}
	if (!cl->dead && !cl->lingering) {
		if (cl->read_eof) {
			/* The peer is gone (or half-closed without a closing handshake).
			 * Whatever could be written was written above. */
			cl->dead = true;
		} else if (wsr_conn_done(cl->ws) && out_pending(cl) == 0) {
			start_linger(cl);
		}
	}
	if (cl->lingering && cl->read_eof)
		cl->dead = true;
	if (cl->dead) {
		client_free(s, cl);
		return;
	}
	uint32_t mask = 0;
	if (want_read(cl) || cl->ssl_write_wants_read)
		mask |= EPOLLIN;
	if (!cl->lingering && (out_pending(cl) > 0 || cl->ssl_read_wants_write))
		mask |= EPOLLOUT;
	if (mask != cl->epoll_mask) {
		struct epoll_event ev = {.events = mask, .data.ptr = cl};
		epoll_ctl(s->epfd, EPOLL_CTL_MOD, cl->fd, &ev);
		cl->epoll_mask = mask;
	}
}

static void accept_clients(struct server *s)
{
	for (;;) {
		int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				logf_("accept: %s", strerror(errno));
			return;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		struct client *cl = calloc(1, sizeof *cl);
		struct wsr_conn *ws = malloc(wsr_conn_size());
		if (!cl || !ws) {
			free(cl);
			free(ws);
			close(fd);
			continue;
		}
		cl->fd = fd;
		cl->ws = ws;
		enum wsr_status st = wsr_conn_init(ws, s->cfg);
		if (st != WSR_OK) {
			fprintf(stderr, "wsref-echo: wsr_conn_init: %s\n", wsr_status_message(st));
			free(ws);
			free(cl);
			close(fd);
			continue;
		}
		if (s->ssl_ctx) {
			cl->ssl = SSL_new(s->ssl_ctx);
			if (!cl->ssl || !SSL_set_fd(cl->ssl, fd)) {
				if (cl->ssl)
					SSL_free(cl->ssl);
				wsr_conn_free(ws);
				free(ws);
				free(cl);
				close(fd);
				continue;
			}
			SSL_set_accept_state(cl->ssl);
		}
		cl->last_active = now_ms();
		cl->next = s->clients;
		if (s->clients)
			s->clients->prev = cl;
		s->clients = cl;
		s->num_clients++;
		s->accepted++;
		cl->epoll_mask = EPOLLIN;
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = cl};
		if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			client_free(s, cl);
			continue;
		}
		logf_("fd %d: accepted (%zu open)", fd, s->num_clients);
	}
}

/* Close idle connections (Close 1001 first, then the socket) and end lingering. */
static void sweep(struct server *s)
{
	int64_t t = now_ms();
	int64_t idle = (int64_t)s->opt->idle_timeout * 1000;
	struct client *cl = s->clients;
	while (cl) {
		struct client *next = cl->next;
		if (cl->lingering) {
			if (t >= cl->linger_until)
				client_free(s, cl);
		} else if (idle > 0 && t - cl->last_active >= idle) {
			if (!cl->idle_closing && wsr_conn_state(cl->ws) == WSR_STATE_OPEN) {
				static const char reason[] = "idle";
				wsr_conn_close(cl->ws, WSR_CLOSE_GOING_AWAY, reason,
				               sizeof reason - 1);
				cl->idle_closing = true;
				cl->last_active = t;
				service(s, cl);
			} else {
				logf_("fd %d: idle, closing", cl->fd);
				client_free(s, cl);
			}
		}
		cl = next;
	}
}

/* ------------------------------------------------------------------------ */
/* Setup                                                                     */
/* ------------------------------------------------------------------------ */

/* Listen on host:port. With reuseport the socket is open to siblings bound
 * to the same address (see listen_beside). */
static int listen_on(const char *host, const char *port, bool reuseport)
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
		if (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0)
			die("SO_REUSEPORT: %s", strerror(errno));
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

/* Another listening socket on exactly the address first is bound to (its
 * port too, which is how --port 0 is shared), with SO_REUSEPORT. */
static int listen_beside(int first)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	if (getsockname(first, (struct sockaddr *)&ss, &len) < 0)
		die("getsockname: %s", strerror(errno));
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0)
		die("SO_REUSEPORT: %s", strerror(errno));
	if (ss.ss_family == AF_INET6) {
		/* Same dual-stack setting as the first socket, or the bind conflicts. */
		int v6only = 0;
		socklen_t vl = sizeof v6only;
		if (getsockopt(first, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &vl) == 0)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
	}
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 511) < 0)
		die("cannot listen on the port a second time (SO_REUSEPORT): %s", strerror(errno));
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

static SSL_CTX *make_ssl_ctx(const char *cert, const char *key)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx)
		die("SSL_CTX_new failed");
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	/* out_buf may move between retries of a blocked SSL_write. */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
	                              SSL_MODE_RELEASE_BUFFERS);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		ERR_print_errors_fp(stderr);
		die("cannot load certificate %s", cert);
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		ERR_print_errors_fp(stderr);
		die("cannot load private key %s", key);
	}
	return ctx;
}

static void usage(FILE *f)
{
	fputs("usage: wsref-echo --port P [--host H] [--cert FILE --key FILE] [--no-deflate]\n"
	      "                  [--max-message N] [--max-frame N] [--allowed-origin O]...\n"
	      "                  [--protocol P]... [--idle-timeout SECONDS] [--threads N]\n"
	      "                  [--verbose]\n"
	      "       wsref-echo --self-check [--no-deflate]\n"
	      "Echoes every WebSocket message. Prints the bound port on stdout once listening.\n"
	      "--port 0 picks a free port. --threads N runs N worker threads (default 1,\n"
	      "at most 256; 0: one per online CPU), each with its own epoll loop and its own\n"
	      "listening socket on the same port (SO_REUSEPORT).\n",
	      f);
}

static uint64_t parse_u64(const char *flag, const char *v)
{
	char *end;
	errno = 0;
	unsigned long long x = strtoull(v, &end, 10);
	if (errno || end == v || *end || v[0] == '-')
		die("%s: not a number: %s", flag, v);
	return x;
}

static void parse_args(int argc, char **argv, struct options *o)
{
	memset(o, 0, sizeof *o);
	o->host = "127.0.0.1";
	o->idle_timeout = 60;
	o->threads = 1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NEED_VALUE()                                \
	do {                                        \
		if (!v)                             \
			die("%s needs a value", a); \
		i++;                                \
	} while (0)
		if (!strcmp(a, "--port")) {
			NEED_VALUE();
			if (parse_u64(a, v) > 65535)
				die("--port: out of range: %s", v);
			o->port = v;
		} else if (!strcmp(a, "--host")) {
			NEED_VALUE();
			o->host = v;
		} else if (!strcmp(a, "--cert")) {
			NEED_VALUE();
			o->cert = v;
		} else if (!strcmp(a, "--key")) {
			NEED_VALUE();
			o->key = v;
		} else if (!strcmp(a, "--no-deflate")) {
			o->no_deflate = true;
		} else if (!strcmp(a, "--max-message")) {
			NEED_VALUE();
			o->max_message = parse_u64(a, v);
			if (!o->max_message)
				die("--max-message must be positive");
		} else if (!strcmp(a, "--max-frame")) {
			NEED_VALUE();
			o->max_frame = parse_u64(a, v);
			if (!o->max_frame)
				die("--max-frame must be positive");
		} else if (!strcmp(a, "--allowed-origin")) {
			NEED_VALUE();
			if (o->num_origins == MAX_ARGS)
				die("too many --allowed-origin");
			o->origins[o->num_origins++] = v;
		} else if (!strcmp(a, "--protocol")) {
			NEED_VALUE();
			if (o->num_protocols == MAX_ARGS)
				die("too many --protocol");
			o->protocols[o->num_protocols++] = v;
		} else if (!strcmp(a, "--idle-timeout")) {
			NEED_VALUE();
			uint64_t t = parse_u64(a, v);
			if (t > 86400 * 365)
				die("--idle-timeout: out of range");
			o->idle_timeout = (unsigned)t;
		} else if (!strcmp(a, "--threads")) {
			NEED_VALUE();
			uint64_t t = parse_u64(a, v);
			if (t > MAX_THREADS)
				die("--threads: out of range (0..%d): %s", MAX_THREADS, v);
			o->threads = (unsigned)t;
		} else if (!strcmp(a, "--verbose") || !strcmp(a, "-v")) {
			o->verbose = true;
		} else if (!strcmp(a, "--self-check")) {
			o->self_check = true;
		} else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			exit(0);
		} else {
			usage(stderr);
			die("unknown argument: %s", a);
		}
#undef NEED_VALUE
	}
	if (!o->self_check && !o->port) {
		usage(stderr);
		die("--port is required");
	}
	if (!o->cert != !o->key)
		die("--cert and --key go together");
}

static void make_config(const struct options *o, struct wsr_config *cfg, enum wsr_role role)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->role = role;
	cfg->limits.max_message = o->max_message;
	cfg->limits.max_frame = o->max_frame;
	cfg->deflate.enabled = !o->no_deflate;
	if (role == WSR_ROLE_SERVER) {
		cfg->subprotocols = o->num_protocols ? o->protocols : NULL;
		cfg->num_subprotocols = o->num_protocols;
		cfg->allowed_origins = o->num_origins ? o->origins : NULL;
		cfg->num_allowed_origins = o->num_origins;
	}
}

/* ------------------------------------------------------------------------ */
/* --self-check: a client-role and a server-role wsr_conn wired together     */
/* ------------------------------------------------------------------------ */

struct sc_event {
	enum wsr_event_type type;
	enum wsr_opcode opcode;
	uint16_t code;
	uint8_t *data; /* owned copy */
	size_t len;
};

struct sc_side {
	struct wsr_conn *c;
	struct sc_event evs[16];
	size_t nev;
	bool echo; /* server side: echo messages */
};

static unsigned sc_passed, sc_failed;

static void sc_check(bool ok, const char *what)
{
	if (ok) {
		sc_passed++;
	} else {
		sc_failed++;
		printf("self-check: FAILED: %s\n", what);
	}
}

static void sc_clear(struct sc_side *s)
{
	for (size_t i = 0; i < s->nev; i++)
		free(s->evs[i].data);
	s->nev = 0;
}

static void sc_pull(struct sc_side *s)
{
	struct wsr_event ev;
	while (wsr_conn_next_event(s->c, &ev) == WSR_OK) {
		if (s->nev < 16) {
			struct sc_event *e = &s->evs[s->nev++];
			e->type = ev.type;
			e->opcode = ev.opcode;
			e->code = ev.type == WSR_EV_FAIL ? (uint16_t)ev.status : ev.code;
			e->len = ev.len;
			e->data = malloc(ev.len ? ev.len : 1);
			if (e->data && ev.len)
				memcpy(e->data, ev.data, ev.len);
		}
		if (s->echo && ev.type == WSR_EV_MESSAGE)
			wsr_conn_send(s->c, ev.opcode, ev.data, ev.len);
	}
}

/* Move all of from's output into to, chunk bytes per recv (0: all at once). */
static void sc_move(struct sc_side *from, struct sc_side *to, size_t chunk)
{
	uint8_t *copy = NULL;
	size_t len = 0;
	const uint8_t *p = wsr_conn_out_buf(from->c, &len);
	while (len > 0) {
		copy = malloc(len);
		if (!copy)
			return;
		memcpy(copy, p, len);
		wsr_conn_out_ack(from->c, len);
		size_t off = 0;
		int stall = 0;
		while (off < len && stall < 4) {
			size_t n = len - off;
			if (chunk && n > chunk)
				n = chunk;
			size_t used = wsr_conn_recv(to->c, copy + off, n);
			off += used;
			sc_pull(to);
			stall = used ? 0 : stall + 1;
		}
		free(copy);
		p = wsr_conn_out_buf(from->c, &len);
	}
}

/* Exchange until neither side has output left. */
static void sc_pump(struct sc_side *a, struct sc_side *b, size_t chunk)
{
	for (int round = 0; round < 16; round++) {
		size_t la = 0, lb = 0;
		wsr_conn_out_buf(a->c, &la);
		wsr_conn_out_buf(b->c, &lb);
		if (!la && !lb)
			return;
		sc_move(a, b, chunk);
		sc_move(b, a, chunk);
	}
}

static bool sc_has(const struct sc_side *s, enum wsr_event_type t, enum wsr_opcode op,
                   const uint8_t *data, size_t len)
{
	for (size_t i = 0; i < s->nev; i++) {
		const struct sc_event *e = &s->evs[i];
		if (e->type != t)
			continue;
		if (t == WSR_EV_MESSAGE && e->opcode != op)
			continue;
		if (data && (e->len != len || (len && memcmp(e->data, data, len))))
			continue;
		return true;
	}
	return false;
}

/* Round trip one message client -> server -> echo -> client. */
static void sc_roundtrip(struct sc_side *cli, struct sc_side *srv, enum wsr_opcode op,
                         const uint8_t *data, size_t len, size_t chunk, const char *what)
{
	char msg[128];
	sc_clear(cli);
	sc_clear(srv);
	enum wsr_status st = wsr_conn_send(cli->c, op, data, len);
	snprintf(msg, sizeof msg, "%s: client send (%s)", what, wsr_status_name(st));
	sc_check(st == WSR_OK, msg);
	sc_pump(cli, srv, chunk);
	snprintf(msg, sizeof msg, "%s: server received it intact", what);
	sc_check(sc_has(srv, WSR_EV_MESSAGE, op, data, len), msg);
	snprintf(msg, sizeof msg, "%s: client received the echo intact", what);
	sc_check(sc_has(cli, WSR_EV_MESSAGE, op, data, len), msg);
}

/* Feed raw bytes to one side, pulling its events. */
static void sc_feed(struct sc_side *to, const uint8_t *p, size_t len)
{
	int stall = 0;
	while (len > 0 && stall < 4) {
		size_t used = wsr_conn_recv(to->c, p, len);
		p += used;
		len -= used;
		sc_pull(to);
		stall = used ? 0 : stall + 1;
	}
}

/* A text message in three masked frames (TEXT, CONTINUATION, CONTINUATION),
 * built by hand because wsr_conn_send only sends whole messages. */
static void sc_fragmented(struct sc_side *cli, struct sc_side *srv)
{
	static const char *const parts[] = {"frag", "men", "ted \xe2\x9c\x93"};
	uint8_t wire[128];
	size_t wl = 0;
	sc_clear(cli);
	sc_clear(srv);
	for (int i = 0; i < 3; i++) {
		struct wsr_frame_header h = {0};
		h.fin = i == 2;
		h.opcode = i ? WSR_OP_CONTINUATION : WSR_OP_TEXT;
		h.masked = true;
		memcpy(h.mask, "\x5c\x11\xa7\x03", 4);
		h.length = strlen(parts[i]);
		wl += wsr_frame_write_header(wire + wl, sizeof wire - wl, &h);
		memcpy(wire + wl, parts[i], h.length);
		wsr_mask(wire + wl, h.length, h.mask, 0);
		wl += h.length;
	}
	sc_feed(srv, wire, wl);
	sc_pump(srv, cli, 0);
	static const char whole[] = "fragmented \xe2\x9c\x93";
	sc_check(sc_has(srv, WSR_EV_MESSAGE, WSR_OP_TEXT, (const uint8_t *)whole, sizeof whole - 1),
	         "fragmented: server reassembled three frames");
	sc_check(sc_has(cli, WSR_EV_MESSAGE, WSR_OP_TEXT, (const uint8_t *)whole, sizeof whole - 1),
	         "fragmented: client received the echo whole");
}

static int self_check(const struct options *o)
{
	struct wsr_config scfg, ccfg;
	make_config(o, &scfg, WSR_ROLE_SERVER);
	make_config(o, &ccfg, WSR_ROLE_CLIENT);
	ccfg.path = "/self-check";
	ccfg.host = "localhost";
	struct sc_side srv = {.echo = true}, cli = {0};
	srv.c = malloc(wsr_conn_size());
	cli.c = malloc(wsr_conn_size());
	if (!srv.c || !cli.c)
		die("out of memory");
	sc_check(wsr_conn_init(srv.c, &scfg) == WSR_OK, "server init");
	sc_check(wsr_conn_init(cli.c, &ccfg) == WSR_OK, "client init");

	sc_pump(&cli, &srv, 0);
	sc_check(sc_has(&srv, WSR_EV_OPEN, 0, NULL, 0), "server open event");
	sc_check(sc_has(&cli, WSR_EV_OPEN, 0, NULL, 0), "client open event");
	sc_check(wsr_conn_state(srv.c) == WSR_STATE_OPEN, "server state OPEN");
	sc_check(wsr_conn_state(cli.c) == WSR_STATE_OPEN, "client state OPEN");
	struct wsr_pmd_params pc, ps;
	bool dc = wsr_conn_deflate(cli.c, &pc), ds = wsr_conn_deflate(srv.c, &ps);
	sc_check(dc == !o->no_deflate && ds == !o->no_deflate,
	         "permessage-deflate negotiated exactly when enabled");

	static const char hello[] = "Hello, wsref! \xce\xb3\xce\xb5\xce\xb9\xce\xac "
	                            "\xe4\xbd\xa0\xe5\xa5\xbd";
	sc_roundtrip(&cli, &srv, WSR_OP_TEXT, (const uint8_t *)hello, sizeof hello - 1, 0, "text");

	size_t blen = 70000; /* needs the 64-bit length form */
	uint8_t *bin = malloc(blen);
	if (!bin)
		die("out of memory");
	for (size_t i = 0; i < blen; i++)
		bin[i] = (uint8_t)(i * 7 + (i >> 8));
	sc_roundtrip(&cli, &srv, WSR_OP_BINARY, bin, blen, 0, "binary 70000 bytes");
	sc_roundtrip(&cli, &srv, WSR_OP_BINARY, bin, 300, 1, "binary fed one byte at a time");
	free(bin);
	sc_fragmented(&cli, &srv);
	sc_roundtrip(&cli, &srv, WSR_OP_TEXT, (const uint8_t *)"", 0, 0, "empty text");

	/* Ping: the server queues the pong by itself. */
	sc_clear(&cli);
	sc_clear(&srv);
	static const uint8_t ping[] = "are you there";
	sc_check(wsr_conn_ping(cli.c, ping, sizeof ping - 1) == WSR_OK, "client ping");
	sc_pump(&cli, &srv, 0);
	sc_check(sc_has(&srv, WSR_EV_PING, 0, ping, sizeof ping - 1), "server saw the ping");
	sc_check(sc_has(&cli, WSR_EV_PONG, 0, ping, sizeof ping - 1),
	         "client got the pong with the same payload");

	/* Close: the server answers by itself; both end CLOSED. */
	sc_clear(&cli);
	sc_clear(&srv);
	sc_check(wsr_conn_close(cli.c, WSR_CLOSE_NORMAL, "bye", 3) == WSR_OK, "client close");
	sc_check(wsr_conn_state(cli.c) == WSR_STATE_CLOSING, "client state CLOSING");
	sc_pump(&cli, &srv, 0);
	bool srv_close = false, cli_close = false;
	for (size_t i = 0; i < srv.nev; i++)
		srv_close |= srv.evs[i].type == WSR_EV_CLOSE && srv.evs[i].code == 1000 &&
		             srv.evs[i].len == 3 && !memcmp(srv.evs[i].data, "bye", 3);
	for (size_t i = 0; i < cli.nev; i++)
		cli_close |= cli.evs[i].type == WSR_EV_CLOSE && cli.evs[i].code == 1000;
	sc_check(srv_close, "server saw Close 1000 \"bye\"");
	sc_check(cli_close, "client saw the echoed Close 1000");
	sc_check(wsr_conn_state(srv.c) == WSR_STATE_CLOSED && wsr_conn_done(srv.c),
	         "server CLOSED and done");
	sc_check(wsr_conn_state(cli.c) == WSR_STATE_CLOSED && wsr_conn_done(cli.c),
	         "client CLOSED and done");
	sc_check(wsr_conn_send(cli.c, WSR_OP_TEXT, (const uint8_t *)"x", 1) != WSR_OK,
	         "send after close is refused");

	sc_clear(&cli);
	sc_clear(&srv);
	wsr_conn_free(srv.c);
	wsr_conn_free(cli.c);
	free(srv.c);
	free(cli.c);
	printf("self-check: %u passed, %u failed\n", sc_passed, sc_failed);
	return sc_failed ? 1 : 0;
}

/* ------------------------------------------------------------------------ */

/* The event loop of one worker, until its stop fd is readable. */
static void run_loop(struct server *s)
{
	bool running = true;
	int64_t next_sweep = now_ms() + 1000;
	while (running) {
		struct epoll_event evs[64];
		int n = epoll_wait(s->epfd, evs, 64, 1000);
		if (n < 0 && errno != EINTR)
			die("epoll_wait: %s", strerror(errno));
		for (int i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;
			if (p == &s->lfd) {
				accept_clients(s);
			} else if (p == &s->sfd) {
				/* The stop eventfd is left readable so that every
				 * worker sees it; a signal is consumed. */
				struct signalfd_siginfo si;
				if (s->sfd_is_event)
					running = false;
				else
					while (read(s->sfd, &si, sizeof si) == sizeof si)
						running = false;
			} else {
				struct client *cl = p;
				if (evs[i].events & (EPOLLERR | EPOLLHUP))
					cl->read_eof = cl->read_eof || !(evs[i].events & EPOLLIN);
				/* epoll reports each fd once per batch, so a client freed
				 * here cannot show up again later in this batch. */
				service(s, cl);
			}
		}
		int64_t t = now_ms();
		if (t >= next_sweep) {
			sweep(s);
			next_sweep = t + 1000;
		}
	}
	while (s->clients)
		client_free(s, s->clients);
}

/* The epoll set of a worker: its listening socket and its stop fd. */
static void setup_loop(struct server *s)
{
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epfd < 0)
		die("epoll_create1: %s", strerror(errno));
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &s->lfd};
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->lfd, &ev) < 0)
		die("epoll_ctl: %s", strerror(errno));
	ev.data.ptr = &s->sfd;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->sfd, &ev) < 0)
		die("epoll_ctl: %s", strerror(errno));
}

static void *worker_main(void *arg)
{
	struct server *s = arg;
	t_worker = s->index + 1;
	run_loop(s);
	return NULL;
}

/* How many workers --threads asked for (0: one per online CPU). */
static unsigned resolve_threads(unsigned asked)
{
	if (asked)
		return asked;
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		return 1;
	return n > MAX_THREADS ? MAX_THREADS : (unsigned)n;
}

int main(int argc, char **argv)
{
	struct options opt;
	struct wsr_config cfg;
	parse_args(argc, argv, &opt);
	g_verbose = opt.verbose;
	if (opt.self_check)
		return self_check(&opt);

	unsigned nthreads = resolve_threads(opt.threads);
	g_multi = nthreads > 1;
	make_config(&opt, &cfg, WSR_ROLE_SERVER);
	signal(SIGPIPE, SIG_IGN);
	SSL_CTX *ssl_ctx = NULL;
	if (opt.cert)
		ssl_ctx = make_ssl_ctx(opt.cert, opt.key);

	/* Blocked before any worker starts, so workers inherit the mask and the
	 * signals wait for the signalfd. */
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		die("sigprocmask: %s", strerror(errno));
	int sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sigfd < 0)
		die("signalfd: %s", strerror(errno));
	/* With workers, main turns a signal into this fd becoming readable. */
	int stopfd = -1;
	if (nthreads > 1) {
		stopfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (stopfd < 0)
			die("eventfd: %s", strerror(errno));
	}

	/* Each worker's record holds its 64 KiB read buffer. */
	struct server *w = calloc(nthreads, sizeof *w);
	if (!w)
		die("out of memory");
	for (unsigned i = 0; i < nthreads; i++) {
		struct server *s = &w[i];
		s->opt = &opt;
		s->cfg = &cfg;
		s->ssl_ctx = ssl_ctx;
		s->index = i;
		/* The first binds the given port (perhaps 0), the others the same. */
		s->lfd = i == 0 ? listen_on(opt.host, opt.port, nthreads > 1)
		                : listen_beside(w[0].lfd);
		s->sfd = nthreads > 1 ? stopfd : sigfd;
		s->sfd_is_event = nthreads > 1;
		setup_loop(s);
	}

	if (nthreads == 1) {
		/* The single loop runs here, as it always has. */
		printf("%u\n", bound_port(w[0].lfd));
		fflush(stdout);
		run_loop(&w[0]);
	} else {
		for (unsigned i = 0; i < nthreads; i++) {
			int rc = pthread_create(&w[i].thread, NULL, worker_main, &w[i]);
			if (rc != 0)
				die("pthread_create: %s", strerror(rc));
		}
		/* Every worker's socket listens: connections queue until it accepts. */
		printf("%u\n", bound_port(w[0].lfd));
		fflush(stdout);
		logf_("%u workers", nthreads);
		for (;;) {
			struct pollfd pfd = {.fd = sigfd, .events = POLLIN};
			if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
				die("poll: %s", strerror(errno));
			struct signalfd_siginfo si;
			if (read(sigfd, &si, sizeof si) == sizeof si)
				break;
		}
		uint64_t one = 1;
		if (write(stopfd, &one, sizeof one) != sizeof one)
			die("eventfd write: %s", strerror(errno));
		for (unsigned i = 0; i < nthreads; i++)
			pthread_join(w[i].thread, NULL);
	}

	/* Every worker has stopped: its counters are final and ours to read. */
	uint64_t accepted = 0, echoed = 0;
	for (unsigned i = 0; i < nthreads; i++) {
		accepted += w[i].accepted;
		echoed += w[i].echoed;
		if (nthreads > 1)
			logf_("worker %u: %" PRIu64 " connections, %" PRIu64 " messages echoed",
			      i + 1, w[i].accepted, w[i].echoed);
		close(w[i].lfd);
		close(w[i].epfd);
	}
	if (stopfd >= 0)
		close(stopfd);
	close(sigfd);
	free(w);
	if (ssl_ctx)
		SSL_CTX_free(ssl_ctx);
	logf_("terminated (%" PRIu64 " connections, %" PRIu64 " messages echoed)", accepted,
	      echoed);
	return 0;
}
