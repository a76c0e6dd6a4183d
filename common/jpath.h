/*
 * jpath: JSON paths in load-time messages ("cases[0].steps[1].ws.script") and
 * the "PATH: what" problem lines the validators write, shared by suite.c,
 * match.c and wsstep.c so all three spell paths and problems the same way.
 */
#ifndef CC_JPATH_H
#define CC_JPATH_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "common/buf.h"

/* snprintf that may cut: paths and labels in messages are capped on purpose. */
void jpath_fmt(char *out, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A letter, "_" or (when not first) a digit: one character of an identifier. */
int jpath_ident_char(char c, int first);
/* s is a non-empty identifier: [A-Za-z_][A-Za-z0-9_]*. */
int jpath_is_ident(const char *s);
/*
 * The string s[0..len) from a document, as a message may quote it: at most max of its bytes (cut on a character
 * boundary, "..." then added), with '"', '\\' and control characters escaped as in JSON, so that one
 * problem stays one line.  out gets what fits in n bytes; JPATH_QUOTE_LEN holds max 100 whole.
 */
#define JPATH_QUOTE_LEN 608
void jpath_quote(char *out, size_t n, const char *s, size_t len, size_t max);
/* base.key when key is an identifier (key alone when base is ""), else base["key"] (the key quoted, capped). */
void jpath_key(char *out, size_t n, const char *base, const char *key);
/* base[i]. */
void jpath_index(char *out, size_t n, const char *base, size_t i);
/* Append one "PATH: what\n" problem line to err. */
void jpath_err(struct buf *err, const char *path, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Called with the path of a member and what is wrong with it; ctx is the caller's. */
typedef void jpath_report_fn(void *ctx, const char *path, const char *what);
/* Report each member of o not in allowed (NULL-terminated), and each member named twice; the number reported. */
int jpath_check_members(const cJSON *o, const char *path, const char *const *allowed, jpath_report_fn *report,
			void *ctx);

#endif
