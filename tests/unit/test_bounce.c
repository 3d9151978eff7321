/*
 * test_bounce.c: recognising bounces, complaints, auto-replies and read
 * receipts, and what they say of the original (bounce*.c), on the
 * fixtures in tests/fixtures/bounce: one per recogniser and per way the
 * original is quoted, and the look-alikes that must stay NONE.
 *
 * Small messages are built inline.  Paths are relative to the source
 * tree: run from its top, or set TOP.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rules-private.h"
#include "tests/unit/test.h"

#define FX	"tests/fixtures/bounce/"

static char *
slurp(const char *name, size_t *len_r)
{
	char path[1024];
	const char *top;
	FILE *fp;
	char *buf = NULL;
	long n;

	top = getenv("TOP");
	snprintf(path, sizeof(path), "%s/%s", top != NULL ? top : ".", name);
	fp = fopen(path, "rb");
	if (fp == NULL) {
		T_FAILF("cannot open %s", path);
		return NULL;
	}
	if (fseek(fp, 0, SEEK_END) == 0) {
		n = ftell(fp);
		if (n >= 0 && fseek(fp, 0, SEEK_SET) == 0) {
			buf = malloc((size_t)n + 1);
			if (buf != NULL)
				*len_r = fread(buf, 1, (size_t)n, fp);
		}
	}
	fclose(fp);
	return buf;
}

/* Parses raw and analyses it into *b; returns the view (caller frees). */
static struct rules_msg *
analyse(const char *raw, size_t len, struct rules_bounce *b)
{
	struct rules_msg *m = NULL;
	char err[64] = "";

	memset(b, 0, sizeof(*b));
	if (rules_msg_parse(raw, len, NULL, &m, err, sizeof(err)) == -1) {
		T_FAILF("rules_msg_parse: %s", err);
		return NULL;
	}
	if (rules_bounce_analyse(m, b) == -1)
		T_FAILF("rules_bounce_analyse: out of memory");
	return m;
}

static struct rules_msg *
analyse_file(const char *name, struct rules_bounce *b)
{
	struct rules_msg *m;
	size_t len = 0;
	char *raw;

	memset(b, 0, sizeof(*b));
	raw = slurp(name, &len);
	if (raw == NULL)
		return NULL;
	m = analyse(raw, len, b);
	free(raw);
	return m;
}

static struct rules_msg *
analyse_str(const char *raw, struct rules_bounce *b)
{
	return analyse(raw, strlen(raw), b);
}

static const char *
id_at(const struct rules_bounce *b, size_t i)
{
	return i < b->nids ? b->ids[i].id : NULL;
}

static const char *
where_at(const struct rules_bounce *b, size_t i)
{
	return i < b->nids ? b->ids[i].where : NULL;
}

/* One fixture per recogniser and per way the original is quoted. */
static const struct fixture {
	const char *file;
	enum rules_report kind;
	int	 delayed;
	size_t	 nids;
	const char *id0, *where0, *id1;
	const char *from, *to, *subject;
	int64_t	 date;
	const char *rcpt;
} fixtures[] = {
	{ "dsn-rfc822.eml", RULES_REPORT_DSN, 0, 1,
	  "orig-1001@laptop.example.com", "message/rfc822", NULL,
	  "alice@example.com", "bob@example.org", "Caf\xc3\xa9 plans",
	  1710238495, "bob@example.org" },
	{ "dsn-headers.eml", RULES_REPORT_DSN, 0, 1,
	  "CAF-headers-2002@mail.example.com", "text/rfc822-headers",
	  NULL, "carol@example.com", "dave@example.org",
	  "Quarterly numbers", 1710334790, "dave@example.org" },
	{ "dsn-base64.eml", RULES_REPORT_DSN, 0, 1,
	  "b64-3003@mail.example.com", "message/rfc822", NULL,
	  "erin@example.com", "frank@example.org", "Minutes",
	  1710403200, "frank@example.org" },
	{ "dsn-delay.eml", RULES_REPORT_DSN, 1, 1,
	  "delay-4004@mail.example.com", "text/rfc822-headers", NULL,
	  "grace@example.com", "heidi@example.org", "Tickets",
	  1710489540, "heidi@example.org" },
	{ "dsn-global.eml", RULES_REPORT_DSN, 0, 1,
	  "global-5005@mail.example.com", "message/global", NULL,
	  "ivan@example.com", "judy@example.org",
	  "Gr\xc3\xbc\xc3\x9f" "e", 1710583080, "judy@example.org" },
	{ "qmail.eml", RULES_REPORT_NDR, 0, 1,
	  "qmail-6006@host.example.com", "inline headers", NULL,
	  "ken@example.com", "laura@example.org", "Report draft",
	  1710673198, "laura@example.org" },
	{ "exim.eml", RULES_REPORT_NDR, 0, 1,
	  "exim-7007@pc.example.com", "inline headers", NULL,
	  "mallory@example.com", "nina@example.org", "Invoice 12",
	  1710770390, "nina@example.org" },
	{ "postfix-noreport.eml", RULES_REPORT_NDR, 0, 1,
	  "20240319085900.postfix-8008@old.example.net",
	  "inline headers", NULL, "oscar@example.com",
	  "peggy@example.org", "Weekend", 1710838740,
	  "peggy@example.org" },
	{ "exchange-folded.eml", RULES_REPORT_NDR, 0, 1,
	  "AM0PR01MB-exch-9009@AM0PR01MB.eurprd01.example.com",
	  "inline headers", NULL, "quentin@example.com",
	  "rita@example.org", "Budget review", 1710950395,
	  "rita@example.org" },
	{ "quoted.eml", RULES_REPORT_NDR, 0, 1,
	  "quoted-1010@desk.example.com", "inline headers", NULL,
	  "sam@example.com", "tina@example.org", "Lunch on Friday",
	  1711004310, "tina@example.org" },
	{ "orig-msgid-field.eml", RULES_REPORT_DSN, 0, 1,
	  "field-1111@mail.example.com", "delivery-status", NULL,
	  NULL, NULL, NULL, 0, "victor@example.org" },
	{ "noid.eml", RULES_REPORT_NDR, 0, 0, NULL, NULL, NULL,
	  "hank@example.com", "iris@example.org", "Plans",
	  1711983480, "iris@example.org" },
	{ "arf.eml", RULES_REPORT_ARF, 0, 1,
	  "arf-1212@mail.example.com", "ARF reported message", NULL,
	  "wendy@example.com", "xavier@isp.example.net",
	  "Spring sale", 1711187940, "xavier@isp.example.net" },
	{ "hotmail-complaint.eml", RULES_REPORT_ARF, 0, 1,
	  "hm-1313@news.example.com", "ARF reported message", NULL,
	  "news@example.com", "yolanda@hotmail.com", "Weekly digest",
	  1711299600, "yolanda@hotmail.com" },
	{ "autoreply-irt.eml", RULES_REPORT_AUTOREPLY, 0, 2,
	  "kickoff-1414@mail.example.com", "In-Reply-To",
	  "thread-start-1@mail.example.com", NULL, NULL, NULL, 0,
	  NULL },
	{ "autoreply-refs.eml", RULES_REPORT_AUTOREPLY, 0, 2,
	  "offer-1616@mail.example.com", "References",
	  "first-1515@mail.example.com", NULL, NULL, NULL, 0, NULL },
	{ "challenge.eml", RULES_REPORT_AUTOREPLY, 0, 1,
	  "ask-1717@mail.example.com", "References", NULL, NULL, NULL,
	  NULL, 0, NULL },
	{ "mdn.eml", RULES_REPORT_MDN, 0, 2,
	  "contract-1919@mail.example.com", "Original-Message-ID",
	  "contract-1818@mail.example.com", NULL, NULL, NULL, 0,
	  "dan@example.org" },
	{ "phish-report.eml", RULES_REPORT_NONE, 0, 0, NULL, NULL,
	  NULL, NULL, NULL, NULL, 0, NULL },
	{ "list.eml", RULES_REPORT_NONE, 0, 0, NULL, NULL, NULL, NULL,
	  NULL, NULL, 0, NULL },
	{ "reply.eml", RULES_REPORT_NONE, 0, 0, NULL, NULL, NULL, NULL,
	  NULL, NULL, 0, NULL },
};

static void
test_fixtures(void)
{
	const struct fixture *t = fixtures;
	struct rules_bounce b;
	struct rules_msg *m;
	char name[128];
	size_t i;
	int failed;

	for (i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) {
		snprintf(name, sizeof(name), FX "%s", t[i].file);
		m = analyse_file(name, &b);
		if (m == NULL)
			continue;
		failed = t_cur_failed;
		t_cur_failed = 0;
		T_INTEQ(b.kind, t[i].kind);
		T_INTEQ(b.delayed, t[i].delayed);
		T_INTEQ(b.nids, t[i].nids);
		T_STREQ(id_at(&b, 0), t[i].id0);
		T_STREQ(where_at(&b, 0), t[i].where0);
		T_STREQ(id_at(&b, 1), t[i].id1);
		T_STREQ(b.orig_from, t[i].from);
		T_STREQ(b.orig_to, t[i].to);
		T_STREQ(b.orig_subject, t[i].subject);
		T_INTEQ(b.orig_date, t[i].date);
		T_STREQ(b.final_rcpt, t[i].rcpt);
		T_ASSERT((b.kind == RULES_REPORT_NONE) == (b.why == NULL));
		if (t_cur_failed)
			printf("  (in %s: %s, %s)\n", t[i].file,
			    rules_report_name(b.kind),
			    b.why != NULL ? b.why : "-");
		t_cur_failed |= failed;
		rules_bounce_free(&b);
		rules_msg_free(&m);
	}
}

/* The view keeps what the analysis needs: every MIME node, report
 * parts decoded with their fields, nested headers. */
static void
test_view(void)
{
	struct rules_bounce b;
	struct rules_msg *m;
	const struct rules_mime *x;

	m = analyse_file(FX "dsn-base64.eml", &b);
	if (m == NULL)
		return;
	T_INTEQ(m->nmime, 5);
	if (m->nmime == 5) {
		x = m->mime;
		T_STREQ(x[0].type, "multipart/report");
		T_STREQ(x[0].where, "");
		T_STREQ(x[0].report_type, "delivery-status");
		T_STREQ(x[1].type, "text/plain");
		T_ASSERT(x[1].text != RULES_NOTEXT &&
		    m->parts[x[1].text].kind == RULES_PART_PLAIN);
		T_STREQ(x[2].type, "message/delivery-status");
		T_STREQ(x[2].where, "2");
		T_ASSERT(x[2].body != NULL &&
		    strstr(x[2].body, "Action: failed") != NULL);
		T_INTEQ(x[2].nhdrs, 4);
		T_STREQ(x[2].nhdrs == 4 ? x[2].hdrs[1].value : NULL,
		    "rfc822;frank@example.org");
		T_STREQ(x[3].type, "message/rfc822");
		T_INTEQ(x[3].nest, 0);
		T_ASSERT(x[3].body == NULL && x[3].nhdrs == 7);
		T_STREQ(x[3].nhdrs > 0 ? x[3].hdrs[0].name : NULL,
		    "Message-ID");
		T_STREQ(x[4].type, "text/plain");	/* decoded, walked */
		T_INTEQ(x[4].nest, 1);
	}
	rules_bounce_free(&b);
	rules_msg_free(&m);

	m = analyse_file(FX "dsn-rfc822.eml", &b);
	if (m == NULL)
		return;
	T_INTEQ(m->nmime, 5);
	if (m->nmime == 5) {
		T_STREQ(m->mime[4].type, "text/plain");
		T_INTEQ(m->mime[4].nest, 1);
		T_STREQ(m->mime[3].hdrs[4].value, "Alice Example "
		    "<Alice@Example.com>");
	}
	rules_bounce_free(&b);
	rules_msg_free(&m);
}

/* The notice's own Message-ID is never a candidate; repeats are kept
 * once. */
static void
test_candidates(void)
{
	static const char own[] =
	    "Return-Path: <>\n"
	    "From: MAILER-DAEMON@mx.example.net\n"
	    "Subject: Undelivered Mail Returned to Sender\n"
	    "Message-ID: <same-1@mx.example.net>\n"
	    "In-Reply-To: <other-2@mail.example.com>\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: multipart/report; report-type=delivery-status;"
	    " boundary=\"b\"\n\n"
	    "--b\nContent-Type: message/delivery-status\n\n"
	    "Final-Recipient: rfc822; x@example.org\nAction: failed\n\n"
	    "--b\nContent-Type: message/rfc822\n\n"
	    "Message-ID: <SAME-1@mx.example.net>\n"
	    "References: <other-2@mail.example.com>\n\nbody\n--b--\n";
	struct rules_bounce b;
	struct rules_msg *m;

	m = analyse_str(own, &b);
	T_INTEQ(b.kind, RULES_REPORT_DSN);
	T_INTEQ(b.nids, 1);
	T_STREQ(id_at(&b, 0), "other-2@mail.example.com");
	T_STREQ(where_at(&b, 0), "In-Reply-To");
	rules_bounce_free(&b);
	rules_msg_free(&m);
}

/* A bounce quoted in turn (forwarded, or wrapped by a gateway): its own
 * header is not the original's. */
static void
test_rebounced(void)
{
	struct rules_bounce b;
	struct rules_msg *m;

	m = analyse_str("From: ann@example.com\nSubject: Fwd: Undelivered "
	    "Mail Returned to Sender\nMessage-ID: <fwd-1@example.com>\n"
	    "References: <sent-3@example.com>\n\nSee below.\n\n"
	    "> From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\n"
	    "> Subject: Undelivered Mail Returned to Sender\n"
	    "> Message-Id: <bounce-4@mx.example.net>\n>\n"
	    "> This is the mail system at host mx.example.net.\n>\n"
	    "> From: ann@example.com\n> To: bo@example.org\n"
	    "> Subject: Hi\n> Date: Mon, 1 Apr 2024 10:00:00 +0000\n", &b);
	T_INTEQ(b.kind, RULES_REPORT_NDR);
	T_INTEQ(b.nids, 1);
	T_STREQ(id_at(&b, 0), "sent-3@example.com");
	T_STREQ(b.orig_to, "bo@example.org");
	rules_bounce_free(&b);
	rules_msg_free(&m);

	/* A gateway's notice wrapping the DSN it got. */
	m = analyse_str("Return-Path: <>\nFrom: MAILER-DAEMON@gw.example.net"
	    "\nSubject: Returned mail\nMessage-ID: <wrap@gw.example.net>\n"
	    "Content-Type: multipart/mixed; boundary=\"o\"\n\n--o\n"
	    "Content-Type: text/plain\n\nSee the attached report.\n--o\n"
	    "Content-Type: message/rfc822\n\nFrom: Mail Delivery Subsystem "
	    "<MAILER-DAEMON@mx.example.net>\nMessage-ID: <dsn@mx.example.net>"
	    "\nContent-Type: multipart/report; report-type=delivery-status;"
	    " boundary=\"i\"\n\n--i\nContent-Type: message/rfc822\n\n"
	    "From: ann@example.com\nMessage-ID: <sent-5@example.com>\n\n"
	    "Hi.\n--i--\n--o--\n", &b);
	T_INTEQ(b.kind, RULES_REPORT_NDR);
	T_STREQ(id_at(&b, 0), "sent-5@example.com");
	T_STREQ(b.orig_from, "ann@example.com");
	rules_bounce_free(&b);
	rules_msg_free(&m);
}

/* At most RULES_BOUNCE_MAXIDS candidates, References last first. */
static void
test_cap(void)
{
	char refs[2048], raw[4096];
	struct rules_bounce b;
	struct rules_msg *m;
	size_t i, n;

	n = 0;
	for (i = 0; i < 20; i++)
		n += (size_t)snprintf(refs + n, sizeof(refs) - n,
		    " <r%zu@example.com>", i);
	snprintf(raw, sizeof(raw), "From: a@example.org\n"
	    "Subject: Out of Office\nAuto-Submitted: auto-replied\n"
	    "Message-ID: <r19@example.com>\nReferences:%s\n\nAway.\n", refs);
	m = analyse_str(raw, &b);
	T_INTEQ(b.kind, RULES_REPORT_AUTOREPLY);
	T_INTEQ(b.nids, RULES_BOUNCE_MAXIDS);
	T_STREQ(id_at(&b, 0), "r18@example.com");	/* r19 is its own */
	T_STREQ(id_at(&b, 7), "r11@example.com");
	rules_bounce_free(&b);
	rules_bounce_free(&b);		/* freeing twice is harmless */
	T_ASSERT(b.ids == NULL && b.nids == 0 && b.why == NULL);
	rules_msg_free(&m);
}

/* Signs, alone and together: two must agree unless one is proof. */
static const struct sign {
	const char *hdrs, *body;
	enum rules_report kind;
} signs[] = {
	/* A subject alone is not enough... */
	{ "From: Ann <ann@example.org>\nSubject: Mail delivery failed",
	  "Hi, lunch?", RULES_REPORT_NONE },
	{ "From: Ann <ann@example.org>\nSubject: Unzustellbar: Treffen",
	  "Bis morgen.", RULES_REPORT_NONE },
	/* ...unless the sender or the body agrees. */
	{ "From: postmaster@mx.example.de\nSubject: Unzustellbar: "
	  "Treffen", "Ihre Nachricht konnte nicht zugestellt werden.",
	  RULES_REPORT_NDR },
	{ "From: Postmaster <postmaster@example.fr>\nSubject: Non "
	  "remis : Rapport", "Votre message n'a pas pu \xc3\xaatre remis.",
	  RULES_REPORT_NDR },
	{ "From: postmaster@example.es\nSubject: No se puede entregar: "
	  "Informe", "No se pudo entregar el mensaje.",
	  RULES_REPORT_NDR },
	{ "Return-Path: <>\nFrom: postmaster@example.jp\nSubject: "
	  "=?ISO-2022-JP?B?GyRCR1s/LiUoJWkhPBsoQg==?=",
	  "User unknown", RULES_REPORT_NDR },
	{ "From: Gateway <gw@example.net>\nSubject: Nondeliverable "
	  "mail", "This is the mail system at host gw.example.net.",
	  RULES_REPORT_NDR },
	/* A mail-system sender with an ordinary subject and text. */
	{ "From: postmaster@example.net\nSubject: Your new account",
	  "Welcome aboard.", RULES_REPORT_NONE },
	{ "Return-Path: <>\nFrom: MAILER-DAEMON@example.net\nSubject: "
	  "Notice", "Your message was rejected: mailbox quota full.",
	  RULES_REPORT_NDR },
	{ "From: x@example.net\nX-Failed-Recipients: y@example.org\n"
	  "Subject: x", "x", RULES_REPORT_NDR },
	/* A person answering about a bounce. */
	{ "From: Bo <bo@example.org>\nSubject: Re: Undelivered Mail "
	  "Returned to Sender\nIn-Reply-To: <a@example.com>",
	  "I got this: could not be delivered.", RULES_REPORT_NONE },
	/* Auto-replies. */
	{ "From: c@example.org\nSubject: Hello\nAuto-Submitted: no",
	  "x", RULES_REPORT_NONE },
	{ "From: c@example.org\nSubject: Hello\nX-Autoreply: yes",
	  "x", RULES_REPORT_AUTOREPLY },
	{ "From: c@example.org\nSubject: Hello\nPrecedence: auto_reply",
	  "x", RULES_REPORT_AUTOREPLY },
	{ "From: c@example.org\nSubject: Out of Office: Hello",
	  "Back soon.", RULES_REPORT_NONE },
	{ "From: c@example.org\nSubject: Out of Office: Hello",
	  "I am away until Monday.", RULES_REPORT_AUTOREPLY },
	{ "From: c@example.org\nSubject: R\xc3\xa9ponse automatique : "
	  "Hello\nIn-Reply-To: <h@example.com>", "Absent.",
	  RULES_REPORT_AUTOREPLY },
	{ "From: c@example.org\nSubject: =?ISO-2022-JP?B?"
	  "GyRCPCtGMDF+RXobKEI=?=\nAuto-Submitted: auto-generated",
	  "x", RULES_REPORT_AUTOREPLY },
	{ "From: c@example.org\nSubject: Out of office\nAuto-Submitted:"
	  " auto-replied\nList-Id: <l.example.org>", "x",
	  RULES_REPORT_NONE },
	{ "From: Boxguard <confirm@cr.example.net>\nSubject: Please "
	  "confirm your message", "Phishing-free text.",
	  RULES_REPORT_NONE },
};

static void
test_signs(void)
{
	const struct sign *t = signs;
	struct rules_bounce b;
	struct rules_msg *m;
	char raw[1024];
	size_t i;

	for (i = 0; i < sizeof(signs) / sizeof(signs[0]); i++) {
		snprintf(raw, sizeof(raw), "%s\nMessage-ID: <n%zu@x.example>"
		    "\n\n%s\n", t[i].hdrs, i, t[i].body);
		m = analyse_str(raw, &b);
		if (b.kind != t[i].kind)
			T_FAILF("row %zu: %s (%s), want %s", i,
			    rules_report_name(b.kind), b.why != NULL ? b.why :
			    "-", rules_report_name(t[i].kind));
		rules_bounce_free(&b);
		rules_msg_free(&m);
	}
}

/*
 * The families of issue 13, one message or more each, written here: mail
 * nobody tuned the recognisers on.  id0 NULL: no candidate wanted.
 */
#define RP	"Return-Path: <>\n"
#define MV	"MIME-Version: 1.0\n"
static const struct family {
	const char *family, *raw;
	enum rules_report kind;
	const char *id0;
} families[] = {
	/* auto-replies in other languages: subject and wording only */
	{ "autoreply-pl", "From: Jan <jan@example.pl>\nSubject: Automatyczna "
	  "odpowied\xc5\xba: Oferta\n\nDzi\xc4\x99kuj\xc4\x99 za wiadomo\xc5"
	  "\x9b\xc4\x87. Jestem nieobecny do 12 maja.\n",
	  RULES_REPORT_AUTOREPLY, NULL },
	{ "autoreply-cs", "From: Petr <petr@example.cz>\nSubject: Automatick"
	  "\xc3\xa1 odpov\xc4\x9b\xc4\x8f: Schuzka\n\nDobr\xc3\xbd den, jsem "
	  "na dovolen\xc3\xa9 do pond\xc4\x9bl\xc3\xad.\n",
	  RULES_REPORT_AUTOREPLY, NULL },
	{ "autoreply-es", "From: Ana <ana@example.es>\nSubject: Respuesta "
	  "autom\xc3\xa1tica: Pedido\n\nEstoy fuera de la oficina hasta el "
	  "lunes.\n", RULES_REPORT_AUTOREPLY, NULL },
	{ "autoreply-pt", "From: Rui <rui@example.pt>\nSubject: Resposta "
	  "autom\xc3\xa1tica: Proposta\n\nEstou de f\xc3\xa9rias at\xc3\xa9 "
	  "dia 3.\n", RULES_REPORT_AUTOREPLY, NULL },
	{ "autoreply-it", "From: Gino <gino@example.it>\nSubject: Risposta "
	  "automatica: Preventivo\n\nSono assente fino al 10 giugno.\n",
	  RULES_REPORT_AUTOREPLY, NULL },
	{ "autoreply-fr", "From: Luc <luc@example.fr>\nSubject: =?UTF-8?Q?"
	  "R=C3=A9ponse_automatique=C2=A0:_Devis?=\n\nJe suis en cong\xc3\xa9"
	  "s jusqu'au 5 ao\xc3\xbbt.\n", RULES_REPORT_AUTOREPLY, NULL },
	{ "autoreply-de", "From: Uwe <uwe@example.de>\nSubject: Abwesenheitsn"
	  "otiz: Angebot\n\nIch bin bis zum 3. Mai im Urlaub.\n",
	  RULES_REPORT_AUTOREPLY, NULL },
	{ "autoreply-nl", "From: Bram <bram@example.nl>\nSubject: Automatisch "
	  "antwoord: Offerte\n\nIk ben met vakantie tot 4 juli.\n",
	  RULES_REPORT_AUTOREPLY, NULL },
	{ "autoreply-ja", "From: taro@example.jp\nSubject: =?UTF-8?B?"
	  "6Ieq5YuV5b+c562UOiDjgYrlp4vjgoE=?=\n\n\xe7\x8f\xbe\xe5\x9c\xa8"
	  "\xe4\xb8\x8d\xe5\x9c\xa8\xe3\x81\xa7\xe3\x81\x99\xe3\x80\x82\n",
	  RULES_REPORT_AUTOREPLY, NULL },	/* 自動応答 / 現在不在です */
	{ "autoreply-zh", "From: li@example.cn\nSubject: \xe8\x87\xaa\xe5\x8a"
	  "\xa8\xe5\x9b\x9e\xe5\xa4\x8d: \xe6\x8a\xa5\xe4\xbb\xb7\n\n\xe6\x88"
	  "\x91\xe6\xad\xa3\xe5\x9c\xa8\xe4\xbc\x91\xe5\x81\x87\xe3\x80\x82\n",
	  RULES_REPORT_AUTOREPLY, NULL },	/* 自动回复 / 我正在休假 */
	{ "autoreply-ru", "From: ivan@example.ru\nSubject: \xd0\x90\xd0\xb2"
	  "\xd1\x82\xd0\xbe\xd0\xbe\xd1\x82\xd0\xb2\xd0\xb5\xd1\x82: \xd0\x97"
	  "\xd0\xb0\xd0\xba\xd0\xb0\xd0\xb7\n\n\xd0\xaf \xd0\xb2 \xd0\xbe"
	  "\xd1\x82\xd0\xbf\xd1\x83\xd1\x81\xd0\xba\xd0\xb5 \xd0\xb4\xd0\xbe "
	  "10 \xd0\xbc\xd0\xb0\xd1\x8f.\n",
	  RULES_REPORT_AUTOREPLY, NULL },	/* Автоответ / Я в отпуске */
	{ "autoreply-tr", "From: ayse@example.com.tr\nSubject: Otomatik "
	  "yan\xc4\xb1t: Teklif\n\n\xc5\x9eu anda izindeyim, 7 Eyl\xc3\xbcl'de"
	  " d\xc3\xb6nece\xc4\x9fim.\n", RULES_REPORT_AUTOREPLY, NULL },
	/* the header signals */
	{ "autoreply-xmailer", "From: bo@example.org\nSubject: Re: Lunch\n"
	  "X-Mailer: vacation 1.2.7\nIn-Reply-To: <lunch-1@example.com>\n\n"
	  "Back on Monday.\n", RULES_REPORT_AUTOREPLY, "lunch-1@example.com" },
	{ "autoreply-precedence", "From: bo@example.org\nSubject: Re: Lunch\n"
	  "Precedence: junk\nIn-Reply-To: <lunch-2@example.com>\n\nThis "
	  "mailbox is not read.\n", RULES_REPORT_AUTOREPLY,
	  "lunch-2@example.com" },
	{ "autoreply-xautorespond", "From: bo@example.org\nSubject: Thanks\n"
	  "X-Autorespond: Thanks\nReferences: <lunch-3@example.com>\n\nx\n",
	  RULES_REPORT_AUTOREPLY, "lunch-3@example.com" },
	/* challenges in other languages */
	{ "challenge-de", "From: Filter <filter@example.de>\nSubject: Bitte "
	  "best\xc3\xa4tigen Sie Ihre Nachricht\nReferences: <ask-1@example."
	  "com>\n\nIhre Nachricht wurde zur\xc3\xbc" "ckgehalten. Bitte "
	  "best\xc3\xa4tigen Sie, dass Sie ein Mensch sind.\n",
	  RULES_REPORT_AUTOREPLY, "ask-1@example.com" },
	{ "challenge-fr", "From: Filtre <filtre@example.fr>\nSubject: "
	  "Confirmez votre message\n\nVotre message est en attente. Merci de "
	  "confirmer votre envoi en cliquant ici.\n",
	  RULES_REPORT_AUTOREPLY, NULL },
	/* mailing-list robots */
	{ "list-mailman-hold", "From: staff-bounces@lists.example.org\n"
	  "Subject: Your message to Staff awaits moderator approval\n\nYour "
	  "mail to 'Staff' with the subject\n\n    Cheap pills\n\nIs being "
	  "held until the list moderator can review it for approval.\n\nThe "
	  "reason it is being held:\n\n    Post by non-member to a members-"
	  "only list\n", RULES_REPORT_LIST, NULL },
	{ "list-mailman-reject", "From: staff-owner@lists.example.org\n"
	  "Subject: Request to mailing list Staff rejected\n" MV
	  "Content-Type: multipart/mixed; boundary=\"m\"\n\n--m\nContent-Type"
	  ": text/plain\n\nYour request to the Staff mailing list\n\n    "
	  "Posting of your message titled \"Hi\"\n\nhas been rejected by the "
	  "list moderator.\n--m\nContent-Type: message/rfc822\n\nFrom: me@"
	  "example.com\nTo: staff@lists.example.org\nSubject: Hi\nMessage-ID:"
	  " <post-1@example.com>\n\nHi.\n--m--\n", RULES_REPORT_LIST,
	  "post-1@example.com" },
	{ "list-sympa", "From: SYMPA <sympa@lists.example.fr>\nSubject: "
	  "Message distribution: Authorization denied\n\nYou are not allowed"
	  " to send messages to list team@lists.example.fr: you are not a "
	  "subscriber.\n\n> Message-ID: <post-2@example.com>\n> From: me@"
	  "example.com\n> Subject: Offer\n", RULES_REPORT_LIST,
	  "post-2@example.com" },
	{ "list-ezmlm", "From: team-help@lists.example.net\nSubject: "
	  "failure notice\n\nHi. This is the qmail-send program.\n\nSorry, "
	  "only subscribers may post. If you are a subscriber, please forward"
	  " this message to team-owner@lists.example.net.\n",
	  RULES_REPORT_LIST, NULL },
	{ "list-google", "From: Google Groups <noreply@googlegroups.com>\n"
	  "Subject: Message not delivered: Offer\n\nYou do not have "
	  "permission to post to the group team@googlegroups.com.\n",
	  RULES_REPORT_LIST, NULL },
	{ "list-listserv", "From: \"L-Soft list server\" <LISTSERV@LISTS."
	  "EXAMPLE.EDU>\nSubject: Message (\"Offer\") rejected\n\nYou are not"
	  " authorized to send mail to the TEAM-L list from your me@example."
	  "com account.\n", RULES_REPORT_LIST, NULL },
	{ "list-fml", "From: team-admin@example.jp\nSubject: fml "
	  "rejected your post\nX-ML-Name: team\n\nYou are not a member of "
	  "this mailing list <team@example.jp>.\n", RULES_REPORT_LIST, NULL },
	/* provider notices */
	{ "ses-json-bounce", "From: AWS Notifications <no-reply@sns."
	  "amazonaws.com>\nSubject: AWS Notification Message\n\n{\n  \"Type\""
	  " : \"Notification\",\n  \"Message\" : \"{\\\"notificationType\\\":"
	  " \\\"Bounce\\\", \\\"bounce\\\": {\\\"bounceType\\\": \\\"Permanent"
	  "\\\"}, \\\"mail\\\": {\\\"headers\\\": [{\\\"name\\\": \\\"Message-"
	  "ID\\\", \\\"value\\\": \\\"<ses-1@example.com>\\\"}]}}\"\n}\n",
	  RULES_REPORT_NDR, "ses-1@example.com" },
	{ "ses-json-complaint", "From: no-reply@sns.amazonaws.com\nSubject: "
	  "AWS Notification Message\n\n{\"notificationType\": \"Complaint\","
	  " \"complaint\": {\"complaintFeedbackType\": \"abuse\"}, \"mail\": "
	  "{\"commonHeaders\": {\"messageId\": \"<ses-2@example.com>\"}}}\n",
	  RULES_REPORT_ARF, "ses-2@example.com" },
	{ "abuse-complaint", "From: abuse@isp.example.net\nSubject: Spam "
	  "complaint about message from your network\n\nWe received a "
	  "complaint about the message below.\n\n-----Original Message-----\n"
	  "From: me@example.com\nTo: victim@isp.example.net\nSubject: Deal\n"
	  "Message-ID: <abuse-1@example.com>\n\nBuy now.\n",
	  RULES_REPORT_ARF, "abuse-1@example.com" },
	{ "dsn-text-quoted", RP "From: MAILER-DAEMON@mx.example.net\nSubject:"
	  " Delivery Status Notification (Failure)\n" MV "Content-Type: "
	  "multipart/report; report-type=delivery-status; boundary=\"r\"\n\n"
	  "--r\nContent-Type: text/plain\n\nDelivery failed.\n--r\nContent-"
	  "Type: message/delivery-status\n\nReporting-MTA: dns; mx.example."
	  "net\n\nFinal-Recipient: rfc822; x@example.org\nAction: failed\n"
	  "Status: 5.1.1\n--r\nContent-Type: text/plain\n\nX-Spam-Score: 0.1"
	  "\nDKIM-Signature: v=1; a=rsa-sha256; d=example.com;\n\tb=abc\n"
	  "From: me@example.com\nTo: x@example.org\nSubject: Hi\nMessage-ID: "
	  "<text-1@example.com>\n\nHi.\n--r--\n", RULES_REPORT_DSN,
	  "text-1@example.com" },
	/* quoted parts that are QP or base64 themselves */
	{ "quoted-qp", RP "From: MAILER-DAEMON@mx.example.net\nSubject: "
	  "Undelivered Mail Returned to Sender\n" MV "Content-Type: "
	  "multipart/report; report-type=delivery-status; boundary=\"r\"\n\n"
	  "--r\nContent-Type: text/plain\n\nFailed.\n--r\nContent-Type: "
	  "message/delivery-status\n\nFinal-Recipient: rfc822; x@example.org"
	  "\nAction: failed\n--r\nContent-Type: text/rfc822-headers\n"
	  "Content-Transfer-Encoding: quoted-printable\n\nFrom: me@example."
	  "com\nMessage-ID: <qp-1234567890abcdef=\n@example.com>\nSubject: "
	  "=3D Hi\n--r--\n", RULES_REPORT_DSN, "qp-1234567890abcdef@example.com" },
	{ "quoted-rfc822-qp", RP "From: MAILER-DAEMON@mx.example.net\n"
	  "Subject: Undelivered Mail Returned to Sender\n" MV "Content-Type: "
	  "multipart/report; report-type=delivery-status; boundary=\"r\"\n\n"
	  "--r\nContent-Type: message/delivery-status\n\nFinal-Recipient: "
	  "rfc822; x@example.org\nAction: failed\n--r\nContent-Type: message/"
	  "rfc822\nContent-Transfer-Encoding: quoted-printable\n\nFrom: me@"
	  "example.com\nSubject: =3D\nMessage-ID: <qp-2-0123456789abcdef0123="
	  "\n456789@example.com>\n\nHi=20there.\n--r--\n", RULES_REPORT_DSN,
	  "qp-2-0123456789abcdef0123456789@example.com" },
	{ "quoted-headers-b64", RP "From: MAILER-DAEMON@mx.example.net\n"
	  "Subject: Undelivered Mail Returned to Sender\n" MV "Content-Type: "
	  "multipart/report; report-type=delivery-status; boundary=\"r\"\n\n"
	  "--r\nContent-Type: message/delivery-status\n\nFinal-Recipient: "
	  "rfc822; x@example.org\nAction: failed\n--r\nContent-Type: text/"
	  "rfc822-headers\nContent-Transfer-Encoding: base64\n\nTWVzc2FnZS1J"
	  "RDogPGI2NC05QGV4YW1wbGUuY29tPgpGcm9tOiBtZUBleGFtcGxlLmNvbQo=\n"
	  "--r--\n", RULES_REPORT_DSN, "b64-9@example.com" },
	/* forwarded and double bounces: the innermost original decides */
	{ "double-bounce", RP "From: MAILER-DAEMON@mx2.example.net\nSubject:"
	  " Undelivered Mail Returned to Sender\n" MV "Content-Type: multipa"
	  "rt/report; report-type=delivery-status; boundary=\"o\"\n\n--o\n"
	  "Content-Type: text/plain\n\nFailed.\n--o\nContent-Type: message/"
	  "delivery-status\n\nFinal-Recipient: rfc822; me@example.com\nAction"
	  ": failed\n--o\nContent-Type: message/rfc822\n\nFrom: MAILER-DAEMON"
	  "@mx1.example.org\nSubject: Undelivered Mail Returned to Sender\n"
	  "Message-ID: <dsn-1@mx1.example.org>\n" MV "Content-Type: multipart"
	  "/report; report-type=delivery-status; boundary=\"i\"\n\n--i\n"
	  "Content-Type: message/delivery-status\n\nFinal-Recipient: rfc822; "
	  "x@example.org\nAction: failed\n--i\nContent-Type: message/rfc822\n"
	  "\nFrom: me@example.com\nMessage-ID: <inner-1@example.com>\n\nHi.\n"
	  "--i--\n--o--\n", RULES_REPORT_DSN, "inner-1@example.com" },
	{ "forwarded-bounce", "From: Ann <ann@example.com>\nSubject: Fwd: "
	  "Undelivered Mail Returned to Sender\n" MV "Content-Type: multipart"
	  "/mixed; boundary=\"f\"\n\n--f\nContent-Type: text/plain\n\nWhat "
	  "is this?\n--f\nContent-Type: message/rfc822\n\nReturn-Path: <>\n"
	  "From: MAILER-DAEMON@mx.example.net\nSubject: Undelivered Mail "
	  "Returned to Sender\nMessage-ID: <dsn-2@mx.example.net>\n" MV
	  "Content-Type: multipart/report; report-type=delivery-status; "
	  "boundary=\"i\"\n\n--i\nContent-Type: message/delivery-status\n\n"
	  "Final-Recipient: rfc822; x@example.org\nAction: failed\n--i\n"
	  "Content-Type: message/rfc822\n\nFrom: me@example.com\nMessage-ID: "
	  "<inner-2@example.com>\n\nHi.\n--i--\n--f--\n", RULES_REPORT_NDR,
	  "inner-2@example.com" },
	{ "double-bounce-inline", RP "From: MAILER-DAEMON@mx2.example.net\n"
	  "Subject: Undelivered Mail Returned to Sender\n" MV "Content-Type: "
	  "multipart/report; report-type=delivery-status; boundary=\"o\"\n\n"
	  "--o\nContent-Type: message/delivery-status\n\nFinal-Recipient: "
	  "rfc822; postmaster@mx1.example.org\nAction: failed\n--o\nContent-"
	  "Type: message/rfc822\n\nFrom: MAILER-DAEMON@mx1.example.org\n"
	  "Subject: failure notice\nMessage-ID: <q-1@mx1.example.org>\n\nHi. "
	  "This is the qmail-send program at mx1.example.org.\n\n--- Below "
	  "this line is a copy of the message.\n\nReturn-Path: <me@example."
	  "com>\nMessage-ID: <inner-3@example.com>\nFrom: me@example.com\n"
	  "\nHi.\n--o--\n", RULES_REPORT_DSN, "inner-3@example.com" },
	/* look-alikes that stay NONE */
	{ "list-post-about-members", "From: Ann <ann@example.org>\nList-Id: "
	  "<team.lists.example.org>\nSubject: Re: Posting rejected?\n\nYou "
	  "are not a member of the list, that is why.\n", RULES_REPORT_NONE,
	  NULL },
	{ "reply-in-spanish", "From: ana@example.es\nSubject: Re: Respuesta "
	  "autom\xc3\xa1tica: Pedido\nIn-Reply-To: <x@example.es>\n\n"
	  "\xc2\xbf" "Cu\xc3\xa1ndo vuelves?\n", RULES_REPORT_NONE, NULL },
	{ "google-groups-post", "From: 'Ann' via Team <team@googlegroups."
	  "com>\nSubject: Who may post?\nReferences: <q-1@example.org>\n\n"
	  "You are not a member of the group yet, so your post was rejected."
	  "\n", RULES_REPORT_NONE, NULL },
	{ "admin-person", "From: Bo <it-admin@example.org>\nSubject: Leave "
	  "request\nReferences: <leave-1@example.org>\n\nYour request has "
	  "been rejected.\n", RULES_REPORT_NONE, NULL },
	{ "list-owner-notice", "From: staff-owner@lists.example.org\n"
	  "Subject: Staff post from x@example.net requires approval\n\nAs "
	  "list administrator, your authorization is requested for the "
	  "following mailing list posting: Post by non-member to a members-"
	  "only list\n", RULES_REPORT_NONE, NULL },
	{ "ticket-bulk-reply", "From: support@rt.example.com\nSubject: Re: "
	  "[rt #12] Printer\nPrecedence: bulk\nIn-Reply-To: <rt-12@rt."
	  "example.com>\n\nTicket updated.\n", RULES_REPORT_NONE, NULL },
	{ "abuse-newsletter", "From: abuse@isp.example.net\nSubject: Our new "
	  "abuse policy\n\nWe updated our policy.\n", RULES_REPORT_NONE, NULL },
};

static void
test_families(void)
{
	const struct family *t = families;
	struct rules_bounce b;
	struct rules_msg *m;
	char raw[4096];
	size_t i;

	for (i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		snprintf(raw, sizeof(raw), "Message-ID: <fam%zu@x.example>\n"
		    "%s", i, t[i].raw);
		m = analyse_str(raw, &b);
		if (b.kind != t[i].kind)
			T_FAILF("%s: %s (%s), want %s", t[i].family,
			    rules_report_name(b.kind), b.why != NULL ? b.why :
			    "-", rules_report_name(t[i].kind));
		else if (t[i].id0 == NULL ? b.nids != 0 :
		    b.nids == 0 || strcmp(b.ids[0].id, t[i].id0) != 0)
			T_FAILF("%s: first id %s (%s), want %s", t[i].family,
			    b.nids > 0 ? b.ids[0].id : "none", b.nids > 0 ?
			    b.ids[0].where : "-", t[i].id0 != NULL ? t[i].id0 :
			    "none");
		rules_bounce_free(&b);
		rules_msg_free(&m);
	}
}

static void
test_names(void)
{
	T_STREQ(rules_report_name(RULES_REPORT_NONE), "none");
	T_STREQ(rules_report_name(RULES_REPORT_DSN), "dsn");
	T_STREQ(rules_report_name(RULES_REPORT_NDR), "ndr");
	T_STREQ(rules_report_name(RULES_REPORT_ARF), "arf");
	T_STREQ(rules_report_name(RULES_REPORT_AUTOREPLY), "autoreply");
	T_STREQ(rules_report_name(RULES_REPORT_MDN), "mdn");
	T_STREQ(rules_report_name(RULES_REPORT_LIST), "list");
	T_STREQ(rules_report_name((enum rules_report)99), "unknown");
}

/* No view, an empty one, and one libetpan cannot read. */
static void
test_edges(void)
{
	static const char *const raws[] = {
		"", "\n\n", "Subject: x\n",
		"Content-Type: multipart/report; boundary=\"\\\"\"\n\n--\"\n",
		"From: MAILER-DAEMON@x.example\nSubject: failure notice\n\n"
		"Message-ID:\n",
		"Return-Path: <>\nFrom: postmaster@x.example\nSubject: "
		"Returned mail\nContent-Type: text/plain\n\n> Message-ID: <\n"
		">\n> From:\n"
	};
	struct rules_bounce b;
	struct rules_msg *m;
	size_t i;

	T_INTEQ(rules_bounce_analyse(NULL, &b), 0);
	T_INTEQ(b.kind, RULES_REPORT_NONE);
	rules_bounce_free(NULL);
	for (i = 0; i < sizeof(raws) / sizeof(raws[0]); i++) {
		m = analyse_str(raws[i], &b);
		T_ASSERT(b.nids == 0);
		rules_bounce_free(&b);
		rules_msg_free(&m);
	}
}

/* Every prefix of the fixtures that quote inline or nest: cut headers,
 * folds and parts must not upset the scanners. */
static void
test_truncated(void)
{
	static const char *const files[] = {
		FX "qmail.eml", FX "exchange-folded.eml", FX "quoted.eml",
		FX "dsn-base64.eml", FX "dsn-global.eml", FX "arf.eml"
	};
	struct rules_bounce b;
	struct rules_msg *m;
	size_t f, k, len;
	char *raw, *buf;

	for (f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		len = 0;
		raw = slurp(files[f], &len);
		for (k = 0; raw != NULL && k <= len; k++) {
			buf = malloc(k > 0 ? k : 1);
			if (buf == NULL)
				break;
			memcpy(buf, raw, k);
			m = analyse(buf, k, &b);
			T_ASSERT(b.nids <= RULES_BOUNCE_MAXIDS);
			rules_bounce_free(&b);
			rules_msg_free(&m);
			free(buf);
		}
		free(raw);
	}
}

/* The header table bounce.c reads in one walk: its rule holds, and the
 * check that guards it refuses what would break hdr_find. */
static void
test_names_table(void)
{
	static const char *const clash[] = { "X-Mailer", "X-Mailed" };
	static const char *const longname[] = { "X-Twenty-Bytes-Name1" };
	static const char *const nonletter[] = { "1-Field" };
	static const char *const fine[] = { "From", "Fwd", "X-Mailer" };

	T_INTEQ(rules_bounce_names_check(NULL, 0), 0);
	T_INTEQ(rules_bounce_names_check(fine, 3), 0);
	T_INTEQ(rules_bounce_names_check(clash, 2), -1);
	T_INTEQ(strlen(longname[0]), 20);
	T_INTEQ(rules_bounce_names_check(longname, 1), -1);
	T_INTEQ(rules_bounce_names_check(nonletter, 1), -1);
}

int
main(void)
{
	T_RUN(test_fixtures);
	T_RUN(test_names_table);
	T_RUN(test_view);
	T_RUN(test_candidates);
	T_RUN(test_rebounced);
	T_RUN(test_cap);
	T_RUN(test_signs);
	T_RUN(test_families);
	T_RUN(test_names);
	T_RUN(test_edges);
	T_RUN(test_truncated);
	return t_done();
}
