// Implementations of the ampshim.h wrappers. Each one is a thin call of one Linux interface that Swift cannot
// reach (variadic syscall(), headers missing from Glibc's module map, function-like macros, mutable globals),
// returning -errno on failure. Retrying on EINTR is the Swift system layer's job, not this file's.
#define _GNU_SOURCE
#include "ampshim.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <linux/futex.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

_Static_assert(AMP_EFD_NONBLOCK == EFD_NONBLOCK, "EFD_NONBLOCK");
_Static_assert(AMP_EFD_CLOEXEC == EFD_CLOEXEC, "EFD_CLOEXEC");
_Static_assert(AMP_SFD_NONBLOCK == SFD_NONBLOCK, "SFD_NONBLOCK");
_Static_assert(AMP_SFD_CLOEXEC == SFD_CLOEXEC, "SFD_CLOEXEC");
_Static_assert(AMP_EPOLL_CTL_ADD == EPOLL_CTL_ADD, "EPOLL_CTL_ADD");
_Static_assert(AMP_EPOLL_CTL_DEL == EPOLL_CTL_DEL, "EPOLL_CTL_DEL");
_Static_assert(AMP_EPOLL_CTL_MOD == EPOLL_CTL_MOD, "EPOLL_CTL_MOD");
_Static_assert(AMP_EPOLLIN == EPOLLIN, "EPOLLIN");
_Static_assert(AMP_EPOLLPRI == EPOLLPRI, "EPOLLPRI");
_Static_assert(AMP_EPOLLOUT == EPOLLOUT, "EPOLLOUT");
_Static_assert(AMP_EPOLLERR == EPOLLERR, "EPOLLERR");
_Static_assert(AMP_EPOLLHUP == EPOLLHUP, "EPOLLHUP");
_Static_assert(AMP_EPOLLRDHUP == EPOLLRDHUP, "EPOLLRDHUP");
_Static_assert((uint32_t)AMP_EPOLLET == (uint32_t)EPOLLET, "EPOLLET");

static struct timespec amp_timespec_from_ns(int64_t ns) {
    struct timespec ts;
    ts.tv_sec = (time_t)(ns / 1000000000);
    ts.tv_nsec = (long)(ns % 1000000000);
    return ts;
}

int amp_futex_wait(void *word, uint32_t expected, int64_t timeout_ns) {
    struct timespec ts;
    struct timespec *tsp = NULL;
    if (timeout_ns >= 0) {
        ts = amp_timespec_from_ns(timeout_ns);
        tsp = &ts;
    }
    long r = syscall(SYS_futex, word, FUTEX_WAIT, expected, tsp, NULL, 0);
    return r == -1 ? -errno : (int)r;
}

int amp_futex_wake(void *word, int32_t count) {
    long r = syscall(SYS_futex, word, FUTEX_WAKE, count, NULL, NULL, 0);
    return r == -1 ? -errno : (int)r;
}

int amp_eventfd_create(uint32_t initial_value, int32_t flags) {
    int fd = eventfd(initial_value, flags);
    return fd < 0 ? -errno : fd;
}

int amp_epoll_create(void) {
    int fd = epoll_create1(EPOLL_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

int amp_epoll_ctl(int32_t epfd, int32_t op, int32_t fd, uint32_t events) {
    struct epoll_event event = {0};
    event.events = events;
    event.data.fd = fd;
    return epoll_ctl(epfd, op, fd, op == EPOLL_CTL_DEL ? NULL : &event) == 0 ? 0 : -errno;
}

int amp_epoll_wait(int32_t epfd, int32_t *fds, uint32_t *events, int32_t max, int32_t timeout_ms) {
    enum { batch = 64 };
    struct epoll_event ready[batch];
    if (max <= 0) return -EINVAL;
    int n = epoll_wait(epfd, ready, max < batch ? max : batch, timeout_ms);
    if (n < 0) return -errno;
    for (int i = 0; i < n; i++) {
        fds[i] = ready[i].data.fd;
        events[i] = ready[i].events;
    }
    return n;
}

static int amp_fill_sigset(sigset_t *set, const int32_t *signals, int32_t count) {
    sigemptyset(set);
    for (int32_t i = 0; i < count; i++) {
        if (sigaddset(set, signals[i]) != 0) return -errno;
    }
    return 0;
}

int amp_thread_sigmask(int32_t block, const int32_t *signals, int32_t count) {
    sigset_t set;
    int r = amp_fill_sigset(&set, signals, count);
    if (r != 0) return r;
    r = pthread_sigmask(block ? SIG_BLOCK : SIG_UNBLOCK, &set, NULL);
    return r == 0 ? 0 : -r;
}

int amp_signalfd_create(const int32_t *signals, int32_t count, int32_t flags) {
    sigset_t set;
    int r = amp_fill_sigset(&set, signals, count);
    if (r != 0) return r;
    int fd = signalfd(-1, &set, flags);
    return fd < 0 ? -errno : fd;
}

int amp_signalfd_read(int32_t fd, uint32_t *signal_number) {
    struct signalfd_siginfo info;
    ssize_t got = read(fd, &info, sizeof info);
    if (got < 0) return -errno;
    if ((size_t)got != sizeof info) return -EIO;
    *signal_number = info.ssi_signo;
    return 1;
}

int amp_poll_one(int32_t fd, int16_t events, int64_t timeout_ns) {
    struct pollfd entry = { .fd = fd, .events = events, .revents = 0 };
    struct timespec ts;
    struct timespec *tsp = NULL;
    if (timeout_ns >= 0) {
        ts = amp_timespec_from_ns(timeout_ns);
        tsp = &ts;
    }
    int n = ppoll(&entry, 1, tsp, NULL);
    if (n < 0) return -errno;
    return n == 0 ? 0 : (entry.revents == 0 ? 0 : entry.revents);
}

int amp_pipe_cloexec(int32_t fds[2]) {
    int pair[2];
    if (pipe2(pair, O_CLOEXEC) != 0) return -errno;
    fds[0] = pair[0];
    fds[1] = pair[1];
    return 0;
}

int amp_pidfd_open(int32_t pid, uint32_t flags) {
    long r = syscall(SYS_pidfd_open, (pid_t)pid, flags);
    return r < 0 ? -errno : (int)r;
}

int amp_pidfd_send_signal(int32_t pidfd, int32_t signal) {
    long r = syscall(SYS_pidfd_send_signal, pidfd, signal, NULL, 0u);
    return r < 0 ? -errno : 0;
}

int amp_set_parent_death_signal(int32_t signal) {
    return prctl(PR_SET_PDEATHSIG, (unsigned long)signal, 0UL, 0UL, 0UL) == 0 ? 0 : -errno;
}

void amp_decode_wait_status(int32_t status, int32_t *kind, int32_t *value) {
    if (WIFEXITED(status)) {
        *kind = 1;
        *value = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        *kind = 2;
        *value = WTERMSIG(status);
    } else {
        *kind = 0;
        *value = 0;
    }
}

extern char **environ;

char *const *amp_environ(void) { return environ; }

int amp_usable_cpu_count(void) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0) return -errno;
    return CPU_COUNT(&set);
}

int amp_accept4(int fd, int flags) {
    int result = accept4(fd, NULL, NULL, flags);
    return result < 0 ? -errno : result;
}

int amp_posix_openpt(int flags) {
    int result = posix_openpt(flags);
    return result < 0 ? -errno : result;
}

int amp_grantpt(int fd) {
    return grantpt(fd) < 0 ? -errno : 0;
}

int amp_unlockpt(int fd) {
    return unlockpt(fd) < 0 ? -errno : 0;
}

int amp_ptsname(int fd, char *buffer, size_t length) {
    int status = ptsname_r(fd, buffer, length);
    return status == 0 ? 0 : -status;
}
