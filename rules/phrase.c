/*
 * phrase.c: the look-up structures behind the rule set's matchers.
 *
 * Domains, phones and allow entries go in a string hash set: open
 * addressing, each slot holding a 32-bit hash and an entry index, entry
 * text in one arena, so a million entries cost three growing arrays and no
 * malloc each, and a miss usually touches a single cache line.
 *
 * Phrases arrive folded (rules_fold: lowercase words joined by single
 * spaces).  Each is kept as its bytes plus the 64-bit hashes of its words.
 * The index is keyed by the hash of a phrase's last two words, so a single
 * left-to-right walk over the text can test each word end: hash the word,
 * combine it with the previous word's hash, look the key up, and for each
 * candidate compare the earlier word hashes (kept in a small ring) and then
 * the bytes.  The work per word is one probe plus the candidates sharing
 * those two words, whatever the number of phrases.  A bitmap of the
 * phrases' last words spares the probe after most words when the phrases
 * are few; word hashes are plain FNV-1a, mixed only to make a key.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rules-private.h"

#define RING	64u		/* word hashes remembered while matching */
#define SEEN0	128u		/* matched phrases tracked without malloc */
#define LASTBITS 1024u		/* bits in the last-word bitmap */

struct phr {
	uint64_t key;		/* hash of the last two words */
	uint32_t off;		/* folded, then as written, in text[] */
	uint32_t len;
	uint32_t woff;		/* word hashes in words[] */
	uint32_t nwords;
	uint32_t next;		/* next phrase with the same key, index + 1 */
	uint32_t file;
	uint32_t line;
};

struct rules_phrases {
	struct phr *v;
	size_t	 n, cap;
	char	*text;
	size_t	 tlen, tcap;
	uint64_t *words;
	size_t	 nw, wcap;
	uint32_t *slots;	/* first phrase of a key, index + 1; 0 empty */
	size_t	 mask;
	size_t	 nkeys;
	uint64_t last[LASTBITS / 64];	/* last_bit() of last words */
};

/* Remembers which phrases were already reported in one call. */
struct seen {
	uint32_t *v;
	size_t	 mask, n;
	uint32_t stack[SEEN0];
};

static uint64_t
mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

static uint64_t
pair_key(uint64_t a, uint64_t b)
{
	return mix64(a * 0x9e3779b97f4a7c15ULL + (b ^ (b >> 29)));
}

#define FNV0	0xcbf29ce484222325ULL
#define FNVP	0x100000001b3ULL

/* ------------------------------------------------------------------ */
/* The string hash set.                                                 */

struct ss_ent {
	uint32_t off;		/* NUL-ended text in the arena */
	uint32_t line;
	uint32_t file;
	uint32_t flag;
};

struct rules_strset {
	uint64_t *slots;	/* hash << 32 | (index + 1); 0 is empty */
	size_t	 mask;
	struct ss_ent *v;
	size_t	 n, cap;
	char	*arena;
	size_t	 alen, acap;
};

/* FNV-1a over the bytes from last to first: one pass from the right end
 * of a host name yields the hash of each of its parent domains. */
static uint32_t
hash_str(const char *s, size_t len)
{
	uint64_t h = FNV0;

	while (len > 0)
		h = (h ^ (unsigned char)s[--len]) * FNVP;
	return (uint32_t)mix64(h);
}

static void
prefetch(const void *p)
{
#if defined(__GNUC__)
	__builtin_prefetch(p);
#else
	(void)p;
#endif
}

struct rules_strset *
rules_strset_new(void)
{
	return calloc(1, sizeof(struct rules_strset));
}

void
rules_strset_free(struct rules_strset **ss)
{
	if (ss == NULL || *ss == NULL)
		return;
	free((*ss)->slots);
	free((*ss)->v);
	free((*ss)->arena);
	free(*ss);
	*ss = NULL;
}

size_t
rules_strset_count(const struct rules_strset *ss)
{
	return ss != NULL ? ss->n : 0;
}

/* Returns the slot of s, or of the empty place it would take. */
static size_t
ss_slot(const struct rules_strset *ss, const char *s, size_t len, uint32_t h)
{
	const char *e;
	size_t	 i;

	for (i = h & ss->mask; ss->slots[i] != 0; i = (i + 1) & ss->mask) {
		if ((uint32_t)(ss->slots[i] >> 32) != h)
			continue;
		e = ss->arena + ss->v[(uint32_t)ss->slots[i] - 1].off;
		if (strncmp(e, s, len) == 0 && e[len] == '\0')
			break;
	}
	return i;
}

/* Moves the slots to a table of n (a power of two) slots. */
static int
ss_rehash(struct rules_strset *ss, size_t n)
{
	uint64_t *old = ss->slots;
	size_t	 oldn = old != NULL ? ss->mask + 1 : 0, i, j;

	ss->slots = calloc(n, sizeof(*ss->slots));
	if (ss->slots == NULL) {
		ss->slots = old;
		return -1;
	}
	ss->mask = n - 1;
	for (i = 0; i < oldn; i++) {
		if (old[i] == 0)
			continue;
		j = (old[i] >> 32) & ss->mask;
		while (ss->slots[j] != 0)
			j = (j + 1) & ss->mask;
		ss->slots[j] = old[i];
	}
	free(old);
	return 0;
}

int
rules_strset_add(struct rules_strset *ss, const char *s, unsigned file,
    unsigned line, unsigned flag)
{
	size_t	 len = strlen(s), i;
	uint32_t h = hash_str(s, len);
	struct ss_ent *e;

	if ((ss->slots == NULL || (ss->n + 1) * 2 > ss->mask + 1) &&
	    ss_rehash(ss, ss->slots != NULL ? (ss->mask + 1) * 2 : 256) == -1)
		return -1;
	i = ss_slot(ss, s, len, h);
	if (ss->slots[i] != 0)
		return 0;
	if (ss->n >= UINT32_MAX - 1 || ss->alen + len + 1 > UINT32_MAX ||
	    rules_grow((void **)&ss->v, &ss->cap, ss->n + 1,
	    sizeof(*ss->v)) == -1 || rules_grow((void **)&ss->arena,
	    &ss->acap, ss->alen + len + 1, 1) == -1)
		return -1;
	memcpy(ss->arena + ss->alen, s, len + 1);
	e = &ss->v[ss->n++];
	e->off = (uint32_t)ss->alen;
	e->line = line;
	e->file = file;
	e->flag = flag;
	ss->slots[i] = (uint64_t)h << 32 | ss->n;
	ss->alen += len + 1;
	return 1;
}

int
rules_strset_get(const struct rules_strset *ss, const char *s, size_t len,
    struct rules_origin *o)
{
	const struct ss_ent *e;
	size_t	 i;

	if (ss == NULL || ss->n == 0)
		return 0;
	i = ss_slot(ss, s, len, hash_str(s, len));
	if (ss->slots[i] == 0)
		return 0;
	e = &ss->v[(uint32_t)ss->slots[i] - 1];
	o->entry = ss->arena + e->off;
	o->file = e->file;
	o->line = e->line;
	o->flag = e->flag;
	return 1;
}

/*
 * Hashes every parent of host first and prefetches its slot, so that the
 * cache misses of a big set overlap instead of adding up; then probes
 * from the whole host down to two labels.
 */
int
rules_strset_get_host(const struct rules_strset *ss, const char *host,
    struct rules_origin *o)
{
	size_t	 len = strlen(host), start[RULES_HOST_MAX / 2 + 1], n = 0, i;
	uint32_t hs[RULES_HOST_MAX / 2 + 1];
	uint64_t h = FNV0;
	const struct ss_ent *e;

	if (ss == NULL || ss->n == 0 || len == 0)
		return 0;
	for (i = len; i-- > 0 && len - i < RULES_HOST_MAX;) {
		h = (h ^ (unsigned char)host[i]) * FNVP;
		if (i > 0 && host[i - 1] != '.')
			continue;
		start[n] = i;
		hs[n] = (uint32_t)mix64(h);
		prefetch(&ss->slots[hs[n] & ss->mask]);
		n++;
	}
	while (n > 1 || (n == 1 && start[0] == 0)) {
		n--;
		i = ss_slot(ss, host + start[n], len - start[n], hs[n]);
		if (ss->slots[i] == 0)
			continue;
		e = &ss->v[(uint32_t)ss->slots[i] - 1];
		if (start[n] != 0 && e->flag != 0)
			continue;
		o->entry = ss->arena + e->off;
		o->file = e->file;
		o->line = e->line;
		o->flag = e->flag;
		return 1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* The phrase index.                                                    */

/* A word's bit in the last-word bitmap: the top bits of its FNV-1a hash,
 * which the last multiplications mixed best. */
static size_t
last_bit(uint64_t h)
{
	return (size_t)(h >> 54);
}

static void
last_add(struct rules_phrases *ph, uint64_t h)
{
	size_t	 b = last_bit(h);

	ph->last[b / 64] |= (uint64_t)1 << (b % 64);
}

/* May a phrase end with the word of hash h? */
static int
maybe_last(const struct rules_phrases *ph, uint64_t h)
{
	size_t	 b = last_bit(h);

	return (ph->last[b / 64] >> (b % 64) & 1) != 0;
}

struct rules_phrases *
rules_phrases_new(void)
{
	return calloc(1, sizeof(struct rules_phrases));
}

void
rules_phrases_free(struct rules_phrases **ph)
{
	if (ph == NULL || *ph == NULL)
		return;
	free((*ph)->v);
	free((*ph)->text);
	free((*ph)->words);
	free((*ph)->slots);
	free(*ph);
	*ph = NULL;
}

size_t
rules_phrases_count(const struct rules_phrases *ph)
{
	return ph != NULL ? ph->n : 0;
}

/* Returns the slot holding key, or the empty slot where it would go. */
static size_t
slot_find(const struct rules_phrases *ph, uint64_t key)
{
	size_t	 i;

	i = (size_t)key & ph->mask;
	while (ph->slots[i] != 0 && ph->v[ph->slots[i] - 1].key != key)
		i = (i + 1) & ph->mask;
	return i;
}

static int
slots_grow(struct rules_phrases *ph)
{
	uint32_t *old = ph->slots;
	size_t	 oldn = ph->slots != NULL ? ph->mask + 1 : 0, n, i;

	if (ph->slots != NULL && (ph->nkeys + 1) * 2 <= oldn)
		return 0;
	n = oldn != 0 ? oldn * 2 : 64;
	ph->slots = calloc(n, sizeof(*ph->slots));
	if (ph->slots == NULL) {
		ph->slots = old;
		return -1;
	}
	ph->mask = n - 1;
	for (i = 0; i < oldn; i++)
		if (old[i] != 0)
			ph->slots[slot_find(ph, ph->v[old[i] - 1].key)] =
			    old[i];
	free(old);
	return 0;
}

/* Appends the word hashes of folded to words[]; returns the count. */
static size_t
hash_words(struct rules_phrases *ph, const char *s, size_t len)
{
	size_t	 i, n = 0;
	uint64_t h = FNV0;
	int	 inword = 0;

	for (i = 0; i <= len; i++) {
		if (i == len || s[i] == ' ') {
			if (inword)
				ph->words[ph->nw + n++] = h;
			h = FNV0;
			inword = 0;
			continue;
		}
		h = (h ^ (unsigned char)s[i]) * FNVP;
		inword = 1;
	}
	return n;
}

int
rules_phrases_add(struct rules_phrases *ph, const char *folded, size_t len,
    const char *shown, unsigned file, unsigned line)
{
	struct phr *p;
	size_t	 nw, si, slen = strlen(shown), need;
	uint32_t i;

	need = ph->tlen + len + slen + 2;
	if (len == 0 || len > UINT32_MAX || ph->n >= UINT32_MAX - 1 ||
	    need > UINT32_MAX || ph->nw + len > UINT32_MAX)
		return -1;
	if (rules_grow((void **)&ph->words, &ph->wcap, ph->nw + len / 2 + 1,
	    sizeof(*ph->words)) == -1 || rules_grow((void **)&ph->v, &ph->cap,
	    ph->n + 1, sizeof(*ph->v)) == -1 || rules_grow((void **)&ph->text,
	    &ph->tcap, need, 1) == -1 || slots_grow(ph) == -1)
		return -1;
	nw = hash_words(ph, folded, len);
	if (nw < 2)
		return -1;
	p = &ph->v[ph->n];
	p->key = pair_key(mix64(ph->words[ph->nw + nw - 2]),
	    mix64(ph->words[ph->nw + nw - 1]));
	si = slot_find(ph, p->key);
	for (i = ph->slots[si]; i != 0; i = ph->v[i - 1].next)
		if (ph->v[i - 1].len == len &&
		    memcmp(ph->text + ph->v[i - 1].off, folded, len) == 0)
			return 0;
	/* The folded bytes, NUL, then the phrase as written, NUL. */
	memcpy(ph->text + ph->tlen, folded, len);
	ph->text[ph->tlen + len] = '\0';
	memcpy(ph->text + ph->tlen + len + 1, shown, slen + 1);
	p->off = (uint32_t)ph->tlen;
	p->len = (uint32_t)len;
	p->woff = (uint32_t)ph->nw;
	p->nwords = (uint32_t)nw;
	p->file = file;
	p->line = line;
	if (ph->slots[si] == 0)
		ph->nkeys++;
	p->next = ph->slots[si];
	ph->slots[si] = (uint32_t)++ph->n;
	last_add(ph, ph->words[ph->nw + nw - 1]);
	ph->tlen = need;
	ph->nw += nw;
	return 1;
}

/* Returns 1 the first time idx is offered in this call, else 0.  When
 * memory runs out a phrase may be reported twice, never missed. */
static int
seen_first(struct seen *s, uint32_t idx)
{
	size_t	 i, j, n;
	uint32_t *nv;

	if ((s->n + 1) * 2 > s->mask + 1) {
		n = (s->mask + 1) * 2;
		nv = calloc(n, sizeof(*nv));
		if (nv == NULL)
			return 1;
		for (i = 0; i <= s->mask; i++) {
			if (s->v[i] == 0)
				continue;
			j = mix64(s->v[i]) & (n - 1);
			while (nv[j] != 0)
				j = (j + 1) & (n - 1);
			nv[j] = s->v[i];
		}
		if (s->v != s->stack)
			free(s->v);
		s->v = nv;
		s->mask = n - 1;
	}
	i = mix64(idx + 1) & s->mask;
	while (s->v[i] != 0) {
		if (s->v[i] == idx + 1)
			return 0;
		i = (i + 1) & s->mask;
	}
	s->v[i] = idx + 1;
	s->n++;
	return 1;
}

/* Does phrase p end at byte end, the ring holding the hashes of the k
 * words seen so far (the last at ring[(k - 1) % RING])? */
static int
verify(const struct rules_phrases *ph, const struct phr *p,
    const uint64_t *ring, size_t k, const char *text, size_t end)
{
	size_t	 w, n, start;

	if (p->nwords > k || p->len > end)
		return 0;
	n = p->nwords < RING ? p->nwords : RING;
	for (w = 2; w < n; w++)
		if (ring[(k - 1 - w) % RING] !=
		    ph->words[p->woff + p->nwords - 1 - w])
			return 0;
	start = end - p->len;
	if (start > 0 && text[start - 1] != ' ')
		return 0;
	return memcmp(text + start, ph->text + p->off, p->len) == 0;
}

void
rules_phrases_find(const struct rules_phrases *ph, const char *text,
    size_t len, void (*fn)(void *ctx, const struct rules_origin *o),
    void *ctx)
{
	struct rules_origin o;
	uint64_t ring[RING], h;
	struct seen seen;
	const struct phr *p;
	size_t	 i = 0, k = 0;
	uint32_t j;

	if (ph == NULL || ph->n == 0 || text == NULL)
		return;
	memset(&seen, 0, sizeof(seen));
	seen.v = seen.stack;
	seen.mask = SEEN0 - 1;
	while (i < len) {
		if (text[i] == ' ') {
			i++;
			continue;
		}
		h = FNV0;
		do {
			h = (h ^ (unsigned char)text[i]) * FNVP;
			i++;
		} while (i < len && text[i] != ' ');
		/* A word ends at i. */
		ring[k++ % RING] = h;
		if (k < 2 || !maybe_last(ph, h))
			continue;
		j = ph->slots[slot_find(ph, pair_key(mix64(ring[(k - 2) % RING]),
		    mix64(h)))];
		for (; j != 0; j = p->next) {
			p = &ph->v[j - 1];
			if (!verify(ph, p, ring, k, text, i) ||
			    !seen_first(&seen, j - 1))
				continue;
			o.entry = ph->text + p->off + p->len + 1;
			o.file = p->file;
			o.line = p->line;
			o.flag = 0;
			fn(ctx, &o);
		}
	}
	if (seen.v != seen.stack)
		free(seen.v);
}
