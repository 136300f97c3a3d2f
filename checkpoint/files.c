// SPDX-License-Identifier: GPL-2.0
/*
 * Open files: the file descriptor table of a task.
 *
 * Checkpoint saves each open file (struct file) once, with its kind, open
 * flags, offset and path, and each descriptor with the file it refers to,
 * so that descriptors that shared a file (dup(2)) share one again after
 * restart.  Regular files, directories and a few character devices that
 * have no state (/dev/null, zero, random, urandom) can be saved; anything
 * else is refused, but on descriptors 0-2, which are then recorded as given
 * by the caller of restart (a terminal, a pipe, a socket: standard input
 * and output).
 *
 * Restart reopens every file by its path with the caller's credentials,
 * through the normal open path, before the point of no return; after it,
 * the files replace the caller's descriptor table.
 */

#define pr_fmt(fmt) "checkpoint: " fmt

#include <linux/bsearch.h>
#include <linux/checkpoint.h>
#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/filelock.h>
#include <linux/fs.h>
#include <linux/fs_struct.h>
#include <linux/highmem.h>
#include <linux/kdev_t.h>
#include <linux/magic.h>
#include <linux/mm.h>
#include <linux/namei.h>
#include <linux/pipe_fs_i.h>
#include <linux/sched/mm.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/uio.h>

/* Open flags an open file is saved and reopened with */
#define FILE_FLAGS	(O_ACCMODE | O_APPEND | O_NONBLOCK | O_DSYNC | \
			 __O_SYNC | O_DIRECT | O_LARGEFILE | O_DIRECTORY | \
			 O_NOFOLLOW | O_NOATIME | O_PATH)

/* The character devices that can be reopened by path: they have no state */
static const dev_t stateless_devs[] = {
	MKDEV(1, 3),	/* null */
	MKDEV(1, 5),	/* zero */
	MKDEV(1, 8),	/* random */
	MKDEV(1, 9),	/* urandom */
};

/* File systems whose files are views of kernel state, not data */
static const unsigned long pseudo_magics[] = {
	PROC_SUPER_MAGIC, SYSFS_MAGIC, DEBUGFS_MAGIC, TRACEFS_MAGIC,
	SECURITYFS_MAGIC, SELINUX_MAGIC, SMACK_MAGIC, AAFS_MAGIC,
	CGROUP_SUPER_MAGIC, CGROUP2_SUPER_MAGIC, RDTGROUP_SUPER_MAGIC,
	BPF_FS_MAGIC, PSTOREFS_MAGIC, EFIVARFS_MAGIC, BINFMTFS_MAGIC,
	DEVPTS_SUPER_MAGIC, BINDERFS_SUPER_MAGIC, NSFS_MAGIC, PID_FS_MAGIC,
	OPENPROM_SUPER_MAGIC, USBDEVICE_SUPER_MAGIC,
};

static bool stateless_dev(dev_t dev)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(stateless_devs); i++)
		if (stateless_devs[i] == dev)
			return true;
	return false;
}

/* A device number of the image, which MKDEV() would truncate */
static bool stateless_dev_nr(u32 major, u32 minor)
{
	return major < (1U << (32 - MINORBITS)) && minor <= MINORMASK &&
	       stateless_dev(MKDEV(major, minor));
}

/* Checkpoint */

/**
 * struct fd_ent - one descriptor of the table being saved
 * @file: its open file, with a reference.
 * @fd: its number.
 * @cloexec: close-on-exec is set.
 * @first: index of the first descriptor of the table with the same @file.
 * @nr_fds: in the first one, the number of descriptors with @file.
 * @nr_vmas: in the first one, the number of memory areas mapping @file.
 * @ref: the &cr_hdr_fd.file of the descriptor.
 */
struct fd_ent {
	struct file *file;
	unsigned int fd;
	bool cloexec;
	unsigned int first;
	unsigned int nr_fds;
	unsigned int nr_vmas;
	u32 ref;
};

/* A file and a descriptor of it, to find the descriptors sharing a file */
struct file_key {
	struct file *file;
	unsigned int idx;
};

/**
 * struct fd_snap - the descriptor table being saved
 * @ents: the descriptors, by increasing number.
 * @keys: the same, sorted by file, then by number.
 * @nr: number of descriptors.
 * @nr_files: number of open files saved.
 * @pid: the task, for messages.
 * @buf: room for a path.
 */
struct fd_snap {
	struct fd_ent *ents;
	struct file_key *keys;
	unsigned int nr;
	u32 nr_files;
	pid_t pid;
	char *buf;
};

/*
 * The descriptor of the image or of the log, in a checkpoint of the caller:
 * not saved
 */
static bool is_image(struct cr_ctx *ctx, struct file *f)
{
	return ctx->task == current && (f == ctx->file || f == ctx->log);
}

/*
 * Count (@ents NULL) or take the descriptors of @files, at most @max.
 * Context: takes files->file_lock.
 */
static unsigned int walk_fds(struct cr_ctx *ctx, struct files_struct *files,
			     struct fd_ent *ents, unsigned int max)
{
	struct fdtable *fdt;
	struct file *f;
	unsigned int fd, n = 0;

	spin_lock(&files->file_lock);
	fdt = files_fdtable(files);
	for (fd = 0; fd < fdt->max_fds; fd++) {
		f = rcu_dereference_check_fdtable(files, fdt->fd[fd]);
		if (!f || is_image(ctx, f))
			continue;
		if (ents && n < max) {
			ents[n].file = get_file(f);
			ents[n].fd = fd;
			ents[n].cloexec = test_bit(fd, fdt->close_on_exec);
		}
		n++;
	}
	spin_unlock(&files->file_lock);
	return n;
}

static int snap_fds(struct cr_ctx *ctx, struct fd_snap *s)
{
	struct task_struct *t = ctx->task;
	unsigned int n;

	/* The table is not shared and its task stopped: it cannot change */
	task_lock(t);
	n = t->files ? walk_fds(ctx, t->files, NULL, 0) : 0;
	task_unlock(t);
	s->ents = kvcalloc(n ?: 1, sizeof(*s->ents), GFP_KERNEL_ACCOUNT);
	s->keys = kvcalloc(n ?: 1, sizeof(*s->keys), GFP_KERNEL_ACCOUNT);
	if (!s->ents || !s->keys)
		return -ENOMEM;
	task_lock(t);
	if (t->files)
		s->nr = walk_fds(ctx, t->files, s->ents, n);
	task_unlock(t);
	if (s->nr != n) {
		s->nr = min(s->nr, n);
		return cr_err(ctx, -EBUSY, "task %d: its descriptors changed",
			      s->pid);
	}
	return 0;
}

static int cmp_key(const void *a, const void *b)
{
	const struct file_key *ka = a, *kb = b;

	if (ka->file != kb->file)
		return ka->file < kb->file ? -1 : 1;
	if (ka->idx != kb->idx)
		return ka->idx < kb->idx ? -1 : 1;
	return 0;
}

static int cmp_file(const void *key, const void *elt)
{
	const struct file_key *k = elt;

	if (key == k->file)
		return 0;
	return key < (void *)k->file ? -1 : 1;
}

/* Group the descriptors that share a file */
static void group_fds(struct fd_snap *s)
{
	unsigned int i, first = 0;

	for (i = 0; i < s->nr; i++) {
		s->keys[i].file = s->ents[i].file;
		s->keys[i].idx = i;
	}
	sort(s->keys, s->nr, sizeof(*s->keys), cmp_key, NULL);
	for (i = 0; i < s->nr; i++) {
		if (!i || s->keys[i].file != s->keys[i - 1].file)
			first = s->keys[i].idx;
		s->ents[s->keys[i].idx].first = first;
		s->ents[first].nr_fds++;
	}
}

/* Count the memory areas of @mm that map each file: they hold it */
static void count_mapped(struct fd_snap *s, struct mm_struct *mm)
{
	struct vm_area_struct *vma;
	struct file_key *k;

	VMA_ITERATOR(vmi, mm, 0);

	for_each_vma(vmi, vma) {
		if (!vma->vm_file)
			continue;
		k = bsearch(vma->vm_file, s->keys, s->nr, sizeof(*s->keys),
			    cmp_file);
		if (k)
			s->ents[s->ents[k->idx].first].nr_vmas++;
	}
}

static int count_vmas(struct cr_ctx *ctx, struct fd_snap *s)
{
	struct mm_struct *mm = get_task_mm(ctx->task);

	if (!mm)
		return cr_err(ctx, -ESRCH, "task %d is exiting", s->pid);
	if (mmap_read_lock_killable(mm)) {
		mmput(mm);
		return cr_err(ctx, -EINTR, "killed while reading memory");
	}
	count_mapped(s, mm);
	mmap_read_unlock(mm);
	mmput(mm);
	return 0;
}

/* Whether a lock or lease is held on @f, or by the descriptor table */
static bool has_locks(struct file *f, struct files_struct *files)
{
	struct file_lock_context *flctx;
	struct list_head *lists[3];
	struct file_lock_core *flc;
	bool ret = false;
	int i;

	flctx = locks_inode_context(file_inode(f));
	if (!flctx)
		return false;
	lists[0] = &flctx->flc_flock;
	lists[1] = &flctx->flc_posix;
	lists[2] = &flctx->flc_lease;
	spin_lock(&flctx->flc_lock);
	for (i = 0; i < ARRAY_SIZE(lists) && !ret; i++)
		list_for_each_entry(flc, lists[i], flc_list)
			if (flc->flc_file == f || flc->flc_owner == f ||
			    flc->flc_owner == files) {
				ret = true;
				break;
			}
	spin_unlock(&flctx->flc_lock);
	return ret;
}

static bool pseudo_fs(const struct super_block *sb)
{
	int i;

	if (sb->s_flags & (SB_NOUSER | SB_KERNMOUNT))
		return true;
	for (i = 0; i < ARRAY_SIZE(pseudo_magics); i++)
		if (sb->s_magic == pseudo_magics[i])
			return true;
	return false;
}

/* The CR_FILE_* kind of @f, or 0 with what it is in *@what */
static u32 file_kind(struct file *f, const char **what)
{
	umode_t mode = file_inode(f)->i_mode;

	*what = "special file";
	if (S_ISREG(mode))
		return CR_FILE_REG;
	if (S_ISDIR(mode))
		return CR_FILE_DIR;
	if (S_ISCHR(mode) && stateless_dev(file_inode(f)->i_rdev) &&
	    !(f->f_mode & FMODE_PATH))
		return CR_FILE_CHR;
	if (S_ISFIFO(mode) && file_inode(f)->i_sb->s_magic == PIPEFS_MAGIC &&
	    !(f->f_mode & FMODE_PATH))
		return CR_FILE_PIPE;
	if (S_ISFIFO(mode) && !(f->f_mode & FMODE_PATH))
		return CR_FILE_FIFO;
	if (S_ISFIFO(mode))
		*what = "FIFO opened with O_PATH";
	else if (S_ISSOCK(mode))
		*what = "socket";
	else if (S_ISCHR(mode) || S_ISBLK(mode))
		*what = "device";
	else if (S_ISLNK(mode))
		*what = "symbolic link";
	else if (!(mode & S_IFMT))
		*what = "anonymous inode (eventfd, signalfd, timerfd, epoll...)";
	return 0;
}

/*
 * Why the file of @e, the first descriptor of its file, cannot be saved:
 * 0, or an errno with the reason in *@why.
 */
/*
 * References to @e's file that the descriptors and memory areas of the
 * task (of the tree) and ours explain
 */
static long held_refs(struct cr_ctx *ctx, const struct fd_ent *e)
{
	struct cr_obj *obj;

	if (!ctx->tree)
		return 2 * e->nr_fds + e->nr_vmas;
	obj = cr_obj_find(ctx, e->file);
	return obj ? obj->users + 1 + e->nr_fds : 0;
}

/* Flags of a pipe end saved */
#define PIPE_FLAGS	(O_ACCMODE | O_NONBLOCK)

/*
 * An end of a pipe or of a FIFO (@fifo): its pipe is saved with its first
 * end, and the files open on it must all be in the tree
 */
static int check_pipe(struct cr_ctx *ctx, const struct fd_ent *e, bool fifo,
		      const char **why)
{
	struct file *f = e->file;
	struct pipe_inode_info *pipe = get_pipe_info(f, false);
	struct cr_obj *pobj;

	*why = fifo ? "FIFO (saved only in a checkpoint of a tree)" :
		      "pipe (saved only in a checkpoint of the tree of both its ends)";
	if (!ctx->tree || !pipe)
		return -EOPNOTSUPP;
	*why = "pipe in packet mode (O_DIRECT), with O_ASYNC, or open for reading and writing";
	if (fifo)
		*why = "FIFO with O_DIRECT, O_APPEND, O_ASYNC or a flag that cannot be saved";
	if ((f->f_flags & ~(PIPE_FLAGS | O_LARGEFILE)) ||
	    (!fifo && (f->f_flags & O_ACCMODE) == O_RDWR))
		return -EOPNOTSUPP;
	*why = "notification pipe, or pipe larger than CR_PIPE_MAX_SIZE";
#ifdef CONFIG_WATCH_QUEUE
	if (pipe->watch_queue)
		return -EOPNOTSUPP;
#endif
	if ((u64)pipe->max_usage * PAGE_SIZE > CR_PIPE_MAX_SIZE)
		return -EOPNOTSUPP;
	*why = fifo ? "FIFO end shared with a process outside the tree" :
		      "pipe shared with a process outside the tree";
	if (file_count(f) > held_refs(ctx, e))
		return -EBUSY;
	*why = fifo ? "FIFO open by a process outside the tree" :
		      "pipe with an end outside the tree";
	pobj = cr_obj_find(ctx, pipe);
	if (!pobj || READ_ONCE(pipe->files) > pobj->users)
		return -EBUSY;
	return 0;
}

/* A FIFO is reopened by its path, and its pipe saved as a pipe's */
static int check_fifo(struct cr_ctx *ctx, const struct fd_ent *e,
		      const char **why)
{
	struct file *f = e->file;

	*why = "unlinked FIFO";
	if (!file_inode(f)->i_nlink || d_unlinked(f->f_path.dentry))
		return -EOPNOTSUPP;
	*why = "FIFO with a lock or a lease";
	if (has_locks(f, ctx->task->files))
		return -EOPNOTSUPP;
	return check_pipe(ctx, e, true, why);
}

static int check_file(struct cr_ctx *ctx, struct fd_snap *s,
		      const struct fd_ent *e, const char **why)
{
	struct file *f = e->file;
	const struct inode *inode = file_inode(f);
	u32 kind = file_kind(f, why);

	if (!kind)
		return -EOPNOTSUPP;
	if (kind == CR_FILE_PIPE)
		return check_pipe(ctx, e, false, why);
	if (kind == CR_FILE_FIFO)
		return check_fifo(ctx, e, why);
	*why = "unlinked file";
	if (!inode->i_nlink || d_unlinked(f->f_path.dentry))
		return -EOPNOTSUPP;
	*why = "file on a pseudo file system";
	if (pseudo_fs(inode->i_sb))
		return -EOPNOTSUPP;
	*why = "file with O_ASYNC or flags that cannot be saved";
	if ((f->f_flags & ~(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_CLOEXEC)) &
	    ~FILE_FLAGS)
		return -EOPNOTSUPP;
	*why = "file with a lock or a lease";
	if (has_locks(f, ctx->task->files))
		return -EOPNOTSUPP;
	/* The tables' references, ours, the memory areas': no other */
	*why = ctx->tree ? "file shared with a process outside the tree" :
			   "file shared with another process";
	if (file_count(f) > held_refs(ctx, e))
		return -EBUSY;
	return 0;
}

/* Decide what each descriptor is saved as, and number the files */
static int check_fds(struct cr_ctx *ctx, struct fd_snap *s)
{
	struct fd_ent *e;
	const char *why;
	unsigned int i;
	int err;

	for (i = 0; i < s->nr; i++) {
		e = &s->ents[i];
		if (e->first != i) {
			e->ref = s->ents[e->first].ref;
			if (!e->ref && e->fd > 2)
				return cr_err(ctx, -EOPNOTSUPP,
					      "task %d: fd %u shares the file of fd %u, which is inherited: %pD",
					      s->pid, e->fd,
					      s->ents[e->first].fd, e->file);
			continue;
		}
		err = check_file(ctx, s, e, &why);
		if (!err) {
			e->ref = ++s->nr_files;
			continue;
		}
		if (e->fd > 2)
			return cr_err(ctx, err, "task %d: fd %u: %s: %pD",
				      s->pid, e->fd, why, e->file);
		pr_debug("task %d: fd %u (%s) is left to the caller of restart\n",
			 s->pid, e->fd, why);
	}
	return 0;
}

static int write_table(struct cr_ctx *ctx, struct fd_snap *s)
{
	struct cr_hdr_files *fh;
	int ret;

	fh = cr_hbuf_get(ctx, sizeof(*fh));
	if (!fh)
		return -ENOMEM;
	fh->nr_fds = s->nr;
	fh->nr_files = s->nr_files;
	ret = cr_write_rec(ctx, fh, CR_HDR_FILES, sizeof(*fh));
	cr_hbuf_put(ctx, fh);
	return ret;
}

static int write_fd(struct cr_ctx *ctx, const struct fd_ent *e)
{
	struct cr_hdr_fd *fdh;
	int ret;

	fdh = cr_hbuf_get(ctx, sizeof(*fdh));
	if (!fdh)
		return -ENOMEM;
	fdh->fd = e->fd;
	fdh->flags = e->cloexec ? CR_FD_CLOEXEC : 0;
	fdh->file = e->ref;
	ret = cr_write_rec(ctx, fdh, CR_HDR_FD, sizeof(*fdh));
	cr_hbuf_put(ctx, fdh);
	return ret;
}

/* The path of @e's file as the caller sees it, in s->buf, or an ERR_PTR() */
static const char *name_file(struct cr_ctx *ctx, struct fd_snap *s,
			     const struct fd_ent *e)
{
	struct path root;
	char *name;

	get_fs_root(current->fs, &root);
	name = __d_path(&e->file->f_path, &root, s->buf, PATH_MAX);
	path_put(&root);
	if (!name || (!IS_ERR(name) && name[0] != '/'))
		return ERR_PTR(cr_err(ctx, -EOPNOTSUPP,
				      "task %d: fd %u: file outside the root directory: %pD",
				      s->pid, e->fd, e->file));
	if (IS_ERR(name))
		return ERR_PTR(cr_err(ctx, PTR_ERR(name),
				      "task %d: fd %u: cannot name its file",
				      s->pid, e->fd));
	return name;
}

static void fill_file(struct cr_hdr_file *fh, struct file *f)
{
	const char *what;
	dev_t dev = file_inode(f)->i_rdev;

	fh->kind = file_kind(f, &what);
	fh->flags = f->f_flags & FILE_FLAGS;
	fh->pos = f->f_pos;
	if (fh->kind == CR_FILE_PIPE || fh->kind == CR_FILE_FIFO) {
		fh->flags = f->f_flags & PIPE_FLAGS;
		fh->pos = 0;
	}
	if (fh->kind == CR_FILE_CHR) {
		fh->rdev_major = MAJOR(dev);
		fh->rdev_minor = MINOR(dev);
	}
}

/* The bytes buffered in @pipe, into *@data (@size bytes), without taking them */
static int copy_pipe(struct cr_ctx *ctx, struct pipe_inode_info *pipe,
		     void *data, u32 size, u32 *nr)
{
	struct pipe_buffer *buf;
	unsigned int tail;
	int ret = 0;

	*nr = 0;
	pipe_lock(pipe);
	for (tail = pipe->tail; tail != pipe->head && !ret; tail++) {
		buf = pipe_buf(pipe, tail);
		ret = pipe_buf_confirm(pipe, buf);
		if (ret)
			break;
		if (buf->len > size - *nr) {
			ret = -EBUSY;
			break;
		}
		memcpy_from_page(data + *nr, buf->page, buf->offset, buf->len);
		*nr += buf->len;
	}
	pipe_unlock(pipe);
	if (ret)
		return cr_err(ctx, ret, "reading the data of a pipe failed");
	return 0;
}

/* The pipe of the end @f: its data with its first end */
static int write_pipe(struct cr_ctx *ctx, struct file *f)
{
	struct pipe_inode_info *pipe = get_pipe_info(f, false);
	struct cr_obj *pobj = cr_obj_find(ctx, pipe);
	struct cr_hdr_pipe *ph;
	void *data = NULL;
	u32 size, nr = 0;
	int ret = 0;

	if (WARN_ON_ONCE(!pobj))
		return -EINVAL;
	size = pipe->max_usage * PAGE_SIZE;
	if (!pobj->id) {
		cr_obj_number(ctx, pobj);
		data = kvmalloc(size, GFP_KERNEL);
		if (!data)
			return -ENOMEM;
		ret = copy_pipe(ctx, pipe, data, size, &nr);
	}
	ph = ret ? NULL : cr_hbuf_get(ctx, sizeof(*ph));
	if (ph) {
		ph->obj = pobj->id;
		ph->size = size;
		ph->nr_bytes = nr;
		ret = cr_write_rec_begin(ctx, ph, CR_HDR_PIPE, sizeof(*ph), nr) ?:
		      cr_write(ctx, data, nr) ?:
		      cr_write_rec_end(ctx, sizeof(*ph) + nr);
		cr_hbuf_put(ctx, ph);
	} else if (!ret) {
		ret = -ENOMEM;
	}
	kvfree(data);
	return ret;
}

/*
 * The file of @e: in a tree, described by the first task that has it, and
 * referred to by its id in the others
 */
static int write_file(struct cr_ctx *ctx, struct fd_snap *s,
		      const struct fd_ent *e)
{
	struct cr_obj *obj = NULL;
	struct cr_hdr_file *fh;
	const char *name = NULL;
	u32 kind = file_kind(e->file, &name);
	bool pipe = kind == CR_FILE_PIPE;
	int ret;

	if (ctx->tree) {
		obj = cr_obj_find(ctx, e->file);
		if (!obj)
			return cr_err(ctx, -EBUSY, "task %d: its descriptors changed",
				      s->pid);
	}
	if (!pipe && !(obj && obj->id)) {
		name = name_file(ctx, s, e);
		if (IS_ERR(name))
			return PTR_ERR(name);
	}
	fh = cr_hbuf_get(ctx, sizeof(*fh));
	if (!fh)
		return -ENOMEM;
	if (obj && obj->id) {
		fh->kind = CR_FILE_OBJ;
		fh->obj = obj->id;
		ret = cr_write_rec(ctx, fh, CR_HDR_FILE, sizeof(*fh));
		cr_hbuf_put(ctx, fh);
		return ret;
	}
	fill_file(fh, e->file);
	if (obj) {
		cr_obj_number(ctx, obj);
		fh->obj = obj->id;
	}
	ret = cr_write_rec(ctx, fh, CR_HDR_FILE, sizeof(*fh));
	cr_hbuf_put(ctx, fh);
	if (ret)
		return ret;
	if (pipe)
		return write_pipe(ctx, e->file);
	ret = cr_write_string(ctx, CR_HDR_FILE_PATH, name);
	if (!ret && kind == CR_FILE_FIFO)
		ret = write_pipe(ctx, e->file);
	return ret;
}

static int write_files(struct cr_ctx *ctx, struct fd_snap *s)
{
	unsigned int i;
	int ret;

	ret = write_table(ctx, s);
	for (i = 0; i < s->nr && !ret; i++)
		ret = write_fd(ctx, &s->ents[i]);
	for (i = 0; i < s->nr && !ret; i++)
		if (s->ents[i].first == i && s->ents[i].ref)
			ret = write_file(ctx, s, &s->ents[i]);
	return ret;
}

/**
 * cr_write_files() - write the descriptor table of a task
 * @ctx: the checkpoint; ctx->task is the task, which does not share its
 *       descriptor table.
 *
 * Writes a %CR_HDR_FILES record, a %CR_HDR_FD record per descriptor, then
 * a %CR_HDR_FILE and a %CR_HDR_FILE_PATH record per open file (a
 * %CR_HDR_PIPE record instead of the path for a pipe, after it for a
 * FIFO).  In a checkpoint of the caller, the descriptors of the image are
 * left out.
 *
 * Return: 0, -EOPNOTSUPP for a descriptor above 2 whose file cannot be
 * saved, -EBUSY for one whose file is shared with another process, or
 * another negative errno.
 */
int cr_write_files(struct cr_ctx *ctx)
{
	struct fd_snap s = { .pid = task_pid_vnr(ctx->task) };
	unsigned int i;
	int ret;

	s.buf = kmalloc(PATH_MAX, GFP_KERNEL);
	ret = s.buf ? snap_fds(ctx, &s) : -ENOMEM;
	if (!ret) {
		group_fds(&s);
		ret = count_vmas(ctx, &s) ?: check_fds(ctx, &s) ?:
		      write_files(ctx, &s);
	}
	for (i = 0; i < s.nr; i++)
		fput(s.ents[i].file);
	kvfree(s.keys);
	kvfree(s.ents);
	kfree(s.buf);
	return ret;
}

/**
 * cr_scan_files() - count the references of a task of a tree to files
 * @ctx: the checkpoint of a tree; ctx->task is the task.
 *
 * Before anything is written, every task's descriptors are counted, so
 * that a file or a pipe held outside the tree is told from one shared
 * inside it (see cr_scan_maps()).
 *
 * Return: 0, or a negative errno.
 */
int cr_scan_files(struct cr_ctx *ctx)
{
	struct fd_snap s = { .pid = task_pid_vnr(ctx->task) };
	struct pipe_inode_info *pipe;
	struct cr_obj *obj;
	unsigned int i;
	int ret;

	ret = snap_fds(ctx, &s);
	for (i = 0; i < s.nr && !ret; i++) {
		obj = cr_obj_track(ctx, s.ents[i].file, s.ents[i].file,
				   CR_OBJ_FILE);
		if (!obj) {
			ret = -ENOMEM;
			break;
		}
		if (obj->users++)
			continue;
		pipe = get_pipe_info(s.ents[i].file, false);
		if (!pipe)
			continue;
		obj = cr_obj_track(ctx, pipe, NULL, CR_OBJ_PIPE);
		if (!obj)
			ret = -ENOMEM;
		else
			obj->users++;
	}
	for (i = 0; i < s.nr; i++)
		fput(s.ents[i].file);
	kvfree(s.keys);
	kvfree(s.ents);
	return ret;
}

/**
 * cr_scan_maps() - count the references of a task's memory to files
 * @ctx: the checkpoint of a tree, after cr_scan_files() of every task.
 *
 * Return: 0, or a negative errno.
 */
int cr_scan_maps(struct cr_ctx *ctx)
{
	struct mm_struct *mm = get_task_mm(ctx->task);
	struct vm_area_struct *vma;
	struct vma_iterator vmi;
	struct cr_obj *obj;

	if (!mm)
		return cr_err(ctx, -ESRCH, "task %d is exiting",
			      task_pid_vnr(ctx->task));
	if (mmap_read_lock_killable(mm)) {
		mmput(mm);
		return -EINTR;
	}
	vma_iter_init(&vmi, mm, 0);
	for_each_vma(vmi, vma) {
		obj = vma->vm_file ? cr_obj_find(ctx, vma->vm_file) : NULL;
		if (obj)
			obj->users++;
	}
	mmap_read_unlock(mm);
	/* For the shared memory of the tree (see snap_shmem()) */
	if (!cr_obj_track(ctx, mm, NULL, CR_OBJ_MM)) {
		mmput(mm);
		return -ENOMEM;
	}
	mmput(mm);
	return 0;
}

/* Restart: read and check, before the point of no return */

/* Marks of each open file of the image while its descriptors are read */
#define FILE_USED	1	/* a descriptor refers to it */
#define FILE_NEEDED	2	/* one that restart does not replace */

/**
 * struct cr_fd - a descriptor read from the image
 * @fd: its number.
 * @flags: CR_FD_* bits.
 * @file: index in &cr_files_state.files, or 0 for the caller's.
 */
struct cr_fd {
	u32 fd;
	u32 flags;
	u32 file;
};

/**
 * struct cr_files_state - descriptor table read from an image
 * @nr_fds: number of descriptors.
 * @nr_files: number of open files.
 * @fds: the descriptors, by increasing number.
 * @files: the reopened files, from index 1; %NULL for a file that only
 *         descriptors the caller replaces refer to.
 * @marks: FILE_* marks of each file, while the records are read.
 * @buf: room for a path.
 */
struct cr_files_state {
	u32 nr_fds;
	u32 nr_files;
	struct cr_fd *fds;
	struct file **files;
	u8 *marks;
	char *buf;
};

/*
 * In a tree, the descriptors 0-2 the image leaves to the caller are the
 * caller's, and no other: CR_RESTART_INHERIT_FD() is for one task.
 */
static bool inherit_flag(struct cr_ctx *ctx, u32 fd)
{
	return fd <= 2 && !ctx->tree &&
	       (ctx->flags & CR_RESTART_INHERIT_FD(fd));
}

/* Most descriptors the caller can have */
static unsigned int fd_limit(void)
{
	return min_t(unsigned long, rlimit(RLIMIT_NOFILE), sysctl_nr_open);
}

static int read_table(struct cr_ctx *ctx, struct cr_files_state *st)
{
	struct cr_hdr_files fh;
	int ret;

	ret = cr_read_rec(ctx, &fh, CR_HDR_FILES, sizeof(fh));
	if (ret)
		return ret;
	if (fh.reserved)
		return cr_err(ctx, -EINVAL, "reserved files fields are not zero");
	if (fh.nr_fds > fd_limit())
		return cr_err(ctx, -EMFILE,
			      "image has %u descriptors, the caller may have %u",
			      fh.nr_fds, fd_limit());
	if (fh.nr_files > fh.nr_fds)
		return cr_err(ctx, -EINVAL, "image has %u files for %u descriptors",
			      fh.nr_files, fh.nr_fds);
	ret = cr_check_left(ctx, (u64)fh.nr_fds * sizeof(struct cr_hdr_fd) +
			    (u64)fh.nr_files * sizeof(struct cr_hdr_file),
			    "its descriptors");
	if (ret)
		return ret;
	st->nr_fds = fh.nr_fds;
	st->nr_files = fh.nr_files;
	st->fds = kvcalloc(st->nr_fds ?: 1, sizeof(*st->fds),
			   GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	st->files = kvcalloc(st->nr_files + 1, sizeof(*st->files),
			     GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	st->marks = kvzalloc(st->nr_files + 1, GFP_KERNEL_ACCOUNT);
	st->buf = kmalloc(CR_PATH_MAX + 1, GFP_KERNEL);
	if (!st->fds || !st->files || !st->marks || !st->buf)
		return -ENOMEM;
	return 0;
}

/* The caller must have descriptor @fd: the restored task gets it */
static int check_caller_fd(struct cr_ctx *ctx, u32 fd)
{
	struct file *f = fget_raw(fd);

	if (!f)
		return cr_err(ctx, -EBADF,
			      "fd %u is the caller's, which has no fd %u", fd, fd);
	fput(f);
	return 0;
}

static int check_fd(struct cr_ctx *ctx, const struct cr_files_state *st,
		    const struct cr_hdr_fd *fdh, u32 i)
{
	if (fdh->reserved)
		return cr_err(ctx, -EINVAL, "fd %u: reserved fields are not zero",
			      fdh->fd);
	if (fdh->flags & ~CR_FD_CLOEXEC)
		return cr_err(ctx, -EINVAL, "fd %u: unknown flags %#x", fdh->fd,
			      fdh->flags);
	if (fdh->fd >= sysctl_nr_open)
		return cr_err(ctx, -EINVAL, "fd %u out of range", fdh->fd);
	if (fdh->fd >= rlimit(RLIMIT_NOFILE))
		return cr_err(ctx, -EMFILE, "fd %u above the caller's limit %lu",
			      fdh->fd, rlimit(RLIMIT_NOFILE));
	if (i && fdh->fd <= st->fds[i - 1].fd)
		return cr_err(ctx, -EINVAL, "fd %u after fd %u: duplicate or out of order",
			      fdh->fd, st->fds[i - 1].fd);
	if (fdh->file > st->nr_files)
		return cr_err(ctx, -EINVAL, "fd %u refers to file %u of %u",
			      fdh->fd, fdh->file, st->nr_files);
	if (!fdh->file && fdh->fd > 2)
		return cr_err(ctx, -EINVAL, "fd %u cannot be the caller's",
			      fdh->fd);
	return 0;
}

static int read_fds(struct cr_ctx *ctx, struct cr_files_state *st)
{
	struct cr_hdr_fd fdh;
	struct cr_fd *d;
	u32 i;
	int ret;

	for (i = 0; i < st->nr_fds; i++) {
		ret = cr_read_rec(ctx, &fdh, CR_HDR_FD, sizeof(fdh)) ?:
		      check_fd(ctx, st, &fdh, i);
		if (ret)
			return ret;
		d = &st->fds[i];
		d->fd = fdh.fd;
		d->flags = fdh.flags;
		d->file = inherit_flag(ctx, fdh.fd) ? 0 : fdh.file;
		st->marks[fdh.file] |= FILE_USED;
		if (d->file)
			st->marks[d->file] |= FILE_NEEDED;
		else if (!inherit_flag(ctx, fdh.fd))
			ret = check_caller_fd(ctx, fdh.fd);
		if (ret)
			return ret;
	}
	for (i = 1; i <= st->nr_files; i++)
		if (!(st->marks[i] & FILE_USED))
			return cr_err(ctx, -EINVAL, "file %u has no descriptor", i);
	/* What the caller asked for, whether the image has the fd or not */
	for (i = 0, ret = 0; i <= 2 && !ret; i++)
		if (inherit_flag(ctx, i))
			ret = check_caller_fd(ctx, i);
	return ret;
}

static int check_file_rec(struct cr_ctx *ctx, const struct cr_hdr_file *fh,
			  u32 i)
{
	bool chr = fh->kind == CR_FILE_CHR;
	u32 flags = fh->flags;

	if (fh->reserved)
		return cr_err(ctx, -EINVAL, "file %u: reserved fields are not zero",
			      i);
	if (fh->kind < CR_FILE_REG || fh->kind > CR_FILE_FIFO)
		return cr_err(ctx, -EINVAL, "file %u: unknown kind %u", i,
			      fh->kind);
	/* Objects (and their ids) are of trees only: ctx->tree is NULL */
	if (!ctx->tree && (fh->kind == CR_FILE_PIPE ||
			   fh->kind == CR_FILE_FIFO || fh->kind == CR_FILE_OBJ))
		return cr_err(ctx, -EINVAL, "file %u: %s in an image of one task",
			      i, fh->kind == CR_FILE_PIPE ? "pipe" :
			      fh->kind == CR_FILE_FIFO ? "FIFO" :
			      "shared file object");
	if (!ctx->tree != !fh->obj)
		return cr_err(ctx, -EINVAL, "file %u: object id %u %s", i,
			      fh->obj, ctx->tree ? "in a tree" :
			      "in an image of one task");
	if (fh->kind == CR_FILE_OBJ && (flags || fh->pos || fh->rdev_major ||
					fh->rdev_minor))
		return cr_err(ctx, -EINVAL, "file %u: fields set for object %u",
			      i, fh->obj);
	if (fh->kind == CR_FILE_OBJ)
		return 0;
	if (fh->kind == CR_FILE_PIPE &&
	    ((flags & ~PIPE_FLAGS) || ((flags & O_ACCMODE) != O_RDONLY &&
				       (flags & O_ACCMODE) != O_WRONLY) ||
	     fh->pos || fh->rdev_major || fh->rdev_minor))
		return cr_err(ctx, -EINVAL, "file %u: bad pipe flags %#x", i,
			      flags);
	if (fh->kind == CR_FILE_PIPE)
		return 0;
	if (fh->kind == CR_FILE_FIFO &&
	    ((flags & ~PIPE_FLAGS) || (flags & O_ACCMODE) == O_ACCMODE ||
	     fh->pos || fh->rdev_major || fh->rdev_minor))
		return cr_err(ctx, -EINVAL, "file %u: bad FIFO flags %#x", i,
			      flags);
	if (fh->kind == CR_FILE_FIFO)
		return 0;
	if (flags & ~FILE_FLAGS)
		return cr_err(ctx, -EINVAL, "file %u: bad open flags %#x", i,
			      flags);
	if ((flags & O_ACCMODE) == O_ACCMODE ||
	    (fh->kind == CR_FILE_REG && (flags & O_DIRECTORY)) ||
	    (fh->kind == CR_FILE_DIR && !(flags & O_PATH) &&
	     (flags & O_ACCMODE) != O_RDONLY) ||
	    (chr && (flags & (O_PATH | O_DIRECTORY))))
		return cr_err(ctx, -EINVAL, "file %u: open flags %#x for kind %u",
			      i, flags, fh->kind);
	if (fh->pos < 0)
		return cr_err(ctx, -EINVAL, "file %u: negative offset", i);
	if (chr ? !stateless_dev_nr(fh->rdev_major, fh->rdev_minor) :
		  fh->rdev_major || fh->rdev_minor)
		return cr_err(ctx, -EINVAL, "file %u: bad device %u:%u", i,
			      fh->rdev_major, fh->rdev_minor);
	return 0;
}

/* Whether @inode is still what the image says */
static bool same_kind(const struct cr_hdr_file *fh, const struct inode *inode)
{
	switch (fh->kind) {
	case CR_FILE_REG:
		return S_ISREG(inode->i_mode);
	case CR_FILE_DIR:
		return S_ISDIR(inode->i_mode);
	default:
		return S_ISCHR(inode->i_mode) &&
		       inode->i_rdev == MKDEV(fh->rdev_major, fh->rdev_minor);
	}
}

/*
 * Open @name as the caller would with open(2) and the image's flags; the
 * kind is checked first, as opening a FIFO or another device would have
 * side effects, and again on what was opened.
 */
static struct file *open_file(const struct cr_hdr_file *fh, const char *name)
{
	unsigned int lookup = (fh->flags & O_NOFOLLOW) ? 0 : LOOKUP_FOLLOW;
	struct path path;
	struct file *f;
	bool same;
	int err;

	err = kern_path(name, lookup, &path);
	if (err)
		return ERR_PTR(err);
	same = same_kind(fh, d_inode(path.dentry));
	path_put(&path);
	if (!same)
		return ERR_PTR(-ESTALE);
	f = filp_open(name, fh->flags | O_NOCTTY, 0);
	if (IS_ERR(f))
		return f;
	if (!same_kind(fh, file_inode(f))) {
		fput(f);
		return ERR_PTR(-ESTALE);
	}
	return f;
}

static int reopen(struct cr_ctx *ctx, struct cr_files_state *st,
		  const struct cr_hdr_file *fh, u32 i)
{
	struct file *f;
	loff_t pos;

	f = open_file(fh, st->buf);
	if (IS_ERR(f))
		return cr_err(ctx, PTR_ERR(f), "file %u: cannot open %s%s", i,
			      st->buf, PTR_ERR(f) == -ESTALE ?
			      ": not the same kind of file" : "");
	st->files[i] = f;
	if (fh->kind == CR_FILE_CHR || (fh->flags & O_PATH) || !fh->pos)
		return 0;
	pos = vfs_llseek(f, fh->pos, SEEK_SET);
	if (pos != fh->pos)
		return cr_err(ctx, pos < 0 ? pos : -EINVAL,
			      "file %u: cannot seek %s to %lld", i, st->buf,
			      fh->pos);
	return 0;
}

/*
 * Give the empty pipe of @wend, open for writing without blocking, the
 * size and the data of @ph
 */
static int fill_pipe(struct cr_ctx *ctx, struct file *wend,
		     const struct cr_hdr_pipe *ph)
{
	u32 left = ph->nr_bytes, n;
	loff_t pos = 0;
	void *buf;
	long ret;

	ret = pipe_fcntl(wend, F_SETPIPE_SZ, ph->size);
	if (ret != ph->size)
		return cr_err(ctx, ret < 0 ? ret : -EINVAL,
			      "pipe %u: cannot make it %u bytes", ph->obj,
			      ph->size);
	buf = kmalloc(PAGE_SIZE, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	for (ret = 0; left && !ret; left -= n) {
		n = min_t(u32, left, PAGE_SIZE);
		ret = cr_read(ctx, buf, n);
		if (!ret && kernel_write(wend, buf, n, &pos) != n)
			ret = cr_err(ctx, -EINVAL, "pipe %u: writing its data failed",
				     ph->obj);
	}
	kfree(buf);
	return ret;
}

/* The pipe of a new pipe object: its size and its data */
static int make_pipe(struct cr_ctx *ctx, struct cr_obj *pobj,
		     const struct cr_hdr_pipe *ph)
{
	struct file *ends[2];
	int ret;

	ret = create_pipe_files(ends, O_NONBLOCK);
	if (ret)
		return cr_err(ctx, ret, "pipe %u: cannot create it", ph->obj);
	pobj->file = ends[0];
	pobj->wend = ends[1];
	pobj->size = ph->size;
	return fill_pipe(ctx, ends[1], ph);
}

/* The pipe record after file record @i, checked */
static int read_pipe_rec(struct cr_ctx *ctx, struct cr_hdr_pipe *ph, u32 i)
{
	u32 extra;
	int ret;

	ret = cr_read_rec_ext(ctx, ph, CR_HDR_PIPE, sizeof(*ph), &extra);
	if (ret)
		return ret;
	if (ph->reserved || extra != ph->nr_bytes || ph->nr_bytes > ph->size ||
	    !ph->size || ph->size > CR_PIPE_MAX_SIZE)
		return cr_err(ctx, -EINVAL,
			      "file %u: bad pipe record (pipe %u, %u bytes of %u)",
			      i, ph->obj, ph->nr_bytes, ph->size);
	return 0;
}

/* Whether the FIFO @f is open by no other file than @f */
static bool fifo_alone(struct file *f)
{
	struct inode *inode = file_inode(f);
	struct pipe_inode_info *pipe = get_pipe_info(f, false);
	bool alone;

	spin_lock(&inode->i_lock);
	alone = pipe && pipe->files == 1;
	spin_unlock(&inode->i_lock);
	return alone;
}

/*
 * Open the FIFO at @name for reading and writing without blocking, as the
 * caller would with open(2): the holder of its pipe while the image is
 * read.  No one else may have it open, which is checked before (opening
 * it would wake a process waiting in open(2) for a reader or a writer)
 * and after.
 */
static struct file *open_holder(const char *name)
{
	struct path path;
	struct inode *inode;
	struct file *f;
	int err;

	err = kern_path(name, LOOKUP_FOLLOW, &path);
	if (err)
		return ERR_PTR(err);
	inode = d_inode(path.dentry);
	if (!S_ISFIFO(inode->i_mode))
		err = -ESTALE;
	else if (READ_ONCE(inode->i_pipe))
		err = -EBUSY;
	path_put(&path);
	if (err)
		return ERR_PTR(err);
	f = filp_open(name, O_RDWR | O_NONBLOCK | O_NOCTTY, 0);
	if (IS_ERR(f))
		return f;
	if (!S_ISFIFO(file_inode(f)->i_mode))
		err = -ESTALE;
	else if (!fifo_alone(f))
		err = -EBUSY;
	if (err) {
		fput(f);
		return ERR_PTR(err);
	}
	return f;
}

/*
 * The pipe of a new FIFO object, at @name: opened by its holder, which
 * gives it its size and its data
 */
static int make_fifo(struct cr_ctx *ctx, struct cr_obj *pobj,
		     const struct cr_hdr_pipe *ph, const char *name)
{
	struct file *f = open_holder(name);

	if (IS_ERR(f))
		return cr_err(ctx, PTR_ERR(f), "FIFO %u: cannot open %s%s",
			      ph->obj, name,
			      PTR_ERR(f) == -ESTALE ? ": not a FIFO" :
			      PTR_ERR(f) == -EBUSY ? ": open outside the tree" :
			      "");
	pobj->file = f;
	pobj->size = ph->size;
	return fill_pipe(ctx, f, ph);
}

/*
 * Open the end of file record @fh of the FIFO of @holder, at @name, as the
 * caller would: not blocking, whatever FIFO is there, then with the
 * blocking mode of the image
 */
static struct file *open_end(const struct cr_hdr_file *fh, const char *name,
			     struct file *holder)
{
	struct path path;
	struct file *f;
	bool same;
	int err;

	err = kern_path(name, LOOKUP_FOLLOW, &path);
	if (err)
		return ERR_PTR(err);
	same = d_inode(path.dentry) == file_inode(holder);
	path_put(&path);
	if (!same)
		return ERR_PTR(-ESTALE);
	f = filp_open(name, fh->flags | O_NONBLOCK | O_NOCTTY, 0);
	if (IS_ERR(f))
		return f;
	if (file_inode(f) != file_inode(holder)) {
		fput(f);
		return ERR_PTR(-ESTALE);
	}
	spin_lock(&f->f_lock);
	f->f_flags = (f->f_flags & ~O_NONBLOCK) | (fh->flags & O_NONBLOCK);
	spin_unlock(&f->f_lock);
	return f;
}

/*
 * The pipe record after file record @i, and the object of @type it
 * describes (%CR_OBJ_PIPE, or %CR_OBJ_FIFO at @name): made by the first
 * record that names it, only referred to by the others.  Returns the
 * object, or an ERR_PTR().
 */
static struct cr_obj *read_pipe_obj(struct cr_ctx *ctx, u32 type,
				    const char *name, u32 i)
{
	struct cr_hdr_pipe ph;
	struct cr_obj *pobj;
	int ret;

	ret = read_pipe_rec(ctx, &ph, i);
	if (ret)
		return ERR_PTR(ret);
	if (cr_obj_is_new(ctx, ph.obj)) {
		pobj = cr_obj_define(ctx, ph.obj, type);
		if (IS_ERR(pobj))
			return pobj;
		ret = type == CR_OBJ_FIFO ? make_fifo(ctx, pobj, &ph, name) :
					    make_pipe(ctx, pobj, &ph);
	} else {
		pobj = cr_obj_get(ctx, ph.obj, type);
		if (IS_ERR(pobj))
			return pobj;
		/* Made by its first record: both ends of a pipe, or a holder */
		if (ph.nr_bytes || ph.size != pobj->size || !pobj->file)
			ret = cr_err(ctx, -EINVAL, "file %u: %s %u described twice",
				     i, type == CR_OBJ_FIFO ? "FIFO" : "pipe",
				     ph.obj);
	}
	ret = ret ?: cr_read_rec_end(ctx, ph.h.len);
	return ret ? ERR_PTR(ret) : pobj;
}

/* The end of a pipe of file record @fh, with a reference, or an ERR_PTR() */
static struct file *read_pipe(struct cr_ctx *ctx, const struct cr_hdr_file *fh,
			      u32 i)
{
	int end = (fh->flags & O_ACCMODE) == O_WRONLY;
	struct cr_obj *pobj;
	struct file *f;

	pobj = read_pipe_obj(ctx, CR_OBJ_PIPE, NULL, i);
	if (IS_ERR(pobj))
		return ERR_CAST(pobj);
	if (pobj->ends & BIT(end))
		return ERR_PTR(cr_err(ctx, -EINVAL,
				      "pipe %u: two files for its %s end",
				      pobj->id, end ? "write" : "read"));
	pobj->ends |= BIT(end);
	f = end ? pobj->wend : pobj->file;
	spin_lock(&f->f_lock);
	f->f_flags = (f->f_flags & ~O_NONBLOCK) | (fh->flags & O_NONBLOCK);
	spin_unlock(&f->f_lock);
	return get_file(f);
}

/*
 * The end of a FIFO of file record @fh, whose path is @name: its pipe
 * record, then the FIFO opened with the flags of the end
 */
static struct file *read_fifo(struct cr_ctx *ctx, const struct cr_hdr_file *fh,
			      const char *name, u32 i)
{
	struct cr_obj *pobj;
	struct file *f;

	pobj = read_pipe_obj(ctx, CR_OBJ_FIFO, name, i);
	if (IS_ERR(pobj))
		return ERR_CAST(pobj);
	f = open_end(fh, name, pobj->file);
	if (IS_ERR(f))
		return ERR_PTR(cr_err(ctx, PTR_ERR(f), "file %u: cannot open %s%s",
				      i, name, PTR_ERR(f) == -ESTALE ?
				      ": not the FIFO of its pipe record" : ""));
	return f;
}

/*
 * The file of record @i: reopened, made (a pipe) or, in a tree, shared
 * with the task that described it
 */
static int read_file(struct cr_ctx *ctx, struct cr_files_state *st, u32 i)
{
	bool needed = st->marks[i] & FILE_NEEDED;
	struct cr_obj *obj = NULL;
	struct cr_hdr_file fh;
	struct file *f;
	int ret;

	ret = cr_read_rec(ctx, &fh, CR_HDR_FILE, sizeof(fh)) ?:
	      check_file_rec(ctx, &fh, i);
	if (ret)
		return ret;
	if (fh.kind == CR_FILE_OBJ) {
		obj = cr_obj_get(ctx, fh.obj, CR_OBJ_FILE);
		if (IS_ERR(obj))
			return PTR_ERR(obj);
		if (!obj->file)
			return cr_err(ctx, -EINVAL, "file %u: object %u has no file",
				      i, fh.obj);
		if (needed)
			st->files[i] = get_file(obj->file);
		return 0;
	}
	if (ctx->tree) {
		obj = cr_obj_define(ctx, fh.obj, CR_OBJ_FILE);
		if (IS_ERR(obj))
			return PTR_ERR(obj);
	}
	if (fh.kind == CR_FILE_PIPE) {
		f = read_pipe(ctx, &fh, i);
		if (IS_ERR(f))
			return PTR_ERR(f);
		st->files[i] = f;
	} else {
		ret = cr_read_string(ctx, CR_HDR_FILE_PATH, st->buf,
				     CR_PATH_MAX + 1);
		if (ret < 0)
			return ret;
		if (st->buf[0] != '/')
			return cr_err(ctx, -EINVAL, "file %u: path %s is not absolute",
				      i, st->buf);
		if (!needed && !obj)
			return 0;
		if (fh.kind == CR_FILE_FIFO) {
			f = read_fifo(ctx, &fh, st->buf, i);
			ret = PTR_ERR_OR_ZERO(f);
			if (!ret)
				st->files[i] = f;
		} else {
			ret = reopen(ctx, st, &fh, i);
		}
		if (ret)
			return ret;
	}
	if (obj)
		obj->file = get_file(st->files[i]);
	return 0;
}

/**
 * cr_read_files() - read the descriptor table and reopen its files
 * @ctx: the restart; ctx->flags may ask for some of the caller's
 *       descriptors 0-2 (CR_RESTART_INHERIT_FD()).
 *
 * Before the point of no return: checks everything, changes nothing.  The
 * files are opened with the caller's credentials, so permissions apply,
 * and kept in ctx->files until cr_restore_files().
 *
 * A FIFO must exist at its path and be open nowhere else: it is opened
 * for reading and writing (so the caller needs both permissions on it)
 * by a holder that refills its data and is kept in its object until
 * every file of the tree is open, then each end with its own flags.
 *
 * Return: 0, -EINVAL for a bad record, -EMFILE for a descriptor above the
 * caller's RLIMIT_NOFILE, -EBADF when the restored task should get a
 * descriptor 0-2 the caller does not have, -ESTALE for a file that changed
 * kind since the checkpoint (a FIFO that is no FIFO), -EBUSY for a FIFO
 * open outside the tree, the errno of a failed open (-ENOENT, -EACCES...)
 * or another negative errno.
 */
int cr_read_files(struct cr_ctx *ctx)
{
	struct cr_files_state *st;
	u32 i;
	int ret;

	if (WARN_ON_ONCE(ctx->files))
		return -EINVAL;
	st = kzalloc(sizeof(*st), GFP_KERNEL);
	if (!st)
		return -ENOMEM;
	ctx->files = st;
	ret = read_table(ctx, st) ?: read_fds(ctx, st);
	for (i = 1; i <= st->nr_files && !ret; i++)
		ret = read_file(ctx, st, i);
	return ret;
}

/* Restart: after the point of no return */

/* Close the caller's descriptors the restored task does not have */
static void close_others(struct cr_ctx *ctx, const struct cr_files_state *st)
{
	unsigned int lo = 3, fd, i, j = 0;

	for (fd = 0; fd <= 2; fd++) {
		while (j < st->nr_fds && st->fds[j].fd < fd)
			j++;
		if (!inherit_flag(ctx, fd) &&
		    (j == st->nr_fds || st->fds[j].fd != fd))
			close_fd(fd);
	}
	for (i = 0; i < st->nr_fds; i++) {
		fd = st->fds[i].fd;
		if (fd < lo)
			continue;
		if (fd > lo)
			__close_range(lo, fd - 1, 0);
		lo = fd + 1;
	}
	__close_range(lo, ~0U, 0);
}

/**
 * cr_restore_files() - make the files read by cr_read_files() the caller's
 *                      descriptor table
 * @ctx: the restart.
 *
 * After the point of no return.  The caller's descriptors the image does
 * not have are closed, the image's installed at their numbers; those 0-2
 * given by the caller stay, with the image's close-on-exec flag.
 *
 * Return: 0, or a negative errno.
 */
int cr_restore_files(struct cr_ctx *ctx)
{
	const struct cr_files_state *st = ctx->files;
	const struct cr_fd *d;
	u32 i;
	int ret;

	close_others(ctx, st);
	for (i = 0; i < st->nr_fds; i++) {
		d = &st->fds[i];
		if (!d->file) {
			set_close_on_exec(d->fd, d->flags & CR_FD_CLOEXEC);
			continue;
		}
		ret = replace_fd(d->fd, st->files[d->file],
				 (d->flags & CR_FD_CLOEXEC) ? O_CLOEXEC : 0);
		if (ret < 0)
			return cr_err(ctx, ret, "cannot install fd %u", d->fd);
	}
	return 0;
}

/**
 * cr_free_files() - free what cr_read_files() kept
 * @ctx: the restart.
 */
void cr_free_files(struct cr_ctx *ctx)
{
	struct cr_files_state *st = ctx->files;
	u32 i;

	if (!st)
		return;
	for (i = 1; st->files && i <= st->nr_files; i++)
		if (st->files[i])
			fput(st->files[i]);
	kvfree(st->files);
	kvfree(st->fds);
	kvfree(st->marks);
	kfree(st->buf);
	kfree(st);
	ctx->files = NULL;
}
