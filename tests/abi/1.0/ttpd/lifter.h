/*
 * ttpd lifter SDK, ABI 1.0.
 *
 * The one header a ttpd lifter plugin includes.  It depends only on the C
 * standard library headers below and compiles as C99 or C11.  Nothing from
 * libconfig, jansson, NATS or SQLite appears here: the host exposes what a
 * lifter needs through the service table (struct ttpd_host).
 *
 * A lifter is a shared object exporting exactly one symbol,
 * ttpd_lifter_entry(), written for you by TTPD_LIFTER_DEFINE().  The host
 * calls it, validates the descriptor it returns, calls init() and from then
 * on hands it events of the source kinds it declared, together with the
 * rules it owns.  The lifter decides which rule fires, with what confidence
 * multiplier and what evidence; the host turns that into a tag (uuid, rule
 * state, confidence ceiling and clamp, floor, anchors, mitre_url,
 * attack_release, created_at) and stores it.
 *
 * VERSIONING
 *   TTPD_ABI_MAJOR changes on any removal, reordering, retyping or change of
 *   meaning; the host loads only lifters built for its own major.
 *   TTPD_ABI_MINOR grows when something is appended at the END of
 *   struct ttpd_host, struct ttpd_lifter, struct ttpd_event, struct ttpd_rule
 *   or struct ttpd_emit.  Every such struct starts with its size; readers
 *   never touch a field beyond the size they were given (use TTPD_HAS()).
 *   A descriptor's abi_minor is the MINIMUM host minor the lifter needs; the
 *   host refuses a lifter whose abi_minor is newer than its own.  Define
 *   TTPD_LIFTER_REQUIRED_MINOR before including this header to load into
 *   older hosts, and guard newer services with TTPD_HAS(host, field).
 *
 * OWNERSHIP ("nothing allocated on one side is freed on the other")
 *   descriptor, its strings and arrays  lifter (static), never freed by host
 *   struct ttpd_host                    host; read-only; valid until destroy()
 *   ttpd_ctx                            host; valid until destroy()
 *   struct ttpd_event and its strings   host; valid until handle() returns
 *   ttpd_value from an event            host; valid until handle() returns
 *   ttpd_value made by new_*()          host, owned by the sink; freed when
 *                                       handle() returns; never free it
 *   ttpd_sink                           host; valid until handle() returns;
 *                                       do not store it
 *   struct ttpd_rule, its strings and   host; valid from rule_prepare() until
 *   its match value                     rule_release() for that rule (and for
 *                                       the whole handle() call that saw it)
 *   strings passed to log()/emit()/     caller; the host copies what it keeps
 *   new_string()
 *   strings from config_*()             host; valid until destroy()
 *   void *state, void *prepared         lifter; freed by the lifter in
 *                                       destroy() / rule_release()
 *   struct ttpd_err                     host buffer; the lifter writes a
 *                                       NUL-terminated message of at most
 *                                       sizeof msg bytes (use ttpd_err_set())
 *
 * THREADING
 *   init(), rule_prepare(), rule_release() and destroy() are called from the
 *   host's control thread, never concurrently with handle() or each other.
 *   handle() may run on any host thread; calls into one instance are
 *   serialised unless the descriptor sets TTPD_LIFTER_F_CONCURRENT.
 *   Host services may be called only from inside a callback, on the calling
 *   thread, except log(), which is safe from any thread.  A lifter should not
 *   create threads; if it does, it joins them in destroy() and they never
 *   touch an event, a value or a sink.
 *
 * ERRORS
 *   Callbacks return TTPD_OK (0), a positive soft outcome, or a negative
 *   error and a message in *err.  An error from handle() discards the tags
 *   that call emitted (never another lifter's) and is counted and logged.
 */
#ifndef TTPD_LIFTER_H
#define TTPD_LIFTER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TTPD_ABI_MAJOR 1
#define TTPD_ABI_MINOR 0
#define TTPD_LIFTER_MAGIC 0x5454504cu /* "TTPL" */
#define TTPD_LIFTER_ENTRY_SYMBOL "ttpd_lifter_entry"

#ifndef TTPD_LIFTER_REQUIRED_MINOR
#define TTPD_LIFTER_REQUIRED_MINOR TTPD_ABI_MINOR
#endif

/* True when a size-prefixed struct given by the other side has `field`. */
#define TTPD_HAS(ptr, field)                                                   \
	((ptr) != NULL &&                                                      \
	 (size_t)(ptr)->size >= offsetof(__typeof__(*(ptr)), field) +         \
	     sizeof((ptr)->field))

/* Return codes: 0 ok, > 0 soft outcome, < 0 error. */
enum ttpd_rc {
	TTPD_OK = 0,
	TTPD_SKIP = 1,     /* nothing done (absent value, gated rule, ...) */
	TTPD_RETRY = 2,    /* transient; the host may redeliver the event */
	TTPD_EINVAL = -1,  /* invalid argument or input */
	TTPD_ENOMEM = -2,  /* out of memory */
	TTPD_EFATAL = -3   /* the instance is broken; the host disables it */
};

/* Log levels (syslog numbering). */
enum ttpd_log_level {
	TTPD_LOG_ERR = 3,
	TTPD_LOG_WARNING = 4,
	TTPD_LOG_NOTICE = 5,
	TTPD_LOG_INFO = 6,
	TTPD_LOG_DEBUG = 7
};

/* Types of a ttpd_value (JSON data model). */
enum ttpd_value_type {
	TTPD_VT_ABSENT = 0, /* a NULL value pointer: key or index not present */
	TTPD_VT_NULL,
	TTPD_VT_BOOL,       /* never a number: true is not 1 */
	TTPD_VT_INT,
	TTPD_VT_REAL,
	TTPD_VT_STRING,     /* always valid UTF-8; may contain U+0000 */
	TTPD_VT_ARRAY,
	TTPD_VT_OBJECT
};

/* Types a lifter may declare for its config keys. */
enum ttpd_config_type {
	TTPD_CFG_STRING = 1,
	TTPD_CFG_INT,
	TTPD_CFG_REAL,      /* an int is accepted where a real is expected */
	TTPD_CFG_BOOL,
	TTPD_CFG_LIST,      /* a libconfig list (...) or array [...] */
	TTPD_CFG_GROUP
};

typedef struct ttpd_ctx ttpd_ctx;     /* one loaded instance, host side */
typedef struct ttpd_sink ttpd_sink;   /* where one handle() call emits */
typedef struct ttpd_value ttpd_value; /* JSON-like value, host owned */

typedef struct ttpd_err {
	char msg[256];
} ttpd_err;

/* One entry of a rule's `emits` list. Since 1.0. */
typedef struct ttpd_emit {
	uint32_t size;
	const char *tactic;           /* e.g. "TA0006" */
	const char *technique_id;     /* e.g. "T1110" */
	const char *sub_technique_id; /* full dotted id "T1110.003", or NULL */
	double confidence;            /* base confidence as written */
} ttpd_emit;

/* A rule as loaded from a rule file. Since 1.0. */
typedef struct ttpd_rule {
	uint32_t size;
	const char *rule_id;
	int64_t rule_version;
	const char *name;
	const char *kind;              /* match.kind, or NULL */
	const ttpd_value *match;       /* the whole `match` mapping */
	const char *const *applies_to; /* n_applies_to source kinds */
	size_t n_applies_to;
	const ttpd_emit *const *emits; /* n_emits pointers */
	size_t n_emits;
	const char *const *evidence_fields;
	size_t n_evidence_fields;
	const char *path;              /* file the rule came from */
	unsigned line;                 /* line of its first key */
	void *prepared;                /* what rule_prepare() returned */
} ttpd_rule;

/* The event handed to handle(). Since 1.0. */
typedef struct ttpd_event {
	uint32_t size;
	const char *source_kind;
	const char *source_id;
	const char *attacker_uuid; /* NULL when absent */
	const char *identity_uuid; /* NULL when absent */
	const char *session_id;    /* NULL when absent */
	const char *decky_id;      /* NULL when absent */
	const ttpd_value *payload; /* always an object */
} ttpd_event;

/* A config key a lifter accepts inside its `config` group. */
typedef struct ttpd_config_key {
	const char *name;        /* NULL ends the table */
	int type;                /* enum ttpd_config_type */
	int required;            /* non-zero: init is refused without it */
	const char *description; /* one line, for documentation */
} ttpd_config_key;

/* emit() flags. */
#define TTPD_EMIT_IDENTITY_ONLY 0x1u /* store the tag without attacker_uuid */
/* emit() emit_index meaning "every entry of the rule's emits". */
#define TTPD_EMIT_ALL ((size_t)-1)

/* Host services. Since 1.0 unless noted. */
typedef struct ttpd_host {
	uint32_t size;
	uint16_t abi_major, abi_minor;

	/* Logging: printf-like; the host prefixes the instance name. */
	void (*log)(ttpd_ctx *ctx, int level, const char *fmt, ...)
#if defined(__GNUC__)
	    __attribute__((format(printf, 3, 4)))
#endif
	    ;

	/*
	 * Typed access to this instance's `config` group.  `key` is a dotted
	 * path inside the group.  Return TTPD_OK and set *out, TTPD_SKIP when
	 * the key is absent (*out untouched), TTPD_EINVAL when it has another
	 * type.
	 */
	int (*config_string)(ttpd_ctx *ctx, const char *key, const char **out);
	int (*config_int)(ttpd_ctx *ctx, const char *key, int64_t *out);
	int (*config_real)(ttpd_ctx *ctx, const char *key, double *out);
	int (*config_bool)(ttpd_ctx *ctx, const char *key, int *out);
	/* The whole group (or a sub-path of it) as a value tree; NULL if absent. */
	const ttpd_value *(*config_value)(ttpd_ctx *ctx, const char *key);

	/* Reading values. All accept NULL and answer "absent"/TTPD_EINVAL. */
	int (*value_type)(const ttpd_value *v);
	const ttpd_value *(*object_get)(const ttpd_value *obj, const char *key);
	/* RFC 6901 JSON pointer, e.g. "/headers/User-Agent" or "/urls/0". */
	const ttpd_value *(*pointer_get)(const ttpd_value *v, const char *ptr);
	int (*get_string)(const ttpd_value *v, const char **s, size_t *len);
	int (*get_int)(const ttpd_value *v, int64_t *out);   /* ints only */
	int (*get_number)(const ttpd_value *v, double *out); /* int or real */
	int (*get_bool)(const ttpd_value *v, int *out);      /* bools only */
	size_t (*array_size)(const ttpd_value *v);
	const ttpd_value *(*array_get)(const ttpd_value *v, size_t i);
	size_t (*object_size)(const ttpd_value *v);
	/* Calls fn for each member in order; stops early and returns fn's
	 * value when it is non-zero. */
	int (*object_foreach)(const ttpd_value *obj,
	    int (*fn)(void *ud, const char *key, const ttpd_value *val),
	    void *ud);

	/*
	 * Building values (evidence).  New values belong to the sink and die
	 * when handle() returns.  new_string() copies and returns NULL for
	 * invalid UTF-8.  object_set()/array_append() keep a reference to val
	 * (which may be any value the lifter can read, e.g. from the payload);
	 * they return TTPD_EINVAL on a type mismatch or a cycle.
	 */
	ttpd_value *(*new_object)(ttpd_sink *sink);
	ttpd_value *(*new_array)(ttpd_sink *sink);
	ttpd_value *(*new_string)(ttpd_sink *sink, const char *s, size_t len);
	ttpd_value *(*new_int)(ttpd_sink *sink, int64_t i);
	ttpd_value *(*new_real)(ttpd_sink *sink, double d);
	ttpd_value *(*new_bool)(ttpd_sink *sink, int b);
	ttpd_value *(*new_null)(ttpd_sink *sink);
	int (*object_set)(ttpd_value *obj, const char *key,
	    const ttpd_value *val);
	int (*array_append)(ttpd_value *arr, const ttpd_value *val);

	/*
	 * The rules this instance owns that apply to the sink's event kind
	 * and are currently active (not disabled, not expired), in load
	 * order.  The array is valid until handle() returns.
	 */
	const ttpd_rule *const *(*rules_for)(ttpd_sink *sink, size_t *n);

	/*
	 * The common evidence recipe: a new object holding, for each of the
	 * rule's evidence_fields present in the payload, that member (null
	 * kept, absent skipped), in evidence_fields order.
	 */
	ttpd_value *(*evidence_from_fields)(ttpd_sink *sink,
	    const ttpd_rule *rule);

	/*
	 * Emit a tag: rule `rule` fired on the sink's event; use its emits
	 * entry `emit_index` (or TTPD_EMIT_ALL), base confidence times
	 * `multiplier`, and `evidence` (an object, or NULL for {}).  The host
	 * applies the rule state (gate and ceiling), clamps to [0,1], computes
	 * the uuid and the rest.  Returns TTPD_OK when a tag was produced,
	 * TTPD_SKIP when the rule state gated it or the event has no anchor,
	 * TTPD_EINVAL when the rule is not this instance's, does not apply
	 * to the event's kind, the index is out of range, the evidence is not
	 * an object or the multiplier is not finite.
	 */
	int (*emit)(ttpd_sink *sink, const ttpd_rule *rule, size_t emit_index,
	    double multiplier, const ttpd_value *evidence, unsigned flags);

	/* Wall clock, nanoseconds since the Unix epoch. */
	int64_t (*now_ns)(ttpd_ctx *ctx);
} ttpd_host;

/* Descriptor flags. */
#define TTPD_LIFTER_F_CONCURRENT 0x1u    /* handle() is thread-safe */
/* Owns every rule whose match.kind is absent or does not start with
 * "lifter:" (the generic rule engine); at most one loaded lifter may. */
#define TTPD_LIFTER_F_GENERIC_RULES 0x2u

/* The descriptor a lifter returns. Since 1.0; grows only at the end. */
typedef struct ttpd_lifter {
	uint32_t magic;                  /* TTPD_LIFTER_MAGIC */
	uint32_t size;                   /* sizeof(ttpd_lifter) as built */
	uint16_t abi_major;              /* TTPD_ABI_MAJOR as built */
	uint16_t abi_minor;              /* minimum host minor needed */
	uint32_t flags;                  /* TTPD_LIFTER_F_* */
	const char *name;                /* [a-z][a-z0-9_]*, unique */
	const char *version;             /* the lifter's own version */
	const char *description;         /* one line */
	const char *const *source_kinds; /* NULL-terminated, non-empty */
	/*
	 * match.kind values of the rules this lifter owns, NULL-terminated; an
	 * entry ending in '*' is a prefix.  NULL means {"lifter:<name>_*"}.
	 */
	const char *const *rule_kinds;
	const ttpd_config_key *config_keys; /* NULL: accepts no keys */

	/* Required. Allocate *state; keep host and ctx for later calls. */
	int (*init)(const ttpd_host *host, ttpd_ctx *ctx, void **state,
	    ttpd_err *err);
	/* Optional. Validate/compile one owned rule; an error rejects the
	 * rule (at start-up: the daemon stops) with err->msg as reason. */
	int (*rule_prepare)(void *state, const ttpd_rule *rule,
	    void **prepared, ttpd_err *err);
	/* Optional. Free what rule_prepare() made. */
	void (*rule_release)(void *state, const ttpd_rule *rule,
	    void *prepared);
	/* Required. Examine one event; emit() zero or more tags. */
	int (*handle)(void *state, const ttpd_event *ev, ttpd_sink *sink,
	    ttpd_err *err);
	/* Required. Free *state. */
	void (*destroy)(void *state);
} ttpd_lifter;

typedef const ttpd_lifter *(*ttpd_lifter_entry_fn)(uint16_t host_major,
    uint16_t host_minor);

/* Write a NUL-terminated message into err (truncating); NULL-safe. */
static inline void
ttpd_err_set(ttpd_err *err, const char *msg)
{
	size_t i = 0;

	if (err == NULL)
		return;
	if (msg != NULL)
		for (; msg[i] != '\0' && i < sizeof err->msg - 1; i++)
			err->msg[i] = msg[i];
	err->msg[i] = '\0';
}

#if defined(__GNUC__)
#define TTPD_EXPORT __attribute__((visibility("default")))
#else
#define TTPD_EXPORT
#endif

/*
 * Define the plugin's descriptor and entry point. Pass the remaining
 * fields as designated initialisers:
 *
 *   TTPD_LIFTER_DEFINE(
 *       .name = "example", .version = "1.0",
 *       .description = "tags example things",
 *       .source_kinds = example_kinds,
 *       .init = example_init, .handle = example_handle,
 *       .destroy = example_destroy);
 */
#define TTPD_LIFTER_DEFINE(...)                                                \
	static const ttpd_lifter ttpd_lifter_descriptor_ = {                   \
		.magic = TTPD_LIFTER_MAGIC,                                    \
		.size = (uint32_t)sizeof(ttpd_lifter),                         \
		.abi_major = TTPD_ABI_MAJOR,                                   \
		.abi_minor = TTPD_LIFTER_REQUIRED_MINOR,                       \
		__VA_ARGS__};                                                  \
	TTPD_EXPORT const ttpd_lifter *ttpd_lifter_entry(                      \
	    uint16_t host_major, uint16_t host_minor);                         \
	TTPD_EXPORT const ttpd_lifter *ttpd_lifter_entry(                      \
	    uint16_t host_major, uint16_t host_minor)                          \
	{                                                                      \
		(void)host_major;                                              \
		(void)host_minor;                                              \
		return &ttpd_lifter_descriptor_;                               \
	}

#ifdef __cplusplus
}
#endif

#endif /* TTPD_LIFTER_H */
