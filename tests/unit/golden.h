/* Golden parity harness shared by the per-lifter suites. */
#ifndef TTPD_GOLDEN_H
#define TTPD_GOLDEN_H

#include <stddef.h>

struct golden_result {
	size_t expected, stored, missing, extra, differ;
	int second_run_inserted; /* non-zero: a second replay wrote rows */
};

/*
 * Replay golden/events.jsonl with DECNET's rules and the plugins given as
 * the contents of plugins.load (libconfig, e.g. `{ name = "rule_engine";
 * }`), then compare the stored tags of rules R<lo>..R<hi> with the
 * expected ones (deviations applied, 0.3 floor).  Differences are printed
 * to stderr (at most 10 of each kind).
 */
void golden_run(const char *load_entries, int lo, int hi,
    struct golden_result *res);

#endif
