// SPDX-License-Identifier: GPL-2.0
/*
 * checkpoint: save a process, or a process and all its descendants
 * (--tree), to an image with the checkpoint(2) system call, stopping it
 * with SIGSTOP or freezing it in a cgroup v2 for the time of the call if
 * asked to, then resuming it, or killing it.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>

#include "cr-tools.h"

#define PROG		"checkpoint"
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define CGROUP_ROOT	"/sys/fs/cgroup"
#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC	0x63677270
#endif

/* How long to wait for the task to stop, freeze or die */
#define WAIT_MS		10000
#define POLL_MS		10

static const struct cr_hint hints[] = {
	{ EBUSY,
	  "the task must be stopped (--stop/--freeze) and single-threaded, and not share its memory, its descriptor table or an open file above 2 with another process",
	},
	{ EOPNOTSUPP,
	  "the task holds state this kernel cannot save yet: a descriptor above 2 on a pipe, socket, eventfd, deleted or locked file, /proc file or device other than /dev/null, zero, random and urandom; memory shared with another process, POSIX timers, a stop in poll() or a futex wait with a timeout...",
	},
	{ EPERM,
	  "checkpoint needs the right to ptrace the task: same user and not more privileged, or CAP_SYS_PTRACE (and see Yama's ptrace_scope)",
	},
	{ ESRCH,
	  "no such process, or it is exiting",
	},
	{ EINVAL,
	  "the kernel cannot write an image to this file: use a regular file, a pipe or a socket",
	},
	{ EBADF,
	  "the output is not open for writing",
	},
	{ ENOSYS,
	  "this kernel has no checkpoint system call (CONFIG_CHECKPOINT=y, x86_64)",
	},
	{ EINTR,
	  "interrupted by a signal",
	},
	{ EPIPE,
	  "the reader of the image went away",
	},
	{ 0, NULL }
};

/* With --tree, the hints for these instead */
static const struct cr_hint tree_hints[] = {
	{ EBUSY,
	  "--tree: every task of the tree must be stopped or frozen (--cgroup DIR) and stay so, not traced by another process, and share no open file, pipe or memory with a process outside the tree; a process group or session led from outside the tree must be the root's",
	},
	{ EINVAL,
	  "--tree cannot save the caller itself, nor process 0",
	},
	{ EOPNOTSUPP,
	  "--tree: the kernel's reason above names what this kernel cannot save yet (see \"Process trees\" in Documentation/checkpoint/usage.rst)",
	},
	{ 0, NULL }
};

enum stop_mode { STOP_NONE, STOP_SIGNAL, STOP_FREEZE };

/* The target and what was done to it, to undo */
struct target {
	pid_t pid;
	bool was_stopped;	/* stopped or frozen before we came */
	bool sent_stop;		/* we sent it SIGSTOP */
	bool moved;		/* we moved it into @cgroup */
	bool froze;		/* we froze @cgroup */
	char cgroup[PATH_MAX];	/* the cgroup we made, under CGROUP_ROOT */
	char orig[PATH_MAX];	/* its cgroup before, as in /proc/PID/cgroup */
	bool tree;		/* --tree: the process and its descendants */
	bool dir_froze;		/* we froze @dir */
	char dir[PATH_MAX];	/* --cgroup: the cgroup to freeze, or "" */
};

static volatile sig_atomic_t caught;

static void on_signal(int sig)
{
	caught = sig;
}

static const char usage_text[] =
"Usage: checkpoint [-o FILE] [--tree] [--stop | --freeze | --cgroup DIR]\n"
"                  [--leave-running | --kill] PID\n"
"\n"
"Save process PID to a checkpoint image with the checkpoint(2) system call;\n"
"restart(1) makes a process of the image again.\n"
"\n"
"  -o, --output FILE   write the image to FILE, created with mode 0600 or\n"
"                      truncated; default (or -): standard output, which\n"
"                      must not be a terminal\n"
"      --stop          stop PID with SIGSTOP for the checkpoint\n"
"      --freeze        freeze PID for the checkpoint in a new cgroup v2,\n"
"                      " CGROUP_ROOT "/checkpoint-PID, then move it back\n"
"      --tree          save PID and all its descendants (CR_CHECKPOINT_TREE),\n"
"                      each stopped or frozen; restart --tree restores them\n"
"      --cgroup DIR    freeze the cgroup v2 DIR (a path, or one relative to\n"
"                      " CGROUP_ROOT ") that holds the processes for the\n"
"                      checkpoint, then thaw it, also if the checkpoint fails\n"
"                      (a cgroup frozen before stays so)\n"
"      --leave-running after the checkpoint, resume PID as it was before\n"
"                      (the default): a task stopped or frozen before stays so\n"
"      --kill          after a successful checkpoint, kill PID (SIGKILL),\n"
"                      with --tree PID and its descendants\n"
"  -h, --help          show this help\n"
"\n"
"Without --stop or --freeze, PID must be stopped already: by SIGSTOP, by\n"
"ptrace or by the cgroup freezer.  This kernel saves single-threaded\n"
"processes whose descriptors are regular files, directories, /dev/null,\n"
"zero, random or urandom (descriptors 0, 1 and 2 of another kind are left\n"
"to restart), with no memory shared with another process and no POSIX\n"
"timer, not stopped in a system call other than a sleep that a restart\n"
"could not resume (poll, futex); it refuses the others, and\n"
"this tool prints the kernel's reason (\"kernel:\").  If the checkpoint\n"
"fails, PID is resumed as it was and never killed, and a partial image\n"
"FILE is removed.\n"
"\n"
"With --tree, every process of the tree must be stopped already (by SIGSTOP\n"
"or the freezer) or be in the cgroup --cgroup freezes; --stop and --freeze\n"
"act on PID alone and are refused.\n"
"\n"
"Exit status: 0 saved, 1 the checkpoint failed, 2 usage error, 3 PID could\n"
"not be stopped or frozen.\n";

static void print_help(FILE *f)
{
	fputs(usage_text, f);
}

#define usage_error(...)	cr_usage_error(PROG, __VA_ARGS__)

static void __printf(1, 2) warn(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* The whole of a small file, NUL-terminated; -1 with errno on failure */
static ssize_t read_file(const char *path, char *buf, size_t size)
{
	ssize_t n, len = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while ((size_t)len < size - 1) {
		n = read(fd, buf + len, size - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = errno;

			close(fd);
			errno = err;
			return -1;
		}
		if (!n)
			break;
		len += n;
	}
	close(fd);
	buf[len] = '\0';
	return len;
}

/* Write @s to a cgroup or proc file; -1 with errno on failure */
static int write_file(const char *path, const char *s)
{
	ssize_t n;
	int fd, err;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = write(fd, s, strlen(s));
	err = errno;
	if (close(fd) && n >= 0) {
		err = errno;
		n = -1;
	}
	if (n != (ssize_t)strlen(s)) {
		errno = n < 0 ? err : EIO;
		return -1;
	}
	return 0;
}

/*
 * The state letter of @pid in /proc/PID/stat ('R', 'S', 'T', 't', 'Z'...),
 * or 0 if there is no such process.
 */
static char task_state(pid_t pid)
{
	char path[64], buf[1024], *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (read_file(path, buf, sizeof(buf)) < 0)
		return 0;
	/* "pid (comm) S ...": the name may hold spaces and parentheses */
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || !p[2])
		return 0;
	return p[2];
}

static bool state_stopped(char state)
{
	return state == 'T' || state == 't';
}

static bool state_gone(char state)
{
	return !state || state == 'Z' || state == 'X';
}

/* The value of @key in a cgroup.events file, or -1 */
static int cgroup_event(const char *cgroup, const char *key)
{
	char path[PATH_MAX + 32], buf[256], *p;
	size_t len = strlen(key);

	snprintf(path, sizeof(path), "%s/cgroup.events", cgroup);
	if (read_file(path, buf, sizeof(buf)) < 0)
		return -1;
	for (p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, key, len) && p[len] == ' ')
			return atoi(p + len + 1);
	return -1;
}

/* CGROUP_ROOT followed by @rel, a path as /proc/PID/cgroup gives it */
static int cgroup_path(char *buf, size_t size, const char *rel)
{
	int n;

	n = snprintf(buf, size, "%s%s", CGROUP_ROOT, strcmp(rel, "/") ? rel : "");
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* The cgroup v2 path of @pid into t->orig */
static int find_cgroup(struct target *t)
{
	char path[64], buf[4096], *line, *nl;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", t->pid);
	if (read_file(path, buf, sizeof(buf)) < 0) {
		warn("cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	for (line = buf; line && *line; line = nl ? nl + 1 : NULL) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if (!strncmp(line, "0::/", 4)) {
			if (snprintf(t->orig, sizeof(t->orig), "%s",
				     line + 3) >= (int)sizeof(t->orig))
				break;
			return 0;
		}
	}
	warn("process %d is in no cgroup v2 (%s)", t->pid, path);
	return -1;
}

/* Wait up to WAIT_MS for the state of @pid to be @done */
static bool wait_task(pid_t pid, bool (*done)(char state))
{
	int ms;

	for (ms = 0; ms < WAIT_MS && !caught; ms += POLL_MS) {
		if (done(task_state(pid)))
			return true;
		sleep_ms(POLL_MS);
	}
	return done(task_state(pid));
}

/* Wait up to WAIT_MS for @key of cgroup.events of @cgroup to be @value */
static bool wait_cgroup(const char *cgroup, const char *key, int value)
{
	int ms;

	for (ms = 0; ms < WAIT_MS && !caught; ms += POLL_MS) {
		if (cgroup_event(cgroup, key) == value)
			return true;
		sleep_ms(POLL_MS);
	}
	return cgroup_event(cgroup, key) == value;
}

static int stop_signal(struct target *t)
{
	if (kill(t->pid, SIGSTOP)) {
		warn("cannot stop process %d: %s", t->pid, strerror(errno));
		return -1;
	}
	t->sent_stop = true;
	if (!wait_task(t->pid, state_stopped)) {
		if (state_gone(task_state(t->pid)))
			warn("process %d exited", t->pid);
		else
			warn("process %d did not stop within %d s%s", t->pid,
			     WAIT_MS / 1000, caught ? " (interrupted)" : "");
		return -1;
	}
	return 0;
}

static int freeze_task(struct target *t)
{
	char orig[PATH_MAX + 16], path[PATH_MAX + 32], pid[32];
	struct statfs fs;

	if (statfs(CGROUP_ROOT, &fs) || fs.f_type != CGROUP2_SUPER_MAGIC) {
		warn("--freeze needs cgroup v2 mounted at %s", CGROUP_ROOT);
		return -1;
	}
	if (find_cgroup(t))
		return -1;
	if (cgroup_path(orig, sizeof(orig), t->orig)) {
		warn("cgroup path %s too long", t->orig);
		return -1;
	}
	if (cgroup_event(orig, "frozen") == 1) {
		/* Frozen already: leave it where it is */
		t->was_stopped = true;
		return 0;
	}
	snprintf(t->cgroup, sizeof(t->cgroup), "%s/checkpoint-%d", CGROUP_ROOT,
		 t->pid);
	if (mkdir(t->cgroup, 0755)) {
		if (errno == EEXIST)
			warn("%s exists (an earlier checkpoint?): empty and remove it",
			     t->cgroup);
		else
			warn("cannot create %s: %s", t->cgroup, strerror(errno));
		t->cgroup[0] = '\0';
		return -1;
	}
	snprintf(path, sizeof(path), "%s/cgroup.procs", t->cgroup);
	snprintf(pid, sizeof(pid), "%d", t->pid);
	if (write_file(path, pid)) {
		warn("cannot move process %d into %s: %s", t->pid, t->cgroup,
		     strerror(errno));
		return -1;
	}
	t->moved = true;
	snprintf(path, sizeof(path), "%s/cgroup.freeze", t->cgroup);
	if (write_file(path, "1")) {
		warn("cannot freeze %s: %s", t->cgroup, strerror(errno));
		return -1;
	}
	t->froze = true;
	if (!wait_cgroup(t->cgroup, "frozen", 1)) {
		warn("process %d did not freeze within %d s%s", t->pid,
		     WAIT_MS / 1000, caught ? " (interrupted)" : "");
		return -1;
	}
	return 0;
}

/* Undo freeze_task(): thaw, move the task back, remove the cgroup */
static int unfreeze(struct target *t)
{
	char path[PATH_MAX + 32], pid[32];
	int ret = 0;

	if (t->froze) {
		snprintf(path, sizeof(path), "%s/cgroup.freeze", t->cgroup);
		if (write_file(path, "0")) {
			warn("cannot thaw %s: %s", t->cgroup, strerror(errno));
			ret = -1;
		}
		t->froze = false;
	}
	if (t->moved && !state_gone(task_state(t->pid))) {
		if (cgroup_path(path, sizeof(path) - 16, t->orig))
			return -1;
		strcat(path, "/cgroup.procs");
		snprintf(pid, sizeof(pid), "%d", t->pid);
		if (write_file(path, pid)) {
			warn("cannot move process %d back to cgroup %s: %s; it stays in %s",
			     t->pid, t->orig, strerror(errno), t->cgroup);
			return -1;
		}
	}
	t->moved = false;
	if (t->cgroup[0]) {
		/* A task killed in it leaves it once it has exited */
		wait_cgroup(t->cgroup, "populated", 0);
		if (rmdir(t->cgroup)) {
			warn("cannot remove %s: %s", t->cgroup, strerror(errno));
			return -1;
		}
		t->cgroup[0] = '\0';
	}
	return ret;
}

/* --cgroup DIR: freeze DIR, unless it is frozen already */
static int freeze_dir(struct target *t)
{
	char path[PATH_MAX + 32];
	struct statfs fs;

	if (statfs(t->dir, &fs) || fs.f_type != CGROUP2_SUPER_MAGIC) {
		warn("--cgroup %s: not a directory of a cgroup v2 file system",
		     t->dir);
		return -1;
	}
	if (cgroup_event(t->dir, "frozen") == 1) {
		t->was_stopped = true;
		return 0;
	}
	snprintf(path, sizeof(path), "%s/cgroup.freeze", t->dir);
	if (write_file(path, "1")) {
		warn("cannot freeze %s: %s", t->dir, strerror(errno));
		return -1;
	}
	t->dir_froze = true;
	if (!wait_cgroup(t->dir, "frozen", 1)) {
		warn("%s did not freeze within %d s%s", t->dir, WAIT_MS / 1000,
		     caught ? " (interrupted)" : "");
		return -1;
	}
	return 0;
}

/* Undo freeze_dir() */
static int thaw_dir(struct target *t)
{
	char path[PATH_MAX + 32];

	if (!t->dir_froze)
		return 0;
	t->dir_froze = false;
	snprintf(path, sizeof(path), "%s/cgroup.freeze", t->dir);
	if (write_file(path, "0")) {
		warn("cannot thaw %s: %s", t->dir, strerror(errno));
		return -1;
	}
	return 0;
}

/* The parent of @pid, from /proc/PID/stat, or -1 */
static pid_t parent_of(pid_t pid)
{
	char path[64], buf[1024], *p;
	int ppid;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (read_file(path, buf, sizeof(buf)) < 0)
		return -1;
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %*c %d", &ppid) != 1)
		return -1;
	return ppid;
}

/*
 * The descendants of @root (not @root), at most @max of them, into @pids:
 * those whose chain of parents leads to @root.  Return: their number.
 */
static int descendants(pid_t root, pid_t *pids, int max)
{
	int n = 0, i, j, nr = 0, cap = 0;
	pid_t *all = NULL, *par = NULL;
	bool grew = true;
	struct dirent *e;
	DIR *d;

	d = opendir("/proc");
	if (!d)
		return 0;
	while ((e = readdir(d))) {
		long v;

		if (cr_parse_int(e->d_name, 1, INT_MAX, &v))
			continue;
		if (nr == cap) {
			cap = cap ? 2 * cap : 256;
			all = realloc(all, cap * sizeof(*all));
			par = realloc(par, cap * sizeof(*par));
			if (!all || !par)
				break;
		}
		all[nr] = v;
		par[nr++] = parent_of(v);
	}
	closedir(d);
	/* Add children of what is in the list until it no longer grows */
	while (all && par && grew) {
		grew = false;
		for (i = 0; i < nr; i++) {
			if (!all[i])
				continue;
			for (j = -1; j < n; j++)
				if (par[i] == (j < 0 ? root : pids[j]))
					break;
			if (j < n && n < max) {
				pids[n++] = all[i];
				all[i] = 0;
				grew = true;
			}
		}
	}
	free(all);
	free(par);
	return n;
}

/* Kill @t->pid and its descendants: they are stopped, none can fork */
static int kill_tree(struct target *t)
{
	static pid_t pids[CR_TREE_MAX_TASKS];
	int i, n, ret = 0;

	n = descendants(t->pid, pids, CR_TREE_MAX_TASKS);
	if (kill(t->pid, SIGKILL)) {
		warn("cannot kill process %d: %s", t->pid, strerror(errno));
		ret = -1;
	}
	for (i = 0; i < n; i++)
		if (kill(pids[i], SIGKILL) && errno != ESRCH) {
			warn("cannot kill process %d: %s", pids[i],
			     strerror(errno));
			ret = -1;
		}
	ret |= thaw_dir(t);
	if (!wait_task(t->pid, state_gone))
		warn("process %d was sent SIGKILL but has not exited yet",
		     t->pid);
	return ret;
}

/* Put the task back as it was; 0 or -1 */
static int resume_task(struct target *t)
{
	int ret = 0;

	ret |= thaw_dir(t);

	if (t->sent_stop) {
		if (kill(t->pid, SIGCONT) && errno != ESRCH) {
			warn("cannot resume process %d: %s", t->pid,
			     strerror(errno));
			ret = -1;
		}
		t->sent_stop = false;
	}
	if (t->moved || t->froze || t->cgroup[0])
		ret |= unfreeze(t);
	return ret;
}

static int kill_target(struct target *t)
{
	if (t->tree)
		return kill_tree(t);
	if (kill(t->pid, SIGKILL)) {
		warn("cannot kill process %d: %s", t->pid, strerror(errno));
		return -1;
	}
	thaw_dir(t);
	if (!wait_task(t->pid, state_gone))
		warn("process %d was sent SIGKILL but has not exited yet",
		     t->pid);
	t->sent_stop = false;
	return t->cgroup[0] ? unfreeze(t) : 0;
}

/* @fd is the regular file @path, not reached through a symlink */
static bool is_file(int fd, const char *path)
{
	struct stat st, lst;

	return !fstat(fd, &st) && S_ISREG(st.st_mode) && !lstat(path, &lst) &&
	       S_ISREG(lst.st_mode) && st.st_dev == lst.st_dev &&
	       st.st_ino == lst.st_ino;
}

/* Where the image starts in @fd, to tell its size; -1 if unknown */
static off_t image_start(int fd)
{
	struct stat st;
	int fl;

	if (fstat(fd, &st) || !S_ISREG(st.st_mode))
		return -1;
	fl = fcntl(fd, F_GETFL);
	if (fl >= 0 && (fl & O_APPEND))
		return st.st_size;
	return lseek(fd, 0, SEEK_CUR);
}

/* The number of processes in the tree image at @start of @fd, or -1 */
static int tree_size(int fd, off_t start)
{
	struct cr_hdr_header hh;
	struct cr_hdr_tree th;
	off_t off = start;

	if (pread(fd, &hh, sizeof(hh), off) != sizeof(hh) ||
	    hh.h.type != CR_HDR_HEADER)
		return -1;
	off += (hh.h.len + CR_HDR_ALIGN - 1) & ~(CR_HDR_ALIGN - 1);
	if (pread(fd, &th, sizeof(th), off) != sizeof(th) ||
	    th.h.type != CR_HDR_TREE)
		return -1;
	return th.nr_tasks;
}

static void catch_signals(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	struct sigaction sa = { .sa_handler = on_signal };
	size_t i;

	/* Not SA_RESTART: a signal interrupts a blocked write of the image */
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < ARRAY_SIZE(sigs); i++)
		sigaction(sigs[i], &sa, NULL);
	/* A reader that goes away makes the call fail with EPIPE */
	signal(SIGPIPE, SIG_IGN);
}

/* After a signal asked us to stop: die of it, now that PID is resumed */
static void __noreturn exit_caught(int status)
{
	if (caught) {
		signal(caught, SIG_DFL);
		raise(caught);
	}
	exit(status);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "stop", no_argument, NULL, 'S' },
		{ "freeze", no_argument, NULL, 'F' },
		{ "leave-running", no_argument, NULL, 'L' },
		{ "kill", no_argument, NULL, 'K' },
		{ "tree", no_argument, NULL, 'T' },
		{ "cgroup", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	enum stop_mode mode = STOP_NONE;
	const char *out = NULL, *name, *dir = NULL;
	static struct target t;
	struct cr_log log;
	int c, fd, err, status, nr;
	/* A partial image in a regular file is removed */
	bool kill_after = false, leave = false, created = false;
	off_t start, end;
	long crid, val;
	char state;

	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 'S':
		case 'F':
			if (mode != STOP_NONE &&
			    mode != (c == 'S' ? STOP_SIGNAL : STOP_FREEZE))
				usage_error("--stop and --freeze exclude each other");
			mode = c == 'S' ? STOP_SIGNAL : STOP_FREEZE;
			break;
		case 'L':
			leave = true;
			break;
		case 'K':
			kill_after = true;
			break;
		case 'T':
			t.tree = true;
			break;
		case 'C':
			dir = optarg;
			break;
		case 'h':
			print_help(stdout);
			return CR_EXIT_OK;
		default:
			fprintf(stderr, "Try 'checkpoint --help' for more information.\n");
			return CR_EXIT_USAGE;
		}
	}
	if (leave && kill_after)
		usage_error("--leave-running and --kill exclude each other");
	if (dir && mode != STOP_NONE)
		usage_error("--cgroup excludes --stop and --freeze");
	if (t.tree && mode != STOP_NONE)
		usage_error("--tree: stop the processes first or give --cgroup DIR: %s",
			    "--stop and --freeze act on PID alone");
	if (dir) {
		if (!*dir)
			usage_error("--cgroup takes a directory");
		if (snprintf(t.dir, sizeof(t.dir), "%s%s%s",
			     *dir == '/' ? "" : CGROUP_ROOT,
			     *dir == '/' ? "" : "/", dir) >= (int)sizeof(t.dir))
			usage_error("--cgroup %s: path too long", dir);
	}
	if (optind == argc)
		usage_error("no PID given");
	if (optind + 1 < argc)
		usage_error("one PID only, not '%s'", argv[optind + 1]);
	if (cr_parse_int(argv[optind], 1, INT_MAX, &val))
		usage_error("'%s' is not a process id", argv[optind]);
	t.pid = val;
	if (t.pid == getpid())
		usage_error("checkpoint cannot save itself");
	if (out && !strcmp(out, "-"))
		out = NULL;

	/* The output, before anything is done to the process */
	if (out) {
		struct stat st;
		int acc = O_WRONLY;

		/* --tree reads back the number of processes from a file */
		if (t.tree && (stat(out, &st) ? errno == ENOENT :
			       S_ISREG(st.st_mode)))
			acc = O_RDWR;
		fd = open(out, acc | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0) {
			warn("cannot open %s: %s", out, strerror(errno));
			return CR_EXIT_FAIL;
		}
		if (isatty(fd)) {
			close(fd);
			usage_error("refusing to write an image to the terminal %s",
				    out);
		}
		created = is_file(fd, out);
		name = out;
	} else {
		fd = STDOUT_FILENO;
		if (fcntl(fd, F_GETFL) < 0)
			usage_error("standard output is closed: give -o FILE");
		if (isatty(fd))
			usage_error("refusing to write an image to a terminal: give -o FILE");
		name = "standard output";
	}

	state = task_state(t.pid);
	if (state_gone(state)) {
		warn("no process %d (or it has exited)", t.pid);
		goto fail_output;
	}
	t.was_stopped = state_stopped(state);

	catch_signals();
	if (t.dir[0] && freeze_dir(&t)) {
		resume_task(&t);
		if (created)
			unlink(out);
		exit_caught(CR_EXIT_STOP);
	}
	if (!t.was_stopped && mode != STOP_NONE) {
		if (mode == STOP_SIGNAL ? stop_signal(&t) : freeze_task(&t)) {
			resume_task(&t);
			if (created)
				unlink(out);
			exit_caught(CR_EXIT_STOP);
		}
	}

	start = image_start(fd);
	crid = sys_checkpoint(t.pid, fd, (t.tree ? CR_CHECKPOINT_TREE : 0) |
			      cr_log_open(&log));
	err = errno;

	if (crid < 0) {
		bool tree_hint = t.tree && cr_hint(tree_hints, err);
		char what[64];

		snprintf(what, sizeof(what), "%s %d",
			 t.tree ? "process tree of" : "process", t.pid);
		cr_report(PROG, what, err, tree_hint ? tree_hints : hints,
			  &log);
		if (err == EBUSY && mode == STOP_NONE && !t.dir[0] &&
		    !state_stopped(task_state(t.pid)))
			warn("process %d is not stopped: add %s", t.pid,
			     t.tree ? "--cgroup DIR" : "--stop or --freeze");
		resume_task(&t);
		goto fail_output;
	}

	cr_log_show(PROG, &log);	/* nothing, but it closes the pipe */
	end = start >= 0 ? lseek(fd, 0, SEEK_CUR) : -1;
	nr = t.tree && start >= 0 ? tree_size(fd, start) : -1;
	if (out && close(fd)) {
		warn("%s: %s", out, strerror(errno));
		resume_task(&t);
		unlink(out);
		exit_caught(CR_EXIT_FAIL);
	}
	if (nr > 0 && end >= start)
		fprintf(stderr,
			PROG ": %d and descendants (%d) saved to %s (crid %ld, %lld bytes)\n",
			t.pid, nr, name, crid, (long long)(end - start));
	else if (start >= 0 && end >= start)
		fprintf(stderr, PROG ": %d saved to %s (crid %ld, %lld bytes)\n",
			t.pid, name, crid, (long long)(end - start));
	else
		fprintf(stderr, PROG ": %d saved to %s (crid %ld)\n", t.pid,
			name, crid);

	/* Interrupted: leave the process as it was, rather than kill it */
	status = CR_EXIT_OK;
	if (kill_after && !caught) {
		if (kill_target(&t))
			status = CR_EXIT_FAIL;
	} else if (resume_task(&t)) {
		status = CR_EXIT_FAIL;
	}
	exit_caught(status);

fail_output:
	if (created)
		unlink(out);
	exit_caught(CR_EXIT_FAIL);
}
