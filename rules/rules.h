/*
 * rules: everything imapsift knows about a message, without a server.
 *
 * This module turns raw message bytes into a decoded view (headers, visible
 * text, links), finds indicators in it (URL hosts, phone numbers, long
 * phrases, regex hits), loads rule lists from plain-text files, and gives a
 * verdict with its reasons.  It never touches IMAP, SQL, config files, the
 * terminal or the process: errors come back as text for the caller.
 *
 * This header is what callers (agent/, tests, fuzz targets) use; what the
 * files of rules/ share among themselves is in rules-private.h.
 *
 * Ownership, once for the whole header: `const char *` arguments are
 * borrowed and never kept.  Pointers inside a returned object stay valid
 * until that object is freed.  rules_msg_free and rules_free take a
 * pointer to the caller's pointer and set it to NULL; rules_bounce_free
 * and rules_verdict_free free what a caller-owned struct holds.  "Caller
 * frees" is said where a plain malloc'd result is handed over.
 *
 * Errors: functions return 0 on success and -1 on failure, writing one line
 * (no newline) into the caller's err/errlen buffer when one is given.
 *
 * The sections below are, in order: limits, the message view (message.c,
 * header.c), hosts and the scan for indicators (extract.c, classify.c),
 * rule sets (ruleset.c, listfile.c, phrase.c, regex.c, mine.c), bounces
 * (bounce*.c) and the verdict (classify.c, backscatter.c).
 */
#ifndef IMAPSIFT_RULES_H
#define IMAPSIFT_RULES_H

#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------------ */
/* Limits: every one bounds work done on hostile input.                */

/*
 * A bound that bites sets RULES_MSG_TRUNCATED (or, for URLs and numbers,
 * the verdict's own mark): the message is judged on what was read and its
 * reasons end in "truncated".  With the defaults no message, whatever its
 * size, takes more than a few tens of milliseconds (tests/bench/hostile.sh);
 * the cost of a parse grows with max_parse_bytes, and of a regex rule with
 * the regex limits.  A zero member means its default.
 */
struct rules_limits {
	size_t	max_parse_bytes;	/* bytes of a message parsed at most */
	unsigned max_depth;		/* MIME / message/rfc822 nesting */
	unsigned max_parts;		/* MIME parts walked */
	unsigned max_urls;		/* URLs kept per message */
	unsigned max_phones;		/* phone numbers kept per message */
	size_t	max_text_bytes;		/* decoded visible text per message */
	unsigned max_html_depth;	/* nesting of HTML elements tracked */
	unsigned regex_match_limit;	/* PCRE2 match limit per rule run */
	unsigned regex_depth_limit;	/* PCRE2 backtracking depth limit */
};

#define RULES_DEF_PARSE_BYTES	(512u * 1024u)
#define RULES_DEF_DEPTH		16u
#define RULES_DEF_PARTS		256u
#define RULES_DEF_URLS		512u
#define RULES_DEF_PHONES	128u
#define RULES_DEF_TEXT_BYTES	(1024u * 1024u)
#define RULES_DEF_HTML_DEPTH	256u
#define RULES_DEF_REGEX_MATCH	100000u
#define RULES_DEF_REGEX_DEPTH	1000u

/* Fills *lim with the defaults above. */
void	rules_limits_default(struct rules_limits *lim);
/* Replaces every zero member of *lim by its default. */
void	rules_limits_fill(struct rules_limits *lim);

/* ------------------------------------------------------------------ */
/* The message view (message.c, header.c).                             */

/* One header field of the top-level message, in order of appearance. */
struct rules_header {
	char	*name;		/* as written, e.g. "Subject" */
	char	*value;		/* unfolded, RFC 2047 decoded, UTF-8 */
};

enum rules_part_kind {
	RULES_PART_SUBJECT,	/* a Subject header (top level or nested) */
	RULES_PART_PLAIN,	/* text/plain (or a text part of unknown type) */
	RULES_PART_HTML		/* text/html rendered to visible text */
};

/* One piece of visible text a reader would see. */
struct rules_part {
	enum rules_part_kind kind;
	char	*text;		/* UTF-8 (or raw bytes, see charset_ok), NUL-ended */
	size_t	 len;
	char	*where;		/* for explain: "subject", "1.2 text/html", ... */
	int	 charset_ok;	/* 0: unknown charset, bytes kept as they were */
};

/*
 * Where a URL was found, most telling first: what a reader is sent to
 * (<a>/<area> href, <meta> refresh), where a form sends what is typed,
 * what is loaded to be seen (images, backgrounds), any other URL
 * attribute, and last a URL written in the text.  rules_scan hands links
 * over in this order, so that with more URLs than a limit allows those a
 * sender wants followed are the ones kept: padding a message with URLs
 * in its text or attributes does not push its links out.
 */
enum rules_link_rank {
	RULES_LINK_ANCHOR,
	RULES_LINK_FORM,
	RULES_LINK_IMAGE,
	RULES_LINK_OTHER,
	RULES_LINK_TEXT
};

/* A link target taken from an HTML attribute (href, src, action, ...). */
struct rules_link {
	char	*url;		/* entity-decoded attribute value */
	size_t	 part;		/* index into rules_msg.parts */
	enum rules_link_rank rank;
};

/*
 * One MIME node, in walk order, for the bounce and report analysis
 * (bounce.c).  Report parts (message/delivery-status, text/rfc822-headers,
 * message/feedback-report, message/disposition-notification and their
 * message/global-* forms) keep their decoded body, cut at
 * RULES_REPORT_BYTES, and their fields, every block in order;
 * message/rfc822 and message/global keep the nested message's header
 * fields (body NULL), and so does a text part of a multipart whose own
 * header has fields other than Content-* (some bounces paste the
 * original's header there).  Other nodes keep neither.
 */
struct rules_mime {
	char	*type;		/* "type/subtype", lowercased */
	char	*where;		/* MIME section, "" for a top-level multipart */
	unsigned nest;		/* enclosing message/rfc822 levels, 0 at top */
	char	*report_type;	/* multipart report-type, lowercased, or NULL */
	size_t	 text;		/* index into parts, or RULES_NOTEXT */
	char	*body;		/* report parts: decoded, NUL-ended, or NULL */
	size_t	 len;
	struct rules_header *hdrs;	/* unfolded, RFC 2047 decoded, UTF-8 */
	size_t	 nhdrs;
};

#define RULES_NOTEXT		((size_t)-1)
#define RULES_REPORT_BYTES	(64u * 1024u)	/* body kept per report part */

#define RULES_MSG_TRUNCATED	0x01	/* over max_parse_bytes or a limit */
#define RULES_MSG_UNPARSED	0x02	/* MIME structure could not be read */
#define RULES_MSG_BADCHARSET	0x04	/* some part had an unknown charset */

struct rules_msg {
	struct rules_header *hdrs;	/* top-level header fields */
	size_t	 nhdrs;
	char	*subject;		/* decoded, or NULL */
	char	*from;			/* From addr-spec, lowercased, or NULL */
	char	*message_id;		/* without <>, or NULL */
	struct rules_part *parts;	/* visible text, subject first */
	size_t	 nparts;
	struct rules_link *links;
	size_t	 nlinks;
	struct rules_mime *mime;	/* every MIME node, walk order */
	size_t	 nmime;
	unsigned flags;			/* RULES_MSG_* */
	char	*note;			/* why UNPARSED/TRUNCATED/BADCHARSET, or NULL */
};

/*
 * Parses raw (CRLF or bare LF) into a view.  Never fails on bad mail: a
 * message libetpan cannot parse still gets a view (headers as far as they
 * go, flags |= RULES_MSG_UNPARSED, note says why).  Returns -1 only when
 * out of memory.  lim may be NULL for defaults.  Free with rules_msg_free.
 */
int	rules_msg_parse(const char *raw, size_t len,
	    const struct rules_limits *lim, struct rules_msg **msg_r,
	    char *err, size_t errlen);
void	rules_msg_free(struct rules_msg **msg);

/* First header named name (case-insensitive), or NULL. */
const char *rules_msg_header(const struct rules_msg *msg, const char *name);

/* 0 when a quoted boundary of one '"' parses safely (boundary.c; every
 * command checks it at start). */
int	rules_boundary_selftest(void);

/* Reads an RFC 5322 date (obsolete forms too) into unix seconds (UTC).
 * Returns -1 when it cannot be read: callers treat that as unknown.
 * (header.c) */
int	rules_parse_date(const char *value, int64_t *t_r);

/* Calls fn with each addr-spec (lowercased) in an address-list header
 * value such as To or Cc, groups included; a value RFC 5322 cannot parse
 * is scanned for anything that looks like an address.  (header.c) */
void	rules_parse_addrs(const char *value,
	    void (*fn)(void *ctx, const char *addr), void *ctx);

/* ------------------------------------------------------------------ */
/* Hosts and the scan for indicators (extract.c, classify.c).        */

#define RULES_HOST_MAX	256
#define RULES_PHONE_MAX	20

/*
 * Normalises a host name: percent-escapes decoded, lowercased, trailing
 * dots removed, IDN labels to punycode (libidn2); IPv4 literals kept as
 * dotted quads, IPv6 as written inside [] without the brackets, lowercased.
 * Writes a NUL-ended host into out.  Returns 0, or -1 when it is not a
 * plausible host name (empty, bad characters, too long).
 */
int	rules_host_normalise(const char *in, size_t len, char *out,
	    size_t outsz);

/* Extracts and normalises the host of an absolute URL (scheme://host...,
 * or a bare "www." host).  Returns 0 or -1 as above. */
int	rules_url_host(const char *url, size_t len, char *out, size_t outsz);

/* The registrable domain of host (libpsl), e.g. "a.b.example.co.uk" ->
 * "example.co.uk".  Returns -1 for IP literals, public suffixes and names
 * without one. */
int	rules_registrable_domain(const char *host, char *out, size_t outsz);

/*
 * Calls url() for every URL with a host in the visible text of msg's body
 * parts and every HTML link with a host, and phone() for every number in that text
 * and every tel:/fax:/callto: link, each with the part's where string.
 * The links first, by rank (enum rules_link_rank; within a rank in the
 * order written), then the text of each part in the extractors' own
 * order; repeats are not removed.  host, when set,
 * takes the URLs found in text instead of url, with the host the scanner
 * already worked out (what rules_url_host would give).  (classify.c)
 */
struct rules_scan_cb {
	void	(*url)(void *ctx, const char *url, size_t len,
		    const char *where);
	void	(*phone)(void *ctx, const char *digits, const char *orig,
		    size_t olen, const char *where);
	void	(*host)(void *ctx, const char *url, size_t len,
		    const char *host, const char *where);
};
void	rules_scan(const struct rules_msg *msg, unsigned default_cc,
	    const struct rules_scan_cb *cb, void *ctx);

/* ------------------------------------------------------------------ */
/* Rule sets (ruleset.c, listfile.c, phrase.c).                       */

struct rules_set;

/* The default cap on one list file's size (max_rule_file_bytes). */
#define RULES_DEF_FILE_BYTES	(64u * 1024u * 1024u)

struct rules_opts {
	unsigned default_cc;	/* country code for numbers without one */
	size_t	 max_file_bytes;	/* per list file; 0: RULES_DEF_FILE_BYTES */
};

enum rules_kind {
	RULES_DOMAIN,
	RULES_PHONE,
	RULES_PHRASE,
	RULES_REGEX,
	RULES_ALLOW,
	RULES_NKINDS
};

/* Where a matched entry came from, for reasons and explain. */
struct rules_hit {
	enum rules_kind kind;
	const char *entry;	/* the entry as normalised at load */
	const char *file;	/* list file path */
	unsigned line;
	double	 weight;	/* the file's weight */
	int	 learned;	/* from a rules_learned_new set, not a file */
};

/*
 * Loads every list file in paths (directories are read for *.domains,
 * *.phones, *.phrases, *.regex and *.allow files in name order; a plain
 * file is taken by its suffix).  Reports every error found, in one pass,
 * as "file:line: message\n" lines in *errs_r (malloc'd, caller frees; NULL
 * when there were none) and returns -1 if there was any.  File syntax:
 * one entry per line, '#' starts a comment, "@weight N" sets the file's
 * weight (default 1), "@threshold N" the junk threshold (default 1).
 * Only regular files are read (a FIFO, a device or a socket is an error,
 * and opening one does not block), each of at most opts->max_file_bytes.
 */
int	rules_load(struct rules_set **rs_r, const char *const *paths,
	    size_t npaths, const struct rules_opts *opts, char **errs_r);
void	rules_free(struct rules_set **rs);

size_t	rules_count(const struct rules_set *rs, enum rules_kind kind);
double	rules_threshold(const struct rules_set *rs);
unsigned rules_default_cc(const struct rules_set *rs);

/* Is a host (normalised) on an allow list's domains, or under one?
 * Returns 1 and fills *hit, else 0; for the DNS blocklist queries the
 * agent leaves out (ruleset.c). */
int	rules_match_allow_host(const struct rules_set *rs, const char *host,
	    struct rules_hit *hit);

/*
 * A hash set of strings: the rule sets' index of domains, phones and
 * allow entries (ruleset.c), also for agent/'s own sets (dnsbl.c).
 * Entries remember the list file index, line and flag they were added
 * with; look-ups hand them back as a rules_origin.
 */
struct rules_strset;
struct rules_origin {
	const char *entry;	/* the entry as stored */
	unsigned file;		/* index of its list file */
	unsigned line;
	unsigned flag;		/* strset: the flag it was added with */
};

/* A hash set of strings (domains, phones, allow entries). */
struct rules_strset *rules_strset_new(void);
void	rules_strset_free(struct rules_strset **ss);
/* Adds s; returns 1 when added, 0 when already present (the first stays),
 * -1 when out of memory. */
int	rules_strset_add(struct rules_strset *ss, const char *s,
	    unsigned file, unsigned line, unsigned flag);
/* Looks up the len bytes at s; returns 1 and fills *o, or 0. */
int	rules_strset_get(const struct rules_strset *ss, const char *s,
	    size_t len, struct rules_origin *o);
/* Looks up host, then each parent domain down to two labels; an entry
 * added with a non-zero flag matches only the whole host. */
int	rules_strset_get_host(const struct rules_strset *ss, const char *host,
	    struct rules_origin *o);
size_t	rules_strset_count(const struct rules_strset *ss);
/* Is host (normalised) an IP address?  (ruleset.c) */
int	rules_is_ip(const char *host);

/*
 * A set built in memory instead of from files: the user's learned
 * indicators (imapsift's store), given to rules_classify through
 * rules_user.learned.  Its entries report label as their file and their
 * insertion count as their line, weight 1.  rules_learned_add takes a
 * host (exact: only that host matches, else its subdomains too), phone
 * digits, or a folded phrase of two words or more; it returns 1 when
 * added, 0 for a repeat or a value that is not of its kind, -1 when out
 * of memory.
 */
int	rules_learned_new(struct rules_set **rs_r, const char *label,
	    unsigned default_cc);
int	rules_learned_add(struct rules_set *rs, enum rules_kind kind,
	    const char *value, int exact);
/* Is hit's entry from a set built by rules_learned_new? */
int	rules_hit_learned(const struct rules_hit *hit);

/*
 * Phrase mining for learning (mine.c): calls fn with each distinctive
 * word n-gram of msg's visible body text, folded (rules_fold) and of
 * RULES_MINE_WORDS words: no word with a digit or longer than 24 bytes,
 * at least three words that are not stop words, none of the boilerplate
 * words of footers (unsubscribe, privacy, copyright...).  Only n-grams
 * whose hash falls in one RULES_MINE_SAMPLE-th of the hash space are
 * taken, so two messages sharing a passage pick the same n-grams from it
 * whatever surrounds it.  Distinct n-grams only, at most max of them, and
 * at most RULES_MINE_BYTES of text read: the cost per message is bounded.
 */
#define RULES_MINE_WORDS	6
#define RULES_MINE_SAMPLE	4
#define RULES_MINE_BYTES	(64u * 1024u)
void	rules_mine_phrases(const struct rules_msg *msg, unsigned max,
	    void (*fn)(void *ctx, const char *phrase), void *ctx);

/* ------------------------------------------------------------------ */
/* Bounces, auto-replies and complaints (bounce.c).                     */

enum rules_report {
	RULES_REPORT_NONE,	/* not a bounce, report or auto-reply */
	RULES_REPORT_DSN,	/* RFC 3464 / RFC 6533 delivery status */
	RULES_REPORT_NDR,	/* a non-standard bounce (qmail, Exchange...) */
	RULES_REPORT_ARF,	/* RFC 5965 or Hotmail-style complaint */
	RULES_REPORT_AUTOREPLY,	/* auto-reply, vacation, challenge-response */
	RULES_REPORT_MDN,	/* RFC 8098 read receipt */
	RULES_REPORT_LIST	/* a list robot: not a member, held, rejected */
};

/* A candidate Message-ID of the original message, best first. */
struct rules_origid {
	char	*id;		/* without <> */
	const char *where;	/* "message/rfc822 part 3", "text/rfc822-headers",
				   "delivery-status", "inline headers",
				   "Original-Message-ID", "In-Reply-To",
				   "References", "ARF reported message"... */
};

struct rules_bounce {
	enum rules_report kind;
	int	 delayed;	/* a delay notice (Action: delayed), not a failure */
	char	*why;		/* what recognised it, for explain */
	struct rules_origid *ids;	/* candidates, best first */
	size_t	 nids;
	char	*orig_from;	/* quoted original's From addr-spec, lowercased */
	char	*orig_to;	/* ... its To (first addr-spec), lowercased */
	char	*orig_subject;
	int64_t	 orig_date;	/* its Date, unix seconds, 0 unknown */
	char	*final_rcpt;	/* Final-Recipient / the address that failed */
};

/*
 * Recognises a bounce, complaint, auto-reply or read receipt in msg and
 * extracts what it says of the original message.  Fills *b (kind NONE for
 * ordinary mail: spam dressed as multipart/report without a report part,
 * mailing-list mail and ordinary replies are NONE).  Returns 0, or -1
 * when out of memory.  Free with rules_bounce_free.
 */
int	rules_bounce_analyse(const struct rules_msg *msg,
	    struct rules_bounce *b);
void	rules_bounce_free(struct rules_bounce *b);
const char *rules_report_name(enum rules_report kind);

/* ------------------------------------------------------------------ */
/* The verdict (classify.c).                                            */

enum rules_class {
	RULES_CLEAN,
	RULES_JUNK,		/* indicators, or forged self-mail */
	RULES_BOUNCE,		/* a bounce of mail the user sent: stays */
	RULES_BACKSCATTER,	/* about mail the user never sent */
	RULES_BOUNCE_UNKNOWN	/* a bounce the store cannot judge */
};

/* One indicator found in the message; matched ones carry their hit. */
struct rules_finding {
	enum rules_kind kind;	/* RULES_DOMAIN for URL hosts, etc. */
	char	*value;		/* host, digits, phrase, regex match */
	char	*via;		/* the URL or number as written, or NULL */
	const char *where;	/* part description (borrowed from the view) */
	int	 matched;
	struct rules_hit hit;	/* valid when matched */
};

/* What a lookup of the original Message-ID in the sent store said. */
enum rules_lookup {
	RULES_LOOKUP_NONE,	/* no lookup made */
	RULES_LOOKUP_SENT,	/* the user sent it */
	RULES_LOOKUP_ABSENT,	/* not sent, and the store covers its date */
	RULES_LOOKUP_UNKNOWN	/* not in the store, which does not cover it */
};

struct rules_verdict {
	enum rules_class cls;
	double	 score;
	char	*reasons;	/* "url:evil.example via https://...; phone:..." */
	struct rules_finding *found;	/* every indicator, matched or not */
	size_t	 nfound;
	struct rules_bounce bounce;	/* kind NONE unless a bounce */
	enum rules_lookup *lookups;	/* per bounce.ids[i] */
	struct rules_msg *msg;	/* the parsed view, for explain */
};

/*
 * The user's side of a verdict.  Any member may be NULL / 0.
 * sent(ctx, id, date) answers "did I send this Message-ID?": 1 yes; 0 no,
 * and the store covers date (unix seconds; 0 when the original's date is
 * unknown: then the callback decides from coverage alone); -1 unknown (no
 * coverage, or an error).  correspondent(ctx, addr) is 1 when the user
 * has written to addr: such mail is never junked by indicators.  learned,
 * when set, is looked up after the rule set for every URL host, number
 * and phrase (its hits weigh 1, the rule set's threshold applies).
 */
typedef int rules_sent_fn(void *ctx, const char *message_id, int64_t date);
struct rules_user {
	const char *const *addrs;	/* the user's own addresses, lowercase */
	size_t	 naddrs;
	rules_sent_fn *sent;
	int	(*correspondent)(void *ctx, const char *addr);
	void	*ctx;			/* for both callbacks */
	int	 unknown_backscatter;	/* unknown_bounce = backscatter */
	const struct rules_set *learned;	/* rules_learned_new, or NULL */
};

/*
 * The pure entry point: parses raw, finds every indicator, recognises
 * bounces and judges them against the user's sent mail, and fills *v.
 * user may be NULL (no sent store, no addresses: every recognised bounce
 * is bounce-unknown).  Returns 0 (a message that cannot be parsed still
 * gets a verdict: clean, reason "unparsed:...") or -1 when out of memory.
 * Free with rules_verdict_free.
 */
int	rules_classify(const char *raw, size_t len, const struct rules_set *rs,
	    const struct rules_limits *lim, const struct rules_user *user,
	    struct rules_verdict *v);
void	rules_verdict_free(struct rules_verdict *v);

const char *rules_class_name(enum rules_class cls);
const char *rules_kind_name(enum rules_kind kind);

#endif
