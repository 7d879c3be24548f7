/*
 * fuzz_caselang.c - the case-file parser (harness/caselang.c) on hostile text.
 *
 * Input: byte 0 picks the profile (rfc, autobahn, hardened), the rest is the
 * text of one .wsc file, held in an exact-size heap copy so an over-read
 * faults under ASan. `expand` resolves against the built-in tables only (no
 * file system access). Oracles:
 *   - no crash, no leak, no sanitizer report;
 *   - a failure fills a "t.wsc:L:C: message" (or a built-in table's) diag and
 *     leaves the catalog empty;
 *   - a success yields naturally sorted, unique IDs, every case with title,
 *     rfc, desc and expectation set, steps and events in range, and every
 *     case findable by ID;
 *   - loading the same text again into the same catalog fails (duplicate ID
 *     or template) when the first load produced anything, and the failed
 *     load leaves the catalog exactly as it was.
 *
 * Build: linked with the harness core library (libwsc_core), not libwsref.
 */
#include "case.h"
#include "fuzz_common.h"

static void fail(const char *why)
{
	fprintf(stderr, "fuzz_caselang: oracle failed: %s\n", why);
	abort();
}

static void check_catalog(const struct wsc_catalog *cat)
{
	for (size_t i = 0; i < cat->n_cases; i++) {
		const struct wsc_case *c = &cat->cases[i];
		if (!c->id || !c->title || !c->rfc || !c->desc || !c->expectation || !c->file)
			fail("a case field is NULL");
		if (i && wsc_id_cmp(cat->cases[i - 1].id, c->id) >= 0)
			fail("cases not sorted or IDs not unique");
		if (wsc_catalog_find(cat, c->id) != c)
			fail("wsc_catalog_find does not find a loaded case");
		if (c->n_alts == 0 || c->n_alts > 3 || c->timeout_ms == 0)
			fail("alternatives or timeout out of range");
		for (size_t s = 0; s < c->n_steps; s++) {
			const struct wsc_step *st = &c->steps[s];
			if (st->kind == WSC_STEP_SEND &&
			    (st->u.send.opcode > 15 || st->u.send.rsv > 7 ||
			     (st->u.send.payload.n && !st->u.send.payload.p)))
				fail("send step out of range");
			if (st->kind == WSC_STEP_WAIT && strlen(st->u.wait.mark) > 15)
				fail("wait mark too long");
		}
		for (size_t a = 0; a < c->n_alts; a++)
			for (size_t e = 0; e < c->alts[a].n_events; e++)
				if (c->alts[a].events[e].data.n && !c->alts[a].events[e].data.p)
					fail("event without bytes");
		if (c->close.n_codes > 16 || c->hs.n_expect_status > 8)
			fail("code lists too long");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	enum wsc_profile prof = (enum wsc_profile)(data[0] % 3);
	size_t n = size - 1;
	char *text = malloc(n ? n : 1);
	if (!text)
		return 0;
	if (n)
		memcpy(text, data + 1, n);

	struct wsc_catalog cat;
	struct wsc_diag diag;
	wsc_catalog_init(&cat, prof);
	if (wsc_catalog_load_text(&cat, "t.wsc", text, n, &diag) != 0) {
		if (diag.msg[0] == '\0' || !strchr(diag.msg, ':'))
			fail("failure without a file:line:col message");
		if (cat.n_cases != 0 || cat.n_categories != 0)
			fail("a failed load left cases behind");
	} else {
		check_catalog(&cat);
		size_t n_cases = cat.n_cases, n_cats = cat.n_categories;
		int again = wsc_catalog_load_text(&cat, "t.wsc", text, n, &diag);
		if (n_cases && again == 0)
			fail("loading the same cases twice succeeded");
		if (again != 0 && (cat.n_cases != n_cases || cat.n_categories != n_cats))
			fail("a failed load changed the catalog");
		check_catalog(&cat);
	}
	wsc_catalog_free(&cat);
	free(text);
	return 0;
}
