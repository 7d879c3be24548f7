#include "testutil.h"

#include <stdarg.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

unsigned long tu_checks, tu_failures;
const char *tu_current = "?";

void tu_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	tu_failures++;
	fprintf(stderr, "FAIL %s:%d [%s] ", file, line, tu_current);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static size_t page_size(void)
{
	long p = sysconf(_SC_PAGESIZE);
	return p > 0 ? (size_t)p : 4096;
}

static size_t guard_span(size_t len)
{
	size_t ps = page_size();
	return ((len + ps - 1) / ps + 1) * ps;
}

uint8_t *tu_guard_copy(const void *data, size_t len)
{
	size_t ps = page_size(), span = guard_span(len);
	uint8_t *base =
	        mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED)
		abort();
	if (mprotect(base + span - ps, ps, PROT_NONE) != 0)
		abort();
	uint8_t *p = base + span - ps - len;
	if (len)
		memcpy(p, data, len);
	return p;
}

void tu_guard_free(uint8_t *p, size_t len)
{
	size_t ps = page_size(), span = guard_span(len);
	uint8_t *base = p + len + ps - span;
	munmap(base, span);
}

int tu_finish(const char *name)
{
	unsigned long passed = tu_checks - tu_failures;
	printf("%s: %lu passed, %lu failed\n", name, passed, tu_failures);
	return tu_failures ? 1 : 0;
}
