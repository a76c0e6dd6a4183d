#include "mockd/journal.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "common/timeutil.h"
#include "common/utf8.h"
#include "mockd/mockd.h"

static struct journal_rec *ring;  /* cap records, or NULL when the journal is off */
static size_t cap;
static size_t next;               /* where the next record goes */
static size_t count;              /* records held, at most cap */
static uint64_t seq;

int journal_init(size_t n)
{
	journal_release();
	if (n > JOURNAL_MAX)
		return -1;
	if (n == 0)
		return 0;
	ring = calloc(n, sizeof(*ring));
	if (!ring)
		return -1;
	cap = n;
	return 0;
}

void journal_release(void)
{
	free(ring);
	ring = NULL;
	cap = next = count = 0;
}

void journal_reset(void)
{
	next = count = 0;
}

#define UTF8_CONT(c) (((unsigned char)(c) & 0xC0) == 0x80)

/*
 * How much of s[0..n) fits in max bytes, cut before a character that would not
 * fit whole. O(1): a character has at most 3 continuation bytes, so unlike
 * utf8_truncate it looks back no further; past that it is not UTF-8, and a
 * plain cut does.
 */
static size_t cut_len(const char *s, size_t n, size_t max)
{
	if (n <= max)
		return n;
	size_t k = max;
	for (int i = 0; i < 3 && k > 0 && UTF8_CONT(s[k]); i++)
		k--;
	return UTF8_CONT(s[k]) ? max : k;
}

/* Copy what fits of s[0..n) into out[max + 1], NUL-terminated; the length kept. */
static size_t copy_bounded(char *out, const char *s, size_t n, size_t max)
{
	size_t k = cut_len(s, n, max);
	memcpy(out, s, k);
	out[k] = '\0';
	return k;
}

void journal_record(const struct mreq *r)
{
	if (!ring)
		return;
	struct journal_rec *e = &ring[next];
	next = (next + 1) % cap;
	if (count < cap)
		count++;

	e->seq = ++seq;
	e->at_ms = r->at_ms;
	e->duration_us = mono_us() - r->started_us;
	e->method = r->method;
	e->api = r->owner ? r->owner->name : "";
	e->status = r->status;
	e->flags = 0;
	copy_bounded(e->peer, r->peer, strnlen(r->peer, sizeof(r->peer)), sizeof(e->peer) - 1);
	const char *path = r->path ? r->path : "";
	size_t n = strlen(path);
	if (copy_bounded(e->path, path, n, sizeof(e->path) - 1) < n)
		e->flags |= JOURNAL_PATH_CUT;
	const char *q = r->query_raw ? r->query_raw : "";
	n = strlen(q);
	if (copy_bounded(e->query, q, n, sizeof(e->query) - 1) < n)
		e->flags |= JOURNAL_QUERY_CUT;
	/* A body over MOCKD_MAX_BODY was never read (r->body is NULL): counted, not kept. */
	e->body_bytes = r->body_len;
	e->body_kept = 0;
	if (r->body) {
		/* No NUL in body[]: the body may hold NULs, and all CAP bytes are for it. */
		e->body_kept = cut_len(r->body, r->body_len, JOURNAL_BODY_CAP);
		memcpy(e->body, r->body, e->body_kept);
	}
	if (e->body_kept < e->body_bytes)
		e->flags |= JOURNAL_BODY_CUT;
}

/* The body as today's journal showed it: JSON when it parses, else text when it is UTF-8. */
static void add_body(cJSON *o, const struct journal_rec *e)
{
	if (e->body_bytes == 0)
		return;
	if (!(e->flags & JOURNAL_BODY_CUT)) {
		cJSON *json = mockd_parse_json(e->body, e->body_kept);
		if (json) {
			cJSON_AddItemToObject(o, "body", json);
			return;
		}
	}
	char text[JOURNAL_BODY_CAP + 1];
	memcpy(text, e->body, e->body_kept);
	text[e->body_kept] = '\0';
	/* cJSON strings end at a NUL: what comes before it is shown, as before. */
	if (e->body_kept && utf8_valid(text, strlen(text)))
		cJSON_AddStringToObject(o, "body", text);
	cJSON_AddNumberToObject(o, "body_bytes", (double)e->body_bytes);
	if (e->flags & JOURNAL_BODY_CUT)
		cJSON_AddBoolToObject(o, "truncated", 1);
}

static cJSON *entry_json(const struct journal_rec *e)
{
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	char when[40];
	iso8601_format(e->at_ms, when, sizeof(when));
	cJSON_AddNumberToObject(o, "seq", (double)e->seq);
	cJSON_AddStringToObject(o, "at", when);
	cJSON_AddNumberToObject(o, "at_ms", (double)e->at_ms);
	cJSON_AddNumberToObject(o, "duration_ms", (double)e->duration_us / 1000.0);
	cJSON_AddStringToObject(o, "method", e->method);
	cJSON_AddStringToObject(o, "path", e->path);
	if (e->flags & JOURNAL_PATH_CUT)
		cJSON_AddBoolToObject(o, "path_truncated", 1);
	cJSON_AddStringToObject(o, "query", e->query);
	if (e->flags & JOURNAL_QUERY_CUT)
		cJSON_AddBoolToObject(o, "query_truncated", 1);
	cJSON_AddStringToObject(o, "api", e->api);
	cJSON_AddStringToObject(o, "client", e->peer);
	cJSON_AddNumberToObject(o, "status", e->status);
	add_body(o, e);
	return o;
}

int journal_write(struct evbuffer *out, int64_t since, int limit)
{
	size_t want = limit <= 0 ? JOURNAL_PAGE_DEFAULT : limit > JOURNAL_PAGE_MAX ? JOURNAL_PAGE_MAX : (size_t)limit;
	/* The ring holds the consecutive seqs oldest..seq; the record of seq x is (seq - x) places behind next. */
	uint64_t oldest = seq - count + 1, first = oldest, missed = 0;
	if (since >= 0 && (uint64_t)since + 1 > oldest)
		first = (uint64_t)since + 1;
	else if (since >= 0)
		missed = oldest - ((uint64_t)since + 1);  /* overwritten, or forgotten by a reset */
	size_t avail = count && first <= seq ? (size_t)(seq - first + 1) : 0;
	if (want > avail)
		want = avail;
	if (since < 0)
		first = seq - want + 1;  /* the newest page */
	if (evbuffer_add(out, "{\"entries\":[", 12) < 0)
		return -1;
	for (size_t k = 0; k < want; k++) {
		const struct journal_rec *e = &ring[(next + cap - 1 - (size_t)(seq - (first + k))) % cap];
		cJSON *o = entry_json(e);
		char *text = o ? cJSON_PrintUnformatted(o) : NULL;
		cJSON_Delete(o);
		int rc = text && (k == 0 || evbuffer_add(out, ",", 1) == 0) ?
				 evbuffer_add(out, text, strlen(text)) : -1;
		cJSON_free(text);
		if (rc < 0)
			return -1;
	}
	uint64_t last = want ? first + want - 1 : seq;
	if (evbuffer_add_printf(out, "],\"next\":%llu,\"more\":%s", (unsigned long long)last,
				count && last < seq ? "true" : "false") < 0)
		return -1;
	if (missed && evbuffer_add_printf(out, ",\"missed\":%llu", (unsigned long long)missed) < 0)
		return -1;
	return evbuffer_add(out, "}", 1);
}

cJSON *journal_usage_json(void)
{
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	cJSON_AddNumberToObject(o, "entries", (double)count);
	cJSON_AddNumberToObject(o, "max", (double)cap);
	cJSON_AddNumberToObject(o, "bytes", (double)(count * sizeof(struct journal_rec)));
	cJSON_AddNumberToObject(o, "max_bytes", (double)(cap * sizeof(struct journal_rec)));
	cJSON_AddNumberToObject(o, "record_bytes", (double)sizeof(struct journal_rec));
	cJSON_AddNumberToObject(o, "last_seq", (double)seq);
	return o;
}
