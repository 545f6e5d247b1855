package org.epoll4j.net;

import org.epoll4j.internal.Errno;
import org.epoll4j.internal.LibC;
import org.epoll4j.internal.NativeMemory;
import org.epoll4j.testutil.Fds;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * A non-blocking AF_UNIX stream socketpair for unit tests of the write path ({@code WriteQueueTest},
 * {@code OutboundTest}): {@link #writer} is the fd the code under test sends on, {@link #reader} the peer end the
 * test reads from, never blocking. A small send buffer ({@link #UnixPair(int)}) makes "the socket is full" easy to
 * reach: an AF_UNIX stream socket refuses more once the bytes its peer has not read fill the sender's SO_SNDBUF.
 */
final class UnixPair implements AutoCloseable {
    final int writer;
    private int reader;
    private boolean closed;
    private final ByteBuffer scratch = NativeMemory.allocate(64 * 1024);
    private final long scratchAddress = NativeMemory.address(scratch);

    /** A pair with the kernel's default send buffer. */
    UnixPair() {
        this(0);
    }

    /** A pair whose writer has SO_SNDBUF {@code sendBuffer} (the kernel doubles it, and has a minimum); 0: default. */
    UnixPair(int sendBuffer) {
        int[] s = Fds.socketpair();
        writer = s[0];
        reader = s[1];
        if (sendBuffer > 0) {
            scratch.putInt(0, sendBuffer);
            check(LibC.setsockopt(writer, LibC.SOL_SOCKET, LibC.SO_SNDBUF, scratchAddress, 4), "setsockopt");
        }
    }

    /** Bytes sent on {@link #writer} that the reader has not read yet (FIONREAD). */
    int unread() {
        check(LibC.ioctl(reader, LibC.FIONREAD, scratchAddress), "ioctl(FIONREAD)");
        return scratch.getInt(0);
    }

    /** Whether poll(2) reports the writer writable now. */
    boolean writable() {
        scratch.putInt(0, writer).putShort(4, LibC.POLLOUT).putShort(6, (short) 0);
        check(LibC.poll(scratchAddress, 1, 0), "poll");
        return (scratch.getShort(6) & LibC.POLLOUT) != 0;
    }

    /** Reads what is there now, at most {@code max} bytes (an empty array when nothing is). */
    byte[] read(int max) {
        byte[] out = new byte[0];
        while (out.length < max) {
            long n = LibC.read(reader, scratchAddress, Math.min(max - out.length, scratch.capacity()));
            if (n < 0 && LibC.errno() == Errno.EAGAIN) {
                break;
            }
            check(n, "read");
            if (n == 0) {
                break; // end of stream
            }
            int at = out.length;
            out = Arrays.copyOf(out, at + (int) n);
            scratch.get(0, out, at, (int) n);
        }
        return out;
    }

    /**
     * One recvmsg(MSG_CMSG_CLOEXEC) of what is there now, at most 64 KiB, with room for SCM_MAX_FD fds: the bytes in
     * {@code into} (appended), the fds received returned (the caller closes them).
     */
    int[] receiveWithFds(java.io.ByteArrayOutputStream into) {
        ByteBuffer m = org.epoll4j.internal.NativeMemory.allocate(org.epoll4j.internal.MsgHdr.SIZE
                + org.epoll4j.internal.MsgHdr.IOVEC_SIZE + org.epoll4j.internal.MsgHdr.RIGHTS_CONTROL_MAX);
        long base = org.epoll4j.internal.NativeMemory.address(m);
        int iov = org.epoll4j.internal.MsgHdr.SIZE;
        int control = iov + org.epoll4j.internal.MsgHdr.IOVEC_SIZE;
        m.putLong(iov, scratchAddress).putLong(iov + org.epoll4j.internal.MsgHdr.IOV_LEN, scratch.capacity());
        m.putLong(org.epoll4j.internal.MsgHdr.MSG_IOV, base + iov).putLong(org.epoll4j.internal.MsgHdr.MSG_IOVLEN, 1)
                .putLong(org.epoll4j.internal.MsgHdr.MSG_CONTROL, base + control)
                .putLong(org.epoll4j.internal.MsgHdr.MSG_CONTROLLEN, org.epoll4j.internal.MsgHdr.RIGHTS_CONTROL_MAX);
        long n = check(LibC.recvmsg(reader, base, LibC.MSG_CMSG_CLOEXEC | LibC.MSG_DONTWAIT), "recvmsg");
        byte[] got = new byte[(int) n];
        scratch.get(0, got);
        into.write(got, 0, got.length);
        int len = (int) m.getLong(org.epoll4j.internal.MsgHdr.MSG_CONTROLLEN);
        return org.epoll4j.internal.MsgHdr.rights(m.slice(control, len).order(m.order()), len);
    }

    /** Reads everything there is now. */
    byte[] readAll() {
        return read(Integer.MAX_VALUE);
    }

    /** Sends filler on the writer until the socket refuses more (EAGAIN); returns how many bytes it took. */
    long fill() {
        long total = 0;
        while (true) {
            long n = LibC.send(writer, scratchAddress, scratch.capacity(), LibC.MSG_NOSIGNAL | LibC.MSG_DONTWAIT);
            if (n < 0 && LibC.errno() == Errno.EAGAIN) {
                return total;
            }
            total += check(n, "send");
        }
    }

    /** Reads and drops exactly {@code n} bytes, which must already be there (filler from {@link #fill}). */
    void skip(long n) {
        while (n > 0) {
            long got = LibC.read(reader, scratchAddress, Math.min(n, scratch.capacity()));
            if (got <= 0) {
                throw new AssertionError("expected " + n + " more bytes to skip, read returned " + got
                        + (got < 0 ? " (" + Errno.describe(LibC.errno()) + ")" : ""));
            }
            n -= got;
        }
    }

    /** Closes the reader: the writer's next send fails with EPIPE. */
    void closeReader() {
        Fds.close(reader);
        reader = -1;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            Fds.close(writer, reader);
            reader = -1;
        }
    }

    private static long check(long rc, String call) {
        if (rc < 0) {
            throw new AssertionError(call + ": " + Errno.describe(LibC.errno()));
        }
        return rc;
    }
}
