/* json: small helpers over cJSON that both programs use (JSON Pointer, type names, capped printing). */
#ifndef CC_JSON_H
#define CC_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

/* Resolve an RFC 6901 JSON Pointer ("" is the root); NULL when it names nothing. */
cJSON *json_pointer(const cJSON *root, const char *ptr);
/* "object", "array", "string", "number", "boolean", "null" (or "invalid"). */
const char *json_type_name(const cJSON *v);
/* True for a number with no fractional part that fits in an int64. */
bool json_is_integer(const cJSON *v);
/* Unformatted JSON text, at most max bytes (cut with "..."); caller frees. NULL v prints "(none)". */
char *json_print_capped(const cJSON *v, size_t max);
/* Parse n bytes of JSON that must be the whole input (no trailing bytes) and UTF-8; NULL when invalid. */
cJSON *json_parse_exact(const char *p, size_t n);
/* True when JSON text holds the escape \u0000, which cJSON would silently cut a string at. */
bool json_text_has_nul(const char *p, size_t n);
/* Where the escape \u0000 starts in JSON text, or n when it holds none. */
size_t json_text_find_nul(const char *p, size_t n);
/*
 * True when JSON text holds a raw control character (U+0000-U+001F) inside a string, or
 * one other than tab, LF and CR between tokens: RFC 8259 forbids both, cJSON takes both
 * (and cuts a string at a raw NUL). O(n).
 */
bool json_text_has_control(const char *p, size_t n);
/* The string member name of object o, or NULL when absent or not a string. */
const char *json_get_string(const cJSON *o, const char *name);

#endif
