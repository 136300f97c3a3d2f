// SPDX-License-Identifier: GPL-2.0
/*
 * pipestage: the stages of the pipeline of the checkpoint/restart demo
 * (scripts/demo), to run as
 *
 *	pipestage produce | pipestage filter | pipestage consume
 *
 * The producer writes the lines "N V" for N = 1, 2, ... with V a hash of
 * N, as fast as the pipe takes them: the pipes are always full, so bytes
 * are in flight whenever the pipeline is checkpointed.  The filter checks
 * each line and appends a hash of it, "N V W".  The consumer reads about
 * 200 lines a second, checks each (the next N, and its V and W), keeps a
 * checksum of all the lines, and every 100 lines prints
 *
 *	consumer: line N, checksum 0x...
 *
 * A line lost, doubled or changed on the way makes the stage that sees it
 * print "pipestage: ERROR ..." and exit with status 1.  "pipestage sum N"
 * prints the checksum the consumer must print at line N.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef __NR_close_range
#define __NR_close_range	436
#endif

#define PRINT_EVERY	100
#define LINES_PER_WAIT	10
#define WAIT_US		50000	/* 10 lines every 50 ms: 200 lines/s */
#define PIPE_SIZE	4096	/* a few hundred lines in flight per pipe */

static const char usage_text[] =
"Usage: pipestage produce | filter | consume | sum N\n"
"\n"
"  pipestage produce | pipestage filter | pipestage consume\n"
"\n"
"streams numbered lines through two pipes; the consumer prints\n"
"\"consumer: line N, checksum 0x...\" every 100 lines.  \"sum N\" prints\n"
"the checksum the consumer prints at line N.\n";

static unsigned long long mix(unsigned long long x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* V of line N, and W the filter appends */
static unsigned long long val(unsigned long long n)
{
	return mix(n);
}

static unsigned long long filt(unsigned long long n, unsigned long long v)
{
	return mix(v ^ (n << 17));
}

/* The consumer's checksum after line @n, from the one before */
static unsigned long long sum_step(unsigned long long h, unsigned long long n)
{
	unsigned long long v = val(n), w = filt(n, v);

	h = (h ^ n) * 0x100000001b3ULL;
	h = (h ^ v) * 0x100000001b3ULL;
	return (h ^ w) * 0x100000001b3ULL;
}

#define SUM_INIT	0xcbf29ce484222325ULL

/* Print "pipestage: ERROR @who: @what", and exit with status 1 */
static void fail(const char *who, const char *what, unsigned long long n,
		 const char *detail)
{
	fprintf(stderr, "pipestage: ERROR %s: %s %llu%s%s\n", who, what, n,
		detail ? ": " : "", detail ? detail : "");
	exit(1);
}

/* Small pipes, so that a few hundred lines are in flight, not thousands */
static void small_pipe(int fd)
{
	fcntl(fd, F_SETPIPE_SZ, PIPE_SIZE);
}

static void produce(void)
{
	unsigned long long n;

	small_pipe(1);
	for (n = 1;; n++)
		if (printf("%llu %016llx\n", n, val(n)) < 0)
			fail("producer", "write error at line", n, strerror(errno));
}

/* Read line @n as "N V" (and " W" if @w): its fields */
static void read_line(const char *who, unsigned long long n,
		      unsigned long long *v, unsigned long long *w)
{
	char line[128];
	unsigned long long got;
	int f;

	if (!fgets(line, sizeof(line), stdin))
		fail(who, "end of input before line", n, NULL);
	line[strcspn(line, "\n")] = 0;
	if (w)
		f = sscanf(line, "%llu %llx %llx", &got, v, w) == 3;
	else
		f = sscanf(line, "%llu %llx", &got, v) == 2;
	if (!f || got != n)
		fail(who, "bad line where there should be line", n, line);
	if (*v != val(n) || (w && *w != filt(n, *v)))
		fail(who, "changed line", n, line);
}

static void filter(void)
{
	unsigned long long n, v;

	small_pipe(0);
	small_pipe(1);
	for (n = 1;; n++) {
		read_line("filter", n, &v, NULL);
		if (printf("%llu %016llx %016llx\n", n, v, filt(n, v)) < 0)
			fail("filter", "write error at line", n, strerror(errno));
	}
}

static void consume(void)
{
	unsigned long long n, v, w, h = SUM_INIT;
	struct timeval tv;

	small_pipe(0);
	for (n = 1;; n++) {
		read_line("consumer", n, &v, &w);
		h = sum_step(h, n);
		if (!(n % PRINT_EVERY)) {
			printf("consumer: line %llu, checksum 0x%016llx\n", n, h);
			fflush(stdout);
		}
		if (n % LINES_PER_WAIT)
			continue;
		/* A stop interrupts select(), which is then made again */
		tv.tv_sec = 0;
		tv.tv_usec = WAIT_US;
		if (select(0, NULL, NULL, NULL, &tv) < 0 && errno != EINTR)
			fail("consumer", "select failed at line", n,
			     strerror(errno));
	}
}

/* Print the consumer's checksum at line @arg */
static int sum(const char *arg)
{
	unsigned long long n, i, h = SUM_INIT;
	char *end;

	errno = 0;
	n = strtoull(arg, &end, 10);
	if (errno || *end || !*arg)
		fail("sum", "not a line number:", 0, arg);
	for (i = 1; i <= n; i++)
		h = sum_step(h, i);
	printf("0x%016llx\n", h);
	return 0;
}

int main(int argc, char **argv)
{
	/* Descriptors inherited above 2 would make checkpoint refuse it */
	syscall(__NR_close_range, 3U, ~0U, 0U);
	/* The stages never return: they exit(1) on an error */
	if (argc == 2 && !strcmp(argv[1], "produce"))
		produce();
	if (argc == 2 && !strcmp(argv[1], "filter"))
		filter();
	if (argc == 2 && !strcmp(argv[1], "consume"))
		consume();
	if (argc == 3 && !strcmp(argv[1], "sum"))
		return sum(argv[2]);
	if (argc == 2 && !strcmp(argv[1], "-h")) {
		fputs(usage_text, stdout);
		return 0;
	}
	fputs(usage_text, stderr);
	return 2;
}
