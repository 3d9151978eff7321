/*
 * grow.c: the one growable array of rules/ (rules_grow, rules_grow_from
 * in rules-private.h call it when the array is full).
 */
#include <stdint.h>
#include <stdlib.h>

#include "rules/rules-private.h"

int
rules_grow_slow(void **p, size_t *cap, size_t need, size_t elsz,
    size_t first)
{
	size_t	 ncap;
	void	*np;

	ncap = *cap != 0 ? *cap : first != 0 ? first : 1;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2)
			return -1;
		ncap *= 2;
	}
	if (ncap > SIZE_MAX / elsz)
		return -1;
	np = realloc(*p, ncap * elsz);
	if (np == NULL)
		return -1;
	*p = np;
	*cap = ncap;
	return 0;
}
