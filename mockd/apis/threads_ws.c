/*
 * threads: the WebSocket chat API with threads and agents (seeds/001).
 *
 *   GET /chat/ws?key=UUID | ?token=T   (key is checked before token; 401 without upgrade otherwise)
 *   -> {"type":"history","thread_id"}  each stored message as a "message" frame, oldest first
 *   -> {"type":"message","thread_id","agent_id"?,"content"}
 *                                       "message_received" {id, thread_id, job_id}, then the
 *                                       assistant reply as "message" frames sharing one id
 *   errors: {"type":"error","message"}; the connection stays open.
 *
 * Frames of one connection are handled in order: one that arrives while a reply
 * is being streamed waits until the reply has been sent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <ctype.h>
#include <string.h>

#include <event2/event.h>

#include "common/json.h"
#include "common/timeutil.h"
#include "mockd/apis/apis.h"
#include "mockd/breaks.h"
#include "mockd/clock.h"
#include "mockd/keys.h"
#include "mockd/mockd.h"
#include "mockd/reply.h"
#include "mockd/script.h"
#include "mockd/store.h"
#include "mockd/ws.h"

#define TH_MAX_PENDING 64   /* client frames waiting behind a reply; more is an error */

struct th_conn {
	struct ws_conn *ws;
	char profile[64];
	struct ws_inbox inbox;   /* frames waiting for the reply in flight */
	struct reply *reply;     /* the reply being streamed, or NULL */
};

/* A reply's own data (r->data); its r->conn is the ws_conn that asked. */
struct th_reply {
	char reply_id[40];
	char thread_id[40];
	char conv_key[128];
};

/* ---- helpers ----------------------------------------------------------------------------- */

static bool is_uuid(const char *s)
{
	static const int dash[] = { 8, 13, 18, 23 };
	if (break_on(BRK_TH_INVALID_UUID))
		return *s != '\0';
	if (strlen(s) != 36)
		return false;
	for (int i = 0, d = 0; i < 36; i++) {
		if (d < 4 && i == dash[d]) {
			if (s[i] != '-')
				return false;
			d++;
			continue;
		}
		char c = s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
			return false;
	}
	return true;
}

/* A random version 4 UUID from the seeded generator. */
static void new_uuid(char *out)
{
	uint64_t a = mockd_rand(), b = mockd_rand();
	snprintf(out, 37, "%08x-%04x-4%03x-%04x-%012llx", (unsigned)(a >> 32), (unsigned)(a >> 16) & 0xffff,
		 (unsigned)a & 0xfff, (unsigned)(0x8000 | ((b >> 48) & 0x3fff)),
		 (unsigned long long)(b & 0xffffffffffffULL));
}

static void send_error(struct th_conn *tc, const char *message)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "type", "error");
	cJSON_AddStringToObject(o, "message", message);
	ws_send_json(tc->ws, o);
	cJSON_Delete(o);
	if (break_on(BRK_TH_CLOSE_ON_ERROR))
		ws_close(tc->ws, 1000, "error");
}

/* A message frame. */
static cJSON *message_frame(const char *id, const char *thread_id, const char *role, const char *content,
			    int64_t at_ms)
{
	char when[40];
	iso8601_format(at_ms, when, sizeof(when));
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "type", "message");
	cJSON_AddStringToObject(o, "id", id);
	cJSON_AddStringToObject(o, "thread_id", thread_id);
	cJSON_AddStringToObject(o, "role", role);
	cJSON_AddStringToObject(o, "content", content);
	cJSON_AddStringToObject(o, "created_at", when);
	return o;
}

/*
 * Threads belong to a profile: the store key is "profile:thread", the UUID in
 * lower case, since UUIDs compare without case (RFC 9562, section 4).
 */
static void conv_key(const struct th_conn *tc, const char *thread_id, char *out, size_t size)
{
	int n = snprintf(out, size, "%s:", tc->profile);
	for (size_t i = n > 0 ? (size_t)n : size; i + 1 < size && *thread_id; i++)
		out[i] = (char)tolower((unsigned char)*thread_id++), out[i + 1] = '\0';
}

static void store_message(struct conversation *c, const char *id, const char *role, const char *content,
			  int64_t at)
{
	cJSON *meta = cJSON_CreateObject();
	cJSON_AddStringToObject(meta, "id", id);
	store_add_message(c, role, content, at, meta);
}

/* thread_id must be present and a UUID; false with the error sent. */
static bool thread_ok(struct th_conn *tc, const cJSON *msg, const char **thread_id)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(msg, "thread_id");
	if (!t || cJSON_IsNull(t) || (cJSON_IsString(t) && !*t->valuestring)) {
		send_error(tc, break_on(BRK_TH_ERROR_TEXT) ? "Thread id is required" : "Thread ID is required");
		return false;
	}
	if (!cJSON_IsString(t) || !is_uuid(t->valuestring) ||
	    (break_on(BRK_TH_UPPERCASE_UUID) && strpbrk(t->valuestring, "ABCDEF"))) {
		send_error(tc, "Invalid thread ID format");
		return false;
	}
	*thread_id = t->valuestring;
	return true;
}

/* ---- history ------------------------------------------------------------------------------ */

static void th_history(struct th_conn *tc, const cJSON *msg)
{
	const char *thread_id;
	if (!thread_ok(tc, msg, &thread_id))
		return;
	char key[128];
	conv_key(tc, thread_id, key, sizeof(key));
	const struct conversation *c = store_get("threads", key);
	size_t n = c ? c->nmessages : 0, i = 0;
	const struct message **order = n ? calloc(n, sizeof(*order)) : NULL;
	for (const struct message *m = c ? c->first : NULL; m && order; m = m->next)
		order[i++] = m;
	for (size_t k = 0; k < i; k++) {
		const struct message *m = order[break_on(BRK_TH_HISTORY_ORDER) ? i - 1 - k : k];
		const char *id = json_get_string(m->meta, "id");
		cJSON *o = message_frame(id ? id : "", thread_id, m->role, m->content, m->at_ms);
		ws_send_json(tc->ws, o);
		cJSON_Delete(o);
	}
	free(order);
	if (!i && break_on(BRK_TH_EMPTY_MARKER)) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "type", "history_end");
		cJSON_AddStringToObject(o, "thread_id", thread_id);
		ws_send_json(tc->ws, o);
		cJSON_Delete(o);
	}
}

/* ---- message and the streamed reply --------------------------------------------------------- */

static void th_process_next(struct th_conn *tc);

static void send_part(struct reply *r, size_t i)
{
	struct th_reply *tr = r->data;
	if (break_on(BRK_TH_REPLY_IDS))
		new_uuid(tr->reply_id);
	char when[40];
	iso8601_format(clock_now_ms(), when, sizeof(when));
	const char *const kv[] = { "type", "message", "id", tr->reply_id, "thread_id", tr->thread_id,
				   "role", "assistant", "content", r->plan.tokens[i], "created_at", when };
	reply_write_object(r, "", kv, 6, "");
}

/* The reply is whole: it is stored as one assistant message. */
static void store_reply(struct reply *r)
{
	struct th_reply *tr = r->data;
	struct conversation *c = store_get("threads", tr->conv_key);
	if (c)
		store_message(c, tr->reply_id, "assistant", r->plan.text, clock_now_ms());
}

static void send_failure(struct reply *r)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "type", "error");
	cJSON_AddStringToObject(o, "message", r->plan.fault_message ? r->plan.fault_message : "Server processing error");
	reply_write_json(r, o);
	cJSON_Delete(o);
	if (break_on(BRK_TH_CLOSE_ON_ERROR) && !r->gone)
		ws_close(r->conn, 1000, "error");
}

static void send_malformed(struct reply *r)
{
	reply_write_str(r, "{\"type\":\"message\",");
}

static void release_reply(struct reply *r)
{
	free(r->data);
}

static const struct reply_ops th_reply = {
	.token = send_part,
	.end = store_reply,
	.error = send_failure,
	.malformed = send_malformed,
	.release = release_reply,
};

/* The reply's sink: r->conn is the ws_conn that asked. */
static void sink_write(struct reply *r, const char *p, size_t n)
{
	ws_send_text(r->conn, p, n);
}

/* The reply is complete: the frames that waited for it go in, in order. */
static void sink_finish(struct reply *r)
{
	struct th_conn *tc = ws_data(r->conn);
	tc->reply = NULL;
	th_process_next(tc);
}

static void sink_release(struct reply *r)
{
	struct th_conn *tc = ws_data(r->conn);
	if (tc->reply == r)
		tc->reply = NULL;
	ws_reply_release(r);
}

static const struct reply_sink th_sink = {
	.write = sink_write,
	.pending = ws_reply_pending,
	.watch = ws_reply_watch,
	.finish = sink_finish,
	.cut = ws_reply_cut,
	.release = sink_release,
};

static void th_message(struct th_conn *tc, const cJSON *msg)
{
	const char *thread_id;
	const cJSON *content = cJSON_GetObjectItemCaseSensitive(msg, "content");
	char number[32];
	cJSON as_text = { .type = cJSON_String | cJSON_IsReference, .valuestring = number };
	if (cJSON_IsNumber(content) && break_on(BRK_TH_NUMBER_STRING)) {
		snprintf(number, sizeof(number), "%.17g", content->valuedouble);
		content = &as_text;
	}
	bool content_ok = cJSON_IsString(content) && *content->valuestring;
	if (!content_ok && break_on(BRK_TH_CHECK_ORDER)) {
		send_error(tc, "Message content is required");
		return;
	}
	if (!thread_ok(tc, msg, &thread_id))
		return;
	const cJSON *agent = cJSON_GetObjectItemCaseSensitive(msg, "agent_id");
	if (agent && !cJSON_IsNull(agent) && (!cJSON_IsString(agent) || !is_uuid(agent->valuestring))) {
		if (content_ok && break_on(BRK_TH_REFUSED_STORED)) {
			char key[128];
			conv_key(tc, thread_id, key, sizeof(key));
			struct conversation *kept = store_get("threads", key);
			if (!kept)
				kept = store_create("threads", key, tc->profile, NULL);
			if (kept)
				store_message(kept, "00000000-0000-4000-8000-000000000000", "user", content->valuestring,
					      clock_now_ms());
		}
		send_error(tc, "Invalid agent ID format");
		return;
	}
	if (!content_ok) {
		send_error(tc, "Message content is required");
		return;
	}
	if (tc->reply)
		reply_gone(tc->reply);  /* only under the out-of-order break: the reply in flight is dropped */
	struct th_reply *tr = calloc(1, sizeof(*tr));
	if (tr)
		conv_key(tc, thread_id, tr->conv_key, sizeof(tr->conv_key));
	struct conversation *c = tr ? store_get("threads", tr->conv_key) : NULL;
	if (tr && !c)
		c = store_create("threads", tr->conv_key, tc->profile, NULL);
	if (!c) {
		free(tr);
		send_error(tc, "Server processing error");
		return;
	}
	char user_id[40], job_id[40];
	new_uuid(user_id);
	new_uuid(job_id);
	new_uuid(tr->reply_id);
	snprintf(tr->thread_id, sizeof(tr->thread_id), "%s", thread_id);
	if (!break_on(BRK_TH_USER_NOT_STORED))
		store_message(c, user_id, "user", content->valuestring, clock_now_ms());

	cJSON *ack = cJSON_CreateObject();
	cJSON_AddStringToObject(ack, "type", "message_received");
	cJSON_AddStringToObject(ack, "id", user_id);
	cJSON_AddStringToObject(ack, "thread_id", thread_id);
	cJSON_AddStringToObject(ack, "job_id", job_id);
	if (!break_on(BRK_TH_NO_ACK))
		ws_send_json(tc->ws, ack);
	cJSON_Delete(ack);

	const char *agent_id = cJSON_IsString(agent) ? agent->valuestring : NULL;
	struct reply_plan plan;
	script_plan("threads", agent_id, content->valuestring, &plan);
	if (plan.fault != FAULT_NONE && break_on(BRK_TH_FAULT_LOSES))
		store_clear(c);
	if (plan.fault == FAULT_HTTP_ERROR) {
		send_error(tc, plan.fault_message ? plan.fault_message : "Server processing error");
		plan_release(&plan);
		free(tr);
		return;
	}
	tc->reply = reply_start(&th_reply, tr, &th_sink, tc->ws, &plan);
	if (!tc->reply) {
		plan_release(&plan);
		free(tr);
		send_error(tc, "Server processing error");
		return;
	}
	if (break_on(BRK_TH_HELD_REPLY))
		reply_hold(tc->reply);
	reply_run(tc->reply);
}

/* Handle one client frame. */
static void th_frame(struct th_conn *tc, const char *text, size_t len)
{
	cJSON *msg = mockd_parse_json(text, len);
	if (!msg) {
		send_error(tc, "Invalid JSON");
		return;
	}
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(msg, "type");
	const char *t = cJSON_IsString(type) ? type->valuestring : NULL;
	if (t && strcmp(t, "history") == 0) {
		th_history(tc, msg);
	} else if (t && strcmp(t, "message") == 0) {
		th_message(tc, msg);
	} else {
		char err[160];
		/* The reference implementation prints Python's None for a missing type. */
		snprintf(err, sizeof(err), "Unknown message type: %.100s", t ? t : "None");
		send_error(tc, err);
	}
	cJSON_Delete(msg);
}

/* Handle queued frames until one starts a reply (which resumes the queue when it is sent). */
static void th_process_next(struct th_conn *tc)
{
	struct ws_msg *m;
	bool in_order = !break_on(BRK_TH_OUT_OF_ORDER);
	while ((!tc->reply || !in_order) && !ws_closing(tc->ws) && (m = ws_inbox_pop(&tc->inbox))) {
		th_frame(tc, m->text, m->len);
		ws_msg_free(m);
	}
}

static void th_on_text(struct ws_conn *ws, const char *text, size_t len)
{
	struct th_conn *tc = ws_data(ws);
	if (ws_inbox_push(&tc->inbox, text, len) < 0) {
		send_error(tc, "Too many messages waiting; wait for the reply");
		return;
	}
	th_process_next(tc);
}

static void th_on_close(struct ws_conn *ws)
{
	struct th_conn *tc = ws_data(ws);
	/* The reply is a job (its ack has a job_id): it completes and is stored whoever is listening. */
	if (tc->reply && break_on(BRK_TH_REPLY_DIES))
		reply_gone(tc->reply);
	else if (tc->reply)
		reply_detach(tc->reply);
	ws_inbox_release(&tc->inbox);
	free(tc);
}

static const struct ws_ops th_ops = { th_on_text, th_on_close };

/* ---- the handshake ------------------------------------------------------------------------- */

static void th_error(struct mreq *r, int status, const char *code, const char *message)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "type", "error");
	cJSON_AddStringToObject(o, "message", message ? message : "error");
	reply_json(r, status, o);
}

static void th_connect(struct mreq *r)
{
	/* ?key= is checked before ?token=; a key that is given but wrong is not rescued by a token. */
	const char *key = mreq_query(r, "key"), *token = mreq_query(r, "token");
	struct api_key *k = key ? keys_find_kind("threads", "key", key)
				: token ? keys_find_kind("threads", "token", token) : NULL;
	if (!k && key && token && break_on(BRK_TH_KEY_ORDER))
		k = keys_find_kind("threads", "token", token);
	if (!k && key && is_uuid(key) && break_on(BRK_TH_ANY_UUID_KEY))
		k = keys_first_kind("threads", "key");
	if (!k) {
		th_error(r, break_on(BRK_TH_REFUSE_403) ? 403 : 401, NULL,
			 key || token ? "Invalid authentication" : "Missing authentication: give ?key= or ?token=");
		return;
	}
	struct th_conn *tc = calloc(1, sizeof(*tc));
	if (!tc) {
		th_error(r, 500, NULL, "Server processing error");
		return;
	}
	snprintf(tc->profile, sizeof(tc->profile), "%s", k->user_id);
	tc->inbox.max = TH_MAX_PENDING;
	tc->ws = ws_accept(r, &th_ops, tc);
	if (!tc->ws)
		free(tc);
}

static void th_init(void)
{
	api_route("GET", "/chat/ws", &threads_api, th_connect);
}

static const char *const th_prefixes[] = { "/chat/ws", NULL };

const struct api threads_api = {
	.name = "threads",
	.bit = API_THREADS,
	.prefixes = th_prefixes,
	.init = th_init,
	.reset = NULL,
	.error = th_error,
};
