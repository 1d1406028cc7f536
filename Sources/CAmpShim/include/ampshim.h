// C shim for what Swift on Linux cannot reach through Glibc's module map: raw syscalls made through the
// variadic syscall() (futex, pidfd), the eventfd/epoll/signalfd/prctl/sched calls whose headers the module map
// lacks, wait-status decoding macros, the `environ` global, and CPU relax and memory fences for shared memory.
//
// Conventions: every function that can fail returns a negative errno value (-EINTR, -ETIMEDOUT, ...) instead of
// setting errno, so Swift never reads a thread-local errno after an intervening call. This header includes only
// <stdint.h>/<stddef.h>; the constants below repeat the kernel ABI values and ampshim.c checks each against the
// system headers at compile time.
#ifndef AMPSHIM_H
#define AMPSHIM_H

#include <stdint.h>
#include <stddef.h>

// MARK: - Fences and spinning (inlined into Swift)

/// Full memory fence (sequentially consistent), for cross-process shared memory.
static inline void amp_fence_seq_cst(void) { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
/// Acquire fence.
static inline void amp_fence_acquire(void) { __atomic_thread_fence(__ATOMIC_ACQUIRE); }
/// Release fence.
static inline void amp_fence_release(void) { __atomic_thread_fence(__ATOMIC_RELEASE); }

/// Hint to the CPU that the line holding `address` will be read soon (a no-op where unsupported).
static inline void amp_prefetch(const void *address) { __builtin_prefetch(address, 0, 3); }

/// Hint to the CPU that the caller is spinning.
static inline void amp_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
/// accept4(fd, NULL, NULL, flags) (glibc declares it only under _GNU_SOURCE). Returns the descriptor or -errno.
int amp_accept4(int fd, int flags);

/// posix_openpt(flags) (declared only under _XOPEN_SOURCE). Returns the master descriptor or -errno.
int amp_posix_openpt(int flags);

/// grantpt(fd). Returns 0 or -errno.
int amp_grantpt(int fd);

/// unlockpt(fd). Returns 0 or -errno.
int amp_unlockpt(int fd);

/// ptsname_r(fd, buffer, length): the slave device's path. Returns 0 or -errno.
int amp_ptsname(int fd, char *buffer, size_t length);

#endif
}

// MARK: - Constants (kernel ABI values, checked against the system headers in ampshim.c)

enum {
    AMP_EFD_NONBLOCK = 04000,      // EFD_NONBLOCK == O_NONBLOCK
    AMP_EFD_CLOEXEC = 02000000,    // EFD_CLOEXEC == O_CLOEXEC
    AMP_SFD_NONBLOCK = 04000,      // SFD_NONBLOCK
    AMP_SFD_CLOEXEC = 02000000,    // SFD_CLOEXEC
    AMP_EPOLL_CTL_ADD = 1,
    AMP_EPOLL_CTL_DEL = 2,
    AMP_EPOLL_CTL_MOD = 3,
    AMP_EPOLLIN = 0x001,
    AMP_EPOLLPRI = 0x002,
    AMP_EPOLLOUT = 0x004,
    AMP_EPOLLERR = 0x008,
    AMP_EPOLLHUP = 0x010,
    AMP_EPOLLRDHUP = 0x2000,
    AMP_EPOLLET = (int)0x80000000u,
};

// MARK: - futex (syscall(SYS_futex), shared, not FUTEX_PRIVATE: works across processes on a MAP_SHARED word)

/// FUTEX_WAIT on the 32-bit word at `word`: sleeps while `*word == expected`.
/// `timeout_ns` < 0 waits without a timeout; otherwise it is a relative timeout on CLOCK_MONOTONIC.
/// Returns 0 when woken, -EAGAIN if the word already differed, -ETIMEDOUT, -EINTR, or another -errno.
int amp_futex_wait(void *word, uint32_t expected, int64_t timeout_ns);

/// FUTEX_WAKE: wakes up to `count` waiters on `word`. Returns the number woken or -errno.
int amp_futex_wake(void *word, int32_t count);

// MARK: - eventfd, epoll, signalfd

/// eventfd(initval, flags). Returns the descriptor or -errno.
int amp_eventfd_create(uint32_t initial_value, int32_t flags);

/// epoll_create1(EPOLL_CLOEXEC). Returns the descriptor or -errno.
int amp_epoll_create(void);

/// epoll_ctl(epfd, op, fd, {events, data.fd = fd}). Returns 0 or -errno.
int amp_epoll_ctl(int32_t epfd, int32_t op, int32_t fd, uint32_t events);

/// epoll_wait(epfd, ..., max, timeout_ms), unpacking each ready event into `fds[i]` and `events[i]`
/// (the kernel's struct epoll_event is packed on x86-64, so it never crosses into Swift).
/// `timeout_ms` < 0 waits without a timeout. Returns the number of ready events or -errno.
int amp_epoll_wait(int32_t epfd, int32_t *fds, uint32_t *events, int32_t max, int32_t timeout_ms);

/// pthread_sigmask(SIG_BLOCK or SIG_UNBLOCK) for the `count` signal numbers in `signals`, in the calling thread.
/// Returns 0 or -errno.
int amp_thread_sigmask(int32_t block, const int32_t *signals, int32_t count);

/// signalfd(-1, mask of `signals`, flags). Returns the descriptor or -errno.
int amp_signalfd_create(const int32_t *signals, int32_t count, int32_t flags);

/// Reads one struct signalfd_siginfo from `fd` and stores its ssi_signo in `*signal_number`.
/// Returns 1 on success, -EAGAIN when nothing is pending (non-blocking fd), -EIO on a short read, or -errno.
int amp_signalfd_read(int32_t fd, uint32_t *signal_number);

/// ppoll on a single descriptor with a relative timeout in nanoseconds (`timeout_ns` < 0: no timeout).
/// Returns the revents bits (> 0), 0 on timeout, or -errno.
int amp_poll_one(int32_t fd, int16_t events, int64_t timeout_ns);

/// pipe2(fds, O_CLOEXEC): fds[0] is the read end, fds[1] the write end. Returns 0 or -errno.
int amp_pipe_cloexec(int32_t fds[2]);

// MARK: - Processes

/// pidfd_open(pid, flags) through syscall(). The descriptor is close-on-exec. Returns it or -errno.
int amp_pidfd_open(int32_t pid, uint32_t flags);

/// pidfd_send_signal(pidfd, signal, NULL, 0) through syscall(). Returns 0 or -errno.
int amp_pidfd_send_signal(int32_t pidfd, int32_t signal);

/// prctl(PR_SET_PDEATHSIG, signal): the calling thread's process gets `signal` when its parent thread dies.
/// Returns 0 or -errno.
int amp_set_parent_death_signal(int32_t signal);

/// Decodes a waitpid() status: sets `*kind` to 1 (exited, `*value` = exit code), 2 (killed by a signal,
/// `*value` = signal number), or 0 (stopped/continued or unknown; `*value` = 0).
void amp_decode_wait_status(int32_t status, int32_t *kind, int32_t *value);

/// The process environment (`environ`), for posix_spawn; Swift 6 cannot read mutable C globals directly.
char *const *amp_environ(void);

/// Number of CPUs the calling thread may run on (sched_getaffinity + CPU_COUNT), or -errno.
int amp_usable_cpu_count(void);

/// accept4(fd, NULL, NULL, flags) (glibc declares it only under _GNU_SOURCE). Returns the descriptor or -errno.
int amp_accept4(int fd, int flags);

/// posix_openpt(flags) (declared only under _XOPEN_SOURCE). Returns the master descriptor or -errno.
int amp_posix_openpt(int flags);

/// grantpt(fd). Returns 0 or -errno.
int amp_grantpt(int fd);

/// unlockpt(fd). Returns 0 or -errno.
int amp_unlockpt(int fd);

/// ptsname_r(fd, buffer, length): the slave device's path. Returns 0 or -errno.
int amp_ptsname(int fd, char *buffer, size_t length);

#endif
