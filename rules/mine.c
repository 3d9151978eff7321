/*
 * mine.c: distinctive long phrases of a message, for learning.
 *
 * The visible body text of each part is folded as the phrase matcher
 * folds it (rules_fold), split into words, and every window of
 * RULES_MINE_WORDS words is a candidate.  Windows that would junk wanted
 * mail or never recur are dropped: a word with a digit (order numbers,
 * prices, dates change from copy to copy) or longer than 24 bytes
 * (tokens, encoded junk), fewer than four words of four letters or more
 * that are not stop words (common English), and any boilerplate word of
 * footers and legal text; a line of the text with a footer word
 * (unsubscribe, mailing list, copyright...) is left out whole, so that
 * the list footer a spam picked up on its way is never learned.
 * Of the rest only those whose hash falls in one RULES_MINE_SAMPLE-th of
 * the hash space are reported: the choice depends on the words alone, so
 * two messages sharing a passage report the same windows of it, and the
 * ham evidence taken the same way covers every window a spam could
 * report.  The text read and the windows reported are capped, so the
 * cost per message does not depend on its size or on the store.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rules-private.h"

#define WORD_MAX	24	/* bytes; longer words end a window */
#define MINE_SEEN	1024u	/* distinct windows remembered */

static const char *const stop_words[] = {
	"a", "about", "after", "all", "also", "am", "an", "and", "any", "are",
	"as", "at", "be", "been", "but", "by", "can", "could", "do", "does",
	"for", "from", "get", "had", "has", "have", "he", "her", "here",
	"him", "his", "how", "i", "if", "in", "into", "is", "it", "its",
	"just", "me", "more", "my", "no", "not", "now", "of", "on", "one",
	"only", "or", "our", "out", "over", "please", "so", "some", "than",
	"that", "the", "their", "them", "then", "there", "these", "they",
	"this", "to", "up", "us", "was", "we", "were", "what", "when",
	"which", "who", "will", "with", "would", "you", "your",
};

/* Footer and legal words: a window with one is the same in wanted mail
 * from the same sending platforms. */
static const char *const boiler_words[] = {
	"unsubscribe", "unsubscribed", "subscribe", "subscribed",
	"subscription", "subscriber", "privacy", "copyright", "reserved",
	"trademark", "trademarks", "disclaimer", "confidential",
	"confidentiality", "intended", "recipient", "recipients", "optout",
	"opt", "newsletter", "mailing", "preferences", "browser",
	"policy", "terms", "conditions",
	"rights", "inc", "ltd", "llc", "gmbh", "wrote", "forwarded",
	"original", "reply",
	/* URLs written in the text: their hosts are learned as hosts */
	"http", "https", "www", "ftp", "mailto", "html", "htm", "php", "asp",
	"aspx", "cgi", "com", "net", "org",
};

/* A line holding one of these (ASCII, any case) is a footer line. */
static const char *const footer_marks[] = {
	"unsubscribe", "subscri", "listinfo", "mailman", "mailing list",
	"copyright", "rights reserved", "privacy", "newsletter", "opt-out",
	"opt out", "disclaimer", "confidential", "you are receiving",
	"you received this", "sent from my", "http", "www.",
};

static int
footer_line(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(footer_marks) / sizeof(footer_marks[0]); i++)
		if (rules_bounce_find(s, len, footer_marks[i]) != NULL)
			return 1;
	return 0;
}

static int
in_table(const char *const *tab, size_t n, const char *w, size_t len)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strlen(tab[i]) == len && memcmp(tab[i], w, len) == 0)
			return 1;
	return 0;
}

/* Word classes. */
#define W_BAD	1	/* ends every window holding it */
#define W_STOP	2

static int
word_class(const char *w, size_t len)
{
	size_t i;

	if (len > WORD_MAX)
		return W_BAD;
	for (i = 0; i < len; i++)
		if (w[i] >= '0' && w[i] <= '9')
			return W_BAD;
	if (in_table(boiler_words, sizeof(boiler_words) /
	    sizeof(boiler_words[0]), w, len))
		return W_BAD;
	if (in_table(stop_words, sizeof(stop_words) / sizeof(stop_words[0]),
	    w, len))
		return W_STOP;
	return 0;
}

static uint64_t
fnv(const char *s, size_t len)
{
	uint64_t h = 14695981039346656037ULL;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	/* Mixed: FNV's low bits alone are a poor sample. */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

struct word {
	const char *p;
	size_t	 len;
	int	 cls;
};

struct mine {
	void	(*fn)(void *, const char *);
	void	*ctx;
	unsigned max, n;
	uint64_t seen[MINE_SEEN];
	size_t	 nseen;
};

static int
seen_add(struct mine *m, uint64_t h)
{
	size_t i;

	for (i = 0; i < m->nseen; i++)
		if (m->seen[i] == h)
			return 0;
	if (m->nseen < MINE_SEEN)
		m->seen[m->nseen++] = h;
	return 1;
}

/* The window of RULES_MINE_WORDS words ending at w[k], all of one
 * buffer (fold): report it when it passes. */
static void
window(struct mine *m, const struct word *w, size_t k)
{
	const struct word *first = &w[k + 1 - RULES_MINE_WORDS];
	char buf[RULES_MINE_WORDS * (WORD_MAX + 1)];
	size_t i, len, content = 0;
	uint64_t h;

	for (i = 0; i < RULES_MINE_WORDS; i++) {
		if (first[i].cls == W_BAD)
			return;
		if (first[i].cls != W_STOP && first[i].len >= 4)
			content++;
	}
	if (content < 4)
		return;
	len = (size_t)(w[k].p + w[k].len - first->p);
	if (len >= sizeof(buf))
		return;
	memcpy(buf, first->p, len);
	buf[len] = '\0';
	h = fnv(buf, len);
	if (h % RULES_MINE_SAMPLE != 0 || !seen_add(m, h))
		return;
	m->fn(m->ctx, buf);
	m->n++;
}

static void
mine_text(struct mine *m, const char *fold, size_t n)
{
	struct word w[RULES_MINE_WORDS];
	size_t i = 0, nw = 0, j;

	while (i < n && m->n < m->max) {
		while (i < n && fold[i] == ' ')
			i++;
		if (i == n)
			break;
		j = i;
		while (j < n && fold[j] != ' ')
			j++;
		/* A ring would do; shifting six entries is as cheap. */
		if (nw == RULES_MINE_WORDS) {
			memmove(w, w + 1, sizeof(w[0]) *
			    (RULES_MINE_WORDS - 1));
			nw--;
		}
		w[nw].p = fold + i;
		w[nw].len = j - i;
		w[nw].cls = word_class(fold + i, j - i);
		nw++;
		if (nw == RULES_MINE_WORDS)
			window(m, w, nw - 1);
		i = j;
	}
}

void
rules_mine_phrases(const struct rules_msg *msg, unsigned max,
    void (*fn)(void *ctx, const char *phrase), void *ctx)
{
	const struct rules_part *p;
	struct mine *m;
	size_t budget = RULES_MINE_BYTES, len, n, i, o, e;
	char *fold, *keep;

	m = calloc(1, sizeof(*m));
	fold = malloc(RULES_MINE_BYTES + 1);
	keep = malloc(RULES_MINE_BYTES + 1);
	if (m == NULL || fold == NULL || keep == NULL) {
		free(m);
		free(fold);
		free(keep);
		return;
	}
	m->fn = fn;
	m->ctx = ctx;
	m->max = max;
	for (i = 0; i < msg->nparts && budget > 0 && m->n < max; i++) {
		p = &msg->parts[i];
		if (p->kind == RULES_PART_SUBJECT)
			continue;
		len = p->len < budget ? p->len : budget;
		budget -= len;
		/* The lines that are not footer lines, joined. */
		for (o = 0, n = 0; o < len; o = e + 1) {
			e = o;
			while (e < len && p->text[e] != '\n')
				e++;
			if (!footer_line(p->text + o, e - o)) {
				memcpy(keep + n, p->text + o, e - o);
				n += e - o;
				keep[n++] = '\n';
			}
		}
		n = rules_fold(keep, n, fold);
		mine_text(m, fold, n);
	}
	free(keep);
	free(fold);
	free(m);
}
