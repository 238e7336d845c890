/* virtvireod: the daemon that serves libvirt's remote protocol for Vireo on
 * vireo:///system (as root) or vireo:///session (as a user). It listens on
 * the sockets libvirt clients look for, or on those systemd hands over. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "driver.h"
#include "error.h"
#include "rpc/server.h"

struct options {
    char *socket;
    char *config_dir;
    char *run_dir;
    char *log_dir;
    gboolean daemon;
    gboolean verbose;
    gboolean version;
};

struct paths {
    char *socket;
    char *socket_ro; /* NULL: no read-only socket (session daemons) */
    char *config_dir;
    char *run_dir;
    char *log_dir;
};

static void paths_clear(struct paths *p)
{
    g_free(p->socket);
    g_free(p->socket_ro);
    g_free(p->config_dir);
    g_free(p->run_dir);
    g_free(p->log_dir);
}

/* libvirt's locations: /run/libvirt and /etc/libvirt for the system daemon,
 * the XDG runtime and config dirs for a session one. */
static void paths_init(struct paths *p, const struct options *opt, bool privileged)
{
    g_autofree char *runtime = privileged
                                   ? g_strdup("/run/libvirt")
                                   : g_build_filename(g_get_user_runtime_dir(), "libvirt", NULL);
    g_autofree char *config = privileged
                                  ? g_strdup("/etc/libvirt")
                                  : g_build_filename(g_get_user_config_dir(), "libvirt", NULL);

    p->socket = opt->socket ? g_canonicalize_filename(opt->socket, NULL)
                            : g_build_filename(runtime, "virtvireod-sock", NULL);
    p->socket_ro = privileged || opt->socket ? g_strconcat(p->socket, "-ro", NULL) : NULL;
    p->config_dir = opt->config_dir ? g_canonicalize_filename(opt->config_dir, NULL)
                                    : g_build_filename(config, "vireo", NULL);
    p->run_dir = opt->run_dir ? g_canonicalize_filename(opt->run_dir, NULL)
                              : g_build_filename(runtime, "vireo", NULL);
    /* As libvirt's qemu driver: /var/log/libvirt/<driver>, or the user's
     * cache dir for a session daemon. VIREO_LOG_DIR is for tests. */
    if (opt->log_dir)
        p->log_dir = g_canonicalize_filename(opt->log_dir, NULL);
    else if (g_getenv("VIREO_LOG_DIR"))
        p->log_dir = g_canonicalize_filename(g_getenv("VIREO_LOG_DIR"), NULL);
    else if (privileged)
        p->log_dir = g_strdup("/var/log/libvirt/vireo");
    else
        p->log_dir = g_build_filename(g_get_user_cache_dir(), "libvirt", "vireo", "log", NULL);
}

static bool make_dir(const char *dir, int mode)
{
    if (g_mkdir_with_parents(dir, mode) < 0) {
        g_printerr(_("virtvireod: cannot create directory '%s': %s\n"), dir, g_strerror(errno));
        return false;
    }
    return true;
}

/* True when fd is bound to a path ending in "-ro". */
static bool fd_is_readonly(int fd)
{
    struct sockaddr_un addr = {0};
    socklen_t len = sizeof(addr);

    if (getsockname(fd, (struct sockaddr *)&addr, &len) < 0 || addr.sun_family != AF_UNIX)
        return false;
    return g_str_has_suffix(addr.sun_path, "-ro");
}

/* systemd socket activation (sd_listen_fds): fds from 3 on, when LISTEN_PID
 * names us. Returns how many sockets were taken over. */
static int take_listen_fds(struct rpc_server *srv)
{
    const char *pid = g_getenv("LISTEN_PID");
    const char *fds = g_getenv("LISTEN_FDS");
    long n;

    if (!pid || !fds || strtol(pid, NULL, 10) != (long)getpid())
        return 0;
    n = strtol(fds, NULL, 10);
    g_unsetenv("LISTEN_PID");
    g_unsetenv("LISTEN_FDS");
    g_unsetenv("LISTEN_FDNAMES");
    for (long i = 0; i < n && i < 16; i++) {
        int fd = 3 + i;
        bool ro = fd_is_readonly(fd);
        fcntl(fd, F_SETFD, FD_CLOEXEC);
        rpc_server_listen_fd(srv, fd, ro);
        g_info("listening on socket fd %d from systemd%s", fd, ro ? " (read-only)" : "");
    }
    return n;
}

static gboolean on_signal(gpointer loop)
{
    g_main_loop_quit(loop);
    return G_SOURCE_CONTINUE;
}

/* Forks into the background; the parent exits once the child is serving
 * (or with the child's failure). Returns the fd to report readiness on. */
static int daemonize(void)
{
    int pipefd[2];
    pid_t pid;
    char status = 1;

    if (pipe(pipefd) < 0) {
        g_printerr(_("virtvireod: pipe: %s\n"), g_strerror(errno));
        exit(EXIT_FAILURE);
    }
    pid = fork();
    if (pid < 0) {
        g_printerr(_("virtvireod: fork: %s\n"), g_strerror(errno));
        exit(EXIT_FAILURE);
    }
    if (pid > 0) {
        close(pipefd[1]);
        if (read(pipefd[0], &status, 1) != 1)
            status = 1;
        _exit(status == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
    }
    close(pipefd[0]);
    setsid();
    return pipefd[1];
}

static void report_ready(int fd)
{
    char ok = 0;
    int null = open("/dev/null", O_RDWR);

    if (fd < 0)
        return;
    if (write(fd, &ok, 1) != 1)
        g_warning("cannot report readiness: %s", g_strerror(errno));
    close(fd);
    if (null >= 0) {
        dup2(null, STDIN_FILENO);
        dup2(null, STDOUT_FILENO);
        dup2(null, STDERR_FILENO);
        if (null > STDERR_FILENO)
            close(null);
    }
}

int main(int argc, char **argv)
{
    struct options opt = {0};
    g_auto(GStrv) args = g_strdupv(argv);
    GOptionEntry entries[] = {
        {"socket", 's', 0, G_OPTION_ARG_FILENAME, &opt.socket,
         N_("read-write socket (the read-only one is PATH-ro)"), N_("PATH")},
        {"config-dir", 'c', 0, G_OPTION_ARG_FILENAME, &opt.config_dir,
         N_("where domain definitions are kept"), N_("DIR")},
        {"run-dir", 'r', 0, G_OPTION_ARG_FILENAME, &opt.run_dir,
         N_("where the state of running domains is kept"), N_("DIR")},
        {"log-dir", 'l', 0, G_OPTION_ARG_FILENAME, &opt.log_dir,
         N_("where each domain's VMM log (<name>.log) is written"), N_("DIR")},
        {"daemon", 'd', 0, G_OPTION_ARG_NONE, &opt.daemon, N_("run in the background"), NULL},
        {"verbose", 'v', 0, G_OPTION_ARG_NONE, &opt.verbose, N_("log every call"), NULL},
        {"version", 'V', 0, G_OPTION_ARG_NONE, &opt.version, N_("print the version and exit"),
         NULL},
        {NULL},
    };
    g_autoptr(GOptionContext) ctx = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(GMainLoop) loop = NULL;
    g_autofree char *socket_dir = NULL;
    struct paths paths = {0};
    struct vireo_driver *drv;
    struct rpc_server *srv;
    bool privileged = geteuid() == 0;
    const char *emulator;
    int ready_fd = -1;
    int rc = EXIT_FAILURE;

    setlocale(LC_ALL, "");
    bindtextdomain(PACKAGE, LOCALEDIR);
    textdomain(PACKAGE);

    ctx = g_option_context_new(NULL);
    g_option_context_set_summary(
        ctx, _("Serves libvirt's remote protocol for Vireo virtual machines: vireo:///system "
               "as root, vireo:///session as a user."));
    g_option_context_add_main_entries(ctx, entries, PACKAGE);
    g_option_context_set_translation_domain(ctx, PACKAGE);
    if (!g_option_context_parse_strv(ctx, &args, &error)) {
        g_printerr("virtvireod: %s\n", error->message);
        return EXIT_FAILURE;
    }
    if (opt.version) {
        printf("virtvireod (%s) %s\n", PACKAGE_NAME, PACKAGE_VERSION);
        return EXIT_SUCCESS;
    }
    if (opt.verbose)
        g_log_set_debug_enabled(TRUE);
    signal(SIGPIPE, SIG_IGN);

    paths_init(&paths, &opt, privileged);
    /* The socket's folder first: clients of the read-only socket must be able
     * to reach it even when it is also the parent of the private run dir. */
    socket_dir = g_path_get_dirname(paths.socket);
    if (!make_dir(socket_dir, 0755) || !make_dir(paths.config_dir, 0700) ||
        !make_dir(paths.run_dir, 0700) || !make_dir(paths.log_dir, 0700))
        goto out;

    if (opt.daemon)
        ready_fd = daemonize();

    /* VIREO_VMM lets tests run the daemon against a vireo-vmm in a build tree. */
    emulator = g_getenv("VIREO_VMM") ? g_getenv("VIREO_VMM") : VIREO_VMM_PATH;
    drv = vireo_driver_new(privileged, paths.config_dir, paths.run_dir, paths.log_dir, emulator);
    if (vireo_driver_load_config(drv, &error) < 0) {
        g_printerr("virtvireod: %s\n", error->message);
        vireo_driver_free(drv);
        goto out;
    }
    g_message(_("loaded %u domain definitions from %s"), vireo_domain_list_load(drv->domains),
              paths.config_dir);
    srv = rpc_server_new(vireo_driver_program(drv), geteuid());
    if (take_listen_fds(srv) == 0) {
        /* As libvirt's unix_sock_rw_perms and unix_sock_ro_perms. */
        if (rpc_server_listen_path(srv, paths.socket, 0700, false, &error) < 0 ||
            (paths.socket_ro &&
             rpc_server_listen_path(srv, paths.socket_ro, 0777, true, &error) < 0)) {
            g_printerr("virtvireod: %s\n", error->message);
            goto stop;
        }
        if (paths.socket_ro)
            g_message(_("serving %s on %s, read-only on %s"), drv->uri, paths.socket,
                      paths.socket_ro);
        else
            g_message(_("serving %s on %s"), drv->uri, paths.socket);
    }

    /* After the sockets: events of the recovery reach nobody yet, but
     * clients that connect meanwhile wait in the backlog. */
    vireo_driver_recover(drv);
    loop = g_main_loop_new(NULL, FALSE);
    g_unix_signal_add(SIGTERM, on_signal, loop);
    g_unix_signal_add(SIGINT, on_signal, loop);
    report_ready(ready_fd);
    ready_fd = -1;
    g_main_loop_run(loop);
    g_message(_("stopping"));
    rc = EXIT_SUCCESS;

stop:
    rpc_server_free(srv);
    vireo_driver_detach_all(drv);
    vireo_driver_free(drv);
out:
    if (ready_fd >= 0)
        close(ready_fd);
    paths_clear(&paths);
    g_free(opt.socket);
    g_free(opt.config_dir);
    g_free(opt.run_dir);
    g_free(opt.log_dir);
    return rc;
}
