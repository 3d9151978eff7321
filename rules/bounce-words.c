/*
 * bounce-words.c: the words that give a bounce, an auto-reply, a
 * challenge or a complaint away, for bounce.c.
 *
 * Mail systems write their notices in a few fixed forms: the subject
 * lines of each MTA family, the first sentences of their reports, the
 * local parts and display names of their senders.  No one of them is
 * proof (people write "delivery failed" too), so bounce.c asks for two
 * that agree.  Matching is by substring, ASCII letters in any case;
 * phrases in other scripts are given as the UTF-8 mailers write them.
 * Only the first RULES_BOUNCE_SCAN bytes of a text are looked at.
 */
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "rules/rules-private.h"

/* Subjects of delivery failures and delays, in several languages. */
static const char *const subj_bounce[] = {
	"undeliver", "undelivered", "returned mail", "return to sender",
	"returned to sender", "returning message to sender",
	"delivery fail", "delivery status", "delivery notification",
	"delivery report", "delivery problem", "delivery warning",
	"delivery error", "delivery has failed", "failure notice",
	"failure delivery", "failed delivery", "failed mail", "mail failure",
	"mail error", "mail system error", "message delayed", "delayed mail",
	"mail delayed", "could not be delivered", "not delivered",
	"not be delivered", "nondeliver", "non-deliver", "non deliver",
	"delivery delayed", "could not send", "has not yet been delivered",
	"mail failed", "returning to sender", "aws notification message",
	"email bounce", "bounce notification", "bounced mail",
	"message bounced", "message not sent", "mail not delivered",
	"processing error", "unzustellbar", "nicht zustellbar",
	"zustellung fehlgeschlagen", "non remis", "non distribu",
	"non recapitat", "no se puede entregar", "no entregad",
	"entrega fallida", "onbestelbaar", "niet afgeleverd",
	"n\xc3\xa3o entregue", "falha na entrega",
	"\xd0\xbd\xd0\xb5 \xd0\xb4\xd0\xbe\xd1\x81\xd1\x82\xd0\xb0\xd0\xb2"
	    "\xd0\xbb\xd0\xb5\xd0\xbd\xd0\xbe",		/* не доставлено */
	"\xe3\x82\xa8\xe3\x83\xa9\xe3\x83\xbc\xe9\x80\x9a\xe7\x9f\xa5",
							/* エラー通知 */
	"\xe9\x85\x8d\xe4\xbf\xa1\xe3\x82\xa8\xe3\x83\xa9\xe3\x83\xbc",
							/* 配信エラー */
	"\xe9\x80\x81\xe4\xbf\xa1\xe3\x82\xa8\xe3\x83\xa9\xe3\x83\xbc",
							/* 送信エラー */
	"\xe4\xb8\x8d\xe9\x81\x94",			/* 不達 */
	"\xe8\xbf\x94\xe9\x80\x81",			/* 返送 */
	"\xe9\x80\x80\xe4\xbf\xa1",			/* 退信 */
	NULL
};

/* Subjects (and report wording) of delay notices. */
static const char *const subj_delay[] = {
	"delay", "still being retried", "has not yet been delivered",
	"could not send mail for past", "delivery warning",
	"warning: message", "notification: warning", "will be retried",
	"not yet delivered", NULL
};

/* Subjects of auto-replies ('^': only at the start). */
static const char *const subj_auto[] = {
	"out of office", "out of the office", "out-of-office",
	"automatic reply", "auto reply", "auto-reply", "autoreply",
	"automatic response", "auto response", "auto-response",
	"autoresponse", "automated response", "automated reply", "^auto:",
	"vacation reply", "vacation response", "vacation notice",
	"vacation message", "on vacation", "away from my",
	"away from the office", "abwesenheitsnotiz", "automatische antwort",
	"nicht im b\xc3\xbcro", "r\xc3\xa9ponse automatique",
	"reponse automatique", "absent du bureau", "respuesta autom",
	"fuera de la oficina", "risposta automatica", "fuori ufficio",
	"automatisch antwoord", "afwezigheidsbericht", "autosvar",
	"automaattinen vastaus", "resposta autom",
	"odpowied\xc5\xba automatyczna", "automatyczna odpowied",
	"otomatik yan\xc4\xb1t", "otomatik cevap", "otomatik yanit",
	"automatick\xc3\xa1 odpov\xc4\x9b\xc4\x8f",
	"automatiska atbilde", "autom\xc4\x81tisk\xc4\x81 atbilde",
	"\xd0\xb0\xd0\xb2\xd1\x82\xd0\xbe\xd0\xbe\xd1\x82\xd0\xb2\xd0\xb5"
	    "\xd1\x82",				/* автоответ */
	"\xd0\x90\xd0\xb2\xd1\x82\xd0\xbe\xd0\xbe\xd1\x82\xd0\xb2\xd0\xb5"
	    "\xd1\x82",				/* Автоответ */
	"\xd0\x90\xd0\xb2\xd1\x82\xd0\xbe\xd0\xbc\xd0\xb0\xd1\x82\xd0\xb8"
	    "\xd1\x87\xd0\xb5\xd1\x81\xd0\xba\xd0\xb8\xd0\xb9 \xd0\xbe\xd1"
	    "\x82\xd0\xb2\xd0\xb5\xd1\x82",	/* Автоматический ответ */
	"\xe8\x87\xaa\xe5\x8b\x95\xe5\xbf\x9c\xe7\xad\x94",	/* 自動応答 */
	"\xe8\x87\xaa\xe5\x8b\x95\xe8\xbf\x94\xe4\xbf\xa1",	/* 自動返信 */
	"\xe8\x87\xaa\xe5\x8a\xa8\xe5\x9b\x9e\xe5\xa4\x8d",	/* 自动回复 */
	"\xe8\x87\xaa\xe5\x8a\xa8\xe7\xad\x94\xe5\xa4\x8d",	/* 自动答复 */
	"\xd0\xb0\xd0\xb2\xd1\x82\xd0\xbe\xd0\xbc\xd0\xb0\xd1\x82\xd0\xb8"
	    "\xd1\x87\xd0\xb5\xd1\x81\xd0\xba\xd0\xb8\xd0\xb9 \xd0\xbe\xd1"
	    "\x82\xd0\xb2\xd0\xb5\xd1\x82",	/* автоматический ответ */
	NULL
};

/* Subjects of challenge-response requests. */
static const char *const subj_challenge[] = {
	"please confirm your message", "confirm your message",
	"please confirm your e-mail", "please confirm your email",
	"sender verification", "[spamarrest]", "spam arrest",
	"request to join my guest list", "awaiting your confirmation",
	"is waiting for your approval", "approve your message",
	"pending your confirmation", "bitte best\xc3\xa4tigen",
	"best\xc3\xa4tigen sie ihre", "confirmez votre message",
	"confirmez votre e-mail", "confirme su mensaje",
	"confirme su correo", "confirme sua mensagem",
	"conferma il tuo messaggio", "conferma il messaggio",
	"bevestig uw bericht", "bevestig je bericht",
	"potwierd\xc5\xba wiadomo", NULL
};

/* Subjects of Hotmail-style complaints. */
static const char *const subj_complaint[] = {
	"complaint about message from", NULL
};

/* Subjects of other providers' abuse complaints (with a quoted copy and
 * complaint wording, see bounce.c). */
static const char *const subj_abuse[] = {
	"complaint about", "spam complaint", "abuse complaint",
	"abuse report", "spam report", "report of abuse", "abuse notice",
	"unsolicited e-mail", "unsolicited email", "reported as spam",
	"spam received from", "feedback loop", NULL
};

/* Wording of abuse complaints. */
static const char *const body_abuse[] = {
	"complaint", "reported as spam", "marked as spam", "unsolicited",
	"abuse report", "spam report", "reported this message", NULL
};

/* What list managers (Mailman, fml, Sympa, ezmlm, Google Groups,
 * LISTSERV) write to a poster they refuse or hold, in the subject or
 * the text.  Notices to the list's owner ("requires approval", "as list
 * administrator") are not among them: see bounce.c. */
static const char *const words_list[] = {
	"awaits moderator approval", "awaiting moderator approval",
	"held until the list moderator", "held for moderation",
	"held for approval", "post by non-member", "non-member",
	"nonmember", "not a member", "not a subscriber", "not subscribed to",
	"only subscribers may post", "only members may post",
	"members-only list", "members only list", "posting rejected",
	"post rejected", "posting denied", "has been rejected",
	"was rejected", "rejected your post", "authorization denied",
	"not allowed to send", "not allowed to post",
	"do not have permission to post", "don't have permission to post",
	"not authorized to send", "not authorised to send",
	"not authorized to post", "not authorised to post",
	"message rejected", "rejected by the list", "restricted list",
	"kein mitglied", "nicht abonniert", "pas abonn",
	"pas autoris\xc3\xa9", "no es miembro", "no est\xc3\xa1 suscrit",
	NULL
};

/* The fixed sentences of MTAs' bounce reports: proof enough with a
 * bounce subject. */
static const char *const body_report[] = {
	"this is the mail system at host",
	"wasn't able to deliver your message",
	"below this line is a copy of the message",
	"created automatically by mail delivery software",
	"this is a copy of the message, including all the headers",
	"the original message was received at",
	"permanent fatal errors", "transcript of session follows",
	"delivery has failed to these recipients",
	"did not reach some or all of the intended recipients",
	"the following recipient(s) cannot be reached",
	"delivery to the following recipient",
	"delivery to these recipients or groups",
	"non-delivery report", "failed addresses follow",
	"failed recipient", "to the following recipient",
	"your message could not be delivered to the following",
	"the following message to <", "message could not be delivered to",
	"could not be delivered to the following",
	"original message follows", "\"notificationtype\":\"",
	NULL
};

/* Bounce wording, the sentences above and SMTP error texts: proof with
 * a mail-system sender. */
static const char *const body_bounce[] = {
	"your message could not be delivered",
	"message could not be delivered", "could not be delivered to",
	"wasn't able to deliver", "was not able to deliver",
	"unable to deliver", "could not deliver",
	"below this line is a copy of the message",
	"mail delivery software", "could not be delivered",
	"this is a copy of the message",
	"the original message was received at",
	"permanent fatal errors", "transcript of session follows",
	"delivery has failed to these recipients",
	"did not reach some or all of the intended recipients",
	"the following recipient(s) cannot be reached",
	"delivery to the following recipient",
	"delivery to these recipients or groups",
	"failed addresses", "unknown host", "quota", "was rejected",
	"delivery failed", "delivery has failed", "failed to deliver",
	"message was not delivered", "was undeliverable", "undeliverable",
	"non-delivery", "not been delivered", "not be delivered",
	"has been delayed", "delivery attempts will continue",
	"will continue to try", "will be retried", "not yet been delivered",
	"returned mail", "user unknown", "unknown user", "no such user",
	"mailbox unavailable", "mailbox is full", "quota exceeded",
	"recipient address rejected", "host unknown", "address rejected",
	"does not exist", "permanent error", "smtp error",
	"original message follows", "unrouteable address",
	"konnte nicht zugestellt", "unzustellbar", "n'a pas pu \xc3\xaatre",
	"non remis", "no se pudo entregar", "no pudo ser entregado",
	"non \xc3\xa8 stato possibile", "kon niet worden afgeleverd",
	"\xd0\xbd\xd0\xb5 \xd0\xb4\xd0\xbe\xd1\x81\xd1\x82\xd0\xb0\xd0\xb2"
	    "\xd0\xbb\xd0\xb5\xd0\xbd\xd0\xbe",		/* не доставлено */
	"\xe9\x85\x8d\xe4\xbf\xa1\xe3\x81\xa7\xe3\x81\x8d\xe3\x81\xbe\xe3"
	    "\x81\x9b\xe3\x82\x93",			/* 配信できません */
	"\xe9\x80\x81\xe4\xbf\xa1\xe3\x81\xa7\xe3\x81\x8d\xe3\x81\xbe\xe3"
	    "\x81\x9b\xe3\x82\x93",			/* 送信できません */
	"\xe5\xb1\x8a\xe3\x81\x8d\xe3\x81\xbe\xe3\x81\x9b\xe3\x82\x93",
							/* 届きません */
	NULL
};

/* Wording of auto-replies. */
static const char *const body_auto[] = {
	"out of the office", "out of office", "out of town",
	"i am away", "i'm away", "i am currently away", "currently out",
	"on vacation", "on holiday", "on leave", "on annual leave",
	"will return on", "will be back", "back in the office",
	"limited access to e", "automatic reply", "automatic response",
	"automated response", "auto-reply", "autoreply", "auto reply",
	"this is an automated", "this is an automatic",
	"thank you for your e-mail", "thank you for your email",
	"thank you for your message", "thanks for your email",
	"will respond as soon as", "will reply as soon as",
	"will get back to you", "abwesend", "nicht im b", "absent",
	"fuera de la oficina", "de vacaciones", "in ferie",
	/* pl, cs, es, pt, it, fr, de, nl, tr */
	"jestem nieobecn", "poza biurem", "na urlopie",
	"automatyczna odpowied", "na dovolen", "nejsem v kancel",
	"mimo kancel", "automatick\xc3\xa1 odpov", "estoy fuera",
	"ausente", "respuesta autom", "estou de f\xc3\xa9rias",
	"estou fora", "resposta autom", "sono assente", "fuori ufficio",
	"risposta automatica", "en cong\xc3\xa9", "r\xc3\xa9ponse automatique",
	"im urlaub", "nicht erreichbar", "automatische antwort",
	"met vakantie", "afwezig", "niet aanwezig", "automatisch antwoord",
	"izindeyim", "izinli", "ofis d\xc4\xb1\xc5\x9f\xc4\xb1nda",
	"otomatik yan",
	"\xe4\xb8\x8d\xe5\x9c\xa8",			/* 不在 (ja, zh) */
	"\xe4\xbc\x91\xe5\x81\x87",			/* 休假 */
	"\xe4\xbc\x91\xe6\x9a\x87",			/* 休暇 */
	"\xe8\x87\xaa\xe5\x8b\x95\xe8\xbf\x94\xe4\xbf\xa1",	/* 自動返信 */
	"\xe8\x87\xaa\xe5\x8b\x95\xe5\xbf\x9c\xe7\xad\x94",	/* 自動応答 */
	"\xe8\x87\xaa\xe5\x8a\xa8\xe5\x9b\x9e\xe5\xa4\x8d",	/* 自动回复 */
	"\xd0\xb2 \xd0\xbe\xd1\x82\xd0\xbf\xd1\x83\xd1\x81\xd0\xba\xd0\xb5",
							/* в отпуске */
	"\xd0\xbe\xd1\x82\xd1\x81\xd1\x83\xd1\x82\xd1\x81\xd1\x82\xd0\xb2",
							/* отсутств */
	"\xd0\xb0\xd0\xb2\xd1\x82\xd0\xbe\xd0\xbe\xd1\x82\xd0\xb2\xd0\xb5"
	    "\xd1\x82",				/* автоответ */
	NULL
};

/* Wording of challenge-response requests. */
static const char *const body_challenge[] = {
	"please confirm your message", "confirm that you sent",
	"approved senders", "approved beforehand", "guest list",
	"whitelist", "white list", "spam protection", "spam blocker",
	"sender verification", "verify that you are a", "one-time",
	"challenge", "to have your message delivered",
	"your message is being held", "awaiting your confirmation",
	"i apologize for this automatic reply",
	"best\xc3\xa4tigen sie", "zur\xc3\xbc" "ckgehalten",
	"confirmer votre", "merci de confirmer", "confirme su",
	"confirme que", "confermare", "conferma", "bevestig",
	"potwierd\xc5\xba", NULL
};

/* Phrases a list may hold for find_any's one-pass scan. */
#define FIND_MAX	128

/*
 * A phrase list indexed for find_any, built once: the phrases chained
 * by first byte (either case of a letter leads to the same chain), in
 * list order, with their lengths and lowercased second bytes; a filter
 * of the second bytes each chain holds, by their low five bits, so that
 * a text byte whose successor no phrase of its chain has costs a table
 * look-up, not a walk of the chain (a one-byte phrase sets all bits,
 * and a false hit only costs the walk); and the
 * phrases tried on their own ("^phrase", or past FIND_MAX), in list
 * order.  Building this on every call cost more than most scans.
 */
struct plist {
	const char *const *list;
	short	 head[256], next[FIND_MAX];
	uint32_t pair[256];	/* bit (second byte & 31) by first byte */
	unsigned short plen[FIND_MAX];
	unsigned char second[FIND_MAX];
	size_t	 nown;
	short	 own[FIND_MAX];		/* up to FIND_MAX of them kept */
	const char *const *rest;	/* list past FIND_MAX, or NULL */
};

static const char *const mailer_name[] = {
	"mailer-daemon", "mailer_daemon", "mailer daemon",
	"mail delivery subsystem", "mail delivery system", NULL
};

static const char *const daemon_name[] = {
	"mailer-daemon", "mailer daemon", "postmaster",
	"mail delivery", "delivery subsystem", "mail administrator",
	"mail system", NULL
};

static struct plist pl_subj_bounce = { .list = subj_bounce };
static struct plist pl_subj_delay = { .list = subj_delay };
static struct plist pl_subj_auto = { .list = subj_auto };
static struct plist pl_subj_challenge = { .list = subj_challenge };
static struct plist pl_subj_complaint = { .list = subj_complaint };
static struct plist pl_subj_abuse = { .list = subj_abuse };
static struct plist pl_body_abuse = { .list = body_abuse };
static struct plist pl_words_list = { .list = words_list };
static struct plist pl_body_report = { .list = body_report };
static struct plist pl_body_bounce = { .list = body_bounce };
static struct plist pl_body_auto = { .list = body_auto };
static struct plist pl_body_challenge = { .list = body_challenge };
static struct plist pl_mailer_name = { .list = mailer_name };
static struct plist pl_daemon_name = { .list = daemon_name };

static struct plist *const plists[] = {
	&pl_subj_bounce, &pl_subj_delay, &pl_subj_auto, &pl_subj_challenge,
	&pl_subj_complaint, &pl_subj_abuse, &pl_body_abuse, &pl_words_list,
	&pl_body_report, &pl_body_bounce, &pl_body_auto,
	&pl_body_challenge, &pl_mailer_name, &pl_daemon_name
};

static struct plist *const families[][2] = {
	[RULES_BW_BOUNCE] = { &pl_subj_bounce, &pl_body_bounce },
	[RULES_BW_REPORT] = { &pl_subj_bounce, &pl_body_report },
	[RULES_BW_DELAY] = { &pl_subj_delay, &pl_subj_delay },
	[RULES_BW_AUTOREPLY] = { &pl_subj_auto, &pl_body_auto },
	[RULES_BW_CHALLENGE] = { &pl_subj_challenge, &pl_body_challenge },
	[RULES_BW_COMPLAINT] = { &pl_subj_complaint, &pl_subj_complaint },
	[RULES_BW_ABUSE] = { &pl_subj_abuse, &pl_body_abuse },
	[RULES_BW_LIST] = { &pl_words_list, &pl_words_list }
};

static pthread_once_t plist_once = PTHREAD_ONCE_INIT;

static void
plist_build(struct plist *pl)
{
	const char *const *list = pl->list;
	size_t i, n;
	unsigned c;

	memset(pl->head, -1, sizeof(pl->head));
	for (n = 0; list[n] != NULL && n < FIND_MAX; n++) {
		if (list[n][0] == '^') {
			pl->own[pl->nown++] = (short)n;
			continue;
		}
		pl->plen[n] = (unsigned short)strlen(list[n]);
		pl->second[n] = rules_lower((unsigned char)list[n][1]);
	}
	pl->rest = list[n] != NULL ? list + n : NULL;
	for (i = n; i-- > 0;) {		/* chains in list order */
		if (list[i][0] == '^')
			continue;
		c = rules_lower((unsigned char)list[i][0]);
		pl->next[i] = pl->head[c];
		pl->head[c] = (short)i;
		pl->pair[c] |= pl->plen[i] < 2 ? ~(uint32_t)0 :
		    (uint32_t)1 << (pl->second[i] & 31);
	}
	for (c = 'a'; c <= 'z'; c++) {
		pl->head[c - 'a' + 'A'] = pl->head[c];
		pl->pair[c - 'a' + 'A'] = pl->pair[c];
	}
}

static void
plists_build(void)
{
	size_t i;

	for (i = 0; i < sizeof(plists) / sizeof(plists[0]); i++)
		plist_build(plists[i]);
}

const char *
rules_bounce_find(const char *hay, size_t len, const char *needle)
{
	size_t n = strlen(needle), i;
	unsigned char c0 = (unsigned char)needle[0];

	if (n == 0 || n > len)
		return NULL;
	c0 = (unsigned char)(c0 >= 'A' && c0 <= 'Z' ? c0 | 0x20 : c0);
	for (i = 0; i + n <= len; i++) {
		unsigned char h = (unsigned char)hay[i];

		if (h >= 'A' && h <= 'Z')
			h |= 0x20;
		if (h == c0 && strncasecmp(hay + i, needle, n) == 0)
			return hay + i;
	}
	return NULL;
}

/* Does text[0..len) start with phrase, after blanks? */
static int
at_start(const char *text, size_t len, const char *phrase)
{
	size_t k = strlen(phrase), p;

	for (p = 0; p < len && (text[p] == ' ' || text[p] == '\t'); p++)
		continue;
	return len - p >= k && strncasecmp(text + p, phrase, k) == 0;
}

/*
 * The first phrase of pl's list found in text[0..len), or NULL; a phrase
 * written "^phrase" only counts at the start of the text.  "First" is by
 * the list's order, not the text's.  One pass over the text: at each
 * byte only the phrases starting with it are tried (their second byte
 * checked before the rest), and once one is found only those before it
 * in the list.
 */
static const char *
find_any(const char *text, size_t len, struct plist *pl)
{
	const char *const *list = pl->list;
	size_t i, k, p, best = (size_t)-1;
	int j;

	pthread_once(&plist_once, plists_build);
	if (len > RULES_BOUNCE_SCAN)
		len = RULES_BOUNCE_SCAN;
	for (i = 0; i < pl->nown && best == (size_t)-1; i++)
		if (at_start(text, len, list[pl->own[i]] + 1))
			best = (size_t)pl->own[i];
	for (i = 0; best == (size_t)-1 && pl->rest != NULL &&
	    pl->rest[i] != NULL; i++)	/* too long a list: one by one */
		if (pl->rest[i][0] == '^' ? at_start(text, len,
		    pl->rest[i] + 1) : rules_bounce_find(text, len,
		    pl->rest[i]) != NULL)
			best = FIND_MAX + i;
	for (p = 0; p < len && best != 0; p++) {
		if (p + 1 < len && (pl->pair[(unsigned char)text[p]] >>
		    (rules_lower((unsigned char)text[p + 1]) & 31) & 1) == 0)
			continue;
		for (j = pl->head[(unsigned char)text[p]];
		    j >= 0 && (size_t)j < best; j = pl->next[j]) {
			k = pl->plen[j];
			if (k <= len - p && (k < 2 || rules_lower((unsigned char)
			    text[p + 1]) == pl->second[j]) &&
			    strncasecmp(text + p, list[j], k) == 0) {
				best = (size_t)j;
				break;
			}
		}
	}
	if (best == (size_t)-1)
		return NULL;
	return list[best][0] == '^' ? list[best] + 1 : list[best];
}

/* Length of a reply prefix ("Re:", "AW:", "SV:", ...) at s, or 0. */
static size_t
reply_prefix(const char *s)
{
	static const char *const re[] = {
		"re:", "aw:", "sv:", "antw:", "vs:", "r:", "ref:", "odp:",
		"re :", NULL
	};
	size_t i;

	for (i = 0; re[i] != NULL; i++)
		if (strncasecmp(s, re[i], strlen(re[i])) == 0)
			return strlen(re[i]);
	return 0;
}

int
rules_bounce_is_reply(const char *subj)
{
	if (subj == NULL)
		return 0;
	while (*subj == ' ' || *subj == '\t')
		subj++;
	return reply_prefix(subj) > 0;
}

const char *
rules_bounce_subject(const char *subj, enum rules_bword fam)
{
	if (subj == NULL)
		return NULL;
	if (fam == RULES_BW_BOUNCE && rules_bounce_is_reply(subj))
		return NULL;	/* a person answering a bounce */
	return find_any(subj, strlen(subj), families[fam][0]);
}

const char *
rules_bounce_phrase(const char *text, size_t len, enum rules_bword fam)
{
	return find_any(text, len, families[fam][1]);
}

int
rules_bounce_mailer(const char *from)
{
	return from != NULL &&
	    find_any(from, strlen(from), &pl_mailer_name) != NULL;
}

int
rules_bounce_daemon(const char *from, const char *addr)
{
	static const char *const local[] = {
		"mailer-daemon", "mailer_daemon", "mailerdaemon",
		"mail-daemon", "maildaemon", "mdaemon", "postmaster",
		"mailadm", "mail.delivery", "mail-delivery", "maildelivery",
		"bounce-notification", NULL
	};
	const char *at;
	size_t i, n;

	at = addr == NULL ? NULL : strchr(addr, '@');
	if (at != NULL) {
		n = (size_t)(at - addr);
		for (i = 0; local[i] != NULL; i++)
			if (strlen(local[i]) <= n &&
			    rules_bounce_find(addr, n, local[i]) != NULL)
				return 1;
	}
	if (from != NULL && find_any(from, strlen(from), &pl_daemon_name) !=
	    NULL)
		return 1;
	return from != NULL && addr == NULL &&
	    rules_bounce_find(from, strlen(from), "mailer-daemon") != NULL;
}

int
rules_bounce_listrobot(const char *from, const char *addr)
{
	static const char *const suffix[] = {
		"-bounces", "-owner", "-request", "-admin", "-help",
		"-confirm", "-reject", NULL
	};
	static const char *const local[] = {
		"mailman", "listserv", "sympa", "majordomo", "ezmlm", "fml",
		"listproc", "listar", "mlmmj", "lyris", NULL
	};
	static const char *const names[] = {
		"list server", "listserv", "mailman", "sympa", "google groups",
		NULL
	};
	const char *at, *d;
	size_t i, n, k;

	at = addr == NULL ? NULL : strchr(addr, '@');
	if (at != NULL) {
		n = (size_t)(at - addr);
		d = at + 1;
		/* Google Groups posts come from the group's domain too */
		if ((strcasecmp(d, "googlegroups.com") == 0 &&
		    (strncasecmp(addr, "noreply@", 8) == 0 ||
		    strncasecmp(addr, "no-reply@", 9) == 0)) ||
		    strncasecmp(addr, "owner-", 6) == 0)
			return 1;
		for (i = 0; suffix[i] != NULL; i++) {
			k = strlen(suffix[i]);
			if (n > k && strncasecmp(at - k, suffix[i], k) == 0)
				return 1;
		}
		for (i = 0; local[i] != NULL; i++)
			if (strlen(local[i]) == n &&
			    strncasecmp(addr, local[i], n) == 0)
				return 1;
	}
	for (i = 0; from != NULL && names[i] != NULL; i++)
		if (rules_bounce_find(from, strlen(from), names[i]) != NULL)
			return 1;
	return 0;
}
