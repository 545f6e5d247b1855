package org.epoll4j.net;

import org.epoll4j.internal.LibC;
import org.epoll4j.internal.SockAddr;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;

/**
 * One received datagram: a view over the endpoint's receive slot, its sender's address and (with
 * {@link DatagramConfig.Builder#packetInfo}) the local address it was sent to. Nothing is copied and nothing
 * allocated to deliver it: {@link #data()} is a buffer over the slot, and the sender is read from the raw
 * {@code sockaddr} the kernel wrote, decoded into an object only when {@link #sender()} is called.
 *
 * <p>Valid only during the handler call that received it: the endpoint reuses the view and the slot for the next
 * batch. Copy what you keep. To echo or forward it unchanged (or changed in place, same length) to its sender,
 * {@link DatagramEndpoint#reply(Datagram)} sends the slot's own bytes without copying them.
 */
public final class Datagram {
    private final ByteBuffer data;
    private final ByteBuffer names;
    private final ByteBuffer control;
    int nameAt;
    int nameLen;
    /** Offset of the pktinfo payload in {@link #control}, or -1. */
    int pktAt = -1;
    /** IP_PKTINFO or IPV6_PKTINFO when {@link #pktAt} is set. */
    int pktType;
    int offset;
    int length;
    int segmentSize;
    boolean truncated;
    /** The endpoint whose receive slot this views, or {@code null} for a copy made for another thread. */
    final DatagramEndpoint owner;
    /** The owner's batch number when this view was last filled: a reply in place needs the current one. */
    int batch;

    /** A datagram view with no endpoint of its own (kept: the API check compares package-private members too). */
    Datagram(ByteBuffer data, ByteBuffer names, ByteBuffer control) {
        this(null, data, names, control);
    }

    Datagram(DatagramEndpoint owner, ByteBuffer data, ByteBuffer names, ByteBuffer control) {
        this.owner = owner;
        this.data = data;
        this.names = names;
        this.control = control;
    }

    /** Points this view at {@code length} bytes at {@code offset} of the receive area. */
    void set(int offset, int length) {
        this.offset = offset;
        this.length = length;
        data.limit(data.capacity()).position(offset).limit(offset + length);
    }

    /**
     * The datagram's bytes: from the buffer's position to its limit (the position is not 0: the buffer is a view over
     * all receive slots). Read it with relative gets, or hand it to a send, which consumes it. Big-endian, like any
     * new ByteBuffer. Writable, so a handler may transform a datagram in place before sending it on; after
     * {@link DatagramEndpoint#reply(Datagram)} leave the bytes alone (they may still be sent from the slot).
     *
     * @return the view, positioned on this datagram
     */
    public ByteBuffer data() {
        return data;
    }

    /** The datagram's length in bytes (of what was kept, if {@link #isTruncated() truncated}). */
    public int length() {
        return length;
    }

    /** Whether the datagram was longer than its receive slot and its tail was discarded by the kernel. */
    public boolean isTruncated() {
        return truncated;
    }

    /**
     * With GRO ({@link DatagramConfig.Builder#gro} and not split): the size of each coalesced datagram in
     * {@link #data()} (the last may be shorter); 0 for a single datagram.
     */
    public int segmentSize() {
        return segmentSize;
    }

    /**
     * The sender's address, decoded into a new object (the one allocating call here).
     *
     * @return an {@code InetSocketAddress}, or a {@code UnixDomainSocketAddress} (with an empty path for an unbound
     *         Unix-domain sender, which cannot be answered)
     */
    public SocketAddress sender() {
        return SockAddr.decode(names.slice(nameAt, SockAddr.MAX_SIZE).order(names.order()), nameLen);
    }

    /** The sender's port, or -1 for a Unix-domain sender. No allocation. */
    public int senderPort() {
        int family = names.getShort(nameAt) & 0xFFFF;
        if (family != LibC.AF_INET && family != LibC.AF_INET6) {
            return -1;
        }
        return ((names.get(nameAt + 2) & 0xFF) << 8) | (names.get(nameAt + 3) & 0xFF);
    }

    /**
     * An IPv4 sender packed into a long without allocating: {@code (address << 16) | port}, the address's 32 bits
     * in network order as an unsigned value; -1 for any other family.
     */
    public long senderInet4() {
        if ((names.getShort(nameAt) & 0xFFFF) != LibC.AF_INET) {
            return -1;
        }
        long ip = ((names.get(nameAt + 4) & 0xFFL) << 24) | ((names.get(nameAt + 5) & 0xFFL) << 16)
                | ((names.get(nameAt + 6) & 0xFFL) << 8) | (names.get(nameAt + 7) & 0xFFL);
        return (ip << 16) | senderPort();
    }

    /**
     * The local address the datagram was sent to (its IP destination), with
     * {@link DatagramConfig.Builder#packetInfo} on; {@code null} otherwise. Allocates.
     */
    public InetAddress localAddress() {
        if (pktAt < 0) {
            return null;
        }
        try {
            if (pktType == LibC.IP_PKTINFO) {
                byte[] b = new byte[4];
                control.get(pktAt + 8, b); // ipi_addr: the header's destination
                return InetAddress.getByAddress(b);
            }
            byte[] b = new byte[16];
            control.get(pktAt, b);
            int ifindex = control.getInt(pktAt + 16);
            InetAddress a = InetAddress.getByAddress(b);
            return a instanceof Inet6Address && a.isLinkLocalAddress() ? Inet6Address.getByAddress(null, b, ifindex) : a;
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e); // cannot happen for 4 or 16 bytes
        }
    }

    /** The index of the interface the datagram arrived on (with packet info), else 0. */
    public int interfaceIndex() {
        if (pktAt < 0) {
            return 0;
        }
        return pktType == LibC.IP_PKTINFO ? control.getInt(pktAt) : control.getInt(pktAt + 16);
    }

    /**
     * A copy of this datagram's sender, pktinfo and {@code payload}'s remaining bytes (consumed), owned by no
     * endpoint: what a reply from another thread hands to the reactor, since the slot is reused meanwhile.
     */
    Datagram detach(ByteBuffer payload) {
        ByteBuffer nameCopy = ByteBuffer.allocate(SockAddr.MAX_SIZE).order(names.order());
        nameCopy.put(0, names, nameAt, SockAddr.MAX_SIZE);
        ByteBuffer controlCopy = ByteBuffer.allocate(20).order(control.order());
        if (pktAt >= 0) {
            controlCopy.put(0, control, pktAt, pktType == LibC.IP_PKTINFO ? 12 : 20);
        }
        ByteBuffer bytes = ByteBuffer.allocate(payload.remaining());
        bytes.put(payload).flip();
        Datagram copy = new Datagram(null, bytes, nameCopy, controlCopy);
        copy.nameLen = nameLen;
        copy.pktAt = pktAt >= 0 ? 0 : -1;
        copy.pktType = pktType;
        copy.length = bytes.remaining();
        copy.truncated = truncated;
        return copy;
    }

    // ---- for DatagramEndpoint.reply: the raw sender and pktinfo ----

    ByteBuffer names() {
        return names;
    }

    ByteBuffer control() {
        return control;
    }

    @Override
    public String toString() {
        return "Datagram[" + length + " bytes from " + sender() + (truncated ? ", truncated" : "")
                + (segmentSize > 0 ? ", segments of " + segmentSize : "") + "]";
    }
}
