/*
 * emit.h - the one escaping layer shared by every report emitter and the
 * judge's texts: a growable output buffer, UTF-8 sanitizing, JSON/HTML/XML
 * escaping, Autobahn's 64-byte payload rendering, and a small streaming JSON
 * writer with Python-compatible layout.
 *
 * Every string a peer could control passes through wsc_out_utf8() (directly
 * or inside an escaper): invalid UTF-8 becomes U+FFFD, so every emitted file
 * is valid UTF-8 whatever the peer sent.
 *
 * Errors: a wsc_out records allocation failure in its sticky `oom` flag and
 * ignores further appends; check it once at the end (wsc_out_write_file
 * does).
 */
#ifndef WSC_EMIT_H
#define WSC_EMIT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "result.h"

struct wsc_out {
	char *p;    /* NUL-terminated when len > 0 and !oom (owned) */
	size_t len; /* bytes used, without the NUL */
	size_t cap;
	bool oom; /* sticky: an append failed */
};

void wsc_out_init(struct wsc_out *b);
void wsc_out_free(struct wsc_out *b);
/* Truncate to n bytes (n <= len). */
void wsc_out_truncate(struct wsc_out *b, size_t n);
void wsc_out_put(struct wsc_out *b, const void *p, size_t n);
void wsc_out_puts(struct wsc_out *b, const char *s);
void wsc_out_putc(struct wsc_out *b, char c);
void wsc_out_printf(struct wsc_out *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The text, always a valid C string ("" when empty or after oom). */
const char *wsc_out_str(const struct wsc_out *b);
/* Hand the text to the caller (malloc'ed, or NULL on oom); b is left empty. */
char *wsc_out_take(struct wsc_out *b);
/*
 * Write the buffer to path atomically (path.tmp, then rename); "-" is
 * stdout, and an existing non-regular file (a pipe, /dev/stdout) is written
 * in place. Returns 0, or -1 with err filled (also when b->oom).
 */
int wsc_out_write_file(const struct wsc_out *b, const char *path, char *err, size_t errlen);

/* True if p[0..n) is valid UTF-8 (RFC 3629: no overlongs, surrogates, > U+10FFFF). */
bool wsc_out_utf8_valid(const uint8_t *p, size_t n);
/*
 * Decode one code point at p[0..n): returns the sequence length (1..4) and
 * sets *cp; on an invalid sequence returns the length of the maximal invalid
 * prefix (>= 1) and sets *cp = 0xFFFD (the WHATWG replacement rule).
 */
size_t wsc_out_utf8_next(const uint8_t *p, size_t n, uint32_t *cp);

/* Append p[0..n) with every invalid sequence replaced by U+FFFD. */
void wsc_out_utf8(struct wsc_out *b, const void *p, size_t n);

/*
 * Escapers: sanitize to UTF-8, then escape for the format.
 * JSON: a complete quoted string; every non-ASCII code point as \uXXXX
 *   (surrogate pairs above U+FFFF), like Python's json.dumps; with html_safe
 *   also < > & ' as \u00XX so the text can sit inside <script>.
 * HTML: & < > " ' as entities; C0 controls (but TAB, LF, CR) and DEL shown
 *   as the visible text \xNN.
 * XML: like HTML (valid in text and attribute values); with attr, also TAB,
 *   LF and CR as character references.
 * Terminal: controls (including ESC) shown as \xNN.
 */
void wsc_out_json_str(struct wsc_out *b, const void *p, size_t n, bool html_safe);
void wsc_out_html(struct wsc_out *b, const void *p, size_t n);
void wsc_out_xml(struct wsc_out *b, const void *p, size_t n, bool attr);
void wsc_out_term(struct wsc_out *b, const void *p, size_t n);
/* Markdown table/list text: HTML-escaped and Markdown punctuation backslashed. */
void wsc_out_md(struct wsc_out *b, const void *p, size_t n);

#define WSC_PAYLOAD_SHOW 64
/*
 * Autobahn's payload rendering: the first min(kept, 64) bytes of data, shown
 * as text when they are valid UTF-8, else as "0x" + lower-case hex; " ..."
 * appended when full_len is larger than what is shown. The result is valid
 * UTF-8 but NOT escaped (pass it through an escaper).
 */
void wsc_out_payload(struct wsc_out *b, const uint8_t *data, size_t kept, size_t full_len);

/* "2025-01-02T03:04:05.678Z" (UTC) into out (>= 25 bytes). */
void wsc_iso_time(uint64_t unix_ms, char out[32]);

/* The profile's name: "rfc", "autobahn", "hardened". */
const char *wsc_profile_label(enum wsc_profile p);

/*
 * Streaming JSON writer. indent 0 writes compact JSON (",", ":"); indent N
 * writes one item per line indented N spaces per level, like Python's
 * json.dumps(indent=N). py27 reproduces Python 2.7's item separator ", "
 * (a trailing space before each newline), which is what Autobahn's files
 * contain. Keys are written in the order given: callers sort them.
 */
struct wsc_json {
	struct wsc_out *b;
	int indent;
	bool py27;
	bool html_safe;
	int depth;
	bool first[32];
	bool after_key;
};

void wsc_json_init(struct wsc_json *j, struct wsc_out *b, int indent, bool py27, bool html_safe);
void wsc_json_obj(struct wsc_json *j);
void wsc_json_obj_end(struct wsc_json *j);
void wsc_json_arr(struct wsc_json *j);
void wsc_json_arr_end(struct wsc_json *j);
void wsc_json_key(struct wsc_json *j, const char *k);
void wsc_json_str(struct wsc_json *j, const char *s); /* NULL -> null */
void wsc_json_strn(struct wsc_json *j, const void *p, size_t n);
void wsc_json_int(struct wsc_json *j, long long v);
void wsc_json_bool(struct wsc_json *j, bool v);
void wsc_json_null(struct wsc_json *j);
/* A number rounded to `decimals` places, written as Python repr() does (non-finite -> null). */
void wsc_json_num(struct wsc_json *j, double v, int decimals);
/* A payload rendered by wsc_out_payload, as a JSON string. */
void wsc_json_payload(struct wsc_json *j, const uint8_t *data, size_t kept, size_t full_len);

/* Shared report helpers (emit.c). */
/* The ID with dots as underscores: "6.3.1" -> "6_3_1". */
void wsc_id_file_part(const char *id, char *out, size_t cap);
/* Create dir (one level) unless it exists. Returns 0, or -1 with err filled. */
int wsc_mkdir(const char *dir, char *err, size_t errlen);
/* The first component of an ID as a number ("12.1.3" -> 12), 0 if none. */
int wsc_id_category(const char *id);
/*
 * Render an observed or expected event like the judge's texts: `text "..."`
 * (C escapes for quotes, backslashes and controls; never a NUL),
 * `binary 0x...`, `pong "..."`, `timeout TAG`; "(N bytes)" and " ..." when
 * longer than 64 bytes.
 */
void wsc_out_event(struct wsc_out *b, enum wsc_event_kind kind, const uint8_t *data, size_t len);

/* Counts over a run (or one agent when agent != NULL). */
struct wsc_counts {
	size_t total, passed, failed, non_strict, informational, unimplemented, not_run;
	uint64_t duration_ms; /* sum of case durations */
};
void wsc_count_result(struct wsc_counts *c, const struct wsc_result *r, bool strict);

/* Sorted views of a run's results (malloc'ed index arrays; caller frees). */
/* By agent (strcmp), then case ID (strcmp, as Autobahn's JSON sorts). */
size_t *wsc_sort_by_agent_id_str(const struct wsc_run *run);
/* By case ID (natural order), then agent (strcmp). */
size_t *wsc_sort_by_id_natural(const struct wsc_run *run);
/* The distinct agent names of a run, sorted (borrowed pointers; caller frees the array). */
const char **wsc_run_agents(const struct wsc_run *run, size_t *n);

#endif
