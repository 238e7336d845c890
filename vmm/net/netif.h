/* The kernel's network interface calls that vireo-vmm's TAP backend and
 * virtvireod's taps share. Each returns 0 or -errno and reports nothing:
 * each caller words its own errors. `sock` is any datagram socket
 * (AF_INET for the IPv4 calls). */
#pragma once

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

/* Opens one queue of TAP `name` (may be a %d pattern), with a vnet header
 * and without packet info; the kernel's choice of name comes back in
 * `name`. `open_flags` are added to O_RDWR | O_CLOEXEC (O_NONBLOCK). */
int netif_tap_open(char name[IFNAMSIZ], bool multi_queue, int open_flags, int *fd);

int netif_set_mac(int sock, const char *ifname, const uint8_t mac[6]);
int netif_get_mtu(int sock, const char *ifname, unsigned int *mtu);
int netif_set_mtu(int sock, const char *ifname, unsigned int mtu);
int netif_set_ipv4(int sock, const char *ifname, const struct in_addr *ip);
int netif_set_ipv4_mask(int sock, const char *ifname, const struct in_addr *mask);
/* Sets IFF_UP, keeping the other flags. */
int netif_set_up(int sock, const char *ifname);
/* Makes `ifname` a port of `bridge` (SIOCBRADDIF). */
int netif_bridge_add(int sock, const char *bridge, const char *ifname);
