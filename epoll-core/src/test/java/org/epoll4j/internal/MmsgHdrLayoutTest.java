package org.epoll4j.internal;

import org.epoll4j.testutil.FdLeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.ByteBuffer;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The hand-built {@code struct mmsghdr} array, with names and control messages, against the kernel: sendmmsg of
 * three datagrams from one UDP socket, recvmmsg of them into three slots, msg_len / msg_namelen / msg_flags /
 * IP_PKTINFO read back at the offsets {@link MmsgHdr} names.
 */
@ExtendWith(FdLeakCheck.class)
@Timeout(10)
class MmsgHdrLayoutTest {
    private static final int N = 3;

    @Test
    void recvmmsgAndSendmmsgReadAndWriteTheLayout() throws Exception {
        int a = LibC.socket(LibC.AF_INET, LibC.SOCK_DGRAM | LibC.SOCK_CLOEXEC, 0);
        int b = LibC.socket(LibC.AF_INET, LibC.SOCK_DGRAM | LibC.SOCK_CLOEXEC, 0);
        try {
            Sockets.bind(a, new java.net.InetSocketAddress("127.0.0.1", 0));
            Sockets.bind(b, new java.net.InetSocketAddress("127.0.0.1", 0));
            Sockets.setIntOption(b, LibC.IPPROTO_IP, LibC.IP_PKTINFO, 1, "IP_PKTINFO");
            java.net.InetSocketAddress bAddr = (java.net.InetSocketAddress) Sockets.localAddress(b);
            java.net.InetSocketAddress aAddr = (java.net.InetSocketAddress) Sockets.localAddress(a);

            int vec = 0;
            int iov = N * MmsgHdr.SIZE;
            int names = iov + N * 16;
            int ctl = names + N * SockAddr.MAX_SIZE;
            int data = ctl + N * MmsgHdr.RECV_CONTROL;
            ByteBuffer mem = NativeMemory.allocate(data + N * 256);
            long base = NativeMemory.address(mem);
            ByteBuffer name = NativeMemory.allocate(SockAddr.MAX_SIZE);
            int nameLen = SockAddr.encode(bAddr, name);
            for (int i = 0; i < N; i++) {
                int h = vec + i * MmsgHdr.SIZE;
                for (int k = 0; k < 10 + i; k++) {
                    mem.put(data + i * 256 + k, (byte) (i + 1));
                }
                mem.putLong(iov + i * 16, base + data + i * 256).putLong(iov + i * 16 + 8, 10 + i);
                for (int k = 0; k < nameLen; k++) {
                    mem.put(names + i * SockAddr.MAX_SIZE + k, name.get(k));
                }
                mem.putLong(h + MmsgHdr.MSG_NAME, base + names + i * SockAddr.MAX_SIZE);
                mem.putInt(h + MmsgHdr.MSG_NAMELEN, nameLen);
                mem.putLong(h + MmsgHdr.MSG_IOV, base + iov + i * 16).putLong(h + MmsgHdr.MSG_IOVLEN, 1);
            }
            assertEquals(N, LibC.sendmmsg(a, base, N, LibC.MSG_DONTWAIT), () -> Errno.describe(LibC.errno()));
            for (int i = 0; i < N; i++) {
                assertEquals(10 + i, mem.getInt(i * MmsgHdr.SIZE + MmsgHdr.MSG_LEN), "msg_len after sendmmsg");
            }

            ByteBuffer in = NativeMemory.allocate(mem.capacity());
            long inBase = NativeMemory.address(in);
            for (int i = 0; i < N; i++) {
                int h = i * MmsgHdr.SIZE;
                in.putLong(iov + i * 16, inBase + data + i * 256).putLong(iov + i * 16 + 8, 11); // 3rd one is cut
                in.putLong(h + MmsgHdr.MSG_NAME, inBase + names + i * SockAddr.MAX_SIZE);
                in.putInt(h + MmsgHdr.MSG_NAMELEN, SockAddr.MAX_SIZE);
                in.putLong(h + MmsgHdr.MSG_IOV, inBase + iov + i * 16).putLong(h + MmsgHdr.MSG_IOVLEN, 1);
                in.putLong(h + MmsgHdr.MSG_CONTROL, inBase + ctl + i * MmsgHdr.RECV_CONTROL);
                in.putLong(h + MmsgHdr.MSG_CONTROLLEN, MmsgHdr.RECV_CONTROL);
            }
            int got = 0;
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (got == 0 && System.nanoTime() < deadline) {
                got = Math.max(0, LibC.recvmmsg(b, inBase, N, 0, 0L)); // blocking socket: waits for the first
            }
            assertEquals(N, got);
            for (int i = 0; i < N; i++) {
                int h = i * MmsgHdr.SIZE;
                assertEquals(Math.min(11, 10 + i), in.getInt(h + MmsgHdr.MSG_LEN));
                assertEquals(i == 2 ? LibC.MSG_TRUNC : 0, in.getInt(h + MmsgHdr.MSG_FLAGS) & LibC.MSG_TRUNC);
                assertEquals(16, in.getInt(h + MmsgHdr.MSG_NAMELEN));
                assertEquals(aAddr, SockAddr.decode(in.slice(names + i * SockAddr.MAX_SIZE, SockAddr.MAX_SIZE)
                        .order(in.order()), 16));
                assertEquals((byte) (i + 1), in.get(data + i * 256));
                int c = ctl + i * MmsgHdr.RECV_CONTROL;
                assertEquals(MmsgHdr.cmsgLen(12), in.getLong(c));
                assertEquals(LibC.IPPROTO_IP, in.getInt(c + MmsgHdr.CMSG_LEVEL));
                assertEquals(LibC.IP_PKTINFO, in.getInt(c + MmsgHdr.CMSG_TYPE));
                assertEquals(0x7F000001, Integer.reverseBytes(in.getInt(c + MmsgHdr.CMSG_HDR + 8)), "ipi_addr");
                assertEquals(MmsgHdr.cmsgSpace(12), in.getLong(h + MmsgHdr.MSG_CONTROLLEN));
            }
        } finally {
            LibC.close(a);
            LibC.close(b);
        }
    }
}
