/* A scripted stand-in for systemd as PID 1 of a test PID namespace.
 * initshim execs it like systemd; the test drives it through the FIFO
 * /run/fake-systemd.cmd, one command a line:
 *   dump PREFIX        write argv to PREFIX.argv and environ to PREFIX.env (NUL-separated)
 *   rescue REASON      execve $INITSHIM_BIN --rescue --reason REASON, the way the
 *                      guard makes a crashed systemd do it, after putting PID 1 in
 *                      the state systemd's crash handler leaves (all signals
 *                      blocked, SIGCHLD ignored with SA_NOCLDWAIT, umask 0)
 *   reexec             serialize a counter to a memfd, re-exec itself with
 *                      --deserialize FD like systemd's daemon-reexec
 *   exit CODE          exit (a container's systemd does this on a crash)
 *   spawn NAME         start a long-running child (`sleep`-like) that writes its pid
 *                      to /run/fake-systemd.NAME.pid: a "service"
 *   crash-mode MODE    what the crash handler ends in, like systemd's crash():
 *                      freeze (v237+: waitid(P_ALL) loop, then pause), pause (v219),
 *                      container (_exit), reboot (crash_reboot), poweroff
 *                      (v256+ CrashAction=poweroff: reboot(RB_POWER_OFF) at once)
 *   crash-wait HOW     how the crash handler waits for its core-dump child:
 *                      pid (waitid(P_PID), up to v261's wait_for_terminate) or
 *                      pidfd (pidfd_open, then waitid(P_PIDFD) and close, as
 *                      v262's pidref_wait_for_terminate does); it logs
 *                      "core-dump child N waited for (HOW)" once that wait returns
 *   segv | abort       crash for real: a NULL store, abort()
 *   spin | block       hang: busy loop in user space, or asleep in read() with
 *                      every signal blocked ("hang" among its arguments: block
 *                      at start, with the bus socket listening, never answered)
 *   leak MB            allocate and touch MB of memory
 *   slow MS            answer D-Bus method calls MS late
 *   nowait             stop reaping children
 *   vfork-hang         vfork a child that never execs: PID 1 then waits in
 *                      the kernel (TASK_KILLABLE), where PTRACE_INTERRUPT does
 *                      not reach it, until the child is killed
 * Started as PID 1 with "exit=N" among its arguments (a word on the kernel
 * command line), or with /run/fake-systemd.exit-at-start holding N (used
 * once: the file is removed), it exits with status N at once, like a binary
 * that passes preflight but cannot run as init.
 * SIGTERM makes it re-exec itself with --deserialize, like systemd, and it
 * answers D-Bus method calls on /run/systemd/private (AUTH EXTERNAL).
 * It records every handled signal in /run/fake-systemd.signals and writes
 * /run/fake-systemd.ready ("generation N", then "start-us N": how long its
 * start took from main(), and "exec-us N": from the execve of its re-exec,
 * -1 if none) when it is up. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/reboot.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CMD_FIFO "/run/fake-systemd.cmd"

extern char **environ;
static char **saved_argv;
static int generation = 1;
static bool deserialized; /* started with --deserialize (a re-exec or a switch) */
static long long reexec_at_us; /* CLOCK_MONOTONIC of the execve that started us, if a re-exec */

static long long monotonic_us(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
static char crash_mode[16] = "freeze";
static char crash_wait[16] = "pid";

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

static void append(const char *path, const char *text) {
        int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd >= 0) {
                (void) !write(fd, text, strlen(text));
                close(fd);
        }
}

/* The crash handler's wait for its core-dump child. Up to v261 systemd's
 * wait_for_terminate() is waitid(P_PID); v262's crash() makes a PidRef of
 * the child (pidfd_open) and pidref_wait_for_terminate() waits with
 * waitid(P_PIDFD), then closes the pidfd (src/basic/pidref.c). Neither wait
 * is the handler's end: a guard that took it for one would take over
 * before the core dump is written. */
static void wait_core_child(pid_t pid) {
        siginfo_t si;
        char line[96];
        int r = -1;

        memset(&si, 0, sizeof si);
        if (strcmp(crash_wait, "pidfd") == 0) {
                int pfd = (int) syscall(SYS_pidfd_open, pid, 0);
                if (pfd >= 0) {
                        do
                                r = waitid((idtype_t) P_PIDFD, (id_t) pfd, &si, WEXITED);
                        while (r < 0 && errno == EINTR);
                        close(pfd);
                }
        } else {
                do
                        r = waitid(P_PID, (id_t) pid, &si, WEXITED);
                while (r < 0 && errno == EINTR);
        }
        if (r == 0 && si.si_pid == pid)
                snprintf(line, sizeof line, "core-dump child %d waited for (%s)\n", (int) pid, crash_wait);
        else
                snprintf(line, sizeof line, "core-dump child %d: wait (%s) failed: %s\n", (int) pid, crash_wait,
                         strerror(errno));
        append("/run/fake-systemd.log", line);
}

/* Mirrors systemd's crash() (src/core/crash-handler.c, main.c before v255):
 * core-dumping child, SIGCHLD to SIG_IGN|SA_NOCLDWAIT, then freeze or exit. */
static void sigchld_nop(int sig) {
        (void) sig;
}

static void crash(int sig) {
        struct sigaction nocldwait = { .sa_handler = SIG_IGN, .sa_flags = SA_NOCLDSTOP | SA_NOCLDWAIT | SA_RESTART };
        /* systemd's sigaction_nop_nocldstop: the child stays for the wait
         * below instead of being reaped by the usual SIGCHLD handler. */
        struct sigaction nop = { .sa_handler = sigchld_nop, .sa_flags = SA_NOCLDSTOP | SA_RESTART };
        siginfo_t si;
        pid_t pid;

        sigaction(SIGCHLD, &nop, NULL);
        pid = fork();

        if (pid == 0) {
                struct rlimit no_core = { 0, 0 };
                setrlimit(RLIMIT_CORE, &no_core); /* the host's core_pattern is not ours */
                signal(sig, SIG_DFL);
                raise(sig);
                _exit(1);
        }
        if (pid > 0)
                wait_core_child(pid);
        sigaction(SIGCHLD, &nocldwait, NULL);
        append("/run/fake-systemd.log", "Freezing execution.\n");
        if (strcmp(crash_mode, "container") == 0)
                _exit(255);
        if (strcmp(crash_mode, "spin") == 0)
                for (volatile unsigned long i = 0;; i++)
                        ;
        if (strcmp(crash_mode, "reboot") == 0) {
                reboot(RB_AUTOBOOT);
                _exit(1);
        }
        if (strcmp(crash_mode, "poweroff") == 0) {
                reboot(RB_POWER_OFF);
                _exit(1);
        }
        if (strcmp(crash_mode, "freeze") == 0) {
                for (int cfd = 3; cfd < 1024; cfd++)
                        close(cfd);
                for (;;) {
                        memset(&si, 0, sizeof si);
                        if (waitid(P_ALL, 0, &si, WEXITED) < 0 && errno != EINTR)
                                break;
                }
        }
        for (;;)
                pause();
}

static volatile sig_atomic_t term_requested;

static void on_signal(int sig) {
        if (sig == SIGTERM)
                term_requested = 1;
        char buf[64];
        int n = snprintf(buf, sizeof buf, "%d\n", sig);
        int fd = open("/run/fake-systemd.signals", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd >= 0) {
                (void) !write(fd, buf, (size_t) n);
                close(fd);
        }
        if (sig == SIGCHLD)
                while (waitpid(-1, NULL, WNOHANG) > 0)
                        ;
}

static void write_list(const char *path, char **list) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return;
        for (; *list; list++)
                (void) !write(fd, *list, strlen(*list) + 1);
        close(fd);
}

static void do_rescue(const char *reason) {
        struct sigaction ign = { .sa_handler = SIG_IGN, .sa_flags = SA_NOCLDSTOP | SA_NOCLDWAIT };
        sigset_t all;
        const char *bin = getenv("INITSHIM_BIN");

        if (!bin) {
                append("/run/fake-systemd.log", "no INITSHIM_BIN\n");
                return;
        }
        sigfillset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        /* A Ctrl-Alt-Del that reached the frozen systemd: left pending. */
        if (getenv("FAKE_PENDING_SIGINT"))
                (void) raise(SIGINT);
        sigaction(SIGCHLD, &ign, NULL);
        signal(SIGUSR2, SIG_IGN);
        umask(0);
        /* A stray fd, as systemd would leave behind. */
        (void) open("/dev/null", O_RDONLY);
        execl(bin, "initshim", "--rescue", "--reason", reason, (char *) NULL);
        append("/run/fake-systemd.log", "rescue exec failed\n");
}

/* Like systemd's daemon-reexec: serialize, exec our start-up path (not
 * /proc/self/exe: after an upgrade that is the new binary), --deserialize. */
static void do_reexec(void) {
        char fdstr[16];
        int fd = memfd_create("fake-serialize", 0);

        if (fd < 0)
                return;
        dprintf(fd, "%d %lld\n", generation + 1, monotonic_us());
        lseek(fd, 0, SEEK_SET);
        snprintf(fdstr, sizeof fdstr, "%d", fd);
        unlink("/run/fake-systemd.ready");
        execl(saved_argv[0], saved_argv[0], "--deserialize", fdstr, (char *) NULL);
        append("/run/fake-systemd.log", "re-exec failed\n");
}

/* A minimal /run/systemd/private: AUTH EXTERNAL, then a METHOD_RETURN for
 * every method call (systemd answers Peer.Ping from its event loop). */
static unsigned reply_delay_ms;

/* Add ch to a line; true once a whole line is in `line` (NUL-terminated;
 * *n starts over). Long lines are cut. */
static bool line_add(char ch, char *line, size_t cap, size_t *n) {
        if (ch != '\n') {
                if (*n < cap - 1)
                        line[(*n)++] = ch;
                return false;
        }
        line[*n] = '\0';
        *n = 0;
        return true;
}

static int read_full(int fd, void *buf, size_t n) {
        size_t got = 0;
        while (got < n) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                if (poll(&p, 1, 2000) <= 0)
                        return -1;
                ssize_t r = read(fd, (char *) buf + got, n - got);
                if (r <= 0)
                        return -1;
                got += (size_t) r;
        }
        return 0;
}

static void serve_bus_client(int fd) {
        char line[256];
        size_t n = 0;
        int begun = 0;

        /* Auth: a NUL byte, then CRLF-terminated lines until BEGIN. */
        while (!begun) {
                char ch;
                if (read_full(fd, &ch, 1) < 0)
                        return;
                if (ch == '\0' && n == 0)
                        continue;
                if (!line_add(ch, line, sizeof line, &n))
                        continue;
                if (strncmp(line, "AUTH EXTERNAL", 13) == 0)
                        (void) !write(fd, "OK 0123456789abcdef0123456789abcdef\r\n", 37);
                else if (strncmp(line, "BEGIN", 5) == 0)
                        begun = 1;
                else
                        (void) !write(fd, "ERROR\r\n", 7);
        }
        for (;;) {
                unsigned char hdr[16], rest[65536];
                uint32_t body, fields, serial;
                if (read_full(fd, hdr, 16) < 0 || hdr[0] != 'l')
                        return;
                memcpy(&body, hdr + 4, 4);
                memcpy(&serial, hdr + 8, 4);
                memcpy(&fields, hdr + 12, 4);
                size_t len = ((16 + fields + 7) & ~7u) - 16 + body;
                if (len > sizeof rest || read_full(fd, rest, len) < 0)
                        return;
                if (hdr[1] != 1)
                        continue; /* only method calls are answered */
                if (reply_delay_ms)
                        poll(NULL, 0, (int) reply_delay_ms);
                if (memmem(rest, len, "SystemState", 11)) {
                        /* Properties.Get(Manager, SystemState): variant string
                         * from /run/fake-systemd.state, default "running". */
                        char state[32] = "running";
                        int sf = open("/run/fake-systemd.state", O_RDONLY | O_CLOEXEC);
                        if (sf >= 0) {
                                ssize_t k = read(sf, state, sizeof state - 1);
                                state[k > 0 ? k : 0] = '\0';
                                state[strcspn(state, "\n")] = '\0';
                                close(sf);
                        }
                        uint32_t sl = (uint32_t) strlen(state), bl = 8 + sl + 1, fl = 15, one = 1;
                        unsigned char m[128] = { 'l', 2, 1, 1 };
                        memcpy(m + 4, &bl, 4);
                        memcpy(m + 8, &one, 4);
                        memcpy(m + 12, &fl, 4);
                        m[16] = 5, m[17] = 1, m[18] = 'u', m[19] = 0;
                        memcpy(m + 20, &serial, 4);
                        m[24] = 8, m[25] = 1, m[26] = 'g', m[27] = 0, m[28] = 1, m[29] = 'v', m[30] = 0;
                        m[32] = 1, m[33] = 's', m[34] = 0;
                        memcpy(m + 36, &sl, 4);
                        memcpy(m + 40, state, sl + 1);
                        if (write(fd, m, 32 + bl) != (ssize_t) (32 + bl))
                                return;
                        continue;
                }
                unsigned char r[24] = { 'l', 2, 1, 1, 0, 0, 0, 0 };
                uint32_t my_serial = 1, flen = 8;
                memcpy(r + 8, &my_serial, 4);
                memcpy(r + 12, &flen, 4);
                r[16] = 5; /* REPLY_SERIAL */
                r[17] = 1, r[18] = 'u', r[19] = 0;
                memcpy(r + 20, &serial, 4);
                if (write(fd, r, sizeof r) != (ssize_t) sizeof r)
                        return;
        }
}

static int listen_bus(void) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

        if (fd < 0)
                return -1;
        mkdir("/run/systemd", 0755);
        unlink("/run/systemd/private");
        strcpy(sa.sun_path, "/run/systemd/private");
        if (bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0 || listen(fd, 16) < 0) {
                close(fd);
                return -1;
        }
        return fd;
}

/* Hung like a wedged systemd: signals blocked, nothing read; the bus socket
 * (if any) still takes connections into its backlog, none is answered. */
static void block(void) {
        int pp[2];
        char c;
        sigset_t all;
        sigfillset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        if (pipe(pp) == 0)
                for (;;)
                        (void) !read(pp[0], &c, 1);
}

static int vfork_child(void *arg) {
        (void) arg;
        for (;;)
                pause();
        return 0;
}

static void vfork_hang(void) {
        static char stack[16384] __attribute__((aligned(16)));

        (void) clone(vfork_child, stack + sizeof stack, CLONE_VM | CLONE_VFORK | SIGCHLD, NULL);
}

static void spawn(const char *name) {
        char path[128], buf[32];
        pid_t pid = fork();
        if (pid == 0) {
                sigset_t none;
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                for (int s = 1; s < NSIG; s++)
                        signal(s, SIG_DFL);
                /* Like systemd's services: none of the manager's fds. A
                 * kept copy of the bus socket would go on listening after
                 * a re-exec, and take the guard's Ping into a backlog that
                 * nobody reads. */
                for (int cfd = 3; cfd < 1024; cfd++)
                        close(cfd);
                for (;;)
                        pause();
        }
        snprintf(path, sizeof path, "/run/fake-systemd.%s.pid", name);
        snprintf(buf, sizeof buf, "%d\n", (int) pid);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd >= 0) {
                (void) !write(fd, buf, strlen(buf));
                close(fd);
        }
}

/* A binary that passes preflight (--version) but cannot run as init:
 * exits at once, before any set-up. */
static void exit_at_start(int argc, char **argv) {
        char buf[16] = "";
        int fd;

        for (int i = 1; i < argc; i++)
                if (strncmp(argv[i], "exit=", 5) == 0)
                        exit(atoi(argv[i] + 5));
        fd = open("/run/fake-systemd.exit-at-start", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return;
        (void) !read(fd, buf, sizeof buf - 1);
        close(fd);
        unlink("/run/fake-systemd.exit-at-start");
        exit(atoi(buf));
}

int main(int argc, char **argv) {
        char line[512], ready[96];
        struct timespec started, now;
        size_t n = 0;
        int fd;

        clock_gettime(CLOCK_MONOTONIC, &started);
        saved_argv = argv;
        if (argc == 2 && strcmp(argv[1], "--version") == 0) {
                printf("systemd 252 (fake)\n+FAKE\n");
                return 0;
        }
        /* --deserialize N (ours) or --deserialize=N: a re-exec or a switch. */
        for (int i = 1; i < argc; i++) {
                const char *fdarg = NULL;
                if (strcmp(argv[i], "--deserialize") == 0 && i + 1 < argc)
                        fdarg = argv[i + 1];
                else if (strncmp(argv[i], "--deserialize=", 14) == 0)
                        fdarg = argv[i] + 14;
                if (!fdarg)
                        continue;
                char buf[32] = "";
                int sfd = atoi(fdarg);
                (void) !read(sfd, buf, sizeof buf - 1);
                generation = atoi(buf) > 1 ? atoi(buf) : 2;
                if (strchr(buf, ' '))
                        reexec_at_us = atoll(strchr(buf, ' ') + 1);
                deserialized = true;
                close(sfd);
        }
        if (getpid() != 1) {
                fprintf(stderr, "fake-systemd: not PID 1\n");
                return 1;
        }
        exit_at_start(argc, argv);
        /* Like systemd: a crash handler for the fault signals, handlers for
         * the rest, except SIGUSR2 which stays SIG_DFL (an init ignores it). */
        for (int s = 1; s < NSIG; s++) {
                if (s == SIGKILL || s == SIGSTOP || s == SIGUSR2)
                        continue;
                if (s == SIGSEGV || s == SIGBUS || s == SIGILL || s == SIGFPE || s == SIGABRT || s == SIGQUIT) {
                        struct sigaction ca = { .sa_handler = crash, .sa_flags = SA_NODEFER };
                        sigaction(s, &ca, NULL);
                        continue;
                }
                struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART };
                sigaction(s, &sa, NULL);
        }
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);

        if (mkfifo(CMD_FIFO, 0600) < 0 && errno != EEXIST)
                return 1;
        fd = open(CMD_FIFO, O_RDWR | O_CLOEXEC);
        if (fd < 0)
                return 1;
        /* How long its start took (main to ready), for docs/ptrace.md's cost
         * of following a fresh exec. */
        clock_gettime(CLOCK_MONOTONIC, &now);
        snprintf(ready, sizeof ready, "generation %d\nstart-us %lld\nexec-us %lld\n", generation,
                 (long long) (now.tv_sec - started.tv_sec) * 1000000 + (now.tv_nsec - started.tv_nsec) / 1000,
                 reexec_at_us ? monotonic_us() - reexec_at_us : -1);
        int rfd = open("/run/fake-systemd.ready.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (rfd >= 0) {
                (void) !write(rfd, ready, strlen(ready));
                close(rfd);
                rename("/run/fake-systemd.ready.tmp", "/run/fake-systemd.ready");
        }
        /* Test hooks for a switched-to version (started with --deserialize):
         * a marker file makes it deaf on the bus, or crash, once. */
        bool deaf = false, hang = false;
        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "deaf") == 0)
                        deaf = true;
                if (strcmp(argv[i], "hang") == 0)
                        hang = true;
        }
        if (generation > 1 && unlink("/run/fake-systemd.start-deaf") == 0)
                deaf = true;
        if (deserialized && unlink("/run/fake-systemd.start-crash") == 0)
                *(volatile int *) 0 = 1;
        int bus = deaf ? -1 : listen_bus();
        bool muted = false;
        /* "hang" (a word on the kernel command line reaches PID 1's
         * arguments): a version that hangs at boot, before its event loop. */
        if (hang)
                block();
        for (;;) {
                char ch;
                struct pollfd p[2] = { { .fd = fd, .events = POLLIN }, { .fd = bus, .events = POLLIN } };
                if (term_requested)
                        do_reexec();
                if (poll(p, bus >= 0 && !muted ? 2 : 1, -1) < 0)
                        continue;
                if (bus >= 0 && !muted && (p[1].revents & POLLIN)) {
                        int c = accept4(bus, NULL, NULL, SOCK_CLOEXEC);
                        if (c >= 0) {
                                serve_bus_client(c);
                                close(c);
                        }
                }
                if (!(p[0].revents & POLLIN))
                        continue;
                ssize_t r = read(fd, &ch, 1);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0 || !line_add(ch, line, sizeof line, &n))
                        continue;
                char *arg = strchr(line, ' ');
                if (arg)
                        *arg++ = '\0';
                if (strcmp(line, "dump") == 0 && arg) {
                        char dp[300];
                        snprintf(dp, sizeof dp, "%s.argv", arg);
                        write_list(dp, saved_argv);
                        snprintf(dp, sizeof dp, "%s.env", arg);
                        write_list(dp, environ);
                        snprintf(dp, sizeof dp, "%s.done", arg);
                        append(dp, "1\n");
                } else if (strcmp(line, "rescue") == 0) {
                        unlink("/run/fake-systemd.ready");
                        close(fd);
                        unlink(CMD_FIFO);
                        do_rescue(arg ? arg : "test");
                } else if (strcmp(line, "reexec") == 0) {
                        unlink("/run/fake-systemd.ready");
                        close(fd);
                        do_reexec();
                } else if (strcmp(line, "exit") == 0) {
                        exit(arg ? atoi(arg) : 255);
                } else if (strcmp(line, "spawn") == 0 && arg) {
                        spawn(arg);
                } else if (strcmp(line, "crash-mode") == 0 && arg) {
                        snprintf(crash_mode, sizeof crash_mode, "%s", arg);
                } else if (strcmp(line, "crash-wait") == 0 && arg) {
                        snprintf(crash_wait, sizeof crash_wait, "%s", arg);
                } else if (strcmp(line, "segv") == 0) {
                        *(volatile int *) 0 = 1;
                } else if (strcmp(line, "abort") == 0) {
                        abort();
                } else if (strcmp(line, "spin") == 0) {
                        for (volatile unsigned long i = 0;; i++)
                                ;
                } else if (strcmp(line, "block") == 0) {
                        block();
                } else if (strcmp(line, "leak") == 0 && arg) {
                        size_t mb = (size_t) atol(arg);
                        char *m = malloc(mb << 20);
                        if (m)
                                memset(m, 1, mb << 20);
                } else if (strcmp(line, "deaf") == 0) {
                        /* Stops answering on the bus, still re-execs on SIGTERM:
                         * like a hung event loop, the socket keeps listening and
                         * connections wait in its backlog. */
                        muted = true;
                } else if (strcmp(line, "slow") == 0 && arg) {
                        reply_delay_ms = (unsigned) atoi(arg);
                } else if (strcmp(line, "vfork-hang") == 0) {
                        vfork_hang();
                } else if (strcmp(line, "nowait") == 0) {
                        /* Stop reaping, like a frozen v219. */
                        signal(SIGCHLD, SIG_DFL);
                }
        }
}
