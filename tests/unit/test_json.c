/* Unit tests for common/json.c (JSON Pointer, types, parsing), common/timeutil.c, common/utf8.c, common/buf.c. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "common/buf.h"
#include "common/json.h"
#include "common/timeutil.h"
#include "common/utf8.h"
#include "tests/unit/unit.h"

/* ---- JSON Pointer ----------------------------------------------------------------------------- */

static cJSON *doc;

static void json_setup(void)
{
	doc = cJSON_Parse("{\"a\":{\"b\":1},\"a/b\":2,\"m~n\":3,\"~1\":4,\"\":5,\"arr\":[10,[20,21],{\"k\":\"v\"}],"
			  "\"s\":\"str\",\"n\":null}");
	cr_assert(doc != NULL);
}

static void json_teardown(void)
{
	cJSON_Delete(doc);
}

TestSuite(json, .init = json_setup, .fini = json_teardown);

/* The pointer's target printed, or "NULL". */
static char *at(const char *ptr)
{
	static char out[256];
	cJSON *v = json_pointer(doc, ptr);
	if (!v)
		return STR("NULL");
	char *s = cJSON_PrintUnformatted(v);
	strncpy(out, s, sizeof(out) - 1);
	out[sizeof(out) - 1] = '\0';
	free(s);
	return out;
}

Test(json, pointer_members)
{
	cr_assert(eq(ptr, json_pointer(doc, ""), doc));
	cr_assert(eq(str, at("/a"), STR("{\"b\":1}")));
	cr_assert(eq(str, at("/a/b"), STR("1")));
	cr_assert(eq(str, at("/"), STR("5")));         /* the member named "" */
	cr_assert(eq(str, at("/s"), STR("\"str\"")));
	cr_assert(eq(str, at("/n"), STR("null")));
	cr_assert(eq(str, at("/missing"), STR("NULL")));
	cr_assert(eq(str, at("/a/b/c"), STR("NULL")));  /* through a number */
	cr_assert(eq(str, at("/s/0"), STR("NULL")));    /* through a string */
	cr_assert(eq(str, at("a"), STR("NULL")));       /* must start with "/" */
	cr_assert(json_pointer(NULL, "") == NULL);
}

Test(json, pointer_escapes)
{
	cr_assert(eq(str, at("/a~1b"), STR("2")));
	cr_assert(eq(str, at("/m~0n"), STR("3")));
	cr_assert(eq(str, at("/~01"), STR("4")));       /* ~0 then 1: the key "~1", not "/" */
	cr_assert(eq(str, at("/~2"), STR("NULL")));     /* malformed escape */
	cr_assert(eq(str, at("/a~"), STR("NULL")));
}

Test(json, pointer_arrays)
{
	cr_assert(eq(str, at("/arr/0"), STR("10")));
	cr_assert(eq(str, at("/arr/1/1"), STR("21")));
	cr_assert(eq(str, at("/arr/2/k"), STR("\"v\"")));
	cr_assert(eq(str, at("/arr/3"), STR("NULL")));
	cr_assert(eq(str, at("/arr/01"), STR("NULL")));  /* no leading zeros */
	cr_assert(eq(str, at("/arr/-"), STR("NULL")));
	cr_assert(eq(str, at("/arr/-1"), STR("NULL")));
	cr_assert(eq(str, at("/arr/1x"), STR("NULL")));
	cr_assert(eq(str, at("/arr/"), STR("NULL")));
	cr_assert(eq(str, at("/arr/99999999999"), STR("NULL")));
}

Test(json, types_and_integers)
{
	cJSON *v = cJSON_Parse("[1, 1.0, 1.5, -3, 1e19, \"1\", true, null, {}, []]");
	const char *names[] = { "number", "number", "number", "number", "number", "string", "boolean", "null",
				"object", "array" };
	bool ints[] = { true, true, false, true, false, false, false, false, false, false };
	for (int i = 0; i < 10; i++) {
		cJSON *e = cJSON_GetArrayItem(v, i);
		cr_assert(eq(str, STR(json_type_name(e)), STR(names[i])), "item %d", i);
		cr_assert(eq(int, json_is_integer(e), ints[i]), "item %d", i);
	}
	cr_assert(eq(str, STR(json_type_name(NULL)), STR("invalid")));
	cJSON_Delete(v);
}

Test(json, parse_exact)
{
	cJSON *v = json_parse_exact("{\"a\":1} \r\n\t", 11);
	cr_assert(v != NULL);
	cJSON_Delete(v);
	v = json_parse_exact("{}garbage", 2); /* only n bytes count */
	cr_assert(v != NULL);
	cJSON_Delete(v);
	cr_assert(json_parse_exact("{} x", 4) == NULL);
	cr_assert(json_parse_exact("1 2", 3) == NULL);
	cr_assert(json_parse_exact("{}{}", 4) == NULL);
	cr_assert(json_parse_exact("", 0) == NULL);
	cr_assert(json_parse_exact("{\"a\":", 5) == NULL);
	cr_assert(json_parse_exact("[1,2]", 4) == NULL); /* cut short */
}

static bool has_control(const char *s)
{
	return json_text_has_control(s, strlen(s));
}

Test(json, raw_control_characters)
{
	static const char nul_in_string[] = "{\"a\":\"x\0y\"}";
	cr_assert(json_text_has_control(nul_in_string, sizeof(nul_in_string) - 1));
	cr_assert(has_control("{\"a\":\"x\ty\"}"));     /* a raw tab inside a string */
	cr_assert(has_control("\x01{}"));                     /* between tokens */
	cr_assert(has_control("[\"\\\x01\"]"));           /* escaped by a backslash */
	cr_assert_not(has_control("{\"a\":\"x\\ty\\u0001\"}")); /* escapes are fine */
	cr_assert_not(has_control("{\r\n\t\"a\": \"\\\"\"}")); /* whitespace, \" */
	cr_assert_not(has_control("[\"\\\\\", 1]"));     /* "\\" ends the escape */
}

Test(json, print_capped_and_get_string)
{
	char *s = json_print_capped(NULL, 10);
	cr_assert(eq(str, s, STR("(none)")));
	free(s);
	cJSON *v = cJSON_CreateString("abcdefghijklmnopqrstuvwxyz");
	s = json_print_capped(v, 10);
	cr_assert(eq(str, s, STR("\"abcdef...")));
	cr_assert(eq(sz, strlen(s), 10));
	free(s);
	s = json_print_capped(v, 100);
	cr_assert(eq(str, s, STR("\"abcdefghijklmnopqrstuvwxyz\"")));
	free(s);
	cJSON_Delete(v);
	cr_assert(eq(str, STR(json_get_string(doc, "s")), STR("str")));
	cr_assert(json_get_string(doc, "a") == NULL);
	cr_assert(json_get_string(doc, "nope") == NULL);
}

/* ---- ISO 8601 --------------------------------------------------------------------------------- */

static char *fmt(int64_t ms)
{
	static char out[32];
	iso8601_format(ms, out, sizeof(out));
	return out;
}

static int64_t parse(const char *s)
{
	int64_t ms = -42;
	cr_assert(eq(int, iso8601_parse(s, &ms), 0), "\"%s\" did not parse", s);
	return ms;
}

Test(iso8601, format)
{
	cr_assert(eq(str, fmt(0), STR("1970-01-01T00:00:00Z")));
	cr_assert(eq(str, fmt(1705314600000), STR("2024-01-15T10:30:00Z")));
	cr_assert(eq(str, fmt(1705314600123), STR("2024-01-15T10:30:00.123Z")));
	cr_assert(eq(str, fmt(-1), STR("1969-12-31T23:59:59.999Z")));
	cr_assert(eq(str, fmt(951782400000), STR("2000-02-29T00:00:00Z")));
}

Test(iso8601, parse_forms)
{
	cr_assert(eq(i64, parse("1970-01-01"), 0));
	cr_assert(eq(i64, parse("2024-01-15"), 1705276800000));
	cr_assert(eq(i64, parse("2024-01-15T10:30:00Z"), 1705314600000));
	cr_assert(eq(i64, parse("2024-01-15T10:30Z"), 1705314600000));
	cr_assert(eq(i64, parse("2024-01-15T10:30:00"), 1705314600000)); /* no zone: UTC */
	cr_assert(eq(i64, parse("2024-01-15T10:30:00.5Z"), 1705314600500));
	cr_assert(eq(i64, parse("2024-01-15T10:30:00.123456Z"), 1705314600123));
	cr_assert(eq(i64, parse("2024-01-15T12:30:00+02:00"), 1705314600000));
	cr_assert(eq(i64, parse("2024-01-15T05:00:00-0530"), 1705314600000));
	cr_assert(eq(i64, parse("2000-02-29"), 951782400000));
}

Test(iso8601, round_trip)
{
	int64_t values[] = { 0, 1, 999, 1000, 1705314600123, 4102444799999, -86400000 };
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++)
		cr_assert(eq(i64, parse(fmt(values[i])), values[i]));
}

Test(iso8601, invalid_dates)
{
	const char *bad[] = { "", "2024", "2024-01", "2024-1-15", "24-01-15", "2024-00-10", "2024-13-01",
			      "2024-01-00", "2024-01-32", "2024-04-31", "2023-02-29", "2100-02-29",
			      "2024-01-15T", "2024-01-15T10", "2024-01-15T24:00Z", "2024-01-15T10:60Z",
			      "2024-01-15T10:30:61Z", "2024-01-15T10:30:00.Z", "2024-01-15T10:30:00Zjunk",
			      "2024-01-15T10:30:00+2:00", "2024-01-15T10:30:00+24:00", "2024-01-15x",
			      "2024/01/15", "abcd-ef-gh" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int64_t ms = 0;
		cr_assert(eq(int, iso8601_parse(bad[i], &ms), -1), "\"%s\" parsed", bad[i]);
	}
}

/* ---- UTF-8 ------------------------------------------------------------------------------------ */

static bool valid(const char *s)
{
	return utf8_valid(s, strlen(s));
}

Test(utf8, well_formed)
{
	cr_assert(valid(""));
	cr_assert(valid("plain ascii"));
	cr_assert(valid("h\xc3\xa9llo"));                    /* U+00E9 */
	cr_assert(valid("\xe2\x82\xac"));                    /* U+20AC */
	cr_assert(valid("\xf0\x9f\x98\x80"));                /* U+1F600 */
	cr_assert(valid("\xed\x9f\xbf"));                    /* U+D7FF, just below the surrogates */
	cr_assert(valid("\xee\x80\x80"));                    /* U+E000, just above */
	cr_assert(valid("\xf4\x8f\xbf\xbf"));                /* U+10FFFF */
	cr_assert(utf8_valid("a\0b", 3));                    /* NUL is a character */
}

Test(utf8, overlongs_surrogates_and_range)
{
	cr_assert(not(valid("\xc0\x80")));                   /* overlong NUL */
	cr_assert(not(valid("\xc1\xbf")));
	cr_assert(not(valid("\xe0\x80\x80")));
	cr_assert(not(valid("\xe0\x9f\xbf")));               /* overlong U+07FF */
	cr_assert(not(valid("\xf0\x80\x80\x80")));
	cr_assert(not(valid("\xf0\x8f\xbf\xbf")));           /* overlong U+FFFF */
	cr_assert(not(valid("\xed\xa0\x80")));               /* U+D800 */
	cr_assert(not(valid("\xed\xbf\xbf")));               /* U+DFFF */
	cr_assert(not(valid("\xf4\x90\x80\x80")));           /* U+110000 */
	cr_assert(not(valid("\xf5\x80\x80\x80")));
	cr_assert(not(valid("\xff")));
}

Test(utf8, truncated_and_stray_bytes)
{
	cr_assert(not(valid("\xe2\x82")));                   /* € cut short */
	cr_assert(not(valid("a\xf0\x9f\x98")));
	cr_assert(not(valid("\x80")));                       /* a lone continuation byte */
	cr_assert(not(valid("\xc3\x28")));                   /* lead byte then ASCII */
	cr_assert(not(utf8_valid("\xe2\x82\xac", 2)));       /* n cuts it */
}

Test(utf8, count)
{
	cr_assert(eq(sz, utf8_count("", 0), 0));
	cr_assert(eq(sz, utf8_count("h\xc3\xa9llo", 6), 5));
	cr_assert(eq(sz, utf8_count("\xf0\x9f\x98\x80!", 5), 2));
	cr_assert(eq(sz, utf8_count("\xff\xfe", 2), 2));     /* invalid bytes count one each */
	cr_assert(eq(sz, utf8_count("a\xe2\x82", 3), 3));
}

Test(utf8, truncate_on_a_boundary)
{
	const char *s = "h\xc3\xa9llo"; /* h é l l o: 6 bytes */
	cr_assert(eq(sz, utf8_truncate(s, 6, 10), 6));
	cr_assert(eq(sz, utf8_truncate(s, 6, 6), 6));
	cr_assert(eq(sz, utf8_truncate(s, 6, 3), 3));
	cr_assert(eq(sz, utf8_truncate(s, 6, 2), 1));        /* not inside é */
	cr_assert(eq(sz, utf8_truncate(s, 6, 0), 0));
	cr_assert(eq(sz, utf8_truncate("\xe2\x82\xac\xe2\x82\xac", 6, 5), 3));
	cr_assert(eq(sz, utf8_truncate("\xf0\x9f\x98\x80", 4, 3), 0));
}

/* ---- buf -------------------------------------------------------------------------------------- */

Test(buf, empty_buffer)
{
	struct buf b;
	buf_init(&b, 8);
	cr_assert(eq(str, STR(buf_str(&b)), STR("")));
	cr_assert(b.data == NULL);
	char *p = buf_detach(&b, NULL);
	cr_assert(eq(str, p, STR("")));
	free(p);
	buf_release(&b);
}

Test(buf, max_is_a_hard_limit)
{
	struct buf b;
	buf_init(&b, 8);
	cr_assert(eq(int, buf_adds(&b, "12345678"), BUF_OK));
	cr_assert(eq(int, buf_addc(&b, 'x'), BUF_TOO_BIG));
	cr_assert(eq(int, buf_add(&b, "", 0), BUF_OK));
	cr_assert(eq(str, STR(buf_str(&b)), STR("12345678")));
	buf_reset(&b);
	cr_assert(eq(int, buf_adds(&b, "123"), BUF_OK));
	cr_assert(eq(int, buf_printf(&b, "%s", "abcdef"), BUF_TOO_BIG)); /* all or nothing */
	cr_assert(eq(str, STR(buf_str(&b)), STR("123")));
	cr_assert(eq(int, buf_printf(&b, "%d%s", 45, "ab"), BUF_OK));
	cr_assert(eq(str, STR(buf_str(&b)), STR("12345ab")));
	cr_assert(eq(int, buf_add(&b, "x", SIZE_MAX), BUF_TOO_BIG));    /* no overflow */
	cr_assert(b.cap <= b.max + 1);
	buf_release(&b);
}

Test(buf, zero_max)
{
	struct buf b;
	buf_init(&b, 0);
	cr_assert(eq(int, buf_addc(&b, 'a'), BUF_TOO_BIG));
	cr_assert(eq(int, buf_add(&b, "", 0), BUF_OK));
	cr_assert(eq(sz, b.len, 0));
	buf_release(&b);
}

Test(buf, consume_detach_release)
{
	struct buf b;
	buf_init(&b, 1 << 20);
	for (int i = 0; i < 1000; i++)
		cr_assert(eq(int, buf_printf(&b, "%03d,", i), BUF_OK));
	cr_assert(eq(sz, b.len, 4000));
	buf_consume(&b, 3996);
	cr_assert(eq(str, STR(buf_str(&b)), STR("999,")));
	buf_consume(&b, 100);
	cr_assert(eq(sz, b.len, 0));
	cr_assert(eq(int, buf_adds(&b, "kept"), BUF_OK));
	size_t len = 0;
	char *p = buf_detach(&b, &len);
	cr_assert(eq(sz, len, 4));
	cr_assert(eq(str, p, STR("kept")));
	cr_assert(eq(sz, b.len, 0));
	cr_assert(eq(sz, b.max, 1 << 20));
	free(p);
	buf_release(&b);
}
