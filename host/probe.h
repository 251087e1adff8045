/*
 * ttpd -t: load and initialise every configured plugin in a forked child
 * first, so that a plugin crashing (or hanging) in its entry point or
 * init() is reported instead of taking the check down with it.
 */
#ifndef TTPD_PROBE_H
#define TTPD_PROBE_H

#include "conf.h"

/* Seconds a probe child may take before it is reported as hung. */
#define PROBE_TIMEOUT_S 30

/*
 * Probe each entry of cfg->plugins in its own child (entry, descriptor
 * checks, config check, init(), destroy()).  A plugin whose child dies of
 * a signal or runs out of time is reported with one line, e.g.
 *   plugin bad (/x/bad.so): crashed during init: signal 11 (SIGSEGV)
 * and removed from cfg->plugins, so the in-process load that follows
 * does not repeat the crash.  Ordinary refusals are left to that load,
 * which reports them itself.  Returns the number of plugins removed.
 */
int probe_plugins(struct config *cfg);

/*
 * What ttpd does before any plugin code runs: install the crash
 * attribution handler (crash_install(), once) and, with `probe` (ttpd -t),
 * probe_plugins().  Returns the number of plugins probe_plugins() removed.
 */
int probe_guard_plugins(struct config *cfg, int probe);

#endif
