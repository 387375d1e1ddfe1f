/* freeport.c -- prints a port on 127.0.0.1 that is free for both UDP and TCP, for tests.
 *
 * The kernel picks a free UDP port (bind to port 0); the same port is then tried on TCP. Both sockets
 * are closed before printing, so the port is only likely to stay free: callers start their server
 * right away. A port taken on TCP is retried with a fresh UDP pick a few times. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { ATTEMPTS = 32 };

static struct sockaddr_in loopback(unsigned short port)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sin;
}

/* Binds a UDP socket to port 0 and returns the port the kernel chose, or 0. */
static unsigned short pick_udp(void)
{
	struct sockaddr_in sin = loopback(0);
	socklen_t len = sizeof(sin);
	unsigned short port = 0;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0)
		return 0;
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sin, &len) == 0)
		port = ntohs(sin.sin_port);
	close(fd);
	return port;
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
	for (int i = 0; i < ATTEMPTS; i++) {
		unsigned short port = pick_udp();

		if (port != 0 && tcp_free(port)) {
			printf("%u\n", (unsigned)port);
			return 0;
		}
	}
	fprintf(stderr, "freeport: no port free for both UDP and TCP on 127.0.0.1\n");
	return 1;
}
