// Starting child processes without Foundation's Process: a fork/exec that applies resource limits,
// a new session, a user switch and a clean set of file descriptors in the child, and reports a
// failed exec to the parent. Used by Agentry's runtime for code agents and by its test harness.
#ifndef AGENTRY_SPAWN_H
#define AGENTRY_SPAWN_H

#include <sys/types.h>

/// Limits and identity applied in the child before exec; 0 (or -1 for ids) means "leave as is".
typedef struct {
    long cpu_seconds;
    long address_space_bytes;
    long processes;
    long file_size_bytes;
    long open_files;
    int uid;
    int gid;
    int new_session;
    int umask_bits;
} agentry_spawn_limits;

/// Starts `path` (an absolute path) with `argv` and `envp` in `directory` (NULL: unchanged), with
/// `stdin_fd`, `stdout_fd` and `stderr_fd` as its standard streams and every other descriptor
/// closed. Returns the child's pid, or -1 with `*error_out` set to the errno of what failed
/// (in the parent, or in the child before exec).
pid_t agentry_spawn(const char *path, char *const argv[], char *const envp[], const char *directory,
                    int stdin_fd, int stdout_fd, int stderr_fd, const agentry_spawn_limits *limits,
                    int *error_out);

/// Kills every process of user `uid` (never 0) by signalling -1 from a child that became that
/// user; returns 0 when the signal was sent, or an errno.
int agentry_kill_user(int uid);

/// Creates a pipe whose two ends close on exec; returns 0 or an errno.
int agentry_pipe(int fds[2]);

#endif
