/*
 * fuzz_classify.c: rules_classify on a raw message.
 *
 * The rule set is the CLI tests' lists (tests/fixtures/cli/rules: every
 * kind, a regex included), loaded once.  The user has two addresses, a
 * correspondent callback and a fake sent store that answers yes, no and
 * unknown by the Message-ID, so recognised bounces go through the
 * backscatter judgement, and forged self-mail through its check.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rules.h"
#include "tests/fuzz/fuzz.h"

static struct rules_set *rs;
static struct rules_limits lim;
static const char *const addrs[] = { "me@sift.example", "user@example.org" };

/* "Did I send it?": 1 for ids with "sent" in them, else no when the date
 * is known and the id's bytes add up even, else unknown. */
static int
fake_sent(void *ctx, const char *id, int64_t date)
{
	unsigned sum = 0;
	const char *p;

	(void)ctx;
	if (strstr(id, "sent") != NULL)
		return 1;
	for (p = id; *p != '\0'; p++)
		sum += (unsigned char)*p;
	if (date != 0 && sum % 2 == 0)
		return 0;
	return -1;
}

static int
fake_correspondent(void *ctx, const char *addr)
{
	(void)ctx;
	return strstr(addr, "friend") != NULL;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *paths[] = { FUZZ_TOP "/tests/fixtures/cli/rules" };
	struct rules_opts opts = { 1, 0 };
	char	*errs = NULL;

	(void)argc;
	(void)argv;
	if (rules_load(&rs, paths, 1, &opts, &errs) == -1) {
		fprintf(stderr, "fuzz_classify: %s: %s", paths[0],
		    errs != NULL ? errs : "cannot load\n");
		exit(2);
	}
	rules_limits_default(&lim);
	/* Small enough that inputs of a few KB reach every limit. */
	lim.max_parts = 32;
	lim.max_urls = 16;
	lim.max_phones = 16;
	lim.max_html_depth = 32;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rules_user user;
	struct rules_verdict v;

	memset(&user, 0, sizeof(user));
	user.addrs = addrs;
	user.naddrs = 2;
	user.sent = fake_sent;
	user.correspondent = fake_correspondent;
	user.unknown_backscatter = (int)(size & 1);
	memset(&v, 0, sizeof(v));
	if (rules_classify((const char *)data, size, rs, &lim, &user,
	    &v) == 0) {
		/* Every string of the verdict must be readable. */
		if (strlen(rules_class_name(v.cls)) == 0 ||
		    (v.reasons != NULL && strlen(v.reasons) == SIZE_MAX))
			abort();
		rules_verdict_free(&v);
	}
	return 0;
}
