/* Stand-in for an initramfs's /init, for t_initrd.sh: the steps of
 * initramfs-tools' /init and klibc's run-init that matter to initshim.
 * Mounts /proc (as /init does), deletes the initramfs's files as run-init
 * does (so a takeover must exec the guard's open fd of initshim), switches
 * root to /newroot and execs $INITRD_NEXT (the real root's init) with our
 * argv. Static: the "initramfs" holds nothing else. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

static void die(const char *what) {
        fprintf(stderr, "initrd-init: %s: %s\n", what, strerror(errno));
        /* PID 1 of a test namespace: exiting ends the test, loudly. */
        exit(1);
}

int main(int argc, char **argv, char **envp) {
        const char *next = getenv("INITRD_NEXT");
        (void) argc;

        if (!next)
                next = "/sbin/init";
        if (mkdir("/proc", 0555) < 0 && errno != EEXIST)
                die("mkdir /proc");
        if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
                die("mount /proc");
        /* initramfs-tools moves its /proc to the real root; ours has one. */
        if (umount2("/proc", MNT_DETACH) < 0)
                die("umount /proc");
        if (unlink("/sbin/initshim") < 0)
                die("unlink /sbin/initshim");
        if (chdir("/newroot") < 0 || chroot(".") < 0 || chdir("/") < 0)
                die("switch root to /newroot");
        fprintf(stderr, "initrd-init: switched root, executing %s\n", next);
        argv[0] = (char *) next;
        execve(next, argv, envp);
        die(next);
}
