/*
 * jpath: JSON paths and problem lines for the load-time validators.
 */
#include "common/jpath.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/utf8.h"

#define JPATH_LEN 512 /* bytes of a JSON path in a message */

/* snprintf that may cut: paths and labels in messages are capped on purpose. */
void jpath_fmt(char *out, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out, n, fmt, ap);
	va_end(ap);
}

/* A letter, "_" or (when not first) a digit: one character of an identifier. */
int jpath_ident_char(char c, int first)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || (!first && c >= '0' && c <= '9');
}

/* s is a non-empty identifier: [A-Za-z_][A-Za-z0-9_]*. */
int jpath_is_ident(const char *s)
{
	if (!*s)
		return 0;
	for (const char *p = s; *p; p++)
		if (!jpath_ident_char(*p, p == s))
			return 0;
	return 1;
}

void jpath_quote(char *out, size_t n, const char *s, size_t len, size_t max)
{
	size_t cut = utf8_truncate(s, len, max), o = 0;
	if (!n)
		return;
	for (size_t i = 0; i < cut; i++) {
		unsigned char c = (unsigned char)s[i];
		char e[8];
		if (c == '"' || c == '\\')
			snprintf(e, sizeof(e), "\\%c", c);
		else if (c == '\n' || c == '\r' || c == '\t')
			snprintf(e, sizeof(e), "\\%c", c == '\n' ? 'n' : c == '\r' ? 'r' : 't');
		else if (c < 0x20 || c == 0x7f)
			snprintf(e, sizeof(e), "\\u%04x", c);
		else
			e[0] = (char)c, e[1] = '\0';
		size_t k = strlen(e);
		if (o + k >= n)
			break;
		memcpy(out + o, e, k);
		o += k;
	}
	if (cut < len && o + 3 < n) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

/* base.key when key is an identifier (key alone when base is ""), else base["key"] (the key quoted, capped). */
void jpath_key(char *out, size_t n, const char *base, const char *key)
{
	const char *sep = *base ? "." : "";
	if (jpath_is_ident(key)) {
		jpath_fmt(out, n, "%s%s%.100s", base, sep, key);
	} else {
		char q[JPATH_QUOTE_LEN];
		jpath_quote(q, sizeof(q), key, strlen(key), 100);
		jpath_fmt(out, n, "%s[\"%s\"]", base, q);
	}
}

/* base[i]. */
void jpath_index(char *out, size_t n, const char *base, size_t i)
{
	jpath_fmt(out, n, "%s[%zu]", base, i);
}

/* Append one "PATH: what\n" problem line to err. */
void jpath_err(struct buf *err, const char *path, const char *fmt, ...)
{
	va_list ap;
	buf_printf(err, "%s: ", path);
	va_start(ap, fmt);
	buf_vprintf(err, fmt, ap);
	va_end(ap);
	buf_addc(err, '\n');
}

/* Report each member of o not in allowed (NULL-terminated), and each member named twice; the number reported. */
int jpath_check_members(const cJSON *o, const char *path, const char *const *allowed, jpath_report_fn *report,
			void *ctx)
{
	int n = 0;
	for (const cJSON *m = o->child; m; m = m->next) {
		char p[JPATH_LEN];
		jpath_key(p, sizeof(p), path, m->string);
		int known = 0;
		for (size_t i = 0; allowed[i] && !known; i++)
			known = strcmp(allowed[i], m->string) == 0;
		if (!known) {
			struct buf list, what;
			buf_init(&list, 512);
			buf_init(&what, 1024);
			for (size_t i = 0; allowed[i]; i++)
				buf_printf(&list, "%s%s", i ? ", " : "", allowed[i]);
			buf_printf(&what, "unknown member (expected one of %s)", buf_str(&list));
			report(ctx, p, buf_str(&what));
			buf_release(&what);
			buf_release(&list);
			n++;
		}
		for (const cJSON *o2 = o->child; o2 != m; o2 = o2->next)
			if (strcmp(o2->string, m->string) == 0) {
				report(ctx, p, "duplicate member");
				n++;
				break;
			}
	}
	return n;
}
