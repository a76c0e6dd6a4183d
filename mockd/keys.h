/*
 * keys: the API keys mockd accepts, and each API's settings, from one JSON file.
 *
 *   { "keys": [ { "api": "deepwiki", "key": "dw-dev-key", "user_id": "user_dev",
 *                 "scopes": ["chat", "research"], "quota": 50, "kind": "key" } ],
 *     "config": { "widget": { "rate_limit": { "limit": 30, "window_seconds": 60 } } } }
 *
 * fixtures/keys.json is the default; docs/mockd.md describes every member.
 */
#ifndef CC_MOCKD_KEYS_H
#define CC_MOCKD_KEYS_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "common/buf.h"

struct api_key {
	char *api;
	char *key;
	char *user_id;           /* "" when the API has no users */
	char *kind;              /* what the credential is, where an API has several ("key", "token"); "" otherwise */
	char **scopes;
	size_t nscopes;
	long quota;              /* tokens this key may use; -1 = unlimited */
	long used;               /* tokens used so far (reset by the admin API) */
};

/* Load the file; 0, or -1 with "FILE: path: what" in err (the old keys stay in force). */
int keys_load(const char *path, struct buf *err);
void keys_release(void);
/* The key of api equal to presented, compared in constant time over every key; NULL when none. */
struct api_key *keys_find(const char *api, const char *presented);
/* Like keys_find, among the keys of one kind only. */
struct api_key *keys_find_kind(const char *api, const char *kind, const char *presented);
/* The first key of api of this kind in the file, or NULL (breaks that let a stranger in use it). */
struct api_key *keys_first_kind(const char *api, const char *kind);
/* True when the key holds the scope. */
bool key_has_scope(const struct api_key *k, const char *scope);
/* The "config" object of api (never NULL: an empty object when the file has none). */
const cJSON *keys_api_config(const char *api);
/* The names of the chat APIs, NULL-terminated: what "api" may say in the keys and scripts files. */
const char *const *keys_api_names(void);
/* How many keys are loaded. */
size_t keys_count(void);
/* Forget the tokens used by every key. */
void keys_reset_usage(void);

#endif
