// SPDX-License-Identifier: GPL-2.0
/*
 * Checkpoint/restart of the registers and the extended state (x87, SSE,
 * AVX, PKRU, ...) of an x86_64 task.
 *
 * The records hold what the NT_PRSTATUS and NT_X86_XSTATE regsets give
 * ptrace and core dumps, in their layouts.  Restoring them is sigreturn in
 * disguise: user cs and ss are forced, EFLAGS goes through FIX_EFLAGS,
 * addresses must be user addresses, and the xsave area must have the size
 * and only the features this CPU gives user space, with a valid MXCSR.
 * All of it is checked when the image is read, before the point of no
 * return, so that restoring a valid image does not fail.
 */

#include <linux/build_bug.h>
#include <linux/checkpoint.h>
#include <linux/cleanup.h>
#include <linux/elf.h>
#include <linux/errno.h>
#include <linux/hw_breakpoint.h>
#include <linux/regset.h>
#include <linux/restart_block.h>
#include <linux/sched.h>
#include <linux/sched/task_stack.h>
#include <linux/slab.h>
#include <linux/stddef.h>
#include <linux/string.h>
#include <linux/task_work.h>
#include <linux/uaccess.h>

#include <asm/desc.h>
#include <asm/fpu/api.h>
#include <asm/fpu/sched.h>
#include <asm/fpu/signal.h>
#include <asm/fpu/types.h>
#include <asm/page.h>
#include <asm/pkru.h>
#include <asm/prctl.h>
#include <asm/proto.h>
#include <asm/ptrace.h>
#include <asm/segment.h>
#include <asm/sighandling.h>
#include <asm/unistd.h>
#include <asm/user.h>

#include "fpu/context.h"
#include "fpu/internal.h"
#include "fpu/legacy.h"
#include "fpu/xstate.h"

/**
 * struct cr_cpu_state - registers read from an image, until restored
 * @regs: the general registers, validated.
 * @xfeatures: the state components @xstate holds (its XSTATE_BV).
 * @xstate: the xsave area, validated, in the layout of the NT_X86_XSTATE
 *          regset; fpu_user_cfg.max_size bytes.
 * @intr: for a task interrupted in a system call, the task work that
 *        tells signal delivery after restart, allocated in advance.
 */
struct cr_cpu_state {
	struct user_regs_struct regs;
	u64 xfeatures;
	void *xstate;
	struct interrupted *intr;
};

/*
 * A system call the restarted task was interrupted in: the task work that
 * makes the registers say so once restart(2) returned (see
 * cr_restore_cpu()).
 */
struct interrupted {
	struct callback_head work;
	unsigned long nr;
	unsigned long err;
};

/* The returns of a system call that a signal interrupted */
static bool is_interrupted(long ax)
{
	switch (ax) {
	case -ERESTARTNOHAND:
	case -ERESTARTSYS:
	case -ERESTARTNOINTR:
	case -ERESTART_RESTARTBLOCK:
		return true;
	}
	return false;
}

/*
 * The state components with which an xsave area in the UABI layout carries
 * MXCSR: copy_uabi_from_kernel_to_xstate() only takes it when one is set.
 */
#define MXCSR_XFEATURES	(XFEATURE_MASK_FP | XFEATURE_MASK_SSE | \
			 XFEATURE_MASK_YMM)

static void build_check_abi(void)
{
	BUILD_BUG_ON(sizeof(struct user_regs_struct) != CR_X86_64_NREGS * 8);
	BUILD_BUG_ON(sizeof_field(struct cr_hdr_cpu, regs) !=
		     sizeof(struct user_regs_struct));
	BUILD_BUG_ON(sizeof(struct cr_hdr_cpu) != 232);
	BUILD_BUG_ON(offsetof(struct cr_hdr_cpu, regs) != 8);
	BUILD_BUG_ON(offsetof(struct cr_hdr_cpu, reserved) != 224);
	BUILD_BUG_ON(sizeof(struct cr_hdr_xstate) != 24);
	BUILD_BUG_ON(offsetof(struct cr_hdr_xstate, xfeatures) != 8);
	BUILD_BUG_ON(offsetof(struct cr_hdr_xstate, size) != 16);
	/* Where the UABI xsave layout keeps its header and MXCSR */
	BUILD_BUG_ON(offsetof(struct xregs_state, header) != 512);
	BUILD_BUG_ON(offsetof(struct fxregs_state, mxcsr) != 24);
}

/* The header of an xsave area in the UABI layout */
static void xstate_header(const void *xstate, struct xstate_header *hdr)
{
	memcpy(hdr, xstate + offsetof(struct xregs_state, header),
	       sizeof(*hdr));
}

static u32 xstate_mxcsr(const void *xstate)
{
	u32 mxcsr;

	memcpy(&mxcsr, xstate + offsetof(struct fxregs_state, mxcsr),
	       sizeof(mxcsr));
	return mxcsr;
}

/* The regset of @t that core dumps write as note @type, as binfmt_elf does */
static const struct user_regset *find_regset(struct task_struct *t,
					     unsigned int type)
{
	const struct user_regset_view *view = task_user_regset_view(t);
	unsigned int i;

	for (i = 0; i < view->n; i++)
		if (view->regsets[i].core_note_type == type)
			return &view->regsets[i];
	return NULL;
}

/* Whether @t has state in the regset of note @type (a shadow stack, say) */
static bool regset_in_use(struct task_struct *t, unsigned int type)
{
	const struct user_regset *regset = find_regset(t, type);

	return regset && regset->active && regset->active(t, regset) > 0;
}

/* The image describes 64-bit tasks whose state fits in an xsave area */
static int check_mode(struct cr_ctx *ctx, struct task_struct *t)
{
	if (!user_64bit_mode(task_pt_regs(t)) ||
	    test_tsk_thread_flag(t, TIF_ADDR32))
		return cr_err(ctx, -EOPNOTSUPP,
			      "task %d: 32-bit tasks are not supported",
			      task_pid_vnr(t));
	if (!cpu_feature_enabled(X86_FEATURE_XSAVE))
		return cr_err(ctx, -EOPNOTSUPP,
			      "this CPU has no XSAVE: not supported");
	return 0;
}

/* State the image has no room for yet: refuse it rather than lose it */
static int check_unsaved(struct cr_ctx *ctx, struct task_struct *t)
{
	pid_t pid = task_pid_vnr(t);

	if (memchr_inv(t->thread.tls_array, 0, sizeof(t->thread.tls_array)))
		return cr_err(ctx, -EOPNOTSUPP,
			      "task %d has TLS descriptors (set_thread_area): not supported yet",
			      pid);
	if (t->thread.io_bitmap || t->thread.iopl_emul)
		return cr_err(ctx, -EOPNOTSUPP,
			      "task %d has I/O port permissions (ioperm, iopl): not supported yet",
			      pid);
	if (regset_in_use(t, NT_X86_SHSTK))
		return cr_err(ctx, -EOPNOTSUPP,
			      "task %d has a shadow stack: not supported yet",
			      pid);
	return 0;
}

static int get_regs(struct cr_ctx *ctx, struct user_regs_struct *r)
{
	struct task_struct *t = ctx->task;
	const struct user_regset *regset;
	int ret;

	regset = find_regset(t, NT_PRSTATUS);
	if (WARN_ON_ONCE(!regset))
		return cr_err(ctx, -EOPNOTSUPP, "no NT_PRSTATUS regset");
	ret = regset_get(t, regset, sizeof(*r), r);
	if (ret < 0)
		return cr_err(ctx, ret, "task %d: reading its registers failed",
			      task_pid_vnr(t));
	if (ret != sizeof(*r))
		return cr_err(ctx, -EOPNOTSUPP,
			      "task %d: %d bytes of registers, not %zu",
			      task_pid_vnr(t), ret, sizeof(*r));
	return 0;
}

/*
 * Every 64-bit user code (stack) selector is the flat one restart loads;
 * data selectors are 0 unless the task loaded descriptors of its own, which
 * the image cannot hold yet.
 */
static int fix_segments(struct cr_ctx *ctx, struct user_regs_struct *r)
{
	if (r->ds || r->es || r->fs || r->gs)
		return cr_err(ctx, -EOPNOTSUPP,
			      "task %d has segment selectors ds %#lx es %#lx fs %#lx gs %#lx: not supported yet",
			      task_pid_vnr(ctx->task), r->ds, r->es, r->fs,
			      r->gs);
	r->cs = __USER_CS;
	r->ss = __USER_DS;
	return 0;
}

/*
 * The restarted task carries on in user space.  The caller sees
 * checkpoint() return 0.  A stopped task interrupted in a system call is
 * saved as it is, orig_ax the system call and ax its -ERESTART* return:
 * after restart, signal delivery decides, as it would have without the
 * checkpoint, between -EINTR after a handler and making the call again
 * (restart_syscall(2) with a restart block, which restart gives it).
 * Otherwise the task is saved outside any system call.
 */
static int fix_syscall(struct cr_ctx *ctx, struct user_regs_struct *r)
{
	if (ctx->task == current) {
		r->ax = 0;
		r->orig_ax = -1;
		return 0;
	}
	if ((long)r->orig_ax < 0 || !is_interrupted(r->ax))
		r->orig_ax = -1;
	return 0;
}

static int write_regs(struct cr_ctx *ctx)
{
	struct user_regs_struct regs;
	struct cr_hdr_cpu *hc;
	int ret;

	ret = get_regs(ctx, &regs);
	if (!ret)
		ret = fix_segments(ctx, &regs);
	if (!ret)
		ret = fix_syscall(ctx, &regs);
	if (ret)
		return ret;

	hc = cr_hbuf_get(ctx, sizeof(*hc));
	if (!hc)
		return -ENOMEM;
	memcpy(hc->regs, &regs, sizeof(hc->regs));
	ret = cr_write_rec(ctx, hc, CR_HDR_CPU, sizeof(*hc));
	cr_hbuf_put(ctx, hc);
	return ret;
}

/*
 * The regset takes PKRU from thread.pkru, which is only valid while the
 * task is scheduled out: for the caller, give it the value of the register,
 * as switch_to() would.
 */
static void sync_pkru(void)
{
	if (cpu_feature_enabled(X86_FEATURE_OSPKE))
		current->thread.pkru = read_pkru();
}

static int write_xstate_rec(struct cr_ctx *ctx, const void *xstate, u32 size)
{
	struct xstate_header hdr;
	struct cr_hdr_xstate *hx;
	int ret;

	hx = cr_hbuf_get(ctx, sizeof(*hx));
	if (!hx)
		return -ENOMEM;
	xstate_header(xstate, &hdr);
	hx->xfeatures = hdr.xfeatures;
	hx->size = size;
	ret = cr_write_rec_begin(ctx, hx, CR_HDR_XSTATE, sizeof(*hx), size);
	if (!ret)
		ret = cr_write(ctx, xstate, size);
	if (!ret)
		ret = cr_write_rec_end(ctx, sizeof(*hx) + size);
	cr_hbuf_put(ctx, hx);
	return ret;
}

/* For the caller, the regset saves the live FPU registers first */
static int write_xstate(struct cr_ctx *ctx)
{
	struct task_struct *t = ctx->task;
	const struct user_regset *regset;
	unsigned int size;
	int ret;

	regset = find_regset(t, NT_X86_XSTATE);
	if (WARN_ON_ONCE(!regset))
		return cr_err(ctx, -EOPNOTSUPP, "no NT_X86_XSTATE regset");
	size = regset->n * regset->size;
	if (!size || size > CR_XSTATE_MAX)
		return cr_err(ctx, -EOPNOTSUPP,
			      "xsave area of %u bytes: not supported", size);

	void *xstate __free(kvfree) = kvzalloc(size, GFP_KERNEL);

	if (!xstate)
		return -ENOMEM;
	if (t == current)
		sync_pkru();
	ret = regset_get(t, regset, size, xstate);
	if (ret < 0)
		return cr_err(ctx, ret, "task %d: reading its xsave area failed",
			      task_pid_vnr(t));
	return write_xstate_rec(ctx, xstate, size);
}

/**
 * cr_write_cpu() - write the registers and the extended state of a task
 * @ctx: the checkpoint; @ctx->task is the caller or a stopped task.
 *
 * Writes a %CR_HDR_CPU and a %CR_HDR_XSTATE record.  The saved registers
 * are those the task has on its return to user space: for the caller,
 * checkpoint() returning 0; for a task stopped in a system call a signal
 * interrupted, the system call (orig_ax) and its -ERESTART* error (ax),
 * which signal delivery turns into -EINTR or a restart of the call.
 *
 * Context: process context; may sleep.
 * Return: 0, -EOPNOTSUPP (with a message) for state the image cannot hold,
 * or another negative errno.
 */
int cr_write_cpu(struct cr_ctx *ctx)
{
	int ret;

	build_check_abi();
	ret = check_mode(ctx, ctx->task);
	if (!ret)
		ret = check_unsaved(ctx, ctx->task);
	if (!ret)
		ret = write_regs(ctx);
	if (!ret)
		ret = write_xstate(ctx);
	return ret;
}

/* The caller becomes the restarted task: it must be able to hold it */
static int check_caller(struct cr_ctx *ctx)
{
	if (test_thread_flag(TIF_ADDR32))
		return cr_err(ctx, -EOPNOTSUPP,
			      "restart from a 32-bit task is not supported");
	if (regset_in_use(current, NT_X86_SHSTK))
		return cr_err(ctx, -EOPNOTSUPP,
			      "restart from a task with a shadow stack is not supported yet");
	if (!cpu_feature_enabled(X86_FEATURE_XSAVE))
		return cr_err(ctx, -EOPNOTSUPP,
			      "this CPU has no XSAVE: not supported");
	return 0;
}

/* Only what checkpoint writes for a 64-bit task outside a system call */
static int check_selectors(struct cr_ctx *ctx,
			   const struct user_regs_struct *r)
{
	if (r->cs != __USER_CS || r->ss != __USER_DS)
		return cr_err(ctx, -EINVAL,
			      "cs %#lx and ss %#lx are not those of a 64-bit task",
			      r->cs, r->ss);
	if (r->ds || r->es || r->fs || r->gs)
		return cr_err(ctx, -EINVAL,
			      "segment selectors ds %#lx es %#lx fs %#lx gs %#lx are not 0",
			      r->ds, r->es, r->fs, r->gs);
	return 0;
}

/* Outside a system call, or in one a signal interrupted */
static int check_syscall(struct cr_ctx *ctx, const struct user_regs_struct *r)
{
	if (r->orig_ax == -1UL)
		return 0;
	if (r->orig_ax >= NR_syscalls)
		return cr_err(ctx, -EINVAL, "orig_ax is %#lx, not -1 or a system call",
			      r->orig_ax);
	if (!is_interrupted(r->ax))
		return cr_err(ctx, -EINVAL,
			      "in system call %lu, ax %ld is not an -ERESTART* error",
			      r->orig_ax, (long)r->ax);
	return 0;
}

/* The checks of sigreturn and arch_prctl(ARCH_SET_FS) */
static int check_addresses(struct cr_ctx *ctx,
			   const struct user_regs_struct *r)
{
	if (r->ip >= TASK_SIZE_MAX)
		return cr_err(ctx, -EINVAL, "ip %#lx is not a user address",
			      r->ip);
	if (!__is_canonical_address(r->sp, __VIRTUAL_MASK_SHIFT + 1))
		return cr_err(ctx, -EINVAL, "sp %#lx is not canonical", r->sp);
	if (r->fs_base >= TASK_SIZE_MAX || r->gs_base >= TASK_SIZE_MAX)
		return cr_err(ctx, -EINVAL,
			      "fs_base %#lx or gs_base %#lx is not a user address",
			      r->fs_base, r->gs_base);
	return 0;
}

static int read_regs(struct cr_ctx *ctx, struct cr_cpu_state *cpu)
{
	struct cr_hdr_cpu *hc;
	int ret;

	hc = cr_hbuf_get(ctx, sizeof(*hc));
	if (!hc)
		return -ENOMEM;
	ret = cr_read_rec(ctx, hc, CR_HDR_CPU, sizeof(*hc));
	if (!ret && hc->reserved)
		ret = cr_err(ctx, -EINVAL, "cpu record: reserved field is not 0");
	if (!ret) {
		memcpy(&cpu->regs, hc->regs, sizeof(cpu->regs));
		ret = check_selectors(ctx, &cpu->regs);
	}
	if (!ret)
		ret = check_addresses(ctx, &cpu->regs);
	if (!ret)
		ret = check_syscall(ctx, &cpu->regs);
	cr_hbuf_put(ctx, hc);
	return ret;
}

/*
 * What restore can load: an area of the size and with only the features
 * of the NT_X86_XSTATE regset of this CPU, and no feature the FPU buffer of
 * the caller has no room for (validate_user_xstate_header() refuses those).
 */
static int check_xstate_rec(struct cr_ctx *ctx,
			    const struct cr_hdr_xstate *hx, u32 extra)
{
	u64 missing;

	if (hx->reserved)
		return cr_err(ctx, -EINVAL,
			      "xstate record: reserved field is not 0");
	if (hx->size != extra)
		return cr_err(ctx, -EINVAL,
			      "xstate record holds %u bytes of xsave area, not %u",
			      extra, hx->size);
	if (hx->size != fpu_user_cfg.max_size)
		return cr_err(ctx, -EOPNOTSUPP,
			      "image xsave area is %u bytes, this CPU's %u",
			      hx->size, fpu_user_cfg.max_size);
	missing = hx->xfeatures & ~fpu_user_cfg.max_features;
	if (missing)
		return cr_err(ctx, -EOPNOTSUPP,
			      "this CPU lacks the xstate features %#llx of the image",
			      missing);
	missing = hx->xfeatures & ~current->thread.fpu.fpstate->user_xfeatures;
	if (missing)
		return cr_err(ctx, -EOPNOTSUPP,
			      "xstate features %#llx are not enabled for the caller (arch_prctl(ARCH_REQ_XCOMP_PERM)): not supported yet",
			      missing);
	return 0;
}

/* What copy_uabi_from_kernel_to_xstate() refuses, checked up front */
static int check_xstate_area(struct cr_ctx *ctx, const void *xstate,
			     u64 xfeatures)
{
	u32 mxcsr = xstate_mxcsr(xstate);
	struct xstate_header hdr;

	xstate_header(xstate, &hdr);
	if (hdr.xfeatures != xfeatures)
		return cr_err(ctx, -EINVAL,
			      "xsave header has features %#llx, the record %#llx",
			      hdr.xfeatures, xfeatures);
	if (hdr.xcomp_bv || memchr_inv(hdr.reserved, 0, sizeof(hdr.reserved)))
		return cr_err(ctx, -EINVAL,
			      "xsave header is compacted or has reserved bits set");
	if (mxcsr & ~mxcsr_feature_mask)
		return cr_err(ctx, -EOPNOTSUPP,
			      "MXCSR %#x has bits this CPU does not have (mask %#x)",
			      mxcsr, mxcsr_feature_mask);
	return 0;
}

static int read_xstate_area(struct cr_ctx *ctx, struct cr_cpu_state *cpu,
			    const struct cr_hdr_xstate *hx)
{
	void *xstate __free(kvfree) = kvmalloc(hx->size, GFP_KERNEL);
	int ret;

	if (!xstate)
		return -ENOMEM;
	ret = cr_read(ctx, xstate, hx->size);
	if (!ret)
		ret = check_xstate_area(ctx, xstate, hx->xfeatures);
	if (ret)
		return ret;
	cpu->xfeatures = hx->xfeatures;
	cpu->xstate = no_free_ptr(xstate);
	return 0;
}

static int read_xstate(struct cr_ctx *ctx, struct cr_cpu_state *cpu)
{
	struct cr_hdr_xstate *hx;
	u32 extra;
	int ret;

	hx = cr_hbuf_get(ctx, sizeof(*hx));
	if (!hx)
		return -ENOMEM;
	ret = cr_read_rec_ext(ctx, hx, CR_HDR_XSTATE, sizeof(*hx), &extra);
	if (!ret)
		ret = check_xstate_rec(ctx, hx, extra);
	if (!ret)
		ret = read_xstate_area(ctx, cpu, hx);
	if (!ret)
		ret = cr_read_rec_end(ctx, hx->h.len);
	cr_hbuf_put(ctx, hx);
	return ret;
}

static void free_state(struct cr_cpu_state *cpu)
{
	if (!cpu)
		return;
	kvfree(cpu->xstate);
	kfree(cpu->intr);
	kfree(cpu);
}

/* The task work: the registers of the interrupted call, for get_signal() */
static void set_interrupted(struct callback_head *work)
{
	struct interrupted *intr = container_of(work, struct interrupted, work);
	struct pt_regs *regs = current_pt_regs();

	regs->orig_ax = intr->nr;
	regs->ax = intr->err;
	kfree(intr);
}

/*
 * Allocated before the point of no return, as restoring cannot fail.  A
 * task of a tree returns to user space through ret_from_fork(), which
 * clears ax after the restart: it needs the work for ax alone too.
 */
static int alloc_interrupted(struct cr_ctx *ctx, struct cr_cpu_state *cpu)
{
	if (cpu->regs.orig_ax == -1UL && !ctx->tree)
		return 0;
	cpu->intr = kzalloc(sizeof(*cpu->intr), GFP_KERNEL);
	if (!cpu->intr)
		return -ENOMEM;
	init_task_work(&cpu->intr->work, set_interrupted);
	cpu->intr->nr = cpu->regs.orig_ax;
	cpu->intr->err = cpu->regs.ax;
	return 0;
}

/**
 * cr_read_cpu() - read the registers and the extended state of a task
 * @ctx: the restart.
 *
 * Reads the %CR_HDR_CPU and %CR_HDR_XSTATE records into @ctx->cpu and
 * checks that cr_restore_cpu() can give them to the caller.  Changes
 * nothing else.
 *
 * Context: process context, before the point of no return; may sleep.
 * Return: 0, -EINVAL for a malformed record, -EOPNOTSUPP (with a message)
 * for state this CPU or the caller cannot hold, or another negative errno.
 */
int cr_read_cpu(struct cr_ctx *ctx)
{
	struct cr_cpu_state *cpu;
	int ret;

	if (WARN_ON_ONCE(ctx->cpu))
		return -EINVAL;
	ret = check_caller(ctx);
	if (ret)
		return ret;
	cpu = kzalloc(sizeof(*cpu), GFP_KERNEL);
	if (!cpu)
		return -ENOMEM;
	ret = read_regs(ctx, cpu);
	if (!ret)
		ret = alloc_interrupted(ctx, cpu);
	if (!ret)
		ret = read_xstate(ctx, cpu);
	if (ret) {
		free_state(cpu);
		return ret;
	}
	ctx->cpu = cpu;
	return 0;
}

/*
 * Without x87, SSE or AVX state in the area, copy_uabi_from_kernel_to_xstate()
 * leaves MXCSR alone, but XRSTOR loads it all the same: give it the value of
 * the area (the default one, as the regset writes it), not the caller's.
 */
static void restore_mxcsr(struct fpstate *fpstate,
			  const struct cr_cpu_state *cpu)
{
	if (!(cpu->xfeatures & MXCSR_XFEATURES))
		fpstate->regs.xsave.i387.mxcsr = xstate_mxcsr(cpu->xstate);
}

/*
 * Load the registers now, as sigreturn of an ia32 frame does: XRSTOR of a
 * state it refuses then fails here, instead of warning on the return to
 * user space.  It loads PKRU too, which the copy put in the area and in
 * thread.pkru.
 */
static int load_fpregs(struct fpu *fpu)
{
	if (os_xrstor_safe(fpu->fpstate, fpu_kernel_cfg.max_features))
		return -EINVAL;
	fpregs_mark_activate();
	return 0;
}

/*
 * The FPU registers of the caller may be live in the CPU: save them first,
 * for the supervisor states the area does not hold, and mark them stale
 * while the memory state changes.  On failure, the caller is left with the
 * initial user state, as after a failed sigreturn.
 */
static int restore_xstate(const struct cr_cpu_state *cpu)
{
	struct fpu *fpu = &current->thread.fpu;
	int ret;

	fpregs_lock();
	if (!test_thread_flag(TIF_NEED_FPU_LOAD)) {
		save_fpregs_to_fpstate(fpu);
		set_thread_flag(TIF_NEED_FPU_LOAD);
	}
	__fpu_invalidate_fpregs_state(fpu);
	__cpu_invalidate_fpregs_state();
	ret = copy_uabi_from_kernel_to_xstate(fpu->fpstate, cpu->xstate,
					      &current->thread.pkru);
	if (!ret) {
		restore_mxcsr(fpu->fpstate, cpu);
		ret = load_fpregs(fpu);
	}
	fpregs_unlock();
	if (ret)
		fpu__clear_user_states(fpu);
	return ret;
}

/* 64-bit tasks use null data selectors and the fs and gs base registers */
static int restore_segments(const struct user_regs_struct *r)
{
	long ret;

	loadsegment(ds, 0);
	loadsegment(es, 0);
	ret = do_arch_prctl_64(current, ARCH_SET_FS, r->fs_base);
	if (!ret)
		ret = do_arch_prctl_64(current, ARCH_SET_GS, r->gs_base);
	return ret;
}

/* As restore_sigcontext() does, with the selectors of a 64-bit task */
static void restore_regs(struct pt_regs *regs,
			 const struct user_regs_struct *r)
{
	regs->r15 = r->r15;
	regs->r14 = r->r14;
	regs->r13 = r->r13;
	regs->r12 = r->r12;
	regs->bp = r->bp;
	regs->bx = r->bx;
	regs->r11 = r->r11;
	regs->r10 = r->r10;
	regs->r9 = r->r9;
	regs->r8 = r->r8;
	regs->ax = r->ax;
	regs->cx = r->cx;
	regs->dx = r->dx;
	regs->si = r->si;
	regs->di = r->di;
	regs->ip = r->ip;
	regs->sp = r->sp;
	regs->flags = (regs->flags & ~FIX_EFLAGS) | (r->flags & FIX_EFLAGS);
	regs->cs = __USER_CS;
	regs->ss = __USER_DS;
	/*
	 * Not in a system call: no syscall restart on the way out (see
	 * cr_restore_cpu()); a restart block of the 64-bit ABI (arch_data).
	 */
	regs->orig_ax = -1;
	set_restart_fn(&current->restart_block, do_no_restart_syscall);
}

/*
 * What the caller set up for itself and the image does not describe, as
 * execve() clears it: its TLS descriptors (the image of a task that had
 * any is refused) and the hardware breakpoints of its tracer.
 */
static void clear_caller_state(void)
{
	struct task_struct *t = current;

	flush_ptrace_hw_breakpoint(t);
	memset(t->thread.tls_array, 0, sizeof(t->thread.tls_array));
	load_TLS(&t->thread, get_cpu());
	put_cpu();
}

/**
 * cr_restore_cpu() - give the caller the registers read from the image
 * @ctx: the restart, after cr_read_cpu().
 * @ax: where to put the saved ax, the value the restart system call must
 *      return.
 *
 * The extended state, the fs and gs bases and the general registers of
 * the caller become those of @ctx->cpu; the return to user space loads
 * them.  The caller's address space must already be the restored one.
 * For a task interrupted in a system call, restart returns 0 and a task
 * work run by get_signal(), before signal delivery, gives the registers
 * the system call and its -ERESTART* error: delivery then decides between
 * -EINTR and making the call again, as for the task before the checkpoint.
 * A task of a tree gets its ax from the task work in every case.
 *
 * Context: the restarting task, single-threaded, after the point of no
 * return.
 * Return: 0, or a negative errno if the state could not be restored: an
 * xsave area XRSTOR refuses though cr_read_cpu() accepted it, such as an
 * AMX tile configuration the CPU does not support, which is not checked
 * before the point of no return (the caller is then killed).
 */
int cr_restore_cpu(struct cr_ctx *ctx, long *ax)
{
	struct cr_cpu_state *cpu = ctx->cpu;
	int ret;

	if (WARN_ON_ONCE(!cpu))
		return -EINVAL;
	clear_caller_state();
	ret = restore_xstate(cpu);
	if (!ret)
		ret = restore_segments(&cpu->regs);
	if (ret)
		return ret;
	restore_regs(current_pt_regs(), &cpu->regs);
	*ax = cpu->regs.ax;
	if (cpu->intr) {
		/* Before any signal, get_signal() runs the work */
		*ax = 0;
		if (task_work_add(current, &cpu->intr->work, TWA_SIGNAL))
			kfree(cpu->intr);
		cpu->intr = NULL;
	}
	return 0;
}

/**
 * cr_free_cpu() - free the registers read by cr_read_cpu()
 * @ctx: the restart; @ctx->cpu may be %NULL.
 */
void cr_free_cpu(struct cr_ctx *ctx)
{
	free_state(ctx->cpu);
	ctx->cpu = NULL;
}
