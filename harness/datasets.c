/*
 * datasets.c - deterministic generated data sets (see datasets.h).
 */
#include "datasets.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const names[WSC_DS_COUNT] = {"json", "bitmap", "prose", "html", "pdf"};

static struct wsc_dataset sets[WSC_DS_COUNT];
static struct wsc_buf bufs[WSC_DS_COUNT];
static uint32_t *offs[WSC_DS_COUNT];
static bool built[WSC_DS_COUNT];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

int wsc_dataset_lookup(const char *name, size_t n)
{
	for (int i = 0; i < WSC_DS_COUNT; i++)
		if (strlen(names[i]) == n && memcmp(names[i], name, n) == 0)
			return i;
	return -1;
}

const char *wsc_dataset_name(int id)
{
	return id >= 0 && id < WSC_DS_COUNT ? names[id] : "?";
}

/* splitmix64: a fixed, portable PRNG */
static uint64_t rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static unsigned pick(uint64_t *s, unsigned n)
{
	return (unsigned)(rnd(s) % n);
}

#define PUT(b, str) wsc_buf_append((b), (str), strlen(str))

static const char *const first[] = {"Anna",  "Jürgen", "Zoë",     "Łukasz", "Mei",   "Olivier",
                                    "Søren", "Ana",    "Hiroshi", "Fatima", "Björn", "Chloé"};
static const char *const last[] = {"Müller", "García",   "Nakamura", "Smith",        "Kowalski",
                                   "Dubois", "Ødegaard", "Rossi",    "Papadopoulos", "Kim"};
static const char *const cities[] = {"Zürich",    "München", "Kraków", "São Paulo", "Tōkyō",
                                     "Reykjavík", "Lyon",    "Oslo",   "Austin",    "Genève"};
static const char *const tags[] = {"alpha", "beta", "gamma", "delta", "websocket", "deflate",
                                   "frame", "mask", "close", "ping",  "pong",      "utf-8"};

static int gen_json(struct wsc_buf *b)
{
	uint64_t s = 0x4a534f4e; /* "JSON" */
	char t[512];
	PUT(b, "{\"version\": 3, \"generator\": \"wsconform\", \"records\": [\n");
	for (unsigned i = 0; b->len < 193950; i++) {
		snprintf(t, sizeof t,
		         "%s  {\"id\": %u, \"name\": \"%s %s\", \"email\": \"user%u@example.org\", "
		         "\"city\": \"%s\", \"score\": %u.%02u, \"active\": %s, \"tags\": [\"%s\", "
		         "\"%s\"], \"balance\": %lld, \"note\": \"Größe €%u — ok\"}",
		         i ? ",\n" : "", i, first[pick(&s, 12)], last[pick(&s, 10)], pick(&s, 5000),
		         cities[pick(&s, 10)], pick(&s, 100), pick(&s, 100),
		         pick(&s, 2) ? "true" : "false", tags[pick(&s, 12)], tags[pick(&s, 12)],
		         (long long)pick(&s, 2000000) - 1000000, pick(&s, 999));
		if (PUT(b, t) < 0)
			return -1;
	}
	return PUT(b, "\n]}\n");
}

static void le16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void le32(uint8_t *p, uint32_t v)
{
	le16(p, v & 0xffff);
	le16(p + 2, v >> 16);
}

static int gen_bitmap(struct wsc_buf *b)
{
	const unsigned w = 512, h = 512;
	const size_t hdr = 14 + 40 + 1024, total = hdr + (size_t)w * h;
	if (wsc_buf_reserve(b, total) < 0)
		return -1;
	uint8_t *p = b->p;
	memset(p, 0, hdr);
	p[0] = 'B';
	p[1] = 'M';
	le32(p + 2, (uint32_t)total);
	le32(p + 10, (uint32_t)hdr);
	le32(p + 14, 40);
	le32(p + 18, w);
	le32(p + 22, h);
	le16(p + 26, 1);
	le16(p + 28, 8);
	le32(p + 34, w * h);
	le32(p + 38, 2835);
	le32(p + 42, 2835);
	le32(p + 46, 256);
	for (unsigned i = 0; i < 256; i++) { /* grey palette */
		p[54 + 4 * i] = p[55 + 4 * i] = p[56 + 4 * i] = (uint8_t)i;
	}
	uint64_t s = 0x424d50; /* "BMP" */
	uint8_t *px = p + hdr;
	for (unsigned y = 0; y < h; y++)
		for (unsigned x = 0; x < w; x++) {
			/* two gradients, a soft disc and a little noise: photo-like entropy */
			int dx = (int)x - 300, dy = (int)y - 220;
			int v = (int)(x / 4 + y / 3) + ((dx * dx + dy * dy) < 150 * 150 ? 60 : 0) +
			        (int)pick(&s, 9) - 4;
			px[(size_t)y * w + x] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
		}
	b->len = total;
	return 0;
}

static const char *const words[] = {
        "und",      "der",    "die",    "das",    "ich",        "nicht",    "Geist",   "Welt",
        "Herz",     "Nacht",  "mein",   "sich",   "wohl",       "noch",     "Faust",   "Mephisto",
        "Gretchen", "schön",  "Glück",  "Mühe",   "Blüte",      "über",     "Träume",  "weiß",
        "heißt",    "Himmel", "Erde",   "Stunde", "Augenblick", "verweile", "doch",    "du",
        "bist",     "so",     "ewig",   "Liebe",  "Zeit",       "Wissen",   "Buch",    "Straße",
        "Tür",      "öffnet", "frühen", "Morgen", "kühl",       "spät",     "Gedanke", "wandern"};

static int gen_prose(struct wsc_buf *b)
{
	uint64_t s = 0x50524f5345; /* "PROSE" */
	const size_t nw = sizeof(words) / sizeof(words[0]);
	unsigned col = 0;
	while (b->len < 222000) {
		unsigned len = 4 + pick(&s, 12);
		for (unsigned i = 0; i < len; i++) {
			const char *wd = words[pick(&s, (unsigned)nw)];
			char tmp[40];
			snprintf(tmp, sizeof tmp, "%s", wd);
			if (i == 0 && tmp[0] >= 'a' && tmp[0] <= 'z')
				tmp[0] = (char)(tmp[0] - 32);
			if (col > 66) {
				PUT(b, "\n");
				col = 0;
			} else if (col) {
				PUT(b, " ");
				col++;
			}
			if (PUT(b, tmp) < 0)
				return -1;
			col += (unsigned)strlen(tmp);
			if (i + 1 < len && pick(&s, 9) == 0) {
				PUT(b, ",");
				col++;
			}
		}
		PUT(b, pick(&s, 6) == 0 ? "!" : pick(&s, 5) == 0 ? "?" : ".");
		col++;
		if (pick(&s, 10) == 0) {
			PUT(b, "\n\n");
			col = 0;
		}
	}
	return 0;
}

static int gen_html(struct wsc_buf *b)
{
	uint64_t s = 0x48544d4c; /* "HTML" */
	char t[600];
	PUT(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	       "<title>Test report — wsconform</title>\n<style>body{font-family:sans-serif}"
	       "td.pass{background:#0a0}td.fail{background:#d00}</style></head>\n<body>\n"
	       "<h1>Report</h1>\n<table class=\"matrix\">\n");
	for (unsigned i = 0; b->len < 263300; i++) {
		unsigned ms = pick(&s, 900), code = pick(&s, 3) ? 1000 : 1002;
		snprintf(t, sizeof t,
		         "<tr class=\"row%u\"><td class=\"case\"><a href=\"#case_%u_%u_%u\">Case "
		         "%u.%u.%u</a></td><td class=\"%s\"><a href=\"agent_case_%u_%u_%u.html\">%s"
		         "</a><br/><span class=\"dur\">%u ms</span></td><td class=\"close\">%u</td>"
		         "<td>%s über %s</td></tr>\n",
		         i % 2, i / 100 + 1, i / 10 % 10 + 1, i % 10 + 1, i / 100 + 1,
		         i / 10 % 10 + 1, i % 10 + 1, pick(&s, 7) ? "pass" : "fail", i / 100 + 1,
		         i / 10 % 10 + 1, i % 10 + 1, pick(&s, 7) ? "Pass" : "Fail", ms, code,
		         tags[pick(&s, 12)], cities[pick(&s, 10)]);
		if (PUT(b, t) < 0)
			return -1;
	}
	return PUT(b, "</table>\n</body></html>\n");
}

static int gen_pdf(struct wsc_buf *b)
{
	uint64_t s = 0x504446; /* "PDF" */
	char t[400];
	PUT(b, "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n");
	for (unsigned obj = 1; b->len < 1042000; obj++) {
		if (obj % 3) {
			/* an uncompressed content stream: text operators */
			PUT(b, "");
			snprintf(t, sizeof t, "%u 0 obj\n<< /Length 0 >>\nstream\nBT\n", obj);
			PUT(b, t);
			unsigned lines = 20 + pick(&s, 40);
			for (unsigned l = 0; l < lines; l++) {
				snprintf(t, sizeof t, "/F%u 10 Tf 72 %u Td (%s %s %s) Tj\n",
				         1 + pick(&s, 3), 700 - l * 12, tags[pick(&s, 12)],
				         words[pick(&s, 40)], tags[pick(&s, 12)]);
				if (PUT(b, t) < 0)
					return -1;
			}
			PUT(b, "ET\nendstream\nendobj\n");
		} else {
			/* a "FlateDecode" image: incompressible bytes */
			unsigned n = 2048 + pick(&s, 8192);
			snprintf(t, sizeof t,
			         "%u 0 obj\n<< /Type /XObject /Subtype /Image /Filter /FlateDecode "
			         "/Length %u >>\nstream\n",
			         obj, n);
			PUT(b, t);
			if (wsc_buf_reserve(b, n) < 0)
				return -1;
			for (unsigned i = 0; i < n; i += 8) {
				uint64_t r = rnd(&s);
				size_t k = n - i < 8 ? n - i : 8;
				memcpy(b->p + b->len, &r, k);
				b->len += k;
			}
			PUT(b, "\nendstream\nendobj\n");
		}
	}
	return PUT(b, "trailer\n<< /Root 1 0 R >>\n%%EOF\n");
}

static int index_chars(int id)
{
	struct wsc_buf *b = &bufs[id];
	size_t n = 0;
	for (size_t i = 0; i < b->len; i++)
		if ((b->p[i] & 0xc0) != 0x80)
			n++;
	uint32_t *o = malloc((n + 1) * sizeof(*o));
	if (!o)
		return -1;
	size_t k = 0;
	for (size_t i = 0; i < b->len; i++)
		if ((b->p[i] & 0xc0) != 0x80)
			o[k++] = (uint32_t)i;
	o[n] = (uint32_t)b->len;
	offs[id] = o;
	sets[id].char_off = o;
	sets[id].n_chars = n;
	return 0;
}

const struct wsc_dataset *wsc_dataset_get(int id)
{
	if (id < 0 || id >= WSC_DS_COUNT)
		return NULL;
	pthread_mutex_lock(&lock);
	if (!built[id]) {
		static int (*const gen[WSC_DS_COUNT])(struct wsc_buf *) = {
		        gen_json, gen_bitmap, gen_prose, gen_html, gen_pdf};
		static const bool text[WSC_DS_COUNT] = {true, false, false, true, false};
		wsc_buf_init(&bufs[id]);
		if (gen[id](&bufs[id]) < 0 || (text[id] && index_chars(id) < 0)) {
			wsc_buf_free(&bufs[id]);
			pthread_mutex_unlock(&lock);
			return NULL;
		}
		sets[id].name = names[id];
		sets[id].p = bufs[id].p;
		sets[id].n = bufs[id].len;
		sets[id].text = text[id];
		built[id] = true;
	}
	pthread_mutex_unlock(&lock);
	return &sets[id];
}

size_t wsc_dataset_units(const struct wsc_dataset *d)
{
	return d->text ? d->n_chars : d->n;
}

int wsc_dataset_window(const struct wsc_dataset *d, uint64_t start, uint64_t units,
                       struct wsc_buf *out)
{
	size_t total = wsc_dataset_units(d);
	out->len = 0;
	if (total == 0)
		return 0;
	uint64_t pos = start % total;
	while (units > 0) {
		uint64_t k = total - pos < units ? total - pos : units;
		size_t b0 = d->text ? d->char_off[pos] : (size_t)pos;
		size_t b1 = d->text ? d->char_off[pos + k] : (size_t)(pos + k);
		if (wsc_buf_append(out, d->p + b0, b1 - b0) < 0)
			return -1;
		units -= k;
		pos = 0;
	}
	return 0;
}
