/*
 * jpath: JSON paths and problem lines for the load-time validators.
 */
#include "common/jpath.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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

/* base.key when key is an identifier (key alone when base is ""), else base["key"] (the key capped). */
void jpath_key(char *out, size_t n, const char *base, const char *key)
{
	const char *sep = *base ? "." : "";
	if (jpath_is_ident(key))
		jpath_fmt(out, n, "%s%s%.100s", base, sep, key);
	else
		jpath_fmt(out, n, "%s[\"%.100s%s\"]", base, key, strlen(key) > 100 ? "..." : "");
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
