/*
 * What a zero-copy send costs the sender on this machine: COUNT sends of SIZE bytes over a TCP
 * loopback connection, once with plain send(2) and once with MSG_ZEROCOPY, the mechanism behind
 * io_uring's SEND_ZC (pinned pages, a completion notification per send). A second thread on the
 * other CPU drains the receiving end. Prints the sending thread's CPU time per send, and for the
 * zero-copy run how many notifications came back and how many of them say the kernel copied the
 * data after all (SO_EE_CODE_ZEROCOPY_COPIED: every packet looped to a local socket is copied).
 *
 * Build: gcc -O2 -pthread -o eng/peers/bin/zerocopy_send eng/peers/zerocopy_send.c   (or: bash eng/peers/build.sh)
 * Run:   eng/peers/bin/zerocopy_send [SIZE=16384] [COUNT=100000]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <time.h>
#include <linux/errqueue.h> /* after time.h: it uses struct timespec */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef SO_ZEROCOPY
#define SO_ZEROCOPY 60
#endif
#ifndef MSG_ZEROCOPY
#define MSG_ZEROCOPY 0x4000000
#endif

static void pin(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

static void *drain(void *arg)
{
    static char buffer[1 << 20];
    pin(0);
    while (recv((int)(long)arg, buffer, sizeof buffer, 0) > 0) {
    }
    return NULL;
}

struct notes {
    long total;
    long copied;
};

/* Reads the zero-copy notifications waiting on the socket's error queue. */
static void reap(int fd, struct notes *notes)
{
    char control[256];
    struct msghdr msg = {0};
    for (;;) {
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        if (recvmsg(fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) {
            return;
        }
        struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
        if (cm == NULL) {
            continue;
        }
        struct sock_extended_err *e = (struct sock_extended_err *)CMSG_DATA(cm);
        if (e->ee_origin != SO_EE_ORIGIN_ZEROCOPY) {
            continue;
        }
        long range = (long)(e->ee_data - e->ee_info) + 1; /* notifications coalesce into ranges */
        notes->total += range;
        if (e->ee_code & SO_EE_CODE_ZEROCOPY_COPIED) {
            notes->copied += range;
        }
    }
}

static double thread_cpu_us(void)
{
    struct rusage r;
    getrusage(RUSAGE_THREAD, &r);
    return (r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1e6 + r.ru_utime.tv_usec + r.ru_stime.tv_usec;
}

static int run(long size, long count, int zerocopy)
{
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (listener < 0 || bind(listener, (struct sockaddr *)&addr, sizeof addr) || listen(listener, 1) ||
        getsockname(listener, (struct sockaddr *)&addr, &len)) {
        perror("listen");
        return 1;
    }
    int out = socket(AF_INET, SOCK_STREAM, 0);
    if (out < 0 || connect(out, (struct sockaddr *)&addr, sizeof addr)) {
        perror("connect");
        return 1;
    }
    int in = accept(listener, NULL, NULL);
    int one = 1;
    setsockopt(out, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (zerocopy && setsockopt(out, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof one)) {
        perror("setsockopt SO_ZEROCOPY");
        return 1;
    }

    pthread_t drainer;
    pthread_create(&drainer, NULL, drain, (void *)(long)in);
    pin(1);
    char *buffer = aligned_alloc(4096, (size_t)((size + 4095) / 4096 * 4096));
    memset(buffer, 'x', (size_t)size);

    struct notes notes = {0, 0};
    double started = thread_cpu_us();
    for (long i = 0; i < count; i++) {
        for (long sent = 0; sent < size;) {
            ssize_t n = send(out, buffer + sent, (size_t)(size - sent), zerocopy ? MSG_ZEROCOPY : 0);
            if (n < 0 && errno == ENOBUFS) { /* too many notifications outstanding */
                reap(out, &notes);
                continue;
            }
            if (n < 0) {
                perror("send");
                return 1;
            }
            sent += n;
        }
        if (zerocopy && (i & 15) == 15) {
            reap(out, &notes);
        }
    }
    for (int i = 0; zerocopy && notes.total < count && i < 200; i++) {
        struct pollfd p = {out, 0, 0};
        poll(&p, 1, 10);
        reap(out, &notes);
    }
    double us = thread_cpu_us() - started;

    printf("%-12s %6ld B: %6.2f us of sender CPU per send", zerocopy ? "MSG_ZEROCOPY" : "send", size, us / count);
    if (zerocopy) {
        printf(", %ld notifications, %ld of them \"copied\"", notes.total, notes.copied);
    }
    printf("\n");
    shutdown(out, SHUT_WR);
    pthread_join(drainer, NULL);
    close(out);
    close(in);
    close(listener);
    free(buffer);
    return 0;
}

int main(int argc, char **argv)
{
    long size = argc > 1 ? atol(argv[1]) : 16384;
    long count = argc > 2 ? atol(argv[2]) : 100000;
    if (size <= 0 || count <= 0) {
        fprintf(stderr, "usage: %s [SIZE=16384] [COUNT=100000]\n", argv[0]);
        return 2;
    }
    return run(size, count, 0) || run(size, count, 1);
}
