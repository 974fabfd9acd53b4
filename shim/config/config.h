/* /etc/initshim.conf and initshim.* kernel parameters; see initshim.conf(5).
 * Fixed-size storage: the config is read once at start-up, never allocated. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONFIG_FILE_DEFAULT "/etc/initshim.conf"
#define CONFIG_PATH_MAX 256
#define CONFIG_NAME_MAX 32
#define CONFIG_VERSIONS_MAX 16
#define CONFIG_CMD_MAX 512
#define CONFIG_CANDIDATES_MAX (CONFIG_VERSIONS_MAX + 6)

/* The distribution's systemd, tried when everything configured failed.
 * Debian keeps /lib/systemd/systemd (its SYSTEMD_BINARY_PATH); merged-/usr
 * systems use /usr/lib/systemd/systemd. */
#define SYSTEMD_PATH_DEBIAN "/lib/systemd/systemd"
#define SYSTEMD_PATH_USR "/usr/lib/systemd/systemd"

/* watchdog = auto | off | DEVICE (rescue mode feeds the hardware watchdog
 * systemd armed; docs/design.md "Hardware watchdog"). */
enum watchdog_mode {
        WATCHDOG_AUTO,
        WATCHDOG_OFF,
        WATCHDOG_DEVICE,
};

enum on_failure {
        ON_FAILURE_HOLD,
        ON_FAILURE_RESTART,
        ON_FAILURE_REBOOT,
        ON_FAILURE_ADOPT, /* restart, keeping running services (init/adopt.h) */
};

struct version {
        char name[CONFIG_NAME_MAX];
        char path[CONFIG_PATH_MAX];
};

/* node_exporter's textfile collector directory (Debian's prometheus-node-exporter). */
#define CONFIG_METRICS_FILE_DEFAULT "/var/lib/prometheus/node-exporter/initshim.prom"

struct config {
        char systemd[CONFIG_PATH_MAX];
        struct version versions[CONFIG_VERSIONS_MAX];
        size_t n_versions;
        char default_version[CONFIG_NAME_MAX];
        char fallback_version[CONFIG_NAME_MAX];
        char forced_version[CONFIG_NAME_MAX]; /* initshim.version= (one boot) */
        enum on_failure on_failure;
        bool console;
        bool guard;
        char rescue_command[CONFIG_CMD_MAX];
        uint64_t shutdown_timeout_ms;

        /* Recovery (docs/recovery.md). */
        char keep_cgroups[CONFIG_CMD_MAX]; /* blank-separated cgroup path prefixes */
        uint64_t stop_timeout_ms;          /* SIGTERM -> SIGKILL of left-over services */
        unsigned restart_limit;            /* automatic restarts per restart-interval */
        uint64_t restart_interval_ms;
        uint64_t crash_timeout_ms;         /* crash handler -> terminal syscall, at most */

        /* Health checks (the guard). 0 disables a check. */
        uint64_t liveness_interval_ms;
        uint64_t liveness_timeout_ms;
        unsigned liveness_failures;        /* consecutive failures = unresponsive */
        uint64_t zombie_age_ms;
        unsigned zombie_limit;             /* old zombies that mean PID 1 no longer reaps */
        uint64_t memory_limit;             /* bytes of PID 1 RSS */
        unsigned auto_reexec;              /* AUTO_REEXEC_* */
        uint64_t reexec_timeout_ms;
        uint64_t switch_grace_ms;          /* a switched-to version must answer within this */
        char state_dir[CONFIG_PATH_MAX];   /* persistent version state (/var/lib/initshim) */
        unsigned boot_tries;               /* unhealthy boots in a row before a version is skipped */
        char initrd_init[CONFIG_PATH_MAX]; /* in an initramfs: its own init to exec (docs/boot.md) */
        enum watchdog_mode watchdog;
        char watchdog_device[CONFIG_PATH_MAX]; /* WATCHDOG_DEVICE only */
        char metrics_file[CONFIG_PATH_MAX];    /* Prometheus textfile, "" = off (docs/metrics.md) */
        bool metrics_file_configured;          /* set explicitly: written even without its directory */
};

#define AUTO_REEXEC_MEMORY (1u << 0)
#define AUTO_REEXEC_UPGRADE (1u << 1)
#define AUTO_REEXEC_SLOW (1u << 2)

/* Called for each problem found; source is a file path or "kernel command line". */
typedef void (*config_report_fn)(const char *source, unsigned line, const char *msg);

void config_init(struct config *c);
/* Set one key. Returns 0, -ENOENT for an unknown key, -EINVAL for a bad value
 * (err says why; the old value is kept). */
int config_set(struct config *c, const char *key, const char *value, char *err, size_t errlen);
/* Parse text (modified in place). Returns the number of problems reported. */
unsigned config_parse_text(struct config *c, char *text, const char *source, config_report_fn report);
/* Load a file; a missing file is not an error (returns -ENOENT, nothing reported). */
int config_load_file(struct config *c, const char *path, config_report_fn report);
/* Apply initshim.KEY=VALUE words of a kernel command line (modified in place). */
unsigned config_apply_cmdline(struct config *c, char *cmdline, config_report_fn report);

const struct version *config_find_version(const struct config *c, const char *name);

struct candidate {
        const char *path;
        const char *why; /* "forced version 254", "default", "fallback", ... */
};
/* The binaries to try at boot, in order, without repeats. */
size_t config_boot_candidates(const struct config *c, struct candidate *out, size_t max);
