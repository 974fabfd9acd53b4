/* What systemd's private socket sends once authenticated
 * (shim/health/dbusping.c dbus_parse_header() and
 * dbus_parse_string_variant()): a stream of messages, PID 1's signals and
 * then our reply, read into the guard's buffer. The input is that stream;
 * the harness walks it the way call_on_fd() does, a header at a time,
 * skipping each message whole, and reads each complete one as a
 * Properties.Get reply. */
#include "fuzz.h"
#include "health/dbusping.h"

#include <errno.h>

/* Header lengths: the fixed part, the field array padded to 8, the body. */
static void check_lengths(const struct dbus_msg_info *info) {
        FUZZ_ASSERT(info->header_len >= DBUS_FIXED_HEADER_SIZE && info->header_len % 8 == 0);
        FUZZ_ASSERT(info->header_len <= DBUS_HEADER_SIZE_MAX);
        FUZZ_ASSERT(info->total_len == (uint64_t) info->header_len + info->body_len);
        FUZZ_ASSERT(info->total_len <= DBUS_MSG_SIZE_MAX);
}

static void check_header(const uint8_t *msg, size_t len, const struct dbus_msg_info *info) {
        check_lengths(info);
        FUZZ_ASSERT(len >= info->header_len);
        FUZZ_ASSERT(info->endian == 'l' || info->endian == 'B');
        FUZZ_ASSERT(info->type != 0 && info->serial != 0);
        FUZZ_ASSERT(fuzz_terminated(info->error_name, sizeof info->error_name));
        FUZZ_ASSERT(fuzz_terminated(info->signature, sizeof info->signature));
        if (info->type == DBUS_MESSAGE_METHOD_RETURN || info->type == DBUS_MESSAGE_ERROR)
                FUZZ_ASSERT(info->reply_serial != 0);
        if (info->type == DBUS_MESSAGE_ERROR)
                FUZZ_ASSERT(info->error_name[0] != '\0');

        /* A header that parses is "need more bytes" while it is incomplete:
         * the guard keeps reading instead of dropping the connection. */
        struct dbus_msg_info part;
        size_t cut = info->header_len - 1;
        FUZZ_ASSERT(dbus_parse_header(msg, cut, &part) == -EAGAIN);
        FUZZ_ASSERT(dbus_parse_header(msg, DBUS_FIXED_HEADER_SIZE - 1, &part) == -EAGAIN);
}

/* A complete message read as the reply to Properties.Get, into buffers too
 * small, just right and roomy. */
static void check_string_variant(const uint8_t *msg, size_t len, const struct dbus_msg_info *info) {
        static const size_t sizes[] = { 1, 8, 256 };
        char out[256];

        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
                char *small = malloc(sizes[i]);
                if (!small)
                        abort();
                int r = dbus_parse_string_variant(msg, len, info, small, sizes[i]);
                FUZZ_ASSERT(r == 0 || r == -EBADMSG || r == -EPROTO || r == -ENOBUFS);
                FUZZ_ASSERT(fuzz_terminated(small, sizes[i]));
                FUZZ_ASSERT(r == 0 || small[0] == '\0');
                if (r == 0)
                        FUZZ_ASSERT(strcmp(info->signature, "v") == 0);
                free(small);
        }
        FUZZ_ASSERT(dbus_parse_string_variant(msg, info->total_len - 1, info, out, sizeof out) == -EAGAIN);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        uint8_t *stream = (uint8_t *) fuzz_copy(data, size, 0);
        size_t at = 0;

        while (at < size) {
                /* The rest of the stream, in a block of its own size, so a
                 * read past it is caught (the guard's buffer has just n bytes
                 * of the message too). */
                size_t len = size - at;
                uint8_t *msg = (uint8_t *) fuzz_copy(stream + at, len, 0);
                struct dbus_msg_info info;
                int k = dbus_parse_header(msg, len, &info);

                FUZZ_ASSERT(k == 0 || k == -EAGAIN || k == -EBADMSG || k == -EMSGSIZE);
                if (k == -EAGAIN && len >= DBUS_FIXED_HEADER_SIZE) {
                        check_lengths(&info);
                        FUZZ_ASSERT(len < info.header_len);
                }
                if (k == 0) {
                        check_header(msg, len, &info);
                        if (len >= info.total_len)
                                check_string_variant(msg, len, &info);
                        else
                                FUZZ_ASSERT(dbus_parse_string_variant(msg, len, &info, (char[8]){ 0 }, 8) == -EAGAIN);
                }
                free(msg);
                if (k != 0 || len < info.total_len)
                        break;
                at += info.total_len; /* skipped whole, like a signal */
        }
        free(stream);
        return 0;
}
