package org.epoll4j.internal;

import java.nio.ByteBuffer;

/**
 * The LP64 layouts the datagram layer builds by hand for {@code recvmmsg(2)} and {@code sendmmsg(2)}: {@code struct
 * mmsghdr}, the {@code struct msghdr} inside it (see {@link MsgHdr}), {@code struct cmsghdr} and the ancillary
 * payloads epoll4j reads or writes ({@code in_pktinfo}, {@code in6_pktinfo}, a {@code UDP_SEGMENT}/{@code UDP_GRO}
 * size), and the multicast requests {@code ip_mreqn} and {@code ipv6_mreq}.
 *
 * <pre>
 *   struct mmsghdr { struct msghdr msg_hdr; unsigned int msg_len; }      56 + 4 + 4 padding = 64 bytes
 *   struct msghdr  { msg_name 0; msg_namelen 8; msg_iov 16; msg_iovlen 24; msg_control 32; msg_controllen 40;
 *                    msg_flags 48 }
 *   struct cmsghdr { size_t cmsg_len; int cmsg_level; int cmsg_type; }   16 bytes, data at 16, 8-byte aligned
 *   struct in_pktinfo  { int ipi_ifindex; in_addr ipi_spec_dst; in_addr ipi_addr; }      12 bytes
 *   struct in6_pktinfo { in6_addr ipi6_addr; int ipi6_ifindex; }                         20 bytes
 *   struct ip_mreqn    { in_addr imr_multiaddr; in_addr imr_address; int imr_ifindex; }  12 bytes
 *   struct ipv6_mreq   { in6_addr ipv6mr_multiaddr; int ipv6mr_interface; }              20 bytes
 * </pre>
 * The same on x86_64 and aarch64 (glibc). {@code MmsgHdrLayoutTest} checks them against the kernel with real
 * recvmmsg/sendmmsg calls.
 */
public final class MmsgHdr {
    /** {@code sizeof(struct mmsghdr)}. */
    public static final int SIZE = 64;
    public static final int MSG_NAME = 0;
    public static final int MSG_NAMELEN = 8;
    public static final int MSG_IOV = MsgHdr.MSG_IOV;
    public static final int MSG_IOVLEN = MsgHdr.MSG_IOVLEN;
    public static final int MSG_CONTROL = 32;
    public static final int MSG_CONTROLLEN = 40;
    public static final int MSG_FLAGS = 48;
    /** Offset of {@code msg_len}: bytes received or sent for this message. */
    public static final int MSG_LEN = 56;

    /** {@code sizeof(struct cmsghdr)}: where a control message's data starts. */
    public static final int CMSG_HDR = 16;
    public static final int CMSG_LEVEL = 8;
    public static final int CMSG_TYPE = 12;

    /**
     * Control space one receive slot gets: an in_pktinfo and an in6_pktinfo (a dual-stack socket gets both for an
     * IPv4 datagram) plus a UDP_GRO int, each aligned.
     */
    public static final int RECV_CONTROL = cmsgSpace(12) + cmsgSpace(20) + cmsgSpace(4);
    /** Control space one send entry gets: an in6_pktinfo plus a UDP_SEGMENT u16, each aligned. */
    public static final int SEND_CONTROL = cmsgSpace(20) + cmsgSpace(2);

    private MmsgHdr() {
    }

    /** {@code CMSG_LEN(n)}: the cmsg_len of a control message with {@code n} data bytes. */
    public static int cmsgLen(int n) {
        return CMSG_HDR + n;
    }

    /** {@code CMSG_SPACE(n)}: the bytes a control message with {@code n} data bytes takes, padding included. */
    public static int cmsgSpace(int n) {
        return CMSG_HDR + ((n + 7) & ~7);
    }

    /**
     * Writes a control message at {@code at} of {@code buf}.
     *
     * @return the offset after it ({@code at + CMSG_SPACE(dataLen)}); the caller then writes the data at
     *         {@code at + CMSG_HDR}
     */
    public static int putCmsgHeader(ByteBuffer buf, int at, int level, int type, int dataLen) {
        buf.putLong(at, cmsgLen(dataLen));
        buf.putInt(at + CMSG_LEVEL, level);
        buf.putInt(at + CMSG_TYPE, type);
        return at + cmsgSpace(dataLen);
    }
}
