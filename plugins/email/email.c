/*
 * The email lifter: DECNET's EmailLifter (decnet-lifters.md 3.4), rules
 * R0041-R0048 and every rule whose match.kind starts with
 * "lifter:email_".  Each rule kind has its own predicate; the evidence is
 * DECNET's email recipe (a per-event base, the predicate's extra keys, a
 * 12-key allowlist), not the common evidence_fields recipe.
 *
 * The message body is payload.body_text when that is a string.  Otherwise,
 * and only when the artifacts_root config key is set, it is the text of
 * the stored message <artifacts_root>/<payload.decky_id>/smtp/
 * <payload.stored_as> (artifact.c opens it, mime.c finds its text part).
 * No other path from an event is ever opened.
 *
 * Departures from DECNET (DESIGN.md "Parity policy"):
 *   - JSON booleans are never numbers: a boolean rcpt_count is "not an
 *     int" (0 in evidence, never reaches a threshold), a boolean
 *     body_simhash or body_base64_bytes does not count.
 *   - A non-list rcpt_domains counts as absent (DECNET iterates a string
 *     per character and aborts the whole event on a number).
 *   - The disk is read only when artifacts_root is set (DECNET always
 *     reads $DECNET_ARTIFACTS_ROOT, default /var/lib/decnet/artifacts).
 *   - No symbolic link below the root is followed, even one that stays
 *     inside it; a non-regular file or one above max_message_bytes is
 *     refused; every refusal is logged and counted.
 *   - The stored body is loaded once, before any rule runs, so every tag
 *     of the event carries the same body_sha256 (DECNET caches it into
 *     the payload from R0047/R0048 on, so earlier rules see "").
 *   - MIME parsing is bounded (mime.h) and knows the us-ascii, utf-8,
 *     latin-1 and cp1252 charsets; a text part in another charset is
 *     skipped like one Python cannot decode.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <ttpd/lifter.h>

#include "../common/pyvalue.h"

#include "artifact.h"
#include "mime.h"
#include "pyfold.h"
#include "sha256.h"

#define DEFAULT_MAX_MESSAGE_BYTES (8 * 1024 * 1024)
#define MAX_MAX_MESSAGE_BYTES (1024 * 1024 * 1024)

/* What happened to the stored messages this instance looked for. */
struct disk_counters {
	uint64_t loaded;         /* read, and a text part found */
	uint64_t no_text;        /* read, but no text part decoded */
	uint64_t refused_name;   /* decky_id or stored_as failed validation */
	uint64_t refused_escape; /* a symbolic link below the root */
	uint64_t refused_type;   /* not a directory / not a regular file */
	uint64_t refused_size;   /* above max_message_bytes */
	uint64_t missing;        /* no such file or directory */
	uint64_t io_error;       /* any other error opening or reading */
	uint64_t mime_limit;     /* a MIME limit cut the walk short */
};

/* At most LOG_BURST disk complaints per LOG_WINDOW_S seconds. */
#define LOG_BURST 10
#define LOG_WINDOW_S 60

struct email_state {
	const ttpd_host *host;
	ttpd_ctx *ctx;
	char *root;                  /* artifacts_root, or NULL */
	size_t max_message_bytes;
	struct mime_limits mime;
	struct disk_counters count;
	time_t log_window;           /* start of the current window */
	unsigned log_lines;          /* complaints logged in it */
	uint64_t log_suppressed;     /* complaints not logged since */
};

/* Per-event working set; nothing survives handle(). */
struct email_event {
	const ttpd_host *h;
	ttpd_sink *sink;
	const ttpd_value *p;
	ttpd_value *body_sha256;     /* base value */
	ttpd_value *rcpt_domain_set;
	ttpd_value *attachment_sha256s;
	ttpd_value *rcpt_count;
	ttpd_value *body_text_sha;   /* sha256(body) when non-empty */
	int body_text_sha_done;
	char *disk_body;             /* the stored message's text, or NULL */
	size_t disk_body_len;
};

/* The 12 evidence keys DECNET's email schema allows. */
static const char *const allowed_keys[] = {
	"body_sha256", "matched_headers", "rcpt_domain_set",
	"attachment_sha256s", "rcpt_count", "matched_kit", "matched_trigger",
	"matched_url_host", "matched_signals", "matched_subject_kw",
	"matched_body_kw", "encoded_byte_count", NULL
};

static int
key_allowed(const char *key)
{
	size_t i;

	for (i = 0; allowed_keys[i] != NULL; i++)
		if (strcmp(allowed_keys[i], key) == 0)
			return 1;
	return 0;
}

/* ---- value helpers (Python semantics, booleans never numbers) ---- */

static int
get_str(const struct email_event *e, const ttpd_value *v, const char **s,
    size_t *len)
{
	return e->h->get_string(v, s, len) == TTPD_OK;
}

static int
is_true(const struct email_event *e, const char *key)
{
	int b;

	return e->h->get_bool(e->h->object_get(e->p, key), &b) == TTPD_OK &&
	    b;
}

static int
is_false(const struct email_event *e, const char *key)
{
	int b;

	return e->h->get_bool(e->h->object_get(e->p, key), &b) == TTPD_OK &&
	    !b;
}

/* A numeric match parameter, or dflt when absent or not a number. */
static double
spec_number(const struct email_event *e, const ttpd_rule *rule,
    const char *key, double dflt)
{
	double d;

	if (e->h->get_number(e->h->object_get(rule->match, key), &d) ==
	    TTPD_OK)
		return d;
	return dflt;
}

/*
 * DECNET's domain(x): the part after the first '@' (else all of it),
 * lower-cased and stripped.  An empty or non-string input has no domain;
 * the result itself may be "" (e.g. "x@"), which R0045 compares as a
 * domain and R0041 does not.  Returns a malloc'd string or NULL.
 */
static char *
domain_of(const struct email_event *e, const ttpd_value *v)
{
	const char *s, *at;
	char *low, *out;
	size_t len, lowlen, a, b;

	if (!get_str(e, v, &s, &len) || len == 0)
		return NULL;
	at = memchr(s, '@', len);
	if (at != NULL) {
		len -= (size_t)(at + 1 - s);
		s = at + 1;
	}
	if ((low = py_lower(s, len, &lowlen)) == NULL)
		return NULL;
	py_strip(low, lowlen, &a, &b);
	out = malloc(b - a + 1);
	if (out != NULL) {
		memcpy(out, low + a, b - a);
		out[b - a] = '\0';
	}
	free(low);
	return out;
}

/* domain() of the first truthy of two payload keys (R0041). */
static char *
domain_first_truthy(const struct email_event *e, const char *k1,
    const char *k2)
{
	const ttpd_value *v = e->h->object_get(e->p, k1);

	if (!py_truthy(e->h, v))
		v = e->h->object_get(e->p, k2);
	return domain_of(e, v);
}

static int
domains_differ(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) != 0;
}

/* ---- evidence ---- */

struct span {
	char *s;
	size_t len;
};

static int
span_cmp(const void *pa, const void *pb)
{
	const struct span *a = pa, *b = pb;
	size_t n = a->len < b->len ? a->len : b->len;
	int c = memcmp(a->s, b->s, n);

	if (c != 0)
		return c;
	return a->len < b->len ? -1 : a->len > b->len;
}

/* Sorted, de-duplicated, lower-cased string elements of rcpt_domains. */
static ttpd_value *
make_rcpt_domain_set(struct email_event *e)
{
	const ttpd_host *h = e->h;
	const ttpd_value *list = h->object_get(e->p, "rcpt_domains");
	ttpd_value *out = h->new_array(e->sink);
	struct span *v = NULL;
	size_t n = 0, i, cnt;
	int ok = out != NULL;

	if (!ok || h->value_type(list) != TTPD_VT_ARRAY)
		return out;
	cnt = h->array_size(list);
	if (cnt > 0 && (v = calloc(cnt, sizeof *v)) == NULL)
		return NULL;
	for (i = 0; i < cnt; i++) {
		const char *s;
		size_t len;

		if (!get_str(e, h->array_get(list, i), &s, &len))
			continue;
		if ((v[n].s = py_lower(s, len, &v[n].len)) == NULL) {
			ok = 0;
			break;
		}
		n++;
	}
	if (ok && n > 0)
		qsort(v, n, sizeof *v, span_cmp);
	for (i = 0; ok && i < n; i++) {
		ttpd_value *str;

		if (i > 0 && span_cmp(&v[i - 1], &v[i]) == 0)
			continue;
		str = h->new_string(e->sink, v[i].s, v[i].len);
		if (str == NULL || h->array_append(out, str) != TTPD_OK)
			ok = 0;
	}
	for (i = 0; i < n; i++)
		free(v[i].s);
	free(v);
	return ok ? out : NULL;
}

static ttpd_value *
make_string_list(struct email_event *e, const char *key)
{
	const ttpd_host *h = e->h;
	const ttpd_value *list = h->object_get(e->p, key);
	ttpd_value *out = h->new_array(e->sink);
	size_t i, cnt;

	if (out == NULL || h->value_type(list) != TTPD_VT_ARRAY)
		return out;
	cnt = h->array_size(list);
	for (i = 0; i < cnt; i++) {
		const ttpd_value *el = h->array_get(list, i);

		if (h->value_type(el) == TTPD_VT_STRING &&
		    h->array_append(out, el) != TTPD_OK)
			return NULL;
	}
	return out;
}

/* The per-event base evidence; 0 or TTPD_ENOMEM. */
static int
make_base(struct email_event *e)
{
	const ttpd_host *h = e->h;
	const ttpd_value *v;

	v = h->object_get(e->p, "body_sha256");
	e->body_sha256 = h->value_type(v) == TTPD_VT_STRING ?
	    (ttpd_value *)v : h->new_string(e->sink, "", 0);
	e->rcpt_domain_set = make_rcpt_domain_set(e);
	e->attachment_sha256s = make_string_list(e, "attachment_sha256s");
	v = h->object_get(e->p, "rcpt_count");
	e->rcpt_count = h->value_type(v) == TTPD_VT_INT ? (ttpd_value *)v :
	    h->new_int(e->sink, 0);
	if (e->body_sha256 == NULL || e->rcpt_domain_set == NULL ||
	    e->attachment_sha256s == NULL || e->rcpt_count == NULL)
		return TTPD_ENOMEM;
	return TTPD_OK;
}

static int load_body(const struct email_event *, const char **, size_t *);

/* sha256 of a non-empty body (payload.body_text or the stored message's
 * text, DECNET's cached body_text), computed at most once. */
static ttpd_value *
body_text_sha(struct email_event *e)
{
	const char *s;
	size_t len;
	char hex[65];

	if (!e->body_text_sha_done) {
		e->body_text_sha_done = 1;
		if (load_body(e, &s, &len) && len > 0) {
			sha256_hex(s, len, hex);
			e->body_text_sha = e->h->new_string(e->sink, hex, 64);
		}
	}
	return e->body_text_sha;
}

/*
 * A fresh evidence object: the base, matched_headers from `headers` (the
 * base list is empty, so the merged union is just these, sorted by the
 * caller), to which the predicate then adds its extra keys.
 */
static ttpd_value *
evidence_begin(struct email_event *e, const char *const *headers,
    size_t nheaders)
{
	const ttpd_host *h = e->h;
	ttpd_value *ev = h->new_object(e->sink);
	ttpd_value *hdrs = h->new_array(e->sink);
	const ttpd_value *sha = e->body_sha256;
	const char *s;
	size_t len, i;

	if (ev == NULL || hdrs == NULL)
		return NULL;
	for (i = 0; i < nheaders; i++) {
		ttpd_value *str = h->new_string(e->sink, headers[i],
		    strlen(headers[i]));

		if (str == NULL || h->array_append(hdrs, str) != TTPD_OK)
			return NULL;
	}
	/* Step 5 of DECNET's recipe: an empty body_sha256 takes the
	 * body_text hash (it is the last step there; the key keeps its
	 * first position either way). */
	if (get_str(e, sha, &s, &len) && len == 0 && body_text_sha(e) != NULL)
		sha = body_text_sha(e);
	if (h->object_set(ev, "body_sha256", sha) != TTPD_OK ||
	    h->object_set(ev, "matched_headers", hdrs) != TTPD_OK ||
	    h->object_set(ev, "rcpt_domain_set", e->rcpt_domain_set) !=
	    TTPD_OK ||
	    h->object_set(ev, "attachment_sha256s", e->attachment_sha256s) !=
	    TTPD_OK ||
	    h->object_set(ev, "rcpt_count", e->rcpt_count) != TTPD_OK)
		return NULL;
	return ev;
}

/* Overlay one extra key, dropping it when the allowlist does not have it. */
static int
evidence_extra(struct email_event *e, ttpd_value *ev, const char *key,
    const ttpd_value *val)
{
	if (!key_allowed(key))
		return TTPD_OK;
	if (val == NULL)
		return TTPD_ENOMEM;
	return e->h->object_set(ev, key, val) == TTPD_OK ? TTPD_OK :
	    TTPD_ENOMEM;
}

static int
fire(struct email_event *e, const ttpd_rule *rule, ttpd_value *ev)
{
	int rc;

	if (ev == NULL)
		return TTPD_ENOMEM;
	rc = e->h->emit(e->sink, rule, TTPD_EMIT_ALL, 1.0, ev, 0);
	return rc < 0 ? rc : TTPD_OK;
}

static ttpd_value *
new_str(struct email_event *e, const char *s)
{
	return e->h->new_string(e->sink, s, strlen(s));
}

/* The message body: payload.body_text when it is a string, else the
 * stored message's text when one was loaded (see top). */
static int
load_body(const struct email_event *e, const char **s, size_t *len)
{
	if (get_str(e, e->h->object_get(e->p, "body_text"), s, len))
		return 1;
	if (e->disk_body == NULL)
		return 0;
	*s = e->disk_body;
	*len = e->disk_body_len;
	return 1;
}

/* ---- predicates: TTPD_OK (fired or not) or a negative error ---- */

static int
rcpt_at_least(const struct email_event *e, const ttpd_rule *rule,
    double dflt)
{
	int64_t n;

	/* get_int() takes integers only: booleans and reals never count. */
	if (e->h->get_int(e->h->object_get(e->p, "rcpt_count"), &n) !=
	    TTPD_OK)
		return 0;
	return (double)n >= spec_number(e, rule, "rcpt_threshold", dflt);
}

static int
p_open_relay(struct email_event *e, const ttpd_rule *rule)
{
	static const char *const hdrs[] = { "From", "Mail-From" };
	const ttpd_value *req;
	char *fd, *md;
	int hit;

	if (!rcpt_at_least(e, rule, 10))
		return TTPD_OK;
	req = e->h->object_get(rule->match, "require_foreign_from");
	if (req == NULL || py_truthy(e->h, req)) {
		fd = domain_first_truthy(e, "from_domain", "from");
		md = domain_first_truthy(e, "mail_from_domain", "mail_from");
		hit = domains_differ(fd, md) && fd[0] != '\0' &&
		    md[0] != '\0';
		free(fd);
		free(md);
		if (!hit)
			return TTPD_OK;
	}
	return fire(e, rule, evidence_begin(e, hdrs, 2));
}

static int
p_mass_phish(struct email_event *e, const ttpd_rule *rule)
{
	int t;

	if (!rcpt_at_least(e, rule, 25))
		return TTPD_OK;
	t = e->h->value_type(e->h->object_get(e->p, "body_simhash"));
	if (t != TTPD_VT_STRING && t != TTPD_VT_INT)
		return TTPD_OK;
	return fire(e, rule, evidence_begin(e, NULL, 0));
}

static int
p_xmailer_kit(struct email_event *e, const ttpd_rule *rule)
{
	static const char *const hdrs[] = { "X-Mailer" };
	const ttpd_value *kit = e->h->object_get(e->p, "matched_kit");
	const char *s;
	size_t len;
	ttpd_value *ev;

	if (!get_str(e, e->h->object_get(e->p, "x_mailer"), &s, &len) ||
	    len == 0)
		return TTPD_OK;
	if (get_str(e, kit, &s, &len) && len > 0) {
		ev = evidence_begin(e, hdrs, 1);
		if (ev != NULL && evidence_extra(e, ev, "matched_kit", kit) !=
		    TTPD_OK)
			return TTPD_ENOMEM;
		return fire(e, rule, ev);
	}
	if (!is_true(e, "xmailer_kit_match"))
		return TTPD_OK;
	return fire(e, rule, evidence_begin(e, hdrs, 1));
}

/* Lower-cased group 1 of an anchored `https?://([^/]+)`, else "". */
static ttpd_value *
url_host(struct email_event *e, const char *url, size_t len)
{
	size_t skip, end, lowlen;
	char *low;
	ttpd_value *v;

	if (len >= 7 && memcmp(url, "http://", 7) == 0)
		skip = 7;
	else if (len >= 8 && memcmp(url, "https://", 8) == 0)
		skip = 8;
	else
		return new_str(e, "");
	for (end = skip; end < len && url[end] != '/'; end++)
		;
	if (end == skip)
		return new_str(e, "");
	if ((low = py_lower(url + skip, end - skip, &lowlen)) == NULL)
		return NULL;
	v = e->h->new_string(e->sink, low, lowlen);
	free(low);
	return v;
}

static int
p_idn_url(struct email_event *e, const ttpd_rule *rule)
{
	static const char *const hdrs[] = { "body" };
	const ttpd_host *h = e->h;
	const ttpd_value *urls = h->object_get(e->p, "urls");
	const char *prefix = "xn--", *s;
	size_t plen = 4, len, i, n;
	ttpd_value *ev;

	if (h->value_type(urls) != TTPD_VT_ARRAY)
		return TTPD_OK;
	(void)get_str(e, h->object_get(rule->match, "punycode_prefix"),
	    &prefix, &plen);
	n = h->array_size(urls);
	for (i = 0; i < n; i++) {
		if (!get_str(e, h->array_get(urls, i), &s, &len))
			continue;
		if (plen > 0 && (plen > len || memmem(s, len, prefix, plen) ==
		    NULL))
			continue;
		ev = evidence_begin(e, hdrs, 1);
		if (ev != NULL && evidence_extra(e, ev, "matched_url_host",
		    url_host(e, s, len)) != TTPD_OK)
			return TTPD_ENOMEM;
		return fire(e, rule, ev);
	}
	return TTPD_OK;
}

/* Is `name` listed in the rule's match.signals (all when absent)? */
static int
signal_listed(const struct email_event *e, const ttpd_rule *rule,
    const char *name)
{
	const ttpd_value *list = e->h->object_get(rule->match, "signals");
	const char *s;
	size_t len, i, n;

	if (list == NULL)
		return 1;
	if (e->h->value_type(list) != TTPD_VT_ARRAY)
		return 0;
	n = e->h->array_size(list);
	for (i = 0; i < n; i++)
		if (get_str(e, e->h->array_get(list, i), &s, &len) &&
		    len == strlen(name) && memcmp(s, name, len) == 0)
			return 1;
	return 0;
}

static int
p_sender_masquerade(struct email_event *e, const ttpd_rule *rule)
{
	const ttpd_host *h = e->h;
	const char *signals[4], *hdrs[4];
	size_t ns = 0, nh = 0, i;
	char *fd, *rp, *md;
	ttpd_value *ev, *list;
	int from_hit = 0;

	fd = domain_of(e, h->object_get(e->p, "from_domain"));
	rp = domain_of(e, h->object_get(e->p, "return_path_domain"));
	md = domain_of(e, h->object_get(e->p, "mail_from_domain"));
	if (signal_listed(e, rule, "from_returnpath_mismatch") &&
	    domains_differ(fd, rp))
		signals[ns++] = "from_returnpath_mismatch";
	if (signal_listed(e, rule, "from_mailfrom_mismatch") &&
	    domains_differ(fd, md))
		signals[ns++] = "from_mailfrom_mismatch";
	free(fd);
	free(rp);
	free(md);
	from_hit = ns > 0;
	if (signal_listed(e, rule, "dkim_fail") && is_false(e, "dkim_signed"))
		signals[ns++] = "dkim_fail";
	if (signal_listed(e, rule, "spf_fail") && is_false(e, "spf_pass"))
		signals[ns++] = "spf_fail";
	if (ns == 0)
		return TTPD_OK;
	/* Sorted: Authentication-Results < DKIM-Signature < From < ... */
	for (i = 0; i < ns; i++)
		if (strcmp(signals[i], "spf_fail") == 0)
			hdrs[nh++] = "Authentication-Results";
	for (i = 0; i < ns; i++)
		if (strcmp(signals[i], "dkim_fail") == 0)
			hdrs[nh++] = "DKIM-Signature";
	if (from_hit) {
		hdrs[nh++] = "From";
		hdrs[nh++] = "Return-Path";
	}
	ev = evidence_begin(e, hdrs, nh);
	if (ev == NULL || (list = h->new_array(e->sink)) == NULL)
		return TTPD_ENOMEM;
	for (i = 0; i < ns; i++) {
		ttpd_value *str = new_str(e, signals[i]);

		if (str == NULL || h->array_append(list, str) != TTPD_OK)
			return TTPD_ENOMEM;
	}
	if (evidence_extra(e, ev, "matched_signals", list) != TTPD_OK)
		return TTPD_ENOMEM;
	return fire(e, rule, ev);
}

/* Is ext (already lower-cased) among attachment_extensions? */
static int
has_extension(const struct email_event *e, const char *ext)
{
	const ttpd_value *list = e->h->object_get(e->p,
	    "attachment_extensions");
	const char *s;
	size_t len, i, n, lowlen;
	int hit = 0;

	if (e->h->value_type(list) != TTPD_VT_ARRAY)
		return 0;
	n = e->h->array_size(list);
	for (i = 0; i < n && !hit; i++) {
		char *low;

		if (!get_str(e, e->h->array_get(list, i), &s, &len))
			continue;
		while (len > 0 && *s == '.') {
			s++;
			len--;
		}
		if ((low = py_lower(s, len, &lowlen)) == NULL)
			return -1;
		hit = lowlen == strlen(ext) && memcmp(low, ext, lowlen) == 0;
		free(low);
	}
	return hit;
}

static int
p_malicious_attachment(struct email_event *e, const ttpd_rule *rule)
{
	static const struct {
		const char *payload_key, *trigger;
	} flags[] = {
		{ "attachment_macros", "office_macro" },
		{ "attachment_password_protected", "protected_archive" },
		{ "html_smuggling", "html_smuggling" },
		{ "mal_hash_match", "mal_hash_match" },
	};
	static const char *const exts[] = { "lnk", "iso", "img" };
	const char *trigger = NULL;
	ttpd_value *ev;
	size_t i;
	int r;

	for (i = 0; i < sizeof flags / sizeof flags[0] && trigger == NULL;
	    i++)
		if (is_true(e, flags[i].payload_key))
			trigger = flags[i].trigger;
	for (i = 0; i < sizeof exts / sizeof exts[0] && trigger == NULL;
	    i++) {
		if ((r = has_extension(e, exts[i])) < 0)
			return TTPD_ENOMEM;
		if (r)
			trigger = exts[i];
	}
	if (trigger == NULL)
		return TTPD_OK;
	ev = evidence_begin(e, NULL, 0);
	if (ev != NULL && evidence_extra(e, ev, "matched_trigger",
	    new_str(e, trigger)) != TTPD_OK)
		return TTPD_ENOMEM;
	return fire(e, rule, ev);
}

/*
 * The first string of match.<key> whose lower-case form occurs in the
 * lower-cased text; its value (as written) in *kw.  -1 on ENOMEM.
 */
static int
first_keyword(const struct email_event *e, const ttpd_rule *rule,
    const char *key, const char *low, size_t lowlen, const ttpd_value **kw)
{
	const ttpd_value *list = e->h->object_get(rule->match, key);
	const char *s;
	size_t len, i, n, klen;

	if (e->h->value_type(list) != TTPD_VT_ARRAY)
		return 0;
	n = e->h->array_size(list);
	for (i = 0; i < n; i++) {
		char *k;
		int hit;

		if (!get_str(e, e->h->array_get(list, i), &s, &len))
			continue;
		if ((k = py_lower(s, len, &klen)) == NULL)
			return -1;
		hit = klen == 0 || (klen <= lowlen &&
		    memmem(low, lowlen, k, klen) != NULL);
		free(k);
		if (hit) {
			*kw = e->h->array_get(list, i);
			return 1;
		}
	}
	return 0;
}

static int
p_bec(struct email_event *e, const ttpd_rule *rule)
{
	static const char *const hdrs[] = { "Subject" };
	const ttpd_value *skw = NULL, *bkw = NULL;
	const char *subj, *body;
	size_t slen, blen, lslen, lblen;
	char *lsubj = NULL, *lbody = NULL;
	ttpd_value *ev;
	int rs = 0, rb = 0, rc = TTPD_OK;

	if (!get_str(e, e->h->object_get(e->p, "subject"), &subj, &slen) ||
	    !load_body(e, &body, &blen))
		return TTPD_OK;
	if ((lsubj = py_lower(subj, slen, &lslen)) == NULL ||
	    (lbody = py_lower(body, blen, &lblen)) == NULL)
		rc = TTPD_ENOMEM;
	if (rc == TTPD_OK)
		rs = first_keyword(e, rule, "subject_keywords", lsubj, lslen,
		    &skw);
	if (rc == TTPD_OK && rs > 0)
		rb = first_keyword(e, rule, "body_action_keywords", lbody,
		    lblen, &bkw);
	free(lsubj);
	free(lbody);
	if (rc != TTPD_OK || rs < 0 || rb < 0)
		return TTPD_ENOMEM;
	if (rs == 0 || rb == 0)
		return TTPD_OK;
	ev = evidence_begin(e, hdrs, 1);
	if (ev == NULL ||
	    evidence_extra(e, ev, "matched_subject_kw", skw) != TTPD_OK ||
	    evidence_extra(e, ev, "matched_body_kw", bkw) != TTPD_OK)
		return TTPD_ENOMEM;
	return fire(e, rule, ev);
}

static int
b64_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '+' || c == '/';
}

/*
 * The decoded length of the first run of `[A-Za-z0-9+/]{32,}={0,2}` in
 * the body that is valid base64 and decodes to at least min bytes, or -1.
 * Validity is Python's b64decode(validate=True): no sub-chunking, a run
 * with a bad length or padding is skipped.
 */
static int64_t
scan_base64(const char *body, size_t len, double min)
{
	size_t i = 0, start, n, pads, decoded;

	while (i < len) {
		if (!b64_char((unsigned char)body[i])) {
			i++;
			continue;
		}
		start = i;
		while (i < len && b64_char((unsigned char)body[i]))
			i++;
		n = i - start;
		if (n < 32)
			continue;
		for (pads = 0; pads < 2 && i < len && body[i] == '='; pads++)
			i++;
		if (n % 4 == 1 || (n % 4 == 2 && pads < 2) ||
		    (n % 4 == 3 && pads < 1))
			continue;
		decoded = n / 4 * 3 + (n % 4 == 0 ? 0 : n % 4 - 1);
		if ((double)decoded >= min)
			return (int64_t)decoded;
	}
	return -1;
}

static int
p_encoded_payload(struct email_event *e, const ttpd_rule *rule)
{
	const ttpd_value *v = e->h->object_get(e->p, "body_base64_bytes");
	double min = spec_number(e, rule, "min_bytes", 4096);
	const char *body;
	size_t blen;
	int64_t count = -1;
	ttpd_value *ev;

	if (!load_body(e, &body, &blen) || blen == 0)
		return TTPD_OK;
	/* A producer-computed count wins when it reaches the minimum. */
	if (e->h->value_type(v) != TTPD_VT_INT ||
	    e->h->get_int(v, &count) != TTPD_OK || (double)count < min)
		count = scan_base64(body, blen, min);
	if (count < 0)
		return TTPD_OK;
	ev = evidence_begin(e, NULL, 0);
	if (ev != NULL && evidence_extra(e, ev, "encoded_byte_count",
	    e->h->new_int(e->sink, count)) != TTPD_OK)
		return TTPD_ENOMEM;
	return fire(e, rule, ev);
}

/* ---- the stored message (artifacts_root) ---- */

/*
 * Printable form of an event-supplied name for a log line: at most 80
 * bytes, anything but printable ASCII as \xNN, so a name can neither
 * forge log lines nor flood them.
 */
static void
log_name(char *out, size_t outsz, const char *s, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < len && n + 5 < outsz; i++) {
		unsigned char c = (unsigned char)s[i];

		if (n >= 80) {
			memcpy(out + n, "...", 3);
			n += 3;
			break;
		}
		if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"')
			out[n++] = (char)c;
		else
			n += (size_t)snprintf(out + n, outsz - n, "\\x%02x", c);
	}
	out[n] = '\0';
}

/* May another disk complaint be logged now?  (Rate limit per instance.) */
static int
log_allowed(struct email_state *st)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (st->log_lines == 0 || ts.tv_sec - st->log_window >= LOG_WINDOW_S) {
		st->log_window = ts.tv_sec;
		st->log_lines = 0;
	}
	if (st->log_lines >= LOG_BURST) {
		st->log_suppressed++;
		return 0;
	}
	st->log_lines++;
	return 1;
}

static void
disk_complaint(struct email_state *st, int level, const char *decky,
    size_t dlen, const char *name, size_t nlen, const char *counter,
    uint64_t value, const char *reason, const char *detail)
{
	char d[128], n[128], more[64] = "";

	if (!log_allowed(st))
		return;
	log_name(d, sizeof d, decky, dlen);
	log_name(n, sizeof n, name, nlen);
	if (st->log_suppressed > 0) {
		snprintf(more, sizeof more, "; %" PRIu64 " similar messages "
		    "suppressed", st->log_suppressed);
		st->log_suppressed = 0;
	}
	st->host->log(st->ctx, level, "stored message \"%s/smtp/%s\" "
	    "refused (%s=%" PRIu64 "): %s%s%s%s", d, n, counter, value,
	    reason, detail != NULL ? ": " : "", detail != NULL ? detail : "",
	    more);
}

/* Does any of this event's rules read the body (R0047, R0048)? */
static int
rules_need_body(const ttpd_rule *const *rules, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (rules[i]->kind != NULL &&
		    (strcmp(rules[i]->kind, "lifter:email_bec") == 0 ||
		    strcmp(rules[i]->kind, "lifter:email_encoded_payload") == 0))
			return 1;
	return 0;
}

/*
 * DECNET's body loader, steps 2-4: payload.decky_id and payload.stored_as
 * name a message below artifacts_root; read it and take its text part.
 * Failures leave e->disk_body NULL (no body); only ENOMEM is an error.
 */
static int
load_disk_body(struct email_state *st, struct email_event *e)
{
	const char *decky, *name, *reason;
	size_t dlen, nlen, len;
	struct mime_result mr;
	char *data, why[128];
	uint64_t *counter;
	const char *counter_name;
	int rc, errnum, level = TTPD_LOG_WARNING;

	if (!get_str(e, e->h->object_get(e->p, "decky_id"), &decky, &dlen) ||
	    !get_str(e, e->h->object_get(e->p, "stored_as"), &name, &nlen))
		return TTPD_OK;
	rc = artifact_read(st->root, decky, dlen, name, nlen,
	    st->max_message_bytes, &data, &len, &errnum);
	switch (rc) {
	case ART_OK:
		break;
	case ART_NOMEM:
		return TTPD_ENOMEM;
	case ART_BAD_DECKY:
	case ART_BAD_NAME:
		counter = &st->count.refused_name;
		counter_name = "refused_name";
		break;
	case ART_SYMLINK:
		counter = &st->count.refused_escape;
		counter_name = "refused_escape";
		break;
	case ART_NOT_DIR:
	case ART_NOT_REGULAR:
		counter = &st->count.refused_type;
		counter_name = "refused_type";
		break;
	case ART_TOO_LARGE:
		counter = &st->count.refused_size;
		counter_name = "refused_size";
		level = TTPD_LOG_NOTICE;
		break;
	case ART_MISSING:
		counter = &st->count.missing;
		counter_name = "missing";
		level = TTPD_LOG_NOTICE;
		break;
	default:
		counter = &st->count.io_error;
		counter_name = "io_error";
		break;
	}
	if (rc != ART_OK) {
		(*counter)++;
		reason = artifact_status_text(rc);
		if (rc == ART_TOO_LARGE)
			snprintf(why, sizeof why, "%zu bytes at most",
			    st->max_message_bytes);
		else if (rc == ART_IO && errnum != 0)
			snprintf(why, sizeof why, "%s", strerror(errnum));
		disk_complaint(st, level, decky, dlen, name, nlen,
		    counter_name, *counter, reason,
		    rc == ART_TOO_LARGE || (rc == ART_IO && errnum != 0) ?
		    why : NULL);
		return TTPD_OK;
	}
	rc = mime_body_text(data, len, &st->mime, &mr);
	free(data);
	if (rc != 0)
		return TTPD_ENOMEM;
	if (mr.hits != 0) {
		st->count.mime_limit++;
		if (log_allowed(st)) {
			char d[128], n[128];

			log_name(d, sizeof d, decky, dlen);
			log_name(n, sizeof n, name, nlen);
			st->host->log(st->ctx, TTPD_LOG_NOTICE, "stored message "
			    "\"%s/smtp/%s\": MIME limits reached (mime_limit="
			    "%" PRIu64 "):%s%s%s; %s", d, n,
			    st->count.mime_limit,
			    mr.hits & MIME_HIT_DEPTH ? " nesting deeper than "
			    "the depth limit" : "",
			    mr.hits & MIME_HIT_PARTS ? " more parts than the "
			    "part limit" : "",
			    mr.hits & MIME_HIT_HEADER ? " a header section "
			    "above the size limit" : "",
			    mr.text != NULL ? "body taken from what was read" :
			    "no body");
		}
	}
	if (mr.text == NULL) {
		st->count.no_text++;
		return TTPD_OK;
	}
	st->count.loaded++;
	e->disk_body = mr.text;
	e->disk_body_len = mr.len;
	return TTPD_OK;
}

/* Dispatch by the exact match.kind; other owned kinds never fire. */
static const struct {
	const char *kind;
	int (*predicate)(struct email_event *, const ttpd_rule *);
} predicates[] = {
	{ "lifter:email_open_relay", p_open_relay },
	{ "lifter:email_mass_phish", p_mass_phish },
	{ "lifter:email_xmailer_kit", p_xmailer_kit },
	{ "lifter:email_idn_url", p_idn_url },
	{ "lifter:email_sender_masquerade", p_sender_masquerade },
	{ "lifter:email_malicious_attachment", p_malicious_attachment },
	{ "lifter:email_bec", p_bec },
	{ "lifter:email_encoded_payload", p_encoded_payload },
};

static int
email_handle(void *state, const ttpd_event *tev, ttpd_sink *sink,
    ttpd_err *err)
{
	struct email_state *st = state;
	struct email_event e;
	const ttpd_rule *const *rules;
	size_t n, i, k;
	int rc;

	memset(&e, 0, sizeof e);
	e.h = st->host;
	e.sink = sink;
	e.p = tev->payload;
	rules = e.h->rules_for(sink, &n);
	if (n == 0)
		return TTPD_OK;
	if (make_base(&e) != TTPD_OK) {
		ttpd_err_set(err, "out of memory");
		return TTPD_ENOMEM;
	}
	/* Loaded before any rule runs, so all see the same body. */
	if (st->root != NULL && rules_need_body(rules, n) &&
	    e.h->value_type(e.h->object_get(e.p, "body_text")) !=
	    TTPD_VT_STRING && load_disk_body(st, &e) != TTPD_OK) {
		ttpd_err_set(err, "out of memory");
		return TTPD_ENOMEM;
	}
	rc = TTPD_OK;
	for (i = 0; i < n && rc >= 0; i++) {
		if (rules[i]->kind == NULL)
			continue;
		for (k = 0; k < sizeof predicates / sizeof predicates[0]; k++)
			if (strcmp(rules[i]->kind, predicates[k].kind) == 0)
				break;
		if (k == sizeof predicates / sizeof predicates[0])
			continue;
		rc = predicates[k].predicate(&e, rules[i]);
		if (rc < 0)
			ttpd_err_set(err, rc == TTPD_ENOMEM ?
			    "out of memory" : "emit refused a tag");
	}
	free(e.disk_body);
	return rc < 0 ? rc : TTPD_OK;
}

static int
email_init(const ttpd_host *host, ttpd_ctx *ctx, void **state,
    ttpd_err *err)
{
	struct email_state *st;
	const char *root = NULL;
	int64_t max = DEFAULT_MAX_MESSAGE_BYTES;
	struct stat sb;
	char msg[sizeof err->msg];
	int rc;

	rc = host->config_string(ctx, "artifacts_root", &root);
	if (rc == TTPD_EINVAL) {
		ttpd_err_set(err, "artifacts_root must be a string");
		return TTPD_EINVAL;
	}
	if (rc == TTPD_OK) {
		if (root[0] != '/') {
			ttpd_err_set(err, "artifacts_root must be an absolute "
			    "path");
			return TTPD_EINVAL;
		}
		if (stat(root, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
			snprintf(msg, sizeof msg, "artifacts_root %s: %s", root,
			    stat(root, &sb) != 0 ? strerror(errno) :
			    "not a directory");
			ttpd_err_set(err, msg);
			return TTPD_EINVAL;
		}
	}
	rc = host->config_int(ctx, "max_message_bytes", &max);
	if (rc == TTPD_EINVAL || max < 1 || max > MAX_MAX_MESSAGE_BYTES) {
		ttpd_err_set(err, "max_message_bytes must be an integer from "
		    "1 to 1073741824");
		return TTPD_EINVAL;
	}
	if ((st = calloc(1, sizeof *st)) == NULL ||
	    (root != NULL && (st->root = strdup(root)) == NULL)) {
		free(st);
		ttpd_err_set(err, "out of memory");
		return TTPD_ENOMEM;
	}
	st->host = host;
	st->ctx = ctx;
	st->max_message_bytes = (size_t)max;
	st->mime.max_depth = MIME_DEFAULT_MAX_DEPTH;
	st->mime.max_parts = MIME_DEFAULT_MAX_PARTS;
	st->mime.max_header_bytes = MIME_DEFAULT_MAX_HEADER_BYTES;
	*state = st;
	return TTPD_OK;
}

static void
email_destroy(void *state)
{
	struct email_state *st = state;
	const struct disk_counters *c = &st->count;

	if (st->root != NULL && (c->loaded || c->no_text || c->refused_name ||
	    c->refused_escape || c->refused_type || c->refused_size ||
	    c->missing || c->io_error || c->mime_limit))
		st->host->log(st->ctx, TTPD_LOG_INFO, "stored messages: "
		    "loaded=%" PRIu64 " no_text=%" PRIu64 " refused_name=%"
		    PRIu64 " refused_escape=%" PRIu64 " refused_type=%" PRIu64
		    " refused_size=%" PRIu64 " missing=%" PRIu64 " io_error=%"
		    PRIu64 " mime_limit=%" PRIu64, c->loaded, c->no_text,
		    c->refused_name, c->refused_escape, c->refused_type,
		    c->refused_size, c->missing, c->io_error, c->mime_limit);
	free(st->root);
	free(st);
}

static const char *const email_source_kinds[] = { "email", NULL };

static const ttpd_config_key email_config_keys[] = {
	{ "artifacts_root", TTPD_CFG_STRING, 0,
	    "directory of stored messages: <root>/<decky_id>/smtp/"
	    "<stored_as> is read when an event has no body_text (unset: "
	    "never read from disk)" },
	{ "max_message_bytes", TTPD_CFG_INT, 0,
	    "largest stored message read, in bytes (default 8388608)" },
	{ NULL, 0, 0, NULL }
};

TTPD_LIFTER_DEFINE(
    .name = "email",
    .version = PACKAGE_VERSION,
    .description = "email signals: open relay, mass phishing, kits, IDN "
	"URLs, masquerade, attachments, BEC, encoded payloads (DECNET "
	"EmailLifter)",
    .source_kinds = email_source_kinds,
    .config_keys = email_config_keys,
    .init = email_init,
    .handle = email_handle,
    .destroy = email_destroy)
