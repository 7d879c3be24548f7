/*
 * junit.c - JUnit XML: one <testsuite> per category ("N Name"), one
 * <testcase> per result with name "<id> <title>" and classname
 * "wsconform.<agent file part>.<category number>". Failed cases carry a
 * <failure> with the expected / got texts, UNIMPLEMENTED is <skipped/>, a
 * case that could not be tested is an <error>. Counts sit in the attributes
 * of every suite and of <testsuites>.
 */
#include <stdlib.h>
#include <string.h>

#include "emit.h"

static void attr(struct wsc_out *b, const char *name, const char *v)
{
	wsc_out_printf(b, " %s=\"", name);
	if (v)
		wsc_out_xml(b, v, strlen(v), true);
	wsc_out_putc(b, '"');
}

static void put_secs(struct wsc_out *b, const char *name, uint64_t ms)
{
	wsc_out_printf(b, " %s=\"%llu.%03llu\"", name, (unsigned long long)(ms / 1000),
	               (unsigned long long)(ms % 1000));
}

static void text(struct wsc_out *b, const char *s)
{
	if (s)
		wsc_out_xml(b, s, strlen(s), false);
}

static void testcase(struct wsc_out *b, const struct wsc_run *run, const struct wsc_result *r)
{
	const struct wsc_case *c = r->c;
	char part[256], cls[320];
	wsc_agent_file_part(r->agent, part, sizeof(part));
	snprintf(cls, sizeof(cls), "wsconform.%s.%d", part[0] ? part : "agent",
	         wsc_id_category(c->id));
	struct wsc_out name;
	wsc_out_init(&name);
	wsc_out_puts(&name, c->id);
	wsc_out_putc(&name, ' ');
	wsc_out_puts(&name, c->title ? c->title : "");
	if (name.oom)
		b->oom = true;
	wsc_out_puts(b, "    <testcase");
	attr(b, "name", wsc_out_str(&name));
	attr(b, "classname", cls);
	put_secs(b, "time", r->obs.duration_ms);
	wsc_out_free(&name);

	bool skipped = wsc_result_skipped(r);
	bool passed = wsc_result_passed(r, run->strict);
	if (passed) {
		wsc_out_puts(b, "/>\n");
		return;
	}
	wsc_out_puts(b, ">\n");
	if (skipped) {
		wsc_out_puts(b, "      <skipped");
		attr(b, "message", r->result_text ? r->result_text : "UNIMPLEMENTED");
		wsc_out_puts(b, "/>\n");
	} else {
		const char *tag = r->ran ? "failure" : "error";
		/* The message names the verdict that failed, with its expected / got text. */
		bool beh_bad = !(r->behavior == WSC_V_OK || r->behavior == WSC_V_INFORMATIONAL ||
		                 (!run->strict && r->behavior == WSC_V_NON_STRICT));
		struct wsc_out m;
		wsc_out_init(&m);
		if (beh_bad) {
			wsc_out_printf(&m, "behavior %s: ", wsc_verdict_name(r->behavior));
			wsc_out_puts(&m, r->result_text ? r->result_text : "");
		} else {
			wsc_out_printf(&m, "behaviorClose %s: ",
			               wsc_close_verdict_name(r->behavior_close));
			wsc_out_puts(&m, r->result_close_text ? r->result_close_text : "");
		}
		if (m.oom)
			b->oom = true;
		wsc_out_printf(b, "      <%s", tag);
		attr(b, "message", wsc_out_str(&m));
		attr(b, "type",
		     beh_bad ? wsc_verdict_name(r->behavior)
		             : wsc_close_verdict_name(r->behavior_close));
		wsc_out_puts(b, ">");
		wsc_out_free(&m);
		wsc_out_printf(b, "behavior: %s\n", wsc_verdict_name(r->behavior));
		text(b, r->result_text);
		wsc_out_printf(b, "\nbehaviorClose: %s\n",
		               wsc_close_verdict_name(r->behavior_close));
		text(b, r->result_close_text);
		wsc_out_puts(b, "\nRFC ");
		text(b, c->rfc);
		wsc_out_printf(b, " (%s)", wsc_level_name(c->level));
		wsc_out_printf(b, "\n</%s>\n", tag);
	}
	wsc_out_puts(b, "    </testcase>\n");
}

int wsc_report_junit(const struct wsc_run *run, const char *path, char *err, size_t errlen)
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
	size_t errors = 0;
	for (size_t i = 0; i < run->n_results; i++) {
		wsc_count_result(&all, &run->results[i], run->strict);
		if (!run->results[i].ran)
			errors++;
	}
	size_t crash = run->target_crashed ? 1 : 0; /* one extra suite reports the crash */
	wsc_out_puts(&b,
	             "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"wsconform\"");
	wsc_out_printf(&b, " tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\"",
	               all.total + crash, all.failed - errors, errors + crash, all.unimplemented);
	put_secs(&b, "time", run->duration_ms);
	wsc_out_puts(&b, ">\n");

	for (size_t k = 0; k < run->n_results;) {
		int cat = wsc_id_category(run->results[ix[k]].c->id);
		size_t e = k;
		struct wsc_counts cc;
		memset(&cc, 0, sizeof(cc));
		size_t cerr = 0;
		while (e < run->n_results && wsc_id_category(run->results[ix[e]].c->id) == cat) {
			wsc_count_result(&cc, &run->results[ix[e]], run->strict);
			if (!run->results[ix[e]].ran)
				cerr++;
			e++;
		}
		char sname[256];
		snprintf(sname, sizeof(sname), "%d %s", cat,
		         run->cat ? wsc_category_name(run->cat, run->results[ix[k]].c->id)
		                  : "Misc");
		wsc_out_puts(&b, "  <testsuite");
		attr(&b, "name", sname);
		wsc_out_printf(&b, " tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\"",
		               cc.total, cc.failed - cerr, cerr, cc.unimplemented);
		put_secs(&b, "time", cc.duration_ms);
		wsc_out_puts(&b, ">\n");
		for (size_t i = k; i < e; i++)
			testcase(&b, run, &run->results[ix[i]]);
		wsc_out_puts(&b, "  </testsuite>\n");
		k = e;
	}
	if (crash) {
		wsc_out_puts(&b,
		             "  <testsuite name=\"target\" tests=\"1\" failures=\"0\" "
		             "errors=\"1\" skipped=\"0\" time=\"0.000\">\n"
		             "    <testcase name=\"target process\" classname=\"wsconform.target\" "
		             "time=\"0.000\">\n      <error message=\"the target crashed\" "
		             "type=\"crash\">");
		text(&b, run->target_crash_text ? run->target_crash_text : "(no detail)");
		wsc_out_puts(&b, "</error>\n    </testcase>\n  </testsuite>\n");
	}
	wsc_out_puts(&b, "</testsuites>\n");
	free(ix);
	int rc = wsc_out_write_file(&b, path, err, errlen);
	wsc_out_free(&b);
	return rc;
}
