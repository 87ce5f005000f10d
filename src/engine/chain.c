#include "engine/chain.h"

#include <stdlib.h>
#include <string.h>

#include "util/text.h"

static cairn_manifest *by_id(const cairn_chain *c, const char *id)
{
    for (size_t i = 0; i < c->nall; i++)
        if (strcmp(c->all[i]->id, id) == 0)
            return c->all[i];
    return NULL;
}

static int usable(const cairn_manifest *m)
{
    return strcmp(m->status, "complete") == 0;
}

/* The moment a backup's content stands at: its end_at, or for manifests
 * without one the time it finished (never earlier than its content). */
static int64_t end_time(const cairn_manifest *m)
{
    int64_t us = 0;
    if (m->end_at && cairn_time_parse_us(m->end_at, &us) == 0)
        return us;
    if (m->finished_at && cairn_time_parse_us(m->finished_at, &us) == 0)
        return us;
    return INT64_MAX;
}

static void push(cairn_chain *c, cairn_manifest *m)
{
    c->steps = cairn_xrealloc(c->steps, (c->nsteps + 1) * sizeof *c->steps);
    c->steps[c->nsteps++] = m;
}

/* One link: child starts exactly where parent ends, from the same source. */
static int check_link(const cairn_manifest *parent, const cairn_manifest *child, cairn_error *err)
{
    if (strcmp(child->start_position, parent->end_position) != 0) {
        cairn_error_set(err, CAIRN_ENOCHAIN,
                        "the chain has a gap: increment %s starts at %s, but its parent %s ends "
                        "at %s",
                        child->id, child->start_position, parent->id, parent->end_position);
        return cairn_error_hint(err, "restore to a point before %s", child->id);
    }
    if (strcmp(child->source.system_id, parent->source.system_id) != 0 ||
        strcmp(child->source.database, parent->source.database) != 0)
        return cairn_error_set(err, CAIRN_ENOCHAIN,
                               "increment %s comes from another source than its parent %s",
                               child->id, parent->id);
    return CAIRN_OK;
}

/* Walks back from an increment to its full backup. */
static int chain_back(cairn_chain *c, cairn_manifest *target, cairn_error *err)
{
    size_t n = 0;
    cairn_manifest **rev = NULL;
    for (cairn_manifest *m = target;;) {
        rev = cairn_xrealloc(rev, (n + 1) * sizeof *rev);
        rev[n++] = m;
        if (strcmp(m->type, "full") == 0)
            break;
        cairn_manifest *p = by_id(c, m->parent);
        if (!p || !usable(p)) {
            /* the newest backup before the missing one bounds the gap */
            const char *from = "?";
            for (size_t i = 0; i < c->nall; i++)
                if (strcmp(c->all[i]->id, m->parent) < 0 && usable(c->all[i]))
                    from = c->all[i]->end_position;
            cairn_error_set(err, CAIRN_ENOCHAIN,
                            "the chain is broken: increment %s needs its parent %s, which is %s; "
                            "the changes from %s to %s are missing",
                            m->id, m->parent, p ? "not complete" : "not in the repository", from,
                            m->start_position);
            free(rev);
            return cairn_error_hint(err, "restore an older backup (cairn list), or take a new "
                                         "full backup");
        }
        if (check_link(p, m, err) != CAIRN_OK) {
            free(rev);
            return err->code;
        }
        m = p;
    }
    for (size_t i = n; i-- > 0;)
        push(c, rev[i]);
    free(rev);
    return CAIRN_OK;
}

/* The increment that continues m, or NULL; *forks counts the others
 * (two increments of one parent: two histories, neither can be chosen). */
static cairn_manifest *child_of(const cairn_chain *c, const cairn_manifest *m, int *forks)
{
    cairn_manifest *child = NULL;
    *forks = 0;
    for (size_t i = 0; i < c->nall; i++)
        if (c->all[i]->parent && strcmp(c->all[i]->parent, m->id) == 0 && usable(c->all[i])) {
            if (child)
                (*forks)++;
            else
                child = c->all[i];
        }
    return child;
}

/* Explains why the chain stops at last: an increment whose parent is gone,
 * or simply nothing newer. */
static int not_reached(const cairn_chain *c, const cairn_manifest *last, const char *what,
                       cairn_error *err)
{
    for (size_t i = 0; i < c->nall; i++) {
        const cairn_manifest *m = c->all[i];
        if (strcmp(m->type, "incr") == 0 && !by_id(c, m->parent) && strcmp(m->id, last->id) > 0) {
            cairn_error_set(err, CAIRN_ENOCHAIN,
                            "%s is not reachable: the chain ends at %s (backup %s), and increment "
                            "%s needs its parent %s, which is not in the repository (the changes "
                            "from %s to %s are missing)",
                            what, last->end_position, last->id, m->id, m->parent,
                            last->end_position, m->start_position);
            return cairn_error_hint(err, "restore to %s or earlier", last->end_position);
        }
    }
    cairn_error_set(err, CAIRN_ENOCHAIN,
                    "%s is past the newest backup of the chain: %s ends at %s (%s)", what, last->id,
                    last->end_position, last->end_at ? last->end_at : "time unknown");
    return cairn_error_hint(err, "take an increment (cairn backup --type incr) first, or "
                                 "restore to an earlier point");
}

static int plan_to(cairn_chain *c, const cairn_driver *drv, const char *pos, int64_t t,
                   cairn_error *err)
{
    /* the newest full backup at or before the target */
    cairn_manifest *full = NULL;
    for (size_t i = 0; i < c->nall; i++) {
        cairn_manifest *m = c->all[i];
        if (strcmp(m->type, "full") != 0 || !usable(m) || !m->end_position)
            continue;
        int cmp = 0;
        if (pos) {
            if (drv->position_cmp(m->end_position, pos, &cmp, err) != CAIRN_OK)
                return err->code;
            if (cmp <= 0)
                full = m;
        } else if (end_time(m) <= t) {
            full = m;
        }
    }
    char what[96];
    if (pos)
        snprintf(what, sizeof what, "position %s", pos);
    else
        snprintf(what, sizeof what, "time %s", c->stop_time);
    if (!full) {
        cairn_error_set(err, CAIRN_ENOCHAIN, "no full backup at or before %s", what);
        return cairn_error_hint(err, "cairn list shows each backup's position and time");
    }
    push(c, full);
    for (cairn_manifest *cur = full;;) {
        int reached = 0;
        if (pos) {
            int cmp = 0;
            if (drv->position_cmp(cur->end_position, pos, &cmp, err) != CAIRN_OK)
                return err->code;
            reached = cmp >= 0;
        } else {
            reached = end_time(cur) >= t;
        }
        if (reached)
            return CAIRN_OK;
        int forks = 0;
        cairn_manifest *next = child_of(c, cur, &forks);
        if (!next)
            return not_reached(c, cur, what, err);
        if (forks) {
            cairn_error_set(err, CAIRN_ENOCHAIN,
                            "the chain forks after %s: %d increments name it as their parent",
                            cur->id, forks + 1);
            return cairn_error_hint(err, "keep one history: remove the increments that do not "
                                         "belong, or restore with --backup ID");
        }
        if (check_link(cur, next, err) != CAIRN_OK)
            return err->code;
        push(c, next);
        cur = next;
    }
}

/* Why a partial backup cannot be restored whole, naming its failed units. */
static int partial_error(const cairn_manifest *m, cairn_error *err)
{
    cairn_buf names = {0};
    size_t n = 0;
    for (size_t u = 0; u < m->nunits; u++)
        if (cairn_unit_failed(&m->units[u]) && n++ < 5)
            cairn_buf_printf(&names, "%s%s", n > 1 ? ", " : "", m->units[u].name);
    cairn_error_set(err, CAIRN_ENOCHAIN, "backup %s is partial: %zu units failed (%s%s)", m->id, n,
                    names.data ? names.data : "", n > 5 ? ", ..." : "");
    free(names.data);
    return cairn_error_hint(err,
                            "complete it with cairn backup --resume %s, or restore its "
                            "complete units alone with --tenant NAME",
                            m->id);
}

int cairn_chain_plan(cairn_repo *r, const cairn_driver *drv, const char *backup,
                     const char *to_position, const char *to_time, int allow_partial,
                     cairn_chain *out, cairn_error *err)
{
    memset(out, 0, sizeof *out);
    if (to_position && to_time)
        return cairn_error_set(err, CAIRN_EUSAGE, "give --to-position or --to-time, not both");
    if ((to_position || to_time) && backup && strcmp(backup, "latest") != 0)
        return cairn_error_set(err, CAIRN_EUSAGE,
                               "--backup cannot be combined with --to-position or --to-time");
    if (to_time) {
        if (cairn_time_parse_us(to_time, &out->stop_time_us) != 0) {
            cairn_error_set(err, CAIRN_EUSAGE, "\"%s\" is not a time", to_time);
            return cairn_error_hint(err, "use 2026-11-26T14:30:00Z or 2026-11-26 14:30:00.5+01 "
                                         "(no zone: UTC)");
        }
        cairn_strlcpy(out->stop_time, to_time, sizeof out->stop_time);
    }
    cairn_manifest *chosen = NULL;
    if (!to_position && !to_time && cairn_repo_select(r, backup, &chosen, err) != CAIRN_OK)
        return err->code; /* a named backup with a bad manifest says so, strictly */
    if (cairn_repo_list(r, &out->all, &out->nall, err) != CAIRN_OK) {
        cairn_manifest_free(chosen);
        return err->code;
    }
    if (out->nall == 0) {
        cairn_manifest_free(chosen);
        cairn_error_set(err, CAIRN_ENOCHAIN, "the repository holds no backup");
        return cairn_error_hint(err, "take one with cairn backup");
    }
    if (!drv)
        drv = cairn_driver_by_name(out->all[out->nall - 1]->driver);
    if (to_position || to_time) {
        if (!drv || !(drv->features & CAIRN_DRIVER_INCREMENTS))
            return cairn_error_set(err, CAIRN_EUSAGE,
                                   "restoring to a position or a time needs increments, which "
                                   "the repository's driver does not take");
        int cmp = 0; /* a malformed position is a usage error, before anything else */
        if (to_position && drv->position_cmp(to_position, to_position, &cmp, err) != CAIRN_OK)
            return err->code;
        out->stop_position = to_position;
        return plan_to(out, drv, to_position, out->stop_time_us, err);
    }
    cairn_manifest *target = by_id(out, chosen->id);
    int complete = usable(chosen);
    int partial = strcmp(chosen->status, "partial") == 0 && strcmp(chosen->type, "full") == 0;
    cairn_manifest_free(chosen);
    if (target && partial && allow_partial) {
        push(out, target);
        return CAIRN_OK;
    }
    if (target && partial)
        return partial_error(target, err);
    if (!target || !complete) {
        cairn_error_set(err, CAIRN_ENOCHAIN, "backup %s is not complete", backup);
        return cairn_error_hint(err, "choose a complete backup (cairn list)");
    }
    return chain_back(out, target, err);
}

void cairn_chain_clear(cairn_chain *c)
{
    cairn_repo_list_free(c->all, c->nall);
    free(c->steps);
    memset(c, 0, sizeof *c);
}
