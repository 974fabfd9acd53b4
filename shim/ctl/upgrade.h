/* initshimctl's side of versions and live upgrade: what is installed, what
 * runs, and waiting for `upgrade` to take effect. Local files only. */
#pragma once

/* After status: "installed: VERSION (PATH)" and a line per process that
 * runs another build than the installed one. */
void ctl_print_installed(void);
/* After an accepted `upgrade`: wait (timeout_s) until the guard, and PID 1
 * when it is rescue-mode initshim, run the installed build. 0 or an exit
 * status (1: not done in time). */
int ctl_wait_upgraded(int timeout_s);
