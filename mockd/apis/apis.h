/*
 * apis: the documented APIs mockd serves, one file each in mockd/apis/, and
 * the one place that registers them (and the admin API) with the HTTP core.
 *
 * An API names the prefixes it owns, adds its routes with api_route, and
 * answers errors in its own envelope; apis_register hands the core an owner
 * for each (mockd/http.h), which the core uses for 404, 405, 413 and 400 on
 * the API's paths.
 */
#ifndef CC_MOCKD_APIS_H
#define CC_MOCKD_APIS_H

#include "mockd/http.h"

struct reply_plan;

struct api {
	const char *name;
	unsigned bit;                    /* its bit in mockd_cfg.apis */
	const char *const *prefixes;     /* paths it owns ("/v1/", or "/chat" exactly when no slash at the end) */
	void (*init)(void);              /* register routes */
	void (*reset)(void);             /* forget per-API state (store and counters are reset by the core) */
	/* Answer an error in the API's envelope; code may be NULL (then derived from status). */
	void (*error)(struct mreq *r, int status, const char *code, const char *message);
};

#define API_DEEPWIKI (1u << 0)
#define API_THREADS  (1u << 1)
#define API_BOTCHAT  (1u << 2)
#define API_WIDGET   (1u << 3)
#define API_ADMIN    (1u << 7)   /* always on */
#define API_ALL      (API_DEEPWIKI | API_THREADS | API_BOTCHAT | API_WIDGET)

extern const struct api botchat_api;
extern const struct api deepwiki_api;
extern const struct api threads_api;
extern const struct api widget_api;
extern const struct api admin_api;

/* Every API mockd knows, NULL-terminated. */
extern const struct api *const all_apis[];

/* The deepwiki WebSocket, a part of deepwiki kept in a file of its own: registers GET /ws/chat. */
void deepwiki_ws_init(void);

/* The API a name names ("widget"), or NULL. */
const struct api *api_by_name(const char *name);
/* The core's owner for an API (its name and error writer): the same pointer for the same API. */
const struct http_owner *api_owner(const struct api *api);
/* Mount the prefixes and register the routes of every API whose bit is in enabled. */
void apis_register(unsigned enabled);
/* Route method and pattern to handler for api (http_route with the API's owner). */
void api_route(const char *method, const char *pattern, const struct api *api, route_fn handler);
/*
 * Answer a scripted http_error fault: the rule's body as given, else the
 * owning API's error envelope with the rule's code and message (or these).
 */
void reply_fault(struct mreq *r, const struct reply_plan *plan, const char *code, const char *message);

#endif
