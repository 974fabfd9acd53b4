/* A binary that never answers --version: for preflight timeouts. */
#include <unistd.h>

int main(void) {
        for (;;)
                pause();
}
