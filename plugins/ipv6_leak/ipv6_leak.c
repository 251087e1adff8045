/*
 * ipv6_leak: the IPv6 link-local leak lifter (DECNET's Ipv6LeakLifter,
 * decnet-lifters.md section 3.7).
 *
 * Handles ipv6_leak events and owns exactly the rules whose match.kind is
 * "lifter:ipv6_link_local_leak" (DECNET R0059).  The rule fires when the
 * observed address, the first truthy of payload `addr` and `src_ip`, is a
 * string holding an IPv6 link-local address.  Evidence is always the same
 * seven keys (the rule's evidence_fields are ignored, as DECNET does):
 *
 *   addr         the address as written (case and zone kept)
 *   mac_oui, iid_kind ("unknown"), vector, on_iface, observed_at
 *                payload values, the default ("" unless noted) only when
 *                the key is absent; an explicit null is kept
 *   attacker_v4  the first truthy of attacker_v4 and attacker_ip, else ""
 *
 * Departures, all deliberate:
 *   - link-local is the whole fe80::/10 (fe80:: to febf:...), which the
 *     rule's own description names; DECNET only matched the text prefix
 *     "fe80:";
 *   - the address is parsed (inet_pton, AF_INET6) instead of compared as
 *     text, so "fe80:not-an-address" does not fire, while every valid
 *     spelling of a link-local address does;
 *   - an RFC 4007 zone ("fe80::1%eth0") is accepted when it is non-empty
 *     and printable ASCII without spaces; it does not take part in the
 *     decision;
 *   - IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible forms are IPv4
 *     addresses, never IPv6 link-local, even for 169.254.0.0/16: this rule
 *     is about the IPv6 stack leaking past an IPv4-only tunnel.
 *
 * Built against the SDK header only.  No state is kept across events.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <ttpd/lifter.h>

#include "../common/pyvalue.h"

#define LINK_LOCAL_KIND "lifter:ipv6_link_local_leak"

/* Longest textual IPv6 address (with an embedded dotted quad) is 45. */
#define ADDR_TEXT_MAX 64

struct ipv6_leak {
	const ttpd_host *host;
	ttpd_ctx *ctx;
};

static const char *const ipv6_source_kinds[] = { "ipv6_leak", NULL };

static const char *const ipv6_rule_kinds[] = { LINK_LOCAL_KIND, NULL };

/* Evidence keys copied from the payload, with their absent default. */
static const struct {
	const char *key;
	const char *dflt;
} copied_keys[] = {
	{ "mac_oui", "" },
	{ "iid_kind", "unknown" },
	{ "vector", "" },
	{ "on_iface", "" },
};

/* A zone id: non-empty, printable ASCII, no space and no second '%'. */
static int
zone_ok(const char *z, size_t len)
{
	size_t i;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++)
		if (z[i] <= ' ' || z[i] > '~' || z[i] == '%')
			return 0;
	return 1;
}

/* 1 when text (len bytes, not NUL-terminated) is an address in
 * fe80::/10, optionally followed by "%zone". */
static int
is_link_local(const char *text, size_t len)
{
	char buf[ADDR_TEXT_MAX];
	const char *pct = memchr(text, '%', len);
	size_t alen = pct != NULL ? (size_t)(pct - text) : len;
	struct in6_addr a;

	if (memchr(text, '\0', len) != NULL || alen == 0 ||
	    alen >= sizeof buf)
		return 0;
	if (pct != NULL && !zone_ok(pct + 1, len - alen - 1))
		return 0;
	memcpy(buf, text, alen);
	buf[alen] = '\0';
	if (inet_pton(AF_INET6, buf, &a) != 1)
		return 0;
	return a.s6_addr[0] == 0xfe && (a.s6_addr[1] & 0xc0) == 0x80;
}

static int
ipv6_init(const ttpd_host *host, ttpd_ctx *ctx, void **state,
    ttpd_err *err)
{
	struct ipv6_leak *l;

	if ((l = calloc(1, sizeof *l)) == NULL) {
		ttpd_err_set(err, "out of memory");
		return TTPD_ENOMEM;
	}
	l->host = host;
	l->ctx = ctx;
	*state = l;
	return TTPD_OK;
}

/* The evidence object, or NULL when out of memory. */
static ttpd_value *
build_evidence(const ttpd_host *h, ttpd_sink *sink,
    const ttpd_value *payload, const ttpd_value *addr)
{
	ttpd_value *ev = h->new_object(sink), *dflt;
	const ttpd_value *v;
	size_t i;

	if (ev == NULL || h->object_set(ev, "addr", addr) != TTPD_OK)
		return NULL;
	for (i = 0; i < sizeof copied_keys / sizeof copied_keys[0]; i++) {
		v = h->object_get(payload, copied_keys[i].key);
		if (v == NULL) {
			dflt = h->new_string(sink, copied_keys[i].dflt,
			    strlen(copied_keys[i].dflt));
			if (dflt == NULL)
				return NULL;
			v = dflt;
		}
		if (h->object_set(ev, copied_keys[i].key, v) != TTPD_OK)
			return NULL;
	}
	v = h->object_get(payload, "attacker_v4");
	if (!py_truthy(h, v))
		v = h->object_get(payload, "attacker_ip");
	if (!py_truthy(h, v) && (v = h->new_string(sink, "", 0)) == NULL)
		return NULL;
	if (h->object_set(ev, "attacker_v4", v) != TTPD_OK)
		return NULL;
	if ((v = h->object_get(payload, "observed_at")) == NULL &&
	    (v = h->new_string(sink, "", 0)) == NULL)
		return NULL;
	if (h->object_set(ev, "observed_at", v) != TTPD_OK)
		return NULL;
	return ev;
}

static int
ipv6_handle(void *state, const ttpd_event *ev, ttpd_sink *sink,
    ttpd_err *err)
{
	const struct ipv6_leak *l = state;
	const ttpd_host *h = l->host;
	const ttpd_rule *const *rules;
	const ttpd_value *addr;
	ttpd_value *evidence = NULL;
	const char *text;
	size_t n, i, len;
	int rc;

	addr = h->object_get(ev->payload, "addr");
	if (!py_truthy(h, addr))
		addr = h->object_get(ev->payload, "src_ip");
	/* DECNET raised on a non-string here and emitted nothing */
	if (h->get_string(addr, &text, &len) != TTPD_OK ||
	    !is_link_local(text, len))
		return TTPD_OK;

	rules = h->rules_for(sink, &n);
	for (i = 0; i < n; i++) {
		if (rules[i]->kind == NULL ||
		    strcmp(rules[i]->kind, LINK_LOCAL_KIND) != 0)
			continue;
		if (evidence == NULL &&
		    (evidence = build_evidence(h, sink, ev->payload, addr)) ==
		    NULL) {
			ttpd_err_set(err, "out of memory building evidence");
			return TTPD_ENOMEM;
		}
		rc = h->emit(sink, rules[i], TTPD_EMIT_ALL, 1.0, evidence, 0);
		if (rc < 0) {
			ttpd_err_set(err, "emit refused an ipv6_leak tag");
			return rc;
		}
	}
	return TTPD_OK;
}

static void
ipv6_destroy(void *state)
{
	free(state);
}

TTPD_LIFTER_DEFINE(
    .name = "ipv6_leak",
    .version = PACKAGE_VERSION,
    .description = "IPv6 link-local (fe80::/10) addresses leaking past an "
	"IPv4 tunnel (DECNET R0059)",
    .source_kinds = ipv6_source_kinds,
    .rule_kinds = ipv6_rule_kinds,
    .init = ipv6_init,
    .handle = ipv6_handle,
    .destroy = ipv6_destroy)
