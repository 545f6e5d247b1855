package org.epoll4j.net;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.util.Objects;

/**
 * How a {@link DatagramEndpoint} batches, buffers and sets up its socket. Immutable: build one with
 * {@link #builder()}; {@link #defaults()} is a batch of 64 datagrams of up to 2,048 bytes.
 *
 * <p>Memory an endpoint holds: {@code batchSize × slotSize} bytes of receive slots (slotSize is
 * {@link Builder#maxDatagramSize} or 65,535 with {@link Builder#gro GRO}), plus {@link Builder#sendQueueBytes} bytes
 * and {@link Builder#sendQueueDatagrams} entries of send queue, all native and allocated once.
 *
 * <p>Socket options: the generic ones ({@code SO_RCVBUF}, {@code SO_SNDBUF}, {@code SO_REUSEPORT},
 * {@code SO_REUSEADDR}) come from a {@link SockOpts} set; the datagram ones have their own setters here. An option
 * left unset is not touched (the kernel's default stays).
 */
public final class DatagramConfig {
    private static final DatagramConfig DEFAULTS = builder().build();

    final int batchSize;
    final int maxDatagramSize;
    final int sendQueueBytes;
    final int sendQueueDatagrams;
    final int lowWatermark;
    final int highWatermark;
    final int maxBatchesPerEvent;
    final SockOpts sockOpts;
    final int tos;
    final int multicastTtl;
    final Boolean multicastLoop;
    final InetAddress multicastInterface;
    final NetworkInterface multicastNetworkInterface;
    final Boolean broadcast;
    final Boolean v6Only;
    final boolean packetInfo;
    final boolean gso;
    final boolean gro;
    final boolean groSplit;

    private DatagramConfig(Builder b) {
        this.batchSize = b.batchSize;
        this.maxDatagramSize = b.maxDatagramSize;
        this.sendQueueBytes = b.sendQueueBytes;
        this.sendQueueDatagrams = b.sendQueueDatagrams;
        this.lowWatermark = b.lowWatermark;
        this.highWatermark = b.highWatermark;
        this.maxBatchesPerEvent = b.maxBatchesPerEvent;
        this.sockOpts = b.sockOpts;
        this.tos = b.tos;
        this.multicastTtl = b.multicastTtl;
        this.multicastLoop = b.multicastLoop;
        this.multicastInterface = b.multicastInterface;
        this.multicastNetworkInterface = b.multicastNetworkInterface;
        this.broadcast = b.broadcast;
        this.v6Only = b.v6Only;
        this.packetInfo = b.packetInfo;
        this.gso = b.gso;
        this.gro = b.gro;
        this.groSplit = b.groSplit;
    }

    /** Batches of 64, datagrams up to 2,048 bytes, a 1 MiB / 1,024-datagram send queue, watermarks 256/512 KiB. */
    public static DatagramConfig defaults() {
        return DEFAULTS;
    }

    /** A builder starting from the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder starting from this config's values. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.batchSize = batchSize;
        b.maxDatagramSize = maxDatagramSize;
        b.sendQueueBytes = sendQueueBytes;
        b.sendQueueDatagrams = sendQueueDatagrams;
        b.lowWatermark = lowWatermark;
        b.highWatermark = highWatermark;
        b.maxBatchesPerEvent = maxBatchesPerEvent;
        b.sockOpts = sockOpts;
        b.tos = tos;
        b.multicastTtl = multicastTtl;
        b.multicastLoop = multicastLoop;
        b.multicastInterface = multicastInterface;
        b.multicastNetworkInterface = multicastNetworkInterface;
        b.broadcast = broadcast;
        b.v6Only = v6Only;
        b.packetInfo = packetInfo;
        b.gso = gso;
        b.gro = gro;
        b.groSplit = groSplit;
        return b;
    }

    /** The datagrams one recvmmsg reads and one sendmmsg sends at most. */
    public int batchSize() {
        return batchSize;
    }

    /** The largest datagram a receive slot holds; a longer one is reported truncated. */
    public int maxDatagramSize() {
        return maxDatagramSize;
    }

    /** Bytes of a receive slot: {@link #maxDatagramSize()}, or 65,535 when GRO is asked for. */
    int slotSize() {
        return gro ? 65_535 : maxDatagramSize;
    }

    @Override
    public String toString() {
        return "DatagramConfig[batch=" + batchSize + ", maxDatagram=" + maxDatagramSize + ", sendQueue="
                + sendQueueBytes + "B/" + sendQueueDatagrams + ", watermarks=" + lowWatermark + "/" + highWatermark
                + ", pktinfo=" + packetInfo + ", gso=" + gso + ", gro=" + gro + (gro ? (groSplit ? " split" : " whole") : "")
                + ", " + sockOpts + "]";
    }

    /** Builds a {@link DatagramConfig}; every setter checks its argument and names it in the error. */
    public static final class Builder {
        private int batchSize = 64;
        private int maxDatagramSize = 2048;
        private int sendQueueBytes = 1 << 20;
        private int sendQueueDatagrams = 1024;
        private int lowWatermark = 256 * 1024;
        private int highWatermark = 512 * 1024;
        private int maxBatchesPerEvent = 16;
        private SockOpts sockOpts = SockOpts.empty();
        private int tos = -1;
        private int multicastTtl = -1;
        private Boolean multicastLoop;
        private InetAddress multicastInterface;
        private NetworkInterface multicastNetworkInterface;
        private Boolean broadcast;
        private Boolean v6Only;
        private boolean packetInfo;
        private boolean gso = true;
        private boolean gro;
        private boolean groSplit = true;

        private Builder() {
        }

        /**
         * Datagrams per recvmmsg and per sendmmsg; sends are also flushed as soon as this many are queued.
         *
         * @param datagrams 1..1024
         * @return this builder
         */
        public Builder batchSize(int datagrams) {
            this.batchSize = range("batchSize", datagrams, 1, 1024);
            return this;
        }

        /**
         * The largest datagram received whole; a longer one is reported to
         * {@link DatagramHandler#onTruncated} and never to {@code onDatagram}.
         *
         * @param bytes 1..65535
         * @return this builder
         */
        public Builder maxDatagramSize(int bytes) {
            this.maxDatagramSize = range("maxDatagramSize", bytes, 1, 65_535);
            return this;
        }

        /**
         * The send queue's capacity: bytes of payload and number of datagrams queued at most. A send that finds
         * either full is refused ({@code false}) and counted as dropped.
         *
         * @param bytes     65535..1 GiB (one datagram of any size always fits)
         * @param datagrams 1..1,048,576
         * @return this builder
         */
        public Builder sendQueue(int bytes, int datagrams) {
            this.sendQueueBytes = range("sendQueue bytes", bytes, 65_535, 1 << 30);
            this.sendQueueDatagrams = range("sendQueue datagrams", datagrams, 1, 1 << 20);
            return this;
        }

        /**
         * Queued bytes above {@code high} make the endpoint unwritable, at or below {@code low} writable again
         * ({@link DatagramHandler#onWritabilityChanged}).
         *
         * @param low  0 &le; low &lt; high
         * @param high bytes
         * @return this builder
         */
        public Builder writeWatermarks(int low, int high) {
            if (low < 0 || high <= low) {
                throw new IllegalArgumentException("write watermarks need 0 <= low < high: low=" + low + ", high=" + high);
            }
            this.lowWatermark = low;
            this.highWatermark = high;
            return this;
        }

        /**
         * The most recvmmsg calls one readiness event makes before other registrations get their turn (the socket
         * is level-triggered, so what is left is reported again).
         *
         * @param batches 1 or more
         * @return this builder
         */
        public Builder maxBatchesPerEvent(int batches) {
            this.maxBatchesPerEvent = range("maxBatchesPerEvent", batches, 1, Integer.MAX_VALUE);
            return this;
        }

        /**
         * Generic socket options applied before bind: {@code SO_RCVBUF}, {@code SO_SNDBUF}, {@code SO_REUSEPORT},
         * {@code SO_REUSEADDR} (the TCP-only ones fail with the kernel's error).
         *
         * @param options the options
         * @return this builder
         */
        public Builder sockOpts(SockOpts options) {
            this.sockOpts = Objects.requireNonNull(options, "sockOpts");
            return this;
        }

        /**
         * {@code IP_TOS} (IPv4) or {@code IPV6_TCLASS} (IPv6): the type-of-service / traffic-class byte.
         *
         * @param value 0..255
         * @return this builder
         */
        public Builder tos(int value) {
            this.tos = range("tos", value, 0, 255);
            return this;
        }

        /**
         * {@code IP_MULTICAST_TTL} / {@code IPV6_MULTICAST_HOPS}: how far multicast datagrams go (1 = this subnet).
         *
         * @param ttl 0..255
         * @return this builder
         */
        public Builder multicastTtl(int ttl) {
            this.multicastTtl = range("multicastTtl", ttl, 0, 255);
            return this;
        }

        /**
         * {@code IP_MULTICAST_LOOP} / {@code IPV6_MULTICAST_LOOP}: whether this host's own group members receive
         * what this endpoint sends to the group (Linux default: on).
         *
         * @param loop on or off
         * @return this builder
         */
        public Builder multicastLoop(boolean loop) {
            this.multicastLoop = loop;
            return this;
        }

        /**
         * {@code IP_MULTICAST_IF} by local IPv4 address: the interface multicast datagrams leave by (e.g.
         * {@code 127.0.0.1} for loopback).
         *
         * @param localAddress an IPv4 address of this host
         * @return this builder
         */
        public Builder multicastInterface(InetAddress localAddress) {
            if (!(localAddress instanceof Inet4Address)) {
                throw new IllegalArgumentException("multicastInterface takes an IPv4 address (for IPv6 pass a "
                        + "NetworkInterface): " + localAddress);
            }
            this.multicastInterface = localAddress;
            return this;
        }

        /**
         * {@code IP_MULTICAST_IF} (by index) / {@code IPV6_MULTICAST_IF}: the interface multicast datagrams leave by.
         *
         * @param networkInterface the interface
         * @return this builder
         */
        public Builder multicastInterface(NetworkInterface networkInterface) {
            this.multicastNetworkInterface = Objects.requireNonNull(networkInterface, "multicastInterface");
            return this;
        }

        /**
         * {@code SO_BROADCAST}: allow sending to a broadcast address (without it the kernel refuses with EACCES).
         *
         * @param on on or off
         * @return this builder
         */
        public Builder broadcast(boolean on) {
            this.broadcast = on;
            return this;
        }

        /**
         * {@code IPV6_V6ONLY} for an IPv6 socket: {@code true} accepts only IPv6, {@code false} also IPv4 (as
         * v4-mapped addresses). Unset: the system's {@code net.ipv6.bindv6only} (normally dual-stack).
         *
         * @param on on or off
         * @return this builder
         */
        public Builder v6Only(boolean on) {
            this.v6Only = on;
            return this;
        }

        /**
         * {@code IP_PKTINFO} / {@code IPV6_RECVPKTINFO}: each received datagram carries the local address it was sent
         * to ({@link Datagram#localAddress()}), and {@link DatagramEndpoint#reply} answers from that address, so a
         * server bound to a wildcard address answers from the address it was asked on.
         *
         * @param on on or off (default off)
         * @return this builder
         */
        public Builder packetInfo(boolean on) {
            this.packetInfo = on;
            return this;
        }

        /**
         * Whether {@link DatagramEndpoint#sendSegments} may use {@code UDP_SEGMENT} (GSO: one system call, one trip
         * down the stack for many equal-sized datagrams). Off, or refused by the kernel, the segments are sent as
         * separate datagrams in one sendmmsg each batch. Default on.
         *
         * @param on on or off
         * @return this builder
         */
        public Builder gso(boolean on) {
            this.gso = on;
            return this;
        }

        /**
         * {@code UDP_GRO}: the kernel may hand several datagrams of one sender as one coalesced buffer, with their
         * segment size. Receive slots grow to 65,535 bytes. If the kernel refuses the option the endpoint works
         * without it ({@link DatagramEndpoint#isGroEnabled()}). Default off.
         *
         * @param on    on or off
         * @param split {@code true}: each segment reaches the handler as its own {@link Datagram};
         *              {@code false}: the coalesced buffer arrives whole, with {@link Datagram#segmentSize()}
         * @return this builder
         */
        public Builder gro(boolean on, boolean split) {
            this.gro = on;
            this.groSplit = split;
            return this;
        }

        /** The config. */
        public DatagramConfig build() {
            return new DatagramConfig(this);
        }

        private static int range(String what, int v, int min, int max) {
            if (v < min || v > max) {
                throw new IllegalArgumentException(what + " must be " + min + ".." + max + ": " + v);
            }
            return v;
        }
    }
}
