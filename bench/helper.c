/* Tiny programs the benchmark runs under both daemons (and directly, for the
 * floor measurements). Kept in C so their own start-up cost is as small and as
 * constant as possible: what we time is the daemon, not the child.
 *
 *   helper ready FIFO     write "PID\n" to FIFO once running, then sleep forever
 *   helper wait FIFO N    block until FIFO reaches EOF, then exit with N % 4
 *   helper ignore-term    ignore SIGTERM and sleep forever
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void forever(void)
{
	for (;;)
		pause();
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "ready") == 0) {
		char buf[32];
		int fd = open(argv[2], O_WRONLY);
		int n = snprintf(buf, sizeof buf, "%d\n", (int)getpid());
		if (fd < 0 || write(fd, buf, n) != n)
			return 111;
		close(fd);
		forever();
	}
	if (argc == 4 && strcmp(argv[1], "wait") == 0) {
		char buf[64];
		ssize_t r;
		int fd = open(argv[2], O_RDONLY);
		if (fd < 0)
			return 111;
		while ((r = read(fd, buf, sizeof buf)) != 0)
			if (r < 0 && errno != EINTR)
				return 111;
		return atoi(argv[3]) % 4;
	}
	if (argc == 2 && strcmp(argv[1], "ignore-term") == 0) {
		signal(SIGTERM, SIG_IGN);
		forever();
	}
	fprintf(stderr, "usage: helper ready FIFO | wait FIFO N | ignore-term\n");
	return 2;
}
