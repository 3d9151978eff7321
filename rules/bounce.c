/*
 * bounce.c: is this message a bounce, a complaint, an auto-reply or a
 * read receipt, and which message of ours is it about?
 *
 * Backscatter is judged by the original's Message-ID, so this file only
 * recognises and hands over; bounce-extract.c and bounce-inline.c read
 * what the notice quotes.  Recognition runs on every message, so it
 * starts with what costs nothing: the report parts the MIME walk kept
 * and a few header fields.  Mail with no sign at all is NONE without its
 * text being read.
 *
 * A report part settles it: delivery-status (RFC 3464, RFC 6533) is a
 * DSN, feedback-report (RFC 5965) an ARF complaint, disposition-
 * notification (RFC 8098) an MDN.  A multipart/report without one (a
 * phishing costume) proves nothing.  Everything else needs two signs
 * that agree, so that people writing about failed mail, couriers'
 * "could not be delivered" and lists are not taken:
 *
 * - a non-standard bounce (NDR): a mail-system sender (null Return-Path,
 *   MAILER-DAEMON, postmaster) with a bounce subject, a quoted copy or
 *   bounce wording; or a bounce subject (not a reply's) with a quoted
 *   copy or one of the fixed sentences MTAs write.  X-Failed-Recipients
 *   (Exim) is enough alone.  List-Id does not matter here: broken MTAs
 *   copy the original's list fields into their bounces.
 * - a complaint in Hotmail's or Amazon SES's own format: their sender or
 *   subject with the reported message attached; an SES / SNS JSON
 *   notification (from amazonses.com or amazonaws.com) whose
 *   notificationType is Bounce (NDR) or Complaint; another abuse desk's
 *   complaint: its sender (abuse@...) or a complaint subject, complaint
 *   wording and a copy of the message, attached or pasted.
 * - a list robot (Mailman's -bounces/-owner/-request, Sympa, ezmlm,
 *   fml, LISTSERV, Google Groups) telling a poster it is not a member or
 *   its post is held or rejected: its own kind, LIST, and a word about
 *   a list, a group or its members too; what it sends the list's owner
 *   (a post to approve) is not one.
 * - an auto-reply: an RFC 3834 style header (Auto-Submitted:
 *   auto-replied, X-Autoreply, Precedence: auto_reply, the X-Mailer of
 *   a vacation program...), or an auto-reply subject with a weaker
 *   header, a null sender, a thread reference or auto-reply wording (in
 *   a dozen languages), or Precedence: junk on a reply about a message;
 *   a challenge (confirm to deliver) needs its subject and its wording.
 *   Mail from a list is never one.
 */
#include <assert.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rules/rules-private.h"

#define WHY_MAX	256

/* The signs found in one message. */
struct sig {
	int	 dsn, arf, mdn;		/* report parts at the top level */
	int	 quoted;		/* a MIME copy of the original */
	int	 nullrp, daemon, xfailed, list, reply;
	int	 arhdr;			/* 2: auto-reply header, 1: weaker */
	int	 prec;			/* Precedence: junk */
	const char *fromv;		/* the From value */
	const char *arname;		/* that header */
	const char *sbounce, *sauto, *schal, *scompl;	/* subject words */
	int	 textread;		/* the text words are valid */
	const char *tbounce, *treport, *tauto, *tchal;	/* text words */
};

static int
is_part(const struct rules_mime *x, const char *a, const char *b)
{
	return x->nest == 0 && (strcmp(x->type, a) == 0 ||
	    (b != NULL && strcmp(x->type, b) == 0));
}

/* Report parts and MIME copies of the original, at the top level. */
static void
mime_signs(const struct rules_msg *msg, struct sig *g)
{
	const struct rules_mime *x;
	size_t i;

	for (i = 0; i < msg->nmime; i++) {
		x = &msg->mime[i];
		if (is_part(x, "message/delivery-status",
		    "message/global-delivery-status") && x->nhdrs > 0)
			g->dsn = 1;
		else if (is_part(x, "message/feedback-report", NULL) &&
		    x->nhdrs > 0)
			g->arf = 1;
		else if (is_part(x, "message/disposition-notification",
		    "message/global-disposition-notification") &&
		    x->nhdrs > 0)
			g->mdn = 1;
		else if (is_part(x, "message/rfc822", "message/global") ||
		    is_part(x, "text/rfc822-headers",
		    "message/global-headers") ||
		    is_part(x, "message/rfc822-headers", NULL) ||
		    (x->nest == 0 && x->nhdrs > 0 &&
		    strncmp(x->type, "text/", 5) == 0))
			g->quoted = 1;
	}
}

/* Is a Return-Path value the null sender (or sendmail's name for it)? */
static int
null_path(const char *v)
{
	size_t n;

	if (v == NULL)
		return 0;
	v += strspn(v, " \t<");
	n = strcspn(v, ">");
	while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	return (n == 0 && strchr(v, '>') != NULL) ||
	    (n == 13 && strncasecmp(v, "mailer-daemon", 13) == 0);
}

/*
 * The header fields recognise() reads.  Every message is looked at, and
 * rules_msg_header() walks the header once per name: fifteen walks of a
 * few dozen fields.  hdr_find() walks it once, comparing a name only
 * with the one wanted name of its length and first letter (no two of
 * these share both).
 */
enum {
	H_RETURN_PATH, H_FROM, H_XFAILED, H_LIST_ID, H_LIST_POST,
	H_MAILING_LIST, H_IN_REPLY_TO, H_REFERENCES, H_AUTO_SUBMITTED,
	H_PRECEDENCE, H_XMAILER, H_MARKS, H_MAX = H_MARKS + 5
};

static const char *const hnames[H_MAX] = {
	"Return-Path", "From", "X-Failed-Recipients", "List-Id", "List-Post",
	"Mailing-List", "In-Reply-To", "References", "Auto-Submitted",
	"Precedence", "X-Mailer",
	/* RFC 3834's forerunners, in the order autoreply_header() tries */
	"X-Autoreply", "X-Autorespond", "X-Autoresponder",
	"X-AutoReply-From", "X-Vacation"
};

/* wanted[length][first letter - 'a']: 1 + the index of the name of that
 * length and first letter, or 0 (the names are ASCII, shorter than
 * WANTED_LEN bytes, and start with a letter: wanted_fill checks). */
#define WANTED_LEN	20
static unsigned char wanted[WANTED_LEN][26];
static pthread_once_t wanted_once = PTHREAD_ONCE_INIT;

/* Fills w from the n names; -1 (w partly filled, never past its end)
 * when a name is too long or does not start with a letter, or two share
 * length and first letter (hdr_find would miss the second). */
static int
wanted_fill(unsigned char w[WANTED_LEN][26], const char *const *names,
    size_t n)
{
	size_t j, len;
	unsigned c0;

	memset(w, 0, WANTED_LEN * sizeof(w[0]));
	if (n > UCHAR_MAX - 1)
		return -1;
	for (j = 0; j < n; j++) {
		len = strlen(names[j]);
		c0 = rules_lower((unsigned char)names[j][0]) - 'a';
		if (len >= WANTED_LEN || c0 >= 26 || w[len][c0] != 0)
			return -1;
		w[len][c0] = (unsigned char)(j + 1);
	}
	return 0;
}

int
rules_bounce_names_check(const char *const *names, size_t n)
{
	unsigned char w[WANTED_LEN][26];

	if (names == NULL) {
		names = hnames;
		n = H_MAX;
	}
	return wanted_fill(w, names, n);
}

static void
wanted_build(void)
{
	int r = wanted_fill(wanted, hnames, H_MAX);

	/* A name added to hnames that breaks the rule above. */
	assert(r == 0);
	(void)r;
}

/* Sets v[i] to what rules_msg_header(msg, hnames[i]) returns: the
 * value of the first field of that name, any case, or NULL. */
static void
hdr_find(const struct rules_msg *msg, const char *v[H_MAX])
{
	const char *name;
	size_t i, j, n;
	unsigned c0;

	pthread_once(&wanted_once, wanted_build);
	for (j = 0; j < H_MAX; j++)
		v[j] = rules_reference_paths ? rules_msg_header(msg,
		    hnames[j]) : NULL;
	if (rules_reference_paths)
		return;
	for (i = 0; i < msg->nhdrs; i++) {
		name = msg->hdrs[i].name;
		c0 = rules_lower((unsigned char)name[0]) - 'a';
		if (c0 >= 26)
			continue;
		n = strnlen(name, WANTED_LEN);
		if (n >= WANTED_LEN || (j = wanted[n][c0]) == 0)
			continue;
		j--;
		if (v[j] == NULL && strcasecmp(name, hnames[j]) == 0)
			v[j] = msg->hdrs[i].value;
	}
}

/* RFC 3834 and the older auto-reply marks. */
static void
autoreply_header(const char *const h[H_MAX], struct sig *g)
{
	const char *v;
	size_t i;

	v = h[H_AUTO_SUBMITTED];
	if (v != NULL && strncasecmp(v, "no", 2) != 0) {
		g->arhdr = strncasecmp(v, "auto-replied", 12) == 0 ? 2 : 1;
		g->arname = "Auto-Submitted";
	}
	v = h[H_PRECEDENCE];
	if (v != NULL && (rules_bounce_find(v, strlen(v), "auto_reply") !=
	    NULL || rules_bounce_find(v, strlen(v), "auto-reply") != NULL)) {
		g->arhdr = 2;
		g->arname = "Precedence";
	}
	/* vacation(1) and its kin send nothing but auto-replies */
	v = h[H_XMAILER];
	if (v != NULL && g->arhdr < 2 && (strncasecmp(v, "vacation", 8) ==
	    0 || rules_bounce_find(v, strlen(v), "autorespond") != NULL ||
	    rules_bounce_find(v, strlen(v), "auto-respond") != NULL ||
	    strncasecmp(v, "gnarwl", 6) == 0)) {
		g->arhdr = 2;
		g->arname = "X-Mailer";
	}
	/* Precedence: junk is vacation(1)'s.  Not bulk: lists, newsletters
	 * and ticket systems (RT, OTRS) send replies with it, about their
	 * own Message-IDs. */
	v = h[H_PRECEDENCE];
	g->prec = v != NULL && strncasecmp(v, "junk", 4) == 0;
	for (i = H_MARKS; i < H_MAX && g->arhdr < 2; i++) {
		v = h[i];
		if (v != NULL && strncasecmp(v, "no", 2) != 0 &&
		    strncasecmp(v, "false", 5) != 0) {
			g->arhdr = 2;
			g->arname = hnames[i];
		}
	}
}

/* The header fields: sender, subject, list and auto-reply marks. */
static void
header_signs(const struct rules_msg *msg, struct sig *g)
{
	const char *h[H_MAX], *v;

	hdr_find(msg, h);
	g->nullrp = null_path(h[H_RETURN_PATH]);
	g->fromv = h[H_FROM];
	g->daemon = rules_bounce_daemon(h[H_FROM], msg->from);
	v = h[H_XFAILED];
	g->xfailed = v != NULL && strchr(v, '@') != NULL;
	g->list = h[H_LIST_ID] != NULL || h[H_LIST_POST] != NULL ||
	    h[H_MAILING_LIST] != NULL;
	g->reply = h[H_IN_REPLY_TO] != NULL || h[H_REFERENCES] != NULL;
	/* The other subject words are looked for where they count
	 * (complaint, autoreply): most mail gets no further. */
	g->sbounce = rules_bounce_subject(msg->subject, RULES_BW_BOUNCE);
	autoreply_header(h, g);
}

/* Does the top-level text hold needle? */
static int
text_has(const struct rules_msg *msg, const char *needle)
{
	const struct rules_part *p;
	size_t i;

	for (i = 0; i < rules_bounce_ntext(msg); i++) {
		p = rules_bounce_text(msg, i);
		if (p != NULL && rules_bounce_find(p->text, p->len <
		    RULES_BOUNCE_SCAN ? p->len : RULES_BOUNCE_SCAN, needle) !=
		    NULL)
			return 1;
	}
	return 0;
}

/* Reads the top-level text for bounce, auto-reply and challenge words
 * (once). */
static void
text_signs(const struct rules_msg *msg, struct sig *g)
{
	const struct rules_part *p;
	size_t i;

	if (g->textread)
		return;
	g->textread = 1;
	for (i = 0; i < rules_bounce_ntext(msg); i++) {
		p = rules_bounce_text(msg, i);
		if (p == NULL)
			continue;
		if (g->tbounce == NULL)
			g->tbounce = rules_bounce_phrase(p->text, p->len,
			    RULES_BW_BOUNCE);
		if (g->treport == NULL)
			g->treport = rules_bounce_phrase(p->text, p->len,
			    RULES_BW_REPORT);
		if (g->tauto == NULL)
			g->tauto = rules_bounce_phrase(p->text, p->len,
			    RULES_BW_AUTOREPLY);
		if (g->tchal == NULL)
			g->tchal = rules_bounce_phrase(p->text, p->len,
			    RULES_BW_CHALLENGE);
	}
}

/* Appends "; what" (or "what") to why. */
static void
why_add(char *why, const char *what, const char *arg)
{
	size_t n = strlen(why);

	snprintf(why + n, WHY_MAX - n, "%s%s%s%s%s", n > 0 ? "; " : "", what,
	    arg != NULL ? " \"" : "", arg != NULL ? arg : "",
	    arg != NULL ? "\"" : "");
}

/* A Hotmail-style complaint: the complaint address or subject, and the
 * reported message attached. */
static int
complaint(const struct rules_msg *msg, struct sig *g)
{
	static const char *const senders[] = {
		"staff@hotmail.com", "complaints@email-abuse.amazonses.com",
		NULL
	};
	size_t i;

	if (!g->quoted)
		return 0;
	g->scompl = rules_bounce_subject(msg->subject, RULES_BW_COMPLAINT);
	if (g->scompl != NULL)
		return 1;
	for (i = 0; msg->from != NULL && senders[i] != NULL; i++)
		if (strcmp(msg->from, senders[i]) == 0)
			return 1;
	return 0;
}

/* Is the local part of addr one an abuse desk writes from? */
static int
abuse_sender(const char *addr)
{
	static const char *const local[] = {
		"abuse", "complaints", "complaint", "spam", "fbl",
		"feedbackloop", "feedback-loop", "abuse-report", "spamreport",
		NULL
	};
	const char *at = addr != NULL ? strchr(addr, '@') : NULL;
	size_t i;

	for (i = 0; at != NULL && local[i] != NULL; i++)
		if (strlen(local[i]) == (size_t)(at - addr) &&
		    strncasecmp(addr, local[i], (size_t)(at - addr)) == 0)
			return 1;
	return 0;
}

/* Another provider's abuse complaint: an abuse desk's sender or a
 * complaint subject (not a reply), complaint wording, and a copy of the
 * reported message, attached or pasted with its Message-ID. */
static int
abuse(const struct rules_msg *msg, struct sig *g)
{
	const struct rules_part *p;
	const char *subj;
	size_t i;
	int words = 0;

	if (rules_bounce_is_reply(msg->subject))
		return 0;
	subj = rules_bounce_subject(msg->subject, RULES_BW_ABUSE);
	if (subj == NULL && !abuse_sender(msg->from))
		return 0;
	if (!g->quoted && !text_has(msg, "message-id:"))
		return 0;
	for (i = 0; i < rules_bounce_ntext(msg) && !words; i++) {
		p = rules_bounce_text(msg, i);
		words = p != NULL && rules_bounce_phrase(p->text, p->len,
		    RULES_BW_ABUSE) != NULL;
	}
	return words;
}

/* Does the subject or text speak of a list, a group, its moderator,
 * members or subscribers? */
static int
list_context(const struct rules_msg *msg)
{
	static const char *const words[] = {
		"list", "group", "moderat", "member", "subscri", "posting",
		"liste", "lista", NULL
	};
	size_t i;

	for (i = 0; words[i] != NULL; i++)
		if ((msg->subject != NULL && rules_bounce_find(msg->subject,
		    strlen(msg->subject), words[i]) != NULL) ||
		    text_has(msg, words[i]))
			return 1;
	return 0;
}

/* A list robot refusing or holding a post: its sender and its words,
 * in the subject or the text.  What it sends the list's owner (a post
 * to approve, someone else's) is not one. */
static int
listrobot(const struct rules_msg *msg, const struct sig *g, char *why)
{
	const struct rules_part *p;
	const char *w;
	size_t i;

	if (!rules_bounce_listrobot(g->fromv, msg->from) ||
	    rules_bounce_is_reply(msg->subject))
		return 0;
	if (msg->subject != NULL && rules_bounce_find(msg->subject,
	    strlen(msg->subject), "requires approval") != NULL)
		return 0;
	w = msg->subject != NULL ? rules_bounce_subject(msg->subject,
	    RULES_BW_LIST) : NULL;
	for (i = 0; i < rules_bounce_ntext(msg); i++) {
		p = rules_bounce_text(msg, i);
		if (p == NULL)
			continue;
		if (rules_bounce_find(p->text, p->len < RULES_BOUNCE_SCAN ?
		    p->len : RULES_BOUNCE_SCAN, "as list administrator") !=
		    NULL)
			return 0;
		if (w == NULL)
			w = rules_bounce_phrase(p->text, p->len, RULES_BW_LIST);
	}
	/* "was rejected" and the like only about a list */
	if (w == NULL || !list_context(msg))
		return 0;
	why_add(why, "list robot", msg->from);
	why_add(why, "words", w);
	return 1;
}

/* An Amazon SES / SNS notification in JSON, escaped or not, spaced or
 * not: 'B' for a bounce, 'C' for a complaint, 0 for none (deliveries
 * and everything else). */
static int
json_notice(const struct rules_msg *msg)
{
	const struct rules_part *p;
	const char *q, *e;
	size_t i, n;

	if (msg->from == NULL || (strstr(msg->from, "amazonses.com") ==
	    NULL && strstr(msg->from, "amazonaws.com") == NULL))
		return 0;
	for (i = 0; i < rules_bounce_ntext(msg); i++) {
		p = rules_bounce_text(msg, i);
		if (p == NULL)
			continue;
		n = p->len < RULES_BOUNCE_SCAN ? p->len : RULES_BOUNCE_SCAN;
		q = rules_bounce_find(p->text, n, "notificationType");
		if (q == NULL)
			continue;
		e = p->text + n;
		for (q += 16; q < e && strchr("\\\" \t:", *q) != NULL; q++)
			continue;
		if (e - q >= 6 && strncasecmp(q, "bounce", 6) == 0)
			return 'B';
		if (e - q >= 9 && strncasecmp(q, "complaint", 9) == 0)
			return 'C';
	}
	return 0;
}

/* A non-standard bounce: two signs that agree (see the top). */
static int
ndr(const struct rules_msg *msg, struct sig *g, char *why)
{
	int sender = g->nullrp || g->daemon;

	if (g->xfailed) {
		why_add(why, "X-Failed-Recipients", NULL);
		return 1;
	}
	if (!sender && g->sbounce == NULL)
		return 0;
	text_signs(msg, g);
	if (sender ? g->sbounce == NULL && !g->quoted && g->tbounce == NULL :
	    !g->quoted && g->treport == NULL)
		return 0;
	if (g->nullrp)
		why_add(why, "null sender", NULL);
	if (g->daemon)
		why_add(why, "mail-system sender", msg->from);
	if (g->sbounce != NULL)
		why_add(why, "subject", g->sbounce);
	if (g->treport != NULL || g->tbounce != NULL)
		why_add(why, "text", g->treport != NULL ? g->treport :
		    g->tbounce);
	else if (g->quoted)
		why_add(why, "quoted original", NULL);
	return 1;
}

/* An auto-reply or a challenge (see the top). */
static int
autoreply(const struct rules_msg *msg, struct sig *g, char *why)
{
	int second;

	if (g->list)
		return 0;
	if (g->arhdr == 2) {
		why_add(why, "auto-reply header", g->arname);
		return 1;
	}
	/* "Re: <the subject>" with Precedence: junk, about a message */
	if (g->prec && g->reply && rules_bounce_is_reply(msg->subject)) {
		why_add(why, "Precedence with a reply", NULL);
		return 1;
	}
	g->sauto = rules_bounce_subject(msg->subject, RULES_BW_AUTOREPLY);
	g->schal = rules_bounce_subject(msg->subject, RULES_BW_CHALLENGE);
	if (g->sauto == NULL && g->schal == NULL)
		return 0;
	text_signs(msg, g);
	second = g->arhdr == 1 || g->nullrp ||
	    (g->reply && !rules_bounce_is_reply(msg->subject));
	if (g->sauto != NULL && (second || g->tauto != NULL)) {
		why_add(why, "auto-reply subject", g->sauto);
		return 1;
	}
	if (g->schal != NULL && g->tchal != NULL) {
		why_add(why, "challenge subject", g->schal);
		return 1;
	}
	return 0;
}

static enum rules_report
recognise(const struct rules_msg *msg, struct sig *g, char *why)
{
	mime_signs(msg, g);
	if (g->dsn) {
		why_add(why, "delivery-status report", NULL);
		return RULES_REPORT_DSN;
	}
	if (g->arf) {
		why_add(why, "feedback-report", NULL);
		return RULES_REPORT_ARF;
	}
	if (g->mdn) {
		why_add(why, "disposition-notification", NULL);
		return RULES_REPORT_MDN;
	}
	header_signs(msg, g);
	if (complaint(msg, g)) {
		why_add(why, "complaint", msg->from);
		return RULES_REPORT_ARF;
	}
	switch (json_notice(msg)) {
	case 'B':
		why_add(why, "JSON bounce notification", msg->from);
		return RULES_REPORT_NDR;
	case 'C':
		why_add(why, "JSON complaint notification", msg->from);
		return RULES_REPORT_ARF;
	default:
		break;
	}
	if (listrobot(msg, g, why))
		return RULES_REPORT_LIST;
	if (abuse(msg, g)) {
		why_add(why, "abuse complaint", msg->from);
		return RULES_REPORT_ARF;
	}
	if (ndr(msg, g, why)) {
		/* Amazon SES sends complaints in its bounce format. */
		if (g->treport != NULL && g->treport[0] == '"' && text_has(msg,
		    "\"notificationType\":\"Complaint\""))
			return RULES_REPORT_ARF;
		return RULES_REPORT_NDR;
	}
	if (autoreply(msg, g, why))
		return RULES_REPORT_AUTOREPLY;
	return RULES_REPORT_NONE;
}

/* What a delivery report says of the original, best first. */
static int
extract_bounce(struct rules_bounce *b, const struct rules_msg *msg)
{
	int dfield = -1, dtext = -1;

	if (rules_bounce_nested(b, msg, NULL) == -1 ||
	    rules_bounce_fields(b, msg, &dfield) == -1 ||
	    rules_bounce_inline(b, msg, 1, &dtext) == -1 ||
	    rules_bounce_hdrids(b, msg, "Original-Message-ID",
	    "Original-Message-ID", 0) == -1 ||
	    rules_bounce_hdrids(b, msg, "X-Original-Message-ID",
	    "Original-Message-ID", 0) == -1 ||
	    rules_bounce_hdrids(b, msg, "In-Reply-To", "In-Reply-To",
	    0) == -1 ||
	    rules_bounce_hdrids(b, msg, "References", "References", 1) == -1 ||
	    rules_bounce_setrcpt(b,
	    rules_msg_header(msg, "X-Failed-Recipients")) == -1)
		return -1;
	if (b->kind == RULES_REPORT_DSN)
		b->delayed = dfield == 1;
	else
		b->delayed = dtext == 1 || (dtext == -1 &&
		    rules_bounce_subject(msg->subject, RULES_BW_DELAY) != NULL);
	return 0;
}

/* What a complaint, an auto-reply or a receipt says, best first. */
static int
extract_other(struct rules_bounce *b, const struct rules_msg *msg)
{
	const char *nested = b->kind == RULES_REPORT_ARF ?
	    "ARF reported message" : NULL;

	if (b->kind == RULES_REPORT_ARF && (rules_bounce_nested(b, msg,
	    nested) == -1 || rules_bounce_fields(b, msg, NULL) == -1))
		return -1;
	if (b->kind == RULES_REPORT_MDN &&
	    rules_bounce_fields(b, msg, NULL) == -1)
		return -1;
	if (b->kind != RULES_REPORT_ARF && (rules_bounce_hdrids(b, msg,
	    "Original-Message-ID", "Original-Message-ID", 0) == -1 ||
	    rules_bounce_hdrids(b, msg, "In-Reply-To", "In-Reply-To",
	    0) == -1 ||
	    rules_bounce_hdrids(b, msg, "References", "References", 1) == -1 ||
	    rules_bounce_nested(b, msg, NULL) == -1))
		return -1;
	return rules_bounce_inline(b, msg, 0, NULL);
}

int
rules_bounce_analyse(const struct rules_msg *msg, struct rules_bounce *b)
{
	struct sig g;
	char why[WHY_MAX] = "";
	int r;

	memset(b, 0, sizeof(*b));
	if (msg == NULL)
		return 0;
	memset(&g, 0, sizeof(g));
	b->kind = recognise(msg, &g, why);
	if (b->kind == RULES_REPORT_NONE)
		return 0;
	b->why = strdup(why);
	if (b->kind == RULES_REPORT_DSN || b->kind == RULES_REPORT_NDR)
		r = extract_bounce(b, msg);
	else
		r = extract_other(b, msg);
	if (r == -1 || b->why == NULL) {
		rules_bounce_free(b);
		return -1;
	}
	return 0;
}

void
rules_bounce_free(struct rules_bounce *b)
{
	size_t i;

	if (b == NULL)
		return;
	for (i = 0; i < b->nids; i++)
		free(b->ids[i].id);
	free(b->ids);
	free(b->why);
	free(b->orig_from);
	free(b->orig_to);
	free(b->orig_subject);
	free(b->final_rcpt);
	memset(b, 0, sizeof(*b));
}

const char *
rules_report_name(enum rules_report kind)
{
	static const char *const names[] = {
		"none", "dsn", "ndr", "arf", "autoreply", "mdn", "list"
	};

	if ((size_t)kind >= sizeof(names) / sizeof(names[0]))
		return "unknown";
	return names[kind];
}
