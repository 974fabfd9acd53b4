/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Integration test of shim/ptrace/inject.c against real tracees.  Run as root (or
 * with CAP_SYS_PTRACE; no namespaces needed).  Prints TAP ("ok N - name")
 * and a final "N passed, N failed" line; exits non-zero on any failure.
 *
 * Each case forks a tracee, drives it into a state with ptrace, injects an
 * execve() of this very binary in marker mode (`--marker TOKEN`), and checks
 * that the marker ran in the same PID: it writes "TOKEN PID THREADS
 * HAS_CHILDREN" to fd MARKER_FD, inherited across the exec, and exits 42.
 *
 * Synchronisation is by pipes, waitpid() and ptrace stops only; every case
 * runs under alarm(CASE_TIMEOUT) and a timeout fails the case, not the run.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ptrace/inject.h"

#define MARKER_FD    100
#define MARKER_EXIT  42
#define CASE_TIMEOUT 10
#define OPTS         (PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEEXEC)
#define BAD_PATH     "/nonexistent/initshim-inject-test"

#if defined(__x86_64__)
#  define NR_BLOCK SYS_pause
#elif defined(__aarch64__)
#  define NR_BLOCK SYS_ppoll  /* no pause(2) on arm64 */
#endif

static char self_exe[PATH_MAX];
static volatile sig_atomic_t timed_out;
static volatile long *counter; /* shared with spinning tracees */
static char why[1024];

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...) {
        va_list ap;

        if (why[0])
                return -1; /* keep the first reason */
        va_start(ap, fmt);
        vsnprintf(why, sizeof(why), fmt, ap);
        va_end(ap);
        return -1;
}

#define CHECK(cond, ...)                                \
        do {                                            \
                if (!(cond))                            \
                        return fail(__VA_ARGS__);       \
        } while (0)
#define TRY(expr)                                       \
        do {                                            \
                if ((expr) < 0)                         \
                        return -1;                      \
        } while (0)

static void on_alarm(int sig) {
        (void) sig;
        timed_out = 1;
}

/* ------------------------------------------------------------------------ */
/* marker mode                                                              */
/* ------------------------------------------------------------------------ */

static int count_threads(void) {
        DIR *d = opendir("/proc/self/task");
        struct dirent *de;
        int n = 0;

        if (!d)
                return -1;
        while ((de = readdir(d)))
                if (de->d_name[0] != '.')
                        n++;
        closedir(d);
        return n;
}

static int marker_main(const char *token) {
        siginfo_t si;
        int has_children;

        memset(&si, 0, sizeof(si));
        has_children = waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) == 0;
        const char *env = getenv("INJECT_TEST");
        dprintf(MARKER_FD, "%s %d %d %d %s\n", token, (int) getpid(), count_threads(), has_children,
                env && *env ? env : "-");
        _exit(MARKER_EXIT);
}

/* ------------------------------------------------------------------------ */
/* tracees                                                                  */
/* ------------------------------------------------------------------------ */

struct tracee {
        pid_t pid;
        pid_t extra;   /* a grandchild or second thread, reported by the tracee */
        int marker_rd; /* marker output */
        int go_wr;     /* test -> tracee */
        int ready_rd;  /* tracee -> test */
};

struct tctx {
        int go_rd, ready_wr;
        long arg;
};

typedef void (*tracee_fn)(const struct tctx *c);

static void wait_go(const struct tctx *c) {
        char ch;
        while (read(c->go_rd, &ch, 1) < 0 && errno == EINTR)
                ;
}

static void report_int(const struct tctx *c, int v) {
        (void) !write(c->ready_wr, &v, sizeof(v));
}

static long block_syscall(void) {
#if defined(__x86_64__)
        return syscall(SYS_pause);
#else
        return syscall(SYS_ppoll, NULL, 0, NULL, NULL, 0);
#endif
}

static pid_t fork_sleeper(void) {
        pid_t p = fork();
        if (p == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                for (;;)
                        pause();
        }
        return p;
}

/* Blocks in pause(); reports the errno of every return from it. */
static void t_pause(const struct tctx *c) {
        wait_go(c);
        for (;;) {
                long r = block_syscall();
                report_int(c, r < 0 ? errno : 0);
        }
}

static void t_spin(const struct tctx *c) {
        (void) c;
        for (;;)
                (*counter)++;
}

static void t_waitid(const struct tctx *c) {
        siginfo_t si;

        report_int(c, (int) fork_sleeper());
        wait_go(c);
        for (;;)
                (void) waitid(P_ALL, 0, &si, WEXITED);
}

static void t_nanosleep(const struct tctx *c) {
        wait_go(c);
        for (;;) {
                struct timespec ts = { .tv_sec = 1000 };
                report_int(c, nanosleep(&ts, NULL) < 0 ? errno : 0);
        }
}

enum crash_kind {
        CRASH_RAISE_EXIT,   /* raise(SIGSEGV), handler: exit_group (container path) */
        CRASH_RAISE_PAUSE,  /* handler: pause() (systemd v219) */
        CRASH_RAISE_WAITID, /* handler: waitid(P_ALL) loop, then pause (freeze()) */
        CRASH_FAULT_EXIT,   /* NULL store, handler: exit_group */
};

static volatile int crash_kind;
static volatile int *volatile null_ptr;

static void crash_handler(int sig) {
        siginfo_t si;

        (void) sig;
        switch (crash_kind) {
        case CRASH_RAISE_PAUSE:
                for (;;)
                        block_syscall();
        case CRASH_RAISE_WAITID:
                for (;;) {
                        if (waitid(P_ALL, 0, &si, WEXITED) < 0 && errno == ECHILD)
                                break;
                }
                for (;;)
                        block_syscall();
        default:
                syscall(SYS_exit_group, 255);
        }
}

static void t_crash(const struct tctx *c) {
        struct sigaction sa = { .sa_handler = crash_handler, .sa_flags = SA_NODEFER };

        crash_kind = (int) c->arg;
        if (crash_kind == CRASH_RAISE_WAITID)
                report_int(c, (int) fork_sleeper());
        sigemptyset(&sa.sa_mask);
        sigaction(SIGSEGV, &sa, NULL);
        wait_go(c);
        if (crash_kind == CRASH_FAULT_EXIT)
                *null_ptr = 1; /* via a volatile pointer: no compiler-made trap */
        else
                raise(SIGSEGV);
        _exit(98);
}

static volatile int recurse_limit = INT_MAX;

static __attribute__((noinline)) int recurse(int n) {
        volatile char pad[1024];

        pad[0] = (char) n;
        if (n >= recurse_limit)
                return 0;
        return recurse(n + 1) + pad[0];
}

/* Stack overflow: sp ends up in the guard gap below the stack. */
static void t_overflow(const struct tctx *c) {
        struct rlimit rl = { .rlim_cur = 1 << 20, .rlim_max = 1 << 20 };

        setrlimit(RLIMIT_STACK, &rl);
        wait_go(c);
        recurse(0);
        _exit(95);
}

/* sp pointing at nothing, then a store through it. */
static void t_wild_sp(const struct tctx *c) {
        wait_go(c);
#if defined(__x86_64__)
        __asm__ volatile("mov $0x20000, %%rsp\n\tpush %%rax" ::: "memory");
#else
        __asm__ volatile("mov x9, #0x20000\n\tmov sp, x9\n\tstr x0, [sp, #-16]!" ::: "x9", "memory");
#endif
        _exit(94);
}

static void on_usr1(int sig) {
        (void) sig;
}

static void t_pause_usr1(const struct tctx *c) {
        struct sigaction sa = { .sa_handler = on_usr1 };

        sigemptyset(&sa.sa_mask);
        sigaction(SIGUSR1, &sa, NULL);
        t_pause(c);
}

static void *thread_spin(void *arg) {
        const struct tctx *c = arg;

        report_int(c, (int) gettid());
        for (;;)
                (*counter)++;
        return NULL;
}

static void t_threads(const struct tctx *c) {
        static struct tctx copy;
        pthread_t th;

        copy = *c;
        if (pthread_create(&th, NULL, thread_spin, &copy) != 0)
                _exit(97);
        t_pause(c);
}

static int tracee_start(struct tracee *t, tracee_fn fn, long arg) {
        int marker[2], go[2], ready[2];

        memset(t, 0, sizeof(*t));
        t->pid = -1;
        *counter = 0;
        CHECK(pipe2(marker, O_CLOEXEC) == 0 && pipe2(go, O_CLOEXEC) == 0 &&
              pipe2(ready, O_CLOEXEC) == 0, "pipe2: %m");

        t->pid = fork();
        CHECK(t->pid >= 0, "fork: %m");
        if (t->pid == 0) {
                struct tctx c = { .go_rd = go[0], .ready_wr = ready[1], .arg = arg };

                prctl(PR_SET_PDEATHSIG, SIGKILL);
                signal(SIGALRM, SIG_DFL);
                if (dup2(marker[1], MARKER_FD) < 0) /* dup2: no O_CLOEXEC, survives exec */
                        _exit(96);
                fn(&c);
                _exit(99);
        }
        close(marker[1]);
        close(go[0]);
        close(ready[1]);
        t->marker_rd = marker[0];
        t->go_wr = go[1];
        t->ready_rd = ready[0];
        return 0;
}

static void tracee_cleanup(struct tracee *t) {
        if (t->pid > 0) {
                kill(t->pid, SIGKILL);
                while (waitpid(t->pid, NULL, __WALL) < 0 && errno == EINTR)
                        ;
        }
        if (t->extra > 0 && t->extra != t->pid)
                kill(t->extra, SIGKILL);
        if (t->marker_rd > 0)
                close(t->marker_rd);
        if (t->go_wr > 0)
                close(t->go_wr);
        if (t->ready_rd > 0)
                close(t->ready_rd);
        /* reap whatever was reparented to us (we are a subreaper) */
        while (waitpid(-1, NULL, WNOHANG | __WALL) > 0)
                ;
        t->pid = -1;
}

static int go(struct tracee *t) {
        CHECK(write(t->go_wr, "g", 1) == 1, "write go: %m");
        return 0;
}

static int read_int(int fd, int *v) {
        ssize_t n;

        while ((n = read(fd, v, sizeof(*v))) < 0 && errno == EINTR && !timed_out)
                ;
        CHECK(!timed_out, "timeout reading from tracee");
        CHECK(n == (ssize_t) sizeof(*v), "short read from tracee (%zd): %m", n);
        return 0;
}

static int expect_nothing_reported(struct tracee *t) {
        int v, fl = fcntl(t->ready_rd, F_GETFL);
        ssize_t n;

        fcntl(t->ready_rd, F_SETFL, fl | O_NONBLOCK);
        n = read(t->ready_rd, &v, sizeof(v));
        fcntl(t->ready_rd, F_SETFL, fl);
        CHECK(n < 0 && errno == EAGAIN, "tracee saw its syscall return (%zd, value %d)", n,
              n > 0 ? v : 0);
        return 0;
}

/* ------------------------------------------------------------------------ */
/* ptrace helpers                                                           */
/* ------------------------------------------------------------------------ */

static const char *describe(int status) {
        static char b[96];

        if (WIFEXITED(status))
                snprintf(b, sizeof(b), "exited %d", WEXITSTATUS(status));
        else if (WIFSIGNALED(status))
                snprintf(b, sizeof(b), "killed by %s", strsignal(WTERMSIG(status)));
        else if (WIFSTOPPED(status))
                snprintf(b, sizeof(b), "stopped sig %d event %d", WSTOPSIG(status), status >> 16);
        else
                snprintf(b, sizeof(b), "status %#x", status);
        return b;
}

static int wait_for(pid_t pid, int *status) {
        for (;;) {
                if (waitpid(pid, status, __WALL) == pid)
                        return 0;
                CHECK(errno == EINTR, "waitpid(%d): %m", (int) pid);
                CHECK(!timed_out, "timeout waiting for %d", (int) pid);
        }
}

static bool is_event(int status, int ev) {
        return WIFSTOPPED(status) && (status >> 8) == (SIGTRAP | ev << 8);
}

static bool is_syscall_stop(int status) {
        return WIFSTOPPED(status) && WSTOPSIG(status) == (SIGTRAP | 0x80);
}

static bool is_group_stop(int status) {
        return WIFSTOPPED(status) && (status >> 16) == PTRACE_EVENT_STOP;
}

static int seize(pid_t pid) {
        CHECK(ptrace(PTRACE_SEIZE, pid, 0, (void *) (long) OPTS) == 0, "PTRACE_SEIZE: %m");
        return 0;
}

static int interrupt_stop(pid_t pid) {
        int status;

        CHECK(ptrace(PTRACE_INTERRUPT, pid, 0, 0) == 0, "PTRACE_INTERRUPT: %m");
        TRY(wait_for(pid, &status));
        CHECK(is_group_stop(status), "expected PTRACE_EVENT_STOP, got %s", describe(status));
        return 0;
}

static int resume(pid_t pid, int req, int sig) {
        CHECK(ptrace(req, pid, 0, (void *) (long) sig) == 0, "resume: %m");
        return 0;
}

/* The register-only fallback (kernels < 5.3) must agree with
 * PTRACE_GET_SYSCALL_INFO: x86_64 rax == -ENOSYS at entry, arm64 x7 0/1. */
static int check_dir_hint(pid_t pid, const struct inject_syscall_stop *s) {
        struct regs r;
        enum arch_sysdir want = s->kind == INJECT_STOP_SYSCALL_ENTRY ? ARCH_SYSDIR_ENTRY
                                                                     : ARCH_SYSDIR_EXIT;

        if (!s->exact || (s->kind == INJECT_STOP_SYSCALL_EXIT && s->ret == -ENOSYS))
                return 0;
        CHECK(regs_get(pid, &r) == 0, "regs_get");
        CHECK(ARCH_FN(syscall_dir_hint)(&r.a) == want, "register hint %d, kernel says %d",
              ARCH_FN(syscall_dir_hint)(&r.a), s->kind);
        if (s->kind == INJECT_STOP_SYSCALL_ENTRY)
                CHECK(regs_syscall_nr(&r) == s->nr, "regs nr %ld, kernel says %ld",
                      regs_syscall_nr(&r), s->nr);
        return 0;
}

/* From a stop, PTRACE_SYSCALL until the entry of syscall nr. */
static int run_to_entry(pid_t pid, long nr, struct inject_syscall_stop *out) {
        int status, sig = 0;

        for (;;) {
                TRY(resume(pid, PTRACE_SYSCALL, sig));
                sig = 0;
                TRY(wait_for(pid, &status));
                CHECK(WIFSTOPPED(status), "tracee %s before syscall %ld", describe(status), nr);
                if (is_syscall_stop(status)) {
                        struct inject_syscall_stop s;
                        int r = inject_syscall_stop(pid, &s);
                        CHECK(r == 0, "inject_syscall_stop: %s", strerror(-r));
                        TRY(check_dir_hint(pid, &s));
                        if (s.kind == INJECT_STOP_SYSCALL_ENTRY && s.nr == nr) {
                                if (out)
                                        *out = s;
                                return 0;
                        }
                } else if ((status >> 16) == 0) {
                        sig = WSTOPSIG(status); /* signal-delivery-stop: pass it */
                }
        }
}

/* Wait for the next syscall stop, which must be of the given kind. */
static int next_syscall_stop(pid_t pid, enum inject_stop_kind kind, struct inject_syscall_stop *s) {
        int status, r;

        TRY(resume(pid, PTRACE_SYSCALL, 0));
        TRY(wait_for(pid, &status));
        CHECK(is_syscall_stop(status), "expected a syscall stop, got %s", describe(status));
        r = inject_syscall_stop(pid, s);
        CHECK(r == 0, "inject_syscall_stop: %s", strerror(-r));
        CHECK(s->kind == kind, "expected syscall stop kind %d, got %d (nr %ld)", kind, s->kind, s->nr);
        return 0;
}

/* Resume (req, signal 0) until PTRACE_EVENT_EXEC. */
static int expect_exec(pid_t pid, int req) {
        unsigned long former = 0;
        int status;

        for (;;) {
                TRY(resume(pid, req, 0));
                TRY(wait_for(pid, &status));
                if (is_event(status, PTRACE_EVENT_EXEC))
                        break;
                if (is_syscall_stop(status)) {
                        struct inject_syscall_stop s;
                        if (inject_syscall_stop(pid, &s) == 0 && s.kind == INJECT_STOP_SYSCALL_EXIT &&
                            s.ret < 0)
                                return fail("syscall returned %ld (%s) instead of exec", s.ret,
                                            strerror((int) -s.ret));
                        continue;
                }
                return fail("expected exec, got %s", describe(status));
        }
        CHECK(ptrace(PTRACE_GETEVENTMSG, pid, 0, &former) == 0, "GETEVENTMSG: %m");
        CHECK((pid_t) former == pid, "exec reported former tid %lu, expected %d", former, (int) pid);
        return 0;
}

struct marker_report {
        int pid, threads, children;
        char env[64]; /* INJECT_TEST in the marker's environment, "-" if unset */
};

/* After the exec event: detach, read the marker's line, reap it. */
static int finish_marker(struct tracee *t, const char *token, struct marker_report *rep) {
        char line[256], tok[64];
        struct marker_report m;
        size_t have = 0;
        int status;

        CHECK(ptrace(PTRACE_DETACH, t->pid, 0, 0) == 0, "PTRACE_DETACH: %m");
        while (have < sizeof(line) - 1) {
                ssize_t n = read(t->marker_rd, line + have, sizeof(line) - 1 - have);
                if (n < 0 && errno == EINTR && !timed_out)
                        continue;
                CHECK(n >= 0, "reading marker: %m");
                if (n == 0)
                        break;
                have += (size_t) n;
                if (memchr(line, '\n', have))
                        break;
        }
        line[have] = 0;
        CHECK(sscanf(line, "%63s %d %d %d %63s", tok, &m.pid, &m.threads, &m.children, m.env) == 5,
              "marker said '%s'", line);
        CHECK(strcmp(tok, token) == 0, "marker token '%s', expected '%s'", tok, token);
        CHECK(m.pid == t->pid, "marker ran as pid %d, tracee was %d", m.pid, (int) t->pid);
        TRY(wait_for(t->pid, &status));
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == MARKER_EXIT, "marker %s", describe(status));
        t->pid = -1;
        if (rep)
                *rep = m;
        return 0;
}

static char *marker_argv[4];
static char *marker_envp[] = { (char *) "INJECT_TEST=1", NULL };
static char token_buf[32];

static char *const *marker_args(const char *token) {
        snprintf(token_buf, sizeof(token_buf), "%s", token);
        marker_argv[0] = self_exe;
        marker_argv[1] = (char *) "--marker";
        marker_argv[2] = token_buf;
        marker_argv[3] = NULL;
        return marker_argv;
}

static int inject_stop(pid_t pid, const char *token, const char *path, unsigned flags,
                       struct inject_state *st) {
        int r = inject_execve_at_stop(pid, path ? path : self_exe, marker_args(token), marker_envp,
                                      flags, st);
        CHECK(r == 0, "inject_execve_at_stop: %s", strerror(-r));
        return 0;
}

static int inject_entry(pid_t pid, const char *token, const char *path, struct inject_state *st) {
        int r = inject_execve_at_syscall_entry(pid, path ? path : self_exe, marker_args(token),
                                               marker_envp, 0, st);
        CHECK(r == 0, "inject_execve_at_syscall_entry: %s", strerror(-r));
        return 0;
}

/* Wait until the spinning tracee (or thread) has visibly run after now. */
static int wait_spinning(void) {
        long v = *counter;

        while (*counter == v || *counter < 1000) {
                CHECK(!timed_out, "timeout waiting for the tracee to spin");
                sched_yield();
        }
        return 0;
}

/* Run a blocking tracee into its blocking syscall and interrupt it there. */
static int stop_in_syscall(struct tracee *t, long nr) {
        TRY(seize(t->pid));
        TRY(interrupt_stop(t->pid));
        TRY(go(t));
        TRY(run_to_entry(t->pid, nr, NULL));
        /* From the entry stop the tracee runs the syscall; a PTRACE_INTERRUPT
         * can then only be acted on when it returns: -ERESTART*. */
        TRY(resume(t->pid, PTRACE_CONT, 0));
        TRY(interrupt_stop(t->pid));
        return 0;
}

static int check_interrupted(pid_t pid, long nr, long code) {
        struct regs r;
        int ret = regs_get(pid, &r);

        CHECK(ret == 0, "regs_get: %s", strerror(-ret));
#if defined(__x86_64__)
        CHECK(regs_syscall_nr(&r) == nr && regs_retval(&r) == code,
              "expected orig_rax %ld rax %ld, got %ld %ld", nr, code, regs_syscall_nr(&r),
              regs_retval(&r));
#else
        /* arm64 rewinds before the stop: syscallno -1, pc on the svc. */
        (void) nr;
        (void) code;
        CHECK(regs_syscall_nr(&r) == -1, "expected syscallno -1, got %ld", regs_syscall_nr(&r));
#endif
        return 0;
}

/* ------------------------------------------------------------------------ */
/* cases                                                                    */
/* ------------------------------------------------------------------------ */

static struct tracee T;

static int case_pause(void) {
        struct inject_state st;

        TRY(tracee_start(&T, t_pause, 0));
        TRY(stop_in_syscall(&T, NR_BLOCK));
        TRY(check_interrupted(T.pid, NR_BLOCK, -ARCH_ERESTARTNOHAND));
        TRY(inject_stop(T.pid, "pause", NULL, 0, &st));
#if defined(__x86_64__)
        CHECK(st.via == INJECT_VIA_INSN_AT_IP, "expected the syscall insn at ip, via %d", st.via);
#else
        /* arm64 rewound pc onto the svc before the stop; reusing that very
         * address is unsafe (restart-block x8 rewrite), so another svc is
         * used: the vDSO's. */
        CHECK(st.via == INJECT_VIA_INSN_FOUND && st.insn_addr != regs_ip(&st.saved),
              "via %d at %#llx", st.via, (unsigned long long) st.insn_addr);
#endif
        TRY(expect_exec(T.pid, PTRACE_CONT));
        return finish_marker(&T, "pause", NULL);
}

static int spin_case(const char *token, unsigned flags, enum inject_via want) {
        struct inject_state st;
        struct regs r;
        int ret;

        TRY(tracee_start(&T, t_spin, 0));
        TRY(seize(T.pid));
        TRY(wait_spinning());
        TRY(interrupt_stop(T.pid));
        ret = regs_get(T.pid, &r);
        CHECK(ret == 0, "regs_get: %s", strerror(-ret));
        CHECK(!regs_in_syscall(&r), "spinning tracee stopped in syscall %ld", regs_syscall_nr(&r));
        TRY(inject_stop(T.pid, token, NULL, flags, &st));
        CHECK(st.via == want, "via %d, expected %d", st.via, want);
        if (flags & INJECT_F_NO_VM_WRITEV)
                CHECK(st.mem_fallback, "POKEDATA path not taken");
        printf("# %s: syscall insn at %#llx, blob %zu bytes at %#llx\n", token,
               (unsigned long long) st.insn_addr, st.blob_len, (unsigned long long) st.blob_addr);
        TRY(expect_exec(T.pid, PTRACE_CONT));
        return finish_marker(&T, token, NULL);
}

static int case_spin(void) { return spin_case("spin", 0, INJECT_VIA_INSN_FOUND); }
static int case_spin_poketext(void) {
        return spin_case("spin-poke", INJECT_F_FORCE_POKETEXT, INJECT_VIA_INSN_POKED);
}
static int case_spin_peekpoke(void) {
        return spin_case("spin-peekpoke", INJECT_F_NO_VM_WRITEV | INJECT_F_NO_VM_READV,
                         INJECT_VIA_INSN_FOUND);
}

static int case_waitid(void) {
        struct marker_report m;
        struct inject_state st;
        int child;

        TRY(tracee_start(&T, t_waitid, 0));
        TRY(read_int(T.ready_rd, &child));
        T.extra = child;
        TRY(stop_in_syscall(&T, SYS_waitid));
        TRY(check_interrupted(T.pid, SYS_waitid, -ARCH_ERESTARTSYS));
        TRY(inject_stop(T.pid, "waitid", NULL, 0, &st));
        TRY(expect_exec(T.pid, PTRACE_CONT));
        TRY(finish_marker(&T, "waitid", &m));
        CHECK(m.children == 1, "the exec'd image lost its child");
        return 0;
}

static int case_nanosleep(void) {
        struct inject_state st;

        TRY(tracee_start(&T, t_nanosleep, 0));
        TRY(stop_in_syscall(&T, SYS_clock_nanosleep));
        TRY(check_interrupted(T.pid, SYS_clock_nanosleep, -ARCH_ERESTART_RESTARTBLOCK));
        TRY(inject_stop(T.pid, "nanosleep", NULL, 0, &st));
        TRY(expect_exec(T.pid, PTRACE_CONT));
        return finish_marker(&T, "nanosleep", NULL);
}

/* A signal-delivery-stop inside a blocking syscall. */
static int case_signal_stop(void) {
        struct inject_state st;
        siginfo_t si;
        int status;

        TRY(tracee_start(&T, t_pause_usr1, 0));
        TRY(seize(T.pid));
        TRY(interrupt_stop(T.pid));
        TRY(go(&T));
        TRY(run_to_entry(T.pid, NR_BLOCK, NULL));
        TRY(resume(T.pid, PTRACE_CONT, 0));
        CHECK(kill(T.pid, SIGUSR1) == 0, "kill: %m");
        TRY(wait_for(T.pid, &status));
        CHECK(WIFSTOPPED(status) && WSTOPSIG(status) == SIGUSR1 && (status >> 16) == 0,
              "expected SIGUSR1 delivery stop, got %s", describe(status));
        CHECK(ptrace(PTRACE_GETSIGINFO, T.pid, 0, &si) == 0, "GETSIGINFO: %m");
        TRY(check_interrupted(T.pid, NR_BLOCK, -ARCH_ERESTARTNOHAND));
        TRY(inject_stop(T.pid, "sigstop", NULL, 0, &st));
        TRY(expect_exec(T.pid, PTRACE_CONT)); /* signal 0: SIGUSR1 suppressed */
        return finish_marker(&T, "sigstop", NULL);
}

/* Crash: the SIGSEGV signal-delivery-stop, then follow the handler to its
 * terminal syscall and rewrite it (the guard's crash path). */
static int crash_case(const char *token, enum crash_kind kind, long terminal_nr, bool at_signal_stop) {
        struct inject_state st;
        siginfo_t si;
        int status;

        TRY(tracee_start(&T, t_crash, kind));
        if (kind == CRASH_RAISE_WAITID) {
                int child;
                TRY(read_int(T.ready_rd, &child));
                T.extra = child;
        }
        TRY(seize(T.pid));
        TRY(go(&T));
        TRY(wait_for(T.pid, &status));
        CHECK(WIFSTOPPED(status) && WSTOPSIG(status) == SIGSEGV && (status >> 16) == 0,
              "expected SIGSEGV delivery stop, got %s", describe(status));
        CHECK(ptrace(PTRACE_GETSIGINFO, T.pid, 0, &si) == 0, "GETSIGINFO: %m");
        if (kind == CRASH_FAULT_EXIT)
                CHECK(si.si_code == SEGV_MAPERR && si.si_addr == NULL,
                      "not a real fault: si_code %d", si.si_code);
        else
                CHECK(si.si_code == SI_TKILL, "not raise(): si_code %d", si.si_code);

        if (at_signal_stop) {
                TRY(inject_stop(T.pid, token, NULL, 0, &st));
                TRY(expect_exec(T.pid, PTRACE_CONT)); /* signal 0: SIGSEGV suppressed */
                return finish_marker(&T, token, NULL);
        }

        /* Let the signal through and follow the handler. */
        int sig = SIGSEGV;
        for (;;) {
                struct inject_syscall_stop s;
                int r;

                TRY(resume(T.pid, PTRACE_SYSCALL, sig));
                sig = 0;
                TRY(wait_for(T.pid, &status));
                CHECK(is_syscall_stop(status), "while following the handler: %s", describe(status));
                r = inject_syscall_stop(T.pid, &s);
                CHECK(r == 0, "inject_syscall_stop: %s", strerror(-r));
                if (s.kind == INJECT_STOP_SYSCALL_ENTRY && s.nr == terminal_nr)
                        break;
        }
        TRY(inject_entry(T.pid, token, NULL, &st));
        TRY(expect_exec(T.pid, PTRACE_SYSCALL));
        return finish_marker(&T, token, NULL);
}

static int case_crash_exit(void) {
        return crash_case("crash-exit", CRASH_RAISE_EXIT, SYS_exit_group, false);
}
static int case_crash_pause(void) {
        return crash_case("crash-pause", CRASH_RAISE_PAUSE, NR_BLOCK, false);
}
static int case_crash_waitid(void) {
        return crash_case("crash-waitid", CRASH_RAISE_WAITID, SYS_waitid, false);
}
static int case_crash_at_signal_stop(void) {
        return crash_case("crash-sigstop", CRASH_RAISE_EXIT, 0, true);
}
static int case_fault_exit(void) {
        return crash_case("fault-exit", CRASH_FAULT_EXIT, SYS_exit_group, false);
}
static int case_fault_at_signal_stop(void) {
        return crash_case("fault-sigstop", CRASH_FAULT_EXIT, 0, true);
}

/* A crash with sp outside the stack.  Stack overflow (the shape of
 * CVE-2021-33910 in PID 1): sp sits in the guard gap below [stack];
 * process_vm_writev() fails there (GUP does not grow stacks since 6.5) and
 * PTRACE_POKEDATA grows the stack (checked against the *tracer's*
 * RLIMIT_STACK), so either the block lands below sp or, when that fails
 * too, in the fallback mapping.  Wild sp (0x20000, nothing mapped): the
 * fallback must be used. */
static int sp_crash_case(const char *token, tracee_fn fn, bool need_fallback) {
        struct inject_state st;
        struct regs r;
        int status;

        TRY(tracee_start(&T, fn, 0));
        TRY(seize(T.pid));
        TRY(go(&T));
        TRY(wait_for(T.pid, &status));
        CHECK(WIFSTOPPED(status) && WSTOPSIG(status) == SIGSEGV && (status >> 16) == 0,
              "expected SIGSEGV delivery stop, got %s", describe(status));
        CHECK(regs_get(T.pid, &r) == 0, "regs_get");
        TRY(inject_stop(T.pid, token, NULL, 0, &st));
        printf("# %s: sp %#llx, blob at %#llx (POKEDATA %d, fallback mapping %d)\n", token,
               (unsigned long long) regs_sp(&r), (unsigned long long) st.blob_addr,
               st.mem_fallback, st.blob_fallback);
        if (need_fallback)
                CHECK(st.blob_fallback && st.blob_addr > regs_sp(&r),
                      "expected the fallback block above sp");
        TRY(expect_exec(T.pid, PTRACE_CONT));
        return finish_marker(&T, token, NULL);
}

static int case_stack_overflow(void) { return sp_crash_case("overflow", t_overflow, false); }
static int case_wild_sp(void) { return sp_crash_case("wild-sp", t_wild_sp, true); }

/* Common tail: the tracee is alive and usable: stop it and exec for real. */
static int prove_alive(const char *token) {
        struct inject_state st;

        TRY(interrupt_stop(T.pid));
        TRY(inject_stop(T.pid, token, NULL, 0, &st));
        TRY(expect_exec(T.pid, PTRACE_CONT));
        return finish_marker(&T, token, NULL);
}

/* execve fails at a syscall entry, no rollback: the tracee sees -ENOENT as
 * the result of its pause() and carries on. */
static int case_fail_entry(void) {
        struct inject_syscall_stop s;
        struct inject_state st;
        int err;

        TRY(tracee_start(&T, t_pause, 0));
        TRY(seize(T.pid));
        TRY(interrupt_stop(T.pid));
        TRY(go(&T));
        TRY(run_to_entry(T.pid, NR_BLOCK, NULL));
        TRY(inject_entry(T.pid, "unused", BAD_PATH, &st));
        TRY(next_syscall_stop(T.pid, INJECT_STOP_SYSCALL_EXIT, &s));
        CHECK(s.ret == -ENOENT, "execve returned %ld, expected -ENOENT", s.ret);
        TRY(resume(T.pid, PTRACE_CONT, 0));
        TRY(read_int(T.ready_rd, &err));
        CHECK(err == ENOENT, "tracee saw errno %d, expected ENOENT", err);
        return prove_alive("fail-entry");
}

/* Same, rolled back at the exit stop: the original syscall runs again. */
static int case_fail_entry_rollback(void) {
        struct inject_syscall_stop s;
        struct inject_state st;
        int r;

        TRY(tracee_start(&T, t_pause, 0));
        TRY(seize(T.pid));
        TRY(interrupt_stop(T.pid));
        TRY(go(&T));
        TRY(run_to_entry(T.pid, NR_BLOCK, NULL));
        TRY(inject_entry(T.pid, "unused", BAD_PATH, &st));
        TRY(next_syscall_stop(T.pid, INJECT_STOP_SYSCALL_EXIT, &s));
        CHECK(s.ret == -ENOENT, "execve returned %ld, expected -ENOENT", s.ret);
        r = inject_rollback(T.pid, &st);
        CHECK(r == 0, "inject_rollback: %s", strerror(-r));
        TRY(next_syscall_stop(T.pid, INJECT_STOP_SYSCALL_ENTRY, &s));
        CHECK(s.nr == NR_BLOCK, "after rollback: entry of %ld, expected %d", s.nr, NR_BLOCK);
        CHECK(s.ip == regs_ip(&st.saved), "re-entered from %#llx, expected %#llx",
              (unsigned long long) s.ip, (unsigned long long) regs_ip(&st.saved));
        TRY(resume(T.pid, PTRACE_CONT, 0));
        TRY(interrupt_stop(T.pid));
        TRY(expect_nothing_reported(&T));
        TRY(inject_stop(T.pid, "fail-entry-rb", NULL, 0, &st));
        TRY(expect_exec(T.pid, PTRACE_CONT));
        return finish_marker(&T, "fail-entry-rb", NULL);
}

/* Rollback at the very entry stop, before the execve runs. */
static int case_cancel_at_entry(void) {
        struct inject_syscall_stop s;
        struct inject_state st;
        int r;

        TRY(tracee_start(&T, t_pause, 0));
        TRY(seize(T.pid));
        TRY(interrupt_stop(T.pid));
        TRY(go(&T));
        TRY(run_to_entry(T.pid, NR_BLOCK, NULL));
        TRY(inject_entry(T.pid, "unused", BAD_PATH, &st));
        r = inject_rollback(T.pid, &st);
        CHECK(r == 0, "inject_rollback: %s", strerror(-r));
        /* the skipped call's exit stop, then the original call again */
        TRY(next_syscall_stop(T.pid, INJECT_STOP_SYSCALL_EXIT, &s));
        TRY(next_syscall_stop(T.pid, INJECT_STOP_SYSCALL_ENTRY, &s));
        CHECK(s.nr == NR_BLOCK, "after cancel: entry of %ld, expected %d", s.nr, NR_BLOCK);
        TRY(resume(T.pid, PTRACE_CONT, 0));
        TRY(interrupt_stop(T.pid));
        TRY(expect_nothing_reported(&T));
        TRY(inject_stop(T.pid, "cancel", NULL, 0, &st));
        TRY(expect_exec(T.pid, PTRACE_CONT));
        return finish_marker(&T, "cancel", NULL);
}

/* inject_execve_at_stop fails (bad path), rolled back at the exit stop. */
static int fail_stop_case(const char *token, tracee_fn fn, long nr, long restart_nr, unsigned flags) {
        struct inject_syscall_stop s;
        struct inject_state st;
        int r;

        TRY(tracee_start(&T, fn, 0));
        if (fn == t_spin) {
                TRY(seize(T.pid));
                TRY(wait_spinning());
                TRY(interrupt_stop(T.pid));
        } else {
                TRY(stop_in_syscall(&T, nr));
        }
        TRY(inject_stop(T.pid, token, BAD_PATH, flags, &st));
        TRY(next_syscall_stop(T.pid, INJECT_STOP_SYSCALL_ENTRY, &s));
        CHECK(s.nr == ARCH_NR_EXECVE, "expected execve entry, got %ld", s.nr);
        TRY(next_syscall_stop(T.pid, INJECT_STOP_SYSCALL_EXIT, &s));
        CHECK(s.ret == -ENOENT, "execve returned %ld, expected -ENOENT", s.ret);
        r = inject_rollback(T.pid, &st);
        CHECK(r == 0, "inject_rollback: %s", strerror(-r));
        if (fn == t_spin) {
                TRY(resume(T.pid, PTRACE_CONT, 0));
                TRY(wait_spinning()); /* the original loop runs (text restored) */
        } else {
                /* the interrupted syscall is restarted, not returned from */
                TRY(next_syscall_stop(T.pid, INJECT_STOP_SYSCALL_ENTRY, &s));
                CHECK(s.nr == restart_nr, "after rollback: entry of %ld, expected %ld", s.nr,
                      restart_nr);
                TRY(resume(T.pid, PTRACE_CONT, 0));
                TRY(interrupt_stop(T.pid));
                TRY(expect_nothing_reported(&T));
                TRY(resume(T.pid, PTRACE_CONT, 0));
        }
        return prove_alive(token);
}

static int case_fail_stop_spin(void) {
        return fail_stop_case("fail-stop-spin", t_spin, 0, 0, INJECT_F_FORCE_POKETEXT);
}
static int case_fail_stop_pause(void) {
        return fail_stop_case("fail-stop-pause", t_pause, NR_BLOCK, NR_BLOCK, 0);
}
static int case_fail_stop_restartblock(void) {
#if defined(__x86_64__)
        /* -ERESTART_RESTARTBLOCK comes back as restart_syscall */
        return fail_stop_case("fail-stop-nanosleep", t_nanosleep, SYS_clock_nanosleep,
                              SYS_restart_syscall, 0);
#else
        /* arm64 sets x8 = restart_syscall only after the stop, and the
         * tracer cannot see the return code: the original call is re-issued
         * with its original arguments (a relative sleep starts over). */
        return fail_stop_case("fail-stop-nanosleep", t_nanosleep, SYS_clock_nanosleep,
                              SYS_clock_nanosleep, 0);
#endif
}

/* Main thread in pause, second thread spinning, only the main thread
 * traced: execve() kills the other thread (de_thread) and the image runs
 * single-threaded in the same PID. */
static int case_threads(void) {
        struct marker_report m;
        struct inject_state st;
        int tid;

        TRY(tracee_start(&T, t_threads, 0));
        TRY(read_int(T.ready_rd, &tid));
        TRY(stop_in_syscall(&T, NR_BLOCK));
        TRY(inject_stop(T.pid, "threads", NULL, 0, &st));
        TRY(expect_exec(T.pid, PTRACE_CONT));
        TRY(finish_marker(&T, "threads", &m));
        CHECK(m.threads == 1, "%d threads after exec", m.threads);
        return 0;
}

/* Both threads traced: the tracer must reap the killed thread (waitpid
 * __WALL) or de_thread() in the exec'ing thread waits for ever. */
static int case_threads_both_traced(void) {
        struct marker_report m;
        struct inject_state st;
        int tid, status;

        TRY(tracee_start(&T, t_threads, 0));
        TRY(read_int(T.ready_rd, &tid));
        TRY(seize(tid));
        TRY(stop_in_syscall(&T, NR_BLOCK));
        TRY(inject_stop(T.pid, "threads2", NULL, 0, &st));
        TRY(resume(T.pid, PTRACE_CONT, 0));
        /* The other thread: killed by de_thread(). */
        for (;;) {
                TRY(wait_for(tid, &status));
                if (WIFEXITED(status) || WIFSIGNALED(status))
                        break;
                /* e.g. a stop racing with the kill: let it go */
                if (WIFSTOPPED(status))
                        (void) ptrace(PTRACE_CONT, tid, 0, 0);
        }
        printf("# second thread: %s\n", describe(status));
        TRY(wait_for(T.pid, &status));
        CHECK(is_event(status, PTRACE_EVENT_EXEC), "expected exec, got %s", describe(status));
        TRY(finish_marker(&T, "threads2", &m));
        CHECK(m.threads == 1, "%d threads after exec", m.threads);
        return 0;
}

/* The production topology: the guard is a child of the traced process and
 * PTRACE_SEIZEs its parent. */
static void t_with_guard(const struct tctx *c) {
        pid_t parent = getpid(), g = fork();

        if (g == 0) {
                struct inject_state st;
                int ok;

                signal(SIGALRM, on_alarm);
                alarm(CASE_TIMEOUT);
                why[0] = 0;
                ok = seize(parent) == 0 && interrupt_stop(parent) == 0 &&
                     inject_stop(parent, "guard", NULL, 0, &st) == 0 &&
                     expect_exec(parent, PTRACE_CONT) == 0 &&
                     ptrace(PTRACE_DETACH, parent, 0, 0) == 0;
                report_int(c, ok ? 0 : 1);
                if (!ok)
                        dprintf(2, "# guard: %s\n", why);
                _exit(ok ? 0 : 1);
        }
        t_pause(c);
}

static int case_guard_topology(void) {
        char line[256], tok[64];
        int pid, threads, children, guard_ok, status;
        ssize_t n;

        TRY(tracee_start(&T, t_with_guard, 0));
        TRY(read_int(T.ready_rd, &guard_ok));
        CHECK(guard_ok == 0, "the guard child failed");
        while ((n = read(T.marker_rd, line, sizeof(line) - 1)) < 0 && errno == EINTR && !timed_out)
                ;
        CHECK(n > 0, "no marker output");
        line[n] = 0;
        CHECK(sscanf(line, "%63s %d %d %d", tok, &pid, &threads, &children) == 4 &&
              strcmp(tok, "guard") == 0 && pid == T.pid, "marker said '%s'", line);
        CHECK(children == 1, "the guard child is gone after exec");
        TRY(wait_for(T.pid, &status));
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == MARKER_EXIT, "marker %s", describe(status));
        T.pid = -1;
        return 0;
}

/* A tracee that execs /bin/true with the marker's arguments: /bin/true
 * ignores them and exits 0, the marker (this binary) prints them. */
static void t_exec_true(const struct tctx *c) {
        char *argv[] = { (char *) "true", (char *) "--marker", (char *) "exec-exit", NULL };
        char *envp[] = { (char *) "INJECT_TEST=kept", NULL };

        wait_go(c);
        execve("/bin/true", argv, envp);
        report_int(c, errno);
        _exit(7);
}

/* Run the t_exec_true tracee to its exec's syscall-exit stop. */
static int run_to_exec_exit(void) {
        struct inject_syscall_stop s;
        int status, sig = 0;

        TRY(tracee_start(&T, t_exec_true, 0));
        TRY(seize(T.pid));
        TRY(interrupt_stop(T.pid));
        TRY(go(&T));
        for (;;) {
                TRY(resume(T.pid, PTRACE_CONT, sig));
                sig = 0;
                TRY(wait_for(T.pid, &status));
                CHECK(WIFSTOPPED(status), "tracee %s before its exec", describe(status));
                if (is_event(status, PTRACE_EVENT_EXEC))
                        break;
                if ((status >> 16) == 0 && !is_syscall_stop(status))
                        sig = WSTOPSIG(status);
        }
        TRY(next_syscall_stop(T.pid, INJECT_STOP_SYSCALL_EXIT, &s));
        CHECK(s.ret == 0, "execve's exit stop says %ld", s.ret);
        return 0;
}

/* Flow 3 (a version switch): at the exit stop of the tracee's own execve,
 * exec another binary with the argv and envp of the first. */
static int case_exec_exit(void) {
        struct marker_report m;
        struct inject_state st;
        int r;

        TRY(run_to_exec_exit());
        r = inject_execve_at_exec_exit(T.pid, self_exe, 0, &st);
        CHECK(r == 0, "inject_execve_at_exec_exit: %s", strerror(-r));
        TRY(expect_exec(T.pid, PTRACE_SYSCALL));
        TRY(finish_marker(&T, "exec-exit", &m));
        CHECK(strcmp(m.env, "kept") == 0, "environment not passed on: INJECT_TEST=%s", m.env);
        return 0;
}

/* The same, failing: rolled back, the image the tracee exec'd runs from
 * its entry point (/bin/true exits 0). */
static int case_exec_exit_rollback(void) {
        struct inject_syscall_stop s;
        struct inject_state st;
        int r, status;

        TRY(run_to_exec_exit());
        r = inject_execve_at_exec_exit(T.pid, BAD_PATH, 0, &st);
        CHECK(r == 0, "inject_execve_at_exec_exit: %s", strerror(-r));
        TRY(next_syscall_stop(T.pid, INJECT_STOP_SYSCALL_ENTRY, &s));
        CHECK(s.nr == ARCH_NR_EXECVE, "expected execve entry, got %ld", s.nr);
        TRY(next_syscall_stop(T.pid, INJECT_STOP_SYSCALL_EXIT, &s));
        CHECK(s.ret == -ENOENT, "execve returned %ld, expected -ENOENT", s.ret);
        r = inject_rollback(T.pid, &st);
        CHECK(r == 0, "inject_rollback: %s", strerror(-r));
        TRY(resume(T.pid, PTRACE_CONT, 0));
        TRY(wait_for(T.pid, &status));
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "/bin/true after the rollback: %s",
              describe(status));
        T.pid = -1;
        return 0;
}

/* Not at an exec's exit stop: refused, nothing changed. */
static int case_exec_exit_refused(void) {
        struct inject_state st;
        struct regs before, after;
        int r;

        TRY(tracee_start(&T, t_pause, 0));
        TRY(seize(T.pid));
        TRY(interrupt_stop(T.pid));
        TRY(go(&T));
        TRY(run_to_entry(T.pid, NR_BLOCK, NULL));
        CHECK(regs_get(T.pid, &before) == 0, "regs_get");
        r = inject_execve_at_exec_exit(T.pid, self_exe, 0, &st);
        CHECK(r == -EINVAL, "at a syscall entry: %d", r);
        CHECK(regs_get(T.pid, &after) == 0, "regs_get");
        CHECK(memcmp(&before, &after, sizeof(before)) == 0, "registers changed by a refused call");
        TRY(resume(T.pid, PTRACE_CONT, 0));
        return prove_alive("exec-exit-refused");
}

/* inject_execve_at_stop at a syscall-entry-stop defers to the entry path. */
static int case_stop_at_entry(void) {
        struct inject_state st;

        TRY(tracee_start(&T, t_pause, 0));
        TRY(seize(T.pid));
        TRY(interrupt_stop(T.pid));
        TRY(go(&T));
        TRY(run_to_entry(T.pid, NR_BLOCK, NULL));
        TRY(inject_stop(T.pid, "stop-at-entry", NULL, 0, &st));
        CHECK(st.via == INJECT_VIA_SYSCALL_ENTRY, "via %d", st.via);
        TRY(expect_exec(T.pid, PTRACE_SYSCALL));
        return finish_marker(&T, "stop-at-entry", NULL);
}

/* Errors leave the tracee untouched. */
static int case_errors_untouched(void) {
        struct inject_state st;
        struct regs before, after;
        char big[INJECT_BLOB_MAX + 16];
        char *argv[] = { big, NULL };
        int r;

        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = 0;
        TRY(tracee_start(&T, t_spin, 0));
        TRY(seize(T.pid));
        TRY(wait_spinning());
        TRY(interrupt_stop(T.pid));
        CHECK(regs_get(T.pid, &before) == 0, "regs_get");
        r = inject_execve_at_stop(T.pid, self_exe, argv, NULL, 0, &st);
        CHECK(r == -E2BIG, "oversized argv: %d", r);
        r = inject_execve_at_syscall_entry(T.pid, self_exe, NULL, NULL, 0, &st);
        CHECK(r == -EINVAL, "entry injection at a non-entry stop: %d", r);
        r = inject_execve_at_stop(T.pid, NULL, NULL, NULL, 0, &st);
        CHECK(r == -EINVAL, "NULL path: %d", r);
        CHECK(regs_get(T.pid, &after) == 0, "regs_get");
        CHECK(memcmp(&before, &after, sizeof(before)) == 0, "registers changed by a failed call");
        TRY(resume(T.pid, PTRACE_CONT, 0));
        TRY(wait_spinning());
        return prove_alive("errors");
}

struct test_case {
        const char *name;
        int (*fn)(void);
};

static const struct test_case cases[] = {
        { "pause: PTRACE_INTERRUPT in pause(), inject at stop", case_pause },
        { "spin: user-space loop, syscall insn found (vdso)", case_spin },
        { "spin: syscall insn written with POKETEXT", case_spin_poketext },
        { "spin: PEEKDATA/POKEDATA instead of process_vm_*", case_spin_peekpoke },
        { "waitid(P_ALL) with a child (freeze), children kept", case_waitid },
        { "nanosleep: -ERESTART_RESTARTBLOCK, inject at stop", case_nanosleep },
        { "signal-delivery-stop inside pause(), signal suppressed", case_signal_stop },
        { "crash: raise(SIGSEGV), handler exit_group -> rewrite at entry", case_crash_exit },
        { "crash: raise(SIGSEGV), handler pause() -> rewrite at entry", case_crash_pause },
        { "crash: raise(SIGSEGV), handler waitid(P_ALL) -> rewrite at entry", case_crash_waitid },
        { "crash: raise(SIGSEGV), inject at the signal-delivery-stop", case_crash_at_signal_stop },
        { "fault: NULL store, handler exit_group -> rewrite at entry", case_fault_exit },
        { "fault: NULL store, inject at the signal-delivery-stop", case_fault_at_signal_stop },
        { "stack overflow: sp in the guard gap", case_stack_overflow },
        { "wild sp: nothing below sp, fallback mapping", case_wild_sp },
        { "failure at entry: -ENOENT reported, tracee survives", case_fail_entry },
        { "failure at entry + rollback: original syscall re-run", case_fail_entry_rollback },
        { "rollback at the entry stop cancels the execve", case_cancel_at_entry },
        { "failure at stop (spin, poked text) + rollback", case_fail_stop_spin },
        { "failure at stop (in pause) + rollback restarts pause", case_fail_stop_pause },
        { "failure at stop (in nanosleep) + rollback restarts the sleep", case_fail_stop_restartblock },
        { "threads: second thread untraced, killed by exec", case_threads },
        { "threads: both traced, tracer reaps the killed thread", case_threads_both_traced },
        { "guard topology: child seizes its parent", case_guard_topology },
        { "inject_execve_at_stop at an entry stop defers", case_stop_at_entry },
        { "exec exit stop: another binary, same argv and envp", case_exec_exit },
        { "exec exit stop: failure + rollback runs the exec'd image", case_exec_exit_rollback },
        { "exec exit stop: refused elsewhere, tracee untouched", case_exec_exit_refused },
        { "errors leave the tracee untouched", case_errors_untouched },
};

int main(int argc, char **argv) {
        struct sigaction sa = { .sa_handler = on_alarm }; /* no SA_RESTART */
        unsigned passed = 0, failed = 0, n = sizeof(cases) / sizeof(cases[0]);
        ssize_t len;

        if (argc >= 3 && strcmp(argv[1], "--marker") == 0)
                return marker_main(argv[2]);

        setvbuf(stdout, NULL, _IOLBF, 0);
        len = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);
        if (len <= 0) {
                perror("readlink /proc/self/exe");
                return 2;
        }
        self_exe[len] = 0;

        counter = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (counter == MAP_FAILED) {
                perror("mmap");
                return 2;
        }
        sigemptyset(&sa.sa_mask);
        sigaction(SIGALRM, &sa, NULL);
        signal(SIGPIPE, SIG_IGN);
        /* orphaned grandchildren come back to us to be reaped */
        prctl(PR_SET_CHILD_SUBREAPER, 1);

        printf("1..%u\n", n);
        for (unsigned i = 0; i < n; i++) {
                int r;

                why[0] = 0;
                timed_out = 0;
                alarm(CASE_TIMEOUT);
                r = cases[i].fn();
                alarm(0);
                tracee_cleanup(&T);
                if (r == 0) {
                        printf("ok %u - %s\n", i + 1, cases[i].name);
                        passed++;
                } else {
                        printf("not ok %u - %s\n# %s\n", i + 1, cases[i].name, why);
                        failed++;
                }
        }
        while (waitpid(-1, NULL, __WALL) > 0)
                ;
        printf("%u passed, %u failed\n", passed, failed);
        return failed ? 1 : 0;
}
