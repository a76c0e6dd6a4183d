/*
 * admin: mockd's control API under /__admin/ (docs/mockd.md).
 *
 * Open on loopback listeners only, unless --admin-token is given: then it is
 * open everywhere and every call needs "Authorization: Bearer TOKEN".
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/json.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "mockd/apis/apis.h"
#include "mockd/admin.h"
#include "mockd/breaks.h"
#include "mockd/clock.h"
#include "mockd/journal.h"
#include "mockd/keys.h"
#include "mockd/lifecycle.h"
#include "mockd/mockd.h"
#include "mockd/ratelimit.h"
#include "mockd/reply.h"
#include "mockd/script.h"
#include "mockd/store.h"
#include "mockd/stream.h"
#include "mockd/ws.h"

static void admin_error(struct mreq *r, int status, const char *code, const char *message)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "error", message ? message : "error");
	reply_json(r, status, o);
}

/* False (and answered) when the caller may not use the admin API. */
static bool admin_allowed(struct mreq *r)
{
	const char *token = mockd_cfg.admin_token;
	if (!token) {
		if (mreq_is_loopback(r))
			return true;
		admin_error(r, 403, NULL, "the admin API is only open on loopback (start mockd with --admin-token)");
		return false;
	}
	const char *auth = mreq_header(r, "Authorization");
	size_t n = strlen(token);
	if (auth && strncmp(auth, "Bearer ", 7) == 0 && strlen(auth + 7) == n &&
	    CRYPTO_memcmp(auth + 7, token, n) == 0)
		return true;
	reply_header(r, "WWW-Authenticate", "Bearer realm=\"mockd admin\"");
	admin_error(r, 401, NULL, "the admin API needs Authorization: Bearer <admin token>");
	return false;
}

static void clock_json(cJSON *o)
{
	char now[40];
	iso8601_format(clock_now_ms(), now, sizeof(now));
	cJSON_AddStringToObject(o, "now", now);
	cJSON_AddNumberToObject(o, "now_ms", (double)clock_now_ms());
	cJSON_AddNumberToObject(o, "offset_ms", (double)clock_offset_ms());
}

static void admin_health(struct mreq *r)
{
	if (!admin_allowed(r))
		return;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "status", "ok");
	cJSON_AddStringToObject(o, "version", CHATCONFORM_VERSION);
	cJSON *apis = cJSON_AddArrayToObject(o, "apis");
	for (const struct api *const *a = all_apis; *a; a++)
		if ((mockd_cfg.apis & (*a)->bit) && (*a)->bit != API_ADMIN)
			cJSON_AddItemToArray(apis, cJSON_CreateString((*a)->name));
	cJSON_AddItemToObject(o, "breaks", breaks_active_json());
	cJSON_AddNumberToObject(o, "open_streams", (double)stream_count());
	cJSON_AddNumberToObject(o, "conversations", (double)store_count());
	/* Each budget with its use: cheap sums, O(conversations) nowhere (the store keeps its totals). */
	cJSON *store = cJSON_AddObjectToObject(o, "store");
	cJSON_AddNumberToObject(store, "conversations", (double)store_count());
	cJSON_AddNumberToObject(store, "messages", (double)store_message_count());
	cJSON_AddNumberToObject(store, "bytes", (double)store_bytes());
	cJSON_AddNumberToObject(store, "max_bytes", (double)store_max_bytes());
	cJSON_AddItemToObject(o, "journal", journal_usage_json());
	cJSON_AddItemToObject(o, "rules", script_usage_json());
	cJSON *replies = cJSON_AddObjectToObject(o, "replies");
	cJSON_AddNumberToObject(replies, "open", (double)reply_count());
	cJSON_AddNumberToObject(replies, "queued_bytes", (double)reply_pending_total());
	cJSON *ws = cJSON_AddObjectToObject(o, "websockets");
	cJSON_AddNumberToObject(ws, "open", (double)ws_count());
	cJSON_AddNumberToObject(ws, "queued_bytes", (double)ws_pending_total());
	cJSON_AddNumberToObject(o, "time_scale", mockd_cfg.time_scale);
	clock_json(o);
	reply_json(r, 200, o);
}

static void admin_reset(struct mreq *r)
{
	if (!admin_allowed(r))
		return;
	struct buf err;
	buf_init(&err, 4096);
	if (lifecycle_reset(&err) < 0) {
		admin_error(r, 500, NULL, buf_str(&err));
	} else {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddBoolToObject(o, "reset", 1);
		reply_json(r, 200, o);
	}
	buf_release(&err);
}

static void admin_scripts_list(struct mreq *r)
{
	if (!admin_allowed(r))
		return;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "rules", script_list());
	reply_json(r, 200, o);
}

/* 400 (or 413 past a limit) with every problem: "error" holds them all, "problems" one a line. */
static void admin_problems(struct mreq *r, int status, const struct buf *err)
{
	cJSON *o = cJSON_CreateObject(), *list = cJSON_AddArrayToObject(o, "problems");
	size_t len = err->len;
	while (len && buf_str(err)[len - 1] == '\n')
		len--;
	char *all = strndup(buf_str(err), len);
	cJSON_AddStringToObject(o, "error", all ? all : "error");
	for (const char *p = all ? all : ""; *p;) {
		size_t n = strcspn(p, "\n");
		char *line = strndup(p, n);
		if (line)
			cJSON_AddItemToArray(list, cJSON_CreateString(line));
		free(line);
		p += n + (p[n] == '\n');
	}
	free(all);
	reply_json(r, status, o);
}

static void admin_scripts_add(struct mreq *r)
{
	if (!admin_allowed(r))
		return;
	if (r->body_too_big) {
		admin_error(r, 413, NULL, "the body is larger than the 2 MiB a request may have");
		return;
	}
	struct buf err;
	buf_init(&err, 64 * 1024);
	cJSON *ids = cJSON_CreateArray();
	int rc = script_add_text(r->body ? r->body : "", r->body_len, ids, &err);
	if (rc != SCRIPT_OK) {
		cJSON_Delete(ids);
		admin_problems(r, rc == SCRIPT_FULL ? 413 : 400, &err);
	} else {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "added", cJSON_GetArraySize(ids));
		cJSON_AddItemToObject(o, "ids", ids);
		reply_json(r, 201, o);
	}
	buf_release(&err);
}

static void admin_scripts_clear(struct mreq *r)
{
	if (!admin_allowed(r))
		return;
	script_clear_runtime();
	cJSON *o = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "cleared", 1);
	reply_json(r, 200, o);
}

/* A whole number from 0 to max in *out; false when text is not one. */
static bool query_number(const char *text, long long max, long long *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(text, &end, 10);
	if (end == text || *end || errno || v < 0 || v > max || *text == '+' || *text == ' ')
		return false;
	*out = v;
	return true;
}

/* GET /__admin/journal[?since=SEQ][&limit=N]: one page of the journal (journal_write says which). */
static void admin_journal(struct mreq *r)
{
	if (!admin_allowed(r))
		return;
	const char *since_q = mreq_query(r, "since"), *limit_q = mreq_query(r, "limit");
	long long since = -1, limit = 0;
	if (since_q && !query_number(since_q, INT64_MAX, &since)) {
		admin_error(r, 400, NULL, "since: expected the seq of an entry (a whole number >= 0)");
		return;
	}
	if (limit_q && (!query_number(limit_q, INT_MAX, &limit) || limit < 1)) {
		admin_error(r, 400, NULL, "limit: expected a whole number >= 1 (pages hold 1,000 entries at most)");
		return;
	}
	/* Written entry by entry, one page at most: a read never holds every entry's tree, nor all their text. */
	struct evbuffer *out = evbuffer_new();
	if (!out || journal_write(out, since, (int)limit) < 0)
		reply_raw(r, 500, "application/json; charset=utf-8", "{\"error\":\"out of memory\"}", 25);
	else
		reply_buffer(r, 200, "application/json; charset=utf-8", out);
	if (out)
		evbuffer_free(out);
}

void admin_journal_cb(const struct mreq *r, void *arg)
{
	if (r->owner != api_owner(&admin_api))
		journal_record(r);
}

static void admin_clock(struct mreq *r)
{
	if (!admin_allowed(r))
		return;
	cJSON *o = cJSON_CreateObject();
	clock_json(o);
	reply_json(r, 200, o);
}

static void admin_clock_advance(struct mreq *r)
{
	if (!admin_allowed(r))
		return;
	cJSON *json = mreq_json(r);
	const cJSON *secs = cJSON_GetObjectItemCaseSensitive(json, "seconds");
	const cJSON *ms = cJSON_GetObjectItemCaseSensitive(json, "ms");
	double by = cJSON_IsNumber(secs) ? secs->valuedouble * 1000 : cJSON_IsNumber(ms) ? ms->valuedouble : -1;
	cJSON_Delete(json);
	if (by < 0 || by > 1e13) {
		admin_error(r, 400, NULL, "give {\"seconds\": N} or {\"ms\": N} with N >= 0 (the clock only moves forward)");
		return;
	}
	clock_advance((int64_t)by);
	cJSON *o = cJSON_CreateObject();
	clock_json(o);
	reply_json(r, 200, o);
}

/* POST /__admin/clock {"set": "ISO 8601"}: the clock reads that time now, and ticks on from there. */
static void admin_clock_set(struct mreq *r)
{
	if (!admin_allowed(r))
		return;
	cJSON *json = mreq_json(r);
	const cJSON *set = cJSON_GetObjectItemCaseSensitive(json, "set");
	int64_t when = 0;
	bool ok = cJSON_IsString(set) && iso8601_parse(set->valuestring, &when) == 0 && when >= 0;
	cJSON_Delete(json);
	if (!ok) {
		admin_error(r, 400, NULL, "give {\"set\": \"2026-03-01T12:00:00Z\"} (an ISO 8601 date and time)");
		return;
	}
	clock_set(when);
	cJSON *o = cJSON_CreateObject();
	clock_json(o);
	reply_json(r, 200, o);
}

static void admin_ratelimits(struct mreq *r)
{
	if (!admin_allowed(r))
		return;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "windows", ratelimit_snapshot(clock_now_ms()));
	reply_json(r, 200, o);
}

static void admin_init(void)
{
	api_route("GET", "/__admin/health", &admin_api, admin_health);
	api_route("POST", "/__admin/reset", &admin_api, admin_reset);
	api_route("GET", "/__admin/scripts", &admin_api, admin_scripts_list);
	api_route("POST", "/__admin/scripts", &admin_api, admin_scripts_add);
	api_route("DELETE", "/__admin/scripts", &admin_api, admin_scripts_clear);
	api_route("POST", "/__admin/scripts/clear", &admin_api, admin_scripts_clear);
	api_route("GET", "/__admin/journal", &admin_api, admin_journal);
	api_route("GET", "/__admin/clock", &admin_api, admin_clock);
	api_route("POST", "/__admin/clock", &admin_api, admin_clock_set);
	api_route("POST", "/__admin/clock/advance", &admin_api, admin_clock_advance);
	api_route("GET", "/__admin/ratelimits", &admin_api, admin_ratelimits);
}

static const char *const admin_prefixes[] = { "/__admin/", NULL };

const struct api admin_api = {
	.name = "admin",
	.bit = API_ADMIN,
	.prefixes = admin_prefixes,
	.init = admin_init,
	.reset = NULL,
	.error = admin_error,
};
