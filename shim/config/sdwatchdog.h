/* systemd's hardware watchdog settings, read the way systemd reads them:
 * [Manager] RuntimeWatchdogSec=, RebootWatchdogSec= (alias ShutdownWatchdogSec=)
 * and WatchdogDevice= in /etc/systemd/system.conf and its system.conf.d
 * drop-ins, then systemd.watchdog_sec= and systemd.watchdog_device= on the
 * kernel command line. Rescue mode uses them to know whether systemd armed a
 * watchdog, which device, and how to hand it to systemd-shutdown. */
#pragma once
#include <stdint.h>

#include "config/config.h"

/* "default": keep the timeout programmed in the device (systemd's USEC_INFINITY). */
#define SD_WATCHDOG_DEFAULT UINT64_MAX
/* systemd's RebootWatchdogSec= default. */
#define SD_WATCHDOG_REBOOT_MS (10 * 60 * 1000ULL)

struct sd_watchdog {
        uint64_t runtime_ms;          /* 0: systemd arms no runtime watchdog */
        uint64_t reboot_ms;           /* 0: systemd disarms it before rebooting */
        char device[CONFIG_PATH_MAX]; /* "": systemd's default, /dev/watchdog0 then /dev/watchdog */
};

void sd_watchdog_init(struct sd_watchdog *w);
/* A systemd time span ("15s", "7.5s", "1min 30s", "2h", bare seconds) in
 * milliseconds, rounded up. -EINVAL or -ERANGE, *ret untouched. */
int sd_parse_timespan_ms(const char *s, uint64_t *ret);
/* A *WatchdogSec= value: "off" is 0, "default" and "infinity" SD_WATCHDOG_DEFAULT. */
int sd_watchdog_parse_sec(const char *s, uint64_t *ret);
/* One system.conf file's text (modified in place); bad values are ignored,
 * as systemd ignores them. */
void sd_watchdog_parse_text(struct sd_watchdog *w, char *text);
/* The kernel command line (modified in place). */
void sd_watchdog_apply_cmdline(struct sd_watchdog *w, char *cmdline);
/* Everything above under root ("" for /): system.conf, the drop-ins in
 * systemd's order, then root/proc/cmdline. No allocation. */
void sd_watchdog_load(struct sd_watchdog *w, const char *root);

/* A watchdog character device's state in sysfs (/sys/dev/char/MAJ:MIN):
 * 1 active (armed), 0 inactive, -ENOENT when sysfs does not say (the
 * legacy /dev/watchdog misc device), another negative errno when device is
 * missing or not a character device. timeout_s (may be NULL) gets sysfs's
 * timeout, 0 if unknown. */
int hw_watchdog_state(const char *device, unsigned *timeout_s);
