/* telnet_iac.c
 * The telnet IAC state machine (RFC 854, 855) and the names of telnet
 * commands and options (IANA "Telnet Options" registry).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "telnet_iac.h"

void
tn_init(tn_machine_t *m)
{
    m->state = TN_S_DATA;
    m->cmd = 0;
    m->sb_opt = 0;
    m->sb_have_opt = 0;
    m->sb_len = 0;
}

/* The byte after IAC, outside a subnegotiation. */
static tn_class_t
tn_after_iac(tn_machine_t *m, guint8 b, tn_command_t *cmd)
{
    switch (b) {
    case TN_IAC:
        m->state = TN_S_DATA;
        return TN_DATA_FF;
    case TN_WILL:
    case TN_WONT:
    case TN_DO:
    case TN_DONT:
        m->state = TN_S_OPTION;
        m->cmd = b;
        return TN_PART;
    case TN_SB:
        m->state = TN_S_SB;
        m->sb_have_opt = 0;
        m->sb_len = 0;
        return TN_PART;
    default:
        m->state = TN_S_DATA;
        /* A byte below SE names no command: an 8-bit 0xFF in data that a
         * client did not double. Neither byte is a telnet command. */
        if (b < TN_SE)
            return TN_NOT_COMMAND;
        /* NOP, DM, BRK, IP, AO, AYT, EC, EL, GA or a stray SE: two bytes. */
        cmd->cmd = b;
        cmd->option = -1;
        cmd->length = 2;
        return TN_COMMAND;
    }
}

tn_class_t
tn_step(tn_machine_t *m, guint8 b, tn_command_t *cmd)
{
    switch (m->state) {
    case TN_S_DATA:
        if (b == TN_IAC) {
            m->state = TN_S_IAC;
            return TN_PART;
        }
        return TN_DATA;
    case TN_S_IAC:
        return tn_after_iac(m, b, cmd);
    case TN_S_OPTION:
        m->state = TN_S_DATA;
        cmd->cmd = m->cmd;
        cmd->option = b;
        cmd->length = 3;
        return TN_COMMAND;
    case TN_S_SB:
        if (b == TN_IAC) {
            m->state = TN_S_SB_IAC;
            return TN_PART;
        }
        if (!m->sb_have_opt) {
            m->sb_opt = b;
            m->sb_have_opt = 1;
        }
        if (++m->sb_len > TN_SB_MAX) {
            m->state = TN_S_DATA;
            return TN_SB_ABORTED;
        }
        return TN_PART;
    case TN_S_SB_IAC:
        if (b == TN_SE) {
            m->state = TN_S_DATA;
            cmd->cmd = TN_SB;
            cmd->option = m->sb_have_opt ? m->sb_opt : -1;
            cmd->length = (guint16)(m->sb_len + 4);
            return TN_COMMAND;
        }
        if (b == TN_IAC) {
            /* IAC IAC inside a subnegotiation: a literal 0xFF parameter. */
            m->state = TN_S_SB;
            m->sb_len += 2;
            if (!m->sb_have_opt) {
                m->sb_opt = b;
                m->sb_have_opt = 1;
            }
            return TN_PART;
        }
        /* IAC followed by anything but SE or IAC ends a malformed
         * subnegotiation; the byte is read as after an IAC in data. */
        return tn_after_iac(m, b, cmd);
    default:
        tn_init(m);
        return TN_DATA;
    }
}

const char *
tn_command_name(guint8 cmd)
{
    static const char *const names[] = {
        "SE", "NOP", "DM", "BRK", "IP", "AO", "AYT", "EC",
        "EL", "GA", "SB", "WILL", "WONT", "DO", "DONT", "IAC"
    };
    if (cmd < TN_SE)
        return NULL;
    return names[cmd - TN_SE];
}

const char *
tn_option_name(guint8 option)
{
    static const char *const names[] = {
        "Binary Transmission",                       /* 0 */
        "ECHO",                                      /* 1 */
        "Reconnection",                              /* 2 */
        "Suppress Go Ahead",                         /* 3 */
        "Approx Message Size Negotiation",           /* 4 */
        "Status",                                    /* 5 */
        "Timing Mark",                               /* 6 */
        "Remote Controlled Trans and Echo",          /* 7 */
        "Output Line Width",                         /* 8 */
        "Output Page Size",                          /* 9 */
        "Output Carriage-Return Disposition",        /* 10 */
        "Output Horizontal Tab Stops",               /* 11 */
        "Output Horizontal Tab Disposition",         /* 12 */
        "Output Formfeed Disposition",               /* 13 */
        "Output Vertical Tabstops",                  /* 14 */
        "Output Vertical Tab Disposition",           /* 15 */
        "Output Linefeed Disposition",               /* 16 */
        "Extended ASCII",                            /* 17 */
        "Logout",                                    /* 18 */
        "Byte Macro",                                /* 19 */
        "Data Entry Terminal",                       /* 20 */
        "SUPDUP",                                    /* 21 */
        "SUPDUP Output",                             /* 22 */
        "Send Location",                             /* 23 */
        "Terminal Type",                             /* 24 */
        "End of Record",                             /* 25 */
        "TACACS User Identification",                /* 26 */
        "Output Marking",                            /* 27 */
        "Terminal Location Number",                  /* 28 */
        "Telnet 3270 Regime",                        /* 29 */
        "X.3 PAD",                                   /* 30 */
        "Negotiate About Window Size",               /* 31 */
        "Terminal Speed",                            /* 32 */
        "Remote Flow Control",                       /* 33 */
        "Linemode",                                  /* 34 */
        "X Display Location",                        /* 35 */
        "Environment Option",                        /* 36 */
        "Authentication Option",                     /* 37 */
        "Encryption Option",                         /* 38 */
        "New Environment Option",                    /* 39 */
        "TN3270E",                                   /* 40 */
        "XAUTH",                                     /* 41 */
        "CHARSET",                                   /* 42 */
        "Telnet Remote Serial Port",                 /* 43 */
        "Com Port Control Option",                   /* 44 */
        "Telnet Suppress Local Echo",                /* 45 */
        "Telnet Start TLS",                          /* 46 */
        "KERMIT",                                    /* 47 */
        "SEND-URL",                                  /* 48 */
        "FORWARD_X",                                 /* 49 */
    };
    if (option < G_N_ELEMENTS(names))
        return names[option];
    switch (option) {
    case 138: return "TELOPT PRAGMA LOGON";
    case 139: return "TELOPT SSPI LOGON";
    case 140: return "TELOPT PRAGMA HEARTBEAT";
    case 255: return "Extended-Options-List";
    default:  return NULL;
    }
}
