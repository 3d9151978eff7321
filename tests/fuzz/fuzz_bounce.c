/*
 * fuzz_bounce.c: the bounce extractor (bounce*.c) on a raw message.
 *
 * The message is parsed as classify would (rules_msg_parse), then
 * rules_bounce_analyse recognises it and extracts the original's ids,
 * sender, date and failed recipient; the phrase tables and the sender
 * tests also get the raw input as a subject, a From value and text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rules-private.h"
#include "tests/fuzz/fuzz.h"

static void
check_bounce(const struct rules_bounce *b)
{
	size_t	 i;

	if (strlen(rules_report_name(b->kind)) == 0 ||
	    b->nids > RULES_BOUNCE_MAXIDS)
		abort();
	for (i = 0; i < b->nids; i++)
		if (b->ids[i].id == NULL || b->ids[i].where == NULL ||
		    strlen(b->ids[i].id) == 0)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum rules_bword fams[] = { RULES_BW_BOUNCE,
	    RULES_BW_REPORT, RULES_BW_DELAY, RULES_BW_AUTOREPLY,
	    RULES_BW_CHALLENGE, RULES_BW_COMPLAINT };
	struct rules_limits lim;
	struct rules_msg *msg = NULL;
	struct rules_bounce b;
	size_t	 i, n;
	char	*s;

	rules_limits_default(&lim);
	lim.max_parts = 32;
	if (rules_msg_parse((const char *)data, size, &lim, &msg, NULL,
	    0) == 0) {
		memset(&b, 0, sizeof(b));
		if (rules_bounce_analyse(msg, &b) == 0) {
			check_bounce(&b);
			rules_bounce_free(&b);
		}
		n = rules_bounce_ntext(msg);
		for (i = 0; i < n; i++)
			(void)rules_bounce_text(msg, i);
		rules_msg_free(&msg);
	}

	s = fuzz_str(data, size);
	for (i = 0; i < sizeof(fams) / sizeof(fams[0]); i++) {
		(void)rules_bounce_subject(s, fams[i]);
		(void)rules_bounce_phrase(s, size, fams[i]);
	}
	(void)rules_bounce_is_reply(s);
	(void)rules_bounce_daemon(s, s);
	(void)rules_bounce_mailer(s);
	(void)rules_bounce_find(s, size, "mailer-daemon");
	free(s);
	return 0;
}
