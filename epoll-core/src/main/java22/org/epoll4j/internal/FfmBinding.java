package org.epoll4j.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * The java.lang.foreign binding (Java 22+): one downcall {@link MethodHandle} per libc function, each held in a
 * static field that is deliberately <em>not</em> final (the first point below).
 *
 * <ul>
 *   <li>Why not final: a handle linked with {@code captureCallState} slices the errno segment on every call (the
 *       JDK's {@code SharedUtils.checkCaptureSegment} returns {@code asSlice(0, layout)}, a new 40-byte segment
 *       object), and only escape analysis keeps that off the heap, if the JIT inlines the whole chain down to the
 *       segment's constructor, about nine levels below the {@code invokeExact}. A {@code static final} handle is a
 *       constant, so C2 inlines that chain into the caller's compilation, where it counts against
 *       {@code MaxInlineLevel} (15) from that compilation's root: a send in a data handler
 *       ({@code Inbound.readPlain} &rarr; handler &rarr; {@code Connection.write} &rarr; ... &rarr;
 *       {@code LibC.send}) reaches that level before {@code Object.<init>}, the slice escapes, and each TCP echo
 *       allocated 40 B. A handle read from a non-final field is no constant: C2 calls its lambda form (customized
 *       to the handle after a few calls), which is compiled as its own root with the whole chain inlined, so the
 *       slice is scalar-replaced however deep the caller is. The price is one call per downcall.</li>
 *   <li>Pointers are passed as {@code JAVA_LONG}: on the LP64 ABIs epoll4j supports ({@link NativePlatform}) a
 *       pointer and a {@code long} travel in the same register, and a {@code long} needs no {@link MemorySegment}
 *       per call. {@code open}'s path is the one real {@code ADDRESS} (a C string in a confined arena: not a hot
 *       call).</li>
 *   <li>errno: every handle has {@code Linker.Option.captureCallState("errno")}, which writes errno into a
 *       per-thread segment (allocated once per thread) right after the call, before the JVM can run anything that
 *       would change it; {@link #errno()} reads that segment. Only callers that saw -1 read it.</li>
 *   <li>{@code Linker.Option.critical(false)} (no thread-state transition; the thread stays in Java state, so a
 *       safepoint waits for it) only where the kernel guarantees the call does not wait: {@code epoll_wait} and
 *       {@code poll} with timeout 0, and {@code send}/{@code recv}/{@code sendmsg} with
 *       {@code MSG_DONTWAIT}. The same calls that may wait use a plain downcall. {@code read}/{@code write} and the
 *       others can block on a blocking fd, and {@link LibC} does not know the fd's mode, so they are never
 *       critical; nor is {@code epoll_ctl}, which sleeps on the epoll instance's mutex while another thread holds
 *       it.</li>
 *   <li>The variadic {@code fcntl} and {@code ioctl} are bound with {@code Linker.Option.firstVariadicArg}, and
 *       {@code open} as {@code open(path, flags, ...)} with no variadic argument, as C calls them.</li>
 * </ul>
 *
 * <p>Compiled only by a JDK 22+ build (into {@code META-INF/versions/22}); loaded only on Java 22+ by
 * {@link BindingChoice}.
 */
final class FfmBinding extends Binding {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final StructLayout CAPTURE_LAYOUT = Linker.Option.captureStateLayout();
    private static final long ERRNO_OFFSET = CAPTURE_LAYOUT.byteOffset(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");
    private static final Linker.Option CRITICAL = Linker.Option.critical(false);
    private static final int MSG_DONTWAIT = LibC.MSG_DONTWAIT;

    /** Where each thread's calls leave errno: allocated once per thread, freed with it (automatic arena). */
    private static final ThreadLocal<MemorySegment> ERRNO_SLOT =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(CAPTURE_LAYOUT));

    // The handles: not final, deliberately, though assigned once and named like constants. A final one would be
    // inlined into its callers, and its errno slice allocated where they nest it deep (see the class comment).
    private static MethodHandle EPOLL_CREATE1 = downcall("epoll_create1", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    /**
     * Not critical: epoll_ctl takes the epoll instance's mutex (and, adding one epoll fd to another, a global one),
     * and sleeps while another thread holds it (a loop copying out its events, another thread registering). A
     * critical call holds off safepoints meanwhile, so every other Java thread would wait on that mutex too.
     */
    private static MethodHandle EPOLL_CTL = downcall("epoll_ctl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
    private static MethodHandle EPOLL_WAIT = downcall("epoll_wait", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_INT));
    /** Timeout 0 never waits: critical. */
    private static MethodHandle EPOLL_WAIT_NOW = downcall("epoll_wait", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_INT), CRITICAL);
    private static MethodHandle EVENTFD = downcall("eventfd", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static MethodHandle TIMERFD_CREATE = downcall("timerfd_create", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static MethodHandle TIMERFD_SETTIME = downcall("timerfd_settime", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG));
    private static MethodHandle PIPE2 = downcall("pipe2", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT));
    private static MethodHandle SOCKETPAIR = downcall("socketpair", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
    private static MethodHandle READ = downcall("read", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG));
    private static MethodHandle WRITE = downcall("write", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG));
    private static MethodHandle READV = downcall("readv", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT));
    private static MethodHandle WRITEV = downcall("writev", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT));
    private static MethodHandle SEND = downcall("send", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT));
    /** MSG_DONTWAIT never waits: critical. */
    private static MethodHandle SEND_DONTWAIT = downcall("send", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT), CRITICAL);
    private static MethodHandle RECV = downcall("recv", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT));
    /** MSG_DONTWAIT never waits: critical. */
    private static MethodHandle RECV_DONTWAIT = downcall("recv", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT), CRITICAL);
    private static MethodHandle SENDMSG = downcall("sendmsg", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT));
    /** MSG_DONTWAIT never waits: critical. */
    private static MethodHandle SENDMSG_DONTWAIT = downcall("sendmsg", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT), CRITICAL);
    private static MethodHandle SENDFILE = downcall("sendfile", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG));
    private static MethodHandle CLOSE = downcall("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static MethodHandle SOCKET = downcall("socket", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    private static MethodHandle BIND = downcall("bind", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_INT));
    private static MethodHandle LISTEN = downcall("listen", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static MethodHandle ACCEPT4 = downcall("accept4", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT));
    private static MethodHandle CONNECT = downcall("connect", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_INT));
    private static MethodHandle SHUTDOWN = downcall("shutdown", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static MethodHandle SETSOCKOPT = downcall("setsockopt", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_INT));
    private static MethodHandle GETSOCKOPT = downcall("getsockopt", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG));
    private static MethodHandle GETSOCKNAME = downcall("getsockname", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG));
    private static MethodHandle GETPEERNAME = downcall("getpeername", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG));
    /** Variadic from the third argument on, bound as such. */
    private static MethodHandle FCNTL = downcall("fcntl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT), Linker.Option.firstVariadicArg(2));
    /** Variadic from the third argument on, bound as such. */
    private static MethodHandle IOCTL = downcall("ioctl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG), Linker.Option.firstVariadicArg(2));
    private static MethodHandle POLL = downcall("poll", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT));
    /** Timeout 0 never waits: critical. */
    private static MethodHandle POLL_NOW = downcall("poll", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT), CRITICAL);
    private static MethodHandle DUP = downcall("dup", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static MethodHandle SCHED_GETAFFINITY = downcall("sched_getaffinity", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG));
    private static MethodHandle SCHED_SETAFFINITY = downcall("sched_setaffinity", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG));
    private static MethodHandle OPEN = downcall("open", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT),
            Linker.Option.firstVariadicArg(2));
    // ---- loop services beyond sockets (child processes, pidfd, inotify): cold calls, never critical ----
    private static MethodHandle SYSCALL = downcall("syscall", FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG), Linker.Option.firstVariadicArg(1));
    private static MethodHandle WAITID = downcall("waitid", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_INT));
    private static MethodHandle INOTIFY_INIT1 = downcall("inotify_init1", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static MethodHandle INOTIFY_ADD_WATCH = downcall("inotify_add_watch", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_INT));
    private static MethodHandle INOTIFY_RM_WATCH = downcall("inotify_rm_watch", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static MethodHandle POSIX_SPAWNP = downcall("posix_spawnp", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG));
    private static MethodHandle POSIX_SPAWN_FILE_ACTIONS_INIT = downcall("posix_spawn_file_actions_init", FunctionDescriptor.of(JAVA_INT, JAVA_LONG));
    private static MethodHandle POSIX_SPAWN_FILE_ACTIONS_DESTROY = downcall("posix_spawn_file_actions_destroy", FunctionDescriptor.of(JAVA_INT, JAVA_LONG));
    private static MethodHandle POSIX_SPAWN_FILE_ACTIONS_ADDDUP2 = downcall("posix_spawn_file_actions_adddup2", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_INT));
    private static MethodHandle POSIX_SPAWNATTR_INIT = downcall("posix_spawnattr_init", FunctionDescriptor.of(JAVA_INT, JAVA_LONG));
    private static MethodHandle POSIX_SPAWNATTR_DESTROY = downcall("posix_spawnattr_destroy", FunctionDescriptor.of(JAVA_INT, JAVA_LONG));
    private static MethodHandle POSIX_SPAWNATTR_SETFLAGS = downcall("posix_spawnattr_setflags", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_SHORT));
    private static MethodHandle POSIX_SPAWNATTR_SETSIGMASK = downcall("posix_spawnattr_setsigmask", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG));
    private static MethodHandle POSIX_SPAWNATTR_SETSIGDEFAULT = downcall("posix_spawnattr_setsigdefault", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG));
    /** glibc 2.29+; null where this libc lacks it. */
    private static MethodHandle POSIX_SPAWN_FILE_ACTIONS_ADDCHDIR_NP = optional("posix_spawn_file_actions_addchdir_np",
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG));
    /** glibc 2.34+; null where this libc lacks it. */
    private static MethodHandle POSIX_SPAWN_FILE_ACTIONS_ADDCLOSEFROM_NP = optional("posix_spawn_file_actions_addclosefrom_np",
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT));
    private static final Optional<MemorySegment> EPOLL_PWAIT2_SYMBOL = LIBC.find("epoll_pwait2");
    /** Blocking (the timeout is a timespec we do not inspect): never critical. Null if this libc lacks it. */
    private static MethodHandle EPOLL_PWAIT2 = EPOLL_PWAIT2_SYMBOL.map(s -> LINKER.downcallHandle(s,
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG),
            CAPTURE_ERRNO)).orElse(null);

    // ---- datagrams (issue 18): recvmmsg / sendmmsg, critical with MSG_DONTWAIT and no timeout ----
    private static MethodHandle RECVMMSG = downcall("recvmmsg", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_LONG));
    /** MSG_DONTWAIT never waits: critical. */
    private static MethodHandle RECVMMSG_DONTWAIT = downcall("recvmmsg", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_LONG), CRITICAL);
    private static MethodHandle SENDMMSG = downcall("sendmmsg", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_INT));
    /** MSG_DONTWAIT never waits: critical. */
    private static MethodHandle SENDMMSG_DONTWAIT = downcall("sendmmsg", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_INT), CRITICAL);
    // ---- end datagrams ----

    // ---- begin: splice (issue 22; wt2-splice) ----
    private static MethodHandle SPLICE = downcall("splice", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT));
    // ---- end: splice ----

    // ---- fd passing (issue 22): recvmsg, critical with MSG_DONTWAIT ----
    private static MethodHandle RECVMSG = downcall("recvmsg", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT));
    /** MSG_DONTWAIT never waits: critical. */
    private static MethodHandle RECVMSG_DONTWAIT = downcall("recvmsg", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT), CRITICAL);
    // ---- end fd passing ----

    FfmBinding() {
    }

    private static MethodHandle downcall(String name, FunctionDescriptor descriptor, Linker.Option... options) {
        MemorySegment symbol = LIBC.find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("libc has no symbol " + name));
        Linker.Option[] all = new Linker.Option[options.length + 1];
        all[0] = CAPTURE_ERRNO;
        System.arraycopy(options, 0, all, 1, options.length);
        return LINKER.downcallHandle(symbol, descriptor, all);
    }

    /** This thread's errno capture segment. */
    private static MemorySegment errnoSlot() {
        return ERRNO_SLOT.get();
    }

    /** A downcall declares Throwable but throws nothing checked; pass unchecked ones on unchanged. */
    private static RuntimeException unexpected(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException("unexpected checked exception from a downcall", t);
    }

    @Override
    String name() {
        return "ffm";
    }

    @Override
    int errno() {
        return errnoSlot().get(JAVA_INT, ERRNO_OFFSET);
    }

    @Override
    boolean hasEpollPwait2() {
        return EPOLL_PWAIT2 != null;
    }

    @Override
    int epoll_pwait2(int epfd, long events, int maxEvents, long timespec, long sigmask, long sigsetSize) {
        if (EPOLL_PWAIT2 == null) {
            throw new UnsatisfiedLinkError("libc has no symbol epoll_pwait2");
        }
        try {
            return (int) EPOLL_PWAIT2.invokeExact(errnoSlot(), epfd, events, maxEvents, timespec, sigmask, sigsetSize);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    int open(String path, int flags) {
        try (Arena arena = Arena.ofConfined()) {
            return (int) OPEN.invokeExact(errnoSlot(), arena.allocateFrom(path), flags);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    int epoll_create1(int flags) {
        try {
            return (int) EPOLL_CREATE1.invokeExact(errnoSlot(), flags);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    int epoll_ctl(int epfd, int op, int fd, long event) {
        try {
            return (int) EPOLL_CTL.invokeExact(errnoSlot(), epfd, op, fd, event);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    int epoll_wait(int epfd, long events, int maxEvents, int timeoutMillis) {
        try {
            return timeoutMillis == 0 ? (int) EPOLL_WAIT_NOW.invokeExact(errnoSlot(), epfd, events, maxEvents, timeoutMillis)
                    : (int) EPOLL_WAIT.invokeExact(errnoSlot(), epfd, events, maxEvents, timeoutMillis);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    int eventfd(int initval, int flags) {
        try {
            return (int) EVENTFD.invokeExact(errnoSlot(), initval, flags);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    int timerfd_create(int clockId, int flags) {
        try {
            return (int) TIMERFD_CREATE.invokeExact(errnoSlot(), clockId, flags);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    int timerfd_settime(int fd, int flags, long newValue, long oldValue) {
        try {
            return (int) TIMERFD_SETTIME.invokeExact(errnoSlot(), fd, flags, newValue, oldValue);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    int pipe2(long fds, int flags) {
        try {
            return (int) PIPE2.invokeExact(errnoSlot(), fds, flags);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    int socketpair(int domain, int type, int protocol, long fds) {
        try {
            return (int) SOCKETPAIR.invokeExact(errnoSlot(), domain, type, protocol, fds);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    long read(int fd, long buf, long count) {
        try {
            return (long) READ.invokeExact(errnoSlot(), fd, buf, count);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    long write(int fd, long buf, long count) {
        try {
            return (long) WRITE.invokeExact(errnoSlot(), fd, buf, count);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    long readv(int fd, long iov, int iovcnt) {
        try {
            return (long) READV.invokeExact(errnoSlot(), fd, iov, iovcnt);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    long writev(int fd, long iov, int iovcnt) {
        try {
            return (long) WRITEV.invokeExact(errnoSlot(), fd, iov, iovcnt);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    long send(int fd, long buf, long len, int flags) {
        try {
            return (flags & MSG_DONTWAIT) != 0 ? (long) SEND_DONTWAIT.invokeExact(errnoSlot(), fd, buf, len, flags)
                    : (long) SEND.invokeExact(errnoSlot(), fd, buf, len, flags);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    long recv(int fd, long buf, long len, int flags) {
        try {
            return (flags & MSG_DONTWAIT) != 0 ? (long) RECV_DONTWAIT.invokeExact(errnoSlot(), fd, buf, len, flags)
                    : (long) RECV.invokeExact(errnoSlot(), fd, buf, len, flags);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    long sendmsg(int fd, long msghdr, int flags) {
        try {
            return (flags & MSG_DONTWAIT) != 0 ? (long) SENDMSG_DONTWAIT.invokeExact(errnoSlot(), fd, msghdr, flags)
                    : (long) SENDMSG.invokeExact(errnoSlot(), fd, msghdr, flags);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    // ---- datagrams (issue 18) ----

    @Override
    int recvmmsg(int fd, long msgvec, int vlen, int flags, long timeout) {
        try {
            return (flags & MSG_DONTWAIT) != 0
                    ? (int) RECVMMSG_DONTWAIT.invokeExact(errnoSlot(), fd, msgvec, vlen, flags, timeout)
                    : (int) RECVMMSG.invokeExact(errnoSlot(), fd, msgvec, vlen, flags, timeout);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    int sendmmsg(int fd, long msgvec, int vlen, int flags) {
        try {
            return (flags & MSG_DONTWAIT) != 0
                    ? (int) SENDMMSG_DONTWAIT.invokeExact(errnoSlot(), fd, msgvec, vlen, flags)
                    : (int) SENDMMSG.invokeExact(errnoSlot(), fd, msgvec, vlen, flags);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    // ---- end datagrams ----

    // ---- begin: splice (issue 22; wt2-splice) ----

    @Override
    long splice(int fdIn, int fdOut, long len, int flags) {
        try {
            return (long) SPLICE.invokeExact(errnoSlot(), fdIn, 0L, fdOut, 0L, len, flags);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    // ---- end: splice ----

    // ---- fd passing (issue 22) ----

    @Override
    long recvmsg(int fd, long msghdr, int flags) {
        try {
            return (flags & MSG_DONTWAIT) != 0 ? (long) RECVMSG_DONTWAIT.invokeExact(errnoSlot(), fd, msghdr, flags)
                    : (long) RECVMSG.invokeExact(errnoSlot(), fd, msghdr, flags);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    // ---- end fd passing ----

    @Override
    long sendfile(int outFd, int inFd, long offsetPtr, long count) {
        try {
            return (long) SENDFILE.invokeExact(errnoSlot(), outFd, inFd, offsetPtr, count);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    int close(int fd) {
        try {
            return (int) CLOSE.invokeExact(errnoSlot(), fd);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    int socket(int domain, int type, int protocol) {
        try {
            return (int) SOCKET.invokeExact(errnoSlot(), domain, type, protocol);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    int bind(int fd, long addr, int addrLen) {
        try {
            return (int) BIND.invokeExact(errnoSlot(), fd, addr, addrLen);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    int listen(int fd, int backlog) {
        try {
            return (int) LISTEN.invokeExact(errnoSlot(), fd, backlog);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    int accept4(int fd, long addr, long addrLenPtr, int flags) {
        try {
            return (int) ACCEPT4.invokeExact(errnoSlot(), fd, addr, addrLenPtr, flags);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    int connect(int fd, long addr, int addrLen) {
        try {
            return (int) CONNECT.invokeExact(errnoSlot(), fd, addr, addrLen);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    int shutdown(int fd, int how) {
        try {
            return (int) SHUTDOWN.invokeExact(errnoSlot(), fd, how);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    int setsockopt(int fd, int level, int name, long value, int len) {
        try {
            return (int) SETSOCKOPT.invokeExact(errnoSlot(), fd, level, name, value, len);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    int getsockopt(int fd, int level, int name, long value, long lenPtr) {
        try {
            return (int) GETSOCKOPT.invokeExact(errnoSlot(), fd, level, name, value, lenPtr);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    int getsockname(int fd, long addr, long lenPtr) {
        try {
            return (int) GETSOCKNAME.invokeExact(errnoSlot(), fd, addr, lenPtr);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    int getpeername(int fd, long addr, long lenPtr) {
        try {
            return (int) GETPEERNAME.invokeExact(errnoSlot(), fd, addr, lenPtr);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    int fcntl(int fd, int cmd, int arg) {
        try {
            return (int) FCNTL.invokeExact(errnoSlot(), fd, cmd, arg);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    int ioctl(int fd, long request, long argp) {
        try {
            return (int) IOCTL.invokeExact(errnoSlot(), fd, request, argp);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    int poll(long fds, long nfds, int timeoutMillis) {
        try {
            return timeoutMillis == 0 ? (int) POLL_NOW.invokeExact(errnoSlot(), fds, nfds, timeoutMillis)
                    : (int) POLL.invokeExact(errnoSlot(), fds, nfds, timeoutMillis);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    int dup(int fd) {
        try {
            return (int) DUP.invokeExact(errnoSlot(), fd);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    int sched_getaffinity(int pid, long cpusetsize, long mask) {
        try {
            return (int) SCHED_GETAFFINITY.invokeExact(errnoSlot(), pid, cpusetsize, mask);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    int sched_setaffinity(int pid, long cpusetsize, long mask) {
        try {
            return (int) SCHED_SETAFFINITY.invokeExact(errnoSlot(), pid, cpusetsize, mask);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    // ---- loop services beyond sockets ----

    @Override
    long syscall(long nr, long a1, long a2, long a3, long a4) {
        try {
            return (long) SYSCALL.invokeExact(errnoSlot(), nr, a1, a2, a3, a4);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    int waitid(int idtype, int id, long infop, int options) {
        try {
            return (int) WAITID.invokeExact(errnoSlot(), idtype, id, infop, options);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    int inotify_init1(int flags) {
        try {
            return (int) INOTIFY_INIT1.invokeExact(errnoSlot(), flags);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    int inotify_add_watch(int fd, long path, int mask) {
        try {
            return (int) INOTIFY_ADD_WATCH.invokeExact(errnoSlot(), fd, path, mask);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    int inotify_rm_watch(int fd, int wd) {
        try {
            return (int) INOTIFY_RM_WATCH.invokeExact(errnoSlot(), fd, wd);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    int posix_spawnp(long pidPtr, long file, long fileActions, long attr, long argv, long envp) {
        try {
            return (int) POSIX_SPAWNP.invokeExact(errnoSlot(), pidPtr, file, fileActions, attr, argv, envp);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    int posix_spawn_file_actions_init(long actions) {
        try {
            return (int) POSIX_SPAWN_FILE_ACTIONS_INIT.invokeExact(errnoSlot(), actions);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    int posix_spawn_file_actions_destroy(long actions) {
        try {
            return (int) POSIX_SPAWN_FILE_ACTIONS_DESTROY.invokeExact(errnoSlot(), actions);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    int posix_spawn_file_actions_adddup2(long actions, int fd, int newFd) {
        try {
            return (int) POSIX_SPAWN_FILE_ACTIONS_ADDDUP2.invokeExact(errnoSlot(), actions, fd, newFd);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    int posix_spawnattr_init(long attr) {
        try {
            return (int) POSIX_SPAWNATTR_INIT.invokeExact(errnoSlot(), attr);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    int posix_spawnattr_destroy(long attr) {
        try {
            return (int) POSIX_SPAWNATTR_DESTROY.invokeExact(errnoSlot(), attr);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    int posix_spawnattr_setflags(long attr, short flags) {
        try {
            return (int) POSIX_SPAWNATTR_SETFLAGS.invokeExact(errnoSlot(), attr, flags);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    int posix_spawnattr_setsigmask(long attr, long sigset) {
        try {
            return (int) POSIX_SPAWNATTR_SETSIGMASK.invokeExact(errnoSlot(), attr, sigset);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    int posix_spawnattr_setsigdefault(long attr, long sigset) {
        try {
            return (int) POSIX_SPAWNATTR_SETSIGDEFAULT.invokeExact(errnoSlot(), attr, sigset);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    int posix_spawn_file_actions_addchdir_np(long actions, long path) {
        try {
            return (int) POSIX_SPAWN_FILE_ACTIONS_ADDCHDIR_NP.invokeExact(errnoSlot(), actions, path);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    int posix_spawn_file_actions_addclosefrom_np(long actions, int from) {
        try {
            return (int) POSIX_SPAWN_FILE_ACTIONS_ADDCLOSEFROM_NP.invokeExact(errnoSlot(), actions, from);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    boolean hasSpawnChdir() {
        return POSIX_SPAWN_FILE_ACTIONS_ADDCHDIR_NP != null;
    }

    @Override
    boolean hasSpawnClosefrom() {
        return POSIX_SPAWN_FILE_ACTIONS_ADDCLOSEFROM_NP != null;
    }

    private static MethodHandle optional(String name, FunctionDescriptor descriptor) {
        return LIBC.find(name).map(s -> LINKER.downcallHandle(s, descriptor, CAPTURE_ERRNO)).orElse(null);
    }
}
