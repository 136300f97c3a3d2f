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

/*
 * Longest fixed-size record restart accepts.  A record may be longer than
 * the structure this kernel knows, if the bytes it does not know are zero
 * (an image of a newer kernel that added fields nobody used).
 */
#define CR_FIXED_MAX_LEN	4096

#endif /* _LINUX_CHECKPOINT_HDR_H */
