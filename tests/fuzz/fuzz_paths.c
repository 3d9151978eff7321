/*
 * fuzz_paths.c: the parser's fast paths against the slow path beside
 * each (tests/unit/paths.h): a message whose view or bounce verdict
 * differs between the two aborts, with both printed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "rules/rules.h"
#include "tests/fuzz/fuzz.h"
#include "tests/unit/paths.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rules_limits lim;
	char *fast, *slow;

	rules_limits_default(&lim);
	lim.max_parts = 32;
	if (paths_diff((const char *)data, size, &lim, &fast, &slow) == 1) {
		fprintf(stderr, "fast and slow paths differ\n--- fast\n%s"
		    "--- slow\n%s", fast, slow);
		abort();
	}
	return 0;
}
