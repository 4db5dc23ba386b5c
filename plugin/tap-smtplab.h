/* tap-smtplab.h
 * What listens to the "smtplab" tap: the statistics tree (-z smtplab,tree
 * and Statistics → SMTP Lab), the per-session report (-z smtplab,report and
 * -z smtplab,report,json), and the "SMTP Lab" flow graph.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TAP_SMTPLAB_H
#define TAP_SMTPLAB_H

/* From the tap plugin registration (plugin.c). */
void register_smtplab_stats_tree(void);
void register_smtplab_report(void);

/* From proto_register_smtplab, where Wireshark's headers have
 * epan/sequence_analysis.h (SMTPLAB_HAVE_SEQUENCE_ANALYSIS). */
void register_smtplab_flow(int proto_smtplab);

#endif /* TAP_SMTPLAB_H */
