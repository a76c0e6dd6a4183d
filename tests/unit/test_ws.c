/*
 * Unit tests for the pure parts of the WebSocket client (runner/ws.c) and the
 * loader's checks of ws steps (runner/wsstep.c through runner/suite.c).
 *
 * Frames we build are read back with wslay's own frame parser, so the
 * encoding is checked by an implementation that is not ours.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <openssl/evp.h>
#include <wslay/wslay.h>

#include "common/buf.h"
#include "runner/response.h"
#include "runner/suite.h"
#include "runner/ws.h"
#include "runner/wsstep.h"
#include "tests/unit/unit.h"

#define DATA "tests/data/suites/ws/"

/* ---- handshake ---------------------------------------------------------------------------- */

Test(ws, accept_value_is_the_rfc_example)
{
	char out[29];
	/* RFC 6455 section 1.3. */
	wsc_accept_for("dGhlIHNhbXBsZSBub25jZQ==", out);
	cr_assert(eq(str, out, STR("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")));
}

Test(ws, keys_are_16_random_bytes_in_base64)
{
	char a[25], b[25];
	unsigned char raw[32];
	cr_assert(eq(int, wsc_make_key(a), 0));
	cr_assert(eq(int, wsc_make_key(b), 0));
	cr_assert(eq(sz, strlen(a), 24));
	cr_assert(ne(str, a, b));
	cr_assert(eq(int, EVP_DecodeBlock(raw, (const unsigned char *)a, 24), 18)); /* 16 bytes and "==" padding */
	cr_assert(eq(str, STR(a + 22), STR("==")));
}

Test(ws, parse_head_reads_status_and_trimmed_headers)
{
	const char head[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade:  websocket \r\nConnection: Upgrade\r\n"
			    "Sec-WebSocket-Accept: abc=\r\nno colon here\r\n\r\nFRAMEBYTES";
	struct response r;
	char sl[128];
	response_init(&r);
	cr_assert(eq(int, wsc_parse_head(head, strlen(head), &r, sl, sizeof(sl)), 0));
	cr_assert(eq(long, r.status, 101));
	cr_assert(eq(str, sl, STR("HTTP/1.1 101 Switching Protocols")));
	cr_assert(eq(sz, r.nheaders, 3));
	cr_assert(eq(str, STR(response_header(&r, "upgrade")), STR("websocket")));
	cr_assert(eq(str, STR(response_header(&r, "SEC-WEBSOCKET-ACCEPT")), STR("abc=")));
	response_release(&r);
}

Test(ws, parse_head_refuses_what_is_not_http)
{
	struct response r;
	response_init(&r);
	cr_assert(eq(int, wsc_parse_head("SSH-2.0-OpenSSH\r\n\r\n", 19, &r, NULL, 0), -1));
	cr_assert(eq(int, wsc_parse_head("HTTP/1.1 2x0 OK\r\n\r\n", 19, &r, NULL, 0), -1));
	cr_assert(eq(int, wsc_parse_head("HTTP/1.1 4011 No\r\n\r\n", 20, &r, NULL, 0), -1));
	response_release(&r);
}

Test(ws, parse_head_keeps_at_most_256_headers)
{
	struct buf h;
	buf_init(&h, 1 << 20);
	buf_adds(&h, "HTTP/1.1 401 Unauthorized\r\n");
	for (int i = 0; i < 300; i++)
		buf_printf(&h, "X-%d: v\r\n", i);
	buf_adds(&h, "\r\n");
	struct response r;
	response_init(&r);
	cr_assert(eq(int, wsc_parse_head(h.data, h.len, &r, NULL, 0), 0));
	cr_assert(eq(long, r.status, 401));
	cr_assert(eq(sz, r.nheaders, 256));
	response_release(&r);
	buf_release(&h);
}

Test(ws, urls_change_scheme)
{
	struct buf b;
	buf_init(&b, 1024);
	cr_assert(eq(int, wsc_url_from_http("http://127.0.0.1:8080", &b), 0));
	cr_assert(eq(str, STR(buf_str(&b)), STR("ws://127.0.0.1:8080")));
	buf_reset(&b);
	cr_assert(eq(int, wsc_url_from_http("HTTPS://example.test/base", &b), 0));
	cr_assert(eq(str, STR(buf_str(&b)), STR("wss://example.test/base")));
	buf_reset(&b);
	cr_assert(eq(int, wsc_url_from_http("ftp://x", &b), -1));
	buf_release(&b);
}

/* ---- frames ------------------------------------------------------------------------------- */

static void assert_bytes(const struct buf *b, const unsigned char *want, size_t n)
{
	cr_assert(eq(sz, b->len, n), "frame of %zu bytes, expected %zu", b->len, n);
	for (size_t i = 0; i < n; i++)
		cr_assert(eq(u8, (unsigned char)b->data[i], want[i]), "byte %zu", i);
}

Test(ws, frames_match_the_rfc_examples)
{
	struct buf b;
	buf_init(&b, 1024);
	/* RFC 6455 section 5.7: a single-frame unmasked text message. */
	static const unsigned char unmasked[] = { 0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f };
	cr_assert(eq(int, wsc_frame_encode(&b, true, WSC_TEXT, "Hello", 5, NULL), BUF_OK));
	assert_bytes(&b, unmasked, sizeof(unmasked));
	/* A single-frame masked text message. */
	static const unsigned char mask[4] = { 0x37, 0xfa, 0x21, 0x3d };
	static const unsigned char masked[] = { 0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58 };
	buf_reset(&b);
	cr_assert(eq(int, wsc_frame_encode(&b, true, WSC_TEXT, "Hello", 5, mask), BUF_OK));
	assert_bytes(&b, masked, sizeof(masked));
	/* A fragmented unmasked text message: "Hel", then "lo". */
	static const unsigned char frag[] = { 0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f };
	buf_reset(&b);
	cr_assert(eq(int, wsc_frame_encode(&b, false, WSC_TEXT, "Hel", 3, NULL), BUF_OK));
	cr_assert(eq(int, wsc_frame_encode(&b, true, WSC_CONTINUATION, "lo", 2, NULL), BUF_OK));
	assert_bytes(&b, frag, sizeof(frag));
	buf_release(&b);
}

Test(ws, frame_lengths_use_16_and_64_bit_forms)
{
	struct buf b;
	buf_init(&b, 1 << 20);
	char *payload = calloc(1, 65536);
	cr_assert(eq(int, wsc_frame_encode(&b, true, WSC_BINARY, payload, 125, NULL), BUF_OK));
	cr_assert(eq(u8, (unsigned char)b.data[1], 125));
	buf_reset(&b);
	cr_assert(eq(int, wsc_frame_encode(&b, true, WSC_BINARY, payload, 256, NULL), BUF_OK));
	static const unsigned char h16[] = { 0x82, 0x7e, 0x01, 0x00 };
	cr_assert(eq(int, memcmp(b.data, h16, 4), 0));
	cr_assert(eq(sz, b.len, 4 + 256));
	buf_reset(&b);
	cr_assert(eq(int, wsc_frame_encode(&b, true, WSC_BINARY, payload, 65536, NULL), BUF_OK));
	static const unsigned char h64[] = { 0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0 };
	cr_assert(eq(int, memcmp(b.data, h64, 10), 0));
	cr_assert(eq(sz, b.len, 10 + 65536));
	free(payload);
	buf_release(&b);
}

Test(ws, frame_past_the_buffer_cap_adds_nothing)
{
	struct buf b;
	buf_init(&b, 100);
	char payload[200] = { 0 };
	cr_assert(eq(int, wsc_frame_encode(&b, true, WSC_TEXT, "ab", 2, NULL), BUF_OK));
	cr_assert(eq(int, wsc_frame_encode(&b, true, WSC_TEXT, payload, sizeof(payload), NULL), BUF_TOO_BIG));
	cr_assert(eq(sz, b.len, 4));
	buf_release(&b);
}

/* wslay's frame parser reading our bytes: the independent check of the encoding. */
struct reader {
	const unsigned char *p;
	size_t n, off;
};

static ssize_t read_cb(uint8_t *buf, size_t len, int flags, void *arg)
{
	struct reader *r = arg;
	size_t k = r->n - r->off < len ? r->n - r->off : len;
	if (!k)
		return WSLAY_ERR_WANT_READ;
	memcpy(buf, r->p + r->off, k);
	r->off += k;
	return (ssize_t)k;
}

static ssize_t unused_send_cb(const uint8_t *data, size_t len, int flags, void *arg)
{
	return (ssize_t)len;
}

static int unused_genmask_cb(uint8_t *buf, size_t len, void *arg)
{
	memset(buf, 0, len);
	return 0;
}

Test(ws, wslay_reads_our_masked_fragments_back)
{
	struct buf b;
	buf_init(&b, 1 << 20);
	static const unsigned char mask[4] = { 1, 2, 3, 4 };
	const char *parts[] = { "{\"type\":", "\"hi\"", "}" };
	for (int i = 0; i < 3; i++)
		cr_assert(eq(int, wsc_frame_encode(&b, i == 2, i ? WSC_CONTINUATION : WSC_TEXT, parts[i],
						   strlen(parts[i]), mask), BUF_OK));
	struct reader rd = { (const unsigned char *)b.data, b.len, 0 };
	struct wslay_frame_callbacks cbs = { unused_send_cb, read_cb, unused_genmask_cb };
	wslay_frame_context_ptr fc;
	cr_assert(eq(int, wslay_frame_context_init(&fc, &cbs, &rd), 0));
	char joined[64] = "";
	for (int i = 0; i < 3; i++) {
		struct wslay_frame_iocb io;
		memset(&io, 0, sizeof(io));
		ssize_t r = wslay_frame_recv(fc, &io);
		cr_assert(gt(sz, (size_t)(r < 0 ? 0 : r + 1), 0), "wslay_frame_recv: %zd", r);
		cr_assert(eq(int, io.fin, i == 2));
		cr_assert(eq(int, io.opcode, i ? WSLAY_CONTINUATION_FRAME : WSLAY_TEXT_FRAME));
		cr_assert(eq(int, io.mask, 1));
		cr_assert(eq(u64, io.payload_length, strlen(parts[i])));
		strncat(joined, (const char *)io.data, io.data_length);
	}
	cr_assert(eq(str, joined, STR("{\"type\":\"hi\"}")));
	wslay_frame_context_free(fc);
	buf_release(&b);
}

Test(ws, opcode_names)
{
	cr_assert(eq(str, STR(wsc_opcode_name(WSC_TEXT)), STR("text")));
	cr_assert(eq(str, STR(wsc_opcode_name(WSC_CLOSE)), STR("close")));
	cr_assert(eq(str, STR(wsc_opcode_name(WSC_PONG)), STR("pong")));
	cr_assert(eq(str, STR(wsc_opcode_name((enum wsc_opcode)3)), STR("opcode ?")));
}

/* ---- the loader ----------------------------------------------------------------------------- */

static struct buf err;

static void setup(void)
{
	buf_init(&err, 1 << 20);
}

static void teardown(void)
{
	buf_release(&err);
}

TestSuite(ws_load, .init = setup, .fini = teardown);

Test(ws_load, a_good_ws_suite_loads)
{
	struct suite *s = suite_load(DATA "threads-ws.json", &err);
	cr_assert(s != NULL, "%s", buf_str(&err));
	cr_assert(eq(sz, s->cases[0].nsteps, 2));
	cr_assert(eq(int, s->cases[0].steps[0].kind, STEP_WS));
	cr_assert(s->cases[0].steps[0].ws != NULL);
	cr_assert(s->cases[0].steps[0].request == NULL);
	cr_assert(not(s->cases[0].mock_only), "a ws step runs against real targets too");
	suite_free(s);
}

static const char *load_broken(void)
{
	struct suite *s = suite_load(DATA "broken/ws.json", &err);
	cr_assert(s == NULL);
	return buf_str(&err);
}

#define SHAPE DATA "broken/ws.json: threads.ws.broken.shape: cases[0].steps"
#define ITEMS DATA "broken/ws.json: threads.ws.broken.items: cases[1].steps[0].ws.script"

Test(ws_load, shape_mistakes_name_file_case_and_path)
{
	const char *e = load_broken();
	assert_contains(e, SHAPE "[0].ws.connections: must be a non-empty object of connection name to connection\n");
	assert_contains(e, SHAPE "[0].ws.script: must be a non-empty array of items\n");
	assert_contains(e, SHAPE "[1].ws.conections: unknown member (expected one of connections, script)\n");
	assert_contains(e, SHAPE "[1].ws.connections: missing (required)\n");
	assert_contains(e, SHAPE "[2].ws.connections[\"a b\"]: not a connection name");
	assert_contains(e, SHAPE "[2].ws.connections[\"a b\"].path: missing (required)\n");
	assert_contains(e, SHAPE "[2].ws.connections[\"a b\"].query: must be an object of parameter to value, got array\n");
	assert_contains(e, SHAPE "[2].ws.connections.c.path: must be a string starting with \"/\"\n");
	assert_contains(e, SHAPE "[2].ws.connections.c.headers.X: must be a string, got number\n");
	assert_contains(e, SHAPE "[2].ws.connections.c.headers.x: header named twice (names are case-insensitive)\n");
	assert_contains(e, SHAPE "[3]: a step has exactly one of \"request\", \"admin\", \"ws\" or \"sleep\"\n");
	assert_contains(e, SHAPE "[4].expect: not with \"ws\" (its script holds the checks)\n");
}

Test(ws_load, script_order_is_checked)
{
	const char *e = load_broken();
	assert_contains(e, ITEMS "[0].send: connection a is not open here (no connect before this item)\n");
	assert_contains(e, ITEMS "[2].connect: connection a is already open here\n");
	assert_contains(e, ITEMS "[3].connect: \"z\" is not a connection of this step (a, b)\n");
	assert_contains(e, ITEMS "[14].collect: connection a is not open here (it was closed by an earlier item)\n");
	assert_contains(e, ITEMS "[16].send: connection a is not open here (it was closed by an earlier item)\n");
	assert_contains(e, ITEMS "[18].send: connection b is not open here (its handshake is expected to be refused)\n");
}

Test(ws_load, item_mistakes)
{
	const char *e = load_broken();
	assert_contains(e, ITEMS "[1].status: must be a number or a matcher, got string\n");
	assert_contains(e, ITEMS "[4]: a send has exactly one of json, text, text_repeat, fragments, hex, binary_hex or ping (none given)\n");
	assert_contains(e, ITEMS "[5]: a send has exactly one of");
	assert_contains(e, ITEMS "[6].repeat: missing (required with text_repeat)\n");
	assert_contains(e, ITEMS "[7].hex: must be a string of hex byte pairs such as \"c3 28\"\n");
	assert_contains(e, ITEMS "[8].unmasked: only with text\n");
	assert_contains(e, ITEMS "[9].ping: a ping payload is at most 125 bytes\n");
	assert_contains(e, ITEMS "[10].frame.type: not a JSON Pointer");
	assert_contains(e, ITEMS "[10].capture[\"1X\"]: not a variable name");
	assert_contains(e, ITEMS "[11].timeout: not with no_frame_within, which is its own time\n");
	assert_contains(e, ITEMS "[12]: an expect has exactly one of frame, no_frame_within or close\n");
	assert_contains(e, ITEMS "[13].close: must be an integer from 1000 to 4999, or a matcher\n");
	assert_contains(e, ITEMS "[14].max: must be an integer from 1 to 10000\n");
	assert_contains(e, ITEMS "[14].stream.format: not used for WebSocket frames (each frame is one event)\n");
	assert_contains(e, ITEMS "[14].stream.sequence: bad sequence \"a (\"");
	assert_contains(e, ITEMS "[15].code: must be a close code a client may send (1000-1003, 1007-1014, 3000-4999)\n");
	assert_contains(e, ITEMS "[19].sleep: must be a non-negative number of seconds (at most 3600)\n");
	assert_contains(e, ITEMS "[20]: a script item has exactly one of connect, send, expect, collect, close or sleep (none given)\n");
	assert_contains(e, ITEMS "[21]: a script item has exactly one of connect, send, expect, collect, close or sleep\n");
	assert_contains(e, ITEMS "[22].text: unterminated \"${\" in \"${UNCLOSED\"\n");
}

Test(ws_load, validate_alone_reports_paths)
{
	cJSON *ws = cJSON_Parse("{\"connections\":{\"a\":{\"path\":\"/ws\"}},"
				"\"script\":[{\"connect\":\"a\"},{\"send\":\"a\",\"text_repeat\":\"xx\",\"repeat\":9000000},"
				"{\"send\":\"a\",\"fragments\":[]},{\"expect\":\"a\",\"close\":4000,\"reason\":{\"regex\":\"(\"}},"
				"{\"close\":\"a\"}]}");
	cr_assert(ws != NULL);
	cr_assert(eq(int, wsstep_validate(ws, "ws", &err), -1));
	cr_assert(eq(str, STR(buf_str(&err)),
		     STR("ws.script[1].repeat: the repeated text would be larger than 16777216 bytes\n"
			 "ws.script[2].fragments: must be a non-empty array of strings (at most 10000)\n"
			 "ws.script[3].reason.regex: bad regex /(/: missing closing parenthesis at offset 1\n"
			 "ws.script[4].close: connection a is not open here (it was closed by an earlier item)\n")));
	cJSON_Delete(ws);
}
