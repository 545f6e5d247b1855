package org.epoll4j.net;

import org.epoll4j.Reactor;
import org.epoll4j.internal.IoFigures;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * A snapshot of a server's connections and memory, from {@link TcpServer#stats()} or {@link TcpServerGroup#stats()}
 * (the sum over the group's servers). Computed when asked, by a walk over the open connections, from values they keep
 * anyway: nothing is counted per read or write for it. Safe from any thread; values are recent ones, not one atomic
 * cut (taken on the loop thread of a server whose connections all run there, they are exact), and a connection
 * closing meanwhile may be counted twice (open, and in the closed totals) in that one snapshot.
 *
 * @param openConnections       connections open now, as {@link TcpServer#connections()} shows them (a TLS connection
 *                              from the end of its handshake on)
 * @param pausedConnections     of those, the ones whose reading is paused now, for any reason
 *                              ({@link Connection#isReadingPaused()})
 * @param queuedBytes           bytes written to those connections and not yet accepted by the kernel, TLS plaintext
 *                              held back included (the sum of {@link Connection#queuedBytes()})
 * @param bytesRead             bytes read: the open connections' {@link Connection#bytesRead()} plus the totals of
 *                              this server's connections that closed
 * @param bytesWritten          bytes the kernel accepted, counted the same way ({@link Connection#bytesWritten()})
 * @param directMemoryBytes     direct memory held by the connection layer of the reactors this server's connections
 *                              run on: their shared read, bounce and iovec buffers and write-queue chunks, queued or
 *                              pooled. Shared with anything else on those reactors (another server, clients), since
 *                              that is where the memory is; {@link org.epoll4j.ReactorStats#directMemoryBytes()} is
 *                              the per-reactor figure
 * @param acceptedConnections   connections accepted so far ({@link TcpServer#acceptedCount()})
 * @param rejectedConnections   connections accepted and closed at once for lack of fds or a closing reactor
 *                              ({@link TcpServer#rejectedCount()})
 * @param tlsHandshakeFailures  peers whose TLS handshake failed ({@link TcpServer#tlsHandshakeFailures()})
 * @param offloadResultsDropped offloaded results a closing reactor cut off ({@link TcpServer#offloadResultsDropped()})
 */
public record ServerStats(int openConnections, int pausedConnections, long queuedBytes, long bytesRead,
                          long bytesWritten, long directMemoryBytes, long acceptedConnections,
                          long rejectedConnections, long tlsHandshakeFailures, long offloadResultsDropped) {

    /** The sum over {@code servers}, the direct memory of each reactor counted once. */
    static ServerStats of(List<TcpServer> servers) {
        IoFigures io = new IoFigures();
        Set<Reactor> reactors = Collections.newSetFromMap(new IdentityHashMap<>());
        long accepted = 0;
        long rejected = 0;
        long tlsFailures = 0;
        long dropped = 0;
        for (TcpServer s : servers) {
            s.addTo(io, reactors);
            accepted += s.acceptedCount();
            rejected += s.rejectedCount();
            tlsFailures += s.tlsHandshakeFailures();
            dropped += s.offloadResultsDropped();
        }
        for (Reactor r : reactors) {
            NetContext ctx = NetContext.peek(r); // none yet: no connection ever ran there, nothing held
            if (ctx != null) {
                io.directMemoryBytes += ctx.directMemoryBytes();
            }
        }
        return new ServerStats(io.connections, io.pausedConnections, io.queuedBytes, io.bytesRead, io.bytesWritten,
                io.directMemoryBytes, accepted, rejected, tlsFailures, dropped);
    }
}
