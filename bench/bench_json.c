/*
 * bench_json: jv_parse against jansson's json_loadb on our event lines.
 *
 *   bench/bench_json [megabytes] [runs]
 *
 * The lines of $TTPD_SHARED_DIR/golden/events.jsonl (JSONL tagger events,
 * mostly strings), repeated to about `megabytes` (default 50) of input, are
 * parsed and freed one by one; each parser gets `runs` passes (default 3)
 * and the median is printed as MB/s and microseconds per line.  Figures
 * come from the process CPU time, since the build machine is shared and
 * wall time swings with its load; wall MB/s is shown alongside.  Both
 * parsers must accept the same lines.  make bench sets TTPD_SHARED_DIR.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "json.h"

#define MAX_RUNS 15

struct corpus {
	char *text;		/* all lines, back to back */
	size_t *off;		/* line i is text[off[i] .. off[i + 1]) */
	size_t nlines, bytes;
};

struct timing {
	double cpu, wall;	/* seconds */
};

static double
clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *
xrealloc(void *p, size_t n)
{
	if ((p = realloc(p, n)) == NULL) {
		perror("bench_json");
		exit(2);
	}
	return p;
}

/* The golden lines (without newlines), repeated to about `target` bytes. */
static void
load_corpus(const char *path, size_t target, struct corpus *c)
{
	FILE *fp = fopen(path, "r");
	char *line = NULL, *base = NULL;
	size_t cap = 0, nbase = 0, *baseoff = NULL, nb = 0, i, len;
	ssize_t n;

	if (fp == NULL) {
		fprintf(stderr, "bench_json: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	while ((n = getline(&line, &cap, fp)) > 0) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			n--;
		if (n == 0)
			continue;
		base = xrealloc(base, nbase + (size_t)n);
		memcpy(base + nbase, line, (size_t)n);
		baseoff = xrealloc(baseoff, (nb + 2) * sizeof *baseoff);
		baseoff[nb++] = nbase;
		nbase += (size_t)n;
	}
	free(line);
	fclose(fp);
	if (nb == 0) {
		fprintf(stderr, "bench_json: %s: no lines\n", path);
		exit(2);
	}
	baseoff[nb] = nbase;
	c->text = xrealloc(NULL, target + nbase);
	c->off = NULL;
	c->nlines = 0;
	c->bytes = 0;
	while (c->bytes < target) {
		for (i = 0; i < nb && c->bytes < target; i++) {
			len = baseoff[i + 1] - baseoff[i];
			memcpy(c->text + c->bytes, base + baseoff[i], len);
			if (c->nlines % 4096 == 0)
				c->off = xrealloc(c->off, (c->nlines + 4097) *
				    sizeof *c->off);
			c->off[c->nlines++] = c->bytes;
			c->bytes += len;
		}
	}
	c->off[c->nlines] = c->bytes;
	free(base);
	free(baseoff);
}

/* One pass; returns its times, counts accepted lines. */
static struct timing
pass(const struct corpus *c, int ours, size_t *accepted)
{
	json_error_t jerr;
	size_t i, ok = 0;
	struct timing t = { clock_s(CLOCK_PROCESS_CPUTIME_ID),
	    clock_s(CLOCK_MONOTONIC) };

	for (i = 0; i < c->nlines; i++) {
		const char *s = c->text + c->off[i];
		size_t len = c->off[i + 1] - c->off[i];

		if (ours) {
			ttpd_value *v = jv_parse(s, len, NULL, 0);

			ok += v != NULL;
			jv_decref(v);
		} else {
			json_t *j = json_loadb(s, len, JSON_DECODE_ANY, &jerr);

			ok += j != NULL;
			json_decref(j);
		}
	}
	*accepted = ok;
	t.cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - t.cpu;
	t.wall = clock_s(CLOCK_MONOTONIC) - t.wall;
	return t;
}

static int
by_cpu(const void *a, const void *b)
{
	double x = ((const struct timing *)a)->cpu;
	double y = ((const struct timing *)b)->cpu;

	return x < y ? -1 : x > y;
}

static struct timing
median_pass(const struct corpus *c, int ours, int runs, size_t *accepted)
{
	struct timing t[MAX_RUNS];
	int r;

	for (r = 0; r < runs; r++)
		t[r] = pass(c, ours, accepted);
	qsort(t, (size_t)runs, sizeof t[0], by_cpu);
	return t[runs / 2];
}

static void
report(const char *name, const struct corpus *c, struct timing t)
{
	printf("%-10s %8.1f MB/s %8.3f us/line %10.0f lines/s "
	    "(wall %.1f MB/s)\n", name, (double)c->bytes / t.cpu / 1e6,
	    t.cpu * 1e6 / (double)c->nlines, (double)c->nlines / t.cpu,
	    (double)c->bytes / t.wall / 1e6);
}

int
main(int argc, char **argv)
{
	const char *shared = getenv("TTPD_SHARED_DIR");
	double mb = argc > 1 ? atof(argv[1]) : 50;
	struct timing t_jansson, t_ours;
	int runs = argc > 2 ? atoi(argv[2]) : 3;
	size_t ok_jansson, ok_ours;
	struct corpus c;
	char path[4096];

	if (shared == NULL || *shared == '\0') {
		fprintf(stderr, "bench_json: set TTPD_SHARED_DIR\n");
		return 2;
	}
	if (mb <= 0 || runs < 1 || runs > MAX_RUNS) {
		fprintf(stderr, "usage: bench_json [megabytes] [runs <= %d]\n",
		    MAX_RUNS);
		return 2;
	}
	snprintf(path, sizeof path, "%s/golden/events.jsonl", shared);
	load_corpus(path, (size_t)(mb * 1e6), &c);
	printf("%zu lines, %.1f MB (%.0f bytes/line), median of %d runs, CPU time\n",
	    c.nlines, (double)c.bytes / 1e6, (double)c.bytes /
	    (double)c.nlines, runs);
	t_jansson = median_pass(&c, 0, runs, &ok_jansson);
	report("json_loadb", &c, t_jansson);
	t_ours = median_pass(&c, 1, runs, &ok_ours);
	report("jv_parse", &c, t_ours);
	printf("jv_parse is %.2fx jansson (CPU time)\n",
	    t_jansson.cpu / t_ours.cpu);
	free(c.text);
	free(c.off);
	if (ok_jansson != ok_ours || ok_ours != c.nlines) {
		fprintf(stderr, "bench_json: accepted lines differ: jansson "
		    "%zu, jv_parse %zu of %zu\n", ok_jansson, ok_ours,
		    c.nlines);
		return 1;
	}
	return 0;
}
