/*
 * Input lines to tagger events (DESIGN.md "Bus", decnet-host.md 1.6/2.2).
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "json.h"
#include "tag.h"
#include "xmalloc.h"

/* Exact topic table; DECNET matched substrings, which is loose. */
static const struct {
	const char *topic;
	const char *kind;
} topic_kinds[] = {
	{ "attacker.session.ended", "session" },
	{ "attacker.observed", "session" },
	{ "attacker.intel.enriched", "intel" },
	{ "attacker.fingerprinted", "" }, /* the envelope type is the kind */
	{ "identity.formed", "identity" },
	{ "identity.merged", "identity" },
	{ "credential.reuse.detected", "credential" },
	{ "email.received", "email" },
};

const char *
event_topic_kind(const char *topic)
{
	size_t i;

	if (topic == NULL)
		return NULL;
	for (i = 0; i < sizeof topic_kinds / sizeof topic_kinds[0]; i++)
		if (strcmp(topic_kinds[i].topic, topic) == 0)
			return topic_kinds[i].kind;
	/* canary.> : at least one non-empty token after "canary." */
	if (strncmp(topic, "canary.", 7) == 0 && topic[7] != '\0' &&
	    topic[7] != '.')
		return "canary_fingerprint";
	return NULL;
}

void
event_derive_attacker_uuid(const char *ip, char out[37])
{
	/* the DECNET tag namespace, reused so no new constant is invented */
	static const unsigned char ns[16] = {
		0x1c, 0xa3, 0x1f, 0x08, 0x55, 0x22, 0x5a, 0xae,
		0x83, 0x71, 0xfe, 0x81, 0xf0, 0xe3, 0x9d, 0xe3
	};
	char *name = xasprintf("ttpd:attacker-ip:%s", ip);

	uuid_v5(ns, name, strlen(name), out);
	free(name);
}

void
event_list_init(struct event_list *l)
{
	memset(l, 0, sizeof *l);
}

static void
event_free(struct event *e)
{
	free(e->source_kind);
	free(e->source_id);
	free(e->attacker_uuid);
	free(e->identity_uuid);
	free(e->session_id);
	free(e->decky_id);
	jv_decref(e->payload);
	memset(e, 0, sizeof *e);
}

void
event_list_clear(struct event_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		event_free(&l->v[i]);
	l->n = 0;
}

void
event_list_free(struct event_list *l)
{
	event_list_clear(l);
	free(l->v);
	event_list_init(l);
}

/* Append an event; takes ownership of the strings and the payload ref. */
static void
event_push(struct event_list *l, char *kind, char *id, char *att,
    char *ident, char *sess, char *decky, ttpd_value *payload)
{
	struct event *e;

	if (l->n == l->cap) {
		l->cap = l->cap == 0 ? 8 : l->cap * 2;
		l->v = xreallocarray(l->v, l->cap, sizeof *l->v);
	}
	e = &l->v[l->n++];
	e->source_kind = kind;
	e->source_id = id;
	e->attacker_uuid = att;
	e->identity_uuid = ident;
	e->session_id = sess;
	e->decky_id = decky;
	e->payload = payload;
}

/* Point every pub at its fields (after the array stopped moving). */
static void
event_list_seal(struct event_list *l, size_t from)
{
	size_t i;

	for (i = from; i < l->n; i++) {
		struct event *e = &l->v[i];

		e->pub.size = sizeof e->pub;
		e->pub.source_kind = e->source_kind;
		e->pub.source_id = e->source_id;
		e->pub.attacker_uuid = e->attacker_uuid;
		e->pub.identity_uuid = e->identity_uuid;
		e->pub.session_id = e->session_id;
		e->pub.decky_id = e->decky_id;
		e->pub.payload = e->payload;
	}
}

/* Python truthiness of a JSON value. */
static int
truthy(const ttpd_value *v)
{
	int b;
	int64_t i;
	double d;

	switch (jv_type(v)) {
	case TTPD_VT_BOOL:
		jv_get_bool(v, &b);
		return b;
	case TTPD_VT_INT:
		jv_get_int(v, &i);
		return i != 0;
	case TTPD_VT_REAL:
		jv_get_number(v, &d);
		return d != 0.0;
	case TTPD_VT_STRING:
		return jv_string(v)[0] != '\0';
	case TTPD_VT_ARRAY:
		return jv_array_size(v) > 0;
	case TTPD_VT_OBJECT:
		return jv_object_size(v) > 0;
	default:
		return 0;
	}
}

/* Shortest "%.Ng" that reads back as d (Python repr of a float). */
static char *
float_repr(double d)
{
	char buf[64];
	int prec;

	if (isinf(d))
		return xstrdup(d > 0 ? "inf" : "-inf");
	if (isnan(d))
		return xstrdup("nan");
	for (prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof buf, "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	/* Python always shows a float as a float: 1.0, not 1 */
	if (strpbrk(buf, ".einn") == NULL)
		strcat(buf, ".0");
	return xstrdup(buf);
}

/* Python str() of a JSON value (NULL for null). */
static char *
py_str(const ttpd_value *v)
{
	int64_t i;
	double d;
	int b;

	switch (jv_type(v)) {
	case TTPD_VT_STRING:
		return xstrdup(jv_string(v));
	case TTPD_VT_INT:
		jv_get_int(v, &i);
		return xasprintf("%lld", (long long)i);
	case TTPD_VT_REAL:
		jv_get_number(v, &d);
		return float_repr(d);
	case TTPD_VT_BOOL:
		jv_get_bool(v, &b);
		return xstrdup(b ? "True" : "False");
	case TTPD_VT_ARRAY:
	case TTPD_VT_OBJECT:
		/* Python would print its repr; JSON text is close enough
		 * and still deterministic. */
		return jv_dump(v);
	default:
		return NULL;
	}
}

/* First truthy member among keys, stringified, or NULL. */
static char *
first_truthy(const ttpd_value *obj, const char *const *keys)
{
	for (; *keys != NULL; keys++) {
		const ttpd_value *v = jv_object_get(obj, *keys);

		if (truthy(v))
			return py_str(v);
	}
	return NULL;
}

/* A ready tagger event's optional string field. */
static int
opt_string(const ttpd_value *line, const char *key, char **out, char *err,
    size_t errlen)
{
	const ttpd_value *v = jv_object_get(line, key);

	*out = NULL;
	switch (jv_type(v)) {
	case TTPD_VT_ABSENT:
	case TTPD_VT_NULL:
		return 0;
	case TTPD_VT_STRING:
		*out = xstrdup(jv_string(v));
		return 0;
	default:
		snprintf(err, errlen, "%s must be a string or null", key);
		return -1;
	}
}

static enum event_result
build_tagger_event(const ttpd_value *line, struct event_list *out,
    char *err, size_t errlen)
{
	const ttpd_value *kind = jv_object_get(line, "source_kind");
	const ttpd_value *id = jv_object_get(line, "source_id");
	const ttpd_value *payload = jv_object_get(line, "payload");
	char *att, *ident, *sess, *decky;
	size_t from = out->n;

	if (jv_type(kind) != TTPD_VT_STRING || jv_string(kind)[0] == '\0') {
		snprintf(err, errlen, "source_kind must be a non-empty string");
		return EVENT_BAD;
	}
	if (jv_type(id) != TTPD_VT_STRING) {
		snprintf(err, errlen, "source_id must be a string");
		return EVENT_BAD;
	}
	if (jv_type(payload) != TTPD_VT_OBJECT) {
		snprintf(err, errlen, "payload must be an object");
		return EVENT_BAD;
	}
	if (opt_string(line, "attacker_uuid", &att, err, errlen) != 0)
		return EVENT_BAD;
	if (opt_string(line, "identity_uuid", &ident, err, errlen) != 0) {
		free(att);
		return EVENT_BAD;
	}
	if (att == NULL && ident == NULL) {
		snprintf(err, errlen, "no anchor: attacker_uuid and "
		    "identity_uuid are both null");
		return EVENT_DROPPED;
	}
	if (opt_string(line, "session_id", &sess, err, errlen) != 0 ||
	    opt_string(line, "decky_id", &decky, err, errlen) != 0) {
		free(att);
		free(ident);
		free(sess);
		return EVENT_BAD;
	}
	jv_incref(payload);
	event_push(out, xstrdup(jv_string(kind)), xstrdup(jv_string(id)), att,
	    ident, sess, decky, (ttpd_value *)(uintptr_t)payload);
	event_list_seal(out, from);
	return EVENT_OK;
}

/*
 * Anchor resolution (decnet-host.md 2.2 step 1).  Returns the payload to
 * use (a new reference), or NULL when the event must be dropped.
 */
static ttpd_value *
resolve_anchor(const ttpd_value *payload, const struct anchor_policy *ap,
    char *err, size_t errlen)
{
	const ttpd_value *ipv;
	const char *ip;
	char uuid[64];
	ttpd_value *copy;
	int found = 0;

	if (truthy(jv_object_get(payload, "attacker_uuid")) ||
	    truthy(jv_object_get(payload, "identity_uuid"))) {
		jv_incref(payload);
		return (ttpd_value *)(uintptr_t)payload;
	}
	ipv = jv_object_get(payload, "attacker_ip");
	ip = jv_string(ipv);
	if (ip == NULL || ip[0] == '\0' || strcmp(ip, "Unknown") == 0) {
		snprintf(err, errlen, "no anchor: no attacker_uuid, "
		    "identity_uuid or usable attacker_ip");
		return NULL;
	}
	if (ap != NULL && ap->lookup_ip != NULL) {
		found = ap->lookup_ip(ap->ud, ip, uuid, sizeof uuid);
		if (found < 0) {
			snprintf(err, errlen, "no anchor: attacker lookup for "
			    "%s failed", ip);
			return NULL;
		}
		if (found == 0) {
			snprintf(err, errlen, "no anchor: no attackers row "
			    "for %s (yet)", ip);
			return NULL;
		}
	} else if (ap != NULL && ap->derive) {
		event_derive_attacker_uuid(ip, uuid);
	} else {
		snprintf(err, errlen, "no anchor: attacker_ip %s cannot be "
		    "resolved (no attackers table; anchor_policy is drop)", ip);
		return NULL;
	}
	copy = jv_copy_object(payload);
	jv_object_set_new(copy, "attacker_uuid", jv_new_string(uuid,
	    strlen(uuid)));
	return copy;
}

/* Session fan-out into command events (decnet-host.md 2.2 step 3). */
static void
fan_out_commands(struct event_list *out, size_t base_index)
{
	static const char *const id_keys[] = { "id", "uuid", "command_id",
		NULL };
	const ttpd_value *cmds =
	    jv_object_get(out->v[base_index].payload, "commands");
	size_t i, n = jv_array_size(cmds);

	if (jv_type(cmds) != TTPD_VT_ARRAY)
		return;
	for (i = 0; i < n; i++) {
		const ttpd_value *c = jv_array_get(cmds, i);
		/* out->v may move on push: re-read the base every time */
		const struct event *base = &out->v[base_index];
		ttpd_value *payload;
		char *id;

		if (jv_type(c) == TTPD_VT_STRING) {
			payload = jv_new_object();
			jv_object_set(payload, "command_text", c);
			id = xasprintf("%s#cmd%zu", base->source_id, i);
		} else if (jv_type(c) == TTPD_VT_OBJECT) {
			const ttpd_value *text = jv_object_get(c,
			    "command_text");

			if (!truthy(text))
				text = jv_object_get(c, "text");
			if (jv_type(text) != TTPD_VT_STRING)
				continue;
			payload = jv_copy_object(c);
			jv_object_set(payload, "command_text", text);
			id = first_truthy(c, id_keys);
			if (id == NULL)
				id = xasprintf("%s#cmd%zu", base->source_id, i);
		} else
			continue;
		event_push(out, xstrdup("command"), id,
		    xstrdup_or_null(base->attacker_uuid),
		    xstrdup_or_null(base->identity_uuid),
		    xstrdup_or_null(base->session_id),
		    xstrdup_or_null(base->decky_id), payload);
	}
}

/*
 * Intel catch-up (decnet-host.md 2.2 step 4): a session of an attacker
 * with a stored attacker_intel row also yields an intel event, so intel
 * published before the attacker was known still gets tagged.
 */
static void
intel_catch_up(struct event_list *out, size_t base_index,
    const struct anchor_policy *ap)
{
	const struct event *base = &out->v[base_index];
	ttpd_value *row;

	if (ap == NULL || ap->intel_lookup == NULL ||
	    base->attacker_uuid == NULL)
		return;
	if ((row = ap->intel_lookup(ap->intel_ud, base->attacker_uuid)) ==
	    NULL)
		return;
	event_push(out, xstrdup("intel"), xasprintf("intel-catchup:%s",
	    base->session_id != NULL ? base->session_id :
	    base->attacker_uuid),
	    xstrdup_or_null(base->attacker_uuid),
	    xstrdup_or_null(base->identity_uuid),
	    xstrdup_or_null(base->session_id),
	    xstrdup_or_null(base->decky_id), row);
}

static enum event_result
build_from_envelope(const ttpd_value *line, const struct anchor_policy *ap,
    struct event_list *out, char *err, size_t errlen)
{
	static const char *const id_keys[] = { "source_id", "session_id",
		"token_id", "identity_uuid", "credential_id", "attacker_uuid",
		"uuid", NULL };
	const ttpd_value *topicv = jv_object_get(line, "topic");
	const ttpd_value *typev = jv_object_get(line, "type");
	const ttpd_value *payloadv = jv_object_get(line, "payload");
	const ttpd_value *ver = jv_object_get(line, "v");
	const char *topic = jv_string(topicv), *kind;
	ttpd_value *payload;
	char *id;
	size_t from = out->n;
	int64_t v;

	if (topic == NULL) {
		snprintf(err, errlen, "envelope topic must be a string");
		return EVENT_BAD;
	}
	if (ver != NULL && (jv_get_int(ver, &v) != TTPD_OK || v != 1)) {
		snprintf(err, errlen, "envelope v must be 1");
		return EVENT_BAD;
	}
	if (typev != NULL && jv_type(typev) != TTPD_VT_STRING &&
	    jv_type(typev) != TTPD_VT_NULL) {
		snprintf(err, errlen, "envelope type must be a string");
		return EVENT_BAD;
	}
	switch (jv_type(payloadv)) {
	case TTPD_VT_ABSENT:
	case TTPD_VT_NULL:
		payloadv = NULL;
		break;
	case TTPD_VT_OBJECT:
		break;
	default:
		snprintf(err, errlen, "envelope payload must be an object");
		return EVENT_BAD;
	}
	kind = event_topic_kind(topic);
	if (kind == NULL) {
		snprintf(err, errlen, "unknown topic '%s'", topic);
		return EVENT_BAD;
	}
	if (kind[0] == '\0') {
		kind = jv_string(typev);
		if (kind == NULL || kind[0] == '\0') {
			snprintf(err, errlen, "topic %s without an envelope "
			    "type: nothing to tag", topic);
			return EVENT_IGNORED;
		}
	}
	if (payloadv == NULL) {
		ttpd_value *empty = jv_new_object();

		payload = resolve_anchor(empty, ap, err, errlen);
		jv_decref(empty);
	} else
		payload = resolve_anchor(payloadv, ap, err, errlen);
	if (payload == NULL)
		return EVENT_DROPPED;
	id = first_truthy(payload, id_keys);
	if (id == NULL)
		id = xstrdup(topic);
	event_push(out, xstrdup(kind), id,
	    py_str(jv_object_get(payload, "attacker_uuid")),
	    py_str(jv_object_get(payload, "identity_uuid")),
	    py_str(jv_object_get(payload, "session_id")),
	    py_str(jv_object_get(payload, "decky_id")), payload);
	if (strcmp(kind, "session") == 0)
		fan_out_commands(out, from);
	if (strcmp(topic, "attacker.session.ended") == 0)
		intel_catch_up(out, from, ap);
	event_list_seal(out, from);
	return EVENT_OK;
}

enum event_result
event_build(const ttpd_value *line, const struct anchor_policy *anchors,
    struct event_list *out, char *err, size_t errlen)
{
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (jv_type(line) != TTPD_VT_OBJECT) {
		snprintf(err, errlen, "not a JSON object");
		return EVENT_BAD;
	}
	if (jv_object_get(line, "topic") != NULL)
		return build_from_envelope(line, anchors, out, err, errlen);
	if (jv_object_get(line, "source_kind") != NULL)
		return build_tagger_event(line, out, err, errlen);
	snprintf(err, errlen, "neither an envelope (topic) nor a tagger event "
	    "(source_kind)");
	return EVENT_BAD;
}

const char *
event_reason_name(enum event_reason r)
{
	static const char *const names[EVR_COUNT] = {
		[EVR_OK] = "ok",
		[EVR_OVERSIZED] = "oversized",
		[EVR_UTF8] = "invalid_utf8",
		[EVR_JSON] = "not_json",
		[EVR_NOT_OBJECT] = "not_object",
		[EVR_MISSING] = "missing_field",
		[EVR_TYPE] = "wrong_type",
		[EVR_UNKNOWN_TOPIC] = "unknown_topic",
	};

	return (unsigned)r < EVR_COUNT ? names[r] : "?";
}

enum event_reason
event_decode_bus(const char *subject, const char *data, size_t len,
    size_t max_bytes, ttpd_value **out, char *err, size_t errlen)
{
	const ttpd_value *m;
	ttpd_value *env;
	char perr[200];
	int64_t v;
	int t;

	*out = NULL;
	if (len > max_bytes) {
		snprintf(err, errlen, "%zu bytes, more than input."
		    "max_event_bytes (%zu)", len, max_bytes);
		return EVR_OVERSIZED;
	}
	if (subject == NULL || event_topic_kind(subject) == NULL) {
		snprintf(err, errlen, "no source kind for subject '%s'",
		    subject != NULL ? subject : "");
		return EVR_UNKNOWN_TOPIC;
	}
	if (!jv_utf8_valid(data, len)) {
		snprintf(err, errlen, "body is not valid UTF-8");
		return EVR_UTF8;
	}
	if ((env = jv_parse(data, len, perr, sizeof perr)) == NULL) {
		snprintf(err, errlen, "body is not JSON: %s", perr);
		return EVR_JSON;
	}
	if (jv_type(env) != TTPD_VT_OBJECT) {
		snprintf(err, errlen, "body is JSON but not an object");
		goto bad_object;
	}
	if ((m = jv_object_get(env, "v")) != NULL &&
	    (jv_get_int(m, &v) != TTPD_OK || v != 1)) {
		snprintf(err, errlen, "envelope v must be the integer 1");
		goto bad_type;
	}
	if ((m = jv_object_get(env, "id")) != NULL &&
	    jv_type(m) != TTPD_VT_STRING) {
		snprintf(err, errlen, "envelope id must be a string");
		goto bad_type;
	}
	if ((m = jv_object_get(env, "type")) != NULL &&
	    jv_type(m) != TTPD_VT_STRING && jv_type(m) != TTPD_VT_NULL) {
		snprintf(err, errlen, "envelope type must be a string");
		goto bad_type;
	}
	if ((m = jv_object_get(env, "ts")) != NULL &&
	    (t = jv_type(m)) != TTPD_VT_INT && t != TTPD_VT_REAL) {
		snprintf(err, errlen, "envelope ts must be a number");
		goto bad_type;
	}
	m = jv_object_get(env, "payload");
	if (m == NULL) {
		snprintf(err, errlen, "envelope without a payload");
		jv_decref(env);
		return EVR_MISSING;
	}
	if (jv_type(m) != TTPD_VT_OBJECT && jv_type(m) != TTPD_VT_NULL) {
		snprintf(err, errlen, "envelope payload must be an object");
		goto bad_type;
	}
	/* the transport topic wins (decnet-host.md 1.3) */
	jv_object_set_new(env, "topic", jv_new_string(subject,
	    strlen(subject)));
	*out = env;
	return EVR_OK;
bad_object:
	jv_decref(env);
	return EVR_NOT_OBJECT;
bad_type:
	jv_decref(env);
	return EVR_TYPE;
}
