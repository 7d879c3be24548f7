/*
 * deflate.c - permessage-deflate data path (RFC 7692 section 7.2) over zlib
 * raw deflate (negative windowBits).
 *
 * Directions. As server our compressor uses the server_* parameters and our
 * decompressor the client_* ones; as client the reverse. An absent window
 * (or client_max_window_bits without a value) means 15.
 *
 * Window 8. zlib (since 1.2.9) refuses windowBits -8 for raw deflate: it
 * used to turn 8 into 9 silently, because its matcher cannot work with a
 * 256-byte window. We ask for 9 and rely on how zlib's deflate bounds match
 * distances: a match may reach back at most MAX_DIST = w_size - MIN_LOOKAHEAD
 * = 512 - 262 = 250 bytes (deflate.h; enforced in longest_match() and in
 * deflate_fast/slow), stored blocks carry no distances and deflate_rle uses
 * distance 1. So every distance we emit is <= 250 < 256 and the output
 * decodes with a 256-byte window; test_deflate.c checks it with an 8-bit
 * zlib inflater fed one output byte per call (so it cannot fall back on its
 * own output buffer) on data whose repeats lie 251..511 bytes back, and
 * shows that a 10-bit compressor's output of the same data is rejected.
 *
 * Decompression window. The decompressor always runs at 15 bits, whatever
 * window the peer agreed to. zlib checks a back-reference against what it
 * can see: its own window (2^bits bytes) plus whatever it has already
 * written into the caller's output buffer during the current inflate()
 * call. With a smaller window a reference further back than 2^bits was thus
 * accepted when the bytes it names came out in the same call and rejected
 * when an earlier call had produced them, so the verdict on one message
 * depended on how its payload was split into frames and reads (found by
 * fuzz_inflate). zlib cannot enforce a window strictly short of one output
 * byte per call, so we take the lenient side consistently: at 15 bits every
 * distance deflate can express (<= 32768) is judged against the message
 * history alone, which does not depend on the split. A peer that stays in
 * its agreed window decodes identically; one that reaches further back is
 * not detected (RFC 7692 does not ask the receiver to). The cost is memory:
 * the inflater's window is 32 KiB even when a smaller one was agreed.
 *
 * Decompression. The 00 00 ff ff tail is appended when the final piece
 * arrives. At message end the stream must sit on a block boundary (or have
 * ended with a BFINAL block); otherwise the message is corrupt
 * (WSR_INFLATE_FAILED). A block with BFINAL set ends a deflate stream; the
 * bytes after it (RFC 7692 section 7.2.3.3 shows a 0x00 octet there) are
 * decoded as a new stream that keeps the sliding window when context
 * takeover is on. If the message's data ends exactly at the end of a BFINAL
 * block the tail is not needed and is not fed.
 *
 * Output cap. inflate() is only ever given room for (cap - produced + 1)
 * bytes, at most 16 KiB: as soon as one byte more than the cap comes out we
 * stop with WSR_INFLATE_TOO_BIG, having done O(cap) work, and the sink never
 * sees more than cap bytes per message (but always sees those cap bytes
 * first, so that what it checks does not depend on the split). Errors are
 * sticky for the stream.
 *
 * Memory. zlib allocates through the caller's wsr_allocator. zlib's free
 * callback has no size, so every block carries a small header holding it.
 */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "wsref/wsref.h"

#define PIECE 16384
/*
 * zlib level 1: per-message compression sits on every send path, and level 1
 * deflates text about three times faster than the default level 6 for a
 * ratio a few percent worse (zlib 1.2.13 here: 185 vs 59 MB/s on prose).
 */
#define DEFLATE_LEVEL 1

/*
 * zlib's memLevel sizes the match hash table (2^(memLevel+7) heads) and the
 * symbol buffer. Every time the window slides (each window - 262 bytes of
 * input) deflate rescans the whole table, so with a small window a big table
 * costs more than it finds: at 9 bits, memLevel 8 deflates JSON at 36 MB/s
 * and memLevel 5 at 94 MB/s (ratio 0.329 vs 0.342). Above 12 bits the
 * default 8 is as fast and compresses a little better.
 */
static int mem_level(int window_bits)
{
	return window_bits <= 12 ? 5 : 8;
}

static const uint8_t tail[4] = {0x00, 0x00, 0xff, 0xff};

struct wsr_pmd {
	struct wsr_allocator alloc;
	z_stream def;
	z_stream inf;
	bool def_ready, inf_ready; /* the zlib stream exists (created on first use) */
	int def_bits;
	bool def_reset;           /* no context takeover for our compressor */
	bool inf_reset;           /* the peer does not use context takeover */
	uint64_t in_total;        /* inflated bytes of the current message */
	bool in_ended;            /* last byte fed ended a BFINAL block */
	enum wsr_status in_error; /* sticky, per direction */
	enum wsr_status out_error;
};

/* ---- allocator adapters ---- */

union hdr {
	size_t size;
	max_align_t align;
};

static void *a_alloc(const struct wsr_allocator *a, size_t n)
{
	return a->alloc ? a->alloc(a->ctx, n) : malloc(n);
}

static void a_free(const struct wsr_allocator *a, void *p, size_t n)
{
	if (a->free)
		a->free(a->ctx, p, n);
	else
		free(p);
}

static voidpf z_alloc(voidpf opaque, uInt items, uInt size)
{
	const struct wsr_allocator *a = opaque;
	size_t n = (size_t)items * size;
	if (size != 0 && n / size != items)
		return Z_NULL;
	if (n > SIZE_MAX - sizeof(union hdr))
		return Z_NULL;
	union hdr *h = a_alloc(a, n + sizeof(union hdr));
	if (h == NULL)
		return Z_NULL;
	h->size = n + sizeof(union hdr);
	return h + 1;
}

static void z_free(voidpf opaque, voidpf p)
{
	if (p == NULL)
		return;
	union hdr *h = (union hdr *)p - 1;
	a_free(opaque, h, h->size);
}

/* ---- creation ---- */

static int bits_of(uint8_t v)
{
	return (v >= 8 && v <= 15) ? v : 15;
}

static bool bits_ok(uint8_t v, bool allow_no_value)
{
	return v == 0 || (v >= 8 && v <= 15) || (allow_no_value && v == WSR_PMD_BITS_NO_VALUE);
}

/*
 * The compressor is created on first use: its state is about 268 KB at 15
 * bits (window, hash chains, pending buffer; less with a smaller window) and many connections never
 * send a compressed message. A failed creation leaves nothing allocated and is reported as
 * WSR_NOMEM by the wsr_pmd_deflate() call that needed it; it is not sticky
 * (the stream had not started), so a later call retries. The inflater is
 * made by wsr_pmd_new() (about 7 KB until its window is needed); inf_start()
 * in wsr_pmd_inflate() only guards the invariant.
 */
static enum wsr_status def_start(struct wsr_pmd *pmd)
{
	if (pmd->def_ready)
		return WSR_OK;
	int zr = deflateInit2(&pmd->def, DEFLATE_LEVEL, Z_DEFLATED, -pmd->def_bits,
	                      mem_level(pmd->def_bits), Z_DEFAULT_STRATEGY);
	if (zr != Z_OK)
		return zr == Z_MEM_ERROR ? WSR_NOMEM : WSR_DEFLATE_FAILED;
	pmd->def_ready = true;
	return WSR_OK;
}

static enum wsr_status inf_start(struct wsr_pmd *pmd)
{
	if (pmd->inf_ready)
		return WSR_OK;
	int zr = inflateInit2(&pmd->inf, -15); /* never smaller: see the top of this file */
	if (zr != Z_OK)
		return zr == Z_MEM_ERROR ? WSR_NOMEM : WSR_INFLATE_FAILED;
	pmd->inf_ready = true;
	return WSR_OK;
}

enum wsr_status wsr_pmd_new(struct wsr_pmd **out, const struct wsr_allocator *alloc,
                            const struct wsr_pmd_params *agreed, enum wsr_role role)
{
	if (out == NULL || agreed == NULL || (role != WSR_ROLE_SERVER && role != WSR_ROLE_CLIENT))
		return WSR_INVALID_ARGUMENT;
	*out = NULL;
	if (!bits_ok(agreed->server_max_window_bits, false) ||
	    !bits_ok(agreed->client_max_window_bits, true))
		return WSR_INVALID_ARGUMENT;

	struct wsr_allocator a = {0};
	if (alloc != NULL)
		a = *alloc;
	/* Use the caller's functions only as a complete set. */
	if (a.alloc == NULL || a.free == NULL) {
		a.alloc = NULL;
		a.free = NULL;
	}
	struct wsr_pmd *pmd = a_alloc(&a, sizeof(*pmd));
	if (pmd == NULL)
		return WSR_NOMEM;
	memset(pmd, 0, sizeof(*pmd));
	pmd->alloc = a;

	bool server = role == WSR_ROLE_SERVER;
	int def_bits =
	        bits_of(server ? agreed->server_max_window_bits : agreed->client_max_window_bits);
	pmd->def_reset =
	        server ? agreed->server_no_context_takeover : agreed->client_no_context_takeover;
	pmd->inf_reset =
	        server ? agreed->client_no_context_takeover : agreed->server_no_context_takeover;
	if (def_bits == 8)
		def_bits = 9; /* see the top of this file */
	pmd->def_bits = def_bits;
	pmd->def.zalloc = z_alloc;
	pmd->def.zfree = z_free;
	pmd->def.opaque = &pmd->alloc;
	pmd->inf.zalloc = z_alloc;
	pmd->inf.zfree = z_free;
	pmd->inf.opaque = &pmd->alloc;
	/*
	 * The inflater is small until it first produces output (zlib allocates
	 * its window then), so it is made here; the compressor waits.
	 */
	enum wsr_status st = inf_start(pmd);
	if (st != WSR_OK) {
		wsr_pmd_free(pmd);
		return st == WSR_NOMEM ? WSR_NOMEM : WSR_INVALID_ARGUMENT;
	}
	*out = pmd;
	return WSR_OK;
}

void wsr_pmd_free(struct wsr_pmd *pmd)
{
	if (pmd == NULL)
		return;
	if (pmd->def_ready)
		deflateEnd(&pmd->def);
	if (pmd->inf_ready)
		inflateEnd(&pmd->inf);
	struct wsr_allocator a = pmd->alloc;
	a_free(&a, pmd, sizeof(*pmd));
}

/* ---- decompression ---- */

/*
 * A BFINAL block ended the stream: start a new one, keeping the window when
 * context takeover is on (raw inflate accepts a dictionary at any time).
 */
static enum wsr_status restart_after_final(struct wsr_pmd *pmd)
{
	if (pmd->inf_reset) {
		inflateReset(&pmd->inf);
		return WSR_OK;
	}
	uint8_t dict[1u << 15];
	uInt dl = 0;
	if (inflateGetDictionary(&pmd->inf, dict, &dl) != Z_OK)
		return WSR_INFLATE_FAILED;
	inflateReset(&pmd->inf);
	if (dl == 0)
		return WSR_OK;
	int zr = inflateSetDictionary(&pmd->inf, dict, dl);
	if (zr == Z_MEM_ERROR)
		return WSR_NOMEM;
	return zr == Z_OK ? WSR_OK : WSR_INFLATE_FAILED;
}

/* Inflate everything in [in, in+len). Leaves the stream's position in *ended. */
static enum wsr_status inflate_bytes(struct wsr_pmd *pmd, const uint8_t *in, size_t len,
                                     uint64_t cap, wsr_sink_fn sink, void *ctx)
{
	uint8_t buf[PIECE];
	z_stream *z = &pmd->inf;
	size_t left = len;
	bool need_output_room = false;

	z->next_in = (Bytef *)(uintptr_t)in;
	z->avail_in = 0;
	while (left > 0 || z->avail_in > 0 || need_output_room) {
		if (z->avail_in == 0 && left > 0) {
			uInt chunk = left > (1u << 30) ? (1u << 30) : (uInt)left;
			z->avail_in = chunk;
			left -= chunk;
		}
		if (pmd->in_ended) {
			/* Bytes after a BFINAL block: a new stream. */
			enum wsr_status st = restart_after_final(pmd);
			if (st != WSR_OK)
				return st;
			pmd->in_ended = false;
		}
		size_t room = sizeof(buf);
#ifndef WSR_PLANTED_BUG_INFLATE_NO_CAP
		uint64_t remaining = cap - pmd->in_total; /* in_total <= cap always */
		if (remaining < room)
			room = (size_t)remaining + 1;
#else
		(void)cap;
#endif
		z->next_out = buf;
		z->avail_out = (uInt)room;
		uInt before_in = z->avail_in;
		int zr = inflate(z, Z_SYNC_FLUSH);
		size_t produced = room - z->avail_out;
		bool progress = produced != 0 || z->avail_in != before_in;
		/*
		 * Output first: those bytes came before whatever inflate()
		 * choked on. Of output that passes the cap, the bytes up to the
		 * cap still reach the sink before WSR_INFLATE_TOO_BIG, so the
		 * sink judges the same prefix (the first cap bytes) however the
		 * input was split: one call may produce the whole excess or only
		 * its last byte. The verdict is the first failure in output order.
		 */
		if (produced > 0) {
			size_t give = produced;
			bool over = false;
#ifndef WSR_PLANTED_BUG_INFLATE_NO_CAP
			if (produced > cap - pmd->in_total) {
				give = (size_t)(cap - pmd->in_total);
				over = true;
			}
#endif
			if (give > 0) {
				pmd->in_total += give;
				enum wsr_status st = sink(ctx, buf, give);
				if (st != WSR_OK)
					return st;
			}
			if (over)
				return WSR_INFLATE_TOO_BIG;
		}
		if (zr == Z_MEM_ERROR)
			return WSR_NOMEM;
		if (zr == Z_NEED_DICT || zr == Z_DATA_ERROR || zr == Z_STREAM_ERROR)
			return WSR_INFLATE_FAILED;
		/* Z_BUF_ERROR: no progress was possible; harmless if input is done. */
		if (zr == Z_STREAM_END)
			pmd->in_ended = true;
		/* A full buffer may hide more pending output. */
		need_output_room = z->avail_out == 0 && zr != Z_STREAM_END;
		if (!progress && z->avail_in > 0 && zr != Z_STREAM_END)
			return WSR_INFLATE_FAILED; /* stuck: cannot happen with room > 0 */
		if (!progress && z->avail_in == 0 && left == 0)
			break;
	}
	return WSR_OK;
}

enum wsr_status wsr_pmd_inflate(struct wsr_pmd *pmd, const uint8_t *in, size_t len, bool fin,
                                uint64_t cap, wsr_sink_fn sink, void *ctx)
{
	if (pmd == NULL || sink == NULL || (in == NULL && len != 0))
		return WSR_INVALID_ARGUMENT;
	if (pmd->in_error != WSR_OK)
		return pmd->in_error;
	enum wsr_status st = inf_start(pmd);
	if (st != WSR_OK)
		return st;
	if (len > 0)
		st = inflate_bytes(pmd, in, len, cap, sink, ctx);
	if (st == WSR_OK && fin) {
		if (!pmd->in_ended) {
			st = inflate_bytes(pmd, tail, sizeof(tail), cap, sink, ctx);
			/* After the tail the stream must sit on a block boundary
			 * (data_type bit 128) or have ended. */
			if (st == WSR_OK && !pmd->in_ended && !(pmd->inf.data_type & 128))
				st = WSR_INFLATE_FAILED;
		}
		if (st == WSR_OK) {
			pmd->in_total = 0;
			if (pmd->in_ended || pmd->inf_reset) {
				if (pmd->in_ended && !pmd->inf_reset) {
					st = restart_after_final(pmd);
				} else {
					inflateReset(&pmd->inf);
				}
				pmd->in_ended = false;
			}
		}
	}
	if (st != WSR_OK)
		pmd->in_error = st;
	return st;
}

/* ---- compression ---- */

enum wsr_status wsr_pmd_deflate(struct wsr_pmd *pmd, const uint8_t *in, size_t len,
                                wsr_sink_fn sink, void *ctx)
{
	if (pmd == NULL || sink == NULL || (in == NULL && len != 0))
		return WSR_INVALID_ARGUMENT;
	if (pmd->out_error != WSR_OK)
		return pmd->out_error;
	enum wsr_status st = def_start(pmd);
	if (st != WSR_OK)
		return st;
	uint8_t buf[PIECE];
	size_t held = 0; /* bytes at buf[0..held) not yet given to the sink */
	z_stream *z = &pmd->def;
	size_t left = len;
	int flush;

	z->next_in = (Bytef *)(uintptr_t)in;
	do {
		uInt chunk = left > (1u << 30) ? (1u << 30) : (uInt)left;
		z->avail_in = chunk;
		left -= chunk;
		flush = left == 0 ? Z_SYNC_FLUSH : Z_NO_FLUSH;
		do {
			z->next_out = buf + held;
			z->avail_out = (uInt)(sizeof(buf) - held);
			int zr = deflate(z, flush);
			if (zr == Z_STREAM_ERROR) {
				st = WSR_DEFLATE_FAILED;
				goto out;
			}
			size_t have = sizeof(buf) - z->avail_out;
			/* Hold back the last 4 bytes: they may be the flush tail. */
			if (have > 4) {
				st = sink(ctx, buf, have - 4);
				if (st != WSR_OK)
					goto out;
				memmove(buf, buf + have - 4, 4);
				held = 4;
			} else {
				held = have;
			}
		} while (z->avail_out == 0);
	} while (flush != Z_SYNC_FLUSH);

	/*
	 * An empty message right after a sync flush: zlib refuses a second
	 * flush with nothing new (Z_BUF_ERROR, no output). The stream already
	 * sits on a byte boundary, so the message is the lone header byte of an
	 * empty stored block, 0x00 (RFC 7692 section 7.2.3.6); zlib's state and
	 * the peer's stay in step because the block adds nothing to the window.
	 */
	if (len == 0 && held == 0) {
		static const uint8_t empty = 0x00;
		st = sink(ctx, &empty, 1);
		goto done;
	}
	/* A sync flush ends with an empty stored block: 00 00 ff ff. */
	if (held != 4 || memcmp(buf, tail, 4) != 0 || z->avail_in != 0) {
		st = WSR_DEFLATE_FAILED;
		goto out;
	}
done:
#ifndef WSR_PLANTED_BUG_TAKEOVER_IGNORED
	if (st == WSR_OK && pmd->def_reset)
		deflateReset(z);
#endif
out:
	if (st != WSR_OK)
		pmd->out_error = WSR_DEFLATE_FAILED; /* the stream is mid-message */
	return st;
}
