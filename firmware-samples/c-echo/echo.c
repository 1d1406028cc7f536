/*
 * c-echo: an ampsoc remote core written in plain C11 (libc and Linux system calls only), from
 * docs/independent-remote.md and the virtio specification alone. It does not use ampsoc's Swift runtime.
 *
 * What it does: attaches to the shared-memory segment the host prepared (AMPSOC_* environment), validates
 * the control block, waits for the host's virtio driver to set DRIVER_OK on its rpmsg vdev, announces the
 * channel "rpmsg-c-echo" through the name service, and sends every message it receives back to its sender.
 * It writes trace lines to trace buffer 0, beats the heartbeat, obeys an orderly stop (exit status 0), and
 * reports anything invalid the host wrote (control block, vring addresses, ring indices, descriptor
 * addresses and lengths) as a fatal crash through the control block, then halts.
 *
 * Both doorbell kinds are supported: futex (FUTEX_WAIT/FUTEX_WAKE on the mailbox's shared sequence word)
 * and eventfd (descriptors inherited from the host, named in AMPSOC_DOORBELL).
 *
 * Build: clang -std=c11 -O2 -Wall -Werror -o ampsoc-fw-c-echo echo.c
 * Define C_ECHO_OFFER_EVENT_IDX=0 to leave VIRTIO_RING_F_EVENT_IDX out of the offered features.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------------------------------------------ */
/* The resource table, in the ELF section the host reads it from (docs/independent-remote.md section 4).   */
/* Same shape and addresses as firmware-samples/Common/SampleResourceTable.swift (200 bytes):              */
/*   carveout "ipcdata" da 0x9F080000 len 0x10000; trace "trace0" da 0x9F000000 len 0x8000;               */
/*   rpmsg vdev with two vrings (da ANY, align 4096, num 256).                                             */
/* ------------------------------------------------------------------------------------------------------ */

#ifndef C_ECHO_OFFER_EVENT_IDX
#define C_ECHO_OFFER_EVENT_IDX 1
#endif

enum {
    FEATURE_RPMSG_NS = 0,          /* VIRTIO_RPMSG_F_NS */
    FEATURE_RING_EVENT_IDX = 29,   /* VIRTIO_RING_F_EVENT_IDX */
};

#define C_ECHO_DFEATURES ((1u << FEATURE_RPMSG_NS) | (C_ECHO_OFFER_EVENT_IDX ? (1u << FEATURE_RING_EVENT_IDX) : 0u))
#define ADDRESS_ANY 0xFFFFFFFFu

struct rsc_vring {
    uint32_t da, align, num, notifyid, pa;
};

struct c_echo_resource_table {
    uint32_t ver, num, reserved[2];
    uint32_t offset[3];
    struct {
        uint32_t type, da, pa, len, flags, reserved;
        char name[32];
    } carveout;
    struct {
        uint32_t type, da, len, reserved;
        char name[32];
    } trace;
    struct {
        uint32_t type, id, notifyid, dfeatures, gfeatures, config_len;
        uint8_t status, num_of_vrings, reserved[2];
        struct rsc_vring vring[2];
    } vdev;
};

_Static_assert(sizeof(struct c_echo_resource_table) == 200, "resource table is 200 bytes");
_Static_assert(offsetof(struct c_echo_resource_table, carveout) == 28, "carveout entry at 28");
_Static_assert(offsetof(struct c_echo_resource_table, trace) == 84, "trace entry at 84");
_Static_assert(offsetof(struct c_echo_resource_table, vdev) == 132, "vdev entry at 132");
_Static_assert(offsetof(struct c_echo_resource_table, vdev.vring) == 160, "vring 0 at 160");

__attribute__((section(".resource_table"), used))
static const struct c_echo_resource_table resource_table = {
    .ver = 1,
    .num = 3,
    .offset = {28, 84, 132},
    .carveout = {.type = 0, .da = 0x9F080000u, .pa = ADDRESS_ANY, .len = 0x10000, .name = "ipcdata"},
    .trace = {.type = 2, .da = 0x9F000000u, .len = 0x8000, .name = "trace0"},
    .vdev = {
        .type = 3, .id = 7, .notifyid = 0, .dfeatures = C_ECHO_DFEATURES, .gfeatures = 0, .config_len = 0,
        .status = 0, .num_of_vrings = 2,
        .vring = {
            {.da = ADDRESS_ANY, .align = 4096, .num = 256, .notifyid = 0, .pa = 0},
            {.da = ADDRESS_ANY, .align = 4096, .num = 256, .notifyid = 1, .pa = 0},
        },
    },
};

/* ------------------------------------------------------------------------------------------------------ */
/* Wire constants (docs/independent-remote.md sections 2-8).                                               */
/* ------------------------------------------------------------------------------------------------------ */

enum {
    CB_SIZE = 4096,
    CB_MAGIC = 0x000,
    CB_LAYOUT_VERSION = 0x008,
    CB_CONTROL_SIZE = 0x00C,
    CB_SEGMENT_SIZE = 0x010,
    CB_GENERATION = 0x018,
    CB_HOST_STATE = 0x01C,
    CB_REMOTE_STATE = 0x020,
    CB_STOP_REQUEST = 0x024,
    CB_HEARTBEAT = 0x028,
    CB_HEARTBEAT_PERIOD = 0x030,
    CB_CRASH_REPORTED = 0x034,
    CB_CRASH_TYPE = 0x038,
    CB_FAULT_ADDRESS = 0x040,
    CB_CRASH_MESSAGE = 0x048,
    CB_CRASH_MESSAGE_SIZE = 184,
    CB_TABLE_OFFSET = 0x100,
    CB_TABLE_SIZE = 0x104,
    CB_TABLE_DA = 0x108,
    CB_REGION_COUNT = 0x10C,
    CB_HOST_PID = 0x110,
    CB_BUFFER_SIZE = 0x114,
    CB_MAILBOX_TO_REMOTE = 0x180,
    CB_MAILBOX_TO_HOST = 0x1C0,
    CB_REGIONS = 0x200,
    CB_REGION_RECORD = 32,
    CB_MAX_REGIONS = 32,
    CB_TRACES = 0x600,
    CB_TRACE_RECORD = 16,
    CB_MAX_TRACES = 8,

    MAILBOX_PENDING = 0,
    MAILBOX_SEQUENCE = 4,
    MAILBOX_SLEEPERS = 8,
    CONTROL_NOTIFY_ID = 31, /* bit 31: "look at the control block" */

    HOST_STATE_RELEASED = 2,
    REMOTE_STATE_ATTACHED = 1,
    REMOTE_STATE_RUNNING = 2,
    REMOTE_STATE_STOPPED = 3,
    REMOTE_STATE_HALTED = 4,
    CRASH_MMU_FAULT = 0,
    CRASH_FATAL_ERROR = 2,

    RSC_TRACE = 2,
    RSC_VDEV = 3,
    VIRTIO_ID_RPMSG = 7,
    VDEV_GFEATURES = 12,
    VDEV_STATUS = 20,
    VDEV_NUM_OF_VRINGS = 21,
    VDEV_VRINGS = 24,
    VDEV_VRING_SIZE = 20,

    STATUS_DRIVER_OK = 4,
    STATUS_FAILED = 128,

    DESC_F_NEXT = 1,
    DESC_F_WRITE = 2,
    DESC_F_INDIRECT = 4,
    AVAIL_F_NO_INTERRUPT = 1,
    MAX_VRING_NUM = 32768,

    RPMSG_HEADER_SIZE = 16,
    RPMSG_NS_ADDRESS = 53,
    RPMSG_NS_SIZE = 40,
    DEFAULT_BUFFER_SIZE = 512,
    ECHO_ADDRESS = 0x400,

    EXIT_ENVIRONMENT = 78,
    EXIT_SYSTEM = 71,
    EXIT_SHARED_MEMORY = 76,
};

static const char channel_name[] = "rpmsg-c-echo";

/* ------------------------------------------------------------------------------------------------------ */
/* State                                                                                                    */
/* ------------------------------------------------------------------------------------------------------ */

struct region {
    uint32_t da, pa, size, kind;
    uint64_t segment_offset;
    char name[9];
};

/* A buffer taken from a vring's available ring. */
struct buffer {
    uint16_t head;
    uint32_t len;
    bool writable;
    uint8_t *data;
};

/* The device side of one split virtqueue. */
struct virtqueue {
    const char *name;
    uint8_t *ring;
    uint32_t da;
    uint32_t num;
    uint32_t notifyid;
    bool event_idx;
    size_t avail_offset, used_offset, size;
    uint16_t last_avail;     /* next avail index to take */
    uint16_t observed_avail; /* avail.idx as last validated */
    uint16_t next_used;      /* used index the next return writes */
    uint16_t published_used; /* used.idx as of the last publish */
    uint8_t *held;           /* per head: taken and not yet returned */
};

static struct {
    const char *rproc;
    pid_t host_pid;
    uint32_t generation;
    bool eventfd_kind;
    int fd_to_remote, fd_to_host;
    uint8_t *base;
    size_t map_size;
    uint64_t segment_size;
    struct region regions[CB_MAX_REGIONS];
    uint32_t region_count;
    uint32_t heartbeat_ms;
    uint32_t buffer_size;
    size_t vdev_payload; /* segment offset of the rpmsg vdev's payload in the loaded table */
    uint32_t dfeatures;
    uint8_t *trace_buffer;
    uint32_t trace_len;
    uint64_t trace_total;
    bool attached;
} g;

static struct {
    bool ready;
    uint32_t features;
    struct virtqueue tx; /* vring0: to the host */
    struct virtqueue rx; /* vring1: from the host */
    bool have_tx;
    struct buffer tx_buffer;
    bool announce_pending;
    uint64_t received, echoed, dropped, malformed, sessions;
} rp;

/* ------------------------------------------------------------------------------------------------------ */
/* Small helpers                                                                                            */
/* ------------------------------------------------------------------------------------------------------ */

static uint64_t monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static struct timespec timespec_from_ns(int64_t ns) {
    struct timespec ts = {.tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000};
    return ts;
}

static uint16_t rd16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static void wr16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void wr32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

static _Atomic uint32_t *cb_word(size_t offset) { return (_Atomic uint32_t *)(void *)(g.base + offset); }
static _Atomic uint64_t *cb_dword(size_t offset) { return (_Atomic uint64_t *)(void *)(g.base + offset); }
static _Atomic uint16_t *atomic16(uint8_t *p) { return (_Atomic uint16_t *)(void *)p; }

static _Noreturn void attach_failure(int status, const char *subject, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "c-echo %s: cannot attach: %s: ", g.rproc ? g.rproc : "?", subject);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(status);
}

/* The segment pointer to `len` bytes at device address `da`, or NULL unless they lie inside one region. */
static uint8_t *translate(uint64_t da, uint64_t len) {
    if (da > UINT32_MAX) return NULL;
    for (uint32_t i = 0; i < g.region_count; i++) {
        const struct region *r = &g.regions[i];
        if (da < r->da) continue;
        uint64_t start = da - r->da;
        if (start + len <= r->size) return g.base + r->segment_offset + start;
    }
    return NULL;
}

/* ------------------------------------------------------------------------------------------------------ */
/* Trace buffer 0 (section 8)                                                                               */
/* ------------------------------------------------------------------------------------------------------ */

static void trace_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void trace_line(const char *fmt, ...) {
    char text[640];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(text, sizeof text - 1, fmt, ap);
    va_end(ap);
    if (n < 0 || g.trace_buffer == NULL) return;
    size_t length = (size_t)n < sizeof text - 2 ? (size_t)n : sizeof text - 2;
    text[length++] = '\n';
    size_t skip = length > g.trace_len ? length - g.trace_len : 0;
    size_t position = (size_t)((g.trace_total + skip) % g.trace_len);
    for (size_t i = skip; i < length;) {
        size_t chunk = g.trace_len - position;
        if (chunk > length - i) chunk = length - i;
        memcpy(g.trace_buffer + position, text + i, chunk);
        i += chunk;
        position = (position + chunk) % g.trace_len;
    }
    g.trace_total += length;
    atomic_store_explicit(cb_dword(CB_TRACES + 8), g.trace_total, memory_order_release);
}

/* ------------------------------------------------------------------------------------------------------ */
/* Doorbells (section 7)                                                                                    */
/* ------------------------------------------------------------------------------------------------------ */

static _Atomic uint32_t *mailbox_word(size_t mailbox, size_t field) { return cb_word(mailbox + field); }

static uint32_t take_pending(size_t mailbox) {
    _Atomic uint32_t *pending = mailbox_word(mailbox, MAILBOX_PENDING);
    if (atomic_load_explicit(pending, memory_order_relaxed) == 0) return 0;
    return atomic_exchange_explicit(pending, 0, memory_order_acq_rel);
}

/* Rings the host: sets the notify id's bit, bumps the sequence, wakes the host if it sleeps. */
static void ring_host(uint32_t notifyid) {
    uint32_t bit = notifyid < 31 ? 1u << notifyid : 1u << 31;
    atomic_fetch_or_explicit(mailbox_word(CB_MAILBOX_TO_HOST, MAILBOX_PENDING), bit, memory_order_release);
    _Atomic uint32_t *sequence = mailbox_word(CB_MAILBOX_TO_HOST, MAILBOX_SEQUENCE);
    atomic_fetch_add_explicit(sequence, 1, memory_order_release);
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(mailbox_word(CB_MAILBOX_TO_HOST, MAILBOX_SLEEPERS), memory_order_relaxed) == 0) return;
    if (g.eventfd_kind) {
        uint64_t one = 1;
        while (write(g.fd_to_host, &one, sizeof one) < 0 && errno == EINTR) {}
        /* EAGAIN: the counter is full, which already means "signalled". */
    } else {
        syscall(SYS_futex, (void *)sequence, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
    }
}

/* Waits on the to-remote mailbox for at most `timeout_ns`; returns the pending bits (0: timeout or spurious). */
static uint32_t wait_doorbell(int64_t timeout_ns) {
    uint32_t bits = take_pending(CB_MAILBOX_TO_REMOTE);
    if (bits != 0) return bits;
    if (timeout_ns <= 0) return 0;
    _Atomic uint32_t *sleepers = mailbox_word(CB_MAILBOX_TO_REMOTE, MAILBOX_SLEEPERS);
    _Atomic uint32_t *sequence = mailbox_word(CB_MAILBOX_TO_REMOTE, MAILBOX_SEQUENCE);
    atomic_fetch_add_explicit(sleepers, 1, memory_order_seq_cst);
    uint32_t observed = atomic_load_explicit(sequence, memory_order_acquire);
    atomic_thread_fence(memory_order_seq_cst);
    bits = take_pending(CB_MAILBOX_TO_REMOTE);
    if (bits == 0) {
        struct timespec ts = timespec_from_ns(timeout_ns);
        if (g.eventfd_kind) {
            struct pollfd pfd = {.fd = g.fd_to_remote, .events = POLLIN};
            if (ppoll(&pfd, 1, &ts, NULL) > 0) {
                uint64_t count;
                while (read(g.fd_to_remote, &count, sizeof count) < 0 && errno == EINTR) {}
            }
        } else {
            /* Shared (not PRIVATE) futex: the word lives in a mapping shared with the host process. */
            syscall(SYS_futex, (void *)sequence, FUTEX_WAIT, observed, &ts, NULL, 0);
        }
        bits = take_pending(CB_MAILBOX_TO_REMOTE);
    }
    atomic_fetch_sub_explicit(sleepers, 1, memory_order_seq_cst);
    if (bits == 0) bits = take_pending(CB_MAILBOX_TO_REMOTE);
    return bits;
}

/* ------------------------------------------------------------------------------------------------------ */
/* States, crash reports, stop (sections 2, 10, 11)                                                         */
/* ------------------------------------------------------------------------------------------------------ */

static void set_remote_state(uint32_t state) {
    atomic_store_explicit(cb_word(CB_REMOTE_STATE), state, memory_order_release);
}

static _Noreturn void halt_forever(void) {
    for (;;) pause();
}

/* Writes a complete crash record (crashReported last, with release order), traces it and halts. */
static _Noreturn void report_crash(uint32_t type, uint64_t fault_address, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static _Noreturn void report_crash(uint32_t type, uint64_t fault_address, const char *fmt, ...) {
    char message[CB_CRASH_MESSAGE_SIZE];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    size_t length = n < 0 ? 0 : ((size_t)n < sizeof message ? (size_t)n : sizeof message - 1);
    /* A cut message must not end inside a UTF-8 sequence. */
    if ((size_t)n >= sizeof message) {
        size_t cut = length;
        while (cut > 0 && ((unsigned char)message[cut] & 0xC0) == 0x80) cut--;
        length = cut;
    }
    message[length] = '\0';
    const char *name = type == CRASH_MMU_FAULT ? "mmufault" : "fatal error";
    fprintf(stderr, "c-echo %s: crash (%s): %s\n", g.rproc, name, message);
    trace_line("crash (%s): %s", name, message);
    atomic_store_explicit(cb_word(CB_CRASH_TYPE), type, memory_order_relaxed);
    atomic_store_explicit(cb_dword(CB_FAULT_ADDRESS), fault_address, memory_order_relaxed);
    memset(g.base + CB_CRASH_MESSAGE, 0, CB_CRASH_MESSAGE_SIZE);
    memcpy(g.base + CB_CRASH_MESSAGE, message, length);
    atomic_store_explicit(cb_word(CB_CRASH_REPORTED), 1, memory_order_release);
    set_remote_state(REMOTE_STATE_HALTED);
    ring_host(CONTROL_NOTIFY_ID);
    halt_forever();
}

#define VIOLATION(...) report_crash(CRASH_FATAL_ERROR, 0, "rpmsg: host protocol violation: " __VA_ARGS__)

static bool stop_requested(void) {
    return atomic_load_explicit(cb_word(CB_STOP_REQUEST), memory_order_acquire) != 0;
}

static _Noreturn void stop_in_order(void) {
    trace_line("c-echo: stopping: received %llu, echoed %llu, dropped %llu, malformed %llu",
               (unsigned long long)rp.received, (unsigned long long)rp.echoed, (unsigned long long)rp.dropped,
               (unsigned long long)rp.malformed);
    set_remote_state(REMOTE_STATE_STOPPED);
    ring_host(CONTROL_NOTIFY_ID);
    exit(0);
}

/* ------------------------------------------------------------------------------------------------------ */
/* Attaching (sections 1-4)                                                                                 */
/* ------------------------------------------------------------------------------------------------------ */

static const char *required_env(const char *key) {
    const char *value = getenv(key);
    if (value == NULL) attach_failure(EXIT_ENVIRONMENT, key, "is not set (the ampsoc host starts this firmware)");
    if (*value == '\0') attach_failure(EXIT_ENVIRONMENT, key, "is empty");
    return value;
}

static bool parse_decimal(const char *text, uint64_t max, uint64_t *out) {
    if (*text == '\0') return false;
    uint64_t value = 0;
    for (const char *p = text; *p; p++) {
        if (*p < '0' || *p > '9') return false;
        value = value * 10 + (uint64_t)(*p - '0');
        if (value > max) return false;
    }
    *out = value;
    return true;
}

static void check_eventfd(int fd) {
    char link[64], target[256];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n <= 0) attach_failure(EXIT_ENVIRONMENT, "AMPSOC_DOORBELL", "descriptor %d is not open", fd);
    target[n] = '\0';
    if (strcmp(target, "anon_inode:[eventfd]") != 0)
        attach_failure(EXIT_ENVIRONMENT, "AMPSOC_DOORBELL", "descriptor %d is not an eventfd (%s)", fd, target);
    fcntl(fd, F_SETFD, FD_CLOEXEC);
}

static void read_environment(void) {
    g.rproc = required_env("AMPSOC_RPROC");
    const char *segment = required_env("AMPSOC_SEGMENT");
    if (segment[0] != '/' || segment[1] == '\0' || strchr(segment + 1, '/') != NULL)
        attach_failure(EXIT_ENVIRONMENT, "AMPSOC_SEGMENT", "\"%s\" is not a shared-memory name", segment);
    uint64_t number;
    if (!parse_decimal(required_env("AMPSOC_HOST_PID"), INT_MAX, &number) || number == 0)
        attach_failure(EXIT_ENVIRONMENT, "AMPSOC_HOST_PID", "is not a process id");
    g.host_pid = (pid_t)number;
    if (!parse_decimal(required_env("AMPSOC_GENERATION"), UINT32_MAX, &number))
        attach_failure(EXIT_ENVIRONMENT, "AMPSOC_GENERATION", "is not a decimal u32");
    g.generation = (uint32_t)number;
    const char *doorbell = required_env("AMPSOC_DOORBELL");
    if (strcmp(doorbell, "futex") == 0) {
        g.eventfd_kind = false;
    } else if (strncmp(doorbell, "eventfd:", 8) == 0) {
        char copy[64];
        snprintf(copy, sizeof copy, "%s", doorbell + 8);
        char *comma = strchr(copy, ',');
        uint64_t to_remote, to_host;
        if (comma == NULL) attach_failure(EXIT_ENVIRONMENT, "AMPSOC_DOORBELL", "\"%s\" lacks a comma", doorbell);
        *comma = '\0';
        if (!parse_decimal(copy, INT_MAX, &to_remote) || !parse_decimal(comma + 1, INT_MAX, &to_host) ||
            to_remote == to_host)
            attach_failure(EXIT_ENVIRONMENT, "AMPSOC_DOORBELL", "\"%s\" needs two different descriptors", doorbell);
        g.eventfd_kind = true;
        g.fd_to_remote = (int)to_remote;
        g.fd_to_host = (int)to_host;
    } else {
        attach_failure(EXIT_ENVIRONMENT, "AMPSOC_DOORBELL", "\"%s\" is neither futex nor eventfd:<fd>,<fd>", doorbell);
    }

    /* Die with the host; close the race with a host that died before the prctl. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) attach_failure(EXIT_SYSTEM, "prctl(PR_SET_PDEATHSIG)", "%s", strerror(errno));
    if (getppid() != g.host_pid) {
        kill(getpid(), SIGKILL);
        _exit(128 + SIGKILL);
    }
    if (g.eventfd_kind) {
        check_eventfd(g.fd_to_remote);
        check_eventfd(g.fd_to_host);
    }

    int fd = shm_open(segment, O_RDWR, 0);
    if (fd < 0) attach_failure(EXIT_SYSTEM, segment, "shm_open: %s", strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) attach_failure(EXIT_SYSTEM, segment, "fstat: %s", strerror(errno));
    if (st.st_size < CB_SIZE) attach_failure(EXIT_SHARED_MEMORY, segment, "is %lld bytes, smaller than the control block", (long long)st.st_size);
    void *base = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (base == MAP_FAILED) attach_failure(EXIT_SYSTEM, segment, "mmap: %s", strerror(errno));
    close(fd);
    g.base = base;
    g.map_size = (size_t)st.st_size;
}

static void read_regions(void) {
    g.region_count = rd32(g.base + CB_REGION_COUNT);
    if (g.region_count > CB_MAX_REGIONS)
        attach_failure(EXIT_SHARED_MEMORY, "control block regionCount", "is %u, at most 32", g.region_count);
    for (uint32_t i = 0; i < g.region_count; i++) {
        const uint8_t *record = g.base + CB_REGIONS + CB_REGION_RECORD * i;
        struct region *r = &g.regions[i];
        r->da = rd32(record);
        r->pa = rd32(record + 4);
        r->size = rd32(record + 8);
        r->kind = rd32(record + 12);
        r->segment_offset = rd64(record + 16);
        memcpy(r->name, record + 24, 8);
        r->name[8] = '\0';
        if (r->size == 0) attach_failure(EXIT_SHARED_MEMORY, "control block regions[]", "region %u has size 0", i);
        if ((uint64_t)r->da + r->size > (1ull << 32))
            attach_failure(EXIT_SHARED_MEMORY, "control block regions[]", "region %u passes 4 GiB", i);
        if (r->segment_offset < CB_SIZE || r->segment_offset > g.segment_size ||
            r->size > g.segment_size - r->segment_offset)
            attach_failure(EXIT_SHARED_MEMORY, "control block regions[]", "region %u is not inside the segment", i);
    }
}

/* Finds the first rpmsg vdev with two vrings, and checks every entry offset of the loaded table. */
static void read_table(void) {
    uint32_t offset = rd32(g.base + CB_TABLE_OFFSET);
    uint32_t size = rd32(g.base + CB_TABLE_SIZE);
    uint32_t da = rd32(g.base + CB_TABLE_DA);
    if (offset == 0) attach_failure(EXIT_SHARED_MEMORY, "control block tableOffset", "is 0: no loaded resource table");
    if (offset < CB_SIZE || (uint64_t)offset + size > g.segment_size)
        attach_failure(EXIT_SHARED_MEMORY, "control block tableOffset", "%u size %u is not inside the segment", offset, size);
    uint8_t *table = translate(da, size);
    if (table != g.base + offset)
        attach_failure(EXIT_SHARED_MEMORY, "control block tableDeviceAddress", "0x%08x does not translate to tableOffset %u", da, offset);
    if (size < 16 || rd32(table) != 1 || rd32(table + 8) != 0 || rd32(table + 12) != 0)
        attach_failure(EXIT_SHARED_MEMORY, "loaded resource table", "bad header (size %u)", size);
    uint32_t count = rd32(table + 4);
    if (count > (size - 16) / 4) attach_failure(EXIT_SHARED_MEMORY, "loaded resource table num", "%u entries do not fit", count);
    bool found = false;
    for (uint32_t i = 0; i < count; i++) {
        uint32_t entry = rd32(table + 16 + 4 * i);
        if (entry > size || size - entry < 4)
            attach_failure(EXIT_SHARED_MEMORY, "loaded resource table offset[]", "entry %u at %u does not fit", i, entry);
        uint32_t type = rd32(table + entry);
        size_t payload_room = size - entry - 4;
        if (type != RSC_VDEV || found) continue;
        if (payload_room < VDEV_VRINGS)
            attach_failure(EXIT_SHARED_MEMORY, "loaded resource table vdev", "entry %u is truncated", i);
        const uint8_t *payload = table + entry + 4;
        uint8_t vrings = payload[VDEV_NUM_OF_VRINGS];
        if (rd32(payload) != VIRTIO_ID_RPMSG || vrings < 2) continue;
        if (payload_room < (size_t)VDEV_VRINGS + (size_t)VDEV_VRING_SIZE * vrings)
            attach_failure(EXIT_SHARED_MEMORY, "loaded resource table vdev", "entry %u: vrings do not fit", i);
        g.vdev_payload = (size_t)(payload - g.base);
        g.dfeatures = rd32(payload + 8);
        found = true;
    }
    if (!found) attach_failure(EXIT_SHARED_MEMORY, "loaded resource table", "has no rpmsg vdev with two vrings");
}

static void read_trace(void) {
    for (uint32_t i = 0; i < CB_MAX_TRACES; i++) {
        const uint8_t *record = g.base + CB_TRACES + CB_TRACE_RECORD * i;
        uint32_t da = rd32(record), len = rd32(record + 4);
        if (len == 0) continue;
        uint8_t *buffer = translate(da, len);
        if (buffer == NULL)
            attach_failure(EXIT_SHARED_MEMORY, "control block traces[]", "trace %u (da 0x%08x len %u) is outside every region", i, da, len);
        if (i == 0) {
            g.trace_buffer = buffer;
            g.trace_len = len;
            g.trace_total = atomic_load_explicit(cb_dword(CB_TRACES + 8), memory_order_relaxed);
        }
    }
}

static void attach(void) {
    read_environment();
    if (memcmp(g.base + CB_MAGIC, "AMPSOC01", 8) != 0) attach_failure(EXIT_SHARED_MEMORY, "control block magic", "is not \"AMPSOC01\"");
    if (rd32(g.base + CB_LAYOUT_VERSION) != 1) attach_failure(EXIT_SHARED_MEMORY, "control block layoutVersion", "is not 1");
    if (rd32(g.base + CB_CONTROL_SIZE) != CB_SIZE) attach_failure(EXIT_SHARED_MEMORY, "control block controlSize", "is not 4096");
    g.segment_size = rd64(g.base + CB_SEGMENT_SIZE);
    if (g.segment_size < CB_SIZE || g.segment_size > g.map_size)
        attach_failure(EXIT_SHARED_MEMORY, "control block segmentSize", "%llu does not fit the %zu-byte mapping",
                       (unsigned long long)g.segment_size, g.map_size);
    if (rd32(g.base + CB_GENERATION) != g.generation)
        attach_failure(EXIT_SHARED_MEMORY, "control block generation", "is %u, AMPSOC_GENERATION is %u",
                       rd32(g.base + CB_GENERATION), g.generation);
    if (rd32(g.base + CB_HOST_PID) != (uint32_t)g.host_pid)
        attach_failure(EXIT_SHARED_MEMORY, "control block hostPid", "is %u, AMPSOC_HOST_PID is %d", rd32(g.base + CB_HOST_PID), (int)g.host_pid);
    read_regions();
    read_table();
    read_trace();
    g.heartbeat_ms = rd32(g.base + CB_HEARTBEAT_PERIOD);
    g.buffer_size = rd32(g.base + CB_BUFFER_SIZE);
    if (g.buffer_size == 0) g.buffer_size = DEFAULT_BUFFER_SIZE;
    if (g.buffer_size <= RPMSG_HEADER_SIZE + RPMSG_NS_SIZE || g.buffer_size > 65536)
        attach_failure(EXIT_SHARED_MEMORY, "control block bufferSize", "%u is not usable", g.buffer_size);
    g.attached = true;
    atomic_fetch_add_explicit(cb_dword(CB_HEARTBEAT), 1, memory_order_relaxed);
    set_remote_state(REMOTE_STATE_ATTACHED);
}

/* ------------------------------------------------------------------------------------------------------ */
/* Virtqueue, device side (section 5)                                                                       */
/* ------------------------------------------------------------------------------------------------------ */

static bool is_power_of_two(uint32_t value) { return value != 0 && (value & (value - 1)) == 0; }

/* Validates one vring the host published at DRIVER_OK and prepares the device side over it. */
static void setup_queue(struct virtqueue *q, const char *name, const uint8_t *vring, bool event_idx) {
    uint32_t da = rd32(vring), align = rd32(vring + 4), num = rd32(vring + 8), notifyid = rd32(vring + 12);
    if (!is_power_of_two(num) || num > MAX_VRING_NUM) VIOLATION("%s: num %u is not a power of two up to 32768", name, num);
    if (!is_power_of_two(align)) VIOLATION("%s: align %u is not a power of two", name, align);
    size_t avail_end = (size_t)16 * num + 6 + (size_t)2 * num;
    size_t used_offset = (avail_end + align - 1) & ~((size_t)align - 1);
    if (used_offset % 4 != 0) VIOLATION("%s: align %u leaves the used ring unaligned", name, align);
    size_t size = used_offset + 6 + (size_t)8 * num;
    uint8_t *ring = translate(da, size);
    if (ring == NULL) VIOLATION("%s: da 0x%08x: the %zu-byte ring is outside every memory region", name, da, size);
    if (((uintptr_t)ring & 15) != 0) VIOLATION("%s: da 0x%08x is not 16-byte aligned in its region", name, da);
    q->name = name;
    q->ring = ring;
    q->da = da;
    q->num = num;
    q->notifyid = notifyid;
    q->event_idx = event_idx;
    q->avail_offset = (size_t)16 * num;
    q->used_offset = used_offset;
    q->size = size;
    q->last_avail = q->observed_avail = q->next_used = q->published_used = 0;
    q->held = calloc(num, 1);
    if (q->held == NULL) report_crash(CRASH_FATAL_ERROR, 0, "c-echo: out of memory for %s", name);
}

static void drop_queue(struct virtqueue *q) {
    free(q->held);
    q->held = NULL;
    q->ring = NULL;
}

/* Takes the next available buffer; false when none. Every value read from the ring is checked. */
static bool take_available(struct virtqueue *q, struct buffer *out) {
    if (q->last_avail == q->observed_avail) {
        uint16_t current = atomic_load_explicit(atomic16(q->ring + q->avail_offset + 2), memory_order_acquire);
        uint16_t fresh = (uint16_t)(current - q->last_avail);
        if (fresh == 0) return false;
        uint16_t unreturned = (uint16_t)(q->last_avail - q->published_used);
        if (fresh > q->num - unreturned)
            VIOLATION("%s: avail.idx = %u jumps %u entries past %u, at most %u can be outstanding", q->name, current, fresh,
                      q->last_avail, q->num - unreturned);
        q->observed_avail = current;
    }
    uint32_t slot = q->last_avail & (q->num - 1);
    uint16_t head = atomic_load_explicit(atomic16(q->ring + q->avail_offset + 4 + 2 * slot), memory_order_relaxed);
    if (head >= q->num) VIOLATION("%s: avail.ring[%u] = %u is not below num %u", q->name, slot, head, q->num);
    if (q->held[head]) VIOLATION("%s: avail.ring[%u] = %u: descriptor %u is already held by the device", q->name, slot, head, head);
    const uint8_t *desc = q->ring + (size_t)16 * head;
    uint64_t addr = rd64(desc);
    uint32_t len = rd32(desc + 8);
    uint16_t flags = rd16(desc + 12);
    if (flags & DESC_F_INDIRECT) VIOLATION("%s: desc[%u].flags = 0x%x: INDIRECT was not negotiated", q->name, head, flags);
    if (flags & DESC_F_NEXT) VIOLATION("%s: desc[%u].flags = 0x%x: rpmsg buffers are single descriptors", q->name, head, flags);
    uint8_t *data = translate(addr, len);
    if (data == NULL)
        VIOLATION("%s: desc[%u].addr = 0x%llx: %u bytes there are outside every memory region", q->name, head,
                  (unsigned long long)addr, len);
    q->held[head] = 1;
    q->last_avail++;
    out->head = head;
    out->len = len;
    out->writable = (flags & DESC_F_WRITE) != 0;
    out->data = data;
    return true;
}

/* Returns a held buffer: writes the used element; visible to the host after publish_used. */
static void add_used(struct virtqueue *q, uint16_t head, uint32_t len) {
    uint8_t *element = q->ring + q->used_offset + 4 + (size_t)8 * (q->next_used & (q->num - 1));
    wr32(element, head);
    wr32(element + 4, len);
    q->held[head] = 0;
    q->next_used++;
}

/* Publishes the returned buffers and rings the host if it asked for an interrupt. */
static void publish_used(struct virtqueue *q) {
    uint16_t old = q->published_used, new = q->next_used;
    if (old == new) return;
    atomic_store_explicit(atomic16(q->ring + q->used_offset + 2), new, memory_order_release);
    atomic_thread_fence(memory_order_seq_cst);
    q->published_used = new;
    bool interrupt;
    if (q->event_idx) {
        uint16_t used_event = atomic_load_explicit(atomic16(q->ring + q->avail_offset + 4 + 2 * q->num), memory_order_relaxed);
        interrupt = (uint16_t)(new - used_event - 1) < (uint16_t)(new - old);
    } else {
        uint16_t avail_flags = atomic_load_explicit(atomic16(q->ring + q->avail_offset), memory_order_relaxed);
        interrupt = (avail_flags & AVAIL_F_NO_INTERRUPT) == 0;
    }
    if (interrupt) ring_host(q->notifyid);
}

/* Asks the host to kick when it adds a buffer; true when buffers arrived meanwhile (take them instead). */
static bool enable_notifications(struct virtqueue *q) {
    if (q->event_idx) {
        atomic_store_explicit(atomic16(q->ring + q->used_offset + 4 + (size_t)8 * q->num), q->last_avail, memory_order_relaxed);
    } else {
        atomic_store_explicit(atomic16(q->ring + q->used_offset), 0, memory_order_relaxed);
    }
    atomic_thread_fence(memory_order_seq_cst);
    return atomic_load_explicit(atomic16(q->ring + q->avail_offset + 2), memory_order_acquire) != q->last_avail;
}

/* ------------------------------------------------------------------------------------------------------ */
/* rpmsg (section 6)                                                                                        */
/* ------------------------------------------------------------------------------------------------------ */

static uint8_t vdev_status(void) {
    return atomic_load_explicit((_Atomic uint8_t *)(void *)(g.base + g.vdev_payload + VDEV_STATUS), memory_order_acquire);
}

static void become_ready(uint8_t status) {
    const uint8_t *payload = g.base + g.vdev_payload;
    uint32_t features = rd32(payload + VDEV_GFEATURES);
    if (features & ~g.dfeatures)
        VIOLATION("gfeatures 0x%08x accept features never offered (dfeatures 0x%08x)", features, g.dfeatures);
    bool event_idx = (features >> FEATURE_RING_EVENT_IDX) & 1;
    setup_queue(&rp.tx, "vring0", payload + VDEV_VRINGS, event_idx);
    setup_queue(&rp.rx, "vring1", payload + VDEV_VRINGS + VDEV_VRING_SIZE, event_idx);
    uint64_t tx_start = rp.tx.da, tx_end = tx_start + rp.tx.size, rx_start = rp.rx.da, rx_end = rx_start + rp.rx.size;
    if (tx_start < rx_end && rx_start < tx_end)
        VIOLATION("vring0 (da 0x%08x) and vring1 (da 0x%08x) overlap", rp.tx.da, rp.rx.da);
    rp.ready = true;
    rp.features = features;
    rp.have_tx = false;
    rp.sessions++;
    rp.announce_pending = (features >> FEATURE_RPMSG_NS) & 1;
    trace_line("c-echo: host driver ready: status 0x%02x, features 0x%08x, vring0 da 0x%08x num %u notifyid %u, "
               "vring1 da 0x%08x num %u notifyid %u, buffer size %u",
               status, features, rp.tx.da, rp.tx.num, rp.tx.notifyid, rp.rx.da, rp.rx.num, rp.rx.notifyid, g.buffer_size);
    if (!rp.announce_pending) trace_line("c-echo: the host did not accept the name service; \"%s\" is not announced", channel_name);
}

static void device_reset(uint8_t status) {
    trace_line("c-echo: the host reset the virtio device (status 0x%02x): rings dropped, waiting for DRIVER_OK", status);
    drop_queue(&rp.tx);
    drop_queue(&rp.rx);
    rp.ready = false;
    rp.have_tx = false;
    rp.announce_pending = false;
}

static void check_status(void) {
    uint8_t status = vdev_status();
    bool usable = (status & STATUS_DRIVER_OK) && !(status & STATUS_FAILED);
    if (usable && !rp.ready) become_ready(status);
    else if (!usable && rp.ready) device_reset(status);
}

/* Writes a message into the held transmit buffer and returns it used (16 + len bytes). */
static void transmit(uint32_t src, uint32_t dst, const uint8_t *payload, uint16_t len) {
    uint8_t *data = rp.tx_buffer.data;
    wr32(data, src);
    wr32(data + 4, dst);
    wr32(data + 8, 0);
    wr16(data + 12, len);
    wr16(data + 14, 0);
    memmove(data + RPMSG_HEADER_SIZE, payload, len);
    add_used(&rp.tx, rp.tx_buffer.head, RPMSG_HEADER_SIZE + (uint32_t)len);
    rp.have_tx = false;
}

static void send_announcement(void) {
    uint8_t message[RPMSG_NS_SIZE] = {0};
    memcpy(message, channel_name, sizeof channel_name - 1);
    wr32(message + 32, ECHO_ADDRESS);
    wr32(message + 36, 0); /* CREATE */
    transmit(ECHO_ADDRESS, RPMSG_NS_ADDRESS, message, RPMSG_NS_SIZE);
    rp.announce_pending = false;
    trace_line("c-echo: announced \"%s\" (create, address 0x%x)", channel_name, ECHO_ADDRESS);
}

static void note_drop(uint64_t count, const char *what, uint32_t src, uint32_t dst, uint32_t len) {
    if (count <= 10 || count % 1000 == 0)
        trace_line("c-echo: %s: %u bytes from 0x%x to 0x%x (%llu so far)", what, len, src, dst, (unsigned long long)count);
}

/* Handles one buffer from vring1 (a transmit buffer is held) and returns it used with len 0. */
static void handle_message(const struct buffer *in) {
    if (in->writable) VIOLATION("vring1: desc[%u] is device-writable; the host's messages must be read-only", in->head);
    if (in->len < RPMSG_HEADER_SIZE) {
        rp.malformed++;
        note_drop(rp.malformed, "malformed message (shorter than the header)", 0, 0, in->len);
    } else {
        uint8_t header[RPMSG_HEADER_SIZE];
        memcpy(header, in->data, sizeof header); /* read the host's header once */
        uint32_t src = rd32(header), dst = rd32(header + 4);
        uint16_t len = rd16(header + 12);
        uint32_t capacity = (rp.tx_buffer.len < g.buffer_size ? rp.tx_buffer.len : g.buffer_size) - RPMSG_HEADER_SIZE;
        if (len > in->len - RPMSG_HEADER_SIZE) {
            rp.malformed++;
            note_drop(rp.malformed, "malformed message (len past its buffer)", src, dst, len);
        } else if (dst == RPMSG_NS_ADDRESS) {
            rp.received++;
            trace_line("c-echo: name-service message from the host (%u bytes) ignored", len);
        } else if (dst != ECHO_ADDRESS || src == ADDRESS_ANY) {
            rp.received++;
            rp.dropped++;
            note_drop(rp.dropped, "dropped a message without recipient", src, dst, len);
        } else if (len > capacity) {
            rp.received++;
            rp.dropped++;
            note_drop(rp.dropped, "dropped a message too large to echo", src, dst, len);
        } else {
            rp.received++;
            transmit(ECHO_ADDRESS, src, in->data + RPMSG_HEADER_SIZE, len);
            rp.echoed++;
        }
    }
    add_used(&rp.rx, in->head, 0);
}

/* Announces, then echoes every message on vring1 while vring0 has buffers; publishes both rings. */
static void service(void) {
    unsigned since_publish = 0;
    for (;;) {
        if (!rp.have_tx) {
            if (take_available(&rp.tx, &rp.tx_buffer)) {
                if (!rp.tx_buffer.writable || rp.tx_buffer.len < RPMSG_HEADER_SIZE + RPMSG_NS_SIZE)
                    VIOLATION("vring0: desc[%u] (%u bytes) is not a device-writable buffer of at least %d bytes",
                              rp.tx_buffer.head, rp.tx_buffer.len, RPMSG_HEADER_SIZE + RPMSG_NS_SIZE);
                rp.have_tx = true;
            } else if (enable_notifications(&rp.tx)) {
                continue;
            } else {
                break; /* the host kicks vring0 when it posts receive buffers again */
            }
        }
        if (rp.announce_pending) {
            send_announcement();
            continue;
        }
        struct buffer in;
        if (!take_available(&rp.rx, &in)) {
            if (enable_notifications(&rp.rx)) continue;
            break;
        }
        handle_message(&in);
        if (++since_publish == 32) {
            publish_used(&rp.rx);
            publish_used(&rp.tx);
            since_publish = 0;
        }
    }
    publish_used(&rp.rx);
    publish_used(&rp.tx);
}

/* ------------------------------------------------------------------------------------------------------ */
/* Main loop                                                                                                */
/* ------------------------------------------------------------------------------------------------------ */

static uint64_t next_beat;

static void beat_if_due(uint64_t now) {
    if (g.heartbeat_ms == 0 || now < next_beat) return;
    atomic_fetch_add_explicit(cb_dword(CB_HEARTBEAT), 1, memory_order_relaxed);
    uint64_t period = (uint64_t)g.heartbeat_ms * 1000000u;
    next_beat += period;
    if (next_beat <= now) next_beat = now + period;
}

/* How long to sleep: until the next heartbeat, and only a few ms while waiting for DRIVER_OK. */
static int64_t sleep_budget(uint64_t now) {
    int64_t budget = g.heartbeat_ms ? (int64_t)(next_beat - now) : 1000000000;
    if (!rp.ready && budget > 5000000) budget = 5000000;
    return budget;
}

int main(void) {
    attach();
    uint64_t now = monotonic_ns();
    next_beat = now + (uint64_t)g.heartbeat_ms * 1000000u;
    while (atomic_load_explicit(cb_word(CB_HOST_STATE), memory_order_acquire) != HOST_STATE_RELEASED) {
        if (stop_requested()) stop_in_order();
        now = monotonic_ns();
        beat_if_due(now);
        wait_doorbell(sleep_budget(now) < 10000000 ? sleep_budget(now) : 10000000);
    }
    set_remote_state(REMOTE_STATE_RUNNING);
    trace_line("c-echo: boot on %s (generation %u), doorbell %s, heartbeat %u ms, offering features 0x%08x",
               g.rproc, g.generation, g.eventfd_kind ? "eventfd" : "futex", g.heartbeat_ms, g.dfeatures);
    for (;;) {
        if (stop_requested()) stop_in_order();
        now = monotonic_ns();
        beat_if_due(now);
        check_status();
        if (rp.ready) service();
        wait_doorbell(sleep_budget(monotonic_ns()));
    }
}
