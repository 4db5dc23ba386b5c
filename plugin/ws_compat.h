/* ws_compat.h
 * The differences between the Wireshark versions smtplab builds against
 * (4.0, 4.4, 4.6), in one place. The code is written against the newest API;
 * this header supplies it on older versions, chosen by Wireshark's own
 * version macros (ws_version.h). It includes no epan header (only
 * ws_version.h, and wsutil/plugins.h on 4.2+), so the pure-logic files may
 * include it too.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef WS_COMPAT_H
#define WS_COMPAT_H

#include <ws_version.h>

/* TRUE when building against Wireshark major.minor or later. */
#define SMTPLAB_WS_AT_LEAST(major, minor)                                                                              \
    (WIRESHARK_VERSION_MAJOR > (major) || (WIRESHARK_VERSION_MAJOR == (major) && WIRESHARK_VERSION_MINOR >= (minor)))

/* 4.2 renamed wmem_strbuf_sized_new(scope, alloc_len, max_len) to
 * wmem_strbuf_new_sized(scope, alloc_size) and dropped the length limit
 * (max_len 0 meant "no limit" before). */
#if !SMTPLAB_WS_AT_LEAST(4, 2)
#define wmem_strbuf_new_sized(scope, alloc_size) wmem_strbuf_sized_new((scope), (alloc_size), 0)
#endif

/* 4.6: the init callback of a stat_tap_ui (a tshark -z argument) returns
 * bool, false when the argument is refused; before it returned nothing.
 * Defines the callback `name` around `init`, a gboolean (const char *, void *). */
#if SMTPLAB_WS_AT_LEAST(4, 6)
#define SMTPLAB_STAT_TAP_INIT_CB(name, init)                                                                           \
    static bool name(const char *opt_arg, void *userdata)                                                              \
    {                                                                                                                  \
        return init(opt_arg, userdata);                                                                                \
    }
#else
#define SMTPLAB_STAT_TAP_INIT_CB(name, init)                                                                           \
    static void name(const char *opt_arg, void *userdata)                                                              \
    {                                                                                                                  \
        (void)init(opt_arg, userdata);                                                                                 \
    }
#endif

/* 4.2: a plugin says what it registers in plugin_describe() (WS_PLUGIN_DESC_*
 * flags); without it tshark -G plugins and About → Plugins list it as
 * "unknown". 4.0 has no such symbol and takes the type from what the plugin
 * registers. Expands to the definition of plugin_describe, or to nothing. */
#if SMTPLAB_WS_AT_LEAST(4, 2)
#include <wsutil/plugins.h>
#define SMTPLAB_PLUGIN_DESCRIBE(flags)                                                                                 \
    WS_DLL_PUBLIC uint32_t plugin_describe(void);                                                                      \
    uint32_t plugin_describe(void)                                                                                     \
    {                                                                                                                  \
        return (flags);                                                                                                \
    }
#else
#define SMTPLAB_PLUGIN_DESCRIBE(flags)
#endif

#endif /* WS_COMPAT_H */
