/* One field of a table's dump in LOAD DATA's escaped format: NULL is \N;
 * a backslash, tab, newline and NUL byte are written \\, \t, \n and \0;
 * every other byte is itself.  So NULL, the empty string and the string
 * 'NULL' stay three different things, and binary values pass byte for
 * byte.  Pure: no Connector/C. */
#ifndef CAIRN_MY_ESCAPE_H
#define CAIRN_MY_ESCAPE_H

#include <stddef.h>

/* Appends the field (v NULL: SQL NULL) of n bytes to *buf (length *len,
 * capacity *cap, grown as needed), leaving room for one more byte: the
 * separator the caller appends. */
void my_escape_field(char **buf, size_t *len, size_t *cap, const char *v, size_t n);

#endif
