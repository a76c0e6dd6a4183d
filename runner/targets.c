/*
 * targets: read a targets file, check its shape, expand its environment
 * references once, and keep the values out of every message.
 */
#include "runner/targets.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "common/json.h"
#include "common/jpath.h"
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

/* What jpath_check_members finds, as "file: path: what" lines. */
struct member_report {
	const char *file;
	struct buf *err;
};

static void member_report_cb(void *arg, const char *path, const char *what)
{
	struct member_report *self = arg;
	buf_printf(self->err, "%s: %s: %s\n", self->file, path, what);
}

/* Each member of o is one of allowed, once; -1 after a line per one that is not. */
static int check_members(const cJSON *o, const char *where, const char *const *allowed, const char *file,
			 struct buf *err)
{
	struct member_report r = { file, err };
	return jpath_check_members(o, where, allowed, member_report_cb, &r) ? -1 : 0;
}

/* An RFC 7230 tchar: what a header name is made of. */
static int is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

int targets_check_header(const char *name, const char *value, struct buf *why)
{
	/* Framed by libcurl or the WebSocket client for each request: one value for a whole run breaks them. */
	static const char *const framing[] = {
		"content-length", "transfer-encoding", "connection", "upgrade", "te", "trailer",
		"sec-websocket-key", "sec-websocket-version",
	};
	size_t n = strlen(name);
	if (!n) {
		buf_adds(why, "the name is empty");
		return -1;
	}
	if (n > TARGETS_MAX_HEADER_NAME) {
		buf_printf(why, "the name is longer than %d bytes", TARGETS_MAX_HEADER_NAME);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (!is_tchar((unsigned char)name[i])) {
			/* Not quoted: "Bearer abc" given without a name would be a secret. */
			buf_printf(why, "the name is not an RFC 7230 token: byte %zu is not one of "
				   "A-Z a-z 0-9 ! # $ %% & ' * + - . ^ _ ` | ~", i + 1);
			return -1;
		}
	for (size_t i = 0; i < sizeof(framing) / sizeof(framing[0]); i++)
		if (strcasecmp(name, framing[i]) == 0) {
			buf_printf(why, "%s is set by chatconform for each request, not for a whole run", name);
			return -1;
		}
	for (const unsigned char *p = (const unsigned char *)value; *p; p++)
		if ((*p < 0x20 && *p != '\t') || *p == 0x7f) {
			char code[8];
			snprintf(code, sizeof(code), "0x%02x", *p);
			buf_printf(why, "the value of %s holds a control character (byte %zu is %s); the value is not "
				   "shown", name, (size_t)(p - (const unsigned char *)value) + 1,
				   *p == '\r' ? "CR" : *p == '\n' ? "LF" : code);
			return -1;
		}
	return 0;
}

/* The headers of an API: names checked, values expanded and checked; -1 after saying what is wrong. */
static int load_headers(struct target_api *a, const cJSON *headers, const char *where, const char *path,
			struct buf *err)
{
	char p[512];
	const cJSON *m;
	int rc = 0;

	if (!cJSON_IsObject(headers)) {
		buf_printf(err, "%s: %s: must be an object of header name to string, got %s\n", path, where,
			   json_type_name(headers));
		return -1;
	}
	size_t n = (size_t)cJSON_GetArraySize(headers);
	if (n > TARGETS_MAX_HEADERS) {
		buf_printf(err, "%s: %s: more than %d headers\n", path, where, TARGETS_MAX_HEADERS);
		return -1;
	}
	a->hnames = calloc(n + 1, sizeof(*a->hnames));
	a->hvalues = calloc(n + 1, sizeof(*a->hvalues));
	if (!a->hnames || !a->hvalues) {
		buf_printf(err, "%s: out of memory\n", path);
		return -1;
	}
	cJSON_ArrayForEach(m, headers) {
		struct buf why;
		buf_init(&why, 1024);
		jpath_key(p, sizeof(p), where, m->string);
		if (!cJSON_IsString(m)) {
			buf_printf(err, "%s: %s: must be a string, got %s\n", path, p, json_type_name(m));
			rc = -1;
		} else if (targets_check_header(m->string, "", &why) != 0) {
			buf_printf(err, "%s: %s: %s\n", path, p, buf_str(&why));
			rc = -1;
		} else {
			for (size_t i = 0; i < a->nheaders; i++)
				if (strcasecmp(a->hnames[i], m->string) == 0) {
					buf_printf(err, "%s: %s: duplicate header (names are case-insensitive)\n", path, p);
					rc = -1;
				}
			char *v = expand_env(m->valuestring, path, p, err);
			char *name = strdup(m->string);
			buf_reset(&why);
			if (v && name && targets_check_header(name, v, &why) != 0) {
				/* The value came from the environment: said to be wrong, never shown. */
				buf_printf(err, "%s: %s: %s\n", path, p, buf_str(&why));
				explicit_bzero(v, strlen(v));
				free(v);
				v = NULL;
			}
			if (v && name) {
				a->hnames[a->nheaders] = name;
				a->hvalues[a->nheaders] = v;
				a->nheaders++;
			} else {
				free(v);
				free(name);
				rc = -1;
			}
		}
		buf_release(&why);
	}
	return rc;
}

static int load_api(struct target_api *a, const cJSON *o, const char *where, const char *path, struct buf *err)
{
	static const char *const allowed[] = { "url", "vars", "headers", NULL };
	char p[512];
	const cJSON *m;
	int rc = 0;

	if (!cJSON_IsObject(o)) {
		buf_printf(err, "%s: %s: must be an object with \"url\" (and \"vars\", \"headers\"), got %s\n", path,
			   where, json_type_name(o));
		return -1;
	}
	if (check_members(o, where, allowed, path, err) != 0)
		rc = -1;
	const cJSON *url = cJSON_GetObjectItemCaseSensitive(o, "url");
	jpath_key(p, sizeof(p), where, "url");
	if (!cJSON_IsString(url)) {
		buf_printf(err, "%s: %s: required, a string%s%s\n", path, p, url ? ", got " : "",
			   url ? json_type_name(url) : "");
		return -1;
	}
	a->url = expand_env(url->valuestring, path, p, err);
	if (!a->url)
		return -1;
	if (strncmp(a->url, "http://", 7) != 0 && strncmp(a->url, "https://", 8) != 0) {
		buf_printf(err, "%s: %s: must be an http:// or https:// URL\n", path, p);
		return -1;
	}
	const cJSON *headers = cJSON_GetObjectItemCaseSensitive(o, "headers");
	jpath_key(p, sizeof(p), where, "headers");
	if (headers && load_headers(a, headers, p, path, err) != 0)
		rc = -1;
	const cJSON *vars = cJSON_GetObjectItemCaseSensitive(o, "vars");
	jpath_key(p, sizeof(p), where, "vars");
	if (!vars)
		return rc;
	if (!cJSON_IsObject(vars)) {
		buf_printf(err, "%s: %s: must be an object of NAME to string, got %s\n", path, p, json_type_name(vars));
		return -1;
	}
	size_t n = (size_t)cJSON_GetArraySize(vars);
	a->names = calloc(n + 1, sizeof(*a->names));
	a->values = calloc(n + 1, sizeof(*a->values));
	if (!a->names || !a->values) {
		buf_printf(err, "%s: out of memory\n", path);
		return -1;
	}
	char vwhere[512];
	jpath_key(vwhere, sizeof(vwhere), where, "vars");
	cJSON_ArrayForEach(m, vars) {
		jpath_key(p, sizeof(p), vwhere, m->string);
		if (!var_name_valid(m->string) || !cJSON_IsString(m)) {
			buf_printf(err, "%s: %s: must be a variable name ([A-Za-z_][A-Za-z0-9_]*) to a string\n", path, p);
			rc = -1;
			continue;
		}
		for (size_t i = 0; i < a->nvars; i++)
			if (strcmp(a->names[i], m->string) == 0) {
				buf_printf(err, "%s: %s: duplicate member\n", path, p);
				rc = -1;
			}
		char *v = expand_env(m->valuestring, path, p, err);
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

static int name_cmp(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* "apis.NAME: unknown API; known: a, b, c": the known names sorted, each once. */
static void unknown_api(const char *path, const char *where, const char *const *known, size_t nknown,
			struct buf *err)
{
	const char **sorted = nknown ? malloc(nknown * sizeof(*sorted)) : NULL;
	buf_printf(err, "%s: %s: unknown API; known: ", path, where);
	if (!sorted) {
		buf_adds(err, nknown ? "(out of memory)\n" : "none\n");
		return;
	}
	memcpy(sorted, known, nknown * sizeof(*sorted));
	qsort(sorted, nknown, sizeof(*sorted), name_cmp);
	for (size_t i = 0; i < nknown; i++)
		if (i == 0 || strcmp(sorted[i], sorted[i - 1]) != 0)
			buf_printf(err, "%s%s", i ? ", " : "", sorted[i]);
	buf_addc(err, '\n');
	free(sorted);
}

struct targets *targets_load(const char *path, const char *const *known, size_t nknown, struct buf *err)
{
	static const char *const allowed[] = { "apis", NULL };
	struct targets *t = NULL;
	cJSON *doc = NULL;
	char *text = read_all(path, err);
	char where[512];
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
	if (check_members(doc, "", allowed, path, err) != 0)
		goto out;
	const cJSON *apis = cJSON_GetObjectItemCaseSensitive(doc, "apis");
	if (!cJSON_IsObject(apis) || !apis->child) {
		buf_printf(err, "%s: apis: required, an object of API name to {\"url\", \"vars\", \"headers\"}\n", path);
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
	const cJSON *m;
	cJSON_ArrayForEach(m, apis) {
		int is_known = 0;
		for (size_t i = 0; i < nknown && !is_known; i++)
			is_known = strcmp(known[i], m->string) == 0;
		jpath_key(where, sizeof(where), "apis", m->string);
		if (!api_name_valid(m->string) || !is_known) {
			/* A misspelt API would otherwise skip all its cases and pass. */
			unknown_api(path, where, known, nknown, err);
			bad = 1;
			continue;
		}
		if (targets_find(t, m->string)) {
			buf_printf(err, "%s: %s: duplicate member\n", path, where);
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
		if (load_api(a, m, where, path, err) != 0)
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

/* Clear a secret before its memory goes back, then free it. */
static void free_secret(char *s)
{
	if (s)
		explicit_bzero(s, strlen(s));
	free(s);
}

void targets_free(struct targets *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++) {
		struct target_api *a = &t->v[i];
		for (size_t j = 0; j < a->nvars; j++) {
			free(a->names[j]);
			free_secret(a->values[j]);
		}
		for (size_t j = 0; j < a->nheaders; j++) {
			free(a->hnames[j]);
			free_secret(a->hvalues[j]);
		}
		free(a->names);
		free(a->values);
		free(a->hnames);
		free(a->hvalues);
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
