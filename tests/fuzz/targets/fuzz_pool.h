/* fuzz_pool.h
 * The wmem pool a libFuzzer target allocates from, made once in
 * LLVMFuzzerInitialize. Include it in one file of a target only.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef FUZZ_POOL_H
#define FUZZ_POOL_H

#include <wsutil/wmem/wmem.h>

static wmem_allocator_t *pool;

int LLVMFuzzerInitialize(int *argc, char ***argv);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    pool = wmem_allocator_new(WMEM_ALLOCATOR_SIMPLE);
    return 0;
}

#endif /* FUZZ_POOL_H */
