/*
 * test_select.c - natural ID order and Autobahn-style case selection
 * (harness/select.c).
 */
#include <stdlib.h>
#include <string.h>

#include "case.h"
#include "testutil.h"

static void test_id_cmp_natural_order(void)
{
	ASSERT(wsc_id_cmp("1.1.2", "1.1.10") < 0);
	ASSERT(wsc_id_cmp("1.1.10", "1.1.2") > 0);
	ASSERT(wsc_id_cmp("2.1", "10.1.1") < 0);
	ASSERT(wsc_id_cmp("1.1", "1.1.1") < 0);
	ASSERT(wsc_id_cmp("1.1.1", "1.1") > 0);
	ASSERT_EQ(wsc_id_cmp("6.10.3", "6.10.3"), 0);
	ASSERT(wsc_id_cmp("9.9.9", "10.1.1") < 0);
	ASSERT(wsc_id_cmp("100.2.13", "100.10.1") < 0);
	ASSERT(wsc_id_cmp("12.1.1", "12.1.18") < 0);
	ASSERT(wsc_id_cmp("007.1", "7.2") < 0); /* leading zeros compare by value */
	ASSERT(wsc_id_cmp("99999999999999999999.1", "100000000000000000000.1") < 0);
	ASSERT(wsc_id_cmp("", "1") < 0);
	ASSERT_EQ(wsc_id_cmp("", ""), 0);
}

static struct wsc_catalog cat;

static void build(void)
{
	static const char *ids[] = {"1.1.1",  "1.1.2", "1.2.1", "6.1.1",  "6.1.2",  "6.10.1",
	                            "6.10.2", "6.2.1", "7.1.1", "16.1.1", "100.1.1"};
	char text[8192];
	size_t n = 0;
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
		                      "case %s\n title \"t\"\n rfc 1\n side %s\nend\n", ids[i],
		                      strcmp(ids[i], "100.1.1") == 0 ? "server"
		                      : strcmp(ids[i], "7.1.1") == 0 ? "client"
		                                                     : "both");
	struct wsc_diag d;
	wsc_catalog_init(&cat, WSC_PROFILE_RFC);
	ASSERT_EQ(wsc_catalog_load_text(&cat, "s.wsc", text, n, &d), 0);
	ASSERT_EQ(cat.n_cases, 11);
}

/* Select and render the chosen IDs as "a b c", or "ERR: message". */
static const char *sel(const char *inc, const char *exc, unsigned side)
{
	static char out[1024];
	const char *il[1] = {inc}, *el[1] = {exc};
	size_t *idx = NULL, n = 0;
	char err[128];
	int rc = wsc_select(&cat, il, inc ? 1 : 0, el, exc ? 1 : 0, side, &idx, &n, err,
	                    sizeof(err));
	if (rc != 0) {
		ASSERT(idx == NULL);
		ASSERT_EQ(n, 0);
		snprintf(out, sizeof(out), "ERR: %s", err);
		return out;
	}
	size_t len = 0;
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		ASSERT(idx[i] < cat.n_cases);
		if (i)
			ASSERT(idx[i - 1] < idx[i]);
		len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%s", i ? " " : "",
		                        cat.cases[idx[i]].id);
	}
	free(idx);
	return out;
}

static void test_glob_is_anchored_at_start_only(void)
{
	ASSERT_STREQ(sel("6.1*", NULL, 0), "6.1.1 6.1.2 6.10.1 6.10.2");
	ASSERT_STREQ(sel("6.1.*", NULL, 0), "6.1.1 6.1.2");
	ASSERT_STREQ(sel("1*", NULL, 0), "1.1.1 1.1.2 1.2.1 16.1.1 100.1.1");
	ASSERT_STREQ(sel("*.1.1", NULL, 0), "1.1.1 6.1.1 7.1.1 16.1.1 100.1.1");
	ASSERT_STREQ(sel("6.*.2", NULL, 0), "6.1.2 6.10.2");
	ASSERT_STREQ(sel("*", NULL, 0),
	             "1.1.1 1.1.2 1.2.1 6.1.1 6.1.2 6.2.1 6.10.1 6.10.2 7.1.1 16.1.1 100.1.1");
	/* `.` is literal: "6x1*" is no regex. */
	ASSERT_STREQ(sel("6x1*", NULL, 0), "ERR: no case selected");
}

static void test_exact_ids(void)
{
	ASSERT_STREQ(sel("6.10.1", NULL, 0), "6.10.1");
	ASSERT_STREQ(sel("9.99.1", NULL, 0), "ERR: unknown case ID 9.99.1");
	ASSERT_STREQ(sel("6.1", NULL, 0), "ERR: unknown case ID 6.1"); /* no implicit prefix */
	ASSERT_STREQ(sel(NULL, "9.99.1", 0), "ERR: unknown case ID 9.99.1");
}

static void test_lists_and_exclude(void)
{
	ASSERT_STREQ(sel("7.1.1, 1.1.*,6.10.2", NULL, 0), "1.1.1 1.1.2 6.10.2 7.1.1");
	ASSERT_STREQ(sel("1.1.1,1.1.1,1.*", NULL, 0), "1.1.1 1.1.2 1.2.1");
	ASSERT_STREQ(sel("6.*", "6.10*", 0), "6.1.1 6.1.2 6.2.1");
	ASSERT_STREQ(sel("6.*", "6.1.1,6.2.1", 0), "6.1.2 6.10.1 6.10.2");
	ASSERT_STREQ(sel(NULL, "1*,6*", 0), "7.1.1");
	ASSERT_STREQ(sel("", "", 0),
	             "1.1.1 1.1.2 1.2.1 6.1.1 6.1.2 6.2.1 6.10.1 6.10.2 7.1.1 16.1.1 100.1.1");
	ASSERT_STREQ(sel(" , ", NULL, 0),
	             "1.1.1 1.1.2 1.2.1 6.1.1 6.1.2 6.2.1 6.10.1 6.10.2 7.1.1 16.1.1 100.1.1");
	ASSERT_STREQ(sel("6.*", "*", 0), "ERR: no case selected");

	/* Several strings in the include list. */
	const char *il[2] = {"7.1.1", "100.1.1"};
	size_t *idx = NULL, n = 0;
	char err[64];
	ASSERT_EQ(wsc_select(&cat, il, 2, NULL, 0, 0, &idx, &n, err, sizeof(err)), 0);
	ASSERT_EQ(n, 2);
	free(idx);
}

static void test_side_filter(void)
{
	ASSERT_STREQ(sel("*", NULL, WSC_SIDE_CLIENT),
	             "1.1.1 1.1.2 1.2.1 6.1.1 6.1.2 6.2.1 6.10.1 6.10.2 7.1.1 16.1.1");
	ASSERT_STREQ(sel("1*", NULL, WSC_SIDE_SERVER), "1.1.1 1.1.2 1.2.1 16.1.1 100.1.1");
	ASSERT_STREQ(sel("7.1.1", NULL, WSC_SIDE_SERVER), "ERR: no case selected");
}

static void test_empty_catalog(void)
{
	struct wsc_catalog empty;
	wsc_catalog_init(&empty, WSC_PROFILE_RFC);
	size_t *idx = (size_t *)1, n = 5;
	char err[64];
	ASSERT_EQ(wsc_select(&empty, NULL, 0, NULL, 0, 0, &idx, &n, err, sizeof(err)), -1);
	ASSERT_STREQ(err, "no case selected");
	ASSERT(idx == NULL);
	ASSERT_EQ(n, 0);
	wsc_catalog_free(&empty);
}

int main(void)
{
	RUN(test_id_cmp_natural_order);
	RUN(build);
	RUN(test_glob_is_anchored_at_start_only);
	RUN(test_exact_ids);
	RUN(test_lists_and_exclude);
	RUN(test_side_filter);
	RUN(test_empty_catalog);
	wsc_catalog_free(&cat);
	return tu_finish("select");
}
