package org.epoll4j.internal;

import org.epoll4j.EpollException;

import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;

/**
 * Non-blocking stream sockets on raw fds: the system calls the net layer needs, each failure turned into an
 * {@link EpollException} naming the call. Not for the data path (reads and writes call {@link LibC} directly).
 */
public final class Sockets {
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private Sockets() {
    }

    /** Per-thread native memory for addresses and option values. */
    private static final class Scratch {
        final ByteBuffer addr = NativeMemory.allocate(SockAddr.MAX_SIZE + 16);
        final long addrAddress = NativeMemory.address(addr);
        final long lenAddress = addrAddress + SockAddr.MAX_SIZE;
    }

    /** A new non-blocking, close-on-exec stream socket for {@code address}'s family. */
    public static int open(SocketAddress address) throws EpollException {
        int family = SockAddr.family(address);
        int fd = LibC.socket(family, LibC.SOCK_STREAM | LibC.SOCK_NONBLOCK | LibC.SOCK_CLOEXEC, 0);
        if (fd < 0) {
            throw new EpollException("socket(" + familyName(family) + ", SOCK_STREAM)", LibC.errno());
        }
        return fd;
    }

    /** bind(2). */
    public static void bind(int fd, SocketAddress address) throws EpollException {
        Scratch s = SCRATCH.get();
        int len = SockAddr.encode(address, s.addr);
        if (LibC.bind(fd, s.addrAddress, len) != 0) {
            throw new EpollException("bind(fd=" + fd + ", " + address + ")", LibC.errno());
        }
    }

    /** listen(2). */
    public static void listen(int fd, int backlog) throws EpollException {
        if (LibC.listen(fd, backlog) != 0) {
            throw new EpollException("listen(fd=" + fd + ", backlog=" + backlog + ")", LibC.errno());
        }
    }

    /**
     * Starts a non-blocking connect.
     *
     * @return {@code true} if connected at once, {@code false} if in progress (wait for EPOLLOUT, then
     *         {@link #soError})
     * @throws EpollException if the connect failed at once; for a Unix-domain socket that includes EAGAIN (the
     *                        listener's backlog is full: nothing is in progress and EPOLLOUT would never mean
     *                        "connected", as the JDK and Netty also treat it)
     */
    public static boolean connect(int fd, SocketAddress address) throws EpollException {
        Scratch s = SCRATCH.get();
        int len = SockAddr.encode(address, s.addr);
        while (true) {
            if (LibC.connect(fd, s.addrAddress, len) == 0) {
                return true;
            }
            int err = LibC.errno();
            if (err == Errno.EINPROGRESS) {
                return false;
            }
            if (err != Errno.EINTR) {
                String hint = err == Errno.EAGAIN && address instanceof UnixDomainSocketAddress
                        ? ", listener's backlog full" : "";
                throw new EpollException("connect(fd=" + fd + ", " + address + hint + ")", err);
            }
        }
    }

    /** The pending error of a socket (SO_ERROR), 0 if none; reading it clears it. */
    public static int soError(int fd) throws EpollException {
        return getIntOption(fd, LibC.SOL_SOCKET, LibC.SO_ERROR, "SO_ERROR");
    }

    /** getsockopt for an int option. */
    public static int getIntOption(int fd, int level, int name, String label) throws EpollException {
        Scratch s = SCRATCH.get();
        s.addr.putInt(0, 0);
        s.addr.putInt(SockAddr.MAX_SIZE, 4);
        if (LibC.getsockopt(fd, level, name, s.addrAddress, s.lenAddress) != 0) {
            throw new EpollException("getsockopt(fd=" + fd + ", " + label + ")", LibC.errno());
        }
        return s.addr.getInt(0);
    }

    /** setsockopt for an int option. */
    public static void setIntOption(int fd, int level, int name, int value, String label) throws EpollException {
        Scratch s = SCRATCH.get();
        s.addr.putInt(0, value);
        if (LibC.setsockopt(fd, level, name, s.addrAddress, 4) != 0) {
            throw new EpollException("setsockopt(fd=" + fd + ", " + label + "=" + value + ")", LibC.errno());
        }
    }

    /** SO_LINGER {on, 0}: the next close(2) sends RST instead of FIN. */
    public static void lingerZero(int fd) throws EpollException {
        Scratch s = SCRATCH.get();
        s.addr.putInt(0, 1);
        s.addr.putInt(4, 0);
        if (LibC.setsockopt(fd, LibC.SOL_SOCKET, LibC.SO_LINGER, s.addrAddress, 8) != 0) {
            throw new EpollException("setsockopt(fd=" + fd + ", SO_LINGER={1,0})", LibC.errno());
        }
    }

    /** The socket's local address (getsockname). */
    public static SocketAddress localAddress(int fd) throws EpollException {
        return address(fd, LibC::getsockname, "getsockname");
    }

    /** The peer's address (getpeername). */
    public static SocketAddress remoteAddress(int fd) throws EpollException {
        return address(fd, LibC::getpeername, "getpeername");
    }

    /** getsockname(2) or getpeername(2): same arguments, same result. */
    private interface NameCall {
        int call(int fd, long addr, long lenPtr);
    }

    private static SocketAddress address(int fd, NameCall call, String name) throws EpollException {
        Scratch s = SCRATCH.get();
        s.addr.putInt(SockAddr.MAX_SIZE, SockAddr.MAX_SIZE);
        if (call.call(fd, s.addrAddress, s.lenAddress) != 0) {
            throw new EpollException(name + "(fd=" + fd + ")", LibC.errno());
        }
        return SockAddr.decode(s.addr, s.addr.getInt(SockAddr.MAX_SIZE));
    }

    /** Closes {@code fd}, ignoring errors (used on cleanup paths). */
    public static void closeQuietly(int fd) {
        if (fd >= 0) {
            LibC.close(fd);
        }
    }

    /** AF_INET, AF_INET6 or AF_UNIX as text. */
    public static String familyName(int family) {
        return family == LibC.AF_INET ? "AF_INET" : family == LibC.AF_INET6 ? "AF_INET6"
                : family == LibC.AF_UNIX ? "AF_UNIX" : "family=" + family;
    }
}
