/* The systemd versions the config names, and how they fare in preflight. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"

/* One line per version (and the plain systemd= binary when no version
 * names it): NAME PATH VERDICT [roles], roles being default, fallback,
 * forced, running. Runs each binary's --version (bounded). */
size_t versions_report(const struct config *c, char *buf, size_t n);
