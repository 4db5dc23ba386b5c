/* packet-smtplab.h
 * SMTP Lab: the stage of every frame of an SMTP connection.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef PACKET_SMTPLAB_H
#define PACKET_SMTPLAB_H

void proto_register_smtplab(void);
void proto_reg_handoff_smtplab(void);

#endif /* PACKET_SMTPLAB_H */
