package org.epoll4j.examples.proxy;

import org.epoll4j.net.Connection;
import org.epoll4j.net.ConnectionHandler;
import org.epoll4j.net.IdleState;
import org.epoll4j.net.IdleTimeoutException;
import org.epoll4j.net.RateLimiter;
import org.epoll4j.net.Splice;
import org.epoll4j.net.TcpClient;

import java.nio.ByteBuffer;

/**
 * One client connection and its upstream connection, both on the client's reactor thread (so no field here needs
 * synchronising). Each side is a {@link Side}: what one reads goes to the other's write queue; when that queue
 * crosses its high watermark, the reading side pauses, and it resumes when the queue drains to the low watermark.
 * So the proxy holds at most one watermark plus one read (64 KiB) per direction, whatever the speeds.
 *
 * <p>A FIN is passed on as a FIN ({@link Connection#shutdownOutput()} after the queued bytes): the other direction
 * stays open until its own FIN. A side that closes makes the other close gracefully (queued bytes delivered first).
 *
 * <p>With {@code --splice} the two connections are joined by a {@link Splice} once the upstream is open: the bytes
 * move socket → pipe → socket in the kernel and {@code onData} is never called; the pipe's size bounds each direction
 * (the reading side pauses while the pipe is full), the FIN is passed on by the splice after the pipe drained, and
 * the handlers below still see the hang-ups, idle checks and closes.
 */
final class ProxyPair {
    private final ProxySettings settings;
    private final ProxyStats stats;
    final Side client = new Side(true);
    final Side upstream = new Side(false);
    /** Bytes moved through both sockets as of the last idle check: unchanged across a check means idle. */
    private long movedAtLastCheck;
    private boolean counted;
    private boolean idleClosed;

    ProxyPair(ProxySettings settings, ProxyStats stats) {
        this.settings = settings;
        this.stats = stats;
    }

    /** The client connection opened: count it against the cap, hold its bytes until the upstream is there. */
    private void clientOpened(Connection c) {
        if (stats.active.incrementAndGet() > settings.maxConnections()) {
            stats.active.decrementAndGet();
            stats.overCap.increment();
            c.close();
            return;
        }
        counted = true;
        stats.relayed.increment();
        client.relaying();
        c.pauseReading(); // nothing to write it to yet; the kernel buffers it meanwhile
        TcpClient.builder(c.reactor())
                .remote(settings.upstreamHost(), settings.upstreamPort())
                .resolver(settings.resolver())
                .connectTimeout(settings.connectTimeout())
                .config(settings.config())
                .options(settings.upstreamOptions())
                .handler(upstream)
                .connect()
                .whenComplete((up, failure) -> {
                    if (failure != null) {
                        // refused, timed out or not resolved: the handler never heard of it (no onOpen/onClose)
                        stats.upstreamFailed.increment();
                        c.close();
                    }
                });
    }

    /** The upstream connection opened: start relaying, unless the client went away meanwhile. */
    private void upstreamOpened(Connection u) {
        Connection c = client.conn;
        if (!c.isOpen()) {
            u.close();
            return;
        }
        upstream.relaying();
        if (settings.splicePipeSize() > 0) {
            try {
                Splice.between(c, u, settings.splicePipeSize()); // before resuming: no byte goes through onData
            } catch (Exception e) {
                c.closeWith(e); // no pipe (fd limit): the pair cannot relay
                u.closeWith(e);
                return;
            }
        }
        c.resumeReading();
    }

    /** Bytes moved by both sockets so far. */
    private long moved() {
        long n = 0;
        for (Side s : new Side[]{client, upstream}) {
            if (s.conn != null) {
                n += s.conn.bytesRead() + s.conn.bytesWritten();
            }
        }
        return n;
    }

    /** One connection of the pair, relaying what it reads to the other. */
    final class Side implements ConnectionHandler {
        private final boolean isClient;
        Connection conn;
        /** Limits how fast this side is read (so how fast the other side is written); null without a limit. */
        private RateLimiter limiter;

        private Side(boolean isClient) {
            this.isClient = isClient;
        }

        private Side other() {
            return isClient ? upstream : client;
        }

        @Override
        public void onOpen(Connection connection) {
            conn = connection;
            if (isClient) {
                clientOpened(connection);
            } else {
                upstreamOpened(connection);
            }
        }

        /** A side that relays: with {@code --rate-limit}, it is read no faster than the limit. */
        void relaying() {
            if (settings.rateLimit() != null) {
                // reads only: the other side is written no faster than this side is read, and its queue stays
                // bounded by the watermark as without a limit
                limiter = RateLimiter.builder(conn).read(settings.rateLimit()).build();
            }
        }

        @Override
        public void onData(Connection connection, ByteBuffer data) {
            if (limiter != null) {
                limiter.onRead(data.remaining()); // may pause reading until the bucket refills
            }
            Connection to = other().conn;
            to.write(data);
            stats.queued(to.queuedBytes());
            if (!to.isWritable()) {
                connection.pauseReading(); // until the other side drains: onWritabilityChanged below
            }
        }

        @Override
        public void onWritabilityChanged(Connection connection, boolean writable) {
            Connection from = other().conn;
            if (writable && from != null) {
                from.resumeReading();
            }
        }

        @Override
        public void onReadHangup(Connection connection) {
            Connection to = other().conn;
            if (to != null) {
                to.shutdownOutput(); // a FIN after the queued bytes; the other direction goes on
            }
            if (connection.isOutputShutdown() || to == null) {
                connection.close(); // both directions done (or nothing to relay to)
            }
        }

        @Override
        public void onIdle(Connection connection, IdleState state) {
            if (other().conn == null) {
                return; // still connecting: the connect timeout decides
            }
            long moved = moved();
            if (moved != movedAtLastCheck) {
                movedAtLastCheck = moved; // this side was quiet, but the pair was not (e.g. a paused reader)
                return;
            }
            if (!idleClosed) {
                idleClosed = true;
                stats.idleClosed.increment();
            }
            IdleTimeoutException e = new IdleTimeoutException(state, "nothing relayed either way for "
                    + settings.idleTimeout().toMillis() + " ms");
            connection.closeWith(e);
            other().conn.closeWith(e);
        }

        @Override
        public void onClose(Connection connection, Throwable cause) {
            if (isClient) {
                if (counted) {
                    stats.active.decrementAndGet();
                    stats.bytesUp.add(connection.bytesRead());
                }
            } else {
                stats.bytesDown.add(connection.bytesRead());
            }
            Connection to = other().conn;
            if (to != null) {
                to.close(); // graceful: what is queued for it still goes out; idempotent
            }
            stats.changed();
        }
    }
}
