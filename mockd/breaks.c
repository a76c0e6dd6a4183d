#include "mockd/breaks.h"

#include <string.h>

#include <cjson/cJSON.h>

struct break_def {
	const char *name;
	const char *api;
	const char *rule;
};

static const struct break_def catalog[BRK_COUNT] = {
#define BREAK_DEF(id, name, api, rule) [BRK_##id] = { name, api, rule },
	BREAKS(BREAK_DEF)
	HELD_BREAKS(BREAK_DEF)
#undef BREAK_DEF
};

static bool active[BRK_COUNT];

bool break_on(enum break_id id)
{
	return active[id];
}

int breaks_enable(const char *name)
{
	for (int i = 0; i < BRK_COUNT; i++) {
		if (strcmp(catalog[i].name, name) == 0) {
			active[i] = true;
			return 0;
		}
	}
	return -1;
}

void breaks_list(FILE *out)
{
	for (int i = 0; i < BRK_COUNT; i++)
		fprintf(out, "%-28s %-9s %s\n", catalog[i].name, catalog[i].api, catalog[i].rule);
}

cJSON *breaks_active_json(void)
{
	cJSON *a = cJSON_CreateArray();
	for (int i = 0; i < BRK_COUNT; i++)
		if (active[i])
			cJSON_AddItemToArray(a, cJSON_CreateString(catalog[i].name));
	return a;
}
