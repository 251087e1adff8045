/*
 * Tagger events from input lines: a ready tagger event, or a DECNET bus
 * envelope translated as the DECNET worker does (decnet-host.md 1.6, 2.2):
 * exact topic -> source_kind table, anchor resolution, source_id priority,
 * session fan-out into per-command events.
 */
#ifndef TTPD_EVENT_H
#define TTPD_EVENT_H

#include <stddef.h>

#include "ttpd/lifter.h"

/* One tagger event; `pub` points into the owned fields. */
struct event {
	ttpd_event pub;
	char *source_kind, *source_id;
	char *attacker_uuid, *identity_uuid, *session_id, *decky_id;
	ttpd_value *payload; /* reference held */
};

struct event_list {
	struct event *v;
	size_t n, cap;
};

/* How to find an attacker uuid for a payload that only has attacker_ip. */
struct anchor_policy {
	/* 1 found (out filled), 0 not found, -1 error. NULL: no lookup. */
	int (*lookup_ip)(void *ud, const char *ip, char *out, size_t outlen);
	void *ud;
	/* when lookup is impossible or finds nothing: derive a uuid from
	 * the IP (UUIDv5 under the ttpd namespace) instead of dropping */
	int derive;
	/* intel catch-up (decnet-host.md 2.2 step 4): the attacker_intel
	 * row of an attacker as a payload object (new reference), or NULL
	 * when there is none.  NULL function: no catch-up. */
	ttpd_value *(*intel_lookup)(void *ud, const char *attacker_uuid);
	void *intel_ud;
};

enum event_result {
	EVENT_OK = 0,        /* events appended */
	EVENT_DROPPED = 1,   /* valid, but no anchor: nothing to tag */
	EVENT_IGNORED = 2,   /* valid, but nothing to do (e.g. empty type) */
	EVENT_BAD = -1       /* malformed: reason in err */
};

void event_list_init(struct event_list *l);
void event_list_clear(struct event_list *l);
void event_list_free(struct event_list *l);

/*
 * Turn one decoded input line into events appended to out.  `line` must
 * be an object: with "topic" it is a bus envelope, with "source_kind" a
 * ready tagger event.  On EVENT_DROPPED/EVENT_IGNORED/EVENT_BAD, err says
 * why (for counting and logging).
 */
enum event_result event_build(const ttpd_value *line,
    const struct anchor_policy *anchors, struct event_list *out, char *err,
    size_t errlen);

/*
 * Why a bus message is malformed (each class is counted on its own).
 */
enum event_reason {
	EVR_OK = 0,
	EVR_OVERSIZED,     /* larger than input.max_event_bytes */
	EVR_UTF8,          /* not valid UTF-8 */
	EVR_JSON,          /* not JSON */
	EVR_NOT_OBJECT,    /* JSON, but not an object */
	EVR_MISSING,       /* an envelope without its payload */
	EVR_TYPE,          /* a member of the wrong type (v, id, type, ts,
	                      payload) */
	EVR_UNKNOWN_TOPIC, /* a subject ttpd has no source kind for */
	EVR_COUNT
};

/* "oversized", "invalid_utf8", "not_json", "not_object",
 * "missing_field", "wrong_type", "unknown_topic" ("ok" for EVR_OK). */
const char *event_reason_name(enum event_reason r);

/*
 * Decode one bus message body received on `subject` into an envelope
 * ready for event_build(): the subject is the topic (the transport topic
 * wins over any "topic" in the body, as in DECNET).  Returns EVR_OK and
 * a new reference in *out, or the reason it is malformed with a message
 * in err.
 */
enum event_reason event_decode_bus(const char *subject, const char *data,
    size_t len, size_t max_bytes, ttpd_value **out, char *err,
    size_t errlen);

/* The source_kind of a bus topic, or NULL when the topic is not one ttpd
 * subscribes to (attacker.fingerprinted returns "" meaning: use `type`). */
const char *event_topic_kind(const char *topic);

/* The deterministic attacker uuid ttpd derives from an IP address with
 * anchor_policy = "derive": UUIDv5 of "ttpd:attacker-ip:<ip>" under the
 * DECNET tag namespace. */
void event_derive_attacker_uuid(const char *ip, char out[37]);

#endif
