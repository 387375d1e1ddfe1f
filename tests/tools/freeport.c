/* freeport.c -- prints a port on 127.0.0.1 that is free for both UDP and TCP, for tests.
 *
 * Ports are drawn at random below the kernel's ephemeral range (net.ipv4.ip_local_port_range), from
 * 10000 up to its start: a port from inside that range can also be handed to a client as its
 * source port, and a dig whose source port equals the server's port receives its own query (its
 * connected socket matches better than the server's), which tests then see as a reply without QR.
 * The port must bind on UDP and listen on TCP. Both sockets are closed before printing, so the port
 * is only likely to stay free: callers start their server right away. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>

enum { ATTEMPTS = 200, LOWEST = 10000 };

static struct sockaddr_in loopback(unsigned short port)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sin;
}

/* The first port of the ephemeral range (32768 when it cannot be read). */
static unsigned ephemeral_start(void)
{
	unsigned low = 32768, high = 0;
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
	if (f) {
		if (fscanf(f, "%u %u", &low, &high) != 2)
			low = 32768;
		fclose(f);
	}
	return low > LOWEST + 1000 ? low : 32768;
}

/* True when port can be bound over UDP. */
static int udp_free(unsigned short port)
{
	struct sockaddr_in sin = loopback(port);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	int ok = 0;

	if (fd < 0)
		return 0;
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0)
		ok = 1;
	close(fd);
	return ok;
}

/* True when port can be bound and listened on over TCP. SO_REUSEADDR matches what servers set, so
 * a port held only by TIME_WAIT connections counts as free. */
static int tcp_free(unsigned short port)
{
	struct sockaddr_in sin = loopback(port);
	int one = 1;
	int ok = 0;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return 0;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 && listen(fd, 1) == 0)
		ok = 1;
	close(fd);
	return ok;
}

int main(void)
{
	unsigned top = ephemeral_start();
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	srandom((unsigned)(ts.tv_nsec ^ (getpid() << 16)));
	for (int i = 0; i < ATTEMPTS; i++) {
		unsigned short port = (unsigned short)(LOWEST + (unsigned)random() % (top - LOWEST));

		if (udp_free(port) && tcp_free(port)) {
			printf("%u\n", (unsigned)port);
			return 0;
		}
	}
	fprintf(stderr, "freeport: no port free for both UDP and TCP on 127.0.0.1\n");
	return 1;
}
