/* Orphan storm: fork a child that forks N grandchildren (each exits at once)
 * and exits itself, so N zombies land on PID 1 of our PID namespace.
 * Usage: storm N [BURST]. Prints nothing; exits 0 when all were forked. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
        long n = argc > 1 ? atol(argv[1]) : 1000;
        long burst = argc > 2 ? atol(argv[2]) : 1000;
        long done = 0;

        while (done < n) {
                pid_t mid = fork();
                if (mid < 0) {
                        perror("fork");
                        return 1;
                }
                if (mid == 0) {
                        for (long i = 0; i < burst && done + i < n; i++) {
                                pid_t p = fork();
                                if (p == 0)
                                        _exit(0);
                                if (p < 0)
                                        _exit(1);
                        }
                        _exit(0); /* grandchildren become PID 1's */
                }
                int st;
                if (waitpid(mid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
                        return 1;
                done += burst;
        }
        return 0;
}
