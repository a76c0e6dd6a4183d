/*
 * vars: the variables of a run, a suite and a case, and ${...} expansion.
 *
 * A scope holds name -> JSON value and falls back to its parent (case -> suite
 * -> run).  Expansion forms, in any string of a request, expectation or capture:
 *   ${NAME}               the variable's value (strings as-is, other JSON printed)
 *   ${env:NAME|default}   an environment variable, or the default (may be empty)
 *   $${                   a literal "${"
 * A string that is exactly "${NAME}" expands to the variable's JSON value with
 * its type (so a captured number stays a number).  An unknown name is an error.
 */
#ifndef CC_RUNNER_VARS_H
#define CC_RUNNER_VARS_H

#include <cjson/cJSON.h>

#include "common/buf.h"

struct vars;

/* A new empty scope over parent (which must outlive it; may be NULL). */
struct vars *vars_new(const struct vars *parent);
void vars_free(struct vars *v);
/* Set name to value in this scope; takes ownership of value. */
void vars_set(struct vars *v, const char *name, cJSON *value);
/* Set name to a string value in this scope. */
void vars_set_string(struct vars *v, const char *name, const char *value);
/* The value of name in this scope or a parent; NULL when unset. */
const cJSON *vars_get(const struct vars *v, const char *name);
/* Expand a string; NULL with a message in err when a reference is unknown or malformed. Caller frees. */
char *vars_expand_string(const struct vars *v, const char *s, struct buf *err);
/* Deep copy of tmpl with every string (values, not keys) expanded; NULL with err on failure. */
cJSON *vars_expand_json(const struct vars *v, const cJSON *tmpl, struct buf *err);
/* Check the ${...} syntax of a template without expanding it (for the loader); 0, or -1 with err. */
int vars_check(const char *s, struct buf *err);

#endif
