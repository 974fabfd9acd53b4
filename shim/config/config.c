#include "config/config.h"
#include "common/util.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

void config_init(struct config *c) {
        memset(c, 0, sizeof *c);
        (void) copy_string(c->systemd, sizeof c->systemd, SYSTEMD_PATH_DEBIAN);
        c->on_failure = ON_FAILURE_RESTART;
        c->guard = true;
        c->shutdown_timeout_ms = 10000;
        (void) copy_string(c->keep_cgroups, sizeof c->keep_cgroups, "machine.slice kubepods.slice kubepods");
        c->stop_timeout_ms = 10000;
        c->restart_limit = 3;
        c->restart_interval_ms = 3600 * 1000;
        c->crash_timeout_ms = 30000;
        c->liveness_interval_ms = 30000;
        c->liveness_timeout_ms = 25000; /* sd-bus's default method timeout */
        c->liveness_failures = 3;
        c->zombie_age_ms = 60000;
        c->zombie_limit = 100;
        c->memory_limit = 2ULL << 30;
        c->auto_reexec = AUTO_REEXEC_MEMORY;
        c->reexec_timeout_ms = 90000;
        c->switch_grace_ms = 30000;
        c->boot_tries = 3;
        (void) copy_string(c->state_dir, sizeof c->state_dir, "/var/lib/initshim");
        (void) copy_string(c->metrics_file, sizeof c->metrics_file, CONFIG_METRICS_FILE_DEFAULT);
}

static bool valid_name(const char *s) {
        if (*s == '\0' || strlen(s) >= CONFIG_NAME_MAX)
                return false;
        for (; *s; s++)
                if (!isalnum((unsigned char) *s) && !strchr("._-+~", *s))
                        return false;
        return true;
}

static int set_path(char *dst, const char *value, char *err, size_t errlen) {
        if (value[0] != '/') {
                snprintf(err, errlen, "'%s' is not an absolute path", value);
                return -EINVAL;
        }
        if (strlen(value) >= CONFIG_PATH_MAX) {
                snprintf(err, errlen, "path longer than %d bytes", CONFIG_PATH_MAX - 1);
                return -EINVAL;
        }
        return copy_string(dst, CONFIG_PATH_MAX, value);
}

/* A command or a list: refused whole when too long, never cut (a cut
 * command would still run). */
static int set_name(char *dst, const char *value, char *err, size_t errlen) {
        if (!valid_name(value)) {
                snprintf(err, errlen, "'%s' is not a valid version name", value);
                return -EINVAL;
        }
        return copy_string(dst, CONFIG_NAME_MAX, value);
}

static int set_version(struct config *c, const char *name, const char *path, char *err, size_t errlen) {
        struct version v;
        int r;

        if ((r = set_name(v.name, name, err, errlen)) < 0)
                return r;
        if ((r = set_path(v.path, path, err, errlen)) < 0)
                return r;
        for (size_t i = 0; i < c->n_versions; i++)
                if (strcmp(c->versions[i].name, v.name) == 0) {
                        c->versions[i] = v; /* later definition wins */
                        return 0;
                }
        if (c->n_versions >= CONFIG_VERSIONS_MAX) {
                snprintf(err, errlen, "more than %d versions", CONFIG_VERSIONS_MAX);
                return -EINVAL;
        }
        c->versions[c->n_versions++] = v;
        return 0;
}

struct duration_key {
        const char *key;
        size_t offset;
        bool zero_ok; /* 0 disables */
};

static const struct duration_key duration_keys[] = {
        { "shutdown-timeout", offsetof(struct config, shutdown_timeout_ms), false },
        { "stop-timeout", offsetof(struct config, stop_timeout_ms), false },
        { "restart-interval", offsetof(struct config, restart_interval_ms), false },
        { "crash-timeout", offsetof(struct config, crash_timeout_ms), false },
        { "liveness-interval", offsetof(struct config, liveness_interval_ms), true },
        { "liveness-timeout", offsetof(struct config, liveness_timeout_ms), false },
        { "zombie-age", offsetof(struct config, zombie_age_ms), true },
        { "reexec-timeout", offsetof(struct config, reexec_timeout_ms), false },
        { "switch-grace", offsetof(struct config, switch_grace_ms), false },
};

struct count_key {
        const char *key;
        size_t offset;
};

static const struct count_key count_keys[] = {
        { "restart-limit", offsetof(struct config, restart_limit) },
        { "liveness-failures", offsetof(struct config, liveness_failures) },
        { "zombie-limit", offsetof(struct config, zombie_limit) },
        { "boot-tries", offsetof(struct config, boot_tries) },
};

static int parse_auto_reexec(struct config *c, const char *value, char *err, size_t errlen) {
        char buf[128], *save = NULL;
        unsigned flags = 0;

        if (copy_string(buf, sizeof buf, value) < 0) {
                snprintf(err, errlen, "value too long");
                return -EINVAL;
        }
        for (char *w = strtok_r(buf, " ,", &save); w; w = strtok_r(NULL, " ,", &save)) {
                if (strcmp(w, "memory") == 0)
                        flags |= AUTO_REEXEC_MEMORY;
                else if (strcmp(w, "upgrade") == 0)
                        flags |= AUTO_REEXEC_UPGRADE;
                else if (strcmp(w, "slow") == 0)
                        flags |= AUTO_REEXEC_SLOW;
                else if (strcmp(w, "no") != 0) {
                        snprintf(err, errlen, "'%s' is not one of memory, upgrade, slow, no", w);
                        return -EINVAL;
                }
        }
        c->auto_reexec = flags;
        return 0;
}

static int set_on_failure(struct config *c, const char *value, char *err, size_t errlen) {
        if (strcmp(value, "hold") == 0)
                c->on_failure = ON_FAILURE_HOLD;
        else if (strcmp(value, "restart") == 0)
                c->on_failure = ON_FAILURE_RESTART;
        else if (strcmp(value, "reboot") == 0)
                c->on_failure = ON_FAILURE_REBOOT;
        else if (strcmp(value, "adopt") == 0)
                c->on_failure = ON_FAILURE_ADOPT;
        else {
                snprintf(err, errlen, "'%s' is not one of hold, restart, reboot, adopt", value);
                return -EINVAL;
        }
        return 0;
}

static int set_bool(bool *out, const char *value, char *err, size_t errlen) {
        bool b;

        if (parse_bool(value, &b) < 0) {
                snprintf(err, errlen, "'%s' is not a boolean", value);
                return -EINVAL;
        }
        *out = b;
        return 0;
}

/* Refused whole when too long: a cut-off command must never run. */
static int set_command_line(char *out, size_t n, const char *value, char *err, size_t errlen) {
        if (strlen(value) >= n) {
                snprintf(err, errlen, "longer than %zu bytes", n - 1);
                return -EINVAL;
        }
        return copy_string(out, n, value);
}

static int set_rescue_command(struct config *c, const char *value, char *err, size_t errlen) {
        if (value[0] != '\0' && value[0] != '/') {
                snprintf(err, errlen, "'%s' does not start with an absolute path", value);
                return -EINVAL;
        }
        return set_command_line(c->rescue_command, sizeof c->rescue_command, value, err, errlen);
}

static int set_memory_limit(struct config *c, const char *value, char *err, size_t errlen) {
        uint64_t v;

        if (parse_size(value, &v) < 0) {
                snprintf(err, errlen, "'%s' is not a size (e.g. 2G, 512M, 0 = off)", value);
                return -EINVAL;
        }
        c->memory_limit = v;
        return 0;
}

/* The keys of duration_keys[] and count_keys[]; 1 if key is none of them. */
static int set_numeric_key(struct config *c, const char *key, const char *value, char *err, size_t errlen) {
        for (size_t i = 0; i < ELEMENTSOF(duration_keys); i++)
                if (strcmp(key, duration_keys[i].key) == 0) {
                        uint64_t ms;
                        if (parse_duration_ms(value, &ms) < 0 || (ms == 0 && !duration_keys[i].zero_ok)) {
                                snprintf(err, errlen, "'%s' is not a duration (e.g. 10s, 500ms, 2min)%s", value,
                                         duration_keys[i].zero_ok ? "" : " above 0");
                                return -EINVAL;
                        }
                        *(uint64_t *) ((char *) c + duration_keys[i].offset) = ms;
                        return 0;
                }
        for (size_t i = 0; i < ELEMENTSOF(count_keys); i++)
                if (strcmp(key, count_keys[i].key) == 0) {
                        uint64_t v;
                        if (parse_size(value, &v) < 0 || v > 1000000 || strpbrk(value, "KMGkmg")) {
                                snprintf(err, errlen, "'%s' is not a number up to 1000000", value);
                                return -EINVAL;
                        }
                        *(unsigned *) ((char *) c + count_keys[i].offset) = (unsigned) v;
                        return 0;
                }
        return 1;
}

/* off | an absolute path ending in .prom (node_exporter reads no other) */
static int set_metrics_file(struct config *c, const char *value, char *err, size_t errlen) {
        size_t l = strlen(value);

        if (strcmp(value, "off") == 0) {
                c->metrics_file[0] = '\0';
                c->metrics_file_configured = false;
                return 0;
        }
        if (value[0] == '/' && (l < 5 || strcmp(value + l - 5, ".prom") != 0)) {
                snprintf(err, errlen, "'%s' does not end in .prom (node_exporter's textfile collector reads no other)",
                         value);
                return -EINVAL;
        }
        int r = set_path(c->metrics_file, value, err, errlen);
        /* The default path stays "only if its directory exists". */
        if (r == 0)
                c->metrics_file_configured = strcmp(value, CONFIG_METRICS_FILE_DEFAULT) != 0;
        return r;
}

/* auto | off | an absolute device path */
static int set_watchdog(struct config *c, const char *value, char *err, size_t errlen) {
        if (strcmp(value, "auto") == 0)
                c->watchdog = WATCHDOG_AUTO;
        else if (strcmp(value, "off") == 0)
                c->watchdog = WATCHDOG_OFF;
        else if (value[0] == '/') {
                int r = set_path(c->watchdog_device, value, err, errlen);
                if (r < 0)
                        return r;
                c->watchdog = WATCHDOG_DEVICE;
        } else {
                snprintf(err, errlen, "'%s' is not auto, off or a device path", value);
                return -EINVAL;
        }
        return 0;
}

/* "version NAME = PATH" */
static int set_named_version(struct config *c, const char *name_part, const char *value, char *err,
                             size_t errlen) {
        char name[CONFIG_NAME_MAX * 2];

        if (copy_string(name, sizeof name, name_part) < 0) {
                snprintf(err, errlen, "version name too long");
                return -EINVAL;
        }
        return set_version(c, strip(name), value, err, errlen);
}

int config_set(struct config *c, const char *key, const char *value, char *err, size_t errlen) {
        int r;

        err[0] = '\0';
        if (strncmp(key, "version ", 8) == 0)
                return set_named_version(c, key + 8, value, err, errlen);
        if (strcmp(key, "systemd") == 0)
                return set_path(c->systemd, value, err, errlen);
        if (strcmp(key, "default") == 0)
                return set_name(c->default_version, value, err, errlen);
        if (strcmp(key, "fallback") == 0)
                return set_name(c->fallback_version, value, err, errlen);
        if (strcmp(key, "version") == 0)
                return set_name(c->forced_version, value, err, errlen);
        if (strcmp(key, "on-failure") == 0)
                return set_on_failure(c, value, err, errlen);
        if (strcmp(key, "console") == 0)
                return set_bool(&c->console, value, err, errlen);
        if (strcmp(key, "guard") == 0)
                return set_bool(&c->guard, value, err, errlen);
        if (strcmp(key, "rescue-command") == 0)
                return set_rescue_command(c, value, err, errlen);
        if ((r = set_numeric_key(c, key, value, err, errlen)) <= 0)
                return r;
        if (strcmp(key, "memory-limit") == 0)
                return set_memory_limit(c, value, err, errlen);
        if (strcmp(key, "state-dir") == 0)
                return set_path(c->state_dir, value, err, errlen);
        if (strcmp(key, "metrics-file") == 0)
                return set_metrics_file(c, value, err, errlen);
        if (strcmp(key, "initrd-init") == 0)
                return set_path(c->initrd_init, value, err, errlen);
        if (strcmp(key, "keep-cgroups") == 0)
                return set_command_line(c->keep_cgroups, sizeof c->keep_cgroups, value, err, errlen);
        if (strcmp(key, "auto-reexec") == 0)
                return parse_auto_reexec(c, value, err, errlen);
        if (strcmp(key, "watchdog") == 0)
                return set_watchdog(c, value, err, errlen);
        snprintf(err, errlen, "unknown key '%s'", key);
        return -ENOENT;
}

static void report_problem(config_report_fn report, const char *source, unsigned line, const char *msg) {
        if (report)
                report(source, line, msg);
}

unsigned config_parse_text(struct config *c, char *text, const char *source, config_report_fn report) {
        unsigned problems = 0, lineno = 0;
        char err[192], *next = text;

        while (next) {
                char *line = next, *nl = strchr(next, '\n');
                if (nl) {
                        *nl = '\0';
                        next = nl + 1;
                } else
                        next = NULL;
                lineno++;
                line = strip(line);
                if (line[0] == '\0' || line[0] == '#' || line[0] == ';')
                        continue;
                char *eq = strchr(line, '=');
                if (!eq) {
                        report_problem(report, source, lineno, "expected 'key = value', line ignored");
                        problems++;
                        continue;
                }
                *eq = '\0';
                char *key = strip(line), *value = strip(eq + 1);
                if (config_set(c, key, value, err, sizeof err) < 0) {
                        report_problem(report, source, lineno, err);
                        problems++;
                }
        }
        return problems;
}

int config_load_file(struct config *c, const char *path, config_report_fn report) {
        static char buf[65536];
        ssize_t n = read_file(path, buf, sizeof buf);

        if (n < 0) {
                if (n != -ENOENT) {
                        char msg[128];
                        snprintf(msg, sizeof msg, "cannot read: %s", strerror((int) -n));
                        report_problem(report, path, 0, msg);
                }
                return (int) n;
        }
        if ((size_t) n == sizeof buf - 1)
                report_problem(report, path, 0, "file larger than 64 KiB, rest ignored");
        return (int) config_parse_text(c, buf, path, report);
}

/* Split a kernel command line the way the kernel does: blanks separate
 * words, double quotes group (and are removed). */
static char *next_word(char **cursor) {
        char *p = *cursor, *start, *out;
        bool quoted = false;

        while (*p == ' ' || *p == '\t' || *p == '\n')
                p++;
        if (*p == '\0')
                return NULL;
        start = out = p;
        for (; *p; p++) {
                if (*p == '"') {
                        quoted = !quoted;
                        continue;
                }
                if (!quoted && (*p == ' ' || *p == '\t' || *p == '\n'))
                        break;
                *out++ = *p;
        }
        if (*p)
                p++;
        *out = '\0';
        *cursor = p;
        return start;
}

unsigned config_apply_cmdline(struct config *c, char *cmdline, config_report_fn report) {
        unsigned problems = 0;
        char err[192], *word, *cursor = cmdline;

        while ((word = next_word(&cursor))) {
                if (strncmp(word, "initshim.", 9) != 0)
                        continue;
                char *key = word + 9, *eq = strchr(key, '=');
                if (!eq) {
                        snprintf(err, sizeof err, "'%s' has no '=value', ignored", word);
                        report_problem(report, "kernel command line", 0, err);
                        problems++;
                        continue;
                }
                *eq = '\0';
                /* "version NAME = PATH" defines versions in the file only; on the
                 * command line initshim.version=NAME forces one for this boot. A
                 * quoted "initshim.version NAME=PATH" would define one: refused. */
                if (strpbrk(key, " \t\n")) {
                        snprintf(err, sizeof err, "'initshim.%s': versions are defined in the config file only, ignored",
                                 key);
                        report_problem(report, "kernel command line", 0, err);
                        problems++;
                        continue;
                }
                if (config_set(c, key, eq + 1, err, sizeof err) < 0) {
                        report_problem(report, "kernel command line", 0, err);
                        problems++;
                }
        }
        return problems;
}

const struct version *config_find_version(const struct config *c, const char *name) {
        for (size_t i = 0; i < c->n_versions; i++)
                if (strcmp(c->versions[i].name, name) == 0)
                        return &c->versions[i];
        return NULL;
}

static void add_candidate(struct candidate *out, size_t max, size_t *n, const char *path, const char *why) {
        if (!path || path[0] == '\0' || *n >= max)
                return;
        for (size_t i = 0; i < *n; i++)
                if (strcmp(out[i].path, path) == 0)
                        return;
        out[*n] = (struct candidate){ .path = path, .why = why };
        (*n)++;
}

size_t config_boot_candidates(const struct config *c, struct candidate *out, size_t max) {
        const struct version *v;
        size_t n = 0;

        if (c->forced_version[0] && (v = config_find_version(c, c->forced_version)))
                add_candidate(out, max, &n, v->path, "forced by initshim.version=");
        if (c->default_version[0] && (v = config_find_version(c, c->default_version)))
                add_candidate(out, max, &n, v->path, "default version");
        add_candidate(out, max, &n, c->systemd, "systemd=");
        if (c->fallback_version[0] && (v = config_find_version(c, c->fallback_version)))
                add_candidate(out, max, &n, v->path, "fallback version");
        add_candidate(out, max, &n, SYSTEMD_PATH_DEBIAN, "distribution default");
        add_candidate(out, max, &n, SYSTEMD_PATH_USR, "distribution default");
        return n;
}
