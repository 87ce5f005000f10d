/* Fault injection for tests: named points in the code that fail on demand.
 *
 * CAIRN_FAULT="point[:count],..." makes cairn_fault(point) return 1 the
 * first count times it is reached (default 1), across all threads;
 * "point@n" makes only the n-th call return 1.  Every other call returns 0.  Unset, it costs one
 * getenv per process.  Tests use it to reach paths a healthy server never takes (a snapshot that
 * must be retaken, a crash between two durable steps). */
#ifndef CAIRN_UTIL_FAULT_H
#define CAIRN_UTIL_FAULT_H

int cairn_fault(const char *point);

#endif
