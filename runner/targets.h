/*
 * targets: a real deployment described per API (--targets FILE).
 *
 *   {"apis": {"widget": {"url": "https://chat.example.com",
 *                        "vars": {"KEY": "${env:WIDGET_KEY}", "KEY2": "${env:WIDGET_KEY_2|}"}},
 *             "botchat": {"url": "https://bot.example.com",
 *                         "headers": {"Authorization": "Bearer ${env:BOTCHAT_TOKEN}"}}}}
 *
 * Each API's suites run against its url; its vars override the suite's
 * variables of the same name; its headers go with every request step and
 * WebSocket handshake of its cases (over the suite's default headers, under
 * --header and the step's own headers).  The file is strict: an API name the
 * caller does not know, a member it does not expect or a value of the wrong
 * type is an error, so a typo cannot silently skip an API.  Values may only
 * reference environment variables (${env:NAME} or ${env:NAME|default}), so a
 * targets file can be committed while the credentials stay in CI secrets.  The
 * expanded values of vars and headers are secrets: they are never printed
 * (describe and errors name the file, the APIs and the URLs without userinfo
 * or query).
 */
#ifndef CC_RUNNER_TARGETS_H
#define CC_RUNNER_TARGETS_H

#include <stddef.h>

#include "common/buf.h"

#define TARGETS_MAX_FILE (1u << 20)   /* bytes of a targets file */
#define TARGETS_MAX_APIS 64
#define TARGETS_MAX_HEADERS 64        /* headers of one API */
#define TARGETS_MAX_HEADER_NAME 256   /* bytes of a header name */

struct target_api {
	char *api;        /* "widget" */
	char *url;        /* the base URL, expanded */
	char **names;     /* the vars, expanded: names[i] = values[i] */
	char **values;    /* secrets: never printed */
	size_t nvars;
	char **hnames;    /* the headers, values expanded: hnames[i]: hvalues[i] */
	char **hvalues;   /* secrets: never printed */
	size_t nheaders;
};

struct targets {
	char *path;       /* the file, as given */
	struct target_api *v;
	size_t n;
};

/*
 * Load and expand path, whose API names must be among known (nknown names: the
 * documented APIs and the loaded suites); NULL with "path: where: what" lines
 * in err (never a value).
 */
struct targets *targets_load(const char *path, const char *const *known, size_t nknown, struct buf *err);
void targets_free(struct targets *t);
/* The entry of api, or NULL when the file does not name it. */
const struct target_api *targets_find(const struct targets *t, const char *api);
/* The expanded value of var name for this API, or NULL when the file does not set it. */
const char *target_api_var(const struct target_api *a, const char *name);
/* "targets FILE: api URL, api URL" with each URL as targets_display_url shows it. */
void targets_describe(const struct targets *t, struct buf *out);
/*
 * Check a header sent on every request of a run (--header, a targets file's
 * headers): name an RFC 7230 token that chatconform does not frame itself,
 * value without control characters but tab.  0, or -1 with what is wrong in
 * why (the name may be quoted, the value never).
 */
int targets_check_header(const char *name, const char *value, struct buf *why);
/* Append url without its userinfo, query and fragment: what reports may show of a target. */
void targets_display_url(struct buf *out, const char *url);

#endif
