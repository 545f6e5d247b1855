package org.epoll4j.internal;

/** The JNA binding: every call goes straight to {@link JnaNatives}' direct-mapped {@code static native} methods. */
final class JnaBinding extends Binding {
    @Override
    String name() {
        return "jna";
    }

    @Override
    boolean hasEpollPwait2() {
        return JnaNatives.Pwait2.BOUND;
    }

    @Override
    int epoll_pwait2(int epfd, long events, int maxEvents, long timespec, long sigmask, long sigsetSize) {
        return JnaNatives.Pwait2.epoll_pwait2(epfd, events, maxEvents, timespec, sigmask, sigsetSize);
    }

    @Override
    int epoll_create1(int flags) {
        return JnaNatives.epoll_create1(flags);
    }

    @Override
    int epoll_ctl(int epfd, int op, int fd, long event) {
        return JnaNatives.epoll_ctl(epfd, op, fd, event);
    }

    @Override
    int epoll_wait(int epfd, long events, int maxEvents, int timeoutMillis) {
        return JnaNatives.epoll_wait(epfd, events, maxEvents, timeoutMillis);
    }

    @Override
    int eventfd(int initval, int flags) {
        return JnaNatives.eventfd(initval, flags);
    }

    @Override
    int timerfd_create(int clockId, int flags) {
        return JnaNatives.timerfd_create(clockId, flags);
    }

    @Override
    int timerfd_settime(int fd, int flags, long newValue, long oldValue) {
        return JnaNatives.timerfd_settime(fd, flags, newValue, oldValue);
    }

    @Override
    int pipe2(long fds, int flags) {
        return JnaNatives.pipe2(fds, flags);
    }

    @Override
    int socketpair(int domain, int type, int protocol, long fds) {
        return JnaNatives.socketpair(domain, type, protocol, fds);
    }

    @Override
    long read(int fd, long buf, long count) {
        return JnaNatives.read(fd, buf, count);
    }

    @Override
    long write(int fd, long buf, long count) {
        return JnaNatives.write(fd, buf, count);
    }

    @Override
    long readv(int fd, long iov, int iovcnt) {
        return JnaNatives.readv(fd, iov, iovcnt);
    }

    @Override
    long writev(int fd, long iov, int iovcnt) {
        return JnaNatives.writev(fd, iov, iovcnt);
    }

    @Override
    long send(int fd, long buf, long len, int flags) {
        return JnaNatives.send(fd, buf, len, flags);
    }

    @Override
    long recv(int fd, long buf, long len, int flags) {
        return JnaNatives.recv(fd, buf, len, flags);
    }

    @Override
    long sendmsg(int fd, long msghdr, int flags) {
        return JnaNatives.sendmsg(fd, msghdr, flags);
    }

    @Override
    long sendfile(int outFd, int inFd, long offsetPtr, long count) {
        return JnaNatives.sendfile(outFd, inFd, offsetPtr, count);
    }

    @Override
    int close(int fd) {
        return JnaNatives.close(fd);
    }

    @Override
    int socket(int domain, int type, int protocol) {
        return JnaNatives.socket(domain, type, protocol);
    }

    @Override
    int bind(int fd, long addr, int addrLen) {
        return JnaNatives.bind(fd, addr, addrLen);
    }

    @Override
    int listen(int fd, int backlog) {
        return JnaNatives.listen(fd, backlog);
    }

    @Override
    int accept4(int fd, long addr, long addrLenPtr, int flags) {
        return JnaNatives.accept4(fd, addr, addrLenPtr, flags);
    }

    @Override
    int connect(int fd, long addr, int addrLen) {
        return JnaNatives.connect(fd, addr, addrLen);
    }

    @Override
    int shutdown(int fd, int how) {
        return JnaNatives.shutdown(fd, how);
    }

    @Override
    int setsockopt(int fd, int level, int name, long value, int len) {
        return JnaNatives.setsockopt(fd, level, name, value, len);
    }

    @Override
    int getsockopt(int fd, int level, int name, long value, long lenPtr) {
        return JnaNatives.getsockopt(fd, level, name, value, lenPtr);
    }

    @Override
    int getsockname(int fd, long addr, long lenPtr) {
        return JnaNatives.getsockname(fd, addr, lenPtr);
    }

    @Override
    int getpeername(int fd, long addr, long lenPtr) {
        return JnaNatives.getpeername(fd, addr, lenPtr);
    }

    @Override
    int fcntl(int fd, int cmd, int arg) {
        return JnaNatives.fcntl(fd, cmd, arg);
    }

    @Override
    int ioctl(int fd, long request, long argp) {
        return JnaNatives.ioctl(fd, request, argp);
    }

    @Override
    int poll(long fds, long nfds, int timeoutMillis) {
        return JnaNatives.poll(fds, nfds, timeoutMillis);
    }

    @Override
    int dup(int fd) {
        return JnaNatives.dup(fd);
    }

    @Override
    int open(String path, int flags) {
        return JnaNatives.open(path, flags);
    }

    @Override
    int sched_getaffinity(int pid, long cpusetsize, long mask) {
        return JnaNatives.sched_getaffinity(pid, cpusetsize, mask);
    }

    @Override
    int sched_setaffinity(int pid, long cpusetsize, long mask) {
        return JnaNatives.sched_setaffinity(pid, cpusetsize, mask);
    }

    // ---- loop services beyond sockets ----

    @Override
    long syscall(long nr, long a1, long a2, long a3, long a4) {
        return JnaNatives.syscall(nr, a1, a2, a3, a4);
    }

    @Override
    int waitid(int idtype, int id, long infop, int options) {
        return JnaNatives.waitid(idtype, id, infop, options);
    }

    @Override
    int inotify_init1(int flags) {
        return JnaNatives.inotify_init1(flags);
    }

    @Override
    int inotify_add_watch(int fd, long path, int mask) {
        return JnaNatives.inotify_add_watch(fd, path, mask);
    }

    @Override
    int inotify_rm_watch(int fd, int wd) {
        return JnaNatives.inotify_rm_watch(fd, wd);
    }

    @Override
    int posix_spawnp(long pidPtr, long file, long fileActions, long attr, long argv, long envp) {
        return JnaNatives.posix_spawnp(pidPtr, file, fileActions, attr, argv, envp);
    }

    @Override
    int posix_spawn_file_actions_init(long actions) {
        return JnaNatives.posix_spawn_file_actions_init(actions);
    }

    @Override
    int posix_spawn_file_actions_destroy(long actions) {
        return JnaNatives.posix_spawn_file_actions_destroy(actions);
    }

    @Override
    int posix_spawn_file_actions_adddup2(long actions, int fd, int newFd) {
        return JnaNatives.posix_spawn_file_actions_adddup2(actions, fd, newFd);
    }

    @Override
    int posix_spawn_file_actions_addchdir_np(long actions, long path) {
        return JnaNatives.SpawnChdir.posix_spawn_file_actions_addchdir_np(actions, path);
    }

    @Override
    boolean hasSpawnChdir() {
        return JnaNatives.SpawnChdir.BOUND;
    }

    @Override
    int posix_spawn_file_actions_addclosefrom_np(long actions, int from) {
        return JnaNatives.SpawnClosefrom.posix_spawn_file_actions_addclosefrom_np(actions, from);
    }

    @Override
    boolean hasSpawnClosefrom() {
        return JnaNatives.SpawnClosefrom.BOUND;
    }

    @Override
    int posix_spawnattr_init(long attr) {
        return JnaNatives.posix_spawnattr_init(attr);
    }

    @Override
    int posix_spawnattr_destroy(long attr) {
        return JnaNatives.posix_spawnattr_destroy(attr);
    }

    @Override
    int posix_spawnattr_setflags(long attr, short flags) {
        return JnaNatives.posix_spawnattr_setflags(attr, flags);
    }

    @Override
    int posix_spawnattr_setsigmask(long attr, long sigset) {
        return JnaNatives.posix_spawnattr_setsigmask(attr, sigset);
    }

    @Override
    int posix_spawnattr_setsigdefault(long attr, long sigset) {
        return JnaNatives.posix_spawnattr_setsigdefault(attr, sigset);
    }
    // ---- datagrams (issue 18): recvmmsg / sendmmsg ----

    @Override
    int recvmmsg(int fd, long msgvec, int vlen, int flags, long timeout) {
        return JnaNatives.recvmmsg(fd, msgvec, vlen, flags, timeout);
    }

    @Override
    int sendmmsg(int fd, long msgvec, int vlen, int flags) {
        return JnaNatives.sendmmsg(fd, msgvec, vlen, flags);
    }

    // ---- end datagrams ----

    // ---- begin: splice (issue 22; wt2-splice) ----

    @Override
    long splice(int fdIn, int fdOut, long len, int flags) {
        return JnaNatives.splice(fdIn, 0L, fdOut, 0L, len, flags);
    }

    // ---- end: splice ----

    // ---- fd passing (issue 22) ----

    @Override
    long recvmsg(int fd, long msghdr, int flags) {
        return JnaNatives.recvmsg(fd, msghdr, flags);
    }

    // ---- end fd passing ----

    @Override
    int errno() {
        return JnaNatives.errno();
    }
}
