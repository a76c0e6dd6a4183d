/*
 * fuzz_mockd_ws: mockd's WebSocket frame path (mockd/ws.c with wslay) and the
 * two WebSocket APIs, deepwiki's /ws/chat and threads' /chat/ws, in-process.
 *
 * The first byte chooses the API and credential (low 3 bits: deepwiki with a
 * key, in a room, with a key without research, a bad token, an unknown
 * conversation; threads with a key, a token, a bad key) and how to run:
 *   0x08  turn the loop after each operation (else everything is sent at once)
 *   0x10  end by shutting our side (EOF) rather than with a close frame
 *   0x20  send the frames right behind the handshake, before the 101 arrives
 *   0x40  an Origin that CORS refuses (403, no upgrade)
 * The rest is a list of operations, each an opcode byte (low 4 bits: the kind,
 * high bits: a variant) and its operands: raw bytes, text frames, JSON messages
 * of either API built from the input, fragmented messages (a ping between the
 * fragments), pings, pongs, close frames (with a code, empty, one byte), binary,
 * unmasked, 16- and 64-bit lengths, a header byte from the input, a continuation
 * with no start, a message over 1 MiB, a pause.
 *
 * Properties: the handshake is 101 with the right Sec-WebSocket-Accept (or a
 * JSON error where no upgrade is due); every frame mockd sends is unmasked,
 * with no RSV bit, a known opcode, control frames whole and at most 125 bytes;
 * each text message is valid UTF-8 and a JSON object; a close frame is empty or
 * holds a code docs/mockd.md documents (or the one we sent, which wslay echoes)
 * and a UTF-8 reason, and nothing follows it; mockd closes the connection once
 * the close handshake is done, within MH_BOUND_MS. Between inputs mockd is reset.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fuzz/fuzz.h"
#include "fuzz/mockd_harness.h"

#define WS_KEY    "dGhlIHNhbXBsZSBub25jZQ=="
#define WS_ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="   /* RFC 6455 1.3's example */

static const struct {
	const char *target;
	bool threads;
	bool upgrade;        /* false: refused before the upgrade (threads' 401) */
} TARGETS[8] = {
	{ "/ws/chat?token=dw-dev-key", false, true },
	{ "/ws/chat?token=dw-dev-key&room_id=r1&user_id=alice", false, true },
	{ "/ws/chat?token=dw-basic-key&room_id=r1", false, true },
	{ "/ws/chat?token=dw-nope", false, true },                         /* closed 4000 */
	{ "/ws/chat?token=dw-dev-key&conversation_id=conv_nope", false, true }, /* closed 4003 */
	{ "/chat/ws?key=00000000-0000-4000-8000-000000000001", true, true },
	{ "/chat/ws?token=th-dev-token", true, true },
	{ "/chat/ws?key=00000000-0000-4000-8000-000000000009", true, false },  /* 401 */
};

/* ---- reading the input ------------------------------------------------------------------- */

struct in {
	const uint8_t *p;
	size_t n;
};

static uint8_t take_byte(struct in *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static size_t take(struct in *in, size_t want, const uint8_t **out)
{
	size_t n = want < in->n ? want : in->n;
	*out = in->p;
	in->p += n;
	in->n -= n;
	return n;
}

/* ---- writing frames ------------------------------------------------------------------------ */

struct out {
	unsigned char *p;
	size_t len, cap;
};

static void out_add(struct out *o, const void *p, size_t n)
{
	if (!n)
		return;
	if (o->len + n > o->cap) {
		size_t cap = o->cap ? o->cap : 4096;
		while (cap < o->len + n)
			cap *= 2;
		o->p = realloc(o->p, cap);
		FUZZ_CHECK(o->p, "out of memory");
		o->cap = cap;
	}
	memcpy(o->p + o->len, p, n);
	o->len += n;
}

enum len_form { LEN_MIN, LEN_16, LEN_64 };

/* A frame: first byte b0 (FIN, RSV, opcode) and the payload, masked with mask unless unmasked. */
static void frame(struct out *o, uint8_t b0, const void *payload, size_t n, bool masked, uint32_t mask,
		  enum len_form form)
{
	unsigned char h[14];
	size_t hl = 0;
	h[hl++] = b0;
	uint8_t mbit = masked ? 0x80 : 0;
	if (form == LEN_MIN && n < 126) {
		h[hl++] = mbit | (uint8_t)n;
	} else if (form != LEN_64 && n <= 0xffff) {
		h[hl++] = mbit | 126;
		h[hl++] = (uint8_t)(n >> 8);
		h[hl++] = (uint8_t)n;
	} else {
		h[hl++] = mbit | 127;
		for (int i = 7; i >= 0; i--)
			h[hl++] = (uint8_t)((uint64_t)n >> (8 * i));
	}
	unsigned char m[4] = { (uint8_t)(mask >> 24), (uint8_t)(mask >> 16), (uint8_t)(mask >> 8), (uint8_t)mask };
	if (masked) {
		memcpy(h + hl, m, 4);
		hl += 4;
	}
	out_add(o, h, hl);
	size_t at = o->len;
	out_add(o, payload, n);
	if (masked)
		for (size_t i = 0; i < n; i++)
			o->p[at + i] ^= m[i & 3];
}

/* Append a JSON string of the bytes (escaped as JSON needs; bytes >= 0x80 as they are). */
static void json_str(struct out *o, const uint8_t *p, size_t n)
{
	out_add(o, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		char esc[8];
		if (p[i] == '"' || p[i] == '\\') {
			esc[0] = '\\';
			esc[1] = (char)p[i];
			out_add(o, esc, 2);
		} else if (p[i] < 0x20) {
			snprintf(esc, sizeof(esc), "\\u%04x", p[i]);
			out_add(o, esc, 6);
		} else {
			out_add(o, &p[i], 1);
		}
	}
	out_add(o, "\"", 1);
}

/* A JSON message of one of the APIs, its strings from the input. */
static void json_message(struct out *o, uint8_t variant, struct in *in)
{
	static const char *const heads[] = {
		"{\"type\":\"message\",\"content\":",                          /* deepwiki */
		"{\"type\":\"message\",\"model\":\"gpt-4-turbo\",\"content\":",
		"{\"type\":\"typing\",\"is_typing\":true,\"x\":",
		"{\"type\":\"join_room\",\"room_id\":",
		"{\"type\":\"leave_room\",\"room_id\":",
		"{\"type\":\"stop_generation\",\"x\":",
		"{\"type\":\"history\",\"thread_id\":",                        /* threads */
		"{\"type\":\"message\",\"thread_id\":\"00000000-0000-4000-8000-00000000000a\",\"content\":",
		"{\"type\":\"message\",\"thread_id\":\"00000000-0000-4000-8000-00000000000a\",\"agent_id\":",
		"{\"type\":",
	};
	const uint8_t *s;
	size_t n = take(in, take_byte(in), &s);
	out_add(o, heads[variant % 10], strlen(heads[variant % 10]));
	json_str(o, s, n);
	out_add(o, "}", 1);
}

/* ---- what mockd sends ------------------------------------------------------------------------ */

struct seen {
	bool close_sent;        /* we sent a close frame */
	int our_code;           /* the code in it, -1 none */
	bool server_closed;     /* mockd's close frame arrived */
	size_t parsed;          /* bytes of the frames checked so far (after the head) */
	unsigned char *msg;     /* the text message being reassembled */
	size_t msg_len;
	bool in_msg;
	size_t frames;
	unsigned big_done;      /* big operations so far */
	bool partial;           /* raw bytes went out: a frame may be unfinished, and a close frame of ours
				 * would be read as its payload, so the input ends with EOF */
};

/* Strict UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF). */
static bool utf8_ok(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned c = p[i];
		size_t len;
		unsigned min, cp;
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			len = 2, min = 0x80, cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			len = 3, min = 0x800, cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			len = 4, min = 0x10000, cp = c & 0x07;
		} else {
			return false;
		}
		if (i + len > n)
			return false;
		for (size_t k = 1; k < len; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += len;
	}
	return true;
}

static bool code_documented(int code, int ours)
{
	static const int codes[] = { 1000, 1001, 1002, 1003, 1007, 1008, 1009, 1011, 4000, 4001, 4002, 4003 };
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (code == codes[i])
			return true;
	return code == ours;
}

/* Check every whole frame mockd sent after the head at `from`. */
static void check_frames(struct mh_client *c, size_t from, struct seen *s)
{
	for (;;) {
		const unsigned char *p = c->in + from + s->parsed;
		size_t n = c->in_len - from - s->parsed;
		if (n < 2)
			return;
		FUZZ_CHECK(!s->server_closed, "a frame (0x%02x) after mockd's close frame", p[0]);
		size_t hl = 2;
		uint64_t len = p[1] & 0x7f;
		if (len == 126) {
			if (n < 4)
				return;
			len = (uint64_t)p[2] << 8 | p[3];
			hl = 4;
			FUZZ_CHECK(len >= 126, "a 16-bit length for %llu bytes", (unsigned long long)len);
		} else if (len == 127) {
			if (n < 10)
				return;
			len = 0;
			for (int i = 0; i < 8; i++)
				len = len << 8 | p[2 + i];
			hl = 10;
			FUZZ_CHECK(len > 0xffff && !(len >> 63), "a 64-bit length of %llu", (unsigned long long)len);
		}
		if (n - hl < len)
			return;
		bool fin = p[0] & 0x80;
		int op = p[0] & 0x0f;
		const unsigned char *pl = p + hl;
		FUZZ_CHECK(!(p[1] & 0x80), "mockd sent a masked frame (opcode %d)", op);
		FUZZ_CHECK(!(p[0] & 0x70), "mockd sent RSV bits 0x%02x", p[0] & 0x70);
		FUZZ_CHECK(op == 0 || op == 1 || op == 8 || op == 9 || op == 10, "mockd sent opcode %d", op);
		if (op >= 8)
			FUZZ_CHECK(fin && len <= 125, "a control frame (opcode %d) fragmented or of %llu bytes", op,
				   (unsigned long long)len);
		if (op == 1 || op == 0) {
			FUZZ_CHECK(op == 1 ? !s->in_msg : s->in_msg, "%s", op == 1 ? "a text frame inside a message"
									 : "a continuation with no message");
			s->msg = realloc(s->msg, s->msg_len + len + 1);
			FUZZ_CHECK(s->msg, "out of memory");
			memcpy(s->msg + s->msg_len, pl, len);
			s->msg_len += len;
			s->in_msg = !fin;
			if (fin) {
				FUZZ_CHECK(utf8_ok(s->msg, s->msg_len), "a text message that is not UTF-8: %.*s",
					   (int)(s->msg_len > 300 ? 300 : s->msg_len), s->msg);
				cJSON *j = cJSON_ParseWithLengthOpts((const char *)s->msg, s->msg_len, NULL, 0);
				FUZZ_CHECK(cJSON_IsObject(j), "a text message that is not a JSON object: %.*s",
					   (int)(s->msg_len > 300 ? 300 : s->msg_len), s->msg);
				cJSON_Delete(j);
				s->msg_len = 0;
			}
		} else if (op == 8) {
			FUZZ_CHECK(len != 1, "a close frame of one byte");
			if (len >= 2) {
				int code = pl[0] << 8 | pl[1];
				FUZZ_CHECK(code_documented(code, s->our_code), "close code %d (we sent %d): %.*s", code,
					   s->our_code, (int)len - 2, pl + 2);
				FUZZ_CHECK(utf8_ok(pl + 2, len - 2), "a close reason that is not UTF-8");
			}
			s->server_closed = true;
		}
		s->frames++;
		s->parsed += hl + len;
	}
}

/* ---- running ----------------------------------------------------------------------------- */

struct state {
	struct seen seen;
	size_t head;            /* bytes of the 101's head, 0 until it is in */
};

static bool got_head(struct mh_client *c, void *arg)
{
	return strstr((const char *)c->in, "\r\n\r\n") != NULL;
}

static bool server_closed(struct mh_client *c, void *arg)
{
	struct state *st = arg;
	if (st->head)
		check_frames(c, st->head, &st->seen);
	return st->seen.server_closed;
}

/* Turn the loop until mockd has nothing left to say: no reply, nothing queued, a few turns of silence. */
static void until_quiet(struct mh_client *c, struct state *st)
{
	int silent = 0;
	while (silent < 3 && !c->eof && mh_in_time(c)) {
		bool got = mh_turn(c);
		if (st->head)
			check_frames(c, st->head, &st->seen);
		if (got || c->out_off < c->out_len || !mh_idle())
			silent = 0;
		else
			silent++;
	}
}

/* Build one operation's bytes into o; sets *pause for a pause. */
static void operation(struct out *o, struct in *in, struct seen *s, bool *pause)
{
	uint8_t op = take_byte(in);
	uint8_t var = op >> 4;
	uint32_t mask = (var & 8) ? 0 : 0x37fa213du * (uint32_t)(op | 1);
	const uint8_t *p;
	size_t n;
	struct out tmp = { 0 };
	switch (op & 0x0f) {
	case 0:  /* raw bytes */
		n = take(in, take_byte(in), &p);
		out_add(o, p, n);
		s->partial = s->partial || n > 0;
		break;
	case 1:  /* a text frame of input bytes */
		n = take(in, take_byte(in), &p);
		frame(o, 0x81, p, n, true, mask, LEN_MIN);
		break;
	case 2:  /* a JSON message */
		json_message(&tmp, var, in);
		frame(o, 0x81, tmp.p, tmp.len, true, mask, LEN_MIN);
		break;
	case 3: { /* a JSON message in 2 to 4 fragments, a ping between the first two when var & 4 */
		json_message(&tmp, take_byte(in), in);
		size_t k = 2 + (var & 3) % 3, at = 0;
		for (size_t i = 0; i < k; i++) {
			size_t piece = i + 1 == k ? tmp.len - at : tmp.len / k;
			frame(o, (uint8_t)((i == 0 ? 0x01 : 0x00) | (i + 1 == k ? 0x80 : 0)), tmp.p + at, piece, true, mask,
			      LEN_MIN);
			at += piece;
			if (i == 0 && (var & 4))
				frame(o, 0x89, "p", 1, true, mask, LEN_MIN);
		}
		break;
	}
	case 4:  /* a ping; var & 4: a payload over 125 (a protocol error) */
		n = take(in, (var & 4) ? 126 + take_byte(in) : take_byte(in) % 126, &p);
		frame(o, 0x89, p, n, true, mask, LEN_MIN);
		break;
	case 5:  /* a pong */
		n = take(in, take_byte(in) % 126, &p);
		frame(o, 0x8a, p, n, true, mask, LEN_MIN);
		break;
	case 6: { /* a close: with a code and reason, empty, or of one byte */
		unsigned char pl[127];
		size_t pn = 0;
		int code = -1;
		if ((var & 3) == 0 || (var & 3) == 3) {
			code = take_byte(in) << 8;
			code |= take_byte(in);
			if ((var & 3) == 3)
				code = 1000 + code % 12;
			pl[0] = (uint8_t)(code >> 8);
			pl[1] = (uint8_t)code;
			n = take(in, take_byte(in) % 124, &p);
			memcpy(pl + 2, p, n);
			pn = 2 + n;
		} else if ((var & 3) == 2) {
			pl[0] = take_byte(in);
			pn = 1;
		}
		frame(o, 0x88, pl, pn, true, mask, LEN_MIN);
		if (!s->close_sent) {
			s->close_sent = true;
			s->our_code = code;
		}
		break;
	}
	case 7:  /* binary */
		n = take(in, take_byte(in), &p);
		frame(o, 0x82, p, n, true, mask, LEN_MIN);
		break;
	case 8:  /* an unmasked text frame */
		json_message(&tmp, var, in);
		frame(o, 0x81, tmp.p, tmp.len, false, 0, LEN_MIN);
		break;
	case 9:  /* a JSON message with a 16- or 64-bit length */
		json_message(&tmp, take_byte(in), in);
		frame(o, 0x81, tmp.p, tmp.len, true, mask, (var & 1) ? LEN_64 : LEN_16);
		break;
	case 10: /* a frame whose first byte (FIN, RSV, opcode) is from the input */
		op = take_byte(in);
		n = take(in, take_byte(in), &p);
		frame(o, op, p, n, true, mask, LEN_MIN);
		break;
	case 11: /* a continuation with no message begun */
		n = take(in, take_byte(in), &p);
		frame(o, (var & 1) ? 0x80 : 0x00, p, n, true, mask, LEN_MIN);
		break;
	case 12: { /* big: a JSON message of 70,000 bytes; var & 1: a header that announces 1 MiB + 1 */
		if (s->big_done++)
			break;  /* one an input: a run of them made inputs of megabytes, at 60 executions a second */
		if (var & 1) {
			unsigned char h[14] = { 0x81, 0x80 | 127, 0, 0, 0, 0, 0, 0x10, 0x00, 0x01, 1, 2, 3, 4 };
			out_add(o, h, sizeof(h));
			n = take(in, take_byte(in), &p);
			out_add(o, p, n);
			s->partial = true;
			break;
		}
		size_t size = 70000;
		char *big = malloc(size);
		FUZZ_CHECK(big, "out of memory");
		memset(big, 'a', size);
		static const char head[] = "{\"type\":\"message\",\"content\":\"";
		memcpy(big, head, sizeof(head) - 1);
		memcpy(big + size - 2, "\"}", 2);
		frame(o, 0x81, big, size, true, mask, LEN_MIN);
		free(big);
		break;
	}
	default: /* a pause: what is queued goes, and mockd answers, before the next operation */
		*pause = true;
		break;
	}
	free(tmp.p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 64 * 1024)
		return 0;
	mh_init();
	uint8_t ctl = data[0];
	struct in in = { data + 1, size - 1 };
	unsigned t = ctl & 7;
	bool step = ctl & 0x08, eof_end = ctl & 0x10, early = ctl & 0x20, evil = ctl & 0x40;
	bool upgrade = TARGETS[t].upgrade && !evil;

	struct mh_client c;
	struct state st = { .seen = { .our_code = -1 } };
	char req[512];
	snprintf(req, sizeof(req),
		 "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
		 "Sec-WebSocket-Key: " WS_KEY "\r\nSec-WebSocket-Version: 13\r\n%s\r\n",
		 TARGETS[t].target, evil ? "Origin: https://evil.example\r\n" : "");
	mh_open(&c);
	mh_send(&c, req, strlen(req));

	struct out o = { 0 };
	bool pause = false;
	if (early && upgrade && !step) {
		while (in.n)
			operation(&o, &in, &st.seen, &pause);
		mh_send(&c, o.p, o.len);
		o.len = 0;
	}
	bool ok = mh_run(&c, got_head, NULL);
	FUZZ_CHECK(ok, "%s: no answer to the handshake within %d ms", TARGETS[t].target, MH_BOUND_MS);
	const char *in_text = (const char *)c.in;
	const char *hend = strstr(in_text, "\r\n\r\n");
	FUZZ_CHECK(hend, "%s: mockd closed without answering the handshake: %.300s", TARGETS[t].target, in_text);
	if (!upgrade) {
		int status = 0;
		FUZZ_CHECK(sscanf(in_text, "HTTP/1.1 %d", &status) == 1 && (status == 401 || status == 403),
			   "%s: not a 401 or 403 where no upgrade is due: %.300s", TARGETS[t].target, in_text);
		FUZZ_CHECK(strstr(in_text, "application/json"), "a refused handshake without a JSON body: %.300s", in_text);
		mh_close(&c);
		free(o.p);
		mh_settle();
		return 0;
	}
	FUZZ_CHECK(strncmp(in_text, "HTTP/1.1 101 ", 13) == 0, "%s: not 101: %.300s", TARGETS[t].target, in_text);
	FUZZ_CHECK(strstr(in_text, "Sec-WebSocket-Accept: " WS_ACCEPT "\r\n"), "a wrong Sec-WebSocket-Accept: %.300s",
		   in_text);
	st.head = (size_t)(hend - in_text) + 4;

	while (in.n) {
		pause = false;
		operation(&o, &in, &st.seen, &pause);
		if (step || pause) {
			mh_send(&c, o.p, o.len);
			o.len = 0;
			until_quiet(&c, &st);
		}
	}
	mh_send(&c, o.p, o.len);
	free(o.p);
	until_quiet(&c, &st);

	/* The end: a close frame of ours (unless one went), or EOF; then mockd must close. */
	if (!st.seen.server_closed && !c.eof) {
		if (eof_end || st.seen.close_sent || st.seen.partial) {
			mh_shutdown_write(&c);
		} else {
			struct out bye = { 0 };
			frame(&bye, 0x88, "\x03\xe8" "bye", 5, true, 0x01020304, LEN_MIN);
			mh_send(&c, bye.p, bye.len);
			free(bye.p);
			st.seen.close_sent = true;
			st.seen.our_code = 1000;
		}
	}
	ok = mh_run(&c, server_closed, &st);
	FUZZ_CHECK(ok, "%s: no close from mockd within %d ms (%zu frames, we %s a close)", TARGETS[t].target,
		   MH_BOUND_MS, st.seen.frames, st.seen.close_sent ? "sent" : "did not send");
	/* Its close is out: our side ends (mockd drops what still comes until EOF), and mockd must close. */
	mh_shutdown_write(&c);
	ok = mh_run(&c, NULL, NULL);
	check_frames(&c, st.head, &st.seen);
	FUZZ_CHECK(ok && c.eof, "%s: mockd did not close the connection within %d ms of the close handshake",
		   TARGETS[t].target, MH_BOUND_MS);
	free(st.seen.msg);
	mh_close(&c);
	mh_settle();
	return 0;
}
