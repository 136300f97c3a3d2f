// SPDX-License-Identifier: GPL-2.0
/*
 * Credentials of a task: user and group ids, supplementary groups,
 * capability sets and securebits.
 *
 * Restart gives the restored task the image's credentials only where the
 * caller could have set them itself with setresuid(2), setfsuid(2),
 * setresgid(2), setfsgid(2), setgroups(2), capset(2) and prctl(2): the new
 * credentials are built and checked against the caller's before the point
 * of no return, through the same LSM hooks those calls use, and committed
 * after it.
 */

#include <linux/capability.h>
#include <linux/checkpoint.h>
#include <linux/cred.h>
#include <linux/sched.h>
#include <linux/sched/user.h>
#include <linux/security.h>
#include <linux/securebits.h>
#include <linux/slab.h>
#include <linux/uidgid.h>
#include <linux/user_namespace.h>

/* Checkpoint */

static void fill_creds(struct cr_hdr_creds *ch, const struct cred *c)
{
	struct user_namespace *ns = current_user_ns();

	ch->uid = from_kuid_munged(ns, c->uid);
	ch->euid = from_kuid_munged(ns, c->euid);
	ch->suid = from_kuid_munged(ns, c->suid);
	ch->fsuid = from_kuid_munged(ns, c->fsuid);
	ch->gid = from_kgid_munged(ns, c->gid);
	ch->egid = from_kgid_munged(ns, c->egid);
	ch->sgid = from_kgid_munged(ns, c->sgid);
	ch->fsgid = from_kgid_munged(ns, c->fsgid);
	ch->cap_inheritable = c->cap_inheritable.val;
	ch->cap_permitted = c->cap_permitted.val;
	ch->cap_effective = c->cap_effective.val;
	ch->cap_bset = c->cap_bset.val;
	ch->cap_ambient = c->cap_ambient.val;
	ch->securebits = c->securebits;
	ch->ngroups = c->group_info->ngroups;
}

/*
 * Every id has a mapping in the caller's user namespace: an unmapped one
 * would be saved as the overflow id, and restored as that.
 */
static bool creds_mapped(const struct cred *c)
{
	struct user_namespace *ns = current_user_ns();
	int i;

	if (!kuid_has_mapping(ns, c->uid) || !kuid_has_mapping(ns, c->euid) ||
	    !kuid_has_mapping(ns, c->suid) || !kuid_has_mapping(ns, c->fsuid) ||
	    !kgid_has_mapping(ns, c->gid) || !kgid_has_mapping(ns, c->egid) ||
	    !kgid_has_mapping(ns, c->sgid) || !kgid_has_mapping(ns, c->fsgid))
		return false;
	for (i = 0; i < c->group_info->ngroups; i++)
		if (!kgid_has_mapping(ns, c->group_info->gid[i]))
			return false;
	return true;
}

static int write_groups(struct cr_ctx *ctx, const struct group_info *gi)
{
	struct user_namespace *ns = current_user_ns();
	u32 gid;
	int i, ret = 0;

	for (i = 0; i < gi->ngroups && !ret; i++) {
		gid = from_kgid_munged(ns, gi->gid[i]);
		ret = cr_write(ctx, &gid, sizeof(gid));
	}
	return ret;
}

/**
 * cr_write_creds() - write the credentials record of ctx->task
 * @ctx: the checkpoint.
 *
 * Return: 0, or a negative errno.
 */
int cr_write_creds(struct cr_ctx *ctx)
{
	const struct cred *c = get_task_cred(ctx->task);
	struct cr_hdr_creds *ch;
	u32 extra;
	int ret;

	if (!creds_mapped(c)) {
		put_cred(c);
		return cr_err(ctx, -EOPNOTSUPP,
			      "task %d: an id of its credentials has no mapping in the caller's user namespace",
			      task_pid_vnr(ctx->task));
	}
	ch = cr_hbuf_get(ctx, sizeof(*ch));
	if (!ch) {
		put_cred(c);
		return -ENOMEM;
	}
	fill_creds(ch, c);
	extra = ch->ngroups * sizeof(u32);
	ret = cr_write_rec_begin(ctx, ch, CR_HDR_CREDS, sizeof(*ch), extra);
	if (!ret)
		ret = write_groups(ctx, c->group_info);
	if (!ret)
		ret = cr_write_rec_end(ctx, sizeof(*ch) + extra);
	cr_hbuf_put(ctx, ch);
	put_cred(c);
	return ret;
}

/* Restart: the ids */

static bool uid_in(kuid_t id, const struct cred *c)
{
	return uid_eq(id, c->uid) || uid_eq(id, c->euid) ||
	       uid_eq(id, c->suid);
}

static bool gid_in(kgid_t id, const struct cred *c)
{
	return gid_eq(id, c->gid) || gid_eq(id, c->egid) ||
	       gid_eq(id, c->sgid);
}

static int map_uid(struct cr_ctx *ctx, const char *what, u32 id, kuid_t *k)
{
	*k = make_kuid(current_user_ns(), id);
	if (!uid_valid(*k))
		return cr_err(ctx, -EINVAL,
			      "credentials: %s %u has no mapping in the caller's user namespace",
			      what, id);
	return 0;
}

static int map_gid(struct cr_ctx *ctx, const char *what, u32 id, kgid_t *k)
{
	*k = make_kgid(current_user_ns(), id);
	if (!gid_valid(*k))
		return cr_err(ctx, -EINVAL,
			      "credentials: %s %u has no mapping in the caller's user namespace",
			      what, id);
	return 0;
}

/* What setresuid() and setfsuid() let the caller @old set */
static int check_uid(struct cr_ctx *ctx, const struct cred *old,
		     const char *what, kuid_t id, bool fs)
{
	if (uid_in(id, old) || (fs && uid_eq(id, old->fsuid)) ||
	    ns_capable_setid(old->user_ns, CAP_SETUID))
		return 0;
	return cr_err(ctx, -EPERM,
		      "credentials: setting %s %u needs CAP_SETUID", what,
		      from_kuid_munged(old->user_ns, id));
}

static int check_gid(struct cr_ctx *ctx, const struct cred *old,
		     const char *what, kgid_t id, bool fs)
{
	if (gid_in(id, old) || (fs && gid_eq(id, old->fsgid)) ||
	    ns_capable_setid(old->user_ns, CAP_SETGID))
		return 0;
	return cr_err(ctx, -EPERM,
		      "credentials: setting %s %u needs CAP_SETGID", what,
		      from_kgid_munged(old->user_ns, id));
}

/* The user of the real uid, and its ucounts, as setresuid() sets them */
static int set_uid_user(struct cr_ctx *ctx, struct cred *new,
			const struct cred *old)
{
	struct user_struct *user;
	int ret;

	if (!uid_eq(new->uid, old->uid)) {
		user = alloc_uid(new->uid);
		if (!user)
			return -EAGAIN;
		free_uid(new->user);
		new->user = user;
	}
	ret = security_task_fix_setuid(new, old, LSM_SETID_RES);
	if (ret)
		return cr_err(ctx, ret, "credentials: the user ids were refused");
	return set_cred_ucounts(new);
}

static int set_uids(struct cr_ctx *ctx, struct cred *new,
		    const struct cr_hdr_creds *ch)
{
	const struct cred *old = current_cred();
	int ret;

	ret = map_uid(ctx, "uid", ch->uid, &new->uid) ?:
	      map_uid(ctx, "euid", ch->euid, &new->euid) ?:
	      map_uid(ctx, "suid", ch->suid, &new->suid) ?:
	      map_uid(ctx, "fsuid", ch->fsuid, &new->fsuid);
	if (ret)
		return ret;
	ret = check_uid(ctx, old, "uid", new->uid, false) ?:
	      check_uid(ctx, old, "euid", new->euid, false) ?:
	      check_uid(ctx, old, "suid", new->suid, false) ?:
	      check_uid(ctx, old, "fsuid", new->fsuid, true);
	return ret ?: set_uid_user(ctx, new, old);
}

static int set_gids(struct cr_ctx *ctx, struct cred *new,
		    const struct cr_hdr_creds *ch)
{
	const struct cred *old = current_cred();
	int ret;

	ret = map_gid(ctx, "gid", ch->gid, &new->gid) ?:
	      map_gid(ctx, "egid", ch->egid, &new->egid) ?:
	      map_gid(ctx, "sgid", ch->sgid, &new->sgid) ?:
	      map_gid(ctx, "fsgid", ch->fsgid, &new->fsgid);
	if (ret)
		return ret;
	ret = check_gid(ctx, old, "gid", new->gid, false) ?:
	      check_gid(ctx, old, "egid", new->egid, false) ?:
	      check_gid(ctx, old, "sgid", new->sgid, false) ?:
	      check_gid(ctx, old, "fsgid", new->fsgid, true);
	if (ret)
		return ret;
	ret = security_task_fix_setgid(new, old, LSM_SETID_RES);
	if (ret)
		return cr_err(ctx, ret, "credentials: the group ids were refused");
	return 0;
}

/* Restart: the supplementary groups */

static bool same_groups(const struct group_info *a, const struct group_info *b)
{
	int i;

	if (a->ngroups != b->ngroups)
		return false;
	for (i = 0; i < a->ngroups; i++) {
		if (!gid_eq(a->gid[i], b->gid[i]))
			return false;
	}
	return true;
}

/* The @n groups @gids; setgroups() needs CAP_SETGID unless unchanged */
static int set_groups_of(struct cr_ctx *ctx, struct cred *new,
			 const u32 *gids, u32 n)
{
	struct group_info *gi;
	u32 i;
	int ret = 0;

	gi = groups_alloc(n);
	if (!gi)
		return -ENOMEM;
	for (i = 0; i < n && !ret; i++)
		ret = map_gid(ctx, "group", gids[i], &gi->gid[i]);
	if (ret)
		goto out;
	groups_sort(gi);
	if (same_groups(gi, current_cred()->group_info))
		goto out;
	if (!may_setgroups()) {
		ret = cr_err(ctx, -EPERM,
			     "credentials: setting the groups needs CAP_SETGID");
		goto out;
	}
	set_groups(new, gi);
	ret = security_task_fix_setgroups(new, current_cred());
	if (ret)
		cr_err(ctx, ret, "credentials: the groups were refused");
out:
	put_group_info(gi);
	return ret;
}

/* Restart: capabilities and securebits */

static int cap_from(struct cr_ctx *ctx, const char *what, u64 bits,
		    kernel_cap_t *cap)
{
	if (bits & ~CAP_VALID_MASK)
		return cr_err(ctx, -EINVAL,
			      "credentials: %s capabilities %#llx unknown",
			      what, bits);
	cap->val = bits;
	return 0;
}

/* What cap_capset() checks, to name the set it would refuse */
static int check_capset(struct cr_ctx *ctx, const struct cred *old,
			kernel_cap_t inh, kernel_cap_t prm, kernel_cap_t eff)
{
	if (!cap_issubset(prm, old->cap_permitted))
		return cr_err(ctx, -EPERM,
			      "credentials: permitted capabilities beyond the caller's");
	if (!cap_issubset(eff, prm))
		return cr_err(ctx, -EPERM,
			      "credentials: effective capabilities not permitted");
	if (!cap_issubset(inh, cap_combine(old->cap_inheritable,
					   old->cap_bset)))
		return cr_err(ctx, -EPERM,
			      "credentials: inheritable capabilities beyond the bounding set");
	if (!cap_issubset(inh, cap_combine(old->cap_inheritable,
					   old->cap_permitted)) &&
	    !ns_capable(old->user_ns, CAP_SETPCAP))
		return cr_err(ctx, -EPERM,
			      "credentials: inheritable capabilities beyond the caller's need CAP_SETPCAP");
	return 0;
}

/*
 * capset(2) for the permitted, inheritable and effective sets;
 * prctl(PR_CAPBSET_DROP) for the bounding set, which only shrinks;
 * prctl(PR_CAP_AMBIENT_RAISE) for the ambient set.
 */
static int set_caps(struct cr_ctx *ctx, struct cred *new,
		    const struct cr_hdr_creds *ch)
{
	const struct cred *old = current_cred();
	kernel_cap_t inh, prm, eff, bset, amb;
	int ret;

	ret = cap_from(ctx, "inheritable", ch->cap_inheritable, &inh) ?:
	      cap_from(ctx, "permitted", ch->cap_permitted, &prm) ?:
	      cap_from(ctx, "effective", ch->cap_effective, &eff) ?:
	      cap_from(ctx, "bounding", ch->cap_bset, &bset) ?:
	      cap_from(ctx, "ambient", ch->cap_ambient, &amb);
	if (ret)
		return ret;
	if (!cap_issubset(amb, cap_intersect(prm, inh)))
		return cr_err(ctx, -EINVAL,
			      "credentials: ambient capabilities not permitted and inheritable");
	if (!cap_issubset(bset, old->cap_bset))
		return cr_err(ctx, -EPERM,
			      "credentials: the bounding set cannot grow");
	if (!cap_issubset(old->cap_bset, bset) &&
	    !ns_capable(old->user_ns, CAP_SETPCAP))
		return cr_err(ctx, -EPERM,
			      "credentials: shrinking the bounding set needs CAP_SETPCAP");
	if (!cap_issubset(amb, old->cap_ambient) &&
	    (old->securebits & issecure_mask(SECURE_NO_CAP_AMBIENT_RAISE)))
		return cr_err(ctx, -EPERM,
			      "credentials: raising ambient capabilities is locked");
	ret = check_capset(ctx, old, inh, prm, eff);
	if (ret)
		return ret;
	ret = security_capset(new, old, &eff, &inh, &prm);
	if (ret)
		return cr_err(ctx, ret,
			      "credentials: capability sets refused as capset(2) would");
	new->cap_bset = bset;
	new->cap_ambient = amb;
	return 0;
}

/* prctl(PR_SET_SECUREBITS): CAP_SETPCAP, locked bits stay */
static int set_securebits(struct cr_ctx *ctx, struct cred *new, u32 bits)
{
	const struct cred *old = current_cred();
	unsigned int locks = old->securebits & SECURE_ALL_LOCKS;

	if (bits & ~(SECURE_ALL_BITS | SECURE_ALL_LOCKS))
		return cr_err(ctx, -EINVAL,
			      "credentials: unknown securebits %#x", bits);
	if (bits == old->securebits)
		return 0;
	if (((locks >> 1) & (old->securebits ^ bits)) || (locks & ~bits))
		return cr_err(ctx, -EPERM,
			      "credentials: securebits %#x change locked bits",
			      bits);
	if (!ns_capable(old->user_ns, CAP_SETPCAP))
		return cr_err(ctx, -EPERM,
			      "credentials: changing securebits needs CAP_SETPCAP");
	new->securebits = bits;
	return 0;
}

static int build_creds(struct cr_ctx *ctx, struct cred *new,
		       const struct cr_hdr_creds *ch, const u32 *gids)
{
	return set_uids(ctx, new, ch) ?: set_gids(ctx, new, ch) ?:
	       set_groups_of(ctx, new, gids, ch->ngroups) ?:
	       set_caps(ctx, new, ch) ?: set_securebits(ctx, new, ch->securebits);
}

/**
 * cr_read_creds() - read and check the credentials record
 * @ctx: the restart.
 * @credp: where to put the new credentials, to commit after the point of
 *         no return with cr_commit_creds() or to drop with abort_creds().
 *
 * Before the point of no return.  The ids are mapped through the caller's
 * user namespace; each field is checked as the system call that sets it
 * would check it for the caller.
 *
 * Return: 0, -EINVAL for a bad record or an id with no mapping, -EPERM
 * (with a message naming the field) for credentials the caller could not
 * set, or another negative errno.
 */
int cr_read_creds(struct cr_ctx *ctx, struct cred **credp)
{
	struct cr_hdr_creds ch;
	struct cred *new;
	u32 extra, *gids;
	int ret;

	ret = cr_read_rec_ext(ctx, &ch, CR_HDR_CREDS, sizeof(ch), &extra);
	if (ret)
		return ret;
	if (ch.reserved || extra != ch.ngroups * sizeof(u32))
		return cr_err(ctx, -EINVAL, "bad credentials record");
	gids = kvmalloc_array(ch.ngroups ?: 1, sizeof(u32), GFP_KERNEL);
	if (!gids)
		return -ENOMEM;
	ret = cr_read(ctx, gids, extra) ?: cr_read_rec_end(ctx, ch.h.len);
	new = ret ? NULL : prepare_creds();
	if (!ret && !new)
		ret = -ENOMEM;
	if (!ret)
		ret = build_creds(ctx, new, &ch, gids);
	kvfree(gids);
	if (ret) {
		if (new)
			abort_creds(new);
		return ret;
	}
	*credp = new;
	return 0;
}

/**
 * cr_commit_creds() - make the credentials cr_read_creds() built the
 *                     caller's
 * @credp: the credentials; consumed, set to %NULL.
 *
 * After the point of no return.  As with setresuid(2), the task stops
 * being dumpable if its effective or file system ids change, or its
 * permitted capabilities grow (see commit_creds()).
 */
void cr_commit_creds(struct cred **credp)
{
	commit_creds(*credp);
	*credp = NULL;
}
