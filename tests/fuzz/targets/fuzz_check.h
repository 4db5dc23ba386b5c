/* fuzz_check.h
 * What the libFuzzer targets share: a check that aborts (libFuzzer then
 * keeps the input), and a small deterministic random generator.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef FUZZ_CHECK_H
#define FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define FUZZ_CHECK(cond)                                                                        \
    do {                                                                                        \
        if (!(cond)) {                                                                          \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);           \
            abort();                                                                            \
        }                                                                                       \
    } while (0)

/* xorshift32: segment boundaries and the like, from a seed in the input. */
static inline unsigned
fuzz_rand(unsigned *state)
{
    unsigned x = *state ? *state : 0x9e3779b9u;

    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    return x;
}

#endif /* FUZZ_CHECK_H */
