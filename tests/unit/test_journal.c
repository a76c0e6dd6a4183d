/* The journal's ring: wrap-around, bounded copies, a journal turned off, and the JSON it shows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <event2/buffer.h>

#include "common/json.h"
#include "mockd/admin.h"
#include "mockd/apis/apis.h"
#include "mockd/journal.h"
#include "unit.h"

static void fini(void)
{
	journal_release();
}

TestSuite(journal, .fini = fini);

/* Record one request as http_dispatch would after answering it. */
static void record(const char *path, const char *query, const char *body, size_t len, int status)
{
	struct mreq r;
	memset(&r, 0, sizeof(r));
	r.method = "POST";
	r.path = (char *)path;
	r.query_raw = query;
	r.body = (char *)body;
	r.body_len = len;
	r.status = status;
	r.owner = api_owner(api_by_name("widget"));
	snprintf(r.peer, sizeof(r.peer), "127.0.0.1");
	journal_record(&r);
}

/* What GET /__admin/journal?limit=limit would answer, parsed; the caller frees it. */
static cJSON *read_journal(int limit)
{
	struct evbuffer *out = evbuffer_new();
	cr_assert(eq(int, journal_write(out, -1, limit), 0));
	size_t n = evbuffer_get_length(out);
	cJSON *o = json_parse_exact((const char *)evbuffer_pullup(out, -1), n);
	evbuffer_free(out);
	cr_assert(o != NULL, "the journal is one JSON value");
	return o;
}

static cJSON *entries(cJSON *o)
{
	cJSON *a = cJSON_GetObjectItem(o, "entries");
	cr_assert(cJSON_IsArray(a));
	return a;
}

Test(journal, wraps_around_keeping_the_newest_oldest_first)
{
	cr_assert(eq(int, journal_init(3), 0));
	for (int i = 0; i < 5; i++) {
		char path[16];
		snprintf(path, sizeof(path), "/p%d", i);
		record(path, NULL, NULL, 0, 200 + i);
	}
	cJSON *o = read_journal(0);
	cJSON *a = entries(o);
	cr_assert(eq(int, cJSON_GetArraySize(a), 3));
	for (int k = 0; k < 3; k++) {
		cJSON *e = cJSON_GetArrayItem(a, k);
		char path[16];
		snprintf(path, sizeof(path), "/p%d", k + 2);
		cr_assert(eq(str, cJSON_GetObjectItem(e, "path")->valuestring, path));
		cr_assert(eq(int, cJSON_GetObjectItem(e, "status")->valueint, 202 + k));
		cr_assert(cJSON_GetObjectItem(e, "body") == NULL, "an empty body shows no body");
	}
	double seq0 = cJSON_GetObjectItem(cJSON_GetArrayItem(a, 0), "seq")->valuedouble;
	double seq2 = cJSON_GetObjectItem(cJSON_GetArrayItem(a, 2), "seq")->valuedouble;
	cr_assert(eq(dbl, seq2 - seq0, 2.0));
	cJSON_Delete(o);

	o = read_journal(2);
	a = entries(o);
	cr_assert(eq(int, cJSON_GetArraySize(a), 2), "limit keeps the newest");
	cr_assert(eq(str, cJSON_GetObjectItem(cJSON_GetArrayItem(a, 1), "path")->valuestring, STR("/p4")));
	cJSON_Delete(o);
}

Test(journal, shows_every_member_the_admin_api_documents)
{
	cr_assert(eq(int, journal_init(4), 0));
	record("/v1/chat/stream", "a=1&b=%C3%A9", "{\"message\":\"journal me\"}", 24, 200);
	cJSON *o = read_journal(0);
	cJSON *e = cJSON_GetArrayItem(entries(o), 0);
	static const char *const members[] = { "seq", "at", "at_ms", "duration_ms", "method", "path",
					       "query", "api", "client", "status", "body" };
	for (size_t i = 0; i < sizeof(members) / sizeof(*members); i++)
		cr_assert(cJSON_GetObjectItem(e, members[i]) != NULL, "no member %s", members[i]);
	cr_assert(eq(str, cJSON_GetObjectItem(e, "query")->valuestring, STR("a=1&b=%C3%A9")));
	cr_assert(eq(str, cJSON_GetObjectItem(e, "api")->valuestring, STR("widget")));
	cJSON *body = cJSON_GetObjectItem(e, "body");
	cr_assert(cJSON_IsObject(body), "a body that parses is shown as JSON");
	cr_assert(eq(str, cJSON_GetObjectItem(body, "message")->valuestring, STR("journal me")));
	cr_assert(cJSON_GetObjectItem(e, "truncated") == NULL);
	cJSON_Delete(o);
}

Test(journal, text_bodies_are_strings_and_binary_ones_only_counted)
{
	cr_assert(eq(int, journal_init(4), 0));
	record("/t", NULL, "not json", 8, 400);
	record("/b", NULL, "\xff\xfe", 2, 400);
	cJSON *o = read_journal(0);
	cJSON *t = cJSON_GetArrayItem(entries(o), 0), *b = cJSON_GetArrayItem(entries(o), 1);
	cr_assert(eq(str, cJSON_GetObjectItem(t, "body")->valuestring, STR("not json")));
	cr_assert(eq(int, cJSON_GetObjectItem(t, "body_bytes")->valueint, 8));
	cr_assert(cJSON_GetObjectItem(b, "body") == NULL);
	cr_assert(eq(int, cJSON_GetObjectItem(b, "body_bytes")->valueint, 2));
	cJSON_Delete(o);
}

Test(journal, keeps_a_bounded_prefix_of_a_long_body_cut_on_a_character)
{
	cr_assert(eq(int, journal_init(2), 0));
	/* 16 KiB of [0,0,...]: JSON, but only its first 4 KiB are kept, so it is shown as text. */
	size_t len = 16 * 1024;
	char *big = malloc(len);
	big[0] = '[';
	for (size_t i = 1; i < len - 1; i++)
		big[i] = i % 2 ? '0' : ',';
	big[len - 1] = ']';
	record("/big", NULL, big, len, 200);
	/* "é" (2 bytes) straddling the cap: the cut falls before it, not in it. */
	memset(big, 'a', len);
	memcpy(big + JOURNAL_BODY_CAP - 1, "\xc3\xa9", 2);
	record("/utf8", NULL, big, JOURNAL_BODY_CAP + 1, 200);
	free(big);

	cJSON *o = read_journal(0);
	cJSON *e = cJSON_GetArrayItem(entries(o), 0);
	cJSON *body = cJSON_GetObjectItem(e, "body");
	cr_assert(cJSON_IsString(body));
	cr_assert(eq(sz, strlen(body->valuestring), (size_t)JOURNAL_BODY_CAP));
	cr_assert(eq(int, cJSON_GetObjectItem(e, "body_bytes")->valueint, 16 * 1024), "the length as received");
	cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(e, "truncated")));

	e = cJSON_GetArrayItem(entries(o), 1);
	body = cJSON_GetObjectItem(e, "body");
	cr_assert(cJSON_IsString(body), "a cut inside a character would not be UTF-8 and show no body");
	cr_assert(eq(sz, strlen(body->valuestring), (size_t)JOURNAL_BODY_CAP - 1));
	cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(e, "truncated")));
	cJSON_Delete(o);
}

Test(journal, bounds_the_path_and_counts_a_body_never_read)
{
	cr_assert(eq(int, journal_init(2), 0));
	char path[2 * JOURNAL_PATH_CAP];
	memset(path, 'p', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	/* Over MOCKD_MAX_BODY the body is not read: NULL, with its length. */
	record(path, NULL, NULL, 3 * 1024 * 1024, 413);
	cJSON *o = read_journal(0);
	cJSON *e = cJSON_GetArrayItem(entries(o), 0);
	cr_assert(eq(sz, strlen(cJSON_GetObjectItem(e, "path")->valuestring), (size_t)JOURNAL_PATH_CAP - 1));
	cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(e, "path_truncated")));
	cr_assert(cJSON_GetObjectItem(e, "body") == NULL);
	cr_assert(eq(int, cJSON_GetObjectItem(e, "body_bytes")->valueint, 3 * 1024 * 1024));
	cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(e, "truncated")));
	cJSON_Delete(o);
}

Test(journal, zero_turns_it_off)
{
	cr_assert(eq(int, journal_init(0), 0));
	record("/x", NULL, "{}", 2, 200);
	cJSON *o = read_journal(0);
	cr_assert(eq(int, cJSON_GetArraySize(entries(o)), 0));
	cJSON_Delete(o);
}

Test(journal, reset_forgets_and_the_size_is_bounded)
{
	cr_assert(eq(int, journal_init(2), 0));
	record("/x", NULL, NULL, 0, 200);
	journal_reset();
	struct evbuffer *out = evbuffer_new();
	cr_assert(eq(int, journal_write(out, -1, 0), 0));
	const char *want = "{\"entries\":[],\"next\":1,\"more\":false}";
	size_t n = evbuffer_get_length(out);
	cr_assert(eq(sz, n, strlen(want)));
	cr_assert(memcmp(evbuffer_pullup(out, -1), want, n) == 0, "what the integration test reads");
	evbuffer_free(out);
	cr_assert(eq(int, journal_init(JOURNAL_MAX + 1), -1));
}

Test(journal, admin_calls_are_not_recorded)
{
	cr_assert(eq(int, journal_init(2), 0));
	struct mreq r;
	memset(&r, 0, sizeof(r));
	r.method = "GET";
	r.path = (char *)"/__admin/health";
	r.owner = api_owner(&admin_api);
	admin_journal_cb(&r, NULL); /* what mockd's HTTP core calls after each request */
	cJSON *o = read_journal(0);
	cr_assert(eq(int, cJSON_GetArraySize(entries(o)), 0));
	cJSON_Delete(o);
}

Test(journal, a_record_is_the_size_the_help_promises)
{
	/* mockd --help and docs/mockd.md promise 525 MB at JOURNAL_MAX: keep them true. */
	cr_assert(le(sz, sizeof(struct journal_rec) * JOURNAL_MAX, (size_t)525 * 1000 * 1000));
}

static double number(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

/* GET /__admin/journal?since=since&limit=limit, parsed; the caller frees it. */
static cJSON *read_page(int64_t since, int limit)
{
	struct evbuffer *out = evbuffer_new();
	cr_assert(eq(int, journal_write(out, since, limit), 0));
	size_t n = evbuffer_get_length(out);
	cJSON *o = json_parse_exact((const char *)evbuffer_pullup(out, -1), n);
	evbuffer_free(out);
	cr_assert(o != NULL, "a page is one JSON value");
	return o;
}

Test(journal, pages_forward_from_since_and_says_what_it_missed)
{
	cr_assert(eq(int, journal_init(5), 0));
	for (int i = 0; i < 8; i++)
		record("/p", NULL, NULL, 0, 200);  /* seqs 1..8; the ring holds 4..8 */
	cJSON *o = read_page(0, 2);
	cJSON *a = entries(o);
	cr_assert(eq(int, cJSON_GetArraySize(a), 2));
	cr_assert(eq(dbl, cJSON_GetObjectItem(cJSON_GetArrayItem(a, 0), "seq")->valuedouble, 4.0));
	cr_assert(eq(dbl, number(o, "next"), 5.0));
	cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(o, "more")));
	cr_assert(eq(dbl, number(o, "missed"), 3.0), "seqs 1 to 3 were overwritten");
	cJSON_Delete(o);
	o = read_page(5, 0);
	a = entries(o);
	cr_assert(eq(int, cJSON_GetArraySize(a), 3));
	cr_assert(eq(dbl, cJSON_GetObjectItem(cJSON_GetArrayItem(a, 0), "seq")->valuedouble, 6.0));
	cr_assert(eq(dbl, number(o, "next"), 8.0));
	cr_assert(cJSON_IsFalse(cJSON_GetObjectItem(o, "more")));
	cr_assert(cJSON_GetObjectItem(o, "missed") == NULL);
	cJSON_Delete(o);
	o = read_page(8, 0);
	cr_assert(eq(int, cJSON_GetArraySize(entries(o)), 0));
	cr_assert(eq(dbl, number(o, "next"), 8.0));
	cJSON_Delete(o);
	o = read_page(100, 0);
	cr_assert(eq(int, cJSON_GetArraySize(entries(o)), 0), "a seq not yet given");
	cJSON_Delete(o);
}

Test(journal, a_page_is_bounded_however_large_the_ring)
{
	cr_assert(eq(int, journal_init(3000), 0));
	for (int i = 0; i < 3000; i++)
		record("/p", NULL, NULL, 0, 404);
	cJSON *o = read_page(-1, 0);
	cr_assert(eq(int, cJSON_GetArraySize(entries(o)), JOURNAL_PAGE_DEFAULT));
	cr_assert(eq(dbl, number(o, "next"), 3000.0), "without since: the newest page");
	cJSON_Delete(o);
	o = read_page(-1, 1000000);
	cr_assert(eq(int, cJSON_GetArraySize(entries(o)), JOURNAL_PAGE_MAX));
	cJSON_Delete(o);
	/* Paging forward from 0 reads every record once, in order. */
	int64_t since = 0;
	int seen = 0;
	for (;;) {
		o = read_page(since, 0);
		cJSON *e;
		cJSON_ArrayForEach(e, entries(o))
			cr_assert(eq(dbl, number(e, "seq"), (double)++seen));
		since = (int64_t)number(o, "next");
		bool more = cJSON_IsTrue(cJSON_GetObjectItem(o, "more"));
		cJSON_Delete(o);
		if (!more)
			break;
	}
	cr_assert(eq(int, seen, 3000));
}
