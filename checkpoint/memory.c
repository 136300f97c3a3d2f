// SPDX-License-Identifier: GPL-2.0
/*
 * The address space of a task: its areas, the files they map, the pages
 * that differ from what mapping the areas again gives, and the mm fields
 * and auxiliary vector that go with them.
 *
 * Checkpoint takes a snapshot of the areas under mmap_lock, refusing those
 * this version cannot restore, and writes it.  Then it writes the
 * anonymous pages, present or swapped out: a page-table walk skips the
 * holes, get_user_pages_remote() reads the pages, in batches written with
 * the lock dropped.
 *
 * Shared anonymous memory is saved as objects, each area naming its object
 * by an objref; the first area of an object carries the pages of its page
 * cache.  Restart creates and fills the objects before the point of no
 * return and maps every area of an object on that one object.
 *
 * Restart reads and checks all but the pages, and opens the files with the
 * caller's permissions, before the point of no return.  After it, the
 * caller's areas are unmapped, the vDSO and the areas of the image are
 * mapped at their addresses, and each page record is written in place.
 */

#include <linux/auxvec.h>
#include <linux/build_bug.h>
#include <linux/checkpoint.h>
#include <linux/dcache.h>
#include <linux/err.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/fs_struct.h>
#include <linux/highmem.h>
#include <linux/hugetlb.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/namei.h>
#include <linux/pagewalk.h>
#include <linux/path.h>
#include <linux/personality.h>
#include <linux/pkeys.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/magic.h>
#include <linux/mount.h>
#include <linux/pagemap.h>
#include <linux/security.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/swap.h>
#include <linux/userfaultfd_k.h>
#include <asm/vdso.h>

/* Most areas an image may have; vm.max_map_count is 65530 by default */
#define CR_VMAS_MAX	65536

#define CR_PROT_MASK	(PROT_READ | PROT_WRITE | PROT_EXEC)
#define CR_VMA_FLAGS	(CR_VMA_GROWSDOWN | CR_VMA_DONTFORK |		\
			 CR_VMA_DONTDUMP | CR_VMA_WIPEONFORK |		\
			 CR_VMA_NORESERVE | CR_VMA_SHARED |		\
			 CR_VMA_MAYWRITE | CR_VMA_LOCKED |		\
			 CR_VMA_LOCKONFAULT | CR_VMA_INHERIT)
/* What an area inherited from the parent cannot be */
#define CR_VMA_NOINHERIT (CR_VMA_DONTFORK | CR_VMA_WIPEONFORK |		\
			  CR_VMA_SHARED | CR_VMA_MAYWRITE |		\
			  CR_VMA_LOCKED | CR_VMA_LOCKONFAULT)
#define CR_MM_FLAGS	(CR_MM_LOCK_FUTURE | CR_MM_LOCK_ONFAULT)

/* Name of the file of a shared anonymous object, as shmem_zero_setup() */
#define SHMEM_NAME	"dev/zero"

/* Room for a path record's string and its NUL */
#define PATH_BUF_LEN	(CR_PATH_MAX + 1)

/**
 * struct cr_vma - one area, as saved or as read from an image
 * @start: first address.
 * @end: address past the last byte.
 * @pgoff: offset in @file, in pages.
 * @file_size: size of @file.
 * @file: the file mapped, with a reference, for %CR_VMA_FILE; the shared
 *        memory object for %CR_VMA_SHMEM.
 * @prot: PROT_* bits.
 * @kind: CR_VMA_* kind.
 * @flags: CR_VMA_* flag bits.
 * @objref: the shared memory object, for %CR_VMA_SHMEM.
 * @obj: its id among the objects of a tree, or 0.
 * @has_anon: the area may hold anonymous pages (checkpoint).
 * @obj_first: first area of its shared memory object (in the image, for a
 *             tree), which writes or reads its pages.
 */
struct cr_vma {
	unsigned long start;
	unsigned long end;
	unsigned long pgoff;
	u64 file_size;
	struct file *file;
	u32 prot;
	u32 kind;
	u32 flags;
	u32 objref;
	u32 obj;
	bool has_anon;
	bool obj_first;
};

/**
 * struct cr_mm_state - address space read from an image, until restored
 * @hdr: the mm record.
 * @exe: the executable, opened with open_exec(): write access denied.
 * @vmas: the areas, sorted by address.
 * @nr_vmas: their number.
 * @vdso: the vDSO text among @vmas, or %NULL.
 * @vvar: the vDSO data among @vmas, or %NULL.
 * @objs: the first area of each shared memory object, by objref - 1.
 * @nr_objs: number of shared memory objects.
 * @locked: bytes of the areas locked in memory.
 * @nr_inherit: number of areas kept from the parent (%CR_VMA_INHERIT).
 * @next: lowest address the next page may have, when @nr_inherit: the
 *        pages of the inherited areas below it are decided.
 * @drop: index of the first inherited area that may still hold pages of
 *        the parent's below @next.
 * @restored: the areas were mapped, pages may be written into them.
 */
struct cr_mm_state {
	struct cr_hdr_mm hdr;
	struct file *exe;
	struct cr_vma *vmas;
	unsigned int nr_vmas;
	const struct cr_vma *vdso;
	const struct cr_vma *vvar;
	const struct cr_vma **objs;
	unsigned int nr_objs;
	u64 locked;
	unsigned int nr_inherit;
	u64 next;
	unsigned int drop;
	bool restored;
};

/**
 * struct mm_snap - what checkpoint saved of an address space
 * @pid: the task, for messages.
 * @mm: its address space, with a reference.
 * @hdr: the mm record being built.
 * @exe: the executable, with a reference.
 * @vmas: the areas, each file with a reference.
 * @nr_vmas: their number.
 * @vdso: the vDSO text among @vmas, or %NULL.
 * @vvar: the vDSO data among @vmas, or %NULL.
 * @nr_objs: number of shared memory objects among @vmas.
 * @buf: room for path names.
 * @pmm: the address space of the parent in the tree, with a reference,
 *       whose pages the task may share; or %NULL.
 */
struct mm_snap {
	pid_t pid;
	struct mm_struct *mm;
	struct mm_struct *pmm;
	struct cr_hdr_mm *hdr;
	struct file *exe;
	struct cr_vma *vmas;
	unsigned int nr_vmas;
	const struct cr_vma *vdso;
	const struct cr_vma *vvar;
	unsigned int nr_objs;
	char *buf;
};

/**
 * struct page_batch - pages read under mmap_lock, written without it
 * @addrs: their addresses.
 * @data: their contents, %CR_PAGES_MAX pages of room.
 * @pages: the pages of an inherited area, with a reference, until they
 *         are compared with the parent's.
 * @cow: which are the parent's: their contents are not saved.
 * @nr: how many.
 */
struct page_batch {
	u64 *addrs;
	void *data;
	struct page **pages;
	DECLARE_BITMAP(cow, CR_PAGES_MAX);
	unsigned int nr;
};

static void put_vmas(struct cr_vma *vmas, unsigned int nr)
{
	unsigned int i;

	if (!vmas)
		return;
	for (i = 0; i < nr; i++) {
		if (vmas[i].file)
			fput(vmas[i].file);
	}
	kvfree(vmas);
}

/* Checkpoint: the snapshot of the areas */

static u32 vma_prot(vm_flags_t f)
{
	return (f & VM_READ ? PROT_READ : 0) |
	       (f & VM_WRITE ? PROT_WRITE : 0) |
	       (f & VM_EXEC ? PROT_EXEC : 0);
}

static u32 vma_flags(vm_flags_t f)
{
	return (f & VM_GROWSDOWN ? CR_VMA_GROWSDOWN : 0) |
	       (f & VM_DONTCOPY ? CR_VMA_DONTFORK : 0) |
	       (f & VM_DONTDUMP ? CR_VMA_DONTDUMP : 0) |
	       (f & VM_WIPEONFORK ? CR_VMA_WIPEONFORK : 0) |
	       (f & VM_NORESERVE ? CR_VMA_NORESERVE : 0) |
	       (f & VM_LOCKED ? CR_VMA_LOCKED : 0) |
	       (f & VM_LOCKONFAULT ? CR_VMA_LOCKONFAULT : 0);
}

/* Shared file flags: MAP_SHARED, and VM_SHARED if the file is writable */
static u32 vma_share_flags(vm_flags_t f)
{
	if (!(f & VM_MAYSHARE))
		return 0;
	return CR_VMA_SHARED | (f & VM_SHARED ? CR_VMA_MAYWRITE : 0);
}

/*
 * A file whose data is not in a file system one can name it in: a memfd,
 * shared memory of the kernel, procfs, sysfs.
 */
static bool pseudo_file(const struct path *path)
{
	const struct super_block *sb = path->mnt->mnt_sb;

	return (path->mnt->mnt_flags & MNT_INTERNAL) ||
	       (sb->s_flags & SB_NOUSER) || sb->s_magic == PROC_SUPER_MAGIC ||
	       sb->s_magic == SYSFS_MAGIC;
}

/* MAP_SHARED|MAP_ANONYMOUS or a shared mapping of /dev/zero */
static bool shared_anon(struct vm_area_struct *vma)
{
	/* A memfd is unlinked too; SysV shm has its own vm_ops */
	return vma_is_anon_shmem(vma) && (vma->vm_flags & VM_MAYSHARE) &&
	       IS_PRIVATE(file_inode(vma->vm_file)) &&
	       !strcmp(vma->vm_file->f_path.dentry->d_name.name, SHMEM_NAME);
}

/* The name of a special mapping, such as "[vdso]", or NULL */
static const char *special_name(struct vm_area_struct *vma)
{
	if (vma->vm_file || !vma->vm_ops || !vma->vm_ops->name)
		return NULL;
	return vma->vm_ops->name(vma);
}

static const char *file_kind(struct vm_area_struct *vma, u32 *kind)
{
	const struct path *path = file_user_path(vma->vm_file);
	const struct inode *inode = file_user_inode(vma->vm_file);

	if (!S_ISREG(inode->i_mode))
		return "non-regular file";
	if ((vma->vm_flags & VM_MAYSHARE) && pseudo_file(path))
		return "shared pseudo-filesystem file";
	if (!inode->i_nlink || d_unlinked(path->dentry))
		return "deleted file";
	*kind = CR_VMA_FILE;
	return NULL;
}

/*
 * The CR_VMA_* kind of @vma in *@kind; or, when this version cannot save
 * it, what it is, for the message.
 */
static const char *vma_kind(struct vm_area_struct *vma, u32 *kind)
{
	unsigned long vdso = (unsigned long)vma->vm_mm->context.vdso;
	vm_flags_t f = vma->vm_flags;
	const char *name;

	if (f & VM_HUGETLB)
		return "hugetlb";
	if (userfaultfd_armed(vma))
		return "userfaultfd";
	if (f & VM_SHADOW_STACK)
		return "shadow stack";
	if (f & VM_DROPPABLE)
		return "droppable";
	if (f & VM_SEALED)
		return "sealed";
	/* An execute-only area gets its key from mmap(PROT_EXEC) again */
	if (vma_pkey(vma) && vma_prot(f) != PROT_EXEC)
		return "protection key";
	name = special_name(vma);
	if (name && !strcmp(name, "[vdso]") && vma->vm_start == vdso)
		*kind = CR_VMA_VDSO;
	else if (name && !strcmp(name, "[vvar]") && vma->vm_end == vdso)
		*kind = CR_VMA_VVAR;
	else if (name)
		return "special";
	else if (f & (VM_IO | VM_PFNMAP | VM_MIXEDMAP))
		return "device";
	else if (vma_is_anonymous(vma))	/* a private /dev/zero one too */
		*kind = CR_VMA_ANON;
	else if (!vma->vm_file)
		return "special";
	else if (shared_anon(vma))
		*kind = CR_VMA_SHMEM;
	else
		return file_kind(vma, kind);
	return NULL;
}

/*
 * In a tree, the object of the first area of a shared memory object of
 * the task: its pages go with the first process that maps it.  Numbered
 * as the areas are snapped, just before they are written.
 */
static int tree_shmem(struct cr_ctx *ctx, struct cr_vma *v,
		      const struct inode *inode)
{
	struct cr_obj *obj = cr_obj_track(ctx, inode, NULL, CR_OBJ_SHMEM);

	if (!obj)
		return -ENOMEM;
	if (!obj->id)
		cr_obj_number(ctx, obj);
	else
		v->obj_first = false;
	v->obj = obj->id;
	return 0;
}

/*
 * The object of a shared anonymous area, mapped by the task only (or, in
 * a tree, by its processes): its objref, the same as an earlier area's of
 * the same object.  Called with mmap_lock held.
 */
static int snap_shmem(struct cr_ctx *ctx, struct mm_snap *s,
		      struct vm_area_struct *vma, struct cr_vma *v)
{
	struct address_space *mapping = vma->vm_file->f_mapping;
	struct vm_area_struct *other;
	unsigned int i;
	bool shared = false;

	/* In a tree, by its processes only (their mms are its objects) */
	i_mmap_lock_read(mapping);
	vma_interval_tree_foreach(other, &mapping->i_mmap, 0, ULONG_MAX) {
		if (other->vm_mm != vma->vm_mm &&
		    (!ctx->tree || !cr_obj_find(ctx, other->vm_mm)))
			shared = true;
	}
	i_mmap_unlock_read(mapping);
	if (shared)
		return cr_err(ctx, -EBUSY,
			      "task %d: shared anonymous memory at %#lx-%#lx is mapped by %s",
			      s->pid, vma->vm_start, vma->vm_end,
			      ctx->tree ? "a process outside the tree" :
			      "another process");
	v->file_size = i_size_read(file_inode(vma->vm_file));
	if (v->pgoff + vma_pages(vma) > v->file_size >> PAGE_SHIFT)
		return cr_err(ctx, -EOPNOTSUPP,
			      "task %d: shared anonymous memory at %#lx-%#lx goes beyond its object",
			      s->pid, vma->vm_start, vma->vm_end);
	for (i = 0; i < s->nr_vmas; i++) {
		if (s->vmas[i].kind == CR_VMA_SHMEM &&
		    file_inode(s->vmas[i].file) == file_inode(vma->vm_file)) {
			v->objref = s->vmas[i].objref;
			v->obj = s->vmas[i].obj;
			return 0;
		}
	}
	v->objref = ++s->nr_objs;
	v->obj_first = true;
	return ctx->tree ? tree_shmem(ctx, v, file_inode(vma->vm_file)) : 0;
}

static int snap_vma(struct cr_ctx *ctx, struct mm_snap *s,
		    struct vm_area_struct *vma)
{
	struct cr_vma *v = &s->vmas[s->nr_vmas];
	const char *what;
	u32 kind;
	int ret;

	what = vma_kind(vma, &kind);
	if (what)
		return cr_err(ctx, -EOPNOTSUPP,
			      "task %d: %s mapping at %#lx-%#lx is not supported yet",
			      s->pid, what, vma->vm_start, vma->vm_end);
	v->start = vma->vm_start;
	v->end = vma->vm_end;
	v->prot = vma_prot(vma->vm_flags);
	v->kind = kind;
	switch (kind) {
	case CR_VMA_VDSO:
		s->vdso = v;
		break;
	case CR_VMA_VVAR:
		s->vvar = v;
		break;
	case CR_VMA_SHMEM:
		v->pgoff = vma->vm_pgoff;
		v->flags = vma_flags(vma->vm_flags);
		ret = snap_shmem(ctx, s, vma, v);
		if (ret)
			return ret;
		v->file = get_file(vma->vm_file);
		break;
	case CR_VMA_FILE:
		v->file = get_file(vma->vm_file);
		v->pgoff = vma->vm_pgoff;
		v->file_size = i_size_read(file_user_inode(vma->vm_file));
		fallthrough;
	case CR_VMA_ANON:
		v->flags = vma_flags(vma->vm_flags) |
			   vma_share_flags(vma->vm_flags);
		/* No anon_vma, no anonymous page: nothing to read */
		v->has_anon = vma->anon_vma && !(v->flags & CR_VMA_SHARED);
		break;
	}
	s->nr_vmas++;
	return 0;
}

/* Called with mmap_lock held */
static int snap_vmas(struct cr_ctx *ctx, struct mm_snap *s)
{
	struct mm_struct *mm = s->mm;
	struct vm_area_struct *vma;
	int ret = 0;

	VMA_ITERATOR(vmi, mm, 0);

	if (!mm->map_count || mm->map_count > CR_VMAS_MAX)
		return cr_err(ctx, -EOPNOTSUPP, "task %d has %d memory areas",
			      s->pid, mm->map_count);
	s->vmas = kvcalloc(mm->map_count, sizeof(*s->vmas), GFP_KERNEL);
	if (!s->vmas)
		return -ENOMEM;
	for_each_vma(vmi, vma) {
		if (WARN_ON_ONCE(s->nr_vmas == mm->map_count))
			return -EINVAL;
		ret = snap_vma(ctx, s, vma);
		if (ret)
			break;
	}
	return ret;
}

/* Called with mmap_lock held */
static void snap_fields(struct mm_snap *s)
{
	struct mm_struct *mm = s->mm;
	struct cr_hdr_mm *h = s->hdr;
	int i;

	spin_lock(&mm->arg_lock);
	h->start_code = mm->start_code;
	h->end_code = mm->end_code;
	h->start_data = mm->start_data;
	h->end_data = mm->end_data;
	h->start_brk = mm->start_brk;
	h->brk = mm->brk;
	h->start_stack = mm->start_stack;
	h->arg_start = mm->arg_start;
	h->arg_end = mm->arg_end;
	h->env_start = mm->env_start;
	h->env_end = mm->env_end;
	spin_unlock(&mm->arg_lock);
	if (mm->def_flags & VM_LOCKED)
		h->flags = CR_MM_LOCK_FUTURE |
			   (mm->def_flags & VM_LOCKONFAULT ? CR_MM_LOCK_ONFAULT : 0);

	/* Up to the first AT_NULL; the last pair is always left AT_NULL */
	for (i = 0; i + 2 < AT_VECTOR_SIZE && mm->saved_auxv[i] != AT_NULL;
	     i += 2) {
		h->auxv[i] = mm->saved_auxv[i];
		h->auxv[i + 1] = mm->saved_auxv[i + 1];
	}
}

/* The vDSO must be this kernel's, as it maps it, for restart to map it */
static int check_vdso(struct cr_ctx *ctx, struct mm_snap *s)
{
	const struct cr_vma *vdso = s->vdso, *vvar = s->vvar;

	if (!vdso && !vvar)
		return 0;
	if (!vdso || !vvar)
		return cr_err(ctx, -EOPNOTSUPP,
			      "task %d: vDSO text or data area missing", s->pid);
	if (s->mm->context.vdso_image != &vdso_image_64)
		return cr_err(ctx, -EOPNOTSUPP,
			      "task %d: not a 64-bit vDSO", s->pid);
	if (vdso->end - vdso->start != vdso_image_64.size ||
	    vvar->end - vvar->start !=
	    (unsigned long)-vdso_image_64.sym_vvar_start ||
	    vdso->prot != (PROT_READ | PROT_EXEC) || vvar->prot != PROT_READ)
		return cr_err(ctx, -EOPNOTSUPP,
			      "task %d: modified vDSO at %#lx", s->pid,
			      vdso->start);
	return 0;
}

/*
 * Mark the private anonymous areas the parent has too, at the same
 * addresses and with the same protection and flags: restart keeps the
 * copy of the parent's a child gets from fork, and with it the pages the
 * two still share.
 */
static int mark_inherited(struct cr_ctx *ctx, struct mm_snap *s)
{
	struct vm_area_struct *vma;
	unsigned int i;
	u32 kind;

	if (!s->pmm)
		return 0;
	if (mmap_read_lock_killable(s->pmm))
		return cr_err(ctx, -EINTR, "killed while saving memory");
	for (i = 0; i < s->nr_vmas; i++) {
		struct cr_vma *v = &s->vmas[i];

		if (v->kind != CR_VMA_ANON || !v->has_anon ||
		    (v->flags & CR_VMA_NOINHERIT))
			continue;
		vma = vma_lookup(s->pmm, v->start);
		if (!vma || vma->vm_start != v->start ||
		    vma->vm_end != v->end || !vma->anon_vma ||
		    vma_kind(vma, &kind) || kind != CR_VMA_ANON ||
		    vma_prot(vma->vm_flags) != v->prot ||
		    (vma_flags(vma->vm_flags) |
		     vma_share_flags(vma->vm_flags)) != v->flags)
			continue;
		v->flags |= CR_VMA_INHERIT;
	}
	mmap_read_unlock(s->pmm);
	return 0;
}

static int snap_mm(struct cr_ctx *ctx, struct mm_snap *s)
{
	int ret;

	if (s->mm->task_size != TASK_SIZE_MAX)
		return cr_err(ctx, -EOPNOTSUPP,
			      "task %d has a 32-bit address space", s->pid);
	if (mmap_read_lock_killable(s->mm))
		return cr_err(ctx, -EINTR, "killed while saving memory");
	ret = snap_vmas(ctx, s);
	if (!ret)
		snap_fields(s);
	mmap_read_unlock(s->mm);
	if (ret)
		return ret;
	ret = check_vdso(ctx, s);
	if (ret)
		return ret;
	ret = mark_inherited(ctx, s);
	if (ret)
		return ret;
	s->hdr->vdso = s->vdso ? s->vdso->start : 0;
	s->hdr->nr_vmas = s->nr_vmas;
	s->exe = get_mm_exe_file(s->mm);
	if (!s->exe)
		return cr_err(ctx, -EOPNOTSUPP, "task %d has no executable",
			      s->pid);
	return 0;
}

/* Checkpoint: the records */

static int name_err(struct cr_ctx *ctx, struct mm_snap *s,
		    const struct cr_vma *v, int err, const char *why)
{
	if (!v)
		return cr_err(ctx, err, "task %d: its executable %s", s->pid,
			      why);
	return cr_err(ctx, err, "task %d: the file mapped at %#lx %s", s->pid,
		      v->start, why);
}

/*
 * The name of @f, the executable or the file of @v, as the caller of
 * checkpoint sees it, in s->buf; or an ERR_PTR().
 */
static const char *name_file(struct cr_ctx *ctx, struct mm_snap *s,
			     struct file *f, const struct cr_vma *v)
{
	const struct path *path = file_user_path(f);
	struct path root;
	char *name;

	if (!d_inode(path->dentry)->i_nlink || d_unlinked(path->dentry))
		return ERR_PTR(name_err(ctx, s, v, -EOPNOTSUPP, "was deleted"));
	get_fs_root(current->fs, &root);
	name = __d_path(path, &root, s->buf, PATH_BUF_LEN);
	path_put(&root);
	if (!name)
		return ERR_PTR(name_err(ctx, s, v, -EOPNOTSUPP,
					"is outside the root directory"));
	if (IS_ERR(name))
		return ERR_PTR(name_err(ctx, s, v, PTR_ERR(name),
					"cannot be named"));
	return name;
}

static int write_exe(struct cr_ctx *ctx, struct mm_snap *s)
{
	const char *name = name_file(ctx, s, s->exe, NULL);

	if (IS_ERR(name))
		return PTR_ERR(name);
	return cr_write_string(ctx, CR_HDR_EXE, name);
}

static int alloc_batch(struct page_batch *b)
{
	b->nr = 0;
	bitmap_zero(b->cow, CR_PAGES_MAX);
	b->addrs = kmalloc_array(CR_PAGES_MAX, sizeof(*b->addrs), GFP_KERNEL);
	b->pages = kcalloc(CR_PAGES_MAX, sizeof(*b->pages), GFP_KERNEL);
	b->data = kvmalloc(CR_PAGES_MAX * PAGE_SIZE, GFP_KERNEL);
	return b->addrs && b->pages && b->data ? 0 : -ENOMEM;
}

static void free_batch(struct page_batch *b)
{
	kvfree(b->data);
	kfree(b->pages);
	kfree(b->addrs);
}

/*
 * One record of @type of the @n pages of @b from the @i-th; one of
 * CR_HDR_COW_PAGES has their addresses only
 */
static int write_run(struct cr_ctx *ctx, struct page_batch *b,
		     unsigned int i, unsigned int n, u32 type)
{
	size_t size = type == CR_HDR_COW_PAGES ? 0 : PAGE_SIZE;
	u32 extra = n * (sizeof(u64) + size);
	struct cr_hdr_pages *ph;
	int ret;

	ph = cr_hbuf_get(ctx, sizeof(*ph));
	if (!ph)
		return -ENOMEM;
	ph->nr_pages = n;
	ret = cr_write_rec_begin(ctx, ph, type, sizeof(*ph), extra);
	if (!ret)
		ret = cr_write(ctx, b->addrs + i, n * sizeof(u64));
	if (!ret && size)
		ret = cr_write(ctx, b->data + i * size, n * size);
	if (!ret)
		ret = cr_write_rec_end(ctx, sizeof(*ph) + extra);
	cr_hbuf_put(ctx, ph);
	return ret;
}

/*
 * CR_HDR_PAGES or CR_HDR_SHMEM_PAGES (@type) records of the pages of @b,
 * in address order: a run of pages the parent has is a CR_HDR_COW_PAGES
 * record.
 */
static int write_batch(struct cr_ctx *ctx, struct page_batch *b, u32 type)
{
	unsigned int i = 0, n;
	bool cow;
	int ret = 0;

	while (i < b->nr && !ret) {
		cow = test_bit(i, b->cow);
		for (n = 1; i + n < b->nr && test_bit(i + n, b->cow) == cow; n++)
			;
		ret = write_run(ctx, b, i, n, cow ? CR_HDR_COW_PAGES : type);
		i += n;
	}
	bitmap_zero(b->cow, CR_PAGES_MAX);
	b->nr = 0;
	return ret;
}

/*
 * The next range of @mapping holding data (a page in memory or swapped
 * out) at or after @pos, in [*@start, *@end), page aligned; false if none.
 */
static bool next_data(struct address_space *mapping, loff_t pos, loff_t size,
		      loff_t *start, loff_t *end)
{
	loff_t data, hole;

	if (pos >= size)
		return false;
	data = mapping_seek_hole_data(mapping, pos, size, SEEK_DATA);
	if (data < 0 || data >= size)
		return false;
	hole = mapping_seek_hole_data(mapping, data, size, SEEK_HOLE);
	if (hole < 0 || hole > size)
		hole = size;
	*start = round_down(data, PAGE_SIZE);
	*end = round_up(hole, PAGE_SIZE);
	return true;
}

/* Pages of a shared memory object holding data */
static u64 count_shmem(struct file *f)
{
	loff_t size = i_size_read(file_inode(f)), pos = 0, start, end;
	u64 nr = 0;

	while (next_data(f->f_mapping, pos, size, &start, &end)) {
		nr += (end - start) >> PAGE_SHIFT;
		pos = end;
	}
	return nr;
}

/* Read the page at @pos of the object @f into @b, swapping it in */
static int read_shmem_page(struct cr_ctx *ctx, struct file *f, loff_t pos,
			   struct page_batch *b)
{
	pgoff_t index = pos >> PAGE_SHIFT;
	struct folio *folio;

	folio = shmem_read_folio(f->f_mapping, index);
	if (IS_ERR(folio))
		return cr_err(ctx, PTR_ERR(folio),
			      "reading shared memory at offset %#llx failed",
			      pos);
	memcpy_from_page(b->data + (size_t)b->nr * PAGE_SIZE,
			 folio_file_page(folio, index), 0, PAGE_SIZE);
	folio_put(folio);
	b->addrs[b->nr++] = pos;
	return 0;
}

/* The CR_HDR_SHMEM_PAGES records of @nr pages of the object @f */
static int write_shmem_pages(struct cr_ctx *ctx, struct file *f, u64 nr)
{
	loff_t size = i_size_read(file_inode(f)), pos = 0, start, end;
	struct page_batch b;
	u64 done = 0;
	int ret;

	ret = alloc_batch(&b);
	while (!ret && next_data(f->f_mapping, pos, size, &start, &end)) {
		for (pos = start; pos < end && !ret; pos += PAGE_SIZE) {
			if (done++ == nr)
				ret = cr_err(ctx, -EBUSY,
					     "shared memory changed while saved");
			else if (fatal_signal_pending(current))
				ret = cr_err(ctx, -EINTR, "killed while saving memory");
			else
				ret = read_shmem_page(ctx, f, pos, &b);
			if (!ret && b.nr == CR_PAGES_MAX)
				ret = write_batch(ctx, &b, CR_HDR_SHMEM_PAGES);
		}
		pos = end;
	}
	if (!ret)
		ret = write_batch(ctx, &b, CR_HDR_SHMEM_PAGES);
	free_batch(&b);
	if (!ret && done != nr)
		ret = cr_err(ctx, -EBUSY, "shared memory changed while saved");
	return ret;
}

/* The CR_HDR_SHMEM record of @v, then the pages of its object if first */
static int write_shmem(struct cr_ctx *ctx, struct mm_snap *s,
		       const struct cr_vma *v)
{
	struct cr_hdr_shmem *sh;
	u64 nr = v->obj_first ? count_shmem(v->file) : 0;
	int ret;

	sh = cr_hbuf_get(ctx, sizeof(*sh));
	if (!sh)
		return -ENOMEM;
	sh->objref = v->objref;
	sh->obj = v->obj;
	sh->size = v->file_size;
	sh->nr_pages = nr;
	ret = cr_write_rec(ctx, sh, CR_HDR_SHMEM, sizeof(*sh));
	cr_hbuf_put(ctx, sh);
	if (ret || !v->obj_first)
		return ret;
	return write_shmem_pages(ctx, v->file, nr);
}

static int write_vma(struct cr_ctx *ctx, struct mm_snap *s,
		     const struct cr_vma *v)
{
	struct cr_hdr_vma *vh;
	const char *name;
	int ret;

	vh = cr_hbuf_get(ctx, sizeof(*vh));
	if (!vh)
		return -ENOMEM;
	vh->start = v->start;
	vh->end = v->end;
	vh->pgoff = v->pgoff;
	/* The size of a shared memory object is in its own record */
	vh->file_size = v->kind == CR_VMA_FILE ? v->file_size : 0;
	vh->prot = v->prot;
	vh->kind = v->kind;
	vh->flags = v->flags;
	ret = cr_write_rec(ctx, vh, CR_HDR_VMA, sizeof(*vh));
	cr_hbuf_put(ctx, vh);
	if (!ret && v->kind == CR_VMA_SHMEM)
		return write_shmem(ctx, s, v);
	if (ret || v->kind != CR_VMA_FILE)
		return ret;
	name = name_file(ctx, s, v->file, v);
	if (IS_ERR(name))
		return PTR_ERR(name);
	return cr_write_string(ctx, CR_HDR_VMA_PATH, name);
}

static int write_vmas(struct cr_ctx *ctx, struct mm_snap *s)
{
	unsigned int i;
	int ret = 0;

	for (i = 0; i < s->nr_vmas && !ret; i++)
		ret = write_vma(ctx, s, &s->vmas[i]);
	return ret;
}

/* Checkpoint: the pages */

/*
 * pmd_entry of find_ops: stop at the first entry that is not empty.  A
 * huge or swapped out pmd is not looked into: the caller only needs a
 * place to try get_user_pages_remote() at.
 */
static int find_pmd(pmd_t *pmd, unsigned long addr, unsigned long end,
		    struct mm_walk *walk)
{
	pmd_t pmdval = pmdp_get_lockless(pmd);
	unsigned long *found = walk->private;
	pte_t *start, *pte;
	spinlock_t *ptl;	/* of the page table */

	walk->action = ACTION_CONTINUE;
	if (!pmd_present(pmdval) || pmd_leaf(pmdval)) {
		*found = addr;
		return 1;
	}
	start = pte_offset_map_lock(walk->mm, pmd, addr, &ptl);
	if (!start) {
		walk->action = ACTION_AGAIN;
		return 0;
	}
	for (pte = start; addr < end; pte++, addr += PAGE_SIZE) {
		if (!pte_none(ptep_get(pte)))
			break;
	}
	pte_unmap_unlock(start, ptl);
	if (addr < end) {
		*found = addr;
		return 1;
	}
	cond_resched();
	return 0;
}

static const struct mm_walk_ops find_ops = {
	.pmd_entry = find_pmd,
	.walk_lock = PGWALK_RDLOCK,
};

/*
 * The first address in [@addr, @end) with something mapped or swapped out
 * at it, or @end.  Called with mmap_lock held.
 */
static unsigned long next_mapped(struct mm_struct *mm, unsigned long addr,
				 unsigned long end)
{
	unsigned long found = end;

	if (walk_page_range(mm, addr, end, &find_ops, &found) != 1)
		return end;
	return found;
}

/*
 * Add the page at @addr to @b if it is anonymous: any page of an anonymous
 * area, the pages of a file area that were written to.  Holes, the zero
 * page and pages of the file are left out.  The page itself is kept, for
 * cow_pages(), if @keep.  Called with mmap_lock held.
 */
static int read_page(struct cr_ctx *ctx, struct mm_struct *mm,
		     unsigned long addr, struct page_batch *b, bool keep)
{
	struct page *page;
	long got;

	got = get_user_pages_remote(mm, addr, 1,
				    FOLL_FORCE | FOLL_DUMP | FOLL_HWPOISON,
				    &page, NULL);
	if (got == -EFAULT || !got)
		return 0;
	if (got == -EHWPOISON)
		return cr_err(ctx, -EIO, "task %d: page at %#lx is poisoned",
			      task_pid_vnr(ctx->task), addr);
	if (got == -ERESTARTSYS || got == -EINTR)
		return cr_err(ctx, -EINTR, "killed while saving memory");
	if (got < 0)
		return cr_err(ctx, (int)got,
			      "task %d: reading the page at %#lx failed",
			      task_pid_vnr(ctx->task), addr);
	if (!folio_test_anon(page_folio(page))) {
		put_page(page);
		return 0;
	}
	if (keep) {
		b->pages[b->nr] = page;
	} else {
		memcpy_from_page(b->data + (size_t)b->nr * PAGE_SIZE, page, 0,
				 PAGE_SIZE);
		put_page(page);
	}
	b->addrs[b->nr++] = addr;
	return 0;
}

/*
 * Read pages of [*@addr, @end) into @b until it is full or the range done;
 * *@addr is where to go on.  Called with mmap_lock held.
 */
static int read_pages(struct cr_ctx *ctx, struct mm_struct *mm,
		      unsigned long *addr, unsigned long end,
		      struct page_batch *b, bool keep)
{
	unsigned long a = *addr;
	int ret = 0;

	while (a < end && b->nr < CR_PAGES_MAX) {
		a = next_mapped(mm, a, end);
		if (a >= end)
			break;
		if (fatal_signal_pending(current)) {
			ret = cr_err(ctx, -EINTR, "killed while saving memory");
			break;
		}
		ret = read_page(ctx, mm, a, b, keep);
		if (ret)
			break;
		a += PAGE_SIZE;
	}
	*addr = a;
	return ret;
}

/*
 * The pages of @b from the @from-th on, of an inherited area, kept by
 * read_page(): those that are the very page the parent has at the same
 * address are marked, the others copied.  The pages are let go of, as
 * after an error @err.  The parent is stopped: its pages stay where they
 * are, but for the kernel moving them, which makes them look unshared.
 */
static int cow_pages(struct cr_ctx *ctx, struct mm_struct *pmm,
		     struct page_batch *b, unsigned int from, int err)
{
	struct page *pp;
	unsigned int i;
	bool locked;

	locked = !err && !mmap_read_lock_killable(pmm);
	if (!err && !locked)
		err = cr_err(ctx, -EINTR, "killed while saving memory");
	for (i = from; i < b->nr; i++) {
		if (locked &&
		    get_user_pages_remote(pmm, b->addrs[i], 1,
					  FOLL_FORCE | FOLL_DUMP, &pp,
					  NULL) == 1) {
			if (pp == b->pages[i])
				__set_bit(i, b->cow);
			put_page(pp);
		}
		if (locked && !test_bit(i, b->cow))
			memcpy_from_page(b->data + (size_t)i * PAGE_SIZE,
					 b->pages[i], 0, PAGE_SIZE);
		put_page(b->pages[i]);
		b->pages[i] = NULL;
	}
	if (locked)
		mmap_read_unlock(pmm);
	return err;
}

static int save_area(struct cr_ctx *ctx, struct mm_snap *s,
		     const struct cr_vma *v, struct page_batch *b)
{
	bool inherit = v->flags & CR_VMA_INHERIT;
	unsigned long addr = v->start;
	unsigned int from;
	int ret;

	while (addr < v->end) {
		if (mmap_read_lock_killable(s->mm))
			return cr_err(ctx, -EINTR, "killed while saving memory");
		from = b->nr;
		ret = read_pages(ctx, s->mm, &addr, v->end, b, inherit);
		mmap_read_unlock(s->mm);
		/* Without the task's lock: the parent's is taken */
		if (inherit)
			ret = cow_pages(ctx, s->pmm, b, from, ret);
		if (!ret && b->nr == CR_PAGES_MAX)
			ret = write_batch(ctx, b, CR_HDR_PAGES);
		if (ret)
			return ret;
	}
	return 0;
}

static int write_pages(struct cr_ctx *ctx, struct mm_snap *s)
{
	struct page_batch b;
	unsigned int i;
	int ret;

	ret = alloc_batch(&b);
	for (i = 0; i < s->nr_vmas && !ret; i++) {
		if (s->vmas[i].has_anon)
			ret = save_area(ctx, s, &s->vmas[i], &b);
	}
	if (!ret)
		ret = write_batch(ctx, &b, CR_HDR_PAGES);
	free_batch(&b);
	return ret;
}

static int write_mm(struct cr_ctx *ctx, struct mm_snap *s)
{
	int ret;

	s->hdr = cr_hbuf_get(ctx, sizeof(*s->hdr));
	if (!s->hdr)
		return -ENOMEM;
	ret = snap_mm(ctx, s);
	if (!ret)
		ret = cr_write_rec(ctx, s->hdr, CR_HDR_MM, sizeof(*s->hdr));
	cr_hbuf_put(ctx, s->hdr);
	return ret ?: write_exe(ctx, s) ?: write_vmas(ctx, s) ?:
	       write_pages(ctx, s);
}

/**
 * cr_write_mm() - write the address space records of a task
 * @ctx: the checkpoint; ctx->task is the caller or a stopped task, which
 *       does not share its address space.
 *
 * Writes CR_HDR_MM, CR_HDR_EXE, a CR_HDR_VMA record per area (followed by
 * a CR_HDR_VMA_PATH one when it maps a file), then the CR_HDR_PAGES
 * records of the anonymous pages; with ctx->cow_parent, the pages it
 * shares with it in areas it has like it are CR_HDR_COW_PAGES records.
 *
 * Return: 0, -EOPNOTSUPP (with a message) for an area or a state this
 * version cannot save, or another negative errno.
 */
int cr_write_mm(struct cr_ctx *ctx)
{
	struct mm_snap s = { .pid = task_pid_vnr(ctx->task) };
	int ret;

	BUILD_BUG_ON(AT_VECTOR_SIZE > CR_AUXV_WORDS);
	BUILD_BUG_ON(AT_VECTOR_SIZE % 2);
	BUILD_BUG_ON(sizeof(struct cr_hdr_mm) % CR_HDR_ALIGN);
	BUILD_BUG_ON(sizeof(struct cr_hdr_vma) % CR_HDR_ALIGN);
	BUILD_BUG_ON(sizeof(struct cr_hdr_pages) % CR_HDR_ALIGN);

	s.mm = get_task_mm(ctx->task);
	if (!s.mm)
		return cr_err(ctx, -ESRCH, "task %d has no address space",
			      s.pid);
	s.pmm = ctx->cow_parent ? get_task_mm(ctx->cow_parent) : NULL;
	if (s.pmm == s.mm) {
		mmput(s.pmm);
		s.pmm = NULL;
	}
	s.buf = kmalloc(PATH_BUF_LEN, GFP_KERNEL);
	ret = s.buf ? write_mm(ctx, &s) : -ENOMEM;
	kfree(s.buf);
	if (s.pmm)
		mmput(s.pmm);
	put_vmas(s.vmas, s.nr_vmas);
	if (s.exe)
		fput(s.exe);
	mmput(s.mm);
	return ret;
}

/* Restart: read and check, before the point of no return */

/* What cr_restore_mm() cannot undo in the caller's address space */
static int check_caller_mm(struct cr_ctx *ctx)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	int ret = 0;

	VMA_ITERATOR(vmi, mm, 0);

	if (TASK_SIZE != TASK_SIZE_MAX)
		return cr_err(ctx, -EOPNOTSUPP, "restart from a 32-bit process");
	if (mmap_read_lock_killable(mm))
		return cr_err(ctx, -EINTR, "killed while reading memory");
	for_each_vma(vmi, vma) {
		if (vma->vm_flags & VM_SEALED)
			ret = cr_err(ctx, -EPERM,
				     "the caller has sealed memory at %#lx",
				     vma->vm_start);
		else if (userfaultfd_armed(vma))
			ret = cr_err(ctx, -EBUSY,
				     "the caller has userfaultfd memory at %#lx",
				     vma->vm_start);
		if (ret)
			break;
	}
	mmap_read_unlock(mm);
	return ret;
}

static int read_path(struct cr_ctx *ctx, u32 type, char *path)
{
	int len;

	len = cr_read_string(ctx, type, path, PATH_BUF_LEN);
	if (len < 0)
		return len;
	if (path[0] != '/')
		return cr_err(ctx, -EINVAL, "path %s is not absolute", path);
	return 0;
}

static int read_exe(struct cr_ctx *ctx, struct cr_mm_state *st, char *path)
{
	struct file *f;
	int ret;

	ret = read_path(ctx, CR_HDR_EXE, path);
	if (ret)
		return ret;
	/* May the caller execute it; regular, not on a noexec mount */
	f = open_exec(path);
	if (IS_ERR(f))
		return cr_err(ctx, PTR_ERR(f), "cannot open the executable %s",
			      path);
	st->exe = f;
	return 0;
}

/* Open a regular file, with the caller's permissions, to map it */
static struct file *open_regular(const char *name, int flags)
{
	struct path path;
	struct file *f;
	bool reg;
	int err;

	/* Opening a device or a FIFO has side effects: check first */
	err = kern_path(name, LOOKUP_FOLLOW, &path);
	if (err)
		return ERR_PTR(err);
	reg = d_is_reg(path.dentry);
	path_put(&path);
	if (!reg)
		return ERR_PTR(-EINVAL);
	f = filp_open(name, flags | O_LARGEFILE | O_NOCTTY, 0);
	if (!IS_ERR(f) && !S_ISREG(file_inode(f)->i_mode)) {
		fput(f);
		return ERR_PTR(-EINVAL);
	}
	return f;
}

static int open_vma_file(struct cr_ctx *ctx, struct cr_vma *v, char *path)
{
	struct file *f;
	int ret;

	ret = read_path(ctx, CR_HDR_VMA_PATH, path);
	if (ret)
		return ret;
	/* What mmap() needs of the file: written to if MAP_SHARED */
	f = open_regular(path, v->flags & CR_VMA_MAYWRITE ? O_RDWR : O_RDONLY);
	if (IS_ERR(f))
		return cr_err(ctx, PTR_ERR(f), "cannot open %s, mapped at %#lx",
			      path, v->start);
	v->file = f;
	if ((v->flags & CR_VMA_SHARED) && pseudo_file(&f->f_path))
		return cr_err(ctx, -EOPNOTSUPP,
			      "file %s, mapped shared, is on a pseudo filesystem",
			      path);
	/* Checkpoint refuses hugetlb areas: vm_mmap() would fail past the PONR */
	if (is_file_hugepages(f))
		return cr_err(ctx, -EOPNOTSUPP, "file %s is on hugetlbfs", path);
	if ((u64)i_size_read(file_inode(f)) != v->file_size)
		return cr_err(ctx, -ESTALE,
			      "file %s changed since the checkpoint", path);
	if (!f->f_op->mmap)
		return cr_err(ctx, -ENODEV, "file %s cannot be mapped", path);
	if ((v->prot & PROT_EXEC) && path_noexec(&f->f_path))
		return cr_err(ctx, -EPERM,
			      "file %s, mapped executable, is on a noexec mount",
			      path);
	return 0;
}

/* MAP_SHARED of a file: writable if the file was; PROT_WRITE needs it */
static bool check_share(u32 flags, u32 prot)
{
	if (!(flags & CR_VMA_SHARED))
		return !(flags & CR_VMA_MAYWRITE);
	return (flags & CR_VMA_MAYWRITE) || !(prot & PROT_WRITE);
}

static int check_vma_kind(struct cr_ctx *ctx, const struct cr_hdr_vma *vh)
{
	const u32 share = CR_VMA_SHARED | CR_VMA_MAYWRITE;
	u64 len = vh->end - vh->start;
	bool ok;

	switch (vh->kind) {
	case CR_VMA_ANON:
		ok = !vh->pgoff && !vh->file_size && !(vh->flags & share);
		break;
	case CR_VMA_FILE:
		/* What mmap() checks of a file area */
		ok = !(vh->flags & (CR_VMA_GROWSDOWN | CR_VMA_WIPEONFORK)) &&
		     vh->file_size <= (u64)MAX_LFS_FILESIZE &&
		     vh->pgoff <= ((u64)MAX_LFS_FILESIZE - len) >> PAGE_SHIFT &&
		     check_share(vh->flags, vh->prot);
		break;
	case CR_VMA_SHMEM:
		ok = !(vh->flags & (CR_VMA_GROWSDOWN | CR_VMA_WIPEONFORK |
				    share)) && !vh->file_size &&
		     vh->pgoff <= ((u64)MAX_LFS_FILESIZE - len) >> PAGE_SHIFT;
		break;
	case CR_VMA_VDSO:
	case CR_VMA_VVAR:
		ok = !vh->flags && !vh->pgoff && !vh->file_size &&
		     vh->prot == (vh->kind == CR_VMA_VDSO ?
				  PROT_READ | PROT_EXEC : PROT_READ);
		break;
	default:
		ok = false;
	}
	if (!ok)
		return cr_err(ctx, -EINVAL,
			      "memory area at %#llx: bad kind %u or fields",
			      vh->start, vh->kind);
	return 0;
}

/* @size: bytes per page after the header, its address and its data */
static int read_pages_hdr(struct cr_ctx *ctx, const struct cr_hdr *h,
			  struct cr_hdr_pages *ph, u64 size)
{
	u64 len;
	int ret;

	BUILD_BUG_ON(offsetof(struct cr_hdr_pages, nr_pages) !=
		     sizeof(struct cr_hdr));
	ph->h = *h;
	ret = cr_read(ctx, &ph->nr_pages, sizeof(*ph) - sizeof(*h));
	if (ret)
		return ret;
	len = sizeof(*ph) + ph->nr_pages * size;
	if (ph->reserved || !ph->nr_pages || ph->nr_pages > CR_PAGES_MAX ||
	    h->len != len)
		return cr_err(ctx, -EINVAL,
			      "bad pages record: %u pages in %u bytes",
			      ph->nr_pages, h->len);
	return 0;
}

/* Copy @buf into the page at @pos of the new object @f */
static int fill_page(struct cr_ctx *ctx, struct file *f, loff_t pos,
		     const void *buf)
{
	pgoff_t index = pos >> PAGE_SHIFT;
	struct folio *folio;

	folio = shmem_read_folio(f->f_mapping, index);
	if (IS_ERR(folio))
		return cr_err(ctx, PTR_ERR(folio),
			      "allocating shared memory at offset %#llx failed",
			      pos);
	folio_lock(folio);
	memcpy_to_page(folio_file_page(folio, index), 0, buf, PAGE_SIZE);
	folio_mark_dirty(folio);
	folio_unlock(folio);
	folio_put(folio);
	return 0;
}

/*
 * One CR_HDR_SHMEM_PAGES record, at most @left pages, into the object @f of
 * @size bytes; *@next is the lowest offset the record may hold.
 */
static int fill_record(struct cr_ctx *ctx, struct file *f, loff_t size,
		       u64 *left, u64 *next, u64 *offs, void *buf)
{
	struct cr_hdr_pages ph;
	struct cr_hdr h;
	u32 i;
	int ret;

	ret = cr_read_hdr(ctx, &h);
	if (!ret && h.type != CR_HDR_SHMEM_PAGES)
		ret = cr_err(ctx, -EINVAL, "record %u instead of shared memory pages",
			     h.type);
	if (!ret)
		ret = read_pages_hdr(ctx, &h, &ph, sizeof(u64) + PAGE_SIZE);
	if (!ret && ph.nr_pages > *left)
		ret = cr_err(ctx, -EINVAL, "more shared memory pages than announced");
	if (!ret)
		ret = cr_read(ctx, offs, ph.nr_pages * sizeof(*offs));
	for (i = 0; i < ph.nr_pages && !ret; i++) {
		if (!PAGE_ALIGNED(offs[i]) || offs[i] < *next ||
		    offs[i] >= size)
			return cr_err(ctx, -EINVAL,
				      "bad shared memory page offset %#llx",
				      offs[i]);
		*next = offs[i] + PAGE_SIZE;
	}
	for (i = 0; i < ph.nr_pages && !ret; i++) {
		ret = cr_read(ctx, buf, PAGE_SIZE) ?:
		      fill_page(ctx, f, offs[i], buf);
	}
	if (!ret)
		*left -= ph.nr_pages;
	return ret ?: cr_read_rec_end(ctx, h.len);
}

/* Read the @nr pages of the object @f, before the point of no return */
static int fill_shmem(struct cr_ctx *ctx, struct file *f, u64 nr)
{
	loff_t size = i_size_read(file_inode(f));
	u64 next = 0, *offs;
	void *buf;
	int ret = 0;

	if (!nr)
		return 0;
	offs = kmalloc_array(CR_PAGES_MAX, sizeof(*offs), GFP_KERNEL);
	buf = kmalloc(PAGE_SIZE, GFP_KERNEL);
	if (!offs || !buf)
		ret = -ENOMEM;
	while (!ret && nr)
		ret = fill_record(ctx, f, size, &nr, &next, offs, buf);
	kfree(buf);
	kfree(offs);
	return ret;
}

/* A new object: objref, size and pages in @sh, @v its first area */
static int new_shmem(struct cr_ctx *ctx, struct cr_mm_state *st,
		     struct cr_vma *v, const struct cr_hdr_shmem *sh)
{
	unsigned long vm_flags = v->flags & CR_VMA_NORESERVE ? VM_NORESERVE : 0;
	struct file *f;

	if (sh->nr_pages > sh->size >> PAGE_SHIFT)
		return cr_err(ctx, -EINVAL,
			      "shared memory at %#lx: %llu pages in %llu bytes",
			      v->start, sh->nr_pages, sh->size);
	if (!st->objs) {
		st->objs = kvcalloc(st->nr_vmas, sizeof(*st->objs), GFP_KERNEL);
		if (!st->objs)
			return -ENOMEM;
	}
	f = shmem_kernel_file_setup(SHMEM_NAME, sh->size, vm_flags);
	if (IS_ERR(f))
		return cr_err(ctx, PTR_ERR(f),
			      "creating shared memory of %llu bytes failed",
			      sh->size);
	v->file = f;
	v->obj_first = true;
	st->objs[st->nr_objs++] = v;
	return fill_shmem(ctx, f, sh->nr_pages);
}

/*
 * In a tree, the first area of an object in the task: a new object of the
 * image, or one an earlier process described, whose file it maps again
 */
static int tree_shmem_obj(struct cr_ctx *ctx, struct cr_mm_state *st,
			  struct cr_vma *v, const struct cr_hdr_shmem *sh)
{
	struct cr_obj *obj;
	int ret;

	if (cr_obj_is_new(ctx, sh->obj)) {
		obj = cr_obj_define(ctx, sh->obj, CR_OBJ_SHMEM);
		if (IS_ERR(obj))
			return PTR_ERR(obj);
		ret = new_shmem(ctx, st, v, sh);
		if (!ret) {
			obj->file = get_file(v->file);
			obj->size = sh->size;
		}
		return ret;
	}
	obj = cr_obj_get(ctx, sh->obj, CR_OBJ_SHMEM);
	if (IS_ERR(obj))
		return PTR_ERR(obj);
	if (sh->nr_pages || sh->size != obj->size || !obj->file)
		return cr_err(ctx, -EINVAL,
			      "shared memory at %#lx: object %u is not the one described before",
			      v->start, sh->obj);
	if (!st->objs) {
		st->objs = kvcalloc(st->nr_vmas, sizeof(*st->objs), GFP_KERNEL);
		if (!st->objs)
			return -ENOMEM;
	}
	v->file = get_file(obj->file);
	v->obj_first = true;
	st->objs[st->nr_objs++] = v;
	return 0;
}

/* The CR_HDR_SHMEM record after the area @v, and its object */
static int read_shmem(struct cr_ctx *ctx, struct cr_mm_state *st,
		      struct cr_vma *v)
{
	const struct cr_vma *first;
	struct cr_hdr_shmem sh;
	int ret;

	ret = cr_read_rec(ctx, &sh, CR_HDR_SHMEM, sizeof(sh));
	if (ret)
		return ret;
	if (!ctx->tree != !sh.obj || !sh.size || !PAGE_ALIGNED(sh.size) ||
	    sh.size > MAX_LFS_FILESIZE || !sh.objref ||
	    sh.objref > st->nr_objs + 1)
		return cr_err(ctx, -EINVAL,
			      "shared memory at %#lx: bad object %u (%u) of %llu bytes",
			      v->start, sh.objref, sh.obj, sh.size);
	if (v->pgoff + ((v->end - v->start) >> PAGE_SHIFT) >
	    sh.size >> PAGE_SHIFT)
		return cr_err(ctx, -EINVAL,
			      "shared memory at %#lx goes beyond its object",
			      v->start);
	v->objref = sh.objref;
	v->obj = sh.obj;
	v->file_size = sh.size;
	if (sh.objref > st->nr_objs)
		return ctx->tree ? tree_shmem_obj(ctx, st, v, &sh) :
				   new_shmem(ctx, st, v, &sh);
	first = st->objs[sh.objref - 1];
	if (sh.nr_pages || sh.size != first->file_size || sh.obj != first->obj)
		return cr_err(ctx, -EINVAL,
			      "shared memory at %#lx: object %u is not the one at %#lx",
			      v->start, sh.objref, first->start);
	v->file = get_file(first->file);
	return 0;
}

/* What mlock() and mlockall() would check: before clear_mm() unlocks all */
static int check_mlock(struct cr_ctx *ctx, const struct cr_mm_state *st)
{
	unsigned long limit = rlimit(RLIMIT_MEMLOCK) >> PAGE_SHIFT;

	if (!st->locked && !st->hdr.flags)
		return 0;
	if (!can_do_mlock())
		return cr_err(ctx, -EPERM,
			      "locking memory: RLIMIT_MEMLOCK is 0 and no CAP_IPC_LOCK");
	if (st->locked >> PAGE_SHIFT > limit && !capable(CAP_IPC_LOCK))
		return cr_err(ctx, -ENOMEM,
			      "locking %llu bytes of memory: above RLIMIT_MEMLOCK",
			      st->locked);
	return 0;
}

/*
 * What mapping the areas will ask of the caller's limits (address space,
 * data, number of areas) and of the overcommit policy, checked before the
 * point of no return, where a failure can still be returned: the image's
 * own limits are set later (cr_restore_task()).  The areas all count, those
 * inherited from the parent too, as they do in the address space that maps
 * them.  The private writable areas but stacks are what may_expand_vm()
 * counts against RLIMIT_DATA (0 meaning the hard limit, as there, but
 * without its boot option ignore_rlimit_data: restart refuses what mmap(2)
 * would only warn about then).  They are what mmap(2) charges
 * (MAP_NORESERVE ones too under vm.overcommit_memory 2, stacks too); the
 * heuristic bound is the one __vm_enough_memory() puts on each mapping.
 * With vm.overcommit_memory 2 they are charged against the commit limit
 * and given back at once: the caller's own memory, given back at the point
 * of no return, still counts, so the check is a little stricter than
 * mapping the areas.  Others may commit memory in between, which can still
 * make mapping fail after the point of no return.
 */
static int check_space(struct cr_ctx *ctx, const struct cr_mm_state *st)
{
	bool never = sysctl_overcommit_memory == OVERCOMMIT_NEVER;
	u64 total = 0, data = 0, commit = 0, largest = 0, pages;
	unsigned long data_limit = rlimit(RLIMIT_DATA);
	unsigned int i;

	/* Each area is one mapping: mmap(2) refuses one above the count */
	if (st->nr_vmas > READ_ONCE(sysctl_max_map_count))
		return cr_err(ctx, -ENOMEM,
			      "%u memory areas: above vm.max_map_count",
			      st->nr_vmas);
	for (i = 0; i < st->nr_vmas; i++) {
		const struct cr_vma *v = &st->vmas[i];

		pages = (v->end - v->start) >> PAGE_SHIFT;
		total += pages;
		if ((v->kind != CR_VMA_ANON && v->kind != CR_VMA_FILE) ||
		    !(v->prot & PROT_WRITE) || (v->flags & CR_VMA_SHARED))
			continue;
		if (!(v->flags & CR_VMA_GROWSDOWN))
			data += pages;
		/* vm.overcommit_memory 2 charges MAP_NORESERVE areas too */
		if (never || !(v->flags & CR_VMA_NORESERVE)) {
			commit += pages;
			largest = max(largest, pages);
		}
	}
	if (total > rlimit(RLIMIT_AS) >> PAGE_SHIFT)
		return cr_err(ctx, -ENOMEM,
			      "%llu bytes of memory areas: above the caller's RLIMIT_AS",
			      total << PAGE_SHIFT);
	if (!data_limit)
		data_limit = rlimit_max(RLIMIT_DATA);
	if (data > data_limit >> PAGE_SHIFT)
		return cr_err(ctx, -ENOMEM,
			      "%llu bytes of private writable memory: above the caller's RLIMIT_DATA",
			      data << PAGE_SHIFT);
	/* The heuristic mode bounds each mapping, not their sum */
	if (sysctl_overcommit_memory == OVERCOMMIT_GUESS &&
	    largest > totalram_pages() + total_swap_pages)
		return cr_err(ctx, -ENOMEM,
			      "an area of %llu bytes of private writable memory: more than RAM and swap",
			      largest << PAGE_SHIFT);
	if (never && commit) {
		if (security_vm_enough_memory_mm(current->mm, commit))
			return cr_err(ctx, -ENOMEM,
				      "%llu bytes of private writable memory: above the commit limit",
				      commit << PAGE_SHIFT);
		vm_unacct_memory(commit);
	}
	return 0;
}

/*
 * The caller's memory-deny-write-execute stays for the areas restart maps
 * unless it is PR_MDWE_NO_INHERIT (which clear_mm() drops, as execve(2)
 * would): it refuses to map an area both writable and executable.
 */
static int check_mdwe(struct cr_ctx *ctx, const struct cr_mm_state *st)
{
	unsigned long mm_flags = current->mm->flags;
	const struct cr_vma *v;
	unsigned int i;

	if (!test_bit(MMF_HAS_MDWE, &mm_flags) ||
	    test_bit(MMF_HAS_MDWE_NO_INHERIT, &mm_flags))
		return 0;
	for (i = 0; i < st->nr_vmas; i++) {
		v = &st->vmas[i];
		if (!(v->flags & CR_VMA_INHERIT) && (v->prot & PROT_WRITE) &&
		    (v->prot & PROT_EXEC))
			return cr_err(ctx, -EPERM,
				      "memory area at %#lx is writable and executable: the caller's memory-deny-write-execute refuses it",
				      v->start);
	}
	return 0;
}

/* @prev_end: end of the area before, or 0 */
static int check_vma(struct cr_ctx *ctx, const struct cr_hdr_vma *vh,
		     u64 prev_end)
{
	u64 start = vh->start, end = vh->end;
	int ret;

	if (vh->reserved || (vh->flags & ~CR_VMA_FLAGS) ||
	    (vh->prot & ~CR_PROT_MASK) ||
	    (vh->flags & (CR_VMA_LOCKED | CR_VMA_LOCKONFAULT)) ==
	    CR_VMA_LOCKONFAULT)
		return cr_err(ctx, -EINVAL,
			      "memory area at %#llx: unknown flags or prot",
			      start);
	if (!PAGE_ALIGNED(start) || !PAGE_ALIGNED(end) || start >= end)
		return cr_err(ctx, -EINVAL, "bad memory area %#llx-%#llx",
			      start, end);
	if (start < prev_end)
		return cr_err(ctx, -EINVAL,
			      "memory area %#llx-%#llx overlaps or is out of order",
			      start, end);
	if (end > TASK_SIZE)
		return cr_err(ctx, -EOPNOTSUPP,
			      "memory area %#llx-%#llx: address beyond this machine's user address space",
			      start, end);
	ret = check_vma_kind(ctx, vh);
	if (ret)
		return ret;
	if (start < mmap_min_addr) {
		ret = security_mmap_addr(start);
		if (ret)
			return cr_err(ctx, ret,
				      "memory area at %#llx is below mmap_min_addr",
				      start);
	}
	return 0;
}

static int note_vdso(struct cr_ctx *ctx, struct cr_mm_state *st,
		     const struct cr_vma *v)
{
	const struct cr_vma **slot;

	if (v->kind == CR_VMA_VDSO)
		slot = &st->vdso;
	else if (v->kind == CR_VMA_VVAR)
		slot = &st->vvar;
	else
		return 0;
	if (*slot)
		return cr_err(ctx, -EINVAL, "two vDSO areas of kind %u",
			      v->kind);
	*slot = v;
	return 0;
}

/* An area kept from the parent's copy: see &struct cr_hdr_vma */
static int check_inherit(struct cr_ctx *ctx, struct cr_mm_state *st,
			 const struct cr_vma *v)
{
	if (!ctx->forked)
		return cr_err(ctx, -EINVAL,
			      "memory area %#lx-%#lx inherited, but no parent of the image creates the task",
			      v->start, v->end);
	if (v->kind != CR_VMA_ANON || (v->flags & CR_VMA_NOINHERIT))
		return cr_err(ctx, -EINVAL,
			      "memory area %#lx-%#lx of kind %u, flags %#x cannot be inherited",
			      v->start, v->end, v->kind, v->flags);
	st->nr_inherit++;
	return 0;
}

static int read_vma(struct cr_ctx *ctx, struct cr_mm_state *st,
		    struct cr_vma *v, u64 prev_end, char *path)
{
	struct cr_hdr_vma *vh;
	int ret;

	vh = cr_hbuf_get(ctx, sizeof(*vh));
	if (!vh)
		return -ENOMEM;
	ret = cr_read_rec(ctx, vh, CR_HDR_VMA, sizeof(*vh));
	if (!ret)
		ret = check_vma(ctx, vh, prev_end);
	if (!ret) {
		v->start = vh->start;
		v->end = vh->end;
		v->pgoff = vh->pgoff;
		v->file_size = vh->file_size;
		v->prot = vh->prot;
		v->kind = vh->kind;
		v->flags = vh->flags;
	}
	cr_hbuf_put(ctx, vh);
	if (!ret)
		ret = note_vdso(ctx, st, v);
	if (!ret && v->kind == CR_VMA_FILE)
		ret = open_vma_file(ctx, v, path);
	if (!ret && v->kind == CR_VMA_SHMEM)
		ret = read_shmem(ctx, st, v);
	if (!ret && (v->flags & CR_VMA_INHERIT))
		ret = check_inherit(ctx, st, v);
	if (v->flags & CR_VMA_LOCKED)
		st->locked += v->end - v->start;
	return ret;
}

static int read_vmas(struct cr_ctx *ctx, struct cr_mm_state *st, char *path)
{
	u32 nr = st->hdr.nr_vmas;
	u64 prev_end = 0;
	u32 i;
	int ret = 0;

	if (!nr || nr > CR_VMAS_MAX)
		return cr_err(ctx, -EINVAL, "bad number of memory areas %u", nr);
	ret = cr_check_left(ctx, (u64)nr * sizeof(struct cr_hdr_vma),
			    "its memory areas");
	if (ret)
		return ret;
	st->vmas = kvcalloc(nr, sizeof(*st->vmas), GFP_KERNEL);
	if (!st->vmas)
		return -ENOMEM;
	st->nr_vmas = nr;
	for (i = 0; i < nr && !ret; i++) {
		ret = read_vma(ctx, st, &st->vmas[i], prev_end, path);
		prev_end = st->vmas[i].end;
	}
	return ret;
}

/* The vDSO areas must be where and as large as this kernel maps them */
static int check_vdso_areas(struct cr_ctx *ctx, const struct cr_mm_state *st)
{
	const struct cr_vma *vdso = st->vdso, *vvar = st->vvar;

	if (st->hdr.vdso != (vdso ? vdso->start : 0))
		return cr_err(ctx, -EINVAL, "vDSO address %#llx is not its area's",
			      st->hdr.vdso);
	if (!vdso && !vvar)
		return 0;
	if (!vdso || !vvar || vvar->end != vdso->start ||
	    vdso->end - vdso->start != vdso_image_64.size ||
	    vvar->end - vvar->start !=
	    (unsigned long)-vdso_image_64.sym_vvar_start)
		return cr_err(ctx, -EOPNOTSUPP, "vDSO of another kernel");
	/* map_vdso_once() ignores an address hint across this boundary */
	if (vvar->start <= DEFAULT_MAP_WINDOW && vdso->end > DEFAULT_MAP_WINDOW)
		return cr_err(ctx, -EOPNOTSUPP,
			      "vDSO at %#lx across the 47-bit boundary",
			      vdso->start);
	return 0;
}

/* What prctl(PR_SET_MM_MAP) checks, but for the limits */
static int check_fields(struct cr_ctx *ctx, const struct cr_hdr_mm *h)
{
	const u64 addrs[] = {
		h->start_code, h->end_code, h->start_data, h->end_data,
		h->start_brk, h->brk, h->start_stack, h->arg_start,
		h->arg_end, h->env_start, h->env_end,
	};
	int i;

	for (i = 0; i < ARRAY_SIZE(addrs); i++) {
		if (addrs[i] >= TASK_SIZE)
			return cr_err(ctx, -EINVAL,
				      "mm field %d out of range: %#llx", i,
				      addrs[i]);
	}
	if (h->start_code > h->end_code || h->start_data > h->end_data ||
	    h->start_brk > h->brk || h->arg_start > h->arg_end ||
	    h->env_start > h->env_end)
		return cr_err(ctx, -EINVAL, "mm fields out of order");
	return 0;
}

/* Pairs up to an AT_NULL one that fits in mm->saved_auxv, then zeros */
static int check_auxv(struct cr_ctx *ctx, const u64 *auxv)
{
	int i;

	for (i = 0; i < CR_AUXV_WORDS; i += 2) {
		if (auxv[i] == AT_NULL)
			break;
	}
	if (i + 2 > AT_VECTOR_SIZE ||
	    memchr_inv(auxv + i, 0, (CR_AUXV_WORDS - i) * sizeof(*auxv)))
		return cr_err(ctx, -EINVAL, "bad auxiliary vector");
	return 0;
}

static int read_mm(struct cr_ctx *ctx, struct cr_mm_state *st, char *path)
{
	int ret;

	ret = cr_read_rec(ctx, &st->hdr, CR_HDR_MM, sizeof(st->hdr));
	if (ret)
		return ret;
	if ((st->hdr.flags & ~CR_MM_FLAGS) ||
	    st->hdr.flags == CR_MM_LOCK_ONFAULT)
		return cr_err(ctx, -EINVAL, "bad mm flags %#x", st->hdr.flags);
	return read_exe(ctx, st, path) ?: read_vmas(ctx, st, path) ?:
	       check_vdso_areas(ctx, st) ?: check_fields(ctx, &st->hdr) ?:
	       check_auxv(ctx, st->hdr.auxv) ?: check_mlock(ctx, st) ?:
	       check_space(ctx, st) ?: check_mdwe(ctx, st);
}

static void free_state(struct cr_mm_state *st)
{
	if (!st)
		return;
	kvfree(st->objs);
	put_vmas(st->vmas, st->nr_vmas);
	if (st->exe) {
		exe_file_allow_write_access(st->exe);
		fput(st->exe);
	}
	kfree(st);
}

/**
 * cr_read_mm() - read the address space records of an image
 * @ctx: the restart.
 *
 * Reads CR_HDR_MM, CR_HDR_EXE and the CR_HDR_VMA records (with their
 * CR_HDR_VMA_PATH, CR_HDR_SHMEM and CR_HDR_SHMEM_PAGES records), checks
 * them, opens the executable and the mapped files with the caller's
 * permissions, and creates and fills the shared memory objects.  Called
 * before the point of no return, it changes nothing of the caller.  The
 * state is kept in ctx->mm until cr_free_mm().
 *
 * Return: 0, -EINVAL for a bad record, -EOPNOTSUPP for an address space
 * this kernel cannot map, -ESTALE for a file that changed since the
 * checkpoint, -EPERM or -ENOMEM for locked memory the caller may not
 * lock, or another negative errno.
 */
int cr_read_mm(struct cr_ctx *ctx)
{
	struct cr_mm_state *st;
	char *path;
	int ret;

	if (WARN_ON_ONCE(ctx->mm))
		return -EINVAL;
	ret = check_caller_mm(ctx);
	if (ret)
		return ret;
	st = kzalloc(sizeof(*st), GFP_KERNEL);
	path = kmalloc(PATH_BUF_LEN, GFP_KERNEL);
	ret = st && path ? read_mm(ctx, st, path) : -ENOMEM;
	kfree(path);
	if (ret) {
		free_state(st);
		return ret;
	}
	ctx->mm = st;
	return 0;
}

/* Restart: after the point of no return */

/*
 * The inherited areas of @st are in the caller's address space, the copy
 * of the restored parent's, as the image says: the parent had them the
 * same at checkpoint.  Called with mmap_lock held.
 */
static int check_inherited(struct cr_ctx *ctx, const struct cr_mm_state *st)
{
	struct vm_area_struct *vma;
	unsigned long addr;
	unsigned int i;

	for (i = 0; i < st->nr_vmas; i++) {
		const struct cr_vma *v = &st->vmas[i];

		if (!(v->flags & CR_VMA_INHERIT))
			continue;
		for (addr = v->start; addr < v->end; addr = vma->vm_end) {
			vma = vma_lookup(current->mm, addr);
			if (!vma || !vma_is_anonymous(vma) ||
			    (vma->vm_flags & VM_MAYSHARE) ||
			    vma_prot(vma->vm_flags) != v->prot ||
			    vma_flags(vma->vm_flags) !=
			    (v->flags & ~CR_VMA_INHERIT))
				return cr_err(ctx, -EINVAL,
					      "memory area %#lx-%#lx is not the parent's at %#lx",
					      v->start, v->end, addr);
		}
	}
	return 0;
}

/*
 * Unmap the caller's memory, but for the areas inherited from the parent,
 * and reset what goes with it
 */
static int clear_mm(struct cr_ctx *ctx, const struct cr_mm_state *st)
{
	struct mm_struct *mm = current->mm;
	unsigned long prev = 0;
	unsigned int i;
	int ret = 0;

	/*
	 * cr_restore_task() sets the personality of the image later; the
	 * caller's must not add PROT_EXEC to the areas mapped here.
	 */
	current->personality &= ~READ_IMPLIES_EXEC;
	/* cr_restore_task() sets the image's memory-deny-write-execute */
	if (test_bit(MMF_HAS_MDWE_NO_INHERIT, &mm->flags)) {
		clear_bit(MMF_HAS_MDWE, &mm->flags);
		clear_bit(MMF_HAS_MDWE_NO_INHERIT, &mm->flags);
	}
	if (st->nr_inherit) {
		if (mmap_read_lock_killable(mm))
			return cr_err(ctx, -EINTR, "killed while restoring memory");
		ret = check_inherited(ctx, st);
		mmap_read_unlock(mm);
		if (ret)
			return ret;
	}
	for (i = 0; i < st->nr_vmas && !ret; i++) {
		if (!(st->vmas[i].flags & CR_VMA_INHERIT))
			continue;
		if (st->vmas[i].start > prev)
			ret = vm_munmap(prev, st->vmas[i].start - prev);
		prev = st->vmas[i].end;
	}
	if (!ret)
		ret = vm_munmap(prev, TASK_SIZE - prev);
	if (ret)
		return cr_err(ctx, ret, "unmapping the caller's memory failed");
	if (mmap_write_lock_killable(mm))
		return cr_err(ctx, -EINTR, "killed while restoring memory");
	mm->def_flags &= ~VM_LOCKED_MASK;
	mm->context.vdso = NULL;
	mmap_write_unlock(mm);
	return 0;
}

static int restore_exe(struct cr_ctx *ctx, struct cr_mm_state *st)
{
	int ret;

	/* Nothing is mapped: the caller's executable cannot be busy */
	ret = replace_mm_exe_file(current->mm, st->exe);
	if (ret)
		return cr_err(ctx, ret, "setting the executable failed");
	return 0;
}

static int restore_vdso(struct cr_ctx *ctx, const struct cr_mm_state *st)
{
	unsigned long at;
	int ret;

	if (!st->vdso)
		return 0;
	/* The address is a hint, taken as the address space is empty */
	ret = map_vdso_once(&vdso_image_64, st->vvar->start);
	if (ret)
		return cr_err(ctx, ret, "mapping the vDSO at %#lx failed",
			      st->vdso->start);
	at = (unsigned long)current->mm->context.vdso;
	if (at != st->vdso->start)
		return cr_err(ctx, -EEXIST, "vDSO mapped at %#lx, not %#lx",
			      at, st->vdso->start);
	return 0;
}

static const struct {
	u32 flag;
	int advice;
} vma_advice[] = {
	{ CR_VMA_DONTFORK, MADV_DONTFORK },
	{ CR_VMA_DONTDUMP, MADV_DONTDUMP },
	{ CR_VMA_WIPEONFORK, MADV_WIPEONFORK },
};

/* The VM_LOCKED_MASK bits new areas get, as mlockall(MCL_FUTURE) sets */
static int set_def_flags(vm_flags_t lock)
{
	struct mm_struct *mm = current->mm;

	if (mmap_write_lock_killable(mm))
		return -EINTR;
	mm->def_flags = (mm->def_flags & ~VM_LOCKED_MASK) | lock;
	mmap_write_unlock(mm);
	return 0;
}

/* Map @v, locked (and populated) as mmap() maps with MCL_FUTURE */
static unsigned long map_vma(const struct cr_vma *v)
{
	unsigned long flags = MAP_FIXED_NOREPLACE;
	vm_flags_t lock = 0;
	unsigned long addr;

	if (v->kind == CR_VMA_SHMEM || (v->flags & CR_VMA_SHARED))
		flags |= MAP_SHARED;
	else
		flags |= MAP_PRIVATE;
	if (v->kind == CR_VMA_ANON)
		flags |= MAP_ANONYMOUS;
	if (v->flags & CR_VMA_GROWSDOWN)
		flags |= MAP_GROWSDOWN;
	if (v->flags & CR_VMA_NORESERVE)
		flags |= MAP_NORESERVE;
	if (v->flags & CR_VMA_LOCKED)
		lock = VM_LOCKED;
	if (v->flags & CR_VMA_LOCKONFAULT)
		lock |= VM_LOCKONFAULT;
	if (lock && set_def_flags(lock))
		return -EINTR;
	addr = vm_mmap(v->file, v->start, v->end - v->start, v->prot, flags,
		       v->pgoff << PAGE_SHIFT);
	if (lock && set_def_flags(0))
		return -EINTR;
	return addr;
}

static int restore_vma(struct cr_ctx *ctx, const struct cr_vma *v)
{
	unsigned long len = v->end - v->start;
	unsigned long addr;
	int i, ret;

	addr = map_vma(v);
	if (IS_ERR_VALUE(addr))
		return cr_err(ctx, (int)addr, "mapping %#lx-%#lx failed",
			      v->start, v->end);
	if (addr != v->start)
		return cr_err(ctx, -EEXIST, "%#lx-%#lx mapped at %#lx",
			      v->start, v->end, addr);
	for (i = 0; i < ARRAY_SIZE(vma_advice); i++) {
		if (!(v->flags & vma_advice[i].flag))
			continue;
		ret = do_madvise(current->mm, v->start, len,
				 vma_advice[i].advice);
		if (ret)
			return cr_err(ctx, ret, "madvise(%d) of %#lx-%#lx failed",
				      vma_advice[i].advice, v->start, v->end);
	}
	return 0;
}

static int restore_vmas(struct cr_ctx *ctx, const struct cr_mm_state *st)
{
	const struct cr_vma *v;
	unsigned int i;
	int ret = 0;

	for (i = 0; i < st->nr_vmas && !ret; i++) {
		v = &st->vmas[i];
		if (v->kind != CR_VMA_VDSO && v->kind != CR_VMA_VVAR &&
		    !(v->flags & CR_VMA_INHERIT))
			ret = restore_vma(ctx, v);
	}
	return ret;
}

/* What prctl(PR_SET_MM_MAP) sets */
static void restore_fields(const struct cr_hdr_mm *h)
{
	struct mm_struct *mm = current->mm;
	int i;

	mmap_write_lock(mm);
	spin_lock(&mm->arg_lock);
	mm->start_code = h->start_code;
	mm->end_code = h->end_code;
	mm->start_data = h->start_data;
	mm->end_data = h->end_data;
	mm->start_brk = h->start_brk;
	mm->brk = h->brk;
	mm->start_stack = h->start_stack;
	mm->arg_start = h->arg_start;
	mm->arg_end = h->arg_end;
	mm->env_start = h->env_start;
	mm->env_end = h->env_end;
	spin_unlock(&mm->arg_lock);
	/* check_auxv(): the words past AT_VECTOR_SIZE are zero */
	for (i = 0; i < AT_VECTOR_SIZE; i++)
		mm->saved_auxv[i] = h->auxv[i];
	mmap_write_unlock(mm);
}

/**
 * cr_restore_mm() - replace the caller's address space with the image's
 * @ctx: the restart; ctx->mm holds what cr_read_mm() read.
 *
 * After the point of no return: the caller is single-threaded and does
 * not share its address space.  Its areas are unmapped, then the vDSO and
 * the areas of the image are mapped at their addresses, empty; the
 * CR_HDR_PAGES records that follow fill them (cr_restore_pages()).  The
 * areas a process of a tree inherits from its parent are kept (checked to
 * be as the image has them): cr_restore_cow_pages() and
 * cr_restore_pages_done() drop the pages the process did not share.
 *
 * Return: 0, or a negative errno; the caller is then left with part of
 * its address space.
 */
int cr_restore_mm(struct cr_ctx *ctx)
{
	struct cr_mm_state *st = ctx->mm;
	int ret;

	if (WARN_ON_ONCE(!st || st->restored))
		return -EINVAL;
	ret = clear_mm(ctx, st) ?: restore_exe(ctx, st) ?:
	      restore_vdso(ctx, st) ?: restore_vmas(ctx, st);
	if (ret)
		return ret;
	restore_fields(&st->hdr);
	if (st->hdr.flags & CR_MM_LOCK_FUTURE &&
	    set_def_flags(VM_LOCKED | (st->hdr.flags & CR_MM_LOCK_ONFAULT ?
				       VM_LOCKONFAULT : 0)))
		return cr_err(ctx, -EINTR, "killed while restoring memory");
	st->restored = true;
	return 0;
}

/* The area of @st holding @addr, or NULL */
static const struct cr_vma *find_area(const struct cr_mm_state *st,
				      u64 addr)
{
	unsigned int lo = 0, hi = st->nr_vmas, mid;
	const struct cr_vma *v;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		v = &st->vmas[mid];
		if (addr < v->start)
			hi = mid;
		else if (addr >= v->end)
			lo = mid + 1;
		else
			return v;
	}
	return NULL;
}

/*
 * A page of a private file area past the end of its file (whose size was
 * checked when it was opened): touching it raises SIGBUS, it has no page.
 */
static bool beyond_eof(const struct cr_vma *v, u64 addr)
{
	u64 pgoff = v->pgoff + ((addr - v->start) >> PAGE_SHIFT);

	return pgoff >= DIV_ROUND_UP_ULL(v->file_size, PAGE_SIZE);
}

/*
 * Page aligned, increasing, in an anonymous or private file area; in an
 * inherited area if @cow.  With inherited areas, increasing across the
 * records too.
 */
static int read_page_addrs(struct cr_ctx *ctx, const struct cr_mm_state *st,
			   u64 *addrs, u32 nr, bool cow)
{
	const struct cr_vma *v;
	u32 i;
	int ret;

	ret = cr_read(ctx, addrs, nr * sizeof(*addrs));
	for (i = 0; i < nr && !ret; i++) {
		v = find_area(st, addrs[i]);
		if (!PAGE_ALIGNED(addrs[i]) || (i && addrs[i] <= addrs[i - 1]) ||
		    !v || (v->kind != CR_VMA_ANON && v->kind != CR_VMA_FILE) ||
		    (v->flags & CR_VMA_SHARED) ||
		    (cow && !(v->flags & CR_VMA_INHERIT)))
			ret = cr_err(ctx, -EINVAL, "bad page address %#llx",
				     addrs[i]);
		else if (v->kind == CR_VMA_FILE && beyond_eof(v, addrs[i]))
			ret = cr_err(ctx, -EINVAL,
				     "page address %#llx beyond the end of the file mapped there",
				     addrs[i]);
		else if (st->nr_inherit && addrs[i] < st->next)
			ret = cr_err(ctx, -EINVAL,
				     "page address %#llx out of order",
				     addrs[i]);
	}
	return ret;
}

/*
 * Drop the pages the caller got with its copy of the parent's address
 * space in its inherited areas, from st->next up to @addr: they are not
 * the process's.
 */
static int drop_to(struct cr_ctx *ctx, struct cr_mm_state *st, u64 addr)
{
	const struct cr_vma *v;
	u64 from, to;
	int ret;

	for (; st->drop < st->nr_vmas; st->drop++) {
		v = &st->vmas[st->drop];
		if (!(v->flags & CR_VMA_INHERIT) || v->end <= st->next)
			continue;
		if (v->start >= addr)
			break;
		from = max_t(u64, st->next, v->start);
		to = min_t(u64, addr, v->end);
		ret = do_madvise(current->mm, from, to - from, MADV_DONTNEED);
		if (ret)
			return cr_err(ctx, ret,
				      "dropping the pages at %#llx-%#llx failed",
				      from, to);
		if (to < v->end)
			break;
	}
	st->next = addr;
	return 0;
}

/* Read-only and PROT_NONE areas are written too, as ptrace would */
static int restore_page(struct cr_ctx *ctx, unsigned long addr, void *buf)
{
	int ret;

	ret = cr_read(ctx, buf, PAGE_SIZE);
	if (ret)
		return ret;
	if (access_process_vm(current, addr, buf, PAGE_SIZE,
			      FOLL_WRITE | FOLL_FORCE) != PAGE_SIZE)
		return cr_err(ctx, -EFAULT, "writing the page at %#lx failed",
			      addr);
	return 0;
}

/**
 * cr_restore_pages() - read a pages record into the caller's memory
 * @ctx: the restart, after cr_restore_mm().
 * @h: the header of the CR_HDR_PAGES record, already read.
 *
 * Return: 0, -EINVAL for a bad record or a page outside the anonymous and
 * file areas of the image, or another negative errno.
 */
int cr_restore_pages(struct cr_ctx *ctx, const struct cr_hdr *h)
{
	struct cr_mm_state *st = ctx->mm;
	struct cr_hdr_pages ph;
	void *buf = NULL;
	u64 *addrs = NULL;
	u32 i;
	int ret;

	if (!st || !st->restored)
		return cr_err(ctx, -EINVAL, "pages record before the memory areas");
	ret = read_pages_hdr(ctx, h, &ph, sizeof(u64) + PAGE_SIZE);
	if (ret)
		return ret;
	addrs = kmalloc_array(ph.nr_pages, sizeof(*addrs), GFP_KERNEL);
	buf = kmalloc(PAGE_SIZE, GFP_KERNEL);
	if (!addrs || !buf) {
		ret = -ENOMEM;
		goto out;
	}
	ret = read_page_addrs(ctx, st, addrs, ph.nr_pages, false);
	for (i = 0; i < ph.nr_pages && !ret; i++) {
		if (st->nr_inherit) {
			ret = drop_to(ctx, st, addrs[i]);
			st->next = addrs[i] + PAGE_SIZE;
		}
		if (!ret)
			ret = restore_page(ctx, addrs[i], buf);
	}
	if (!ret)
		ret = cr_read_rec_end(ctx, h->len);
out:
	kfree(buf);
	kfree(addrs);
	return ret;
}

/**
 * cr_restore_cow_pages() - keep pages of the parent
 * @ctx: the restart, after cr_restore_mm().
 * @h: the header of the CR_HDR_COW_PAGES record, already read.
 *
 * The pages the record lists, in inherited areas, are the parent's at the
 * same addresses, shared copy-on-write since the process was created:
 * they are kept, those between them and the previous page of the image
 * dropped.
 *
 * Return: 0, -EINVAL for a bad record or a page outside the inherited
 * areas, or another negative errno.
 */
int cr_restore_cow_pages(struct cr_ctx *ctx, const struct cr_hdr *h)
{
	struct cr_mm_state *st = ctx->mm;
	struct cr_hdr_pages ph;
	u64 *addrs;
	u32 i;
	int ret;

	if (!st || !st->restored || !st->nr_inherit)
		return cr_err(ctx, -EINVAL,
			      "copy-on-write pages record without inherited memory areas");
	ret = read_pages_hdr(ctx, h, &ph, sizeof(u64));
	if (ret)
		return ret;
	addrs = kmalloc_array(ph.nr_pages, sizeof(*addrs), GFP_KERNEL);
	if (!addrs)
		return -ENOMEM;
	ret = read_page_addrs(ctx, st, addrs, ph.nr_pages, true);
	for (i = 0; i < ph.nr_pages && !ret; i++) {
		ret = drop_to(ctx, st, addrs[i]);
		st->next = addrs[i] + PAGE_SIZE;
	}
	if (!ret)
		ret = cr_read_rec_end(ctx, h->len);
	kfree(addrs);
	return ret;
}

/* One CR_HDR_PAGES or CR_HDR_COW_PAGES record @h, checked, not restored */
static int check_pages(struct cr_ctx *ctx, struct cr_mm_state *st,
		       const struct cr_hdr *h, u64 *addrs)
{
	bool cow = h->type == CR_HDR_COW_PAGES;
	struct cr_hdr_pages ph;
	int ret;

	if (!st)
		return cr_err(ctx, -EINVAL, "pages record before the memory areas");
	if (cow && !st->nr_inherit)
		return cr_err(ctx, -EINVAL,
			      "copy-on-write pages record without inherited memory areas");
	ret = read_pages_hdr(ctx, h, &ph, sizeof(u64) + (cow ? 0 : PAGE_SIZE)) ?:
	      read_page_addrs(ctx, st, addrs, ph.nr_pages, cow);
	if (ret)
		return ret;
	if (st->nr_inherit)
		st->next = addrs[ph.nr_pages - 1] + PAGE_SIZE;
	if (!cow)
		ret = cr_skip(ctx, (u64)ph.nr_pages * PAGE_SIZE);
	return ret ?: cr_read_rec_end(ctx, h->len);
}

/**
 * cr_check_pages_ahead() - check the pages records of a task, ahead
 * @ctx: the restart of a task from an image in a regular file, after
 *       cr_read_mm(), before the point of no return.
 * @h: where to put the header of the record after the pages.
 * @m: where to note where the stream was before that header.
 *
 * Reads the pages records that follow as cr_restore_pages() and
 * cr_restore_cow_pages() will, with the same checks, but passes over the
 * contents of the pages (cr_skip()) and changes nothing: a bad record is
 * refused before the point of no return.  The caller puts the stream back
 * where it was.
 *
 * Return: 0, -EINVAL for a bad record, or another negative errno.
 */
int cr_check_pages_ahead(struct cr_ctx *ctx, struct cr_hdr *h,
			 struct cr_mark *m)
{
	struct cr_mm_state *st = ctx->mm;
	u64 next = st ? st->next : 0;
	u64 *addrs;
	int ret;

	addrs = kmalloc_array(CR_PAGES_MAX, sizeof(*addrs), GFP_KERNEL);
	if (!addrs)
		return -ENOMEM;
	do {
		cr_mark(ctx, m);
		ret = cr_read_hdr(ctx, h);
		if (ret || (h->type != CR_HDR_PAGES &&
			    h->type != CR_HDR_COW_PAGES))
			break;
		ret = check_pages(ctx, st, h, addrs);
	} while (!ret);
	if (st)
		st->next = next;
	kfree(addrs);
	return ret;
}

/**
 * cr_restore_pages_done() - end the pages of the caller's address space
 * @ctx: the restart, after the last CR_HDR_PAGES or CR_HDR_COW_PAGES
 *       record.
 *
 * Drops what is left of the parent's pages the image does not give the
 * process, above its last page.
 *
 * Return: 0, or a negative errno.
 */
int cr_restore_pages_done(struct cr_ctx *ctx)
{
	struct cr_mm_state *st = ctx->mm;

	if (!st || !st->nr_inherit)
		return 0;
	return drop_to(ctx, st, TASK_SIZE);
}

/**
 * cr_free_mm() - free what cr_read_mm() kept
 * @ctx: the restart; ctx->mm may be %NULL.
 */
void cr_free_mm(struct cr_ctx *ctx)
{
	free_state(ctx->mm);
	ctx->mm = NULL;
}
