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
#include "mockd/apis/apis.h"
#include "mockd/apis/deepwiki.h"
#include "mockd/breaks.h"
#include "mockd/clock.h"
#include "mockd/keys.h"
#include "mockd/mockd.h"
#include "mockd/pace.h"
#include "mockd/ratelimit.h"
#include "mockd/script.h"
#include "mockd/ws.h"

#define DWS_MAX_NAME    128
#define DWS_MAX_PENDING 64
#define DWS_STEPS_PER_TURN 64   /* events already due sent in one callback, then the loop gets a turn */

enum dws_close {
	DWS_INVALID_TOKEN = 4000,
	DWS_RATE_LIMITED = 4001,
	DWS_INVALID_MESSAGE = 4002,
	DWS_NOT_FOUND = 4003,
};

struct dws_client;

struct dws_reply {
	struct event *timer;
	struct reply_plan plan;
	struct pace pace;             /* when the next event is due, counted from the question */
	size_t sent;
	char room[DWS_MAX_NAME + 1];  /* the room the question was asked in: its members get the answer */
	char model[32];
	cJSON *sources;
	bool sources_sent;
	bool stalled;                 /* its stall or malformed fault has happened */
	cJSON *held;                  /* its events kept back until the end (deepwiki-ws-held-reply), or NULL */
};

struct dws_client {
	struct ws_conn *ws;
	struct api_key *key;          /* NULL when the token was refused (the close is on its way) */
	char user[DWS_MAX_NAME + 1];
	char conv_id[DWS_MAX_NAME + 1];
	char room[DWS_MAX_NAME + 1];  /* "" when in no room */
	struct dws_reply *reply;      /* the answer being streamed, or NULL */
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
static void to_room(const char *room, const struct dws_client *except, struct dws_client *also, cJSON *o)
{
	bool also_done = false;
	if (room && *room)
		for (struct dws_client *m = clients; m; m = m->next) {
			if (m == except || !m->key || strcmp(m->room, room) != 0)
				continue;
			also_done |= m == also;
			send_json(m, o);
		}
	if (also && !also_done && also != except)
		send_json(also, o);
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

static void reply_free(struct dws_reply *rp)
{
	if (!rp)
		return;
	if (rp->timer)
		event_free(rp->timer);
	plan_release(&rp->plan);
	cJSON_Delete(rp->sources);
	cJSON_Delete(rp->held);
	free(rp);
}

static void handle_text(struct dws_client *c, const char *text, size_t len);

/* Send an event of c's reply to the room (under deepwiki-ws-held-reply: keep a copy for the end). */
static void reply_send(struct dws_client *c, cJSON *o)
{
	struct dws_reply *rp = c->reply;
	if (rp->held)
		cJSON_AddItemToArray(rp->held, cJSON_Duplicate(o, 1));
	else
		to_room(rp->room, NULL, c, o);
}

/* Send every event reply_send kept, at once: they leave in one write. */
static void reply_release_held(struct dws_client *c)
{
	struct dws_reply *rp = c->reply;
	cJSON *held = rp->held, *o;
	rp->held = NULL;
	cJSON_ArrayForEach(o, held)
		to_room(rp->room, NULL, c, o);
	cJSON_Delete(held);
}

/* Forget the reply in flight, however it ended, and let the messages that waited for it in. */
static void reply_done(struct dws_client *c)
{
	reply_free(c->reply);
	c->reply = NULL;
	struct ws_msg *m;
	while (!c->reply && !ws_closing(c->ws) && (m = ws_inbox_pop(&c->waiting))) {
		handle_text(c, m->text, m->len);
		ws_msg_free(m);
	}
}

/* Send end, store the answer, and let waiting messages in. */
static void reply_finish(struct dws_client *c, const char *finish_reason)
{
	struct dws_reply *rp = c->reply;
	size_t sent = rp->sent;
	int total = rp->plan.prompt_tokens + (int)sent;
	struct buf text;
	buf_init(&text, 1u << 24);
	for (size_t i = 0; i < sent; i++)
		buf_adds(&text, rp->plan.tokens[i]);
	cJSON *end = cJSON_CreateObject();
	cJSON_AddStringToObject(end, "type", "end");
	cJSON_AddStringToObject(end, "conversation_id", c->conv_id);
	cJSON_AddNumberToObject(end, "total_tokens", total);
	cJSON_AddStringToObject(end, "finish_reason", finish_reason);
	reply_send(c, end);
	cJSON_Delete(end);
	reply_release_held(c);

	struct conversation *conv = deepwiki_conversation(c->conv_id, c->key, false);
	if (conv && !break_on(BRK_DWS_NOT_STORED)) {
		cJSON *meta = cJSON_CreateObject();
		cJSON_AddStringToObject(meta, "model_used", rp->model);
		cJSON_AddNumberToObject(meta, "tokens_used", total);
		cJSON_AddItemToObject(meta, "sources", cJSON_Duplicate(rp->sources, 1));
		deepwiki_store_message(conv, "assistant", buf_str(&text), meta);
	}
	buf_release(&text);
	c->key->used += total;
	reply_done(c);
}

/*
 * Send the reply's next event. True when the reply goes on and its next event
 * is already due (c and the reply are then still there): the caller sends it
 * too, so that events due together leave in one write.
 */
static bool reply_step_once(struct dws_client *c)
{
	struct dws_reply *rp = c->reply;
	const struct reply_plan *p = &rp->plan;
	switch (plan_fault_at(p, rp->sent, &rp->stalled)) {
	case FAULT_STEP_CUT:
	case FAULT_STEP_RESET:
		ws_abort(c->ws, p->fault == FAULT_RESET_AFTER);
		return false;
	case FAULT_STEP_STALL:
		pace_next(&rp->pace, p->fault_ms);
		pace_arm(&rp->pace, rp->timer);
		return false;
	case FAULT_STEP_MALFORMED:
		ws_send_str(c->ws, "{\"type\":\"content\",");
		break;
	case FAULT_STEP_ERROR: {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "type", "error");
		cJSON *err = cJSON_AddObjectToObject(o, "error");
		cJSON_AddStringToObject(err, "code", p->fault_code ? p->fault_code : "INTERNAL_ERROR");
		cJSON_AddStringToObject(err, "message", p->fault_message ? p->fault_message
									 : "The model failed while answering");
		reply_send(c, o);
		cJSON_Delete(o);
		reply_release_held(c);
		reply_done(c);
		return false;
	}
	case FAULT_STEP_NONE:
		break;
	}
	if (rp->sent < p->ntokens) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "type", "content");
		cJSON_AddStringToObject(o, "content", p->tokens[rp->sent]);
		reply_send(c, o);
		cJSON_Delete(o);
		rp->sent++;
		if (rp->sent == 2 || rp->sent == p->ntokens) {
			cJSON *s = cJSON_CreateObject();
			cJSON_AddStringToObject(s, "type", "sources");
			cJSON_AddItemToObject(s, "sources", cJSON_Duplicate(rp->sources, 1));
			if (!rp->sources_sent)
				reply_send(c, s);
			rp->sources_sent = true;
			cJSON_Delete(s);
		}
		pace_next(&rp->pace, p->interval_ms);
		if (pace_wait_us(&rp->pace) <= 0)
			return true;
		pace_arm(&rp->pace, rp->timer);
		return false;
	}
	reply_finish(c, "stop");
	return false;
}

static void reply_step(evutil_socket_t fd, short what, void *arg)
{
	struct dws_client *c = arg;
	/* A timer may fire a little before its deadline (clock rounding): wait the rest. */
	if (pace_wait_us(&c->reply->pace) > 0) {
		pace_arm(&c->reply->pace, c->reply->timer);
		return;
	}
	for (int left = DWS_STEPS_PER_TURN; reply_step_once(c);)
		if (--left == 0) {
			pace_arm(&c->reply->pace, c->reply->timer);
			return;
		}
}

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
	if (!rp || !(rp->timer = evtimer_new(mockd_base, reply_step, c))) {
		free(rp);
		send_error(c, "INTERNAL_ERROR", "out of memory", 0);
		return;
	}
	snprintf(rp->room, sizeof(rp->room), "%s", c->room);
	snprintf(rp->model, sizeof(rp->model), "%s", cJSON_IsString(model) ? model->valuestring : "gpt-4-turbo");
	script_plan("deepwiki", rp->model, content->valuestring, &rp->plan);
	if (rp->plan.fault == FAULT_HTTP_ERROR) {
		send_error(c, rp->plan.fault_code ? rp->plan.fault_code : "INTERNAL_ERROR",
			   rp->plan.fault_message ? rp->plan.fault_message : "The model is unavailable", 0);
		reply_free(rp);
		return;
	}
	rp->sources = reply_sources(&rp->plan, content->valuestring);
	if (break_on(BRK_DWS_HELD_REPLY))
		rp->held = cJSON_CreateArray();
	c->reply = rp;
	pace_start(&rp->pace, &rp->plan);
	pace_next(&rp->pace, rp->plan.first_token_ms);
	pace_arm(&rp->pace, rp->timer);
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
		event_del(c->reply->timer);
		reply_finish(c, "stopped");
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
	reply_free(c->reply);
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
