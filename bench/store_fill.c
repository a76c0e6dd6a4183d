/*
 * store_fill: the cost of one conversation in mockd's store, empty and full.
 *
 * Inserts N conversations straight into the store (no HTTP), each with a
 * lookup key and one message, as a widget request does; past
 * STORE_MAX_CONVERSATIONS every insert also evicts one.  It times the first W
 * inserts (an empty store, no eviction) and the last W (a full store, one
 * eviction each) and prints one JSON object with the time per insert of each
 * and their ratio last/first: about 1 when upkeep is O(1), about N/W-ish and
 * growing with the cap when eviction scans.  Runs in-process, no network.
 *
 *     store_fill [-n total] [-w window]     (defaults 200000 and 50000)
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "mockd/store.h"

#define MAX_TOTAL 10000000

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One request's worth of store work: a new conversation found by its lookup, one message. */
static int insert(long i)
{
	char id[32], lookup[32];
	snprintf(id, sizeof(id), "conv-%ld", i);
	snprintf(lookup, sizeof(lookup), "sess-%ld", i);
	struct conversation *c = store_create("widget", id, "", lookup);
	if (!c || store_lookup("widget", lookup) != c)
		return -1;
	return store_add_message(c, "user", "hello", i, NULL) ? 0 : -1;
}

static double timed(long from, long to)
{
	double t0 = now_s();
	for (long i = from; i < to; i++)
		if (insert(i) < 0) {
			fprintf(stderr, "store_fill: insert %ld failed\n", i);
			exit(1);
		}
	return now_s() - t0;
}

int main(int argc, char **argv)
{
	long total = 200000, window = 50000;
	int opt;
	while ((opt = getopt(argc, argv, "n:w:h")) != -1) {
		switch (opt) {
		case 'n':
			total = strtol(optarg, NULL, 10);
			break;
		case 'w':
			window = strtol(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr, "usage: store_fill [-n total] [-w window]\n");
			return opt == 'h' ? 0 : 2;
		}
	}
	if (window < 1 || window > STORE_MAX_CONVERSATIONS || total > MAX_TOTAL ||
	    total < STORE_MAX_CONVERSATIONS + window) {
		fprintf(stderr, "store_fill: need 1 <= window <= %d and cap + window <= total <= %d\n",
			STORE_MAX_CONVERSATIONS, MAX_TOTAL);
		return 2;
	}
	double first = timed(0, window);
	timed(window, total - window);
	double last = timed(total - window, total);
	if (store_count() != STORE_MAX_CONVERSATIONS) {
		fprintf(stderr, "store_fill: %zu conversations held, expected %d\n", store_count(),
			STORE_MAX_CONVERSATIONS);
		return 1;
	}
	printf("{\"total\": %ld, \"window\": %ld, \"cap\": %d, \"first_us\": %.3f, \"last_us\": %.3f, "
	       "\"ratio\": %.2f}\n",
	       total, window, STORE_MAX_CONVERSATIONS, first / (double)window * 1e6, last / (double)window * 1e6,
	       last / first);
	store_reset();
	return 0;
}
