/*
 * fuzz_list.c: one rule-list loader, by file suffix.
 *
 * Built once per kind (fuzz.mk sets FUZZ_SUFFIX to ".domains",
 * ".phones", ".phrases", ".regex" or ".allow"): the input becomes a list
 * file that rules_load reads; a set that loads is then looked up the way
 * classify does, against one fixed message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rules-private.h"
#include "tests/fuzz/fuzz.h"

#ifndef FUZZ_SUFFIX
#error "FUZZ_SUFFIX must name a list suffix"
#endif

static const char sample[] =
    "From: Friend <friend@family.example>\r\n"
    "To: me@sift.example\r\n"
    "Subject: Miracle pill for you\r\n"
    "Message-ID: <fixed.1@sift.example>\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "\r\n"
    "Diplomas from prestigious non-accredited universities: visit\r\n"
    "https://sub.evil.example/x or call (800) 555-0199.\r\n";

static struct rules_msg *msg;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (rules_msg_parse(sample, sizeof(sample) - 1, NULL, &msg, NULL,
	    0) == -1)
		abort();
	return 0;
}

static void
phrase_hit(void *ctx, const struct rules_hit *hit)
{
	(void)ctx;
	if (hit->entry == NULL || hit->file == NULL)
		abort();
}

static void
regex_hit(void *ctx, const struct rules_hit *hit, const char *match,
    size_t mlen)
{
	(void)ctx;
	if (hit->entry == NULL || (match == NULL && mlen != 0))
		abort();
}

static void
lookups(const struct rules_set *rs)
{
	static const char text[] = "diplomas from prestigious non "
	    "accredited universities visit https sub evil example x";
	struct rules_hit hit;
	size_t	 k;

	for (k = 0; k < RULES_NKINDS; k++)
		(void)rules_count(rs, (enum rules_kind)k);
	(void)rules_threshold(rs);
	(void)rules_match_domain(rs, "sub.evil.example", &hit);
	(void)rules_match_domain(rs, "192.0.2.7", &hit);
	(void)rules_match_phone(rs, "18005550199", &hit);
	(void)rules_match_allow(rs, "friend@family.example", &hit);
	rules_match_phrases(rs, text, sizeof(text) - 1, phrase_hit, NULL);
	rules_match_regex(rs, msg, sample, sizeof(sample) - 1, NULL,
	    regex_hit, NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rules_opts opts = { 1, 0 };
	struct rules_set *rs = NULL;
	const char *path;
	char	*errs = NULL;

	if (size > 0)
		opts.default_cc = data[0] % 2 == 0 ? 1 : 44;
	path = fuzz_file(data, size, FUZZ_SUFFIX);
	if (rules_load(&rs, &path, 1, &opts, &errs) == 0) {
		if (errs != NULL)
			abort();	/* success reports no error */
		lookups(rs);
	} else if (errs == NULL || strstr(errs, path) != errs)
		abort();		/* every failure says where */
	rules_free(&rs);
	free(errs);
	return 0;
}
