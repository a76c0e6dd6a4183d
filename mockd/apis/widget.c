/*
 * widget: the chat widget API (seeds/003), NDJSON streaming.
 *
 *   POST /v1/chat/stream   {sessionId, message} -> NDJSON start, token*, done | error
 *   POST /chat             the same (the widget's default path)
 *
 * Checks run in the order of the public implementation: rate limit (per
 * client address, every request counts), then the key, then the body.
 */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/jsonw.h"
#include "common/utf8.h"
#include "mockd/apis/apis.h"
#include "mockd/breaks.h"
#include "mockd/clock.h"
#include "mockd/keys.h"
#include "mockd/mockd.h"
#include "mockd/ratelimit.h"
#include "mockd/script.h"
#include "mockd/store.h"
#include "mockd/stream.h"

#define WIDGET_MAX_MESSAGE 4000
#define WIDGET_MAX_SESSION 128
#define WIDGET_CONV_ID_LEN 32

/* ---- errors ------------------------------------------------------------------------------ */

/* The document's error bodies are one fixed sentence per status. */
static const char *widget_error_text(int status)
{
	switch (status) {
	case 400: return break_on(BRK_WIDGET_400_BODY) ? "Bad request" : "Invalid request payload";
	case 401: return break_on(BRK_WIDGET_401_BODY) ? "unauthorized" : "Unauthorized";
	case 404: return "Not found";
	case 405: return "Method not allowed";
	case 413: return "Payload too large";
	case 429: return break_on(BRK_WIDGET_429_BODY) ? "Rate limit exceeded" : "Too many requests";
	default: return "Internal server error";
	}
}

static void widget_error(struct mreq *r, int status, const char *code, const char *message)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "error", widget_error_text(status));
	reply_json(r, status, o);
}

/* ---- checks ------------------------------------------------------------------------------ */

/* The client a rate limit counts: the first X-Forwarded-For entry, else the peer address. */
static void client_key(const struct mreq *r, char *out, size_t size)
{
	const char *xff = mreq_header(r, "X-Forwarded-For");
	if (xff) {
		while (*xff == ' ' || *xff == '\t')
			xff++;
		size_t n = strcspn(xff, ",");
		while (n && (xff[n - 1] == ' ' || xff[n - 1] == '\t'))
			n--;
		if (n) {
			snprintf(out, size, "%.*s", (int)(n < size - 1 ? n : size - 1), xff);
			return;
		}
	}
	snprintf(out, size, "%s", r->peer);
}

/* False when the client has used up its window (the 429 is already answered). */
static bool widget_rate_ok(struct mreq *r)
{
	const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(keys_api_config("widget"), "rate_limit");
	const cJSON *limit = cJSON_GetObjectItemCaseSensitive(cfg, "limit");
	const cJSON *window = cJSON_GetObjectItemCaseSensitive(cfg, "window_seconds");
	struct rl_policy policy = {
		.name = "widget",
		.limit = json_is_integer(limit) ? (int)limit->valuedouble : 30,
		.window_ms = (json_is_integer(window) ? (int64_t)window->valuedouble : 60) * 1000,
		.count_rejected = true,
		.kind = break_on(BRK_WIDGET_RATE_SLIDING) ? RL_SLIDING :
			break_on(BRK_WIDGET_RATE_EXTENDS) ? RL_EXTENDING : RL_FIXED,
	};
	if (break_on(BRK_WIDGET_RATE_OFF_BY_ONE))
		policy.limit++;
	char key[256];
	client_key(r, key, sizeof(key));
	struct rl_result rl;
	ratelimit_hit(&policy, key, clock_now_ms(), &rl);
	if (rl.allowed)
		return true;
	reply_header_int(r, "Retry-After", rl.retry_after_s);
	widget_error(r, 429, NULL, NULL);
	return false;
}

/* x-api-key, else x-widget-api-key: when x-api-key is present the other is not consulted. */
static bool widget_key_ok(const struct mreq *r)
{
	const char *primary = mreq_header(r, "x-api-key");
	const char *alternative = break_on(BRK_WIDGET_ALT_HEADER) ? NULL : mreq_header(r, "x-widget-api-key");
	if (break_on(BRK_WIDGET_ANY_KEY))
		return (primary && *primary) || (alternative && *alternative);
	if (primary) {
		if (keys_find("widget", primary))
			return true;
		return break_on(BRK_WIDGET_KEY_PRECEDENCE) && alternative && keys_find("widget", alternative);
	}
	return alternative && keys_find("widget", alternative);
}

static bool session_id_ok(const char *s)
{
	size_t n = strlen(s);
	size_t max = break_on(BRK_WIDGET_SESSION_129) ? WIDGET_MAX_SESSION + 1 : WIDGET_MAX_SESSION;
	if (n < 1 || n > max)
		return false;
	for (const char *p = s; *p; p++) {
		char c = *p;
		bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			  c == '.' || c == '_' || c == ':' || c == '-';
		if (!ok && break_on(BRK_WIDGET_SESSION_CHARSET) && (c == ' ' || c == '/'))
			ok = true;
		if (!ok)
			return false;
	}
	return true;
}

static bool message_ok(const char *s)
{
	size_t chars = utf8_count(s, strlen(s));
	if (break_on(BRK_WIDGET_UTF16_LENGTH))
		for (const unsigned char *p = (const unsigned char *)s; *p; p++)
			chars += *p >= 0xf0; /* a 4-byte sequence is two UTF-16 units */
	size_t min = break_on(BRK_WIDGET_MESSAGE_EMPTY) ? 0 : 1;
	size_t max = break_on(BRK_WIDGET_MESSAGE_4000) ? WIDGET_MAX_MESSAGE - 1 : WIDGET_MAX_MESSAGE;
	return chars >= min && chars <= max;
}

/* The parsed body when it is {sessionId, message} within the rules; NULL when it is not. */
static cJSON *widget_body(const struct mreq *r)
{
	cJSON *body = mreq_json(r);
	const char *session = json_get_string(body, "sessionId");
	const char *message = json_get_string(body, "message");
	if (cJSON_IsObject(body) && session && message && session_id_ok(session) && message_ok(message))
		return body;
	cJSON_Delete(body);
	return NULL;
}

/* ---- the stream ------------------------------------------------------------------------- */

struct widget_stream {
	char conv_id[WIDGET_CONV_ID_LEN + 1];
};

static void send_done(struct reply *r)
{
	struct widget_stream *w = r->data;
	const struct reply_plan *p = &r->plan;
	char *message = strdup(p->text);
	if (message && break_on(BRK_WIDGET_DONE_MISMATCH) && p->ntokens)
		message[strlen(message) - strlen(p->tokens[p->ntokens - 1])] = '\0';
	char other[WIDGET_CONV_ID_LEN + 1];
	if (break_on(BRK_WIDGET_DONE_CONV))
		mockd_random_id(other, "", WIDGET_CONV_ID_LEN);
	const char *const kv[] = { "type", "done", "message", message ? message : "",
				   "conversationId", break_on(BRK_WIDGET_DONE_CONV) ? other : w->conv_id };
	if (!break_on(BRK_WIDGET_NO_DONE))
		reply_write_object(r, "", kv, 3, "\n");
	free(message);
	struct conversation *c = store_get("widget", w->conv_id);
	if (c)
		store_add_message(c, "assistant", p->text, clock_now_ms(), NULL);
}

static void send_token(struct reply *r, size_t i)
{
	const char *tok = r->plan.tokens[i];
	if (break_on(BRK_WIDGET_RAW_LINE) && i == 1) {
		reply_write_str(r, tok);
		reply_write_str(r, "\n");
		return;
	}
	static struct jsonw_form token = JSONW_FORM("token", "token");
	reply_write_event(r, "", &token, tok, "\n");
}

static void send_error_line(struct reply *r)
{
	cJSON *e = stream_event("error");
	cJSON_AddStringToObject(e, break_on(BRK_WIDGET_ERROR_LINE) ? "message" : "error",
				"Internal server error");
	stream_send_ndjson(r, e);
	if (break_on(BRK_WIDGET_AFTER_ERROR))
		send_done(r);
}

static void send_malformed(struct reply *r)
{
	reply_write_str(r, "{\"type\":\"token\",\"token\":\n");
}

static void release_stream(struct reply *r)
{
	free(r->data);
}

static const struct reply_ops widget_reply = {
	.token = send_token,
	.end = send_done,
	.error = send_error_line,
	.malformed = send_malformed,
	.release = release_stream,
};

/* The conversation of a session: the same sessionId keeps its conversationId. */
static struct conversation *widget_conversation(const char *session)
{
	const char *lookup = break_on(BRK_WIDGET_CONV_SHARED) ? "(shared)" : session;
	struct conversation *c = store_lookup("widget", lookup);
	if (c && break_on(BRK_WIDGET_CONV_UNSTABLE)) {
		store_delete(c);
		c = NULL;
	}
	for (int tries = 0; !c && tries < 8; tries++) {
		char id[WIDGET_CONV_ID_LEN + 1];
		mockd_random_id(id, "", WIDGET_CONV_ID_LEN);
		c = store_create("widget", id, "", lookup);
	}
	return c;
}

static void widget_chat(struct mreq *r)
{
	bool count_rejected = !break_on(BRK_WIDGET_RATE_REJECTED_FREE);
	if (count_rejected && !widget_rate_ok(r))
		return;
	cJSON *body = NULL;
	if (break_on(BRK_WIDGET_CHECK_ORDER)) {
		if (!(body = widget_body(r))) {
			widget_error(r, 400, NULL, NULL);
			return;
		}
	}
	if (!widget_key_ok(r)) {
		cJSON_Delete(body);
		widget_error(r, 401, NULL, NULL);
		return;
	}
	if (!body && !(body = widget_body(r))) {
		bool json = false;
		cJSON *any = mreq_json(r);
		json = any != NULL;
		cJSON_Delete(any);
		widget_error(r, !json && break_on(BRK_WIDGET_MALFORMED_500) ? 500 : 400, NULL, NULL);
		return;
	}
	if (!count_rejected && !widget_rate_ok(r)) {
		cJSON_Delete(body);
		return;
	}
	const char *session = json_get_string(body, "sessionId");
	const char *message = json_get_string(body, "message");
	struct reply_plan plan;
	script_plan("widget", NULL, message, &plan);
	if (plan.fault != FAULT_NONE && break_on(BRK_WIDGET_FAULT_RESETS)) {
		struct conversation *lost = store_lookup("widget", session);
		if (lost)
			store_delete(lost);
	}
	if (plan.fault == FAULT_HTTP_ERROR) {
		if (!plan.fault_body && break_on(BRK_WIDGET_500_BODY))
			reply_raw(r, plan.fault_status, NULL, "", 0);
		else
			reply_fault(r, &plan, NULL, NULL);
		goto out;
	}
	struct conversation *c = widget_conversation(session);
	struct widget_stream *w = calloc(1, sizeof(*w));
	if (!c || !w) {
		free(w);
		widget_error(r, 500, NULL, NULL);
		goto out;
	}
	snprintf(w->conv_id, sizeof(w->conv_id), "%s", c->id);
	store_add_message(c, "user", message, clock_now_ms(), NULL);

	if (!break_on(BRK_WIDGET_NO_CACHE_HEADERS)) {
		reply_header(r, "Cache-Control", "no-store, no-transform");
		reply_header(r, "X-Accel-Buffering", "no");
	}
	const char *type = break_on(BRK_WIDGET_CONTENT_TYPE) ? "text/plain; charset=utf-8"
							     : "application/x-ndjson; charset=utf-8";
	struct reply *rp = stream_start(r, type, &widget_reply, w, &plan);
	if (!rp) {
		free(w);
		widget_error(r, 500, NULL, NULL);
		goto out;
	}
	if (break_on(BRK_WIDGET_HELD_STREAM))
		reply_hold(rp);
	if (!break_on(BRK_WIDGET_NO_START)) {
		const char *const kv[] = { "type", "start", "conversationId", w->conv_id };
		reply_write_object(rp, "", kv, 2, "\n");
	}
	reply_run(rp);
out:
	plan_release(&plan);
	cJSON_Delete(body);
}

static void widget_init(void)
{
	api_route("POST", "/v1/chat/stream", &widget_api, widget_chat);
	if (!break_on(BRK_WIDGET_NO_ALIAS))
		api_route("POST", "/chat", &widget_api, widget_chat);
}

static void widget_reset(void)
{
}

static const char *const widget_prefixes[] = { "/v1/", "/chat", NULL };

const struct api widget_api = {
	.name = "widget",
	.bit = API_WIDGET,
	.prefixes = widget_prefixes,
	.init = widget_init,
	.reset = widget_reset,
	.error = widget_error,
};
