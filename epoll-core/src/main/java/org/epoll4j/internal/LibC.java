package org.epoll4j.internal;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;

/**
 * JNA direct mapping of the libc calls epoll4j uses.
 *
 * <p>Every method is a {@code static native} bound by {@link Native#register}: primitive arguments, addresses as
 * {@code long}, no per-call allocation. Failures return {@code -1}; the caller then reads {@link #errno()} (JNA saves
 * errno after every direct call, so reading it only on failure keeps the success path free of it).
 *
 * <p>Loading this class fails with an {@link UnsupportedOperationException} on anything but 64-bit Linux on x86_64
 * or aarch64: see {@link NativePlatform} for what the bindings and constants assume there. The constants below are
 * the values both architectures share (x86_64 and the asm-generic headers arm64 uses).
 */
public final class LibC {
    static {
        NativePlatform.requireSupported(); // before binding anything: the bindings below assume LP64 x86_64/aarch64
        Native.register(LibC.class, NativeLibrary.getInstance(Platform.C_LIBRARY_NAME));
    }

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

    public static native int epoll_create1(int flags);

    public static native int epoll_ctl(int epfd, int op, int fd, long event);

    public static native int epoll_wait(int epfd, long events, int maxEvents, int timeoutMillis);

    public static native int eventfd(int initval, int flags);

    public static native int timerfd_create(int clockId, int flags);

    public static native int timerfd_settime(int fd, int flags, long newValue, long oldValue);

    public static native int pipe2(long fds, int flags);

    public static native int socketpair(int domain, int type, int protocol, long fds);

    public static native long read(int fd, long buf, long count);

    public static native long write(int fd, long buf, long count);

    public static native long readv(int fd, long iov, int iovcnt);

    public static native long writev(int fd, long iov, int iovcnt);

    public static native long send(int fd, long buf, long len, int flags);

    public static native long recv(int fd, long buf, long len, int flags);

    public static native long sendmsg(int fd, long msghdr, int flags);

    public static native long sendfile(int outFd, int inFd, long offsetPtr, long count);

    public static native int close(int fd);

    public static native int socket(int domain, int type, int protocol);

    public static native int bind(int fd, long addr, int addrLen);

    public static native int listen(int fd, int backlog);

    public static native int accept4(int fd, long addr, long addrLenPtr, int flags);

    public static native int connect(int fd, long addr, int addrLen);

    public static native int shutdown(int fd, int how);

    public static native int setsockopt(int fd, int level, int name, long value, int len);

    public static native int getsockopt(int fd, int level, int name, long value, long lenPtr);

    public static native int getsockname(int fd, long addr, long lenPtr);

    public static native int getpeername(int fd, long addr, long lenPtr);

    public static native int fcntl(int fd, int cmd, int arg);

    public static native int ioctl(int fd, long request, long argp);

    public static native int poll(long fds, long nfds, int timeoutMillis);

    public static native int dup(int fd);

    public static native int open(String path, int flags);

    /** The errno of the last failed call on this thread. */
    public static int errno() {
        return Native.getLastError();
    }
}
