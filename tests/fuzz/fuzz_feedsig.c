/*
 * fuzz_feedsig.c: a feed's detached signature file (agent/feedsig.c).
 *
 * The first byte picks the kind (even: minisign, odd: signify); the rest
 * is the signature file, checked over the fixture list with the fixture
 * key of that kind (tests/fixtures/feedsig, whose real signatures are
 * the seeds); a tampered trusted comment, key number or signature line
 * must be refused without reading past the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/feedsig.h"
#include "conf/conf.h"
#include "tests/fuzz/fuzz.h"

static char	 list[4096], mpub[128], spub[128];
static size_t	 listlen;

/* The file's whole text (which 0) or its second line (which 1). */
static size_t
slurp(const char *name, char *out, size_t outlen, int which)
{
	char	 path[FUZZ_PATHMAX], line[512];
	FILE	*fp;
	size_t	 n;

	snprintf(path, sizeof(path), "%s/tests/fixtures/feedsig/%s",
	    FUZZ_TOP, name);
	if ((fp = fopen(path, "r")) == NULL) {
		perror(path);
		exit(2);
	}
	if (which == 0)
		n = fread(out, 1, outlen - 1, fp);
	else {
		if (fgets(line, sizeof(line), fp) == NULL ||
		    fgets(line, sizeof(line), fp) == NULL)
			exit(2);
		line[strcspn(line, "\r\n")] = '\0';
		n = (size_t)snprintf(out, outlen, "%s", line);
	}
	out[n] = '\0';
	fclose(fp);
	return n;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	listlen = slurp("list", list, sizeof(list), 0);
	slurp("minisign.pub", mpub, sizeof(mpub), 1);
	slurp("signify.pub", spub, sizeof(spub), 1);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf_feed f;
	char	 tc[256], err[512] = "";
	size_t	 n;

	if (size == 0)
		return 0;
	memset(&f, 0, sizeof(f));
	f.sig_kind = data[0] % 2 == 0 ? CONF_SIG_MINISIGN : CONF_SIG_SIGNIFY;
	f.pubkey = f.sig_kind == CONF_SIG_MINISIGN ? mpub : spub;
	if (feedsig_verify(&f, (const char *)data + 1, size - 1, list,
	    listlen, tc, sizeof(tc), err, sizeof(err)) == 0 &&
	    strlen(tc) >= sizeof(tc))
		abort();
	if (strlen(err) >= sizeof(err))
		abort();
	/* The input as a trusted comment: a time or none, never negative
	 * otherwise. */
	n = size - 1 < sizeof(tc) - 1 ? size - 1 : sizeof(tc) - 1;
	memcpy(tc, data + 1, n);
	tc[n] = '\0';
	if (feedsig_timestamp(tc) < -1)
		abort();
	return 0;
}
