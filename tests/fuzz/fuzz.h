/* Shared by the libFuzzer harnesses (tests/fuzz/fuzz_*.c, docs/testing.md
 * "Fuzzing"). Each harness feeds one parser of untrusted bytes and checks,
 * beyond "no sanitizer report", the contract its header promises. */
#pragma once
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken contract is a crash: libFuzzer saves the input. */
#define FUZZ_ASSERT(cond)                                                                       \
        do {                                                                                    \
                if (!(cond)) {                                                                  \
                        fprintf(stderr, "%s:%d: contract broken: %s\n", __FILE__, __LINE__, #cond); \
                        abort();                                                                \
                }                                                                               \
        } while (0)

/* The input in a heap block of exactly size bytes (plus a NUL when asked),
 * so AddressSanitizer sees a read one byte past what the parser was given.
 * libFuzzer's own buffer may be larger than size. */
static inline char *fuzz_copy(const uint8_t *data, size_t size, int nul_terminate) {
        char *p = malloc(size + (nul_terminate ? 1 : 0)); /* ASan: malloc(0) is not NULL */
        if (!p)
                abort();
        if (size > 0)
                memcpy(p, data, size);
        if (nul_terminate)
                p[size] = '\0';
        return p;
}

/* s is a C string of fewer than n bytes. */
static inline int fuzz_terminated(const char *s, size_t n) {
        return memchr(s, '\0', n) != NULL;
}
