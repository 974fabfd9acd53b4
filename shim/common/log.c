#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int kmsg_fd = -1;
static bool to_console;
static bool to_stderr;
static char log_ident[32] = "initshim";

void log_open(const char *ident) {
        if (ident)
                (void) copy_string(log_ident, sizeof log_ident, ident);
        /* INITSHIM_LOG=stderr mirrors everything to stderr: for tests and
         * debugging in a namespace, where kmsg is the host's. */
        const char *e = getenv("INITSHIM_LOG");
        if (e && strcmp(e, "stderr") == 0)
                to_stderr = true;
        if (kmsg_fd >= 0)
                return;
        kmsg_fd = open("/dev/kmsg", O_WRONLY | O_NOCTTY | O_CLOEXEC);
}

void log_set_console(bool on) {
        to_console = on;
}

void log_set_stderr(bool on) {
        to_stderr = on;
}

void log_close(void) {
        if (kmsg_fd >= 0)
                (void) close(kmsg_fd);
        kmsg_fd = -1;
}

/* n plus what snprintf reported, never past the end of a buffer of size
 * bytes that must keep room for the final newline. */
static size_t add_clamped(size_t n, int wrote, size_t size) {
        if (wrote > 0)
                n += (size_t) wrote;
        return n < size - 1 ? n : size - 1;
}

size_t log_format_line(char *buf, size_t size, int prio, const char *ident, int pid, int err, const char *fmt,
                       va_list ap) {
        /* Room for ": strerror" is kept by truncating the message first. */
        size_t msg_max = size > 64 ? size - 64 : size / 2;
        size_t n = add_clamped(0, snprintf(buf, size, "<%d>%s[%d]: ", LOG_DAEMON | prio, ident, pid), size);

        if (n < msg_max)
                n = add_clamped(n, vsnprintf(buf + n, msg_max - n, fmt, ap), msg_max);
        if (err != 0)
                n = add_clamped(n, snprintf(buf + n, size - n, ": %s", strerror(err)), size);
        buf[n++] = '\n';
        return n;
}

static void emit(int prio, const char *fmt, va_list ap, int err, bool console) {
        /* Static buffer: no allocation, and one write per line keeps kmsg
         * records whole. Saves errno so logging never disturbs callers. */
        static char line[1024];
        int saved = errno;
        size_t n = log_format_line(line, sizeof line, prio, log_ident, (int) getpid(), err, fmt, ap);

        if (kmsg_fd >= 0)
                (void) !write(kmsg_fd, line, n);
        /* The "<N>" prefix is for kmsg only; humans get the rest. */
        const char *human = strchr(line, '>') + 1;
        size_t hl = n - (size_t) (human - line);
        if (to_console || console) {
                int fd = open("/dev/console", O_WRONLY | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
                if (fd >= 0) {
                        (void) !write(fd, human, hl);
                        close(fd);
                }
        }
        if (to_stderr || kmsg_fd < 0)
                (void) !write(STDERR_FILENO, human, hl);
        errno = saved;
}

void log_msg(int prio, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        emit(prio, fmt, ap, 0, false);
        va_end(ap);
}

int log_errno(int err, int prio, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        emit(prio, fmt, ap, err < 0 ? -err : err, false);
        va_end(ap);
        return err;
}

void log_console(int prio, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        emit(prio, fmt, ap, 0, true);
        va_end(ap);
}

int log_console_errno(int err, int prio, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        emit(prio, fmt, ap, err < 0 ? -err : err, true);
        va_end(ap);
        return err;
}
