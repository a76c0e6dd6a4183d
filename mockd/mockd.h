/*
 * mockd: the daemon's shared state and configuration.
 *
 * mockd is one libevent loop on one thread; the modules below keep their state
 * in file-level statics behind small interfaces (clock, store, ratelimit,
 * script, keys), so they can be locked or sharded later without touching the
 * API files.
 */
#ifndef CC_MOCKD_H
#define CC_MOCKD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event;
struct event_base;

#define MOCKD_MAX_BODY      (2u * 1024 * 1024)  /* larger bodies are 413 in the API's format */
#define MOCKD_HARD_MAX_BODY (8u * 1024 * 1024)  /* past this evhttp refuses the body itself */
#define MOCKD_MAX_HEADERS   (16u * 1024)

struct mockd_config {
	double time_scale;        /* every scripted delay is multiplied by this; 0 = no waiting */
	uint64_t seed;            /* seeds ids, jitter and the default answers */
	const char *admin_token;  /* when set, /__admin/ needs it and is open on every listener */
	const char *keys_path;
	const char *scripts_dir;
	unsigned apis;            /* bit set of enabled APIs (see apis/apis.h) */
	int idle_timeout_s;
	int header_timeout_s;     /* a request's head must arrive within this (guard.c) */
};

extern struct mockd_config mockd_cfg;
extern struct event_base *mockd_base;

/*
 * JSON from a client (a body, a WebSocket frame): UTF-8, one value, no \u0000
 * escape and no raw control character (a raw NUL too would cut a string in cJSON,
 * the others RFC 8259 forbids); NULL otherwise.
 */
struct cJSON *mockd_parse_json(const char *text, size_t len);
/* A pseudo-random 64-bit number from the seeded generator (deterministic for a seed). */
uint64_t mockd_rand(void);
/* Re-seed the generator (at start and on admin reset). */
void mockd_rand_seed(uint64_t seed);
/* Fill out with prefix followed by n random characters of [a-z0-9]; out must hold strlen(prefix)+n+1. */
void mockd_random_id(char *out, const char *prefix, int n);

#endif
