/*
 * The rule store: DECNET-format YAML rule files.  The only module that
 * includes libyaml.
 *
 * A file is parsed in two steps.  libyaml's event stream is first built
 * into a small node tree (resolving YAML 1.1 scalars the way PyYAML's
 * safe_load does, expanding merge keys and checking aliases against a
 * node budget), then the tree is validated and turned into a struct rule
 * whose `match` mapping is a ttpd_value.  The tree lives only for the
 * duration of one parse.
 */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yaml.h>

#include "json.h"
#include "rules.h"
#include "xmalloc.h"

/* Largest rule file we read; DECNET's are a few hundred bytes. */
#define RULE_FILE_MAX (1024 * 1024)
/* Nodes a document may expand to once aliases are copied (billion laughs). */
#define RULE_NODE_MAX 100000
/* Nesting depth of sequences and mappings, aliases included. */
#define RULE_DEPTH_MAX 64

#define YAML_TAG_PREFIX "tag:yaml.org,2002:"

/* ------------------------------------------------------------------ */
/* The node tree                                                       */

enum ynode_type {
	YN_NULL,
	YN_BOOL,
	YN_INT,
	YN_REAL,
	YN_STR,
	YN_SEQ,
	YN_MAP,
	YN_ALIAS
};

/* How a plain scalar that is not data must be treated. */
enum yspecial {
	YS_NONE,
	YS_MERGE, /* plain "<<": a merge key, invalid as a value */
	YS_VALUE  /* plain "=": the YAML 1.1 value key, invalid as a value */
};

struct ynode {
	enum ynode_type type;
	enum yspecial special;
	unsigned line;          /* 1-based */
	int complete;           /* collection end seen (aliases to it are ok) */
	int timestamp;          /* YN_STR that PyYAML would make a date */
	int bval;
	int64_t ival;
	double rval;
	char *str;              /* YN_STR (NUL-terminated, may hold NULs) */
	size_t len;
	/* YN_SEQ: items; YN_MAP: key, value, key, value... (keys are
	 * dereferenced strings, values may be aliases) */
	struct ynode **kids;
	size_t nkids, capkids;
	int has_merge;          /* a "<<" key was seen (YN_MAP) */
	struct ynode *target;   /* YN_ALIAS */
	uint64_t weight;        /* nodes after alias expansion */
	unsigned height;        /* nesting after alias expansion */
};

struct anchor {
	char *name;
	struct ynode *node;
};

/* One parse: the arena of nodes, anchors, the open-collection stack and
 * the first error. */
struct yparse {
	const char *path;
	char *err;
	size_t errlen;
	int failed;

	struct ynode **nodes;
	size_t nnodes, capnodes;
	struct anchor *anchors;
	size_t nanchors, capanchors;
	struct ynode **stack;
	size_t nstack, capstack;
	struct ynode *root;
	int ndocs;
};

static void
fail(struct yparse *yp, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
fail(struct yparse *yp, unsigned line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (yp->failed)
		return;
	yp->failed = 1;
	if (yp->err == NULL || yp->errlen == 0)
		return;
	if (line > 0)
		n = snprintf(yp->err, yp->errlen, "%s:%u: ", yp->path, line);
	else
		n = snprintf(yp->err, yp->errlen, "%s: ", yp->path);
	if (n < 0 || (size_t)n >= yp->errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(yp->err + n, yp->errlen - (size_t)n, fmt, ap);
	va_end(ap);
}

static struct ynode *
node_new(struct yparse *yp, enum ynode_type type, unsigned line)
{
	struct ynode *n;

	n = xcalloc(1, sizeof *n);
	n->type = type;
	n->line = line;
	n->weight = 1;
	n->height = 1;
	if (yp->nnodes == yp->capnodes) {
		yp->capnodes = yp->capnodes ? yp->capnodes * 2 : 64;
		yp->nodes = xreallocarray(yp->nodes, yp->capnodes,
		    sizeof *yp->nodes);
	}
	yp->nodes[yp->nnodes++] = n;
	return n;
}

static void
node_append(struct ynode *parent, struct ynode *kid)
{
	if (parent->nkids == parent->capkids) {
		parent->capkids = parent->capkids ? parent->capkids * 2 : 8;
		parent->kids = xreallocarray(parent->kids, parent->capkids,
		    sizeof *parent->kids);
	}
	parent->kids[parent->nkids++] = kid;
}

static const struct ynode *
deref(const struct ynode *n)
{
	while (n != NULL && n->type == YN_ALIAS)
		n = n->target;
	return n;
}

static void
yparse_free(struct yparse *yp)
{
	size_t i;

	for (i = 0; i < yp->nnodes; i++) {
		free(yp->nodes[i]->str);
		free(yp->nodes[i]->kids);
		free(yp->nodes[i]);
	}
	free(yp->nodes);
	for (i = 0; i < yp->nanchors; i++)
		free(yp->anchors[i].name);
	free(yp->anchors);
	free(yp->stack);
}

static const char *
type_name(const struct ynode *n)
{
	switch (deref(n)->type) {
	case YN_NULL:
		return "null";
	case YN_BOOL:
		return "a boolean";
	case YN_INT:
		return "an integer";
	case YN_REAL:
		return "a float";
	case YN_STR:
		return deref(n)->timestamp ? "a date" : "a string";
	case YN_SEQ:
		return "a list";
	case YN_MAP:
		return "a mapping";
	case YN_ALIAS:
		break;
	}
	return "an alias";
}

/* ------------------------------------------------------------------ */
/* YAML 1.1 scalars, as PyYAML's SafeLoader resolves and constructs    */

/* ctype's answers depend on the locale; these do not. */
static int
ascii_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int
ascii_alnum(int c)
{
	return ascii_digit(c) || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z');
}

static int
ascii_xdigit(int c)
{
	return ascii_digit(c) || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

static int
ascii_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static int
str_is(const char *s, size_t len, const char *lit)
{
	return strlen(lit) == len && memcmp(s, lit, len) == 0;
}

static int
is_null_text(const char *s, size_t len)
{
	return len == 0 || str_is(s, len, "~") || str_is(s, len, "null") ||
	    str_is(s, len, "Null") || str_is(s, len, "NULL");
}

/* 1 true, 0 false, -1 not a YAML 1.1 boolean. */
static int
bool_text(const char *s, size_t len)
{
	static const char *const yes[] = { "yes", "Yes", "YES", "true",
		"True", "TRUE", "on", "On", "ON" };
	static const char *const no[] = { "no", "No", "NO", "false",
		"False", "FALSE", "off", "Off", "OFF" };
	size_t i;

	for (i = 0; i < sizeof yes / sizeof yes[0]; i++)
		if (str_is(s, len, yes[i]))
			return 1;
	for (i = 0; i < sizeof no / sizeof no[0]; i++)
		if (str_is(s, len, no[i]))
			return 0;
	return -1;
}

/* Count characters from set starting at s[i]. */
static size_t
span_of(const char *s, size_t len, size_t i, int (*ok)(int))
{
	size_t j = i;

	while (j < len && ok((unsigned char)s[j]))
		j++;
	return j - i;
}

static int is_bin_(int c) { return c == '0' || c == '1' || c == '_'; }
static int is_oct_(int c) { return (c >= '0' && c <= '7') || c == '_'; }
static int is_dec_(int c) { return ascii_digit(c) || c == '_'; }
static int is_hex_(int c) { return ascii_xdigit(c) || c == '_'; }

/* ([:][0-5]?[0-9])+ ending exactly at `end`; returns the index after it or
 * 0 if there is no such group at i. */
static size_t
sexagesimal_tail(const char *s, size_t len, size_t i)
{
	size_t start = i;

	while (i < len && s[i] == ':') {
		i++;
		if (i + 1 < len && s[i] >= '0' && s[i] <= '5' &&
		    ascii_digit((unsigned char)s[i + 1]))
			i += 2;
		else if (i < len && ascii_digit((unsigned char)s[i]))
			i += 1;
		else
			return 0;
	}
	return i > start ? i : 0;
}

/* PyYAML's int regex:
 *   [-+]?0b[0-1_]+ | [-+]?0[0-7_]+ | [-+]?(?:0|[1-9][0-9_]*)
 *   | [-+]?0x[0-9a-fA-F_]+ | [-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+ */
static int
looks_int(const char *s, size_t len)
{
	size_t i = 0, n;

	if (i < len && (s[i] == '-' || s[i] == '+'))
		i++;
	if (i >= len || !ascii_digit((unsigned char)s[i]))
		return 0;
	if (s[i] == '0') {
		if (i + 1 == len)
			return 1;
		if (s[i + 1] == 'b')
			return (n = span_of(s, len, i + 2, is_bin_)) > 0 &&
			    i + 2 + n == len;
		if (s[i + 1] == 'x')
			return (n = span_of(s, len, i + 2, is_hex_)) > 0 &&
			    i + 2 + n == len;
		return i + 1 + span_of(s, len, i + 1, is_oct_) == len;
	}
	i += 1 + span_of(s, len, i + 1, is_dec_);
	if (i == len)
		return 1;
	return sexagesimal_tail(s, len, i) == len;
}

/* PyYAML's float regex:
 *   [-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?
 *   | \.[0-9][0-9_]*(?:[eE][-+][0-9]+)?
 *   | [-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
 *   | [-+]?\.(?:inf|Inf|INF) | \.(?:nan|NaN|NAN) */
static int
looks_float(const char *s, size_t len)
{
	size_t i = 0, j, n;
	int signed_ = 0;

	if (str_is(s, len, ".nan") || str_is(s, len, ".NaN") ||
	    str_is(s, len, ".NAN"))
		return 1;
	if (i < len && (s[i] == '-' || s[i] == '+')) {
		i++;
		signed_ = 1;
	}
	if (str_is(s + i, len - i, ".inf") || str_is(s + i, len - i, ".Inf") ||
	    str_is(s + i, len - i, ".INF"))
		return 1;
	if (i < len && s[i] == '.') {
		/* second form: no sign, at least one digit after the dot */
		if (signed_ || i + 1 >= len || !ascii_digit((unsigned char)s[i + 1]))
			return 0;
		i += 1 + span_of(s, len, i + 1, is_dec_);
	} else {
		if (i >= len || !ascii_digit((unsigned char)s[i]))
			return 0;
		i += 1 + span_of(s, len, i + 1, is_dec_);
		if (i < len && s[i] == ':') {
			if ((j = sexagesimal_tail(s, len, i)) == 0 || j >= len ||
			    s[j] != '.')
				return 0;
			return j + 1 + span_of(s, len, j + 1, is_dec_) == len;
		}
		if (i >= len || s[i] != '.')
			return 0;
		i += 1 + span_of(s, len, i + 1, is_dec_);
	}
	if (i == len)
		return 1;
	if ((s[i] != 'e' && s[i] != 'E') || i + 1 >= len ||
	    (s[i + 1] != '-' && s[i + 1] != '+'))
		return 0;
	n = span_of(s, len, i + 2, ascii_digit);
	return n > 0 && i + 2 + n == len;
}

/* Digits from s[*i]: at least min, at most max; their value or -1. */
static int
digits(const char *s, size_t len, size_t *i, int min, int max)
{
	int v = 0, n = 0;

	while (*i < len && n < max && ascii_digit((unsigned char)s[*i])) {
		v = v * 10 + (s[(*i)++] - '0');
		n++;
	}
	return n >= min ? v : -1;
}

static int
leap_year(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/*
 * PyYAML's timestamp regex:
 *   YYYY-MM-DD
 *   | YYYY-M?M-D?D([Tt]|[ \t]+)H?H:MM:SS(\.F*)?([ \t]*(Z|[-+]H?H(:MM)?))?
 * Returns 1 for a valid date or time, 0 for no match, -1 for a match that
 * is not a real date (PyYAML raises an error for those).
 */
static int
timestamp_text(const char *s, size_t len)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
		30, 31 };
	size_t i = 0;
	int y, mo, d, h, mi, sec, tzh = 0, tzm = 0, dlen;

	if ((y = digits(s, len, &i, 4, 4)) < 0 || i >= len || s[i++] != '-')
		return 0;
	dlen = (int)i;
	if ((mo = digits(s, len, &i, 1, 2)) < 0 || i >= len || s[i++] != '-')
		return 0;
	if ((d = digits(s, len, &i, 1, 2)) < 0)
		return 0;
	if (i == len) {
		/* the date-only form wants two-digit month and day */
		if (i - (size_t)dlen != 5)
			return 0;
		h = mi = sec = 0;
	} else {
		if (s[i] == 'T' || s[i] == 't')
			i++;
		else if (s[i] == ' ' || s[i] == '\t')
			while (i < len && (s[i] == ' ' || s[i] == '\t'))
				i++;
		else
			return 0;
		if ((h = digits(s, len, &i, 1, 2)) < 0 || i >= len ||
		    s[i++] != ':' || (mi = digits(s, len, &i, 2, 2)) < 0 ||
		    i >= len || s[i++] != ':' ||
		    (sec = digits(s, len, &i, 2, 2)) < 0)
			return 0;
		if (i < len && s[i] == '.') {
			i++;
			while (i < len && ascii_digit((unsigned char)s[i]))
				i++;
		}
		while (i < len && (s[i] == ' ' || s[i] == '\t'))
			i++;
		if (i < len && s[i] == 'Z')
			i++;
		else if (i < len && (s[i] == '-' || s[i] == '+')) {
			i++;
			if ((tzh = digits(s, len, &i, 1, 2)) < 0)
				return 0;
			if (i < len && s[i] == ':') {
				i++;
				if ((tzm = digits(s, len, &i, 2, 2)) < 0)
					return 0;
			}
		}
		if (i != len)
			return 0;
	}
	if (y < 1 || mo < 1 || mo > 12 || d < 1 ||
	    d > mdays[mo - 1] + (mo == 2 && leap_year(y)) || h > 23 ||
	    mi > 59 || sec > 59 || tzh > 23 || tzm > 59)
		return -1;
	return 1;
}

/* The text without '_' (and lower-cased when asked), NUL-terminated. */
static char *
strip_underscores(const char *s, size_t len, int lower)
{
	char *out = xmalloc(len + 1);
	size_t i, j = 0;

	for (i = 0; i < len; i++)
		if (s[i] != '_')
			out[j++] = lower ? (char)ascii_lower((unsigned char)s[i]) :
			    s[i];
	out[j] = '\0';
	return out;
}

/* Unsigned digits of `base` into *acc; 0 on overflow or no digit. */
static int
accumulate(const char *p, int base, uint64_t *acc)
{
	uint64_t v = 0;
	int d, any = 0;

	for (; *p != '\0'; p++) {
		if (ascii_digit((unsigned char)*p))
			d = *p - '0';
		else if (ascii_xdigit((unsigned char)*p))
			d = ascii_lower((unsigned char)*p) - 'a' + 10;
		else
			return 0;
		if (d >= base || v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
			return 0;
		v = v * (uint64_t)base + (uint64_t)d;
		any = 1;
	}
	*acc = v;
	return any;
}

/* construct_yaml_int on text that looks_int(); 0 when it does not fit
 * in int64 or has no digits ("0x_"). */
static int
construct_int(const char *s, size_t len, int64_t *out)
{
	char *v = strip_underscores(s, len, 0), *p = v, *part;
	uint64_t mag = 0, digit, base60 = 1;
	int neg = 0, ok = 1;

	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	if (strcmp(p, "0") == 0)
		mag = 0;
	else if (strncmp(p, "0b", 2) == 0)
		ok = accumulate(p + 2, 2, &mag);
	else if (strncmp(p, "0x", 2) == 0)
		ok = accumulate(p + 2, 16, &mag);
	else if (p[0] == '0')
		ok = accumulate(p + 1, 8, &mag) || p[1] == '\0';
	else if (strchr(p, ':') != NULL) {
		/* sexagesimal: the last part is the units */
		while (ok && (part = strrchr(p, ':')) != NULL) {
			ok = accumulate(part + 1, 10, &digit);
			*part = '\0';
			if (ok && digit != 0 &&
			    (base60 > UINT64_MAX / digit ||
			    mag > UINT64_MAX - digit * base60))
				ok = 0;
			if (ok)
				mag += digit * base60;
			if (ok && base60 > UINT64_MAX / 60)
				ok = 0;
			base60 *= 60;
		}
		if (ok) {
			ok = accumulate(p, 10, &digit);
			if (ok && digit != 0 &&
			    (base60 > UINT64_MAX / digit ||
			    mag > UINT64_MAX - digit * base60))
				ok = 0;
			if (ok)
				mag += digit * base60;
		}
	} else
		ok = accumulate(p, 10, &mag);
	free(v);
	if (!ok)
		return 0;
	if (neg) {
		if (mag > (uint64_t)INT64_MAX + 1)
			return 0;
		*out = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN :
		    -(int64_t)mag;
	} else {
		if (mag > (uint64_t)INT64_MAX)
			return 0;
		*out = (int64_t)mag;
	}
	return 1;
}

/* strtod on an ASCII decimal number, whatever LC_NUMERIC says. */
static int
c_strtod(const char *s, double *out)
{
	const char *dp = localeconv()->decimal_point;
	char *copy = xstrdup(s), *p, *end;
	int ok;

	if (dp != NULL && dp[0] != '\0' && dp[0] != '.' && dp[1] == '\0')
		for (p = copy; *p != '\0'; p++)
			if (*p == '.')
				*p = dp[0];
	*out = strtod(copy, &end);
	ok = end != copy && *end == '\0';
	free(copy);
	return ok;
}

/* construct_yaml_float on text that looks_float(). */
static int
construct_float(const char *s, size_t len, double *out)
{
	char *v = strip_underscores(s, len, 1), *p = v, *part;
	double sign = 1, acc = 0, base60 = 1, d;
	int ok = 1;

	if (*p == '-' || *p == '+')
		sign = *p++ == '-' ? -1 : 1;
	if (strcmp(p, ".inf") == 0)
		acc = INFINITY;
	else if (strcmp(p, ".nan") == 0)
		acc = NAN;
	else if (strchr(p, ':') != NULL) {
		while (ok && (part = strrchr(p, ':')) != NULL) {
			ok = c_strtod(part + 1, &d);
			*part = '\0';
			acc += d * base60;
			base60 *= 60;
		}
		if (ok && (ok = c_strtod(p, &d)))
			acc += d * base60;
	} else
		ok = c_strtod(p, &acc);
	free(v);
	*out = sign * acc;
	return ok;
}

/* Give a scalar node its type from its text, as an implicit (untagged,
 * plain) scalar.  Returns 0 with an error for numbers out of range. */
static int
resolve_plain(struct yparse *yp, struct ynode *n)
{
	int b;

	if (is_null_text(n->str, n->len)) {
		n->type = YN_NULL;
	} else if ((b = bool_text(n->str, n->len)) >= 0) {
		n->type = YN_BOOL;
		n->bval = b;
	} else if (looks_int(n->str, n->len)) {
		n->type = YN_INT;
		if (!construct_int(n->str, n->len, &n->ival)) {
			fail(yp, n->line, "integer out of range or without "
			    "digits");
			return 0;
		}
	} else if (looks_float(n->str, n->len)) {
		n->type = YN_REAL;
		if (!construct_float(n->str, n->len, &n->rval)) {
			fail(yp, n->line, "invalid float");
			return 0;
		}
	} else if ((b = timestamp_text(n->str, n->len)) != 0) {
		if (b < 0) {
			fail(yp, n->line, "invalid date or time");
			return 0;
		}
		n->timestamp = 1;
	} else if (str_is(n->str, n->len, "<<")) {
		n->special = YS_MERGE;
	} else if (str_is(n->str, n->len, "=")) {
		n->special = YS_VALUE;
	}
	return 1;
}

/* A scalar with an explicit standard tag (!!str, !!int, ...). */
static int
resolve_tagged(struct yparse *yp, struct ynode *n, const char *tag)
{
	const char *t = tag + strlen(YAML_TAG_PREFIX);
	int b;

	if (strcmp(t, "str") == 0)
		return 1;
	if (strcmp(t, "null") == 0) {
		n->type = YN_NULL;
		return 1;
	}
	if (strcmp(t, "bool") == 0) {
		if ((b = bool_text(n->str, n->len)) < 0) {
			fail(yp, n->line, "invalid !!bool value");
			return 0;
		}
		n->type = YN_BOOL;
		n->bval = b;
		return 1;
	}
	if (strcmp(t, "int") == 0) {
		if (!looks_int(n->str, n->len) ||
		    !construct_int(n->str, n->len, &n->ival)) {
			fail(yp, n->line, "invalid !!int value");
			return 0;
		}
		n->type = YN_INT;
		return 1;
	}
	if (strcmp(t, "float") == 0) {
		int64_t i;

		if (looks_float(n->str, n->len) &&
		    construct_float(n->str, n->len, &n->rval)) {
			n->type = YN_REAL;
			return 1;
		}
		if (looks_int(n->str, n->len) &&
		    construct_int(n->str, n->len, &i)) {
			n->type = YN_REAL;
			n->rval = (double)i;
			return 1;
		}
		fail(yp, n->line, "invalid !!float value");
		return 0;
	}
	fail(yp, n->line, "unsupported tag !!%s", t);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Building the tree from libyaml events                               */

static int
register_anchor(struct yparse *yp, const yaml_char_t *anchor,
    struct ynode *n)
{
	if (anchor == NULL)
		return 1;
	if (yp->nanchors == yp->capanchors) {
		yp->capanchors = yp->capanchors ? yp->capanchors * 2 : 8;
		yp->anchors = xreallocarray(yp->anchors, yp->capanchors,
		    sizeof *yp->anchors);
	}
	yp->anchors[yp->nanchors].name = xstrdup((const char *)anchor);
	yp->anchors[yp->nanchors].node = n;
	yp->nanchors++;
	return 1;
}

static struct ynode *
find_anchor(const struct yparse *yp, const char *name)
{
	size_t i;

	/* an anchor may be redefined; the latest definition wins */
	for (i = yp->nanchors; i-- > 0;)
		if (strcmp(yp->anchors[i].name, name) == 0)
			return yp->anchors[i].node;
	return NULL;
}

/* A collection tag must be absent, "!" or the matching standard one. */
static int
check_collection_tag(struct yparse *yp, const yaml_char_t *tag,
    const char *want, unsigned line)
{
	const char *t = (const char *)tag;

	if (t == NULL || strcmp(t, "!") == 0)
		return 1;
	if (strncmp(t, YAML_TAG_PREFIX, strlen(YAML_TAG_PREFIX)) == 0 &&
	    strcmp(t + strlen(YAML_TAG_PREFIX), want) == 0)
		return 1;
	if (strncmp(t, YAML_TAG_PREFIX, strlen(YAML_TAG_PREFIX)) == 0)
		fail(yp, line, "unsupported tag !!%s",
		    t + strlen(YAML_TAG_PREFIX));
	else
		fail(yp, line, "unsupported tag %.64s", t);
	return 0;
}

/* Attach a finished node (or an alias) to the open collection or make it
 * the document root. */
static int
attach(struct yparse *yp, struct ynode *n)
{
	struct ynode *parent;
	const struct ynode *d = deref(n);
	uint64_t w;

	if (yp->nstack == 0) {
		if (d->special != YS_NONE) {
			fail(yp, n->line, "'%s' is not a valid value",
			    d->str);
			return 0;
		}
		yp->root = n;
		return 1;
	}
	parent = yp->stack[yp->nstack - 1];
	if (yp->nstack + d->height > RULE_DEPTH_MAX + 1) {
		fail(yp, n->line, "nesting deeper than %d levels",
		    RULE_DEPTH_MAX);
		return 0;
	}
	if (parent->type == YN_MAP && parent->nkids % 2 == 0) {
		/* a key: only strings, which JSON objects can hold */
		if (d->type != YN_STR) {
			fail(yp, n->line, "mapping keys must be strings, not "
			    "%s", type_name(d));
			return 0;
		}
		if (d->special == YS_MERGE)
			parent->has_merge = 1;
		if (memchr(d->str, '\0', d->len) != NULL) {
			fail(yp, n->line, "mapping key contains a NUL "
			    "character");
			return 0;
		}
		node_append(parent, (struct ynode *)d);
	} else {
		if (d->special != YS_NONE) {
			fail(yp, n->line, "'%s' is not a valid value",
			    d->str);
			return 0;
		}
		node_append(parent, n);
	}
	w = parent->weight + d->weight;
	if (w > RULE_NODE_MAX) {
		fail(yp, n->line, "document expands to more than %d nodes "
		    "(alias bomb?)", RULE_NODE_MAX);
		return 0;
	}
	parent->weight = w;
	if (d->height + 1 > parent->height)
		parent->height = d->height + 1;
	return 1;
}

/* The string for a message, or "?" when it holds control characters. */
static const char *
printable(const struct ynode *n)
{
	size_t i;

	for (i = 0; i < n->len; i++)
		if ((unsigned char)n->str[i] < 0x20 || n->str[i] == 0x7f)
			return "?";
	return n->str;
}

struct keyref {
	const struct ynode *key;
	size_t idx;
};

static int
key_cmp(const struct ynode *a, const struct ynode *b)
{
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return memcmp(a->str, b->str, a->len);
}

/* By key, then by position (qsort is not stable). */
static int
keyref_cmp(const void *a, const void *b)
{
	const struct keyref *x = a, *y = b;
	int c;

	if ((c = key_cmp(x->key, y->key)) != 0)
		return c;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/*
 * Finish a mapping: reject duplicate keys, then apply merge keys the way
 * PyYAML's flatten_mapping does (merged pairs first, later sources lose
 * to earlier ones, explicit keys win).
 */
static int
finish_map(struct yparse *yp, struct ynode *map)
{
	struct ynode **pairs = NULL;
	struct keyref *refs;
	size_t npairs = 0, cap = 0, i, j, k, nexp = 0;
	size_t *winner;
	const struct ynode *src;

	/* explicit keys must be unique */
	refs = xreallocarray(NULL, map->nkids / 2 + 1, sizeof *refs);
	for (i = 0; i < map->nkids; i += 2)
		if (map->kids[i]->special != YS_MERGE) {
			refs[nexp].key = map->kids[i];
			refs[nexp].idx = i;
			nexp++;
		}
	qsort(refs, nexp, sizeof *refs, keyref_cmp);
	for (i = 1; i < nexp; i++)
		if (key_cmp(refs[i - 1].key, refs[i].key) == 0) {
			fail(yp, refs[i].key->line, "duplicate key '%.64s' "
			    "(first at line %u)", printable(refs[i].key),
			    refs[i - 1].key->line);
			free(refs);
			return 0;
		}
	free(refs);
	if (!map->has_merge)
		return 1;

	/* merged pairs, in PyYAML's order, then the explicit ones */
#define PUSH_PAIR(k_, v_) do {						\
	if (npairs + 2 > cap) {						\
		cap = cap ? cap * 2 : 16;				\
		pairs = xreallocarray(pairs, cap, sizeof *pairs);	\
	}								\
	pairs[npairs++] = (struct ynode *)(k_);				\
	pairs[npairs++] = (struct ynode *)(v_);				\
} while (0)
	for (i = 0; i < map->nkids; i += 2) {
		if (map->kids[i]->special != YS_MERGE)
			continue;
		src = deref(map->kids[i + 1]);
		if (src->type == YN_MAP) {
			for (j = 0; j < src->nkids; j += 2)
				PUSH_PAIR(src->kids[j], src->kids[j + 1]);
		} else if (src->type == YN_SEQ) {
			for (k = src->nkids; k-- > 0;) {
				const struct ynode *m = deref(src->kids[k]);

				if (m->type != YN_MAP) {
					fail(yp, src->kids[k]->line, "a merge "
					    "key needs mappings, not %s",
					    type_name(m));
					free(pairs);
					return 0;
				}
				for (j = 0; j < m->nkids; j += 2)
					PUSH_PAIR(m->kids[j], m->kids[j + 1]);
			}
		} else {
			fail(yp, map->kids[i + 1]->line, "a merge key needs a "
			    "mapping or a list of mappings, not %s",
			    type_name(src));
			free(pairs);
			return 0;
		}
	}
	for (i = 0; i < map->nkids; i += 2)
		if (map->kids[i]->special != YS_MERGE)
			PUSH_PAIR(map->kids[i], map->kids[i + 1]);
#undef PUSH_PAIR

	/* like a dict: position of the first occurrence, value of the last */
	refs = xreallocarray(NULL, npairs / 2 + 1, sizeof *refs);
	winner = xreallocarray(NULL, npairs / 2 + 1, sizeof *winner);
	for (i = 0; i < npairs / 2; i++) {
		refs[i].key = pairs[2 * i];
		refs[i].idx = i;
		winner[i] = SIZE_MAX;
	}
	qsort(refs, npairs / 2, sizeof *refs, keyref_cmp);
	for (i = 0; i < npairs / 2; i = j) {
		for (j = i + 1; j < npairs / 2 &&
		    key_cmp(refs[i].key, refs[j].key) == 0; j++)
			;
		winner[refs[i].idx] = refs[j - 1].idx;
	}
	map->nkids = 0;
	for (i = 0; i < npairs / 2; i++)
		if (winner[i] != SIZE_MAX) {
			node_append(map, pairs[2 * i]);
			node_append(map, pairs[2 * winner[i] + 1]);
		}
	free(winner);
	free(refs);
	free(pairs);
	return 1;
}

static unsigned
mark_line(const yaml_mark_t *m)
{
	return (unsigned)m->line + 1;
}

static int
on_scalar(struct yparse *yp, const yaml_event_t *ev)
{
	struct ynode *n;
	const char *tag = (const char *)ev->data.scalar.tag;
	int plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;

	n = node_new(yp, YN_STR, mark_line(&ev->start_mark));
	n->len = ev->data.scalar.length;
	n->str = xmalloc(n->len + 1);
	memcpy(n->str, ev->data.scalar.value, n->len);
	n->str[n->len] = '\0';
	n->complete = 1;
	if (tag == NULL || strcmp(tag, "!") == 0) {
		if (plain && !resolve_plain(yp, n))
			return 0;
	} else if (strncmp(tag, YAML_TAG_PREFIX,
	    strlen(YAML_TAG_PREFIX)) == 0) {
		if (!resolve_tagged(yp, n, tag))
			return 0;
	} else {
		fail(yp, n->line, "unsupported tag %.64s", tag);
		return 0;
	}
	register_anchor(yp, ev->data.scalar.anchor, n);
	return attach(yp, n);
}

static int
on_alias(struct yparse *yp, const yaml_event_t *ev)
{
	struct ynode *target, *n;
	unsigned line = mark_line(&ev->start_mark);

	target = find_anchor(yp, (const char *)ev->data.alias.anchor);
	if (target == NULL) {
		fail(yp, line, "undefined alias *%.64s",
		    (const char *)ev->data.alias.anchor);
		return 0;
	}
	if (!target->complete) {
		fail(yp, line, "recursive alias *%.64s",
		    (const char *)ev->data.alias.anchor);
		return 0;
	}
	n = node_new(yp, YN_ALIAS, line);
	n->target = target;
	n->complete = 1;
	n->weight = target->weight;
	n->height = target->height;
	return attach(yp, n);
}

static int
on_collection_start(struct yparse *yp, const yaml_event_t *ev)
{
	struct ynode *n;
	int map = ev->type == YAML_MAPPING_START_EVENT;
	unsigned line = mark_line(&ev->start_mark);

	if (!check_collection_tag(yp, map ? ev->data.mapping_start.tag :
	    ev->data.sequence_start.tag, map ? "map" : "seq", line))
		return 0;
	if (yp->nstack >= RULE_DEPTH_MAX) {
		fail(yp, line, "nesting deeper than %d levels", RULE_DEPTH_MAX);
		return 0;
	}
	n = node_new(yp, map ? YN_MAP : YN_SEQ, line);
	register_anchor(yp, map ? ev->data.mapping_start.anchor :
	    ev->data.sequence_start.anchor, n);
	if (yp->nstack == yp->capstack) {
		yp->capstack = yp->capstack ? yp->capstack * 2 : 16;
		yp->stack = xreallocarray(yp->stack, yp->capstack,
		    sizeof *yp->stack);
	}
	yp->stack[yp->nstack++] = n;
	return 1;
}

static int
on_collection_end(struct yparse *yp)
{
	struct ynode *n = yp->stack[--yp->nstack];

	if (n->type == YN_MAP && !finish_map(yp, n))
		return 0;
	n->complete = 1;
	return attach(yp, n);
}

static unsigned
offset_line(const char *buf, size_t len, size_t offset)
{
	unsigned line = 1;
	size_t i;

	for (i = 0; i < offset && i < len; i++)
		if (buf[i] == '\n')
			line++;
	return line;
}

static void
syntax_error(struct yparse *yp, const yaml_parser_t *p, const char *buf,
    size_t len)
{
	const char *problem = p->problem ? p->problem : "unknown error";
	unsigned line;

	if (p->error == YAML_MEMORY_ERROR) {
		fail(yp, 0, "out of memory while parsing YAML");
		return;
	}
	if (p->error == YAML_READER_ERROR)
		line = offset_line(buf, len, p->problem_offset);
	else
		line = mark_line(&p->problem_mark);
	if (p->context != NULL)
		fail(yp, line, "YAML syntax error: %s (%s started at "
		    "line %u)", problem, p->context,
		    mark_line(&p->context_mark));
	else
		fail(yp, line, "YAML syntax error: %s", problem);
}

/* Parse the buffer into yp->root; 0 with yp->err set on failure. */
static int
build_tree(struct yparse *yp, const char *buf, size_t len)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	int done = 0, ok = 1;

	if (!yaml_parser_initialize(&parser)) {
		fail(yp, 0, "out of memory");
		return 0;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	while (ok && !done) {
		if (!yaml_parser_parse(&parser, &ev)) {
			syntax_error(yp, &parser, buf, len);
			ok = 0;
			break;
		}
		switch (ev.type) {
		case YAML_DOCUMENT_START_EVENT:
			if (++yp->ndocs > 1) {
				fail(yp, mark_line(&ev.start_mark), "more than "
				    "one YAML document in a rule file");
				ok = 0;
			}
			break;
		case YAML_SCALAR_EVENT:
			ok = on_scalar(yp, &ev);
			break;
		case YAML_ALIAS_EVENT:
			ok = on_alias(yp, &ev);
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			ok = on_collection_start(yp, &ev);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			ok = on_collection_end(yp);
			break;
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	if (ok && yp->root == NULL) {
		fail(yp, 0, "empty file (no YAML document)");
		ok = 0;
	}
	return ok;
}

/* ------------------------------------------------------------------ */
/* Tree to ttpd_value                                                  */

static ttpd_value *
to_value(struct yparse *yp, const struct ynode *at)
{
	const struct ynode *n = deref(at);
	ttpd_value *v = NULL, *kid;
	size_t i;

	switch (n->type) {
	case YN_NULL:
		v = jv_new_null();
		break;
	case YN_BOOL:
		v = jv_new_bool(n->bval);
		break;
	case YN_INT:
		v = jv_new_int(n->ival);
		break;
	case YN_REAL:
		if (!isfinite(n->rval)) {
			fail(yp, at->line, "infinite or NaN numbers are not "
			    "supported in match");
			return NULL;
		}
		v = jv_new_real(n->rval);
		break;
	case YN_STR:
		v = jv_new_string(n->str, n->len);
		if (v == NULL) {
			fail(yp, at->line, "string is not valid UTF-8");
			return NULL;
		}
		break;
	case YN_SEQ:
		v = jv_new_array();
		for (i = 0; v != NULL && i < n->nkids; i++) {
			if ((kid = to_value(yp, n->kids[i])) == NULL ||
			    jv_array_append_new(v, kid) != TTPD_OK) {
				jv_decref(v);
				return NULL;
			}
		}
		break;
	case YN_MAP:
		v = jv_new_object();
		for (i = 0; v != NULL && i < n->nkids; i += 2) {
			if ((kid = to_value(yp, n->kids[i + 1])) == NULL ||
			    jv_object_set_new(v, n->kids[i]->str, kid) !=
			    TTPD_OK) {
				jv_decref(v);
				return NULL;
			}
		}
		break;
	case YN_ALIAS:
		break;
	}
	if (v == NULL)
		fail(yp, at->line, "cannot build value (out of memory?)");
	return v;
}

/* ------------------------------------------------------------------ */
/* Validation                                                          */

/* The value node under key (not dereferenced), or NULL. */
static const struct ynode *
map_get(const struct ynode *map, const char *key)
{
	size_t i;

	for (i = 0; i < map->nkids; i += 2)
		if (str_is(map->kids[i]->str, map->kids[i]->len, key))
			return map->kids[i + 1];
	return NULL;
}

/* Line of the key itself, for pub.line. */
static unsigned
map_key_line(const struct ynode *map, const char *key)
{
	size_t i;

	for (i = 0; i < map->nkids; i += 2)
		if (str_is(map->kids[i]->str, map->kids[i]->len, key))
			return map->kids[i]->line;
	return map->line;
}

/* A string node usable as a C string; NULL (and an error) otherwise. */
static const char *
want_string(struct yparse *yp, const struct ynode *at, const char *what,
    int allow_empty)
{
	const struct ynode *n = deref(at);

	if (n->type != YN_STR || n->timestamp) {
		fail(yp, at->line, "%s must be a string, not %s", what,
		    type_name(n));
		return NULL;
	}
	if (!allow_empty && n->len == 0) {
		fail(yp, at->line, "%s must not be empty", what);
		return NULL;
	}
	if (memchr(n->str, '\0', n->len) != NULL) {
		fail(yp, at->line, "%s contains a NUL character", what);
		return NULL;
	}
	if (!jv_utf8_valid(n->str, n->len)) {
		fail(yp, at->line, "%s is not valid UTF-8", what);
		return NULL;
	}
	return n->str;
}

static const struct ynode *
want_key(struct yparse *yp, const struct ynode *map, const char *key,
    const char *where)
{
	const struct ynode *v = map_get(map, key);

	if (v == NULL)
		fail(yp, map->line, "%s%s%s is missing", where,
		    *where ? "." : "", key);
	return v;
}

static int
rule_id_ok(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!ascii_alnum(*s) && *s != '_' && *s != '.' &&
		    *s != '-')
			return 0;
	return 1;
}

/* `prefix` followed by exactly `ndigits` ASCII digits. */
static int
id_shape(const char *s, const char *prefix, size_t ndigits)
{
	size_t i, plen = strlen(prefix);

	if (strncmp(s, prefix, plen) != 0 || strlen(s) != plen + ndigits)
		return 0;
	for (i = plen; i < plen + ndigits; i++)
		if (!ascii_digit((unsigned char)s[i]))
			return 0;
	return 1;
}

/* A list of strings into a NULL-terminated array (count in *n). */
static char **
string_list(struct yparse *yp, const struct ynode *at, const char *what,
    int allow_empty_items, size_t *n)
{
	const struct ynode *seq = deref(at);
	char **out;
	const char *s;
	char label[64];
	size_t i;

	if (seq->type != YN_SEQ) {
		fail(yp, at->line, "%s must be a list, not %s", what,
		    type_name(seq));
		return NULL;
	}
	out = xcalloc(seq->nkids + 1, sizeof *out);
	for (i = 0; i < seq->nkids; i++) {
		snprintf(label, sizeof label, "%s[%zu]", what, i);
		if ((s = want_string(yp, seq->kids[i], label,
		    allow_empty_items)) == NULL) {
			while (i-- > 0)
				free(out[i]);
			free(out);
			return NULL;
		}
		out[i] = xstrdup(s);
	}
	*n = seq->nkids;
	return out;
}

static const char *
label(char *buf, size_t size, const char *where, const char *key)
{
	snprintf(buf, size, "%s.%s", where, key);
	return buf;
}

static int
check_emit(struct yparse *yp, const struct ynode *at, size_t idx,
    ttpd_emit *e)
{
	const struct ynode *m = deref(at), *v;
	const char *tech, *tactic, *sub = NULL;
	char where[32], what[64];
	double conf;

	snprintf(where, sizeof where, "emits[%zu]", idx);
	if (m->type != YN_MAP) {
		fail(yp, at->line, "%s must be a mapping, not %s", where,
		    type_name(m));
		return 0;
	}
	if ((v = want_key(yp, m, "technique_id", where)) == NULL ||
	    (tech = want_string(yp, v, label(what, sizeof what, where,
	    "technique_id"), 0)) == NULL)
		return 0;
	if (!id_shape(tech, "T", 4)) {
		fail(yp, v->line, "%s.technique_id must look like T1234",
		    where);
		return 0;
	}
	if ((v = want_key(yp, m, "tactic", where)) == NULL ||
	    (tactic = want_string(yp, v, label(what, sizeof what, where,
	    "tactic"), 0)) == NULL)
		return 0;
	if (!id_shape(tactic, "TA", 4)) {
		fail(yp, v->line, "%s.tactic must look like TA0001", where);
		return 0;
	}
	if ((v = map_get(m, "sub_technique_id")) != NULL &&
	    deref(v)->type != YN_NULL) {
		if ((sub = want_string(yp, v, label(what,
		    sizeof what, where, "sub_technique_id"), 1)) == NULL)
			return 0;
		if (*sub == '\0')
			sub = NULL;
		else if (strlen(sub) != 9 || strncmp(sub, tech, 5) != 0 ||
		    sub[5] != '.' || !id_shape(sub + 5, ".", 3)) {
			fail(yp, v->line, "%s.sub_technique_id must look like "
			    "%s.001", where, tech);
			return 0;
		}
	}
	if ((v = want_key(yp, m, "confidence", where)) == NULL)
		return 0;
	switch (deref(v)->type) {
	case YN_INT:
		conf = (double)deref(v)->ival;
		break;
	case YN_REAL:
		conf = deref(v)->rval;
		break;
	default:
		fail(yp, v->line, "%s.confidence must be a number, not %s",
		    where, type_name(v));
		return 0;
	}
	if (!isfinite(conf) || conf < 0 || conf > 1) {
		fail(yp, v->line, "%s.confidence must be within [0, 1]", where);
		return 0;
	}
	e->size = sizeof *e;
	e->technique_id = xstrdup(tech);
	e->tactic = xstrdup(tactic);
	e->sub_technique_id = xstrdup_or_null(sub);
	e->confidence = conf;
	return 1;
}

/* The `match` mapping: its own checks, then a value for the plugin. */
static ttpd_value *
check_match(struct yparse *yp, const struct ynode *at)
{
	const struct ynode *m = deref(at), *v;
	static const char *const strkeys[] = { "kind", "field", "pattern" };
	size_t i;

	if (m->type != YN_MAP) {
		fail(yp, at->line, "match must be a mapping, not %s",
		    type_name(m));
		return NULL;
	}
	for (i = 0; i < sizeof strkeys / sizeof strkeys[0]; i++) {
		char what[32];

		snprintf(what, sizeof what, "match.%s", strkeys[i]);
		if ((v = map_get(m, strkeys[i])) != NULL &&
		    want_string(yp, v, what, 1) == NULL)
			return NULL;
	}
	return to_value(yp, at);
}

/* pub's strings are const for plugins but owned (and freed) by the rule. */
static char *
take(const char *s)
{
	return (char *)(uintptr_t)s;
}

static struct rule *
build_rule(struct yparse *yp)
{
	const struct ynode *root = deref(yp->root), *v, *apply, *emits;
	const struct ynode *seq;
	struct rule *r;
	const char *s;
	size_t i;

	if (root->type != YN_MAP) {
		fail(yp, yp->root->line, "top level must be a mapping, not %s",
		    type_name(root));
		return NULL;
	}
	r = xcalloc(1, sizeof *r);
	r->pub.size = sizeof r->pub;
	r->pub.path = xstrdup(yp->path);

	if ((v = want_key(yp, root, "rule_id", "")) == NULL ||
	    (s = want_string(yp, v, "rule_id", 0)) == NULL)
		goto bad;
	if (!rule_id_ok(s)) {
		fail(yp, v->line, "rule_id must use only [A-Za-z0-9_.-]");
		goto bad;
	}
	r->pub.rule_id = xstrdup(s);
	r->pub.line = map_key_line(root, "rule_id");

	if ((v = want_key(yp, root, "rule_version", "")) == NULL)
		goto bad;
	if (deref(v)->type != YN_INT) {
		fail(yp, v->line, "rule_version must be an integer, not %s",
		    type_name(v));
		goto bad;
	}
	if (deref(v)->ival < 0) {
		fail(yp, v->line, "rule_version must not be negative");
		goto bad;
	}
	r->pub.rule_version = deref(v)->ival;

	if ((v = want_key(yp, root, "name", "")) == NULL ||
	    (s = want_string(yp, v, "name", 1)) == NULL)
		goto bad;
	r->pub.name = xstrdup(s);

	if ((v = map_get(root, "description")) != NULL) {
		if ((s = want_string(yp, v, "description", 1)) == NULL)
			goto bad;
		r->description = xstrdup(s);
	} else
		r->description = xstrdup("");

	if ((apply = want_key(yp, root, "applies_to", "")) == NULL ||
	    (emits = want_key(yp, root, "emits", "")) == NULL)
		goto bad;
	if (deref(apply)->type == YN_SEQ && deref(apply)->nkids == 0 &&
	    deref(emits)->type == YN_SEQ && deref(emits)->nkids == 0) {
		fail(yp, apply->line, "empty applies_to and emits (DECNET's "
		    "deletion sentinel) is not a rule");
		goto bad;
	}
	if ((r->applies_store = string_list(yp, apply, "applies_to", 0,
	    &r->pub.n_applies_to)) == NULL)
		goto bad;
	r->pub.applies_to = (const char *const *)r->applies_store;
	if (r->pub.n_applies_to == 0) {
		fail(yp, apply->line, "applies_to must not be empty");
		goto bad;
	}

	if ((v = want_key(yp, root, "match", "")) == NULL ||
	    (r->match = check_match(yp, v)) == NULL)
		goto bad;
	r->pub.match = r->match;
	r->pub.kind = jv_string(jv_object_get(r->match, "kind"));

	seq = deref(emits);
	if (seq->type != YN_SEQ) {
		fail(yp, emits->line, "emits must be a list, not %s",
		    type_name(seq));
		goto bad;
	}
	if (seq->nkids == 0) {
		fail(yp, emits->line, "emits must not be empty");
		goto bad;
	}
	r->emit_store = xcalloc(seq->nkids, sizeof *r->emit_store);
	r->emit_ptrs = xcalloc(seq->nkids, sizeof *r->emit_ptrs);
	for (i = 0; i < seq->nkids; i++) {
		if (!check_emit(yp, seq->kids[i], i, &r->emit_store[i]))
			goto bad;
		r->emit_ptrs[i] = &r->emit_store[i];
		r->pub.n_emits = i + 1;
	}
	r->pub.emits = r->emit_ptrs;

	if ((v = map_get(root, "evidence_fields")) != NULL) {
		if ((r->evidence_store = string_list(yp, v, "evidence_fields",
		    1, &r->pub.n_evidence_fields)) == NULL)
			goto bad;
	} else
		r->evidence_store = xcalloc(1, sizeof *r->evidence_store);
	r->pub.evidence_fields = (const char *const *)r->evidence_store;
	return r;
bad:
	rule_free(r);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Public interface                                                    */

/* FNV-1a, 64 bits: tells an edited file from a rewritten identical one. */
static uint64_t
content_hash(const char *buf, size_t len)
{
	uint64_t h = UINT64_C(14695981039346656037);
	size_t i;

	for (i = 0; buf != NULL && i < len; i++) {
		h ^= (unsigned char)buf[i];
		h *= UINT64_C(1099511628211);
	}
	return h;
}

int
rules_filename_ok(const char *basename)
{
	const char *dot, *p;

	if (basename == NULL || (dot = strchr(basename, '.')) == NULL ||
	    dot == basename)
		return 0;
	for (p = basename; p < dot; p++)
		if (!ascii_alnum(*p) && *p != '_')
			return 0;
	return strcmp(dot, ".yaml") == 0 || strcmp(dot, ".yml") == 0;
}

struct rule *
rules_parse_buffer(const char *path, const char *buf, size_t len, char *err,
    size_t errlen)
{
	struct yparse yp;
	struct rule *r = NULL;

	memset(&yp, 0, sizeof yp);
	yp.path = path != NULL ? path : "<buffer>";
	yp.err = err;
	yp.errlen = errlen;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (len > RULE_FILE_MAX)
		fail(&yp, 0, "rule file too large (%zu bytes, limit %d)", len,
		    RULE_FILE_MAX);
	else if (buf == NULL && len > 0)
		fail(&yp, 0, "no buffer");
	else if (build_tree(&yp, buf != NULL ? buf : "", len))
		r = build_rule(&yp);
	yparse_free(&yp);
	if (r != NULL)
		r->content_hash = content_hash(buf, len);
	return r;
}

struct rule *
rules_parse_file(const char *path, char *err, size_t errlen)
{
	struct stat st;
	struct rule *r;
	char *buf;
	size_t len = 0;
	ssize_t got;
	int fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: cannot open: %s", path,
		    strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1) {
		saved = errno;
		snprintf(err, errlen, "%s: fstat: %s", path, strerror(saved));
		close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return NULL;
	}
	if (st.st_size > RULE_FILE_MAX) {
		snprintf(err, errlen, "%s: rule file too large (%lld bytes, "
		    "limit %d)", path, (long long)st.st_size, RULE_FILE_MAX);
		close(fd);
		return NULL;
	}
	/* one byte more than the limit, to notice a file that grew */
	buf = xmalloc(RULE_FILE_MAX + 1);
	while (len <= RULE_FILE_MAX) {
		got = read(fd, buf + len, RULE_FILE_MAX + 1 - len);
		if (got == -1 && errno == EINTR)
			continue;
		if (got == -1) {
			snprintf(err, errlen, "%s: read: %s", path,
			    strerror(errno));
			free(buf);
			close(fd);
			return NULL;
		}
		if (got == 0)
			break;
		len += (size_t)got;
	}
	close(fd);
	r = rules_parse_buffer(path, buf, len, err, errlen);
	free(buf);
	return r;
}

void
rule_free(struct rule *r)
{
	size_t i;

	if (r == NULL)
		return;
	free(take(r->pub.rule_id));
	free(take(r->pub.name));
	free(take(r->pub.path));
	free(r->description);
	if (r->match != NULL)
		jv_decref(r->match);
	/* check_emit() fills an entry only once it is valid */
	for (i = 0; r->emit_store != NULL && i < r->pub.n_emits; i++) {
		free(take(r->emit_store[i].tactic));
		free(take(r->emit_store[i].technique_id));
		free(take(r->emit_store[i].sub_technique_id));
	}
	free(r->emit_store);
	free(r->emit_ptrs);
	if (r->applies_store != NULL)
		for (i = 0; r->applies_store[i] != NULL; i++)
			free(r->applies_store[i]);
	free(r->applies_store);
	if (r->evidence_store != NULL)
		for (i = 0; r->evidence_store[i] != NULL; i++)
			free(r->evidence_store[i]);
	free(r->evidence_store);
	free(r);
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
report_fmt(void (*report)(void *, const char *), void *ud,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
report_fmt(void (*report)(void *, const char *), void *ud,
    const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (report != NULL)
		report(ud, msg);
}

/* The rule file names of one directory, sorted; NULL on error. */
static char **
list_rule_files(const char *dir, size_t *n)
{
	DIR *d;
	struct dirent *de;
	char **names = NULL;
	size_t cap = 0;

	*n = 0;
	if ((d = opendir(dir)) == NULL)
		return NULL;
	while ((de = readdir(d)) != NULL) {
		if (!rules_filename_ok(de->d_name))
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			names = xreallocarray(names, cap, sizeof *names);
		}
		names[(*n)++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (names == NULL)
		names = xcalloc(1, sizeof *names);
	qsort(names, *n, sizeof *names, name_cmp);
	return names;
}

int
rules_load_dirs(const char *const *dirs, size_t ndirs, struct ruleset *out,
    void (*report)(void *ud, const char *msg), void *ud)
{
	char err[1024], **names, *path;
	struct rule *r, *prev;
	size_t d, i, n;
	int problems = 0;

	for (d = 0; d < ndirs; d++) {
		if ((names = list_rule_files(dirs[d], &n)) == NULL) {
			report_fmt(report, ud, "%s: cannot read rules "
			    "directory: %s", dirs[d], strerror(errno));
			problems++;
			continue;
		}
		for (i = 0; i < n; i++) {
			size_t dl = strlen(dirs[d]);

			path = xasprintf("%s%s%s", dirs[d],
			    dl > 0 && dirs[d][dl - 1] == '/' ? "" : "/",
			    names[i]);
			r = rules_parse_file(path, err, sizeof err);
			if (r == NULL) {
				report_fmt(report, ud, "%s", err);
				problems++;
			} else if ((prev = ruleset_find(out,
			    r->pub.rule_id)) != NULL) {
				report_fmt(report, ud, "%s:%u: rule_id %s is "
				    "already defined in %s:%u", path,
				    r->pub.line, r->pub.rule_id,
				    prev->pub.path, prev->pub.line);
				problems++;
				rule_free(r);
			} else
				ruleset_push(out, r);
			free(path);
			free(names[i]);
		}
		free(names);
	}
	return problems;
}

void
ruleset_init(struct ruleset *rs)
{
	rs->v = NULL;
	rs->n = rs->cap = 0;
}

void
ruleset_push(struct ruleset *rs, struct rule *r)
{
	if (rs->n == rs->cap) {
		rs->cap = rs->cap ? rs->cap * 2 : 64;
		rs->v = xreallocarray(rs->v, rs->cap, sizeof *rs->v);
	}
	rs->v[rs->n++] = r;
}

struct rule *
ruleset_find(const struct ruleset *rs, const char *rule_id)
{
	size_t i;

	for (i = 0; i < rs->n; i++)
		if (strcmp(rs->v[i]->pub.rule_id, rule_id) == 0)
			return rs->v[i];
	return NULL;
}

void
ruleset_free(struct ruleset *rs)
{
	size_t i;

	for (i = 0; i < rs->n; i++)
		rule_free(rs->v[i]);
	free(rs->v);
	ruleset_init(rs);
}

int
ruleset_replace(struct ruleset *rs, struct rule *old, struct rule *r)
{
	size_t i;

	for (i = 0; i < rs->n; i++)
		if (rs->v[i] == old) {
			rs->v[i] = r;
			return 0;
		}
	return -1;
}

int
ruleset_remove(struct ruleset *rs, struct rule *r)
{
	size_t i;

	for (i = 0; i < rs->n; i++)
		if (rs->v[i] == r) {
			memmove(&rs->v[i], &rs->v[i + 1],
			    (rs->n - i - 1) * sizeof *rs->v);
			rs->n--;
			return 0;
		}
	return -1;
}

int
rule_kind_matches(const char *pattern, const char *kind)
{
	size_t plen;

	if (pattern == NULL || kind == NULL)
		return 0;
	plen = strlen(pattern);
	if (plen > 0 && pattern[plen - 1] == '*')
		return strncmp(pattern, kind, plen - 1) == 0;
	return strcmp(pattern, kind) == 0;
}

/* Only ever touched on the thread that tags (and at start-up). */
static unsigned long generation = 1;

void
rules_changed(void)
{
	generation++;
}

unsigned long
rules_generation(void)
{
	return generation;
}

void
rule_set_state(struct rule *r, const struct rule_state *st)
{
	r->state = *st;
	generation++;
}
