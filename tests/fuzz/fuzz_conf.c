/*
 * fuzz_conf.c: the config loader (conf_load) on a file holding the input.
 *
 * The file is mode 0600, so a password in it is accepted and the
 * accounts are read through.  A loaded config is looked at the way the
 * agent does; a refused one must say why, each line starting with the
 * path.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "tests/fuzz/fuzz.h"

/* Refused: at least one line, each "path:line: message\n". */
static void
check_errs(const char *errs, const char *path)
{
	size_t	 len;

	if (errs == NULL || (len = strlen(errs)) == 0 ||
	    errs[len - 1] != '\n' || strncmp(errs, path, strlen(path)) != 0)
		abort();
}

/* Does data hold the bytes of word? */
static int
has(const uint8_t *data, size_t size, const char *word)
{
	size_t	 i, n = strlen(word);

	for (i = 0; i + n <= size; i++)
		if (memcmp(data + i, word, n) == 0)
			return 1;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf *c = NULL;
	const char *path;
	char	*errs = NULL;
	size_t	 i;
	int	 k;

	/* @include would read other files of this machine: a separate
	 * finding (see the README), not explored here. */
	if (has(data, size, "@include"))
		return -1;
	path = fuzz_file(data, size, ".conf");
	if (conf_load(&c, path, &errs) == 0) {
		if (c == NULL || errs != NULL)
			abort();
		for (i = 0; i < c->naccounts; i++)
			if (conf_account(c, c->accounts[i].name) == NULL)
				abort();
		for (k = 0; k < CONF_NKEYS; k++)
			(void)strlen(conf_key_name((enum conf_key)k));
		conf_free(&c);
		if (c != NULL)
			abort();
	} else {
		if (c != NULL)
			abort();
		check_errs(errs, path);
	}
	free(errs);
	return 0;
}
