/*
 * import.c: `imapsift import-sent` and the default store path.
 */
#ifndef IMAPSIFT_AGENT_IMPORT_H
#define IMAPSIFT_AGENT_IMPORT_H

/* $XDG_STATE_HOME/imapsift/imapsift.db, its directory made on
 * the way (dies when it cannot be). */
const char *import_store_path(void);

#endif
