/*
 * jsonw: a small JSON writer that appends to a struct buf, for the events mockd
 * writes on every token.
 *
 * Building a cJSON tree for {"type":"token","token":"We"} costs an allocation
 * per node and per string, a copy of each string, a print buffer and as many
 * frees.  jsonw writes the same text straight into the caller's buffer: byte for
 * byte what cJSON 1.7.15's cJSON_PrintUnformatted prints for the same values,
 * so a client cannot tell which of the two wrote an event
 * (tests/unit/test_jsonw.c and fuzz/fuzz_jsonw.c compare them).
 *
 * Strings are C strings and are escaped as cJSON escapes them: '"' '\\' and the
 * control bytes \b \f \n \r \t by their short escapes, the other bytes below
 * 0x20 as \u00xx (lower-case hex); every other byte, DEL, bytes >= 0x80 and
 * invalid UTF-8 included, is copied as it is ('/' is not escaped).  A NULL
 * string is written as "" (cJSON's printer does the same).
 *
 * Every call is all or nothing: when the buffer's maximum would be passed
 * (BUF_TOO_BIG) or memory is short (BUF_NOMEM), the buffer holds what it held
 * before the call.  A failure between calls (say, after jsonw_begin_object)
 * leaves the earlier calls' text: the caller drops the buffer or rewinds it.
 */
#ifndef CC_JSONW_H
#define CC_JSONW_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Append s as a quoted, escaped JSON string. */
enum buf_result jsonw_string(struct buf *b, const char *s);
/* Append v as cJSON prints the number (double)v: digits below 1e15, the %g form of the double above. */
enum buf_result jsonw_int(struct buf *b, int64_t v);

/* Append "{". */
enum buf_result jsonw_begin_object(struct buf *b);
/*
 * Append the member name key and its ':', with the ',' before it unless the
 * buffer ends with '{' (the first member).  The value follows with
 * jsonw_string, jsonw_int or any text the caller appends.
 */
enum buf_result jsonw_key(struct buf *b, const char *key);
/* Append "}". */
enum buf_result jsonw_end_object(struct buf *b);

/*
 * Append an object of npairs string members, in order: kv holds key, value,
 * key, value... ({"type":"message","id":...} frames).
 */
enum buf_result jsonw_object(struct buf *b, const char *const *kv, size_t npairs);
/*
 * Append {"type":"<type>","<key>":"<value>"}: the token event of the streaming
 * APIs (widget "token", deepwiki "content", botchat "text").
 */
enum buf_result jsonw_event(struct buf *b, const char *type, const char *key, const char *value);

/*
 * One type and member name of jsonw_event, with their text made once: a
 * stream writes the same {"type":"content","content": before every token, and
 * escaping it anew each time was half an event's work.  Declare one per call
 * site (static struct jsonw_form f = JSONW_FORM("content", "content")).
 */
struct jsonw_form {
	const char *type, *key;
	size_t len;       /* the prefix's length; 0 until made, SIZE_MAX when it does not fit */
	char prefix[96];  /* {"type":<type>,<key>: */
};
#define JSONW_FORM(type, key) { (type), (key), 0, { 0 } }
/* jsonw_event(b, f->type, f->key, value): the same bytes, all or nothing. */
enum buf_result jsonw_form_event(struct buf *b, struct jsonw_form *f, const char *value);

#endif
