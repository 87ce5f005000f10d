/* POSIX file stages, used by the repository's storage only.
 *
 * The sink writes "<path>.tmp.<pid>.<n>" (mode 0600) and on finish fsyncs
 * it, renames it to path and fsyncs the directory: a reader sees the whole
 * file or none.  Freed unfinished, it removes the temporary file. */
#ifndef CAIRN_STREAM_FILE_H
#define CAIRN_STREAM_FILE_H

#include "cairn/stream.h"

cairn_sink *cairn_file_sink_new(const char *path, cairn_error *err);
/* The same, without the fsyncs when durable is 0: the caller makes the
 * file durable later (syncfs of its file system) before anything refers
 * to it. */
cairn_sink *cairn_file_sink_new_opts(const char *path, int durable, cairn_error *err);
/* Refuses symbolic links. */
cairn_source *cairn_file_source_new(const char *path, cairn_error *err);
/* fsync a directory. */
int cairn_fsync_dir(const char *dir, cairn_error *err);

#endif
