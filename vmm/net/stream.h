/* Stream backend for virtio-net: Ethernet frames over a connected
 * SOCK_STREAM socket, each preceded by its length as a 32-bit big-endian
 * number. This is how passt talks to a VMM (and QEMU's "-netdev stream").
 *
 * virtio-net wants one frame per read and write, so a relay thread sits
 * between the stream and one end of a SOCK_SEQPACKET socket pair; the other
 * end is the backend fd virtio-net uses. Frames carry no vnet header and
 * nothing is offloaded: passt computes checksums itself. One queue pair. */
#ifndef VIREO_VMM_NET_STREAM_H
#define VIREO_VMM_NET_STREAM_H

#include <sys/types.h>

#include "net/backend.h"

/* The largest frame either way (64 KiB of IP and an Ethernet/VLAN header). */
#define STREAM_MAX_FRAME (65535u + 18u)

/* Takes over `fd`, a connected stream socket (closed on failure too), and
 * starts the relay. `child` is the pid of a process serving the other end
 * that the backend reaps when freed (passt it started), or 0. `label` names
 * the peer in messages ("passt"). 0 or -errno with a reason in *err. */
int stream_backend_open(int fd, pid_t child, const char *label, struct net_backend *out, char **err)
    __attribute__((warn_unused_result));

/* Connects to a unix socket where a peer such as passt listens. The fd or
 * -errno with a reason in *err. */
int stream_connect_unix(const char *path, char **err) __attribute__((warn_unused_result));

#endif
