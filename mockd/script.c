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
	struct plan_answer *answer; /* the rule as given and its reply's tokens; one reference */
	struct reply_plan proto; /* what every plan from this rule starts as (pointers into answer) */
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

/* Generator timing, also for a rule without a reply or timing. */
#define DEFAULT_FIRST_TOKEN_MS 200
#define DEFAULT_INTERVAL_MS 30

/* ---- answers: the part of a plan that plans share ----------------------------------------- */

/*
 * A rule's answer is its definition (fault strings and body, the members APIs read through extra)
 * and its reply split into tokens, made once when the rule is parsed.  The rule holds one reference
 * and each live plan one more, so deleting a rule (a consumed "once" rule, DELETE, reset) while its
 * replies are paced leaves them a valid answer; 10,000 paced replies share one copy.  The default
 * generator makes an answer per request, held by its plan alone; for a rule without a reply that
 * generated answer holds the rule's answer as its base.  mockd is one thread: plain counts suffice.
 *
 * Text and tokens are one allocation: the header, the token pointers, the text, then each token
 * as its own string.
 */
struct plan_answer {
	unsigned long refs;
	cJSON *def;                 /* the rule as given (owned), or NULL for a generated answer */
	struct plan_answer *base;   /* a generated answer for a rule without a reply: the rule's, referenced */
	const char *text;           /* the reply, or NULL for a rule without one */
	size_t ntokens;
	const char *tokens[];
};

static struct plan_answer *answer_ref(struct plan_answer *a)
{
	a->refs++;
	return a;
}

/* Drop one reference; the last frees the answer and drops its base in turn. */
static void answer_unref(struct plan_answer *a)
{
	while (a && --a->refs == 0) {
		struct plan_answer *base = a->base;
		cJSON_Delete(a->def);
		free(a);
		a = base;
	}
}

/* An answer with room for ntokens tokens of len bytes in all; *text is where the text goes. */
static struct plan_answer *answer_alloc(size_t ntokens, size_t len, char **text)
{
	/* pointers, the text and its NUL, the tokens and their NULs */
	size_t size = sizeof(struct plan_answer) + ntokens * sizeof(char *) + (len + 1) + (len + ntokens);
	struct plan_answer *a = calloc(1, size);
	if (!a)
		return NULL;
	a->refs = 1;
	a->ntokens = ntokens;
	*text = (char *)&a->tokens[ntokens];
	a->text = *text;
	return a;
}

/* An answer for text, split with the shared tokenizer; NULL when out of memory. */
static struct plan_answer *answer_from_text(const char *src, size_t len)
{
	char *text;
	struct plan_answer *a = answer_alloc(token_count(src, len), len, &text);
	if (!a)
		return NULL;
	memcpy(text, src, len);
	text[len] = '\0';
	char *tok = text + len + 1;
	size_t off = 0;
	for (size_t i = 0; i < a->ntokens; i++) {
		size_t n = token_len(src + off, len - off);
		memcpy(tok, src + off, n);
		tok[n] = '\0';
		a->tokens[i] = tok;
		tok += n + 1;
		off += n;
	}
	return a;
}

/* An answer for a list of string tokens (checked by check_reply); NULL when out of memory. */
static struct plan_answer *answer_from_list(const cJSON *list)
{
	size_t n = 0, len = 0;
	const cJSON *t;
	cJSON_ArrayForEach(t, list)
	{
		n++;
		len += strlen(t->valuestring);
	}
	char *text;
	struct plan_answer *a = answer_alloc(n, len, &text);
	if (!a)
		return NULL;
	char *end = text, *tok = text + len + 1;
	size_t i = 0;
	cJSON_ArrayForEach(t, list)
	{
		size_t k = strlen(t->valuestring);
		memcpy(end, t->valuestring, k);
		end += k;
		memcpy(tok, t->valuestring, k + 1);
		a->tokens[i++] = tok;
		tok += k + 1;
	}
	*end = '\0';
	return a;
}

/* The answer of a rule: its definition (taken) and its reply, if any; NULL when out of memory. */
static struct plan_answer *answer_for_rule(cJSON *def)
{
	const cJSON *reply = cJSON_GetObjectItemCaseSensitive(def, "reply");
	const cJSON *tokens = cJSON_GetObjectItemCaseSensitive(reply, "tokens");
	const char *text = json_get_string(reply, "text");
	struct plan_answer *a;
	if (tokens)
		a = answer_from_list(tokens);
	else if (text)
		a = answer_from_text(text, strlen(text));
	else if ((a = calloc(1, sizeof(*a))))
		a->refs = 1;
	if (!a) {
		cJSON_Delete(def);
		return NULL;
	}
	a->def = def;
	return a;
}

/* ---- rules ---------------------------------------------------------------------------------- */

static void rule_free(struct rule *r)
{
	if (r->kind == MATCH_REGEX)
		regfree(&r->re);
	free(r->api);
	free(r->model);
	free(r->text);
	answer_unref(r->answer); /* plans made from the rule keep theirs */
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

/*
 * What every plan from r starts as: timing, fault, usage and pointers into r's answer; read from
 * the definition once here rather than on every request.
 */
static void rule_proto(struct rule *r)
{
	struct reply_plan *p = &r->proto;
	const struct plan_answer *a = r->answer;
	memset(p, 0, sizeof(*p));
	snprintf(p->rule_id, sizeof(p->rule_id), "%s", r->id);
	p->text = a->text ? a->text : "";
	p->tokens = a->tokens;
	p->ntokens = a->ntokens;
	/* Without a reply the generator answers, at its pace unless the rule gives a timing. */
	const cJSON *timing = cJSON_GetObjectItemCaseSensitive(a->def, "timing");
	p->first_token_ms = get_count(timing, "first_token_ms", timing || a->text ? 0 : DEFAULT_FIRST_TOKEN_MS);
	p->interval_ms = get_count(timing, "interval_ms", timing || a->text ? 0 : DEFAULT_INTERVAL_MS);
	p->jitter_ms = get_count(timing, "jitter_ms", 0);
	p->unscaled = cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(timing, "scaled"));
	const cJSON *fault = cJSON_GetObjectItemCaseSensitive(a->def, "fault");
	const char *type = json_get_string(fault, "type");
	for (int i = 1; type && i < (int)(sizeof(fault_names) / sizeof(*fault_names)); i++)
		if (strcmp(type, fault_names[i]) == 0)
			p->fault = (enum fault_type)i;
	p->fault_after = (size_t)get_count(fault, "tokens", 0);
	p->fault_status = (int)get_count(fault, "status", 500);
	p->fault_ms = get_count(fault, "ms", 30000);
	p->fault_body = cJSON_GetObjectItemCaseSensitive(fault, "body");
	p->fault_code = json_get_string(fault, "code");
	p->fault_message = json_get_string(fault, "message");
	const cJSON *usage = cJSON_GetObjectItemCaseSensitive(a->def, "usage");
	p->prompt_tokens = (int)get_count(usage, "prompt_tokens", -1);
	p->completion_tokens = (int)get_count(usage, "completion_tokens", -1);
	p->extra = a->def;
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
	cJSON *copy = cJSON_Duplicate(def, 1);
	if (!copy || !(r->answer = answer_for_rule(copy))) {
		buf_printf(err, "%s: out of memory", where);
		goto fail;
	}
	rule_proto(r);
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
		cJSON *o = cJSON_Duplicate(r->answer->def, 1);
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

/* The generator's answer to a request, a fresh one held by its caller; NULL when out of memory. */
static struct plan_answer *answer_default(const char *api, const char *model, const char *msg)
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
	struct plan_answer *a = answer_from_text(buf_str(&text), text.len);
	buf_release(&text);
	return a;
}

/* Point p at a's text and tokens (p takes the reference); without a (out of memory), an empty reply. */
static void plan_take(struct reply_plan *p, struct plan_answer *a)
{
	p->answer = a;
	p->text = a && a->text ? a->text : "";
	p->tokens = a ? a->tokens : NULL;
	p->ntokens = a ? a->ntokens : 0;
}

void script_plan(const char *api, const char *model, const char *message, struct reply_plan *out)
{
	struct rule **pp = &rules;
	for (; *pp; pp = &(*pp)->next)
		if (rule_matches(*pp, api, model, message))
			break;
	struct rule *r = *pp;
	if (r && r->answer->text) {
		*out = r->proto;
		out->answer = answer_ref(r->answer);
	} else if (r) {
		*out = r->proto;
		struct plan_answer *gen = answer_default(api, model, message);
		if (gen)
			gen->base = answer_ref(r->answer);
		plan_take(out, gen ? gen : answer_ref(r->answer));
	} else {
		memset(out, 0, sizeof(*out));
		out->prompt_tokens = -1;
		out->completion_tokens = -1;
		out->first_token_ms = DEFAULT_FIRST_TOKEN_MS;
		out->interval_ms = DEFAULT_INTERVAL_MS;
		plan_take(out, answer_default(api, model, message));
	}
	if (r && r->once) {
		*pp = r->next;
		rule_free(r); /* out keeps its own reference */
		nrules--;
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
	for (size_t i = 0; i < max; i++)
		keep += strlen(p->tokens[i]);
	/* The text is shared: the shorter one is the plan's own.  Out of memory: the reply stays whole. */
	char *cut = strndup(p->text, keep);
	if (!cut)
		return;
	free(p->cut_text);
	p->cut_text = cut;
	p->text = cut;
	p->ntokens = max;
	if (p->completion_tokens > (int)max)
		p->completion_tokens = (int)max;
}

void plan_release(struct reply_plan *p)
{
	answer_unref(p->answer);
	free(p->cut_text);
	memset(p, 0, sizeof(*p));
}
