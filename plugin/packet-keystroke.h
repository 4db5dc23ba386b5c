/* packet-keystroke.h
 * Telnet Keystroke Reassembly: what the other smtplab layer reads of it.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef PACKET_KEYSTROKE_H
#define PACKET_KEYSTROKE_H

void proto_register_keystroke(void);
void proto_reg_handoff_keystroke(void);

#endif /* PACKET_KEYSTROKE_H */
