#define _GNU_SOURCE 1
#include "CSpawn.h"

#include <fcntl.h>
#include <unistd.h>

int cspawn_add_close_from(posix_spawn_file_actions_t *actions, int lowest) {
    return posix_spawn_file_actions_addclosefrom_np(actions, lowest);
}

int cspawn_add_chdir(posix_spawn_file_actions_t *actions, const char *directory) {
    return posix_spawn_file_actions_addchdir_np(actions, directory);
}

int cspawn_pipe(int fds[2]) {
    return pipe2(fds, O_CLOEXEC);
}
