#include "mockd/keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/jcheck.h"
#include "common/jpath.h"
#include "common/json.h"

#define KEYS_MAX_FILE (4u * 1024 * 1024)

static struct api_key *keys;
static size_t nkeys;
static cJSON *config;
static cJSON *empty_config;

static void key_release(struct api_key *k)
{
	free(k->api);
	free(k->key);
	free(k->user_id);
	free(k->kind);
	for (size_t i = 0; i < k->nscopes; i++)
		free(k->scopes[i]);
	free(k->scopes);
}

void keys_release(void)
{
	for (size_t i = 0; i < nkeys; i++)
		key_release(&keys[i]);
	free(keys);
	keys = NULL;
	nkeys = 0;
	cJSON_Delete(config);
	config = NULL;
	cJSON_Delete(empty_config);
	empty_config = NULL;
}

static char *read_file(const char *path, size_t max, size_t *len, struct buf *err)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		buf_printf(err, "%s: cannot open: %m\n", path);
		return NULL;
	}
	struct buf b;
	buf_init(&b, max);
	char chunk[8192];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (buf_add(&b, chunk, n) != BUF_OK) {
			buf_printf(err, "%s: larger than %zu bytes\n", path, max);
			buf_release(&b);
			fclose(f);
			return NULL;
		}
	}
	fclose(f);
	return buf_detach(&b, len);
}

static const char *const api_names[] = { "botchat", "deepwiki", "threads", "widget", NULL };
static const char *const dw_scopes[] = { "chat", "research", "history", "ws", NULL };
static const char *const threads_kinds[] = { "key", "token", NULL };

const char *const *keys_api_names(void)
{
	return api_names;
}

size_t keys_count(void)
{
	return nkeys;
}

/* Check one entry of "keys" at path and fill k; problems go to c. */
static void parse_key(struct jcheck *c, const cJSON *o, const char *path, struct api_key *k)
{
	static const char *const members[] = { "api", "key", "user_id", "scopes", "quota", "kind", NULL };
	char p[JCHECK_PATH_LEN];
	k->quota = -1;
	if (!cJSON_IsObject(o)) {
		jcheck_bad(c, o, path, "a key must be an object, got %s", json_type_name(o));
		return;
	}
	jcheck_members(c, o, path, members);
	int api = jcheck_enum(c, o, path, "api", api_names, "API", true);
	const char *key = jcheck_string(c, o, path, "key", true);
	if (key && !*key) {
		jpath_key(p, sizeof(p), path, "key");
		jcheck_bad(c, cJSON_GetObjectItemCaseSensitive(o, "key"), p, "the key cannot be empty");
	}
	const char *user = jcheck_string(c, o, path, "user_id", false);
	const cJSON *kind = cJSON_GetObjectItemCaseSensitive(o, "kind");
	bool threads = api >= 0 && strcmp(api_names[api], "threads") == 0;
	bool deepwiki = api >= 0 && strcmp(api_names[api], "deepwiki") == 0;
	jpath_key(p, sizeof(p), path, "kind");
	if (kind && api >= 0 && !threads)
		jcheck_bad_name(c, kind, p, "only threads keys have a kind");
	else if (threads && jcheck_enum(c, o, path, "kind", threads_kinds, "kind of threads credential", true) < 0)
		kind = NULL;
	const cJSON *scopes = jcheck_array(c, o, path, "scopes", false);
	jpath_key(p, sizeof(p), path, "scopes");
	if (scopes && api >= 0 && !deepwiki) {
		jcheck_bad_name(c, scopes, p, "only deepwiki keys have scopes");
		scopes = NULL;
	}
	long quota;
	const cJSON *q = cJSON_GetObjectItemCaseSensitive(o, "quota");
	if (q && !cJSON_IsNull(q) && jcheck_count(c, o, path, "quota", 0, 1000000000000L, &quota))
		k->quota = quota;
	size_t ns = scopes ? (size_t)cJSON_GetArraySize(scopes) : 0;
	k->api = strdup(api >= 0 ? api_names[api] : "");
	k->key = strdup(key ? key : "");
	k->user_id = strdup(user ? user : "");
	k->kind = strdup(cJSON_IsString(kind) ? kind->valuestring : "");
	k->scopes = calloc(ns ? ns : 1, sizeof(char *));
	if (!k->api || !k->key || !k->user_id || !k->kind || !k->scopes) {
		jcheck_bad(c, o, path, "out of memory");
		return;
	}
	size_t i = 0;
	const cJSON *s;
	cJSON_ArrayForEach(s, scopes)
	{
		char sp[JCHECK_PATH_LEN];
		jpath_index(sp, sizeof(sp), p, i++);
		int n = jcheck_enum_value(c, s, sp, dw_scopes, "scope");
		if (n >= 0 && !(k->scopes[k->nscopes++] = strdup(dw_scopes[n])))
			jcheck_bad(c, s, sp, "out of memory");
	}
}

/* Check a {"limit": N, "window_seconds": S} member of an API's config. */
static void check_window(struct jcheck *c, const cJSON *o, const char *path, const char *name)
{
	static const char *const members[] = { "limit", "window_seconds", NULL };
	const cJSON *w = jcheck_object(c, o, path, name, false, members);
	char p[JCHECK_PATH_LEN];
	long v;
	jpath_key(p, sizeof(p), path, name);
	jcheck_count(c, w, p, "limit", 1, 1000000000, &v);
	jcheck_count(c, w, p, "window_seconds", 1, 86400 * 365, &v);
}

/* Check "config": the settings each API reads (docs/mockd.md, "Keys file"). */
static void check_config(struct jcheck *c, const cJSON *root)
{
	static const char *const apis[] = { "deepwiki", "widget", "botchat", NULL };
	static const char *const dw[] = { "rate_limits", NULL };
	static const char *const widget[] = { "rate_limit", NULL };
	static const char *const botchat[] = { "rate_limit", "channels", NULL };
	static const char *const channel[] = { "enabled", NULL };
	const cJSON *cfg = jcheck_object(c, root, "", "config", false, apis), *o, *ch;
	long v;
	bool b;
	if ((o = jcheck_object(c, cfg, "config", "deepwiki", false, dw))) {
		static const char *const policies[] = { "chat", "research", "history", "websocket", NULL };
		const cJSON *limits = jcheck_object(c, o, "config.deepwiki", "rate_limits", false, policies);
		for (int i = 0; limits && policies[i]; i++)
			jcheck_count(c, limits, "config.deepwiki.rate_limits", policies[i], 1, 1000000000, &v);
	}
	if ((o = jcheck_object(c, cfg, "config", "widget", false, widget)))
		check_window(c, o, "config.widget", "rate_limit");
	if ((o = jcheck_object(c, cfg, "config", "botchat", false, botchat))) {
		check_window(c, o, "config.botchat", "rate_limit");
		const cJSON *channels = jcheck_object(c, o, "config.botchat", "channels", false, NULL);
		cJSON_ArrayForEach(ch, channels)
		{
			char p[JCHECK_PATH_LEN];
			jpath_key(p, sizeof(p), "config.botchat.channels", ch->string);
			if (!cJSON_IsObject(ch)) {
				jcheck_bad(c, ch, p, "expected an object {\"enabled\": true|false}, got %s",
					   json_type_name(ch));
				continue;
			}
			jcheck_members(c, ch, p, channel);
			jcheck_bool(c, ch, p, "enabled", &b);
		}
	}
}

int keys_load(const char *path, struct buf *err)
{
	static const char *const members[] = { "keys", "config", "description", NULL };
	size_t len;
	struct jcheck c;
	struct api_key *nk = NULL;
	size_t n = 0;
	cJSON *root = NULL;
	char *text = read_file(path, KEYS_MAX_FILE, &len, err);
	if (!text)
		return -1;
	jcheck_init(&c, path, text, len, err);
	if (!(root = jcheck_parse(&c)))
		goto fail;
	if (!cJSON_IsObject(root)) {
		jcheck_bad(&c, root, "", "a keys file must be an object {\"keys\": [...], \"config\": {...}}, got %s",
			   json_type_name(root));
		goto fail;
	}
	jcheck_members(&c, root, "", members);
	jcheck_string(&c, root, "", "description", false);
	const cJSON *list = jcheck_array(&c, root, "", "keys", true);
	nk = calloc((size_t)cJSON_GetArraySize(list) + 1, sizeof(*nk));
	if (!nk) {
		jcheck_bad(&c, root, "", "out of memory");
		goto fail;
	}
	const cJSON *item;
	cJSON_ArrayForEach(item, list)
	{
		char p[JCHECK_PATH_LEN];
		jpath_index(p, sizeof(p), "keys", n);
		parse_key(&c, item, p, &nk[n++]);
	}
	check_config(&c, root);
	if (jcheck_finish(&c))
		goto fail;
	cJSON *cfg = cJSON_DetachItemFromObjectCaseSensitive(root, "config");
	keys_release();
	keys = nk;
	nkeys = n;
	config = cfg;
	cJSON_Delete(root);
	free(text);
	return 0;
fail:
	jcheck_finish(&c);
	for (size_t i = 0; i < n; i++)
		key_release(&nk[i]);
	free(nk);
	cJSON_Delete(root);
	free(text);
	return -1;
}

/* Compare in time that depends on the lengths only, not on where the first difference is. */
static bool equal_ct(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char diff = la != lb;
	for (size_t i = 0; i < la; i++)
		diff |= (unsigned char)a[i] ^ (unsigned char)b[i % (lb ? lb : 1)];
	return diff == 0 && lb != 0;
}

struct api_key *keys_find_kind(const char *api, const char *kind, const char *presented)
{
	struct api_key *found = NULL;
	if (!presented)
		return NULL;
	/* Every key of the API is compared, so the time does not tell which one matched. */
	for (size_t i = 0; i < nkeys; i++)
		if (strcmp(keys[i].api, api) == 0 && (!kind || strcmp(keys[i].kind, kind) == 0) &&
		    equal_ct(keys[i].key, presented) && !found)
			found = &keys[i];
	return found;
}

struct api_key *keys_first_kind(const char *api, const char *kind)
{
	for (size_t i = 0; i < nkeys; i++)
		if (strcmp(keys[i].api, api) == 0 && strcmp(keys[i].kind, kind) == 0)
			return &keys[i];
	return NULL;
}

struct api_key *keys_find(const char *api, const char *presented)
{
	return keys_find_kind(api, NULL, presented);
}

bool key_has_scope(const struct api_key *k, const char *scope)
{
	for (size_t i = 0; i < k->nscopes; i++)
		if (strcmp(k->scopes[i], scope) == 0)
			return true;
	return false;
}

const cJSON *keys_api_config(const char *api)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(config, api);
	if (cJSON_IsObject(c))
		return c;
	if (!empty_config)
		empty_config = cJSON_CreateObject();
	return empty_config;
}

void keys_reset_usage(void)
{
	for (size_t i = 0; i < nkeys; i++)
		keys[i].used = 0;
}
