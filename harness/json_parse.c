/*
 * json_parse.c - a small strict JSON parser (json_parse.h).
 */
#include "json_parse.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct jp {
	const char *s;
	size_t n, pos;
	char *err;
	size_t errlen;
	bool failed;
};

static void where(const struct jp *p, size_t at, int *line, int *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < at && i < p->n; i++) {
		if (p->s[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

static int fail_at(struct jp *p, size_t at, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static int fail_at(struct jp *p, size_t at, const char *fmt, ...)
{
	if (p->failed)
		return -1;
	p->failed = true;
	int line, col;
	where(p, at, &line, &col);
	char m[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(m, sizeof m, fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errlen, "line %d, column %d: %s", line, col, m);
	return -1;
}

static int oom(struct jp *p)
{
	if (!p->failed) {
		p->failed = true;
		snprintf(p->err, p->errlen, "out of memory");
	}
	return -1;
}

static void skip_ws(struct jp *p)
{
	while (p->pos < p->n) {
		char c = p->s[p->pos];
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		p->pos++;
	}
}

static void free_val(struct wsc_jval *v)
{
	free(v->str);
	if (v->type == WSC_JARR || v->type == WSC_JOBJ) {
		for (size_t i = 0; i < v->n; i++) {
			free_val(&v->items[i]);
			if (v->keys)
				free(v->keys[i]);
		}
		free(v->items);
		free(v->keys);
	}
	memset(v, 0, sizeof *v);
}

void wsc_jp_free(struct wsc_jval *v)
{
	if (!v)
		return;
	free_val(v);
	free(v);
}

static int hex4(struct jp *p, size_t at, uint32_t *out)
{
	if (p->n - at < 4)
		return fail_at(p, at, "truncated \\u escape");
	uint32_t v = 0;
	for (int i = 0; i < 4; i++) {
		char c = p->s[at + i];
		int d = c >= '0' && c <= '9'   ? c - '0'
		        : c >= 'a' && c <= 'f' ? c - 'a' + 10
		        : c >= 'A' && c <= 'F' ? c - 'A' + 10
		                               : -1;
		if (d < 0)
			return fail_at(p, at + i, "bad hex digit in \\u escape");
		v = v << 4 | (uint32_t)d;
	}
	*out = v;
	return 0;
}

static size_t put_utf8(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Length of the valid UTF-8 sequence at s[0..n), or 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	unsigned char lo = 0x80, hi = 0xbf;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0;
		if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90;
		if (c == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (n < len)
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

/* At an opening quote. */
static int parse_string(struct jp *p, char **out, size_t *outlen)
{
	size_t start = ++p->pos;
	/* the decoded form is never longer than the source */
	size_t end = start;
	while (end < p->n && p->s[end] != '"') {
		if (p->s[end] == '\\')
			end++;
		end++;
	}
	if (end >= p->n)
		return fail_at(p, start - 1, "unterminated string");
	char *buf = malloc(end - start + 1);
	if (!buf)
		return oom(p);
	size_t o = 0;
	size_t i = start;
	while (i < end) {
		unsigned char c = (unsigned char)p->s[i];
		if (c < 0x20) {
			free(buf);
			return fail_at(p, i, "control character 0x%02x in a string", c);
		}
		if (c != '\\') {
			size_t l = utf8_seq((const unsigned char *)p->s + i, end - i);
			if (!l) {
				free(buf);
				return fail_at(p, i, "invalid UTF-8 in a string");
			}
			memcpy(buf + o, p->s + i, l);
			o += l;
			i += l;
			continue;
		}
		char e = p->s[i + 1];
		switch (e) {
		case '"':
		case '\\':
		case '/':
			buf[o++] = e;
			i += 2;
			break;
		case 'b':
			buf[o++] = '\b';
			i += 2;
			break;
		case 'f':
			buf[o++] = '\f';
			i += 2;
			break;
		case 'n':
			buf[o++] = '\n';
			i += 2;
			break;
		case 'r':
			buf[o++] = '\r';
			i += 2;
			break;
		case 't':
			buf[o++] = '\t';
			i += 2;
			break;
		case 'u': {
			uint32_t cp;
			if (hex4(p, i + 2, &cp) < 0) {
				free(buf);
				return -1;
			}
			size_t at = i;
			i += 6;
			if (cp >= 0xdc00 && cp <= 0xdfff) {
				free(buf);
				return fail_at(p, at, "lone low surrogate in \\u escape");
			}
			if (cp >= 0xd800 && cp <= 0xdbff) {
				uint32_t lo;
				if (i + 1 >= end || p->s[i] != '\\' || p->s[i + 1] != 'u' ||
				    hex4(p, i + 2, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff) {
					free(buf);
					return fail_at(p, at, "lone high surrogate in \\u escape");
				}
				i += 6;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			}
			o += put_utf8(buf + o, cp);
			break;
		}
		default:
			free(buf);
			return fail_at(p, i, "bad escape '\\%c'", e >= 0x20 && e < 0x7f ? e : '?');
		}
	}
	buf[o] = '\0';
	p->pos = end + 1;
	*out = buf;
	*outlen = o;
	return 0;
}

static int parse_number(struct jp *p, struct wsc_jval *v)
{
	size_t s = p->pos, i = s;
	if (i < p->n && p->s[i] == '-')
		i++;
	if (i >= p->n || p->s[i] < '0' || p->s[i] > '9')
		return fail_at(p, s, "bad number");
	if (p->s[i] == '0') {
		i++;
		if (i < p->n && p->s[i] >= '0' && p->s[i] <= '9')
			return fail_at(p, s, "leading zero in a number");
	} else {
		while (i < p->n && p->s[i] >= '0' && p->s[i] <= '9')
			i++;
	}
	if (i < p->n && p->s[i] == '.') {
		i++;
		if (i >= p->n || p->s[i] < '0' || p->s[i] > '9')
			return fail_at(p, i, "expected a digit after '.'");
		while (i < p->n && p->s[i] >= '0' && p->s[i] <= '9')
			i++;
	}
	if (i < p->n && (p->s[i] == 'e' || p->s[i] == 'E')) {
		i++;
		if (i < p->n && (p->s[i] == '+' || p->s[i] == '-'))
			i++;
		if (i >= p->n || p->s[i] < '0' || p->s[i] > '9')
			return fail_at(p, i, "expected a digit in the exponent");
		while (i < p->n && p->s[i] >= '0' && p->s[i] <= '9')
			i++;
	}
	if (i - s > 400)
		return fail_at(p, s, "number too long");
	v->type = WSC_JNUM;
	v->len = i - s;
	v->str = malloc(v->len + 1);
	if (!v->str)
		return oom(p);
	memcpy(v->str, p->s + s, v->len);
	v->str[v->len] = '\0';
	v->num = strtod(v->str, NULL);
	p->pos = i;
	return 0;
}

static bool lit(struct jp *p, const char *w)
{
	size_t l = strlen(w);
	if (p->n - p->pos >= l && memcmp(p->s + p->pos, w, l) == 0) {
		p->pos += l;
		return true;
	}
	return false;
}

static int parse_value(struct jp *p, struct wsc_jval *v, int depth);

static int push(struct jp *p, struct wsc_jval *v, size_t *cap, bool keys)
{
	if (v->n < *cap)
		return 0;
	size_t nc = *cap ? *cap * 2 : 8;
	struct wsc_jval *ni = realloc(v->items, nc * sizeof *ni);
	if (!ni)
		return oom(p);
	v->items = ni;
	if (keys) {
		char **nk = realloc(v->keys, nc * sizeof *nk);
		if (!nk)
			return oom(p);
		v->keys = nk;
	}
	*cap = nc;
	return 0;
}

static int parse_array(struct jp *p, struct wsc_jval *v, int depth)
{
	v->type = WSC_JARR;
	size_t cap = 0;
	p->pos++;
	skip_ws(p);
	if (p->pos < p->n && p->s[p->pos] == ']') {
		p->pos++;
		return 0;
	}
	for (;;) {
		if (push(p, v, &cap, false) < 0)
			return -1;
		memset(&v->items[v->n], 0, sizeof v->items[0]);
		v->n++;
		if (parse_value(p, &v->items[v->n - 1], depth + 1) < 0)
			return -1;
		skip_ws(p);
		if (p->pos < p->n && p->s[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (p->pos < p->n && p->s[p->pos] == ']') {
			p->pos++;
			return 0;
		}
		return fail_at(p, p->pos, "expected ',' or ']'");
	}
}

static int parse_object(struct jp *p, struct wsc_jval *v, int depth)
{
	v->type = WSC_JOBJ;
	size_t cap = 0;
	p->pos++;
	skip_ws(p);
	if (p->pos < p->n && p->s[p->pos] == '}') {
		p->pos++;
		return 0;
	}
	for (;;) {
		skip_ws(p);
		if (p->pos >= p->n || p->s[p->pos] != '"')
			return fail_at(p, p->pos, "expected a member name (a string)");
		size_t kat = p->pos;
		if (push(p, v, &cap, true) < 0)
			return -1;
		char *k;
		size_t kl;
		if (parse_string(p, &k, &kl) < 0)
			return -1;
		if (strlen(k) != kl) {
			free(k);
			return fail_at(p, kat, "member name holds a NUL character");
		}
		for (size_t i = 0; i < v->n; i++)
			if (strcmp(v->keys[i], k) == 0) {
				free(k);
				return fail_at(p, kat, "duplicate member name");
			}
		memset(&v->items[v->n], 0, sizeof v->items[0]);
		v->keys[v->n] = k;
		v->n++;
		skip_ws(p);
		if (p->pos >= p->n || p->s[p->pos] != ':')
			return fail_at(p, p->pos, "expected ':'");
		p->pos++;
		if (parse_value(p, &v->items[v->n - 1], depth + 1) < 0)
			return -1;
		skip_ws(p);
		if (p->pos < p->n && p->s[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (p->pos < p->n && p->s[p->pos] == '}') {
			p->pos++;
			return 0;
		}
		return fail_at(p, p->pos, "expected ',' or '}'");
	}
}

static int parse_value(struct jp *p, struct wsc_jval *v, int depth)
{
	if (depth > WSC_JP_MAX_DEPTH)
		return fail_at(p, p->pos, "nesting deeper than %d levels", WSC_JP_MAX_DEPTH);
	skip_ws(p);
	if (p->pos >= p->n)
		return fail_at(p, p->pos, "unexpected end of input");
	char c = p->s[p->pos];
	switch (c) {
	case '{':
		return parse_object(p, v, depth);
	case '[':
		return parse_array(p, v, depth);
	case '"':
		v->type = WSC_JSTR;
		return parse_string(p, &v->str, &v->len);
	case 't':
	case 'f':
	case 'n':
		if (lit(p, "true")) {
			v->type = WSC_JBOOL;
			v->b = true;
			return 0;
		}
		if (lit(p, "false")) {
			v->type = WSC_JBOOL;
			return 0;
		}
		if (lit(p, "null")) {
			v->type = WSC_JNULL;
			return 0;
		}
		return fail_at(p, p->pos, "unexpected word");
	default:
		if (c == '-' || (c >= '0' && c <= '9'))
			return parse_number(p, v);
		if (c >= 0x20 && c < 0x7f)
			return fail_at(p, p->pos, "unexpected character '%c'", c);
		return fail_at(p, p->pos, "unexpected byte 0x%02x", (unsigned char)c);
	}
}

struct wsc_jval *wsc_jp_parse(const char *text, size_t len, char *err, size_t errlen)
{
	struct jp p = {.s = text, .n = len, .err = err, .errlen = errlen};
	if (errlen)
		err[0] = '\0';
	if (len > WSC_JP_MAX_INPUT) {
		snprintf(err, errlen, "input larger than %u bytes", WSC_JP_MAX_INPUT);
		return NULL;
	}
	struct wsc_jval *root = calloc(1, sizeof *root);
	if (!root) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (parse_value(&p, root, 1) < 0) {
		wsc_jp_free(root);
		return NULL;
	}
	skip_ws(&p);
	if (p.pos != p.n) {
		fail_at(&p, p.pos, "unexpected data after the JSON value");
		wsc_jp_free(root);
		return NULL;
	}
	return root;
}

const struct wsc_jval *wsc_jp_get(const struct wsc_jval *v, const char *key)
{
	if (!v || v->type != WSC_JOBJ)
		return NULL;
	for (size_t i = 0; i < v->n; i++)
		if (strcmp(v->keys[i], key) == 0)
			return &v->items[i];
	return NULL;
}

const char *wsc_jp_type_name(enum wsc_jtype t)
{
	static const char *const names[] = {"null",   "boolean", "number",
	                                    "string", "array",   "object"};
	return (unsigned)t < 6 ? names[t] : "?";
}

struct wsc_jval *wsc_jp_parse_file(const char *path, size_t max, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	size_t cap = max < 65536 ? (max ? max : 1) : 65536, n = 0;
	char *buf = malloc(cap);
	if (!buf) {
		fclose(f);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (;;) {
		if (n == cap) {
			if (cap >= max) {
				free(buf);
				fclose(f);
				snprintf(err, errlen, "%s: larger than %zu bytes", path, max);
				return NULL;
			}
			size_t nc = cap * 2 > max ? max : cap * 2;
			char *nb = realloc(buf, nc);
			if (!nb) {
				free(buf);
				fclose(f);
				snprintf(err, errlen, "out of memory");
				return NULL;
			}
			buf = nb;
			cap = nc;
		}
		size_t r = fread(buf + n, 1, cap - n, f);
		n += r;
		if (r == 0)
			break;
	}
	bool bad = ferror(f);
	fclose(f);
	if (bad) {
		free(buf);
		snprintf(err, errlen, "%s: read error", path);
		return NULL;
	}
	char e[300];
	struct wsc_jval *v = wsc_jp_parse(buf, n, e, sizeof e);
	free(buf);
	if (!v)
		snprintf(err, errlen, "%s: %s", path, e);
	return v;
}
