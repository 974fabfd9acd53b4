#include "config/sdwatchdog.h"
#include "common/util.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

void sd_watchdog_init(struct sd_watchdog *w) {
        memset(w, 0, sizeof *w);
        w->reboot_ms = SD_WATCHDOG_REBOOT_MS;
}

struct span_unit {
        const char *name;
        uint64_t usec;
};

/* systemd's parse_sec() units ("m" is a minute, "M" a month). */
static const struct span_unit span_units[] = {
        { "us", 1 }, { "usec", 1 },
        { "ms", 1000 }, { "msec", 1000 },
        { "s", 1000000 }, { "sec", 1000000 }, { "second", 1000000 }, { "seconds", 1000000 },
        { "m", 60000000 }, { "min", 60000000 }, { "minute", 60000000 }, { "minutes", 60000000 },
        { "h", 3600000000ULL }, { "hr", 3600000000ULL }, { "hour", 3600000000ULL }, { "hours", 3600000000ULL },
        { "d", 86400000000ULL }, { "day", 86400000000ULL }, { "days", 86400000000ULL },
        { "w", 604800000000ULL }, { "week", 604800000000ULL }, { "weeks", 604800000000ULL },
        { "M", 2629800000000ULL }, { "month", 2629800000000ULL }, { "months", 2629800000000ULL },
        { "y", 31557600000000ULL }, { "year", 31557600000000ULL }, { "years", 31557600000000ULL },
};

static int span_unit_usec(const char *name, size_t len, uint64_t *ret) {
        if (len == 0) {
                *ret = 1000000; /* a bare number is seconds */
                return 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(span_units); i++)
                if (strlen(span_units[i].name) == len && strncmp(span_units[i].name, name, len) == 0) {
                        *ret = span_units[i].usec;
                        return 0;
                }
        return -EINVAL;
}

/* One "NUMBER[.FRACTION] [UNIT]" term at *p, added to *usec. */
static int parse_span_term(const char **p, uint64_t *usec) {
        const char *s = *p, *unit;
        uint64_t whole = 0, frac = 0, frac_div = 1, mul;

        if (!isdigit((unsigned char) *s) && *s != '.')
                return -EINVAL;
        for (; isdigit((unsigned char) *s); s++) {
                if (whole > (UINT64_MAX - 9) / 10)
                        return -ERANGE;
                whole = whole * 10 + (uint64_t) (*s - '0');
        }
        if (*s == '.')
                for (s++; isdigit((unsigned char) *s); s++)
                        if (frac_div < 1000000000ULL) {
                                frac = frac * 10 + (uint64_t) (*s - '0');
                                frac_div *= 10;
                        }
        while (*s == ' ' || *s == '\t')
                s++;
        for (unit = s; isalpha((unsigned char) *s); s++)
                ;
        if (span_unit_usec(unit, (size_t) (s - unit), &mul) < 0)
                return -EINVAL;
        if (whole > UINT64_MAX / mul)
                return -ERANGE;
        uint64_t add = whole * mul + (uint64_t) ((unsigned __int128) frac * mul / frac_div);
        if (*usec > UINT64_MAX - add)
                return -ERANGE;
        *usec += add;
        *p = s;
        return 0;
}

int sd_parse_timespan_ms(const char *s, uint64_t *ret) {
        uint64_t usec = 0;
        int r, terms = 0;

        for (;;) {
                while (*s == ' ' || *s == '\t')
                        s++;
                if (*s == '\0')
                        break;
                if ((r = parse_span_term(&s, &usec)) < 0)
                        return r;
                terms++;
        }
        if (terms == 0)
                return -EINVAL;
        *ret = usec / 1000 + (usec % 1000 != 0);
        return 0;
}

int sd_watchdog_parse_sec(const char *s, uint64_t *ret) {
        if (strcmp(s, "off") == 0) {
                *ret = 0;
                return 0;
        }
        if (strcmp(s, "default") == 0 || strcmp(s, "infinity") == 0) {
                *ret = SD_WATCHDOG_DEFAULT;
                return 0;
        }
        return sd_parse_timespan_ms(s, ret);
}

static void set_sec(uint64_t *dst, const char *value) {
        uint64_t v;

        if (sd_watchdog_parse_sec(value, &v) == 0)
                *dst = v;
}

static void set_device(struct sd_watchdog *w, const char *value) {
        if (value[0] == '/')
                (void) copy_string(w->device, sizeof w->device, value);
        else if (value[0] == '\0')
                w->device[0] = '\0';
}

static void set_manager_key(struct sd_watchdog *w, const char *key, const char *value) {
        if (strcmp(key, "RuntimeWatchdogSec") == 0)
                set_sec(&w->runtime_ms, value);
        else if (strcmp(key, "RebootWatchdogSec") == 0 || strcmp(key, "ShutdownWatchdogSec") == 0)
                set_sec(&w->reboot_ms, value);
        else if (strcmp(key, "WatchdogDevice") == 0)
                set_device(w, value);
}

void sd_watchdog_parse_text(struct sd_watchdog *w, char *text) {
        bool manager = false;

        for (char *save = NULL, *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                line = strip(line);
                if (line[0] == '#' || line[0] == ';' || line[0] == '\0')
                        continue;
                if (line[0] == '[') {
                        manager = strcmp(line, "[Manager]") == 0;
                        continue;
                }
                char *eq = strchr(line, '=');
                if (!manager || !eq)
                        continue;
                *eq = '\0';
                set_manager_key(w, strip(line), strip(eq + 1));
        }
}

void sd_watchdog_apply_cmdline(struct sd_watchdog *w, char *cmdline) {
        for (char *save = NULL, *word = strtok_r(cmdline, " \t\n", &save); word;
             word = strtok_r(NULL, " \t\n", &save)) {
                if (strncmp(word, "systemd.watchdog_device=", 24) == 0)
                        set_device(w, word + 24);
                else if (strncmp(word, "systemd.watchdog_sec=", 21) == 0) {
                        uint64_t v;
                        if (sd_watchdog_parse_sec(word + 21, &v) == 0)
                                w->runtime_ms = w->reboot_ms = v;
                }
        }
}

/* systemd's CONF_PATHS("systemd/system.conf.d"), highest priority first. */
static const char *const dropin_dirs[] = {
        "/etc/systemd/system.conf.d",
        "/run/systemd/system.conf.d",
        "/usr/local/lib/systemd/system.conf.d",
        "/usr/lib/systemd/system.conf.d",
};

#define DROPINS_MAX 64
struct dropin {
        char name[256];
        unsigned dir;
};
struct dropins {
        struct dropin d[DROPINS_MAX];
        size_t n;
};

static bool is_conf_name(const char *name) {
        size_t l = strlen(name);
        return name[0] != '.' && l > 5 && strcmp(name + l - 5, ".conf") == 0;
}

/* A name seen in a higher-priority directory masks the same name below. */
static void add_dropin(struct dropins *list, const char *name, unsigned dir) {
        size_t i;

        for (i = 0; i < list->n; i++)
                if (strcmp(list->d[i].name, name) == 0)
                        return;
        if (list->n >= DROPINS_MAX || copy_string(list->d[list->n].name, sizeof list->d[0].name, name) < 0)
                return;
        list->d[list->n++].dir = dir;
}

static void list_dropin_dir(struct dropins *list, const char *root, unsigned dir) {
        char path[512], buf[4096];
        int fd;

        snprintf(path, sizeof path, "%s%s", root, dropin_dirs[dir]);
        if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
                return;
        for (long n; (n = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0;)
                for (long off = 0; off < n;) {
                        struct dirent64 *de = (struct dirent64 *) (buf + off);
                        off += de->d_reclen;
                        if (is_conf_name(de->d_name))
                                add_dropin(list, de->d_name, dir);
                }
        close(fd);
}

/* By file name, whatever the directory (no qsort: it may allocate). */
static void sort_dropins(struct dropins *list) {
        for (size_t i = 1; i < list->n; i++) {
                struct dropin x = list->d[i];
                size_t j = i;
                for (; j > 0 && strcmp(list->d[j - 1].name, x.name) > 0; j--)
                        list->d[j] = list->d[j - 1];
                list->d[j] = x;
        }
}

static void parse_file(struct sd_watchdog *w, const char *path) {
        static char text[16384];

        if (read_file(path, text, sizeof text) >= 0)
                sd_watchdog_parse_text(w, text);
}

void sd_watchdog_load(struct sd_watchdog *w, const char *root) {
        static struct dropins list;
        char path[600];

        sd_watchdog_init(w);
        snprintf(path, sizeof path, "%s/etc/systemd/system.conf", root);
        parse_file(w, path);
        list.n = 0;
        for (unsigned i = 0; i < ELEMENTSOF(dropin_dirs); i++)
                list_dropin_dir(&list, root, i);
        sort_dropins(&list);
        for (size_t i = 0; i < list.n; i++) {
                snprintf(path, sizeof path, "%s%s/%s", root, dropin_dirs[list.d[i].dir], list.d[i].name);
                parse_file(w, path);
        }
        snprintf(path, sizeof path, "%s/proc/cmdline", root);
        static char cmdline[4096];
        if (read_file(path, cmdline, sizeof cmdline) >= 0)
                sd_watchdog_apply_cmdline(w, cmdline);
}

int hw_watchdog_state(const char *device, unsigned *timeout_s) {
        char path[96], buf[32];
        struct stat st;

        if (stat(device, &st) < 0)
                return -errno;
        if (!S_ISCHR(st.st_mode))
                return -ENOTTY;
        if (timeout_s) {
                snprintf(path, sizeof path, "/sys/dev/char/%u:%u/timeout", major(st.st_rdev), minor(st.st_rdev));
                unsigned t;
                *timeout_s = read_first_line(path, buf, sizeof buf) > 0 && sscanf(buf, "%u", &t) == 1 ? t : 0;
        }
        snprintf(path, sizeof path, "/sys/dev/char/%u:%u/state", major(st.st_rdev), minor(st.st_rdev));
        if (read_first_line(path, buf, sizeof buf) < 0)
                return -ENOENT;
        return strcmp(strip(buf), "active") == 0;
}
