/* escape.h
 * How keystrokes and lines are written for display and for filters.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef ESCAPE_H
#define ESCAPE_H

#include <glib.h>
#include <wsutil/wmem/wmem.h>

#include "telnet_iac.h"

/* Printable ASCII as it is; \r \n \t \0 \b \\ for CR, LF, TAB, NUL, BS and
 * backslash; every other byte as \xhh (lower-case hex). */
char *esc_bytes(wmem_allocator_t *scope, const guint8 *buf, size_t len);

/* A segment's keystrokes: escaped as esc_bytes, except BS as <BS>, DEL as
 * <DEL>, and each telnet command as <IAC DO ECHO>. *tn is the telnet state
 * at the segment's first byte; it is advanced over the segment. A command
 * still incomplete at the end is shown with what is known of it and "...". */
char *esc_keystrokes(wmem_allocator_t *scope, tn_machine_t *tn, const guint8 *buf, size_t len);

/* A telnet command for display: "<IAC DO ECHO>", "<IAC EC>", "<IAC DO Option 200>". */
char *esc_telnet_command(wmem_allocator_t *scope, const tn_command_t *cmd);

/* The telnet commands in a line's bytes, for messages: the first `max` as
 * "<IAC AYT><IAC BRK>", then "..."; NULL when it holds none. */
char *esc_line_telnet_commands(wmem_allocator_t *scope, const guint8 *buf, size_t len, guint max);

/* An option's name, or "Option N" when unassigned. */
char *esc_telnet_option(wmem_allocator_t *scope, guint8 option);

/* A command's name, or "0xhh" for a byte that is not one. */
char *esc_telnet_command_name(wmem_allocator_t *scope, guint8 cmd);

/* A JSON string literal (quotes included) of a NUL-terminated string;
 * control characters as \uXXXX. */
char *esc_json(wmem_allocator_t *scope, const char *s);

#endif /* ESCAPE_H */
