/*
 * rules-private.h: what the files of rules/ share among themselves and
 * with the unit tests; callers use rules.h.  The libetpan charset hook
 * (and iconv) are in charset.h.
 *
 * Sections: text helpers (html.c, header.c, extract.c, fold.c, phone.c,
 * and the inline byte helpers), look-ups in a rule set (ruleset.c), the
 * index structures and the loader (ruleset.c, listfile.c, phrase.c,
 * regex.c), bounce recognition internals (bounce*.c) and the verdict's
 * helpers (backscatter.c).
 */
#ifndef IMAPSIFT_RULES_PRIVATE_H
#define IMAPSIFT_RULES_PRIVATE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "rules/rules.h"

/* ------------------------------------------------------------------ */
/* Text helpers (html.c, header.c, extract.c, fold.c, phone.c).        */


/*
 * The URL carried inside url, if any: the first "http://" or "https://"
 * after its authority, as written or percent-escaped (once or twice), or
 * in Proofpoint's "https-3A__" form, up to the '&' that ends a query
 * parameter, decoded into out (NUL-ended; at most outsz - 1 bytes).  A
 * redirector's target (google.com/url?q=, l.facebook.com/l.php?u=) or a
 * link wrapper's original (Outlook Safe Links, Proofpoint, Barracuda).
 * Returns its length, 0 when there is none.  (extract.c)
 */
#define RULES_URL_INNER_MAX	2048
size_t	rules_url_inner(const char *url, size_t len, char *out, size_t outsz);

/*
 * Renders HTML to the text a reader sees: tags removed, script/style/head
 * dropped, comments removed, entities decoded (named, &#NN;, &#xNN;),
 * block elements and <br> become a newline, inline elements nothing.
 * For each href/src/action/background attribute, link(ctx, value, len,
 * rank) is called with the entity-decoded value and what kind of link it
 * is (enum rules_link_rank, never RULES_LINK_TEXT).  Returns a malloc'd
 * NUL-ended UTF-8 string (caller frees) and its length in *len_r, or
 * NULL when out of memory.  max_depth bounds the element stack it tracks.
 */
char	*rules_html_text(const char *html, size_t len, unsigned max_depth,
	    void (*link)(void *ctx, const char *url, size_t len, int rank),
	    void *ctx, size_t *len_r);

/* Unix seconds of a civil date and time with its zone written as +hhmm
 * in a number (+0130 is 130, -0500 is -500).  No range checks.  (header.c) */
int64_t	rules_civil_time(int year, int month, int day, int hour, int min,
	    int sec, int zone);

/* Calls fn for each http://, https://, ftp:// URL and bare "www." host in
 * text that has a host rules_url_host accepts, with the URL as written
 * (trailing punctuation trimmed) and that host. */
void	rules_find_url_hosts(const char *text, size_t len,
	    void (*fn)(void *ctx, const char *url, size_t len,
	    const char *host), void *ctx);

/*
 * Normalises a phone number as written ("+44 20 7946 0958", "(800)
 * 555-1234", "0049 30 1234567", "tel:+1-800-555-1234") to digits with
 * country code ("442079460958", "18005551234", "49301234567").  A number
 * without an international prefix gets default_cc (1 for NANP; a national
 * trunk "0" is dropped first for other codes).  Returns 0, or -1 when it
 * is not a phone number (too short or long, letters, a date shape).
 */
int	rules_phone_normalise(const char *in, size_t len, unsigned default_cc,
	    char *out, size_t outsz);

/* Calls fn for each phone or fax number written in free text in a form
 * spam uses, and for tel:/fax:/callto: URIs, with the normalised digits
 * and the text as written.  Dates, times, prices, IP addresses and order
 * or reference numbers are not reported. */
void	rules_find_phones(const char *text, size_t len, unsigned default_cc,
	    void (*fn)(void *ctx, const char *digits, const char *orig,
	    size_t olen), void *ctx);

/*
 * Folds text for phrase matching: UTF-8 case-folded (ASCII, Latin-1,
 * Latin Extended-A, Greek, Cyrillic), zero-width characters and soft
 * hyphens removed, every run of whitespace or punctuation becomes one
 * space, no leading or trailing space.  out must hold at least len + 1
 * bytes; returns the folded length (out is NUL-ended).
 */
size_t	rules_fold(const char *in, size_t len, char *out);

/*
 * For differential tests only (tests/unit/test_paths.c, fuzz_paths):
 * nonzero makes rules_msg_parse and rules_bounce_analyse take the slow
 * path beside each fast one, which must give the same view and verdict:
 * libetpan's mailbox parse of every From (no addr_plain), a second walk
 * of the top-level header for libetpan's copy (mime_header, not
 * mime_header_walked), one rules_msg_header walk per field bounce.c
 * reads (no hdr_find), iconv for ASCII in a charset that keeps it
 * (charset.c copies it).  Not for use while another thread parses.
 * (message.c)
 */
extern int rules_reference_paths;

/* ASCII classes of one byte, the same in any locale (extract.c, html.c,
 * phone.c), and the value of a hex digit or -1 (extract.c, html.c,
 * message.c). */
static inline int
rules_is_alpha(unsigned char c)
{
	return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

static inline int
rules_is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static inline int
rules_is_alnum(unsigned char c)
{
	return rules_is_alpha(c) || rules_is_digit(c);
}

static inline int
rules_hexval(unsigned char c)
{
	if (rules_is_digit(c))
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* ASCII lowercase of one byte (others unchanged), for the scanners' hot
 * loops (extract.c, bounce-words.c): inline, and the same in any locale. */
static inline unsigned char
rules_lower(unsigned char c)
{
	return (unsigned char)(c >= 'A' && c <= 'Z' ? c | 0x20 : c);
}

/* Eight bytes at a time (phone.c, message.c, fold.c, charset.c): a byte
 * of ones and of high bits, and whether the 8 bytes at s are all ASCII
 * (memcpy: s need not be aligned; message.c's text_ascii8 also refuses
 * NUL and CR). */
#define RULES_ONES	0x0101010101010101ULL
#define RULES_HIGHS	0x8080808080808080ULL

static inline int
rules_ascii8(const unsigned char *s)
{
	uint64_t w;

	memcpy(&w, s, sizeof(w));
	return (w & RULES_HIGHS) == 0;
}


/* Looks up a normalised host, then each parent domain.  Returns 1 and
 * fills *hit on a match, else 0. */
int	rules_match_domain(const struct rules_set *rs, const char *host,
	    struct rules_hit *hit);
/* Looks up normalised phone digits.  Returns 1 / 0 as above. */
int	rules_match_phone(const struct rules_set *rs, const char *digits,
	    struct rules_hit *hit);
/* Calls fn once per listed phrase found in folded text (rules_fold
 * output).  Cost does not grow with the number of phrases. */
void	rules_match_phrases(const struct rules_set *rs, const char *folded,
	    size_t len, void (*fn)(void *ctx, const struct rules_hit *hit),
	    void *ctx);
/* Runs every regex rule on its target in msg (a named header, the
 * visible body text, or raw) under lim's regex limits (NULL: the
 * defaults); calls fn per matching rule with the matched text.  A rule
 * run over a limit does not match. */
void	rules_match_regex(const struct rules_set *rs,
	    const struct rules_msg *msg, const char *raw, size_t rawlen,
	    const struct rules_limits *lim,
	    void (*fn)(void *ctx, const struct rules_hit *hit,
	    const char *match, size_t mlen), void *ctx);
/* Is this sender address (lowercased addr-spec) allowed, by address or
 * by its domain or a parent domain?  Returns 1 / 0 and fills *hit. */
int	rules_match_allow(const struct rules_set *rs, const char *addr,
	    struct rules_hit *hit);

/*
 * Internal to ruleset.c, listfile.c, phrase.c and regex.c; callers use
 * the functions above.  Entries remember the list file (an index kept by
 * ruleset.c) and line they came from; look-ups hand back a
 * rules_origin (rules.h, with the string set), which ruleset.c turns
 * into a rules_hit.
 */
struct rules_phrases;
struct rules_regexes;

/* The phrase index. */
struct rules_phrases *rules_phrases_new(void);
void	rules_phrases_free(struct rules_phrases **ph);
/* Adds one folded phrase of two words or more (words separated by single
 * spaces); shown is the phrase as written, the entry hits report.  Returns
 * 1 when added, 0 when already present, -1 when out of memory. */
int	rules_phrases_add(struct rules_phrases *ph, const char *folded,
	    size_t len, const char *shown, unsigned file, unsigned line);
size_t	rules_phrases_count(const struct rules_phrases *ph);
/* Calls fn once per phrase found in folded text. */
void	rules_phrases_find(const struct rules_phrases *ph, const char *text,
	    size_t len, void (*fn)(void *ctx, const struct rules_origin *o),
	    void *ctx);

/* Regex rules. */
struct rules_regexes *rules_regexes_new(void);
void	rules_regexes_free(struct rules_regexes **rx);
/* Compiles one "TARGET /PATTERN/FLAGS" line.  Returns 1 when added, 0 for
 * a duplicate, -1 with one line in err (bad syntax, PCRE2 error, memory). */
int	rules_regexes_add(struct rules_regexes *rx, const char *spec,
	    size_t len, unsigned file, unsigned line, char *err, size_t errlen);
size_t	rules_regexes_count(const struct rules_regexes *rx);
/* Calls fn once per rule matching its target, with its first match,
 * under lim's regex limits (NULL: the defaults). */
void	rules_regexes_run(const struct rules_regexes *rx,
	    const struct rules_msg *msg, const char *raw, size_t rawlen,
	    const struct rules_limits *lim,
	    void (*fn)(void *ctx, const struct rules_origin *o,
	    const char *match, size_t mlen), void *ctx);

/*
 * The set itself and the state of one rules_load call, shared by
 * ruleset.c (the set, the walk over paths, look-ups) and listfile.c (one
 * list file's lines); nothing else looks inside them.
 */
#define RULES_ADDR_MAX	(RULES_HOST_MAX + 256)

struct rules_file {
	char	*path;
	double	 weight;
	int	 learned;	/* the one slot of a rules_learned_new set */
};

struct rules_set {
	struct rules_strset *dom, *phone, *allow_addr, *allow_dom;
	struct rules_phrases *phr;
	struct rules_regexes *rx;
	struct rules_file *files;
	size_t	 nfiles, fcap;
	double	 threshold;
	unsigned default_cc;
};

/* State of one rules_load call. */
struct rules_loader {
	struct rules_set *rs;
	char	*errs;
	size_t	 elen, ecap;
	int	 failed;
	char	*buf, *tmp;	/* file contents; folded phrase */
	size_t	 bufcap, tmpcap;
	int	 thr_set;
	double	 thr;
	unsigned thr_file, thr_line;
	size_t	 max_file;	/* bytes per list file */
};

/* Makes room for need elements of elsz bytes in *p (capacity *cap, in
 * elements): the first allocation has room for first elements, and the
 * capacity doubles until need fits.  Returns 0, or -1 when out of memory
 * (*p and *cap unchanged).  rules_grow starts at 256.  (grow.c) */
int	rules_grow_slow(void **p, size_t *cap, size_t need, size_t elsz,
	    size_t first);

static inline int
rules_grow_from(void **p, size_t *cap, size_t need, size_t elsz,
    size_t first)
{
	return need <= *cap ? 0 : rules_grow_slow(p, cap, need, elsz, first);
}

static inline int
rules_grow(void **p, size_t *cap, size_t need, size_t elsz)
{
	return rules_grow_from(p, cap, need, elsz, 256);
}
/* Appends "path:line: message\n" (or "path: message\n" for line 0) to the
 * loader's errors and marks the load failed.  (listfile.c) */
void	rules_lerr(struct rules_loader *L, const char *path, unsigned line,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Reads the list file path, of the given kind, into L->rs; every problem
 * becomes an error line.  (listfile.c) */
void	rules_listfile_load(struct rules_loader *L, const char *path,
	    enum rules_kind kind);
/* rules_host_normalise, also taking an IPv6 address without brackets.
 * (ruleset.c) */
int	rules_norm_host(const char *s, char *out, size_t outsz);


/*
 * Internal to bounce.c (recognition), bounce-words.c (phrase tables),
 * bounce-extract.c (candidates, report parts, header fields) and
 * bounce-inline.c (headers quoted in text); callers use the functions
 * above.  The adders return 0, or -1 when out of memory.
 */
#define RULES_BOUNCE_MAXIDS	8		/* candidates kept */
#define RULES_BOUNCE_SCAN	(64u * 1024u)	/* text bytes read per part */

enum rules_bword {
	RULES_BW_BOUNCE,	/* a delivery failure */
	RULES_BW_REPORT,	/* the fixed sentences of MTA reports */
	RULES_BW_DELAY,		/* a delay notice */
	RULES_BW_AUTOREPLY,	/* out of office, vacation, auto-reply */
	RULES_BW_CHALLENGE,	/* challenge-response: confirm to deliver */
	RULES_BW_COMPLAINT,	/* a Hotmail-style complaint */
	RULES_BW_ABUSE,		/* another provider's abuse complaint */
	RULES_BW_LIST		/* a list robot refusing or holding a post */
};

/* 0 when the n header names (NULL: bounce.c's own table) are each under
 * 20 bytes and start with a letter, no two of one length and first
 * letter; else -1.  (bounce.c) */
int	rules_bounce_names_check(const char *const *names, size_t n);
/* needle (ASCII letters in any case) in hay[0..len), or NULL. */
const char *rules_bounce_find(const char *hay, size_t len,
	    const char *needle);
/* The phrase of family fam in a decoded Subject, or NULL; a reply
 * ("Re: ...") never has a bounce subject. */
const char *rules_bounce_subject(const char *subj, enum rules_bword fam);
/* The phrase of family fam in the first RULES_BOUNCE_SCAN bytes of
 * text, or NULL. */
const char *rules_bounce_phrase(const char *text, size_t len,
	    enum rules_bword fam);
/* Does subj start with a reply prefix ("Re:", "AW:", ...)? */
int	rules_bounce_is_reply(const char *subj);
/* Is the sender (From value, addr-spec; either may be NULL) a mail
 * system: MAILER-DAEMON, postmaster, "Mail Delivery Subsystem"...? */
int	rules_bounce_daemon(const char *from, const char *addr);
/* Is the sender a list manager's robot: "-bounces", "-owner",
 * "-request"... addresses, "owner-", mailman, listserv, sympa, ezmlm,
 * Google Groups? */
int	rules_bounce_listrobot(const char *from, const char *addr);
/* Is a From value MAILER-DAEMON or a "Mail Delivery Subsystem": the
 * header of a bounce, not of mail a person sent (postmaster does)? */
int	rules_bounce_mailer(const char *from);

/* The top-level text parts: rules_bounce_text(msg, i) for i below
 * rules_bounce_ntext(msg) is one, or NULL (a node without text, inside
 * a quoted message, or a subject).  When the MIME structure could not
 * be read, every body part counts.  (bounce-extract.c) */
size_t	rules_bounce_ntext(const struct rules_msg *msg);
const struct rules_part *rules_bounce_text(const struct rules_msg *msg,
	    size_t i);
/* Adds the Message-ID s[0..n) (with or without <>) unless it is
 * malformed, a repeat, msg's own, or past RULES_BOUNCE_MAXIDS. */
int	rules_bounce_addid(struct rules_bounce *b,
	    const struct rules_msg *msg, const char *s, size_t n,
	    const char *where);
/* Adds every <id> in value, the last first when last_first. */
int	rules_bounce_addids(struct rules_bounce *b,
	    const struct rules_msg *msg, const char *value, const char *where,
	    int last_first);
/* Adds the ids of msg's top-level field name (see rules_bounce_addids). */
int	rules_bounce_hdrids(struct rules_bounce *b,
	    const struct rules_msg *msg, const char *name, const char *where,
	    int last_first);
/* Takes the original's From, To, Subject or Date from one field of a
 * quoted header, unless already known; other names are ignored. */
int	rules_bounce_setorig(struct rules_bounce *b, const char *name,
	    const char *value);
/* Takes the failed recipient from "rfc822; addr", "<addr>" or a list,
 * unless already known. */
int	rules_bounce_setrcpt(struct rules_bounce *b, const char *value);
/* The quoted originals at the top level: message/rfc822 and
 * message/global, then text/rfc822-headers, then header fields in a
 * text part's own header; where NULL names each by its kind. */
int	rules_bounce_nested(struct rules_bounce *b,
	    const struct rules_msg *msg, const char *where);
/* The fields of the top-level report parts (delivery-status,
 * feedback-report, disposition-notification): ids, the recipient, and
 * whether every Action is "delayed" (*delayed_r). */
int	rules_bounce_fields(struct rules_bounce *b,
	    const struct rules_msg *msg, int *delayed_r);
/* Headers quoted in the top-level text (qmail, Exim, pasted, indented
 * or '>'-quoted), inline DSN fields, and the address the failure text
 * names first (with want_rcpt).  (bounce-inline.c) */
int	rules_bounce_inline(struct rules_bounce *b,
	    const struct rules_msg *msg, int want_rcpt, int *delayed_r);
/* The headers quoted in one text p, as rules_bounce_inline reads them:
 * the text of a bounce that is itself quoted (forwarded, or bounced in
 * turn), whose copy of the original is inline.  (bounce-inline.c) */
int	rules_bounce_inline_part(struct rules_bounce *b,
	    const struct rules_msg *msg, const struct rules_part *p);

/* ------------------------------------------------------------------ */

/* backscatter.c, for classify.c: the verdict of a recognised bounce
 * (v->bounce filled), and the forged self-mail check (1 when forged). */
int	rules_judge_bounce(struct rules_verdict *v,
	    const struct rules_user *u);
int	rules_judge_forged(struct rules_verdict *v,
	    const struct rules_user *u);
/* Is addr one of the user's addresses ("+tag" details ignored)? */
int	rules_user_addr(const struct rules_user *u, const char *addr);

#endif
