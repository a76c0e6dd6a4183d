/* Unit tests for common/ndjson.c: the decoder gives the same lines whatever the chunk boundaries. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "common/ndjson.h"
#include "tests/unit/unit.h"

/* "\n" and "\r\n" endings, empty lines (plain and "\r" only), an escaped newline, no final newline. */
static const char sample[] = "{\"type\":\"start\"}\r\n"
			     "\n"
			     "{\"type\":\"token\",\"token\":\"We\"}\n"
			     "\r\n"
			     "{\"type\":\"token\",\"token\":\"a\\nb\"}\r\n"
			     "{\"type\":\"done\"}";

static const char expected[] = "1:{\"type\":\"start\"}|"
			       "3:{\"type\":\"token\",\"token\":\"We\"}|"
			       "5:{\"type\":\"token\",\"token\":\"a\\nb\"}|"
			       "6:{\"type\":\"done\"}|";

struct collect {
	struct buf out;
	int stop_after;   /* 0 = never */
	int calls;
};

static int collect_cb(void *arg, const char *line, size_t len, size_t line_no)
{
	struct collect *c = arg;
	cr_assert(len > 0);
	cr_assert(memchr(line, '\n', len) == NULL);
	cr_assert(line[len - 1] != '\r');
	buf_printf(&c->out, "%zu:%.*s|", line_no, (int)len, line);
	c->calls++;
	return c->stop_after && c->calls >= c->stop_after;
}

/* Decode sample fed in pieces cut at the given offsets (ascending, may repeat), then compare. */
static void decode_cut(const size_t *cuts, size_t ncuts)
{
	struct collect c = { .stop_after = 0 };
	buf_init(&c.out, 1 << 16);
	struct ndjson_decoder d;
	ndjson_init(&d, 1024, collect_cb, &c);
	size_t n = sizeof(sample) - 1, at = 0;
	for (size_t i = 0; i <= ncuts; i++) {
		size_t end = i < ncuts ? cuts[i] : n;
		cr_assert(eq(int, ndjson_feed(&d, sample + at, end - at), NDJSON_OK));
		at = end;
	}
	cr_assert(eq(int, ndjson_finish(&d), NDJSON_OK));
	cr_assert(eq(str, STR(buf_str(&c.out)), STR(expected)), "cuts at %zu %zu", ncuts > 0 ? cuts[0] : 0,
		  ncuts > 1 ? cuts[1] : 0);
	ndjson_release(&d);
	buf_release(&c.out);
}

Test(ndjson, whole_stream)
{
	decode_cut(NULL, 0);
}

Test(ndjson, split_at_every_boundary)
{
	for (size_t i = 0; i <= sizeof(sample) - 1; i++)
		decode_cut(&i, 1);
}

Test(ndjson, split_at_every_pair_of_boundaries)
{
	for (size_t i = 0; i <= sizeof(sample) - 1; i++)
		for (size_t j = i; j <= sizeof(sample) - 1; j++) {
			size_t cuts[2] = { i, j };
			decode_cut(cuts, 2);
		}
}

Test(ndjson, one_byte_at_a_time)
{
	size_t cuts[sizeof(sample)];
	for (size_t i = 0; i < sizeof(sample) - 1; i++)
		cuts[i] = i;
	decode_cut(cuts, sizeof(sample) - 1);
}

Test(ndjson, finish_without_pending_line_delivers_nothing)
{
	struct collect c = { 0 };
	buf_init(&c.out, 1024);
	struct ndjson_decoder d;
	ndjson_init(&d, 64, collect_cb, &c);
	cr_assert(eq(int, ndjson_feed(&d, "{}\n", 3), NDJSON_OK));
	cr_assert(eq(int, ndjson_finish(&d), NDJSON_OK));
	cr_assert(eq(str, STR(buf_str(&c.out)), STR("1:{}|")));
	ndjson_release(&d);
	buf_release(&c.out);
}

Test(ndjson, a_line_over_the_limit_fails)
{
	struct collect c = { 0 };
	buf_init(&c.out, 1024);
	struct ndjson_decoder d;
	ndjson_init(&d, 16, collect_cb, &c);
	cr_assert(eq(int, ndjson_feed(&d, "0123456789abcdef\n", 17), NDJSON_OK)); /* exactly 16: fine */
	cr_assert(eq(int, ndjson_feed(&d, "0123456789", 10), NDJSON_OK));
	cr_assert(eq(int, ndjson_feed(&d, "abcdefg", 7), NDJSON_TOO_LONG)); /* 17 bytes without a newline */
	cr_assert(eq(str, STR(buf_str(&c.out)), STR("1:0123456789abcdef|")));
	ndjson_release(&d);
	buf_release(&c.out);

	/* in one chunk, with the newline after the limit */
	buf_init(&c.out, 1024);
	ndjson_init(&d, 4, collect_cb, &c);
	cr_assert(eq(int, ndjson_feed(&d, "12345\n", 6), NDJSON_TOO_LONG));
	ndjson_release(&d);
	buf_release(&c.out);
}

Test(ndjson, the_callback_can_stop)
{
	struct collect c = { .stop_after = 2 };
	buf_init(&c.out, 1024);
	struct ndjson_decoder d;
	ndjson_init(&d, 1024, collect_cb, &c);
	cr_assert(eq(int, ndjson_feed(&d, "1\n2\n3\n", 6), NDJSON_STOPPED));
	cr_assert(eq(str, STR(buf_str(&c.out)), STR("1:1|2:2|")));
	ndjson_release(&d);
	buf_release(&c.out);
}

Test(ndjson, encode_is_one_line)
{
	struct buf out;
	buf_init(&out, 1024);
	cJSON *v = cJSON_Parse("{ \"type\": \"token\",\n \"token\": \"a\\nb\" }");
	cr_assert(eq(int, ndjson_encode(&out, v), BUF_OK));
	cr_assert(eq(str, STR(buf_str(&out)), STR("{\"type\":\"token\",\"token\":\"a\\nb\"}\n")));
	struct buf small;
	buf_init(&small, 8);
	cr_assert(eq(int, ndjson_encode(&small, v), BUF_TOO_BIG));
	cr_assert(eq(sz, small.len, 0));
	cJSON_Delete(v);
	buf_release(&out);
	buf_release(&small);
}
