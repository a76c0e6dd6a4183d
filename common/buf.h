/*
 * buf: a growable byte buffer with a hard maximum.
 *
 * Every buffer that grows from untrusted input (a request body, a stream from a
 * target, a WebSocket message) is a struct buf with a maximum set at init, so a
 * hostile peer can make it fail cleanly but never grow it without bound.  The
 * contents are always NUL-terminated, so text can be used as a C string.
 */
#ifndef CC_BUF_H
#define CC_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum buf_result {
	BUF_OK = 0,
	BUF_TOO_BIG,    /* the append would pass the maximum; nothing was added */
	BUF_NOMEM,
};

struct buf {
	char *data;     /* NUL-terminated; NULL until the first append */
	size_t len;
	size_t cap;
	size_t max;     /* the most bytes it may ever hold (not counting the NUL) */
};

/* Start an empty buffer that may hold at most max bytes; no allocation yet. */
void buf_init(struct buf *b, size_t max);
/* Free the storage; the buffer is empty and reusable with the same maximum. */
void buf_release(struct buf *b);
/* Drop the contents but keep the storage. */
void buf_reset(struct buf *b);
/* buf_add when the bytes do not fit in the storage as it is: it grows (or fails). */
enum buf_result buf_add_grow(struct buf *b, const void *p, size_t n);

/*
 * Append n bytes; all or nothing. Inline where they fit in the storage
 * already (cap counts the NUL, and is 0 before the first append), as they
 * do in a buffer reused for every event or head: a call and a few tests
 * for what is most of the appends of a request.
 */
static inline enum buf_result buf_add(struct buf *b, const void *p, size_t n)
{
	if (n < b->cap - b->len && n <= b->max - b->len) {
		if (n)  /* p may be NULL for nothing */
			memcpy(b->data + b->len, p, n);
		b->len += n;
		b->data[b->len] = '\0';
		return BUF_OK;
	}
	return buf_add_grow(b, p, n);
}

/* Append a C string. */
static inline enum buf_result buf_adds(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

/* Append one byte. */
static inline enum buf_result buf_addc(struct buf *b, char c)
{
	return buf_add(b, &c, 1);
}
/* Append v in decimal, without printf. */
enum buf_result buf_add_int(struct buf *b, int64_t v);
/* Append formatted text; all or nothing. */
enum buf_result buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
enum buf_result buf_vprintf(struct buf *b, const char *fmt, va_list ap);
/* Cut the contents back to their first n bytes (nothing when n >= len): undoes a partial append. */
void buf_truncate(struct buf *b, size_t n);
/* Remove the first n bytes (n <= len), keeping the rest. */
void buf_consume(struct buf *b, size_t n);
/* Hand the storage to the caller (free() it); the buffer is left empty. */
char *buf_detach(struct buf *b, size_t *len);
/* The contents as a C string, "" when empty. */
const char *buf_str(const struct buf *b);

/*
 * Copy src into dst[size] (size > 0), cut to fit and NUL-terminated, as
 * snprintf(dst, size, "%s", src) would, without printf; src NULL copies "".
 * Returns the length of the copy.
 */
size_t str_copy(char *dst, size_t size, const char *src);

/*
 * The decimal text of v ("-12"), written at the end of text[INT_TEXT_SIZE]
 * and NUL-terminated, without printf (it runs for headers and log lines of
 * every request); returns where it starts.
 */
#define INT_TEXT_SIZE 24
char *int_text(char *text, int64_t v);

#endif
