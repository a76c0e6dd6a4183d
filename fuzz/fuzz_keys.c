/*
 * fuzz_keys: mockd's keys file loader (mockd/keys.c, --keys FILE) on arbitrary files.
 *
 * keys_load either succeeds with nothing in err, or fails with every problem on
 * a line "FILE:LINE:COL: ..." (jcheck; only the closing "and N more problems"
 * line has no position) and leaves the keys in force as they were.  A loaded
 * set finds each of its keys (keys_find by API and key, keys_find_kind with the
 * kind), holds the scopes of keys that are unique, counts as many keys as the
 * file lists, frees, and loads again to the same count.  Never a crash or a leak.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "common/buf.h"
#include "fuzz/fuzz.h"
#include "fuzz/fuzz_file.h"
#include "mockd/keys.h"

static struct fuzz_file file;

/* Every line of err names the file, and all but "and N more problems" a line and column. */
static void check_messages(const char *path, const struct buf *err)
{
	size_t plen = strlen(path);
	const char *p = buf_str(err);
	FUZZ_CHECK(err->len > 0, "keys_load failed and said nothing");
	FUZZ_CHECK(err->data[err->len - 1] == '\n', "the last message has no newline: %s", p);
	while (*p) {
		const char *eol = strchr(p, '\n');
		FUZZ_CHECK(eol, "a message without its newline: %s", p);
		FUZZ_CHECK(strncmp(p, path, plen) == 0 && p[plen] == ':', "a message that does not name the file: %.*s",
			   (int)(eol - p), p);
		const char *q = p + plen + 1;
		if (strncmp(q, " and ", 5) != 0) {
			char *e1, *e2;
			long line = strtol(q, &e1, 10);
			long col = *e1 == ':' ? strtol(e1 + 1, &e2, 10) : 0;
			FUZZ_CHECK(e1 != q && *e1 == ':' && e2 != e1 + 1 && *e2 == ':' && line >= 1 && col >= 1,
				   "a message without FILE:LINE:COL: %.*s", (int)(eol - p), p);
		}
		p = eol + 1;
	}
}

/* The keys the file lists (the loader accepted it: each is an object with string api and key). */
static void check_loaded(const cJSON *root)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "keys");
	FUZZ_CHECK(keys_count() == (size_t)cJSON_GetArraySize(list), "%zu keys loaded, the file lists %d",
		   keys_count(), cJSON_GetArraySize(list));
	const cJSON *k;
	cJSON_ArrayForEach(k, list)
	{
		const char *api = cJSON_GetObjectItemCaseSensitive(k, "api")->valuestring;
		const char *key = cJSON_GetObjectItemCaseSensitive(k, "key")->valuestring;
		const cJSON *kind = cJSON_GetObjectItemCaseSensitive(k, "kind");
		struct api_key *found = keys_find(api, key);
		FUZZ_CHECK(found && strcmp(found->api, api) == 0 && strcmp(found->key, key) == 0,
			   "key \"%s\" of %s is not found", key, api);
		FUZZ_CHECK(found->quota >= -1 && found->used == 0, "a new key has quota %ld, used %ld", found->quota,
			   found->used);
		if (cJSON_IsString(kind)) {
			struct api_key *fk = keys_find_kind(api, kind->valuestring, key);
			FUZZ_CHECK(fk && strcmp(fk->kind, kind->valuestring) == 0, "key \"%s\" is not found as a %s",
				   key, kind->valuestring);
			FUZZ_CHECK(keys_first_kind(api, kind->valuestring) != NULL, "no first %s of %s",
				   kind->valuestring, api);
		}
		/* Another key of the same API and text is found first: its scopes are its own. */
		bool unique = true;
		const cJSON *o;
		cJSON_ArrayForEach(o, list)
		if (o != k && strcmp(cJSON_GetObjectItemCaseSensitive(o, "api")->valuestring, api) == 0 &&
		    strcmp(cJSON_GetObjectItemCaseSensitive(o, "key")->valuestring, key) == 0)
			unique = false;
		const cJSON *s, *scopes = unique ? cJSON_GetObjectItemCaseSensitive(k, "scopes") : NULL;
		cJSON_ArrayForEach(s, scopes)
		FUZZ_CHECK(key_has_scope(found, s->valuestring), "key \"%s\" lacks its scope %s", key,
			   s->valuestring);
		/* A key one byte longer or shorter is another key. */
		size_t n = strlen(key);
		char *longer = malloc(n + 2);
		memcpy(longer, key, n);
		longer[n] = 'x';
		longer[n + 1] = '\0';
		found = keys_find(api, longer);
		FUZZ_CHECK(!found || strcmp(found->key, longer) == 0, "\"%s\" found as key \"%s\"", longer,
			   found->key);
		longer[n - 1] = '\0';
		found = keys_find(api, longer);
		FUZZ_CHECK(!found || strcmp(found->key, longer) == 0, "\"%s\" found as key \"%s\"", longer,
			   found->key);
		free(longer);
	}
	for (const char *const *a = keys_api_names(); *a; a++)
		FUZZ_CHECK(cJSON_IsObject(keys_api_config(*a)), "the config of %s is not an object", *a);
	keys_reset_usage();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf err;
	if (size > 1024 * 1024)
		return 0;
	const char *path = fuzz_file_put(&file, "fuzz-keys.json", data, size);
	buf_init(&err, 1u << 20);
	if (keys_load(path, &err) == 0) {
		FUZZ_CHECK(err.len == 0, "keys_load succeeded with messages: %s", buf_str(&err));
		/* Accepted: the text is JSON, so it parses here too. */
		cJSON *root = cJSON_ParseWithLength((const char *)data, size);
		FUZZ_CHECK(root, "keys_load accepted what cJSON does not parse");
		check_loaded(root);
		size_t n = keys_count();
		keys_release();
		FUZZ_CHECK(keys_count() == 0, "keys_release left %zu keys", keys_count());
		FUZZ_CHECK(keys_load(path, &err) == 0, "the same file loads once, not twice: %s", buf_str(&err));
		FUZZ_CHECK(keys_count() == n, "loaded again: %zu keys, not %zu", keys_count(), n);
		check_loaded(root);
		cJSON_Delete(root);
	} else {
		check_messages(path, &err);
		FUZZ_CHECK(keys_count() == 0, "a failed load left %zu keys", keys_count());
	}
	keys_release();
	buf_release(&err);
	return 0;
}
