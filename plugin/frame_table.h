/* frame_table.h
 * Per-frame pointers kept for the whole capture, by frame number: pages of
 * FT_PAGE slots allocated when a frame in them is first set. Cheaper than
 * p_add_proto_data (a list node and a wmem chunk per frame, and a list
 * walk per lookup) for data kept on most frames of a connection.
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
    void ***pages;   /* pages[num >> FT_PAGE_BITS], NULL until used */
    guint32 npages;
} ft_table_t;

static inline void
ft_init(ft_table_t *t, wmem_allocator_t *scope)
{
    t->scope = scope;
    t->pages = NULL;
    t->npages = 0;
}

/* The pointer set for frame num, or NULL. */
static inline void *
ft_get(const ft_table_t *t, guint32 num)
{
    guint32 page = num >> FT_PAGE_BITS;

    if (page >= t->npages || !t->pages[page])
        return NULL;
    return t->pages[page][num & (FT_PAGE - 1)];
}

static inline void
ft_set(ft_table_t *t, guint32 num, void *p)
{
    guint32 page = num >> FT_PAGE_BITS;

    if (page >= t->npages) {
        guint32 n = t->npages ? t->npages : 64;
        while (n <= page)
            n *= 2;
        t->pages = (void ***)wmem_realloc(t->scope, t->pages, n * sizeof(void **));
        memset(t->pages + t->npages, 0, (n - t->npages) * sizeof(void **));
        t->npages = n;
    }
    if (!t->pages[page])
        t->pages[page] = (void **)wmem_alloc0(t->scope, FT_PAGE * sizeof(void *));
    t->pages[page][num & (FT_PAGE - 1)] = p;
}

#endif /* FRAME_TABLE_H */
