/*
 * datasets.h - the payload data sets of the compression cases (12.x, 13.x,
 * 105.x), generated deterministically by the harness itself (a fixed PRNG, no
 * files): the same kinds and about the same sizes as Autobahn's test files,
 * never their bytes.
 *
 *   json    ~194 KB  a large JSON document (text, some non-ASCII)
 *   bitmap  263,222 B a 512x512 8-bit BMP, smooth gradients plus noise
 *   prose   ~222 KB  German-like prose from a small word list (sent as binary)
 *   html    ~263 KB  an HTML report page (text)
 *   pdf     ~1 MB    PDF-like: text streams mixed with incompressible blocks
 *
 * Each set is built once per process on first use and lives until exit
 * (read-only afterwards; building is guarded by a mutex).
 */
#ifndef WSC_DATASETS_H
#define WSC_DATASETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

enum wsc_dataset_id {
	WSC_DS_JSON = 0,
	WSC_DS_BITMAP,
	WSC_DS_PROSE,
	WSC_DS_HTML,
	WSC_DS_PDF,
	WSC_DS_COUNT
};

struct wsc_dataset {
	const char *name;
	const uint8_t *p;
	size_t n;
	bool text;                /* valid UTF-8; windows count characters */
	const uint32_t *char_off; /* text: byte offset of each character, [n_chars] = n */
	size_t n_chars;
};

/* Name ("json", ...) to id, or -1. */
int wsc_dataset_lookup(const char *name, size_t n);
const char *wsc_dataset_name(int id);

/* The data set, built on first use. NULL on out of memory. */
const struct wsc_dataset *wsc_dataset_get(int id);

/*
 * The data set's units (characters for text sets, bytes otherwise); windows
 * wrap around. Replace *out's contents with the window of `units` units
 * starting at unit `start` (taken modulo the set's units). `units` may exceed
 * the set (it then repeats). Returns 0, or -1 on out of memory.
 */
size_t wsc_dataset_units(const struct wsc_dataset *d);
int wsc_dataset_window(const struct wsc_dataset *d, uint64_t start, uint64_t units,
                       struct wsc_buf *out);

#endif
