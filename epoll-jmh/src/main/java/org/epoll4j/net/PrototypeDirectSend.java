package org.epoll4j.net;

import org.epoll4j.internal.LibC;
import org.epoll4j.internal.NativeMemory;

import java.nio.ByteBuffer;

/**
 * BENCHMARK-ONLY stand-in for {@link Connection}'s side of {@link BlockingConnection.DirectSend}, to measure what a
 * direct send from the writer's thread gains before Connection provides the real one. NOT SAFE for real use: it reads
 * the connection's queue from a foreign thread without synchronisation, does not count the bytes it sends in
 * {@code bytesWritten}, and does not keep the fd from being closed (and reused) under it. Fine for one connection that
 * stays open while a benchmark runs. (In package {@code org.epoll4j.net} of this module, on the class path only, for
 * the package-private seam.)
 */
public final class PrototypeDirectSend implements BlockingConnection.DirectSend {
    private final Connection connection;
    private final ByteBuffer scratch = ByteBuffer.allocateDirect(64 * 1024);
    private final long scratchAddress = NativeMemory.address(scratch);

    private PrototypeDirectSend(Connection connection) {
        this.connection = connection;
    }

    /** Views made from now on send directly (see the class comment); {@link #uninstall} undoes it. */
    public static void install() {
        BlockingConnection.directSends = PrototypeDirectSend::new;
    }

    /** Views made from now on hand every write to the loop again. */
    public static void uninstall() {
        BlockingConnection.directSends = c -> null;
    }

    @Override
    public int trySend(ByteBuffer src) {
        if (!connection.isOpen() || connection.isOutputShutdown() || connection.isCorked()
                || connection.queuedBytes() != 0) {
            return -1;
        }
        int n = Math.min(src.remaining(), scratch.capacity());
        int pos = src.position();
        long address;
        if (src.isDirect()) {
            address = NativeMemory.address(src) + pos;
        } else {
            scratch.clear();
            scratch.put(0, src, pos, n); // Java 16+: absolute bulk copy
            address = scratchAddress;
        }
        long sent = LibC.send(connection.fd(), address, n, LibC.MSG_NOSIGNAL | LibC.MSG_DONTWAIT);
        if (sent > 0) {
            src.position(pos + (int) sent);
            return (int) sent;
        }
        return sent < 0 && LibC.errno() == 11 ? 0 : -1;
    }
}
