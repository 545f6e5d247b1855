package org.epoll4j.net;

import org.epoll4j.Reactor;
import org.epoll4j.internal.MsgHdr;
import org.epoll4j.internal.NativeMemory;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * Memory shared by every connection of one reactor: the read buffer (so an idle connection holds none), a bounce
 * buffer for heap-buffer writes, the iovec/msghdr area for gathering writes and a small pool of write-queue chunks.
 * Used only on that reactor's thread.
 */
final class NetContext {
    static final int READ_BUFFER_SIZE = 64 * 1024;
    static final int CHUNK_SIZE = 16 * 1024;
    static final int MAX_IOV = 64;
    private static final int MAX_POOLED_CHUNKS = 256;
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
    /** Ciphertext that TLS connections wrap into before handing it to their outbound queue (which copies it). */
    private ByteBuffer tlsNetOut;
    /** TLS record-sized heap buffers lent to connections while they hold a partial record or held plaintext. */
    private final ArrayDeque<ByteBuffer> tlsPool = new ArrayDeque<>();
    static final int TLS_BUFFER_SIZE = 17 * 1024;
    private static final int MAX_POOLED_TLS_BUFFERS = 64;

    private NetContext() {
        MsgHdr.verifyLayout(); // once per process: a wrong layout would send the wrong bytes
        iov.putLong(MSGHDR_AT + MsgHdr.MSG_IOV, iovAddress); // msg_name/namelen/control/flags stay 0
    }

    static NetContext of(Reactor reactor) {
        synchronized (CONTEXTS) {
            return CONTEXTS.computeIfAbsent(reactor, r -> new NetContext());
        }
    }

    /** The shared plaintext buffer for TLS reads, at least {@code size} bytes (valid until the next unwrap). */
    ByteBuffer tlsPlain(int size) {
        if (tlsPlain == null || tlsPlain.capacity() < size) {
            tlsPlain = ByteBuffer.allocate(Math.max(size, 17 * 1024));
        }
        return tlsPlain;
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

    Chunk takeChunk() {
        Chunk c = pool.pollFirst();
        if (c == null) {
            c = new Chunk();
        }
        c.buffer.clear().limit(0);
        return c;
    }

    void releaseChunk(Chunk c) {
        if (pool.size() < MAX_POOLED_CHUNKS) {
            pool.addFirst(c);
        }
    }

    /** A direct write-queue chunk; bytes [position, limit) are waiting to be sent. */
    static final class Chunk {
        final ByteBuffer buffer = NativeMemory.allocate(CHUNK_SIZE);
        final long address = NativeMemory.address(buffer);
    }
}
