/*
 * libferry-uffd.so: preloaded (LD_PRELOAD) into QEMU and ovs-vswitchd by Ferry's agent.
 *
 * A userfaultfd belongs to the memory of the process that creates it, whoever holds the
 * descriptor later. Page-table-level dirty tracking of a guest's RAM must therefore see each
 * writer's own mappings (QEMU's, and DPDK's mappings in ovs-vswitchd), which needs a userfaultfd
 * created inside each writer. This constructor creates one, before the program's main runs, and
 * does nothing else: it is not initialised (no UFFDIO_API) and registers nothing, so the process
 * behaves exactly as without it until the agent takes the descriptor with pidfd_getfd(2) and
 * drives it (UFFDIO_API with WP_ASYNC, UFFDIO_REGISTER on the RAM's mappings, PAGEMAP_SCAN).
 *
 * FERRY_UFFD_FD=N moves the descriptor to number N, where the agent looks for it. The variable is
 * left in the environment: `ip netns exec` runs with this library too, and its exec of the real
 * program closes its descriptor (O_CLOEXEC) and preloads the library again there.
 * A failure is silent by design: the agent finds no userfaultfd and says so.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif

__attribute__((constructor)) static void ferry_uffd_create(void)
{
    int saved = errno;
    /* User-mode-only needs no privilege (vm.unprivileged_userfaultfd=0 allows it), and the tracker
     * runs in async write-protect mode, where the kernel resolves every fault itself. */
    int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
    if (fd >= 0) {
        const char *wanted = getenv("FERRY_UFFD_FD");
        char *end = NULL;
        long target = wanted != NULL ? strtol(wanted, &end, 10) : -1;
        if (end != NULL && *end == '\0' && target > 2 && target < 65536 && target != fd) {
            if (dup3(fd, (int)target, O_CLOEXEC) == (int)target) {
                close(fd);
            }
        }
    }
    errno = saved;
}
