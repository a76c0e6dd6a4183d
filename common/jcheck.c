/*
 * jcheck: config documents checked member by member, problems at their line and column.
 */
#include "common/jcheck.h"

#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "common/closest.h"
#include "common/json.h"
#include "common/jpath.h"
#include "common/utf8.h"

void jcheck_init(struct jcheck *c, const char *file, const char *text, size_t len, struct buf *err)
{
	memset(c, 0, sizeof(*c));
	c->file = file;
	c->text = text;
	c->len = len;
	c->err = err;
}

void jcheck_line_col(const char *text, size_t off, size_t *line, size_t *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off; i++) {
		if (text[i] == '\n') {
			++*line;
			*col = 1;
		} else if (((unsigned char)text[i] & 0xC0) != 0x80) {
			++*col;   /* a continuation byte is part of the character before */
		}
	}
}

/* "FILE:LINE:COLUMN: " for byte off, or "FILE: " when off is SIZE_MAX. */
static void vreport(struct jcheck *c, size_t off, const char *path, const char *fmt, va_list ap)
{
	if (++c->nerr > JCHECK_MAX_LISTED)
		return;
	if (off == SIZE_MAX) {
		buf_printf(c->err, "%s: ", c->file);
	} else {
		size_t line, col;
		jcheck_line_col(c->text, off, &line, &col);
		buf_printf(c->err, "%s:%zu:%zu: ", c->file, line, col);
	}
	if (path)
		buf_printf(c->err, "%s: ", *path ? path : "(root)");
	buf_vprintf(c->err, fmt, ap);
	buf_addc(c->err, '\n');
}

/* ---- positions ------------------------------------------------------------------------------ */

/*
 * A walk of the text in step with the tree.  The text is the one cJSON parsed, so
 * it is well-formed: the walk only needs to find where each value starts and ends.
 */
struct walk {
	const char *text, *p, *end;
	const cJSON *target;
	size_t value, name, value_end;
	size_t *sizes, nsizes;     /* jcheck_sizes: where the target's elements' sizes go */
	bool found;
};

static void skip_ws(struct walk *w)
{
	while (w->p < w->end && (unsigned char)*w->p <= 32)   /* cJSON's idea of whitespace */
		w->p++;
}

static void skip_string(struct walk *w)
{
	for (w->p++; w->p < w->end && *w->p != '"'; w->p++)
		if (*w->p == '\\')
			w->p++;
	w->p++;
}

/* Walk one value (node is its tree node, or NULL past the tree); true once the target is passed. */
static bool walk_value(struct walk *w, const cJSON *node, size_t name)
{
	skip_ws(w);
	size_t start = (size_t)(w->p - w->text);
	bool here = node && node == w->target;
	if (w->p >= w->end)
		return false;
	if (*w->p == '{' || *w->p == '[') {
		bool object = *w->p == '{';
		const cJSON *child = node ? node->child : NULL;
		size_t i = 0;
		w->p++;
		for (;;) {
			skip_ws(w);
			if (w->p >= w->end)
				return false;
			if (*w->p == (object ? '}' : ']')) {
				w->p++;
				break;
			}
			if (*w->p == ',') {
				w->p++;
				skip_ws(w);
			}
			size_t child_name = (size_t)(w->p - w->text);
			if (object) {
				skip_string(w);
				skip_ws(w);
				w->p++;   /* the colon */
			}
			skip_ws(w);
			size_t child_start = (size_t)(w->p - w->text);
			if (walk_value(w, child, child_name))
				return true;
			if (here && w->sizes && i < w->nsizes) {
				w->sizes[i] = (size_t)(w->p - w->text) - child_start;
			}
			i++;
			child = child ? child->next : NULL;
		}
	} else if (*w->p == '"') {
		skip_string(w);
	} else {
		while (w->p < w->end && (unsigned char)*w->p > 32 && !strchr(",]}", *w->p))
			w->p++;
	}
	if (here) {
		w->value = start;
		w->name = name;
		w->value_end = (size_t)(w->p - w->text);
		w->found = true;
	}
	return here;
}

static bool walk_to(const struct jcheck *c, struct walk *w, const cJSON *node)
{
	w->text = w->p = c->text;
	w->end = c->text + c->len;
	w->target = node;
	if (!c->root || !node || !c->text)
		return false;
	skip_ws(w);
	walk_value(w, c->root, (size_t)(w->p - w->text));
	return w->found;
}

bool jcheck_where(const struct jcheck *c, const cJSON *node, size_t *value, size_t *name)
{
	struct walk w = { 0 };
	if (!walk_to(c, &w, node))
		return false;
	*value = w.value;
	*name = w.name;
	return true;
}

bool jcheck_sizes(const struct jcheck *c, const cJSON *array, size_t *sizes, size_t n)
{
	struct walk w = { .sizes = sizes, .nsizes = n };
	return walk_to(c, &w, array);
}

void jcheck_bad(struct jcheck *c, const cJSON *node, const char *path, const char *fmt, ...)
{
	size_t value = SIZE_MAX, name;
	va_list ap;
	if (!jcheck_where(c, node, &value, &name))
		value = SIZE_MAX;
	va_start(ap, fmt);
	vreport(c, value, path, fmt, ap);
	va_end(ap);
}

void jcheck_bad_name(struct jcheck *c, const cJSON *node, const char *path, const char *fmt, ...)
{
	size_t value, name = SIZE_MAX;
	va_list ap;
	if (!jcheck_where(c, node, &value, &name))
		name = SIZE_MAX;
	va_start(ap, fmt);
	vreport(c, name, path, fmt, ap);
	va_end(ap);
}

unsigned jcheck_finish(struct jcheck *c)
{
	if (c->nerr > JCHECK_MAX_LISTED)
		buf_printf(c->err, "%s: and %u more problems\n", c->file, c->nerr - JCHECK_MAX_LISTED);
	return c->nerr;
}

/* ---- parsing -------------------------------------------------------------------------------- */

/* The offset of the first byte of text that does not start a well-formed UTF-8 character. */
static size_t invalid_utf8_at(const char *text, size_t len)
{
	size_t i = 0;
	while (i < len) {
		size_t k = 1;
		while (k <= 4 && i + k <= len && !utf8_valid(text + i, k))
			k++;
		if (k > 4 || i + k > len)
			return i;
		i += k;
	}
	return len;
}

static void parse_bad(struct jcheck *c, size_t off, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void parse_bad(struct jcheck *c, size_t off, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(c, off, NULL, fmt, ap);
	va_end(ap);
}

cJSON *jcheck_parse(struct jcheck *c)
{
	const char *nul = memchr(c->text, '\0', c->len);
	size_t bad;
	if (nul) {
		parse_bad(c, (size_t)(nul - c->text), "invalid JSON: a NUL byte");
		return NULL;
	}
	if ((bad = invalid_utf8_at(c->text, c->len)) < c->len) {
		parse_bad(c, bad, "invalid JSON: not UTF-8 (byte 0x%02x)", (unsigned char)c->text[bad]);
		return NULL;
	}
	if ((bad = json_text_find_nul(c->text, c->len)) < c->len) {
		parse_bad(c, bad, "the escape \\u0000 is not allowed (a string would be cut at it)");
		return NULL;
	}
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithLengthOpts(c->text, c->len, &end, 0);
	if (!root) {
		/*
		 * cJSON leaves end where it stopped and says no more; that is often just past
		 * the culprit, on the whitespace after it, so back up to the last character.
		 */
		size_t off = end && end >= c->text && end <= c->text + c->len ? (size_t)(end - c->text) : 0;
		while (off > 0 && (off >= c->len || (unsigned char)c->text[off] <= 32))
			off--;
		if (c->len == 0 || (unsigned char)c->text[off] <= 32)
			parse_bad(c, off, "invalid JSON: no value");
		else if (end && end >= c->text + c->len)
			parse_bad(c, off, "invalid JSON: the text ends before the value does");
		else if ((unsigned char)c->text[off] < 127)
			parse_bad(c, off, "invalid JSON near '%c'", c->text[off]);
		else
			parse_bad(c, off, "invalid JSON");
		return NULL;
	}
	for (const char *q = end; q < c->text + c->len; q++) {
		if ((unsigned char)*q > 32) {
			parse_bad(c, (size_t)(q - c->text), "invalid JSON: text after the value");
			cJSON_Delete(root);
			return NULL;
		}
	}
	c->root = root;
	return root;
}

/* ---- checkers ------------------------------------------------------------------------------- */

/* ", expected one of a, b, c" or " (did you mean b?; expected one of a, b, c)" into out. */
static void add_expected(struct buf *out, const char *given, const char *const *names)
{
	size_t n = 0;
	while (names[n])
		n++;
	const char *near[CLOSEST_MAX];
	size_t nnear = given ? closest_names(given, strlen(given), names, n, near) : 0;
	buf_adds(out, " (");
	if (nnear) {
		buf_adds(out, "did you mean ");
		for (size_t i = 0; i < nnear; i++)
			buf_printf(out, "%s%s", i == 0 ? "" : i + 1 == nnear ? " or " : ", ", near[i]);
		buf_adds(out, "?; ");
	}
	buf_adds(out, "expected ");
	if (n > 1)
		buf_adds(out, "one of ");
	for (size_t i = 0; i < n; i++)
		buf_printf(out, "%s%s", i ? ", " : "", names[i]);
	buf_addc(out, ')');
}

unsigned jcheck_members(struct jcheck *c, const cJSON *o, const char *path, const char *const *allowed)
{
	unsigned n = 0;
	for (const cJSON *m = o->child; m; m = m->next) {
		char p[JCHECK_PATH_LEN];
		jpath_key(p, sizeof(p), path, m->string);
		bool known = false;
		for (size_t i = 0; allowed[i] && !known; i++)
			known = strcmp(allowed[i], m->string) == 0;
		if (!known) {
			struct buf what;
			buf_init(&what, 2048);
			buf_adds(&what, "unknown member");
			add_expected(&what, m->string, allowed);
			jcheck_bad_name(c, m, p, "%s", buf_str(&what));
			buf_release(&what);
			n++;
		}
		for (const cJSON *o2 = o->child; o2 != m; o2 = o2->next)
			if (strcmp(o2->string, m->string) == 0) {
				jcheck_bad_name(c, m, p, "duplicate member (the first is used)");
				n++;
				break;
			}
	}
	return n;
}

/* The member name of o and its path into p; reports a missing required one. */
static const cJSON *member(struct jcheck *c, const cJSON *o, const char *path, const char *name, bool required,
			   char *p)
{
	jpath_key(p, JCHECK_PATH_LEN, path, name);
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, name);
	if (!m && required)
		jcheck_bad(c, o, p, "missing (required)");
	return m;
}

const cJSON *jcheck_object(struct jcheck *c, const cJSON *o, const char *path, const char *name, bool required,
			   const char *const *allowed)
{
	char p[JCHECK_PATH_LEN];
	const cJSON *m = member(c, o, path, name, required, p);
	if (!m)
		return NULL;
	if (!cJSON_IsObject(m)) {
		jcheck_bad(c, m, p, "expected an object, got %s", json_type_name(m));
		return NULL;
	}
	if (allowed)
		jcheck_members(c, m, p, allowed);
	return m;
}

const cJSON *jcheck_array(struct jcheck *c, const cJSON *o, const char *path, const char *name, bool required)
{
	char p[JCHECK_PATH_LEN];
	const cJSON *m = member(c, o, path, name, required, p);
	if (m && !cJSON_IsArray(m)) {
		jcheck_bad(c, m, p, "expected an array, got %s", json_type_name(m));
		return NULL;
	}
	return m;
}

const char *jcheck_string(struct jcheck *c, const cJSON *o, const char *path, const char *name, bool required)
{
	char p[JCHECK_PATH_LEN];
	const cJSON *m = member(c, o, path, name, required, p);
	if (!m)
		return NULL;
	if (!cJSON_IsString(m)) {
		jcheck_bad(c, m, p, "expected a string, got %s", json_type_name(m));
		return NULL;
	}
	return m->valuestring;
}

bool jcheck_bool(struct jcheck *c, const cJSON *o, const char *path, const char *name, bool *out)
{
	char p[JCHECK_PATH_LEN];
	const cJSON *m = member(c, o, path, name, false, p);
	if (!m)
		return false;
	if (!cJSON_IsBool(m)) {
		jcheck_bad(c, m, p, "expected true or false, got %s", json_type_name(m));
		return false;
	}
	*out = cJSON_IsTrue(m);
	return true;
}

bool jcheck_count(struct jcheck *c, const cJSON *o, const char *path, const char *name, long min, long max,
		  long *out)
{
	char p[JCHECK_PATH_LEN];
	const cJSON *m = member(c, o, path, name, false, p);
	if (!m)
		return false;
	if (!json_is_integer(m) || m->valuedouble < (double)min || m->valuedouble > (double)max) {
		if (cJSON_IsNumber(m))
			jcheck_bad(c, m, p, "expected a whole number from %ld to %ld, got %g", min, max, m->valuedouble);
		else
			jcheck_bad(c, m, p, "expected a whole number from %ld to %ld, got %s", min, max,
				   json_type_name(m));
		return false;
	}
	*out = (long)m->valuedouble;
	return true;
}

int jcheck_enum_value(struct jcheck *c, const cJSON *v, const char *path, const char *const *names,
		      const char *what)
{
	struct buf msg;
	if (!cJSON_IsString(v)) {
		jcheck_bad(c, v, path, "expected %s (a string), got %s", what, json_type_name(v));
		return -1;
	}
	for (int i = 0; names[i]; i++)
		if (strcmp(names[i], v->valuestring) == 0)
			return i;
	char q[JPATH_QUOTE_LEN];
	jpath_quote(q, sizeof(q), v->valuestring, strlen(v->valuestring), 100);
	buf_init(&msg, 2048);
	buf_printf(&msg, "unknown %s \"%s\"", what, q);
	add_expected(&msg, v->valuestring, names);
	jcheck_bad(c, v, path, "%s", buf_str(&msg));
	buf_release(&msg);
	return -1;
}

int jcheck_enum(struct jcheck *c, const cJSON *o, const char *path, const char *name, const char *const *names,
		const char *what, bool required)
{
	char p[JCHECK_PATH_LEN];
	const cJSON *m = member(c, o, path, name, required, p);
	return m ? jcheck_enum_value(c, m, p, names, what) : -1;
}
