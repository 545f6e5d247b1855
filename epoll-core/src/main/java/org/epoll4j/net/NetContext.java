package org.epoll4j.net;

import org.epoll4j.Reactor;
import org.epoll4j.internal.IoFigures;
import org.epoll4j.internal.MsgHdr;
import org.epoll4j.internal.NativeMemory;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * Memory shared by every connection of one reactor: the read buffer (so an idle connection holds none), a bounce
 * buffer for heap-buffer writes, the iovec/msghdr area for gathering writes and a small pool of write-queue chunks.
 * Used only on that reactor's thread, except for the figures it gives the reactor's {@code stats()} (see
 * {@link #addTo}), which any thread may read.
 */
final class NetContext implements IoFigures.Source {
    static final int READ_BUFFER_SIZE = 64 * 1024;
    static final int CHUNK_SIZE = 16 * 1024;
    static final int MAX_IOV = 64;
    static final int MAX_POOLED_CHUNKS = 256;
    private static final Map<Reactor, NetContext> CONTEXTS = new WeakHashMap<>();

    final ByteBuffer readBuffer = NativeMemory.allocate(READ_BUFFER_SIZE);
    final long readAddress = NativeMemory.address(readBuffer);
    final ByteBuffer bounce = NativeMemory.allocate(READ_BUFFER_SIZE);
    final long bounceAddress = NativeMemory.address(bounce);
    /** iovec[MAX_IOV] followed by one struct msghdr whose msg_iov points at it. */
    final ByteBuffer iov = NativeMemory.allocate(MAX_IOV * MsgHdr.IOVEC_SIZE + MsgHdr.SIZE + 8);
    final long iovAddress = NativeMemory.address(iov);
    private static final int MSGHDR_AT = MAX_IOV * MsgHdr.IOVEC_SIZE;
    final long msghdrAddress = iovAddress + MSGHDR_AT;
    /** Scratch for sendfile's off_t. */
    final long offsetAddress = msghdrAddress + MsgHdr.SIZE;
    private final ArrayDeque<Chunk> pool = new ArrayDeque<>();
    private ByteBuffer lastDirect;
    private long lastDirectAddress;

    /** Plaintext that TLS connections decrypt into and hand to onData; grown to the largest session's need. */
    private ByteBuffer tlsPlain;
    /**
     * Heap copy of the read buffer's ciphertext that TLS connections unwrap from: the JDK's AES-GCM decrypts direct
     * input by first copying it into a new heap buffer, one allocation per record (see TlsTransport.received).
     */
    private ByteBuffer tlsNetIn;
    /** Ciphertext that TLS connections wrap into before handing it to their outbound queue (which copies it). */
    private ByteBuffer tlsNetOut;
    /**
     * Direct twin of {@link #tlsNetOut} for engines that encrypt in native code (Conscrypt): they read and write
     * direct buffers in place, where a heap buffer costs a copy each way through JNI.
     */
    private ByteBuffer tlsNetOutDirect;
    /** Direct buffers a native engine's sendFile reads file bytes into (one per file batch in progress). */
    private final ArrayDeque<ByteBuffer> tlsFilePool = new ArrayDeque<>();
    /** Direct file buffers made so far (pooled or lent): counted in {@link #directMemoryBytes()}. */
    private int tlsFileBuffersMade;
    static final int TLS_FILE_BUFFER_SIZE = 64 * 1024;
    /** TLS record-sized heap buffers lent to connections while they hold a partial record or held plaintext. */
    private final ArrayDeque<ByteBuffer> tlsPool = new ArrayDeque<>();
    static final int TLS_BUFFER_SIZE = 17 * 1024;
    private static final int MAX_POOLED_TLS_BUFFERS = 64;

    /**
     * Direct buffers that writers on other threads (direct sends, see Outbound.trySendDirect) copy heap bytes into
     * for send(2): lent for one send, at most {@link #SEND_BOUNCES} per reactor, each made when first needed. A bit
     * of {@link #sendBouncesBusy} per slot says it is lent; taking the bit (a CAS) also publishes the slot's buffer.
     */
    static final int SEND_BOUNCES = 4;
    static final int SEND_BOUNCE_SIZE = 64 * 1024;
    private final ByteBuffer[] sendBounces = new ByteBuffer[SEND_BOUNCES];
    private final long[] sendBounceAddresses = new long[SEND_BOUNCES];
    private final java.util.concurrent.atomic.AtomicInteger sendBouncesBusy =
            new java.util.concurrent.atomic.AtomicInteger();
    private final java.util.concurrent.atomic.AtomicInteger sendBouncesMade =
            new java.util.concurrent.atomic.AtomicInteger();

    private NetContext() {
        MsgHdr.verifyLayout(); // once per process: a wrong layout would send the wrong bytes
        iov.putLong(MSGHDR_AT + MsgHdr.MSG_IOV, iovAddress); // msg_name/namelen/control/flags stay 0
    }

    static NetContext of(Reactor reactor) {
        synchronized (CONTEXTS) {
            NetContext ctx = CONTEXTS.get(reactor);
            if (ctx == null) {
                ctx = new NetContext();
                CONTEXTS.put(reactor, ctx);
                IoFigures.register(reactor, ctx); // the reactor's stats() asks us for its connection figures
            }
            return ctx;
        }
    }

    /** The reactor's context if it has one yet (observing must not allocate one); any thread. */
    static NetContext peek(Reactor reactor) {
        synchronized (CONTEXTS) {
            return CONTEXTS.get(reactor);
        }
    }

    // ------------------------------------------------------------ figures for Reactor.stats() (any thread reads)

    /*
     * Counted only where connections open and close and where chunks are allocated or dropped: never per read or
     * write. The loop thread is the only writer (chunks is volatile: another thread's snapshot reads it).
     */
    /** Open connections on this reactor, and the byte totals of those that closed. */
    private final OpenConnections connections = new OpenConnections();
    /** Write-queue chunks alive: in connections' queues or in the pool (dropped ones are the GC's). */
    private volatile int chunks;

    /** A connection became open (idempotent); on the loop thread. */
    void connectionOpened(Connection c) {
        connections.opened(c);
    }

    /** A connection closed (idempotent); on the loop thread, once its byte counts are final. */
    void connectionClosed(Connection c) {
        connections.closed(c);
    }

    /** Direct memory held: the shared buffers and every chunk alive (queued or pooled). */
    long directMemoryBytes() {
        return (long) readBuffer.capacity() + bounce.capacity() + iov.capacity() + (long) chunks * CHUNK_SIZE
                + (long) sendBouncesMade.get() * SEND_BOUNCE_SIZE
                + (rightsOut != null ? rightsOut.capacity() : 0) + (rightsIn != null ? rightsIn.capacity() : 0)
                + (tlsNetOutDirect != null ? tlsNetOutDirect.capacity() : 0)
                + (long) tlsFileBuffersMade * TLS_FILE_BUFFER_SIZE;
    }

    @Override
    public void addTo(IoFigures into) {
        connections.addTo(into, null);
        into.directMemoryBytes += directMemoryBytes();
    }

    /** The shared plaintext buffer for TLS reads, at least {@code size} bytes (valid until the next unwrap). */
    ByteBuffer tlsPlain(int size) {
        if (tlsPlain == null || tlsPlain.capacity() < size) {
            tlsPlain = ByteBuffer.allocate(Math.max(size, 17 * 1024));
        }
        return tlsPlain;
    }

    /** The shared heap buffer for ciphertext read, at least {@code size} bytes (valid until the next read). */
    ByteBuffer tlsNetIn(int size) {
        if (tlsNetIn == null || tlsNetIn.capacity() < size) {
            tlsNetIn = ByteBuffer.allocate(Math.max(size, READ_BUFFER_SIZE));
        }
        return tlsNetIn;
    }

    /**
     * The shared ciphertext buffer, at least {@code size} bytes. A connection fills it and hands it to its outbound
     * queue before any callback can run, so one per reactor serves all its TLS connections.
     */
    ByteBuffer tlsNetOut(int size) {
        if (tlsNetOut == null || tlsNetOut.capacity() < size) {
            tlsNetOut = ByteBuffer.allocate(size);
        }
        return tlsNetOut;
    }

    /** {@link #tlsNetOut}, direct: for an engine that encrypts in native code. */
    ByteBuffer tlsNetOutDirect(int size) {
        if (tlsNetOutDirect == null || tlsNetOutDirect.capacity() < size) {
            tlsNetOutDirect = ByteBuffer.allocateDirect(size);
        }
        return tlsNetOutDirect;
    }

    /**
     * A cleared direct buffer of {@link #TLS_FILE_BUFFER_SIZE} bytes for one batch of a file sent over a native
     * engine (the file is read straight into it and encrypted from it without a copy); give it back when the batch
     * is wrapped or copied aside. Lent, not shared: a callback run inside one connection's batch may start another's.
     */
    ByteBuffer takeTlsFileBuffer() {
        ByteBuffer b = tlsFilePool.pollFirst();
        if (b == null) {
            tlsFileBuffersMade++;
            b = ByteBuffer.allocateDirect(TLS_FILE_BUFFER_SIZE);
        }
        return b.clear();
    }

    /** Returns a buffer from {@link #takeTlsFileBuffer()}; past a few pooled, it is left to the GC. */
    void releaseTlsFileBuffer(ByteBuffer b) {
        if (tlsFilePool.size() < 4) {
            tlsFilePool.addFirst(b);
        } else {
            tlsFileBuffersMade--;
        }
    }

    /** A cleared heap buffer of at least {@code size} bytes: pooled when it fits {@link #TLS_BUFFER_SIZE}. */
    ByteBuffer takeTlsBuffer(int size) {
        if (size <= TLS_BUFFER_SIZE) {
            ByteBuffer b = tlsPool.pollFirst();
            return b != null ? b.clear() : ByteBuffer.allocate(TLS_BUFFER_SIZE);
        }
        return ByteBuffer.allocate(size);
    }

    /** Gives back a buffer from {@link #takeTlsBuffer} (a larger one is left to the GC). */
    void releaseTlsBuffer(ByteBuffer b) {
        if (b.capacity() == TLS_BUFFER_SIZE && tlsPool.size() < MAX_POOLED_TLS_BUFFERS) {
            tlsPool.addFirst(b);
        }
    }

    // ------------------------------------------------------------ fd passing (SCM_RIGHTS), allocated on first use

    /** Control buffer for sends with fds: one SCM_RIGHTS message, pointed at by the shared msghdr while sending. */
    private ByteBuffer rightsOut;
    private long rightsOutAddress;
    /**
     * For reads with fd passing: one iovec over the shared read buffer, a msghdr, then the control buffer; its own
     * msghdr, so a handler that sends fds from onData (through the shared one) never disturbs it.
     */
    private ByteBuffer rightsIn;
    private long rightsInAddress;
    private static final int IN_MSGHDR_AT = MsgHdr.IOVEC_SIZE;
    private static final int IN_CONTROL_AT = IN_MSGHDR_AT + MsgHdr.SIZE;
    private int rightsInControl = MsgHdr.RIGHTS_CONTROL_MAX;

    /**
     * Points the shared msghdr's msg_control at one SCM_RIGHTS message carrying {@code fds}, for the next sendmsg;
     * {@link #noRights()} undoes it right after that call.
     */
    void rights(int[] fds) {
        if (rightsOut == null) {
            rightsOut = NativeMemory.allocate(MsgHdr.RIGHTS_CONTROL_MAX);
            rightsOutAddress = NativeMemory.address(rightsOut);
        }
        int len = MsgHdr.putRights(rightsOut, fds);
        iov.putLong(MSGHDR_AT + MsgHdr.MSG_CONTROL, rightsOutAddress);
        iov.putLong(MSGHDR_AT + MsgHdr.MSG_CONTROLLEN, len);
    }

    /** The shared msghdr carries no control message again (every other sendmsg relies on it). */
    void noRights() {
        iov.putLong(MSGHDR_AT + MsgHdr.MSG_CONTROL, 0);
        iov.putLong(MSGHDR_AT + MsgHdr.MSG_CONTROLLEN, 0);
    }

    /**
     * The msghdr for one recvmsg into the shared read buffer with room for fds, reset for the call (the kernel
     * overwrites msg_controllen and msg_flags).
     */
    long rightsInMsghdr() {
        if (rightsIn == null) {
            rightsIn = NativeMemory.allocate(IN_CONTROL_AT + MsgHdr.RIGHTS_CONTROL_MAX);
            rightsInAddress = NativeMemory.address(rightsIn);
            rightsIn.putLong(0, readAddress).putLong(MsgHdr.IOV_LEN, READ_BUFFER_SIZE);
            rightsIn.putLong(IN_MSGHDR_AT + MsgHdr.MSG_IOV, rightsInAddress);
            rightsIn.putLong(IN_MSGHDR_AT + MsgHdr.MSG_IOVLEN, 1);
            rightsIn.putLong(IN_MSGHDR_AT + MsgHdr.MSG_CONTROL, rightsInAddress + IN_CONTROL_AT);
        }
        rightsIn.putLong(IN_MSGHDR_AT + MsgHdr.MSG_CONTROLLEN, rightsInControl);
        rightsIn.putInt(IN_MSGHDR_AT + MsgHdr.MSG_FLAGS, 0);
        return rightsInAddress + IN_MSGHDR_AT;
    }

    /** The msg_flags the last recvmsg through {@link #rightsInMsghdr()} returned. */
    int rightsInFlags() {
        return rightsIn.getInt(IN_MSGHDR_AT + MsgHdr.MSG_FLAGS);
    }

    /** The fds the last recvmsg through {@link #rightsInMsghdr()} received (an empty array if none). */
    int[] receivedRights() {
        int len = (int) rightsIn.getLong(IN_MSGHDR_AT + MsgHdr.MSG_CONTROLLEN);
        return len == 0 ? NO_FDS : MsgHdr.rights(rightsIn.slice(IN_CONTROL_AT, len).order(rightsIn.order()), len);
    }

    private static final int[] NO_FDS = new int[0];

    /**
     * Shrinks the receive control buffer (tests only): a real sender cannot overflow the full-size one, so this is
     * the only way to drive the MSG_CTRUNC path.
     */
    void rightsInControlForTest(int bytes) {
        rightsInControl = bytes;
    }

    /** Sets msg_iovlen before a sendmsg over the first {@code count} iovecs. */
    void iovCount(int count) {
        iov.putLong(MSGHDR_AT + MsgHdr.MSG_IOVLEN, count);
    }

    void iov(int i, long address, long length) {
        iov.putLong(i * MsgHdr.IOVEC_SIZE, address);
        iov.putLong(i * MsgHdr.IOVEC_SIZE + MsgHdr.IOV_LEN, length);
    }

    void offset(long value) {
        iov.putLong(MSGHDR_AT + MsgHdr.SIZE, value);
    }

    /** The native address of a direct buffer, remembering the last one asked for (usually the same buffer). */
    long address(ByteBuffer direct) {
        if (direct == readBuffer) {
            return readAddress;
        }
        if (direct != lastDirect) {
            lastDirectAddress = NativeMemory.address(direct);
            lastDirect = direct;
        }
        return lastDirectAddress;
    }

    /**
     * Lends a send bounce slot to a writer on any thread: its index, or -1 if all are lent (the writer hands its bytes
     * to the loop instead). {@link #sendBounce} and {@link #sendBounceAddress} give the slot's buffer.
     */
    int takeSendBounce() {
        while (true) {
            int busy = sendBouncesBusy.get();
            int free = Integer.numberOfTrailingZeros(~busy);
            if (free >= SEND_BOUNCES) {
                return -1;
            }
            if (sendBouncesBusy.compareAndSet(busy, busy | (1 << free))) {
                if (sendBounces[free] == null) {
                    ByteBuffer b = NativeMemory.allocate(SEND_BOUNCE_SIZE);
                    sendBounceAddresses[free] = NativeMemory.address(b);
                    sendBounces[free] = b;
                    sendBouncesMade.incrementAndGet();
                }
                return free;
            }
        }
    }

    ByteBuffer sendBounce(int slot) {
        return sendBounces[slot];
    }

    long sendBounceAddress(int slot) {
        return sendBounceAddresses[slot];
    }

    /** Takes back the slot {@link #takeSendBounce} lent (only its holder clears its bit). */
    void giveSendBounce(int slot) {
        sendBouncesBusy.getAndAdd(-(1 << slot));
    }

    Chunk takeChunk() {
        Chunk c = pool.pollFirst();
        if (c == null) {
            c = new Chunk();
            chunks++; // only when the pool is empty: next to a 16 KiB allocateDirect, a volatile store is nothing
        }
        c.buffer.clear().limit(0);
        return c;
    }

    void releaseChunk(Chunk c) {
        if (pool.size() < MAX_POOLED_CHUNKS) {
            pool.addFirst(c);
        } else {
            chunks--; // left to the GC
        }
    }

    /** A direct write-queue chunk; bytes [position, limit) are waiting to be sent. */
    static final class Chunk {
        final ByteBuffer buffer = NativeMemory.allocate(CHUNK_SIZE);
        final long address = NativeMemory.address(buffer);
    }
}
