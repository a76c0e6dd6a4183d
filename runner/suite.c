/*
 * suite: loading and validating suite files (docs/fixture-format.md).
 *
 * The loader checks everything it can before a run and keeps going after the
 * first problem, so one run of `chatconform list` shows every mistake in every
 * file.  Each problem is one line: "FILE: CASE_ID: JSON.PATH: what" ("-" for
 * the case id outside a case).  Problems with the file itself (it cannot be
 * read, it is not JSON) are "FILE: what".
 *
 * The request, expect, capture and vars subtrees are duplicated out of the
 * parsed document, so a struct suite owns them and the document is freed.
 */
#include "runner/suite.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/json.h"
#include "common/jpath.h"
#include "runner/http.h"
#include "runner/match.h"
#include "runner/vars.h"
#include "runner/wsstep.h"

#define SUITE_MAX_FILE    (8u * 1024 * 1024)  /* bytes of one suite file */
#define SUITE_MAX_FILES   10000               /* files found under the paths of one run */
#define SUITE_MAX_DEPTH   16                  /* folder nesting searched */
#define SUITE_MAX_REPEAT  100000
#define SUITE_MAX_BODY    (64u * 1024 * 1024) /* body x body_repeat */
#define SUITE_MAX_ID      200
#define SUITE_MAX_SLEEP   3600                /* seconds of a sleep step, as a ws script's sleep */
#define SUITE_MAX_VAR_NAME 256                /* as runner/vars.c */
#define PATH_LEN          512                 /* bytes of a JSON path in a message */

struct loader {
	const char *file;
	const char *case_id;     /* "-" outside a case */
	struct buf *err;
	int nerr;
};

/* Report one problem at path. */
static void bad(struct loader *L, const char *path, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void bad(struct loader *L, const char *path, const char *fmt, ...)
{
	va_list ap;
	L->nerr++;
	buf_printf(L->err, "%s: %s: %s: ", L->file, L->case_id, path);
	va_start(ap, fmt);
	buf_vprintf(L->err, fmt, ap);
	va_end(ap);
	buf_addc(L->err, '\n');
}

/* Copy "path: what" lines from a validator, prefixed with the file and the case id. */
static void take_lines(struct loader *L, const struct buf *lines)
{
	const char *p = buf_str(lines);
	while (*p) {
		size_t n = strcspn(p, "\n");
		L->nerr++;
		buf_printf(L->err, "%s: %s: %.*s\n", L->file, L->case_id, (int)n, p);
		p += n;
		if (*p == '\n')
			p++;
	}
}

static void bad_cb(void *ctx, const char *path, const char *what)
{
	bad(ctx, path, "%s", what);
}

/* Report members of o not in allowed, and members named twice. */
static void check_members(struct loader *L, const cJSON *o, const char *path, const char *const *allowed)
{
	jpath_check_members(o, path, allowed, bad_cb, L);
}

/* A required or optional member; reports a missing required one. */
static const cJSON *member(struct loader *L, const cJSON *o, const char *path, const char *name, int required)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, name);
	if (!m && required) {
		char p[PATH_LEN];
		jpath_key(p, sizeof(p), path, name);
		bad(L, p, "missing (required)");
	}
	return m;
}

/* A non-empty one-line string member, duplicated; NULL when absent or bad (reported). */
static char *string_member(struct loader *L, const cJSON *o, const char *path, const char *name, int required)
{
	const cJSON *m = member(L, o, path, name, required);
	if (!m)
		return NULL;
	char p[PATH_LEN];
	jpath_key(p, sizeof(p), path, name);
	if (!cJSON_IsString(m)) {
		bad(L, p, "must be a string, got %s", json_type_name(m));
		return NULL;
	}
	if (!*m->valuestring) {
		bad(L, p, "must not be empty");
		return NULL;
	}
	if (strpbrk(m->valuestring, "\r\n")) {
		bad(L, p, "must be one line");
		return NULL;
	}
	return strdup(m->valuestring);
}

/* Check the ${...} syntax of every string under v (values only). */
static void check_templates(struct loader *L, const cJSON *v, const char *path, int depth)
{
	if (cJSON_IsString(v)) {
		struct buf e;
		buf_init(&e, 512);
		if (vars_check(v->valuestring, &e) < 0)
			bad(L, path, "%s", buf_str(&e));
		buf_release(&e);
		return;
	}
	if (depth > 64)
		return;
	size_t i = 0;
	for (const cJSON *c = v->child; c; c = c->next, i++) {
		char p[PATH_LEN];
		if (cJSON_IsObject(v))
			jpath_key(p, sizeof(p), path, c->string);
		else
			jpath_index(p, sizeof(p), path, i);
		check_templates(L, c, p, depth + 1);
	}
}

static cJSON *dup_or_null(const cJSON *v)
{
	return v ? cJSON_Duplicate(v, 1) : NULL;
}

/* ---- pieces ---------------------------------------------------------------------------------- */

static void parse_vars(struct loader *L, const cJSON *v, const char *path)
{
	if (!cJSON_IsObject(v)) {
		bad(L, path, "must be an object of name to value, got %s", json_type_name(v));
		return;
	}
	for (const cJSON *m = v->child; m; m = m->next) {
		char p[PATH_LEN];
		jpath_key(p, sizeof(p), path, m->string);
		if (!jpath_is_ident(m->string))
			bad(L, p, "not a variable name ([A-Za-z_][A-Za-z0-9_]*)");
		for (const cJSON *o = v->child; o != m; o = o->next)
			if (strcmp(o->string, m->string) == 0) {
				bad(L, p, "duplicate member");
				break;
			}
	}
	check_templates(L, v, path, 0);
}

static void parse_timeouts(struct loader *L, const cJSON *t, const char *path, struct timeouts *out)
{
	static const char *const allowed[] = { "connect", "first_byte", "idle", "total", NULL };
	if (!cJSON_IsObject(t)) {
		bad(L, path, "must be an object of connect, first_byte, idle, total (seconds), got %s",
		    json_type_name(t));
		return;
	}
	check_members(L, t, path, allowed);
	double *slots[] = { &out->connect, &out->first_byte, &out->idle, &out->total };
	for (size_t i = 0; i < 4; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(t, allowed[i]);
		if (!v)
			continue;
		char p[PATH_LEN];
		jpath_key(p, sizeof(p), path, allowed[i]);
		if (!cJSON_IsNumber(v) || !(v->valuedouble > 0) || v->valuedouble > 86400) {
			bad(L, p, "must be a positive number of seconds (at most 86400)");
			continue;
		}
		*slots[i] = v->valuedouble;
	}
}

static int token_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Header names: an HTTP token (RFC 9110); values: strings, or null to remove a default header. */
static void parse_headers(struct loader *L, const cJSON *h, const char *path, int allow_null)
{
	if (!cJSON_IsObject(h)) {
		bad(L, path, "must be an object of header name to value, got %s", json_type_name(h));
		return;
	}
	for (const cJSON *m = h->child; m; m = m->next) {
		char p[PATH_LEN];
		jpath_key(p, sizeof(p), path, m->string);
		int ok = *m->string != '\0';
		for (const char *c = m->string; *c && ok; c++)
			ok = token_char(*c);
		if (!ok)
			bad(L, p, "not a header name");
		for (const cJSON *o = h->child; o != m; o = o->next)
			if (strcasecmp(o->string, m->string) == 0) {
				bad(L, p, "header named twice (names are case-insensitive)");
				break;
			}
		if (cJSON_IsNull(m) && allow_null)
			continue;
		if (!cJSON_IsString(m))
			bad(L, p, "must be a string%s, got %s", allow_null ? " or null" : "", json_type_name(m));
		else if (strpbrk(m->valuestring, "\r\n"))
			bad(L, p, "must not contain a line break");
	}
}

static void parse_request(struct loader *L, const cJSON *r, const char *path, int admin)
{
	static const char *const allowed[] = { "method", "path", "query", "headers", "json", "body",
					       "body_repeat", NULL };
	if (!cJSON_IsObject(r)) {
		bad(L, path, "must be an object, got %s", json_type_name(r));
		return;
	}
	check_members(L, r, path, allowed);
	char p[PATH_LEN];
	const cJSON *m;
	if ((m = member(L, r, path, "method", 0))) {
		jpath_key(p, sizeof(p), path, "method");
		int ok = cJSON_IsString(m) && *m->valuestring;
		for (const char *c = ok ? m->valuestring : ""; *c && ok; c++)
			ok = token_char(*c);
		if (!ok)
			bad(L, p, "must be an HTTP method such as \"POST\"");
	}
	if ((m = member(L, r, path, "path", 1))) {
		jpath_key(p, sizeof(p), path, "path");
		if (!cJSON_IsString(m) || m->valuestring[0] != '/')
			bad(L, p, "must be a string starting with \"/\"");
		else if (admin && strncmp(m->valuestring, "/__admin/", 9) != 0)
			bad(L, p, "an admin path must start with \"/__admin/\"");
		else if (strpbrk(m->valuestring, " \t\r\n"))
			bad(L, p, "must not contain spaces or line breaks");
	}
	if ((m = member(L, r, path, "query", 0))) {
		jpath_key(p, sizeof(p), path, "query");
		if (!cJSON_IsObject(m)) {
			bad(L, p, "must be an object of parameter to value, got %s", json_type_name(m));
		} else {
			for (const cJSON *q = m->child; q; q = q->next) {
				char qp[PATH_LEN];
				jpath_key(qp, sizeof(qp), p, q->string);
				if (!cJSON_IsString(q) && !cJSON_IsNumber(q) && !cJSON_IsBool(q))
					bad(L, qp, "must be a string, number or boolean, got %s", json_type_name(q));
			}
		}
	}
	if ((m = member(L, r, path, "headers", 0))) {
		jpath_key(p, sizeof(p), path, "headers");
		parse_headers(L, m, p, 1);
	}
	const cJSON *json = member(L, r, path, "json", 0), *body = member(L, r, path, "body", 0);
	const cJSON *rep = member(L, r, path, "body_repeat", 0);
	if (json && body) {
		jpath_key(p, sizeof(p), path, "body");
		bad(L, p, "\"json\" and \"body\" are exclusive");
	}
	if (body && !cJSON_IsString(body)) {
		jpath_key(p, sizeof(p), path, "body");
		bad(L, p, "must be a string, got %s", json_type_name(body));
	}
	if (rep) {
		jpath_key(p, sizeof(p), path, "body_repeat");
		if (!body)
			bad(L, p, "needs \"body\"");
		else if (!json_is_integer(rep) || rep->valuedouble < 1 || rep->valuedouble > SUITE_MAX_BODY)
			bad(L, p, "must be a positive integer");
		else if (cJSON_IsString(body) &&
			 (double)strlen(body->valuestring) * rep->valuedouble > SUITE_MAX_BODY)
			bad(L, p, "the repeated body would be larger than %u bytes", SUITE_MAX_BODY);
	}
	check_templates(L, r, path, 0);
}

static void parse_capture(struct loader *L, const cJSON *c, const char *path)
{
	if (!cJSON_IsObject(c)) {
		bad(L, path, "must be an object of variable name to source, got %s", json_type_name(c));
		return;
	}
	for (const cJSON *m = c->child; m; m = m->next) {
		char p[PATH_LEN];
		jpath_key(p, sizeof(p), path, m->string);
		if (!jpath_is_ident(m->string))
			bad(L, p, "not a variable name ([A-Za-z_][A-Za-z0-9_]*)");
		for (const cJSON *o = c->child; o != m; o = o->next)
			if (strcmp(o->string, m->string) == 0) {
				bad(L, p, "duplicate member");
				break;
			}
		if (!cJSON_IsString(m)) {
			bad(L, p, "must be a source string such as \"body:/id\", got %s", json_type_name(m));
			continue;
		}
		struct buf e;
		buf_init(&e, 1024);
		if (capture_validate(m->valuestring, p, &e) < 0)
			take_lines(L, &e);
		buf_release(&e);
	}
	check_templates(L, c, path, 0);
}

/*
 * "leave_after": {"events": N} on a request step: the client leaves its stream
 * once N events arrived.  Events are counted by the stream decoder, so the step
 * must expect a stream (its format says what an event is).
 */
static void parse_leave_after(struct loader *L, const cJSON *s, const cJSON *m, const char *path,
			      struct step *st)
{
	static const char *const allowed[] = { "events", NULL };
	char p[PATH_LEN];
	jpath_key(p, sizeof(p), path, "leave_after");
	if (st->kind != STEP_REQUEST) {
		bad(L, p, "only on a \"request\" step");
		return;
	}
	if (!cJSON_IsObject(m)) {
		bad(L, p, "must be an object such as {\"events\": 1}, got %s", json_type_name(m));
		return;
	}
	check_members(L, m, p, allowed);
	if (!cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(s, "expect"), "stream"))
		bad(L, p, "needs \"expect\": {\"stream\": ...} (its format says what an event is)");
	const cJSON *n = member(L, m, p, "events", 1);
	if (!n)
		return;
	char np[PATH_LEN];
	jpath_key(np, sizeof(np), p, "events");
	if (!json_is_integer(n) || n->valuedouble < 1 || n->valuedouble > HTTP_MAX_EVENTS)
		bad(L, np, "must be an integer from 1 to %u", HTTP_MAX_EVENTS);
	else
		st->leave_after = (size_t)n->valuedouble;
}

/* {"sleep": S}: wait S seconds; nothing else but "precondition" has a meaning there. */
static void parse_sleep(struct loader *L, const cJSON *s, const cJSON *m, const char *path, struct step *st)
{
	static const char *const not_sleep[] = { "expect", "capture", "repeat", "timeout", "leave_after", NULL };
	char p[PATH_LEN];
	st->kind = STEP_SLEEP;
	for (size_t i = 0; not_sleep[i]; i++)
		if (cJSON_GetObjectItemCaseSensitive(s, not_sleep[i])) {
			jpath_key(p, sizeof(p), path, not_sleep[i]);
			bad(L, p, "not with \"sleep\"");
		}
	jpath_key(p, sizeof(p), path, "sleep");
	if (!cJSON_IsNumber(m) || !(m->valuedouble > 0) || m->valuedouble > SUITE_MAX_SLEEP)
		bad(L, p, "must be a positive number of seconds (at most %d)", SUITE_MAX_SLEEP);
	else
		st->sleep = m->valuedouble;
}

static void parse_step(struct loader *L, const cJSON *s, const char *path, struct step *st, struct tcase *tc)
{
	static const char *const allowed[] = { "request", "admin", "ws", "sleep", "expect", "capture", "repeat",
					       "leave_after", "timeout", "precondition", NULL };
	st->where = strdup(path);
	st->repeat = 1;
	if (!cJSON_IsObject(s)) {
		bad(L, path, "a step must be an object, got %s", json_type_name(s));
		return;
	}
	check_members(L, s, path, allowed);
	char p[PATH_LEN];
	const cJSON *req = cJSON_GetObjectItemCaseSensitive(s, "request");
	const cJSON *adm = cJSON_GetObjectItemCaseSensitive(s, "admin");
	const cJSON *ws = cJSON_GetObjectItemCaseSensitive(s, "ws");
	const cJSON *slp = cJSON_GetObjectItemCaseSensitive(s, "sleep");
	if ((req != NULL) + (adm != NULL) + (ws != NULL) + (slp != NULL) > 1) {
		bad(L, path, "a step has exactly one of \"request\", \"admin\", \"ws\" or \"sleep\"");
	} else if (!req && !adm && !ws && !slp) {
		bad(L, path, "a step needs \"request\", \"admin\", \"ws\" or \"sleep\"");
	} else if (slp) {
		parse_sleep(L, s, slp, path, st);
	} else if (ws) {
		/* A ws step carries its checks in its script: expect, capture and repeat have no meaning. */
		static const char *const not_ws[] = { "expect", "capture", "repeat", "leave_after", NULL };
		for (size_t i = 0; not_ws[i]; i++)
			if (cJSON_GetObjectItemCaseSensitive(s, not_ws[i])) {
				jpath_key(p, sizeof(p), path, not_ws[i]);
				bad(L, p, "not with \"ws\" (its script holds the checks)");
			}
		st->kind = STEP_WS;
		jpath_key(p, sizeof(p), path, "ws");
		struct buf e;
		buf_init(&e, 64 * 1024);
		if (wsstep_validate(ws, p, &e) < 0 || e.len)
			take_lines(L, &e);
		buf_release(&e);
		check_templates(L, ws, p, 0);
		st->ws = dup_or_null(ws);
	} else {
		st->kind = adm ? STEP_ADMIN : STEP_REQUEST;
		jpath_key(p, sizeof(p), path, adm ? "admin" : "request");
		parse_request(L, adm ? adm : req, p, adm != NULL);
		st->request = dup_or_null(adm ? adm : req);
		if (adm) {
			tc->mock_only = true;
			const char *ap = json_get_string(adm, "path");
			if (ap && (strncmp(ap, "/__admin/reset", 14) == 0 || strncmp(ap, "/__admin/clock", 14) == 0))
				tc->exclusive = true;
		}
	}
	const cJSON *m;
	if ((m = cJSON_GetObjectItemCaseSensitive(s, "precondition"))) {
		jpath_key(p, sizeof(p), path, "precondition");
		if (!cJSON_IsBool(m))
			bad(L, p, "must be true or false, got %s", json_type_name(m));
		st->precondition = cJSON_IsTrue(m);
	}
	if (slp)
		return;
	if ((m = cJSON_GetObjectItemCaseSensitive(s, "leave_after")) && !ws)
		parse_leave_after(L, s, m, path, st);
	if (ws)
		goto timeouts;
	if ((m = cJSON_GetObjectItemCaseSensitive(s, "expect"))) {
		jpath_key(p, sizeof(p), path, "expect");
		struct buf e;
		buf_init(&e, 64 * 1024);
		if (expect_validate(m, p, &e) < 0 || e.len)
			take_lines(L, &e);
		buf_release(&e);
		if (cJSON_IsObject(m))
			check_templates(L, m, p, 0);
		st->expect = dup_or_null(m);
	}
	if ((m = cJSON_GetObjectItemCaseSensitive(s, "capture"))) {
		jpath_key(p, sizeof(p), path, "capture");
		parse_capture(L, m, p);
		st->capture = dup_or_null(m);
	}
	if ((m = cJSON_GetObjectItemCaseSensitive(s, "repeat"))) {
		jpath_key(p, sizeof(p), path, "repeat");
		if (!json_is_integer(m) || m->valuedouble < 1 || m->valuedouble > SUITE_MAX_REPEAT)
			bad(L, p, "must be an integer from 1 to %d", SUITE_MAX_REPEAT);
		else
			st->repeat = (int)m->valuedouble;
	}
timeouts:
	if ((m = cJSON_GetObjectItemCaseSensitive(s, "timeout"))) {
		jpath_key(p, sizeof(p), path, "timeout");
		parse_timeouts(L, m, p, &st->timeouts);
	}
}

static int id_valid(const char *id)
{
	if (!*id || strlen(id) > SUITE_MAX_ID)
		return 0;
	for (const char *c = id; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_' || *c == '.' || *c == '-'))
			return 0;
	return 1;
}

/*
 * "needs": the variables naming extra credentials (a second key).  Each must be
 * a variable the suite or the case defines, so a mock run always has a value;
 * against a real target the case is skipped unless the run supplies it.
 */
static void parse_needs(struct loader *L, const cJSON *m, const char *p, struct tcase *tc)
{
	if (!cJSON_IsArray(m) || !m->child) {
		bad(L, p, "must be a non-empty array of variable names, got %s", json_type_name(m));
		return;
	}
	size_t n = (size_t)cJSON_GetArraySize(m), i = 0;
	tc->needs = calloc(n, sizeof(*tc->needs));
	for (const cJSON *v = m->child; v && tc->needs; v = v->next, i++) {
		char vp[PATH_LEN];
		jpath_index(vp, sizeof(vp), p, i);
		if (!cJSON_IsString(v) || !jpath_is_ident(v->valuestring) || strlen(v->valuestring) > SUITE_MAX_VAR_NAME) {
			bad(L, vp, "must be a variable name ([A-Za-z_][A-Za-z0-9_]*)");
			continue;
		}
		const char *name = v->valuestring;
		int dup = 0;
		for (size_t j = 0; j < tc->nneeds && !dup; j++)
			dup = strcmp(tc->needs[j], name) == 0;
		if (dup) {
			bad(L, vp, "%s is named twice", name);
			continue;
		}
		if (!cJSON_GetObjectItemCaseSensitive(tc->vars, name) &&
		    !cJSON_GetObjectItemCaseSensitive(tc->suite->vars, name)) {
			bad(L, vp, "%s is not a variable of the suite or the case (define it in \"vars\")", name);
			continue;
		}
		tc->needs[tc->nneeds++] = strdup(name);
	}
}

static void parse_case(struct loader *L, const cJSON *c, const char *path, struct tcase *tc)
{
	static const char *const allowed[] = { "id", "title", "section", "clause", "level", "tags", "vars",
					       "skip", "exclusive", "needs", "steps", NULL };
	L->case_id = "-";
	if (!cJSON_IsObject(c)) {
		bad(L, path, "a case must be an object, got %s", json_type_name(c));
		return;
	}
	const char *raw_id = json_get_string(c, "id");
	if (raw_id && id_valid(raw_id))
		L->case_id = raw_id;
	char p[PATH_LEN];
	const cJSON *m;
	if ((m = member(L, c, path, "id", 1))) {
		jpath_key(p, sizeof(p), path, "id");
		if (!cJSON_IsString(m))
			bad(L, p, "must be a string, got %s", json_type_name(m));
		else if (!id_valid(m->valuestring))
			bad(L, p, "\"%.100s\" is not a case id (lowercase [a-z0-9_.-], at most %d characters)",
			    m->valuestring, SUITE_MAX_ID);
		else
			tc->id = strdup(m->valuestring);
	}
	check_members(L, c, path, allowed);
	tc->title = string_member(L, c, path, "title", 1);
	tc->section = string_member(L, c, path, "section", 1);
	tc->clause = string_member(L, c, path, "clause", 1);
	if ((m = member(L, c, path, "level", 1))) {
		jpath_key(p, sizeof(p), path, "level");
		const char *lv = cJSON_IsString(m) ? m->valuestring : "";
		if (strcmp(lv, "MUST") == 0)
			tc->level = LEVEL_MUST;
		else if (strcmp(lv, "SHOULD") == 0)
			tc->level = LEVEL_SHOULD;
		else if (strcmp(lv, "INFO") == 0)
			tc->level = LEVEL_INFO;
		else
			bad(L, p, "must be \"MUST\", \"SHOULD\" or \"INFO\"");
	}
	if ((m = member(L, c, path, "tags", 0))) {
		jpath_key(p, sizeof(p), path, "tags");
		if (!cJSON_IsArray(m)) {
			bad(L, p, "must be an array of strings, got %s", json_type_name(m));
		} else {
			size_t n = (size_t)cJSON_GetArraySize(m), i = 0;
			tc->tags = calloc(n ? n : 1, sizeof(*tc->tags));
			for (const cJSON *t = m->child; t && tc->tags; t = t->next, i++) {
				char tp[PATH_LEN];
				jpath_index(tp, sizeof(tp), p, i);
				if (!cJSON_IsString(t) || !*t->valuestring || strpbrk(t->valuestring, " \t\r\n,")) {
					bad(L, tp, "a tag must be a non-empty string without spaces or commas");
					continue;
				}
				tc->tags[tc->ntags++] = strdup(t->valuestring);
			}
		}
	}
	if ((m = member(L, c, path, "vars", 0))) {
		jpath_key(p, sizeof(p), path, "vars");
		parse_vars(L, m, p);
		tc->vars = dup_or_null(m);
	}
	if ((m = member(L, c, path, "needs", 0))) {
		jpath_key(p, sizeof(p), path, "needs");
		parse_needs(L, m, p, tc);
	}
	if ((m = member(L, c, path, "skip", 0))) {
		tc->skip = string_member(L, c, path, "skip", 0);
	}
	if ((m = member(L, c, path, "exclusive", 0))) {
		jpath_key(p, sizeof(p), path, "exclusive");
		if (!cJSON_IsBool(m))
			bad(L, p, "must be true or false, got %s", json_type_name(m));
		else if (cJSON_IsTrue(m))
			tc->exclusive = true;
	}
	if (tcase_has_tag(tc, "mock-only"))
		tc->mock_only = true;
	if ((m = member(L, c, path, "steps", 1))) {
		jpath_key(p, sizeof(p), path, "steps");
		if (!cJSON_IsArray(m) || !m->child) {
			bad(L, p, "must be a non-empty array of steps");
		} else {
			size_t n = (size_t)cJSON_GetArraySize(m), i = 0;
			tc->steps = calloc(n, sizeof(*tc->steps));
			if (tc->steps) {
				tc->nsteps = n;
				int stated = 0;
				for (const cJSON *s = m->child; s; s = s->next, i++) {
					char sp[PATH_LEN];
					jpath_index(sp, sizeof(sp), p, i);
					parse_step(L, s, sp, &tc->steps[i], tc);
					stated |= cJSON_GetObjectItemCaseSensitive(s, "precondition") != NULL;
				}
				/* Unless a step says which it is, every step before the last sets up the last. */
				for (size_t k = 0; !stated && k + 1 < n; k++)
					tc->steps[k].precondition = true;
				/* A sleep cannot fail: it never counts as the step that checks the clause. */
				size_t checks = 0;
				for (size_t k = 0; k < n; k++)
					checks += !tc->steps[k].precondition && tc->steps[k].kind != STEP_SLEEP;
				if (!checks)
					bad(L, p, "every step is a precondition: at least one must check the clause");
			}
		}
	}
	L->case_id = "-";
}

/* ---- documents --------------------------------------------------------------------------------- */

#define SPEC_SEARCH_LEVELS 8   /* folders searched upwards from a suite file or the executable */

/* dir/../spec/name for dir and each of its parents (at most SPEC_SEARCH_LEVELS), or NULL. */
static char *spec_above(const char *start, const char *name)
{
	char dir[4096];
	if (!realpath(start, dir))
		return NULL;
	for (int level = 0; level < SPEC_SEARCH_LEVELS; level++) {
		char *candidate = NULL;
		struct stat st;
		if (asprintf(&candidate, "%s/spec/%s", strcmp(dir, "/") ? dir : "", name) < 0)
			return NULL;
		if (stat(candidate, &st) == 0 && S_ISREG(st.st_mode))
			return candidate;
		free(candidate);
		char *slash = strrchr(dir, '/');
		if (!slash || slash == dir)
			break;
		*slash = '\0';
	}
	return NULL;
}

char *suite_find_spec(const char *suite_path, const char *name)
{
	char dir[4096], exe[4096];
	snprintf(dir, sizeof(dir), "%s", suite_path);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	char *found = spec_above(dir, name);
	if (found)
		return found;
	/* The executable's folder: bin/ of a checkout, or PREFIX/bin beside share/chatconform/. */
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	if ((slash = strrchr(exe, '/')))
		*slash = '\0';
	if ((found = spec_above(exe, name)))
		return found;
	char share[4200];
	snprintf(share, sizeof(share), "%s/../share/chatconform", exe);
	if ((found = spec_above(share, name)))
		return found;
#ifdef CHATCONFORM_DATADIR
	/* The data folder compiled in by make install, wherever the executable was moved. */
	return spec_above(CHATCONFORM_DATADIR, name);
#else
	return NULL;
#endif
}

/* ---- duplicate ids --------------------------------------------------------------------------- */

struct idref {
	const struct tcase *c;
	size_t order;
};

static int idref_cmp(const void *a, const void *b)
{
	const struct idref *x = a, *y = b;
	int r = strcmp(x->c->id, y->c->id);
	if (r)
		return r;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* Report every case whose id an earlier case already has; returns how many. */
static int report_duplicates(struct idref *refs, size_t n, struct buf *err)
{
	int dups = 0;
	qsort(refs, n, sizeof(*refs), idref_cmp);
	for (size_t i = 1; i < n; i++) {
		size_t first = i - 1;
		while (first > 0 && strcmp(refs[first - 1].c->id, refs[i].c->id) == 0)
			first--;
		if (strcmp(refs[first].c->id, refs[i].c->id) != 0)
			continue;
		const struct tcase *a = refs[first].c, *b = refs[i].c;
		buf_printf(err, "%s: %s: cases[%zu].id: duplicate id (first in %s at cases[%zu])\n", b->suite->path,
			   b->id, b->index, a->suite->path, a->index);
		dups++;
	}
	return dups;
}

/* ---- loading --------------------------------------------------------------------------------- */

/* Read a whole file (at most SUITE_MAX_FILE bytes), NUL-terminated. */
static char *read_file(const char *path, size_t *len, struct buf *err)
{
	char *data = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		buf_printf(err, "cannot open %s: %s\n", path, strerror(errno));
		return NULL;
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		buf_printf(err, "cannot open %s: %s\n", path, strerror(errno));
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		buf_printf(err, "cannot open %s: %s\n", path, strerror(EISDIR));
		goto fail;
	}
	if (st.st_size > (off_t)SUITE_MAX_FILE) {
		buf_printf(err, "%s: file too large (%lld bytes, the limit is %u)\n", path, (long long)st.st_size,
			   SUITE_MAX_FILE);
		goto fail;
	}
	/* Read until EOF rather than trusting st_size, but never past the limit. */
	size_t cap = (size_t)st.st_size + 1, n = 0;
	data = malloc(cap + 1);
	if (!data) {
		buf_printf(err, "%s: out of memory\n", path);
		goto fail;
	}
	for (;;) {
		if (n == cap) {
			if (cap > SUITE_MAX_FILE) {
				buf_printf(err, "%s: file too large (the limit is %u bytes)\n", path, SUITE_MAX_FILE);
				goto fail;
			}
			char *p = realloc(data, cap * 2 + 1);
			if (!p) {
				buf_printf(err, "%s: out of memory\n", path);
				goto fail;
			}
			data = p;
			cap *= 2;
		}
		ssize_t r = read(fd, data + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			buf_printf(err, "cannot read %s: %s\n", path, strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > SUITE_MAX_FILE) {
		buf_printf(err, "%s: file too large (the limit is %u bytes)\n", path, SUITE_MAX_FILE);
		goto fail;
	}
	data[n] = '\0';
	close(fd);
	*len = n;
	return data;
fail:
	free(data);
	close(fd);
	return NULL;
}

static cJSON *parse_file(const char *path, struct buf *err)
{
	size_t len;
	char *data = read_file(path, &len, err);
	if (!data)
		return NULL;
	if (memchr(data, '\0', len)) {
		buf_printf(err, "%s: invalid JSON: the file contains a NUL byte\n", path);
		free(data);
		return NULL;
	}
	const char *end = NULL;
	cJSON *doc = cJSON_ParseWithOpts(data, &end, 1);
	if (!doc) {
		size_t line = 1, col = 1;
		const char *stop = end && end >= data && end <= data + len ? end : data;
		for (const char *p = data; p < stop; p++) {
			if (*p == '\n') {
				line++;
				col = 1;
			} else {
				col++;
			}
		}
		buf_printf(err, "%s: invalid JSON at line %zu, column %zu\n", path, line, col);
	}
	free(data);
	return doc;
}

struct suite *suite_load(const char *path, struct buf *err)
{
	static const char *const allowed[] = { "suite", "spec", "vars", "defaults", "cases", NULL };
	struct suite *s = NULL;
	cJSON *doc = parse_file(path, err);
	if (!doc)
		return NULL;
	struct loader L = { .file = path, .case_id = "-", .err = err };
	s = calloc(1, sizeof(*s));
	if (!s || !(s->path = strdup(path))) {
		buf_printf(err, "%s: out of memory\n", path);
		goto fail;
	}
	if (!cJSON_IsObject(doc)) {
		bad(&L, "(root)", "a suite file must be a JSON object, got %s", json_type_name(doc));
		goto fail;
	}
	check_members(&L, doc, "", allowed);
	s->name = string_member(&L, doc, "", "suite", 1);
	if (s->name) {
		for (const char *c = s->name; *c; c++)
			if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_' || *c == '-')) {
				bad(&L, "suite", "\"%.100s\" is not an API name (lowercase [a-z0-9_-])", s->name);
				break;
			}
	}
	s->spec = string_member(&L, doc, "", "spec", 1);
	if (s->spec && (strchr(s->spec, '/') || !*s->spec || s->spec[0] == '.'))
		bad(&L, "spec", "must be the file name of a document in spec/, without \"/\"");
	else if (s->spec && !(s->spec_path = suite_find_spec(path, s->spec)))
		bad(&L, "spec", "\"%.100s\" names no document in spec/ (looked in every spec/ folder above %s and "
		    "above the chatconform executable"
#ifdef CHATCONFORM_DATADIR
		    ", and in " CHATCONFORM_DATADIR "/spec"
#endif
		    ")", s->spec, path);
	const cJSON *m;
	if ((m = member(&L, doc, "", "vars", 0))) {
		parse_vars(&L, m, "vars");
		s->vars = dup_or_null(m);
	}
	if ((m = member(&L, doc, "", "defaults", 0))) {
		static const char *const dallowed[] = { "headers", "timeout", NULL };
		if (!cJSON_IsObject(m)) {
			bad(&L, "defaults", "must be an object, got %s", json_type_name(m));
		} else {
			check_members(&L, m, "defaults", dallowed);
			const cJSON *h = cJSON_GetObjectItemCaseSensitive(m, "headers");
			if (h) {
				parse_headers(&L, h, "defaults.headers", 0);
				check_templates(&L, h, "defaults.headers", 0);
				s->default_headers = dup_or_null(h);
			}
			const cJSON *t = cJSON_GetObjectItemCaseSensitive(m, "timeout");
			if (t)
				parse_timeouts(&L, t, "defaults.timeout", &s->timeouts);
		}
	}
	if ((m = member(&L, doc, "", "cases", 1))) {
		if (!cJSON_IsArray(m) || !m->child) {
			bad(&L, "cases", "must be a non-empty array of cases");
		} else {
			size_t n = (size_t)cJSON_GetArraySize(m), i = 0;
			s->cases = calloc(n, sizeof(*s->cases));
			if (!s->cases) {
				buf_printf(err, "%s: out of memory\n", path);
				goto fail;
			}
			s->ncases = n;
			for (const cJSON *c = m->child; c; c = c->next, i++) {
				char p[PATH_LEN];
				jpath_index(p, sizeof(p), "cases", i);
				s->cases[i].suite = s;
				s->cases[i].index = i;
				parse_case(&L, c, p, &s->cases[i]);
			}
		}
	}
	/* Ids are unique within the file; suite_set_load checks across files. */
	struct idref *refs = calloc(s->ncases ? s->ncases : 1, sizeof(*refs));
	if (!refs) {
		buf_printf(err, "%s: out of memory\n", path);
		goto fail;
	}
	size_t nrefs = 0;
	for (size_t i = 0; i < s->ncases; i++)
		if (s->cases[i].id)
			refs[nrefs++] = (struct idref){ &s->cases[i], i };
	int dups = report_duplicates(refs, nrefs, err);
	free(refs);
	if (L.nerr || dups)
		goto fail;
	cJSON_Delete(doc);
	return s;
fail:
	cJSON_Delete(doc);
	suite_free(s);
	return NULL;
}

static void step_release(struct step *st)
{
	free(st->where);
	cJSON_Delete(st->request);
	cJSON_Delete(st->ws);
	cJSON_Delete(st->expect);
	cJSON_Delete(st->capture);
}

static void tcase_release(struct tcase *c)
{
	free(c->id);
	free(c->title);
	free(c->section);
	free(c->clause);
	for (size_t i = 0; i < c->ntags; i++)
		free(c->tags[i]);
	free(c->tags);
	for (size_t i = 0; i < c->nneeds; i++)
		free(c->needs[i]);
	free(c->needs);
	free(c->skip);
	cJSON_Delete(c->vars);
	for (size_t i = 0; i < c->nsteps; i++)
		step_release(&c->steps[i]);
	free(c->steps);
}

void suite_free(struct suite *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->ncases; i++)
		tcase_release(&s->cases[i]);
	free(s->cases);
	cJSON_Delete(s->vars);
	cJSON_Delete(s->default_headers);
	free(s->path);
	free(s->name);
	free(s->spec);
	free(s->spec_path);
	free(s);
}

/* ---- sets ------------------------------------------------------------------------------------ */

struct pathlist {
	char **v;
	size_t n, cap;
};

static int pathlist_add(struct pathlist *l, const char *p)
{
	if (l->n >= SUITE_MAX_FILES)
		return -1;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		char **v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	char *copy = strdup(p);
	if (!copy)
		return -1;
	l->v[l->n++] = copy;
	return 0;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Collect *.json under dir (hidden entries skipped); -1 with err on a problem. */
static int walk(const char *dir, struct pathlist *out, int depth, struct buf *err)
{
	if (depth > SUITE_MAX_DEPTH) {
		buf_printf(err, "%s: folders nested deeper than %d levels\n", dir, SUITE_MAX_DEPTH);
		return -1;
	}
	DIR *d = opendir(dir);
	if (!d) {
		buf_printf(err, "cannot open %s: %s\n", dir, strerror(errno));
		return -1;
	}
	int rc = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		struct buf p;
		buf_init(&p, 4096);
		if (buf_printf(&p, "%s%s%s", dir, ends_with(dir, "/") ? "" : "/", e->d_name) != BUF_OK) {
			buf_printf(err, "%s/%s: path too long\n", dir, e->d_name);
			rc = -1;
			buf_release(&p);
			continue;
		}
		struct stat st;
		if (stat(buf_str(&p), &st) < 0) {
			buf_printf(err, "cannot open %s: %s\n", buf_str(&p), strerror(errno));
			rc = -1;
		} else if (S_ISDIR(st.st_mode)) {
			if (walk(buf_str(&p), out, depth + 1, err) < 0)
				rc = -1;
		} else if (S_ISREG(st.st_mode) && ends_with(e->d_name, ".json")) {
			if (pathlist_add(out, buf_str(&p)) < 0) {
				buf_printf(err, "%s: too many suite files (the limit is %d)\n", dir, SUITE_MAX_FILES);
				rc = -1;
			}
		}
		buf_release(&p);
	}
	closedir(d);
	return rc;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int suite_set_load(struct suite_set *set, const char *const *paths, size_t npaths, struct buf *err)
{
	struct pathlist files = { 0 };
	struct idref *refs = NULL;
	int rc = 0;
	set->v = NULL;
	set->n = 0;
	for (size_t i = 0; i < npaths; i++) {
		struct stat st;
		if (stat(paths[i], &st) < 0) {
			buf_printf(err, "cannot open %s: %s\n", paths[i], strerror(errno));
			rc = -1;
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			size_t first = files.n;
			if (walk(paths[i], &files, 0, err) < 0)
				rc = -1;
			qsort(files.v + first, files.n - first, sizeof(*files.v), str_cmp);
		} else if (pathlist_add(&files, paths[i]) < 0) {
			buf_printf(err, "%s: too many suite files (the limit is %d)\n", paths[i], SUITE_MAX_FILES);
			rc = -1;
		}
	}
	if (files.n) {
		set->v = calloc(files.n, sizeof(*set->v));
		if (!set->v) {
			buf_adds(err, "out of memory\n");
			rc = -1;
			goto done;
		}
	}
	size_t ncases = 0;
	for (size_t i = 0; i < files.n; i++) {
		struct suite *s = suite_load(files.v[i], err);
		if (!s) {
			rc = -1;
			continue;
		}
		set->v[set->n++] = s;
		ncases += s->ncases;
	}
	if (ncases) {
		refs = calloc(ncases, sizeof(*refs));
		if (!refs) {
			buf_adds(err, "out of memory\n");
			rc = -1;
			goto done;
		}
		size_t k = 0;
		for (size_t i = 0; i < set->n; i++)
			for (size_t j = 0; j < set->v[i]->ncases; j++, k++)
				refs[k] = (struct idref){ &set->v[i]->cases[j], k };
		if (report_duplicates(refs, ncases, err))
			rc = -1;
	}
done:
	free(refs);
	for (size_t i = 0; i < files.n; i++)
		free(files.v[i]);
	free(files.v);
	return rc;
}

void suite_set_release(struct suite_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		suite_free(set->v[i]);
	free(set->v);
	set->v = NULL;
	set->n = 0;
}

bool tcase_has_tag(const struct tcase *c, const char *tag)
{
	for (size_t i = 0; i < c->ntags; i++)
		if (c->tags[i] && strcmp(c->tags[i], tag) == 0)
			return true;
	return false;
}

const char *level_name(enum level l)
{
	switch (l) {
	case LEVEL_MUST:
		return "MUST";
	case LEVEL_SHOULD:
		return "SHOULD";
	case LEVEL_INFO:
		return "INFO";
	}
	return "?";
}
