package org.epoll4j.internal;

import java.nio.ByteBuffer;

/**
 * The LP64 layouts of {@code struct iovec} and {@code struct msghdr} that gathering writes build by hand, and a
 * self-test that checks them against the kernel, as {@link EventBuffer#verifyLayout()} does for epoll_event.
 *
 * <pre>
 *   struct iovec  { void *iov_base;  size_t iov_len; }                          16 bytes
 *   struct msghdr { void *msg_name;  socklen_t msg_namelen;  (4 bytes padding)  0, 8
 *                   struct iovec *msg_iov;  size_t msg_iovlen;                   16, 24
 *                   void *msg_control;  size_t msg_controllen;  int msg_flags; } 32, 40, 48: 56 bytes
 * </pre>
 * The same on x86_64 and aarch64 (glibc; musl's {@code int msg_iovlen} plus padding reads the same on these
 * little-endian machines). Only {@link NativePlatform}'s supported platforms get here.
 */
public final class MsgHdr {
    /** {@code sizeof(struct iovec)}. */
    public static final int IOVEC_SIZE = 16;
    /** Offset of {@code iov_len} in {@code struct iovec}. */
    public static final int IOV_LEN = 8;
    /** {@code sizeof(struct msghdr)}. */
    public static final int SIZE = 56;
    /** Offset of {@code msg_iov}. */
    public static final int MSG_IOV = 16;
    /** Offset of {@code msg_iovlen}. */
    public static final int MSG_IOVLEN = 24;

    // ---- fd passing (issue 22): msg_control and SCM_RIGHTS control messages ----
    /** Offset of {@code msg_control}. */
    public static final int MSG_CONTROL = 32;
    /** Offset of {@code msg_controllen} (a size_t; the kernel writes back how much it filled). */
    public static final int MSG_CONTROLLEN = 40;
    /** Offset of {@code msg_flags} (recvmsg writes MSG_CTRUNC here). */
    public static final int MSG_FLAGS = 48;
    /**
     * Control space for the largest SCM_RIGHTS message the kernel sends ({@link LibC#SCM_MAX_FD} fds) plus an
     * SCM_CREDENTIALS one (a user who set SO_PASSCRED gets both): one recvmsg on a stream socket returns the fds of
     * at most one sendmsg, so a buffer this size is never truncated by SCM_RIGHTS alone.
     */
    public static final int RIGHTS_CONTROL_MAX = MmsgHdr.cmsgSpace(4 * LibC.SCM_MAX_FD) + MmsgHdr.cmsgSpace(12);
    private static final int[] NO_FDS = new int[0];

    private static volatile boolean verified;

    /**
     * Writes one SCM_RIGHTS control message carrying {@code fds} at the start of {@code control}.
     *
     * @return its {@code CMSG_SPACE}: the msg_controllen to send it with
     */
    public static int putRights(ByteBuffer control, int[] fds) {
        int at = MmsgHdr.CMSG_HDR;
        MmsgHdr.putCmsgHeader(control, 0, LibC.SOL_SOCKET, LibC.SCM_RIGHTS, 4 * fds.length);
        for (int fd : fds) {
            control.putInt(at, fd);
            at += 4;
        }
        return MmsgHdr.cmsgSpace(4 * fds.length);
    }

    /**
     * The fds of every SCM_RIGHTS message in the first {@code length} bytes of {@code control} (what recvmsg filled:
     * its msg_controllen), in order; an empty array if there are none. Other control messages are skipped.
     */
    public static int[] rights(ByteBuffer control, int length) {
        int[] fds = NO_FDS;
        int at = 0;
        while (at + MmsgHdr.CMSG_HDR <= length) {
            int len = (int) control.getLong(at);
            if (len < MmsgHdr.CMSG_HDR || at + len > length) {
                break; // malformed or cut short (MSG_CTRUNC): the whole fds we did get were before it
            }
            if (control.getInt(at + MmsgHdr.CMSG_LEVEL) == LibC.SOL_SOCKET
                    && control.getInt(at + MmsgHdr.CMSG_TYPE) == LibC.SCM_RIGHTS) {
                int n = (len - MmsgHdr.CMSG_HDR) / 4;
                int[] more = java.util.Arrays.copyOf(fds, fds.length + n);
                for (int i = 0; i < n; i++) {
                    more[fds.length + i] = control.getInt(at + MmsgHdr.CMSG_HDR + 4 * i);
                }
                fds = more;
            }
            at += (len + 7) & ~7;
        }
        return fds;
    }

    private MsgHdr() {
    }

    /**
     * Checks once per process, with a real sendmsg over two iovecs on a socketpair, that the kernel reads the
     * layout above: both buffers, in order, and nothing else.
     *
     * @throws IllegalStateException on a mismatch (gathering writes would send the wrong bytes) or if the test
     *                               cannot run
     */
    public static void verifyLayout() {
        if (verified) {
            return;
        }
        synchronized (MsgHdr.class) {
            if (!verified) {
                String problem = check(LibC.impl(), MSG_IOV, MSG_IOVLEN);
                if (problem != null) {
                    throw new IllegalStateException("struct msghdr layout self-test on " + System.getProperty("os.arch")
                            + " (size " + SIZE + ", msg_iov at " + MSG_IOV + ", msg_iovlen at " + MSG_IOVLEN + "): "
                            + problem);
                }
                verified = true;
            }
        }
    }

    /**
     * Passes the write end of a pipe over a socketpair with an SCM_RIGHTS message built by {@link #putRights}, reads
     * it with recvmsg({@code MSG_CMSG_CLOEXEC}) and {@link #rights}, and writes through the received fd; {@code null}
     * if the byte came out of the pipe's read end and the received fd is close-on-exec, else what went wrong.
     * Package-visible so a test can run it through each binding.
     */
    static String checkRights(Binding libc) {
        ByteBuffer mem = NativeMemory.allocate(4 * 16 + 2 * SIZE + 2 * IOVEC_SIZE + RIGHTS_CONTROL_MAX * 2);
        long base = NativeMemory.address(mem);
        int pairAt = 0;
        int pipeAt = 8;
        int dataAt = 16;
        int sendIov = 32;
        int recvIov = sendIov + IOVEC_SIZE;
        int sendHdr = recvIov + IOVEC_SIZE;
        int recvHdr = sendHdr + SIZE;
        int sendCtl = recvHdr + SIZE;
        int recvCtl = sendCtl + RIGHTS_CONTROL_MAX;
        if (libc.socketpair(LibC.AF_UNIX, LibC.SOCK_STREAM | LibC.SOCK_CLOEXEC, 0, base + pairAt) != 0) {
            return "socketpair: " + Errno.describe(libc.errno());
        }
        int a = mem.getInt(pairAt);
        int b = mem.getInt(pairAt + 4);
        if (libc.pipe2(base + pipeAt, LibC.O_CLOEXEC | LibC.O_NONBLOCK) != 0) {
            libc.close(a);
            libc.close(b);
            return "pipe2: " + Errno.describe(libc.errno());
        }
        int pipeIn = mem.getInt(pipeAt);
        int pipeOut = mem.getInt(pipeAt + 4);
        int received = -1;
        try {
            mem.put(dataAt, (byte) 'x');
            mem.putLong(sendIov, base + dataAt).putLong(sendIov + IOV_LEN, 1);
            ByteBuffer sendControl = mem.slice(sendCtl, RIGHTS_CONTROL_MAX).order(mem.order());
            int controlLen = putRights(sendControl, new int[] {pipeOut});
            mem.putLong(sendHdr + MSG_IOV, base + sendIov).putLong(sendHdr + MSG_IOVLEN, 1)
                    .putLong(sendHdr + MSG_CONTROL, base + sendCtl).putLong(sendHdr + MSG_CONTROLLEN, controlLen);
            long n = libc.sendmsg(a, base + sendHdr, LibC.MSG_NOSIGNAL | LibC.MSG_DONTWAIT);
            if (n != 1) {
                return "sendmsg with SCM_RIGHTS: " + (n < 0 ? Errno.describe(libc.errno()) : n + " bytes");
            }
            mem.putLong(recvIov, base + dataAt + 8).putLong(recvIov + IOV_LEN, 8);
            mem.putLong(recvHdr + MSG_IOV, base + recvIov).putLong(recvHdr + MSG_IOVLEN, 1)
                    .putLong(recvHdr + MSG_CONTROL, base + recvCtl).putLong(recvHdr + MSG_CONTROLLEN, RIGHTS_CONTROL_MAX);
            n = libc.recvmsg(b, base + recvHdr, LibC.MSG_CMSG_CLOEXEC | LibC.MSG_DONTWAIT);
            if (n != 1 || mem.get(dataAt + 8) != 'x') {
                return "recvmsg: " + (n < 0 ? Errno.describe(libc.errno()) : n + " bytes");
            }
            ByteBuffer recvControl = mem.slice(recvCtl, RIGHTS_CONTROL_MAX).order(mem.order());
            int[] fds = rights(recvControl, (int) mem.getLong(recvHdr + MSG_CONTROLLEN));
            if (fds.length != 1 || (mem.getInt(recvHdr + MSG_FLAGS) & LibC.MSG_CTRUNC) != 0) {
                for (int fd : fds) {
                    libc.close(fd);
                }
                return "recvmsg gave " + fds.length + " fds (flags " + mem.getInt(recvHdr + MSG_FLAGS)
                        + ", controllen " + mem.getLong(recvHdr + MSG_CONTROLLEN) + "), expected 1";
            }
            received = fds[0];
            if ((libc.fcntl(received, LibC.F_GETFD, 0) & 1) == 0) {
                return "received fd " + received + " is not close-on-exec (MSG_CMSG_CLOEXEC ignored?)";
            }
            mem.put(dataAt, (byte) 'y');
            if (libc.write(received, base + dataAt, 1) != 1) {
                return "write to the received pipe fd: " + Errno.describe(libc.errno());
            }
            if (libc.read(pipeIn, base + dataAt + 1, 1) != 1 || mem.get(dataAt + 1) != 'y') {
                return "the byte written through the received fd did not come out of the pipe";
            }
            return null;
        } finally {
            if (received >= 0) {
                libc.close(received);
            }
            libc.close(pipeIn);
            libc.close(pipeOut);
            libc.close(a);
            libc.close(b);
        }
    }

    // ---- end fd passing ----

    /**
     * Sends "abc" and "defgh" from two iovecs with the given msghdr offsets and reads them back; {@code null} if
     * exactly "abcdefgh" arrived, else what went wrong. Package-visible so a test can show a wrong layout is caught.
     */
    static String check(int msgIovOffset, int msgIovlenOffset) {
        return check(LibC.impl(), msgIovOffset, msgIovlenOffset);
    }

    /** {@link #check(int, int)} through one binding: package-visible so a test can run it through each. */
    static String check(Binding libc, int msgIovOffset, int msgIovlenOffset) {
        ByteBuffer mem = NativeMemory.allocate(2 * IOVEC_SIZE + SIZE + 64);
        long base = NativeMemory.address(mem);
        long iov = base;
        long msghdr = base + 2 * IOVEC_SIZE;
        long data = msghdr + SIZE;
        long in = data + 16;
        byte[] sent = "abcdefgh".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        for (int i = 0; i < sent.length; i++) {
            mem.put((int) (data - base) + i, sent[i]);
        }
        mem.putLong(0, data).putLong(IOV_LEN, 3);
        mem.putLong(IOVEC_SIZE, data + 3).putLong(IOVEC_SIZE + IOV_LEN, 5);
        int h = (int) (msghdr - base);
        mem.putLong(h + msgIovOffset, iov).putLong(h + msgIovlenOffset, 2);
        if (libc.socketpair(LibC.AF_UNIX, LibC.SOCK_STREAM | LibC.SOCK_CLOEXEC, 0, in) != 0) {
            return "socketpair: " + Errno.describe(libc.errno());
        }
        int a = mem.getInt((int) (in - base));
        int b = mem.getInt((int) (in - base) + 4);
        try {
            long n = libc.sendmsg(a, msghdr, LibC.MSG_NOSIGNAL | LibC.MSG_DONTWAIT);
            if (n < 0) {
                return "sendmsg: " + Errno.describe(libc.errno());
            }
            long inBuf = in + 16;
            long got = libc.recv(b, inBuf, 32, LibC.MSG_DONTWAIT);
            if (got < 0) {
                return "recv: " + Errno.describe(libc.errno());
            }
            byte[] received = new byte[(int) got];
            for (int i = 0; i < received.length; i++) {
                received[i] = mem.get((int) (inBuf - base) + i);
            }
            String text = new String(received, java.nio.charset.StandardCharsets.US_ASCII);
            return n == 8 && text.equals("abcdefgh") ? null
                    : "sendmsg sent " + n + " bytes, received \"" + text + "\", expected \"abcdefgh\"";
        } finally {
            libc.close(a);
            libc.close(b);
        }
    }
}
