/*
 * emit.c - the escaping layer, the payload renderer, the JSON writer and
 * the small helpers every emitter shares. See emit.h for the contracts.
 *
 * Why one layer: every emitter writes peer-controlled bytes (payloads, close
 * reasons, HTTP heads). Making them valid UTF-8 and escaping them in one
 * place means a hostile peer string is handled the same way everywhere.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "emit.h"

void wsc_out_init(struct wsc_out *b)
{
	memset(b, 0, sizeof(*b));
}

void wsc_out_free(struct wsc_out *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

void wsc_out_truncate(struct wsc_out *b, size_t n)
{
	if (n < b->len) {
		b->len = n;
		if (b->p)
			b->p[n] = '\0';
	}
}

static bool reserve(struct wsc_out *b, size_t extra)
{
	if (b->oom)
		return false;
	if (extra > SIZE_MAX - b->len - 1) {
		b->oom = true;
		return false;
	}
	size_t need = b->len + extra + 1;
	if (need <= b->cap)
		return true;
	size_t ncap = b->cap ? b->cap : 256;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2) {
			ncap = need;
			break;
		}
		ncap *= 2;
	}
	char *p = realloc(b->p, ncap);
	if (!p) {
		b->oom = true;
		return false;
	}
	b->p = p;
	b->cap = ncap;
	return true;
}

void wsc_out_put(struct wsc_out *b, const void *p, size_t n)
{
	if (!reserve(b, n))
		return;
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void wsc_out_puts(struct wsc_out *b, const char *s)
{
	wsc_out_put(b, s, strlen(s));
}

void wsc_out_putc(struct wsc_out *b, char c)
{
	wsc_out_put(b, &c, 1);
}

void wsc_out_printf(struct wsc_out *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = true;
		return;
	}
	if (!reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

const char *wsc_out_str(const struct wsc_out *b)
{
	return (b->p && !b->oom) ? b->p : "";
}

char *wsc_out_take(struct wsc_out *b)
{
	char *s = NULL;
	if (!b->oom)
		s = b->p ? b->p : strdup("");
	else
		free(b->p);
	memset(b, 0, sizeof(*b));
	return s;
}

int wsc_out_write_file(const struct wsc_out *b, const char *path, char *err, size_t errlen)
{
	if (b->oom) {
		snprintf(err, errlen, "%s: out of memory while rendering", path);
		return -1;
	}
	struct stat st;
	if (strcmp(path, "-") == 0 || (stat(path, &st) == 0 && !S_ISREG(st.st_mode))) {
		/* stdout, a pipe or a device: write in place. */
		FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "wb");
		if (!f) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			return -1;
		}
		bool ok = b->len == 0 || fwrite(b->p, 1, b->len, f) == b->len;
		ok = (f == stdout ? fflush(f) : fclose(f)) == 0 && ok;
		if (!ok) {
			snprintf(err, errlen, "%s: write failed: %s", path, strerror(errno));
			return -1;
		}
		return 0;
	}
	size_t pl = strlen(path);
	char *tmp = malloc(pl + 5);
	if (!tmp) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	memcpy(tmp, path, pl);
	memcpy(tmp + pl, ".tmp", 5);
	FILE *f = fopen(tmp, "wb");
	if (!f) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	bool ok = b->len == 0 || fwrite(b->p, 1, b->len, f) == b->len;
	int e = errno;
	if (fclose(f) != 0 && ok) {
		ok = false;
		e = errno;
	}
	if (!ok) {
		snprintf(err, errlen, "%s: write failed: %s", tmp, strerror(e));
		remove(tmp);
		free(tmp);
		return -1;
	}
	if (rename(tmp, path) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		remove(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	return 0;
}

/* ---- UTF-8 ---- */

/* Decode one sequence; *ok tells a valid U+FFFD from a replaced invalid sequence. */
static size_t decode(const uint8_t *p, size_t n, uint32_t *cp, bool *ok)
{
	uint8_t c = p[0];
	*ok = false;
	if (c < 0x80) {
		*cp = c;
		*ok = true;
		return 1;
	}
	size_t need;
	uint8_t lo = 0x80, hi = 0xBF;
	uint32_t v;
	if (c >= 0xC2 && c <= 0xDF) {
		need = 1;
		v = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		need = 2;
		v = c & 0x0F;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 3;
		v = c & 0x07;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	} else {
		*cp = 0xFFFD;
		return 1;
	}
	size_t i = 1;
	for (; i <= need; i++) {
		if (i >= n) {
			*cp = 0xFFFD;
			return i;
		}
		uint8_t x = p[i];
		if (x < lo || x > hi) {
			*cp = 0xFFFD;
			return i;
		}
		lo = 0x80;
		hi = 0xBF;
		v = (v << 6) | (x & 0x3F);
	}
	*cp = v;
	*ok = true;
	return i;
}

size_t wsc_out_utf8_next(const uint8_t *p, size_t n, uint32_t *cp)
{
	bool ok;
	return decode(p, n, cp, &ok);
}

bool wsc_out_utf8_valid(const uint8_t *p, size_t n)
{
	size_t i = 0;
	while (i < n) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		uint32_t cp;
		bool ok;
		i += decode(p + i, n - i, &cp, &ok);
		if (!ok)
			return false;
	}
	return true;
}

/*
 * Walk p[0..n) code point by code point; invalid sequences arrive as U+FFFD
 * with raw == NULL, valid ones with their bytes.
 */
typedef void (*cp_fn)(struct wsc_out *b, uint32_t cp, const uint8_t *raw, size_t rawlen, int mode);

static void walk(struct wsc_out *b, const void *vp, size_t n, cp_fn fn, int mode)
{
	const uint8_t *p = vp;
	size_t i = 0;
	if (!p)
		return;
	while (i < n && !b->oom) {
		uint32_t cp;
		bool valid;
		size_t k = decode(p + i, n - i, &cp, &valid);
		fn(b, cp, valid ? p + i : NULL, valid ? k : 0, mode);
		i += k;
	}
}

static void put_replacement(struct wsc_out *b)
{
	wsc_out_put(b, "\xEF\xBF\xBD", 3);
}

static void cp_plain(struct wsc_out *b, uint32_t cp, const uint8_t *raw, size_t rawlen, int mode)
{
	(void)cp;
	(void)mode;
	if (raw)
		wsc_out_put(b, raw, rawlen);
	else
		put_replacement(b);
}

void wsc_out_utf8(struct wsc_out *b, const void *p, size_t n)
{
	walk(b, p, n, cp_plain, 0);
}

static void cp_json(struct wsc_out *b, uint32_t cp, const uint8_t *raw, size_t rawlen, int mode)
{
	(void)raw;
	(void)rawlen;
	bool html_safe = mode != 0;
	switch (cp) {
	case '"':
		wsc_out_puts(b, "\\\"");
		return;
	case '\\':
		wsc_out_puts(b, "\\\\");
		return;
	case '\b':
		wsc_out_puts(b, "\\b");
		return;
	case '\f':
		wsc_out_puts(b, "\\f");
		return;
	case '\n':
		wsc_out_puts(b, "\\n");
		return;
	case '\r':
		wsc_out_puts(b, "\\r");
		return;
	case '\t':
		wsc_out_puts(b, "\\t");
		return;
	default:
		break;
	}
	/* Like Python's json with ensure_ascii: only ' '..'~' stay literal (DEL too is escaped). */
	if (cp < 0x20 || cp == 0x7F ||
	    (html_safe && (cp == '<' || cp == '>' || cp == '&' || cp == '\''))) {
		wsc_out_printf(b, "\\u%04x", (unsigned)cp);
	} else if (cp < 0x80) {
		wsc_out_putc(b, (char)cp);
	} else if (cp < 0x10000) {
		wsc_out_printf(b, "\\u%04x", (unsigned)cp);
	} else {
		uint32_t v = cp - 0x10000;
		wsc_out_printf(b, "\\u%04x\\u%04x", (unsigned)(0xD800 + (v >> 10)),
		               (unsigned)(0xDC00 + (v & 0x3FF)));
	}
}

void wsc_out_json_str(struct wsc_out *b, const void *p, size_t n, bool html_safe)
{
	wsc_out_putc(b, '"');
	walk(b, p, n, cp_json, html_safe ? 1 : 0);
	wsc_out_putc(b, '"');
}

enum { MODE_HTML = 0, MODE_XML_TEXT, MODE_XML_ATTR, MODE_TERM, MODE_MD };

static void cp_markup(struct wsc_out *b, uint32_t cp, const uint8_t *raw, size_t rawlen, int mode)
{
	if (!raw) {
		put_replacement(b);
		return;
	}
	if (mode == MODE_TERM) {
		if (cp < 0x20 && cp != '\t' && cp != '\n')
			wsc_out_printf(b, "\\x%02x", (unsigned)cp);
		else if (cp == 0x7F || (cp >= 0x80 && cp < 0xA0))
			wsc_out_printf(b, "\\u%04x", (unsigned)cp);
		else
			wsc_out_put(b, raw, rawlen);
		return;
	}
	switch (cp) {
	case '&':
		wsc_out_puts(b, "&amp;");
		return;
	case '<':
		wsc_out_puts(b, "&lt;");
		return;
	case '>':
		wsc_out_puts(b, "&gt;");
		return;
	case '"':
		wsc_out_puts(b, "&quot;");
		return;
	case '\'':
		wsc_out_puts(b, "&#39;");
		return;
	default:
		break;
	}
	if (cp == '\t' || cp == '\n' || cp == '\r') {
		if (mode == MODE_XML_ATTR)
			wsc_out_printf(b, "&#%u;", (unsigned)cp);
		else if (mode == MODE_MD)
			wsc_out_putc(b, ' ');
		else
			wsc_out_putc(b, (char)cp);
		return;
	}
	if (cp < 0x20 || cp == 0x7F) {
		wsc_out_printf(b, "\\x%02x", (unsigned)cp);
		return;
	}
	if ((cp >= 0x80 && cp < 0xA0) || cp == 0xFFFE || cp == 0xFFFF ||
	    (cp >= 0xFDD0 && cp <= 0xFDEF)) {
		/* Allowed in XML 1.0 but discouraged / noncharacters: show them. */
		wsc_out_printf(b, "\\u%04x", (unsigned)cp);
		return;
	}
	if (mode == MODE_MD && strchr("\\`*_[]|~#", (int)cp)) {
		wsc_out_putc(b, '\\');
		wsc_out_putc(b, (char)cp);
		return;
	}
	wsc_out_put(b, raw, rawlen);
}

void wsc_out_html(struct wsc_out *b, const void *p, size_t n)
{
	walk(b, p, n, cp_markup, MODE_HTML);
}

void wsc_out_xml(struct wsc_out *b, const void *p, size_t n, bool attr)
{
	walk(b, p, n, cp_markup, attr ? MODE_XML_ATTR : MODE_XML_TEXT);
}

void wsc_out_term(struct wsc_out *b, const void *p, size_t n)
{
	walk(b, p, n, cp_markup, MODE_TERM);
}

void wsc_out_md(struct wsc_out *b, const void *p, size_t n)
{
	walk(b, p, n, cp_markup, MODE_MD);
}

/* ---- payloads, times, names ---- */

static void put_hex(struct wsc_out *b, const uint8_t *p, size_t n)
{
	static const char hx[] = "0123456789abcdef";
	if (!reserve(b, n * 2))
		return;
	for (size_t i = 0; i < n; i++) {
		b->p[b->len++] = hx[p[i] >> 4];
		b->p[b->len++] = hx[p[i] & 15];
	}
	b->p[b->len] = '\0';
}

void wsc_out_payload(struct wsc_out *b, const uint8_t *data, size_t kept, size_t full_len)
{
	size_t show = kept < WSC_PAYLOAD_SHOW ? kept : WSC_PAYLOAD_SHOW;
	if (!data)
		show = 0;
	if (wsc_out_utf8_valid(data, show)) {
		wsc_out_put(b, data, show);
	} else {
		wsc_out_puts(b, "0x");
		put_hex(b, data, show);
	}
	if (full_len > show)
		wsc_out_puts(b, " ...");
}

void wsc_iso_time(uint64_t unix_ms, char out[32])
{
	time_t secs = (time_t)(unix_ms / 1000);
	struct tm tm;
	if (!gmtime_r(&secs, &tm)) {
		snprintf(out, 32, "1970-01-01T00:00:00.000Z");
		return;
	}
	char base[24];
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, 32, "%.20s.%03uZ", base, (unsigned)(unix_ms % 1000));
}

const char *wsc_profile_label(enum wsc_profile p)
{
	switch (p) {
	case WSC_PROFILE_RFC:
		return "rfc";
	case WSC_PROFILE_AUTOBAHN:
		return "autobahn";
	case WSC_PROFILE_HARDENED:
		return "hardened";
	}
	return "rfc";
}

void wsc_agent_file_part(const char *agent, char *out, size_t cap)
{
	if (cap == 0)
		return;
	/* Lower-case; every character outside [a-z0-9] becomes one space; trim; spaces -> '_'. */
	size_t n = 0;
	const unsigned char *s = (const unsigned char *)(agent ? agent : "");
	const unsigned char *start = s;
	while (*s == ' ')
		s++;
	size_t last_keep = 0; /* length up to the last [a-z0-9] */
	bool any = false;
	for (; *s && n + 1 < cap; s++) {
		unsigned char c = *s;
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
			out[n++] = (char)c;
			last_keep = n;
			any = true;
			continue;
		}
		if ((c & 0xC0) == 0x80 && s > start && (s[-1] & 0x80))
			continue; /* UTF-8 continuation: one character, one space */
		if (any)
			out[n++] = '_';
	}
	out[last_keep] = '\0';
}

void wsc_id_file_part(const char *id, char *out, size_t cap)
{
	if (cap == 0)
		return;
	size_t n = 0;
	for (const char *s = id ? id : ""; *s && n + 1 < cap; s++) {
		char c = *s;
		if (c == '.')
			c = '_';
		else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		           (c >= 'A' && c <= 'Z') || c == '-' || c == '_'))
			c = '_';
		out[n++] = c;
	}
	out[n] = '\0';
}

int wsc_mkdir(const char *dir, char *err, size_t errlen)
{
	if (mkdir(dir, 0777) == 0 || errno == EEXIST)
		return 0;
	snprintf(err, errlen, "%s: %s", dir, strerror(errno));
	return -1;
}

int wsc_id_category(const char *id)
{
	int v = 0;
	for (const char *s = id ? id : ""; *s >= '0' && *s <= '9'; s++) {
		v = v * 10 + (*s - '0');
		if (v > 1000000)
			break;
	}
	return v;
}

void wsc_out_event(struct wsc_out *b, enum wsc_event_kind kind, const uint8_t *data, size_t len)
{
	switch (kind) {
	case WSC_EV_TEXT:
		wsc_out_puts(b, "text");
		break;
	case WSC_EV_BINARY:
		wsc_out_puts(b, "binary");
		break;
	case WSC_EV_PONG:
		wsc_out_puts(b, "pong");
		break;
	case WSC_EV_TIMEOUT:
		wsc_out_puts(b, "timeout ");
		wsc_out_utf8(b, data, len < WSC_PAYLOAD_SHOW ? len : WSC_PAYLOAD_SHOW);
		return;
	}
	size_t show = len < WSC_PAYLOAD_SHOW ? len : WSC_PAYLOAD_SHOW;
	if (len > WSC_PAYLOAD_SHOW)
		wsc_out_printf(b, "(%zu bytes)", len);
	wsc_out_putc(b, ' ');
	if (data && wsc_out_utf8_valid(data, show)) {
		wsc_out_putc(b, '"');
		for (size_t i = 0; i < show; i++) {
			/* C-style escapes: the text is a C string, so no NUL and no controls. */
			if (data[i] < 0x20 || data[i] == 0x7f) {
				wsc_out_printf(b, "\\x%02x", data[i]);
				continue;
			}
			if (data[i] == '"' || data[i] == '\\')
				wsc_out_putc(b, '\\');
			wsc_out_putc(b, (char)data[i]);
		}
		wsc_out_putc(b, '"');
	} else {
		wsc_out_puts(b, "0x");
		put_hex(b, data, data ? show : 0);
	}
	if (len > show)
		wsc_out_puts(b, " ...");
}

/* ---- JSON writer ---- */

void wsc_json_init(struct wsc_json *j, struct wsc_out *b, int indent, bool py27, bool html_safe)
{
	memset(j, 0, sizeof(*j));
	j->b = b;
	j->indent = indent;
	j->py27 = py27;
	j->html_safe = html_safe;
	j->first[0] = true;
}

static void newline(struct wsc_json *j, int depth)
{
	if (!j->indent)
		return;
	wsc_out_putc(j->b, '\n');
	for (int i = 0; i < depth * j->indent; i++)
		wsc_out_putc(j->b, ' ');
}

/* Separator and indentation before an item (value or key) of the current container. */
static void pre_item(struct wsc_json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (j->depth == 0)
		return;
	if (!j->first[j->depth]) {
		wsc_out_putc(j->b, ',');
		if (j->py27 && j->indent)
			wsc_out_putc(j->b, ' ');
	}
	j->first[j->depth] = false;
	newline(j, j->depth);
}

static void open_c(struct wsc_json *j, char c)
{
	pre_item(j);
	wsc_out_putc(j->b, c);
	if (j->depth < (int)(sizeof(j->first) / sizeof(j->first[0])) - 1)
		j->depth++;
	j->first[j->depth] = true;
}

static void close_c(struct wsc_json *j, char c)
{
	if (!j->first[j->depth])
		newline(j, j->depth - 1);
	if (j->depth > 0)
		j->depth--;
	wsc_out_putc(j->b, c);
}

void wsc_json_obj(struct wsc_json *j)
{
	open_c(j, '{');
}

void wsc_json_obj_end(struct wsc_json *j)
{
	close_c(j, '}');
}

void wsc_json_arr(struct wsc_json *j)
{
	open_c(j, '[');
}

void wsc_json_arr_end(struct wsc_json *j)
{
	close_c(j, ']');
}

void wsc_json_key(struct wsc_json *j, const char *k)
{
	pre_item(j);
	wsc_out_json_str(j->b, k, strlen(k), j->html_safe);
	wsc_out_puts(j->b, j->indent || j->py27 ? ": " : ":");
	j->after_key = true;
}

void wsc_json_strn(struct wsc_json *j, const void *p, size_t n)
{
	pre_item(j);
	wsc_out_json_str(j->b, p, n, j->html_safe);
}

void wsc_json_str(struct wsc_json *j, const char *s)
{
	if (!s) {
		wsc_json_null(j);
		return;
	}
	wsc_json_strn(j, s, strlen(s));
}

void wsc_json_int(struct wsc_json *j, long long v)
{
	pre_item(j);
	wsc_out_printf(j->b, "%lld", v);
}

/*
 * A double as Python's repr() writes it (Autobahn's reports come from
 * Python's json): the shortest digits that read back as the same double,
 * fixed notation for exponents -4..15 with at least one decimal ("100.0"),
 * scientific otherwise ("1e-05", "1e+16").
 */
static void py_float(char *out, size_t cap, double v)
{
	char e[48];
	int p = 0;
	for (; p < 17; p++) {
		snprintf(e, sizeof(e), "%.*e", p, v);
		if (strtod(e, NULL) == v)
			break;
	}
	const char *ep = strchr(e, 'e');
	int exp = ep ? atoi(ep + 1) : 0;
	if (exp < -4 || exp >= 16) {
		snprintf(out, cap, "%s", e);
		return;
	}
	int dec = p - exp;
	snprintf(out, cap, "%.*f", dec > 0 ? dec : 0, v);
	if (!strchr(out, '.') && strlen(out) + 2 < cap)
		strcat(out, ".0");
}

void wsc_json_num(struct wsc_json *j, double v, int decimals)
{
	pre_item(j);
	if (v != v || v > 1e300 || v < -1e300) {
		wsc_out_puts(j->b, "null");
		return;
	}
	/* Round to `decimals` places first (without libm). */
	double scale = 1;
	for (int i = 0; i < decimals && i < 15; i++)
		scale *= 10;
	double t = v * scale;
	if (t < 9e18 && t > -9e18)
		v = (double)(long long)(t + (t >= 0 ? 0.5 : -0.5)) / scale;
	char buf[64];
	py_float(buf, sizeof(buf), v);
	wsc_out_puts(j->b, buf);
}

void wsc_json_bool(struct wsc_json *j, bool v)
{
	pre_item(j);
	wsc_out_puts(j->b, v ? "true" : "false");
}

void wsc_json_null(struct wsc_json *j)
{
	pre_item(j);
	wsc_out_puts(j->b, "null");
}

void wsc_json_payload(struct wsc_json *j, const uint8_t *data, size_t kept, size_t full_len)
{
	struct wsc_out t;
	wsc_out_init(&t);
	wsc_out_payload(&t, data, kept, full_len);
	if (t.oom)
		j->b->oom = true;
	wsc_json_strn(j, t.p, t.len);
	wsc_out_free(&t);
}

/* ---- counting and sorting ---- */

void wsc_count_result(struct wsc_counts *c, const struct wsc_result *r, bool strict)
{
	c->total++;
	c->duration_ms += r->obs.duration_ms;
	if (!r->ran)
		c->not_run++;
	if (r->behavior == WSC_V_NON_STRICT)
		c->non_strict++;
	if (r->behavior == WSC_V_INFORMATIONAL)
		c->informational++;
	if (wsc_result_skipped(r))
		c->unimplemented++;
	else if (wsc_result_passed(r, strict))
		c->passed++;
	else
		c->failed++;
}

static int cmp_agent_id_str(const void *a, const void *b, void *arg)
{
	const struct wsc_run *run = arg;
	size_t ia = *(const size_t *)a, ib = *(const size_t *)b;
	const struct wsc_result *ra = &run->results[ia], *rb = &run->results[ib];
	int c = strcmp(ra->agent ? ra->agent : "", rb->agent ? rb->agent : "");
	if (!c)
		c = strcmp(ra->c->id, rb->c->id);
	if (!c)
		c = ia < ib ? -1 : ia > ib;
	return c;
}

static int cmp_id_natural(const void *a, const void *b, void *arg)
{
	const struct wsc_run *run = arg;
	size_t ia = *(const size_t *)a, ib = *(const size_t *)b;
	const struct wsc_result *ra = &run->results[ia], *rb = &run->results[ib];
	int c = wsc_id_cmp(ra->c->id, rb->c->id);
	if (!c)
		c = strcmp(ra->c->id, rb->c->id);
	if (!c)
		c = strcmp(ra->agent ? ra->agent : "", rb->agent ? rb->agent : "");
	if (!c)
		c = ia < ib ? -1 : ia > ib;
	return c;
}

static size_t *sorted(const struct wsc_run *run, int (*cmp)(const void *, const void *, void *))
{
	size_t *ix = malloc((run->n_results ? run->n_results : 1) * sizeof(*ix));
	if (!ix)
		return NULL;
	for (size_t i = 0; i < run->n_results; i++)
		ix[i] = i;
	qsort_r(ix, run->n_results, sizeof(*ix), cmp, (void *)run);
	return ix;
}

size_t *wsc_sort_by_agent_id_str(const struct wsc_run *run)
{
	return sorted(run, cmp_agent_id_str);
}

size_t *wsc_sort_by_id_natural(const struct wsc_run *run)
{
	return sorted(run, cmp_id_natural);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

const char **wsc_run_agents(const struct wsc_run *run, size_t *n)
{
	const char **v = malloc((run->n_results ? run->n_results : 1) * sizeof(*v));
	*n = 0;
	if (!v)
		return NULL;
	for (size_t i = 0; i < run->n_results; i++)
		v[i] = run->results[i].agent ? run->results[i].agent : "";
	qsort(v, run->n_results, sizeof(*v), cmp_str);
	size_t k = 0;
	for (size_t i = 0; i < run->n_results; i++)
		if (k == 0 || strcmp(v[k - 1], v[i]) != 0)
			v[k++] = v[i];
	*n = k;
	return v;
}
