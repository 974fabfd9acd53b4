/* The control verbs, answered alike by every owner of the control FIFO. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"
#include "control/protocol.h"
#include "control/status.h"

/* ping, status, versions. fill is called for status only. Returns true if it
 * answered (into text), false if the verb is the caller's. */
bool answer_common(const struct request *req, void (*fill)(struct status *), const struct config *c, char *text,
                   size_t n);
