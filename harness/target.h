/*
 * target.h - the process under test: start it, learn when it listens, watch
 * it while the engine runs, notice when it dies or a sanitizer speaks, and
 * stop it without leaving anything behind.
 *
 * The child runs in its own process group with stdin on /dev/null and its
 * stdout and stderr on pipes. The pipes are drained only by the functions
 * below (never by a thread): each call reads what is there without blocking.
 * The last WSC_TARGET_RING bytes of each stream are kept in memory; stderr
 * can also be copied whole (up to WSC_TARGET_LOG_MAX bytes) into a log file.
 *
 * A struct wsc_target is owned by the caller; wsc_target_stop() ends the
 * process and releases everything it holds. Not thread-safe: one thread
 * drives one target.
 */
#ifndef WSC_TARGET_H
#define WSC_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define WSC_TARGET_RING    (64u * 1024u)         /* bytes kept per stream */
#define WSC_TARGET_LOG_MAX (64ull * 1024 * 1024) /* stderr log file cap */
#define WSC_TARGET_LINE    4096u                 /* longest line scanned for sanitizer marks */

struct wsc_ring {
	char *buf;      /* WSC_TARGET_RING bytes, malloc'ed by spawn */
	size_t head;    /* next write position */
	size_t len;     /* bytes held (<= WSC_TARGET_RING) */
	uint64_t total; /* bytes ever written */
};

enum wsc_target_state {
	WSC_TARGET_NONE = 0, /* not started, or stopped and reaped */
	WSC_TARGET_RUNNING,
	WSC_TARGET_EXITED, /* reaped: see status */
};

struct wsc_target {
	enum wsc_target_state state;
	pid_t pid;          /* also the process group id */
	int status;         /* waitpid status once EXITED */
	int out_fd, err_fd; /* read ends, -1 once at EOF */
	struct wsc_ring out, err;

	/* stdout's first line (wsref-echo prints its port there) */
	char first_line[256];
	size_t first_len;
	bool first_done;

	/* stderr line assembly for the sanitizer scan */
	char line[WSC_TARGET_LINE];
	size_t line_len;
	bool line_overflow;
	bool sanitizer;           /* a sanitizer report was seen on stderr */
	char sanitizer_line[512]; /* its first line */

	int log_fd; /* stderr copy, -1 if none */
	uint64_t log_written;
	bool stopping; /* wsc_target_stop sent SIGTERM: exits after this are expected */
	bool stopped;  /* wsc_target_stop ran: later calls do nothing */
};

/*
 * Start `argv` (argv[0] is a path, no $PATH search) or, when argv is NULL,
 * `/bin/sh -c shell_cmd`. stderr_log: file to receive the whole stderr (its
 * directory must exist), or NULL. Returns 0, or -1 with err filled (the
 * program could not be started; nothing is left running or allocated).
 */
int wsc_target_spawn(struct wsc_target *t, char *const argv[], const char *shell_cmd,
                     const char *stderr_log, char *err, size_t errlen);

/*
 * Drain the pipes (never blocking), reap the process if it ended, scan
 * stderr. Returns true while the process runs and no sanitizer report was
 * seen; false otherwise.
 */
bool wsc_target_poll(struct wsc_target *t);

/*
 * Wait up to timeout_ms for data on the pipes or the process's end (drains
 * and polls like wsc_target_poll). Used as the 20 ms pause of the readiness
 * loops; returns early when something happened.
 */
void wsc_target_wait(struct wsc_target *t, int timeout_ms);

/* True once the process has ended or a sanitizer report has been seen. */
bool wsc_target_failed(const struct wsc_target *t);
/* True if the process died in a way that counts as a crash (see target.c). */
bool wsc_target_crashed(const struct wsc_target *t);

/*
 * Describe why the target failed: "exited with status 3", "killed by signal
 * SIGSEGV", or the sanitizer line. Writes a NUL-terminated string to out.
 */
void wsc_target_describe(const struct wsc_target *t, char *out, size_t cap);

/* Copy the last at most `max` bytes of stderr (NUL-terminated) into out. */
void wsc_target_stderr_tail(const struct wsc_target *t, char *out, size_t cap, size_t max);

/*
 * SIGTERM the process group (its other processes first, so a shell between
 * us and the server can exit by itself with the server's status), wait up
 * to grace_ms (draining pipes), SIGKILL the group, reap, close the pipes and the log. Safe to call
 * on a target that already exited, was never started, or was stopped before (then it does nothing).
 * The state stays readable (status, sanitizer, rings) afterwards.
 */
void wsc_target_stop(struct wsc_target *t, int grace_ms);

/*
 * Resident memory of the target's process group in KiB (the shell --exec
 * runs and whatever it started), from /proc; -1 if nothing could be read.
 */
int64_t wsc_target_rss_kib(const struct wsc_target *t);

/* Free the rings (after wsc_target_stop). Idempotent. */
void wsc_target_free(struct wsc_target *t);

/*
 * Async-signal-safe: kill the process group of the running target (SIGKILL).
 * For a second Ctrl-C. Uses a pid published by wsc_target_spawn.
 */
void wsc_target_emergency_kill(void);

/* Reserve a free TCP port on the loopback address of `host`'s family. 0 on failure. */
unsigned wsc_free_port(const char *host);

/*
 * Try once to open a TCP connection to host:port, waiting at most wait_ms.
 * Returns 1 connected (and closed again), 0 not (yet) listening (err holds
 * the last reason, e.g. "Connection refused"), -1 the name does not resolve
 * (err filled).
 */
int wsc_tcp_probe(const char *host, const char *port, int wait_ms, char *err, size_t errlen);

#endif
