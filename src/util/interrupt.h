/* SIGINT and SIGTERM stop a run cleanly: the flag is set, workers take no
 * new items, and the run fails through its normal error path, which
 * removes an unfinished backup and the replication slot made for it. */
#ifndef CAIRN_INTERRUPT_H
#define CAIRN_INTERRUPT_H

void cairn_interrupt_install(void);
/* The signal number received, or 0. */
int cairn_interrupted(void);

#endif
