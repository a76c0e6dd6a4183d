/*
 * botchat: the bot chat API (seeds/002).
 *
 *   POST   /api/chat                       {message, userId?, groupId?, preset?} -> response, usage
 *   POST   /api/chat/stream                SSE: start, content*, end {usage} | error
 *   GET    /api/conversations              filters, paging, newest updatedAt first, total
 *   GET    /api/conversations/:id          messages oldest first
 *   DELETE /api/conversations/:id
 *   POST   /api/conversations/:id/clear    keeps the conversation, drops its messages
 *
 * No auth. Success is {"success":true,"data":...}, failure {"success":false,
 * "error":{code,message}}. A conversation is found or created by the pair
 * (userId, groupId); a preset names a channel from the keys file's config.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/jsonw.h"
#include "mockd/apis/apis.h"
#include "mockd/breaks.h"
#include "mockd/clock.h"
#include "mockd/keys.h"
#include "mockd/mockd.h"
#include "mockd/ratelimit.h"
#include "mockd/script.h"
#include "mockd/store.h"
#include "mockd/stream.h"

#define BC_MAX_ID      256

/* ---- envelope ------------------------------------------------------------------------------- */

static const char *bc_code(int status)
{
	switch (status) {
	case 400: return "INVALID_REQUEST";
	case 404: return "NOT_FOUND";
	case 405: return "METHOD_NOT_ALLOWED";
	case 413: return "PAYLOAD_TOO_LARGE";
	case 429: return "RATE_LIMITED";
	case 502: return "MODEL_ERROR";
	case 503: return "CHANNEL_UNAVAILABLE";
	default: return "INTERNAL_ERROR";
	}
}

static void bc_error(struct mreq *r, int status, const char *code, const char *message)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "success", 0);
	cJSON *err = cJSON_CreateObject();
	cJSON_AddStringToObject(err, "code", code ? code : bc_code(status));
	cJSON_AddStringToObject(err, "message", message ? message : "error");
	if (break_on(BRK_BC_FLAT_ERROR)) {
		cJSON_AddStringToObject(o, "code", code ? code : bc_code(status));
		cJSON_AddStringToObject(o, "message", message ? message : "error");
		cJSON_Delete(err);
	} else {
		cJSON_AddItemToObject(o, "error", err);
	}
	reply_json(r, status, o);
}

/* {"success":true,"data":data}; takes data. */
/* The body of a success: {"success": true, "data": data}; takes data. */
static cJSON *bc_ok_body(cJSON *data)
{
	cJSON *o = cJSON_CreateObject();
	if (!break_on(BRK_BC_NO_SUCCESS))
		cJSON_AddBoolToObject(o, "success", 1);
	if (data)
		cJSON_AddItemToObject(o, "data", data);
	return o;
}

static void bc_ok(struct mreq *r, cJSON *data)
{
	reply_json(r, 200, bc_ok_body(data));
}

/* ---- conversations -------------------------------------------------------------------------- */

/* The botchat fields of a conversation live in its meta: {"userId", "groupId"} (null when absent). */
static const cJSON *conv_field(const struct conversation *c, const char *name)
{
	return cJSON_GetObjectItemCaseSensitive(c->meta, name);
}

/*
 * The store's key of a (userId, groupId) pair. Each part is "-" when absent, else
 * "+LEN:VALUE": no userId and groupId can be written so that two pairs share a key.
 */
static void lookup_key(const char *user, const char *group, char *out, size_t size)
{
	char u[BC_MAX_ID + 16] = "-", g[BC_MAX_ID + 16] = "-";
	if (user)
		snprintf(u, sizeof(u), "+%zu:%s", strlen(user), user);
	if (group)
		snprintf(g, sizeof(g), "+%zu:%s", strlen(group), group);
	snprintf(out, size, "%s|%s", u, g);
}

static struct conversation *bc_conversation(const char *user, const char *group)
{
	char key[2 * BC_MAX_ID + 40];
	lookup_key(user, break_on(BRK_BC_GROUP_IGNORED) ? NULL : group, key, sizeof(key));
	struct conversation *c = store_lookup("botchat", key);
	for (int tries = 0; !c && tries < 8; tries++) {
		char id[32];
		mockd_random_id(id, "conv_", 16);
		c = store_create("botchat", id, user ? user : "", key);
		if (c) {
			cJSON *meta = cJSON_CreateObject();
			if (user)
				cJSON_AddStringToObject(meta, "userId", user);
			else
				cJSON_AddNullToObject(meta, "userId");
			if (group)
				cJSON_AddStringToObject(meta, "groupId", group);
			else
				cJSON_AddNullToObject(meta, "groupId");
			store_set_meta(c, meta);  /* counted toward --max-store-bytes */
		}
	}
	return c;
}

static struct conversation *bc_find(const char *id)
{
	return id ? store_get("botchat", id) : NULL;
}

/* ---- POST /api/chat and /api/chat/stream --------------------------------------------------- */

struct chat_req {
	const char *message;
	const char *user;
	const char *group;
	const char *preset;
};

/* Optional string member: false when present and not a string of at most BC_MAX_ID bytes. */
static bool opt_string(const cJSON *o, const char *name, const char **out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	*out = NULL;
	if (!v || cJSON_IsNull(v))
		return true;
	if (!cJSON_IsString(v) || strlen(v->valuestring) > BC_MAX_ID)
		return false;
	*out = v->valuestring;
	return true;
}

/* Parse and check a chat body; NULL with the 400 answered. */
static cJSON *chat_body(struct mreq *r, struct chat_req *q)
{
	cJSON *body = mreq_json(r);
	if (!cJSON_IsObject(body)) {
		cJSON_Delete(body);
		bc_error(r, 400, "INVALID_REQUEST", "The body must be a JSON object");
		return NULL;
	}
	q->message = json_get_string(body, "message");
	if (!q->message || !*q->message) {
		bc_error(r, 400, "INVALID_REQUEST", "message is required and must be a non-empty string");
		goto fail;
	}
	if (!opt_string(body, "userId", &q->user) || !opt_string(body, "groupId", &q->group) ||
	    !opt_string(body, "preset", &q->preset)) {
		bc_error(r, 400, "INVALID_REQUEST", "userId, groupId and preset must be strings");
		goto fail;
	}
	return body;
fail:
	cJSON_Delete(body);
	return NULL;
}

/* False (and 429 answered) when the user, or the client address without one, has used its minute. */
static bool bc_rate_ok(struct mreq *r, const struct chat_req *q)
{
	const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(keys_api_config("botchat"), "rate_limit");
	const cJSON *limit = cJSON_GetObjectItemCaseSensitive(cfg, "limit");
	const cJSON *window = cJSON_GetObjectItemCaseSensitive(cfg, "window_seconds");
	struct rl_policy p = {
		.name = "botchat",
		.limit = (json_is_integer(limit) && limit->valuedouble >= 1 ? (int)limit->valuedouble : 60) +
			 (break_on(BRK_BC_RATE_LIMIT) ? 1 : 0),
		.window_ms = (json_is_integer(window) && window->valuedouble >= 1 ? (int64_t)window->valuedouble : 60) * 1000,
		.count_rejected = false,
		.kind = break_on(BRK_BC_RATE_SLIDING) ? RL_SLIDING :
			break_on(BRK_BC_RATE_EXTENDS) ? RL_EXTENDING : RL_FIXED,
	};
	char key[BC_MAX_ID + 16];
	if (q->user) {
		snprintf(key, sizeof(key), "user:%s", q->user);
	} else {
		const char *xff = mreq_header(r, "X-Forwarded-For");
		size_t n = xff ? strcspn(xff, ",") : 0;
		while (xff && n && *xff == ' ')
			xff++, n--;
		if (n)
			snprintf(key, sizeof(key), "addr:%.*s", (int)(n > BC_MAX_ID ? BC_MAX_ID : n), xff);
		else
			snprintf(key, sizeof(key), "addr:%s", r->peer);
	}
	struct rl_result rl;
	ratelimit_hit(&p, key, clock_now_ms(), &rl);
	if (rl.allowed)
		return true;
	char retry[16];
	snprintf(retry, sizeof(retry), "%d", rl.retry_after_s);
	if (!break_on(BRK_BC_NO_RETRY_AFTER))
		reply_header(r, "Retry-After", retry);
	char msg[96];
	snprintf(msg, sizeof(msg), "Too many requests. Try again in %d seconds.", rl.retry_after_s);
	bc_error(r, 429, "RATE_LIMITED", msg);
	return false;
}

/* The preset's channel must be configured and enabled; false with the 503 answered. */
static bool channel_ok(struct mreq *r, const char *preset)
{
	const cJSON *channels = cJSON_GetObjectItemCaseSensitive(keys_api_config("botchat"), "channels");
	const cJSON *ch = cJSON_GetObjectItemCaseSensitive(channels, preset);
	const cJSON *enabled = cJSON_GetObjectItemCaseSensitive(ch, "enabled");
	if (cJSON_IsObject(ch) && !cJSON_IsFalse(enabled))
		return true;
	if (break_on(BRK_BC_CHANNEL_IGNORED))
		return true;
	char msg[BC_MAX_ID + 64];
	snprintf(msg, sizeof(msg), "No available channel for preset \"%s\"", preset);
	bc_error(r, 503, "CHANNEL_UNAVAILABLE", msg);
	return false;
}

/* What the model answers, after the checks every chat request makes; false when answered already. */
static bool chat_prepare(struct mreq *r, struct chat_req *q, cJSON **body, struct reply_plan *plan,
			 struct conversation **conv)
{
	if (!(*body = chat_body(r, q)))
		return false;
	const char *preset = q->preset ? q->preset : "default";
	if (!bc_rate_ok(r, q) || !channel_ok(r, preset))
		return false;
	script_plan("botchat", preset, q->message, plan);
	if (plan->fault != FAULT_NONE && break_on(BRK_BC_FAULT_RESETS)) {
		char key[2 * BC_MAX_ID + 40];
		lookup_key(q->user, q->group, key, sizeof(key));
		struct conversation *lost = store_lookup("botchat", key);
		if (lost)
			store_delete(lost);
	}
	if (plan->fault == FAULT_HTTP_ERROR) {
		/* A scripted failure is the model's: MODEL_ERROR unless the rule gives a status with its own code. */
		int status = plan->fault_status;
		reply_fault(r, plan, bc_code(status == 500 ? 502 : status),
			    status == 503 ? "No available channels" : "The model returned an error");
		return false;
	}
	*conv = bc_conversation(q->user, q->group);
	if (!*conv) {
		bc_error(r, 500, "INTERNAL_ERROR", "Cannot create a conversation");
		return false;
	}
	return true;
}

static cJSON *usage_json(const struct reply_plan *p)
{
	cJSON *u = cJSON_CreateObject();
	cJSON_AddNumberToObject(u, "promptTokens", p->prompt_tokens);
	cJSON_AddNumberToObject(u, "completionTokens", p->completion_tokens);
	cJSON_AddNumberToObject(u, "totalTokens",
				p->prompt_tokens + p->completion_tokens + (break_on(BRK_BC_USAGE_SUM) ? 1 : 0));
	return u;
}

static void bc_store(struct conversation *c, const char *role, const char *content)
{
	store_add_message(c, role, content, clock_now_ms(), NULL);
}

/* A model failure during an /api/chat answer: the error the stream would have sent, as the response. */
static void chat_fail(struct mreq *r, const struct reply_plan *p)
{
	bc_error(r, 502, p->fault_code ? p->fault_code : "MODEL_ERROR",
		 p->fault_message ? p->fault_message : "The model returned an error");
}

/* The answer is sent: it joins the conversation (data is its id). */
static void chat_done(void *data, const struct reply_plan *p)
{
	struct conversation *c = bc_find(data);
	if (c)
		bc_store(c, "assistant", p->text);
}

static const struct json_answer_ops chat_answer = {
	.fail_status = 502,
	.fail = chat_fail,
	.done = chat_done,
	.release = free,
};

/* The whole answer, when its plan says it is ready (as a model that answers at once would, after its time). */
static void bc_chat(struct mreq *r)
{
	struct chat_req q;
	cJSON *body = NULL;
	struct reply_plan plan = { 0 };
	struct conversation *c = NULL;
	if (chat_prepare(r, &q, &body, &plan, &c)) {
		bc_store(c, "user", q.message);
		cJSON *data = cJSON_CreateObject();
		cJSON_AddStringToObject(data, "response", plan.text);
		cJSON_AddStringToObject(data, "conversationId", c->id);
		cJSON_AddItemToObject(data, "usage", usage_json(&plan));
		if (break_on(BRK_BC_CHAT_UNPLANNED)) {
			bc_store(c, "assistant", plan.text);
			bc_ok(r, data);
			goto out;
		}
		char *id = strdup(c->id);
		if (!id)
			cJSON_Delete(data);
		if (!id || stream_answer_json(r, &plan, bc_ok_body(data), &chat_answer, id) < 0) {
			free(id);
			bc_error(r, 500, "INTERNAL_ERROR", "Out of memory");
		}
	}
out:
	plan_release(&plan);
	cJSON_Delete(body);
}

struct bc_stream {
	char conv_id[40];
};

static void send_content(struct reply *r, size_t i)
{
	if (i == 0 && r->plan.ntokens > 1 && break_on(BRK_BC_STREAM_TEXT))
		return; /* the stream leaves out the first token */
	static struct jsonw_form content = JSONW_FORM("content", "text");
	reply_write_event(r, "data: ", &content, r->plan.tokens[i], "\n\n");
}

static void send_end(struct reply *r)
{
	struct bc_stream *d = r->data;
	cJSON *end = stream_event("end");
	if (!break_on(BRK_BC_END_NO_USAGE))
		cJSON_AddItemToObject(end, "usage", usage_json(&r->plan));
	stream_send_sse(r, end);
	struct conversation *c = bc_find(d->conv_id);
	if (c)
		bc_store(c, "assistant", r->plan.text);
}

static void send_failure(struct reply *r)
{
	const struct reply_plan *p = &r->plan;
	cJSON *e = stream_event("error");
	cJSON *err = cJSON_AddObjectToObject(e, "error");
	cJSON_AddStringToObject(err, "code", p->fault_code ? p->fault_code : "MODEL_ERROR");
	cJSON_AddStringToObject(err, "message", p->fault_message ? p->fault_message : "The model returned an error");
	stream_send_sse(r, e);
	if (break_on(BRK_BC_AFTER_ERROR)) {
		cJSON *end = stream_event("end");
		cJSON_AddItemToObject(end, "usage", usage_json(p));
		stream_send_sse(r, end);
	}
}

static void send_malformed(struct reply *r)
{
	reply_write_str(r, "data: {\"type\":\"content\",\"text\":\n\n");
}

static void release_stream(struct reply *r)
{
	/* r->gone: the client left, and the answer is dropped with it (docs/spec-notes.md). */
	struct conversation *c;
	if (r->gone && break_on(BRK_BC_STREAM_LEFT_STORED) && (c = bc_find(((struct bc_stream *)r->data)->conv_id)))
		bc_store(c, "assistant", r->plan.text);
	free(r->data);
}

static const struct reply_ops bc_reply = {
	.token = send_content,
	.end = send_end,
	.error = send_failure,
	.malformed = send_malformed,
	.release = release_stream,
	/* The document's codes: "CHANNEL_UNAVAILABLE  No available channels" is the one for a server going away. */
	.shutdown_code = "CHANNEL_UNAVAILABLE",
};

static void bc_chat_stream(struct mreq *r)
{
	struct chat_req q;
	cJSON *body = NULL;
	struct reply_plan plan = { 0 };
	struct conversation *c = NULL;
	if (!chat_prepare(r, &q, &body, &plan, &c))
		goto out;
	struct bc_stream *d = calloc(1, sizeof(*d));
	if (!d) {
		bc_error(r, 500, "INTERNAL_ERROR", "Out of memory");
		goto out;
	}
	snprintf(d->conv_id, sizeof(d->conv_id), "%s", c->id);
	bc_store(c, "user", q.message);
	reply_header(r, "Cache-Control", "no-cache");
	reply_header(r, "X-Accel-Buffering", "no");
	struct reply *rp = stream_start(r, "text/event-stream", &bc_reply, d, &plan);
	if (!rp) {
		free(d);
		bc_error(r, 500, "INTERNAL_ERROR", "Out of memory");
		goto out;
	}
	if (break_on(BRK_BC_HELD_STREAM))
		reply_hold(rp);
	cJSON *start = stream_event("start");
	cJSON_AddStringToObject(start, "conversationId", d->conv_id);
	stream_send_sse(rp, start);
	reply_run(rp);
out:
	plan_release(&plan);
	cJSON_Delete(body);
}

/* ---- conversations ------------------------------------------------------------------------ */

static bool field_matches(const struct conversation *c, const char *name, const char *want)
{
	if (!want)
		return true;
	const cJSON *v = conv_field(c, name);
	if (cJSON_IsString(v) && break_on(BRK_BC_LIST_OTHER_USER) && strcmp(name, "userId") == 0)
		return strncmp(v->valuestring, want, strlen(want)) == 0;
	return cJSON_IsString(v) && strcmp(v->valuestring, want) == 0;
}

static int by_updated_desc(const void *a, const void *b)
{
	const struct conversation *x = *(struct conversation *const *)a, *y = *(struct conversation *const *)b;
	if (x->updated_ms != y->updated_ms)
		return x->updated_ms > y->updated_ms ? -1 : 1;
	return x->created_ms > y->created_ms ? -1 : x->created_ms < y->created_ms;
}

static void bc_list(struct mreq *r)
{
	long limit, offset;
	if (!mreq_query_long(r, "limit", 1, 100, 20, &limit)) {
		bc_error(r, 400, "INVALID_REQUEST", "limit must be a whole number from 1 to 100");
		return;
	}
	if (!mreq_query_long(r, "offset", 0, 1000000000, 0, &offset)) {
		bc_error(r, 400, "INVALID_REQUEST", "offset must be a whole number >= 0");
		return;
	}
	const char *user = mreq_query(r, "userId"), *group = mreq_query(r, "groupId");
	size_t n = 0, cap = 64;
	struct conversation **all = malloc(cap * sizeof(*all));
	for (struct conversation *c = store_first(); c && all; c = c->next) {
		if (strcmp(c->api, "botchat") != 0 || !field_matches(c, "userId", user) ||
		    !field_matches(c, "groupId", group))
			continue;
		if (n == cap) {
			struct conversation **more = realloc(all, 2 * cap * sizeof(*all));
			if (!more)
				break;
			all = more;
			cap *= 2;
		}
		all[n++] = c;
	}
	if (!all) {
		bc_error(r, 500, "INTERNAL_ERROR", "Out of memory");
		return;
	}
	if (!break_on(BRK_BC_LIST_ORDER))
		qsort(all, n, sizeof(*all), by_updated_desc);
	cJSON *data = cJSON_CreateObject();
	cJSON *list = cJSON_AddArrayToObject(data, "conversations");
	size_t from = (size_t)offset < n ? (size_t)offset : n;
	size_t to = from + (size_t)limit < n ? from + (size_t)limit : n;
	for (size_t i = from; i < to; i++) {
		const struct conversation *c = all[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "id", c->id);
		cJSON_AddItemToObject(o, "userId", cJSON_Duplicate(conv_field(c, "userId"), 1));
		cJSON_AddItemToObject(o, "groupId", cJSON_Duplicate(conv_field(c, "groupId"), 1));
		cJSON_AddNumberToObject(o, "messageCount",
					(double)(break_on(BRK_BC_COUNT_STALE) ? c->nmessages / 2 : c->nmessages));
		const struct message *newest = break_on(BRK_BC_LAST_MESSAGE) ? c->first : c->last;
		if (newest)
			cJSON_AddStringToObject(o, "lastMessage", newest->content);
		else
			cJSON_AddNullToObject(o, "lastMessage");
		cJSON_AddNumberToObject(o, "updatedAt", (double)c->updated_ms);
		cJSON_AddItemToArray(list, o);
	}
	cJSON_AddNumberToObject(data, "total", break_on(BRK_BC_TOTAL_PAGE) ? (double)(to - from) : (double)n);
	free(all);
	bc_ok(r, data);
}

static struct conversation *found_or_404(struct mreq *r)
{
	struct conversation *c = bc_find(r->params[0]);
	if (!c)
		bc_error(r, 404, "CONVERSATION_NOT_FOUND", "Conversation not found");
	return c;
}

static void bc_get(struct mreq *r)
{
	struct conversation *c = found_or_404(r);
	if (!c)
		return;
	cJSON *data = cJSON_CreateObject();
	cJSON_AddStringToObject(data, "id", c->id);
	cJSON *list = cJSON_AddArrayToObject(data, "messages");
	for (const struct message *m = c->first; m; m = m->next) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "role", m->role);
		cJSON_AddStringToObject(o, "content", m->content);
		cJSON_AddNumberToObject(o, "timestamp", (double)m->at_ms);
		cJSON_AddItemToArray(list, o);
	}
	bc_ok(r, data);
}

static void bc_delete(struct mreq *r)
{
	struct conversation *c = bc_find(r->params[0]);
	if (!c) {
		if (break_on(BRK_BC_DELETE_UNKNOWN))
			bc_ok(r, NULL);
		else
			bc_error(r, 404, "CONVERSATION_NOT_FOUND", "Conversation not found");
		return;
	}
	if (!break_on(BRK_BC_DELETE_KEEPS))
		store_delete(c);
	bc_ok(r, NULL);
}

static void bc_clear(struct mreq *r)
{
	struct conversation *c = found_or_404(r);
	if (!c)
		return;
	if (break_on(BRK_BC_CLEAR_DELETES)) {
		store_delete(c);
	} else {
		store_clear(c);
		store_touch(c, clock_now_ms());
	}
	cJSON *o = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "success", 1);
	cJSON_AddStringToObject(o, "message", "Context cleared");
	reply_json(r, 200, o);
}

static void bc_init(void)
{
	api_route("POST", "/api/chat", &botchat_api, bc_chat);
	api_route("POST", "/api/chat/stream", &botchat_api, bc_chat_stream);
	api_route("GET", "/api/conversations", &botchat_api, bc_list);
	api_route("GET", "/api/conversations/:id", &botchat_api, bc_get);
	api_route("DELETE", "/api/conversations/:id", &botchat_api, bc_delete);
	api_route("POST", "/api/conversations/:id/clear", &botchat_api, bc_clear);
}

static const char *const bc_prefixes[] = { "/api/", NULL };

const struct api botchat_api = {
	.name = "botchat",
	.bit = API_BOTCHAT,
	.prefixes = bc_prefixes,
	.init = bc_init,
	.reset = NULL,
	.error = bc_error,
};
