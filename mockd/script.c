#include "mockd/script.h"

#include <dirent.h>
#include <regex.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/tokenize.h"
#include "mockd/mockd.h"

#define SCRIPT_MAX_FILE (4u * 1024 * 1024)

enum match_kind { MATCH_ANY, MATCH_EQUALS, MATCH_CONTAINS, MATCH_REGEX };

struct rule {
	char id[64];
	char *api;               /* NULL: any API */
	char *model;             /* NULL: any model or preset */
	enum match_kind kind;
	char *text;
	regex_t re;
	bool once;
	bool runtime;            /* added through the admin API */
	cJSON *def;              /* the rule as given (listed by the admin API, source of reply/extra) */
	struct rule *next;
};

static struct rule *rules;      /* tried in list order */
static size_t nrules;
static unsigned long next_rule_no;

static const char *const rule_members[] = { "id", "api", "match", "once", "reply", "usage", "timing",
					    "fault", "sources", "research", "description", NULL };
static const char *const fault_names[] = { [FAULT_NONE] = "none",
					   [FAULT_HTTP_ERROR] = "http_error",
					   [FAULT_ERROR_AFTER] = "error_after",
					   [FAULT_DISCONNECT_AFTER] = "disconnect_after",
					   [FAULT_RESET_AFTER] = "reset_after",
					   [FAULT_STALL_AFTER] = "stall_after",
					   [FAULT_MALFORMED_AFTER] = "malformed_after" };

static void rule_free(struct rule *r)
{
	if (r->kind == MATCH_REGEX)
		regfree(&r->re);
	free(r->api);
	free(r->model);
	free(r->text);
	cJSON_Delete(r->def);
	free(r);
}

static bool in_list(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

/* A non-negative whole number member, or def when absent; -1 when present and wrong. */
static long get_count(const cJSON *o, const char *name, long def)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	if (!v)
		return def;
	if (!json_is_integer(v) || v->valuedouble < 0 || v->valuedouble > 1e9)
		return -1;
	return (long)v->valuedouble;
}

static int check_fault(const cJSON *f, const char *where, struct buf *err)
{
	const char *type = json_get_string(f, "type");
	if (!cJSON_IsObject(f) || !type) {
		buf_printf(err, "%s.fault: needs a string \"type\"", where);
		return -1;
	}
	int t = -1;
	for (int i = 1; i < (int)(sizeof(fault_names) / sizeof(*fault_names)); i++)
		if (strcmp(type, fault_names[i]) == 0)
			t = i;
	if (t < 0) {
		buf_printf(err, "%s.fault.type: unknown fault \"%s\" (http_error, error_after, "
			   "disconnect_after, reset_after, stall_after, malformed_after)", where, type);
		return -1;
	}
	if (t == FAULT_HTTP_ERROR) {
		long status = get_count(f, "status", 500);
		if (status < 400 || status > 599) {
			buf_printf(err, "%s.fault.status: must be a status from 400 to 599", where);
			return -1;
		}
	} else if (get_count(f, "tokens", 0) < 0) {
		buf_printf(err, "%s.fault.tokens: must be a whole number >= 0", where);
		return -1;
	}
	if (get_count(f, "ms", 0) < 0) {
		buf_printf(err, "%s.fault.ms: must be a whole number >= 0", where);
		return -1;
	}
	return 0;
}

static int check_reply(const cJSON *reply, const char *where, struct buf *err)
{
	if (!cJSON_IsObject(reply)) {
		buf_printf(err, "%s.reply: must be an object with \"text\" or \"tokens\"", where);
		return -1;
	}
	const cJSON *text = cJSON_GetObjectItemCaseSensitive(reply, "text");
	const cJSON *tokens = cJSON_GetObjectItemCaseSensitive(reply, "tokens");
	if ((text && tokens) || (!text && !tokens)) {
		buf_printf(err, "%s.reply: give exactly one of \"text\" and \"tokens\"", where);
		return -1;
	}
	if (text && !cJSON_IsString(text)) {
		buf_printf(err, "%s.reply.text: must be a string", where);
		return -1;
	}
	if (tokens) {
		const cJSON *t;
		if (!cJSON_IsArray(tokens)) {
			buf_printf(err, "%s.reply.tokens: must be an array of strings", where);
			return -1;
		}
		cJSON_ArrayForEach(t, tokens)
		{
			if (!cJSON_IsString(t)) {
				buf_printf(err, "%s.reply.tokens: must be an array of strings", where);
				return -1;
			}
		}
	}
	return 0;
}

/* Build a rule from its JSON; NULL with "where: what" in err. */
static struct rule *rule_parse(const cJSON *def, const char *where, struct buf *err)
{
	if (!cJSON_IsObject(def)) {
		buf_printf(err, "%s: a rule must be an object", where);
		return NULL;
	}
	const cJSON *m;
	cJSON_ArrayForEach(m, def)
	{
		if (!in_list(m->string, rule_members)) {
			buf_printf(err, "%s: unknown member \"%s\"", where, m->string);
			return NULL;
		}
	}
	struct rule *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	const char *id = json_get_string(def, "id");
	if (id)
		snprintf(r->id, sizeof(r->id), "%s", id);
	else
		snprintf(r->id, sizeof(r->id), "rule-%lu", ++next_rule_no);
	const char *api = json_get_string(def, "api");
	if (api)
		r->api = strdup(api);
	const cJSON *once = cJSON_GetObjectItemCaseSensitive(def, "once");
	r->once = cJSON_IsTrue(once);
	if (once && !cJSON_IsBool(once)) {
		buf_printf(err, "%s.once: must be true or false", where);
		goto fail;
	}
	const cJSON *match = cJSON_GetObjectItemCaseSensitive(def, "match");
	if (match && !cJSON_IsObject(match)) {
		buf_printf(err, "%s.match: must be an object", where);
		goto fail;
	}
	const char *model = json_get_string(match, "model");
	if (!model)
		model = json_get_string(match, "preset");
	if (model)
		r->model = strdup(model);
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(match, "message");
	if (cJSON_IsString(msg)) {
		r->kind = MATCH_EQUALS;
		r->text = strdup(msg->valuestring);
	} else if (cJSON_IsObject(msg)) {
		static const char *const kinds[] = { "equals", "contains", "regex" };
		for (int k = 0; k < 3 && !r->text; k++) {
			const char *s = json_get_string(msg, kinds[k]);
			if (s) {
				r->kind = (enum match_kind)(MATCH_EQUALS + k);
				r->text = strdup(s);
			}
		}
		if (!r->text) {
			buf_printf(err, "%s.match.message: needs \"equals\", \"contains\" or \"regex\"", where);
			goto fail;
		}
		if (r->kind == MATCH_REGEX && regcomp(&r->re, r->text, REG_EXTENDED | REG_NOSUB) != 0) {
			r->kind = MATCH_ANY; /* nothing to regfree */
			buf_printf(err, "%s.match.message.regex: not a valid regular expression", where);
			goto fail;
		}
	} else if (msg) {
		buf_printf(err, "%s.match.message: must be a string or an object", where);
		goto fail;
	}
	const cJSON *reply = cJSON_GetObjectItemCaseSensitive(def, "reply");
	if (reply && check_reply(reply, where, err) < 0)
		goto fail;
	const cJSON *fault = cJSON_GetObjectItemCaseSensitive(def, "fault");
	if (fault && check_fault(fault, where, err) < 0)
		goto fail;
	const cJSON *timing = cJSON_GetObjectItemCaseSensitive(def, "timing");
	const cJSON *scaled = cJSON_GetObjectItemCaseSensitive(timing, "scaled");
	if (scaled && !cJSON_IsBool(scaled)) {
		buf_printf(err, "%s.timing.scaled: must be true or false", where);
		goto fail;
	}
	if (timing && (!cJSON_IsObject(timing) || get_count(timing, "first_token_ms", 0) < 0 ||
		       get_count(timing, "interval_ms", 0) < 0 || get_count(timing, "jitter_ms", 0) < 0)) {
		buf_printf(err, "%s.timing: first_token_ms, interval_ms and jitter_ms are whole numbers >= 0",
			   where);
		goto fail;
	}
	r->def = cJSON_Duplicate(def, 1);
	return r;
fail:
	rule_free(r);
	return NULL;
}

/* The rules in a JSON document: a rule, an array of rules, or {"rules": [...]}. */
static const cJSON *rules_of(const cJSON *json, bool *single)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(json, "rules");
	*single = false;
	if (cJSON_IsObject(json) && list)
		return list;
	if (cJSON_IsArray(json))
		return json;
	*single = true;
	return json;
}

/* Parse every rule of json into a chain; -1 with err and nothing kept. */
static int parse_all(const cJSON *json, const char *origin, bool runtime, struct rule **head,
		     struct rule **tail, size_t *count, struct buf *err)
{
	bool single;
	const cJSON *list = rules_of(json, &single);
	*head = *tail = NULL;
	*count = 0;
	if (!single && !cJSON_IsArray(list)) {
		buf_printf(err, "%s.rules: must be an array", origin);
		return -1;
	}
	const cJSON *item = single ? list : list->child;
	for (size_t i = 0; item; i++, item = single ? NULL : item->next) {
		char where[256];
		if (single)
			snprintf(where, sizeof(where), "%s", origin);
		else
			snprintf(where, sizeof(where), "%s.rules[%zu]", origin, i);
		struct rule *r = rule_parse(item, where, err);
		if (!r)
			goto fail;
		r->runtime = runtime;
		if (*tail)
			(*tail)->next = r;
		else
			*head = r;
		*tail = r;
		(*count)++;
	}
	if (nrules + *count > SCRIPT_MAX_RULES) {
		buf_printf(err, "%s: more than %d rules in all", origin, SCRIPT_MAX_RULES);
		goto fail;
	}
	return 0;
fail:
	while (*head) {
		struct rule *next = (*head)->next;
		rule_free(*head);
		*head = next;
	}
	return -1;
}

int script_add(const cJSON *json, cJSON *ids, struct buf *err)
{
	struct rule *head, *tail;
	size_t n;
	if (parse_all(json, "rule", true, &head, &tail, &n, err) < 0)
		return -1;
	for (struct rule *r = head; r && ids; r = r->next)
		cJSON_AddItemToArray(ids, cJSON_CreateString(r->id));
	/* Rules added at run time are tried first, newest batch before older ones. */
	if (tail) {
		tail->next = rules;
		rules = head;
		nrules += n;
	}
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int load_file(const char *path, struct buf *err)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		buf_printf(err, "cannot open %s: %m", path);
		return -1;
	}
	struct buf text;
	buf_init(&text, SCRIPT_MAX_FILE);
	char chunk[8192];
	size_t got;
	int rc = -1;
	while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (buf_add(&text, chunk, got) != BUF_OK) {
			buf_printf(err, "%s: larger than %u bytes", path, SCRIPT_MAX_FILE);
			goto out;
		}
	}
	cJSON *json = json_parse_exact(buf_str(&text), text.len);
	if (!json) {
		buf_printf(err, "%s: not valid JSON", path);
		goto out;
	}
	struct rule *head, *tail;
	size_t n;
	if (parse_all(json, path, false, &head, &tail, &n, err) == 0) {
		/* File rules go after every rule already loaded, in file order. */
		struct rule **pp = &rules;
		while (*pp)
			pp = &(*pp)->next;
		*pp = head;
		nrules += n;
		rc = 0;
	}
	cJSON_Delete(json);
out:
	fclose(f);
	buf_release(&text);
	return rc;
}

int script_load_dir(const char *dir, struct buf *err)
{
	DIR *d = opendir(dir);
	if (!d) {
		buf_printf(err, "cannot open scripts folder %s: %m", dir);
		return -1;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	int rc = 0;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0 || e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			char **nn = realloc(names, cap * sizeof(*names));
			if (!nn) {
				rc = -1;
				break;
			}
			names = nn;
		}
		names[n++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), name_cmp);
	for (size_t i = 0; i < n; i++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (rc == 0 && load_file(path, err) < 0)
			rc = -1;
		free(names[i]);
	}
	free(names);
	return rc;
}

void script_clear_runtime(void)
{
	struct rule **pp = &rules;
	while (*pp) {
		struct rule *r = *pp;
		if (r->runtime) {
			*pp = r->next;
			rule_free(r);
			nrules--;
		} else {
			pp = &r->next;
		}
	}
}

void script_release(void)
{
	while (rules) {
		struct rule *next = rules->next;
		rule_free(rules);
		rules = next;
	}
	nrules = 0;
}

int script_reset(const char *dir, struct buf *err)
{
	script_release();
	next_rule_no = 0;
	return dir ? script_load_dir(dir, err) : 0;
}

cJSON *script_list(void)
{
	cJSON *a = cJSON_CreateArray();
	for (struct rule *r = rules; r; r = r->next) {
		cJSON *o = cJSON_Duplicate(r->def, 1);
		cJSON_DeleteItemFromObjectCaseSensitive(o, "id");
		cJSON_AddStringToObject(o, "id", r->id);
		cJSON_AddStringToObject(o, "origin", r->runtime ? "admin" : "file");
		cJSON_AddItemToArray(a, o);
	}
	return a;
}

static bool rule_matches(const struct rule *r, const char *api, const char *model, const char *msg)
{
	if (r->api && strcmp(r->api, api) != 0)
		return false;
	if (r->model && (!model || strcmp(r->model, model) != 0))
		return false;
	switch (r->kind) {
	case MATCH_ANY:
		return true;
	case MATCH_EQUALS:
		return strcmp(msg, r->text) == 0;
	case MATCH_CONTAINS:
		return strstr(msg, r->text) != NULL;
	case MATCH_REGEX:
		return regexec(&r->re, msg, 0, NULL, 0) == 0;
	}
	return false;
}

/* Split text into tokens with the shared tokenizer. */
static void plan_tokens_from_text(struct reply_plan *p)
{
	size_t n = strlen(p->text);
	size_t count = token_count(p->text, n);
	p->tokens = calloc(count ? count : 1, sizeof(char *));
	size_t i = 0;
	for (size_t off = 0; off < n && p->tokens;) {
		size_t len = token_len(p->text + off, n - off);
		if (!(p->tokens[i] = strndup(p->text + off, len)))
			break; /* out of memory: the reply is cut here, text and tokens still agree below */
		i++;
		off += len;
	}
	p->ntokens = p->tokens ? i : 0;
	if (p->ntokens < count) {
		size_t keep = 0;
		for (size_t k = 0; k < p->ntokens; k++)
			keep += strlen(p->tokens[k]);
		p->text[keep] = '\0';
	}
}

static void plan_tokens_from_list(struct reply_plan *p, const cJSON *list)
{
	struct buf text;
	buf_init(&text, 1u << 24);
	size_t count = (size_t)cJSON_GetArraySize(list);
	p->tokens = calloc(count ? count : 1, sizeof(char *));
	const cJSON *t;
	cJSON_ArrayForEach(t, list)
	{
		if (!p->tokens || !cJSON_IsString(t))
			continue;
		char *tok = strdup(t->valuestring);
		if (!tok || buf_adds(&text, t->valuestring) != BUF_OK) {
			free(tok);
			break; /* out of memory or past 16 MiB: the reply is cut here */
		}
		p->tokens[p->ntokens++] = tok;
	}
	p->text = buf_detach(&text, NULL);
}

static const char *const vocabulary[] = {
	"the", "mock", "service", "answers", "every", "question", "with", "a", "steady", "reply",
	"that", "clients", "can", "parse", "tokens", "arrive", "one", "by", "and", "each",
	"stream", "ends", "cleanly", "conversation", "history", "keeps", "its", "order", "so",
	"tests", "stay", "repeatable", "across", "runs", "when", "seed", "is", "same", "text",
	"helps", "you", "build", "against", "documented", "behaviour", "of", "this", "API",
};

/* FNV-1a over the request, mixed with the seed: the default answer depends on nothing else. */
static uint64_t request_hash(const char *api, const char *model, const char *msg)
{
	uint64_t h = 14695981039346656037ULL ^ mockd_cfg.seed;
	const char *parts[] = { api, "|", model ? model : "", "|", msg };
	for (size_t i = 0; i < 5; i++)
		for (const char *s = parts[i]; *s; s++)
			h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h ? h : 1;
}

static void plan_default(struct reply_plan *p, const char *api, const char *model, const char *msg)
{
	uint64_t x = request_hash(api, model, msg);
	size_t nwords = 8 + (size_t)(x % 17), nv = sizeof(vocabulary) / sizeof(*vocabulary);
	struct buf text;
	buf_init(&text, 4096);
	for (size_t i = 0; i < nwords; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift64 */
		const char *w = vocabulary[x % nv];
		if (i == 0)
			buf_printf(&text, "%c%s", w[0] >= 'a' && w[0] <= 'z' ? w[0] - 32 : w[0], w + 1);
		else
			buf_printf(&text, " %s", w);
	}
	buf_addc(&text, '.');
	p->text = buf_detach(&text, NULL);
	plan_tokens_from_text(p);
	p->first_token_ms = 200;
	p->interval_ms = 30;
}

static void plan_from_rule(struct reply_plan *p, const struct rule *r, const char *api,
			   const char *model, const char *msg)
{
	snprintf(p->rule_id, sizeof(p->rule_id), "%s", r->id);
	const cJSON *reply = cJSON_GetObjectItemCaseSensitive(r->def, "reply");
	const cJSON *tokens = cJSON_GetObjectItemCaseSensitive(reply, "tokens");
	const char *text = json_get_string(reply, "text");
	if (tokens) {
		plan_tokens_from_list(p, tokens);
	} else if (text) {
		p->text = strdup(text);
		if (!p->text)
			p->text = calloc(1, 1); /* out of memory: an empty reply */
		if (p->text)
			plan_tokens_from_text(p);
	} else {
		plan_default(p, api, model, msg);
	}
	const cJSON *timing = cJSON_GetObjectItemCaseSensitive(r->def, "timing");
	p->first_token_ms = get_count(timing, "first_token_ms", timing ? 0 : p->first_token_ms);
	p->interval_ms = get_count(timing, "interval_ms", timing ? 0 : p->interval_ms);
	p->jitter_ms = get_count(timing, "jitter_ms", 0);
	p->unscaled = cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(timing, "scaled"));
	const cJSON *fault = cJSON_GetObjectItemCaseSensitive(r->def, "fault");
	const char *type = json_get_string(fault, "type");
	for (int i = 1; type && i < (int)(sizeof(fault_names) / sizeof(*fault_names)); i++)
		if (strcmp(type, fault_names[i]) == 0)
			p->fault = (enum fault_type)i;
	p->fault_after = (size_t)get_count(fault, "tokens", 0);
	p->fault_status = (int)get_count(fault, "status", 500);
	p->fault_ms = get_count(fault, "ms", 30000);
	const cJSON *body = cJSON_GetObjectItemCaseSensitive(fault, "body");
	p->fault_body = body ? cJSON_Duplicate(body, 1) : NULL;
	const char *code = json_get_string(fault, "code"), *message = json_get_string(fault, "message");
	p->fault_code = code ? strdup(code) : NULL;
	p->fault_message = message ? strdup(message) : NULL;
	const cJSON *usage = cJSON_GetObjectItemCaseSensitive(r->def, "usage");
	long pt = get_count(usage, "prompt_tokens", -1), ct = get_count(usage, "completion_tokens", -1);
	if (pt >= 0)
		p->prompt_tokens = (int)pt;
	if (ct >= 0)
		p->completion_tokens = (int)ct;
	p->extra = cJSON_Duplicate(r->def, 1);
}

void script_plan(const char *api, const char *model, const char *message, struct reply_plan *out)
{
	memset(out, 0, sizeof(*out));
	out->prompt_tokens = -1;
	out->completion_tokens = -1;
	struct rule **pp = &rules;
	for (; *pp; pp = &(*pp)->next)
		if (rule_matches(*pp, api, model, message))
			break;
	if (*pp) {
		struct rule *r = *pp;
		plan_from_rule(out, r, api, model, message);
		if (r->once) {
			*pp = r->next;
			rule_free(r);
			nrules--;
		}
	} else {
		plan_default(out, api, model, message);
	}
	if (out->prompt_tokens < 0)
		out->prompt_tokens = (int)token_count(message, strlen(message));
	if (out->completion_tokens < 0)
		out->completion_tokens = (int)out->ntokens;
}

enum fault_step plan_fault_at(const struct reply_plan *p, size_t sent, bool *served)
{
	if (p->fault == FAULT_NONE || sent != p->fault_after)
		return FAULT_STEP_NONE;
	switch (p->fault) {
	case FAULT_ERROR_AFTER:
		return FAULT_STEP_ERROR;
	case FAULT_DISCONNECT_AFTER:
		return FAULT_STEP_CUT;
	case FAULT_RESET_AFTER:
		return FAULT_STEP_RESET;
	case FAULT_STALL_AFTER:
	case FAULT_MALFORMED_AFTER:
		if (*served)
			return FAULT_STEP_NONE;
		*served = true;
		return p->fault == FAULT_STALL_AFTER ? FAULT_STEP_STALL : FAULT_STEP_MALFORMED;
	default:
		return FAULT_STEP_NONE;
	}
}

void plan_truncate(struct reply_plan *p, size_t max)
{
	if (p->ntokens <= max)
		return;
	size_t keep = 0;
	for (size_t i = 0; i < p->ntokens; i++) {
		if (i < max)
			keep += strlen(p->tokens[i]);
		else
			free(p->tokens[i]);
	}
	p->ntokens = max;
	p->text[keep] = '\0';
	if (p->completion_tokens > (int)max)
		p->completion_tokens = (int)max;
}

void plan_release(struct reply_plan *p)
{
	for (size_t i = 0; i < p->ntokens; i++)
		free(p->tokens[i]);
	free(p->tokens);
	free(p->text);
	cJSON_Delete(p->fault_body);
	free(p->fault_code);
	free(p->fault_message);
	cJSON_Delete(p->extra);
	memset(p, 0, sizeof(*p));
}
