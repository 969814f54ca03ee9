/*
 * A hand-written echo server over epoll: the floor the Proactor servers are compared with.
 * One thread, edge-triggered epoll, non-blocking sockets, one 16 KiB buffer shared by all
 * connections (an idle connection holds no buffer: 64 B ping-pong echoes within one read).
 * What a read returns is written back before the next read; a write that would block leaves the
 * rest in a per-connection pending buffer and waits for EPOLLOUT.
 *
 * Build: gcc -O2 -o eng/peers/bin/epoll_echo eng/peers/epoll_echo.c   (or: bash eng/peers/build.sh)
 * Run:   eng/peers/bin/epoll_echo PORT        (listens on 127.0.0.1:PORT; SIGTERM ends it)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUFFER 16384
#define EVENTS 256

struct conn {
    int fd;
    char *pending;      /* bytes read but not yet written (only when a write would block) */
    size_t pending_len;
    size_t pending_off;
};

static char buffer[BUFFER];

static void close_conn(struct conn *c)
{
    close(c->fd);
    free(c->pending);
    free(c);
}

/* Writes what is pending; 1: all written, 0: would block, -1: error. */
static int flush_pending(struct conn *c)
{
    while (c->pending_off < c->pending_len) {
        ssize_t n = send(c->fd, c->pending + c->pending_off, c->pending_len - c->pending_off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno == EAGAIN ? 0 : -1;
        }
        c->pending_off += (size_t)n;
    }
    free(c->pending);
    c->pending = NULL;
    c->pending_len = c->pending_off = 0;
    return 1;
}

/* Echoes everything readable; -1 when the connection is over. */
static int on_readable(struct conn *c)
{
    if (c->pending) return 0; /* writes first: EPOLLOUT will resume */
    for (;;) {
        ssize_t n = recv(c->fd, buffer, BUFFER, 0);
        if (n == 0) return -1;
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno == EAGAIN ? 0 : -1;
        }
        size_t off = 0;
        while (off < (size_t)n) {
            ssize_t w = send(c->fd, buffer + off, (size_t)n - off, MSG_NOSIGNAL);
            if (w < 0) {
                if (errno == EINTR) continue;
                if (errno != EAGAIN) return -1;
                c->pending_len = (size_t)n - off;
                c->pending = malloc(c->pending_len);
                if (!c->pending) return -1;
                memcpy(c->pending, buffer + off, c->pending_len);
                c->pending_off = 0;
                return 0;
            }
            off += (size_t)w;
        }
        if ((size_t)n < BUFFER) return 0; /* drained (edge-triggered: a short read means empty) */
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s PORT\n", argv[0]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    int port = atoi(argv[1]);
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(listener, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(listener, 4096) != 0) {
        perror("bind/listen");
        return 1;
    }
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
    epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev);
    printf("listening on 127.0.0.1:%d (C epoll echo)\n", port);
    fflush(stdout);

    struct epoll_event events[EVENTS];
    for (;;) {
        int n = epoll_wait(ep, events, EVENTS, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            perror("epoll_wait");
            return 1;
        }
        for (int i = 0; i < n; i++) {
            struct conn *c = events[i].data.ptr;
            if (c == NULL) {
                for (;;) {
                    int fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (fd < 0) break; /* EAGAIN, or EMFILE: the client sees it */
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    struct conn *nc = calloc(1, sizeof *nc);
                    nc->fd = fd;
                    struct epoll_event cev = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = nc };
                    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev);
                }
                continue;
            }
            uint32_t e = events[i].events;
            int r = 0;
            if (e & (EPOLLERR | EPOLLHUP)) r = -1;
            if (r == 0 && (e & EPOLLOUT) && c->pending) {
                r = flush_pending(c);
                r = r < 0 ? -1 : 0;
            }
            if (r == 0 && (e & (EPOLLIN | EPOLLRDHUP))) r = on_readable(c);
            if (r < 0) close_conn(c);
        }
    }
}
