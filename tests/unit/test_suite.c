/* Unit tests for runner/suite.c: loading good suites and reporting every kind of mistake. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "common/json.h"
#include "runner/suite.h"
#include "tests/unit/unit.h"

#define DATA "tests/data/suites/"

static struct buf err;

static void setup(void)
{
	buf_init(&err, 1 << 20);
}

static void teardown(void)
{
	buf_release(&err);
}

TestSuite(suite, .init = setup, .fini = teardown);

/* Load one broken file: it must fail, and err holds its lines. */
static const char *load_broken(const char *path)
{
	buf_reset(&err);
	struct suite *s = suite_load(path, &err);
	cr_assert(s == NULL, "%s loaded", path);
	cr_assert(err.len > 0);
	return buf_str(&err);
}

static size_t count_lines(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

Test(suite, loads_a_good_suite)
{
	struct suite *s = suite_load(DATA "good/widget.json", &err);
	cr_assert(s != NULL, "%s", buf_str(&err));
	cr_assert(eq(str, s->name, STR("widget")));
	cr_assert(eq(str, s->spec, STR("003_b326a3eb5b6fef58.txt")));
	cr_assert(eq(str, s->path, STR(DATA "good/widget.json")));
	cr_assert(eq(str, STR(json_get_string(s->vars, "KEY")), STR("${env:WIDGET_KEY|widget-dev-key-0123456789abcdef}")));
	cr_assert(eq(str, STR(json_get_string(s->default_headers, "x-forwarded-for")), STR("${CLIENT_IP}")));
	cr_assert(eq(dbl, s->timeouts.total, 10.0));
	cr_assert(eq(dbl, s->timeouts.connect, 2.5));
	cr_assert(eq(dbl, s->timeouts.idle, 0.0));
	cr_assert(eq(sz, s->ncases, 2));

	const struct tcase *c = &s->cases[0];
	cr_assert(eq(str, c->id, STR("widget.stream.order")));
	cr_assert(eq(str, c->title, STR("a stream is start, tokens, done")));
	cr_assert(eq(str, c->section, STR("Response")));
	cr_assert(eq(int, c->level, LEVEL_MUST));
	cr_assert(eq(sz, c->ntags, 1));
	cr_assert(tcase_has_tag(c, "stream"));
	cr_assert(not(tcase_has_tag(c, "mock-only")));
	cr_assert(not(c->mock_only));
	cr_assert(not(c->exclusive));
	cr_assert(c->skip == NULL);
	cr_assert(c->suite == s);
	cr_assert(eq(sz, c->index, 0));
	cr_assert(eq(sz, c->nsteps, 2));

	const struct step *st = &c->steps[0];
	cr_assert(eq(int, st->kind, STEP_REQUEST));
	cr_assert(eq(str, st->where, STR("cases[0].steps[0]")));
	cr_assert(eq(str, STR(json_get_string(st->request, "path")), STR("/v1/chat/stream")));
	cr_assert(cJSON_IsNull(json_pointer(st->request, "/headers/x-forwarded-for")));
	cr_assert(eq(str, STR(json_get_string(json_pointer(st->expect, "/stream"), "sequence")), STR("start token* done")));
	cr_assert(eq(str, STR(json_get_string(st->capture, "CONV")), STR("stream:start/conversationId")));
	cr_assert(eq(int, st->repeat, 1));
	cr_assert(eq(dbl, st->timeouts.first_byte, 3.0));
	cr_assert(eq(dbl, st->timeouts.idle, 4.0));
	cr_assert(eq(dbl, st->timeouts.total, 0.0));
	cr_assert(eq(int, c->steps[1].repeat, 2));
	cr_assert(c->steps[1].capture == NULL);

	c = &s->cases[1];
	cr_assert(eq(int, c->level, LEVEL_SHOULD));
	cr_assert(eq(str, c->skip, STR("not decided yet")));
	cr_assert(eq(str, STR(json_get_string(c->vars, "BAD")), STR("x")));
	cr_assert(eq(sz, c->index, 1));
	suite_free(s);
}

Test(suite, admin_steps_make_cases_mock_only_and_exclusive)
{
	struct suite *s = suite_load(DATA "good/sub/botchat.json", &err);
	cr_assert(s != NULL, "%s", buf_str(&err));
	cr_assert(eq(int, s->cases[0].steps[0].kind, STEP_ADMIN));
	cr_assert(s->cases[0].mock_only);
	cr_assert(s->cases[0].exclusive);           /* /__admin/reset and /__admin/clock */
	cr_assert(s->cases[1].mock_only);           /* an admin step */
	cr_assert(not(s->cases[1].exclusive));      /* the journal does not disturb others */
	cr_assert(s->cases[2].mock_only);           /* the tag */
	cr_assert(s->cases[2].exclusive);           /* explicit */
	cr_assert(eq(int, s->cases[1].level, LEVEL_INFO));
	cr_assert(eq(int, s->cases[0].steps[1].repeat, 30));
	suite_free(s);
}

Test(suite, folders_are_searched_recursively_in_name_order)
{
	struct suite_set set;
	const char *paths[] = { DATA "good" };
	cr_assert(eq(int, suite_set_load(&set, paths, 1, &err), 0), "%s", buf_str(&err));
	cr_assert(eq(str, STR(buf_str(&err)), STR("")));
	cr_assert(eq(sz, set.n, 2)); /* notes.txt and .hidden.json are not loaded */
	cr_assert(eq(str, set.v[0]->path, STR(DATA "good/sub/botchat.json")));
	cr_assert(eq(str, set.v[1]->path, STR(DATA "good/widget.json")));
	suite_set_release(&set);
	cr_assert(eq(sz, set.n, 0));
}

Test(suite, ids_are_unique_across_the_set)
{
	struct suite_set set;
	const char *paths[] = { DATA "dup" };
	cr_assert(eq(int, suite_set_load(&set, paths, 1, &err), -1));
	cr_assert(eq(str, STR(buf_str(&err)),
		     STR(DATA "dup/b.json: deepwiki.shared: cases[1].id: duplicate id (first in " DATA "dup/a.json at cases[1])\n")));
	suite_set_release(&set);
}

Test(suite, the_same_file_twice_is_a_duplicate)
{
	struct suite_set set;
	const char *paths[] = { DATA "good/widget.json", DATA "good/widget.json" };
	cr_assert(eq(int, suite_set_load(&set, paths, 2, &err), -1));
	cr_assert(eq(sz, count_lines(buf_str(&err)), 2));
	assert_contains(buf_str(&err), "widget.stream.order: cases[0].id: duplicate id");
	suite_set_release(&set);
}

Test(suite, set_keeps_going_and_reports_everything)
{
	struct suite_set set;
	const char *paths[] = { DATA "broken", "tests/data/suites/no-such-dir", DATA "good" };
	cr_assert(eq(int, suite_set_load(&set, paths, 3, &err), -1));
	const char *e = buf_str(&err);
	assert_contains(e, "cannot open tests/data/suites/no-such-dir: No such file or directory\n");
	assert_contains(e, DATA "broken/not-json.json: invalid JSON");
	assert_contains(e, DATA "broken/steps.json: widget.steps: cases[0].steps[1]: a step needs \"request\", \"admin\", \"ws\" or \"sleep\"\n");
	assert_contains(e, DATA "broken/vars.json: -: vars.KEY: unterminated");
	cr_assert(eq(sz, set.n, 2)); /* the good ones still load */
	suite_set_release(&set);
}

Test(suite, cannot_open)
{
	cr_assert(eq(str, STR(load_broken("tests/data/suites/missing.json")),
		     STR("cannot open tests/data/suites/missing.json: No such file or directory\n")));
	cr_assert(eq(str, STR(load_broken(DATA "good")), STR("cannot open " DATA "good: Is a directory\n")));
}

Test(suite, too_large)
{
	char path[] = "/tmp/cc-suite-XXXXXX";
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	cr_assert(eq(int, ftruncate(fd, 8 * 1024 * 1024 + 1), 0));
	close(fd);
	const char *e = load_broken(path);
	assert_contains(e, path);
	assert_contains(e, ": file too large (8388609 bytes, the limit is 8388608)\n");
	unlink(path);
}

Test(suite, invalid_json_names_line_and_column)
{
	cr_assert(eq(str, STR(load_broken(DATA "broken/not-json.json")),
		     STR(DATA "broken/not-json.json: invalid JSON at line 4, column 17\n")));
	cr_assert(eq(str, STR(load_broken(DATA "broken/trailing.json")),
		     STR(DATA "broken/trailing.json: invalid JSON at line 1, column 48\n")));
	cr_assert(eq(str, STR(load_broken(DATA "broken/not-object.json")),
		     STR(DATA "broken/not-object.json: -: (root): a suite file must be a JSON object, got array\n")));
}

Test(suite, top_level_mistakes)
{
#define F DATA "broken/top-level.json: -: "
	cr_assert(eq(str, STR(load_broken(DATA "broken/top-level.json")),
		     STR(F "case: unknown member (expected one of suite, spec, vars, defaults, cases)\n"
			 F "suite: \"Widget!\" is not an API name (lowercase [a-z0-9_-])\n"
			 F "spec: must be the file name of a document in spec/, without \"/\"\n"
			 F "defaults.header: unknown member (expected one of headers, timeout)\n"
			 F "defaults.timeout.idle: must be a positive number of seconds (at most 86400)\n"
			 F "defaults.timeout.total: must be a positive number of seconds (at most 86400)\n"
			 F "cases: missing (required)\n")));
#undef F
}

Test(suite, case_mistakes_name_file_case_and_path)
{
#define F DATA "broken/case-members.json: "
	cr_assert(eq(str, STR(load_broken(DATA "broken/case-members.json")),
		     STR(F "-: cases[1].id: \"Widget.Bad Id\" is not a case id (lowercase [a-z0-9_.-], at most 200 characters)\n"
			 F "widget.levels: cases[2].sumary: unknown member (expected one of id, title, section, clause, level, tags, vars, skip, exclusive, needs, steps)\n"
			 F "widget.levels: cases[2].title: must not be empty\n"
			 F "widget.levels: cases[2].section: must be a string, got number\n"
			 F "widget.levels: cases[2].clause: must be one line\n"
			 F "widget.levels: cases[2].level: must be \"MUST\", \"SHOULD\" or \"INFO\"\n"
			 F "widget.levels: cases[2].tags[1]: a tag must be a non-empty string without spaces or commas\n"
			 F "widget.levels: cases[2].skip: must not be empty\n"
			 F "widget.levels: cases[2].exclusive: must be true or false, got string\n"
			 F "widget.levels: cases[2].steps: must be a non-empty array of steps\n"
			 F "-: cases[3].id: missing (required)\n"
			 F "-: cases[4]: a case must be an object, got string\n")));
#undef F
}

Test(suite, step_mistakes)
{
#define F DATA "broken/steps.json: widget.steps: cases[0].steps"
	cr_assert(eq(str, STR(load_broken(DATA "broken/steps.json")),
		     STR(F "[0]: a step has exactly one of \"request\", \"admin\", \"ws\" or \"sleep\"\n"
			 F "[1]: a step needs \"request\", \"admin\", \"ws\" or \"sleep\"\n"
			 F "[2].admin.path: an admin path must start with \"/__admin/\"\n"
			 F "[3].request.body: \"json\" and \"body\" are exclusive\n"
			 F "[4].request.method: must be an HTTP method such as \"POST\"\n"
			 F "[4].request.path: must be a string starting with \"/\"\n"
			 F "[4].request.headers[\"bad name\"]: not a header name\n"
			 F "[4].request.headers.ok: must be a string or null, got number\n"
			 F "[4].request.body_repeat: needs \"body\"\n"
			 F "[5].request.query.a: must be a string, number or boolean, got array\n"
			 F "[5].request.body_repeat: must be a positive integer\n"
			 F "[5].repeat: must be an integer from 1 to 100000\n"
			 F "[5].timeout.idel: unknown member (expected one of connect, first_byte, idle, total)\n"
			 F "[5].timeout.total: must be a positive number of seconds (at most 86400)\n"
			 F "[6].wait: unknown member (expected one of request, admin, ws, sleep, expect, capture, repeat, leave_after, timeout, precondition)\n"
			 F "[7]: a step must be an object, got number\n")));
#undef F
}

Test(suite, expect_and_capture_mistakes)
{
#define F DATA "broken/expect.json: widget.expect: cases[0].steps[0]."
	cr_assert(eq(str, STR(load_broken(DATA "broken/expect.json")),
		     STR(F "expect.status.rnage: unknown matcher keyword (expected equals, type, regex, range, one_of, exists, length or not)\n"
			 F "expect.headers[\"content-type\"].regex: bad regex /([a-z/: missing terminating ] for character class at offset 5\n"
			 F "expect.body[\"/a\"].type: type must be one of string, number, integer, boolean, null, object, array\n"
			 F "expect.body.b: not a JSON Pointer (\"\" or starting with \"/\", \"~\" only as ~0 or ~1)\n"
			 F "expect.stream.sequence: bad sequence \"start token* (done\": column 19: missing \")\"\n"
			 F "expect.stream.count.token.range: range min 3 is greater than max 1\n"
			 F "capture[\"bad name\"]: not a variable name ([A-Za-z_][A-Za-z0-9_]*)\n"
			 F "capture.X: unknown capture source \"cookie:a\" (expected status, header:NAME, body:/pointer or stream:TYPE/pointer)\n"
			 F "capture.Y: must be a source string such as \"body:/id\", got number\n")));
#undef F
}

Test(suite, variable_syntax_mistakes)
{
#define F DATA "broken/vars.json: "
	cr_assert(eq(str, STR(load_broken(DATA "broken/vars.json")),
		     STR(F "-: vars[\"bad-name\"]: not a variable name ([A-Za-z_][A-Za-z0-9_]*)\n"
			 F "-: vars.KEY: unterminated \"${\" in \"${env:WIDGET_KEY\"\n"
			 F "widget.vars: cases[0].vars.A: empty variable name in ${}\n"
			 F "widget.vars: cases[0].steps[0].request.path: unterminated \"${\" in \"/${oops\"\n"
			 F "widget.vars: cases[0].steps[0].expect.body[\"/a\"]: unterminated \"${\" in \"${B\"\n")));
#undef F
}

Test(suite, duplicates_within_a_file)
{
	cr_assert(eq(str, STR(load_broken(DATA "broken/dup-in-file.json")),
		     STR(DATA "broken/dup-in-file.json: -: suite: duplicate member\n"
			 DATA "broken/dup-in-file.json: widget.same: cases[1].id: duplicate id (first in "
			 DATA "broken/dup-in-file.json at cases[0])\n")));
}

Test(suite, every_line_has_file_case_and_path)
{
	const char *files[] = { "case-members", "steps", "expect", "vars", "top-level", "dup-in-file", "needs" };
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char path[256];
		snprintf(path, sizeof(path), DATA "broken/%s.json", files[i]);
		const char *e = load_broken(path);
		while (*e) {
			size_t n = strcspn(e, "\n");
			char line[1024];
			snprintf(line, sizeof(line), "%.*s", (int)n, e);
			cr_assert(eq(int, strncmp(line, path, strlen(path)), 0), "%s", line);
			/* FILE: CASE: PATH: what -- at least three ": " separators */
			const char *p = line;
			int seps = 0;
			while ((p = strstr(p, ": ")) != NULL) {
				seps++;
				p += 2;
			}
			cr_assert(seps >= 3, "%s", line);
			e += n + (e[n] == '\n');
		}
	}
}

Test(suite, names)
{
	cr_assert(eq(str, STR(level_name(LEVEL_MUST)), STR("MUST")));
	cr_assert(eq(str, STR(level_name(LEVEL_SHOULD)), STR("SHOULD")));
	cr_assert(eq(str, STR(level_name(LEVEL_INFO)), STR("INFO")));
}

Test(suite, needs_names_variables_of_the_suite_or_the_case)
{
#define F DATA "broken/needs.json: "
	cr_assert(eq(str, STR(load_broken(DATA "broken/needs.json")),
		     STR(F "widget.needs.shape: cases[0].needs: must be a non-empty array of variable names, got string\n"
			 F "widget.needs.names: cases[1].needs[2]: must be a variable name ([A-Za-z_][A-Za-z0-9_]*)\n"
			 F "widget.needs.names: cases[1].needs[3]: KEY2 is named twice\n"
			 F "widget.needs.names: cases[1].needs[4]: NOWHERE is not a variable of the suite or the case "
			   "(define it in \"vars\")\n"
			 F "widget.needs.names: cases[1].needs[5]: must be a variable name ([A-Za-z_][A-Za-z0-9_]*)\n"
			 F "widget.needs.empty: cases[2].needs: must be a non-empty array of variable names, got array\n")));
#undef F
}

Test(suite, needs_are_kept)
{
	struct suite *s = suite_load("suites/deepwiki/isolation.json", &err);
	cr_assert(s != NULL, "%s", buf_str(&err));
	size_t with = 0;
	for (size_t i = 0; i < s->ncases; i++)
		if (s->cases[i].nneeds) {
			cr_expect(eq(str, s->cases[i].needs[0], STR("KEY2")));
			with++;
		}
	cr_expect(with >= 5);
	suite_free(s);
}

/* Load a suite written into a temporary file; NULL (with err) when it does not load. */
static struct suite *load_text(const char *json)
{
	char path[] = "/tmp/cc-suite-XXXXXX";
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	cr_assert(write(fd, json, strlen(json)) == (ssize_t)strlen(json));
	close(fd);
	buf_reset(&err);
	struct suite *s = suite_load(path, &err);
	unlink(path);
	return s;
}

#define SUITE_HEAD "{\"suite\":\"widget\",\"spec\":\"003_b326a3eb5b6fef58.txt\",\"cases\":[{\"id\":\"w.a\"," \
		   "\"title\":\"t\",\"section\":\"s\",\"clause\":\"c\",\"level\":\"MUST\",\"steps\":["
#define REQ "{\"request\":{\"path\":\"/x\"}"

Test(suite, steps_before_the_last_are_preconditions_unless_said)
{
	struct suite *s = load_text(SUITE_HEAD REQ "}," REQ "}," REQ "}]}]}");
	cr_assert(s != NULL, "%s", buf_str(&err));
	cr_expect(s->cases[0].steps[0].precondition, "expected a precondition");
	cr_expect(s->cases[0].steps[1].precondition, "expected a precondition");
	cr_expect(eq(int, s->cases[0].steps[2].precondition, 0));
	suite_free(s);
	/* Once one step says what it is, the others check the clause. */
	s = load_text(SUITE_HEAD REQ ",\"precondition\":true}," REQ "}," REQ "}]}]}");
	cr_assert(s != NULL, "%s", buf_str(&err));
	cr_expect(s->cases[0].steps[0].precondition, "expected a precondition");
	cr_expect(eq(int, s->cases[0].steps[1].precondition, 0));
	cr_expect(eq(int, s->cases[0].steps[2].precondition, 0));
	suite_free(s);
	s = load_text(SUITE_HEAD REQ ",\"precondition\":false}," REQ "}]}]}");
	cr_assert(s != NULL, "%s", buf_str(&err));
	cr_expect(eq(int, s->cases[0].steps[0].precondition, 0));
	cr_expect(eq(int, s->cases[0].steps[1].precondition, 0));
	suite_free(s);
	/* A single step checks the clause. */
	s = load_text(SUITE_HEAD REQ "}]}]}");
	cr_assert(s != NULL, "%s", buf_str(&err));
	cr_expect(eq(int, s->cases[0].steps[0].precondition, 0));
	suite_free(s);
}

Test(suite, precondition_mistakes)
{
	cr_expect(load_text(SUITE_HEAD REQ ",\"precondition\":true}]}]}") == NULL);
	assert_contains(buf_str(&err), "w.a: cases[0].steps: every step is a precondition: at least one must check "
				       "the clause\n");
	cr_expect(load_text(SUITE_HEAD REQ ",\"precondition\":1}," REQ "}]}]}") == NULL);
	assert_contains(buf_str(&err), "w.a: cases[0].steps[0].precondition: must be true or false, got number\n");
	/* In a ws script, any item may be marked; "ignore": "others" needs a frame with a /type. */
	cr_expect(load_text(SUITE_HEAD "{\"ws\":{\"connections\":{\"a\":{\"path\":\"/ws\"}},\"script\":["
				       "{\"connect\":\"a\",\"precondition\":\"yes\"},"
				       "{\"expect\":\"a\",\"frame\":{\"/id\":1},\"ignore\":\"others\"},"
				       "{\"expect\":\"a\",\"close\":1000,\"ignore\":\"others\"}]}}]}]}") == NULL);
	assert_contains(buf_str(&err), "w.a: cases[0].steps[0].ws.script[0].precondition: must be true or false, "
				       "got string\n");
	assert_contains(buf_str(&err), "w.a: cases[0].steps[0].ws.script[1].ignore: \"others\" only with a frame "
				       "that has a \"/type\" matcher\n");
	assert_contains(buf_str(&err), "w.a: cases[0].steps[0].ws.script[2].ignore: \"others\" only with a frame");
	cr_expect(load_text(SUITE_HEAD "{\"ws\":{\"connections\":{\"a\":{\"path\":\"/ws\"}},\"script\":["
				       "{\"connect\":\"a\",\"may_refuse\":true,\"status\":401},"
				       "{\"expect\":\"a\",\"frame\":{\"/type\":\"x\"},\"or_close\":true},"
				       "{\"expect\":\"a\",\"no_frame_within\":1,\"or_close\":true},"
				       "{\"send\":\"a\",\"json\":{}}]}}]}]}") == NULL);
	assert_contains(buf_str(&err), "w.a: cases[0].steps[0].ws.script[0].may_refuse: not with status");
	assert_contains(buf_str(&err), "w.a: cases[0].steps[0].ws.script[1].or_close: only with no_frame_within\n");
	/* After "or_close" the connection may be gone: nothing may use it. */
	assert_contains(buf_str(&err), "w.a: cases[0].steps[0].ws.script[3].send: connection a is not open here");
	struct suite *s = load_text(SUITE_HEAD "{\"ws\":{\"connections\":{\"a\":{\"path\":\"/ws\"}},\"script\":["
				    "{\"connect\":\"a\",\"precondition\":true},"
				    "{\"expect\":\"a\",\"frame\":{\"/type\":\"x\"},\"ignore\":\"others\"}]}}]}]}");
	cr_expect(s != NULL, "%s", buf_str(&err));
	suite_free(s);
}

#define STREAM_REQ "{\"request\":{\"method\":\"POST\",\"path\":\"/x\"},\"expect\":{\"stream\":{\"format\":\"sse\"}}"

Test(suite, leave_after_and_sleep_load)
{
	struct suite *s = load_text(SUITE_HEAD STREAM_REQ ",\"leave_after\":{\"events\":2}},{\"sleep\":0.5},"
					     REQ "}]}]}");
	cr_assert(s != NULL, "%s", buf_str(&err));
	const struct tcase *c = &s->cases[0];
	cr_expect(eq(int, c->steps[0].kind, STEP_REQUEST));
	cr_expect(eq(sz, c->steps[0].leave_after, 2));
	cr_expect(eq(int, c->steps[1].kind, STEP_SLEEP));
	cr_expect(eq(dbl, c->steps[1].sleep, 0.5));
	cr_expect(eq(sz, c->steps[2].leave_after, 0));
	suite_free(s);
}

Test(suite, leave_after_mistakes)
{
#define P "w.a: cases[0].steps"
	/* The member's own shape: an object of "events", an integer from 1, nothing else. */
	cr_expect(load_text(SUITE_HEAD STREAM_REQ ",\"leave_after\":2}," STREAM_REQ ",\"leave_after\":{}},"
		  STREAM_REQ ",\"leave_after\":{\"events\":0,\"bytes\":9}}," STREAM_REQ ",\"leave_after\":{\"events\":\"1\"}},"
		  STREAM_REQ ",\"leave_after\":{\"events\":1.5}}," STREAM_REQ ",\"leave_after\":{\"events\":100001}}]}]}") == NULL);
	const char *e = buf_str(&err);
	assert_contains(e, P "[0].leave_after: must be an object such as {\"events\": 1}, got number\n");
	assert_contains(e, P "[1].leave_after.events: missing (required)\n");
	assert_contains(e, P "[2].leave_after.bytes: unknown member (expected one of events)\n");
	assert_contains(e, P "[2].leave_after.events: must be an integer from 1 to 100000\n");
	assert_contains(e, P "[3].leave_after.events: must be an integer from 1 to 100000\n");
	assert_contains(e, P "[4].leave_after.events: must be an integer from 1 to 100000\n");
	assert_contains(e, P "[5].leave_after.events: must be an integer from 1 to 100000\n");
	cr_expect(eq(sz, count_lines(e), 7), "%s", e);
	/* Only on a request step that reads a stream. */
	cr_expect(load_text(SUITE_HEAD REQ ",\"leave_after\":{\"events\":1}},"
		  "{\"admin\":{\"path\":\"/__admin/x\"},\"expect\":{\"stream\":{\"format\":\"sse\"}},\"leave_after\":{\"events\":1}},"
		  "{\"ws\":{\"connections\":{\"a\":{\"path\":\"/ws\"}},\"script\":[{\"connect\":\"a\"}]},\"leave_after\":{\"events\":1}},"
		  "{\"sleep\":1,\"leave_after\":{\"events\":1}}," REQ "}]}]}") == NULL);
	e = buf_str(&err);
	assert_contains(e, P "[0].leave_after: needs \"expect\": {\"stream\": ...} (its format says what an event is)\n");
	assert_contains(e, P "[1].leave_after: only on a \"request\" step\n");
	assert_contains(e, P "[2].leave_after: not with \"ws\" (its script holds the checks)\n");
	assert_contains(e, P "[3].leave_after: not with \"sleep\"\n");
	cr_expect(eq(sz, count_lines(e), 4), "%s", e);
#undef P
}

Test(suite, sleep_mistakes)
{
#define P "w.a: cases[0].steps"
	cr_expect(load_text(SUITE_HEAD "{\"sleep\":0},{\"sleep\":\"1\"},{\"sleep\":3601},"
		  "{\"sleep\":1,\"expect\":{},\"repeat\":2,\"timeout\":{\"total\":1}},{\"sleep\":1,\"request\":{\"path\":\"/x\"}},"
		  REQ "}]}]}") == NULL);
	const char *e = buf_str(&err);
	assert_contains(e, P "[0].sleep: must be a positive number of seconds (at most 3600)\n");
	assert_contains(e, P "[1].sleep: must be a positive number of seconds (at most 3600)\n");
	assert_contains(e, P "[2].sleep: must be a positive number of seconds (at most 3600)\n");
	assert_contains(e, P "[3].expect: not with \"sleep\"\n");
	assert_contains(e, P "[3].repeat: not with \"sleep\"\n");
	assert_contains(e, P "[3].timeout: not with \"sleep\"\n");
	assert_contains(e, P "[4]: a step has exactly one of \"request\", \"admin\", \"ws\" or \"sleep\"\n");
	cr_expect(eq(sz, count_lines(e), 7), "%s", e);
	/* A sleep cannot fail, so it is never the step that checks the clause. */
	cr_expect(load_text(SUITE_HEAD REQ ",\"precondition\":true},{\"sleep\":1}]}]}") == NULL);
	assert_contains(buf_str(&err), P ": every step is a precondition: at least one must check the clause\n");
#undef P
}
