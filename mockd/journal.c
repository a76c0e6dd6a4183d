#include "mockd/journal.h"

#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/timeutil.h"
#include "common/utf8.h"
#include "mockd/apis/apis.h"
#include "mockd/clock.h"

static cJSON *ring[JOURNAL_MAX];
static size_t ring_next;    /* where the next entry goes */
static unsigned long seq;

void journal_record(const struct mreq *r)
{
	if (r->api && r->api->bit == API_ADMIN)
		return; /* the journal shows the traffic under test, not the test's own control calls */
	cJSON *e = cJSON_CreateObject();
	char when[40];
	iso8601_format(clock_now_ms(), when, sizeof(when));
	cJSON_AddNumberToObject(e, "seq", (double)++seq);
	cJSON_AddStringToObject(e, "at", when);
	cJSON_AddStringToObject(e, "method", r->method);
	cJSON_AddStringToObject(e, "path", r->path ? r->path : "");
	const char *uri = evhttp_request_get_uri(r->req);
	const char *q = uri ? strchr(uri, '?') : NULL;
	cJSON_AddStringToObject(e, "query", q ? q + 1 : "");
	cJSON_AddStringToObject(e, "api", r->api ? r->api->name : "");
	cJSON_AddStringToObject(e, "client", r->peer);
	cJSON_AddNumberToObject(e, "status", r->status);
	if (r->body_too_big) {
		cJSON_AddNumberToObject(e, "body_bytes", (double)r->body_len); /* not kept: over the limit */
	} else if (r->body_len) {
		cJSON *json = r->body_len <= JOURNAL_MAX_BODY ? mreq_json(r) : NULL;
		if (json) {
			cJSON_AddItemToObject(e, "body", json);
		} else {
			size_t n = utf8_truncate(r->body, r->body_len, JOURNAL_MAX_BODY);
			char *text = strndup(r->body, n);
			/* Not JSON: keep it as a string when it is text, else say how long it was. */
			if (text && utf8_valid(text, strlen(text)))
				cJSON_AddStringToObject(e, "body", text);
			cJSON_AddNumberToObject(e, "body_bytes", (double)r->body_len);
			free(text);
		}
	}
	cJSON_Delete(ring[ring_next]);
	ring[ring_next] = e;
	ring_next = (ring_next + 1) % JOURNAL_MAX;
}

cJSON *journal_json(int limit)
{
	cJSON *a = cJSON_CreateArray();
	size_t have = 0;
	for (size_t i = 0; i < JOURNAL_MAX; i++)
		have += ring[i] != NULL;
	size_t want = limit > 0 && (size_t)limit < have ? (size_t)limit : have;
	for (size_t k = 0; k < want; k++) {
		size_t i = (ring_next + JOURNAL_MAX - want + k) % JOURNAL_MAX;
		cJSON_AddItemToArray(a, cJSON_Duplicate(ring[i], 1));
	}
	return a;
}

void journal_reset(void)
{
	for (size_t i = 0; i < JOURNAL_MAX; i++) {
		cJSON_Delete(ring[i]);
		ring[i] = NULL;
	}
	ring_next = 0;
}
