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

    private static volatile boolean verified;

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
