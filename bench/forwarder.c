/*
 * forwarder — the machine's UDP limit for bench/run: recvmmsg -> sendmmsg,
 * no TURN work.
 *
 *   forwarder -l ADDR:PORT -t SINKADDR:PORT [-j THREADS] [-s SECONDS]
 *
 * THREADS threads (default 2, like ferryd's `threads = 2`) each own an
 * SO_REUSEPORT socket on ADDR:PORT, so the kernel spreads senders over them
 * as it does over ferryd's workers.  Every datagram has its first 4 bytes
 * (the ChannelData header flood sends) cut, as a relay would, and goes to
 * the sink from a socket of its own.  Exits after SECONDS (default 600) or
 * on SIGTERM.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

#define BATCH 64
#define MAXPKT 2048

static struct sockaddr_in listen_addr, sink_addr;
static volatile sig_atomic_t stop;
static double deadline;

static void *run(void *arg)
{
	int one = 1, sz = 8 << 20, i, in, out;
	static __thread uint8_t buf[BATCH][MAXPKT];
	struct mmsghdr rm[BATCH], sm[BATCH];
	struct iovec riov[BATCH], siov[BATCH];
	struct sockaddr_in lo = { .sin_family = AF_INET };

	(void)arg;
	in = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	out = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (in < 0 || out < 0) {
		perror("socket");
		exit(2);
	}
	setsockopt(in, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	setsockopt(in, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz));
	setsockopt(out, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz));
	if (bind(in, (struct sockaddr *)&listen_addr, sizeof(listen_addr)) < 0) {
		perror("bind");
		exit(2);
	}
	lo.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(out, (struct sockaddr *)&lo, sizeof(lo)) < 0 ||
	    connect(out, (struct sockaddr *)&sink_addr, sizeof(sink_addr)) < 0) {
		perror("out");
		exit(2);
	}
	for (i = 0; i < BATCH; i++) {
		riov[i].iov_base = buf[i];
		riov[i].iov_len = MAXPKT;
		memset(&rm[i], 0, sizeof(rm[i]));
		rm[i].msg_hdr.msg_iov = &riov[i];
		rm[i].msg_hdr.msg_iovlen = 1;
		memset(&sm[i], 0, sizeof(sm[i]));
		sm[i].msg_hdr.msg_iov = &siov[i];
		sm[i].msg_hdr.msg_iovlen = 1;
	}
	while (!stop && now() < deadline) {
		struct pollfd p = { in, POLLIN, 0 };
		if (poll(&p, 1, 200) <= 0)
			continue;
		int n = recvmmsg(in, rm, BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			continue;
		int k = 0;
		for (i = 0; i < n; i++) {
			if (rm[i].msg_len <= 4)
				continue;
			siov[k].iov_base = buf[i] + 4;
			siov[k].iov_len = rm[i].msg_len - 4;
			k++;
		}
		for (i = 0; i < k;) {
			int r = sendmmsg(out, sm + i, k - i, MSG_DONTWAIT);
			if (r <= 0)
				break;  /* drop, as a relay does when the socket is full */
			i += r;
		}
	}
	return NULL;
}

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	int threads = 2, i;
	double secs = 600;
	pthread_t th[16];

	for (i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "-l")) {
			if (parse_addr(argv[i + 1], &listen_addr))
				return 2;
		} else if (!strcmp(argv[i], "-t")) {
			if (parse_addr(argv[i + 1], &sink_addr))
				return 2;
		} else if (!strcmp(argv[i], "-j")) {
			threads = atoi(argv[i + 1]);
		} else if (!strcmp(argv[i], "-s")) {
			secs = atof(argv[i + 1]);
		} else {
			fprintf(stderr, "usage: forwarder -l ADDR:PORT -t SINK:PORT [-j N] [-s S]\n");
			return 2;
		}
	}
	if (!listen_addr.sin_port || !sink_addr.sin_port || threads < 1 || threads > 16) {
		fprintf(stderr, "usage: forwarder -l ADDR:PORT -t SINK:PORT [-j N] [-s S]\n");
		return 2;
	}
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	deadline = now() + secs;
	for (i = 0; i < threads; i++)
		pthread_create(&th[i], NULL, run, NULL);
	for (i = 0; i < threads; i++)
		pthread_join(th[i], NULL);
	return 0;
}
