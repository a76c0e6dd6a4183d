/*
 * deepwiki_ws: the DeepWikiOpen WebSocket /ws/chat (seeds/000), with rooms.
 *
 *   GET /ws/chat?token=KEY[&conversation_id=C][&room_id=R][&user_id=NAME]
 *   bad token: accepted, then closed 4000; unknown conversation: closed 4003
 *   on open: connection_info {conversation_id, user, room_id?}
 *   message       -> user_message to the other room members; the reply to every member as
 *                    content*, sources?, end {conversation_id, total_tokens, finish_reason}
 *   typing        -> typing {user, is_typing} to the other members
 *   join_room / leave_room -> a new connection_info
 *   stop_generation -> the reply in flight ends with finish_reason "stopped"
 *   bad JSON, unknown type, bad members: error INVALID_MESSAGE, then close 4002
 *   more than 1000 client messages a minute per key: error RATE_LIMITED, then close 4001
 *
 * Rooms are found by scanning the open connections: O(connections) per
 * broadcast, which a mock can afford.  A message that arrives while the
 * connection's own reply streams waits for it; typing and stop_generation do not.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "common/json.h"
#include "common/jsonw.h"
#include "mockd/apis/apis.h"
#include "mockd/apis/deepwiki.h"
#include "mockd/breaks.h"
#include "mockd/clock.h"
#include "mockd/keys.h"
#include "mockd/mockd.h"
#include "mockd/reply.h"
#include "mockd/ratelimit.h"
#include "mockd/script.h"
#include "mockd/ws.h"

#define DWS_MAX_NAME    128
#define DWS_MAX_PENDING 64

enum dws_close {
	DWS_INVALID_TOKEN = 4000,
	DWS_RATE_LIMITED = 4001,
	DWS_INVALID_MESSAGE = 4002,
	DWS_NOT_FOUND = 4003,
};

struct dws_client;

/* A reply's own data (r->data); its r->conn is the ws_conn of the client who asked. */
struct dws_reply {
	char room[DWS_MAX_NAME + 1];  /* the room the question was asked in: its members get the answer */
	char model[32];
	cJSON *sources;
	bool sources_sent;
	const char *finish_reason;    /* "stop", or "stopped" after stop_generation */
};

struct dws_client {
	struct ws_conn *ws;
	struct api_key *key;          /* NULL when the token was refused (the close is on its way) */
	char user[DWS_MAX_NAME + 1];
	char conv_id[DWS_MAX_NAME + 1];
	char room[DWS_MAX_NAME + 1];  /* "" when in no room */
	struct reply *reply;          /* the answer being streamed, or NULL */
	struct ws_inbox waiting;      /* messages that arrived during the reply */
	struct dws_client *prev, *next;
};

static struct dws_client *clients;

/* ---- sending ----------------------------------------------------------------------------- */

static void send_json(struct dws_client *c, cJSON *o)
{
	ws_send_json(c->ws, o);
}

/* Send to the members of room (and to also, when given and not in it); skip except. */
static void to_room_text(const char *room, const struct dws_client *except, struct dws_client *also, const char *p,
			 size_t n)
{
	bool also_done = false;
	if (room && *room)
		for (struct dws_client *m = clients; m; m = m->next) {
			if (m == except || !m->key || strcmp(m->room, room) != 0)
				continue;
			also_done |= m == also;
			ws_send_text(m->ws, p, n);
		}
	if (also && !also_done && also != except)
		ws_send_text(also->ws, p, n);
}

static void to_room(const char *room, const struct dws_client *except, struct dws_client *also, const cJSON *o)
{
	char *text = cJSON_PrintUnformatted(o);
	if (text)
		to_room_text(room, except, also, text, strlen(text));
	cJSON_free(text);
}

static void send_info(struct dws_client *c)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "type", "connection_info");
	cJSON_AddStringToObject(o, "conversation_id", c->conv_id);
	cJSON_AddStringToObject(o, "user", c->user);
	if (*c->room)
		cJSON_AddStringToObject(o, "room_id", c->room);
	else
		cJSON_AddNullToObject(o, "room_id");
	send_json(c, o);
	cJSON_Delete(o);
}

/* An error event, and for the fatal ones the close code after it. */
static void send_error(struct dws_client *c, const char *code, const char *message, int close_code)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "type", "error");
	cJSON *err = cJSON_AddObjectToObject(o, "error");
	cJSON_AddStringToObject(err, "code", code);
	cJSON_AddStringToObject(err, "message", message);
	send_json(c, o);
	cJSON_Delete(o);
	if (close_code && !break_on(BRK_DWS_INVALID_NO_CLOSE))
		ws_close(c->ws, (uint16_t)close_code, message);
}

static void invalid(struct dws_client *c, const char *message)
{
	send_error(c, "INVALID_MESSAGE", message, break_on(BRK_DWS_INVALID_CODE) ? 1003 : DWS_INVALID_MESSAGE);
}

/* ---- the reply --------------------------------------------------------------------------- */

static void handle_text(struct dws_client *c, const char *text, size_t len);

static void send_token(struct reply *r, size_t i)
{
	struct dws_reply *rp = r->data;
	static struct jsonw_form content = JSONW_FORM("content", "content");
	reply_write_event(r, "", &content, r->plan.tokens[i], "");
	/* Sources come after the second content event (or the only one). */
	if ((i + 1 == 2 || i + 1 == r->plan.ntokens) && !rp->sources_sent) {
		rp->sources_sent = true;
		cJSON *s = cJSON_CreateObject();
		cJSON_AddStringToObject(s, "type", "sources");
		cJSON_AddItemReferenceToObject(s, "sources", rp->sources);
		reply_write_json(r, s);
		cJSON_Delete(s);
	}
}

/* The end event with the tokens sent so far; store the answer and count its tokens. */
static void send_end(struct reply *r)
{
	struct dws_reply *rp = r->data;
	struct dws_client *c = ws_data(r->conn);
	int total = r->plan.prompt_tokens + (int)r->sent;
	cJSON *end = cJSON_CreateObject();
	cJSON_AddStringToObject(end, "type", "end");
	cJSON_AddStringToObject(end, "conversation_id", c->conv_id);
	cJSON_AddNumberToObject(end, "total_tokens", total);
	cJSON_AddStringToObject(end, "finish_reason", rp->finish_reason ? rp->finish_reason : "stop");
	reply_write_json(r, end);
	cJSON_Delete(end);

	struct conversation *conv = deepwiki_conversation(c->conv_id, c->key, false);
	if (conv && !break_on(BRK_DWS_NOT_STORED)) {
		struct buf text;
		buf_init(&text, 1u << 24);
		for (size_t i = 0; i < r->sent; i++)
			buf_adds(&text, r->plan.tokens[i]);
		cJSON *meta = cJSON_CreateObject();
		cJSON_AddStringToObject(meta, "model_used", rp->model);
		cJSON_AddNumberToObject(meta, "tokens_used", total);
		cJSON_AddItemToObject(meta, "sources", cJSON_Duplicate(rp->sources, 1));
		deepwiki_store_message(conv, "assistant", buf_str(&text), meta);
		buf_release(&text);
	}
	c->key->used += total;
}

static void send_failure(struct reply *r)
{
	const struct reply_plan *p = &r->plan;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "type", "error");
	cJSON *err = cJSON_AddObjectToObject(o, "error");
	cJSON_AddStringToObject(err, "code", p->fault_code ? p->fault_code : "INTERNAL_ERROR");
	cJSON_AddStringToObject(err, "message", p->fault_message ? p->fault_message : "The model failed while answering");
	reply_write_json(r, o);
	cJSON_Delete(o);
}

static void send_malformed(struct reply *r)
{
	reply_write_str(r, "{\"type\":\"content\",");
}

static void release_reply(struct reply *r)
{
	struct dws_reply *rp = r->data;
	cJSON_Delete(rp->sources);
	free(rp);
}

static const struct reply_ops dws_reply = {
	.token = send_token,
	.end = send_end,
	.error = send_failure,
	.malformed = send_malformed,
	.release = release_reply,
};

/* The reply's sink (r->conn is the asker's ws_conn): every member of the room it was asked in, and the asker. */
static void sink_write(struct reply *r, const char *p, size_t n)
{
	struct dws_reply *rp = r->data;
	to_room_text(rp->room, NULL, ws_data(r->conn), p, n);
}

/* The reply is complete: the messages that waited for it go in, in order. */
static void sink_finish(struct reply *r)
{
	struct dws_client *c = ws_data(r->conn);
	c->reply = NULL;
	struct ws_msg *m;
	while (!c->reply && !ws_closing(c->ws) && (m = ws_inbox_pop(&c->waiting))) {
		handle_text(c, m->text, m->len);
		ws_msg_free(m);
	}
}

static void sink_release(struct reply *r)
{
	struct dws_client *c = ws_data(r->conn);
	if (c->reply == r)
		c->reply = NULL;
	ws_reply_release(r);
}

static const struct reply_sink dws_sink = {
	.write = sink_write,
	.pending = ws_reply_pending,
	.watch = ws_reply_watch,
	.finish = sink_finish,
	.cut = ws_reply_cut,
	.release = sink_release,
};

/* The sources of a WebSocket answer: the rule's, else one per answer naming the topic. */
static cJSON *reply_sources(const struct reply_plan *p, const char *content)
{
	const cJSON *given = cJSON_GetObjectItemCaseSensitive(p->extra, "sources");
	if (cJSON_IsArray(given))
		return cJSON_Duplicate(given, 1);
	cJSON *list = cJSON_CreateArray();
	cJSON *s = cJSON_CreateObject();
	char title[200];
	snprintf(title, sizeof(title), "%.120s - Wikipedia", content);
	cJSON_AddStringToObject(s, "title", title);
	cJSON_AddStringToObject(s, "url", "https://en.wikipedia.org/wiki/Special:Search");
	cJSON_AddStringToObject(s, "snippet", "An overview of the topic and the questions around it...");
	cJSON_AddNumberToObject(s, "relevance_score", 0.9);
	cJSON_AddItemToArray(list, s);
	return list;
}

static void on_message(struct dws_client *c, const cJSON *msg)
{
	const cJSON *content = cJSON_GetObjectItemCaseSensitive(msg, "content");
	const cJSON *model = cJSON_GetObjectItemCaseSensitive(msg, "model");
	if (!cJSON_IsString(content) || !*content->valuestring) {
		invalid(c, "message needs a non-empty string \"content\"");
		return;
	}
	if (model && !cJSON_IsString(model)) {
		invalid(c, "model must be a string");
		return;
	}
	cJSON *relay = cJSON_CreateObject();
	cJSON_AddStringToObject(relay, "type", "user_message");
	cJSON_AddStringToObject(relay, "user", c->user);
	cJSON_AddStringToObject(relay, "content", content->valuestring);
	to_room(c->room, break_on(BRK_DWS_RELAY_SENDER) ? NULL : c, NULL, relay);
	cJSON_Delete(relay);

	struct conversation *conv = deepwiki_conversation(c->conv_id, c->key, false);
	if (conv)
		deepwiki_store_message(conv, "user", content->valuestring, NULL);
	struct dws_reply *rp = calloc(1, sizeof(*rp));
	if (!rp) {
		send_error(c, "INTERNAL_ERROR", "out of memory", 0);
		return;
	}
	snprintf(rp->room, sizeof(rp->room), "%s", c->room);
	snprintf(rp->model, sizeof(rp->model), "%s", cJSON_IsString(model) ? model->valuestring : "gpt-4-turbo");
	struct reply_plan plan;
	script_plan("deepwiki", rp->model, content->valuestring, &plan);
	if (plan.fault == FAULT_HTTP_ERROR) {
		send_error(c, plan.fault_code ? plan.fault_code : "INTERNAL_ERROR",
			   plan.fault_message ? plan.fault_message : "The model is unavailable", 0);
		plan_release(&plan);
		free(rp);
		return;
	}
	rp->sources = reply_sources(&plan, content->valuestring);
	c->reply = reply_start(&dws_reply, rp, &dws_sink, c->ws, &plan);
	if (!c->reply) {
		plan_release(&plan);
		cJSON_Delete(rp->sources);
		free(rp);
		send_error(c, "INTERNAL_ERROR", "out of memory", 0);
		return;
	}
	if (break_on(BRK_DWS_HELD_REPLY))
		reply_hold(c->reply);
	reply_run(c->reply);
}

/* ---- the other client messages ------------------------------------------------------------- */

static bool room_name_ok(const cJSON *v)
{
	return cJSON_IsString(v) && *v->valuestring && strlen(v->valuestring) <= DWS_MAX_NAME;
}

static void on_typing(struct dws_client *c, const cJSON *msg)
{
	const cJSON *typing = cJSON_GetObjectItemCaseSensitive(msg, "is_typing");
	if (!cJSON_IsBool(typing)) {
		invalid(c, "typing needs a boolean \"is_typing\"");
		return;
	}
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "type", "typing");
	cJSON_AddStringToObject(o, "user", c->user);
	cJSON_AddBoolToObject(o, "is_typing", cJSON_IsTrue(typing));
	to_room(c->room, break_on(BRK_DWS_TYPING_SENDER) ? NULL : c, NULL, o);
	cJSON_Delete(o);
}

static void on_room(struct dws_client *c, const cJSON *msg, bool join)
{
	const cJSON *room = cJSON_GetObjectItemCaseSensitive(msg, "room_id");
	if (!room_name_ok(room)) {
		invalid(c, "join_room and leave_room need a \"room_id\" of 1 to 128 characters");
		return;
	}
	if (join)
		snprintf(c->room, sizeof(c->room), "%s", room->valuestring);
	else if (strcmp(c->room, room->valuestring) == 0 && !break_on(BRK_DWS_LEFT_MEMBER))
		c->room[0] = '\0';
	send_info(c);
}

static void on_stop(struct dws_client *c)
{
	if (c->reply && !break_on(BRK_DWS_STOP_IGNORED)) {
		struct dws_reply *rp = c->reply->data;
		rp->finish_reason = "stopped";
		reply_end_now(c->reply);
	}
}

/* Count the message against the key's minute; false (error sent, closing 4001) past the limit. */
static bool within_rate(struct dws_client *c)
{
	const cJSON *limits = cJSON_GetObjectItemCaseSensitive(keys_api_config("deepwiki"), "rate_limits");
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(limits, "websocket");
	struct rl_policy p = {
		.name = "deepwiki.websocket",
		.limit = (json_is_integer(v) && v->valuedouble >= 1 ? (int)v->valuedouble : 1000) +
			 (break_on(BRK_DWS_RATE_LIMIT) ? 1 : 0),
		.window_ms = 60000,
		.count_rejected = false,
		.kind = break_on(BRK_DWS_RATE_SLIDING) ? RL_SLIDING :
			break_on(BRK_DWS_RATE_EXTENDS) ? RL_EXTENDING : RL_FIXED,
	};
	struct rl_result rl;
	ratelimit_hit(&p, c->key->key, clock_now_ms(), &rl);
	if (rl.allowed)
		return true;
	char msg[96];
	snprintf(msg, sizeof(msg), "More than %d messages a minute. Try again in %d seconds.", rl.limit,
		 rl.retry_after_s);
	send_error(c, "RATE_LIMITED", msg, DWS_RATE_LIMITED);
	return false;
}

static void handle_text(struct dws_client *c, const char *text, size_t len)
{
	cJSON *msg = mockd_parse_json(text, len);
	const char *type = json_get_string(msg, "type");
	if (!cJSON_IsObject(msg) || !type) {
		invalid(c, msg ? "a message needs a string \"type\"" : "the message is not valid JSON");
	} else if (strcmp(type, "message") == 0) {
		if (c->reply) {
			if (ws_inbox_push(&c->waiting, text, len) < 0)
				send_error(c, "RATE_LIMITED", "too many messages waiting for the reply", 0);
		} else {
			on_message(c, msg);
		}
	} else if (strcmp(type, "typing") == 0) {
		on_typing(c, msg);
	} else if (strcmp(type, "join_room") == 0 || strcmp(type, "leave_room") == 0) {
		on_room(c, msg, type[0] == 'j');
	} else if (strcmp(type, "stop_generation") == 0) {
		on_stop(c);
	} else {
		char why[160];
		snprintf(why, sizeof(why), "unknown message type \"%.100s\"", type);
		invalid(c, why);
	}
	cJSON_Delete(msg);
}

static void dws_on_text(struct ws_conn *ws, const char *text, size_t len)
{
	struct dws_client *c = ws_data(ws);
	if (!c->key || ws_closing(ws))
		return; /* refused: only the close handshake is left */
	if (within_rate(c))
		handle_text(c, text, len);
}

static void dws_on_close(struct ws_conn *ws)
{
	struct dws_client *c = ws_data(ws);
	if (c->prev)
		c->prev->next = c->next;
	else
		clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	/* The answer is dropped with its asker: only the question stays stored (docs/spec-notes.md). */
	if (c->reply && break_on(BRK_DWS_LEFT_STORED)) {
		struct conversation *conv = deepwiki_conversation(c->conv_id, c->key, false);
		if (conv)
			deepwiki_store_message(conv, "assistant", c->reply->plan.text, NULL);
	}
	if (c->reply)
		reply_gone(c->reply);
	ws_inbox_release(&c->waiting);
	free(c);
}

static const struct ws_ops dws_ops = { dws_on_text, dws_on_close };

/* ---- the handshake ------------------------------------------------------------------------ */

static void dws_connect(struct mreq *r)
{
	struct dws_client *c = calloc(1, sizeof(*c));
	if (!c) {
		deepwiki_api.error(r, 500, "INTERNAL_ERROR", "out of memory");
		return;
	}
	c->waiting.max = DWS_MAX_PENDING;
	c->ws = ws_accept(r, &dws_ops, c);
	if (!c->ws) {
		free(c);
		return;
	}
	c->next = clients;
	if (clients)
		clients->prev = c;
	clients = c;

	/* A browser cannot read an HTTP status, so a bad token is a close code after the upgrade. */
	const char *token = mreq_query(r, "token");
	struct api_key *k = token ? keys_find("deepwiki", token) : NULL;
	if (!k || !key_has_scope(k, "ws")) {
		ws_close(c->ws, break_on(BRK_DWS_TOKEN_CODE) ? 1008 : DWS_INVALID_TOKEN,
			 k ? "This API key does not have the ws scope" : "Invalid token");
		return;
	}
	const char *conv = mreq_query(r, "conversation_id");
	struct conversation *found = conv ? deepwiki_conversation(conv, k, false) : NULL;
	if (conv && !found) {
		ws_close(c->ws, break_on(BRK_DWS_CONV_CODE) ? DWS_INVALID_TOKEN : DWS_NOT_FOUND,
			 "Conversation not found");
		return;
	}
	if (!found)
		found = deepwiki_conversation(NULL, k, true);
	if (!found) {
		ws_close(c->ws, 1011, "cannot create a conversation");
		return;
	}
	c->key = k;
	const char *user = mreq_query(r, "user_id"), *room = mreq_query(r, "room_id");
	snprintf(c->user, sizeof(c->user), "%s", user && *user ? user : k->user_id);
	snprintf(c->conv_id, sizeof(c->conv_id), "%s", found->id);
	if (room && *room)
		snprintf(c->room, sizeof(c->room), "%.128s", room);
	if (!break_on(BRK_DWS_NO_INFO))
		send_info(c);
}

void deepwiki_ws_init(void)
{
	api_route("GET", "/ws/chat", &deepwiki_api, dws_connect);
}
