/* plugin.c
 * The plugin symbols of smtplab.so: its version, the Wireshark version it
 * was built for, and the registration of its protocols.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define WS_BUILD_DLL
#include <wireshark.h>
#include <epan/proto.h>
#include <epan/tap.h>

#include "packet-keystroke.h"
#include "packet-smtplab.h"
#include "tap-smtplab.h"
#include "ws_compat.h"

#ifndef VERSION
#define VERSION "0.0.0"
#endif

WS_DLL_PUBLIC_DEF const gchar plugin_version[] = VERSION;
WS_DLL_PUBLIC_DEF const int plugin_want_major = WIRESHARK_VERSION_MAJOR;
WS_DLL_PUBLIC_DEF const int plugin_want_minor = WIRESHARK_VERSION_MINOR;

WS_DLL_PUBLIC void plugin_register(void);

SMTPLAB_PLUGIN_DESCRIBE(WS_PLUGIN_DESC_DISSECTOR | WS_PLUGIN_DESC_TAP_LISTENER)

/* The tap listeners that tshark's -z and Wireshark's Statistics menu offer. */
static void
register_smtplab_tap_listeners(void)
{
    register_smtplab_stats_tree();
    register_smtplab_report();
}

void
plugin_register(void)
{
    static proto_plugin plug_keystroke;
    static proto_plugin plug_smtplab;
    static tap_plugin plug_taps;

    plug_keystroke.register_protoinfo = proto_register_keystroke;
    plug_keystroke.register_handoff = proto_reg_handoff_keystroke;
    proto_register_plugin(&plug_keystroke);
    plug_smtplab.register_protoinfo = proto_register_smtplab;
    plug_smtplab.register_handoff = proto_reg_handoff_smtplab;
    proto_register_plugin(&plug_smtplab);
    plug_taps.register_tap_listener = register_smtplab_tap_listeners;
    tap_register_plugin(&plug_taps);
}
