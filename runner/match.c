/*
 * match: the matcher engine (docs/fixture-format.md, "expect" and "Matchers").
 *
 * Each matcher keyword and each member of a "stream" is one entry of a table
 * (keywords, stream_table) holding its validator and its check side by side:
 * the validators run at load time on the templates and reject anything the
 * checks would not understand (compiling regexes and sequences once); the
 * checks run on the expanded expectation and the response, and write one diff
 * line per failed check.  Values shown in diff lines are capped at
 * SHOW_MAX bytes so a huge body cannot flood a report.
 *
 * Event numbers in diff lines count from 1, as people count.
 */
#include "runner/match.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/json.h"
#include "common/utf8.h"
#include "common/jpath.h"
#include "runner/rx.h"
#include "runner/seqre.h"
#include "runner/timing.h"

#define SHOW_MAX      200   /* bytes of a value shown in a diff line */
#define EACH_MAX_LINES 10   /* diff lines per "each" check before summarising the rest */
#define PATH_MAX_LEN  512   /* bytes of a JSON path in a message */

/* ---- showing values ------------------------------------------------------------------- */

/* Append bytes, escaping control characters (so a diff stays one line), cut at SHOW_MAX with "...". */
static void add_bytes(struct buf *out, const char *p, size_t n, int escape_slash)
{
	size_t keep = utf8_truncate(p, n, SHOW_MAX);
	for (size_t i = 0; i < keep; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c == '\n')
			buf_adds(out, "\\n");
		else if (c == '\r')
			buf_adds(out, "\\r");
		else if (c == '\t')
			buf_adds(out, "\\t");
		else if (c < 0x20 || c == 0x7f)
			buf_printf(out, "\\x%02x", c);
		else if (c == '/' && escape_slash)
			buf_adds(out, "\\/");
		else
			buf_addc(out, (char)c);
	}
	if (keep < n)
		buf_adds(out, "...");
}

/* A JSON value as capped unformatted text; "nothing" for an absent value. Caller frees. */
static char *show(const cJSON *v)
{
	if (!v)
		return strdup("nothing");
	char *s = json_print_capped(v, SHOW_MAX);
	return s ? s : strdup("(unprintable)");
}

/* A string shown as a capped JSON string literal. Caller frees. */
static char *show_str(const char *s)
{
	cJSON *v = cJSON_CreateString(s);
	char *r = show(v);
	cJSON_Delete(v);
	return r;
}

/* Append one diff line. */
static void diffline(struct buf *diff, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void diffline(struct buf *diff, const char *fmt, ...)
{
	if (!diff)
		return;
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(diff, fmt, ap);
	va_end(ap);
	buf_addc(diff, '\n');
}

/* ---- checking one matcher --------------------------------------------------------------- */

static const char *const type_names[] = { "string", "number", "integer", "boolean", "null", "object",
					  "array" };

static int type_holds(const char *type, const cJSON *a)
{
	if (strcmp(type, "integer") == 0)
		return json_is_integer(a);
	return strcmp(type, json_type_name(a)) == 0;
}

/* Length for "length": code points of a string, items of an array, members of an object; -1 otherwise. */
static long value_length(const cJSON *a)
{
	if (cJSON_IsString(a))
		return (long)utf8_count(a->valuestring, strlen(a->valuestring));
	if (cJSON_IsArray(a) || cJSON_IsObject(a))
		return cJSON_GetArraySize(a);
	return -1;
}

static int values_equal(const cJSON *a, const cJSON *b)
{
	if (cJSON_IsNumber(a) && cJSON_IsNumber(b))
		return a->valuedouble == b->valuedouble;
	return cJSON_Compare(a, b, 1);
}

/*
 * Checks that could not be made at all (a regex search that gave up, a regex
 * that does not compile), collected under "not" so that they fail it.
 */
struct m_errors {
	int n;
	struct buf lines;
};

static int m_eval(const cJSON *m, const cJSON *a, const char *where, struct buf *diff);
static int m_eval_e(const cJSON *m, const cJSON *a, const char *where, struct buf *diff,
		    struct m_errors *errors);

/*
 * "regex": a search with the code the loader compiled (rx.h).  A search that
 * gives up (a limit) or a pattern that does not compile is an error, not a
 * non-match: its line goes to errors (when not NULL, under "not") instead of
 * diff, so that "not" cannot turn it into a pass.
 */
static int check_regex(const cJSON *re, const cJSON *a, const char *where, struct buf *diff,
		       struct m_errors *errors)
{
	struct buf shown, why;
	buf_init(&shown, 4 * SHOW_MAX);
	buf_init(&why, 1024);
	const char *pat = cJSON_IsString(re) ? re->valuestring : "";
	add_bytes(&shown, pat, strlen(pat), 1);
	int fails = 1;
	if (!cJSON_IsString(a)) {
		char *as = show(a);
		diffline(diff, "%s: expected a string matching /%s/, got %s %s", where, buf_str(&shown),
			 json_type_name(a), as);
		free(as);
		goto done;
	}
	size_t n = strlen(a->valuestring);
	const char *bad_utf8 = utf8_valid(a->valuestring, n) ? "" : " (not valid UTF-8)";
	switch (rx_search(pat, a->valuestring, n, &why)) {
	case RX_MATCH:
		fails = 0;
		break;
	case RX_NOMATCH: {
		char *as = show(a);
		diffline(diff, "%s: %s%s does not match /%s/", where, as, bad_utf8, buf_str(&shown));
		free(as);
		break;
	}
	case RX_BAD_PATTERN:
		diffline(errors ? &errors->lines : diff, "%s: bad regex /%s/: %s", where, buf_str(&shown),
			 buf_str(&why));
		if (errors)
			errors->n++;
		break;
	case RX_ERROR: {
		char *as = show(a);
		diffline(errors ? &errors->lines : diff, "%s: cannot match /%s/ against %s%s: %s", where,
			 buf_str(&shown), as, bad_utf8, buf_str(&why));
		free(as);
		if (errors)
			errors->n++;
		break;
	}
	}
done:
	buf_release(&why);
	buf_release(&shown);
	return fails;
}

static int check_range(const cJSON *range, const cJSON *a, const char *where, struct buf *diff)
{
	const cJSON *lo = cJSON_GetArrayItem(range, 0), *hi = cJSON_GetArrayItem(range, 1);
	char want[128];
	if (cJSON_IsNumber(lo) && cJSON_IsNumber(hi))
		jpath_fmt(want, sizeof(want), "a number in [%.17g, %.17g]", lo->valuedouble, hi->valuedouble);
	else if (cJSON_IsNumber(lo))
		jpath_fmt(want, sizeof(want), "a number >= %.17g", lo->valuedouble);
	else if (cJSON_IsNumber(hi))
		jpath_fmt(want, sizeof(want), "a number <= %.17g", hi->valuedouble);
	else
		jpath_fmt(want, sizeof(want), "a number");
	int ok = cJSON_IsNumber(a) && (!cJSON_IsNumber(lo) || a->valuedouble >= lo->valuedouble) &&
		 (!cJSON_IsNumber(hi) || a->valuedouble <= hi->valuedouble);
	if (ok)
		return 0;
	char *as = show(a);
	diffline(diff, "%s: expected %s, got %s", where, want, as);
	free(as);
	return 1;
}

static int check_length(const cJSON *lm, const cJSON *a, const char *where, struct buf *diff,
			struct m_errors *errors)
{
	long len = value_length(a);
	if (len < 0) {
		char *as = show(a);
		diffline(diff, "%s: expected a string, array or object for length, got %s %s", where,
			 json_type_name(a), as);
		free(as);
		return 1;
	}
	if (cJSON_IsNumber(lm)) {
		if ((double)len == lm->valuedouble)
			return 0;
		diffline(diff, "%s: expected length %.17g, got length %ld", where, lm->valuedouble, len);
		return 1;
	}
	char sub[PATH_MAX_LEN];
	jpath_fmt(sub, sizeof(sub), "%s length", where);
	cJSON *n = cJSON_CreateNumber((double)len);
	int fails = m_eval_e(lm, n, sub, diff, errors);
	cJSON_Delete(n);
	return fails;
}

/* True when the matcher object has a keyword that needs the value to be present. */
static int needs_value(const cJSON *m)
{
	for (const cJSON *k = m->child; k; k = k->next)
		if (strcmp(k->string, "not") != 0 && strcmp(k->string, "exists") != 0)
			return 1;
	return 0;
}

/* Append the lines of src to diff (when there is one) as they are. */
static void add_lines(struct buf *diff, const struct buf *src)
{
	if (diff && src->len)
		buf_add(diff, src->data, src->len);
}

/* ---- the matcher keywords, checked -------------------------------------------------------- */

static int kc_equals(const cJSON *k, const cJSON *a, const char *where, struct buf *diff, struct m_errors *errors)
{
	if (values_equal(k, a))
		return 0;
	char *ks = show(k), *as = show(a);
	diffline(diff, "%s: expected %s, got %s", where, ks, as);
	free(ks);
	free(as);
	return 1;
}

static int kc_type(const cJSON *k, const cJSON *a, const char *where, struct buf *diff, struct m_errors *errors)
{
	const char *t = cJSON_IsString(k) ? k->valuestring : "?";
	if (type_holds(t, a))
		return 0;
	if (strcmp(t, "integer") == 0 && cJSON_IsNumber(a)) {
		char *as = show(a);
		diffline(diff, "%s: expected type integer, got number %s", where, as);
		free(as);
	} else {
		diffline(diff, "%s: expected type %s, got %s", where, t, json_type_name(a));
	}
	return 1;
}

static int kc_range(const cJSON *k, const cJSON *a, const char *where, struct buf *diff, struct m_errors *errors)
{
	return check_range(k, a, where, diff);
}

static int kc_one_of(const cJSON *k, const cJSON *a, const char *where, struct buf *diff, struct m_errors *errors)
{
	for (const cJSON *o = k->child; o; o = o->next)
		if (values_equal(o, a))
			return 0;
	char *ks = show(k), *as = show(a);
	diffline(diff, "%s: expected one of %s, got %s", where, ks, as);
	free(ks);
	free(as);
	return 1;
}

static int kc_not(const cJSON *k, const cJSON *a, const char *where, struct buf *diff, struct m_errors *errors)
{
	struct buf scratch;
	struct m_errors inner_errors = { 0 };
	int fails = 0;
	buf_init(&scratch, 64 * 1024);
	buf_init(&inner_errors.lines, 64 * 1024);
	int inner = m_eval_e(k, a, where, &scratch, &inner_errors);
	if (inner_errors.n) {
		/* The inner check could not be made: that is no reason to pass. */
		if (errors) {
			add_lines(&errors->lines, &inner_errors.lines);
			errors->n += inner_errors.n;
		} else {
			add_lines(diff, &inner_errors.lines);
		}
		fails = inner_errors.n;
	} else if (inner == 0) {
		char *ks = show(k), *as = show(a);
		diffline(diff, "%s: expected not %s, got %s", where, ks, as);
		free(ks);
		free(as);
		fails = 1;
	}
	buf_release(&inner_errors.lines);
	buf_release(&scratch);
	return fails;
}

/*
 * Every matcher keyword: how the loader validates it and how a check applies
 * it, side by side, so the two cannot disagree about what a keyword is.
 * "exists" has no check of its own: whether a value is there is decided
 * before the keywords run (m_eval_e).
 */
struct keyword {
	const char *name;
	int (*validate)(const cJSON *k, const char *path, struct buf *err, int depth);
	int (*check)(const cJSON *k, const cJSON *a, const char *where, struct buf *diff, struct m_errors *errors);
};

/* The entry of a keyword name in the one table (defined below, with the validators), or NULL. */
static const struct keyword *keyword_find(const char *name);

/* Check matcher m against a; errors (when not NULL, under "not") collects checks that could not be made. */
static int m_eval_e(const cJSON *m, const cJSON *a, const char *where, struct buf *diff,
		    struct m_errors *errors)
{
	if (!cJSON_IsObject(m)) {
		if (a && values_equal(m, a))
			return 0;
		char *ms = show(m), *as = show(a);
		diffline(diff, "%s: expected %s, got %s", where, ms, as);
		free(ms);
		free(as);
		return 1;
	}
	const cJSON *exists = cJSON_GetObjectItemCaseSensitive(m, "exists");
	if (cJSON_IsBool(exists)) {
		if (cJSON_IsFalse(exists)) {
			if (!a)
				return 0;
			char *as = show(a);
			diffline(diff, "%s: expected no value, got %s", where, as);
			free(as);
			return 1;
		}
		if (!a) {
			diffline(diff, "%s: expected a value, got nothing", where);
			return 1;
		}
	}
	if (!a && needs_value(m)) {
		char *ms = show(m);
		diffline(diff, "%s: expected %s, got nothing", where, ms);
		free(ms);
		return 1;
	}
	int fails = 0;
	for (const cJSON *k = m->child; k; k = k->next) {
		const struct keyword *kw = keyword_find(k->string);
		if (!kw) {
			diffline(diff, "%s: unknown matcher keyword \"%s\"", where, k->string);
			fails++;
		} else if (kw->check) {
			fails += kw->check(k, a, where, diff, errors);
		}
	}
	return fails;
}

static int m_eval(const cJSON *m, const cJSON *a, const char *where, struct buf *diff)
{
	return m_eval_e(m, a, where, diff, NULL);
}

/* Expand the matcher's variables (when there are vars) into *owned. */
static const cJSON *expanded(const cJSON *m, const struct vars *vars, cJSON **owned, const char *where,
			     struct buf *diff)
{
	*owned = NULL;
	if (!vars)
		return m;
	struct buf err;
	buf_init(&err, 1024);
	*owned = vars_expand_json(vars, m, &err);
	if (!*owned)
		diffline(diff, "%s: %s", where, buf_str(&err));
	buf_release(&err);
	return *owned;
}

int matcher_check(const cJSON *matcher, const cJSON *actual, const char *where, const struct vars *vars,
		  struct buf *diff)
{
	cJSON *owned;
	const cJSON *m = expanded(matcher, vars, &owned, where, diff);
	if (!m)
		return 1;
	int fails = m_eval(m, actual, where, diff);
	cJSON_Delete(owned);
	return fails;
}

/* The events a stream check reads: a response's, or frames collected from a WebSocket. */
struct evlist {
	const struct event *v;
	size_t n;
};

/* ---- event references ----------------------------------------------------------------------- */

/* The first event of type, or NULL; *index gets its position. */
static const struct event *first_event(const struct evlist *el, const char *type, size_t type_len,
				       size_t *index)
{
	for (size_t i = 0; i < el->n; i++) {
		const char *t = el->v[i].type ? el->v[i].type : "?";
		if (strlen(t) == type_len && memcmp(t, type, type_len) == 0) {
			if (index)
				*index = i;
			return &el->v[i];
		}
	}
	return NULL;
}

/* Resolve "TYPE/pointer" (or "TYPE", the whole event) to a value; NULL when it names nothing. */
static const cJSON *event_ref(const struct evlist *el, const char *ref, int *no_event)
{
	size_t tl = strcspn(ref, "/");
	const struct event *e = first_event(el, ref, tl, NULL);
	*no_event = e == NULL;
	if (!e)
		return NULL;
	return json_pointer(e->json, ref + tl);
}

static int event_is(const struct event *e, const char *type)
{
	return strcmp(type, "*") == 0 || strcmp(e->type ? e->type : "?", type) == 0;
}

/* ---- stream ---------------------------------------------------------------------------------- */

/* The list of types, space-separated, with the middle elided when long, around index focus. */
static void show_types(struct buf *out, const char *const *types, size_t n, size_t focus)
{
	size_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += strlen(types[i]) + 1;
	for (size_t i = 0; i < n; i++) {
		if (total > SHOW_MAX && i >= 3 && i + 3 < focus) {
			buf_adds(out, " ...");
			i = focus - 4;
			continue;
		}
		if (total > SHOW_MAX && i > focus + 1 && i >= 3) {
			buf_adds(out, " ...");
			break;
		}
		if (i)
			buf_addc(out, ' ');
		add_bytes(out, types[i], strlen(types[i]), 0);
	}
}

static int check_sequence(const cJSON *seq, const struct evlist *el, const char *const *types,
			  struct buf *diff)
{
	struct buf err, shown;
	buf_init(&err, 1024);
	buf_init(&shown, 4 * SHOW_MAX);
	int fails = 0;
	char *ps = show(seq);
	const char *text = cJSON_IsString(seq) ? seq->valuestring : "";
	/* Compiled by the loader; a sequence it never saw (stream_check_events from a test) is compiled here. */
	struct seqre *own = NULL;
	const struct seqre *re = seqre_kept(text);
	if (!re)
		re = own = seqre_compile(text, &err);
	if (!re) {
		diffline(diff, "stream: bad sequence %s: %s", ps, buf_str(&err));
		fails = 1;
		goto done;
	}
	size_t n = el->n;
	if (seqre_match(re, types, n))
		goto done;
	fails = 1;
	size_t prefix = seqre_prefix(re, types, n);
	if (n == 0) {
		diffline(diff, "stream: sequence %s does not match an empty stream", ps);
	} else if (prefix < n) {
		show_types(&shown, types, n, prefix);
		diffline(diff, "stream: sequence %s does not match %s (diverges at event %zu)", ps,
			 buf_str(&shown), prefix + 1);
	} else {
		show_types(&shown, types, n, n - 1);
		diffline(diff, "stream: sequence %s does not match %s (the stream ends too early after event %zu)",
			 ps, buf_str(&shown), n);
	}
done:
	seqre_free(own);
	free(ps);
	buf_release(&err);
	buf_release(&shown);
	return fails;
}

static int check_each(const cJSON *each, const struct evlist *el, struct buf *diff)
{
	int fails = 0;
	for (const cJSON *t = each->child; t; t = t->next) {
		for (const cJSON *pm = t->child; pm; pm = pm->next) {
			size_t failed_events = 0;
			for (size_t i = 0; i < el->n; i++) {
				const struct event *e = &el->v[i];
				if (!event_is(e, t->string))
					continue;
				char where[PATH_MAX_LEN];
				jpath_fmt(where, sizeof(where), "stream event %zu (%s)%s%.200s", i + 1,
					 e->type ? e->type : "?", *pm->string ? " " : "", pm->string);
				const cJSON *a = json_pointer(e->json, pm->string);
				int f = m_eval(pm, a, where, failed_events < EACH_MAX_LINES ? diff : NULL);
				if (f) {
					fails += f;
					failed_events++;
				}
			}
			if (failed_events > EACH_MAX_LINES)
				diffline(diff, "stream: each %s %.200s also failed on %zu more events", t->string,
					 pm->string, failed_events - EACH_MAX_LINES);
		}
	}
	return fails;
}

static int check_count(const cJSON *count, const struct evlist *el, struct buf *diff)
{
	int fails = 0;
	for (const cJSON *t = count->child; t; t = t->next) {
		size_t k = 0;
		for (size_t i = 0; i < el->n; i++)
			k += event_is(&el->v[i], t->string);
		char where[PATH_MAX_LEN];
		jpath_fmt(where, sizeof(where), "stream count of %.200s", t->string);
		cJSON *n = cJSON_CreateNumber((double)k);
		fails += m_eval(t, n, where, diff);
		cJSON_Delete(n);
	}
	return fails;
}

/* Remove leading and trailing whitespace in place; returns s. */
static char *trim(char *s)
{
	char *p = s;
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\f' || *p == '\v')
		p++;
	size_t n = strlen(p);
	while (n && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\n' || p[n - 1] == '\r' ||
		     p[n - 1] == '\f' || p[n - 1] == '\v'))
		n--;
	memmove(s, p, n);
	s[n] = '\0';
	return s;
}

/* The character position where a and b first differ (counting code points). */
static size_t first_difference(const char *a, const char *b)
{
	size_t i = 0;
	while (a[i] && a[i] == b[i])
		i++;
	return utf8_count(a, i) + 1;
}

static int check_one_concat(const cJSON *c, const struct evlist *el, struct buf *diff)
{
	const char *of = json_get_string(c, "of"), *field = json_get_string(c, "field");
	const char *eq = json_get_string(c, "equals");
	const cJSON *value = cJSON_GetObjectItemCaseSensitive(c, "value");
	int do_trim = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "trim"));
	int fails = 0;
	if (!of || !field) {
		diffline(diff, "stream: concat needs \"of\" and \"field\"");
		return 1;
	}
	struct buf cat;
	buf_init(&cat, 16 * 1024 * 1024);
	char *other = NULL;
	for (size_t i = 0; i < el->n; i++) {
		const struct event *e = &el->v[i];
		if (!event_is(e, of))
			continue;
		const cJSON *v = json_pointer(e->json, field);
		if (!cJSON_IsString(v)) {
			char *vs = show(v);
			diffline(diff, "stream event %zu (%s) %s: expected a string to concatenate, got %s",
				 i + 1, e->type ? e->type : "?", field, vs);
			free(vs);
			fails++;
			continue;
		}
		if (buf_adds(&cat, v->valuestring) != BUF_OK) {
			diffline(diff, "stream: concat of %s%s is longer than %zu bytes", of, field, cat.max);
			fails++;
			goto done;
		}
	}
	char *mine = buf_detach(&cat, NULL);
	if (!mine)
		goto done;
	if (do_trim)
		trim(mine);
	if (eq) {
		int no_event;
		const cJSON *ov = event_ref(el, eq, &no_event);
		if (no_event) {
			size_t tl = strcspn(eq, "/");
			diffline(diff, "stream: concat of %s%s: no %.*s event for %s", of, field, (int)tl, eq, eq);
			fails++;
		} else if (!cJSON_IsString(ov)) {
			char *os = show(ov);
			diffline(diff, "stream: concat of %s%s: %s is not a string, got %s", of, field, eq, os);
			free(os);
			fails++;
		} else {
			other = strdup(ov->valuestring);
			if (other && do_trim)
				trim(other);
			if (other && strcmp(mine, other) != 0) {
				char *ms = show_str(mine), *os = show_str(other);
				size_t at = first_difference(mine, other);
				if (strlen(ms) > SHOW_MAX || strlen(os) > SHOW_MAX || strlen(mine) > SHOW_MAX / 2)
					diffline(diff, "stream: concat of %s%s (%s) != %s (%s) (first difference at character %zu)",
						 of, field, ms, eq, os, at);
				else
					diffline(diff, "stream: concat of %s%s (%s) != %s (%s)", of, field, ms, eq, os);
				free(ms);
				free(os);
				fails++;
			}
		}
	}
	if (value) {
		char where[PATH_MAX_LEN];
		jpath_fmt(where, sizeof(where), "stream: concat of %.100s%.100s", of, field);
		cJSON *s = cJSON_CreateString(mine);
		fails += m_eval(value, s, where, diff);
		cJSON_Delete(s);
	}
	free(mine);
done:
	free(other);
	buf_release(&cat);
	return fails;
}

static int check_same(const cJSON *same, const struct evlist *el, struct buf *diff)
{
	int fails = 0;
	for (const cJSON *group = same->child; group; group = group->next) {
		const cJSON *first = NULL;
		const char *first_ref = NULL;
		for (const cJSON *r = group->child; r; r = r->next) {
			if (!cJSON_IsString(r))
				continue;
			int no_event;
			const cJSON *v = event_ref(el, r->valuestring, &no_event);
			if (!v) {
				if (no_event)
					diffline(diff, "stream: same: no %.*s event for %s",
						 (int)strcspn(r->valuestring, "/"), r->valuestring, r->valuestring);
				else
					diffline(diff, "stream: same: %s is missing", r->valuestring);
				fails++;
				continue;
			}
			if (!first) {
				first = v;
				first_ref = r->valuestring;
			} else if (!values_equal(first, v)) {
				char *fs = show(first), *vs = show(v);
				diffline(diff, "stream: same: %s (%s) != %s (%s)", first_ref, fs, r->valuestring, vs);
				free(fs);
				free(vs);
				fails++;
			}
		}
	}
	return fails;
}

/* The checks of a "stream" object that look at events only (not the format or the transport). */
/* Wrappers so that every stream member's check has one shape (the table below). */
static int sc_sequence(const cJSON *v, const struct evlist *el, const char *const *types, struct buf *diff)
{
	return check_sequence(v, el, types, diff);
}

static int sc_each(const cJSON *v, const struct evlist *el, const char *const *types, struct buf *diff)
{
	return check_each(v, el, diff);
}

static int sc_count(const cJSON *v, const struct evlist *el, const char *const *types, struct buf *diff)
{
	return check_count(v, el, diff);
}

static int sc_concat(const cJSON *v, const struct evlist *el, const char *const *types, struct buf *diff)
{
	if (!cJSON_IsArray(v))
		return check_one_concat(v, el, diff);
	int fails = 0;
	for (const cJSON *c = v->child; c; c = c->next)
		fails += check_one_concat(c, el, diff);
	return fails;
}

static int sc_same(const cJSON *v, const struct evlist *el, const char *const *types, struct buf *diff)
{
	return check_same(v, el, diff);
}

/* ---- timing ---------------------------------------------------------------------------------- */

/*
 * "timing": {"first_event_ms": B, "gap_ms": B, "spread_ms": B}, each B either
 * {"min": ms, "max": ms} (either or both) or a matcher object applied to the
 * figure in ms.  The figures are those of timing_compute over the events,
 * whose at_ms count from the stream's reference (runner/timing.h).
 */
static const char *const timing_members[] = { "first_event_ms", "gap_ms", "spread_ms" };

/* A bound of {min, max}: 1 and *v when it is a number, 0 when absent, -1 (a diff line) when not a number. */
static int timing_bound(const cJSON *b, const char *name, const char *fig, double *v, struct buf *diff)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(b, name);
	if (!x || cJSON_IsNull(x))
		return 0;
	if (!cJSON_IsNumber(x)) {
		char *xs = show(x);
		diffline(diff, "stream: timing: %s: %s must be a number of ms, got %s", fig, name, xs);
		free(xs);
		return -1;
	}
	*v = x->valuedouble;
	return 1;
}

/* {min, max}, or a matcher that is only {"range": [lo, hi]}: the bounds, as *lo and *hi (NaN for none). */
static int timing_bounds(const cJSON *b, const char *fig, double *lo, double *hi, struct buf *diff)
{
	*lo = *hi = NAN;
	const cJSON *range = cJSON_GetObjectItemCaseSensitive(b, "range");
	if (range && b->child == range && !range->next) {
		const cJSON *l = cJSON_GetArrayItem(range, 0), *h = cJSON_GetArrayItem(range, 1);
		if (cJSON_IsNumber(l))
			*lo = l->valuedouble;
		if (cJSON_IsNumber(h))
			*hi = h->valuedouble;
		return 1;
	}
	if (!cJSON_GetObjectItemCaseSensitive(b, "min") && !cJSON_GetObjectItemCaseSensitive(b, "max"))
		return 0;   /* another matcher */
	int rl = timing_bound(b, "min", fig, lo, diff), rh = timing_bound(b, "max", fig, hi, diff);
	return rl < 0 || rh < 0 ? -1 : 1;
}

/* "expected at least 300 ms" / "at most" / "from 100 to 500 ms", for the bound that failed. */
static void timing_want(char *out, size_t size, double v, double lo, double hi)
{
	if (!isnan(lo) && v < lo)
		jpath_fmt(out, size, "expected at least %g ms", lo);
	else
		jpath_fmt(out, size, "expected at most %g ms", hi);
}

/* The figure's own words when it misses its bounds: what was seen, then what was wanted. */
static void timing_say(const char *fig, const struct stream_timing *t, const char *want, int too_low,
		       const char *of, struct buf *diff)
{
	char what[96];
	jpath_fmt(what, sizeof(what), "%s%sevents", of ? of : "", of ? " " : "");
	if (strcmp(fig, "first_event_ms") == 0) {
		diffline(diff, "stream: timing: the first %s arrived at +%.1f ms, %s", of ? of : "event", t->first_ms,
			 want);
	} else if (strcmp(fig, "gap_ms") == 0) {
		size_t a = t->gap_max_at;
		diffline(diff, "stream: timing: the largest gap between %s was %.1f ms (%s %zu to %zu), %s", what,
			 t->gap_max_ms, what, a - 1, a, want);
	} else if (too_low && t->spread_ms < TIMING_BURST_MS) {
		diffline(diff, "stream: timing: the %zu %s arrived in one burst (spread %.1f ms, %s)", t->count, what,
			 t->spread_ms, want);
	} else {
		diffline(diff, "stream: timing: the %zu %s arrived over %.1f ms (+%.1f to +%.1f ms), %s", t->count,
			 what, t->spread_ms, t->first_ms, t->last_ms, want);
	}
}

static int sc_timing(const cJSON *v, const struct evlist *el, const char *const *types, struct buf *diff)
{
	struct stream_timing t;
	/* "of": the figures of one event type only (the reply's tokens, not a greeting sent at once). */
	const char *of = json_get_string(v, "of");
	struct event *only = NULL;
	size_t nonly = 0;
	if (of) {
		only = malloc((el->n ? el->n : 1) * sizeof(*only));
		if (!only) {
			diffline(diff, "stream: timing: out of memory");
			return 1;
		}
		for (size_t i = 0; i < el->n; i++)
			if (event_is(&el->v[i], of))
				only[nonly++] = el->v[i];   /* a shallow copy: el keeps what it points to */
	}
	int bad = timing_compute(only ? only : el->v, only ? nonly : el->n, 0, &t);
	free(only);
	if (bad) {
		diffline(diff, "stream: timing: out of memory");
		return 1;
	}
	int fails = 0;
	for (size_t i = 0; i < sizeof(timing_members) / sizeof(timing_members[0]); i++) {
		const char *fig = timing_members[i];
		const cJSON *b = cJSON_GetObjectItemCaseSensitive(v, fig);
		if (!b)
			continue;
		double value = i == 0 ? t.first_ms : i == 1 ? t.gap_max_ms : t.spread_ms;
		if (i == 0 && t.count == 0) {
			diffline(diff, "stream: timing: first_event_ms: no %s%sevent arrived", of ? of : "", of ? " " : "");
			fails++;
			continue;
		}
		if (i > 0 && t.count < 2) {
			diffline(diff, "stream: timing: %s: %zu event%s: nothing to measure (it takes two)", fig, t.count,
				 t.count == 1 ? "" : "s");
			fails++;
			continue;
		}
		double lo, hi;
		int kind = timing_bounds(b, fig, &lo, &hi, diff);
		if (kind < 0) {
			fails++;
		} else if (kind > 0) {
			if ((!isnan(lo) && value < lo) || (!isnan(hi) && value > hi)) {
				char want[96];
				timing_want(want, sizeof(want), value, lo, hi);
				timing_say(fig, &t, want, !isnan(lo) && value < lo, of, diff);
				fails++;
			}
		} else {
			/* Any other matcher sees the figure in ms, to the microsecond. */
			char where[64];
			jpath_fmt(where, sizeof(where), "stream: timing: %s", fig);
			cJSON *n = cJSON_CreateNumber(round(value * 1000.0) / 1000.0);
			fails += m_eval(b, n, where, diff);
			cJSON_Delete(n);
		}
	}
	return fails;
}

/*
 * Every member of a "stream" object: how the loader validates it and how the
 * events are checked against it, side by side; checks run in this order,
 * whatever the order of the members in the file.  "format" only says how to
 * decode the body: it has no check of its own.
 */
struct stream_member {
	const char *name;
	int (*validate)(const cJSON *m, const char *path, bool http, struct buf *err);
	int (*check)(const cJSON *v, const struct evlist *el, const char *const *types, struct buf *diff);
};

static const struct stream_member *stream_members(size_t *n);

static int check_events(const cJSON *s, const struct evlist *el, struct buf *diff)
{
	int fails = 0;
	const char **types = malloc((el->n + 1) * sizeof(*types));
	if (!types) {
		diffline(diff, "stream: out of memory");
		return 1;
	}
	for (size_t i = 0; i < el->n; i++)
		types[i] = el->v[i].type ? el->v[i].type : "?";
	size_t n;
	const struct stream_member *members = stream_members(&n);
	for (size_t i = 0; i < n; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(s, members[i].name);
		if (v && members[i].check)
			fails += members[i].check(v, el, types, diff);
	}
	free(types);
	return fails;
}

static int check_stream(const cJSON *s, const struct response *resp, struct buf *diff)
{
	int fails = 0;
	if (resp->not_stream) {
		/* One reason, not a list of event checks failing on events that were never there. */
		diffline(diff, "stream: %s", resp->not_stream);
		if (resp->transport_error)
			diffline(diff, "stream: transport error: %s", resp->transport_error);
		return resp->transport_error ? 2 : 1;
	}
	if (resp->transport_error) {
		diffline(diff, "stream: transport error after %zu events: %s", resp->nevents,
			 resp->transport_error);
		fails++;
	}
	if (resp->stream_error) {
		diffline(diff, "stream: %s", resp->stream_error);
		fails++;
	}
	const char *fmt = json_get_string(s, "format");
	if (fmt && resp->format != STREAM_NONE) {
		const char *got = resp->format == STREAM_NDJSON ? "ndjson" : "sse";
		if (strcmp(fmt, got) != 0) {
			diffline(diff, "stream: expected format %s, got %s", fmt, got);
			fails++;
		}
	}
	struct evlist el = { resp->events, resp->nevents };
	return fails + check_events(s, &el, diff);
}

int stream_check_events(const cJSON *stream, const struct event *events, size_t n, const struct vars *vars,
			struct buf *diff)
{
	cJSON *owned;
	const cJSON *s = expanded(stream, vars, &owned, "stream", diff);
	if (!s)
		return 1;
	struct evlist el = { events, n };
	int fails = check_events(s, &el, diff);
	cJSON_Delete(owned);
	return fails;
}

int pointer_map_check(const cJSON *map, const cJSON *doc, const char *label, const struct vars *vars,
		      struct buf *diff)
{
	cJSON *owned;
	const cJSON *m = expanded(map, vars, &owned, label, diff);
	if (!m)
		return 1;
	int fails = 0;
	for (const cJSON *p = m->child; p; p = p->next) {
		char where[PATH_MAX_LEN];
		jpath_fmt(where, sizeof(where), "%s%s%.200s", label, *p->string ? " " : "", p->string);
		fails += m_eval(p, json_pointer(doc, p->string), where, diff);
	}
	cJSON_Delete(owned);
	return fails;
}

/* ---- expect ---------------------------------------------------------------------------------- */

/* The body as JSON: the client's parse, or our own; *owned is set when we parsed it. */
static const cJSON *body_json(const struct response *resp, cJSON **owned)
{
	*owned = NULL;
	if (resp->json)
		return resp->json;
	if (!resp->body.len || resp->truncated)
		return NULL;
	*owned = json_parse_exact(resp->body.data, resp->body.len);
	return *owned;
}

static void not_json(const struct response *resp, const char *prefix, struct buf *diff)
{
	struct buf shown;
	buf_init(&shown, 4 * SHOW_MAX);
	if (!resp->body.len)
		buf_adds(&shown, "(empty)");
	else
		add_bytes(&shown, resp->body.data, resp->body.len, 0);
	bool utf8 = utf8_valid(resp->body.data, resp->body.len);
	diffline(diff, "%sbody is not JSON%s: %s", prefix,
		 resp->truncated ? " (truncated)" : utf8 ? "" : " (not valid UTF-8)", buf_str(&shown));
	buf_release(&shown);
}

/* A value as text, for comparing a header (always text) with a body member: 60 and "60" agree. */
static char *same_text(const cJSON *v)
{
	if (cJSON_IsString(v))
		return strdup(v->valuestring);
	if (json_is_integer(v)) {
		char n[32];
		snprintf(n, sizeof(n), "%lld", (long long)v->valuedouble);
		return strdup(n);
	}
	return json_print_capped(v, SHOW_MAX);
}

/*
 * "same": [["header:Retry-After", "body:/error/details/retry_after"], ...]: the
 * values each list names in this response (capture sources) must all be present
 * and equal.  A header and a body number compare by their text.
 */
static int check_same_sources(const cJSON *lists, const struct response *resp, struct buf *diff)
{
	int fails = 0;
	for (const cJSON *list = lists->child; list; list = list->next) {
		char *first = NULL;
		const char *first_src = NULL;
		for (const cJSON *src = list->child; src; src = src->next) {
			struct buf err;
			buf_init(&err, 1024);
			cJSON *v = capture_value(src->valuestring, resp, &err);
			char *text = v ? same_text(v) : NULL;
			cJSON_Delete(v);
			if (!text) {
				diffline(diff, "same: %s names nothing (%s)", src->valuestring, buf_str(&err));
				fails++;
			} else if (!first) {
				first = text;
				first_src = src->valuestring;
				text = NULL;
			} else if (strcmp(first, text) != 0) {
				diffline(diff, "same: %s is \"%s\" but %s is \"%s\"", first_src, first,
					 src->valuestring, text);
				fails++;
			}
			free(text);
			buf_release(&err);
		}
		free(first);
	}
	return fails;
}

int expect_check(const cJSON *expect, const struct response *resp, const struct vars *vars,
		 struct buf *diff)
{
	if (!expect)
		return 0;
	cJSON *owned;
	const cJSON *ex = expanded(expect, vars, &owned, "expect", diff);
	if (!ex)
		return 1;
	int fails = 0;
	if (resp->transport_error && resp->status == 0) {
		diffline(diff, "no response: %s", resp->transport_error);
		fails = 1;
		goto done;
	}
	const cJSON *m;
	if ((m = cJSON_GetObjectItemCaseSensitive(ex, "status"))) {
		cJSON *st = resp->status ? cJSON_CreateNumber((double)resp->status) : NULL;
		fails += m_eval(m, st, "status", diff);
		cJSON_Delete(st);
	}
	if ((m = cJSON_GetObjectItemCaseSensitive(ex, "headers"))) {
		for (const cJSON *h = m->child; h; h = h->next) {
			const char *val = response_header(resp, h->string);
			cJSON *a = val ? cJSON_CreateString(val) : NULL;
			char where[PATH_MAX_LEN];
			jpath_fmt(where, sizeof(where), "header %.200s", h->string);
			fails += m_eval(h, a, where, diff);
			cJSON_Delete(a);
		}
	}
	if ((m = cJSON_GetObjectItemCaseSensitive(ex, "body"))) {
		cJSON *parsed;
		const cJSON *body = body_json(resp, &parsed);
		if (!body) {
			not_json(resp, "", diff);
			fails++;
		} else {
			for (const cJSON *p = m->child; p; p = p->next) {
				char where[PATH_MAX_LEN];
				jpath_fmt(where, sizeof(where), "body%s%.200s", *p->string ? " " : "", p->string);
				fails += m_eval(p, json_pointer(body, p->string), where, diff);
			}
		}
		cJSON_Delete(parsed);
	}
	if ((m = cJSON_GetObjectItemCaseSensitive(ex, "body_text"))) {
		cJSON *t = cJSON_CreateString(buf_str(&resp->body));
		fails += m_eval(m, t, "body_text", diff);
		cJSON_Delete(t);
	}
	if ((m = cJSON_GetObjectItemCaseSensitive(ex, "stream")))
		fails += check_stream(m, resp, diff);
	if ((m = cJSON_GetObjectItemCaseSensitive(ex, "same")))
		fails += check_same_sources(m, resp, diff);
done:
	cJSON_Delete(owned);
	return fails;
}

/* ---- capture --------------------------------------------------------------------------------- */

cJSON *capture_value(const char *source, const struct response *resp, struct buf *err)
{
	if (strcmp(source, "status") == 0) {
		if (!resp->status) {
			buf_adds(err, "capture status: no response");
			return NULL;
		}
		return cJSON_CreateNumber((double)resp->status);
	}
	if (strncmp(source, "header:", 7) == 0) {
		const char *v = response_header(resp, source + 7);
		if (!v) {
			buf_printf(err, "capture %s: no header %s", source, source + 7);
			return NULL;
		}
		return cJSON_CreateString(v);
	}
	if (strncmp(source, "body:", 5) == 0) {
		cJSON *parsed;
		const cJSON *body = body_json(resp, &parsed);
		cJSON *r = NULL;
		if (!body) {
			struct buf d;
			buf_init(&d, 4 * SHOW_MAX);
			not_json(resp, "", &d);
			buf_printf(err, "capture %s: %.*s", source, (int)(d.len ? d.len - 1 : 0), buf_str(&d));
			buf_release(&d);
		} else {
			const cJSON *v = json_pointer(body, source + 5);
			if (!v)
				buf_printf(err, "capture %s: the body has nothing at %s", source, source + 5);
			else
				r = cJSON_Duplicate(v, 1);
		}
		cJSON_Delete(parsed);
		return r;
	}
	if (strncmp(source, "stream:", 7) == 0) {
		int no_event;
		struct evlist el = { resp->events, resp->nevents };
		const cJSON *v = event_ref(&el, source + 7, &no_event);
		if (!v) {
			if (no_event)
				buf_printf(err, "capture %s: no %.*s event in the stream", source,
					   (int)strcspn(source + 7, "/"), source + 7);
			else
				buf_printf(err, "capture %s: the event has nothing at %s", source,
					   source + 7 + strcspn(source + 7, "/"));
			return NULL;
		}
		return cJSON_Duplicate(v, 1);
	}
	buf_printf(err, "capture %s: unknown source", source);
	return NULL;
}

/* ---- validation ------------------------------------------------------------------------------ */

/* An RFC 6901 pointer: "" or "/..." with "~" only in "~0" and "~1". */
static int pointer_valid(const char *p)
{
	if (*p && *p != '/')
		return 0;
	for (; *p; p++)
		if (*p == '~' && p[1] != '0' && p[1] != '1')
			return 0;
	return 1;
}

/* An event type as the stream sees it: a sequence name, or "?" for events without one. */
static int event_type_valid(const char *t, size_t n)
{
	if (n == 1 && t[0] == '?')
		return 1;
	if (n == 0 || !jpath_ident_char(t[0], 1))
		return 0;
	for (size_t i = 1; i < n; i++)
		if (!jpath_ident_char(t[i], 0) && t[i] != '.' && t[i] != '-')
			return 0;
	return 1;
}

/* "TYPE/pointer" or "TYPE". */
static int ref_valid(const char *ref)
{
	size_t tl = strcspn(ref, "/");
	return event_type_valid(ref, tl) && pointer_valid(ref + tl);
}

/* Member names of o are unique (cJSON keeps duplicates, which would hide a check). */
static int check_duplicates(const cJSON *o, const char *path, struct buf *err)
{
	int bad = 0;
	for (const cJSON *a = o->child; a; a = a->next)
		for (const cJSON *b = o->child; b != a; b = b->next)
			if (a->string && b->string && strcmp(a->string, b->string) == 0) {
				char p[PATH_MAX_LEN];
				jpath_key(p, sizeof(p), path, a->string);
				jpath_err(err, p, "duplicate member");
				bad = 1;
			}
	return bad;
}

static int has_template(const cJSON *v)
{
	return cJSON_IsString(v) && strstr(v->valuestring, "${") != NULL;
}

static int matcher_validate_depth(const cJSON *m, const char *path, struct buf *err, int depth);

/* ---- the matcher keywords, validated; the table ----------------------------------------- */

static int kv_any(const cJSON *k, const char *path, struct buf *err, int depth)
{
	return 0;
}

static int kv_type(const cJSON *k, const char *path, struct buf *err, int depth)
{
	if (cJSON_IsString(k))
		for (size_t i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
			if (strcmp(k->valuestring, type_names[i]) == 0)
				return 0;
	jpath_err(err, path, "type must be one of string, number, integer, boolean, null, object, array");
	return -1;
}

static int kv_regex(const cJSON *k, const char *path, struct buf *err, int depth)
{
	if (!cJSON_IsString(k)) {
		jpath_err(err, path, "regex must be a string, got %s", json_type_name(k));
		return -1;
	}
	if (has_template(k))
		return 0; /* compiled after expansion, each time the step runs */
	/* Compiled here, once: the checks find it by its text (rx.h). */
	struct buf why;
	buf_init(&why, 1024);
	int rc = 0;
	if (rx_register(k->valuestring, &why) < 0) {
		struct buf shown;
		buf_init(&shown, 4 * SHOW_MAX);
		add_bytes(&shown, k->valuestring, strlen(k->valuestring), 1);
		jpath_err(err, path, "bad regex /%s/: %s", buf_str(&shown), buf_str(&why));
		buf_release(&shown);
		rc = -1;
	}
	buf_release(&why);
	return rc;
}

static int kv_range(const cJSON *k, const char *path, struct buf *err, int depth)
{
	const cJSON *lo = cJSON_GetArrayItem(k, 0), *hi = cJSON_GetArrayItem(k, 1);
	if (!cJSON_IsArray(k) || cJSON_GetArraySize(k) != 2 || !(cJSON_IsNumber(lo) || cJSON_IsNull(lo)) ||
	    !(cJSON_IsNumber(hi) || cJSON_IsNull(hi))) {
		jpath_err(err, path, "range must be [min, max] of numbers (null for an open end)");
		return -1;
	}
	if (cJSON_IsNumber(lo) && cJSON_IsNumber(hi) && lo->valuedouble > hi->valuedouble) {
		jpath_err(err, path, "range min %.17g is greater than max %.17g", lo->valuedouble, hi->valuedouble);
		return -1;
	}
	return 0;
}

static int kv_one_of(const cJSON *k, const char *path, struct buf *err, int depth)
{
	if (!cJSON_IsArray(k) || cJSON_GetArraySize(k) == 0) {
		jpath_err(err, path, "one_of must be a non-empty array");
		return -1;
	}
	return 0;
}

static int kv_exists(const cJSON *k, const char *path, struct buf *err, int depth)
{
	if (!cJSON_IsBool(k)) {
		jpath_err(err, path, "exists must be true or false, got %s", json_type_name(k));
		return -1;
	}
	return 0;
}

static int kv_length(const cJSON *k, const char *path, struct buf *err, int depth)
{
	if (!cJSON_IsNumber(k))
		return matcher_validate_depth(k, path, err, depth + 1);
	if (!json_is_integer(k) || k->valuedouble < 0) {
		jpath_err(err, path, "length must be a non-negative integer or a matcher");
		return -1;
	}
	return 0;
}

static int kv_not(const cJSON *k, const char *path, struct buf *err, int depth)
{
	return matcher_validate_depth(k, path, err, depth + 1);
}

/* The table: every keyword, its validator and its check. */
static const struct keyword keywords[] = {
	{ "equals", kv_any, kc_equals },   { "type", kv_type, kc_type },       { "regex", kv_regex, check_regex },
	{ "range", kv_range, kc_range },   { "one_of", kv_one_of, kc_one_of }, { "exists", kv_exists, NULL },
	{ "length", kv_length, check_length }, { "not", kv_not, kc_not },
};

static const struct keyword *keyword_find(const char *name)
{
	for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
		if (strcmp(keywords[i].name, name) == 0)
			return &keywords[i];
	return NULL;
}

static int validate_keyword(const cJSON *k, const char *path, struct buf *err, int depth)
{
	const struct keyword *kw = keyword_find(k->string);
	if (kw)
		return kw->validate(k, path, err, depth);
	jpath_err(err, path, "unknown matcher keyword (expected equals, type, regex, range, one_of, exists, length or not)");
	return -1;
}

static int matcher_validate_depth(const cJSON *m, const char *path, struct buf *err, int depth)
{
	if (depth > 32) {
		jpath_err(err, path, "matcher nested too deeply");
		return -1;
	}
	if (cJSON_IsArray(m)) {
		jpath_err(err, path, "a matcher is a literal or an object of keywords, got array (use one_of or equals)");
		return -1;
	}
	if (!cJSON_IsObject(m))
		return 0;
	if (!m->child) {
		jpath_err(err, path, "empty matcher");
		return -1;
	}
	int rc = check_duplicates(m, path, err) ? -1 : 0;
	for (const cJSON *k = m->child; k; k = k->next) {
		char p[PATH_MAX_LEN];
		jpath_key(p, sizeof(p), path, k->string);
		if (validate_keyword(k, p, err, depth) < 0)
			rc = -1;
	}
	return rc;
}

int matcher_validate(const cJSON *matcher, const char *path, struct buf *err)
{
	return matcher_validate_depth(matcher, path, err, 0);
}

/* An object whose every member is validated by fn; false with err when it is not an object. */
static int object_of(const cJSON *o, const char *path, struct buf *err, const char *what)
{
	if (!cJSON_IsObject(o)) {
		jpath_err(err, path, "must be an object of %s, got %s", what, json_type_name(o));
		return -1;
	}
	return check_duplicates(o, path, err) ? -1 : 0;
}

int pointer_map_validate(const cJSON *o, const char *path, struct buf *err)
{
	int rc = object_of(o, path, err, "JSON Pointer to matcher");
	if (!cJSON_IsObject(o))
		return rc;
	for (const cJSON *p = o->child; p; p = p->next) {
		char sub[PATH_MAX_LEN];
		jpath_key(sub, sizeof(sub), path, p->string);
		if (!pointer_valid(p->string)) {
			jpath_err(err, sub, "not a JSON Pointer (\"\" or starting with \"/\", \"~\" only as ~0 or ~1)");
			rc = -1;
		}
		if (matcher_validate(p, sub, err) < 0)
			rc = -1;
	}
	return rc;
}

static int validate_event_key(const char *type, const char *path, struct buf *err)
{
	if (strcmp(type, "*") == 0 || event_type_valid(type, strlen(type)))
		return 0;
	jpath_err(err, path, "not an event type (a name, \"?\" or \"*\")");
	return -1;
}

static int validate_concat(const cJSON *c, const char *path, struct buf *err)
{
	if (!cJSON_IsObject(c)) {
		jpath_err(err, path, "concat must be an object (or an array of them), got %s", json_type_name(c));
		return -1;
	}
	int rc = check_duplicates(c, path, err) ? -1 : 0;
	int has_check = 0;
	for (const cJSON *m = c->child; m; m = m->next) {
		char sub[PATH_MAX_LEN];
		jpath_key(sub, sizeof(sub), path, m->string);
		if (strcmp(m->string, "of") == 0) {
			if (!cJSON_IsString(m) || !event_type_valid(m->valuestring, strlen(m->valuestring))) {
				jpath_err(err, sub, "must be an event type");
				rc = -1;
			}
		} else if (strcmp(m->string, "field") == 0) {
			if (!cJSON_IsString(m) || !pointer_valid(m->valuestring) || !*m->valuestring) {
				jpath_err(err, sub, "must be a JSON Pointer such as \"/token\"");
				rc = -1;
			}
		} else if (strcmp(m->string, "equals") == 0) {
			has_check = 1;
			if (!cJSON_IsString(m) || !ref_valid(m->valuestring)) {
				jpath_err(err, sub, "must be an event reference \"TYPE/pointer\"");
				rc = -1;
			}
		} else if (strcmp(m->string, "value") == 0) {
			has_check = 1;
			if (matcher_validate(m, sub, err) < 0)
				rc = -1;
		} else if (strcmp(m->string, "trim") == 0) {
			if (!cJSON_IsBool(m)) {
				jpath_err(err, sub, "must be true or false");
				rc = -1;
			}
		} else {
			jpath_err(err, sub, "unknown member (expected of, field, equals, value or trim)");
			rc = -1;
		}
	}
	if (!cJSON_GetObjectItemCaseSensitive(c, "of") || !cJSON_GetObjectItemCaseSensitive(c, "field")) {
		jpath_err(err, path, "concat needs \"of\" and \"field\"");
		rc = -1;
	}
	if (!has_check) {
		jpath_err(err, path, "concat needs \"equals\" or \"value\"");
		rc = -1;
	}
	return rc;
}

static int sv_format(const cJSON *m, const char *sub, bool http, struct buf *err)
{
	if (!http) {
		jpath_err(err, sub, "not used for WebSocket frames (each frame is one event)");
		return -1;
	}
	if (!cJSON_IsString(m) || (strcmp(m->valuestring, "ndjson") != 0 && strcmp(m->valuestring, "sse") != 0)) {
		jpath_err(err, sub, "format must be \"ndjson\" or \"sse\"");
		return -1;
	}
	return 0;
}

static int sv_sequence(const cJSON *m, const char *sub, bool http, struct buf *err)
{
	if (!cJSON_IsString(m)) {
		jpath_err(err, sub, "must be a string, got %s", json_type_name(m));
		return -1;
	}
	/* Compiled here, once: the checks find it by its text. */
	struct buf e;
	int rc = 0;
	buf_init(&e, 1024);
	if (seqre_register(m->valuestring, &e) < 0) {
		jpath_err(err, sub, "bad sequence \"%.200s\": %s", m->valuestring, buf_str(&e));
		rc = -1;
	}
	buf_release(&e);
	return rc;
}

static int sv_each(const cJSON *m, const char *sub, bool http, struct buf *err)
{
	if (object_of(m, sub, err, "event type to pointer map") < 0)
		return -1;
	int rc = 0;
	for (const cJSON *t = m->child; t; t = t->next) {
		char tp[PATH_MAX_LEN];
		jpath_key(tp, sizeof(tp), sub, t->string);
		if (validate_event_key(t->string, tp, err) < 0 || pointer_map_validate(t, tp, err) < 0)
			rc = -1;
	}
	return rc;
}

static int sv_count(const cJSON *m, const char *sub, bool http, struct buf *err)
{
	if (object_of(m, sub, err, "event type to matcher") < 0)
		return -1;
	int rc = 0;
	for (const cJSON *t = m->child; t; t = t->next) {
		char tp[PATH_MAX_LEN];
		jpath_key(tp, sizeof(tp), sub, t->string);
		if (validate_event_key(t->string, tp, err) < 0 || matcher_validate(t, tp, err) < 0)
			rc = -1;
	}
	return rc;
}

static int sv_concat(const cJSON *m, const char *sub, bool http, struct buf *err)
{
	if (!cJSON_IsArray(m))
		return validate_concat(m, sub, err);
	int rc = 0, i = 0;
	if (!m->child) {
		jpath_err(err, sub, "concat must not be an empty array");
		rc = -1;
	}
	for (const cJSON *c = m->child; c; c = c->next, i++) {
		char cp[PATH_MAX_LEN];
		jpath_index(cp, sizeof(cp), sub, i);
		if (validate_concat(c, cp, err) < 0)
			rc = -1;
	}
	return rc;
}

static int sv_same(const cJSON *m, const char *sub, bool http, struct buf *err)
{
	if (!cJSON_IsArray(m) || !m->child) {
		jpath_err(err, sub, "same must be a non-empty array of arrays of \"TYPE/pointer\"");
		return -1;
	}
	int rc = 0, i = 0;
	for (const cJSON *g = m->child; g; g = g->next, i++) {
		char gp[PATH_MAX_LEN];
		jpath_index(gp, sizeof(gp), sub, i);
		if (!cJSON_IsArray(g) || cJSON_GetArraySize(g) < 2) {
			jpath_err(err, gp, "must be an array of at least two \"TYPE/pointer\" references");
			rc = -1;
			continue;
		}
		int j = 0;
		for (const cJSON *r = g->child; r; r = r->next, j++) {
			char rp[PATH_MAX_LEN];
			jpath_index(rp, sizeof(rp), gp, j);
			if (!cJSON_IsString(r) || !ref_valid(r->valuestring)) {
				jpath_err(err, rp, "must be an event reference \"TYPE/pointer\"");
				rc = -1;
			}
		}
	}
	return rc;
}

/* A bound of {min, max}: a number of ms >= 0, or a "${VAR}" that must expand to one. */
static int timing_bound_valid(const cJSON *x, const char *path, struct buf *err)
{
	if (has_template(x) || cJSON_IsNull(x) || (cJSON_IsNumber(x) && x->valuedouble >= 0 && isfinite(x->valuedouble)))
		return 0;
	jpath_err(err, path, "must be a number of milliseconds >= 0, got %s", json_type_name(x));
	return -1;
}

static int sv_timing(const cJSON *m, const char *sub, bool http, struct buf *err)
{
	if (object_of(m, sub, err, "first_event_ms, gap_ms and spread_ms") < 0)
		return -1;
	int rc = 0;
	if (!m->child) {
		jpath_err(err, sub, "empty: give first_event_ms, gap_ms or spread_ms");
		rc = -1;
	}
	for (const cJSON *f = m->child; f; f = f->next) {
		char fp[PATH_MAX_LEN];
		jpath_key(fp, sizeof(fp), sub, f->string);
		if (strcmp(f->string, "of") == 0) {
			if (!cJSON_IsString(f) || validate_event_key(f->valuestring, fp, err) < 0) {
				if (!cJSON_IsString(f))
					jpath_err(err, fp, "must be an event type, got %s", json_type_name(f));
				rc = -1;
			}
			continue;
		}
		int known = 0;
		for (size_t i = 0; i < sizeof(timing_members) / sizeof(timing_members[0]); i++)
			known |= strcmp(f->string, timing_members[i]) == 0;
		if (!known) {
			jpath_err(err, fp, "unknown member (expected first_event_ms, gap_ms or spread_ms)");
			rc = -1;
			continue;
		}
		if (!cJSON_IsObject(f) || !f->child) {
			jpath_err(err, fp, "must be {\"min\": ms, \"max\": ms} (either or both) or a matcher object, got %s",
				  cJSON_IsObject(f) ? "an empty object" : json_type_name(f));
			rc = -1;
			continue;
		}
		const cJSON *lo = cJSON_GetObjectItemCaseSensitive(f, "min");
		const cJSON *hi = cJSON_GetObjectItemCaseSensitive(f, "max");
		if (!lo && !hi) {
			if (matcher_validate(f, fp, err) < 0)
				rc = -1;
			continue;
		}
		if (check_duplicates(f, fp, err))
			rc = -1;
		for (const cJSON *b = f->child; b; b = b->next) {
			char bp[PATH_MAX_LEN];
			jpath_key(bp, sizeof(bp), fp, b->string);
			if (strcmp(b->string, "min") != 0 && strcmp(b->string, "max") != 0) {
				jpath_err(err, bp, "unknown member (expected min or max; a matcher keyword cannot be mixed with them)");
				rc = -1;
			} else if (timing_bound_valid(b, bp, err) < 0) {
				rc = -1;
			}
		}
		if (cJSON_IsNumber(lo) && cJSON_IsNumber(hi) && lo->valuedouble > hi->valuedouble) {
			jpath_err(err, fp, "min %g is greater than max %g", lo->valuedouble, hi->valuedouble);
			rc = -1;
		}
	}
	return rc;
}

/* The table: every stream member, its validator and its check (see struct stream_member). */
static const struct stream_member stream_table[] = {
	{ "format", sv_format, NULL },
	{ "sequence", sv_sequence, sc_sequence },
	{ "each", sv_each, sc_each },
	{ "count", sv_count, sc_count },
	{ "concat", sv_concat, sc_concat },
	{ "same", sv_same, sc_same },
	{ "timing", sv_timing, sc_timing },
};

static const struct stream_member *stream_members(size_t *n)
{
	*n = sizeof(stream_table) / sizeof(stream_table[0]);
	return stream_table;
}

int stream_validate(const cJSON *s, const char *path, bool http, struct buf *err)
{
	if (!cJSON_IsObject(s)) {
		jpath_err(err, path, "must be an object, got %s", json_type_name(s));
		return -1;
	}
	int rc = check_duplicates(s, path, err) ? -1 : 0;
	/* Required: the client decodes the body as events only when it knows the format. */
	if (http && !cJSON_GetObjectItemCaseSensitive(s, "format")) {
		char sub[PATH_MAX_LEN];
		jpath_key(sub, sizeof(sub), path, "format");
		jpath_err(err, sub, "missing (required: \"ndjson\" or \"sse\")");
		rc = -1;
	}
	for (const cJSON *m = s->child; m; m = m->next) {
		char sub[PATH_MAX_LEN];
		jpath_key(sub, sizeof(sub), path, m->string);
		const struct stream_member *member = NULL;
		for (size_t i = 0; i < sizeof(stream_table) / sizeof(stream_table[0]) && !member; i++)
			if (strcmp(stream_table[i].name, m->string) == 0)
				member = &stream_table[i];
		if (!member) {
			jpath_err(err, sub, "unknown member (expected format, sequence, each, count, concat, same or timing)");
			rc = -1;
		} else if (member->validate(m, sub, http, err) < 0) {
			rc = -1;
		}
	}
	return rc;
}

/* "same": an array of arrays of at least two capture sources. */
static int same_validate(const cJSON *m, const char *path, struct buf *err)
{
	if (!cJSON_IsArray(m) || !m->child) {
		jpath_err(err, path, "must be an array of arrays of sources, like [[\"header:Retry-After\", \"body:/retry_after\"]]");
		return -1;
	}
	int rc = 0, i = 0;
	for (const cJSON *list = m->child; list; list = list->next, i++) {
		char lp[PATH_MAX_LEN];
		jpath_fmt(lp, sizeof(lp), "%s[%d]", path, i);
		if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) < 2) {
			jpath_err(err, lp, "must be an array of two or more sources");
			rc = -1;
			continue;
		}
		int j = 0;
		for (const cJSON *src = list->child; src; src = src->next, j++) {
			char sp[PATH_MAX_LEN];
			jpath_fmt(sp, sizeof(sp), "%s[%d]", lp, j);
			if (!cJSON_IsString(src)) {
				jpath_err(err, sp, "a source is a string (status, header:NAME, body:/pointer, stream:TYPE/pointer)");
				rc = -1;
			} else if (capture_validate(src->valuestring, sp, err) < 0) {
				rc = -1;
			}
		}
	}
	return rc;
}

int expect_validate(const cJSON *expect, const char *path, struct buf *err)
{
	if (!cJSON_IsObject(expect)) {
		jpath_err(err, path, "must be an object, got %s", json_type_name(expect));
		return -1;
	}
	int rc = check_duplicates(expect, path, err) ? -1 : 0;
	for (const cJSON *m = expect->child; m; m = m->next) {
		char sub[PATH_MAX_LEN];
		jpath_key(sub, sizeof(sub), path, m->string);
		const char *k = m->string;
		if (strcmp(k, "status") == 0) {
			if (cJSON_IsNumber(m) && (!json_is_integer(m) || m->valuedouble < 100 || m->valuedouble > 599)) {
				jpath_err(err, sub, "status must be an integer from 100 to 599");
				rc = -1;
			} else if (cJSON_IsBool(m) || cJSON_IsNull(m) || (cJSON_IsString(m) && !has_template(m))) {
				jpath_err(err, sub, "status must be a number or a matcher, got %s", json_type_name(m));
				rc = -1;
			} else if (matcher_validate(m, sub, err) < 0) {
				rc = -1;
			}
		} else if (strcmp(k, "headers") == 0) {
			if (object_of(m, sub, err, "header name to matcher") < 0) {
				rc = -1;
				continue;
			}
			for (const cJSON *h = m->child; h; h = h->next) {
				char hp[PATH_MAX_LEN];
				jpath_key(hp, sizeof(hp), sub, h->string);
				for (const cJSON *o = m->child; o != h; o = o->next)
					if (strcasecmp(o->string, h->string) == 0 && strcmp(o->string, h->string) != 0) {
						jpath_err(err, hp, "header named twice (names are case-insensitive)");
						rc = -1;
					}
				if (!*h->string || strpbrk(h->string, " \t\r\n:")) {
					jpath_err(err, hp, "not a header name");
					rc = -1;
				}
				if (matcher_validate(h, hp, err) < 0)
					rc = -1;
			}
		} else if (strcmp(k, "body") == 0) {
			if (pointer_map_validate(m, sub, err) < 0)
				rc = -1;
		} else if (strcmp(k, "body_text") == 0) {
			if (matcher_validate(m, sub, err) < 0)
				rc = -1;
		} else if (strcmp(k, "stream") == 0) {
			if (stream_validate(m, sub, true, err) < 0)
				rc = -1;
		} else if (strcmp(k, "same") == 0) {
			if (same_validate(m, sub, err) < 0)
				rc = -1;
		} else {
			jpath_err(err, sub, "unknown member (expected status, headers, body, body_text, stream or same)");
			rc = -1;
		}
	}
	return rc;
}

int capture_validate(const char *source, const char *path, struct buf *err)
{
	if (strcmp(source, "status") == 0)
		return 0;
	if (strncmp(source, "header:", 7) == 0) {
		if (source[7] && !strpbrk(source + 7, " \t\r\n:"))
			return 0;
		jpath_err(err, path, "\"header:\" needs a header name");
		return -1;
	}
	if (strncmp(source, "body:", 5) == 0) {
		if (pointer_valid(source + 5))
			return 0;
		jpath_err(err, path, "\"body:\" needs a JSON Pointer (\"body:/id\")");
		return -1;
	}
	if (strncmp(source, "stream:", 7) == 0) {
		if (ref_valid(source + 7))
			return 0;
		jpath_err(err, path, "\"stream:\" needs an event reference (\"stream:start/conversationId\")");
		return -1;
	}
	jpath_err(err, path, "unknown capture source \"%.100s\" (expected status, header:NAME, body:/pointer or stream:TYPE/pointer)",
	     source);
	return -1;
}
