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

/*
 * Flags of checkpoint(2) and restart(2) common to both.
 *
 * CR_FLAG_LOGFD: bits 32 to 63 of the flags hold a file descriptor open for
 * writing (use CR_LOGFD()).  When the call fails, the kernel writes to it
 * one line saying why: "checkpoint: " or "restart: ", the error, and what
 * was refused (a task, fd, address or record), then a newline.  Nothing is
 * written when the call succeeds.  The descriptor must not be the image's.
 */
#define CR_FLAG_LOGFD		(1UL << 31)
#define CR_LOGFD_SHIFT		32
#define CR_LOGFD(fd)		(CR_FLAG_LOGFD | \
				 ((unsigned long)(__u32)(fd) << CR_LOGFD_SHIFT))

/*
 * Flags of checkpoint(2).
 *
 * CR_CHECKPOINT_TREE: save the process @pid and all its descendants, each
 * stopped or frozen, in one image (see &struct cr_hdr_tree).
 */
#define CR_CHECKPOINT_TREE	(1U << 0)

/* Values of &cr_hdr.type */
#define CR_HDR_HEADER		1	/* &struct cr_hdr_header */
#define CR_HDR_TAIL		2	/* &struct cr_hdr_tail */
#define CR_HDR_TASK		3	/* &struct cr_hdr_task */
#define CR_HDR_CREDS		4	/* &struct cr_hdr_creds, then groups */
#define CR_HDR_CWD		5	/* path of the working directory */
#define CR_HDR_SIGHAND		6	/* &struct cr_hdr_sighand */
#define CR_HDR_CPU		7	/* &struct cr_hdr_cpu */
#define CR_HDR_XSTATE		8	/* &struct cr_hdr_xstate, then xsave area */
#define CR_HDR_MM		9	/* &struct cr_hdr_mm */
#define CR_HDR_EXE		10	/* path of the executable */
#define CR_HDR_VMA		11	/* &struct cr_hdr_vma */
#define CR_HDR_VMA_PATH		12	/* path of the file a VMA maps */
#define CR_HDR_PAGES		13	/* &struct cr_hdr_pages, addresses, pages */
#define CR_HDR_FILES		14	/* &struct cr_hdr_files */
#define CR_HDR_FD		15	/* &struct cr_hdr_fd */
#define CR_HDR_FILE		16	/* &struct cr_hdr_file */
#define CR_HDR_FILE_PATH	17	/* path of an open file */
#define CR_HDR_SIGNAL		18	/* &struct cr_hdr_signal */
#define CR_HDR_SIGINFO		19	/* &struct cr_hdr_siginfo */
#define CR_HDR_RESTART_BLOCK	20	/* &struct cr_hdr_restart_block */
#define CR_HDR_SHMEM		22	/* &struct cr_hdr_shmem */
#define CR_HDR_SHMEM_PAGES	23	/* &struct cr_hdr_pages, offsets, pages */
#define CR_HDR_ROOT		24	/* path of the root directory */
#define CR_HDR_TREE		25	/* &struct cr_hdr_tree */
#define CR_HDR_PROC		26	/* &struct cr_hdr_proc */
#define CR_HDR_PIPE		27	/* &struct cr_hdr_pipe, then its data */
#define CR_HDR_ZOMBIE		28	/* &struct cr_hdr_zombie */
#define CR_HDR_UTS		29	/* &struct cr_hdr_uts */
#define CR_HDR_SHARES		30	/* &struct cr_hdr_shares */
#define CR_HDR_SHARE		31	/* &struct cr_hdr_share */
#define CR_HDR_COW_PAGES	32	/* &struct cr_hdr_pages, addresses */

/*
 * Longest path in a path record (CR_HDR_ROOT, CR_HDR_CWD, CR_HDR_EXE,
 * CR_HDR_VMA_PATH, CR_HDR_FILE_PATH)
 */
#define CR_PATH_MAX		4096

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

/**
 * struct cr_rlimit - one resource limit
 * @cur: soft limit; RLIM_INFINITY is ~0.
 * @max: hard limit.
 */
struct cr_rlimit {
	__u64 cur;
	__u64 max;
};

/* Number of resource limits in &struct cr_hdr_task */
#define CR_RLIM_NLIMITS		16

/**
 * struct cr_hdr_task - state of a task
 * @h: record header; type %CR_HDR_TASK.
 * @comm: command name, NUL-terminated.
 * @blocked: blocked signals; bit n-1 is signal n.
 * @robust_list: user address of the robust futex list head, or 0.
 * @robust_list_len: its length as given to set_robust_list(2).
 * @clear_child_tid: user address cleared at exit (set_tid_address(2)).
 * @rseq: user address of the registered struct rseq, or 0.
 * @rseq_len: its length as given to rseq(2).
 * @rseq_sig: its signature as given to rseq(2).
 * @umask: file mode creation mask.
 * @personality: execution domain, as personality(2) returns it.
 * @flags: CR_TASK_* flag bits.
 * @pdeath_signal: the signal of prctl(PR_SET_PDEATHSIG), 0 for none, else
 *                 1 to 64; sent when the parent of the restarted process
 *                 (the restarter's parent) dies.
 * @reserved: must be zero.
 * @timer_slack_ns: the timer slack of prctl(PR_SET_TIMERSLACK), in
 *                  nanoseconds; 0 for a real-time task.  The default the
 *                  task goes back to with prctl(PR_SET_TIMERSLACK, 0) is the
 *                  boot default: checkpoint refuses a task with another.
 * @rlim: resource limits, indexed by RLIMIT_*.
 *
 * The record is followed by a %CR_HDR_CREDS record, a %CR_HDR_ROOT record
 * (the root directory, as seen from the root directory of the caller of
 * checkpoint(2)), a %CR_HDR_CWD record (the working directory, as seen
 * from the task's root directory) and a %CR_HDR_SIGHAND record.
 */
struct cr_hdr_task {
	struct cr_hdr h;
	__u8 comm[16];
	__u64 blocked;
	__u64 robust_list;
	__u64 robust_list_len;
	__u64 clear_child_tid;
	__u64 rseq;
	__u32 rseq_len;
	__u32 rseq_sig;
	__u32 umask;
	__u32 personality;
	__u32 flags;
	__u8 pdeath_signal;
	__u8 reserved[3];
	__u64 timer_slack_ns;
	struct cr_rlimit rlim[CR_RLIM_NLIMITS];
};

/*
 * Bits of &cr_hdr_task.flags.  The dumpable state (prctl(PR_GET_DUMPABLE),
 * SUID_DUMP_* in the kernel) is neither dumpable bit for 0, not dumpable;
 * CR_TASK_DUMPABLE for 1; CR_TASK_DUMPABLE_ROOT for 2, dumped as root.
 * The machine check policy (prctl(PR_MCE_KILL_GET)) is neither MCE bit for
 * PR_MCE_KILL_DEFAULT, one of them for PR_MCE_KILL_LATE or _EARLY.
 * CR_TASK_MDWE_NO_INHERIT goes with CR_TASK_MDWE only.  The speculation
 * controls are what the task chose with prctl(PR_SET_SPECULATION_CTRL): at
 * most one CR_TASK_SSB_* and one CR_TASK_IB_* bit; none for the default
 * (speculation enabled, no L1D flush) or where the system does not let a
 * task choose.
 */
#define CR_TASK_NO_NEW_PRIVS	(1 << 0)	/* prctl(PR_SET_NO_NEW_PRIVS) */
#define CR_TASK_DUMPABLE	(1 << 1)	/* dumpable, SUID_DUMP_USER */
#define CR_TASK_DUMPABLE_ROOT	(1 << 2)	/* dumped as root, SUID_DUMP_ROOT */
#define CR_TASK_MCE_KILL_LATE	(1 << 3)	/* PR_MCE_KILL_LATE */
#define CR_TASK_MCE_KILL_EARLY	(1 << 4)	/* PR_MCE_KILL_EARLY */
#define CR_TASK_CHILD_SUBREAPER	(1 << 5)	/* PR_SET_CHILD_SUBREAPER */
#define CR_TASK_THP_DISABLE	(1 << 6)	/* PR_SET_THP_DISABLE */
#define CR_TASK_MDWE		(1 << 7)	/* PR_MDWE_REFUSE_EXEC_GAIN */
#define CR_TASK_MDWE_NO_INHERIT	(1 << 8)	/* PR_MDWE_NO_INHERIT */
#define CR_TASK_IO_FLUSHER	(1 << 9)	/* PR_SET_IO_FLUSHER */
#define CR_TASK_TSC_SIGSEGV	(1 << 10)	/* PR_SET_TSC, PR_TSC_SIGSEGV */
#define CR_TASK_SSB_DISABLE	(1 << 11)	/* store bypass, PR_SPEC_DISABLE */
#define CR_TASK_SSB_FORCE_DISABLE (1 << 12)	/* ... PR_SPEC_FORCE_DISABLE */
#define CR_TASK_SSB_NOEXEC	(1 << 13)	/* ... PR_SPEC_DISABLE_NOEXEC */
#define CR_TASK_IB_DISABLE	(1 << 14)	/* indirect branch, PR_SPEC_DISABLE */
#define CR_TASK_IB_FORCE_DISABLE (1 << 15)	/* ... PR_SPEC_FORCE_DISABLE */
#define CR_TASK_L1D_FLUSH	(1 << 16)	/* L1D flush, PR_SPEC_ENABLE */

/**
 * struct cr_hdr_creds - credentials of a task
 * @h: record header; type %CR_HDR_CREDS.  The record is followed, within
 *     its length, by @ngroups supplementary group ids (__u32 each).
 * @uid: real user id.
 * @euid: effective user id.
 * @suid: saved user id.
 * @fsuid: file system user id.
 * @gid: real group id.
 * @egid: effective group id.
 * @sgid: saved group id.
 * @fsgid: file system group id.
 * @cap_inheritable: inheritable capabilities; bit n is capability n.
 * @cap_permitted: permitted capabilities.
 * @cap_effective: effective capabilities.
 * @cap_bset: capability bounding set.
 * @cap_ambient: ambient capabilities.
 * @securebits: SECBIT_* flags.
 * @ngroups: number of supplementary groups.
 * @reserved: must be zero.
 *
 * User and group ids are those seen from the user namespace of the task
 * that took the checkpoint.
 */
struct cr_hdr_creds {
	struct cr_hdr h;
	__u32 uid;
	__u32 euid;
	__u32 suid;
	__u32 fsuid;
	__u32 gid;
	__u32 egid;
	__u32 sgid;
	__u32 fsgid;
	__u64 cap_inheritable;
	__u64 cap_permitted;
	__u64 cap_effective;
	__u64 cap_bset;
	__u64 cap_ambient;
	__u32 securebits;
	__u32 ngroups;
	__u64 reserved;
};

/**
 * struct cr_sigaction - disposition of one signal
 * @handler: SIG_DFL (0), SIG_IGN (1), or the user address of the handler.
 * @flags: SA_* flags.
 * @restorer: user address of the SA_RESTORER trampoline, or 0.
 * @mask: signals blocked while the handler runs; bit n-1 is signal n.
 */
struct cr_sigaction {
	__u64 handler;
	__u64 flags;
	__u64 restorer;
	__u64 mask;
};

/**
 * struct cr_hdr_sighand - signal dispositions of a task
 * @h: record header; type %CR_HDR_SIGHAND.
 * @action: one per signal; entry n-1 is signal n.
 */
struct cr_hdr_sighand {
	struct cr_hdr h;
	struct cr_sigaction action[64];
};

/* Number of registers in &struct cr_hdr_cpu */
#define CR_X86_64_NREGS		27

/**
 * struct cr_hdr_cpu - general registers of an x86_64 task
 * @h: record header; type %CR_HDR_CPU.
 * @regs: the registers, in the order and with the meaning of struct
 *        user_regs_struct (the NT_PRSTATUS regset of ptrace and core
 *        dumps): r15, r14, r13, r12, bp, bx, r11, r10, r9, r8, ax, cx, dx,
 *        si, di, orig_ax, ip, cs, flags, sp, ss, fs_base, gs_base, ds, es,
 *        fs, gs.
 * @reserved: must be zero.
 */
struct cr_hdr_cpu {
	struct cr_hdr h;
	__u64 regs[CR_X86_64_NREGS];
	__u64 reserved;
};

/* Largest xsave area restart accepts */
#define CR_XSTATE_MAX		65536

/**
 * struct cr_hdr_xstate - FPU and extended state of an x86_64 task
 * @h: record header; type %CR_HDR_XSTATE.  The record is followed, within
 *     its length, by @size bytes of xsave area in the format of the
 *     NT_X86_XSTATE regset (ptrace and core dumps).
 * @xfeatures: the state components the area holds (XSTATE_BV).
 * @size: size of the area in bytes.
 * @reserved: must be zero.
 */
struct cr_hdr_xstate {
	struct cr_hdr h;
	__u64 xfeatures;
	__u32 size;
	__u32 reserved;
};

/* Number of words of &cr_hdr_mm.auxv */
#define CR_AUXV_WORDS		64

/**
 * struct cr_hdr_mm - address space of a task
 * @h: record header; type %CR_HDR_MM.
 * @start_code: start of the text of the executable.
 * @end_code: its end.
 * @start_data: start of its data.
 * @end_data: its end.
 * @start_brk: start of the heap.
 * @brk: current end of the heap.
 * @start_stack: start of the stack.
 * @arg_start: start of the argument strings.
 * @arg_end: their end.
 * @env_start: start of the environment strings.
 * @env_end: their end.
 * @vdso: address of the vDSO text, or 0 if there is none.
 * @nr_vmas: number of &struct cr_hdr_vma records that follow.
 * @flags: CR_MM_* flag bits.
 * @auxv: the auxiliary vector given at execve(2), /proc/PID/auxv; the
 *        unused end is zero.
 *
 * The record is followed by a %CR_HDR_EXE record, then @nr_vmas
 * %CR_HDR_VMA records, then %CR_HDR_PAGES records.
 */
struct cr_hdr_mm {
	struct cr_hdr h;
	__u64 start_code;
	__u64 end_code;
	__u64 start_data;
	__u64 end_data;
	__u64 start_brk;
	__u64 brk;
	__u64 start_stack;
	__u64 arg_start;
	__u64 arg_end;
	__u64 env_start;
	__u64 env_end;
	__u64 vdso;
	__u32 nr_vmas;
	__u32 flags;
	__u64 auxv[CR_AUXV_WORDS];
};

/* Bits of &cr_hdr_mm.flags: mlockall(2) state */
#define CR_MM_LOCK_FUTURE	(1 << 0)	/* MCL_FUTURE */
#define CR_MM_LOCK_ONFAULT	(1 << 1)	/* MCL_ONFAULT, with the above */

/* Values of &cr_hdr_vma.kind */
#define CR_VMA_ANON		1	/* private anonymous memory */
#define CR_VMA_FILE		2	/* private mapping of a file */
#define CR_VMA_VDSO		3	/* the vDSO text */
#define CR_VMA_VVAR		4	/* the vDSO data */
#define CR_VMA_SHMEM		5	/* shared anonymous memory */

/* Bits of &cr_hdr_vma.flags */
#define CR_VMA_GROWSDOWN	(1 << 0)	/* a stack: MAP_GROWSDOWN */
#define CR_VMA_DONTFORK		(1 << 1)	/* MADV_DONTFORK */
#define CR_VMA_DONTDUMP		(1 << 2)	/* MADV_DONTDUMP */
#define CR_VMA_WIPEONFORK	(1 << 3)	/* MADV_WIPEONFORK */
#define CR_VMA_NORESERVE	(1 << 4)	/* MAP_NORESERVE */
#define CR_VMA_SHARED		(1 << 5)	/* MAP_SHARED file mapping */
#define CR_VMA_MAYWRITE		(1 << 6)	/* the shared file is writable */
#define CR_VMA_LOCKED		(1 << 7)	/* mlock(2) */
#define CR_VMA_LOCKONFAULT	(1 << 8)	/* MLOCK_ONFAULT, with the above */
#define CR_VMA_INHERIT		(1 << 9)	/* kept from the parent: see below */

/**
 * struct cr_hdr_vma - one virtual memory area
 * @h: record header; type %CR_HDR_VMA.  A %CR_HDR_VMA_PATH record follows
 *     when @kind is %CR_VMA_FILE, a %CR_HDR_SHMEM record when it is
 *     %CR_VMA_SHMEM.
 * @start: first address, page aligned.
 * @end: address past the last byte, page aligned.
 * @pgoff: offset in the file, in pages, for %CR_VMA_FILE; in the shared
 *         memory object for %CR_VMA_SHMEM.
 * @file_size: size of the file at checkpoint, for %CR_VMA_FILE.
 * @prot: PROT_READ, PROT_WRITE and PROT_EXEC bits.
 * @kind: CR_VMA_*.
 * @flags: CR_VMA_* flag bits.
 * @reserved: must be zero.
 *
 * %CR_VMA_INHERIT, only in the section of a process of a tree whose
 * parent is in the tree, marks a private anonymous area its parent had
 * too, at the same addresses and with the same @prot and @flags (but
 * %CR_VMA_INHERIT), neither locked nor %CR_VMA_DONTFORK nor
 * %CR_VMA_WIPEONFORK.  Restart keeps the copy of the parent's area the
 * process gets when its restored parent creates it, so that the pages the
 * two still shared copy-on-write at checkpoint (listed in
 * %CR_HDR_COW_PAGES records) are shared again; the other pages of the
 * area are dropped, then filled from the %CR_HDR_PAGES records.
 */
struct cr_hdr_vma {
	struct cr_hdr h;
	__u64 start;
	__u64 end;
	__u64 pgoff;
	__u64 file_size;
	__u32 prot;
	__u32 kind;
	__u32 flags;
	__u32 reserved;
};

/**
 * struct cr_hdr_shmem - the shared anonymous memory object an area maps
 * @h: record header; type %CR_HDR_SHMEM.  It follows a %CR_HDR_VMA record
 *     of kind %CR_VMA_SHMEM.
 * @objref: the object, numbered from 1 in the order of first appearance:
 *          the areas of one object have the same @objref.
 * @obj: 0 in an image of one task.  In an image of a tree, the id of the
 *       object among the objects of the image (see &struct cr_hdr_file):
 *       an object several processes of the tree map is described by the
 *       first, with its pages, and mapped again by the others.
 * @size: size of the object in bytes, page aligned; the same in every
 *        record of the object.
 * @nr_pages: number of pages of the object saved in the
 *            %CR_HDR_SHMEM_PAGES records that follow this record; zero
 *            but in the first record of the object in the image.
 *
 * A %CR_HDR_SHMEM_PAGES record has the layout of &struct cr_hdr_pages,
 * but its addresses are byte offsets in the object, increasing across the
 * records of the object.
 */
struct cr_hdr_shmem {
	struct cr_hdr h;
	__u32 objref;
	__u32 obj;
	__u64 size;
	__u64 nr_pages;
};

/* Largest number of pages in one &struct cr_hdr_pages record */
#define CR_PAGES_MAX		256

/**
 * struct cr_hdr_pages - contents of pages of memory
 * @h: record header; type %CR_HDR_PAGES.  The record is followed, within
 *     its length, by @nr_pages page addresses (__u64 each, page aligned,
 *     increasing) and then the @nr_pages pages, page size bytes each.
 * @nr_pages: number of pages, 1 to %CR_PAGES_MAX.
 * @reserved: must be zero.
 *
 * Only pages whose contents differ from what mapping the area again gives
 * are saved: anonymous pages that were touched, and the pages of a private
 * file mapping that were written to.
 *
 * A %CR_HDR_COW_PAGES record has the layout of &struct cr_hdr_pages but
 * for the pages: it lists, after its header, @nr_pages addresses in
 * %CR_VMA_INHERIT areas where the process had the very page its parent
 * had (copy-on-write shared since a fork), whose contents are in the
 * parent's section.  In the section of a process with %CR_VMA_INHERIT
 * areas, the addresses of its %CR_HDR_PAGES and %CR_HDR_COW_PAGES records
 * increase across the records, which come in address order.
 */
struct cr_hdr_pages {
	struct cr_hdr h;
	__u32 nr_pages;
	__u32 reserved;
};

/*
 * Flags of restart(2): CR_RESTART_INHERIT_FD(n), for n from 0 to 2, gives
 * the restored process descriptor n of the caller of restart in place of
 * the one the image has (or has not).
 */
#define CR_RESTART_INHERIT_FD0	(1U << 0)
#define CR_RESTART_INHERIT_FD1	(1U << 1)
#define CR_RESTART_INHERIT_FD2	(1U << 2)
#define CR_RESTART_INHERIT_FD(n)	(1U << (n))

/*
 * More flags of restart(2).
 *
 * CR_RESTART_TREE: restart an image of %CR_CHECKPOINT_TREE.  The caller is
 * not replaced: the kernel creates the tasks of the image, the root as a
 * child of the caller, each with its pid in the pid namespace the caller
 * creates its children in, and restart returns the pid of the root once
 * they all run.  The descriptors 0-2 the image leaves to the caller are
 * the caller's; CR_RESTART_INHERIT_FD() cannot be given with it (EINVAL).
 *
 * CR_RESTART_NEW_PIDS: with %CR_RESTART_TREE, give the tasks new pids
 * instead of the image's; process groups and sessions follow.
 */
#define CR_RESTART_TREE		(1U << 3)
#define CR_RESTART_NEW_PIDS	(1U << 4)

/**
 * struct cr_hdr_files - the file descriptor table of a task
 * @h: record header; type %CR_HDR_FILES.
 * @nr_fds: number of &struct cr_hdr_fd records that follow.
 * @nr_files: number of &struct cr_hdr_file records that follow those, each
 *            followed by a %CR_HDR_FILE_PATH record; at most @nr_fds.
 * @reserved: must be zero.
 *
 * The records come after the %CR_HDR_XSTATE record and before the
 * %CR_HDR_MM record.
 */
struct cr_hdr_files {
	struct cr_hdr h;
	__u32 nr_fds;
	__u32 nr_files;
	__u64 reserved;
};

/* Bits of &cr_hdr_fd.flags */
#define CR_FD_CLOEXEC		(1 << 0)	/* FD_CLOEXEC */

/**
 * struct cr_hdr_fd - one open file descriptor
 * @h: record header; type %CR_HDR_FD.
 * @fd: the descriptor number; each record's is greater than the previous
 *      one's.
 * @flags: CR_FD_* bits.
 * @file: the open file the descriptor refers to: n for the n-th &struct
 *        cr_hdr_file record (from 1); several descriptors refer to the
 *        same one when they shared an open file (dup(2)).  0 for a
 *        descriptor 0, 1 or 2 that restart gives from its caller (a
 *        terminal, a pipe, a socket, or a file shared with another
 *        process).
 * @reserved: must be zero.
 */
struct cr_hdr_fd {
	struct cr_hdr h;
	__u32 fd;
	__u32 flags;
	__u32 file;
	__u32 reserved;
};

/* Values of &cr_hdr_file.kind */
#define CR_FILE_REG		1	/* a regular file */
#define CR_FILE_DIR		2	/* a directory */
#define CR_FILE_CHR		3	/* /dev/null, zero, random or urandom */
#define CR_FILE_OBJ		4	/* an open file described before */
#define CR_FILE_PIPE		5	/* an end of a pipe */
#define CR_FILE_FIFO		6	/* an end of a FIFO (named pipe) */

/**
 * struct cr_hdr_file - an open file, reopened by path on restart
 * @h: record header; type %CR_HDR_FILE.  For %CR_FILE_REG, %CR_FILE_DIR
 *     and %CR_FILE_CHR a %CR_HDR_FILE_PATH record follows, with the
 *     absolute path of the file; for %CR_FILE_PIPE, a %CR_HDR_PIPE record;
 *     for %CR_FILE_FIFO, the path of the FIFO then a %CR_HDR_PIPE record.
 * @kind: CR_FILE_*.
 * @flags: the open flags (O_* values of the architecture), as fcntl(2)
 *         F_GETFL gives them; never O_CREAT, O_EXCL, O_NOCTTY or O_TRUNC.
 *         O_PATH only for a regular file or a directory; O_RDONLY or
 *         O_WRONLY, and O_NONBLOCK, for a pipe; O_RDONLY, O_WRONLY or
 *         O_RDWR, and O_NONBLOCK, for a FIFO; 0 for %CR_FILE_OBJ.
 * @pos: the file offset; 0 or more; 0 for a pipe, a FIFO and %CR_FILE_OBJ.
 * @rdev_major: for %CR_FILE_CHR, the major device number (1); else 0.
 * @rdev_minor: for %CR_FILE_CHR, the minor device number: 3 (null),
 *              5 (zero), 8 (random) or 9 (urandom); else 0.
 * @obj: 0 in an image of one task.  In an image of a tree, the id of the
 *       open file among the objects of the image, which are numbered
 *       from 1 in the order they first appear: an open file several
 *       tasks share (with its offset) is described by the first task
 *       that has it, and is a record of kind %CR_FILE_OBJ with the same
 *       id in the others.
 * @reserved: must be zero.
 */
struct cr_hdr_file {
	struct cr_hdr h;
	__u32 kind;
	__u32 flags;
	__s64 pos;
	__u32 rdev_major;
	__u32 rdev_minor;
	__u32 obj;
	__u32 reserved;
};

/* Largest pipe (in bytes) an image may hold */
#define CR_PIPE_MAX_SIZE	(1U << 26)

/**
 * struct cr_hdr_pipe - the pipe an end of a pipe or of a FIFO belongs to
 * @h: record header; type %CR_HDR_PIPE.  The record follows the
 *     %CR_HDR_FILE record of each end of a pipe (the %CR_HDR_FILE_PATH
 *     record of each end of a FIFO), and holds the @nr_bytes bytes
 *     buffered in the pipe after its fixed part.
 * @obj: the id of the pipe among the objects of the image (see &struct
 *       cr_hdr_file), following the id of its end when it is new.  The
 *       ends of an anonymous pipe and those of a FIFO never share one.
 * @size: the capacity of the pipe in bytes (fcntl(2) F_GETPIPE_SZ), at
 *        most %CR_PIPE_MAX_SIZE.
 * @nr_bytes: bytes the pipe holds, at most @size, for the end that
 *            appears first in the image; 0 for the other.
 * @reserved: must be zero.
 */
struct cr_hdr_pipe {
	struct cr_hdr h;
	__u32 obj;
	__u32 size;
	__u32 nr_bytes;
	__u32 reserved;
};

/* Most queued signals (both queues) an image may hold */
#define CR_SIGINFO_MAX		4096

/* Indexes of &cr_hdr_signal.pending and &cr_hdr_signal.nr_queued */
#define CR_SIGQ_PRIVATE		0	/* the task's own queue (tgkill) */
#define CR_SIGQ_SHARED		1	/* the process's shared queue (kill) */

/* Longest time in an image, in nanoseconds: KTIME_MAX */
#define CR_TIME_MAX		0x7fffffffffffffffULL

/**
 * struct cr_itimer - one interval timer (setitimer(2))
 * @value: time left before it fires, in nanoseconds; 0 if disarmed.
 *         For ITIMER_REAL, time of CLOCK_MONOTONIC; for ITIMER_VIRTUAL
 *         and ITIMER_PROF, CPU time of the process.  At most
 *         %CR_TIME_MAX.
 * @interval: its period once it fired, in nanoseconds; 0 for a one-shot
 *            timer.  At most %CR_TIME_MAX.
 */
struct cr_itimer {
	__u64 value;
	__u64 interval;
};

/**
 * struct cr_hdr_signal - pending signals, alternate stack and itimers
 * @h: record header; type %CR_HDR_SIGNAL.  It follows the
 *     %CR_HDR_SIGHAND record, and is followed by the
 *     @nr_queued[%CR_SIGQ_PRIVATE] %CR_HDR_SIGINFO records of the private
 *     queue, then the @nr_queued[%CR_SIGQ_SHARED] ones of the shared
 *     queue, each queue in the order of delivery, then a
 *     %CR_HDR_RESTART_BLOCK record.
 * @pending: pending signals of the private (%CR_SIGQ_PRIVATE) and shared
 *           (%CR_SIGQ_SHARED) queues; bit n-1 is signal n.  A pending
 *           signal without a %CR_HDR_SIGINFO record of its queue has lost
 *           its information (the queue was full when it was sent): it is
 *           delivered with si_code SI_USER, si_pid and si_uid 0.  SIGKILL
 *           is never pending.
 * @nr_queued: number of %CR_HDR_SIGINFO records of each queue; their sum
 *             is at most %CR_SIGINFO_MAX.
 * @ss_sp: base of the alternate signal stack (sigaltstack(2)), or 0.
 * @ss_size: its size in bytes, 0 if there is none.
 * @ss_flags: its flags as sigaltstack(2) set them: SS_DISABLE when there
 *            is none, and SS_AUTODISARM.
 * @stop: 0, but in the record of the first thread of a process that was
 *        in a group stop of its own: stopped by a stop signal while its
 *        cgroup v2 was frozen for the checkpoint (a stop the caller of
 *        checkpoint did not make).  Then the stop signal (SIGSTOP,
 *        SIGTSTP, SIGTTIN or SIGTTOU), with %CR_STOP_REPORTED if the
 *        parent already collected the stop with wait(2); the restarted
 *        process is stopped again before it runs, without telling its
 *        parent, and goes on at SIGCONT.
 * @itimer: the interval timers, indexed by ITIMER_REAL (alarm(2) too),
 *          ITIMER_VIRTUAL and ITIMER_PROF.
 * @reserved2: must be zero.
 */
struct cr_hdr_signal {
	struct cr_hdr h;
	__u64 pending[2];
	__u32 nr_queued[2];
	__u64 ss_sp;
	__u64 ss_size;
	__u32 ss_flags;
	__u32 stop;
	struct cr_itimer itimer[3];
	__u64 reserved2[2];
};

/* Bit of &cr_hdr_signal.stop: the parent saw the stop (wait(2)) */
#define CR_STOP_REPORTED	(1 << 8)

/* Length of &cr_hdr_siginfo.fields */
#define CR_SIGINFO_FIELDS	32

/**
 * struct cr_hdr_siginfo - one queued signal and its information
 * @h: record header; type %CR_HDR_SIGINFO.
 * @queue: %CR_SIGQ_PRIVATE or %CR_SIGQ_SHARED.
 * @signo: the signal, 1 to 64 but SIGKILL; pending in &cr_hdr_signal.pending
 *         of @queue.  A signal below SIGRTMIN is queued once at most.
 * @err: si_errno.
 * @code: si_code: SI_USER, SI_KERNEL, a negative SI_* code but SI_TIMER
 *        (SI_QUEUE, SI_TKILL, ...) or a positive code defined for @signo.
 * @fields: the union of the siginfo_t the process receives, as
 *          rt_sigqueueinfo(2) takes it (bytes 16 to 47 of a 64-bit
 *          siginfo_t: si_pid, si_uid, si_value, si_addr, ...), as the
 *          task saw them.
 * @reserved: must be zero.
 */
struct cr_hdr_siginfo {
	struct cr_hdr h;
	__u32 queue;
	__s32 signo;
	__s32 err;
	__s32 code;
	__u8 fields[CR_SIGINFO_FIELDS];
	__u64 reserved;
};

/* Values of &cr_hdr_restart_block.kind */
#define CR_RESTART_NONE		0	/* not in an interrupted system call */
#define CR_RESTART_NANOSLEEP	1	/* nanosleep(2), clock_nanosleep(2) */
#define CR_RESTART_FUTEX	2	/* futex(2) wait with a timeout */
#define CR_RESTART_POLL		3	/* poll(2) */

/* Bits of &cr_hdr_restart_block.flags */
#define CR_RESTART_SHARED	0x1	/* %CR_RESTART_FUTEX: a shared futex */
#define CR_RESTART_TIMEOUT	0x2	/* %CR_RESTART_POLL: with a timeout */

/**
 * struct cr_hdr_restart_block - an interrupted system call to resume
 * @h: record header; type %CR_HDR_RESTART_BLOCK.
 * @kind: CR_RESTART_*.  With a kind other than %CR_RESTART_NONE, the
 *        saved registers execute restart_syscall(2), which goes on with
 *        the system call this record describes.
 * @clockid: the clock of the timeout.  %CR_RESTART_NANOSLEEP:
 *           CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME or CLOCK_TAI;
 *           %CR_RESTART_FUTEX: CLOCK_MONOTONIC, or CLOCK_REALTIME for a
 *           wait with FUTEX_CLOCK_REALTIME; %CR_RESTART_POLL:
 *           CLOCK_MONOTONIC.
 * @remaining: nanoseconds left before the timeout, at most %CR_TIME_MAX:
 *             the sleep of %CR_RESTART_NANOSLEEP, the wait of
 *             %CR_RESTART_FUTEX on CLOCK_MONOTONIC, the poll of
 *             %CR_RESTART_POLL with %CR_RESTART_TIMEOUT; 0 otherwise.
 * @rmtp: %CR_RESTART_NANOSLEEP: user address where the time left is
 *        written if the sleep is interrupted, or 0.
 * @reserved: must be zero.
 * @expires: %CR_RESTART_FUTEX on CLOCK_REALTIME: the absolute deadline
 *           (FUTEX_WAIT_BITSET), nanoseconds since the Epoch, at most
 *           %CR_TIME_MAX; 0 otherwise.
 * @uaddr: %CR_RESTART_FUTEX: the user address of the futex word, aligned
 *         to 4 bytes; %CR_RESTART_POLL: that of the array of @nfds
 *         struct pollfd.
 * @val: %CR_RESTART_FUTEX: the value the futex word is expected to hold.
 * @bitset: %CR_RESTART_FUTEX: the bitset of the wait (FUTEX_WAIT waits
 *          with all bits set); not zero.
 * @flags: CR_RESTART_* flags: %CR_RESTART_SHARED for %CR_RESTART_FUTEX
 *         (a futex without FUTEX_PRIVATE_FLAG), %CR_RESTART_TIMEOUT for
 *         %CR_RESTART_POLL.
 * @nfds: %CR_RESTART_POLL: the number of descriptors polled, at most the
 *        largest RLIMIT_NOFILE (fs.nr_open); poll(2) checks it against
 *        the limit of the restarted task.
 * @reserved2: must be zero.
 *
 * Every field a kind does not use is zero; with %CR_RESTART_NONE, every
 * field but @h is zero.
 */
struct cr_hdr_restart_block {
	struct cr_hdr h;
	__u32 kind;
	__s32 clockid;
	__u64 remaining;
	__u64 rmtp;
	__u64 reserved;
	__u64 expires;
	__u64 uaddr;
	__u32 val;
	__u32 bitset;
	__u32 flags;
	__u32 nfds;
	__u64 reserved2;
};

/* Most tasks an image of %CR_CHECKPOINT_TREE may hold */
#define CR_TREE_MAX_TASKS	32768

/**
 * struct cr_hdr_tree - the tasks of an image of %CR_CHECKPOINT_TREE
 * @h: record header; type %CR_HDR_TREE.
 * @nr_tasks: number of &struct cr_hdr_proc records that follow, 1 to
 *            %CR_TREE_MAX_TASKS; as many task sections follow those.
 * @flags: CR_TREE_* flags.
 *
 * The record comes right after the header.  The &struct cr_hdr_proc
 * records that follow it list the tasks in depth-first order, a parent
 * before its children and the children of a task in the order they were
 * created, the root first; then come a &struct cr_hdr_uts record if
 * @flags has %CR_TREE_UTS, a &struct cr_hdr_shares record and its
 * &struct cr_hdr_share records if @flags has %CR_TREE_SHARE, the
 * sections of the tasks in the same order,
 * each as in the image of one task (from its %CR_HDR_TASK record to its
 * last %CR_HDR_PAGES record), and the tail.
 */
struct cr_hdr_tree {
	struct cr_hdr h;
	__u32 nr_tasks;
	__u32 flags;
};

/* Flags of &struct cr_hdr_tree */
#define CR_TREE_UTS		(1U << 0)	/* a UTS namespace of its own */
#define CR_TREE_SHARE		(1U << 1)	/* processes share with parents */

/* Length of the names of &struct cr_hdr_uts, the terminating NUL included */
#define CR_UTS_LEN		65

/**
 * struct cr_hdr_uts - the UTS namespace of the tasks of a tree
 * @h: record header; type %CR_HDR_UTS.
 * @nodename: the host name (uname -n), NUL-terminated and NUL-padded.
 * @domainname: the NIS domain name, NUL-terminated and NUL-padded.
 * @pad: must be zero.
 *
 * Restart gives the tree a new UTS namespace with these names.
 */
struct cr_hdr_uts {
	struct cr_hdr h;
	__u8 nodename[CR_UTS_LEN];
	__u8 domainname[CR_UTS_LEN];
	__u8 pad[6];
};

/**
 * struct cr_hdr_proc - a task of a tree and its relations
 * @h: record header; type %CR_HDR_PROC.
 * @pid: its pid (thread id) in the pid namespace of the root task,
 *       greater than 0.
 * @ppid: the pid of its parent, which comes before it in the list and is
 *        the process or an ancestor of the process listed before it; 0
 *        for the root, whose parent is the caller of restart, and for a
 *        thread.
 * @pgid: its process group: the pid of a process of the tree, or 0 for
 *        the process group of the caller of restart (the root's group,
 *        when its leader is not in the tree); 0 for a thread.
 * @sid: its session, as @pgid.
 * @exit_signal: signal its parent gets when it exits (0 to 64); 0 for a
 *               thread.
 * @tgid: its thread group id: @pid for a process (the thread group
 *        leader), the pid of its process for another thread, which comes
 *        right after its process and its process's other threads.
 *
 * Children of a process are restarted as children of its first thread.
 */
struct cr_hdr_proc {
	struct cr_hdr h;
	__s32 pid;
	__s32 ppid;
	__s32 pgid;
	__s32 sid;
	__u32 exit_signal;
	__s32 tgid;
};

/**
 * struct cr_hdr_zombie - a process of a tree that exited, not reaped yet
 * @h: record header; type %CR_HDR_ZOMBIE.  The section of a zombie is
 *     this record and a %CR_HDR_CREDS record, instead of a task's.
 * @exit_code: the status wait(2) reports: the exit status in bits 8 to 15,
 *             or the number of the signal that killed it in bits 0 to 6,
 *             with bit 7 if it dumped a core.
 * @reserved: must be zero.
 * @comm: its name, NUL-terminated.
 */
struct cr_hdr_zombie {
	struct cr_hdr h;
	__u32 exit_code;
	__u32 reserved;
	__u8 comm[16];
};

/**
 * struct cr_hdr_shares - the processes of a tree that share with their
 *                        parent
 * @h: record header; type %CR_HDR_SHARES.  It follows the process records
 *     (and the %CR_HDR_UTS record) when &struct cr_hdr_tree has
 *     %CR_TREE_SHARE.
 * @nr: number of &struct cr_hdr_share records that follow, 1 to the
 *      number of process records.
 * @reserved: must be zero.
 */
struct cr_hdr_shares {
	struct cr_hdr h;
	__u32 nr;
	__u32 reserved;
};

/* What a process shares with its parent (&struct cr_hdr_share) */
#define CR_SHARE_VM		(1U << 0)	/* address space (CLONE_VM) */
#define CR_SHARE_FILES		(1U << 1)	/* descriptor table (CLONE_FILES) */
#define CR_SHARE_FS		(1U << 2)	/* root, cwd, umask (CLONE_FS) */
#define CR_SHARE_SIGHAND	(1U << 3)	/* signal handlers (CLONE_SIGHAND) */

/**
 * struct cr_hdr_share - a process that shares tables with its parent
 * @h: record header; type %CR_HDR_SHARE.
 * @pid: the process: the pid of a process record of the tree, not the
 *       root, a thread or a group leader that exited; the records are in
 *       the order of the process records, each process at most once.
 * @flags: CR_SHARE_* flags, at least one; %CR_SHARE_SIGHAND only with
 *         %CR_SHARE_VM, as clone(2) wants.
 *
 * What the process shares is the same object as its parent's, saved in the
 * parent's section only: the section of the process has no %CR_HDR_FILES
 * records with %CR_SHARE_FILES and no %CR_HDR_MM and %CR_HDR_PAGES records
 * with %CR_SHARE_VM.  Its root and working directories with %CR_SHARE_FS,
 * its signal dispositions with %CR_SHARE_SIGHAND are still in its
 * section, as they were at the same instant as its parent's, but are not
 * restored from there.  Restart creates the process with the matching
 * clone(2) flags, so that it shares them again.
 */
struct cr_hdr_share {
	struct cr_hdr h;
	__s32 pid;
	__u32 flags;
};

#endif /* _UAPI_LINUX_CHECKPOINT_HDR_H */
