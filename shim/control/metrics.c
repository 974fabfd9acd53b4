#include "control/metrics.h"
#include "common/log.h"
#include "common/version.h"
#include "common/util.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>


static const char *const reason_names[_TAKEOVER_MAX] = {
        [TAKEOVER_CRASH] = "crash",       [TAKEOVER_HEALTH] = "health", [TAKEOVER_OPERATOR] = "operator",
        [TAKEOVER_SWITCH] = "switch",     [TAKEOVER_OTHER] = "other",
};
static const char *const outcome_names[_SWITCH_MAX] = {
        [SWITCH_OK] = "ok",
        [SWITCH_ROLLED_BACK] = "rolled_back",
        [SWITCH_TAKEN_OVER] = "taken_over",
        [SWITCH_FAILED] = "failed",
};
static const char *const level_names[] = { "ok", "degraded", "failed" };

/* The tracer's reasons: "crash: ...", the operator's takeover, or a health
 * check's "NAME: ..." (docs/recovery.md). */
enum takeover_reason metrics_takeover_reason(const char *reason) {
        static const char *const checks[] = { "liveness", "zombies", "memory", "upgrade" };

        if (strncmp(reason, "crash", 5) == 0)
                return TAKEOVER_CRASH;
        if (strstr(reason, "requested by the operator"))
                return TAKEOVER_OPERATOR;
        for (size_t i = 0; i < ELEMENTSOF(checks); i++)
                if (strncmp(reason, checks[i], strlen(checks[i])) == 0)
                        return TAKEOVER_HEALTH;
        return TAKEOVER_OTHER;
}

/* The switch's replies (guard/switch.c): "ok", "... rolled back ...",
 * "... taken over ..." / "rescue mode took over", or nothing changed. */
enum switch_outcome metrics_switch_outcome(const char *reply) {
        if (strncmp(reply, "ok", 2) == 0)
                return SWITCH_OK;
        if (strstr(reply, "rolled back"))
                return SWITCH_ROLLED_BACK;
        if (strstr(reply, "taken over") || strstr(reply, "took over"))
                return SWITCH_TAKEN_OVER;
        return SWITCH_FAILED;
}

static bool parse_u64(const char *s, uint64_t *ret) {
        char *end;
        unsigned long long v;

        if (*s < '0' || *s > '9')
                return false;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno != 0 || (*end != '\0' && *end != '\n' && *end != ' '))
                return false;
        *ret = v;
        return true;
}

/* One "key value" line of the state file. */
static void load_line(struct metrics *m, const char *key, const char *value) {
        uint64_t v;

        if (!parse_u64(value, &v))
                return;
        for (int i = 0; i < _TAKEOVER_MAX; i++)
                if (strncmp(key, "takeovers-", 10) == 0 && strcmp(key + 10, reason_names[i]) == 0)
                        m->takeovers[i] = v;
        for (int i = 0; i < _SWITCH_MAX; i++)
                if (strncmp(key, "switches-", 9) == 0 && strcmp(key + 9, outcome_names[i]) == 0)
                        m->switches[i] = v;
        if (strcmp(key, "last-takeover") == 0)
                m->last_takeover_s = v;
        else if (strcmp(key, "ptrace-stops") == 0)
                m->ptrace_stops = v;
        else if (strcmp(key, "oldest-zombie-ms") == 0)
                m->oldest_zombie_ms = v;
}

int metrics_load(struct metrics *m, const char *path) {
        static char buf[1024];
        ssize_t n;

        memset(m, 0, sizeof *m);
        n = read_file(path, buf, sizeof buf);
        if (n < 0)
                return (int) n;
        for (char *line = buf; line && *line;) {
                char *next = strchr(line, '\n'), *sp;
                if (next)
                        *next++ = '\0';
                sp = strchr(line, ' ');
                if (sp) {
                        *sp = '\0';
                        load_line(m, line, sp + 1);
                }
                line = next;
        }
        return 0;
}

int metrics_save(const struct metrics *m, const char *path) {
        char buf[1024];
        size_t l = 0;

        for (int i = 0; i < _TAKEOVER_MAX; i++)
                l += (size_t) snprintf(buf + l, sizeof buf - l, "takeovers-%s %lu\n", reason_names[i], m->takeovers[i]);
        for (int i = 0; i < _SWITCH_MAX; i++)
                l += (size_t) snprintf(buf + l, sizeof buf - l, "switches-%s %lu\n", outcome_names[i], m->switches[i]);
        l += (size_t) snprintf(buf + l, sizeof buf - l, "last-takeover %llu\nptrace-stops %lu\noldest-zombie-ms %llu\n",
                               (unsigned long long) m->last_takeover_s, m->ptrace_stops,
                               (unsigned long long) m->oldest_zombie_ms);
        return write_file_atomic(path, buf, l < sizeof buf ? l : sizeof buf - 1, 0644);
}

/* The guard's counters; stops_base: what earlier guards counted. */
static struct metrics guard_metrics;
static unsigned long stops_base;
static pid_t zombie_pid[METRICS_ZOMBIES_TRACKED];
static uint64_t zombie_since[METRICS_ZOMBIES_TRACKED];
static size_t n_zombies;
static bool counted; /* since the last metrics_take_counted() */

bool metrics_take_counted(void) {
        bool r = counted;
        counted = false;
        return r;
}

void metrics_guard_init(void) {
        (void) metrics_load(&guard_metrics, METRICS_STATE_FILE);
        stops_base = guard_metrics.ptrace_stops;
}

static void save_guard_metrics(void) {
        static int last_error;
        int r = metrics_save(&guard_metrics, METRICS_STATE_FILE);

        /* Once per new error: this runs every interval. */
        if (r < 0 && r != last_error)
                log_errno(r, LOG_WARNING, "metrics: cannot save the counters in " METRICS_STATE_FILE);
        last_error = r;
}

void metrics_count_takeover(const char *reason, bool during_switch) {
        enum takeover_reason r = during_switch ? TAKEOVER_SWITCH : metrics_takeover_reason(reason);

        guard_metrics.takeovers[r]++;
        guard_metrics.last_takeover_s = (uint64_t) time(NULL);
        counted = true;
        save_guard_metrics();
}

void metrics_count_switch(const char *reply) {
        guard_metrics.switches[metrics_switch_outcome(reply)]++;
        counted = true;
        save_guard_metrics();
}

/* First-seen times of PID 1's zombies (pids sorted); the oldest's age. */
static uint64_t track_zombies(const pid_t *pids, size_t n, uint64_t now) {
        static pid_t new_pid[METRICS_ZOMBIES_TRACKED];
        static uint64_t new_since[METRICS_ZOMBIES_TRACKED];
        uint64_t oldest = now;
        size_t j = 0;

        if (n > METRICS_ZOMBIES_TRACKED)
                n = METRICS_ZOMBIES_TRACKED;
        for (size_t i = 0; i < n; i++) {
                while (j < n_zombies && zombie_pid[j] < pids[i])
                        j++;
                new_pid[i] = pids[i];
                new_since[i] = j < n_zombies && zombie_pid[j] == pids[i] ? zombie_since[j] : now;
                if (new_since[i] < oldest)
                        oldest = new_since[i];
        }
        memcpy(zombie_pid, new_pid, n * sizeof *new_pid);
        memcpy(zombie_since, new_since, n * sizeof *new_since);
        n_zombies = n;
        return now - oldest;
}

void metrics_guard_update(struct metrics *m, unsigned long stops, const pid_t *zombies, size_t n, uint64_t now) {
        guard_metrics.ptrace_stops = stops_base + stops;
        guard_metrics.oldest_zombie_ms = track_zombies(zombies, n, now);
        save_guard_metrics();
        *m = guard_metrics;
        m->pid1_rss_bytes = metrics_read_rss(1);
}

uint64_t metrics_read_rss(pid_t pid) {
        static char buf[4096];
        const char *v = read_proc_status_field(pid, "VmRSS", buf, sizeof buf);
        uint64_t kb;

        while (v && (*v == ' ' || *v == '\t'))
                v++;
        if (!v || !parse_u64(v, &kb) || kb > UINT64_MAX / 1024)
                return 0;
        return kb * 1024;
}

void metrics_collect(struct metrics *m) {
        (void) metrics_load(m, METRICS_STATE_FILE);
        m->pid1_rss_bytes = metrics_read_rss(1);
}


static void family(struct text_out *o, const char *name, const char *type, const char *help) {
        text_put(o, "# HELP initshim_%s %s\n# TYPE initshim_%s %s\n", name, help, name, type);
}

/* Is the status's guard line one of a guard that traces PID 1? */
static bool guard_attached(const struct status *s) {
        return strncmp(s->guard, "running", 7) == 0 && !strstr(s->guard, "NOT tracing") &&
               !strstr(s->guard, "detached");
}

/* Copy the [a-z_] word at p into out (size n), up to a ':'. NULL if the
 * word is empty, too long or not followed by ':'. No sscanf: fixed code. */
static const char *take_word(const char *p, char *out, size_t n) {
        size_t i = 0;

        while ((p[i] >= 'a' && p[i] <= 'z') || p[i] == '_') {
                if (i + 1 >= n)
                        return NULL;
                out[i] = p[i];
                i++;
        }
        out[i] = '\0';
        return i > 0 && p[i] == ':' ? p + i + 1 : NULL;
}

/* "check-NAME: LEVEL: reason" lines of the status's health text. */
static void put_health(struct text_out *o, const struct status *s) {
        bool first = true;

        for (const char *line = s->health; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
                char name[32], level[16];
                const char *p = strncmp(line, "check-", 6) == 0 ? take_word(line + 6, name, sizeof name) : NULL;
                if (!p || *p++ != ' ' || !take_word(p, level, sizeof level))
                        continue;
                if (first)
                        family(o, "health_check", "gauge", "1 for the state each health check of PID 1 is in.");
                first = false;
                for (size_t i = 0; i < ELEMENTSOF(level_names); i++)
                        text_put(o, "initshim_health_check{check=\"%s\",state=\"%s\"} %d\n", name, level_names[i],
                            strcmp(level, level_names[i]) == 0);
        }
}

static void put_counters(struct text_out *o, const struct metrics *m) {
        family(o, "takeovers_total", "counter", "Takeovers of PID 1 by the guard, by reason.");
        for (int i = 0; i < _TAKEOVER_MAX; i++)
                text_put(o, "initshim_takeovers_total{reason=\"%s\"} %lu\n", reason_names[i], m->takeovers[i]);
        family(o, "switches_total", "counter", "Version switches of PID 1, by outcome.");
        for (int i = 0; i < _SWITCH_MAX; i++)
                text_put(o, "initshim_switches_total{outcome=\"%s\"} %lu\n", outcome_names[i], m->switches[i]);
        family(o, "last_takeover_timestamp_seconds", "gauge", "Unix time of the last takeover, 0 if none.");
        text_put(o, "initshim_last_takeover_timestamp_seconds %llu\n", (unsigned long long) m->last_takeover_s);
        family(o, "ptrace_stops_total", "counter", "ptrace stops of PID 1 the guard handled.");
        text_put(o, "initshim_ptrace_stops_total %lu\n", m->ptrace_stops);
}

size_t metrics_format(const struct status *s, const struct metrics *m, char *buf, size_t n) {
        struct text_out o = { buf, n, 0, false };

        if (n)
                buf[0] = '\0';
        family(&o, "build_info", "gauge", "The running initshim's version.");
        text_put(&o, "initshim_build_info{version=\"%s\"} 1\n", INITSHIM_VERSION);
        if (s->installed[0]) {
                family(&o, "running_build_mismatch", "gauge",
                       "1 if the guard or rescue-mode PID 1 runs another build than the installed binary.");
                text_put(&o, "initshim_running_build_mismatch %d\n", status_build_mismatch(s));
        }
        family(&o, "mode", "gauge", "1 for the mode initshim is in: normal (systemd is PID 1) or rescue.");
        text_put(&o, "initshim_mode{mode=\"normal\"} %d\ninitshim_mode{mode=\"rescue\"} %d\n", s->mode == MODE_NORMAL,
            s->mode == MODE_RESCUE);
        family(&o, "guard_attached", "gauge", "1 if the guard traces PID 1.");
        text_put(&o, "initshim_guard_attached %d\n", guard_attached(s));
        put_counters(&o, m);
        family(&o, "pid1_resident_memory_bytes", "gauge", "Resident memory of PID 1.");
        text_put(&o, "initshim_pid1_resident_memory_bytes %llu\n", (unsigned long long) m->pid1_rss_bytes);
        family(&o, "pid1_zombies", "gauge", "Zombie children of PID 1.");
        text_put(&o, "initshim_pid1_zombies %u\n", s->zombies);
        family(&o, "pid1_oldest_zombie_age_seconds", "gauge", "Since the guard first saw PID 1's oldest zombie.");
        text_put(&o, "initshim_pid1_oldest_zombie_age_seconds %llu.%03llu\n",
            (unsigned long long) (s->zombies ? m->oldest_zombie_ms / 1000 : 0),
            (unsigned long long) (s->zombies ? m->oldest_zombie_ms % 1000 : 0));
        family(&o, "boot_exec_seconds", "gauge", "From initshim's start to the exec of systemd at boot.");
        text_put(&o, "initshim_boot_exec_seconds %llu.%06llu\n", (unsigned long long) (s->boot_exec_us / 1000000),
            (unsigned long long) (s->boot_exec_us % 1000000));
        put_health(&o, s);
        return o.len;
}

static bool parent_is_directory(const char *path) {
        char dir[PATH_MAX];
        const char *slash = strrchr(path, '/');
        struct stat st;

        if (!slash || (size_t) (slash - path) >= sizeof dir)
                return false;
        memcpy(dir, path, (size_t) (slash - path));
        dir[slash - path] = '\0';
        return stat(dir[0] ? dir : "/", &st) == 0 && S_ISDIR(st.st_mode);
}

int metrics_write_file(const char *path, bool configured, const char *text, size_t len) {
        static int last_error;
        int r;

        if (!path[0])
                return 0;
        if (!configured && !parent_is_directory(path))
                return -ENOENT;
        r = write_file_atomic(path, text, len, 0644);
        /* Once per new error: the guard retries every interval. */
        if (r < 0 && r != last_error)
                log_errno(r, LOG_WARNING, "metrics: cannot write %s", path);
        last_error = r;
        return r;
}
