/*
 * compare: load both sides (every file checked field by field, ids unique per
 * side), index the baseline by id, then walk the current cases in their
 * order.  Sorting costs O(n log n); the rest is linear.
 */
#include "runner/report/compare.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "common/buf.h"
#include "common/json.h"
#include "common/utf8.h"
#include "runner/report/common.h"
#include "runner/report/json.h"

#define LINE_MAX_SHOWN 240   /* characters of a message on a console line */

struct cmp_case {
	const char *id;
	const char *verdict;     /* "pass", "fail", "error", "skip", "flaky", "blocked", "observed" */
	const char *level;       /* "MUST", "SHOULD", "INFO" */
	const char *message;     /* or NULL */
	int fails_run;
	const char *file;        /* the report it came from */
	size_t index;            /* its position in that file's cases */
	int matched;             /* found on the other side */
};

struct cmp_side {
	const char *name;        /* "baseline", "current" */
	cJSON **docs;
	size_t ndocs;
	struct cmp_case *cases;  /* in file order, then in each file's case order */
	size_t ncases;
	struct cmp_case **by_id; /* sorted by id */
	int strict;              /* any of its runs was strict */
};

/* ---- loading ----------------------------------------------------------------------------- */

static int read_file(const char *path, struct buf *text, FILE *errout)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(errout, "chatconform: cannot read %s: %s\n", path, strerror(errno));
		return -1;
	}
	char chunk[1 << 16];
	size_t n;
	int rc = 0;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (buf_add(text, chunk, n) != BUF_OK) {
			fprintf(errout, "chatconform: cannot read %s: larger than %u MiB\n", path,
				COMPARE_FILE_MAX >> 20);
			rc = -1;
			break;
		}
	}
	if (rc == 0 && ferror(f)) {
		fprintf(errout, "chatconform: cannot read %s: %s\n", path, strerror(errno));
		rc = -1;
	}
	fclose(f);
	return rc;
}

static int one_of(const char *s, const char *const *set)
{
	for (; *set; set++)
		if (strcmp(s, *set) == 0)
			return 1;
	return 0;
}

/* A required string member of case i, one of set when set is given; NULL after saying why. */
static const char *case_string(const cJSON *o, const char *name, const char *const *set, const char *path,
			       size_t i, FILE *errout)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	if (cJSON_IsString(v) && v->valuestring[0] && (!set || one_of(v->valuestring, set)))
		return v->valuestring;
	if (!set) {
		fprintf(errout, "chatconform: %s: cases[%zu].%s: expected a non-empty string\n", path, i, name);
		return NULL;
	}
	fprintf(errout, "chatconform: %s: cases[%zu].%s: expected one of", path, i, name);
	for (; *set; set++)
		fprintf(errout, " %s", *set);
	fputc('\n', errout);
	return NULL;
}

/* True when anything but whitespace follows the end of the JSON value. */
static int end_is_junk(const char *end, const char *limit)
{
	for (const char *q = end; q && q < limit; q++)
		if (*q != ' ' && *q != '\t' && *q != '\r' && *q != '\n')
			return 1;
	return 0;
}

/* Parse one report and append its cases to side; -1 after saying what is wrong with it. */
static int load_file(struct cmp_side *side, const char *path, FILE *errout)
{
	static const char *const verdicts[] = { "pass", "fail", "error", "skip", "flaky", "blocked",
						"observed", NULL };
	static const char *const levels[] = { "MUST", "SHOULD", "INFO", NULL };
	struct buf text;
	cJSON *doc = NULL;
	int rc = -1;

	buf_init(&text, COMPARE_FILE_MAX);
	if (read_file(path, &text, errout) != 0)
		goto out;
	if (!utf8_valid(buf_str(&text), text.len)) {
		fprintf(errout, "chatconform: %s: not UTF-8 text\n", path);
		goto out;
	}
	const char *end = NULL;
	doc = cJSON_ParseWithLengthOpts(buf_str(&text), text.len, &end, 0);
	if (!doc || end_is_junk(end, text.data + text.len)) {
		/* Where cJSON stopped, as a line number. */
		size_t line = 1;
		for (const char *p = text.data; p && end && p < end && p < text.data + text.len; p++)
			line += *p == '\n';
		fprintf(errout, "chatconform: %s: not JSON (line %zu)\n", path, line);
		goto out;
	}
	const char *format = cJSON_IsObject(doc) ? json_get_string(doc, "format") : NULL;
	if (!format) {
		fprintf(errout, "chatconform: %s: not a chatconform JSON report (no \"format\": \"%s\"; "
			"write one with chatconform run --json FILE)\n", path, JSON_REPORT_FORMAT);
		goto out;
	}
	if (strcmp(format, JSON_REPORT_FORMAT) != 0) {
		fprintf(errout, "chatconform: %s: format %s is not supported (this chatconform reads %s)\n", path,
			format, JSON_REPORT_FORMAT);
		goto out;
	}
	const cJSON *cases = cJSON_GetObjectItemCaseSensitive(doc, "cases");
	if (!cJSON_IsArray(cases)) {
		fprintf(errout, "chatconform: %s: cases: expected an array\n", path);
		goto out;
	}
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "strict")))
		side->strict = 1;
	size_t n = (size_t)cJSON_GetArraySize(cases);
	struct cmp_case *grown = realloc(side->cases, (side->ncases + n + 1) * sizeof(*grown));
	cJSON **docs = realloc(side->docs, (side->ndocs + 1) * sizeof(*docs));
	if (docs)
		side->docs = docs;
	if (grown)
		side->cases = grown;
	if (!grown || !docs) {
		fprintf(errout, "chatconform: %s: out of memory\n", path);
		goto out;
	}
	size_t i = 0;
	const cJSON *o;
	cJSON_ArrayForEach(o, cases) {
		struct cmp_case *c = &side->cases[side->ncases + i];
		memset(c, 0, sizeof(*c));
		if (!cJSON_IsObject(o)) {
			fprintf(errout, "chatconform: %s: cases[%zu]: expected an object\n", path, i);
			goto out;
		}
		c->id = case_string(o, "id", NULL, path, i, errout);
		c->verdict = c->id ? case_string(o, "verdict", verdicts, path, i, errout) : NULL;
		c->level = c->verdict ? case_string(o, "level", levels, path, i, errout) : NULL;
		if (!c->level)
			goto out;
		const cJSON *fr = cJSON_GetObjectItemCaseSensitive(o, "fails_run");
		if (!cJSON_IsBool(fr)) {
			fprintf(errout, "chatconform: %s: cases[%zu].fails_run: expected true or false\n", path, i);
			goto out;
		}
		c->fails_run = cJSON_IsTrue(fr);
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, "message");
		c->message = cJSON_IsString(m) ? m->valuestring : NULL;
		c->file = path;
		c->index = i;
		i++;
	}
	side->ncases += n;
	side->docs[side->ndocs++] = doc;   /* the side owns the tree now: the cases point into it */
	doc = NULL;
	rc = 0;
out:
	cJSON_Delete(doc);
	buf_release(&text);
	return rc;
}

static int by_id_cmp(const void *a, const void *b)
{
	const struct cmp_case *x = *(const struct cmp_case *const *)a;
	const struct cmp_case *y = *(const struct cmp_case *const *)b;
	int d = strcmp(x->id, y->id);
	if (d)
		return d;
	return x < y ? -1 : x > y;   /* stable: the first file first */
}

static int load_side(struct cmp_side *side, const char *const *paths, size_t n, FILE *errout)
{
	for (size_t i = 0; i < n; i++)
		if (load_file(side, paths[i], errout) != 0)
			return -1;
	side->by_id = calloc(side->ncases + 1, sizeof(*side->by_id));
	if (!side->by_id) {
		fprintf(errout, "chatconform: out of memory\n");
		return -1;
	}
	for (size_t i = 0; i < side->ncases; i++)
		side->by_id[i] = &side->cases[i];
	qsort(side->by_id, side->ncases, sizeof(*side->by_id), by_id_cmp);
	/* The shards of one run never share a case: a repeated id means the wrong files were given. */
	for (size_t i = 1; i < side->ncases; i++) {
		const struct cmp_case *a = side->by_id[i - 1], *b = side->by_id[i];
		if (strcmp(a->id, b->id) == 0) {
			fprintf(errout, "chatconform: %s: cases[%zu]: id %s is also in %s (cases[%zu]); "
				"the files of one side must not repeat a case\n", b->file, b->index, b->id, a->file,
				a->index);
			return -1;
		}
	}
	return 0;
}

static void side_release(struct cmp_side *side)
{
	for (size_t i = 0; i < side->ndocs; i++)
		cJSON_Delete(side->docs[i]);
	free(side->docs);
	free(side->cases);
	free(side->by_id);
}

static struct cmp_case *find(const struct cmp_side *side, const char *id)
{
	size_t lo = 0, hi = side->ncases;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int d = strcmp(side->by_id[mid]->id, id);
		if (d == 0)
			return side->by_id[mid];
		if (d < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* ---- the comparison ---------------------------------------------------------------------- */

enum change { CH_REGRESSION, CH_WARNING, CH_FIX, CH_ADDED, CH_REMOVED, CH_COUNT };

static const char *const change_title[CH_COUNT] = {
	"Regressions (passed in the baseline, fail now)",
	"New warnings (passed in the baseline, a SHOULD not met now; not strict)",
	"Fixes (failed in the baseline, pass now)",
	"Added (not in the baseline)",
	"Removed (not in the current run)",
};
static const char *const change_noun[CH_COUNT][2] = {
	{ "regression", "regressions" }, { "new warning", "new warnings" }, { "fix", "fixes" },
	{ "added", "added" }, { "removed", "removed" },
};

/* "  ID  LEVEL  was -> now  message" (or one verdict for added and removed). */
static void change_line(struct buf *out, const struct cmp_case *was, const struct cmp_case *now)
{
	const struct cmp_case *c = now ? now : was;
	buf_adds(out, "  ");
	report_escape(out, c->id, strlen(c->id), ESC_LINE);
	buf_printf(out, "  %s  ", c->level);
	if (was && now)
		buf_printf(out, "%s -> %s", was->verdict, now->verdict);
	else
		buf_adds(out, c->verdict);
	if (c->message && strcmp(c->verdict, "pass") != 0 && strcmp(c->verdict, "flaky") != 0) {
		size_t n = strlen(c->message);
		buf_adds(out, "  ");
		report_escape(out, c->message, n > LINE_MAX_SHOWN ? LINE_MAX_SHOWN : n, ESC_LINE);
		if (n > LINE_MAX_SHOWN)
			buf_adds(out, "...");
	}
	buf_addc(out, '\n');
}

static enum change classify(const struct cmp_case *was, const struct cmp_case *now, int *unchanged)
{
	*unchanged = 0;
	/* A case that did not reach its clause on one side (skipped, blocked) cannot have changed at it. */
	if (strcmp(was->verdict, "skip") == 0 || strcmp(now->verdict, "skip") == 0 ||
	    strcmp(was->verdict, "blocked") == 0 || strcmp(now->verdict, "blocked") == 0)
		return CH_COUNT;
	/*
	 * A flaky case passed on a rerun and does not fail its run: it counts as passing on either side;
	 * so does an INFO observation, which never fails anything.
	 */
	int was_pass = strcmp(was->verdict, "pass") == 0 || strcmp(was->verdict, "flaky") == 0 ||
		       strcmp(was->verdict, "observed") == 0;
	int now_pass = strcmp(now->verdict, "pass") == 0 || strcmp(now->verdict, "flaky") == 0 ||
		       strcmp(now->verdict, "observed") == 0;
	if (was_pass && now->fails_run)
		return CH_REGRESSION;
	if (was_pass && strcmp(now->verdict, "fail") == 0)
		return CH_WARNING;
	if (!was_pass && now_pass)
		return CH_FIX;
	*unchanged = 1;
	return CH_COUNT;
}

static void side_line(FILE *out, const struct cmp_side *side, const char *const *paths, size_t n)
{
	fprintf(out, "%-9s ", side->name);
	for (size_t i = 0; i < n; i++) {
		const cJSON *d = side->docs[i];
		const char *run = json_get_string(d, "run_id");
		const char *at = json_get_string(d, "started_at");
		struct buf b;
		buf_init(&b, 8192);
		report_escape(&b, paths[i], strlen(paths[i]), ESC_LINE);
		buf_printf(&b, " (run %s, %s, %d cases)", run ? run : "?", at ? at : "?",
			   cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(d, "cases")));
		fprintf(out, "%s%s", i ? ", " : "", buf_str(&b));
		buf_release(&b);
	}
	fprintf(out, "%s\n", side->strict ? ", strict" : "");
}

enum compare_status compare_files(const char *const *baseline, size_t nbaseline, const char *const *current,
				  size_t ncurrent, FILE *out, FILE *errout)
{
	struct cmp_side base = { .name = "baseline:" }, cur = { .name = "current:" };
	struct buf lists[CH_COUNT];
	size_t count[CH_COUNT] = { 0 };
	size_t unchanged = 0, skipped = 0;
	enum compare_status status = COMPARE_INVALID;

	for (int k = 0; k < CH_COUNT; k++)
		buf_init(&lists[k], 64u << 20);
	if (!nbaseline || !ncurrent) {
		fprintf(errout, "chatconform: compare needs a baseline and a current report\n");
		goto out;
	}
	if (load_side(&base, baseline, nbaseline, errout) != 0 || load_side(&cur, current, ncurrent, errout) != 0)
		goto out;

	for (size_t i = 0; i < cur.ncases; i++) {
		struct cmp_case *now = &cur.cases[i];
		struct cmp_case *was = find(&base, now->id);
		enum change ch = CH_ADDED;
		if (was) {
			int same;
			was->matched = 1;
			ch = classify(was, now, &same);
			unchanged += same;
			skipped += ch == CH_COUNT && !same;
		}
		if (ch == CH_COUNT)
			continue;
		count[ch]++;
		change_line(&lists[ch], ch == CH_ADDED ? NULL : was, now);
	}
	for (size_t i = 0; i < base.ncases; i++) {
		if (base.cases[i].matched)
			continue;
		count[CH_REMOVED]++;
		change_line(&lists[CH_REMOVED], &base.cases[i], NULL);
	}

	side_line(out, &base, baseline, nbaseline);
	side_line(out, &cur, current, ncurrent);
	for (int k = 0; k < CH_COUNT; k++)
		if (count[k])
			fprintf(out, "\n%s: %zu\n%s", change_title[k], count[k], buf_str(&lists[k]));
	fputc('\n', out);
	for (int k = 0; k < CH_COUNT; k++)
		fprintf(out, "%zu %s, ", count[k], change_noun[k][count[k] != 1]);
	fprintf(out, "%zu unchanged, %zu not checked on a side (skipped or blocked)\n", unchanged, skipped);
	fflush(out);
	status = count[CH_REGRESSION] ? COMPARE_REGRESSED : COMPARE_SAME;
out:
	side_release(&base);
	side_release(&cur);
	for (int k = 0; k < CH_COUNT; k++)
		buf_release(&lists[k]);
	return status;
}
