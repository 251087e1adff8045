/*
 * Tags and their assembly: the host-side invariants every lifter gets for
 * free (DESIGN.md "The SDK ABI", "Tag identity").
 */
#ifndef TTPD_TAG_H
#define TTPD_TAG_H

#include <stddef.h>
#include <stdint.h>

#include "ttpd/lifter.h"

#define TAG_UUID_LEN 36
#define TAG_TIME_LEN 26 /* "YYYY-MM-DD HH:MM:SS.ffffff" */
#define TAG_CONFIDENCE_FLOOR 0.3

/*
 * One row of ttp_tag. Strings are owned by the tag (tag_free()): either
 * each is its own allocation, or, when `strings` is not NULL, they all
 * point into that one allocation (the host's tags: one malloc a tag).
 */
struct tag {
	char uuid[TAG_UUID_LEN + 1];
	char *source_kind;
	char *source_id;
	char *attacker_uuid;    /* NULL = SQL NULL */
	char *identity_uuid;    /* NULL = SQL NULL */
	char *session_id;       /* NULL = SQL NULL */
	char *decky_id;         /* NULL = SQL NULL */
	char *tactic;
	char *technique_id;
	char *sub_technique_id; /* NULL = SQL NULL */
	double confidence;
	char *rule_id;
	int64_t rule_version;
	char *evidence;         /* JSON object text */
	char *attack_release;
	char *mitre_url;        /* NULL = SQL NULL */
	char created_at[TAG_TIME_LEN + 1];
	char *strings;          /* NULL, or the block holding the above */
};

/* A growable array of tags. */
struct tag_list {
	struct tag *v;
	size_t n, cap;
};

void tag_free(struct tag *t);
void tag_list_init(struct tag_list *l);
/* Appends a zeroed slot and returns it. */
struct tag *tag_list_push(struct tag_list *l);
/* Free tags from index `from` to the end and shrink n to `from`. */
void tag_list_truncate(struct tag_list *l, size_t from);
void tag_list_free(struct tag_list *l);

/*
 * UUIDv5 of DECNET's key "kind|id|rule|version|technique|sub" (sub NULL or
 * "" both mean empty) under namespace 1ca31f08-5522-5aae-8371-fe81f0e39de3.
 * Writes 36 characters plus NUL into out.
 */
void tag_uuid(const char *source_kind, const char *source_id,
    const char *rule_id, int64_t rule_version, const char *technique_id,
    const char *sub_technique_id, char out[TAG_UUID_LEN + 1]);

/* Generic UUIDv5 (SHA-1) of name under a 16-byte namespace. */
void uuid_v5(const unsigned char ns[16], const void *name, size_t len,
    char out[TAG_UUID_LEN + 1]);

/*
 * The SHA-1 of tag_uuid() and uuid_v5() uses the CPU's SHA instructions
 * when it has them (decided once, before main()).  allow = 0 forces the
 * portable code, 1 goes back to the default (for tests and comparisons).
 * Returns 1 when the instructions are now in use.
 */
int tag_sha1_accelerated(int allow);

/* Wall clock: nanoseconds since the Unix epoch (tag time, rule expiry). */
int64_t tag_now_ns(void);

/* "YYYY-MM-DD HH:MM:SS.ffffff" (UTC) for a Unix time in nanoseconds. */
void tag_format_time(int64_t unix_ns, char out[TAG_TIME_LEN + 1]);

/* https://attack.mitre.org/techniques/T1059[/004]; NULL for a malformed
 * id. Caller frees. */
char *tag_mitre_url(const char *technique_id, const char *sub_technique_id);

/* The longest mitre_url, with its NUL. */
#define TAG_MITRE_URL_SIZE 48

/* The same URL written into out; its length, or 0 for a malformed id
 * (out then holds ""). */
size_t tag_mitre_url_into(const char *technique_id,
    const char *sub_technique_id, char out[TAG_MITRE_URL_SIZE]);

/* Rule state as read from ttp_rule_state. */
enum rule_state_kind {
	RULE_STATE_ENABLED = 0,
	RULE_STATE_DISABLED,
	RULE_STATE_CLIPPED
};

struct rule_state {
	enum rule_state_kind state;
	int has_confidence_max;
	double confidence_max;
	int64_t expires_at_ns; /* 0 = never */
};

/* Effective state at `now`: an expired state reverts to enabled. */
enum rule_state_kind rule_state_effective(const struct rule_state *st,
    int64_t now_ns);

/*
 * DECNET's arithmetic, then ttpd's clamp: base*multiplier, ceiling
 * min(conf, confidence_max) only for an effective `clipped` state with
 * confidence_max < 1, then clamp into [0, 1].
 */
double tag_confidence(double base, double multiplier,
    const struct rule_state *st, int64_t now_ns);

/*
 * A tag as one JSON line ending in a newline (--tags-out, the plugin
 * checker's fixtures): every column, evidence spliced in as it is stored;
 * created_at only when asked (it depends on when the tag was made).
 * Returns malloc'd text, or NULL when out of memory.
 */
char *tag_json_line(const struct tag *t, int with_created_at);

#endif
