#include "cgroup.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int cgroup_pick(const char *text, char *buf, size_t n) {
        const char *unified = NULL, *named = NULL, *p;
        size_t ul = 0, nl = 0, l;

        for (const char *line = text; *line;) {
                const char *end = strchr(line, '\n');
                size_t len = end ? (size_t) (end - line) : strlen(line);
                if (len > 3 && strncmp(line, "0::", 3) == 0)
                        unified = line + 3, ul = len - 3;
                else if ((p = memmem(line, len, ":name=systemd:", 14)))
                        named = p + 14, nl = len - (size_t) (p + 14 - line);
                line += len + (end ? 1 : 0);
        }
        /* Hybrid hosts leave every process at "/" in the unified tree. */
        if (unified && !(ul == 1 && unified[0] == '/'))
                p = unified, l = ul;
        else if (named)
                p = named, l = nl;
        else if (unified)
                p = unified, l = ul;
        else {
                buf[0] = '\0';
                return -ENOENT;
        }
        if (l >= n) {
                buf[0] = '\0';
                return -ENAMETOOLONG;
        }
        memcpy(buf, p, l);
        buf[l] = '\0';
        return 0;
}

int cgroup_of(pid_t pid, char *buf, size_t n) {
        char path[64], text[2048];

        snprintf(path, sizeof path, "/proc/%d/cgroup", (int) pid);
        if (read_file(path, text, sizeof text) < 0) {
                buf[0] = '\0';
                return -ESRCH;
        }
        return cgroup_pick(text, buf, n);
}

static bool under(const char *path, const char *prefix, size_t plen) {
        /* path "/a/b/c" is under "a/b" and "/a/b", not under "a/bc". */
        if (path[0] == '/')
                path++;
        if (prefix[0] == '/')
                prefix++, plen--;
        while (plen > 0 && prefix[plen - 1] == '/')
                plen--;
        if (plen == 0)
                return false;
        return strncmp(path, prefix, plen) == 0 && (path[plen] == '\0' || path[plen] == '/');
}

bool cgroup_is_kept(const char *path, const char *keep_list) {
        if (under(path, "init.scope", 10))
                return true;
        for (const char *p = keep_list; *p;) {
                while (*p == ' ' || *p == '\t' || *p == ',')
                        p++;
                size_t l = strcspn(p, " \t,");
                if (l > 0 && under(path, p, l))
                        return true;
                p += l;
        }
        return false;
}
