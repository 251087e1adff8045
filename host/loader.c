/*
 * Plugin loader: find the file, check who may have written it, dlopen it,
 * validate the descriptor it hands us, check its config, call init() and
 * only then register it.  Each refusal is one line naming the file, the
 * ABI versions when known, the reason and the fix (design J.2, J.3).
 */
#include "config.h"

#include <sys/stat.h>

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "crash.h"
#include "hostapi.h"
#include "loader.h"
#include "log.h"
#include "plugin.h"
#include "xmalloc.h"

/*
 * Size of the ABI 1.0 descriptor: the end of its last field.  Frozen: when
 * a field is appended for 1.1, add LIFTER_SIZE_1_1 to the table below and
 * move the assertion to it.
 */
#define LIFTER_SIZE_1_0                                                        \
	((uint32_t)(offsetof(ttpd_lifter, destroy) +                           \
	    sizeof(((const ttpd_lifter *)0)->destroy)))

_Static_assert(LIFTER_SIZE_1_0 == sizeof(ttpd_lifter),
    "ttpd_lifter grew: add its size for the new minor to descriptor_sizes");
/* The header is read before the size is known to cover anything more. */
_Static_assert(offsetof(ttpd_lifter, magic) == 0 &&
    offsetof(ttpd_lifter, size) == 4 &&
    offsetof(ttpd_lifter, abi_major) == 8 &&
    offsetof(ttpd_lifter, abi_minor) == 10 &&
    offsetof(ttpd_lifter, flags) == 12,
    "the fixed descriptor header moved: that is an ABI major change");

/* Index = minor of ABI TTPD_ABI_MAJOR. */
static const uint32_t descriptor_sizes[] = {
	LIFTER_SIZE_1_0,
};
#define N_DESCRIPTOR_SIZES (sizeof descriptor_sizes / sizeof descriptor_sizes[0])

/* Stops a descriptor array without its NULL from running through memory. */
#define MAX_KINDS 256
#define MAX_NAME_LEN 64

#define STR_(x) #x
#define STR(x) STR_(x)

uint32_t
loader_descriptor_size_for_minor(uint16_t minor)
{
	if (minor >= N_DESCRIPTOR_SIZES)
		return 0;
	return descriptor_sizes[minor];
}

/* The smallest descriptor a lifter of this minor may hand us: the size of
 * the newest released minor not after it. */
static uint32_t
required_size(uint16_t minor)
{
	if (minor >= N_DESCRIPTOR_SIZES)
		minor = N_DESCRIPTOR_SIZES - 1;
	return descriptor_sizes[minor];
}

const char *
loader_check_version(uint16_t host_major, uint16_t host_minor,
    uint16_t major, uint16_t minor, uint32_t size, const char **fix)
{
	const char *unused;

	if (fix == NULL)
		fix = &unused;
	*fix = NULL;
	if (major != host_major) {
		if (host_major == TTPD_ABI_MAJOR)
			*fix = "rebuild it against the ttpd "
			    STR(TTPD_ABI_MAJOR) ".x SDK";
		else
			*fix = "rebuild it against the SDK of the ttpd "
			    "that loads it";
		return "ABI major version differs";
	}
	if (minor > host_minor) {
		*fix = "upgrade ttpd to a version providing the plugin's ABI, "
		    "or rebuild the plugin against this ttpd's SDK";
		return "the plugin needs a newer ABI minor than ttpd provides";
	}
	if (size < required_size(minor)) {
		*fix = "rebuild it; the descriptor is truncated or corrupt";
		return "descriptor is smaller than its ABI version defines";
	}
	return NULL;
}

/* What is known about the plugin when a refusal is written. */
enum abi_known {
	ABI_NOT_READ,	/* no descriptor yet: no ABI part */
	ABI_UNKNOWN,	/* a descriptor that cannot be trusted */
	ABI_READ	/* magic good: its major.minor */
};

struct attempt {
	const char *path;	/* as configured, for messages */
	enum abi_known abi;
	uint16_t major, minor;
	char *err;
	size_t errlen;
};

/* Keep a message on one line whatever the plugin or the path contains. */
static void
flatten(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = ' ';
}

static int
refuse(struct attempt *at, const char *fix, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
refuse(struct attempt *at, const char *fix, const char *fmt, ...)
{
	char reason[512], abi[96], *line;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof reason, fmt, ap);
	va_end(ap);
	switch (at->abi) {
	case ABI_NOT_READ:
		abi[0] = '\0';
		break;
	case ABI_UNKNOWN:
		snprintf(abi, sizeof abi,
		    " (plugin ABI unknown, ttpd provides %u.%u)",
		    TTPD_ABI_MAJOR, TTPD_ABI_MINOR);
		break;
	case ABI_READ:
		snprintf(abi, sizeof abi,
		    " (plugin built for ABI %u.%u, ttpd provides %u.%u)",
		    at->major, at->minor, TTPD_ABI_MAJOR, TTPD_ABI_MINOR);
		break;
	}
	line = xasprintf("plugin %s: %s%s; fix: %s", at->path, reason, abi,
	    fix);
	flatten(line);
	log_err("%s", line);
	if (at->err != NULL && at->errlen > 0)
		snprintf(at->err, at->errlen, "%s", line);
	free(line);
	return -1;
}

/* [a-z][a-z0-9_]{0,63} */
static int
name_valid(const char *s)
{
	size_t i;

	if (s == NULL || !(s[0] >= 'a' && s[0] <= 'z'))
		return 0;
	for (i = 1; s[i] != '\0'; i++) {
		if (i >= MAX_NAME_LEN)
			return 0;
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	}
	return 1;
}

/*
 * sshd StrictModes, for one file or directory: nobody but root and the
 * user ttpd runs as may be able to change what we are about to execute.
 */
static int
check_owner_and_mode(struct attempt *at, const char *what, const char *path)
{
	struct stat st;
	uid_t euid = geteuid();

	if (stat(path, &st) == -1)
		return refuse(at, "check the permissions along the path",
		    "cannot stat %s %s: %s", what, path, strerror(errno));
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		char *fix = xasprintf("chmod go-w %s", path);
		int rc = refuse(at, fix,
		    "%s %s is group- or world-writable (mode %03o)", what,
		    path, (unsigned)(st.st_mode & 0777));

		free(fix);
		return rc;
	}
	if (st.st_uid != 0 && st.st_uid != euid) {
		char *fix = xasprintf("chown root %s (or the user ttpd runs "
		    "as, uid %lu)", path, (unsigned long)euid);
		int rc = refuse(at, fix,
		    "%s %s is owned by uid %lu, neither root nor the user "
		    "ttpd runs as", what, path, (unsigned long)st.st_uid);

		free(fix);
		return rc;
	}
	return 0;
}

/*
 * Resolve the path (symlinks included, so the directory checked is the one
 * really holding the file), and refuse what someone else could have
 * replaced.  On success *real is the absolute path to dlopen.
 */
static int
check_file(struct attempt *at, char **real)
{
	struct stat st;
	char *dir, *slash;
	int rc;

	*real = realpath(at->path, NULL);
	if (*real == NULL) {
		int e = errno;

		if (e == ENOENT || e == ENOTDIR)
			return refuse(at, "check plugins.dir and the plugin "
			    "name, or build/install the plugin",
			    "cannot load: %s", strerror(e));
		return refuse(at, "check the permissions along the path",
		    "cannot load: %s", strerror(e));
	}
	if (stat(*real, &st) == -1)
		rc = refuse(at, "check the permissions along the path",
		    "cannot load: %s", strerror(errno));
	else if (!S_ISREG(st.st_mode))
		rc = refuse(at, "point the plugin's path (or plugins.dir) at "
		    "the plugin's .so file", "not a regular file");
	else
		rc = check_owner_and_mode(at, "file", *real);
	if (rc == 0) {
		dir = xstrdup(*real);
		slash = strrchr(dir, '/');	/* realpath is absolute */
		if (slash == dir)
			slash[1] = '\0';
		else
			*slash = '\0';
		rc = check_owner_and_mode(at, "directory", dir);
		free(dir);
	}
	if (rc != 0) {
		free(*real);
		*real = NULL;
	}
	return rc;
}

static int
check_kinds(struct attempt *at, const ttpd_lifter *d)
{
	const char *const *k = d->source_kinds;
	size_t i, j;

	if (k == NULL || k[0] == NULL)
		return refuse(at, "declare the source kinds it handles in "
		    ".source_kinds (a NULL-terminated array)",
		    "declares no source kinds");
	for (i = 0;; i++) {
		if (i >= MAX_KINDS)
			return refuse(at, "end .source_kinds with NULL",
			    "more than %d source kinds (missing NULL "
			    "terminator?)", MAX_KINDS);
		if (k[i] == NULL)
			break;
		if (!source_kind_known(k[i]))
			return refuse(at, "use one of the source kinds ttpd "
			    "knows (see ttpd(8))",
			    "unknown source kind '%s'", k[i]);
		for (j = 0; j < i; j++)
			if (strcmp(k[i], k[j]) == 0)
				return refuse(at, "list each source kind once",
				    "source kind '%s' is listed twice", k[i]);
	}
	if (d->rule_kinds != NULL) {
		for (i = 0;; i++) {
			if (i >= MAX_KINDS)
				return refuse(at, "end .rule_kinds with NULL",
				    "more than %d rule kinds (missing NULL "
				    "terminator?)", MAX_KINDS);
			if (d->rule_kinds[i] == NULL)
				break;
			if (d->rule_kinds[i][0] == '\0')
				return refuse(at, "remove the empty entry from "
				    ".rule_kinds",
				    "rule kind %zu is an empty string", i);
		}
	}
	return 0;
}

static int
generic_owner_loaded(const struct registry *reg, const char **name)
{
	size_t i;

	if (reg->generic_owner != NULL) {
		*name = reg->generic_owner->name;
		return 1;
	}
	for (i = 0; i < reg->nplugins; i++) {
		const struct plugin *p = reg->plugins[i];

		if (p->desc != NULL &&
		    (p->desc->flags & TTPD_LIFTER_F_GENERIC_RULES) != 0) {
			*name = p->name;
			return 1;
		}
	}
	return 0;
}

/* Everything in the descriptor the host relies on, in the documented
 * order.  d is the host's zero-padded copy. */
static int
check_descriptor(struct attempt *at, const struct registry *reg,
    const struct plugin_conf *pc, const ttpd_lifter *d)
{
	const char *reason, *fix, *owner;

	if (d->magic != TTPD_LIFTER_MAGIC) {
		at->abi = ABI_UNKNOWN;
		return refuse(at, "build it with TTPD_LIFTER_DEFINE() from the "
		    "ttpd SDK", "bad descriptor magic 0x%08lx (expected "
		    "0x%08lx): not a ttpd lifter descriptor",
		    (unsigned long)d->magic, (unsigned long)TTPD_LIFTER_MAGIC);
	}
	at->abi = ABI_READ;
	at->major = d->abi_major;
	at->minor = d->abi_minor;
	reason = loader_check_version(TTPD_ABI_MAJOR, TTPD_ABI_MINOR,
	    d->abi_major, d->abi_minor, d->size, &fix);
	if (reason != NULL) {
		if (d->abi_major == TTPD_ABI_MAJOR &&
		    d->abi_minor <= TTPD_ABI_MINOR)
			return refuse(at, fix, "%s: %lu bytes, at least %lu "
			    "needed", reason, (unsigned long)d->size,
			    (unsigned long)required_size(d->abi_minor));
		return refuse(at, fix, "%s", reason);
	}
	if (d->init == NULL || d->handle == NULL || d->destroy == NULL)
		return refuse(at, "provide init, handle and destroy in the "
		    "descriptor", "required callback %s is NULL",
		    d->init == NULL ? "init" :
		    d->handle == NULL ? "handle" : "destroy");
	if (d->name == NULL)
		return refuse(at, "set .name in the descriptor",
		    "the descriptor has no name");
	if (!name_valid(d->name))
		return refuse(at, "name it with [a-z][a-z0-9_]{0,63} "
		    "(lower case, digits, underscore; at most 64 characters)",
		    "invalid name '%.80s'", d->name);
	if (strcmp(d->name, pc->name) != 0)
		return refuse(at, "rename the plugins.load entry to the name "
		    "the plugin declares", "declares name '%s' but ttpd.conf "
		    "loads it as '%s'", d->name, pc->name);
	if (registry_find(reg, d->name) != NULL)
		return refuse(at, "load each plugin once in plugins.load",
		    "a plugin named '%s' is already loaded from %s",
		    d->name, registry_find(reg, d->name)->path);
	if (check_kinds(at, d) != 0)
		return -1;
	if ((d->flags & TTPD_LIFTER_F_GENERIC_RULES) != 0 &&
	    generic_owner_loaded(reg, &owner))
		return refuse(at, "load only one generic rule engine",
		    "claims the generic rules, which '%s' already owns",
		    owner);
	return 0;
}

int
loader_load(struct registry *reg, const char *dir,
    const struct plugin_conf *pc, char *err, size_t errlen)
{
	struct attempt at = { .path = "(unnamed)", .abi = ABI_NOT_READ,
	    .err = err, .errlen = errlen };
	ttpd_lifter_entry_fn entry;
	struct crash_scope cs;
	const ttpd_lifter *desc;
	ttpd_lifter d;
	ttpd_err ierr;
	struct plugin *p;
	char *path = NULL, *real = NULL, cerr[512];
	void *dl = NULL, *sym;
	int rc = -1;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (pc == NULL || pc->name == NULL)
		return refuse(&at, "give every plugins.load entry a name",
		    "entry without a name");
	if (pc->path != NULL) {
		path = xstrdup(pc->path);
	} else {
		path = xasprintf("%s/%s.so", dir != NULL ? dir : "",
		    pc->name);
	}
	at.path = path;
	/* A name is also a file name: no "../x" before anything is read. */
	if (!name_valid(pc->name)) {
		refuse(&at, "name it with [a-z][a-z0-9_]{0,63} in plugins.load",
		    "invalid plugin name '%.80s'", pc->name);
		goto out;
	}
	if (pc->path == NULL && (dir == NULL || dir[0] == '\0')) {
		refuse(&at, "set plugins.dir or the plugin's path",
		    "no plugin directory");
		goto out;
	}
	if (check_file(&at, &real) != 0)
		goto out;

	dlerror();
	/* its constructors run here: plugin code too */
	crash_enter(&cs, pc->name, real, "dlopen", NULL);
	dl = dlopen(real, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
	crash_leave(&cs);
	if (dl == NULL) {
		const char *e = dlerror();

		refuse(&at, "check that it is a ttpd plugin built for this "
		    "system and that the libraries it needs are installed",
		    "cannot load: %s", e != NULL ? e : "dlopen failed");
		goto out;
	}
	/* ISO C has no object-to-function pointer cast; POSIX makes the
	 * representations compatible. */
	sym = dlsym(dl, TTPD_LIFTER_ENTRY_SYMBOL);
	memcpy(&entry, &sym, sizeof entry);
	if (sym == NULL) {
		refuse(&at, "define the descriptor with TTPD_LIFTER_DEFINE()",
		    "no " TTPD_LIFTER_ENTRY_SYMBOL " symbol: not a ttpd "
		    "lifter");
		goto out;
	}
	crash_enter(&cs, pc->name, real, TTPD_LIFTER_ENTRY_SYMBOL, NULL);
	desc = entry(TTPD_ABI_MAJOR, TTPD_ABI_MINOR);
	crash_leave(&cs);
	if (desc == NULL) {
		refuse(&at, "see the plugin's documentation; it may need a "
		    "newer ttpd", "the plugin declined to load (entry "
		    "returned NULL)");
		goto out;
	}

	/* Never read past what the plugin says it has. */
	memset(&d, 0, sizeof d);
	memcpy(&d, desc, offsetof(ttpd_lifter, flags));
	if (d.magic == TTPD_LIFTER_MAGIC)
		memcpy(&d, desc, d.size < sizeof d ? d.size : sizeof d);
	if (check_descriptor(&at, reg, pc, &d) != 0)
		goto out;
	if (config_check_plugin(pc, d.config_keys, cerr, sizeof cerr) != 0) {
		refuse(&at, "correct the plugin's config group in ttpd.conf "
		    "(its documentation lists the keys it accepts)", "%s", cerr);
		goto out;
	}

	p = xcalloc(1, sizeof *p);
	p->name = xstrdup(d.name);
	p->path = real;
	p->dl = dl;
	p->desc = desc;
	p->desc_size = d.size < sizeof d ? d.size : (uint32_t)sizeof d;
	p->ctx = hostapi_ctx_new(p, pc->config);
	hostapi_err_prepare(&ierr);
	crash_enter(&cs, p->name, p->path, "init", NULL);
	rc = d.init(hostapi_table(), p->ctx, &p->state, &ierr);
	crash_leave(&cs);
	hostapi_err_finish(&ierr, rc != TTPD_OK);
	if (rc != TTPD_OK) {
		refuse(&at, "correct what the plugin reports (often its "
		    "config group in ttpd.conf)", "init failed: %s",
		    ierr.msg[0] != '\0' ? ierr.msg : "no reason given");
		/* Its code stays mapped (RTLD_NODELETE) in case init left
		 * anything behind that points into it. */
		hostapi_ctx_free(p->ctx);
		free(p->name);
		free(p);
		rc = -1;
		goto out;
	}
	real = NULL;	/* now p->path */
	dl = NULL;	/* now p->dl */
	registry_add(reg, p);
	log_info("plugin %s: loaded '%s' %s (ABI %u.%u)", p->path, p->name,
	    d.version != NULL ? d.version : "(no version)", d.abi_major,
	    d.abi_minor);
	rc = 0;
out:
	if (dl != NULL)
		dlclose(dl);	/* refcount only: RTLD_NODELETE keeps it */
	free(real);
	free(path);
	return rc;
}
