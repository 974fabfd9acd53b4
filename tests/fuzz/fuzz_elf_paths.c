/* The loader and RUNPATH of a candidate systemd or systemd-executor
 * (shim/versions/bundle.c bundle_elf_paths()): program headers, the
 * dynamic section and the string table of whatever ELF the configuration or
 * `initshimctl exec PATH` names, read through a callback that here reads the
 * input, held in a block of exactly its size. */
#include "fuzz.h"
#include "versions/bundle.h"

#include <errno.h>

struct input {
        const char *p;
        size_t n;
};

static int mem_read(void *ctx, void *buf, size_t n, uint64_t off) {
        const struct input *in = ctx;
        if (off > in->n || n > in->n - off)
                return -EIO;
        memcpy(buf, in->p + off, n);
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct input in = { fuzz_copy(data, size, 0), size };
        struct elf_paths p;
        char why[160], tiny[4];
        int r = bundle_elf_paths(mem_read, &in, &p, why, sizeof why);

        FUZZ_ASSERT(r == 0 || r == -ENOEXEC || r == -EIO);
        FUZZ_ASSERT(fuzz_terminated(p.interp, sizeof p.interp) && fuzz_terminated(p.runpath, sizeof p.runpath));
        if (r == 0) {
                FUZZ_ASSERT(why[0] == '\0');
                /* What was found is in the input, NUL included. */
                if (p.interp[0])
                        FUZZ_ASSERT(memmem(in.p, size, p.interp, strlen(p.interp) + 1) != NULL);
                if (p.runpath[0])
                        FUZZ_ASSERT(memmem(in.p, size, p.runpath, strlen(p.runpath) + 1) != NULL);
        } else {
                FUZZ_ASSERT(fuzz_terminated(why, sizeof why) && why[0] != '\0');
        }
        /* The reason is cut, never overflowed, in a small buffer. */
        FUZZ_ASSERT(bundle_elf_paths(mem_read, &in, &p, tiny, sizeof tiny) == r);
        FUZZ_ASSERT(fuzz_terminated(tiny, sizeof tiny));
        free((void *) in.p);
        return 0;
}
