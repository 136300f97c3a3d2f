// SPDX-License-Identifier: GPL-2.0
/*
 * Process trees: checkpoint of a task and its descendants, and their
 * restart as descendants of the caller.
 *
 * Checkpoint lists the tasks depth first, grabs them all (each must be
 * stopped), checks them all, and only then writes the tree record, one
 * process record per task and the section of each task, as for one task.
 * At the end it checks that no task ran and that the tree did not change.
 *
 * Restart reads the list, then creates the root as a child of the caller.
 * Each created task runs tree_task() before it ever returns to user space:
 * it reads its own section of the image and restores its memory, then
 * creates its children one after the other, each reading its section in
 * turn, so that the image is read in order by one task at a time.  When
 * all are read, the caller reads the tail and lets the tasks restore the
 * rest of their state (files, credentials, registers...), sets their
 * process groups and sessions, and lets them all return to user space at
 * once.  Until then any error kills every task created.
 */

#define pr_fmt(fmt) "checkpoint: " fmt

#include <linux/checkpoint.h>
#include <linux/cred.h>
#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/fs_struct.h>
#include <linux/hashtable.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/ptrace.h>
#include <linux/refcount.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/nsproxy.h>
#include <linux/overflow.h>
#include <linux/syscalls.h>
#include <linux/tty.h>
#include <linux/utsname.h>
#include <linux/wait.h>
#include <linux/wait_bit.h>
#include <uapi/linux/wait.h>
#include <linux/xarray.h>

/* Where a restart of a tree is */
enum tree_stage {
	STAGE_READ,	/* the tasks read their sections in turn */
	STAGE_FINISH,	/* they restore the rest of their state */
	STAGE_GO,	/* they return to user space */
	STAGE_ABORT,	/* they die */
};

/**
 * struct cr_tree_proc - a task of a tree
 * @rec: its process record.
 * @parent: index of its parent in the tree, -1 for the root.
 * @end: index of the first task after its subtree.
 * @task: the task, with a reference; on restart, set by the task itself.
 * @pid: its pid, with a reference (restart).
 * @ncsw: its context switch count when grabbed (checkpoint).
 * @zombie: it exited and was not reaped.
 * @ghost: it is the leader of a process group or session, which exited
 *         (and was reaped) while the group or session lives on.
 * @share: CR_SHARE_* tables the process shares with its parent.
 * @done: it restored its state, the tables it shares included (restart).
 * @tree: the tree (restart).
 */
struct cr_tree_proc {
	struct cr_hdr_proc rec;
	int parent;
	int end;
	struct task_struct *task;
	struct pid *pid;
	unsigned long ncsw;
	bool zombie;
	bool ghost;
	u32 share;
	bool done;
	struct cr_tree *tree;
};

/* The tables a thread shares with its process */
#define SHARE_ALL	(CR_SHARE_VM | CR_SHARE_FILES | CR_SHARE_FS | \
			 CR_SHARE_SIGHAND)

/**
 * struct cr_tree - a tree being checkpointed or restarted
 * @procs: its tasks, depth first, then the leaders that exited (ghosts).
 * @nr: number of @procs.
 * @nr_tasks: number of @procs that are tasks, not ghosts.
 * @ghosts: the process records of the ghosts (checkpoint).
 * @nr_ghosts: number of @ghosts.
 * @index: index in @procs of each pid of the image.
 * @ctx: the context of the system call.
 * @refs: the caller and the tasks created (restart) hold a reference.
 * @lock: protects @stage, @task and @pid of @procs, and @ctx's error.
 * @wq: where the tasks wait for the next stage.
 * @progress_wq: where a parent waits for its children to be read, and the
 *               caller for all tasks to be read or finished: only those
 *               are woken as each task is done, not every task.
 * @stage: where the restart is, an enum tree_stage.
 * @next: index of the next task to read its section.
 * @finished: tasks done with %STAGE_FINISH.
 * @hdr: the header of the first record of the next section, or the tail.
 * @mark: where the stream was before @hdr.
 * @objs: the shared objects by address (checkpoint).
 * @ids: the shared objects by id.
 * @last_id: the id of the last object written or read.
 * @flags: CR_TREE_* flags.
 * @uts: the names of the UTS namespace of the tree (%CR_TREE_UTS).
 * @sig_charged: queued signals of the tasks read so far that count
 *               against RLIMIT_SIGPENDING (restart).
 *
 * On restart the position, length, record count and checksum of the
 * stream are those of @ctx between two sections; the task reading a
 * section takes them into its own context and gives them back after.
 */
struct cr_tree {
	struct cr_tree_proc *procs;
	unsigned int nr;
	unsigned int nr_tasks;
	struct cr_hdr_proc *ghosts;
	unsigned int nr_ghosts;
	struct xarray index;
	struct cr_ctx *ctx;
	refcount_t refs;
	spinlock_t lock;	/* stage, tasks and pids, error */
	wait_queue_head_t wq;
	wait_queue_head_t progress_wq;
	int stage;
	unsigned int next;
	unsigned int finished;
	struct cr_hdr hdr;
	struct cr_mark mark;
	DECLARE_HASHTABLE(objs, 10);
	struct xarray ids;
	u32 last_id;
	u32 flags;
	struct cr_hdr_uts uts;
	u32 sig_charged;
};

/**
 * cr_tree_charge_signals() - count a task's queued signals with those of
 *                            the tasks of its tree read before it
 * @ctx: the restart of a task, or of one process.
 * @n: its queued signals that RLIMIT_SIGPENDING may refuse.
 *
 * The tasks of a tree are read one after the other, and all of them
 * before any queues its signals again: each must find room under the
 * limit for its own and for those of the tasks before it.
 *
 * Context: %STAGE_READ, the task reading the stream.
 * Return: @n plus those of the tasks before, at most U32_MAX.
 */
u32 cr_tree_charge_signals(struct cr_ctx *ctx, u32 n)
{
	struct cr_tree *tree = ctx->tree;
	u32 total;

	if (!tree)
		return n;
	spin_lock(&tree->lock);
	if (check_add_overflow(tree->sig_charged, n, &total))
		total = U32_MAX;
	tree->sig_charged = total;
	spin_unlock(&tree->lock);
	return total;
}

/* Drop the objects and the references they hold */
static void put_objs(struct cr_tree *tree)
{
	struct cr_obj *obj;
	struct hlist_node *tmp;
	unsigned long id;
	int bkt;

	hash_for_each_safe(tree->objs, bkt, tmp, obj, node) {
		hash_del(&obj->node);
		if (obj->file)
			fput(obj->file);
		kfree(obj);
	}
	xa_for_each(&tree->ids, id, obj) {
		if (obj->file)
			fput(obj->file);
		if (obj->wend)
			fput(obj->wend);
		kfree(obj);
	}
	xa_destroy(&tree->ids);
}

/**
 * cr_obj_find() - the object of a tree being checkpointed at an address
 * @ctx: the checkpoint of a tree.
 * @ptr: the address of the object.
 *
 * Return: the object, or %NULL if cr_obj_track() did not see it.
 */
struct cr_obj *cr_obj_find(struct cr_ctx *ctx, const void *ptr)
{
	struct cr_obj *obj;

	hash_for_each_possible(ctx->tree->objs, obj, node, (unsigned long)ptr)
		if (obj->ptr == ptr)
			return obj;
	return NULL;
}

/**
 * cr_obj_track() - find or add an object of a tree being checkpointed
 * @ctx: the checkpoint of a tree.
 * @ptr: the address of the object.
 * @file: for a %CR_OBJ_FILE, the file (@ptr), which the object then holds
 *        a reference to; else %NULL.
 * @type: CR_OBJ_*.
 *
 * Return: the object, or %NULL if out of memory.
 */
struct cr_obj *cr_obj_track(struct cr_ctx *ctx, const void *ptr,
			    struct file *file, u32 type)
{
	struct cr_obj *obj = cr_obj_find(ctx, ptr);

	if (obj)
		return obj;
	obj = kzalloc(sizeof(*obj), GFP_KERNEL);
	if (!obj)
		return NULL;
	obj->ptr = ptr;
	obj->type = type;
	if (file)
		obj->file = get_file(file);
	hash_add(ctx->tree->objs, &obj->node, (unsigned long)ptr);
	return obj;
}

/**
 * cr_obj_number() - give an object of a checkpoint its id in the image
 * @ctx: the checkpoint of a tree.
 * @obj: the object, written for the first time.
 */
void cr_obj_number(struct cr_ctx *ctx, struct cr_obj *obj)
{
	obj->id = ++ctx->tree->last_id;
}

/**
 * cr_obj_define() - an object of a tree being restarted, new in the image
 * @ctx: the restart of a tree.
 * @id: its id in the image, which must follow the last one.
 * @type: CR_OBJ_*.
 *
 * The caller fills it in.
 *
 * Return: the object, or an ERR_PTR(): -EINVAL (with a message) for an id
 * out of order or in the restart of one task, -ENOMEM.
 */
struct cr_obj *cr_obj_define(struct cr_ctx *ctx, u32 id, u32 type)
{
	struct cr_tree *tree = ctx->tree;
	struct cr_obj *obj;
	int ret;

	/* Callers check the kind of image; should one not, refuse */
	if (!tree)
		return ERR_PTR(cr_err(ctx, -EINVAL,
				      "object %u in an image of one task", id));
	if (id != tree->last_id + 1)
		return ERR_PTR(cr_err(ctx, -EINVAL,
				      "object %u defined after object %u", id,
				      tree->last_id));
	obj = kzalloc(sizeof(*obj), GFP_KERNEL);
	if (!obj)
		return ERR_PTR(-ENOMEM);
	obj->type = type;
	obj->id = id;
	ret = xa_insert(&tree->ids, id, obj, GFP_KERNEL);
	if (ret) {
		kfree(obj);
		return ERR_PTR(ret);
	}
	tree->last_id = id;
	return obj;
}

/**
 * cr_obj_is_new() - whether an id of a restart is that of a new object
 * @ctx: the restart of a tree.
 * @id: the id.
 *
 * Return: true if @id follows the last object's (cr_obj_define() it);
 * false in the restart of one task, which has no objects.
 */
bool cr_obj_is_new(struct cr_ctx *ctx, u32 id)
{
	return ctx->tree && id == ctx->tree->last_id + 1;
}

/**
 * cr_obj_get() - an object of a tree being restarted, defined before
 * @ctx: the restart of a tree.
 * @id: its id in the image.
 * @type: the CR_OBJ_* it must be.
 *
 * Return: the object, or an ERR_PTR(-EINVAL) (with a message) if there is
 * no such object of that type, or no objects (the restart of one task).
 */
struct cr_obj *cr_obj_get(struct cr_ctx *ctx, u32 id, u32 type)
{
	struct cr_obj *obj;

	if (!ctx->tree)
		return ERR_PTR(cr_err(ctx, -EINVAL,
				      "object %u in an image of one task", id));
	obj = xa_load(&ctx->tree->ids, id);
	if (!obj)
		return ERR_PTR(cr_err(ctx, -EINVAL,
				      "object %u used before it is defined", id));
	if (obj->type != type)
		return ERR_PTR(cr_err(ctx, -EINVAL,
				      "object %u is of type %u, not %u", id,
				      obj->type, type));
	return obj;
}

static struct cr_tree *tree_alloc(struct cr_ctx *ctx, unsigned int nr)
{
	struct cr_tree *tree;

	tree = kzalloc(sizeof(*tree), GFP_KERNEL);
	if (!tree)
		return NULL;
	tree->procs = kvcalloc(nr, sizeof(*tree->procs), GFP_KERNEL);
	if (!tree->procs) {
		kfree(tree);
		return NULL;
	}
	tree->nr = nr;
	tree->nr_tasks = nr;
	xa_init(&tree->index);
	hash_init(tree->objs);
	xa_init(&tree->ids);
	tree->ctx = ctx;
	refcount_set(&tree->refs, 1);
	spin_lock_init(&tree->lock);
	init_waitqueue_head(&tree->wq);
	init_waitqueue_head(&tree->progress_wq);
	return tree;
}

static void tree_put(struct cr_tree *tree)
{
	unsigned int i;

	if (!refcount_dec_and_test(&tree->refs)) {
		/* kill_tree() waits for the last reference but its own */
		smp_mb();
		wake_up_var(&tree->refs);
		return;
	}
	put_objs(tree);
	for (i = 0; i < tree->nr; i++) {
		if (tree->procs[i].task)
			put_task_struct(tree->procs[i].task);
		put_pid(tree->procs[i].pid);
	}
	xa_destroy(&tree->index);
	kvfree(tree->ghosts);
	kvfree(tree->procs);
	kfree(tree);
}

/* The index of the task of pid @nr in the image, or -1 */
static int tree_index(struct cr_tree *tree, pid_t nr)
{
	void *p = nr > 0 ? xa_load(&tree->index, nr) : NULL;

	return p ? xa_to_value(p) : -1;
}

static int tree_add_index(struct cr_tree *tree, pid_t nr, unsigned int i)
{
	return xa_insert(&tree->index, nr, xa_mk_value(i), GFP_KERNEL);
}

/* Checkpoint */

/*
 * The task after @t in a depth-first walk of the tree of @root, or NULL.
 * Children are listed in the order they were created.
 */
static struct task_struct *walk_next(struct task_struct *t,
				     struct task_struct *root)
{
	t = t->group_leader;
	if (!list_empty(&t->children))
		return list_first_entry(&t->children, struct task_struct,
					sibling);
	for (; t != root; t = t->real_parent)
		if (!list_is_last(&t->sibling, &t->real_parent->children))
			return list_next_entry(t, sibling);
	return NULL;
}

/*
 * The tasks of the tree of @root, up to @max of them, into @tasks: each
 * process, its other threads, then its children
 */
static unsigned int walk_tree(struct task_struct *root,
			      struct task_struct **tasks, unsigned int max)
{
	struct task_struct *p, *t;
	unsigned int n = 0;

	lockdep_assert_held(&tasklist_lock);
	for (p = root; p; p = walk_next(p, root)) {
		for (t = p; t; t = next_thread(t) == p ? NULL : next_thread(t)) {
			if (n < max && tasks)
				tasks[n] = t;
			n++;
		}
	}
	return n;
}

/* List the tasks of the tree, each with a reference, into a new tree */
static struct cr_tree *list_tasks(struct cr_ctx *ctx)
{
	struct task_struct **tasks = NULL;
	struct cr_tree *tree;
	unsigned int n, i, tries = 0;

	read_lock(&tasklist_lock);
	n = walk_tree(ctx->task, NULL, 0);
	read_unlock(&tasklist_lock);
	for (;;) {
		if (n > CR_TREE_MAX_TASKS)
			return ERR_PTR(cr_err(ctx, -EOPNOTSUPP,
					      "the tree of task %d has more than %d tasks",
					      task_pid_vnr(ctx->task),
					      CR_TREE_MAX_TASKS));
		kvfree(tasks);
		tasks = kvcalloc(n, sizeof(*tasks), GFP_KERNEL);
		if (!tasks)
			return ERR_PTR(-ENOMEM);
		read_lock(&tasklist_lock);
		i = walk_tree(ctx->task, tasks, n);
		if (i == n) {
			for (i = 0; i < n; i++)
				get_task_struct(tasks[i]);
			read_unlock(&tasklist_lock);
			break;
		}
		read_unlock(&tasklist_lock);
		/* It grew or shrank meanwhile: tasks that run fork and exit */
		n = i;
		if (++tries == 8 || fatal_signal_pending(current)) {
			kvfree(tasks);
			return ERR_PTR(cr_err(ctx, tries == 8 ? -EBUSY : -EINTR,
					      "the tree of task %d keeps changing: stop or freeze it",
					      task_pid_vnr(ctx->task)));
		}
	}
	tree = tree_alloc(ctx, n);
	if (!tree) {
		for (i = 0; i < n; i++)
			put_task_struct(tasks[i]);
		kvfree(tasks);
		return ERR_PTR(-ENOMEM);
	}
	for (i = 0; i < n; i++)
		tree->procs[i].task = tasks[i];
	kvfree(tasks);
	return tree;
}

static int add_ghost(struct cr_ctx *ctx, struct cr_tree *tree, pid_t nr);

/*
 * The id of process group or session @p of task @t in the image: the pid
 * of a task of the tree, or 0 for the root's when its leader is outside.
 * @what names it in messages.
 */
static int relation_id(struct cr_ctx *ctx, struct cr_tree *tree,
		       struct pid_namespace *ns, struct task_struct *t,
		       struct pid *p, struct pid *root_p, const char *what,
		       s32 *id)
{
	pid_t nr = pid_nr_ns(p, ns);
	bool leader_alive;

	if (nr && tree_index(tree, nr) >= 0) {
		*id = nr;
		return 0;
	}
	if (p == root_p) {
		*id = 0;
		return 0;
	}
	rcu_read_lock();
	leader_alive = pid_task(p, PIDTYPE_PID);
	rcu_read_unlock();
	if (leader_alive || !nr)
		return cr_err(ctx, -EBUSY,
			      "task %d: its %s %d is led by a task outside the tree",
			      task_pid_vnr(t), what, pid_vnr(p));
	*id = nr;
	return add_ghost(ctx, tree, nr);
}

/*
 * A group or session whose leader exited: its id is a ghost of the
 * tree, a process record with no section, whose group is its own and
 * whose session is that of the group
 */
static int add_ghost(struct cr_ctx *ctx, struct cr_tree *tree, pid_t nr)
{
	struct cr_hdr_proc *g;

	if (tree_index(tree, nr) >= 0)
		return 0;
	if (!tree->ghosts) {
		tree->ghosts = kvcalloc(2 * tree->nr, sizeof(*tree->ghosts),
					GFP_KERNEL);
		if (!tree->ghosts)
			return -ENOMEM;
	}
	if (WARN_ON_ONCE(tree->nr_ghosts >= 2 * tree->nr))
		return -EINVAL;
	g = &tree->ghosts[tree->nr_ghosts];
	g->pid = nr;
	g->tgid = nr;
	g->pgid = nr;
	g->sid = -1;		/* that of its group, filled in later */
	return tree_add_index(tree, nr, tree->nr + tree->nr_ghosts++);
}

/* The ghost of pid @nr, or NULL */
static struct cr_hdr_proc *ghost_of(struct cr_tree *tree, s32 nr)
{
	int i = tree_index(tree, nr);

	return i >= (int)tree->nr ? &tree->ghosts[i - tree->nr] : NULL;
}

/* The session of a ghost: its own, or that of a task of its group */
static int fill_ghost(struct cr_ctx *ctx, struct cr_tree *tree,
		      const struct cr_hdr_proc *rec)
{
	struct cr_hdr_proc *g = ghost_of(tree, rec->sid);

	if (g)
		g->sid = rec->sid;
	g = ghost_of(tree, rec->pgid);
	if (g && g->sid < 0)
		g->sid = rec->sid;
	if (g && g->sid != rec->sid)
		return cr_err(ctx, -EBUSY,
			      "process group %d is in two sessions", rec->pgid);
	return 0;
}

/* The process records, with pids as the root's pid namespace sees them */
static int fill_procs(struct cr_ctx *ctx, struct cr_tree *tree)
{
	struct task_struct *root = tree->procs[0].task;
	struct pid_namespace *ns = task_active_pid_ns(root);
	struct pid *pgrp, *session, *root_pgrp, *root_session;
	unsigned int i;
	int ret = 0;

	for (i = 0; i < tree->nr && !ret; i++) {
		struct task_struct *t = tree->procs[i].task;

		if (task_active_pid_ns(t) != ns)
			return cr_err(ctx, -EOPNOTSUPP,
				      "task %d is in a pid namespace of its own: not supported yet",
				      task_pid_vnr(t));
		tree->procs[i].rec.pid = task_pid_nr_ns(t, ns);
		ret = tree_add_index(tree, tree->procs[i].rec.pid, i);
	}
	if (ret)
		return ret;

	read_lock(&tasklist_lock);
	root_pgrp = get_pid(task_pgrp(root));
	root_session = get_pid(task_session(root));
	read_unlock(&tasklist_lock);
	for (i = 0; i < tree->nr && !ret; i++) {
		struct cr_tree_proc *p = &tree->procs[i];
		struct task_struct *t = p->task;

		p->rec.tgid = task_tgid_nr_ns(t, ns);
		if (!thread_group_leader(t))
			continue;
		read_lock(&tasklist_lock);
		pgrp = get_pid(task_pgrp(t));
		session = get_pid(task_session(t));
		p->rec.ppid = i ? task_tgid_nr_ns(t->real_parent, ns) : 0;
		p->rec.exit_signal = t->exit_signal;
		read_unlock(&tasklist_lock);
		ret = relation_id(ctx, tree, ns, t, pgrp, root_pgrp,
				  "process group", &p->rec.pgid) ?:
		      relation_id(ctx, tree, ns, t, session, root_session,
				  "session", &p->rec.sid);
		put_pid(pgrp);
		put_pid(session);
		if (!ret)
			ret = fill_ghost(ctx, tree, &p->rec);
		if (!ret && (p->rec.exit_signal < 0 ||
			     p->rec.exit_signal > _NSIG))
			ret = cr_err(ctx, -EOPNOTSUPP,
				     "task %d has exit signal %d",
				     task_pid_vnr(t), p->rec.exit_signal);
	}
	put_pid(root_pgrp);
	put_pid(root_session);
	return ret;
}

/*
 * A zombie, a process without threads whose parent did not reap it yet,
 * is saved with its exit status and credentials
 */
static int check_zombie(struct cr_ctx *ctx, struct task_struct *t,
			unsigned int i)
{
	pid_t pid = task_pid_vnr(t);

	if (!i || READ_ONCE(t->exit_state) != EXIT_ZOMBIE ||
	    !thread_group_leader(t) || !thread_group_empty(t))
		return cr_err(ctx, -EBUSY, "task %d is exiting", pid);
	if (!ptrace_may_access(t, PTRACE_MODE_ATTACH_REALCREDS))
		return cr_err(ctx, -EPERM, "task %d: no right to ptrace it",
			      pid);
	return 0;
}

/*
 * A tracer would lose its tracee: only the caller, which may have stopped
 * the task with ptrace to checkpoint it, may trace a task of the tree
 */
static int check_tracer(struct cr_ctx *ctx, struct task_struct *t)
{
	struct task_struct *tracer;
	pid_t nr = 0;

	rcu_read_lock();
	tracer = ptrace_parent(t);
	if (tracer && !same_thread_group(tracer, current))
		nr = task_pid_vnr(tracer);
	rcu_read_unlock();
	if (nr)
		return cr_err(ctx, -EBUSY, "task %d is traced by task %d",
			      task_pid_vnr(t), nr);
	return 0;
}

static int write_zombie(struct cr_ctx *ctx)
{
	struct cr_hdr_zombie *zh;
	int ret;

	zh = cr_hbuf_get(ctx, sizeof(*zh));
	if (!zh)
		return -ENOMEM;
	zh->exit_code = READ_ONCE(ctx->task->exit_code);
	__get_task_comm((char *)zh->comm, sizeof(zh->comm), ctx->task);
	ret = cr_write_rec(ctx, zh, CR_HDR_ZOMBIE, sizeof(*zh));
	cr_hbuf_put(ctx, zh);
	return ret ?: cr_write_creds(ctx);
}

/*
 * The namespaces of @t: the caller's, but for its pid namespace (the
 * root's) and its UTS namespace (the root's, saved if not the caller's)
 */
static int check_ns(struct cr_ctx *ctx, struct cr_tree *tree,
		    struct task_struct *t)
{
	struct nsproxy *mine = current->nsproxy, *ns;
	struct uts_namespace *root_uts;
	const char *what = NULL;
	pid_t pid = task_pid_vnr(t);

	task_lock(tree->procs[0].task);
	ns = tree->procs[0].task->nsproxy;
	root_uts = ns ? ns->uts_ns : NULL;
	task_unlock(tree->procs[0].task);
	task_lock(t);
	ns = t->nsproxy;
	if (!ns || !root_uts)
		what = "";
	else if (ns->uts_ns != root_uts)
		what = "UTS";
	else if (ns->mnt_ns != mine->mnt_ns)
		what = "mount";
	else if (ns->ipc_ns != mine->ipc_ns)
		what = "IPC";
	else if (ns->net_ns != mine->net_ns)
		what = "network";
	else if (ns->cgroup_ns != mine->cgroup_ns)
		what = "cgroup";
	else if (ns->time_ns != mine->time_ns ||
		 ns->time_ns_for_children != mine->time_ns_for_children)
		what = "time";
	else if (ns->pid_ns_for_children != task_active_pid_ns(t))
		what = "pid (for its children)";
	if (ns && root_uts != mine->uts_ns)
		tree->flags |= CR_TREE_UTS;
	task_unlock(t);
	if (what && !*what)
		return cr_err(ctx, -ESRCH, "task %d is exiting", pid);
	if (what)
		return cr_err(ctx, -EOPNOTSUPP,
			      "task %d is in a %s namespace other than its tree's: not supported yet",
			      pid, what);
	return 0;
}

static int write_uts(struct cr_ctx *ctx, struct cr_tree *tree)
{
	struct task_struct *root = tree->procs[0].task;
	struct uts_namespace *uts = NULL;
	struct cr_hdr_uts *uh;
	int ret;

	if (!(tree->flags & CR_TREE_UTS))
		return 0;
	/* uts_sem may sleep: not under the task lock */
	task_lock(root);
	if (root->nsproxy) {
		uts = root->nsproxy->uts_ns;
		get_uts_ns(uts);
	}
	task_unlock(root);
	if (!uts)
		return cr_err(ctx, -ESRCH, "task %d is exiting",
			      task_pid_vnr(root));
	uh = cr_hbuf_get(ctx, sizeof(*uh));
	if (!uh) {
		put_uts_ns(uts);
		return -ENOMEM;
	}
	down_read(&uts_sem);
	strscpy_pad(uh->nodename, uts->name.nodename);
	strscpy_pad(uh->domainname, uts->name.domainname);
	up_read(&uts_sem);
	put_uts_ns(uts);
	ret = cr_write_rec(ctx, uh, CR_HDR_UTS, sizeof(*uh));
	cr_hbuf_put(ctx, uh);
	return ret;
}

/*
 * The tables processes share (see "Shared tables" in
 * Documentation/checkpoint/design.rst).  Each getter gives the table of a
 * task and how many tasks use it, or NULL if the task is exiting.
 */
static const void *mm_of(struct task_struct *t, int *users)
{
	const void *ptr = NULL;

	task_lock(t);
	if (t->mm) {
		ptr = t->mm;
		*users = atomic_read(&t->mm->mm_users);
	}
	task_unlock(t);
	return ptr;
}

static const void *files_of(struct task_struct *t, int *users)
{
	const void *ptr = NULL;

	task_lock(t);
	if (t->files) {
		ptr = t->files;
		*users = atomic_read(&t->files->count);
	}
	task_unlock(t);
	return ptr;
}

static const void *fs_of(struct task_struct *t, int *users)
{
	const void *ptr = NULL;

	task_lock(t);
	if (t->fs) {
		ptr = t->fs;
		*users = READ_ONCE(t->fs->users);
	}
	task_unlock(t);
	return ptr;
}

static const void *sighand_of(struct task_struct *t, int *users)
{
	struct sighand_struct *sighand;
	unsigned long flags;

	sighand = lock_task_sighand(t, &flags);
	if (!sighand)
		return NULL;
	*users = refcount_read(&sighand->count);
	unlock_task_sighand(t, &flags);
	return sighand;
}

static const struct {
	u32 flag;
	u32 type;
	const char *what;
	const void *(*get)(struct task_struct *t, int *users);
} tables[] = {
	{ CR_SHARE_VM, CR_OBJ_MM, "address space", mm_of },
	{ CR_SHARE_FILES, CR_OBJ_FDT, "file table", files_of },
	{ CR_SHARE_FS, CR_OBJ_FS, "fs_struct", fs_of },
	{ CR_SHARE_SIGHAND, CR_OBJ_SIGHAND, "signal handlers", sighand_of },
};

/*
 * A child of vfork(2) whose parent still waits for it: the parent would
 * not wait any more after restart
 */
static int check_vfork(struct cr_ctx *ctx, struct task_struct *t)
{
	bool vfork;
	pid_t ppid;

	task_lock(t);
	vfork = t->vfork_done;
	task_unlock(t);
	if (!vfork)
		return 0;
	rcu_read_lock();
	ppid = task_tgid_vnr(rcu_dereference(t->real_parent));
	rcu_read_unlock();
	return cr_err(ctx, -EBUSY,
		      "task %d was created by vfork(2) and task %d waits for it to exec or exit",
		      task_pid_vnr(t), ppid);
}

/* Whether process @t has table @k of its parent, which is in the tree */
static bool shares_parent(struct task_struct *t, unsigned int k,
			  const void *ptr)
{
	struct task_struct *parent;
	const void *pptr;
	int users;

	read_lock(&tasklist_lock);
	parent = get_task_struct(t->real_parent->group_leader);
	read_unlock(&tasklist_lock);
	pptr = tables[k].get(parent, &users);
	put_task_struct(parent);
	return pptr == ptr;
}

/* Count the tasks of the tree that use each table @k, note the sharers */
static int count_table(struct cr_ctx *ctx, struct cr_tree *tree,
		       unsigned int k)
{
	unsigned int i;
	int users;

	for (i = 0; i < tree->nr; i++) {
		struct cr_tree_proc *p = &tree->procs[i];
		const void *ptr;
		struct cr_obj *obj;

		if (p->zombie)
			continue;
		ptr = tables[k].get(p->task, &users);
		if (!ptr)
			return cr_err(ctx, -ESRCH, "task %d is exiting",
				      task_pid_vnr(p->task));
		obj = cr_obj_track(ctx, ptr, NULL, tables[k].type);
		if (!obj)
			return -ENOMEM;
		obj->users++;
		if (i && thread_group_leader(p->task) &&
		    shares_parent(p->task, k, ptr))
			p->share |= tables[k].flag;
	}
	return 0;
}

/* The process of the tree before @i that has the table at @ptr */
static pid_t first_user(struct cr_tree *tree, unsigned int i, unsigned int k,
			const void *ptr)
{
	int users;

	while (i-- > 0)
		if (!tree->procs[i].zombie &&
		    tables[k].get(tree->procs[i].task, &users) == ptr)
			return task_tgid_vnr(tree->procs[i].task);
	return 0;
}

/*
 * Each table @k is its first process's, shared only by descendants that
 * have their parent's, and by nothing outside the tree.  The id of the
 * object of a table, never written, marks that its first process was seen.
 */
static int check_table(struct cr_ctx *ctx, struct cr_tree *tree,
		       unsigned int k)
{
	unsigned int i;
	int users = 0;

	for (i = 0; i < tree->nr; i++) {
		struct cr_tree_proc *p = &tree->procs[i];
		pid_t pid = task_pid_vnr(p->task);
		const void *ptr;
		struct cr_obj *obj;

		if (p->zombie || !thread_group_leader(p->task) ||
		    (p->share & tables[k].flag))
			continue;
		ptr = tables[k].get(p->task, &users);
		obj = ptr ? cr_obj_find(ctx, ptr) : NULL;
		if (!obj)
			return cr_err(ctx, -ESRCH, "task %d is exiting", pid);
		if (obj->id)
			return cr_err(ctx, -EBUSY,
				      "task %d shares its %s with task %d, which is not its parent",
				      pid, tables[k].what,
				      first_user(tree, i, k, ptr));
		obj->id = i + 1;
		/* A /proc reader's reference is not a task sharing it */
		if (users > obj->users && tables[k].type == CR_OBJ_MM)
			users = cr_mm_tasks(ptr);
		if (users > obj->users)
			return cr_err(ctx, -EBUSY,
				      "task %d shares its %s with a task outside the tree",
				      pid, tables[k].what);
	}
	return 0;
}

/*
 * What processes share with their parent, restart shares again; what
 * they share otherwise is refused.  Signal handlers go with the address
 * space (CLONE_SIGHAND needs CLONE_VM).
 */
static int check_shares(struct cr_ctx *ctx, struct cr_tree *tree)
{
	unsigned int i, k;
	int ret = 0;

	for (i = 0; i < tree->nr && !ret; i++)
		if (!tree->procs[i].zombie &&
		    thread_group_leader(tree->procs[i].task))
			ret = check_vfork(ctx, tree->procs[i].task);
	for (k = 0; k < ARRAY_SIZE(tables) && !ret; k++)
		ret = count_table(ctx, tree, k) ?: check_table(ctx, tree, k);
	for (i = 0; i < tree->nr && !ret; i++) {
		struct cr_tree_proc *p = &tree->procs[i];

		if ((p->share & CR_SHARE_SIGHAND) && !(p->share & CR_SHARE_VM))
			ret = cr_err(ctx, -EOPNOTSUPP,
				     "task %d shares its signal handlers with its parent, not its address space",
				     task_pid_vnr(p->task));
		if (p->share)
			tree->flags |= CR_TREE_SHARE;
	}
	return ret;
}

/* Every task stopped and checked before anything is written */
static int check_tasks(struct cr_ctx *ctx, struct cr_tree *tree)
{
	unsigned int i;
	int ret = 0;

	for (i = 0; i < tree->nr && !ret; i++) {
		struct cr_tree_proc *p = &tree->procs[i];

		if (p->task->exit_state) {
			ret = check_zombie(ctx, p->task, i);
			p->zombie = !ret;
			continue;
		}
		ret = cr_grab_task(ctx, p->task, &p->ncsw) ?:
		      check_tracer(ctx, p->task) ?: check_ns(ctx, tree, p->task);
		if (!ret) {
			ctx->task = p->task;
			ctx->ncsw = p->ncsw;
			ret = cr_check_task(ctx);
		}
	}
	if (!ret)
		ret = check_shares(ctx, tree);
	/*
	 * Which files and pipes the tree holds, before any is written: each
	 * table and address space once
	 */
	for (i = 0; i < tree->nr && !ret; i++) {
		ctx->task = tree->procs[i].task;
		if (thread_group_leader(ctx->task) && !tree->procs[i].zombie &&
		    !(tree->procs[i].share & CR_SHARE_FILES))
			ret = cr_scan_files(ctx);
	}
	for (i = 0; i < tree->nr && !ret; i++) {
		ctx->task = tree->procs[i].task;
		if (thread_group_leader(ctx->task) && !tree->procs[i].zombie &&
		    !(tree->procs[i].share & CR_SHARE_VM))
			ret = cr_scan_maps(ctx);
	}
	return ret;
}

static int write_proc(struct cr_ctx *ctx, const struct cr_hdr_proc *rec)
{
	struct cr_hdr_proc *ph;
	int ret;

	ph = cr_hbuf_get(ctx, sizeof(*ph));
	if (!ph)
		return -ENOMEM;
	*ph = *rec;
	ret = cr_write_rec(ctx, ph, CR_HDR_PROC, sizeof(*ph));
	cr_hbuf_put(ctx, ph);
	return ret;
}

static int write_share(struct cr_ctx *ctx, const struct cr_tree_proc *p)
{
	struct cr_hdr_share *sh;
	int ret;

	sh = cr_hbuf_get(ctx, sizeof(*sh));
	if (!sh)
		return -ENOMEM;
	sh->pid = p->rec.pid;
	sh->flags = p->share;
	ret = cr_write_rec(ctx, sh, CR_HDR_SHARE, sizeof(*sh));
	cr_hbuf_put(ctx, sh);
	return ret;
}

/* What processes share with their parent, after the process records */
static int write_shares(struct cr_ctx *ctx, struct cr_tree *tree)
{
	struct cr_hdr_shares *sh;
	unsigned int i, nr = 0;
	int ret;

	if (!(tree->flags & CR_TREE_SHARE))
		return 0;
	for (i = 0; i < tree->nr; i++)
		nr += !!tree->procs[i].share;
	sh = cr_hbuf_get(ctx, sizeof(*sh));
	if (!sh)
		return -ENOMEM;
	sh->nr = nr;
	ret = cr_write_rec(ctx, sh, CR_HDR_SHARES, sizeof(*sh));
	cr_hbuf_put(ctx, sh);
	for (i = 0; i < tree->nr && !ret; i++)
		if (tree->procs[i].share)
			ret = write_share(ctx, &tree->procs[i]);
	return ret;
}

static int write_tree(struct cr_ctx *ctx, struct cr_tree *tree)
{
	struct cr_hdr_tree *th;
	unsigned int i;
	int ret;

	th = cr_hbuf_get(ctx, sizeof(*th));
	if (!th)
		return -ENOMEM;
	if (tree->nr + tree->nr_ghosts > CR_TREE_MAX_TASKS) {
		cr_hbuf_put(ctx, th);
		return cr_err(ctx, -EOPNOTSUPP,
			      "the tree has more than %d tasks and group leaders",
			      CR_TREE_MAX_TASKS);
	}
	th->nr_tasks = tree->nr + tree->nr_ghosts;
	th->flags = tree->flags;
	ret = cr_write_rec(ctx, th, CR_HDR_TREE, sizeof(*th));
	for (i = 0; i < tree->nr && !ret; i++)
		ret = write_proc(ctx, &tree->procs[i].rec);
	for (i = 0; i < tree->nr_ghosts && !ret; i++)
		ret = write_proc(ctx, &tree->ghosts[i]);
	cr_hbuf_put(ctx, th);
	return ret ?: write_uts(ctx, tree) ?: write_shares(ctx, tree);
}

/* No task ran, none was added, none left */
static int check_unchanged(struct cr_ctx *ctx, struct cr_tree *tree)
{
	struct task_struct **tasks;
	unsigned int i, n;
	bool same = true;
	int ret = 0;

	for (i = 0; i < tree->nr && !ret; i++) {
		ctx->task = tree->procs[i].task;
		ctx->ncsw = tree->procs[i].ncsw;
		if (!tree->procs[i].zombie)
			ret = cr_check_still_stopped(ctx);
		else if (READ_ONCE(ctx->task->exit_state) != EXIT_ZOMBIE)
			ret = cr_err(ctx, -EBUSY, "task %d was reaped during the checkpoint",
				     task_pid_vnr(ctx->task));
	}
	if (ret)
		return ret;
	tasks = kvcalloc(tree->nr + 1, sizeof(*tasks), GFP_KERNEL);
	if (!tasks)
		return -ENOMEM;
	read_lock(&tasklist_lock);
	n = walk_tree(tree->procs[0].task, tasks, tree->nr + 1);
	read_unlock(&tasklist_lock);
	for (i = 0; i < tree->nr && same; i++)
		same = n == tree->nr && tasks[i] == tree->procs[i].task;
	kvfree(tasks);
	if (!same)
		return cr_err(ctx, -EBUSY,
			      "the tree of task %d changed during the checkpoint",
			      task_pid_vnr(tree->procs[0].task));
	return 0;
}

/*
 * The parent of process @i in the tree, which creates it at restart, whose
 * pages it may share; or NULL
 */
static struct task_struct *cow_parent(struct cr_tree *tree, unsigned int i)
{
	int j = i ? tree_index(tree, tree->procs[i].rec.ppid) : -1;

	if (j < 0 || j >= tree->nr || tree->procs[j].zombie)
		return NULL;
	return tree->procs[j].task;
}

/* The section of a process, but for the tables it has of its parent */
static int write_sharer(struct cr_ctx *ctx, u32 share)
{
	return cr_write_task(ctx) ?: cr_write_cpu(ctx) ?:
	       (share & CR_SHARE_FILES ? 0 : cr_write_files(ctx)) ?:
	       (share & CR_SHARE_VM ? 0 : cr_write_mm(ctx));
}

/* Only one checkpoint of each task of @tree at a time */
static int hold_tree(struct cr_ctx *ctx, struct cr_tree *tree)
{
	const void **groups;
	unsigned int i;

	groups = kvmalloc_array(tree->nr, sizeof(*groups), GFP_KERNEL);
	if (!groups)
		return -ENOMEM;
	for (i = 0; i < tree->nr; i++)
		groups[i] = tree->procs[i].task->signal;
	return cr_hold_groups(ctx, groups, tree->nr);
}

/**
 * cr_checkpoint_tree() - write the image of a task and its descendants
 * @ctx: the checkpoint; @ctx->task is the root of the tree.
 *
 * Return: 0, or a negative errno (-EBUSY, -EPERM or -EOPNOTSUPP with a
 * message for a tree that cannot be saved).
 */
int cr_checkpoint_tree(struct cr_ctx *ctx)
{
	struct task_struct *root = ctx->task;
	struct cr_tree *tree;
	unsigned int i;
	int ret;

	tree = list_tasks(ctx);
	if (IS_ERR(tree))
		return PTR_ERR(tree);
	ctx->tree = tree;
	ret = hold_tree(ctx, tree) ?: check_tasks(ctx, tree) ?:
	      fill_procs(ctx, tree) ?: cr_write_header(ctx) ?:
	      write_tree(ctx, tree);
	for (i = 0; i < tree->nr && !ret; i++) {
		ctx->task = tree->procs[i].task;
		ctx->ncsw = tree->procs[i].ncsw;
		ctx->cow_parent = cow_parent(tree, i);
		if (tree->procs[i].zombie)
			ret = write_zombie(ctx);
		else if (thread_group_leader(ctx->task) && tree->procs[i].share)
			ret = write_sharer(ctx, tree->procs[i].share);
		else if (thread_group_leader(ctx->task))
			ret = cr_write_task_section(ctx);
		else
			ret = cr_write_task(ctx) ?: cr_write_cpu(ctx);
	}
	ctx->cow_parent = NULL;
	if (!ret)
		ret = check_unchanged(ctx, tree) ?: cr_write_tail(ctx);
	ctx->task = root;
	ctx->tree = NULL;
	tree_put(tree);
	return ret;
}

/* Restart: reading the list of tasks */

/* A process group or session id of the image: 0 or a task of the tree */
static int check_relation(struct cr_ctx *ctx, struct cr_tree *tree,
			  const struct cr_hdr_proc *rec, s32 id,
			  const char *what)
{
	int j = tree_index(tree, id);

	if (id && (j < 0 || tree->procs[j].rec.tgid != id))
		return cr_err(ctx, -EINVAL, "task %d: %s %d is not a process of the tree",
			      rec->pid, what, id);
	return 0;
}

/*
 * Process groups live in one session, a session leader leads its own
 * group, and a task whose pid is a session id leads that session.
 */
static int check_relations(struct cr_ctx *ctx, struct cr_tree *tree)
{
	unsigned int i;
	int j, ret;

	for (i = 0; i < tree->nr; i++) {
		const struct cr_hdr_proc *rec = &tree->procs[i].rec;

		if (rec->tgid != rec->pid)
			continue;
		ret = check_relation(ctx, tree, rec, rec->pgid, "process group") ?:
		      check_relation(ctx, tree, rec, rec->sid, "session");
		if (ret)
			return ret;
		if (!rec->pgid && rec->sid)
			return cr_err(ctx, -EINVAL,
				      "task %d: in the caller's process group, but in session %d",
				      rec->pid, rec->sid);
		if (rec->sid == rec->pid && rec->pgid != rec->pid)
			return cr_err(ctx, -EINVAL,
				      "task %d leads a session, not its process group",
				      rec->pid);
		j = tree_index(tree, rec->sid);
		if (j >= 0 && tree->procs[j].rec.sid != rec->sid)
			return cr_err(ctx, -EINVAL,
				      "task %d: session %d is not led by task %d",
				      rec->pid, rec->sid, rec->sid);
		j = tree_index(tree, rec->pgid);
		if (j >= 0 && tree->procs[j].rec.sid != rec->sid)
			return cr_err(ctx, -EINVAL,
				      "task %d: process group %d is in another session",
				      rec->pid, rec->pgid);
	}
	return 0;
}

/* A thread record: right after its process or another of its threads */
static int read_thread(struct cr_ctx *ctx, struct cr_tree *tree,
		       unsigned int i)
{
	const struct cr_hdr_proc *rec = &tree->procs[i].rec;
	const struct cr_tree_proc *prev = i ? &tree->procs[i - 1] : NULL;

	if (rec->ppid || rec->pgid || rec->sid || rec->exit_signal)
		return cr_err(ctx, -EINVAL,
			      "thread %d: parent, group, session or exit signal set",
			      rec->pid);
	if (!prev || prev->rec.tgid != rec->tgid)
		return cr_err(ctx, -EINVAL,
			      "thread %d does not follow its process %d",
			      rec->pid, rec->tgid);
	tree->procs[i].parent = prev->parent < 0 || prev->rec.tgid ==
				prev->rec.pid ? i - 1 : prev->parent;
	return 0;
}

/*
 * A ghost, a group or session leader that exited: after all the tasks,
 * leading its own group
 */
static int read_ghost(struct cr_ctx *ctx, struct cr_tree *tree,
		      unsigned int i)
{
	struct cr_tree_proc *p = &tree->procs[i];

	if (p->rec.pgid != p->rec.pid || p->rec.exit_signal)
		return cr_err(ctx, -EINVAL,
			      "group leader %d that exited: bad group or exit signal",
			      p->rec.pid);
	if (tree->nr_tasks == tree->nr)
		tree->nr_tasks = i;
	p->ghost = true;
	p->parent = -1;
	return 0;
}

/*
 * A process record: its parent is the process before it or an ancestor of
 * that one (which makes the list depth first, without cycles), among
 * @stack[0..*depth).
 */
static int read_proc(struct cr_ctx *ctx, struct cr_tree *tree, unsigned int i,
		     unsigned int *stack, unsigned int *depth)
{
	struct cr_tree_proc *p = &tree->procs[i];
	struct cr_hdr_proc *rec;
	int ret;

	rec = cr_hbuf_get(ctx, sizeof(*rec));
	if (!rec)
		return -ENOMEM;
	ret = cr_read_rec(ctx, rec, CR_HDR_PROC, sizeof(*rec));
	if (ret)
		goto out;
	p->rec = *rec;
	ret = -EINVAL;
	if (rec->pid <= 0 || rec->pgid < 0 || rec->sid < 0 || rec->tgid <= 0) {
		cr_err(ctx, ret, "task %u: bad pid %d, group %d, session %d or thread group %d",
		       i, rec->pid, rec->pgid, rec->sid, rec->tgid);
		goto out;
	}
	if (rec->exit_signal > _NSIG) {
		cr_err(ctx, ret, "task %d: bad exit signal %u", rec->pid,
		       rec->exit_signal);
		goto out;
	}
	if (i && !rec->ppid && rec->tgid == rec->pid) {
		ret = read_ghost(ctx, tree, i);
		goto add;
	}
	if (tree->nr_tasks < tree->nr) {
		cr_err(ctx, ret, "task %d after a group leader that exited",
		       rec->pid);
		goto out;
	}
	if (rec->tgid != rec->pid) {
		ret = read_thread(ctx, tree, i);
		goto add;
	}
	if (!i && rec->ppid) {
		cr_err(ctx, ret, "the root task %d has parent %d", rec->pid,
		       rec->ppid);
		goto out;
	}
	while (i && *depth && tree->procs[stack[*depth - 1]].rec.pid != rec->ppid)
		(*depth)--;
	if (i && !*depth) {
		cr_err(ctx, ret,
		       "task %d: its parent %d is not the process before it nor one of its ancestors",
		       rec->pid, rec->ppid);
		goto out;
	}
	p->parent = i ? stack[*depth - 1] : -1;
	stack[(*depth)++] = i;
	ret = 0;
add:
	if (!ret)
		ret = tree_add_index(tree, rec->pid, i);
	if (ret == -EBUSY)
		ret = cr_err(ctx, -EINVAL, "pid %d is in the image twice",
			     rec->pid);
out:
	cr_hbuf_put(ctx, rec);
	return ret;
}

/* A name of the UTS record: NUL-terminated and NUL-padded */
static bool uts_name_ok(const u8 *name)
{
	size_t len = strnlen(name, CR_UTS_LEN);

	return len < CR_UTS_LEN && !memchr_inv(name + len, 0, CR_UTS_LEN - len);
}

static int read_uts(struct cr_ctx *ctx, struct cr_tree *tree)
{
	struct cr_hdr_uts *uh = &tree->uts;
	int ret;

	if (!(tree->flags & CR_TREE_UTS))
		return 0;
	ret = cr_read_rec(ctx, uh, CR_HDR_UTS, sizeof(*uh));
	if (ret)
		return ret;
	if (!uts_name_ok(uh->nodename) || !uts_name_ok(uh->domainname) ||
	    memchr_inv(uh->pad, 0, sizeof(uh->pad)))
		return cr_err(ctx, -EINVAL,
			      "UTS names are not NUL-terminated and padded");
	return 0;
}

/*
 * A process that shares tables with its parent: a process of the tree but
 * its root, after the one before (@last), sharing what clone(2) can
 */
static int read_share(struct cr_ctx *ctx, struct cr_tree *tree, int *last)
{
	struct cr_hdr_share sh;
	int i, ret;

	ret = cr_read_rec(ctx, &sh, CR_HDR_SHARE, sizeof(sh));
	if (ret)
		return ret;
	i = tree_index(tree, sh.pid);
	if (i <= 0 || i >= tree->nr_tasks || tree->procs[i].rec.tgid != sh.pid)
		return cr_err(ctx, -EINVAL,
			      "task %d shares with its parent, but is not a process of the tree other than its root",
			      sh.pid);
	if (i <= *last)
		return cr_err(ctx, -EINVAL,
			      "task %d: what it shares comes twice or out of order",
			      sh.pid);
	if (!sh.flags || (sh.flags & ~SHARE_ALL))
		return cr_err(ctx, -EINVAL, "task %d: bad share flags %#x",
			      sh.pid, sh.flags);
	if ((sh.flags & CR_SHARE_SIGHAND) && !(sh.flags & CR_SHARE_VM))
		return cr_err(ctx, -EINVAL,
			      "task %d shares signal handlers without the address space",
			      sh.pid);
	tree->procs[i].share = sh.flags;
	*last = i;
	return 0;
}

static int read_shares(struct cr_ctx *ctx, struct cr_tree *tree)
{
	struct cr_hdr_shares sh;
	int last = 0, ret;
	u32 n;

	if (!(tree->flags & CR_TREE_SHARE))
		return 0;
	ret = cr_read_rec(ctx, &sh, CR_HDR_SHARES, sizeof(sh));
	if (ret)
		return ret;
	if (sh.reserved || !sh.nr || sh.nr > tree->nr_tasks)
		return cr_err(ctx, -EINVAL,
			      "%u processes share with their parent, of %u tasks (reserved %#x)",
			      sh.nr, tree->nr_tasks, sh.reserved);
	for (n = 0; n < sh.nr && !ret; n++)
		ret = read_share(ctx, tree, &last);
	return ret;
}

/* The root's own UTS namespace, which its descendants inherit */
static int restore_uts(struct cr_ctx *ctx, struct cr_tree *tree)
{
	struct new_utsname *u;
	int ret;

	ret = ksys_unshare(CLONE_NEWUTS);
	if (ret)
		return cr_err(ctx, ret, "cannot create a UTS namespace");
	down_write(&uts_sem);
	u = utsname();
	memcpy(u->nodename, tree->uts.nodename, sizeof(u->nodename));
	memcpy(u->domainname, tree->uts.domainname, sizeof(u->domainname));
	up_write(&uts_sem);
	uts_proc_notify(UTS_PROC_HOSTNAME);
	uts_proc_notify(UTS_PROC_DOMAINNAME);
	return 0;
}

/* The tree record and the process records, checked, into a new tree */
static struct cr_tree *read_tree(struct cr_ctx *ctx)
{
	struct cr_hdr_tree *th;
	struct cr_tree *tree = NULL;
	unsigned int *stack = NULL;
	unsigned int i, depth = 0;
	int ret;

	th = cr_hbuf_get(ctx, sizeof(*th));
	if (!th)
		return ERR_PTR(-ENOMEM);
	ret = cr_read_rec(ctx, th, CR_HDR_TREE, sizeof(*th));
	if (ret)
		goto out;
	ret = -EINVAL;
	if (th->flags & ~(CR_TREE_UTS | CR_TREE_SHARE)) {
		cr_err(ctx, ret, "unknown tree flags %#x", th->flags);
		goto out;
	}
	if (!th->nr_tasks || th->nr_tasks > CR_TREE_MAX_TASKS) {
		cr_err(ctx, ret, "the tree has %u tasks (1 to %d)",
		       th->nr_tasks, CR_TREE_MAX_TASKS);
		goto out;
	}
	ret = -ENOMEM;
	tree = tree_alloc(ctx, th->nr_tasks);
	stack = kvcalloc(th->nr_tasks, sizeof(*stack), GFP_KERNEL);
	if (!tree || !stack)
		goto out;
	for (i = 0, ret = 0; i < tree->nr && !ret; i++) {
		tree->procs[i].tree = tree;
		ret = read_proc(ctx, tree, i, stack, &depth);
	}
	/* The end of each subtree, children last */
	for (i = tree->nr; !ret && i-- > 0;) {
		struct cr_tree_proc *p = &tree->procs[i];

		if (!p->end)
			p->end = i + 1;
		if (p->parent >= 0 && tree->procs[p->parent].end < p->end)
			tree->procs[p->parent].end = p->end;
	}
	if (!ret)
		ret = check_relations(ctx, tree);
	if (!ret) {
		tree->flags = th->flags;
		ret = read_uts(ctx, tree) ?: read_shares(ctx, tree);
	}
out:
	kvfree(stack);
	cr_hbuf_put(ctx, th);
	if (ret) {
		if (tree)
			tree_put(tree);
		return ERR_PTR(ret);
	}
	return tree;
}

/* Restart: the tasks */

/* Wake the tasks waiting for the next stage, and all others */
static void wake_stage(struct cr_tree *tree)
{
	wake_up_all(&tree->wq);
	wake_up_all(&tree->progress_wq);
}

/* The first error of a task is the restart's, unless there was one */
static void tree_fail(struct cr_tree *tree, int err, const struct cr_ctx *from)
{
	struct cr_ctx *ctx = tree->ctx;

	spin_lock(&tree->lock);
	if (!ctx->err && from && from->err) {
		ctx->err = from->err;
		memcpy(ctx->msg, from->msg, sizeof(ctx->msg));
	} else if (!ctx->err) {
		ctx->err = err;
	}
	tree->stage = STAGE_ABORT;
	spin_unlock(&tree->lock);
	wake_stage(tree);
}

static int tree_stage(struct cr_tree *tree)
{
	return READ_ONCE(tree->stage);
}

/*
 * Wait on @queue, of @tree, for @cond, or for the restart to be aborted;
 * -EINTR if it was
 */
#define tree_wait(tree, queue, cond)					\
({									\
	struct cr_tree *__tree = (tree);				\
	int __ret = wait_event_killable(*(queue), (cond) ||		\
					tree_stage(__tree) == STAGE_ABORT); \
	__ret || tree_stage(__tree) == STAGE_ABORT ? -EINTR : 0;	\
})

/* The stream passes from the tree to the task reading its section */
static void stream_take(struct cr_ctx *ctx, const struct cr_ctx *from)
{
	ctx->total = from->total;
	ctx->nr_records = from->nr_records;
	ctx->crc = from->crc;
}

static int spawn(struct cr_ctx *ctx, struct cr_tree *tree, unsigned int i);

/* Read the section of task @p, restore its memory, create its children */
static int read_section(struct cr_ctx *ctx, struct cr_tree_proc *p)
{
	struct cr_tree *tree = p->tree;
	unsigned int i = p - tree->procs;
	unsigned int c;
	int ret;

	stream_take(ctx, tree->ctx);
	/* Created by its parent, restored: see spawn() */
	ctx->forked = i > 0;
	if (tree->hdr.type != CR_HDR_TASK)
		ret = cr_err(ctx, -EINVAL,
			     "unexpected record type %u at byte %llu: the section of task %d",
			     tree->hdr.type, tree->mark.total, p->rec.pid);
	else if (ctx->share & CR_SHARE_VM)
		ret = cr_restart_read_thread(ctx, &tree->hdr, &tree->mark);
	else
		ret = cr_restart_read_task(ctx, &tree->hdr) ?:
		      cr_restart_memory(ctx, &tree->hdr, &tree->mark);
	stream_take(tree->ctx, ctx);
	if (ret)
		return ret;
	WRITE_ONCE(tree->next, i + 1);
	wake_up_all(&tree->progress_wq);

	for (c = i + 1; c < p->end; c = tree->procs[c].end) {
		ret = spawn(ctx, tree, c);
		if (!ret)
			ret = tree_wait(tree, &tree->progress_wq,
					READ_ONCE(tree->next) >=
					tree->procs[c].end);
		if (ret)
			return ret;
	}
	return 0;
}

/* The section of a zombie: its exit status and its credentials */
static int read_zombie(struct cr_ctx *ctx, struct cr_tree_proc *p, u32 *code,
		       char *comm, struct cred **cred)
{
	struct cr_tree *tree = p->tree;
	unsigned int i = p - tree->procs;
	struct cr_hdr_zombie zh;
	u32 sig;
	int ret;

	if (!i || p->end != i + 1)
		return cr_err(ctx, -EINVAL,
			      "zombie %d is the root, or has threads or children",
			      p->rec.pid);
	if (p->share)
		return cr_err(ctx, -EINVAL,
			      "zombie %d shares tables with its parent", p->rec.pid);
	ret = cr_read_payload(ctx, &tree->hdr, &zh, sizeof(zh));
	if (ret)
		return ret;
	sig = zh.exit_code & 0x7f;
	if (zh.reserved || (zh.exit_code & ~0xffffU) || sig > _NSIG ||
	    (sig && (zh.exit_code & 0xff00)) || (!sig && (zh.exit_code & 0x80)))
		return cr_err(ctx, -EINVAL, "zombie %d: bad exit code %#x",
			      p->rec.pid, zh.exit_code);
	if (!memchr(zh.comm, 0, sizeof(zh.comm)))
		return cr_err(ctx, -EINVAL, "zombie %d: name not NUL-terminated",
			      p->rec.pid);
	memcpy(comm, zh.comm, TASK_COMM_LEN);
	*code = zh.exit_code;
	ret = cr_read_creds(ctx, cred);
	if (ret)
		return ret;
	cr_mark(ctx, &tree->mark);
	return cr_read_hdr(ctx, &tree->hdr);
}

/*
 * A zombie is created, reads its section, and exits with its status, but
 * without telling its parent yet: set_relations() gives it its exit
 * signal once it is dead
 */
static void __noreturn tree_zombie(struct cr_ctx *ctx, struct cr_tree_proc *p)
{
	struct cr_tree *tree = p->tree;
	char comm[TASK_COMM_LEN];
	struct cred *cred = NULL;
	u32 code = 0;
	int ret;

	stream_take(ctx, tree->ctx);
	ret = read_zombie(ctx, p, &code, comm, &cred);
	stream_take(tree->ctx, ctx);
	if (ret)
		tree_fail(tree, ret, ctx);
	cr_ctx_free_task(ctx);
	if (ret) {
		if (cred)
			abort_creds(cred);
		tree_put(tree);
		do_exit(SIGKILL);
	}
	spin_lock(&tree->lock);
	p->zombie = true;
	tree->finished++;
	spin_unlock(&tree->lock);
	WRITE_ONCE(tree->next, p - tree->procs + 1);
	wake_up_all(&tree->progress_wq);
	tree_put(tree);

	cr_commit_creds(&cred);
	set_task_comm(current, comm);
	write_lock_irq(&tasklist_lock);
	current->exit_signal = 0;
	write_unlock_irq(&tasklist_lock);
	do_exit(code);
}

static void free_read(struct cr_ctx *ctx)
{
	cr_free_mm(ctx);
	cr_free_files(ctx);
	cr_free_cpu(ctx);
	cr_free_signals(ctx);
	cr_free_task(ctx);
}

/*
 * A task created by the restart, before it returns to user space through
 * ret_from_fork(): on failure it kills itself, and dies on the way.
 */
static int tree_task(void *arg)
{
	struct cr_tree_proc *p = arg;
	struct cr_tree *tree = p->tree;
	struct cr_ctx *ctx = NULL;
	long ax;
	int ret;

	spin_lock(&tree->lock);
	if (!p->task)
		p->task = get_task_struct(current);
	if (!p->pid)
		p->pid = get_pid(task_pid(current));
	ret = tree->stage == STAGE_ABORT ? -EINTR : 0;
	spin_unlock(&tree->lock);
	if (ret)
		goto die;

	ret = -ENOMEM;
	ctx = cr_ctx_alloc_task(tree->ctx);
	if (!ctx)
		goto fail;
	ctx->thread = p->rec.tgid != p->rec.pid;
	ctx->share = ctx->thread ? SHARE_ALL : p->share;
	if (!ctx->thread && tree->hdr.type == CR_HDR_ZOMBIE)
		tree_zombie(ctx, p);
	ret = p == tree->procs && (tree->flags & CR_TREE_UTS) ?
	      restore_uts(ctx, tree) : 0;
	if (!ret)
		ret = read_section(ctx, p);
	if (!ret)
		ret = tree_wait(tree, &tree->wq,
				tree_stage(tree) != STAGE_READ);
	/* What it shares with its parent, the parent restores first */
	if (!ret && !ctx->thread && p->share)
		ret = tree_wait(tree, &tree->progress_wq,
				READ_ONCE(tree->procs[p->parent].done));
	if (!ret)
		ret = cr_restart_finish(ctx, &ax);
	if (ret)
		goto fail;
	free_read(ctx);
	cr_ctx_free_task(ctx);
	ctx = NULL;

	spin_lock(&tree->lock);
	tree->finished++;
	WRITE_ONCE(p->done, true);
	spin_unlock(&tree->lock);
	wake_up_all(&tree->progress_wq);
	ret = tree_wait(tree, &tree->wq, tree_stage(tree) == STAGE_GO);
	tree_put(tree);
	if (ret)
		force_sig(SIGKILL);
	return 0;

fail:
	tree_fail(tree, ret, ctx);
	if (ctx) {
		free_read(ctx);
		cr_ctx_free_task(ctx);
	}
die:
	tree_put(tree);
	force_sig(SIGKILL);
	return 0;
}

/*
 * A ghost lives until its group and session have their members, then
 * exits; the caller reaps it
 */
static int tree_ghost(void *arg)
{
	struct cr_tree_proc *p = arg;
	struct cr_tree *tree = p->tree;

	spin_lock(&tree->lock);
	if (!p->task)
		p->task = get_task_struct(current);
	if (!p->pid)
		p->pid = get_pid(task_pid(current));
	spin_unlock(&tree->lock);
	tree_wait(tree, &tree->wq, tree_stage(tree) == STAGE_GO);
	tree_put(tree);
	do_exit(0);
}

/* What task @p shares with its creator, as clone(2) flags */
static u64 clone_flags(const struct cr_tree_proc *p, bool thread)
{
	u64 flags = CLONE_UNTRACED;

	if (thread)
		return flags | CLONE_VM | CLONE_FS | CLONE_FILES |
		       CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM;
	if (p->share & CR_SHARE_VM)
		flags |= CLONE_VM;
	if (p->share & CR_SHARE_FILES)
		flags |= CLONE_FILES;
	if (p->share & CR_SHARE_FS)
		flags |= CLONE_FS;
	if (p->share & CR_SHARE_SIGHAND)
		flags |= CLONE_SIGHAND;
	return flags;
}

/*
 * Create task @i of the tree, as a child of the caller (whose context is
 * @ctx), holding a reference to the tree until it is done with it.
 */
static int spawn(struct cr_ctx *ctx, struct cr_tree *tree, unsigned int i)
{
	struct cr_tree_proc *p = &tree->procs[i];
	bool new_pids = ctx->flags & CR_RESTART_NEW_PIDS;
	bool thread = p->rec.tgid != p->rec.pid;
	pid_t tid = p->rec.pid;
	struct kernel_clone_args args = {
		.flags = clone_flags(p, thread),
		.exit_signal = thread ? 0 : p->rec.exit_signal,
		.fn = p->ghost ? tree_ghost : tree_task,
		.fn_arg = p,
		.set_tid = new_pids ? NULL : &tid,
		.set_tid_size = new_pids ? 0 : 1,
	};
	struct task_struct *t;
	struct pid *pid;
	pid_t nr;

	refcount_inc(&tree->refs);
	nr = kernel_clone(&args);
	if (nr < 0) {
		refcount_dec(&tree->refs);
		if (nr == -EEXIST)
			return cr_err(ctx, nr, "pid %d is taken", tid);
		if (nr == -EPERM && !new_pids)
			return cr_err(ctx, nr,
				      "no right to choose pid %d (CAP_CHECKPOINT_RESTORE)",
				      tid);
		/* Not to be restarted, nor seen by user space */
		if (nr == -ERESTARTNOINTR)
			return cr_err(ctx, -EINTR,
				      "a signal interrupted the creation of task %d",
				      tid);
		return cr_err(ctx, nr, "creating task %d failed", tid);
	}
	/* For kill_tree(), should it fail before the task runs */
	pid = find_get_pid(nr);
	t = pid ? get_pid_task(pid, PIDTYPE_PID) : NULL;
	spin_lock(&tree->lock);
	if (!p->pid)
		swap(p->pid, pid);
	if (!p->task)
		swap(p->task, t);
	spin_unlock(&tree->lock);
	put_pid(pid);
	if (t)
		put_task_struct(t);
	return 0;
}

/* The pid of the image's @id in the restarted tree, or NULL */
static struct pid *tree_pid(struct cr_tree *tree, s32 id)
{
	int i = tree_index(tree, id);

	return i < 0 ? NULL : tree->procs[i].pid;
}

/*
 * Process groups and sessions, as setsid(2) and setpgid(2) leave them.
 * The tasks were created in the caller's; those of another session lose
 * the caller's controlling terminal.
 */
static void set_relations(struct cr_tree *tree)
{
	struct pid *caller_session;
	unsigned int i;

	write_lock_irq(&tasklist_lock);
	caller_session = task_session(current);
	for (i = 0; i < tree->nr; i++) {
		struct cr_tree_proc *p = &tree->procs[i];
		struct task_struct *t = p->task;
		struct pid *sid = tree_pid(tree, p->rec.sid);
		struct pid *pgid = tree_pid(tree, p->rec.pgid);

		/*
		 * A task killed by a signal restored pending, once done,
		 * may already be reaped (its parent ignoring SIGCHLD): its
		 * pids and signal handlers are gone, and it has no group
		 * left to set.  release_task() takes tasklist_lock too.
		 */
		if (p->rec.tgid != p->rec.pid || p->ghost || !pid_alive(t))
			continue;
		if (p->zombie)
			t->exit_signal = p->rec.exit_signal;
		if (sid && task_session(t) != sid)
			change_pid(t, PIDTYPE_SID, sid);
		if (pgid && task_pgrp(t) != pgid)
			change_pid(t, PIDTYPE_PGID, pgid);
		t->signal->leader = p->rec.sid == p->rec.pid;
		if (task_session(t) != caller_session)
			proc_clear_tty(t);
	}
	write_unlock_irq(&tasklist_lock);
}

/* Whether a thread of @t is traced */
static bool traced(struct task_struct *t)
{
	struct task_struct *th;
	bool ret = false;

	rcu_read_lock();
	for_each_thread(t, th) {
		if (READ_ONCE(th->ptrace)) {
			ret = true;
			break;
		}
	}
	rcu_read_unlock();
	return ret;
}

/*
 * Reap @t, dying or dead, if it is a child of the caller, as wait(2) would
 * (see wait_task_zombie()).  Unlike kernel_wait4(), a signal for the
 * caller, SIGKILL included, does not make it give up: a caller that went
 * away first would leave its tasks to its reaper.  @t was sent SIGKILL,
 * or exits by itself (a ghost): it does not make the caller wait long.
 * Unless a tracer holds a thread of @t, in its exit stop say: then
 * SIGKILL for the caller ends the wait, and @t goes to the caller's
 * reaper.  kill_tree() made sure @t no longer uses the tree nor the
 * caller's context; a ghost is done with them before it exits.
 */
static void reap(struct task_struct *t)
{
	bool mine;

	/* A process is reapable once its other threads are gone too */
	while (!READ_ONCE(t->exit_state) ||
	       (thread_group_leader(t) && !thread_group_empty(t))) {
		if (fatal_signal_pending(current) && traced(t))
			return;
		schedule_timeout_uninterruptible(1);
	}
	read_lock(&tasklist_lock);
	mine = same_thread_group(t->real_parent, current) && !t->ptrace &&
	       thread_group_leader(t) && thread_group_empty(t);
	read_unlock(&tasklist_lock);
	if (mine && cmpxchg(&t->exit_state, EXIT_ZOMBIE, EXIT_DEAD) == EXIT_ZOMBIE)
		release_task(t);
}

/*
 * Kill every task created and reap them all, parents first: the children
 * of a dead task go to the caller, the child subreaper of the tree until
 * it runs (see cr_restart_tree()).  The caller waits for them even if it
 * is killed itself.
 */
static void kill_tree(struct cr_tree *tree)
{
	unsigned int i;

	spin_lock(&tree->lock);
	tree->stage = STAGE_ABORT;
	for (i = 0; i < tree->nr; i++)
		if (tree->procs[i].task)
			send_sig_info(SIGKILL, SEND_SIG_PRIV, tree->procs[i].task);
	spin_unlock(&tree->lock);
	wake_stage(tree);

	/*
	 * A task uses the caller's context (the stream, the error) until it
	 * drops its reference to the tree, which it does before it can stop
	 * for a tracer: wait for that, SIGKILL for the caller or not, since
	 * reap() may give up a traced task and the caller then frees @ctx.
	 */
	wait_var_event(&tree->refs, refcount_read(&tree->refs) == 1);
	smp_acquire__after_ctrl_dep();

	/*
	 * A task is created by its parent, before it in @tree->procs: once
	 * the parent is dead, the child's @task is known, or it was not
	 * created.
	 */
	for (i = 0; i < tree->nr; i++)
		if (tree->procs[i].task)
			reap(tree->procs[i].task);
}

/*
 * The image's tasks had no tracer (checkpoint refuses a traced task): one
 * that was seized while it was restored, with the caller's credentials,
 * would keep its tracer past the commit of its own.  Once the tasks have
 * committed them, a tracer is checked against those.
 */
static int check_untraced(struct cr_ctx *ctx, struct cr_tree *tree)
{
	unsigned int i;

	for (i = 0; i < tree->nr; i++)
		if (tree->procs[i].task && traced(tree->procs[i].task))
			return cr_err(ctx, -EBUSY,
				      "task %d was attached by a tracer during restart",
				      tree->procs[i].rec.pid);
	return 0;
}

/* The zombies are dead, before their parents are told */
static int wait_zombies(struct cr_tree *tree)
{
	unsigned int i;

	for (i = 0; i < tree->nr; i++) {
		if (!tree->procs[i].zombie)
			continue;
		while (!READ_ONCE(tree->procs[i].task->exit_state)) {
			schedule_timeout_killable(1);
			if (fatal_signal_pending(current))
				return -EINTR;
		}
	}
	return 0;
}

/*
 * Wait until the tasks are done with a stage.  All of them must have
 * been created before: any that was not is a failure.
 */
static int wait_stage(struct cr_tree *tree, bool read)
{
	if (read)
		return tree_wait(tree, &tree->progress_wq,
				 READ_ONCE(tree->next) >= tree->nr_tasks);
	return tree_wait(tree, &tree->progress_wq,
			 READ_ONCE(tree->finished) >= tree->nr_tasks);
}

/**
 * cr_restart_tree() - restart the tasks of an image of a tree
 * @ctx: the restart, after the header of the image.
 *
 * Context: the caller of restart(2), which stays as it is.
 * Return: the pid of the root task, or a negative errno; on error, no task
 * of the tree is left.
 */
long cr_restart_tree(struct cr_ctx *ctx)
{
	struct signal_struct *sig = current->signal;
	bool subreaper = sig->is_child_subreaper;
	struct cr_tree *tree;
	unsigned int i;
	long ret;

	ret = cr_check_tail_at_end(ctx);
	if (ret)
		return ret;
	tree = read_tree(ctx);
	if (IS_ERR(tree))
		return PTR_ERR(tree);
	ctx->tree = tree;
	/*
	 * Until the tree runs, the caller is the reaper of the children of
	 * its tasks that die: a failure leaves none of them to another
	 * reaper.  The tasks created have has_child_subreaper, harmless.
	 */
	sig->is_child_subreaper = 1;

	cr_mark(ctx, &tree->mark);
	ret = cr_read_hdr(ctx, &tree->hdr) ?: spawn(ctx, tree, 0) ?:
	      wait_stage(tree, true);
	if (ret)
		goto fail;
	/* The tasks gave the stream back: the tail follows */
	if (tree->hdr.type != CR_HDR_TAIL) {
		ret = cr_err(ctx, -EINVAL, "unexpected record type %u at byte %llu",
			     tree->hdr.type, tree->mark.total);
		goto fail;
	}
	ret = cr_read_end(ctx, &tree->hdr, &tree->mark);
	for (i = tree->nr_tasks; i < tree->nr && !ret; i++)
		ret = spawn(ctx, tree, i);
	if (ret)
		goto fail;

	spin_lock(&tree->lock);
	if (tree->stage == STAGE_READ)
		tree->stage = STAGE_FINISH;
	spin_unlock(&tree->lock);
	wake_stage(tree);
	ret = wait_stage(tree, false);
	if (ret)
		goto fail;

	spin_lock(&tree->lock);
	ret = tree->stage == STAGE_FINISH ? 0 : -EINTR;
	spin_unlock(&tree->lock);
	if (!ret)
		ret = wait_zombies(tree) ?: check_untraced(ctx, tree);
	if (ret)
		goto fail;
	set_relations(tree);
	/* The ends of pipes no task has are closed before any runs */
	put_objs(tree);
	ret = pid_vnr(tree->procs[0].pid);
	sig->is_child_subreaper = subreaper;
	spin_lock(&tree->lock);
	tree->stage = STAGE_GO;
	spin_unlock(&tree->lock);
	wake_stage(tree);
	/* The ghosts exit now; their pids live on in their groups */
	for (i = tree->nr_tasks; i < tree->nr; i++)
		reap(tree->procs[i].task);
	ctx->tree = NULL;
	tree_put(tree);
	return ret;

fail:
	if (ret == -EINTR && ctx->err)
		ret = ctx->err;
	kill_tree(tree);
	sig->is_child_subreaper = subreaper;
	ctx->tree = NULL;
	tree_put(tree);
	return ret;
}
