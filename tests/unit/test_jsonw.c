/*
 * Unit tests for common/jsonw.c: every text it writes is the text cJSON_PrintUnformatted
 * prints for the same values, and every call is all or nothing at the buffer's maximum.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "common/jsonw.h"
#include "tests/unit/unit.h"

#define MAX (1u << 24)

/* ---- helpers ----------------------------------------------------------------------------------- */

/*
 * Print v with cJSON, free v, and compare with what jsonw wrote into b (then emptied).  A difference
 * is shown around its first byte only: a message of megabytes would stall Criterion's reporting.
 */
static void same_as_cjson(struct buf *b, cJSON *v, const char *what)
{
	char *want = cJSON_PrintUnformatted(v);
	cr_assert(want != NULL);
	const char *got = buf_str(b);
	size_t want_len = strlen(want), at = 0;
	while (at < b->len && at < want_len && got[at] == want[at])
		at++;
	size_t from = at > 20 ? at - 20 : 0;
	cr_assert(at == b->len && at == want_len,
		  "%s: lengths %zu (jsonw) and %zu (cJSON), first difference at byte %zu\n  got  ...%.40s\n  want ...%.40s",
		  what, b->len, want_len, at, got + from, want + from);
	cJSON_free(want);
	cJSON_Delete(v);
	buf_reset(b);
}

static void check_string(const char *s, const char *what)
{
	struct buf b;
	buf_init(&b, MAX);
	cr_assert(eq(int, jsonw_string(&b, s), BUF_OK), "%s", what);
	same_as_cjson(&b, cJSON_CreateString(s), what);

	cr_assert(eq(int, jsonw_event(&b, "token", "token", s), BUF_OK), "%s", what);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "type", "token");
	cJSON_AddStringToObject(o, "token", s);
	same_as_cjson(&b, o, what);

	/* The string as a member name and as a type too: names are escaped the same way. */
	cr_assert(eq(int, jsonw_event(&b, s, s, "x"), BUF_OK), "%s", what);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "type", s);
	cJSON_AddStringToObject(o, s, "x");
	same_as_cjson(&b, o, what);

	/* A form's events, made once and used twice, as the value and as the type and name. */
	static struct jsonw_form token = JSONW_FORM("token", "token");
	for (int i = 0; i < 2; i++) {
		cr_assert(eq(int, jsonw_form_event(&b, &token, s), BUF_OK), "%s", what);
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "type", "token");
		cJSON_AddStringToObject(o, "token", s);
		same_as_cjson(&b, o, what);
	}
	struct jsonw_form own = JSONW_FORM(s, s);  /* a long one does not fit: written as jsonw_event */
	for (int i = 0; i < 2; i++) {
		cr_assert(eq(int, jsonw_form_event(&b, &own, "x"), BUF_OK), "%s", what);
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "type", s);
		cJSON_AddStringToObject(o, s, "x");
		same_as_cjson(&b, o, what);
	}
	buf_release(&b);
}

static void check_int(int64_t v)
{
	struct buf b;
	buf_init(&b, MAX);
	cr_assert(eq(int, jsonw_int(&b, v), BUF_OK));
	char what[48];
	snprintf(what, sizeof(what), "%lld", (long long)v);
	same_as_cjson(&b, cJSON_CreateNumber((double)v), what);
	buf_release(&b);
}

/* ---- strings ----------------------------------------------------------------------------------- */

static const char *const hard[] = {
	"",
	"We",
	" the",
	"\"",
	"\\",
	"\"\\\"\\",
	"\\u0041",
	"a/b</script>",
	"\b\f\n\r\t",
	"line one\nline two\r\n",
	"\x01\x02\x1e\x1f",
	"\x0b\x7f\x1b[0m",
	"tab\there",
	"\xc3\xa9t\xc3\xa9",                          /* 2-byte UTF-8 */
	"\xe2\x82\xac 5",                             /* 3 bytes */
	"\xf0\x9f\x98\x80!",                          /* 4 bytes */
	"\xef\xbb\xbf" "bom",                         /* a BOM is a character like another */
	"\xe2\x80\xa8\xe2\x80\xa9",                   /* U+2028, U+2029: cJSON does not escape them */
	"\x80",                                       /* lone continuation */
	"\xc3",                                       /* cut 2-byte sequence */
	"\xe2\x82",                                   /* cut 3-byte sequence */
	"\xf0\x9f\x98",                               /* cut 4-byte sequence */
	"\xc0\xaf",                                   /* overlong '/' */
	"\xed\xa0\x80",                               /* a surrogate */
	"\xf4\x90\x80\x80",                           /* past U+10FFFF */
	"\xfe\xff",
	"\xff\"\x01\xc3\xa9\\",
};

Test(jsonw, hard_strings_as_cjson_prints_them)
{
	for (size_t i = 0; i < sizeof(hard) / sizeof(hard[0]); i++) {
		char what[16];
		snprintf(what, sizeof(what), "hard[%zu]", i);
		check_string(hard[i], what);
	}
}

/* Each byte alone, and between others, so a run that starts, ends or breaks at it is covered. */
Test(jsonw, every_byte_as_cjson_prints_it)
{
	for (int c = 1; c < 256; c++) {
		char what[16], s[8];
		snprintf(what, sizeof(what), "byte 0x%02x", c);
		check_string((char[]){ (char)c, 0 }, what);
		snprintf(s, sizeof(s), "ab%cc", c);
		check_string(s, what);
		snprintf(s, sizeof(s), "%c%c%c", c, c, c);
		check_string(s, what);
	}
}

Test(jsonw, all_bytes_in_one_string)
{
	char s[256];
	for (int c = 1; c < 256; c++)
		s[c - 1] = (char)c;
	s[255] = '\0';
	check_string(s, "0x01..0xff");
	for (int c = 1; c < 256; c++)
		s[c - 1] = (char)(256 - c);
	check_string(s, "0xff..0x01");
}

/* Long strings: one run of 1 MiB, and escapes dense enough to fill the escape array many times. */
Test(jsonw, long_strings)
{
	size_t n = 1u << 20;
	char *s = malloc(n + 1);
	cr_assert(s != NULL);
	memset(s, 'x', n);
	s[n] = '\0';
	check_string(s, "1 MiB plain");
	for (size_t i = 0; i < n; i++)
		s[i] = "a\x01\"\\\n\xc3\xa9\x1f"[i % 8];
	check_string(s, "1 MiB mixed");
	memset(s, '\x01', 1000);
	s[1000] = '\0';
	check_string(s, "1000 \\u escapes in a row");
	free(s);
}

Test(jsonw, null_string_is_empty)
{
	struct buf b;
	buf_init(&b, MAX);
	cr_assert(eq(int, jsonw_string(&b, NULL), BUF_OK));
	cr_assert(eq(str, STR(buf_str(&b)), STR("\"\"")));
	buf_release(&b);
}

/* ---- numbers ----------------------------------------------------------------------------------- */

Test(jsonw, ints_as_cjson_prints_them)
{
	static const int64_t v[] = {
		0, 1, -1, 9, 10, 42, -42, 1000, INT_MAX, INT_MIN, (int64_t)INT_MAX + 1, (int64_t)INT_MIN - 1,
		1700000000000, -1700000000000, 999999999999999, -999999999999999, 1000000000000000,
		-1000000000000000, 1234567890123456, 9007199254740992, 9007199254740993, -9007199254740993,
		12345678901234567, 123456789012345678, INT64_MAX, INT64_MIN, INT64_MAX - 1, INT64_MIN + 1,
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		check_int(v[i]);
	for (int64_t p = 1; p <= INT64_MAX / 10; p *= 10) {
		check_int(p);
		check_int(p - 1);
		check_int(-p);
		check_int(p + 1);
	}
}

/* ---- objects ----------------------------------------------------------------------------------- */

/* The threads message frame: six string members in order. */
Test(jsonw, object_of_pairs_as_cjson_prints_it)
{
	static const char *const kv[] = {
		"type", "message", "id", "m-1", "thread_id", "6f0c", "role", "assistant",
		"content", "say \"hi\"\n", "created_at", "2024-01-01T00:00:00.000Z",
	};
	struct buf b;
	buf_init(&b, MAX);
	cJSON *o = cJSON_CreateObject();
	for (size_t n = 0; n <= 6; n++) {
		cr_assert(eq(int, jsonw_object(&b, kv, n), BUF_OK));
		same_as_cjson(&b, cJSON_Duplicate(o, 1), "pairs");
		if (n < 6)
			cJSON_AddStringToObject(o, kv[2 * n], kv[2 * n + 1]);
	}
	cJSON_Delete(o);
	buf_release(&b);
}

/* Members written one by one, strings and numbers mixed: the deepwiki "end" event. */
Test(jsonw, members_one_by_one)
{
	struct buf b;
	buf_init(&b, MAX);
	cr_assert(eq(int, jsonw_begin_object(&b), BUF_OK));
	cr_assert(eq(int, jsonw_end_object(&b), BUF_OK));
	same_as_cjson(&b, cJSON_CreateObject(), "empty");

	cr_assert(eq(int, jsonw_begin_object(&b), BUF_OK));
	cr_assert(eq(int, jsonw_key(&b, "type"), BUF_OK));
	cr_assert(eq(int, jsonw_string(&b, "end"), BUF_OK));
	cr_assert(eq(int, jsonw_key(&b, "total_tokens"), BUF_OK));
	cr_assert(eq(int, jsonw_int(&b, 17), BUF_OK));
	cr_assert(eq(int, jsonw_key(&b, "metadata"), BUF_OK));
	cr_assert(eq(int, jsonw_begin_object(&b), BUF_OK));
	cr_assert(eq(int, jsonw_key(&b, "tokens_used"), BUF_OK));
	cr_assert(eq(int, jsonw_int(&b, -3), BUF_OK));
	cr_assert(eq(int, jsonw_key(&b, "at"), BUF_OK));
	cr_assert(eq(int, jsonw_int(&b, 1700000000123), BUF_OK));
	cr_assert(eq(int, jsonw_end_object(&b), BUF_OK));
	cr_assert(eq(int, jsonw_end_object(&b), BUF_OK));

	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "type", "end");
	cJSON_AddNumberToObject(o, "total_tokens", 17);
	cJSON *m = cJSON_AddObjectToObject(o, "metadata");
	cJSON_AddNumberToObject(m, "tokens_used", -3);
	cJSON_AddNumberToObject(m, "at", 1700000000123.0);
	same_as_cjson(&b, o, "nested");
	buf_release(&b);
}

/* ---- the buffer's maximum ---------------------------------------------------------------------- */

typedef enum buf_result (*write_fn)(struct buf *b);

static enum buf_result write_string(struct buf *b)
{
	return jsonw_string(b, "a\"b\x01\xc3\xa9");
}

static enum buf_result write_event(struct buf *b)
{
	return jsonw_event(b, "content", "text", "two\nlines");
}

static enum buf_result write_form_event(struct buf *b)
{
	static struct jsonw_form form = JSONW_FORM("content", "te\"xt");
	return jsonw_form_event(b, &form, "two\nlines");
}

static enum buf_result write_object(struct buf *b)
{
	static const char *const kv[] = { "type", "message", "id", "\x02", "content", "\\" };
	return jsonw_object(b, kv, 3);
}

/* Longer than jsonw's 256-byte stage, so the text reaches the buffer in several appends. */
static enum buf_result write_long_event(struct buf *b)
{
	static char value[700];
	for (size_t i = 0; i + 1 < sizeof(value); i++)
		value[i] = i < 300 ? 'x' : "\x01y\"\n"[i % 4];
	return jsonw_event(b, "content", "content", value);
}

static enum buf_result write_key(struct buf *b)
{
	return jsonw_key(b, "tokens\tused");
}

static enum buf_result write_int(struct buf *b)
{
	return jsonw_int(b, -1700000000000);
}

static enum buf_result write_big_int(struct buf *b)
{
	return jsonw_int(b, INT64_MIN);
}

/*
 * After a prefix, for every maximum from the prefix's length up to what the
 * whole text needs: BUF_TOO_BIG with the prefix intact below it, the text at it.
 */
static void check_limit(write_fn fn, const char *what)
{
	static const char prefix[] = "{\"x\":1";
	struct buf full;
	buf_init(&full, MAX);
	buf_adds(&full, prefix);
	cr_assert(eq(int, fn(&full), BUF_OK));
	for (size_t max = sizeof(prefix) - 1; max <= full.len; max++) {
		struct buf b;
		buf_init(&b, max);
		cr_assert(eq(int, buf_adds(&b, prefix), BUF_OK));
		enum buf_result r = fn(&b);
		if (max < full.len) {
			cr_assert(eq(int, r, BUF_TOO_BIG), "%s, max %zu", what, max);
			cr_assert(eq(sz, b.len, sizeof(prefix) - 1), "%s, max %zu", what, max);
			cr_assert(eq(str, STR(buf_str(&b)), STR(prefix)), "%s, max %zu", what, max);
		} else {
			cr_assert(eq(int, r, BUF_OK), "%s, max %zu", what, max);
			cr_assert(eq(str, STR(buf_str(&b)), STR(buf_str(&full))), "%s", what);
		}
		buf_release(&b);
	}
	buf_release(&full);
}

Test(jsonw, all_or_nothing_at_the_maximum)
{
	check_limit(write_string, "string");
	check_limit(write_event, "event");
	check_limit(write_form_event, "form event");
	check_limit(write_object, "object");
	check_limit(write_long_event, "long event");
	check_limit(write_key, "key");
	check_limit(write_int, "int");
	check_limit(write_big_int, "big int");
}

/* A buffer that is still unallocated (data NULL) and too small stays unallocated-looking: "" and 0. */
Test(jsonw, too_big_on_an_empty_buffer)
{
	struct buf b;
	buf_init(&b, 3);
	cr_assert(eq(int, jsonw_event(&b, "token", "token", "We"), BUF_TOO_BIG));
	cr_assert(eq(sz, b.len, 0));
	cr_assert(eq(str, STR(buf_str(&b)), STR("")));
	cr_assert(eq(int, jsonw_string(&b, "ab"), BUF_TOO_BIG));
	cr_assert(eq(int, jsonw_string(&b, "a"), BUF_OK));
	cr_assert(eq(str, STR(buf_str(&b)), STR("\"a\"")));
	buf_release(&b);
}
