// fork/exec with limits for Agentry's child processes; see agentry_spawn.h.
#define _GNU_SOURCE
#include "agentry_spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/// Closes every descriptor from `low` to `high` inclusive; close_range when the kernel has it.
static void close_between(int low, int high) {
    if (low > high) return;
    if (syscall(SYS_close_range, (unsigned)low, (unsigned)high, 0) == 0) return;
    long most = sysconf(_SC_OPEN_MAX);
    if (most < 0 || most > 65536) most = 65536;
    for (long fd = low; fd <= high && fd < most; fd++) close((int)fd);
}

/// Sets one resource limit (soft and hard) when `value` is positive.
static int limit(int resource, long value) {
    if (value <= 0) return 0;
    struct rlimit rl = {(rlim_t)value, (rlim_t)value};
    return setrlimit(resource, &rl);
}

/// Reports `error` to the parent through `report` and ends the child.
static void fail_child(int report, int error) {
    ssize_t ignored = write(report, &error, sizeof error);
    (void)ignored;
    _exit(127);
}

/// Moves `fd` to descriptor `target` (a no-op that clears close-on-exec when they are equal).
static int move_to(int fd, int target) {
    if (fd == target) return fcntl(fd, F_SETFD, 0);
    return dup2(fd, target) < 0 ? -1 : 0;
}

int agentry_pipe(int fds[2]) { return pipe2(fds, O_CLOEXEC) == 0 ? 0 : errno; }

pid_t agentry_spawn(const char *path, char *const argv[], char *const envp[], const char *directory,
                    int stdin_fd, int stdout_fd, int stderr_fd, const agentry_spawn_limits *limits,
                    int *error_out) {
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) {
        *error_out = errno;
        return -1;
    }
    // The report pipe must sit above the standard streams so the dup2s below cannot clobber it.
    if (report[1] <= 2) {
        int moved = fcntl(report[1], F_DUPFD_CLOEXEC, 3);
        close(report[1]);
        report[1] = moved;
    }
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    pid_t pid = fork();
    if (pid == 0) {
        // The child: only async-signal-safe calls from here to exec.
        struct sigaction fallback = {0};
        fallback.sa_handler = SIG_DFL;
        for (int signal_number = 1; signal_number < NSIG; signal_number++) sigaction(signal_number, &fallback, NULL);
        sigset_t none;
        sigemptyset(&none);
        pthread_sigmask(SIG_SETMASK, &none, NULL);
        int out = report[1];
        if (limits->new_session && setsid() < 0) fail_child(out, errno);
        // Streams may share numbers with 0–2; copy them out of the way first.
        int in = fcntl(stdin_fd, F_DUPFD_CLOEXEC, 3), o = fcntl(stdout_fd, F_DUPFD_CLOEXEC, 3),
            e = fcntl(stderr_fd, F_DUPFD_CLOEXEC, 3);
        if (in < 0 || o < 0 || e < 0) fail_child(out, errno);
        if (move_to(in, 0) || move_to(o, 1) || move_to(e, 2)) fail_child(out, errno);
        close_between(3, out - 1);
        close_between(out + 1, 0x7fffffff);
        if (directory && chdir(directory) != 0) fail_child(out, errno);
        if (limits->umask_bits >= 0) umask((mode_t)limits->umask_bits);
        struct rlimit nocore = {0, 0};
        setrlimit(RLIMIT_CORE, &nocore);
        // CPU: SIGXCPU at the limit, SIGKILL two seconds later if it is ignored.
        struct rlimit cpu = {(rlim_t)limits->cpu_seconds, (rlim_t)limits->cpu_seconds + 2};
        if (limits->cpu_seconds > 0 && setrlimit(RLIMIT_CPU, &cpu) != 0) fail_child(out, errno);
        if (limit(RLIMIT_AS, limits->address_space_bytes) ||
            limit(RLIMIT_NPROC, limits->processes) || limit(RLIMIT_FSIZE, limits->file_size_bytes) ||
            limit(RLIMIT_NOFILE, limits->open_files))
            fail_child(out, errno);
        if (limits->gid >= 0) {
            if (syscall(SYS_setgroups, 0, NULL) != 0) fail_child(out, errno);
            if (syscall(SYS_setresgid, limits->gid, limits->gid, limits->gid) != 0) fail_child(out, errno);
        }
        if (limits->uid >= 0 && syscall(SYS_setresuid, limits->uid, limits->uid, limits->uid) != 0)
            fail_child(out, errno);
        execve(path, argv, envp);
        fail_child(out, errno);
    }
    int saved = errno;
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    close(report[1]);
    if (pid < 0) {
        close(report[0]);
        *error_out = saved;
        return -1;
    }
    int child_error = 0;
    ssize_t got;
    do got = read(report[0], &child_error, sizeof child_error);
    while (got < 0 && errno == EINTR);
    close(report[0]);
    if (got == (ssize_t)sizeof child_error) {
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
        *error_out = child_error;
        return -1;
    }
    return pid;
}

int agentry_kill_user(int uid) {
    if (uid <= 0) return EINVAL;
    pid_t pid = fork();
    if (pid == 0) {
        if (syscall(SYS_setresuid, uid, uid, uid) != 0) _exit(1);
        // As that user, -1 reaches exactly that user's processes (never this one). A process
        // forking while the signal goes round can leave a child: repeat until none is left.
        for (int round = 0; round < 1000; round++) {
            if (kill(-1, SIGKILL) != 0 && errno == ESRCH) break;
        }
        _exit(0);
    }
    if (pid < 0) return errno;
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    return 0;
}
