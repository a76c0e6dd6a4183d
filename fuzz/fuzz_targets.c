/*
 * fuzz_targets: the runner's targets file (runner/targets.c, --targets FILE) on arbitrary files.
 *
 * targets_load either returns targets or NULL with problems, one "FILE: ..."
 * line each, and never a value: the environment the references read holds
 * secrets (in a URL's userinfo and query, in a header value with a line break),
 * and none may show in err unless the file itself spells it.  What loads is
 * well formed: at least one API, each known, once, with an http(s) URL that
 * url_build takes, headers that targets_check_header passes (no two of one
 * name), variable names [A-Za-z_][A-Za-z0-9_]* once each; targets_find and
 * target_api_var find each; targets_describe works.  Never a crash or a leak.
 */

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/buf.h"
#include "fuzz/fuzz.h"
#include "fuzz/fuzz_file.h"
#include "runner/targets.h"
#include "runner/url.h"

static struct fuzz_file file;
static const char *const known[] = { "botchat", "deepwiki", "threads", "widget", "my-suite_2" };
static const char *const secrets[] = { "s3cr3t", "pa55w0rd", "qu3ry" };

static bool var_name(const char *s)
{
	if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
		return false;
	for (s++; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_' || (*s >= '0' && *s <= '9')))
			return false;
	return true;
}

static void check_loaded(const struct targets *t, const char *path)
{
	FUZZ_CHECK(t->n >= 1 && t->n <= TARGETS_MAX_APIS, "%zu APIs", t->n);
	FUZZ_CHECK(t->path && strcmp(t->path, path) == 0, "the path is \"%s\"", t->path ? t->path : "(null)");
	for (size_t i = 0; i < t->n; i++) {
		const struct target_api *a = &t->v[i];
		bool is_known = false;
		for (size_t k = 0; k < sizeof(known) / sizeof(*known); k++)
			is_known |= strcmp(known[k], a->api) == 0;
		FUZZ_CHECK(is_known, "API \"%s\" is not known", a->api);
		FUZZ_CHECK(targets_find(t, a->api) == a, "API %s is named twice", a->api);
		FUZZ_CHECK(a->url && (strncmp(a->url, "http://", 7) == 0 || strncmp(a->url, "https://", 8) == 0),
			   "API %s: URL \"%s\"", a->api, a->url ? a->url : "(null)");
		struct buf url, err;
		buf_init(&url, 1u << 22);
		buf_init(&err, 4096);
		FUZZ_CHECK(url_build(&url, a->url, "/v1/chat?x=1", NULL, &err) == 0, "url_build: %s", buf_str(&err));
		FUZZ_CHECK(strncmp(buf_str(&url), "http", 4) == 0, "built \"%s\"", buf_str(&url));
		buf_release(&url);
		for (size_t j = 0; j < a->nheaders; j++) {
			buf_reset(&err);
			FUZZ_CHECK(a->hnames[j] && a->hvalues[j], "API %s: header %zu is NULL", a->api, j);
			FUZZ_CHECK(targets_check_header(a->hnames[j], a->hvalues[j], &err) == 0,
				   "API %s: header %s is refused: %s", a->api, a->hnames[j], buf_str(&err));
			for (size_t k = 0; k < j; k++)
				FUZZ_CHECK(strcasecmp(a->hnames[j], a->hnames[k]) != 0, "API %s: header %s twice", a->api,
					   a->hnames[j]);
		}
		buf_release(&err);
		for (size_t j = 0; j < a->nvars; j++) {
			FUZZ_CHECK(a->names[j] && a->values[j] && var_name(a->names[j]) && strlen(a->names[j]) <= 256,
				   "API %s: variable %zu \"%s\"", a->api, j, a->names[j] ? a->names[j] : "(null)");
			FUZZ_CHECK(target_api_var(a, a->names[j]) == a->values[j], "API %s: variable %s is set twice",
				   a->api, a->names[j]);
		}
	}
	FUZZ_CHECK(!targets_find(t, "no-such-api"), "an API the file does not name is found");
	struct buf d;
	buf_init(&d, 1u << 24);
	targets_describe(t, &d);
	FUZZ_CHECK(strncmp(buf_str(&d), "targets ", 8) == 0, "described as \"%s\"", buf_str(&d));
	buf_release(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool setup;
	if (!setup) {
		/* What ${env:...} may reach: the values are secrets (docs/ci.md). */
		setenv("FUZZ_SECRET", "s3cr3t-v4lue", 1);
		setenv("FUZZ_URL", "https://us3r:pa55w0rd@example.test/base?k=qu3ry#f", 1);
		setenv("FUZZ_CTRL", "bad\r\nvalue-s3cr3t", 1);
		setenv("FUZZ_EMPTY", "", 1);
		setup = true;
	}
	if (size > TARGETS_MAX_FILE + 16)
		return 0;
	const char *path = fuzz_file_put(&file, "fuzz-targets.json", data, size);
	struct buf err;
	buf_init(&err, 1u << 22);
	struct targets *t = targets_load(path, known, sizeof(known) / sizeof(*known), &err);
	if (t) {
		FUZZ_CHECK(err.len == 0, "loaded with messages: %s", buf_str(&err));
		check_loaded(t, path);
		targets_free(t);
	} else {
		const char *p = buf_str(&err);
		size_t plen = strlen(path);
		FUZZ_CHECK(err.len > 0 && err.data[err.len - 1] == '\n', "refused without a message line: \"%s\"", p);
		for (const char *eol; *p; p = eol + 1) {
			eol = strchr(p, '\n');
			FUZZ_CHECK(strncmp(p, path, plen) == 0 && p[plen] == ':',
				   "a message that does not name the file: %.*s", (int)(eol - p), p);
		}
	}
	for (size_t i = 0; i < sizeof(secrets) / sizeof(*secrets); i++)
		FUZZ_CHECK(memmem(data, size, secrets[i], strlen(secrets[i])) || !strstr(buf_str(&err), secrets[i]),
			   "a secret from the environment is in the messages: %s", buf_str(&err));
	buf_release(&err);
	return 0;
}
