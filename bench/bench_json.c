/*
 * bench_json: our JSON code against jansson's on our own data.
 *
 *   bench/bench_json [megabytes] [runs]
 *
 * Parse: the lines of $TTPD_SHARED_DIR/golden/events.jsonl (JSONL tagger
 * events, mostly strings), repeated to about `megabytes` (default 50) of
 * input, are parsed and freed one by one with jv_parse and json_loadb.
 *
 * Dump: the same lines parsed once, and the "evidence" objects of
 * golden/expected.jsonl (what ttpd serialises for every tag), are
 * serialised and freed one by one with jv_dump and json_dumps(JSON_COMPACT
 * | JSON_ENCODE_ANY), as many rounds as make about `megabytes` of output.
 * Both must produce the same bytes.
 *
 * Each contender gets `runs` passes (default 3) and the median is printed
 * as MB/s (of input for parsing, of output for dumping) and microseconds
 * per value.  Figures come from the process CPU time, since the build
 * machine is shared and wall time swings with its load; wall MB/s is shown
 * alongside.  make bench sets TTPD_SHARED_DIR.
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

/* Parsed values to serialise, and the size of one round of output. */
struct values {
	json_t **v;
	size_t n, bytes;
	size_t rounds;		/* rounds per pass */
};

/* Every line of path, or its member `member` when not NULL. */
static void
load_values(const char *path, const char *member, struct values *vs)
{
	FILE *fp = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (fp == NULL) {
		fprintf(stderr, "bench_json: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	vs->v = NULL;
	vs->n = 0;
	while ((n = getline(&line, &cap, fp)) > 0) {
		ttpd_value *doc = jv_parse(line, (size_t)n, NULL, 0);
		json_t *j;

		if (doc == NULL)
			continue;
		j = member != NULL ? json_object_get((json_t *)(void *)doc,
		    member) : (json_t *)(void *)doc;
		if (j != NULL) {
			vs->v = xrealloc(vs->v, (vs->n + 1) * sizeof *vs->v);
			vs->v[vs->n++] = json_incref(j);
		}
		jv_decref(doc);
	}
	free(line);
	fclose(fp);
	if (vs->n == 0) {
		fprintf(stderr, "bench_json: %s: no values\n", path);
		exit(2);
	}
}

/* Both serialisers agree on every value; sizes one round of output. */
static int
check_dumps(struct values *vs, size_t target)
{
	size_t i;
	int ok = 1;

	vs->bytes = 0;
	for (i = 0; i < vs->n; i++) {
		char *ours = jv_dump((const ttpd_value *)(void *)vs->v[i]);
		char *theirs = json_dumps(vs->v[i], JSON_COMPACT |
		    JSON_ENCODE_ANY);

		if (ours == NULL || theirs == NULL || strcmp(ours, theirs)) {
			fprintf(stderr, "bench_json: value %zu: jv_dump and "
			    "json_dumps differ\n", i);
			ok = 0;
		} else
			vs->bytes += strlen(ours);
		free(ours);
		free(theirs);
	}
	vs->rounds = vs->bytes == 0 ? 1 : (target + vs->bytes - 1) / vs->bytes;
	return ok;
}

static struct timing
dump_pass(const struct values *vs, int ours)
{
	size_t r, i;
	struct timing t = { clock_s(CLOCK_PROCESS_CPUTIME_ID),
	    clock_s(CLOCK_MONOTONIC) };

	for (r = 0; r < vs->rounds; r++) {
		for (i = 0; i < vs->n; i++) {
			char *s = ours ? jv_dump((const ttpd_value *)(void *)
			    vs->v[i]) : json_dumps(vs->v[i], JSON_COMPACT |
			    JSON_ENCODE_ANY);

			if (s == NULL) {
				fprintf(stderr, "bench_json: dump failed\n");
				exit(1);
			}
			free(s);
		}
	}
	t.cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - t.cpu;
	t.wall = clock_s(CLOCK_MONOTONIC) - t.wall;
	return t;
}

static struct timing
median_dump(const struct values *vs, int ours, int runs)
{
	struct timing t[MAX_RUNS];
	int r;

	for (r = 0; r < runs; r++)
		t[r] = dump_pass(vs, ours);
	qsort(t, (size_t)runs, sizeof t[0], by_cpu);
	return t[runs / 2];
}

static void
report_dump(const char *name, const struct values *vs, struct timing t)
{
	double bytes = (double)vs->bytes * (double)vs->rounds;
	double count = (double)vs->n * (double)vs->rounds;

	printf("%-10s %8.1f MB/s %8.3f us/value %10.0f values/s "
	    "(wall %.1f MB/s)\n", name, bytes / t.cpu / 1e6,
	    t.cpu * 1e6 / count, count / t.cpu, bytes / t.wall / 1e6);
}

/* Returns 0 when both serialisers agree. */
static int
bench_dump(const char *title, const char *path, const char *member,
    size_t target, int runs)
{
	struct timing t_jansson, t_ours;
	struct values vs;
	size_t i;
	int ok;

	load_values(path, member, &vs);
	ok = check_dumps(&vs, target);
	printf("dump %s: %zu values x %zu rounds, %.1f MB out (%.0f "
	    "bytes/value)\n", title, vs.n, vs.rounds, (double)vs.bytes *
	    (double)vs.rounds / 1e6, (double)vs.bytes / (double)vs.n);
	t_jansson = median_dump(&vs, 0, runs);
	report_dump("json_dumps", &vs, t_jansson);
	t_ours = median_dump(&vs, 1, runs);
	report_dump("jv_dump", &vs, t_ours);
	printf("jv_dump is %.2fx jansson (CPU time)\n",
	    t_jansson.cpu / t_ours.cpu);
	for (i = 0; i < vs.n; i++)
		json_decref(vs.v[i]);
	free(vs.v);
	return ok ? 0 : -1;
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
	int failed = 0;

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
	printf("parse: %zu lines, %.1f MB (%.0f bytes/line), median of %d "
	    "runs, CPU time\n", c.nlines, (double)c.bytes / 1e6,
	    (double)c.bytes / (double)c.nlines, runs);
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
		failed = 1;
	}
	if (bench_dump("events", path, NULL, (size_t)(mb * 1e6), runs) != 0)
		failed = 1;
	snprintf(path, sizeof path, "%s/golden/expected.jsonl", shared);
	if (bench_dump("evidence", path, "evidence", (size_t)(mb * 1e6),
	    runs) != 0)
		failed = 1;
	return failed;
}
