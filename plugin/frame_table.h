/* frame_table.h
 * Per-frame data kept for the whole capture, by frame number.
 *
 * ft_table_t maps a frame number to a 32-bit value (0: none), in pages of
 * FT_PAGE values allocated when a frame in them is first set: 4 bytes a
 * frame of the pages used, cheaper than p_add_proto_data (a list node and a
 * wmem chunk per frame, and a list walk per lookup) and than a pointer.
 *
 * ft_pool_t holds fixed-size records in chunks that never move, numbered
 * from 1: no allocator header per record, and a record is named by a
 * 32-bit index instead of a pointer.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef FRAME_TABLE_H
#define FRAME_TABLE_H

#include <string.h>
#include <glib.h>
#include <wsutil/wmem/wmem.h>

#define FT_PAGE_BITS 8
#define FT_PAGE (1u << FT_PAGE_BITS)

typedef struct {
    wmem_allocator_t *scope;
    guint32 **pages;   /* pages[num >> FT_PAGE_BITS], NULL until used */
    guint32 npages;
} ft_table_t;

static inline void
ft_init(ft_table_t *t, wmem_allocator_t *scope)
{
    t->scope = scope;
    t->pages = NULL;
    t->npages = 0;
}

/* The value set for frame num, or 0. */
static inline guint32
ft_get(const ft_table_t *t, guint32 num)
{
    guint32 page = num >> FT_PAGE_BITS;

    if (page >= t->npages || !t->pages[page])
        return 0;
    return t->pages[page][num & (FT_PAGE - 1)];
}

static inline void
ft_set(ft_table_t *t, guint32 num, guint32 value)
{
    guint32 page = num >> FT_PAGE_BITS;

    if (page >= t->npages) {
        guint32 n = t->npages ? t->npages : 64;
        while (n <= page)
            n *= 2;
        t->pages = (guint32 **)wmem_realloc(t->scope, t->pages, n * sizeof(guint32 *));
        memset(t->pages + t->npages, 0, (n - t->npages) * sizeof(guint32 *));
        t->npages = n;
    }
    if (!t->pages[page])
        t->pages[page] = (guint32 *)wmem_alloc0(t->scope, FT_PAGE * sizeof(guint32));
    t->pages[page][num & (FT_PAGE - 1)] = value;
}

#define FT_CHUNK_BITS 10
#define FT_CHUNK (1u << FT_CHUNK_BITS)

typedef struct {
    wmem_allocator_t *scope;
    guint8 **chunks;
    guint32 nchunks;   /* slots in chunks */
    guint32 count;     /* records handed out */
    guint32 size;      /* bytes a record */
} ft_pool_t;

static inline void
ft_pool_init(ft_pool_t *p, wmem_allocator_t *scope, guint32 size)
{
    p->scope = scope;
    p->chunks = NULL;
    p->nchunks = 0;
    p->count = 0;
    p->size = size;
}

/* Record idx (1 .. count). */
static inline void *
ft_pool_get(const ft_pool_t *p, guint32 idx)
{
    guint32 i = idx - 1;

    return p->chunks[i >> FT_CHUNK_BITS] + (size_t)(i & (FT_CHUNK - 1)) * p->size;
}

/* A new zeroed record; *idx is its index. */
static inline void *
ft_pool_add(ft_pool_t *p, guint32 *idx)
{
    guint32 i = p->count;
    guint32 chunk = i >> FT_CHUNK_BITS;

    if (chunk >= p->nchunks) {
        guint32 n = p->nchunks ? p->nchunks * 2 : 16;
        p->chunks = (guint8 **)wmem_realloc(p->scope, p->chunks, n * sizeof(guint8 *));
        memset(p->chunks + p->nchunks, 0, (n - p->nchunks) * sizeof(guint8 *));
        p->nchunks = n;
    }
    if (!p->chunks[chunk])
        p->chunks[chunk] = (guint8 *)wmem_alloc0(p->scope, (size_t)FT_CHUNK * p->size);
    p->count++;
    *idx = p->count;
    return ft_pool_get(p, p->count);
}

#endif /* FRAME_TABLE_H */
