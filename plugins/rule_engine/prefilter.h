/*
 * Required-literal prefilter for the rule engine.
 *
 * pf_extract() reads a PCRE2 pattern (already known to compile) and, when
 * it can prove one, returns a set of ASCII literals such that every match
 * of the pattern contains at least one of them as a substring, compared
 * with ASCII case folded (and U+017F, U+212A, U+0130, U+0131 folded to
 * their ASCII letters, the only non-ASCII characters that match an ASCII
 * letter caselessly).  Anything it does not fully understand makes it give
 * up, and the rule is then always searched: the filter may only ever skip
 * a search that could not have matched.
 *
 * A pf_automaton is an Aho-Corasick DFA over the literal sets of many
 * rules; pf_scan_ends() makes one pass over a subject and sets the bit of
 * every set that has a literal in it (with the PF_LB/PF_RB neighbours its
 * flags ask for; a literal next to a non-ASCII character always counts),
 * and notes where those occurrences end.
 */
#ifndef TTPD_RULE_ENGINE_PREFILTER_H
#define TTPD_RULE_ENGINE_PREFILTER_H

#include <stddef.h>
#include <stdint.h>

/*
 * Lower-case ASCII literals, each 1..PF_MAX_LITERAL bytes, no NUL, and per
 * literal PF_LB when every match has it with no ASCII word character
 * ([A-Za-z0-9_]) just before it, PF_RB likewise just after it.
 */
struct pf_literals {
	char **v;
	unsigned char *flags;
	size_t n;
	size_t reach;
};

#define PF_LB 1
#define PF_RB 2

#define PF_MAX_LITERAL 32

/*
 * reach: every match has an occurrence of one of the literals that ends
 * at most this many bytes after the match's start, or PF_NO_REACH when
 * nothing is known.  A match therefore starts no earlier than
 * (end of the first counted occurrence) - reach.  It is only given for
 * patterns whose matches do not depend on where a search starts (no \G).
 */
#define PF_NO_REACH ((size_t)-1)

/* 1: *out filled; 0: no usable literal set; -1: out of memory. */
int pf_extract(const char *pattern, size_t len, struct pf_literals *out);
void pf_literals_free(struct pf_literals *lits);
/* A hash of the literals and their flags, the same for the same set in
 * any order. */
uint64_t pf_literals_hash(const struct pf_literals *lits);
/* Do a and b hold the same literals with the same flags (in any order)?
 * Their reach is not compared. */
int pf_literals_same(const struct pf_literals *a,
    const struct pf_literals *b);
/* A copy of lits into *out; -1 on out of memory (*out then empty). */
int pf_literals_copy(const struct pf_literals *lits, struct pf_literals *out);

/*
 * A finer condition than pf_extract()'s one set: one clause per top-level
 * alternative, each with one or two literal sets taken from different
 * parts of that alternative.  Every match satisfies some clause, i.e. has
 * a literal of each of its sets.  Same return values as pf_extract(),
 * and 1 only when pf_extract() would return 1.
 */
struct pf_clause {
	struct pf_literals f[2];
	size_t nf;
	size_t start, len;      /* the alternative's text in the pattern */
};

/*
 * splittable: the alternatives may be searched one by one (a subject
 * matches the pattern iff it matches some alternative) with the first
 * prefix_len bytes of the pattern, its leading option settings such as
 * (?i), put before every alternative but the first.  0 when an option
 * setting elsewhere at the top level would carry into later alternatives.
 * Group numbers change: the caller must not split a pattern with
 * backreferences.
 */
struct pf_clauses {
	struct pf_clause *v;
	size_t n;
	size_t prefix_len;
	int splittable;
};

int pf_extract_clauses(const char *pattern, size_t len,
    struct pf_clauses *out);
/* The same for a pattern pf_extract() has already returned 1 for (it is
 * not read twice). */
int pf_extract_clauses_after(const char *pattern, size_t len,
    struct pf_clauses *out);
void pf_clauses_free(struct pf_clauses *c);

struct pf_automaton;

/* Set i gets id i; NULL entries are skipped.  NULL on out of memory. */
struct pf_automaton *pf_build(const struct pf_literals *const *sets,
    size_t nsets);
/* The same with a budget for the full-row states (pf_build() uses 2 MiB);
 * a tiny one makes every state but the root sparse, for tests. */
struct pf_automaton *pf_build_dense(const struct pf_literals *const *sets,
    size_t nsets, size_t dense_bytes);
void pf_free(struct pf_automaton *a);
/* Number of uint64_t words a hit bitset needs. */
size_t pf_hit_words(const struct pf_automaton *a);
/* Where the occurrences of a set's literals that a scan counted end:
 * every match that contains a counted occurrence of one of the set's
 * literals starts before `last`, and, when that occurrence ends at most
 * reach bytes after the match's start, at or after first - reach. */
struct pf_ends {
	size_t first, last;
};

/*
 * Set in hits the bit of every set with a literal in s[0..n), and its
 * ends[id] (entries of the others are left alone; ends has
 * pf_hit_words() * 64 entries).  s must be valid UTF-8, and hits clear.
 * A scan uses scratch space in the automaton: one scan at a time per
 * automaton.
 */
void pf_scan_ends(struct pf_automaton *a, const unsigned char *s, size_t n,
    uint64_t *hits, struct pf_ends *ends);

#endif
