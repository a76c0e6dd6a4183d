/* Unit tests for runner/url.c, the redaction of common/redact.c, and the helpers of runner/exec.c. */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "common/json.h"
#include "common/redact.h"
#include "runner/exec.h"
#include "runner/http.h"
#include "runner/url.h"
#include "tests/unit/unit.h"

static struct buf out, err;

static void setup(void)
{
	buf_init(&out, 1 << 16);
	buf_init(&err, 4096);
}

static void teardown(void)
{
	buf_release(&out);
	buf_release(&err);
}

TestSuite(exec, .init = setup, .fini = teardown);

static int build(const char *base, const char *path, const char *query_json)
{
	cJSON *q = query_json ? cJSON_Parse(query_json) : NULL;
	buf_reset(&out);
	buf_reset(&err);
	int rc = url_build(&out, base, path, q, &err);
	cJSON_Delete(q);
	return rc;
}

Test(exec, url_joins_base_and_path)
{
	cr_assert(eq(int, build("http://h:1/", "/v1/chat", NULL), 0));
	cr_expect(eq(str, STR(buf_str(&out)), STR("http://h:1/v1/chat")));
	cr_assert(eq(int, build("https://h/api", "/v1", NULL), 0));
	cr_expect(eq(str, STR(buf_str(&out)), STR("https://h/api/v1")));
}

Test(exec, url_percent_encodes_query)
{
	cr_assert(eq(int, build("http://h", "/p", "{\"q\":\"a b&c=d/\u00e9?\",\"n\":5,\"t\":true,\"x y\":\"-._~\"}"), 0));
	cr_expect(eq(str, STR(buf_str(&out)),
		     STR("http://h/p?q=a%20b%26c%3Dd%2F%C3%A9%3F&n=5&t=true&x%20y=-._~")));
}

Test(exec, url_appends_to_a_query_in_the_path)
{
	cr_assert(eq(int, build("http://h", "/p?a=1", "{\"b\":\"2\"}"), 0));
	cr_expect(eq(str, STR(buf_str(&out)), STR("http://h/p?a=1&b=2")));
}

Test(exec, url_repeats_array_parameters)
{
	cr_assert(eq(int, build("http://h", "/p", "{\"tag\":[\"a\",\"b c\"]}"), 0));
	cr_expect(eq(str, STR(buf_str(&out)), STR("http://h/p?tag=a&tag=b%20c")));
}

Test(exec, url_rejects_objects_in_query)
{
	cr_expect(eq(int, build("http://h", "/p", "{\"o\":{\"a\":1}}"), -1));
	assert_contains(buf_str(&err), "query parameter \"o\"");
	cr_expect(eq(int, build("http://h", "/p", "{\"o\":[[1]]}"), -1));
	assert_contains(buf_str(&err), "\"o\"");
}

static const char *redacted_value(const char *v)
{
	buf_reset(&out);
	redact_value(&out, v);
	return buf_str(&out);
}

static const char *redacted_url(const char *u)
{
	buf_reset(&out);
	redact_url(&out, u);
	return buf_str(&out);
}

Test(exec, redacts_credentials)
{
	cr_expect(eq(str, STR(redacted_value("widget-dev-key-0123456789abcdef")), STR("widg…(redacted)")));
	cr_expect(eq(str, STR(redacted_value("Bearer tok123456789")), STR("Bearer tok1…(redacted)")));
	/* Too short to show any of it. */
	cr_expect(eq(str, STR(redacted_value("abc")), STR("…(redacted)")));
	cr_expect(eq(str, STR(redacted_url("http://h/p?key=abcdefghijk&x=1&token=zzzzzzzzzzzz#frag")),
		     STR("http://h/p?key=abcd…(redacted)&x=1&token=zzzz…(redacted)#frag")));
	cr_expect(eq(str, STR(redacted_url("http://h/p?a=1")), STR("http://h/p?a=1")));
}

Test(exec, secret_names)
{
	const char *yes[] = { "authorization", "Authorization", "X-API-Key", "x-widget-api-key", "key", "token",
			      "access_token", "x-session-token" };
	const char *no[] = { "content-type", "x-max-tokens", "keyboard", "monkey", "accept" };
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		cr_expect(redact_is_secret_name(yes[i], strlen(yes[i])), "%s", yes[i]);
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		cr_expect(redact_is_secret_name(no[i], strlen(no[i])) == 0, "%s", no[i]);
}

Test(exec, escapes_non_printables)
{
	buf_reset(&out);
	http_append_escaped(&out, "a\x01\xff\xc3\xa9\n\t", 7, 0);
	cr_expect(eq(str, STR(buf_str(&out)), STR("a\\x01\\xff\xc3\xa9\\x0a\\x09")));
	buf_reset(&out);
	http_append_escaped(&out, "a\n\tb\r", 5, 1);
	cr_expect(eq(str, STR(buf_str(&out)), STR("a\n\tb\\x0d")));
}

Test(exec, client_ip_is_unique_and_in_range)
{
	static unsigned char seen[131072];
	uint32_t base = 0xdeadbeefu;
	for (uint64_t seq = 1; seq <= 131070; seq++) {
		char ip[16];
		unsigned a, b, c, d;
		exec_client_ip(base, seq, ip, sizeof(ip));
		cr_assert(eq(int, sscanf(ip, "%u.%u.%u.%u", &a, &b, &c, &d), 4));
		cr_assert(a == 198 && (b == 18 || b == 19), "%s out of 198.18.0.0/15", ip);
		uint32_t off = (b - 18) << 16 | c << 8 | d;
		cr_assert(off != 0 && off != 131071, "%s is the network or broadcast address", ip);
		cr_assert(seen[off] == 0, "%s given twice (seq %llu)", ip, (unsigned long long)seq);
		seen[off] = 1;
	}
}

Test(exec, run_id_is_12_lowercase_alnum)
{
	char a[13], b[13];
	exec_run_id(a);
	exec_run_id(b);
	cr_expect(eq(sz, strlen(a), 12));
	cr_expect(eq(sz, strspn(a, "abcdefghijklmnopqrstuvwxyz0123456789"), 12));
	cr_expect(strcmp(a, b) != 0);
}

Test(exec, selection_by_filter_and_tags)
{
	char *tags[] = { (char *)"stream", (char *)"slow" };
	struct tcase c = { .id = (char *)"widget.stream.order", .tags = tags, .ntags = 2 };
	const char *want_stream[] = { "stream" };
	const char *want_auth[] = { "auth" };
	const char *not_slow[] = { "slow" };
	struct exec_options o = { 0 };
	cr_expect(exec_selected(&c, &o));
	o.filter = "widget.stream.*";
	cr_expect(exec_selected(&c, &o));
	o.filter = "widget.auth.*";
	cr_expect(exec_selected(&c, &o) == 0);
	o.filter = NULL;
	o.tags = want_stream;
	o.ntags = 1;
	cr_expect(exec_selected(&c, &o));
	o.tags = want_auth;
	cr_expect(exec_selected(&c, &o) == 0);
	o.ntags = 0;
	o.exclude_tags = not_slow;
	o.nexclude = 1;
	cr_expect(exec_selected(&c, &o) == 0);
}
