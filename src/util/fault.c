#include "util/fault.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

#define MAX_POINTS 16

typedef struct {
    char name[64];
    long left; /* hits that still fail */
    long skip; /* hits to let pass first */
} fault_point;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static fault_point points[MAX_POINTS];
static int npoints;

static void parse(void)
{
    const char *spec = getenv("CAIRN_FAULT");
    while (spec && *spec && npoints < MAX_POINTS) {
        size_t len = strcspn(spec, ",");
        size_t name_len = strcspn(spec, ":@,");
        fault_point *p = &points[npoints];
        if (name_len > 0 && name_len < sizeof p->name) {
            memcpy(p->name, spec, name_len);
            p->name[name_len] = '\0';
            p->left = 1;
            if (name_len < len && spec[name_len] == ':')
                p->left = strtol(spec + name_len + 1, NULL, 10);
            else if (name_len < len && spec[name_len] == '@')
                p->skip = strtol(spec + name_len + 1, NULL, 10) - 1;
            npoints++;
        }
        spec += len;
        if (*spec == ',')
            spec++;
    }
}

int cairn_fault(const char *point)
{
    pthread_once(&once, parse);
    if (npoints == 0)
        return 0;
    int hit = 0;
    pthread_mutex_lock(&lock);
    for (int i = 0; i < npoints; i++)
        if (strcmp(points[i].name, point) == 0 && points[i].left > 0) {
            if (points[i].skip > 0) {
                points[i].skip--;
                continue;
            }
            points[i].left--;
            hit = 1;
        }
    pthread_mutex_unlock(&lock);
    if (hit)
        cairn_debug("fault injected at %s", point);
    return hit;
}
