#include "jsonw.h"

#include <float.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- strings --------------------------------------------------------------------------------- */

/*
 * What follows the backslash for each byte that cJSON escapes; 0 for a byte
 * copied as it is.  NUL is marked too (it ends the string), so the scan for the
 * next byte to escape is one table test per byte and also finds the end.
 */
static const unsigned char escape_of[256] = {
	['\0'] = 'u', [0x01] = 'u', [0x02] = 'u', [0x03] = 'u', [0x04] = 'u', [0x05] = 'u', [0x06] = 'u',
	[0x07] = 'u', ['\b'] = 'b', ['\t'] = 't', ['\n'] = 'n', [0x0b] = 'u', ['\f'] = 'f', ['\r'] = 'r',
	[0x0e] = 'u', [0x0f] = 'u', [0x10] = 'u', [0x11] = 'u', [0x12] = 'u', [0x13] = 'u', [0x14] = 'u',
	[0x15] = 'u', [0x16] = 'u', [0x17] = 'u', [0x18] = 'u', [0x19] = 'u', [0x1a] = 'u', [0x1b] = 'u',
	[0x1c] = 'u', [0x1d] = 'u', [0x1e] = 'u', [0x1f] = 'u', ['"'] = '"', ['\\'] = '\\',
};

/* Undo a call's partial appends: the buffer holds its first mark bytes again. */
static enum buf_result rewind_to(struct buf *b, size_t mark, enum buf_result r)
{
	buf_truncate(b, mark);
	return r;
}

/*
 * The text of one call, gathered on the stack and appended to the buffer when
 * the stage fills or the call ends: a token event is one buf_add, not one per
 * quote, name and value (less than half the time per event).  After a failed
 * append the stage keeps the result and ignores the rest.
 */
struct stage {
	struct buf *b;
	size_t mark;            /* the buffer's length before the call */
	size_t n;
	enum buf_result r;
	char text[256];
};

static void stage_start(struct stage *st, struct buf *b)
{
	st->b = b;
	st->mark = b->len;
	st->n = 0;
	st->r = BUF_OK;
}

static void stage_flush(struct stage *st)
{
	if (st->r == BUF_OK && st->n)
		st->r = buf_add(st->b, st->text, st->n);
	st->n = 0;
}

/* Make room for n more bytes (n <= sizeof text) on the stage. */
static char *stage_room(struct stage *st, size_t n)
{
	if (st->n + n > sizeof(st->text))
		stage_flush(st);
	return st->text + st->n;
}

static void stage_add(struct stage *st, const void *p, size_t n)
{
	if (n > sizeof(st->text)) {      /* a long run goes straight to the buffer */
		stage_flush(st);
		if (st->r == BUF_OK)
			st->r = buf_add(st->b, p, n);
		return;
	}
	memcpy(stage_room(st, n), p, n);
	st->n += n;
}

/* The call's result: everything appended, or nothing (the buffer rewound). */
static enum buf_result stage_end(struct stage *st)
{
	stage_flush(st);
	return st->r == BUF_OK ? BUF_OK : rewind_to(st->b, st->mark, st->r);
}

/*
 * s quoted and escaped.  Bytes that need no escape are copied a run at a time
 * (a typical token is one run), found by one table test per byte.
 */
static void stage_string(struct stage *st, const char *str)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)(str ? str : "");
	*stage_room(st, 1) = '"';
	st->n++;
	for (;;) {
		const unsigned char *run = s;
		while (!escape_of[*s])
			s++;
		stage_add(st, run, (size_t)(s - run));
		if (!*s)
			break;
		char *e = stage_room(st, 6);
		e[0] = '\\';
		e[1] = (char)escape_of[*s];
		if (e[1] == 'u') {
			e[2] = '0';
			e[3] = '0';
			e[4] = hex[*s >> 4];
			e[5] = hex[*s & 15];
			st->n += 6;
		} else {
			st->n += 2;
		}
		s++;
	}
	*stage_room(st, 1) = '"';
	st->n++;
}

enum buf_result jsonw_string(struct buf *b, const char *s)
{
	struct stage st;
	stage_start(&st, b);
	stage_string(&st, s);
	return stage_end(&st);
}

/* ---- numbers --------------------------------------------------------------------------------- */

/* cJSON's test that a printed double reads back close enough (its compare_double). */
static int close_enough(double a, double b)
{
	double max = fabs(a) > fabs(b) ? fabs(a) : fabs(b);
	return fabs(a - b) <= max * DBL_EPSILON;
}

enum buf_result jsonw_int(struct buf *b, int64_t v)
{
	/*
	 * Below 1e15 in magnitude the double is exact and %1.15g prints every digit
	 * with no exponent: the plain decimal digits are cJSON's text.
	 */
	if (v > -1000000000000000 && v < 1000000000000000)
		return buf_add_int(b, v);
	char text[32];
	/* Larger: cJSON's own steps on the double, rare enough for snprintf. */
	double d = (double)v, back = 0;
	int n = snprintf(text, sizeof(text), "%1.15g", d);
	if (sscanf(text, "%lg", &back) != 1 || !close_enough(back, d))
		n = snprintf(text, sizeof(text), "%1.17g", d);
	if (n < 0 || (size_t)n >= sizeof(text))
		return BUF_NOMEM;
	/* cJSON writes '.' whatever the locale's decimal point. */
	char point = localeconv()->decimal_point[0];
	for (int i = 0; i < n; i++)
		if (text[i] == point)
			text[i] = '.';
	return buf_add(b, text, (size_t)n);
}

/* ---- objects --------------------------------------------------------------------------------- */

enum buf_result jsonw_begin_object(struct buf *b)
{
	return buf_addc(b, '{');
}

enum buf_result jsonw_key(struct buf *b, const char *key)
{
	struct stage st;
	stage_start(&st, b);
	if (b->len && b->data[b->len - 1] != '{')
		stage_add(&st, ",", 1);
	stage_string(&st, key);
	stage_add(&st, ":", 1);
	return stage_end(&st);
}

enum buf_result jsonw_end_object(struct buf *b)
{
	return buf_addc(b, '}');
}

enum buf_result jsonw_object(struct buf *b, const char *const *kv, size_t npairs)
{
	struct stage st;
	stage_start(&st, b);
	stage_add(&st, "{", 1);
	for (size_t i = 0; i < npairs; i++) {
		if (i > 0)
			stage_add(&st, ",", 1);
		stage_string(&st, kv[2 * i]);
		stage_add(&st, ":", 1);
		stage_string(&st, kv[2 * i + 1]);
	}
	stage_add(&st, "}", 1);
	return stage_end(&st);
}

enum buf_result jsonw_event(struct buf *b, const char *type, const char *key, const char *value)
{
	const char *kv[] = { "type", type, key, value };
	return jsonw_object(b, kv, 2);
}

/* The event's text up to its value: jsonw_event with an empty value, less the value's "" and the "}". */
static void form_make(struct jsonw_form *f)
{
	struct buf b;
	buf_init(&b, sizeof(f->prefix) + 3);
	f->len = SIZE_MAX;
	if (jsonw_event(&b, f->type, f->key, "") == BUF_OK) {
		f->len = b.len - 3;
		memcpy(f->prefix, b.data, f->len);
	}
	buf_release(&b);
}

enum buf_result jsonw_form_event(struct buf *b, struct jsonw_form *f, const char *value)
{
	if (!f->len)
		form_make(f);
	if (f->len == SIZE_MAX)
		return jsonw_event(b, f->type, f->key, value);
	struct stage st;
	stage_start(&st, b);
	stage_add(&st, f->prefix, f->len);
	stage_string(&st, value);
	stage_add(&st, "}", 1);
	return stage_end(&st);
}
