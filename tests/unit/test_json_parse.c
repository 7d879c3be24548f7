/* test_json_parse.c - the strict JSON parser (harness/json_parse.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json_parse.h"
#include "testutil.h"

static struct wsc_jval *P(const char *s, char *err)
{
	return wsc_jp_parse(s, strlen(s), err, 200);
}

static void test_values(void)
{
	char err[200];
	struct wsc_jval *v =
	        P(" {\"a\": [1, -2.5e3, true, false, null, \"x\\u00e9\\ud83d\\ude00\"],"
	          " \"b\": {}} ",
	          err);
	ASSERT(v != NULL);
	ASSERT_EQ(v->type, WSC_JOBJ);
	ASSERT_EQ(v->n, 2);
	const struct wsc_jval *a = wsc_jp_get(v, "a");
	ASSERT(a && a->type == WSC_JARR && a->n == 6);
	ASSERT_EQ(a->items[0].num, 1.0);
	ASSERT_STREQ(a->items[1].str, "-2.5e3");
	ASSERT_EQ(a->items[1].num, -2500.0);
	ASSERT(a->items[2].type == WSC_JBOOL && a->items[2].b);
	ASSERT(a->items[3].type == WSC_JBOOL && !a->items[3].b);
	ASSERT_EQ(a->items[4].type, WSC_JNULL);
	ASSERT_STREQ(a->items[5].str, "x\xc3\xa9\xf0\x9f\x98\x80");
	ASSERT_EQ(a->items[5].len, 7);
	ASSERT(wsc_jp_get(v, "b")->type == WSC_JOBJ);
	ASSERT(wsc_jp_get(v, "c") == NULL);
	ASSERT(wsc_jp_get(a, "a") == NULL);
	wsc_jp_free(v);

	v = P("\"a\\u0000b\"", err);
	ASSERT(v && v->len == 3 && v->str[1] == 0);
	wsc_jp_free(v);
	v = P("0", err);
	ASSERT(v && v->type == WSC_JNUM);
	wsc_jp_free(v);
}

static void test_rejects(void)
{
	static const char *const bad[] = {
	        "",
	        "  ",
	        "{",
	        "[1,]",
	        "{\"a\":1,}",
	        "01",
	        "1.",
	        "-",
	        "1e",
	        "+1",
	        "NaN",
	        "[1 2]",
	        "{\"a\" 1}",
	        "{1:2}",
	        "\"\\x\"",
	        "\"\\ud800\"",
	        "\"\\udc00x\"",
	        "\"a\tb\"",
	        "\"\xff\"",
	        "\"\xc0\xaf\"",
	        "{\"a\":1,\"a\":2}",
	        "[] []",
	        "// c\n1",
	        "tru",
	        "\"\xed\xa0\x80\"",
	        "\"abc",
	};
	char err[200];
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct wsc_jval *v = P(bad[i], err);
		if (v)
			fprintf(stderr, "accepted: %s\n", bad[i]);
		ASSERT(v == NULL);
		ASSERT(err[0] != '\0');
	}
	struct wsc_jval *v = P("{\n  \"a\": [1,\n  ]}", err);
	ASSERT(v == NULL);
	ASSERT_STREQ(err, "line 3, column 3: unexpected character ']'");
}

static void test_depth_and_guard(void)
{
	char err[200];
	char deep[WSC_JP_MAX_DEPTH + 2];
	memset(deep, '[', sizeof deep);
	struct wsc_jval *v = wsc_jp_parse(deep, sizeof deep, err, sizeof err);
	ASSERT(v == NULL);
	ASSERT(strstr(err, "nesting") != NULL);
	/* at the limit: fine */
	char ok[2 * WSC_JP_MAX_DEPTH];
	memset(ok, '[', WSC_JP_MAX_DEPTH);
	memset(ok + WSC_JP_MAX_DEPTH, ']', WSC_JP_MAX_DEPTH);
	v = wsc_jp_parse(ok, sizeof ok, err, sizeof err);
	ASSERT(v != NULL);
	wsc_jp_free(v);
	/* input ending at a guard page: no read past the end, whatever is cut */
	static const char *const texts[] = {"{\"key\": [1, 2.5, \"str\\u00e9\"], \"k2\": null}",
	                                    "\"\\ud83d\\ude00\"", "-12.5e+7", "true"};
	for (size_t t = 0; t < sizeof texts / sizeof texts[0]; t++) {
		size_t n = strlen(texts[t]);
		for (size_t cut = 0; cut <= n; cut++) {
			uint8_t *g = tu_guard_copy(texts[t], cut);
			v = wsc_jp_parse((const char *)g, cut, err, sizeof err);
			if (t < 2) /* cut short, these two are never complete values */
				ASSERT((v != NULL) == (cut == n));
			wsc_jp_free(v);
			tu_guard_free(g, cut);
		}
	}
}

static void test_file(void)
{
	char err[300];
	char path[] = "/tmp/test_json_parse_XXXXXX";
	int fd = mkstemp(path);
	ASSERT(fd >= 0);
	FILE *f = fdopen(fd, "w");
	fputs("{\"outdir\": \"./reports\", \"cases\": [\"*\"]}", f);
	fclose(f);
	struct wsc_jval *v = wsc_jp_parse_file(path, 1 << 20, err, sizeof err);
	ASSERT(v != NULL);
	ASSERT_STREQ(wsc_jp_get(v, "outdir")->str, "./reports");
	wsc_jp_free(v);
	v = wsc_jp_parse_file(path, 8, err, sizeof err);
	ASSERT(v == NULL);
	ASSERT(strstr(err, "larger than") != NULL);
	unlink(path);
	v = wsc_jp_parse_file(path, 1 << 20, err, sizeof err);
	ASSERT(v == NULL);
	ASSERT(strstr(err, "No such file") != NULL);
}

int main(void)
{
	RUN(test_values);
	RUN(test_rejects);
	RUN(test_depth_and_guard);
	RUN(test_file);
	return tu_finish("json_parse");
}
