/*
 * test_report.c - the escaping layer and every emitter, on a synthetic run
 * full of hostile peer strings (invalid UTF-8, quotes, <script>, control
 * characters, NUL, ESC). Checks: the JSON parses and has Autobahn's shape
 * (39 sorted keys, 3-space indentation), the JUnit is well-formed XML with
 * its required attributes, the HTML is self-contained and never carries a
 * peer's markup, the text and Markdown summaries, and byte-identical output
 * across two runs. Structure checks use /usr/bin/python3 (json, xml.dom).
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../reports/emit.h"
#include "result.h"
#include "testutil.h"

#define B(s) ((const uint8_t *)(s))

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	struct wsc_out o;
	wsc_out_init(&o);
	char tmp[65536];
	size_t n;
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		wsc_out_put(&o, tmp, n);
	fclose(f);
	*len = o.len;
	return wsc_out_take(&o);
}

/* ---- escaping layer ---- */

static const char *esc(void (*fn)(struct wsc_out *, const void *, size_t), const char *s, size_t n)
{
	static char keep[1024];
	struct wsc_out o;
	wsc_out_init(&o);
	fn(&o, s, n);
	snprintf(keep, sizeof(keep), "%s", wsc_out_str(&o));
	wsc_out_free(&o);
	return keep;
}

static void json_esc(struct wsc_out *o, const void *p, size_t n)
{
	wsc_out_json_str(o, p, n, false);
}

static void json_esc_html(struct wsc_out *o, const void *p, size_t n)
{
	wsc_out_json_str(o, p, n, true);
}

static void xml_attr(struct wsc_out *o, const void *p, size_t n)
{
	wsc_out_xml(o, p, n, true);
}

static void payload(struct wsc_out *o, const void *p, size_t n)
{
	wsc_out_payload(o, p, n, n);
}

static void test_utf8_sanitizing_replaces_invalid_sequences(void)
{
	ASSERT(wsc_out_utf8_valid(B("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"), 11));
	ASSERT(!wsc_out_utf8_valid(B("\xc0\xaf"), 2));         /* overlong */
	ASSERT(!wsc_out_utf8_valid(B("\xed\xa0\x80"), 3));     /* surrogate */
	ASSERT(!wsc_out_utf8_valid(B("\xf4\x90\x80\x80"), 4)); /* > U+10FFFF */
	ASSERT(!wsc_out_utf8_valid(B("\xe2\x82"), 2));         /* truncated */
	ASSERT(wsc_out_utf8_valid(B("\xef\xbf\xbd"), 3));      /* U+FFFD itself is valid */
	/* Maximal subparts: "\xe2\x82" is one U+FFFD, "\xff" another. */
	ASSERT_STREQ(esc(wsc_out_utf8,
	                 "a\xe2\x82\xff"
	                 "b",
	                 5),
	             "a\xef\xbf\xbd\xef\xbf\xbd"
	             "b");
	ASSERT_STREQ(esc(wsc_out_utf8, "\xed\xa0\x80", 3), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
}

static void test_json_escaping_like_python(void)
{
	ASSERT_STREQ(esc(json_esc, "a\"b\\c\n\t\x01", 8), "\"a\\\"b\\\\c\\n\\t\\u0001\"");
	ASSERT_STREQ(esc(json_esc, "\0x", 2), "\"\\u0000x\"");
	ASSERT_STREQ(esc(json_esc, "\xc3\xa9", 2), "\"\\u00e9\"");
	ASSERT_STREQ(esc(json_esc, "\xf0\x9f\x98\x80", 4), "\"\\ud83d\\ude00\"");
	ASSERT_STREQ(esc(json_esc, "\xff", 1), "\"\\ufffd\"");
	ASSERT_STREQ(esc(json_esc, "</script>", 9), "\"</script>\"");
	ASSERT_STREQ(esc(json_esc_html, "</script>&'", 11),
	             "\"\\u003c/script\\u003e\\u0026\\u0027\"");
}

static void test_markup_escaping(void)
{
	ASSERT_STREQ(esc(wsc_out_html, "<script>\"x\"&'\x1b[31m\x7f\xfe", 20),
	             "&lt;script&gt;&quot;x&quot;&amp;&#39;\\x1b[31m\\x7f\xef\xbf\xbd");
	ASSERT_STREQ(esc(xml_attr, "a\nb\tc\x00", 6), "a&#10;b&#9;c\\x00");
	ASSERT_STREQ(esc(wsc_out_term, "ok\x1b]0;pwn\x07\n", 11), "ok\\x1b]0;pwn\\x07\n");
	ASSERT_STREQ(esc(wsc_out_md, "a|b*c<i>", 8), "a\\|b\\*c&lt;i&gt;");
}

static void test_payload_rendering_cuts_at_64_bytes(void)
{
	char a[100];
	memset(a, 'a', sizeof(a));
	struct wsc_out o;
	wsc_out_init(&o);
	wsc_out_payload(&o, B(a), 64, 100); /* kept 64 of 100 */
	ASSERT_EQ(o.len, 64 + 4);
	ASSERT(memcmp(o.p + 64, " ...", 4) == 0);
	wsc_out_free(&o);
	ASSERT_STREQ(esc(payload, "Hello", 5), "Hello");
	ASSERT_STREQ(esc(payload, "\x01\xff", 2), "0x01ff");
	ASSERT_STREQ(esc(payload, "", 0), "");
	/* A cut inside a UTF-8 character makes the shown bytes invalid: hex, as Autobahn did. */
	char k[70];
	memset(k, 'k', 63);
	memcpy(k + 63, "\xce\xba", 2);
	wsc_out_init(&o);
	wsc_out_payload(&o, B(k), 65, 65);
	ASSERT(strncmp(wsc_out_str(&o), "0x6b6b", 6) == 0);
	ASSERT(o.len == 2 + 128 + 4);
	wsc_out_free(&o);
}

static void test_agent_file_part(void)
{
	char out[64];
	wsc_agent_file_part("AutobahnPython/0.10.9", out, sizeof(out));
	ASSERT_STREQ(out, "autobahnpython_0_10_9");
	wsc_agent_file_part("  Foo  Bar!! ", out, sizeof(out));
	ASSERT_STREQ(out, "foo__bar");
	wsc_agent_file_part("\xc3\x9cn\xc3\xaf"
	                    "code",
	                    out, sizeof(out));
	ASSERT_STREQ(out, "n_code");
	wsc_agent_file_part("../../etc/passwd", out, sizeof(out));
	ASSERT_STREQ(out, "etc_passwd");
	wsc_agent_file_part("", out, sizeof(out));
	ASSERT_STREQ(out, "");
	wsc_agent_file_part("abcdefgh", out, 4);
	ASSERT_STREQ(out, "abc");
	char id[16];
	wsc_id_file_part("6.3.1", id, sizeof(id));
	ASSERT_STREQ(id, "6_3_1");
}

static void test_json_writer_layout(void)
{
	struct wsc_out o;
	struct wsc_json j;
	wsc_out_init(&o);
	wsc_json_init(&j, &o, 3, true, false);
	wsc_json_obj(&j);
	wsc_json_key(&j, "a");
	wsc_json_arr(&j);
	wsc_json_int(&j, 1);
	wsc_json_str(&j, "x");
	wsc_json_arr_end(&j);
	wsc_json_key(&j, "b");
	wsc_json_obj(&j);
	wsc_json_obj_end(&j);
	wsc_json_key(&j, "c");
	wsc_json_null(&j);
	wsc_json_obj_end(&j);
	/* Python 2.7: json.dumps({"a": [1, "x"], "b": {}, "c": None}, indent=3, sort_keys=True) */
	ASSERT_STREQ(wsc_out_str(&o),
	             "{\n   \"a\": [\n      1, \n      \"x\"\n   ], \n   \"b\": {}, "
	             "\n   \"c\": null\n}");
	wsc_out_free(&o);
}

/* ---- a synthetic run ---- */

static struct wsc_case cases[6];
static struct wsc_alt alts[6][2];
static struct wsc_event evs[6][2];
static struct wsc_category cats[2] = {{1, "Framing"}, {7, "Close <Handling> & \"more\""}};
static struct wsc_catalog cat;

static const char hostile[] = "<script>alert(\"x\")</script>\x00\x01\x1b[2J'&\xff\xfe\xc0\xaf"
                              "]]><!--\r\n\"\\";

static void build_catalog(void)
{
	static const char *ids[6] = {"1.1.1", "1.1.2", "7.1.1", "10.1.1", "2.1", "7.13.1"};
	memset(cases, 0, sizeof(cases));
	for (int i = 0; i < 6; i++) {
		struct wsc_case *c = &cases[i];
		c->id = ids[i];
		c->title = i == 1 ? "Text with <b>markup</b> & \"quotes\"" : "A case title";
		c->rfc = "5.6";
		c->level = WSC_LEVEL_MUST;
		c->side = WSC_SIDE_SERVER | WSC_SIDE_CLIENT;
		c->desc = "Send <text> & expect an echo.";
		c->expectation = "Echo \"Hello\".";
		c->file = "x.wsc";
		c->line = 10 + i;
		c->alts = alts[i];
		c->n_alts = 1;
		alts[i][0].verdict = WSC_V_OK;
		alts[i][0].events = evs[i];
		alts[i][0].n_events = 1;
		evs[i][0].kind = WSC_EV_TEXT;
		evs[i][0].data.p = (uint8_t *)"Hello";
		evs[i][0].data.n = 5;
	}
	/* 1.1.2: OK or NON-STRICT */
	cases[1].n_alts = 2;
	alts[1][1].verdict = WSC_V_NON_STRICT;
	alts[1][1].events = NULL;
	alts[1][1].n_events = 0;
	/* 7.1.1: the peer must close with 1002, fatal */
	cases[2].close.set = true;
	cases[2].close.closed_by_me = false;
	cases[2].close.codes[0] = 1002;
	cases[2].close.n_codes = 1;
	cases[2].close.fatal_endpoint = true;
	/* 10.1.1: an extension offer */
	static const char *offers[] = {"permessage-deflate"};
	cases[3].hs.offers = offers;
	cases[3].hs.n_offers = 1;
	cases[5].informational = true;
	memset(&cat, 0, sizeof(cat));
	cat.cases = cases;
	cat.n_cases = 6;
	cat.categories = cats;
	cat.n_categories = 2;
}

/* One result, judged. Variant v shapes what the peer did. */
static void add_result(struct wsc_run *run, const char *agent, int ci, int v, size_t pos)
{
	struct wsc_result r;
	wsc_result_init(&r, &cases[ci], agent, pos, false);
	struct wsc_observation *o = &r.obs;
	o->connected = true;
	o->handshake_done = true;
	o->http_status = 101;
	o->http_request = strdup("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
	o->http_response = malloc(200);
	snprintf(o->http_response, 200, "HTTP/1.1 101 Switching Protocols\r\nX-Evil: %s\r\n\r\n",
	         "<img src=x>\x1b[31m");
	o->started_unix_ms = 1700000000123ull + (uint64_t)pos * 1000;
	o->duration_ms = 10 + (uint32_t)ci;
	o->closed_by_me = true;
	o->was_clean = true;
	o->local_close_code = 1000;
	o->remote_close_code = 1000;
	uint8_t big[300];
	memset(big, 'Z', sizeof(big));
	ASSERT_EQ(wsc_obs_wire_octets(o, true, B("GET / HTTP/1.1\r\n"), 16, 5), 0);
	ASSERT_EQ(wsc_obs_wire_octets(o, false, (const uint8_t *)hostile, sizeof(hostile) - 1, 90),
	          0);
	static const uint8_t mask[4] = {0xde, 0xad, 0xbe, 0xef};
	ASSERT_EQ(wsc_obs_wire_frame(o, true, 1, 0, true, true, mask, big, sizeof(big), 100), 0);
	ASSERT_EQ(wsc_obs_wire_frame(o, false, 1, 0, true, false, NULL, (const uint8_t *)hostile,
	                             sizeof(hostile) - 1, 1500),
	          0);
	ASSERT_EQ(wsc_obs_note(o, 2000, "TCP DROPPED BY PEER %s", "<b>\x1b"), 0);
	switch (v) {
	case 0: /* perfect echo */
		ASSERT_EQ(wsc_obs_add_event(o, WSC_EV_TEXT, B("Hello"), 5, 1000), 0);
		break;
	case 1: /* hostile echo */
		ASSERT_EQ(wsc_obs_add_event(o, WSC_EV_TEXT, (const uint8_t *)hostile,
		                            sizeof(hostile) - 1, 1000),
		          0);
		ASSERT_EQ(wsc_obs_add_event(o, WSC_EV_BINARY, big, sizeof(big), 1100), 0);
		ASSERT_EQ(wsc_obs_add_event(o, WSC_EV_TEXT, B("\0\x1b[2J<script>\"]]>\x7f"), 18,
		                            1200),
		          0);
		o->remote_close_code = 1002;
		o->remote_close_reason = malloc(sizeof(hostile) - 1);
		memcpy(o->remote_close_reason, hostile, sizeof(hostile) - 1);
		o->remote_close_reason_len = sizeof(hostile) - 1;
		o->was_clean = false;
		o->was_not_clean_reason = strdup(hostile);
		o->protocol_violation = strdup("masked frame from server \"]]>\x01");
		break;
	case 2: /* nothing echoed: NON-STRICT where allowed */
		break;
	case 3: /* not run */
		r.ran = false;
		o->handshake_error = strdup("connection refused <x>");
		break;
	}
	if (ci == 3 && v == 0) {
		free(o->http_response);
		o->http_response = strdup("HTTP/1.1 101 Switching Protocols\r\n\r\n");
		/* what the VM records when `require-extension` is not met */
		o->extension_missing =
		        strdup("permessage-deflate was offered but the peer did not accept it");
	}
	wsc_judge(&r, WSC_PROFILE_RFC);
	ASSERT_EQ(wsc_run_add(run, &r), 0);
	wsc_result_free(&r);
}

static void build_run(struct wsc_run *run)
{
	memset(run, 0, sizeof(*run));
	run->cat = &cat;
	run->profile = WSC_PROFILE_RFC;
	run->tool_version = "0.1.0-test";
	run->started_unix_ms = 1700000000000ull;
	run->duration_ms = 12345;
	run->target_crashed = true;
	run->target_crash_text = strdup("AddressSanitizer: heap-use-after-free <script>\x1b[0m");
	static const char *agent_a = "Hostile/1.0 <script>\"'&\xff";
	static const char *agent_b = "Good Agent";
	/* Agent A, in an order that is not sorted, with hostile events. */
	add_result(run, agent_a, 3, 0, 4); /* 10.1.1: UNIMPLEMENTED */
	add_result(run, agent_a, 0, 1, 1); /* 1.1.1: FAILED (hostile echo) */
	add_result(run, agent_a, 1, 2, 2); /* 1.1.2: NON-STRICT */
	add_result(run, agent_a, 2, 0, 3); /* 7.1.1: we closed: FAILED, fatal */
	add_result(run, agent_a, 4, 3, 5); /* 2.1: not run */
	add_result(run, agent_a, 5, 1, 6); /* 7.13.1: INFORMATIONAL */
	/* Agent B: passes what it runs; 7.1.1 and 2.1 missing. */
	add_result(run, agent_b, 0, 0, 1);
	add_result(run, agent_b, 1, 0, 2);
}

static void test_judged_run_is_what_the_report_tests_expect(void)
{
	struct wsc_run run;
	build_run(&run);
	ASSERT_EQ(run.n_results, 8);
	ASSERT_EQ(run.results[0].behavior, WSC_V_UNIMPLEMENTED);
	ASSERT_EQ(run.results[1].behavior, WSC_V_FAILED);
	ASSERT_EQ(run.results[2].behavior, WSC_V_NON_STRICT);
	ASSERT_EQ(run.results[3].behavior, WSC_V_FAILED);
	ASSERT_EQ(run.results[3].behavior_close, WSC_CV_FAILED);
	ASSERT(!run.results[4].ran);
	ASSERT_EQ(run.results[5].behavior, WSC_V_INFORMATIONAL);
	ASSERT_EQ(run.results[6].behavior, WSC_V_OK);
	ASSERT_EQ(run.results[6].behavior_close, WSC_CV_OK);
	wsc_run_free(&run);
}

static const char py_check[] =
        "import json, sys, os, re, xml.dom.minidom\n"
        "d = sys.argv[1]\n"
        "bad = []\n"
        "def pairs_sorted(p):\n"
        "    ks = [k for k, _ in p]\n"
        "    if ks != sorted(ks): bad.append('unsorted keys %r' % ks)\n"
        "    return dict(p)\n"
        "for f in sorted(os.listdir(d)):\n"
        "    raw = open(os.path.join(d, f), 'rb').read()\n"
        "    try: raw.decode('utf-8')\n"
        "    except Exception as e: bad.append('%s: not UTF-8: %s' % (f, e))\n"
        "idx = json.load(open(os.path.join(d, 'index.json')), object_pairs_hook=pairs_sorted)\n"
        "lines = open(os.path.join(d, 'index.json')).read().split('\\n')\n"
        "if not lines[1].startswith('   \"') or lines[1].startswith('    '): bad.append('indent')\n"
        "n_files = 0\n"
        "for agent, cs in idx.items():\n"
        "    for cid, e in cs.items():\n"
        "        if sorted(e) != ['behavior', 'behaviorClose', 'duration', 'remoteCloseCode', "
        "'reportfile']: bad.append('index keys %r' % sorted(e))\n"
        "        if not re.match(r'^[a-z0-9_]*_case_[0-9_]+\\.json$', e['reportfile']): "
        "bad.append('name ' + e['reportfile'])\n"
        "        pc = json.load(open(os.path.join(d, e['reportfile'])), "
        "object_pairs_hook=pairs_sorted)\n"
        "        n_files += 1\n"
        "        if len(pc) != 39: bad.append('%d keys' % len(pc))\n"
        "        if pc['id'] != cid or pc['agent'] != agent: bad.append('id/agent')\n"
        "        if pc['behavior'] != e['behavior']: bad.append('behavior')\n"
        "        if not re.match(r'^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z$', "
        "pc['started']): bad.append('started ' + pc['started'])\n"
        "        for ev in pc['received']:\n"
        "            if ev[0] in ('message', 'pong') and len(ev[1]) > 64 + 4 and "
        "not ev[1].startswith('0x'): bad.append('payload not cut')\n"
        "        for w in pc['wirelog']:\n"
        "            if w[0] not in ('RO', 'TO', 'RF', 'TF', 'NT'): bad.append('wire ' + w[0])\n"
        "exp = [int(x) for x in sys.argv[2:7]]\n"
        "if n_files != exp[0]: bad.append('files %d' % n_files)\n"
        "rep = json.load(open(os.path.join(d, 'report.json')))\n"
        "if rep['schema'] != 'wsconform-report/1': bad.append('schema')\n"
        "s = rep['summary']\n"
        "if [s['total'], s['passed'], s['failed'], s['skipped']] != exp[1:]: "
        "bad.append('summary %r' % s)\n"
        "doc = xml.dom.minidom.parse(os.path.join(d, 'junit.xml'))\n"
        "suites = doc.getElementsByTagName('testsuite')\n"
        "total = 0\n"
        "for su in suites:\n"
        "    for a in ('name', 'tests', 'failures', 'errors', 'skipped', 'time'):\n"
        "        if not su.hasAttribute(a): bad.append('suite attr ' + a)\n"
        "    tcs = su.getElementsByTagName('testcase')\n"
        "    total += len(tcs)\n"
        "    if int(su.getAttribute('tests')) != len(tcs): bad.append('tests count')\n"
        "    nf = sum(len(t.getElementsByTagName('failure')) for t in tcs)\n"
        "    ne = sum(len(t.getElementsByTagName('error')) for t in tcs)\n"
        "    ns = sum(len(t.getElementsByTagName('skipped')) for t in tcs)\n"
        "    if (nf, ne, ns) != (int(su.getAttribute('failures')), int(su.getAttribute('errors')), "
        "int(su.getAttribute('skipped'))): bad.append('suite counts ' + su.getAttribute('name'))\n"
        "    for t in tcs:\n"
        "        for a in ('name', 'classname', 'time'):\n"
        "            if not t.getAttribute(a): bad.append('testcase attr ' + a)\n"
        "root = doc.documentElement\n"
        "if int(root.getAttribute('tests')) != total: bad.append('root tests')\n"
        "names = [su.getAttribute('name') for su in suites]\n"
        "if names[:2] != ['1 Framing', '2 Misc']: bad.append('suite names %r' % names)\n"
        "h = open(os.path.join(d, 'index.html'), encoding='utf-8').read()\n"
        "if h.count('<script') != 1: bad.append('script tags %d' % h.count('<script'))\n"
        "for needle in ('@import', 'url(', '<img', '<link', '<b>markup'):\n"
        "    if needle in h: bad.append('html contains ' + needle)\n"
        "if '&lt;script&gt;alert' not in h: bad.append('escaped payload missing')\n"
        "if '\\x1b' in h or '\\x00' in h: bad.append('raw control char in html')\n"
        "import html.parser\n"
        "class P(html.parser.HTMLParser):\n"
        "    def __init__(s):\n"
        "        super().__init__(); s.stack = []\n"
        "    def handle_starttag(s, t, a):\n"
        "        if t in ('img', 'link', 'iframe', 'object', 'embed', 'b', 'base'): "
        "bad.append('tag ' + t)\n"
        "        for k, v in a:\n"
        "            if k in ('src', 'href', 'srcset', 'action') or k.startswith('on'): "
        "bad.append('attr ' + k)\n"
        "        if t not in ('meta', 'br', 'input'): s.stack.append(t)\n"
        "    def handle_endtag(s, t):\n"
        "        if not s.stack or s.stack[-1] != t: bad.append('html nesting at ' + t)\n"
        "        else: s.stack.pop()\n"
        "p = P(); p.feed(h)\n"
        "if p.stack: bad.append('unclosed %r' % p.stack)\n"
        "md = open(os.path.join(d, 'summary.md'), encoding='utf-8').read()\n"
        "if '<script' in md or '<b>' in md: bad.append('markup in md')\n"
        "for b in bad[:20]: print('  check: ' + b)\n"
        "sys.exit(1 if bad else 0)\n";

static int emit_all(const struct wsc_run *run, const char *dir)
{
	char err[512], path[1024];
	int rc = 0;
	if (wsc_report_json(run, dir, err, sizeof(err)) < 0) {
		fprintf(stderr, "json: %s\n", err);
		rc = -1;
	}
	if (wsc_report_html(run, dir, err, sizeof(err)) < 0) {
		fprintf(stderr, "html: %s\n", err);
		rc = -1;
	}
	snprintf(path, sizeof(path), "%s/junit.xml", dir);
	if (wsc_report_junit(run, path, err, sizeof(err)) < 0) {
		fprintf(stderr, "junit: %s\n", err);
		rc = -1;
	}
	snprintf(path, sizeof(path), "%s/summary.md", dir);
	if (wsc_report_markdown(run, path, err, sizeof(err)) < 0) {
		fprintf(stderr, "md: %s\n", err);
		rc = -1;
	}
	snprintf(path, sizeof(path), "%s/summary.txt", dir);
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	wsc_report_text(run, f, false);
	fclose(f);
	return rc;
}

static void rm_tree(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	char p[1024];
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(dir);
}

static void test_emitters_on_hostile_run(void)
{
	struct wsc_run run;
	build_run(&run);
	char d1[] = "/tmp/wsc-report-XXXXXX", d2[] = "/tmp/wsc-report-XXXXXX";
	ASSERT(mkdtemp(d1) != NULL);
	ASSERT(mkdtemp(d2) != NULL);
	ASSERT_EQ(emit_all(&run, d1), 0);
	ASSERT_EQ(emit_all(&run, d2), 0);

	/* Byte-identical across runs, and every file valid UTF-8. */
	DIR *d = opendir(d1);
	ASSERT(d != NULL);
	size_t files = 0;
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char p1[1024], p2[1024];
		snprintf(p1, sizeof(p1), "%s/%s", d1, e->d_name);
		snprintf(p2, sizeof(p2), "%s/%s", d2, e->d_name);
		size_t l1 = 0, l2 = 0;
		char *a = slurp(p1, &l1), *b = slurp(p2, &l2);
		ASSERT(a && b);
		if (a && b) {
			ASSERT_MEMEQ(a, l1, b, l2);
			ASSERT(wsc_out_utf8_valid((const uint8_t *)a, l1));
			ASSERT(memchr(a, 0x1b, l1) == NULL); /* no raw ESC anywhere */
			ASSERT(memchr(a, 0, l1) == NULL);
		}
		free(a);
		free(b);
		files++;
	}
	if (d)
		closedir(d);
	/* index.json report.json index.html junit.xml summary.md summary.txt + 8 case files */
	ASSERT_EQ(files, 6 + 8);

	/* Text summary: one line per failure and the summary line. */
	char p[1024];
	size_t tl = 0;
	snprintf(p, sizeof(p), "%s/summary.txt", d1);
	char *txt = slurp(p, &tl);
	ASSERT(txt != NULL);
	if (txt) {
		ASSERT(strstr(txt,
		              "FAIL 1.1.1 [Hostile/1.0 <script>\"'&\xef\xbf\xbd] expected OK: "
		              "[text \"Hello\"] / got: [text \"<script>alert(\\\"x\\\")</script>"
		              "\\x00\\x01\\x1b[2J") != NULL ||
		       strstr(txt, "FAIL 1.1.1 [Hostile/1.0 <script>\"'&\xef\xbf\xbd] expected OK: "
		                   "[text \"Hello\"] / got: [text 0x") != NULL);
		ASSERT(strstr(txt, "text \"\\x00\\x1b[2J<script>\\\"]]>\\x7f\"]") != NULL);
		ASSERT(strstr(txt, "FAIL 7.1.1 [") != NULL);
		ASSERT(strstr(txt, "FAIL 2.1 [") != NULL);
		ASSERT(strstr(txt, "FAIL 1.1.2") == NULL); /* NON-STRICT passes (not strict) */
		ASSERT(strstr(txt, "TARGET CRASHED AddressSanitizer") != NULL);
		ASSERT(strstr(txt, "wsconform: 4 passed, 3 failed, 1 skipped in 12.34 s\n") !=
		       NULL);
		ASSERT(strstr(txt, "1 Framing") != NULL);
		ASSERT(strstr(txt, "2 Misc") != NULL);
	}
	free(txt);

	/* Strict: the NON-STRICT case fails. */
	run.strict = true;
	FILE *mf;
	char *mem = NULL;
	size_t ml = 0;
	mf = open_memstream(&mem, &ml);
	wsc_report_text(&run, mf, true);
	fclose(mf);
	ASSERT(strstr(mem, "wsconform: 3 passed, 4 failed, 1 skipped in 12.34 s") != NULL);
	ASSERT(strstr(mem, "\033[31mFAIL\033[0m 1.1.2") != NULL);
	free(mem);
	run.strict = false;

	/* Structure and validity with real parsers. */
	if (access("/usr/bin/python3", X_OK) == 0) {
		char sp[1100];
		snprintf(sp, sizeof(sp), "%s/../wsc-check-%d.py", d1, (int)getpid());
		FILE *f = fopen(sp, "w");
		ASSERT(f != NULL);
		if (f) {
			fputs(py_check, f);
			fclose(f);
			char cmd[2400];
			snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s %s 8 8 4 3 1", sp, d1);
			ASSERT_EQ(system(cmd), 0);
			unlink(sp);
		}
	} else {
		fprintf(stderr,
		        "report: /usr/bin/python3 missing, JSON/XML parse checks skipped\n");
	}
	if (getenv("WSC_REPORT_KEEP"))
		fprintf(stderr, "report: kept %s\n", d1); /* for eyeballing the output */
	else
		rm_tree(d1);
	rm_tree(d2);
	wsc_run_free(&run);
}

static void test_empty_run_still_writes_valid_files(void)
{
	struct wsc_run run;
	memset(&run, 0, sizeof(run));
	run.tool_version = "t";
	char d1[] = "/tmp/wsc-report-XXXXXX";
	ASSERT(mkdtemp(d1) != NULL);
	char err[256], p[1024];
	ASSERT_EQ(wsc_report_json(&run, d1, err, sizeof(err)), 0);
	ASSERT_EQ(wsc_report_html(&run, d1, err, sizeof(err)), 0);
	snprintf(p, sizeof(p), "%s/junit.xml", d1);
	ASSERT_EQ(wsc_report_junit(&run, p, err, sizeof(err)), 0);
	snprintf(p, sizeof(p), "%s/index.json", d1);
	size_t l = 0;
	char *s = slurp(p, &l);
	ASSERT(s && strcmp(s, "{}") == 0);
	free(s);
	/* An unwritable destination is an error with a message, not a crash. */
	ASSERT_EQ(wsc_report_junit(&run, "/nonexistent-dir/x/junit.xml", err, sizeof(err)), -1);
	ASSERT(strstr(err, "/nonexistent-dir/x/junit.xml") != NULL);
	rm_tree(d1);
}

int main(void)
{
	build_catalog();
	RUN(test_utf8_sanitizing_replaces_invalid_sequences);
	RUN(test_json_escaping_like_python);
	RUN(test_markup_escaping);
	RUN(test_payload_rendering_cuts_at_64_bytes);
	RUN(test_agent_file_part);
	RUN(test_json_writer_layout);
	RUN(test_judged_run_is_what_the_report_tests_expect);
	RUN(test_emitters_on_hostile_run);
	RUN(test_empty_run_still_writes_valid_files);
	return tu_finish("report");
}
