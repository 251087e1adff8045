/*
 * Plugin loader: dlopen, descriptor validation, init, registration.
 *
 * Every rejection is one log line (and the same text in err) naming the
 * file, both ABI versions, the reason and the fix, e.g.
 *   plugin /usr/lib/ttpd/geoip.so: built for ABI 2.1, ttpd provides 1.0:
 *   major version differs; rebuild it against the ttpd 1.x SDK
 */
#ifndef TTPD_LOADER_H
#define TTPD_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "plugin.h"

/*
 * The version check as a pure function: NULL when a descriptor of
 * (major, minor, size) is acceptable to a host of (host_major,
 * host_minor), else a static reason; *fix gets a static hint.
 */
const char *loader_check_version(uint16_t host_major, uint16_t host_minor,
    uint16_t major, uint16_t minor, uint32_t size, const char **fix);

/* sizeof(ttpd_lifter) as defined by each released minor (index = minor);
 * 0 for minors this host does not know. */
uint32_t loader_descriptor_size_for_minor(uint16_t minor);

/*
 * Load one plugin: resolve the path (pc->path, else <dir>/<name>.so),
 * refuse a missing file, a group/world-writable file or directory,
 * dlopen(RTLD_NOW|RTLD_LOCAL|RTLD_NODELETE), find ttpd_lifter_entry, call
 * it, validate magic/major/minor/size/required callbacks/name (syntax,
 * equal to pc->name, unique in reg)/source kinds (non-empty, known)/at most
 * one F_GENERIC_RULES, check its config against its config_keys, create
 * the host context and call init().  Only when init succeeds is the
 * plugin added to reg.  Returns 0, or -1 with the one-line reason in err
 * (also logged).
 */
int loader_load(struct registry *reg, const char *dir,
    const struct plugin_conf *pc, char *err, size_t errlen);

#endif
