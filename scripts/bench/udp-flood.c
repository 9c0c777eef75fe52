/*
 * udp-flood: the sender of `npm run bench:ingest`. Sends one StatsD line per datagram to 127.0.0.1:PORT at RATE
 * datagrams per second for SECONDS, paced in 1 ms slices (each slice sends what the schedule owes, with sendmmsg,
 * so one process reaches rates a Node or Python loop cannot), then prints one JSON line: datagrams sent, seconds
 * taken, and send errors (a refused send is counted, not retried). A datagram the receiver's buffer cannot take is
 * dropped by the receiver's kernel, not here: the sender never blocks on it.
 *
 *   cc -O2 -o udp-flood udp-flood.c && ./udp-flood 8125 200000 5 'bench_ingest.r200000:1|c'
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define BATCH 1024

static double seconds_since(const struct timespec *start) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: %s PORT RATE SECONDS LINE\n", argv[0]);
    return 2;
  }
  const int port = atoi(argv[1]);
  const long rate = atol(argv[2]);
  const long seconds = atol(argv[3]);
  const char *line = argv[4];
  if (port <= 0 || port > 65535 || rate <= 0 || seconds <= 0) {
    fprintf(stderr, "udp-flood: PORT 1-65535, RATE and SECONDS above 0\n");
    return 2;
  }
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
  inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  if (fd < 0 || connect(fd, (struct sockaddr *)&to, sizeof to) != 0) {
    perror("udp-flood: socket");
    return 1;
  }
  struct iovec iov = {.iov_base = (void *)line, .iov_len = strlen(line)};
  static struct mmsghdr msgs[BATCH];
  for (int i = 0; i < BATCH; i++) {
    msgs[i].msg_hdr.msg_iov = &iov;
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  const long total = rate * seconds;
  long sent = 0, errors = 0;
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (long slice = 1; sent + errors < total; slice++) {
    long owed = rate * slice / 1000;
    if (owed > total) owed = total;
    while (sent + errors < owed) {
      long want = owed - sent - errors;
      const int n = sendmmsg(fd, msgs, want > BATCH ? BATCH : (unsigned int)want, 0);
      if (n < 0) {
        if (errno == EINTR) continue;
        errors++;
      } else {
        sent += n;
      }
    }
    struct timespec due = start;
    due.tv_nsec += (slice % 1000) * 1000000L;
    due.tv_sec += slice / 1000 + due.tv_nsec / 1000000000L;
    due.tv_nsec %= 1000000000L;
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due, NULL);
  }
  printf("{\"sent\":%ld,\"seconds\":%.3f,\"sendErrors\":%ld}\n", sent, seconds_since(&start), errors);
  return 0;
}
