/*
 * Rules at runtime (daemon mode, ttpd -f): rule files and ttp_rule_state
 * rows take effect without a restart.
 *
 * Files: inotify on every rules.dirs directory (unless rules.watch is
 * false).  Events are coalesced until the directory has been quiet for
 * a short while (editors write a temporary file and rename it), then each
 * touched rule file is handled on its own: a new or changed file is
 * parsed, checked (duplicate rule_id, ATT&CK ids when attack.bundle is
 * set) and prepared by its owner plugin, and only then swapped in; a
 * broken one is logged as "file:line: reason" and the running version of
 * its rule stays; a file that is gone removes its rule.  A directory that
 * goes away keeps its rules running and is watched again (and rescanned)
 * when it comes back.
 *
 * States: every second, PRAGMA data_version on the tagging thread's store
 * connection; when it moved, ttp_rule_state is re-read and every changed
 * row applied.  A state whose expires_at has passed reverts to enabled.
 *
 * Every change is logged and published (decnet-host.md 1.8):
 * ttp.rule.reloaded.<rule_id> {rule_id, rule_version} or {rule_id,
 * deleted: true}; ttp.rule.state.<rule_id> {rule_id, state, set_by} or
 * {rule_id, auto_revert: true}; envelope type "".
 *
 * Everything here runs on the tagging thread, between messages: no event
 * is ever tagged with a half-loaded rule, and rule_prepare() /
 * rule_release() never run concurrently with handle() (also for
 * TTPD_LIFTER_F_CONCURRENT plugins: the host calls handle() from the
 * tagging thread only; a host that tags on several threads must park
 * them around reloader_tick() and reloader_rebind()).
 */
#ifndef TTPD_RELOAD_H
#define TTPD_RELOAD_H

#include "ttpd/lifter.h"

struct daemon_env;
struct reloader;

/* Publish payload (stolen) on topic with an envelope of type "". */
typedef void (*reload_publish_fn)(void *ud, const char *topic,
    ttpd_value *payload);

/* Start watching env's rules and states; NULL when env->rules is NULL. */
struct reloader *reloader_new(struct daemon_env *env,
    reload_publish_fn publish, void *ud);
/* Call often from the tagging thread (at least every 500 ms): reads the
 * directory events, applies settled file changes, polls states. */
void reloader_tick(struct reloader *rl);
/* After a full reload (SIGHUP): new configuration, registry and rules. */
void reloader_rebind(struct reloader *rl);
void reloader_free(struct reloader *rl);

#endif
