/* Rescue mode's side of the hardware watchdog (docs/design.md, "Hardware
 * watchdog"). A crashed or hung systemd leaves the watchdog it armed
 * (RuntimeWatchdogSec=) running with nobody feeding it: rescue mode takes it
 * over and feeds it from its own main loop at systemd's interval (half the
 * timeout), so that the board resets the machine only if initshim itself
 * stops. A systemd started from rescue mode gets it disarmed (magic close)
 * and arms it again itself; systemd-shutdown gets it as systemd would give
 * it (WATCHDOG_USEC, WATCHDOG_DEVICE). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

/* The ping schedule (pure): systemd pings at half the timeout; an unknown
 * timeout (0) gets a ping every second. */
uint64_t watchdog_interval_ms(unsigned timeout_s);
/* Milliseconds until the next ping is due, 0 if it is due now. */
uint64_t watchdog_due_in_ms(uint64_t now, uint64_t last_ping, uint64_t interval);

/* At the start of rescue mode: find the watchdog systemd armed (config
 * `watchdog`, systemd's settings, sysfs state) and open and ping it. */
void watchdog_takeover(const struct config *c);
/* Every main-loop turn (and while waiting for services to stop): ping when
 * due, retry an open that failed. Never blocks. */
void watchdog_feed(void);
/* For the main loop's poll: ms until watchdog_feed has work, -1 if never. */
int watchdog_poll_timeout_ms(void);
/* Right before exec'ing a systemd: disarm (magic close) and close, as
 * systemd does before its own re-exec, so the new one opens and arms it. */
void watchdog_handover(void);
/* The exec or the reboot failed: take the device back. */
void watchdog_resume(void);
/* Before an orderly shutdown: a reboot keeps it armed with systemd's
 * RebootWatchdogSec= (default 10 min; 0 disarms), power-off and halt disarm
 * it, as systemd does. */
void watchdog_prepare_shutdown(bool reboot);
/* envp plus WATCHDOG_USEC= and WATCHDOG_DEVICE= for systemd-shutdown when a
 * device is still armed (static storage; envp itself when none is). */
char *const *watchdog_shutdown_env(char *const *envp);
/* The status line: "/dev/watchdog0, fed every 7.5 s (timeout 15 s)", or why none is. */
void watchdog_describe(char *buf, size_t n);
