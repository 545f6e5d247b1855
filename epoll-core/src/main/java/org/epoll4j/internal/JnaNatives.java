package org.epoll4j.internal;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;

/**
 * JNA direct mapping of libc: every method is a {@code static native} bound by {@link Native#register}, with
 * primitive arguments and addresses as {@code long}, so a call allocates nothing. JNA saves errno after every call
 * ({@link Native#getLastError()}).
 *
 * <p>The variadic {@code open}, {@code fcntl} and {@code ioctl} are bound with a fixed arity, which is sound on the
 * x86_64 SysV and Linux AAPCS64 ABIs only (see {@link NativePlatform}). Public only so the benchmarks can call it
 * directly as the baseline of {@link LibC}'s indirection; everything else goes through {@link LibC}.
 */
public final class JnaNatives {
    static {
        NativePlatform.requireSupported(); // before binding anything: the bindings below assume LP64 x86_64/aarch64
        Native.register(JnaNatives.class, NativeLibrary.getInstance(Platform.C_LIBRARY_NAME));
    }

    private JnaNatives() {
    }

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

    public static native int sched_getaffinity(int pid, long cpusetsize, long mask);

    public static native int sched_setaffinity(int pid, long cpusetsize, long mask);

    // ---- loop services beyond sockets (child processes, pidfd, inotify) ----

    /** Bound with a fixed arity: glibc's syscall(2) is written in assembly and reads its arguments from registers. */
    public static native long syscall(long nr, long a1, long a2, long a3, long a4);

    public static native int waitid(int idtype, int id, long infop, int options);

    public static native int inotify_init1(int flags);

    public static native int inotify_add_watch(int fd, long path, int mask);

    public static native int inotify_rm_watch(int fd, int wd);

    public static native int posix_spawnp(long pidPtr, long file, long fileActions, long attr, long argv, long envp);

    public static native int posix_spawn_file_actions_init(long actions);

    public static native int posix_spawn_file_actions_destroy(long actions);

    public static native int posix_spawn_file_actions_adddup2(long actions, int fd, int newFd);

    public static native int posix_spawnattr_init(long attr);

    public static native int posix_spawnattr_destroy(long attr);

    public static native int posix_spawnattr_setflags(long attr, short flags);

    public static native int posix_spawnattr_setsigmask(long attr, long sigset);

    public static native int posix_spawnattr_setsigdefault(long attr, long sigset);

    /** posix_spawn_file_actions_addchdir_np (glibc 2.29+): its own class, as {@link Pwait2}, for older libcs. */
    static final class SpawnChdir {
        static final boolean BOUND = bind(SpawnChdir.class);

        private SpawnChdir() {
        }

        static native int posix_spawn_file_actions_addchdir_np(long actions, long path);
    }

    /** posix_spawn_file_actions_addclosefrom_np (glibc 2.34+): its own class, as {@link Pwait2}. */
    static final class SpawnClosefrom {
        static final boolean BOUND = bind(SpawnClosefrom.class);

        private SpawnClosefrom() {
        }

        static native int posix_spawn_file_actions_addclosefrom_np(long actions, int from);
    }

    private static boolean bind(Class<?> natives) {
        try {
            Native.register(natives, NativeLibrary.getInstance(Platform.C_LIBRARY_NAME));
            return true;
        } catch (Throwable e) {
            return false; // UnsatisfiedLinkError on an older glibc
        }
    }
    // ---- datagrams (issue 18) ----

    public static native int recvmmsg(int fd, long msgvec, int vlen, int flags, long timeout);

    public static native int sendmmsg(int fd, long msgvec, int vlen, int flags);

    // ---- end datagrams ----

    // ---- begin: splice (issue 22; wt2-splice) ----

    /** splice(2); the offset pointers are NULL (0) between pipes and sockets. */
    public static native long splice(int fdIn, long offIn, int fdOut, long offOut, long len, int flags);

    // ---- end: splice ----

    // ---- fd passing (issue 22) ----

    public static native long recvmsg(int fd, long msghdr, int flags);

    // ---- end fd passing ----

    /** The errno JNA saved after this thread's last call. */
    public static int errno() {
        return Native.getLastError();
    }

    /**
     * epoll_pwait2 (Linux 5.11+, glibc 2.35+), in its own class because older libcs lack the symbol and
     * {@link Native#register} fails for the whole class then.
     */
    static final class Pwait2 {
        static final boolean BOUND;

        static {
            boolean ok;
            try {
                Native.register(Pwait2.class, NativeLibrary.getInstance(Platform.C_LIBRARY_NAME));
                ok = true;
            } catch (Throwable e) {
                ok = false; // UnsatisfiedLinkError on an older glibc
            }
            BOUND = ok;
        }

        private Pwait2() {
        }

        static native int epoll_pwait2(int epfd, long events, int maxEvents, long timespec, long sigmask,
                                       long sigsetSize);
    }
}
