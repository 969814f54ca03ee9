/*
 * The libuv echo server, as libuv's own examples write it: a uv_tcp_t per connection, the read
 * buffer allocated in alloc_cb and freed once its write completed. One loop, one thread.
 *
 * Build: gcc -O2 -o eng/peers/bin/uv_echo eng/peers/uv_echo.c -luv   (needs: apt-get install -y libuv1-dev)
 * Run:   eng/peers/bin/uv_echo PORT        (listens on 127.0.0.1:PORT; SIGTERM ends it)
 */
#include <stdio.h>
#include <stdlib.h>
#include <uv.h>

typedef struct {
    uv_write_t req;
    uv_buf_t buf;
} write_req_t;

static uv_loop_t *loop;

static void alloc_cb(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    (void)handle;
    buf->base = malloc(suggested);
    buf->len = suggested;
}

static void close_cb(uv_handle_t *handle) { free(handle); }

static void write_cb(uv_write_t *req, int status)
{
    write_req_t *wr = (write_req_t *)req;
    if (status < 0 && !uv_is_closing((uv_handle_t *)req->handle)) uv_close((uv_handle_t *)req->handle, close_cb);
    free(wr->buf.base);
    free(wr);
}

static void read_cb(uv_stream_t *client, ssize_t nread, const uv_buf_t *buf)
{
    if (nread > 0) {
        write_req_t *wr = malloc(sizeof *wr);
        wr->buf = uv_buf_init(buf->base, (unsigned int)nread);
        uv_write(&wr->req, client, &wr->buf, 1, write_cb);
        return;
    }
    if (nread < 0 && !uv_is_closing((uv_handle_t *)client)) uv_close((uv_handle_t *)client, close_cb);
    free(buf->base);
}

static void on_connection(uv_stream_t *server, int status)
{
    if (status < 0) return;
    uv_tcp_t *client = malloc(sizeof *client);
    uv_tcp_init(loop, client);
    if (uv_accept(server, (uv_stream_t *)client) == 0) {
        uv_tcp_nodelay(client, 1);
        uv_read_start((uv_stream_t *)client, alloc_cb, read_cb);
    } else {
        uv_close((uv_handle_t *)client, close_cb);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s PORT\n", argv[0]);
        return 2;
    }
    loop = uv_default_loop();
    uv_tcp_t server;
    uv_tcp_init(loop, &server);
    struct sockaddr_in addr;
    uv_ip4_addr("127.0.0.1", atoi(argv[1]), &addr);
    int r = uv_tcp_bind(&server, (const struct sockaddr *)&addr, 0);
    if (r == 0) r = uv_listen((uv_stream_t *)&server, 4096, on_connection);
    if (r != 0) {
        fprintf(stderr, "listen: %s\n", uv_strerror(r));
        return 1;
    }
    printf("listening on 127.0.0.1:%s (libuv %s echo)\n", argv[1], uv_version_string());
    fflush(stdout);
    return uv_run(loop, UV_RUN_DEFAULT);
}
