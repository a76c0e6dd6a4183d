/* Unit tests for runner/match.c: every matcher keyword passing and failing, diff lines, streams, capture, validation. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "common/json.h"
#include "runner/match.h"
#include "runner/rx.h"
#include "runner/seqre.h"
#include "tests/unit/unit.h"

static struct response resp;
static struct vars *vars;
static struct buf diff, err;

static void setup(void)
{
	response_init(&resp);
	vars = vars_new(NULL);
	vars_set_string(vars, "CONV", "c-1");
	vars_set(vars, "CODE", cJSON_CreateNumber(401));
	buf_init(&diff, 1024 * 1024);
	buf_init(&err, 64 * 1024);
}

static void teardown(void)
{
	response_release(&resp);
	vars_free(vars);
	buf_release(&diff);
	buf_release(&err);
}

TestSuite(match, .init = setup, .fini = teardown);
TestSuite(stream, .init = setup, .fini = teardown);
TestSuite(validate, .init = setup, .fini = teardown);
TestSuite(capture, .init = setup, .fini = teardown);

static void add_header(const char *name, const char *value)
{
	resp.headers = realloc(resp.headers, (resp.nheaders + 1) * sizeof(*resp.headers));
	resp.headers[resp.nheaders].name = strdup(name);
	resp.headers[resp.nheaders].value = strdup(value);
	resp.nheaders++;
}

static void set_body(const char *body)
{
	buf_reset(&resp.body);
	buf_adds(&resp.body, body);
}

/* One event per line of lines; each line must be JSON. */
static void set_stream(const char *lines)
{
	resp.format = STREAM_NDJSON;
	set_body(lines);
	const char *p = lines;
	while (*p) {
		size_t n = strcspn(p, "\n");
		cJSON *j = json_parse_exact(p, n);
		cr_assert(j != NULL, "bad test line %.*s", (int)n, p);
		cr_assert(eq(int, response_add_event(&resp, j, p, n, 0, 1000000), 0));
		p += n;
		if (*p)
			p++;
	}
}

/* Run expect_check on the expectation text; returns the failure count, diff in diff. */
static int check(const char *expect)
{
	cJSON *e = cJSON_Parse(expect);
	cr_assert(e != NULL, "bad test expectation %s", expect);
	buf_reset(&diff);
	int n = expect_check(e, &resp, vars, &diff);
	cJSON_Delete(e);
	return n;
}

/* matcher_check of matcher text against value text ("" = absent). */
static int mcheck(const char *matcher, const char *value)
{
	cJSON *m = cJSON_Parse(matcher), *v = *value ? cJSON_Parse(value) : NULL;
	cr_assert(m != NULL && (v || !*value));
	buf_reset(&diff);
	int n = matcher_check(m, v, "x", vars, &diff);
	cJSON_Delete(m);
	cJSON_Delete(v);
	return n;
}

/* expect_validate / matcher_validate of text: returns the error text ("" when valid). */
static char *validate(const char *expect)
{
	cJSON *e = cJSON_Parse(expect);
	cr_assert(e != NULL, "bad test expectation %s", expect);
	buf_reset(&err);
	int rc = expect_validate(e, "expect", &err);
	cJSON_Delete(e);
	cr_assert(eq(int, rc, err.len ? -1 : 0), "rc %d with %s", rc, buf_str(&err));
	return (char *)buf_str(&err);
}

/* ---- status, headers, body ------------------------------------------------------------ */

Test(match, status_literal)
{
	resp.status = 200;
	cr_assert(eq(int, check("{\"status\":200}"), 0));
	cr_assert(eq(int, check("{\"status\":401}"), 1));
	cr_assert(eq(str, STR(buf_str(&diff)), STR("status: expected 401, got 200\n")));
}

Test(match, status_matchers)
{
	resp.status = 404;
	cr_assert(eq(int, check("{\"status\":{\"range\":[400,499]}}"), 0));
	cr_assert(eq(int, check("{\"status\":{\"one_of\":[200,201]}}"), 1));
	cr_assert(eq(str, STR(buf_str(&diff)), STR("status: expected one of [200,201], got 404\n")));
	cr_assert(eq(int, check("{\"status\":{\"range\":[500,null]}}"), 1));
	cr_assert(eq(str, STR(buf_str(&diff)), STR("status: expected a number >= 500, got 404\n")));
}

Test(match, no_response_is_one_line)
{
	resp.transport_error = strdup("connection refused");
	cr_assert(eq(int, check("{\"status\":200,\"body\":{\"/a\":1}}"), 1));
	cr_assert(eq(str, STR(buf_str(&diff)), STR("no response: connection refused\n")));
}

Test(match, headers_case_insensitive_regex)
{
	resp.status = 200;
	add_header("Content-Type", "text/plain");
	cr_assert(eq(int, check("{\"headers\":{\"content-type\":{\"regex\":\"^text/\"}}}"), 0));
	cr_assert(eq(int, check("{\"headers\":{\"content-type\":{\"regex\":\"^application/x-ndjson\"}}}"), 1));
	cr_assert(eq(str, STR(buf_str(&diff)),
		     STR("header content-type: \"text/plain\" does not match /^application\\/x-ndjson/\n")));
	cr_assert(eq(int, check("{\"headers\":{\"CONTENT-TYPE\":\"text/plain\"}}"), 0));
}

Test(match, header_exists_false_requires_absence)
{
	add_header("X-Powered-By", "php");
	cr_assert(eq(int, check("{\"headers\":{\"x-other\":{\"exists\":false}}}"), 0));
	cr_assert(eq(int, check("{\"headers\":{\"x-powered-by\":{\"exists\":false}}}"), 1));
	cr_assert(eq(str, STR(buf_str(&diff)), STR("header x-powered-by: expected no value, got \"php\"\n")));
	cr_assert(eq(int, check("{\"headers\":{\"retry-after\":{\"regex\":\"^[0-9]+$\"}}}"), 1));
	cr_assert(eq(str, STR(buf_str(&diff)),
		     STR("header retry-after: expected {\"regex\":\"^[0-9]+$\"}, got nothing\n")));
}

Test(match, body_pointer_equals)
{
	set_body("{\"error\":\"Forbidden\",\"a/b\":{\"~k\":[10,20]}}");
	cr_assert(eq(int, check("{\"body\":{\"/error\":\"Forbidden\",\"/a~1b/~0k/1\":20}}"), 0));
	cr_assert(eq(int, check("{\"body\":{\"/error\":\"Unauthorized\"}}"), 1));
	cr_assert(eq(str, STR(buf_str(&diff)), STR("body /error: expected \"Unauthorized\", got \"Forbidden\"\n")));
	cr_assert(eq(int, check("{\"body\":{\"/missing\":1}}"), 1));
	cr_assert(eq(str, STR(buf_str(&diff)), STR("body /missing: expected 1, got nothing\n")));
	cr_assert(eq(int, check("{\"body\":{\"\":{\"type\":\"object\",\"length\":2}}}"), 0));
}

Test(match, body_not_json_is_one_line)
{
	set_body("<html>\n oops</html>");
	cr_assert(eq(int, check("{\"body\":{\"/a\":1,\"/b\":2}}"), 1));
	cr_assert(eq(str, STR(buf_str(&diff)), STR("body is not JSON: <html>\\n oops</html>\n")));
}

Test(match, body_not_json_shows_at_most_200_bytes)
{
	char big[1000];
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	set_body(big);
	cr_assert(eq(int, check("{\"body\":{\"/a\":1}}"), 1));
	cr_assert(eq(sz, diff.len, strlen("body is not JSON: ") + 200 + 3 + 1));
	assert_contains(buf_str(&diff), "zzz...\n");
}

Test(match, body_text)
{
	set_body("plain words");
	cr_assert(eq(int, check("{\"body_text\":{\"regex\":\"words$\"}}"), 0));
	cr_assert(eq(int, check("{\"body_text\":\"plain\"}"), 1));
	cr_assert(eq(str, STR(buf_str(&diff)), STR("body_text: expected \"plain\", got \"plain words\"\n")));
}

Test(match, every_failure_is_reported)
{
	resp.status = 200;
	set_body("{\"a\":1,\"b\":2}");
	cr_assert(eq(int, check("{\"status\":201,\"body\":{\"/a\":2,\"/b\":3}}"), 3));
	cr_assert(eq(str, STR(buf_str(&diff)),
		     STR("status: expected 201, got 200\nbody /a: expected 2, got 1\nbody /b: expected 3, got 2\n")));
}

Test(match, variables_are_expanded_in_matchers)
{
	resp.status = 401;
	set_body("{\"conversationId\":\"c-1\"}");
	cr_assert(eq(int, check("{\"status\":\"${CODE}\",\"body\":{\"/conversationId\":{\"equals\":\"${CONV}\"}}}"), 0));
	cr_assert(eq(int, check("{\"body\":{\"/conversationId\":\"${NOPE}\"}}"), 1));
	cr_assert(eq(str, STR(buf_str(&diff)), STR("expect: unknown variable ${NOPE}\n")));
}

/* ---- keywords, one by one --------------------------------------------------------------- */

Test(match, literal_numbers_by_value)
{
	cr_assert(eq(int, mcheck("1", "1.0"), 0));
	cr_assert(eq(int, mcheck("1", "\"1\""), 1));
	cr_assert(eq(str, STR(buf_str(&diff)), STR("x: expected 1, got \"1\"\n")));
	cr_assert(eq(int, mcheck("null", "null"), 0));
	cr_assert(eq(int, mcheck("true", "false"), 1));
}

Test(match, equals)
{
	cr_assert(eq(int, mcheck("{\"equals\":{\"a\":[1,2],\"b\":1e2}}", "{\"b\":100,\"a\":[1,2]}"), 0));
	cr_assert(eq(int, mcheck("{\"equals\":{\"a\":[1,2]}}", "{\"a\":[2,1]}"), 1));
	cr_assert(eq(str, STR(buf_str(&diff)), STR("x: expected {\"a\":[1,2]}, got {\"a\":[2,1]}\n")));
	cr_assert(eq(int, mcheck("{\"equals\":{\"a\":1}}", "{\"a\":1,\"b\":2}"), 1));
}

Test(match, type)
{
	const char *ok[][2] = { { "string", "\"s\"" }, { "number", "1.5" }, { "integer", "3" },
				{ "integer", "3.0" }, { "boolean", "false" }, { "null", "null" },
				{ "object", "{}" }, { "array", "[]" } };
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		char m[64];
		snprintf(m, sizeof(m), "{\"type\":\"%s\"}", ok[i][0]);
		cr_assert(eq(int, mcheck(m, ok[i][1]), 0), "%s %s", ok[i][0], ok[i][1]);
	}
	cr_assert(eq(int, mcheck("{\"type\":\"string\"}", "5"), 1));
	cr_assert(eq(str, STR(buf_str(&diff)), STR("x: expected type string, got number\n")));
	cr_assert(eq(int, mcheck("{\"type\":\"integer\"}", "1.5"), 1));
	cr_assert(eq(str, STR(buf_str(&diff)), STR("x: expected type integer, got number 1.5\n")));
	cr_assert(eq(int, mcheck("{\"type\":\"object\"}", "[]"), 1));
	cr_assert(eq(int, mcheck("{\"type\":\"null\"}", ""), 1));
	cr_assert(eq(str, STR(buf_str(&diff)), STR("x: expected {\"type\":\"null\"}, got nothing\n")));
}

Test(match, regex)
{
	cr_assert(eq(int, mcheck("{\"regex\":\"b+\"}", "\"abbbc\""), 0));
	cr_assert(eq(int, mcheck("{\"regex\":\"^b+$\"}", "\"abbbc\""), 1));
	cr_assert(eq(str, STR(buf_str(&diff)), STR("x: \"abbbc\" does not match /^b+$/\n")));
	cr_assert(eq(int, mcheck("{\"regex\":\"^[0-9]+$\"}", "42"), 1));
	cr_assert(eq(str, STR(buf_str(&diff)), STR("x: expected a string matching /^[0-9]+$/, got number 42\n")));
	cr_assert(eq(int, mcheck("{\"regex\":\"(a|b){2}\"}", "\"ab\""), 0));
	cr_assert(eq(int, mcheck("{\"regex\":\"(\"}", "\"(\""), 1));
	assert_contains(buf_str(&diff), "x: bad regex /(/: ");
}

/* ---- the regex dialect: PCRE2 (runner/rx.h) ---------------------------------------------- */

/* matcher_check of {"regex": pattern} on the string value (NULL: absent), without JSON escaping in the test. */
static int rcheck(const char *pattern, const char *value)
{
	cJSON *m = cJSON_CreateObject();
	cJSON_AddStringToObject(m, "regex", pattern);
	cJSON *v = value ? cJSON_CreateString(value) : NULL;
	buf_reset(&diff);
	int n = matcher_check(m, v, "x", NULL, &diff);
	cJSON_Delete(m);
	cJSON_Delete(v);
	return n;
}

Test(match, regex_pcre2_escapes_and_classes)
{
	cr_assert(eq(int, rcheck("^\\d{3}$", "123"), 0));
	cr_assert(eq(int, rcheck("^\\d+$", "12a"), 1));
	cr_assert(eq(int, rcheck("^a\\sb$", "a\tb"), 0));
	cr_assert(eq(int, rcheck("^\\w+$", "conv_1"), 0));
	cr_assert(eq(int, rcheck("^[[:alpha:]]+$", "abc"), 0));
	cr_assert(eq(int, rcheck("^[\\d.]+$", "1.5"), 0), "a backslash class inside brackets: %s", buf_str(&diff));
	cr_assert(eq(int, rcheck("\\bword\\b", "a word here"), 0));
	/* No PCRE2_UCP: \d is [0-9], an Arabic-Indic digit is not one. */
	cr_assert(eq(int, rcheck("^\\d$", "\xd9\xa3"), 1));
	/* UTF mode: "." is one code point, not one byte. */
	cr_assert(eq(int, rcheck("^.$", "\xc3\xa9"), 0));
	cr_assert(eq(int, rcheck("^\\p{Lu}", "\xc3\x89t\xc3\xa9"), 0));
	cr_assert(eq(int, rcheck("(?i)^\xc3\xa9t\xc3\xa9$", "\xc3\x89T\xc3\x89"), 0));
}

Test(match, regex_pcre2_lazy_lookaround_and_search)
{
	cr_assert(eq(int, rcheck("^<.+?>$", "<a><b>"), 0));
	cr_assert(eq(int, rcheck("^a.*?b$", "axxbyyb"), 0));
	cr_assert(eq(int, rcheck("^(?=.*\\d)(?=.*[a-z]).{8,}$", "abcd1234"), 0));
	cr_assert(eq(int, rcheck("^(?!error)", "error: x"), 1));
	cr_assert(eq(int, rcheck("no-store", "private, no-store, max-age=0"), 0), "unanchored: a search");
	cr_assert(eq(int, rcheck("^no-store", "private, no-store"), 1));
	cr_assert(eq(str, STR(buf_str(&diff)), STR("x: \"private, no-store\" does not match /^no-store/\n")));
}

/* "." and "$" read as POSIX regexec read them without REG_NEWLINE, so the suites' patterns keep their meaning. */
Test(match, regex_dot_and_dollar_keep_their_posix_meaning)
{
	cr_assert(eq(int, rcheck("^[0-9]+$", "42\n"), 1), "$ is the very end, not before a last newline");
	cr_assert(eq(int, rcheck("^[0-9]+\\n$", "42\n"), 0));
	cr_assert(eq(int, rcheck("^[{].*[}]\n$", "{\"a\":1}\n{\"b\":2}\n"), 0), ". matches a newline");
	cr_assert(eq(int, rcheck("^[{].*[}]\n$", "{\"a\":1}\n\n"), 1));
	cr_assert(eq(int, rcheck("(?m)^b$", "a\nb\nc"), 0), "(?m) makes ^ and $ match at lines");
	cr_assert(eq(int, rcheck("(?-s)^a.b$", "a\nb"), 1), "(?-s) makes . stop at a newline");
	cr_assert(eq(int, rcheck("^(data: \\{[^\n]*\\}\n\n)+$", "data: {\"a\":1}\n\ndata: {}\n\n"), 0));
}

Test(match, regex_catastrophic_pattern_ends_fast_with_a_reason)
{
	char s[64];
	memset(s, 'a', 40);
	strcpy(s + 40, "b");
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert(eq(int, rcheck("(a+)+$", s), 1));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double ms = (double)(t1.tv_sec - t0.tv_sec) * 1000.0 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	cr_expect(ms < 2000, "took %.0f ms", ms);
	cr_assert(eq(str, STR(buf_str(&diff)),
		     STR("x: cannot match /(a+)+$/ against \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab\": match limit "
			 "exceeded (more than 1000000 backtracking steps; the pattern backtracks too much)\n")));
	/* A search that gave up is no reason for "not" to pass. */
	cJSON *m = cJSON_CreateObject();
	cJSON_AddStringToObject(cJSON_AddObjectToObject(m, "not"), "regex", "(a+)+$");
	cJSON *v = cJSON_CreateString(s);
	buf_reset(&diff);
	cr_assert(eq(int, matcher_check(m, v, "x", NULL, &diff), 1));
	assert_contains(buf_str(&diff), "x: cannot match /(a+)+$/ against ");
	cr_assert(strstr(buf_str(&diff), "expected not") == NULL, "%s", buf_str(&diff));
	cJSON_Delete(m);
	cJSON_Delete(v);
}

Test(match, regex_subject_not_utf8_is_searched_and_said)
{
	cr_assert(eq(int, rcheck("^text/", "text/\xff\xfe"), 0));
	cr_assert(eq(int, rcheck("^json", "text/\xff"), 1));
	assert_contains(buf_str(&diff), "(not valid UTF-8) does not match /^json/");
}

Test(match, regex_compiled_once_at_load)
{
	const char *ex = "{\"headers\":{\"x-id\":{\"regex\":\"^id-[0-9]+-once$\"}},"
			 "\"body\":{\"/a\":{\"regex\":\"^id-[0-9]+-once$\"},\"/b\":{\"not\":{\"regex\":\"^zz-once\"}}}}";
	unsigned long before = rx_compilations();
	cr_assert(eq(str, validate(ex), STR("")));
	cr_assert(eq(ulong, rx_compilations() - before, 2), "one per distinct pattern");
	cr_assert(eq(str, validate(ex), STR("")));
	cr_assert(eq(ulong, rx_compilations() - before, 2), "a second load finds them kept");
	add_header("X-Id", "id-7-once");
	resp.json = cJSON_Parse("{\"a\":\"id-8-once\",\"b\":\"ok\"}");
	for (int i = 0; i < 5; i++)
		cr_assert(eq(int, check(ex), 0), "%s", buf_str(&diff));
	cr_assert(eq(ulong, rx_compilations() - before, 2), "checks compile nothing");
	/* A pattern with variables is known only when the step runs: compiled for each check. */
	cr_assert(eq(int, check("{\"body\":{\"/a\":{\"regex\":\"^${CONV}|id-8\"}}}"), 0), "%s", buf_str(&diff));
	cr_assert(eq(ulong, rx_compilations() - before, 3));
}

Test(match, sequence_compiled_once_at_load)
{
	const char *ex = "{\"stream\":{\"format\":\"ndjson\",\"sequence\":\"start once* done\"}}";
	unsigned long before = seqre_compilations();
	cr_assert(eq(str, validate(ex), STR("")));
	cr_assert(eq(ulong, seqre_compilations() - before, 1));
	cr_assert(eq(str, validate(ex), STR("")));
	cr_assert(eq(ulong, seqre_compilations() - before, 1), "a second load finds it kept");
	cJSON *stream = cJSON_Parse("{\"sequence\":\"start once* done\"}");
	struct event ev[2] = { { .type = (char *)"start" }, { .type = (char *)"done" } };
	for (int i = 0; i < 5; i++)
		cr_assert(eq(int, stream_check_events(stream, ev, 2, NULL, &diff), 0), "%s", buf_str(&diff));
	cr_assert(eq(ulong, seqre_compilations() - before, 1), "checks compile nothing");
	cJSON_Delete(stream);
}

struct search_arg {
	const char *pattern;
	int fails;
};

static void *search_many(void *arg)
{
	struct search_arg *a = arg;
	struct buf why;
	buf_init(&why, 1024);
	for (int i = 0; i < 2000; i++) {
		if (rx_search(a->pattern, "conv_abcdef012345", 17, &why) != RX_MATCH ||
		    rx_search(a->pattern, "conv_ABC", 8, &why) != RX_NOMATCH)
			a->fails++;
	}
	buf_release(&why);
	return NULL;
}

Test(match, regex_kept_code_is_shared_by_threads)
{
	const char *pattern = "^conv_[a-z0-9]{12,}$";
	cr_assert(eq(int, rx_register(pattern, &err), 0));
	unsigned long before = rx_compilations();
	pthread_t t[4];
	struct search_arg a[4];
	for (int i = 0; i < 4; i++) {
		a[i] = (struct search_arg){ pattern, 0 };
		cr_assert(eq(int, pthread_create(&t[i], NULL, search_many, &a[i]), 0));
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		cr_expect(eq(int, a[i].fails, 0));
	}
	cr_assert(eq(ulong, rx_compilations(), before));
	rx_table_release();
	cr_assert(eq(int, rx_search(pattern, "conv_abcdef012345", 17, &err), RX_MATCH), "compiled again after release");
}

Test(match, range)
{
	cr_assert(eq(int, mcheck("{\"range\":[1,10]}", "1"), 0));
	cr_assert(eq(int, mcheck("{\"range\":[1,10]}", "10"), 0));
	cr_assert(eq(int, mcheck("{\"range\":[1,10]}", "10.5"), 1));
	cr_assert(eq(str, STR(buf_str(&diff)), STR("x: expected a number in [1, 10], got 10.5\n")));
	cr_assert(eq(int, mcheck("{\"range\":[null,0]}", "-3"), 0));
	cr_assert(eq(int, mcheck("{\"range\":[null,0]}", "3"), 1));
	cr_assert(eq(str, STR(buf_str(&diff)), STR("x: expected a number <= 0, got 3\n")));
	cr_assert(eq(int, mcheck("{\"range\":[0,1]}", "\"0.5\""), 1));
}

Test(match, one_of)
{
	cr_assert(eq(int, mcheck("{\"one_of\":[\"a\",2,null]}", "2.0"), 0));
	cr_assert(eq(int, mcheck("{\"one_of\":[\"a\",2,null]}", "null"), 0));
	cr_assert(eq(int, mcheck("{\"one_of\":[\"a\",2,null]}", "\"b\""), 1));
	cr_assert(eq(str, STR(buf_str(&diff)), STR("x: expected one of [\"a\",2,null], got \"b\"\n")));
}

Test(match, exists)
{
	cr_assert(eq(int, mcheck("{\"exists\":true}", "null"), 0));
	cr_assert(eq(int, mcheck("{\"exists\":true}", ""), 1));
	cr_assert(eq(str, STR(buf_str(&diff)), STR("x: expected a value, got nothing\n")));
	cr_assert(eq(int, mcheck("{\"exists\":false}", ""), 0));
	cr_assert(eq(int, mcheck("{\"exists\":false}", "0"), 1));
	cr_assert(eq(str, STR(buf_str(&diff)), STR("x: expected no value, got 0\n")));
	/* without exists, other keywords need a value */
	cr_assert(eq(int, mcheck("{\"one_of\":[1]}", ""), 1));
	/* exists false with other keywords: absent passes */
	cr_assert(eq(int, mcheck("{\"exists\":false,\"type\":\"string\"}", ""), 0));
}

Test(match, length_counts_characters_items_members)
{
	cr_assert(eq(int, mcheck("{\"length\":5}", "\"h\\u00e9llo\""), 0)); /* 5 characters, 6 bytes */
	cr_assert(eq(int, mcheck("{\"length\":3}", "\"\\ud83d\\ude00ab\""), 0)); /* emoji is one */
	cr_assert(eq(int, mcheck("{\"length\":2}", "[1,[2,3]]"), 0));
	cr_assert(eq(int, mcheck("{\"length\":1}", "{\"a\":{\"b\":1}}"), 0));
	cr_assert(eq(int, mcheck("{\"length\":4}", "[1,2,3]"), 1));
	cr_assert(eq(str, STR(buf_str(&diff)), STR("x: expected length 4, got length 3\n")));
	cr_assert(eq(int, mcheck("{\"length\":{\"range\":[1,null]}}", "\"\""), 1));
	cr_assert(eq(str, STR(buf_str(&diff)), STR("x length: expected a number >= 1, got 0\n")));
	cr_assert(eq(int, mcheck("{\"length\":1}", "7"), 1));
	cr_assert(eq(str, STR(buf_str(&diff)),
		     STR("x: expected a string, array or object for length, got number 7\n")));
}

Test(match, not)
{
	cr_assert(eq(int, mcheck("{\"not\":{\"equals\":\"\"}}", "\"x\""), 0));
	cr_assert(eq(int, mcheck("{\"not\":\"x\"}", "\"x\""), 1));
	cr_assert(eq(str, STR(buf_str(&diff)), STR("x: expected not \"x\", got \"x\"\n")));
	cr_assert(eq(int, mcheck("{\"not\":{\"exists\":true}}", ""), 0)); /* not only: absence allowed */
	cr_assert(eq(int, mcheck("{\"not\":{\"not\":{\"type\":\"string\"}}}", "\"s\""), 0));
}

Test(match, keywords_combine)
{
	cr_assert(eq(int, mcheck("{\"type\":\"string\",\"regex\":\"^a\",\"length\":3}", "\"abc\""), 0));
	cr_assert(eq(int, mcheck("{\"type\":\"string\",\"regex\":\"^b\",\"length\":2}", "\"abc\""), 2));
}

Test(match, long_values_are_capped)
{
	char v[1200];
	strcpy(v, "\"");
	for (int i = 0; i < 1000; i++)
		strcat(v, "y");
	strcat(v, "\"");
	cr_assert(eq(int, mcheck("\"short\"", v), 1));
	cr_assert(diff.len < 300, "%s", buf_str(&diff));
	assert_contains(buf_str(&diff), "yyy...\n");
}

/* ---- streams ---------------------------------------------------------------------------------- */

static const char *good_stream =
	"{\"type\":\"start\",\"conversationId\":\"c-1\"}\n"
	"{\"type\":\"token\",\"token\":\"We\"}\n"
	"{\"type\":\"token\",\"token\":\" are\"}\n"
	"{\"type\":\"done\",\"message\":\"We are\",\"conversationId\":\"c-1\"}";

Test(stream, a_good_stream_passes_everything)
{
	set_stream(good_stream);
	cr_assert(eq(int, check("{\"stream\":{\"format\":\"ndjson\",\"sequence\":\"start token* done\","
				"\"each\":{\"start\":{\"/conversationId\":{\"type\":\"string\"}},"
				"\"token\":{\"/token\":{\"type\":\"string\"}},\"*\":{\"/type\":{\"exists\":true}}},"
				"\"count\":{\"token\":{\"range\":[1,null]},\"*\":4,\"error\":0},"
				"\"concat\":{\"of\":\"token\",\"field\":\"/token\",\"equals\":\"done/message\"},"
				"\"same\":[[\"start/conversationId\",\"done/conversationId\"]]}}"),
		     0), "%s", buf_str(&diff));
}

Test(stream, sequence_diverges)
{
	set_stream("{\"type\":\"start\"}\n{\"type\":\"token\"}\n{\"type\":\"token\"}\n{\"type\":\"error\"}");
	cr_assert(eq(int, check("{\"stream\":{\"format\":\"ndjson\",\"sequence\":\"start token* done\"}}"), 1));
	cr_assert(eq(str, STR(buf_str(&diff)),
		     STR("stream: sequence \"start token* done\" does not match start token token error "
			 "(diverges at event 4)\n")));
}

Test(stream, sequence_ends_early_and_empty)
{
	set_stream("{\"type\":\"start\"}\n{\"type\":\"token\"}");
	cr_assert(eq(int, check("{\"stream\":{\"format\":\"ndjson\",\"sequence\":\"start token* done\"}}"), 1));
	assert_contains(buf_str(&diff), "does not match start token (the stream ends too early after event 2)");
	response_release(&resp);
	response_init(&resp);
	resp.format = STREAM_NDJSON;
	cr_assert(eq(int, check("{\"stream\":{\"format\":\"ndjson\",\"sequence\":\"start\"}}"), 1));
	cr_assert(eq(str, STR(buf_str(&diff)), STR("stream: sequence \"start\" does not match an empty stream\n")));
}

Test(stream, untyped_event_is_question_mark)
{
	set_stream("{\"type\":\"start\"}\n{\"kind\":\"x\"}\n{\"type\":7}");
	cr_assert(eq(str, resp.events[1].type, STR("?")));
	cr_assert(eq(int, check("{\"stream\":{\"format\":\"ndjson\",\"sequence\":\"start . .\",\"count\":{\"?\":2}}}"), 0));
}

Test(stream, long_sequence_is_elided_around_the_divergence)
{
	struct buf lines;
	buf_init(&lines, 1 << 20);
	buf_adds(&lines, "{\"type\":\"start\"}\n");
	for (int i = 0; i < 300; i++)
		buf_adds(&lines, "{\"type\":\"token\"}\n");
	buf_adds(&lines, "{\"type\":\"error\"}\n{\"type\":\"token\"}");
	set_stream(buf_str(&lines));
	buf_release(&lines);
	cr_assert(eq(int, check("{\"stream\":{\"format\":\"ndjson\",\"sequence\":\"start token* done\"}}"), 1));
	cr_assert(eq(str, STR(buf_str(&diff)),
		     STR("stream: sequence \"start token* done\" does not match start token token ... token token "
			 "token error token (diverges at event 302)\n")));
}

Test(stream, each_reports_event_number_and_type)
{
	set_stream("{\"type\":\"start\"}\n{\"type\":\"token\",\"token\":5}\n{\"type\":\"token\",\"token\":\"x\"}");
	cr_assert(eq(int, check("{\"stream\":{\"format\":\"ndjson\",\"each\":{\"token\":{\"/token\":{\"type\":\"string\"}}}}}"), 1));
	cr_assert(eq(str, STR(buf_str(&diff)), STR("stream event 2 (token) /token: expected type string, got number\n")));
	cr_assert(eq(int, check("{\"stream\":{\"format\":\"ndjson\",\"each\":{\"*\":{\"/token\":{\"exists\":true}}}}}"), 1));
	cr_assert(eq(str, STR(buf_str(&diff)), STR("stream event 1 (start) /token: expected a value, got nothing\n")));
}

Test(stream, each_summarises_many_failures)
{
	struct buf lines;
	buf_init(&lines, 1 << 20);
	for (int i = 0; i < 50; i++)
		buf_adds(&lines, "{\"type\":\"token\",\"token\":1}\n");
	set_stream(buf_str(&lines));
	buf_release(&lines);
	cr_assert(eq(int, check("{\"stream\":{\"format\":\"ndjson\",\"each\":{\"token\":{\"/token\":{\"type\":\"string\"}}}}}"), 50));
	assert_contains(buf_str(&diff), "stream event 10 (token) /token");
	cr_assert(strstr(buf_str(&diff), "stream event 11 (token)") == NULL);
	assert_contains(buf_str(&diff), "stream: each token /token also failed on 40 more events\n");
}

Test(stream, count)
{
	set_stream(good_stream);
	cr_assert(eq(int, check("{\"stream\":{\"format\":\"ndjson\",\"count\":{\"token\":3}}}"), 1));
	cr_assert(eq(str, STR(buf_str(&diff)), STR("stream count of token: expected 3, got 2\n")));
	cr_assert(eq(int, check("{\"stream\":{\"format\":\"ndjson\",\"count\":{\"*\":{\"range\":[5,null]}}}}"), 1));
	cr_assert(eq(str, STR(buf_str(&diff)), STR("stream count of *: expected a number >= 5, got 4\n")));
}

Test(stream, concat_equals_mismatch)
{
	set_stream("{\"type\":\"token\",\"token\":\"We\"}\n{\"type\":\"token\",\"token\":\" are\"}\n"
		   "{\"type\":\"done\",\"message\":\"We are a\"}");
	cr_assert(eq(int, check("{\"stream\":{\"format\":\"ndjson\",\"concat\":{\"of\":\"token\",\"field\":\"/token\",\"equals\":\"done/message\"}}}"), 1));
	cr_assert(eq(str, STR(buf_str(&diff)),
		     STR("stream: concat of token/token (\"We are\") != done/message (\"We are a\")\n")));
}

Test(stream, concat_trim_value_and_array)
{
	set_stream("{\"type\":\"token\",\"token\":\" We\"}\n{\"type\":\"token\",\"token\":\" are \"}\n"
		   "{\"type\":\"done\",\"message\":\"We are\"}");
	cr_assert(eq(int, check("{\"stream\":{\"format\":\"ndjson\",\"concat\":{\"of\":\"token\",\"field\":\"/token\",\"equals\":\"done/message\"}}}"), 1));
	cr_assert(eq(int, check("{\"stream\":{\"format\":\"ndjson\",\"concat\":[{\"of\":\"token\",\"field\":\"/token\",\"equals\":\"done/message\",\"trim\":true},"
				"{\"of\":\"token\",\"field\":\"/token\",\"value\":{\"regex\":\"^ We are $\"}}]}}"), 0),
		  "%s", buf_str(&diff));
	cr_assert(eq(int, check("{\"stream\":{\"format\":\"ndjson\",\"concat\":{\"of\":\"token\",\"field\":\"/token\",\"value\":\"x\"}}}"), 1));
	cr_assert(eq(str, STR(buf_str(&diff)), STR("stream: concat of token/token: expected \"x\", got \" We are \"\n")));
}

Test(stream, concat_missing_pieces)
{
	set_stream("{\"type\":\"token\",\"token\":\"a\"}\n{\"type\":\"token\",\"token\":3}");
	cr_assert(eq(int, check("{\"stream\":{\"format\":\"ndjson\",\"concat\":{\"of\":\"token\",\"field\":\"/token\",\"equals\":\"done/message\"}}}"), 2));
	cr_assert(eq(str, STR(buf_str(&diff)),
		     STR("stream event 2 (token) /token: expected a string to concatenate, got 3\n"
			 "stream: concat of token/token: no done event for done/message\n")));
}

Test(stream, same)
{
	set_stream("{\"type\":\"start\",\"id\":\"a\"}\n{\"type\":\"done\",\"id\":\"b\",\"n\":1}");
	cr_assert(eq(int, check("{\"stream\":{\"format\":\"ndjson\",\"same\":[[\"start/id\",\"done/id\"]]}}"), 1));
	cr_assert(eq(str, STR(buf_str(&diff)), STR("stream: same: start/id (\"a\") != done/id (\"b\")\n")));
	cr_assert(eq(int, check("{\"stream\":{\"format\":\"ndjson\",\"same\":[[\"start/id\",\"start/id\"],[\"start/n\",\"done/n\"],[\"done/id\",\"end/id\"]]}}"), 2));
	cr_assert(eq(str, STR(buf_str(&diff)),
		     STR("stream: same: start/n is missing\nstream: same: no end event for end/id\n")));
}

Test(stream, errors_of_the_stream_are_reported)
{
	set_stream("{\"type\":\"start\"}");
	resp.stream_error = strdup("line 2 is not JSON: {oops");
	resp.transport_error = strdup("connection reset");
	resp.status = 200;
	cr_assert(eq(int, check("{\"status\":200,\"stream\":{\"sequence\":\"start\"}}"), 2));
	cr_assert(eq(str, STR(buf_str(&diff)),
		     STR("stream: transport error after 1 events: connection reset\nstream: line 2 is not JSON: {oops\n")));
}

Test(stream, format_mismatch)
{
	set_stream("{\"type\":\"start\"}");
	resp.format = STREAM_SSE;
	cr_assert(eq(int, check("{\"stream\":{\"format\":\"ndjson\"}}"), 1));
	cr_assert(eq(str, STR(buf_str(&diff)), STR("stream: expected format ndjson, got sse\n")));
}

/* ---- capture ---------------------------------------------------------------------------------- */

static char *capture(const char *source)
{
	static char out[512];
	buf_reset(&err);
	cJSON *v = capture_value(source, &resp, &err);
	if (!v) {
		snprintf(out, sizeof(out), "ERR %s", buf_str(&err));
		return out;
	}
	char *s = cJSON_PrintUnformatted(v);
	snprintf(out, sizeof(out), "%s", s);
	free(s);
	cJSON_Delete(v);
	return out;
}

Test(capture, sources)
{
	resp.status = 201;
	add_header("X-Request-Id", "r-9");
	set_stream(good_stream);
	cr_assert(eq(str, capture("status"), STR("201")));
	cr_assert(eq(str, capture("header:x-request-id"), STR("\"r-9\"")));
	cr_assert(eq(str, capture("stream:start/conversationId"), STR("\"c-1\"")));
	cr_assert(eq(str, capture("stream:token/token"), STR("\"We\"")));
	cr_assert(eq(str, capture("header:x-none"), STR("ERR capture header:x-none: no header x-none")));
	cr_assert(eq(str, capture("stream:error/message"), STR("ERR capture stream:error/message: no error event in the stream")));
	cr_assert(eq(str, capture("stream:start/nope"), STR("ERR capture stream:start/nope: the event has nothing at /nope")));
	cr_assert(eq(str, capture("cookie:x"), STR("ERR capture cookie:x: unknown source")));
}

Test(capture, body)
{
	resp.status = 200;
	set_body("{\"id\":7,\"items\":[{\"name\":\"n\"}]}");
	cr_assert(eq(str, capture("body:/id"), STR("7")));
	cr_assert(eq(str, capture("body:/items/0"), STR("{\"name\":\"n\"}")));
	cr_assert(eq(str, capture("body:/items/1"), STR("ERR capture body:/items/1: the body has nothing at /items/1")));
	set_body("nope");
	cr_assert(eq(str, capture("body:/id"), STR("ERR capture body:/id: body is not JSON: nope")));
	resp.status = 0;
	cr_assert(eq(str, capture("status"), STR("ERR capture status: no response")));
}

/* ---- validation ------------------------------------------------------------------------------- */

Test(validate, good_expectations)
{
	cr_assert(eq(str, validate("{\"status\":200,\"headers\":{\"content-type\":{\"regex\":\"^application/json\"},"
				   "\"x-a\":{\"exists\":false}},\"body\":{\"/a\":{\"type\":\"integer\",\"range\":[0,null]},"
				   "\"\":{\"length\":{\"range\":[1,3]}},\"/b\":{\"not\":{\"one_of\":[1,2]}},\"/c\":\"${CONV}\"},"
				   "\"body_text\":{\"regex\":\"^${X}$\"}}"),
		     STR("")));
	cr_assert(eq(str, validate("{\"stream\":{\"format\":\"ndjson\",\"sequence\":\"start token* (done|error)\","
				   "\"each\":{\"*\":{\"/type\":{\"type\":\"string\"}},\"?\":{\"\":{\"type\":\"object\"}}},"
				   "\"count\":{\"error\":0},\"concat\":[{\"of\":\"token\",\"field\":\"/t\",\"value\":\"x\"}],"
				   "\"same\":[[\"start/id\",\"done/id\"]]}}"),
		     STR("")));
}

Test(validate, unknown_members_and_keywords)
{
	cr_assert(eq(str, validate("{\"stauts\":200}"),
		     STR("expect.stauts: unknown member (expected status, headers, body, body_text, stream or same)\n")));
	cr_assert(eq(str, validate("{\"body\":{\"/a\":{\"equal\":1}}}"),
		     STR("expect.body[\"/a\"].equal: unknown matcher keyword (expected equals, type, regex, range, "
			 "one_of, exists, length or not)\n")));
	cr_assert(eq(str, validate("{\"stream\":{\"format\":\"ndjson\",\"sequnce\":\"a\"}}"),
		     STR("expect.stream.sequnce: unknown member (expected format, sequence, each, count, concat, same or timing)\n")));
	cr_assert(eq(str, validate("{\"body\":{\"/a\":{}}}"), STR("expect.body[\"/a\"]: empty matcher\n")));
}

Test(validate, keyword_values)
{
	cr_assert(eq(str, validate("{\"body\":{\"/a\":{\"type\":\"int\"}}}"),
		     STR("expect.body[\"/a\"].type: type must be one of string, number, integer, boolean, null, object, array\n")));
	cr_assert(eq(str, validate("{\"body\":{\"/a\":{\"regex\":\"([a-z\"}}}"),
		     STR("expect.body[\"/a\"].regex: bad regex /([a-z/: missing terminating ] for character class at offset 5\n")));
	cr_assert(eq(str, validate("{\"headers\":{\"x\":{\"not\":{\"regex\":\"a(?<n\"}}}}"),
		     STR("expect.headers.x.not.regex: bad regex /a(?<n/: syntax error in subpattern name (missing terminator?) at offset 5\n")));
	cr_assert(eq(str, validate("{\"body_text\":{\"regex\":\"a{2,1}\"}}"),
		     STR("expect.body_text.regex: bad regex /a{2,1}/: numbers out of order in {} quantifier at offset 5\n")));
	cr_assert(eq(str, validate("{\"body\":{\"/a\":{\"range\":[5,1]}}}"),
		     STR("expect.body[\"/a\"].range: range min 5 is greater than max 1\n")));
	cr_assert(eq(str, validate("{\"body\":{\"/a\":{\"range\":[1]}}}"),
		     STR("expect.body[\"/a\"].range: range must be [min, max] of numbers (null for an open end)\n")));
	cr_assert(eq(str, validate("{\"body\":{\"/a\":{\"one_of\":[]}}}"),
		     STR("expect.body[\"/a\"].one_of: one_of must be a non-empty array\n")));
	cr_assert(eq(str, validate("{\"body\":{\"/a\":{\"exists\":\"yes\"}}}"),
		     STR("expect.body[\"/a\"].exists: exists must be true or false, got string\n")));
	cr_assert(eq(str, validate("{\"body\":{\"/a\":{\"length\":-1}}}"),
		     STR("expect.body[\"/a\"].length: length must be a non-negative integer or a matcher\n")));
	cr_assert(eq(str, validate("{\"body\":{\"/a\":{\"not\":{\"rang\":1}}}}"),
		     STR("expect.body[\"/a\"].not.rang: unknown matcher keyword (expected equals, type, regex, range, "
			 "one_of, exists, length or not)\n")));
	cr_assert(eq(str, validate("{\"body\":{\"/a\":[1,2]}}"),
		     STR("expect.body[\"/a\"]: a matcher is a literal or an object of keywords, got array (use one_of or equals)\n")));
}

Test(validate, pointers_status_headers)
{
	cr_assert(eq(str, validate("{\"body\":{\"a\":1}}"),
		     STR("expect.body.a: not a JSON Pointer (\"\" or starting with \"/\", \"~\" only as ~0 or ~1)\n")));
	cr_assert(eq(str, validate("{\"body\":{\"/a~2\":1}}"),
		     STR("expect.body[\"/a~2\"]: not a JSON Pointer (\"\" or starting with \"/\", \"~\" only as ~0 or ~1)\n")));
	cr_assert(eq(str, validate("{\"status\":2000}"), STR("expect.status: status must be an integer from 100 to 599\n")));
	cr_assert(eq(str, validate("{\"status\":\"200\"}"), STR("expect.status: status must be a number or a matcher, got string\n")));
	cr_assert(eq(str, validate("{\"headers\":[]}"),
		     STR("expect.headers: must be an object of header name to matcher, got array\n")));
	cr_assert(eq(str, validate("{\"headers\":{\"a\":1,\"A\":2}}"),
		     STR("expect.headers.A: header named twice (names are case-insensitive)\n")));
	cr_assert(eq(str, validate("{\"body\":{\"/a\":1,\"/a\":2}}"), STR("expect.body[\"/a\"]: duplicate member\n")));
}

Test(validate, stream_members)
{
	cr_assert(eq(str, validate("{\"stream\":{\"sequence\":\"a\"}}"),
		     STR("expect.stream.format: missing (required: \"ndjson\" or \"sse\")\n")));
	cr_assert(eq(str, validate("{\"stream\":{\"format\":\"xml\"}}"),
		     STR("expect.stream.format: format must be \"ndjson\" or \"sse\"\n")));
	cr_assert(eq(str, validate("{\"stream\":{\"format\":\"sse\",\"sequence\":\"start token* end\"}}"), STR("")));
	cr_assert(eq(str, validate("{\"stream\":{\"format\":\"ndjson\",\"sequence\":\"start (token\"}}"),
		     STR("expect.stream.sequence: bad sequence \"start (token\": column 13: missing \")\"\n")));
	cr_assert(eq(str, validate("{\"stream\":{\"format\":\"ndjson\",\"each\":{\"to ken\":{}}}}"),
		     STR("expect.stream.each[\"to ken\"]: not an event type (a name, \"?\" or \"*\")\n")));
	cr_assert(eq(str, validate("{\"stream\":{\"format\":\"ndjson\",\"count\":{\"token\":{\"range\":\"x\"}}}}"),
		     STR("expect.stream.count.token.range: range must be [min, max] of numbers (null for an open end)\n")));
	cr_assert(eq(str, validate("{\"stream\":{\"format\":\"ndjson\",\"concat\":{\"of\":\"token\",\"field\":\"token\",\"equals\":\"done\"}}}"),
		     STR("expect.stream.concat.field: must be a JSON Pointer such as \"/token\"\n")));
	cr_assert(eq(str, validate("{\"stream\":{\"format\":\"ndjson\",\"concat\":{\"of\":\"token\",\"field\":\"/token\"}}}"),
		     STR("expect.stream.concat: concat needs \"equals\" or \"value\"\n")));
	cr_assert(eq(str, validate("{\"stream\":{\"format\":\"ndjson\",\"concat\":[{\"of\":\"t\",\"field\":\"/t\",\"equals\":\"/x\",\"trim\":1}]}}"),
		     STR("expect.stream.concat[0].equals: must be an event reference \"TYPE/pointer\"\n"
			 "expect.stream.concat[0].trim: must be true or false\n")));
	cr_assert(eq(str, validate("{\"stream\":{\"format\":\"ndjson\",\"same\":[[\"a/x\"]]}}"),
		     STR("expect.stream.same[0]: must be an array of at least two \"TYPE/pointer\" references\n")));
	cr_assert(eq(str, validate("{\"stream\":{\"format\":\"ndjson\",\"same\":[[\"a/x\",\"b x\"]]}}"),
		     STR("expect.stream.same[0][1]: must be an event reference \"TYPE/pointer\"\n")));
}

Test(validate, capture_sources)
{
	cr_assert(eq(int, capture_validate("status", "c", &err), 0));
	cr_assert(eq(int, capture_validate("header:x-id", "c", &err), 0));
	cr_assert(eq(int, capture_validate("body:/a/0", "c", &err), 0));
	cr_assert(eq(int, capture_validate("body:", "c", &err), 0));
	cr_assert(eq(int, capture_validate("stream:start/conversationId", "c", &err), 0));
	cr_assert(eq(int, capture_validate("header:", "c", &err), -1));
	cr_assert(eq(int, capture_validate("body:a", "c", &err), -1));
	cr_assert(eq(int, capture_validate("stream:/x", "c", &err), -1));
	cr_assert(eq(int, capture_validate("statuss", "c.X", &err), -1));
	assert_contains(buf_str(&err), "c.X: unknown capture source \"statuss\"");
}

/* ---- response --------------------------------------------------------------------------------- */

Test(capture, response_events_and_headers)
{
	cr_assert(eq(int, response_add_event(&resp, cJSON_Parse("{\"type\":\"start\"}"), "{\"type\":\"start\"}", 16, 1.5, 2), 0));
	cr_assert(eq(int, response_add_event(&resp, cJSON_Parse("[1]"), "[1]", 3, 2.5, 2), 0));
	/* past max_events: refused, and the json is freed (ownership moved either way) */
	cr_assert(eq(int, response_add_event(&resp, cJSON_Parse("{}"), "{}", 2, 3.0, 2), -1));
	cr_assert(eq(int, response_add_event(&resp, NULL, "x", 1, 3.0, 10), -1));
	cr_assert(eq(sz, resp.nevents, 2));
	cr_assert(eq(str, resp.events[0].type, STR("start")));
	cr_assert(eq(str, resp.events[1].type, STR("?")));
	cr_assert(eq(str, resp.events[1].raw, STR("[1]")));
	cr_assert(eq(sz, resp.events[1].raw_len, 3));
	cr_assert(eq(dbl, resp.events[1].at_ms, 2.5));
	for (int i = 0; i < 100; i++)
		cr_assert(eq(int, response_add_event(&resp, cJSON_CreateObject(), "{}", 2, 0, 1000), 0));
	cr_assert(eq(sz, resp.nevents, 102));

	add_header("Retry-After", "5");
	add_header("retry-after", "6");
	cr_assert(eq(str, STR(response_header(&resp, "RETRY-AFTER")), STR("5")));
	cr_assert(response_header(&resp, "retry") == NULL);

	size_t max = resp.body.max;
	response_release(&resp);
	cr_assert(eq(sz, resp.nevents, 0));
	cr_assert(eq(sz, resp.nheaders, 0));
	cr_assert(eq(sz, resp.body.max, max));
	cr_assert(resp.body.max > 0);
}

/* expect.same: values named by capture sources in one response must agree. */
Test(match_same, header_and_body_agree_or_say_why)
{
	struct response r;
	response_init(&r);
	r.status = 429;
	r.headers = calloc(1, sizeof(*r.headers));
	r.headers[0].name = strdup("Retry-After");
	r.headers[0].value = strdup("42");
	r.nheaders = 1;
	r.json = cJSON_Parse("{\"error\":{\"details\":{\"retry_after\":42,\"limit\":100}}}");
	struct buf sdiff;
	buf_init(&sdiff, 4096);
	cJSON *ok = cJSON_Parse("{\"same\":[[\"header:Retry-After\",\"body:/error/details/retry_after\"]]}");
	cr_assert(eq(int, expect_check(ok, &r, NULL, &sdiff), 0), "%s", buf_str(&sdiff));
	cJSON *bad = cJSON_Parse("{\"same\":[[\"header:Retry-After\",\"body:/error/details/limit\"]]}");
	cr_assert(eq(int, expect_check(bad, &r, NULL, &sdiff), 1));
	assert_contains(buf_str(&sdiff), "header:Retry-After is \"42\" but body:/error/details/limit is \"100\"");
	buf_reset(&sdiff);
	cJSON *missing = cJSON_Parse("{\"same\":[[\"header:X-None\",\"status\"]]}");
	cr_assert(eq(int, expect_check(missing, &r, NULL, &sdiff), 1));
	assert_contains(buf_str(&sdiff), "header:X-None names nothing");
	struct buf serr;
	buf_init(&serr, 4096);
	cJSON *one = cJSON_Parse("{\"same\":[[\"status\"]]}");
	cr_assert(eq(int, expect_validate(one, "expect", &serr), -1));
	assert_contains(buf_str(&serr), "two or more sources");
	cJSON_Delete(ok);
	cJSON_Delete(bad);
	cJSON_Delete(missing);
	cJSON_Delete(one);
	buf_release(&sdiff);
	buf_release(&serr);
	response_release(&r);
}
