/*
 * caselang.c - the case language (cases/README.md) compiled to case.h.
 *
 * Shape: files are split into lines; each line is tokenised on demand by a
 * small lexer that never looks past the line; one statement per line is
 * dispatched by its first word. Blocks (`case`, `template`) are a flat mode,
 * not recursion, so input depth costs nothing. `expand` requests are queued
 * and run after every file of one load call has been read, so templates may
 * be defined anywhere in the files loaded together (and in earlier loads).
 *
 * Memory: everything a catalog exposes lives in its arena (a list of malloc'ed
 * chunks freed by wsc_catalog_free); the case and category arrays are
 * malloc'ed and owned by the catalog. Scratch vectors used while parsing are
 * owned by the parser and freed when the load returns. Limits keep hostile
 * input bounded: one payload expression is at most WSC_MAX_PAYLOAD bytes, all
 * payloads of a catalog at most WSC_MAX_PAYLOAD_TOTAL, the whole arena at most
 * WSC_MAX_ARENA, one file read from disk at most WSC_MAX_FILE.
 *
 * Payload buffers of WSC_SHARE_MIN bytes or more built from the same
 * expression text are shared (9.x sends and expects the same 16 MiB twice):
 * they are read-only for everyone.
 *
 * A failed load leaves the catalog as it was before the call (cases,
 * categories and templates added by the failed call are dropped; the arena
 * keeps their bytes until wsc_catalog_free).
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "case.h"
#include "datasets.h"
#include "util.h"

#define WSC_MAX_PAYLOAD       ((uint64_t)64 << 20)
#define WSC_MAX_PAYLOAD_TOTAL ((uint64_t)256 << 20)
#define WSC_MAX_ARENA         ((uint64_t)1 << 30)
#define WSC_MAX_FILE          ((size_t)16 << 20)
#define WSC_MAX_ID            63
#define WSC_MAX_SECONDS       86400u
#define WSC_SHARE_MIN         1024u
#define CHUNK_SIZE            ((size_t)64 << 10)

/* ------------------------------------------------------------------ arena */

struct achunk {
	struct achunk *next;
	size_t cap, used;
	max_align_t data[];
};

struct tline {
	const char *text;
	size_t len;
	int line;
};

struct tmpl {
	const char *name, *file;
	int line;
	struct tline *lines;
	size_t n_lines;
};

struct share {
	const char *key; /* expression text */
	size_t klen;
	uint64_t hash;
	struct wsc_bytes bytes;
};

struct wsc_arena {
	struct achunk *head;
	uint64_t bytes, payload_bytes;
	size_t cases_cap, cats_cap;
	struct tmpl *tmpls;
	size_t n_tmpls, tmpls_cap;
	uint32_t *idmap; /* open addressing: case index + 1, 0 = empty */
	size_t idmap_cap;
	struct share *shares; /* open addressing, key NULL = empty */
	size_t shares_n, shares_cap;
	int sorted;
};

static void *arena_alloc(struct wsc_arena *a, size_t n)
{
	if (n == 0)
		n = 1;
	if (n > WSC_MAX_ARENA)
		return NULL;
	n = (n + 15) & ~(size_t)15;
	struct achunk *h = a->head;
	if (h && h->cap - h->used >= n) {
		void *p = (unsigned char *)h->data + h->used;
		h->used += n;
		return p;
	}
	size_t cap = n > CHUNK_SIZE / 4 ? n : CHUNK_SIZE;
	if (a->bytes + cap > WSC_MAX_ARENA)
		return NULL;
	struct achunk *c = malloc(sizeof(*c) + cap);
	if (!c)
		return NULL;
	a->bytes += cap;
	c->cap = cap;
	c->used = n;
	if (cap == n && h) {
		/* A dedicated chunk goes behind the head so the head's room stays usable. */
		c->next = h->next;
		h->next = c;
	} else {
		c->next = h;
		a->head = c;
	}
	return c->data;
}

static char *arena_strndup(struct wsc_arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);
	if (p) {
		if (n)
			memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

static void *arena_memdup(struct wsc_arena *a, const void *s, size_t n)
{
	if (n == 0)
		return NULL;
	void *p = arena_alloc(a, n);
	if (p)
		memcpy(p, s, n);
	return p;
}

static uint64_t hash_bytes(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 1099511628211ull;
	}
	return h;
}

/* ------------------------------------------------------------- vectors */

struct vec {
	void *p;
	size_t n, cap;
};

static void *vec_push(struct vec *v, size_t size)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 8;
		void *np = realloc(v->p, cap * size);
		if (!np)
			return NULL;
		v->p = np;
		v->cap = cap;
	}
	void *e = (unsigned char *)v->p + v->n * size;
	memset(e, 0, size);
	v->n++;
	return e;
}

static void vec_free(struct vec *v)
{
	free(v->p);
	v->p = NULL;
	v->n = v->cap = 0;
}

/* ------------------------------------------------------------- parser */

enum tkind { T_EOL = 0, T_WORD, T_STR, T_HEX, T_STAR, T_PLUS, T_COMMA };

struct tok {
	enum tkind k;
	const char *s; /* WORD: the word; STR/HEX: the text between the quotes */
	size_t n;
	size_t off; /* offset of the token in the line */
	int col;    /* 1-based byte column */
};

struct lex {
	const char *s;
	size_t n, pos;
	struct parser *P;
};

enum fstate { F_UNSET = 0, F_PLAIN, F_PROF };

enum hs_list {
	HS_HEADER = 0,
	HS_DROP,
	HS_OFFER,
	HS_PROTO,
	HS_EXPH,
	HS_EXPNOH,
	HS_RESPH,
	HS_RESPDROP,
	HS_N
};

struct altb {
	bool declared;
	struct vec events; /* struct wsc_event */
};

/* The case being built. */
struct cb {
	bool active; /* false: parsed (for errors) but dropped under this profile */
	struct wsc_case c;
	const char *loc_file; /* where the case starts (case line or table row) */
	int loc_line, loc_col;
	enum fstate st_title, st_rfc, st_level, st_side, st_desc, st_exp, st_timeout, st_closing,
	        st_status, st_reqline, st_rawreq;
	struct vec steps;
	struct vec hs[HS_N]; /* const char * */
	struct altb alts[3];
	int order[3], n_order;
	char id[WSC_MAX_ID + 1];
	enum fstate st_rstatus, st_raccept, st_rraw, st_rskip; /* respond-* (server answer) */
};

struct expand_req {
	const char *file, *dir, *path; /* dir NULL: built-in files only */
	int line, col;
	bool active;
};

enum mode { M_TOP = 0, M_CASE, M_TEMPLATE };

struct parser {
	struct wsc_catalog *cat;
	struct wsc_arena *A;
	unsigned prof_bit;
	struct wsc_diag *diag;
	int failed;
	/* the current line */
	const char *file;
	const char *dir;
	const char *ctx; /* appended to messages, "" outside expansions */
	int line;
	enum mode mode;
	struct cb cb;
	/* template being defined */
	const char *t_name, *t_file;
	int t_line;
	struct vec t_lines; /* struct tline */
	struct vec expands; /* struct expand_req */
	char *sub;
	size_t sub_cap;
	char ctxbuf[256];
	/* rollback */
	size_t n_cases0, n_cats0, n_tmpls0;
};

static int perr_at(struct parser *P, const char *file, int line, int col, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));

static int perr_at(struct parser *P, const char *file, int line, int col, const char *fmt, ...)
{
	if (P->failed)
		return -1;
	P->failed = 1;
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (P->diag && line <= 0) /* whole-file problems: "path: message" */
		snprintf(P->diag->msg, sizeof(P->diag->msg), "%s: %s", file ? file : "?", msg);
	else if (P->diag)
		snprintf(P->diag->msg, sizeof(P->diag->msg), "%s:%d:%d: %s%s", file ? file : "?",
		         line, col, msg, P->ctx ? P->ctx : "");
	return -1;
}

#define perr(P, col, ...) perr_at((P), (P)->file, (P)->line, (col), __VA_ARGS__)

static int oom(struct parser *P, int col)
{
	return perr(P, col, "out of memory (or catalog larger than %llu MiB)",
	            (unsigned long long)(WSC_MAX_ARENA >> 20));
}

/* A printable, truncated rendering of a token for messages. */
static const char *tokstr(const struct tok *t, char *buf, size_t bn)
{
	switch (t->k) {
	case T_EOL:
		return "end of line";
	case T_STR:
		return "a string";
	case T_HEX:
		return "a hex string";
	case T_STAR:
		return "'*'";
	case T_PLUS:
		return "'+'";
	case T_COMMA:
		return "','";
	case T_WORD:
		break;
	}
	size_t j = 0;
	buf[j++] = '\'';
	for (size_t i = 0; i < t->n && j + 6 < bn; i++) {
		unsigned char c = (unsigned char)t->s[i];
		if (i >= 40) {
			memcpy(buf + j, "...", 3);
			j += 3;
			break;
		}
		if (c >= 0x20 && c < 0x7f) {
			buf[j++] = (char)c;
		} else {
			snprintf(buf + j, bn - j, "\\x%02x", c);
			j += 4;
		}
	}
	buf[j++] = '\'';
	buf[j] = '\0';
	return buf;
}

static int unexpected(struct parser *P, const struct tok *t, const char *what)
{
	char b[64];
	return perr(P, t->col, "expected %s, got %s", what, tokstr(t, b, sizeof(b)));
}

/* -------------------------------------------------------------- lexer */

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static int is_wordch(char c)
{
	return !is_blank(c) && c != '"' && c != '#' && c != '*' && c != '+' && c != ',';
}

static void lex_init(struct lex *L, struct parser *P, const char *s, size_t n)
{
	L->s = s;
	L->n = n;
	L->pos = 0;
	L->P = P;
}

static int lex_next(struct lex *L, struct tok *t)
{
	const char *s = L->s;
	size_t n = L->n, pos = L->pos;
	while (pos < n && is_blank(s[pos]))
		pos++;
	t->off = pos;
	t->col = (int)(pos > 0x7fffffff ? 0x7fffffff : pos + 1);
	t->s = s + pos;
	t->n = 0;
	if (pos >= n || s[pos] == '#') {
		t->k = T_EOL;
		L->pos = pos;
		return 0;
	}
	char c = s[pos];
	if (c == '*' || c == '+' || c == ',') {
		t->k = c == '*' ? T_STAR : c == '+' ? T_PLUS : T_COMMA;
		t->n = 1;
		L->pos = pos + 1;
		return 0;
	}
	if (c == 'x' && pos + 1 < n && s[pos + 1] == '"') {
		size_t start = pos + 2, digits = 0;
		for (pos = start; pos < n && s[pos] != '"'; pos++) {
			if (wsc_hexval((unsigned char)s[pos]) >= 0)
				digits++;
			else if (s[pos] != ' ' && s[pos] != '\t')
				return perr(L->P, (int)pos + 1, "bad hex digit in x\"...\"");
		}
		if (pos >= n)
			return perr(L->P, t->col, "unterminated hex string");
		if (digits % 2)
			return perr(L->P, t->col, "odd number of hex digits in x\"...\"");
		t->k = T_HEX;
		t->s = s + start;
		t->n = pos - start;
		L->pos = pos + 1;
		return 0;
	}
	if (c == '"') {
		size_t start = ++pos;
		while (pos < n && s[pos] != '"') {
			if (s[pos] != '\\') {
				pos++;
				continue;
			}
			char e = pos + 1 < n ? s[pos + 1] : '\0';
			if (e == '\\' || e == '"' || e == 'n' || e == 'r' || e == 't') {
				pos += 2;
			} else if (e == 'x') {
				if (pos + 3 >= n || wsc_hexval((unsigned char)s[pos + 2]) < 0 ||
				    wsc_hexval((unsigned char)s[pos + 3]) < 0)
					return perr(L->P, (int)pos + 1,
					            "bad escape: \\x needs two hex digits");
				pos += 4;
			} else if (pos + 1 >= n) {
				return perr(L->P, t->col, "unterminated string");
			} else {
				unsigned char ec = (unsigned char)e;
				if (ec >= 0x20 && ec < 0x7f)
					return perr(L->P, (int)pos + 1, "unknown escape '\\%c'", e);
				return perr(L->P, (int)pos + 1, "unknown escape '\\x%02x'", ec);
			}
		}
		if (pos >= n)
			return perr(L->P, t->col, "unterminated string");
		t->k = T_STR;
		t->s = s + start;
		t->n = pos - start;
		L->pos = pos + 1;
		return 0;
	}
	while (pos < n && is_wordch(s[pos]))
		pos++;
	t->k = T_WORD;
	t->n = pos - t->off;
	L->pos = pos;
	return 0;
}

static int tok_is(const struct tok *t, const char *w)
{
	size_t n = strlen(w);
	return t->k == T_WORD && t->n == n && memcmp(t->s, w, n) == 0;
}

static int tok_ieq(const struct tok *t, const char *w)
{
	size_t n = strlen(w);
	if (t->k != T_WORD || t->n != n)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char a = t->s[i], b = w[i];
		if (a >= 'a' && a <= 'z')
			a = (char)(a - 32);
		if (b >= 'a' && b <= 'z')
			b = (char)(b - 32);
		if (a != b)
			return 0;
	}
	return 1;
}

/* Decoded length of a validated STR or HEX token. */
static size_t atom_len(const struct tok *t)
{
	size_t n = 0;
	if (t->k == T_HEX) {
		for (size_t i = 0; i < t->n; i++)
			if (wsc_hexval((unsigned char)t->s[i]) >= 0)
				n++;
		return n / 2;
	}
	if (t->k != T_STR)
		return 0;
	for (size_t i = 0; i < t->n; n++) {
		if (t->s[i] != '\\')
			i++;
		else
			i += t->s[i + 1] == 'x' ? 4 : 2;
	}
	return n;
}

/* Decode a validated STR or HEX token into dst (atom_len bytes). */
static void atom_fill(const struct tok *t, uint8_t *dst)
{
	size_t j = 0;
	if (t->k == T_HEX) {
		int hi = -1;
		for (size_t i = 0; i < t->n; i++) {
			int v = wsc_hexval((unsigned char)t->s[i]);
			if (v < 0)
				continue;
			if (hi < 0) {
				hi = v;
			} else {
				dst[j++] = (uint8_t)(hi << 4 | v);
				hi = -1;
			}
		}
		return;
	}
	for (size_t i = 0; i < t->n;) {
		char c = t->s[i];
		if (c != '\\') {
			dst[j++] = (uint8_t)c;
			i++;
			continue;
		}
		char e = t->s[i + 1];
		switch (e) {
		case 'n':
			dst[j++] = '\n';
			break;
		case 'r':
			dst[j++] = '\r';
			break;
		case 't':
			dst[j++] = '\t';
			break;
		case 'x':
			dst[j++] = (uint8_t)(wsc_hexval((unsigned char)t->s[i + 2]) << 4 |
			                     wsc_hexval((unsigned char)t->s[i + 3]));
			i += 2;
			break;
		default: /* \\ and \" */
			dst[j++] = (uint8_t)e;
			break;
		}
		i += 2;
	}
}

static int expect_eol(struct parser *P, struct lex *L)
{
	struct tok t;
	if (lex_next(L, &t) < 0)
		return -1;
	if (t.k != T_EOL) {
		char b[64];
		return perr(P, t.col, "unexpected %s at end of statement",
		            tokstr(&t, b, sizeof(b)));
	}
	return 0;
}

/* Parse an unsigned decimal (or 0x hex) number no larger than max. */
static int tok_u64(const struct tok *t, uint64_t max, uint64_t *out)
{
	if (t->k != T_WORD || t->n == 0)
		return -1;
	uint64_t v = 0;
	size_t i = 0;
	int base = 10;
	if (t->n > 2 && t->s[0] == '0' && (t->s[1] == 'x' || t->s[1] == 'X')) {
		base = 16;
		i = 2;
	}
	for (; i < t->n; i++) {
		int d = base == 16 ? wsc_hexval((unsigned char)t->s[i])
		                   : (t->s[i] >= '0' && t->s[i] <= '9' ? t->s[i] - '0' : -1);
		if (d < 0)
			return -1;
		if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
			return -1;
		v = v * (uint64_t)base + (uint64_t)d;
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

/* A number statement argument; reports "bad NAME" on failure. */
static int num_arg(struct parser *P, const struct tok *t, uint64_t min, uint64_t max,
                   const char *what, uint64_t *out)
{
	if (tok_u64(t, max, out) < 0 || *out < min) {
		char b[64];
		if (t->k == T_EOL)
			return perr(P, t->col, "missing %s", what);
		return perr(P, t->col, "bad %s %s (expected a number %llu-%llu)", what,
		            tokstr(t, b, sizeof(b)), (unsigned long long)min,
		            (unsigned long long)max);
	}
	return 0;
}

/* SECONDS: digits with up to three decimals ("1", "0.5", "2.25") -> ms. */
static int seconds_arg(struct parser *P, const struct tok *t, const char *what, uint32_t *ms)
{
	uint64_t whole = 0, frac = 0;
	size_t i = 0, fd = 0;
	int ok = t->k == T_WORD && t->n > 0;
	for (; ok && i < t->n && t->s[i] != '.'; i++) {
		if (t->s[i] < '0' || t->s[i] > '9' || whole > WSC_MAX_SECONDS)
			ok = 0;
		else
			whole = whole * 10 + (uint64_t)(t->s[i] - '0');
	}
	if (ok && i == 0)
		ok = 0;
	if (ok && i < t->n) {
		for (i++; ok && i < t->n; i++, fd++) {
			if (t->s[i] < '0' || t->s[i] > '9' || fd >= 3)
				ok = 0;
			else
				frac = frac * 10 + (uint64_t)(t->s[i] - '0');
		}
		if (fd == 0)
			ok = 0;
	}
	if (ok && whole > WSC_MAX_SECONDS)
		ok = 0;
	if (!ok) {
		char b[64];
		if (t->k == T_EOL)
			return perr(P, t->col, "missing %s", what);
		return perr(P, t->col, "bad %s %s (expected seconds, e.g. 1 or 0.5, at most %u)",
		            what, tokstr(t, b, sizeof(b)), WSC_MAX_SECONDS);
	}
	while (fd < 3) {
		frac *= 10;
		fd++;
	}
	uint64_t v = whole * 1000 + frac;
	if (v > (uint64_t)WSC_MAX_SECONDS * 1000)
		return perr(P, t->col, "%s too large (at most %u s)", what, WSC_MAX_SECONDS);
	*ms = (uint32_t)v;
	return 0;
}

/*
 * A C string argument (STRING, or a WORD where allow_word). Returns the
 * arena copy in *out, or leaves *out alone when !apply.
 */
static int cstr_arg(struct parser *P, const struct tok *t, bool allow_word, bool apply,
                    const char *what, const char **out)
{
	if (t->k == T_WORD && allow_word) {
		if (apply && !(*out = arena_strndup(P->A, t->s, t->n)))
			return oom(P, t->col);
		return 0;
	}
	if (t->k != T_STR)
		return unexpected(P, t, what);
	size_t n = atom_len(t);
	char *tmp = malloc(n + 1);
	if (!tmp)
		return oom(P, t->col);
	atom_fill(t, (uint8_t *)tmp);
	tmp[n] = '\0';
	if (memchr(tmp, '\0', n)) {
		free(tmp);
		return perr(P, t->col, "NUL byte not allowed in %s", what);
	}
	int rc = 0;
	if (apply && !(*out = arena_strndup(P->A, tmp, n)))
		rc = oom(P, t->col);
	free(tmp);
	return rc;
}

static int is_atom(const struct tok *t)
{
	return t->k == T_STR || t->k == T_HEX || tok_is(t, "empty");
}

/* Look up / insert a shared payload buffer (open addressing). */
static struct share *share_slot(struct wsc_arena *A, const char *key, size_t klen, uint64_t h)
{
	size_t mask = A->shares_cap - 1;
	for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
		struct share *s = &A->shares[i];
		if (!s->key || (s->hash == h && s->klen == klen && memcmp(s->key, key, klen) == 0))
			return s;
	}
}

static int share_grow(struct wsc_arena *A)
{
	if (A->shares_n * 2 < A->shares_cap)
		return 0;
	size_t ncap = A->shares_cap ? A->shares_cap * 2 : 64;
	struct share *ns = calloc(ncap, sizeof(*ns)), *old = A->shares;
	if (!ns)
		return -1;
	size_t ocap = A->shares_cap;
	A->shares = ns;
	A->shares_cap = ncap;
	for (size_t i = 0; i < ocap; i++)
		if (old[i].key)
			*share_slot(A, old[i].key, old[i].klen, old[i].hash) = old[i];
	free(old);
	return 0;
}

/*
 * payload := term { "+" term };  term := atom [ "*" COUNT ]
 *
 * *t holds the first token (an atom) on entry and the first token after the
 * expression on return. Two passes: the first validates and sizes (so a
 * too-large payload is refused before anything is allocated), the second
 * fills. `pre` (npre <= 2 bytes, the close code) is prepended. With dry set
 * nothing is allocated and out->p stays NULL.
 */
static int parse_payload(struct parser *P, struct lex *L, struct tok *t, const uint8_t *pre,
                         size_t npre, bool dry, struct wsc_bytes *out)
{
	size_t start = t->off;
	uint64_t total = npre;
	out->p = NULL;
	out->n = 0;
	for (;;) {
		if (!is_atom(t))
			return unexpected(P, t, "a payload (\"...\", x\"...\" or empty)");
		int col = t->col;
		uint64_t alen = atom_len(t), count = 1;
		if (lex_next(L, t) < 0)
			return -1;
		if (t->k == T_STAR) {
			if (lex_next(L, t) < 0)
				return -1;
			if (tok_u64(t, WSC_MAX_PAYLOAD, &count) < 0) {
				char b[64];
				return perr(P, t->col, "bad repeat count %s (at most %llu)",
				            tokstr(t, b, sizeof(b)),
				            (unsigned long long)WSC_MAX_PAYLOAD);
			}
			if (lex_next(L, t) < 0)
				return -1;
		}
		if (alen && count > (WSC_MAX_PAYLOAD - total) / alen)
			return perr(P, col, "payload larger than %llu bytes",
			            (unsigned long long)WSC_MAX_PAYLOAD);
		total += alen * count;
		if (t->k != T_PLUS)
			break;
		if (lex_next(L, t) < 0)
			return -1;
	}
	out->n = (size_t)total;
	if (dry || total == 0)
		return 0;

	struct wsc_arena *A = P->A;
	size_t end = t->off;
	while (end > start && is_blank(L->s[end - 1]))
		end--;
	const char *key = L->s + start;
	size_t klen = end - start;
	uint64_t h = 0;
	struct share *sh = NULL;
	if (npre == 0 && total >= WSC_SHARE_MIN) {
		if (share_grow(A) < 0)
			return oom(P, (int)start + 1);
		h = hash_bytes(key, klen);
		sh = share_slot(A, key, klen, h);
		if (sh->key) {
			*out = sh->bytes;
			return 0;
		}
	}
	if (A->payload_bytes + total > WSC_MAX_PAYLOAD_TOTAL)
		return perr(P, (int)start + 1, "catalog payloads exceed %llu bytes in total",
		            (unsigned long long)WSC_MAX_PAYLOAD_TOTAL);
	uint8_t *buf = arena_alloc(A, (size_t)total);
	if (!buf)
		return oom(P, (int)start + 1);
	A->payload_bytes += total;
	size_t j = 0;
	if (npre) {
		memcpy(buf, pre, npre);
		j = npre;
	}
	/* Second pass over the already validated tokens. */
	struct lex L2 = *L;
	struct tok u;
	L2.pos = start;
	lex_next(&L2, &u);
	for (;;) {
		struct tok atom = u;
		size_t alen = atom_len(&atom), count = 1;
		lex_next(&L2, &u);
		if (u.k == T_STAR) {
			uint64_t c64 = 1;
			lex_next(&L2, &u);
			tok_u64(&u, WSC_MAX_PAYLOAD, &c64);
			count = (size_t)c64;
			lex_next(&L2, &u);
		}
		/* `* 0` contributes nothing: the first pass did not count these bytes. */
		if (alen && count)
			atom_fill(&atom, buf + j);
		if (alen == 0 || count == 0) {
			/* nothing */
		} else if (alen == 1) {
			memset(buf + j + 1, buf[j], count - 1);
			j += count;
		} else if (alen) {
			size_t done = alen, want = alen * count;
			while (done < want) {
				size_t c = done < want - done ? done : want - done;
				memcpy(buf + j + done, buf + j, c);
				done += c;
			}
			j += want;
		}
		if (u.k != T_PLUS)
			break;
		lex_next(&L2, &u);
	}
	out->p = buf;
	if (sh) {
		char *k = arena_strndup(A, key, klen);
		if (!k)
			return oom(P, (int)start + 1);
		sh->key = k;
		sh->klen = klen;
		sh->hash = h;
		sh->bytes = *out;
		A->shares_n++;
	}
	return 0;
}

/* ------------------------------------------------------- case builder */

static const char *const verdict_names[3] = {"OK", "NON-STRICT", "INFORMATIONAL"};
static const enum wsc_verdict verdict_vals[3] = {WSC_V_OK, WSC_V_NON_STRICT, WSC_V_INFORMATIONAL};

static void cb_reset(struct cb *b)
{
	struct vec keep_steps = b->steps, keep_hs[HS_N], keep_ev[3];
	for (int i = 0; i < HS_N; i++)
		keep_hs[i] = b->hs[i];
	for (int i = 0; i < 3; i++)
		keep_ev[i] = b->alts[i].events;
	memset(b, 0, sizeof(*b));
	b->steps = keep_steps;
	b->steps.n = 0;
	for (int i = 0; i < HS_N; i++) {
		b->hs[i] = keep_hs[i];
		b->hs[i].n = 0;
	}
	for (int i = 0; i < 3; i++) {
		b->alts[i].events = keep_ev[i];
		b->alts[i].events.n = 0;
	}
}

static void cb_free(struct cb *b)
{
	vec_free(&b->steps);
	for (int i = 0; i < HS_N; i++)
		vec_free(&b->hs[i]);
	for (int i = 0; i < 3; i++)
		vec_free(&b->alts[i].events);
}

/* Validate an ID: dot-separated positive integers without leading zeros. */
static const char *id_problem(const char *s, size_t n)
{
	if (n == 0)
		return "empty case ID";
	if (n > WSC_MAX_ID)
		return "case ID too long";
	size_t digits = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] >= '0' && s[i] <= '9') {
			if (digits == 0 && s[i] == '0')
				return "case ID components must be positive integers without "
				       "leading zeros";
			if (++digits > 9)
				return "case ID component too large";
			continue;
		}
		if (i < n && s[i] != '.')
			return "case ID must be dot-separated positive integers, e.g. 1.1.1";
		if (digits == 0)
			return "case ID has an empty component";
		digits = 0;
	}
	return NULL;
}

static int cb_begin(struct parser *P, const struct tok *idt, bool active, const char *file,
                    int line, int col)
{
	const char *why = id_problem(idt->s, idt->n);
	if (why)
		return perr_at(P, file, line, col, "%s", why);
	cb_reset(&P->cb);
	memcpy(P->cb.id, idt->s, idt->n);
	P->cb.id[idt->n] = '\0';
	P->cb.active = active;
	P->cb.loc_file = file;
	P->cb.loc_line = line;
	P->cb.loc_col = col;
	P->cb.c.level = WSC_LEVEL_MUST;
	P->cb.c.side = WSC_SIDE_SERVER | WSC_SIDE_CLIENT;
	P->cb.c.timeout_ms = 10000;
	P->mode = M_CASE;
	return 0;
}

/*
 * Singleton statements (title, timeout, closing, ...): an unmarked line may
 * appear once and a profile-marked line once; the marked one wins whatever
 * the order. Returns 1 to apply, 0 to ignore, -1 on a duplicate.
 */
static int claim(struct parser *P, enum fstate *st, bool prefixed, const struct tok *kw)
{
	if (prefixed) {
		if (*st == F_PROF)
			goto dup;
		*st = F_PROF;
		return 1;
	}
	if (*st == F_PLAIN)
		goto dup;
	if (*st == F_PROF)
		return 0;
	*st = F_PLAIN;
	return 1;
dup:
	return perr(P, kw->col, "duplicate '%.*s' in case %s", (int)kw->n, kw->s, P->cb.id);
}

/* ---------------------------------------------------------- statements */

struct sctx {
	struct parser *P;
	struct lex *L;
	struct tok kw;
	bool apply;    /* the line counts under this profile */
	bool prefixed; /* the line carries an @profile mark */
};

static int next(struct sctx *s, struct tok *t)
{
	return lex_next(s->L, t);
}

/* title / desc / expectation / rfc / request-line */
static int st_string(struct sctx *s, const char **field, enum fstate *st, bool allow_word,
                     const char *what)
{
	struct tok t;
	const char *v = NULL;
	if (next(s, &t) < 0 || cstr_arg(s->P, &t, allow_word, s->apply, what, &v) < 0 ||
	    expect_eol(s->P, s->L) < 0)
		return -1;
	if (!s->apply)
		return 0;
	int c = claim(s->P, st, s->prefixed, &s->kw);
	if (c > 0)
		*field = v;
	return c < 0 ? -1 : 0;
}

static int st_level(struct sctx *s)
{
	struct tok t;
	if (next(s, &t) < 0)
		return -1;
	enum wsc_level l;
	if (tok_ieq(&t, "MUST"))
		l = WSC_LEVEL_MUST;
	else if (tok_ieq(&t, "SHOULD"))
		l = WSC_LEVEL_SHOULD;
	else if (tok_ieq(&t, "MAY"))
		l = WSC_LEVEL_MAY;
	else
		return unexpected(s->P, &t, "MUST, SHOULD or MAY");
	if (expect_eol(s->P, s->L) < 0)
		return -1;
	int c = s->apply ? claim(s->P, &s->P->cb.st_level, s->prefixed, &s->kw) : 0;
	if (c > 0)
		s->P->cb.c.level = l;
	return c < 0 ? -1 : 0;
}

static int st_side(struct sctx *s)
{
	struct tok t;
	if (next(s, &t) < 0)
		return -1;
	unsigned v;
	if (tok_is(&t, "server"))
		v = WSC_SIDE_SERVER;
	else if (tok_is(&t, "client"))
		v = WSC_SIDE_CLIENT;
	else if (tok_is(&t, "both"))
		v = WSC_SIDE_SERVER | WSC_SIDE_CLIENT;
	else
		return unexpected(s->P, &t, "server, client or both");
	if (expect_eol(s->P, s->L) < 0)
		return -1;
	int c = s->apply ? claim(s->P, &s->P->cb.st_side, s->prefixed, &s->kw) : 0;
	if (c > 0)
		s->P->cb.c.side = v;
	return c < 0 ? -1 : 0;
}

static int st_timeout(struct sctx *s)
{
	struct tok t;
	uint32_t ms;
	if (next(s, &t) < 0 || seconds_arg(s->P, &t, "timeout", &ms) < 0)
		return -1;
	if (ms == 0)
		return perr(s->P, t.col, "timeout must be positive");
	if (expect_eol(s->P, s->L) < 0)
		return -1;
	int c = s->apply ? claim(s->P, &s->P->cb.st_timeout, s->prefixed, &s->kw) : 0;
	if (c > 0)
		s->P->cb.c.timeout_ms = ms;
	return c < 0 ? -1 : 0;
}

static int st_informational(struct sctx *s)
{
	if (expect_eol(s->P, s->L) < 0)
		return -1;
	if (s->apply)
		s->P->cb.c.informational = true;
	return 0;
}

static int push_str(struct sctx *s, int list, const char *v, int col)
{
	if (!s->apply)
		return 0;
	const char **e = vec_push(&s->P->cb.hs[list], sizeof(*e));
	if (!e)
		return oom(s->P, col);
	*e = v;
	return 0;
}

/* offer / protocol / header / expect-header (STRING); drop-header / expect-no-header (NAME) */
static int st_hs_list(struct sctx *s, int list, bool allow_word, const char *what)
{
	struct tok t;
	const char *v = NULL;
	if (next(s, &t) < 0 || cstr_arg(s->P, &t, allow_word, s->apply, what, &v) < 0 ||
	    expect_eol(s->P, s->L) < 0)
		return -1;
	if (t.k == T_STR && t.n == 0 && list != HS_HEADER && list != HS_OFFER)
		return perr(s->P, t.col, "empty %s", what);
	return push_str(s, list, v, t.col);
}

static int st_raw_request(struct sctx *s)
{
	struct tok t;
	struct wsc_bytes b;
	if (next(s, &t) < 0 || parse_payload(s->P, s->L, &t, NULL, 0, !s->apply, &b) < 0)
		return -1;
	if (t.k != T_EOL)
		return unexpected(s->P, &t, "end of line");
	int c = s->apply ? claim(s->P, &s->P->cb.st_rawreq, s->prefixed, &s->kw) : 0;
	if (c > 0) {
		s->P->cb.c.hs.raw_request = b;
		s->P->cb.c.hs.has_raw_request = true;
	}
	return c < 0 ? -1 : 0;
}

/* N[,N...] into arr (at most max). Returns the count or -1. */
static int num_list(struct sctx *s, struct tok *t, uint64_t lo, uint64_t hi, const char *what,
                    int *arr, uint16_t *arr16, size_t max, size_t *n)
{
	*n = 0;
	for (;;) {
		uint64_t v;
		if (num_arg(s->P, t, lo, hi, what, &v) < 0)
			return -1;
		if (*n == max)
			return perr(s->P, t->col, "too many %ss (at most %zu)", what, max);
		if (arr)
			arr[*n] = (int)v;
		if (arr16)
			arr16[*n] = (uint16_t)v;
		(*n)++;
		if (next(s, t) < 0)
			return -1;
		if (t->k != T_COMMA)
			return 0;
		if (next(s, t) < 0)
			return -1;
	}
}

static int st_expect_status(struct sctx *s)
{
	struct tok t;
	int arr[8];
	size_t n;
	if (next(s, &t) < 0 || num_list(s, &t, 100, 999, "status", arr, NULL, 8, &n) < 0)
		return -1;
	if (t.k != T_EOL)
		return unexpected(s->P, &t, "',' or end of line");
	int c = s->apply ? claim(s->P, &s->P->cb.st_status, s->prefixed, &s->kw) : 0;
	if (c > 0) {
		memcpy(s->P->cb.c.hs.expect_status, arr, n * sizeof(arr[0]));
		s->P->cb.c.hs.n_expect_status = n;
	}
	return c < 0 ? -1 : 0;
}

/* ---- the harness-as-server answer: respond-* and expect-fail-connection ---- */

static int st_respond_status(struct sctx *s)
{
	struct tok t;
	uint64_t v;
	if (next(s, &t) < 0 || num_arg(s->P, &t, 100, 999, "status", &v) < 0 ||
	    expect_eol(s->P, s->L) < 0)
		return -1;
	int c = s->apply ? claim(s->P, &s->P->cb.st_rstatus, s->prefixed, &s->kw) : 0;
	if (c > 0)
		s->P->cb.c.resp.status = (int)v;
	return c < 0 ? -1 : 0;
}

static int st_respond_accept(struct sctx *s)
{
	struct tok t;
	enum wsc_accept_mode m;
	if (next(s, &t) < 0)
		return -1;
	if (tok_is(&t, "correct"))
		m = WSC_ACCEPT_CORRECT;
	else if (tok_is(&t, "wrong"))
		m = WSC_ACCEPT_WRONG;
	else if (tok_is(&t, "missing"))
		m = WSC_ACCEPT_MISSING;
	else
		return unexpected(s->P, &t, "correct, wrong or missing");
	if (expect_eol(s->P, s->L) < 0)
		return -1;
	int c = s->apply ? claim(s->P, &s->P->cb.st_raccept, s->prefixed, &s->kw) : 0;
	if (c > 0)
		s->P->cb.c.resp.accept = m;
	return c < 0 ? -1 : 0;
}

static int st_respond_raw(struct sctx *s)
{
	struct tok t;
	struct wsc_bytes b;
	if (next(s, &t) < 0 || parse_payload(s->P, s->L, &t, NULL, 0, !s->apply, &b) < 0)
		return -1;
	if (t.k != T_EOL)
		return unexpected(s->P, &t, "end of line");
	int c = s->apply ? claim(s->P, &s->P->cb.st_rraw, s->prefixed, &s->kw) : 0;
	if (c > 0) {
		s->P->cb.c.resp.raw = b;
		s->P->cb.c.resp.has_raw = true;
	}
	return c < 0 ? -1 : 0;
}

static int st_skip_if_request_has(struct sctx *s)
{
	struct tok t;
	const char *v = NULL;
	if (next(s, &t) < 0 || cstr_arg(s->P, &t, false, s->apply, "a string", &v) < 0 ||
	    expect_eol(s->P, s->L) < 0)
		return -1;
	if (t.n == 0)
		return perr(s->P, t.col, "empty string");
	int c = s->apply ? claim(s->P, &s->P->cb.st_rskip, s->prefixed, &s->kw) : 0;
	if (c > 0)
		s->P->cb.c.resp.skip_if_request_has = v;
	return c < 0 ? -1 : 0;
}

static int st_expect_fail_connection(struct sctx *s)
{
	if (expect_eol(s->P, s->L) < 0)
		return -1;
	if (s->apply)
		s->P->cb.c.resp.must_fail = true;
	return 0;
}

static int chop_value(struct parser *P, const struct tok *t, struct wsc_chop *c)
{
	uint64_t v;
	c->size = 0;
	if (tok_is(t, "burst"))
		c->kind = WSC_CHOP_BURST;
	else if (tok_is(t, "frame"))
		c->kind = WSC_CHOP_FRAME;
	else if (tok_is(t, "octet"))
		c->kind = WSC_CHOP_OCTET;
	else if (tok_u64(t, UINT32_MAX, &v) == 0 && v > 0) {
		c->kind = WSC_CHOP_SIZE;
		c->size = (uint32_t)v;
	} else
		return unexpected(P, t, "burst, frame, octet or a byte count");
	return 0;
}

static struct wsc_step *add_step(struct sctx *s, enum wsc_step_kind k, int col)
{
	struct wsc_step *st = vec_push(&s->P->cb.steps, sizeof(*st));
	if (!st) {
		oom(s->P, col);
		return NULL;
	}
	st->kind = k;
	st->line = s->P->line;
	return st;
}

/* Frame options after a send/close payload; *t is the first option token. */
static int send_options(struct sctx *s, struct tok *t, struct wsc_send *snd)
{
	unsigned seen = 0;
	while (t->k != T_EOL) {
		static const char *const keys[] = {"fin",     "rsv",  "mask", "len",
		                                   "lenform", "frag", "chop", "compress"};
		const char *eq = t->k == T_WORD ? memchr(t->s, '=', t->n) : NULL;
		if (!eq)
			return unexpected(s->P, t,
			                  "an option (fin= rsv= mask= len= lenform= frag= chop= "
			                  "compress=)");
		size_t kn = (size_t)(eq - t->s), ki;
		for (ki = 0; ki < 8; ki++)
			if (strlen(keys[ki]) == kn && memcmp(keys[ki], t->s, kn) == 0)
				break;
		if (ki == 8)
			return perr(s->P, t->col, "unknown option '%.*s'", (int)(kn > 40 ? 40 : kn),
			            t->s);
		if (seen & (1u << ki))
			return perr(s->P, t->col, "duplicate option '%s'", keys[ki]);
		seen |= 1u << ki;
		struct tok v = *t;
		v.s = eq + 1;
		v.n = t->n - kn - 1;
		v.off += kn + 1;
		v.col += (int)kn + 1;
		uint64_t x;
		switch (ki) {
		case 0:
			if (num_arg(s->P, &v, 0, 1, "fin", &x) < 0)
				return -1;
			snd->fin = x != 0;
			break;
		case 1:
			if (num_arg(s->P, &v, 0, 7, "rsv", &x) < 0)
				return -1;
			snd->rsv = (uint8_t)x;
			break;
		case 2:
			if (tok_is(&v, "none")) {
				snd->mask = WSC_MASK_NONE;
				break;
			}
			if (v.n != 8)
				return perr(s->P, v.col,
				            "bad mask (expected none or 8 hex digits)");
			for (int i = 0; i < 8; i++)
				if (wsc_hexval((unsigned char)v.s[i]) < 0)
					return perr(s->P, v.col + i,
					            "bad mask (expected none or 8 hex digits)");
			for (int i = 0; i < 4; i++)
				snd->key[i] = (uint8_t)(wsc_hexval((unsigned char)v.s[2 * i]) << 4 |
				                        wsc_hexval((unsigned char)v.s[2 * i + 1]));
			snd->mask = WSC_MASK_KEY;
			break;
		case 3:
			if (num_arg(s->P, &v, 0, UINT64_MAX, "len", &x) < 0)
				return -1;
			snd->len_override = true;
			snd->len = x;
			break;
		case 4:
			if (num_arg(s->P, &v, 16, 64, "lenform", &x) < 0)
				return -1;
			if (x != 16 && x != 64)
				return perr(s->P, v.col, "bad lenform (expected 16 or 64)");
			snd->lenform = (uint8_t)x;
			break;
		case 5:
			if (num_arg(s->P, &v, 1, UINT32_MAX, "frag", &x) < 0)
				return -1;
			snd->frag = (uint32_t)x;
			break;
		case 7:
			if (tok_is(&v, "no"))
				snd->compress = WSC_COMPRESS_NO;
			else if (tok_is(&v, "raw"))
				snd->compress = WSC_COMPRESS_RAW;
			else if (tok_is(&v, "auto"))
				snd->compress = WSC_COMPRESS_AUTO;
			else
				return unexpected(s->P, &v, "auto, no or raw");
			break;
		default:
			if (chop_value(s->P, &v, &snd->chop) < 0)
				return -1;
			snd->has_chop = true;
			break;
		}
		if (next(s, t) < 0)
			return -1;
	}
	return 0;
}

static int opcode_value(struct parser *P, const struct tok *t, uint8_t *op)
{
	static const char *const names[] = {"cont", "text", "binary", "close", "ping", "pong"};
	static const uint8_t vals[] = {0, 1, 2, 8, 9, 10};
	for (size_t i = 0; i < 6; i++)
		if (tok_is(t, names[i])) {
			*op = vals[i];
			return 0;
		}
	uint64_t v;
	if (tok_u64(t, 15, &v) == 0) {
		*op = (uint8_t)v;
		return 0;
	}
	return unexpected(P, t, "an opcode (text binary cont close ping pong or 0-15)");
}

static int st_send(struct sctx *s)
{
	struct tok t;
	struct wsc_send snd;
	memset(&snd, 0, sizeof(snd));
	snd.fin = true;
	if (next(s, &t) < 0 || opcode_value(s->P, &t, &snd.opcode) < 0 || next(s, &t) < 0 ||
	    parse_payload(s->P, s->L, &t, NULL, 0, !s->apply, &snd.payload) < 0 ||
	    send_options(s, &t, &snd) < 0)
		return -1;
	if (!s->apply)
		return 0;
	struct wsc_step *st = add_step(s, WSC_STEP_SEND, s->kw.col);
	if (!st)
		return -1;
	st->u.send = snd;
	return 0;
}

static int st_close(struct sctx *s)
{
	struct tok t;
	struct wsc_send snd;
	memset(&snd, 0, sizeof(snd));
	snd.fin = true;
	snd.opcode = 8;
	if (next(s, &t) < 0)
		return -1;
	uint64_t code;
	if (tok_is(&t, "raw")) {
		if (next(s, &t) < 0 ||
		    parse_payload(s->P, s->L, &t, NULL, 0, !s->apply, &snd.payload) < 0)
			return -1;
	} else if (t.k == T_WORD && t.n > 0 && t.s[0] >= '0' && t.s[0] <= '9') {
		if (num_arg(s->P, &t, 0, 65535, "close code", &code) < 0 || next(s, &t) < 0)
			return -1;
		uint8_t pre[2] = {(uint8_t)(code >> 8), (uint8_t)code};
		if (is_atom(&t)) {
			if (parse_payload(s->P, s->L, &t, pre, 2, !s->apply, &snd.payload) < 0)
				return -1;
		} else if (s->apply) {
			snd.payload.p = arena_memdup(s->P->A, pre, 2);
			snd.payload.n = 2;
			if (!snd.payload.p)
				return oom(s->P, t.col);
		}
	} else if (t.k != T_EOL && !(t.k == T_WORD && memchr(t.s, '=', t.n))) {
		return unexpected(s->P, &t, "a close code, 'raw', options or end of line");
	}
	if (send_options(s, &t, &snd) < 0)
		return -1;
	if (!s->apply)
		return 0;
	struct wsc_step *st = add_step(s, WSC_STEP_SEND, s->kw.col);
	if (!st)
		return -1;
	st->u.send = snd;
	return 0;
}

static int st_raw(struct sctx *s)
{
	struct tok t;
	struct wsc_bytes b;
	if (next(s, &t) < 0 || parse_payload(s->P, s->L, &t, NULL, 0, !s->apply, &b) < 0)
		return -1;
	if (t.k != T_EOL)
		return unexpected(s->P, &t, "end of line");
	if (!s->apply)
		return 0;
	struct wsc_step *st = add_step(s, WSC_STEP_RAW, s->kw.col);
	if (!st)
		return -1;
	st->u.raw = b;
	return 0;
}

static int st_chop(struct sctx *s)
{
	struct tok t;
	struct wsc_chop c;
	if (next(s, &t) < 0 || chop_value(s->P, &t, &c) < 0 || expect_eol(s->P, s->L) < 0)
		return -1;
	if (!s->apply)
		return 0;
	struct wsc_step *st = add_step(s, WSC_STEP_CHOP, s->kw.col);
	if (!st)
		return -1;
	st->u.chop = c;
	return 0;
}

/* A mark/timeout tag: WORD or STRING, 1-15 bytes, no NUL. */
static int tag_arg(struct parser *P, const struct tok *t, char out[16])
{
	size_t n;
	if (t->k == T_WORD) {
		n = t->n;
		if (n > 0 && n < 16)
			memcpy(out, t->s, n);
	} else if (t->k == T_STR) {
		n = atom_len(t);
		if (n > 0 && n < 16)
			atom_fill(t, (uint8_t *)out);
	} else {
		return unexpected(P, t, "a tag");
	}
	if (n == 0 || n > 15)
		return perr(P, t->col, "a tag must be 1-15 bytes");
	out[n] = '\0';
	if (strlen(out) != n)
		return perr(P, t->col, "NUL byte not allowed in a tag");
	return 0;
}

static int st_wait(struct sctx *s)
{
	struct tok t;
	uint32_t ms;
	char mark[16] = "";
	if (next(s, &t) < 0 || seconds_arg(s->P, &t, "wait", &ms) < 0 || next(s, &t) < 0)
		return -1;
	if (tok_is(&t, "mark")) {
		if (next(s, &t) < 0 || tag_arg(s->P, &t, mark) < 0 || expect_eol(s->P, s->L) < 0)
			return -1;
	} else if (t.k != T_EOL) {
		return unexpected(s->P, &t, "'mark TAG' or end of line");
	}
	if (!s->apply)
		return 0;
	struct wsc_step *st = add_step(s, WSC_STEP_WAIT, s->kw.col);
	if (!st)
		return -1;
	st->u.wait.ms = ms;
	memcpy(st->u.wait.mark, mark, sizeof(mark));
	return 0;
}

static int st_timer(struct sctx *s, enum wsc_step_kind k)
{
	struct tok t;
	uint32_t ms = 0;
	if (next(s, &t) < 0 ||
	    seconds_arg(s->P, &t, k == WSC_STEP_KILL ? "kill" : "closeafter", &ms) < 0 ||
	    expect_eol(s->P, s->L) < 0)
		return -1;
	if (!s->apply)
		return 0;
	struct wsc_step *st = add_step(s, k, s->kw.col);
	if (!st)
		return -1;
	st->u.ms = ms;
	return 0;
}

static int st_expect(struct sctx *s)
{
	struct parser *P = s->P;
	struct tok t;
	if (next(s, &t) < 0)
		return -1;
	if (t.k != T_WORD)
		return unexpected(P, &t, "OK:, NON-STRICT: or INFORMATIONAL:");
	struct tok v = t;
	bool colon = v.n > 0 && v.s[v.n - 1] == ':';
	if (colon)
		v.n--;
	int vi;
	for (vi = 0; vi < 3; vi++)
		if (tok_ieq(&v, verdict_names[vi]))
			break;
	if (vi == 3)
		return unexpected(P, &t, "OK:, NON-STRICT: or INFORMATIONAL:");
	if (next(s, &t) < 0)
		return -1;
	if (!colon) {
		if (!tok_is(&t, ":"))
			return unexpected(P, &t, "':' after the verdict");
		if (next(s, &t) < 0)
			return -1;
	}
	struct altb *alt = &P->cb.alts[vi];
	if (s->apply && !alt->declared) {
		alt->declared = true;
		P->cb.order[P->cb.n_order++] = vi;
	}
	if (tok_is(&t, "nothing"))
		return expect_eol(P, s->L);
	if (t.k == T_EOL)
		return unexpected(P, &t, "events or 'nothing'");
	while (t.k != T_EOL) {
		struct wsc_event ev;
		memset(&ev, 0, sizeof(ev));
		int col = t.col;
		if (tok_is(&t, "message")) {
			if (next(s, &t) < 0)
				return -1;
			if (tok_is(&t, "text"))
				ev.kind = WSC_EV_TEXT;
			else if (tok_is(&t, "binary"))
				ev.kind = WSC_EV_BINARY;
			else
				return unexpected(P, &t, "text or binary");
			if (next(s, &t) < 0 ||
			    parse_payload(P, s->L, &t, NULL, 0, !s->apply, &ev.data) < 0)
				return -1;
		} else if (tok_is(&t, "pong")) {
			ev.kind = WSC_EV_PONG;
			if (next(s, &t) < 0 ||
			    parse_payload(P, s->L, &t, NULL, 0, !s->apply, &ev.data) < 0)
				return -1;
		} else if (tok_is(&t, "timeout")) {
			char tag[16];
			ev.kind = WSC_EV_TIMEOUT;
			if (next(s, &t) < 0 || tag_arg(P, &t, tag) < 0)
				return -1;
			ev.data.n = strlen(tag);
			if (s->apply && !(ev.data.p = arena_memdup(P->A, tag, ev.data.n)))
				return oom(P, t.col);
			if (next(s, &t) < 0)
				return -1;
		} else {
			return unexpected(P, &t, "an event (message, pong, timeout)");
		}
		if (s->apply) {
			struct wsc_event *e = vec_push(&alt->events, sizeof(*e));
			if (!e)
				return oom(P, col);
			*e = ev;
		}
		if (t.k == T_COMMA && next(s, &t) < 0)
			return -1;
	}
	return 0;
}

static int st_closing(struct sctx *s)
{
	struct parser *P = s->P;
	struct tok t;
	struct wsc_close_expect ce;
	memset(&ce, 0, sizeof(ce));
	ce.set = true;
	if (next(s, &t) < 0)
		return -1;
	if (tok_is(&t, "me"))
		ce.closed_by_me = true;
	else if (!tok_is(&t, "peer"))
		return unexpected(P, &t, "me or peer");
	int clean = -1, has_codes = 0, col_start = t.col;
	if (next(s, &t) < 0)
		return -1;
	while (t.k != T_EOL) {
		if (t.k == T_WORD && t.n >= 6 && memcmp(t.s, "codes=", 6) == 0) {
			if (has_codes++)
				return perr(P, t.col, "duplicate 'codes='");
			struct tok v = t;
			v.s += 6;
			v.n -= 6;
			v.off += 6;
			v.col += 6;
			if (num_list(s, &v, 0, 65535, "close code", NULL, ce.codes, 16,
			             &ce.n_codes) < 0)
				return -1;
			t = v;
			continue;
		}
		if (tok_is(&t, "clean") || tok_is(&t, "unclean")) {
			if (clean >= 0)
				return perr(P, t.col, "clean/unclean given twice");
			clean = tok_is(&t, "clean");
		} else if (tok_is(&t, "fatal-endpoint")) {
			ce.fatal_endpoint = true;
		} else if (tok_is(&t, "fatal-code")) {
			ce.fatal_code = true;
		} else {
			return unexpected(
			        P, &t, "codes=N,..., clean, unclean, fatal-endpoint or fatal-code");
		}
		if (next(s, &t) < 0)
			return -1;
	}
	if (clean < 0)
		return perr(P, col_start, "closing needs 'clean' or 'unclean'");
	ce.require_clean = clean == 1;
	int c = s->apply ? claim(P, &P->cb.st_closing, s->prefixed, &s->kw) : 0;
	if (c > 0)
		P->cb.c.close = ce;
	return c < 0 ? -1 : 0;
}

/* ------------------------------------------------------ case finishing */

static void appendf(char *buf, size_t cap, size_t *len, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

static void appendf(char *buf, size_t cap, size_t *len, const char *fmt, ...)
{
	if (*len >= cap - 1)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf + *len, cap - *len, fmt, ap);
	va_end(ap);
	if (n > 0)
		*len = *len + (size_t)n >= cap ? cap - 1 : *len + (size_t)n;
}

static void describe_bytes(char *buf, size_t cap, size_t *len, const struct wsc_bytes *b)
{
	size_t show = b->n < 24 ? b->n : 24, printable = 1;
	for (size_t i = 0; i < show; i++)
		if (b->p[i] < 0x20 || b->p[i] >= 0x7f || b->p[i] == '"' || b->p[i] == '\\')
			printable = 0;
	if (b->n == 0) {
		appendf(buf, cap, len, " (empty)");
		return;
	}
	if (printable) {
		appendf(buf, cap, len, " \"%.*s%s\"", (int)show, (const char *)b->p,
		        b->n > show ? "..." : "");
	} else {
		appendf(buf, cap, len, " 0x");
		for (size_t i = 0; i < show; i++)
			appendf(buf, cap, len, "%02x", b->p[i]);
		if (b->n > show)
			appendf(buf, cap, len, "...");
	}
	appendf(buf, cap, len, " (%zu bytes)", b->n);
}

/* "Receive text message "Hello" (5 bytes); close: ..." from the alternatives. */
static const char *gen_expectation(struct parser *P, const struct wsc_case *c)
{
	char buf[1024];
	size_t len = 0;
	buf[0] = '\0';
	if (c->informational)
		appendf(buf, sizeof(buf), &len, "Informational: any behaviour is accepted. ");
	for (size_t a = 0; a < c->n_alts; a++) {
		const struct wsc_alt *alt = &c->alts[a];
		if (c->n_alts > 1 || alt->verdict != WSC_V_OK)
			appendf(buf, sizeof(buf), &len, "%s%s: receive", a ? "; " : "",
			        wsc_verdict_name(alt->verdict));
		else
			appendf(buf, sizeof(buf), &len, "Receive");
		if (alt->n_events == 0)
			appendf(buf, sizeof(buf), &len, " nothing");
		for (size_t e = 0; e < alt->n_events; e++) {
			const struct wsc_event *ev = &alt->events[e];
			appendf(buf, sizeof(buf), &len, "%s", e ? "," : "");
			switch (ev->kind) {
			case WSC_EV_TEXT:
				appendf(buf, sizeof(buf), &len, " text message");
				describe_bytes(buf, sizeof(buf), &len, &ev->data);
				break;
			case WSC_EV_BINARY:
				appendf(buf, sizeof(buf), &len, " binary message");
				describe_bytes(buf, sizeof(buf), &len, &ev->data);
				break;
			case WSC_EV_PONG:
				appendf(buf, sizeof(buf), &len, " pong");
				describe_bytes(buf, sizeof(buf), &len, &ev->data);
				break;
			case WSC_EV_TIMEOUT:
				appendf(buf, sizeof(buf), &len, " timeout %.*s", (int)ev->data.n,
				        (const char *)ev->data.p);
				break;
			}
		}
	}
	const struct wsc_close_expect *ce = &c->close;
	appendf(buf, sizeof(buf), &len, "; close: %s first",
	        ce->closed_by_me ? "the harness closes" : "the peer closes");
	if (ce->n_codes == 0) {
		appendf(buf, sizeof(buf), &len, ", any code");
	} else {
		appendf(buf, sizeof(buf), &len, ", code %u", ce->codes[0]);
		for (size_t i = 1; i < ce->n_codes; i++)
			appendf(buf, sizeof(buf), &len, "%s%u",
			        i + 1 == ce->n_codes ? " or " : ", ", ce->codes[i]);
	}
	appendf(buf, sizeof(buf), &len, ", %s",
	        ce->require_clean ? "clean closing handshake" : "unclean allowed");
	return arena_strndup(P->A, buf, len);
}

static int idmap_put(struct wsc_arena *A, const struct wsc_catalog *cat, size_t idx, size_t *dup)
{
	size_t mask = A->idmap_cap - 1;
	const char *id = cat->cases[idx].id;
	for (size_t i = (size_t)hash_bytes(id, strlen(id)) & mask;; i = (i + 1) & mask) {
		if (!A->idmap[i]) {
			A->idmap[i] = (uint32_t)idx + 1;
			return 0;
		}
		if (strcmp(cat->cases[A->idmap[i] - 1].id, id) == 0) {
			*dup = A->idmap[i] - 1;
			return 1;
		}
	}
}

static int idmap_rebuild(struct wsc_arena *A, const struct wsc_catalog *cat, size_t want)
{
	size_t cap = 64;
	while (cap < want * 2 + 2)
		cap *= 2;
	if (cap != A->idmap_cap) {
		uint32_t *m = calloc(cap, sizeof(*m));
		if (!m)
			return -1;
		free(A->idmap);
		A->idmap = m;
		A->idmap_cap = cap;
	} else {
		memset(A->idmap, 0, cap * sizeof(*A->idmap));
	}
	size_t dup;
	for (size_t i = 0; i < cat->n_cases; i++)
		idmap_put(A, cat, i, &dup);
	return 0;
}

#define ARENA_COPY(P, dst, vec, type)                                                  \
	do {                                                                           \
		(dst) = NULL;                                                          \
		if ((vec).n) {                                                         \
			(dst) = arena_memdup((P)->A, (vec).p, (vec).n * sizeof(type)); \
			if (!(dst))                                                    \
				return oom((P), 1);                                    \
		}                                                                      \
	} while (0)

static int case_finish(struct parser *P)
{
	struct cb *b = &P->cb;
	struct wsc_case *c = &b->c;
	struct wsc_arena *A = P->A;
	struct wsc_catalog *cat = P->cat;
	P->mode = M_TOP;
	if (!b->active)
		return 0;
	if (!c->title)
		return perr_at(P, b->loc_file, b->loc_line, b->loc_col, "case %s has no title",
		               b->id);
	if (!c->rfc)
		return perr_at(P, b->loc_file, b->loc_line, b->loc_col,
		               "case %s has no rfc section", b->id);
	/* Duplicate check before anything is copied. */
	if (cat->n_cases >= UINT32_MAX - 1)
		return perr_at(P, b->loc_file, b->loc_line, b->loc_col, "too many cases");
	if (cat->n_cases == A->cases_cap) {
		size_t cap = A->cases_cap ? A->cases_cap * 2 : 64;
		struct wsc_case *nc = realloc(cat->cases, cap * sizeof(*nc));
		if (!nc)
			return oom(P, 1);
		cat->cases = nc;
		A->cases_cap = cap;
	}
	if (A->idmap_cap < (cat->n_cases + 1) * 2 + 2 &&
	    idmap_rebuild(A, cat, cat->n_cases + 1) < 0)
		return oom(P, 1);
	if (!(c->id = arena_strndup(A, b->id, strlen(b->id))))
		return oom(P, 1);
	c->file = b->loc_file;
	c->line = b->loc_line;
	cat->cases[cat->n_cases] = *c; /* provisional, for the map's comparison */
	size_t dup;
	if (idmap_put(A, cat, cat->n_cases, &dup)) {
		const struct wsc_case *d = &cat->cases[dup];
		return perr_at(P, b->loc_file, b->loc_line, b->loc_col,
		               "duplicate case ID %s (first defined at %s:%d)", b->id, d->file,
		               d->line);
	}
	cat->n_cases++; /* from here on a failure rolls the whole load back */
	if (!c->desc)
		c->desc = c->title;
	if (!c->close.set) {
		c->close.closed_by_me = true;
		c->close.codes[0] = 1000;
		c->close.n_codes = 1;
		c->close.require_clean = true;
	}
	ARENA_COPY(P, c->steps, b->steps, struct wsc_step);
	c->n_steps = b->steps.n;
	ARENA_COPY(P, c->hs.add_headers, b->hs[HS_HEADER], const char *);
	c->hs.n_add_headers = b->hs[HS_HEADER].n;
	ARENA_COPY(P, c->hs.drop_headers, b->hs[HS_DROP], const char *);
	c->hs.n_drop_headers = b->hs[HS_DROP].n;
	ARENA_COPY(P, c->hs.offers, b->hs[HS_OFFER], const char *);
	c->hs.n_offers = b->hs[HS_OFFER].n;
	ARENA_COPY(P, c->hs.protocols, b->hs[HS_PROTO], const char *);
	c->hs.n_protocols = b->hs[HS_PROTO].n;
	ARENA_COPY(P, c->hs.expect_headers, b->hs[HS_EXPH], const char *);
	c->hs.n_expect_headers = b->hs[HS_EXPH].n;
	ARENA_COPY(P, c->hs.expect_no_headers, b->hs[HS_EXPNOH], const char *);
	c->hs.n_expect_no_headers = b->hs[HS_EXPNOH].n;
	ARENA_COPY(P, c->resp.add_headers, b->hs[HS_RESPH], const char *);
	c->resp.n_add_headers = b->hs[HS_RESPH].n;
	ARENA_COPY(P, c->resp.drop_headers, b->hs[HS_RESPDROP], const char *);
	c->resp.n_drop_headers = b->hs[HS_RESPDROP].n;
	/* No expect line at all: the peer must send nothing (`expect OK: nothing`). */
	size_t n_alts = b->n_order ? (size_t)b->n_order : 1;
	struct wsc_alt *alts = arena_alloc(A, n_alts * sizeof(*alts));
	if (!alts)
		return oom(P, 1);
	memset(alts, 0, n_alts * sizeof(*alts));
	for (int i = 0; i < b->n_order; i++) {
		struct altb *ab = &b->alts[b->order[i]];
		alts[i].verdict = verdict_vals[b->order[i]];
		ARENA_COPY(P, alts[i].events, ab->events, struct wsc_event);
		alts[i].n_events = ab->events.n;
	}
	c->alts = alts;
	c->n_alts = n_alts;
	if (!c->expectation && !(c->expectation = gen_expectation(P, c)))
		return oom(P, 1);
	cat->cases[cat->n_cases - 1] = *c;
	A->sorted = 0;
	return 0;
}

/* ------------------------------------------------------- lines & files */

static int top_category(struct parser *P, struct lex *L, bool apply)
{
	struct tok t;
	uint64_t num;
	const char *name = NULL;
	if (lex_next(L, &t) < 0 || num_arg(P, &t, 1, 999999999, "category number", &num) < 0 ||
	    lex_next(L, &t) < 0 || cstr_arg(P, &t, false, true, "a category name", &name) < 0 ||
	    expect_eol(P, L) < 0)
		return -1;
	if (!apply)
		return 0;
	struct wsc_catalog *cat = P->cat;
	for (size_t i = 0; i < cat->n_categories; i++) {
		if (cat->categories[i].number != (int)num)
			continue;
		if (strcmp(cat->categories[i].name, name) != 0)
			return perr(P, t.col, "category %d already named \"%s\"", (int)num,
			            cat->categories[i].name);
		return 0;
	}
	if (cat->n_categories == P->A->cats_cap) {
		size_t cap = P->A->cats_cap ? P->A->cats_cap * 2 : 16;
		struct wsc_category *nc = realloc(cat->categories, cap * sizeof(*nc));
		if (!nc)
			return oom(P, 1);
		cat->categories = nc;
		P->A->cats_cap = cap;
	}
	cat->categories[cat->n_categories].number = (int)num;
	cat->categories[cat->n_categories].name = name;
	cat->n_categories++;
	return 0;
}

static const struct tmpl *find_tmpl(struct wsc_arena *A, const char *s, size_t n)
{
	for (size_t i = 0; i < A->n_tmpls; i++)
		if (strlen(A->tmpls[i].name) == n && memcmp(A->tmpls[i].name, s, n) == 0)
			return &A->tmpls[i];
	return NULL;
}

static int template_finish(struct parser *P)
{
	struct wsc_arena *A = P->A;
	P->mode = M_TOP;
	if (A->n_tmpls == A->tmpls_cap) {
		size_t cap = A->tmpls_cap ? A->tmpls_cap * 2 : 8;
		struct tmpl *nt = realloc(A->tmpls, cap * sizeof(*nt));
		if (!nt)
			return oom(P, 1);
		A->tmpls = nt;
		A->tmpls_cap = cap;
	}
	struct tmpl *t = &A->tmpls[A->n_tmpls];
	t->name = P->t_name;
	t->file = P->t_file;
	t->line = P->t_line;
	t->n_lines = P->t_lines.n;
	t->lines = NULL;
	if (t->n_lines &&
	    !(t->lines = arena_memdup(A, P->t_lines.p, t->n_lines * sizeof(struct tline))))
		return oom(P, 1);
	A->n_tmpls++;
	return 0;
}

struct stmt {
	const char *name;
	int id;
};

enum {
	S_TITLE = 1,
	S_RFC,
	S_LEVEL,
	S_SIDE,
	S_DESC,
	S_EXPECTATION,
	S_TIMEOUT,
	S_INFORMATIONAL,
	S_OFFER,
	S_PROTOCOL,
	S_HEADER,
	S_DROP_HEADER,
	S_REQUEST_LINE,
	S_RAW_REQUEST,
	S_EXPECT_STATUS,
	S_EXPECT_HEADER,
	S_EXPECT_NO_HEADER,
	S_SEND,
	S_CLOSE,
	S_RAW,
	S_CHOP,
	S_WAIT,
	S_KILL,
	S_CLOSEAFTER,
	S_EXPECT,
	S_CLOSING,
	S_RESPOND_STATUS,
	S_RESPOND_HEADER,
	S_RESPOND_DROP_HEADER,
	S_RESPOND_ACCEPT,
	S_RESPOND_RAW,
	S_EXPECT_FAIL_CONNECTION,
	S_SKIP_IF_REQUEST_HAS,
	S_ROUNDTRIP,
	S_REQUIRE_EXTENSION,
	S_REPORT_TIME,
	S_WATCH_MEMORY,
};

static const struct stmt case_stmts[] = {
        {"title", S_TITLE},
        {"rfc", S_RFC},
        {"level", S_LEVEL},
        {"side", S_SIDE},
        {"desc", S_DESC},
        {"expectation", S_EXPECTATION},
        {"timeout", S_TIMEOUT},
        {"informational", S_INFORMATIONAL},
        {"offer", S_OFFER},
        {"protocol", S_PROTOCOL},
        {"header", S_HEADER},
        {"drop-header", S_DROP_HEADER},
        {"request-line", S_REQUEST_LINE},
        {"raw-request", S_RAW_REQUEST},
        {"expect-status", S_EXPECT_STATUS},
        {"expect-header", S_EXPECT_HEADER},
        {"expect-no-header", S_EXPECT_NO_HEADER},
        {"send", S_SEND},
        {"close", S_CLOSE},
        {"raw", S_RAW},
        {"chop", S_CHOP},
        {"wait", S_WAIT},
        {"kill", S_KILL},
        {"closeafter", S_CLOSEAFTER},
        {"expect", S_EXPECT},
        {"closing", S_CLOSING},
        {"respond-status", S_RESPOND_STATUS},
        {"respond-header", S_RESPOND_HEADER},
        {"respond-drop-header", S_RESPOND_DROP_HEADER},
        {"respond-accept", S_RESPOND_ACCEPT},
        {"respond-raw", S_RESPOND_RAW},
        {"expect-fail-connection", S_EXPECT_FAIL_CONNECTION},
        {"skip-if-request-has", S_SKIP_IF_REQUEST_HAS},
        {"roundtrip", S_ROUNDTRIP},
        {"require-extension", S_REQUIRE_EXTENSION},
        {"report-time", S_REPORT_TIME},
        {"watch-memory", S_WATCH_MEMORY},
};

/*
 * roundtrip COUNT OPCODE SOURCE SIZE [frag=N] [chop=MODE] [timeout=S]
 *           [compress=auto|no] [nowait]           (cases/README.md)
 */
static int st_roundtrip(struct sctx *s)
{
	struct tok t;
	struct wsc_roundtrip rt;
	memset(&rt, 0, sizeof(rt));
	uint64_t x;
	if (next(s, &t) < 0 || num_arg(s->P, &t, 0, 100000000, "roundtrip count", &x) < 0)
		return -1;
	rt.count = (uint32_t)x;
	if (next(s, &t) < 0)
		return -1;
	if (tok_is(&t, "text"))
		rt.opcode = 1;
	else if (tok_is(&t, "binary"))
		rt.opcode = 2;
	else if (tok_is(&t, "ping"))
		rt.opcode = 9;
	else
		return unexpected(s->P, &t, "text, binary or ping");
	if (next(s, &t) < 0)
		return -1;
	if (t.k == T_WORD && t.n > 5 && memcmp(t.s, "data:", 5) == 0) {
		int id = wsc_dataset_lookup(t.s + 5, t.n - 5);
		if (id < 0)
			return perr(s->P, t.col + 5,
			            "unknown data set (json bitmap prose html pdf)");
		rt.source = WSC_RT_DATASET;
		rt.dataset = (uint8_t)id;
		if (next(s, &t) < 0)
			return -1;
	} else if (tok_is(&t, "bomb")) {
		rt.source = WSC_RT_BOMB;
		if (next(s, &t) < 0)
			return -1;
	} else {
		rt.source = WSC_RT_PATTERN;
		if (parse_payload(s->P, s->L, &t, NULL, 0, !s->apply, &rt.pattern) < 0)
			return -1;
	}
	/* SIZE: a number, `limit`, `limit+N` or `limit-N` */
	if (t.k == T_WORD && t.n >= 5 && memcmp(t.s, "limit", 5) == 0) {
		rt.size_from_limit = true;
		struct tok v = t;
		if (t.n > 5) {
			if (t.s[5] != '-') /* `+` is a token of its own */
				return unexpected(s->P, &t, "limit, limit+N or limit-N");
			v.s += 6;
			v.n -= 6;
			v.col += 6;
			if (num_arg(s->P, &v, 0, WSC_MAX_PAYLOAD, "size", &x) < 0)
				return -1;
			rt.size_delta = -(int64_t)x;
		}
		if (next(s, &t) < 0)
			return -1;
		if (t.k == T_PLUS) {
			if (next(s, &t) < 0 ||
			    num_arg(s->P, &t, 0, WSC_MAX_PAYLOAD, "size", &x) < 0 ||
			    next(s, &t) < 0)
				return -1;
			rt.size_delta = (int64_t)x;
		}
	} else {
		uint64_t max = rt.source == WSC_RT_BOMB ? ((uint64_t)1 << 40) : WSC_MAX_PAYLOAD;
		if (num_arg(s->P, &t, 0, max, "size", &rt.size) < 0 || next(s, &t) < 0)
			return -1;
	}
	while (t.k != T_EOL) {
		const char *eq = t.k == T_WORD ? memchr(t.s, '=', t.n) : NULL;
		if (tok_is(&t, "nowait")) {
			rt.nowait = true;
		} else if (!eq) {
			return unexpected(s->P, &t,
			                  "an option (frag= chop= timeout= compress= nowait)");
		} else {
			size_t kn = (size_t)(eq - t.s);
			struct tok v = t;
			v.s = eq + 1;
			v.n = t.n - kn - 1;
			v.col += (int)kn + 1;
			if (kn == 4 && memcmp(t.s, "frag", 4) == 0) {
				if (num_arg(s->P, &v, 1, UINT32_MAX, "frag", &x) < 0)
					return -1;
				rt.frag = (uint32_t)x;
			} else if (kn == 4 && memcmp(t.s, "chop", 4) == 0) {
				if (chop_value(s->P, &v, &rt.chop) < 0)
					return -1;
				rt.has_chop = true;
			} else if (kn == 7 && memcmp(t.s, "timeout", 7) == 0) {
				if (seconds_arg(s->P, &v, "timeout", &rt.timeout_ms) < 0)
					return -1;
			} else if (kn == 8 && memcmp(t.s, "compress", 8) == 0) {
				if (tok_is(&v, "no"))
					rt.compress = WSC_COMPRESS_NO;
				else if (tok_is(&v, "auto"))
					rt.compress = WSC_COMPRESS_AUTO;
				else
					return unexpected(s->P, &v, "auto or no");
			} else {
				return perr(s->P, t.col, "unknown roundtrip option '%.*s'",
				            (int)(kn > 40 ? 40 : kn), t.s);
			}
		}
		if (next(s, &t) < 0)
			return -1;
	}
	if (rt.opcode == 9 && !rt.nowait)
		return perr(s->P, s->kw.col, "a ping roundtrip needs nowait");
	if (rt.opcode == 9 && rt.size > 125)
		return perr(s->P, s->kw.col, "a ping payload is at most 125 bytes");
	if (rt.source == WSC_RT_BOMB && (rt.opcode == 9 || rt.frag))
		return perr(s->P, s->kw.col, "a bomb is one data frame");
	if (!s->apply)
		return 0;
	struct wsc_roundtrip *copy = arena_memdup(s->P->A, &rt, sizeof(rt));
	if (!copy)
		return oom(s->P, s->kw.col);
	struct wsc_step *st = add_step(s, WSC_STEP_ROUNDTRIP, s->kw.col);
	if (!st)
		return -1;
	st->u.rt = copy;
	return 0;
}

static int st_require_extension(struct sctx *s)
{
	struct tok t;
	if (next(s, &t) < 0)
		return -1;
	if (!tok_is(&t, "permessage-deflate"))
		return unexpected(s->P, &t, "permessage-deflate");
	if (expect_eol(s->P, s->L) < 0)
		return -1;
	if (s->apply)
		s->P->cb.c.require_extension = "permessage-deflate";
	return 0;
}

static int case_stmt(struct parser *P, int id, struct sctx *s)
{
	struct cb *b = &P->cb;
	switch (id) {
	case S_TITLE:
		return st_string(s, &b->c.title, &b->st_title, false, "a title string");
	case S_RFC:
		return st_string(s, &b->c.rfc, &b->st_rfc, true, "an RFC section");
	case S_LEVEL:
		return st_level(s);
	case S_SIDE:
		return st_side(s);
	case S_DESC:
		return st_string(s, &b->c.desc, &b->st_desc, false, "a description string");
	case S_EXPECTATION:
		return st_string(s, &b->c.expectation, &b->st_exp, false, "an expectation string");
	case S_TIMEOUT:
		return st_timeout(s);
	case S_INFORMATIONAL:
		return st_informational(s);
	case S_OFFER:
		return st_hs_list(s, HS_OFFER, false, "an extension offer string");
	case S_PROTOCOL:
		return st_hs_list(s, HS_PROTO, false, "a subprotocol string");
	case S_HEADER:
		return st_hs_list(s, HS_HEADER, false, "a header line string");
	case S_DROP_HEADER:
		return st_hs_list(s, HS_DROP, true, "a header name");
	case S_REQUEST_LINE:
		return st_string(s, &b->c.hs.request_line, &b->st_reqline, false,
		                 "a request line string");
	case S_RAW_REQUEST:
		return st_raw_request(s);
	case S_EXPECT_STATUS:
		return st_expect_status(s);
	case S_EXPECT_HEADER:
		return st_hs_list(s, HS_EXPH, false, "a header string");
	case S_EXPECT_NO_HEADER:
		return st_hs_list(s, HS_EXPNOH, true, "a header name");
	case S_SEND:
		return st_send(s);
	case S_CLOSE:
		return st_close(s);
	case S_RAW:
		return st_raw(s);
	case S_CHOP:
		return st_chop(s);
	case S_WAIT:
		return st_wait(s);
	case S_KILL:
		return st_timer(s, WSC_STEP_KILL);
	case S_CLOSEAFTER:
		return st_timer(s, WSC_STEP_CLOSEAFTER);
	case S_EXPECT:
		return st_expect(s);
	case S_RESPOND_STATUS:
		return st_respond_status(s);
	case S_RESPOND_HEADER:
		return st_hs_list(s, HS_RESPH, false, "a header line string");
	case S_RESPOND_DROP_HEADER:
		return st_hs_list(s, HS_RESPDROP, true, "a header name");
	case S_RESPOND_ACCEPT:
		return st_respond_accept(s);
	case S_RESPOND_RAW:
		return st_respond_raw(s);
	case S_EXPECT_FAIL_CONNECTION:
		return st_expect_fail_connection(s);
	case S_SKIP_IF_REQUEST_HAS:
		return st_skip_if_request_has(s);
	case S_ROUNDTRIP:
		return st_roundtrip(s);
	case S_REQUIRE_EXTENSION:
		return st_require_extension(s);
	case S_REPORT_TIME:
		if (expect_eol(s->P, s->L) < 0)
			return -1;
		if (s->apply)
			b->c.report_time = true;
		return 0;
	case S_WATCH_MEMORY: {
		struct tok t;
		uint64_t mib;
		if (next(s, &t) < 0 || num_arg(s->P, &t, 1, 65536, "watch-memory MiB", &mib) < 0 ||
		    expect_eol(s->P, s->L) < 0)
			return -1;
		if (s->apply)
			b->c.watch_memory_mib = (uint32_t)mib;
		return 0;
	}
	default:
		return st_closing(s);
	}
}

static int find_case_stmt(const struct tok *t)
{
	for (size_t i = 0; i < sizeof(case_stmts) / sizeof(case_stmts[0]); i++)
		if (tok_is(t, case_stmts[i].name))
			return case_stmts[i].id;
	return 0;
}

/*
 * Skip the @profile marks at the start of a line. Returns -1 on error, else
 * 0 with *prefixed and *active set and *t holding the statement word.
 */
static int profile_marks(struct parser *P, struct lex *L, struct tok *t, bool *prefixed,
                         bool *active)
{
	unsigned mask = 0;
	*prefixed = false;
	for (;;) {
		if (lex_next(L, t) < 0)
			return -1;
		if (t->k != T_WORD || t->n == 0 || t->s[0] != '@')
			break;
		if (tok_is(t, "@rfc"))
			mask |= 1u << WSC_PROFILE_RFC;
		else if (tok_is(t, "@autobahn"))
			mask |= 1u << WSC_PROFILE_AUTOBAHN;
		else if (tok_is(t, "@hardened"))
			mask |= 1u << WSC_PROFILE_HARDENED;
		else {
			char b[64];
			return perr(P, t->col,
			            "unknown profile %s (expected @rfc, @autobahn or "
			            "@hardened)",
			            tokstr(t, b, sizeof(b)));
		}
		*prefixed = true;
	}
	if (*prefixed && t->k == T_EOL)
		return perr(P, t->col, "profile mark without a statement");
	*active = !*prefixed || (mask & P->prof_bit);
	return 0;
}

static int parse_line(struct parser *P, const char *s, size_t n)
{
	struct lex L;
	struct tok t;
	bool prefixed = false, active = false;
	char b[64];

	if (P->mode == M_TEMPLATE) {
		/* Bodies are kept raw: `${col}` may build any token. Only look for `end`. */
		size_t i = 0;
		while (i < n && is_blank(s[i]))
			i++;
		size_t w = i;
		while (w < n && is_wordch(s[w]))
			w++;
		if (w - i == 3 && memcmp(s + i, "end", 3) == 0 && (w == n || !is_wordch(s[w]))) {
			lex_init(&L, P, s + w, n - w);
			if (lex_next(&L, &t) < 0)
				return -1;
			if (t.k != T_EOL)
				return perr(P, (int)(w + t.off) + 1, "unexpected %s after 'end'",
				            tokstr(&t, b, sizeof(b)));
			return template_finish(P);
		}
		if ((w - i == 4 && memcmp(s + i, "case", 4) == 0) ||
		    (w - i == 8 && memcmp(s + i, "template", 8) == 0))
			return perr(P, (int)i + 1, "'%.*s' inside template '%s' (missing 'end'?)",
			            (int)(w - i), s + i, P->t_name);
		if (i == n || s[i] == '#')
			return 0;
		struct tline *tl = vec_push(&P->t_lines, sizeof(*tl));
		if (!tl || !(tl->text = arena_strndup(P->A, s, n)))
			return oom(P, 1);
		tl->len = n;
		tl->line = P->line;
		return 0;
	}

	lex_init(&L, P, s, n);
	if (profile_marks(P, &L, &t, &prefixed, &active) < 0)
		return -1;
	if (t.k == T_EOL)
		return 0;
	if (t.k != T_WORD)
		return perr(P, t.col, "expected a statement, got %s", tokstr(&t, b, sizeof(b)));

	if (tok_is(&t, "end")) {
		if (prefixed)
			return perr(P, t.col, "'end' cannot carry a profile mark");
		if (P->mode != M_CASE)
			return perr(P, t.col, "'end' without 'case' or 'template'");
		if (expect_eol(P, &L) < 0)
			return -1;
		return case_finish(P);
	}

	if (P->mode == M_CASE) {
		int id = find_case_stmt(&t);
		if (id) {
			struct sctx sc = {P, &L, t, active && P->cb.active, prefixed};
			return case_stmt(P, id, &sc);
		}
		if (tok_is(&t, "case") || tok_is(&t, "template") || tok_is(&t, "category") ||
		    tok_is(&t, "expand"))
			return perr(P, t.col, "'%.*s' inside case %s (missing 'end'?)", (int)t.n,
			            t.s, P->cb.id);
		return perr(P, t.col, "unknown statement %s", tokstr(&t, b, sizeof(b)));
	}

	/* top level */
	if (tok_is(&t, "category"))
		return top_category(P, &L, active);
	if (tok_is(&t, "case")) {
		struct tok idt;
		if (lex_next(&L, &idt) < 0)
			return -1;
		if (idt.k != T_WORD)
			return unexpected(P, &idt, "a case ID");
		if (expect_eol(P, &L) < 0)
			return -1;
		return cb_begin(P, &idt, active, P->file, P->line, idt.col);
	}
	if (tok_is(&t, "template")) {
		if (prefixed)
			return perr(P, t.col,
			            "a template cannot carry a profile mark (mark its "
			            "lines instead)");
		struct tok nt;
		if (lex_next(&L, &nt) < 0)
			return -1;
		if (nt.k != T_WORD)
			return unexpected(P, &nt, "a template name");
		if (expect_eol(P, &L) < 0)
			return -1;
		const struct tmpl *old = find_tmpl(P->A, nt.s, nt.n);
		if (old)
			return perr(P, nt.col, "duplicate template '%.*s' (first defined at %s:%d)",
			            (int)nt.n, nt.s, old->file, old->line);
		if (!(P->t_name = arena_strndup(P->A, nt.s, nt.n)))
			return oom(P, nt.col);
		P->t_file = P->file;
		P->t_line = P->line;
		P->t_lines.n = 0;
		P->mode = M_TEMPLATE;
		return 0;
	}
	if (tok_is(&t, "expand")) {
		struct tok pt;
		if (lex_next(&L, &pt) < 0)
			return -1;
		if (pt.k != T_WORD && pt.k != T_STR)
			return unexpected(P, &pt, "a table path");
		const char *path = NULL;
		if (cstr_arg(P, &pt, true, true, "a table path", &path) < 0 ||
		    expect_eol(P, &L) < 0)
			return -1;
		if (path[0] == '\0')
			return perr(P, pt.col, "empty table path");
		struct expand_req *r = vec_push(&P->expands, sizeof(*r));
		if (!r)
			return oom(P, pt.col);
		r->file = P->file;
		r->dir = P->dir;
		r->path = path;
		r->line = P->line;
		r->col = pt.col;
		r->active = active;
		return 0;
	}
	if (find_case_stmt(&t))
		return perr(P, t.col, "'%.*s' outside a case", (int)t.n, t.s);
	return perr(P, t.col, "unknown statement %s", tokstr(&t, b, sizeof(b)));
}

/* Feed a whole file, line by line. */
static int parse_text(struct parser *P, const char *file, const char *dir, const char *text,
                      size_t len)
{
	P->file = file;
	P->dir = dir;
	P->ctx = "";
	P->mode = M_TOP;
	P->line = 0;
	size_t pos = 0;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;
		if (P->line == 0x7fffffff)
			return perr(P, 1, "too many lines");
		P->line++;
		if (parse_line(P, text + pos, end - pos) < 0)
			return -1;
		pos = nl ? end + 1 : len;
	}
	if (P->mode == M_CASE)
		return perr_at(P, file, P->cb.loc_line, P->cb.loc_col,
		               "case %s is not closed ('end' missing)", P->cb.id);
	if (P->mode == M_TEMPLATE)
		return perr_at(P, file, P->t_line, 1, "template '%s' is not closed ('end' missing)",
		               P->t_name);
	return 0;
}

/* ---------------------------------------------------------- expansion */

static const struct wsc_embedded_file *builtin_file(const char *name)
{
	for (size_t i = 0; i < wsc_builtin_file_count; i++)
		if (strcmp(wsc_builtin_files[i].name, name) == 0)
			return &wsc_builtin_files[i];
	return NULL;
}

/* Read a regular file into a malloc'ed buffer. Returns 0, -1 (errno set). */
static int read_file(const char *path, char **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	struct stat st;
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
		fclose(f);
		errno = EISDIR;
		return -1;
	}
	if ((uint64_t)st.st_size > WSC_MAX_FILE) {
		fclose(f);
		errno = EFBIG;
		return -1;
	}
	size_t cap = (size_t)st.st_size + 1, n = 0;
	char *buf = malloc(cap);
	if (!buf) {
		fclose(f);
		errno = ENOMEM;
		return -1;
	}
	size_t got;
	while (n < cap && (got = fread(buf + n, 1, cap - n, f)) > 0)
		n += got;
	int bad = ferror(f) || n > WSC_MAX_FILE;
	fclose(f);
	if (bad) {
		free(buf);
		errno = EIO;
		return -1;
	}
	*out = buf;
	*len = n;
	return 0;
}

/* Split one table line into at most max fields (tab-separated). */
static size_t split_tabs(const char *s, size_t n, const char **f, size_t *fl, size_t max)
{
	size_t k = 0, start = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != '\t')
			continue;
		if (k < max) {
			f[k] = s + start;
			fl[k] = i - start;
		}
		k++;
		start = i + 1;
	}
	return k;
}

#define MAX_COLS 64

/* Substitute ${col} in a template line. Returns 0 or -1 (error reported). */
static int substitute(struct parser *P, const struct tline *tl, const char **cols,
                      const size_t *coll, size_t ncols, const char **vals, const size_t *vall,
                      size_t *outlen)
{
	size_t j = 0;
	for (size_t i = 0; i < tl->len;) {
		const char *piece = tl->text + i;
		size_t plen = 1;
		if (tl->text[i] == '$' && i + 1 < tl->len && tl->text[i + 1] == '{') {
			const char *close = memchr(tl->text + i + 2, '}', tl->len - i - 2);
			if (!close)
				return perr(P, (int)i + 1, "unterminated '${'");
			size_t nl = (size_t)(close - (tl->text + i + 2)), c;
			for (c = 0; c < ncols; c++)
				if (coll[c] == nl && memcmp(cols[c], tl->text + i + 2, nl) == 0)
					break;
			if (c == ncols)
				return perr(P, (int)i + 1, "unknown column '${%.*s}'",
				            (int)(nl > 40 ? 40 : nl), tl->text + i + 2);
			piece = vals[c];
			plen = vall[c];
			i += nl + 3;
		} else {
			i++;
		}
		if (j + plen + 1 > P->sub_cap) {
			size_t cap = P->sub_cap ? P->sub_cap : 256;
			while (cap < j + plen + 1)
				cap *= 2;
			char *ns = realloc(P->sub, cap);
			if (!ns)
				return oom(P, 1);
			P->sub = ns;
			P->sub_cap = cap;
		}
		memcpy(P->sub + j, piece, plen);
		j += plen;
	}
	*outlen = j;
	return 0;
}

static int run_table(struct parser *P, const struct expand_req *r, const char *tname,
                     const char *text, size_t len)
{
	const char *cols[MAX_COLS], *vals[MAX_COLS];
	size_t coll[MAX_COLS], vall[MAX_COLS], ncols = 0;
	size_t id_col = MAX_COLS, tmpl_col = MAX_COLS;
	size_t pos = 0;
	int line = 0;
	P->file = tname;
	P->ctx = "";
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;
		const char *s = text + pos;
		size_t n = end - pos;
		pos = nl ? end + 1 : len;
		line++;
		P->file = tname;
		P->line = line;
		P->ctx = "";
		if (n && s[n - 1] == '\r')
			n--;
		if (n == 0 || s[0] == '#')
			continue;
		if (ncols == 0) {
			ncols = split_tabs(s, n, cols, coll, MAX_COLS);
			if (ncols > MAX_COLS)
				return perr(P, 1, "too many columns (at most %d)", MAX_COLS);
			for (size_t c = 0; c < ncols; c++) {
				if (coll[c] == 0)
					return perr(P, (int)(cols[c] - s) + 1, "empty column name");
				for (size_t d = 0; d < c; d++)
					if (coll[d] == coll[c] &&
					    !memcmp(cols[d], cols[c], coll[c]))
						return perr(P, (int)(cols[c] - s) + 1,
						            "duplicate column '%.*s'", (int)coll[c],
						            cols[c]);
				if (coll[c] == 2 && !memcmp(cols[c], "id", 2))
					id_col = c;
				if (coll[c] == 8 && !memcmp(cols[c], "template", 8))
					tmpl_col = c;
			}
			if (id_col == MAX_COLS)
				return perr(P, 1, "table has no 'id' column");
			if (tmpl_col == MAX_COLS)
				return perr(P, 1, "table has no 'template' column");
			continue;
		}
		size_t nf = split_tabs(s, n, vals, vall, MAX_COLS);
		if (nf != ncols)
			return perr(P,
			            nf > ncols && nf <= MAX_COLS ? (int)(vals[ncols] - s) + 1 : 1,
			            "row has %zu fields, the header has %zu", nf, ncols);
		const struct tmpl *tp = find_tmpl(P->A, vals[tmpl_col], vall[tmpl_col]);
		if (!tp)
			return perr(P, (int)(vals[tmpl_col] - s) + 1, "unknown template '%.*s'",
			            (int)(vall[tmpl_col] > 40 ? 40 : vall[tmpl_col]),
			            vals[tmpl_col]);
		struct tok idt = {T_WORD, vals[id_col], vall[id_col], 0,
		                  (int)(vals[id_col] - s) + 1};
		if (cb_begin(P, &idt, r->active, tname, line, idt.col) < 0)
			return -1;
		snprintf(P->ctxbuf, sizeof(P->ctxbuf), " (template '%s' expanded for %s:%d)",
		         tp->name, tname, line);
		for (size_t k = 0; k < tp->n_lines; k++) {
			const struct tline *tl = &tp->lines[k];
			size_t sl = 0;
			P->file = tp->file;
			P->line = tl->line;
			P->ctx = P->ctxbuf;
			if (substitute(P, tl, cols, coll, ncols, vals, vall, &sl) < 0 ||
			    parse_line(P, P->sub, sl) < 0)
				return -1;
			if (P->mode != M_CASE)
				return perr(P, 1, "'end' inside a template body");
		}
		P->file = tname;
		P->line = line;
		P->ctx = "";
		if (case_finish(P) < 0)
			return -1;
	}
	if (ncols == 0)
		return perr_at(P, tname, 1, 1, "empty table (needs a header line)");
	return 0;
}

static int run_expands(struct parser *P)
{
	struct expand_req *reqs = P->expands.p;
	for (size_t i = 0; i < P->expands.n; i++) {
		const struct expand_req *r = &reqs[i];
		const char *tname = r->path;
		char *disk = NULL;
		size_t dlen = 0;
		const char *text = NULL;
		size_t len = 0;
		P->file = r->file;
		P->line = r->line;
		P->ctx = "";
		if (r->dir) {
			size_t need = strlen(r->dir) + strlen(r->path) + 2;
			char *full = arena_alloc(P->A, need);
			if (!full)
				return oom(P, r->col);
			snprintf(full, need, "%s/%s", r->dir, r->path);
			if (read_file(full, &disk, &dlen) == 0) {
				text = disk;
				len = dlen;
				tname = full;
			} else if (errno != ENOENT) {
				return perr(P, r->col, "cannot read table %s: %s", full,
				            strerror(errno));
			}
		}
		if (!text) {
			const struct wsc_embedded_file *f = builtin_file(r->path);
			if (!f)
				return perr(P, r->col, "table %s not found%s", r->path,
				            r->dir ? " (next to the file or built in)"
				                   : " (built in)");
			text = (const char *)f->data;
			len = f->len;
		}
		int rc = run_table(P, r, tname, text, len);
		free(disk);
		if (rc < 0)
			return -1;
	}
	P->expands.n = 0;
	return 0;
}

/* ---------------------------------------------------------- catalog API */

void wsc_catalog_init(struct wsc_catalog *cat, enum wsc_profile profile)
{
	memset(cat, 0, sizeof(*cat));
	cat->profile = profile;
}

static int begin(struct parser *P, struct wsc_catalog *cat, struct wsc_diag *diag)
{
	memset(P, 0, sizeof(*P));
	P->cat = cat;
	P->diag = diag;
	P->ctx = "";
	if (diag)
		diag->msg[0] = '\0';
	if (!cat->arena) {
		cat->arena = calloc(1, sizeof(*cat->arena));
		if (!cat->arena) {
			if (diag)
				snprintf(diag->msg, sizeof(diag->msg), "out of memory");
			return -1;
		}
	}
	P->A = cat->arena;
	unsigned prof = (unsigned)cat->profile;
	P->prof_bit = 1u << (prof <= WSC_PROFILE_HARDENED ? prof : 0);
	P->n_cases0 = cat->n_cases;
	P->n_cats0 = cat->n_categories;
	P->n_tmpls0 = P->A->n_tmpls;
	return 0;
}

/* Finish a load: run queued expansions, then sort, or roll back on failure. */
static int end(struct parser *P, int rc)
{
	if (rc == 0)
		rc = run_expands(P);
	struct wsc_catalog *cat = P->cat;
	if (rc < 0) {
		cat->n_cases = P->n_cases0;
		cat->n_categories = P->n_cats0;
		P->A->n_tmpls = P->n_tmpls0;
		idmap_rebuild(P->A, cat, cat->n_cases);
	} else {
		wsc_catalog_sort(cat);
	}
	cb_free(&P->cb);
	vec_free(&P->t_lines);
	vec_free(&P->expands);
	free(P->sub);
	return rc < 0 ? -1 : 0;
}

int wsc_catalog_load_text(struct wsc_catalog *cat, const char *name, const char *text, size_t len,
                          struct wsc_diag *diag)
{
	struct parser P;
	if (begin(&P, cat, diag) < 0)
		return -1;
	const char *file =
	        arena_strndup(P.A, name ? name : "<text>", strlen(name ? name : "<text>"));
	int rc = file ? parse_text(&P, file, NULL, text, len) : oom(&P, 1);
	return end(&P, rc);
}

static int has_suffix(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && strcmp(s + a - b, suf) == 0;
}

int wsc_catalog_load_builtin(struct wsc_catalog *cat, struct wsc_diag *diag)
{
	struct parser P;
	if (begin(&P, cat, diag) < 0)
		return -1;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < wsc_builtin_file_count; i++) {
		const struct wsc_embedded_file *f = &wsc_builtin_files[i];
		if (has_suffix(f->name, ".wsc"))
			rc = parse_text(&P, f->name, NULL, (const char *)f->data, f->len);
	}
	return end(&P, rc);
}

static int load_disk_file(struct parser *P, const char *path, const char *dir)
{
	char *text;
	size_t len;
	const char *file = arena_strndup(P->A, path, strlen(path));
	if (!file)
		return oom(P, 1);
	if (read_file(path, &text, &len) < 0)
		return perr_at(P, path, 0, 0, "cannot read: %s", strerror(errno));
	int rc = parse_text(P, file, dir, text, len);
	free(text);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int wsc_catalog_load_path(struct wsc_catalog *cat, const char *path, struct wsc_diag *diag)
{
	struct parser P;
	if (begin(&P, cat, diag) < 0)
		return -1;
	struct stat st;
	int rc = 0;
	if (stat(path, &st) != 0)
		return end(&P, perr_at(&P, path, 0, 0, "cannot open: %s", strerror(errno)));
	if (!S_ISDIR(st.st_mode)) {
		/* Tables resolve against the file's own directory. */
		const char *slash = strrchr(path, '/');
		const char *dir = slash ? arena_strndup(P.A, path, (size_t)(slash - path))
		                        : arena_strndup(P.A, ".", 1);
		if (slash && slash == path)
			dir = arena_strndup(P.A, "/", 1);
		rc = dir ? load_disk_file(&P, path, dir) : oom(&P, 1);
		return end(&P, rc);
	}
	DIR *d = opendir(path);
	if (!d)
		return end(&P, perr_at(&P, path, 0, 0, "cannot open: %s", strerror(errno)));
	struct vec names = {0};
	struct dirent *de;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || !has_suffix(de->d_name, ".wsc"))
			continue;
		size_t need = strlen(path) + strlen(de->d_name) + 2;
		char **slot = vec_push(&names, sizeof(char *));
		char *full = arena_alloc(P.A, need);
		if (!slot || !full) {
			rc = oom(&P, 1);
			break;
		}
		snprintf(full, need, "%s/%s", path, de->d_name);
		*slot = full;
	}
	closedir(d);
	if (names.n)
		qsort(names.p, names.n, sizeof(char *), cmp_str);
	else if (rc == 0)
		rc = perr_at(&P, path, 0, 0, "no .wsc file in this directory");
	const char *dir = arena_strndup(P.A, path, strlen(path));
	if (!dir && rc == 0)
		rc = oom(&P, 1);
	for (size_t i = 0; rc == 0 && i < names.n; i++)
		rc = load_disk_file(&P, ((char **)names.p)[i], dir);
	vec_free(&names);
	return end(&P, rc);
}

static int case_cmp(const void *a, const void *b)
{
	return wsc_id_cmp(((const struct wsc_case *)a)->id, ((const struct wsc_case *)b)->id);
}

void wsc_catalog_sort(struct wsc_catalog *cat)
{
	if (cat->n_cases > 1)
		qsort(cat->cases, cat->n_cases, sizeof(*cat->cases), case_cmp);
	if (cat->arena) {
		idmap_rebuild(cat->arena, cat, cat->n_cases);
		cat->arena->sorted = 1;
	}
}

void wsc_catalog_free(struct wsc_catalog *cat)
{
	struct wsc_arena *A = cat->arena;
	if (A) {
		for (struct achunk *c = A->head, *n; c; c = n) {
			n = c->next;
			free(c);
		}
		free(A->tmpls);
		free(A->idmap);
		free(A->shares);
		free(A);
	}
	free(cat->cases);
	free(cat->categories);
	enum wsc_profile p = cat->profile;
	memset(cat, 0, sizeof(*cat));
	cat->profile = p;
}

const struct wsc_case *wsc_catalog_find(const struct wsc_catalog *cat, const char *id)
{
	struct wsc_arena *A = cat->arena;
	if (!id || !A)
		return NULL;
	if (A->idmap_cap) {
		size_t mask = A->idmap_cap - 1;
		for (size_t i = (size_t)hash_bytes(id, strlen(id)) & mask; A->idmap[i];
		     i = (i + 1) & mask)
			if (A->idmap[i] - 1 < cat->n_cases &&
			    strcmp(cat->cases[A->idmap[i] - 1].id, id) == 0)
				return &cat->cases[A->idmap[i] - 1];
		return NULL;
	}
	for (size_t i = 0; i < cat->n_cases; i++)
		if (strcmp(cat->cases[i].id, id) == 0)
			return &cat->cases[i];
	return NULL;
}

bool wsc_case_expects_101(const struct wsc_case *c)
{
	if (c->hs.n_expect_status == 0)
		return true;
	for (size_t i = 0; i < c->hs.n_expect_status && i < 8; i++)
		if (c->hs.expect_status[i] == 101)
			return true;
	return false;
}

const char *wsc_category_name(const struct wsc_catalog *cat, const char *id)
{
	long num = 0;
	for (const char *p = id; p && *p >= '0' && *p <= '9' && num < 1000000000; p++)
		num = num * 10 + (*p - '0');
	for (size_t i = 0; i < cat->n_categories; i++)
		if (cat->categories[i].number == num)
			return cat->categories[i].name;
	return "Misc";
}

const char *wsc_verdict_name(enum wsc_verdict v)
{
	switch (v) {
	case WSC_V_OK:
		return "OK";
	case WSC_V_NON_STRICT:
		return "NON-STRICT";
	case WSC_V_INFORMATIONAL:
		return "INFORMATIONAL";
	case WSC_V_UNIMPLEMENTED:
		return "UNIMPLEMENTED";
	case WSC_V_FAILED:
		return "FAILED";
	}
	return "FAILED";
}

const char *wsc_level_name(enum wsc_level l)
{
	switch (l) {
	case WSC_LEVEL_MUST:
		return "MUST";
	case WSC_LEVEL_SHOULD:
		return "SHOULD";
	case WSC_LEVEL_MAY:
		return "MAY";
	}
	return "MUST";
}

const char *wsc_side_name(unsigned side)
{
	switch (side & (WSC_SIDE_SERVER | WSC_SIDE_CLIENT)) {
	case WSC_SIDE_SERVER:
		return "server";
	case WSC_SIDE_CLIENT:
		return "client";
	case WSC_SIDE_SERVER | WSC_SIDE_CLIENT:
		return "both";
	}
	return "none";
}
