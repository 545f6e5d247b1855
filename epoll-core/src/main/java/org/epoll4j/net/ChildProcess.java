package org.epoll4j.net;

import org.epoll4j.EpollException;
import org.epoll4j.Handler;
import org.epoll4j.Interest;
import org.epoll4j.Reactor;
import org.epoll4j.Ready;
import org.epoll4j.Registration;
import org.epoll4j.Timeout;
import org.epoll4j.TriggerMode;
import org.epoll4j.UnixSignal;
import org.epoll4j.internal.Errno;
import org.epoll4j.internal.LibC;
import org.epoll4j.internal.NativeMemory;
import org.epoll4j.internal.Sockets;

import java.nio.ByteBuffer;
import java.nio.charset.Charset;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiConsumer;

/**
 * A child process on a reactor (libuv's {@code uv_spawn}): its stdin, stdout and stderr are non-blocking
 * {@link Connection}s on the reactor (backpressure, watermarks, half-close: {@link Connection#shutdownOutput()} on
 * stdin is the child's end of input), and its exit is a {@code pidfd} the reactor watches: no {@code SIGCHLD}
 * handler and no reaper thread.
 *
 * <p><b>How it starts.</b> {@code posix_spawnp(3)} (glibc's runs the child on its own stack with
 * {@code CLONE_VM|CLONE_VFORK}, safe in a multi-threaded JVM), with the child's signal mask emptied and every
 * signal's disposition reset to the default (the JVM's handlers and ignored signals are not the child's business),
 * and every fd above 2 closed in the child where glibc has {@code posix_spawn_file_actions_addclosefrom_np} (2.34+);
 * epoll4j's own fds are close-on-exec in any case. {@code ProcessBuilder} does not fit this model: the JDK reaps its
 * children on a thread of its own and hands out blocking streams. Then {@code pidfd_open(2)} (Linux 5.3+) on the new
 * pid: it cannot name another process, since nothing else reaps ours, so the pid cannot be reused before
 * {@code waitid(P_PIDFD)} on the reactor collects the status.
 *
 * <p>Each stdio stream is one of: a pipe to a {@link ConnectionHandler} (a Unix socket pair, as libuv's default
 * pipes are; the child sees an ordinary file descriptor), {@link Stdio#NULL} ({@code /dev/null}, the default) or
 * {@link Stdio#INHERIT} (this process's own).
 *
 * <p>The exit is reported once, on the reactor's thread, through {@link #exitFuture()} and the builder's
 * {@code onExit}. Output the child wrote before exiting may still be on its way: a stdout handler's
 * {@link ConnectionHandler#onClose} tells when all of it has been read. If the reactor closes while the child
 * runs, the child is killed ({@code SIGKILL}) and reaped, so that no zombie is left behind: its exit status then
 * says signal 9.
 */
public final class ChildProcess {
    /** Where a stdio stream goes when it is not a pipe. */
    public enum Stdio {
        /** {@code /dev/null}: reads see end of file, writes vanish. */
        NULL,
        /** This process's own stream. */
        INHERIT
    }

    private static final int SIGTERM = 15;
    private static final int SIGKILL = 9;
    private static final int CLD_EXITED = 1;
    private static final int CLD_DUMPED = 3;
    private static final short POSIX_SPAWN_SETSIGDEF = 0x04;
    private static final short POSIX_SPAWN_SETSIGMASK = 0x08;
    private static final int O_RDWR = 2;
    private static final int SPAWN_STRUCT = 1024; // > sizeof posix_spawn_file_actions_t (80) and posix_spawnattr_t (336)
    private static final int SIGSET = 128;
    private static final Charset CHARSET = Charset.forName(System.getProperty("sun.jnu.encoding", "UTF-8"));

    private final Reactor reactor;
    private final String program;
    private final int pid;
    private final int pidfd;
    private final Connection stdin;
    private final Connection stdout;
    private final Connection stderr;
    private final CompletableFuture<ExitStatus> exit = new CompletableFuture<>();
    private final BiConsumer<ChildProcess, ExitStatus> onExit;
    private Registration registration;
    private Timeout timer;
    private boolean timedOut;
    private volatile boolean alive = true;

    private ChildProcess(Builder b, int pid, int pidfd, Connection[] stdio) {
        this.reactor = b.reactor;
        this.program = b.command.get(0);
        this.pid = pid;
        this.pidfd = pidfd;
        this.stdin = stdio[0];
        this.stdout = stdio[1];
        this.stderr = stdio[2];
        this.onExit = b.onExit;
    }

    /**
     * Starts describing a process.
     *
     * @param reactor the reactor its pipes and exit are watched on
     * @param command the program (looked up on {@code PATH} if it has no slash) and its arguments
     * @return a builder
     */
    public static Builder builder(Reactor reactor, String... command) {
        return builder(reactor, List.of(command));
    }

    /**
     * Starts describing a process.
     *
     * @param reactor the reactor its pipes and exit are watched on
     * @param command the program (looked up on {@code PATH} if it has no slash) and its arguments
     * @return a builder
     */
    public static Builder builder(Reactor reactor, List<String> command) {
        return new Builder(reactor, command);
    }

    /** @return the child's process id */
    public int pid() {
        return pid;
    }

    /** @return whether the child has not been reaped yet */
    public boolean isAlive() {
        return alive;
    }

    /** @return completes on the reactor's thread with the exit status */
    public CompletableFuture<ExitStatus> exitFuture() {
        return exit;
    }

    /** @return the pipe to the child's stdin, or {@code null} if stdin is not a pipe */
    public Connection stdin() {
        return stdin;
    }

    /** @return the pipe from the child's stdout, or {@code null} if stdout is not a pipe */
    public Connection stdout() {
        return stdout;
    }

    /** @return the pipe from the child's stderr, or {@code null} if stderr is not a pipe */
    public Connection stderr() {
        return stderr;
    }

    /** Sends {@code SIGTERM}: asks the child to end. From any thread; nothing happens once it has been reaped. */
    public void terminate() {
        signal(SIGTERM);
    }

    /** Sends {@code SIGKILL}: ends the child at once. From any thread; nothing happens once it has been reaped. */
    public void kill() {
        signal(SIGKILL);
    }

    /**
     * Sends {@code signal} to the child. From any thread; nothing happens once it has been reaped.
     *
     * @param signal the signal
     */
    public void signal(UnixSignal signal) {
        signal(signal.number());
    }

    private void signal(int sig) {
        if (!reactor.inEventLoop()) {
            reactor.execute(() -> signal(sig)); // the pidfd is closed on the loop: use it only there
            return;
        }
        if (alive && LibC.pidfd_send_signal(pidfd, sig) < 0) {
            int errno = LibC.errno();
            if (errno != Errno.ESRCH) { // ESRCH: it exited and awaits reaping; the exit event is on its way
                throw new IllegalStateException(new EpollException("pidfd_send_signal(pid=" + pid + ", " + sig + ")",
                        errno));
            }
        }
    }

    private void reap(boolean block) throws EpollException {
        ByteBuffer info = NativeMemory.allocate(128); // siginfo_t
        int r;
        do {
            r = LibC.waitid(LibC.P_PIDFD, pidfd, NativeMemory.address(info), LibC.WEXITED | (block ? 0 : LibC.WNOHANG));
        } while (r < 0 && LibC.errno() == Errno.EINTR);
        if (r < 0) {
            throw new EpollException("waitid(P_PIDFD, pid=" + pid + ")", LibC.errno());
        }
        if (info.getInt(16) == 0) {
            return; // WNOHANG and not yet exited: a spurious wake-up
        }
        int code = info.getInt(8);
        int status = info.getInt(24);
        ExitStatus s = code == CLD_EXITED ? new ExitStatus(status, 0, false, timedOut)
                : new ExitStatus(0, status, code == CLD_DUMPED, timedOut);
        alive = false;
        if (timer != null) {
            timer.cancel();
        }
        registration.cancel();
        exit.complete(s);
        if (onExit != null) {
            onExit.accept(this, s);
        }
    }

    private final Handler exitWatch = new Handler() {
        @Override
        public void onReady(Registration r, Ready ready) throws Exception {
            reap(false);
        }

        @Override
        public void onClosed(Registration r, Throwable cause) {
            if (alive) { // the reactor closed (or the handler failed) while the child runs: leave no zombie
                LibC.pidfd_send_signal(pidfd, SIGKILL);
                try {
                    reap(true);
                } catch (EpollException e) {
                    exit.completeExceptionally(e);
                }
            }
            LibC.close(pidfd);
        }
    };

    @Override
    public String toString() {
        return "ChildProcess[pid=" + pid + ", " + program + (alive ? "" : ", " + exit.getNow(null)) + "]";
    }

    /** Describes a child process; {@link #start()} starts it. */
    public static final class Builder {
        private final Reactor reactor;
        private final List<String> command;
        private final Map<String, String> environment = new LinkedHashMap<>(System.getenv());
        private Path directory;
        private final Object[] stdio = {Stdio.NULL, Stdio.NULL, Stdio.NULL};
        private ConnectionConfig config = ConnectionConfig.defaults();
        private Duration timeout;
        private Duration killGrace = Duration.ofSeconds(5);
        private BiConsumer<ChildProcess, ExitStatus> onExit;

        private Builder(Reactor reactor, List<String> command) {
            this.reactor = Objects.requireNonNull(reactor, "reactor");
            if (command.isEmpty()) {
                throw new IllegalArgumentException("ChildProcess: empty command");
            }
            for (String s : command) {
                if (s.indexOf('\0') >= 0) {
                    throw new IllegalArgumentException("ChildProcess: NUL in an argument: " + command);
                }
            }
            this.command = List.copyOf(command);
        }

        /**
         * @param dir the child's working directory (default: this process's)
         * @return this builder
         */
        public Builder directory(Path dir) {
            this.directory = Objects.requireNonNull(dir, "directory");
            return this;
        }

        /**
         * The child's environment, a copy of this process's to start with; change it in place.
         *
         * @return the mutable map
         */
        public Map<String, String> environment() {
            return environment;
        }

        /**
         * Pipes the child's stdin from a {@link Connection}: write to it, and {@link Connection#shutdownOutput()} to
         * end the child's input.
         *
         * @param handler the connection's handler
         * @return this builder
         */
        public Builder stdin(ConnectionHandler handler) {
            stdio[0] = Objects.requireNonNull(handler, "stdin");
            return this;
        }

        /**
         * @param where the child's stdin: {@link Stdio#NULL} (the default) or {@link Stdio#INHERIT}
         * @return this builder
         */
        public Builder stdin(Stdio where) {
            stdio[0] = Objects.requireNonNull(where, "stdin");
            return this;
        }

        /**
         * Pipes the child's stdout to a {@link Connection}: its handler's {@code onData} gets the output.
         *
         * @param handler the connection's handler
         * @return this builder
         */
        public Builder stdout(ConnectionHandler handler) {
            stdio[1] = Objects.requireNonNull(handler, "stdout");
            return this;
        }

        /**
         * @param where the child's stdout: {@link Stdio#NULL} (the default) or {@link Stdio#INHERIT}
         * @return this builder
         */
        public Builder stdout(Stdio where) {
            stdio[1] = Objects.requireNonNull(where, "stdout");
            return this;
        }

        /**
         * Pipes the child's stderr to a {@link Connection}.
         *
         * @param handler the connection's handler
         * @return this builder
         */
        public Builder stderr(ConnectionHandler handler) {
            stdio[2] = Objects.requireNonNull(handler, "stderr");
            return this;
        }

        /**
         * @param where the child's stderr: {@link Stdio#NULL} (the default) or {@link Stdio#INHERIT}
         * @return this builder
         */
        public Builder stderr(Stdio where) {
            stdio[2] = Objects.requireNonNull(where, "stderr");
            return this;
        }

        /**
         * @param config watermarks, trigger mode and idle timeouts of the stdio connections
         * @return this builder
         */
        public Builder connectionConfig(ConnectionConfig config) {
            this.config = Objects.requireNonNull(config, "config");
            return this;
        }

        /**
         * Ends a child that runs longer than {@code timeout}: {@code SIGTERM}, then {@code SIGKILL} after the
         * {@linkplain #killGrace grace period}. Its {@link ExitStatus#timedOut()} is then true.
         *
         * @param timeout how long it may run
         * @return this builder
         */
        public Builder timeout(Duration timeout) {
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("timeout must be positive: " + timeout);
            }
            this.timeout = timeout;
            return this;
        }

        /**
         * @param grace how long after the timeout's {@code SIGTERM} the {@code SIGKILL} follows (default 5 s)
         * @return this builder
         */
        public Builder killGrace(Duration grace) {
            if (grace.isNegative()) {
                throw new IllegalArgumentException("killGrace must not be negative: " + grace);
            }
            this.killGrace = grace;
            return this;
        }

        /**
         * @param listener called once on the reactor's thread when the child has exited and been reaped
         * @return this builder
         */
        public Builder onExit(BiConsumer<ChildProcess, ExitStatus> listener) {
            this.onExit = Objects.requireNonNull(listener, "onExit");
            return this;
        }

        /**
         * Starts the child; on the reactor's thread, or before the reactor runs.
         *
         * @return the running child
         * @throws EpollException if a pipe, the spawn or {@code pidfd_open} fails; {@code posix_spawnp(ls)}:
         *                        ENOENT names a program that was not found
         */
        public ChildProcess start() throws EpollException {
            int[] parentEnds = {-1, -1, -1};
            int[] childEnds = {-1, -1, -1};
            int devNull = -1;
            int pid = -1;
            try {
                for (int i = 0; i < 3; i++) {
                    if (stdio[i] instanceof ConnectionHandler) {
                        int[] pair = socketPair();
                        parentEnds[i] = pair[0];
                        childEnds[i] = pair[1];
                        Reactor.setNonBlocking(pair[0]);
                    } else if (stdio[i] == Stdio.NULL) {
                        if (devNull < 0) {
                            devNull = LibC.open("/dev/null", O_RDWR | LibC.O_CLOEXEC);
                            if (devNull < 0) {
                                throw new EpollException("open(/dev/null)", LibC.errno());
                            }
                        }
                        childEnds[i] = devNull;
                    }
                }
                pid = spawn(childEnds);
                int pidfd = LibC.pidfd_open(pid);
                if (pidfd < 0) {
                    int errno = LibC.errno();
                    throw new EpollException("pidfd_open(pid=" + pid + ")"
                            + (errno == Errno.ENOSYS ? " (Linux 5.3+ needed)" : ""), errno);
                }
                closeChildEnds(childEnds, devNull);
                childEnds = new int[]{-1, -1, -1};
                devNull = -1;
                Connection[] conns = new Connection[3];
                for (int i = 0; i < 3; i++) {
                    if (parentEnds[i] >= 0) {
                        int fd = parentEnds[i];
                        parentEnds[i] = -1; // from here the connection owns it
                        conns[i] = Connection.accepted(reactor, fd, null, -1, null, config,
                                (ConnectionHandler) stdio[i], null, null);
                    }
                }
                ChildProcess p = new ChildProcess(this, pid, pidfd, conns);
                p.registration = reactor.register(pidfd, Interest.READ, TriggerMode.LEVEL, p.exitWatch);
                if (timeout != null) {
                    p.timer = reactor.schedule(timeout, () -> {
                        p.timedOut = true;
                        p.terminate();
                        p.timer = reactor.schedule(killGrace, p::kill);
                    });
                }
                return p;
            } finally {
                closeChildEnds(childEnds, devNull);
                for (int fd : parentEnds) {
                    if (fd >= 0) {
                        Sockets.closeQuietly(fd);
                    }
                }
            }
        }

        private static void closeChildEnds(int[] childEnds, int devNull) {
            for (int fd : childEnds) {
                if (fd >= 0 && fd != devNull) {
                    Sockets.closeQuietly(fd);
                }
            }
            if (devNull >= 0) {
                Sockets.closeQuietly(devNull);
            }
        }

        private static int[] socketPair() throws EpollException {
            ByteBuffer fds = NativeMemory.allocate(8);
            if (LibC.socketpair(LibC.AF_UNIX, LibC.SOCK_STREAM | LibC.SOCK_CLOEXEC, 0, NativeMemory.address(fds)) < 0) {
                throw new EpollException("socketpair(AF_UNIX, SOCK_STREAM)", LibC.errno());
            }
            return new int[]{fds.getInt(0), fds.getInt(4)};
        }

        private int spawn(int[] childEnds) throws EpollException {
            List<String> env = new ArrayList<>();
            environment.forEach((k, v) -> env.add(k + "=" + v));
            List<byte[]> strings = new ArrayList<>();
            int stringBytes = 0;
            for (String s : command) {
                byte[] b = s.getBytes(CHARSET);
                strings.add(b);
                stringBytes += b.length + 1;
            }
            for (String s : env) {
                if (s.indexOf('\0') >= 0) {
                    throw new IllegalArgumentException("ChildProcess: NUL in the environment: " + s);
                }
                byte[] b = s.getBytes(CHARSET);
                strings.add(b);
                stringBytes += b.length + 1;
            }
            byte[] dir = directory == null ? null : directory.toString().getBytes(CHARSET);
            int pointers = (command.size() + 1 + env.size() + 1) * 8;
            int size = 8 + 2 * SPAWN_STRUCT + 2 * SIGSET + pointers + stringBytes + (dir == null ? 0 : dir.length + 1);
            ByteBuffer mem = NativeMemory.allocate(size);
            long base = NativeMemory.address(mem);
            long actions = base + 8;
            long attr = actions + SPAWN_STRUCT;
            long emptySet = attr + SPAWN_STRUCT;
            long defaultSet = emptySet + SIGSET;
            int argvAt = 8 + 2 * SPAWN_STRUCT + 2 * SIGSET;
            int envpAt = argvAt + (command.size() + 1) * 8;
            int at = argvAt + pointers;
            for (int i = 0; i < strings.size(); i++) {
                int slot = i < command.size() ? argvAt + i * 8 : envpAt + (i - command.size()) * 8;
                mem.putLong(slot, base + at);
                mem.put(at, strings.get(i));
                at += strings.get(i).length;
                mem.put(at++, (byte) 0);
            }
            long dirAddress = 0;
            if (dir != null) {
                dirAddress = base + at;
                mem.put(at, dir);
                mem.put(at + dir.length, (byte) 0);
            }
            // Every catchable signal gets its default in the child, glibc's internal 32 and 33 included (left out,
            // glibc's posix_spawn sets them to SIG_IGN, and an ignored signal stays ignored across exec).
            for (int sig = 1; sig <= 64; sig++) {
                if (sig != SIGKILL && sig != 19) {
                    int bit = sig - 1;
                    mem.put(argvAt - SIGSET + bit / 8, (byte) (mem.get(argvAt - SIGSET + bit / 8) | (1 << (bit % 8))));
                }
            }
            check(LibC.posix_spawn_file_actions_init(actions), "posix_spawn_file_actions_init");
            try {
                check(LibC.posix_spawnattr_init(attr), "posix_spawnattr_init");
                try {
                    for (int i = 0; i < 3; i++) {
                        if (childEnds[i] >= 0) {
                            check(LibC.posix_spawn_file_actions_adddup2(actions, childEnds[i], i),
                                    "posix_spawn_file_actions_adddup2");
                        }
                    }
                    if (LibC.hasSpawnClosefrom()) {
                        check(LibC.posix_spawn_file_actions_addclosefrom_np(actions, 3),
                                "posix_spawn_file_actions_addclosefrom_np");
                    }
                    if (dir != null) {
                        if (!LibC.hasSpawnChdir()) {
                            throw new UnsupportedOperationException("ChildProcess.directory needs glibc 2.29+");
                        }
                        check(LibC.posix_spawn_file_actions_addchdir_np(actions, dirAddress),
                                "posix_spawn_file_actions_addchdir_np(" + directory + ")");
                    }
                    check(LibC.posix_spawnattr_setsigmask(attr, emptySet), "posix_spawnattr_setsigmask");
                    check(LibC.posix_spawnattr_setsigdefault(attr, defaultSet), "posix_spawnattr_setsigdefault");
                    check(LibC.posix_spawnattr_setflags(attr, (short) (POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)),
                            "posix_spawnattr_setflags");
                    int err = LibC.posix_spawnp(base, mem.getLong(argvAt), actions, attr, base + argvAt, base + envpAt);
                    if (err != 0) {
                        throw new EpollException("posix_spawnp(" + command.get(0)
                                + (directory == null ? "" : ", dir=" + directory) + ")", err);
                    }
                    return mem.getInt(0);
                } finally {
                    LibC.posix_spawnattr_destroy(attr);
                }
            } finally {
                LibC.posix_spawn_file_actions_destroy(actions);
            }
        }

        private static void check(int err, String call) throws EpollException {
            if (err != 0) {
                throw new EpollException(call, err);
            }
        }
    }
}
