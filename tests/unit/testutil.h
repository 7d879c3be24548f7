/*
 * testutil.h - tiny assertion and buffer helpers shared by the C unit tests.
 *
 * Assertions print the expression and both operands, count the failure and
 * carry on (so one run shows every broken vector). tu_finish() prints the
 * summary line "N passed, N failed" and returns the process exit status.
 */
#ifndef TESTUTIL_H
#define TESTUTIL_H

#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

extern unsigned long tu_checks, tu_failures;
extern const char *tu_current;

void tu_fail(const char *file, int line, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

#define ASSERT(expr)                                                      \
	do {                                                              \
		tu_checks++;                                              \
		if (!(expr))                                              \
			tu_fail(__FILE__, __LINE__, "ASSERT(%s)", #expr); \
	} while (0)

#define ASSERT_EQ(a, b)                                                                        \
	do {                                                                                   \
		long long tu_a_ = (long long)(a), tu_b_ = (long long)(b);                      \
		tu_checks++;                                                                   \
		if (tu_a_ != tu_b_)                                                            \
			tu_fail(__FILE__, __LINE__, "ASSERT_EQ(%s, %s): %lld != %lld", #a, #b, \
			        tu_a_, tu_b_);                                                 \
	} while (0)

#define ASSERT_STREQ(a, b)                                                                        \
	do {                                                                                      \
		const char *tu_a_ = (a), *tu_b_ = (b);                                            \
		tu_checks++;                                                                      \
		if (!tu_a_ || !tu_b_ || strcmp(tu_a_, tu_b_) != 0)                                \
			tu_fail(__FILE__, __LINE__, "ASSERT_STREQ(%s, %s): \"%s\" != \"%s\"", #a, \
			        #b, tu_a_ ? tu_a_ : "(null)", tu_b_ ? tu_b_ : "(null)");          \
	} while (0)

#define ASSERT_MEMEQ(a, alen, b, blen)                                                            \
	do {                                                                                      \
		size_t tu_al_ = (alen), tu_bl_ = (blen);                                          \
		tu_checks++;                                                                      \
		if (tu_al_ != tu_bl_ || memcmp((a), (b), tu_al_) != 0)                            \
			tu_fail(__FILE__, __LINE__, "ASSERT_MEMEQ(%s, %s): lengths %zu, %zu", #a, \
			        #b, tu_al_, tu_bl_);                                              \
	} while (0)

/* Run one test function, recording its name for failure messages. */
#define RUN(fn)                   \
	do {                      \
		tu_current = #fn; \
		fn();             \
	} while (0)

/*
 * Copy len bytes into a fresh mapping so that the byte after the last one is
 * a PROT_NONE guard page: an over-read faults even without ASan. Release with
 * tu_guard_free(). Aborts on mmap failure.
 */
uint8_t *tu_guard_copy(const void *data, size_t len);
void tu_guard_free(uint8_t *p, size_t len);

/* Print "<name>: N passed, N failed" (checks) and return 0 or 1. */
int tu_finish(const char *name);

#endif
