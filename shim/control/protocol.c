#include "control/protocol.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char *const verb_names[_VERB_MAX] = {
        [VERB_PING] = "ping",
        [VERB_STATUS] = "status",
        [VERB_EXEC] = "exec",
        [VERB_REBOOT] = "reboot",
        [VERB_POWEROFF] = "poweroff",
        [VERB_HALT] = "halt",
        [VERB_TAKEOVER] = "takeover",
        [VERB_GUARD] = "guard",
        [VERB_VERSIONS] = "versions",
        [VERB_UPGRADE] = "upgrade",
};

/* Which verbs take an argument: 0 none, 1 optional, 2 required. */
static const unsigned char verb_arg[_VERB_MAX] = {
        [VERB_STATUS] = 1,
        [VERB_EXEC] = 1,
        [VERB_GUARD] = 2,
};

const char *verb_to_string(enum verb v) {
        return (unsigned) v < _VERB_MAX ? verb_names[v] : "?";
}

bool reply_name_valid(const char *name, size_t len) {
        if (len == 0 || len > PROTO_NAME_MAX || name[0] == '.')
                return false;
        for (size_t i = 0; i < len; i++) {
                char ch = name[i];
                if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                      ch == '_' || ch == '-' || ch == '.'))
                        return false;
        }
        return true;
}

/* Printable ASCII only: a request is typed by a human or a script. */
static bool printable(const char *s, size_t len) {
        for (size_t i = 0; i < len; i++)
                if ((unsigned char) s[i] < 0x20 || (unsigned char) s[i] > 0x7e)
                        return false;
        return true;
}

int request_parse(const char *line, size_t len, struct request *req, char *err, size_t errlen) {
        const char *p = line, *end = line + len, *tok;
        size_t tl;

        memset(req, 0, sizeof *req);
        err[0] = '\0';

        /* Reply name first, so even a bad request can be answered. */
        tok = p;
        while (p < end && *p != ' ')
                p++;
        tl = (size_t) (p - tok);
        if (!reply_name_valid(tok, tl)) {
                snprintf(err, errlen, "malformed request (no valid reply name)");
                return -EBADMSG;
        }
        memcpy(req->reply, tok, tl);

        if (len >= PROTO_LINE_MAX) {
                snprintf(err, errlen, "request longer than %d bytes", PROTO_LINE_MAX - 1);
                return -E2BIG;
        }
        if (!printable(line, len)) {
                snprintf(err, errlen, "request contains non-printable bytes");
                return -EBADMSG;
        }
        if (p < end)
                p++;
        tok = p;
        while (p < end && *p != ' ')
                p++;
        tl = (size_t) (p - tok);
        if (tl == 0) {
                snprintf(err, errlen, "empty request");
                return -EBADMSG;
        }
        int v;
        for (v = 0; v < _VERB_MAX; v++)
                if (strlen(verb_names[v]) == tl && memcmp(verb_names[v], tok, tl) == 0)
                        break;
        if (v == _VERB_MAX) {
                snprintf(err, errlen, "unknown command '%.*s'", (int) (tl > 32 ? 32 : tl), tok);
                return -EOPNOTSUPP;
        }
        req->verb = (enum verb) v;

        if (p < end)
                p++;
        tl = (size_t) (end - p);
        if (tl > 0) {
                if (!verb_arg[v]) {
                        snprintf(err, errlen, "'%s' takes no argument", verb_names[v]);
                        return -EINVAL;
                }
                if (tl >= PROTO_ARG_MAX || memchr(p, ' ', tl)) {
                        snprintf(err, errlen, "bad argument for '%s'", verb_names[v]);
                        return -EINVAL;
                }
                memcpy(req->arg, p, tl);
        } else if (verb_arg[v] == 2) {
                snprintf(err, errlen, "'%s' needs an argument", verb_names[v]);
                return -EINVAL;
        }
        return 0;
}

int request_format(char *buf, size_t n, const char *reply, const char *verb, const char *arg) {
        int l = arg && arg[0] ? snprintf(buf, n, "\n%s %s %s\n", reply, verb, arg)
                              : snprintf(buf, n, "\n%s %s\n", reply, verb);
        /* The leading newline does not count against the line's limit. */
        if (l < 0 || (size_t) l >= n || l > PROTO_LINE_MAX + 1)
                return -E2BIG;
        return l;
}
