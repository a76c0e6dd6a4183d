#include "mockd/keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
		buf_printf(err, "cannot open %s: %m", path);
		return NULL;
	}
	struct buf b;
	buf_init(&b, max);
	char chunk[8192];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (buf_add(&b, chunk, n) != BUF_OK) {
			buf_printf(err, "%s: larger than %zu bytes", path, max);
			buf_release(&b);
			fclose(f);
			return NULL;
		}
	}
	fclose(f);
	return buf_detach(&b, len);
}

/* Parse one entry of "keys"; -1 with a message naming keys[i]. */
static int parse_key(const cJSON *o, size_t i, struct api_key *k, const char *path, struct buf *err)
{
	memset(k, 0, sizeof(*k));
	k->quota = -1;
	const char *api = json_get_string(o, "api"), *key = json_get_string(o, "key");
	if (!cJSON_IsObject(o) || !api || !key || !*key) {
		buf_printf(err, "%s: keys[%zu]: needs string members \"api\" and \"key\"", path, i);
		return -1;
	}
	const char *user = json_get_string(o, "user_id"), *kind = json_get_string(o, "kind");
	k->api = strdup(api);
	k->key = strdup(key);
	k->user_id = strdup(user ? user : "");
	k->kind = strdup(kind ? kind : "");
	if (!k->api || !k->key || !k->user_id || !k->kind) {
		buf_printf(err, "%s: keys[%zu]: out of memory", path, i);
		return -1;
	}
	const cJSON *scopes = cJSON_GetObjectItemCaseSensitive(o, "scopes");
	if (scopes && !cJSON_IsArray(scopes)) {
		buf_printf(err, "%s: keys[%zu].scopes: must be an array of strings", path, i);
		return -1;
	}
	size_t ns = scopes ? (size_t)cJSON_GetArraySize(scopes) : 0;
	k->scopes = calloc(ns ? ns : 1, sizeof(char *));
	if (!k->scopes) {
		buf_printf(err, "%s: keys[%zu]: out of memory", path, i);
		return -1;
	}
	const cJSON *s;
	cJSON_ArrayForEach(s, scopes)
	{
		if (!cJSON_IsString(s)) {
			buf_printf(err, "%s: keys[%zu].scopes: must be an array of strings", path, i);
			return -1;
		}
		if (!(k->scopes[k->nscopes] = strdup(s->valuestring))) {
			buf_printf(err, "%s: keys[%zu]: out of memory", path, i);
			return -1;
		}
		k->nscopes++;
	}
	const cJSON *quota = cJSON_GetObjectItemCaseSensitive(o, "quota");
	if (quota && !cJSON_IsNull(quota)) {
		if (!json_is_integer(quota) || quota->valuedouble < 0) {
			buf_printf(err, "%s: keys[%zu].quota: must be a whole number of tokens", path, i);
			return -1;
		}
		k->quota = (long)quota->valuedouble;
	}
	return 0;
}

int keys_load(const char *path, struct buf *err)
{
	size_t len;
	char *text = read_file(path, KEYS_MAX_FILE, &len, err);
	if (!text)
		return -1;
	cJSON *root = json_parse_exact(text, len);
	free(text);
	struct api_key *nk = NULL;
	size_t n = 0;
	if (!root || !cJSON_IsObject(root)) {
		buf_printf(err, "%s: not a JSON object", path);
		goto fail;
	}
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "keys");
	if (!cJSON_IsArray(list)) {
		buf_printf(err, "%s: \"keys\" must be an array", path);
		goto fail;
	}
	nk = calloc((size_t)cJSON_GetArraySize(list) + 1, sizeof(*nk));
	if (!nk) {
		buf_printf(err, "%s: out of memory", path);
		goto fail;
	}
	const cJSON *item;
	cJSON_ArrayForEach(item, list)
	{
		if (parse_key(item, n, &nk[n], path, err) < 0) {
			n++;
			goto fail;
		}
		n++;
	}
	cJSON *cfg = cJSON_DetachItemFromObjectCaseSensitive(root, "config");
	if (cfg && !cJSON_IsObject(cfg)) {
		cJSON_Delete(cfg);
		buf_printf(err, "%s: \"config\" must be an object", path);
		goto fail;
	}
	keys_release();
	keys = nk;
	nkeys = n;
	config = cfg;
	cJSON_Delete(root);
	return 0;
fail:
	for (size_t i = 0; i < n; i++)
		key_release(&nk[i]);
	free(nk);
	cJSON_Delete(root);
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
