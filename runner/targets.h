/*
 * targets: a real deployment described per API (--targets FILE).
 *
 *   {"apis": {"widget": {"url": "https://chat.example.com",
 *                        "vars": {"KEY": "${env:WIDGET_KEY}", "KEY2": "${env:WIDGET_KEY_2|}"}}}}
 *
 * Each API's suites run against its url; its vars override the suite's
 * variables of the same name.  Values may only reference environment
 * variables (${env:NAME} or ${env:NAME|default}), so a targets file can be
 * committed while the credentials stay in CI secrets.  The expanded values are
 * secrets: they are never printed (describe and errors name the file, the APIs
 * and the URLs without userinfo or query).
 */
#ifndef CC_RUNNER_TARGETS_H
#define CC_RUNNER_TARGETS_H

#include <stddef.h>

#include "common/buf.h"

#define TARGETS_MAX_FILE (1u << 20)   /* bytes of a targets file */
#define TARGETS_MAX_APIS 64

struct target_api {
	char *api;        /* "widget" */
	char *url;        /* the base URL, expanded */
	char **names;     /* the vars, expanded: names[i] = values[i] */
	char **values;    /* secrets: never printed */
	size_t nvars;
};

struct targets {
	char *path;       /* the file, as given */
	struct target_api *v;
	size_t n;
};

/* Load and expand path; NULL with "path: where: what" in err (never a value). */
struct targets *targets_load(const char *path, struct buf *err);
void targets_free(struct targets *t);
/* The entry of api, or NULL when the file does not name it. */
const struct target_api *targets_find(const struct targets *t, const char *api);
/* The expanded value of var name for this API, or NULL when the file does not set it. */
const char *target_api_var(const struct target_api *a, const char *name);
/* "targets FILE: api URL, api URL" with each URL as targets_display_url shows it. */
void targets_describe(const struct targets *t, struct buf *out);
/* Append url without its userinfo, query and fragment: what reports may show of a target. */
void targets_display_url(struct buf *out, const char *url);

#endif
