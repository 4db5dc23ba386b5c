/* fuzz_tcp_locate.c
 * libFuzzer target for finding a known TCP segment's header in a frame's
 * bytes (tcp_locate.c).
 *
 * Input: one byte whose low bit picks IPv6, the source and destination
 * addresses (4 or 16 bytes each), the source and destination ports (2
 * bytes each, big endian), then the frame's bytes.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdint.h>
#include <string.h>

#include <glib.h>

#include "fuzz_check.h"
#include "tcp_locate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int family;
    size_t alen, hdr;
    guint16 sport, dport;
    guint8 *frame;
    size_t flen;
    tl_tcp_t th;

    if (size < 1)
        return 0;
    family = (data[0] & 1) ? 6 : 4;
    alen = family == 4 ? 4 : 16;
    hdr = 1 + 2 * alen + 4;
    if (size < hdr)
        return 0;
    sport = (guint16)(data[1 + 2 * alen] << 8 | data[2 + 2 * alen]);
    dport = (guint16)(data[3 + 2 * alen] << 8 | data[4 + 2 * alen]);
    /* The frame in a buffer of its own size, so that a read past its end
     * is caught. */
    flen = size - hdr;
    frame = (guint8 *)g_malloc(flen ? flen : 1);
    memcpy(frame, data + hdr, flen);

    memset(&th, 0, sizeof th);
    if (tl_find_tcp(frame, flen, family, data + 1, data + 1 + alen, sport, dport, &th)) {
        size_t scan = MIN(flen, (size_t)TL_SCAN_MAX);
        /* Some copy of the ports lies in the scanned bytes. */
        FUZZ_CHECK(scan >= (family == 4 ? 40u : 60u));
        FUZZ_CHECK(th.payload_len <= 65535u + 65535u);
    }
    g_free(frame);
    return 0;
}
