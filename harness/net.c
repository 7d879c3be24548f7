/*
 * net.c - non-blocking TCP connect and TLS for the engine (see net.h).
 */
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

static bool is_ip_literal(const char *host)
{
	unsigned char b[16];
	return inet_pton(AF_INET, host, b) == 1 || inet_pton(AF_INET6, host, b) == 1;
}

int wsc_net_ctx_init(struct wsc_net_ctx *ctx, const char *host, const char *port, bool tls,
                     bool insecure, const char *cacert, char *err, size_t errlen)
{
	memset(ctx, 0, sizeof(*ctx));
	snprintf(ctx->host, sizeof(ctx->host), "%s", host);
	struct addrinfo hints;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_ADDRCONFIG;
	int rc = getaddrinfo(host, port, &hints, &ctx->addrs);
	if (rc == EAI_BADFLAGS || rc == EAI_NONAME) {
		hints.ai_flags = 0; /* e.g. "localhost" without a configured address */
		rc = getaddrinfo(host, port, &hints, &ctx->addrs);
	}
	if (rc != 0) {
		snprintf(err, errlen, "cannot resolve %s:%s: %s", host, port, gai_strerror(rc));
		ctx->addrs = NULL;
		return -1;
	}
	ctx->tls = tls;
	if (!tls)
		return 0;
	ctx->ssl_ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx->ssl_ctx) {
		snprintf(err, errlen, "SSL_CTX_new failed");
		goto fail;
	}
	SSL_CTX_set_mode(ctx->ssl_ctx,
	                 SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (insecure) {
		SSL_CTX_set_verify(ctx->ssl_ctx, SSL_VERIFY_NONE, NULL);
	} else {
		SSL_CTX_set_verify(ctx->ssl_ctx, SSL_VERIFY_PEER, NULL);
		int ok = cacert ? SSL_CTX_load_verify_locations(ctx->ssl_ctx, cacert, NULL)
		                : SSL_CTX_set_default_verify_paths(ctx->ssl_ctx);
		if (ok != 1) {
			char e[120];
			ERR_error_string_n(ERR_get_error(), e, sizeof(e));
			snprintf(err, errlen, "cannot load CA certificates%s%s: %s",
			         cacert ? " from " : "", cacert ? cacert : "", e);
			goto fail;
		}
	}
	return 0;
fail:
	wsc_net_ctx_free(ctx);
	return -1;
}

void wsc_net_ctx_free(struct wsc_net_ctx *ctx)
{
	if (ctx->addrs)
		freeaddrinfo(ctx->addrs);
	if (ctx->ssl_ctx)
		SSL_CTX_free(ctx->ssl_ctx);
	ctx->addrs = NULL;
	ctx->ssl_ctx = NULL;
}

/* Open a socket to n->ai and start connect(). 0 in progress/connected, -1 failed. */
static int try_addr(struct wsc_net *n)
{
	for (; n->ai; n->ai = n->ai->ai_next) {
		int fd = socket(n->ai->ai_family, n->ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		                n->ai->ai_protocol);
		if (fd < 0) {
			snprintf(n->err, sizeof(n->err), "socket: %s", strerror(errno));
			continue;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (connect(fd, n->ai->ai_addr, n->ai->ai_addrlen) == 0 || errno == EINPROGRESS) {
			n->fd = fd;
			n->state = WSC_NET_CONNECTING;
			return 0;
		}
		snprintf(n->err, sizeof(n->err), "connect: %s", strerror(errno));
		close(fd);
	}
	n->state = WSC_NET_CLOSED;
	return -1;
}

int wsc_net_connect(struct wsc_net *n, const struct wsc_net_ctx *ctx)
{
	memset(n, 0, sizeof(*n));
	n->fd = -1;
	n->ctx = ctx;
	n->ai = ctx->addrs;
	if (!n->ai) {
		snprintf(n->err, sizeof(n->err), "no address");
		n->state = WSC_NET_CLOSED;
		return -1;
	}
	return try_addr(n);
}

static void ssl_err(struct wsc_net *n, const char *what, int rc)
{
	int e = SSL_get_error(n->ssl, rc);
	unsigned long q = ERR_get_error();
	char buf[120] = "";
	if (q)
		ERR_error_string_n(q, buf, sizeof(buf));
	else if (e == SSL_ERROR_SYSCALL)
		snprintf(buf, sizeof(buf), "%s", errno ? strerror(errno) : "unexpected EOF");
	else
		snprintf(buf, sizeof(buf), "SSL error %d", e);
	if (n->ssl && SSL_get_verify_result(n->ssl) != X509_V_OK &&
	    strcmp(what, "TLS handshake") == 0)
		snprintf(n->err, sizeof(n->err), "%s: certificate verify failed: %s", what,
		         X509_verify_cert_error_string(SSL_get_verify_result(n->ssl)));
	else
		snprintf(n->err, sizeof(n->err), "%s: %s", what, buf);
	ERR_clear_error();
}

int wsc_net_progress(struct wsc_net *n)
{
	if (n->state == WSC_NET_READY)
		return 1;
	if (n->state == WSC_NET_CLOSED || n->state == WSC_NET_IDLE)
		return -1;
	if (n->state == WSC_NET_CONNECTING) {
		struct pollfd p = {.fd = n->fd, .events = POLLOUT};
		if (poll(&p, 1, 0) <= 0)
			return 0;
		int soerr = 0;
		socklen_t sl = sizeof(soerr);
		if (getsockopt(n->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
			soerr = errno;
		if (soerr) {
			snprintf(n->err, sizeof(n->err), "connect: %s", strerror(soerr));
			close(n->fd);
			n->fd = -1;
			n->ai = n->ai->ai_next;
			if (try_addr(n) < 0) {
				snprintf(n->err, sizeof(n->err), "connect: %s", strerror(soerr));
				return -1;
			}
			return 0;
		}
		n->tcp_ok = true;
		if (!n->ctx->tls) {
			n->state = WSC_NET_READY;
			return 1;
		}
		n->ssl = SSL_new(n->ctx->ssl_ctx);
		if (!n->ssl || SSL_set_fd(n->ssl, n->fd) != 1) {
			snprintf(n->err, sizeof(n->err), "SSL_new failed");
			wsc_net_close(n);
			return -1;
		}
		const char *h = n->ctx->host;
		if (!is_ip_literal(h))
			SSL_set_tlsext_host_name(n->ssl, h);
		if (SSL_get_verify_mode(n->ssl) & SSL_VERIFY_PEER) {
			X509_VERIFY_PARAM *vp = SSL_get0_param(n->ssl);
			if (is_ip_literal(h))
				X509_VERIFY_PARAM_set1_ip_asc(vp, h);
			else
				X509_VERIFY_PARAM_set1_host(vp, h, 0);
		}
		n->state = WSC_NET_TLS;
	}
	/* WSC_NET_TLS */
	ERR_clear_error();
	int rc = SSL_connect(n->ssl);
	if (rc == 1) {
		n->state = WSC_NET_READY;
		n->want_read = n->want_write = false;
		return 1;
	}
	int e = SSL_get_error(n->ssl, rc);
	n->want_read = e == SSL_ERROR_WANT_READ;
	n->want_write = e == SSL_ERROR_WANT_WRITE;
	if (n->want_read || n->want_write)
		return 0;
	ssl_err(n, "TLS handshake", rc);
	wsc_net_close(n);
	return -1;
}

short wsc_net_events(const struct wsc_net *n, bool have_output)
{
	if (n->fd < 0)
		return 0;
	if (n->state == WSC_NET_CONNECTING)
		return POLLOUT;
	short ev = POLLIN;
	if (have_output || n->want_write)
		ev |= POLLOUT;
	return ev;
}

ssize_t wsc_net_read(struct wsc_net *n, void *buf, size_t len)
{
	if (n->fd < 0)
		return -1;
	if (!n->ssl) {
		ssize_t r = recv(n->fd, buf, len, 0);
		if (r >= 0)
			return r;
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return WSC_NET_AGAIN;
		snprintf(n->err, sizeof(n->err), "recv: %s", strerror(errno));
		return -1;
	}
	ERR_clear_error();
	int want = len > INT32_MAX ? INT32_MAX : (int)len;
	int r = SSL_read(n->ssl, buf, want);
	if (r > 0) {
		n->want_write = false;
		return r;
	}
	int e = SSL_get_error(n->ssl, r);
	if (e == SSL_ERROR_WANT_READ)
		return WSC_NET_AGAIN;
	if (e == SSL_ERROR_WANT_WRITE) {
		n->want_write = true;
		return WSC_NET_AGAIN;
	}
	if (e == SSL_ERROR_ZERO_RETURN)
		return 0;
	if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0 && errno == 0)
		return 0; /* EOF without close_notify: still the end of the stream */
	ssl_err(n, "TLS read", r);
	return -1;
}

ssize_t wsc_net_write(struct wsc_net *n, const void *buf, size_t len)
{
	if (n->fd < 0)
		return -1;
	if (!n->ssl) {
		ssize_t r = send(n->fd, buf, len, MSG_NOSIGNAL);
		if (r >= 0)
			return r;
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return WSC_NET_AGAIN;
		snprintf(n->err, sizeof(n->err), "send: %s", strerror(errno));
		return -1;
	}
	ERR_clear_error();
	int want = len > INT32_MAX ? INT32_MAX : (int)len;
	int r = SSL_write(n->ssl, buf, want);
	if (r > 0) {
		n->want_write = false;
		return r;
	}
	int e = SSL_get_error(n->ssl, r);
	if (e == SSL_ERROR_WANT_WRITE) {
		n->want_write = true;
		return WSC_NET_AGAIN;
	}
	if (e == SSL_ERROR_WANT_READ)
		return WSC_NET_AGAIN;
	ssl_err(n, "TLS write", r);
	return -1;
}

bool wsc_net_pending(const struct wsc_net *n)
{
	return n->ssl && n->fd >= 0 && SSL_pending(n->ssl) > 0;
}

void wsc_net_close(struct wsc_net *n)
{
	if (n->ssl) {
		SSL_free(n->ssl);
		n->ssl = NULL;
	}
	if (n->fd >= 0) {
		close(n->fd);
		n->fd = -1;
	}
	n->state = WSC_NET_CLOSED;
}
