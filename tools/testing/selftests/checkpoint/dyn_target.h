/* SPDX-License-Identifier: GPL-2.0 */
/* What dynamic_test and its helper dyn_target share */
#ifndef DYN_TARGET_H
#define DYN_TARGET_H

#define DYN_TARGET		"dyn_target"
#define DYN_EXIT_NO_RSEQ	7	/* probe: glibc registered no rseq area */
#define DYN_EXIT_NO_EXEC	126	/* the test's child could not exec it */
#define DYN_ERRNO		4321	/* errno set before checkpoint(2) */

#endif /* DYN_TARGET_H */
