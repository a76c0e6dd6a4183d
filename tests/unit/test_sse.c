/* Unit tests for common/sse.c: the encoder, and the decoder against the WHATWG EventSource rules. */
#include <limits.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "common/sse.h"
#include "tests/unit/unit.h"

/* Every dispatched event, as "type|data|last_id\n" (data as sent, so it may hold LFs). */
struct rec {
	struct buf log;
	size_t n;
	size_t stop_at;      /* > 0: ask the decoder to stop at this event */
};

static int rec_cb(void *arg, const struct sse_event *ev)
{
	struct rec *r = arg;
	buf_printf(&r->log, "%s|", ev->type);
	buf_add(&r->log, ev->data, ev->data_len);
	buf_printf(&r->log, "|%s\n", ev->last_id);
	cr_assert(eq(chr, ev->data[ev->data_len], '\0'));
	r->n++;
	return r->stop_at && r->n >= r->stop_at;
}

static struct rec rec;
static struct sse_decoder dec;

static void setup(void)
{
	memset(&rec, 0, sizeof(rec));
	buf_init(&rec.log, 1 << 20);
	sse_init(&dec, 1 << 16, rec_cb, &rec);
}

static void teardown(void)
{
	sse_release(&dec);
	buf_release(&rec.log);
}

TestSuite(sse, .init = setup, .fini = teardown);

/* Feed s in one piece, finish, and return the log. */
static const char *decode_n(const char *s, size_t n)
{
	cr_assert(eq(int, sse_feed(&dec, s, n), SSE_OK));
	cr_assert(eq(int, sse_finish(&dec), SSE_OK));
	return buf_str(&rec.log);
}

static const char *decode(const char *s)
{
	return decode_n(s, strlen(s));
}

/* ---- decoder: one test per rule ----------------------------------------------------------- */

Test(sse, lines_end_in_lf_cr_or_crlf)
{
	cr_expect(eq(str, STR(decode("data: a\n\ndata: b\r\rdata: c\r\n\r\ndata: d\n\r\n")),
		     STR("message|a|\nmessage|b|\nmessage|c|\nmessage|d|\n")));
}

Test(sse, crlf_split_across_feeds_is_one_line_end)
{
	/* Were the LF after the split a second line end, it would be a blank line dispatching "a" alone. */
	cr_assert(eq(int, sse_feed(&dec, "data: a\r", 8), SSE_OK));
	cr_assert(eq(int, sse_feed(&dec, "\ndata: b\r", 9), SSE_OK));
	cr_assert(eq(int, sse_feed(&dec, "\n", 1), SSE_OK));
	cr_expect(eq(sz, rec.n, 0));
	cr_assert(eq(int, sse_feed(&dec, "\r", 1), SSE_OK));
	cr_expect(eq(str, STR(buf_str(&rec.log)), STR("message|a\nb|\n")));
	cr_assert(eq(int, sse_feed(&dec, "\n\n", 2), SSE_OK));   /* LF of the CRLF, then a blank line */
	cr_expect(eq(sz, rec.n, 1));
}

Test(sse, cr_cr_is_two_line_ends)
{
	cr_expect(eq(str, STR(decode("data: a\r\rdata: b\r\r")), STR("message|a|\nmessage|b|\n")));
}

Test(sse, leading_bom_is_skipped)
{
	cr_expect(eq(str, STR(decode("\xef\xbb\xbf" "data: a\n\n")), STR("message|a|\n")));
}

Test(sse, leading_bom_split_across_feeds)
{
	const char s[] = "\xef\xbb\xbf" "data: a\n\n";
	for (size_t i = 0; i < sizeof(s) - 1; i++)
		cr_assert(eq(int, sse_feed(&dec, s + i, 1), SSE_OK));
	cr_expect(eq(str, STR(buf_str(&rec.log)), STR("message|a|\n")));
}

Test(sse, only_one_bom_and_only_at_the_start)
{
	/* A second BOM is part of the first field's name, which is then unknown. */
	cr_expect(eq(str, STR(decode("\xef\xbb\xbf\xef\xbb\xbf" "data: a\n\ndata: b\n\n")),
		     STR("message|b|\n")));
}

Test(sse, bom_after_the_start_is_not_skipped)
{
	cr_expect(eq(str, STR(decode("data: a\n\n\xef\xbb\xbf" "data: b\n\n")), STR("message|a|\n")));
}

Test(sse, part_of_a_bom_is_the_start_of_the_first_line)
{
	cr_expect(eq(str, STR(decode("\xef\xbb" "data: a\n\ndata: b\n\n")), STR("message|b|\n")));
	cr_expect(dec.dropped == false);
}

Test(sse, part_of_a_bom_then_a_line_end)
{
	/* "\xef" is a line of its own: an unknown field. */
	cr_expect(eq(str, STR(decode("\xef\r\ndata: a\n\n")), STR("message|a|\n")));
}

Test(sse, comments_are_ignored)
{
	cr_expect(eq(str, STR(decode(": hello\ndata: a\n:mid: event\n\n:\n\n")), STR("message|a|\n")));
}

Test(sse, one_optional_space_after_the_colon)
{
	cr_expect(eq(str, STR(decode("data:a\n\ndata: b\n\ndata:  c\n\ndata: d \n\ndata:\te\n\n")),
		     STR("message|a|\nmessage|b|\nmessage| c|\nmessage|d |\nmessage|\te|\n")));
}

Test(sse, value_may_hold_colons)
{
	cr_expect(eq(str, STR(decode("data: {\"a\": 1}\n\n")), STR("message|{\"a\": 1}|\n")));
}

Test(sse, line_without_colon_is_a_field_with_empty_value)
{
	cr_expect(eq(str, STR(decode("data\n\ndata\ndata\n\nevent\ndata: x\n\n")),
		     STR("message||\nmessage|\n|\nmessage|x|\n")));
}

Test(sse, data_lines_join_with_lf)
{
	cr_expect(eq(str, STR(decode("data: a\ndata: b\ndata:\n\n")), STR("message|a\nb\n|\n")));
}

Test(sse, only_the_last_lf_is_removed)
{
	cr_expect(eq(str, STR(decode("data\ndata\ndata\n\n")), STR("message|\n\n|\n")));
}

Test(sse, event_field_sets_the_type)
{
	cr_expect(eq(str, STR(decode("event: add\ndata: 1\n\nevent:x\nevent: y\ndata: 2\n\n")),
		     STR("add|1|\ny|2|\n")));
}

Test(sse, type_resets_after_dispatch)
{
	cr_expect(eq(str, STR(decode("event: add\ndata: 1\n\ndata: 2\n\n")), STR("add|1|\nmessage|2|\n")));
}

Test(sse, type_resets_on_a_blank_line_without_data)
{
	cr_expect(eq(str, STR(decode("event: lost\n\ndata: 1\n\n")), STR("message|1|\n")));
}

Test(sse, empty_event_field_is_message)
{
	cr_expect(eq(str, STR(decode("event:\ndata: 1\n\n")), STR("message|1|\n")));
}

Test(sse, id_is_kept_across_events)
{
	cr_expect(eq(str, STR(decode("id: 7\ndata: a\n\ndata: b\n\nid\ndata: c\n\n")),
		     STR("message|a|7\nmessage|b|7\nmessage|c|\n")));
}

Test(sse, id_set_without_data_still_counts)
{
	cr_expect(eq(str, STR(decode("id: 3\n\ndata: a\n\n")), STR("message|a|3\n")));
}

Test(sse, id_with_nul_is_ignored)
{
	static const char s[] = "id: 1\n\nid: 2\0x\ndata: a\n\n";
	cr_expect(eq(str, STR(decode_n(s, sizeof(s) - 1)), STR("message|a|1\n")));
}

Test(sse, retry_takes_ascii_digits_only)
{
	cr_assert(eq(long, dec.retry_ms, -1));
	decode("retry: 1500\nretry: 15a\nretry: -1\nretry:\nretry: 1.5\nretry:  20\n");
	cr_expect(eq(long, dec.retry_ms, 1500));
}

Test(sse, retry_saturates)
{
	decode("retry: 99999999999999999999999999999\n");
	cr_expect(eq(long, dec.retry_ms, LONG_MAX));
	cr_expect(eq(sz, rec.n, 0));
}

Test(sse, unknown_fields_are_ignored)
{
	cr_expect(eq(str, STR(decode("foo: bar\nDATA: x\ndata : y\nEvent: z\ndata: a\n\n")),
		     STR("message|a|\n")));
}

Test(sse, blank_lines_without_data_dispatch_nothing)
{
	cr_expect(eq(str, STR(decode("\n\n\r\n\r")), STR("")));
	cr_expect(eq(sz, dec.events, 0));
}

Test(sse, events_are_counted)
{
	decode("data: a\n\n\ndata: b\n\n");
	cr_expect(eq(sz, dec.events, 2));
}

Test(sse, data_may_hold_nul)
{
	static const char s[] = "data: a\0b\n\n";
	decode_n(s, sizeof(s) - 1);
	cr_expect(eq(sz, rec.log.len, strlen("message|a?b|\n")));
	cr_expect(eq(int, memcmp(rec.log.data, "message|a\0b|\n", rec.log.len), 0));
}

Test(sse, unended_event_is_dropped_at_eof)
{
	cr_expect(eq(str, STR(decode("data: a\n\ndata: b\n")), STR("message|a|\n")));
	cr_expect(dec.dropped);
}

Test(sse, unended_last_line_is_dropped_at_eof)
{
	cr_expect(eq(str, STR(decode("data: a\n\ndata: b")), STR("message|a|\n")));
	cr_expect(dec.dropped);
}

Test(sse, unended_comment_at_eof_drops_nothing)
{
	cr_expect(eq(str, STR(decode("data: a\n\n: keep-alive")), STR("message|a|\n")));
	cr_expect(dec.dropped == false);
}

Test(sse, clean_end_drops_nothing)
{
	cr_expect(eq(str, STR(decode("data: a\r\n\r\n")), STR("message|a|\n")));
	cr_expect(dec.dropped == false);
}

Test(sse, callback_can_stop)
{
	rec.stop_at = 1;
	const char *s = "data: a\n\ndata: b\n\n";
	cr_expect(eq(int, sse_feed(&dec, s, strlen(s)), SSE_STOPPED));
	cr_expect(eq(str, STR(buf_str(&rec.log)), STR("message|a|\n")));
}

/* ---- limits ------------------------------------------------------------------------------- */

Test(sse, line_at_the_limit_is_accepted)
{
	struct sse_decoder d;
	sse_init(&d, 16, rec_cb, &rec);
	const char *s = "data:12345678901\n\n";   /* a line of 16 bytes */
	cr_expect(eq(int, sse_feed(&d, s, strlen(s)), SSE_OK));
	cr_expect(eq(str, STR(buf_str(&rec.log)), STR("message|12345678901|\n")));
	sse_release(&d);
}

Test(sse, line_past_the_limit_is_too_long)
{
	struct sse_decoder d;
	sse_init(&d, 16, rec_cb, &rec);
	/* Split, so that no one feed is past the limit. */
	cr_expect(eq(int, sse_feed(&d, ": 345678", 8), SSE_OK));
	cr_expect(eq(int, sse_feed(&d, "90123456", 8), SSE_OK));
	cr_expect(eq(int, sse_feed(&d, "7\n", 2), SSE_TOO_LONG));
	sse_release(&d);
}

Test(sse, data_at_the_limit_is_accepted)
{
	struct sse_decoder d;
	sse_init(&d, 16, rec_cb, &rec);
	const char *s = "data:12345678\ndata:1234567\n\n";   /* 8 + LF + 7 = 16 bytes of data */
	cr_expect(eq(int, sse_feed(&d, s, strlen(s)), SSE_OK));
	cr_expect(eq(str, STR(buf_str(&rec.log)), STR("message|12345678\n1234567|\n")));
	sse_release(&d);
}

Test(sse, data_past_the_limit_is_too_long)
{
	struct sse_decoder d;
	sse_init(&d, 16, rec_cb, &rec);
	const char *s = "data:12345678\ndata:12345678\n\n";   /* 17 bytes of data */
	cr_expect(eq(int, sse_feed(&d, s, strlen(s)), SSE_TOO_LONG));
	cr_expect(eq(sz, rec.n, 0));
	sse_release(&d);
}

Test(sse, many_small_events_stay_within_the_limit)
{
	struct sse_decoder d;
	sse_init(&d, 16, rec_cb, &rec);
	for (int i = 0; i < 1000; i++)
		cr_assert(eq(int, sse_feed(&d, "data: 0123456789\n\n", 18), SSE_OK));
	cr_expect(eq(sz, d.events, 1000));
	sse_release(&d);
}

/* ---- a sample stream, split everywhere ---------------------------------------------------- */

static const char sample[] =
	"\xef\xbb\xbf: welcome\r\n"
	"retry: 3000\r\n"
	"event: start\r\n"
	"id: 1\r\n"
	"data: {\"type\":\"start\"}\r\n"
	"\r\n"
	"data: line one\r"
	"data: line two\n"
	"\r"
	":comment\n"
	"event: token\n"
	"data:no-space\n"
	"id\n"
	"\n"
	"\n"
	"event: ignored\n"
	"\n"
	"data\r\n"
	"\r\n"
	"event: done\r"
	"data: {\"type\":\"done\",\r"
	"data:  \"n\":2}\r"
	"\r"
	"data: dropped";

static const char sample_events[] =
	"start|{\"type\":\"start\"}|1\n"
	"message|line one\nline two|1\n"
	"token|no-space|\n"
	"message||\n"
	"done|{\"type\":\"done\",\n \"n\":2}|\n";

/* Decode sample in pieces cut at a and b (a <= b) with a fresh decoder; checks the result. */
static void decode_cut(size_t a, size_t b)
{
	const size_t n = sizeof(sample) - 1;
	struct rec r = { .n = 0 };
	struct sse_decoder d;
	buf_init(&r.log, 1 << 16);
	sse_init(&d, 1 << 10, rec_cb, &r);
	cr_assert(eq(int, sse_feed(&d, sample, a), SSE_OK));
	cr_assert(eq(int, sse_feed(&d, sample + a, b - a), SSE_OK));
	cr_assert(eq(int, sse_feed(&d, sample + b, n - b), SSE_OK));
	cr_assert(eq(int, sse_finish(&d), SSE_OK));
	cr_assert(eq(str, STR(buf_str(&r.log)), STR(sample_events)), "cut at %zu and %zu", a, b);
	cr_assert(eq(long, d.retry_ms, 3000), "cut at %zu and %zu", a, b);
	cr_assert(d.dropped, "cut at %zu and %zu", a, b);
	sse_release(&d);
	buf_release(&r.log);
}

Test(sse, sample_in_one_piece)
{
	decode_cut(0, 0);
}

Test(sse, sample_split_at_every_byte_boundary)
{
	for (size_t a = 0; a < sizeof(sample); a++)
		decode_cut(a, a);
}

Test(sse, sample_split_at_every_pair_of_boundaries)
{
	for (size_t a = 0; a < sizeof(sample); a++)
		for (size_t b = a; b < sizeof(sample); b++)
			decode_cut(a, b);
}

Test(sse, sample_one_byte_at_a_time)
{
	for (size_t i = 0; i < sizeof(sample) - 1; i++)
		cr_assert(eq(int, sse_feed(&dec, sample + i, 1), SSE_OK));
	cr_assert(eq(int, sse_finish(&dec), SSE_OK));
	cr_expect(eq(str, STR(buf_str(&rec.log)), STR(sample_events)));
}

/* ---- encoder ------------------------------------------------------------------------------ */

static const char *encode(struct buf *out, const char *name, const char *data)
{
	buf_reset(out);
	cr_assert(eq(int, sse_encode(out, name, data, strlen(data)), BUF_OK));
	return buf_str(out);
}

Test(sse, encode_named_event)
{
	struct buf b;
	buf_init(&b, 1024);
	cr_expect(eq(str, STR(encode(&b, "token", "{\"t\":1}")), STR("event: token\ndata: {\"t\":1}\n\n")));
	buf_release(&b);
}

Test(sse, encode_without_name)
{
	struct buf b;
	buf_init(&b, 1024);
	cr_expect(eq(str, STR(encode(&b, NULL, "x")), STR("data: x\n\n")));
	buf_release(&b);
}

Test(sse, encode_splits_data_at_lf_cr_and_crlf)
{
	struct buf b;
	buf_init(&b, 1024);
	cr_expect(eq(str, STR(encode(&b, NULL, "a\nb\rc\r\nd")),
		     STR("data: a\ndata: b\ndata: c\ndata: d\n\n")));
	cr_expect(eq(str, STR(encode(&b, NULL, "a\n")), STR("data: a\ndata: \n\n")));
	cr_expect(eq(str, STR(encode(&b, NULL, "\r\n\n")), STR("data: \ndata: \ndata: \n\n")));
	buf_release(&b);
}

Test(sse, encode_empty_data_is_one_empty_line)
{
	struct buf b;
	buf_init(&b, 1024);
	cr_expect(eq(str, STR(encode(&b, "ping", "")), STR("event: ping\ndata: \n\n")));
	buf_release(&b);
}

Test(sse, encode_cuts_a_name_at_a_line_end)
{
	struct buf b;
	buf_init(&b, 1024);
	cr_expect(eq(str, STR(encode(&b, "evil\ndata: x", "y")), STR("event: evil\ndata: y\n\n")));
	buf_release(&b);
}

Test(sse, encode_appends)
{
	struct buf b;
	buf_init(&b, 1024);
	cr_assert(eq(int, sse_encode(&b, NULL, "1", 1), BUF_OK));
	cr_assert(eq(int, sse_encode(&b, "e", "2", 1), BUF_OK));
	cr_expect(eq(str, STR(buf_str(&b)), STR("data: 1\n\nevent: e\ndata: 2\n\n")));
	buf_release(&b);
}

Test(sse, encode_is_all_or_nothing)
{
	struct buf b;
	buf_init(&b, 20);
	buf_adds(&b, "keep");
	cr_expect(eq(int, sse_encode(&b, "token", "0123456789", 10), BUF_TOO_BIG));
	cr_expect(eq(str, STR(buf_str(&b)), STR("keep")));
	cr_expect(eq(int, sse_encode(&b, NULL, "0123456", 7), BUF_OK));   /* 16 bytes: fits */
	cr_expect(eq(str, STR(buf_str(&b)), STR("keepdata: 0123456\n\n")));
	buf_release(&b);
}

Test(sse, encode_then_decode_round_trips)
{
	static const struct {
		const char *name;
		const char *data;
		const char *want;    /* the data decoded: CR and CRLF come back as LF */
	} cases[] = {
		{ NULL, "", "" },
		{ NULL, "a", "a" },
		{ "token", "{\"type\":\"token\",\"token\":\"h\xc3\xa9\"}", NULL },
		{ "x", "a\nb", NULL },
		{ NULL, "\n", NULL },
		{ NULL, "\n\n", NULL },
		{ "e", " lead", NULL },
		{ "e", "trail ", NULL },
		{ NULL, ": not a comment", NULL },
		{ NULL, "data: nested", NULL },
		{ "e", "a\r\nb\rc", "a\nb\nc" },
		{ "message", "m", NULL },
	};
	struct buf b;
	buf_init(&b, 4096);
	struct buf want;
	buf_init(&want, 4096);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert(eq(int, sse_encode(&b, cases[i].name, cases[i].data, strlen(cases[i].data)), BUF_OK));
		buf_printf(&want, "%s|%s|\n", cases[i].name ? cases[i].name : "message",
			   cases[i].want ? cases[i].want : cases[i].data);
	}
	cr_expect(eq(str, STR(decode_n(b.data, b.len)), STR(buf_str(&want))));
	cr_expect(eq(sz, rec.n, sizeof(cases) / sizeof(cases[0])));
	cr_expect(dec.dropped == false);
	buf_release(&want);
	buf_release(&b);
}

Test(sse, encode_then_decode_keeps_nul_bytes)
{
	struct buf b;
	buf_init(&b, 1024);
	cr_assert(eq(int, sse_encode(&b, NULL, "a\0b", 3), BUF_OK));
	decode_n(b.data, b.len);
	cr_expect(eq(sz, rec.log.len, strlen("message|a?b|\n")));
	cr_expect(eq(int, memcmp(rec.log.data, "message|a\0b|\n", rec.log.len), 0));
	buf_release(&b);
}
