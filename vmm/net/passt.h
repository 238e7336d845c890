/* passt (Debian package "passt") as the network peer of an unprivileged VM:
 * the VMM starts it as a child holding one end of a stream socket pair
 * (passt --fd), or connects to the unix socket of a passt already running.
 * passt gives the guest DHCP, DNS and NAT to the host's network, and maps
 * connections to the gateway address to the host's loopback. */
#ifndef VIREO_VMM_NET_PASST_H
#define VIREO_VMM_NET_PASST_H

#include <sys/types.h>

/* Starts passt with the MTU it should announce by DHCP (0: passt's own).
 * Our end of the socket pair, with passt's pid in *pid, or -errno with a
 * reason in *err. passt quits when that end is closed. */
int passt_start(unsigned int mtu, pid_t *pid, char **err) __attribute__((warn_unused_result));

#endif
