/*
 * Pattern text cut into pieces PCRE2 can compile alone: leading option
 * settings, and the items of a top-level concatenation (one atom and its
 * quantifier each).  Text only: nothing here compiles or matches.
 */
#ifndef TTPD_RULE_ENGINE_PATTERN_SPLIT_H
#define TTPD_RULE_ENGINE_PATTERN_SPLIT_H

#include <stddef.h>

struct ps_item {
	size_t start, end;      /* byte offsets in the pattern */
	int unbounded;          /* quantified *, + or {n,} */
	size_t shortest;        /* its shortest match has at most this many
				   characters (PS_LONG: may be long) */
};

#define PS_LONG ((size_t)1 << 20)

/* End of the bracket class starting at p ('['), or NULL. */
const char *ps_class_end(const char *p, const char *end);

/* Length of the option settings such as (?i) that open text; they apply
 * to the whole pattern and must stay in front of any piece of it. */
size_t ps_lead_len(const char *text, size_t len);

/*
 * The items of text[from..len) when it is a plain concatenation: no
 * top-level |, no extended mode, no option setting after from, nothing
 * this reader does not follow (\Q..\E, verbs, comments, malformed
 * quantifiers).  Returns how many (at most max), or 0 when it is not.
 */
size_t ps_concat_items(const char *text, size_t from, size_t len,
    struct ps_item *items, size_t max);

/*
 * text without its bare ^ alternatives ((?:^|;) becomes (?:;)), into out
 * (len bytes at least): what the pattern means at any start but 0 (^
 * cannot match there), and a first character PCRE2 can skip to.  The new
 * length, or 0 when there are none or they cannot be dropped safely
 * (multi-line mode, inside a lookbehind, (?:^) alone, text this reader
 * does not follow).
 */
size_t ps_drop_caret_alternatives(const char *text, size_t len, char *out);

/*
 * When text is, after its leading option settings, (?:A|B...)REST with a
 * group that carries no quantifier and in which nothing captures, is
 * named, or calls a group, and a REST without top-level |: the spans of
 * A, B, ... in alts and where REST begins in *rest, so that each of
 * A REST, B REST, ... (behind the option settings) can be compiled alone.
 * Returns how many (2 to max), or 0 when text is not of that shape.
 */
struct ps_span {
	size_t start, end;
};

size_t ps_leading_alternatives(const char *text, size_t len,
    struct ps_span *alts, size_t max, size_t *rest);

/* Does text refer to groups by number or name (backreferences,
 * subroutine calls, conditions), or may it (\Q...\E is not read)?  A
 * piece of it could mean otherwise. */
int ps_refers_to_groups(const char *text, size_t len);

/* Does text have \G (or what may be one: \Q...\E is not read)?  Its
 * matches then depend on where a search starts. */
int ps_has_start_anchor(const char *text, size_t len);

#endif
