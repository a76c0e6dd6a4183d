/*
 * apis: the documented APIs mockd serves, one file each in mockd/apis/.
 *
 * An API registers its routes and answers errors in its own envelope; the
 * core uses that for 404, 405, 413 and 400 on paths the API owns.
 */
#ifndef CC_MOCKD_APIS_H
#define CC_MOCKD_APIS_H

#include "mockd/http.h"

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

/* The API a name names ("widget"), or NULL. */
const struct api *api_by_name(const char *name);
/* The API that owns a path, or NULL. */
const struct api *api_for_path(const char *path);

#endif
