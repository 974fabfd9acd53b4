/* A dependency-free D-Bus liveness probe for PID 1.
 *
 * Sends org.freedesktop.DBus.Peer.Ping to systemd over its private
 * peer-to-peer socket /run/systemd/private and waits for the reply. Only a
 * real method reply proves PID 1's event loop runs: connect() alone succeeds
 * on a hung PID 1 as long as the listen backlog has room. The same
 * connection/auth/reply code also reads a string property of PID 1's manager
 * object (org.freedesktop.DBus.Properties.Get), e.g. SystemState, to see
 * whether a boot reached its default target.
 *
 * Needs nothing but libc (no libdbus, no libsystemd, no dbus-daemon),
 * allocates nothing, checks every syscall, returns negative errno, and is
 * bounded by one total deadline (every wait is a poll() with the time left).
 * The socket is closed on every path: a client connection that PID 1 keeps
 * queueing signals to and nobody reads is itself a PID 1 memory leak.
 *
 * Wire format and authentication: D-Bus specification ("Message Format",
 * "Authentication Protocol"), cross-checked against sd-bus (systemd v252
 * src/libsystemd/sd-bus/bus-socket.c, bus-message.c) and against a real
 * systemd 252 answering on /run/systemd/private (see docs/health.md). */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define DBUS_PING_DEFAULT_PATH "/run/systemd/private"
/* Any object path works: sd-bus answers Peer.Ping before object dispatch
 * (sd-bus.c process_builtin()). This is systemd's own manager object. */
#define DBUS_PING_OBJECT "/org/freedesktop/systemd1"
#define DBUS_PEER_INTERFACE "org.freedesktop.DBus.Peer"
#define DBUS_PROPERTIES_INTERFACE "org.freedesktop.DBus.Properties"
/* PID 1's manager interface, e.g. its SystemState property. */
#define DBUS_SYSTEMD_MANAGER_INTERFACE "org.freedesktop.systemd1.Manager"

/* Messages larger than this are refused (-EPROTO) instead of buffered or
 * skipped. PID 1's signals and replies are a few KiB at most. */
#define DBUS_MSG_SIZE_MAX (64u * 1024u)
/* The header (fixed part + header-field array) of any message we look at
 * must fit this; bodies are skipped without being buffered. */
#define DBUS_HEADER_SIZE_MAX (8u * 1024u)
/* The fixed part of every message header. */
#define DBUS_FIXED_HEADER_SIZE 16u

enum {
        DBUS_MESSAGE_METHOD_CALL = 1,
        DBUS_MESSAGE_METHOD_RETURN = 2,
        DBUS_MESSAGE_ERROR = 3,
        DBUS_MESSAGE_SIGNAL = 4,
};

enum {
        DBUS_FLAG_NO_REPLY_EXPECTED = 1 << 0,
        DBUS_FLAG_NO_AUTO_START = 1 << 1,
};

enum {
        DBUS_HEADER_PATH = 1,
        DBUS_HEADER_INTERFACE = 2,
        DBUS_HEADER_MEMBER = 3,
        DBUS_HEADER_ERROR_NAME = 4,
        DBUS_HEADER_REPLY_SERIAL = 5,
        DBUS_HEADER_DESTINATION = 6,
        DBUS_HEADER_SENDER = 7,
        DBUS_HEADER_SIGNATURE = 8,
        DBUS_HEADER_UNIX_FDS = 9,
};

struct dbus_ping_result {
        uint64_t rtt_us;   /* call written -> reply read (0 unless a reply came) */
        uint64_t total_us; /* socket() -> return, on every path */
        uint32_t skipped;  /* other messages (signals) skipped before the reply */
        char error[128];   /* D-Bus error name, or the local reason; "" on success */
};

/* Connect to path (normally DBUS_PING_DEFAULT_PATH), authenticate with
 * "AUTH EXTERNAL <hex of our euid as ASCII decimal>", BEGIN, send
 * Peer.Ping to DBUS_PING_OBJECT and wait for the reply whose reply_serial
 * matches, skipping anything else (PID 1 sends every signal to every private
 * connection). At most timeout_ms in total, then the socket is closed.
 *
 * Returns 0 on a METHOD_RETURN, or
 *   -EREMOTEIO     an ERROR reply came (its name in res->error)
 *   -ETIMEDOUT     no reply within timeout_ms (includes a full listen backlog)
 *   -ENOENT, -ECONNREFUSED, -EACCES ...   connect() failed
 *   -ECONNRESET    the server closed the connection (e.g. PID 1 refuses
 *                  peers that are neither root nor its own uid)
 *   -EPROTO        authentication rejected, garbage, or a message over the
 *                  size limits
 *   -ENAMETOOLONG, -EINVAL   bad arguments
 * res may be NULL; if given it is always filled. */
int dbus_ping(const char *path, uint64_t timeout_ms, struct dbus_ping_result *res);

/* dbus_ping(), for a manager that has just exec'd: while the socket is
 * missing or nobody listens on it (-ENOENT, -ECONNREFUSED), wait for it to
 * be bound (inotify on its directory; connect again at each change, and at
 * least every 20 ms) instead of failing; then Ping. One deadline for all:
 * timeout_ms. Returns what the last dbus_ping() returned. */
int dbus_ping_when_listening(const char *path, uint64_t timeout_ms, struct dbus_ping_result *res);

/* org.freedesktop.DBus.Properties.Get(interface, property) on object
 * DBUS_PING_OBJECT ("/org/freedesktop/systemd1") over the p2p socket at
 * path; the reply must be a variant holding a string ("s"), copied to out
 * (NUL-terminated). Connection, authentication, deadline, skipping of
 * signals and closing are dbus_ping()'s. E.g.
 *   dbus_get_string_property(DBUS_PING_DEFAULT_PATH, 1000,
 *           DBUS_SYSTEMD_MANAGER_INTERFACE, "SystemState", buf, sizeof buf, &res)
 * gives "initializing", "starting", "running", "degraded", "maintenance" or
 * "stopping".
 *
 * Returns 0 with the value in out, or what dbus_ping() returns, plus
 *   -EREMOTEIO     an ERROR reply (name in res->error, e.g.
 *                  org.freedesktop.DBus.Error.UnknownProperty)
 *   -EBADMSG       a well-formed reply of another type (body signature not
 *                  "v", or the variant holds something else than "s")
 *   -EPROTO        also: a malformed reply body
 *   -ENOBUFS       the value does not fit out (n bytes with the NUL), or the
 *                  reply is over DBUS_HEADER_SIZE_MAX (8 KiB) in all
 *   -EINVAL        also: out NULL, n 0, interface or property NULL, empty
 *                  or over 255 bytes
 * out is "" on every error (when out and n allow). res may be NULL. */
int dbus_get_string_property(const char *path, uint64_t timeout_ms, const char *interface,
                             const char *property, char *out, size_t n, struct dbus_ping_result *res);

/* Build a METHOD_CALL (little-endian, flags 0) into buf with header fields
 * PATH, MEMBER, INTERFACE and, when n_args > 0, SIGNATURE ("s" n_args
 * times), in that order (sd-bus's, which puts DESTINATION before SIGNATURE;
 * p2p calls have none). The body is the n_args strings args[]. The
 * header-field array is 8-aligned per field and the header is padded to a
 * multiple of 8, where the body starts. Returns the message length,
 * -ENOBUFS if size is too small, -EINVAL on a NULL/empty or over-long path,
 * interface or member, a NULL or over-long (> DBUS_MSG_SIZE_MAX) arg,
 * n_args > 255, or serial 0. */
ssize_t dbus_build_method_call_args(void *buf, size_t size, uint32_t serial, const char *path,
                                    const char *interface, const char *member,
                                    const char *const *args, size_t n_args);
/* The same with an empty body (no SIGNATURE field): a multiple of 8 long. */
ssize_t dbus_build_method_call(void *buf, size_t size, uint32_t serial,
                               const char *path, const char *interface, const char *member);
/* The Ping we send: dbus_build_method_call(buf, size, serial,
 * DBUS_PING_OBJECT, DBUS_PEER_INTERFACE, "Ping"). 112 bytes. */
ssize_t dbus_build_ping(void *buf, size_t size, uint32_t serial);
/* The Get we send: dbus_build_method_call_args(buf, size, serial,
 * DBUS_PING_OBJECT, DBUS_PROPERTIES_INTERFACE, "Get", {interface, property},
 * 2); interface and property must be non-empty and at most 255 bytes
 * (-EINVAL). 176 bytes for Manager.SystemState. */
ssize_t dbus_build_get_property(void *buf, size_t size, uint32_t serial,
                                const char *interface, const char *property);

struct dbus_msg_info {
        uint8_t endian; /* 'l' or 'B' */
        uint8_t type;   /* DBUS_MESSAGE_*, or an unknown non-zero type (to be skipped) */
        uint8_t flags;
        uint32_t serial;
        uint32_t reply_serial; /* 0 if the field is absent */
        uint32_t body_len;
        uint32_t header_len; /* fixed header + field array + padding: where the body starts */
        uint32_t total_len;  /* header_len + body_len */
        char error_name[128]; /* ERROR_NAME field, "" if absent; cut to fit */
        char signature[256];  /* SIGNATURE field (of the body), "" if absent */
};

/* Parse the message header at the start of buf, of which len bytes are
 * available (the body need not be). Both byte orders are handled.
 *   0         header complete and valid; *info filled
 *   -EAGAIN   need more bytes. Once len >= DBUS_FIXED_HEADER_SIZE,
 *             info->header_len and info->total_len are already set, so a
 *             caller knows how much to read
 *   -EBADMSG  not a D-Bus message (endian byte, version, serial 0, type 0,
 *             malformed or mistyped header fields)
 *   -EMSGSIZE total_len > DBUS_MSG_SIZE_MAX or header_len > DBUS_HEADER_SIZE_MAX
 * Unknown header field codes are skipped whatever their signature. */
int dbus_parse_header(const void *buf, size_t len, struct dbus_msg_info *info);

/* The value of a Properties.Get reply holding a string. msg[0..len) is the
 * complete message whose header dbus_parse_header() parsed into info (either
 * byte order). The body signature must be "v", and the variant's signature
 * "s": u8 1, 's', NUL, padding to 4, u32 length, the bytes, NUL, and nothing
 * after it. Copies the string with its NUL to out[n].
 *   0         ok
 *   -EBADMSG  well-formed, but not a variant holding a string
 *   -EPROTO   a malformed body (lengths past the end, missing NUL, an
 *             invalid variant signature, trailing bytes)
 *   -ENOBUFS  the string and its NUL do not fit n
 *   -EAGAIN   len < info->total_len
 *   -EINVAL   NULL arguments or n 0
 * out is "" on every error but -EINVAL. */
int dbus_parse_string_variant(const void *msg, size_t len, const struct dbus_msg_info *info,
                              char *out, size_t n);
