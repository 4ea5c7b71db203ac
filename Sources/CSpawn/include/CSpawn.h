#ifndef CSPAWN_H
#define CSPAWN_H

#include <spawn.h>

/// Adds "close every descriptor from `lowest` up" to `actions` (glibc's posix_spawn_file_actions_addclosefrom_np).
int cspawn_add_close_from(posix_spawn_file_actions_t *actions, int lowest);

/// Adds "change into `directory`" to `actions` (glibc's posix_spawn_file_actions_addchdir_np).
int cspawn_add_chdir(posix_spawn_file_actions_t *actions, const char *directory);

/// Creates a pipe whose ends are closed on exec (glibc's pipe2 with O_CLOEXEC).
int cspawn_pipe(int fds[2]);

#endif
