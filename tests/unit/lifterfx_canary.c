/* Fixture shared by check_canary and check_ipv6_leak. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hostapi.h"
#include "json.h"
#include "loader.h"
#include "log.h"
#include "testutil.h"
#include "lifterfx_canary.h"

static void
lfx_report(void *ud, const char *msg)
{
	struct lfx *fx = ud;
	size_t len = strlen(fx->reports);

	snprintf(fx->reports + len, sizeof fx->reports - len, "%s\n", msg);
	fx->nreports++;
}

void
lfx_open(struct lfx *fx, const char *plugin)
{
	struct plugin_conf pc;
	char err[1024], *dir;

	memset(fx, 0, sizeof *fx);
	log_set_level(TTPD_LOG_ERR);
	ck_assert(asprintf(&dir, "%s/plugins/.libs",
	    tu_env("TTPD_BUILDDIR")) > 0);
	registry_init(&fx->reg);
	ruleset_init(&fx->rules);
	memset(&pc, 0, sizeof pc);
	pc.name = (char *)plugin;
	pc.origin = (char *)"lifterfx:1";
	ck_assert_msg(loader_load(&fx->reg, dir, &pc, err, sizeof err) == 0,
	    "%s", err);
	registry_finish(&fx->reg);
	fx->p = registry_find(&fx->reg, plugin);
	ck_assert(fx->p != NULL);
	free(dir);
}

void
lfx_close(struct lfx *fx)
{
	registry_free(&fx->reg);        /* releases the rules first */
	ruleset_free(&fx->rules);
}

struct rule *
lfx_add_yaml(struct lfx *fx, const char *yaml)
{
	char err[512];
	struct rule *r;

	r = rules_parse_buffer("inline.yaml", yaml, strlen(yaml), err,
	    sizeof err);
	ck_assert_msg(r != NULL, "%s", err);
	ruleset_push(&fx->rules, r);
	return r;
}

void
lfx_load_decnet(struct lfx *fx)
{
	char *dir;
	const char *dirs[1];

	ck_assert(asprintf(&dir, "%s/reference/decnet/rules",
	    tu_env("TTPD_SHARED_DIR")) > 0);
	dirs[0] = dir;
	ck_assert_int_eq(rules_load_dirs(dirs, 1, &fx->rules, lfx_report, fx),
	    0);
	ck_assert_int_eq((int)fx->rules.n, 59);
	free(dir);
}

int
lfx_assign(struct lfx *fx)
{
	return registry_assign_rules(&fx->reg, &fx->rules, lfx_report, fx);
}

void
lfx_run(struct lfx *fx, const char *kind, const char *payload_json,
    struct tag_list *out)
{
	struct tag_settings ts = { "v15.1" };
	struct timespec now;
	ttpd_value *payload;
	ttpd_event ev;
	char err[256];

	payload = jv_parse(payload_json, strlen(payload_json), err,
	    sizeof err);
	ck_assert_msg(payload != NULL, "%s: %s", payload_json, err);
	tag_list_truncate(out, 0);
	memset(&ev, 0, sizeof ev);
	ev.size = sizeof ev;
	ev.source_kind = kind;
	ev.source_id = "check-1";
	ev.attacker_uuid = "att-check";
	ev.payload = payload;
	clock_gettime(CLOCK_REALTIME, &now);
	ck_assert_int_eq(hostapi_run(fx->p, &ev, &ts,
	    (int64_t)now.tv_sec * 1000000000 + now.tv_nsec, out), TTPD_OK);
	jv_decref(payload);
}

size_t
lfx_count(const struct tag_list *l, const char *rule_id)
{
	size_t i, n = 0;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i].rule_id, rule_id) == 0)
			n++;
	return n;
}

int
lfx_evidence_is(const struct tag *t, const char *want)
{
	char err[256];
	ttpd_value *a = jv_parse(t->evidence, strlen(t->evidence), err,
	    sizeof err), *b = jv_parse(want, strlen(want), err, sizeof err);
	int eq;

	ck_assert_msg(a != NULL && b != NULL, "bad evidence JSON: %s", err);
	eq = jv_equal(a, b);
	if (!eq)
		fprintf(stderr, "evidence %s, want %s\n", t->evidence, want);
	jv_decref(a);
	jv_decref(b);
	return eq;
}
