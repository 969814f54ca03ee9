/*
 * Which thread does the kernel's work for a receive that one thread submits to an io_uring and
 * another thread waits for? The question behind "let pool threads submit to the ring themselves"
 * (docs/thread-pool-dispatch.md). A receive on an empty socket arms a poll; when data comes, the
 * kernel queues the rest of the receive (the copy and the CQE) as task work to the task that
 * submitted it, not to the task waiting in io_uring_enter.
 *
 * Three threads, all but the writer on one CPU (as Proactor's benchmarks pin a server):
 *   - the waiter (the ring thread) sleeps in io_uring_enter for one CQE, 50 ms at most;
 *   - the submitter (a pool thread) is woken through a pipe once per iteration, submits a RECV on
 *     an empty socket (not in ring mode), and sleeps in read(2) on the pipe again;
 *   - the writer (main, on the other CPU) writes one byte into the socket's peer and times how
 *     long the waiter takes to get the CQE.
 * Modes:
 *   ring     the waiter submits the receive itself (SINGLE_ISSUER|DEFER_TASKRUN, as Proactor does)
 *   foreign  the submitter submits it; ring without SINGLE_ISSUER, no task-run flags (TWA_SIGNAL)
 *   coop     as foreign, with COOP_TASKRUN (the flag io_uring recommends when one thread
 *            submits and waits)
 * Prints, per iteration: context switches of the submitter and of the waiter (from
 * /proc/self/task/TID/status; the submitter's own wake-up by the pipe counts 1), CQEs that came in
 * time, and the median time from the write to the CQE.
 *
 * Build: bash eng/peers/build.sh
 * Run:   eng/peers/bin/foreign_submit ring|foreign|coop [ITERATIONS=2000]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/io_uring.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int ring_fd;
static unsigned *sq_tail, *sq_mask, *sq_array, *cq_head, *cq_tail, *cq_mask;
static struct io_uring_sqe *sqes;
static struct io_uring_cqe *cqes;
static int sock[2], go_pipe[2];
static char rbuf[64];
static int mode; /* 0 ring, 1 foreign, 2 coop */
static int iterations = 2000;
static atomic_int waiter_ready, waiter_done, submitter_tid, waiter_tid, counted;
static atomic_long cqe_time_ns;

static long now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000L + t.tv_nsec;
}

static void pin(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

static long switches(int tid)
{
    char path[64], line[128];
    snprintf(path, sizeof path, "/proc/self/task/%d/status", tid);
    FILE *f = fopen(path, "r");
    long total = 0, v;
    while (f && fgets(line, sizeof line, f))
    {
        if (sscanf(line, "voluntary_ctxt_switches: %ld", &v) == 1 || sscanf(line, "nonvoluntary_ctxt_switches: %ld", &v) == 1)
            total += v;
    }
    if (f) fclose(f);
    return total;
}

static void setup_ring(unsigned flags)
{
    struct io_uring_params p;
    memset(&p, 0, sizeof p);
    p.flags = flags;
    ring_fd = (int)syscall(__NR_io_uring_setup, 8, &p);
    if (ring_fd < 0) { perror("io_uring_setup"); exit(1); }
    size_t sq_size = p.sq_off.array + p.sq_entries * sizeof(unsigned);
    size_t cq_size = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
    char *sq = mmap(0, sq_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring_fd, IORING_OFF_SQ_RING);
    char *cq = mmap(0, cq_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring_fd, IORING_OFF_CQ_RING);
    sqes = mmap(0, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring_fd, IORING_OFF_SQES);
    if (sq == MAP_FAILED || cq == MAP_FAILED || sqes == MAP_FAILED) { perror("mmap"); exit(1); }
    sq_tail = (unsigned *)(sq + p.sq_off.tail);
    sq_mask = (unsigned *)(sq + p.sq_off.ring_mask);
    sq_array = (unsigned *)(sq + p.sq_off.array);
    cq_head = (unsigned *)(cq + p.cq_off.head);
    cq_tail = (unsigned *)(cq + p.cq_off.tail);
    cq_mask = (unsigned *)(cq + p.cq_off.ring_mask);
    cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
}

/* Queues one RECV of the socket; the caller enters the kernel to submit it. */
static void queue_recv(uint64_t user_data)
{
    unsigned tail = *sq_tail, index = tail & *sq_mask;
    struct io_uring_sqe *sqe = &sqes[index];
    memset(sqe, 0, sizeof *sqe);
    sqe->opcode = IORING_OP_RECV;
    sqe->fd = sock[0];
    sqe->addr = (uint64_t)(uintptr_t)rbuf;
    sqe->len = sizeof rbuf;
    sqe->user_data = user_data;
    sq_array[index] = index;
    __atomic_store_n(sq_tail, tail + 1, __ATOMIC_RELEASE);
}

/* Waits up to 50 ms for one CQE; returns 1 if one came. */
static int wait_cqe(unsigned to_submit)
{
    struct __kernel_timespec ts = { .tv_sec = 0, .tv_nsec = 50 * 1000000L };
    struct io_uring_getevents_arg arg = { .ts = (uint64_t)(uintptr_t)&ts };
    for (;;)
    {
        unsigned head = *cq_head;
        if (head != __atomic_load_n(cq_tail, __ATOMIC_ACQUIRE))
        {
            __atomic_store_n(cq_head, head + 1, __ATOMIC_RELEASE);
            return 1;
        }
        long r = syscall(__NR_io_uring_enter, ring_fd, to_submit, 1, IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, &arg, sizeof arg);
        to_submit = 0;
        if (r < 0 && errno == ETIME)
            return *cq_head != __atomic_load_n(cq_tail, __ATOMIC_ACQUIRE) ? wait_cqe(0) : 0;
        if (r < 0 && errno != EINTR) { perror("io_uring_enter (wait)"); exit(1); }
    }
}

static void *waiter(void *unused)
{
    (void)unused;
    pin(1);
    atomic_store(&waiter_tid, (int)gettid());
    if (mode == 0)
    {
        /* R_DISABLED ring: enabling it from this thread makes this thread the single issuer. */
        if (syscall(__NR_io_uring_register, ring_fd, IORING_REGISTER_ENABLE_RINGS, NULL, 0) < 0) { perror("enable rings"); exit(1); }
    }
    for (int i = 0; i < iterations; i++)
    {
        unsigned to_submit = 0;
        if (mode == 0)
        {
            queue_recv((uint64_t)i + 1);
            to_submit = 1;
        }
        atomic_store(&waiter_ready, i + 1);
        int got = wait_cqe(to_submit);
        atomic_store(&cqe_time_ns, got ? now_ns() : -1);
        atomic_store(&waiter_done, i + 1);
        if (!got)
        {
            /* The CQE comes once the submitter runs again: take it before the next iteration. */
            while (!wait_cqe(0)) { }
        }
    }
    while (!atomic_load(&counted)) usleep(1000); /* alive until main has read its switches */
    return NULL;
}

static void *submitter(void *unused)
{
    (void)unused;
    pin(1);
    atomic_store(&submitter_tid, (int)gettid());
    char token;
    while (read(go_pipe[0], &token, 1) == 1)
    {
        if (token != 's' || mode == 0)
            continue; /* only woken (any pending task work ran on the way back from read(2)), or in
                         ring mode, woken as a pool thread is, with nothing to submit */
        queue_recv(1);
        if (syscall(__NR_io_uring_enter, ring_fd, 1, 0, 0, NULL, 0) != 1) { perror("io_uring_enter (submit)"); exit(1); }
    }
    return NULL;
}

static int compare_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc < 2) { fprintf(stderr, "usage: %s ring|foreign|coop [ITERATIONS]\n", argv[0]); return 2; }
    mode = strcmp(argv[1], "ring") == 0 ? 0 : strcmp(argv[1], "foreign") == 0 ? 1 : strcmp(argv[1], "coop") == 0 ? 2 : -1;
    if (mode < 0) { fprintf(stderr, "unknown mode '%s'\n", argv[1]); return 2; }
    if (argc > 2) iterations = atoi(argv[2]);
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sock) < 0 || pipe(go_pipe) < 0) { perror("socketpair/pipe"); return 1; }
    setup_ring(mode == 0 ? IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_R_DISABLED
               : mode == 2 ? IORING_SETUP_COOP_TASKRUN : 0);
    pin(0);
    pthread_t w, s;
    pthread_create(&w, NULL, waiter, NULL);
    pthread_create(&s, NULL, submitter, NULL);
    while (!atomic_load(&waiter_tid) || !atomic_load(&submitter_tid)) usleep(1000);

    long *latency = calloc((size_t)iterations, sizeof(long));
    int in_time = 0;
    long s0 = switches(submitter_tid), w0 = switches(waiter_tid);
    for (int i = 0; i < iterations; i++)
    {
        while (atomic_load(&waiter_ready) != i + 1) { }
        if (write(go_pipe[1], "s", 1) != 1) { perror("write"); return 1; }
        usleep(300); /* the receive is submitted and armed, and both threads sleep */
        long t0 = now_ns();
        if (write(sock[1], "x", 1) != 1) { perror("write"); return 1; }
        while (atomic_load(&waiter_done) != i + 1) { }
        long t1 = atomic_load(&cqe_time_ns);
        if (t1 >= 0)
        {
            latency[in_time++] = t1 - t0;
        }
        else if (mode != 0)
        {
            /* Not in time: wake the submitter, as a pool thread is woken by its next work item. */
            if (write(go_pipe[1], "w", 1) != 1) { perror("write"); return 1; }
        }
    }
    long s1 = switches(submitter_tid), w1 = switches(waiter_tid);
    atomic_store(&counted, 1);
    pthread_join(w, NULL);
    qsort(latency, (size_t)in_time, sizeof(long), compare_long);
    printf("%-8s %d receives: %d CQEs within 50 ms, median write-to-CQE %.1f us; context switches per receive: submitter %.2f, waiter %.2f\n",
           argv[1], iterations, in_time, in_time ? latency[in_time / 2] / 1000.0 : 0.0,
           (double)(s1 - s0) / iterations, (double)(w1 - w0) / iterations);
    return 0;
}
