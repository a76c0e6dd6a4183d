#include "mockd/apis/apis.h"

#include <string.h>

#include "mockd/mockd.h"

const struct api *const all_apis[] = { &botchat_api, &deepwiki_api, &threads_api, &widget_api, &admin_api, NULL };

const struct api *api_by_name(const char *name)
{
	for (const struct api *const *a = all_apis; *a; a++)
		if ((*a)->bit != API_ADMIN && strcmp((*a)->name, name) == 0)
			return *a;
	return NULL;
}

/* A prefix ending in "/" owns everything below it; any other owns that exact path. */
static size_t owns(const char *prefix, const char *path)
{
	size_t n = strlen(prefix);
	if (n && prefix[n - 1] == '/')
		return strncmp(path, prefix, n) == 0 ? n : 0;
	return strcmp(path, prefix) == 0 ? n : 0;
}

const struct api *api_for_path(const char *path)
{
	const struct api *best = NULL;
	size_t best_len = 0;
	for (const struct api *const *a = all_apis; *a; a++) {
		if (!(mockd_cfg.apis & (*a)->bit))
			continue;
		for (const char *const *p = (*a)->prefixes; *p; p++) {
			size_t n = owns(*p, path);
			if (n > best_len) {
				best = *a;
				best_len = n;
			}
		}
	}
	return best;
}
