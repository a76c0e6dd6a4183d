/*
 * fuzz_scripts: mockd's scripts loader (mockd/script.c, --scripts FILE) on arbitrary files,
 * and the rules it loads answering messages.
 *
 * script_load on the input either loads every rule with nothing in err, or
 * loads none: SCRIPT_BAD with each problem on a "FILE:LINE:COL: ..." line
 * (only "and N more problems" has no position), or SCRIPT_FULL naming the file.
 * The same text added at run time (script_add_text, as POST /__admin/scripts
 * does) is accepted or refused alike and gives one id per rule.  Loaded rules
 * are listed with ids; a few messages taken from the rules and from the input,
 * for every API, with and without the rules' models, get plans whose tokens
 * make their text, whose truncation keeps a prefix, and each plan is made
 * within PLAN_MAX_MS (the regex limits hold).  The rules are released between
 * inputs (script_reset, which also restarts the rule numbers), so nothing grows.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "common/buf.h"
#include "common/log.h"
#include "fuzz/fuzz.h"
#include "fuzz/fuzz_file.h"
#include "mockd/keys.h"
#include "mockd/script.h"

#define PLAN_MAX_MS 2000.0     /* one request's plan, under ASan: far above the regex limits */
#define MAX_MESSAGE 4096

static struct fuzz_file file;

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* Every line of err names the file, and with positions every one but "and N more problems". */
static void check_messages(const char *name, const struct buf *err, bool positions)
{
	size_t plen = strlen(name);
	const char *p = buf_str(err);
	FUZZ_CHECK(err->len > 0 && err->data[err->len - 1] == '\n', "refused without a message line: \"%s\"", p);
	while (*p) {
		const char *eol = strchr(p, '\n');
		FUZZ_CHECK(strncmp(p, name, plen) == 0 && p[plen] == ':', "a message that does not name %s: %.*s",
			   name, (int)(eol - p), p);
		const char *q = p + plen + 1;
		if (positions && strncmp(q, " and ", 5) != 0) {
			char *e1, *e2 = NULL;
			long line = strtol(q, &e1, 10);
			long col = *e1 == ':' ? strtol(e1 + 1, &e2, 10) : 0;
			FUZZ_CHECK(e1 != q && *e1 == ':' && e2 && e2 != e1 + 1 && *e2 == ':' && line >= 1 && col >= 1,
				   "a message without FILE:LINE:COL: %.*s", (int)(eol - p), p);
		}
		p = eol + 1;
	}
}

/* How many rules the document holds in each of its three shapes (it loaded, so it is one of them). */
static size_t rules_in(const cJSON *doc)
{
	if (cJSON_IsArray(doc))
		return (size_t)cJSON_GetArraySize(doc);
	if (cJSON_HasObjectItem(doc, "rules"))
		return (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(doc, "rules"));
	return 1;
}

static void check_plan(const char *api, const char *model, const char *msg)
{
	struct reply_plan p;
	double t0 = now_ms();
	script_plan(api, model, msg, &p);
	double ms = now_ms() - t0;
	FUZZ_CHECK(ms < PLAN_MAX_MS, "a plan took %.0f ms (%s, %zu bytes of message)", ms, api, strlen(msg));
	FUZZ_CHECK(p.text && p.answer, "a plan without text or answer");
	FUZZ_CHECK(p.prompt_tokens >= 0 && p.completion_tokens >= 0, "usage %d/%d", p.prompt_tokens,
		   p.completion_tokens);
	size_t off = 0, len = strlen(p.text);
	for (size_t i = 0; i < p.ntokens; i++) {
		size_t n = strlen(p.tokens[i]);
		FUZZ_CHECK(off + n <= len && memcmp(p.text + off, p.tokens[i], n) == 0,
			   "token %zu \"%s\" is not the text's at %zu", i, p.tokens[i], off);
		off += n;
	}
	FUZZ_CHECK(off == len, "the tokens make %zu bytes of a %zu-byte text", off, len);
	bool served = false;
	(void)plan_fault_at(&p, p.fault_after, &served);
	size_t half = p.ntokens / 2, keep = 0;
	for (size_t i = 0; i < half; i++)
		keep += strlen(p.tokens[i]);
	char *before = strdup(p.text);
	plan_truncate(&p, half);
	FUZZ_CHECK(p.ntokens == half && strlen(p.text) == keep && strncmp(before, p.text, keep) == 0,
		   "truncated to %zu tokens: %zu tokens, %zu bytes, not %zu", half, p.ntokens, strlen(p.text), keep);
	free(before);
	plan_release(&p);
}

/* A copy of s cut at MAX_MESSAGE bytes (a message is a C string: the input stops at its first NUL). */
static char *message_of(const char *s, size_t n)
{
	if (n > MAX_MESSAGE)
		n = MAX_MESSAGE;
	return strndup(s, n);
}

static void plan_messages(const uint8_t *data, size_t size)
{
	cJSON *list = script_list();
	char *msgs[8];
	size_t nmsgs = 0;
	msgs[nmsgs++] = message_of((const char *)data, size);
	msgs[nmsgs++] = strdup("");
	const char *models[3] = { NULL, NULL, NULL };
	size_t nmodels = 1;
	const cJSON *r;
	cJSON_ArrayForEach(r, list)
	{
		FUZZ_CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(r, "id")), "a listed rule has no id");
		const cJSON *match = cJSON_GetObjectItemCaseSensitive(r, "match");
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(match, "message");
		const char *text = cJSON_IsString(m) ? m->valuestring : NULL;
		for (const cJSON *k = cJSON_IsObject(m) ? m->child : NULL; k && !text; k = k->next)
			if (cJSON_IsString(k))
				text = k->valuestring;
		if (text && nmsgs < sizeof(msgs) / sizeof(*msgs))
			msgs[nmsgs++] = message_of(text, strlen(text));
		const cJSON *model = cJSON_GetObjectItemCaseSensitive(match, "model");
		if (!model)
			model = cJSON_GetObjectItemCaseSensitive(match, "preset");
		if (cJSON_IsString(model) && nmodels < 3)
			models[nmodels++] = model->valuestring;
	}
	for (size_t i = 0; i < nmsgs; i++)
		for (const char *const *api = keys_api_names(); *api; api++)
			for (size_t j = 0; j < nmodels; j++)
				check_plan(*api, models[j], msgs[i]);
	for (size_t i = 0; i < nmsgs; i++)
		free(msgs[i]);
	cJSON_Delete(list);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool setup;
	struct buf err;
	unsigned files = 99;
	size_t count, bytes, max_bytes;
	if (!setup) {
		log_setup("fuzz_scripts", LOG_TEXT, LOG_ERROR);   /* a regex that gives up is logged: not here */
		setup = true;
	}
	if (size > 1024 * 1024)
		return 0;
	const char *path = fuzz_file_put(&file, "fuzz-scripts.json", data, size);
	buf_init(&err, 1u << 20);

	/* The same text as a request body: accepted or refused alike, one id per rule. */
	cJSON *ids = cJSON_CreateArray();
	int body_rc = script_add_text((const char *)data, size, ids, &err);
	script_usage(&count, &bytes, &max_bytes);
	if (body_rc == SCRIPT_OK) {
		FUZZ_CHECK(err.len == 0, "added with messages: %s", buf_str(&err));
		FUZZ_CHECK(count == (size_t)cJSON_GetArraySize(ids), "%zu rules in force, %d ids", count,
			   cJSON_GetArraySize(ids));
	} else {
		check_messages("body", &err, body_rc == SCRIPT_BAD);
		FUZZ_CHECK(count == 0 && bytes == 0, "a refused body left %zu rules, %zu bytes", count, bytes);
	}
	cJSON_Delete(ids);
	script_clear_runtime();
	script_usage(&count, &bytes, &max_bytes);
	FUZZ_CHECK(count == 0 && bytes == 0, "cleared: %zu rules, %zu bytes are left", count, bytes);
	buf_reset(&err);

	int rc = script_load(path, &files, &err);
	FUZZ_CHECK(rc == body_rc, "the file gives %d, the same text as a body %d: %s", rc, body_rc, buf_str(&err));
	script_usage(&count, &bytes, &max_bytes);
	if (rc == SCRIPT_OK) {
		FUZZ_CHECK(err.len == 0, "loaded with messages: %s", buf_str(&err));
		FUZZ_CHECK(files == 1, "one file read as %u", files);
		cJSON *doc = cJSON_ParseWithLength((const char *)data, size);
		FUZZ_CHECK(doc, "loaded what cJSON does not parse");
		FUZZ_CHECK(count == rules_in(doc), "%zu rules in force, the file has %zu", count, rules_in(doc));
		cJSON_Delete(doc);
		plan_messages(data, size);
		FUZZ_CHECK(script_reset(path, &err) == SCRIPT_OK, "loaded once, not twice: %s", buf_str(&err));
		size_t again;
		script_usage(&again, &bytes, &max_bytes);
		FUZZ_CHECK(again == count, "loaded again: %zu rules, not %zu", again, count);
	} else {
		check_messages(path, &err, rc == SCRIPT_BAD);
		FUZZ_CHECK(files == 0, "a refused file counts %u files", files);
		FUZZ_CHECK(count == 0 && bytes == 0, "a refused file left %zu rules, %zu bytes", count, bytes);
	}
	script_reset(NULL, &err);
	buf_release(&err);
	return 0;
}
