/* telnet_iac.h
 * The telnet IAC state machine (RFC 854, 855): classifies each byte a client
 * or server sends as data or as part of a telnet command.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TELNET_IAC_H
#define TELNET_IAC_H

#include <glib.h>

#define TN_SE   240
#define TN_NOP  241
#define TN_DM   242
#define TN_BRK  243
#define TN_IP   244
#define TN_AO   245
#define TN_AYT  246
#define TN_EC   247
#define TN_EL   248
#define TN_GA   249
#define TN_SB   250
#define TN_WILL 251
#define TN_WONT 252
#define TN_DO   253
#define TN_DONT 254
#define TN_IAC  255

/* A subnegotiation longer than this without IAC SE is abandoned, so that a
 * stray IAC SB in 8-bit data cannot swallow the rest of a session. */
#define TN_SB_MAX 1024

typedef enum {
    TN_S_DATA = 0,  /* between commands */
    TN_S_IAC,       /* after IAC */
    TN_S_OPTION,    /* after IAC WILL/WONT/DO/DONT: the option byte comes next */
    TN_S_SB,        /* inside IAC SB ... */
    TN_S_SB_IAC     /* after IAC inside a subnegotiation */
} tn_state_t;

/* The whole machine: small and copyable, so a dissector can keep its state
 * at the start of any segment. */
typedef struct {
    guint8 state;   /* tn_state_t */
    guint8 cmd;     /* WILL/WONT/DO/DONT waiting for its option */
    guint8 sb_opt;  /* option of the subnegotiation */
    guint8 sb_have_opt;
    guint16 sb_len; /* bytes inside the subnegotiation so far */
} tn_machine_t;

typedef enum {
    TN_DATA,       /* an ordinary data byte */
    TN_DATA_FF,    /* the second byte of IAC IAC: a literal 0xFF data byte */
    TN_PART,       /* part of a telnet command not yet complete */
    TN_COMMAND,    /* completes a telnet command, described in *cmd */
    TN_SB_ABORTED, /* a subnegotiation ran over TN_SB_MAX bytes and is abandoned */
    TN_NOT_COMMAND /* this byte follows an IAC but is no telnet command (below SE, 240):
                      the IAC (0xFF) and this byte are two data bytes */
} tn_class_t;

typedef struct {
    guint8 cmd;    /* TN_DO, TN_EC, TN_SB, ... (240 to 254) */
    gint16 option; /* the option of WILL/WONT/DO/DONT/SB, -1 when none */
    guint16 length; /* bytes of the whole command, IAC included (capped) */
} tn_command_t;

void tn_init(tn_machine_t *m);

/* Feeds one byte; returns its class and, for TN_COMMAND, fills *cmd. */
tn_class_t tn_step(tn_machine_t *m, guint8 b, tn_command_t *cmd);

/* "DO", "EC", ...; NULL for a byte that is not a telnet command. */
const char *tn_command_name(guint8 cmd);

/* The option's name ("ECHO", "Suppress Go Ahead", ...); NULL when unassigned. */
const char *tn_option_name(guint8 option);

#endif /* TELNET_IAC_H */
