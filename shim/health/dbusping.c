/* D-Bus Peer.Ping and Properties.Get over systemd's private socket, with
 * nothing but libc.
 * See dbusping.h for the contract and docs/health.md for how it was checked.
 *
 * References (D-Bus specification, "Message Protocol" and "Authentication
 * Protocol"; systemd v252 sd-bus):
 *  - fixed header: endian 'l'/'B', type, flags, version 1, body length,
 *    serial (!= 0), then the header-field array a(yv): a u32 byte length that
 *    excludes the padding after the last field, each field 8-aligned; the body
 *    starts at the next 8-byte boundary. Total = 16 + ALIGN8(fields) + body
 *    (sd-bus bus-socket.c bus_socket_read_message_need()).
 *  - the server side of sd-bus (bus-socket.c bus_socket_auth_verify_server())
 *    wants a NUL byte first, answers "AUTH EXTERNAL <hex(uid)>" with
 *    "OK <32 hex>" if the uid matches SO_PEERCRED, with "REJECTED" if not,
 *    and "DATA" to an AUTH EXTERNAL without initial response.
 *  - PID 1 (src/core/dbus.c bus_on_connection()) accepts, closes at once a
 *    peer that is neither uid 0 nor its own euid (bus_check_peercred()), and
 *    makes the connection an sd-bus server: no Hello, no destination.
 *  - sd-bus answers org.freedesktop.DBus.Peer.Ping itself, on any path,
 *    before object dispatch (sd-bus.c process_builtin()).
 *  - PID 1 sends every signal to every private connection, unconditionally
 *    (dbus.c bus_foreach_bus()): the reply may come after signals.
 *  - Properties.Get(ss) is answered with a METHOD_RETURN of signature "v"
 *    (sd-bus bus-objects.c property_get_set_callbacks_run(): the value is
 *    appended as a variant), or an ERROR such as
 *    org.freedesktop.DBus.Error.UnknownProperty. */
#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "health/dbusping.h"

#define ALIGN_TO(x, a) (((x) + ((a) - 1)) & ~((uint64_t) (a) - 1))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
/* The D-Bus specification's limit on nesting (32 arrays + 32 structs). */
#define SIG_DEPTH_MAX 64
/* Longest auth line we wait for ("OK " + 32 hex is 35; REJECTED lists
 * mechanisms). */
#define AUTH_LINE_MAX 512

/* ---- building ---------------------------------------------------------- */

struct wbuf {
        uint8_t *p;
        size_t size, n;
        bool overflow;
};

static void w_u8(struct wbuf *w, uint8_t v) {
        if (w->n >= w->size) {
                w->overflow = true;
                return;
        }
        w->p[w->n++] = v;
}

static void w_pad(struct wbuf *w, size_t align) {
        while (w->n % align != 0 && !w->overflow)
                w_u8(w, 0);
}

static void w_u32le(struct wbuf *w, uint32_t v) {
        for (int i = 0; i < 4; i++)
                w_u8(w, (uint8_t) (v >> (8 * i)));
}

/* Fill in a u32 written earlier (only when !w->overflow, so it is there). */
static void w_set_u32le(struct wbuf *w, size_t at, uint32_t v) {
        for (int i = 0; i < 4; i++)
                w->p[at + i] = (uint8_t) (v >> (8 * i));
}

static void w_bytes(struct wbuf *w, const char *s, size_t len) {
        for (size_t i = 0; i < len; i++)
                w_u8(w, (uint8_t) s[i]);
        w_u8(w, 0);
}

/* 's' or 'o': padding to 4, u32 length, bytes, NUL. */
static void w_string(struct wbuf *w, const char *s, size_t len) {
        w_pad(w, 4);
        w_u32le(w, (uint32_t) len);
        w_bytes(w, s, len);
}

/* The start of one header field struct (yv) whose variant holds a value of
 * the one-letter type: code, signature (u8 1, type, NUL). */
static void w_field(struct wbuf *w, uint8_t code, char type) {
        w_pad(w, 8);
        w_u8(w, code);
        w_u8(w, 1);
        w_u8(w, (uint8_t) type);
        w_u8(w, 0);
}

/* A header field of type 's' or 'o' (at 8k + 4: no padding before the length). */
static void w_field_string(struct wbuf *w, uint8_t code, char type, const char *s, size_t len) {
        w_field(w, code, type);
        w_string(w, s, len);
}

/* Names are at most 255 bytes (spec, "Valid Names"). */
static bool name_ok(const char *s) {
        return s && s[0] && strnlen(s, 256) <= 255;
}

ssize_t dbus_build_method_call_args(void *buf, size_t size, uint32_t serial, const char *path,
                                    const char *interface, const char *member,
                                    const char *const *args, size_t n_args) {
        struct wbuf w = { .p = buf, .size = size };
        char sig[256];
        size_t lp;

        if (!buf || serial == 0 || !path || !name_ok(interface) || !name_ok(member) ||
            n_args >= sizeof sig || (n_args > 0 && !args))
                return -EINVAL;
        lp = strlen(path);
        /* Keep paths sane. */
        if (lp == 0 || path[0] != '/' || lp > DBUS_HEADER_SIZE_MAX)
                return -EINVAL;
        for (size_t i = 0; i < n_args; i++) {
                if (!args[i] || strnlen(args[i], DBUS_MSG_SIZE_MAX + 1) > DBUS_MSG_SIZE_MAX)
                        return -EINVAL;
                sig[i] = 's';
        }
        sig[n_args] = '\0';

        w_u8(&w, 'l');
        w_u8(&w, DBUS_MESSAGE_METHOD_CALL);
        w_u8(&w, 0); /* flags: we want the reply */
        w_u8(&w, 1); /* protocol version */
        w_u32le(&w, 0); /* body length, set below */
        w_u32le(&w, serial);
        w_u32le(&w, 0); /* header-field array length, set below */
        /* sd-bus's order (bus-message.c sd_bus_message_new_method_call()), so the
         * bytes equal those of sd_bus_call_method() with the same serial. */
        w_field_string(&w, DBUS_HEADER_PATH, 'o', path, lp);
        w_field_string(&w, DBUS_HEADER_MEMBER, 's', member, strlen(member));
        w_field_string(&w, DBUS_HEADER_INTERFACE, 's', interface, strlen(interface));
        /* sd-bus puts DESTINATION here; a p2p call has none. Like sd-bus,
         * no SIGNATURE field for an empty body. */
        if (n_args > 0) {
                w_field(&w, DBUS_HEADER_SIGNATURE, 'g');
                w_u8(&w, (uint8_t) n_args);
                w_bytes(&w, sig, n_args);
        }
        if (w.overflow)
                return -ENOBUFS;
        /* The array length excludes the padding after its last element. */
        w_set_u32le(&w, 12, (uint32_t) (w.n - DBUS_FIXED_HEADER_SIZE));
        w_pad(&w, 8); /* the body starts 8-aligned */
        size_t body = w.n;
        for (size_t i = 0; i < n_args; i++)
                w_string(&w, args[i], strlen(args[i]));
        if (w.overflow)
                return -ENOBUFS;
        w_set_u32le(&w, 4, (uint32_t) (w.n - body));
        return (ssize_t) w.n;
}

ssize_t dbus_build_method_call(void *buf, size_t size, uint32_t serial,
                               const char *path, const char *interface, const char *member) {
        return dbus_build_method_call_args(buf, size, serial, path, interface, member, NULL, 0);
}

ssize_t dbus_build_ping(void *buf, size_t size, uint32_t serial) {
        return dbus_build_method_call(buf, size, serial, DBUS_PING_OBJECT, DBUS_PEER_INTERFACE, "Ping");
}

ssize_t dbus_build_get_property(void *buf, size_t size, uint32_t serial,
                                const char *interface, const char *property) {
        const char *args[] = { interface, property };
        /* Get's arguments are names too: refuse what PID 1 would refuse. */
        if (!name_ok(interface) || !name_ok(property))
                return -EINVAL;
        return dbus_build_method_call_args(buf, size, serial, DBUS_PING_OBJECT, DBUS_PROPERTIES_INTERFACE,
                                           "Get", args, 2);
}

/* ---- parsing ----------------------------------------------------------- */

struct rbuf {
        const uint8_t *p;
        size_t pos, end; /* offsets from the start of the message */
        bool big;
};

static uint32_t get32(const uint8_t *p, bool big) {
        uint32_t v;
        memcpy(&v, p, 4);
        return big ? be32toh(v) : le32toh(v);
}

/* Alignment is relative to the start of the message (spec). Padding bytes
 * are not checked: a liveness probe should not fail on a sloppy peer. */
static int r_align(struct rbuf *r, size_t a) {
        uint64_t n = ALIGN_TO((uint64_t) r->pos, a);
        if (n > r->end)
                return -EBADMSG;
        r->pos = (size_t) n;
        return 0;
}

static int r_skip(struct rbuf *r, uint64_t n) {
        if (n > r->end - r->pos)
                return -EBADMSG;
        r->pos += (size_t) n;
        return 0;
}

static int r_u8(struct rbuf *r, uint8_t *v) {
        if (r->pos >= r->end)
                return -EBADMSG;
        *v = r->p[r->pos++];
        return 0;
}

static int r_u32(struct rbuf *r, uint32_t *v) {
        int k = r_align(r, 4);
        if (k < 0)
                return k;
        if (r->end - r->pos < 4)
                return -EBADMSG;
        *v = get32(r->p + r->pos, r->big);
        r->pos += 4;
        return 0;
}

/* 's' or 'o': u32 length, bytes, NUL; no NUL inside. */
static int r_string(struct rbuf *r, const char **s, uint32_t *len) {
        uint32_t n;
        int k = r_u32(r, &n);
        if (k < 0)
                return k;
        if ((uint64_t) n + 1 > r->end - r->pos)
                return -EBADMSG;
        const char *t = (const char *) r->p + r->pos;
        if (t[n] != '\0' || memchr(t, '\0', n))
                return -EBADMSG;
        r->pos += (size_t) n + 1;
        if (s)
                *s = t;
        if (len)
                *len = n;
        return 0;
}

/* 'g': u8 length, bytes, NUL. */
static int r_signature(struct rbuf *r, const char **s, uint8_t *len) {
        uint8_t n;
        int k = r_u8(r, &n);
        if (k < 0)
                return k;
        if ((size_t) n + 1 > r->end - r->pos)
                return -EBADMSG;
        const char *t = (const char *) r->p + r->pos;
        if (t[n] != '\0' || memchr(t, '\0', n))
                return -EBADMSG;
        r->pos += (size_t) n + 1;
        *s = t;
        *len = n;
        return 0;
}

static bool is_basic(char c) {
        return c && strchr("ybnqiuxtdhsog", c);
}

static size_t type_alignment(char c) {
        switch (c) {
        case 'n': case 'q':
                return 2;
        case 'b': case 'i': case 'u': case 'h': case 's': case 'o': case 'a':
                return 4;
        case 'x': case 't': case 'd': case '(': case '{':
                return 8;
        default: /* y g v */
                return 1;
        }
}

/* Length of the single complete type at the start of sig[0..n), 0 if there
 * is none. '{' is only valid right after 'a'. */
static size_t sig_single(const char *sig, size_t n, unsigned depth, bool dict_ok) {
        if (n == 0 || depth > SIG_DEPTH_MAX)
                return 0;
        if (is_basic(sig[0]) || sig[0] == 'v')
                return 1;
        if (sig[0] == 'a') {
                size_t e = sig_single(sig + 1, n - 1, depth + 1, true);
                return e ? e + 1 : 0;
        }
        if (sig[0] == '(' || (sig[0] == '{' && dict_ok)) {
                char close = sig[0] == '(' ? ')' : '}';
                size_t i = 1, members = 0;
                while (i < n && sig[i] != close) {
                        if (sig[0] == '{' && members == 0 && !is_basic(sig[i]))
                                return 0; /* dict keys are basic */
                        size_t e = sig_single(sig + i, n - i, depth + 1, false);
                        if (e == 0)
                                return 0;
                        i += e;
                        members++;
                }
                if (i >= n || members == 0 || (sig[0] == '{' && members != 2))
                        return 0;
                return i + 1;
        }
        return 0;
}

/* Skip one value of the single complete type sig[0..n) (already validated
 * with sig_single()). Arrays are skipped by their byte length. */
static int skip_value(struct rbuf *r, const char *sig, size_t n, unsigned depth) {
        const char *inner;
        uint32_t u;
        uint8_t g;
        int k;

        if (depth > SIG_DEPTH_MAX)
                return -EBADMSG;
        switch (sig[0]) {
        case 'y':
                return r_skip(r, 1);
        case 'n': case 'q':
                k = r_align(r, 2);
                return k < 0 ? k : r_skip(r, 2);
        case 'b': case 'i': case 'u': case 'h':
                return r_u32(r, &u);
        case 'x': case 't': case 'd':
                k = r_align(r, 8);
                return k < 0 ? k : r_skip(r, 8);
        case 's': case 'o':
                return r_string(r, NULL, NULL);
        case 'g':
                return r_signature(r, &inner, &g);
        case 'v':
                k = r_signature(r, &inner, &g);
                if (k < 0)
                        return k;
                if (g == 0 || sig_single(inner, g, depth + 1, false) != g)
                        return -EBADMSG;
                return skip_value(r, inner, g, depth + 1);
        case 'a':
                k = r_u32(r, &u);
                if (k < 0)
                        return k;
                /* The padding to the element alignment is there even when
                 * the array is empty, and not counted in its length. */
                k = r_align(r, type_alignment(sig[1]));
                return k < 0 ? k : r_skip(r, u);
        case '(':
                k = r_align(r, 8);
                if (k < 0)
                        return k;
                for (size_t i = 1; i < n && sig[i] != ')';) {
                        size_t e = sig_single(sig + i, n - i, depth + 1, false);
                        if (e == 0)
                                return -EBADMSG;
                        k = skip_value(r, sig + i, e, depth + 1);
                        if (k < 0)
                                return k;
                        i += e;
                }
                return 0;
        default:
                return -EBADMSG;
        }
}

/* A known field must carry exactly its one-letter type. */
static int expect_sig(const char *sig, uint8_t len, char type) {
        return len == 1 && sig[0] == type ? 0 : -EBADMSG;
}

/* The 16 fixed bytes (and, from them, the sizes). Garbage is rejected as
 * soon as its first bytes show it. */
static int parse_fixed_header(const uint8_t *p, size_t len, struct dbus_msg_info *info, uint32_t *fields) {
        uint64_t header_len, total;

        if (len >= 1 && p[0] != 'l' && p[0] != 'B')
                return -EBADMSG;
        if (len >= 2 && p[1] == 0)
                return -EBADMSG;
        if (len >= 4 && p[3] != 1)
                return -EBADMSG;
        if (len < DBUS_FIXED_HEADER_SIZE)
                return -EAGAIN;

        info->endian = p[0];
        info->type = p[1];
        info->flags = p[2];
        bool big = p[0] == 'B';
        info->body_len = get32(p + 4, big);
        info->serial = get32(p + 8, big);
        *fields = get32(p + 12, big);
        if (info->serial == 0)
                return -EBADMSG;

        header_len = DBUS_FIXED_HEADER_SIZE + ALIGN_TO((uint64_t) *fields, 8);
        total = header_len + info->body_len;
        if (header_len > DBUS_HEADER_SIZE_MAX || total > DBUS_MSG_SIZE_MAX)
                return -EMSGSIZE;
        info->header_len = (uint32_t) header_len;
        info->total_len = (uint32_t) total;
        if (len < header_len)
                return -EAGAIN;
        return 0;
}

struct header_seen {
        bool reply_serial, error_name;
};

/* One header field's value, of the type its code requires, into info. */
static int parse_header_field(struct rbuf *r, uint8_t code, const char *sig, uint8_t siglen,
                              struct dbus_msg_info *info, struct header_seen *seen) {
        const char *s;
        uint32_t slen;
        int k;

        switch (code) {
        case DBUS_HEADER_PATH:
                k = expect_sig(sig, siglen, 'o');
                return k < 0 ? k : r_string(r, NULL, NULL);
        case DBUS_HEADER_INTERFACE:
        case DBUS_HEADER_MEMBER:
        case DBUS_HEADER_DESTINATION:
        case DBUS_HEADER_SENDER:
                k = expect_sig(sig, siglen, 's');
                return k < 0 ? k : r_string(r, NULL, NULL);
        case DBUS_HEADER_ERROR_NAME:
                k = expect_sig(sig, siglen, 's');
                if (k == 0)
                        k = r_string(r, &s, &slen);
                if (k == 0) {
                        size_t c = MIN((size_t) slen, sizeof info->error_name - 1);
                        memcpy(info->error_name, s, c);
                        info->error_name[c] = '\0';
                        seen->error_name = true;
                }
                return k;
        case DBUS_HEADER_REPLY_SERIAL:
                k = expect_sig(sig, siglen, 'u');
                if (k == 0)
                        k = r_u32(r, &info->reply_serial);
                if (k == 0 && info->reply_serial == 0)
                        k = -EBADMSG;
                seen->reply_serial = true;
                return k;
        case DBUS_HEADER_SIGNATURE:
                k = expect_sig(sig, siglen, 'g');
                if (k == 0)
                        k = r_signature(r, &s, &siglen);
                if (k == 0) /* fits: at most 255 bytes */
                        memcpy(info->signature, s, (size_t) siglen + 1);
                return k;
        case DBUS_HEADER_UNIX_FDS:
                k = expect_sig(sig, siglen, 'u');
                return k < 0 ? k : r_u32(r, &slen);
        case 0: /* INVALID: "error if it appears in a message" (spec) */
                return -EBADMSG;
        default: /* unknown codes must be ignored (spec) */
                if (siglen == 0 || sig_single(sig, siglen, 0, false) != siglen)
                        return -EBADMSG;
                return skip_value(r, sig, siglen, 0);
        }
}

int dbus_parse_header(const void *buf, size_t len, struct dbus_msg_info *info) {
        const uint8_t *p = buf;
        struct header_seen seen = {};
        uint32_t fields;
        int k;

        if (!buf || !info)
                return -EINVAL;
        memset(info, 0, sizeof *info);
        if ((k = parse_fixed_header(p, len, info, &fields)) < 0)
                return k;

        struct rbuf r = { .p = p, .pos = DBUS_FIXED_HEADER_SIZE, .end = DBUS_FIXED_HEADER_SIZE + fields,
                          .big = p[0] == 'B' };
        while (r.pos < r.end) {
                const char *sig;
                uint8_t code, siglen;

                /* Every field (a struct) starts 8-aligned; the array length
                 * ends exactly after the last one. */
                if ((k = r_align(&r, 8)) < 0 || r.pos >= r.end)
                        return -EBADMSG;
                if ((k = r_u8(&r, &code)) < 0 || (k = r_signature(&r, &sig, &siglen)) < 0)
                        return -EBADMSG;
                if (parse_header_field(&r, code, sig, siglen, info, &seen) < 0)
                        return -EBADMSG;
        }

        /* Required fields of replies (spec, "Message Types"). */
        if ((info->type == DBUS_MESSAGE_METHOD_RETURN || info->type == DBUS_MESSAGE_ERROR) && !seen.reply_serial)
                return -EBADMSG;
        if (info->type == DBUS_MESSAGE_ERROR && !seen.error_name)
                return -EBADMSG;
        return 0;
}

/* The body of a Properties.Get reply holding a string; see
 * dbus_parse_string_variant(). why (a buffer of why_size) says what was
 * wrong. */
static int string_variant(const uint8_t *msg, const struct dbus_msg_info *info, char *out, size_t n,
                          char *why, size_t why_size) {
        struct rbuf r = { .p = msg, .pos = info->header_len, .end = info->total_len, .big = info->endian == 'B' };
        const char *vsig, *s;
        uint8_t vlen;
        uint32_t slen;

        out[0] = '\0';
        if (strcmp(info->signature, "v") != 0) {
                snprintf(why, why_size, "reply has signature '%s', not 'v'", info->signature);
                return -EBADMSG;
        }
        if (r_signature(&r, &vsig, &vlen) < 0 || vlen == 0 || sig_single(vsig, vlen, 0, false) != vlen) {
                snprintf(why, why_size, "malformed variant in the reply");
                return -EPROTO;
        }
        if (vlen != 1 || vsig[0] != 's') {
                /* Well-formed, or garbage? Only the former is a wrong type. */
                if (skip_value(&r, vsig, vlen, 0) < 0 || r.pos != r.end) {
                        snprintf(why, why_size, "malformed variant '%s' in the reply", vsig);
                        return -EPROTO;
                }
                snprintf(why, why_size, "property is a '%s', not a string", vsig);
                return -EBADMSG;
        }
        if (r_string(&r, &s, &slen) < 0 || r.pos != r.end) {
                snprintf(why, why_size, "malformed string in the reply");
                return -EPROTO;
        }
        if (slen >= n) {
                snprintf(why, why_size, "value of %u bytes does not fit %zu", slen, n);
                return -ENOBUFS;
        }
        memcpy(out, s, (size_t) slen + 1);
        return 0;
}

int dbus_parse_string_variant(const void *msg, size_t len, const struct dbus_msg_info *info,
                              char *out, size_t n) {
        char why[128];
        if (!msg || !info || !out || n == 0)
                return -EINVAL;
        out[0] = '\0';
        if (info->header_len < DBUS_FIXED_HEADER_SIZE || info->total_len < info->header_len)
                return -EINVAL; /* not from dbus_parse_header() */
        if (len < info->total_len)
                return -EAGAIN;
        return string_variant(msg, info, out, n, why, sizeof why);
}

/* ---- the probe --------------------------------------------------------- */

static uint64_t mono_us(void) {
        struct timespec ts;
        if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
                return 0; /* cannot happen for CLOCK_MONOTONIC */
        return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

/* Milliseconds left until deadline for poll(), rounded up; 0 when past. */
static int ms_left(uint64_t deadline) {
        uint64_t now = mono_us();
        if (now >= deadline)
                return 0;
        uint64_t ms = (deadline - now + 999) / 1000;
        return ms > 1000000000u ? 1000000000 : (int) ms;
}

struct conn {
        int fd;
        uint64_t deadline;
        struct dbus_ping_result *res;
};

#define fail(c, err, ...) (snprintf((c)->res->error, sizeof (c)->res->error, __VA_ARGS__), (err))

/* "what: strerror", returning -errno as it was on entry. */
static int fail_errno(struct conn *c, const char *what) {
        int e = errno;
        snprintf(c->res->error, sizeof c->res->error, "%s: %s", what, strerror(e));
        return -e;
}

/* Wait until fd is ready for events, or the deadline passes. */
static int wait_fd(struct conn *c, short events, const char *what) {
        for (;;) {
                struct pollfd pfd = { .fd = c->fd, .events = events };
                int t = ms_left(c->deadline);
                if (t == 0)
                        return fail(c, -ETIMEDOUT, "timeout %s", what);
                int n = poll(&pfd, 1, t);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return fail_errno(c, "poll");
                }
                if (n > 0)
                        return 0; /* POLLERR/POLLHUP too: the next call says what */
        }
}

static int do_connect(struct conn *c, const struct sockaddr_un *sa, socklen_t salen) {
        for (;;) {
                if (connect(c->fd, (const struct sockaddr *) sa, salen) == 0)
                        return 0;
                if (errno == EINTR)
                        continue;
                if (errno == EISCONN) /* an interrupted connect() went through */
                        return 0;
                if (errno == EAGAIN) {
                        /* AF_UNIX: the listen backlog is full (a PID 1 that
                         * does not accept). This cannot be polled for;
                         * retry every 10 ms until the deadline. */
                        int t = ms_left(c->deadline);
                        if (t == 0)
                                return fail(c, -ETIMEDOUT, "timeout connecting: listen backlog full");
                        if (poll(NULL, 0, MIN(t, 10)) < 0 && errno != EINTR)
                                return fail_errno(c, "poll");
                        continue;
                }
                if (errno == EINPROGRESS) { /* not on Linux AF_UNIX, but be exact */
                        int err = 0, k = wait_fd(c, POLLOUT, "connecting");
                        socklen_t l = sizeof err;
                        if (k < 0)
                                return k;
                        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l) < 0)
                                return fail_errno(c, "getsockopt");
                        if (err != 0)
                                return fail(c, -err, "connect: %s", strerror(err));
                        return 0;
                }
                return fail_errno(c, "connect");
        }
}

static int send_all(struct conn *c, const void *buf, size_t len) {
        const uint8_t *p = buf;
        while (len > 0) {
                ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN) {
                                int k = wait_fd(c, POLLOUT, "sending");
                                if (k < 0)
                                        return k;
                                continue;
                        }
                        if (errno == EPIPE || errno == ECONNRESET)
                                return fail(c, -ECONNRESET, "server closed the connection");
                        return fail_errno(c, "send");
                }
                p += n;
                len -= (size_t) n;
        }
        return 0;
}

/* Read what is there (at least one byte) into buf; EOF is -ECONNRESET. */
static int recv_some(struct conn *c, void *buf, size_t len, const char *what, size_t *got) {
        for (;;) {
                ssize_t n = recv(c->fd, buf, len, MSG_DONTWAIT);
                if (n > 0) {
                        *got = (size_t) n;
                        return 0;
                }
                if (n == 0)
                        return fail(c, -ECONNRESET, "server closed the connection %s", what);
                if (errno == EINTR)
                        continue;
                if (errno == EAGAIN) {
                        int k = wait_fd(c, POLLIN, what);
                        if (k < 0)
                                return k;
                        continue;
                }
                if (errno == ECONNRESET)
                        return fail(c, -ECONNRESET, "server closed the connection %s", what);
                return fail_errno(c, "recv");
        }
}

/* "0" -> "30": the uid as ASCII decimal, hex-encoded (spec, EXTERNAL). */
static void uid_hex(char out[24], uid_t uid) {
        static const char hex[] = "0123456789abcdef";
        char dec[12];
        int n = snprintf(dec, sizeof dec, "%u", (unsigned) uid);
        for (int i = 0; i < n; i++) {
                out[2 * i] = hex[(unsigned char) dec[i] >> 4];
                out[2 * i + 1] = hex[(unsigned char) dec[i] & 15];
        }
        out[2 * n] = '\0';
}

static bool line_is(const char *line, size_t len, const char *word) {
        size_t w = strlen(word);
        return len >= w && memcmp(line, word, w) == 0 && (len == w || line[w] == ' ');
}

/* SASL, as sd-bus's own client does it (bus-socket.c
 * bus_socket_start_auth_client()): AUTH and BEGIN in one write, then wait for
 * "OK <guid>" (the reply lines may be split across reads), and only then send
 * the first message, in a separate write. The order matters with an sd-bus
 * server: bytes that arrive in the same read as BEGIN stay in its buffer with
 * nothing to wake it up (its rqueue is empty and no more POLLIN comes), so a
 * call sent together with BEGIN is never answered (seen with systemd 252).
 * Sent after OK, it always comes in a later read: sd-bus handles a pending
 * BEGIN right after writing OK (bus_socket_write_auth() "cranks the state
 * machine"). From then on PID 1 may send signals, so the OK line can arrive
 * together with binary messages: those bytes are left in buf. */
static int authenticate(struct conn *c, char *buf, size_t cap, size_t *n) {
        char hex[24], line[64];
        int k;

        uid_hex(hex, geteuid());
        /* The leading NUL byte is required (sd-bus: "First char must be a NUL
         * byte"); the uid must be the one SO_PEERCRED shows the server. No
         * NEGOTIATE_UNIX_FD: we pass no fds. */
        int l = snprintf(line, sizeof line, "%cAUTH EXTERNAL %s\r\nBEGIN\r\n", 0, hex);
        if ((k = send_all(c, line, (size_t) l)) < 0)
                return k;

        *n = 0;
        for (;;) {
                char *e = memmem(buf, *n, "\r\n", 2);
                /* Only the line is text: binary messages may follow it in
                 * the same read. */
                size_t ll = e ? (size_t) (e - buf) : *n;
                for (size_t i = 0; i < ll; i++) {
                        unsigned char ch = (unsigned char) buf[i];
                        if ((ch < 0x20 || ch > 0x7e) && !(ch == '\r' && !e && i == ll - 1))
                                return fail(c, -EPROTO, "garbage during auth (byte 0x%02x)", ch);
                }
                if (!e) {
                        size_t got;
                        if (*n >= AUTH_LINE_MAX)
                                return fail(c, -EPROTO, "auth reply line too long");
                        if ((k = recv_some(c, buf + *n, MIN(cap, (size_t) AUTH_LINE_MAX + 2) - *n, "during auth", &got)) < 0)
                                return k;
                        *n += got;
                        continue;
                }

                if (line_is(buf, ll, "OK") && ll > 3) {
                        /* "OK <server guid>": BEGIN is already sent, what
                         * follows (if anything) is a message. */
                        *n -= ll + 2;
                        memmove(buf, e + 2, *n);
                        return 0;
                }
                /* After REJECTED the server also answers our BEGIN with ERROR. */
                if (line_is(buf, ll, "REJECTED"))
                        return fail(c, -EPROTO, "auth rejected: %.*s", (int) MIN(ll, 100u), buf);
                return fail(c, -EPROTO, "unexpected auth reply: %.*s", (int) MIN(ll, 90u), buf);
        }
}

/* What to do with the METHOD_RETURN to our call: NULL accepts it without
 * reading its body. Otherwise called with the whole reply in msg (header
 * parsed into info); returns 0 or a negative errno with the reason in
 * err[err_size]. */
typedef int (*reply_fn)(const uint8_t *msg, const struct dbus_msg_info *info, void *userdata,
                        char *err, size_t err_size);

/* The first and only message on a connection. */
#define CALL_SERIAL 1u

/* Connect, authenticate, send msg (serial CALL_SERIAL) and wait for its
 * reply, skipping everything else. */
static int call_on_fd(struct conn *c, const char *path, const void *msg, size_t len,
                      reply_fn on_return, void *userdata) {
        /* Auth lines and message headers go here, and the whole reply when
         * on_return wants it; other bodies are skipped. */
        char buf[DBUS_HEADER_SIZE_MAX];
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        size_t n = 0;
        uint64_t skip = 0, sent_at;
        int k;

        memcpy(sa.sun_path, path, strlen(path) + 1);
        if ((k = do_connect(c, &sa, (socklen_t) (offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1))) < 0)
                return k;
        if ((k = authenticate(c, buf, sizeof buf, &n)) < 0)
                return k;

        sent_at = mono_us();
        if ((k = send_all(c, msg, len)) < 0)
                return k;

        for (;;) {
                if (skip > 0) { /* the rest of a message we do not want */
                        size_t d = (size_t) MIN(skip, (uint64_t) n);
                        memmove(buf, buf + d, n - d);
                        n -= d;
                        skip -= d;
                }
                if (skip == 0 && n > 0) {
                        struct dbus_msg_info info;
                        k = dbus_parse_header(buf, n, &info);
                        if (k == -EBADMSG)
                                return fail(c, -EPROTO, "malformed message from server");
                        if (k == -EMSGSIZE)
                                return fail(c, -EPROTO, "message from server too large (%u header + %u body bytes)",
                                            info.header_len, info.body_len);
                        if (k < 0 && k != -EAGAIN)
                                return fail(c, -EPROTO, "parsing: %s", strerror(-k));
                        bool ours = k == 0 && info.reply_serial == CALL_SERIAL;
                        if (ours && info.type == DBUS_MESSAGE_METHOD_RETURN) {
                                if (!on_return) {
                                        c->res->rtt_us = mono_us() - sent_at;
                                        return 0;
                                }
                                if (info.total_len > sizeof buf)
                                        return fail(c, -ENOBUFS, "reply of %u bytes is over %zu",
                                                    info.total_len, sizeof buf);
                                if (n >= info.total_len) {
                                        c->res->rtt_us = mono_us() - sent_at;
                                        return on_return((const uint8_t *) buf, &info, userdata,
                                                         c->res->error, sizeof c->res->error);
                                }
                                /* else read the rest of the body */
                        } else if (ours && info.type == DBUS_MESSAGE_ERROR) {
                                c->res->rtt_us = mono_us() - sent_at;
                                snprintf(c->res->error, sizeof c->res->error, "%s", info.error_name);
                                return -EREMOTEIO;
                        } else if (k == 0) {
                                /* A signal or anything else: skip it whole. */
                                c->res->skipped++;
                                skip = info.total_len;
                                continue;
                        }
                }
                size_t got;
                if (n == sizeof buf) /* cannot happen: headers and wanted replies fit */
                        return fail(c, -EPROTO, "message header does not fit");
                if ((k = recv_some(c, buf + n, sizeof buf - n, "before the reply", &got)) < 0)
                        return k;
                n += got;
        }
}

/* One call on a fresh connection to path, closed on every path. len < 0 is
 * the error of building msg (bad arguments). */
static int call(const char *path, uint64_t timeout_ms, const void *msg, ssize_t len,
                reply_fn on_return, void *userdata, struct dbus_ping_result *res) {
        struct dbus_ping_result dummy;
        struct sockaddr_un sa;
        uint64_t start = mono_us();
        int r;

        if (!res)
                res = &dummy;
        memset(res, 0, sizeof *res);
        if (!path || !*path) {
                snprintf(res->error, sizeof res->error, "no socket path");
                return -EINVAL;
        }
        if (strlen(path) >= sizeof sa.sun_path) {
                snprintf(res->error, sizeof res->error, "socket path too long");
                return -ENAMETOOLONG;
        }
        if (len < 0) {
                snprintf(res->error, sizeof res->error, "building the message: %s", strerror((int) -len));
                return (int) len;
        }

        struct conn c = {
                .deadline = timeout_ms > (UINT64_MAX - start) / 1000 ? UINT64_MAX : start + timeout_ms * 1000,
                .res = res,
        };
        c.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (c.fd < 0) {
                r = -errno;
                snprintf(res->error, sizeof res->error, "socket: %s", strerror(-r)); /* errno read first */
        } else {
                r = call_on_fd(&c, path, msg, (size_t) len, on_return, userdata);
                /* Always, on every path: no half-open connection stays in PID 1.
                 * On Linux close() releases the fd even when it fails. */
                (void) close(c.fd);
        }
        if (r == 0)
                res->error[0] = '\0';
        res->total_us = mono_us() - start;
        return r;
}

int dbus_ping(const char *path, uint64_t timeout_ms, struct dbus_ping_result *res) {
        uint8_t msg[128];
        return call(path, timeout_ms, msg, dbus_build_ping(msg, sizeof msg, CALL_SERIAL), NULL, NULL, res);
}

/* A manager that just exec'd binds its socket anew (unlink, bind, listen)
 * some time after the exec: until then connect() says ENOENT or
 * ECONNREFUSED (the old file). Wait for the socket to appear with inotify
 * on its directory; an event, or at most this long, and connect again (the
 * bind comes a moment before the listen). */
#define WHEN_LISTENING_RECHECK_MS 20

static int socket_dir_watch(const char *path) {
        char dir[sizeof ((struct sockaddr_un *) 0)->sun_path];
        const char *slash = strrchr(path, '/');
        size_t l = slash ? (size_t) (slash - path) : 0;
        int fd;

        if (l == 0 || l >= sizeof dir)
                return -1;
        memcpy(dir, path, l);
        dir[l] = '\0';
        fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        if (fd < 0)
                return -1;
        if (inotify_add_watch(fd, dir, IN_CREATE | IN_MOVED_TO | IN_ATTRIB) < 0) {
                (void) close(fd);
                return -1;
        }
        return fd;
}

/* Sleep until the directory changes or ms pass; drain the events. */
static void wait_dir_change(int fd, int ms) {
        char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
        struct pollfd pfd = { .fd = fd, .events = POLLIN };

        if (poll(fd >= 0 ? &pfd : NULL, fd >= 0 ? 1 : 0, ms) > 0)
                while (read(fd, buf, sizeof buf) > 0)
                        ;
}

int dbus_ping_when_listening(const char *path, uint64_t timeout_ms, struct dbus_ping_result *res) {
        struct dbus_ping_result dummy;
        uint64_t start = mono_us(), deadline;
        int fd, r;

        if (!res)
                res = &dummy;
        if (!path || timeout_ms > (UINT64_MAX - start) / 1000)
                return dbus_ping(path, timeout_ms, res);
        deadline = start + timeout_ms * 1000;
        fd = socket_dir_watch(path); /* before the first try: no bind is missed */
        for (;;) {
                int left = ms_left(deadline);
                r = dbus_ping(path, (uint64_t) left, res);
                if ((r != -ENOENT && r != -ECONNREFUSED) || ms_left(deadline) == 0)
                        break;
                wait_dir_change(fd, MIN(ms_left(deadline), WHEN_LISTENING_RECHECK_MS));
        }
        if (fd >= 0)
                (void) close(fd);
        res->total_us = mono_us() - start;
        return r;
}

struct string_out {
        char *out;
        size_t n;
};

static int take_string(const uint8_t *msg, const struct dbus_msg_info *info, void *userdata,
                       char *err, size_t err_size) {
        struct string_out *o = userdata;
        return string_variant(msg, info, o->out, o->n, err, err_size);
}

int dbus_get_string_property(const char *path, uint64_t timeout_ms, const char *interface,
                             const char *property, char *out, size_t n, struct dbus_ping_result *res) {
        /* 176 bytes for Manager.SystemState; two 255-byte names need 640. */
        uint8_t msg[768];
        struct string_out o = { .out = out, .n = n };
        ssize_t m = -EINVAL;

        if (out && n > 0) {
                out[0] = '\0';
                m = dbus_build_get_property(msg, sizeof msg, CALL_SERIAL, interface, property);
        }
        return call(path, timeout_ms, msg, m, take_string, &o, res);
}
