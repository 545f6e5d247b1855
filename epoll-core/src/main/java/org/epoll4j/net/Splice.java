package org.epoll4j.net;

import org.epoll4j.EpollException;
import org.epoll4j.internal.Errno;
import org.epoll4j.internal.LibC;
import org.epoll4j.internal.NativeMemory;

import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * Relays the bytes of two plain connections to each other inside the kernel: each direction is a pipe, filled from
 * one socket and drained into the other with splice(2), so the bytes never reach the JVM (a TCP proxy's zero-copy
 * path). Each connection keeps its handler, pauses, idle timer, counters and close; its reads simply go to the pipe
 * instead of {@link ConnectionHandler#onData}.
 *
 * <ul>
 *   <li><b>Backpressure</b>: a pipe holds at most {@link #pipeSize()} bytes. When it is full (the receiving side's
 *       socket does not take them), the sending side stops being read until the pipe is half empty, so TCP pushes
 *       back on its peer. The bytes in a pipe count as the receiving connection's queued output:
 *       {@link Connection#queuedBytes()}, {@link Connection#isWritable()} and the watermarks see them.
 *   <li><b>Half-close</b>: the peer's FIN on one side becomes {@link Connection#shutdownOutput()} on the other once the
 *       pipe toward it has drained; the handler still hears {@link ConnectionHandler#onReadHangup}. The other
 *       direction runs on.
 *   <li><b>Closing</b>: {@link Connection#close()} and {@code shutdownOutput()} wait until the pipe toward the
 *       connection has drained. When a connection closes, the bytes in the pipe toward it are dropped (like its
 *       queue), the bytes in the pipe from it are still delivered, and the other connection's input goes back to its
 *       handler ({@code onData}), as it does when the other's output ended (closing or shut down).
 *   <li><b>Fallback</b>: a socket that cannot splice (splice(2) answers EINVAL) makes its direction copy through a
 *       buffer of the pipe's size with read(2) and send(2) instead; the bounds stay the same.
 * </ul>
 *
 * <p>Start it on the reactor's thread once both connections are open (in {@code onOpen}, or when a client's connect
 * future completes). Do not write to either connection while it runs: written bytes may overtake those in the pipe.
 * A splice holds two pipes (four fds) until both directions are done.
 */
public final class Splice {
    /** The pipe size when none is given: the kernel's default, 64 KiB. */
    public static final int DEFAULT_PIPE_SIZE = 64 * 1024;
    private static final int FLAGS = LibC.SPLICE_F_MOVE | LibC.SPLICE_F_NONBLOCK;

    private final Direction aToB;
    private final Direction bToA;
    private final int pipeSize;

    private Splice(Connection a, Connection b, int pipeSize, boolean copy) throws EpollException {
        int[] ab = copy ? null : openPipe(pipeSize);
        int[] ba;
        try {
            ba = copy ? null : openPipe(pipeSize);
        } catch (EpollException e) {
            LibC.close(ab[0]);
            LibC.close(ab[1]);
            throw e;
        }
        this.pipeSize = copy ? pipeSize : ab[2];
        this.aToB = new Direction(a, b, ab, this.pipeSize);
        this.bToA = new Direction(b, a, ba, this.pipeSize);
    }

    /** Splices {@code a} and {@code b} with pipes of {@link #DEFAULT_PIPE_SIZE}; see {@link #between(Connection, Connection, int)}. */
    public static Splice between(Connection a, Connection b) throws EpollException {
        return between(a, b, DEFAULT_PIPE_SIZE);
    }

    /**
     * Splices {@code a} and {@code b}: from now on what each reads goes to the other through a pipe.
     *
     * @param pipeSize each direction's pipe size in bytes (the kernel rounds it up to a power-of-two number of pages;
     *                 above /proc/sys/fs/pipe-max-size, 1 MiB by default, it refuses an unprivileged process)
     * @throws IllegalArgumentException if a connection runs TLS (the kernel cannot move records it does not decrypt),
     *                                  they are the same or on different reactors, or the pipe size is not positive
     * @throws IllegalStateException    off the reactor's thread, if one is not open or already spliced
     * @throws EpollException           if a pipe cannot be made or sized
     */
    public static Splice between(Connection a, Connection b, int pipeSize) throws EpollException {
        return start(a, b, pipeSize, false);
    }

    /** {@code copy}: through buffers with read(2)/send(2), the EINVAL fallback (tests force it). */
    static Splice start(Connection a, Connection b, int pipeSize, boolean copy) throws EpollException {
        Objects.requireNonNull(a, "a");
        Objects.requireNonNull(b, "b");
        for (Connection c : new Connection[] {a, b}) {
            if (c.isTls()) {
                throw new IllegalArgumentException("splice needs plain connections: " + c + " runs TLS, whose "
                        + "records the kernel cannot move without decrypting them");
            }
        }
        for (Connection c : new Connection[] {a, b}) {
            if (c.config().fileDescriptorPassing()) {
                throw new IllegalArgumentException("splice cannot pass file descriptors: " + c + " reads them "
                        + "(ConnectionConfig.withFileDescriptorPassing), and a pipe would drop them");
            }
        }
        if (a == b) {
            throw new IllegalArgumentException("splice between a connection and itself: " + a);
        }
        if (a.reactor() != b.reactor()) {
            throw new IllegalArgumentException("splice needs both connections on one reactor: " + a + ", " + b);
        }
        if (pipeSize <= 0) {
            throw new IllegalArgumentException("pipeSize must be positive: " + pipeSize);
        }
        if (!a.reactor().inEventLoop()) {
            throw new IllegalStateException("Splice.between must run on the connections' reactor thread");
        }
        if (!a.isOpen() || !b.isOpen() || a.outputEnded() || b.outputEnded()) {
            throw new IllegalStateException("splice needs two open connections: " + a + ", " + b);
        }
        Splice s = new Splice(a, b, pipeSize, copy);
        try {
            a.drive(s.new Side(a));
        } catch (IllegalStateException e) {
            s.aToB.release();
            s.bToA.release();
            throw e;
        }
        try {
            b.drive(s.new Side(b));
        } catch (IllegalStateException e) {
            a.drive(null);
            s.aToB.release();
            s.bToA.release();
            throw e;
        }
        // Bytes that came before the splice started may be waiting with no edge to come: read them now.
        s.aToB.kick();
        s.bToA.kick();
        return s;
    }

    /** Each direction's pipe size in bytes (as the kernel set it). */
    public int pipeSize() {
        return pipeSize;
    }

    /** Whether both directions move bytes with splice(2) (false once one fell back to copying). */
    public boolean isZeroCopy() {
        return aToB.copy == null && bToA.copy == null;
    }

    /** Bytes moved from {@code from} to the other connection so far; loop thread (or a recent value). */
    public long bytesRelayed(Connection from) {
        return from == aToB.src ? aToB.relayed : from == bToA.src ? bToA.relayed : 0;
    }

    /** splice(2) calls made from {@code from} into its pipe so far, EAGAIN and end-of-stream included (tests). */
    long spliceCalls(Connection from) {
        return from == aToB.src ? aToB.fills : from == bToA.src ? bToA.fills : 0;
    }

    private static int[] openPipe(int size) throws EpollException {
        ByteBuffer fds = ScratchHolder.FDS.get();
        if (LibC.pipe2(NativeMemory.address(fds), LibC.O_NONBLOCK | LibC.O_CLOEXEC) != 0) {
            throw new EpollException("pipe2", LibC.errno());
        }
        int r = fds.getInt(0);
        int w = fds.getInt(4);
        int actual = LibC.fcntl(w, LibC.F_SETPIPE_SZ, size);
        if (actual < 0) {
            int err = LibC.errno();
            LibC.close(r);
            LibC.close(w);
            throw new EpollException("fcntl(F_SETPIPE_SZ, " + size + ")", err);
        }
        return new int[] {r, w, actual};
    }

    /** An 8-byte native scratch for pipe2's two fds, per thread (pipes are made on reactor threads). */
    private static final class ScratchHolder {
        static final ThreadLocal<ByteBuffer> FDS = ThreadLocal.withInitial(() -> NativeMemory.allocate(8));
    }

    /** One connection's view: its input fills the direction out of it, its output drains the direction into it. */
    private final class Side implements SocketDriver {
        private final Direction from;
        private final Direction to;

        Side(Connection c) {
            this.from = c == aToB.src ? aToB : bToA;
            this.to = from == aToB ? bToA : aToB;
        }

        @Override
        public long read(int max) {
            return from.fill(max);
        }

        @Override
        public void onWritable() {
            to.drain();
        }

        @Override
        public long heldForOutput() {
            return to.held;
        }

        @Override
        public void closed() {
            from.sourceClosed();
            to.targetClosed();
        }
    }

    /** One way: src's socket → pipe (or the copy buffer) → dst's socket. Loop thread only. */
    private static final class Direction {
        final Connection src;
        final Connection dst;
        final int size;
        int pipeR = -1;
        int pipeW = -1;
        /** The EINVAL fallback: bytes held in [copyStart, copyEnd) of a buffer of {@code size}. */
        ByteBuffer copy;
        long copyAddr;
        int copyStart;
        int copyEnd;
        /** Bytes held for dst; volatile for queuedBytes() on other threads. */
        volatile long held;
        volatile long relayed;
        /** splice(2) calls made from src into the pipe, EAGAIN and end-of-stream included (tests). */
        long fills;
        /** src's FIN was read: dst's output shuts once the pipe drained. */
        boolean srcEnded;
        boolean srcClosed;
        boolean released;
        boolean draining;

        Direction(Connection src, Connection dst, int[] pipe, int size) {
            this.src = src;
            this.dst = dst;
            this.size = size;
            if (pipe != null) {
                pipeR = pipe[0];
                pipeW = pipe[1];
            } else {
                toCopy();
            }
        }

        /** src is readable: move what it has (at most what the pipe has room for), then on to dst. */
        long fill(int max) {
            if (released || dst.outputEnded()) {
                return SocketDriver.DECLINE; // nowhere to go: src's handler reads it
            }
            long room = size - held;
            if (room <= 0) {
                src.pauseReading(ReadPause.SPLICE);
                return -Errno.EAGAIN;
            }
            long n = -1;
            int err = 0;
            if (copy == null) {
                // splice(2) moves page references, not bytes through a buffer: the pipe's room bounds it, not the
                // read size (64 KiB per call relayed a bulk stream 5% faster than 16 KiB, with a quarter of the calls)
                fills++;
                n = LibC.splice(src.fd(), pipeW, room, FLAGS);
                err = n < 0 ? LibC.errno() : 0;
                if (err == Errno.EINVAL && held == 0) {
                    toCopy(); // src cannot splice: copy from now on
                }
            }
            if (copy != null) {
                int len = (int) Math.min(max, room); // through memory: the read size bounds it
                if (copyEnd + len > size) {
                    compact();
                }
                n = LibC.read(src.fd(), copyAddr + copyEnd, len);
                err = n < 0 ? LibC.errno() : 0;
                if (n > 0) {
                    copyEnd += (int) n;
                }
            }
            if (n < 0) {
                if (err == Errno.EAGAIN && held > 0 && copy == null && srcHasBytes()) {
                    // The pipe has no slot left (each holds one piece of a socket buffer), while src still has
                    // bytes: wait for dst to take some before reading again (an EDGE event would not come back).
                    src.pauseReading(ReadPause.SPLICE);
                }
                return -err;
            }
            if (n == 0) {
                srcEnded = true;
                afterDrain();
                return 0;
            }
            held += n;
            relayed += n;
            drain();
            if (!released && held >= size) {
                src.pauseReading(ReadPause.SPLICE);
            }
            return n;
        }

        /** Whether src's socket has unread bytes (FIONREAD; true if it cannot tell). */
        private boolean srcHasBytes() {
            ByteBuffer scratch = ScratchHolder.FDS.get();
            if (LibC.ioctl(src.fd(), LibC.FIONREAD, NativeMemory.address(scratch)) != 0) {
                return true;
            }
            return scratch.getInt(0) > 0;
        }

        /** dst may take bytes: write what is held, then resume src, pass the FIN, or let dst's close go on. */
        void drain() {
            if (released || draining || held == 0 || !dst.driverMayWrite()) {
                return;
            }
            draining = true;
            try {
                while (held > 0) {
                    long n;
                    if (copy == null) {
                        n = LibC.splice(pipeR, dst.fd(), held, FLAGS);
                    } else {
                        n = LibC.send(dst.fd(), copyAddr + copyStart, copyEnd - copyStart, LibC.MSG_NOSIGNAL);
                    }
                    if (n < 0) {
                        int err = LibC.errno();
                        if (err == Errno.EAGAIN) {
                            break; // dst's buffer is full: EPOLLOUT (its interest follows held) brings us back
                        }
                        if (err == Errno.EINTR) {
                            continue;
                        }
                        if (err == Errno.EINVAL && copy == null) {
                            pipeToCopy(); // dst cannot splice: the pipe's bytes go through the buffer
                            if (released) {
                                return;
                            }
                            continue;
                        }
                        dst.fail(new EpollException((copy == null ? "splice" : "send") + "(fd=" + dst.fd() + ")",
                                err));
                        return;
                    }
                    if (copy != null) {
                        copyStart += (int) n;
                    }
                    held -= n;
                    dst.driverWrote(n);
                }
            } finally {
                draining = false;
            }
            dst.driverHeldChanged();
            afterDrain();
        }

        /** After the pipe shrank: src reads again below half, and an empty pipe passes src's end on. */
        private void afterDrain() {
            if (released) {
                return;
            }
            if (held <= size / 2 && src.isOpen()) {
                src.resumeReading(ReadPause.SPLICE);
            }
            if (held == 0 && (srcEnded || srcClosed)) {
                if (srcEnded && dst.isOpen()) {
                    dst.shutdownOutput(); // the FIN after the last byte
                }
                release();
            }
        }

        /** Reads again what src may hold from before the splice (no edge would report it). */
        void kick() {
            if (src.isOpen()) {
                src.pauseReading(ReadPause.SPLICE);
                src.resumeReading(ReadPause.SPLICE); // resuming schedules a read (EDGE) or restores the interest
            }
        }

        void sourceClosed() {
            srcClosed = true;
            if (held == 0) {
                release();
            }
        }

        /** dst closed: what is held for it is lost; src's input goes back to its handler. */
        void targetClosed() {
            release();
            if (src.isOpen()) {
                src.undriveInput();
                src.resumeReading(ReadPause.SPLICE);
            }
        }

        private void toCopy() {
            copy = NativeMemory.allocate(size);
            copyAddr = NativeMemory.address(copy);
            closePipe();
        }

        /** Moves what the pipe holds into the (empty) copy buffer, which is large enough for all of it. */
        private void pipeToCopy() {
            int n = (int) held;
            copy = NativeMemory.allocate(size);
            copyAddr = NativeMemory.address(copy);
            int got = 0;
            while (got < n) {
                long r = LibC.read(pipeR, copyAddr + got, n - got);
                if (r <= 0) {
                    int err = r == 0 ? Errno.EPIPE : LibC.errno();
                    if (err == Errno.EINTR) {
                        continue;
                    }
                    dst.fail(new EpollException("read(pipe " + pipeR + ")", err));
                    release();
                    return;
                }
                got += (int) r;
            }
            copyStart = 0;
            copyEnd = n;
            closePipe();
        }

        private void compact() {
            int n = copyEnd - copyStart;
            copy.put(0, copy, copyStart, n);
            copyStart = 0;
            copyEnd = n;
        }

        void release() {
            if (released) {
                return;
            }
            released = true;
            held = 0;
            closePipe();
            copy = null;
        }

        private void closePipe() {
            if (pipeR >= 0) {
                LibC.close(pipeR);
                LibC.close(pipeW);
                pipeR = -1;
                pipeW = -1;
            }
        }
    }
}
