/*
 * The ATT&CK bundle: read MITRE's enterprise STIX bundle once, keep a
 * sorted id index, check rules against it (DESIGN.md "Rules": fail
 * closed on an unknown, revoked or deprecated id).
 */
#include "config.h"

#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "attack.h"
#include "conf.h"
#include "json.h"
#include "log.h"
#include "rules.h"
#include "xmalloc.h"

/* MITRE's full enterprise bundle is ~50 MB; refuse anything absurd. */
#define ATTACK_MAX_BYTES (512u * 1024 * 1024)
/* What tags carried before ttpd knew its bundle: DECNET's constant. */
#define ATTACK_DEFAULT_RELEASE "v15.1"

struct attack_obj {
	char *id;          /* "T1059", "T1059.004", "TA0002" */
	char *name;
	char *shortname;   /* tactics: x_mitre_shortname */
	char **phases;     /* techniques: kill_chain_phases phase names */
	size_t nphases;
	int revoked;
	int deprecated;
	int is_sub;
};

struct attack {
	char *path;
	char *version;
	struct attack_obj *techniques; /* sorted by id */
	size_t ntechniques;
	struct attack_obj *tactics;    /* sorted by id */
	size_t ntactics;
};

/* ------------------------------------------------------------ SHA-256 */

struct sha256 {
	uint32_t h[8];
	uint64_t len;
	unsigned char buf[64];
	size_t nbuf;
};

static const uint32_t sha256_k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
	0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
	0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
	0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
	0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
	0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
	0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void
sha256_block(struct sha256 *c, const unsigned char *p)
{
	uint32_t w[64], a, b, cc, d, e, f, g, h, t1, t2;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		    (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (; i < 64; i++)
		w[i] = (ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^
		    (w[i - 2] >> 10)) + w[i - 7] + (ROR(w[i - 15], 7) ^
		    ROR(w[i - 15], 18) ^ (w[i - 15] >> 3)) + w[i - 16];
	a = c->h[0]; b = c->h[1]; cc = c->h[2]; d = c->h[3];
	e = c->h[4]; f = c->h[5]; g = c->h[6]; h = c->h[7];
	for (i = 0; i < 64; i++) {
		t1 = h + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) +
		    ((e & f) ^ (~e & g)) + sha256_k[i] + w[i];
		t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) +
		    ((a & b) ^ (a & cc) ^ (b & cc));
		h = g; g = f; f = e; e = d + t1;
		d = cc; cc = b; b = a; a = t1 + t2;
	}
	c->h[0] += a; c->h[1] += b; c->h[2] += cc; c->h[3] += d;
	c->h[4] += e; c->h[5] += f; c->h[6] += g; c->h[7] += h;
}

/* Lowercase hex SHA-256 of a buffer into out[65]. */
static void
sha256_hex(const void *data, size_t len, char out[65])
{
	static const uint32_t init[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372,
	    0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
	const unsigned char *p = data;
	struct sha256 c;
	unsigned char pad[128];
	size_t padlen, i;
	uint64_t bits = (uint64_t)len * 8;

	memcpy(c.h, init, sizeof init);
	for (; len >= 64; p += 64, len -= 64)
		sha256_block(&c, p);
	memset(pad, 0, sizeof pad);
	memcpy(pad, p, len);
	pad[len] = 0x80;
	padlen = len + 1 + 8 <= 64 ? 64 : 128;
	for (i = 0; i < 8; i++)
		pad[padlen - 1 - i] = (unsigned char)(bits >> (8 * i));
	for (i = 0; i < padlen; i += 64)
		sha256_block(&c, pad + i);
	for (i = 0; i < 8; i++)
		snprintf(out + 8 * i, 9, "%08x", (unsigned)c.h[i]);
}

/* --------------------------------------------------------------- index */

static void
obj_free(struct attack_obj *o)
{
	size_t i;

	free(o->id);
	free(o->name);
	free(o->shortname);
	for (i = 0; i < o->nphases; i++)
		free(o->phases[i]);
	free(o->phases);
}

void
attack_free(struct attack *a)
{
	size_t i;

	if (a == NULL)
		return;
	for (i = 0; i < a->ntechniques; i++)
		obj_free(&a->techniques[i]);
	for (i = 0; i < a->ntactics; i++)
		obj_free(&a->tactics[i]);
	free(a->techniques);
	free(a->tactics);
	free(a->path);
	free(a->version);
	free(a);
}

static int
bool_member(const ttpd_value *obj, const char *key)
{
	int b = 0;

	if (jv_get_bool(jv_object_get(obj, key), &b) != TTPD_OK)
		return 0;
	return b;
}

/* The external_id of the object's "mitre-attack" reference, or NULL. */
static const char *
mitre_id(const ttpd_value *obj)
{
	const ttpd_value *refs = jv_object_get(obj, "external_references");
	const ttpd_value *r;
	const char *src;
	size_t i;

	for (i = 0; i < jv_array_size(refs); i++) {
		r = jv_array_get(refs, i);
		src = jv_string(jv_object_get(r, "source_name"));
		if (src != NULL && strcmp(src, "mitre-attack") == 0)
			return jv_string(jv_object_get(r, "external_id"));
	}
	return NULL;
}

static int
obj_cmp(const void *x, const void *y)
{
	const struct attack_obj *a = x, *b = y;

	return strcmp(a->id, b->id);
}

/* A live object beats a revoked or deprecated one with the same id. */
static int
obj_rank(const struct attack_obj *o)
{
	return o->revoked ? 2 : o->deprecated ? 1 : 0;
}

/* Sort and keep one object per id. */
static void
sort_unique(struct attack_obj *v, size_t *n)
{
	size_t i, out = 0;

	if (*n == 0)
		return;
	qsort(v, *n, sizeof *v, obj_cmp);
	for (i = 1; i < *n; i++) {
		if (strcmp(v[out].id, v[i].id) == 0) {
			if (obj_rank(&v[i]) < obj_rank(&v[out])) {
				obj_free(&v[out]);
				v[out] = v[i];
			} else
				obj_free(&v[i]);
			continue;
		}
		v[++out] = v[i];
	}
	*n = out + 1;
}

static void
add_object(struct attack *a, const ttpd_value *obj, size_t *tcap,
    size_t *acap)
{
	const char *type = jv_string(jv_object_get(obj, "type"));
	const char *id, *name, *s;
	const ttpd_value *phases, *ph;
	struct attack_obj *o;
	size_t i;
	int tactic;

	if (type == NULL)
		return;
	if (strcmp(type, "attack-pattern") == 0)
		tactic = 0;
	else if (strcmp(type, "x-mitre-tactic") == 0)
		tactic = 1;
	else
		return;
	if ((id = mitre_id(obj)) == NULL || *id == '\0')
		return;
	name = jv_string(jv_object_get(obj, "name"));
	if (tactic) {
		if (a->ntactics == *acap) {
			*acap = *acap == 0 ? 32 : *acap * 2;
			a->tactics = xreallocarray(a->tactics, *acap,
			    sizeof *a->tactics);
		}
		o = &a->tactics[a->ntactics++];
	} else {
		if (a->ntechniques == *tcap) {
			*tcap = *tcap == 0 ? 1024 : *tcap * 2;
			a->techniques = xreallocarray(a->techniques, *tcap,
			    sizeof *a->techniques);
		}
		o = &a->techniques[a->ntechniques++];
	}
	memset(o, 0, sizeof *o);
	o->id = xstrdup(id);
	o->name = xstrdup(name != NULL ? name : id);
	o->revoked = bool_member(obj, "revoked");
	o->deprecated = bool_member(obj, "x_mitre_deprecated");
	if (tactic) {
		s = jv_string(jv_object_get(obj, "x_mitre_shortname"));
		o->shortname = xstrdup_or_null(s);
		return;
	}
	o->is_sub = bool_member(obj, "x_mitre_is_subtechnique") ||
	    strchr(id, '.') != NULL;
	phases = jv_object_get(obj, "kill_chain_phases");
	for (i = 0; i < jv_array_size(phases); i++) {
		ph = jv_array_get(phases, i);
		s = jv_string(jv_object_get(ph, "kill_chain_name"));
		if (s == NULL || strcmp(s, "mitre-attack") != 0)
			continue;
		if ((s = jv_string(jv_object_get(ph, "phase_name"))) == NULL)
			continue;
		o->phases = xreallocarray(o->phases, o->nphases + 1,
		    sizeof *o->phases);
		o->phases[o->nphases++] = xstrdup(s);
	}
}

/* "18.1" out of ".../enterprise-attack-18.1.json" (or -18.1-core.json). */
static char *
version_from_name(const char *path)
{
	const char *base = strrchr(path, '/'), *p, *q;

	base = base != NULL ? base + 1 : path;
	if ((p = strstr(base, "attack-")) == NULL)
		return NULL;
	p += strlen("attack-");
	q = p;
	while (isdigit((unsigned char)*q))
		q++;
	if (q == p)
		return NULL;
	if (*q == '.' && isdigit((unsigned char)q[1]))
		for (q++; isdigit((unsigned char)*q); q++)
			;
	return xstrndup(p, (size_t)(q - p));
}

static char *
read_file(const char *path, size_t *len, char *err, size_t errlen)
{
	struct stat st;
	FILE *fp;
	char *buf;

	if ((fp = fopen(path, "rb")) == NULL) {
		snprintf(err, errlen, "attack.bundle %s: cannot open: %s", path,
		    strerror(errno));
		return NULL;
	}
	if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "attack.bundle %s: not a regular file",
		    path);
		fclose(fp);
		return NULL;
	}
	if ((uintmax_t)st.st_size > ATTACK_MAX_BYTES) {
		snprintf(err, errlen, "attack.bundle %s: %jd bytes is more "
		    "than the %u an ATT&CK bundle can need", path,
		    (intmax_t)st.st_size, ATTACK_MAX_BYTES);
		fclose(fp);
		return NULL;
	}
	buf = xmalloc((size_t)st.st_size + 1);
	*len = fread(buf, 1, (size_t)st.st_size, fp);
	if (ferror(fp) || *len != (size_t)st.st_size) {
		snprintf(err, errlen, "attack.bundle %s: read error: %s", path,
		    strerror(errno));
		free(buf);
		fclose(fp);
		return NULL;
	}
	fclose(fp);
	buf[*len] = '\0';
	return buf;
}

static int
valid_sha256(const char *s)
{
	size_t i;

	for (i = 0; i < 64; i++)
		if (!isxdigit((unsigned char)s[i]))
			return 0;
	return s[64] == '\0';
}

struct attack *
attack_load(const char *path, const char *sha256, char *err, size_t errlen)
{
	struct attack *a;
	ttpd_value *root;
	const ttpd_value *objects, *obj;
	const char *type, *s;
	char perr[256], digest[65];
	size_t len, i, tcap = 0, acap = 0;
	char *buf;

	if (sha256 != NULL && *sha256 != '\0' && !valid_sha256(sha256)) {
		snprintf(err, errlen, "attack.sha256 \"%s\": expected 64 hex "
		    "digits (sha256sum of the bundle)", sha256);
		return NULL;
	}
	if ((buf = read_file(path, &len, err, errlen)) == NULL)
		return NULL;
	if (sha256 != NULL && *sha256 != '\0') {
		sha256_hex(buf, len, digest);
		if (strcasecmp(digest, sha256) != 0) {
			snprintf(err, errlen, "attack.bundle %s: sha256 is %s "
			    "but attack.sha256 pins %s: refusing it (fetch the "
			    "pinned release or update the pin)", path, digest,
			    sha256);
			free(buf);
			return NULL;
		}
	}
	root = jv_parse(buf, len, perr, sizeof perr);
	free(buf);
	if (root == NULL) {
		snprintf(err, errlen, "attack.bundle %s:%s: not JSON", path,
		    perr);
		return NULL;
	}
	type = jv_string(jv_object_get(root, "type"));
	objects = jv_object_get(root, "objects");
	if (type == NULL || strcmp(type, "bundle") != 0 ||
	    jv_type(objects) != TTPD_VT_ARRAY) {
		snprintf(err, errlen, "attack.bundle %s: not a STIX bundle (no "
		    "\"type\": \"bundle\" with an \"objects\" array)", path);
		jv_decref(root);
		return NULL;
	}
	a = xcalloc(1, sizeof *a);
	a->path = xstrdup(path);
	for (i = 0; i < jv_array_size(objects); i++) {
		obj = jv_array_get(objects, i);
		type = jv_string(jv_object_get(obj, "type"));
		if (type != NULL && strcmp(type, "x-mitre-collection") == 0 &&
		    a->version == NULL &&
		    (s = jv_string(jv_object_get(obj, "x_mitre_version"))) !=
		    NULL && *s != '\0')
			a->version = xstrdup(s);
		add_object(a, obj, &tcap, &acap);
	}
	jv_decref(root);
#ifdef __GLIBC__
	/* MITRE's full bundle parses into ~200 MB of small blocks: give
	 * them back rather than keep them for the life of the daemon */
	malloc_trim(0);
#endif
	if (a->version == NULL)
		a->version = version_from_name(path);
	if (a->ntechniques == 0 || a->ntactics == 0) {
		snprintf(err, errlen, "attack.bundle %s: no ATT&CK techniques "
		    "or tactics in it: is this MITRE's enterprise-attack.json?",
		    path);
		attack_free(a);
		return NULL;
	}
	sort_unique(a->techniques, &a->ntechniques);
	sort_unique(a->tactics, &a->ntactics);
	return a;
}

const char *
attack_path(const struct attack *a)
{
	return a->path;
}

const char *
attack_version(const struct attack *a)
{
	return a->version;
}

size_t
attack_ntechniques(const struct attack *a)
{
	return a->ntechniques;
}

size_t
attack_ntactics(const struct attack *a)
{
	return a->ntactics;
}

static const struct attack_obj *
find(const struct attack_obj *v, size_t n, const char *id)
{
	struct attack_obj key;

	if (id == NULL || n == 0)
		return NULL;
	memset(&key, 0, sizeof key);
	key.id = (char *)(uintptr_t)id;
	return bsearch(&key, v, n, sizeof *v, obj_cmp);
}

static const struct attack_obj *
find_any(const struct attack *a, const char *id)
{
	if (id != NULL && strncmp(id, "TA", 2) == 0)
		return find(a->tactics, a->ntactics, id);
	return find(a->techniques, a->ntechniques, id);
}

static enum attack_status
status_of(const struct attack_obj *o)
{
	if (o == NULL)
		return ATTACK_UNKNOWN;
	if (o->revoked)
		return ATTACK_REVOKED;
	if (o->deprecated)
		return ATTACK_DEPRECATED;
	return ATTACK_OK;
}

enum attack_status
attack_lookup(const struct attack *a, const char *id)
{
	return status_of(find_any(a, id));
}

const char *
attack_status_name(enum attack_status st)
{
	switch (st) {
	case ATTACK_OK:
		return "valid";
	case ATTACK_REVOKED:
		return "revoked";
	case ATTACK_DEPRECATED:
		return "deprecated";
	case ATTACK_UNKNOWN:
		break;
	}
	return "unknown";
}

char *
attack_name(const struct attack *a, const char *id)
{
	const struct attack_obj *o = find_any(a, id), *parent;
	const char *dot;
	char *pid;

	if (o == NULL)
		return NULL;
	if (!o->is_sub || (dot = strchr(o->id, '.')) == NULL)
		return xstrdup(o->name);
	pid = xstrndup(o->id, (size_t)(dot - o->id));
	parent = find(a->techniques, a->ntechniques, pid);
	free(pid);
	if (parent == NULL)
		return xstrdup(o->name);
	return xasprintf("%s: %s", parent->name, o->name);
}

/* The tactic object whose x_mitre_shortname is `shortname`. */
static const struct attack_obj *
tactic_by_shortname(const struct attack *a, const char *shortname)
{
	size_t i;

	for (i = 0; i < a->ntactics; i++)
		if (a->tactics[i].shortname != NULL &&
		    strcmp(a->tactics[i].shortname, shortname) == 0)
			return &a->tactics[i];
	return NULL;
}

int
attack_has_tactic(const struct attack *a, const char *id,
    const char *tactic_id)
{
	const struct attack_obj *o, *t;
	size_t i;

	if ((o = find(a->techniques, a->ntechniques, id)) == NULL)
		return 0;
	for (i = 0; i < o->nphases; i++)
		if ((t = tactic_by_shortname(a, o->phases[i])) != NULL &&
		    strcmp(t->id, tactic_id) == 0)
			return 1;
	return 0;
}

char *
attack_tactics_of(const struct attack *a, const char *id)
{
	const struct attack_obj *o, *t;
	char *out = NULL, *next;
	size_t i;

	if ((o = find(a->techniques, a->ntechniques, id)) == NULL)
		return NULL;
	for (i = 0; i < o->nphases; i++) {
		if ((t = tactic_by_shortname(a, o->phases[i])) == NULL)
			continue;
		next = out == NULL ? xstrdup(t->id) :
		    xasprintf("%s,%s", out, t->id);
		free(out);
		out = next;
	}
	return out;
}

/* ------------------------------------------------------- rule checking */

struct checker {
	const struct attack *a;
	const struct rule *r;
	void (*report)(void *ud, const char *msg);
	void *ud;
	int problems;
};

static void complain(struct checker *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
complain(struct checker *c, const char *fmt, ...)
{
	char what[512], msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	snprintf(msg, sizeof msg, "%s:%u: rule %s: %s",
	    c->r->pub.path != NULL ? c->r->pub.path : "?", c->r->pub.line,
	    c->r->pub.rule_id, what);
	c->problems++;
	c->report(c->ud, msg);
}

/* Known, not revoked, not deprecated: 0; else complain and -1. */
static int
check_id(struct checker *c, const char *what, const char *id)
{
	enum attack_status st = attack_lookup(c->a, id);

	if (st == ATTACK_OK)
		return 0;
	complain(c, "%s %s is %s ATT&CK %s%s (%s)", what, id,
	    st == ATTACK_UNKNOWN ? "unknown to" : st == ATTACK_REVOKED ?
	    "revoked in" : "deprecated in",
	    c->a->version != NULL ? "v" : "",
	    c->a->version != NULL ? c->a->version : "bundle", c->a->path);
	return -1;
}

/*
 * The shapes (T1234, TA0001, a sub-technique T1234.001 under its own
 * technique_id) are already enforced by the rule loader (host/rules.c);
 * what is left is what only the bundle knows.
 */
static void
check_emit(struct checker *c, const ttpd_emit *e)
{
	const char *sub = e->sub_technique_id;
	char *tactics;
	int tech_ok, tactic_ok;

	tactic_ok = check_id(c, "tactic", e->tactic) == 0;
	tech_ok = check_id(c, "technique", e->technique_id) == 0;
	if (sub != NULL && *sub != '\0') {
		if (check_id(c, "sub-technique", sub) == 0 && tactic_ok &&
		    !attack_has_tactic(c->a, sub, e->tactic)) {
			tactics = attack_tactics_of(c->a, sub);
			complain(c, "sub-technique %s is not under tactic %s "
			    "(ATT&CK lists it under %s)", sub, e->tactic,
			    tactics != NULL ? tactics : "no tactic");
			free(tactics);
		}
		return;
	}
	if (tech_ok && tactic_ok &&
	    !attack_has_tactic(c->a, e->technique_id, e->tactic)) {
		tactics = attack_tactics_of(c->a, e->technique_id);
		log_warn("%s:%u: rule %s: technique %s is not under tactic %s "
		    "in ATT&CK (it is under %s); tagging as written",
		    c->r->pub.path != NULL ? c->r->pub.path : "?",
		    c->r->pub.line, c->r->pub.rule_id, e->technique_id,
		    e->tactic, tactics != NULL ? tactics : "no tactic");
		free(tactics);
	}
}

int
attack_check_rules(const struct attack *a, const struct ruleset *rs,
    void (*report)(void *ud, const char *msg), void *ud)
{
	struct checker c;
	size_t i, k;

	memset(&c, 0, sizeof c);
	c.a = a;
	c.report = report;
	c.ud = ud;
	for (i = 0; i < rs->n; i++) {
		c.r = rs->v[i];
		for (k = 0; k < c.r->pub.n_emits; k++)
			check_emit(&c, c.r->pub.emits[k]);
	}
	return c.problems;
}

int
attack_setup(struct config *cfg, const struct ruleset *rs,
    void (*report)(void *ud, const char *msg), void *ud,
    struct attack **keep)
{
	static int said_unchecked;
	struct attack *a;
	char err[1024];
	int problems;

	if (keep != NULL)
		*keep = NULL;
	if (cfg->attack_bundle == NULL) {
		if (!said_unchecked) {
			log_notice("%s: no attack.bundle configured: technique "
			    "and tactic ids of the rules are not checked (see "
			    "ttpd.conf(5), ATTACK)", cfg->file != NULL ?
			    cfg->file : "ttpd.conf");
			said_unchecked = 1;
		}
		if (cfg->attack_release == NULL)
			cfg->attack_release = xstrdup(ATTACK_DEFAULT_RELEASE);
		return 0;
	}
	if ((a = attack_load(cfg->attack_bundle, cfg->attack_sha256, err,
	    sizeof err)) == NULL) {
		report(ud, err);
		return 1;
	}
	problems = attack_check_rules(a, rs, report, ud);
	if (!cfg->attack_release_set) {
		if (a->version == NULL) {
			snprintf(err, sizeof err, "attack.bundle %s: cannot "
			    "tell its ATT&CK release (no x-mitre-collection "
			    "version, none in the file name): set "
			    "attack.release", a->path);
			report(ud, err);
			problems++;
		} else {
			free(cfg->attack_release);
			cfg->attack_release = xasprintf("v%s", a->version);
		}
	}
	log_info("ATT&CK %s%s from %s: %zu techniques, %zu tactics; tags "
	    "carry attack_release %s", a->version != NULL ? "v" : "",
	    a->version != NULL ? a->version : "(release unknown)", a->path,
	    a->ntechniques, a->ntactics, cfg->attack_release != NULL ?
	    cfg->attack_release : "?");
	if (keep != NULL)
		*keep = a;
	else
		attack_free(a);
	return problems;
}
