/*
 * timeouts: the four limits of an exchange, shared by the suite format (where
 * 0 means "inherit") and the clients (where every field is resolved).
 */
#ifndef CC_RUNNER_TIMEOUTS_H
#define CC_RUNNER_TIMEOUTS_H

/* Per-step timeouts in seconds; 0 means "inherit" (step -> suite defaults -> --timeout). */
struct timeouts {
	double connect;
	double first_byte;
	double idle;
	double total;
};

#endif
