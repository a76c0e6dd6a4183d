/*
 * vars: scopes of name -> JSON value, and ${...} expansion.
 *
 * A scope is a short linked list (a case has a handful of variables and
 * captures), searched newest first so that setting a name again overrides it.
 */
#include "runner/vars.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/jpath.h"

#define VARS_MAX_EXPANSION (1024 * 1024)  /* bytes of one expanded string */
#define VARS_MAX_NAME      256

struct var {
	char *name;
	cJSON *value;
	struct var *next;
};

struct vars {
	const struct vars *parent;
	struct var *head;
};

struct vars *vars_new(const struct vars *parent)
{
	struct vars *v = calloc(1, sizeof(*v));
	if (v)
		v->parent = parent;
	return v;
}

void vars_free(struct vars *v)
{
	if (!v)
		return;
	struct var *e = v->head;
	while (e) {
		struct var *next = e->next;
		free(e->name);
		cJSON_Delete(e->value);
		free(e);
		e = next;
	}
	free(v);
}

void vars_set(struct vars *v, const char *name, cJSON *value)
{
	if (!v || !name || !value) {
		cJSON_Delete(value);
		return;
	}
	for (struct var *e = v->head; e; e = e->next) {
		if (strcmp(e->name, name) == 0) {
			cJSON_Delete(e->value);
			e->value = value;
			return;
		}
	}
	struct var *e = calloc(1, sizeof(*e));
	char *copy = strdup(name);
	if (!e || !copy) {
		free(e);
		free(copy);
		cJSON_Delete(value);
		return;
	}
	e->name = copy;
	e->value = value;
	e->next = v->head;
	v->head = e;
}

void vars_set_string(struct vars *v, const char *name, const char *value)
{
	vars_set(v, name, cJSON_CreateString(value));
}

/* Look name[0..n) up through the scopes. */
static const cJSON *lookup(const struct vars *v, const char *name, size_t n)
{
	for (; v; v = v->parent)
		for (const struct var *e = v->head; e; e = e->next)
			if (strlen(e->name) == n && memcmp(e->name, name, n) == 0)
				return e->value;
	return NULL;
}

const cJSON *vars_get(const struct vars *v, const char *name)
{
	return lookup(v, name, strlen(name));
}

/* "bad environment variable name in ${...}", the reference ref[0..n) quoted on one line. */
static void bad_name(struct buf *err, const char *ref, size_t n)
{
	char q[JPATH_QUOTE_LEN];
	jpath_quote(q, sizeof(q), ref, n, 80);
	buf_printf(err, "bad environment variable name in ${%s}", q);
}

/*
 * A reference "${...}" whose body is ref[0..n): an env lookup or a variable.
 * Appends its text to out; returns 0, or -1 with err.
 */
static int expand_ref(const struct vars *v, const char *ref, size_t n, struct buf *out,
		      struct buf *err)
{
	if (n > 4 && memcmp(ref, "env:", 4) == 0) {
		const char *name = ref + 4;
		const char *bar = memchr(name, '|', n - 4);
		size_t name_len = bar ? (size_t)(bar - name) : n - 4;
		char env[VARS_MAX_NAME + 1];
		if (name_len == 0 || name_len > VARS_MAX_NAME) {
			bad_name(err, ref, n);
			return -1;
		}
		memcpy(env, name, name_len);
		env[name_len] = '\0';
		const char *val = getenv(env);
		if (val) {
			if (buf_adds(out, val) != BUF_OK)
				goto too_big;
			return 0;
		}
		if (!bar) {
			char q[JPATH_QUOTE_LEN];
			jpath_quote(q, sizeof(q), env, name_len, 100);
			buf_printf(err, "environment variable %s is not set (write ${env:%s|default})", q, q);
			return -1;
		}
		if (buf_add(out, bar + 1, n - 4 - name_len - 1) != BUF_OK)
			goto too_big;
		return 0;
	}
	if (n == 0) {
		buf_adds(err, "empty variable name in ${}");
		return -1;
	}
	const cJSON *val = lookup(v, ref, n);
	if (!val) {
		char q[JPATH_QUOTE_LEN];
		jpath_quote(q, sizeof(q), ref, n, 100);
		buf_printf(err, "unknown variable ${%s}", q);
		return -1;
	}
	if (cJSON_IsString(val)) {
		if (buf_adds(out, val->valuestring) != BUF_OK)
			goto too_big;
		return 0;
	}
	char *s = cJSON_PrintUnformatted(val);
	if (!s) {
		buf_adds(err, "out of memory");
		return -1;
	}
	enum buf_result r = buf_adds(out, s);
	cJSON_free(s);
	if (r != BUF_OK)
		goto too_big;
	return 0;
too_big:
	buf_printf(err, "expanded string longer than %d bytes", VARS_MAX_EXPANSION);
	return -1;
}

/*
 * Walk s: with out == NULL only check the syntax (for the loader), otherwise
 * expand into out.
 */
static int expand_into(const struct vars *v, const char *s, struct buf *out, struct buf *err)
{
	const char *p = s;
	while (*p) {
		if (p[0] == '$' && p[1] == '$' && p[2] == '{') {
			if (out && buf_add(out, "${", 2) != BUF_OK)
				goto too_big;
			p += 3;
			continue;
		}
		if (p[0] == '$' && p[1] == '{') {
			const char *end = strchr(p + 2, '}');
			if (!end) {
				char q[JPATH_QUOTE_LEN];
				jpath_quote(q, sizeof(q), s, strlen(s), 60);
				buf_printf(err, "unterminated \"${\" in \"%s\"", q);
				return -1;
			}
			size_t n = (size_t)(end - (p + 2));
			if (n == 0) {
				buf_adds(err, "empty variable name in ${}");
				return -1;
			}
			if (!out) {
				if (n > 4 && memcmp(p + 2, "env:", 4) == 0) {
					size_t name_len = strcspn(p + 6, "|}");
					if (name_len == 0 || name_len > VARS_MAX_NAME) {
						bad_name(err, p + 2, n);
						return -1;
					}
				}
			} else if (expand_ref(v, p + 2, n, out, err) < 0) {
				return -1;
			}
			p = end + 1;
			continue;
		}
		const char *next = strchr(p + 1, '$');
		size_t n = next ? (size_t)(next - p) : strlen(p);
		if (out && buf_add(out, p, n) != BUF_OK)
			goto too_big;
		p += n;
	}
	return 0;
too_big:
	buf_printf(err, "expanded string longer than %d bytes", VARS_MAX_EXPANSION);
	return -1;
}

int vars_check(const char *s, struct buf *err)
{
	return expand_into(NULL, s, NULL, err);
}

char *vars_expand_string(const struct vars *v, const char *s, struct buf *err)
{
	struct buf out;
	buf_init(&out, VARS_MAX_EXPANSION);
	if (expand_into(v, s, &out, err) < 0) {
		buf_release(&out);
		return NULL;
	}
	char *r = buf_detach(&out, NULL);
	if (!r)
		buf_adds(err, "out of memory");
	return r;
}

/* When s is exactly "${NAME}" (not env:), the length of NAME; else 0. */
static size_t whole_reference(const char *s)
{
	if (s[0] != '$' || s[1] != '{')
		return 0;
	size_t n = strcspn(s + 2, "}");
	if (n == 0 || s[2 + n] != '}' || s[3 + n] != '\0')
		return 0;
	if (n > 4 && memcmp(s + 2, "env:", 4) == 0)
		return 0;
	return n;
}

static cJSON *expand_node(const struct vars *v, const cJSON *t, struct buf *err, int depth)
{
	if (depth > 200) {
		buf_adds(err, "JSON nested too deeply");
		return NULL;
	}
	if (cJSON_IsString(t)) {
		size_t n = whole_reference(t->valuestring);
		if (n) {
			const cJSON *val = lookup(v, t->valuestring + 2, n);
			if (!val) {
				char q[JPATH_QUOTE_LEN];
				jpath_quote(q, sizeof(q), t->valuestring, strlen(t->valuestring), 100);
				buf_printf(err, "unknown variable %s", q);
				return NULL;
			}
			cJSON *dup = cJSON_Duplicate(val, 1);
			if (!dup)
				buf_adds(err, "out of memory");
			return dup;
		}
		char *s = vars_expand_string(v, t->valuestring, err);
		if (!s)
			return NULL;
		cJSON *r = cJSON_CreateString(s);
		free(s);
		if (!r)
			buf_adds(err, "out of memory");
		return r;
	}
	if (cJSON_IsArray(t) || cJSON_IsObject(t)) {
		cJSON *r = cJSON_IsArray(t) ? cJSON_CreateArray() : cJSON_CreateObject();
		if (!r)
			goto nomem;
		for (const cJSON *c = t->child; c; c = c->next) {
			cJSON *x = expand_node(v, c, err, depth + 1);
			if (!x) {
				cJSON_Delete(r);
				return NULL;
			}
			if (cJSON_IsArray(t)) {
				cJSON_AddItemToArray(r, x);
			} else if (!cJSON_AddItemToObject(r, c->string, x)) {
				cJSON_Delete(x);
				cJSON_Delete(r);
				goto nomem;
			}
		}
		return r;
	}
	cJSON *r = cJSON_Duplicate(t, 0);
	if (r)
		return r;
nomem:
	buf_adds(err, "out of memory");
	return NULL;
}

cJSON *vars_expand_json(const struct vars *v, const cJSON *tmpl, struct buf *err)
{
	if (!tmpl) {
		buf_adds(err, "nothing to expand");
		return NULL;
	}
	return expand_node(v, tmpl, err, 0);
}
