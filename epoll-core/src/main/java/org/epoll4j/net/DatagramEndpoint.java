package org.epoll4j.net;

import org.epoll4j.ClosedReactorException;
import org.epoll4j.EpollException;
import org.epoll4j.Handler;
import org.epoll4j.Interest;
import org.epoll4j.Reactor;
import org.epoll4j.ReactorGroup;
import org.epoll4j.Ready;
import org.epoll4j.Registration;
import org.epoll4j.TriggerMode;
import org.epoll4j.internal.Errno;
import org.epoll4j.internal.IoFigures;
import org.epoll4j.internal.LibC;
import org.epoll4j.internal.MmsgHdr;
import org.epoll4j.internal.NativeMemory;
import org.epoll4j.internal.SockAddr;
import org.epoll4j.internal.Sockets;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * A datagram socket (UDP over IPv4 or IPv6, or a Unix-domain datagram socket) on a {@link Reactor}, read and written
 * in batches: one {@code recvmmsg} fills up to {@link DatagramConfig#batchSize()} receive slots and hands them to the
 * {@link DatagramHandler} as views (no copy, no allocation), and sends are queued and leave together in one
 * {@code sendmmsg} when the handler returns, when a batch is full, or at the end of the loop iteration.
 *
 * <pre>
 *   DatagramEndpoint echo = DatagramEndpoint.open(reactor, new InetSocketAddress("127.0.0.1", 9999),
 *           DatagramConfig.defaults(), (ep, d) -&gt; ep.reply(d));
 * </pre>
 *
 * <p>Sends copy the payload into a bounded native send queue (see {@link DatagramConfig.Builder#sendQueue}); a
 * send that finds it full returns {@code false} (the datagram is dropped, as the network may drop any datagram).
 * {@link #reply(Datagram)}, which sends a received datagram's own bytes back, skips the copy: the send points at the
 * receive slot, and only what the kernel has not taken when the handler returns is copied into the queue.
 * Watermarks on the queued bytes call {@link DatagramHandler#onWritabilityChanged}. When the socket's send buffer
 * is full the queue waits for {@code EPOLLOUT} and resumes; nothing queued is lost.
 *
 * <p>Threads: the handler runs on the reactor's thread. {@code send}, {@code reply} and {@code close} may be called
 * from any thread (from another thread the payload is copied and handed to the reactor); the other methods belong to
 * the reactor's thread, or to any thread while the reactor is not running.
 */
public final class DatagramEndpoint implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(DatagramEndpoint.class.getName());
    /** Largest payload one UDP datagram (IPv4) can carry; a GSO send is cut into pieces at most this long. */
    private static final int MAX_UDP_PAYLOAD = 65_507;
    /** Segments the kernel accepts in one UDP_SEGMENT send (UDP_MAX_SEGMENTS, 64 on every kernel that has GSO). */
    private static final int MAX_GSO_SEGMENTS = 64;
    private static final int NAME = SockAddr.MAX_SIZE;

    private final Reactor reactor;
    private final DatagramConfig config;
    private final DatagramHandler handler;
    private final int fd;
    private final int family;
    private final int batchSize;
    private Registration registration;
    private volatile boolean open = true;
    private boolean closedNotified;
    private SocketAddress connectedTo;

    // ---- receive side: mmsghdr[B] | iovec[B] | name[B] | control[B], and the slots' data ----
    private final ByteBuffer recvMem;
    private final long recvVec;
    private final int recvNamesAt;
    private final int recvControlAt;
    private final int recvControl;
    private final ByteBuffer recvData;
    private final long recvDataAddress;
    private final int slotSize;
    private final DatagramBatch batch;
    private Datagram[] views;
    private int lastReceived;

    // ---- send side: a ring of E entries, mmsghdr[E] | iovec[E] | name[E] | control[E], and a byte ring ----
    private final ByteBuffer sendMem;
    private final long sendVec;
    private final int sendIovAt;
    private final int sendNamesAt;
    private final int sendControlAt;
    private final int entries;
    private final ByteBuffer arena;
    private final long arenaAddress;
    private final int[] entryOff;
    private final int[] entryLen;
    private final int[] entrySeg;
    private final int[] entrySent;
    private final int[] entryPkt;
    /** Where entry e's bytes are: in the arena at entryOff, or (in place) in a receive slot. */
    private final long[] entryAddr;
    /** For a reply in place: the receive-area offset of its bytes, else -1. */
    private final int[] entrySrc;
    /** For a reply in place: the offset of its destination's sockaddr in recvMem. */
    private final int[] entryName;
    /** Queued replies whose bytes are still in a receive slot; 0 outside a batch. */
    private int inPlaceQueued;
    /** Numbers the receive batches, so a reply in place can tell a view of the current batch. */
    private int batchNumber;
    /** True while the handler runs on a received batch: its slots are valid until it returns. */
    private boolean inBatch;
    private long inPlaceReplies;
    private long inPlaceCopies;
    private int head;
    private int tail;
    private int count;
    private int arenaHead;
    private int arenaTail;
    private boolean arenaWrapped;
    private long queuedBytes;
    private boolean writable = true;
    private boolean waitingForOut;
    private boolean inHandler;
    private boolean flushScheduled;
    private final Runnable flushTask = this::scheduledFlush;
    /** The last destination {@link #send(ByteBuffer, SocketAddress)} encoded, and its bytes at {@link #toCacheAt}. */
    private SocketAddress lastTo;
    private int lastToLen;
    private final ByteBuffer scratch = NativeMemory.allocate(256);
    private final long scratchAddress = NativeMemory.address(scratch);

    private final boolean gsoAllowed;
    private boolean gsoUsable;
    private boolean groEnabled;
    /** Tests only: pretend the kernel refuses UDP_GRO (ENOPROTOOPT) for endpoints opened while set. */
    static volatile boolean simulateGroRefusal;
    /** Tests only: pretend the kernel refuses UDP_SEGMENT at send time with EIO. */
    volatile boolean simulateGsoRefusal;

    private long received;
    private long sent;
    private long dropped;
    private long truncated;
    private long errors;
    private long gsoFallbacks;

    private DatagramEndpoint(Reactor reactor, int fd, int family, DatagramConfig config, DatagramHandler handler) {
        this.reactor = reactor;
        this.fd = fd;
        this.family = family;
        this.config = config;
        this.handler = handler;
        this.batchSize = config.batchSize;
        this.slotSize = config.slotSize();

        int b = batchSize;
        this.recvControl = config.packetInfo || config.gro ? MmsgHdr.RECV_CONTROL : 0;
        this.recvNamesAt = b * (MmsgHdr.SIZE + 16);
        this.recvControlAt = recvNamesAt + b * NAME;
        this.recvMem = NativeMemory.allocate(recvControlAt + b * Math.max(recvControl, 8));
        this.recvVec = NativeMemory.address(recvMem);
        this.recvData = NativeMemory.allocate(b * slotSize);
        long dataAddress = NativeMemory.address(recvData);
        this.recvDataAddress = dataAddress;
        for (int i = 0; i < b; i++) {
            int h = i * MmsgHdr.SIZE;
            int iov = b * MmsgHdr.SIZE + i * 16;
            recvMem.putLong(iov, dataAddress + (long) i * slotSize).putLong(iov + 8, slotSize);
            recvMem.putLong(h + MmsgHdr.MSG_NAME, recvVec + recvNamesAt + (long) i * NAME);
            recvMem.putLong(h + MmsgHdr.MSG_IOV, recvVec + iov).putLong(h + MmsgHdr.MSG_IOVLEN, 1);
            if (recvControl > 0) {
                recvMem.putLong(h + MmsgHdr.MSG_CONTROL, recvVec + recvControlAt + (long) i * recvControl);
            }
        }
        resetReceiveSlots(b);
        this.views = new Datagram[b];
        for (int i = 0; i < b; i++) {
            views[i] = newView();
        }
        this.batch = new DatagramBatch(views);

        int e = config.sendQueueDatagrams;
        this.entries = e;
        this.sendIovAt = e * MmsgHdr.SIZE;
        this.sendNamesAt = sendIovAt + e * 16;
        this.sendControlAt = sendNamesAt + e * NAME;
        this.sendMem = NativeMemory.allocate(sendControlAt + e * MmsgHdr.SEND_CONTROL);
        this.sendVec = NativeMemory.address(sendMem);
        for (int i = 0; i < e; i++) {
            int h = i * MmsgHdr.SIZE;
            sendMem.putLong(h + MmsgHdr.MSG_IOV, sendVec + sendIovAt + (long) i * 16).putLong(h + MmsgHdr.MSG_IOVLEN, 1);
            sendMem.putLong(h + MmsgHdr.MSG_NAME, sendVec + sendNamesAt + (long) i * NAME);
            sendMem.putLong(h + MmsgHdr.MSG_CONTROL, sendVec + sendControlAt + (long) i * MmsgHdr.SEND_CONTROL);
        }
        this.arena = NativeMemory.allocate(config.sendQueueBytes);
        this.arenaAddress = NativeMemory.address(arena);
        this.entryOff = new int[e];
        this.entryLen = new int[e];
        this.entrySeg = new int[e];
        this.entrySent = new int[e];
        this.entryPkt = new int[e];
        this.entryAddr = new long[e];
        this.entrySrc = new int[e];
        this.entryName = new int[e];
        java.util.Arrays.fill(entrySrc, -1);
        this.gsoAllowed = config.gso && family != LibC.AF_UNIX;
        this.gsoUsable = gsoAllowed;
    }

    private Datagram newView() {
        ByteBuffer names = recvMem.duplicate().order(recvMem.order());
        // the payload view is big-endian, as every new ByteBuffer (and network protocols) are
        return new Datagram(this, recvData.duplicate().order(java.nio.ByteOrder.BIG_ENDIAN), names, names);
    }

    // ------------------------------------------------------------------ opening

    /**
     * Opens a datagram socket bound to {@code local} with the default config.
     *
     * @see #open(Reactor, SocketAddress, DatagramConfig, DatagramHandler)
     */
    public static DatagramEndpoint open(Reactor reactor, SocketAddress local, DatagramHandler handler)
            throws EpollException {
        return open(reactor, local, DatagramConfig.defaults(), handler);
    }

    /**
     * Opens a datagram socket of {@code local}'s family, applies the config's options, binds it and registers it
     * with {@code reactor}.
     *
     * @param reactor the reactor whose thread serves it
     * @param local   the local address: an {@code InetSocketAddress} (port 0 for an ephemeral port; a wildcard
     *                address to receive on every interface) or a {@code UnixDomainSocketAddress} (a path that
     *                must not exist yet)
     * @param config  batching, queue and socket options
     * @param handler receives datagrams and events
     * @return the open endpoint
     * @throws EpollException         if a system call fails (e.g. bind: EADDRINUSE), naming it
     * @throws ClosedReactorException if the reactor is closed
     */
    public static DatagramEndpoint open(Reactor reactor, SocketAddress local, DatagramConfig config,
                                        DatagramHandler handler) throws EpollException {
        Objects.requireNonNull(reactor, "reactor");
        Objects.requireNonNull(local, "local");
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(handler, "handler");
        int family = SockAddr.family(local);
        int fd = LibC.socket(family, LibC.SOCK_DGRAM | LibC.SOCK_NONBLOCK | LibC.SOCK_CLOEXEC, 0);
        if (fd < 0) {
            throw new EpollException("socket(" + Sockets.familyName(family) + ", SOCK_DGRAM)", LibC.errno());
        }
        DatagramEndpoint ep;
        try {
            ep = new DatagramEndpoint(reactor, fd, family, config, handler);
            ep.setUp(local);
        } catch (EpollException | RuntimeException | Error e) {
            LibC.close(fd);
            throw e;
        }
        ep.register();
        return ep;
    }

    /**
     * One endpoint per reactor of {@code group}, all bound to the same address with {@code SO_REUSEPORT}: the kernel
     * spreads datagrams over them by the sender's address (one sender always reaches the same reactor). With port 0
     * the first endpoint picks the port and the others join it. {@link ReactorGroup#shutdownGracefully} closes them.
     * Call it from outside the group's threads.
     *
     * @param group    the reactors
     * @param local    the common local address
     * @param config   the config for each ({@code SO_REUSEPORT} is added)
     * @param handlers a new handler per endpoint (or the same thread-safe one)
     * @return the endpoints, one per reactor, in the group's order
     * @throws EpollException if one fails to open (those already open are closed)
     */
    public static List<DatagramEndpoint> openOnEach(ReactorGroup group, SocketAddress local, DatagramConfig config,
                                                    Supplier<? extends DatagramHandler> handlers)
            throws EpollException {
        Objects.requireNonNull(group, "group");
        DatagramConfig shared = config.toBuilder()
                .sockOpts(config.sockOpts.with(SockOpt.SO_REUSEPORT, true)).build();
        List<DatagramEndpoint> all = new ArrayList<>();
        SocketAddress address = local;
        try {
            for (Reactor r : group) {
                DatagramEndpoint ep = open(r, address, shared, handlers.get());
                all.add(ep);
                if (address instanceof InetSocketAddress isa && isa.getPort() == 0) {
                    address = new InetSocketAddress(isa.getAddress(), ((InetSocketAddress) ep.localAddress()).getPort());
                }
            }
        } catch (EpollException | RuntimeException e) {
            all.forEach(DatagramEndpoint::close);
            throw e;
        }
        // a graceful group shutdown closes them (a datagram socket has nothing in flight to wait for)
        group.addShutdownListener(() -> all.forEach(DatagramEndpoint::close));
        return all;
    }

    private void setUp(SocketAddress local) throws EpollException {
        DatagramConfig c = config;
        c.sockOpts.applyTo(fd);
        boolean ip = family != LibC.AF_UNIX;
        boolean v6 = family == LibC.AF_INET6;
        if (c.v6Only != null && v6) {
            Sockets.setIntOption(fd, LibC.IPPROTO_IPV6, LibC.IPV6_V6ONLY, c.v6Only ? 1 : 0, "IPV6_V6ONLY");
        }
        if (c.broadcast != null && ip) {
            Sockets.setIntOption(fd, LibC.SOL_SOCKET, LibC.SO_BROADCAST, c.broadcast ? 1 : 0, "SO_BROADCAST");
        }
        if (c.tos >= 0 && ip) {
            if (v6) {
                Sockets.setIntOption(fd, LibC.IPPROTO_IPV6, LibC.IPV6_TCLASS, c.tos, "IPV6_TCLASS");
            } else {
                Sockets.setIntOption(fd, LibC.IPPROTO_IP, LibC.IP_TOS, c.tos, "IP_TOS");
            }
        }
        if (c.multicastTtl >= 0 && ip) {
            if (v6) {
                Sockets.setIntOption(fd, LibC.IPPROTO_IPV6, LibC.IPV6_MULTICAST_HOPS, c.multicastTtl, "IPV6_MULTICAST_HOPS");
            } else {
                Sockets.setIntOption(fd, LibC.IPPROTO_IP, LibC.IP_MULTICAST_TTL, c.multicastTtl, "IP_MULTICAST_TTL");
            }
        }
        if (c.multicastLoop != null && ip) {
            int on = c.multicastLoop ? 1 : 0;
            if (v6) {
                Sockets.setIntOption(fd, LibC.IPPROTO_IPV6, LibC.IPV6_MULTICAST_LOOP, on, "IPV6_MULTICAST_LOOP");
            } else {
                Sockets.setIntOption(fd, LibC.IPPROTO_IP, LibC.IP_MULTICAST_LOOP, on, "IP_MULTICAST_LOOP");
            }
        }
        if (c.multicastInterface != null && ip) {
            // struct ip_mreqn with only imr_address set: the interface holding that address
            scratch.putLong(0, 0).putInt(8, 0);
            scratch.put(4, c.multicastInterface.getAddress());
            setOption(LibC.IPPROTO_IP, LibC.IP_MULTICAST_IF, 12, "IP_MULTICAST_IF=" + c.multicastInterface);
        }
        if (c.multicastNetworkInterface != null && ip) {
            int index = c.multicastNetworkInterface.getIndex();
            if (v6) {
                Sockets.setIntOption(fd, LibC.IPPROTO_IPV6, LibC.IPV6_MULTICAST_IF, index, "IPV6_MULTICAST_IF");
            } else {
                scratch.putLong(0, 0).putInt(8, index);
                setOption(LibC.IPPROTO_IP, LibC.IP_MULTICAST_IF, 12, "IP_MULTICAST_IF=" + c.multicastNetworkInterface.getName());
            }
        }
        if (c.packetInfo && ip) {
            if (v6) {
                Sockets.setIntOption(fd, LibC.IPPROTO_IPV6, LibC.IPV6_RECVPKTINFO, 1, "IPV6_RECVPKTINFO");
                // a dual-stack socket also reports IPv4 destinations; refused on a v6-only one, which has none
                Sockets.setIntOption(fd, LibC.IPPROTO_IP, LibC.IP_PKTINFO, 1, "IP_PKTINFO");
            } else {
                Sockets.setIntOption(fd, LibC.IPPROTO_IP, LibC.IP_PKTINFO, 1, "IP_PKTINFO");
            }
        }
        if (c.gro && ip) {
            scratch.putInt(0, 1);
            boolean refused = simulateGroRefusal || LibC.setsockopt(fd, LibC.SOL_UDP, LibC.UDP_GRO, scratchAddress, 4) != 0;
            if (!refused) {
                groEnabled = true;
            } else {
                int err = simulateGroRefusal ? Errno.ENOPROTOOPT : LibC.errno();
                LOG.log(System.Logger.Level.DEBUG, () -> "UDP_GRO refused (" + Errno.describe(err) + "): receiving "
                        + "datagram by datagram");
            }
        }
        if (gsoUsable) {
            // The option exists (it reads back 0) only on kernels that can segment; EIO at send time is handled too.
            scratch.putInt(0, 0).putInt(8, 4);
            if (LibC.getsockopt(fd, LibC.SOL_UDP, LibC.UDP_SEGMENT, scratchAddress, scratchAddress + 8) != 0) {
                gsoUsable = false;
            }
        }
        Sockets.bind(fd, local);
    }

    private void setOption(int level, int name, int len, String label) throws EpollException {
        if (LibC.setsockopt(fd, level, name, scratchAddress, len) != 0) {
            throw new EpollException("setsockopt(fd=" + fd + ", " + label + ")", LibC.errno());
        }
    }

    /** Registers with the reactor: here when allowed, else on the reactor's thread, waiting for it. */
    private void register() throws EpollException {
        if (reactor.inEventLoop() || !reactor.isRunning()) {
            try {
                registerNow();
                return;
            } catch (IllegalStateException e) {
                if (e instanceof ClosedReactorException || !reactor.isRunning() || reactor.inEventLoop()) {
                    LibC.close(fd);
                    throw e;
                }
                // a thread began running the reactor since we looked: hand over
            } catch (EpollException | RuntimeException e) {
                LibC.close(fd);
                throw e;
            }
        }
        CompletableFuture<Void> done = new CompletableFuture<>();
        try {
            reactor.execute(() -> {
                try {
                    registerNow();
                    done.complete(null);
                } catch (Throwable t) {
                    LibC.close(fd);
                    done.completeExceptionally(t);
                }
            });
        } catch (RejectedExecutionException e) {
            LibC.close(fd);
            throw new ClosedReactorException("DatagramEndpoint.open: " + reactor.name() + " is closed");
        }
        try {
            done.get(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            close();
            throw new IllegalStateException("interrupted while registering with " + reactor.name(), e);
        } catch (TimeoutException e) {
            close();
            throw new IllegalStateException(reactor.name() + " did not register the endpoint within 30 s");
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof EpollException ee) {
                throw ee;
            }
            if (c instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException(c);
        }
    }

    private void registerNow() throws EpollException {
        registration = reactor.register(fd, Interest.READ, TriggerMode.LEVEL, new Events());
        IoFigures.register(reactor, figures); // its direct buffers count in the reactor's figures until it ends
    }

    /** The endpoint's direct buffers (receive batch, send queue, headers), for {@code ReactorStats}. */
    private final IoFigures.Source figures = into -> into.directMemoryBytes += directMemoryBytes();

    /** Bytes of direct memory this endpoint holds: fixed at open, released with it. */
    long directMemoryBytes() {
        return (long) scratch.capacity() + recvMem.capacity() + recvData.capacity() + sendMem.capacity()
                + arena.capacity();
    }

    // ------------------------------------------------------------------ connect, multicast, addresses

    /**
     * Connects the socket: it then receives only from {@code remote}, {@link #send(ByteBuffer)} needs no address, and
     * ICMP errors for what it sends (e.g. ECONNREFUSED) come back to {@link DatagramHandler#onError}.
     *
     * @param remote the peer
     * @throws EpollException if connect(2) fails
     */
    public void connect(SocketAddress remote) throws EpollException {
        Objects.requireNonNull(remote, "remote");
        Sockets.connect(fd, remote);
        connectedTo = remote;
    }

    /** The peer given to {@link #connect}, or {@code null}. */
    public SocketAddress connectedAddress() {
        return connectedTo;
    }

    /**
     * Joins a multicast group ({@code IP_ADD_MEMBERSHIP} / {@code IPV6_JOIN_GROUP}).
     *
     * @param group            the group address (224.0.0.0/4 or ff00::/8)
     * @param networkInterface the interface to receive it on, or {@code null} to let the kernel choose by route
     * @throws EpollException if the kernel refuses (e.g. ENODEV: no multicast route and no interface given)
     */
    public void joinGroup(InetAddress group, NetworkInterface networkInterface) throws EpollException {
        membership(group, networkInterface, true);
    }

    /**
     * Leaves a multicast group joined with {@link #joinGroup}.
     *
     * @param group            the group
     * @param networkInterface the interface it was joined on ({@code null} as it was joined)
     * @throws EpollException if the kernel refuses (EADDRNOTAVAIL: not a member)
     */
    public void leaveGroup(InetAddress group, NetworkInterface networkInterface) throws EpollException {
        membership(group, networkInterface, false);
    }

    private void membership(InetAddress group, NetworkInterface ni, boolean join) throws EpollException {
        Objects.requireNonNull(group, "group");
        if (!group.isMulticastAddress()) {
            throw new IllegalArgumentException("not a multicast address: " + group);
        }
        if (family == LibC.AF_UNIX) {
            throw new IllegalStateException("multicast needs an IP socket, not a Unix-domain one");
        }
        int index = ni == null ? 0 : ni.getIndex();
        for (int i = 0; i < 32; i += 8) {
            scratch.putLong(i, 0);
        }
        String what = (join ? "join " : "leave ") + group.getHostAddress() + (ni == null ? "" : " on " + ni.getName());
        if (group instanceof Inet4Address) {
            scratch.put(0, group.getAddress()).putInt(8, index); // ip_mreqn: imr_address stays 0.0.0.0
            setOption(LibC.IPPROTO_IP, join ? LibC.IP_ADD_MEMBERSHIP : LibC.IP_DROP_MEMBERSHIP, 12,
                    (join ? "IP_ADD_MEMBERSHIP " : "IP_DROP_MEMBERSHIP ") + what);
        } else {
            if (family != LibC.AF_INET6) {
                throw new IllegalArgumentException("an IPv6 group needs an IPv6 socket: " + group);
            }
            scratch.put(0, group.getAddress()).putInt(16, index);
            setOption(LibC.IPPROTO_IPV6, join ? LibC.IPV6_JOIN_GROUP : LibC.IPV6_LEAVE_GROUP, 20,
                    (join ? "IPV6_JOIN_GROUP " : "IPV6_LEAVE_GROUP ") + what);
        }
    }

    /** The bound local address (getsockname): the actual port after binding port 0. */
    public SocketAddress localAddress() throws EpollException {
        return Sockets.localAddress(fd);
    }

    /** The socket's fd (for options this class does not cover); it stays the endpoint's. */
    public int fd() {
        return fd;
    }

    /** The reactor serving this endpoint. */
    public Reactor reactor() {
        return reactor;
    }

    // ------------------------------------------------------------------ sending

    /**
     * Queues {@code data}'s remaining bytes as one datagram to the connected peer; consumes them.
     *
     * @param data the payload (heap or direct)
     * @return {@code false} if the send queue was full and the datagram was dropped
     * @throws IllegalStateException if not connected
     */
    public boolean send(ByteBuffer data) {
        if (connectedTo == null) {
            throw new IllegalStateException("send without an address needs a connected endpoint: use send(data, to)");
        }
        return send(data, null);
    }

    /**
     * Queues {@code data}'s remaining bytes as one datagram to {@code to}; consumes them. Sending to the same
     * address object again reuses its encoding.
     *
     * @param data the payload
     * @param to   the destination, or {@code null} for the connected peer
     * @return {@code false} if the send queue was full and the datagram was dropped
     */
    public boolean send(ByteBuffer data, SocketAddress to) {
        return submit(data, to, 0);
    }

    /**
     * Queues {@code data} as datagrams of {@code segmentSize} bytes each (the last may be shorter) to {@code to}:
     * with GSO ({@code UDP_SEGMENT}) the kernel cuts them from one buffer in one pass down the stack; without it
     * (or when the kernel refuses) they are queued as separate datagrams. Consumes {@code data}.
     *
     * @param data        the payload of all segments
     * @param segmentSize bytes per datagram, 1..65507
     * @param to          the destination, or {@code null} for the connected peer
     * @return {@code false} if the send queue could not take all of it (what did not fit was dropped)
     */
    public boolean sendSegments(ByteBuffer data, int segmentSize, SocketAddress to) {
        if (segmentSize < 1 || segmentSize > MAX_UDP_PAYLOAD) {
            throw new IllegalArgumentException("segmentSize must be 1.." + MAX_UDP_PAYLOAD + ": " + segmentSize);
        }
        return submit(data, to, segmentSize);
    }

    /**
     * Queues {@code data} as one datagram back to {@code received}'s sender; with packet info on, it leaves from
     * the local address {@code received} was sent to. No allocation: the sender's raw address is copied. From
     * another thread the sender and payload are copied and handed to the reactor. To send back the datagram's own
     * bytes, {@link #reply(Datagram)} does it without copying them.
     *
     * @param received a datagram of the current batch
     * @param data     the payload, e.g. {@code received.data()} to echo it
     * @return {@code false} if the send queue was full and the datagram was dropped
     */
    public boolean reply(Datagram received, ByteBuffer data) {
        Objects.requireNonNull(received, "received");
        Objects.requireNonNull(data, "data");
        if (!onLoop()) {
            return later(received.detach(data));
        }
        int len = data.remaining();
        if (!open) {
            data.position(data.limit());
            dropped++;
            return false;
        }
        int e = reserve(len);
        if (e < 0) {
            data.position(data.limit());
            return false;
        }
        copyName(e, received.names(), received.nameAt, received.nameLen);
        int pkt = received.pktAt >= 0 ? putPktInfo(e, received) : 0;
        commit(e, data, len, received.nameLen, pkt, 0);
        return true;
    }

    /**
     * Queues {@code received}'s own bytes back to its sender, as {@link #reply(Datagram, ByteBuffer) reply(received,
     * received.data())} does, but without copying them: during the handler call that received it, the send points
     * straight at the receive slot (and the sender's address the kernel wrote there), and the batch's replies leave
     * in one {@code sendmmsg} when the handler returns. Whatever of them the kernel did not take by then (a full
     * socket buffer) is copied into the send queue before the slots are reused, so nothing is lost and the order
     * with other sends is kept. The send queue's room is reserved as for any send: the same limits, watermarks and
     * {@code false} when full.
     *
     * <p>The bytes sent are the datagram's {@link Datagram#length() length()} bytes of the slot, whatever
     * {@link Datagram#data() data()}'s position (it is not consumed). A handler may change them in place before
     * this call; after it, leave them alone: the slot may be read when the batch is flushed. A GRO-coalesced
     * datagram ({@link Datagram#segmentSize()} &gt; 0) goes back as its separate datagrams (one {@code UDP_SEGMENT}
     * send where GSO is on). From another thread, or while the queue waits for {@code EPOLLOUT}, the bytes are
     * copied at the call.
     *
     * @param received a datagram of the batch being handled
     * @return {@code false} if the send queue was full and the datagram was dropped
     * @throws IllegalStateException on the reactor's thread outside the handler call that received the datagram
     */
    public boolean reply(Datagram received) {
        Objects.requireNonNull(received, "received");
        if (!onLoop()) {
            ByteBuffer d = received.data().duplicate();
            d.limit(received.offset + received.length).position(received.offset);
            return later(received.detach(d));
        }
        if (received.owner == null) { // a copy handed over from another thread
            return reply(received, received.data());
        }
        if (received.owner != this || !inBatch || received.batch != batchNumber) {
            throw new IllegalStateException("reply(datagram) needs a datagram of the batch this endpoint's handler is "
                    + "handling now: a Datagram is valid only during the call that received it");
        }
        if (!open) {
            dropped++;
            return false;
        }
        int seg = received.segmentSize;
        if (seg == 0 || received.length <= seg) {
            return replySlot(received, received.offset, received.length, 0);
        }
        // a GRO-coalesced buffer: its datagrams, as sendSegments would send them
        boolean all = true;
        int end = received.offset + received.length;
        int perEntry = gsoUsable ? seg * Math.min(MAX_GSO_SEGMENTS, MAX_UDP_PAYLOAD / seg) : seg;
        for (int off = received.offset; off < end; off += perEntry) {
            int len = Math.min(perEntry, end - off);
            all &= replySlot(received, off, len, len > seg ? seg : 0);
            if (!open) {
                return false;
            }
        }
        return all;
    }

    /** Hands a copy made off the loop to the reactor, to be queued there as an ordinary reply. */
    private boolean later(Datagram copy) {
        try {
            reactor.execute(() -> reply(copy, copy.data()));
        } catch (RejectedExecutionException e) {
            return false;
        }
        return true;
    }

    /**
     * Queues {@code len} bytes at {@code off} of the receive area back to {@code d}'s sender: pointing at the slot
     * when the queue will be flushed before the handler returns, else copied.
     */
    private boolean replySlot(Datagram d, int off, int len, int seg) {
        int e = reserve(len);
        if (e < 0) {
            return false;
        }
        int pkt = d.pktAt >= 0 ? putPktInfo(e, d) : 0;
        int h = e * MmsgHdr.SIZE;
        if (!waitingForOut) {
            sendMem.putLong(h + MmsgHdr.MSG_NAME, recvVec + d.nameAt);
            entrySrc[e] = off;
            entryName[e] = d.nameAt;
            inPlaceQueued++;
            inPlaceReplies++;
            link(e, recvDataAddress + off, len, d.nameLen, pkt, seg);
        } else {
            // EPOLLOUT first: it would not leave before the slots are reused
            copyName(e, recvMem, d.nameAt, d.nameLen);
            arena.put(entryOff[e], recvData, off, len);
            entrySrc[e] = -1;
            link(e, arenaAddress + entryOff[e], len, d.nameLen, pkt, seg);
        }
        return true;
    }

    /** Copies a raw sockaddr into entry e's name and points the entry's msg_name at it. */
    private void copyName(int e, ByteBuffer names, int nameAt, int nameLen) {
        int at = sendNamesAt + e * NAME;
        for (int i = 0; i < nameLen; i += 8) {
            sendMem.putLong(at + i, names.getLong(nameAt + i));
        }
        sendMem.putLong(e * MmsgHdr.SIZE + MmsgHdr.MSG_NAME, sendVec + at);
    }

    /**
     * Copies the replies still pointing at receive slots into their reserved room in the arena: called when the
     * handler's batch ends, before the slots can be reused.
     */
    private void copyInPlaceReplies() {
        for (int i = 0, e = head; i < count && inPlaceQueued > 0; i++, e = e + 1 == entries ? 0 : e + 1) {
            if (entrySrc[e] < 0) {
                continue;
            }
            arena.put(entryOff[e], recvData, entrySrc[e], entryLen[e]);
            copyName(e, recvMem, entryName[e], sendMem.getInt(e * MmsgHdr.SIZE + MmsgHdr.MSG_NAMELEN));
            entryAddr[e] = arenaAddress + entryOff[e];
            // a segmented entry part-sent without GSO is re-aimed by prepareGsoFallback from entryAddr + entrySent
            sendMem.putLong(sendIovAt + e * 16, entryAddr[e]);
            entrySrc[e] = -1;
            inPlaceQueued--;
            inPlaceCopies++;
        }
    }

    private int putPktInfo(int e, Datagram d) {
        ByteBuffer ctl = d.control();
        int at = sendControlAt + e * MmsgHdr.SEND_CONTROL;
        if (d.pktType == LibC.IP_PKTINFO) {
            MmsgHdr.putCmsgHeader(sendMem, at, LibC.IPPROTO_IP, LibC.IP_PKTINFO, 12);
            sendMem.putInt(at + 16, 0); // ipi_ifindex: let routing choose
            sendMem.putInt(at + 20, ctl.getInt(d.pktAt + 4)); // ipi_spec_dst: the local address it came to
            sendMem.putInt(at + 24, 0);
            return MmsgHdr.cmsgSpace(12);
        }
        MmsgHdr.putCmsgHeader(sendMem, at, LibC.IPPROTO_IPV6, LibC.IPV6_PKTINFO, 20);
        sendMem.putLong(at + 16, ctl.getLong(d.pktAt)).putLong(at + 24, ctl.getLong(d.pktAt + 8));
        sendMem.putInt(at + 32, ctl.getInt(d.pktAt + 16));
        return MmsgHdr.cmsgSpace(20);
    }

    private boolean submit(ByteBuffer data, SocketAddress to, int segmentSize) {
        Objects.requireNonNull(data, "data");
        if (to == null && connectedTo == null) {
            throw new IllegalStateException("no destination: the endpoint is not connected");
        }
        if (!onLoop()) {
            byte[] copy = new byte[data.remaining()];
            data.get(copy);
            try {
                reactor.execute(() -> submit(ByteBuffer.wrap(copy), to, segmentSize));
            } catch (RejectedExecutionException e) {
                return false;
            }
            return true;
        }
        if (!open) {
            data.position(data.limit());
            dropped++;
            return false;
        }
        int nameLen = to == null ? 0 : encode(to);
        if (segmentSize == 0 || data.remaining() <= segmentSize) {
            return enqueue(data, data.remaining(), nameLen, 0);
        }
        boolean all = true;
        if (gsoUsable) {
            int perCall = segmentSize * Math.min(MAX_GSO_SEGMENTS, MAX_UDP_PAYLOAD / segmentSize);
            while (data.hasRemaining()) {
                int len = Math.min(perCall, data.remaining());
                all &= enqueue(data, len, nameLen, len > segmentSize ? segmentSize : 0);
            }
        } else {
            while (data.hasRemaining()) {
                all &= enqueue(data, Math.min(segmentSize, data.remaining()), nameLen, 0);
            }
        }
        return all;
    }

    /** Encodes {@code to} into the scratch buffer (reused when it is the same object as last time). */
    private int encode(SocketAddress to) {
        if (to != lastTo) {
            if (to instanceof UnixDomainSocketAddress ? family != LibC.AF_UNIX
                    : family == LibC.AF_UNIX || (family == LibC.AF_INET && SockAddr.family(to) != LibC.AF_INET)) {
                throw new IllegalArgumentException("cannot send to " + to + " from a " + Sockets.familyName(family)
                        + " socket");
            }
            SocketAddress enc = to;
            if (family == LibC.AF_INET6 && to instanceof InetSocketAddress isa && isa.getAddress() instanceof Inet4Address) {
                enc = new InetSocketAddress(v4Mapped(isa.getAddress()), isa.getPort());
            }
            lastToLen = SockAddr.encode(enc, scratch);
            lastTo = to;
        }
        return lastToLen;
    }

    private static InetAddress v4Mapped(InetAddress v4) {
        byte[] b = new byte[16];
        b[10] = (byte) 0xFF;
        b[11] = (byte) 0xFF;
        System.arraycopy(v4.getAddress(), 0, b, 12, 4);
        try {
            return Inet6Address.getByAddress(null, b, -1);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Queues {@code len} bytes of {@code data} with the address in scratch (nameLen bytes, 0 = connected). */
    private boolean enqueue(ByteBuffer data, int len, int nameLen, int segmentSize) {
        int e = reserve(len);
        if (e < 0) {
            data.position(data.position() + len);
            return false;
        }
        copyName(e, scratch, 0, nameLen);
        int limit = data.limit();
        data.limit(data.position() + len);
        commit(e, data, len, nameLen, 0, segmentSize);
        data.limit(limit);
        return true;
    }

    /** A free entry with {@code len} arena bytes reserved at {@code entryOff[e]}, or -1 (counted as dropped). */
    private int reserve(int len) {
        if (len > arena.capacity()) {
            throw new IllegalArgumentException("datagram of " + len + " bytes exceeds the send queue of "
                    + arena.capacity() + " bytes");
        }
        if (count == entries) {
            dropped++;
            return -1;
        }
        int off;
        if (count == 0) {
            arenaHead = 0;
            arenaTail = 0;
            arenaWrapped = false;
        }
        if (!arenaWrapped) {
            if (arena.capacity() - arenaTail >= len) {
                off = arenaTail;
            } else if (len < arenaHead) {
                off = 0;
                arenaWrapped = true;
            } else {
                dropped++;
                return -1;
            }
        } else if (arenaHead - arenaTail > len) {
            off = arenaTail;
        } else {
            dropped++;
            return -1;
        }
        arenaTail = off + len;
        int e = tail;
        entryOff[e] = off;
        return e;
    }

    /** Copies {@code data} into entry {@code e}'s arena room (its name and pktinfo already written) and queues it. */
    private void commit(int e, ByteBuffer data, int len, int nameLen, int pktLen, int segmentSize) {
        int off = entryOff[e];
        arena.put(off, data, data.position(), len);
        data.position(data.position() + len);
        entrySrc[e] = -1;
        link(e, arenaAddress + off, len, nameLen, pktLen, segmentSize);
    }

    /**
     * Makes entry {@code e} the queue's tail: {@code len} bytes at {@code address}, its name (msg_name already set)
     * and pktinfo ({@code pktLen} bytes of control) already written; adds the UDP_SEGMENT after the pktinfo.
     */
    private void link(int e, long address, int len, int nameLen, int pktLen, int segmentSize) {
        entryAddr[e] = address;
        entryLen[e] = len;
        entrySeg[e] = segmentSize;
        entrySent[e] = 0;
        entryPkt[e] = pktLen;
        if (segmentSize > 0) {
            int c = sendControlAt + e * MmsgHdr.SEND_CONTROL + pktLen;
            MmsgHdr.putCmsgHeader(sendMem, c, LibC.SOL_UDP, LibC.UDP_SEGMENT, 2);
            sendMem.putShort(c + MmsgHdr.CMSG_HDR, (short) segmentSize);
        }
        int h = e * MmsgHdr.SIZE;
        sendMem.putLong(sendIovAt + e * 16, address).putLong(sendIovAt + e * 16 + 8, len);
        sendMem.putInt(h + MmsgHdr.MSG_NAMELEN, nameLen);
        sendMem.putLong(h + MmsgHdr.MSG_CONTROLLEN, pktLen + (segmentSize > 0 ? MmsgHdr.cmsgSpace(2) : 0));
        tail = e + 1 == entries ? 0 : e + 1;
        count++;
        queuedBytes += len;
        if (writable && queuedBytes > config.highWatermark) {
            writable = false;
            handler.onWritabilityChanged(this, false);
        }
        if (count >= batchSize) {
            flush();
        } else if (!inHandler && !flushScheduled) {
            flushScheduled = true;
            reactor.execute(flushTask);
        }
    }

    private void scheduledFlush() {
        flushScheduled = false;
        if (open) {
            flush();
        }
    }

    /**
     * Sends what is queued now, in batches of up to {@link DatagramConfig#batchSize()} per {@code sendmmsg}, until
     * the queue is empty or the socket's buffer is full (then it resumes on {@code EPOLLOUT}). Called by the endpoint
     * itself when a handler returns, when a batch fills and at the end of the loop iteration; calling it earlier is
     * allowed on the reactor's thread.
     */
    public void flush() {
        checkLoop("flush");
        if (waitingForOut || !open) {
            return;
        }
        while (count > 0) {
            int run = Math.min(count, Math.min(batchSize, entries - head));
            if (!gsoUsable) {
                run = prepareGsoFallback(run);
            }
            int n;
            int err;
            int firstSegmented = simulateGsoRefusal && gsoUsable ? firstSegmented(run) : -1;
            if (firstSegmented == 0) {
                n = -1;
                err = Errno.EIO;
            } else {
                if (firstSegmented > 0) {
                    run = firstSegmented;
                }
                n = LibC.sendmmsg(fd, sendVec + (long) head * MmsgHdr.SIZE, run, LibC.MSG_DONTWAIT);
                err = n < 0 ? LibC.errno() : 0;
            }
            if (n > 0) {
                for (int i = 0; i < n; i++) {
                    sentOne();
                }
                continue;
            }
            if (err == Errno.EINTR) {
                continue;
            }
            if (err == Errno.EAGAIN) {
                waitForOut();
                return;
            }
            if (entrySeg[head] > 0 && gsoUsable
                    && (err == Errno.EIO || err == Errno.EINVAL || err == Errno.ENOPROTOOPT || err == Errno.EOPNOTSUPP)) {
                gsoUsable = false; // the kernel or the route cannot segment: send segment by segment from now on
                gsoFallbacks++;
                int e2 = err;
                LOG.log(System.Logger.Level.DEBUG, () -> "UDP_SEGMENT refused (" + Errno.describe(e2)
                        + "): sending segments as separate datagrams");
                continue;
            }
            errors++;
            String what = "sendmmsg(fd=" + fd + ")";
            if (err != Errno.ECONNREFUSED) {
                release(); // this datagram cannot be sent: drop it, keep the rest
                dropped++;
            } // ECONNREFUSED was the pending ICMP error of an earlier datagram: this one is still to go
            handler.onError(this, new EpollException(what, err));
            if (!open) {
                return;
            }
        }
        if (waitingForOut) {
            return;
        }
    }

    private int firstSegmented(int run) {
        for (int i = 0; i < run; i++) {
            if (entrySeg[head + i] > 0) {
                return i;
            }
        }
        return -1;
    }

    /**
     * Without GSO: a segmented entry goes out one segment per message (drop its UDP_SEGMENT, iov on the next
     * segment), and the run stops after it so nothing overtakes its remaining segments.
     */
    private int prepareGsoFallback(int run) {
        for (int i = 0; i < run; i++) {
            int e = head + i;
            if (entrySeg[e] > 0) {
                int h = e * MmsgHdr.SIZE;
                int seg = entrySeg[e];
                int left = entryLen[e] - entrySent[e];
                sendMem.putLong(sendIovAt + e * 16, entryAddr[e] + entrySent[e])
                        .putLong(sendIovAt + e * 16 + 8, Math.min(seg, left));
                sendMem.putLong(h + MmsgHdr.MSG_CONTROLLEN, entryPkt[e]);
                return i + 1;
            }
        }
        return run;
    }

    private void sentOne() {
        int e = head;
        if (entrySeg[e] > 0 && !gsoUsable) {
            entrySent[e] += entrySeg[e];
            sent++;
            if (entrySent[e] < entryLen[e]) {
                return;
            }
            sent--; // counted below
        }
        sent += entrySeg[e] > 0 && gsoUsable ? (entryLen[e] + entrySeg[e] - 1) / entrySeg[e] : 1;
        release();
    }

    /** Takes the head entry off the queue. */
    private void release() {
        int e = head;
        if (entryOff[e] < arenaHead) {
            arenaWrapped = false;
        }
        arenaHead = entryOff[e] + entryLen[e];
        if (entrySrc[e] >= 0) {
            entrySrc[e] = -1;
            inPlaceQueued--;
        }
        head = e + 1 == entries ? 0 : e + 1;
        count--;
        queuedBytes -= entryLen[e];
        if (count == 0) {
            arenaHead = 0;
            arenaTail = 0;
            arenaWrapped = false;
            if (waitingForOut) {
                setWriteInterest(false);
            }
        }
        if (!writable && queuedBytes <= config.lowWatermark) {
            writable = true;
            handler.onWritabilityChanged(this, true);
        }
    }

    private void waitForOut() {
        if (!waitingForOut) {
            setWriteInterest(true);
        }
    }

    private void setWriteInterest(boolean on) {
        waitingForOut = on;
        try {
            registration.interest(on ? Interest.READ_WRITE : Interest.READ);
        } catch (EpollException e) {
            throw new IllegalStateException(e);
        }
    }

    // ------------------------------------------------------------------ receiving

    private void resetReceiveSlots(int n) {
        for (int i = 0; i < n; i++) {
            int h = i * MmsgHdr.SIZE;
            recvMem.putInt(h + MmsgHdr.MSG_NAMELEN, NAME);
            if (recvControl > 0) {
                recvMem.putLong(h + MmsgHdr.MSG_CONTROLLEN, recvControl);
            }
        }
    }

    private void receive() throws Exception {
        for (int round = 0; round < config.maxBatchesPerEvent; round++) {
            resetReceiveSlots(lastReceived);
            int n = LibC.recvmmsg(fd, recvVec, batchSize, LibC.MSG_DONTWAIT, 0L);
            if (n <= 0) {
                lastReceived = 0;
                if (n == 0) {
                    return;
                }
                int err = LibC.errno();
                if (err == Errno.EAGAIN) {
                    return;
                }
                if (err == Errno.EINTR) {
                    continue;
                }
                if (err == Errno.EBADF || err == Errno.ENOTSOCK || err == Errno.EFAULT || err == Errno.EINVAL) {
                    throw new EpollException("recvmmsg(fd=" + fd + ")", err);
                }
                errors++; // ECONNREFUSED and the like: an ICMP error for an earlier send; the socket goes on
                handler.onError(this, new EpollException("recvmmsg(fd=" + fd + ")", err));
                if (!open) {
                    return;
                }
                continue;
            }
            lastReceived = n;
            batchNumber++;
            int views = fillBatch(n);
            received += n;
            batch.size = views;
            handleBatch();
            if (!open || n < batchSize) {
                return;
            }
        }
    }

    /**
     * Runs the handler on the batch. Its replies in place leave in one sendmmsg as it returns; what the kernel did not
     * take is copied out of the slots before the next recvmmsg reuses them (even if the handler threw).
     */
    private void handleBatch() throws Exception {
        boolean handled = false;
        inBatch = true;
        try {
            handler.onBatch(this, batch);
            handled = true;
        } finally {
            inBatch = false;
            if (inPlaceQueued > 0) {
                try {
                    if (handled && open) {
                        flush();
                    }
                } finally {
                    if (inPlaceQueued > 0) {
                        copyInPlaceReplies();
                    }
                }
            }
        }
    }

    /** Points the views at the {@code n} slots just received; returns how many views (GRO splits add some). */
    private int fillBatch(int n) {
        int v = 0;
        for (int i = 0; i < n; i++) {
            int h = i * MmsgHdr.SIZE;
            int len = recvMem.getInt(h + MmsgHdr.MSG_LEN);
            int flags = recvMem.getInt(h + MmsgHdr.MSG_FLAGS);
            boolean trunc = (flags & LibC.MSG_TRUNC) != 0;
            if (trunc) {
                truncated++;
            }
            int nameAt = recvNamesAt + i * NAME;
            int nameLen = recvMem.getInt(h + MmsgHdr.MSG_NAMELEN);
            int pktAt = -1;
            int pktType = 0;
            int seg = 0;
            if (recvControl > 0) {
                int base = recvControlAt + i * recvControl;
                int ctlLen = (int) recvMem.getLong(h + MmsgHdr.MSG_CONTROLLEN);
                int at = 0;
                while (at + MmsgHdr.CMSG_HDR <= ctlLen) {
                    int clen = (int) recvMem.getLong(base + at);
                    if (clen < MmsgHdr.CMSG_HDR) {
                        break;
                    }
                    int level = recvMem.getInt(base + at + MmsgHdr.CMSG_LEVEL);
                    int type = recvMem.getInt(base + at + MmsgHdr.CMSG_TYPE);
                    if (level == LibC.IPPROTO_IP && type == LibC.IP_PKTINFO) {
                        pktAt = base + at + MmsgHdr.CMSG_HDR;
                        pktType = LibC.IP_PKTINFO;
                    } else if (level == LibC.IPPROTO_IPV6 && type == LibC.IPV6_PKTINFO) {
                        pktAt = base + at + MmsgHdr.CMSG_HDR;
                        pktType = LibC.IPV6_PKTINFO;
                    } else if (level == LibC.SOL_UDP && type == LibC.UDP_GRO) {
                        seg = recvMem.getInt(base + at + MmsgHdr.CMSG_HDR);
                    }
                    at += (clen + 7) & ~7;
                }
            }
            int dataAt = i * slotSize;
            if (seg > 0 && seg < len && config.groSplit && !trunc) {
                for (int off = 0; off < len; off += seg) {
                    view(v++, dataAt + off, Math.min(seg, len - off), nameAt, nameLen, pktAt, pktType, 0, false);
                }
                received += (len + seg - 1) / seg - 1;
            } else {
                view(v++, dataAt, len, nameAt, nameLen, pktAt, pktType, seg > 0 && seg < len ? seg : 0, trunc);
            }
        }
        return v;
    }

    private void view(int index, int offset, int length, int nameAt, int nameLen, int pktAt, int pktType, int seg,
                      boolean trunc) {
        if (index == views.length) {
            Datagram[] bigger = java.util.Arrays.copyOf(views, views.length * 2);
            for (int i = views.length; i < bigger.length; i++) {
                bigger[i] = newView();
            }
            views = bigger;
            batch.views = bigger;
        }
        Datagram d = views[index];
        d.set(offset, length);
        d.nameAt = nameAt;
        d.nameLen = nameLen;
        d.pktAt = pktAt;
        d.pktType = pktType;
        d.segmentSize = seg;
        d.truncated = trunc;
        d.batch = batchNumber;
    }

    // ------------------------------------------------------------------ state, stats, close

    /** Whether the queued bytes are at or below the low watermark since last above the high one. */
    public boolean isWritable() {
        return writable;
    }

    /** Whether the endpoint is open. */
    public boolean isOpen() {
        return open;
    }

    /** Whether sendSegments uses UDP_SEGMENT now (asked for, available, not refused since). */
    public boolean isGsoEnabled() {
        return gsoUsable;
    }

    /** Whether the kernel accepted UDP_GRO for this socket. */
    public boolean isGroEnabled() {
        return groEnabled;
    }

    /** Datagrams queued and not yet handed to the kernel. */
    public int queuedDatagrams() {
        return count;
    }

    /** Bytes queued and not yet handed to the kernel. */
    public long queuedBytes() {
        return queuedBytes;
    }

    /** Datagrams received (a GRO-coalesced buffer counts each segment when split). */
    public long receivedCount() {
        return received;
    }

    /** Datagrams handed to the kernel (GSO segments count each). */
    public long sentCount() {
        return sent;
    }

    /** Datagrams not sent: the queue was full, the kernel refused them, or the endpoint was closed. */
    public long droppedCount() {
        return dropped;
    }

    /** Datagrams received truncated. */
    public long truncatedCount() {
        return truncated;
    }

    /** Errors reported to {@link DatagramHandler#onError}. */
    public long errorCount() {
        return errors;
    }

    /** Replies queued in place ({@link #reply(Datagram)} pointing at a receive slot): tests only. */
    long inPlaceReplyCount() {
        return inPlaceReplies;
    }

    /** Replies in place the kernel had not taken when their batch ended, copied into the send queue: tests only. */
    long inPlaceCopyCount() {
        return inPlaceCopies;
    }

    /** Times UDP_SEGMENT was refused at send time and the endpoint fell back to separate datagrams. */
    public long gsoFallbackCount() {
        return gsoFallbacks;
    }

    /**
     * Closes the endpoint: what is still queued is dropped, the socket closed and {@link DatagramHandler#onClosed}
     * called with {@code null} on the reactor's thread. Idempotent; any thread.
     */
    @Override
    public void close() {
        Registration r = registration;
        if (r != null) {
            r.cancel();
        } else if (open) {
            open = false;
            LibC.close(fd);
        }
    }

    private boolean onLoop() {
        return reactor.inEventLoop() || !reactor.isRunning();
    }

    private void checkLoop(String op) {
        if (!onLoop()) {
            throw new IllegalStateException("DatagramEndpoint." + op + " belongs to " + reactor.name()
                    + "'s thread, not " + Thread.currentThread().getName());
        }
    }

    @Override
    public String toString() {
        String local;
        try {
            local = open ? String.valueOf(localAddress()) : "closed";
        } catch (EpollException e) {
            local = "?";
        }
        return "DatagramEndpoint[fd=" + fd + ", " + local + (connectedTo != null ? " -> " + connectedTo : "")
                + ", queued=" + count + "]";
    }

    /** The registration's handler: readiness in, close out. */
    private final class Events implements Handler {
        @Override
        public void onReady(Registration registration, Ready ready) throws Exception {
            inHandler = true;
            try {
                if (ready.isReadable() || ready.isError()) {
                    receive();
                }
                if (!open) {
                    return;
                }
                if (ready.isWritable() && waitingForOut) {
                    setWriteInterest(false);
                }
                flush();
            } finally {
                inHandler = false;
            }
        }

        @Override
        public void onClosed(Registration registration, Throwable cause) {
            open = false;
            IoFigures.unregister(reactor, figures);
            dropped += count;
            count = 0;
            inPlaceQueued = 0;
            if (!(cause instanceof org.epoll4j.FdReusedException)) {
                LibC.close(fd);
            }
            if (!closedNotified) {
                closedNotified = true;
                try {
                    handler.onClosed(DatagramEndpoint.this, cause);
                } catch (Throwable t) {
                    LOG.log(System.Logger.Level.WARNING, "DatagramHandler.onClosed failed", t);
                }
            }
        }
    }
}
