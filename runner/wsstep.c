/*
 * wsstep: validating and running the "ws" step (the script executor).
 *
 * Each kind of script item is one entry of item_kinds (near the end): its
 * members, its validator and its runner side by side, so wsstep_validate and
 * wsstep_run read the same table.  The loader rejects anything the runner would
 * not understand, so the runner only meets problems a template could hide (a
 * variable that expands to a bad value).
 */
#include "runner/wsstep.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/json.h"
#include "common/timeutil.h"
#include "common/utf8.h"
#include "runner/http.h"
#include "common/jpath.h"
#include "runner/match.h"
#include "runner/response.h"
#include "runner/timing.h"
#include "runner/url.h"
#include "runner/ws.h"

#define PATH_LEN          512    /* bytes of a JSON path in a message */
#define NAME_MAX_LEN      32     /* characters of a connection name */
#define SHOW_MAX          200    /* bytes of a frame quoted in a diff line */
#define XT_FRAME_MAX      1024   /* bytes of a frame shown in the transcript */
#define XT_MAX_FRAMES     300    /* frames shown in the transcript of one step */


/* ---- small helpers --------------------------------------------------------------------------- */

static int has_template(const cJSON *v)
{
	return cJSON_IsString(v) && strstr(v->valuestring, "${") != NULL;
}

static int token_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int header_name_ok(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!token_char(*s))
			return 0;
	return 1;
}

static int conn_name_ok(const char *s)
{
	size_t n = strlen(s);
	if (!n || n > NAME_MAX_LEN)
		return 0;
	for (; *s; s++)
		if (!jpath_ident_char(*s, 0) && *s != '-')
			return 0;
	return 1;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode hex (spaces allowed between bytes) into out; -1 when it is not hex pairs. */
static int hex_decode(const char *s, struct buf *out)
{
	while (*s) {
		if (*s == ' ') {
			s++;
			continue;
		}
		int hi = hexval(s[0]), lo = hi < 0 ? -1 : hexval(s[1]);
		if (hi < 0 || lo < 0)
			return -1;
		if (buf_addc(out, (char)(hi << 4 | lo)) != BUF_OK)
			return -1;
		s += 2;
	}
	return 0;
}

/* A valid close code to send (RFC 6455 7.4): 1000-1003, 1007-1014, 3000-4999. */
static int close_code_ok(double c)
{
	if (c != (double)(long)c)
		return 0;
	long v = (long)c;
	return (v >= 1000 && v <= 1003) || (v >= 1007 && v <= 1014) || (v >= 3000 && v <= 4999);
}

/* ---- validation ------------------------------------------------------------------------------ */

enum cstate { C_NEW, C_OPEN, C_DEAD };

/* What a valid item does to its connection, which the loader follows through the script. */
enum effect {
	EFFECT_NONE,      /* uses an open connection */
	EFFECT_OPENS,     /* connect: the connection is open after it */
	EFFECT_REFUSED,   /* connect expecting a refused handshake: unusable after it */
	EFFECT_CLOSES,    /* expect close, close: unusable after it */
};

struct vconn {
	const char *name;
	enum cstate state;
	const char *why;    /* why it is dead: "its handshake is expected to be refused", "it was closed" */
};

static void err_cb(void *ctx, const char *path, const char *what)
{
	jpath_err(ctx, path, "%s", what);
}

/* Report members of o not in allowed, and members named twice: -1 when there is one. */
static int check_members(const cJSON *o, const char *path, const char *const *allowed, struct buf *err)
{
	return jpath_check_members(o, path, allowed, err_cb, err) ? -1 : 0;
}

/* A number of seconds in (0, WSSTEP_MAX_WAIT]. */
static int check_seconds(const cJSON *v, const char *path, int zero_ok, struct buf *err)
{
	if (!cJSON_IsNumber(v) || v->valuedouble < 0 || (!zero_ok && v->valuedouble == 0) ||
	    v->valuedouble > WSSTEP_MAX_WAIT) {
		jpath_err(err, path, "must be a %s number of seconds (at most %d)", zero_ok ? "non-negative" : "positive",
		     WSSTEP_MAX_WAIT);
		return -1;
	}
	return 0;
}

static int validate_connection(const cJSON *c, const char *path, struct buf *err)
{
	static const char *const allowed[] = { "path", "query", "headers", NULL };
	if (!cJSON_IsObject(c)) {
		jpath_err(err, path, "a connection must be an object (path, query, headers), got %s", json_type_name(c));
		return -1;
	}
	int rc = check_members(c, path, allowed, err);
	char p[PATH_LEN];
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(c, "path");
	jpath_key(p, sizeof(p), path, "path");
	if (!m) {
		jpath_err(err, p, "missing (required)");
		rc = -1;
	} else if (!cJSON_IsString(m) || m->valuestring[0] != '/') {
		jpath_err(err, p, "must be a string starting with \"/\"");
		rc = -1;
	} else if (strpbrk(m->valuestring, " \t\r\n")) {
		jpath_err(err, p, "must not contain spaces or line breaks");
		rc = -1;
	}
	if ((m = cJSON_GetObjectItemCaseSensitive(c, "query"))) {
		jpath_key(p, sizeof(p), path, "query");
		if (!cJSON_IsObject(m)) {
			jpath_err(err, p, "must be an object of parameter to value, got %s", json_type_name(m));
			rc = -1;
		} else {
			for (const cJSON *q = m->child; q; q = q->next) {
				char qp[PATH_LEN];
				jpath_key(qp, sizeof(qp), p, q->string);
				if (!cJSON_IsString(q) && !cJSON_IsNumber(q) && !cJSON_IsBool(q)) {
					jpath_err(err, qp, "must be a string, number or boolean, got %s", json_type_name(q));
					rc = -1;
				}
			}
		}
	}
	if ((m = cJSON_GetObjectItemCaseSensitive(c, "headers"))) {
		jpath_key(p, sizeof(p), path, "headers");
		if (!cJSON_IsObject(m)) {
			jpath_err(err, p, "must be an object of header name to value, got %s", json_type_name(m));
			return -1;
		}
		for (const cJSON *h = m->child; h; h = h->next) {
			char hp[PATH_LEN];
			jpath_key(hp, sizeof(hp), p, h->string);
			if (!header_name_ok(h->string)) {
				jpath_err(err, hp, "not a header name");
				rc = -1;
			}
			for (const cJSON *o = m->child; o != h; o = o->next)
				if (strcasecmp(o->string, h->string) == 0) {
					jpath_err(err, hp, "header named twice (names are case-insensitive)");
					rc = -1;
					break;
				}
			if (!cJSON_IsString(h)) {
				jpath_err(err, hp, "must be a string, got %s", json_type_name(h));
				rc = -1;
			} else if (strpbrk(h->valuestring, "\r\n")) {
				jpath_err(err, hp, "must not contain a line break");
				rc = -1;
			}
		}
	}
	return rc;
}

/* A status or close code: a number in [lo, hi] or a matcher. */
static int validate_code(const cJSON *m, const char *path, double lo, double hi, struct buf *err)
{
	if (cJSON_IsNumber(m)) {
		if (!json_is_integer(m) || m->valuedouble < lo || m->valuedouble > hi) {
			jpath_err(err, path, "must be an integer from %g to %g, or a matcher", lo, hi);
			return -1;
		}
		return 0;
	}
	if (cJSON_IsBool(m) || cJSON_IsNull(m) || (cJSON_IsString(m) && !has_template(m))) {
		jpath_err(err, path, "must be a number or a matcher, got %s", json_type_name(m));
		return -1;
	}
	return matcher_validate(m, path, err);
}

static int validate_ignore(const cJSON *m, const char *path, struct buf *err)
{
	if (!cJSON_IsArray(m)) {
		jpath_err(err, path, "must be an array of frame types (strings), got %s", json_type_name(m));
		return -1;
	}
	int rc = 0, i = 0;
	for (const cJSON *t = m->child; t; t = t->next, i++) {
		if (!cJSON_IsString(t) || !*t->valuestring) {
			char p[PATH_LEN];
			jpath_fmt(p, sizeof(p), "%s[%d]", path, i);
			jpath_err(err, p, "must be a non-empty string");
			rc = -1;
		}
	}
	return rc;
}

static int validate_send(const cJSON *it, const char *path, struct buf *err, enum effect *effect)
{
	*effect = EFFECT_NONE;
	static const char *const payloads[] = { "json", "text", "text_repeat", "fragments", "hex", "binary_hex",
						"ping", NULL };
	int rc = 0, n = 0;
	char p[PATH_LEN];
	const char *which = NULL;
	for (size_t i = 0; payloads[i]; i++)
		if (cJSON_GetObjectItemCaseSensitive(it, payloads[i])) {
			n++;
			which = payloads[i];
		}
	if (n != 1) {
		jpath_err(err, path, "a send has exactly one of json, text, text_repeat, fragments, hex, binary_hex or ping%s",
		     n ? "" : " (none given)");
		return -1;
	}
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(it, which);
	jpath_key(p, sizeof(p), path, which);
	const cJSON *rep = cJSON_GetObjectItemCaseSensitive(it, "repeat");
	if (strcmp(which, "text") == 0 || strcmp(which, "text_repeat") == 0 || strcmp(which, "ping") == 0) {
		if (!cJSON_IsString(v)) {
			jpath_err(err, p, "must be a string, got %s", json_type_name(v));
			rc = -1;
		} else if (strcmp(which, "ping") == 0 && !has_template(v) && strlen(v->valuestring) > 125) {
			jpath_err(err, p, "a ping payload is at most 125 bytes");
			rc = -1;
		}
	} else if (strcmp(which, "fragments") == 0) {
		if (!cJSON_IsArray(v) || !v->child || cJSON_GetArraySize(v) > WSSTEP_MAX_FRAGMENTS) {
			jpath_err(err, p, "must be a non-empty array of strings (at most %d)", WSSTEP_MAX_FRAGMENTS);
			rc = -1;
		} else {
			int i = 0;
			for (const cJSON *f = v->child; f; f = f->next, i++)
				if (!cJSON_IsString(f)) {
					char fp[PATH_LEN];
					jpath_fmt(fp, sizeof(fp), "%s[%d]", p, i);
					jpath_err(err, fp, "must be a string, got %s", json_type_name(f));
					rc = -1;
				}
		}
	} else if (strcmp(which, "hex") == 0 || strcmp(which, "binary_hex") == 0) {
		struct buf tmp;
		buf_init(&tmp, WSC_MAX_SEND);
		if (!cJSON_IsString(v) || (!has_template(v) && hex_decode(v->valuestring, &tmp) != 0)) {
			jpath_err(err, p, "must be a string of hex byte pairs such as \"c3 28\"");
			rc = -1;
		}
		buf_release(&tmp);
	}
	if (strcmp(which, "text_repeat") == 0) {
		char rp[PATH_LEN];
		jpath_key(rp, sizeof(rp), path, "repeat");
		if (!rep) {
			jpath_err(err, rp, "missing (required with text_repeat)");
			rc = -1;
		} else if (!json_is_integer(rep) || rep->valuedouble < 1 || rep->valuedouble > WSC_MAX_SEND) {
			jpath_err(err, rp, "must be a positive integer");
			rc = -1;
		} else if (cJSON_IsString(v) && (double)strlen(v->valuestring) * rep->valuedouble > WSC_MAX_SEND) {
			jpath_err(err, rp, "the repeated text would be larger than %u bytes", WSC_MAX_SEND);
			rc = -1;
		}
	} else if (rep) {
		jpath_key(p, sizeof(p), path, "repeat");
		jpath_err(err, p, "only with text_repeat");
		rc = -1;
	}
	const cJSON *um = cJSON_GetObjectItemCaseSensitive(it, "unmasked");
	if (um) {
		jpath_key(p, sizeof(p), path, "unmasked");
		if (!cJSON_IsBool(um)) {
			jpath_err(err, p, "must be true or false");
			rc = -1;
		} else if (cJSON_IsTrue(um) && strcmp(which, "text") != 0) {
			jpath_err(err, p, "only with text");
			rc = -1;
		}
	}
	return rc;
}

static int validate_expect(const cJSON *it, const char *path, struct buf *err, enum effect *effect)
{
	static const char *const kinds[] = { "frame", "no_frame_within", "close", NULL };
	int rc = 0, n = 0;
	char p[PATH_LEN];
	const char *which = NULL;
	for (size_t i = 0; kinds[i]; i++)
		if (cJSON_GetObjectItemCaseSensitive(it, kinds[i])) {
			n++;
			which = kinds[i];
		}
	*effect = EFFECT_NONE;
	if (n != 1) {
		jpath_err(err, path, "an expect has exactly one of frame, no_frame_within or close%s", n ? "" : " (none given)");
		return -1;
	}
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(it, which);
	jpath_key(p, sizeof(p), path, which);
	if (strcmp(which, "frame") == 0) {
		if (!cJSON_IsObject(v) || !v->child) {
			jpath_err(err, p, "must be a non-empty object of JSON Pointer to matcher");
			rc = -1;
		} else if (pointer_map_validate(v, p, err) < 0) {
			rc = -1;
		}
	} else if (strcmp(which, "no_frame_within") == 0) {
		rc |= check_seconds(v, p, 0, err);
		const cJSON *oc = cJSON_GetObjectItemCaseSensitive(it, "or_close");
		if (oc && cJSON_IsTrue(oc))
			*effect = EFFECT_CLOSES;   /* the connection may be gone after it: nothing may use it */
		if (oc && !cJSON_IsBool(oc)) {
			jpath_key(p, sizeof(p), path, "or_close");
			jpath_err(err, p, "must be true or false, got %s", json_type_name(oc));
			rc = -1;
		}
	} else {
		*effect = EFFECT_CLOSES;
		rc |= validate_code(v, p, 1000, 4999, err);
	}
	const cJSON *m;
	if ((m = cJSON_GetObjectItemCaseSensitive(it, "capture"))) {
		jpath_key(p, sizeof(p), path, "capture");
		if (strcmp(which, "frame") != 0) {
			jpath_err(err, p, "only with frame");
			rc = -1;
		} else if (!cJSON_IsObject(m)) {
			jpath_err(err, p, "must be an object of variable name to JSON Pointer, got %s", json_type_name(m));
			rc = -1;
		} else {
			for (const cJSON *c = m->child; c; c = c->next) {
				char cp[PATH_LEN];
				jpath_key(cp, sizeof(cp), p, c->string);
				if (!jpath_is_ident(c->string)) {
					jpath_err(err, cp, "not a variable name ([A-Za-z_][A-Za-z0-9_]*)");
					rc = -1;
				}
				if (!cJSON_IsString(c) || (c->valuestring[0] && c->valuestring[0] != '/')) {
					jpath_err(err, cp, "must be a JSON Pointer into the frame such as \"/id\"");
					rc = -1;
				}
			}
		}
	}
	if ((m = cJSON_GetObjectItemCaseSensitive(it, "or_close")) && strcmp(which, "no_frame_within") != 0) {
		jpath_key(p, sizeof(p), path, "or_close");
		jpath_err(err, p, "only with no_frame_within");
		rc = -1;
	}
	if ((m = cJSON_GetObjectItemCaseSensitive(it, "reason"))) {
		jpath_key(p, sizeof(p), path, "reason");
		if (strcmp(which, "close") != 0) {
			jpath_err(err, p, "only with close");
			rc = -1;
		} else if (matcher_validate(m, p, err) < 0) {
			rc = -1;
		}
	}
	if ((m = cJSON_GetObjectItemCaseSensitive(it, "timeout"))) {
		jpath_key(p, sizeof(p), path, "timeout");
		if (strcmp(which, "no_frame_within") == 0) {
			jpath_err(err, p, "not with no_frame_within, which is its own time");
			rc = -1;
		} else {
			rc |= check_seconds(m, p, 0, err);
		}
	}
	if ((m = cJSON_GetObjectItemCaseSensitive(it, "ignore"))) {
		jpath_key(p, sizeof(p), path, "ignore");
		if (cJSON_IsString(m) && strcmp(m->valuestring, "others") == 0) {
			/* Read until the wanted type: only a frame that names the type it wants can say which. */
			if (strcmp(which, "frame") != 0 || !cJSON_GetObjectItemCaseSensitive(v, "/type")) {
				jpath_err(err, p, "\"others\" only with a frame that has a \"/type\" matcher");
				rc = -1;
			}
		} else {
			rc |= validate_ignore(m, p, err);
		}
	}
	return rc;
}

static int validate_collect(const cJSON *it, const char *path, struct buf *err, enum effect *effect)
{
	*effect = EFFECT_NONE;
	int rc = 0;
	char p[PATH_LEN];
	const cJSON *m;
	if ((m = cJSON_GetObjectItemCaseSensitive(it, "until"))) {
		jpath_key(p, sizeof(p), path, "until");
		if (!cJSON_IsObject(m) || !m->child) {
			jpath_err(err, p, "must be a non-empty object of JSON Pointer to matcher");
			rc = -1;
		} else if (pointer_map_validate(m, p, err) < 0) {
			rc = -1;
		}
	}
	if ((m = cJSON_GetObjectItemCaseSensitive(it, "max"))) {
		jpath_key(p, sizeof(p), path, "max");
		if (!json_is_integer(m) || m->valuedouble < 1 || m->valuedouble > WSC_MAX_FRAMES) {
			jpath_err(err, p, "must be an integer from 1 to %u", WSC_MAX_FRAMES);
			rc = -1;
		}
	}
	if ((m = cJSON_GetObjectItemCaseSensitive(it, "timeout"))) {
		jpath_key(p, sizeof(p), path, "timeout");
		rc |= check_seconds(m, p, 0, err);
	}
	if ((m = cJSON_GetObjectItemCaseSensitive(it, "ignore"))) {
		jpath_key(p, sizeof(p), path, "ignore");
		rc |= validate_ignore(m, p, err);
	}
	if ((m = cJSON_GetObjectItemCaseSensitive(it, "stream"))) {
		jpath_key(p, sizeof(p), path, "stream");
		if (stream_validate(m, p, false, err) < 0)
			rc = -1;
	}
	return rc;
}

static int validate_connect(const cJSON *it, const char *path, struct buf *err, enum effect *effect)
{
	char p[PATH_LEN];
	int rc = 0;
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(it, "status");
	if (st) {
		jpath_key(p, sizeof(p), path, "status");
		rc |= validate_code(st, p, 100, 599, err);
	}
	const cJSON *h = cJSON_GetObjectItemCaseSensitive(it, "headers");
	if (h) {
		jpath_key(p, sizeof(p), path, "headers");
		if (!cJSON_IsObject(h)) {
			jpath_err(err, p, "must be an object of header name to matcher, got %s", json_type_name(h));
			rc = -1;
		} else {
			for (const cJSON *m = h->child; m; m = m->next) {
				char hp[PATH_LEN];
				jpath_key(hp, sizeof(hp), p, m->string);
				if (!header_name_ok(m->string)) {
					jpath_err(err, hp, "not a header name");
					rc = -1;
				}
				if (matcher_validate(m, hp, err) < 0)
					rc = -1;
			}
		}
	}
	const cJSON *mr = cJSON_GetObjectItemCaseSensitive(it, "may_refuse");
	if (mr) {
		jpath_key(p, sizeof(p), path, "may_refuse");
		if (!cJSON_IsBool(mr)) {
			jpath_err(err, p, "must be true or false, got %s", json_type_name(mr));
			rc = -1;
		} else if (st) {
			jpath_err(err, p, "not with status (a refused handshake passes, an accepted one goes on)");
			rc = -1;
		}
	}
	*effect = cJSON_IsNumber(st) && st->valuedouble != 101 ? EFFECT_REFUSED : EFFECT_OPENS;
	return rc;
}

static int validate_close(const cJSON *it, const char *path, struct buf *err, enum effect *effect)
{
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(it, "code");
	*effect = EFFECT_CLOSES;
	if (code && (!cJSON_IsNumber(code) || !close_code_ok(code->valuedouble))) {
		char p[PATH_LEN];
		jpath_key(p, sizeof(p), path, "code");
		jpath_err(err, p, "must be a close code a client may send (1000-1003, 1007-1014, 3000-4999)");
		return -1;
	}
	return 0;
}

static int validate_sleep(const cJSON *it, const char *path, struct buf *err, enum effect *effect)
{
	char p[PATH_LEN];
	*effect = EFFECT_NONE;
	jpath_key(p, sizeof(p), path, "sleep");
	return check_seconds(cJSON_GetObjectItemCaseSensitive(it, "sleep"), p, 1, err);
}

/* The connection an item names, or NULL (reported). */
static struct vconn *named(struct vconn *vc, size_t n, const cJSON *v, const char *path, const char *verb,
			   const cJSON *conns, struct buf *err)
{
	char p[PATH_LEN];
	jpath_key(p, sizeof(p), path, verb);
	if (!cJSON_IsString(v)) {
		jpath_err(err, p, "must name a connection (a string), got %s", json_type_name(v));
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		if (strcmp(vc[i].name, v->valuestring) == 0)
			return &vc[i];
	struct buf list;
	buf_init(&list, 1024);
	for (const cJSON *c = conns ? conns->child : NULL; c; c = c->next)
		buf_printf(&list, "%s%s", c == conns->child ? "" : ", ", c->string);
	jpath_err(err, p, "\"%.100s\" is not a connection of this step (%s)", v->valuestring,
	     list.len ? buf_str(&list) : "none");
	buf_release(&list);
	return NULL;
}

/* ---- running --------------------------------------------------------------------------------- */

struct rconn {
	const char *name;
	const cJSON *spec;           /* the template */
	struct wsc_conn *c;
	const char *dead;            /* why it cannot be used, or NULL */
	int refused;                 /* a "may_refuse" connect was refused: its later items are skipped */
	double sent_ms;              /* when the last send item began, ms since the connection opened; -1 before one */
	size_t sent_item;            /* that item's number, from 1 */
};

struct wsrun {
	const struct wsstep_env *env;
	struct rconn conns[WSSTEP_MAX_CONNECTIONS];
	size_t nconns;
	int64_t t0, deadline;        /* mono ms: start, and the end of the total timeout */
	size_t frames_shown, frames_hidden;
	size_t item;                 /* the item running, from 1 */
	enum wsstep_result result;
	char label[96];              /* "ws item 3 (expect a): " */
};

static void fail(struct wsrun *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The item failed: one diff line. */
static void fail(struct wsrun *r, const char *fmt, ...)
{
	va_list ap;
	buf_adds(r->env->diff, r->label);
	va_start(ap, fmt);
	buf_vprintf(r->env->diff, fmt, ap);
	va_end(ap);
	buf_addc(r->env->diff, '\n');
	if (r->result == WSSTEP_PASS)
		r->result = WSSTEP_FAIL;
}

static void item_error(struct wsrun *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The item could not be carried out: one line in err. */
static void item_error(struct wsrun *r, const char *fmt, ...)
{
	va_list ap;
	buf_adds(r->env->err, r->label);
	va_start(ap, fmt);
	buf_vprintf(r->env->err, fmt, ap);
	va_end(ap);
	r->result = WSSTEP_ERROR;
}

/* Append bytes to out as a diff line shows them: escaped, capped at max with "...". */
static void show_bytes(struct buf *out, const char *p, size_t n, size_t max)
{
	size_t keep = utf8_truncate(p, n, max);
	http_append_escaped(out, p, keep, 0);
	if (keep < n)
		buf_printf(out, "...(%zu bytes)", n);
}

/* A matcher or value, capped, as text. Caller frees. */
static char *show(const cJSON *v)
{
	char *s = json_print_capped(v, SHOW_MAX);
	return s ? s : strdup("?");
}

static void xt_frame(struct wsrun *r, const struct rconn *rc, char dir, enum wsc_opcode op, const char *p,
		     size_t n, int code, double at_ms, const char *note)
{
	struct buf *t = r->env->transcript;
	if (!t)
		return;
	if (r->frames_shown >= XT_MAX_FRAMES) {
		r->frames_hidden++;
		return;
	}
	r->frames_shown++;
	buf_printf(t, "%c %s: %s", dir, rc->name, wsc_opcode_name(op));
	if (op == WSC_CLOSE)
		buf_printf(t, " %d", code);
	if (note)
		buf_printf(t, " (%s)", note);
	if (n) {
		buf_addc(t, ' ');
		struct buf line;
		buf_init(&line, XT_FRAME_MAX * 4 + 64);
		show_bytes(&line, p, n, XT_FRAME_MAX);
		buf_adds(t, buf_str(&line));
		buf_release(&line);
	}
	/* Since the connection opened; for what we receive, also since the send that (most likely) caused it. */
	if (at_ms >= 0 && dir == '<' && rc->sent_ms >= 0 && at_ms >= rc->sent_ms)
		buf_printf(t, " (+%.1f ms; +%.1f ms after item %zu)", at_ms, at_ms - rc->sent_ms, rc->sent_item);
	else if (at_ms >= 0)
		buf_printf(t, " (+%.1f ms)", at_ms);
	buf_addc(t, '\n');
}

/* Milliseconds to wait for an item that wants `seconds`; *limited when the total timeout cuts it. */
static int wait_ms(const struct wsrun *r, double seconds, int *limited)
{
	int64_t want = (int64_t)(seconds * 1000.0 + 0.5);
	int64_t left = r->deadline - mono_ms();
	if (left < 0)
		left = 0;
	*limited = left < want;
	return (int)(left < want ? left : want);
}

static void total_timeout(struct wsrun *r)
{
	item_error(r, "total timeout: the step took more than %g s", r->env->total);
}

static struct rconn *find_conn(struct wsrun *r, const char *name)
{
	for (size_t i = 0; i < r->nconns; i++)
		if (strcmp(r->conns[i].name, name) == 0)
			return &r->conns[i];
	return NULL;
}

static double item_timeout(const struct wsrun *r, const cJSON *it)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(it, "timeout");
	return cJSON_IsNumber(t) ? t->valuedouble : r->env->wait;
}

static int ignored(const cJSON *ignore, const char *type)
{
	const cJSON *t;
	if (!type)
		return 0;
	cJSON_ArrayForEach(t, ignore)
		if (cJSON_IsString(t) && strcmp(t->valuestring, type) == 0)
			return 1;
	return 0;
}

/* Describe a received message for a diff line ("text {\"type\":...}", "close 4002 \"bye\""). */
static void describe(struct buf *out, const struct wsc_message *m)
{
	buf_adds(out, wsc_opcode_name(m->opcode));
	if (m->opcode == WSC_CLOSE)
		buf_printf(out, " %d", m->close_code);
	if (m->len) {
		buf_addc(out, ' ');
		show_bytes(out, m->data, m->len, SHOW_MAX);
	}
}

/*
 * The next message that is not a ping or pong (those are shown and skipped),
 * within wait_ms.  A close marks the connection dead.
 */
static enum wsc_result next_msg(struct wsrun *r, struct rconn *rc, int64_t deadline, struct wsc_message **out)
{
	for (;;) {
		int64_t left = deadline - mono_ms();
		enum wsc_result res = wsc_recv(rc->c, left > 0 ? (int)left : 0, out);
		if (res != WSC_OK)
			return res;
		struct wsc_message *m = *out;
		xt_frame(r, rc, '<', m->opcode, m->data, m->len, m->close_code, m->at_ms, NULL);
		if (m->opcode == WSC_CLOSE)
			rc->dead = "the server closed it";
		if (m->opcode != WSC_PING && m->opcode != WSC_PONG)
			return WSC_OK;
		wsc_message_free(m);
		*out = NULL;
	}
}

/* A text frame parsed as JSON, or NULL with what is wrong with it appended to why. */
static cJSON *frame_json(const struct wsc_message *m, struct buf *why)
{
	cJSON *j = NULL;
	if (m->opcode != WSC_TEXT) {
		buf_adds(why, "expected a text frame, got ");
		describe(why, m);
	} else if (!utf8_valid(m->data, m->len)) {
		buf_adds(why, "a text frame that is not valid UTF-8: ");
		show_bytes(why, m->data, m->len, SHOW_MAX);
	} else if (!(j = json_parse_exact(m->data, m->len))) {
		buf_adds(why, "frame is not JSON: ");
		show_bytes(why, m->data, m->len, SHOW_MAX);
	}
	return j;
}

/* Report what a wsc call other than OK returned while an item waited for what ("frame", "close"...). */
static void report_wait(struct wsrun *r, struct rconn *rc, enum wsc_result res, int limited, double seconds,
			const char *what)
{
	if (res == WSC_TIMEOUT && limited) {
		total_timeout(r);
	} else if (res == WSC_TIMEOUT) {
		fail(r, "no %s within %g s", what, seconds);
	} else if (res == WSC_CLOSED) {
		fail(r, "the connection ended without a close frame (waiting for: %s)", what);
		rc->dead = "the server dropped it";
	} else {
		fail(r, "the connection failed (waiting for: %s): %s", what, wsc_error(rc->c));
		rc->dead = "it failed";
	}
}

static int usable(struct wsrun *r, struct rconn *rc)
{
	if (rc->c && !rc->dead)
		return 1;
	fail(r, "connection %s is not open (%s)", rc->name, rc->dead ? rc->dead : "never connected");
	return 0;
}

/* ---- items ----------------------------------------------------------------------------------- */

static void merge_headers(const cJSON *mine, const cJSON *defaults, struct http_header_kv *kv, size_t *n,
			  size_t max)
{
	const cJSON *h;
	*n = 0;
	cJSON_ArrayForEach(h, mine)
		if (cJSON_IsString(h) && *n < max)
			kv[(*n)++] = (struct http_header_kv){ h->string, h->valuestring };
	cJSON_ArrayForEach(h, defaults) {
		if (!cJSON_IsString(h) || *n >= max || cJSON_GetObjectItem(mine, h->string))
			continue;
		kv[(*n)++] = (struct http_header_kv){ h->string, h->valuestring };
	}
}

static void do_connect(struct wsrun *r, const cJSON *it, struct rconn *rc)
{
	const struct wsstep_env *env = r->env;
	struct buf url, base, err;
	struct response hs;
	struct http_header_kv kv[256];
	size_t nkv = 0;
	cJSON *spec = NULL, *st = NULL;
	buf_init(&url, 64u << 10);
	buf_init(&base, 64u << 10);
	buf_init(&err, 4096);
	response_init(&hs);

	wsc_free(rc->c);
	rc->c = NULL;
	rc->dead = NULL;
	rc->refused = 0;
	rc->sent_ms = -1;
	rc->sent_item = 0;
	spec = vars_expand_json(env->scope, rc->spec, &err);
	if (!spec) {
		item_error(r, "%s", buf_str(&err));
		goto out;
	}
	const char *path = json_get_string(spec, "path");
	if (wsc_url_from_http(env->target, &base) != 0) {
		item_error(r, "the target %s is not an http:// or https:// URL", env->target);
		goto out;
	}
	if (url_build(&url, buf_str(&base), path ? path : "/", cJSON_GetObjectItemCaseSensitive(spec, "query"),
		      &err) != 0 || url.len >= url.max) {
		item_error(r, "cannot build the URL: %s", err.len ? buf_str(&err) : "too long");
		goto out;
	}
	merge_headers(cJSON_GetObjectItemCaseSensitive(spec, "headers"), env->default_headers, kv, &nkv,
		      sizeof(kv) / sizeof(kv[0]));
	struct wsc_connect_options o = {
		.url = buf_str(&url),
		.headers = kv,
		.nheaders = nkv,
		.connect_timeout_ms = (int)(env->connect_timeout * 1000.0),
		.ca_file = env->ca_file,
		.response_timeout_ms = (int)(env->handshake_timeout * 1000.0),
	};
	if (env->transcript)
		buf_printf(env->transcript, "* %s: connect\n", rc->name);
	enum wsc_result res = wsc_connect(&o, &rc->c, &hs, &err, env->transcript);
	if (res == WSC_ERROR) {
		item_error(r, "%s", buf_str(&err));
		rc->dead = "it could not connect";
		goto out;
	}
	if (res == WSC_INVALID) {
		fail(r, "handshake: %s", buf_str(&err));
		rc->dead = "its handshake was invalid";
		goto out;
	}
	if (res == WSC_REFUSED && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(it, "may_refuse"))) {
		/* A refusal is what this connection may get: the items that use it are skipped. */
		rc->dead = "its handshake was refused";
		rc->refused = 1;
		if (env->transcript)
			buf_printf(env->transcript, "* %s: refused (%ld), as it may be: its items are skipped\n", rc->name,
				   hs.status);
		goto out;
	}
	const cJSON *want = cJSON_GetObjectItemCaseSensitive(it, "status");
	cJSON *dflt = want ? NULL : cJSON_CreateNumber(101);
	st = cJSON_CreateNumber((double)hs.status);
	if (matcher_check(want ? want : dflt, st, "status", NULL, NULL) != 0) {
		char *ws = show(want ? want : dflt);
		fail(r, "handshake answered %ld, expected %s", hs.status, ws);
		free(ws);
	}
	cJSON_Delete(dflt);
	if (res == WSC_REFUSED)
		rc->dead = "its handshake was refused";
	const cJSON *hm = cJSON_GetObjectItemCaseSensitive(it, "headers");
	for (const cJSON *h = hm ? hm->child : NULL; h && r->result == WSSTEP_PASS; h = h->next) {
		const char *v = response_header(&hs, h->string);
		cJSON *a = v ? cJSON_CreateString(v) : NULL;
		char where[160];
		jpath_fmt(where, sizeof(where), "handshake header %.100s", h->string);
		struct buf lines;
		buf_init(&lines, 8192);
		if (matcher_check(h, a, where, NULL, &lines) != 0) {
			size_t len = strcspn(buf_str(&lines), "\n");
			fail(r, "%.*s", (int)len, buf_str(&lines));
		}
		buf_release(&lines);
		cJSON_Delete(a);
	}
out:
	cJSON_Delete(st);
	cJSON_Delete(spec);
	response_release(&hs);
	buf_release(&err);
	buf_release(&base);
	buf_release(&url);
}

/* Append a text payload: a string as is; a variable that expanded to another JSON value, as JSON text. */
static int text_of(const cJSON *v, struct buf *out)
{
	if (cJSON_IsString(v))
		return buf_adds(out, v->valuestring) == BUF_OK ? 0 : -1;
	char *s = cJSON_PrintUnformatted(v);
	int rc = s && buf_adds(out, s) == BUF_OK ? 0 : -1;
	free(s);
	return rc;
}

/* True when item is an "expect" of a close on the connection called name. */
static bool expects_close(const cJSON *item, const char *name)
{
	const char *who = json_get_string(item, "expect");
	return who && strcmp(who, name) == 0 && cJSON_GetObjectItemCaseSensitive(item, "close");
}

static void do_send(struct wsrun *r, const cJSON *it, struct rconn *rc, const cJSON *next)
{
	struct buf payload;
	buf_init(&payload, WSC_MAX_SEND);
	enum wsc_opcode op = WSC_TEXT;
	enum wsc_result res = WSC_OK;
	const char *note = NULL;
	int limited;
	int ms = wait_ms(r, r->env->wait, &limited);
	const cJSON *v;
	if (!usable(r, rc))
		goto out;
	/* The reference of what the server answers: the timing of a later collect counts from here. */
	rc->sent_ms = wsc_elapsed_ms(rc->c);
	rc->sent_item = r->item;
	if ((v = cJSON_GetObjectItemCaseSensitive(it, "json"))) {
		char *s = cJSON_PrintUnformatted(v);
		if (!s || buf_adds(&payload, s) != BUF_OK) {
			free(s);
			item_error(r, "cannot print the JSON to send");
			goto out;
		}
		free(s);
	} else if ((v = cJSON_GetObjectItemCaseSensitive(it, "text"))) {
		if (text_of(v, &payload) != 0) {
			item_error(r, "text must be a string of at most %u bytes", WSC_MAX_SEND);
			goto out;
		}
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(it, "unmasked")))
			note = "unmasked";
	} else if ((v = cJSON_GetObjectItemCaseSensitive(it, "text_repeat"))) {
		const cJSON *rep = cJSON_GetObjectItemCaseSensitive(it, "repeat");
		long n = cJSON_IsNumber(rep) ? (long)rep->valuedouble : 1;
		for (long i = 0; i < n; i++)
			if (text_of(v, &payload) != 0) {
				item_error(r, "the repeated text is larger than %u bytes", WSC_MAX_SEND);
				goto out;
			}
	} else if ((v = cJSON_GetObjectItemCaseSensitive(it, "hex")) ||
		   (v = cJSON_GetObjectItemCaseSensitive(it, "binary_hex"))) {
		if (strcmp(v->string, "binary_hex") == 0)
			op = WSC_BINARY;
		if (!cJSON_IsString(v) || hex_decode(v->valuestring, &payload) != 0) {
			item_error(r, "%s is not hex byte pairs", v->string);
			goto out;
		}
	} else if ((v = cJSON_GetObjectItemCaseSensitive(it, "ping"))) {
		op = WSC_PING;
		if (text_of(v, &payload) != 0 || payload.len > 125) {
			item_error(r, "a ping payload is at most 125 bytes");
			goto out;
		}
	} else if ((v = cJSON_GetObjectItemCaseSensitive(it, "fragments"))) {
		int i = 0, n = cJSON_GetArraySize(v);
		const cJSON *f;
		cJSON_ArrayForEach(f, v) {
			buf_reset(&payload);
			if (text_of(f, &payload) != 0) {
				item_error(r, "fragment %d is larger than %u bytes", i + 1, WSC_MAX_SEND);
				goto out;
			}
			const char *s = payload.data ? payload.data : "";
			enum wsc_opcode fop = i == 0 ? WSC_TEXT : WSC_CONTINUATION;
			char fnote[48];
			jpath_fmt(fnote, sizeof(fnote), "fragment %d/%d%s", i + 1, n, i == n - 1 ? ", fin" : "");
			xt_frame(r, rc, '>', fop, s, payload.len, 0, wsc_elapsed_ms(rc->c), fnote);
			res = wsc_send_frame(rc->c, i == n - 1, fop, s, payload.len, true, ms);
			if (res != WSC_OK)
				break;
			i++;
		}
		goto sent;
	}
	xt_frame(r, rc, '>', op, payload.data ? payload.data : "", payload.len, 0, wsc_elapsed_ms(rc->c), note);
	if (note)
		res = wsc_send_frame(rc->c, true, WSC_TEXT, payload.data ? payload.data : "", payload.len, false, ms);
	else
		res = wsc_send(rc->c, op, payload.data ? payload.data : "", payload.len, ms);
sent:
	if (res == WSC_TIMEOUT && limited)
		total_timeout(r);
	else if (res == WSC_TIMEOUT)
		fail(r, "cannot send within %g s (the server does not read)", r->env->wait);
	else if (res != WSC_OK && next && expects_close(next, rc->name))
		; /* the server closed first (e.g. after an oversized message): the next item reads its close */
	else if (res != WSC_OK)
		fail(r, "cannot send: %s", wsc_error(rc->c));
out:
	buf_release(&payload);
}

/* Store the captures of an expect frame item from the frame. */
static void do_captures(struct wsrun *r, const cJSON *capture, const cJSON *frame)
{
	const cJSON *c;
	cJSON_ArrayForEach(c, capture) {
		const cJSON *v = cJSON_IsString(c) ? json_pointer(frame, c->valuestring) : NULL;
		if (!v) {
			/* The frame lacks what the case needs: a failure of the target (blocking when a precondition). */
			fail(r, "capture %s: the frame has nothing at %s", c->string,
			     cJSON_IsString(c) ? c->valuestring : "?");
			return;
		}
		vars_set(r->env->scope, c->string, cJSON_Duplicate(v, 1));
	}
}

/* With "ignore": "others": true when frame j is not of the type that the expected frame's /type asks for. */
static int other_type(const cJSON *ignore, const cJSON *frame, const cJSON *j)
{
	if (!cJSON_IsString(ignore) || strcmp(ignore->valuestring, "others") != 0)
		return 0;
	const cJSON *want = cJSON_GetObjectItemCaseSensitive(frame, "/type");
	cJSON *type = cJSON_GetObjectItemCaseSensitive(j, "type");
	struct buf scratch;
	buf_init(&scratch, 4096);
	int differs = matcher_check(want, type, "frame /type", NULL, &scratch) > 0;
	buf_release(&scratch);
	return differs;
}

static void do_expect_frame(struct wsrun *r, const cJSON *it, struct rconn *rc)
{
	double secs = item_timeout(r, it);
	int limited;
	int64_t deadline = mono_ms() + wait_ms(r, secs, &limited);
	const cJSON *ignore = cJSON_GetObjectItemCaseSensitive(it, "ignore");
	const cJSON *frame = cJSON_GetObjectItemCaseSensitive(it, "frame");
	for (;;) {
		struct wsc_message *m = NULL;
		enum wsc_result res = next_msg(r, rc, deadline, &m);
		if (res != WSC_OK) {
			report_wait(r, rc, res, limited, secs, "frame");
			return;
		}
		if (m->opcode == WSC_CLOSE) {
			struct buf d;
			buf_init(&d, 4 * SHOW_MAX + 64);
			describe(&d, m);
			fail(r, "the server closed the connection (%s) while a frame was expected", buf_str(&d));
			buf_release(&d);
			wsc_message_free(m);
			return;
		}
		struct buf why;
		buf_init(&why, 4 * SHOW_MAX + 64);
		cJSON *j = frame_json(m, &why);
		wsc_message_free(m);
		if (!j)
			fail(r, "%s", buf_str(&why));
		buf_release(&why);
		if (!j)
			return;
		if (ignored(ignore, json_get_string(j, "type")) || other_type(ignore, frame, j)) {
			cJSON_Delete(j);
			continue;
		}
		struct buf lines;
		buf_init(&lines, 64u << 10);
		if (pointer_map_check(frame, j, "frame", NULL, &lines) > 0) {
			/* One line per item: the first difference (the transcript has the frame). */
			size_t len = strcspn(buf_str(&lines), "\n");
			fail(r, "%.*s", (int)len, buf_str(&lines));
		} else {
			do_captures(r, cJSON_GetObjectItemCaseSensitive(it, "capture"), j);
		}
		buf_release(&lines);
		cJSON_Delete(j);
		return;
	}
}

/*
 * Frame m arrived where WANT was expected.  A text frame whose type is in
 * ignore is freed and 1 returned (wait on); any other fails the step as
 * "expected WANT, got FRAME" (with " after N ms" since *start when start is
 * not NULL), is freed, and 0 is returned.  Takes responsibility for m.
 */
static int skip_or_fail(struct wsrun *r, struct wsc_message *m, const cJSON *ignore, const char *want,
			const int64_t *start)
{
	if (m->opcode == WSC_TEXT) {
		cJSON *j = json_parse_exact(m->data, m->len);
		int skip = j && ignored(ignore, json_get_string(j, "type"));
		cJSON_Delete(j);
		if (skip) {
			wsc_message_free(m);
			return 1;
		}
	}
	struct buf d;
	buf_init(&d, 4 * SHOW_MAX + 64);
	describe(&d, m);
	if (start)
		fail(r, "expected %s, got %s after %.0f ms", want, buf_str(&d), (double)(mono_ms() - *start));
	else
		fail(r, "expected %s, got %s", want, buf_str(&d));
	buf_release(&d);
	wsc_message_free(m);
	return 0;
}

static void do_expect_nothing(struct wsrun *r, const cJSON *it, struct rconn *rc)
{
	const cJSON *w = cJSON_GetObjectItemCaseSensitive(it, "no_frame_within");
	const cJSON *ignore = cJSON_GetObjectItemCaseSensitive(it, "ignore");
	int or_close = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(it, "or_close"));
	double secs = cJSON_IsNumber(w) ? w->valuedouble : 0;
	int limited;
	int64_t start = mono_ms();
	int64_t deadline = start + wait_ms(r, secs, &limited);
	for (;;) {
		struct wsc_message *m = NULL;
		enum wsc_result res = next_msg(r, rc, deadline, &m);
		if (res == WSC_TIMEOUT) {
			if (limited)
				total_timeout(r);
			return;
		}
		/* "or_close": the server ending the connection in that time is an answer this item accepts. */
		if (or_close && res == WSC_CLOSED)
			return;
		if (or_close && res == WSC_OK && m->opcode == WSC_CLOSE) {
			wsc_message_free(m);
			struct wsc_message *rest = NULL;
			wsc_recv(rc->c, 0, &rest);   /* our answer to the close goes out now */
			wsc_message_free(rest);
			return;
		}
		if (res != WSC_OK) {
			report_wait(r, rc, res, 0, secs, "no frame");
			return;
		}
		char want[64];
		snprintf(want, sizeof(want), "no frame within %g s", secs);
		if (!skip_or_fail(r, m, ignore, want, &start))
			return;
	}
}

static void do_expect_close(struct wsrun *r, const cJSON *it, struct rconn *rc)
{
	double secs = item_timeout(r, it);
	int limited;
	int64_t deadline = mono_ms() + wait_ms(r, secs, &limited);
	const cJSON *ignore = cJSON_GetObjectItemCaseSensitive(it, "ignore");
	for (;;) {
		struct wsc_message *m = NULL;
		enum wsc_result res = next_msg(r, rc, deadline, &m);
		if (res != WSC_OK) {
			report_wait(r, rc, res, limited, secs, "close");
			return;
		}
		if (m->opcode == WSC_CLOSE) {
			cJSON *code = cJSON_CreateNumber(m->close_code);
			cJSON *reason = cJSON_CreateString(m->data);
			struct buf lines;
			buf_init(&lines, 8192);
			matcher_check(cJSON_GetObjectItemCaseSensitive(it, "close"), code, "close code", NULL, &lines);
			const cJSON *rm = cJSON_GetObjectItemCaseSensitive(it, "reason");
			if (rm)
				matcher_check(rm, reason, "close reason", NULL, &lines);
			if (lines.len) {
				size_t len = strcspn(buf_str(&lines), "\n");
				fail(r, "%.*s", (int)len, buf_str(&lines));
			}
			buf_release(&lines);
			cJSON_Delete(code);
			cJSON_Delete(reason);
			wsc_message_free(m);
			/* Our answer to the close goes out now. */
			struct wsc_message *rest = NULL;
			wsc_recv(rc->c, 0, &rest);
			wsc_message_free(rest);
			return;
		}
		if (!skip_or_fail(r, m, ignore, "a close", NULL))
			return;
	}
}

static void events_free(struct event *ev, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(ev[i].type);
		cJSON_Delete(ev[i].json);
		free(ev[i].raw);
	}
	free(ev);
}

/* Keep the figures of a collect's frames for the reports (when the caller asked for them). */
static void record_timing(struct wsrun *r, const struct rconn *rc, const struct event *ev, size_t n,
			  double total_ms)
{
	if (!r->env->timings)
		return;
	struct stream_timing t;
	memset(&t, 0, sizeof(t));
	if (timing_compute(ev, n, 1, &t) != 0)
		return;
	t.step = r->env->step;
	t.item = r->item;
	t.kind = "ws";
	snprintf(t.conn, sizeof(t.conn), "%s", rc->name);
	t.total_ms = total_ms;
	timing_list_add(r->env->timings, &t);
}

static void do_collect(struct wsrun *r, const cJSON *it, struct rconn *rc)
{
	double secs = item_timeout(r, it);
	int limited;
	int64_t deadline = mono_ms() + wait_ms(r, secs, &limited);
	const cJSON *ignore = cJSON_GetObjectItemCaseSensitive(it, "ignore");
	const cJSON *until = cJSON_GetObjectItemCaseSensitive(it, "until");
	const cJSON *stream = cJSON_GetObjectItemCaseSensitive(it, "stream");
	const cJSON *maxv = cJSON_GetObjectItemCaseSensitive(it, "max");
	size_t max = cJSON_IsNumber(maxv) ? (size_t)maxv->valuedouble : WSC_MAX_FRAMES;
	struct event *ev = calloc(max, sizeof(*ev));
	size_t n = 0, received = 0;
	int matched = 0, stopped = 0;
	struct buf bad;
	buf_init(&bad, 4096);
	/* Frame times count from the last send on this connection (its opening when nothing was sent). */
	double ref = rc->sent_ms >= 0 ? rc->sent_ms : 0;
	if (!ev) {
		item_error(r, "out of memory");
		goto out;
	}
	while (n < max && !matched) {
		struct wsc_message *m = NULL;
		enum wsc_result res = next_msg(r, rc, deadline, &m);
		if (res == WSC_TIMEOUT && !until && !limited)
			break;   /* without until, the time is simply the end of the collection */
		if (res != WSC_OK) {
			char what[128];
			jpath_fmt(what, sizeof(what), "frame matching until (%zu collected)", n);
			report_wait(r, rc, res, limited, secs, until ? what : "frames");
			stopped = 1;
			break;
		}
		received++;
		if (m->opcode == WSC_CLOSE) {
			if (until) {
				struct buf d;
				buf_init(&d, 4 * SHOW_MAX + 64);
				describe(&d, m);
				fail(r, "the server closed the connection (%s) before a frame matching until (%zu collected)",
				     buf_str(&d), n);
				buf_release(&d);
				stopped = 1;
			}
			wsc_message_free(m);
			break;
		}
		size_t mark = bad.len;
		if (buf_printf(&bad, "frame %zu: ", received) != BUF_OK)
			buf_truncate(&bad, mark);
		cJSON *j = frame_json(m, &bad);
		if (!j) {
			/* Reported after the collection, as a stream reports a line that is not JSON. */
			buf_addc(&bad, '\n');
			wsc_message_free(m);
			continue;
		}
		buf_truncate(&bad, mark);
		const char *type = json_get_string(j, "type");
		if (ignored(ignore, type)) {
			cJSON_Delete(j);
			wsc_message_free(m);
			continue;
		}
		ev[n].type = strdup(type ? type : "?");
		ev[n].raw = strndup(m->data, m->len);
		ev[n].raw_len = m->len;
		ev[n].at_ms = m->at_ms - ref;
		ev[n].json = j;
		n++;
		wsc_message_free(m);
		if (until && pointer_map_check(until, j, "until", NULL, NULL) == 0)
			matched = 1;
	}
	if (rc->c)
		record_timing(r, rc, ev, n, wsc_elapsed_ms(rc->c) - ref);
	if (stopped || r->result != WSSTEP_PASS)
		goto out;
	if (until && !matched) {
		fail(r, "collected %zu frames (the max) without one matching until", n);
		goto out;
	}
	struct buf lines;
	buf_init(&lines, 64u << 10);
	buf_adds(&lines, buf_str(&bad));
	if (stream)
		stream_check_events(stream, ev, n, NULL, &lines);
	if (lines.len) {
		size_t len = strcspn(buf_str(&lines), "\n");
		fail(r, "%.*s", (int)len, buf_str(&lines));
	}
	buf_release(&lines);
out:
	buf_release(&bad);
	if (ev)
		events_free(ev, n);
}

/* Read until the server's close (up to wait_ms); frames before it are shown and dropped. */
static int await_close(struct wsrun *r, struct rconn *rc, int64_t deadline)
{
	for (;;) {
		struct wsc_message *m = NULL;
		enum wsc_result res = next_msg(r, rc, deadline, &m);
		if (res != WSC_OK)
			return res == WSC_CLOSED && wsc_close_received(rc->c) ? 1 : 0;
		int closed = m->opcode == WSC_CLOSE;
		wsc_message_free(m);
		if (closed)
			return 1;
	}
}

static void do_close(struct wsrun *r, const cJSON *it, struct rconn *rc)
{
	const cJSON *cv = cJSON_GetObjectItemCaseSensitive(it, "code");
	int code = cJSON_IsNumber(cv) ? (int)cv->valuedouble : 1000;
	int limited;
	if (!usable(r, rc))
		return;
	int64_t deadline = mono_ms() + wait_ms(r, WSSTEP_CLOSE_WAIT_MS / 1000.0, &limited);
	xt_frame(r, rc, '>', WSC_CLOSE, "", 0, code, -1, NULL);
	enum wsc_result res = wsc_send_close(rc->c, code, "", WSSTEP_CLOSE_WAIT_MS);
	if (res == WSC_ERROR) {
		fail(r, "cannot send the close: %s", wsc_error(rc->c));
		rc->dead = "it failed";
		return;
	}
	rc->dead = "it was closed";
	if (!await_close(r, rc, deadline)) {
		if (limited)
			total_timeout(r);
		else
			fail(r, "the server did not answer our close within %g s", WSSTEP_CLOSE_WAIT_MS / 1000.0);
	}
}

static void do_sleep(struct wsrun *r, const cJSON *it)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(it, "sleep");
	int limited;
	int ms = wait_ms(r, cJSON_IsNumber(s) ? s->valuedouble : 0, &limited);
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0)
		;
	if (limited)
		total_timeout(r);
}

/* Close what is still open, with 1000, waiting a little for the server's answer. */
static void close_all(struct wsrun *r)
{
	for (size_t i = 0; i < r->nconns; i++) {
		struct rconn *rc = &r->conns[i];
		if (rc->c && !rc->dead) {
			xt_frame(r, rc, '>', WSC_CLOSE, "", 0, 1000, -1, "end of step");
			if (wsc_send_close(rc->c, 1000, "", 1000) == WSC_OK) {
				int64_t deadline = mono_ms() + WSSTEP_CLOSE_WAIT_MS;
				enum wsstep_result keep = r->result;
				await_close(r, rc, deadline);
				r->result = keep;
			}
		}
		wsc_free(rc->c);
		rc->c = NULL;
	}
}


/* An expect item: a frame, no frame for a while, or the server's close. */
static void run_expect(struct wsrun *r, const cJSON *it, struct rconn *rc, const cJSON *next)
{
	if (!usable(r, rc))
		return;
	if (cJSON_GetObjectItemCaseSensitive(it, "frame"))
		do_expect_frame(r, it, rc);
	else if (cJSON_GetObjectItemCaseSensitive(it, "no_frame_within"))
		do_expect_nothing(r, it, rc);
	else
		do_expect_close(r, it, rc);
}

static void run_collect(struct wsrun *r, const cJSON *it, struct rconn *rc, const cJSON *next)
{
	if (usable(r, rc))
		do_collect(r, it, rc);
}

static void run_connect(struct wsrun *r, const cJSON *it, struct rconn *rc, const cJSON *next)
{
	do_connect(r, it, rc);
}

static void run_close(struct wsrun *r, const cJSON *it, struct rconn *rc, const cJSON *next)
{
	do_close(r, it, rc);
}

static void run_sleep(struct wsrun *r, const cJSON *it, struct rconn *rc, const cJSON *next)
{
	do_sleep(r, it);
}

/* ---- the item kinds -------------------------------------------------------------------------- */

/*
 * One entry per kind of script item, read by the loader and the runner alike:
 * the members it takes, how it is validated, and what it does.  A new kind is
 * one entry here, so the two halves cannot disagree about what exists.
 */
struct item_kind {
	const char *verb;
	const char *const *members;   /* every member it may have, the verb included */
	int names_conn;               /* the verb's value names a connection */
	int (*validate)(const cJSON *it, const char *path, struct buf *err, enum effect *effect);
	/* next is the item after this one in the template (a send that a close may answer looks at it) */
	void (*run)(struct wsrun *r, const cJSON *it, struct rconn *rc, const cJSON *next);
};

static const char *const members_connect[] = { "connect", "status", "headers", "may_refuse", "precondition",
					       NULL };
static const char *const members_send[] = { "send", "json", "text", "text_repeat", "repeat", "fragments", "hex",
					    "binary_hex", "ping", "unmasked", "precondition", NULL };
static const char *const members_expect[] = { "expect", "frame", "capture", "timeout", "ignore", "no_frame_within",
					      "or_close", "close", "reason", "precondition", NULL };
static const char *const members_collect[] = { "collect", "until", "max", "timeout", "ignore", "stream",
					       "precondition", NULL };
static const char *const members_close[] = { "close", "code", "precondition", NULL };
static const char *const members_sleep[] = { "sleep", "precondition", NULL };

static const struct item_kind item_kinds[] = {
	{ "connect", members_connect, 1, validate_connect, run_connect },
	{ "send", members_send, 1, validate_send, do_send },
	{ "expect", members_expect, 1, validate_expect, run_expect },
	{ "collect", members_collect, 1, validate_collect, run_collect },
	{ "close", members_close, 1, validate_close, run_close },
	{ "sleep", members_sleep, 0, validate_sleep, run_sleep },
};
#define NKINDS (sizeof(item_kinds) / sizeof(item_kinds[0]))

/*
 * The kind of item it (an object), or NULL; *nverbs says how many verbs it has.
 * "close" is also a member of expect items: there it is the code, not the verb.
 */
static const struct item_kind *item_kind_of(const cJSON *it, int *nverbs)
{
	const struct item_kind *kind = NULL;
	int expect = cJSON_GetObjectItemCaseSensitive(it, "expect") != NULL;
	*nverbs = 0;
	for (size_t i = 0; i < NKINDS; i++) {
		if (!cJSON_GetObjectItemCaseSensitive(it, item_kinds[i].verb))
			continue;
		if (expect && strcmp(item_kinds[i].verb, "close") == 0)
			continue;
		(*nverbs)++;
		kind = &item_kinds[i];
	}
	return *nverbs == 1 ? kind : NULL;
}

/* ---- validation of a script ------------------------------------------------------------------ */

static int validate_item(const cJSON *it, const char *path, struct vconn *vc, size_t nvc, const cJSON *conns,
			 struct buf *err)
{
	char p[PATH_LEN];
	int rc = 0, nverbs;
	if (!cJSON_IsObject(it)) {
		jpath_err(err, path, "a script item must be an object, got %s", json_type_name(it));
		return -1;
	}
	const struct item_kind *kind = item_kind_of(it, &nverbs);
	if (!kind) {
		jpath_err(err, path, "a script item has exactly one of connect, send, expect, collect, close or sleep%s",
			  nverbs ? "" : " (none given)");
		return -1;
	}
	rc |= check_members(it, path, kind->members, err);
	const cJSON *pre = cJSON_GetObjectItemCaseSensitive(it, "precondition");
	if (pre && !cJSON_IsBool(pre)) {
		jpath_key(p, sizeof(p), path, "precondition");
		jpath_err(err, p, "must be true or false, got %s", json_type_name(pre));
		rc = -1;
	}
	enum effect effect = EFFECT_NONE;
	rc |= kind->validate(it, path, err, &effect);
	if (!kind->names_conn)
		return rc;
	struct vconn *c = named(vc, nvc, cJSON_GetObjectItemCaseSensitive(it, kind->verb), path, kind->verb, conns,
				err);
	if (!c)
		return -1;
	jpath_key(p, sizeof(p), path, kind->verb);
	if (effect == EFFECT_OPENS || effect == EFFECT_REFUSED) {
		if (c->state == C_OPEN) {
			jpath_err(err, p, "connection %s is already open here", c->name);
			rc = -1;
		}
		c->state = effect == EFFECT_REFUSED ? C_DEAD : C_OPEN;
		c->why = effect == EFFECT_REFUSED ? "its handshake is expected to be refused" : NULL;
		return rc;
	}
	if (c->state != C_OPEN) {
		jpath_err(err, p, "connection %s is not open here (%s)", c->name,
			  c->state == C_NEW ? "no connect before this item" : c->why);
		rc = -1;
	}
	if (effect == EFFECT_CLOSES) {
		c->state = C_DEAD;
		c->why = "it was closed by an earlier item";
	}
	return rc;
}

int wsstep_validate(const cJSON *ws, const char *path, struct buf *err)
{
	static const char *const allowed[] = { "connections", "script", NULL };
	struct vconn vc[WSSTEP_MAX_CONNECTIONS];
	size_t nvc = 0;
	char p[PATH_LEN];
	if (!cJSON_IsObject(ws)) {
		jpath_err(err, path, "must be an object (connections, script), got %s", json_type_name(ws));
		return -1;
	}
	int rc = check_members(ws, path, allowed, err);
	const cJSON *conns = cJSON_GetObjectItemCaseSensitive(ws, "connections");
	jpath_key(p, sizeof(p), path, "connections");
	if (!conns) {
		jpath_err(err, p, "missing (required)");
		rc = -1;
	} else if (!cJSON_IsObject(conns) || !conns->child) {
		jpath_err(err, p, "must be a non-empty object of connection name to connection");
		rc = -1;
		conns = NULL;
	} else {
		for (const cJSON *c = conns->child; c; c = c->next) {
			char cp[PATH_LEN];
			jpath_key(cp, sizeof(cp), p, c->string);
			if (!conn_name_ok(c->string)) {
				jpath_err(err, cp, "not a connection name ([A-Za-z0-9_-], at most %d characters)", NAME_MAX_LEN);
				rc = -1;
			}
			int dup = 0;
			for (size_t i = 0; i < nvc && !dup; i++)
				dup = strcmp(vc[i].name, c->string) == 0;
			if (dup) {
				jpath_err(err, cp, "duplicate member");
				rc = -1;
			} else if (nvc == WSSTEP_MAX_CONNECTIONS) {
				jpath_err(err, cp, "more than %d connections in one step", WSSTEP_MAX_CONNECTIONS);
				rc = -1;
			} else {
				vc[nvc++] = (struct vconn){ .name = c->string, .state = C_NEW };
			}
			if (validate_connection(c, cp, err) < 0)
				rc = -1;
		}
	}
	const cJSON *script = cJSON_GetObjectItemCaseSensitive(ws, "script");
	jpath_key(p, sizeof(p), path, "script");
	if (!script) {
		jpath_err(err, p, "missing (required)");
		return -1;
	}
	if (!cJSON_IsArray(script) || !script->child) {
		jpath_err(err, p, "must be a non-empty array of items");
		return -1;
	}
	if (cJSON_GetArraySize(script) > WSSTEP_MAX_ITEMS) {
		jpath_err(err, p, "more than %d items", WSSTEP_MAX_ITEMS);
		return -1;
	}
	int i = 0;
	for (const cJSON *it = script->child; it; it = it->next, i++) {
		char ip[PATH_LEN];
		jpath_fmt(ip, sizeof(ip), "%s[%d]", p, i);
		if (validate_item(it, ip, vc, nvc, conns, err) < 0)
			rc = -1;
	}
	return rc;
}

enum wsstep_result wsstep_run(const cJSON *ws, const struct wsstep_env *env)
{
	struct wsrun r;
	memset(&r, 0, sizeof(r));
	r.env = env;
	r.t0 = mono_ms();
	r.deadline = r.t0 + (int64_t)(env->total * 1000.0);
	r.result = WSSTEP_PASS;
	const cJSON *conns = cJSON_GetObjectItemCaseSensitive(ws, "connections");
	const cJSON *c;
	cJSON_ArrayForEach(c, conns) {
		if (r.nconns == WSSTEP_MAX_CONNECTIONS)
			break;
		r.conns[r.nconns++] = (struct rconn){ .name = c->string, .spec = c, .sent_ms = -1 };
	}
	const cJSON *script = cJSON_GetObjectItemCaseSensitive(ws, "script");
	size_t idx = 0;
	const cJSON *tmpl;
	cJSON_ArrayForEach(tmpl, script) {
		idx++;
		r.item = idx;
		struct buf err;
		buf_init(&err, 4096);
		int nverbs;
		const struct item_kind *kind = item_kind_of(tmpl, &nverbs);
		const char *verb = kind ? kind->verb : "?";
		const char *cname = kind && kind->names_conn ? json_get_string(tmpl, verb) : NULL;
		if (cname)
			jpath_fmt(r.label, sizeof(r.label), "ws item %zu (%s %.32s): ", idx, verb, cname);
		else
			jpath_fmt(r.label, sizeof(r.label), "ws item %zu (%s): ", idx, verb);
		/* Expanded now, not before the step: an earlier item's capture may be used here. */
		cJSON *it = vars_expand_json(env->scope, tmpl, &err);
		if (!it) {
			item_error(&r, "%s", buf_str(&err));
			buf_release(&err);
			break;
		}
		buf_release(&err);
		struct rconn *rc = cname ? find_conn(&r, cname) : NULL;
		if (!kind || (kind->names_conn && !rc))
			item_error(&r, "not a valid item (the loader should have said so)");
		else if (rc && rc->refused && env->transcript)
			buf_printf(env->transcript, "* item %zu (%s %s): skipped, the connection was refused\n", idx, verb,
				   rc->name);
		else if (!rc || !rc->refused)
			kind->run(&r, it, rc, tmpl->next);
		cJSON_Delete(it);
		if (r.result == WSSTEP_FAIL && env->precondition_failed)
			*env->precondition_failed = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(tmpl, "precondition"));
		if (r.result != WSSTEP_PASS)
			break;
		if (mono_ms() > r.deadline) {
			total_timeout(&r);
			break;
		}
	}
	close_all(&r);
	if (env->transcript && r.frames_hidden)
		buf_printf(env->transcript, "(%zu more frames not shown)\n", r.frames_hidden);
	return r.result;
}
