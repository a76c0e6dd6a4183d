#include "mockd/apis/apis.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "mockd/script.h"

const struct api *const all_apis[] = { &botchat_api, &deepwiki_api, &threads_api, &widget_api, &admin_api, NULL };

#define NAPIS (sizeof(all_apis) / sizeof(all_apis[0]) - 1)

/*
 * Parts of an API kept in files of their own, registered after the API's own
 * routes: here rather than in the API's init, so that neither file of the API
 * needs the other's registration (deepwiki_ws.c uses deepwiki.c, not back).
 */
static const struct {
	const struct api *api;
	void (*init)(void);
} parts[] = {
	{ &deepwiki_api, deepwiki_ws_init },
};

/* One owner per API, at the API's index in all_apis. */
static struct http_owner owners[NAPIS];

const struct api *api_by_name(const char *name)
{
	for (const struct api *const *a = all_apis; *a; a++)
		if ((*a)->bit != API_ADMIN && strcmp((*a)->name, name) == 0)
			return *a;
	return NULL;
}

const struct http_owner *api_owner(const struct api *api)
{
	for (size_t i = 0; i < NAPIS; i++)
		if (all_apis[i] == api) {
			/* Filled here rather than statically: an API's fields are not constant expressions. */
			owners[i] = (struct http_owner){ api->name, api->error };
			return &owners[i];
		}
	log_error("api %s is not in all_apis", api->name);
	abort(); /* a programming error, found at start-up */
}

void api_route(const char *method, const char *pattern, const struct api *api, route_fn handler)
{
	http_route(method, pattern, api_owner(api), handler);
}

void apis_register(unsigned enabled)
{
	for (const struct api *const *a = all_apis; *a; a++) {
		if (!(enabled & (*a)->bit))
			continue;
		for (const char *const *p = (*a)->prefixes; *p; p++)
			http_mount(*p, api_owner(*a));
		(*a)->init();
		for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
			if (parts[i].api == *a)
				parts[i].init();
	}
}

void reply_fault(struct mreq *r, const struct reply_plan *plan, const char *code, const char *message)
{
	if (plan->fault_body)
		reply_json(r, plan->fault_status, cJSON_Duplicate(plan->fault_body, 1));
	else if (r->owner && r->owner->error)
		r->owner->error(r, plan->fault_status, plan->fault_code ? plan->fault_code : code,
				plan->fault_message ? plan->fault_message : message);
	else
		reply_raw(r, plan->fault_status, NULL, "", 0);
}
