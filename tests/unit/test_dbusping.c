/* shim/health/dbusping.c: the message builder and header parser against bytes that
 * real implementations put on the wire, and dbus_ping() against scripted
 * servers (forked children on a unix socket) for every protocol path.
 *
 * The vectors were captured with strace on this machine (Debian systemd
 * 252.39, running as PID 1 of an nspawn container):
 *  - sdbus_ping: what libsystemd's sd_bus_call_method(NULL destination,
 *    "/org/freedesktop/systemd1", "org.freedesktop.DBus.Peer", "Ping") sends
 *    as the first message of a p2p connection to /run/systemd/private;
 *  - pid1_return: PID 1's answer to it;
 *  - pid1_error: PID 1's answer to busctl's Hello on the same socket;
 *  - pid1_signal: a UnitNew signal PID 1 sent a probe before the reply;
 *  - sdbus_get: what sd_bus_get_property_string(NULL destination,
 *    "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager",
 *    "SystemState") sends as the first message on the same socket (with the
 *    destination "org.freedesktop.systemd1" sd-bus adds a DESTINATION field
 *    between INTERFACE and SIGNATURE, which a p2p call does not need);
 *  - pid1_get_running: PID 1's answer to it, the variant <"running">;
 *  - pid1_get_nnames: PID 1's answer to Get(Manager, "NNames"), a <u 178>;
 *  - pid1_get_unknown: PID 1's answer to Get(Manager, "NoSuchProperty"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "health/dbusping.h"

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

static const uint8_t sdbus_ping[112] = {
        0x6c, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
        0x5a, 0x00, 0x00, 0x00, 0x01, 0x01, 0x6f, 0x00, 0x19, 0x00, 0x00, 0x00,
        0x2f, 0x6f, 0x72, 0x67, 0x2f, 0x66, 0x72, 0x65, 0x65, 0x64, 0x65, 0x73,
        0x6b, 0x74, 0x6f, 0x70, 0x2f, 0x73, 0x79, 0x73, 0x74, 0x65, 0x6d, 0x64,
        0x31, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x01, 0x73, 0x00,
        0x04, 0x00, 0x00, 0x00, 0x50, 0x69, 0x6e, 0x67, 0x00, 0x00, 0x00, 0x00,
        0x02, 0x01, 0x73, 0x00, 0x19, 0x00, 0x00, 0x00, 0x6f, 0x72, 0x67, 0x2e,
        0x66, 0x72, 0x65, 0x65, 0x64, 0x65, 0x73, 0x6b, 0x74, 0x6f, 0x70, 0x2e,
        0x44, 0x42, 0x75, 0x73, 0x2e, 0x50, 0x65, 0x65, 0x72, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00,
};

static const uint8_t pid1_return[64] = {
        0x6c, 0x02, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
        0x29, 0x00, 0x00, 0x00, 0x05, 0x01, 0x75, 0x00, 0x01, 0x00, 0x00, 0x00,
        0x07, 0x01, 0x73, 0x00, 0x18, 0x00, 0x00, 0x00, 0x6f, 0x72, 0x67, 0x2e,
        0x66, 0x72, 0x65, 0x65, 0x64, 0x65, 0x73, 0x6b, 0x74, 0x6f, 0x70, 0x2e,
        0x73, 0x79, 0x73, 0x74, 0x65, 0x6d, 0x64, 0x31, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00,
};
/* Offsets of the u32s in pid1_return, for the big-endian twin. */
static const size_t pid1_return_u32[] = { 4, 8, 12, 20, 28 };

static const uint8_t pid1_error[172] = {
        0x6c, 0x03, 0x01, 0x01, 0x2c, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
        0x6f, 0x00, 0x00, 0x00, 0x05, 0x01, 0x75, 0x00, 0x01, 0x00, 0x00, 0x00,
        0x04, 0x01, 0x73, 0x00, 0x28, 0x00, 0x00, 0x00, 0x6f, 0x72, 0x67, 0x2e,
        0x66, 0x72, 0x65, 0x65, 0x64, 0x65, 0x73, 0x6b, 0x74, 0x6f, 0x70, 0x2e,
        0x44, 0x42, 0x75, 0x73, 0x2e, 0x45, 0x72, 0x72, 0x6f, 0x72, 0x2e, 0x55,
        0x6e, 0x6b, 0x6e, 0x6f, 0x77, 0x6e, 0x4f, 0x62, 0x6a, 0x65, 0x63, 0x74,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0x01, 0x73, 0x00,
        0x18, 0x00, 0x00, 0x00, 0x6f, 0x72, 0x67, 0x2e, 0x66, 0x72, 0x65, 0x65,
        0x64, 0x65, 0x73, 0x6b, 0x74, 0x6f, 0x70, 0x2e, 0x73, 0x79, 0x73, 0x74,
        0x65, 0x6d, 0x64, 0x31, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x08, 0x01, 0x67, 0x00, 0x01, 0x73, 0x00, 0x00, 0x27, 0x00, 0x00, 0x00,
        0x55, 0x6e, 0x6b, 0x6e, 0x6f, 0x77, 0x6e, 0x20, 0x6f, 0x62, 0x6a, 0x65,
        0x63, 0x74, 0x20, 0x27, 0x2f, 0x6f, 0x72, 0x67, 0x2f, 0x66, 0x72, 0x65,
        0x65, 0x64, 0x65, 0x73, 0x6b, 0x74, 0x6f, 0x70, 0x2f, 0x44, 0x42, 0x75,
        0x73, 0x27, 0x2e, 0x00,
};
static const size_t pid1_error_u32[] = { 4, 8, 12, 20, 28, 84, 128 };

static const uint8_t pid1_signal[258] = {
        0x6c, 0x04, 0x01, 0x01, 0x5a, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
        0x98, 0x00, 0x00, 0x00, 0x01, 0x01, 0x6f, 0x00, 0x19, 0x00, 0x00, 0x00,
        0x2f, 0x6f, 0x72, 0x67, 0x2f, 0x66, 0x72, 0x65, 0x65, 0x64, 0x65, 0x73,
        0x6b, 0x74, 0x6f, 0x70, 0x2f, 0x73, 0x79, 0x73, 0x74, 0x65, 0x6d, 0x64,
        0x31, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x01, 0x73, 0x00,
        0x20, 0x00, 0x00, 0x00, 0x6f, 0x72, 0x67, 0x2e, 0x66, 0x72, 0x65, 0x65,
        0x64, 0x65, 0x73, 0x6b, 0x74, 0x6f, 0x70, 0x2e, 0x73, 0x79, 0x73, 0x74,
        0x65, 0x6d, 0x64, 0x31, 0x2e, 0x4d, 0x61, 0x6e, 0x61, 0x67, 0x65, 0x72,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x01, 0x73, 0x00,
        0x07, 0x00, 0x00, 0x00, 0x55, 0x6e, 0x69, 0x74, 0x4e, 0x65, 0x77, 0x00,
        0x07, 0x01, 0x73, 0x00, 0x18, 0x00, 0x00, 0x00, 0x6f, 0x72, 0x67, 0x2e,
        0x66, 0x72, 0x65, 0x65, 0x64, 0x65, 0x73, 0x6b, 0x74, 0x6f, 0x70, 0x2e,
        0x73, 0x79, 0x73, 0x74, 0x65, 0x6d, 0x64, 0x31, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x08, 0x01, 0x67, 0x00, 0x02, 0x73, 0x6f, 0x00,
        0x14, 0x00, 0x00, 0x00, 0x64, 0x62, 0x70, 0x2d, 0x6c, 0x6f, 0x61, 0x64,
        0x2d, 0x31, 0x30, 0x32, 0x2e, 0x73, 0x65, 0x72, 0x76, 0x69, 0x63, 0x65,
        0x00, 0x00, 0x00, 0x00, 0x39, 0x00, 0x00, 0x00, 0x2f, 0x6f, 0x72, 0x67,
        0x2f, 0x66, 0x72, 0x65, 0x65, 0x64, 0x65, 0x73, 0x6b, 0x74, 0x6f, 0x70,
        0x2f, 0x73, 0x79, 0x73, 0x74, 0x65, 0x6d, 0x64, 0x31, 0x2f, 0x75, 0x6e,
        0x69, 0x74, 0x2f, 0x64, 0x62, 0x70, 0x5f, 0x32, 0x64, 0x6c, 0x6f, 0x61,
        0x64, 0x5f, 0x32, 0x64, 0x31, 0x30, 0x32, 0x5f, 0x32, 0x65, 0x73, 0x65,
        0x72, 0x76, 0x69, 0x63, 0x65, 0x00,
};
/* header u32s, then the body "so": s (length at 168), o (length at 196). */
static const size_t pid1_signal_u32[] = { 4, 8, 12, 20, 60, 108, 124, 168, 196 };

static const uint8_t sdbus_get[176] = {
        0x6c, 0x01, 0x00, 0x01, 0x38, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
        0x68, 0x00, 0x00, 0x00, 0x01, 0x01, 0x6f, 0x00, 0x19, 0x00, 0x00, 0x00,
        0x2f, 0x6f, 0x72, 0x67, 0x2f, 0x66, 0x72, 0x65, 0x65, 0x64, 0x65, 0x73,
        0x6b, 0x74, 0x6f, 0x70, 0x2f, 0x73, 0x79, 0x73, 0x74, 0x65, 0x6d, 0x64,
        0x31, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x01, 0x73, 0x00,
        0x03, 0x00, 0x00, 0x00, 0x47, 0x65, 0x74, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x02, 0x01, 0x73, 0x00, 0x1f, 0x00, 0x00, 0x00, 0x6f, 0x72, 0x67, 0x2e,
        0x66, 0x72, 0x65, 0x65, 0x64, 0x65, 0x73, 0x6b, 0x74, 0x6f, 0x70, 0x2e,
        0x44, 0x42, 0x75, 0x73, 0x2e, 0x50, 0x72, 0x6f, 0x70, 0x65, 0x72, 0x74,
        0x69, 0x65, 0x73, 0x00, 0x08, 0x01, 0x67, 0x00, 0x02, 0x73, 0x73, 0x00,
        0x20, 0x00, 0x00, 0x00, 0x6f, 0x72, 0x67, 0x2e, 0x66, 0x72, 0x65, 0x65,
        0x64, 0x65, 0x73, 0x6b, 0x74, 0x6f, 0x70, 0x2e, 0x73, 0x79, 0x73, 0x74,
        0x65, 0x6d, 0x64, 0x31, 0x2e, 0x4d, 0x61, 0x6e, 0x61, 0x67, 0x65, 0x72,
        0x00, 0x00, 0x00, 0x00, 0x0b, 0x00, 0x00, 0x00, 0x53, 0x79, 0x73, 0x74,
        0x65, 0x6d, 0x53, 0x74, 0x61, 0x74, 0x65, 0x00,
};

static const uint8_t pid1_get_running[88] = {
        0x6c, 0x02, 0x01, 0x01, 0x10, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
        0x37, 0x00, 0x00, 0x00, 0x05, 0x01, 0x75, 0x00, 0x01, 0x00, 0x00, 0x00,
        0x07, 0x01, 0x73, 0x00, 0x18, 0x00, 0x00, 0x00, 0x6f, 0x72, 0x67, 0x2e,
        0x66, 0x72, 0x65, 0x65, 0x64, 0x65, 0x73, 0x6b, 0x74, 0x6f, 0x70, 0x2e,
        0x73, 0x79, 0x73, 0x74, 0x65, 0x6d, 0x64, 0x31, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x08, 0x01, 0x67, 0x00, 0x01, 0x76, 0x00, 0x00,
        0x01, 0x73, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x72, 0x75, 0x6e, 0x6e,
        0x69, 0x6e, 0x67, 0x00,
};
/* header u32s, then the body "v": the string's length at 76. */
static const size_t pid1_get_running_u32[] = { 4, 8, 12, 20, 28, 76 };

/* The captured pid1_get_nnames equals pid1_get_running up to the body
 * (72 bytes) but for the body length at 4 (8); its body is this. Put
 * together by make_vectors(). */
static const uint8_t pid1_get_nnames_body[8] = { 0x01, 0x75, 0x00, 0x00, 0xb2, 0x00, 0x00, 0x00 };
static uint8_t pid1_get_nnames[80];
static const size_t pid1_get_nnames_u32[] = { 4, 8, 12, 20, 28, 76 };

static int make_vectors(void **state) {
        (void) state;
        memcpy(pid1_get_nnames, pid1_get_running, 72);
        pid1_get_nnames[4] = sizeof pid1_get_nnames_body;
        memcpy(pid1_get_nnames + 72, pid1_get_nnames_body, sizeof pid1_get_nnames_body);
        return 0;
}

static const uint8_t pid1_get_unknown[211] = {
        0x6c, 0x03, 0x01, 0x01, 0x53, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
        0x6f, 0x00, 0x00, 0x00, 0x05, 0x01, 0x75, 0x00, 0x01, 0x00, 0x00, 0x00,
        0x04, 0x01, 0x73, 0x00, 0x2a, 0x00, 0x00, 0x00, 0x6f, 0x72, 0x67, 0x2e,
        0x66, 0x72, 0x65, 0x65, 0x64, 0x65, 0x73, 0x6b, 0x74, 0x6f, 0x70, 0x2e,
        0x44, 0x42, 0x75, 0x73, 0x2e, 0x45, 0x72, 0x72, 0x6f, 0x72, 0x2e, 0x55,
        0x6e, 0x6b, 0x6e, 0x6f, 0x77, 0x6e, 0x50, 0x72, 0x6f, 0x70, 0x65, 0x72,
        0x74, 0x79, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0x01, 0x73, 0x00,
        0x18, 0x00, 0x00, 0x00, 0x6f, 0x72, 0x67, 0x2e, 0x66, 0x72, 0x65, 0x65,
        0x64, 0x65, 0x73, 0x6b, 0x74, 0x6f, 0x70, 0x2e, 0x73, 0x79, 0x73, 0x74,
        0x65, 0x6d, 0x64, 0x31, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x08, 0x01, 0x67, 0x00, 0x01, 0x73, 0x00, 0x00, 0x4e, 0x00, 0x00, 0x00,
        0x55, 0x6e, 0x6b, 0x6e, 0x6f, 0x77, 0x6e, 0x20, 0x69, 0x6e, 0x74, 0x65,
        0x72, 0x66, 0x61, 0x63, 0x65, 0x20, 0x6f, 0x72, 0x67, 0x2e, 0x66, 0x72,
        0x65, 0x65, 0x64, 0x65, 0x73, 0x6b, 0x74, 0x6f, 0x70, 0x2e, 0x73, 0x79,
        0x73, 0x74, 0x65, 0x6d, 0x64, 0x31, 0x2e, 0x4d, 0x61, 0x6e, 0x61, 0x67,
        0x65, 0x72, 0x20, 0x6f, 0x72, 0x20, 0x70, 0x72, 0x6f, 0x70, 0x65, 0x72,
        0x74, 0x79, 0x20, 0x4e, 0x6f, 0x53, 0x75, 0x63, 0x68, 0x50, 0x72, 0x6f,
        0x70, 0x65, 0x72, 0x74, 0x79, 0x2e, 0x00,
};
static const size_t pid1_get_unknown_u32[] = { 4, 8, 12, 20, 28, 84, 128 };

/* A copy of a little-endian message with the listed u32s swapped and the
 * endian byte set to 'B': the same message as a big-endian peer sends it. */
static void to_big_endian(uint8_t *dst, const uint8_t *src, size_t len, const size_t *offs, size_t n) {
        memcpy(dst, src, len);
        dst[0] = 'B';
        for (size_t i = 0; i < n; i++) {
                uint8_t *p = dst + offs[i], t;
                t = p[0], p[0] = p[3], p[3] = t;
                t = p[1], p[1] = p[2], p[2] = t;
        }
}

/* ---- a little writer to make messages the tests need ------------------ */

struct msg {
        uint8_t b[70000];
        size_t n;
        int big;
};

static void m_u8(struct msg *m, uint8_t v) { m->b[m->n++] = v; }
static void m_pad(struct msg *m, size_t a) { while (m->n % a) m_u8(m, 0); }
static void m_u32(struct msg *m, uint32_t v) {
        m_pad(m, 4);
        for (int i = 0; i < 4; i++)
                m_u8(m, (uint8_t) (m->big ? v >> (24 - 8 * i) : v >> (8 * i)));
}
static void m_str(struct msg *m, const char *s) {
        m_u32(m, (uint32_t) strlen(s));
        memcpy(m->b + m->n, s, strlen(s) + 1);
        m->n += strlen(s) + 1;
}
static void m_sig(struct msg *m, const char *s) {
        m_u8(m, (uint8_t) strlen(s));
        memcpy(m->b + m->n, s, strlen(s) + 1);
        m->n += strlen(s) + 1;
}
static void m_begin(struct msg *m, int big, uint8_t type, uint32_t serial) {
        memset(m, 0, sizeof *m);
        m->big = big;
        m_u8(m, big ? 'B' : 'l');
        m_u8(m, type);
        m_u8(m, 0);
        m_u8(m, 1);
        m_u32(m, 0);
        m_u32(m, serial);
        m_u32(m, 0);
}
static void m_field(struct msg *m, uint8_t code, const char *sig) {
        m_pad(m, 8);
        m_u8(m, code);
        m_sig(m, sig);
}
/* Set the u32 at offset at (in the message's byte order). */
static void m_set_u32(struct msg *m, size_t at, uint32_t v) {
        struct msg t = { .big = m->big };
        m_u32(&t, v);
        memcpy(m->b + at, t.b, 4);
}
/* Close the field array (its length, padding): where the body starts. */
static size_t m_body(struct msg *m) {
        m_set_u32(m, 12, (uint32_t) (m->n - 16));
        m_pad(m, 8);
        return m->n;
}
/* The body written since body: set its length. */
static void m_done(struct msg *m, size_t body) { m_set_u32(m, 4, (uint32_t) (m->n - body)); }
/* Set the field-array length, pad, append body_len zero bytes, set it. */
static void m_end(struct msg *m, uint32_t body_len) {
        size_t body = m_body(m);
        memset(m->b + m->n, 0, body_len);
        m->n += body_len;
        m_done(m, body);
}
/* A METHOD_RETURN for reply_serial, with an unknown field (code 42, of type
 * sig, its value written by fill) first when sig is not NULL. */
static void m_return(struct msg *m, int big, uint32_t reply_serial, const char *sig, void (*fill)(struct msg *)) {
        m_begin(m, big, DBUS_MESSAGE_METHOD_RETURN, 9);
        if (sig) {
                m_field(m, 42, sig);
                fill(m);
        }
        m_field(m, DBUS_HEADER_REPLY_SERIAL, "u");
        m_u32(m, reply_serial);
        m_field(m, DBUS_HEADER_SENDER, "s");
        m_str(m, "org.freedesktop.systemd1");
        m_end(m, 0);
}

/* ---- building ---------------------------------------------------------- */

/* build() with serial 1 gives exactly want[n], writes nothing past it,
 * works with exactly n bytes and refuses any byte less. */
static void assert_builds(ssize_t (*build)(void *, size_t, uint32_t), const uint8_t *want, size_t n) {
        uint8_t buf[1024];
        memset(buf, 0xaa, sizeof buf);
        assert_int_equal(build(buf, sizeof buf, 1), n);
        assert_memory_equal(buf, want, n);
        assert_int_equal(buf[n], 0xaa);
        assert_int_equal(build(buf, n, 1), n);
        for (size_t k = 0; k < n; k++)
                assert_int_equal(build(buf, k, 1), -ENOBUFS);
}

static void test_build_ping_matches_sdbus(void **state) {
        uint8_t buf[256];
        (void) state;
        assert_builds(dbus_build_ping, sdbus_ping, sizeof sdbus_ping);

        /* The serial lands at offset 8, little-endian. */
        assert_int_equal(dbus_build_ping(buf, sizeof buf, 0x01020304), 112);
        assert_int_equal(buf[8], 4);
        assert_int_equal(buf[11], 1);
        assert_int_equal(dbus_build_ping(buf, sizeof buf, 0), -EINVAL);
}

static void test_build_arguments(void **state) {
        uint8_t buf[512];
        (void) state;
        assert_int_equal(dbus_build_method_call(buf, sizeof buf, 1, "", "a.b", "M"), -EINVAL);
        assert_int_equal(dbus_build_method_call(buf, sizeof buf, 1, "rel", "a.b", "M"), -EINVAL);
        assert_int_equal(dbus_build_method_call(buf, sizeof buf, 1, "/", "", "M"), -EINVAL);
        assert_int_equal(dbus_build_method_call(buf, sizeof buf, 1, "/", "a.b", ""), -EINVAL);
        assert_int_equal(dbus_build_method_call(buf, sizeof buf, 1, NULL, "a.b", "M"), -EINVAL);
        assert_int_equal(dbus_build_method_call(NULL, 0, 1, "/", "a.b", "M"), -EINVAL);
        char longname[300];
        memset(longname, 'x', sizeof longname - 1);
        longname[sizeof longname - 1] = '\0';
        assert_int_equal(dbus_build_method_call(buf, sizeof buf, 1, "/", longname, "M"), -EINVAL);
}

/* For every length of path and member: 8-aligned fields, the array length
 * excludes the last padding, the total is a multiple of 8, and our parser
 * reads it back. */
static void test_build_alignment(void **state) {
        uint8_t buf[512];
        char path[64] = "/", member[16] = "";
        (void) state;
        for (size_t pl = 1; pl < 40; pl++) {
                path[pl - 1] = pl == 1 ? '/' : 'p';
                path[pl] = '\0';
                for (size_t ml = 1; ml < 12; ml++) {
                        memset(member, 'M', ml);
                        member[ml] = '\0';
                        ssize_t n = dbus_build_method_call(buf, sizeof buf, 5, path, "org.example.I", member);
                        assert_true(n > 0);
                        assert_int_equal(n % 8, 0);
                        uint32_t fields;
                        memcpy(&fields, buf + 12, 4);
                        size_t end_path = 24 + pl + 1;
                        size_t start_member = (end_path + 7) & ~(size_t) 7;
                        size_t end_member = start_member + 8 + ml + 1;
                        size_t start_iface = (end_member + 7) & ~(size_t) 7;
                        assert_int_equal(buf[start_member], DBUS_HEADER_MEMBER);
                        assert_int_equal(buf[start_iface], DBUS_HEADER_INTERFACE);
                        assert_int_equal(fields, start_iface + 8 + strlen("org.example.I") + 1 - 16);
                        assert_int_equal((size_t) n, (16 + fields + 7) & ~(uint32_t) 7);
                        for (size_t i = 16 + fields; i < (size_t) n; i++)
                                assert_int_equal(buf[i], 0);

                        struct dbus_msg_info info;
                        assert_int_equal(dbus_parse_header(buf, (size_t) n, &info), 0);
                        assert_int_equal(info.type, DBUS_MESSAGE_METHOD_CALL);
                        assert_int_equal(info.serial, 5);
                        assert_int_equal(info.total_len, n);
                        assert_int_equal(info.header_len, n);
                }
        }
}

static ssize_t build_get_state(void *buf, size_t size, uint32_t serial) {
        return dbus_build_get_property(buf, size, serial, DBUS_SYSTEMD_MANAGER_INTERFACE, "SystemState");
}

/* Properties.Get(Manager, SystemState): the bytes sd-bus sends. */
static void test_build_get_matches_sdbus(void **state) {
        static const char *const args[] = { DBUS_SYSTEMD_MANAGER_INTERFACE, "SystemState" };
        struct dbus_msg_info info;
        uint8_t buf[1024];
        char name[257];
        (void) state;
        assert_builds(build_get_state, sdbus_get, sizeof sdbus_get);

        /* The general builder gives the same bytes. */
        memset(buf, 0, sizeof buf);
        assert_int_equal(dbus_build_method_call_args(buf, sizeof buf, 1, DBUS_PING_OBJECT, DBUS_PROPERTIES_INTERFACE,
                                                     "Get", args, 2), sizeof sdbus_get);
        assert_memory_equal(buf, sdbus_get, sizeof sdbus_get);

        /* Our parser reads it back. */
        assert_int_equal(dbus_parse_header(buf, sizeof sdbus_get, &info), 0);
        assert_int_equal(info.type, DBUS_MESSAGE_METHOD_CALL);
        assert_string_equal(info.signature, "ss");
        assert_int_equal(info.header_len, 120);
        assert_int_equal(info.body_len, 56);
        assert_int_equal(info.total_len, sizeof sdbus_get);

        /* Names: non-empty, at most 255 bytes. */
        memset(name, 'x', sizeof name - 1);
        name[sizeof name - 1] = '\0';
        assert_int_equal(dbus_build_get_property(buf, sizeof buf, 1, NULL, "SystemState"), -EINVAL);
        assert_int_equal(dbus_build_get_property(buf, sizeof buf, 1, DBUS_SYSTEMD_MANAGER_INTERFACE, NULL), -EINVAL);
        assert_int_equal(dbus_build_get_property(buf, sizeof buf, 1, "", "SystemState"), -EINVAL);
        assert_int_equal(dbus_build_get_property(buf, sizeof buf, 1, DBUS_SYSTEMD_MANAGER_INTERFACE, ""), -EINVAL);
        assert_int_equal(dbus_build_get_property(buf, sizeof buf, 1, DBUS_SYSTEMD_MANAGER_INTERFACE, name), -EINVAL);
        assert_int_equal(dbus_build_get_property(buf, sizeof buf, 0, DBUS_SYSTEMD_MANAGER_INTERFACE, "X"), -EINVAL);
        name[255] = '\0';
        ssize_t n = dbus_build_get_property(buf, sizeof buf, 1, name, name);
        assert_int_equal(n, 120 + 4 + 256 + 4 + 256); /* the largest Get: the header is the same */
        assert_int_equal(dbus_parse_header(buf, (size_t) n, &info), 0);
        assert_int_equal(info.total_len, n);
}

/* Bodies of 1..3 strings of every short length: each string 4-aligned
 * (u32 length, bytes, NUL), SIGNATURE "s" per string, body length right. */
static void test_build_args(void **state) {
        static const char pool[] = "abcdefghijkl";
        struct dbus_msg_info info;
        uint8_t buf[1024];
        const char *args[3];
        (void) state;
        for (size_t nargs = 1; nargs <= 3; nargs++)
                for (size_t l0 = 0; l0 < 12; l0++)
                        for (size_t l1 = 0; l1 < 12; l1++) {
                                size_t lens[3] = { l0, l1, (l0 + l1) % 12 };
                                for (size_t i = 0; i < nargs; i++)
                                        args[i] = pool + sizeof pool - 1 - lens[i];
                                ssize_t n = dbus_build_method_call_args(buf, sizeof buf, 3, "/p", "a.b", "M", args, nargs);
                                assert_true(n > 0);
                                assert_int_equal(dbus_parse_header(buf, (size_t) n, &info), 0);
                                assert_int_equal(strlen(info.signature), nargs);
                                assert_memory_equal(info.signature, "sss", nargs);
                                assert_int_equal(info.total_len, n);
                                size_t at = info.header_len;
                                assert_int_equal(at % 8, 0);
                                for (size_t i = 0; i < nargs; i++) {
                                        while (at % 4)
                                                assert_int_equal(buf[at++], 0);
                                        uint32_t len;
                                        memcpy(&len, buf + at, 4);
                                        assert_int_equal(len, lens[i]);
                                        assert_memory_equal(buf + at + 4, args[i], lens[i] + 1);
                                        at += 4 + lens[i] + 1;
                                }
                                assert_int_equal(at, n); /* nothing after the last string */
                        }

        static const char *const empty[] = { "" };
        /* fields end at 71 (SIGNATURE "s"), body at 72: u32 0, NUL */
        assert_int_equal(dbus_build_method_call_args(buf, sizeof buf, 3, "/", "a.b", "M", empty, 1), 72 + 5);
        const char *nulls[] = { "x", NULL };
        assert_int_equal(dbus_build_method_call_args(buf, sizeof buf, 3, "/", "a.b", "M", nulls, 2), -EINVAL);
        assert_int_equal(dbus_build_method_call_args(buf, sizeof buf, 3, "/", "a.b", "M", NULL, 1), -EINVAL);
        /* n_args 0 is dbus_build_method_call(): no SIGNATURE field. */
        assert_int_equal(dbus_build_method_call_args(buf, sizeof buf, 1, DBUS_PING_OBJECT, DBUS_PEER_INTERFACE, "Ping",
                                                     NULL, 0), sizeof sdbus_ping);
        assert_memory_equal(buf, sdbus_ping, sizeof sdbus_ping);

        /* The signature holds 255 types at most. */
        static const char *many[256];
        static uint8_t big[8192];
        for (size_t i = 0; i < 256; i++)
                many[i] = "";
        ssize_t n = dbus_build_method_call_args(big, sizeof big, 3, "/", "a.b", "M", many, 255);
        assert_true(n > 0);
        assert_int_equal(dbus_parse_header(big, (size_t) n, &info), 0);
        assert_int_equal(strlen(info.signature), 255);
        assert_int_equal(info.body_len, 255 * 8 - 3); /* u32 + NUL + padding, but none after the last */
        assert_int_equal(dbus_build_method_call_args(big, sizeof big, 3, "/", "a.b", "M", many, 256), -EINVAL);
}

/* ---- parsing ----------------------------------------------------------- */

static void test_parse_pid1_messages(void **state) {
        struct dbus_msg_info info;
        uint8_t be[sizeof pid1_signal];
        (void) state;

        for (int big = 0; big < 2; big++) {
                const uint8_t *p = pid1_return;
                if (big) {
                        to_big_endian(be, pid1_return, sizeof pid1_return, pid1_return_u32, ELEMENTSOF(pid1_return_u32));
                        p = be;
                }
                assert_int_equal(dbus_parse_header(p, sizeof pid1_return, &info), 0);
                assert_int_equal(info.endian, big ? 'B' : 'l');
                assert_int_equal(info.type, DBUS_MESSAGE_METHOD_RETURN);
                assert_int_equal(info.flags, DBUS_FLAG_NO_REPLY_EXPECTED);
                assert_int_equal(info.serial, 1);
                assert_int_equal(info.reply_serial, 1);
                assert_int_equal(info.body_len, 0);
                assert_int_equal(info.header_len, 64);
                assert_int_equal(info.total_len, 64);
                assert_string_equal(info.error_name, "");

                p = pid1_error;
                if (big) {
                        to_big_endian(be, pid1_error, sizeof pid1_error, pid1_error_u32, ELEMENTSOF(pid1_error_u32));
                        p = be;
                }
                assert_int_equal(dbus_parse_header(p, sizeof pid1_error, &info), 0);
                assert_int_equal(info.type, DBUS_MESSAGE_ERROR);
                assert_int_equal(info.reply_serial, 1);
                assert_string_equal(info.error_name, "org.freedesktop.DBus.Error.UnknownObject");
                assert_int_equal(info.body_len, 44);
                assert_int_equal(info.header_len, 128);
                assert_int_equal(info.total_len, 172);
                /* The body is not needed. */
                assert_int_equal(dbus_parse_header(p, 128, &info), 0);

                p = pid1_signal;
                if (big) {
                        to_big_endian(be, pid1_signal, sizeof pid1_signal, pid1_signal_u32, ELEMENTSOF(pid1_signal_u32));
                        p = be;
                }
                assert_int_equal(dbus_parse_header(p, sizeof pid1_signal, &info), 0);
                assert_int_equal(info.type, DBUS_MESSAGE_SIGNAL);
                assert_int_equal(info.reply_serial, 0);
                assert_int_equal(info.body_len, 90);
                assert_int_equal(info.total_len, 258);
        }
}

/* Byte by byte: -EAGAIN until the header is complete; the lengths are
 * known from the 16th byte on; garbage shows from the first byte. */
static void test_parse_split(void **state) {
        struct dbus_msg_info info;
        (void) state;
        for (size_t k = 0; k < sizeof pid1_error; k++) {
                int r = dbus_parse_header(pid1_error, k, &info);
                if (k < 128) {
                        assert_int_equal(r, -EAGAIN);
                        if (k >= 16) {
                                assert_int_equal(info.header_len, 128);
                                assert_int_equal(info.total_len, 172);
                        } else
                                assert_int_equal(info.total_len, 0);
                } else
                        assert_int_equal(r, 0);
        }
        assert_int_equal(dbus_parse_header("x", 1, &info), -EBADMSG);
        assert_int_equal(dbus_parse_header("l\0", 2, &info), -EBADMSG);   /* type 0 */
        assert_int_equal(dbus_parse_header("l\2\0\2", 4, &info), -EBADMSG); /* version 2 */
        assert_int_equal(dbus_parse_header("HTTP/1.1 200 OK\r\n", 17, &info), -EBADMSG);
}

static void test_parse_garbage(void **state) {
        struct dbus_msg_info info;
        uint8_t b[sizeof pid1_error];
        struct msg m;
        (void) state;

        memcpy(b, pid1_return, 64);
        memset(b + 8, 0, 4); /* serial 0 */
        assert_int_equal(dbus_parse_header(b, 64, &info), -EBADMSG);

        memcpy(b, pid1_return, 64);
        b[18] = 's'; /* REPLY_SERIAL as a string */
        assert_int_equal(dbus_parse_header(b, 64, &info), -EBADMSG);

        memcpy(b, pid1_return, 64);
        b[16] = 0; /* field code INVALID */
        assert_int_equal(dbus_parse_header(b, 64, &info), -EBADMSG);

        memcpy(b, pid1_return, 64);
        b[28] = 0x30; /* SENDER's length runs past the field array */
        assert_int_equal(dbus_parse_header(b, 64, &info), -EBADMSG);

        memcpy(b, pid1_return, 64);
        b[56] = 'x'; /* SENDER's terminating NUL */
        assert_int_equal(dbus_parse_header(b, 64, &info), -EBADMSG);

        memcpy(b, pid1_return, 64);
        b[40] = 0; /* NUL inside SENDER */
        assert_int_equal(dbus_parse_header(b, 64, &info), -EBADMSG);

        memcpy(b, pid1_return, 64);
        b[12] = 0x2a; /* field array one byte longer: a field that is not there */
        assert_int_equal(dbus_parse_header(b, 64, &info), -EBADMSG);

        memcpy(b, pid1_return, 64);
        b[20] = 0; /* reply_serial 0 */
        assert_int_equal(dbus_parse_header(b, 64, &info), -EBADMSG);

        /* A reply without REPLY_SERIAL, an error without ERROR_NAME. */
        m_begin(&m, 0, DBUS_MESSAGE_METHOD_RETURN, 3);
        m_field(&m, DBUS_HEADER_SENDER, "s");
        m_str(&m, "x.y");
        m_end(&m, 0);
        assert_int_equal(dbus_parse_header(m.b, m.n, &info), -EBADMSG);
        m.b[1] = DBUS_MESSAGE_SIGNAL; /* fine for a signal */
        assert_int_equal(dbus_parse_header(m.b, m.n, &info), 0);
        memcpy(b, pid1_error, sizeof pid1_error);
        b[24] = DBUS_HEADER_DESTINATION; /* the error name becomes a destination */
        assert_int_equal(dbus_parse_header(b, sizeof pid1_error, &info), -EBADMSG);

        /* An unknown field with an invalid signature. */
        m_begin(&m, 0, DBUS_MESSAGE_SIGNAL, 3);
        m_field(&m, 42, "a");
        m_u32(&m, 0);
        m_end(&m, 0);
        assert_int_equal(dbus_parse_header(m.b, m.n, &info), -EBADMSG);
        m_begin(&m, 0, DBUS_MESSAGE_SIGNAL, 3);
        m_field(&m, 42, "ii"); /* two types in a variant */
        m_u32(&m, 0);
        m_u32(&m, 0);
        m_end(&m, 0);
        assert_int_equal(dbus_parse_header(m.b, m.n, &info), -EBADMSG);
}

static void test_parse_oversize(void **state) {
        struct dbus_msg_info info;
        uint8_t b[16];
        (void) state;

        memcpy(b, pid1_return, 16);
        b[4] = 0x00, b[5] = 0x00, b[6] = 0x10; /* body 1 MiB */
        assert_int_equal(dbus_parse_header(b, 16, &info), -EMSGSIZE);
        memset(b + 4, 0xff, 4); /* body 4 GiB - 1: no overflow */
        assert_int_equal(dbus_parse_header(b, 16, &info), -EMSGSIZE);
        memcpy(b, pid1_return, 16);
        memset(b + 12, 0xff, 4); /* field array 4 GiB - 1 */
        assert_int_equal(dbus_parse_header(b, 16, &info), -EMSGSIZE);
        memcpy(b, pid1_return, 16);
        b[12] = 0x00, b[13] = 0x21; /* field array 8448 > DBUS_HEADER_SIZE_MAX */
        assert_int_equal(dbus_parse_header(b, 16, &info), -EMSGSIZE);

        /* The largest acceptable message: 64 KiB in all. */
        memcpy(b, pid1_return, 16);
        uint32_t body = DBUS_MSG_SIZE_MAX - 64;
        memcpy(b + 4, &body, 4);
        assert_int_equal(dbus_parse_header(b, 16, &info), -EAGAIN);
        assert_int_equal(info.total_len, DBUS_MSG_SIZE_MAX);
        body++;
        memcpy(b + 4, &body, 4);
        assert_int_equal(dbus_parse_header(b, 16, &info), -EMSGSIZE);
}

static void fill_t(struct msg *m) { m_pad(m, 8); for (int i = 0; i < 8; i++) m_u8(m, (uint8_t) i); }
static void fill_ay(struct msg *m) { m_u32(m, 3); m_u8(m, 1); m_u8(m, 2); m_u8(m, 3); }
static void fill_at_empty(struct msg *m) { m_u32(m, 0); m_pad(m, 8); }
static void fill_asv(struct msg *m) { /* a{sv} with {"k": <u 7>} */
        m_u32(m, 0);
        size_t len_at = m->n - 4;
        m_pad(m, 8);
        size_t start = m->n;
        m_str(m, "k");
        m_sig(m, "u");
        m_u32(m, 7);
        uint32_t len = (uint32_t) (m->n - start);
        struct msg t = { .big = m->big };
        m_u32(&t, len);
        memcpy(m->b + len_at, t.b, 4);
}
static void fill_struct(struct msg *m) { m_pad(m, 8); m_u8(m, 1); m_str(m, "s"); m_sig(m, "g"); }
static void fill_v(struct msg *m) { m_sig(m, "(yq)"); m_pad(m, 8); m_u8(m, 1); m_pad(m, 2); m_u8(m, 0); m_u8(m, 2); }
static void fill_o(struct msg *m) { m_str(m, "/a/b"); }

/* Unknown header fields are skipped whatever their type, in both orders. */
static void test_parse_unknown_fields(void **state) {
        static const struct {
                const char *sig;
                void (*fill)(struct msg *);
        } cases[] = {
                { "t", fill_t }, { "ay", fill_ay }, { "at", fill_at_empty }, { "a{sv}", fill_asv },
                { "(ysg)", fill_struct }, { "v", fill_v }, { "o", fill_o },
        };
        struct dbus_msg_info info;
        struct msg m;
        (void) state;
        for (int big = 0; big < 2; big++)
                for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                        m_return(&m, big, 77, cases[i].sig, cases[i].fill);
                        assert_int_equal(dbus_parse_header(m.b, m.n, &info), 0);
                        assert_int_equal(info.reply_serial, 77);
                        assert_int_equal(info.total_len, m.n);
                }
}

static void test_parse_long_error_name(void **state) {
        struct dbus_msg_info info;
        struct msg m;
        char name[201];
        (void) state;
        memset(name, 'e', 200);
        name[200] = '\0';
        m_begin(&m, 1, DBUS_MESSAGE_ERROR, 3);
        m_field(&m, DBUS_HEADER_REPLY_SERIAL, "u");
        m_u32(&m, 1);
        m_field(&m, DBUS_HEADER_ERROR_NAME, "s");
        m_str(&m, name);
        m_end(&m, 16);
        assert_int_equal(dbus_parse_header(m.b, m.n, &info), 0);
        assert_int_equal(strlen(info.error_name), sizeof info.error_name - 1);
        assert_int_equal(info.body_len, 16);
}

struct vector {
        const uint8_t *p;
        size_t n;
};

/* check() every byte of every vector changed to several values, and every
 * truncation. The copy is allocated at its exact size, so that ASan
 * (-fsanitize=address) sees any read past len. */
static void for_each_mutation(const struct vector *vec, size_t nvec, void (*check)(const uint8_t *b, size_t len)) {
        static const int delta[] = { -1, 0x00, 0x01, 0x7f, 0x80, 0xff, 0x20, 0x08 };
        for (size_t v = 0; v < nvec; v++)
                for (size_t i = 0; i < vec[v].n; i++)
                        for (size_t d = 0; d < ELEMENTSOF(delta); d++) {
                                uint8_t *b = malloc(vec[v].n);
                                assert_non_null(b);
                                memcpy(b, vec[v].p, vec[v].n);
                                size_t len = vec[v].n;
                                if (delta[d] < 0)
                                        len = i; /* truncated */
                                else
                                        b[i] = delta[d] == 0x20 ? b[i] ^ 0x20 : (uint8_t) delta[d];
                                check(b, len);
                                free(b);
                        }
}

/* The parser answers one of its codes and what it accepts is bounded. */
static void check_header(const uint8_t *b, size_t len) {
        struct dbus_msg_info info;
        int r = dbus_parse_header(b, len, &info);
        assert_true(r == 0 || r == -EAGAIN || r == -EBADMSG || r == -EMSGSIZE);
        if (r == 0) {
                assert_true(info.header_len <= len);
                assert_true(info.header_len <= DBUS_HEADER_SIZE_MAX);
                assert_true(info.total_len <= DBUS_MSG_SIZE_MAX);
                assert_true(strlen(info.error_name) < sizeof info.error_name);
                assert_true(strlen(info.signature) < sizeof info.signature);
        }
}

static void test_parse_mutations(void **state) {
        static const struct vector vec[] = {
                { sdbus_ping, sizeof sdbus_ping }, { pid1_return, sizeof pid1_return },
                { pid1_error, sizeof pid1_error }, { pid1_signal, sizeof pid1_signal },
                { sdbus_get, sizeof sdbus_get }, { pid1_get_running, sizeof pid1_get_running },
        };
        (void) state;
        for_each_mutation(vec, ELEMENTSOF(vec), check_header);
}

/* ---- the body of a Properties.Get reply ------------------------------- */

/* PID 1's real replies, in both byte orders. */
static void test_parse_get_replies(void **state) {
        struct dbus_msg_info info;
        uint8_t be[sizeof pid1_get_unknown];
        char out[64];
        (void) state;
        for (int big = 0; big < 2; big++) {
                const uint8_t *p = pid1_get_running;
                if (big) {
                        to_big_endian(be, pid1_get_running, sizeof pid1_get_running, pid1_get_running_u32,
                                      ELEMENTSOF(pid1_get_running_u32));
                        p = be;
                }
                assert_int_equal(dbus_parse_header(p, sizeof pid1_get_running, &info), 0);
                assert_int_equal(info.type, DBUS_MESSAGE_METHOD_RETURN);
                assert_int_equal(info.reply_serial, 1);
                assert_string_equal(info.signature, "v");
                assert_int_equal(info.header_len, 72);
                assert_int_equal(info.total_len, sizeof pid1_get_running);
                memset(out, 'x', sizeof out);
                assert_int_equal(dbus_parse_string_variant(p, sizeof pid1_get_running, &info, out, sizeof out), 0);
                assert_string_equal(out, "running");
                /* Exactly big enough, one byte short, the body not all there. */
                assert_int_equal(dbus_parse_string_variant(p, sizeof pid1_get_running, &info, out, 8), 0);
                assert_string_equal(out, "running");
                assert_int_equal(dbus_parse_string_variant(p, sizeof pid1_get_running, &info, out, 7), -ENOBUFS);
                assert_string_equal(out, "");
                for (size_t len = info.header_len; len < sizeof pid1_get_running; len++)
                        assert_int_equal(dbus_parse_string_variant(p, len, &info, out, sizeof out), -EAGAIN);

                /* Manager.NNames is a u: not a string. */
                p = pid1_get_nnames;
                if (big) {
                        to_big_endian(be, pid1_get_nnames, sizeof pid1_get_nnames, pid1_get_nnames_u32,
                                      ELEMENTSOF(pid1_get_nnames_u32));
                        p = be;
                }
                assert_int_equal(dbus_parse_header(p, sizeof pid1_get_nnames, &info), 0);
                assert_string_equal(info.signature, "v");
                strcpy(out, "stale");
                assert_int_equal(dbus_parse_string_variant(p, sizeof pid1_get_nnames, &info, out, sizeof out), -EBADMSG);
                assert_string_equal(out, "");

                /* The ERROR for an unknown property: its body is an "s". */
                p = pid1_get_unknown;
                if (big) {
                        to_big_endian(be, pid1_get_unknown, sizeof pid1_get_unknown, pid1_get_unknown_u32,
                                      ELEMENTSOF(pid1_get_unknown_u32));
                        p = be;
                }
                assert_int_equal(dbus_parse_header(p, sizeof pid1_get_unknown, &info), 0);
                assert_int_equal(info.type, DBUS_MESSAGE_ERROR);
                assert_int_equal(info.reply_serial, 1);
                assert_string_equal(info.error_name, "org.freedesktop.DBus.Error.UnknownProperty");
                assert_string_equal(info.signature, "s");
                assert_int_equal(info.total_len, sizeof pid1_get_unknown);
                assert_int_equal(dbus_parse_string_variant(p, sizeof pid1_get_unknown, &info, out, sizeof out), -EBADMSG);
        }

        assert_int_equal(dbus_parse_header(pid1_get_running, sizeof pid1_get_running, &info), 0);
        assert_int_equal(dbus_parse_string_variant(NULL, 88, &info, out, sizeof out), -EINVAL);
        assert_int_equal(dbus_parse_string_variant(pid1_get_running, 88, NULL, out, sizeof out), -EINVAL);
        assert_int_equal(dbus_parse_string_variant(pid1_get_running, 88, &info, NULL, 8), -EINVAL);
        assert_int_equal(dbus_parse_string_variant(pid1_get_running, 88, &info, out, 0), -EINVAL);
        /* An info that dbus_parse_header() did not fill. */
        memset(&info, 0, sizeof info);
        assert_int_equal(dbus_parse_string_variant(pid1_get_running, 88, &info, out, sizeof out), -EINVAL);
}

static const char *g_str; /* the string body_vs() and body_s() write */
static void body_vs(struct msg *m) { m_sig(m, "s"); m_str(m, g_str); }
static void body_vs_trailing(struct msg *m) { body_vs(m); m_u8(m, 0); }
static void body_vs_s(struct msg *m) { body_vs(m); m_str(m, "x"); }
static void body_s(struct msg *m) { m_str(m, g_str); }
static void body_v_ss(struct msg *m) { m_sig(m, "ss"); m_str(m, "a"); m_str(m, "b"); }
static void body_v_empty_sig(struct msg *m) { m_sig(m, ""); }
static void body_v_bad_sig(struct msg *m) { m_sig(m, "a"); m_u32(m, 0); }
static void body_vu_short(struct msg *m) { m_sig(m, "u"); m_u8(m, 0); }
static void body_vu(struct msg *m) { m_sig(m, "u"); m_u32(m, 7); }
static void body_vas(struct msg *m) { /* <["a", "bc"]> */
        m_sig(m, "as");
        m_u32(m, 0);
        size_t len_at = m->n - 4, start = m->n;
        m_str(m, "a");
        m_str(m, "bc");
        m_set_u32(m, len_at, (uint32_t) (m->n - start));
}

/* A METHOD_RETURN to serial 1 with body signature sig (no field if NULL)
 * and the body body() writes. */
static void m_reply(struct msg *m, int big, const char *sig, void (*body)(struct msg *)) {
        m_begin(m, big, DBUS_MESSAGE_METHOD_RETURN, 9);
        m_field(m, DBUS_HEADER_REPLY_SERIAL, "u");
        m_u32(m, 1);
        if (sig) {
                m_field(m, DBUS_HEADER_SIGNATURE, "g");
                m_sig(m, sig);
        }
        size_t b = m_body(m);
        if (body)
                body(m);
        m_done(m, b);
}

/* dbus_parse_string_variant() on a reply m_reply() makes. */
static int parse_reply(int big, const char *sig, void (*body)(struct msg *), char *out, size_t n) {
        static struct msg m;
        struct dbus_msg_info info;
        m_reply(&m, big, sig, body);
        assert_int_equal(dbus_parse_header(m.b, m.n, &info), 0);
        assert_int_equal(info.total_len, m.n);
        return dbus_parse_string_variant(m.b, m.n, &info, out, n);
}

/* Other types are -EBADMSG, malformed bodies -EPROTO. */
static void test_parse_get_bodies(void **state) {
        static char longstr[5001];
        static struct msg m;
        struct dbus_msg_info info;
        char out[64];
        (void) state;
        memset(longstr, 'L', sizeof longstr - 1);
        for (int big = 0; big < 2; big++) {
                g_str = "";
                assert_int_equal(parse_reply(big, "v", body_vs, out, 1), 0);
                assert_string_equal(out, "");
                g_str = "degraded";
                assert_int_equal(parse_reply(big, "v", body_vs, out, sizeof out), 0);
                assert_string_equal(out, "degraded");
                g_str = longstr;
                static char lout[sizeof longstr];
                assert_int_equal(parse_reply(big, "v", body_vs, lout, sizeof lout), 0);
                assert_string_equal(lout, longstr);
                assert_int_equal(parse_reply(big, "v", body_vs, lout, sizeof lout - 1), -ENOBUFS);
                assert_string_equal(lout, "");

                /* Well-formed, another type. */
                g_str = "running";
                assert_int_equal(parse_reply(big, "s", body_s, out, sizeof out), -EBADMSG); /* not in a variant */
                assert_int_equal(parse_reply(big, NULL, NULL, out, sizeof out), -EBADMSG);  /* empty body */
                assert_int_equal(parse_reply(big, "v", body_vu, out, sizeof out), -EBADMSG);
                assert_int_equal(parse_reply(big, "v", body_vas, out, sizeof out), -EBADMSG);
                assert_int_equal(parse_reply(big, "v", fill_v, out, sizeof out), -EBADMSG); /* <(yq)> */
                assert_int_equal(parse_reply(big, "vs", body_vs_s, out, sizeof out), -EBADMSG);

                /* Malformed. */
                assert_int_equal(parse_reply(big, "v", NULL, out, sizeof out), -EPROTO); /* no body */
                assert_int_equal(parse_reply(big, "v", body_v_ss, out, sizeof out), -EPROTO);
                assert_int_equal(parse_reply(big, "v", body_v_empty_sig, out, sizeof out), -EPROTO);
                assert_int_equal(parse_reply(big, "v", body_v_bad_sig, out, sizeof out), -EPROTO);
                assert_int_equal(parse_reply(big, "v", body_vu_short, out, sizeof out), -EPROTO);
                assert_int_equal(parse_reply(big, "v", body_vs_trailing, out, sizeof out), -EPROTO);

                /* Byte surgery on <"running">: the body starts at 32 (fields end
                 * at 31), the string's length is at 36, its bytes at 40. */
                g_str = "running";
                m_reply(&m, big, "v", body_vs);
                assert_int_equal(m.n, 32 + 4 + 4 + 8);
                static struct msg t;
                memcpy(&t, &m, sizeof m);
                t.b[32 + 8 + 7] = 'x'; /* no NUL */
                assert_int_equal(dbus_parse_header(t.b, t.n, &info), 0);
                assert_int_equal(dbus_parse_string_variant(t.b, t.n, &info, out, sizeof out), -EPROTO);
                memcpy(&t, &m, sizeof m);
                t.b[32 + 8 + 3] = '\0'; /* a NUL inside */
                assert_int_equal(dbus_parse_string_variant(t.b, t.n, &info, out, sizeof out), -EPROTO);
                memcpy(&t, &m, sizeof m);
                m_set_u32(&t, 32 + 4, 8); /* the length runs past the body */
                assert_int_equal(dbus_parse_string_variant(t.b, t.n, &info, out, sizeof out), -EPROTO);
                m_set_u32(&t, 32 + 4, 0xffffffff);
                assert_int_equal(dbus_parse_string_variant(t.b, t.n, &info, out, sizeof out), -EPROTO);
                memcpy(&t, &m, sizeof m);
                t.b[32] = 2; /* variant signature "s\0" of length 2 */
                assert_int_equal(dbus_parse_string_variant(t.b, t.n, &info, out, sizeof out), -EPROTO);
        }
}

/* Only the documented codes; what is accepted fits, out is "" otherwise. */
static void check_get_reply(const uint8_t *b, size_t len) {
        struct dbus_msg_info info;
        char out[16];
        if (dbus_parse_header(b, len, &info) < 0)
                return;
        int r = dbus_parse_string_variant(b, len, &info, out, sizeof out);
        assert_true(r == 0 || r == -EAGAIN || r == -EBADMSG || r == -EPROTO || r == -ENOBUFS);
        if (r == 0)
                assert_true(strlen(out) < sizeof out);
        else
                assert_string_equal(out, "");
}

static void test_parse_get_mutations(void **state) {
        static const struct vector vec[] = {
                { pid1_get_running, sizeof pid1_get_running }, { pid1_get_nnames, sizeof pid1_get_nnames },
                { pid1_get_unknown, sizeof pid1_get_unknown },
        };
        (void) state;
        for_each_mutation(vec, ELEMENTSOF(vec), check_get_reply);
}

/* ---- dbus_ping() against scripted servers ------------------------------ */

enum mode {
        SRV_OK,           /* signals first (split, one big), a stray reply, then ours byte by byte */
        SRV_OK_BIG_ENDIAN,
        SRV_OK_WITH_SIGNAL_AFTER_OK, /* "OK ..." and a signal in one write */
        SRV_ERROR,
        SRV_REJECT,
        SRV_SILENT,       /* authenticates, reads the call, never answers */
        SRV_SILENT_AUTH,  /* accepts, never answers */
        SRV_CLOSE,        /* accepts and closes (as PID 1 does to strangers) */
        SRV_GARBAGE_AUTH,
        SRV_GARBAGE_MSG,
        SRV_OVERSIZE,
        /* These expect sdbus_get (Get Manager.SystemState) as the call. */
        SRV_GET,          /* a signal, a stray reply, then <"running"> byte by byte */
        SRV_GET_BIG_ENDIAN,
        SRV_GET_WRONG_TYPE, /* <u 178> */
        SRV_GET_UNKNOWN,  /* ERROR UnknownProperty */
        SRV_GET_HUGE,     /* <"LLL..."> of 9000 bytes: over the 8 KiB the client buffers */
        SRV_GET_SILENT,
};

static void msleep(int ms) {
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000L };
        nanosleep(&ts, NULL);
}

static void xwrite(int fd, const void *p, size_t n) {
        if (write(fd, p, n) != (ssize_t) n)
                _exit(10);
}

/* Write in pieces of `piece` bytes with a pause between: split reads. */
static void write_split(int fd, const uint8_t *p, size_t n, size_t piece) {
        for (size_t i = 0; i < n; i += piece) {
                xwrite(fd, p + i, n - i < piece ? n - i : piece);
                msleep(1);
        }
}

static int read_exactly(int fd, void *buf, size_t n) {
        size_t got = 0;
        while (got < n) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                if (poll(&p, 1, 3000) <= 0)
                        return -1;
                ssize_t k = read(fd, (char *) buf + got, n - got);
                if (k <= 0)
                        return -1;
                got += (size_t) k;
        }
        return 0;
}

/* The client must close its end: wait for EOF (3 s at most). */
static int wait_eof(int fd) {
        char b[256];
        for (;;) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                if (poll(&p, 1, 3000) <= 0)
                        return -1;
                ssize_t k = read(fd, b, sizeof b);
                if (k == 0)
                        return 0;
                if (k < 0)
                        return errno == ECONNRESET ? 0 : -1;
        }
}

/* Serve one connection in mode; exit status 0 when the client behaved:
 * authenticated as expected, sent sd-bus's Ping, and closed its end. */
static void serve_one(int c, enum mode mode) {
        static struct msg big;
        char auth[64], expect[64];
        uint8_t call[sizeof sdbus_get], be[sizeof pid1_signal];
        const bool get = mode >= SRV_GET;
        const uint8_t *want = get ? sdbus_get : sdbus_ping;
        const size_t want_len = get ? sizeof sdbus_get : sizeof sdbus_ping;

        if (mode == SRV_CLOSE)
                return;
        if (mode == SRV_SILENT_AUTH)
                _exit(wait_eof(c) < 0 ? 3 : 0);

        /* NUL, AUTH EXTERNAL hex(ascii(euid)), BEGIN; all in one write. */
        int n = snprintf(expect, sizeof expect, "%cAUTH EXTERNAL ", 0);
        char dec[16];
        snprintf(dec, sizeof dec, "%u", (unsigned) geteuid());
        for (char *d = dec; *d; d++)
                n += snprintf(expect + n, sizeof expect - (size_t) n, "%02x", (unsigned char) *d);
        n += snprintf(expect + n, sizeof expect - (size_t) n, "\r\nBEGIN\r\n");
        if (read_exactly(c, auth, (size_t) n) < 0 || memcmp(auth, expect, (size_t) n) != 0)
                _exit(4);

        switch (mode) {
        case SRV_REJECT:
                /* sd-bus also answers the BEGIN that followed: ERROR. One
                 * write, since the client may close as soon as it reads
                 * REJECTED. */
                xwrite(c, "REJECTED EXTERNAL\r\nERROR\r\n", 26);
                _exit(wait_eof(c) < 0 ? 3 : 0);
        case SRV_GARBAGE_AUTH:
                xwrite(c, "\x01\x02\x03garbage\r\n", 12);
                _exit(wait_eof(c) < 0 ? 3 : 0);
        case SRV_OK_WITH_SIGNAL_AFTER_OK: {
                uint8_t both[37 + sizeof pid1_signal];
                memcpy(both, "OK 0123456789abcdef0123456789abcdef\r\n", 37);
                memcpy(both + 37, pid1_signal, sizeof pid1_signal);
                xwrite(c, both, sizeof both);
                break;
        }
        default:
                /* The OK line split across reads. */
                xwrite(c, "OK 0123456789abcd", 17);
                msleep(2);
                xwrite(c, "ef0123456789abcdef\r", 19);
                msleep(2);
                xwrite(c, "\n", 1);
                break;
        }

        if (read_exactly(c, call, want_len) < 0 || memcmp(call, want, want_len) != 0)
                _exit(5);

        switch (mode) {
        case SRV_OK:
                write_split(c, pid1_signal, sizeof pid1_signal, 100);
                /* 20 KiB body: more than the client buffers, skipped by length */
                m_begin(&big, 0, DBUS_MESSAGE_SIGNAL, 2);
                m_field(&big, DBUS_HEADER_PATH, "o");
                m_str(&big, "/org/freedesktop/systemd1");
                m_end(&big, 20000);
                write_split(c, big.b, big.n, 3000);
                /* a reply to someone else's serial */
                m_return(&big, 0, 7, NULL, NULL);
                xwrite(c, big.b, big.n);
                write_split(c, pid1_return, sizeof pid1_return, 1);
                break;
        case SRV_OK_BIG_ENDIAN:
        case SRV_GET_BIG_ENDIAN:
                to_big_endian(be, pid1_signal, sizeof pid1_signal, pid1_signal_u32, ELEMENTSOF(pid1_signal_u32));
                write_split(c, be, sizeof pid1_signal, 64);
                if (get) {
                        to_big_endian(be, pid1_get_running, sizeof pid1_get_running, pid1_get_running_u32,
                                      ELEMENTSOF(pid1_get_running_u32));
                        write_split(c, be, sizeof pid1_get_running, 5);
                } else {
                        to_big_endian(be, pid1_return, sizeof pid1_return, pid1_return_u32, ELEMENTSOF(pid1_return_u32));
                        write_split(c, be, sizeof pid1_return, 7);
                }
                break;
        case SRV_OK_WITH_SIGNAL_AFTER_OK:
                xwrite(c, pid1_return, sizeof pid1_return);
                break;
        case SRV_ERROR:
                xwrite(c, pid1_error, sizeof pid1_error);
                break;
        case SRV_GARBAGE_MSG:
                xwrite(c, "HTTP/1.1 400 Bad Request\r\n\r\n", 28);
                break;
        case SRV_OVERSIZE:
                memcpy(be, pid1_return, 16);
                be[6] = 0x10; /* 1 MiB body; the client must not wait for it */
                xwrite(c, be, 16);
                break;
        case SRV_GET:
                write_split(c, pid1_signal, sizeof pid1_signal, 100);
                m_reply(&big, 0, "v", body_vu);
                big.b[8] = 7; /* serial 7 */
                big.b[20] = 7; /* reply_serial 7: someone else's */
                xwrite(c, big.b, big.n);
                write_split(c, pid1_get_running, sizeof pid1_get_running, 1);
                break;
        case SRV_GET_WRONG_TYPE:
                xwrite(c, pid1_get_nnames, sizeof pid1_get_nnames);
                break;
        case SRV_GET_UNKNOWN: /* one write: the client may close after the header */
                xwrite(c, pid1_get_unknown, sizeof pid1_get_unknown);
                break;
        case SRV_GET_HUGE: {
                static char huge[9001];
                memset(huge, 'L', sizeof huge - 1);
                g_str = huge;
                m_reply(&big, 0, "v", body_vs);
                xwrite(c, big.b, big.n);
                break;
        }
        default: /* SRV_SILENT, SRV_GET_SILENT */
                break;
        }
        _exit(wait_eof(c) < 0 ? 3 : 0);
}

struct server {
        char dir[64], path[128];
        int fd;
        pid_t pid;
};

/* Listen on a fresh socket; a child serves `conns` connections in mode. */
static void server_start(struct server *s, enum mode mode, int conns, int backlog) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        strcpy(s->dir, "/tmp/dbusping-test.XXXXXX");
        assert_non_null(mkdtemp(s->dir));
        snprintf(s->path, sizeof s->path, "%s/sock", s->dir);
        strcpy(sa.sun_path, s->path);
        s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(s->fd >= 0);
        assert_int_equal(bind(s->fd, (struct sockaddr *) &sa, sizeof sa), 0);
        s->pid = -1;
        if (backlog < 0) /* bound, not listening: ECONNREFUSED */
                return;
        assert_int_equal(listen(s->fd, backlog), 0);
        if (conns == 0)
                return;
        s->pid = fork();
        assert_true(s->pid >= 0);
        if (s->pid == 0) {
                signal(SIGPIPE, SIG_IGN); /* a failed write is reported, not fatal */
                for (int i = 0; i < conns; i++) {
                        int c = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC);
                        if (c < 0)
                                _exit(9);
                        pid_t p = fork(); /* one process per connection: its exit status says */
                        if (p == 0)
                                serve_one(c, mode), _exit(0);
                        close(c);
                        int st;
                        if (p < 0 || waitpid(p, &st, 0) != p || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
                                _exit(p < 0 ? 8 : WIFEXITED(st) ? WEXITSTATUS(st) : 7);
                }
                _exit(0);
        }
}

/* The server's verdict: 0 if every connection went as expected. */
static int server_stop(struct server *s) {
        int st = 0;
        close(s->fd);
        if (s->pid > 0) {
                assert_int_equal(waitpid(s->pid, &st, 0), s->pid);
                st = WIFEXITED(st) ? WEXITSTATUS(st) : 100;
        }
        unlink(s->path);
        rmdir(s->dir);
        return st;
}

static uint64_t now_ms_test(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

static int count_fds(void) {
        DIR *d = opendir("/proc/self/fd");
        int n = 0;
        assert_non_null(d);
        for (struct dirent *e; (e = readdir(d));)
                n += e->d_name[0] != '.';
        closedir(d);
        return n - 1;
}

/* One call in mode: a ping, or with out a Get of Manager.SystemState into
 * out[n]. Returns the call's result and asserts the server saw the
 * expected bytes and then our close. */
static int call_mode(enum mode mode, uint64_t timeout_ms, char *out, size_t n, struct dbus_ping_result *res,
                     uint64_t *elapsed_ms) {
        struct server s;
        int r;
        server_start(&s, mode, 1, 16);
        uint64_t t0 = now_ms_test();
        if (out)
                r = dbus_get_string_property(s.path, timeout_ms, DBUS_SYSTEMD_MANAGER_INTERFACE, "SystemState", out, n,
                                             res);
        else
                r = dbus_ping(s.path, timeout_ms, res);
        if (elapsed_ms)
                *elapsed_ms = now_ms_test() - t0;
        assert_int_equal(server_stop(&s), 0);
        return r;
}

static int ping_mode(enum mode mode, uint64_t timeout_ms, struct dbus_ping_result *res, uint64_t *elapsed_ms) {
        return call_mode(mode, timeout_ms, NULL, 0, res, elapsed_ms);
}

static void test_ping_ok(void **state) {
        struct dbus_ping_result res;
        (void) state;
        assert_int_equal(ping_mode(SRV_OK, 5000, &res, NULL), 0);
        assert_int_equal(res.skipped, 3);
        assert_string_equal(res.error, "");
        assert_true(res.rtt_us > 0 && res.rtt_us <= res.total_us);

        assert_int_equal(ping_mode(SRV_OK_BIG_ENDIAN, 5000, &res, NULL), 0);
        assert_int_equal(res.skipped, 1);

        assert_int_equal(ping_mode(SRV_OK_WITH_SIGNAL_AFTER_OK, 5000, &res, NULL), 0);
        assert_int_equal(res.skipped, 1);

        assert_int_equal(ping_mode(SRV_OK, 5000, NULL, NULL), 0); /* res is optional */
}

static void test_ping_error_reply(void **state) {
        struct dbus_ping_result res;
        (void) state;
        assert_int_equal(ping_mode(SRV_ERROR, 5000, &res, NULL), -EREMOTEIO);
        assert_string_equal(res.error, "org.freedesktop.DBus.Error.UnknownObject");
}

static void test_ping_protocol_errors(void **state) {
        struct dbus_ping_result res;
        uint64_t ms;
        (void) state;
        assert_int_equal(ping_mode(SRV_REJECT, 5000, &res, NULL), -EPROTO);
        assert_non_null(strstr(res.error, "auth rejected: REJECTED EXTERNAL"));
        assert_int_equal(ping_mode(SRV_GARBAGE_AUTH, 5000, &res, NULL), -EPROTO);
        assert_non_null(strstr(res.error, "garbage"));
        assert_int_equal(ping_mode(SRV_GARBAGE_MSG, 5000, &res, NULL), -EPROTO);
        assert_non_null(strstr(res.error, "malformed"));
        assert_int_equal(ping_mode(SRV_OVERSIZE, 5000, &res, &ms), -EPROTO);
        assert_non_null(strstr(res.error, "too large"));
        assert_true(ms < 2000);
        assert_int_equal(ping_mode(SRV_CLOSE, 5000, &res, NULL), -ECONNRESET);
}

static void test_ping_timeouts(void **state) {
        struct dbus_ping_result res;
        uint64_t ms;
        (void) state;
        /* Accepts, authenticates, never answers: -ETIMEDOUT on time, and
         * the server sees our close (ping_mode checks). */
        assert_int_equal(ping_mode(SRV_SILENT, 300, &res, &ms), -ETIMEDOUT);
        assert_true(ms >= 300 && ms < 1000);
        assert_true(res.total_us >= 300000);
        assert_non_null(strstr(res.error, "timeout before the reply"));
        assert_int_equal(ping_mode(SRV_SILENT_AUTH, 200, &res, &ms), -ETIMEDOUT);
        assert_true(ms >= 200 && ms < 1000);
        assert_non_null(strstr(res.error, "during auth"));
        assert_int_equal(ping_mode(SRV_SILENT_AUTH, 0, &res, &ms), -ETIMEDOUT);
        assert_true(ms < 500);

        /* Nobody accepts and the backlog is full: connect() says EAGAIN,
         * which cannot be polled; we retry until the deadline. */
        struct server s;
        server_start(&s, SRV_SILENT, 0, 0);
        int filler = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        strcpy(sa.sun_path, s.path);
        assert_int_equal(connect(filler, (struct sockaddr *) &sa, sizeof sa), 0);
        uint64_t t0 = now_ms_test();
        assert_int_equal(dbus_ping(s.path, 200, &res), -ETIMEDOUT);
        ms = now_ms_test() - t0;
        assert_true(ms >= 200 && ms < 1000);
        assert_non_null(strstr(res.error, "backlog"));
        close(filler);
        assert_int_equal(server_stop(&s), 0);
}

static void test_ping_connect_errors(void **state) {
        struct dbus_ping_result res;
        struct server s;
        char longpath[200];
        (void) state;
        assert_int_equal(dbus_ping("/nonexistent/dbusping/sock", 1000, &res), -ENOENT);
        assert_non_null(strstr(res.error, "connect"));
        assert_true(res.total_us < 100000);
        server_start(&s, SRV_OK, 0, -1);
        assert_int_equal(dbus_ping(s.path, 1000, &res), -ECONNREFUSED);
        assert_int_equal(server_stop(&s), 0);
        assert_int_equal(dbus_ping("", 1000, &res), -EINVAL);
        assert_int_equal(dbus_ping(NULL, 1000, &res), -EINVAL);
        memset(longpath, 'a', sizeof longpath - 1);
        longpath[0] = '/';
        longpath[sizeof longpath - 1] = '\0';
        assert_int_equal(dbus_ping(longpath, 1000, &res), -ENAMETOOLONG);
}

/* A manager that has just exec'd: the old socket file is there, nobody
 * listens (ECONNREFUSED); the new one unlinks it, binds and listens 200 ms
 * later (the child plays it). The probe waits and gets its answer. */
static void test_ping_when_listening(void **state) {
        struct dbus_ping_result res;
        struct server s;
        uint64_t t0, ms;
        pid_t pid;
        int st;
        (void) state;
        server_start(&s, SRV_OK, 0, -1); /* bound, not listening */
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                struct sockaddr_un sa = { .sun_family = AF_UNIX };
                struct timespec late = { 0, 200 * 1000 * 1000 };
                int fd, c;
                nanosleep(&late, NULL);
                strcpy(sa.sun_path, s.path);
                unlink(s.path);
                fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (fd < 0 || bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0 || listen(fd, 4) < 0)
                        _exit(5);
                c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
                if (c < 0)
                        _exit(6);
                serve_one(c, SRV_OK);
                _exit(0);
        }
        t0 = now_ms_test();
        assert_int_equal(dbus_ping_when_listening(s.path, 5000, &res), 0);
        ms = now_ms_test() - t0;
        assert_true(ms >= 150 && ms < 4000);
        assert_true(res.total_us >= 150000);
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        assert_int_equal(server_stop(&s), 0);
        /* Nothing ever listens: the deadline ends it with connect's error. */
        t0 = now_ms_test();
        assert_int_equal(dbus_ping_when_listening("/nonexistent/dbusping/sock", 300, &res), -ENOENT);
        ms = now_ms_test() - t0;
        assert_true(ms >= 290 && ms < 3000);
        /* Bad arguments are refused as by dbus_ping(). */
        assert_int_equal(dbus_ping_when_listening("", 100, &res), -EINVAL);
}

/* ---- dbus_get_string_property() against scripted servers ------------- */

static void test_get_ok(void **state) {
        struct dbus_ping_result res;
        char out[32];
        (void) state;
        memset(out, 'x', sizeof out);
        /* Skips a signal and someone else's reply; ours comes byte by byte. */
        assert_int_equal(call_mode(SRV_GET, 5000, out, sizeof out, &res, NULL), 0);
        assert_string_equal(out, "running");
        assert_string_equal(res.error, "");
        assert_int_equal(res.skipped, 2);
        assert_true(res.rtt_us > 0 && res.rtt_us <= res.total_us);

        memset(out, 'x', sizeof out);
        assert_int_equal(call_mode(SRV_GET_BIG_ENDIAN, 5000, out, sizeof out, &res, NULL), 0);
        assert_string_equal(out, "running");
        assert_int_equal(res.skipped, 1);

        /* Exactly big enough; res is optional. */
        assert_int_equal(call_mode(SRV_GET, 5000, out, 8, NULL, NULL), 0);
        assert_string_equal(out, "running");
}

static void test_get_errors(void **state) {
        struct dbus_ping_result res;
        char out[32];
        uint64_t ms;
        (void) state;
        strcpy(out, "stale");
        assert_int_equal(call_mode(SRV_GET, 5000, out, 7, &res, NULL), -ENOBUFS);
        assert_string_equal(out, "");
        assert_non_null(strstr(res.error, "does not fit"));

        strcpy(out, "stale");
        assert_int_equal(call_mode(SRV_GET_WRONG_TYPE, 5000, out, sizeof out, &res, NULL), -EBADMSG);
        assert_string_equal(out, "");
        assert_non_null(strstr(res.error, "'u', not a string"));

        strcpy(out, "stale");
        assert_int_equal(call_mode(SRV_GET_UNKNOWN, 5000, out, sizeof out, &res, NULL), -EREMOTEIO);
        assert_string_equal(res.error, "org.freedesktop.DBus.Error.UnknownProperty");
        assert_string_equal(out, "");
        assert_true(res.rtt_us > 0);

        static char big[16384];
        assert_int_equal(call_mode(SRV_GET_HUGE, 5000, big, sizeof big, &res, &ms), -ENOBUFS);
        assert_non_null(strstr(res.error, "reply of 9"));
        assert_true(ms < 2000);

        assert_int_equal(call_mode(SRV_GET_SILENT, 300, out, sizeof out, &res, &ms), -ETIMEDOUT);
        assert_true(ms >= 300 && ms < 1000);
        assert_non_null(strstr(res.error, "timeout before the reply"));
        /* The ping paths are shared: e.g. a refused auth. */
        assert_int_equal(call_mode(SRV_REJECT, 5000, out, sizeof out, &res, NULL), -EPROTO);
        assert_int_equal(call_mode(SRV_CLOSE, 5000, out, sizeof out, &res, NULL), -ECONNRESET);

        /* Bad arguments: refused before connecting (the path does not exist). */
        const char *nx = "/nonexistent/dbusping/sock";
        assert_int_equal(dbus_get_string_property(nx, 100, DBUS_SYSTEMD_MANAGER_INTERFACE, "", out, sizeof out, &res),
                         -EINVAL);
        assert_non_null(strstr(res.error, "building"));
        assert_int_equal(dbus_get_string_property(nx, 100, NULL, "SystemState", out, sizeof out, &res), -EINVAL);
        assert_int_equal(dbus_get_string_property(nx, 100, DBUS_SYSTEMD_MANAGER_INTERFACE, "SystemState", NULL, 8, &res),
                         -EINVAL);
        assert_int_equal(dbus_get_string_property(nx, 100, DBUS_SYSTEMD_MANAGER_INTERFACE, "SystemState", out, 0, &res),
                         -EINVAL);
        assert_int_equal(dbus_get_string_property(nx, 100, DBUS_SYSTEMD_MANAGER_INTERFACE, "SystemState", out, sizeof out,
                                                  &res), -ENOENT);
        assert_int_equal(dbus_get_string_property(NULL, 100, DBUS_SYSTEMD_MANAGER_INTERFACE, "SystemState", out,
                                                  sizeof out, &res), -EINVAL);
}

/* count Gets of SystemState against one server in mode, each giving want. */
static void get_many(enum mode mode, int count, int want) {
        struct dbus_ping_result res;
        struct server s;
        char out[16];
        server_start(&s, mode, count, 64);
        for (int i = 0; i < count; i++)
                assert_int_equal(dbus_get_string_property(s.path, 5000, DBUS_SYSTEMD_MANAGER_INTERFACE, "SystemState",
                                                          out, sizeof out, &res), want);
        assert_int_equal(server_stop(&s), 0);
}

/* No fd survives a call, on any path. */
static void test_ping_no_fd_leak(void **state) {
        struct dbus_ping_result res;
        struct server s;
        (void) state;
        int before = count_fds();
        server_start(&s, SRV_OK_WITH_SIGNAL_AFTER_OK, 200, 64);
        for (int i = 0; i < 200; i++)
                assert_int_equal(dbus_ping(s.path, 5000, &res), 0);
        assert_int_equal(server_stop(&s), 0);
        server_start(&s, SRV_REJECT, 100, 64);
        for (int i = 0; i < 100; i++)
                assert_int_equal(dbus_ping(s.path, 5000, &res), -EPROTO);
        assert_int_equal(server_stop(&s), 0);
        server_start(&s, SRV_SILENT, 5, 64);
        for (int i = 0; i < 5; i++)
                assert_int_equal(dbus_ping(s.path, 20, &res), -ETIMEDOUT);
        assert_int_equal(server_stop(&s), 0);
        for (int i = 0; i < 1000; i++)
                assert_int_equal(dbus_ping("/nonexistent/dbusping/sock", 100, &res), -ENOENT);
        get_many(SRV_GET_BIG_ENDIAN, 20, 0); /* ~25 ms each: split writes */
        get_many(SRV_GET_UNKNOWN, 100, -EREMOTEIO);
        get_many(SRV_GET_WRONG_TYPE, 50, -EBADMSG);
        assert_int_equal(count_fds(), before);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_build_ping_matches_sdbus),
                cmocka_unit_test(test_build_arguments),
                cmocka_unit_test(test_build_alignment),
                cmocka_unit_test(test_build_get_matches_sdbus),
                cmocka_unit_test(test_build_args),
                cmocka_unit_test(test_parse_pid1_messages),
                cmocka_unit_test(test_parse_split),
                cmocka_unit_test(test_parse_garbage),
                cmocka_unit_test(test_parse_oversize),
                cmocka_unit_test(test_parse_unknown_fields),
                cmocka_unit_test(test_parse_long_error_name),
                cmocka_unit_test(test_parse_mutations),
                cmocka_unit_test(test_parse_get_replies),
                cmocka_unit_test(test_parse_get_bodies),
                cmocka_unit_test(test_parse_get_mutations),
                cmocka_unit_test(test_ping_ok),
                cmocka_unit_test(test_ping_error_reply),
                cmocka_unit_test(test_ping_protocol_errors),
                cmocka_unit_test(test_ping_timeouts),
                cmocka_unit_test(test_ping_connect_errors),
                cmocka_unit_test(test_ping_when_listening),
                cmocka_unit_test(test_get_ok),
                cmocka_unit_test(test_get_errors),
                cmocka_unit_test(test_ping_no_fd_leak),
        };
        /* A client that dies writing to a closed socket would be a bug;
         * do not let SIGPIPE hide it. */
        signal(SIGPIPE, SIG_DFL);
        return cmocka_run_group_tests(tests, make_vectors, NULL);
}
