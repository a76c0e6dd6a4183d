/*
 * Unit tests for runner/targets.c (the --targets file), the shard split of
 * runner/exec.c, and the uniqueness of JUnit testcases over a whole run.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "runner/exec.h"
#include "runner/report/junit.h"
#include "runner/targets.h"
#include "tests/unit/unit.h"

#define DATA "tests/data/targets/"

static struct buf err;

/* The documented APIs, as main passes them (plus the loaded suites' names). */
static const char *const known[] = { "widget", "deepwiki", "threads", "botchat" };
#define load(path) targets_load((path), known, sizeof(known) / sizeof(known[0]), &err)

/* Write text to a fresh temporary file; its path, in path (a mkstemp template). */
static void write_temp(char *path, const char *text)
{
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	cr_assert(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
}

/* Load text as a targets file and expect it to fail with every one of the NULL-terminated messages. */
static void expect_invalid(const char *text, ...)
{
	char path[] = "/tmp/cc-targets-XXXXXX";
	write_temp(path, text);
	buf_reset(&err);
	struct targets *t = load(path);
	cr_assert(t == NULL, "%s loaded", text);
	va_list ap;
	va_start(ap, text);
	for (const char *want; (want = va_arg(ap, const char *)) != NULL;) {
		char line[1024];
		snprintf(line, sizeof(line), "%s: %s", path, want);
		assert_contains(buf_str(&err), line);
	}
	va_end(ap);
	unlink(path);
}

static void setup(void)
{
	buf_init(&err, 1 << 16);
	setenv("CC_TEST_WIDGET_URL", "https://user:hunter2pw@widget.example.test/base?key=qsecret", 1);
	setenv("CC_TEST_DEEPWIKI_URL", "http://127.0.0.1:9", 1);
	setenv("CC_TEST_WIDGET_KEY", "wsecret-widget-key", 1);
	setenv("CC_TEST_DEEPWIKI_KEY", "dsecret-deepwiki-key", 1);
	unsetenv("CC_TEST_DEEPWIKI_KEY_2");
}

static void teardown(void)
{
	buf_release(&err);
}

TestSuite(targets, .init = setup, .fini = teardown);

Test(targets, loads_and_expands_the_environment)
{
	struct targets *t = load(DATA "widget-deepwiki.json");
	cr_assert(t != NULL, "%s", buf_str(&err));
	cr_assert(eq(sz, t->n, 2));
	const struct target_api *w = targets_find(t, "widget");
	const struct target_api *d = targets_find(t, "deepwiki");
	cr_assert(w != NULL && d != NULL);
	cr_expect(targets_find(t, "botchat") == NULL);
	cr_expect(eq(str, w->url, STR("https://user:hunter2pw@widget.example.test/base?key=qsecret")));
	cr_expect(eq(str, STR(target_api_var(w, "KEY")), STR("wsecret-widget-key")));
	cr_expect(eq(str, STR(target_api_var(d, "KEY2")), STR("")));   /* ${env:...|}: set, and empty */
	cr_expect(target_api_var(w, "KEY2") == NULL);
	targets_free(t);
}

Test(targets, describe_names_file_apis_and_urls_never_a_value)
{
	struct targets *t = load(DATA "widget-deepwiki.json");
	cr_assert(t != NULL, "%s", buf_str(&err));
	struct buf d;
	buf_init(&d, 4096);
	targets_describe(t, &d);
	cr_expect(eq(str, STR(buf_str(&d)),
		     STR("targets " DATA "widget-deepwiki.json: widget https://(userinfo)@widget.example.test/base?(query), "
			 "deepwiki http://127.0.0.1:9")));
	cr_expect(strstr(buf_str(&d), "secret") == NULL);
	cr_expect(strstr(buf_str(&d), "hunter2") == NULL);
	buf_release(&d);
	targets_free(t);
}

Test(targets, a_missing_environment_variable_is_named_not_guessed)
{
	unsetenv("CC_TEST_WIDGET_KEY");
	cr_assert(load(DATA "widget-deepwiki.json") == NULL);
	assert_contains(buf_str(&err), DATA "widget-deepwiki.json: apis.widget.vars.KEY: environment variable "
				       "CC_TEST_WIDGET_KEY is not set");
}

Test(targets, only_environment_references)
{
	cr_assert(load(DATA "bad-reference.json") == NULL);
	assert_contains(buf_str(&err), DATA "bad-reference.json: apis.widget.vars.KEY: ");
	assert_contains(buf_str(&err), "RUN_ID");
	assert_contains(buf_str(&err), "a targets file may only use ${env:NAME}");
}

Test(targets, shape_mistakes)
{
	cr_assert(load(DATA "unknown-member.json") == NULL);
	assert_contains(buf_str(&err), DATA "unknown-member.json: extra: unknown member (expected one of apis)");
	cr_assert(load(DATA "no-such-file.json") == NULL);
	assert_contains(buf_str(&err), "cannot read targets file " DATA "no-such-file.json");
}

Test(targets, bad_url_and_unknown_api_member)
{
	char path[] = "/tmp/cc-targets-XXXXXX";
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	const char text[] = "{\"apis\": {\"widget\": {\"url\": \"ftp://x\", \"key\": \"s3cr3t-value\"}}}";
	cr_assert(write(fd, text, sizeof(text) - 1) == (ssize_t)(sizeof(text) - 1));
	close(fd);
	cr_assert(load(path) == NULL);
	assert_contains(buf_str(&err), "apis.widget.key: unknown member (expected one of url, vars, headers)");
	assert_contains(buf_str(&err), "apis.widget.url: must be an http:// or https:// URL");
	cr_expect(strstr(buf_str(&err), "s3cr3t") == NULL);
	unlink(path);
}

/* ---- strict files ------------------------------------------------------------------------- */

Test(targets, a_misspelt_api_is_an_error_naming_the_known_ones)
{
	expect_invalid("{\"apis\": {\"widgit\": {\"url\": \"http://x\", \"vars\": {\"KEY\": \"s3cr3t-value\"}}}}",
		       "apis.widgit: unknown API; known: botchat, deepwiki, threads, widget", NULL);
	cr_expect(strstr(buf_str(&err), "s3cr3t") == NULL);
	/* Not an API name at all: the same message, the key shown as a JSON path. */
	expect_invalid("{\"apis\": {\"Widget X\": {\"url\": \"http://x\"}}}",
		       "apis[\"Widget X\"]: unknown API; known: botchat, deepwiki, threads, widget", NULL);
}

Test(targets, the_known_apis_come_from_the_caller)
{
	static const char *const mine[] = { "echo", "widget", "echo" };
	char path[] = "/tmp/cc-targets-XXXXXX";
	write_temp(path, "{\"apis\": {\"echo\": {\"url\": \"http://x\"}, \"botchat\": {\"url\": \"http://y\"}}}");
	cr_assert(targets_load(path, mine, 3, &err) == NULL);
	assert_contains(buf_str(&err), "apis.botchat: unknown API; known: echo, widget\n");
	unlink(path);
}

Test(targets, unknown_members_at_every_level)
{
	expect_invalid("{\"apis\": {\"widget\": {\"url\": \"http://x\", \"header\": {}}}, \"api\": {}}",
		       "api: unknown member (expected one of apis)", NULL);
	expect_invalid("{\"apis\": {\"widget\": {\"url\": \"http://x\", \"header\": {}}}}",
		       "apis.widget.header: unknown member (expected one of url, vars, headers)", NULL);
	expect_invalid("{\"apis\": {\"widget\": {\"url\": \"http://x\", \"url\": \"http://y\"}}}",
		       "apis.widget.url: duplicate member", NULL);
}

Test(targets, wrong_types)
{
	expect_invalid("{\"apis\": []}", "apis: required, an object of API name to", NULL);
	expect_invalid("{\"apis\": {\"widget\": \"http://x\"}}",
		       "apis.widget: must be an object with \"url\" (and \"vars\", \"headers\"), got string", NULL);
	expect_invalid("{\"apis\": {\"widget\": {\"url\": 8080}}}", "apis.widget.url: required, a string, got number",
		       NULL);
	expect_invalid("{\"apis\": {\"widget\": {\"url\": \"http://x\", \"vars\": [\"KEY\"]}}}",
		       "apis.widget.vars: must be an object of NAME to string, got array", NULL);
	expect_invalid("{\"apis\": {\"widget\": {\"url\": \"http://x\", \"vars\": {\"KEY\": 5}}}}",
		       "apis.widget.vars.KEY: must be a variable name", NULL);
	expect_invalid("{\"apis\": {\"widget\": {\"url\": \"http://x\", \"headers\": \"x-a: b\"}}}",
		       "apis.widget.headers: must be an object of header name to string, got string", NULL);
	expect_invalid("{\"apis\": {\"widget\": {\"url\": \"http://x\", \"headers\": {\"X-Tenant\": true}}}}",
		       "apis.widget.headers[\"X-Tenant\"]: must be a string, got boolean", NULL);
}

Test(targets, headers_are_expanded_and_kept)
{
	setenv("CC_TEST_BOT_TOKEN", "bsecret-bot-token", 1);
	char path[] = "/tmp/cc-targets-XXXXXX";
	write_temp(path, "{\"apis\": {\"botchat\": {\"url\": \"http://x\", \"headers\": {"
			 "\"Authorization\": \"Bearer ${env:CC_TEST_BOT_TOKEN}\", \"X-Tenant\": \"t-${env:CC_TEST_NOPE|9}\"}}}}");
	struct targets *t = load(path);
	cr_assert(t != NULL, "%s", buf_str(&err));
	const struct target_api *b = targets_find(t, "botchat");
	cr_assert(b != NULL);
	cr_assert(eq(sz, b->nheaders, 2));
	cr_expect(eq(str, b->hnames[0], STR("Authorization")));
	cr_expect(eq(str, b->hvalues[0], STR("Bearer bsecret-bot-token")));
	cr_expect(eq(str, b->hnames[1], STR("X-Tenant")));
	cr_expect(eq(str, b->hvalues[1], STR("t-9")));
	targets_free(t);
	unlink(path);
}

Test(targets, bad_headers_are_named_never_shown)
{
	setenv("CC_TEST_BAD_TOKEN", "bsecret\r\nX-Injected: 1", 1);
	expect_invalid("{\"apis\": {\"botchat\": {\"url\": \"http://x\", \"headers\": "
		       "{\"Authorization\": \"Bearer ${env:CC_TEST_BAD_TOKEN}\"}}}}",
		       "apis.botchat.headers.Authorization: the value of Authorization holds a control character "
		       "(byte 15 is CR); the value is not shown", NULL);
	cr_expect(strstr(buf_str(&err), "bsecret") == NULL, "%s", buf_str(&err));
	cr_expect(strstr(buf_str(&err), "Injected") == NULL, "%s", buf_str(&err));
	expect_invalid("{\"apis\": {\"botchat\": {\"url\": \"http://x\", \"headers\": {\"X Tenant\": \"v\"}}}}",
		       "apis.botchat.headers[\"X Tenant\"]: the name is not an RFC 7230 token: byte 2 is not one of", NULL);
	expect_invalid("{\"apis\": {\"botchat\": {\"url\": \"http://x\", \"headers\": "
		       "{\"X-Tenant\": \"a\", \"x-tenant\": \"b\"}}}}",
		       "apis.botchat.headers[\"x-tenant\"]: duplicate header (names are case-insensitive)", NULL);
	expect_invalid("{\"apis\": {\"botchat\": {\"url\": \"http://x\", \"headers\": {\"Content-Length\": \"1\"}}}}",
		       "apis.botchat.headers[\"Content-Length\"]: Content-Length is set by chatconform for each "
		       "request, not for a whole run", NULL);
	expect_invalid("{\"apis\": {\"botchat\": {\"url\": \"http://x\", \"headers\": {\"X-A\": \"${RUN_ID}\"}}}}",
		       "apis.botchat.headers[\"X-A\"]: ", NULL);
	assert_contains(buf_str(&err), "a targets file may only use ${env:NAME}");
}

Test(targets, check_header)
{
	struct buf why;
	buf_init(&why, 1024);
	cr_expect(eq(int, targets_check_header("X-Tenant", "a b\tc \xc3\xa9", &why), 0));
	cr_expect(eq(int, targets_check_header("!#$%&'*+-.^_`|~09az", "", &why), 0));
	cr_expect(eq(int, targets_check_header("", "v", &why), -1));
	assert_contains(buf_str(&why), "the name is empty");
	buf_reset(&why);
	cr_expect(eq(int, targets_check_header("X:Y", "v", &why), -1));
	assert_contains(buf_str(&why), "byte 2 is not one of");
	buf_reset(&why);
	cr_expect(eq(int, targets_check_header("X-A", "sec\nret", &why), -1));
	assert_contains(buf_str(&why), "byte 4 is LF");
	cr_expect(strstr(buf_str(&why), "sec") == NULL);
	buf_reset(&why);
	cr_expect(eq(int, targets_check_header("X-A", "s\x7f", &why), -1));
	assert_contains(buf_str(&why), "byte 2 is 0x7f");
	buf_reset(&why);
	cr_expect(eq(int, targets_check_header("upgrade", "h2c", &why), -1));
	assert_contains(buf_str(&why), "upgrade is set by chatconform");
	buf_release(&why);
}

Test(targets, display_url)
{
	struct buf b;
	buf_init(&b, 4096);
	targets_display_url(&b, "http://127.0.0.1:8080");
	cr_expect(eq(str, STR(buf_str(&b)), STR("http://127.0.0.1:8080")));
	buf_reset(&b);
	targets_display_url(&b, "https://u:p@h/x?token=t#f");
	cr_expect(eq(str, STR(buf_str(&b)), STR("https://(userinfo)@h/x?(query)")));
	buf_reset(&b);
	targets_display_url(&b, "https://h/p@q");   /* an @ in the path is not userinfo */
	cr_expect(eq(str, STR(buf_str(&b)), STR("https://h/p@q")));
	buf_release(&b);
}

/* ---- shards ------------------------------------------------------------------------------ */

Test(targets, shard_of_is_fnv1a64_modulo_n)
{
	/* FNV-1a 64 of "a" is 0xaf63dc4c8601ec8c: every machine and every job agrees. */
	cr_expect(eq(uint, exec_shard_of("a", 7), 6));
	cr_expect(eq(uint, exec_shard_of("widget.auth.ok", 3), 1));
	cr_expect(eq(uint, exec_shard_of("deepwiki.isolation.history_other_user", 1000), 825));
	cr_expect(eq(uint, exec_shard_of("anything", 1), 1));
}

static struct suite_set all;

static void load_all(void)
{
	const char *paths[] = { "suites" };
	cr_assert(eq(int, suite_set_load(&all, paths, 1, &err), 0), "%s", buf_str(&err));
}

Test(targets, shards_partition_every_suite, .fini = teardown)
{
	load_all();
	const unsigned counts[] = { 1, 2, 3, 7, 1000 };
	for (size_t k = 0; k < sizeof(counts) / sizeof(counts[0]); k++) {
		unsigned n = counts[k];
		size_t total = 0, biggest = 0;
		size_t *per = calloc(n + 1, sizeof(*per));
		for (size_t s = 0; s < all.n; s++)
			for (size_t i = 0; i < all.v[s]->ncases; i++) {
				const struct tcase *c = &all.v[s]->cases[i];
				int in = 0;
				for (unsigned shard = 1; shard <= n; shard++) {
					struct exec_options o = { .shard_index = shard, .shard_count = n };
					if (exec_selected(c, &o)) {
						in++;
						per[shard]++;
					}
				}
				cr_assert(eq(int, in, 1), "%s is in %d of %u shards", c->id, in, n);
				total++;
			}
		for (unsigned shard = 1; shard <= n; shard++)
			biggest = per[shard] > biggest ? per[shard] : biggest;
		/* Spread: with 3 shards none holds more than half of the cases. */
		if (n == 3)
			cr_expect(biggest < total / 2, "shard of %zu cases out of %zu", biggest, total);
		free(per);
	}
	suite_set_release(&all);
}

/* ---- JUnit over a whole run ---------------------------------------------------------------- */

/* The value of attribute name in the tag starting at p, as written (escaped). */
static char *attr_of(const char *p, const char *name)
{
	char key[64];
	snprintf(key, sizeof(key), " %s=\"", name);
	const char *end = strchr(p, '>');
	const char *a = strstr(p, key);
	cr_assert(a != NULL && a < end, "no %s in %.200s", name, p);
	a += strlen(key);
	return strndup(a, strcspn(a, "\""));
}

static int pair_cmp(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

Test(targets, junit_classname_and_name_are_unique_across_a_run)
{
	load_all();
	size_t n = 0;
	for (size_t s = 0; s < all.n; s++)
		n += all.v[s]->ncases;
	struct run_result rr = { 0 };
	rr.cases = calloc(n, sizeof(*rr.cases));
	cr_assert(rr.cases != NULL);
	static const enum verdict cycle[] = { VERDICT_PASS, VERDICT_FAIL, VERDICT_ERROR, VERDICT_SKIP, VERDICT_FLAKY };
	for (size_t s = 0; s < all.n; s++)
		for (size_t i = 0; i < all.v[s]->ncases; i++) {
			struct case_result *cr = &rr.cases[rr.ncases];
			cr->tcase = &all.v[s]->cases[i];
			cr->verdict = cycle[rr.ncases % 5];
			cr->message = strdup("m");
			buf_init(&cr->diff, 1024);
			buf_init(&cr->transcript, 1024);
			if (cr->verdict == VERDICT_FLAKY || cr->verdict == VERDICT_FAIL) {
				/* Retried: the attempts stay inside the one testcase. */
				cr->attempts = calloc(2, sizeof(*cr->attempts));
				cr->nattempts = 2;
				for (size_t a = 0; a < 2; a++) {
					cr->attempts[a].verdict = a ? VERDICT_ERROR : VERDICT_FAIL;
					cr->attempts[a].message = strdup("first");
					buf_init(&cr->attempts[a].diff, 1024);
					buf_init(&cr->attempts[a].transcript, 1024);
				}
			}
			rr.ncases++;
		}
	char path[] = "/tmp/cc-junit-XXXXXX";
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	close(fd);
	cr_assert(eq(int, junit_write(&rr, path, &err), 0), "%s", buf_str(&err));
	FILE *f = fopen(path, "r");
	cr_assert(f != NULL);
	struct buf text;
	buf_init(&text, 1u << 30);
	char chunk[65536];
	size_t got;
	while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(&text, chunk, got);
	fclose(f);
	unlink(path);

	char **pairs = calloc(n + 1, sizeof(*pairs));
	size_t np = 0;
	for (const char *p = buf_str(&text); (p = strstr(p, "<testcase ")) != NULL; p++) {
		cr_assert(np < n, "more testcases than cases");
		char *name = attr_of(p, "name"), *cls = attr_of(p, "classname");
		cr_assert(asprintf(&pairs[np++], "%s\x01%s", cls, name) > 0);
		free(name);
		free(cls);
	}
	cr_expect(eq(sz, np, n), "one testcase per case");
	qsort(pairs, np, sizeof(*pairs), pair_cmp);
	for (size_t i = 1; i < np; i++)
		cr_expect(strcmp(pairs[i - 1], pairs[i]) != 0, "repeated classname and name: %s", pairs[i]);
	for (size_t i = 0; i < np; i++)
		free(pairs[i]);
	free(pairs);
	buf_release(&text);
	run_result_release(&rr);
	suite_set_release(&all);
}
