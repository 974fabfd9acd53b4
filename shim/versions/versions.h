/* The systemd versions the config names, and how they fare in preflight. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"

/* One line per version (and the plain systemd= binary when no version
 * names it): NAME PATH VERDICT [roles], roles being default, fallback,
 * forced, running. Runs each binary's --version (bounded). */
size_t versions_report(const struct config *c, char *buf, size_t n);

struct request;
struct status;
/* The verbs every owner of the control FIFO answers alike: ping, status,
 * versions. fill is called for status only. Returns true if it answered
 * (into text), false if the verb is the caller's. */
bool answer_common(const struct request *req, void (*fill)(struct status *), const struct config *c, char *text,
                   size_t n);
