/* Unit files (unitfile.h), as 252's and 257's load-fragment.c and
 * dropin.c read them, for the settings discovery uses. */
#include "versions/unitfile.h"
#include "common/util.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define UNIT_FILE_MAX 65536
#define DROPINS_MAX 32
#define UNIT_NAME_MAX 256

static bool ends_with(const char *s, const char *suffix) {
        size_t l = strlen(s), k = strlen(suffix);

        return l >= k && strcmp(s + l - k, suffix) == 0;
}

/* The section's settings of one file. */
static int read_settings(const char *path, const char *section, unit_setting_fn fn, void *data) {
        static char text[UNIT_FILE_MAX];
        char header[64];
        bool in_section = false;
        ssize_t l = read_file(path, text, sizeof text);

        if (l < 0)
                return (int) l;
        if ((size_t) l >= sizeof text - 1)
                return -EFBIG;
        snprintf(header, sizeof header, "[%s]", section);
        for (char *save = NULL, *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *s = strip(line), *eq;
                if (!*s || *s == '#' || *s == ';')
                        continue;
                if (ends_with(s, "\\"))
                        return -EINVAL;
                if (*s == '[') {
                        in_section = strcmp(s, header) == 0;
                        continue;
                }
                if (!in_section || !(eq = strchr(s, '=')))
                        continue;
                *eq = '\0';
                fn(strip(s), strip(eq + 1), data);
        }
        return 0;
}

/* dir/name, if it is the unit's file: a regular file reached by no link,
 * or by a link whose target keeps the name (not /dev/null, not an alias
 * of another unit). 1 if so, 0 if absent, -ENOENT if masked or an alias. */
static int fragment(const char *dir, const char *name, char *path, size_t n) {
        char target[512];
        struct stat st;
        ssize_t l;

        if ((size_t) snprintf(path, n, "%s/%s", dir, name) >= n || lstat(path, &st) < 0)
                return 0;
        if (S_ISLNK(st.st_mode)) {
                const char *base;
                if ((l = readlink(path, target, sizeof target - 1)) <= 0)
                        return -ENOENT;
                target[l] = '\0';
                base = strrchr(target, '/');
                if (strcmp(base ? base + 1 : target, name) != 0)
                        return -ENOENT;
        }
        return stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 ? 1 : -ENOENT;
}

struct dropins {
        char names[DROPINS_MAX][128];
        char paths[DROPINS_MAX][512];
        size_t n;
        bool overflow;
};

static void add_dropins(struct dropins *d, const char *dir) {
        DIR *dp = opendir(dir);
        struct dirent *e;

        if (!dp)
                return;
        while ((e = readdir(dp))) {
                size_t i;
                if (!ends_with(e->d_name, ".conf") || strlen(e->d_name) >= sizeof d->names[0])
                        continue;
                for (i = 0; i < d->n && strcmp(d->names[i], e->d_name) != 0; i++)
                        ;
                if (i < d->n) /* a higher-priority directory has it */
                        continue;
                if (d->n == DROPINS_MAX ||
                    (size_t) snprintf(d->paths[d->n], sizeof d->paths[0], "%s/%s", dir, e->d_name) >=
                            sizeof d->paths[0]) {
                        d->overflow = true;
                        break;
                }
                strcpy(d->names[d->n++], e->d_name);
        }
        closedir(dp);
}

/* NAME.d (and TEMPLATE.d of an instance), for a-b-c.TYPE a-.TYPE.d and
 * a-b-.TYPE.d, and TYPE.d, in every directory by priority. */
static void find_dropins(const char *const *dirs, const char *name, const char *template, struct dropins *d) {
        const char *type = strrchr(name, '.') + 1;
        char sub[512];

        for (size_t i = 0; dirs[i]; i++) {
                snprintf(sub, sizeof sub, "%s/%s.d", dirs[i], name);
                add_dropins(d, sub);
                if (template[0]) {
                        snprintf(sub, sizeof sub, "%s/%s.d", dirs[i], template);
                        add_dropins(d, sub);
                }
                for (const char *dash = strchr(name, '-'); dash && dash < type; dash = strchr(dash + 1, '-')) {
                        snprintf(sub, sizeof sub, "%s/%.*s-.%s.d", dirs[i], (int) (dash - name), name, type);
                        add_dropins(d, sub);
                }
                snprintf(sub, sizeof sub, "%s/%s.d", dirs[i], type);
                add_dropins(d, sub);
        }
}

/* In name order (a few entries: insertion sort, no allocation). */
static void sort_dropins(struct dropins *d) {
        char t[512];

        for (size_t i = 1; i < d->n; i++)
                for (size_t j = i; j > 0 && strcmp(d->names[j - 1], d->names[j]) > 0; j--) {
                        strcpy(t, d->names[j]), strcpy(d->names[j], d->names[j - 1]), strcpy(d->names[j - 1], t);
                        strcpy(t, d->paths[j]), strcpy(d->paths[j], d->paths[j - 1]), strcpy(d->paths[j - 1], t);
                }
}

/* a@b.service's template a@.service into out, or "" if not an instance. */
static void template_of(const char *name, char *out, size_t n) {
        const char *at = strchr(name, '@'), *dot = strrchr(name, '.');

        out[0] = '\0';
        if (at && dot > at + 1)
                snprintf(out, n, "%.*s%s", (int) (at + 1 - name), name, dot);
}

int unit_file_read(const char *const *dirs, const char *name, const char *section, unit_setting_fn fn, void *data) {
        static struct dropins d;
        char path[512], template[UNIT_NAME_MAX];
        int r = 0;

        if (!strchr(name, '.') || strlen(name) >= UNIT_NAME_MAX)
                return -EINVAL;
        template_of(name, template, sizeof template);
        for (size_t i = 0; dirs[i] && r == 0; i++)
                r = fragment(dirs[i], name, path, sizeof path);
        for (size_t i = 0; template[0] && dirs[i] && r == 0; i++)
                r = fragment(dirs[i], template, path, sizeof path);
        if (r <= 0)
                return -ENOENT;
        if ((r = read_settings(path, section, fn, data)) < 0)
                return r;
        memset(&d, 0, sizeof d);
        find_dropins(dirs, name, template, &d);
        if (d.overflow)
                return -E2BIG;
        sort_dropins(&d);
        for (size_t i = 0; i < d.n; i++)
                if ((r = read_settings(d.paths[i], section, fn, data)) < 0)
                        return r;
        return 0;
}
