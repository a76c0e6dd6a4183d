#include "buf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(struct buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

void buf_release(struct buf *b)
{
	free(b->data);
	buf_init(b, b->max);
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

/* Make room for n more bytes plus the NUL, doubling so appends stay O(1) amortised. */
static enum buf_result buf_reserve(struct buf *b, size_t n)
{
	if (n > b->max || b->len > b->max - n)
		return BUF_TOO_BIG;
	size_t need = b->len + n + 1;
	if (need <= b->cap)
		return BUF_OK;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	if (cap > b->max + 1)
		cap = b->max + 1;
	char *p = realloc(b->data, cap);
	if (!p)
		return BUF_NOMEM;
	b->data = p;
	b->cap = cap;
	return BUF_OK;
}

enum buf_result buf_add_grow(struct buf *b, const void *p, size_t n)
{
	enum buf_result r = buf_reserve(b, n);
	if (r != BUF_OK)
		return r;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return BUF_OK;
}

char *int_text(char *text, int64_t v)
{
	char *p = text + INT_TEXT_SIZE - 1;
	uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;
	*p = '\0';
	do
		*--p = (char)('0' + u % 10);
	while (u /= 10);
	if (v < 0)
		*--p = '-';
	return p;
}

enum buf_result buf_add_int(struct buf *b, int64_t v)
{
	char text[INT_TEXT_SIZE];
	char *p = int_text(text, v);
	return buf_add(b, p, (size_t)(text + INT_TEXT_SIZE - 1 - p));
}

enum buf_result buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	va_copy(cp, ap);
	int n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return BUF_NOMEM;
	enum buf_result r = buf_reserve(b, (size_t)n);
	if (r != BUF_OK)
		return r;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return BUF_OK;
}

enum buf_result buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	enum buf_result r = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return r;
}

void buf_truncate(struct buf *b, size_t n)
{
	if (b->data && n < b->len) {
		b->len = n;
		b->data[n] = '\0';
	}
}

void buf_consume(struct buf *b, size_t n)
{
	if (n >= b->len) {
		buf_reset(b);
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	b->data[b->len] = '\0';
}

char *buf_detach(struct buf *b, size_t *len)
{
	char *p = b->data;
	if (len)
		*len = b->len;
	if (!p)
		p = calloc(1, 1);
	buf_init(b, b->max);
	return p;
}

const char *buf_str(const struct buf *b)
{
	return b->data ? b->data : "";
}

size_t str_copy(char *dst, size_t size, const char *src)
{
	size_t n = src ? strnlen(src, size - 1) : 0;
	memcpy(dst, src ? src : "", n);
	dst[n] = '\0';
	return n;
}
