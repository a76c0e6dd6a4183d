#include "runner/record.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/json.h"

/* Where each API's streams carry their tokens. */
struct token_field {
	const char *api;
	const char *type;        /* the event type of a token */
	const char *pointer;     /* its text */
};

static const struct token_field token_fields[] = {
	{ "widget", "token", "/token" },
	{ "deepwiki", "content", "/content" },
	{ "botchat", "content", "/text" },
};

struct recorder {
	char *dir;
	pthread_mutex_t lock;
	cJSON *by_api;           /* {"widget": [rules...], ...} */
	cJSON *seen;             /* {"api\nmessage": true}: the first answer to a message wins */
	int count;
};

struct recorder *recorder_new(const char *dir, struct buf *err)
{
	if (mkdir(dir, 0777) < 0 && errno != EEXIST) {
		buf_printf(err, "cannot create the folder %s: %s", dir, strerror(errno));
		return NULL;
	}
	struct recorder *r = calloc(1, sizeof(*r));
	if (!r || !(r->dir = strdup(dir))) {
		free(r);
		buf_printf(err, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&r->lock, NULL);
	r->by_api = cJSON_CreateObject();
	r->seen = cJSON_CreateObject();
	return r;
}

void recorder_free(struct recorder *r)
{
	if (!r)
		return;
	pthread_mutex_destroy(&r->lock);
	cJSON_Delete(r->by_api);
	cJSON_Delete(r->seen);
	free(r->dir);
	free(r);
}

static const struct token_field *field_of(const char *api)
{
	for (size_t i = 0; i < sizeof(token_fields) / sizeof(*token_fields); i++)
		if (strcmp(token_fields[i].api, api) == 0)
			return &token_fields[i];
	return NULL;
}

/* The user's message in a request body: "message", else "query" (research), else "content". */
static const char *message_of(const cJSON *request)
{
	const cJSON *json = cJSON_GetObjectItemCaseSensitive(request, "json");
	static const char *const names[] = { "message", "query", "content" };
	for (size_t i = 0; i < 3; i++) {
		const char *m = json_get_string(json, names[i]);
		if (m && *m)
			return m;
	}
	return NULL;
}

static long ms(double v)
{
	return v > 0 ? lround(v) : 0;
}

/* The rule for a stream: its tokens, its pacing, and how it ended. */
static void rule_from_stream(cJSON *rule, const struct token_field *f, const struct response *resp)
{
	cJSON *tokens = cJSON_CreateArray();
	double first = -1, last = -1;
	size_t n = 0;
	const char *ended = NULL;
	for (size_t i = 0; i < resp->nevents; i++) {
		const struct event *e = &resp->events[i];
		if (strcmp(e->type, f->type) == 0) {
			const cJSON *t = json_pointer(e->json, f->pointer);
			if (cJSON_IsString(t)) {
				cJSON_AddItemToArray(tokens, cJSON_CreateString(t->valuestring));
				if (first < 0)
					first = e->at_ms;
				last = e->at_ms;
				n++;
			}
		} else if (strcmp(e->type, "error") == 0) {
			ended = "error_after";
			break;
		}
	}
	cJSON *reply = cJSON_AddObjectToObject(rule, "reply");
	cJSON_AddItemToObject(reply, "tokens", tokens);
	cJSON *timing = cJSON_AddObjectToObject(rule, "timing");
	cJSON_AddNumberToObject(timing, "first_token_ms", (double)ms(first));
	cJSON_AddNumberToObject(timing, "interval_ms", n > 1 ? (double)ms((last - first) / (double)(n - 1)) : 0);
	if (!ended && (resp->transport_error || resp->stream_error))
		ended = "disconnect_after"; /* the stream stopped without its own ending */
	if (ended) {
		cJSON *fault = cJSON_AddObjectToObject(rule, "fault");
		cJSON_AddStringToObject(fault, "type", ended);
		cJSON_AddNumberToObject(fault, "tokens", (double)n);
	}
}

/* The rule for a whole JSON answer: botchat's /api/chat, deepwiki's research. */
static bool rule_from_body(cJSON *rule, const char *api, const struct response *resp)
{
	const cJSON *text = json_pointer(resp->json, "/data/response");
	if (strcmp(api, "botchat") == 0 && cJSON_IsString(text)) {
		cJSON *reply = cJSON_AddObjectToObject(rule, "reply");
		cJSON_AddStringToObject(reply, "text", text->valuestring);
		const cJSON *pt = json_pointer(resp->json, "/data/usage/promptTokens");
		const cJSON *ct = json_pointer(resp->json, "/data/usage/completionTokens");
		if (json_is_integer(pt) && json_is_integer(ct)) {
			cJSON *usage = cJSON_AddObjectToObject(rule, "usage");
			cJSON_AddNumberToObject(usage, "prompt_tokens", pt->valuedouble);
			cJSON_AddNumberToObject(usage, "completion_tokens", ct->valuedouble);
		}
		return true;
	}
	if (strcmp(api, "deepwiki") == 0 && cJSON_GetObjectItemCaseSensitive(resp->json, "research_id")) {
		cJSON *research = cJSON_Duplicate(resp->json, 1);
		cJSON_DeleteItemFromObjectCaseSensitive(research, "research_id"); /* mockd makes a fresh one */
		cJSON_AddItemToObject(rule, "research", research);
		return true;
	}
	return false;
}

void recorder_exchange(void *arg, const struct tcase *c, const cJSON *request, const struct response *resp)
{
	struct recorder *r = arg;
	const char *api = c->suite->name;
	const char *message = message_of(request);
	/* 4xx answers are mockd's own business (keys, validation); only the model's behaviour is recorded. */
	if (!message || resp->status == 0 || (resp->status >= 400 && resp->status < 500))
		return;
	cJSON *rule = cJSON_CreateObject();
	cJSON_AddStringToObject(rule, "api", api);
	cJSON *match = cJSON_AddObjectToObject(rule, "match");
	cJSON *m = cJSON_AddObjectToObject(match, "message");
	cJSON_AddStringToObject(m, "equals", message);
	bool useful = true;
	if (resp->status >= 500) {
		cJSON *fault = cJSON_AddObjectToObject(rule, "fault");
		cJSON_AddStringToObject(fault, "type", "http_error");
		cJSON_AddNumberToObject(fault, "status", (double)resp->status);
		if (resp->json)
			cJSON_AddItemToObject(fault, "body", cJSON_Duplicate(resp->json, 1));
	} else if (resp->format != STREAM_NONE && field_of(api)) {
		rule_from_stream(rule, field_of(api), resp);
	} else {
		useful = resp->json && rule_from_body(rule, api, resp);
	}
	char seen_key[512];
	snprintf(seen_key, sizeof(seen_key), "%s\n%.400s", api, message);
	pthread_mutex_lock(&r->lock);
	if (useful && r->count < RECORD_MAX_RULES && !cJSON_GetObjectItemCaseSensitive(r->seen, seen_key)) {
		char id[128];
		snprintf(id, sizeof(id), "rec-%.80s-%d", c->id, r->count + 1);
		cJSON_AddStringToObject(rule, "id", id);
		cJSON_AddTrueToObject(r->seen, seen_key);
		cJSON *list = cJSON_GetObjectItemCaseSensitive(r->by_api, api);
		if (!list)
			list = cJSON_AddArrayToObject(r->by_api, api);
		cJSON_AddItemToArray(list, rule);
		rule = NULL;
		r->count++;
	}
	pthread_mutex_unlock(&r->lock);
	cJSON_Delete(rule);
}

int recorder_finish(struct recorder *r, struct buf *err)
{
	const cJSON *list;
	cJSON_ArrayForEach(list, r->by_api)
	{
		char path[4096], tmp[4200];
		snprintf(path, sizeof(path), "%s/%s.json", r->dir, list->string);
		snprintf(tmp, sizeof(tmp), "%s.tmp", path);
		cJSON *doc = cJSON_CreateObject();
		cJSON_AddStringToObject(doc, "description", "recorded by chatconform record; replay with mockd --scripts");
		cJSON_AddItemReferenceToObject(doc, "rules", (cJSON *)list);
		char *text = cJSON_Print(doc);
		cJSON_Delete(doc);
		FILE *f = text ? fopen(tmp, "w") : NULL;
		int ok = f && fputs(text, f) >= 0 && fputc('\n', f) != EOF;
		if (f && fclose(f) != 0)
			ok = 0;
		cJSON_free(text);
		if (!ok || rename(tmp, path) < 0) {
			buf_printf(err, "cannot write %s: %s", path, strerror(errno));
			unlink(tmp);
			return -1;
		}
	}
	return r->count;
}
