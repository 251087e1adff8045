/*
 * Rules at runtime: rule files through inotify, ttp_rule_state through
 * polling (see reload.h).
 */
#include "config.h"

#include <sys/inotify.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "attack.h"
#include "conf.h"
#include "daemon.h"
#include "json.h"
#include "log.h"
#include "plugin.h"
#include "reload.h"
#include "rules.h"
#include "store.h"
#include "tag.h"
#include "xmalloc.h"

/* a burst of directory events is handled once quiet for SETTLE_MS, or
 * SETTLE_MAX_MS after its first event whatever happens */
#define SETTLE_MS 150
#define SETTLE_MAX_MS 1000
#define STATE_POLL_MS 1000
#define DIR_RETRY_MS 1000

#define WATCH_MASK (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | \
	IN_DELETE | IN_CREATE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)

struct watch_dir {
	char *path;     /* as in rules.dirs */
	int wd;         /* -1: not watched (gone) */
};

struct pending {
	size_t dir;
	char *name;
};

/* One ttp_rule_state row as last seen. */
struct state_entry {
	char *rule_id;
	int readable;            /* st is valid */
	struct rule_state st;
	char *state, *expires_at, *set_by, *set_at, *reason;
	int has_cm;
	double cm;
	int reverted;            /* expiry seen (and announced) */
	int seen;                /* in the latest read */
};

struct reloader {
	struct daemon_env *env;
	reload_publish_fn publish;
	void *ud;

	int fd;                  /* inotify, -1 when not watching */
	struct watch_dir *dirs;
	size_t ndirs;
	int64_t next_dir_retry_ms;
	struct pending *pend;
	size_t npend, cappend;
	int64_t first_ms, last_ms; /* of the pending burst */
	char **refused;          /* paths refused for a duplicate rule_id */
	size_t nrefused;

	struct state_entry *states;
	size_t nstates;
	int64_t data_version;
	int have_version;
	int announce;            /* 0 during the first read */
	int64_t next_poll_ms;
	int poll_failing;

	struct attack *attack;   /* loaded on the first change to check */
};

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---------------------------------------------------------- publish */

static void
publish(struct reloader *rl, const char *prefix, const char *rule_id,
    ttpd_value *payload)
{
	char *topic;

	if (rl->publish == NULL) {
		jv_decref(payload);
		return;
	}
	topic = xasprintf("%s%s", prefix, rule_id);
	rl->publish(rl->ud, topic, payload);
	free(topic);
}

static ttpd_value *
str_or_null(const char *s)
{
	return s != NULL ? jv_new_string(s, strlen(s)) : jv_new_null();
}

static void
publish_reloaded(struct reloader *rl, const struct rule *r)
{
	ttpd_value *p = jv_new_object();

	jv_object_set_new(p, "rule_id", str_or_null(r->pub.rule_id));
	jv_object_set_new(p, "rule_version", jv_new_int(r->pub.rule_version));
	publish(rl, "ttp.rule.reloaded.", r->pub.rule_id, p);
}

static void
publish_deleted(struct reloader *rl, const char *rule_id)
{
	ttpd_value *p = jv_new_object();

	jv_object_set_new(p, "rule_id", str_or_null(rule_id));
	jv_object_set_new(p, "deleted", jv_new_bool(1));
	publish(rl, "ttp.rule.reloaded.", rule_id, p);
}

static void
publish_state(struct reloader *rl, const char *rule_id, const char *state,
    const char *set_by)
{
	ttpd_value *p = jv_new_object();

	jv_object_set_new(p, "rule_id", str_or_null(rule_id));
	jv_object_set_new(p, "state", str_or_null(state));
	jv_object_set_new(p, "set_by", str_or_null(set_by));
	publish(rl, "ttp.rule.state.", rule_id, p);
}

static void
publish_auto_revert(struct reloader *rl, const char *rule_id)
{
	ttpd_value *p = jv_new_object();

	jv_object_set_new(p, "rule_id", str_or_null(rule_id));
	jv_object_set_new(p, "auto_revert", jv_new_bool(1));
	publish(rl, "ttp.rule.state.", rule_id, p);
}

/* ----------------------------------------------------------- states */

static struct state_entry *
state_find(struct reloader *rl, const char *rule_id)
{
	size_t i;

	for (i = 0; i < rl->nstates; i++)
		if (strcmp(rl->states[i].rule_id, rule_id) == 0)
			return &rl->states[i];
	return NULL;
}

static void
state_entry_free(struct state_entry *e)
{
	free(e->rule_id);
	free(e->state);
	free(e->expires_at);
	free(e->set_by);
	free(e->set_at);
	free(e->reason);
}

/* The state a rule of this id runs with now. */
static struct rule_state
state_for(struct reloader *rl, const char *rule_id)
{
	struct state_entry *e = state_find(rl, rule_id);
	struct rule_state st;

	if (e != NULL && e->readable && !e->reverted)
		return e->st;
	memset(&st, 0, sizeof st);
	st.state = RULE_STATE_ENABLED;
	return st;
}

static void
apply_state(struct reloader *rl, const char *rule_id)
{
	struct rule *r = ruleset_find(rl->env->rules, rule_id);
	struct rule_state st;

	if (r != NULL) {
		st = state_for(rl, rule_id);
		rule_set_state(r, &st);
	}
}

static int
str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static void
log_state(struct reloader *rl, const struct state_entry *e)
{
	char extra[256] = "";
	size_t n = 0;

	if (e->has_cm && str_eq(e->state, "clipped"))
		n += (size_t)snprintf(extra + n, sizeof extra - n,
		    ", confidence at most %g", e->cm);
	if (e->expires_at != NULL && n < sizeof extra)
		n += (size_t)snprintf(extra + n, sizeof extra - n,
		    ", until %s UTC", e->expires_at);
	if (e->reason != NULL && n < sizeof extra)
		snprintf(extra + n, sizeof extra - n, ": %s", e->reason);
	log_notice("rule %s: state %s (set by %s%s%s)%s%s", e->rule_id,
	    e->state != NULL ? e->state : "?", e->set_by != NULL ?
	    e->set_by : "unknown", e->set_at != NULL ? " at " : "",
	    e->set_at != NULL ? e->set_at : "", extra,
	    ruleset_find(rl->env->rules, e->rule_id) == NULL ?
	    " (no rule with this id is loaded)" : "");
}

/* store_rule_state_rows() callback: one row, compared with what we had. */
static void
on_state_row(void *ud, const struct rule_state_row *row,
    const struct rule_state *st, const char *why)
{
	struct reloader *rl = ud;
	struct state_entry *e = state_find(rl, row->rule_id);

	if (e != NULL) {
		e->seen = 1;
		if (str_eq(e->state, row->state) &&
		    e->has_cm == row->has_confidence_max &&
		    (!e->has_cm || e->cm == row->confidence_max) &&
		    str_eq(e->expires_at, row->expires_at) &&
		    str_eq(e->set_by, row->set_by) &&
		    str_eq(e->set_at, row->set_at) &&
		    str_eq(e->reason, row->reason))
			return; /* unchanged */
		free(e->state);
		free(e->expires_at);
		free(e->set_by);
		free(e->set_at);
		free(e->reason);
	} else {
		rl->states = xreallocarray(rl->states, rl->nstates + 1,
		    sizeof *rl->states);
		e = &rl->states[rl->nstates++];
		memset(e, 0, sizeof *e);
		e->rule_id = xstrdup(row->rule_id);
		e->seen = 1;
	}
	e->state = xstrdup_or_null(row->state);
	e->expires_at = xstrdup_or_null(row->expires_at);
	e->set_by = xstrdup_or_null(row->set_by);
	e->set_at = xstrdup_or_null(row->set_at);
	e->reason = xstrdup_or_null(row->reason);
	e->has_cm = row->has_confidence_max;
	e->cm = row->confidence_max;
	e->reverted = 0;
	e->readable = st != NULL;
	if (st != NULL)
		e->st = *st;
	else
		memset(&e->st, 0, sizeof e->st);
	if (!e->readable) {
		/* like at start-up: the rule runs enabled */
		log_warn("%s; rule %s runs enabled", why, e->rule_id);
		apply_state(rl, e->rule_id);
		return;
	}
	if (e->st.expires_at_ns != 0 && e->st.expires_at_ns <= tag_now_ns() &&
	    !rl->announce)
		e->reverted = 1; /* expired before we started: nothing to say */
	apply_state(rl, e->rule_id);
	if (rl->announce) {
		log_state(rl, e);
		publish_state(rl, e->rule_id, e->state, e->set_by);
	}
}

static void
poll_states(struct reloader *rl, int force)
{
	struct store *s = rl->env->lookup_store;
	int64_t v = 0;
	size_t i;

	if (s == NULL)
		return;
	if (store_data_version(s, &v) == 0 && rl->have_version && !force &&
	    v == rl->data_version)
		goto expiry;
	for (i = 0; i < rl->nstates; i++)
		rl->states[i].seen = 0;
	if (store_rule_state_rows(s, on_state_row, rl) != 0) {
		if (!rl->poll_failing++)
			log_warn("reading ttp_rule_state failed: %s; rule "
			    "states stay as they are until it works again",
			    store_error(s));
		goto expiry;
	}
	if (rl->poll_failing) {
		log_notice("reading ttp_rule_state works again");
		rl->poll_failing = 0;
	}
	rl->data_version = v;
	rl->have_version = 1;
	/* rows deleted by someone: back to the default */
	for (i = 0; i < rl->nstates; ) {
		struct state_entry *e = &rl->states[i];
		char *id;

		if (e->seen) {
			i++;
			continue;
		}
		id = e->rule_id;
		e->rule_id = NULL;
		state_entry_free(e);
		rl->states[i] = rl->states[--rl->nstates];
		apply_state(rl, id);
		if (rl->announce) {
			log_notice("rule %s: its ttp_rule_state row was "
			    "removed; state enabled", id);
			publish_state(rl, id, "enabled", NULL);
		}
		free(id);
	}
expiry:
	rl->announce = 1;
	for (i = 0; i < rl->nstates; i++) {
		struct state_entry *e = &rl->states[i];

		if (!e->readable || e->reverted || e->st.expires_at_ns == 0 ||
		    e->st.expires_at_ns > tag_now_ns())
			continue;
		e->reverted = 1;
		apply_state(rl, e->rule_id);
		log_notice("rule %s: state %s expired at %s UTC; back to "
		    "enabled", e->rule_id, e->state != NULL ? e->state : "?",
		    e->expires_at != NULL ? e->expires_at : "?");
		publish_auto_revert(rl, e->rule_id);
	}
}

/* ------------------------------------------------------------ files */

static char *
join_path(const char *dir, const char *name)
{
	size_t dl = strlen(dir);

	/* the same spelling as rules_load_dirs(), so paths compare equal */
	return xasprintf("%s%s%s", dir, dl > 0 && dir[dl - 1] == '/' ? "" :
	    "/", name);
}

static struct rule *
rule_by_path(struct reloader *rl, const char *path)
{
	struct ruleset *rs = rl->env->rules;
	size_t i;

	for (i = 0; i < rs->n; i++)
		if (rs->v[i]->pub.path != NULL &&
		    strcmp(rs->v[i]->pub.path, path) == 0)
			return rs->v[i];
	return NULL;
}

static void
pending_add(struct reloader *rl, size_t dir, const char *name, int64_t now)
{
	size_t i;

	if (rl->npend == 0)
		rl->first_ms = now;
	rl->last_ms = now;
	for (i = 0; i < rl->npend; i++)
		if (rl->pend[i].dir == dir &&
		    strcmp(rl->pend[i].name, name) == 0)
			return;
	if (rl->npend == rl->cappend) {
		rl->cappend = rl->cappend ? rl->cappend * 2 : 16;
		rl->pend = xreallocarray(rl->pend, rl->cappend,
		    sizeof *rl->pend);
	}
	rl->pend[rl->npend].dir = dir;
	rl->pend[rl->npend].name = xstrdup(name);
	rl->npend++;
}

static void
refused_forget(struct reloader *rl, const char *path)
{
	size_t i;

	for (i = 0; i < rl->nrefused; i++)
		if (strcmp(rl->refused[i], path) == 0) {
			free(rl->refused[i]);
			rl->refused[i] = rl->refused[--rl->nrefused];
			return;
		}
}

static void
refused_add(struct reloader *rl, const char *path)
{
	refused_forget(rl, path);
	rl->refused = xreallocarray(rl->refused, rl->nrefused + 1,
	    sizeof *rl->refused);
	rl->refused[rl->nrefused++] = xstrdup(path);
}

/* Every rule file of a directory, and every loaded rule that came from
 * it, goes through the pending list (handled at once). */
static void
scan_dir(struct reloader *rl, size_t di)
{
	const char *dir = rl->dirs[di].path;
	struct ruleset *rs = rl->env->rules;
	struct dirent *de;
	int64_t now = mono_ms();
	size_t i;
	DIR *d;

	if ((d = opendir(dir)) != NULL) {
		while ((de = readdir(d)) != NULL)
			if (rules_filename_ok(de->d_name))
				pending_add(rl, di, de->d_name, now);
		closedir(d);
	}
	for (i = 0; i < rs->n; i++) {
		const char *p = rs->v[i]->pub.path, *base;
		char *want;

		if (p == NULL || (base = strrchr(p, '/')) == NULL)
			continue;
		base++;
		want = join_path(dir, base);
		if (strcmp(want, p) == 0)
			pending_add(rl, di, base, now);
		free(want);
	}
	rl->first_ms = now - SETTLE_MAX_MS; /* no need to wait */
}

static void
reject(const struct rule *old, const char *why)
{
	if (old != NULL)
		log_err("%s; rule %s version %lld from this file keeps running",
		    why, old->pub.rule_id, (long long)old->pub.rule_version);
	else
		log_err("%s; the file is not loaded", why);
}

struct collect {
	char *first;
	int n;
};

static void
collect_problem(void *ud, const char *msg)
{
	struct collect *c = ud;

	if (c->n++ == 0)
		c->first = xstrdup(msg);
}

/* With attack.bundle: the new rule's ids must be valid.  0 or -1. */
static int
attack_ok(struct reloader *rl, struct rule *r, const struct rule *old)
{
	const struct config *cfg = rl->env->cfg;
	struct ruleset one;
	struct rule *v[1];
	struct collect c = { NULL, 0 };
	char err[1024];

	if (cfg->attack_bundle == NULL || cfg->attack_bundle[0] == '\0')
		return 0;
	if (rl->attack == NULL && (rl->attack = attack_load(cfg->attack_bundle,
	    cfg->attack_sha256, err, sizeof err)) == NULL) {
		char *why = xasprintf("%s:%u: rule %s: cannot check its ATT&CK "
		    "ids: %s", r->pub.path, r->pub.line, r->pub.rule_id, err);

		reject(old, why);
		free(why);
		return -1;
	}
	v[0] = r;
	one.v = v;
	one.n = one.cap = 1;
	attack_check_rules(rl->attack, &one, collect_problem, &c);
	if (c.n == 0)
		return 0;
	reject(old, c.first);
	free(c.first);
	return -1;
}

static void
remove_rule(struct reloader *rl, struct rule *r, const char *why)
{
	char *id = xstrdup(r->pub.rule_id);

	registry_detach_rule(rl->env->reg, r);
	ruleset_remove(rl->env->rules, r);
	log_notice("rule %s version %lld removed: %s", id,
	    (long long)r->pub.rule_version, why);
	rule_free(r);
	publish_deleted(rl, id);
	free(id);
}

/* A file that exists: load it in place of what it defined.  Returns 1
 * when a rule left (its rule_id changed), else 0. */
static int
load_file(struct reloader *rl, const char *path)
{
	struct ruleset *rs = rl->env->rules;
	struct rule *old = rule_by_path(rl, path), *r, *other;
	struct stat st;
	char err[1024];
	int removed = 0;

	if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0) {
		/* truncated before being written: wait for the write */
		log_debug("%s: empty; waiting for its content", path);
		return 0;
	}
	if ((r = rules_parse_file(path, err, sizeof err)) == NULL) {
		reject(old, err);
		return 0;
	}
	if (old != NULL && old->content_hash == r->content_hash &&
	    strcmp(old->pub.rule_id, r->pub.rule_id) == 0) {
		log_debug("%s: unchanged", path);
		rule_free(r);
		refused_forget(rl, path);
		return 0;
	}
	other = ruleset_find(rs, r->pub.rule_id);
	if (other != NULL && other != old) {
		char *why = xasprintf("%s:%u: rule_id %s is already defined in "
		    "%s:%u", path, r->pub.line, r->pub.rule_id,
		    other->pub.path, other->pub.line);

		reject(old, why);
		free(why);
		rule_free(r);
		refused_add(rl, path);
		return 0;
	}
	if (attack_ok(rl, r, old) != 0) {
		rule_free(r);
		return 0;
	}
	if (registry_prepare_rule(rl->env->reg, r, err, sizeof err) < 0) {
		reject(old, err);
		rule_free(r);
		return 0;
	}
	refused_forget(rl, path);
	/* not in any bucket yet: the swap below says the rules changed */
	r->state = state_for(rl, r->pub.rule_id);
	if (old != NULL && strcmp(old->pub.rule_id, r->pub.rule_id) == 0) {
		registry_swap_rule(rl->env->reg, old, r);
		ruleset_replace(rs, old, r);
		log_notice("rule %s reloaded from %s: version %lld (was %lld)",
		    r->pub.rule_id, path, (long long)r->pub.rule_version,
		    (long long)old->pub.rule_version);
		rule_free(old);
	} else {
		if (old != NULL) {
			char *why = xasprintf("%s now defines rule %s", path,
			    r->pub.rule_id);

			remove_rule(rl, old, why);
			free(why);
			removed = 1;
		}
		registry_swap_rule(rl->env->reg, NULL, r);
		ruleset_push(rs, r);
		log_notice("rule %s version %lld added from %s",
		    r->pub.rule_id, (long long)r->pub.rule_version, path);
	}
	publish_reloaded(rl, r);
	return removed;
}

/* Handle a settled burst: removals first (a rename within the rules
 * directories is a removal and an addition), then new and changed
 * files. */
static void
apply_pending(struct reloader *rl)
{
	struct pending *pend = rl->pend;
	size_t n = rl->npend, i;
	char **paths;
	int removed = 0;

	rl->pend = NULL;
	rl->npend = rl->cappend = 0;
	paths = xcalloc(n, sizeof *paths);
	for (i = 0; i < n; i++) {
		struct stat st;
		struct rule *r;

		paths[i] = join_path(rl->dirs[pend[i].dir].path, pend[i].name);
		if (stat(paths[i], &st) == 0)
			continue;
		if ((r = rule_by_path(rl, paths[i])) != NULL) {
			char *why = xasprintf("%s is gone", paths[i]);

			remove_rule(rl, r, why);
			free(why);
			removed = 1;
		}
		refused_forget(rl, paths[i]);
		free(paths[i]);
		paths[i] = NULL;
	}
	for (i = 0; i < n; i++) {
		if (paths[i] != NULL && load_file(rl, paths[i]))
			removed = 1;
		free(paths[i]);
		free(pend[i].name);
	}
	free(paths);
	free(pend);
	/* a rule_id that was refused as a duplicate may be free now */
	if (removed && rl->nrefused > 0) {
		int64_t now = mono_ms();

		for (i = 0; i < rl->nrefused; i++) {
			const char *base = strrchr(rl->refused[i], '/');
			size_t d;

			for (d = 0; base != NULL && d < rl->ndirs; d++) {
				char *p = join_path(rl->dirs[d].path,
				    base + 1);

				if (strcmp(p, rl->refused[i]) == 0)
					pending_add(rl, d, base + 1, now);
				free(p);
			}
		}
		rl->first_ms = now - SETTLE_MAX_MS;
	}
}

static void
dir_lost(struct reloader *rl, struct watch_dir *w, const char *how)
{
	if (w->wd < 0)
		return;
	inotify_rm_watch(rl->fd, w->wd); /* may already be gone: fine */
	w->wd = -1;
	log_warn("rules directory %s %s; its rules keep running, and it is "
	    "watched again when it comes back", w->path, how);
}

static void
read_events(struct reloader *rl)
{
	char buf[8192] __attribute__((aligned(__alignof__(
	    struct inotify_event))));
	const struct inotify_event *ev;
	int64_t now = mono_ms();
	ssize_t len;
	size_t d;
	char *p;

	for (;;) {
		len = read(rl->fd, buf, sizeof buf);
		if (len < 0 && errno == EINTR)
			continue;
		if (len <= 0)
			return; /* EAGAIN: nothing more */
		for (p = buf; p < buf + len; p += sizeof *ev + ev->len) {
			ev = (const struct inotify_event *)(void *)p;
			if (ev->mask & IN_Q_OVERFLOW) {
				log_notice("rules: too many directory events "
				    "at once; rescanning the rules "
				    "directories");
				for (d = 0; d < rl->ndirs; d++)
					if (rl->dirs[d].wd >= 0)
						scan_dir(rl, d);
				continue;
			}
			for (d = 0; d < rl->ndirs; d++)
				if (rl->dirs[d].wd == ev->wd)
					break;
			if (d == rl->ndirs)
				continue;
			if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF |
			    IN_IGNORED | IN_UNMOUNT)) {
				dir_lost(rl, &rl->dirs[d], ev->mask &
				    IN_MOVE_SELF ? "was moved away" :
				    "was removed");
				continue;
			}
			if (ev->len == 0 || (ev->mask & IN_ISDIR) ||
			    !rules_filename_ok(ev->name))
				continue;
			pending_add(rl, d, ev->name, now);
		}
	}
}

static void
retry_dirs(struct reloader *rl)
{
	size_t d;

	for (d = 0; d < rl->ndirs; d++) {
		struct watch_dir *w = &rl->dirs[d];

		if (w->wd >= 0)
			continue;
		if ((w->wd = inotify_add_watch(rl->fd, w->path,
		    WATCH_MASK)) < 0)
			continue;
		log_notice("rules directory %s is back; rescanning it",
		    w->path);
		scan_dir(rl, d);
	}
}

static void
watch_start(struct reloader *rl)
{
	const struct config *cfg = rl->env->cfg;
	size_t d;

	rl->fd = -1;
	if (!cfg->rules_watch) {
		log_info("rules.watch is false: rule files are read at start "
		    "and on SIGHUP only");
		return;
	}
	if ((rl->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0) {
		log_warn("cannot watch the rules directories: inotify: %s; "
		    "rule files are read at start and on SIGHUP only",
		    strerror(errno));
		return;
	}
	rl->ndirs = cfg->nrules_dirs;
	rl->dirs = xcalloc(rl->ndirs, sizeof *rl->dirs);
	for (d = 0; d < rl->ndirs; d++) {
		rl->dirs[d].path = xstrdup(cfg->rules_dirs[d]);
		rl->dirs[d].wd = inotify_add_watch(rl->fd, rl->dirs[d].path,
		    WATCH_MASK);
		if (rl->dirs[d].wd < 0)
			log_warn("cannot watch rules directory %s: %s; "
			    "retrying every second", rl->dirs[d].path,
			    strerror(errno));
	}
	log_info("watching %zu rules director%s for changes", rl->ndirs,
	    rl->ndirs == 1 ? "y" : "ies");
	/* a file changed after the rules were read and before the watches
	 * existed (start-up, SIGHUP) is caught by a rescan; unchanged files
	 * are recognised by their content and left alone */
	for (d = 0; d < rl->ndirs; d++)
		if (rl->dirs[d].wd >= 0)
			scan_dir(rl, d);
}

static void
watch_stop(struct reloader *rl)
{
	size_t i;

	if (rl->fd >= 0)
		close(rl->fd);
	rl->fd = -1;
	for (i = 0; i < rl->ndirs; i++)
		free(rl->dirs[i].path);
	free(rl->dirs);
	rl->dirs = NULL;
	rl->ndirs = 0;
	for (i = 0; i < rl->npend; i++)
		free(rl->pend[i].name);
	free(rl->pend);
	rl->pend = NULL;
	rl->npend = rl->cappend = 0;
	for (i = 0; i < rl->nrefused; i++)
		free(rl->refused[i]);
	free(rl->refused);
	rl->refused = NULL;
	rl->nrefused = 0;
	attack_free(rl->attack);
	rl->attack = NULL;
}

/* ------------------------------------------------------------- api */

struct reloader *
reloader_new(struct daemon_env *env, reload_publish_fn publish_fn, void *ud)
{
	struct reloader *rl;

	if (env == NULL || env->rules == NULL)
		return NULL;
	rl = xcalloc(1, sizeof *rl);
	rl->env = env;
	rl->publish = publish_fn;
	rl->ud = ud;
	watch_start(rl);
	/* the first read only learns what is there (start-up applied it) */
	poll_states(rl, 1);
	rl->next_poll_ms = mono_ms() + STATE_POLL_MS;
	return rl;
}

void
reloader_tick(struct reloader *rl)
{
	int64_t now;

	if (rl == NULL)
		return;
	now = mono_ms();
	if (rl->fd >= 0) {
		read_events(rl);
		if (now >= rl->next_dir_retry_ms) {
			retry_dirs(rl);
			rl->next_dir_retry_ms = now + DIR_RETRY_MS;
		}
		if (rl->npend > 0 && (now - rl->last_ms >= SETTLE_MS ||
		    now - rl->first_ms >= SETTLE_MAX_MS))
			apply_pending(rl);
	}
	if (now >= rl->next_poll_ms) {
		poll_states(rl, 0);
		rl->next_poll_ms = mono_ms() + STATE_POLL_MS;
	}
}

void
reloader_rebind(struct reloader *rl)
{
	if (rl == NULL)
		return;
	watch_stop(rl);
	watch_start(rl);
	/* a new store connection: read everything, say what changed since
	 * the last poll, and stamp the states on the new rules */
	rl->have_version = 0;
	poll_states(rl, 1);
	{
		size_t i;

		for (i = 0; i < rl->nstates; i++)
			apply_state(rl, rl->states[i].rule_id);
	}
}

void
reloader_free(struct reloader *rl)
{
	size_t i;

	if (rl == NULL)
		return;
	watch_stop(rl);
	for (i = 0; i < rl->nstates; i++)
		state_entry_free(&rl->states[i]);
	free(rl->states);
	free(rl);
}
