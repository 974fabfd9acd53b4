/* The control request line (shim/control/protocol.c request_parse()): the
 * bytes any process that can write /run/initshim/control sends. The parser
 * process hands it a line without its newline, at most PROTO_LINE_MAX bytes;
 * here it gets any length, in a block of exactly that size. */
#include "fuzz.h"
#include "control/protocol.h"

#include <errno.h>

/* What ctl_server_receive() demands of a request from the parser process:
 * anything request_parse() accepts must pass it, or the owner would kill a
 * healthy parser. */
static void check_owner_accepts(const struct request *req) {
        FUZZ_ASSERT((unsigned) req->verb < _VERB_MAX);
        FUZZ_ASSERT(fuzz_terminated(req->reply, sizeof req->reply));
        FUZZ_ASSERT(fuzz_terminated(req->arg, sizeof req->arg));
        FUZZ_ASSERT(reply_name_valid(req->reply, strlen(req->reply)));
}

/* initshimctl's formatting of an accepted request parses back to it. */
static void check_round_trip(const struct request *req) {
        char line[PROTO_LINE_MAX + 64], err[160];
        struct request again;
        int l = request_format(line, sizeof line, req->reply, verb_to_string(req->verb), req->arg);

        /* "\nNAME VERB [ARG]\n": the leading newline ends any bytes another
         * writer left unfinished; the parser sees the line between. */
        FUZZ_ASSERT(l > 1 && line[0] == '\n' && line[l - 1] == '\n');
        FUZZ_ASSERT(request_parse(line + 1, (size_t) l - 2, &again, err, sizeof err) == 0);
        FUZZ_ASSERT(strcmp(again.reply, req->reply) == 0);
        FUZZ_ASSERT(again.verb == req->verb);
        FUZZ_ASSERT(strcmp(again.arg, req->arg) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *line = fuzz_copy(data, size, 0);
        char err[160];
        struct request req;
        int r = request_parse(line, size, &req, err, sizeof err);

        FUZZ_ASSERT(fuzz_terminated(err, sizeof err));
        if (r == 0) {
                FUZZ_ASSERT(size < PROTO_LINE_MAX);
                FUZZ_ASSERT(err[0] == '\0');
                check_owner_accepts(&req);
                check_round_trip(&req);
        } else {
                /* A clear reason, and a reply name only if it is one. */
                FUZZ_ASSERT(r == -EBADMSG || r == -E2BIG || r == -EOPNOTSUPP || r == -EINVAL);
                FUZZ_ASSERT(err[0] != '\0');
                FUZZ_ASSERT(fuzz_terminated(req.reply, sizeof req.reply));
                FUZZ_ASSERT(req.reply[0] == '\0' || reply_name_valid(req.reply, strlen(req.reply)));
        }
        free(line);
        return 0;
}
