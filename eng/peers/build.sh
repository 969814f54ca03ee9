#!/usr/bin/env bash
# Builds the echo servers written in C that `compare --external` and `idle --external` put beside
# Proactor (see docs/bench.md), and a C ping-pong client as a yardstick for the runner's load
# generator: eng/peers/bin/epoll_echo and pingpong_client always, eng/peers/bin/uv_echo when
# libuv's headers are installed (apt-get install -y libuv1-dev); zerocopy_send, what a
# zero-copy send costs here (docs/io_uring-per-message-cost.md); and foreign_submit, which thread
# runs a receive's completion work when another thread submitted it (docs/thread-pool-dispatch.md).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
mkdir -p "$here/bin"
gcc -O2 -Wall -Wextra -o "$here/bin/epoll_echo" "$here/epoll_echo.c"
echo "built $here/bin/epoll_echo"
gcc -O2 -Wall -Wextra -o "$here/bin/pingpong_client" "$here/pingpong_client.c"
echo "built $here/bin/pingpong_client"
gcc -O2 -Wall -Wextra -pthread -o "$here/bin/zerocopy_send" "$here/zerocopy_send.c"
echo "built $here/bin/zerocopy_send"
gcc -O2 -Wall -Wextra -pthread -o "$here/bin/foreign_submit" "$here/foreign_submit.c"
echo "built $here/bin/foreign_submit"
if echo '#include <uv.h>' | gcc -E -x c - >/dev/null 2>&1; then
    gcc -O2 -Wall -Wextra -o "$here/bin/uv_echo" "$here/uv_echo.c" -luv
    echo "built $here/bin/uv_echo"
else
    echo "libuv headers not found (apt-get install -y libuv1-dev): eng/peers/bin/uv_echo not built" >&2
fi
