/*
 * Every example of ttpd.conf(5) parses: each .Bd -literal block that is
 * a configuration goes through config_load(), the configuration check of
 * `ttpd -t` (a fragment without store/rules/plugins gets the smallest
 * valid ones in front), and every `ttpd -o ...` example line is applied
 * as overrides to the smallest configuration.  So the examples cannot
 * drift from the code.  Also the systemd unit as built.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "testutil.h"

#define MAX_BLOCKS 64

static const char minimal_head[] =
	"store: { path = \"ttpd.db\"; };\n"
	"rules: { dirs = [ \"rules\" ]; };\n"
	"plugins: { dir = \"/usr/lib/ttpd/plugins\";\n"
	"    load = ( { name = \"rule_engine\"; } ); };\n";

/* Undo the roff escapes the page uses. */
static char *
unroff(const char *line)
{
	char *out = malloc(strlen(line) + 1), *o = out;
	const char *p = line;

	ck_assert_ptr_nonnull(out);
	while (*p != '\0') {
		if (strncmp(p, "\\e", 2) == 0) {
			*o++ = '\\';
			p += 2;
		} else if (strncmp(p, "\\&", 2) == 0) {
			p += 2;
		} else if (strncmp(p, "\\(dq", 4) == 0) {
			*o++ = '"';
			p += 4;
		} else if (strncmp(p, "\\-", 2) == 0) {
			*o++ = '-';
			p += 2;
		} else
			*o++ = *p++;
	}
	*o = '\0';
	return out;
}

/* The literal blocks of the page, unescaped. */
static size_t
literal_blocks(const char *page, char **blocks, unsigned *lines)
{
	char *text = tu_read_file(page, NULL), *line, *save = NULL, *u;
	size_t n = 0, len;
	unsigned lineno = 0;
	int in = 0;

	ck_assert_msg(text != NULL, "cannot read %s", page);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		lineno++;
		if (strncmp(line, ".Bd -literal", 12) == 0) {
			ck_assert_uint_lt(n, MAX_BLOCKS);
			blocks[n] = strdup("");
			lines[n] = lineno;
			in = 1;
			continue;
		}
		if (in && strncmp(line, ".Ed", 3) == 0) {
			in = 0;
			n++;
			continue;
		}
		if (!in)
			continue;
		u = unroff(line);
		len = strlen(blocks[n]);
		blocks[n] = realloc(blocks[n], len + strlen(u) + 2);
		ck_assert_ptr_nonnull(blocks[n]);
		memcpy(blocks[n] + len, u, strlen(u));
		memcpy(blocks[n] + len + strlen(u), "\n", 2);
		free(u);
	}
	free(text);
	return n;
}

/* A line "group: {" or "group = {" at the start of a line. */
static int
has_group(const char *block, const char *group)
{
	const char *p = block;
	size_t gl = strlen(group);

	for (; p != NULL && *p != '\0'; p = strchr(p, '\n'),
	    p = p != NULL ? p + 1 : NULL) {
		if (strncmp(p, group, gl) != 0)
			continue;
		p += gl;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == ':' || *p == '=')
			return 1;
	}
	return 0;
}

static int
is_config(const char *block)
{
	static const char *const groups[] = { "store", "rules", "plugins",
	    "attack", "log", "input" };
	size_t i;

	for (i = 0; i < sizeof groups / sizeof groups[0]; i++)
		if (has_group(block, groups[i]))
			return 1;
	return 0;
}

/* Load text as a configuration file in dir; 0 or fails with the error. */
static void
check_text(const char *dir, const char *text, const char *const *ov,
    size_t nov, unsigned line)
{
	char path[1024], err[2048];
	struct config cfg;

	snprintf(path, sizeof path, "%s/example.conf", dir);
	tu_write_file(path, text);
	ck_assert_msg(config_load(path, ov, nov, &cfg, err, sizeof err) == 0,
	    "ttpd.conf.5 example at line %u does not parse: %s\n%s", line,
	    err, text);
	config_free(&cfg);
}

/* The -o arguments of one "ttpd ..." line: shell words, single quotes. */
static size_t
o_args(const char *line, char **out, size_t max)
{
	char word[1024];
	size_t n = 0, w;
	int want = 0;
	const char *p = line;

	while (*p != '\0') {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		for (w = 0; *p != '\0' && *p != ' ' && *p != '\t' &&
		    w < sizeof word - 1; ) {
			if (*p == '\'') {
				for (p++; *p != '\0' && *p != '\'' &&
				    w < sizeof word - 1; p++)
					word[w++] = *p;
				if (*p == '\'')
					p++;
			} else
				word[w++] = *p++;
		}
		word[w] = '\0';
		if (want && n < max)
			out[n++] = strdup(word);
		want = strcmp(word, "-o") == 0;
	}
	return n;
}

START_TEST(test_examples_parse)
{
	char page[1024], *blocks[MAX_BLOCKS], *text, *dir = tu_mkdtemp();
	char *line, *save, *ov[16], *copy;
	unsigned lines[MAX_BLOCKS];
	size_t n, i, k, nov, configs = 0, overrides = 0;

	snprintf(page, sizeof page, "%s/man/ttpd.conf.5",
	    tu_env("TTPD_SRCDIR"));
	n = literal_blocks(page, blocks, lines);
	for (i = 0; i < n; i++) {
		if (is_config(blocks[i])) {
			/* a fragment gets the required groups in front */
			if (!has_group(blocks[i], "store") &&
			    !has_group(blocks[i], "rules") &&
			    !has_group(blocks[i], "plugins")) {
				ck_assert(asprintf(&text, "%s%s", minimal_head,
				    blocks[i]) > 0);
			} else
				text = strdup(blocks[i]);
			check_text(dir, text, NULL, 0, lines[i]);
			free(text);
			configs++;
		} else {
			copy = strdup(blocks[i]);
			save = NULL;
			for (line = strtok_r(copy, "\n", &save); line != NULL;
			    line = strtok_r(NULL, "\n", &save)) {
				if (strncmp(line, "ttpd ", 5) != 0)
					continue;
				nov = o_args(line, ov, 16);
				if (nov == 0)
					continue;
				check_text(dir, minimal_head,
				    (const char *const *)ov, nov, lines[i]);
				for (k = 0; k < nov; k++)
					free(ov[k]);
				overrides++;
			}
			free(copy);
		}
		free(blocks[i]);
	}
	/* the page has three configurations and three -o lines today;
	 * finding fewer means the extraction broke, not that all is well */
	ck_assert_uint_ge(configs, 3);
	ck_assert_uint_ge(overrides, 3);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/* The extractor itself: a broken example is caught. */
START_TEST(test_broken_example_fails)
{
	char *dir = tu_mkdtemp(), path[1024], err[1024];
	struct config cfg;

	snprintf(path, sizeof path, "%s/x.conf", dir);
	tu_write_file(path, "store: { path = \"t.db\"; };\n"
	    "rules: { dirs = [ \"r\" ]; };\n"
	    "plugins: { dir = \"p\"; };\n"
	    "attack: { bundel = \"x\"; };\n");
	ck_assert_int_eq(config_load(path, NULL, 0, &cfg, err, sizeof err),
	    -1);
	ck_assert_msg(strstr(err, "unknown setting") != NULL, "%s", err);
	ck_assert_uint_eq(has_group("x: 1;\nattack: {\n", "attack"), 1);
	ck_assert_uint_eq(has_group("attacker = 1;\n", "attack"), 0);
	{
		char *ov[4];
		size_t n = o_args("ttpd -o store.path='\"/tmp/t.db\"' -o "
		    "'log.level=\"debug\"' -t", ov, 4);

		ck_assert_uint_eq(n, 2);
		ck_assert_str_eq(ov[0], "store.path=\"/tmp/t.db\"");
		ck_assert_str_eq(ov[1], "log.level=\"debug\"");
		free(ov[0]);
		free(ov[1]);
	}
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/* The systemd unit as built: ttpd -f, hardened, no placeholder left. */
START_TEST(test_unit_file)
{
	static const char *const want[] = {
		"\nType=simple\n", "/ttpd -f -c ", "/ttpd -t -c ",
		"\nNoNewPrivileges=yes\n", "\nProtectSystem=strict\n",
		"\nProtectHome=yes\n", "\nPrivateTmp=yes\n",
		"\nReadWritePaths=-/", "/lib/ttpd\n", "\nCapabilityBoundingSet=\n",
		"\nExecReload=/bin/kill -HUP $MAINPID\n",
	};
	char path[1024], *text;
	size_t i;

	snprintf(path, sizeof path, "%s/conf/ttpd.service",
	    tu_env("TTPD_BUILDDIR"));
	text = tu_read_file(path, NULL);
	ck_assert_msg(text != NULL, "%s is not built", path);
	for (i = 0; i < sizeof want / sizeof want[0]; i++)
		ck_assert_msg(strstr(text, want[i]) != NULL, "%s lacks %s",
		    path, want[i]);
	ck_assert_msg(strchr(text, '@') == NULL || strstr(text, "@sbindir@") ==
	    NULL, "placeholder left in %s", path);
	ck_assert_ptr_null(strstr(text, "@sysconfdir@"));
	ck_assert_ptr_null(strstr(text, "@localstatedir@"));
	/* only the database directory is writable */
	ck_assert_ptr_null(strstr(strstr(text, "\nReadWritePaths=") + 1,
	    "\nReadWritePaths="));
	free(text);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("confexamples");
	TCase *tc = tcase_create("confexamples");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_examples_parse);
	tcase_add_test(tc, test_broken_example_fails);
	tcase_add_test(tc, test_unit_file);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
