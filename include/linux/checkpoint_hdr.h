/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel-side additions to the checkpoint image format.
 */

#ifndef _LINUX_CHECKPOINT_HDR_H
#define _LINUX_CHECKPOINT_HDR_H

#include <uapi/linux/checkpoint_hdr.h>

/* The value of &cr_hdr_header.arch this kernel writes and accepts */
#ifdef CONFIG_X86_64
#define CR_ARCH			CR_ARCH_X86_64
#endif

#endif /* _LINUX_CHECKPOINT_HDR_H */
