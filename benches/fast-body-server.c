// A fast large-body HTTP/1.1 server for benches/compare.sh's "bodies"
// section: every request gets `200` with a Content-Length of SIZE bytes
// (argv[1]) of zeros, written in 64 KiB writes as fast as the socket
// takes them; one thread per connection, keep-alive. Prints its port.
// Built by compare.sh with the machine's gcc; loopback only.
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <pthread.h>
#include <netinet/in.h>
#include <sys/socket.h>
static long long SIZE;
static void *serve(void *arg) {
  int c = (int)(long)arg; char buf[8192]; char body[65536]; memset(body, 0, sizeof body);
  int have = 0;
  for (;;) {
    char *end = NULL;
    while (!(end = memmem(buf, have, "\r\n\r\n", 4))) {
      if (have == sizeof buf) goto out;
      int n = read(c, buf + have, sizeof buf - have); if (n <= 0) goto out; have += n;
    }
    int used = end + 4 - buf; memmove(buf, buf + used, have - used); have -= used;
    char head[128]; int hl = snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Length: %lld\r\n\r\n", SIZE);
    if (write(c, head, hl) != hl) goto out;
    for (long long left = SIZE; left > 0;) {
      int n = write(c, body, left < 65536 ? left : 65536); if (n <= 0) goto out; left -= n;
    }
  }
out: close(c); return NULL;
}
int main(int argc, char **argv) {
  SIZE = atoll(argv[1]);
  int s = socket(AF_INET, SOCK_STREAM, 0); int one = 1; setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {0}; a.sin_family = AF_INET; a.sin_addr.s_addr = htonl(0x7f000001);
  bind(s, (void *)&a, sizeof a); listen(s, 1024); socklen_t l = sizeof a; getsockname(s, (void *)&a, &l);
  printf("%d\n", ntohs(a.sin_port)); fflush(stdout);
  for (;;) { int c = accept(s, NULL, NULL); if (c < 0) continue; pthread_t t; pthread_create(&t, NULL, serve, (void *)(long)c); pthread_detach(t); }
}
