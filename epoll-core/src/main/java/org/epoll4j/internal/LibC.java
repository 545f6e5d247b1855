package org.epoll4j.internal;

/**
 * The libc calls epoll4j uses: every caller goes through these static methods, whichever binding is underneath.
 *
 * <p>Two bindings implement them (see {@link Binding}): JNA direct mapping, on every Java version, and
 * java.lang.foreign downcalls, on Java 22+ when the jar carries them. One is chosen when this class initialises
 * ({@link BindingChoice}: the {@code epoll4j.binding} system property, {@code jna} or {@code ffm}, else the default
 * for this Java version) and kept in a {@code static final} field: the JIT treats it as a constant of one exact
 * class, so each call below inlines into a direct call of that binding.
 *
 * <p>Primitive arguments, addresses as {@code long}, no per-call allocation. Failures return {@code -1}; the caller
 * then reads {@link #errno()} (both bindings save errno after every call, so reading it only on failure keeps the
 * success path free of it).
 *
 * <p>On the FFM binding, calls the kernel guarantees not to wait use critical downcalls (cheaper: no thread-state
 * transition): {@code epoll_ctl}, {@code epoll_wait} and {@code poll} with timeout 0, and {@code send}, {@code recv}
 * and {@code sendmsg} with {@code MSG_DONTWAIT}. So pass {@code MSG_DONTWAIT} on the data path (on a non-blocking
 * socket it changes nothing else); {@code read} and {@code write} are never critical, as the fd might block.
 *
 * <p>Loading this class fails with an {@link UnsupportedOperationException} on anything but 64-bit Linux on x86_64
 * or aarch64: see {@link NativePlatform} for what the bindings and constants assume there. The constants below are
 * the values both architectures share (x86_64 and the asm-generic headers arm64 uses).
 */
public final class LibC {
    /** The binding every call below goes to; final, so the JIT inlines through it. */
    private static final Binding IMPL = BindingChoice.load();

    private LibC() {
    }

    // epoll_create1 / epoll_ctl flags and ops
    public static final int EPOLL_CLOEXEC = 0x80000;
    public static final int EPOLL_CTL_ADD = 1;
    public static final int EPOLL_CTL_DEL = 2;
    public static final int EPOLL_CTL_MOD = 3;

    // epoll event bits
    public static final int EPOLLIN = 0x001;
    public static final int EPOLLPRI = 0x002;
    public static final int EPOLLOUT = 0x004;
    public static final int EPOLLERR = 0x008;
    public static final int EPOLLHUP = 0x010;
    public static final int EPOLLRDHUP = 0x2000;
    public static final int EPOLLEXCLUSIVE = 1 << 28;
    public static final int EPOLLONESHOT = 1 << 30;
    public static final int EPOLLET = 1 << 31;

    // eventfd / timerfd / pipe2 / socket flags (x86_64 and asm-generic, hence arm64, agree on these)
    public static final int O_NONBLOCK = 0x800;
    public static final int O_CLOEXEC = 0x80000;
    public static final int EFD_NONBLOCK = O_NONBLOCK;
    public static final int EFD_CLOEXEC = O_CLOEXEC;
    public static final int TFD_NONBLOCK = O_NONBLOCK;
    public static final int TFD_CLOEXEC = O_CLOEXEC;
    public static final int CLOCK_MONOTONIC = 1;
    public static final int SOCK_NONBLOCK = O_NONBLOCK;
    public static final int SOCK_CLOEXEC = O_CLOEXEC;

    // fcntl
    public static final int F_GETFD = 1;
    public static final int F_GETFL = 3;
    public static final int F_SETFL = 4;

    // ioctl
    public static final long FIONREAD = 0x541B;

    // --- begin: socket queue ioctls (SocketQueues; wt2-ex) ---
    /** Bytes in a socket's send queue (TIOCOUTQ's number); on TCP, written but not yet acknowledged by the peer. */
    public static final long SIOCOUTQ = 0x5411;
    // --- end: socket queue ioctls ---

    // poll
    public static final short POLLIN = 0x001;
    public static final short POLLOUT = 0x004;

    // sockets
    public static final int AF_UNIX = 1;
    public static final int AF_INET = 2;
    public static final int AF_INET6 = 10;
    public static final int SOCK_STREAM = 1;
    public static final int SHUT_RD = 0;
    public static final int SHUT_WR = 1;
    public static final int SHUT_RDWR = 2;
    public static final int MSG_NOSIGNAL = 0x4000;
    public static final int MSG_DONTWAIT = 0x40;
    /** More data follows at once: the kernel holds a partial segment for it (per call, like a brief TCP_CORK). */
    public static final int MSG_MORE = 0x8000;
    public static final int O_RDONLY = 0;

    public static final int SOL_SOCKET = 1;
    public static final int SO_REUSEADDR = 2;
    public static final int SO_ERROR = 4;
    public static final int SO_SNDBUF = 7;
    public static final int SO_RCVBUF = 8;
    public static final int SO_KEEPALIVE = 9;
    public static final int SO_LINGER = 13;
    public static final int SO_REUSEPORT = 15;
    public static final int IPPROTO_TCP = 6;
    public static final int IPPROTO_IPV6 = 41;
    public static final int TCP_NODELAY = 1;
    public static final int TCP_KEEPIDLE = 4;
    public static final int TCP_KEEPINTVL = 5;
    public static final int TCP_KEEPCNT = 6;
    public static final int TCP_USER_TIMEOUT = 18;
    public static final int IPV6_V6ONLY = 26;

    public static int epoll_create1(int flags) {
        return IMPL.epoll_create1(flags);
    }

    public static int epoll_ctl(int epfd, int op, int fd, long event) {
        return IMPL.epoll_ctl(epfd, op, fd, event);
    }

    public static int epoll_wait(int epfd, long events, int maxEvents, int timeoutMillis) {
        return IMPL.epoll_wait(epfd, events, maxEvents, timeoutMillis);
    }

    public static int eventfd(int initval, int flags) {
        return IMPL.eventfd(initval, flags);
    }

    public static int timerfd_create(int clockId, int flags) {
        return IMPL.timerfd_create(clockId, flags);
    }

    public static int timerfd_settime(int fd, int flags, long newValue, long oldValue) {
        return IMPL.timerfd_settime(fd, flags, newValue, oldValue);
    }

    public static int pipe2(long fds, int flags) {
        return IMPL.pipe2(fds, flags);
    }

    public static int socketpair(int domain, int type, int protocol, long fds) {
        return IMPL.socketpair(domain, type, protocol, fds);
    }

    public static long read(int fd, long buf, long count) {
        return IMPL.read(fd, buf, count);
    }

    public static long write(int fd, long buf, long count) {
        return IMPL.write(fd, buf, count);
    }

    public static long readv(int fd, long iov, int iovcnt) {
        return IMPL.readv(fd, iov, iovcnt);
    }

    public static long writev(int fd, long iov, int iovcnt) {
        return IMPL.writev(fd, iov, iovcnt);
    }

    public static long send(int fd, long buf, long len, int flags) {
        return IMPL.send(fd, buf, len, flags);
    }

    public static long recv(int fd, long buf, long len, int flags) {
        return IMPL.recv(fd, buf, len, flags);
    }

    public static long sendmsg(int fd, long msghdr, int flags) {
        return IMPL.sendmsg(fd, msghdr, flags);
    }

    public static long sendfile(int outFd, int inFd, long offsetPtr, long count) {
        return IMPL.sendfile(outFd, inFd, offsetPtr, count);
    }

    public static int close(int fd) {
        return IMPL.close(fd);
    }

    public static int socket(int domain, int type, int protocol) {
        return IMPL.socket(domain, type, protocol);
    }

    public static int bind(int fd, long addr, int addrLen) {
        return IMPL.bind(fd, addr, addrLen);
    }

    public static int listen(int fd, int backlog) {
        return IMPL.listen(fd, backlog);
    }

    public static int accept4(int fd, long addr, long addrLenPtr, int flags) {
        return IMPL.accept4(fd, addr, addrLenPtr, flags);
    }

    public static int connect(int fd, long addr, int addrLen) {
        return IMPL.connect(fd, addr, addrLen);
    }

    public static int shutdown(int fd, int how) {
        return IMPL.shutdown(fd, how);
    }

    public static int setsockopt(int fd, int level, int name, long value, int len) {
        return IMPL.setsockopt(fd, level, name, value, len);
    }

    public static int getsockopt(int fd, int level, int name, long value, long lenPtr) {
        return IMPL.getsockopt(fd, level, name, value, lenPtr);
    }

    public static int getsockname(int fd, long addr, long lenPtr) {
        return IMPL.getsockname(fd, addr, lenPtr);
    }

    public static int getpeername(int fd, long addr, long lenPtr) {
        return IMPL.getpeername(fd, addr, lenPtr);
    }

    public static int fcntl(int fd, int cmd, int arg) {
        return IMPL.fcntl(fd, cmd, arg);
    }

    public static int ioctl(int fd, long request, long argp) {
        return IMPL.ioctl(fd, request, argp);
    }

    public static int poll(long fds, long nfds, int timeoutMillis) {
        return IMPL.poll(fds, nfds, timeoutMillis);
    }

    public static int dup(int fd) {
        return IMPL.dup(fd);
    }

    public static int open(String path, int flags) {
        return IMPL.open(path, flags);
    }

    // ---- loop services beyond sockets (child processes, pidfd, inotify) ----

    /** pidfd_open(2), by number: the same on every architecture (the unified table from 424 on). */
    public static final long SYS_PIDFD_OPEN = 434;
    /** pidfd_send_signal(2), by number. */
    public static final long SYS_PIDFD_SEND_SIGNAL = 424;
    public static final int P_PIDFD = 3;
    public static final int WEXITED = 4;
    public static final int WNOHANG = 1;
    public static final int IN_NONBLOCK = O_NONBLOCK;
    public static final int IN_CLOEXEC = O_CLOEXEC;

    /** pidfd_open(pid, 0): an fd that turns readable when the process exits. -1 and errno on failure. */
    public static int pidfd_open(int pid) {
        return (int) IMPL.syscall(SYS_PIDFD_OPEN, pid, 0, 0, 0);
    }

    /** pidfd_send_signal(pidfd, sig, NULL, 0): signals exactly the process the pidfd names (no pid reuse race). */
    public static int pidfd_send_signal(int pidfd, int sig) {
        return (int) IMPL.syscall(SYS_PIDFD_SEND_SIGNAL, pidfd, sig, 0, 0);
    }

    public static int waitid(int idtype, int id, long infop, int options) {
        return IMPL.waitid(idtype, id, infop, options);
    }

    public static int inotify_init1(int flags) {
        return IMPL.inotify_init1(flags);
    }

    public static int inotify_add_watch(int fd, long path, int mask) {
        return IMPL.inotify_add_watch(fd, path, mask);
    }

    public static int inotify_rm_watch(int fd, int wd) {
        return IMPL.inotify_rm_watch(fd, wd);
    }

    public static int posix_spawnp(long pidPtr, long file, long fileActions, long attr, long argv, long envp) {
        return IMPL.posix_spawnp(pidPtr, file, fileActions, attr, argv, envp);
    }

    public static int posix_spawn_file_actions_init(long actions) {
        return IMPL.posix_spawn_file_actions_init(actions);
    }

    public static int posix_spawn_file_actions_destroy(long actions) {
        return IMPL.posix_spawn_file_actions_destroy(actions);
    }

    public static int posix_spawn_file_actions_adddup2(long actions, int fd, int newFd) {
        return IMPL.posix_spawn_file_actions_adddup2(actions, fd, newFd);
    }

    /** Whether posix_spawn_file_actions_addchdir_np exists here (glibc 2.29+). */
    public static boolean hasSpawnChdir() {
        return IMPL.hasSpawnChdir();
    }

    public static int posix_spawn_file_actions_addchdir_np(long actions, long path) {
        return IMPL.posix_spawn_file_actions_addchdir_np(actions, path);
    }

    /** Whether posix_spawn_file_actions_addclosefrom_np exists here (glibc 2.34+). */
    public static boolean hasSpawnClosefrom() {
        return IMPL.hasSpawnClosefrom();
    }

    public static int posix_spawn_file_actions_addclosefrom_np(long actions, int from) {
        return IMPL.posix_spawn_file_actions_addclosefrom_np(actions, from);
    }

    public static int posix_spawnattr_init(long attr) {
        return IMPL.posix_spawnattr_init(attr);
    }

    public static int posix_spawnattr_destroy(long attr) {
        return IMPL.posix_spawnattr_destroy(attr);
    }

    public static int posix_spawnattr_setflags(long attr, short flags) {
        return IMPL.posix_spawnattr_setflags(attr, flags);
    }

    public static int posix_spawnattr_setsigmask(long attr, long sigset) {
        return IMPL.posix_spawnattr_setsigmask(attr, sigset);
    }

    public static int posix_spawnattr_setsigdefault(long attr, long sigset) {
        return IMPL.posix_spawnattr_setsigdefault(attr, sigset);
    }
    // ---- datagrams (issue 18): constants and calls; x86_64 and asm-generic agree on all of these ----
    public static final int SOCK_DGRAM = 2;
    public static final int IPPROTO_IP = 0;
    public static final int IPPROTO_UDP = 17;
    public static final int SOL_UDP = 17;
    public static final int SO_BROADCAST = 6;
    public static final int IP_TOS = 1;
    public static final int IP_PKTINFO = 8;
    public static final int IP_MULTICAST_IF = 32;
    public static final int IP_MULTICAST_TTL = 33;
    public static final int IP_MULTICAST_LOOP = 34;
    public static final int IP_ADD_MEMBERSHIP = 35;
    public static final int IP_DROP_MEMBERSHIP = 36;
    public static final int IPV6_MULTICAST_IF = 17;
    public static final int IPV6_MULTICAST_HOPS = 18;
    public static final int IPV6_MULTICAST_LOOP = 19;
    public static final int IPV6_JOIN_GROUP = 20;
    public static final int IPV6_LEAVE_GROUP = 21;
    public static final int IPV6_RECVPKTINFO = 49;
    public static final int IPV6_PKTINFO = 50;
    public static final int IPV6_TCLASS = 67;
    public static final int UDP_SEGMENT = 103;
    public static final int UDP_GRO = 104;
    public static final int MSG_CTRUNC = 0x8;
    public static final int MSG_TRUNC = 0x20;

    /** recvmmsg(2); {@code timeout} is a {@code struct timespec *} (0 for none). */
    public static int recvmmsg(int fd, long msgvec, int vlen, int flags, long timeout) {
        return IMPL.recvmmsg(fd, msgvec, vlen, flags, timeout);
    }

    /** sendmmsg(2): returns how many messages were sent, -1 if the first one failed. */
    public static int sendmmsg(int fd, long msgvec, int vlen, int flags) {
        return IMPL.sendmmsg(fd, msgvec, vlen, flags);
    }

    // ---- end datagrams ----

    // ---- begin: splice (issue 22; wt2-splice): constants and calls; x86_64 and asm-generic agree ----
    public static final int SPLICE_F_MOVE = 1;
    public static final int SPLICE_F_NONBLOCK = 2;
    public static final int F_SETPIPE_SZ = 1031;
    public static final int F_GETPIPE_SZ = 1032;

    /**
     * splice(2) between a pipe and a pipe or socket, without offsets: returns the bytes moved, 0 at the input's end,
     * -1 with errno (EAGAIN: nothing to move now, or no room; EINVAL: an end that cannot splice).
     */
    public static long splice(int fdIn, int fdOut, long len, int flags) {
        return IMPL.splice(fdIn, fdOut, len, flags);
    }

    // ---- end: splice ----

    // ---- fd passing over Unix-domain sockets (issue 22): SCM_RIGHTS ----
    /** {@code cmsg_type} of a control message carrying file descriptors (level {@link #SOL_SOCKET}). */
    public static final int SCM_RIGHTS = 1;
    /** recvmsg flag: received fds get FD_CLOEXEC atomically. */
    public static final int MSG_CMSG_CLOEXEC = 0x40000000;
    /** fcntl command: duplicate to the lowest free fd at or above {@code arg}, close-on-exec. */
    public static final int F_DUPFD_CLOEXEC = 1030;
    /** The kernel's limit of fds in one SCM_RIGHTS message ({@code SCM_MAX_FD}, include/net/scm.h). */
    public static final int SCM_MAX_FD = 253;

    /** recvmsg(2); with {@code MSG_DONTWAIT} it never waits (critical on FFM). */
    public static long recvmsg(int fd, long msghdr, int flags) {
        return IMPL.recvmsg(fd, msghdr, flags);
    }

    // ---- end fd passing ----

    /** The errno of the last failed call on this thread. */
    public static int errno() {
        return IMPL.errno();
    }

    /**
     * The binding in use, {@code "jna"} or {@code "ffm"}: for {@code toString}, statistics and logs.
     *
     * @return the value {@code -Depoll4j.binding=} would name to choose it
     */
    public static String binding() {
        return IMPL.name();
    }

    /** The binding object itself, for {@link EpollPwait2} and {@link Affinity} (package-private). */
    static Binding impl() {
        return IMPL;
    }
}
