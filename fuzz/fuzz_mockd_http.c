/*
 * fuzz_mockd_http: mockd's request path (evhttp, mockd/http.c, the guard, CORS)
 * and the validators of its four APIs and the admin API, in-process.
 *
 * The first byte chooses the mode:
 *   raw (byte % 4 == 0): the rest is sent as it is, then our write side is shut;
 *       whatever mockd answers before it closes must parse as HTTP/1.x.
 *   requests: up to 4 requests, each on a connection of its own, each built from
 *       4 control bytes and a body:
 *         route   one of every documented method and path (ROUTES below)
 *         auth    which credential: a valid key of the route's API (one of
 *                 several), a wrong one, none, another scheme, an empty one
 *         flags   Origin, X-Forwarded-For, another method, the query (or the
 *                 path's :id) from the input, Content-Type variants, a CORS
 *                 preflight or, on a WebSocket path, the upgrade headers
 *         len     the body's length (2 bytes; the last request takes the rest)
 *       "$ID" in a body or a path stands for the last conversation id mockd
 *       answered, so that a second request can reach an existing conversation.
 *
 * Properties: every answer parses as HTTP/1.1 with a status in 100..599 and
 * arrives whole (a stream with its last chunk) within MH_BOUND_MS; a JSON
 * Content-Type has a JSON body; a 4xx or 5xx from an API's path is a JSON
 * object in that API's documented envelope (docs/mockd.md); each NDJSON line
 * and each SSE data line of a stream is JSON. Once the input has added scripted
 * rules (their faults cut and corrupt streams on purpose, and may wait in real
 * time), only the framing is checked. Between inputs mockd is reset.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "fuzz/fuzz.h"
#include "fuzz/mockd_harness.h"

enum api { NONE, DEEPWIKI, WIDGET, BOTCHAT, THREADS, ADMIN };

struct route {
	const char *method;
	const char *path;    /* "$ID" is replaced by the id */
	const char *query;   /* "$KEY" by the credential (threads, the deepwiki WebSocket) */
	enum api api;
	bool ws;             /* a WebSocket path: its handshake errors are not in the API's envelope */
};

static const struct route ROUTES[] = {
	{ "POST", "/chat/stream", NULL, DEEPWIKI, false },
	{ "POST", "/chat/research", NULL, DEEPWIKI, false },
	{ "GET", "/chat/history", "conversation_id=$ID", DEEPWIKI, false },
	{ "GET", "/chat/history", "user_id=user_dev&limit=2&offset=0", DEEPWIKI, false },
	{ "GET", "/chat/history", "user_id=user_dev&start_date=2020-01-01&end_date=2100-01-01T00:00:00Z", DEEPWIKI, false },
	{ "DELETE", "/chat/history", "conversation_id=$ID", DEEPWIKI, false },
	{ "DELETE", "/chat/history", NULL, DEEPWIKI, false },
	{ "GET", "/ws/chat", "token=$KEY", DEEPWIKI, true },
	{ "GET", "/ws/chat", "token=$KEY&conversation_id=$ID&room_id=r1&user_id=u1", DEEPWIKI, true },
	{ "POST", "/v1/chat/stream", NULL, WIDGET, false },
	{ "POST", "/chat", NULL, WIDGET, false },
	{ "POST", "/api/chat", NULL, BOTCHAT, false },
	{ "POST", "/api/chat/stream", NULL, BOTCHAT, false },
	{ "GET", "/api/conversations", "userId=u1&groupId=g1&limit=5&offset=0", BOTCHAT, false },
	{ "GET", "/api/conversations", NULL, BOTCHAT, false },
	{ "GET", "/api/conversations/$ID", NULL, BOTCHAT, false },
	{ "DELETE", "/api/conversations/$ID", NULL, BOTCHAT, false },
	{ "POST", "/api/conversations/$ID/clear", NULL, BOTCHAT, false },
	{ "GET", "/chat/ws", "$KEY", THREADS, true },
	{ "GET", "/__admin/health", NULL, ADMIN, false },
	{ "POST", "/__admin/reset", NULL, ADMIN, false },
	{ "GET", "/__admin/scripts", NULL, ADMIN, false },
	{ "POST", "/__admin/scripts", NULL, ADMIN, false },
	{ "DELETE", "/__admin/scripts", NULL, ADMIN, false },
	{ "POST", "/__admin/scripts/clear", NULL, ADMIN, false },
	{ "GET", "/__admin/journal", "since=0&limit=5", ADMIN, false },
	{ "GET", "/__admin/journal", NULL, ADMIN, false },
	{ "GET", "/__admin/clock", NULL, ADMIN, false },
	{ "POST", "/__admin/clock", NULL, ADMIN, false },
	{ "POST", "/__admin/clock/advance", NULL, ADMIN, false },
	{ "GET", "/__admin/ratelimits", NULL, ADMIN, false },
	{ "GET", "/v1/nope", NULL, WIDGET, false },
	{ "GET", "/api/nope/$ID", NULL, BOTCHAT, false },
	{ "GET", "/chat/nope", NULL, DEEPWIKI, false },
	{ "GET", "/__admin/nope", NULL, ADMIN, false },
	{ "GET", "/nope", NULL, NONE, false },
};
#define NROUTES (sizeof(ROUTES) / sizeof(ROUTES[0]))

static const char *const METHODS[] = { "GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "TRACE" };
static const char *const ORIGINS[] = { "http://localhost:3000", "https://evil.example", "null", "http://127.0.0.1:8080" };
static const char *const DW_KEYS[] = { "dw-dev-key", "dw-dev-key-2", "dw-basic-key", "dw-quota-key" };
static const char *const TH_QUERIES[] = {
	"key=00000000-0000-4000-8000-000000000001", "token=th-dev-token", "token=th-dev-token-2",
	"key=00000000-0000-4000-8000-000000000002", "key=00000000-0000-4000-8000-000000000002&token=th-dev-token",
	"token=nope", "", "key=",
};

#define MAX_REQUESTS 4
#define MAX_TAIL     256

struct ctx {
	char id[96];        /* the last conversation id answered */
};

/* ---- the answer --------------------------------------------------------------------------- */

struct resp {
	int minor, status;
	char ctype[128];
	bool chunked, has_clen;
	size_t clen;
	char *body;         /* de-chunked, NUL-terminated */
	size_t body_len;
	size_t end;         /* bytes of the input the response took */
};

static void resp_free(struct resp *r)
{
	free(r->body);
	r->body = NULL;
}

/* A hex chunk size line at p (n bytes available): its value and length with CRLF; 0 when incomplete, -1 bad. */
static int chunk_size(const char *p, size_t n, size_t *size, size_t *line)
{
	const char *crlf = memmem(p, n, "\r\n", 2);
	if (!crlf)
		return n > 64 ? -1 : 0;
	size_t v = 0, i = 0;
	for (; p + i < crlf && isxdigit((unsigned char)p[i]); i++) {
		if (v > (SIZE_MAX >> 5))
			return -1;
		v = v * 16 + (size_t)(isdigit((unsigned char)p[i]) ? p[i] - '0' : (tolower((unsigned char)p[i]) - 'a' + 10));
	}
	if (i == 0 || (p + i != crlf && p[i] != ';'))
		return -1;
	*size = v;
	*line = (size_t)(crlf - p) + 2;
	return 1;
}

/*
 * One HTTP response at p: 1 whole (r filled), 0 not yet, -1 malformed (why set).
 * head: the request was HEAD (no body whatever the headers say).
 */
static int parse_resp(const char *p, size_t n, bool eof, bool head, struct resp *r, const char **why)
{
	memset(r, 0, sizeof(*r));
	const char *hend = memmem(p, n, "\r\n\r\n", 4);
	if (!hend) {
		*why = "no end of the head";
		return n > 64 * 1024 ? -1 : 0;
	}
	size_t hlen = (size_t)(hend - p) + 4;
	char sp = 0;
	/*
	 * Any HTTP/1.x: evhttp's own errors (a malformed head, an unknown method,
	 * before mockd sees the request) are written in the version the request
	 * named, "HTTP/1.4 400", "HTTP/1.11 501"; libevent 2.1 has no hook to change
	 * that. check_answer wants 1.1 of a request built here.
	 */
	size_t d = 7;
	while (d < n && d < 16 && isdigit((unsigned char)p[d]))
		d++;
	if (n < d + 6 || memcmp(p, "HTTP/1.", 7) != 0 || d == 7 || p[d] != ' ' || !isdigit((unsigned char)p[d + 1]) ||
	    !isdigit((unsigned char)p[d + 2]) || !isdigit((unsigned char)p[d + 3])) {
		*why = "not a status line";
		return -1;
	}
	sp = p[d + 4];
	if (sp != ' ' && sp != '\r') {
		*why = "no space after the status";
		return -1;
	}
	r->minor = d == 8 ? p[7] - '0' : 10;  /* 10: any minor of two digits or more */
	r->status = (p[d + 1] - '0') * 100 + (p[d + 2] - '0') * 10 + (p[d + 3] - '0');
	const char *line = (const char *)memmem(p, hlen, "\r\n", 2) + 2;
	while (line < hend + 2) {
		const char *eol = memmem(line, (size_t)(hend + 2 - line), "\r\n", 2);
		const char *colon = memchr(line, ':', (size_t)(eol - line));
		if (!colon || colon == line) {
			*why = "a header line without a name";
			return -1;
		}
		size_t nlen = (size_t)(colon - line);
		const char *v = colon + 1;
		while (v < eol && (*v == ' ' || *v == '\t'))
			v++;
		size_t vlen = (size_t)(eol - v);
		if (nlen == 12 && strncasecmp(line, "Content-Type", 12) == 0)
			snprintf(r->ctype, sizeof(r->ctype), "%.*s", (int)vlen, v);
		else if (nlen == 14 && strncasecmp(line, "Content-Length", 14) == 0) {
			char num[32];
			snprintf(num, sizeof(num), "%.*s", (int)vlen, v);
			char *end;
			r->clen = strtoul(num, &end, 10);
			if (!vlen || *end) {
				*why = "a Content-Length that is not a number";
				return -1;
			}
			r->has_clen = true;
		} else if (nlen == 17 && strncasecmp(line, "Transfer-Encoding", 17) == 0)
			r->chunked = vlen == 7 && strncasecmp(v, "chunked", 7) == 0;
		line = eol + 2;
	}
	const char *b = p + hlen;
	size_t avail = n - hlen;
	if (head || (r->status >= 100 && r->status < 200) || r->status == 204 || r->status == 304) {
		r->end = hlen;
	} else if (r->chunked) {
		size_t off = 0, out = 0;
		r->body = malloc(avail + 1);
		FUZZ_CHECK(r->body, "out of memory");
		for (;;) {
			size_t size, l;
			int rc = chunk_size(b + off, avail - off, &size, &l);
			if (rc <= 0) {
				*why = rc < 0 ? "a bad chunk size" : "the stream has no last chunk";
				return rc;
			}
			if (size == 0) {
				/* No trailers from evhttp: the last chunk is "0\r\n\r\n". */
				if (avail - off < l + 2) {
					*why = "the stream has no end after its last chunk";
					return 0;
				}
				if (memcmp(b + off + l, "\r\n", 2) != 0) {
					*why = "trailers after the last chunk";
					return -1;
				}
				off += l + 2;
				break;
			}
			if (size > avail - off - l || avail - off - l - size < 2) {
				*why = "a chunk cut short";
				return 0;
			}
			if (memcmp(b + off + l + size, "\r\n", 2) != 0) {
				*why = "a chunk without its CRLF";
				return -1;
			}
			memcpy(r->body + out, b + off + l, size);
			out += size;
			off += l + size + 2;
		}
		r->body[out] = '\0';
		r->body_len = out;
		r->end = hlen + off;
	} else if (r->has_clen) {
		if (avail < r->clen) {
			*why = "a body shorter than its Content-Length";
			return 0;
		}
		r->body = malloc(r->clen + 1);
		FUZZ_CHECK(r->body, "out of memory");
		memcpy(r->body, b, r->clen);
		r->body[r->clen] = '\0';
		r->body_len = r->clen;
		r->end = hlen + r->clen;
	} else {
		if (!eof) {
			*why = "a body without a length before the close";
			return 0;
		}
		r->body = malloc(avail + 1);
		FUZZ_CHECK(r->body, "out of memory");
		memcpy(r->body, b, avail);
		r->body[avail] = '\0';
		r->body_len = avail;
		r->end = n;
	}
	return 1;
}

static bool ctype_is(const struct resp *r, const char *type)
{
	size_t n = strlen(type);
	return strncasecmp(r->ctype, type, n) == 0 && (r->ctype[n] == '\0' || r->ctype[n] == ';');
}

static cJSON *parse_json(const char *p, size_t n)
{
	return cJSON_ParseWithLengthOpts(p, n, NULL, 0);
}

/* A string member name of o, or NULL. */
static const char *str_member(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The documented error envelope of api (docs/mockd.md); NULL when o is one, else what is wrong. */
static const char *envelope_problem(enum api api, const cJSON *o)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "error");
	switch (api) {
	case DEEPWIKI:  /* {"error":{"code","message","details"}} */
		if (!cJSON_IsObject(e) || !str_member(e, "code") || !str_member(e, "message"))
			return "deepwiki: no error object with a code and a message";
		return NULL;
	case BOTCHAT:   /* {"success":false,"error":{"code","message"}} */
		if (!cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(o, "success")))
			return "botchat: success is not false";
		if (!cJSON_IsObject(e) || !str_member(e, "code") || !str_member(e, "message"))
			return "botchat: no error object with a code and a message";
		return NULL;
	case WIDGET:    /* {"error":"..."} */
		return cJSON_IsString(e) ? NULL : "widget: error is not a string";
	case THREADS:   /* {"type":"error","message"} */
		return str_member(o, "type") && strcmp(str_member(o, "type"), "error") == 0 && str_member(o, "message")
			       ? NULL : "threads: not {type: error, message}";
	case ADMIN:     /* {"error": "..."} */
	case NONE:
		return e ? NULL : "no error member";
	}
	return NULL;
}

/* Each NDJSON line, or each SSE data line, is JSON. */
static void check_stream_lines(const struct resp *r, bool sse)
{
	const char *p = r->body, *end = r->body + r->body_len;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t n = eol ? (size_t)(eol - p) : (size_t)(end - p);
		if (n && p[n - 1] == '\r')
			n--;
		const char *v = p;
		size_t vn = n;
		bool want = !sse && n > 0;
		if (sse && n >= 5 && memcmp(p, "data:", 5) == 0) {
			v = p + 5 + (n > 5 && p[5] == ' ');
			vn = n - (size_t)(v - p);
			want = true;
		}
		if (want) {
			cJSON *j = parse_json(v, vn);
			FUZZ_CHECK(j, "a %s line of a %d stream is not JSON: %.*s", sse ? "data" : "NDJSON", r->status,
				   (int)(vn > 300 ? 300 : vn), v);
			cJSON_Delete(j);
		}
		p += (eol ? (size_t)(eol - p) + 1 : (size_t)(end - p));
	}
}

/* Remember the last conversation id an answer names, for "$ID" in the next request. */
static void capture_id(struct ctx *x, const char *body)
{
	static const char *const names[] = { "\"conversation_id\":\"", "\"conversationId\":\"", "\"id\":\"" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *at = body ? strstr(body, names[i]) : NULL;
		if (!at)
			continue;
		at += strlen(names[i]);
		size_t n = strcspn(at, "\"\\");
		if (n == 0 || n >= sizeof(x->id))
			continue;
		memcpy(x->id, at, n);
		x->id[n] = '\0';
		return;
	}
}

/* ---- building a request --------------------------------------------------------------------- */

/* Append s to b with "$ID" and "$KEY" replaced. */
static void add_expanded(char *b, size_t size, const char *s, const struct ctx *x, const char *key)
{
	size_t len = strlen(b);
	while (*s && len + 1 < size) {
		if (strncmp(s, "$ID", 3) == 0) {
			len += (size_t)snprintf(b + len, size - len, "%s", x->id[0] ? x->id : "conv_nope");
			s += 3;
		} else if (strncmp(s, "$KEY", 4) == 0) {
			len += (size_t)snprintf(b + len, size - len, "%s", key);
			s += 4;
		} else {
			b[len++] = *s++;
			b[len] = '\0';
		}
		if (len >= size)
			len = size - 1;
	}
}

/* Append the bytes as URI text: unreserved and sub-delims as they are, the rest percent-encoded. */
static void add_encoded(char *b, size_t size, const uint8_t *p, size_t n)
{
	size_t len = strlen(b);
	for (size_t i = 0; i < n && len + 4 < size; i++) {
		unsigned char c = p[i];
		if (isalnum(c) || strchr("-._~!$'()*+,;=:@&/?%", c))
			b[len++] = (char)c;
		else
			len += (size_t)snprintf(b + len, size - len, "%%%02X", c);
	}
	b[len] = '\0';
}

struct built {
	char head[4096];
	char *body;
	size_t body_len;
	const struct route *rt;
	const char *method;
	bool upgrade;
	bool preflight;
};

static void build(struct built *q, const struct ctx *x, uint8_t route, uint8_t auth, uint8_t flags, const uint8_t *body,
		  size_t blen)
{
	memset(q, 0, sizeof(*q));
	const struct route *rt = q->rt = &ROUTES[route % NROUTES];
	q->method = (flags & 0x04) ? METHODS[(auth >> 5) % 8] : rt->method;
	q->upgrade = rt->ws && (flags & 0x40);
	q->preflight = !rt->ws && (flags & 0x40);
	if (q->preflight)
		q->method = "OPTIONS";

	/* The tail: the body up to its first LF, for the query or the path's id. */
	const uint8_t *tail = NULL;
	size_t tlen = 0;
	if (flags & 0x08) {
		const uint8_t *lf = memchr(body, '\n', blen < MAX_TAIL ? blen : MAX_TAIL);
		tail = body;
		tlen = lf ? (size_t)(lf - body) : (blen < MAX_TAIL ? blen : MAX_TAIL);
		body += tlen + (lf != NULL);
		blen -= tlen + (lf != NULL);
	}

	const char *cred = "";
	char authz[128] = "";
	unsigned a = auth & 7;
	if (rt->api == DEEPWIKI) {
		cred = a < 4 ? DW_KEYS[a] : a == 4 ? "dw-nope" : "";
		if (a < 5)
			snprintf(authz, sizeof(authz), "Authorization: Bearer %s\r\n", cred);
		else if (a == 5)
			snprintf(authz, sizeof(authz), "Authorization: Basic ZHctZGV2LWtleTo=\r\n");
		else if (a == 6)
			snprintf(authz, sizeof(authz), "Authorization: Bearer \r\n");
	} else if (rt->api == WIDGET) {
		cred = a < 4 ? "widget-dev-key-0123456789abcdef" : a == 4 ? "widget-nope" : NULL;
		if (cred)
			snprintf(authz, sizeof(authz), "%s: %s\r\n", (auth & 8) ? "x-widget-api-key" : "x-api-key", cred);
		cred = "";
	} else if (rt->api == THREADS) {
		cred = TH_QUERIES[a];
	}

	char target[1024] = "";
	if (tail && strstr(rt->path, "$ID") && !(flags & 0x20)) {
		/* The id from the input. */
		const char *id = strstr(rt->path, "$ID");
		snprintf(target, sizeof(target), "%.*s", (int)(id - rt->path), rt->path);
		add_encoded(target, sizeof(target), tail, tlen);
		add_expanded(target, sizeof(target), id + 3, x, cred);
	} else {
		add_expanded(target, sizeof(target), rt->path, x, cred);
	}
	if (rt->query || tail) {
		strcat(target, "?");
		if (rt->query && (!tail || (flags & 0x20)))
			add_expanded(target, sizeof(target), rt->query, x, cred);
		if (tail && rt->query && (flags & 0x20))
			strcat(target, "&");
		if (tail && (!strstr(rt->path, "$ID") || (flags & 0x20)))
			add_encoded(target, sizeof(target), tail, tlen);
	}

	/* The body, with "$ID" replaced. */
	q->body = malloc(blen * 2 + sizeof(x->id) + 16);
	FUZZ_CHECK(q->body, "out of memory");
	for (size_t i = 0; i < blen;) {
		if (i + 3 <= blen && memcmp(body + i, "$ID", 3) == 0) {
			size_t n = strlen(x->id[0] ? x->id : "conv_nope");
			if (q->body_len + n > blen * 2 + sizeof(x->id))
				break;
			memcpy(q->body + q->body_len, x->id[0] ? x->id : "conv_nope", n);
			q->body_len += n;
			i += 3;
		} else {
			q->body[q->body_len++] = (char)body[i++];
		}
	}

	int n = snprintf(q->head, sizeof(q->head), "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s", q->method, target, authz);
	if (flags & 0x01)
		n += snprintf(q->head + n, sizeof(q->head) - (size_t)n, "Origin: %s\r\n", ORIGINS[(auth >> 3) & 3]);
	if (flags & 0x02)
		n += snprintf(q->head + n, sizeof(q->head) - (size_t)n, "X-Forwarded-For: 10.0.%u.%u, 127.0.0.1\r\n",
			      route, auth);
	if (q->preflight)
		n += snprintf(q->head + n, sizeof(q->head) - (size_t)n,
			      "Access-Control-Request-Method: %s\r\nAccess-Control-Request-Headers: content-type%s\r\n",
			      rt->method, (auth & 0x80) ? ", x-evil" : "");
	if (q->upgrade)
		n += snprintf(q->head + n, sizeof(q->head) - (size_t)n,
			      "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
			      "Sec-WebSocket-Version: %s\r\n", (auth & 0x80) ? "8" : "13");
	else
		n += snprintf(q->head + n, sizeof(q->head) - (size_t)n, "Connection: close\r\n");
	if (!(flags & 0x80))
		n += snprintf(q->head + n, sizeof(q->head) - (size_t)n, "Content-Type: %s\r\n",
			      (flags & 0x10) ? "text/plain" : "application/json");
	n += snprintf(q->head + n, sizeof(q->head) - (size_t)n, "Content-Length: %zu\r\n\r\n", q->body_len);
	FUZZ_CHECK((size_t)n < sizeof(q->head), "the head does not fit");
}

/* ---- running ----------------------------------------------------------------------------- */

struct waiting {
	bool head;
};

/* Done when a whole answer (not a 1xx but a 101) is in, or it is malformed: the checks say which. */
static bool answered(struct mh_client *c, void *arg)
{
	struct waiting *w = arg;
	size_t off = 0;
	for (;;) {
		struct resp r;
		const char *why = "";
		int rc = parse_resp((const char *)c->in + off, c->in_len - off, c->eof, w->head, &r, &why);
		resp_free(&r);
		if (rc != 1)
			return rc < 0;
		if (r.status >= 200 || r.status == 101)
			return true;
		off += r.end;
	}
}

/* Check the answer in c: the first final response (after any 1xx but 101). */
static void check_answer(struct mh_client *c, const struct built *q, struct ctx *x, bool raw, bool hung)
{
	bool head = raw ? (c->out_len >= 5 && memcmp(c->out, "HEAD ", 5) == 0) : strcmp(q->method, "HEAD") == 0;
	bool rules = mh_rules_loaded();
	size_t off = 0;
	for (;;) {
		struct resp r;
		const char *why = "";
		int rc = parse_resp((const char *)c->in + off, c->in_len - off, c->eof, head, &r, &why);
		if (rc < 0)
			FUZZ_CHECK(false, "the answer is not HTTP: %s: %.300s", why, (const char *)c->in + off);
		if (rc == 0) {
			resp_free(&r);
			/* Raw bytes may end any way (mockd may close before answering); a request must be answered. */
			FUZZ_CHECK(raw || rules, "%s %s: %s (%s after %lld ms; %zu bytes: %.300s)", q->method, q->rt->path,
				   why, hung ? "still open" : "closed", (long long)mh_elapsed_ms(c), c->in_len - off,
				   (const char *)c->in + off);
			return;
		}
		if (getenv("MH_DEBUG"))  /* see what an input gets: MH_DEBUG=1 build/fuzz/fuzz_mockd_http FILE */
			fprintf(stderr, "%s %s -> %d %s %.200s\n", q->method, q->rt->path, r.status, r.ctype,
				r.body ? r.body : "");
		FUZZ_CHECK(r.status >= 100 && r.status <= 599, "status %d", r.status);
		if (r.status >= 100 && r.status < 200 && r.status != 101) {
			off += r.end;
			resp_free(&r);
			continue;
		}
		if (!raw)
			FUZZ_CHECK(r.minor == 1, "%s %s: answered HTTP/1.%d", q->method, q->rt->path, r.minor);
		if (r.status == 101) {
			FUZZ_CHECK(raw || q->upgrade, "101 to a request without Upgrade");
			resp_free(&r);
			return;
		}
		bool json = ctype_is(&r, "application/json");
		if (json && !head) {
			cJSON *j = parse_json(r.body, r.body_len);
			FUZZ_CHECK(j, "%s %s: %d with a JSON Content-Type and this body: %.300s", raw ? "raw" : q->method,
				   raw ? "" : q->rt->path, r.status, r.body);
			if (!raw && !rules && r.status >= 400 && q->rt->api != NONE && !q->preflight) {
				FUZZ_CHECK(cJSON_IsObject(j), "%s %s: %d with a body that is not an object: %.300s",
					   q->method, q->rt->path, r.status, r.body);
				const char *bad = q->rt->ws ? NULL : envelope_problem(q->rt->api, j);
				FUZZ_CHECK(!bad, "%s %s: %d: %s: %.300s", q->method, q->rt->path, r.status, bad, r.body);
			}
			cJSON_Delete(j);
		} else if (!raw && !rules && !head && r.status >= 400 && q->rt->api != NONE && !q->preflight &&
			   strcmp(q->method, "TRACE") != 0) {
			/* (evhttp answers a method mockd does not allow, TRACE, 501 itself, in HTML.) */
			FUZZ_CHECK(false, "%s %s: %d with Content-Type \"%s\", not JSON: %.300s", q->method, q->rt->path,
				   r.status, r.ctype, r.body);
		}
		bool sse = ctype_is(&r, "text/event-stream"), nd = ctype_is(&r, "application/x-ndjson");
		if ((sse || nd) && !head) {
			if (!raw)
				FUZZ_CHECK(r.chunked, "%s %s: a stream that is not chunked", q->method, q->rt->path);
			if (!rules)
				check_stream_lines(&r, sse);
		}
		if (!raw)
			capture_id(x, r.body);
		resp_free(&r);
		return;
	}
}

static void run_raw(const uint8_t *data, size_t size)
{
	struct mh_client c;
	struct ctx x = { "" };
	struct route rt = { "RAW", "(raw)", NULL, NONE, false };
	struct built q = { .rt = &rt, .method = "RAW" };
	mh_open(&c);
	mh_send(&c, data, size);
	mh_shutdown_write(&c);
	bool ok = mh_run(&c, NULL, NULL);
	FUZZ_CHECK(ok || mh_rules_loaded(), "raw request: mockd neither answered nor closed within %d ms (%zu bytes in: %.300s)",
		   MH_BOUND_MS, c.in_len, (const char *)c.in);
	if (c.in_len)
		check_answer(&c, &q, &x, true, !ok);
	mh_close(&c);
}

static void run_requests(const uint8_t *data, size_t size)
{
	struct ctx x = { "" };
	for (int i = 0; i < MAX_REQUESTS && size >= 3; i++) {
		uint8_t route = data[0], auth = data[1], flags = data[2];
		data += 3;
		size -= 3;
		size_t blen = size;
		if (i + 1 < MAX_REQUESTS && size >= 2) {
			blen = (size_t)data[0] | (size_t)data[1] << 8;
			data += 2;
			size -= 2;
			if (blen > size)
				blen = size;
		}
		struct built q;
		build(&q, &x, route, auth, flags, data, blen);
		data += blen;
		size -= blen;

		struct mh_client c;
		struct waiting w = { strcmp(q.method, "HEAD") == 0 };
		mh_open(&c);
		mh_send(&c, q.head, strlen(q.head));
		mh_send(&c, q.body, q.body_len);
		bool ok = mh_run(&c, answered, &w);
		FUZZ_CHECK(ok || mh_rules_loaded(), "%s %s: no answer within %d ms (%zu bytes: %.300s)", q.method,
			   q.rt->path, MH_BOUND_MS, c.in_len, (const char *)c.in);
		check_answer(&c, &q, &x, false, !ok);
		mh_close(&c);
		free(q.body);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 256 * 1024)
		return 0;
	mh_init();
	if (data[0] % 4 == 0)
		run_raw(data + 1, size - 1);
	else
		run_requests(data + 1, size - 1);
	mh_settle();
	return 0;
}
