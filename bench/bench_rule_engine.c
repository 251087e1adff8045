/*
 * bench_rule_engine: the rule_engine lifter alone, loaded through the host
 * with DECNET's 59 rules (23 of them its own) and with ttpd's own pack
 * (conf/rules), fed pre-built command events, with JIT and the literal
 * prefilter each on and off.
 *
 *   bench/bench_rule_engine [N] [decnet|pack|both] [all|default]
 *       [short|all|both]
 *
 * "both" (the default) runs every configuration with each rule set in the
 * same process and prints the pack's throughput relative to DECNET's;
 * "default" measures only the default configuration (JIT and prefilter);
 * the last argument picks the corpora (default both).
 *
 * Events are the 3,600 real attacker command lines of the golden set
 * ($TTPD_SHARED_DIR/golden/events.jsonl, events 442..4041), cycled to N
 * events (default 1,000,000).  Two corpora: all 3,600 lines (mean ~530
 * bytes: a long tail of pasted scripts), and the lines of at most 128
 * bytes (typical interactive commands).
 *
 * Two figures per run:
 *   handle   time inside the plugin's handle() (the host's counter), which
 *            includes the host services it calls: rules_for, object_get,
 *            and for matching events evidence_from_fields and emit (tag
 *            assembly: uuid, URL, evidence JSON);
 *   run      the whole hostapi_run() per event.
 * Needs TTPD_BUILDDIR, TTPD_SHARED_DIR and, for the pack, TTPD_SRCDIR
 * (make bench sets them).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf.h"
#include "hostapi.h"
#include "json.h"
#include "loader.h"
#include "log.h"
#include "plugin.h"
#include "rules.h"
#include "tag.h"

#define FIRST_EVENT 442
#define LAST_EVENT 4041
#define SHORT_LINE 128

struct corpus {
	const char *name;
	ttpd_event *v;
	size_t n;
	size_t bytes;
};

static const char *
env(const char *name)
{
	const char *v = getenv(name);

	if (v == NULL || *v == '\0') {
		fprintf(stderr, "bench_rule_engine: set %s\n", name);
		exit(2);
	}
	return v;
}

static int64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
push(struct corpus *c, const ttpd_event *ev, size_t len)
{
	ttpd_event *v = realloc(c->v, (c->n + 1) * sizeof *v);

	if (v == NULL) {
		fprintf(stderr, "bench_rule_engine: out of memory\n");
		exit(2);
	}
	c->v = v;
	c->v[c->n++] = *ev;
	c->bytes += len;
}

/* Events 442..4041 as ready ttpd_events (values kept for the process). */
static void
load_events(const char *path, struct corpus *all, struct corpus *shortc)
{
	FILE *fp = fopen(path, "r");
	char *line = NULL, err[256];
	size_t cap = 0, index = 0;
	ssize_t len;

	if (fp == NULL) {
		fprintf(stderr, "bench_rule_engine: %s: %s\n", path,
		    strerror(errno));
		exit(2);
	}
	for (; (len = getline(&line, &cap, fp)) > 0; index++) {
		ttpd_value *v;
		const char *text;
		size_t tlen;
		ttpd_event ev;

		if (index < FIRST_EVENT || index > LAST_EVENT)
			continue;
		v = jv_parse(line, (size_t)len, err, sizeof err);
		if (v == NULL) {
			fprintf(stderr, "bench_rule_engine: %s:%zu: %s\n",
			    path, index + 1, err);
			exit(2);
		}
		memset(&ev, 0, sizeof ev);
		ev.size = sizeof ev;
		ev.source_kind = jv_string(jv_object_get(v, "source_kind"));
		ev.source_id = jv_string(jv_object_get(v, "source_id"));
		ev.attacker_uuid = jv_string(jv_object_get(v,
		    "attacker_uuid"));
		ev.identity_uuid = jv_string(jv_object_get(v,
		    "identity_uuid"));
		ev.session_id = jv_string(jv_object_get(v, "session_id"));
		ev.payload = jv_object_get(v, "payload");
		if (ev.source_kind == NULL || strcmp(ev.source_kind,
		    "command") != 0 || jv_get_string(jv_object_get(ev.payload,
		    "command_text"), &text, &tlen) != TTPD_OK) {
			fprintf(stderr, "bench_rule_engine: event %zu is not a "
			    "command event with a command_text\n", index);
			exit(2);
		}
		push(all, &ev, tlen);
		if (tlen <= SHORT_LINE)
			push(shortc, &ev, tlen);
	}
	free(line);
	fclose(fp);
	if (all->n != LAST_EVENT - FIRST_EVENT + 1) {
		fprintf(stderr, "bench_rule_engine: %s: expected %d command "
		    "events, found %zu\n", path, LAST_EVENT - FIRST_EVENT + 1,
		    all->n);
		exit(2);
	}
}

static void
report_problem(void *ud, const char *msg)
{
	(void)ud;
	fprintf(stderr, "bench_rule_engine: %s\n", msg);
	exit(2);
}

struct setup {
	struct registry reg;
	struct ruleset rules;
	struct plugin *p;
};

/* The rule directory of a rule set: "decnet" or "pack". */
static char *
rules_dir_of(const char *set)
{
	char *dir;

	if (strcmp(set, "pack") == 0) {
		if (asprintf(&dir, "%s/conf/rules", env("TTPD_SRCDIR")) < 0)
			exit(2);
	} else if (asprintf(&dir, "%s/reference/decnet/rules",
	    env("TTPD_SHARED_DIR")) < 0)
		exit(2);
	return dir;
}

/* Rules owned by no loaded plugin (the pack's lifter rules) are fine. */
static void
report_unowned_ok(void *ud, const char *msg)
{
	(void)ud;
	(void)msg;
}

static void
setup_open(struct setup *s, const char *config_json, const char *set)
{
	char err[1024], *dir, *rules_dir;
	const char *dirs[1];
	struct plugin_conf pc;
	ttpd_value *config;

	if (asprintf(&dir, "%s/plugins/.libs", env("TTPD_BUILDDIR")) < 0)
		exit(2);
	rules_dir = rules_dir_of(set);
	config = jv_parse(config_json, strlen(config_json), err, sizeof err);
	if (config == NULL) {
		fprintf(stderr, "bench_rule_engine: %s\n", err);
		exit(2);
	}
	registry_init(&s->reg);
	ruleset_init(&s->rules);
	memset(&pc, 0, sizeof pc);
	pc.name = (char *)"rule_engine";
	pc.config = config;
	pc.origin = (char *)"bench_rule_engine";
	if (loader_load(&s->reg, dir, &pc, err, sizeof err) != 0) {
		fprintf(stderr, "bench_rule_engine: %s\n", err);
		exit(2);
	}
	registry_finish(&s->reg);
	s->p = registry_find(&s->reg, "rule_engine");
	dirs[0] = rules_dir;
	if (rules_load_dirs(dirs, 1, &s->rules, report_problem, NULL) != 0)
		exit(2);
	registry_assign_rules(&s->reg, &s->rules, report_unowned_ok, NULL);
	jv_decref(config);
	free(dir);
	free(rules_dir);
}

static void
setup_close(struct setup *s)
{
	registry_free(&s->reg);
	ruleset_free(&s->rules);
}

/* Returns the events per second of the whole run. */
static double
run(const struct corpus *c, const char *label, const char *config_json,
    const char *set, size_t n)
{
	struct tag_settings ts = { "v15.1" };
	struct tag_list tags;
	struct setup s;
	uint64_t ns0, ntags = 0;
	int64_t t0, t1, now;
	double handle_ns, run_ns;
	size_t i;

	setup_open(&s, config_json, set);
	tag_list_init(&tags);
	now = (int64_t)time(NULL) * 1000000000;
	/* warm-up: one pass over the corpus (JIT code, caches, prefilter) */
	for (i = 0; i < c->n; i++) {
		hostapi_run(s.p, &c->v[i], &ts, now, &tags);
		tag_list_truncate(&tags, 0);
	}
	ns0 = s.p->counters.ns_spent;
	t0 = mono_ns();
	for (i = 0; i < n; i++) {
		hostapi_run(s.p, &c->v[i % c->n], &ts, now, &tags);
		ntags += tags.n;
		tag_list_truncate(&tags, 0);
	}
	t1 = mono_ns();
	handle_ns = (double)(s.p->counters.ns_spent - ns0) / (double)n;
	run_ns = (double)(t1 - t0) / (double)n;
	printf("%-6s %-6s %-24s handle %8.0f ns/event %10.0f events/s | "
	    "run %8.0f ns/event %10.0f events/s | %.2f tags/event\n",
	    c->name, set, label, handle_ns, 1e9 / handle_ns, run_ns,
	    1e9 / run_ns, (double)ntags / (double)n);
	fflush(stdout);
	tag_list_free(&tags);
	setup_close(&s);
	return 1e9 / run_ns;
}

/* Every configuration on one corpus, with the requested rule sets. */
static void
run_corpus(const struct corpus *c, const char *which, int all_configs,
    size_t n)
{
	static const struct {
		const char *label, *config;
	} configs[] = {
		{ "jit+prefilter (default)", "{}" },
		{ "jit", "{\"prefilter\": false}" },
		{ "interpreter+prefilter", "{\"jit\": false}" },
		{ "interpreter", "{\"jit\": false, \"prefilter\": false}" },
	};
	size_t i;
	double decnet, pack;

	for (i = 0; i < (all_configs ? sizeof configs / sizeof configs[0] :
	    1); i++) {
		decnet = pack = 0;
		if (strcmp(which, "pack") != 0)
			decnet = run(c, configs[i].label, configs[i].config,
			    "decnet", n);
		if (strcmp(which, "decnet") != 0)
			pack = run(c, configs[i].label, configs[i].config,
			    "pack", n);
		if (decnet > 0 && pack > 0)
			printf("%-6s %-6s %-24s pack/decnet throughput %.2f\n",
			    c->name, "ratio", configs[i].label, pack / decnet);
	}
}

int
main(int argc, char **argv)
{
	struct corpus all = { "all", NULL, 0, 0 };
	struct corpus shortc = { "short", NULL, 0, 0 };
	const char *which = argc > 2 ? argv[2] : "both";
	const char *configs = argc > 3 ? argv[3] : "all";
	const char *corpora = argc > 4 ? argv[4] : "both";
	char *path;
	size_t n = 1000000;

	if ((argc > 1 && (n = strtoul(argv[1], NULL, 10)) == 0) ||
	    (strcmp(which, "decnet") != 0 && strcmp(which, "pack") != 0 &&
	    strcmp(which, "both") != 0) || (strcmp(configs, "all") != 0 &&
	    strcmp(configs, "default") != 0) || (strcmp(corpora, "both") != 0 &&
	    strcmp(corpora, "short") != 0 && strcmp(corpora, "all") != 0)) {
		fprintf(stderr, "usage: bench_rule_engine [N] "
		    "[decnet|pack|both] [all|default] [short|all|both]\n");
		return 2;
	}
	log_set_level(TTPD_LOG_WARNING);
	if (asprintf(&path, "%s/golden/events.jsonl",
	    env("TTPD_SHARED_DIR")) < 0)
		return 2;
	load_events(path, &all, &shortc);
	printf("rule_engine: DECNET rules (23 engine patterns) and/or ttpd's "
	    "pack (conf/rules), %zu events per run\n", n);
	printf("corpus all:   %zu command lines, mean %.0f bytes\n", all.n,
	    (double)all.bytes / (double)all.n);
	printf("corpus short: %zu command lines <= %d bytes, mean %.0f "
	    "bytes\n", shortc.n, SHORT_LINE,
	    (double)shortc.bytes / (double)shortc.n);
	if (strcmp(corpora, "all") != 0)
		run_corpus(&shortc, which, strcmp(configs, "all") == 0, n);
	if (strcmp(corpora, "short") != 0)
		run_corpus(&all, which, strcmp(configs, "all") == 0, n);
	free(path);
	free(all.v);
	free(shortc.v);
	return 0;
}
