/* The floor for reaping: the least a PID 1 can do. SIGCHLD blocked and
 * waited for synchronously, then waitpid(WNOHANG) until nothing is left. */
#include <signal.h>
#include <stddef.h>
#include <sys/wait.h>

int main(void) {
        sigset_t chld;

        sigemptyset(&chld);
        sigaddset(&chld, SIGCHLD);
        sigprocmask(SIG_BLOCK, &chld, NULL);
        for (;;) {
                while (waitpid(-1, NULL, WNOHANG) > 0)
                        ;
                sigwaitinfo(&chld, NULL);
        }
}
