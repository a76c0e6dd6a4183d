/*
 * fuzz_json: the JSON, UTF-8 and time helpers of common/ against their contracts.
 *
 * The input is used four ways at once:
 *   - json_parse_exact on all of it: a value it accepts prints, parses back and prints the same
 *     (unless json_text_has_nul says a string was cut, or a number overflowed);
 *   - json_pointer: every node of that value, named by the pointer built for it
 *     (~0 and ~1 escapes, array indices), resolves to that very node; the input's
 *     first line used as a pointer never crashes;
 *   - utf8_valid, utf8_count, utf8_truncate against an independent decoder;
 *   - iso8601_parse on the first line: what it accepts formats and parses back
 *     to the same instant.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "common/buf.h"
#include "common/json.h"
#include "common/timeutil.h"
#include "common/utf8.h"
#include "fuzz/fuzz.h"

#define MAX_NODES 4000   /* nodes whose pointer is checked, so a big input stays fast */

/* ---- JSON Pointer -------------------------------------------------------------------------- */

struct walk {
	const cJSON *root;
	size_t nodes;
	struct buf ptr;
};

/* Is c the first member of its object with its name (the one a pointer names)? */
static bool first_of_name(const cJSON *parent, const cJSON *c)
{
	for (const cJSON *o = parent->child; o && o != c; o = o->next)
		if (strcmp(o->string, c->string) == 0)
			return false;
	return true;
}

static void walk(struct walk *w, const cJSON *node)
{
	if (w->nodes++ >= MAX_NODES)
		return;
	const cJSON *got = json_pointer(w->root, buf_str(&w->ptr));
	FUZZ_CHECK(got == node, "json_pointer(\"%s\") names another node", buf_str(&w->ptr));
	if (!cJSON_IsObject(node) && !cJSON_IsArray(node))
		return;
	size_t base = w->ptr.len;
	size_t i = 0;
	for (const cJSON *c = node->child; c; c = c->next, i++) {
		w->ptr.len = base;
		buf_addc(&w->ptr, '/');
		if (cJSON_IsArray(node)) {
			buf_printf(&w->ptr, "%zu", i);
		} else {
			if (!first_of_name(node, c))
				continue;
			for (const char *k = c->string; *k; k++)
				buf_adds(&w->ptr, *k == '~' ? "~0" : *k == '/' ? "~1" : (char[2]){ *k, 0 });
		}
		walk(w, c);
	}
	w->ptr.len = base;
	if (w->ptr.data)
		w->ptr.data[base] = '\0';
}

/* ---- UTF-8 --------------------------------------------------------------------------------- */

/* Decode one scalar value at s by arithmetic; its length, or 0 when ill-formed. */
static size_t ref_utf8_one(const unsigned char *s, size_t n)
{
	static const uint32_t min[5] = { 0, 0, 0x80, 0x800, 0x10000 };
	size_t len;
	uint32_t cp;
	if (s[0] < 0x80)
		return 1;
	else if ((s[0] & 0xE0) == 0xC0)
		len = 2, cp = s[0] & 0x1F;
	else if ((s[0] & 0xF0) == 0xE0)
		len = 3, cp = s[0] & 0x0F;
	else if ((s[0] & 0xF8) == 0xF0)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3F);
	}
	if (cp < min[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return len;
}

static void check_utf8(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, count = 0;
	bool valid = true;
	while (i < n) {
		size_t k = ref_utf8_one(u + i, n - i);
		if (!k)
			valid = false;
		i += k ? k : 1;
		count++;
	}
	FUZZ_CHECK(utf8_valid(s, n) == valid, "utf8_valid says %d, the reference %d", !valid, valid);
	if (valid) {
		FUZZ_CHECK(utf8_count(s, n) == count, "utf8_count %zu, the reference %zu", utf8_count(s, n), count);
		for (size_t max = 0; max <= n + 1; max += 1 + max / 4) {
			size_t t = utf8_truncate(s, n, max);
			FUZZ_CHECK(t <= n && (t <= max || n <= max), "utf8_truncate(%zu) = %zu", max, t);
			FUZZ_CHECK(utf8_valid(s, t), "utf8_truncate(%zu) = %zu cuts a character", max, t);
			FUZZ_CHECK(n <= max || max - t < 4, "utf8_truncate(%zu) = %zu drops too much", max, t);
		}
	}
}

/* ---- ISO 8601 ------------------------------------------------------------------------------ */

static void check_iso8601(const char *line)
{
	int64_t ms = 0, again = 0;
	if (iso8601_parse(line, &ms) != 0)
		return;
	/* Formatting covers the years 0001-9999 only. */
	if (ms < -62135596800000LL || ms > 253402300799999LL)
		return;
	char out[64];
	iso8601_format(ms, out, sizeof(out));
	FUZZ_CHECK(iso8601_parse(out, &again) == 0, "\"%s\" parsed, its formatting \"%s\" did not", line, out);
	FUZZ_CHECK(again == ms, "\"%s\" is %lld ms, its formatting \"%s\" is %lld", line, (long long)ms, out,
		   (long long)again);
}

/* ---- JSON ---------------------------------------------------------------------------------- */

/* False when a number overflowed to infinity, which cJSON prints as null. */
static bool all_finite(const cJSON *v)
{
	if (cJSON_IsNumber(v))
		return v->valuedouble - v->valuedouble == 0;
	for (const cJSON *c = v->child; c; c = c->next)
		if (!all_finite(c))
			return false;
	return true;
}

static void check_json(const char *p, size_t n, const char *first_line)
{
	bool has_nul = json_text_has_nul(p, n);
	cJSON *v = json_parse_exact(p, n);
	if (!v) {
		FUZZ_CHECK(json_pointer(NULL, first_line) == NULL, "json_pointer on no document named something");
		return;
	}
	/* What it accepted prints and parses back to an equal value (unless cut at a \u0000). */
	char *text = cJSON_PrintUnformatted(v);
	if (text && !has_nul && all_finite(v)) {
		cJSON *back = json_parse_exact(text, strlen(text));
		FUZZ_CHECK(back, "printed JSON does not parse back: %.200s", text);
		/* Printed texts, not cJSON_Compare: that looks members up by name, so duplicate names differ. */
		char *again = cJSON_PrintUnformatted(back);
		FUZZ_CHECK(again && strcmp(text, again) == 0, "printed JSON parses back different: %.200s", text);
		cJSON_free(again);
		cJSON_Delete(back);
	}
	cJSON_free(text);

	struct walk w = { .root = v };
	buf_init(&w.ptr, 1u << 20);
	buf_adds(&w.ptr, "");
	walk(&w, v);
	buf_release(&w.ptr);
	(void)json_pointer(v, first_line);
	(void)json_is_integer(v);
	char *capped = json_print_capped(v, (size_t)(n % 64));
	FUZZ_CHECK(capped && (n % 64 < 4 || strlen(capped) <= n % 64), "json_print_capped passed its cap");
	free(capped);
	cJSON_Delete(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 64 * 1024)
		return 0;
	const char *p = (const char *)data;
	size_t ll = 0;
	while (ll < size && p[ll] != '\n' && p[ll] != '\0')
		ll++;
	char *first_line = strndup(p, ll);
	if (!first_line)
		return 0;
	check_json(p, size, first_line);
	check_utf8(p, size);
	check_iso8601(first_line);
	free(first_line);
	return 0;
}
