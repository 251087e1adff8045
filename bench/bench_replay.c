/*
 * bench_replay: time `ttpd --replay` over N realistic command events with
 * DECNET's rule set and with ttpd's own pack (conf/rules), with and
 * without the store, and show that resident memory does not grow with the
 * input size.
 *
 *   bench/bench_replay [N] [runs] [decnet|pack|both]
 *
 * "both" (the default) runs each measurement with both rule sets in the
 * same run, their runs alternating, and prints the pack's throughput
 * relative to DECNET's, on wall-clock and on CPU time.
 *
 * Command lines come from the real attacker lines of the golden set
 * ($TTPD_SHARED_DIR/golden/events.jsonl, command events), cycled to N
 * events with unique source ids: once with all of them (mean 520 bytes:
 * the set deliberately includes long joined sessions), once with the
 * lines of at most 128 bytes (mean 37 bytes: what a honeypot mostly
 * sees).  Needs TTPD_BUILDDIR, TTPD_SHARED_DIR and, for the pack,
 * TTPD_SRCDIR (make bench sets them).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "json.h"

static const char *
env(const char *name)
{
	const char *v = getenv(name);

	if (v == NULL || *v == '\0') {
		fprintf(stderr, "bench_replay: set %s\n", name);
		exit(2);
	}
	return v;
}

/* The command_text payloads of the golden set's command events. */
static char **
load_pool(const char *path, size_t max_len, size_t *n)
{
	FILE *fp = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0, np = 0, cp = 0;
	ssize_t len;
	char **pool = NULL;

	if (fp == NULL) {
		fprintf(stderr, "bench_replay: %s: %s\n", path,
		    strerror(errno));
		exit(2);
	}
	while ((len = getline(&line, &cap, fp)) > 0) {
		ttpd_value *v = jv_parse(line, (size_t)len, NULL, 0);
		const char *kind = jv_string(jv_object_get(v, "source_kind"));
		const ttpd_value *p = jv_object_get(v, "payload");

		const char *text_of = jv_string(jv_object_get(p,
		    "command_text"));

		if (kind != NULL && strcmp(kind, "command") == 0 &&
		    text_of != NULL && strlen(text_of) <= max_len) {
			char *text = jv_dump(p);

			if (np == cp) {
				cp = cp == 0 ? 4096 : cp * 2;
				pool = realloc(pool, cp * sizeof *pool);
			}
			pool[np++] = text;
		}
		jv_decref(v);
	}
	free(line);
	fclose(fp);
	*n = np;
	return pool;
}

static void
write_events(const char *path, size_t n, char **pool, size_t npool)
{
	FILE *fp = fopen(path, "w");
	size_t i;

	if (fp == NULL) {
		perror(path);
		exit(2);
	}
	for (i = 0; i < n; i++)
		fprintf(fp, "{\"source_kind\":\"command\",\"source_id\":"
		    "\"bench-%zu\",\"attacker_uuid\":\"att-%04zu\","
		    "\"identity_uuid\":null,\"session_id\":\"s-%zu\","
		    "\"decky_id\":\"decky-%zu\",\"payload\":%s}\n", i,
		    i % 1000, i / 8, i % 16, pool[i % npool]);
	fclose(fp);
}

struct result {
	double secs, cpu_secs;  /* wall clock; the child's user + system */
	long maxrss_kib;
	unsigned long long events, tags, inserted, errors;
};

static int
run(const char *conf, const char *events, int dry_run, struct result *r)
{
	char bin[1024], out[4096];
	int pfd[2], status;
	struct timespec t0, t1;
	struct rusage ru;
	ssize_t got = 0, k;
	pid_t pid;

	snprintf(bin, sizeof bin, "%s/host/ttpd", env("TTPD_BUILDDIR"));
	if (pipe(pfd) != 0)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = fork();
	if (pid == 0) {
		dup2(pfd[1], 1);
		close(pfd[0]);
		execl(bin, bin, "-c", conf, "--replay", events,
		    dry_run ? "--dry-run" : NULL, (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	while ((k = read(pfd[0], out + got, sizeof out - 1 - (size_t)got)) > 0)
		got += k;
	out[got] = '\0';
	close(pfd[0]);
	if (wait4(pid, &status, 0, &ru) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		fprintf(stderr, "bench_replay: ttpd failed: %s\n", out);
		return -1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	r->secs = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	r->maxrss_kib = ru.ru_maxrss;
	r->cpu_secs = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
	if (sscanf(out, "events=%llu tags=%llu inserted=%llu errors=%llu",
	    &r->events, &r->tags, &r->inserted, &r->errors) != 4) {
		fprintf(stderr, "bench_replay: bad summary: %s\n", out);
		return -1;
	}
	return 0;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The runs of one rule set in one measurement. */
struct series {
	const char *name, *conf;
	double secs[32], cpu[32];
	struct result last;
	long rss;
};

static double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof v[0], cmp_double);
	return v[n / 2];
}

/* One more run of the series (run i); exits on failure. */
static void
run_once(struct series *se, const char *dir, const char *events,
    int dry_run, int i)
{
	char db[1100];

	snprintf(db, sizeof db, "%s/bench.db", dir);
	unlink(db);
	snprintf(db, sizeof db, "%s/bench.db-wal", dir);
	unlink(db);
	if (run(se->conf, events, dry_run, &se->last) != 0)
		exit(1);
	se->secs[i] = se->last.secs;
	se->cpu[i] = se->last.cpu_secs;
	if (se->last.maxrss_kib > se->rss)
		se->rss = se->last.maxrss_kib;
}

/* Print the medians; *wall and *cpu get the events per second. */
static void
report_series(struct series *se, const char *label, int runs, double *wall,
    double *cpu)
{
	const struct result *r = &se->last;
	double secs = median(se->secs, runs), cpu_secs = median(se->cpu, runs);

	printf("%-6s %-26s events=%llu tags=%llu inserted=%llu  median %.3f s "
	    "(cpu %.3f s)  %.0f events/s  %.0f tags/s  maxrss %ld KiB\n",
	    se->name, label, r->events, r->tags, r->inserted, secs, cpu_secs,
	    (double)r->events / secs, (double)r->tags / secs, se->rss);
	fflush(stdout);
	*wall = (double)r->events / secs;
	*cpu = (double)r->events / cpu_secs;
}

/* The machine is shared: say how busy it was around each measurement. */
static void
print_load(const char *when)
{
	double load[3];

	if (getloadavg(load, 3) == 3)
		printf("load average %s: %.2f %.2f %.2f\n", when, load[0],
		    load[1], load[2]);
}

/*
 * One measurement with the requested rule sets, and their ratio.  The
 * runs alternate between the sets, so that a busy spell of the machine
 * falls on both; the ratio is given on wall-clock time and on the CPU
 * time ttpd used, which a shared machine disturbs less.
 */
static void
bench_sets(const char *label, const char *dir, const char *const conf[2],
    const char *which, const char *events, int dry_run, int runs)
{
	static const char *const names[2] = { "decnet", "pack" };
	struct series se[2];
	double wall[2] = { 0, 0 }, cpu[2] = { 0, 0 };
	int i, k, used[2];

	for (k = 0; k < 2; k++) {
		memset(&se[k], 0, sizeof se[k]);
		se[k].name = names[k];
		se[k].conf = conf[k];
		used[k] = strcmp(which, "both") == 0 ||
		    strcmp(which, names[k]) == 0;
	}
	for (i = 0; i < runs; i++)
		for (k = 0; k < 2; k++)
			if (used[k])
				run_once(&se[k], dir, events, dry_run, i);
	for (k = 0; k < 2; k++)
		if (used[k])
			report_series(&se[k], label, runs, &wall[k], &cpu[k]);
	if (used[0] && used[1])
		printf("%-6s %-26s pack/decnet throughput %.2f (cpu %.2f)\n",
		    "ratio", label, wall[1] / wall[0], cpu[1] / cpu[0]);
}

static void
write_conf(const char *path, const char *dir, const char *rules_dir)
{
	FILE *fp = fopen(path, "w");

	if (fp == NULL) {
		perror(path);
		exit(2);
	}
	fprintf(fp, "store: { path = \"%s/bench.db\"; };\n"
	    "rules: { dirs = [ \"%s\" ]; };\n"
	    "plugins: { dir = \"%s/plugins/.libs\"; "
	    "load = ( { name = \"rule_engine\"; } ); };\n"
	    "log: { level = \"err\"; };\n", dir, rules_dir,
	    env("TTPD_BUILDDIR"));
	fclose(fp);
}

int
main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 200000, npool;
	int runs = argc > 2 ? atoi(argv[2]) : 3;
	const char *which = argc > 3 ? argv[3] : "both";
	char dir[] = "/tmp/ttpd-bench.XXXXXX", path[1024], small[1024],
	    conf_decnet[1024], conf_pack[1024], rules[1024];
	const char *conf[2] = { conf_decnet, conf_pack };
	char **pool;
	int corpus;

	if (n == 0 || runs < 1 || runs > 31 || (strcmp(which, "both") != 0 &&
	    strcmp(which, "decnet") != 0 && strcmp(which, "pack") != 0)) {
		fprintf(stderr, "usage: bench_replay [N] [runs<=31] "
		    "[decnet|pack|both]\n");
		return 2;
	}
	if (mkdtemp(dir) == NULL)
		return 2;
	snprintf(conf_decnet, sizeof conf_decnet, "%s/decnet.conf", dir);
	snprintf(rules, sizeof rules, "%s/reference/decnet/rules",
	    env("TTPD_SHARED_DIR"));
	write_conf(conf_decnet, dir, rules);
	snprintf(conf_pack, sizeof conf_pack, "%s/pack.conf", dir);
	if (strcmp(which, "decnet") != 0) {
		snprintf(rules, sizeof rules, "%s/conf/rules",
		    env("TTPD_SRCDIR"));
		write_conf(conf_pack, dir, rules);
	}
	for (corpus = 0; corpus < 2; corpus++) {
		size_t max_len = corpus == 0 ? (size_t)-1 : 128, i;

		snprintf(path, sizeof path, "%s/golden/events.jsonl",
		    env("TTPD_SHARED_DIR"));
		pool = load_pool(path, max_len, &npool);
		snprintf(path, sizeof path, "%s/events.jsonl", dir);
		write_events(path, n, pool, npool);
		snprintf(small, sizeof small, "%s/events-quarter.jsonl", dir);
		write_events(small, n / 4 > 0 ? n / 4 : 1, pool, npool);
		printf("bench_replay: %zu events from %zu real command lines "
		    "(%s), rule sets: %s, median of %d runs\n", n, npool,
		    corpus == 0 ? "all" : "<= 128 bytes", which, runs);
		print_load("before");
		bench_sets("tag only (--dry-run) N/4", dir, conf, which, small,
		    1, runs);
		bench_sets("tag only (--dry-run) N", dir, conf, which, path, 1,
		    runs);
		bench_sets("tag + SQLite store N", dir, conf, which, path, 0,
		    runs);
		print_load("after");
		for (i = 0; i < npool; i++)
			free(pool[i]);
		free(pool);
	}
	snprintf(path, sizeof path, "rm -rf '%s'", dir);
	if (system(path) != 0)
		return 1;
	return 0;
}
