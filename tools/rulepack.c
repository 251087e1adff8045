/*
 * rulepack: the rule pack's generated table and its version manifest.
 *
 *   rulepack table    RULES_DIR            the rule table (doc/rules.md)
 *   rulepack manifest RULES_DIR            the manifest (RULES_DIR/MANIFEST)
 *   rulepack check    RULES_DIR TABLE      exit 1 when TABLE or MANIFEST
 *                                          is stale or a version was not
 *                                          bumped
 *   rulepack update   RULES_DIR TABLE      rewrite TABLE and MANIFEST,
 *                                          refusing when a version must be
 *                                          bumped first
 *
 * RULES_DIR/VERSION holds the pack version (one line).  The manifest lists,
 * per rule file: rule_id, rule_version, a content id of the file's bytes
 * and a meaning id of what decides which tags the rule makes (applies_to,
 * match, and the tactic/technique/sub-technique of each emit; not the
 * confidence, the name or the description).  Both ids are UUIDv5 (SHA-1)
 * under a namespace of their own.
 *
 * The rules: any change to any rule file needs a new pack version; a new
 * meaning needs a new rule_version (it changes every tag uuid of the rule,
 * which is exactly what a new meaning should do).  Rules are read with the
 * daemon's own loader (host/rules.c), so the table shows what ttpd loads.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "rules.h"
#include "tag.h"

#define MAX_VERSION 64

/* Two fixed, arbitrary UUIDv5 namespaces; changing them changes every id
 * in the manifest (then bump the pack version). */
static const unsigned char content_ns[16] = {
	0x3b, 0x8e, 0x0c, 0x52, 0x8a, 0x51, 0x5c, 0x7d,
	0x9f, 0x14, 0x61, 0x0e, 0x2d, 0x7a, 0xc3, 0x01
};
static const unsigned char meaning_ns[16] = {
	0x3b, 0x8e, 0x0c, 0x52, 0x8a, 0x51, 0x5c, 0x7d,
	0x9f, 0x14, 0x61, 0x0e, 0x2d, 0x7a, 0xc3, 0x02
};

static const struct {
	const char *id, *name;
} tactics[] = {
	{ "TA0043", "reconnaissance" },
	{ "TA0042", "resource development" },
	{ "TA0001", "initial access" },
	{ "TA0002", "execution" },
	{ "TA0003", "persistence" },
	{ "TA0004", "privilege escalation" },
	{ "TA0005", "defense evasion" },
	{ "TA0006", "credential access" },
	{ "TA0007", "discovery" },
	{ "TA0008", "lateral movement" },
	{ "TA0009", "collection" },
	{ "TA0011", "command and control" },
	{ "TA0010", "exfiltration" },
	{ "TA0040", "impact" },
};

/* A growing string. */
struct buf {
	char *s;
	size_t n, cap;
};

static void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("rulepack: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static void
bprintf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int len;

	for (;;) {
		va_start(ap, fmt);
		len = vsnprintf(b->s != NULL ? b->s + b->n : NULL,
		    b->cap - b->n, fmt, ap);
		va_end(ap);
		if (len < 0)
			die("formatting failed");
		if (b->n + (size_t)len < b->cap)
			break;
		b->cap = (b->n + (size_t)len + 1) * 2;
		if ((b->s = realloc(b->s, b->cap)) == NULL)
			die("out of memory");
	}
	b->n += (size_t)len;
}

/* The whole file, NUL-terminated; NULL with errno when unreadable. */
static char *
read_file(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *text = NULL;
	size_t cap = 0, n = 0, got;

	if (fp == NULL)
		return NULL;
	do {
		if (n + 4096 + 1 > cap) {
			cap = (n + 4096 + 1) * 2;
			if ((text = realloc(text, cap)) == NULL)
				die("out of memory");
		}
		got = fread(text + n, 1, cap - n - 1, fp);
		n += got;
	} while (got > 0);
	if (ferror(fp)) {
		free(text);
		fclose(fp);
		errno = EIO;
		return NULL;
	}
	fclose(fp);
	text[n] = '\0';
	if (len != NULL)
		*len = n;
	return text;
}

static const char *
base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash != NULL ? slash + 1 : path;
}

static const char *
tactic_name(const char *id)
{
	size_t i;

	for (i = 0; i < sizeof tactics / sizeof tactics[0]; i++)
		if (strcmp(id, tactics[i].id) == 0)
			return tactics[i].name;
	return "?";
}

/* The pack version: the first line of RULES_DIR/VERSION. */
static void
pack_version(const char *dir, char out[MAX_VERSION])
{
	char path[4096], *text, *nl;

	snprintf(path, sizeof path, "%s/VERSION", dir);
	if ((text = read_file(path, NULL)) == NULL)
		die("%s: %s", path, strerror(errno));
	if ((nl = strchr(text, '\n')) != NULL)
		*nl = '\0';
	if (*text == '\0' || strlen(text) >= MAX_VERSION ||
	    strpbrk(text, " \t\r") != NULL)
		die("%s: the first line must be a version without spaces",
		    path);
	strcpy(out, text);
	free(text);
}

static void
report(void *ud, const char *msg)
{
	(void)ud;
	fprintf(stderr, "rulepack: %s\n", msg);
}

static void
load(const char *dir, struct ruleset *rs)
{
	const char *dirs[1] = { dir };

	ruleset_init(rs);
	if (rules_load_dirs(dirs, 1, rs, report, NULL) != 0)
		die("%s: the pack does not load cleanly", dir);
	if (rs->n == 0)
		die("%s: no rules", dir);
}

/* What decides a rule's tags, as one string for the meaning id. */
static void
meaning_id(const struct rule *r, char out[TAG_UUID_LEN + 1])
{
	struct buf b = { NULL, 0, 0 };
	char *match;
	size_t i;

	for (i = 0; i < r->pub.n_applies_to; i++)
		bprintf(&b, "%s,", r->pub.applies_to[i]);
	match = jv_dump(r->pub.match);
	bprintf(&b, "\n%s\n", match != NULL ? match : "");
	free(match);
	for (i = 0; i < r->pub.n_emits; i++) {
		const ttpd_emit *e = r->pub.emits[i];

		bprintf(&b, "%s/%s/%s;", e->tactic, e->technique_id,
		    e->sub_technique_id != NULL ? e->sub_technique_id : "");
	}
	uuid_v5(meaning_ns, b.s, b.n, out);
	free(b.s);
}

static void
content_id(const struct rule *r, char out[TAG_UUID_LEN + 1])
{
	size_t len;
	char *text = read_file(r->pub.path, &len);

	if (text == NULL)
		die("%s: %s", r->pub.path, strerror(errno));
	uuid_v5(content_ns, text, len, out);
	free(text);
}

static void
make_manifest(const char *dir, const struct ruleset *rs, struct buf *b)
{
	char version[MAX_VERSION], cid[TAG_UUID_LEN + 1],
	    mid[TAG_UUID_LEN + 1];
	size_t i;

	pack_version(dir, version);
	bprintf(b, "# ttpd rule pack manifest, generated by tools/rulepack; "
	    "do not edit.\n# rule_id rule_version content_id meaning_id "
	    "file\npack-version %s\n", version);
	for (i = 0; i < rs->n; i++) {
		const struct rule *r = rs->v[i];

		content_id(r, cid);
		meaning_id(r, mid);
		bprintf(b, "%s %lld %s %s %s\n", r->pub.rule_id,
		    (long long)r->pub.rule_version, cid, mid,
		    base_name(r->pub.path));
	}
}

static void
make_table(const char *dir, const struct ruleset *rs, struct buf *b)
{
	char version[MAX_VERSION];
	size_t i, k, engine = 0;

	for (i = 0; i < rs->n; i++)
		if (rs->v[i]->pub.kind == NULL ||
		    strncmp(rs->v[i]->pub.kind, "lifter:", 7) != 0)
			engine++;
	pack_version(dir, version);
	bprintf(b, "# ttpd rule pack %s\n\n"
	    "Generated by `tools/rulepack table conf/rules` from the rule "
	    "files; do not edit.\nRegenerate with `make rulepack-update` "
	    "(see conf/rules/README).\n\n"
	    "%zu rules: %zu rule-engine rules (patterns on command lines "
	    "and HTTP requests) and %zu lifter rules.\nFiles are named "
	    "after the tactic of their first emit, so this table is grouped "
	    "by tactic.\n\n"
	    "| rule | ver | name | techniques | tactics | confidence | "
	    "file |\n|---|---|---|---|---|---|---|\n", version, rs->n, engine,
	    rs->n - engine);
	for (i = 0; i < rs->n; i++) {
		const struct rule *r = rs->v[i];

		bprintf(b, "| %s | %lld | %s | ", r->pub.rule_id,
		    (long long)r->pub.rule_version, r->pub.name);
		for (k = 0; k < r->pub.n_emits; k++)
			bprintf(b, "%s%s", k ? ", " : "",
			    r->pub.emits[k]->sub_technique_id != NULL ?
			    r->pub.emits[k]->sub_technique_id :
			    r->pub.emits[k]->technique_id);
		bprintf(b, " | ");
		for (k = 0; k < r->pub.n_emits; k++)
			bprintf(b, "%s%s %s", k ? ", " : "",
			    r->pub.emits[k]->tactic,
			    tactic_name(r->pub.emits[k]->tactic));
		bprintf(b, " | ");
		for (k = 0; k < r->pub.n_emits; k++)
			bprintf(b, "%s%g", k ? ", " : "",
			    r->pub.emits[k]->confidence);
		bprintf(b, " | %s |\n", base_name(r->pub.path));
	}
}

/* One manifest entry. */
struct entry {
	char rule_id[64], content[64], meaning[64];
	long long version;
};

/* Parse a manifest; returns the entries, sets *n and version. */
static struct entry *
parse_manifest(const char *text, size_t *n, char version[MAX_VERSION])
{
	struct entry *v = NULL;
	const char *line = text;
	size_t cap = 0;

	*n = 0;
	version[0] = '\0';
	while (*line != '\0') {
		const char *nl = strchr(line, '\n');
		size_t len = nl != NULL ? (size_t)(nl - line) : strlen(line);
		char copy[512], file[256];

		if (len < sizeof copy && *line != '#') {
			memcpy(copy, line, len);
			copy[len] = '\0';
			if (strncmp(copy, "pack-version ", 13) == 0) {
				size_t vl = strlen(copy + 13);

				if (vl >= MAX_VERSION)
					vl = MAX_VERSION - 1;
				memcpy(version, copy + 13, vl);
				version[vl] = '\0';
			} else {
				if (*n == cap) {
					cap = cap ? cap * 2 : 256;
					if ((v = realloc(v, cap * sizeof *v)) ==
					    NULL)
						die("out of memory");
				}
				if (sscanf(copy, "%63s %lld %63s %63s %255s",
				    v[*n].rule_id, &v[*n].version,
				    v[*n].content, v[*n].meaning, file) == 5)
					(*n)++;
			}
		}
		line = nl != NULL ? nl + 1 : line + len;
	}
	return v;
}

static const struct entry *
find_entry(const struct entry *v, size_t n, const char *rule_id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i].rule_id, rule_id) == 0)
			return &v[i];
	return NULL;
}

/*
 * Compare the committed manifest with the rule files.  Returns the number
 * of problems, each printed with what to do.  *content_changed says
 * whether any rule file differs from the manifest.
 */
static int
compare(const char *dir, const struct ruleset *rs, const char *old_text,
    int *content_changed)
{
	char old_version[MAX_VERSION], version[MAX_VERSION],
	    cid[TAG_UUID_LEN + 1], mid[TAG_UUID_LEN + 1];
	struct entry *old;
	size_t nold, i;
	int problems = 0;

	*content_changed = 0;
	pack_version(dir, version);
	old = parse_manifest(old_text != NULL ? old_text : "", &nold,
	    old_version);
	for (i = 0; i < rs->n; i++) {
		const struct rule *r = rs->v[i];
		const struct entry *e = find_entry(old, nold,
		    r->pub.rule_id);

		content_id(r, cid);
		meaning_id(r, mid);
		if (e == NULL) {
			*content_changed = 1;
			continue;       /* a new rule */
		}
		if (strcmp(e->content, cid) != 0)
			*content_changed = 1;
		if (strcmp(e->meaning, mid) != 0 &&
		    e->version == r->pub.rule_version) {
			fprintf(stderr, "rulepack: %s (%s): its match, "
			    "applies_to or emitted techniques changed but "
			    "rule_version is still %lld; bump rule_version "
			    "(a new version means new tag uuids)\n",
			    r->pub.rule_id, r->pub.path,
			    (long long)r->pub.rule_version);
			problems++;
		}
		if (r->pub.rule_version < e->version) {
			fprintf(stderr, "rulepack: %s: rule_version went "
			    "down from %lld to %lld\n", r->pub.rule_id,
			    e->version, (long long)r->pub.rule_version);
			problems++;
		}
	}
	if (nold != rs->n)
		*content_changed = 1;   /* rules added or removed */
	if (*content_changed && strcmp(old_version, version) == 0) {
		fprintf(stderr, "rulepack: rule files changed but the pack "
		    "version in %s/VERSION is still %s; bump it (e.g. to the "
		    "next date-based version), then run `make rulepack-update` "
		    "to regenerate MANIFEST and doc/rules.md\n", dir, version);
		problems++;
	}
	free(old);
	return problems;
}

static void
write_file(const char *path, const struct buf *b)
{
	FILE *fp = fopen(path, "wb");

	if (fp == NULL || fwrite(b->s, 1, b->n, fp) != b->n ||
	    fclose(fp) != 0)
		die("%s: %s", path, strerror(errno));
}

static int
usage(void)
{
	fprintf(stderr, "usage: rulepack table RULES_DIR\n"
	    "       rulepack manifest RULES_DIR\n"
	    "       rulepack check RULES_DIR TABLE\n"
	    "       rulepack update RULES_DIR TABLE\n");
	return 2;
}

int
main(int argc, char **argv)
{
	struct buf table = { NULL, 0, 0 }, manifest = { NULL, 0, 0 };
	struct ruleset rs;
	char path[4096], *old_manifest, *old_table;
	int problems = 0, changed;

	if (argc < 3)
		return usage();
	load(argv[2], &rs);
	if (strcmp(argv[1], "table") == 0 && argc == 3) {
		make_table(argv[2], &rs, &table);
		fwrite(table.s, 1, table.n, stdout);
	} else if (strcmp(argv[1], "manifest") == 0 && argc == 3) {
		make_manifest(argv[2], &rs, &manifest);
		fwrite(manifest.s, 1, manifest.n, stdout);
	} else if ((strcmp(argv[1], "check") == 0 ||
	    strcmp(argv[1], "update") == 0) && argc == 4) {
		snprintf(path, sizeof path, "%s/MANIFEST", argv[2]);
		old_manifest = read_file(path, NULL);
		if (old_manifest == NULL && errno != ENOENT)
			die("%s: %s", path, strerror(errno));
		old_table = read_file(argv[3], NULL);
		problems = compare(argv[2], &rs, old_manifest, &changed);
		make_manifest(argv[2], &rs, &manifest);
		make_table(argv[2], &rs, &table);
		if (strcmp(argv[1], "update") == 0) {
			if (problems > 0) {
				fprintf(stderr, "rulepack: nothing written\n");
				return 1;
			}
			write_file(path, &manifest);
			write_file(argv[3], &table);
		} else {
			if (old_manifest == NULL ||
			    strcmp(old_manifest, manifest.s) != 0) {
				fprintf(stderr, "rulepack: %s is stale; run "
				    "`make rulepack-update`\n", path);
				problems++;
			}
			if (old_table == NULL ||
			    strcmp(old_table, table.s) != 0) {
				fprintf(stderr, "rulepack: %s is stale; run "
				    "`make rulepack-update`\n", argv[3]);
				problems++;
			}
		}
		free(old_manifest);
		free(old_table);
	} else
		return usage();
	free(table.s);
	free(manifest.s);
	ruleset_free(&rs);
	return problems > 0 ? 1 : 0;
}
