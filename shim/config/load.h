/* Reading the config the way PID 1 and the guard do. */
#pragma once
#include "config/config.h"

/* Defaults, then the file ($INITSHIM_CONF or /etc/initshim.conf), then
 * /proc/cmdline. Problems go to kmsg and the console; a bad line is skipped,
 * never fatal. Sets the log's console mirroring from the result. */
void load_config(struct config *c);
