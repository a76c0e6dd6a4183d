/* mockd: the shared configuration and the seeded generator (scaled delays are in pace.c). */
#include "mockd/mockd.h"

#include <string.h>

#include "common/json.h"

struct mockd_config mockd_cfg = {
	.time_scale = 1.0,
	.seed = 1,
	.apis = ~0u,              /* every API (the bits are in apis/apis.h); --api narrows it */
	.idle_timeout_s = 60,
	.header_timeout_s = 5,
};
struct event_base *mockd_base;

static uint64_t rng_state = 1;

void mockd_rand_seed(uint64_t seed)
{
	rng_state = seed ? seed : 0x9E3779B97F4A7C15ULL;
}

uint64_t mockd_rand(void)
{
	/* splitmix64: one multiply-xorshift chain per call, good enough for ids and jitter. */
	uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

void mockd_random_id(char *out, const char *prefix, int n)
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	size_t p = strlen(prefix);
	memcpy(out, prefix, p);
	for (int i = 0; i < n; i++)
		out[p + i] = alphabet[mockd_rand() % (sizeof(alphabet) - 1)];
	out[p + n] = '\0';
}


cJSON *mockd_parse_json(const char *text, size_t len)
{
	if (!text || json_text_has_nul(text, len) || json_text_has_control(text, len))
		return NULL;
	return json_parse_exact(text, len);
}
