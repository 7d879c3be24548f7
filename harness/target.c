/*
 * target.c - the process under test (see target.h).
 *
 * Why pipes and polling rather than SIGCHLD: the engine calls back into us
 * every few tens of milliseconds anyway, so a waitpid(WNOHANG) there costs
 * nothing and keeps all process handling on one thread, with no handler
 * racing the engine's own syscalls.
 *
 * What counts as a crash: a sanitizer report on stderr ("ERROR:
 * AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:", ...), death
 * by a signal, or a non-zero exit while the run still needed the target.
 * After wsc_target_stop() sent SIGTERM, only a sanitizer report or a
 * core-dumping signal (SIGSEGV, SIGABRT, ...) still counts: dying of our
 * SIGTERM, or exiting non-zero because of it, is what we asked for.
 */
#include "target.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

static volatile sig_atomic_t g_target_pgid;

static const char *const sanitizer_marks[] = {
        "ERROR: AddressSanitizer",   "ERROR: LeakSanitizer",   "ERROR: MemorySanitizer",
        "WARNING: ThreadSanitizer",  "ERROR: ThreadSanitizer", "runtime error:",
        "ERROR: HWAddressSanitizer",
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void ring_put(struct wsc_ring *r, const char *p, size_t n)
{
	r->total += n;
	if (!r->buf)
		return;
	if (n >= WSC_TARGET_RING) {
		memcpy(r->buf, p + n - WSC_TARGET_RING, WSC_TARGET_RING);
		r->head = 0;
		r->len = WSC_TARGET_RING;
		return;
	}
	size_t first = WSC_TARGET_RING - r->head;
	if (first > n)
		first = n;
	memcpy(r->buf + r->head, p, first);
	memcpy(r->buf, p + first, n - first);
	r->head = (r->head + n) % WSC_TARGET_RING;
	r->len = r->len + n > WSC_TARGET_RING ? WSC_TARGET_RING : r->len + n;
}

static void ring_tail(const struct wsc_ring *r, char *out, size_t cap, size_t max)
{
	if (cap == 0)
		return;
	size_t n = r->len;
	if (n > max)
		n = max;
	if (n > cap - 1)
		n = cap - 1;
	size_t start = (r->head + WSC_TARGET_RING - n) % WSC_TARGET_RING;
	for (size_t i = 0; i < n; i++)
		out[i] = r->buf[(start + i) % WSC_TARGET_RING];
	out[n] = '\0';
}

static void scan_line(struct wsc_target *t)
{
	if (t->sanitizer)
		return;
	t->line[t->line_len] = '\0';
	for (size_t i = 0; i < sizeof sanitizer_marks / sizeof sanitizer_marks[0]; i++) {
		if (strstr(t->line, sanitizer_marks[i])) {
			t->sanitizer = true;
			size_t n = t->line_len;
			if (n > sizeof t->sanitizer_line - 1)
				n = sizeof t->sanitizer_line - 1;
			memcpy(t->sanitizer_line, t->line, n);
			t->sanitizer_line[n] = '\0';
			/* Keep the message printable on one line. */
			for (size_t j = 0; j < n; j++)
				if ((unsigned char)t->sanitizer_line[j] < 0x20)
					t->sanitizer_line[j] = ' ';
			return;
		}
	}
}

static void feed_err(struct wsc_target *t, const char *p, size_t n)
{
	ring_put(&t->err, p, n);
	if (t->log_fd >= 0 && t->log_written < WSC_TARGET_LOG_MAX) {
		size_t k = n;
		if (t->log_written + k > WSC_TARGET_LOG_MAX)
			k = (size_t)(WSC_TARGET_LOG_MAX - t->log_written);
		size_t off = 0;
		while (off < k) {
			ssize_t w = write(t->log_fd, p + off, k - off);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				break;
			off += (size_t)w;
		}
		t->log_written += k;
		if (t->log_written >= WSC_TARGET_LOG_MAX) {
			static const char note[] = "\n[wsconform: stderr log truncated]\n";
			if (write(t->log_fd, note, sizeof note - 1) < 0) {
				/* nothing more we can do about a full disk */
			}
		}
	}
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		if (c == '\n') {
			scan_line(t);
			t->line_len = 0;
			t->line_overflow = false;
			continue;
		}
		if (t->line_len < WSC_TARGET_LINE - 1) {
			t->line[t->line_len++] = c;
		} else if (!t->line_overflow) {
			/* Scan the head of an overlong line once; drop the rest. */
			scan_line(t);
			t->line_overflow = true;
		}
	}
}

static void feed_out(struct wsc_target *t, const char *p, size_t n)
{
	ring_put(&t->out, p, n);
	for (size_t i = 0; i < n && !t->first_done; i++) {
		if (p[i] == '\n' || t->first_len == sizeof t->first_line - 1) {
			t->first_done = true;
			break;
		}
		t->first_line[t->first_len++] = p[i];
	}
	t->first_line[t->first_len] = '\0';
}

/* Read what is there; returns false at EOF or on error (fd closed). */
static bool drain(struct wsc_target *t, int *fd, bool is_err)
{
	char buf[8192];
	for (int rounds = 0; rounds < 64; rounds++) {
		ssize_t n = read(*fd, buf, sizeof buf);
		if (n > 0) {
			if (is_err)
				feed_err(t, buf, (size_t)n);
			else
				feed_out(t, buf, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return true;
		/* EOF or a hard error */
		if (is_err && t->line_len > 0) {
			scan_line(t);
			t->line_len = 0;
		}
		if (!is_err && !t->first_done && t->first_len > 0)
			t->first_done = true;
		close(*fd);
		*fd = -1;
		return false;
	}
	return true;
}

static void drain_all(struct wsc_target *t)
{
	if (t->out_fd >= 0)
		drain(t, &t->out_fd, false);
	if (t->err_fd >= 0)
		drain(t, &t->err_fd, true);
}

static void reap(struct wsc_target *t, int flags)
{
	if (t->state != WSC_TARGET_RUNNING)
		return;
	int st;
	pid_t r;
	do
		r = waitpid(t->pid, &st, flags);
	while (r < 0 && errno == EINTR);
	if (r == t->pid) {
		t->status = st;
		t->state = WSC_TARGET_EXITED;
	} else if (r < 0 && errno == ECHILD) {
		/* Someone else reaped it (should not happen): treat as gone. */
		t->status = 0;
		t->state = WSC_TARGET_EXITED;
	}
}

int wsc_target_spawn(struct wsc_target *t, char *const argv[], const char *shell_cmd,
                     const char *stderr_log, char *err, size_t errlen)
{
	memset(t, 0, sizeof *t);
	t->out_fd = t->err_fd = t->log_fd = -1;
	int outp[2] = {-1, -1}, errp[2] = {-1, -1}, execp[2] = {-1, -1};

	t->out.buf = malloc(WSC_TARGET_RING);
	t->err.buf = malloc(WSC_TARGET_RING);
	if (!t->out.buf || !t->err.buf) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (stderr_log) {
		t->log_fd = open(stderr_log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (t->log_fd < 0) {
			snprintf(err, errlen, "cannot create %s: %s", stderr_log, strerror(errno));
			goto fail;
		}
	}
	if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0 ||
	    pipe2(execp, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		goto fail;
	}
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		goto fail;
	}
	if (pid == 0) {
		/* Child: only async-signal-safe calls from here to exec. */
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		int devnull = open("/dev/null", O_RDONLY);
		if (devnull >= 0 && devnull != 0) {
			dup2(devnull, 0);
			close(devnull);
		}
		dup2(outp[1], 1);
		dup2(errp[1], 2);
		if (argv) {
			execv(argv[0], argv);
		} else {
			char *const sh[] = {"/bin/sh", "-c", (char *)shell_cmd, NULL};
			execv("/bin/sh", sh);
		}
		int e = errno;
		if (write(execp[1], &e, sizeof e) < 0) {
			/* parent sees EOF and assumes success; the exit code tells */
		}
		_exit(127);
	}
	/* Parent: set the group here too, so a kill right after fork reaches it. */
	setpgid(pid, pid);
	t->pid = pid;
	t->state = WSC_TARGET_RUNNING;
	g_target_pgid = pid;
	close(outp[1]);
	close(errp[1]);
	close(execp[1]);
	outp[1] = errp[1] = execp[1] = -1;

	int e = 0;
	ssize_t n;
	do
		n = read(execp[0], &e, sizeof e);
	while (n < 0 && errno == EINTR);
	close(execp[0]);
	execp[0] = -1;
	t->out_fd = outp[0];
	t->err_fd = errp[0];
	fcntl(t->out_fd, F_SETFL, fcntl(t->out_fd, F_GETFL) | O_NONBLOCK);
	fcntl(t->err_fd, F_SETFL, fcntl(t->err_fd, F_GETFL) | O_NONBLOCK);
	if (n == (ssize_t)sizeof e) {
		snprintf(err, errlen, "cannot execute %s: %s", argv ? argv[0] : "/bin/sh",
		         strerror(e));
		reap(t, 0);
		wsc_target_stop(t, 0);
		wsc_target_free(t);
		return -1;
	}
	return 0;

fail:
	for (int i = 0; i < 2; i++) {
		if (outp[i] >= 0)
			close(outp[i]);
		if (errp[i] >= 0)
			close(errp[i]);
		if (execp[i] >= 0)
			close(execp[i]);
	}
	if (t->log_fd >= 0)
		close(t->log_fd);
	t->log_fd = -1;
	free(t->out.buf);
	free(t->err.buf);
	t->out.buf = t->err.buf = NULL;
	return -1;
}

bool wsc_target_poll(struct wsc_target *t)
{
	drain_all(t);
	reap(t, WNOHANG);
	if (t->state == WSC_TARGET_EXITED)
		drain_all(t); /* whatever it wrote last, e.g. the sanitizer report */
	return !wsc_target_failed(t);
}

void wsc_target_wait(struct wsc_target *t, int timeout_ms)
{
	struct pollfd p[2];
	nfds_t n = 0;
	if (t->out_fd >= 0)
		p[n++] = (struct pollfd){.fd = t->out_fd, .events = POLLIN};
	if (t->err_fd >= 0)
		p[n++] = (struct pollfd){.fd = t->err_fd, .events = POLLIN};
	if (n > 0 && t->state == WSC_TARGET_RUNNING) {
		if (poll(p, n, timeout_ms) < 0 && errno != EINTR)
			usleep((useconds_t)timeout_ms * 1000u);
	} else if (timeout_ms > 0) {
		/* Pipes closed (the process closed them or exited): plain pause. */
		struct timespec ts = {timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000L};
		nanosleep(&ts, NULL);
	}
	wsc_target_poll(t);
}

bool wsc_target_failed(const struct wsc_target *t)
{
	return t->sanitizer || t->state == WSC_TARGET_EXITED;
}

static bool core_signal(int sig)
{
	switch (sig) {
	case SIGSEGV:
	case SIGBUS:
	case SIGABRT:
	case SIGILL:
	case SIGFPE:
	case SIGTRAP:
	case SIGSYS:
	case SIGXCPU:
	case SIGXFSZ:
		return true;
	default:
		return false;
	}
}

bool wsc_target_crashed(const struct wsc_target *t)
{
	if (t->sanitizer)
		return true;
	if (t->state != WSC_TARGET_EXITED)
		return false;
	if (WIFSIGNALED(t->status))
		return t->stopping ? core_signal(WTERMSIG(t->status)) : true;
	if (WIFEXITED(t->status)) {
		int code = WEXITSTATUS(t->status);
		/* A shell reports its child's fatal signal as 128 + N. */
		if (code > 128 && core_signal(code - 128))
			return true;
		return !t->stopping && code != 0;
	}
	return false;
}

void wsc_target_describe(const struct wsc_target *t, char *out, size_t cap)
{
	if (t->sanitizer) {
		snprintf(out, cap, "sanitizer report: %s", t->sanitizer_line);
	} else if (t->state == WSC_TARGET_EXITED && WIFSIGNALED(t->status)) {
		int sig = WTERMSIG(t->status);
		const char *abbrev = sigabbrev_np(sig);
		snprintf(out, cap, "killed by signal SIG%s (%d)%s", abbrev ? abbrev : "?", sig,
		         WCOREDUMP(t->status) ? ", core dumped" : "");
	} else if (t->state == WSC_TARGET_EXITED && WIFEXITED(t->status)) {
		int code = WEXITSTATUS(t->status);
		const char *abbrev =
		        code > 128 && core_signal(code - 128) ? sigabbrev_np(code - 128) : NULL;
		if (abbrev)
			snprintf(out, cap, "exited with status %d (its command died of SIG%s)",
			         code, abbrev);
		else
			snprintf(out, cap, "exited with status %d", code);
	} else if (t->state == WSC_TARGET_RUNNING) {
		snprintf(out, cap, "running (pid %d)", (int)t->pid);
	} else {
		snprintf(out, cap, "not running");
	}
}

void wsc_target_stderr_tail(const struct wsc_target *t, char *out, size_t cap, size_t max)
{
	if (!t->err.buf) {
		if (cap)
			out[0] = '\0';
		return;
	}
	ring_tail(&t->err, out, cap, max);
}

/*
 * Visit every process of process group pgid (scanning /proc/<pid>/stat):
 * fn(pid, resident pages, arg). Returns how many were visited.
 */
static size_t for_each_in_group(pid_t pgid, void (*fn)(pid_t pid, long rss_pages, void *arg),
                                void *arg)
{
	DIR *d = opendir("/proc");
	if (!d)
		return 0;
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		char path[300], buf[1024];
		snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ssize_t got = read(fd, buf, sizeof buf - 1);
		close(fd);
		if (got <= 0)
			continue;
		buf[got] = '\0';
		/* "pid (comm) state ppid pgrp ...": comm may hold anything, even ')' */
		const char *p = strrchr(buf, ')');
		long pgrp = 0, rss = 0;
		if (!p ||
		    sscanf(p + 1,
		           " %*c %*d %ld %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d"
		           " %*d %*d %*d %*u %*u %ld",
		           &pgrp, &rss) != 2 ||
		    pgrp != (long)pgid)
			continue;
		fn((pid_t)atol(e->d_name), rss, arg);
		n++;
	}
	closedir(d);
	return n;
}

static void add_rss(pid_t pid, long rss_pages, void *arg)
{
	(void)pid;
	if (rss_pages > 0)
		*(int64_t *)arg += rss_pages;
}

int64_t wsc_target_rss_kib(const struct wsc_target *t)
{
	if (t->pid <= 0 || t->state != WSC_TARGET_RUNNING)
		return -1;
	int64_t pages = 0;
	if (for_each_in_group(t->pid, add_rss, &pages) == 0)
		return -1;
	long page = sysconf(_SC_PAGESIZE);
	return pages * (page > 0 ? page : 4096) / 1024;
}

struct term_ctx {
	pid_t leader;
	size_t sent;
};

static void term_follower(pid_t pid, long rss_pages, void *arg)
{
	struct term_ctx *c = arg;
	(void)rss_pages;
	if (pid != c->leader && kill(pid, SIGTERM) == 0)
		c->sent++;
}

void wsc_target_stop(struct wsc_target *t, int grace_ms)
{
	if (t->stopped)
		return;
	t->stopped = true;
	if (t->state == WSC_TARGET_RUNNING) {
		wsc_target_poll(t); /* an end that came before ours is judged as such */
		if (t->state == WSC_TARGET_RUNNING) {
			t->stopping = true;
			uint64_t deadline = now_ms() + (uint64_t)(grace_ms > 0 ? grace_ms : 0);
			/*
			 * The group's other processes first: a shell between us
			 * and the server then exits by itself with the server's
			 * status (128 + N after a signal), so a server that has
			 * just crashed is told apart from one we stopped.
			 * Signalled at once, the shell could die of our SIGTERM
			 * before reaping the crashed server.
			 */
			struct term_ctx tc = {.leader = t->pid, .sent = 0};
			for_each_in_group(t->pid, term_follower, &tc);
			while (tc.sent && t->state == WSC_TARGET_RUNNING && now_ms() < deadline) {
				uint64_t left = deadline - now_ms();
				wsc_target_wait(t, left > 20 ? 20 : (int)left);
			}
			if (t->state == WSC_TARGET_RUNNING)
				kill(-t->pid, SIGTERM);
			while (t->state == WSC_TARGET_RUNNING && now_ms() < deadline) {
				uint64_t left = deadline - now_ms();
				wsc_target_wait(t, left > 20 ? 20 : (int)left);
			}
		}
		/* The group may hold children of the shell even if the leader is gone. */
		kill(-t->pid, SIGKILL);
		reap(t, 0);
	} else if (t->pid > 0) {
		kill(-t->pid, SIGKILL); /* leftovers of an exited leader's group */
	}
	g_target_pgid = 0;
	/* Last words (a sanitizer report written while dying). */
	for (int i = 0; i < 8 && (t->out_fd >= 0 || t->err_fd >= 0); i++) {
		struct pollfd p[2];
		nfds_t n = 0;
		if (t->out_fd >= 0)
			p[n++] = (struct pollfd){.fd = t->out_fd, .events = POLLIN};
		if (t->err_fd >= 0)
			p[n++] = (struct pollfd){.fd = t->err_fd, .events = POLLIN};
		if (poll(p, n, 25) <= 0)
			break;
		drain_all(t);
	}
	if (t->out_fd >= 0)
		close(t->out_fd);
	if (t->err_fd >= 0)
		close(t->err_fd);
	if (t->log_fd >= 0)
		close(t->log_fd);
	t->out_fd = t->err_fd = t->log_fd = -1;
	/* Rings stay until the struct is discarded: describe/tail still work. */
}

void wsc_target_free(struct wsc_target *t)
{
	free(t->out.buf);
	free(t->err.buf);
	t->out.buf = t->err.buf = NULL;
	t->out.len = t->err.len = 0;
}

void wsc_target_emergency_kill(void)
{
	pid_t pg = (pid_t)g_target_pgid;
	if (pg > 0)
		kill(-pg, SIGKILL);
}

unsigned wsc_free_port(const char *host)
{
	struct sockaddr_storage ss;
	socklen_t len;
	memset(&ss, 0, sizeof ss);
	struct in6_addr a6;
	if (host && inet_pton(AF_INET6, host, &a6) == 1) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_addr = a6;
		len = sizeof *s6;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		if (!host || inet_pton(AF_INET, host, &s4->sin_addr) != 1)
			s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof *s4;
	}
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	unsigned port = 0;
	if (bind(fd, (struct sockaddr *)&ss, len) == 0 &&
	    getsockname(fd, (struct sockaddr *)&ss, &len) == 0) {
		port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
		                                : ntohs(((struct sockaddr_in *)&ss)->sin_port);
	}
	close(fd);
	return port;
}

int wsc_tcp_probe(const char *host, const char *port, int wait_ms, char *err, size_t errlen)
{
	struct addrinfo hints, *res = NULL;
	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_family = AF_UNSPEC;
	int rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "cannot resolve %s: %s", host, gai_strerror(rc));
		return -1;
	}
	int ok = 0, last = ETIMEDOUT;
	for (struct addrinfo *ai = res; ai && !ok; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
		                ai->ai_protocol);
		if (fd < 0) {
			last = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
			ok = 1;
		} else if (errno == EINPROGRESS) {
			struct pollfd p = {.fd = fd, .events = POLLOUT};
			last = ETIMEDOUT;
			if (poll(&p, 1, wait_ms) == 1) {
				int soerr = 0;
				socklen_t sl = sizeof soerr;
				if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 &&
				    soerr == 0)
					ok = 1;
				else
					last = soerr ? soerr : ECONNREFUSED;
			}
		} else {
			last = errno;
		}
		close(fd);
	}
	freeaddrinfo(res);
	if (!ok)
		snprintf(err, errlen, "%s", strerror(last));
	return ok;
}
