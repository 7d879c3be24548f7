/*
 * json_parse.h - a small strict JSON parser (RFC 8259) for the files the
 * harness reads: Autobahn spec files and Autobahn-layout reports.
 *
 * Strict: one value, optional surrounding whitespace, nothing else; no
 * comments, trailing commas, leading zeros, NaN/Infinity, control characters
 * in strings, invalid UTF-8, or lone surrogates; duplicate object keys are an
 * error. Bounded: the input is at most WSC_JP_MAX_INPUT bytes and nesting at
 * most WSC_JP_MAX_DEPTH levels (the parser recurses once per level). Errors
 * say "line L, column C: what".
 *
 * Ownership: wsc_jp_parse() returns a tree the caller frees with
 * wsc_jp_free(); every string and array inside belongs to the tree.
 */
#ifndef WSC_JSON_PARSE_H
#define WSC_JSON_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#define WSC_JP_MAX_DEPTH 64
#define WSC_JP_MAX_INPUT (256u * 1024u * 1024u)

enum wsc_jtype { WSC_JNULL = 0, WSC_JBOOL, WSC_JNUM, WSC_JSTR, WSC_JARR, WSC_JOBJ };

struct wsc_jval {
	enum wsc_jtype type;
	bool b;     /* JBOOL */
	double num; /* JNUM */
	char *str;  /* JSTR: decoded UTF-8 (NUL-terminated; may hold \u0000 — use len);
	               JNUM: the number as written */
	size_t len; /* JSTR/JNUM: bytes in str */
	struct wsc_jval *items; /* JARR: elements; JOBJ: member values */
	char **keys;            /* JOBJ: member names (NUL-terminated), in input order */
	size_t n;               /* JARR/JOBJ: count */
};

/*
 * Parse text[0..len). Returns the root (malloc'ed), or NULL with err filled
 * ("line 3, column 7: expected ',' or '}'", "out of memory", ...).
 */
struct wsc_jval *wsc_jp_parse(const char *text, size_t len, char *err, size_t errlen);
void wsc_jp_free(struct wsc_jval *v);

/* Object member by name (NULL if v is not an object or has no such key). */
const struct wsc_jval *wsc_jp_get(const struct wsc_jval *v, const char *key);
/* Type name for messages: "null", "boolean", "number", "string", "array", "object". */
const char *wsc_jp_type_name(enum wsc_jtype t);

/*
 * Read a whole file (at most max bytes) and parse it. Returns the root or
 * NULL with err filled ("PATH: No such file or directory", "PATH: line ...").
 */
struct wsc_jval *wsc_jp_parse_file(const char *path, size_t max, char *err, size_t errlen);

#endif
