// SPDX-License-Identifier: Apache-2.0
/*
 * cluster_poke.c - circuit-ipam's datagram to this host's agent: "network
 * N's members changed" (cluster_poke.h, spec/cluster.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cluster_poke.h"
#include "store.h"

static int poke_addr(const char *state_dir, struct sockaddr_un *sun, socklen_t *len)
{
	int n;

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	n = snprintf(sun->sun_path, sizeof(sun->sun_path), "%s/cluster/%s",
		     cir_store_root(state_dir), CIR_CLUSTER_POKE_SOCK);
	if (n < 0 || (size_t)n >= sizeof(sun->sun_path))
		return -ENAMETOOLONG;
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + (size_t)n + 1);
	return 0;
}

int cir_cluster_poke_send(const char *state_dir, const char *network)
{
	struct sockaddr_un sun;
	socklen_t len;
	int fd, r;

	if (!cir_name_valid(network))
		return -EINVAL;
	r = poke_addr(state_dir, &sun, &len);
	if (r < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	r = 0;
	if (sendto(fd, network, strlen(network), MSG_DONTWAIT | MSG_NOSIGNAL,
		   (struct sockaddr *)&sun, len) < 0)
		r = -errno;
	close(fd);
	return r;
}

int cir_cluster_poke_bind(const char *state_dir, struct cir_error *err)
{
	struct sockaddr_un sun;
	socklen_t len;
	char dir[sizeof(sun.sun_path)];
	int fd, r = poke_addr(state_dir, &sun, &len);

	if (r < 0)
		return cir_err(err, -r, "poke socket: path under %s too long",
			       cir_store_root(state_dir));
	snprintf(dir, sizeof(dir), "%s/cluster", cir_store_root(state_dir));
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return cir_err(err, errno, "poke socket: mkdir %s: %s", dir, strerror(errno));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return cir_err(err, errno, "poke socket: %s", strerror(errno));
	/* A stale file from an agent that did not exit cleanly.  One agent
	 * per state directory (its lease) is the caller's contract.  (These
	 * run under circuit's filter: unlinkat, not unlink; fchmod, not
	 * umask or chmod.) */
	if (unlinkat(AT_FDCWD, sun.sun_path, 0) < 0 && errno != ENOENT) {
		r = cir_err(err, errno, "poke socket: unlink %s: %s", sun.sun_path,
			    strerror(errno));
		close(fd);
		return r;
	}
	/* The socket inode's mode is the file's at bind (less the umask):
	 * 0600 from the start, no window where another user could send. */
	if (fchmod(fd, 0600) < 0 || bind(fd, (struct sockaddr *)&sun, len) < 0) {
		r = cir_err(err, errno, "poke socket: bind %s: %s", sun.sun_path,
			    strerror(errno));
		close(fd);
		return r;
	}
	return fd;
}

void cir_cluster_poke_unbind(int fd, const char *state_dir)
{
	struct sockaddr_un sun;
	socklen_t len;

	if (fd < 0)
		return;
	close(fd);
	/* unlinkat: the agent's filter allows it (the store's), not unlink. */
	if (poke_addr(state_dir, &sun, &len) == 0)
		(void)unlinkat(AT_FDCWD, sun.sun_path, 0);
}

int cir_cluster_poke_recv(int fd, char name[CIR_CNI_NAME_MAX + 1])
{
	char buf[CIR_CNI_NAME_MAX + 2];

	ssize_t n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, NULL, NULL);

	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -errno;
	/* Longer than a name (truncated), empty, or not a name: dropped. */
	if (n == 0 || (size_t)n > CIR_CNI_NAME_MAX)
		return -EBADMSG;
	buf[n] = '\0';
	if (strlen(buf) != (size_t)n || !cir_name_valid(buf))
		return -EBADMSG;
	memcpy(name, buf, (size_t)n + 1);
	return 1;
}

unsigned int cir_cluster_poke_qlen(void)
{
	unsigned int q = 0;
	FILE *f = fopen("/proc/sys/net/unix/max_dgram_qlen", "re");

	if (f) {
		if (fscanf(f, "%u", &q) != 1)
			q = 0;
		fclose(f);
	}
	return q ? q : 10;
}
