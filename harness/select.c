/*
 * select.c - natural ID order and case selection (--cases / --exclude).
 *
 * Patterns follow Autobahn|Testsuite: a pattern holding `*` is a glob that
 * must match a prefix of the ID (Autobahn compiles it to an unanchored-end
 * regex `^...`: `.` is literal, `*` is any run), so "6.1*" selects 6.1.1 and
 * 6.10.3 while "6.1.*" does not select 6.10.3. A pattern without `*` is an
 * exact ID and naming one that does not exist is an error: a typo must not
 * silently test nothing. One string may hold several comma-separated
 * patterns ("1.*,2.1.1"); blanks around them are ignored.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "case.h"

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

int wsc_id_cmp(const char *a, const char *b)
{
	while (*a && *b) {
		if (is_digit(*a) && is_digit(*b)) {
			/* Compare numeric runs by value: skip leading zeros, then length. */
			while (*a == '0' && is_digit(a[1]))
				a++;
			while (*b == '0' && is_digit(b[1]))
				b++;
			size_t la = 0, lb = 0;
			while (is_digit(a[la]))
				la++;
			while (is_digit(b[lb]))
				lb++;
			if (la != lb)
				return la < lb ? -1 : 1;
			int c = memcmp(a, b, la);
			if (c)
				return c < 0 ? -1 : 1;
			a += la;
			b += lb;
			continue;
		}
		if (*a != *b)
			return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
		a++;
		b++;
	}
	if (*a == *b)
		return 0;
	return *a ? 1 : -1; /* a prefix sorts first: 1.1 before 1.1.1 */
}

/*
 * Does glob pat[0..pn) match a prefix of id? `*` matches any run (also
 * empty); everything else is literal. Iterative with one backtrack point, so
 * the cost is O(pn * idlen) at worst and there is no recursion.
 */
static int glob_prefix(const char *pat, size_t pn, const char *id)
{
	size_t pi = 0, ii = 0, star_p = (size_t)-1, star_i = 0;
	size_t in = strlen(id);
	for (;;) {
		if (pi == pn)
			return 1; /* pattern consumed: anchored at the start only */
		if (pat[pi] == '*') {
			star_p = pi++;
			star_i = ii;
			continue;
		}
		if (ii < in && pat[pi] == id[ii]) {
			pi++;
			ii++;
			continue;
		}
		if (star_p == (size_t)-1 || star_i >= in)
			return 0;
		pi = star_p + 1;
		ii = ++star_i;
	}
}

/* Apply every pattern of `list` to `cat`, OR-ing matches into mark[]. */
static int apply(const struct wsc_catalog *cat, const char *const *list, size_t n,
                 unsigned char *mark, size_t *n_pat, char *err, size_t errlen)
{
	for (size_t k = 0; k < n; k++) {
		const char *s = list[k] ? list[k] : "";
		while (*s) {
			const char *e = strchr(s, ',');
			if (!e)
				e = s + strlen(s);
			const char *b = s, *t = e;
			while (b < t && (*b == ' ' || *b == '\t'))
				b++;
			while (t > b && (t[-1] == ' ' || t[-1] == '\t'))
				t--;
			size_t pn = (size_t)(t - b);
			s = *e ? e + 1 : e;
			if (pn == 0)
				continue;
			(*n_pat)++;
			if (memchr(b, '*', pn)) {
				for (size_t i = 0; i < cat->n_cases; i++)
					if (glob_prefix(b, pn, cat->cases[i].id))
						mark[i] = 1;
				continue;
			}
			size_t i;
			for (i = 0; i < cat->n_cases; i++) {
				const char *id = cat->cases[i].id;
				if (strlen(id) == pn && memcmp(id, b, pn) == 0)
					break;
			}
			if (i == cat->n_cases) {
				if (err && errlen)
					snprintf(err, errlen, "unknown case ID %.*s",
					         pn > 64 ? 64 : (int)pn, b);
				return -1;
			}
			mark[i] = 1;
		}
	}
	return 0;
}

int wsc_select(const struct wsc_catalog *cat, const char *const *include, size_t n_include,
               const char *const *exclude, size_t n_exclude, unsigned side, size_t **out,
               size_t *n_out, char *err, size_t errlen)
{
	*out = NULL;
	*n_out = 0;
	if (err && errlen)
		err[0] = '\0';
	size_t n = cat->n_cases;
	unsigned char *inc = calloc(n ? n : 1, 1), *exc = calloc(n ? n : 1, 1);
	if (!inc || !exc) {
		free(inc);
		free(exc);
		if (err && errlen)
			snprintf(err, errlen, "out of memory");
		return -1;
	}
	size_t n_pat = 0, dummy = 0;
	int rc = apply(cat, include, n_include, inc, &n_pat, err, errlen);
	if (rc == 0 && n_pat == 0)
		memset(inc, 1, n); /* empty include list: everything */
	if (rc == 0)
		rc = apply(cat, exclude, n_exclude, exc, &dummy, err, errlen);
	size_t count = 0;
	if (rc == 0) {
		for (size_t i = 0; i < n; i++) {
			if (!inc[i] || exc[i] || (side && !(cat->cases[i].side & side)))
				inc[i] = 0;
			else
				count++;
		}
		if (count == 0) {
			if (err && errlen)
				snprintf(err, errlen, "no case selected");
			rc = -1;
		}
	}
	if (rc == 0) {
		size_t *sel = malloc(count * sizeof(*sel));
		if (!sel) {
			if (err && errlen)
				snprintf(err, errlen, "out of memory");
			rc = -1;
		} else {
			size_t j = 0;
			for (size_t i = 0; i < n; i++)
				if (inc[i])
					sel[j++] = i;
			*out = sel;
			*n_out = count;
		}
	}
	free(inc);
	free(exc);
	return rc;
}
