/* Starting passt with a connected socket of ours (passt --fd). */
#include "config.h"

#include "net/passt.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"

extern char **environ;

#define PASST_FD 3 /* where passt finds its end of the pair */

int passt_start(unsigned int mtu, pid_t *pid, char **err)
{
    g_autofree char *path = g_find_program_in_path("passt");
    g_autofree char *mtu_arg = g_strdup_printf("%u", mtu);
    char fd_arg[] = G_STRINGIFY(PASST_FD);
    char *argv[] = {"passt", "--foreground",       "--quiet", "--fd",
                    fd_arg,  mtu ? "--mtu" : NULL, mtu_arg,   NULL};
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t none, all;
    int pair[2], ret;

    if (!path) {
        *err = g_strdup("passt is not installed (no passt in PATH; Debian package passt)");
        return -ENOENT;
    }
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) {
        ret = -errno;
        *err = g_strdup_printf("passt: socketpair: %s", g_strerror(errno));
        return ret;
    }
    /* passt gets its end as fd 3 and nothing else of ours but stdout and
     * stderr; signals as a fresh process has them. */
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, pair[1], PASST_FD);
    posix_spawn_file_actions_addclosefrom_np(&fa, PASST_FD + 1);
    posix_spawnattr_init(&attr);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    ret = -posix_spawn(pid, path, &fa, &attr, argv, environ);
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&fa);
    close(pair[1]);
    if (ret) {
        *err = g_strdup_printf("starting %s: %s", path, g_strerror(-ret));
        close(pair[0]);
        return ret;
    }
    log_info("passt started (pid %d)", (int)*pid);
    return pair[0];
}
