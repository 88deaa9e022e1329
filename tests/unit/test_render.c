#include "tests.h"
Suite *render_suite(void) { return suite_create("render"); }
