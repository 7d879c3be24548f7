/*
 * case.h - the compiled form of the case language (cases/README.md).
 *
 * The parser (caselang.c) turns .wsc text into these structures for one
 * profile; the step VM (vm.c) runs them; the judge (judge.c) compares what
 * happened with them. Everything a catalog holds is owned by the catalog and
 * lives until wsc_catalog_free().
 *
 * The harness shares no code with libwsref: nothing here includes wsref.h.
 */
#ifndef WSC_CASE_H
#define WSC_CASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum wsc_profile { WSC_PROFILE_RFC = 0, WSC_PROFILE_AUTOBAHN, WSC_PROFILE_HARDENED };

enum wsc_level { WSC_LEVEL_MUST = 0, WSC_LEVEL_SHOULD, WSC_LEVEL_MAY };

/* Which side a case tests (bit set). */
#define WSC_SIDE_SERVER 1u /* the peer is a server; the harness plays the client */
#define WSC_SIDE_CLIENT 2u /* the peer is a client; the harness plays the server */

struct wsc_bytes {
	uint8_t *p; /* owned by the catalog; may be NULL when n == 0 */
	size_t n;
	/*
	 * Read-only: identical payloads of 1 KiB or more (same expression text)
	 * share one buffer across steps, events and cases.
	 */
};

enum wsc_chop_kind { WSC_CHOP_BURST = 0, WSC_CHOP_FRAME, WSC_CHOP_OCTET, WSC_CHOP_SIZE };

struct wsc_chop {
	enum wsc_chop_kind kind;
	uint32_t size; /* WSC_CHOP_SIZE: bytes per write */
};

enum wsc_mask_mode { WSC_MASK_AUTO = 0, WSC_MASK_NONE, WSC_MASK_KEY };

/* One `send` or `close` statement. A close is a send with opcode 8. */
struct wsc_send {
	uint8_t opcode; /* 0..15 */
	uint8_t rsv;    /* 0..7, RSV1 = 4 */
	bool fin;
	enum wsc_mask_mode mask;
	uint8_t key[4];    /* WSC_MASK_KEY */
	bool len_override; /* declare `len` whatever payload.n is */
	uint64_t len;
	uint8_t lenform; /* 0 = minimal; 16 or 64 = force that encoding */
	uint32_t frag;   /* >0: split into frames of frag payload bytes */
	bool has_chop;   /* per-send chop override */
	struct wsc_chop chop;
	struct wsc_bytes payload; /* for close: code (2 bytes BE) + reason, or raw */
	uint8_t compress;         /* WSC_COMPRESS_*: what permessage-deflate does to it */
};

/* `compress=` on a send (cases/README.md, permessage-deflate). */
enum { WSC_COMPRESS_AUTO = 0, WSC_COMPRESS_NO, WSC_COMPRESS_RAW };

/* A `roundtrip` source: a repeated pattern or a generated data set. */
enum wsc_rt_source { WSC_RT_PATTERN = 0, WSC_RT_DATASET, WSC_RT_BOMB };

/* `roundtrip COUNT OPCODE SOURCE SIZE [options]` (cases/README.md). */
struct wsc_roundtrip {
	uint32_t count;
	uint8_t opcode;       /* 1, 2, or 9 (ping, with nowait) */
	uint8_t source;       /* enum wsc_rt_source */
	uint8_t dataset;      /* WSC_RT_DATASET: data set number (datasets.h) */
	uint8_t compress;     /* WSC_COMPRESS_AUTO or _NO */
	bool nowait;          /* send all, do not wait for or check echoes */
	bool size_from_limit; /* SIZE is `limit+N`/`limit-N`: the peer's declared limit */
	int64_t size_delta;   /* size_from_limit: N */
	uint64_t size;        /* units: bytes, or characters for text data sets */
	uint32_t frag;        /* >0: frames of frag (compressed) payload bytes */
	bool has_chop;
	struct wsc_chop chop;
	uint32_t timeout_ms;      /* 0: the case deadline only */
	struct wsc_bytes pattern; /* WSC_RT_PATTERN */
};

enum wsc_step_kind {
	WSC_STEP_SEND = 0,
	WSC_STEP_RAW,
	WSC_STEP_CHOP,
	WSC_STEP_WAIT,
	WSC_STEP_KILL,
	WSC_STEP_CLOSEAFTER,
	WSC_STEP_ROUNDTRIP,
};

struct wsc_step {
	enum wsc_step_kind kind;
	int line; /* source line, for messages */
	union {
		struct wsc_send send; /* SEND */
		struct wsc_bytes raw; /* RAW */
		struct wsc_chop chop; /* CHOP */
		struct {
			uint32_t ms;
			char mark[16];    /* "" = no mark */
		} wait;                   /* WAIT */
		uint32_t ms;              /* KILL, CLOSEAFTER */
		struct wsc_roundtrip *rt; /* ROUNDTRIP (owned by the catalog) */
	} u;
};

enum wsc_event_kind { WSC_EV_TEXT = 0, WSC_EV_BINARY, WSC_EV_PONG, WSC_EV_TIMEOUT };

struct wsc_event {
	enum wsc_event_kind kind;
	struct wsc_bytes data; /* payload; for TIMEOUT the tag */
};

enum wsc_verdict {
	WSC_V_OK = 0,
	WSC_V_NON_STRICT,
	WSC_V_INFORMATIONAL,
	WSC_V_UNIMPLEMENTED,
	WSC_V_FAILED,
};

/* One expectation alternative: a verdict and the exact event list it needs. */
struct wsc_alt {
	enum wsc_verdict verdict;
	struct wsc_event *events;
	size_t n_events;
};

struct wsc_close_expect {
	bool set;          /* false: no `closing` statement (default: me, 1000, clean) */
	bool closed_by_me; /* who must send the first Close */
	uint16_t codes[16];
	size_t n_codes; /* 0: any code */
	bool require_clean;
	bool fatal_endpoint; /* wrong endpoint also fails behavior */
	bool fatal_code;     /* wrong code also fails behavior */
};

struct wsc_handshake {
	const char *request_line;     /* NULL: "GET <path> HTTP/1.1" */
	struct wsc_bytes raw_request; /* n > 0: send exactly this ({host}, {key} replaced) */
	bool has_raw_request;
	const char **add_headers; /* "Name: value" lines */
	size_t n_add_headers;
	const char **drop_headers; /* header names */
	size_t n_drop_headers;
	const char **offers; /* Sec-WebSocket-Extensions offers, in order */
	size_t n_offers;
	const char **protocols; /* Sec-WebSocket-Protocol offers */
	size_t n_protocols;
	int expect_status[8];
	size_t n_expect_status;      /* 0: 101 */
	const char **expect_headers; /* "Name: value" or "Name" */
	size_t n_expect_headers;
	const char **expect_no_headers; /* names */
	size_t n_expect_no_headers;
};

/*
 * The answer the harness gives when it plays the server (respond-* statements,
 * cases/README.md "The harness's answer"). Zeroed: a valid 101.
 */
enum wsc_accept_mode { WSC_ACCEPT_CORRECT = 0, WSC_ACCEPT_WRONG, WSC_ACCEPT_MISSING };

struct wsc_response {
	int status;               /* 0: 101 Switching Protocols */
	const char **add_headers; /* "Name: value" lines, in order */
	size_t n_add_headers;
	const char **drop_headers; /* default header names left out */
	size_t n_drop_headers;
	enum wsc_accept_mode accept;
	struct wsc_bytes raw; /* has_raw: the whole answer ({accept} replaced) */
	bool has_raw;
	bool must_fail;                  /* expect-fail-connection: the client must fail */
	const char *skip_if_request_has; /* NULL, or: not applicable when the request holds it */
};

struct wsc_case {
	const char *id; /* "1.1.1" */
	const char *title;
	const char *rfc; /* "5.6" */
	enum wsc_level level;
	unsigned side;           /* WSC_SIDE_* bits */
	const char *desc;        /* never NULL (defaults to title) */
	const char *expectation; /* never NULL (may be generated) */
	const char *file;        /* source file name, e.g. "1-framing.wsc" */
	int line;                /* line of the `case` statement */
	uint32_t timeout_ms;     /* hard deadline for the whole case */
	struct wsc_handshake hs;
	struct wsc_step *steps;
	size_t n_steps;
	struct wsc_alt *alts;
	size_t n_alts;
	struct wsc_close_expect close;
	bool informational;
	struct wsc_response resp;      /* the harness-as-server answer (side client) */
	const char *require_extension; /* `require-extension`: NULL or "permessage-deflate" */
	bool report_time;              /* `report-time`: duration (and ratios) in reports */
	uint32_t
	        watch_memory_mib; /* `watch-memory N`: the peer may grow by at most N MiB; 0: off */
};

struct wsc_category {
	int number;       /* the ID's first component */
	const char *name; /* "Framing" */
};

struct wsc_arena; /* private: the catalog's memory */

struct wsc_catalog {
	struct wsc_case *cases; /* sorted naturally by ID after load */
	size_t n_cases;
	struct wsc_category *categories;
	size_t n_categories;
	enum wsc_profile profile;
	struct wsc_arena *arena;
};

/* A parse error: "file:line:col: message". */
struct wsc_diag {
	char msg[512];
};

/* A file compiled into the binary (generated by wsc-embed at build time). */
struct wsc_embedded_file {
	const char *name; /* path relative to cases/, e.g. "tables/utf8.tsv" */
	const unsigned char *data;
	size_t len;
};
extern const struct wsc_embedded_file wsc_builtin_files[];
extern const size_t wsc_builtin_file_count;

/* Initialise an empty catalog for a profile. */
void wsc_catalog_init(struct wsc_catalog *cat, enum wsc_profile profile);
/* Load every built-in .wsc file. Returns 0, or -1 with *diag filled. */
int wsc_catalog_load_builtin(struct wsc_catalog *cat, struct wsc_diag *diag);
/*
 * Load a .wsc file (or every .wsc file in a directory) from disk. `expand`
 * paths resolve against the file's directory, then the built-in tables.
 * Duplicate IDs are an error. Returns 0, or -1 with *diag filled.
 */
int wsc_catalog_load_path(struct wsc_catalog *cat, const char *path, struct wsc_diag *diag);
/* Parse text held in memory (used by the loaders, tests and the fuzzer). */
int wsc_catalog_load_text(struct wsc_catalog *cat, const char *name, const char *text, size_t len,
                          struct wsc_diag *diag);
/* Sort cases naturally by ID (1.1.2 before 1.1.10). Loaders call it. */
void wsc_catalog_sort(struct wsc_catalog *cat);
void wsc_catalog_free(struct wsc_catalog *cat);

/* Natural order of IDs: compares dot-separated components numerically. */
int wsc_id_cmp(const char *a, const char *b);
/* The category's name for an ID ("Framing"), or "Misc" if undeclared. */
const char *wsc_category_name(const struct wsc_catalog *cat, const char *id);
const struct wsc_case *wsc_catalog_find(const struct wsc_catalog *cat, const char *id);
/* Does the case's handshake expect 101 (no expect-status list, or 101 in it)? */
bool wsc_case_expects_101(const struct wsc_case *c);

/*
 * Select cases. include/exclude are patterns as Autobahn reads them: with a
 * `*`, a glob anchored at the start (`.` literal, `*` any run); without, an
 * exact ID, which must exist (else an error naming it). An empty include list
 * means "*". Only cases whose side includes `side` are kept (side 0: no side
 * filter). Fills *out with a
 * malloc'ed array of indexes into cat->cases (natural order); the caller frees
 * it. Returns 0, or -1 with err filled ("unknown case ID 9.99.1",
 * "no case selected").
 */
int wsc_select(const struct wsc_catalog *cat, const char *const *include, size_t n_include,
               const char *const *exclude, size_t n_exclude, unsigned side, size_t **out,
               size_t *n_out, char *err, size_t errlen);

/* Names for printing. */
const char *wsc_verdict_name(enum wsc_verdict v); /* "OK", "NON-STRICT", ... */
const char *wsc_level_name(enum wsc_level l);     /* "MUST", ... */
const char *wsc_side_name(unsigned side);         /* "server", "client", "both" */

#endif
