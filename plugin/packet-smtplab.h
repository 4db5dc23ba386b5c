/* packet-smtplab.h
 * SMTP Lab: the stage of every frame of an SMTP connection.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef PACKET_SMTPLAB_H
#define PACKET_SMTPLAB_H

#include "packet-keystroke.h"
#include "stage_machine.h"

/* What SMTP Lab queues to its tap, "smtplab", for every frame it labels. */
typedef struct {
    const sm_store_t *store;     /* where the records of the capture are */
    const sm_frame_t *frame;     /* the stage machine's record of the frame */
    sm_stage_t stage;            /* its stage, as drawn now */
    const keystroke_info_t *ks;  /* the keystroke layer's lines, NULL when it did not read the frame */
    gboolean whole;              /* the capture was read before (a later pass): what needs all of it is known */
} smtplab_tap_info_t;

void proto_register_smtplab(void);
void proto_reg_handoff_smtplab(void);

#endif /* PACKET_SMTPLAB_H */
