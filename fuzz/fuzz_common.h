/*
 * fuzz_common.h - helpers shared by the fuzz targets: a cursor that takes
 * numbers and byte runs from the input (always succeeding: past the end it
 * yields zeros and empty runs), an oracle failure that aborts with a reason,
 * and exact-size heap copies so an over-read faults under ASan.
 */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fz {
	const uint8_t *p;
	size_t n;
};

static inline uint8_t fz_u8(struct fz *f)
{
	if (f->n == 0)
		return 0;
	f->n--;
	return *f->p++;
}

static inline uint16_t fz_u16(struct fz *f)
{
	uint16_t hi = fz_u8(f);
	return (uint16_t)(hi << 8 | fz_u8(f));
}

/* Up to want bytes; returns how many were taken. */
static inline size_t fz_bytes(struct fz *f, size_t want, const uint8_t **out)
{
	size_t k = want < f->n ? want : f->n;
	*out = f->p;
	f->p += k;
	f->n -= k;
	return k;
}

/* An oracle failed: say why and crash, so the fuzzer keeps the input. */
#define FZ_CHECK(cond)                                                                             \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "oracle failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* Exact-size heap copy (never NULL, even for 0 bytes). */
static inline uint8_t *fz_dup(const void *p, size_t n)
{
	uint8_t *q = malloc(n ? n : 1);
	if (q == NULL)
		abort();
	if (n)
		memcpy(q, p, n);
	return q;
}

#endif
