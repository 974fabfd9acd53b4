/* initshimctl: talk to initshim over its control FIFO. See initshimctl(8).
 * Works when D-Bus and systemd are dead: it needs only /run/initshim. */
#include "control/protocol.h"
#include "ctl/boot.h"
#include "ctl/upgrade.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char reply_path[256];

static void cleanup(void) {
        if (reply_path[0])
                (void) unlink(reply_path);
}

static int usage(FILE *f) {
        fprintf(f,
                "usage: initshimctl [--timeout SECONDS] COMMAND\n"
                "commands:\n"
                "  status [--json|--prometheus]  mode, PID 1, last takeover, zombies, guard\n"
                "  ping                check that initshim answers\n"
                "  exec [VERSION|PATH] rescue mode: start systemd fresh; normal mode without\n"
                "                      argument: state-preserving re-exec of systemd\n"
                "  versions            configured systemd binaries and their preflight verdict\n"
                "  takeover            take a hung systemd over into rescue mode\n"
                "  guard start|stop    attach a guard to PID 1 / detach it (for strace, gdb)\n"
                "  upgrade             move the running guard (and rescue-mode PID 1) to the\n"
                "                      installed binary, without a reboot\n"
                "  boot enable [init|rdinit] | disable | status   boot through initshim or not (GRUB)\n"
                "  reboot | poweroff | halt\n");
        return f == stderr ? 2 : 0;
}

/* One request/answer. Returns the process exit code: 0 ok, 1 refused,
 * 2 usage, 3 no server/timeout, 4 permission denied, -1 "send it again". */
/* Not "nobody serves": we may not ask. Exit status 4, and no guessing
 * about the guard (a non-root user cannot tell). */
static int permission_denied(const char *what) {
        fprintf(stderr, "initshimctl: permission denied: %s: only root may talk to initshim\n", what);
        return 4;
}

/* Our reply FIFO, opened for reading; 0 or an exit status. */
static int open_reply_fifo(const char *name, int *rfd) {
        snprintf(reply_path, sizeof reply_path, REPLY_DIR "/%s", name);
        if (mkfifo(reply_path, 0600) < 0) {
                int e = errno;
                reply_path[0] = '\0';
                if (e == EACCES || e == EPERM)
                        return permission_denied(REPLY_DIR);
                fprintf(stderr, "initshimctl: cannot create a reply FIFO in " REPLY_DIR ": %s%s\n", strerror(e),
                        e == ENOENT ? " (is initshim running?)" : "");
                return 3;
        }
        /* Open our end first, non-blocking: the server opens it for writing
         * without blocking, and we see its EOF when it is done. */
        *rfd = open(reply_path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (*rfd < 0) {
                fprintf(stderr, "initshimctl: %s: %s\n", reply_path, strerror(errno));
                return 3;
        }
        return 0;
}

/* One write of the whole line; while the FIFO is full (a flood of other
 * writers, a server that is busy), wait for room until the deadline. */
static int write_request(int cfd, const char *line, int l, uint64_t deadline) {
        for (;;) {
                if (write(cfd, line, (size_t) l) == l)
                        return 0;
                if (errno != EAGAIN && errno != EINTR)
                        return -errno;
                uint64_t now = now_ms();
                if (now >= deadline)
                        return -ETIMEDOUT;
                struct pollfd p = { .fd = cfd, .events = POLLOUT };
                (void) poll(&p, 1, (int) (deadline - now));
        }
}

/* 0 or an exit status. */
static int send_request(const char *name, const char *verb, const char *arg, uint64_t deadline) {
        char line[PROTO_LINE_MAX + 2]; /* + the leading newline */
        int cfd, l, r;

        cfd = open(CONTROL_FIFO, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
        if (cfd < 0 && (errno == EACCES || errno == EPERM))
                return permission_denied(CONTROL_FIFO);
        if (cfd < 0) {
                fprintf(stderr, "initshimctl: nobody reads %s (%s): initshim's control server is not running\n",
                        CONTROL_FIFO, strerror(errno));
                return 3;
        }
        l = request_format(line, sizeof line, name, verb, arg);
        if (l < 0) {
                fprintf(stderr, "initshimctl: request too long\n");
                close(cfd);
                return 2;
        }
        /* One write of less than PIPE_BUF, starting with a newline: delivered
         * whole, never interleaved, never glued to another writer's bytes. */
        if ((r = write_request(cfd, line, l, deadline)) < 0) {
                fprintf(stderr, "initshimctl: cannot write the request: %s%s\n", strerror(-r),
                        r == -ETIMEDOUT ? " (the control FIFO stayed full)" : "");
                close(cfd);
                return 3;
        }
        close(cfd);
        return 0;
}

/* Read until the server closes its end (or buf is full); 0, or 3 on timeout. */
static int read_answer(int rfd, uint64_t deadline, int timeout_s, char *buf, size_t size, size_t *got) {
        *got = 0;
        for (;;) {
                uint64_t now = now_ms();
                if (now >= deadline) {
                        fprintf(stderr,
                                "initshimctl: no answer within %d s: initshim's control server is busy or not "
                                "running (see " STATUS_FILE ")\n",
                                timeout_s);
                        return 3;
                }
                struct pollfd p = { .fd = rfd, .events = POLLIN };
                int r = poll(&p, 1, (int) (deadline - now));
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        continue;
                ssize_t n = read(rfd, buf + *got, size - 1 - *got);
                if (n < 0 && (errno == EINTR || errno == EAGAIN))
                        continue;
                if (n <= 0)
                        break; /* EOF: the server closed its end */
                *got += (size_t) n;
                if (*got == size - 1)
                        break;
        }
        buf[*got] = '\0';
        return 0;
}

/* -1: retry; otherwise the exit status. */
static int print_answer(const char *buf, size_t got) {
        if (strncmp(buf, PROTO_RETRY, strlen(PROTO_RETRY)) == 0)
                return -1;
        if (strncmp(buf, "ok\n", 3) == 0) {
                fputs(buf + 3, stdout);
                return 0;
        }
        fprintf(stderr, "initshimctl: %s", got ? buf : "empty answer\n");
        if (got && buf[got - 1] != '\n')
                fputc('\n', stderr);
        return 1;
}

static int transact(const char *verb, const char *arg, uint64_t deadline, int timeout_s) {
        char name[PROTO_NAME_MAX + 1], buf[PROTO_REPLY_MAX + 1];
        size_t got;
        int rfd, r;

        snprintf(name, sizeof name, "ctl-%d-%llu", (int) getpid(), (unsigned long long) now_ns());
        if ((r = open_reply_fifo(name, &rfd)) != 0)
                return r;
        if ((r = send_request(name, verb, arg, deadline)) != 0 ||
            (r = read_answer(rfd, deadline, timeout_s, buf, sizeof buf, &got)) != 0) {
                close(rfd);
                return r;
        }
        close(rfd);
        cleanup();
        reply_path[0] = '\0';
        return print_answer(buf, got);
}

static int run(const char *verb, const char *arg, int timeout);
static void print_unserved_status(void);
static int spawn_guard(int timeout);

int main(int argc, char **argv) {
        static const struct option opts[] = {
                { "timeout", required_argument, NULL, 't' },
                { "json", no_argument, NULL, 'j' },
                { "prometheus", no_argument, NULL, 'P' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        int timeout = 0, c;
        const char *format = NULL; /* status's argument: json or prometheus */

        while ((c = getopt_long(argc, argv, "+t:jh", opts, NULL)) >= 0) {
                switch (c) {
                case 't':
                        timeout = atoi(optarg);
                        if (timeout <= 0)
                                return usage(stderr);
                        break;
                case 'j':
                        format = "json";
                        break;
                case 'P':
                        format = "prometheus";
                        break;
                case 'h':
                        return usage(stdout);
                default:
                        return usage(stderr);
                }
        }
        if (optind >= argc)
                return usage(stderr);
        if (strcmp(argv[optind], "boot") == 0) /* local: no FIFO involved */
                return boot_command(argc - optind - 1, argv + optind + 1);
        const char *verb = argv[optind++];
        const char *arg = NULL;
        if (optind < argc && (strcmp(argv[optind], "--json") == 0 || strcmp(argv[optind], "--prometheus") == 0))
                format = argv[optind++] + 2;
        if (optind < argc)
                arg = argv[optind++];
        if (optind < argc)
                return usage(stderr);
        if (strcmp(verb, "status") == 0 && format)
                arg = format;
        else if (format)
                return usage(stderr);
        /* versions: the server answers within (versions + 1) preflights of
         * at most 13 s each (up to 16 versions). */
        if (timeout == 0)
                timeout = strcmp(verb, "exec") == 0 ? 300 : strcmp(verb, "versions") == 0 ? 240 : 10;
        atexit(cleanup);
        /* These end or replace every service process, possibly ours: ignore
         * SIGTERM (a SIGKILL still ends us) so that the answer gets printed. */
        if (strcmp(verb, "exec") == 0 || strcmp(verb, "reboot") == 0 || strcmp(verb, "poweroff") == 0 ||
            strcmp(verb, "halt") == 0)
                (void) signal(SIGTERM, SIG_IGN);
        if (strcmp(verb, "guard") == 0 && arg && strcmp(arg, "start") == 0) {
                int r = run(verb, arg, timeout);
                return r == 3 ? spawn_guard(timeout) : r;
        }
        int r = run(verb, arg, timeout);
        if (r == 3 && strcmp(verb, "status") == 0)
                print_unserved_status();
        if (r == 0 && strcmp(verb, "status") == 0 && !format)
                ctl_print_installed();
        if (r == 0 && strcmp(verb, "upgrade") == 0)
                r = ctl_wait_upgraded(timeout);
        return r;
}

/* Nobody serves the FIFO: in normal mode that means the guard is gone.
 * Say what can be known without it. */
static void print_unserved_status(void) {
        char exe[256], last[256];
        ssize_t l = readlink("/proc/1/exe", exe, sizeof exe - 1);

        exe[l < 0 ? 0 : l] = '\0';
        printf("mode: unknown (nobody serves %s)\n", CONTROL_FIFO);
        printf("pid1: %s\n", exe[0] ? exe : "unknown");
        if (read_file(LAST_TAKEOVER_FILE, last, sizeof last) > 0)
                printf("last-takeover: %s\n", last);
        printf("guard: not running: PID 1 is unguarded ('initshimctl guard start' attaches a new guard)\n");
}

/* A request can meet the control role moving between the guard and PID 1;
 * the server then says so without acting on it, and we send it again. */
static int run(const char *verb, const char *arg, int timeout) {
        uint64_t deadline = now_ms() + (uint64_t) timeout * 1000;

        for (;;) {
                int r = transact(verb, arg, deadline, timeout);
                if (r >= 0)
                        return r;
                (void) poll(NULL, 0, 50);
        }
}

/* No guard serves the FIFO (a host not booted with initshim, or the guard
 * was killed): start `initshim --guard`, detached, and wait until it answers. */
static int spawn_guard(int timeout) {
        const char *bin = getenv("INITSHIM_BIN");
        pid_t pid;
        int st;

        if (!bin || !bin[0])
                bin = "/sbin/initshim";
        pid = fork();
        if (pid < 0) {
                perror("initshimctl: fork");
                return 3;
        }
        if (pid == 0) {
                /* Double fork: the guard is re-parented to PID 1, as it must be. */
                if (setsid() < 0 || fork() != 0)
                        _exit(0);
                int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
                if (fd >= 0) {
                        dup2(fd, 0), dup2(fd, 1), dup2(fd, 2);
                }
                execl(bin, bin, "--guard", (char *) NULL);
                _exit(127);
        }
        (void) waitpid(pid, &st, 0);
        uint64_t deadline = now_ms() + (uint64_t) timeout * 1000;
        while (now_ms() < deadline) {
                int r = transact("status", NULL, now_ms() + 1000, 1);
                if (r == 0)
                        return 0;
                (void) poll(NULL, 0, 100);
        }
        fprintf(stderr, "initshimctl: started %s --guard but it does not answer\n", bin);
        return 3;
}
