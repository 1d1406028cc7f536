// C shim for what Swift on Linux cannot reach through Glibc's module map: futex and other raw syscalls,
// eventfd/epoll/signalfd/pidfd headers, CPU relax and memory fences usable on shared memory.
#ifndef AMPSHIM_H
#define AMPSHIM_H

#include <stdint.h>
#include <stddef.h>

/// Full memory fence (sequentially consistent), for cross-process shared memory.
static inline void amp_fence_seq_cst(void) { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
/// Acquire fence.
static inline void amp_fence_acquire(void) { __atomic_thread_fence(__ATOMIC_ACQUIRE); }
/// Release fence.
static inline void amp_fence_release(void) { __atomic_thread_fence(__ATOMIC_RELEASE); }

/// Hint to the CPU that the caller is spinning.
static inline void amp_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

#endif
