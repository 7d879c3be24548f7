/*
 * markdown.c - a short Markdown summary for $GITHUB_STEP_SUMMARY: one line
 * of totals, a table per category, and the failures (at most
 * MD_MAX_FAILURES, so the summary stays well under GitHub's 1 MiB limit).
 * Peer-controlled text is HTML-escaped and Markdown punctuation is
 * backslashed (GitHub renders inline HTML).
 */
#include <stdlib.h>
#include <string.h>

#include "emit.h"

#define MD_MAX_FAILURES 200
#define MD_TEXT_MAX     400 /* bytes of an expected / got text shown */

static void md(struct wsc_out *b, const char *s)
{
	if (!s)
		return;
	size_t n = strlen(s);
	if (n > MD_TEXT_MAX) {
		/* Cut on a character boundary so the cut never makes a U+FFFD. */
		n = MD_TEXT_MAX;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
		wsc_out_md(b, s, n);
		wsc_out_puts(b, " ...");
		return;
	}
	wsc_out_md(b, s, n);
}

int wsc_report_markdown(const struct wsc_run *run, const char *path, char *err, size_t errlen)
{
	size_t *ix = wsc_sort_by_id_natural(run);
	if (!ix) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	struct wsc_out b;
	wsc_out_init(&b);
	struct wsc_counts all;
	memset(&all, 0, sizeof(all));
	for (size_t i = 0; i < run->n_results; i++)
		wsc_count_result(&all, &run->results[i], run->strict);

	wsc_out_puts(&b, "## wsconform\n\n");
	wsc_out_printf(
	        &b, "**%zu passed, %zu failed, %zu skipped** of %zu (profile %s%s, %u.%02u s)",
	        all.passed, all.failed, all.unimplemented, all.total,
	        wsc_profile_label(run->profile), run->strict ? ", strict" : "",
	        (unsigned)(run->duration_ms / 1000), (unsigned)(run->duration_ms % 1000 / 10));
	if (run->round_trip_cap)
		wsc_out_printf(&b,
		               " — quick run: at most %u messages per round trip (--round-trips)",
		               run->round_trip_cap);
	wsc_out_puts(&b, "\n\n");
	if (run->target_crashed) {
		wsc_out_puts(&b, "**The target crashed:** ");
		md(&b, run->target_crash_text ? run->target_crash_text : "(no detail)");
		wsc_out_puts(&b, "\n\n");
	}
	wsc_out_puts(&b,
	             "| Category | Cases | Passed | Failed | Non-strict | Informational | Skipped "
	             "|\n|---|---:|---:|---:|---:|---:|---:|\n");
	for (size_t k = 0; k < run->n_results;) {
		const char *id = run->results[ix[k]].c->id;
		int cat = wsc_id_category(id);
		struct wsc_counts cc;
		memset(&cc, 0, sizeof(cc));
		size_t e = k;
		while (e < run->n_results && wsc_id_category(run->results[ix[e]].c->id) == cat)
			wsc_count_result(&cc, &run->results[ix[e++]], run->strict);
		wsc_out_printf(&b, "| %d ", cat);
		md(&b, run->cat ? wsc_category_name(run->cat, id) : "Misc");
		wsc_out_printf(&b, " | %zu | %zu | %zu | %zu | %zu | %zu |\n", cc.total, cc.passed,
		               cc.failed, cc.non_strict, cc.informational, cc.unimplemented);
		k = e;
	}
	if (all.failed) {
		wsc_out_puts(&b, "\n### Failures\n\n");
		size_t shown = 0;
		for (size_t k = 0; k < run->n_results; k++) {
			const struct wsc_result *r = &run->results[ix[k]];
			if (wsc_result_passed(r, run->strict) || wsc_result_skipped(r))
				continue;
			if (shown++ == MD_MAX_FAILURES) {
				wsc_out_printf(&b, "- ... and %zu more (see the full report)\n",
				               all.failed - MD_MAX_FAILURES);
				break;
			}
			wsc_out_puts(&b, "- **");
			md(&b, r->c->id);
			wsc_out_puts(&b, "** \\[");
			md(&b, r->agent);
			wsc_out_puts(&b, "\\] ");
			md(&b, r->c->title);
			wsc_out_puts(&b, " (RFC ");
			md(&b, r->c->rfc);
			wsc_out_printf(&b, ", %s): behavior %s, behaviorClose %s  \n  ",
			               wsc_level_name(r->c->level), wsc_verdict_name(r->behavior),
			               wsc_close_verdict_name(r->behavior_close));
			md(&b, r->result_text);
			if (r->ran && r->behavior_close != WSC_CV_OK &&
			    r->behavior_close != WSC_CV_INFORMATIONAL) {
				wsc_out_puts(&b, "; close: ");
				md(&b, r->result_close_text);
			}
			wsc_out_puts(&b, "\n");
		}
	}
	free(ix);
	int rc = wsc_out_write_file(&b, path, err, errlen);
	wsc_out_free(&b);
	return rc;
}
