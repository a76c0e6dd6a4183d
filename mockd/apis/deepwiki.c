/*
 * deepwiki: the DeepWikiOpen chat API over HTTP (seeds/000), SSE streaming.
 *
 *   POST   /chat/stream     SSE: start, content*, sources?, metadata?, end | error
 *   POST   /chat/research   one JSON research result
 *   GET    /chat/history    messages of a conversation or of a user, paged
 *   DELETE /chat/history    delete them (parameters in a JSON body or the query)
 *
 * Every endpoint: Bearer key (401), scope (403), validation (400), rate limit
 * (429), token quota (403, chat only), conversation ownership (404), in that
 * order.  The WebSocket /ws/chat lives in deepwiki_ws.c.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/buf.h"
#include "common/json.h"
#include "common/jsonw.h"
#include "common/sse.h"
#include "common/timeutil.h"
#include "mockd/apis/apis.h"
#include "mockd/apis/deepwiki.h"
#include "mockd/breaks.h"
#include "mockd/clock.h"
#include "mockd/keys.h"
#include "mockd/mockd.h"
#include "mockd/ratelimit.h"
#include "mockd/script.h"
#include "mockd/store.h"
#include "mockd/stream.h"

#define DW_MAX_ID      128
#define DAY_MS         86400000LL

static const char *const dw_models[] = { "gpt-4-turbo", "gpt-3.5-turbo", "claude-3-opus", "claude-3-sonnet", NULL };
static const char *const dw_context_sources[] = { "wikipedia", "academic_papers", "news", "documentation", "all", NULL };
static const char *const dw_depths[] = { "quick", "standard", "deep", "comprehensive", NULL };
static const int dw_depth_sources[] = { 5, 10, 20, 40 };
static const char *const dw_source_types[] = { "academic", "wikipedia", "news", "documentation", "books", "patents", NULL };
static const char *const dw_formats[] = { "structured", "narrative", "bullet_points", "academic", NULL };

static unsigned long dw_message_seq;  /* orders messages stored in the same millisecond */

/* ---- errors ------------------------------------------------------------------------------ */

static const char *code_for_status(int status)
{
	switch (status) {
	case 400: return "INVALID_REQUEST";
	case 401: return "UNAUTHORIZED";
	case 403: return "FORBIDDEN";
	case 404: return "NOT_FOUND";
	case 405: return "METHOD_NOT_ALLOWED";
	case 413: return "PAYLOAD_TOO_LARGE";
	case 429: return "RATE_LIMIT_EXCEEDED";
	default: return "INTERNAL_ERROR";
	}
}

/* The error envelope {"error":{code, message, details}}; takes ownership of details (may be NULL). */
static void dw_fail(struct mreq *r, int status, const char *code, const char *message, cJSON *details)
{
	cJSON *err = cJSON_CreateObject();
	cJSON_AddStringToObject(err, "code", code ? code : code_for_status(status));
	cJSON_AddStringToObject(err, "message", message ? message : "error");
	if (details)
		cJSON_AddItemToObject(err, "details", details);
	if (break_on(BRK_DW_FLAT_ERROR)) {
		reply_json(r, status, err);
		return;
	}
	cJSON *o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "error", err);
	if (status == 401)
		reply_header(r, "WWW-Authenticate", "Bearer realm=\"deepwiki\"");
	reply_json(r, status, o);
}

static void dw_error(struct mreq *r, int status, const char *code, const char *message)
{
	dw_fail(r, status, code, message, NULL);
}

/* A 400 that names the parameter. */
static void dw_invalid(struct mreq *r, const char *field, const char *message)
{
	cJSON *details = cJSON_CreateObject();
	cJSON_AddStringToObject(details, "field", field);
	dw_fail(r, 400, "INVALID_REQUEST", message, details);
}

/* ---- the checks every endpoint makes ------------------------------------------------------ */

/* The key of a "Bearer KEY" header; NULL and a 401 answered when there is none or it is unknown. */
static struct api_key *dw_auth(struct mreq *r)
{
	const char *h = mreq_header(r, "Authorization");
	if (!h) {
		dw_error(r, 401, "UNAUTHORIZED", "Missing API key: send Authorization: Bearer <your-api-key>");
		return NULL;
	}
	while (*h == ' ')
		h++;
	if (strncasecmp(h, "Bearer ", 7) != 0) {
		dw_error(r, 401, "UNAUTHORIZED", "Malformed Authorization header: expected Bearer <your-api-key>");
		return NULL;
	}
	h += 7;
	while (*h == ' ')
		h++;
	struct api_key *k = *h ? keys_find("deepwiki", h) : NULL;
	if (!k)
		dw_error(r, 401, "UNAUTHORIZED", "Invalid API key");
	return k;
}

static bool dw_scope(struct mreq *r, const struct api_key *k, const char *scope)
{
	if (key_has_scope(k, scope) || (break_on(BRK_DW_SCOPE) && strcmp(scope, "research") == 0))
		return true;
	char msg[128];
	snprintf(msg, sizeof(msg), "This API key does not have the \"%s\" scope", scope);
	dw_error(r, 403, "FORBIDDEN", msg);
	return false;
}

/* The limit of a policy from the keys file's config, or the document's number. */
static int dw_limit(const char *policy, int documented)
{
	const cJSON *limits = cJSON_GetObjectItemCaseSensitive(keys_api_config("deepwiki"), "rate_limits");
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(limits, policy);
	return json_is_integer(v) && v->valuedouble >= 1 ? (int)v->valuedouble : documented;
}

/* Count the request against the key's window for policy; false (and a 429 answered) when it is spent. */
static bool dw_rate(struct mreq *r, const struct api_key *k, const char *policy, int documented)
{
	char name[48] = "deepwiki.";
	str_copy(name + strlen(name), sizeof(name) - strlen(name), policy);
	struct rl_policy p = {
		.name = name,
		.limit = dw_limit(policy, documented) + (break_on(BRK_DW_CHAT_LIMIT) && strcmp(policy, "chat") == 0),
		.window_ms = 60000,
		.count_rejected = break_on(BRK_DW_COUNT_REJECTED),
		.kind = break_on(BRK_DW_RATE_SLIDING) ? RL_SLIDING :
			break_on(BRK_DW_RATE_EXTENDS) ? RL_EXTENDING : RL_FIXED,
	};
	struct rl_result rl;
	ratelimit_hit(&p, k->key, clock_now_ms(), &rl);
	reply_header_int(r, "X-RateLimit-Limit", rl.limit);
	reply_header_int(r, "X-RateLimit-Remaining", rl.remaining);
	reply_header_int(r, "X-RateLimit-Reset", (rl.reset_at_ms + 999) / 1000);
	if (rl.allowed)
		return true;
	reply_header_int(r, "Retry-After", rl.retry_after_s + (break_on(BRK_DW_RETRY_AFTER) ? 5 : 0));
	cJSON *details = cJSON_CreateObject();
	cJSON_AddNumberToObject(details, "retry_after", rl.retry_after_s);
	cJSON_AddNumberToObject(details, "current_usage", rl.used);
	cJSON_AddNumberToObject(details, "limit", rl.limit);
	char msg[96];
	snprintf(msg, sizeof(msg), "Rate limit exceeded. Try again in %d seconds.", rl.retry_after_s);
	dw_fail(r, 429, "RATE_LIMIT_EXCEEDED", msg, details);
	return false;
}

/* The body as a JSON object; NULL and a 400 answered otherwise. */
static cJSON *dw_body(struct mreq *r)
{
	cJSON *body = mreq_json(r);
	if (cJSON_IsObject(body))
		return body;
	cJSON_Delete(body);
	dw_invalid(r, "body", r->body_len ? "The body must be a JSON object" : "A JSON body is required");
	return NULL;
}

static bool in_list(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

static int list_index(const char *s, const char *const *list)
{
	for (int i = 0; list[i]; i++)
		if (strcmp(s, list[i]) == 0)
			return i;
	return -1;
}

/* A conversation id a client may choose: 1-128 of [A-Za-z0-9._:-]. */
static bool id_ok(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > DW_MAX_ID)
		return false;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-") == n;
}

/* An optional enum member: NULL when absent, the value when valid, and *bad set when present and wrong. */
static const char *opt_enum(const cJSON *o, const char *name, const char *const *values, bool *bad)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	if (!v)
		return NULL;
	if (!cJSON_IsString(v) || !in_list(v->valuestring, values)) {
		*bad = true;
		return NULL;
	}
	return v->valuestring;
}

/* An optional array of strings from values; false when present and wrong. */
static bool opt_subset(const cJSON *o, const char *name, const char *const *values)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name), *item;
	if (!v)
		return true;
	if (!cJSON_IsArray(v))
		return false;
	cJSON_ArrayForEach(item, v)
	{
		if (!cJSON_IsString(item) || !in_list(item->valuestring, values))
			return false;
	}
	return true;
}

/* The conversation id of a user; NULL when it does not exist or belongs to someone else (no difference shown). */
static struct conversation *dw_owned(const char *id, const struct api_key *k)
{
	struct conversation *c = store_get("deepwiki", id);
	if (c && strcmp(c->owner, k->user_id) != 0 && !break_on(BRK_DW_OTHER_USER))
		return NULL;
	return c;
}

/* Store a message with its id and, for the assistant, its metadata. */
static void dw_store(struct conversation *c, const char *role, const char *content, int64_t at,
		     cJSON *metadata)
{
	char id[32];
	mockd_random_id(id, "msg_", 16);
	cJSON *meta = cJSON_CreateObject();
	cJSON_AddStringToObject(meta, "id", id);
	cJSON_AddNumberToObject(meta, "seq", (double)++dw_message_seq);
	if (metadata)
		cJSON_AddItemToObject(meta, "metadata", metadata);
	store_add_message(c, role, content, at, meta);
}

void deepwiki_store_message(struct conversation *c, const char *role, const char *content, cJSON *metadata)
{
	dw_store(c, role, content, clock_now_ms(), metadata);
}

struct conversation *deepwiki_conversation(const char *id, const struct api_key *k, bool create)
{
	char fresh[32];
	static char last_generated[32];
	if (!id && break_on(BRK_DW_GENERATED_SHARED)) {
		struct conversation *c = *last_generated ? store_get("deepwiki", last_generated) : NULL;
		if (c && strcmp(c->owner, k->user_id) != 0)
			return c;
	}
	if (id) {
		struct conversation *c = store_get("deepwiki", id);
		if (c)
			return strcmp(c->owner, k->user_id) == 0 ? c : NULL;
		return create ? store_create("deepwiki", id, k->user_id, NULL) : NULL;
	}
	for (int tries = 0; tries < 8; tries++) {
		mockd_random_id(fresh, "conv_", 16);
		struct conversation *c = store_create("deepwiki", fresh, k->user_id, NULL);
		if (c) {
			str_copy(last_generated, sizeof(last_generated), fresh);
			return c;
		}
	}
	return NULL;
}

/* ---- sources ---------------------------------------------------------------------------- */

static uint64_t text_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL ^ mockd_cfg.seed;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* A short topic from the first words of a message, for titles and urls. */
static void topic_of(const char *message, char *out, size_t size, bool slug)
{
	size_t j = 0;
	int words = 0;
	bool in_word = false;
	for (const char *p = message; *p && j + 1 < size && words < 4; p++) {
		unsigned char c = (unsigned char)*p;
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (alnum) {
			out[j++] = slug && c >= 'A' && c <= 'Z' ? (char)(c + 32) : (char)c;
			in_word = true;
		} else if (in_word) {
			words++;
			in_word = false;
			if (words < 4 && j + 1 < size)
				out[j++] = slug ? '_' : ' ';
		}
	}
	while (j && (out[j - 1] == '_' || out[j - 1] == ' '))
		j--;
	out[j] = '\0';
	if (!j)
		snprintf(out, size, "%s", slug ? "topic" : "Topic");
}

/*
 * The three sources made from a topic, as the JSON text of an array, in out.
 * They are written directly: a topic holds only letters, digits and spaces (a
 * slug '_'), so nothing in them needs escaping, and the scores are the texts
 * cJSON prints for 0.95 - 0.08 * i.
 */
static bool made_sources(const char *topic, const char *slug, struct buf *out)
{
	static const char *const sites[][3] = {
		{ "Wikipedia", "https://en.wikipedia.org/wiki/", "0.95" },
		{ "Encyclopedia of Science", "https://science.example.org/articles/", "0.87" },
		{ "Open Research Digest", "https://research.example.org/digest/", "0.79" },
	};
	bool ok = buf_addc(out, '[') == BUF_OK;
	for (int i = 0; i < 3 && ok; i++) {
		const char *const *site = sites[i];
		const char *const parts[] = {
			i ? ",{\"title\":\"" : "{\"title\":\"", topic, " - ", site[0],
			"\",\"url\":\"", site[1], slug,
			"\",\"snippet\":\"", site[0], ": an overview of ", topic, " and the questions around it...",
			"\",\"relevance_score\":", site[2], "}",
		};
		for (size_t j = 0; j < sizeof(parts) / sizeof(*parts) && ok; j++)
			ok = buf_adds(out, parts[j]) == BUF_OK;
	}
	return ok && buf_addc(out, ']') == BUF_OK;
}

/*
 * The sources of a chat answer as the JSON text of an array, in out: the rule's
 * own, or three made from the message's topic; returns how many (-1 out of
 * memory). The text of the last topic is kept: the slug is the topic's words
 * in lower case, so the topic alone says what the text is.
 */
static int chat_sources(const struct reply_plan *plan, const char *message, struct buf *out)
{
	const cJSON *given = cJSON_GetObjectItemCaseSensitive(plan->extra, "sources");
	if (cJSON_IsArray(given)) {
		char *text = cJSON_PrintUnformatted(given);
		enum buf_result res = text ? buf_adds(out, text) : BUF_NOMEM;
		free(text);
		return res == BUF_OK ? cJSON_GetArraySize(given) : -1;
	}
	static char last_topic[96];
	static struct buf last = { .max = 8192 };  /* 3 x (2 topics, a slug and the site's words) */
	char topic[sizeof(last_topic)], slug[sizeof(last_topic)];
	topic_of(message, topic, sizeof(topic), false);
	if (!last.len || strcmp(topic, last_topic) != 0) {
		topic_of(message, slug, sizeof(slug), true);
		buf_reset(&last);
		if (!made_sources(topic, slug, &last)) {
			buf_reset(&last);
			return -1;
		}
		str_copy(last_topic, sizeof(last_topic), topic);
	}
	return buf_add(out, last.data, last.len) == BUF_OK ? 3 : -1;
}

/* ---- POST /chat/stream ------------------------------------------------------------------ */

/* A rule's sources are as large as the rule budget lets them be (--max-rule-bytes caps all rules). */
#define DW_MAX_SOURCES_TEXT (64u * 1024 * 1024)

struct dw_stream {
	char conv_id[DW_MAX_ID + 1];
	char model[32];
	struct api_key *key;
	bool include_sources;
	bool include_metadata;
	bool sources_sent;
	struct buf sources;      /* the JSON text of the sources array */
	int nsources;
	int64_t started_ms;
	int total_tokens;
};

static void send_start(struct reply *r)
{
	struct dw_stream *d = r->data;
	char when[40];
	iso8601_format(d->started_ms, when, sizeof(when));
	const char *const kv[] = { "type", "start", "conversation_id", d->conv_id, "timestamp", when };
	reply_write_object(r, "data: ", kv, 3, "\n\n");
}

static void send_sources(struct reply *r)
{
	struct dw_stream *d = r->data;
	bool wanted = d->include_sources || break_on(BRK_DW_SOURCES_UNASKED);
	if (d->sources_sent || !wanted)
		return;
	d->sources_sent = true;
	static struct buf e = { .max = DW_MAX_SOURCES_TEXT + 64 };
	buf_reset(&e);
	if (buf_adds(&e, "data: {\"type\":\"sources\",\"sources\":") == BUF_OK &&
	    buf_add(&e, d->sources.data, d->sources.len) == BUF_OK && buf_adds(&e, "}\n\n") == BUF_OK)
		reply_write(r, e.data, e.len);
}

static void send_content(struct reply *r, const char *token)
{
	if (break_on(BRK_DW_DATA_NOT_JSON) && r->sent == 1) {
		struct buf b;
		buf_init(&b, 1u << 20);
		if (sse_encode(&b, NULL, token, strlen(token)) == BUF_OK)
			reply_write(r, b.data, b.len);
		buf_release(&b);
		return;
	}
	static struct jsonw_form content = JSONW_FORM("content", "content");
	reply_write_event(r, "data: ", &content, token, "\n\n");
}

static void send_end(struct reply *r)
{
	struct dw_stream *d = r->data;
	send_sources(r);
	if (d->include_metadata || break_on(BRK_DW_METADATA_UNASKED)) {
		cJSON *e = stream_event("metadata");
		cJSON *m = cJSON_AddObjectToObject(e, "metadata");
		cJSON_AddNumberToObject(m, "tokens_used", d->total_tokens);
		cJSON_AddNumberToObject(m, "processing_time", (double)(clock_now_ms() - d->started_ms));
		cJSON_AddNumberToObject(m, "sources_queried", d->nsources);
		stream_send_sse(r, e);
	}
	if (!break_on(BRK_DW_NO_END)) {
		static struct buf e = { .max = 4096 };
		buf_reset(&e);
		if (buf_adds(&e, "data: {\"type\":\"end\",\"conversation_id\":") == BUF_OK &&
		    jsonw_string(&e, d->conv_id) == BUF_OK && buf_adds(&e, ",\"total_tokens\":") == BUF_OK &&
		    jsonw_int(&e, d->total_tokens + (break_on(BRK_DW_TOTAL_TOKENS) ? 1 : 0)) == BUF_OK &&
		    buf_adds(&e, "}\n\n") == BUF_OK)
			reply_write(r, e.data, e.len);
	}
	struct conversation *c = store_get("deepwiki", d->conv_id);
	if (c) {
		/* The sources have been sent: the stored message takes them. */
		cJSON *meta = cJSON_CreateObject();
		cJSON_AddStringToObject(meta, "model_used", d->model);
		cJSON_AddNumberToObject(meta, "tokens_used", d->total_tokens);
		cJSON_AddItemToObject(meta, "sources", cJSON_CreateRaw(buf_str(&d->sources)));
		dw_store(c, "assistant", r->plan.text, clock_now_ms(), meta);
	}
	d->key->used += d->total_tokens;
}

static void send_error_event(struct reply *r)
{
	cJSON *e = stream_event("error");
	cJSON *err = cJSON_AddObjectToObject(e, "error");
	cJSON_AddStringToObject(err, "code", r->plan.fault_code ? r->plan.fault_code : "INTERNAL_ERROR");
	cJSON_AddStringToObject(err, "message", r->plan.fault_message ? r->plan.fault_message
								   : "The model failed while answering");
	stream_send_sse(r, e);
}

static void send_token(struct reply *r, size_t i)
{
	send_content(r, r->plan.tokens[i]);
	/* Sources come after the second content event (or the only one). */
	if (i + 1 == 2 || i + 1 == r->plan.ntokens)
		send_sources(r);
}

static void send_failure(struct reply *r)
{
	struct dw_stream *d = r->data;
	send_error_event(r);
	if (break_on(BRK_DW_AFTER_ERROR)) {
		cJSON *e = stream_event("end");
		cJSON_AddStringToObject(e, "conversation_id", d->conv_id);
		cJSON_AddNumberToObject(e, "total_tokens", d->total_tokens);
		stream_send_sse(r, e);
	}
}

static void send_malformed(struct reply *r)
{
	reply_write_str(r, "data: {\"type\":\"content\",\"content\":\n\n");
}

static void chat_release(struct reply *r)
{
	struct dw_stream *d = r->data;
	/* r->gone: the client left, and the answer is dropped with it (docs/spec-notes.md). */
	struct conversation *c;
	if (r->gone && break_on(BRK_DW_STREAM_LEFT_STORED) && (c = store_get("deepwiki", d->conv_id)))
		dw_store(c, "assistant", r->plan.text, clock_now_ms(), NULL);
	buf_release(&d->sources);
	free(d);
}

static const struct reply_ops chat_reply = {
	.token = send_token,
	.end = send_end,
	.error = send_failure,
	.malformed = send_malformed,
	.release = chat_release,
};

/* Validate a /chat/stream body; false with the 400 answered. */
static bool chat_valid(struct mreq *r, const cJSON *body)
{
	const cJSON *message = cJSON_GetObjectItemCaseSensitive(body, "message");
	if (!cJSON_IsString(message) || !*message->valuestring ||
	    (break_on(BRK_DW_MESSAGE_TRIMMED) && !message->valuestring[strspn(message->valuestring, " \t\r\n")])) {
		dw_invalid(r, "message", "message is required and must be a non-empty string");
		return false;
	}
	const cJSON *conv = cJSON_GetObjectItemCaseSensitive(body, "conversation_id");
	if (conv && !cJSON_IsNull(conv) && (!cJSON_IsString(conv) || !id_ok(conv->valuestring))) {
		dw_invalid(r, "conversation_id", "conversation_id must be 1 to 128 of A-Z a-z 0-9 . _ : -");
		return false;
	}
	bool bad = false;
	const cJSON *model = cJSON_GetObjectItemCaseSensitive(body, "model");
	if (model && !break_on(BRK_DW_MODEL_ANY))
		opt_enum(body, "model", dw_models, &bad);
	if (bad || (model && !cJSON_IsString(model))) {
		dw_invalid(r, "model", "model must be one of gpt-4-turbo, gpt-3.5-turbo, claude-3-opus, claude-3-sonnet");
		return false;
	}
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(body, "temperature");
	double tmax = break_on(BRK_DW_TEMPERATURE) ? 1.999999 : 2.0;
	if (t && (!cJSON_IsNumber(t) || !(t->valuedouble >= 0.0 && t->valuedouble <= tmax))) {
		dw_invalid(r, "temperature", "temperature must be a number from 0.0 to 2.0");
		return false;
	}
	const cJSON *mt = cJSON_GetObjectItemCaseSensitive(body, "max_tokens");
	double mtmax = break_on(BRK_DW_MAX_TOKENS_4097) ? 4097 : 4096;
	if (mt && (!json_is_integer(mt) || mt->valuedouble < 1 || mt->valuedouble > mtmax)) {
		dw_invalid(r, "max_tokens", "max_tokens must be a whole number from 1 to 4096");
		return false;
	}
	if (!opt_subset(body, "context_sources", dw_context_sources)) {
		dw_invalid(r, "context_sources",
			   "context_sources must be an array of wikipedia, academic_papers, news, documentation, all");
		return false;
	}
	const cJSON *so = cJSON_GetObjectItemCaseSensitive(body, "stream_options");
	if (so && !cJSON_IsObject(so)) {
		dw_invalid(r, "stream_options", "stream_options must be an object");
		return false;
	}
	static const char *const flags[] = { "include_sources", "include_metadata" };
	for (int i = 0; i < 2; i++) {
		const cJSON *f = cJSON_GetObjectItemCaseSensitive(so, flags[i]);
		if (f && !cJSON_IsBool(f)) {
			char field[64];
			snprintf(field, sizeof(field), "stream_options.%s", flags[i]);
			dw_invalid(r, field, "stream_options members must be true or false");
			return false;
		}
	}
	return true;
}

static bool flag(const cJSON *so, const char *name, bool def)
{
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(so, name);
	return f ? cJSON_IsTrue(f) : def;
}

static void dw_chat(struct mreq *r)
{
	struct api_key *k = dw_auth(r);
	if (!k || !dw_scope(r, k, "chat"))
		return;
	cJSON *body = dw_body(r);
	if (!body)
		return;
	struct reply_plan plan = { 0 };
	struct dw_stream *d = NULL;
	if (!chat_valid(r, body) || !dw_rate(r, k, "chat", 100))
		goto out;
	if (k->quota >= 0 && k->used >= k->quota && !break_on(BRK_DW_QUOTA)) {
		cJSON *details = cJSON_CreateObject();
		cJSON_AddNumberToObject(details, "quota", (double)k->quota);
		cJSON_AddNumberToObject(details, "used", (double)k->used);
		dw_fail(r, 403, "QUOTA_EXCEEDED", "The token quota of this API key is spent", details);
		goto out;
	}
	const char *message = json_get_string(body, "message");
	const char *conv_id = json_get_string(body, "conversation_id");
	const char *model = json_get_string(body, "model");
	if (!model)
		model = "gpt-4-turbo";
	struct conversation *c = deepwiki_conversation(conv_id, k, true);
	if (!c) {
		if (conv_id)
			dw_error(r, 404, "CONVERSATION_NOT_FOUND", "Conversation not found");
		else
			dw_error(r, 500, "INTERNAL_ERROR", "Cannot create a conversation");
		goto out;
	}
	script_plan("deepwiki", model, message, &plan);
	if (plan.fault != FAULT_NONE && break_on(BRK_DW_FAULT_RESETS))
		store_clear(c);
	if (plan.fault == FAULT_HTTP_ERROR) {
		reply_fault(r, &plan, NULL, "The model is unavailable");
		goto out;
	}
	const cJSON *mt = cJSON_GetObjectItemCaseSensitive(body, "max_tokens");
	if (!break_on(BRK_DW_MAX_TOKENS))
		plan_truncate(&plan, mt ? (size_t)mt->valuedouble : 2048);
	d = calloc(1, sizeof(*d));
	if (!d) {
		dw_error(r, 500, "INTERNAL_ERROR", "Out of memory");
		goto out;
	}
	const cJSON *so = cJSON_GetObjectItemCaseSensitive(body, "stream_options");
	str_copy(d->conv_id, sizeof(d->conv_id), c->id);
	str_copy(d->model, sizeof(d->model), model);
	d->key = k;
	d->include_sources = flag(so, "include_sources", true);
	d->include_metadata = flag(so, "include_metadata", false);
	buf_init(&d->sources, DW_MAX_SOURCES_TEXT);
	d->nsources = chat_sources(&plan, message, &d->sources);
	d->started_ms = clock_now_ms();
	d->total_tokens = plan.prompt_tokens + plan.completion_tokens;
	dw_store(c, "user", message, d->started_ms, NULL);

	reply_header(r, "Cache-Control", "no-cache");
	reply_header(r, "X-Accel-Buffering", "no");
	const char *type = break_on(BRK_DW_CONTENT_TYPE) ? "application/json" : "text/event-stream";
	struct reply *rp = d->nsources < 0 ? NULL : stream_start(r, type, &chat_reply, d, &plan);
	if (!rp) {
		buf_release(&d->sources);
		free(d);
		dw_error(r, 500, "INTERNAL_ERROR", "Out of memory");
		goto out;
	}
	if (break_on(BRK_DW_HELD_STREAM))
		reply_hold(rp);
	if (break_on(BRK_DW_ORDER) && rp->plan.ntokens) {
		send_content(rp, rp->plan.tokens[0]);
		rp->sent++;
	}
	send_start(rp);
	reply_run(rp);
out:
	plan_release(&plan);
	cJSON_Delete(body);
}

/* ---- POST /chat/research ----------------------------------------------------------------- */

struct research_req {
	const char *query;
	int depth;
	const char *types[8];
	int ntypes;
	int64_t from_ms, to_ms;  /* publication dates lie in [from, to] */
	int max_sources;
	const char *format;
};

/* Validate a /chat/research body into q; false with the 400 answered. */
static bool research_valid(struct mreq *r, const cJSON *body, struct research_req *q)
{
	memset(q, 0, sizeof(*q));
	q->query = json_get_string(body, "query");
	if (!q->query || !*q->query) {
		dw_invalid(r, "query", "query is required and must be a non-empty string");
		return false;
	}
	bool bad = false;
	const char *depth = opt_enum(body, "research_depth", dw_depths, &bad);
	if (bad) {
		dw_invalid(r, "research_depth", "research_depth must be one of quick, standard, deep, comprehensive");
		return false;
	}
	q->depth = depth ? list_index(depth, dw_depths) : 1;
	q->format = opt_enum(body, "output_format", dw_formats, &bad);
	if (bad) {
		dw_invalid(r, "output_format", "output_format must be one of structured, narrative, bullet_points, academic");
		return false;
	}
	if (!q->format)
		q->format = "structured";
	if (!opt_subset(body, "source_types", dw_source_types)) {
		dw_invalid(r, "source_types",
			   "source_types must be an array of academic, wikipedia, news, documentation, books, patents");
		return false;
	}
	const cJSON *types = cJSON_GetObjectItemCaseSensitive(body, "source_types"), *t;
	cJSON_ArrayForEach(t, types)
	{
		bool seen = false;
		for (int i = 0; i < q->ntypes; i++)
			seen |= strcmp(q->types[i], t->valuestring) == 0;
		if (!seen && q->ntypes < 6)
			q->types[q->ntypes++] = t->valuestring;
	}
	if (q->ntypes == 0)
		for (int i = 0; dw_source_types[i]; i++)
			q->types[q->ntypes++] = dw_source_types[i];
	const cJSON *ms = cJSON_GetObjectItemCaseSensitive(body, "max_sources");
	if (ms && (!json_is_integer(ms) || ms->valuedouble < 5 || ms->valuedouble > 100)) {
		dw_invalid(r, "max_sources", "max_sources must be a whole number from 5 to 100");
		return false;
	}
	q->max_sources = ms ? (int)ms->valuedouble : 20;
	/* Without a time range, sources are from 2020 to today. */
	q->to_ms = clock_now_ms();
	iso8601_parse("2020-01-01", &q->from_ms);
	const cJSON *range = cJSON_GetObjectItemCaseSensitive(body, "time_range");
	if (range && !cJSON_IsObject(range)) {
		dw_invalid(r, "time_range", "time_range must be an object with start_date and end_date");
		return false;
	}
	static const char *const ends[] = { "start_date", "end_date" };
	for (int i = 0; range && i < 2; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(range, ends[i]);
		if (!v)
			continue;
		int64_t when;
		if (!cJSON_IsString(v) || iso8601_parse(v->valuestring, &when) < 0) {
			char field[40];
			snprintf(field, sizeof(field), "time_range.%s", ends[i]);
			dw_invalid(r, field, "time_range dates must be ISO 8601 (YYYY-MM-DD or a date and time)");
			return false;
		}
		/* A date-only end_date covers that whole day. */
		if (i == 1 && strlen(v->valuestring) == 10)
			when += DAY_MS - 1;
		*(i == 0 ? &q->from_ms : &q->to_ms) = when;
	}
	bool has_start = range && cJSON_GetObjectItemCaseSensitive(range, "start_date");
	bool has_end = range && cJSON_GetObjectItemCaseSensitive(range, "end_date");
	/* Only dates the client gave can contradict each other; a default gives way to a given date. */
	if (has_start && has_end && q->from_ms > q->to_ms) {
		dw_invalid(r, "time_range", "time_range.start_date must not be after end_date");
		return false;
	}
	if (!has_end && q->to_ms < q->from_ms)
		q->to_ms = q->from_ms; /* only a start in the future: sources from that day */
	if (!has_start && q->from_ms > q->to_ms)
		q->from_ms = q->to_ms - 365 * DAY_MS; /* only an end before 2020: the year before it */
	return true;
}

static const char *type_title(const char *type)
{
	static const char *const names[][2] = {
		{ "academic", "Journal of Applied Studies" }, { "wikipedia", "Wikipedia" },
		{ "news", "Daily Science News" },             { "documentation", "Reference Documentation" },
		{ "books", "Collected Essays" },              { "patents", "Patent Office Record" },
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++)
		if (strcmp(type, names[i][0]) == 0)
			return names[i][1];
	return "Source";
}

/* A publication date inside [from, to]: a whole day when the range holds a midnight, else the range's start. */
static void publication_date(const struct research_req *q, uint64_t x, char *out, size_t size)
{
	int64_t first = (q->from_ms + DAY_MS - 1) / DAY_MS * DAY_MS;   /* the first midnight at or after from */
	int64_t last = q->to_ms / DAY_MS * DAY_MS;                      /* the last midnight at or before to */
	if (break_on(BRK_DW_RESEARCH_RANGE)) {
		first = 0;
		last = 30LL * 365 * DAY_MS;
	}
	if (first > last) {
		iso8601_format(q->from_ms, out, size);
		return;
	}
	int64_t days = (last - first) / DAY_MS + 1;
	char full[40];
	iso8601_format(first + (int64_t)(x % (uint64_t)days) * DAY_MS, full, sizeof(full));
	snprintf(out, size, "%.10s", full);
}

static cJSON *research_result(const struct research_req *q, const struct reply_plan *plan)
{
	uint64_t x = text_hash(q->query);
	int n = dw_depth_sources[q->depth];
	if (n > q->max_sources)
		n = q->max_sources;
	if (break_on(BRK_DW_RESEARCH_MAX))
		n = q->max_sources + 1;
	char topic[96], slug[96], id[40];
	topic_of(q->query, topic, sizeof(topic), false);
	topic_of(q->query, slug, sizeof(slug), true);
	mockd_random_id(id, "research_", 16);

	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "research_id", id);
	cJSON_AddStringToObject(o, "query", q->query);
	cJSON_AddStringToObject(o, "summary", plan->text);
	cJSON *findings = cJSON_AddArrayToObject(o, "key_findings");
	char detailed[512];
	snprintf(detailed, sizeof(detailed),
		 "This %s analysis of %s draws on %d sources of %d kinds. %s",
		 dw_depths[q->depth], topic, n, q->ntypes, plan->text);
	cJSON_AddStringToObject(o, "detailed_analysis", detailed);
	cJSON *sources = cJSON_AddArrayToObject(o, "sources");
	for (int i = 0; i < n; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		const char *type = q->types[i % q->ntypes];
		char title[200], url[200], date[40], point[320];
		snprintf(title, sizeof(title), "%s: %s (%d)", type_title(type), topic, i + 1);
		snprintf(url, sizeof(url), "https://sources.example.org/%s/%s-%d", type, slug, i + 1);
		publication_date(q, x, date, sizeof(date));
		cJSON *s = cJSON_CreateObject();
		cJSON_AddStringToObject(s, "title", title);
		cJSON *authors = cJSON_AddArrayToObject(s, "authors");
		cJSON_AddItemToArray(authors, cJSON_CreateString(i % 2 ? "Chen, L." : "Smith, J."));
		cJSON_AddItemToArray(authors, cJSON_CreateString("Kumar, R."));
		cJSON_AddStringToObject(s, "publication_date", date);
		cJSON_AddStringToObject(s, "url", url);
		cJSON_AddNumberToObject(s, "relevance_score", 0.98 - 0.02 * (i % 40));
		cJSON *points = cJSON_AddArrayToObject(s, "key_points");
		snprintf(point, sizeof(point), "%s bears on %s", title, topic);
		cJSON_AddItemToArray(points, cJSON_CreateString(point));
		cJSON_AddStringToObject(s, "source_type", type);
		cJSON_AddItemToArray(sources, s);
	}
	for (int i = 0; i < 3 && i < n; i++) {
		char finding[256];
		snprintf(finding, sizeof(finding), "Finding %d on %s, supported by %d source%s", i + 1, topic,
			 i + 1 < n ? 2 : 1, i + 1 < n ? "s" : "");
		cJSON *f = cJSON_CreateObject();
		cJSON_AddStringToObject(f, "finding", finding);
		cJSON_AddNumberToObject(f, "confidence", 0.92 - 0.07 * i);
		cJSON *support = cJSON_AddArrayToObject(f, "supporting_sources");
		for (int j = i; j <= i + 1 && j < n; j++)
			cJSON_AddItemToArray(support, cJSON_Duplicate(
				cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(sources, j), "title"), 1));
		cJSON_AddItemToArray(findings, f);
	}
	cJSON *meta = cJSON_AddObjectToObject(o, "research_metadata");
	cJSON_AddNumberToObject(meta, "sources_analyzed", n + (break_on(BRK_DW_RESEARCH_ANALYZED) ? 2 : 0));
	cJSON_AddNumberToObject(meta, "processing_time", 0.4 + 0.25 * n);
	cJSON_AddNumberToObject(meta, "confidence_score", 0.86);
	cJSON_AddStringToObject(o, "research_depth", dw_depths[q->depth]);
	cJSON_AddStringToObject(o, "output_format", q->format);

	/* A scripted rule's "research" members replace the generated ones, as given. */
	const cJSON *over = cJSON_GetObjectItemCaseSensitive(plan->extra, "research"), *m;
	cJSON_ArrayForEach(m, over)
	{
		cJSON_DeleteItemFromObjectCaseSensitive(o, m->string);
		cJSON_AddItemToObject(o, m->string, cJSON_Duplicate(m, 1));
	}
	return o;
}

/* The backend failing during the research: the error the stream would have sent, as the response. */
static void research_fail(struct mreq *r, const struct reply_plan *p)
{
	dw_error(r, 500, p->fault_code ? p->fault_code : "INTERNAL_ERROR",
		 p->fault_message ? p->fault_message : "The research backend failed");
}

static const struct json_answer_ops research_answer = {
	.fail_status = 500,
	.fail = research_fail,
};

/* The research result, when its plan says it is ready. */
static void dw_research(struct mreq *r)
{
	struct api_key *k = dw_auth(r);
	if (!k || !dw_scope(r, k, "research"))
		return;
	cJSON *body = dw_body(r);
	if (!body)
		return;
	struct research_req q;
	struct reply_plan plan = { 0 };
	if (!research_valid(r, body, &q) || !dw_rate(r, k, "research", 20))
		goto out;
	script_plan("deepwiki", NULL, q.query, &plan);
	if (plan.fault == FAULT_HTTP_ERROR) {
		reply_fault(r, &plan, NULL, "The research backend is unavailable");
		goto out;
	}
	if (break_on(BRK_DW_RESEARCH_UNPLANNED))
		reply_json(r, 200, research_result(&q, &plan));
	else if (stream_answer_json(r, &plan, research_result(&q, &plan), &research_answer, NULL) < 0)
		dw_error(r, 500, "INTERNAL_ERROR", "Out of memory");
out:
	plan_release(&plan);
	cJSON_Delete(body);
}

/* ---- GET and DELETE /chat/history ------------------------------------------------------- */

struct history_query {
	const char *conversation_id;
	const char *user_id;
	int64_t start_ms, end_ms;    /* inclusive filters; INT64_MIN/MAX when absent */
	int64_t before_ms;           /* DELETE: strictly before; INT64_MAX when absent */
	long limit, offset;
};

/* A parameter from the JSON body (DELETE) or the query string. */
static const char *history_param(const struct mreq *r, const cJSON *body, const char *name, bool *bad)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, name);
	if (v && !cJSON_IsNull(v)) {
		if (!cJSON_IsString(v)) {
			*bad = true;
			return NULL;
		}
		return v->valuestring;
	}
	return mreq_query(r, name);
}

static bool date_param(struct mreq *r, const char *name, const char *value, bool end_of_day, int64_t *out)
{
	if (!value)
		return true;
	if (iso8601_parse(value, out) < 0) {
		char msg[96];
		snprintf(msg, sizeof(msg), "%s must be an ISO 8601 date or date and time", name);
		dw_invalid(r, name, msg);
		return false;
	}
	if (end_of_day && strlen(value) == 10 && !break_on(BRK_DW_END_DATE_MIDNIGHT))
		*out += DAY_MS - 1;
	return true;
}

/*
 * Parse and check the parameters both history endpoints share; false with the
 * error answered. The conversation (when named) must be the key's user's.
 */
static bool history_scope(struct mreq *r, const struct api_key *k, const cJSON *body,
			  struct history_query *h)
{
	bool bad = false;
	h->conversation_id = history_param(r, body, "conversation_id", &bad);
	h->user_id = history_param(r, body, "user_id", &bad);
	if (bad) {
		dw_invalid(r, "conversation_id", "conversation_id and user_id must be strings");
		return false;
	}
	if (!h->conversation_id && !h->user_id) {
		dw_invalid(r, "conversation_id", "conversation_id or user_id is required");
		return false;
	}
	return true;
}

static bool history_owner(struct mreq *r, const struct api_key *k, const struct history_query *h)
{
	if (h->user_id && strcmp(h->user_id, k->user_id) != 0 && !break_on(BRK_DW_OTHER_USER)) {
		dw_error(r, 403, "FORBIDDEN", "An API key may only read and delete its own user's history");
		return false;
	}
	if (h->conversation_id && !dw_owned(h->conversation_id, k)) {
		dw_error(r, 404, "CONVERSATION_NOT_FOUND", "Conversation not found");
		return false;
	}
	return true;
}

struct picked {
	const struct message *m;
	const struct conversation *c;
	double seq;
};

static int picked_cmp(const void *a, const void *b)
{
	const struct picked *x = a, *y = b;
	if (x->m->at_ms != y->m->at_ms)
		return x->m->at_ms < y->m->at_ms ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static bool conversation_selected(const struct conversation *c, const struct history_query *h,
				  const struct api_key *k)
{
	if (strcmp(c->api, "deepwiki") != 0)
		return false;
	if (h->conversation_id)
		return strcmp(c->id, h->conversation_id) == 0;
	return strcmp(c->owner, h->user_id ? h->user_id : k->user_id) == 0;
}

static cJSON *message_json(const struct picked *p)
{
	char when[40];
	iso8601_format(p->m->at_ms, when, sizeof(when));
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "id", json_get_string(p->m->meta, "id") ? json_get_string(p->m->meta, "id") : "");
	cJSON_AddStringToObject(o, "conversation_id", p->c->id);
	cJSON_AddStringToObject(o, "role", p->m->role);
	cJSON_AddStringToObject(o, "content", p->m->content);
	cJSON_AddStringToObject(o, "timestamp", when);
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(p->m->meta, "metadata");
	if (meta)
		cJSON_AddItemToObject(o, "metadata", cJSON_Duplicate(meta, 1));
	return o;
}

static void dw_history_get(struct mreq *r)
{
	struct api_key *k = NULL;
	if (break_on(BRK_DW_AUTH_OPTIONAL) && !mreq_header(r, "Authorization"))
		k = keys_find("deepwiki", "dw-dev-key");
	if (!k && (!(k = dw_auth(r)) || !dw_scope(r, k, "history")))
		return;
	struct history_query h = { .start_ms = INT64_MIN, .end_ms = INT64_MAX };
	if (!history_scope(r, k, NULL, &h))
		return;
	if (!mreq_query_long(r, "limit", 1, 1000, 50, &h.limit)) {
		dw_invalid(r, "limit", "limit must be a whole number from 1 to 1000");
		return;
	}
	if (!mreq_query_long(r, "offset", 0, 1000000000, 0, &h.offset)) {
		dw_invalid(r, "offset", "offset must be a whole number >= 0");
		return;
	}
	if (!date_param(r, "start_date", mreq_query(r, "start_date"), false, &h.start_ms) ||
	    !date_param(r, "end_date", mreq_query(r, "end_date"), true, &h.end_ms))
		return;
	if (break_on(BRK_DW_DATE_FILTER))
		h.start_ms = INT64_MIN;
	if (!dw_rate(r, k, "history", 200) || !history_owner(r, k, &h))
		return;

	size_t n = 0, cap = 64;
	struct picked *all = malloc(cap * sizeof(*all));
	for (struct conversation *c = store_first(); c && all; c = c->next) {
		if (!conversation_selected(c, &h, k))
			continue;
		for (const struct message *m = c->first; m; m = m->next) {
			if (m->at_ms < h.start_ms || m->at_ms > h.end_ms)
				continue;
			if (n == cap) {
				struct picked *more = realloc(all, 2 * cap * sizeof(*all));
				if (!more)
					break;
				all = more;
				cap *= 2;
			}
			const cJSON *seq = cJSON_GetObjectItemCaseSensitive(m->meta, "seq");
			all[n++] = (struct picked){ m, c, cJSON_IsNumber(seq) ? seq->valuedouble : 0 };
		}
	}
	if (!all) {
		dw_error(r, 500, "INTERNAL_ERROR", "Out of memory");
		return;
	}
	qsort(all, n, sizeof(*all), picked_cmp);
	cJSON *o = cJSON_CreateObject();
	if (h.conversation_id)
		cJSON_AddStringToObject(o, "conversation_id", h.conversation_id);
	else
		cJSON_AddNullToObject(o, "conversation_id");
	cJSON *list = cJSON_AddArrayToObject(o, "messages");
	size_t from = (size_t)h.offset < n ? (size_t)h.offset : n;
	size_t to = from + (size_t)h.limit < n ? from + (size_t)h.limit : n;
	for (size_t i = from; i < to; i++) {
		size_t at = break_on(BRK_DW_HISTORY_ORDER) ? n - 1 - i : i;
		cJSON_AddItemToArray(list, message_json(&all[at]));
	}
	size_t returned = to - from;
	bool more = from + returned < n;
	cJSON *page = cJSON_AddObjectToObject(o, "pagination");
	cJSON_AddNumberToObject(page, "total_messages", (double)n);
	cJSON_AddNumberToObject(page, "limit", (double)h.limit);
	cJSON_AddNumberToObject(page, "offset", (double)h.offset);
	cJSON_AddBoolToObject(page, "has_more", more || (break_on(BRK_DW_HAS_MORE) && returned > 0));
	if (more)
		cJSON_AddNumberToObject(page, "next_offset",
					(double)(from + returned + (break_on(BRK_DW_NEXT_OFFSET) ? 1 : 0)));
	else
		cJSON_AddNullToObject(page, "next_offset");
	free(all);
	reply_json(r, 200, o);
}

static bool before_filter(const struct message *m, void *arg)
{
	return m->at_ms >= *(const int64_t *)arg;
}

static void dw_history_delete(struct mreq *r)
{
	struct api_key *k = dw_auth(r);
	if (!k || !dw_scope(r, k, "history"))
		return;
	cJSON *body = NULL;
	if (r->body_len) {
		body = mreq_json(r);
		if (!cJSON_IsObject(body)) {
			cJSON_Delete(body);
			dw_invalid(r, "body", "The body must be a JSON object");
			return;
		}
	}
	struct history_query h = { .before_ms = INT64_MAX };
	bool bad = false;
	const char *before = history_param(r, body, "before_date", &bad);
	if (!history_scope(r, k, body, &h))
		goto out;
	if (bad) {
		dw_invalid(r, "before_date", "before_date must be an ISO 8601 string");
		goto out;
	}
	if (!date_param(r, "before_date", before, false, &h.before_ms))
		goto out;
	if (break_on(BRK_DW_DELETE_BEFORE))
		h.before_ms = INT64_MAX;
	if (!dw_rate(r, k, "history", 200) || !history_owner(r, k, &h))
		goto out;

	size_t deleted = 0, affected = 0;
	struct conversation *c = store_first();
	while (c) {
		struct conversation *next = c->next;
		if (conversation_selected(c, &h, k)) {
			size_t gone = store_filter_messages(c, before_filter, &h.before_ms);
			deleted += gone;
			affected += gone > 0;
			if (c->nmessages == 0)
				store_delete(c); /* a conversation left with no messages is removed */
		}
		c = next;
	}
	cJSON *o = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "success", 1);
	cJSON_AddNumberToObject(o, "messages_deleted", break_on(BRK_DW_DELETE_COUNT) ? 0 : (double)deleted);
	cJSON_AddNumberToObject(o, "conversations_affected", (double)affected);
	reply_json(r, 200, o);
out:
	cJSON_Delete(body);
}

/* ---- registration -------------------------------------------------------------------------- */

static void dw_init(void)
{
	api_route("POST", "/chat/stream", &deepwiki_api, dw_chat);
	api_route("POST", "/chat/research", &deepwiki_api, dw_research);
	api_route("GET", "/chat/history", &deepwiki_api, dw_history_get);
	api_route("DELETE", "/chat/history", &deepwiki_api, dw_history_delete);
}

static void dw_reset(void)
{
	dw_message_seq = 0;
}

static const char *const dw_prefixes[] = { "/chat/", "/ws/", NULL };

const struct api deepwiki_api = {
	.name = "deepwiki",
	.bit = API_DEEPWIKI,
	.prefixes = dw_prefixes,
	.init = dw_init,
	.reset = dw_reset,
	.error = dw_error,
};
