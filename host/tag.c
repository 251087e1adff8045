/*
 * Tag identity and arithmetic shared by every lifter: UUIDv5 (own SHA-1,
 * so no crypto library is needed), DECNET's datetime text, mitre_url and
 * the confidence rules.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "tag.h"
#include "xmalloc.h"

/* --- SHA-1 (FIPS 180-4) ------------------------------------------------ */

struct sha1 {
	uint32_t h[5];
	uint64_t len;
	unsigned char buf[64];
	size_t nbuf;
};

#define ROL(x, n) (((x) << (n)) | ((x) >> (32 - (n))))

static void
sha1_block(struct sha1 *c, const unsigned char *p)
{
	uint32_t w[80], a, b, d, e, f, k, t, cc;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		    (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
	for (; i < 80; i++)
		w[i] = ROL(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	a = c->h[0];
	b = c->h[1];
	cc = c->h[2];
	d = c->h[3];
	e = c->h[4];
	for (i = 0; i < 80; i++) {
		if (i < 20) {
			f = (b & cc) | (~b & d);
			k = 0x5a827999;
		} else if (i < 40) {
			f = b ^ cc ^ d;
			k = 0x6ed9eba1;
		} else if (i < 60) {
			f = (b & cc) | (b & d) | (cc & d);
			k = 0x8f1bbcdc;
		} else {
			f = b ^ cc ^ d;
			k = 0xca62c1d6;
		}
		t = ROL(a, 5) + f + e + k + w[i];
		e = d;
		d = cc;
		cc = ROL(b, 30);
		b = a;
		a = t;
	}
	c->h[0] += a;
	c->h[1] += b;
	c->h[2] += cc;
	c->h[3] += d;
	c->h[4] += e;
}

static void
sha1_init(struct sha1 *c)
{
	c->h[0] = 0x67452301;
	c->h[1] = 0xefcdab89;
	c->h[2] = 0x98badcfe;
	c->h[3] = 0x10325476;
	c->h[4] = 0xc3d2e1f0;
	c->len = 0;
	c->nbuf = 0;
}

static void
sha1_update(struct sha1 *c, const void *data, size_t n)
{
	const unsigned char *p = data;

	c->len += n;
	if (c->nbuf > 0) {
		size_t take = 64 - c->nbuf < n ? 64 - c->nbuf : n;

		memcpy(c->buf + c->nbuf, p, take);
		c->nbuf += take;
		p += take;
		n -= take;
		if (c->nbuf < 64)
			return;
		sha1_block(c, c->buf);
		c->nbuf = 0;
	}
	for (; n >= 64; p += 64, n -= 64)
		sha1_block(c, p);
	memcpy(c->buf, p, n);
	c->nbuf = n;
}

static void
sha1_final(struct sha1 *c, unsigned char out[20])
{
	uint64_t bits = c->len * 8;
	int i;

	/* 0x80, zeros up to 56 mod 64, the bit length big-endian */
	c->buf[c->nbuf++] = 0x80;
	if (c->nbuf > 56) {
		memset(c->buf + c->nbuf, 0, 64 - c->nbuf);
		sha1_block(c, c->buf);
		c->nbuf = 0;
	}
	memset(c->buf + c->nbuf, 0, 56 - c->nbuf);
	for (i = 0; i < 8; i++)
		c->buf[56 + i] = (unsigned char)(bits >> (56 - 8 * i));
	sha1_block(c, c->buf);
	for (i = 0; i < 5; i++) {
		out[4 * i] = (unsigned char)(c->h[i] >> 24);
		out[4 * i + 1] = (unsigned char)(c->h[i] >> 16);
		out[4 * i + 2] = (unsigned char)(c->h[i] >> 8);
		out[4 * i + 3] = (unsigned char)c->h[i];
	}
}

/* --- UUIDs --------------------------------------------------------------- */

/* uuid5(NAMESPACE_URL, "decnet:ttp_tag:v1") */
static const unsigned char tag_namespace[16] = {
	0x1c, 0xa3, 0x1f, 0x08, 0x55, 0x22, 0x5a, 0xae,
	0x83, 0x71, 0xfe, 0x81, 0xf0, 0xe3, 0x9d, 0xe3
};

static void
uuid_format(const unsigned char b[16], char out[TAG_UUID_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	int i, o = 0;

	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[b[i] >> 4];
		out[o++] = hex[b[i] & 15];
	}
	out[o] = '\0';
}

static void
uuid_v5_finish(struct sha1 *c, char out[TAG_UUID_LEN + 1])
{
	unsigned char d[20];

	sha1_final(c, d);
	d[6] = (unsigned char)((d[6] & 0x0f) | 0x50);
	d[8] = (unsigned char)((d[8] & 0x3f) | 0x80);
	uuid_format(d, out);
}

void
uuid_v5(const unsigned char ns[16], const void *name, size_t len,
    char out[TAG_UUID_LEN + 1])
{
	struct sha1 c;

	sha1_init(&c);
	sha1_update(&c, ns, 16);
	sha1_update(&c, name, len);
	uuid_v5_finish(&c, out);
}

static void
sha1_str(struct sha1 *c, const char *s)
{
	if (s != NULL)
		sha1_update(c, s, strlen(s));
}

void
tag_uuid(const char *source_kind, const char *source_id, const char *rule_id,
    int64_t rule_version, const char *technique_id,
    const char *sub_technique_id, char out[TAG_UUID_LEN + 1])
{
	struct sha1 c;
	char ver[24];

	/* Hash the key "kind|id|rule|version|technique|sub" without
	 * building it: no allocation on the hot path. */
	if (rule_version >= 0) {
		/* decimal without printf: this runs once per tag */
		char *p = ver + sizeof ver - 1;
		uint64_t v = (uint64_t)rule_version;

		*p = '\0';
		do {
			*--p = (char)('0' + v % 10);
			v /= 10;
		} while (v != 0);
		memmove(ver, p, (size_t)(ver + sizeof ver - p));
	} else
		snprintf(ver, sizeof ver, "%lld", (long long)rule_version);
	sha1_init(&c);
	sha1_update(&c, tag_namespace, 16);
	sha1_str(&c, source_kind);
	sha1_update(&c, "|", 1);
	sha1_str(&c, source_id);
	sha1_update(&c, "|", 1);
	sha1_str(&c, rule_id);
	sha1_update(&c, "|", 1);
	sha1_str(&c, ver);
	sha1_update(&c, "|", 1);
	sha1_str(&c, technique_id);
	sha1_update(&c, "|", 1);
	sha1_str(&c, sub_technique_id);
	uuid_v5_finish(&c, out);
}

/* --- time, URL ----------------------------------------------------------- */

int64_t
tag_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void
tag_format_time(int64_t unix_ns, char out[TAG_TIME_LEN + 1])
{
	/* the seconds part changes once a second: keep it per thread */
	static _Thread_local time_t last_secs;
	static _Thread_local char last[TAG_TIME_LEN + 1];
	time_t secs = (time_t)(unix_ns / 1000000000);
	long usec = (long)((unix_ns % 1000000000) / 1000);
	struct tm tm;
	char buf[96];
	int i;

	if (usec < 0) {
		usec += 1000000;
		secs--;
	}
	if (last[0] == '\0' || secs != last_secs) {
		gmtime_r(&secs, &tm);
		snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d.%06ld",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min, tm.tm_sec, usec);
		memcpy(last, buf, TAG_TIME_LEN);
		last[TAG_TIME_LEN] = '\0';
		last_secs = secs;
	}
	memcpy(out, last, TAG_TIME_LEN + 1);
	/* the six digits of microseconds end the text */
	for (i = 1; i <= 6; i++) {
		out[TAG_TIME_LEN - i] = (char)('0' + usec % 10);
		usec /= 10;
	}
}

static int
all_digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

char *
tag_mitre_url(const char *technique_id, const char *sub_technique_id)
{
	const char *id = sub_technique_id != NULL && *sub_technique_id != '\0' ?
	    sub_technique_id : technique_id;
	size_t n;

	if (id == NULL || id[0] != 'T')
		return NULL;
	static const char base[] = "https://attack.mitre.org/techniques/";
	char *url;

	n = strlen(id);
	/* T1234 -> base T1234; T1234.567 -> base T1234/567 (once per tag:
	 * no printf) */
	if (!(n == 5 && all_digits(id + 1, 4)) &&
	    !(n == 9 && all_digits(id + 1, 4) && id[5] == '.' &&
	    all_digits(id + 6, 3)))
		return NULL;
	url = xmalloc(sizeof base + n);
	memcpy(url, base, sizeof base - 1);
	memcpy(url + sizeof base - 1, id, n + 1);
	if (n == 9)
		url[sizeof base - 1 + 5] = '/';
	return url;
}

/* --- confidence and state ----------------------------------------------- */

enum rule_state_kind
rule_state_effective(const struct rule_state *st, int64_t now_ns)
{
	if (st == NULL)
		return RULE_STATE_ENABLED;
	if (st->expires_at_ns != 0 && st->expires_at_ns < now_ns)
		return RULE_STATE_ENABLED; /* expired: reverts to default */
	return st->state;
}

double
tag_confidence(double base, double multiplier, const struct rule_state *st,
    int64_t now_ns)
{
	double conf = base * multiplier;

	if (st != NULL && rule_state_effective(st, now_ns) == RULE_STATE_CLIPPED &&
	    st->has_confidence_max && st->confidence_max < 1.0 &&
	    st->confidence_max < conf)
		conf = st->confidence_max;
	if (isnan(conf) || conf < 0.0)
		conf = 0.0;
	if (conf > 1.0)
		conf = 1.0;
	return conf;
}

/* --- lists ------------------------------------------------------------- */

void
tag_free(struct tag *t)
{
	free(t->source_kind);
	free(t->source_id);
	free(t->attacker_uuid);
	free(t->identity_uuid);
	free(t->session_id);
	free(t->decky_id);
	free(t->tactic);
	free(t->technique_id);
	free(t->sub_technique_id);
	free(t->rule_id);
	free(t->evidence);
	free(t->attack_release);
	free(t->mitre_url);
	memset(t, 0, sizeof *t);
}

void
tag_list_init(struct tag_list *l)
{
	l->v = NULL;
	l->n = l->cap = 0;
}

struct tag *
tag_list_push(struct tag_list *l)
{
	if (l->n == l->cap) {
		l->cap = l->cap == 0 ? 16 : l->cap * 2;
		l->v = xreallocarray(l->v, l->cap, sizeof *l->v);
	}
	memset(&l->v[l->n], 0, sizeof l->v[l->n]);
	return &l->v[l->n++];
}

void
tag_list_truncate(struct tag_list *l, size_t from)
{
	while (l->n > from)
		tag_free(&l->v[--l->n]);
}

void
tag_list_free(struct tag_list *l)
{
	tag_list_truncate(l, 0);
	free(l->v);
	tag_list_init(l);
}

char *
tag_json_line(const struct tag *t, int with_created_at)
{
	ttpd_value *o = jv_new_object();
	char *text, *line = NULL;
	size_t n;

#define SET_STR(k, s)                                                          \
	jv_object_set_new(o, k, (s) != NULL ? jv_new_string((s), strlen(s)) : \
	    jv_new_null())
	SET_STR("uuid", t->uuid);
	SET_STR("source_kind", t->source_kind);
	SET_STR("source_id", t->source_id);
	SET_STR("attacker_uuid", t->attacker_uuid);
	SET_STR("identity_uuid", t->identity_uuid);
	SET_STR("session_id", t->session_id);
	SET_STR("decky_id", t->decky_id);
	SET_STR("tactic", t->tactic);
	SET_STR("technique_id", t->technique_id);
	SET_STR("sub_technique_id", t->sub_technique_id);
	jv_object_set_new(o, "confidence", jv_new_real(t->confidence));
	SET_STR("rule_id", t->rule_id);
	jv_object_set_new(o, "rule_version", jv_new_int(t->rule_version));
	SET_STR("attack_release", t->attack_release);
	SET_STR("mitre_url", t->mitre_url);
	if (with_created_at)
		SET_STR("created_at", t->created_at);
#undef SET_STR
	text = jv_dump(o);
	/* text is "{...}": the evidence (already JSON) replaces the brace */
	if (text != NULL && (n = strlen(text)) >= 2)
		line = xasprintf("%.*s,\"evidence\":%s}\n", (int)(n - 1), text,
		    t->evidence);
	free(text);
	jv_decref(o);
	return line;
}
