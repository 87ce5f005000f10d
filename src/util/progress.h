/* Progress of long work (the chunks of a backup or a restore) on stderr.
 *
 * When stderr is a terminal: a status line redrawn in place twice a second
 * -- percent, bytes done, rate, ETA, chunks, and what each worker is on.
 * Otherwise: a plain log line every 10 seconds.  Nothing with --quiet.
 * Never on stdout, which belongs to --json.  Thread-safe. */
#ifndef CAIRN_PROGRESS_H
#define CAIRN_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

typedef struct cairn_progress cairn_progress;

/* what: "backup", "restore"; items: chunks to do; bytes: the bytes they
 * hold (an estimate for a backup: the tables' size on disk; 0: unknown);
 * estimate: bytes is a guess.  NULL when progress is off. */
cairn_progress *cairn_progress_start(const char *what, size_t items, uint64_t bytes, int estimate);
/* The calling worker is now on label (a table and chunk); NULL: idle. */
void cairn_progress_doing(cairn_progress *p, const char *label);
/* One item finished, holding bytes. */
void cairn_progress_done(cairn_progress *p, uint64_t bytes);
/* Stops the display and clears the status line; accepts NULL. */
void cairn_progress_end(cairn_progress *p);

#endif
