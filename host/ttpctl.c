/*
 * ttpctl: the operator's tool.  Reads the same ttpd.conf as the daemon
 * (same -c and -o), loads plugins and rules the way `ttpd -t` does, and
 * works on the same database through host/store.c: rule listing and rule
 * state, tag rollups, an ATT&CK Navigator layer, DECNET's backfill.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "attack.h"
#include "conf.h"
#include "json.h"
#include "loader.h"
#include "log.h"
#include "pipeline.h"
#include "plugin.h"
#include "rules.h"
#include "startup.h"
#include "store.h"
#include "tag.h"
#include "xmalloc.h"

#ifndef TTPD_SYSCONFDIR
#define TTPD_SYSCONFDIR "/etc"
#endif
#define DEFAULT_CONFIG TTPD_SYSCONFDIR "/ttpd/ttpd.conf"

/* Exit status (documented in ttpctl(8) and --help). */
enum {
	EXIT_OK = 0,
	EXIT_ERROR = 1,   /* configuration, plugin, rule, bundle, database */
	EXIT_USAGE = 2,   /* bad command line: option, duration, number */
	EXIT_NORULE = 3,  /* no such rule id */
	EXIT_LOCKED = 4,  /* database locked longer than busy_timeout_ms */
	EXIT_DOWN = 5     /* status: ttpd not running, or its stats stale */
};

/* Navigator versions the layer declares (layer format 4.5). */
#define NAVIGATOR_VERSION "5.1.0"
#define LAYER_VERSION "4.5"

struct ctl {
	struct config cfg;
	struct startup su; /* plugins, rules, ATT&CK bundle; problems */
	struct store *store;
};

static const char *progname = "ttpctl";

static void
usage(FILE *fp)
{
	fprintf(fp,
"usage: ttpctl [-c file] [-o key=value]... command [options]\n"
"\n"
"Manage a running ttpd: rules and their state, tags, Navigator export,\n"
"backfill.  Reads the same configuration as ttpd.\n"
"\n"
"  -c, --config FILE     configuration file (default %s)\n"
"  -o, --option KEY=VAL  override a setting, as for ttpd; repeatable\n"
"  -h, --help            print this help and exit\n"
"  -V, --version         print the version and exit\n"
"\n"
"Commands (each takes --help):\n"
"  rules                 every rule: owner plugin, version, state, expiry\n"
"  rule show ID          one rule in full, with its stored state\n"
"  rule disable ID       [--for DUR] [--reason TEXT]\n"
"  rule enable ID        [--reason TEXT]\n"
"  rule clip ID          --max X [--for DUR] [--reason TEXT]\n"
"  tags                  [--attacker U | --identity U | --session S]\n"
"                        [--since T] [--json]\n"
"  navigator             [--since T] [-o FILE]\n"
"  backfill              [--since-days N] [--source command|canary|all]\n"
"                        [--dry-run] [--batch-size N]\n"
"  status                [--json] the running daemon's counters, per plugin\n"
"\n"
"Exit status: 0 success, 1 error (configuration, plugins, rules, ATT&CK\n"
"bundle, database), 2 usage (bad option, duration or number), 3 no such\n"
"rule, 4 database locked by another process, 5 (status) ttpd not running\n"
"or its stats file stale.  See ttpctl(8).\n",
	    DEFAULT_CONFIG);
}

static void
errx_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
errx_msg(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ------------------------------------------------------------ parsing */

/*
 * A duration: one or more <number><unit> with unit s, m, h, d or w
 * ("90s", "1h30m", "7d").  Seconds in *out; -1 when malformed or zero.
 */
static int
parse_duration(const char *s, int64_t *out)
{
	int64_t total = 0, n, mult;
	const char *p = s;
	char *end;

	if (s == NULL || *s == '\0')
		return -1;
	while (*p != '\0') {
		if (*p < '0' || *p > '9')
			return -1;
		errno = 0;
		n = strtoll(p, &end, 10);
		if (errno != 0 || end == p)
			return -1;
		switch (*end) {
		case 's': mult = 1; break;
		case 'm': mult = 60; break;
		case 'h': mult = 3600; break;
		case 'd': mult = 86400; break;
		case 'w': mult = 7 * 86400; break;
		default:
			return -1;
		}
		/* 100 years is plenty; beyond, refuse rather than overflow */
		if (n > INT64_C(3155760000) / mult ||
		    total + n * mult > INT64_C(3155760000))
			return -1;
		total += n * mult;
		p = end + 1;
	}
	if (total <= 0)
		return -1;
	*out = total;
	return 0;
}

static int
bad_duration(const char *opt, const char *s)
{
	errx_msg("%s '%s': bad duration: expected a number and a unit, e.g. "
	    "90s, 30m, 1h, 7d, 2w or 1h30m", opt, s);
	return EXIT_USAGE;
}

/*
 * --since: a duration back from now, or a UTC date "YYYY-MM-DD" or time
 * "YYYY-MM-DD HH:MM[:SS]" (also with 'T').  Writes DECNET's datetime text
 * into out.  0 or -1.
 */
static int
parse_since(const char *s, char out[TAG_TIME_LEN + 1])
{
	struct tm tm;
	int64_t secs;
	const char *end;
	time_t t;

	if (parse_duration(s, &secs) == 0) {
		tag_format_time(tag_now_ns() - secs * INT64_C(1000000000), out);
		return 0;
	}
	memset(&tm, 0, sizeof tm);
	if ((end = strptime(s, "%Y-%m-%d", &tm)) == NULL)
		return -1;
	if (*end == 'T' || *end == ' ') {
		const char *e2 = strptime(end + 1, "%H:%M:%S", &tm);

		if (e2 == NULL)
			e2 = strptime(end + 1, "%H:%M", &tm);
		if (e2 == NULL)
			return -1;
		end = e2;
		if (*end == 'Z')
			end++;
	}
	if (*end != '\0')
		return -1;
	/* straight from the broken-down time: years past 2262 do not fit
	 * tag_format_time()'s nanoseconds */
	if ((t = timegm(&tm)) == (time_t)-1 || gmtime_r(&t, &tm) == NULL ||
	    strftime(out, TAG_TIME_LEN + 1, "%Y-%m-%d %H:%M:%S.000000",
	    &tm) == 0)
		return -1;
	return 0;
}

static int
bad_since(const char *s)
{
	errx_msg("--since '%s': expected a duration back from now (7d, 12h, "
	    "1w) or a UTC date YYYY-MM-DD[ HH:MM[:SS]]", s);
	return EXIT_USAGE;
}

/* A whole number in [min, max]; 0 or -1. */
static int
parse_int(const char *s, long long min, long long max, long long *out)
{
	char *end;

	errno = 0;
	*out = strtoll(s, &end, 10);
	return (errno != 0 || end == s || *end != '\0' || *out < min ||
	    *out > max) ? -1 : 0;
}

/* ------------------------------------------------------------ set-up */

/*
 * Open the configured database.  With must_exist, a missing file is an
 * error (nothing to read); a missing file is otherwise left uncreated
 * and *absent set.  Returns EXIT_OK or an exit status (message printed).
 */
static int
open_store(struct ctl *c, int must_exist, int *absent)
{
	struct store_options so;
	struct stat st;
	char err[1024];
	int busy;

	if (absent != NULL)
		*absent = 0;
	if (strcmp(c->cfg.store_path, ":memory:") != 0 &&
	    stat(c->cfg.store_path, &st) != 0 && errno == ENOENT) {
		if (must_exist) {
			errx_msg("%s: no such database (store.path in %s)",
			    c->cfg.store_path, c->cfg.file);
			return EXIT_ERROR;
		}
		if (absent != NULL) {
			*absent = 1;
			return EXIT_OK;
		}
	}
	startup_store_options(&c->cfg, &so);
	c->store = store_open_ex(c->cfg.store_path, &so, &busy, err,
	    sizeof err);
	if (c->store != NULL)
		return EXIT_OK;
	if (busy) {
		errx_msg("%s (database locked by another process for more than "
		    "store.busy_timeout_ms = %lld ms; retry, or raise it with "
		    "-o store.busy_timeout_ms=N)", err,
		    (long long)c->cfg.store_busy_timeout_ms);
		return EXIT_LOCKED;
	}
	errx_msg("%s", err);
	return EXIT_ERROR;
}

/* A store call failed: the exit status and message for it. */
static int
store_failed(struct ctl *c)
{
	if (store_error_busy(c->store)) {
		errx_msg("%s (database locked by another process for more than "
		    "store.busy_timeout_ms = %lld ms; retry)",
		    store_error(c->store),
		    (long long)c->cfg.store_busy_timeout_ms);
		return EXIT_LOCKED;
	}
	errx_msg("%s", store_error(c->store));
	return EXIT_ERROR;
}

/*
 * What `ttpd -t` loads: plugins, rules, the ATT&CK bundle, and (when the
 * database exists) rule states, then rule ownership.  Problems are logged
 * and counted in c->su.problems; the caller decides whether they matter.
 */
static int
load_all(struct ctl *c, int with_plugins, int must_have_store)
{
	int rc, absent;

	startup_load(&c->su, &c->cfg, STARTUP_KEEP_ATTACK |
	    (with_plugins ? STARTUP_PLUGINS : 0));
	if ((rc = open_store(c, must_have_store, &absent)) != EXIT_OK)
		return rc;
	if (c->store != NULL && startup_rule_states(&c->su, c->store) != 0)
		return store_failed(c);
	startup_assign(&c->su);
	return EXIT_OK;
}

static void
ctl_free(struct ctl *c)
{
	startup_free(&c->su);
	if (c->store != NULL)
		store_close(c->store);
	config_free(&c->cfg);
}

/* -------------------------------------------------------- subcommands */

static int
want_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0)
			return 1;
	}
	return 0;
}

static const char *
state_name(enum rule_state_kind k)
{
	switch (k) {
	case RULE_STATE_DISABLED:
		return "disabled";
	case RULE_STATE_CLIPPED:
		return "clipped";
	case RULE_STATE_ENABLED:
		break;
	}
	return "enabled";
}

/* ------------------------------------------------------------- rules */

static const char rules_help[] =
"usage: ttpctl rules\n"
"\n"
"List every rule of rules.dirs: id, version, owner plugin (\"-\": no loaded\n"
"plugin owns it, the rule is inert), effective state, confidence ceiling,\n"
"expiry and file.  An expired state shows as enabled (ttpd reverts it).\n"
"Exit status 1 when a plugin or rule failed to load (printed on stderr).\n";

static int
cmd_rules(struct ctl *c, int argc, char **argv)
{
	int64_t now = tag_now_ns();
	char expires[TAG_TIME_LEN + 1], maxbuf[32];
	const struct rule *r;
	enum rule_state_kind eff;
	size_t i;
	int rc;

	if (want_help(argc, argv)) {
		fputs(rules_help, stdout);
		return EXIT_OK;
	}
	if (argc > 1) {
		errx_msg("rules: unexpected argument '%s'", argv[1]);
		fputs(rules_help, stderr);
		return EXIT_USAGE;
	}
	if ((rc = load_all(c, 1, 0)) != EXIT_OK)
		return rc;
	printf("%-12s %4s  %-18s %-9s %-5s %-26s %s\n", "RULE", "VER", "OWNER",
	    "STATE", "MAX", "EXPIRES", "FILE");
	for (i = 0; i < c->su.rules.n; i++) {
		r = c->su.rules.v[i];
		eff = rule_state_effective(&r->state, now);
		if (eff == RULE_STATE_CLIPPED && r->state.has_confidence_max)
			snprintf(maxbuf, sizeof maxbuf, "%.2f",
			    r->state.confidence_max);
		else
			snprintf(maxbuf, sizeof maxbuf, "-");
		if (r->state.expires_at_ns != 0 && eff != RULE_STATE_ENABLED)
			tag_format_time(r->state.expires_at_ns, expires);
		else
			snprintf(expires, sizeof expires, "-");
		printf("%-12s %4lld  %-18s %-9s %-5s %-26s %s\n",
		    r->pub.rule_id, (long long)r->pub.rule_version,
		    r->owner != NULL ? r->owner->name : "-", state_name(eff),
		    maxbuf, expires, r->pub.path != NULL ? r->pub.path : "");
	}
	return c->su.problems > 0 ? EXIT_ERROR : EXIT_OK;
}

/* -------------------------------------------------------------- rule */

static const char rule_help[] =
"usage: ttpctl rule show ID\n"
"       ttpctl rule disable ID [--for DUR] [--reason TEXT]\n"
"       ttpctl rule enable ID [--reason TEXT]\n"
"       ttpctl rule clip ID --max X [--for DUR] [--reason TEXT]\n"
"\n"
"show      the rule as loaded, its owner and its stored state\n"
"disable   stop the rule from tagging (for DUR, then it reverts)\n"
"enable    back to normal (a row with state enabled)\n"
"clip      cap its confidence at X, 0 <= X <= 1 (for DUR)\n"
"\n"
"  --for DUR      90s, 30m, 1h, 7d, 2w, 1h30m...: expires_at = now + DUR\n"
"  --max X        clip: the confidence ceiling\n"
"  --reason TEXT  stored in ttp_rule_state.reason\n"
"\n"
"The state is written to ttp_rule_state (DECNET's table) with set_by =\n"
"the invoking user ($SUDO_USER under sudo) and set_at = now; ttpd reads\n"
"ttp_rule_state at start-up (a running daemon re-reads it, see ttpd(8)).\n"
"Exit status 3 when no rule has that id.\n";

static void
print_emits(const struct ctl *c, const struct rule *r)
{
	const ttpd_emit *e;
	char *name;
	size_t k;

	for (k = 0; k < r->pub.n_emits; k++) {
		e = r->pub.emits[k];
		name = c->su.attack != NULL ? attack_name(c->su.attack,
		    e->sub_technique_id != NULL ? e->sub_technique_id :
		    e->technique_id) : NULL;
		printf("  - tactic %s technique %s%s%s confidence %g%s%s%s\n",
		    e->tactic, e->technique_id,
		    e->sub_technique_id != NULL ? " sub-technique " : "",
		    e->sub_technique_id != NULL ? e->sub_technique_id : "",
		    e->confidence, name != NULL ? " (" : "",
		    name != NULL ? name : "", name != NULL ? ")" : "");
		free(name);
	}
}

static int
rule_show(struct ctl *c, const struct rule *r)
{
	struct rule_state_row row;
	int64_t now = tag_now_ns();
	size_t k;
	int found = 0;

	printf("rule_id: %s\nrule_version: %lld\nname: %s\nfile: %s:%u\n",
	    r->pub.rule_id, (long long)r->pub.rule_version, r->pub.name,
	    r->pub.path != NULL ? r->pub.path : "?", r->pub.line);
	if (r->owner != NULL)
		printf("owner: %s (%s)\n", r->owner->name, r->owner->path);
	else
		printf("owner: none: match.kind %s belongs to no loaded plugin;"
		    " the rule is inert\n", r->pub.kind != NULL ?
		    r->pub.kind : "(none)");
	printf("match.kind: %s\napplies_to:", r->pub.kind != NULL ?
	    r->pub.kind : "(none: rule engine)");
	for (k = 0; k < r->pub.n_applies_to; k++)
		printf(" %s", r->pub.applies_to[k]);
	printf("\nemits:\n");
	print_emits(c, r);
	printf("evidence_fields:");
	for (k = 0; k < r->pub.n_evidence_fields; k++)
		printf(" %s", r->pub.evidence_fields[k]);
	printf("\nstate: %s\n", state_name(rule_state_effective(&r->state,
	    now)));
	if (c->store != NULL) {
		if ((found = store_rule_state_row(c->store, r->pub.rule_id,
		    &row)) < 0)
			return store_failed(c);
	}
	if (found) {
		printf("stored state: %s\n", row.state != NULL ? row.state :
		    "?");
		if (row.has_confidence_max)
			printf("confidence_max: %g\n", row.confidence_max);
		printf("expires_at: %s%s\n", row.expires_at != NULL ?
		    row.expires_at : "never", r->state.expires_at_ns != 0 &&
		    r->state.expires_at_ns <= now ? " (expired: reverted to "
		    "enabled)" : "");
		printf("reason: %s\nset_by: %s\nset_at: %s\n",
		    row.reason != NULL ? row.reason : "",
		    row.set_by != NULL ? row.set_by : "",
		    row.set_at != NULL ? row.set_at : "");
		rule_state_row_free(&row);
	} else
		printf("stored state: none (default: enabled)\n");
	if (r->description != NULL && *r->description != '\0') {
		const char *p = r->description, *nl;

		printf("description: |\n");
		for (; *p != '\0'; p = *nl != '\0' ? nl + 1 : nl) {
			if ((nl = strchr(p, '\n')) == NULL)
				nl = p + strlen(p);
			printf("%s%.*s\n", nl > p ? "  " : "", (int)(nl - p),
			    p);
		}
	}
	return EXIT_OK;
}

/* The invoking operator: $SUDO_USER under sudo, else the login name. */
static char *
invoking_user(void)
{
	const char *sudo = getenv("SUDO_USER");
	struct passwd *pw;

	if (getuid() == 0 && sudo != NULL && *sudo != '\0')
		return xstrdup(sudo);
	if ((pw = getpwuid(getuid())) != NULL && pw->pw_name != NULL)
		return xstrdup(pw->pw_name);
	return xasprintf("uid:%lu", (unsigned long)getuid());
}

enum { OPT_FOR = 256, OPT_MAX, OPT_REASON, OPT_ATTACKER, OPT_IDENTITY,
	OPT_SESSION, OPT_SINCE, OPT_JSON, OPT_SINCE_DAYS, OPT_SOURCE,
	OPT_DRY_RUN, OPT_BATCH_SIZE, OPT_HELP };

static int
cmd_rule(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "for", required_argument, NULL, OPT_FOR },
		{ "max", required_argument, NULL, OPT_MAX },
		{ "reason", required_argument, NULL, OPT_REASON },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 }
	};
	const char *action, *id, *for_s = NULL, *max_s = NULL, *reason = NULL;
	char setat[TAG_TIME_LEN + 1], expires[TAG_TIME_LEN + 1];
	struct rule_state_row row;
	const struct rule *r;
	int64_t dur = 0;
	double max = 0;
	char *end;
	int ch, rc;

	if (want_help(argc, argv)) {
		fputs(rule_help, stdout);
		return EXIT_OK;
	}
	if (argc < 2) {
		errx_msg("rule: missing action (show, disable, enable, clip)");
		fputs(rule_help, stderr);
		return EXIT_USAGE;
	}
	action = argv[1];
	if (strcmp(action, "show") != 0 && strcmp(action, "disable") != 0 &&
	    strcmp(action, "enable") != 0 && strcmp(action, "clip") != 0) {
		errx_msg("rule: unknown action '%s' (show, disable, enable, "
		    "clip)", action);
		return EXIT_USAGE;
	}
	/* argv[1] (the action) plays argv[0]; GNU getopt moves the id
	 * behind the options */
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
		switch (ch) {
		case OPT_FOR:
			for_s = optarg;
			break;
		case OPT_MAX:
			max_s = optarg;
			break;
		case OPT_REASON:
			reason = optarg;
			break;
		default:
			errx_msg("rule %s: unknown option or missing value "
			    "'%s'", action, argv[optind]);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc - 1) {
		errx_msg("rule %s: missing rule id", action);
		return EXIT_USAGE;
	}
	id = argv[1 + optind];
	if (optind + 1 < argc - 1) {
		errx_msg("rule %s: unexpected argument '%s'", action,
		    argv[2 + optind]);
		return EXIT_USAGE;
	}
	if (strcmp(action, "show") == 0 && (for_s || max_s || reason)) {
		errx_msg("rule show takes no options");
		return EXIT_USAGE;
	}
	if (strcmp(action, "enable") == 0 && (for_s || max_s)) {
		errx_msg("rule enable: --for and --max do not apply (an "
		    "enabled rule has no expiry or ceiling)");
		return EXIT_USAGE;
	}
	if (strcmp(action, "disable") == 0 && max_s != NULL) {
		errx_msg("rule disable: --max only applies to clip");
		return EXIT_USAGE;
	}
	if (strcmp(action, "clip") == 0) {
		if (max_s == NULL) {
			errx_msg("rule clip: --max X is required (the "
			    "confidence ceiling, 0 <= X <= 1)");
			return EXIT_USAGE;
		}
		errno = 0;
		max = strtod(max_s, &end);
		if (errno != 0 || end == max_s || *end != '\0' ||
		    !isfinite(max) || max < 0 || max > 1) {
			errx_msg("rule clip: --max '%s': expected a number "
			    "from 0 to 1", max_s);
			return EXIT_USAGE;
		}
	}
	if (for_s != NULL && parse_duration(for_s, &dur) < 0)
		return bad_duration("--for", for_s);

	if ((rc = load_all(c, 1, 0)) != EXIT_OK)
		return rc;
	if ((r = ruleset_find(&c->su.rules, id)) == NULL) {
		errx_msg("no rule '%s' in rules.dirs (%s%s); see ttpctl rules",
		    id, c->cfg.nrules_dirs > 0 ? c->cfg.rules_dirs[0] : "",
		    c->cfg.nrules_dirs > 1 ? ", ..." : "");
		return EXIT_NORULE;
	}
	if (strcmp(action, "show") == 0)
		return rule_show(c, r);

	if (c->store == NULL && (rc = open_store(c, 0, NULL)) != EXIT_OK)
		return rc;
	memset(&row, 0, sizeof row);
	row.rule_id = xstrdup(id);
	row.state = xstrdup(strcmp(action, "disable") == 0 ? "disabled" :
	    strcmp(action, "clip") == 0 ? "clipped" : "enabled");
	if (strcmp(action, "clip") == 0) {
		row.has_confidence_max = 1;
		row.confidence_max = max;
	}
	tag_format_time(tag_now_ns(), setat);
	row.set_at = xstrdup(setat);
	if (dur > 0) {
		tag_format_time(tag_now_ns() + dur * INT64_C(1000000000),
		    expires);
		row.expires_at = xstrdup(expires);
	}
	row.reason = xstrdup_or_null(reason);
	row.set_by = invoking_user();
	if (store_set_rule_state(c->store, &row) != 0) {
		rule_state_row_free(&row);
		return store_failed(c);
	}
	printf("rule %s: %s", id, row.state);
	if (row.has_confidence_max)
		printf(" (confidence at most %g)", row.confidence_max);
	if (row.expires_at != NULL)
		printf(" until %s UTC", row.expires_at);
	printf(", set by %s", row.set_by);
	if (reason != NULL)
		printf(": %s", reason);
	printf("\n");
	if (r->owner == NULL)
		printf("note: no loaded plugin owns rule %s; the state is "
		    "stored but the rule is inert\n", id);
	rule_state_row_free(&row);
	return EXIT_OK;
}

/* -------------------------------------------------------------- tags */

static const char tags_help[] =
"usage: ttpctl tags [--attacker UUID | --identity UUID | --session ID]\n"
"                   [--since T] [--json]\n"
"\n"
"DECNET's technique rollups: the tags of the whole fleet, of one attacker\n"
"(attacker_uuid), one identity (identity_uuid, or an attacker whose\n"
"attackers.identity_id is it) or one session, grouped by technique and\n"
"sub-technique: tactics, count, first and last seen, highest confidence.\n"
"Names come from the ATT&CK bundle (attack.bundle).\n"
"\n"
"  --since T   only tags created since T: a duration back from now (7d,\n"
"              12h, 1w) or a UTC date YYYY-MM-DD[ HH:MM[:SS]]\n"
"  --json      one JSON array of objects instead of a table\n";

struct rollup_row {
	char *technique_id, *sub_technique_id, *tactics;
	char *first_seen, *last_seen;
	int64_t count;
	double max_confidence;
};

struct rollup_list {
	struct rollup_row *v;
	size_t n;
};

static void
collect_rollup(void *ud, const struct store_rollup *r)
{
	struct rollup_list *l = ud;
	struct rollup_row *o;

	l->v = xreallocarray(l->v, l->n + 1, sizeof *l->v);
	o = &l->v[l->n++];
	o->technique_id = xstrdup(r->technique_id);
	o->sub_technique_id = xstrdup_or_null(r->sub_technique_id);
	o->tactics = xstrdup(r->tactics != NULL ? r->tactics : "");
	o->first_seen = xstrdup(r->first_seen != NULL ? r->first_seen : "");
	o->last_seen = xstrdup(r->last_seen != NULL ? r->last_seen : "");
	o->count = r->count;
	o->max_confidence = r->max_confidence;
}

static void
rollup_free(struct rollup_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].technique_id);
		free(l->v[i].sub_technique_id);
		free(l->v[i].tactics);
		free(l->v[i].first_seen);
		free(l->v[i].last_seen);
	}
	free(l->v);
}

/* Sorted, de-duplicated copy of a comma-separated tactic list. */
static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *
sorted_tactics(const char *list)
{
	char *copy = xstrdup(list), *tok, *save = NULL, **v = NULL, *out;
	size_t n = 0, i, len = 1;

	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		v = xreallocarray(v, n + 1, sizeof *v);
		v[n++] = tok;
		len += strlen(tok) + 1;
	}
	if (n > 0)
		qsort(v, n, sizeof *v, cmp_str);
	out = xcalloc(1, len);
	for (i = 0; i < n; i++) {
		if (i > 0 && strcmp(v[i], v[i - 1]) == 0)
			continue;
		if (*out != '\0')
			strcat(out, ",");
		strcat(out, v[i]);
	}
	free(v);
	free(copy);
	return out;
}

static ttpd_value *
str_or_null(const char *s)
{
	return s != NULL ? jv_new_string(s, strlen(s)) : jv_new_null();
}

static int
cmd_tags(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "attacker", required_argument, NULL, OPT_ATTACKER },
		{ "identity", required_argument, NULL, OPT_IDENTITY },
		{ "session", required_argument, NULL, OPT_SESSION },
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 }
	};
	enum store_scope scope = STORE_SCOPE_ALL;
	const char *key = NULL, *since_s = NULL;
	char since[TAG_TIME_LEN + 1];
	struct rollup_list l = { NULL, 0 };
	ttpd_value *arr, *o, *tl;
	char *tactics, *tok, *save = NULL, *name, *subname, *url, *text;
	int ch, json = 0, nscope = 0, rc;
	size_t i;

	if (want_help(argc, argv)) {
		fputs(tags_help, stdout);
		return EXIT_OK;
	}
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case OPT_ATTACKER:
			scope = STORE_SCOPE_ATTACKER;
			key = optarg;
			nscope++;
			break;
		case OPT_IDENTITY:
			scope = STORE_SCOPE_IDENTITY;
			key = optarg;
			nscope++;
			break;
		case OPT_SESSION:
			scope = STORE_SCOPE_SESSION;
			key = optarg;
			nscope++;
			break;
		case OPT_SINCE:
			since_s = optarg;
			break;
		case OPT_JSON:
			json = 1;
			break;
		default:
			errx_msg("tags: unknown option or missing value '%s'",
			    argv[optind - 1]);
			fputs(tags_help, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		errx_msg("tags: unexpected argument '%s'", argv[optind]);
		return EXIT_USAGE;
	}
	if (nscope > 1) {
		errx_msg("tags: give at most one of --attacker, --identity, "
		    "--session");
		return EXIT_USAGE;
	}
	if (since_s != NULL && parse_since(since_s, since) < 0)
		return bad_since(since_s);

	/* Names only need the bundle; no plugins. */
	if ((rc = load_all(c, 0, 1)) != EXIT_OK)
		return rc;
	if (store_rollup(c->store, scope, key, since_s != NULL ? since : NULL,
	    collect_rollup, &l) < 0) {
		rollup_free(&l);
		return store_failed(c);
	}
	if (json)
		arr = jv_new_array();
	else
		printf("%-10s %-10s %-50s %-16s %7s %-26s %-26s %s\n",
		    "TECHNIQUE", "SUB", "NAME", "TACTICS", "COUNT",
		    "FIRST_SEEN", "LAST_SEEN", "MAX_CONF");
	for (i = 0; i < l.n; i++) {
		const struct rollup_row *r = &l.v[i];

		name = c->su.attack != NULL ? attack_name(c->su.attack,
		    r->technique_id) : NULL;
		subname = c->su.attack != NULL && r->sub_technique_id != NULL ?
		    attack_name(c->su.attack, r->sub_technique_id) : NULL;
		tactics = sorted_tactics(r->tactics);
		if (!json) {
			printf("%-10s %-10s %-50s %-16s %7lld %-26s %-26s "
			    "%.2f\n", r->technique_id,
			    r->sub_technique_id != NULL ? r->sub_technique_id :
			    "-", subname != NULL ? subname : name != NULL ?
			    name : "-", tactics, (long long)r->count,
			    r->first_seen, r->last_seen, r->max_confidence);
		} else {
			o = jv_new_object();
			jv_object_set_new(o, "technique_id",
			    str_or_null(r->technique_id));
			jv_object_set_new(o, "technique_name",
			    str_or_null(name));
			jv_object_set_new(o, "sub_technique_id",
			    str_or_null(r->sub_technique_id));
			jv_object_set_new(o, "sub_technique_name",
			    str_or_null(subname));
			tl = jv_new_array();
			for (tok = strtok_r(tactics, ",", &save); tok != NULL;
			    tok = strtok_r(NULL, ",", &save))
				jv_array_append_new(tl, str_or_null(tok));
			jv_object_set_new(o, "tactics", tl);
			jv_object_set_new(o, "count", jv_new_int(r->count));
			jv_object_set_new(o, "first_seen",
			    str_or_null(r->first_seen));
			jv_object_set_new(o, "last_seen",
			    str_or_null(r->last_seen));
			jv_object_set_new(o, "max_confidence",
			    jv_new_real(r->max_confidence));
			/* the bundle, when loaded, decides what is known */
			url = (c->su.attack == NULL || (r->sub_technique_id != NULL
			    ? subname : name) != NULL) ? tag_mitre_url(
			    r->technique_id, r->sub_technique_id) : NULL;
			jv_object_set_new(o, "mitre_url", str_or_null(url));
			free(url);
			jv_array_append_new(arr, o);
		}
		free(tactics);
		free(name);
		free(subname);
	}
	if (json) {
		text = jv_dump(arr);
		printf("%s\n", text != NULL ? text : "[]");
		free(text);
		jv_decref(arr);
	}
	rollup_free(&l);
	return EXIT_OK;
}

/* --------------------------------------------------------- navigator */

static const char navigator_help[] =
"usage: ttpctl navigator [--since T] [-o FILE]\n"
"\n"
"Write an ATT&CK Navigator layer (layer format " LAYER_VERSION ", domain\n"
"enterprise-attack) of every technique and sub-technique tagged in the\n"
"database, scored by its number of tags: a technique counts all its tags,\n"
"a sub-technique those naming it.  Open it in the Navigator with \"Open\n"
"Existing Layer\".\n"
"\n"
"  --since T       only tags created since T (7d, 12h, YYYY-MM-DD...)\n"
"  -o, --output F  write to F instead of standard output\n";

struct nav_entry {
	char *id;
	int64_t score;
	char *tactics;
	int has_subs;
};

struct nav {
	struct nav_entry *v;
	size_t n;
};

static struct nav_entry *
nav_get(struct nav *nv, const char *id)
{
	size_t i;

	for (i = 0; i < nv->n; i++)
		if (strcmp(nv->v[i].id, id) == 0)
			return &nv->v[i];
	nv->v = xreallocarray(nv->v, nv->n + 1, sizeof *nv->v);
	memset(&nv->v[nv->n], 0, sizeof nv->v[nv->n]);
	nv->v[nv->n].id = xstrdup(id);
	nv->v[nv->n].tactics = xstrdup("");
	return &nv->v[nv->n++];
}

static void
nav_add_tactics(struct nav_entry *e, const char *tactics)
{
	char *joined = *e->tactics != '\0' ? xasprintf("%s,%s", e->tactics,
	    tactics) : xstrdup(tactics);

	free(e->tactics);
	e->tactics = sorted_tactics(joined);
	free(joined);
}

static int
nav_cmp(const void *a, const void *b)
{
	return strcmp(((const struct nav_entry *)a)->id,
	    ((const struct nav_entry *)b)->id);
}

/* "18" out of "v18.1" / "18.1". */
static char *
attack_major(const char *release)
{
	const char *p = release;
	size_t n = 0;

	if (p == NULL)
		return xstrdup("15");
	if (*p == 'v' || *p == 'V')
		p++;
	while (p[n] >= '0' && p[n] <= '9')
		n++;
	return n > 0 ? xstrndup(p, n) : xstrdup("15");
}

static int
cmd_navigator(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 }
	};
	const char *since_s = NULL, *outpath = NULL;
	char since[TAG_TIME_LEN + 1], *text, *major, *name, *comment, *title;
	struct rollup_list l = { NULL, 0 };
	struct nav nv = { NULL, 0 };
	struct nav_entry *e;
	ttpd_value *layer, *o, *arr;
	int64_t maxscore = 0;
	size_t i;
	FILE *fp;
	int ch, rc;

	if (want_help(argc, argv)) {
		fputs(navigator_help, stdout);
		return EXIT_OK;
	}
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (ch) {
		case OPT_SINCE:
			since_s = optarg;
			break;
		case 'o':
			outpath = optarg;
			break;
		default:
			errx_msg("navigator: unknown option or missing value "
			    "'%s'", argv[optind - 1]);
			fputs(navigator_help, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		errx_msg("navigator: unexpected argument '%s'", argv[optind]);
		return EXIT_USAGE;
	}
	if (since_s != NULL && parse_since(since_s, since) < 0)
		return bad_since(since_s);
	if ((rc = load_all(c, 0, 1)) != EXIT_OK)
		return rc;
	if (store_rollup(c->store, STORE_SCOPE_ALL, NULL, since_s != NULL ?
	    since : NULL, collect_rollup, &l) < 0) {
		rollup_free(&l);
		return store_failed(c);
	}
	for (i = 0; i < l.n; i++) {
		e = nav_get(&nv, l.v[i].technique_id);
		e->score += l.v[i].count;
		nav_add_tactics(e, l.v[i].tactics);
		if (l.v[i].sub_technique_id != NULL) {
			e->has_subs = 1;
			e = nav_get(&nv, l.v[i].sub_technique_id);
			e->score += l.v[i].count;
			nav_add_tactics(e, l.v[i].tactics);
		}
	}
	rollup_free(&l);
	if (nv.n > 0)
		qsort(nv.v, nv.n, sizeof *nv.v, nav_cmp);

	major = attack_major(c->su.attack != NULL && attack_version(c->su.attack) !=
	    NULL ? attack_version(c->su.attack) : c->cfg.attack_release);
	layer = jv_new_object();
	title = xasprintf("ttpd tags%s%s", since_s != NULL ? " since " : "",
	    since_s != NULL ? since : "");
	jv_object_set_new(layer, "name", str_or_null(title));
	free(title);
	o = jv_new_object();
	jv_object_set_new(o, "attack", str_or_null(major));
	jv_object_set_new(o, "navigator", str_or_null(NAVIGATOR_VERSION));
	jv_object_set_new(o, "layer", str_or_null(LAYER_VERSION));
	jv_object_set_new(layer, "versions", o);
	free(major);
	jv_object_set_new(layer, "domain", str_or_null("enterprise-attack"));
	jv_object_set_new(layer, "description", str_or_null("ATT&CK "
	    "techniques tagged by ttpd, scored by number of tags"));
	jv_object_set_new(layer, "sorting", jv_new_int(3));
	o = jv_new_object();
	jv_object_set_new(o, "layout", str_or_null("side"));
	jv_object_set_new(o, "showID", jv_new_bool(1));
	jv_object_set_new(o, "showName", jv_new_bool(1));
	jv_object_set_new(layer, "layout", o);
	jv_object_set_new(layer, "hideDisabled", jv_new_bool(0));
	arr = jv_new_array();
	for (i = 0; i < nv.n; i++) {
		e = &nv.v[i];
		if (e->score > maxscore)
			maxscore = e->score;
		o = jv_new_object();
		jv_object_set_new(o, "techniqueID", str_or_null(e->id));
		jv_object_set_new(o, "score", jv_new_int(e->score));
		name = c->su.attack != NULL ? attack_name(c->su.attack, e->id) : NULL;
		comment = xasprintf("%s%s%lld tag%s; tactics %s",
		    name != NULL ? name : "", name != NULL ? ": " : "",
		    (long long)e->score, e->score == 1 ? "" : "s",
		    e->tactics);
		jv_object_set_new(o, "comment", str_or_null(comment));
		free(comment);
		free(name);
		jv_object_set_new(o, "enabled", jv_new_bool(1));
		if (strchr(e->id, '.') == NULL)
			jv_object_set_new(o, "showSubtechniques",
			    jv_new_bool(e->has_subs));
		jv_array_append_new(arr, o);
	}
	jv_object_set_new(layer, "techniques", arr);
	o = jv_new_object();
	arr = jv_new_array();
	jv_array_append_new(arr, str_or_null("#ffffffff"));
	jv_array_append_new(arr, str_or_null("#ff6666ff"));
	jv_object_set_new(o, "colors", arr);
	jv_object_set_new(o, "minValue", jv_new_int(0));
	jv_object_set_new(o, "maxValue", jv_new_int(maxscore > 0 ? maxscore :
	    1));
	jv_object_set_new(layer, "gradient", o);
	jv_object_set_new(layer, "legendItems", jv_new_array());
	jv_object_set_new(layer, "metadata", jv_new_array());
	jv_object_set_new(layer, "showTacticRowBackground", jv_new_bool(0));
	jv_object_set_new(layer, "selectTechniquesAcrossTactics",
	    jv_new_bool(1));
	jv_object_set_new(layer, "selectSubtechniquesWithParent",
	    jv_new_bool(0));
	for (i = 0; i < nv.n; i++) {
		free(nv.v[i].id);
		free(nv.v[i].tactics);
	}
	free(nv.v);

	text = jv_dump(layer);
	jv_decref(layer);
	if (text == NULL) {
		errx_msg("navigator: cannot serialise the layer");
		return EXIT_ERROR;
	}
	fp = outpath != NULL && strcmp(outpath, "-") != 0 ?
	    fopen(outpath, "w") : stdout;
	if (fp == NULL) {
		errx_msg("%s: %s", outpath, strerror(errno));
		free(text);
		return EXIT_ERROR;
	}
	fprintf(fp, "%s\n", text);
	free(text);
	if (fp != stdout && fclose(fp) != 0) {
		errx_msg("%s: %s", outpath, strerror(errno));
		return EXIT_ERROR;
	}
	if (fp != stdout)
		fprintf(stderr, "%s: %zu techniques written to %s\n", progname,
		    nv.n, outpath);
	return EXIT_OK;
}

/* ---------------------------------------------------------- backfill */

static const char backfill_help[] =
"usage: ttpctl backfill [--since-days N] [--source command|canary|all]\n"
"                       [--dry-run] [--batch-size N]\n"
"\n"
"DECNET's ttp-backfill: run the history kept in a DECNET database through\n"
"the loaded plugins and rules and store the tags, without a bus (nothing\n"
"is published).  Tag uuids are deterministic, so running it again inserts\n"
"nothing new.\n"
"\n"
"  command: every attackers row with last_seen in the window; each entry\n"
"           of its commands JSON is a command event; the text is read\n"
"           from \"command\" (where DECNET's profiler puts it), else\n"
"           \"command_text\", else \"text\"\n"
"  canary:  every canary_triggers row with occurred_at in the window\n"
"\n"
"  --since-days N   window, 1..3650 days back from now (default 7)\n"
"  --source S       command, canary or all (default all: command, canary)\n"
"  --dry-run        tag but write nothing\n"
"  --batch-size N   tags per transaction, 1..100000 (default 500)\n"
"\n"
"One summary line per source: source=command rows=R commands=C tags=T\n"
"inserted=I dry_run=B elapsed_s=S\n";

struct backfill {
	struct pipeline *pl;
	uint64_t rows, commands;
	int failed;
};

static int
feed(struct backfill *b, ttpd_value *ev)
{
	int rc = pipeline_line(b->pl, ev, "backfill", (unsigned long)
	    (b->rows + b->commands));

	jv_decref(ev);
	if (rc != 0)
		b->failed = 1;
	return rc;
}

static ttpd_value *
make_event(const char *kind, const char *source_id, const char *attacker,
    const char *identity, const char *session, const char *decky,
    ttpd_value *payload)
{
	ttpd_value *ev = jv_new_object();

	jv_object_set_new(ev, "source_kind", str_or_null(kind));
	jv_object_set_new(ev, "source_id", str_or_null(source_id));
	jv_object_set_new(ev, "attacker_uuid", str_or_null(attacker));
	jv_object_set_new(ev, "identity_uuid", str_or_null(identity));
	jv_object_set_new(ev, "session_id", str_or_null(session));
	jv_object_set_new(ev, "decky_id", str_or_null(decky));
	jv_object_set_new(ev, "payload", payload);
	return ev;
}

/* A member as a string the way Python's str() would give an id: strings
 * as they are, integers in decimal; NULL for anything else or "". */
static char *
id_string(const ttpd_value *v)
{
	int64_t i;
	const char *s;

	if ((s = jv_string(v)) != NULL)
		return *s != '\0' ? xstrdup(s) : NULL;
	if (jv_get_int(v, &i) == TTPD_OK && i != 0)
		return xasprintf("%lld", (long long)i);
	return NULL;
}

static int
backfill_attacker(void *ud, const char *uuid, const char *identity_id,
    const char *commands)
{
	static const char *const id_keys[] = { "id", "uuid", "command_id" };
	static const char *const text_keys[] = { "command", "command_text",
	    "text" };
	struct backfill *b = ud;
	const ttpd_value *entry, *tv;
	ttpd_value *list, *payload;
	char perr[128], *sid, *sess, *decky;
	const char *text;
	size_t i, k;

	b->rows++;
	if (uuid == NULL || commands == NULL)
		return 0;
	list = jv_parse(commands, strlen(commands), perr, sizeof perr);
	if (list == NULL || jv_type(list) != TTPD_VT_ARRAY) {
		log_info("backfill: attacker %s: commands is not a JSON list; "
		    "skipped", uuid);
		if (list != NULL)
			jv_decref(list);
		return 0;
	}
	for (i = 0; i < jv_array_size(list); i++) {
		entry = jv_array_get(list, i);
		if (jv_type(entry) != TTPD_VT_OBJECT)
			continue;
		b->commands++;
		text = NULL;
		for (k = 0; k < 3 && text == NULL; k++) {
			tv = jv_object_get(entry, text_keys[k]);
			if (jv_string(tv) != NULL && *jv_string(tv) != '\0')
				text = jv_string(tv);
		}
		if (text == NULL)
			continue; /* counted, as DECNET does */
		sid = NULL;
		for (k = 0; k < 3 && sid == NULL; k++)
			sid = id_string(jv_object_get(entry, id_keys[k]));
		if (sid == NULL)
			sid = xasprintf("%s#cmd%zu", uuid, i);
		sess = id_string(jv_object_get(entry, "session_id"));
		decky = id_string(jv_object_get(entry, "decky_id"));
		if (decky == NULL)
			decky = id_string(jv_object_get(entry, "decky"));
		payload = jv_copy_object(entry);
		jv_object_set_new(payload, "command_text", str_or_null(text));
		if (feed(b, make_event("command", sid, uuid, identity_id, sess,
		    decky, payload)) != 0) {
			free(sid);
			free(sess);
			free(decky);
			jv_decref(list);
			return -1;
		}
		free(sid);
		free(sess);
		free(decky);
	}
	jv_decref(list);
	return 0;
}

static int
backfill_canary(void *ud, const struct store_canary_trigger *t)
{
	struct backfill *b = ud;
	ttpd_value *payload, *headers = NULL;
	char perr[128];

	b->rows++;
	if (t->uuid == NULL)
		return 0;
	payload = jv_new_object();
	jv_object_set_new(payload, "token_uuid", str_or_null(t->token_uuid));
	jv_object_set_new(payload, "src_ip", str_or_null(t->src_ip));
	jv_object_set_new(payload, "ua_signature", str_or_null(
	    t->user_agent != NULL ? t->user_agent : ""));
	jv_object_set_new(payload, "user_agent", str_or_null(t->user_agent));
	jv_object_set_new(payload, "request_path",
	    str_or_null(t->request_path));
	jv_object_set_new(payload, "dns_qname", str_or_null(t->dns_qname));
	if (t->raw_headers != NULL)
		headers = jv_parse(t->raw_headers, strlen(t->raw_headers),
		    perr, sizeof perr);
	if (headers == NULL || jv_type(headers) != TTPD_VT_OBJECT) {
		if (headers != NULL)
			jv_decref(headers);
		headers = jv_new_object();
	}
	jv_object_set_new(payload, "headers", headers);
	return feed(b, make_event("canary_fingerprint", t->uuid,
	    t->attacker_id, NULL, NULL, NULL, payload));
}

static double
elapsed_s(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) +
	    (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static int
cmd_backfill(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "since-days", required_argument, NULL, OPT_SINCE_DAYS },
		{ "source", required_argument, NULL, OPT_SOURCE },
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ "batch-size", required_argument, NULL, OPT_BATCH_SIZE },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 }
	};
	long long days = 7, batch = 500;
	const char *source = "all";
	char cutoff[TAG_TIME_LEN + 1];
	struct pipeline pl;
	struct backfill b;
	struct timespec t0;
	uint64_t ins0, tags0;
	int ch, rc, dry = 0, r, pass, failed = 0;

	if (want_help(argc, argv)) {
		fputs(backfill_help, stdout);
		return EXIT_OK;
	}
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case OPT_SINCE_DAYS:
			if (parse_int(optarg, 1, 3650, &days) < 0) {
				errx_msg("backfill: --since-days '%s': "
				    "expected a whole number from 1 to 3650",
				    optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_SOURCE:
			source = optarg;
			if (strcmp(source, "command") != 0 &&
			    strcmp(source, "canary") != 0 &&
			    strcmp(source, "all") != 0) {
				errx_msg("backfill: --source '%s': expected "
				    "command, canary or all", source);
				return EXIT_USAGE;
			}
			break;
		case OPT_DRY_RUN:
			dry = 1;
			break;
		case OPT_BATCH_SIZE:
			if (parse_int(optarg, 1, 100000, &batch) < 0) {
				errx_msg("backfill: --batch-size '%s': "
				    "expected a whole number from 1 to 100000",
				    optarg);
				return EXIT_USAGE;
			}
			break;
		default:
			errx_msg("backfill: unknown option or missing value "
			    "'%s'", argv[optind - 1]);
			fputs(backfill_help, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		errx_msg("backfill: unexpected argument '%s'", argv[optind]);
		return EXIT_USAGE;
	}
	if ((rc = load_all(c, 1, 1)) != EXIT_OK)
		return rc;
	if (c->su.problems > 0) {
		errx_msg("backfill refused: fix the problems above (the same "
		    "check as ttpd -t)");
		return EXIT_ERROR;
	}
	tag_format_time(tag_now_ns() - days * 86400 * INT64_C(1000000000),
	    cutoff);
	printf("backfill since=%s source=%s dry_run=%s batch_size=%lld\n",
	    cutoff, source, dry ? "true" : "false", batch);
	fflush(stdout);

	/* The store connection both reads history and writes tags: reads
	 * are streamed, writes happen between rows in one transaction per
	 * batch (SQLite allows that on one connection in WAL mode). */
	pipeline_init(&pl, &c->su.reg, dry ? NULL : c->store);
	pl.ts.attack_release = c->cfg.attack_release;
	pl.batch_size = (size_t)batch;
	pl.max_line_bytes = (size_t)c->cfg.max_event_bytes;
	for (pass = 0; pass < 2; pass++) {
		const char *name = pass == 0 ? "command" : "canary";

		if (strcmp(source, "all") != 0 && strcmp(source, name) != 0)
			continue;
		memset(&b, 0, sizeof b);
		b.pl = &pl;
		ins0 = pl.st.inserted;
		tags0 = pl.st.tags;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		r = pass == 0 ?
		    store_each_attacker_commands(c->store, cutoff,
		    backfill_attacker, &b) :
		    store_each_canary_trigger(c->store, cutoff,
		    backfill_canary, &b);
		if (r >= 0 && pipeline_flush(&pl) != 0)
			b.failed = 1;
		if (r < 0 && !b.failed) {
			rc = store_failed(c);
			pipeline_free(&pl);
			return rc;
		}
		if (r == 0) {
			if (strcmp(source, "all") != 0) {
				errx_msg("%s: no %s table: not a DECNET "
				    "database?", store_path(c->store),
				    pass == 0 ? "attackers" :
				    "canary_triggers");
				pipeline_free(&pl);
				return EXIT_ERROR;
			}
			log_notice("%s: no %s table; source %s skipped",
			    store_path(c->store), pass == 0 ? "attackers" :
			    "canary_triggers", name);
		}
		if (pass == 0)
			printf("source=command rows=%llu commands=%llu "
			    "tags=%llu inserted=%llu dry_run=%s "
			    "elapsed_s=%.2f\n", (unsigned long long)b.rows,
			    (unsigned long long)b.commands,
			    (unsigned long long)(pl.st.tags - tags0),
			    (unsigned long long)(pl.st.inserted - ins0),
			    dry ? "true" : "false", elapsed_s(&t0));
		else
			printf("source=canary rows=%llu tags=%llu "
			    "inserted=%llu dry_run=%s elapsed_s=%.2f\n",
			    (unsigned long long)b.rows,
			    (unsigned long long)(pl.st.tags - tags0),
			    (unsigned long long)(pl.st.inserted - ins0),
			    dry ? "true" : "false", elapsed_s(&t0));
		fflush(stdout);
		if (b.failed) {
			failed = 1;
			break;
		}
	}
	if (pipeline_errors(&pl) > 0 || failed) {
		errx_msg("backfill: %llu errors (see above)",
		    (unsigned long long)pipeline_errors(&pl));
		failed = 1;
	}
	pipeline_free(&pl);
	return failed ? EXIT_ERROR : EXIT_OK;
}

/* ------------------------------------------------------------ status */

static const char status_help[] =
"usage: ttpctl status [--json]\n"
"\n"
"The running daemon's counters: messages, tags, errors, and per plugin\n"
"the events handled, tags produced, errors, emits refused by rule state\n"
"and the time spent in handle().  Read from daemon.stats_file, which the\n"
"daemon rewrites at every heartbeat (bus.heartbeat_s).\n"
"\n"
"  --json   print the stats file's JSON object as it is\n"
"\n"
"Exit status: 0 running, 1 no stats file configured or unreadable, 5 the\n"
"daemon is not running (stopped, or its pid is gone) or the file is stale\n"
"(older than three heartbeats).\n";

static int64_t
json_int(const ttpd_value *o, const char *key)
{
	int64_t v = 0;

	if (jv_get_int(jv_object_get(o, key), &v) != TTPD_OK)
		v = 0;
	return v;
}

static void
print_status_table(const ttpd_value *st, const char *state, double age)
{
	const ttpd_value *plugins = jv_object_get(st, "plugins"), *p;
	const char *mode = jv_string(jv_object_get(st, "mode"));
	const char *version = jv_string(jv_object_get(st, "version"));
	size_t i, n = jv_array_size(plugins);
	int conn = 0;

	jv_get_bool(jv_object_get(st, "bus_connected"), &conn);
	printf("ttpd %s: %s, pid %lld, %s mode, bus %s, stats %.0f s old\n",
	    version != NULL ? version : "?", state,
	    (long long)json_int(st, "pid"), mode != NULL ? mode : "?",
	    conn ? "connected" : "disconnected", age);
	printf("messages: %lld received, %lld dropped (queue full), %lld "
	    "without an anchor, %lld ignored\n",
	    (long long)json_int(st, "received"),
	    (long long)json_int(st, "queue_dropped"),
	    (long long)json_int(st, "no_anchor"),
	    (long long)json_int(st, "ignored"));
	printf("tags: %lld inserted, %lld ttp.tagged published; %lld acked, "
	    "%lld dead-lettered, %lld store failures, %lld publish errors\n",
	    (long long)json_int(st, "tags_inserted"),
	    (long long)json_int(st, "tagged_published"),
	    (long long)json_int(st, "acked"),
	    (long long)json_int(st, "dead_lettered"),
	    (long long)json_int(st, "store_failures"),
	    (long long)json_int(st, "publish_errors"));
	printf("\n%-20s %12s %12s %8s %8s %6s %12s %10s\n", "PLUGIN", "EVENTS",
	    "TAGS", "ERRORS", "GATED", "RULES", "TIME_MS", "US/EVENT");
	for (i = 0; i < n; i++) {
		const char *name;
		int64_t ev, ns;
		int disabled = 0;

		p = jv_array_get(plugins, i);
		name = jv_string(jv_object_get(p, "name"));
		ev = json_int(p, "events");
		ns = json_int(p, "ns_spent");
		jv_get_bool(jv_object_get(p, "disabled"), &disabled);
		printf("%-20s %12lld %12lld %8lld %8lld %6lld %12.1f %10.2f%s\n",
		    name != NULL ? name : "?", (long long)ev,
		    (long long)json_int(p, "tags"),
		    (long long)json_int(p, "errors"),
		    (long long)json_int(p, "gated"),
		    (long long)json_int(p, "rules"), (double)ns / 1e6,
		    ev > 0 ? (double)ns / 1e3 / (double)ev : 0.0,
		    disabled ? "  (disabled)" : "");
	}
}

static int
cmd_status(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 }
	};
	const char *path = c->cfg.stats_file, *state;
	ttpd_value *st;
	struct timespec now;
	char *text = NULL, err[256];
	double ts = 0, age;
	int64_t pid, hb;
	size_t len = 0, cap = 0, n;
	FILE *fp;
	int ch, json = 0, rc = EXIT_OK;

	if (want_help(argc, argv)) {
		fputs(status_help, stdout);
		return EXIT_OK;
	}
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == OPT_JSON)
			json = 1;
		else {
			errx_msg("status: unknown option '%s'",
			    argv[optind - 1]);
			fputs(status_help, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		errx_msg("status: unexpected argument '%s'", argv[optind]);
		return EXIT_USAGE;
	}
	if (path == NULL) {
		errx_msg("status: daemon.stats_file is not set in %s; set it "
		    "(and restart ttpd) to see its counters", c->cfg.file);
		return EXIT_ERROR;
	}
	if ((fp = fopen(path, "r")) == NULL) {
		if (errno == ENOENT) {
			errx_msg("status: %s does not exist: ttpd is not "
			    "running (or has not written its first heartbeat "
			    "yet)", path);
			return EXIT_DOWN;
		}
		errx_msg("status: %s: %s", path, strerror(errno));
		return EXIT_ERROR;
	}
	do {
		if (len + 4096 > cap) {
			cap = cap * 2 + 4096;
			text = xrealloc(text, cap);
		}
		n = fread(text + len, 1, cap - len, fp);
		len += n;
	} while (n > 0);
	fclose(fp);
	st = jv_parse(text != NULL ? text : "", len, err, sizeof err);
	free(text);
	if (st == NULL || jv_type(st) != TTPD_VT_OBJECT) {
		errx_msg("status: %s: not a ttpd stats file (%s)", path,
		    st == NULL ? err : "not a JSON object");
		jv_decref(st);
		return EXIT_ERROR;
	}
	state = jv_string(jv_object_get(st, "state"));
	jv_get_number(jv_object_get(st, "ts"), &ts);
	pid = json_int(st, "pid");
	hb = json_int(st, "heartbeat_s");
	clock_gettime(CLOCK_REALTIME, &now);
	age = (double)now.tv_sec + (double)now.tv_nsec / 1e9 - ts;
	if (age < 0)
		age = 0;
	if (state != NULL && strcmp(state, "stopped") == 0) {
		errx_msg("status: ttpd is not running: pid %lld stopped %.0f s "
		    "ago (its last counters follow)", (long long)pid, age);
		rc = EXIT_DOWN;
	} else if (pid <= 0 || (kill((pid_t)pid, 0) != 0 && errno == ESRCH)) {
		errx_msg("status: ttpd is not running: pid %lld is gone (it "
		    "did not stop cleanly; stats %.0f s old)", (long long)pid,
		    age);
		rc = EXIT_DOWN;
		state = "dead";
	} else if (hb > 0 && age > 3.0 * (double)hb) {
		errx_msg("status: %s is stale: written %.0f s ago, the daemon "
		    "(pid %lld) rewrites it every %lld s; is it hung?", path,
		    age, (long long)pid, (long long)hb);
		rc = EXIT_DOWN;
		state = "stale";
	}
	if (json) {
		char *out = jv_dump(st);

		if (out != NULL)
			printf("%s\n", out);
		free(out);
	} else
		print_status_table(st, state != NULL ? state : "?", age);
	jv_decref(st);
	return rc;
}

/* -------------------------------------------------------------- main */

static const struct option main_options[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "option", required_argument, NULL, 'o' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

int
main(int argc, char **argv)
{
	const char *config_path = DEFAULT_CONFIG, *cmd;
	const char **overrides = NULL;
	size_t noverrides = 0;
	struct ctl c;
	char err[2048];
	int ch, rc;

	memset(&c, 0, sizeof c);
	log_init(progname, LOG_TARGET_STDERR, TTPD_LOG_WARNING);
	/* '+': stop at the command; its options are its own */
	while ((ch = getopt_long(argc, argv, "+c:o:hV", main_options,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			config_path = optarg;
			break;
		case 'o':
			overrides = xreallocarray(overrides, noverrides + 1,
			    sizeof *overrides);
			overrides[noverrides++] = optarg;
			break;
		case 'h':
			usage(stdout);
			free(overrides);
			return EXIT_OK;
		case 'V':
			printf("ttpctl %s\n", PACKAGE_VERSION);
			free(overrides);
			return EXIT_OK;
		default:
			usage(stderr);
			free(overrides);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		errx_msg("missing command");
		usage(stderr);
		free(overrides);
		return EXIT_USAGE;
	}
	cmd = argv[optind];
	argc -= optind;
	argv += optind;
	if (strcmp(cmd, "rules") != 0 && strcmp(cmd, "rule") != 0 &&
	    strcmp(cmd, "tags") != 0 && strcmp(cmd, "navigator") != 0 &&
	    strcmp(cmd, "backfill") != 0 && strcmp(cmd, "status") != 0) {
		errx_msg("unknown command '%s' (rules, rule, tags, navigator, "
		    "backfill, status)", cmd);
		free(overrides);
		return EXIT_USAGE;
	}
	/* --help needs no configuration */
	if (!want_help(argc, argv)) {
		if (config_load(config_path, overrides, noverrides, &c.cfg,
		    err, sizeof err) != 0) {
			errx_msg("%s", err);
			free(overrides);
			return EXIT_ERROR;
		}
		/* info lines would drown the output; warnings and errors
		 * still show */
		log_init(progname, LOG_TARGET_STDERR,
		    c.cfg.log_level < TTPD_LOG_WARNING ? c.cfg.log_level :
		    TTPD_LOG_WARNING);
	}
	free(overrides);

	if (strcmp(cmd, "rules") == 0)
		rc = cmd_rules(&c, argc, argv);
	else if (strcmp(cmd, "rule") == 0)
		rc = cmd_rule(&c, argc, argv);
	else if (strcmp(cmd, "tags") == 0)
		rc = cmd_tags(&c, argc, argv);
	else if (strcmp(cmd, "navigator") == 0)
		rc = cmd_navigator(&c, argc, argv);
	else if (strcmp(cmd, "status") == 0)
		rc = cmd_status(&c, argc, argv);
	else
		rc = cmd_backfill(&c, argc, argv);
	ctl_free(&c);
	return rc;
}
