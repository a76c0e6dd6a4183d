/* fuzz: helpers the libFuzzer targets share (random splits, checks that abort with a message). */
#ifndef CC_FUZZ_H
#define CC_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* A failed property is a crash, so libFuzzer keeps the input that shows it. */
#define FUZZ_CHECK(cond, ...)                                                   \
	do {                                                                    \
		if (!(cond)) {                                                  \
			fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__,  \
				__LINE__, #cond);                               \
			fprintf(stderr, __VA_ARGS__);                           \
			fputc('\n', stderr);                                    \
			abort();                                                \
		}                                                               \
	} while (0)

/* A small deterministic generator, seeded from the input, that picks where to split it. */
struct fuzz_rng {
	uint64_t s;
};

static inline uint32_t fuzz_next(struct fuzz_rng *r)
{
	r->s = r->s * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint32_t)(r->s >> 33);
}

/* The size of the next piece to feed, 1..left: mostly tiny pieces, sometimes large ones. */
static inline size_t fuzz_piece(struct fuzz_rng *r, size_t left)
{
	uint32_t v = fuzz_next(r);
	size_t n = (v & 3) == 0 ? left : (v & 3) == 1 ? 1 + (v >> 8) % 64 : 1 + (v >> 8) % 4;
	return n < left ? n : left;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
