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
	b->len = mark;
	if (b->data)
		b->data[mark] = '\0';
	return r;
}

/*
 * The escaped bytes of s, without quotes.  Bytes that need no escape are
 * appended a run at a time (a typical token is one run); bytes that do are
 * gathered in a small array so a run of them is one append too.
 */
static enum buf_result add_escaped(struct buf *b, const unsigned char *s)
{
	static const char hex[] = "0123456789abcdef";
	enum buf_result r;
	for (;;) {
		const unsigned char *run = s;
		while (!escape_of[*s])
			s++;
		if (s > run && (r = buf_add(b, run, (size_t)(s - run))) != BUF_OK)
			return r;
		if (!*s)
			return BUF_OK;
		char esc[96];
		size_t n = 0;
		while (*s && escape_of[*s] && n + 6 <= sizeof(esc)) {
			unsigned char e = escape_of[*s];
			esc[n++] = '\\';
			esc[n++] = (char)e;
			if (e == 'u') {
				esc[n++] = '0';
				esc[n++] = '0';
				esc[n++] = hex[*s >> 4];
				esc[n++] = hex[*s & 15];
			}
			s++;
		}
		if ((r = buf_add(b, esc, n)) != BUF_OK)
			return r;
	}
}

enum buf_result jsonw_string(struct buf *b, const char *s)
{
	size_t mark = b->len;
	enum buf_result r = buf_addc(b, '"');
	if (r == BUF_OK && s)
		r = add_escaped(b, (const unsigned char *)s);
	if (r == BUF_OK)
		r = buf_addc(b, '"');
	return r == BUF_OK ? BUF_OK : rewind_to(b, mark, r);
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
	char text[32];
	char *p = text + sizeof(text);
	/*
	 * Below 1e15 in magnitude the double is exact and %1.15g prints every digit
	 * with no exponent: the plain decimal digits are cJSON's text.
	 */
	if (v > -1000000000000000 && v < 1000000000000000) {
		uint64_t u = v < 0 ? (uint64_t)-v : (uint64_t)v;
		do
			*--p = (char)('0' + u % 10);
		while (u /= 10);
		if (v < 0)
			*--p = '-';
		return buf_add(b, p, (size_t)(text + sizeof(text) - p));
	}
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
	size_t mark = b->len;
	enum buf_result r = BUF_OK;
	if (b->len && b->data[b->len - 1] != '{')
		r = buf_addc(b, ',');
	if (r == BUF_OK)
		r = jsonw_string(b, key);
	if (r == BUF_OK)
		r = buf_addc(b, ':');
	return r == BUF_OK ? BUF_OK : rewind_to(b, mark, r);
}

enum buf_result jsonw_end_object(struct buf *b)
{
	return buf_addc(b, '}');
}

enum buf_result jsonw_object(struct buf *b, const char *const *kv, size_t npairs)
{
	size_t mark = b->len;
	enum buf_result r = buf_addc(b, '{');
	for (size_t i = 0; i < npairs && r == BUF_OK; i++) {
		if (i > 0)
			r = buf_addc(b, ',');
		if (r == BUF_OK)
			r = jsonw_string(b, kv[2 * i]);
		if (r == BUF_OK)
			r = buf_addc(b, ':');
		if (r == BUF_OK)
			r = jsonw_string(b, kv[2 * i + 1]);
	}
	if (r == BUF_OK)
		r = buf_addc(b, '}');
	return r == BUF_OK ? BUF_OK : rewind_to(b, mark, r);
}

enum buf_result jsonw_event(struct buf *b, const char *type, const char *key, const char *value)
{
	const char *kv[] = { "type", type, key, value };
	return jsonw_object(b, kv, 2);
}
