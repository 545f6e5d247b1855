package org.epoll4j.internal;

/**
 * One implementation of the libc calls behind {@link LibC}: JNA direct mapping ({@link JnaBinding}) or, on Java 22+,
 * java.lang.foreign downcalls ({@code FfmBinding}). {@link LibC} holds exactly one instance in a {@code static final}
 * field, so the JIT sees a constant receiver of one exact class and inlines the call: the indirection costs nothing.
 *
 * <p>Same contract for both: primitive arguments, pointers as {@code long} addresses, -1 on failure with the errno
 * then readable through {@link #errno()} on the same thread until the next call.
 */
abstract class Binding {
    /** {@code "jna"} or {@code "ffm"}, as the {@code epoll4j.binding} property names it. */
    abstract String name();

    abstract int epoll_create1(int flags);

    abstract int epoll_ctl(int epfd, int op, int fd, long event);

    abstract int epoll_wait(int epfd, long events, int maxEvents, int timeoutMillis);

    /** Whether epoll_pwait2 was found in this libc (it may still fail with ENOSYS on an old kernel). */
    abstract boolean hasEpollPwait2();

    abstract int epoll_pwait2(int epfd, long events, int maxEvents, long timespec, long sigmask, long sigsetSize);

    abstract int eventfd(int initval, int flags);

    abstract int timerfd_create(int clockId, int flags);

    abstract int timerfd_settime(int fd, int flags, long newValue, long oldValue);

    abstract int pipe2(long fds, int flags);

    abstract int socketpair(int domain, int type, int protocol, long fds);

    abstract long read(int fd, long buf, long count);

    abstract long write(int fd, long buf, long count);

    abstract long readv(int fd, long iov, int iovcnt);

    abstract long writev(int fd, long iov, int iovcnt);

    abstract long send(int fd, long buf, long len, int flags);

    abstract long recv(int fd, long buf, long len, int flags);

    abstract long sendmsg(int fd, long msghdr, int flags);

    abstract long sendfile(int outFd, int inFd, long offsetPtr, long count);

    abstract int close(int fd);

    abstract int socket(int domain, int type, int protocol);

    abstract int bind(int fd, long addr, int addrLen);

    abstract int listen(int fd, int backlog);

    abstract int accept4(int fd, long addr, long addrLenPtr, int flags);

    abstract int connect(int fd, long addr, int addrLen);

    abstract int shutdown(int fd, int how);

    abstract int setsockopt(int fd, int level, int name, long value, int len);

    abstract int getsockopt(int fd, int level, int name, long value, long lenPtr);

    abstract int getsockname(int fd, long addr, long lenPtr);

    abstract int getpeername(int fd, long addr, long lenPtr);

    abstract int fcntl(int fd, int cmd, int arg);

    abstract int ioctl(int fd, long request, long argp);

    abstract int poll(long fds, long nfds, int timeoutMillis);

    abstract int dup(int fd);

    abstract int open(String path, int flags);

    abstract int sched_getaffinity(int pid, long cpusetsize, long mask);

    abstract int sched_setaffinity(int pid, long cpusetsize, long mask);

    // ---- loop services beyond sockets (child processes, pidfd, inotify): cold calls, never on a data path ----

    /** {@code syscall(nr, a1..a4)}: for pidfd_open/pidfd_send_signal, which older glibcs do not wrap. */
    abstract long syscall(long nr, long a1, long a2, long a3, long a4);

    abstract int waitid(int idtype, int id, long infop, int options);

    abstract int inotify_init1(int flags);

    abstract int inotify_add_watch(int fd, long path, int mask);

    abstract int inotify_rm_watch(int fd, int wd);

    /** posix_spawn and friends return an error number (0 on success); they do not set errno. */
    abstract int posix_spawnp(long pidPtr, long file, long fileActions, long attr, long argv, long envp);

    abstract int posix_spawn_file_actions_init(long actions);

    abstract int posix_spawn_file_actions_destroy(long actions);

    abstract int posix_spawn_file_actions_adddup2(long actions, int fd, int newFd);

    /** glibc 2.29+; {@link #hasSpawnChdir()} says whether this libc has it. */
    abstract int posix_spawn_file_actions_addchdir_np(long actions, long path);

    abstract boolean hasSpawnChdir();

    /** glibc 2.34+; {@link #hasSpawnClosefrom()} says whether this libc has it. */
    abstract int posix_spawn_file_actions_addclosefrom_np(long actions, int from);

    abstract boolean hasSpawnClosefrom();

    abstract int posix_spawnattr_init(long attr);

    abstract int posix_spawnattr_destroy(long attr);

    abstract int posix_spawnattr_setflags(long attr, short flags);

    abstract int posix_spawnattr_setsigmask(long attr, long sigset);

    abstract int posix_spawnattr_setsigdefault(long attr, long sigset);
    // ---- datagrams (issue 18): recvmmsg / sendmmsg ----

    abstract int recvmmsg(int fd, long msgvec, int vlen, int flags, long timeout);

    abstract int sendmmsg(int fd, long msgvec, int vlen, int flags);

    // ---- end datagrams ----

    // ---- begin: splice (issue 22; wt2-splice) ----

    abstract long splice(int fdIn, int fdOut, long len, int flags);

    // ---- end: splice ----

    // ---- fd passing (issue 22): recvmsg for SCM_RIGHTS ----

    abstract long recvmsg(int fd, long msghdr, int flags);

    // ---- end fd passing ----

    /** The errno of this thread's last call through this binding. */
    abstract int errno();

    @Override
    public String toString() {
        return name();
    }
}
