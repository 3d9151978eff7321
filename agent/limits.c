/*
 * limits.c: the config file's limits group as the classifier's limits.
 *
 * conf/ may not include rules/, so it keeps the limits as plain numbers
 * with its own copy of the defaults; this is where the two meet, and the
 * asserts below keep the copies equal.
 */
#include "agent/limits.h"
#include "conf/conf.h"
#include "rules/rules.h"

_Static_assert(CONF_DEF_MAX_PARSE_BYTES == RULES_DEF_PARSE_BYTES,
    "max_parse_bytes default");
_Static_assert(CONF_DEF_MAX_MIME_DEPTH == RULES_DEF_DEPTH,
    "max_mime_depth default");
_Static_assert(CONF_DEF_MAX_MIME_PARTS == RULES_DEF_PARTS,
    "max_mime_parts default");
_Static_assert(CONF_DEF_MAX_URLS == RULES_DEF_URLS, "max_urls default");
_Static_assert(CONF_DEF_MAX_PHONES == RULES_DEF_PHONES,
    "max_phones default");
_Static_assert(CONF_DEF_MAX_TEXT_BYTES == RULES_DEF_TEXT_BYTES,
    "max_text_bytes default");
_Static_assert(CONF_DEF_MAX_HTML_DEPTH == RULES_DEF_HTML_DEPTH,
    "max_html_depth default");
_Static_assert(CONF_DEF_REGEX_MATCH_LIMIT == RULES_DEF_REGEX_MATCH,
    "regex_match_limit default");
_Static_assert(CONF_DEF_REGEX_DEPTH_LIMIT == RULES_DEF_REGEX_DEPTH,
    "regex_depth_limit default");

/*
 * Fills *lim from c's limits group (every member set: conf_load puts the
 * defaults in for keys the file leaves out).  c may be NULL: the
 * defaults.
 */
void
limits_from_config(const struct conf *c, struct rules_limits *lim)
{
	const struct conf_limits *l;

	rules_limits_default(lim);
	if (c == NULL)
		return;
	l = &c->limits;
	lim->max_parse_bytes = l->max_parse_bytes;
	lim->max_depth = l->max_mime_depth;
	lim->max_parts = l->max_mime_parts;
	lim->max_urls = l->max_urls;
	lim->max_phones = l->max_phones;
	lim->max_text_bytes = l->max_text_bytes;
	lim->max_html_depth = l->max_html_depth;
	lim->regex_match_limit = l->regex_match_limit;
	lim->regex_depth_limit = l->regex_depth_limit;
	/* A zero would be a conf bug; the classifier reads it as default. */
	rules_limits_fill(lim);
}
