/* Run a command; while it runs and afterwards, sample the zombie children
 * of PID 1 (of our PID namespace) until there are none. Prints:
 *   total_ms peak_zombies left_zombies
 * Usage: zwatch TIMEOUT_MS CMD ARGS... */
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int zombies_of_pid1(void) {
        DIR *d = opendir("/proc");
        struct dirent *de;
        char path[64], buf[512];
        int n = 0;

        if (!d)
                return -1;
        while ((de = readdir(d))) {
                if (!isdigit((unsigned char) de->d_name[0]))
                        continue;
                snprintf(path, sizeof path, "/proc/%s/stat", de->d_name);
                FILE *f = fopen(path, "re");
                if (!f)
                        continue;
                size_t l = fread(buf, 1, sizeof buf - 1, f);
                fclose(f);
                buf[l] = '\0';
                char *p = strrchr(buf, ')'), st;
                int ppid;
                if (p && sscanf(p + 1, " %c %d", &st, &ppid) == 2 && st == 'Z' && ppid == 1)
                        n++;
        }
        closedir(d);
        return n;
}

int main(int argc, char **argv) {
        long timeout, start, end;
        int peak = 0, z = 0, st;
        pid_t child;

        if (argc < 3)
                return 2;
        timeout = atol(argv[1]);
        start = now_ms();
        child = fork();
        if (child == 0) {
                execvp(argv[2], argv + 2);
                _exit(127);
        }
        for (;;) {
                int done = waitpid(child, &st, WNOHANG) == child;
                z = zombies_of_pid1();
                if (z > peak)
                        peak = z;
                if (done)
                        break;
                usleep(20000);
        }
        while ((z = zombies_of_pid1()) > 0 && now_ms() - start < timeout)
                usleep(1000);
        end = now_ms();
        printf("%ld %d %d\n", end - start, peak, z);
        return 0;
}
