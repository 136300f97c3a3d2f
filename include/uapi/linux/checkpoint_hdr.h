/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * Checkpoint/restart image format
 *
 * An image is a stream of records.  Every record starts with a &struct
 * cr_hdr giving its type and its length in bytes, header included.  The
 * next record starts at the following multiple of 8 bytes; the padding
 * bytes in between are zero.  Fields are in the byte order of the
 * architecture the image was taken on (little-endian: x86_64 is the only
 * one so far) and the layout does not depend on the compiler: only
 * fixed-size types, explicit padding, no pointers.
 *
 * An image opens with a &struct cr_hdr_header record and closes with a
 * &struct cr_hdr_tail record.  See Documentation/checkpoint/image-format.rst.
 */

#ifndef _UAPI_LINUX_CHECKPOINT_HDR_H
#define _UAPI_LINUX_CHECKPOINT_HDR_H

#include <linux/types.h>

/* "CKPT" and "TAIL" as they appear in a little-endian image */
#define CR_IMAGE_MAGIC		0x54504b43
#define CR_TAIL_MAGIC		0x4c494154

/* Bumped on any incompatible change of the format */
#define CR_IMAGE_VERSION	1

/* Values of &cr_hdr_header.arch */
#define CR_ARCH_X86_64		1

/* Records are aligned to this many bytes in the stream */
#define CR_HDR_ALIGN		8

/* Length of &cr_hdr_header.release, including the terminating NUL */
#define CR_RELEASE_LEN		65

/*
 * Longest fixed-size record restart accepts.  A record may be longer than
 * the structure the reading kernel knows, if the bytes it does not know are
 * zero (an image of a newer kernel that added fields nobody used).
 */
#define CR_FIXED_MAX_LEN	4096

/* Values of &cr_hdr.type */
#define CR_HDR_HEADER		1	/* &struct cr_hdr_header */
#define CR_HDR_TAIL		2	/* &struct cr_hdr_tail */

/**
 * struct cr_hdr - start of every record
 * @type: one of the CR_HDR_* values.
 * @len: length of the record in bytes, this header included and the
 *       padding up to the next %CR_HDR_ALIGN boundary excluded.
 */
struct cr_hdr {
	__u32 type;
	__u32 len;
};

/**
 * struct cr_const - kernel constants the image depends on
 * @task_comm_len: TASK_COMM_LEN, length of a task's command name.
 * @nsig: _NSIG, number of signals.
 * @uts_len: __NEW_UTS_LEN, length of a UTS name string.
 * @rlim_nlimits: RLIM_NLIMITS, number of resource limits.
 * @ngroups_max: NGROUPS_MAX, maximum number of supplementary groups.
 * @path_max: PATH_MAX, maximum length of a path name.
 * @reserved: must be zero.
 *
 * Restart refuses an image whose constants differ from the running
 * kernel's.
 */
struct cr_const {
	__u32 task_comm_len;
	__u32 nsig;
	__u32 uts_len;
	__u32 rlim_nlimits;
	__u32 ngroups_max;
	__u32 path_max;
	__u32 reserved[2];
};

/**
 * struct cr_hdr_header - first record of an image
 * @h: record header; type %CR_HDR_HEADER.
 * @magic: %CR_IMAGE_MAGIC.
 * @version: %CR_IMAGE_VERSION of the kernel that wrote the image.
 * @arch: CR_ARCH_* of the checkpointed tasks.
 * @page_size: page size in bytes of the kernel that wrote the image.
 * @flags: flags given to checkpoint(2).
 * @crid: checkpoint id returned by checkpoint(2); always positive.
 * @time: wall-clock time of the checkpoint, seconds since the epoch.
 * @release: kernel release string (uname -r), NUL-terminated and
 *           NUL-padded.
 * @pad: must be zero.
 * @consts: kernel constants the image depends on.
 * @reserved: must be zero.
 */
struct cr_hdr_header {
	struct cr_hdr h;
	__u32 magic;
	__u32 version;
	__u32 arch;
	__u32 page_size;
	__u32 flags;
	__s32 crid;
	__u64 time;
	__u8 release[CR_RELEASE_LEN];
	__u8 pad[7];
	struct cr_const consts;
	__u64 reserved[2];
};

/**
 * struct cr_hdr_tail - last record of an image
 * @h: record header; type %CR_HDR_TAIL.
 * @magic: %CR_TAIL_MAGIC.
 * @csum: CRC-32 (the ISO 3309 / ITU-T V.42 polynomial, as computed by
 *        zlib's crc32()) of every byte of the image before this record.
 * @nr_records: number of records before this one.
 * @length: number of bytes before this record.
 */
struct cr_hdr_tail {
	struct cr_hdr h;
	__u32 magic;
	__u32 csum;
	__u64 nr_records;
	__u64 length;
};

#endif /* _UAPI_LINUX_CHECKPOINT_HDR_H */
