/* What any parsed configuration satisfies, however bad its text was: every
 * string terminated and of the documented form, every number in range
 * (initshim.conf(5)). Shared by fuzz_config.c and fuzz_cmdline.c. */
#pragma once
#include "fuzz.h"
#include "config/config.h"

#include <ctype.h>

static unsigned fuzz_reports;

static void fuzz_report(const char *source, unsigned line, const char *msg) {
        (void) line;
        FUZZ_ASSERT(source && msg && msg[0] != '\0');
        FUZZ_ASSERT(strlen(msg) < 256);
        fuzz_reports++;
}

/* "" or an absolute path. */
static void check_path(const char *p, size_t n, int may_be_empty) {
        FUZZ_ASSERT(fuzz_terminated(p, n));
        FUZZ_ASSERT(p[0] == '/' || (may_be_empty && p[0] == '\0'));
}

/* "" or a version name (config.c valid_name()). */
static void check_name(const char *s, size_t n, int may_be_empty) {
        FUZZ_ASSERT(fuzz_terminated(s, n));
        FUZZ_ASSERT(s[0] != '\0' || may_be_empty);
        for (; *s; s++)
                FUZZ_ASSERT(isalnum((unsigned char) *s) || strchr("._-+~", *s));
}

static void check_config(const struct config *c) {
        FUZZ_ASSERT(c->n_versions <= CONFIG_VERSIONS_MAX);
        for (size_t i = 0; i < c->n_versions; i++) {
                check_name(c->versions[i].name, sizeof c->versions[i].name, 0);
                check_path(c->versions[i].path, sizeof c->versions[i].path, 0);
                for (size_t j = 0; j < i; j++)
                        FUZZ_ASSERT(strcmp(c->versions[i].name, c->versions[j].name) != 0);
        }
        check_path(c->systemd, sizeof c->systemd, 0);
        check_path(c->state_dir, sizeof c->state_dir, 0);
        check_path(c->initrd_init, sizeof c->initrd_init, 1);
        check_name(c->default_version, sizeof c->default_version, 1);
        check_name(c->fallback_version, sizeof c->fallback_version, 1);
        check_name(c->forced_version, sizeof c->forced_version, 1);
        FUZZ_ASSERT(c->on_failure == ON_FAILURE_HOLD || c->on_failure == ON_FAILURE_RESTART ||
                    c->on_failure == ON_FAILURE_REBOOT || c->on_failure == ON_FAILURE_ADOPT);
        FUZZ_ASSERT(fuzz_terminated(c->rescue_command, sizeof c->rescue_command));
        FUZZ_ASSERT(c->rescue_command[0] == '\0' || c->rescue_command[0] == '/');
        FUZZ_ASSERT(fuzz_terminated(c->keep_cgroups, sizeof c->keep_cgroups));
        /* Durations that 0 would turn into a busy loop or an instant kill. */
        FUZZ_ASSERT(c->shutdown_timeout_ms > 0 && c->stop_timeout_ms > 0 && c->restart_interval_ms > 0);
        FUZZ_ASSERT(c->crash_timeout_ms > 0 && c->liveness_timeout_ms > 0);
        FUZZ_ASSERT(c->reexec_timeout_ms > 0 && c->switch_grace_ms > 0);
        FUZZ_ASSERT(c->restart_limit <= 1000000 && c->liveness_failures <= 1000000);
        FUZZ_ASSERT(c->zombie_limit <= 1000000 && c->boot_tries <= 1000000);
        FUZZ_ASSERT((c->auto_reexec & ~(AUTO_REEXEC_MEMORY | AUTO_REEXEC_UPGRADE | AUTO_REEXEC_SLOW)) == 0);

        /* The boot candidates are the configured paths, without repeats. */
        struct candidate cand[CONFIG_CANDIDATES_MAX];
        size_t n = config_boot_candidates(c, cand, CONFIG_CANDIDATES_MAX);
        FUZZ_ASSERT(n >= 1 && n <= CONFIG_CANDIDATES_MAX);
        for (size_t i = 0; i < n; i++) {
                FUZZ_ASSERT(cand[i].path[0] == '/' && cand[i].why && cand[i].why[0]);
                for (size_t j = 0; j < i; j++)
                        FUZZ_ASSERT(strcmp(cand[i].path, cand[j].path) != 0);
        }
}
