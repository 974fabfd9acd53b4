/* Live upgrade of the guard to the installed binary (docs/design.md "Live
 * upgrade"). The guard re-executes itself: ptrace attachments belong to the
 * tracer's task and survive its execve, so PID 1 stays traced throughout and
 * the new binary adopts the attachment instead of seizing PID 1 again. What
 * the new process needs from the old one travels in its argv:
 *   initshim --guard-upgraded START_NS MODE_SINCE_MS serve|quiet traced|detached OLD_BUILD */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guard/spawn.h"
#include "ptrace/tracer.h"

/* What the old guard hands over. */
struct guard_handover {
        uint64_t start_ns;      /* CLOCK_MONOTONIC just before the execve */
        uint64_t mode_since_ms;
        bool serve;             /* owned the control FIFO (PID 1 is not initshim) */
        bool traced;            /* was tracing PID 1 (not detached on request) */
        char old_build[64];
};

/* execve the target with the hand-over. Returns only on failure (-errno). */
int guard_upgrade_exec(const char *path, const struct guard_handover *h);
/* The new side: parse argv after GUARD_UPGRADE_FLAG. Bad input leaves the
 * defaults (quiet, traced, now) and returns -EINVAL: the process still
 * becomes the guard. */
int guard_handover_parse(int argc, char **argv, struct guard_handover *h);
/* Take over the attachment inherited across the execve (PID 1's TracerPid
 * is us) if keep, else detach it (nobody would answer PID 1's stops); with
 * none inherited and keep, seize PID 1 as a new guard would. */
void guard_upgrade_adopt(struct tracer *t, bool keep);
/* Log and record (LAST_UPGRADE_FILE) how long PID 1 went unattended. */
void guard_upgrade_report(const struct guard_handover *h, const struct tracer *t);
