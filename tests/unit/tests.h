/* Shared declarations for the Check suites. */
#ifndef STP_TESTS_H
#define STP_TESTS_H

#include <check.h>

Suite *hash_suite(void);
Suite *catalog_suite(void);
Suite *retention_suite(void);
Suite *access_suite(void);
Suite *identity_suite(void);
Suite *state_suite(void);
Suite *library_suite(void);
Suite *org_suite(void);
Suite *feedback_suite(void);
Suite *dump_suite(void);
Suite *mail_suite(void);
Suite *http_suite(void);
Suite *site_suite(void);
Suite *content_suite(void);
Suite *render_suite(void);
Suite *view_suite(void);
Suite *search_suite(void);

#endif
