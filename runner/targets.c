/*
 * targets: read a targets file, check its shape, expand its environment
 * references once, and keep the values out of every message.
 */
#include "runner/targets.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "common/json.h"
#include "runner/vars.h"

static int api_name_valid(const char *s)
{
	if (!*s || strlen(s) > 64)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
			return 0;
	return 1;
}

static int var_name_valid(const char *s)
{
	if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_') || strlen(s) > 256)
		return 0;
	for (s++; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_' || (*s >= '0' && *s <= '9')))
			return 0;
	return 1;
}

/*
 * Expand a template that may only reference the environment: with an empty
 * scope any ${NAME} is unknown.  NULL with "where: what" in err.  The error text
 * of vars names references, never values.
 */
static char *expand_env(const char *tmpl, const char *path, const char *where, struct buf *err)
{
	struct vars *none = vars_new(NULL);
	struct buf e;
	buf_init(&e, 4096);
	char *v = none ? vars_expand_string(none, tmpl, &e) : NULL;
	if (!v)
		buf_printf(err, "%s: %s: %s (a targets file may only use ${env:NAME} or ${env:NAME|default})\n",
			   path, where, none ? buf_str(&e) : "out of memory");
	buf_release(&e);
	vars_free(none);
	return v;
}

static char *read_all(const char *path, struct buf *err)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		buf_printf(err, "cannot read targets file %s: %s\n", path, strerror(errno));
		return NULL;
	}
	struct buf text;
	buf_init(&text, TARGETS_MAX_FILE);
	char chunk[8192];
	size_t n;
	int bad = 0;
	while (!bad && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		bad = buf_add(&text, chunk, n) != BUF_OK;
	if (bad || ferror(f)) {
		buf_printf(err, "cannot read targets file %s: %s\n", path,
			   bad ? "larger than 1 MiB" : strerror(errno));
		fclose(f);
		buf_release(&text);
		return NULL;
	}
	fclose(f);
	size_t len;
	char *data = buf_detach(&text, &len);
	return data ? data : strdup("");
}

static int load_api(struct target_api *a, const cJSON *o, const char *path, struct buf *err)
{
	char where[512];
	const cJSON *m;
	int rc = 0;

	if (!cJSON_IsObject(o)) {
		buf_printf(err, "%s: apis.%s: must be an object with \"url\" and \"vars\"\n", path, a->api);
		return -1;
	}
	cJSON_ArrayForEach(m, o) {
		if (strcmp(m->string, "url") != 0 && strcmp(m->string, "vars") != 0) {
			buf_printf(err, "%s: apis.%s.%.100s: unknown member (expected url, vars)\n", path, a->api,
				   m->string);
			rc = -1;
		}
	}
	const char *url = json_get_string(o, "url");
	snprintf(where, sizeof(where), "apis.%s.url", a->api);
	if (!url) {
		buf_printf(err, "%s: %s: required, a string\n", path, where);
		return -1;
	}
	a->url = expand_env(url, path, where, err);
	if (!a->url)
		return -1;
	if (strncmp(a->url, "http://", 7) != 0 && strncmp(a->url, "https://", 8) != 0) {
		buf_printf(err, "%s: %s: must be an http:// or https:// URL\n", path, where);
		return -1;
	}
	const cJSON *vars = cJSON_GetObjectItemCaseSensitive(o, "vars");
	if (!vars)
		return rc;
	if (!cJSON_IsObject(vars)) {
		buf_printf(err, "%s: apis.%s.vars: must be an object of NAME to string\n", path, a->api);
		return -1;
	}
	size_t n = (size_t)cJSON_GetArraySize(vars);
	a->names = calloc(n + 1, sizeof(*a->names));
	a->values = calloc(n + 1, sizeof(*a->values));
	if (!a->names || !a->values) {
		buf_printf(err, "%s: out of memory\n", path);
		return -1;
	}
	cJSON_ArrayForEach(m, vars) {
		snprintf(where, sizeof(where), "apis.%s.vars.%.100s", a->api, m->string);
		if (!var_name_valid(m->string) || !cJSON_IsString(m)) {
			buf_printf(err, "%s: %s: must be a variable name ([A-Za-z_][A-Za-z0-9_]*) to a string\n", path,
				   where);
			rc = -1;
			continue;
		}
		for (size_t i = 0; i < a->nvars; i++)
			if (strcmp(a->names[i], m->string) == 0) {
				buf_printf(err, "%s: %s: duplicate member\n", path, where);
				rc = -1;
			}
		char *v = expand_env(m->valuestring, path, where, err);
		char *name = strdup(m->string);
		if (!v || !name) {
			free(v);
			free(name);
			rc = -1;
			continue;
		}
		a->names[a->nvars] = name;
		a->values[a->nvars] = v;
		a->nvars++;
	}
	return rc;
}

struct targets *targets_load(const char *path, struct buf *err)
{
	struct targets *t = NULL;
	cJSON *doc = NULL;
	char *text = read_all(path, err);
	int rc = -1;

	if (!text)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t || !(t->path = strdup(path))) {
		buf_printf(err, "%s: out of memory\n", path);
		goto out;
	}
	doc = cJSON_Parse(text);
	if (!cJSON_IsObject(doc)) {
		buf_printf(err, "%s: not a JSON object (expected {\"apis\": {...}})\n", path);
		goto out;
	}
	const cJSON *m;
	cJSON_ArrayForEach(m, doc) {
		if (strcmp(m->string, "apis") != 0) {
			buf_printf(err, "%s: %.100s: unknown member (expected apis)\n", path, m->string);
			goto out;
		}
	}
	const cJSON *apis = cJSON_GetObjectItemCaseSensitive(doc, "apis");
	if (!cJSON_IsObject(apis) || !apis->child) {
		buf_printf(err, "%s: apis: required, an object of API name to {\"url\", \"vars\"}\n", path);
		goto out;
	}
	size_t n = (size_t)cJSON_GetArraySize(apis);
	if (n > TARGETS_MAX_APIS) {
		buf_printf(err, "%s: apis: more than %d APIs\n", path, TARGETS_MAX_APIS);
		goto out;
	}
	t->v = calloc(n, sizeof(*t->v));
	if (!t->v) {
		buf_printf(err, "%s: out of memory\n", path);
		goto out;
	}
	int bad = 0;
	cJSON_ArrayForEach(m, apis) {
		if (!api_name_valid(m->string)) {
			buf_printf(err, "%s: apis.%.100s: not an API name (lowercase [a-z0-9_-])\n", path, m->string);
			bad = 1;
			continue;
		}
		if (targets_find(t, m->string)) {
			buf_printf(err, "%s: apis.%s: duplicate member\n", path, m->string);
			bad = 1;
			continue;
		}
		struct target_api *a = &t->v[t->n++];
		a->api = strdup(m->string);
		if (!a->api) {
			buf_printf(err, "%s: out of memory\n", path);
			bad = 1;
			continue;
		}
		if (load_api(a, m, path, err) != 0)
			bad = 1;
	}
	if (!bad)
		rc = 0;
out:
	cJSON_Delete(doc);
	free(text);
	if (rc != 0) {
		targets_free(t);
		t = NULL;
	}
	return t;
}

void targets_free(struct targets *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++) {
		struct target_api *a = &t->v[i];
		for (size_t j = 0; j < a->nvars; j++) {
			free(a->names[j]);
			/* A secret: cleared before the memory goes back. */
			explicit_bzero(a->values[j], strlen(a->values[j]));
			free(a->values[j]);
		}
		free(a->names);
		free(a->values);
		free(a->api);
		free(a->url);
	}
	free(t->v);
	free(t->path);
	free(t);
}

const struct target_api *targets_find(const struct targets *t, const char *api)
{
	for (size_t i = 0; t && i < t->n; i++)
		if (t->v[i].api && strcmp(t->v[i].api, api) == 0)
			return &t->v[i];
	return NULL;
}

const char *target_api_var(const struct target_api *a, const char *name)
{
	for (size_t i = 0; a && i < a->nvars; i++)
		if (strcmp(a->names[i], name) == 0)
			return a->values[i];
	return NULL;
}

void targets_display_url(struct buf *out, const char *url)
{
	const char *scheme = strstr(url, "://");
	const char *host = scheme ? scheme + 3 : url;
	size_t hostlen = strcspn(host, "/?#");
	const char *at = memchr(host, '@', hostlen);
	buf_add(out, url, (size_t)(host - url));
	if (at) {
		/* user:password@ is a credential: shown as a mark that there was one. */
		buf_adds(out, "(userinfo)@");
		host = at + 1;
	}
	size_t rest = strcspn(host, "?#");
	buf_add(out, host, rest);
	if (host[rest])
		buf_adds(out, host[rest] == '?' ? "?(query)" : "");
}

void targets_describe(const struct targets *t, struct buf *out)
{
	buf_printf(out, "targets %s:", t->path);
	for (size_t i = 0; i < t->n; i++) {
		buf_printf(out, "%s %s ", i ? "," : "", t->v[i].api);
		targets_display_url(out, t->v[i].url);
	}
}
