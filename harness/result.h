/*
 * result.h - the one result model: what happened on the wire for a case
 * (the observation, filled by the engine), the two verdicts (filled by the
 * judge), and a run (all results of all agents, read by the report emitters).
 *
 * Ownership: every pointer inside a wsc_result is malloc'ed and owned by the
 * result; wsc_result_free() releases it. A wsc_run owns its results.
 */
#ifndef WSC_RESULT_H
#define WSC_RESULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "case.h"

enum wsc_close_verdict {
	WSC_CV_OK = 0,
	WSC_CV_FAILED,
	WSC_CV_UNCLEAN,
	WSC_CV_WRONG_CODE,
	WSC_CV_FAILED_BY_CLIENT,
	WSC_CV_INFORMATIONAL,
};
const char *wsc_close_verdict_name(enum wsc_close_verdict v); /* "WRONG CODE", ... */

/* An event the peer caused: a complete data message, a pong, or a wait mark. */
struct wsc_obs_event {
	enum wsc_event_kind kind;
	uint8_t *data; /* full payload (owned) */
	size_t len;
	uint64_t t_us; /* microseconds since the case started */
};

enum wsc_wire_kind {
	WSC_WIRE_TX_OCTETS = 0, /* one write() of ours */
	WSC_WIRE_RX_OCTETS,     /* one read() */
	WSC_WIRE_TX_FRAME,      /* a frame we sent (decoded header) */
	WSC_WIRE_RX_FRAME,      /* a frame the peer sent */
	WSC_WIRE_NOTE,          /* timer and state lines: "KILL AFTER 1 s", "TCP DROPPED BY PEER" */
};

struct wsc_wire_entry {
	enum wsc_wire_kind kind;
	uint64_t t_us;   /* since the case started */
	uint8_t *data;   /* OCTETS: the first bytes (at most WSC_WIRE_KEEP); FRAME: payload head */
	size_t len;      /* bytes kept in data */
	size_t full_len; /* OCTETS: bytes actually read/written; FRAME: payload length */
	/* FRAME */
	uint8_t opcode, rsv;
	bool fin, masked;
	uint8_t mask[4];
	char *note; /* NOTE: text (owned) */
};
#define WSC_WIRE_KEEP 64

struct wsc_observation {
	/* opening handshake */
	bool connected;        /* TCP (and TLS) connection was made */
	bool handshake_done;   /* 101 received and valid (client) / sent (server) */
	int http_status;       /* status the peer answered (0: none) */
	char *http_request;    /* raw request head text (owned), NULL if none */
	char *http_response;   /* raw response head text (owned) */
	char *handshake_error; /* why the handshake failed (owned), NULL if it did not */

	/* what the peer did, in order */
	struct wsc_obs_event *events;
	size_t n_events, cap_events;

	/* close bookkeeping (Autobahn's names) */
	bool closed_by_me;          /* we sent the first Close (including the kill timer's 1001) */
	bool failed_by_me;          /* we failed the connection (protocol error or kill) */
	bool dropped_by_me;         /* we closed TCP */
	bool was_clean;             /* a Close was sent and received, and TCP closed in order */
	char *was_not_clean_reason; /* owned */
	bool server_drop_timeout;   /* as client: the server did not close TCP within 1 s */
	bool open_handshake_timeout;
	bool close_handshake_timeout; /* no Close reply within 1 s */
	int local_close_code;         /* -1: none sent; else the code (1005 for an empty Close) */
	uint8_t *local_close_reason;
	size_t local_close_reason_len;
	int remote_close_code; /* -1: no Close received; 1005: empty Close */
	uint8_t *remote_close_reason;
	size_t remote_close_reason_len;
	char *protocol_violation; /* what the peer did wrong on the wire, if anything (owned) */

	/* time */
	uint64_t started_unix_ms; /* wall clock when the case started */
	uint32_t duration_ms;     /* from open to TCP closed (Autobahn's duration) */

	/* wire log and statistics */
	struct wsc_wire_entry *wire;
	size_t n_wire, cap_wire;
	uint64_t rx_octets, tx_octets;
	uint32_t rx_frames[16], tx_frames[16]; /* per opcode */

	/* the target under test died during this case */
	bool target_crashed;
	/* the peer dropped this connection shortly before the target was found
	 * stopped (sched.c); a crash verdict if the target crashed (cli.c) */
	bool crash_suspect;
	uint64_t crash_suspect_us; /* from the drop to the target found stopped (or run end) */
	/* permessage-deflate, round trips and traffic (pmd.c, roundtrip.c) */
	bool wirelog_off;         /* bulk transfer: counters only, no wire log entries */
	bool pmd_negotiated;      /* permessage-deflate was agreed */
	char *extension_missing;  /* require-extension not met: UNIMPLEMENTED (owned) */
	char *roundtrip_error;    /* first round-trip failure (owned), NULL if none */
	uint64_t rt_messages;     /* round trips completed */
	uint64_t app_out, app_in; /* data message bytes before compression / after inflation */
	uint64_t ws_out, ws_in;   /* data message payload bytes on the wire (compressed) */
	uint64_t frames_out, frames_in; /* data frames (text, binary, continuation) */
	uint64_t msgs_out, msgs_in;
	uint64_t preopen_rx, preopen_tx; /* wire octets before the WebSocket opened */
	uint64_t rt_us;                  /* time spent in round trips (throughput) */
	/* `watch-memory`: the peer's resident KiB at the start and at most; -1 unknown */
	int64_t peer_rss_start_kib, peer_rss_peak_kib;
	/* --round-trips cut a round trip: messages the case asks for (0: not cut) */
	uint32_t rt_capped_from;
};

struct wsc_result {
	const struct wsc_case *c; /* borrowed from the catalog */
	const char *agent;        /* borrowed from the run */
	size_t position;          /* 1-based index in the run's selection */
	bool is_server;           /* the harness played the server */
	bool ran;                 /* false: could not test (unreachable, aborted) */
	enum wsc_verdict behavior;
	enum wsc_close_verdict behavior_close;
	char *result_text;       /* "expected one of ... / got ..." (owned) */
	char *result_close_text; /* (owned) */
	struct wsc_observation obs;
};

/* Observation helpers (engine and tests). All return 0, or -1 on ENOMEM. */
void wsc_result_init(struct wsc_result *r, const struct wsc_case *c, const char *agent,
                     size_t position, bool is_server);
int wsc_obs_add_event(struct wsc_observation *o, enum wsc_event_kind kind, const uint8_t *data,
                      size_t len, uint64_t t_us);
int wsc_obs_wire_octets(struct wsc_observation *o, bool tx, const uint8_t *data, size_t len,
                        uint64_t t_us);
int wsc_obs_wire_frame(struct wsc_observation *o, bool tx, uint8_t opcode, uint8_t rsv, bool fin,
                       bool masked, const uint8_t mask[4], const uint8_t *payload,
                       size_t payload_len, uint64_t t_us);
int wsc_obs_note(struct wsc_observation *o, uint64_t t_us, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
void wsc_result_free(struct wsc_result *r);

/*
 * The judge. Sets r->behavior, r->behavior_close, r->result_text and
 * r->result_close_text from r->c and r->obs, by Autobahn's ordered rules
 * (shared/reference: verdict model) under the catalog's profile.
 * Never reads anything but the case and the observation.
 */
void wsc_judge(struct wsc_result *r, enum wsc_profile profile);

/* True if the events received so far equal this alternative exactly. */
bool wsc_alt_matches(const struct wsc_alt *alt, const struct wsc_obs_event *ev, size_t n);
/* True when a case passes (see cases/README.md); strict: NON-STRICT fails. */
bool wsc_result_passed(const struct wsc_result *r, bool strict);
bool wsc_result_skipped(const struct wsc_result *r); /* UNIMPLEMENTED */

/* A whole run: every agent's results, in selection order per agent. */
struct wsc_run {
	const struct wsc_catalog *cat;
	enum wsc_profile profile;
	bool strict;
	uint32_t round_trip_cap; /* --round-trips (0: Autobahn's volume) */
	const char *tool_version;
	uint64_t started_unix_ms;
	uint32_t duration_ms;
	struct wsc_result *results;
	size_t n_results, cap_results;
	/* target management */
	bool target_crashed;
	char *target_crash_text; /* exit status / signal / sanitizer excerpt (owned) */
};

int wsc_run_add(struct wsc_run *run, struct wsc_result *r); /* takes ownership of *r's contents */
void wsc_run_free(struct wsc_run *run);

/*
 * Report emitters (reports/). Each writes deterministic output; every string
 * the peer controlled is made valid UTF-8 and escaped for the format.
 * Return 0, or -1 with a message in err.
 */
/* index.json + <agent>_case_<x_y_z>.json per result, Autobahn's layout; also report.json. */
int wsc_report_json(const struct wsc_run *run, const char *dir, char *err, size_t errlen);
/* One self-contained index.html (inline CSS/JS) with per-case details and wire logs. */
int wsc_report_html(const struct wsc_run *run, const char *dir, char *err, size_t errlen);
/* JUnit XML: a testsuite per category, name and classname on every testcase. */
int wsc_report_junit(const struct wsc_run *run, const char *path, char *err, size_t errlen);
/* Markdown summary (for $GITHUB_STEP_SUMMARY). */
int wsc_report_markdown(const struct wsc_run *run, const char *path, char *err, size_t errlen);
/* Terminal: one line per failure, per-category timing, and one summary line. */
void wsc_report_text(const struct wsc_run *run, FILE *out, bool color);

/* Agent name as Autobahn turns it into a file name part ("AutobahnPython/0.10.9" ->
 * "autobahnpython_0_10_9"). */
void wsc_agent_file_part(const char *agent, char *out, size_t cap);

#endif
