/*
 * text.c - terminal output: one line per failed case, a per-category timing
 * table, and one summary line. Peer text is sanitized for the terminal
 * (controls, ESC included, are shown as \xNN), so a peer cannot drive the
 * user's terminal.
 */
#include <stdlib.h>
#include <string.h>

#include "emit.h"

#define TEXT_MAX 500 /* bytes of an expected / got text per line */

static void term(struct wsc_out *b, const char *s)
{
	if (!s)
		return;
	size_t n = strlen(s);
	bool cut = n > TEXT_MAX;
	if (cut) {
		n = TEXT_MAX;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	wsc_out_term(b, s, n);
	if (cut)
		wsc_out_puts(b, " ...");
}

void wsc_report_text(const struct wsc_run *run, FILE *out, bool color)
{
	size_t *ix = wsc_sort_by_id_natural(run);
	if (!ix) {
		fprintf(out, "wsconform: out of memory while writing the summary\n");
		return;
	}
	const char *red = color ? "\033[31m" : "", *bold = color ? "\033[1m" : "",
	           *off = color ? "\033[0m" : "";
	struct wsc_out b;
	wsc_out_init(&b);
	struct wsc_counts all;
	memset(&all, 0, sizeof(all));
	for (size_t k = 0; k < run->n_results; k++) {
		const struct wsc_result *r = &run->results[ix[k]];
		wsc_count_result(&all, r, run->strict);
		if (wsc_result_passed(r, run->strict) || wsc_result_skipped(r))
			continue;
		wsc_out_printf(&b, "%sFAIL%s ", red, off);
		term(&b, r->c->id);
		wsc_out_puts(&b, " [");
		term(&b, r->agent);
		wsc_out_puts(&b, "] ");
		bool beh_bad = !(r->behavior == WSC_V_OK || r->behavior == WSC_V_INFORMATIONAL ||
		                 (!run->strict && r->behavior == WSC_V_NON_STRICT));
		bool close_bad = !(r->behavior_close == WSC_CV_OK ||
		                   r->behavior_close == WSC_CV_INFORMATIONAL);
		if (beh_bad)
			term(&b, r->result_text);
		if (close_bad && r->ran) {
			if (beh_bad)
				wsc_out_puts(&b, "; ");
			wsc_out_printf(&b, "close %s: ", wsc_close_verdict_name(r->behavior_close));
			term(&b, r->result_close_text);
		}
		wsc_out_putc(&b, '\n');
	}
	if (run->target_crashed) {
		wsc_out_printf(&b, "%sTARGET CRASHED%s ", red, off);
		term(&b, run->target_crash_text ? run->target_crash_text : "(no detail)");
		wsc_out_putc(&b, '\n');
	}
	if (run->n_results) {
		wsc_out_printf(&b, "%-40s %6s %6s %7s %10s\n", "category", "cases", "failed",
		               "skipped", "case ms");
		for (size_t k = 0; k < run->n_results;) {
			const char *id = run->results[ix[k]].c->id;
			int cat = wsc_id_category(id);
			struct wsc_counts cc;
			memset(&cc, 0, sizeof(cc));
			size_t e = k;
			while (e < run->n_results &&
			       wsc_id_category(run->results[ix[e]].c->id) == cat)
				wsc_count_result(&cc, &run->results[ix[e++]], run->strict);
			char name[64];
			snprintf(name, sizeof(name), "%d %s", cat,
			         run->cat ? wsc_category_name(run->cat, id) : "Misc");
			struct wsc_out nb;
			wsc_out_init(&nb);
			term(&nb, name);
			wsc_out_printf(&b, "%-40s %6zu %6zu %7zu %10llu\n", wsc_out_str(&nb),
			               cc.total, cc.failed, cc.unimplemented,
			               (unsigned long long)cc.duration_ms);
			wsc_out_free(&nb);
			k = e;
		}
	}
	if (run->round_trip_cap)
		wsc_out_printf(&b,
		               "quick run: at most %u messages per round trip (--round-trips), "
		               "not Autobahn's volume\n",
		               run->round_trip_cap);
	wsc_out_printf(&b, "%swsconform: %zu passed, %zu failed, %zu skipped in %u.%02u s%s\n",
	               bold, all.passed, all.failed, all.unimplemented,
	               (unsigned)(run->duration_ms / 1000),
	               (unsigned)(run->duration_ms % 1000 / 10), off);
	free(ix);
	if (b.oom)
		fprintf(out, "wsconform: out of memory while writing the summary\n");
	else
		fwrite(b.p, 1, b.len, out);
	wsc_out_free(&b);
}
