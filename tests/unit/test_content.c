#include "tests.h"
Suite *content_suite(void) { return suite_create("content"); }
