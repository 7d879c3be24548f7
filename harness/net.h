/*
 * net.h - non-blocking TCP (IPv4/IPv6) and TLS (OpenSSL) connections for the
 * engine. Every call returns at once; WANT_READ/WANT_WRITE are hidden behind
 * wsc_net_events(), which says what to poll for.
 */
#ifndef WSC_NET_H
#define WSC_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct addrinfo;
typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

/* Shared by every connection of a run: resolved addresses and the TLS context. */
struct wsc_net_ctx {
	struct addrinfo *addrs; /* getaddrinfo() list, owned */
	bool tls;
	SSL_CTX *ssl_ctx; /* owned; NULL without TLS */
	char host[256];   /* for SNI and certificate name checks */
};

/*
 * Resolve host:port (blocking, once per run) and, with tls, make a client
 * SSL_CTX that verifies the peer (system trust or cacert PEM file) unless
 * insecure. Returns 0, or -1 with err filled.
 */
int wsc_net_ctx_init(struct wsc_net_ctx *ctx, const char *host, const char *port, bool tls,
                     bool insecure, const char *cacert, char *err, size_t errlen);
void wsc_net_ctx_free(struct wsc_net_ctx *ctx);

enum wsc_net_state {
	WSC_NET_IDLE = 0,
	WSC_NET_CONNECTING,
	WSC_NET_TLS,
	WSC_NET_READY,
	WSC_NET_CLOSED
};

struct wsc_net {
	enum wsc_net_state state;
	int fd;
	SSL *ssl;
	const struct wsc_net_ctx *ctx; /* borrowed */
	const struct addrinfo *ai;     /* address being tried */
	bool want_read, want_write;    /* TLS needs this direction to go on */
	bool tcp_ok;                   /* TCP connected (a later failure is TLS's) */
	char err[160];                 /* last error */
};

#define WSC_NET_AGAIN (-2)

/* Start connecting to the first address. Returns 0 (in progress) or -1. */
int wsc_net_connect(struct wsc_net *n, const struct wsc_net_ctx *ctx);
/*
 * Drive connect and the TLS handshake after a poll wake-up (or any time).
 * Returns 1 when ready for data, 0 in progress, -1 failed (n->err); a failed
 * connect to one address moves on to the next one by itself.
 */
int wsc_net_progress(struct wsc_net *n);
/* poll() events to wait for: POLLIN, and POLLOUT when `have_output` or TLS/connect needs it. */
short wsc_net_events(const struct wsc_net *n, bool have_output);
/*
 * Read/write at most len bytes. Returns the count (> 0), 0 on end of stream
 * (read) , WSC_NET_AGAIN when it would block, or -1 on error (n->err; a reset
 * by the peer is an error with errno ECONNRESET/EPIPE kept in n->err).
 */
ssize_t wsc_net_read(struct wsc_net *n, void *buf, size_t len);
ssize_t wsc_net_write(struct wsc_net *n, const void *buf, size_t len);
/* True if TLS holds decrypted bytes that poll() cannot see. */
bool wsc_net_pending(const struct wsc_net *n);
/* Close the socket at once (no TLS close_notify wait). Idempotent. */
void wsc_net_close(struct wsc_net *n);

#endif
