#include "mockd/script.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/jcheck.h"
#include "common/jpath.h"
#include "common/json.h"
#include "common/log.h"
#include "common/pattern.h"
#include "common/tokenize.h"
#include "mockd/keys.h"
#include "mockd/mockd.h"

#define SCRIPT_MAX_FILE (4u * 1024 * 1024)

enum match_kind { MATCH_ANY, MATCH_EQUALS, MATCH_CONTAINS, MATCH_REGEX };

struct rule {
	char id[64];
	char *api;               /* NULL: any API */
	char *model;             /* NULL: any model or preset */
	enum match_kind kind;
	char *text;
	struct pattern *re;      /* MATCH_REGEX */
	size_t bytes;            /* the rule's JSON text, counted against --max-rule-bytes */
	bool once;
	bool runtime;            /* added through the admin API */
	bool warned;             /* a search of its regex hit a limit (logged once) */
	struct plan_answer *answer; /* the rule as given and its reply's tokens; one reference */
	struct reply_plan proto; /* what every plan from this rule starts as (pointers into answer) */
	struct rule *next;
};

static struct rule *rules;      /* tried in list order */
static size_t nrules;
static unsigned long next_rule_no;
static size_t rule_bytes;       /* what the rules in force cost (rule_cost) */
static size_t max_rule_bytes = SCRIPT_DEFAULT_MAX_BYTES;

/*
 * A rule's regex meets the limits of common/pattern: 4 KiB of pattern, 64 KiB
 * compiled, and a search that gives up (no match) after 100,000 backtracking
 * steps, a few milliseconds of the event loop, which every client shares.
 */
static struct pattern_limits rule_limits = {
	.max_length = SCRIPT_MAX_REGEX, .max_compiled = 64 * 1024,
	.match = SCRIPT_REGEX_MATCH_LIMIT, .depth = 10000, .heap_kib = 8192,
};

static const char *const rule_members[] = { "id", "api", "match", "once", "reply", "usage", "timing",
					    "fault", "sources", "research", "description", NULL };
static const char *const fault_names[] = { [FAULT_NONE] = "none",
					   [FAULT_HTTP_ERROR] = "http_error",
					   [FAULT_ERROR_AFTER] = "error_after",
					   [FAULT_DISCONNECT_AFTER] = "disconnect_after",
					   [FAULT_RESET_AFTER] = "reset_after",
					   [FAULT_STALL_AFTER] = "stall_after",
					   [FAULT_MALFORMED_AFTER] = "malformed_after", NULL };
static const char *const match_members[] = { "message", "model", "preset", NULL };
static const char *const matcher_kinds[] = { "equals", "contains", "regex", NULL };  /* MATCH_EQUALS... */
static const char *const reply_members[] = { "text", "tokens", NULL };
static const char *const usage_members[] = { "prompt_tokens", "completion_tokens", NULL };
static const char *const timing_members[] = { "first_token_ms", "interval_ms", "jitter_ms", "scaled", NULL };
static const char *const fault_members[] = { "type", "status", "tokens", "ms", "body", "code", "message", NULL };

/* Generator timing, also for a rule without a reply or timing. */
#define DEFAULT_FIRST_TOKEN_MS 200
#define DEFAULT_INTERVAL_MS 30

/* ---- answers: the part of a plan that plans share ----------------------------------------- */

/*
 * A rule's answer is its definition (fault strings and body, the members APIs read through extra)
 * and its reply split into tokens, made once when the rule is parsed.  The rule holds one reference
 * and each live plan one more, so deleting a rule (a consumed "once" rule, DELETE, reset) while its
 * replies are paced leaves them a valid answer; 10,000 paced replies share one copy.  The default
 * generator's answers are shared the same way (the last ones made are kept: answer_default); for a
 * rule without a reply the generated answer is its plan's own, and holds the rule's answer as its
 * base.  mockd is one thread: plain counts suffice.
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
	pattern_free(r->re);
	free(r->api);
	free(r->model);
	free(r->text);
	answer_unref(r->answer); /* plans made from the rule keep theirs */
	free(r);
}

/* A rule's member as a whole number in [min, max], or def when absent (the rule is checked). */
static long get_count(const cJSON *o, const char *name, long def)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	return json_is_integer(v) ? (long)v->valuedouble : def;
}

#define MAX_COUNT 1000000000L   /* tokens, ms: a billion is more than any test waits for */

/* Check fault (an object); its members must suit its type. */
static void check_fault(struct jcheck *c, const cJSON *f, const char *path)
{
	char p[JCHECK_PATH_LEN];
	long v;
	int t = jcheck_enum(c, f, path, "type", fault_names + 1, "fault type", true) + 1;
	jcheck_count(c, f, path, "status", 400, 599, &v);
	jcheck_count(c, f, path, "tokens", 0, MAX_COUNT, &v);
	jcheck_count(c, f, path, "ms", 0, MAX_COUNT, &v);
	jcheck_string(c, f, path, "code", false);
	jcheck_string(c, f, path, "message", false);
	/* A member the type does not read is a mistake the rule's author would not see otherwise. */
	static const struct {
		const char *name;
		unsigned types;   /* bits of the fault types that read it */
	} only[] = {
		{ "status", 1u << FAULT_HTTP_ERROR },
		{ "body", 1u << FAULT_HTTP_ERROR },
		{ "tokens", ~(1u << FAULT_HTTP_ERROR) },
		{ "ms", 1u << FAULT_STALL_AFTER },
	};
	for (size_t i = 0; t > 0 && i < sizeof(only) / sizeof(*only); i++) {
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(f, only[i].name);
		if (m && !(only[i].types & (1u << t))) {
			jpath_key(p, sizeof(p), path, only[i].name);
			jcheck_bad_name(c, m, p, "a %s fault does not use \"%s\"", fault_names[t], only[i].name);
		}
	}
}

/* Check reply (an object): exactly one of text and tokens. */
static void check_reply(struct jcheck *c, const cJSON *reply, const char *path)
{
	const cJSON *tokens = jcheck_array(c, reply, path, "tokens", false);
	bool text = cJSON_HasObjectItem(reply, "text");
	jcheck_string(c, reply, path, "text", false);
	/* Neither, beside an unknown member already reported ("txt"), is the same mistake. */
	bool other = cJSON_GetArraySize(reply) > (int)text + (int)cJSON_HasObjectItem(reply, "tokens");
	if (text == cJSON_HasObjectItem(reply, "tokens") && !(!text && other))
		jcheck_bad(c, reply, path, "give exactly one of \"text\" and \"tokens\"");
	size_t i = 0;
	const cJSON *t;
	cJSON_ArrayForEach(t, tokens)
	{
		if (!cJSON_IsString(t)) {
			char p[JCHECK_PATH_LEN], q[JCHECK_PATH_LEN];
			jpath_key(p, sizeof(p), path, "tokens");
			jpath_index(q, sizeof(q), p, i);
			jcheck_bad(c, t, q, "expected a string, got %s", json_type_name(t));
		}
		i++;
	}
}

/* Check match.message and set r's matcher: a string, or one of {equals, contains, regex}. */
static void check_message(struct jcheck *c, const cJSON *msg, const char *path, struct rule *r)
{
	if (cJSON_IsString(msg)) {
		r->kind = MATCH_EQUALS;
		r->text = strdup(msg->valuestring);
		return;
	}
	if (!cJSON_IsObject(msg)) {
		jcheck_bad(c, msg, path, "expected a string or an object with one of equals, contains, regex; got %s",
			   json_type_name(msg));
		return;
	}
	jcheck_members(c, msg, path, matcher_kinds);
	int given = 0;
	for (int k = 0; matcher_kinds[k]; k++) {
		const char *s = jcheck_string(c, msg, path, matcher_kinds[k], false);
		given += cJSON_HasObjectItem(msg, matcher_kinds[k]);
		if (s && !r->text) {
			r->kind = (enum match_kind)(MATCH_EQUALS + k);
			r->text = strdup(s);
		}
	}
	if (given != 1) {
		jcheck_bad(c, msg, path, "give exactly one of equals, contains, regex (%d given)", given);
		return;
	}
	if (r->kind == MATCH_REGEX && r->text) {
		char p[JCHECK_PATH_LEN];
		struct buf why;
		jpath_key(p, sizeof(p), path, "regex");
		buf_init(&why, 1024);
		if (!rule_limits.match_context && pattern_limits_init(&rule_limits) < 0)
			buf_adds(&why, "out of memory");
		else
			r->re = pattern_compile(r->text, &rule_limits, &why);
		if (!r->re)
			jcheck_bad(c, cJSON_GetObjectItemCaseSensitive(msg, "regex"), p,
				   "not a usable regular expression (PCRE2): %s", buf_str(&why));
		buf_release(&why);
	}
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
	for (int i = 1; type && fault_names[i]; i++)
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

/* Check one rule at path and build it; NULL when it has a problem (each one reported). */
static struct rule *rule_parse(struct jcheck *c, const cJSON *def, const char *path)
{
	char p[JCHECK_PATH_LEN];
	unsigned before = c->nerr;
	if (!cJSON_IsObject(def)) {
		jcheck_bad(c, def, path, "a rule must be an object, got %s", json_type_name(def));
		return NULL;
	}
	struct rule *r = calloc(1, sizeof(*r));
	if (!r) {
		jcheck_bad(c, def, path, "out of memory");
		return NULL;
	}
	jcheck_members(c, def, path, rule_members);
	const char *id = jcheck_string(c, def, path, "id", false);
	if (id && (!*id || strlen(id) >= sizeof(r->id))) {
		jpath_key(p, sizeof(p), path, "id");
		jcheck_bad(c, cJSON_GetObjectItemCaseSensitive(def, "id"), p, "expected 1 to %zu bytes",
			   sizeof(r->id) - 1);
	}
	int api = jcheck_enum(c, def, path, "api", keys_api_names(), "API", false);
	if (api >= 0)
		r->api = strdup(keys_api_names()[api]);
	jcheck_bool(c, def, path, "once", &r->once);
	jcheck_string(c, def, path, "description", false);
	const cJSON *match = jcheck_object(c, def, path, "match", false, match_members);
	jpath_key(p, sizeof(p), path, "match");
	char mp[JCHECK_PATH_LEN];
	const char *model = jcheck_string(c, match, p, "model", false);
	const char *preset = jcheck_string(c, match, p, "preset", false);
	if (model && preset)
		jcheck_bad(c, match, p, "give one of model and preset, not both");
	if (model || preset)
		r->model = strdup(model ? model : preset);
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(match, "message");
	jpath_key(mp, sizeof(mp), p, "message");
	if (msg)
		check_message(c, msg, mp, r);
	const cJSON *o;
	if ((o = jcheck_object(c, def, path, "reply", false, reply_members))) {
		jpath_key(p, sizeof(p), path, "reply");
		check_reply(c, o, p);
	}
	if ((o = jcheck_object(c, def, path, "fault", false, fault_members))) {
		jpath_key(p, sizeof(p), path, "fault");
		check_fault(c, o, p);
	}
	long v;
	bool scaled;
	if ((o = jcheck_object(c, def, path, "timing", false, timing_members))) {
		jpath_key(p, sizeof(p), path, "timing");
		jcheck_count(c, o, p, "first_token_ms", 0, MAX_COUNT, &v);
		jcheck_count(c, o, p, "interval_ms", 0, MAX_COUNT, &v);
		jcheck_count(c, o, p, "jitter_ms", 0, MAX_COUNT, &v);
		jcheck_bool(c, o, p, "scaled", &scaled);
	}
	if ((o = jcheck_object(c, def, path, "usage", false, usage_members))) {
		jpath_key(p, sizeof(p), path, "usage");
		jcheck_count(c, o, p, "prompt_tokens", 0, MAX_COUNT, &v);
		jcheck_count(c, o, p, "completion_tokens", 0, MAX_COUNT, &v);
	}
	jcheck_array(c, def, path, "sources", false);
	jcheck_object(c, def, path, "research", false, NULL);
	if (c->nerr != before)
		goto fail;
	if (id)
		snprintf(r->id, sizeof(r->id), "%s", id);
	else
		snprintf(r->id, sizeof(r->id), "rule-%lu", ++next_rule_no);
	cJSON *copy = cJSON_Duplicate(def, 1);
	if ((api >= 0 && !r->api) || ((model || preset) && !r->model) || (msg && !r->text) || !copy ||
	    !(r->answer = answer_for_rule(copy))) {
		jcheck_bad(c, def, path, "out of memory");
		goto fail;
	}
	rule_proto(r);
	return r;
fail:
	rule_free(r);
	return NULL;
}

static void chain_free(struct rule *r)
{
	while (r) {
		struct rule *next = r->next;
		rule_free(r);
		r = next;
	}
}

/* A parsed batch of rules, not yet in force. */
struct batch {
	struct rule *head, *tail;
	size_t count;
	size_t bytes;            /* the JSON text of its rules */
	unsigned files;
};

static size_t json_values(const cJSON *v)
{
	size_t n = 1;
	for (const cJSON *c = v->child; c; c = c->next)
		n += json_values(c);
	return n;
}

/*
 * What a rule costs against --max-rule-bytes: an estimate of the memory it
 * holds, not its text alone. A rule is kept as its parsed JSON (a node of
 * about 200 bytes with its allocations for every value, and its strings) and
 * its answer (the text and the tokens again): a reply of many tiny tokens
 * costs far more than its text (2 MB of one-word tokens: about 48 MB of RSS).
 */
static size_t rule_cost(const cJSON *item, size_t text_bytes)
{
	return 3 * text_bytes + 200 * json_values(item);
}

/*
 * Check every rule of a document (a rule, an array of rules, or {"rules": [...]})
 * into b; problems go to c, and a batch with any is not to be used.
 */
static void parse_doc(struct jcheck *c, const cJSON *json, bool runtime, struct batch *b)
{
	static const char *const doc_members[] = { "rules", "description", NULL };
	const cJSON *list = json;
	const char *base = "";
	if (cJSON_IsObject(json) && cJSON_HasObjectItem(json, "rules")) {
		jcheck_members(c, json, "", doc_members);
		list = jcheck_array(c, json, "", "rules", true);
		base = "rules";
		if (!list)
			return;
	}
	size_t n = cJSON_IsArray(list) ? (size_t)cJSON_GetArraySize(list) : 1;
	size_t *sizes = calloc(n ? n : 1, sizeof(*sizes));
	if (!sizes) {
		jcheck_bad(c, json, "", "out of memory");
		return;
	}
	if (cJSON_IsArray(list) && !jcheck_sizes(c, list, sizes, n))
		memset(sizes, 0, n * sizeof(*sizes));
	if (!cJSON_IsArray(list)) {
		size_t value, name;
		sizes[0] = c->text && jcheck_where(c, list, &value, &name) ? c->len - value : 0;
	}
	const cJSON *item = cJSON_IsArray(list) ? list->child : list;
	for (size_t i = 0; item; i++, item = cJSON_IsArray(list) ? item->next : NULL) {
		char where[JCHECK_PATH_LEN];
		if (cJSON_IsArray(list))
			jpath_index(where, sizeof(where), base, i);
		else
			where[0] = '\0';
		if (!sizes[i]) {   /* no text to measure: the printed size */
			char *text = cJSON_PrintUnformatted(item);
			sizes[i] = text ? strlen(text) : 0;
			cJSON_free(text);
		}
		struct rule *r = rule_parse(c, item, where);
		if (!r)
			continue;
		r->runtime = runtime;
		r->bytes = rule_cost(item, sizes[i]);
		b->bytes += r->bytes;
		if (b->tail)
			b->tail->next = r;
		else
			b->head = r;
		b->tail = r;
		b->count++;
	}
	free(sizes);
}

/* Whether a batch fits beside the rules in force; SCRIPT_FULL with a message when it does not. */
static int batch_fits(const struct batch *b, const char *origin, struct buf *err)
{
	if (nrules + b->count > SCRIPT_MAX_RULES) {
		buf_printf(err, "%s: %zu rules would make more than %d in all (%zu in force)\n", origin, b->count,
			   SCRIPT_MAX_RULES, nrules);
		return SCRIPT_FULL;
	}
	if (rule_bytes + b->bytes > max_rule_bytes) {
		buf_printf(err, "%s: %zu bytes of rules would make more than --max-rule-bytes %zu in all (%zu in use)\n",
			   origin, b->bytes, max_rule_bytes, rule_bytes);
		return SCRIPT_FULL;
	}
	return SCRIPT_OK;
}

/* Check a parsed document named name (text may be NULL: no positions) into b; SCRIPT_BAD with err. */
static int parse_text(const char *name, const char *text, size_t len, const cJSON *json, bool runtime,
		      struct batch *b, struct buf *err)
{
	struct jcheck c;
	cJSON *own = NULL;
	jcheck_init(&c, name, text, len, err);
	if (!json && !(json = own = jcheck_parse(&c)))
		return SCRIPT_BAD;
	c.root = json;
	parse_doc(&c, json, runtime, b);
	cJSON_Delete(own);
	return jcheck_finish(&c) ? SCRIPT_BAD : SCRIPT_OK;
}

/* Put a checked batch in force: run-time rules first (newest batch first), file rules last. */
static void batch_commit(struct batch *b, bool runtime)
{
	if (!b->head)
		return;
	if (runtime) {
		b->tail->next = rules;
		rules = b->head;
	} else {
		struct rule **pp = &rules;
		while (*pp)
			pp = &(*pp)->next;
		*pp = b->head;
	}
	nrules += b->count;
	rule_bytes += b->bytes;
	memset(b, 0, sizeof(*b));
}

/* Add a checked batch, or free it; SCRIPT_OK, or the reason it was refused (err says). */
static int batch_add(struct batch *b, bool runtime, int rc, const char *origin, cJSON *ids, struct buf *err)
{
	if (rc == SCRIPT_OK)
		rc = batch_fits(b, origin, err);
	if (rc != SCRIPT_OK) {
		chain_free(b->head);
		memset(b, 0, sizeof(*b));
		return rc;
	}
	for (struct rule *r = b->head; r && ids; r = r->next)
		cJSON_AddItemToArray(ids, cJSON_CreateString(r->id));
	batch_commit(b, runtime);
	return SCRIPT_OK;
}

int script_add(const cJSON *json, cJSON *ids, struct buf *err)
{
	struct batch b = { 0 };
	return batch_add(&b, true, parse_text("body", NULL, 0, json, true, &b, err), "body", ids, err);
}

int script_add_text(const char *text, size_t len, cJSON *ids, struct buf *err)
{
	struct batch b = { 0 };
	return batch_add(&b, true, parse_text("body", text, len, NULL, true, &b, err), "body", ids, err);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Check the rules of one file into b (appended); SCRIPT_BAD with its problems in err. */
static int load_file(const char *path, struct batch *b, struct buf *err)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		buf_printf(err, "%s: cannot open: %m\n", path);
		return SCRIPT_BAD;
	}
	struct buf text;
	buf_init(&text, SCRIPT_MAX_FILE);
	char chunk[8192];
	size_t got;
	int rc = SCRIPT_BAD;
	while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (buf_add(&text, chunk, got) != BUF_OK) {
			buf_printf(err, "%s: larger than %u bytes\n", path, SCRIPT_MAX_FILE);
			goto out;
		}
	}
	struct batch one = { 0 };
	rc = parse_text(path, buf_str(&text), text.len, NULL, false, &one, err);
	if (one.head) {
		if (b->tail)
			b->tail->next = one.head;
		else
			b->head = one.head;
		b->tail = one.tail;
	}
	b->count += one.count;
	b->bytes += one.bytes;
	b->files++;
out:
	fclose(f);
	buf_release(&text);
	return rc;
}

/* The *.json files of folder dir, sorted, into b; SCRIPT_BAD when any has a problem (all are read). */
static int load_dir(const char *dir, struct batch *b, struct buf *err)
{
	DIR *d = opendir(dir);
	if (!d) {
		buf_printf(err, "%s: cannot open the scripts folder: %m\n", dir);
		return SCRIPT_BAD;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	int rc = SCRIPT_OK;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0 || e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			char **nn = realloc(names, cap * sizeof(*names));
			if (!nn) {
				buf_printf(err, "%s: out of memory\n", dir);
				rc = SCRIPT_BAD;
				break;
			}
			names = nn;
		}
		if (!(names[n] = strdup(e->d_name))) {
			buf_printf(err, "%s: out of memory\n", dir);
			rc = SCRIPT_BAD;
			break;
		}
		n++;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), name_cmp);
	for (size_t i = 0; i < n; i++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", names[i]);
		if (rc != SCRIPT_BAD || i < n)   /* every file is read, so every problem is listed */
			if (load_file(path, b, err) != SCRIPT_OK)
				rc = SCRIPT_BAD;
		free(names[i]);
	}
	free(names);
	return rc;
}

int script_load(const char *path, unsigned *files, struct buf *err)
{
	struct stat st;
	struct batch b = { 0 };
	int rc;
	if (stat(path, &st) < 0) {
		buf_printf(err, "%s: cannot open the scripts: %m\n", path);
		return SCRIPT_BAD;
	}
	if (S_ISDIR(st.st_mode))
		rc = load_dir(path, &b, err);
	else
		rc = load_file(path, &b, err);
	unsigned nfiles = b.files;
	rc = batch_add(&b, false, rc, path, NULL, err);
	if (files)
		*files = rc == SCRIPT_OK ? nfiles : 0;
	return rc;
}

void script_set_max_bytes(size_t max)
{
	max_rule_bytes = max;
}

cJSON *script_usage_json(void)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "count", (double)nrules);
	cJSON_AddNumberToObject(o, "bytes", (double)rule_bytes);
	cJSON_AddNumberToObject(o, "max_bytes", (double)max_rule_bytes);
	return o;
}

void script_usage(size_t *count, size_t *bytes, size_t *max_bytes)
{
	*count = nrules;
	*bytes = rule_bytes;
	*max_bytes = max_rule_bytes;
}

void script_clear_runtime(void)
{
	struct rule **pp = &rules;
	while (*pp) {
		struct rule *r = *pp;
		if (r->runtime) {
			*pp = r->next;
			rule_bytes -= r->bytes;
			rule_free(r);
			nrules--;
		} else {
			pp = &r->next;
		}
	}
}

static void forget_made(void);

void script_release(void)
{
	forget_made();
	while (rules) {
		struct rule *next = rules->next;
		rule_free(rules);
		rules = next;
	}
	nrules = 0;
	rule_bytes = 0;
}

int script_reset(const char *path, struct buf *err)
{
	script_release();
	next_rule_no = 0;
	return path ? script_load(path, NULL, err) : 0;
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

/* A search that hits a limit is no match: the rule's author hears of it once, in the log. */
static bool regex_matches(struct rule *r, const char *msg)
{
	struct buf why;
	buf_init(&why, 256);
	enum pattern_result m = pattern_search(r->re, msg, strlen(msg), &rule_limits, &why);
	if (m == PATTERN_ERROR && !r->warned) {
		r->warned = true;
		log_warn("rule %s: the regex search gave up, taken as no match: %s", r->id, buf_str(&why));
	}
	buf_release(&why);
	return m == PATTERN_MATCH;
}

static bool rule_matches(struct rule *r, const char *api, const char *model, const char *msg)
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
		return regex_matches(r, msg);
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

/* The generator's answer for a request hash, a fresh one held by its caller; NULL when out of memory. */
static struct plan_answer *answer_generate(uint64_t x)
{
	size_t nwords = 8 + (size_t)(x % 17), nv = sizeof(vocabulary) / sizeof(*vocabulary);
	struct buf text;
	buf_init(&text, 4096);
	for (size_t i = 0; i < nwords; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift64 */
		const char *w = vocabulary[x % nv];
		buf_addc(&text, i ? ' ' : w[0] >= 'a' && w[0] <= 'z' ? (char)(w[0] - 32) : w[0]);
		buf_adds(&text, i ? w : w + 1);
	}
	buf_addc(&text, '.');
	struct plan_answer *a = answer_from_text(buf_str(&text), text.len);
	buf_release(&text);
	return a;
}

/*
 * The default answers made last, by the request hash each comes from (the answer is a function of
 * that hash alone, so a slot that holds the hash holds the answer): clients that ask the same thing
 * again, a benchmark, a retrying client, a suite, share one answer instead of making it anew. A slot
 * holds a reference; answers are never changed once made.
 */
#define MADE_SLOTS 64
static struct {
	uint64_t hash;
	struct plan_answer *answer;
} made[MADE_SLOTS];

/* The default answer to a request, referenced for the caller; NULL when out of memory. */
static struct plan_answer *answer_default(const char *api, const char *model, const char *msg)
{
	uint64_t x = request_hash(api, model, msg);
	struct plan_answer **slot = &made[x % MADE_SLOTS].answer;
	if (*slot && made[x % MADE_SLOTS].hash == x)
		return answer_ref(*slot);
	struct plan_answer *a = answer_generate(x);
	if (a) {
		answer_unref(*slot);
		*slot = answer_ref(a);
		made[x % MADE_SLOTS].hash = x;
	}
	return a;
}

static void forget_made(void)
{
	for (size_t i = 0; i < MADE_SLOTS; i++) {
		answer_unref(made[i].answer);
		made[i].answer = NULL;
	}
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
		/* Its own: it takes the rule's answer as its base. */
		struct plan_answer *gen = answer_generate(request_hash(api, model, message));
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
		rule_bytes -= r->bytes;
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
