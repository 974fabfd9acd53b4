/* soak-flood: what a broken root client may write into initshim's control
 * FIFO (docs/protocol.md), for the soak test (tests/soak/run.sh).
 *
 *   soak-flood SEED garbage N    N bad lines, each ending in '\n': random
 *                                bytes, NUL bytes, lines over the limit, no or
 *                                bad reply names, unknown verbs, and requests
 *                                whose reply FIFO does not exist
 *   soak-flood SEED partial      one line without its newline (a writer that
 *                                died mid-line), then waits (up to 15 s) until
 *                                the server has read it: "drained" or
 *                                "not drained"
 *   soak-flood SEED requests N   N status requests, each with its own reply
 *                                FIFO, sent as fast as the pipe takes them;
 *                                resent on "error: retry:" as initshimctl does.
 *                                Prints "answered A refused R failed F".
 *
 * Every line is one write(2) of at most PIPE_BUF bytes: the kernel never
 * interleaves it with a real client's request, so whatever happens to a real
 * client is the server's doing. No line ever names a verb that acts (exec,
 * reboot, poweroff, halt, takeover, guard). Reply names start with "soak-".
 * Exit: 0 done (requests: all answered or refused), 1 a request failed,
 * 2 usage, 3 nobody reads the FIFO, 4 a partial line not read in 15 s. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CONTROL "/run/initshim/control"
#define REPLY_DIR "/run/initshim/reply"
#define REQUESTS_MAX 200
#define ANSWER_TIMEOUT_MS 20000
#define DRAIN_TIMEOUT_MS 15000

static unsigned long long rng;

static unsigned rnd(unsigned n) {
        rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
        return n ? (unsigned) ((rng >> 33) % n) : 0;
}

static long long now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Blocking writes after a non-blocking open: no reader is an error, not a hang. */
static int open_control(void) {
        int fd = open(CONTROL, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) {
                fprintf(stderr, "soak-flood: %s: %s\n", CONTROL, strerror(errno));
                exit(3);
        }
        if (fcntl(fd, F_SETFL, 0) < 0) {
                perror("soak-flood: fcntl");
                exit(3);
        }
        return fd;
}

static void write_line(int fd, const char *buf, size_t len) {
        if (len > PIPE_BUF) {
                fprintf(stderr, "soak-flood: line of %zu bytes would not be atomic\n", len);
                exit(2);
        }
        ssize_t n = write(fd, buf, len);
        if (n != (ssize_t) len) {
                fprintf(stderr, "soak-flood: write: %s\n", n < 0 ? strerror(errno) : "short");
                exit(3);
        }
}

static const char *const harmless_verbs[] = { "status", "ping", "versions", "frobnicate", "STATUS", "status json" };

/* One bad line into buf (ending in '\n' unless partial); returns its length. */
static size_t make_garbage(char *buf, size_t cap, unsigned serial, int partial) {
        size_t n = 0, len;
        const char *verb = harmless_verbs[rnd(sizeof harmless_verbs / sizeof *harmless_verbs)];

        switch (rnd(8)) {
        case 0: /* random bytes, no newline among them */
                len = 1 + rnd(300);
                for (; n < len; n++) {
                        buf[n] = (char) rnd(256);
                        if (buf[n] == '\n')
                                buf[n] = 'x';
                }
                break;
        case 1: /* NUL bytes inside a request */
                n = (size_t) snprintf(buf, cap, "soak-gone-%u %s", serial, verb);
                buf[rnd((unsigned) n)] = '\0';
                break;
        case 2: /* over the limit, up to (not over) PIPE_BUF */
                n = (size_t) snprintf(buf, cap, "soak-gone-%u status ", serial);
                len = 512 + rnd(PIPE_BUF - 512 - 1);
                for (; n < len; n++)
                        buf[n] = (char) ('a' + rnd(26));
                break;
        case 3: /* empty or blank */
                len = rnd(4);
                for (; n < len; n++)
                        buf[n] = rnd(2) ? ' ' : '\t';
                break;
        case 4: /* bad reply names */
                switch (rnd(4)) {
                case 0:
                        n = (size_t) snprintf(buf, cap, ".soak-hidden %s", verb);
                        break;
                case 1:
                        n = (size_t) snprintf(buf, cap, "../soak-escape %s", verb);
                        break;
                case 2:
                        n = (size_t) snprintf(buf, cap, "soak-%0100u %s", serial, verb);
                        break;
                default:
                        n = (size_t) snprintf(buf, cap, "soak/slash %s", verb);
                }
                break;
        case 5: /* unknown verbs, arguments where none is taken */
                n = (size_t) snprintf(buf, cap, "soak-gone-%u %s", serial,
                                      rnd(2) ? "frobnicate now" : "ping extra");
                break;
        case 6: /* control characters, CR, high bytes */
                n = (size_t) snprintf(buf, cap, "soak-gone-%u st\r\x01\x7f\xff%s", serial, "atus");
                break;
        default: /* well formed, but nobody waits for the answer */
                n = (size_t) snprintf(buf, cap, "soak-gone-%u %s", serial, verb);
        }
        if (!partial)
                buf[n++] = '\n';
        else if (n == 0)
                buf[n++] = 'x';
        return n;
}

struct pending {
        char name[64];
        int fd;
        char answer[64];
        size_t got;
        int retries;
};

static int send_request(int ctl, struct pending *p, unsigned serial) {
        char path[128], line[128];

        snprintf(p->name, sizeof p->name, "soak-fl-%d-%u-%d", (int) getpid(), serial, p->retries);
        snprintf(path, sizeof path, REPLY_DIR "/%s", p->name);
        if (mkfifo(path, 0600) < 0 || (p->fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0) {
                fprintf(stderr, "soak-flood: reply FIFO %s: %s\n", path, strerror(errno));
                (void) unlink(path);
                p->fd = -1;
                return -1;
        }
        p->got = 0;
        int l = snprintf(line, sizeof line, "%s status%s\n", p->name, rnd(4) ? "" : " json");
        write_line(ctl, line, (size_t) l);
        return 0;
}

static void drop(struct pending *p) {
        char path[128];

        if (p->fd >= 0)
                close(p->fd);
        p->fd = -1;
        snprintf(path, sizeof path, REPLY_DIR "/%s", p->name);
        (void) unlink(path);
}

static int requests(unsigned n) {
        static struct pending req[REQUESTS_MAX];
        unsigned answered = 0, refused = 0, failed = 0, open_ = 0;
        long long deadline;
        int ctl = open_control();

        if (n > REQUESTS_MAX)
                n = REQUESTS_MAX;
        for (unsigned i = 0; i < n; i++) {
                if (send_request(ctl, &req[i], i) < 0)
                        failed++;
                else
                        open_++;
        }
        deadline = now_ms() + ANSWER_TIMEOUT_MS;
        while (open_ > 0 && now_ms() < deadline) {
                struct pollfd p[REQUESTS_MAX];
                unsigned map[REQUESTS_MAX], k = 0;
                for (unsigned i = 0; i < n; i++)
                        if (req[i].fd >= 0) {
                                p[k] = (struct pollfd){ .fd = req[i].fd, .events = POLLIN };
                                map[k++] = i;
                        }
                if (poll(p, k, 100) < 0 && errno != EINTR)
                        break;
                for (unsigned j = 0; j < k; j++) {
                        struct pending *r = &req[map[j]];
                        char buf[4096];
                        if (!(p[j].revents & (POLLIN | POLLHUP)))
                                continue;
                        ssize_t got = read(r->fd, buf, sizeof buf);
                        if (got < 0)
                                continue; /* EAGAIN: no writer yet */
                        if (got > 0) {
                                size_t room = sizeof r->answer - 1 - r->got;
                                size_t take = (size_t) got < room ? (size_t) got : room;
                                memcpy(r->answer + r->got, buf, take);
                                r->got += take;
                                continue;
                        }
                        /* EOF: poll reports HUP only once a writer came and left. */
                        r->answer[r->got] = '\0';
                        drop(r);
                        open_--;
                        if (strncmp(r->answer, "error: retry: ", 14) == 0 && r->retries < 100) {
                                r->retries++;
                                if (send_request(ctl, r, map[j]) == 0)
                                        open_++;
                                else
                                        failed++;
                        } else if (strncmp(r->answer, "ok\n", 3) == 0)
                                answered++;
                        else if (strncmp(r->answer, "error: ", 7) == 0)
                                refused++;
                        else
                                failed++;
                }
        }
        for (unsigned i = 0; i < n; i++)
                if (req[i].fd >= 0) {
                        drop(&req[i]);
                        failed++;
                }
        printf("answered %u refused %u failed %u\n", answered, refused, failed);
        return failed ? 1 : 0;
}

/* Until the FIFO holds no unread byte: a second reader that never reads
 * only asks the pipe how much it holds (FIONREAD). */
static int drained(void) {
        long long deadline = now_ms() + DRAIN_TIMEOUT_MS;
        int fd = open(CONTROL, O_RDONLY | O_NONBLOCK | O_CLOEXEC), unread = -1;

        while (fd >= 0 && ioctl(fd, FIONREAD, &unread) == 0 && unread > 0 && now_ms() < deadline)
                (void) poll(NULL, 0, 10);
        printf("%s\n", unread == 0 ? "drained" : "not drained");
        return unread == 0;
}

int main(int argc, char **argv) {
        char buf[PIPE_BUF];

        if (argc < 3)
                return 2;
        rng = strtoull(argv[1], NULL, 10) * 2654435761ULL + 1;
        if (strcmp(argv[2], "garbage") == 0 && argc == 4) {
                unsigned n = (unsigned) strtoul(argv[3], NULL, 10);
                int ctl = open_control();
                for (unsigned i = 0; i < n; i++)
                        write_line(ctl, buf, make_garbage(buf, sizeof buf, i, 0));
                return 0;
        }
        if (strcmp(argv[2], "partial") == 0 && argc == 3) {
                int ctl = open_control();
                write_line(ctl, buf, make_garbage(buf, sizeof buf, 0, 1));
                return drained() ? 0 : 4;
        }
        if (strcmp(argv[2], "requests") == 0 && argc == 4)
                return requests((unsigned) strtoul(argv[3], NULL, 10));
        fprintf(stderr, "usage: soak-flood SEED garbage N | partial | requests N\n");
        return 2;
}
