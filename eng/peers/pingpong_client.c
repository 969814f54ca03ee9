/*
 * A load generator in C, as a yardstick for the runner's own: N connections, one SIZE-byte
 * message in flight on each, every echoed byte checked, for SECONDS; prints round trips/s.
 * If the runner's figure for a fast server (eng/peers/bin/epoll_echo) is far below this one's,
 * the runner's load generator, not the server, is the ceiling.
 *
 * Build: gcc -O2 -o eng/peers/bin/pingpong_client eng/peers/pingpong_client.c   (or: bash eng/peers/build.sh)
 * Run:   eng/peers/bin/pingpong_client PORT [CONNECTIONS=64] [SECONDS=3] [SIZE=64]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct conn {
    int fd;
    size_t got;
    unsigned long k;
};

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void fill(char *msg, size_t size, int conn, unsigned long k)
{
    for (size_t i = 0; i < size; i++) msg[i] = (char)(conn * 31 + k * 7 + i);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s PORT [CONNECTIONS] [SECONDS] [SIZE]\n", argv[0]);
        return 2;
    }
    int port = atoi(argv[1]);
    int count = argc > 2 ? atoi(argv[2]) : 64;
    double seconds = argc > 3 ? atof(argv[3]) : 3;
    size_t size = argc > 4 ? (size_t)atoi(argv[4]) : 64;
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int ep = epoll_create1(0);
    struct conn *conns = calloc((size_t)count, sizeof *conns);
    char *msg = malloc(size), *in = malloc(size);
    int one = 1;
    for (int i = 0; i < count; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
            perror("connect");
            return 1;
        }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        conns[i].fd = fd;
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &conns[i] };
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
        fill(msg, size, i, 0);
        send(fd, msg, size, MSG_NOSIGNAL);
    }

    long done = 0, errors = 0;
    double start = now(), end = start + seconds;
    struct epoll_event events[256];
    while (now() < end) {
        int n = epoll_wait(ep, events, 256, 100);
        for (int e = 0; e < n; e++) {
            struct conn *c = events[e].data.ptr;
            int id = (int)(c - conns);
            ssize_t r = recv(c->fd, in, size - c->got, 0);
            if (r <= 0) {
                if (r < 0 && errno == EAGAIN) continue;
                fprintf(stderr, "connection %d: closed or failed\n", id);
                return 1;
            }
            fill(msg, size, id, c->k);
            if (memcmp(in, msg + c->got, (size_t)r) != 0) errors++;
            c->got += (size_t)r;
            if (c->got == size) {
                c->got = 0;
                c->k++;
                done++;
                fill(msg, size, id, c->k);
                send(c->fd, msg, size, MSG_NOSIGNAL);
            }
        }
    }
    double elapsed = now() - start;
    printf("%d connections, %zu B: %.0f round trips/s (%ld in %.2f s), %ld wrong bytes\n", count, size, done / elapsed, done, elapsed, errors);
    return errors ? 1 : 0;
}
